// depthwise.hpp: int8 depthwise 2-D convolution, NHWC, with its own direct kernel per ISA level:
// prepare once, run many.
//
//   Status s = validate_depthwise_conv2d(params, weights);               // once: names the culprit
//   PreparedDepthwiseConv2D dw = prepare_depthwise_conv2d(params, weights, bias);
//   depthwise_conv2d(dw, input, output);                                 // per call: no allocation
//
// Bit for bit reference::depthwise_conv2d on every level (scalar, SSE4.1, AVX2), any stride,
// dilation, padding, depth multiplier and channel count.
//
// Why direct and not the GEMM: a depthwise layer has K = filter_h * filter_w (9) per output
// channel and no reuse of an input pixel across channels, so it is a streaming multiply-add over
// channels-last rows: vectorized across channels (16 per AVX2 step, 8 per SSE4.1 step; TFLite's
// weight layout [1, KH, KW, OC] is already channels-last).
//
// The walk, per batch image and output row:
//   1. Per filter tap, one pointer to its input for pixel 0 of the row; pixel ox reads
//      ox * stride_w * channels bytes further. The pointer is into a zero-padded copy of the
//      input row (x_zp left and right of the image; each input row copied once per image into a
//      ring of filter-height rows), into the input itself when the row needs no padding (VALID,
//      or pad_left 0 with the taps inside), or into a row of x_zp when the row is above or below
//      the image. Since the weights are symmetric, an x_zp tap contributes w * x_zp, and prepare
//      folds the zero point into the bias, bias'[c] = bias[c] - x_zp * sum_t w[t][c] (mod 2^32),
//      so the loop multiplies raw int8 inputs and has no border cases: exactly the reference's
//      skipped taps.
//   2. The level's row kernel (depthwise_row.hpp for the contract; x86/depthwise_{avx2,sse41}.hpp):
//      per block of channels, the per-lane requantization is built once and shared by the row;
//      3x3 filters keep the block's weights in registers across the row.
// Depth multiplier dm > 1: output channel c reads input channel c / dm. The run first expands the
// batch image into scratch (x'[pixel][c] = x[pixel][c / dm], in_h * in_w * out_c bytes sized at
// prepare) and then runs the dm = 1 kernel on it; the expansion costs one byte written per
// out_c * pixel against filter_h * filter_w multiply-adds.
//
// Scratch (the padded-row ring, the tap pointers, the expanded image) belongs to the
// PreparedDepthwiseConv2D: concurrent calls on one object are not safe (prepare one per thread).
// The walk (DepthwiseRunner::for_each_row) and the row kernels' int32-accumulator form are shared
// with the hybrid depthwise (hybrid_conv.hpp), which sets the padding value per image
// (DepthwiseRunner::set_padding_value) to that image's zero point.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/depthwise_row.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/simd/dispatch.hpp"

#if PTQ_ARCH_X86
#include "ptq/kernels/x86/depthwise_avx2.hpp"
#include "ptq/kernels/x86/depthwise_sse41.hpp"
#endif

PTQ_NAMESPACE_BEGIN

// The level whose kernel runs for a requested level (before clamping to what the CPU runs).
constexpr Isa depthwise_variant(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
    case Isa::kAvx512:
    case Isa::kAvxVnni:
    case Isa::kAvx2: return PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar;
    case Isa::kSse41: return PTQ_ARCH_X86 ? Isa::kSse41 : Isa::kScalar;
    default: return Isa::kScalar;
  }
}

// The reference's checks (DepthwiseConv2DParams::validate) and weights in [-127, 127] (names the
// first [fy][fx][oc] equal to -128: the int8 spec's symmetric range, which the bias fold relies on
// no more than the reference does, but which ptq's kernels all state).
inline Status validate_depthwise_conv2d(const DepthwiseConv2DParams& p, const int8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate());
  if (weights == nullptr) return invalid_argument("depthwise_conv2d: weights is null");
  const ConvGeometry& g = p.geometry;
  for (int64_t i = 0; i < p.filter_size(); ++i) {
    if (weights[i] == -128) {
      const int64_t oc = i % g.output_channels, fx = i / g.output_channels % g.filter_width;
      const int64_t fy = i / g.output_channels / g.filter_width;
      return invalid_argument("depthwise_conv2d: weights[0][" + std::to_string(fy) + "][" + std::to_string(fx) +
                              "][" + std::to_string(oc) + "] = -128; int8 weights are in [-127, 127] (TFLite's spec)");
    }
  }
  return {};
}

class PreparedDepthwiseConv2D {
 public:
  PreparedDepthwiseConv2D() = default;
  const DepthwiseConv2DParams& params() const { return params_; }

 private:
  friend struct DepthwiseRunner;

  DepthwiseConv2DParams params_;
  int64_t taps_ = 0, taps_per_pixel_ = 0;
  std::vector<int8_t> weights_;         // [taps][out_c]
  std::vector<int16_t> weight_pairs_;   // depthwise_row.hpp
  std::vector<int32_t> ints_;           // 6 arrays of out_c rounded up to 16
  int64_t c_pad_ = 0;
  // Zero-padded input rows: pixel px of a padded row holds input column px - pad_left, or x_zp
  // outside the image; padded_width_ = (out_w - 1) * stride_w + (filter_w - 1) * dilation_w + 1
  // pixels, so every tap of every output pixel of a row reads inside it.
  int64_t padded_width_ = 0;
  bool direct_rows_ = false;  // pad_left == 0 and padded_width_ <= in_w: taps read the input itself
  // The padding's value is x_zp; the hybrid depthwise changes it per image (set_padding_value).
  mutable int8_t pad_value_ = 0;
  mutable std::vector<int8_t> zp_row_;               // padded_width_ * out_c bytes of pad_value_
  mutable std::vector<int8_t> rows_;                 // ring of (filter_h - 1) * dilation_h + 1 padded rows
  mutable std::vector<int64_t> slot_row_;            // the input row held by each ring slot (-1: none)
  mutable std::vector<const int8_t*> taps_row_;      // [taps_per_pixel]
  mutable std::vector<int8_t> expanded_;             // dm > 1: [in_h][in_w][out_c]
};

struct DepthwiseRunner {
  // prepare_depthwise_conv2d without its checks: the hybrid depthwise prepares its int32 walk here
  // (multipliers unused, zero point and bias 0; its weights may hold -128, which the walk's int16
  // products take exactly).
  static PreparedDepthwiseConv2D prepare(const DepthwiseConv2DParams& p, const int8_t* weights, const int32_t* bias) {
    const ConvGeometry& g = p.geometry;
    PreparedDepthwiseConv2D d;
    d.params_ = p;
    const int64_t oc = g.output_channels, taps = g.filter_height * g.filter_width;
    d.taps_ = taps;
    d.taps_per_pixel_ = (taps + 1) / 2 * 2;
    d.c_pad_ = (oc + 15) / 16 * 16;
    d.weights_.assign(weights, weights + taps * oc);
    const int64_t pairs = d.taps_per_pixel_ / 2;
    d.weight_pairs_.assign(static_cast<std::size_t>(d.c_pad_ / 16 * pairs * 32), 0);
    static constexpr int kChunkPosition[4] = {0, 2, 1, 3};  // chunk q stored at position kChunkPosition[q]
    for (int64_t c = 0; c < oc; ++c) {
      const int64_t block = c / 16, q = c % 16 / 4, j = c % 4;
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t pair = t / 2, s = t % 2;
        d.weight_pairs_[static_cast<std::size_t>(((block * pairs + pair) * 4 + kChunkPosition[q]) * 8 + 2 * j + s)] =
            weights[t * oc + c];
      }
    }
    d.ints_.assign(static_cast<std::size_t>(6 * d.c_pad_), 0);
    int32_t* bias_n = d.ints_.data();
    int32_t* mult_n = bias_n + d.c_pad_;
    int32_t* shift_n = mult_n + d.c_pad_;
    for (int64_t c = 0; c < oc; ++c) {
      uint32_t sum = 0;
      for (int64_t t = 0; t < taps; ++t) sum += static_cast<uint32_t>(int32_t{weights[t * oc + c]});
      const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[c]) : 0u;
      bias_n[c] = static_cast<int32_t>(b - static_cast<uint32_t>(p.input_zero_point) * sum);
      const QuantizedMultiplier m = p.multiplier(c);
      mult_n[c] = m.multiplier;
      shift_n[c] = m.shift;
    }
    // AVX2 lane order per block of 16: channels 0-3, 8-11, 4-7, 12-15.
    static constexpr int kPerm[16] = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15};
    for (int arr = 0; arr < 3; ++arr) {
      const int32_t* src = d.ints_.data() + arr * d.c_pad_;
      int32_t* dst = d.ints_.data() + (3 + arr) * d.c_pad_;
      for (int64_t c = 0; c < d.c_pad_; ++c) dst[c] = src[c / 16 * 16 + kPerm[c % 16]];
    }
    d.padded_width_ = std::max<int64_t>(1, (g.output_width - 1) * g.stride_width +
                                               (g.filter_width - 1) * g.dilation_width + 1);
    d.direct_rows_ = g.pad_left == 0 && d.padded_width_ <= g.input_width;
    const auto row_bytes = static_cast<std::size_t>(d.padded_width_ * oc);
    const auto zp = static_cast<int8_t>(p.input_zero_point);
    d.pad_value_ = zp;
    d.zp_row_.assign(row_bytes, zp);
    const int64_t slots = (g.filter_height - 1) * g.dilation_height + 1;
    if (!d.direct_rows_) d.rows_.assign(static_cast<std::size_t>(slots) * row_bytes, zp);
    d.slot_row_.assign(static_cast<std::size_t>(slots), -1);
    d.taps_row_.assign(static_cast<std::size_t>(d.taps_per_pixel_), nullptr);
    if (p.depth_multiplier > 1) d.expanded_.resize(static_cast<std::size_t>(g.input_height * g.input_width * oc));
    return d;
  }

  // The row kernels' arguments for d, everything but taps' targets and the destination.
  static depthwise_detail::DepthwiseRowArgs row_args(const PreparedDepthwiseConv2D& d) {
    const DepthwiseConv2DParams& p = d.params_;
    const ConvGeometry& g = p.geometry;
    depthwise_detail::DepthwiseRowArgs a;
    a.taps = d.taps_row_.data();
    a.pixel_stride = g.stride_width * g.output_channels;
    a.taps_used = d.taps_;
    a.taps_per_pixel = d.taps_per_pixel_;
    a.pixels = g.output_width;
    a.channels = g.output_channels;
    a.weights = d.weights_.data();
    a.weight_pairs = d.weight_pairs_.data();
    a.bias = d.ints_.data();
    a.multipliers = a.bias + d.c_pad_;
    a.shifts = a.multipliers + d.c_pad_;
    a.bias_perm = a.shifts + d.c_pad_;
    a.multipliers_perm = a.bias_perm + d.c_pad_;
    a.shifts_perm = a.multipliers_perm + d.c_pad_;
    a.output_zero_point = p.output_zero_point;
    a.activation_min = p.activation_min;
    a.activation_max = p.activation_max;
    a.rounding = p.rounding;
    return a;
  }

  // Makes `value` the padding (the x_zp row and the ring's borders): the hybrid depthwise's per-image
  // zero point. The int8 depthwise keeps prepare's x_zp.
  static void set_padding_value(const PreparedDepthwiseConv2D& d, int8_t value) {
    if (value == d.pad_value_) return;
    d.pad_value_ = value;
    std::fill(d.zp_row_.begin(), d.zp_row_.end(), value);
    std::fill(d.rows_.begin(), d.rows_.end(), value);  // interiors are copied again per image
  }

  // For one batch image [in_h, in_w, in_c]: for each output row oy, points the tap pointers
  // (row_args().taps) at the row's inputs, then calls row(oy).
  template <class RowFn>
  static void for_each_row(const PreparedDepthwiseConv2D& d, const int8_t* img, RowFn&& row) {
    const DepthwiseConv2DParams& p = d.params_;
    const ConvGeometry& g = p.geometry;
    const int64_t oc = g.output_channels, dm = p.depth_multiplier;
    const int64_t image = g.input_height * g.input_width;
    if (dm > 1) {
      int8_t* e = d.expanded_.data();
      for (int64_t i = 0; i < image; ++i) {
        for (int64_t ic = 0; ic < g.input_channels; ++ic) {
          std::memset(e + i * oc + ic * dm, img[i * g.input_channels + ic], static_cast<std::size_t>(dm));
        }
      }
      img = e;
    }
    const int8_t* zp_row = d.zp_row_.data();
    const int8_t** taps = d.taps_row_.data();  // pixel 0's input per tap, for the current row
    std::fill(d.slot_row_.begin(), d.slot_row_.end(), int64_t{-1});  // a new image
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      const int64_t y0 = oy * g.stride_height - g.pad_top;
      for (int64_t fy = 0; fy < g.filter_height; ++fy) {
        const int64_t iy = y0 + fy * g.dilation_height;
        const int8_t* in_row;
        if (iy < 0 || iy >= g.input_height) {
          in_row = zp_row;
        } else if (d.direct_rows_) {
          in_row = img + iy * g.input_width * oc;
        } else {  // the row's zero-padded copy, made once per image (a ring of filter-height rows)
          const auto slot = static_cast<std::size_t>(iy % static_cast<int64_t>(d.slot_row_.size()));
          int8_t* padded = d.rows_.data() + static_cast<int64_t>(slot) * d.padded_width_ * oc;
          if (d.slot_row_[slot] != iy) {
            const int64_t n = std::min(g.input_width, d.padded_width_ - g.pad_left);
            if (n > 0) {
              std::memcpy(padded + g.pad_left * oc, img + iy * g.input_width * oc, static_cast<std::size_t>(n * oc));
            }
            d.slot_row_[slot] = iy;
          }
          in_row = padded;
        }
        for (int64_t fx = 0; fx < g.filter_width; ++fx) taps[fy * g.filter_width + fx] = in_row + fx * g.dilation_width * oc;
      }
      if (d.taps_ % 2 != 0) taps[d.taps_] = zp_row;
      row(oy);
    }
  }

  static void run(const PreparedDepthwiseConv2D& d, const int8_t* input, int8_t* output, Isa isa) {
    const ConvGeometry& g = d.params_.geometry;
    if (g.output_width == 0) return;
    const int64_t oc = g.output_channels, image = g.input_height * g.input_width * g.input_channels;
    const Isa v = depthwise_variant(best_runnable_isa_within(isa));
    depthwise_detail::DepthwiseRowArgs a = row_args(d);
    for (int64_t b = 0; b < g.batches; ++b) {
      for_each_row(d, input + b * image, [&](int64_t oy) {
        a.output = output + ((b * g.output_height + oy) * g.output_width) * oc;
        switch (v) {
#if PTQ_ARCH_X86
          case Isa::kAvx2: x86::avx2::depthwise_row(a); break;
          case Isa::kSse41: x86::sse41::depthwise_row(a); break;
#endif
          default: depthwise_detail::depthwise_row_scalar(a); break;
        }
      });
    }
  }
};

// Weights [1, filter_h, filter_w, out_c], bias [out_c] or null.
// Preconditions (checked in debug builds): validate_depthwise_conv2d(p, weights) is ok.
inline PreparedDepthwiseConv2D prepare_depthwise_conv2d(const DepthwiseConv2DParams& p, const int8_t* weights,
                                                        const int32_t* bias) {
  PTQ_DCHECK(validate_depthwise_conv2d(p, weights).ok(),
             "prepare_depthwise_conv2d: invalid parameters (call validate_depthwise_conv2d())");
  return DepthwiseRunner::prepare(p, weights, bias);
}

// output [batches, out_h, out_w, out_c] = reference::depthwise_conv2d(params, input, weights, bias)
// for the prepared layer. input [batches, in_h, in_w, in_c]. No allocation.
inline void depthwise_conv2d(const PreparedDepthwiseConv2D& dw, const int8_t* input, int8_t* output,
                             Isa isa = selected_isa()) {
  PTQ_DCHECK(!dw.params().multipliers.empty(), "depthwise_conv2d: not prepared");
  DepthwiseRunner::run(dw, input, output, isa);
}

PTQ_NAMESPACE_END
