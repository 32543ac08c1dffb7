// reference/pointwise.hpp: the unary activations -- Relu, Relu6, ReluN1To1, Clip, LeakyRelu,
// HardSwish, HardSigmoid -- in float32 and quantized (int8; int16 where TFLite has it), bit-exact
// with TFLite where TFLite has the op.
//
// Float, element by element, each in the spelling of the TFLite kernel it matches (the spellings
// differ on -0.0 and NaN, and bit-exactness includes them):
//   relu          x < 0 ? 0 : x                     reference_ops::Relu     (-0.0 and NaN pass)
//   relu6         min(max(0, x), 6)                 activations.cc Relu6Eval (-0.0 -> +0, NaN -> 0)
//   relu_n1_to_1  x > 1 ? 1 : (x < -1 ? -1 : x)     reference_ops::Relu1    (NaN passes)
//   clip          min(max(x, lo), hi)               (ONNX Clip; TFLite has no CLIP op)
//   leaky_relu    x > 0 ? x : x * alpha             reference_ops::LeakyRelu
//   hard_swish    x * min(6, max(0, x + 3)) / 6     reference_ops::HardSwish (float), in that order
//   hard_sigmoid  max(0, min(1, alpha * x + beta))  (ONNX HardSigmoid; TFLite has none)
//   fake_quant    TensorFlow's FakeQuantWithMinMaxArgs (float only; see fake_quant below)
//   min/max are std::min/std::max with TFLite's argument order. (TFLite's optimized float
//   HardSwish rounds differently in the last bit on some inputs; ptq follows the reference.)
//
// Quantized Relu, Relu6, ReluN1To1 (activations.cc ReluPrepare + QuantizedReluX, reference_ops::ReluX):
//   y = clamp(y_zp + multiply_by_quantized_multiplier(x - x_zp, M), act_min, act_max)
//   M = double(float(s_x / s_y)) (a float division in ReluPrepare), through quantize_multiplier.
//   [act_min, act_max] = calculate_activation_range_quantized<T>(kRelu / kRelu6 / kReluN1To1, y):
//   QuantizedReluX computes y_zp + int32(roundf(bound / s_y)) and clamps only the side it needs;
//   every value it can produce is the same (Relu's upper bound is qmax in both).
//
// Quantized LeakyRelu (activations.cc LeakyReluPrepare, reference_ops::QuantizeLeakyRelu):
//   d = x - x_zp
//   y = clamp(y_zp + multiply_by_quantized_multiplier(d, M_id), qmin, qmax)               d >= 0
//   y = clamp(y_zp + sign * multiply_by_quantized_multiplier(d, |M_alpha|), qmin, qmax)   d < 0
//   M_id = double(float(s_x / s_y)), M_alpha = double(float(float(s_x * alpha) / s_y)) (float
//   arithmetic, as LeakyReluPrepare), sign = -1 for a negative alpha. The sign handling is LiteRT's
//   current QuantizeLeakyRelu (older TFLite multiplied by the negative mantissa directly, which
//   rounds ties the other way and is not allowed in single rounding).
//
// Quantized HardSwish, int8 (activations.cc HardSwishPrepare, reference_ops::HardSwish in
// kernels/internal/reference/hard_swish.h), step by step in 16-bit fixed point:
//   prepare: hires_scale = s_x / 128 (float); reluish_scale = 3 / 32768 (float)
//            (m_out, e_out) = quantize_multiplier(hires_scale / s_y), mantissa rounded to 16 bits by
//            DownScaleInt32ToInt16Multiplier; e_out must be <= 0 (else TFLite's Prepare fails)
//            (m_rel, e_rel) = the same for hires_scale / reluish_scale
//   run:     v    = int16(x - x_zp) * 128                                    (hires input)
//            pre  = SRDHM16(v, m_out)                     gemmlowp's rounding doubling high mul
//            r    = v; if e_rel > 0: r = sat16(r * 2^(e_rel - 1))
//            r    = SRDHM16(r, m_rel); if e_rel > 0: r = sat16(r * 2)
//            if e_rel < 0: r = RDBP16(r, -e_rel)                 gemmlowp's RoundingDivideByPOT, int16
//            r    = (r + 2^15) >> 1                      [-1, 1] -> [0, 1] in Q0.15
//            out  = SDHM16(r, pre)                       truncating doubling high mul (SQDMULH)
//            y    = clamp(int16(RDBP16(out, -e_out) + y_zp), qmin, qmax)
//   The int16 intermediate arithmetic (including the wrap of `out + y_zp` to int16) is TFLite's.
//   The multipliers go through quantize_multiplier in the chosen rounding mode, as TFLite's
//   QuantizeMultiplier does in either build; the run steps do not depend on the mode.
//
// Quantized Clip and HardSigmoid (no TFLite int8 kernel): a 256-entry table built at prepare from
// the float function f with TFLite's LUTPopulate<int8_t> (reference/lookup_table.hpp), the same
// table TFLite's own int8 Logistic and Tanh use:
//   table[q] = clamp(round(f(s_x * float(q - x_zp)) * (1 / s_y)) + y_zp, -128, 127)
//   with f the float kernel above and round = std::round (ties away from zero). Run is a lookup.
//
// Standard library only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/lookup_table.hpp"
#include "ptq/kernels/reference/quantize.hpp"

PTQ_NAMESPACE_BEGIN

namespace reference {

// ---- float ------------------------------------------------------------------------------------

inline float relu_one(float x) { return x < 0.0f ? 0.0f : x; }
inline float relu6_one(float x) { return std::min(std::max(0.0f, x), 6.0f); }
inline float relu_n1_to_1_one(float x) { return x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x); }
inline float clip_one(float x, float lo, float hi) { return std::min(std::max(x, lo), hi); }
inline float leaky_relu_one(float x, float alpha) { return x > 0.0f ? x : x * alpha; }
inline float hard_swish_one(float x) { return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f; }
inline float hard_sigmoid_one(float x, float alpha, float beta) {
  return std::max(0.0f, std::min(1.0f, alpha * x + beta));
}

inline void relu(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = relu_one(x[i]);
}
inline void relu6(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = relu6_one(x[i]);
}
inline void relu_n1_to_1(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = relu_n1_to_1_one(x[i]);
}
inline void clip(const float* x, float* y, std::size_t n, float lo, float hi) {
  for (std::size_t i = 0; i < n; ++i) y[i] = clip_one(x[i], lo, hi);
}
// TensorFlow's FakeQuantWithMinMaxArgs in float: x clamped to the nudged range
// (core/qparams.hpp fake_quant_nudge), then snapped to the grid:
//   y = floor((clamp(x, min, max) - min) * (1 / scale) + 0.5) * scale + min
// (TensorFlow's FakeQuantWithMinMaxArgsFunctor, in its order of float operations).
inline void fake_quant(const float* x, float* y, std::size_t n, const FakeQuantNudged& q) {
  const float inv_scale = 1.0f / q.scale;
  for (std::size_t i = 0; i < n; ++i) {
    const float clamped = std::min(std::max(x[i], q.min), q.max);
    y[i] = std::floor((clamped - q.min) * inv_scale + 0.5f) * q.scale + q.min;
  }
}
inline void leaky_relu(const float* x, float* y, std::size_t n, float alpha) {
  for (std::size_t i = 0; i < n; ++i) y[i] = leaky_relu_one(x[i], alpha);
}
inline void hard_swish(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = hard_swish_one(x[i]);
}
inline void hard_sigmoid(const float* x, float* y, std::size_t n, float alpha, float beta) {
  for (std::size_t i = 0; i < n; ++i) y[i] = hard_sigmoid_one(x[i], alpha, beta);
}

}  // namespace reference

// ---- quantized Relu, Relu6, ReluN1To1 ---------------------------------------------------------

struct QuantizedReluParams {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier multiplier;  // s_x / s_y
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  template <class T>
  Status validate() const {
    static_assert(std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value, "int8_t or int16_t");
    const std::string what = "quantized relu";
    using reference::detail::check_in_range;
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input_zero_point", input_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "output_zero_point", output_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(reference::detail::check_multiplier(what, "multiplier", multiplier, rounding));
    return reference::detail::check_activation_range<T>(what, activation_min, activation_max);
  }
};

// ReluPrepare + QuantizedReluX's bounds. `kind` is kRelu, kRelu6 or kReluN1To1 (kNone gives a plain
// requantization). Preconditions: scales finite and positive.
template <class T>
QuantizedReluParams make_quantized_relu_params(QuantParams x, QuantParams y, FusedActivation kind,
                                               RoundingMode rounding = kDefaultRounding) {
  QuantizedReluParams p;
  p.input_zero_point = x.zero_point;
  p.output_zero_point = y.zero_point;
  const float real = x.scale / y.scale;
  p.multiplier = quantize_multiplier(static_cast<double>(real), rounding);
  p.rounding = rounding;
  const QuantizedActivationRange r = reference::calculate_activation_range_quantized<T>(kind, y);
  p.activation_min = r.min;
  p.activation_max = r.max;
  return p;
}

// ---- quantized LeakyRelu ----------------------------------------------------------------------

struct QuantizedLeakyReluParams {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier identity_multiplier;  // s_x / s_y
  QuantizedMultiplier alpha_multiplier;     // |s_x * alpha / s_y|
  bool alpha_negative = false;              // alpha < 0: the negative side's product is negated
  RoundingMode rounding = kDefaultRounding;

  template <class T>
  Status validate() const {
    static_assert(std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value, "int8_t or int16_t");
    const std::string what = "quantized leaky_relu";
    using reference::detail::check_in_range;
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input_zero_point", input_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "output_zero_point", output_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(reference::detail::check_multiplier(what, "identity_multiplier", identity_multiplier, rounding));
    return reference::detail::check_multiplier(what, "alpha_multiplier", alpha_multiplier, rounding);
  }
};

// LeakyReluPrepare. Preconditions: scales finite and positive, alpha finite.
inline QuantizedLeakyReluParams make_quantized_leaky_relu_params(QuantParams x, QuantParams y, float alpha,
                                                                 RoundingMode rounding = kDefaultRounding) {
  QuantizedLeakyReluParams p;
  p.input_zero_point = x.zero_point;
  p.output_zero_point = y.zero_point;
  const float identity = x.scale / y.scale;
  const float scaled_alpha = x.scale * alpha;
  const float alpha_real = scaled_alpha / y.scale;
  p.identity_multiplier = quantize_multiplier(static_cast<double>(identity), rounding);
  // quantize_multiplier(|M|) is TFLite's negative mantissa negated (frexp and round are symmetric).
  p.alpha_multiplier = quantize_multiplier(std::fabs(static_cast<double>(alpha_real)), rounding);
  p.alpha_negative = alpha_real < 0.0f;
  p.rounding = rounding;
  return p;
}

// ---- quantized HardSwish ----------------------------------------------------------------------

// TFLite's HardSwishParams.
struct QuantizedHardSwishParams {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int16_t reluish_multiplier_fixedpoint_int16 = 0;
  int reluish_multiplier_exponent = 0;
  int16_t output_multiplier_fixedpoint_int16 = 0;
  int output_multiplier_exponent = 0;  // <= 0

  Status validate() const {
    const std::string what = "quantized hard_swish";
    using reference::detail::check_in_range;
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input_zero_point", input_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "output_zero_point", output_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "reluish_multiplier_exponent", reluish_multiplier_exponent, -31, 31));
    // TFLite's Prepare requires the output multiplier to be below 1.
    return check_in_range(what, "output_multiplier_exponent", output_multiplier_exponent, -31, 0);
  }
};

namespace reference {
namespace detail {

// tflite::DownScaleInt32ToInt16Multiplier: a Q0.31 mantissa rounded to Q0.15 (ties up), saturated.
inline int16_t down_scale_multiplier_to_int16(int32_t multiplier) {
  PTQ_DCHECK(multiplier >= 0, "down_scale_multiplier_to_int16: negative multiplier");
  constexpr int32_t kRoundingOffset = 1 << 15;
  if (multiplier >= std::numeric_limits<int32_t>::max() - kRoundingOffset) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((multiplier + kRoundingOffset) >> 16);
}

// gemmlowp::SaturatingRoundingDoublingHighMul<int16_t>: round((a * b) / 2^15), ties toward +inf
// (the nudge form), saturating the one overflowing pair.
inline int16_t saturating_rounding_doubling_high_mul_16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

// hard_swish.h SaturatingDoublingHighMul: (a * b) / 2^15 truncated toward zero (ARM's SQDMULH).
inline int16_t saturating_doubling_high_mul_16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((int32_t{a} * int32_t{b}) / (1 << 15));
}

// gemmlowp::RoundingDivideByPOT<int16_t>, exponent in [0, 31], with its int16 arithmetic: for an
// exponent of 16 or more the mask truncates to all ones, as in gemmlowp.
inline int16_t rounding_divide_by_pot_16(int16_t x, int exponent) {
  const auto mask = static_cast<int16_t>(static_cast<uint16_t>((int64_t{1} << exponent) - 1));
  const auto remainder = static_cast<int16_t>(x & mask);
  const auto threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

// hard_swish.h SaturatingLeftShift: value * 2^amount saturated to int16.
inline int16_t saturating_left_shift_16(int16_t value, int amount) {
  const int64_t shifted = static_cast<int64_t>(value) * (int64_t{1} << amount);
  return static_cast<int16_t>(std::min<int64_t>(std::max<int64_t>(shifted, std::numeric_limits<int16_t>::min()),
                                                std::numeric_limits<int16_t>::max()));
}

}  // namespace detail
}  // namespace reference

// HardSwishPrepare for int8. Fails, as TFLite's Prepare does, when the output multiplier
// s_x / (128 s_y) is 1 or more (e_out > 0). Preconditions: scales finite and positive.
inline Result<QuantizedHardSwishParams> make_quantized_hard_swish_params(QuantParams x, QuantParams y,
                                                                         RoundingMode rounding = kDefaultRounding) {
  QuantizedHardSwishParams p;
  p.input_zero_point = x.zero_point;
  p.output_zero_point = y.zero_point;
  const float hires_input_scale = (1.0f / 128.0f) * x.scale;
  const float reluish_scale = 3.0f / 32768.0f;
  const float output_real = hires_input_scale / y.scale;
  const QuantizedMultiplier output_m = quantize_multiplier(static_cast<double>(output_real), rounding);
  p.output_multiplier_fixedpoint_int16 = reference::detail::down_scale_multiplier_to_int16(output_m.multiplier);
  p.output_multiplier_exponent = output_m.shift;
  if (p.output_multiplier_exponent > 0) {
    return invalid_argument("hard_swish: the output multiplier input_scale / (128 * output_scale) = " +
                            std::to_string(output_real) + " is not below 1 (TFLite requires it)");
  }
  const float reluish_real = hires_input_scale / reluish_scale;
  const QuantizedMultiplier reluish_m = quantize_multiplier(static_cast<double>(reluish_real), rounding);
  p.reluish_multiplier_fixedpoint_int16 = reference::detail::down_scale_multiplier_to_int16(reluish_m.multiplier);
  p.reluish_multiplier_exponent = reluish_m.shift;
  return p;
}

namespace reference {

// ---- quantized kernels ------------------------------------------------------------------------

// Relu / Relu6 / ReluN1To1 (reference_ops::ReluX). Preconditions: p.validate<T>() is ok.
template <class T>
void relu_quantized(const QuantizedReluParams& p, const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<T>(quantized_output_stage(int32_t{x[i]} - p.input_zero_point, p.multiplier, p.rounding,
                                                 p.output_zero_point, p.activation_min, p.activation_max));
  }
}

// reference_ops::QuantizeLeakyRelu. Preconditions: p.validate<T>() is ok.
template <class T>
void leaky_relu_quantized(const QuantizedLeakyReluParams& p, const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const int32_t d = int32_t{x[i]} - p.input_zero_point;
    int64_t scaled;
    if (d >= 0) {
      scaled = multiply_by_quantized_multiplier(d, p.identity_multiplier, p.rounding);
    } else {
      scaled = multiply_by_quantized_multiplier(d, p.alpha_multiplier, p.rounding);
      if (p.alpha_negative) scaled = -scaled;
    }
    y[i] = static_cast<T>(detail::clamp_to(scaled + p.output_zero_point, quant_min<T>(), quant_max<T>()));
  }
}

// One element of reference_ops::HardSwish<int8_t> (the steps in the header).
inline int8_t hard_swish_quantized_one(int8_t x, const QuantizedHardSwishParams& p) {
  const auto input_value = static_cast<int16_t>(int32_t{x} - p.input_zero_point);
  const auto hires = static_cast<int16_t>(input_value * (1 << 7));
  const int16_t preshift_output = detail::saturating_rounding_doubling_high_mul_16(hires, p.output_multiplier_fixedpoint_int16);
  int16_t reluish = hires;
  if (p.reluish_multiplier_exponent > 0) {
    reluish = detail::saturating_left_shift_16(reluish, p.reluish_multiplier_exponent - 1);
  }
  reluish = detail::saturating_rounding_doubling_high_mul_16(reluish, p.reluish_multiplier_fixedpoint_int16);
  if (p.reluish_multiplier_exponent > 0) reluish = detail::saturating_left_shift_16(reluish, 1);
  if (p.reluish_multiplier_exponent < 0) reluish = detail::rounding_divide_by_pot_16(reluish, -p.reluish_multiplier_exponent);
  reluish = static_cast<int16_t>((int32_t{reluish} + (1 << 15)) >> 1);
  const int16_t preshift_result = detail::saturating_doubling_high_mul_16(reluish, preshift_output);
  const int16_t shifted = detail::rounding_divide_by_pot_16(preshift_result, -p.output_multiplier_exponent);
  const auto output_value = static_cast<int16_t>(int32_t{shifted} + p.output_zero_point);
  return static_cast<int8_t>(std::min<int16_t>(std::max<int16_t>(output_value, -128), 127));
}

// reference_ops::HardSwish<int8_t>. Preconditions: p.validate() is ok.
inline void hard_swish_quantized(const QuantizedHardSwishParams& p, const int8_t* x, int8_t* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = hard_swish_quantized_one(x[i], p);
}


}  // namespace reference
PTQ_NAMESPACE_END
