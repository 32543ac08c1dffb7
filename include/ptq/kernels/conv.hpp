// conv.hpp: int8 2-D convolution, NHWC, through the int8 GEMM engine: prepare once, run many.
//
//   Status s = validate_conv2d(params, weights);                  // once: names the culprit
//   PreparedConv2D conv = prepare_conv2d(params, weights, bias);  // packs, sizes the scratch
//   conv2d(conv, input, output);                                  // per call: no allocation
//
// Bit for bit reference::conv2d (reference/conv.hpp) on every ISA level, any geometry and groups.
//
// How: a convolution is, per group g, a GEMM with
//   M = batches * out_h * out_w rows (output pixels), K_g = filter_h * filter_w * (in_c / groups),
//   N_g = out_c / groups columns; row m of A is the pixel's receptive field (patch), laid out
//   [fy][fx][ic] exactly like a weight row [oc][fy][fx][ic], so the TFLite OHWI filter of group g
//   (rows g * N_g ... ) is already the GEMM's B = [N_g, K_g] and is packed as is (gemm/pack.hpp),
//   the input zero point and the bias folded into the packed int32 bias:
//     acc = bias[oc] - x_zp * sum(w[oc]) + sum_k w[oc][k] * patch[m][k]
//   A tap outside the image is written into the patch as x_zp: it contributes w * x_zp, which the
//   fold cancels, i.e. exactly the reference's "skip the tap" (w * (x_zp - x_zp) = 0, mod 2^32).
//   The output of group g is written with row stride out_c at column offset g * N_g, so groups
//   interleave in place without a copy.
//   - 1x1 filters with stride 1 and no padding: A is the input itself (row stride in_c, column
//     offset g * in_c / groups); no gather.
//   - Everything else: im2col of a block of `block_rows` output pixels into a scratch buffer, then
//     the GEMM on that block. Blocking bounds the scratch (block_rows * K_g bytes, <= 256 KiB, so
//     the block stays in L2 while the packed panels stream over it) instead of a full
//     M * K_g im2col. Each patch row is zero-padded to the packing's K group (kr: 4, or 8 for
//     8c8), so the GEMM never runs a partial group (GemmOptions::padded_rows).
//
// Why im2col and not an indirection buffer: the GEMM engine's microkernels read A as rows with a
// stride (gemm/microkernel.hpp), and the other engineer's AVX-512/VNNI kernels plug into the same
// contract; im2col reuses every one of them unchanged, where an indirection buffer would need a
// second tile signature in every microkernel. The gather costs one memcpy per filter row when
// groups == 1 and dilation_w == 1 (filter_w * in_c contiguous bytes), else one per tap; that is
// K_g bytes written per output pixel against N_g * K_g multiply-adds, under 2% of the work for the
// layers of bench/conv_bench.cpp.
//
// One input channel per group (groups == in_c: in_c = 1, or a depthwise layer written as a grouped
// conv): the GEMM would have K_g = filter_h * filter_w (9 for 3x3), too short for its K-blocked
// tiles, and im2col would write K_g bytes per pixel in three tiny copies per filter row. Such a
// layer is exactly a depthwise convolution with depth multiplier out_c / in_c (output channel c
// reads input channel c / N_g, the same arithmetic, zero points and per-channel requantization),
// so prepare_conv2d hands it to depthwise.hpp's direct kernel, weights [oc][fy][fx][0] transposed
// to [0][fy][fx][oc]: bit for bit the same outputs (on the Fashion-MNIST CNN's first layer, 28x28x1
// -> 16, it took the conv from ~50 us to ~13 us). It runs on one thread and uses the depthwise's
// own scratch, whatever ConvOptions gives (concurrent calls on one PreparedConv2D are not safe).
//
// Scratch: prepare sizes it (scratch_bytes()); conv2d uses the caller's buffer when one is given
// in ConvOptions, else the PreparedConv2D's own, which makes concurrent conv2d calls on one
// PreparedConv2D unsafe (give each thread its own scratch). Threading inside one call goes
// through GemmOptions::parallel_for (per GEMM), with results independent of the thread count.
// The plan (K_g, N_g, direct or not, block size) is conv_detail::plan_conv, which the hybrid
// convolution (hybrid_conv.hpp) shares; the gather is im2col.hpp's, shared with the hybrid and the
// float convolutions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/im2col.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/simd/dispatch.hpp"

PTQ_NAMESPACE_BEGIN

// The level whose code runs for a requested level: the gather is plain memcpy, the GEMM's
// dispatch decides the rest.
constexpr Isa conv2d_variant(Isa isa) { return gemm::gemm_variant(isa); }

// Everything prepare_conv2d and conv2d assume, the message naming the field: the reference's own
// checks (Conv2DParams::validate), weights in [-127, 127] (names the first [oc][fy][fx][ic] equal
// to -128), and a group depth K_g the GEMM takes (< 2^24).
inline Status validate_conv2d(const Conv2DParams& p, const int8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate());
  const ConvGeometry& g = p.geometry;
  const int64_t fic = p.filter_input_channels();
  const int64_t k = g.filter_height * g.filter_width * fic;
  if (k >= (int64_t{1} << 24)) {
    return unimplemented("conv2d: filter_height * filter_width * input_channels / groups = " +
                         std::to_string(k) + " is 2^24 or more");
  }
  if (weights == nullptr) return invalid_argument("conv2d: weights is null");
  for (int64_t i = 0; i < p.filter_size(); ++i) {
    if (weights[i] == -128) {
      const int64_t ic = i % fic, fx = i / fic % g.filter_width;
      const int64_t fy = i / fic / g.filter_width % g.filter_height, oc = i / k;
      return invalid_argument("conv2d: weights[" + std::to_string(oc) + "][" + std::to_string(fy) + "][" +
                              std::to_string(fx) + "][" + std::to_string(ic) +
                              "] = -128; int8 weights are in [-127, 127] (TFLite's spec)");
    }
  }
  return {};
}

inline constexpr int64_t kConvScratchBudget = 256 * 1024;  // im2col bytes per block (L2-resident)

namespace conv_detail {

// The GEMM view of a convolution (see the header), shared by the int8 and the hybrid convolutions.
struct ConvPlan {
  int64_t k = 0, n = 0;     // K_g = filter_h * filter_w * in_c / groups, N_g = out_c / groups
  int64_t row_stride = 0;   // bytes per im2col row: K_g rounded up to the packing's kr
  bool direct = false;      // 1x1, stride 1, no padding: A is the input itself
  int64_t block_rows = 0;   // output pixels per block (GEMM call)
};

// `rows` output pixels are the GEMM's M; `acc_row_bytes` is the scratch one row of a block costs
// besides its patch (0 for int8 output; the hybrid conv keeps a row of int32 accumulators). A block
// is at most kConvScratchBudget bytes of both (a direct conv has no patch: an int8 one is a single
// block). Patch rows are padded to `kr`, the packed layout's K group, so that the GEMM runs them
// as whole groups (GemmOptions::padded_rows): K_g = 27 (3x3 RGB) would otherwise end every row of
// every tile with a 3-byte partial group.
inline ConvPlan plan_conv(const ConvGeometry& g, int64_t groups, int64_t rows, int64_t kr,
                          int64_t acc_row_bytes = 0) {
  ConvPlan c;
  c.k = g.filter_height * g.filter_width * (g.input_channels / groups);
  c.row_stride = (c.k + kr - 1) / kr * kr;
  c.n = g.output_channels / groups;
  c.direct = g.filter_height == 1 && g.filter_width == 1 && g.stride_height == 1 && g.stride_width == 1 &&
             g.pad_top == 0 && g.pad_left == 0 && g.output_height == g.input_height && g.output_width == g.input_width;
  // A multiple of 64 (the GEMM's M-block) when the budget allows; at least 4 rows.
  const int64_t row_bytes = std::max<int64_t>(1, (c.direct ? 0 : c.row_stride) + acc_row_bytes);
  int64_t block = std::max<int64_t>(4, kConvScratchBudget / row_bytes);
  if (block >= 64) block = block / 64 * 64;
  c.block_rows = std::max<int64_t>(1, std::min(block, rows));
  return c;
}

}  // namespace conv_detail

// A convolution prepared for conv2d(): one packed GEMM B per group, and the gather's plan.
// Immutable after prepare except for its own scratch buffer (see the header).
class PreparedConv2D {
 public:
  PreparedConv2D() = default;

  const Conv2DParams& params() const { return params_; }
  // True when the input is A itself (1x1, stride 1, no padding): no gather, no scratch.
  bool direct() const { return direct_; }
  // True when the layer runs as a depthwise convolution (one input channel per group; see the header).
  bool depthwise() const { return depthwise_; }
  int64_t group_depth() const { return k_; }       // K_g
  int64_t group_channels() const { return n_; }    // N_g
  int64_t block_rows() const { return block_rows_; }
  // Bytes of scratch conv2d needs (0 for direct()).
  std::size_t scratch_bytes() const {
    return direct_ || depthwise_ ? 0 : static_cast<std::size_t>(block_rows_ * row_stride_);
  }
  const gemm::PackedWeights& packed(int64_t group) const { return packed_[static_cast<std::size_t>(group)]; }

 private:
  friend PreparedConv2D prepare_conv2d(const Conv2DParams&, const int8_t*, const int32_t*, gemm::PackLayout);
  friend struct ConvRunner;

  Conv2DParams params_;
  bool direct_ = false;
  bool depthwise_ = false;
  PreparedDepthwiseConv2D depthwise_conv_;  // when depthwise_
  int64_t k_ = 0, n_ = 0, row_stride_ = 0, block_rows_ = 0;
  std::vector<gemm::PackedWeights> packed_;
  mutable std::vector<int8_t> scratch_;
};

// Packs the weights [out_c, filter_h, filter_w, in_c / groups] (OHWI) and bias [out_c] (or null)
// for the GEMM panel `layout` (the default layout runs on every level).
// Preconditions (checked in debug builds): validate_conv2d(p, weights) is ok.
inline PreparedConv2D prepare_conv2d(const Conv2DParams& p, const int8_t* weights, const int32_t* bias,
                                     gemm::PackLayout layout = gemm::kDefaultPackLayout) {
  PTQ_DCHECK(validate_conv2d(p, weights).ok(), "prepare_conv2d: invalid parameters (call validate_conv2d())");
  const ConvGeometry& g = p.geometry;
  PreparedConv2D c;
  c.params_ = p;
  const conv_detail::ConvPlan plan =
      conv_detail::plan_conv(g, p.groups, g.batches * g.output_height * g.output_width, layout.kr);
  c.k_ = plan.k;
  c.n_ = plan.n;
  c.row_stride_ = plan.row_stride;
  c.direct_ = plan.direct;
  c.block_rows_ = plan.block_rows;
  if (p.filter_input_channels() == 1 && p.groups == g.input_channels) {
    DepthwiseConv2DParams d;
    d.geometry = g;
    d.depth_multiplier = c.n_;
    d.input_zero_point = p.input_zero_point;
    d.output_zero_point = p.output_zero_point;
    d.multipliers = p.multipliers;
    d.rounding = p.rounding;
    d.activation_min = p.activation_min;
    d.activation_max = p.activation_max;
    const int64_t taps = g.filter_height * g.filter_width, out_c = g.output_channels;
    std::vector<int8_t> transposed(static_cast<std::size_t>(taps * out_c));  // [oc][tap] -> [tap][oc]
    for (int64_t oc = 0; oc < out_c; ++oc) {
      for (int64_t t = 0; t < taps; ++t) transposed[static_cast<std::size_t>(t * out_c + oc)] = weights[oc * taps + t];
    }
    c.depthwise_ = true;
    c.depthwise_conv_ = prepare_depthwise_conv2d(d, transposed.data(), bias);
    return c;
  }
  for (int64_t grp = 0; grp < p.groups; ++grp) {
    FullyConnectedParams fc;
    fc.batches = 1;
    fc.input_depth = c.k_;
    fc.output_depth = c.n_;
    fc.input_zero_point = p.input_zero_point;
    fc.output_zero_point = p.output_zero_point;
    fc.rounding = p.rounding;
    fc.activation_min = p.activation_min;
    fc.activation_max = p.activation_max;
    if (p.multipliers.size() == 1) {
      fc.multipliers = p.multipliers;
    } else {
      fc.multipliers.assign(p.multipliers.begin() + grp * c.n_, p.multipliers.begin() + (grp + 1) * c.n_);
    }
    c.packed_.push_back(gemm::pack_weights(fc, weights + grp * c.n_ * c.k_,
                                           bias != nullptr ? bias + grp * c.n_ : nullptr, layout));
  }
  c.scratch_.resize(c.scratch_bytes());
  return c;
}

struct ConvOptions {
  Isa isa = selected_isa();
  // scratch_bytes() bytes owned by the caller, or null to use the PreparedConv2D's own.
  int8_t* scratch = nullptr;
  const gemm::ParallelFor* parallel_for = nullptr;  // passed to every GEMM
};

struct ConvRunner {
  static void run(const PreparedConv2D& c, const int8_t* input, int8_t* output, const ConvOptions& o) {
    const ConvGeometry& g = c.params_.geometry;
    const int64_t rows = g.batches * g.output_height * g.output_width;
    const int64_t groups = c.params_.groups, out_c = g.output_channels;
    if (rows == 0) return;
    if (c.depthwise_) {
      depthwise_conv2d(c.depthwise_conv_, input, output, o.isa);
      return;
    }
    gemm::GemmOptions go;
    go.isa = o.isa;
    go.output_stride = out_c;
    go.parallel_for = o.parallel_for;
    if (c.direct_) {
      go.input_stride = g.input_channels;
      for (int64_t grp = 0; grp < groups; ++grp) {
        gemm::fully_connected(c.packed_[static_cast<std::size_t>(grp)], input + grp * c.k_, rows,
                              output + grp * c.n_, go);
      }
      return;
    }
    int8_t* a = o.scratch != nullptr ? o.scratch : c.scratch_.data();
    go.input_stride = c.row_stride_;
    go.padded_rows = true;
    for (int64_t m0 = 0; m0 < rows; m0 += c.block_rows_) {
      const int64_t mb = std::min(c.block_rows_, rows - m0);
      for (int64_t grp = 0; grp < groups; ++grp) {
        conv_detail::im2col(c.params_.geometry, groups, static_cast<int8_t>(c.params_.input_zero_point), input, grp,
                            m0, mb, c.row_stride_, a);
        gemm::fully_connected(c.packed_[static_cast<std::size_t>(grp)], a, mb, output + m0 * out_c + grp * c.n_, go);
      }
    }
  }
};

// output [batches, out_h, out_w, out_c] = reference::conv2d(params, input, weights, bias) for the
// prepared layer. input [batches, in_h, in_w, in_c]. No allocation; see the header on scratch.
inline void conv2d(const PreparedConv2D& conv, const int8_t* input, int8_t* output,
                   const ConvOptions& options = ConvOptions()) {
  PTQ_DCHECK(!conv.params().multipliers.empty(), "conv2d: not prepared");
  ConvRunner::run(conv, input, output, options);
}

inline void conv2d(const PreparedConv2D& conv, const int8_t* input, int8_t* output, Isa isa) {
  ConvOptions o;
  o.isa = isa;
  ConvRunner::run(conv, input, output, o);
}

PTQ_NAMESPACE_END
