// x86/float_sse41.hpp: the float32 kernels on 128-bit vectors (SSE4.1 level): 3x16 GEMM tiles
// (12 xmm accumulators: 3 rows x 4 vectors), 1x32 one-row tiles (2 panels, 8 accumulators), the
// output stage and the depthwise row, from float_kernels-inl.hpp. Multiply then add, never FMA
// (float_microkernel.hpp): SSE4.1 has no FMA anyway.
// Compiled for SSE4.1 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ptq/kernels/float_microkernel.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {
namespace float_detail_sse41 {

using VF = __m128;
inline constexpr int64_t kLanes = 4;
inline constexpr int kMr = 3;
inline constexpr int kGemvPanels = 2;

PTQ_INLINE VF loadu_f(const float* p) { return _mm_loadu_ps(p); }
PTQ_INLINE void storeu_f(float* p, VF v) { _mm_storeu_ps(p, v); }
PTQ_INLINE VF set1_f(float v) { return _mm_set1_ps(v); }
PTQ_INLINE VF zero_f() { return _mm_setzero_ps(); }
PTQ_INLINE VF add_f(VF a, VF b) { return _mm_add_ps(a, b); }
PTQ_INLINE VF mul_f(VF a, VF b) { return _mm_mul_ps(a, b); }
PTQ_INLINE VF min_f(VF a, VF b) { return _mm_min_ps(a, b); }
PTQ_INLINE VF max_f(VF a, VF b) { return _mm_max_ps(a, b); }
PTQ_INLINE VF opaque_f(VF v) {
  __asm__("" : "+x"(v));
  return v;
}

#include "ptq/kernels/float_kernels-inl.hpp"

}  // namespace float_detail_sse41
}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {

inline constexpr FloatKernels kFloatKernels = [] {
  using namespace float_detail_sse41;
  FloatKernels k;
  k.name = "f32_3x16__sse41";
  k.isa = Isa::kSse41;
  k.mr = kMr;
  k.gemv_panels = kGemvPanels;
  k.tiles[0] = &f32_tile<1>;
  k.tiles[1] = &f32_tile<2>;
  k.tiles[2] = &f32_tile<3>;
  k.gemv[0] = &f32_gemv<1>;
  k.gemv[1] = &f32_gemv<2>;
  k.output = &f32_output;
  k.depthwise_row = &f32_depthwise_row;
  return k;
}();

}  // namespace x86::sse41
PTQ_NAMESPACE_END
