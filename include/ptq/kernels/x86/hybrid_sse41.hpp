// x86/hybrid_sse41.hpp: the float ends of the hybrid (dynamic-range) kernels on 128-bit vectors:
// SSE4.1's primitives, and the algorithms of x86/hybrid-inl.hpp instantiated over them.
// Compiled for SSE4.1 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ptq/kernels/hybrid_row.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/x86/quantize_sse41.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {
namespace hybrid_detail {

using VF = __m128;
using VI = __m128i;
constexpr int64_t kLanes = 4;

PTQ_INLINE VF loadu_f(const float* p) { return _mm_loadu_ps(p); }
PTQ_INLINE void storeu_f(float* p, VF v) { _mm_storeu_ps(p, v); }
PTQ_INLINE VF set1_f(float v) { return _mm_set1_ps(v); }
PTQ_INLINE VF min_f(VF a, VF b) { return _mm_min_ps(a, b); }
PTQ_INLINE VF max_f(VF a, VF b) { return _mm_max_ps(a, b); }
PTQ_INLINE VF add_f(VF a, VF b) { return _mm_add_ps(a, b); }
PTQ_INLINE VF mul_f(VF a, VF b) { return _mm_mul_ps(a, b); }
PTQ_INLINE VF opaque_f(VF v) {
  __asm__("" : "+x"(v));
  return v;
}
PTQ_INLINE VF nan_to_f(VF v, VF replacement) { return _mm_blendv_ps(replacement, v, _mm_cmpord_ps(v, v)); }
PTQ_INLINE VI cvt_f_i(VF v) { return _mm_cvtps_epi32(v); }
PTQ_INLINE VF cvt_i_f(VI v) { return _mm_cvtepi32_ps(v); }
PTQ_INLINE VI loadu_i(const int32_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
PTQ_INLINE VI set1_i32(int32_t v) { return _mm_set1_epi32(v); }
PTQ_INLINE VI sub_i32(VI a, VI b) { return _mm_sub_epi32(a, b); }
PTQ_INLINE VI mullo_i32(VI a, VI b) { return _mm_mullo_epi32(a, b); }
PTQ_INLINE void store_narrow_i8(int8_t* q, VI v) { store4_narrow<int8_t>(q, v); }

#include "ptq/kernels/x86/hybrid-inl.hpp"

}  // namespace hybrid_detail
using hybrid_detail::hybrid_conv_epilogue;
using hybrid_detail::hybrid_fc_epilogue;
using hybrid_detail::hybrid_minmax;
using hybrid_detail::hybrid_quantize;
}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
