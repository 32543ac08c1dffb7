// hybrid_row.hpp: the float ends of the hybrid (dynamic-range) kernels, per row, in scalar C++:
// what the SIMD versions (x86/hybrid_{avx2,sse41}.hpp) compute lane by lane, and their tails.
//
//   hybrid_minmax       min and max of a row (finite values; see the SIMD files on signed zeros)
//   hybrid_quantize     q[i] = round_to_int_clamped(zp + x[i] * inv, lo, hi, NaN -> zp): the
//                       element loop of reference::quantize_row_asymmetric ((lo, hi) = (-128, 127))
//                       and of quantize_row_symmetric (zp = 0, (lo, hi) = (-127, 127))
//   hybrid_fc_epilogue  out[n] = act(init[n] + float(acc[n] - row_sums[n] * zp) * (row_scale * w_scales[n]))
//                       the tail of reference::hybrid_fully_connected_prequantized (int32 wrapping)
// The product inside a sum goes through opaque_mul, an empty asm barrier, so that no compiler
// contracts `a + x * b` into an FMA whatever -ffp-contract the including TU uses: the reference is
// built with -ffp-contract=off in ptq's tests, and bit-exactness must not depend on the user's flags.
#pragma once

#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/hybrid.hpp"

PTQ_NAMESPACE_BEGIN
namespace hybrid_detail {

inline float opaque_mul(float a, float b) {
  float p = a * b;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(p));
#elif defined(__GNUC__)
  __asm__("" : "+w"(p));
#else
  volatile float v = p;
  p = v;
#endif
  return p;
}

inline void hybrid_minmax_scalar(const float* x, int64_t n, float* lo, float* hi) {
  float l = x[0], h = x[0];
  for (int64_t i = 1; i < n; ++i) {
    l = x[i] < l ? x[i] : l;
    h = x[i] > h ? x[i] : h;
  }
  *lo = l;
  *hi = h;
}

inline void hybrid_quantize_scalar(const float* x, int64_t n, float inv, int32_t zero_point, float lo, float hi,
                                   int8_t* q) {
  const float zp = static_cast<float>(zero_point);
  for (int64_t i = 0; i < n; ++i) {
    q[i] = static_cast<int8_t>(reference::detail::round_to_int_clamped(zp + opaque_mul(x[i], inv), lo, hi, zero_point));
  }
}

inline void hybrid_fc_epilogue_scalar(int64_t n, const int32_t* acc, const int32_t* row_sums, int32_t zp,
                                      float row_scale, const float* w_scales, const float* init,
                                      FusedActivation act, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t dot = static_cast<int32_t>(static_cast<uint32_t>(acc[i]) -
                                             static_cast<uint32_t>(row_sums[i]) * static_cast<uint32_t>(zp));
    const float scale = row_scale * w_scales[i];
    out[i] = reference::apply_fused_activation(init[i] + opaque_mul(static_cast<float>(dot), scale), act);
  }
}

}  // namespace hybrid_detail
PTQ_NAMESPACE_END
