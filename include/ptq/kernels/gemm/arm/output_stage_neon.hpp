// gemm/arm/output_stage_neon.hpp: the int8 output stage of a GEMM tile (gemm/output_stage.hpp) on
// AArch64 NEON, shared by the NEON and NEON dot-product microkernels (plain NEON: no region).
//
// Per 4 columns, a different (multiplier m, shift) per lane, bit for bit core/fixed_point.hpp:
//   kDouble: x' = x << l, l = max(shift, 0)                  SSHL, wrapping like wrapping_shift_left
//            h  = SQRDMULH(x', m)                            = saturating_rounding_doubling_high_mul
//                 (the same (2ab + 2^31) >> 32 with the same single saturating input pair)
//            y  = SRSHL(h + fixup, -e), e = max(-shift, 0)   = rounding_divide_by_pot
//            SRSHL by -e rounds (h + 2^(e-1)) >> e: ties toward +infinity. rounding_divide_by_pot
//            rounds ties away from zero, so a negative h (with e > 0) is first lowered by 1
//            (TFLite's fixup, saturating): for h = -(k * 2^e + r), 0 <= r < 2^e, e >= 1,
//            (h - 1 + 2^(e-1)) >> e = -k - [r >= 2^(e-1)] (r = 0 stays -k): the away-from-zero tie.
//            h = INT32_MIN saturates instead of wrapping and is a multiple of 2^e: still exact.
//   kSingle: y  = low 32 bits of SRSHL(x * m, -s), s = 31 - shift in [1, 62]
//            = (x * m + 2^(s-1)) >> s (SMULL to int64; SRSHL's rounding add cannot overflow)
// then y = min(max(y, act_min - y_zp), act_max - y_zp) + y_zp, narrowed exactly (already in range).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/output_stage.hpp"

#if defined(__aarch64__)

PTQ_NAMESPACE_BEGIN
namespace arm::neon {

// The requantizer of 4 columns, built once per tile column run and applied to every row.
struct FixedPointMultiplier4 {
  RoundingMode mode;
  int32x4_t m;           // multipliers, >= 0
  int32x4_t left;        // kDouble: l
  int32x4_t neg_right;   // kDouble: -e (SRSHL shifts right by a negative count)
  int64x2_t neg_s_lo, neg_s_hi;  // kSingle: -(31 - shift), lanes 0-1 and 2-3

  FixedPointMultiplier4(const int32_t* multipliers, const int32_t* shifts, RoundingMode rounding)
      : mode(rounding) {
    m = vld1q_s32(multipliers);
    const int32x4_t shift = vld1q_s32(shifts);
    const int32x4_t zero = vdupq_n_s32(0);
    left = vmaxq_s32(shift, zero);
    neg_right = vminq_s32(shift, zero);
    const int32x4_t neg_s = vsubq_s32(shift, vdupq_n_s32(31));
    neg_s_lo = vmovl_s32(vget_low_s32(neg_s));
    neg_s_hi = vmovl_high_s32(neg_s);
  }

  PTQ_INLINE int32x4_t apply(int32x4_t x) const {
    if (mode == RoundingMode::kDouble) {
      const int32x4_t h = vqrdmulhq_s32(vshlq_s32(x, left), m);
      // Sign bit of h & -e: set when h < 0 and e > 0; the arithmetic shift makes it -1 or 0.
      const int32x4_t fixup = vshrq_n_s32(vandq_s32(h, neg_right), 31);
      return vrshlq_s32(vqaddq_s32(h, fixup), neg_right);
    }
    const int64x2_t lo = vrshlq_s64(vmull_s32(vget_low_s32(x), vget_low_s32(m)), neg_s_lo);
    const int64x2_t hi = vrshlq_s64(vmull_high_s32(x, m), neg_s_hi);
    return vcombine_s32(vmovn_s64(lo), vmovn_s64(hi));
  }
};

template <int NR>
void output_stage(int rows, int cols, const int32_t* acc, const gemm::OutputStage& os, int8_t* out,
                  int64_t out_stride) {
  static_assert(NR % 4 == 0, "output_stage: NR is a multiple of 4");
  const int32x4_t lo = vdupq_n_s32(os.activation_min - os.output_zero_point);
  const int32x4_t hi = vdupq_n_s32(os.activation_max - os.output_zero_point);
  const int32x4_t zp = vdupq_n_s32(os.output_zero_point);
  alignas(16) int8_t tmp[4][NR];  // rows narrowed here when the tile is narrower than NR
  const bool full = cols == NR;
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const int rn = rows - r0 < 4 ? rows - r0 : 4;
    for (int c = 0; c < NR && c < cols; c += 4) {
      const FixedPointMultiplier4 fp(os.multipliers + c, os.shifts + c, os.rounding);
      for (int r = 0; r < rn; ++r) {
        const int32x4_t y =
            vaddq_s32(vminq_s32(vmaxq_s32(fp.apply(vld1q_s32(acc + (r0 + r) * NR + c)), lo), hi), zp);
        const int8x8_t b = vqmovn_s16(vcombine_s16(vqmovn_s32(y), vdup_n_s16(0)));
        int8_t* dst = full ? out + (r0 + r) * out_stride + c : &tmp[r][c];
        vst1_lane_s32(reinterpret_cast<int32_t*>(static_cast<void*>(dst)), vreinterpret_s32_s8(b), 0);
      }
    }
    if (!full) {
      for (int r = 0; r < rn; ++r)
        std::memcpy(out + (r0 + r) * out_stride, tmp[r], static_cast<std::size_t>(cols));
    }
  }
}

}  // namespace arm::neon
PTQ_NAMESPACE_END

#endif  // __aarch64__
