// float16.hpp: IEEE 754 binary16 <-> binary32 conversion, bit-exact, standard library only.
//
// Why this rule: fp16 tensors (TFLite's float16 weights, ONNX float16 initializers) must decode
// and encode exactly as the hardware does, so a model converted by ptq and one converted by the
// reference tools hold the same bits. The rule is IEEE 754's default, which x86 F16C
// (vcvtps2ph with imm8 = _MM_FROUND_TO_NEAREST_INT, vcvtph2ps) implements and which every SIMD
// variant in kernels/float16.hpp is tested against:
//
//   float -> half: round to nearest, ties to even, on the exact value. Results below 2^-14 are
//     half subnormals, multiples of 2^-24 (|x| <= 2^-25 gives +-0, a tie that goes to even 0;
//     |x| in [2^-14 - 2^-25, 2^-14) rounds up to the smallest normal 0x0400). |x| >= 65520
//     (= 65504 + half an ulp, a tie whose even neighbour is 2^16) gives +-inf; inf stays inf.
//     NaN gives a quiet NaN: sign kept, the top 10 bits of the float payload kept, and the quiet
//     bit 0x0200 set, so a signalling NaN whose payload lies in the low 13 bits never becomes inf.
//   half -> float: exact for every non-NaN half (subnormal halves become normal floats). NaN keeps
//     its sign and payload (shifted left by 13) and gets the quiet bit 0x00400000.
//
// The arithmetic is on integers (`*_bits` functions are constexpr); the float wrappers go
// through std::memcpy, so they are `inline` rather than constexpr in C++17. Neither depends on
// the floating-point environment (rounding mode, FTZ/DAZ).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN

// binary32 bit pattern -> binary16 bit pattern, by the rule above.
constexpr uint16_t float_bits_to_half_bits(uint32_t f) {
  const uint32_t sign = (f >> 16) & 0x8000u;
  const uint32_t a = f & 0x7FFFFFFFu;  // |x|
  if (a > 0x7F800000u) {               // NaN: quiet, top 10 payload bits
    return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  }
  if (a >= 0x477FF000u) {  // |x| >= 65520 (and inf): +-inf
    return static_cast<uint16_t>(sign | 0x7C00u);
  }
  if (a >= 0x38800000u) {  // |x| >= 2^-14: a normal half (or 0x7BFF at most, see above)
    // Rebias the exponent (127 -> 15: subtract 112 << 23), then drop 13 mantissa bits rounding to
    // nearest even: adding 0x0FFF plus the lowest kept bit carries into the kept bits exactly when
    // the dropped part is above half, or is half and the kept part is odd. A carry out of the
    // mantissa increments the exponent, which is the correct result (1.11..1b rounds to 10.0b).
    const uint32_t odd = (a >> 13) & 1u;
    return static_cast<uint16_t>(sign | ((a - 0x38000000u + 0x0FFFu + odd) >> 13));
  }
  if (a <= 0x33000000u) {  // |x| <= 2^-25 (float subnormals and zeros included): +-0
    return static_cast<uint16_t>(sign);
  }
  // 2^-25 < |x| < 2^-14: the result is round(|x| / 2^-24), a half subnormal (or 0x0400).
  // |x| = m * 2^(e - 150) with m the 24-bit significand, so |x| / 2^-24 = m >> (126 - e), and
  // e is in [102, 112] here, so the shift is in [14, 24].
  const uint32_t e = a >> 23;
  const uint32_t m = (a & 0x007FFFFFu) | 0x00800000u;
  const uint32_t shift = 126u - e;
  const uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  const uint32_t up = (rem > halfway || (rem == halfway && (q & 1u) != 0)) ? 1u : 0u;
  return static_cast<uint16_t>(sign | (q + up));
}

// binary16 bit pattern -> binary32 bit pattern, exact (NaNs quieted, payload kept).
constexpr uint32_t half_bits_to_float_bits(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  const uint32_t a = static_cast<uint32_t>(h) & 0x7FFFu;
  if (a >= 0x7C00u) {  // inf or NaN
    const uint32_t quiet = a > 0x7C00u ? 0x00400000u : 0u;
    return sign | 0x7F800000u | quiet | ((a & 0x3FFu) << 13);
  }
  if (a >= 0x0400u) {  // normal: rebias the exponent 15 -> 127 (add 112 << 23)
    return sign | ((a << 13) + 0x38000000u);
  }
  if (a == 0) return sign;
  // Subnormal: a * 2^-24 with a in [1, 1023]; normalise so that bit 10 is the implicit one.
  // The float exponent of 2^-14 is 113; each shift halves the scale.
  uint32_t m = a;
  uint32_t e = 113;
  while ((m & 0x0400u) == 0) {
    m <<= 1;
    --e;
  }
  return sign | (e << 23) | ((m & 0x03FFu) << 13);
}

inline uint16_t float_to_half_bits(float x) {
  uint32_t f = 0;
  std::memcpy(&f, &x, sizeof f);
  return float_bits_to_half_bits(f);
}

inline float half_bits_to_float(uint16_t h) {
  const uint32_t f = half_bits_to_float_bits(h);
  float x = 0;
  std::memcpy(&x, &f, sizeof x);
  return x;
}

// One binary16 value, as stored in fp16 tensors. Conversions are explicit and follow the rule
// above; there is no arithmetic (convert to float for that).
struct float16 {
  uint16_t bits = 0;

  float16() = default;
  explicit float16(float x) : bits(float_to_half_bits(x)) {}
  explicit operator float() const { return half_bits_to_float(bits); }

  static constexpr float16 from_bits(uint16_t b) {
    float16 h;
    h.bits = b;
    return h;
  }
};

static_assert(sizeof(float16) == 2 && std::is_trivially_copyable<float16>::value,
              "float16 must be a plain 2-byte value so fp16 buffers can be reinterpreted");

PTQ_NAMESPACE_END
