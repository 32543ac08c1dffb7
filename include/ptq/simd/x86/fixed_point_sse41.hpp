// x86/fixed_point_sse41.hpp: fixed-point requantization primitives on 128-bit vectors (SSE4.1),
// and the algorithm of fixed_point-inl.hpp instantiated over them.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ptq/core/fixed_point.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {

using VI = __m128i;
using Count = __m128i;

PTQ_INLINE Count count(int n) { return _mm_cvtsi32_si128(n); }
PTQ_INLINE VI set1_i32(int32_t v) { return _mm_set1_epi32(v); }
PTQ_INLINE VI set1_i64(int64_t v) { return _mm_set1_epi64x(v); }
PTQ_INLINE VI add_i64(VI a, VI b) { return _mm_add_epi64(a, b); }
PTQ_INLINE VI mul_even_i32(VI a, VI b) { return _mm_mul_epi32(a, b); }
PTQ_INLINE VI srli_i64_32(VI a) { return _mm_srli_epi64(a, 32); }
PTQ_INLINE VI slli_i64_32(VI a) { return _mm_slli_epi64(a, 32); }
PTQ_INLINE VI srl_i64(VI a, Count n) { return _mm_srl_epi64(a, n); }
PTQ_INLINE VI blend_odd_i32(VI even, VI odd) { return _mm_blend_epi16(even, odd, 0xCC); }
PTQ_INLINE VI sll_i32(VI a, Count n) { return _mm_sll_epi32(a, n); }
PTQ_INLINE VI sra_i32(VI a, Count n) { return _mm_sra_epi32(a, n); }
PTQ_INLINE VI srai31_i32(VI a) { return _mm_srai_epi32(a, 31); }
PTQ_INLINE VI and_i(VI a, VI b) { return _mm_and_si128(a, b); }
PTQ_INLINE VI sub_i32(VI a, VI b) { return _mm_sub_epi32(a, b); }
PTQ_INLINE VI cmpgt_i32(VI a, VI b) { return _mm_cmpgt_epi32(a, b); }

#include "ptq/simd/x86/fixed_point-inl.hpp"

// Per-lane shift counts and the rest of what fixed_point_per_lane-inl.hpp needs. SSE4.1 shifts
// all lanes by one count (the low 64 bits of a register); a per-lane shift is one uniform shift
// per lane, each with that lane's count isolated and zero-extended, blended together. Counts of
// 32 (64) or more give 0 like AVX2's vpsllvd/vpsrlvq; srav saturates them to 31 like vpsravd.
PTQ_INLINE VI add_i32(VI a, VI b) { return _mm_add_epi32(a, b); }
PTQ_INLINE VI sub_i64(VI a, VI b) { return _mm_sub_epi64(a, b); }
PTQ_INLINE VI max_i32(VI a, VI b) { return _mm_max_epi32(a, b); }
PTQ_INLINE VI srli1_i32(VI a) { return _mm_srli_epi32(a, 1); }
template <class Shift>
PTQ_INLINE VI per_lane_i32(VI a, VI n, Shift shift) {
  const VI zero = _mm_setzero_si128();
  const VI r0 = shift(a, _mm_blend_epi16(zero, n, 0x03));
  const VI r1 = shift(a, _mm_srli_epi64(n, 32));
  const VI r2 = shift(a, _mm_unpackhi_epi32(n, zero));
  const VI r3 = shift(a, _mm_srli_si128(n, 12));
  return _mm_blend_epi16(_mm_blend_epi16(r0, r1, 0x0C), _mm_blend_epi16(r2, r3, 0xC0), 0xF0);
}
PTQ_INLINE VI sllv_i32(VI a, VI n) {
  return per_lane_i32(a, n, [](VI v, VI c) { return _mm_sll_epi32(v, c); });
}
PTQ_INLINE VI srav_i32(VI a, VI n) {
  return per_lane_i32(a, n, [](VI v, VI c) { return _mm_sra_epi32(v, c); });
}
PTQ_INLINE VI sllv_i64(VI a, VI n) {
  return _mm_blend_epi16(_mm_sll_epi64(a, n), _mm_sll_epi64(a, _mm_unpackhi_epi64(n, n)), 0xF0);
}
PTQ_INLINE VI srlv_i64(VI a, VI n) {
  return _mm_blend_epi16(_mm_srl_epi64(a, n), _mm_srl_epi64(a, _mm_unpackhi_epi64(n, n)), 0xF0);
}

#include "ptq/simd/x86/fixed_point_per_lane-inl.hpp"

}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
