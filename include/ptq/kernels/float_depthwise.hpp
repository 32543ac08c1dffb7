// float_depthwise.hpp: float32 depthwise 2-D convolution, NHWC, vectorized across channels:
// prepare once, run many.
//
//   Status s = validate_float_depthwise_conv2d(params, weights);
//   PreparedFloatDepthwiseConv2D dw = prepare_float_depthwise_conv2d(params, weights, bias);
//   float_depthwise_conv2d(dw, input, output);                         // per call: no allocation
//
// Bit for bit reference::depthwise_conv2d (the float overload, reference/depthwise_conv.hpp) on
// every ISA level (scalar, SSE4.1, AVX2), any stride, dilation, padding and depth multiplier: each
// lane of a vector is one output channel's chain 0.0f + x_t0 * w_t0 + x_t1 * w_t1 + ... over the
// taps in [fy][fx] order, then + bias, then the activation (float_microkernel.hpp).
//
// The walk (the int8 kernel's, kernels/depthwise.hpp), per batch image and output row:
//   1. Per filter tap, a pointer to its input for pixel 0 of the row; pixel ox reads
//      ox * stride_w * channels floats further. The pointer is into the input row itself when the
//      row needs no padding (pad_left 0 and every tap inside), into a zero-padded copy of the row
//      (0.0f left and right of the image; each input row copied once per image into a ring of
//      filter-height rows), or into a row of zeros when the row is above or below the image.
//      A zero tap adds 0.0f * w, which leaves the chain unchanged for finite weights (the
//      reference skips the tap); layers whose weights hold inf or NaN run the reference instead.
//   2. The level's row kernel (FloatDepthwiseRowArgs): channel blocks of 2 vectors (16 on AVX2),
//      then 1 vector, then single channels, each pixel's chain over the taps in order.
// Depth multiplier dm > 1: output channel c reads input channel c / dm. The run first expands the
// image into scratch (x'[pixel][c] = x[pixel][c / dm], exact copies) and runs the dm = 1 walk.
//
// Scratch (the padded-row ring, tap pointers, the expanded image) belongs to the prepared object:
// concurrent calls on one object are not safe (prepare one per thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/float_conv.hpp"
#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/simd/dispatch.hpp"

PTQ_NAMESPACE_BEGIN

// The geometry's checks, depth_multiplier >= 1 and output_channels = input_channels * depth_multiplier.
inline Status validate_float_depthwise_conv2d(const FloatDepthwiseConv2DParams& p, const float* weights) {
  const std::string what = "float depthwise_conv2d";
  const ConvGeometry& g = p.geometry;
  PTQ_RETURN_IF_ERROR(g.validate(what));
  if (p.depth_multiplier < 1) {
    return invalid_argument(what + ": depth_multiplier = " + std::to_string(p.depth_multiplier) + " must be >= 1");
  }
  if (g.output_channels != g.input_channels * p.depth_multiplier) {
    return invalid_argument(what + ": output_channels = " + std::to_string(g.output_channels) +
                            " is not input_channels * depth_multiplier = " +
                            std::to_string(g.input_channels * p.depth_multiplier));
  }
  if (weights == nullptr) return invalid_argument(what + ": weights is null");
  return {};
}

class PreparedFloatDepthwiseConv2D {
 public:
  PreparedFloatDepthwiseConv2D() = default;
  const FloatDepthwiseConv2DParams& params() const { return params_; }
  bool reference_only() const { return reference_only_; }  // weights hold inf or NaN

 private:
  friend PreparedFloatDepthwiseConv2D prepare_float_depthwise_conv2d(const FloatDepthwiseConv2DParams&, const float*,
                                                                     const float*);
  friend struct FloatDepthwiseRunner;

  FloatDepthwiseConv2DParams params_;
  bool reference_only_ = false, has_bias_ = false;
  int64_t taps_ = 0;
  std::vector<float> weights_;  // [taps][out_c]
  std::vector<float> bias_;     // [out_c], 0.0f when the layer has none
  float lo_ = 0.0f, hi_ = 0.0f;
  // Padded rows: pixel px of a padded row holds input column px - pad_left, or 0.0f outside the
  // image; padded_width_ = (out_w - 1) * stride_w + (filter_w - 1) * dilation_w + 1 pixels, so
  // every tap of every output pixel of a row reads inside it.
  int64_t padded_width_ = 0;
  bool direct_rows_ = false;                     // taps read the input rows themselves
  std::vector<float> zero_row_;                  // padded_width_ * out_c zeros
  mutable std::vector<float> rows_;              // ring of (filter_h - 1) * dilation_h + 1 padded rows
  mutable std::vector<int64_t> slot_row_;        // the input row held by each ring slot (-1: none)
  mutable std::vector<const float*> taps_row_;   // [taps]
  mutable std::vector<float> expanded_;          // dm > 1: [in_h][in_w][out_c]
};

// Weights [1, filter_h, filter_w, out_c], bias [out_c] or null.
// Preconditions (checked in debug builds): validate_float_depthwise_conv2d(p, weights) is ok.
inline PreparedFloatDepthwiseConv2D prepare_float_depthwise_conv2d(const FloatDepthwiseConv2DParams& p,
                                                                   const float* weights, const float* bias) {
  PTQ_DCHECK(validate_float_depthwise_conv2d(p, weights).ok(),
             "prepare_float_depthwise_conv2d: invalid parameters (call validate_float_depthwise_conv2d())");
  const ConvGeometry& g = p.geometry;
  PreparedFloatDepthwiseConv2D d;
  d.params_ = p;
  const int64_t oc = g.output_channels, taps = g.filter_height * g.filter_width;
  d.taps_ = taps;
  d.weights_.assign(weights, weights + taps * oc);
  d.has_bias_ = bias != nullptr;
  d.bias_.assign(static_cast<std::size_t>(oc), 0.0f);
  if (bias != nullptr) std::copy(bias, bias + oc, d.bias_.begin());
  const FloatActivationRange range = reference::calculate_activation_range(p.activation);
  d.lo_ = range.min;
  d.hi_ = range.max;
  if (!float_detail::all_finite(weights, taps * oc)) {
    d.reference_only_ = true;
    return d;
  }
  d.padded_width_ = std::max<int64_t>(1, (g.output_width - 1) * g.stride_width +
                                             (g.filter_width - 1) * g.dilation_width + 1);
  d.direct_rows_ = g.pad_left == 0 && d.padded_width_ <= g.input_width;
  const auto row_floats = static_cast<std::size_t>(d.padded_width_ * oc);
  d.zero_row_.assign(row_floats, 0.0f);
  const int64_t slots = (g.filter_height - 1) * g.dilation_height + 1;
  if (!d.direct_rows_) d.rows_.assign(static_cast<std::size_t>(slots) * row_floats, 0.0f);
  d.slot_row_.assign(static_cast<std::size_t>(slots), -1);
  d.taps_row_.assign(static_cast<std::size_t>(taps), nullptr);
  if (p.depth_multiplier > 1) d.expanded_.resize(static_cast<std::size_t>(g.input_height * g.input_width * oc));
  return d;
}

struct FloatDepthwiseRunner {
  static void run(const PreparedFloatDepthwiseConv2D& d, const float* input, float* output, Isa isa) {
    const FloatDepthwiseConv2DParams& p = d.params_;
    const ConvGeometry& g = p.geometry;
    if (d.reference_only_) {
      reference::depthwise_conv2d(p, input, d.weights_.data(), d.has_bias_ ? d.bias_.data() : nullptr, output);
      return;
    }
    if (g.output_width == 0 || g.output_height == 0) return;
    const int64_t oc = g.output_channels, dm = p.depth_multiplier;
    const int64_t image = g.input_height * g.input_width;
    const FloatKernels& uk = float_kernels(isa);
    FloatDepthwiseRowArgs a;
    a.taps = d.taps_row_.data();
    a.tap_count = d.taps_;
    a.pixel_stride = g.stride_width * oc;
    a.pixels = g.output_width;
    a.channels = oc;
    a.weights = d.weights_.data();
    a.bias = d.bias_.data();
    a.lo = d.lo_;
    a.hi = d.hi_;
    const float* zero_row = d.zero_row_.data();
    const float** taps = d.taps_row_.data();
    for (int64_t b = 0; b < g.batches; ++b) {
      const float* img = input + b * image * g.input_channels;
      if (dm > 1) {
        float* e = d.expanded_.data();
        for (int64_t i = 0; i < image; ++i) {
          for (int64_t ic = 0; ic < g.input_channels; ++ic) {
            std::fill(e + i * oc + ic * dm, e + i * oc + (ic + 1) * dm, img[i * g.input_channels + ic]);
          }
        }
        img = e;
      }
      std::fill(d.slot_row_.begin(), d.slot_row_.end(), int64_t{-1});  // a new image
      for (int64_t oy = 0; oy < g.output_height; ++oy) {
        const int64_t y0 = oy * g.stride_height - g.pad_top;
        for (int64_t fy = 0; fy < g.filter_height; ++fy) {
          const int64_t iy = y0 + fy * g.dilation_height;
          const float* row;
          if (iy < 0 || iy >= g.input_height) {
            row = zero_row;
          } else if (d.direct_rows_) {
            row = img + iy * g.input_width * oc;
          } else {  // the row's zero-padded copy, made once per image
            const auto slot = static_cast<std::size_t>(iy % static_cast<int64_t>(d.slot_row_.size()));
            float* padded = d.rows_.data() + static_cast<int64_t>(slot) * d.padded_width_ * oc;
            if (d.slot_row_[slot] != iy) {
              const int64_t n = std::min(g.input_width, d.padded_width_ - g.pad_left);
              if (n > 0) {
                std::memcpy(padded + g.pad_left * oc, img + iy * g.input_width * oc,
                            static_cast<std::size_t>(n * oc) * sizeof(float));
              }
              d.slot_row_[slot] = iy;
            }
            row = padded;
          }
          for (int64_t fx = 0; fx < g.filter_width; ++fx) {
            taps[fy * g.filter_width + fx] = row + fx * g.dilation_width * oc;
          }
        }
        a.output = output + ((b * g.output_height + oy) * g.output_width) * oc;
        uk.depthwise_row(a);
      }
    }
  }
};

// output [batches, out_h, out_w, out_c] = reference::depthwise_conv2d(params, input, weights, bias)
// for the prepared layer, bit for bit. input [batches, in_h, in_w, in_c]. No allocation.
inline void float_depthwise_conv2d(const PreparedFloatDepthwiseConv2D& dw, const float* input, float* output,
                                   Isa isa = selected_isa()) {
  FloatDepthwiseRunner::run(dw, input, output, isa);
}

PTQ_NAMESPACE_END
