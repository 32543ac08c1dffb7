// x86/float16_sse41.hpp: float32 <-> float16 buffer conversion with SSE4.1 integer SIMD.
//
// SSE4.1 has no F16C, so each direction computes every case for all four lanes and selects per
// lane with compare masks and blends (no branches). It is core/float16.hpp's rule, lane-wise:
//
//   float -> half, a = |x| bits:
//     NaN    (a >  0x7F800000): 0x7E00 | ((a >> 13) & 0x3FF)             quiet, top payload bits
//     inf    (a >= 0x477FF000): 0x7C00                                   |x| >= 65520 or inf
//     normal (a >= 0x38800000): (a - (112 << 23) + 0x0FFF + ((a >> 13) & 1)) >> 13
//                                integer round to nearest even; a carry bumps the exponent
//     below  (a <  0x38800000): int(roundeven(|x| * 2^24)), in [0, 1024]
//                                |x| * 2^24 is exact (a power-of-two scale of a value < 2^-14 stays
//                                normal), and _mm_round_ps with _MM_FROUND_TO_NEAREST_INT rounds
//                                ties to even by its immediate, not by MXCSR. 1024 is 0x0400, the
//                                smallest normal, which is the right encoding. a is clamped to
//                                2^-14 first so the other lanes raise no overflow or invalid flags.
//     then OR the sign, and pack pairs of int32 lanes to uint16 (values fit, packus is exact).
//   half -> float, a = |h|:
//     inf/NaN (a >= 0x7C00): (a << 13) + (0x70 << 24), | 0x00400000 if a > 0x7C00 (quiet bit)
//     normal  (a >= 0x0400): (a << 13) + (112 << 23)
//     below   (a <  0x0400): float(a) * 2^-24, exact (a < 2^11, and the product is >= 2^-24 or 0)
//     then OR the sign.
//
// No step depends on the rounding mode or on FTZ/DAZ: the float operations are exact, and the one
// rounding is fixed by its immediate. Tails (n % 8 elements) go through a zero-padded stack copy.
#pragma once

#include "ptq/core/config.hpp"

#if PTQ_ARCH_X86
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ptq/simd/arch.hpp"

PTQ_NAMESPACE_BEGIN
namespace x86 {
namespace sse41 {
namespace detail {

// Four floats -> four binary16 bit patterns, one per int32 lane (upper 16 bits zero).
PTQ_TARGET_SSE41 PTQ_INLINE __m128i float_to_half_x4(__m128 vx) {
  const __m128i vf = _mm_castps_si128(vx);
  const __m128i va = _mm_and_si128(vf, _mm_set1_epi32(0x7FFFFFFF));
  const __m128i vsign = _mm_and_si128(_mm_srli_epi32(vf, 16), _mm_set1_epi32(0x8000));

  const __m128i vodd = _mm_and_si128(_mm_srli_epi32(va, 13), _mm_set1_epi32(1));
  const __m128i vnormal = _mm_srli_epi32(
      _mm_add_epi32(_mm_sub_epi32(va, _mm_set1_epi32(0x38000000)),
                    _mm_add_epi32(vodd, _mm_set1_epi32(0x0FFF))),
      13);

  const __m128 vsmall = _mm_castsi128_ps(_mm_min_epi32(va, _mm_set1_epi32(0x38800000)));
  const __m128 vscaled = _mm_mul_ps(vsmall, _mm_set1_ps(16777216.0f));  // * 2^24, exact
  const __m128i vsubnormal =
      _mm_cvtps_epi32(_mm_round_ps(vscaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));

  const __m128i vnan = _mm_or_si128(_mm_set1_epi32(0x7E00),
                                    _mm_and_si128(_mm_srli_epi32(va, 13), _mm_set1_epi32(0x3FF)));

  const __m128i vis_normal = _mm_cmpgt_epi32(va, _mm_set1_epi32(0x387FFFFF));
  const __m128i vis_inf = _mm_cmpgt_epi32(va, _mm_set1_epi32(0x477FEFFF));
  const __m128i vis_nan = _mm_cmpgt_epi32(va, _mm_set1_epi32(0x7F800000));

  __m128i vh = _mm_blendv_epi8(vsubnormal, vnormal, vis_normal);
  vh = _mm_blendv_epi8(vh, _mm_set1_epi32(0x7C00), vis_inf);
  vh = _mm_blendv_epi8(vh, vnan, vis_nan);
  return _mm_or_si128(vh, vsign);
}

// Four binary16 bit patterns, one per int32 lane (upper 16 bits zero) -> four floats.
PTQ_TARGET_SSE41 PTQ_INLINE __m128 half_to_float_x4(__m128i vh) {
  const __m128i vsign = _mm_slli_epi32(_mm_and_si128(vh, _mm_set1_epi32(0x8000)), 16);
  const __m128i va = _mm_and_si128(vh, _mm_set1_epi32(0x7FFF));
  const __m128i vshifted = _mm_slli_epi32(va, 13);

  const __m128i vnormal = _mm_add_epi32(vshifted, _mm_set1_epi32(0x38000000));
  const __m128i vquiet =
      _mm_and_si128(_mm_cmpgt_epi32(va, _mm_set1_epi32(0x7C00)), _mm_set1_epi32(0x00400000));
  const __m128i vinfnan =
      _mm_or_si128(_mm_add_epi32(vshifted, _mm_set1_epi32(0x70000000)), vquiet);
  const __m128i vsubnormal = _mm_castps_si128(
      _mm_mul_ps(_mm_cvtepi32_ps(va), _mm_set1_ps(5.9604644775390625e-8f)));  // * 2^-24, exact

  const __m128i vis_subnormal = _mm_cmplt_epi32(va, _mm_set1_epi32(0x0400));
  const __m128i vis_infnan = _mm_cmpgt_epi32(va, _mm_set1_epi32(0x7BFF));

  __m128i vf = _mm_blendv_epi8(vnormal, vsubnormal, vis_subnormal);
  vf = _mm_blendv_epi8(vf, vinfnan, vis_infnan);
  return _mm_castsi128_ps(_mm_or_si128(vf, vsign));
}

// Eight floats at x -> eight halves at h (both unaligned).
PTQ_TARGET_SSE41 PTQ_INLINE void float_to_half_x8(const float* x, uint16_t* h) {
  const __m128i vh0123 = float_to_half_x4(_mm_loadu_ps(x));
  const __m128i vh4567 = float_to_half_x4(_mm_loadu_ps(x + 4));
  // Every lane is in [0, 0xFFFF], so the unsigned-saturating pack is exact.
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_packus_epi32(vh0123, vh4567));
}

// Eight halves at h -> eight floats at x (both unaligned).
PTQ_TARGET_SSE41 PTQ_INLINE void half_to_float_x8(const uint16_t* h, float* x) {
  const __m128i vh01234567 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  const __m128i vh0123 = _mm_cvtepu16_epi32(vh01234567);
  const __m128i vh4567 = _mm_unpackhi_epi16(vh01234567, _mm_setzero_si128());
  _mm_storeu_ps(x, half_to_float_x4(vh0123));
  _mm_storeu_ps(x + 4, half_to_float_x4(vh4567));
}

}  // namespace detail

// h[i] = binary16 bits of x[i], for i in [0, n).
PTQ_TARGET_SSE41 inline void float_to_half(const float* PTQ_RESTRICT x, uint16_t* PTQ_RESTRICT h,
                                           std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) detail::float_to_half_x8(x + i, h + i);
  if (i < n) {
    const std::size_t rest = n - i;  // 1..7
    float xbuf[8] = {};
    uint16_t hbuf[8];
    std::memcpy(xbuf, x + i, rest * sizeof(float));
    detail::float_to_half_x8(xbuf, hbuf);
    std::memcpy(h + i, hbuf, rest * sizeof(uint16_t));
  }
}

// x[i] = the float value of the binary16 bits h[i], for i in [0, n).
PTQ_TARGET_SSE41 inline void half_to_float(const uint16_t* PTQ_RESTRICT h, float* PTQ_RESTRICT x,
                                           std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) detail::half_to_float_x8(h + i, x + i);
  if (i < n) {
    const std::size_t rest = n - i;  // 1..7
    uint16_t hbuf[8] = {};
    float xbuf[8];
    std::memcpy(hbuf, h + i, rest * sizeof(uint16_t));
    detail::half_to_float_x8(hbuf, xbuf);
    std::memcpy(x + i, xbuf, rest * sizeof(float));
  }
}

}  // namespace sse41
}  // namespace x86
PTQ_NAMESPACE_END

#endif  // PTQ_ARCH_X86
