// x86/float_avx2.hpp: the float32 kernels on 256-bit vectors (AVX2 level): 6x16 GEMM tiles
// (12 ymm accumulators: 6 rows x 2 vectors), 1x64 one-row tiles (4 panels, 8 accumulators), the
// output stage and the depthwise row, from float_kernels-inl.hpp. Multiply then add, never FMA
// (float_microkernel.hpp): the level's FMA unit is left unused on purpose.
// Compiled for AVX2 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ptq/kernels/float_microkernel.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX2)
PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {
namespace float_detail_avx2 {

using VF = __m256;
inline constexpr int64_t kLanes = 8;
inline constexpr int kMr = 6;
inline constexpr int kGemvPanels = 4;

PTQ_INLINE VF loadu_f(const float* p) { return _mm256_loadu_ps(p); }
PTQ_INLINE void storeu_f(float* p, VF v) { _mm256_storeu_ps(p, v); }
PTQ_INLINE VF set1_f(float v) { return _mm256_set1_ps(v); }
PTQ_INLINE VF zero_f() { return _mm256_setzero_ps(); }
PTQ_INLINE VF add_f(VF a, VF b) { return _mm256_add_ps(a, b); }
PTQ_INLINE VF mul_f(VF a, VF b) { return _mm256_mul_ps(a, b); }
PTQ_INLINE VF min_f(VF a, VF b) { return _mm256_min_ps(a, b); }
PTQ_INLINE VF max_f(VF a, VF b) { return _mm256_max_ps(a, b); }
PTQ_INLINE VF opaque_f(VF v) {
  __asm__("" : "+x"(v));
  return v;
}

#include "ptq/kernels/float_kernels-inl.hpp"

}  // namespace float_detail_avx2
}  // namespace x86::avx2
PTQ_NAMESPACE_END
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {

inline constexpr FloatKernels kFloatKernels = [] {
  using namespace float_detail_avx2;
  FloatKernels k;
  k.name = "f32_6x16__avx2";
  k.isa = Isa::kAvx2;
  k.mr = kMr;
  k.gemv_panels = kGemvPanels;
  k.tiles[0] = &f32_tile<1>;
  k.tiles[1] = &f32_tile<2>;
  k.tiles[2] = &f32_tile<3>;
  k.tiles[3] = &f32_tile<4>;
  k.tiles[4] = &f32_tile<5>;
  k.tiles[5] = &f32_tile<6>;
  k.gemv[0] = &f32_gemv<1>;
  k.gemv[1] = &f32_gemv<2>;
  k.gemv[2] = &f32_gemv<3>;
  k.gemv[3] = &f32_gemv<4>;
  k.output = &f32_output;
  k.depthwise_row = &f32_depthwise_row;
  return k;
}();

}  // namespace x86::avx2
PTQ_NAMESPACE_END
