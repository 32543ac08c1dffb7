// runtime/ops/nonlinear.hpp: the interpreter's Softmax, Logistic and Tanh (float32, int8 and int16).
//
// Each op has one input and one output of the same dtype and shape (Softmax: rank >= 1, over the last
// axis, attribute beta). The kernels are the scalar references in kernels/reference/softmax.hpp:
//   float32   reference::softmax / logistic / tanh (TFLite's reference float kernels)
//   int8      Softmax: reference::softmax (TFLite's kReference integer softmax), run through its
//             prepared exp tables (kernels/elementwise_tables.hpp: softmax_int8, the same bits);
//             Logistic, Tanh: a 256-entry table built at prepare (make_logistic_lut / make_tanh_lut),
//             which is what TFLite's interpreter computes for int8 in its reference and default
//             builds alike; the fixed-point variant (reference_integer_ops, TFLite Micro) is in the
//             same header for callers that need it.
// int8 constraints, as TFLite's (and its quantization spec's): input and output per-tensor quantized;
// output scale 1/256 and zero point -128 for Softmax (scale within 0.1% as TFLite's
// TF_LITE_ENSURE_NEAR) and Logistic (exactly), 1/128 and 0 for Tanh (exactly). Prepare rejects other
// output parameters with an error naming the output tensor.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>

#include "ptq/kernels/elementwise_tables.hpp"
#include "ptq/kernels/reference/softmax.hpp"
#include "ptq/kernels/reference/softmax_16x8.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/ops/checks.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {
namespace nonlinear_detail {

// One input, one output, same dtype and shape; float32, int8 or int16.
inline Status check_unary(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1));
  PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, 0));
  PTQ_RETURN_IF_ERROR(expect_dtype_in(ctx, 0, {DType::kFloat32, DType::kInt8, DType::kInt16}));
  PTQ_RETURN_IF_ERROR(expect_same_shape(ctx, 0));
  return {};
}

// The fixed output parameters TFLite requires of int8 Softmax / Logistic (1/256, -128) and Tanh (1/128, 0).
inline Status check_fixed_output(const PrepareContext& ctx, QuantParams y, float scale, const char* scale_text,
                                 int32_t zero_point, bool near) {
  const bool scale_ok = near ? std::fabs(y.scale - scale) <= 0.001f * scale : y.scale == scale;
  if (!scale_ok || y.zero_point != zero_point) {
    return ctx.error(ctx.output_name(0) + " has scale " + std::to_string(y.scale) + " and zero point " +
                     std::to_string(y.zero_point) + "; int8 " + std::string(ir::op_kind_name(ctx.op().kind)) + " requires scale " + scale_text +
                     " and zero point " + std::to_string(zero_point));
  }
  return {};
}

inline std::size_t element_count(const ir::Tensor& t) { return static_cast<std::size_t>(t.shape.num_elements()); }

// int16 Logistic / Tanh: zero points 0, TFLite's prepare (make_sigmoid_tanh_16x8_params).
inline Result<std::unique_ptr<PreparedOp>> prepare_sigmoid_tanh_16x8(const PrepareContext& ctx, SigmoidTanh16x8 op) {
  QuantParams x, y;
  PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, ctx.input(0), ctx.input_name(0), &x));
  PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, ctx.output(0), ctx.output_name(0), &y));
  Result<SigmoidTanh16x8Params> p = make_sigmoid_tanh_16x8_params(op, x.scale, y.scale);
  if (!p.ok()) return ctx.error(ctx.input_name(0) + " / " + ctx.output_name(0) + ": " + p.status().message());
  const std::size_t n = element_count(ctx.input(0));
  if (op == SigmoidTanh16x8::kTanh) {
    return make_prepared_op([q = *p, n](const RunContext& c) { reference::tanh_16x8(q, c.in<int16_t>(0), c.out<int16_t>(), n); });
  }
  return make_prepared_op([q = *p, n](const RunContext& c) { reference::logistic_16x8(q, c.in<int16_t>(0), c.out<int16_t>(), n); });
}

// Logistic and Tanh share everything but the float function, the table and the output parameters.
template <class FloatKernel, class MakeTable>
Result<std::unique_ptr<PreparedOp>> prepare_elementwise(const PrepareContext& ctx, FloatKernel float_kernel,
                                                        MakeTable make_table, float out_scale,
                                                        const char* out_scale_text, int32_t out_zero_point,
                                                        SigmoidTanh16x8 int16_kind) {
  PTQ_RETURN_IF_ERROR(check_unary(ctx));
  const std::size_t n = element_count(ctx.input(0));
  if (ctx.input(0).dtype == DType::kFloat32) {
    return make_prepared_op([n, float_kernel](const RunContext& c) { float_kernel(c.in<float>(0), c.out<float>(), n); });
  }
  if (ctx.input(0).dtype == DType::kInt16) {
    return prepare_sigmoid_tanh_16x8(ctx, int16_kind);
  }
  QuantParams x, y;
  PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, ctx.input(0), ctx.input_name(0), &x));
  PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, ctx.output(0), ctx.output_name(0), &y));
  PTQ_RETURN_IF_ERROR(check_fixed_output(ctx, y, out_scale, out_scale_text, out_zero_point, /*near=*/false));
  const Int8LookupTable table = make_table(x, y);
  return make_prepared_op([n, table](const RunContext& c) { reference::lookup(table, c.in<int8_t>(0), c.out<int8_t>(), n); });
}

}  // namespace nonlinear_detail

inline Result<std::unique_ptr<PreparedOp>> prepare_softmax(const PrepareContext& ctx) {
  using namespace nonlinear_detail;
  PTQ_RETURN_IF_ERROR(check_unary(ctx));
  const ir::Tensor& x = ctx.input(0);
  if (x.shape.rank() < 1) return ctx.error(ctx.input_name(0) + " is a scalar; softmax needs rank >= 1");
  const float beta = ctx.attrs().beta;
  if (!std::isfinite(beta)) return ctx.error("beta = " + std::to_string(beta) + " is not finite");
  const int64_t depth = x.shape[x.shape.rank() - 1];
  const int64_t outer = x.shape.flat_size(0, x.shape.rank() - 1);
  if (x.dtype == DType::kFloat32) {
    SoftmaxParams p;
    p.outer_size = outer;
    p.depth = depth;
    p.beta = beta;
    PTQ_RETURN_IF_ERROR(p.validate().with_context(ctx.what()));
    return make_prepared_op([p](const RunContext& c) { reference::softmax(p, c.in<float>(0), c.out<float>()); });
  }
  QuantParams xq, yq;
  if (x.dtype == DType::kInt16) {
    PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, x, ctx.input_name(0), &xq));
    PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, ctx.output(0), ctx.output_name(0), &yq));
    if (std::fabs(yq.scale - 1.0f / 32768.0f) > 0.001f / 32768.0f) {
      return ctx.error(ctx.output_name(0) + " has scale " + std::to_string(yq.scale) +
                       "; int16 Softmax requires scale 1/32768 (2^-15) and zero point 0");
    }
    Result<Softmax16x8Params> p16 = make_softmax_16x8_params(outer, depth, beta, xq.scale, ctx.options().rounding);
    if (!p16.ok()) return ctx.error(ctx.input_name(0) + ": " + p16.status().message());
    auto shared = std::make_shared<const Softmax16x8Params>(std::move(p16).value());
    return make_prepared_op(
        [shared](const RunContext& c) { reference::softmax_16x8(*shared, c.in<int16_t>(0), c.out<int16_t>()); });
  }
  PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, x, ctx.input_name(0), &xq));
  PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, ctx.output(0), ctx.output_name(0), &yq));
  PTQ_RETURN_IF_ERROR(check_fixed_output(ctx, yq, 1.0f / 256.0f, "1/256", -128, /*near=*/true));
  Result<SoftmaxParams> p = make_softmax_params(outer, depth, beta, xq.scale, ctx.options().rounding);
  if (!p.ok()) return ctx.error(ctx.input_name(0) + ": " + p.status().message());
  return make_prepared_op([t = make_int8_softmax_tables(p.value())](const RunContext& c) {
    softmax_int8(t, c.in<int8_t>(0), c.out<int8_t>());  // reference::softmax through exp tables
  });
}

inline Result<std::unique_ptr<PreparedOp>> prepare_logistic(const PrepareContext& ctx) {
  return nonlinear_detail::prepare_elementwise(
      ctx, [](const float* x, float* y, std::size_t n) { reference::logistic(x, y, n); }, make_logistic_lut,
      1.0f / 256.0f, "1/256", -128, SigmoidTanh16x8::kLogistic);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_tanh(const PrepareContext& ctx) {
  return nonlinear_detail::prepare_elementwise(
      ctx, [](const float* x, float* y, std::size_t n) { reference::tanh(x, y, n); }, make_tanh_lut,
      1.0f / 128.0f, "1/128", 0, SigmoidTanh16x8::kTanh);
}

}  // namespace runtime
PTQ_NAMESPACE_END
