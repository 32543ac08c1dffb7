// reference/quantize.hpp: the spec's quantize, dequantize and requantize, scalar and readable.
//
// This is the normative implementation: every SIMD variant in kernels/ equals it bit for bit,
// and the tests hold them to that. It follows TFLite's reference kernels
// (kernels/internal/reference/quantize.h, dequantize.h, requantize.h):
//
//   quantize:    q = clamp(round(x / scale) + zero_point, qmin, qmax)
//                  x / scale is a float division (not a multiplication by 1/scale) and round() sends
//                  ties away from zero (TfLiteRound = std::round). ONNX's QuantizeLinear rounds ties
//                  to even: the two disagree on exact halves, and ptq follows TFLite.
//                  Defined where TFLite is undefined: NaN gives the zero point (real 0), +-inf and
//                  values whose int32 conversion would overflow saturate to qmax / qmin. This is done
//                  by clamping in float before converting, which equals clamping after rounding
//                  because the bounds qmin - zp and qmax - zp are integers.
//   dequantize:  x = float(double(scale) * (q - zero_point))
//                  For int8/uint8/int16, q - zp fits in 17 bits, so the double product is exact and
//                  the single float multiply scale * float(q - zp) rounds to the same float; SIMD
//                  paths use the float form. For int32 the product is formed in double, as TFLite.
//   requantize:  y = clamp(multiply_by_quantized_multiplier(x - in_zp, m, shift) + out_zp, omin, omax)
//                  with (m, shift) = quantize_multiplier(in_scale / out_scale), in either rounding
//                  mode. Identity scales between int8 and uint8 with zero points 128 apart reduce to
//                  flipping the top bit, which the formula also yields.
//
// Per-axis versions apply channel c's parameters to the slice at index c of `axis`.
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
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN

// Everything a requantizer needs, prepared once from the two tensors' parameters.
struct RequantizeParams {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier multiplier;  // in_scale / out_scale
  RoundingMode rounding = kDefaultRounding;
};

inline RequantizeParams make_requantize_params(QuantParams in, QuantParams out,
                                               RoundingMode rounding = kDefaultRounding) {
  RequantizeParams r;
  r.input_zero_point = in.zero_point;
  r.output_zero_point = out.zero_point;
  r.multiplier = quantize_multiplier(static_cast<double>(in.scale) / static_cast<double>(out.scale),
                                     rounding);
  r.rounding = rounding;
  return r;
}

// What the requantizers assume: zero points inside their types' ranges, an int32 input zero point
// of 0, and a non-negative multiplier (scales are positive) with a shift the rounding mode accepts.
template <class In, class Out>
Status validate_requantize_params(const RequantizeParams& p, const std::string& what = "requantize") {
  if (p.input_zero_point < quant_min<In>() || p.input_zero_point > quant_max<In>())
    return invalid_argument(what + ": input zero point " + std::to_string(p.input_zero_point) +
                            " is outside the input type's range");
  if (sizeof(In) == 4 && p.input_zero_point != 0)
    return invalid_argument(what + ": int32 input needs zero point 0, got " +
                            std::to_string(p.input_zero_point));
  if (p.output_zero_point < quant_min<Out>() || p.output_zero_point > quant_max<Out>())
    return invalid_argument(what + ": output zero point " + std::to_string(p.output_zero_point) +
                            " is outside the output type's range");
  if (p.multiplier.multiplier < 0)
    return invalid_argument(what + ": negative multiplier " + std::to_string(p.multiplier.multiplier) +
                            " (input and output scales must be positive)");
  const int max_shift = p.rounding == RoundingMode::kSingle ? 30 : 31;
  if (p.multiplier.shift < -31 || p.multiplier.shift > max_shift)
    return invalid_argument(what + ": shift " + std::to_string(p.multiplier.shift) + " outside [-31, " +
                            std::to_string(max_shift) + "]");
  return {};
}

// Per-axis requantize: channel c of the input has its own zero point and multiplier (for example
// int32 accumulators of a per-channel layer); the output is per tensor.
struct PerAxisRequantizeParams {
  int axis = 0;
  std::vector<int32_t> input_zero_points;
  std::vector<QuantizedMultiplier> multipliers;  // in_scale[c] / out_scale
  int32_t output_zero_point = 0;
  RoundingMode rounding = kDefaultRounding;
};

inline PerAxisRequantizeParams make_requantize_params(const PerAxisQuantParams& in, QuantParams out,
                                                      RoundingMode rounding = kDefaultRounding) {
  PerAxisRequantizeParams r;
  r.axis = in.axis;
  r.input_zero_points = in.zero_points;
  r.multipliers.reserve(in.scales.size());
  for (float s : in.scales) {
    r.multipliers.push_back(
        quantize_multiplier(static_cast<double>(s) / static_cast<double>(out.scale), rounding));
  }
  r.output_zero_point = out.zero_point;
  r.rounding = rounding;
  return r;
}

// The per-tensor parameters of channel c.
inline RequantizeParams channel_params(const PerAxisRequantizeParams& p, std::size_t c) {
  return {p.input_zero_points[c], p.output_zero_point, p.multipliers[c], p.rounding};
}

namespace reference {

// One float -> T element, as described above.
template <class T>
inline T quantize_one(float x, float scale, int32_t zero_point) {
  const float lo = static_cast<float>(quant_min<T>() - zero_point);
  const float hi = static_cast<float>(quant_max<T>() - zero_point);
  float v = x / scale;
  if (std::isnan(v)) v = 0.0f;  // NaN input, or 0/0 with a zero scale
  v = std::min(std::max(v, lo), hi);
  return static_cast<T>(static_cast<int32_t>(std::round(v)) + zero_point);
}

template <class T>
void quantize(const float* x, T* q, std::size_t n, QuantParams p) {
  for (std::size_t i = 0; i < n; ++i) q[i] = quantize_one<T>(x[i], p.scale, p.zero_point);
}

template <class T>
inline float dequantize_one(T q, float scale, int32_t zero_point) {
  if constexpr (sizeof(T) <= 2) {
    return scale * static_cast<float>(static_cast<int32_t>(q) - zero_point);
  } else {
    // int32: the difference may not fit in a float mantissa; TFLite forms the product in double.
    // The difference itself is taken in int64 (exact in double), where TFLite's int32 subtraction
    // would overflow for extreme zero points.
    return static_cast<float>(static_cast<double>(scale) *
                              static_cast<double>(static_cast<int64_t>(q) - zero_point));
  }
}

template <class T>
void dequantize(const T* q, float* x, std::size_t n, QuantParams p) {
  for (std::size_t i = 0; i < n; ++i) x[i] = dequantize_one<T>(q[i], p.scale, p.zero_point);
}

template <class Out>
inline Out requantize_one(int32_t x, int32_t input_zero_point, int32_t output_zero_point,
                          QuantizedMultiplier m, RoundingMode rounding) {
  // x - input_zero_point cannot overflow: narrow inputs have narrow zero points, and int32 inputs
  // must have zero point 0 (validate_requantize_params). The output zero point is added in int64
  // so a result near INT32_MAX saturates instead of wrapping (TFLite's int32 sum is undefined there).
  const int32_t centered = x - input_zero_point;
  const int64_t y = static_cast<int64_t>(multiply_by_quantized_multiplier(centered, m, rounding)) +
                    output_zero_point;
  const int64_t lo = quant_min<Out>(), hi = quant_max<Out>();
  return static_cast<Out>(y < lo ? lo : (y > hi ? hi : y));
}

template <class In, class Out>
void requantize(const In* x, Out* y, std::size_t n, const RequantizeParams& p) {
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = requantize_one<Out>(static_cast<int32_t>(x[i]), p.input_zero_point, p.output_zero_point,
                               p.multiplier, p.rounding);
  }
}

// ---- per axis ----------------------------------------------------------------------------------

template <class T>
void quantize_per_axis(const float* x, T* q, const Shape& shape, const PerAxisQuantParams& p) {
  for_each_axis_run(shape, p.axis, [&](std::size_t at, std::size_t n, std::size_t c) {
    reference::quantize<T>(x + at, q + at, n, p.at(c));
  });
}

template <class T>
void dequantize_per_axis(const T* q, float* x, const Shape& shape, const PerAxisQuantParams& p) {
  for_each_axis_run(shape, p.axis, [&](std::size_t at, std::size_t n, std::size_t c) {
    reference::dequantize<T>(q + at, x + at, n, p.at(c));
  });
}

template <class In, class Out>
void requantize_per_axis(const In* x, Out* y, const Shape& shape, const PerAxisRequantizeParams& p) {
  for_each_axis_run(shape, p.axis, [&](std::size_t at, std::size_t n, std::size_t c) {
    reference::requantize<In, Out>(x + at, y + at, n, channel_params(p, c));
  });
}

}  // namespace reference
PTQ_NAMESPACE_END
