// ptq.hpp: the umbrella header; one include for everything ptq offers header-only.
//
// Include this when you want the whole library; include the individual headers when compile time
// matters or when you vendor only the standard-library-only floors (core/, kernels/reference/).
// Optional parts that need third-party headers (io/onnx*) are never pulled in from here. Keep the
// list in floor order, lowest first, so that it mirrors ARCHITECTURE.md.
#pragma once

#include "ptq/version.hpp"

// core: the spec's math, standard library only
#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/fixed_point_math.hpp"
#include "ptq/core/float16.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"

// simd: ISA levels, CPU features, run-time selection
#include "ptq/simd/arch.hpp"
#include "ptq/simd/dispatch.hpp"

// kernels: scalar references (standard library only), then the dispatched SIMD front ends
#include "ptq/kernels/reference/quantize.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/kernels/reference/embedding.hpp"
#include "ptq/kernels/reference/float16.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "ptq/kernels/reference/elementwise.hpp"
#include "ptq/kernels/reference/pointwise.hpp"
#include "ptq/kernels/reference/recurrent.hpp"
#include "ptq/kernels/reference/pool.hpp"
#include "ptq/kernels/reference/softmax.hpp"
#include "ptq/kernels/reference/lookup_table.hpp"
#include "ptq/kernels/reference/data.hpp"
#include "ptq/kernels/reference/batch_matmul.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/gemm/uint8.hpp"
#include "ptq/kernels/thread_pool.hpp"
#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/hybrid.hpp"
#include "ptq/kernels/hybrid_conv.hpp"
#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/float_conv.hpp"
#include "ptq/kernels/float_depthwise.hpp"

// ir: the model graph, its builder, shape inference and validation
#include "ptq/ir/graph.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/ir/shape_inference.hpp"
#include "ptq/ir/validate.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/ir/print.hpp"

// runtime: the interpreter (prepare once, run many) and its op registry
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/op_registry.hpp"
#include "ptq/runtime/memory_plan.hpp"
#include "ptq/runtime/interpreter.hpp"

// convert: calibration, the converter's modes, the accuracy report
#include "ptq/convert/dataset.hpp"
#include "ptq/convert/observers.hpp"
#include "ptq/convert/calibrate.hpp"
#include "ptq/convert/converter.hpp"
#include "ptq/convert/evaluate.hpp"

// io: outside data formats (header-only parts; io/onnx* needs protobuf and is not included here)
#include "ptq/io/npy.hpp"
#include "ptq/io/tflite.hpp"
