// gemm/arm/microkernel_neon.hpp: int8 GEMM microkernels on plain AArch64 NEON (no dot product).
//
// s8s8_s32_2x16c4__neon_smlal: SMULL multiplies int8 by int8 into int16 (exact), SMLAL adds the
// product of the next c4 group into the same int16 lane, and SADALP (vpadalq_s16) adds adjacent
// int16 pairs into int32. The int16 step is exact because weights are in [-127, 127] (pack.hpp
// checks): |x * w| <= 128 * 127 = 16256, so two products sum to at most 32512 < 2^15.
// Per two c4 groups (8 K) and 4 columns (a 16-byte load of each group's weights):
//   p[c][t] = x[t] * w[c][t] + x[4 + t] * w'[c][t]             int16, t in [0, 4), c in 2 pairs
//   part[c] += (p[c][0] + p[c][1], p[c][2] + p[c][3])          int32 pairs (SADALP), 2 lanes/column
// and at the end vpaddq_s32 folds each column's two lanes into one: per row 8 partial registers
// for 16 columns (the tile is 2 x 16: 16 partials + weights + activations of the 32 registers).
// NR = 64 (the AVX-512 levels' 64c4 panels) runs as four 16-column strips.
// Plain NEON is part of every AArch64 baseline: no target region.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/arm/output_stage_neon.hpp"
#include "ptq/kernels/gemm/microkernel.hpp"

#if defined(__aarch64__)

PTQ_NAMESPACE_BEGIN
namespace arm::neon {

namespace gemm_detail {

// 4 activations (one c4 group, the last maybe partial) replicated into both halves of 8 bytes.
PTQ_INLINE int8x8_t load_group(const int8_t* p, int64_t kn) {
  int32_t x;
  if (kn >= 4) {
    std::memcpy(&x, p, 4);
  } else {
    x = static_cast<int32_t>(gemm::load_tail(p, kn));
  }
  return vreinterpret_s8_s32(vdup_n_s32(x));
}

}  // namespace gemm_detail

// MR rows x NR columns, panel layout NRc4, 16 columns at a time.
template <int MR, int NR = 16>
void s8s8_s32_2x16c4_smlal(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w_panel,
                           int32_t* acc_tile) {
  using namespace gemm_detail;
  static_assert(NR % 16 == 0, "16-column strips");
  constexpr int64_t kGroupBytes = 4 * NR;
  for (int c0 = 0; c0 < NR; c0 += 16) {
    const int8_t* w = w_panel + 4 * c0;
    int32_t* acc = acc_tile + c0;
    // vpart[i][2q + h]: columns 4q + 2h and 4q + 2h + 1, two int32 partial sums each.
    int32x4_t vpart[MR][8];
    const int8_t* ar[MR];
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      PTQ_GEMM_UNROLL
      for (int p = 0; p < 8; ++p) vpart[i][p] = vdupq_n_s32(0);
      ar[i] = a + i * a_stride;
    }
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {  // two groups per int16 product
      int8x8_t vx0[MR], vx1[MR];
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) {
        vx0[i] = load_group(ar[i] + k, 4);
        vx1[i] = load_group(ar[i] + k + 4, 4);
      }
      if (MR == 1) __builtin_prefetch(w + 1024);
      PTQ_GEMM_UNROLL
      for (int q = 0; q < 4; ++q) {
        const int8x16_t vw0 = vld1q_s8(w + 16 * q);
        const int8x16_t vw1 = vld1q_s8(w + kGroupBytes + 16 * q);
        PTQ_GEMM_UNROLL
        for (int i = 0; i < MR; ++i) {
          int16x8_t vlo = vmull_s8(vget_low_s8(vw0), vx0[i]);
          int16x8_t vhi = vmull_s8(vget_high_s8(vw0), vx0[i]);
          vlo = vmlal_s8(vlo, vget_low_s8(vw1), vx1[i]);
          vhi = vmlal_s8(vhi, vget_high_s8(vw1), vx1[i]);
          vpart[i][2 * q] = vpadalq_s16(vpart[i][2 * q], vlo);
          vpart[i][2 * q + 1] = vpadalq_s16(vpart[i][2 * q + 1], vhi);
        }
      }
      w += 2 * kGroupBytes;
    }
    for (; k < kc; k += 4) {  // one group at a time, the last maybe partial (panel padding is 0)
      int8x8_t vx[MR];
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) vx[i] = load_group(ar[i] + k, kc - k);
      PTQ_GEMM_UNROLL
      for (int q = 0; q < 4; ++q) {
        const int8x16_t vw = vld1q_s8(w + 16 * q);
        PTQ_GEMM_UNROLL
        for (int i = 0; i < MR; ++i) {
          vpart[i][2 * q] = vpadalq_s16(vpart[i][2 * q], vmull_s8(vget_low_s8(vw), vx[i]));
          vpart[i][2 * q + 1] = vpadalq_s16(vpart[i][2 * q + 1], vmull_s8(vget_high_s8(vw), vx[i]));
        }
      }
      w += kGroupBytes;
    }
    // vpaddq_s32(a, b) = (a0 + a1, a2 + a3, b0 + b1, b2 + b3): columns 4q .. 4q + 3 in order.
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      PTQ_GEMM_UNROLL
      for (int q = 0; q < 4; ++q) {
        int32_t* dst = acc + i * NR + 4 * q;
        vst1q_s32(dst, vaddq_s32(vld1q_s32(dst), vpaddq_s32(vpart[i][2 * q], vpart[i][2 * q + 1])));
      }
    }
  }
}

}  // namespace arm::neon
PTQ_NAMESPACE_END

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace neon {

template <int NR>
constexpr Microkernel make_smlal(const char* name) {
  Microkernel k;
  k.name = name;
  k.isa = Isa::kNeon;
  k.mr = 2;
  k.layout = PackLayout{NR, 4};
  k.tiles[0] = &arm::neon::s8s8_s32_2x16c4_smlal<1, NR>;
  k.tiles[1] = &arm::neon::s8s8_s32_2x16c4_smlal<2, NR>;
  k.output = &arm::neon::output_stage<NR>;
  return k;
}

inline constexpr Microkernel kS8S8_2x16c4_smlal = make_smlal<16>("s8s8_s32_2x16c4__neon_smlal");
inline constexpr Microkernel kS8S8_2x64c4_smlal = make_smlal<64>("s8s8_s32_2x64c4__neon_smlal");

}  // namespace neon
}  // namespace gemm
PTQ_NAMESPACE_END

#endif  // __aarch64__
