// x86/pool_avx2.hpp: the pooling and Mean kernels (pool_kernels-inl.hpp) on 256-bit vectors: 32
// int8 channels per max-pool step (then 16 and 8 in xmm), 8 floats (then 4), 8 int32 sums (then 4)
// for the int8 average and Mean. average() and store_narrow() as the 128-bit ones
// (x86/pool_x86_128-inl.hpp), eight lanes at a time.
// Compiled for AVX2 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>

#include "ptq/kernels/pool_ops.hpp"
#include "ptq/kernels/reference/pool.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX2)
PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {
namespace pool_kernels {

#include "ptq/kernels/x86/pool_x86_128-inl.hpp"

struct I8x32 {
  using V = __m256i;
  static constexpr int kLanes = 32;
  static PTQ_INLINE V load(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static PTQ_INLINE void store(int8_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static PTQ_INLINE V set1(int8_t v) { return _mm256_set1_epi8(static_cast<char>(v)); }
  static PTQ_INLINE V max(V a, V b) { return _mm256_max_epi8(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm256_min_epi8(a, b); }
};

struct F32x8 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static PTQ_INLINE V load(const float* p) { return _mm256_loadu_ps(p); }
  static PTQ_INLINE void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static PTQ_INLINE V set1(float v) { return _mm256_set1_ps(v); }
  static PTQ_INLINE V zero() { return _mm256_setzero_ps(); }
  static PTQ_INLINE V add(V a, V b) { return _mm256_add_ps(a, b); }
  static PTQ_INLINE V div(V a, V b) { return _mm256_div_ps(a, b); }
  static PTQ_INLINE V max(V a, V b) { return _mm256_max_ps(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm256_min_ps(a, b); }
};

struct I32x8 {
  using V = __m256i;
  static constexpr int kLanes = 8;
  static PTQ_INLINE V load_widen(const int8_t* p) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static PTQ_INLINE void store(int32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static PTQ_INLINE V set1(int32_t v) { return _mm256_set1_epi32(v); }
  static PTQ_INLINE V zero() { return _mm256_setzero_si256(); }
  static PTQ_INLINE V add(V a, V b) { return _mm256_add_epi32(a, b); }
  static PTQ_INLINE V max(V a, V b) { return _mm256_max_epi32(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm256_min_epi32(a, b); }
  static PTQ_INLINE V average(V acc, int32_t n) {
    const V num = _mm256_add_epi32(acc, _mm256_sign_epi32(_mm256_set1_epi32(n / 2), acc));
    return _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(num), _mm256_set1_ps(static_cast<float>(n))));
  }
  static PTQ_INLINE void store_narrow(int8_t* p, V v) {
    const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(w16, w16));
  }
};

using I8Widths = std::tuple<I8x32, I8x16, I8x8, pool_ops::I8x1>;
using F32Widths = std::tuple<F32x8, F32x4, pool_ops::F32x1>;
using I32Widths = std::tuple<I32x8, I32x4, pool_ops::I32x1>;

#include "ptq/kernels/pool_kernels-inl.hpp"

}  // namespace pool_kernels
}  // namespace x86::avx2
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
