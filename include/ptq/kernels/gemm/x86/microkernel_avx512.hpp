// gemm/x86/microkernel_avx512.hpp: the int8 GEMM microkernel on 512-bit vectors without VNNI
// (AVX-512 F/BW: Skylake-SP, Cannon Lake), and the AVX-512 int8 output stage that the VNNI kernel
// (microkernel_avx512vnni.hpp) shares.
//
// s8s8_s32_4x64c4__avx512bw_maddubs: the sign trick of microkernel_avx2.hpp on zmm. vpmaddubsw
// multiplies u8 by s8 and adds pairs into int16; with |x| as the u8 operand and w * sgn(x) as the
// s8 one, |x| * (w * sgn(x)) = x * w and a pair sum is at most 2 * 128 * 127 = 32512 < 2^15:
// exact because no weight is -128 (pack.hpp checks). vpmaddwd with ones adds pairs into int32.
// AVX-512BW has no vpsignb: w * sgn(x) is w with the bytes where x < 0 negated (vpmovb2m gives
// that mask, a masked vpsubb from zero applies it; where x = 0, |x| = 0 makes the product 0).
// Tile: 4 rows x 64 columns (panel layout 64c4, the one of the VNNI kernel, so one PackedWeights
// serves both AVX-512 levels). Per group of 4 K: 4 weight loads; per row 1 broadcast, 1 abs,
// 1 mask, and per 16 columns masked-sub + maddubs + maddwd + add: 16 zmm accumulators, 4 weights,
// the constants and temporaries fit the 32 zmm registers. The merge-masked vpsubb is destructive,
// so GCC adds a register copy of w per row and block: about 96 instructions per 1024 MACs
// (counted in the emulator). Blending w with a -w computed once per group would save 12, but GCC
// folds the blend back into the masked subtraction, and forcing it spills (measured: 113).
// Compiled for AVX-512 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/simd/x86/fixed_point_avx512.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX512)
PTQ_X86_BEGIN_AVX512_WARNINGS
PTQ_NAMESPACE_BEGIN
namespace x86::avx512 {

namespace gemm_detail {

// One row (GEMV) streams weights faster than the hardware prefetcher alone keeps up with (measured
// for AVX2 at 1024 bytes = 16 groups of its 64-byte panels); here a group is 256 bytes, so the
// same number of groups ahead. Unmeasured on an AVX-512 CPU.
inline constexpr int kPrefetchBytes = 4096;

// x (4 activations broadcast; |x| and its negative-byte mask) times 16 columns x 4 K, into 16
// int32 sums.
PTQ_INLINE __m512i dot4(__m512i vabs_x, __mmask64 neg_x, __m512i vw, __m512i vones) {
  const __m512i vw_signed = _mm512_mask_sub_epi8(vw, neg_x, _mm512_setzero_si512(), vw);
  return _mm512_madd_epi16(_mm512_maddubs_epi16(vabs_x, vw_signed), vones);
}

PTQ_INLINE int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace gemm_detail

// MR rows x 64 columns, 4 K per group (panel layout 64c4).
template <int MR>
void s8s8_s32_4x64c4_maddubs(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w,
                             int32_t* acc) {
  using namespace gemm_detail;
  __m512i vacc[MR][4];
  const int8_t* ar[MR];
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v) vacc[i][v] = _mm512_loadu_si512(acc + i * 64 + 16 * v);
    ar[i] = a + i * a_stride;
  }
  const __m512i vones = _mm512_set1_epi16(1);
  auto step = [&](const int8_t* wp, const int32_t* x4) {
    __m512i vw[4];
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v) vw[v] = _mm512_load_si512(wp + 64 * v);
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      const __m512i vx = _mm512_set1_epi32(x4[i]);
      const __m512i vabs = _mm512_abs_epi8(vx);
      const __mmask64 neg = _mm512_movepi8_mask(vx);
      PTQ_GEMM_UNROLL
      for (int v = 0; v < 4; ++v) vacc[i][v] = _mm512_add_epi32(vacc[i][v], dot4(vabs, neg, vw[v], vones));
    }
  };
  int32_t x4[MR];
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    if (MR == 1) {
      PTQ_GEMM_UNROLL
      for (int l = 0; l < 4; ++l)
        _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes + 64 * l, _MM_HINT_T0);
    }
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) x4[i] = load4(ar[i] + k);
    step(w, x4);
    w += 256;
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
    for (int v = 0; v < 4; ++v) _mm512_storeu_si512(acc + i * 64 + 16 * v, vacc[i][v]);
}

// ---- output stage (shared with the AVX-512 VNNI kernels) --------------------------------------
constexpr int kLanes = 16;
PTQ_INLINE VI load_i32(const int32_t* p) { return _mm512_loadu_si512(p); }
PTQ_INLINE VI min_i32(VI a, VI b) { return _mm512_min_epi32(a, b); }
PTQ_INLINE void store_i8(int8_t* p, VI v) {  // v already inside [-128, 127]: vpmovdb truncates exactly
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
}

using gemm::OutputStage;
#include "ptq/kernels/gemm/x86/output_stage-inl.hpp"

}  // namespace x86::avx512
PTQ_NAMESPACE_END
PTQ_X86_END_AVX512_WARNINGS
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace avx512 {

inline constexpr Microkernel kS8S8_4x64c4_maddubs = [] {
  Microkernel k;
  k.name = "s8s8_s32_4x64c4__avx512bw_maddubs";
  k.isa = Isa::kAvx512;
  k.mr = 4;
  k.layout = PackLayout{64, 4};
  k.tiles[0] = &x86::avx512::s8s8_s32_4x64c4_maddubs<1>;
  k.tiles[1] = &x86::avx512::s8s8_s32_4x64c4_maddubs<2>;
  k.tiles[2] = &x86::avx512::s8s8_s32_4x64c4_maddubs<3>;
  k.tiles[3] = &x86::avx512::s8s8_s32_4x64c4_maddubs<4>;
  k.output = &x86::avx512::output_stage<64>;
  return k;
}();

}  // namespace avx512
}  // namespace gemm
PTQ_NAMESPACE_END
