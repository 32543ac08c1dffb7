// reference/conv.hpp: int8 2-D convolution, NHWC, per-channel weights, grouped -- the oracle for
// every im2col / indirection / direct conv path.
//
// TFLite: reference_integer_ops::ConvPerChannel (with the grouped-conv loop TFLite added in 2.9),
// padding from kernels/padding.h (ComputePaddingHeightWidth). For batch b, output pixel (oy, ox) and
// output channel oc, with fic = input_channels / groups input channels per group,
// g = oc / (output_channels / groups) the channel's group, and y0 = oy * stride_h - pad_top,
// x0 = ox * stride_w - pad_left the window's origin:
//
//   acc = sum over fy < filter_h, fx < filter_w, ic < fic, with
//             iy = y0 + dilation_h * fy, ix = x0 + dilation_w * fx inside the image:
//           w[oc][fy][fx][ic] * (x[b][iy][ix][g * fic + ic] - x_zp)
//         (+ bias[oc])                                            int32, wrapping (activation.hpp)
//   y[b][oy][ox][oc] = clamp(multiply_by_quantized_multiplier(acc, M[oc]) + y_zp, act_min, act_max)
//
//   - Layouts: input [batches, in_h, in_w, in_c], weights [out_c, filter_h, filter_w, in_c / groups],
//     output [batches, out_h, out_w, out_c], all row-major (NHWC / OHWI, TFLite's).
//   - Taps outside the image are skipped. Since weights have zero point 0, that is the same as
//     padding the input with its zero point (x - x_zp = 0 there); the tests check exactly that.
//   - M[oc]: multipliers[0] for every channel (per tensor) or multipliers[oc] (per channel).
//     Weights are symmetric (zero point 0) as the int8 spec requires; TFLite's Prepare rejects others.
//   - Only the top/left padding enters the arithmetic; bottom/right padding is implied by the output
//     size. compute_padding gives TFLite's SAME/VALID output size and padding.
//
// Multipliers come from the scales as in TFLite's PopulateConvolutionQuantizationParams
// (convolution_multipliers below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/status.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN

// The shapes and the window of a 2-D convolution (regular or depthwise), NHWC.
struct ConvGeometry {
  int64_t batches = 1;
  int64_t input_height = 0, input_width = 0, input_channels = 0;
  int64_t output_height = 0, output_width = 0, output_channels = 0;
  int64_t filter_height = 1, filter_width = 1;
  int64_t stride_height = 1, stride_width = 1;
  int64_t dilation_height = 1, dilation_width = 1;
  int64_t pad_top = 0, pad_left = 0;

  int64_t input_size() const { return batches * input_height * input_width * input_channels; }
  int64_t output_size() const { return batches * output_height * output_width * output_channels; }

  // Non-negative sizes, at least one channel and one filter tap, strides and dilations >= 1,
  // non-negative padding. `what` names the layer in the message.
  Status validate(const std::string& what = "conv2d") const {
    const auto non_negative = [&](const char* name, int64_t v) -> Status {
      if (v < 0) return invalid_argument(what + ": " + name + " = " + std::to_string(v) + " is negative");
      return {};
    };
    const auto positive = [&](const char* name, int64_t v) -> Status {
      if (v < 1) return invalid_argument(what + ": " + name + " = " + std::to_string(v) + " must be >= 1");
      return {};
    };
    PTQ_RETURN_IF_ERROR(non_negative("batches", batches));
    PTQ_RETURN_IF_ERROR(non_negative("input_height", input_height));
    PTQ_RETURN_IF_ERROR(non_negative("input_width", input_width));
    PTQ_RETURN_IF_ERROR(positive("input_channels", input_channels));
    PTQ_RETURN_IF_ERROR(non_negative("output_height", output_height));
    PTQ_RETURN_IF_ERROR(non_negative("output_width", output_width));
    PTQ_RETURN_IF_ERROR(positive("output_channels", output_channels));
    PTQ_RETURN_IF_ERROR(positive("filter_height", filter_height));
    PTQ_RETURN_IF_ERROR(positive("filter_width", filter_width));
    PTQ_RETURN_IF_ERROR(positive("stride_height", stride_height));
    PTQ_RETURN_IF_ERROR(positive("stride_width", stride_width));
    PTQ_RETURN_IF_ERROR(positive("dilation_height", dilation_height));
    PTQ_RETURN_IF_ERROR(positive("dilation_width", dilation_width));
    PTQ_RETURN_IF_ERROR(non_negative("pad_top", pad_top));
    PTQ_RETURN_IF_ERROR(non_negative("pad_left", pad_left));
    return {};
  }
};

// A geometry with TFLite's SAME/VALID output size and padding filled in.
inline ConvGeometry make_conv_geometry(Padding padding, int64_t batches, int64_t input_height,
                                       int64_t input_width, int64_t input_channels, int64_t filter_height,
                                       int64_t filter_width, int64_t output_channels,
                                       int64_t stride_height = 1, int64_t stride_width = 1,
                                       int64_t dilation_height = 1, int64_t dilation_width = 1) {
  const ConvPadding pad = compute_padding(padding, input_height, input_width, filter_height, filter_width,
                                          stride_height, stride_width, dilation_height, dilation_width);
  ConvGeometry g;
  g.batches = batches;
  g.input_height = input_height;
  g.input_width = input_width;
  g.input_channels = input_channels;
  g.output_height = pad.output_height;
  g.output_width = pad.output_width;
  g.output_channels = output_channels;
  g.filter_height = filter_height;
  g.filter_width = filter_width;
  g.stride_height = stride_height;
  g.stride_width = stride_width;
  g.dilation_height = dilation_height;
  g.dilation_width = dilation_width;
  g.pad_top = pad.top;
  g.pad_left = pad.left;
  return g;
}

// Everything an int8 convolution needs besides its tensors, prepared once.
struct Conv2DParams {
  ConvGeometry geometry;
  int64_t groups = 1;  // weights hold input_channels / groups input channels

  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  std::vector<QuantizedMultiplier> multipliers;  // 1 (per tensor) or output_channels
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  int64_t filter_input_channels() const { return geometry.input_channels / groups; }
  int64_t filter_size() const {
    return geometry.output_channels * geometry.filter_height * geometry.filter_width * filter_input_channels();
  }
  QuantizedMultiplier multiplier(int64_t oc) const {
    return multipliers.size() == 1 ? multipliers[0] : multipliers[static_cast<std::size_t>(oc)];
  }

  Status validate() const {
    const std::string what = "conv2d";
    PTQ_RETURN_IF_ERROR(geometry.validate(what));
    if (groups < 1) return invalid_argument(what + ": groups = " + std::to_string(groups) + " must be >= 1");
    if (geometry.input_channels % groups != 0) {
      return invalid_argument(what + ": groups = " + std::to_string(groups) + " does not divide input_channels = " +
                              std::to_string(geometry.input_channels));
    }
    if (geometry.output_channels % groups != 0) {
      return invalid_argument(what + ": groups = " + std::to_string(groups) +
                              " does not divide output_channels = " + std::to_string(geometry.output_channels));
    }
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "input_zero_point", input_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "output_zero_point", output_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_multipliers(what, multipliers, geometry.output_channels, rounding));
    return reference::detail::check_activation_range<int8_t>(what, activation_min, activation_max);
  }
};

// TFLite's PopulateConvolutionQuantizationParams for int8 (also used by depthwise): one real
// multiplier per weight scale, double(in_scale) * double(w_scale[c]) / double(out_scale), through
// quantize_multiplier. A single weight scale gives a single (per-tensor) multiplier.
inline std::vector<QuantizedMultiplier> convolution_multipliers(float input_scale,
                                                                const std::vector<float>& weight_scales,
                                                                float output_scale,
                                                                RoundingMode rounding = kDefaultRounding) {
  std::vector<QuantizedMultiplier> out;
  out.reserve(weight_scales.size());
  for (float w : weight_scales) {
    out.push_back(quantize_multiplier(
        static_cast<double>(input_scale) * static_cast<double>(w) / static_cast<double>(output_scale), rounding));
  }
  return out;
}

namespace reference {

// The input index of tap (fy, fx) for output pixel (oy, ox), or false when it falls outside the image.
inline bool conv_tap(const ConvGeometry& g, int64_t oy, int64_t ox, int64_t fy, int64_t fx, int64_t* iy,
                     int64_t* ix) {
  *iy = oy * g.stride_height - g.pad_top + g.dilation_height * fy;
  *ix = ox * g.stride_width - g.pad_left + g.dilation_width * fx;
  return *iy >= 0 && *iy < g.input_height && *ix >= 0 && *ix < g.input_width;
}

// reference_integer_ops::ConvPerChannel (int8, grouped). input [N, H, W, C], weights
// [OC, KH, KW, C / groups], bias [OC] or null, output [N, OH, OW, OC].
// Preconditions: p.validate() is ok; buffers hold the sizes above.
inline void conv2d(const Conv2DParams& p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                   int8_t* output) {
  PTQ_DCHECK(!p.multipliers.empty() && p.groups >= 1, "conv2d: invalid params (call validate())");
  const ConvGeometry& g = p.geometry;
  const int64_t fic = p.filter_input_channels();
  const int64_t filters_per_group = g.output_channels / p.groups;
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t oc = 0; oc < g.output_channels; ++oc) {
          const int64_t group = oc / filters_per_group;
          int32_t acc = 0;
          for (int64_t fy = 0; fy < g.filter_height; ++fy) {
            for (int64_t fx = 0; fx < g.filter_width; ++fx) {
              int64_t iy, ix;
              if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
              const int8_t* x = input + ((b * g.input_height + iy) * g.input_width + ix) * g.input_channels +
                                group * fic;
              const int8_t* w = weights + ((oc * g.filter_height + fy) * g.filter_width + fx) * fic;
              for (int64_t ic = 0; ic < fic; ++ic) {
                acc = wrapping_mac(acc, w[ic], static_cast<int32_t>(x[ic]) - p.input_zero_point);
              }
            }
          }
          if (bias != nullptr) acc = wrapping_add(acc, bias[oc]);
          output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
              static_cast<int8_t>(quantized_output_stage(acc, p.multiplier(oc), p.rounding, p.output_zero_point,
                                                         p.activation_min, p.activation_max));
        }
      }
    }
  }
}

// ---- float32 ----------------------------------------------------------------------------------
// reference_ops::Conv (float): per output, the sum over taps in [fy][fx][ic] order (float
// additions in that order), then + bias, then the fused activation as
// ActivationFunctionWithMinMax. Taps outside the image are skipped.
}  // namespace reference

struct FloatConv2DParams {
  ConvGeometry geometry;
  int64_t groups = 1;
  FusedActivation activation = FusedActivation::kNone;
};

namespace reference {

inline void conv2d(const FloatConv2DParams& p, const float* input, const float* weights, const float* bias,
                   float* output) {
  const ConvGeometry& g = p.geometry;
  const FloatActivationRange range = calculate_activation_range(p.activation);
  const int64_t fic = g.input_channels / p.groups, ocg = g.output_channels / p.groups;
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t oc = 0; oc < g.output_channels; ++oc) {
          const int64_t group = oc / ocg;
          float total = 0.0f;
          for (int64_t fy = 0; fy < g.filter_height; ++fy) {
            for (int64_t fx = 0; fx < g.filter_width; ++fx) {
              int64_t iy, ix;
              if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
              const float* x = input + ((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + group * fic;
              const float* w = weights + ((oc * g.filter_height + fy) * g.filter_width + fx) * fic;
              for (int64_t ic = 0; ic < fic; ++ic) total += x[ic] * w[ic];
            }
          }
          const float bias_value = bias != nullptr ? bias[oc] : 0.0f;
          output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
              activation_with_min_max(total + bias_value, range.min, range.max);
        }
      }
    }
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
