// arm/pool_neon.hpp: the pooling and Mean kernels (pool_kernels-inl.hpp) on AArch64 NEON: 16 int8
// channels (then 8) per max-pool step, 4 floats, 4 int32 sums for the int8 average and Mean.
//   - max / min on int8 and int32: SMAX / SMIN. On float, a > b ? a : b and a < b ? a : b through
//     a compare and a bit select (FMAX / FMIN would return NaN for a NaN second operand, where
//     the reference returns it only as the first), as the one-lane Ops do.
//   - average(acc, n): num = acc + sign(acc) * (n / 2), then the float quotient num / n truncated
//     (FDIV, FCVTZS): exact for windows of at most pool_ops::kPoolSimdMaxTaps taps, by the same
//     argument as the x86 levels (pool_ops.hpp).
//   - store_narrow: two saturating narrows of lanes already in [-128, 127].
// Plain NEON is part of every AArch64 baseline: no target region.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>

#include "ptq/kernels/pool_ops.hpp"
#include "ptq/kernels/reference/pool.hpp"

#if defined(__aarch64__)

#include <arm_neon.h>

PTQ_NAMESPACE_BEGIN
namespace arm::neon {
namespace pool_kernels {

struct I8x16 {
  using V = int8x16_t;
  static constexpr int kLanes = 16;
  static PTQ_INLINE V load(const int8_t* p) { return vld1q_s8(p); }
  static PTQ_INLINE void store(int8_t* p, V v) { vst1q_s8(p, v); }
  static PTQ_INLINE V set1(int8_t v) { return vdupq_n_s8(v); }
  static PTQ_INLINE V max(V a, V b) { return vmaxq_s8(a, b); }
  static PTQ_INLINE V min(V a, V b) { return vminq_s8(a, b); }
};

struct I8x8 {
  using V = int8x8_t;
  static constexpr int kLanes = 8;
  static PTQ_INLINE V load(const int8_t* p) { return vld1_s8(p); }
  static PTQ_INLINE void store(int8_t* p, V v) { vst1_s8(p, v); }
  static PTQ_INLINE V set1(int8_t v) { return vdup_n_s8(v); }
  static PTQ_INLINE V max(V a, V b) { return vmax_s8(a, b); }
  static PTQ_INLINE V min(V a, V b) { return vmin_s8(a, b); }
};

struct F32x4 {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  static PTQ_INLINE V load(const float* p) { return vld1q_f32(p); }
  static PTQ_INLINE void store(float* p, V v) { vst1q_f32(p, v); }
  static PTQ_INLINE V set1(float v) { return vdupq_n_f32(v); }
  static PTQ_INLINE V zero() { return vdupq_n_f32(0.0f); }
  static PTQ_INLINE V add(V a, V b) { return vaddq_f32(a, b); }
  static PTQ_INLINE V div(V a, V b) { return vdivq_f32(a, b); }
  static PTQ_INLINE V max(V a, V b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static PTQ_INLINE V min(V a, V b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
};

struct I32x4 {
  using V = int32x4_t;
  static constexpr int kLanes = 4;
  static PTQ_INLINE V load_widen(const int8_t* p) {
    int32_t bytes;
    std::memcpy(&bytes, p, sizeof(bytes));
    return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(bytes)))));
  }
  static PTQ_INLINE void store(int32_t* p, V v) { vst1q_s32(p, v); }
  static PTQ_INLINE V set1(int32_t v) { return vdupq_n_s32(v); }
  static PTQ_INLINE V zero() { return vdupq_n_s32(0); }
  static PTQ_INLINE V add(V a, V b) { return vaddq_s32(a, b); }
  static PTQ_INLINE V max(V a, V b) { return vmaxq_s32(a, b); }
  static PTQ_INLINE V min(V a, V b) { return vminq_s32(a, b); }
  static PTQ_INLINE V average(V acc, int32_t n) {
    // sign(acc) * (n / 2): +h where acc > 0, -h where acc < 0, 0 where acc == 0.
    const V h = vdupq_n_s32(n / 2);
    const V signed_h = vbslq_s32(vcgtq_s32(acc, vdupq_n_s32(0)), h,
                                 vbslq_s32(vcltq_s32(acc, vdupq_n_s32(0)), vnegq_s32(h), vdupq_n_s32(0)));
    const float32x4_t q = vdivq_f32(vcvtq_f32_s32(vaddq_s32(acc, signed_h)), vdupq_n_f32(static_cast<float>(n)));
    return vcvtq_s32_f32(q);  // FCVTZS: toward zero
  }
  static PTQ_INLINE void store_narrow(int8_t* p, V v) {
    const int16x4_t w = vqmovn_s32(v);
    const int8x8_t b = vqmovn_s16(vcombine_s16(w, w));
    const int32_t bytes = vget_lane_s32(vreinterpret_s32_s8(b), 0);
    std::memcpy(p, &bytes, sizeof(bytes));
  }
};

using I8Widths = std::tuple<I8x16, I8x8, pool_ops::I8x1>;
using F32Widths = std::tuple<F32x4, pool_ops::F32x1>;
using I32Widths = std::tuple<I32x4, pool_ops::I32x1>;

#include "ptq/kernels/pool_kernels-inl.hpp"

}  // namespace pool_kernels
}  // namespace arm::neon
PTQ_NAMESPACE_END

#endif  // __aarch64__
