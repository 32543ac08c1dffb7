// fixed_point_math.hpp: gemmlowp's fixed-point transcendental functions (exp of a negative value,
// 1/(1+x), (1-x)/(1+x), tanh, logistic) on int32 raw values, bit-exact, and the TFLite helpers
// built on them (GetReciprocal, CalculateInputRadius).
//
// Why our own: TFLite's int8 softmax, logistic and tanh reference kernels are defined by gemmlowp's
// fixedpoint.h arithmetic, to the last bit. This header is that arithmetic written once, for scalar
// int32, standard library only, so core/ stays dependency-free; it matches gemmlowp bit for bit.
//
// Representation. A value with m "integer bits" (gemmlowp's FixedPoint<int32_t, m>, Q(m).(31-m))
// stores the real number x as raw = x * 2^(31 - m) in an int32, covering [-2^m, 2^m). Here a value
// is its plain int32 raw; the integer bits are a template parameter of the function that reads it.
// The operations gemmlowp composes, and how they are written below:
//   a + b, a - b, -a        two's-complement wrap-around (gemmlowp's Add/Sub/Neg, whose overflow is
//                           formally undefined but never happens on TFLite's paths; here it wraps)
//   a * b  (Qm x Qn -> Q(m+n))  saturating_rounding_doubling_high_mul(a, b)   (core/fixed_point.hpp)
//   rescale<dst, src>(a)    saturating_rounding_multiply_by_pot(a, src - dst): for a positive
//                           exponent e a left shift that saturates when |a| > 2^(31-e) - 1
//                           (gemmlowp's threshold test, so -2^(31-e) also saturates), for a negative
//                           one rounding_divide_by_pot(a, -e) (ties away from zero)
//   rounding_half_sum(a, b) (a + b + sign(a + b)) / 2 in int64, truncated: ties away from zero
//
// Functions (constants are gemmlowp's, as Q0.31 raws unless noted):
//   exp_on_interval_between_negative_one_quarter_and_0_excl(a)   a in [-1/4, 0), Q0.31 -> Q0.31
//       x = a + 1/8; Taylor series of exp around -1/8 to the 4th order:
//       exp(-1/8) + exp(-1/8) * (x + ((x^4/4 + x^3) * 1/3 + x^2) / 2)
//       exp(-1/8) = 1895147668, 1/3 = 715827883.
//   exp_on_negative_values<m>(a)   a <= 0 in Q(m) -> exp(a) in Q0.31
//       a = q - r with q = (a mod 1/4) - 1/4 in [-1/4, 0) and r >= 0 a multiple of 1/4;
//       result = exp(q) * prod over the set bits 2^k of r (k = -2 .. 4, only for k < m) of
//       exp(-2^k) = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
//       for m > 5 an input below -32 gives 0; a == 0 gives 2^31 - 1 (gemmlowp's One()).
//   one_over_one_plus_x_for_x_in_0_1(a)        Q0.31 -> 1 / (1 + a) in Q0.31
//   one_minus_x_over_one_plus_x_for_x_in_0_1(a) Q0.31 -> (1 - a) / (1 + a) in Q0.31
//       Newton-Raphson division of 1 by d = (1 + a) / 2 = rounding_half_sum(a, 2^31 - 1), in Q2:
//       x0 = 48/17 - 32/17 * d (1515870810, -1010580540 as Q2 raws), then 3 times
//       x += rescale<2, 4>(x * (1 - d * x)). 1/(1+a) = x/2, returned as rescale<0, 1>(x) (the Q2 raw
//       read as Q1 is x/2); (1-a)/(1+a) = 1/d - 1, returned as rescale<0, 2>(x - 1).
//   fixed_point_tanh<m>(a)      Q(m) -> Q0.31: 0 -> 0; otherwise with n = -|a|,
//       t = one_minus_x_over_one_plus_x(exp_on_negative_values<m + 1>(n)) (n read as Q(m+1) is 2n),
//       and the result is t for a > 0, -t for a < 0.
//   fixed_point_logistic<m>(a)  Q(m) -> Q0.31: 0 -> 2^30 (one half); otherwise
//       p = one_over_one_plus_x(exp_on_negative_values<m>(-|a|)), p for a > 0, (2^31 - 1) - p for a < 0.
//   get_reciprocal(x, integer_digits, &num_bits_over_unit)   (TFLite's GetReciprocal, common.h)
//       x > 0 in Q(integer_digits); h = clz(x); num_bits_over_unit = integer_digits - h;
//       returns one_over_one_plus_x((x << h) - 2^31): the reciprocal of x scaled by
//       2^num_bits_over_unit, so that 1/x = raw / 2^31 / 2^num_bits_over_unit.
//   calculate_input_radius(integer_bits, left_shift, total_signed_bits)   (CalculateInputRadius)
//       floor((2^integer_bits - 1) * 2^(total_signed_bits - integer_bits) / 2^left_shift), in double.
//
// Standard library only.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"

PTQ_NAMESPACE_BEGIN

namespace fixed_point_detail {

constexpr int32_t add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
constexpr int32_t sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
constexpr int32_t neg(int32_t a) { return static_cast<int32_t>(0u - static_cast<uint32_t>(a)); }
constexpr int32_t mul(int32_t a, int32_t b) { return saturating_rounding_doubling_high_mul(a, b); }

constexpr int32_t kOne = std::numeric_limits<int32_t>::max();  // 1.0 in Q0.31 (gemmlowp's One())

}  // namespace fixed_point_detail

// Leading zero bits of x; 32 for 0.
constexpr int count_leading_zeros(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

// gemmlowp::RoundingHalfSum for int32: (a + b) / 2 rounded to nearest, ties away from zero.
constexpr int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  const int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

// gemmlowp::SaturatingRoundingMultiplyByPOT<exponent> (and TFLite's ...POTParam): x * 2^exponent,
// saturating for exponent > 0, rounding (ties away from zero) for exponent < 0. exponent in [-31, 31].
constexpr int32_t saturating_rounding_multiply_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return rounding_divide_by_pot(x, -exponent);
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return wrapping_shift_left(x, exponent);
}

// gemmlowp::Rescale<kDst>(FixedPoint<int32_t, kSrc>): changes the integer bits of a value.
template <int kDst, int kSrc>
constexpr int32_t rescale(int32_t x) {
  static_assert(kDst >= 0 && kDst < 32 && kSrc >= 0 && kSrc < 32, "integer bits in [0, 31]");
  return saturating_rounding_multiply_by_pot(x, kSrc - kDst);
}

// gemmlowp::exp_on_interval_between_negative_one_quarter_and_0_excl: a in [-1/4, 0) as Q0.31.
constexpr int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  using namespace fixed_point_detail;
  constexpr int32_t kExpMinusOneEighth = 1895147668;  // exp(-1/8)
  constexpr int32_t kOneThird = 715827883;            // 1/3
  const int32_t x = add(a, int32_t{1} << 28);         // a + 1/8
  const int32_t x2 = mul(x, x);
  const int32_t x3 = mul(x2, x);
  const int32_t x4 = mul(x2, x2);
  const int32_t x4_over_4 = rounding_divide_by_pot(x4, 2);
  const int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 =
      rounding_divide_by_pot(add(mul(add(x4_over_4, x3), kOneThird), x2), 1);
  return add(kExpMinusOneEighth, mul(kExpMinusOneEighth, add(x, x4_over_24_plus_x3_over_6_plus_x2_over_2)));
}

// gemmlowp::exp_on_negative_values: exp(a) for a <= 0 with kIntegerBits integer bits; Q0.31 result.
template <int kIntegerBits>
constexpr int32_t exp_on_negative_values(int32_t a) {
  using namespace fixed_point_detail;
  static_assert(kIntegerBits >= 0 && kIntegerBits <= 29, "integer bits in [0, 29]");
  constexpr int kFractionalBits = 31 - kIntegerBits;
  constexpr int32_t kOneQuarter = int32_t{1} << (kFractionalBits - 2);
  const int32_t a_mod_quarter_minus_one_quarter = sub(a & (kOneQuarter - 1), kOneQuarter);
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      rescale<0, kIntegerBits>(a_mod_quarter_minus_one_quarter));
  const int32_t remainder = sub(a_mod_quarter_minus_one_quarter, a);

  // exp(-2^k) for k = -2 .. 4, applied for each set bit 2^k of the remainder (the "barrel shifter").
  constexpr int32_t kExpMinusPowerOfTwo[7] = {1672461947, 1302514674, 790015084, 290630308,
                                              39332535,   720401,     242};
  for (int k = -2; k <= 4; ++k) {
    if (kIntegerBits > k) {
      const int bit = kFractionalBits + k;
      if (remainder & (int32_t{1} << bit)) result = mul(result, kExpMinusPowerOfTwo[k + 2]);
    }
  }
  if (kIntegerBits > 5) {
    constexpr int kClampBit = kIntegerBits > 5 ? 36 - kIntegerBits : 0;  // -32 as a Q(m) raw
    if (a < -(int32_t{1} << kClampBit)) result = 0;
  }
  return a == 0 ? kOne : result;
}

// gemmlowp::one_over_one_plus_x_for_x_in_0_1 and one_minus_x_over_one_plus_x_for_x_in_0_1 share the
// Newton-Raphson loop: x ~ 1 / d in Q2 for d = (1 + a) / 2.
namespace fixed_point_detail {
constexpr int32_t reciprocal_of_half_denominator(int32_t a) {
  constexpr int32_t k48Over17 = 1515870810;       // 48/17 in Q2
  constexpr int32_t kNeg32Over17 = -1010580540;   // -32/17 in Q2
  constexpr int32_t kOneQ2 = int32_t{1} << 29;    // 1 in Q2
  const int32_t half_denominator = rounding_half_sum(a, kOne);
  int32_t x = add(k48Over17, mul(half_denominator, kNeg32Over17));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = mul(half_denominator, x);
    const int32_t one_minus_half_denominator_times_x = sub(kOneQ2, half_denominator_times_x);
    x = add(x, rescale<2, 4>(mul(x, one_minus_half_denominator_times_x)));
  }
  return x;
}
}  // namespace fixed_point_detail

// 1 / (1 + a) for a in [0, 1) (Q0.31 in and out).
constexpr int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  return rescale<0, 1>(fixed_point_detail::reciprocal_of_half_denominator(a));
}

// (1 - a) / (1 + a) for a in [0, 1) (Q0.31 in and out).
constexpr int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a) {
  using namespace fixed_point_detail;
  return rescale<0, 2>(sub(reciprocal_of_half_denominator(a), int32_t{1} << 29));
}

// gemmlowp::tanh for a value with kIntegerBits integer bits; Q0.31 result.
template <int kIntegerBits>
constexpr int32_t fixed_point_tanh(int32_t a) {
  using namespace fixed_point_detail;
  const bool negative = a < 0;
  const int32_t minus_abs = negative ? a : neg(a);
  // ExactMulByPot<1>: the same raw read with one more integer bit is 2 * minus_abs.
  const int32_t t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values<kIntegerBits + 1>(minus_abs));
  if (a == 0) return 0;
  return negative ? neg(t) : t;
}

// gemmlowp::logistic for a value with kIntegerBits integer bits; Q0.31 result.
template <int kIntegerBits>
constexpr int32_t fixed_point_logistic(int32_t a) {
  using namespace fixed_point_detail;
  const bool positive = a > 0;
  const int32_t abs_a = positive ? a : neg(a);
  const int32_t if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values<kIntegerBits>(neg(abs_a)));
  const int32_t if_negative = sub(kOne, if_positive);
  if (a == 0) return int32_t{1} << 30;  // 1/2
  return positive ? if_positive : if_negative;
}

// tflite::GetReciprocal (kernels/internal/common.h): for x > 0 with x_integer_digits integer bits,
// returns r (Q0.31) and *num_bits_over_unit with 1/x ~= r / 2^31 / 2^num_bits_over_unit.
// (x == 0, where TFLite shifts by 32, gives r = one_over_one_plus_x(-2^31).)
inline int32_t get_reciprocal(int32_t x, int x_integer_digits, int* num_bits_over_unit) {
  const int headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(x));
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  const uint32_t shifted = headroom_plus_one < 32 ? static_cast<uint32_t>(x) << headroom_plus_one : 0u;
  const int32_t shifted_sum_minus_one = static_cast<int32_t>(shifted - (uint32_t{1} << 31));
  return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

// tflite::CalculateInputRadius (quantization_util.cc), with the power of two taken by std::ldexp so
// that a negative input_left_shift (where TFLite shifts by a negative amount) is defined; results
// beyond int's range saturate.
inline int calculate_input_radius(int input_integer_bits, int input_left_shift, int total_signed_bits = 31) {
  const double max_input_rescaled =
      std::ldexp(static_cast<double>((int64_t{1} << input_integer_bits) - 1),
                 total_signed_bits - input_integer_bits - input_left_shift);
  const double r = std::floor(max_input_rescaled);
  if (r >= static_cast<double>(std::numeric_limits<int>::max())) return std::numeric_limits<int>::max();
  return static_cast<int>(r);
}

PTQ_NAMESPACE_END
