// fixed_point.hpp: TFLite's fixed-point requantization arithmetic, bit-exact, in both rounding modes.
//
// A real multiplier M > 0 is stored as a Q0.31 mantissa `multiplier` in [2^30, 2^31) and a power
// of two `shift`:  M ~= multiplier * 2^(shift - 31).  Requantizing an int32 accumulator `x` is
// then `multiply_by_quantized_multiplier(x, multiplier, shift)`, in one of TFLite's two modes:
//
//   kDouble (TFLite's default build, gemmlowp arithmetic): two roundings,
//     y = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^max(shift,0), multiplier),
//                             max(-shift, 0))
//   kSingle (TFLite built with TFLITE_SINGLE_ROUNDING=1): one rounding,
//     y = (x * multiplier + 2^(30 - shift)) >> (31 - shift)          (64-bit, arithmetic shift)
//
// The two differ in the last bit on about one input in 2^|shift|: choose one per model, here,
// in one place (RoundingMode), never re-derived inline in a kernel. Every SIMD requantizer in ptq
// is tested bit for bit against these scalar functions.
//
// Names follow TFLite's (snake_case) so code moves over unchanged:
//   tflite::QuantizeMultiplier              -> ptq::quantize_multiplier
//   tflite::MultiplyByQuantizedMultiplier   -> ptq::multiply_by_quantized_multiplier
//   gemmlowp::SaturatingRoundingDoublingHighMul -> ptq::saturating_rounding_doubling_high_mul
//   gemmlowp::RoundingDivideByPOT           -> ptq::rounding_divide_by_pot
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN

enum class RoundingMode : uint8_t {
  kDouble = 0,  // TFLite default: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT
  kSingle = 1,  // TFLITE_SINGLE_ROUNDING: one 64-bit multiply, one rounding shift
};

// The mode used when a caller does not choose. Define PTQ_SINGLE_ROUNDING=1 to match a TFLite
// build with TFLITE_SINGLE_ROUNDING=1.
#if defined(PTQ_SINGLE_ROUNDING) && PTQ_SINGLE_ROUNDING
inline constexpr RoundingMode kDefaultRounding = RoundingMode::kSingle;
#else
inline constexpr RoundingMode kDefaultRounding = RoundingMode::kDouble;
#endif

inline const char* rounding_mode_name(RoundingMode m) {
  return m == RoundingMode::kSingle ? "single" : "double";
}

// ---- gemmlowp primitives ----------------------------------------------------------------------

// The high 32 bits of 2*a*b, rounded to nearest with ties toward +infinity; the one input pair
// whose result does not fit (a == b == INT32_MIN) saturates to INT32_MAX. Same as ARM's VQRDMULH.
// gemmlowp writes the rounding as a nudge of +2^30 (ab >= 0) or 1 - 2^30 (ab < 0) followed by a
// division truncating toward zero; both forms equal floor((a*b + 2^30) / 2^31).
constexpr int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t ab_x2_high32 = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  return overflow ? std::numeric_limits<int32_t>::max() : ab_x2_high32;
}

// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
constexpr int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^shift with the wrap-around that TFLite's `x * (1 << left_shift)` has on every compiler it
// ships with (formally signed overflow; here computed in uint32 so it is defined behaviour).
constexpr int32_t wrapping_shift_left(int32_t x, int shift) {
  return static_cast<int32_t>(static_cast<uint32_t>(x) << shift);
}

// ---- multipliers ------------------------------------------------------------------------------

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q0.31 mantissa in [2^30, 2^31), or 0 for a zero (or flushed) multiplier
  int shift = 0;           // power of two: real = multiplier * 2^(shift - 31)

  double real() const { return std::ldexp(static_cast<double>(multiplier), shift - 31); }
  friend constexpr bool operator==(QuantizedMultiplier a, QuantizedMultiplier b) {
    return a.multiplier == b.multiplier && a.shift == b.shift;
  }
};

// tflite::QuantizeMultiplier. frexp splits M into q * 2^shift with q in [0.5, 1); the mantissa is
// round(q * 2^31) with ties away from zero, and a mantissa that rounds up to 2^31 becomes 2^30
// with shift + 1. Multipliers below about 2^-31 (shift < -31) flush to {0, 0}. In kSingle mode a
// shift above 30 saturates to {2^31 - 1, 30}, as TFLite does for that build.
// Precondition: real_multiplier is finite (scales come validated from the model).
inline QuantizedMultiplier quantize_multiplier(double real_multiplier,
                                               RoundingMode mode = kDefaultRounding) {
  PTQ_DCHECK(std::isfinite(real_multiplier), "quantize_multiplier: multiplier must be finite");
  QuantizedMultiplier out;
  if (real_multiplier == 0.0) return out;
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  if (mode == RoundingMode::kSingle && shift > 30) {
    shift = 30;
    q_fixed = (int64_t{1} << 31) - 1;
  }
  out.multiplier = static_cast<int32_t>(q_fixed);
  out.shift = shift;
  return out;
}

// tflite::QuantizeMultiplierSmallerThanOneExp: for 0 < M < 1; the shift is <= 0.
inline QuantizedMultiplier quantize_multiplier_smaller_than_one(double real_multiplier,
                                                                RoundingMode mode = kDefaultRounding) {
  PTQ_DCHECK(real_multiplier > 0.0 && real_multiplier < 1.0,
             "quantize_multiplier_smaller_than_one: multiplier must be in (0, 1)");
  return quantize_multiplier(real_multiplier, mode);
}

// tflite::QuantizeMultiplierGreaterThanOne: for M > 1; the shift is >= 0.
inline QuantizedMultiplier quantize_multiplier_greater_than_one(double real_multiplier,
                                                                RoundingMode mode = kDefaultRounding) {
  PTQ_DCHECK(real_multiplier > 1.0, "quantize_multiplier_greater_than_one: multiplier must be > 1");
  return quantize_multiplier(real_multiplier, mode);
}

// ---- applying a multiplier --------------------------------------------------------------------

// tflite::MultiplyByQuantizedMultiplier(int32_t, int32_t, int) in the chosen mode.
// kDouble accepts any shift in [-31, 31] and wraps x * 2^shift like TFLite; kSingle requires
// multiplier >= 0 and shift in [-31, 30] (what quantize_multiplier produces in that mode) and a
// result that fits in int32.
template <RoundingMode M = kDefaultRounding>
constexpr int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  if constexpr (M == RoundingMode::kDouble) {
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(wrapping_shift_left(x, left_shift), multiplier),
        right_shift);
  } else {
    const int total_shift = 31 - shift;
    const int64_t round = int64_t{1} << (total_shift - 1);
    const int64_t result = (static_cast<int64_t>(x) * multiplier + round) >> total_shift;
    return static_cast<int32_t>(result);
  }
}

inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift,
                                                RoundingMode mode) {
  return mode == RoundingMode::kSingle
             ? multiply_by_quantized_multiplier<RoundingMode::kSingle>(x, multiplier, shift)
             : multiply_by_quantized_multiplier<RoundingMode::kDouble>(x, multiplier, shift);
}

inline int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m,
                                                RoundingMode mode = kDefaultRounding) {
  return multiply_by_quantized_multiplier(x, m.multiplier, m.shift, mode);
}

// tflite::MultiplyByQuantizedMultiplier(int64_t, int32_t, int), used by the 16x8 kernels whose
// accumulators are 64-bit. Both modes reduce the multiplier to 16 bits (rounded, capped at
// 0x7FFF) and round once; they differ only in how the result is narrowed (kDouble truncates the
// 64-bit result to int32, kSingle requires it to fit). Preconditions (TFLite's): multiplier >= 0,
// shift in [-31, 7], x in [-2^47, 2^47).
template <RoundingMode M = kDefaultRounding>
constexpr int32_t multiply_by_quantized_multiplier_64(int64_t x, int32_t multiplier, int shift) {
  const int32_t reduced_multiplier =
      multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int total_shift = 15 - shift;
  const int64_t round = int64_t{1} << (total_shift - 1);
  const int64_t result = (x * static_cast<int64_t>(reduced_multiplier) + round) >> total_shift;
  return static_cast<int32_t>(result);  // kDouble: modular narrowing, as TFLite's `int32_t r = x >> s`
}

inline int32_t multiply_by_quantized_multiplier_64(int64_t x, int32_t multiplier, int shift,
                                                   RoundingMode mode) {
  return mode == RoundingMode::kSingle
             ? multiply_by_quantized_multiplier_64<RoundingMode::kSingle>(x, multiplier, shift)
             : multiply_by_quantized_multiplier_64<RoundingMode::kDouble>(x, multiplier, shift);
}

// tflite::MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0) and
// ...GreaterThanOne (left_shift >= 0). In kDouble mode these skip the unused half of the general
// form; in kSingle mode TFLite defines both as the general function, and so does ptq.
template <RoundingMode M = kDefaultRounding>
constexpr int32_t multiply_by_quantized_multiplier_smaller_than_one_exp(int32_t x, int32_t multiplier,
                                                                        int left_shift) {
  if constexpr (M == RoundingMode::kDouble) {
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -left_shift);
  } else {
    return multiply_by_quantized_multiplier<M>(x, multiplier, left_shift);
  }
}

template <RoundingMode M = kDefaultRounding>
constexpr int32_t multiply_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier,
                                                                    int left_shift) {
  if constexpr (M == RoundingMode::kDouble) {
    return saturating_rounding_doubling_high_mul(wrapping_shift_left(x, left_shift), multiplier);
  } else {
    return multiply_by_quantized_multiplier<M>(x, multiplier, left_shift);
  }
}

PTQ_NAMESPACE_END
