// gemm/arm/microkernel_neondot.hpp: int8 GEMM microkernels with the ARMv8.2 dot product (SDOT).
//
// s8s8_s32_4x16c4__neondot_sdot: SDOT multiplies int8 by int8 and adds each run of 4 products into
// one int32 lane, which is exactly a c4 group of the panel (pack.hpp): no sign trick, no +128
// offset (the kernel reads bias_s8), and every product and sum is exact (|4 * 128 * 128| < 2^31;
// the lane's running sum wraps mod 2^32 like the reference's accumulator).
//   vdotq_laneq_s32(acc, w, x, l): acc[c] += sum_{t<4} w[4c + t] * x[4l + t]     c in [0, 4)
// so one 16-byte load of activations (16 K of one row) serves 4 groups, lane l = group l, and per
// group the 16 columns are 4 weight loads of 4 columns x 4 K. Tile 4 x 16: 16 accumulators +
// 4 weight + 4 activation registers of the 32. NR = 64 (the AVX-512 levels' 64c4 panels) runs as
// four 16-column strips, each reading its own 64 bytes of every 4 * NR-byte group.
// Compiled through the dot-product region (simd/arm/target_region.hpp): a baseline armv8-a TU
// contains it, and callers run it only when the CPU reports HWCAP_ASIMDDP (Isa::kNeonDot).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"
#include "ptq/kernels/gemm/arm/output_stage_neon.hpp"
#include "ptq/simd/arm/target_region.hpp"

#if PTQ_ARM_HAVE_NEONDOT

PTQ_ARM_BEGIN_NEONDOT_REGION
PTQ_NAMESPACE_BEGIN
namespace arm::neondot {

namespace gemm_detail {

inline constexpr int kPrefetchBytes = 1024;  // batch 1 streams weights; as the x86 kernels

// One c4 group of 16 columns (64 bytes at w) times lane L of each row's activations.
template <int L, int MR>
PTQ_INLINE void sdot_group(int32x4_t (&vacc)[MR][4], const int8x16_t (&vx)[MR], const int8_t* w) {
  const int8x16_t vw0123 = vld1q_s8(w);
  const int8x16_t vw4567 = vld1q_s8(w + 16);
  const int8x16_t vw89AB = vld1q_s8(w + 32);
  const int8x16_t vwCDEF = vld1q_s8(w + 48);
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i) {
    vacc[i][0] = vdotq_laneq_s32(vacc[i][0], vw0123, vx[i], L);
    vacc[i][1] = vdotq_laneq_s32(vacc[i][1], vw4567, vx[i], L);
    vacc[i][2] = vdotq_laneq_s32(vacc[i][2], vw89AB, vx[i], L);
    vacc[i][3] = vdotq_laneq_s32(vacc[i][3], vwCDEF, vx[i], L);
  }
}

}  // namespace gemm_detail

// MR rows x NR columns, panel layout NRc4, 16 columns at a time.
template <int MR, int NR = 16>
void s8s8_s32_4x16c4_sdot(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w_panel,
                          int32_t* acc_tile) {
  using namespace gemm_detail;
  static_assert(NR % 16 == 0, "16-column strips");
  constexpr int64_t kGroupBytes = 4 * NR;  // one c4 group of the whole panel
  for (int c0 = 0; c0 < NR; c0 += 16) {
    const int8_t* w = w_panel + 4 * c0;
    int32_t* acc = acc_tile + c0;
    int32x4_t vacc[MR][4];
    const int8_t* ar[MR];
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      PTQ_GEMM_UNROLL
      for (int q = 0; q < 4; ++q) vacc[i][q] = vld1q_s32(acc + i * NR + 4 * q);
      ar[i] = a + i * a_stride;
    }
    int64_t k = 0;
    for (; k + 16 <= kc; k += 16) {  // 4 groups per activation load
      int8x16_t vx[MR];
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) vx[i] = vld1q_s8(ar[i] + k);
      if (MR == 1) __builtin_prefetch(w + kPrefetchBytes);
      sdot_group<0, MR>(vacc, vx, w);
      sdot_group<1, MR>(vacc, vx, w + kGroupBytes);
      sdot_group<2, MR>(vacc, vx, w + 2 * kGroupBytes);
      sdot_group<3, MR>(vacc, vx, w + 3 * kGroupBytes);
      w += 4 * kGroupBytes;
    }
    for (; k < kc; k += 4) {  // 1 to 3 groups left, the last maybe partial: the panel's padding is 0
      const int64_t kn = kc - k < 4 ? kc - k : 4;
      int8x16_t vx[MR];
      PTQ_GEMM_UNROLL
      for (int i = 0; i < MR; ++i) {
        int32_t x;
        if (kn == 4) {
          std::memcpy(&x, ar[i] + k, 4);
        } else {
          x = static_cast<int32_t>(gemm::load_tail(ar[i] + k, kn));
        }
        vx[i] = vreinterpretq_s8_s32(vdupq_n_s32(x));
      }
      sdot_group<0, MR>(vacc, vx, w);
      w += kGroupBytes;
    }
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i)
      PTQ_GEMM_UNROLL
      for (int q = 0; q < 4; ++q) vst1q_s32(acc + i * NR + 4 * q, vacc[i][q]);
  }
}

}  // namespace arm::neondot
PTQ_NAMESPACE_END
PTQ_ARM_END_NEONDOT_REGION

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace neondot {

template <int NR>
constexpr Microkernel make_sdot(const char* name) {
  Microkernel k;
  k.name = name;
  k.isa = Isa::kNeonDot;
  k.mr = 4;
  k.layout = PackLayout{NR, 4};
  k.exact_weight_min = true;  // |4 * (-128) * (-128)| < 2^31: no int16 step
  k.tiles[0] = &arm::neondot::s8s8_s32_4x16c4_sdot<1, NR>;
  k.tiles[1] = &arm::neondot::s8s8_s32_4x16c4_sdot<2, NR>;
  k.tiles[2] = &arm::neondot::s8s8_s32_4x16c4_sdot<3, NR>;
  k.tiles[3] = &arm::neondot::s8s8_s32_4x16c4_sdot<4, NR>;
  k.output = &arm::neon::output_stage<NR>;
  return k;
}

inline constexpr Microkernel kS8S8_4x16c4_sdot = make_sdot<16>("s8s8_s32_4x16c4__neondot_sdot");
// The AVX-512 levels' 64c4 panels, so such a packing runs at full speed on ARM too.
inline constexpr Microkernel kS8S8_4x64c4_sdot = make_sdot<64>("s8s8_s32_4x64c4__neondot_sdot");

}  // namespace neondot
}  // namespace gemm
PTQ_NAMESPACE_END

#endif  // PTQ_ARM_HAVE_NEONDOT
