// runtime/ops/elementwise.hpp: the interpreter's Add, Sub, Mul and the pointwise activations
// (Relu, Relu6, ReluN1To1, Clip, LeakyRelu, HardSwish, HardSigmoid).
//
// Each prepare checks the op against TFLite's constraints, computes the kernel's parameters once
// (kernels/reference/elementwise.hpp and pointwise.hpp say which TFLite function each matches) and
// returns a run that calls the reference kernel, or for int8 Add, Sub and the unary activations its
// prepared tables (kernels/elementwise_tables.hpp, bit for bit the same):
//   - dtypes: every input and the output share one dtype. float32 everywhere; int8 everywhere;
//     int16 for Add, Sub, Mul, Relu, Relu6 and LeakyRelu (TFLite's 16x8 kernels).
//   - quantized tensors need per-tensor quantization with a finite positive scale and a zero point
//     in the type's range; int16 ones need zero point 0 (TFLite checks this for each of these ops).
//   - Add, Sub, Mul broadcast their inputs numpy-style up to rank 6 (either may be a constant, e.g.
//     a bias vector, read through RunContext like any input); the output shape must be the
//     broadcast shape. The unary ops need the output shape equal to the input's.
//   - int16 Add and Sub use TFLite's general-scale path (pot_scale_int16 = false, what the converter
//     emits); the power-of-two LSTM path is not provided.
//   - HardSwish int8 requires input_scale / (128 * output_scale) < 1, like TFLite's Prepare.
//   - Clip and HardSigmoid int8 run a 256-entry table (no TFLite kernel exists for them).
//   - Attributes: activation (Add, Sub, Mul), clip_min <= clip_max (Clip), alpha (LeakyRelu), alpha
//     and beta (HardSigmoid; note that Attributes' beta defaults to Softmax's 1, not ONNX's 0.5).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "ptq/kernels/elementwise_tables.hpp"
#include "ptq/kernels/reference/elementwise.hpp"
#include "ptq/kernels/reference/pointwise.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/ops/checks.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {
namespace pointwise_detail {

// Every input has the output's dtype.
inline Status check_same_dtype(const PrepareContext& ctx) {
  for (int i = 0; i < ctx.input_count(); ++i) PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, i));
  return {};
}

inline Status unsupported_dtype(const PrepareContext& ctx, const char* supported) {
  return ctx.unsupported(ctx.output_name() + " is " + dtype_name(ctx.output().dtype) + "; supported: " + supported);
}

// ---- Add, Sub, Mul ------------------------------------------------------------------------------

enum class BinaryKind { kAdd, kSub, kMul };

template <class T>
PreparedResult prepare_quantized_binary(const PrepareContext& ctx, BinaryKind kind, const BroadcastLayout& layout) {
  Result<QuantParams> a = per_tensor_params<T>(ctx, ctx.input(0), ctx.input_name(0));
  if (!a.ok()) return a.status();
  Result<QuantParams> b = per_tensor_params<T>(ctx, ctx.input(1), ctx.input_name(1));
  if (!b.ok()) return b.status();
  Result<QuantParams> y = per_tensor_params<T>(ctx, ctx.output(), ctx.output_name());
  if (!y.ok()) return y.status();
  const FusedActivation act = ctx.attrs().activation;
  const RoundingMode rounding = ctx.options().rounding;
  if (kind == BinaryKind::kMul) {
    const QuantizedMulParams p = make_quantized_mul_params<T>(layout, *a, *b, *y, act, rounding);
    PTQ_RETURN_IF_ERROR(check_params(ctx, p.template validate<T>()));
    return make_prepared_op([p](const RunContext& c) { reference::mul<T>(p, c.in<T>(0), c.in<T>(1), c.out<T>()); });
  }
  const QuantizedAddParams p = make_quantized_add_params<T>(layout, *a, *b, *y, act, rounding);
  PTQ_RETURN_IF_ERROR(check_params(ctx, p.template validate<T>()));
  if constexpr (std::is_same<T, int8_t>::value) {  // per-input tables: kernels/elementwise_tables.hpp
    return make_prepared_op([t = make_int8_add_tables(p, kind == BinaryKind::kSub)](const RunContext& c) {
      add_sub_int8(t, c.in<int8_t>(0), c.in<int8_t>(1), c.out<int8_t>());
    });
  }
  if (kind == BinaryKind::kAdd) {
    return make_prepared_op([p](const RunContext& c) { reference::add<T>(p, c.in<T>(0), c.in<T>(1), c.out<T>()); });
  }
  return make_prepared_op([p](const RunContext& c) { reference::sub<T>(p, c.in<T>(0), c.in<T>(1), c.out<T>()); });
}

inline PreparedResult prepare_binary(const PrepareContext& ctx, BinaryKind kind) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 2));
  PTQ_RETURN_IF_ERROR(check_same_dtype(ctx));
  Result<BroadcastLayout> layout = make_broadcast_layout(ctx.input(0).shape, ctx.input(1).shape, ctx.output().shape);
  if (!layout.ok()) {
    const std::string names = ctx.input_name(0) + ", " + ctx.input_name(1) + " -> " + ctx.output_name() + ": ";
    return Status(layout.status().code(), ctx.what() + ": " + names + layout.status().message());
  }
  switch (ctx.output().dtype) {
    case DType::kFloat32: {
      const FloatBinaryParams p = make_float_binary_params(*layout, ctx.attrs().activation);
      switch (kind) {
        case BinaryKind::kAdd:
          return make_prepared_op([p](const RunContext& c) { reference::add(p, c.in<float>(0), c.in<float>(1), c.out<float>()); });
        case BinaryKind::kSub:
          return make_prepared_op([p](const RunContext& c) { reference::sub(p, c.in<float>(0), c.in<float>(1), c.out<float>()); });
        case BinaryKind::kMul:
          return make_prepared_op([p](const RunContext& c) { reference::mul(p, c.in<float>(0), c.in<float>(1), c.out<float>()); });
      }
      break;
    }
    case DType::kInt8: return prepare_quantized_binary<int8_t>(ctx, kind, *layout);
    case DType::kInt16: return prepare_quantized_binary<int16_t>(ctx, kind, *layout);
    default: break;
  }
  return unsupported_dtype(ctx, "float32, int8, int16");
}

// ---- unary activations ------------------------------------------------------------------------

// An int8 unary op as the 256-entry table of its reference kernel (kernels/elementwise_tables.hpp):
// kernel(params, x, y, n) runs once over every byte at prepare, bit for bit what it would give.
template <class Params, class Kernel>
PreparedResult tabulated(const Params& p, std::size_t n, Kernel kernel) {
  const Int8LookupTable table = tabulate_int8([&](const int8_t* x, int8_t* y, std::size_t count) { kernel(p, x, y, count); });
  return make_prepared_op([table, n](const RunContext& c) { reference::lookup(table, c.in<int8_t>(0), c.out<int8_t>(), n); });
}

// One input, one output of the same dtype and shape. `n` receives the element count.
inline Status check_unary(const PrepareContext& ctx, std::size_t* n) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1));
  PTQ_RETURN_IF_ERROR(check_same_dtype(ctx));
  PTQ_RETURN_IF_ERROR(expect_same_shape(ctx, 0));
  *n = static_cast<std::size_t>(ctx.output().shape.num_elements());
  return {};
}

// The int8 input and output parameters of a unary op.
template <class T>
Status unary_params(const PrepareContext& ctx, QuantParams* x, QuantParams* y) {
  Result<QuantParams> in = per_tensor_params<T>(ctx, ctx.input(0), ctx.input_name(0));
  if (!in.ok()) return in.status();
  Result<QuantParams> out = per_tensor_params<T>(ctx, ctx.output(), ctx.output_name());
  if (!out.ok()) return out.status();
  *x = *in;
  *y = *out;
  return {};
}

template <class T>
PreparedResult prepare_quantized_relu(const PrepareContext& ctx, FusedActivation kind, std::size_t n) {
  QuantParams x, y;
  PTQ_RETURN_IF_ERROR(unary_params<T>(ctx, &x, &y));
  const QuantizedReluParams p = make_quantized_relu_params<T>(x, y, kind, ctx.options().rounding);
  PTQ_RETURN_IF_ERROR(check_params(ctx, p.template validate<T>()));
  if constexpr (std::is_same<T, int8_t>::value) return tabulated(p, n, reference::relu_quantized<int8_t>);
  return make_prepared_op([p, n](const RunContext& c) { reference::relu_quantized<T>(p, c.in<T>(0), c.out<T>(), n); });
}

// Relu, Relu6, ReluN1To1: `kind` names the clamp; `float_kernel` is the float spelling.
inline PreparedResult prepare_relu_family(const PrepareContext& ctx, FusedActivation kind,
                                          void (*float_kernel)(const float*, float*, std::size_t)) {
  std::size_t n = 0;
  PTQ_RETURN_IF_ERROR(check_unary(ctx, &n));
  const bool int16_ok = kind != FusedActivation::kReluN1To1;  // TFLite's RELU_N1_TO_1 has no int16 kernel
  switch (ctx.output().dtype) {
    case DType::kFloat32:
      return make_prepared_op([float_kernel, n](const RunContext& c) { float_kernel(c.in<float>(0), c.out<float>(), n); });
    case DType::kInt8: return prepare_quantized_relu<int8_t>(ctx, kind, n);
    case DType::kInt16:
      if (int16_ok) return prepare_quantized_relu<int16_t>(ctx, kind, n);
      break;
    default: break;
  }
  return unsupported_dtype(ctx, int16_ok ? "float32, int8, int16" : "float32, int8");
}

template <class T>
PreparedResult prepare_quantized_leaky_relu(const PrepareContext& ctx, float alpha, std::size_t n) {
  QuantParams x, y;
  PTQ_RETURN_IF_ERROR(unary_params<T>(ctx, &x, &y));
  const QuantizedLeakyReluParams p = make_quantized_leaky_relu_params(x, y, alpha, ctx.options().rounding);
  PTQ_RETURN_IF_ERROR(check_params(ctx, p.template validate<T>()));
  if constexpr (std::is_same<T, int8_t>::value) return tabulated(p, n, reference::leaky_relu_quantized<int8_t>);
  return make_prepared_op([p, n](const RunContext& c) { reference::leaky_relu_quantized<T>(p, c.in<T>(0), c.out<T>(), n); });
}

// An int8 op run through a table of the float function f.
template <class F>
PreparedResult prepare_int8_lookup(const PrepareContext& ctx, std::size_t n, F f) {
  QuantParams x, y;
  PTQ_RETURN_IF_ERROR(unary_params<int8_t>(ctx, &x, &y));
  const Int8LookupTable table = make_int8_lut(x, y, f);
  return make_prepared_op([table, n](const RunContext& c) { reference::lookup(table, c.in<int8_t>(0), c.out<int8_t>(), n); });
}

inline Status check_finite_attr(const PrepareContext& ctx, const char* name, float v) {
  if (!std::isfinite(v)) return ctx.error(std::string("attribute ") + name + " = " + std::to_string(v) + " is not finite");
  return {};
}

}  // namespace pointwise_detail

inline Result<std::unique_ptr<PreparedOp>> prepare_add(const PrepareContext& ctx) {
  return pointwise_detail::prepare_binary(ctx, pointwise_detail::BinaryKind::kAdd);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_sub(const PrepareContext& ctx) {
  return pointwise_detail::prepare_binary(ctx, pointwise_detail::BinaryKind::kSub);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_mul(const PrepareContext& ctx) {
  return pointwise_detail::prepare_binary(ctx, pointwise_detail::BinaryKind::kMul);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_relu(const PrepareContext& ctx) {
  return pointwise_detail::prepare_relu_family(ctx, FusedActivation::kRelu, reference::relu);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_relu6(const PrepareContext& ctx) {
  return pointwise_detail::prepare_relu_family(ctx, FusedActivation::kRelu6, reference::relu6);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_relu_n1_to_1(const PrepareContext& ctx) {
  return pointwise_detail::prepare_relu_family(ctx, FusedActivation::kReluN1To1, reference::relu_n1_to_1);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_clip(const PrepareContext& ctx) {
  using namespace pointwise_detail;
  std::size_t n = 0;
  PTQ_RETURN_IF_ERROR(check_unary(ctx, &n));
  const float lo = ctx.attrs().clip_min, hi = ctx.attrs().clip_max;
  if (std::isnan(lo) || std::isnan(hi) || !(lo <= hi)) {
    return ctx.error("attributes clip_min = " + std::to_string(lo) + " and clip_max = " + std::to_string(hi) +
                     " must be ordered numbers (clip_min <= clip_max)");
  }
  switch (ctx.output().dtype) {
    case DType::kFloat32:
      return make_prepared_op([lo, hi, n](const RunContext& c) { reference::clip(c.in<float>(0), c.out<float>(), n, lo, hi); });
    case DType::kInt8:
      return prepare_int8_lookup(ctx, n, [lo, hi](float v) { return reference::clip_one(v, lo, hi); });
    default: break;
  }
  return unsupported_dtype(ctx, "float32, int8");
}

// FakeQuant runs in float (a quantization-aware float model); the converter removes it.
inline Result<std::unique_ptr<PreparedOp>> prepare_fake_quant(const PrepareContext& ctx) {
  using namespace pointwise_detail;
  std::size_t n = 0;
  PTQ_RETURN_IF_ERROR(check_unary(ctx, &n));
  const ir::Attributes& a = ctx.attrs();
  if (std::isnan(a.clip_min) || std::isnan(a.clip_max) || !(a.clip_min < a.clip_max) || !std::isfinite(a.clip_min) ||
      !std::isfinite(a.clip_max)) {
    return ctx.error("range clip_min = " + std::to_string(a.clip_min) + ", clip_max = " + std::to_string(a.clip_max) +
                     " must be finite with clip_min < clip_max");
  }
  if (a.num_bits < 2 || a.num_bits > 16) {
    return ctx.error("num_bits = " + std::to_string(a.num_bits) + "; FakeQuant takes 2 to 16 bits");
  }
  if (ctx.output().dtype != DType::kFloat32) return unsupported_dtype(ctx, "float32");
  const FakeQuantNudged q = fake_quant_nudge(a.clip_min, a.clip_max, a.num_bits, a.narrow_range);
  return make_prepared_op([q, n](const RunContext& c) { reference::fake_quant(c.in<float>(0), c.out<float>(), n, q); });
}

inline Result<std::unique_ptr<PreparedOp>> prepare_leaky_relu(const PrepareContext& ctx) {
  using namespace pointwise_detail;
  std::size_t n = 0;
  PTQ_RETURN_IF_ERROR(check_unary(ctx, &n));
  const float alpha = ctx.attrs().alpha;
  PTQ_RETURN_IF_ERROR(check_finite_attr(ctx, "alpha", alpha));
  switch (ctx.output().dtype) {
    case DType::kFloat32:
      return make_prepared_op([alpha, n](const RunContext& c) { reference::leaky_relu(c.in<float>(0), c.out<float>(), n, alpha); });
    case DType::kInt8: return prepare_quantized_leaky_relu<int8_t>(ctx, alpha, n);
    case DType::kInt16: return prepare_quantized_leaky_relu<int16_t>(ctx, alpha, n);
    default: break;
  }
  return unsupported_dtype(ctx, "float32, int8, int16");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_hard_swish(const PrepareContext& ctx) {
  using namespace pointwise_detail;
  std::size_t n = 0;
  PTQ_RETURN_IF_ERROR(check_unary(ctx, &n));
  switch (ctx.output().dtype) {
    case DType::kFloat32:
      return make_prepared_op([n](const RunContext& c) { reference::hard_swish(c.in<float>(0), c.out<float>(), n); });
    case DType::kInt8: {
      QuantParams x, y;
      PTQ_RETURN_IF_ERROR(unary_params<int8_t>(ctx, &x, &y));
      Result<QuantizedHardSwishParams> p = make_quantized_hard_swish_params(x, y, ctx.options().rounding);
      if (!p.ok()) return ctx.error(ctx.input_name(0) + ", " + ctx.output_name() + ": " + p.status().message());
      PTQ_RETURN_IF_ERROR(check_params(ctx, p->validate()));
      return tabulated(*p, n, reference::hard_swish_quantized);
    }
    default: break;
  }
  return unsupported_dtype(ctx, "float32, int8");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_hard_sigmoid(const PrepareContext& ctx) {
  using namespace pointwise_detail;
  std::size_t n = 0;
  PTQ_RETURN_IF_ERROR(check_unary(ctx, &n));
  const float alpha = ctx.attrs().alpha, beta = ctx.attrs().beta;
  PTQ_RETURN_IF_ERROR(check_finite_attr(ctx, "alpha", alpha));
  PTQ_RETURN_IF_ERROR(check_finite_attr(ctx, "beta", beta));
  switch (ctx.output().dtype) {
    case DType::kFloat32:
      return make_prepared_op([alpha, beta, n](const RunContext& c) {
        reference::hard_sigmoid(c.in<float>(0), c.out<float>(), n, alpha, beta);
      });
    case DType::kInt8:
      return prepare_int8_lookup(ctx, n, [alpha, beta](float v) { return reference::hard_sigmoid_one(v, alpha, beta); });
    default: break;
  }
  return unsupported_dtype(ctx, "float32, int8");
}

}  // namespace runtime
PTQ_NAMESPACE_END
