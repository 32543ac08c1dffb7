// x86/float16_avx512.hpp: float32 <-> float16 buffer conversion on zmm, for the kAvx512 level.
//
// The EVEX forms of the F16C instructions: vcvtps2ph zmm with imm8 = _MM_FROUND_TO_NEAREST_INT |
// _MM_FROUND_NO_EXC rounds to nearest even whatever MXCSR says, and vcvtph2ps zmm is exact, so
// each lane equals reference::float_to_half / half_to_float bit for bit (NaNs included). Tails
// (n % 16 elements) use opmask loads and stores, which neither read nor write the masked-off
// elements (no fault past the end of a buffer).
//
// GCC 12 warns falsely (-Wmaybe-uninitialized) inside its own _mm512_cvtps_ph, whose unmasked form
// passes _mm256_undefined_si256() as the merge source; PTQ_X86_BEGIN_AVX512_WARNINGS scopes the
// suppression to this file's functions and to the compilers that need it.
#pragma once

#include "ptq/core/config.hpp"

#if PTQ_ARCH_X86
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "ptq/simd/arch.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_AVX512_WARNINGS

PTQ_NAMESPACE_BEGIN
namespace x86 {
namespace avx512 {

// h[i] = binary16 bits of x[i], for i in [0, n).
PTQ_TARGET_AVX512 inline void float_to_half(const float* PTQ_RESTRICT x, uint16_t* PTQ_RESTRICT h,
                                            std::size_t n) {
  constexpr int kRoundNearestEven = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 vx0 = _mm512_loadu_ps(x + i);
    const __m512 vx1 = _mm512_loadu_ps(x + i + 16);
    const __m256i vh0 = _mm512_cvtps_ph(vx0, kRoundNearestEven);
    const __m256i vh1 = _mm512_cvtps_ph(vx1, kRoundNearestEven);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i), vh0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i + 16), vh1);
  }
  for (; i + 16 <= n; i += 16) {
    const __m256i vh = _mm512_cvtps_ph(_mm512_loadu_ps(x + i), kRoundNearestEven);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i), vh);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1u);  // n - i in [1, 15]
    const __m512 vx = _mm512_maskz_loadu_ps(mask, x + i);
    _mm256_mask_storeu_epi16(h + i, mask, _mm512_cvtps_ph(vx, kRoundNearestEven));
  }
}

// x[i] = the float value of the binary16 bits h[i], for i in [0, n).
PTQ_TARGET_AVX512 inline void half_to_float(const uint16_t* PTQ_RESTRICT h, float* PTQ_RESTRICT x,
                                            std::size_t n) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i vh0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i));
    const __m256i vh1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i + 16));
    _mm512_storeu_ps(x + i, _mm512_cvtph_ps(vh0));
    _mm512_storeu_ps(x + i + 16, _mm512_cvtph_ps(vh1));
  }
  for (; i + 16 <= n; i += 16) {
    const __m256i vh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i));
    _mm512_storeu_ps(x + i, _mm512_cvtph_ps(vh));
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1u);  // n - i in [1, 15]
    const __m256i vh = _mm256_maskz_loadu_epi16(mask, h + i);
    _mm512_mask_storeu_ps(x + i, mask, _mm512_cvtph_ps(vh));
  }
}

}  // namespace avx512
}  // namespace x86
PTQ_NAMESPACE_END

PTQ_X86_END_AVX512_WARNINGS

#endif  // PTQ_ARCH_X86
