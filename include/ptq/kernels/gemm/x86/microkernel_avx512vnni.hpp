// gemm/x86/microkernel_avx512vnni.hpp: the int8 GEMM microkernel on 512-bit vectors with AVX-512
// VNNI (EVEX vpdpbusd: Ice Lake, Sapphire Rapids, Zen 4/5).
//
// s8s8_s32_6x64c4__avx512vnni_dpbusd: vpdpbusd multiplies 4 u8 by 4 s8 per int32 lane and adds
// the 4 products to the lane, without intermediate saturation. The activations are int8, so the
// kernel feeds x ^ 0x80 = x + 128 (u8) and computes sum_k w * (x + 128); the packed bias_u8 =
// bias - x_zp * sum_k w - 128 * sum_k w (pack.hpp) takes the 128 * sum_k w back out, so the int32
// result equals the s8 kernels' modulo 2^32, i.e. the reference's. K padding: a partial group's
// missing bytes are 0 before the xor (128 after), times padded weights 0: nothing.
//
// Why 6 x 64, KR = 4: vpdpbusd has a latency of about 5 cycles and two issue per cycle, so 10+
// independent accumulators are needed to keep both pipes busy (bench notes: 8 are not enough,
// 12 are). A zmm holds 16 columns x 4 K (KR = 4 is vpdpbusd's own group), so a 64-column panel is
// 4 zmm of weights per group; 6 rows give 24 accumulators, and with the 4 weight vectors and a
// broadcast that is 29 of the 32 zmm registers. Per group of 4 K: 4 aligned loads, 6 broadcasts,
// 6 xors, 24 vpdpbusd = 1536 MACs in 40 instructions (a 8 x 64 tile would need 37 registers).
// Fewer rows (the M tail, and batch 1) would leave too few chains: 1 and 2 rows run 4 and 2 K
// groups at once into separate accumulator sets (16 chains), summed at the end.
// Batch 1 (GEMV) reads each weight byte once, in order, and prefetches 16 groups ahead.
// Compiled for AVX-512 VNNI through a target region: any TU may include this file; callers check
// the CPU. The output stage is the AVX-512 one (microkernel_avx512.hpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/kernels/gemm/x86/microkernel_avx512.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX512VNNI)
PTQ_X86_BEGIN_AVX512_WARNINGS
PTQ_NAMESPACE_BEGIN
namespace x86::avx512vnni {

namespace gemm_detail {

inline constexpr int kPrefetchBytes = 4096;  // 16 groups of 256 bytes (see microkernel_avx512.hpp)

PTQ_INLINE int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace gemm_detail

// MR rows x 64 columns, 4 K per group (panel layout 64c4), u8 activations (x + 128).
template <int MR>
void s8s8_s32_6x64c4_dpbusd(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w,
                            int32_t* acc) {
  using namespace gemm_detail;
  constexpr int S = MR == 1 ? 4 : MR == 2 ? 2 : 1;  // K groups in flight: >= 16 chains below 3 rows
  __m512i vacc[S][MR][4];
  const int8_t* ar[MR];
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v) {
      vacc[0][i][v] = _mm512_loadu_si512(acc + i * 64 + 16 * v);
      PTQ_GEMM_UNROLL
      for (int s = 1; s < S; ++s) vacc[s][i][v] = _mm512_setzero_si512();
    }
    ar[i] = a + i * a_stride;
  }
  const __m512i vflip = _mm512_set1_epi32(static_cast<int32_t>(0x80808080u));
  // One group of 4 K into accumulator set s: x4[i] holds row i's 4 activations (int8).
  auto group = [&](int s, const int8_t* wp, const int32_t* x4) {
    __m512i vw[4];
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v) vw[v] = _mm512_load_si512(wp + 64 * v);
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      const __m512i vx = _mm512_xor_si512(_mm512_set1_epi32(x4[i]), vflip);  // x + 128, u8
      PTQ_GEMM_UNROLL
      for (int v = 0; v < 4; ++v) vacc[s][i][v] = _mm512_dpbusd_epi32(vacc[s][i][v], vx, vw[v]);
    }
  };
  int32_t x4[MR];
  int64_t k = 0;
  for (; k + 4 * S <= kc; k += 4 * S) {
    PTQ_GEMM_UNROLL
    for (int s = 0; s < S; ++s) {
      if (MR == 1) {
        PTQ_GEMM_UNROLL
        for (int l = 0; l < 4; ++l)
          _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes + 64 * l, _MM_HINT_T0);
      }
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) x4[i] = load4(ar[i] + k + 4 * s);
      group(s, w, x4);
      w += 256;
    }
  }
  for (; k + 4 <= kc; k += 4) {  // fewer than S groups left
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) x4[i] = load4(ar[i] + k);
    group(0, w, x4);
    w += 256;
  }
  if (k < kc) {  // 1 to 3 K left: a partial load; the panel's padding is 0
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      x4[i] = static_cast<int32_t>(gemm::load_tail(ar[i] + k, kc - k));
    }
    group(0, w, x4);
  }
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 4; ++v) {
      __m512i sum = vacc[0][i][v];
      PTQ_GEMM_UNROLL
      for (int s = 1; s < S; ++s) sum = _mm512_add_epi32(sum, vacc[s][i][v]);
      _mm512_storeu_si512(acc + i * 64 + 16 * v, sum);
    }
  }
}

}  // namespace x86::avx512vnni
PTQ_NAMESPACE_END
PTQ_X86_END_AVX512_WARNINGS
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace avx512vnni {

inline constexpr Microkernel kS8S8_6x64c4_dpbusd = [] {
  Microkernel k;
  k.name = "s8s8_s32_6x64c4__avx512vnni_dpbusd";
  k.isa = Isa::kAvx512Vnni;
  k.mr = 6;
  k.layout = PackLayout{64, 4};
  k.u8_activations = true;
  k.exact_weight_min = true;
  k.tiles[0] = &x86::avx512vnni::s8s8_s32_6x64c4_dpbusd<1>;
  k.tiles[1] = &x86::avx512vnni::s8s8_s32_6x64c4_dpbusd<2>;
  k.tiles[2] = &x86::avx512vnni::s8s8_s32_6x64c4_dpbusd<3>;
  k.tiles[3] = &x86::avx512vnni::s8s8_s32_6x64c4_dpbusd<4>;
  k.tiles[4] = &x86::avx512vnni::s8s8_s32_6x64c4_dpbusd<5>;
  k.tiles[5] = &x86::avx512vnni::s8s8_s32_6x64c4_dpbusd<6>;
  k.output = &x86::avx512::output_stage<64>;
  return k;
}();

}  // namespace avx512vnni
}  // namespace gemm
PTQ_NAMESPACE_END
