// x86/fixed_point_avx512.hpp: fixed-point requantization primitives on 512-bit vectors (AVX-512),
// and the algorithm of fixed_point-inl.hpp instantiated over them.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ptq/core/fixed_point.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX512)
PTQ_X86_BEGIN_AVX512_WARNINGS
PTQ_NAMESPACE_BEGIN
namespace x86::avx512 {

using VI = __m512i;
using Count = __m128i;

PTQ_INLINE Count count(int n) { return _mm_cvtsi32_si128(n); }
PTQ_INLINE VI set1_i32(int32_t v) { return _mm512_set1_epi32(v); }
PTQ_INLINE VI set1_i64(int64_t v) { return _mm512_set1_epi64(v); }
PTQ_INLINE VI add_i64(VI a, VI b) { return _mm512_add_epi64(a, b); }
PTQ_INLINE VI mul_even_i32(VI a, VI b) { return _mm512_mul_epi32(a, b); }
PTQ_INLINE VI srli_i64_32(VI a) { return _mm512_srli_epi64(a, 32); }
PTQ_INLINE VI slli_i64_32(VI a) { return _mm512_slli_epi64(a, 32); }
PTQ_INLINE VI srl_i64(VI a, Count n) { return _mm512_srl_epi64(a, n); }
PTQ_INLINE VI blend_odd_i32(VI even, VI odd) { return _mm512_mask_blend_epi32(0xAAAA, even, odd); }
PTQ_INLINE VI sll_i32(VI a, Count n) { return _mm512_sll_epi32(a, n); }
PTQ_INLINE VI sra_i32(VI a, Count n) { return _mm512_sra_epi32(a, n); }
PTQ_INLINE VI srai31_i32(VI a) { return _mm512_srai_epi32(a, 31); }
PTQ_INLINE VI and_i(VI a, VI b) { return _mm512_and_si512(a, b); }
PTQ_INLINE VI sub_i32(VI a, VI b) { return _mm512_sub_epi32(a, b); }
PTQ_INLINE VI cmpgt_i32(VI a, VI b) { return _mm512_movm_epi32(_mm512_cmpgt_epi32_mask(a, b)); }

#include "ptq/simd/x86/fixed_point-inl.hpp"

// Per-lane shift counts and the rest of what fixed_point_per_lane-inl.hpp needs: AVX-512F has the
// variable shifts as instructions, with AVX2's semantics (vpsllvd / vpsrlvq give 0 for counts of
// 32 / 64 or more, vpsravd fills with the sign bit).
PTQ_INLINE VI add_i32(VI a, VI b) { return _mm512_add_epi32(a, b); }
PTQ_INLINE VI sub_i64(VI a, VI b) { return _mm512_sub_epi64(a, b); }
PTQ_INLINE VI max_i32(VI a, VI b) { return _mm512_max_epi32(a, b); }
PTQ_INLINE VI srli1_i32(VI a) { return _mm512_srli_epi32(a, 1); }
PTQ_INLINE VI sllv_i32(VI a, VI n) { return _mm512_sllv_epi32(a, n); }
PTQ_INLINE VI srav_i32(VI a, VI n) { return _mm512_srav_epi32(a, n); }
PTQ_INLINE VI sllv_i64(VI a, VI n) { return _mm512_sllv_epi64(a, n); }
PTQ_INLINE VI srlv_i64(VI a, VI n) { return _mm512_srlv_epi64(a, n); }

#include "ptq/simd/x86/fixed_point_per_lane-inl.hpp"

}  // namespace x86::avx512
PTQ_NAMESPACE_END
PTQ_X86_END_AVX512_WARNINGS
PTQ_X86_END_REGION
