// runtime/ops/pool.hpp: the interpreter's AveragePool2D, MaxPool2D and Mean (float32, int8 and int16).
//
// Kernels: kernels/pool.hpp (SIMD per ISA level, bit for bit the scalar references in
// kernels/reference/pool.hpp: TFLite's reference pooling and reduce-mean arithmetic; see that header
// for the exact formulas), at the interpreter's ISA level (options().isa).
//   AveragePool2D, MaxPool2D: x [N, H, W, C] -> y [N, OH, OW, C] with OH, OW from compute_padding
//     (attributes filter, stride, padding, fused activation). int8 requires equal input and output
//     parameters (scale within 1e-6 and the same zero point, TFLite's pooling.cc check); the fused
//     activation clamps in the output's quantized domain.
//   Mean: x -> y over attribute `axes` (negative from the end, duplicates ignored), keep_dims; the
//     output shape must be the reduced shape. int8 requantizes from the input's to the output's
//     parameters (any pair), as TFLite's reference QuantizedMeanOrSum.
// int16 (TFLite's 16x8 scheme): the same rules with zero points 0, run by the scalar kernels of
// kernels/reference/pool_16x8.hpp (TFLite runs int16 pooling and mean on its reference kernels too).
// Input and output dtypes must match; float32, int8 and int16 are supported, other dtypes are
// unimplemented().
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptq/kernels/pool.hpp"
#include "ptq/kernels/reference/pool.hpp"
#include "ptq/kernels/reference/pool_16x8.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/ops/checks.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {
namespace pool_detail {

// One input, one output, the same dtype, float32, int8 or int16.
inline Status check_single_io(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1));
  PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, 0));
  PTQ_RETURN_IF_ERROR(expect_dtype_in(ctx, 0, {DType::kFloat32, DType::kInt8, DType::kInt16}));
  return {};
}


enum class PoolKind { kAverage, kMax };

inline Result<std::unique_ptr<PreparedOp>> prepare_pool2d(const PrepareContext& ctx, PoolKind kind) {
  PTQ_RETURN_IF_ERROR(check_single_io(ctx));
  const Isa isa = ctx.options().isa;
  const ir::Tensor& x = ctx.input(0);
  const ir::Tensor& y = ctx.output(0);
  const ir::Attributes& a = ctx.attrs();
  if (x.shape.rank() != 4) {
    return ctx.error(ctx.input_name(0) + " has shape " + x.shape.to_string() + "; expected rank 4 (NHWC)");
  }
  if (a.filter_h < 1 || a.filter_w < 1 || a.stride_h < 1 || a.stride_w < 1) {
    return ctx.error("filter " + std::to_string(a.filter_h) + "x" + std::to_string(a.filter_w) + " and stride " +
                     std::to_string(a.stride_h) + "x" + std::to_string(a.stride_w) + " must be >= 1");
  }
  PoolParams p = make_pool_params(a.padding, x.shape[0], x.shape[1], x.shape[2], x.shape[3], a.filter_h, a.filter_w,
                                  a.stride_h, a.stride_w);
  const Shape expected{p.batches, p.output_height, p.output_width, p.channels};
  if (y.shape != expected) {
    return ctx.error(ctx.output_name(0) + " has shape " + y.shape.to_string() + "; the window gives " +
                     expected.to_string());
  }
  if (x.dtype == DType::kFloat32) {
    const FloatActivationRange r = reference::calculate_activation_range(a.activation);
    p.float_activation_min = r.min;
    p.float_activation_max = r.max;
    PTQ_RETURN_IF_ERROR(p.validate().with_context(ctx.what()));
    if (kind == PoolKind::kAverage) {
      return make_prepared_op([p, isa](const RunContext& c) { ::ptq::average_pool(p, c.in<float>(0), c.out<float>(), isa); });
    }
    return make_prepared_op([p, isa](const RunContext& c) { ::ptq::max_pool(p, c.in<float>(0), c.out<float>(), isa); });
  }
  QuantParams xq, yq;
  if (x.dtype == DType::kInt16) {
    PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, x, ctx.input_name(0), &xq));
    PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, y, ctx.output_name(0), &yq));
  } else {
    PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, x, ctx.input_name(0), &xq));
    PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, y, ctx.output_name(0), &yq));
  }
  if (std::fabs(xq.scale - yq.scale) > 1.0e-6f || xq.zero_point != yq.zero_point) {
    return ctx.error(ctx.output_name(0) + " has scale " + std::to_string(yq.scale) + " and zero point " +
                     std::to_string(yq.zero_point) + "; " + dtype_name(x.dtype) +
                     " pooling requires the input's parameters (scale " + std::to_string(xq.scale) +
                     ", zero point " + std::to_string(xq.zero_point) + ")");
  }
  if (x.dtype == DType::kInt16) {
    const QuantizedActivationRange r = reference::calculate_activation_range_quantized<int16_t>(a.activation, yq);
    p.activation_min = r.min;
    p.activation_max = r.max;
    PTQ_RETURN_IF_ERROR(validate_pool_16x8(p).with_context(ctx.what()));
    if (kind == PoolKind::kAverage) {
      return make_prepared_op([p](const RunContext& c) { reference::average_pool(p, c.in<int16_t>(0), c.out<int16_t>()); });
    }
    return make_prepared_op([p](const RunContext& c) { reference::max_pool(p, c.in<int16_t>(0), c.out<int16_t>()); });
  }
  const QuantizedActivationRange r = reference::calculate_activation_range_quantized<int8_t>(a.activation, yq);
  p.activation_min = r.min;
  p.activation_max = r.max;
  PTQ_RETURN_IF_ERROR(p.validate_quantized().with_context(ctx.what()));
  if (kind == PoolKind::kAverage) {
    return make_prepared_op([p, isa](const RunContext& c) { ::ptq::average_pool(p, c.in<int8_t>(0), c.out<int8_t>(), isa); });
  }
  return make_prepared_op([p, isa](const RunContext& c) { ::ptq::max_pool(p, c.in<int8_t>(0), c.out<int8_t>(), isa); });
}

// The shape Mean produces: reduced dims removed, or set to 1 with keep_dims.
inline Shape mean_output_shape(const Shape& in, const std::vector<int32_t>& axes, bool keep_dims) {
  std::vector<int64_t> dims;
  for (int d = 0; d < in.rank(); ++d) {
    bool reduced = false;
    for (int32_t a : axes) reduced = reduced || a == d || a + in.rank() == d;
    if (!reduced) {
      dims.push_back(in[d]);
    } else if (keep_dims) {
      dims.push_back(1);
    }
  }
  return Shape(std::move(dims));
}

}  // namespace pool_detail

inline Result<std::unique_ptr<PreparedOp>> prepare_average_pool2d(const PrepareContext& ctx) {
  return pool_detail::prepare_pool2d(ctx, pool_detail::PoolKind::kAverage);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_max_pool2d(const PrepareContext& ctx) {
  return pool_detail::prepare_pool2d(ctx, pool_detail::PoolKind::kMax);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_mean(const PrepareContext& ctx) {
  using namespace pool_detail;
  PTQ_RETURN_IF_ERROR(check_single_io(ctx));
  const Isa isa = ctx.options().isa;
  const ir::Tensor& x = ctx.input(0);
  const ir::Tensor& y = ctx.output(0);
  const ir::Attributes& a = ctx.attrs();
  Result<MeanParams> made = make_mean_params(x.shape, a.axes);
  if (!made.ok()) return ctx.error(made.status().message());
  MeanParams p = std::move(made).value();
  const Shape expected = mean_output_shape(x.shape, a.axes, a.keep_dims);
  if (y.shape != expected) {
    return ctx.error(ctx.output_name(0) + " has shape " + y.shape.to_string() + "; reducing " +
                     x.shape.to_string() + " gives " + expected.to_string());
  }
  if (x.dtype == DType::kFloat32) {
    return make_prepared_op([p, isa](const RunContext& c) { ::ptq::mean(p, c.in<float>(0), c.out<float>(), isa); });
  }
  QuantParams xq, yq;
  if (x.dtype == DType::kInt16) {
    PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, x, ctx.input_name(0), &xq));
    PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, y, ctx.output_name(0), &yq));
  } else {
    PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, x, ctx.input_name(0), &xq));
    PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, y, ctx.output_name(0), &yq));
  }
  set_mean_quantization(&p, xq, yq, ctx.options().rounding);
  PTQ_RETURN_IF_ERROR(reference::detail::check_multiplier(ctx.what(), "input/output scale ratio multiplier",
                                                          p.multiplier, ctx.options().rounding));
  if (x.dtype == DType::kInt16) {
    return make_prepared_op([p](const RunContext& c) { reference::mean(p, c.in<int16_t>(0), c.out<int16_t>()); });
  }
  return make_prepared_op([p, isa](const RunContext& c) { ::ptq::mean(p, c.in<int8_t>(0), c.out<int8_t>(), isa); });
}

}  // namespace runtime
PTQ_NAMESPACE_END
