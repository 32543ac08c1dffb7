// pointwise_oracle.hpp: an independent int64 re-derivation of TFLite's requantization arithmetic,
// for the pointwise family's tests (Add, Sub, Mul, Relu, LeakyRelu).
//
// Written from the definitions, not from ptq's fixed_point.hpp: every rounding is an exact
// integer division with its rounding rule spelled out.
//   SaturatingRoundingDoublingHighMul(a, b) = nearest integer to a * b / 2^31, ties toward +inf
//   RoundingDivideByPOT(x, e)               = nearest integer to x / 2^e, ties away from zero
//   double rounding:  RoundingDivideByPOT(SRDHM(x * 2^max(s,0), m), max(-s,0))
//   single rounding:  nearest integer to x * m / 2^(31 - s), ties toward +inf
//   QuantizeMultiplier(M): M = q * 2^s, q in [0.5, 1); m = round(q * 2^31) (ties away), m = 2^31
//     becomes 2^30 with s + 1; s < -31 flushes to (0, 0).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "ptq/core/fixed_point.hpp"

namespace pointwise_oracle {

struct Multiplier {
  int64_t m = 0;
  int shift = 0;
};

inline int64_t floor_div(int64_t x, int64_t d) {  // d > 0
  int64_t q = x / d;
  if ((x % d) != 0 && x < 0) --q;
  return q;
}

// Nearest to x / 2^e, ties toward +inf.
inline int64_t div_pow2_ties_up(int64_t x, int e) {
  if (e == 0) return x;
  return floor_div(x + (int64_t{1} << (e - 1)), int64_t{1} << e);
}

// Nearest to x / 2^e, ties away from zero.
inline int64_t div_pow2_ties_away(int64_t x, int e) {
  if (e == 0) return x;
  const int64_t mag = x < 0 ? -x : x;
  const int64_t q = (mag + (int64_t{1} << (e - 1))) >> e;
  return x < 0 ? -q : q;
}

inline Multiplier quantize(double real) {
  Multiplier r;
  if (real == 0.0) return r;
  int s = 0;
  const double q = std::frexp(real, &s);
  int64_t m = static_cast<int64_t>(std::round(q * 2147483648.0));
  if (m == (int64_t{1} << 31)) {
    m /= 2;
    ++s;
  }
  if (s < -31) return r;
  r.m = m;
  r.shift = s;
  return r;
}

// x * M in TFLite's fixed point, in the given rounding mode. Preconditions: x * 2^max(shift, 0)
// fits in int32 (no test here relies on TFLite's wrap-around).
inline int64_t requantize(int64_t x, Multiplier mult, ptq::RoundingMode mode) {
  if (mode == ptq::RoundingMode::kSingle) {
    return div_pow2_ties_up(x * mult.m, 31 - mult.shift);
  }
  const int left = mult.shift > 0 ? mult.shift : 0;
  const int right = mult.shift > 0 ? 0 : -mult.shift;
  const int64_t v = x * (int64_t{1} << left);
  const int64_t high = (v == mult.m && v == std::numeric_limits<int32_t>::min())
                           ? std::numeric_limits<int32_t>::max()
                           : div_pow2_ties_up(v * mult.m, 31);
  return div_pow2_ties_away(high, right);
}

inline int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace pointwise_oracle
