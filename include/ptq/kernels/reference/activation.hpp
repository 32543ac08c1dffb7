// reference/activation.hpp: fused activations as clamp ranges, and the output stage that every
// quantized reference kernel ends with.
//
// A fused activation (ReLU, ReLU6, ReLU-1..1) never costs a pass of its own: quantized kernels clamp
// their result to a range computed once per layer, float kernels clamp to fixed float bounds. This
// file is that computation, bit-exact with TFLite (kernels/kernel_util.{h,cc}, internal/common.h,
// internal/tensor_utils_common.h):
//
//   calculate_activation_range_quantized<T>(act, {s, z})      (CalculateActivationRangeQuantized)
//     q(f) = z + int32(round(f / s))        f / s is a float division; round = std::round, which
//                                           is TfLiteRound: ties away from zero
//     kNone      -> [qmin, qmax]            qmin, qmax: the full range of T (int8: [-128, 127])
//     kRelu      -> [max(qmin, q(0)),  qmax]
//     kRelu6     -> [max(qmin, q(0)),  min(qmax, q(6))]
//     kReluN1To1 -> [max(qmin, q(-1)), min(qmax, q(1))]
//     Where round(f / s) does not fit in int32 (a tiny scale), TFLite's Prepare fails; ptq saturates
//     it to the int32 range and lets the clamp to [qmin, qmax] do the rest.
//
//   calculate_activation_range(act)                            (CalculateActivationRange<float>)
//     kNone -> [lowest, max] (the finite float bounds), kRelu -> [0, max], kRelu6 -> [0, 6],
//     kReluN1To1 -> [-1, 1].
//
// TFLite applies float activations in two spellings that differ on -0.0, infinities and NaN, and
// each hybrid kernel uses the one its TFLite counterpart uses (bit-exactness includes the sign of
// zero):
//   activation_with_min_max(x, lo, hi) = std::min(std::max(x, lo), hi)
//       (ActivationFunctionWithMinMax; conv and depthwise hybrids). ReLU keeps -0.0, NaN passes
//       through, and under kNone +-inf become the finite bounds +-FLT_MAX.
//   apply_fused_activation(x, act)
//       (ApplyActivationToVector; fully connected hybrid) kNone: x unchanged;
//       kRelu: std::max(0, x); kRelu6: std::max(0, std::min(x, 6)); kReluN1To1:
//       std::max(-1, std::min(x, 1)). ReLU(-0.0) is +0.0 and ReLU(NaN) is 0.
//
//   Output stage of the int8/uint8 kernels (FullyConnected, ConvPerChannel, DepthwiseConvPerChannel):
//     y = clamp(multiply_by_quantized_multiplier(acc, m, shift) + output_zero_point, act_min, act_max)
//     The sum is formed in int64, so it saturates where TFLite's int32 sum would overflow (undefined
//     behaviour there; equal everywhere TFLite is defined).
//
//   Accumulators: int32 with two's-complement wrap-around, as TFLite's `acc += a * b` behaves on
//   every target it ships for and as SIMD int32 lanes do. Written with uint32 arithmetic here so the
//   reference is defined behaviour (and sanitizer-clean) even on inputs that overflow.
//
// Standard library only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN

// A clamp range in the quantized domain, inclusive: [min, max].
struct QuantizedActivationRange {
  int32_t min = 0;
  int32_t max = 0;
};

// A clamp range in the float domain, inclusive: [min, max].
struct FloatActivationRange {
  float min = 0.0f;
  float max = 0.0f;
};

namespace reference {

namespace detail {

// z + int32(round(f / s)) with round(f / s) saturated to the int32 range first (see the header).
inline int64_t quantize_activation_bound(float f, float scale, int32_t zero_point) {
  const float r = std::round(f / scale);
  // 2^31 is exactly representable in float; int32's max is not, so compare against 2^31.
  constexpr float kTwo31 = 2147483648.0f;
  int64_t q;
  if (!(r < kTwo31)) {  // also catches +inf
    q = std::numeric_limits<int32_t>::max();
  } else if (!(r >= -kTwo31)) {  // also catches -inf
    q = std::numeric_limits<int32_t>::min();
  } else {
    q = static_cast<int64_t>(r);
  }
  return static_cast<int64_t>(zero_point) + q;
}

inline int32_t clamp_to(int64_t v, int32_t lo, int32_t hi) {
  return static_cast<int32_t>(v < lo ? lo : (v > hi ? hi : v));
}

}  // namespace detail

// tflite::CalculateActivationRangeQuantized for an output of type T (int8_t, uint8_t, int16_t).
// Preconditions: output.scale finite and > 0 (validated with the output tensor's parameters).
template <class T>
QuantizedActivationRange calculate_activation_range_quantized(FusedActivation activation,
                                                              QuantParams output) {
  PTQ_DCHECK(std::isfinite(output.scale) && output.scale > 0.0f,
             "calculate_activation_range_quantized: output scale must be finite and positive");
  const int32_t qmin = quant_min<T>();
  const int32_t qmax = quant_max<T>();
  const auto q = [&](float f) {
    return detail::quantize_activation_bound(f, output.scale, output.zero_point);
  };
  QuantizedActivationRange r{qmin, qmax};
  switch (activation) {
    case FusedActivation::kNone:
      break;
    case FusedActivation::kRelu:
      r.min = detail::clamp_to(q(0.0f), qmin, qmax);
      break;
    case FusedActivation::kRelu6:
      r.min = detail::clamp_to(q(0.0f), qmin, qmax);
      r.max = detail::clamp_to(q(6.0f), qmin, qmax);
      break;
    case FusedActivation::kReluN1To1:
      r.min = detail::clamp_to(q(-1.0f), qmin, qmax);
      r.max = detail::clamp_to(q(1.0f), qmin, qmax);
      break;
  }
  return r;
}

// tflite::CalculateActivationRange<float>.
inline FloatActivationRange calculate_activation_range(FusedActivation activation) {
  switch (activation) {
    case FusedActivation::kRelu: return {0.0f, std::numeric_limits<float>::max()};
    case FusedActivation::kRelu6: return {0.0f, 6.0f};
    case FusedActivation::kReluN1To1: return {-1.0f, 1.0f};
    case FusedActivation::kNone: break;
  }
  return {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
}

// tflite::ActivationFunctionWithMinMax<float>: min(max(x, lo), hi), argument order as TFLite's.
inline float activation_with_min_max(float x, float lo, float hi) {
  return std::min(std::max(x, lo), hi);
}

// One element of tflite::tensor_utils::ApplyActivationToVector (ApplyReluToVector,
// ApplyRelu6ToVector, ApplyRelu1ToVector), argument order as TFLite's.
inline float apply_fused_activation(float x, FusedActivation activation) {
  switch (activation) {
    case FusedActivation::kNone: return x;
    case FusedActivation::kRelu: return std::max(0.0f, x);
    case FusedActivation::kRelu6: return std::max(0.0f, std::min(x, 6.0f));
    case FusedActivation::kReluN1To1: return std::max(-1.0f, std::min(x, 1.0f));
  }
  return x;
}

// ---- accumulators and the quantized output stage ----------------------------------------------

// a + b with int32 wrap-around (see the header: what TFLite's `acc += ...` does in practice).
constexpr int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// acc + a * b with int32 wrap-around. Precondition: |a|, |b| < 2^15, so a * b is exact in int32
// (int8/uint8 values minus zero points are within [-255, 255]).
constexpr int32_t wrapping_mac(int32_t acc, int32_t a, int32_t b) {
  return wrapping_add(acc, a * b);
}

// The tail of FullyConnected / ConvPerChannel / DepthwiseConvPerChannel:
//   clamp(multiply_by_quantized_multiplier(acc, m, shift) + output_zero_point, act_min, act_max)
inline int32_t quantized_output_stage(int32_t acc, QuantizedMultiplier m, RoundingMode rounding,
                                      int32_t output_zero_point, int32_t act_min, int32_t act_max) {
  const int64_t scaled =
      static_cast<int64_t>(multiply_by_quantized_multiplier(acc, m, rounding)) + output_zero_point;
  return detail::clamp_to(scaled, act_min, act_max);
}

// ---- checks shared by the reference kernels' validate() ---------------------------------------
namespace detail {

// "what: name = value is outside [lo, hi]"
inline Status check_in_range(const std::string& what, const char* name, int64_t value, int64_t lo,
                             int64_t hi) {
  if (value < lo || value > hi) {
    return invalid_argument(what + ": " + name + " = " + std::to_string(value) + " is outside [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return {};
}

// A requantization multiplier the rounding mode accepts: mantissa >= 0 and shift in
// [-31, 31] (kDouble) or [-31, 30] (kSingle). `name` names the field, e.g. "multipliers[3]".
inline Status check_multiplier(const std::string& what, const std::string& name,
                               QuantizedMultiplier m, RoundingMode rounding) {
  if (m.multiplier < 0) {
    return invalid_argument(what + ": " + name + ".multiplier = " + std::to_string(m.multiplier) +
                            " is negative (scales must be positive)");
  }
  const int max_shift = rounding == RoundingMode::kSingle ? 30 : 31;
  if (m.shift < -31 || m.shift > max_shift) {
    return invalid_argument(what + ": " + name + ".shift = " + std::to_string(m.shift) +
                            " is outside [-31, " + std::to_string(max_shift) + "] for " +
                            rounding_mode_name(rounding) + " rounding");
  }
  return {};
}

// The multipliers of a layer with `channels` output channels: one (per tensor) or one per channel.
inline Status check_multipliers(const std::string& what, const std::vector<QuantizedMultiplier>& ms,
                                int64_t channels, RoundingMode rounding) {
  if (ms.size() != 1 && static_cast<int64_t>(ms.size()) != channels) {
    return invalid_argument(what + ": multipliers has " + std::to_string(ms.size()) +
                            " entries; expected 1 (per tensor) or " + std::to_string(channels) +
                            " (one per output channel)");
  }
  for (std::size_t i = 0; i < ms.size(); ++i) {
    PTQ_RETURN_IF_ERROR(check_multiplier(what, "multipliers[" + std::to_string(i) + "]", ms[i], rounding));
  }
  return {};
}

// An activation clamp inside T's range and not empty.
template <class T>
Status check_activation_range(const std::string& what, int32_t act_min, int32_t act_max) {
  PTQ_RETURN_IF_ERROR(check_in_range(what, "activation_min", act_min, quant_min<T>(), quant_max<T>()));
  PTQ_RETURN_IF_ERROR(check_in_range(what, "activation_max", act_max, quant_min<T>(), quant_max<T>()));
  if (act_min > act_max) {
    return invalid_argument(what + ": activation_min = " + std::to_string(act_min) +
                            " is greater than activation_max = " + std::to_string(act_max));
  }
  return {};
}

// Float weight scales of a hybrid layer: one (per tensor) or one per output channel, each finite
// and positive.
inline Status check_weight_scales(const std::string& what, const std::vector<float>& scales,
                                  int64_t channels) {
  if (scales.size() != 1 && static_cast<int64_t>(scales.size()) != channels) {
    return invalid_argument(what + ": weight_scales has " + std::to_string(scales.size()) +
                            " entries; expected 1 (per tensor) or " + std::to_string(channels) +
                            " (one per output channel)");
  }
  for (std::size_t i = 0; i < scales.size(); ++i) {
    if (!std::isfinite(scales[i]) || !(scales[i] > 0.0f)) {
      return invalid_argument(what + ": weight_scales[" + std::to_string(i) + "] = " +
                              std::to_string(scales[i]) + " is not a finite positive number");
    }
  }
  return {};
}

}  // namespace detail
}  // namespace reference

PTQ_NAMESPACE_END
