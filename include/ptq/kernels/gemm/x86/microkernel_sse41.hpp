// gemm/x86/microkernel_sse41.hpp: the int8 GEMM microkernel on 128-bit vectors (SSE4.1 + SSSE3).
//
// s8s8_s32_2x16c4__sse41_maddubs: the sign trick of microkernel_avx2.hpp (pmaddubsw on |x| and
// sign(w, x), exact because weights are in [-127, 127]; pmaddwd with ones into int32) on the same
// 16c4 panels, so one PackedWeights serves SSE4.1 and AVX2. A group of 4 K is four 16-byte
// vectors of 4 columns; two rows keep 8 accumulators, 4 weight vectors and the broadcasts inside
// the 16 xmm registers.
// The output stage's per-channel shifts use per-lane shift emulation (simd/x86/fixed_point_sse41.hpp).
// Compiled for SSE4.1 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/simd/x86/fixed_point_sse41.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {

namespace gemm_detail {
// x (4 activations broadcast) times one 16-byte group of 4 columns x 4 K, into 4 int32 sums.
PTQ_INLINE __m128i dot4(__m128i vabs_x, __m128i vx, __m128i vw, __m128i vones) {
  return _mm_madd_epi16(_mm_maddubs_epi16(vabs_x, _mm_sign_epi8(vw, vx)), vones);
}
}  // namespace gemm_detail

template <int MR>
void s8s8_s32_2x16c4_maddubs(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w,
                             int32_t* acc) {
  using gemm_detail::dot4;
  __m128i vacc[MR][4];
  const int8_t* ar[MR];
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v)
      vacc[i][v] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i * 16 + 4 * v));
    ar[i] = a + i * a_stride;
  }
  const __m128i vones = _mm_set1_epi16(1);
  auto step = [&](const int8_t* wp, const int32_t* x4) {
    __m128i vw[4];
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v) vw[v] = _mm_load_si128(reinterpret_cast<const __m128i*>(wp + 16 * v));
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      const __m128i vx = _mm_set1_epi32(x4[i]);
      const __m128i vabs = _mm_abs_epi8(vx);
      PTQ_GEMM_UNROLL
      for (int v = 0; v < 4; ++v) vacc[i][v] = _mm_add_epi32(vacc[i][v], dot4(vabs, vx, vw[v], vones));
    }
  };
  int32_t x4[MR];
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) std::memcpy(&x4[i], ar[i] + k, 4);
    step(w, x4);
    w += 64;
  }
  if (k < kc) {  // 1 to 3 K left: a partial load; the panel's padding is 0
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      x4[i] = static_cast<int32_t>(gemm::load_tail(ar[i] + k, kc - k));
    }
    step(w, x4);
  }
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i)
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i * 16 + 4 * v), vacc[i][v]);
}

// ---- output stage ----------------------------------------------------------------------------
constexpr int kLanes = 4;
PTQ_INLINE VI load_i32(const int32_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
PTQ_INLINE VI min_i32(VI a, VI b) { return _mm_min_epi32(a, b); }
PTQ_INLINE void store_i8(int8_t* p, VI v) {  // v already inside [-128, 127]
  const __m128i w = _mm_packs_epi32(v, v);
  const int32_t b = _mm_cvtsi128_si32(_mm_packs_epi16(w, w));
  std::memcpy(p, &b, 4);
}

using gemm::OutputStage;
#include "ptq/kernels/gemm/x86/output_stage-inl.hpp"

}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace sse41 {

inline constexpr Microkernel kS8S8_2x16c4_maddubs = [] {
  Microkernel k;
  k.name = "s8s8_s32_2x16c4__sse41_maddubs";
  k.isa = Isa::kSse41;
  k.mr = 2;
  k.layout = PackLayout{16, 4};
  k.tiles[0] = &x86::sse41::s8s8_s32_2x16c4_maddubs<1>;
  k.tiles[1] = &x86::sse41::s8s8_s32_2x16c4_maddubs<2>;
  k.output = &x86::sse41::output_stage<16>;
  return k;
}();

}  // namespace sse41
}  // namespace gemm
PTQ_NAMESPACE_END
