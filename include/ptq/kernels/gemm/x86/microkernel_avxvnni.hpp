// gemm/x86/microkernel_avxvnni.hpp: the int8 GEMM microkernel on 256-bit vectors with AVX-VNNI
// (VEX vpdpbusd without AVX-512: Alder Lake, Arrow Lake, Zen 5 client; also on Sapphire Rapids).
//
// s8s8_s32_6x16c4__avxvnni_dpbusd: the arithmetic of microkernel_avx512vnni.hpp on ymm: vpdpbusd
// multiplies 4 u8 by 4 s8 per int32 lane and adds them to the lane without saturation; the kernel
// feeds x ^ 0x80 = x + 128 and the packed bias_u8 = bias - x_zp * sum_k w - 128 * sum_k w
// (pack.hpp) takes the 128 * sum_k w back out, so the int32 result equals the reference's modulo
// 2^32. A partial group's missing bytes become 128 after the xor, times padded weights 0.
//
// Why 6 x 16, KR = 4: two vpdpbusd issue per cycle with a latency of about 5, so 10+ independent
// accumulators are needed, and only 16 ymm registers exist. 16 columns x 4 K is two ymm of weights
// per group (the default 16c4 panels, shared with AVX2 and SSE4.1, so one PackedWeights serves
// every 256-bit level); 6 rows give 12 accumulators + 2 weights + 1 broadcast = 15 registers.
// Per group: 2 loads, 6 broadcasts, 6 xors, 12 vpdpbusd (768 MACs in 26 instructions). 1 and 2
// rows run 4 and 2 K groups at once into separate accumulator sets, summed at the end.
// Batch 1 (GEMV) reads each weight byte once, in order, and prefetches 1024 bytes ahead (AVX2's
// measured distance on the same panels).
// Compiled for AVX-VNNI through a target region: any TU may include this file; callers check the
// CPU. The output stage is AVX2's (microkernel_avx2.hpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/kernels/gemm/x86/microkernel_avx2.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVXVNNI)
PTQ_NAMESPACE_BEGIN
namespace x86::avxvnni {

namespace gemm_detail {

inline constexpr int kPrefetchBytes = 1024;  // 16 groups of 64 bytes

PTQ_INLINE int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace gemm_detail

// MR rows x 16 columns, 4 K per group (panel layout 16c4), u8 activations (x + 128).
template <int MR>
void s8s8_s32_6x16c4_dpbusd(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w,
                            int32_t* acc) {
  using namespace gemm_detail;
  constexpr int S = MR == 1 ? 4 : MR == 2 ? 2 : 1;  // K groups in flight: >= 8 chains below 3 rows
  __m256i vacc[S][MR][2];
  const int8_t* ar[MR];
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 2; ++v) {
      vacc[0][i][v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i * 16 + 8 * v));
      PTQ_GEMM_UNROLL
      for (int s = 1; s < S; ++s) vacc[s][i][v] = _mm256_setzero_si256();
    }
    ar[i] = a + i * a_stride;
  }
  const __m256i vflip = _mm256_set1_epi32(static_cast<int32_t>(0x80808080u));
  // One group of 4 K into accumulator set s: x4[i] holds row i's 4 activations (int8).
  auto group = [&](int s, const int8_t* wp, const int32_t* x4) {
    __m256i vw[2];
    PTQ_GEMM_UNROLL
    for (int v = 0; v < 2; ++v) vw[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp + 32 * v));
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      const __m256i vx = _mm256_xor_si256(_mm256_set1_epi32(x4[i]), vflip);  // x + 128, u8
      PTQ_GEMM_UNROLL
      for (int v = 0; v < 2; ++v) vacc[s][i][v] = _mm256_dpbusd_avx_epi32(vacc[s][i][v], vx, vw[v]);
    }
  };
  int32_t x4[MR];
  int64_t k = 0;
  for (; k + 4 * S <= kc; k += 4 * S) {
    PTQ_GEMM_UNROLL
    for (int s = 0; s < S; ++s) {
      if (MR == 1) _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes, _MM_HINT_T0);
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) x4[i] = load4(ar[i] + k + 4 * s);
      group(s, w, x4);
      w += 64;
    }
  }
  for (; k + 4 <= kc; k += 4) {  // fewer than S groups left
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) x4[i] = load4(ar[i] + k);
    group(0, w, x4);
    w += 64;
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
    for (int v = 0; v < 2; ++v) {
      __m256i sum = vacc[0][i][v];
      PTQ_GEMM_UNROLL
      for (int s = 1; s < S; ++s) sum = _mm256_add_epi32(sum, vacc[s][i][v]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i * 16 + 8 * v), sum);
    }
  }
}

}  // namespace x86::avxvnni
PTQ_NAMESPACE_END
PTQ_X86_END_REGION

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace avxvnni {

inline constexpr Microkernel kS8S8_6x16c4_dpbusd = [] {
  Microkernel k;
  k.name = "s8s8_s32_6x16c4__avxvnni_dpbusd";
  k.isa = Isa::kAvxVnni;
  k.mr = 6;
  k.layout = PackLayout{16, 4};
  k.u8_activations = true;
  k.exact_weight_min = true;
  k.tiles[0] = &x86::avxvnni::s8s8_s32_6x16c4_dpbusd<1>;
  k.tiles[1] = &x86::avxvnni::s8s8_s32_6x16c4_dpbusd<2>;
  k.tiles[2] = &x86::avxvnni::s8s8_s32_6x16c4_dpbusd<3>;
  k.tiles[3] = &x86::avxvnni::s8s8_s32_6x16c4_dpbusd<4>;
  k.tiles[4] = &x86::avxvnni::s8s8_s32_6x16c4_dpbusd<5>;
  k.tiles[5] = &x86::avxvnni::s8s8_s32_6x16c4_dpbusd<6>;
  k.output = &x86::avx2::output_stage<16>;
  return k;
}();

}  // namespace avxvnni
}  // namespace gemm
PTQ_NAMESPACE_END
