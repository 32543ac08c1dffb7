// reference/depthwise_conv.hpp: int8 depthwise 2-D convolution, NHWC, per-channel weights, any
// depth multiplier -- the oracle for ptq's direct depthwise kernels.
//
// TFLite: reference_integer_ops::DepthwiseConvPerChannel. Input channel ic feeds the
// depth_multiplier output channels oc = ic * depth_multiplier + m (m < depth_multiplier). For batch
// b, output pixel (oy, ox) and such an oc, with y0 = oy * stride_h - pad_top, x0 = ox * stride_w -
// pad_left:
//
//   acc = sum over fy < filter_h, fx < filter_w, with iy = y0 + dilation_h * fy,
//             ix = x0 + dilation_w * fx inside the image:
//           w[0][fy][fx][oc] * (x[b][iy][ix][ic] - x_zp)
//         (+ bias[oc])                                            int32, wrapping (activation.hpp)
//   y[b][oy][ox][oc] = clamp(multiply_by_quantized_multiplier(acc, M[oc]) + y_zp, act_min, act_max)
//
//   - Layouts: input [batches, in_h, in_w, in_c], weights [1, filter_h, filter_w, out_c] with
//     out_c = in_c * depth_multiplier, output [batches, out_h, out_w, out_c].
//   - It is the grouped convolution of conv.hpp with groups = in_c and out_c / in_c filters per
//     group, with the weights stored channel-last; the tests hold the two to each other.
//   - Taps outside the image are skipped (= padding with the input zero point, weights being
//     symmetric). M[oc]: multipliers[0] for all (per tensor) or multipliers[oc] (per channel).
//   - Multipliers: convolution_multipliers (conv.hpp), as TFLite's depthwise Prepare uses
//     PopulateConvolutionQuantizationParams too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/conv.hpp"

PTQ_NAMESPACE_BEGIN

// Everything an int8 depthwise convolution needs besides its tensors, prepared once.
// geometry.output_channels must equal geometry.input_channels * depth_multiplier.
struct DepthwiseConv2DParams {
  ConvGeometry geometry;
  int64_t depth_multiplier = 1;

  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  std::vector<QuantizedMultiplier> multipliers;  // 1 (per tensor) or output_channels
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  int64_t filter_size() const { return geometry.filter_height * geometry.filter_width * geometry.output_channels; }
  QuantizedMultiplier multiplier(int64_t oc) const {
    return multipliers.size() == 1 ? multipliers[0] : multipliers[static_cast<std::size_t>(oc)];
  }

  Status validate() const {
    const std::string what = "depthwise_conv2d";
    PTQ_RETURN_IF_ERROR(geometry.validate(what));
    if (depth_multiplier < 1) {
      return invalid_argument(what + ": depth_multiplier = " + std::to_string(depth_multiplier) + " must be >= 1");
    }
    if (geometry.output_channels != geometry.input_channels * depth_multiplier) {
      return invalid_argument(what + ": output_channels = " + std::to_string(geometry.output_channels) +
                              " is not input_channels * depth_multiplier = " +
                              std::to_string(geometry.input_channels) + " * " + std::to_string(depth_multiplier));
    }
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "input_zero_point", input_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "output_zero_point", output_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_multipliers(what, multipliers, geometry.output_channels, rounding));
    return reference::detail::check_activation_range<int8_t>(what, activation_min, activation_max);
  }
};

namespace reference {

// reference_integer_ops::DepthwiseConvPerChannel (int8). input [N, H, W, C], weights
// [1, KH, KW, C * depth_multiplier], bias [C * depth_multiplier] or null, output
// [N, OH, OW, C * depth_multiplier]. Preconditions: p.validate() is ok; buffers hold these sizes.
inline void depthwise_conv2d(const DepthwiseConv2DParams& p, const int8_t* input, const int8_t* weights,
                             const int32_t* bias, int8_t* output) {
  PTQ_DCHECK(!p.multipliers.empty() && p.depth_multiplier >= 1,
             "depthwise_conv2d: invalid params (call validate())");
  const ConvGeometry& g = p.geometry;
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t ic = 0; ic < g.input_channels; ++ic) {
          for (int64_t m = 0; m < p.depth_multiplier; ++m) {
            const int64_t oc = ic * p.depth_multiplier + m;
            int32_t acc = 0;
            for (int64_t fy = 0; fy < g.filter_height; ++fy) {
              for (int64_t fx = 0; fx < g.filter_width; ++fx) {
                int64_t iy, ix;
                if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
                const int32_t x = input[((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + ic];
                const int32_t w = weights[(fy * g.filter_width + fx) * g.output_channels + oc];
                acc = wrapping_mac(acc, w, x - p.input_zero_point);
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
}

// ---- float32 ----------------------------------------------------------------------------------
// reference_ops::DepthwiseConv (float): output channel oc = ic * depth_multiplier + m reads input
// channel ic; the sum over taps in [fy][fx] order, + bias, then ActivationFunctionWithMinMax.
}  // namespace reference

struct FloatDepthwiseConv2DParams {
  ConvGeometry geometry;
  int64_t depth_multiplier = 1;
  FusedActivation activation = FusedActivation::kNone;
};

namespace reference {

inline void depthwise_conv2d(const FloatDepthwiseConv2DParams& p, const float* input, const float* weights,
                             const float* bias, float* output) {
  const ConvGeometry& g = p.geometry;
  const FloatActivationRange range = calculate_activation_range(p.activation);
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t oc = 0; oc < g.output_channels; ++oc) {
          const int64_t ic = oc / p.depth_multiplier;
          float total = 0.0f;
          for (int64_t fy = 0; fy < g.filter_height; ++fy) {
            for (int64_t fx = 0; fx < g.filter_width; ++fx) {
              int64_t iy, ix;
              if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
              total += input[((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + ic] *
                       weights[(fy * g.filter_width + fx) * g.output_channels + oc];
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
