// io/onnx_import.hpp: float ONNX models (opsets 11 to 17, as PyTorch and TensorFlow exporters
// write them) into ptq's model IR.
//
//   ptq::Result<ptq::ir::Graph> g = ptq::io::import_onnx("model.onnx");           // batch 1, NHWC
//   ptq::Result<ptq::ir::Graph> g = ptq::io::import_onnx_bytes(bytes, n, {/*batch=*/8});
//
// Part of the optional library `ptq::onnx` (CMake option PTQ_WITH_ONNX, on when Debian's
// libonnx-dev and libprotobuf-dev are found); the header-only core never needs protobuf, and this
// header names only ptq and std types. ptq.hpp does not include it. The library is compiled with
// ptq's ISA-keyed namespace (core/config.hpp): callers must use the same -m flags, or they get a
// link error rather than a mismatch.
//
// What the result looks like:
//   - Layouts are the IR's (TFLite's): 4-D activations NHWC. With `nhwc` (the default) every 4-D
//     float graph input and output is NHWC: ONNX dims (d0, d1, d2, d3) become (d0, d2, d3, d1);
//     without it they keep ONNX's shape and one Transpose is inserted where the layout changes. Inside the
//     graph each tensor's layout is tracked, weights are transposed once at import (conv filters
//     OIHW -> OHWI, depthwise -> [1, KH, KW, C * multiplier], Gemm/MatMul weights -> [units, depth]),
//     and a Transpose is inserted only where a layout-sensitive op (Flatten, Reshape, MatMul, Softmax
//     on a non-channel axis...) reads a 4-D tensor whose NHWC and NCHW element orders differ.
//   - Folded at import: initializers and Constant nodes; computations on constants and on static
//     shapes (Shape, Gather, Unsqueeze, Squeeze, Concat, Reshape, Slice, Cast, arithmetic);
//     BatchNormalization into the preceding Conv / Gemm / MatMul (a Mul and an Add otherwise);
//     Identity and Dropout removed; a Relu / Clip following a Conv, Gemm, MatMul, Add, Sub or Mul
//     that is its only consumer becomes that op's fused activation (Relu, Relu6, ReluN1To1).
//   - Recurrent ops: ONNX LSTM gates (i, o, f, c) are reordered to the IR's (i, f, c, o); GRU needs
//     linear_before_reset = 1 (PyTorch's export); W and R biases are summed for LSTM.
//   - Dimensions: every shape is static after import. A dynamic (symbolic or unset) dimension 0 of
//     a graph input is bound to `batch`; other dynamic dims are bound by name through `dims`, else
//     the import fails naming the input and the dimension. int64 graph inputs (token ids for
//     Gather) are declared int32 (the IR's id type).
//
// Errors (Status codes): a missing or unreadable file (kNotFound / kIo); bytes that do not parse as
// a ModelProto, truncated files included (kDataLoss); an op, attribute or attribute value ptq does
// not import (kUnimplemented), naming the node's index, name and op type and the attribute; a model
// that contradicts itself (kInvalidArgument). The importer never changes a model's meaning to make
// it fit: what it cannot express exactly is an error.
//
// Reference: the ONNX operator specification (github.com/onnx/onnx/blob/main/docs/Operators.md) for
// opsets 11-17, and onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"

PTQ_NAMESPACE_BEGIN
namespace io {

struct OnnxImportOptions {
  // Binds a dynamic dimension 0 of every graph input (>= 1).
  int64_t batch = 1;
  // Binds other dynamic dimensions by their ONNX dim_param name, e.g. {{"seq_len", 28}}.
  std::vector<std::pair<std::string, int64_t>> dims;
  // 4-D graph inputs and outputs in NHWC (true) or as ONNX declares them (NCHW, false).
  bool nhwc = true;
  // Fold a following Relu / Relu6 / Clip into Conv2D, DepthwiseConv2D, FullyConnected, Add, Sub
  // and Mul as their fused activation (what TFLite's converter does).
  bool fuse_activations = true;
};

// Imports the ONNX model in the file at `path`.
Result<ir::Graph> import_onnx(const std::string& path, const OnnxImportOptions& options = {});

// Imports a serialized ModelProto held in memory (external data files are not supported).
Result<ir::Graph> import_onnx_bytes(const void* data, std::size_t size, const OnnxImportOptions& options = {});

// One serialized onnx.TensorProto (ONNX's test-data files, test_data_set_*/input_0.pb): float data
// (float, double, float16) as a float32 constant, integer data as int32 (out_of_range beyond it).
Result<ir::Tensor> load_onnx_tensor(const std::string& path);
Result<ir::Tensor> load_onnx_tensor_bytes(const void* data, std::size_t size);

}  // namespace io
PTQ_NAMESPACE_END
