// hybrid_conv.hpp: dynamic-range ("hybrid") convolution and depthwise convolution -- float NHWC
// activations quantized per image on the fly, int8 weights, float bias and output: prepare once,
// run many.
//
//   Status s = validate_hybrid_conv2d(params, weights);
//   PreparedHybridConv2D conv = prepare_hybrid_conv2d(params, weights, bias);
//   hybrid_conv2d(conv, input, output);                        // per call: no allocation
//   (likewise validate_ / prepare_hybrid_depthwise_conv2d and hybrid_depthwise_conv2d)
//
// Bit for bit reference::hybrid_conv2d and reference::hybrid_depthwise_conv2d (reference/hybrid.hpp)
// on every level, any geometry, groups and depth multiplier, floats compared as bit patterns (the
// sign of zero included). Per batch image b (the image, H * W * C floats, is one "row"):
//   1. quantize_rows_hybrid (hybrid.hpp, SIMD): asymmetric for the conv's per-channel kernel and for
//      depthwise, symmetric for the conv's per-tensor kernel (HybridConv2DParams::
//      uses_per_channel_kernel, TFLite's choice) -> q[b], row_scale s, zero point zp (0 if symmetric).
//   2. int32 accumulators over all taps, the out-of-image ones reading zp:
//        conv:      the int8 GEMM through conv.hpp's plan and im2col (conv_detail::plan_conv,
//                   conv_detail::im2col with pad value zp; the 1x1 stride-1 unpadded conv reads q
//                   itself), weights packed per group with no bias and zero point 0, read back with
//                   gemm::fully_connected_accumulators: G[m][oc] = sum over all K_g taps of w * a.
//                   A conv with one input channel per group (groups == in_c, e.g. in_c = 1) takes
//                   the depthwise walk below instead, weights transposed to [tap][oc] and depth
//                   multiplier N_g (as conv.hpp does for int8): the same G (every tap, padding zp,
//                   mod 2^32) per output row, then the conv's own epilogue. The GEMM's K_g would be
//                   filter_h * filter_w (9) and its im2col a few bytes per copy.
//        depthwise: depthwise.hpp's row walk (padding rows filled with zp, DepthwiseRunner::
//                   set_padding_value) and the level's depthwise_row_accumulators (x86/depthwise_*):
//                   G[px][c] = sum over all taps of w * a.
//   3. The float epilogue (hybrid_row.hpp, x86/hybrid-inl.hpp hybrid_conv_epilogue), in the
//      reference's order:
//        dot = G - row_sum[oc] * zp                     int32, wrapping; row_sum = sum of all of
//                                                      oc's weights, computed at prepare
//        conv per channel: v = (float(dot) * w_scale[oc]) * s          (HybridConvPerChannel)
//        conv per tensor:  v = 0.0f + float(dot) * (s * w_scale)       (HybridConv; zp = 0)
//        depthwise:        v = float(dot) * (w_scale[oc] * s)          (DepthwiseConvHybridPerChannel)
//        out = min(max(v (+ bias[oc]), lo), hi)        (activation_with_min_max; no bias: no addition)
//      Each product is rounded on its own (no FMA contraction, see hybrid_row.hpp).
//
// Why padding with zp and a full-row correction equals the reference. The reference sums, for one
// output, acc = sum over the in-image taps t of w_t * (q_t - zp), int32 wrapping, i.e. in the ring
// Z / 2^32. Let a_t = q_t for an in-image tap and a_t = zp for an out-of-image one (what im2col and
// the padded rows hold). In that ring
//   G - zp * row_sum = sum_all w_t * a_t - sum_all w_t * zp = sum_all w_t * (a_t - zp)
//                    = sum_in w_t * (q_t - zp) + sum_out w_t * (zp - zp) = acc,
// since ring addition and multiplication are associative, commutative and distributive whatever
// wraps in between, and the GEMM, the depthwise walk and `dot` above all compute mod 2^32. Then
// float(dot) = float(acc) and the float operations are the reference's. (The reference's per-tensor
// kernel pads with q = 0 = zp, as TFLite's im2col does.)
//
// Scratch (one quantized image, the im2col block, the int32 accumulators of a block or an output
// row, the per-image scales) is sized at prepare and belongs to the prepared object: concurrent
// calls on one object are not safe. Threading inside one conv call goes through
// HybridConvOptions::parallel_for (per GEMM), with results independent of the thread count.
// Inputs are assumed finite (as the reference assumes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/hybrid.hpp"
#include "ptq/kernels/hybrid_row.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "ptq/simd/dispatch.hpp"

PTQ_NAMESPACE_BEGIN

// The level whose code runs for a requested level. Conv: the GEMM's level (the float loops run
// hybrid_variant's); depthwise: the depthwise walk's level (its float loops are hybrid_variant's,
// the same levels).
constexpr Isa hybrid_conv2d_variant(Isa isa) { return gemm::gemm_variant(isa); }
constexpr Isa hybrid_depthwise_conv2d_variant(Isa isa) { return depthwise_variant(isa); }

namespace hybrid_detail {

// `rows` output pixels of n channels (acc and out contiguous).
inline void conv_epilogue(Isa v, int64_t rows, int64_t n, const int32_t* acc, const HybridConvEpilogue& e,
                          float* out) {
  switch (v) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: return x86::avx2::hybrid_conv_epilogue(rows, n, acc, e, out);
    case Isa::kSse41: return x86::sse41::hybrid_conv_epilogue(rows, n, acc, e, out);
#endif
    default: return hybrid_conv_epilogue_scalar(rows, n, acc, e, out);
  }
}

inline void depthwise_accumulators(Isa v, const depthwise_detail::DepthwiseRowArgs& a) {
  switch (v) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: return x86::avx2::depthwise_row_accumulators(a);
    case Isa::kSse41: return x86::sse41::depthwise_row_accumulators(a);
#endif
    default: return depthwise_detail::depthwise_row_accumulators_scalar(a);
  }
}

}  // namespace hybrid_detail

// ---- conv2d -------------------------------------------------------------------------------------

// HybridConv2DParams::validate, a group depth the GEMM takes (K_g < 2^24), and weights in
// [-127, 127] (names the first [oc][fy][fx][ic] equal to -128: the GEMM's sign trick needs it, and
// TFLite's symmetric int8 weights never hold it).
inline Status validate_hybrid_conv2d(const HybridConv2DParams& p, const int8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate());
  const ConvGeometry& g = p.geometry;
  const int64_t fic = p.filter_input_channels();
  const int64_t k = g.filter_height * g.filter_width * fic;
  if (k >= (int64_t{1} << 24)) {
    return unimplemented("hybrid_conv2d: filter_height * filter_width * input_channels / groups = " +
                         std::to_string(k) + " is 2^24 or more");
  }
  if (weights == nullptr) return invalid_argument("hybrid_conv2d: weights is null");
  for (int64_t i = 0; i < g.output_channels * k; ++i) {
    if (weights[i] == -128) {
      const int64_t ic = i % fic, fx = i / fic % g.filter_width;
      const int64_t fy = i / fic / g.filter_width % g.filter_height, oc = i / k;
      return invalid_argument("hybrid_conv2d: weights[" + std::to_string(oc) + "][" + std::to_string(fy) + "][" +
                              std::to_string(fx) + "][" + std::to_string(ic) +
                              "] = -128; int8 weights are in [-127, 127] (TFLite's spec)");
    }
  }
  return {};
}

// A hybrid convolution prepared for hybrid_conv2d(): one packed GEMM B per group, the row sums,
// scales and bias per output channel, the gather's plan, and the per-call scratch.
class PreparedHybridConv2D {
 public:
  PreparedHybridConv2D() = default;

  const HybridConv2DParams& params() const { return params_; }
  // TFLite's per-channel kernel (asymmetric images) rather than the per-tensor one (symmetric).
  bool per_channel_kernel() const { return per_channel_; }
  // True when the quantized image is the GEMM's A itself (1x1, stride 1, no padding): no gather.
  bool direct() const { return plan_.direct; }
  // True when the accumulators come from the depthwise walk (one input channel per group; no
  // packed GEMM weights then).
  bool depthwise() const { return depthwise_; }
  int64_t block_rows() const { return plan_.block_rows; }
  const gemm::PackedWeights& packed(int64_t group) const { return packed_[static_cast<std::size_t>(group)]; }

 private:
  friend PreparedHybridConv2D prepare_hybrid_conv2d(const HybridConv2DParams&, const int8_t*, const float*,
                                                    gemm::PackLayout);
  friend struct HybridConvRunner;

  HybridConv2DParams params_;
  bool per_channel_ = false;
  conv_detail::ConvPlan plan_;
  bool depthwise_ = false;
  PreparedDepthwiseConv2D walk_;             // when depthwise_: zero bias, padding set per image
  std::vector<gemm::PackedWeights> packed_;  // [groups] (empty when depthwise_)
  std::vector<int32_t> row_sums_;            // [out_c] sum of the channel's K_g weights
  std::vector<float> w_scales_;              // [out_c]
  std::vector<float> bias_;                  // [out_c], or empty without bias
  FloatActivationRange range_;
  mutable std::vector<int8_t> q_;        // one quantized image [in_h * in_w * in_c]
  mutable std::vector<int8_t> patches_;  // im2col block [block_rows][row_stride] (empty when direct)
  mutable std::vector<int32_t> acc_;     // [block_rows][out_c]
  mutable std::vector<float> scales_;    // per-tensor kernel: [out_c] of s * w_scale, per image
};

// Weights [out_c, filter_h, filter_w, in_c / groups] (OHWI, symmetric), bias [out_c] float or null
// (copied). `layout` is the GEMM packing (the default layout runs on every level).
// Preconditions (checked in debug builds): validate_hybrid_conv2d(p, weights) is ok.
inline PreparedHybridConv2D prepare_hybrid_conv2d(const HybridConv2DParams& p, const int8_t* weights,
                                                  const float* bias,
                                                  gemm::PackLayout layout = gemm::kDefaultPackLayout) {
  PTQ_DCHECK(validate_hybrid_conv2d(p, weights).ok(),
             "prepare_hybrid_conv2d: invalid parameters (call validate_hybrid_conv2d())");
  const ConvGeometry& g = p.geometry;
  const int64_t out_c = g.output_channels, pixels = g.output_height * g.output_width;
  PreparedHybridConv2D h;
  h.params_ = p;
  h.per_channel_ = p.uses_per_channel_kernel();
  // Blocks of one image's pixels, bounded by the patch and the row of accumulators together.
  h.plan_ = conv_detail::plan_conv(g, p.groups, pixels, layout.kr, out_c * static_cast<int64_t>(sizeof(int32_t)));
  const int64_t k = h.plan_.k, n = h.plan_.n;
  h.depthwise_ = p.filter_input_channels() == 1 && p.groups == g.input_channels;
  if (h.depthwise_) {
    DepthwiseConv2DParams walk;
    walk.geometry = g;
    walk.depth_multiplier = n;
    walk.multipliers = {QuantizedMultiplier{1 << 30, 0}};  // unused: the accumulators are the output
    std::vector<int8_t> transposed(static_cast<std::size_t>(k * out_c));  // [oc][tap] -> [tap][oc]
    for (int64_t oc = 0; oc < out_c; ++oc) {
      for (int64_t t = 0; t < k; ++t) transposed[static_cast<std::size_t>(t * out_c + oc)] = weights[oc * k + t];
    }
    h.walk_ = DepthwiseRunner::prepare(walk, transposed.data(), nullptr);
  }
  for (int64_t grp = 0; grp < (h.depthwise_ ? 0 : p.groups); ++grp) {
    FullyConnectedParams fc;
    fc.batches = 1;
    fc.input_depth = k;
    fc.output_depth = n;
    fc.multipliers = {QuantizedMultiplier{1 << 30, 0}};  // unused: the accumulators are the output
    h.packed_.push_back(gemm::pack_weights(fc, weights + grp * n * k, nullptr, layout));
  }
  h.row_sums_.resize(static_cast<std::size_t>(out_c));
  h.w_scales_.resize(static_cast<std::size_t>(out_c));
  for (int64_t oc = 0; oc < out_c; ++oc) {
    int32_t s = 0;
    for (int64_t i = 0; i < k; ++i) s += weights[oc * k + i];  // |s| < 127 * 2^24: exact
    h.row_sums_[static_cast<std::size_t>(oc)] = s;
    h.w_scales_[static_cast<std::size_t>(oc)] = p.weight_scale(oc);
  }
  if (bias != nullptr) h.bias_.assign(bias, bias + out_c);
  h.range_ = reference::calculate_activation_range(p.activation);
  h.q_.resize(static_cast<std::size_t>(g.input_height * g.input_width * g.input_channels));
  if (!h.plan_.direct && !h.depthwise_) {
    h.patches_.resize(static_cast<std::size_t>(h.plan_.block_rows * h.plan_.row_stride));
  }
  h.acc_.resize(static_cast<std::size_t>((h.depthwise_ ? g.output_width : h.plan_.block_rows) * out_c));
  h.scales_.resize(static_cast<std::size_t>(out_c));
  return h;
}

struct HybridConvOptions {
  Isa isa = selected_isa();
  const gemm::ParallelFor* parallel_for = nullptr;  // passed to every GEMM
  // A float bias [out_c] read at this call instead of the prepared one (for a bias that is not a
  // constant); null: the bias given to prepare, if any.
  const float* bias = nullptr;
};

struct HybridConvRunner {
  // One image: q [in_h, in_w, in_c] quantized with (row_scale, zp) -> out [out_h, out_w, out_c].
  static void run_image(const PreparedHybridConv2D& h, const int8_t* q, float row_scale, int32_t zp, float* out,
                        const HybridConvOptions& o) {
    const HybridConv2DParams& p = h.params_;
    const ConvGeometry& g = p.geometry;
    const conv_detail::ConvPlan& plan = h.plan_;
    const int64_t out_c = g.output_channels, pixels = g.output_height * g.output_width;
    const int64_t fic = p.filter_input_channels();
    const Isa fv = hybrid_variant(best_runnable_isa_within(o.isa));
    hybrid_detail::HybridConvEpilogue e;
    e.row_sums = h.row_sums_.data();
    e.bias = o.bias != nullptr ? o.bias : h.bias_.empty() ? nullptr : h.bias_.data();
    e.act_min = h.range_.min;
    e.act_max = h.range_.max;
    if (h.per_channel_) {
      e.scaling = hybrid_detail::HybridConvScaling::kPerChannel;
      e.scales = h.w_scales_.data();
      e.row_scale = row_scale;
      e.zero_point = zp;
    } else {
      zp = 0;  // symmetric rows
      e.scaling = hybrid_detail::HybridConvScaling::kPerTensor;
      std::fill(h.scales_.begin(), h.scales_.end(), row_scale * h.w_scales_[0]);  // scaling_factor *= filter scale
      e.scales = h.scales_.data();
    }
    if (h.depthwise_) {  // one output row of accumulators at a time, then the conv's epilogue
      depthwise_detail::DepthwiseRowArgs a = DepthwiseRunner::row_args(h.walk_);
      a.accumulators = h.acc_.data();
      DepthwiseRunner::set_padding_value(h.walk_, static_cast<int8_t>(zp));
      const Isa v = depthwise_variant(best_runnable_isa_within(o.isa));
      const int64_t out_w = g.output_width;
      DepthwiseRunner::for_each_row(h.walk_, q, [&](int64_t oy) {
        hybrid_detail::depthwise_accumulators(v, a);
        hybrid_detail::conv_epilogue(fv, out_w, out_c, a.accumulators, e, out + oy * out_w * out_c);
      });
      return;
    }
    gemm::GemmOptions go;
    go.isa = o.isa;
    go.output_stride = out_c;
    go.parallel_for = o.parallel_for;
    go.input_stride = plan.direct ? g.input_channels : plan.row_stride;
    go.padded_rows = !plan.direct;
    int32_t* acc = h.acc_.data();
    for (int64_t m0 = 0; m0 < pixels; m0 += plan.block_rows) {
      const int64_t mb = std::min(plan.block_rows, pixels - m0);
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        const int8_t* a;
        if (plan.direct) {
          a = q + m0 * g.input_channels + grp * fic;
        } else {
          conv_detail::im2col(g, p.groups, static_cast<int8_t>(zp), q, grp, m0, mb, plan.row_stride, h.patches_.data());
          a = h.patches_.data();
        }
        gemm::fully_connected_accumulators(h.packed_[static_cast<std::size_t>(grp)], a, mb, acc + grp * plan.n, go);
      }
      hybrid_detail::conv_epilogue(fv, mb, out_c, acc, e, out + m0 * out_c);
    }
  }

  static void run(const PreparedHybridConv2D& h, const float* input, float* output, const HybridConvOptions& o) {
    const ConvGeometry& g = h.params_.geometry;
    const int64_t image = g.input_height * g.input_width * g.input_channels;
    const int64_t out_image = g.output_height * g.output_width * g.output_channels;
    if (out_image == 0) return;
    const HybridInputQuantization mode =
        h.per_channel_ ? HybridInputQuantization::kAsymmetric : HybridInputQuantization::kSymmetric;
    for (int64_t b = 0; b < g.batches; ++b) {
      float s;
      int32_t zp;
      quantize_rows_hybrid(input + b * image, 1, image, mode, h.q_.data(), &s, &zp, o.isa);
      run_image(h, h.q_.data(), s, zp, output + b * out_image, o);
    }
  }

  static void run_prequantized(const PreparedHybridConv2D& h, const int8_t* q, const float* scales,
                               const int32_t* zero_points, float* output, const HybridConvOptions& o) {
    const ConvGeometry& g = h.params_.geometry;
    const int64_t image = g.input_height * g.input_width * g.input_channels;
    const int64_t out_image = g.output_height * g.output_width * g.output_channels;
    if (out_image == 0) return;
    for (int64_t b = 0; b < g.batches; ++b) {
      run_image(h, q + b * image, scales[b], zero_points != nullptr ? zero_points[b] : 0, output + b * out_image, o);
    }
  }
};

// output [batches, out_h, out_w, out_c] = reference::hybrid_conv2d(params, input, weights, bias) for
// the prepared layer; input [batches, in_h, in_w, in_c] float. No allocation.
inline void hybrid_conv2d(const PreparedHybridConv2D& conv, const float* input, float* output,
                          const HybridConvOptions& options = HybridConvOptions()) {
  PTQ_DCHECK(!conv.params().weight_scales.empty(), "hybrid_conv2d: not prepared");
  HybridConvRunner::run(conv, input, output, options);
}

inline void hybrid_conv2d(const PreparedHybridConv2D& conv, const float* input, float* output, Isa isa) {
  HybridConvOptions o;
  o.isa = isa;
  HybridConvRunner::run(conv, input, output, o);
}

// The reference's prequantized kernel for the prepared layer (hybrid_conv2d_per_channel_prequantized
// or, when !conv.per_channel_kernel(), hybrid_conv2d_per_tensor_prequantized, which reads no zero
// points): int8 images [batches, in_h, in_w, in_c], their scales and zero points (null: all 0).
inline void hybrid_conv2d_prequantized(const PreparedHybridConv2D& conv, const int8_t* q_input,
                                       const float* batch_scales, const int32_t* batch_zero_points, float* output,
                                       const HybridConvOptions& options = HybridConvOptions()) {
  PTQ_DCHECK(!conv.params().weight_scales.empty(), "hybrid_conv2d: not prepared");
  HybridConvRunner::run_prequantized(conv, q_input, batch_scales, batch_zero_points, output, options);
}

// ---- depthwise conv2d -----------------------------------------------------------------------------

// HybridDepthwiseConv2DParams::validate and non-null weights. Weights may hold -128: the depthwise
// walk multiplies in int16, exactly for any int8 pair.
inline Status validate_hybrid_depthwise_conv2d(const HybridDepthwiseConv2DParams& p, const int8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate());
  if (weights == nullptr) return invalid_argument("hybrid_depthwise_conv2d: weights is null");
  return {};
}

class PreparedHybridDepthwiseConv2D {
 public:
  PreparedHybridDepthwiseConv2D() = default;
  const HybridDepthwiseConv2DParams& params() const { return params_; }

 private:
  friend PreparedHybridDepthwiseConv2D prepare_hybrid_depthwise_conv2d(const HybridDepthwiseConv2DParams&,
                                                                       const int8_t*, const float*);
  friend struct HybridDepthwiseRunner;

  HybridDepthwiseConv2DParams params_;
  PreparedDepthwiseConv2D walk_;   // the int8 depthwise's walk: zero bias, padding set per image
  std::vector<int32_t> row_sums_;  // [out_c] sum over the taps of w[t][c]
  std::vector<float> w_scales_;    // [out_c]
  std::vector<float> bias_;        // [out_c], or empty without bias
  FloatActivationRange range_;
  mutable std::vector<int8_t> q_;       // one quantized image [in_h * in_w * in_c]
  mutable std::vector<int32_t> acc_;    // one output row [out_w][out_c]
  mutable std::vector<float> scales_;   // [out_c] w_scale[c] * s, per image
};

// Weights [1, filter_h, filter_w, out_c], bias [out_c] float or null (copied).
// Preconditions (checked in debug builds): validate_hybrid_depthwise_conv2d(p, weights) is ok.
inline PreparedHybridDepthwiseConv2D prepare_hybrid_depthwise_conv2d(const HybridDepthwiseConv2DParams& p,
                                                                     const int8_t* weights, const float* bias) {
  PTQ_DCHECK(validate_hybrid_depthwise_conv2d(p, weights).ok(),
             "prepare_hybrid_depthwise_conv2d: invalid parameters (call validate_hybrid_depthwise_conv2d())");
  const ConvGeometry& g = p.geometry;
  const int64_t out_c = g.output_channels, taps = g.filter_height * g.filter_width;
  PreparedHybridDepthwiseConv2D h;
  h.params_ = p;
  DepthwiseConv2DParams walk;
  walk.geometry = g;
  walk.depth_multiplier = p.depth_multiplier;
  walk.multipliers = {QuantizedMultiplier{1 << 30, 0}};  // unused: the accumulators are the output
  h.walk_ = DepthwiseRunner::prepare(walk, weights, nullptr);
  h.row_sums_.resize(static_cast<std::size_t>(out_c));
  h.w_scales_.resize(static_cast<std::size_t>(out_c));
  for (int64_t c = 0; c < out_c; ++c) {
    int32_t s = 0;
    for (int64_t t = 0; t < taps; ++t) s += weights[t * out_c + c];  // taps < 2^24 in any real filter
    h.row_sums_[static_cast<std::size_t>(c)] = s;
    h.w_scales_[static_cast<std::size_t>(c)] = p.weight_scale(c);
  }
  if (bias != nullptr) h.bias_.assign(bias, bias + out_c);
  h.range_ = reference::calculate_activation_range(p.activation);
  h.q_.resize(static_cast<std::size_t>(g.input_height * g.input_width * g.input_channels));
  h.acc_.resize(static_cast<std::size_t>(g.output_width * out_c));
  h.scales_.resize(static_cast<std::size_t>(out_c));
  return h;
}

struct HybridDepthwiseRunner {
  static void run_image(const PreparedHybridDepthwiseConv2D& h, const int8_t* q, float row_scale, int32_t zp,
                        float* out, const HybridConvOptions& o) {
    const ConvGeometry& g = h.params_.geometry;
    const int64_t out_c = g.output_channels, out_w = g.output_width;
    const Isa v = depthwise_variant(best_runnable_isa_within(o.isa));
    const Isa fv = hybrid_variant(best_runnable_isa_within(o.isa));
    for (std::size_t c = 0; c < h.scales_.size(); ++c) h.scales_[c] = h.w_scales_[c] * row_scale;
    hybrid_detail::HybridConvEpilogue e;
    e.row_sums = h.row_sums_.data();
    e.zero_point = zp;
    e.scales = h.scales_.data();
    e.scaling = hybrid_detail::HybridConvScaling::kDepthwise;
    e.bias = o.bias != nullptr ? o.bias : h.bias_.empty() ? nullptr : h.bias_.data();
    e.act_min = h.range_.min;
    e.act_max = h.range_.max;
    depthwise_detail::DepthwiseRowArgs a = DepthwiseRunner::row_args(h.walk_);
    a.accumulators = h.acc_.data();
    DepthwiseRunner::set_padding_value(h.walk_, static_cast<int8_t>(zp));
    DepthwiseRunner::for_each_row(h.walk_, q, [&](int64_t oy) {
      hybrid_detail::depthwise_accumulators(v, a);
      hybrid_detail::conv_epilogue(fv, out_w, out_c, a.accumulators, e, out + oy * out_w * out_c);
    });
  }

  static void run(const PreparedHybridDepthwiseConv2D& h, const float* input, float* output,
                  const HybridConvOptions& o) {
    const ConvGeometry& g = h.params_.geometry;
    const int64_t image = g.input_height * g.input_width * g.input_channels;
    const int64_t out_image = g.output_height * g.output_width * g.output_channels;
    if (out_image == 0) return;
    for (int64_t b = 0; b < g.batches; ++b) {
      float s;
      int32_t zp;
      quantize_rows_hybrid(input + b * image, 1, image, HybridInputQuantization::kAsymmetric, h.q_.data(), &s, &zp,
                           o.isa);
      run_image(h, h.q_.data(), s, zp, output + b * out_image, o);
    }
  }

  static void run_prequantized(const PreparedHybridDepthwiseConv2D& h, const int8_t* q, const float* scales,
                               const int32_t* zero_points, float* output, const HybridConvOptions& o) {
    const ConvGeometry& g = h.params_.geometry;
    const int64_t image = g.input_height * g.input_width * g.input_channels;
    const int64_t out_image = g.output_height * g.output_width * g.output_channels;
    if (out_image == 0) return;
    for (int64_t b = 0; b < g.batches; ++b) {
      run_image(h, q + b * image, scales[b], zero_points != nullptr ? zero_points[b] : 0, output + b * out_image, o);
    }
  }
};

// output [batches, out_h, out_w, out_c] = reference::hybrid_depthwise_conv2d(params, input, weights,
// bias) for the prepared layer; input [batches, in_h, in_w, in_c] float. No allocation.
// (options.parallel_for is not used: the walk runs on the calling thread.)
inline void hybrid_depthwise_conv2d(const PreparedHybridDepthwiseConv2D& dw, const float* input, float* output,
                                    const HybridConvOptions& options = HybridConvOptions()) {
  PTQ_DCHECK(!dw.params().weight_scales.empty(), "hybrid_depthwise_conv2d: not prepared");
  HybridDepthwiseRunner::run(dw, input, output, options);
}

inline void hybrid_depthwise_conv2d(const PreparedHybridDepthwiseConv2D& dw, const float* input, float* output,
                                    Isa isa) {
  HybridConvOptions o;
  o.isa = isa;
  HybridDepthwiseRunner::run(dw, input, output, o);
}

// reference::hybrid_depthwise_conv2d_prequantized for the prepared layer: int8 images
// [batches, in_h, in_w, in_c], their scales and zero points (null: all 0).
inline void hybrid_depthwise_conv2d_prequantized(const PreparedHybridDepthwiseConv2D& dw, const int8_t* q_input,
                                                 const float* batch_scales, const int32_t* batch_zero_points,
                                                 float* output, const HybridConvOptions& options = HybridConvOptions()) {
  PTQ_DCHECK(!dw.params().weight_scales.empty(), "hybrid_depthwise_conv2d: not prepared");
  HybridDepthwiseRunner::run_prequantized(dw, q_input, batch_scales, batch_zero_points, output, options);
}

PTQ_NAMESPACE_END
