// Fixed-point arithmetic against hand-worked values from gemmlowp's and TFLite's definitions,
// and against exact rational arithmetic over random inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "ptq/core/fixed_point.hpp"

using ptq::RoundingMode;

namespace {
constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

// floor(a / 2^n) for any int64 a, written with division so it does not share code with the
// shifts under test.
int64_t floor_div_pow2(int64_t a, int n) {
  const int64_t d = int64_t{1} << n;
  int64_t q = a / d;
  if ((a % d) != 0 && a < 0) --q;
  return q;
}
}  // namespace

TEST_SUITE("core") {
TEST_CASE("fixed point: saturating_rounding_doubling_high_mul, hand-worked") {
  // round(a*b / 2^31), ties toward +infinity.
  CHECK(ptq::saturating_rounding_doubling_high_mul(1, 1 << 30) == 1);     // 0.5 -> 1
  CHECK(ptq::saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0);    // -0.5 -> 0
  CHECK(ptq::saturating_rounding_doubling_high_mul(3, 1 << 30) == 2);     // 1.5 -> 2
  CHECK(ptq::saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);   // -1.5 -> -1
  CHECK(ptq::saturating_rounding_doubling_high_mul(1000, 1610612736) == 750);  // 0.75
  CHECK(ptq::saturating_rounding_doubling_high_mul(kMin, kMin) == kMax);       // the one overflow
  CHECK(ptq::saturating_rounding_doubling_high_mul(kMin, kMax) == -kMax);
  CHECK(ptq::saturating_rounding_doubling_high_mul(kMax, kMax) == kMax - 1);
}

TEST_CASE("fixed point: rounding_divide_by_pot, ties away from zero") {
  CHECK(ptq::rounding_divide_by_pot(5, 1) == 3);
  CHECK(ptq::rounding_divide_by_pot(-5, 1) == -3);
  CHECK(ptq::rounding_divide_by_pot(-6, 2) == -2);  // -1.5
  CHECK(ptq::rounding_divide_by_pot(6, 2) == 2);    // 1.5
  CHECK(ptq::rounding_divide_by_pot(-5, 2) == -1);  // -1.25
  CHECK(ptq::rounding_divide_by_pot(7, 0) == 7);
  CHECK(ptq::rounding_divide_by_pot(kMax, 31) == 1);   // 0.99999 -> 1
  CHECK(ptq::rounding_divide_by_pot(kMin, 31) == -1);  // -1 exactly
  CHECK(ptq::rounding_divide_by_pot(kMin, 30) == -2);
}

TEST_CASE("fixed point: rounding_divide_by_pot equals exact rounding on random inputs") {
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const auto x = static_cast<int32_t>(rng());
    const int e = static_cast<int>(rng() % 32);
    // exact: |x| / 2^e rounded half up, with x's sign
    const int64_t mag = x < 0 ? -int64_t{x} : int64_t{x};
    const int64_t r = floor_div_pow2(2 * mag + (int64_t{1} << e), e + 1);
    const int64_t want = x < 0 ? -r : r;
    REQUIRE(ptq::rounding_divide_by_pot(x, e) == want);
  }
}

TEST_CASE("fixed point: quantize_multiplier, hand-worked") {
  using QM = ptq::QuantizedMultiplier;
  CHECK(ptq::quantize_multiplier(0.5) == QM{1 << 30, 0});
  CHECK(ptq::quantize_multiplier(1.0) == QM{1 << 30, 1});
  CHECK(ptq::quantize_multiplier(0.75) == QM{1610612736, 0});
  CHECK(ptq::quantize_multiplier(3.0) == QM{1610612736, 2});
  CHECK(ptq::quantize_multiplier(0.0) == QM{0, 0});
  CHECK(ptq::quantize_multiplier(std::ldexp(1.0, -32)) == QM{1 << 30, -31});
  CHECK(ptq::quantize_multiplier(std::ldexp(1.0, -33)) == QM{0, 0});  // flushed, like TFLite
  // q*2^31 rounds up to 2^31: the mantissa halves and the shift grows.
  CHECK(ptq::quantize_multiplier(1.0 - std::ldexp(1.0, -40)) == QM{1 << 30, 1});
  // mantissa rounding ties away from zero: q = 0.5 + 2^-32 -> q*2^31 = 2^30 + 0.5 -> 2^30 + 1
  CHECK(ptq::quantize_multiplier(0.5 + std::ldexp(1.0, -32)) == QM{(1 << 30) + 1, 0});
  // single rounding saturates shifts above 30; double rounding keeps them
  CHECK(ptq::quantize_multiplier(std::ldexp(1.0, 31), RoundingMode::kSingle) == QM{kMax, 30});
  CHECK(ptq::quantize_multiplier(std::ldexp(1.0, 31), RoundingMode::kDouble) == QM{1 << 30, 32});
  CHECK(ptq::quantize_multiplier(0.3).real() == doctest::Approx(0.3).epsilon(1e-9));
  CHECK(ptq::quantize_multiplier_smaller_than_one(0.25).shift == -1);
  CHECK(ptq::quantize_multiplier_greater_than_one(5.0).shift == 3);
}

TEST_CASE("fixed point: multiply_by_quantized_multiplier, both rounding modes, hand-worked") {
  // real 0.25 = 2^30 * 2^(-1-31). x = 5: exact 1.25.
  //   double: SRDHM(5, 2^30) = round(2.5) = 3, then RDBPOT(3, 1) = round(1.5) = 2   (two roundings)
  //   single: (5 * 2^30 + 2^31) >> 32 = floor(1.75) = 1                             (one rounding)
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kDouble>(5, 1 << 30, -1) == 2);
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kSingle>(5, 1 << 30, -1) == 1);
  CHECK(ptq::multiply_by_quantized_multiplier(5, 1 << 30, -1, RoundingMode::kSingle) == 1);
  // negative ties: x = -3 at 0.5: double rounds SRDHM(-3, 2^30) = -1 (tie up); single floor(-1.5 + 0.5) = -1
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kDouble>(-3, 1 << 30, 0) == -1);
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kSingle>(-3, 1 << 30, 0) == -1);
  // 0.75 * 1000 = 750 in both modes
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kDouble>(1000, 1610612736, 0) == 750);
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kSingle>(1000, 1610612736, 0) == 750);
  // left shifts: 3.0 = 0.75 * 2^2
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kDouble>(-7, 1610612736, 2) == -21);
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kSingle>(-7, 1610612736, 2) == -21);
  // double mode wraps x << shift exactly as TFLite's x * (1 << shift) does in practice
  CHECK(ptq::multiply_by_quantized_multiplier<RoundingMode::kDouble>(1 << 30, 1 << 30, 2) ==
        ptq::saturating_rounding_doubling_high_mul(0, 1 << 30));
  // the smaller/greater-than-one forms equal the general one
  CHECK(ptq::multiply_by_quantized_multiplier_smaller_than_one_exp<RoundingMode::kDouble>(5, 1 << 30, -1) == 2);
  CHECK(ptq::multiply_by_quantized_multiplier_greater_than_one<RoundingMode::kDouble>(-7, 1610612736, 2) == -21);
}

TEST_CASE("fixed point: single rounding equals exact round-half-up of x * m / 2^(31-shift)") {
  std::mt19937 rng(2);
  for (int i = 0; i < 200000; ++i) {
    const auto x = static_cast<int32_t>(rng());
    const int32_t m = static_cast<int32_t>((1u << 30) + (rng() % (1u << 30)));
    const int shift = -static_cast<int>(rng() % 31) - 1;  // [-31, -1]: results fit in int32
    const int64_t want = floor_div_pow2(int64_t{x} * m + (int64_t{1} << (30 - shift)), 31 - shift);
    REQUIRE(ptq::multiply_by_quantized_multiplier<RoundingMode::kSingle>(x, m, shift) == want);
    // double rounding is within one of the exact result
    const int32_t d = ptq::multiply_by_quantized_multiplier<RoundingMode::kDouble>(x, m, shift);
    REQUIRE(std::abs(int64_t{d} - want) <= 1);
  }
}

TEST_CASE("fixed point: the int64 form (16x8 kernels), hand-worked") {
  // m = 2^30 (0.5): reduced = (2^30 + 2^15) >> 16 = 2^14; total shift 15.
  // x = -7: (-7 * 2^14 + 2^14) >> 15 = -3   (exact -3.5, rounded half up)
  CHECK(ptq::multiply_by_quantized_multiplier_64<RoundingMode::kDouble>(-7, 1 << 30, 0) == -3);
  CHECK(ptq::multiply_by_quantized_multiplier_64<RoundingMode::kSingle>(-7, 1 << 30, 0) == -3);
  // a 40-bit accumulator: 3 * 10^9 * 0.5
  CHECK(ptq::multiply_by_quantized_multiplier_64(int64_t{3000000000}, 1 << 30, 0, RoundingMode::kDouble) ==
        1500000000);
  // multipliers at or above 0x7FFF0000 reduce to 0x7FFF: 0x7FFF / 2^15 of 1000 * 2 = 1999.94 -> 2000
  CHECK(ptq::multiply_by_quantized_multiplier_64(1000, 0x7FFFFFFF, 1, RoundingMode::kSingle) == 2000);
}
}
