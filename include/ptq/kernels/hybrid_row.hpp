// hybrid_row.hpp: the float ends of the hybrid (dynamic-range) kernels, per row, in scalar C++:
// what the SIMD versions (x86/hybrid_{avx2,sse41}.hpp) compute lane by lane, and their tails.
//
//   hybrid_minmax       min and max of a row (finite values; see the SIMD files on signed zeros)
//   hybrid_quantize     q[i] = round_to_int_clamped(zp + x[i] * inv, lo, hi, NaN -> zp): the
//                       element loop of reference::quantize_row_asymmetric ((lo, hi) = (-128, 127))
//                       and of quantize_row_symmetric (zp = 0, (lo, hi) = (-127, 127))
//   hybrid_fc_epilogue  out[n] = act(init[n] + float(acc[n] - row_sums[n] * zp) * (row_scale * w_scales[n]))
//                       the tail of reference::hybrid_fully_connected_prequantized (int32 wrapping)
//   hybrid_conv_epilogue out[r][c] = activation_with_min_max(v (+ bias[c]), act_min, act_max) for rows r
//                       of n channels, with
//                       dot = acc[r][c] - row_sums[c] * zp (int32 wrapping) and, by HybridConvScaling,
//                         kPerChannel: v = (float(dot) * scales[c]) * row_scale
//                         kPerTensor:  v = 0.0f + float(dot) * scales[c]
//                         kDepthwise:  v = float(dot) * scales[c]
//                       the tails of the three conv kernels of reference/hybrid.hpp (hybrid_conv.hpp
//                       says which scales each passes)
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

// The float order of a hybrid conv kernel's epilogue (reference/hybrid.hpp), see the header.
enum class HybridConvScaling : uint8_t {
  kPerChannel = 0,  // reference_ops::HybridConvPerChannel: (float(acc) * w_scale[c]) * row_scale
  kPerTensor = 1,   // optimized_ops::HybridConv: 0.0f + float(acc) * (row_scale * w_scale)
  kDepthwise = 2,   // DepthwiseConvHybridPerChannel: float(acc) * (w_scale[c] * row_scale)
};

// One pixel's (or any run of channels') arguments to hybrid_conv_epilogue.
struct HybridConvEpilogue {
  const int32_t* row_sums = nullptr;  // [n] sum of the channel's weights (the zero-point correction)
  int32_t zero_point = 0;             // the image's input zero point (0 for symmetric rows)
  const float* scales = nullptr;      // [n]
  float row_scale = 1.0f;             // kPerChannel's second factor (unused by the others)
  HybridConvScaling scaling = HybridConvScaling::kPerChannel;
  const float* bias = nullptr;        // [n] or null (no addition at all: -0.0 stays -0.0)
  float act_min = 0.0f, act_max = 0.0f;  // calculate_activation_range(activation)
};

inline float hybrid_conv_value(int32_t acc, int32_t row_sum, int32_t zp, float scale, float row_scale,
                               HybridConvScaling scaling, const float* bias) {
  const int32_t dot = static_cast<int32_t>(static_cast<uint32_t>(acc) -
                                           static_cast<uint32_t>(row_sum) * static_cast<uint32_t>(zp));
  float v;
  switch (scaling) {
    case HybridConvScaling::kPerChannel: v = opaque_mul(opaque_mul(static_cast<float>(dot), scale), row_scale); break;
    case HybridConvScaling::kPerTensor: v = 0.0f + opaque_mul(static_cast<float>(dot), scale); break;
    default: v = opaque_mul(static_cast<float>(dot), scale); break;
  }
  if (bias != nullptr) v = v + *bias;
  return v;
}

// `rows` rows of n channels, acc and out contiguous (row r at r * n); the per-channel arrays of e
// are indexed by channel.
inline void hybrid_conv_epilogue_scalar(int64_t rows, int64_t n, const int32_t* acc, const HybridConvEpilogue& e,
                                        float* out) {
  for (int64_t r = 0; r < rows; ++r, acc += n, out += n) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = hybrid_conv_value(acc[i], e.row_sums[i], e.zero_point, e.scales[i], e.row_scale, e.scaling,
                                        e.bias != nullptr ? e.bias + i : nullptr);
      out[i] = reference::activation_with_min_max(v, e.act_min, e.act_max);
    }
  }
}

}  // namespace hybrid_detail
PTQ_NAMESPACE_END
