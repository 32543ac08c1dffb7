// reference/fully_connected.hpp: quantized fully connected (int8, legacy uint8, int32 accumulators),
// the oracle every GEMM path in ptq is tested against bit for bit.
//
// TFLite: reference_integer_ops::FullyConnected (int8, per tensor), reference_integer_ops::
// FullyConnectedPerChannel (int8, per channel) and reference_ops::FullyConnected (uint8). For every
// row b of the input and output unit n:
//
//   acc[b][n] = bias[n] + sum_k (w[n][k] - w_zp) * (x[b][k] - x_zp)     int32, wrapping (see below)
//   y[b][n]   = clamp(multiply_by_quantized_multiplier(acc[b][n], M[n]) + y_zp, act_min, act_max)
//
//   - Layouts: input [batches, input_depth], weights [output_depth, input_depth] (TFLite's filter
//     layout, one row per unit), output [batches, output_depth], all row-major. `batches` is any
//     count: TFLite flattens the leading dims, and a batch matmul with a constant right-hand side is
//     the same loop.
//   - TFLite writes the products as (w + weights_offset) * (x + input_offset) with the offsets being
//     the negated zero points; the integers are the same.
//   - M[n] is multipliers[0] for every n (per tensor) or multipliers[n] (per channel). TFLite's
//     per-channel kernel has no weights offset (symmetric weights by spec), so per-channel
//     parameters require w_zp == 0; the per-tensor kernels apply w_zp (the uint8 path needs it; the
//     int8 path keeps it for backward compatibility, as TFLite does).
//   - bias may be null (acc starts at 0). Its addition comes after the dot product, like TFLite's.
//   - Accumulation wraps modulo 2^32 on overflow (see activation.hpp); TFLite relies on the sum
//     staying inside int32 (input_depth * 255 * 255 < 2^31 is always enough), as every model does.
//   - Multiplication and rounding: multiply_by_quantized_multiplier in the params' RoundingMode
//     (core/fixed_point.hpp); y_zp added and the clamp applied as in activation.hpp's
//     quantized_output_stage.
//   - fully_connected_accumulators stops at acc: what a GEMM microkernel hands its output stage.
//
// Two TFLite requantizations (FcRequantization below). LiteRT's optimized kernels and TFLite Micro's
// reference use the fixed-point multiplier above (kFixedPoint, ptq's default). LiteRT's reference
// kernels (kernel_type kReference, the BUILTIN_REF resolver) requantize int8 FULLY_CONNECTED in
// double instead (reference_integer_ops::FullyConnected/FullyConnectedPerChannel overloads taking
// float scales): y = clamp(round(acc * s[n]) + y_zp), s[n] = double(in_scale) * double(w_scale[n]) /
// double(out_scale), std::round (ties away from zero). The two differ by 1 in a few outputs in a
// thousand (ties and the multiplier's 31-bit mantissa); fully_connected_double_scale is that form.
//
// Multipliers come from the tensors' scales as in TFLite's fully_connected.cc Prepare
// (fully_connected_multipliers below).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN

// How an int8 fully connected layer turns its int32 accumulators into int8 (see the header).
enum class FcRequantization {
  kFixedPoint,   // multiply_by_quantized_multiplier: LiteRT's optimized kernels, TFLite Micro (default)
  kDoubleScale,  // round(acc * in_scale * w_scale / out_scale) in double: LiteRT's reference kernels
};

// Everything a quantized fully connected layer needs besides its tensors, prepared once.
struct FullyConnectedParams {
  int64_t batches = 1;       // rows of input and output
  int64_t input_depth = 0;   // K: length of an input row and of a weight row
  int64_t output_depth = 0;  // N: weight rows = output columns ("units")

  int32_t input_zero_point = 0;
  int32_t weights_zero_point = 0;  // per-tensor only; must be 0 with per-channel multipliers
  int32_t output_zero_point = 0;

  // One multiplier (per tensor) or output_depth multipliers (per channel): in_scale * w_scale[n] /
  // out_scale as (Q0.31 mantissa, shift) pairs.
  std::vector<QuantizedMultiplier> multipliers;
  RoundingMode rounding = kDefaultRounding;

  // The fused activation's clamp, inclusive (calculate_activation_range_quantized). The defaults are
  // int8's full range; set them for uint8.
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  QuantizedMultiplier multiplier(int64_t n) const {
    return multipliers.size() == 1 ? multipliers[0] : multipliers[static_cast<std::size_t>(n)];
  }

  // Everything fully_connected<T> assumes, T being the activation and weight type (int8_t, or
  // uint8_t for the legacy path). The message names the field.
  template <class T = int8_t>
  Status validate() const;

  // What fully_connected_accumulators<T> assumes: shapes and the input-side zero points only.
  template <class T = int8_t>
  Status validate_accumulators() const;
};

template <class T>
Status FullyConnectedParams::validate_accumulators() const {
  static_assert(std::is_same<T, int8_t>::value || std::is_same<T, uint8_t>::value,
                "fully connected reference: T is int8_t or uint8_t");
  const std::string what = "fully_connected";
  if (batches < 0) return invalid_argument(what + ": batches = " + std::to_string(batches) + " is negative");
  if (input_depth < 0)
    return invalid_argument(what + ": input_depth = " + std::to_string(input_depth) + " is negative");
  if (output_depth < 0)
    return invalid_argument(what + ": output_depth = " + std::to_string(output_depth) + " is negative");
  PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "input_zero_point", input_zero_point,
                                                        quant_min<T>(), quant_max<T>()));
  PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "weights_zero_point", weights_zero_point,
                                                        quant_min<T>(), quant_max<T>()));
  return {};
}

template <class T>
Status FullyConnectedParams::validate() const {
  PTQ_RETURN_IF_ERROR(validate_accumulators<T>());
  const std::string what = "fully_connected";
  PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "output_zero_point", output_zero_point,
                                                        quant_min<T>(), quant_max<T>()));
  PTQ_RETURN_IF_ERROR(reference::detail::check_multipliers(what, multipliers, output_depth, rounding));
  if (multipliers.size() > 1 && weights_zero_point != 0) {
    return invalid_argument(what + ": weights_zero_point = " + std::to_string(weights_zero_point) +
                            " with per-channel multipliers; per-channel weights are symmetric "
                            "(zero point 0)");
  }
  return reference::detail::check_activation_range<T>(what, activation_min, activation_max);
}

// TFLite's fully_connected.cc Prepare: per-tensor weights (one scale) use
// GetQuantizedConvolutionMultipler, double(float(in_scale * w_scale)) / double(out_scale) -- the
// product is rounded to float first; per-channel weights use double(in_scale) * double(w_scale[n]) /
// double(out_scale). Each real multiplier then goes through quantize_multiplier.
inline std::vector<QuantizedMultiplier> fully_connected_multipliers(
    float input_scale, const std::vector<float>& weight_scales, float output_scale,
    RoundingMode rounding = kDefaultRounding) {
  std::vector<QuantizedMultiplier> out;
  out.reserve(weight_scales.size());
  if (weight_scales.size() == 1) {
    const float product = input_scale * weight_scales[0];
    out.push_back(quantize_multiplier(
        static_cast<double>(product) / static_cast<double>(output_scale), rounding));
    return out;
  }
  for (float w : weight_scales) {
    out.push_back(quantize_multiplier(static_cast<double>(input_scale) * static_cast<double>(w) /
                                          static_cast<double>(output_scale),
                                      rounding));
  }
  return out;
}

namespace reference {

// acc[b][n] for one (b, n): bias (or 0) + sum_k (w[k] - w_zp) * (x[k] - x_zp), int32 wrapping.
// The dot product is summed first and the bias added last, in TFLite's order (which only matters
// for where a wrap happens, not for the result modulo 2^32).
template <class T>
inline int32_t fully_connected_dot(const T* x_row, const T* w_row, int64_t depth, int32_t x_zp,
                                   int32_t w_zp, const int32_t* bias, int64_t n) {
  int32_t acc = 0;
  for (int64_t k = 0; k < depth; ++k) {
    acc = wrapping_mac(acc, static_cast<int32_t>(w_row[k]) - w_zp, static_cast<int32_t>(x_row[k]) - x_zp);
  }
  if (bias != nullptr) acc = wrapping_add(acc, bias[n]);
  return acc;
}

// reference_integer_ops::FullyConnected / FullyConnectedPerChannel (T = int8_t) and
// reference_ops::FullyConnected (T = uint8_t). input [batches, K], weights [N, K], bias [N] or null,
// output [batches, N]. Preconditions: p.validate<T>() is ok; buffers hold the sizes above.
template <class T>
void fully_connected(const FullyConnectedParams& p, const T* input, const T* weights,
                     const int32_t* bias, T* output) {
  static_assert(std::is_same<T, int8_t>::value || std::is_same<T, uint8_t>::value,
                "fully connected reference: T is int8_t or uint8_t");
  PTQ_DCHECK(!p.multipliers.empty(), "fully_connected: no multipliers (call validate())");
  PTQ_DCHECK(p.activation_min <= p.activation_max, "fully_connected: empty activation range");
  for (int64_t b = 0; b < p.batches; ++b) {
    const T* x_row = input + b * p.input_depth;
    for (int64_t n = 0; n < p.output_depth; ++n) {
      const int32_t acc = fully_connected_dot(x_row, weights + n * p.input_depth, p.input_depth,
                                              p.input_zero_point, p.weights_zero_point, bias, n);
      output[b * p.output_depth + n] = static_cast<T>(quantized_output_stage(
          acc, p.multiplier(n), p.rounding, p.output_zero_point, p.activation_min, p.activation_max));
    }
  }
}

// The same loops stopped before requantization: acc[b][n] (bias included) into an int32
// [batches, N] buffer. Preconditions: p.validate_accumulators<T>() is ok.
template <class T>
void fully_connected_accumulators(const FullyConnectedParams& p, const T* input, const T* weights,
                                  const int32_t* bias, int32_t* accumulators) {
  static_assert(std::is_same<T, int8_t>::value || std::is_same<T, uint8_t>::value,
                "fully connected reference: T is int8_t or uint8_t");
  for (int64_t b = 0; b < p.batches; ++b) {
    const T* x_row = input + b * p.input_depth;
    for (int64_t n = 0; n < p.output_depth; ++n) {
      accumulators[b * p.output_depth + n] =
          fully_connected_dot(x_row, weights + n * p.input_depth, p.input_depth, p.input_zero_point,
                              p.weights_zero_point, bias, n);
    }
  }
}

// LiteRT's reference requantization of one accumulator: clamp(round(acc * scale) + zp, lo, hi), the
// rounding half away from zero (std::round). The product saturates to int32 before the cast (TFLite
// casts directly, undefined for |acc * scale| >= 2^31; no real model gets there).
inline int32_t requantize_double_scale(int32_t acc, double scale, int32_t zero_point, int32_t lo, int32_t hi) {
  const double r = std::round(static_cast<double>(acc) * scale);
  const double limited = std::min(std::max(r, -2147483648.0), 2147483647.0);
  const int64_t y = static_cast<int64_t>(limited) + zero_point;
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(y, lo), hi));
}

// The effective scales s[n] = in_scale * w_scale[n] / out_scale in double, one per weight scale.
inline std::vector<double> double_scales(float input_scale, const std::vector<float>& weight_scales, float output_scale) {
  std::vector<double> s(weight_scales.size());
  for (std::size_t n = 0; n < s.size(); ++n) {
    s[n] = static_cast<double>(input_scale) * static_cast<double>(weight_scales[n]) / static_cast<double>(output_scale);
  }
  return s;
}

// int8 fully connected requantized as LiteRT's reference kernels do (see the header): the
// accumulators of fully_connected_accumulators<int8_t>, then requantize_double_scale with scales[0]
// (per tensor) or scales[n] (per channel). p.multipliers and p.rounding are not used.
inline void fully_connected_double_scale(const FullyConnectedParams& p, const std::vector<double>& scales,
                                         const int8_t* input, const int8_t* weights, const int32_t* bias,
                                         int8_t* output) {
  PTQ_DCHECK(!scales.empty(), "fully_connected_double_scale: no scales");
  for (int64_t b = 0; b < p.batches; ++b) {
    const int8_t* x_row = input + b * p.input_depth;
    for (int64_t n = 0; n < p.output_depth; ++n) {
      const int32_t acc = fully_connected_dot(x_row, weights + n * p.input_depth, p.input_depth,
                                              p.input_zero_point, p.weights_zero_point, bias, n);
      const double s = scales[scales.size() == 1 ? 0 : static_cast<std::size_t>(n)];
      output[b * p.output_depth + n] = static_cast<int8_t>(
          requantize_double_scale(acc, s, p.output_zero_point, p.activation_min, p.activation_max));
    }
  }
}

// ---- float32 ----------------------------------------------------------------------------------
// reference_ops::FullyConnected (float): out[b][n] = act(sum_k x[b][k] * w[n][k] + bias[n]), the
// sum in k order, the activation as ActivationFunctionWithMinMax.
}  // namespace reference

struct FloatFullyConnectedParams {
  int64_t batches = 1, input_depth = 0, output_depth = 0;
  FusedActivation activation = FusedActivation::kNone;
};

namespace reference {

inline void fully_connected(const FloatFullyConnectedParams& p, const float* input, const float* weights,
                            const float* bias, float* output) {
  const FloatActivationRange range = calculate_activation_range(p.activation);
  for (int64_t b = 0; b < p.batches; ++b) {
    const float* x = input + b * p.input_depth;
    for (int64_t n = 0; n < p.output_depth; ++n) {
      const float* w = weights + n * p.input_depth;
      float total = 0.0f;
      for (int64_t k = 0; k < p.input_depth; ++k) total += x[k] * w[k];
      const float bias_value = bias != nullptr ? bias[n] : 0.0f;
      output[b * p.output_depth + n] = activation_with_min_max(total + bias_value, range.min, range.max);
    }
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
