// core/fixed_point_int16.hpp: gemmlowp's fixed-point logistic and tanh on 16-bit raw values
// (FixedPoint<int16_t, m>), bit-exact -- what TFLite's integer LSTM applies to its int16 gates.
//
// TFLite's 8x8->16 LSTM (lstm_eval.cc, CalculateLstmGateInteger8x8_16 / CalculateLstmOutputInteger8x8_16)
// calls tensor_utils::ApplySigmoid and ApplyTanh(integer_bits), whose portable definitions (used by
// every x86 build: sse_tensor_utils forwards to them) evaluate gemmlowp::logistic and gemmlowp::tanh
// with tRawType = int16_t. core/fixed_point_math.hpp holds the same algorithms for int32; the 16-bit
// instantiation differs in ways that change bits, so it is written out here rather than derived:
//   - a value with m integer bits is Q(m).(15-m): raw = x * 2^(15 - m) in an int16;
//   - a * b is the int16 SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^15 truncated toward
//     zero, nudge = 2^14 (a*b >= 0) or 1 - 2^14, and (-2^15) * (-2^15) saturates to 2^15 - 1;
//   - +, -, unary - wrap modulo 2^16 (gemmlowp computes in int and narrows on return), except the
//     last addition of the exp polynomial, which saturates (gemmlowp's AddSaturatingIf16Bit);
//   - the constants are gemmlowp's Q0.31 (or Q2.29) int32 literals rounded to 16 bits by
//     RoundingDivideByPOT(c, 16) (gemmlowp's RescaleConstantInitializer): e.g. exp(-1/8) =
//     1895147668 -> 28918, 1/3 = 715827883 -> 10923, 48/17 = 1515870810 -> 23130,
//     -32/17 = -1010580540 -> -15420, exp(-2^k) for k = -2..4 -> {25520, 19875, 12055, 4435, 600, 11, 0};
//   - One() is 2^15 - 1 for m = 0 and 2^(15 - m) otherwise; the logistic of 0 is 2^14 (one half).
// The functions take and return raws; logistic and tanh return Q0.15.
//
// Standard library only (plus core/fixed_point.hpp's rounding_divide_by_pot).
#pragma once

#include <cstdint>
#include <limits>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"

PTQ_NAMESPACE_BEGIN
namespace fixed_point16 {

// int16 modulo 2^16 (what gemmlowp's int arithmetic narrowed to int16_t gives).
constexpr int16_t wrap(int32_t v) { return static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint32_t>(v))); }
constexpr int16_t add(int16_t a, int16_t b) { return wrap(int32_t{a} + int32_t{b}); }
constexpr int16_t sub(int16_t a, int16_t b) { return wrap(int32_t{a} - int32_t{b}); }
constexpr int16_t neg(int16_t a) { return wrap(-int32_t{a}); }
constexpr int16_t saturating_add(int16_t a, int16_t b) {
  const int32_t s = int32_t{a} + int32_t{b};
  return static_cast<int16_t>(s > 32767 ? 32767 : (s < -32768 ? -32768 : s));
}

// gemmlowp::SaturatingRoundingDoublingHighMul<int16_t>.
constexpr int16_t mul(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return wrap((ab + nudge) / (1 << 15));
}

// gemmlowp::RoundingDivideByPOT on int16 (ties away from zero); exponent in [0, 15].
constexpr int16_t rounding_divide_by_pot(int16_t x, int exponent) {
  return static_cast<int16_t>(::ptq::rounding_divide_by_pot(int32_t{x}, exponent));
}

// gemmlowp::SaturatingRoundingMultiplyByPOT<exponent> on int16.
constexpr int16_t saturating_rounding_multiply_by_pot(int16_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return rounding_divide_by_pot(x, -exponent);
  const int32_t threshold = (1 << (15 - exponent)) - 1;
  if (x > threshold) return std::numeric_limits<int16_t>::max();
  if (x < -threshold) return std::numeric_limits<int16_t>::min();
  return wrap(int32_t{x} * (1 << exponent));
}

// A gemmlowp constant given as its int32 literal, narrowed to 16 bits.
constexpr int16_t constant(int32_t q31_literal) {
  return static_cast<int16_t>(::ptq::rounding_divide_by_pot(q31_literal, 16));
}

// gemmlowp::Rescale<kDst>(FixedPoint<int16_t, kSrc>).
template <int kDst, int kSrc>
constexpr int16_t rescale(int16_t x) {
  static_assert(kDst >= 0 && kDst < 16 && kSrc >= 0 && kSrc < 16, "integer bits in [0, 15]");
  return saturating_rounding_multiply_by_pot(x, kSrc - kDst);
}

// exp(a) for a in [-1/4, 0), Q0.15 in and out: the Taylor series around -1/8 (see the int32 version).
constexpr int16_t exp_on_interval_between_negative_one_quarter_and_0_excl(int16_t a) {
  const int16_t kExpMinusOneEighth = constant(1895147668);
  const int16_t kOneThird = constant(715827883);
  const int16_t x = add(a, int16_t{1 << 12});  // a + 1/8
  const int16_t x2 = mul(x, x);
  const int16_t x3 = mul(x2, x);
  const int16_t x4 = mul(x2, x2);
  const int16_t x4_over_4 = rounding_divide_by_pot(x4, 2);
  const int16_t poly = rounding_divide_by_pot(add(mul(add(x4_over_4, x3), kOneThird), x2), 1);
  return saturating_add(kExpMinusOneEighth, mul(kExpMinusOneEighth, add(x, poly)));
}

// exp(a) for a <= 0 with kIntegerBits integer bits; Q0.15 result.
template <int kIntegerBits>
constexpr int16_t exp_on_negative_values(int16_t a) {
  static_assert(kIntegerBits >= 0 && kIntegerBits <= 12, "integer bits in [0, 12]");
  constexpr int kFractionalBits = 15 - kIntegerBits;
  constexpr int16_t kOneQuarter = static_cast<int16_t>(1 << (kFractionalBits - 2));
  const int16_t a_mod_quarter_minus_one_quarter = sub(static_cast<int16_t>(a & (kOneQuarter - 1)), kOneQuarter);
  int16_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      rescale<0, kIntegerBits>(a_mod_quarter_minus_one_quarter));
  const int16_t remainder = sub(a_mod_quarter_minus_one_quarter, a);
  constexpr int32_t kExpMinusPowerOfTwo[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  for (int k = -2; k <= 4; ++k) {
    if (kIntegerBits > k) {
      const int bit = kFractionalBits + k;
      if (remainder & (1 << bit)) result = mul(result, constant(kExpMinusPowerOfTwo[k + 2]));
    }
  }
  if (kIntegerBits > 5) {
    const int16_t clamp = constant(-(int32_t{1} << (kIntegerBits > 5 ? 36 - kIntegerBits : 0)));  // -32
    if (a < clamp) result = 0;
  }
  return a == 0 ? std::numeric_limits<int16_t>::max() : result;
}

namespace detail {
// Newton-Raphson x ~ 1 / d in Q2.13 for d = (1 + a) / 2, shared by the two divisions below.
constexpr int16_t reciprocal_of_half_denominator(int16_t a) {
  const int32_t sum = int32_t{a} + int32_t{std::numeric_limits<int16_t>::max()};
  const int16_t half_denominator = static_cast<int16_t>((sum + (sum >= 0 ? 1 : -1)) / 2);  // RoundingHalfSum
  const int16_t kOneQ2 = int16_t{1 << 13};
  int16_t x = add(constant(1515870810), mul(half_denominator, constant(-1010580540)));
  for (int i = 0; i < 3; ++i) {
    const int16_t one_minus_dx = sub(kOneQ2, mul(half_denominator, x));
    x = add(x, rescale<2, 4>(mul(x, one_minus_dx)));
  }
  return x;
}
}  // namespace detail

// 1 / (1 + a) and (1 - a) / (1 + a) for a in [0, 1), Q0.15 in and out.
constexpr int16_t one_over_one_plus_x_for_x_in_0_1(int16_t a) {
  return rescale<0, 1>(detail::reciprocal_of_half_denominator(a));
}
constexpr int16_t one_minus_x_over_one_plus_x_for_x_in_0_1(int16_t a) {
  return rescale<0, 2>(sub(detail::reciprocal_of_half_denominator(a), int16_t{1 << 13}));
}

// gemmlowp::tanh(FixedPoint<int16_t, kIntegerBits>): Q0.15.
template <int kIntegerBits>
constexpr int16_t tanh(int16_t a) {
  const bool negative = a < 0;
  const int16_t n = negative ? a : neg(a);
  const int16_t t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values<kIntegerBits + 1>(n));
  if (a == 0) return 0;
  return negative ? neg(t) : t;
}

// gemmlowp::logistic(FixedPoint<int16_t, kIntegerBits>): Q0.15.
template <int kIntegerBits>
constexpr int16_t logistic(int16_t a) {
  const bool positive = a > 0;
  const int16_t abs_a = positive ? a : neg(a);
  const int16_t if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values<kIntegerBits>(neg(abs_a)));
  const int16_t if_negative = sub(std::numeric_limits<int16_t>::max(), if_positive);
  if (a == 0) return int16_t{1 << 14};
  return positive ? if_positive : if_negative;
}

// tanh with the integer bits chosen at run time (TFLite's ApplyTanh dispatch: 0 .. 6). Other
// values return 0 (TFLite leaves its output unwritten; ptq's callers check the range first).
inline int16_t tanh_with_integer_bits(int integer_bits, int16_t a) {
  switch (integer_bits) {
    case 0: return tanh<0>(a);
    case 1: return tanh<1>(a);
    case 2: return tanh<2>(a);
    case 3: return tanh<3>(a);
    case 4: return tanh<4>(a);
    case 5: return tanh<5>(a);
    case 6: return tanh<6>(a);
    default: return 0;
  }
}

}  // namespace fixed_point16
PTQ_NAMESPACE_END
