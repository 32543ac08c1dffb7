// x86/float16_avx2.hpp: float32 <-> float16 buffer conversion with F16C, for the kAvx2 level.
//
// F16C is the hardware the rule in core/float16.hpp was written from: vcvtps2ph with
// imm8 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC rounds to nearest even whatever MXCSR says,
// and vcvtph2ps is exact, so each lane equals reference::float_to_half / half_to_float bit for
// bit (NaNs included: both quiet them and keep the top payload bits). F16C belongs to the kAvx2
// level (x86-64-v3), so the functions carry PTQ_TARGET_AVX2 and need no -m flag from the user.
// Tails (n % 8 elements) go through a zero-padded copy on the stack, so every element is
// converted by the same instruction and nothing is read or written outside [0, n).
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
namespace avx2 {

// h[i] = binary16 bits of x[i], for i in [0, n).
PTQ_TARGET_AVX2 inline void float_to_half(const float* PTQ_RESTRICT x, uint16_t* PTQ_RESTRICT h,
                                          std::size_t n) {
  constexpr int kRoundNearestEven = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 vx01234567 = _mm256_loadu_ps(x + i);
    const __m256 vx89ABCDEF = _mm256_loadu_ps(x + i + 8);
    const __m128i vh01234567 = _mm256_cvtps_ph(vx01234567, kRoundNearestEven);
    const __m128i vh89ABCDEF = _mm256_cvtps_ph(vx89ABCDEF, kRoundNearestEven);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), vh01234567);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i + 8), vh89ABCDEF);
  }
  for (; i + 8 <= n; i += 8) {
    const __m128i vh = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), kRoundNearestEven);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), vh);
  }
  if (i < n) {
    const std::size_t rest = n - i;  // 1..7
    float xbuf[8] = {};
    uint16_t hbuf[8];
    std::memcpy(xbuf, x + i, rest * sizeof(float));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(hbuf),
                     _mm256_cvtps_ph(_mm256_loadu_ps(xbuf), kRoundNearestEven));
    std::memcpy(h + i, hbuf, rest * sizeof(uint16_t));
  }
}

// x[i] = the float value of the binary16 bits h[i], for i in [0, n).
PTQ_TARGET_AVX2 inline void half_to_float(const uint16_t* PTQ_RESTRICT h, float* PTQ_RESTRICT x,
                                          std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i vh01234567 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    const __m128i vh89ABCDEF = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + 8));
    _mm256_storeu_ps(x + i, _mm256_cvtph_ps(vh01234567));
    _mm256_storeu_ps(x + i + 8, _mm256_cvtph_ps(vh89ABCDEF));
  }
  for (; i + 8 <= n; i += 8) {
    const __m128i vh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    _mm256_storeu_ps(x + i, _mm256_cvtph_ps(vh));
  }
  if (i < n) {
    const std::size_t rest = n - i;  // 1..7
    uint16_t hbuf[8] = {};
    float xbuf[8];
    std::memcpy(hbuf, h + i, rest * sizeof(uint16_t));
    const __m128i vh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hbuf));
    _mm256_storeu_ps(xbuf, _mm256_cvtph_ps(vh));
    std::memcpy(x + i, xbuf, rest * sizeof(float));
  }
}

}  // namespace avx2
}  // namespace x86
PTQ_NAMESPACE_END

#endif  // PTQ_ARCH_X86
