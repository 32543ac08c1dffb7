// x86/fixed_point_avx2.hpp: fixed-point requantization primitives on 256-bit vectors (AVX2),
// and the algorithm of fixed_point-inl.hpp instantiated over them.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ptq/core/fixed_point.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX2)
PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {

using VI = __m256i;
using Count = __m128i;

PTQ_INLINE Count count(int n) { return _mm_cvtsi32_si128(n); }
PTQ_INLINE VI set1_i32(int32_t v) { return _mm256_set1_epi32(v); }
PTQ_INLINE VI set1_i64(int64_t v) { return _mm256_set1_epi64x(v); }
PTQ_INLINE VI add_i64(VI a, VI b) { return _mm256_add_epi64(a, b); }
PTQ_INLINE VI mul_even_i32(VI a, VI b) { return _mm256_mul_epi32(a, b); }
PTQ_INLINE VI srli_i64_32(VI a) { return _mm256_srli_epi64(a, 32); }
PTQ_INLINE VI slli_i64_32(VI a) { return _mm256_slli_epi64(a, 32); }
PTQ_INLINE VI srl_i64(VI a, Count n) { return _mm256_srl_epi64(a, n); }
PTQ_INLINE VI blend_odd_i32(VI even, VI odd) { return _mm256_blend_epi32(even, odd, 0xAA); }
PTQ_INLINE VI sll_i32(VI a, Count n) { return _mm256_sll_epi32(a, n); }
PTQ_INLINE VI sra_i32(VI a, Count n) { return _mm256_sra_epi32(a, n); }
PTQ_INLINE VI srai31_i32(VI a) { return _mm256_srai_epi32(a, 31); }
PTQ_INLINE VI and_i(VI a, VI b) { return _mm256_and_si256(a, b); }
PTQ_INLINE VI sub_i32(VI a, VI b) { return _mm256_sub_epi32(a, b); }
PTQ_INLINE VI cmpgt_i32(VI a, VI b) { return _mm256_cmpgt_epi32(a, b); }

#include "ptq/simd/x86/fixed_point-inl.hpp"

// Per-lane shift counts and the rest of what fixed_point_per_lane-inl.hpp needs.
PTQ_INLINE VI add_i32(VI a, VI b) { return _mm256_add_epi32(a, b); }
PTQ_INLINE VI sub_i64(VI a, VI b) { return _mm256_sub_epi64(a, b); }
PTQ_INLINE VI max_i32(VI a, VI b) { return _mm256_max_epi32(a, b); }
PTQ_INLINE VI srli1_i32(VI a) { return _mm256_srli_epi32(a, 1); }
PTQ_INLINE VI sllv_i32(VI a, VI n) { return _mm256_sllv_epi32(a, n); }
PTQ_INLINE VI srav_i32(VI a, VI n) { return _mm256_srav_epi32(a, n); }
PTQ_INLINE VI sllv_i64(VI a, VI n) { return _mm256_sllv_epi64(a, n); }
PTQ_INLINE VI srlv_i64(VI a, VI n) { return _mm256_srlv_epi64(a, n); }

#include "ptq/simd/x86/fixed_point_per_lane-inl.hpp"

}  // namespace x86::avx2
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
