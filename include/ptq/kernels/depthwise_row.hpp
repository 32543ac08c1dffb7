// depthwise_row.hpp: one output row of a depthwise convolution, as every ISA level's kernel sees
// it (DepthwiseRowArgs), and the scalar kernel that defines what the SIMD ones compute.
//
// For output pixel ox of the row and output channel c < channels:
//   acc = bias[c] + sum_{t < taps} w[t][c] * taps[t][ox * pixel_stride + c]      int32, wrapping
//   y   = clamp(multiply_by_quantized_multiplier(acc, mult[c], shift[c]) + y_zp, act_min, act_max)
// where taps[t] points at filter tap t's input for pixel 0 of the row, in a zero-padded copy of
// its input row (depthwise.hpp: x_zp outside the image) or in the x_zp row, and bias[c] =
// bias_user[c] - x_zp * sum_t w[t][c] (the zero-point fold, mod 2^32). There are
// taps_per_pixel = 2 * ceil(taps / 2) pointers: the SIMD kernels multiply taps in pairs, and an odd
// last tap is paired with the x_zp row and weight 0.
// The _accumulators form (the hybrid depthwise, hybrid_conv.hpp) stops at acc: it stores the int32
// accumulators, natural channel order, to `accumulators` [pixels][channels] and ignores the
// requantization fields and `output`.
#pragma once

#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN
namespace depthwise_detail {

struct DepthwiseRowArgs {
  const int8_t* const* taps = nullptr;  // [taps_per_pixel]: pixel 0's inputs
  int64_t pixel_stride = 0;             // bytes between consecutive pixels' inputs (stride_w * channels)
  int64_t taps_used = 0;                // filter_h * filter_w
  int64_t taps_per_pixel = 0;           // 2 * ceil(taps_used / 2)
  int64_t pixels = 0;                   // output pixels in the row
  int64_t channels = 0;                 // output channels (= input channels of the expanded input)
  const int8_t* weights = nullptr;      // [taps_used][channels], TFLite's [1, KH, KW, OC]
  // [channels rounded up to 16 / 16][taps_per_pixel / 2][32]: for a pair of taps (2p, 2p + 1)
  // and a block of 16 channels, four runs of 4 channels (chunks q = 0..3: channels 4q..4q+3) of
  // interleaved pairs (w[2p][c], w[2p + 1][c]), stored in the chunk order 0, 2, 1, 3: the order in
  // which vpunpcklwd / vpunpckhwd of sign-extended 16-byte loads pair the inputs on AVX2 (chunks 0,
  // 2 / 1, 3) and SSE4.1 (chunks 2h / 2h + 1 of half h). Channels >= `channels` hold 0.
  const int16_t* weight_pairs = nullptr;
  // Per-channel int32 arrays of round_up(channels, 16) entries (0 past `channels`), in natural
  // order and, for AVX2 (_perm), permuted per 16-channel block to 0-3, 8-11, 4-7, 12-15: the lane
  // order of the AVX2 accumulators.
  const int32_t* bias = nullptr;
  const int32_t* multipliers = nullptr;
  const int32_t* shifts = nullptr;
  const int32_t* bias_perm = nullptr;
  const int32_t* multipliers_perm = nullptr;
  const int32_t* shifts_perm = nullptr;
  int32_t output_zero_point = 0;
  int32_t activation_min = -128;
  int32_t activation_max = 127;
  RoundingMode rounding = kDefaultRounding;
  int8_t* output = nullptr;         // [pixels][channels]
  int32_t* accumulators = nullptr;  // [pixels][channels]: the _accumulators form's destination
};

// acc of pixel ox, channel c (the sum in the header), int32 wrapping.
inline int32_t depthwise_acc_scalar(const DepthwiseRowArgs& a, int64_t ox, int64_t c) {
  const int64_t off = ox * a.pixel_stride;
  uint32_t acc = static_cast<uint32_t>(a.bias[c]);
  for (int64_t t = 0; t < a.taps_used; ++t) {
    acc += static_cast<uint32_t>(int32_t{a.weights[t * a.channels + c]} * int32_t{a.taps[t][off + c]});
  }
  return static_cast<int32_t>(acc);
}

inline void depthwise_row_scalar(const DepthwiseRowArgs& a) {
  for (int64_t ox = 0; ox < a.pixels; ++ox) {
    int8_t* out = a.output + ox * a.channels;
    for (int64_t c = 0; c < a.channels; ++c) {
      out[c] = static_cast<int8_t>(reference::quantized_output_stage(
          depthwise_acc_scalar(a, ox, c), QuantizedMultiplier{a.multipliers[c], a.shifts[c]}, a.rounding,
          a.output_zero_point, a.activation_min, a.activation_max));
    }
  }
}

inline void depthwise_row_accumulators_scalar(const DepthwiseRowArgs& a) {
  for (int64_t ox = 0; ox < a.pixels; ++ox) {
    for (int64_t c = 0; c < a.channels; ++c) a.accumulators[ox * a.channels + c] = depthwise_acc_scalar(a, ox, c);
  }
}

}  // namespace depthwise_detail
PTQ_NAMESPACE_END
