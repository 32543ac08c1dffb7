// reference/conv_16x8.hpp: TFLite's 16x8 layers -- FullyConnected, Conv2D and DepthwiseConv2D with
// int16 activations (symmetric, zero point 0), int8 weights (symmetric, per channel or per tensor)
// and int64 bias, bit-exact with LiteRT's kernels for these types.
//
// TFLite runs 16x8 layers on its reference kernels in every build (fully_connected.cc, conv.cc and
// depthwise_conv.cc fall back to reference_integer_ops whenever the bias is int64, which is what the
// converter emits), so these scalar loops are the spec and ptq has no SIMD path for them.
//
// Accumulation (all three): acc = bias[oc] + sum over taps of w * x, in int64. |w| <= 127 and
// |x| <= 32768, so a product fits in 23 bits; the prepare checks bound the sum and the bias so that
// |acc| < 2^47, the range TFLite's 64-bit requantization assumes (validate()).
//
// Conv2D (reference_integer_ops::ConvPerChannel, int16 overload with AccumScalar = int64_t) and
// DepthwiseConv2D (reference_integer_ops::DepthwiseConvPerChannel, int16 overload): the loops, layouts
// and padding of the int8 kernels (reference/conv.hpp, reference/depthwise_conv.hpp), then
//   y = clamp(multiply_by_quantized_multiplier_64(acc, M[oc]), act_min, act_max)
// with core/fixed_point.hpp's int64 multiply (tflite::MultiplyByQuantizedMultiplier(int64_t, ...)):
// the Q0.31 mantissa is rounded to 16 bits, ((m + 2^15) >> 16, capped at 0x7FFF), and the product
// rounded once, (acc * m16 + 2^(14 - shift)) >> (15 - shift): ties toward +infinity. M[oc] comes from
// convolution_multipliers (PopulateConvolutionQuantizationParams, as for int8). No output zero point
// (it is 0).
//
// FullyConnected (reference_integer_ops::FullyConnected / FullyConnectedPerChannel, the overloads
// that take the float scales, which LiteRT's fully_connected.cc calls for int16 in every kernel set):
// requantization in double, not through a fixed-point multiplier:
//   e[n] = double(in_scale) * double(w_scale[n]) / double(out_scale)
//   y = clamp(int32(std::round(double(acc) * e[n])), act_min, act_max)   (ties away from zero)
// (acc is exact as a double; the product is rounded once in double. ptq saturates the int32 conversion
// where TFLite's static_cast would be undefined.) The per-tensor kernel applies the weights' zero
// point; ptq requires it to be 0 as for int8 layers.
//
// act_min / act_max: calculate_activation_range_quantized<int16_t> with the output's parameters
// (relu: [0, 32767], relu6: [0, min(32767, round(6 / s_out))], none: [-32768, 32767]).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/conv.hpp"

PTQ_NAMESPACE_BEGIN

namespace reference {
namespace detail {

// Taps per output (K) and bias magnitudes such that |acc| < 2^47: |sum| <= K * 127 * 32768 < 2^46
// and |bias| < 2^46.
inline Status check_accumulator_bound_16x8(const std::string& what, int64_t taps_per_output, const int64_t* bias,
                                           int64_t channels) {
  const int64_t max_taps = (int64_t{1} << 46) / (127 * 32768);
  if (taps_per_output > max_taps) {
    return invalid_argument(what + ": " + std::to_string(taps_per_output) + " taps per output; at most " +
                            std::to_string(max_taps) + " keep the int64 accumulator below 2^47");
  }
  if (bias != nullptr) {
    for (int64_t c = 0; c < channels; ++c) {
      if (bias[c] <= -(int64_t{1} << 46) || bias[c] >= (int64_t{1} << 46)) {
        return invalid_argument(what + ": bias[" + std::to_string(c) + "] = " + std::to_string(bias[c]) +
                                " is outside (-2^46, 2^46)");
      }
    }
  }
  return {};
}

// A multiplier the int64 multiply accepts: mantissa >= 0, shift in [-31, 7] (TFLite's assertion).
inline Status check_multipliers_16x8(const std::string& what, const std::vector<QuantizedMultiplier>& ms,
                                     int64_t channels) {
  if (ms.size() != 1 && static_cast<int64_t>(ms.size()) != channels) {
    return invalid_argument(what + ": multipliers has " + std::to_string(ms.size()) + " entries; expected 1 or " +
                            std::to_string(channels));
  }
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (ms[i].multiplier < 0 || ms[i].shift < -31 || ms[i].shift > 7) {
      return invalid_argument(what + ": multipliers[" + std::to_string(i) + "] = (" + std::to_string(ms[i].multiplier) +
                              ", shift " + std::to_string(ms[i].shift) +
                              ") is outside what the 64-bit requantization takes (mantissa >= 0, shift in [-31, 7])");
    }
  }
  return {};
}

inline int16_t clamp_to_int16_range(int32_t v, int32_t lo, int32_t hi) {
  return static_cast<int16_t>(std::min(std::max(v, lo), hi));
}

}  // namespace detail
}  // namespace reference

// ---- fully connected ----------------------------------------------------------------------------

struct FullyConnected16x8Params {
  int64_t batches = 1;       // rows of input and output
  int64_t input_depth = 0;   // K
  int64_t output_depth = 0;  // N (units)
  // 1 (per tensor) or output_depth effective scales in_scale * w_scale[n] / out_scale, in double.
  std::vector<double> effective_scales;
  int32_t activation_min = -32768;
  int32_t activation_max = 32767;

  double effective_scale(int64_t n) const {
    return effective_scales.size() == 1 ? effective_scales[0] : effective_scales[static_cast<std::size_t>(n)];
  }

  // Shapes, scales (finite, positive), clamp, and the accumulator bound for this bias (or null).
  Status validate(const int64_t* bias) const {
    const std::string what = "fully_connected_16x8";
    if (batches < 0 || input_depth < 0 || output_depth < 0) {
      return invalid_argument(what + ": batches, input_depth and output_depth must be >= 0 (got " +
                              std::to_string(batches) + ", " + std::to_string(input_depth) + ", " +
                              std::to_string(output_depth) + ")");
    }
    if (effective_scales.size() != 1 && static_cast<int64_t>(effective_scales.size()) != output_depth) {
      return invalid_argument(what + ": effective_scales has " + std::to_string(effective_scales.size()) +
                              " entries; expected 1 or " + std::to_string(output_depth));
    }
    for (std::size_t i = 0; i < effective_scales.size(); ++i) {
      if (!std::isfinite(effective_scales[i]) || !(effective_scales[i] > 0.0)) {
        return invalid_argument(what + ": effective_scales[" + std::to_string(i) + "] = " +
                                std::to_string(effective_scales[i]) + " is not finite and positive");
      }
    }
    PTQ_RETURN_IF_ERROR(reference::detail::check_activation_range<int16_t>(what, activation_min, activation_max));
    return reference::detail::check_accumulator_bound_16x8(what, input_depth, bias, output_depth);
  }
};

// LiteRT's fully_connected.cc per-channel (and per-tensor) 16x8 scale: double(in) * double(w) / double(out).
inline std::vector<double> fully_connected_16x8_scales(float input_scale, const std::vector<float>& weight_scales,
                                                       float output_scale) {
  std::vector<double> out;
  out.reserve(weight_scales.size());
  for (float w : weight_scales) {
    out.push_back(static_cast<double>(input_scale) * static_cast<double>(w) / static_cast<double>(output_scale));
  }
  return out;
}

namespace reference {

// round(acc * scale) to int32, saturating where TFLite's conversion would be undefined.
inline int32_t requantize_in_double(int64_t acc, double scale) {
  const double r = std::round(static_cast<double>(acc) * scale);
  if (!(r > -2147483648.0)) return std::numeric_limits<int32_t>::min();
  if (r >= 2147483647.0) return std::numeric_limits<int32_t>::max();
  return static_cast<int32_t>(r);
}

// int64 accumulator of one 16x8 dot product: sum_k w[k] * x[k] (+ bias).
inline int64_t dot_16x8(const int16_t* x, const int8_t* w, int64_t depth) {
  int64_t acc = 0;
  for (int64_t k = 0; k < depth; ++k) acc += static_cast<int64_t>(w[k]) * static_cast<int64_t>(x[k]);
  return acc;
}

// input [batches, K] int16, weights [N, K] int8, bias [N] int64 or null, output [batches, N] int16.
// Preconditions: p.validate(bias) is ok; buffers hold these sizes.
inline void fully_connected_16x8(const FullyConnected16x8Params& p, const int16_t* input, const int8_t* weights,
                                 const int64_t* bias, int16_t* output) {
  PTQ_DCHECK(!p.effective_scales.empty(), "fully_connected_16x8: no scales (call validate())");
  for (int64_t b = 0; b < p.batches; ++b) {
    for (int64_t n = 0; n < p.output_depth; ++n) {
      int64_t acc = dot_16x8(input + b * p.input_depth, weights + n * p.input_depth, p.input_depth);
      if (bias != nullptr) acc += bias[n];
      output[b * p.output_depth + n] = detail::clamp_to_int16_range(requantize_in_double(acc, p.effective_scale(n)),
                                                                    p.activation_min, p.activation_max);
    }
  }
}

}  // namespace reference

// ---- convolution --------------------------------------------------------------------------------

struct Conv2D16x8Params {
  ConvGeometry geometry;
  int64_t groups = 1;
  std::vector<QuantizedMultiplier> multipliers;  // 1 or output_channels
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -32768;
  int32_t activation_max = 32767;

  int64_t filter_input_channels() const { return geometry.input_channels / groups; }
  QuantizedMultiplier multiplier(int64_t oc) const {
    return multipliers.size() == 1 ? multipliers[0] : multipliers[static_cast<std::size_t>(oc)];
  }

  Status validate(const int64_t* bias) const {
    const std::string what = "conv2d_16x8";
    PTQ_RETURN_IF_ERROR(geometry.validate(what));
    if (groups < 1 || geometry.input_channels % groups != 0 || geometry.output_channels % groups != 0) {
      return invalid_argument(what + ": groups = " + std::to_string(groups) + " must divide input_channels = " +
                              std::to_string(geometry.input_channels) + " and output_channels = " +
                              std::to_string(geometry.output_channels));
    }
    PTQ_RETURN_IF_ERROR(reference::detail::check_multipliers_16x8(what, multipliers, geometry.output_channels));
    PTQ_RETURN_IF_ERROR(reference::detail::check_activation_range<int16_t>(what, activation_min, activation_max));
    return reference::detail::check_accumulator_bound_16x8(
        what, geometry.filter_height * geometry.filter_width * filter_input_channels(), bias, geometry.output_channels);
  }
};

struct DepthwiseConv2D16x8Params {
  ConvGeometry geometry;
  int64_t depth_multiplier = 1;
  std::vector<QuantizedMultiplier> multipliers;  // 1 or output_channels
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -32768;
  int32_t activation_max = 32767;

  QuantizedMultiplier multiplier(int64_t oc) const {
    return multipliers.size() == 1 ? multipliers[0] : multipliers[static_cast<std::size_t>(oc)];
  }

  Status validate(const int64_t* bias) const {
    const std::string what = "depthwise_conv2d_16x8";
    PTQ_RETURN_IF_ERROR(geometry.validate(what));
    if (depth_multiplier < 1 || geometry.output_channels != geometry.input_channels * depth_multiplier) {
      return invalid_argument(what + ": output_channels = " + std::to_string(geometry.output_channels) +
                              " is not input_channels * depth_multiplier = " +
                              std::to_string(geometry.input_channels) + " * " + std::to_string(depth_multiplier));
    }
    PTQ_RETURN_IF_ERROR(reference::detail::check_multipliers_16x8(what, multipliers, geometry.output_channels));
    PTQ_RETURN_IF_ERROR(reference::detail::check_activation_range<int16_t>(what, activation_min, activation_max));
    return reference::detail::check_accumulator_bound_16x8(what, geometry.filter_height * geometry.filter_width,
                                                           bias, geometry.output_channels);
  }
};

namespace reference {

// The 16x8 output stage of conv and depthwise: int64 multiply (one rounding), then the clamp.
inline int16_t output_stage_16x8(int64_t acc, QuantizedMultiplier m, RoundingMode rounding, int32_t act_min,
                                 int32_t act_max) {
  return detail::clamp_to_int16_range(multiply_by_quantized_multiplier_64(acc, m.multiplier, m.shift, rounding),
                                      act_min, act_max);
}

// input [N, H, W, C] int16, weights [OC, KH, KW, C / groups] int8, bias [OC] int64 or null,
// output [N, OH, OW, OC] int16. Preconditions: p.validate(bias) is ok.
inline void conv2d_16x8(const Conv2D16x8Params& p, const int16_t* input, const int8_t* weights, const int64_t* bias,
                        int16_t* output) {
  PTQ_DCHECK(!p.multipliers.empty() && p.groups >= 1, "conv2d_16x8: invalid params (call validate())");
  const ConvGeometry& g = p.geometry;
  const int64_t fic = p.filter_input_channels();
  const int64_t filters_per_group = g.output_channels / p.groups;
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t oc = 0; oc < g.output_channels; ++oc) {
          const int64_t group = oc / filters_per_group;
          int64_t acc = 0;
          for (int64_t fy = 0; fy < g.filter_height; ++fy) {
            for (int64_t fx = 0; fx < g.filter_width; ++fx) {
              int64_t iy, ix;
              if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
              acc += dot_16x8(input + ((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + group * fic,
                              weights + ((oc * g.filter_height + fy) * g.filter_width + fx) * fic, fic);
            }
          }
          if (bias != nullptr) acc += bias[oc];
          output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
              output_stage_16x8(acc, p.multiplier(oc), p.rounding, p.activation_min, p.activation_max);
        }
      }
    }
  }
}

// input [N, H, W, C] int16, weights [1, KH, KW, C * dm] int8, bias [C * dm] int64 or null,
// output [N, OH, OW, C * dm] int16. Preconditions: p.validate(bias) is ok.
inline void depthwise_conv2d_16x8(const DepthwiseConv2D16x8Params& p, const int16_t* input, const int8_t* weights,
                                  const int64_t* bias, int16_t* output) {
  PTQ_DCHECK(!p.multipliers.empty() && p.depth_multiplier >= 1, "depthwise_conv2d_16x8: invalid params");
  const ConvGeometry& g = p.geometry;
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t ic = 0; ic < g.input_channels; ++ic) {
          for (int64_t m = 0; m < p.depth_multiplier; ++m) {
            const int64_t oc = ic * p.depth_multiplier + m;
            int64_t acc = 0;
            for (int64_t fy = 0; fy < g.filter_height; ++fy) {
              for (int64_t fx = 0; fx < g.filter_width; ++fx) {
                int64_t iy, ix;
                if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
                acc += static_cast<int64_t>(weights[(fy * g.filter_width + fx) * g.output_channels + oc]) *
                       input[((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + ic];
              }
            }
            if (bias != nullptr) acc += bias[oc];
            output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
                output_stage_16x8(acc, p.multiplier(oc), p.rounding, p.activation_min, p.activation_max);
          }
        }
      }
    }
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
