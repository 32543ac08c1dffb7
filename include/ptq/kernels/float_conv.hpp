// float_conv.hpp: float32 2-D convolution, NHWC, through the float GEMM (float_gemm.hpp): prepare
// once, run many.
//
//   Status s = validate_float_conv2d(params, weights);                  // once: names the culprit
//   PreparedFloatConv2D conv = prepare_float_conv2d(params, weights, bias);
//   float_conv2d(conv, input, output);                                 // per call: no allocation
//
// Bit for bit reference::conv2d (the float overload, reference/conv.hpp) on every ISA level, any
// geometry and groups.
//
// How (the int8 conv's plan, kernels/conv.hpp, in float): per group g, a GEMM with
//   M = batches * out_h * out_w output pixels, K_g = filter_h * filter_w * (in_c / groups),
//   N_g = out_c / groups; row m of A is the pixel's patch laid out [fy][fx][ic], exactly like a
//   weight row [oc][fy][fx][ic], so the OHWI filter rows of group g are the GEMM's B as they are.
//   The GEMM runs each output's chain over k = (fy, fx, ic) in order: the reference's order. A
//   tap outside the image is written into the patch as 0.0f; it adds 0.0f * w = +-0.0f, which
//   leaves the chain unchanged for finite w (float_microkernel.hpp), i.e. it is the reference's
//   skipped tap. Weights holding inf or NaN would turn that into NaN, so such layers run the
//   reference itself (reference_only(); prepare keeps a copy of the weights for it).
//   Outputs of group g are written with row stride out_c at column offset g * N_g.
//   - 1x1 filters, stride 1, no padding: A is the input itself (row stride in_c); no gather.
//   - Otherwise: im2col of blocks of block_rows() pixels into scratch (block_rows * K_g floats,
//     about 256 KiB and a whole number of the GEMM's M-blocks, so its tiles are full; L2-resident
//     while the panels stream over it), then the GEMM on the block.
//
// Scratch: scratch_bytes(); float_conv2d uses FloatConvOptions::scratch when given, else the
// prepared object's own buffer (allocated at prepare unless own_scratch is false), which makes
// concurrent calls on one object unsafe (give each thread its own scratch). Threading inside one
// call: FloatConvOptions::parallel_for, per GEMM; results do not depend on it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/im2col.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/simd/dispatch.hpp"

PTQ_NAMESPACE_BEGIN

namespace float_detail {
inline bool all_finite(const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}
}  // namespace float_detail

// The geometry's own checks and groups dividing both channel counts, the message naming the field.
inline Status validate_float_conv2d(const FloatConv2DParams& p, const float* weights) {
  const std::string what = "float conv2d";
  const ConvGeometry& g = p.geometry;
  PTQ_RETURN_IF_ERROR(g.validate(what));
  if (p.groups < 1) return invalid_argument(what + ": groups = " + std::to_string(p.groups) + " must be >= 1");
  if (g.input_channels % p.groups != 0) {
    return invalid_argument(what + ": groups = " + std::to_string(p.groups) + " does not divide input_channels = " +
                            std::to_string(g.input_channels));
  }
  if (g.output_channels % p.groups != 0) {
    return invalid_argument(what + ": groups = " + std::to_string(p.groups) + " does not divide output_channels = " +
                            std::to_string(g.output_channels));
  }
  if (weights == nullptr) return invalid_argument(what + ": weights is null");
  return {};
}

class PreparedFloatConv2D {
 public:
  PreparedFloatConv2D() = default;

  const FloatConv2DParams& params() const { return params_; }
  bool direct() const { return direct_; }                  // A is the input itself
  bool reference_only() const { return reference_only_; }  // weights hold inf or NaN
  int64_t group_depth() const { return k_; }     // K_g
  int64_t group_channels() const { return n_; }  // N_g
  int64_t block_rows() const { return block_rows_; }
  std::size_t scratch_bytes() const {
    return direct_ || reference_only_ ? 0 : static_cast<std::size_t>(block_rows_ * k_) * sizeof(float);
  }
  const PackedFloatWeights& packed(int64_t group) const { return packed_[static_cast<std::size_t>(group)]; }

 private:
  friend PreparedFloatConv2D prepare_float_conv2d(const FloatConv2DParams&, const float*, const float*, bool);
  friend struct FloatConvRunner;

  FloatConv2DParams params_;
  bool direct_ = false, reference_only_ = false;
  int64_t k_ = 0, n_ = 0, block_rows_ = 0;
  std::vector<PackedFloatWeights> packed_;
  std::vector<float> weights_, bias_;  // reference_only(): the layer as given
  bool has_bias_ = false;
  mutable std::vector<float> scratch_;
};

inline constexpr int64_t kFloatConvScratchBudget = 256 * 1024;  // im2col bytes per block

// Weights [out_c, filter_h, filter_w, in_c / groups] (OHWI), bias [out_c] or null. own_scratch:
// allocate scratch_bytes() for calls that pass none (the interpreter passes its own).
// Preconditions (checked in debug builds): validate_float_conv2d(p, weights) is ok.
inline PreparedFloatConv2D prepare_float_conv2d(const FloatConv2DParams& p, const float* weights, const float* bias,
                                                bool own_scratch = true) {
  PTQ_DCHECK(validate_float_conv2d(p, weights).ok(),
             "prepare_float_conv2d: invalid parameters (call validate_float_conv2d())");
  const ConvGeometry& g = p.geometry;
  PreparedFloatConv2D c;
  c.params_ = p;
  const int64_t fic = g.input_channels / p.groups;
  c.k_ = g.filter_height * g.filter_width * fic;
  c.n_ = g.output_channels / p.groups;
  const int64_t filter_size = g.output_channels * c.k_;
  if (!float_detail::all_finite(weights, filter_size)) {
    c.reference_only_ = true;
    c.weights_.assign(weights, weights + filter_size);
    c.has_bias_ = bias != nullptr;
    if (bias != nullptr) c.bias_.assign(bias, bias + g.output_channels);
    return c;
  }
  c.direct_ = g.filter_height == 1 && g.filter_width == 1 && g.stride_height == 1 && g.stride_width == 1 &&
              g.pad_top == 0 && g.pad_left == 0 && g.output_height == g.input_height &&
              g.output_width == g.input_width;
  // A whole number of the GEMM's M-blocks (so that its tiles are full), at least one.
  const int64_t rows = g.batches * g.output_height * g.output_width;
  const int64_t mc = float_detail::m_block_rows(c.k_);
  const int64_t block_bytes = mc * std::max<int64_t>(1, c.k_) * static_cast<int64_t>(sizeof(float));
  const int64_t block = std::max<int64_t>(1, kFloatConvScratchBudget / block_bytes) * mc;
  c.block_rows_ = std::max<int64_t>(1, std::min(block, rows));
  for (int64_t grp = 0; grp < p.groups; ++grp) {
    c.packed_.push_back(pack_float_weights(c.k_, c.n_, weights + grp * c.n_ * c.k_,
                                           bias != nullptr ? bias + grp * c.n_ : nullptr, p.activation));
  }
  if (own_scratch) c.scratch_.resize(c.scratch_bytes() / sizeof(float));
  return c;
}

struct FloatConvOptions {
  Isa isa = selected_isa();
  const FloatKernels* kernels = nullptr;  // as FloatGemmOptions::kernels
  float* scratch = nullptr;  // scratch_bytes() bytes, or null to use the prepared object's own
  const gemm::ParallelFor* parallel_for = nullptr;
};

struct FloatConvRunner {
  static void run(const PreparedFloatConv2D& c, const float* input, float* output, const FloatConvOptions& o) {
    const FloatConv2DParams& p = c.params_;
    const ConvGeometry& g = p.geometry;
    if (c.reference_only_) {
      reference::conv2d(p, input, c.weights_.data(), c.has_bias_ ? c.bias_.data() : nullptr, output);
      return;
    }
    const int64_t rows = g.batches * g.output_height * g.output_width;
    const int64_t groups = p.groups, out_c = g.output_channels;
    if (rows == 0) return;
    FloatGemmOptions go;
    go.isa = o.isa;
    go.kernels = o.kernels != nullptr ? o.kernels : &float_kernels(o.isa);
    go.output_stride = out_c;
    go.parallel_for = o.parallel_for;
    if (c.direct_) {
      go.input_stride = g.input_channels;
      for (int64_t grp = 0; grp < groups; ++grp) {
        float_gemm(c.packed_[static_cast<std::size_t>(grp)], input + grp * c.k_, rows, output + grp * c.n_, go);
      }
      return;
    }
    float* a = o.scratch != nullptr ? o.scratch : c.scratch_.data();
    PTQ_DCHECK(a != nullptr, "float_conv2d: no scratch (prepared without own scratch and none given)");
    go.input_stride = c.k_;
    for (int64_t m0 = 0; m0 < rows; m0 += c.block_rows_) {
      const int64_t mb = std::min(c.block_rows_, rows - m0);
      for (int64_t grp = 0; grp < groups; ++grp) {
        conv_detail::im2col(g, groups, 0.0f, input, grp, m0, mb, c.k_, a);
        float_gemm(c.packed_[static_cast<std::size_t>(grp)], a, mb, output + m0 * out_c + grp * c.n_, go);
      }
    }
  }
};

// output [batches, out_h, out_w, out_c] = reference::conv2d(params, input, weights, bias) for the
// prepared layer, bit for bit. input [batches, in_h, in_w, in_c]. No allocation.
inline void float_conv2d(const PreparedFloatConv2D& conv, const float* input, float* output,
                         const FloatConvOptions& options) {
  FloatConvRunner::run(conv, input, output, options);
}

inline void float_conv2d(const PreparedFloatConv2D& conv, const float* input, float* output,
                         Isa isa = selected_isa()) {
  FloatConvOptions o;
  o.isa = isa;
  FloatConvRunner::run(conv, input, output, o);
}

PTQ_NAMESPACE_END
