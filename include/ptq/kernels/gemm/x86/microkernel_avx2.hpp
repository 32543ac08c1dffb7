// gemm/x86/microkernel_avx2.hpp: int8 GEMM microkernels on 256-bit vectors (AVX2).
//
// Two ways to multiply int8 by int8 into int32 without VNNI, both exact here:
//   s8s8_s32_4x16c4__avx2_maddubs (the default): vpmaddubsw multiplies u8 by s8 and adds pairs
//     into int16. With |x| as the u8 operand and sign(w, x) = w * sgn(x) as the s8 one,
//     |x| * (w * sgn(x)) = x * w, and a pair sum is at most 2 * 128 * 127 = 32512 < 2^15: exact
//     because no weight is -128 (pack.hpp checks). vpmaddwd with ones then adds pairs into int32.
//     Per 4 K and 16 columns: 2 loads of w, and per row 1 broadcast, 1 abs, and per 8 columns
//     sign + maddubs + maddwd + add.
//   s8s8_s32_3x8c8__avx2_maddwd (XNNPACK's approach): widen both operands to int16 and multiply
//     with vpmaddwd; 8 K per column, two columns per register, reduced with vphaddd at the end.
// Measured in bench/README.md ("GEMM"): maddubs is the faster one on every shape; maddwd is kept
// as a selectable variant for comparison on other CPUs.
// Compiled for AVX2 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/simd/x86/fixed_point_avx2.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX2)
PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {

namespace gemm_detail {

inline constexpr int kPrefetchBytes = 1024;  // measured: 512-2048 equal, 0 slower at batch 1

PTQ_INLINE int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
PTQ_INLINE int64_t load8(const int8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// x (4 activations broadcast) times one 32-byte group of 8 columns x 4 K, into 8 int32 sums.
PTQ_INLINE __m256i dot4(__m256i vabs_x, __m256i vx, __m256i vw, __m256i vones) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(vabs_x, _mm256_sign_epi8(vw, vx)), vones);
}

}  // namespace gemm_detail

// MR rows x NR columns, 4 K per group (panel layout NRc4), 16 columns at a time: NR = 16 is the
// default layout; NR = 64 runs the AVX-512 levels' 64c4 panels on AVX2 (each 16-column strip of a
// group is 64 of its 4 * NR bytes, so a strip reads its own bytes and the activations are read
// NR / 16 times).
template <int MR, int NR = 16>
void s8s8_s32_4x16c4_maddubs(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w_panel,
                             int32_t* acc_tile) {
  using namespace gemm_detail;
  static_assert(NR % 16 == 0, "16-column strips");
  for (int c0 = 0; c0 < NR; c0 += 16) {
    const int8_t* w = w_panel + 4 * c0;
    int32_t* acc = acc_tile + c0;
    __m256i vacc0[MR], vacc1[MR];
    const int8_t* ar[MR];
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      vacc0[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i * NR));
      vacc1[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i * NR + 8));
      ar[i] = a + i * a_stride;
    }
    const __m256i vones = _mm256_set1_epi16(1);
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4) {
      const __m256i vw0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i vw1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32));
      // One row (GEMV) streams weights faster than the hardware prefetcher alone keeps up with.
      if (MR == 1) _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes, _MM_HINT_T0);
      w += 4 * NR;
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) {
        const __m256i vx = _mm256_set1_epi32(load4(ar[i] + k));
        const __m256i vabs = _mm256_abs_epi8(vx);
        vacc0[i] = _mm256_add_epi32(vacc0[i], dot4(vabs, vx, vw0, vones));
        vacc1[i] = _mm256_add_epi32(vacc1[i], dot4(vabs, vx, vw1, vones));
      }
    }
    if (k < kc) {  // 1 to 3 K left: a partial load; the panel's padding is 0
      const __m256i vw0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i vw1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32));
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) {
        const __m256i vx = _mm256_set1_epi32(static_cast<int32_t>(gemm::load_tail(ar[i] + k, kc - k)));
        const __m256i vabs = _mm256_abs_epi8(vx);
        vacc0[i] = _mm256_add_epi32(vacc0[i], dot4(vabs, vx, vw0, vones));
        vacc1[i] = _mm256_add_epi32(vacc1[i], dot4(vabs, vx, vw1, vones));
      }
    }
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i * NR), vacc0[i]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i * NR + 8), vacc1[i]);
    }
  }
}

// MR rows x 8 columns, 8 K per group (panel layout 8c8). Register c01 holds 4 partial sums of
// column 0 (lanes 0-3) and 4 of column 1 (lanes 4-7); likewise c23, c45, c67.
template <int MR>
void s8s8_s32_3x8c8_maddwd(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w,
                           int32_t* acc) {
  using namespace gemm_detail;
  __m256i c01[MR], c23[MR], c45[MR], c67[MR];
  const int8_t* ar[MR];
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    c01[i] = c23[i] = c45[i] = c67[i] = _mm256_setzero_si256();
    ar[i] = a + i * a_stride;
  }
  auto step = [&](const int8_t* wp, const int64_t* x8) {
    const __m256i vw01 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp)));
    const __m256i vw23 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp + 16)));
    const __m256i vw45 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp + 32)));
    const __m256i vw67 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp + 48)));
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      const __m256i vx = _mm256_cvtepi8_epi16(_mm_set1_epi64x(x8[i]));  // x0..x7 twice, int16
      c01[i] = _mm256_add_epi32(c01[i], _mm256_madd_epi16(vx, vw01));
      c23[i] = _mm256_add_epi32(c23[i], _mm256_madd_epi16(vx, vw23));
      c45[i] = _mm256_add_epi32(c45[i], _mm256_madd_epi16(vx, vw45));
      c67[i] = _mm256_add_epi32(c67[i], _mm256_madd_epi16(vx, vw67));
    }
  };
  int64_t k = 0;
  int64_t x8[MR];
  for (; k + 8 <= kc; k += 8) {
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) x8[i] = load8(ar[i] + k);
    step(w, x8);
    w += 64;
  }
  if (k < kc) {
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      x8[i] = static_cast<int64_t>(gemm::load_tail(ar[i] + k, kc - k));
    }
    step(w, x8);
  }
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    // hadd works within 128-bit halves: t0 = [c0 c0 c2 c2 | c1 c1 c3 c3], t1 likewise for 4..7,
    // u = [c0 c2 c4 c6 | c1 c3 c5 c7], then the permute puts the columns in order.
    const __m256i t0 = _mm256_hadd_epi32(c01[i], c23[i]);
    const __m256i t1 = _mm256_hadd_epi32(c45[i], c67[i]);
    const __m256i u = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(t0, t1), order);
    __m256i* dst = reinterpret_cast<__m256i*>(acc + i * 8);
    _mm256_storeu_si256(dst, _mm256_add_epi32(_mm256_loadu_si256(dst), u));
  }
}

// ---- output stage ----------------------------------------------------------------------------
constexpr int kLanes = 8;
PTQ_INLINE VI load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
PTQ_INLINE VI min_i32(VI a, VI b) { return _mm256_min_epi32(a, b); }
PTQ_INLINE void store_i8(int8_t* p, VI v) {  // v already inside [-128, 127]
  const __m256i w = _mm256_packs_epi32(v, v);  // [v0..3 v0..3 | v4..7 v4..7] as int16
  const __m256i b = _mm256_packs_epi16(w, w);
  const __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_unpacklo_epi32(lo, hi));
}

using gemm::OutputStage;
#include "ptq/kernels/gemm/x86/output_stage-inl.hpp"

}  // namespace x86::avx2
PTQ_NAMESPACE_END
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace avx2 {

inline constexpr Microkernel kS8S8_4x16c4_maddubs = [] {
  Microkernel k;
  k.name = "s8s8_s32_4x16c4__avx2_maddubs";
  k.isa = Isa::kAvx2;
  k.mr = 4;
  k.layout = PackLayout{16, 4};
  k.tiles[0] = &x86::avx2::s8s8_s32_4x16c4_maddubs<1>;
  k.tiles[1] = &x86::avx2::s8s8_s32_4x16c4_maddubs<2>;
  k.tiles[2] = &x86::avx2::s8s8_s32_4x16c4_maddubs<3>;
  k.tiles[3] = &x86::avx2::s8s8_s32_4x16c4_maddubs<4>;
  k.output = &x86::avx2::output_stage<16>;
  return k;
}();

// The AVX-512 levels' 64c4 panels (microkernel_avx512.hpp) on AVX2, so such a packing runs well
// when a lower level is forced (PTQ_ISA) or the weights move to another CPU.
inline constexpr Microkernel kS8S8_4x64c4_maddubs = [] {
  Microkernel k;
  k.name = "s8s8_s32_4x64c4__avx2_maddubs";
  k.isa = Isa::kAvx2;
  k.mr = 4;
  k.layout = PackLayout{64, 4};
  k.tiles[0] = &x86::avx2::s8s8_s32_4x16c4_maddubs<1, 64>;
  k.tiles[1] = &x86::avx2::s8s8_s32_4x16c4_maddubs<2, 64>;
  k.tiles[2] = &x86::avx2::s8s8_s32_4x16c4_maddubs<3, 64>;
  k.tiles[3] = &x86::avx2::s8s8_s32_4x16c4_maddubs<4, 64>;
  k.output = &x86::avx2::output_stage<64>;
  return k;
}();

inline constexpr Microkernel kS8S8_3x8c8_maddwd = [] {
  Microkernel k;
  k.name = "s8s8_s32_3x8c8__avx2_maddwd";
  k.exact_weight_min = true;  // int16 products: -128 * -128 fits
  k.isa = Isa::kAvx2;
  k.mr = 3;
  k.layout = PackLayout{8, 8};
  k.tiles[0] = &x86::avx2::s8s8_s32_3x8c8_maddwd<1>;
  k.tiles[1] = &x86::avx2::s8s8_s32_3x8c8_maddwd<2>;
  k.tiles[2] = &x86::avx2::s8s8_s32_3x8c8_maddwd<3>;
  k.output = &x86::avx2::output_stage<8>;
  return k;
}();

}  // namespace avx2
}  // namespace gemm
PTQ_NAMESPACE_END
