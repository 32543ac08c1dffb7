// runtime/ops/conv.hpp: the interpreter's Conv2D, DepthwiseConv2D and FullyConnected, each in
// three forms picked by dtype:
//
//   form     activations   weights                              bias            kernel
//   float    float32       float32 (or float16/int8 constants   float32         float_conv.hpp /
//                          already widened/dequantized)                          float_depthwise.hpp /
//                                                                                float_gemm.hpp (SIMD),
//                                                                                bit for bit the reference;
//                                                                                runtime weights or bias:
//                                                                                the reference
//   hybrid   float32       int8 constant, per tensor or per     float32         FC: hybrid.hpp (SIMD GEMM);
//                          output channel, zero point 0                          conv/depthwise: hybrid_conv.hpp
//   int8     int8          int8 constant, per tensor or per     int32 constant  conv.hpp / depthwise.hpp /
//                          output channel, zero point 0                          gemm.hpp (SIMD)
//   16x8     int16 (zero   int8 constant, per tensor or per     int64 constant  reference/conv_16x8.hpp
//            point 0)      output channel, zero point 0         (or absent)     (scalar, as TFLite runs it)
//
// The int8 form follows TFLite's int8 spec and Prepare checks: activations per tensor; weights
// symmetric in [-127, 127] (per-axis along axis 0 for conv and fully connected, axis 3 for
// depthwise); bias scale = input scale * weight scale (checked to TFLite's tolerance when the bias
// carries quantization); multipliers from the scales as TFLite computes them; the fused activation
// as a clamp on the output. Hybrid ops quantize their input per batch row (fully connected,
// TFLite's asymmetric_quantize_inputs) or per image (conv, depthwise) on every run.
//
// The 16x8 form is TFLite's 16x8 scheme: int16 activations with zero point 0 (checked), the int8
// form's weight rules, an int64 bias (what TFLite's converter emits; an int32 bias is refused with an
// error naming it), requantization as reference/conv_16x8.hpp documents (64-bit fixed-point multiply
// for conv and depthwise, double for fully connected, as LiteRT does), accumulators bounded below
// 2^47 (bias magnitude and taps per output checked at prepare).
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/float_conv.hpp"
#include "ptq/kernels/float_depthwise.hpp"
#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/hybrid.hpp"
#include "ptq/kernels/hybrid_conv.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/conv_16x8.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/ops/checks.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {
namespace detail {

enum class LayerForm { kFloat, kHybrid, kInt8, kInt16x8 };

// Which form the op's dtypes select, or an error naming the combination.
inline Result<LayerForm> layer_form(const PrepareContext& ctx) {
  const DType x = ctx.input(0).dtype, w = ctx.input(1).dtype, y = ctx.output().dtype;
  if (x == DType::kFloat32 && w == DType::kFloat32 && y == DType::kFloat32) return LayerForm::kFloat;
  if (x == DType::kFloat32 && w == DType::kInt8 && y == DType::kFloat32) return LayerForm::kHybrid;
  if (x == DType::kInt8 && w == DType::kInt8 && y == DType::kInt8) return LayerForm::kInt8;
  if (x == DType::kInt16 && w == DType::kInt8 && y == DType::kInt16) return LayerForm::kInt16x8;
  return ctx.unsupported(std::string("no kernel for ") + dtype_name(x) + " input, " + dtype_name(w) + " weights and " +
                         dtype_name(y) + " output (supported: float32/float32/float32, float32/int8/float32 hybrid, "
                         "int8/int8/int8, int16/int8/int16)");
}

// The weights' scales (one, or one per output channel along `axis`), checking zero points are 0.
inline Result<std::vector<float>> symmetric_weight_scales(const PrepareContext& ctx, int axis) {
  const ir::Tensor& w = ctx.input(1);
  if (!w.is_constant()) return ctx.unsupported(ctx.input_name(1) + " (weights) must be a constant for int8 and hybrid kernels");
  if (w.quant.empty()) return ctx.error(ctx.input_name(1) + " is int8 without quantization parameters");
  if (w.quant.is_per_axis() && w.quant.axis != axis) {
    return ctx.error(ctx.input_name(1) + " is quantized along axis " + std::to_string(w.quant.axis) + "; expected axis " +
                     std::to_string(axis) + " (output channels)");
  }
  for (int32_t zp : w.quant.zero_points) {
    if (zp != 0) return ctx.error(ctx.input_name(1) + " has zero point " + std::to_string(zp) + "; int8 weights are symmetric (0)");
  }
  return w.quant.scales;
}

// What every int8 layer derives from its tensors: the input's and output's per-tensor parameters,
// one multiplier per weight scale (`multipliers_of` is TFLite's formula for the op kind:
// convolution_multipliers or fully_connected_multipliers) and the fused activation's clamp,
// written into the kernel's params (the int8 conv, depthwise and fully connected params share
// these field names).
template <class Params, class MultipliersOf>
Status set_int8_quantization(const PrepareContext& ctx, const std::vector<float>& w_scales, MultipliersOf multipliers_of,
                             Params* p) {
  QuantParams in, out;
  PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, ctx.input(0), ctx.input_name(0), &in));
  PTQ_RETURN_IF_ERROR(per_tensor_params<int8_t>(ctx, ctx.output(), ctx.output_name(), &out));
  p->input_zero_point = in.zero_point;
  p->output_zero_point = out.zero_point;
  p->rounding = ctx.options().rounding;
  p->multipliers = multipliers_of(in.scale, w_scales, out.scale, p->rounding);
  const QuantizedActivationRange r = reference::calculate_activation_range_quantized<int8_t>(ctx.attrs().activation, out);
  p->activation_min = r.min;
  p->activation_max = r.max;
  return {};
}

// Bias checks shared by the int8 forms: int32 constant, scale = input scale * weight scale.
inline Result<const int32_t*> int8_bias(const PrepareContext& ctx, float input_scale, const std::vector<float>& w_scales) {
  if (!ctx.has_input(2)) return static_cast<const int32_t*>(nullptr);
  const ir::Tensor& b = ctx.input(2);
  if (b.dtype != DType::kInt32) return ctx.error(ctx.input_name(2) + " (bias) is " + dtype_name(b.dtype) + "; expected int32");
  if (!b.is_constant()) return ctx.unsupported(ctx.input_name(2) + " (bias) must be a constant");
  if (!b.quant.empty()) {
    for (std::size_t c = 0; c < b.quant.scales.size(); ++c) {
      const double expected = static_cast<double>(input_scale) * w_scales[w_scales.size() == 1 ? 0 : c % w_scales.size()];
      // TFLite's GetQuantizedConvolutionMultipler tolerance: |bias_scale - in * w| <= 1e-6 * max.
      if (std::abs(b.quant.scales[c] - expected) > 1e-6 * std::max(1.0, expected)) {
        return ctx.error(ctx.input_name(2) + " (bias) scale " + std::to_string(b.quant.scales[c]) +
                         " is not input scale * weight scale = " + std::to_string(expected));
      }
    }
  }
  return b.data.as<int32_t>();
}

// The 16x8 form's per-tensor parameters: input and output int16 with zero point 0, and the fused
// activation's clamp in int16.
struct Quantization16x8 {
  QuantParams input, output;
  QuantizedActivationRange range;
};

inline Result<Quantization16x8> quantization_16x8(const PrepareContext& ctx) {
  Quantization16x8 q;
  PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, ctx.input(0), ctx.input_name(0), &q.input));
  PTQ_RETURN_IF_ERROR(per_tensor_params<int16_t>(ctx, ctx.output(), ctx.output_name(), &q.output));
  q.range = reference::calculate_activation_range_quantized<int16_t>(ctx.attrs().activation, q.output);
  return q;
}

// The 16x8 bias: absent, or an int64 constant of `channels` values (scale, when present, = input
// scale * weight scale as for int8).
inline Result<const int64_t*> int16x8_bias(const PrepareContext& ctx, int64_t channels, float input_scale,
                                           const std::vector<float>& w_scales) {
  if (!ctx.has_input(2)) return static_cast<const int64_t*>(nullptr);
  const ir::Tensor& b = ctx.input(2);
  if (b.dtype != DType::kInt64) {
    return ctx.unsupported(ctx.input_name(2) + " (bias) is " + dtype_name(b.dtype) +
                           "; the int16 (16x8) kernels take an int64 bias");
  }
  if (!b.is_constant()) return ctx.unsupported(ctx.input_name(2) + " (bias) must be a constant");
  if (b.shape.num_elements() != channels) {
    return ctx.error(ctx.input_name(2) + " (bias) has " + std::to_string(b.shape.num_elements()) + " values; expected " +
                     std::to_string(channels) + " (one per output channel)");
  }
  for (int32_t zp : b.quant.zero_points) {
    if (zp != 0) return ctx.error(ctx.input_name(2) + " (bias) has zero point " + std::to_string(zp) + "; expected 0");
  }
  for (std::size_t c = 0; c < b.quant.scales.size(); ++c) {
    const double expected = static_cast<double>(input_scale) * w_scales[w_scales.size() == 1 ? 0 : c % w_scales.size()];
    if (std::abs(b.quant.scales[c] - expected) > 1e-6 * std::max(1.0, expected)) {
      return ctx.error(ctx.input_name(2) + " (bias) scale " + std::to_string(b.quant.scales[c]) +
                       " is not input scale * weight scale = " + std::to_string(expected));
    }
  }
  return b.data.as<int64_t>();
}

// Where a float op finds its bias at run time: none, the constant captured at prepare, or input 2.
struct FloatBias {
  bool present = false;
  const float* constant = nullptr;
  const float* at(const RunContext& c) const { return !present ? nullptr : constant != nullptr ? constant : c.in<float>(2); }
};

inline Result<FloatBias> float_bias(const PrepareContext& ctx) {
  if (!ctx.has_input(2)) return FloatBias{};
  if (ctx.input(2).dtype != DType::kFloat32) {
    return ctx.error(ctx.input_name(2) + " (bias) is " + dtype_name(ctx.input(2).dtype) + "; expected float32");
  }
  return FloatBias{true, ctx.constant<float>(2)};
}

inline ConvGeometry geometry_of(const PrepareContext& ctx, int64_t out_channels) {
  const Shape& x = ctx.input(0).shape;
  const ir::Attributes& a = ctx.attrs();
  const Shape& w = ctx.input(1).shape;
  return make_conv_geometry(a.padding, x[0], x[1], x[2], x[3], w[1], w[2], out_channels, a.stride_h, a.stride_w,
                            a.dilation_h, a.dilation_w);
}

}  // namespace detail

inline Result<std::unique_ptr<PreparedOp>> prepare_conv2d(const PrepareContext& ctx) {
  using namespace detail;
  Result<LayerForm> form = layer_form(ctx);
  if (!form.ok()) return form.status();
  const Shape& w = ctx.input(1).shape;
  const ConvGeometry g = geometry_of(ctx, w[0]);
  const int64_t groups = ctx.input(0).shape[3] / w[3];
  const FusedActivation act = ctx.attrs().activation;

  if (*form == LayerForm::kFloat) {
    FloatConv2DParams p{g, groups, act};
    Result<FloatBias> bias = float_bias(ctx);
    if (!bias.ok()) return bias.status();
    const float* weights = ctx.constant<float>(1);
    if (weights == nullptr || (bias->present && bias->constant == nullptr)) {  // runtime tensors: nothing to pack
      return make_prepared_op([p, b = *bias](const RunContext& c) {
        reference::conv2d(p, c.in<float>(0), c.in<float>(1), b.at(c), c.out<float>());
      });
    }
    PTQ_RETURN_IF_ERROR(check_params(ctx, validate_float_conv2d(p, weights)));
    auto conv = std::make_shared<PreparedFloatConv2D>(
        prepare_float_conv2d(p, weights, bias->constant, /*own_scratch=*/false));  // the interpreter's scratch
    FloatConvOptions o;
    o.isa = ctx.options().isa;
    o.kernels = &float_kernels(o.isa);
    o.parallel_for = ctx.options().parallel_for;
    const std::size_t scratch = conv->scratch_bytes();
    return make_prepared_op(
        [conv, o](const RunContext& c) {
          FloatConvOptions run = o;
          run.scratch = c.scratch_as<float>();
          float_conv2d(*conv, c.in<float>(0), c.out<float>(), run);
        },
        scratch);
  }
  Result<std::vector<float>> scales = symmetric_weight_scales(ctx, 0);
  if (!scales.ok()) return scales.status();
  const auto* weights = ctx.constant<int8_t>(1);

  if (*form == LayerForm::kHybrid) {
    HybridConv2DParams p;
    p.geometry = g;
    p.groups = groups;
    p.weight_scales = *scales;
    p.activation = act;
    PTQ_RETURN_IF_ERROR(check_params(ctx, validate_hybrid_conv2d(p, weights)));
    Result<FloatBias> bias = float_bias(ctx);
    if (!bias.ok()) return bias.status();
    auto conv = std::make_shared<PreparedHybridConv2D>(
        prepare_hybrid_conv2d(p, weights, bias->constant, gemm::preferred_layout(ctx.options().isa)));
    HybridConvOptions o;
    o.isa = ctx.options().isa;
    o.parallel_for = ctx.options().parallel_for;
    return make_prepared_op([conv, o, b = *bias](const RunContext& c) {
      HybridConvOptions run = o;
      run.bias = b.constant != nullptr ? nullptr : b.at(c);  // a constant bias was copied at prepare
      hybrid_conv2d(*conv, c.in<float>(0), c.out<float>(), run);
    });
  }

  if (*form == LayerForm::kInt16x8) {
    Result<Quantization16x8> q = quantization_16x8(ctx);
    if (!q.ok()) return q.status();
    Conv2D16x8Params p;
    p.geometry = g;
    p.groups = groups;
    p.rounding = ctx.options().rounding;
    p.multipliers = convolution_multipliers(q->input.scale, *scales, q->output.scale, p.rounding);
    p.activation_min = q->range.min;
    p.activation_max = q->range.max;
    Result<const int64_t*> bias = int16x8_bias(ctx, g.output_channels, q->input.scale, *scales);
    if (!bias.ok()) return bias.status();
    PTQ_RETURN_IF_ERROR(check_params(ctx, p.validate(*bias)));
    if (w.num_elements() != g.output_channels * g.filter_height * g.filter_width * p.filter_input_channels()) {
      return ctx.error(ctx.input_name(1) + " has shape " + w.to_string() + "; it does not match the input's channels");
    }
    // Weights and bias are read where the interpreter keeps the constants (validated above).
    return make_prepared_op([p, has_bias = *bias != nullptr](const RunContext& c) {
      reference::conv2d_16x8(p, c.in<int16_t>(0), c.in<int8_t>(1), has_bias ? c.in<int64_t>(2) : nullptr, c.out<int16_t>());
    });
  }

  Conv2DParams p;
  p.geometry = g;
  p.groups = groups;
  PTQ_RETURN_IF_ERROR(set_int8_quantization(ctx, *scales, convolution_multipliers, &p));
  PTQ_RETURN_IF_ERROR(check_params(ctx, validate_conv2d(p, weights)));
  Result<const int32_t*> bias = int8_bias(ctx, ctx.input(0).quant.scales[0], *scales);
  if (!bias.ok()) return bias.status();
  auto conv = std::make_shared<PreparedConv2D>(
      prepare_conv2d(p, weights, *bias, gemm::preferred_layout(ctx.options().isa)));
  ConvOptions o;
  o.isa = ctx.options().isa;
  o.parallel_for = ctx.options().parallel_for;
  return make_prepared_op([conv, o](const RunContext& c) { conv2d(*conv, c.in<int8_t>(0), c.out<int8_t>(), o); });
}

inline Result<std::unique_ptr<PreparedOp>> prepare_depthwise_conv2d(const PrepareContext& ctx) {
  using namespace detail;
  Result<LayerForm> form = layer_form(ctx);
  if (!form.ok()) return form.status();
  const ConvGeometry g = geometry_of(ctx, ctx.input(1).shape[3]);
  const int64_t dm = ctx.attrs().depth_multiplier;
  const FusedActivation act = ctx.attrs().activation;

  if (*form == LayerForm::kFloat) {
    FloatDepthwiseConv2DParams p{g, dm, act};
    Result<FloatBias> bias = float_bias(ctx);
    if (!bias.ok()) return bias.status();
    const float* weights = ctx.constant<float>(1);
    if (weights == nullptr || (bias->present && bias->constant == nullptr)) {  // runtime tensors: nothing to pack
      return make_prepared_op([p, b = *bias](const RunContext& c) {
        reference::depthwise_conv2d(p, c.in<float>(0), c.in<float>(1), b.at(c), c.out<float>());
      });
    }
    PTQ_RETURN_IF_ERROR(check_params(ctx, validate_float_depthwise_conv2d(p, weights)));
    auto dw = std::make_shared<PreparedFloatDepthwiseConv2D>(prepare_float_depthwise_conv2d(p, weights, bias->constant));
    const Isa isa = ctx.options().isa;
    return make_prepared_op(
        [dw, isa](const RunContext& c) { float_depthwise_conv2d(*dw, c.in<float>(0), c.out<float>(), isa); });
  }
  Result<std::vector<float>> scales = symmetric_weight_scales(ctx, 3);
  if (!scales.ok()) return scales.status();
  const auto* weights = ctx.constant<int8_t>(1);

  if (*form == LayerForm::kHybrid) {
    HybridDepthwiseConv2DParams p;
    p.geometry = g;
    p.depth_multiplier = dm;
    p.weight_scales = *scales;
    p.activation = act;
    PTQ_RETURN_IF_ERROR(check_params(ctx, validate_hybrid_depthwise_conv2d(p, weights)));
    Result<FloatBias> bias = float_bias(ctx);
    if (!bias.ok()) return bias.status();
    auto dw = std::make_shared<PreparedHybridDepthwiseConv2D>(prepare_hybrid_depthwise_conv2d(p, weights, bias->constant));
    HybridConvOptions o;
    o.isa = ctx.options().isa;
    return make_prepared_op([dw, o, b = *bias](const RunContext& c) {
      HybridConvOptions run = o;
      run.bias = b.constant != nullptr ? nullptr : b.at(c);  // a constant bias was copied at prepare
      hybrid_depthwise_conv2d(*dw, c.in<float>(0), c.out<float>(), run);
    });
  }

  if (*form == LayerForm::kInt16x8) {
    Result<Quantization16x8> q = quantization_16x8(ctx);
    if (!q.ok()) return q.status();
    DepthwiseConv2D16x8Params p;
    p.geometry = g;
    p.depth_multiplier = dm;
    p.rounding = ctx.options().rounding;
    p.multipliers = convolution_multipliers(q->input.scale, *scales, q->output.scale, p.rounding);
    p.activation_min = q->range.min;
    p.activation_max = q->range.max;
    Result<const int64_t*> bias = int16x8_bias(ctx, g.output_channels, q->input.scale, *scales);
    if (!bias.ok()) return bias.status();
    PTQ_RETURN_IF_ERROR(check_params(ctx, p.validate(*bias)));
    if (ctx.input(1).shape.num_elements() != g.filter_height * g.filter_width * g.output_channels) {
      return ctx.error(ctx.input_name(1) + " has shape " + ctx.input(1).shape.to_string() +
                       "; expected [1, filter_h, filter_w, output_channels]");
    }
    // Weights and bias are read where the interpreter keeps the constants (validated above).
    return make_prepared_op([p, has_bias = *bias != nullptr](const RunContext& c) {
      reference::depthwise_conv2d_16x8(p, c.in<int16_t>(0), c.in<int8_t>(1), has_bias ? c.in<int64_t>(2) : nullptr, c.out<int16_t>());
    });
  }

  DepthwiseConv2DParams p;
  p.geometry = g;
  p.depth_multiplier = dm;
  PTQ_RETURN_IF_ERROR(set_int8_quantization(ctx, *scales, convolution_multipliers, &p));
  PTQ_RETURN_IF_ERROR(check_params(ctx, validate_depthwise_conv2d(p, weights)));
  Result<const int32_t*> bias = int8_bias(ctx, ctx.input(0).quant.scales[0], *scales);
  if (!bias.ok()) return bias.status();
  auto dw = std::make_shared<PreparedDepthwiseConv2D>(prepare_depthwise_conv2d(p, weights, *bias));
  const Isa isa = ctx.options().isa;
  return make_prepared_op([dw, isa](const RunContext& c) { depthwise_conv2d(*dw, c.in<int8_t>(0), c.out<int8_t>(), isa); });
}

inline Result<std::unique_ptr<PreparedOp>> prepare_fully_connected(const PrepareContext& ctx) {
  using namespace detail;
  Result<LayerForm> form = layer_form(ctx);
  if (!form.ok()) return form.status();
  const Shape& w = ctx.input(1).shape;
  const int64_t units = w[0], depth = w[1];
  const int64_t batches = depth == 0 ? 0 : ctx.input(0).shape.num_elements() / depth;
  const FusedActivation act = ctx.attrs().activation;

  if (*form == LayerForm::kFloat) {
    FloatFullyConnectedParams p{batches, depth, units, act};
    Result<FloatBias> bias = float_bias(ctx);
    if (!bias.ok()) return bias.status();
    const float* weights = ctx.constant<float>(1);
    if (weights == nullptr || (bias->present && bias->constant == nullptr)) {  // runtime tensors: nothing to pack
      return make_prepared_op([p, b = *bias](const RunContext& c) {
        reference::fully_connected(p, c.in<float>(0), c.in<float>(1), b.at(c), c.out<float>());
      });
    }
    PTQ_RETURN_IF_ERROR(check_params(ctx, validate_float_fully_connected(p, weights)));
    auto fc = std::make_shared<PreparedFloatFullyConnected>(prepare_float_fully_connected(p, weights, bias->constant));
    FloatGemmOptions o;
    o.isa = ctx.options().isa;
    o.kernels = &float_kernels(o.isa);
    o.parallel_for = ctx.options().parallel_for;
    return make_prepared_op([fc, o](const RunContext& c) { float_fully_connected(*fc, c.in<float>(0), c.out<float>(), o); });
  }
  Result<std::vector<float>> scales = symmetric_weight_scales(ctx, 0);
  if (!scales.ok()) return scales.status();
  const auto* weights = ctx.constant<int8_t>(1);

  if (*form == LayerForm::kHybrid) {
    HybridFullyConnectedParams p;
    p.batches = batches;
    p.input_depth = depth;
    p.output_depth = units;
    p.weight_scales = *scales;
    p.input_quantization = ctx.attrs().asymmetric_quantize_inputs ? HybridInputQuantization::kAsymmetric
                                                                   : HybridInputQuantization::kSymmetric;
    p.activation = act;
    PTQ_RETURN_IF_ERROR(check_params(ctx, validate_hybrid_fully_connected(p, weights)));
    Result<FloatBias> bias = float_bias(ctx);
    if (!bias.ok()) return bias.status();
    if (bias->present && bias->constant == nullptr) return ctx.unsupported(ctx.input_name(2) + " (bias) must be a constant");
    auto fc = std::make_shared<PreparedHybridFullyConnected>(
        prepare_hybrid_fully_connected(p, weights, bias->constant, gemm::preferred_layout(ctx.options().isa)));
    const Isa isa = ctx.options().isa;
    return make_prepared_op([fc, isa](const RunContext& c) { hybrid_fully_connected(*fc, c.in<float>(0), c.out<float>(), isa); });
  }

  if (*form == LayerForm::kInt16x8) {
    Result<Quantization16x8> q = quantization_16x8(ctx);
    if (!q.ok()) return q.status();
    FullyConnected16x8Params p;
    p.batches = batches;
    p.input_depth = depth;
    p.output_depth = units;
    p.effective_scales = fully_connected_16x8_scales(q->input.scale, *scales, q->output.scale);
    p.activation_min = q->range.min;
    p.activation_max = q->range.max;
    Result<const int64_t*> bias = int16x8_bias(ctx, units, q->input.scale, *scales);
    if (!bias.ok()) return bias.status();
    PTQ_RETURN_IF_ERROR(check_params(ctx, p.validate(*bias)));
    if (ctx.input(0).shape.num_elements() != batches * depth || ctx.output().shape.num_elements() != batches * units) {
      return ctx.error(ctx.input_name(0) + " " + ctx.input(0).shape.to_string() + " and " + ctx.output_name() + " " +
                       ctx.output().shape.to_string() + " do not match " + std::to_string(units) + " units of depth " +
                       std::to_string(depth));
    }
    // Weights and bias are read where the interpreter keeps the constants (validated above).
    return make_prepared_op([p, has_bias = *bias != nullptr](const RunContext& c) {
      reference::fully_connected_16x8(p, c.in<int16_t>(0), c.in<int8_t>(1), has_bias ? c.in<int64_t>(2) : nullptr, c.out<int16_t>());
    });
  }

  FullyConnectedParams p;
  p.batches = batches;
  p.input_depth = depth;
  p.output_depth = units;
  PTQ_RETURN_IF_ERROR(set_int8_quantization(ctx, *scales, fully_connected_multipliers, &p));
  PTQ_RETURN_IF_ERROR(check_params(ctx, gemm::validate(p, weights)));
  Result<const int32_t*> bias = int8_bias(ctx, ctx.input(0).quant.scales[0], *scales);
  if (!bias.ok()) return bias.status();
  auto packed = std::make_shared<gemm::PackedWeights>(
      gemm::pack_weights(p, weights, *bias, gemm::preferred_layout(ctx.options().isa)));
  gemm::GemmOptions o;
  o.isa = ctx.options().isa;
  o.parallel_for = ctx.options().parallel_for;
  if (ctx.options().fc_requantization == FcRequantization::kDoubleScale) {
    // LiteRT's reference requantization: the GEMM's int32 accumulators (bias and zero points folded
    // in), then round(acc * s[n]) in double.
    const std::vector<double> s = reference::double_scales(ctx.input(0).quant.scales[0], *scales, ctx.output().quant.scales[0]);
    const std::size_t acc_bytes = static_cast<std::size_t>(batches * units) * sizeof(int32_t);
    return make_prepared_op(
        [packed, batches, units, o, s, zp = p.output_zero_point, lo = p.activation_min, hi = p.activation_max](const RunContext& c) {
          int32_t* acc = c.scratch_as<int32_t>();
          gemm::fully_connected_accumulators(*packed, c.in<int8_t>(0), batches, acc, o);
          int8_t* y = c.out<int8_t>();
          for (int64_t i = 0; i < batches * units; ++i) {
            const double si = s[s.size() == 1 ? 0 : static_cast<std::size_t>(i % units)];
            y[i] = static_cast<int8_t>(reference::requantize_double_scale(acc[i], si, zp, lo, hi));
          }
        },
        acc_bytes);
  }
  return make_prepared_op([packed, batches, o](const RunContext& c) {
    gemm::fully_connected(*packed, c.in<int8_t>(0), batches, c.out<int8_t>(), o);
  });
}

}  // namespace runtime
PTQ_NAMESPACE_END
