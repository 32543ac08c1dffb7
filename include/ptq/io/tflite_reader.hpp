// io/tflite_reader.hpp: reads a TFLite model (.tflite, flatbuffer schema version 3) into ptq's IR.
//
//   Result<ir::Graph> g = io::read_tflite("model.tflite");   // mapped; constants used in place
//   Result<ir::Graph> g = io::parse_tflite(bytes, size);      // from memory (constants copied)
//
// What it maps (reference: tensorflow/lite/schema/schema.fbs and the builtin kernels' input lists
// in tensorflow/lite/kernels/*.cc):
// - Subgraph 0 (TFLite's main graph); other subgraphs are ignored, and an op that would call one
//   (CALL, IF, WHILE, ...) is an unsupported builtin.
// - Tensors: float32, float16, int8, uint8, int16, int32, int64, int4 with per-tensor or per-axis
//   quantization (quantized_dimension; more than one scale = per axis). Constant buffers (inline
//   or, in models over 2 GB, at Buffer.offset) are borrowed from the caller's bytes when `owner`
//   keeps them alive and they are 64-byte aligned (ir::Buffer's alignment), copied otherwise.
// - Builtin ops: FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, AVERAGE_POOL_2D,
//   MAX_POOL_2D, MEAN, RESHAPE, SOFTMAX, LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, RELU, RELU6,
//   RELU_N1_TO_1, PAD, CONCATENATION, QUANTIZE, DEQUANTIZE, TRANSPOSE, GATHER (axis 0),
//   EMBEDDING_LOOKUP, BATCH_MATMUL, UNIDIRECTIONAL_SEQUENCE_RNN, UNIDIRECTIONAL_SEQUENCE_LSTM
//   (float, hybrid, or TFLite's full-integer 8x8->16 kernel with its 5 intermediates; no CIFG,
//   peephole, projection or layer norm). The op code is the larger of
//   OperatorCode.deprecated_builtin_code and builtin_code, as TFLite's GetBuiltinCode does.
//   Operands TFLite passes as constant tensors (MEAN axes, PAD paddings, TRANSPOSE perm, RESHAPE
//   shape) become ptq attributes; RESHAPE's new shape is its output tensor's shape.
// - A float16 constant feeding DEQUANTIZE (the converter's float16 mode) becomes an fp16 constant
//   used directly by the consumers (the interpreter widens it once); the DEQUANTIZE disappears.
// - The LSTM's four gate matrices per side (and biases) are stacked into ptq's [4H, ...] layout in
//   the order i, f, g (cell), o; per-tensor gate scales become one per-axis quantization (axis 0).
//   Its variable state tensors start at zero (TFLite resets them to zero as well). The integer
//   LSTM's state and hidden-intermediate quantization become the op's lstm_* attributes (its int8
//   output state starts at its zero point, as TFLite resets int8 variables).
// - Tensors no op or graph input/output refers to are dropped; the rest keep their order.
// - The graph is validated (ir/validate.hpp) before it is returned.
//
// Errors: never a crash on a hostile file. Structure problems are data_loss, an op or type ptq does
// not map is unimplemented; every message starts "at byte N:" and names the field, op or tensor:
//   "at byte 1234: Tensor.shape (tensor 5): vector of 9 elements of 4 bytes runs past the end"
//   "at byte 880: operator 3: builtin SQUEEZE is not supported by ptq's IR"
// Validation problems (a graph that reads but is inconsistent) are invalid_argument, listed by op
// and tensor name.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/ir/validate.hpp"
#include "ptq/io/tflite_schema.hpp"

PTQ_NAMESPACE_BEGIN
namespace io {

struct TfliteReadOptions {
  bool validate = true;  // run ir::validate on the result
};

namespace tflite_detail {

using namespace ::ptq::io::tflite;  // NOLINT: the schema's names

inline bool to_dtype(int8_t t, DType* out) {
  switch (static_cast<TensorType>(t)) {
    case TensorType::kFloat32: *out = DType::kFloat32; return true;
    case TensorType::kFloat16: *out = DType::kFloat16; return true;
    case TensorType::kInt32: *out = DType::kInt32; return true;
    case TensorType::kUInt8: *out = DType::kUInt8; return true;
    case TensorType::kInt64: *out = DType::kInt64; return true;
    case TensorType::kInt16: *out = DType::kInt16; return true;
    case TensorType::kInt8: *out = DType::kInt8; return true;
    case TensorType::kInt4: *out = DType::kInt4; return true;
    default: return false;
  }
}

inline const char* tensor_type_name(int8_t t) {
  static const char* const kNames[] = {"FLOAT32", "FLOAT16", "INT32",     "UINT8",      "INT64",    "STRING",
                                       "BOOL",    "INT16",   "COMPLEX64", "INT8",       "FLOAT64",  "COMPLEX128",
                                       "UINT64",  "RESOURCE", "VARIANT",  "UINT32",     "UINT16",   "INT4"};
  return t >= 0 && t < 18 ? kNames[t] : "unknown";
}

struct OpCode {
  int32_t builtin = 0;
  std::string custom;
  std::size_t at = 0;
};

struct TensorInfo {
  bool is_variable = false;
  std::size_t at = 0;  // where its table starts (for messages)
};

class Reader {
 public:
  Reader(const uint8_t* data, std::size_t size, std::shared_ptr<const void> owner)
      : v_(data, size), owner_(std::move(owner)), budget_(4 * static_cast<uint64_t>(size) + 65536) {}

  Result<ir::Graph> read(const TfliteReadOptions& options) {
    read_model();
    if (!v_.ok()) return v_.status();
    if (!status_.ok()) return status_;
    compact();
    if (options.validate) {
      Status s = ir::validate(g_);
      if (!s.ok()) return s.with_context("the TFLite model maps to an inconsistent ptq graph");
    }
    return std::move(g_);
  }

 private:
  // ---- Errors --------------------------------------------------------------------------------
  bool ok() const { return v_.ok() && status_.ok(); }
  void fail(std::size_t at, const std::string& what, const std::string& message) { v_.fail(at, what, message); }
  void unsupported(std::size_t at, const std::string& what, const std::string& message) {
    if (ok()) status_ = unimplemented("at byte " + std::to_string(at) + ": " + what + ": " + message);
  }
  // Memory that shared ranges could amplify (many tables pointing at one long vector, string or
  // buffer) is bounded by 4x the file's size: each element, name byte or copied constant byte
  // materialized costs one unit (a model whose tensors share buffers stays well within it).
  bool spend(uint64_t elements, std::size_t at, const std::string& what) {
    if (elements > budget_) {
      fail(at, what, "the file's tables refer to more data than it holds (shared ranges)");
      return false;
    }
    budget_ -= elements;
    return true;
  }

  // ---- Model ---------------------------------------------------------------------------------
  void read_model() {
    const Table model = v_.root("Model");
    if (!v_.ok()) return;
    if (std::memcmp(v_.bytes() + 4, kFileIdentifier, 4) != 0) {
      fail(4, "file identifier", "'" + printable(v_.bytes() + 4, 4) + "' is not 'TFL3' (not a TFLite model)");
      return;
    }
    const uint32_t version = v_.u32(model, field::kModelVersion, 0, "Model.version");
    if (ok() && version != kSchemaVersion) {
      unsupported(model.pos, "Model.version", "schema version " + std::to_string(version) + "; ptq reads version 3");
      return;
    }
    read_opcodes(model);
    buffers_ = v_.vec(model, field::kModelBuffers, 4, "Model.buffers");
    const Vec subgraphs = v_.vec(model, field::kModelSubgraphs, 4, "Model.subgraphs");
    if (!ok()) return;
    if (subgraphs.length == 0) {
      fail(model.pos, "Model.subgraphs", "the model has no subgraph");
      return;
    }
    const Table sg = v_.table_elem(subgraphs, 0, "SubGraph 0");
    g_.name = v_.str(sg, field::kSubGraphName, "SubGraph.name");
    if (g_.name.empty()) g_.name = v_.str(model, field::kModelDescription, "Model.description");
    read_tensors(sg);
    if (!ok()) return;
    g_.inputs = tensor_list(sg, field::kSubGraphInputs, "SubGraph.inputs");
    g_.outputs = tensor_list(sg, field::kSubGraphOutputs, "SubGraph.outputs");
    if (!ok()) return;
    alias_.resize(g_.tensors.size());
    for (std::size_t i = 0; i < alias_.size(); ++i) alias_[i] = static_cast<ir::TensorId>(i);
    const Vec ops = v_.vec(sg, field::kSubGraphOperators, 4, "SubGraph.operators");
    for (uint32_t k = 0; k < ops.length && ok(); ++k) {
      const Table op = v_.table_elem(ops, k, "operator " + std::to_string(k));
      if (ok()) read_op(op, static_cast<int>(k));
    }
    for (ir::TensorId& t : g_.outputs) t = alias_out(t);
  }

  static std::string printable(const uint8_t* p, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += (p[i] >= 32 && p[i] < 127) ? static_cast<char>(p[i]) : '?';
    return s;
  }

  void read_opcodes(const Table& model) {
    const Vec codes = v_.vec(model, field::kModelOperatorCodes, 4, "Model.operator_codes");
    for (uint32_t i = 0; i < codes.length && ok(); ++i) {
      const std::string what = "OperatorCode " + std::to_string(i);
      const Table t = v_.table_elem(codes, i, what);
      OpCode c;
      c.at = t.pos;
      const int32_t deprecated = v_.i8(t, field::kOpCodeDeprecatedBuiltin, 0, what + " deprecated_builtin_code");
      const int32_t extended = v_.i32(t, field::kOpCodeBuiltin, 0, what + " builtin_code");
      c.builtin = std::max(deprecated, extended);
      c.custom = v_.str(t, field::kOpCodeCustomCode, what + " custom_code");
      if (!spend(c.custom.size(), t.pos, what + " custom_code")) return;
      opcodes_.push_back(std::move(c));
    }
  }

  // Buffer `index`'s bytes: (position, size), bounds-checked; size 0 for an empty buffer.
  bool buffer_bytes(uint32_t index, const std::string& what, std::size_t at, std::size_t* pos, std::size_t* size) {
    *pos = 0;
    *size = 0;
    if (index == 0 && buffers_.length == 0) return true;
    if (index >= buffers_.length) {
      fail(at, what, "buffer index " + std::to_string(index) + " is out of range (" + std::to_string(buffers_.length) +
                         " buffers)");
      return false;
    }
    const Table b = v_.table_elem(buffers_, index, "Buffer " + std::to_string(index));
    const Vec data = v_.vec(b, field::kBufferData, 1, "Buffer.data (buffer " + std::to_string(index) + ")");
    const uint64_t offset = v_.u64(b, field::kBufferOffset, 0, "Buffer.offset");
    const uint64_t bytes = v_.u64(b, field::kBufferSize, 0, "Buffer.size");
    if (!ok()) return false;
    if (data.present && data.length > 0) {
      *pos = data.data;
      *size = data.length;
    } else if (offset > 1) {  // models over 2 GB keep buffers after the flatbuffer
      if (!v_.in_bounds(static_cast<std::size_t>(std::min<uint64_t>(offset, v_.size() + 1)), bytes)) {
        fail(b.pos, "Buffer.offset (buffer " + std::to_string(index) + ")",
             std::to_string(bytes) + " bytes at offset " + std::to_string(offset) + " run past the end of the file");
        return false;
      }
      *pos = static_cast<std::size_t>(offset);
      *size = static_cast<std::size_t>(bytes);
    }
    return true;
  }

  // ---- Tensors -------------------------------------------------------------------------------
  void read_tensors(const Table& sg) {
    const Vec tensors = v_.vec(sg, field::kSubGraphTensors, 4, "SubGraph.tensors");
    info_.resize(tensors.length);
    g_.tensors.reserve(tensors.length);
    for (uint32_t i = 0; i < tensors.length && ok(); ++i) {
      const std::string what = "tensor " + std::to_string(i);
      const Table t = v_.table_elem(tensors, i, what);
      if (!ok()) return;
      ir::Tensor x;
      info_[i].at = t.pos;
      x.name = v_.str(t, field::kTensorName, "Tensor.name (" + what + ")");
      if (!spend(x.name.size(), t.pos, "Tensor.name (" + what + ")")) return;
      const std::string named = what + (x.name.empty() ? "" : " '" + x.name + "'");
      const Vec shape = v_.vec(t, field::kTensorShape, 4, "Tensor.shape (" + named + ")");
      if (!ok() || !spend(shape.length, t.pos, "Tensor.shape (" + named + ")")) return;
      std::vector<int64_t> dims(shape.length);
      uint64_t elements = 1;
      for (uint32_t d = 0; d < shape.length; ++d) {
        dims[d] = v_.i32_elem(shape, d);
        if (dims[d] < 0) {
          fail(shape.data + 4 * d, "Tensor.shape (" + named + ")",
               "dim " + std::to_string(d) + " = " + std::to_string(dims[d]) + " is negative (dynamic shapes are not supported)");
          return;
        }
        elements = (dims[d] == 0 || elements == 0) ? 0 : elements * static_cast<uint64_t>(dims[d]);
        if (elements > (uint64_t{1} << 40)) {
          fail(shape.data, "Tensor.shape (" + named + ")", "more than 2^40 elements");
          return;
        }
      }
      x.shape = Shape(std::move(dims));
      const int8_t type = v_.i8(t, field::kTensorType, 0, "Tensor.type (" + named + ")");
      if (ok() && !to_dtype(type, &x.dtype)) {
        unsupported(t.pos, "Tensor.type (" + named + ")",
                    std::string("type ") + tensor_type_name(type) + " (" + std::to_string(type) + ") is not supported");
        return;
      }
      info_[i].is_variable = v_.boolean(t, field::kTensorIsVariable, false, "Tensor.is_variable");
      if (v_.has(t, field::kTensorSparsity)) {
        unsupported(t.pos, "Tensor.sparsity (" + named + ")", "sparse tensors are not supported");
        return;
      }
      read_quantization(t, named, &x);
      const uint32_t buffer = v_.u32(t, field::kTensorBuffer, 0, "Tensor.buffer (" + named + ")");
      std::size_t pos = 0, size = 0;
      if (!ok() || !buffer_bytes(buffer, "Tensor.buffer (" + named + ")", t.pos, &pos, &size)) return;
      if (size > 0) {
        const std::size_t want = x.byte_size();
        if (size != want) {
          fail(pos, "Buffer " + std::to_string(buffer) + " (" + named + ")",
               "holds " + std::to_string(size) + " bytes; " + dtype_name(x.dtype) + " " + x.shape.to_string() +
                   " needs " + std::to_string(want));
          return;
        }
        const uint8_t* p = v_.bytes() + pos;
        if (owner_ && reinterpret_cast<uintptr_t>(p) % ir::Buffer::kAlignment == 0) {
          x.data = ir::Buffer::borrow(p, size, owner_);
        } else {
          if (!spend(size, pos, "Buffer " + std::to_string(buffer) + " (" + named + ")")) return;
          x.data = ir::Buffer::copy_of(p, size);
        }
      }
      g_.tensors.push_back(std::move(x));
    }
  }

  void read_quantization(const Table& t, const std::string& named, ir::Tensor* x) {
    const std::string what = "Tensor.quantization (" + named + ")";
    const Table q = v_.table(t, field::kTensorQuantization, what);
    if (!ok() || !q.present) return;
    if (v_.u8(q, field::kQuantDetailsType, 0, what) != 0) {
      unsupported(q.pos, what, "custom quantization details are not supported");
      return;
    }
    const Vec scale = v_.vec(q, field::kQuantScale, 4, "QuantizationParameters.scale (" + named + ")");
    const Vec zp = v_.vec(q, field::kQuantZeroPoint, 8, "QuantizationParameters.zero_point (" + named + ")");
    const int32_t axis = v_.i32(q, field::kQuantDimension, 0, "QuantizationParameters.quantized_dimension");
    if (!ok() || scale.length == 0) return;  // min/max only: not quantized
    if (!spend(uint64_t{2} * scale.length, q.pos, what)) return;
    if (zp.length != scale.length) {
      fail(q.pos, what, std::to_string(scale.length) + " scales but " + std::to_string(zp.length) + " zero points");
      return;
    }
    ir::Quantization& out = x->quant;
    for (uint32_t i = 0; i < scale.length; ++i) {
      const int64_t z = v_.i64_elem(zp, i);
      if (z < std::numeric_limits<int32_t>::min() || z > std::numeric_limits<int32_t>::max()) {
        fail(zp.data + 8 * i, what, "zero point " + std::to_string(z) + " does not fit in int32");
        return;
      }
      out.scales.push_back(v_.f32_elem(scale, i));
      out.zero_points.push_back(static_cast<int32_t>(z));
    }
    if (scale.length > 1) {
      if (axis < 0 || axis >= x->shape.rank() || x->shape[axis] != static_cast<int64_t>(scale.length)) {
        fail(q.pos, what, std::to_string(scale.length) + " scales along quantized_dimension " + std::to_string(axis) +
                              " of shape " + x->shape.to_string());
        return;
      }
      out.per_axis = true;
      out.axis = axis;
    }
  }

  std::vector<ir::TensorId> tensor_list(const Table& t, int slot, const std::string& what) {
    const Vec v = v_.vec(t, slot, 4, what);
    std::vector<ir::TensorId> ids;
    if (!ok() || !spend(v.length, t.pos, what)) return ids;
    for (uint32_t i = 0; i < v.length; ++i) {
      const int32_t id = v_.i32_elem(v, i);
      if (id < 0 || id >= static_cast<int32_t>(g_.tensors.size())) {
        fail(v.data + 4 * i, what, "tensor index " + std::to_string(id) + " is out of range (" +
                                       std::to_string(g_.tensors.size()) + " tensors)");
        return {};
      }
      ids.push_back(id);
    }
    return ids;
  }

  // ---- Operators -----------------------------------------------------------------------------
  // Tensors the reader adds (the LSTM's stacked gates) are past the file's and have no alias.
  ir::TensorId alias_out(ir::TensorId t) const {
    return t >= 0 && static_cast<std::size_t>(t) < alias_.size() ? alias_[static_cast<std::size_t>(t)] : t;
  }

  struct OpCtx {
    int index = 0;
    std::size_t at = 0;
    std::string what;  // "operator 3 (CONV_2D)"
    Table opts;
    std::vector<int32_t> in, out, inter;  // inter: Operator.intermediates (the integer LSTM's)
  };

  void read_op(const Table& op, int k) {
    OpCtx c;
    c.index = k;
    c.at = op.pos;
    c.what = "operator " + std::to_string(k);
    const uint32_t opcode = v_.u32(op, field::kOperatorOpcodeIndex, 0, c.what + " opcode_index");
    if (!ok()) return;
    if (opcode >= opcodes_.size()) {
      fail(op.pos, c.what, "opcode_index " + std::to_string(opcode) + " is out of range (" +
                               std::to_string(opcodes_.size()) + " operator codes)");
      return;
    }
    const OpCode& code = opcodes_[opcode];
    if (code.builtin == op::kCustom) {
      unsupported(op.pos, c.what, "custom op '" + code.custom + "' is not supported by ptq's IR");
      return;
    }
    c.what += " (" + builtin_operator_text(code.builtin) + ")";
    const std::vector<ir::TensorId> ins = optional_tensor_list(op, field::kOperatorInputs, c.what + " inputs");
    const std::vector<ir::TensorId> outs = optional_tensor_list(op, field::kOperatorOutputs, c.what + " outputs");
    const std::vector<ir::TensorId> inter =
        optional_tensor_list(op, field::kOperatorIntermediates, c.what + " intermediates");
    if (!ok()) return;
    c.in.assign(ins.begin(), ins.end());
    c.out.assign(outs.begin(), outs.end());
    c.inter.assign(inter.begin(), inter.end());
    const uint8_t opts_type = v_.u8(op, field::kOperatorBuiltinOptionsType, 0, c.what + " builtin_options_type");
    if (opts_type != options::kNone) c.opts = v_.table(op, field::kOperatorBuiltinOptions, c.what + " builtin_options");
    if (!ok()) return;
    const uint8_t want = expected_options(code.builtin);
    if (opts_type != options::kNone && opts_type != want) {
      fail(op.pos, c.what, "builtin_options_type " + std::to_string(opts_type) + " does not belong to this op (" +
                               std::to_string(want) + " expected)");
      return;
    }
    map_op(code.builtin, c);
  }

  std::vector<ir::TensorId> optional_tensor_list(const Table& t, int slot, const std::string& what) {
    const Vec v = v_.vec(t, slot, 4, what);
    std::vector<ir::TensorId> ids;
    if (!ok() || !spend(v.length, t.pos, what)) return ids;
    for (uint32_t i = 0; i < v.length; ++i) {
      const int32_t id = v_.i32_elem(v, i);
      if (id < -1 || id >= static_cast<int32_t>(g_.tensors.size())) {
        fail(v.data + 4 * i, what, "tensor index " + std::to_string(id) + " is out of range (" +
                                       std::to_string(g_.tensors.size()) + " tensors)");
        return {};
      }
      ids.push_back(id);
    }
    return ids;
  }

  static uint8_t expected_options(int32_t builtin) {
    switch (builtin) {
      case op::kConv2D: return options::kConv2D;
      case op::kDepthwiseConv2D: return options::kDepthwiseConv2D;
      case op::kAveragePool2D:
      case op::kMaxPool2D: return options::kPool2D;
      case op::kFullyConnected: return options::kFullyConnected;
      case op::kSoftmax: return options::kSoftmax;
      case op::kConcatenation: return options::kConcatenation;
      case op::kAdd: return options::kAdd;
      case op::kSub: return options::kSub;
      case op::kMul: return options::kMul;
      case op::kReshape: return options::kReshape;
      case op::kPad: return options::kPad;
      case op::kGather: return options::kGather;
      case op::kTranspose: return options::kTranspose;
      case op::kMean: return options::kReducer;
      case op::kUnidirectionalSequenceRnn: return options::kSequenceRnn;
      case op::kUnidirectionalSequenceLstm: return options::kUnidirectionalSequenceLstm;
      case op::kLeakyRelu: return options::kLeakyRelu;
      case op::kBatchMatMul: return options::kBatchMatMul;
      case op::kDequantize: return options::kDequantize;
      case op::kQuantize: return options::kQuantize;
      case op::kHardSwish: return options::kHardSwish;
      default: return 255;  // ops without options, or not mapped
    }
  }

  bool activation(const OpCtx& c, int slot, FusedActivation* out) {
    const int8_t a = v_.i8(c.opts, slot, 0, c.what + " fused_activation_function");
    switch (static_cast<Activation>(a)) {
      case Activation::kNone: *out = FusedActivation::kNone; return true;
      case Activation::kRelu: *out = FusedActivation::kRelu; return true;
      case Activation::kReluN1To1: *out = FusedActivation::kReluN1To1; return true;
      case Activation::kRelu6: *out = FusedActivation::kRelu6; return true;
      default:
        unsupported(c.at, c.what, "fused activation " + std::to_string(a) + " is not supported");
        return false;
    }
  }

  bool padding(const OpCtx& c, int slot, Padding* out) {
    const int8_t p = v_.i8(c.opts, slot, 0, c.what + " padding");
    if (p != 0 && p != 1) {
      fail(c.at, c.what, "padding " + std::to_string(p) + " is neither SAME (0) nor VALID (1)");
      return false;
    }
    *out = p == 0 ? Padding::kSame : Padding::kValid;
    return true;
  }

  bool positive(const OpCtx& c, int32_t v, const char* name) {
    if (v >= 1) return true;
    fail(c.at, c.what, std::string(name) + " = " + std::to_string(v) + " must be >= 1");
    return false;
  }

  bool need_inputs(const OpCtx& c, std::size_t lo, std::size_t hi) {
    if (c.in.size() >= lo && c.in.size() <= hi && c.out.size() == 1) {
      for (std::size_t i = 0; i < lo; ++i) {
        if (c.in[i] < 0) {
          fail(c.at, c.what, "input " + std::to_string(i) + " is required");
          return false;
        }
      }
      if (c.out[0] < 0) {
        fail(c.at, c.what, "the output is required");
        return false;
      }
      return true;
    }
    fail(c.at, c.what, std::to_string(c.in.size()) + " inputs and " + std::to_string(c.out.size()) +
                           " outputs; expected " + std::to_string(lo) + (hi > lo ? ".." + std::to_string(hi) : "") +
                           " inputs and 1 output");
    return false;
  }

  // A constant int32/int64 tensor's values (MEAN axes, PAD paddings, TRANSPOSE perm).
  bool const_ints(const OpCtx& c, int32_t id, const char* role, std::vector<int64_t>* out) {
    const ir::Tensor& t = g_.tensors[static_cast<std::size_t>(id)];
    if (!t.is_constant() || (t.dtype != DType::kInt32 && t.dtype != DType::kInt64)) {
      unsupported(c.at, c.what, std::string(role) + " must be a constant int32 or int64 tensor");
      return false;
    }
    const std::size_t n = static_cast<std::size_t>(t.shape.num_elements());
    out->resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (t.dtype == DType::kInt32) {
        int32_t v;
        std::memcpy(&v, t.data.data() + 4 * i, 4);
        (*out)[i] = v;
      } else {
        int64_t v;
        std::memcpy(&v, t.data.data() + 8 * i, 8);
        (*out)[i] = v;
      }
    }
    return true;
  }

  int rank_of(int32_t id) const { return g_.tensors[static_cast<std::size_t>(id)].shape.rank(); }

  bool normalize_axis(const OpCtx& c, int64_t axis, int rank, int32_t* out) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      fail(c.at, c.what, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
      return false;
    }
    *out = static_cast<int32_t>(a);
    return true;
  }

  void emit(const OpCtx& c, ir::OpKind kind, std::vector<ir::TensorId> inputs, const ir::Attributes& attrs) {
    ir::Op o;
    o.kind = kind;
    for (ir::TensorId& t : inputs) t = alias_out(t);
    o.inputs = std::move(inputs);
    o.outputs = {c.out[0]};
    o.attrs = attrs;
    g_.ops.push_back(std::move(o));
  }

  void map_op(int32_t builtin, const OpCtx& c) {
    ir::Attributes a;
    const std::string& w = c.what;
    switch (builtin) {
      case op::kConv2D: {
        if (!need_inputs(c, 2, 3) || !padding(c, field::kConvPadding, &a.padding) ||
            !activation(c, field::kConvActivation, &a.activation))
          return;
        a.stride_w = v_.i32(c.opts, field::kConvStrideW, 0, w);
        a.stride_h = v_.i32(c.opts, field::kConvStrideH, 0, w);
        a.dilation_w = v_.i32(c.opts, field::kConvDilationW, 1, w);
        a.dilation_h = v_.i32(c.opts, field::kConvDilationH, 1, w);
        if (!positive(c, a.stride_w, "stride_w") || !positive(c, a.stride_h, "stride_h") ||
            !positive(c, a.dilation_w, "dilation_w_factor") || !positive(c, a.dilation_h, "dilation_h_factor"))
          return;
        return emit(c, ir::OpKind::kConv2D, with_optional(c, 3), a);
      }
      case op::kDepthwiseConv2D: {
        if (!need_inputs(c, 2, 3) || !padding(c, field::kDwPadding, &a.padding) ||
            !activation(c, field::kDwActivation, &a.activation))
          return;
        a.stride_w = v_.i32(c.opts, field::kDwStrideW, 0, w);
        a.stride_h = v_.i32(c.opts, field::kDwStrideH, 0, w);
        a.dilation_w = v_.i32(c.opts, field::kDwDilationW, 1, w);
        a.dilation_h = v_.i32(c.opts, field::kDwDilationH, 1, w);
        if (!positive(c, a.stride_w, "stride_w") || !positive(c, a.stride_h, "stride_h") ||
            !positive(c, a.dilation_w, "dilation_w_factor") || !positive(c, a.dilation_h, "dilation_h_factor"))
          return;
        // TFLite derives the multiplier from the shapes (the stored field is ignored since 2.x).
        const ir::Tensor& x = g_.tensors[static_cast<std::size_t>(c.in[0])];
        const ir::Tensor& f = g_.tensors[static_cast<std::size_t>(c.in[1])];
        a.depth_multiplier = v_.i32(c.opts, field::kDwDepthMultiplier, 1, w);
        if (x.shape.rank() == 4 && f.shape.rank() == 4 && x.shape[3] > 0 && f.shape[3] % x.shape[3] == 0 &&
            f.shape[3] / x.shape[3] <= std::numeric_limits<int32_t>::max()) {
          a.depth_multiplier = static_cast<int32_t>(f.shape[3] / x.shape[3]);
        }
        return emit(c, ir::OpKind::kDepthwiseConv2D, with_optional(c, 3), a);
      }
      case op::kFullyConnected: {
        if (!need_inputs(c, 2, 3) || !activation(c, field::kFcActivation, &a.activation)) return;
        if (v_.i8(c.opts, field::kFcWeightsFormat, 0, w) != 0) {
          return unsupported(c.at, w, "shuffled weights (weights_format SHUFFLED4x16INT8) are not supported");
        }
        a.keep_num_dims = v_.boolean(c.opts, field::kFcKeepNumDims, false, w);
        a.asymmetric_quantize_inputs = v_.boolean(c.opts, field::kFcAsymmetricQuantizeInputs, false, w);
        return emit(c, ir::OpKind::kFullyConnected, with_optional(c, 3), a);
      }
      case op::kBatchMatMul:
        if (!need_inputs(c, 2, 2)) return;
        a.adj_x = v_.boolean(c.opts, field::kBatchMatMulAdjX, false, w);
        a.adj_y = v_.boolean(c.opts, field::kBatchMatMulAdjY, false, w);
        a.asymmetric_quantize_inputs = v_.boolean(c.opts, field::kBatchMatMulAsymmetric, false, w);
        return emit(c, ir::OpKind::kBatchMatMul, {c.in[0], c.in[1]}, a);
      case op::kAdd:
      case op::kSub:
      case op::kMul: {
        if (!need_inputs(c, 2, 2) || !activation(c, 0, &a.activation)) return;
        const ir::OpKind k = builtin == op::kAdd ? ir::OpKind::kAdd : builtin == op::kSub ? ir::OpKind::kSub : ir::OpKind::kMul;
        return emit(c, k, {c.in[0], c.in[1]}, a);
      }
      case op::kAveragePool2D:
      case op::kMaxPool2D:
        if (!need_inputs(c, 1, 1) || !padding(c, field::kPoolPadding, &a.padding) ||
            !activation(c, field::kPoolActivation, &a.activation))
          return;
        a.stride_w = v_.i32(c.opts, field::kPoolStrideW, 0, w);
        a.stride_h = v_.i32(c.opts, field::kPoolStrideH, 0, w);
        a.filter_w = v_.i32(c.opts, field::kPoolFilterW, 0, w);
        a.filter_h = v_.i32(c.opts, field::kPoolFilterH, 0, w);
        if (!positive(c, a.stride_w, "stride_w") || !positive(c, a.stride_h, "stride_h") ||
            !positive(c, a.filter_w, "filter_width") || !positive(c, a.filter_h, "filter_height"))
          return;
        return emit(c, builtin == op::kMaxPool2D ? ir::OpKind::kMaxPool2D : ir::OpKind::kAveragePool2D, {c.in[0]}, a);
      case op::kMean: {
        if (!need_inputs(c, 2, 2)) return;
        std::vector<int64_t> axes;
        if (!const_ints(c, c.in[1], "the axes input", &axes)) return;
        for (int64_t ax : axes) {
          int32_t n;
          if (!normalize_axis(c, ax, rank_of(c.in[0]), &n)) return;
          a.axes.push_back(n);
        }
        a.keep_dims = v_.boolean(c.opts, field::kReducerKeepDims, false, w);
        return emit(c, ir::OpKind::kMean, {c.in[0]}, a);
      }
      case op::kReshape:
        if (!need_inputs(c, 1, 2)) return;
        a.new_shape = g_.tensors[static_cast<std::size_t>(c.out[0])].shape.dims();
        return emit(c, ir::OpKind::kReshape, {c.in[0]}, a);
      case op::kSoftmax:
        if (!need_inputs(c, 1, 1)) return;
        a.beta = v_.f32(c.opts, field::kSoftmaxBeta, 0.0f, w);
        return emit(c, ir::OpKind::kSoftmax, {c.in[0]}, a);
      case op::kLogistic: return unary(c, ir::OpKind::kLogistic);
      case op::kTanh: return unary(c, ir::OpKind::kTanh);
      case op::kHardSwish: return unary(c, ir::OpKind::kHardSwish);
      case op::kRelu: return unary(c, ir::OpKind::kRelu);
      case op::kRelu6: return unary(c, ir::OpKind::kRelu6);
      case op::kReluN1To1: return unary(c, ir::OpKind::kReluN1To1);
      case op::kQuantize: return unary(c, ir::OpKind::kQuantize);
      case op::kLeakyRelu:
        if (!need_inputs(c, 1, 1)) return;
        a.alpha = v_.f32(c.opts, field::kLeakyReluAlpha, 0.0f, w);
        return emit(c, ir::OpKind::kLeakyRelu, {c.in[0]}, a);
      case op::kDequantize: {
        if (!need_inputs(c, 1, 1)) return;
        const ir::Tensor& x = g_.tensors[static_cast<std::size_t>(c.in[0])];
        const bool is_output = std::find(g_.outputs.begin(), g_.outputs.end(), c.out[0]) != g_.outputs.end();
        if (x.is_constant() && x.dtype == DType::kFloat16 && !is_output &&
            g_.tensors[static_cast<std::size_t>(c.out[0])].dtype == DType::kFloat32) {
          alias_[static_cast<std::size_t>(c.out[0])] = c.in[0];  // consumers use the fp16 constant
          return;
        }
        return emit(c, ir::OpKind::kDequantize, {c.in[0]}, a);
      }
      case op::kPad: {
        if (!need_inputs(c, 2, 2)) return;
        if (!const_ints(c, c.in[1], "the paddings input", &a.paddings)) return;
        if (a.paddings.size() != 2 * static_cast<std::size_t>(rank_of(c.in[0]))) {
          return fail(c.at, w, "paddings hold " + std::to_string(a.paddings.size()) + " values; rank " +
                                   std::to_string(rank_of(c.in[0])) + " needs " + std::to_string(2 * rank_of(c.in[0])));
        }
        return emit(c, ir::OpKind::kPad, {c.in[0]}, a);
      }
      case op::kConcatenation: {
        if (c.in.empty() || c.out.size() != 1 || c.out[0] < 0) return fail(c.at, w, "needs inputs and one output");
        for (int32_t t : c.in) {
          if (t < 0) return fail(c.at, w, "an input is missing (-1)");
        }
        if (!activation(c, field::kConcatActivation, &a.activation)) return;
        if (!normalize_axis(c, v_.i32(c.opts, field::kConcatAxis, 0, w), rank_of(c.out[0]), &a.axis)) return;
        return emit(c, ir::OpKind::kConcatenation, std::vector<ir::TensorId>(c.in.begin(), c.in.end()), a);
      }
      case op::kTranspose: {
        if (!need_inputs(c, 2, 2)) return;
        std::vector<int64_t> perm;
        if (!const_ints(c, c.in[1], "the permutation input", &perm)) return;
        for (int64_t p : perm) {
          if (p < 0 || p >= rank_of(c.in[0])) return fail(c.at, w, "permutation entry " + std::to_string(p) + " is out of range");
          a.perm.push_back(static_cast<int32_t>(p));
        }
        return emit(c, ir::OpKind::kTranspose, {c.in[0]}, a);
      }
      case op::kGather: {
        if (!need_inputs(c, 2, 2)) return;
        int32_t axis;
        if (!normalize_axis(c, v_.i32(c.opts, field::kGatherAxis, 0, w), rank_of(c.in[0]), &axis)) return;
        if (axis != 0 || v_.i32(c.opts, field::kGatherBatchDims, 0, w) != 0) {
          return unsupported(c.at, w, "only axis 0 without batch_dims maps to ptq's EmbeddingLookup");
        }
        return emit(c, ir::OpKind::kEmbeddingLookup, {c.in[1], c.in[0]}, a);
      }
      case op::kEmbeddingLookup:
        if (!need_inputs(c, 2, 2)) return;
        return emit(c, ir::OpKind::kEmbeddingLookup, {c.in[0], c.in[1]}, a);
      case op::kUnidirectionalSequenceRnn: return map_rnn(c);
      case op::kUnidirectionalSequenceLstm: return map_lstm(c);
      default:
        return unsupported(c.at, "operator " + std::to_string(c.index),
                           "builtin " + builtin_operator_text(builtin) + " is not supported by ptq's IR");
    }
  }

  void unary(const OpCtx& c, ir::OpKind kind) {
    if (!need_inputs(c, 1, 1)) return;
    emit(c, kind, {c.in[0]}, ir::Attributes());
  }

  std::vector<ir::TensorId> with_optional(const OpCtx& c, std::size_t n) {
    std::vector<ir::TensorId> ins(c.in.begin(), c.in.end());
    ins.resize(n, ir::kNoTensor);
    return ins;
  }

  bool recurrent_activation(const OpCtx& c, int slot, ir::RecurrentActivation* out) {
    const int8_t act = v_.i8(c.opts, slot, 0, c.what + " fused_activation_function");
    if (act == static_cast<int8_t>(Activation::kTanh)) {
      *out = ir::RecurrentActivation::kTanh;
    } else if (act == static_cast<int8_t>(Activation::kRelu)) {
      *out = ir::RecurrentActivation::kRelu;
    } else {
      unsupported(c.at, c.what, "activation " + std::to_string(act) + " is not supported (TANH or RELU)");
      return false;
    }
    return true;
  }

  // The op's recurrent state input: a variable tensor, started at zero (ptq: absent state).
  bool state_input(const OpCtx& c, std::size_t i) {
    if (i >= c.in.size() || c.in[i] < 0) return true;
    if (!info_[static_cast<std::size_t>(c.in[i])].is_variable) {
      unsupported(c.at, c.what, "input " + std::to_string(i) + " (the state) is not a variable tensor");
      return false;
    }
    return true;
  }

  void map_rnn(const OpCtx& c) {
    ir::Attributes a;
    if (!need_inputs(c, 4, 5) || !state_input(c, 4)) return;
    a.time_major = v_.boolean(c.opts, field::kSeqRnnTimeMajor, false, c.what);
    a.asymmetric_quantize_inputs = v_.boolean(c.opts, field::kSeqRnnAsymmetric, false, c.what);
    if (!recurrent_activation(c, field::kSeqRnnActivation, &a.recurrent_activation)) return;
    emit(c, ir::OpKind::kRnn, {c.in[0], c.in[1], c.in[2], c.in[3], ir::kNoTensor}, a);
  }

  // TFLite's sequence LSTM inputs (lstm_shared.h): 0 x; 1-4 input weights i, f, c, o; 5-8 recurrent
  // weights i, f, c, o; 9-11 peepholes; 12-15 biases i, f, c, o; 16-17 projection; 18 output state;
  // 19 cell state; 20-23 layer norm coefficients.
  void map_lstm(const OpCtx& c) {
    ir::Attributes a;
    if (c.in.size() != 20 && c.in.size() != 24) {
      return fail(c.at, c.what, std::to_string(c.in.size()) + " inputs; expected 20 or 24");
    }
    if (c.out.size() != 1 || c.out[0] < 0) return fail(c.at, c.what, "expected one output");
    for (int i : {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15}) {
      if (c.in[static_cast<std::size_t>(i)] < 0) {
        return unsupported(c.at, c.what, "input " + std::to_string(i) + " is absent (CIFG LSTM is not supported)");
      }
    }
    for (int i : {9, 10, 11, 16, 17, 20, 21, 22, 23}) {
      if (static_cast<std::size_t>(i) < c.in.size() && c.in[static_cast<std::size_t>(i)] >= 0) {
        const char* variant = i <= 11 ? "peephole LSTM (cell-to-gate weights)"
                              : i <= 17 ? "projection LSTM (projection weights or bias)"
                                        : "layer-norm LSTM (layer normalization coefficients)";
        return unsupported(c.at, c.what, "input " + std::to_string(i) + " is present: a " + variant +
                                             " is not supported");
      }
    }
    if (!state_input(c, 18) || !state_input(c, 19)) return;
    const DType x_type = g_.tensors[static_cast<std::size_t>(c.in[0])].dtype;
    if (x_type == DType::kInt8) {
      if (!integer_lstm_attributes(c, &a)) return;
    } else if (x_type != DType::kFloat32) {
      return unsupported(c.at, c.what, std::string("input 0 is ") + dtype_name(x_type) +
                                           "; ptq maps float, hybrid and integer (int8 8x8->16) LSTMs");
    } else if (!recurrent_activation(c, field::kSeqLstmActivation, &a.recurrent_activation)) {
      return;
    }
    a.cell_clip = v_.f32(c.opts, field::kSeqLstmCellClip, 0.0f, c.what);
    if (v_.f32(c.opts, field::kSeqLstmProjClip, 0.0f, c.what) != 0.0f) {
      return unsupported(c.at, c.what, "proj_clip without projection");
    }
    a.time_major = v_.boolean(c.opts, field::kSeqLstmTimeMajor, false, c.what);
    a.asymmetric_quantize_inputs = v_.boolean(c.opts, field::kSeqLstmAsymmetric, false, c.what);
    if (v_.boolean(c.opts, field::kSeqLstmDiagonal, false, c.what)) {
      return unsupported(c.at, c.what, "diagonal recurrent weights are not supported");
    }
    const std::string base = g_.tensors[static_cast<std::size_t>(c.out[0])].name;
    const ir::TensorId w = stack(c, {c.in[1], c.in[2], c.in[3], c.in[4]}, base + "/lstm_input_weights");
    const ir::TensorId r = stack(c, {c.in[5], c.in[6], c.in[7], c.in[8]}, base + "/lstm_recurrent_weights");
    const ir::TensorId b = stack(c, {c.in[12], c.in[13], c.in[14], c.in[15]}, base + "/lstm_bias");
    if (!ok()) return;
    emit(c, ir::OpKind::kLstm, {c.in[0], w, r, b, ir::kNoTensor, ir::kNoTensor}, a);
  }

  // The integer LSTM's quantization (ir/graph.hpp, "Recurrent ops") from its state variables (18 the
  // output state, int8; 19 the cell state, int16) and intermediate 4 (the hidden state); TFLite's
  // 8x8->16 kernel wants exactly 5 intermediates (0-3 carry layer-norm scales, unused without layer
  // norm). Its fused activation is ignored by that kernel (tanh throughout): ptq's op says tanh.
  bool integer_lstm_attributes(const OpCtx& c, ir::Attributes* a) {
    if (c.inter.size() != 5) {
      unsupported(c.at, c.what, "an integer LSTM with " + std::to_string(c.inter.size()) +
                                    " intermediates; ptq maps TFLite's 8x8->16 kernel, which takes 5 (12: the 8x8->8 "
                                    "variant is not supported)");
      return false;
    }
    for (int i : {18, 19}) {
      if (c.in[static_cast<std::size_t>(i)] < 0) {
        fail(c.at, c.what, "the integer LSTM needs its state input " + std::to_string(i) + " (it holds the quantization)");
        return false;
      }
    }
    const auto per_tensor = [&](int32_t id, DType want, const char* role, ir::Quantization* q) {
      if (id < 0) {
        fail(c.at, c.what, std::string("the integer LSTM's ") + role + " is absent (-1)");
        return false;
      }
      const ir::Tensor& t = g_.tensors[static_cast<std::size_t>(id)];
      if (t.dtype != want || !t.quant.is_per_tensor()) {
        unsupported(c.at, c.what, std::string("the integer LSTM's ") + role + " " + g_.describe_tensor(id) + " is not " +
                                      dtype_name(want) + " with per-tensor quantization");
        return false;
      }
      *q = t.quant;
      return true;
    };
    ir::Quantization state, cell, hidden;
    if (!per_tensor(c.in[18], DType::kInt8, "output state (input 18)", &state) ||
        !per_tensor(c.in[19], DType::kInt16, "cell state (input 19)", &cell) ||
        !per_tensor(c.inter[4], DType::kInt8, "hidden intermediate (intermediate 4)", &hidden))
      return false;
    a->recurrent_activation = ir::RecurrentActivation::kTanh;
    a->lstm_state_scale = state.scales[0];
    a->lstm_state_zero_point = state.zero_points[0];
    a->lstm_cell_scale = cell.scales[0];
    a->lstm_hidden_scale = hidden.scales[0];
    a->lstm_hidden_zero_point = hidden.zero_points[0];
    if (cell.zero_points[0] != 0) {
      unsupported(c.at, c.what, "the integer LSTM's cell state has zero point " + std::to_string(cell.zero_points[0]) +
                                    "; TFLite's kernel assumes 0");
      return false;
    }
    return true;
  }

  // Stacks four constant gate tensors along axis 0 into one new constant.
  ir::TensorId stack(const OpCtx& c, std::vector<int32_t> parts, const std::string& name) {
    for (int32_t& p : parts) p = alias_out(p);
    const ir::Tensor& first = g_.tensors[static_cast<std::size_t>(parts[0])];
    ir::Tensor out;
    out.name = name;
    out.dtype = first.dtype;
    std::vector<int64_t> dims = first.shape.dims();
    if (dims.empty()) {
      fail(c.at, c.what, "gate tensor " + g_.describe_tensor(parts[0]) + " is a scalar");
      return ir::kNoTensor;
    }
    std::size_t bytes = 0;
    for (int32_t p : parts) {
      const ir::Tensor& t = g_.tensors[static_cast<std::size_t>(p)];
      if (!t.is_constant() || t.dtype != first.dtype || t.shape != first.shape || t.dtype == DType::kInt4 ||
          t.quant.is_per_axis() != first.quant.is_per_axis() || t.quant.empty() != first.quant.empty()) {
        unsupported(c.at, c.what, "gate tensor " + g_.describe_tensor(p) +
                                      " is not a constant of the same type, shape and quantization kind as the other gates");
        return ir::kNoTensor;
      }
      bytes += t.data.size();
    }
    const int64_t rows = dims[0];
    dims[0] *= 4;
    out.shape = Shape(std::move(dims));
    ir::Buffer buf = ir::Buffer::allocate(bytes);
    std::size_t off = 0;
    for (int32_t p : parts) {
      const ir::Tensor& t = g_.tensors[static_cast<std::size_t>(p)];
      if (t.data.size()) std::memcpy(buf.mutable_data() + off, t.data.data(), t.data.size());
      off += t.data.size();
      if (!t.quant.empty()) {
        const bool per_axis = t.quant.is_per_axis();
        if (per_axis && t.quant.axis != 0) {
          unsupported(c.at, c.what, "gate tensor " + g_.describe_tensor(p) + " is quantized along axis " +
                                        std::to_string(t.quant.axis) + ", not 0");
          return ir::kNoTensor;
        }
        for (int64_t r = 0; r < rows; ++r) {
          out.quant.scales.push_back(per_axis ? t.quant.scales[static_cast<std::size_t>(r)] : t.quant.scales[0]);
          out.quant.zero_points.push_back(per_axis ? t.quant.zero_points[static_cast<std::size_t>(r)] : t.quant.zero_points[0]);
        }
      }
    }
    if (!out.quant.empty()) {
      out.quant.per_axis = true;
      out.quant.axis = 0;
    }
    out.data = std::move(buf);
    return g_.add_tensor(std::move(out));
  }

  // Drops tensors nothing refers to; keeps the others' order.
  void compact() {
    std::vector<ir::TensorId> remap(g_.tensors.size(), ir::kNoTensor);
    std::vector<bool> used(g_.tensors.size(), false);
    for (const ir::Op& o : g_.ops) {
      for (ir::TensorId t : o.inputs) {
        if (t >= 0) used[static_cast<std::size_t>(t)] = true;
      }
      for (ir::TensorId t : o.outputs) used[static_cast<std::size_t>(t)] = true;
    }
    for (ir::TensorId t : g_.inputs) used[static_cast<std::size_t>(t)] = true;
    for (ir::TensorId t : g_.outputs) used[static_cast<std::size_t>(t)] = true;
    std::vector<ir::Tensor> kept;
    for (std::size_t i = 0; i < g_.tensors.size(); ++i) {
      if (!used[i]) continue;
      remap[i] = static_cast<ir::TensorId>(kept.size());
      kept.push_back(std::move(g_.tensors[i]));
    }
    g_.tensors = std::move(kept);
    const auto fix = [&](ir::TensorId& t) {
      if (t >= 0) t = remap[static_cast<std::size_t>(t)];
    };
    for (ir::Op& o : g_.ops) {
      for (ir::TensorId& t : o.inputs) fix(t);
      for (ir::TensorId& t : o.outputs) fix(t);
    }
    for (ir::TensorId& t : g_.inputs) fix(t);
    for (ir::TensorId& t : g_.outputs) fix(t);
  }

  FlatView v_;
  std::shared_ptr<const void> owner_;
  uint64_t budget_;
  Status status_;
  std::vector<OpCode> opcodes_;
  Vec buffers_;
  std::vector<TensorInfo> info_;
  std::vector<ir::TensorId> alias_;
  ir::Graph g_;
};

}  // namespace tflite_detail

// Reads a TFLite model from `size` bytes at `data`. Constants borrow their bytes from `data` when
// `owner` keeps it alive and they are 64-byte aligned; otherwise they are copied.
inline Result<ir::Graph> parse_tflite(const void* data, std::size_t size, std::shared_ptr<const void> owner = {},
                                      const TfliteReadOptions& options = {}) {
  static const uint8_t kEmpty[1] = {};
  tflite_detail::Reader reader(data ? static_cast<const uint8_t*>(data) : kEmpty, data ? size : 0, std::move(owner));
  return reader.read(options);
}

// Reads the .tflite file at `path`, mapped read-only (ir::read_file_bytes); constants are used in
// place where aligned, and keep the mapping alive.
inline Result<ir::Graph> read_tflite(const std::string& path, const TfliteReadOptions& options = {}) {
  const std::string context = "read_tflite '" + path + "'";
  Result<ir::FileBytes> file = ir::read_file_bytes(path, context);
  if (!file.ok()) return file.status();
  Result<ir::Graph> g = parse_tflite(file->data, file->size, file->owner, options);
  if (g.ok()) return g;
  return Status(g.status()).with_context(context);
}

}  // namespace io
PTQ_NAMESPACE_END
