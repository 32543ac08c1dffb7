// The hybrid (dynamic-range) convolution and depthwise convolution (kernels/hybrid_conv.hpp) against
// reference::hybrid_conv2d and reference::hybrid_depthwise_conv2d (reference/hybrid.hpp), bit for
// bit (floats compared as bit patterns, so -0.0 and +0.0 differ), on every ISA level the CPU runs:
// odd image sizes, 1x1 (the direct GEMM path) and larger filters (im2col), strides 1 and 2,
// dilation 2, SAME and VALID, groups, depth multipliers, batches > 1, all-zero images, images of
// one sign (zero points -128 and 127), huge, tiny and sparse images, per-tensor weight scales (the
// per-tensor kernel, symmetric images) and per-channel ones (asymmetric images), bias or none
// (a -0.0 bias too), every fused activation; the prequantized forms with random int8 images and
// extreme zero points (int32 wrap-around included); im2col in several blocks, a thread splitter, a
// per-call bias; and validate's messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ptq/kernels/hybrid_conv.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "support/isa_coverage.hpp"

using ptq::FusedActivation;
using ptq::Isa;
using ptq::Padding;

namespace {

using ptq_test::kSanitized;

// Conv: the GEMM's levels (scalar, SSE4.1, AVX2 and whichever AVX-512 / VNNI / NEON levels the GEMM
// gives their own kernel); depthwise: scalar, SSE4.1, AVX2.
uint32_t hybrid_conv_family() {
  uint32_t m = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});
  for (Isa i : {Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot})
    if (ptq::hybrid_conv2d_variant(i) == i) m |= ptq::isa_bit(i);
  return m;
}
const uint32_t kHybridConvFamily = hybrid_conv_family();
const uint32_t kHybridDepthwiseFamily = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});

const FusedActivation kActivations[] = {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6,
                                        FusedActivation::kReluN1To1};

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

enum class Image { kNormal, kZero, kPositive, kNegative, kTiny, kHuge, kSparse, kOutlier, kDenormal, kMixed };

const char* image_name(Image k) {
  switch (k) {
    case Image::kNormal: return "normal";
    case Image::kZero: return "zero";
    case Image::kPositive: return "positive";
    case Image::kNegative: return "negative";
    case Image::kTiny: return "tiny";
    case Image::kHuge: return "huge";
    case Image::kSparse: return "sparse";
    case Image::kOutlier: return "outlier";
    case Image::kDenormal: return "denormal";
    case Image::kMixed: break;
  }
  return "mixed";
}

// One image of n floats of the kind (kMixed: a different kind per batch image, zero included).
void fill_image(std::mt19937& rng, Image kind, float* x, int64_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    float v = nd(rng);
    switch (kind) {
      case Image::kNormal:
      case Image::kMixed: break;
      case Image::kZero: v = (i % 3 == 1) ? -0.0f : 0.0f; break;
      case Image::kPositive: v = std::abs(v) + 0.125f; break;   // zero point -128
      case Image::kNegative: v = -std::abs(v) - 0.125f; break;  // zero point 127
      case Image::kTiny: v *= 1e-30f; break;
      case Image::kHuge: v *= 1e30f; break;
      case Image::kSparse: v = (rng() % 5 == 0) ? v : 0.0f; break;
      case Image::kOutlier: v = (i == n / 2) ? 1000.0f : v; break;
      // Multiples of the smallest denormal: the row scale rounds to 0 (the quantizer's 1 / scale is
      // infinite), so float(dot) * w_scale * 0 is -0.0 for a negative dot.
      case Image::kDenormal: v *= 1e-45f; break;
    }
    x[i] = v;
  }
}

Image image_kind_of_batch(Image kind, int64_t b) {
  if (kind != Image::kMixed) return kind;
  const Image cycle[] = {Image::kNormal, Image::kZero, Image::kNegative, Image::kPositive, Image::kSparse};
  return cycle[b % 5];
}

// got and want as bit patterns, and nothing written past want.size().
void compare(const std::vector<float>& got, const std::vector<float>& want, int64_t channels, const std::string& what) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (bits(got[i]) != bits(want[i])) {
      FAIL("mismatch at pixel " << static_cast<int64_t>(i) / channels << " channel " << static_cast<int64_t>(i) % channels
                                << ": got " << got[i] << " (0x" << std::hex << bits(got[i]) << ") want " << want[i]
                                << " (0x" << bits(want[i]) << std::dec << "); " << what);
    }
  }
  for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE_MESSAGE(got[i] == 12345.0f, "wrote past the output");
}

// Outputs equal to -0.0 (the activation spellings and the float order differ on them).
int64_t negative_zeros(const std::vector<float>& v) {
  return std::count_if(v.begin(), v.end(), [](float f) { return bits(f) == 0x80000000u; });
}

// At least 4 distinct outputs (fewer would let a wrong kernel pass). Checked when `require` (a
// random geometry may have every tap outside the image: its callers count instead).
bool check_not_vacuous(const std::vector<float>& want, const std::string& what, bool require) {
  INFO(what);
  std::set<uint32_t> distinct;
  for (float f : want) distinct.insert(bits(f));
  const bool ok = distinct.size() >= 4;
  if (require && want.size() >= 32) CHECK_MESSAGE(ok, "fewer than 4 distinct outputs: the test would pass vacuously");
  return ok;
}

class HybridConvTester {
 public:
  HybridConvTester& batches(int64_t v) { batches_ = v; return *this; }
  HybridConvTester& input(int64_t h, int64_t w, int64_t c) { in_h_ = h; in_w_ = w; in_c_ = c; return *this; }
  HybridConvTester& output_channels(int64_t v) { out_c_ = v; return *this; }
  HybridConvTester& filter(int64_t h, int64_t w) { kh_ = h; kw_ = w; return *this; }
  HybridConvTester& stride(int64_t h, int64_t w) { sh_ = h; sw_ = w; return *this; }
  HybridConvTester& dilation(int64_t h, int64_t w) { dh_ = h; dw_ = w; return *this; }
  HybridConvTester& padding(Padding v) { padding_ = v; return *this; }
  HybridConvTester& groups(int64_t v) { groups_ = v; return *this; }
  HybridConvTester& per_channel(bool v) { per_channel_ = v; return *this; }
  HybridConvTester& activation(FusedActivation v) { act_ = v; return *this; }
  HybridConvTester& bias(int v) { bias_ = v; return *this; }  // 0 none, 1 random, 2 all -0.0
  HybridConvTester& image(Image v) { image_ = v; return *this; }
  HybridConvTester& extreme_weights(bool v) { extreme_weights_ = v; return *this; }
  HybridConvTester& seed(uint32_t v) { seed_ = v; return *this; }
  HybridConvTester& expect_direct(int v) { expect_direct_ = v; return *this; }
  HybridConvTester& require_non_trivial(bool v) { require_ = v; return *this; }
  // Adds the number of -0.0 outputs of the reference to *v.
  HybridConvTester& count_negative_zeros(int64_t* v) { negative_zeros_ = v; return *this; }

  ptq::HybridConv2DParams params() const {
    ptq::HybridConv2DParams p;
    p.geometry = ptq::make_conv_geometry(padding_, batches_, in_h_, in_w_, in_c_, kh_, kw_, out_c_, sh_, sw_, dh_, dw_);
    p.groups = groups_;
    p.activation = act_;
    return p;
  }

  // The float op (reference::hybrid_conv2d) and, on random int8 images with extreme zero points,
  // the prequantized one.
  // Returns whether both forms had at least 4 distinct outputs.
  bool test(Isa isa, const ptq::gemm::ParallelFor* pf = nullptr, bool per_call_bias = false) const {
    const std::string what = describe();
    INFO(what);
    std::mt19937 rng(seed_ + static_cast<uint32_t>(in_h_ * 131 + in_w_ * 17 + in_c_ * 7 + out_c_ + kh_ * 1000));
    ptq::HybridConv2DParams p = params();
    const int64_t k = kh_ * kw_ * (in_c_ / groups_);
    // float(w) * x summed over K taps of N(0, 1) inputs has a deviation near sqrt(K) * 73 * w_scale:
    // put it near 1.5, so that ReLU6 and ReLU-1-to-1 clamp some outputs and pass others.
    const float base = 1.5f / (std::sqrt(static_cast<float>(k)) * 73.0f);
    std::uniform_real_distribution<float> sd(0.6f * base, 1.6f * base);
    if (per_channel_) {
      for (int64_t c = 0; c < out_c_; ++c) p.weight_scales.push_back(sd(rng));
    } else {
      p.weight_scales = {sd(rng)};
    }
    const ptq::ConvGeometry& g = p.geometry;
    std::vector<int8_t> w(static_cast<std::size_t>(out_c_ * k));
    for (auto& v : w) {
      v = extreme_weights_ ? ((rng() & 1) ? int8_t{127} : int8_t{-127}) : static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    }
    std::vector<float> b(static_cast<std::size_t>(out_c_));
    std::normal_distribution<float> bd(0.0f, 0.5f);
    for (auto& v : b) v = bias_ == 2 ? -0.0f : bd(rng);
    const float* bias = bias_ != 0 && !per_call_bias ? b.data() : nullptr;
    std::vector<float> x(static_cast<std::size_t>(g.input_size()));
    const int64_t image = in_h_ * in_w_ * in_c_;
    for (int64_t bi = 0; bi < batches_; ++bi) fill_image(rng, image_kind_of_batch(image_, bi), x.data() + bi * image, image);
    REQUIRE(ptq::validate_hybrid_conv2d(p, w.data()).ok());

    std::vector<float> want(static_cast<std::size_t>(g.output_size()));
    ptq::HybridScratch scratch;
    ptq::reference::hybrid_conv2d(p, x.data(), w.data(), bias_ != 0 ? b.data() : nullptr, want.data(), scratch);
    const ptq::PreparedHybridConv2D conv = ptq::prepare_hybrid_conv2d(p, w.data(), bias);
    CHECK(conv.per_channel_kernel() == p.uses_per_channel_kernel());
    if (expect_direct_ >= 0) CHECK(conv.direct() == (expect_direct_ == 1));
    ptq::HybridConvOptions o;
    o.isa = isa;
    o.parallel_for = pf;
    o.bias = per_call_bias && bias_ != 0 ? b.data() : nullptr;
    std::vector<float> got(want.size() + 8, 12345.0f);
    for (int run = 0; run < 2; ++run) {  // prepare once, run twice: the scratch is reusable
      ptq::hybrid_conv2d(conv, x.data(), got.data(), o);
      compare(got, want, out_c_, what);
    }
    if (negative_zeros_ != nullptr) *negative_zeros_ += negative_zeros(want);
    bool non_trivial = check_not_vacuous(want, what, require_ && (image_ == Image::kNormal || image_ == Image::kMixed));

    // Prequantized: random int8 images, zero points at the extremes and in between.
    std::vector<int8_t> q(static_cast<std::size_t>(g.input_size()));
    for (auto& v : q) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    std::vector<float> scales(static_cast<std::size_t>(batches_));
    std::vector<int32_t> zps(static_cast<std::size_t>(batches_));
    const int32_t zp_choices[] = {-128, 127, 0, 37};
    for (int64_t bi = 0; bi < batches_; ++bi) {
      scales[bi] = 0.001f + 0.01f * static_cast<float>(rng() % 100) / 100.0f;
      zps[bi] = zp_choices[(seed_ + bi) % 4];
    }
    if (p.uses_per_channel_kernel()) {
      ptq::reference::hybrid_conv2d_per_channel_prequantized(p, q.data(), scales.data(), zps.data(), w.data(),
                                                             bias_ != 0 ? b.data() : nullptr, want.data());
    } else {
      for (auto& v : q) v = v == -128 ? int8_t{-127} : v;  // symmetric rows
      ptq::reference::hybrid_conv2d_per_tensor_prequantized(p, q.data(), scales.data(), w.data(),
                                                            bias_ != 0 ? b.data() : nullptr, want.data());
    }
    std::fill(got.begin(), got.end(), 12345.0f);
    ptq::hybrid_conv2d_prequantized(conv, q.data(), scales.data(), p.uses_per_channel_kernel() ? zps.data() : nullptr,
                                    got.data(), o);
    compare(got, want, out_c_, what + " (prequantized)");
    non_trivial = check_not_vacuous(want, what + " (prequantized)", require_) && non_trivial;
    return non_trivial;
  }

  std::string describe() const {
    std::ostringstream s;
    s << "N=" << batches_ << " in=" << in_h_ << "x" << in_w_ << "x" << in_c_ << " out_c=" << out_c_ << " filter="
      << kh_ << "x" << kw_ << " stride=" << sh_ << "x" << sw_ << " dilation=" << dh_ << "x" << dw_ << " "
      << (padding_ == Padding::kSame ? "SAME" : "VALID") << " groups=" << groups_ << " "
      << (per_channel_ ? "per-channel" : "per-tensor") << " act=" << ptq::fused_activation_name(act_)
      << " bias=" << bias_ << " image=" << image_name(image_) << " seed=" << seed_;
    return s.str();
  }

 private:
  int64_t batches_ = 1, in_h_ = 7, in_w_ = 9, in_c_ = 5, out_c_ = 7, kh_ = 3, kw_ = 3, sh_ = 1, sw_ = 1, dh_ = 1, dw_ = 1;
  int64_t groups_ = 1;
  Padding padding_ = Padding::kSame;
  bool per_channel_ = true, extreme_weights_ = false, require_ = true;
  int64_t* negative_zeros_ = nullptr;
  int bias_ = 1;
  FusedActivation act_ = FusedActivation::kNone;
  Image image_ = Image::kNormal;
  int expect_direct_ = -1;
  uint32_t seed_ = 3;
};

class HybridDepthwiseTester {
 public:
  HybridDepthwiseTester& batches(int64_t v) { batches_ = v; return *this; }
  HybridDepthwiseTester& input(int64_t h, int64_t w, int64_t c) { in_h_ = h; in_w_ = w; in_c_ = c; return *this; }
  HybridDepthwiseTester& depth_multiplier(int64_t v) { dm_ = v; return *this; }
  HybridDepthwiseTester& filter(int64_t h, int64_t w) { kh_ = h; kw_ = w; return *this; }
  HybridDepthwiseTester& stride(int64_t h, int64_t w) { sh_ = h; sw_ = w; return *this; }
  HybridDepthwiseTester& dilation(int64_t h, int64_t w) { dh_ = h; dw_ = w; return *this; }
  HybridDepthwiseTester& padding(Padding v) { padding_ = v; return *this; }
  HybridDepthwiseTester& per_channel(bool v) { per_channel_ = v; return *this; }
  HybridDepthwiseTester& activation(FusedActivation v) { act_ = v; return *this; }
  HybridDepthwiseTester& bias(int v) { bias_ = v; return *this; }
  HybridDepthwiseTester& image(Image v) { image_ = v; return *this; }
  HybridDepthwiseTester& weights_with_min(bool v) { weights_with_min_ = v; return *this; }
  HybridDepthwiseTester& seed(uint32_t v) { seed_ = v; return *this; }
  HybridDepthwiseTester& require_non_trivial(bool v) { require_ = v; return *this; }
  // Adds the number of -0.0 outputs of the reference to *v.
  HybridDepthwiseTester& count_negative_zeros(int64_t* v) { negative_zeros_ = v; return *this; }

  // Returns whether both forms had at least 4 distinct outputs.
  bool test(Isa isa, bool per_call_bias = false) const {
    const std::string what = describe();
    INFO(what);
    std::mt19937 rng(seed_ + static_cast<uint32_t>(in_h_ * 131 + in_w_ * 17 + in_c_ * 7 + dm_ + kh_ * 1000));
    ptq::HybridDepthwiseConv2DParams p;
    const int64_t out_c = in_c_ * dm_;
    p.geometry = ptq::make_conv_geometry(padding_, batches_, in_h_, in_w_, in_c_, kh_, kw_, out_c, sh_, sw_, dh_, dw_);
    p.depth_multiplier = dm_;
    p.activation = act_;
    const float base = 1.5f / (std::sqrt(static_cast<float>(kh_ * kw_)) * 73.0f);  // as for the conv
    std::uniform_real_distribution<float> sd(0.6f * base, 1.6f * base);
    if (per_channel_) {
      for (int64_t c = 0; c < out_c; ++c) p.weight_scales.push_back(sd(rng));
    } else {
      p.weight_scales = {sd(rng)};
    }
    const ptq::ConvGeometry& g = p.geometry;
    std::vector<int8_t> w(static_cast<std::size_t>(kh_ * kw_ * out_c));
    // weights_with_min: -128 included (the walk multiplies in int16; the reference takes it too).
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % (weights_with_min_ ? 256 : 255)) - (weights_with_min_ ? 128 : 127));
    std::vector<float> b(static_cast<std::size_t>(out_c));
    std::normal_distribution<float> bd(0.0f, 0.5f);
    for (auto& v : b) v = bias_ == 2 ? -0.0f : bd(rng);
    std::vector<float> x(static_cast<std::size_t>(g.input_size()));
    const int64_t image = in_h_ * in_w_ * in_c_;
    for (int64_t bi = 0; bi < batches_; ++bi) fill_image(rng, image_kind_of_batch(image_, bi), x.data() + bi * image, image);
    REQUIRE(ptq::validate_hybrid_depthwise_conv2d(p, w.data()).ok());

    std::vector<float> want(static_cast<std::size_t>(g.output_size()));
    ptq::HybridScratch scratch;
    ptq::reference::hybrid_depthwise_conv2d(p, x.data(), w.data(), bias_ != 0 ? b.data() : nullptr, want.data(), scratch);
    const ptq::PreparedHybridDepthwiseConv2D dw =
        ptq::prepare_hybrid_depthwise_conv2d(p, w.data(), bias_ != 0 && !per_call_bias ? b.data() : nullptr);
    ptq::HybridConvOptions o;
    o.isa = isa;
    o.bias = per_call_bias && bias_ != 0 ? b.data() : nullptr;
    std::vector<float> got(want.size() + 8, 12345.0f);
    for (int run = 0; run < 2; ++run) {
      ptq::hybrid_depthwise_conv2d(dw, x.data(), got.data(), o);
      compare(got, want, out_c, what);
    }
    if (negative_zeros_ != nullptr) *negative_zeros_ += negative_zeros(want);
    bool non_trivial = check_not_vacuous(want, what, require_ && (image_ == Image::kNormal || image_ == Image::kMixed));

    std::vector<int8_t> q(static_cast<std::size_t>(g.input_size()));
    for (auto& v : q) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    std::vector<float> scales(static_cast<std::size_t>(batches_));
    std::vector<int32_t> zps(static_cast<std::size_t>(batches_));
    const int32_t zp_choices[] = {127, -128, 0, -55};
    for (int64_t bi = 0; bi < batches_; ++bi) {
      scales[bi] = 0.001f + 0.01f * static_cast<float>(rng() % 100) / 100.0f;
      zps[bi] = zp_choices[(seed_ + bi) % 4];
    }
    ptq::reference::hybrid_depthwise_conv2d_prequantized(p, q.data(), scales.data(), zps.data(), w.data(),
                                                         bias_ != 0 ? b.data() : nullptr, want.data());
    std::fill(got.begin(), got.end(), 12345.0f);
    ptq::hybrid_depthwise_conv2d_prequantized(dw, q.data(), scales.data(), zps.data(), got.data(), o);
    compare(got, want, out_c, what + " (prequantized)");
    non_trivial = check_not_vacuous(want, what + " (prequantized)", require_) && non_trivial;
    return non_trivial;
  }

  std::string describe() const {
    std::ostringstream s;
    s << "N=" << batches_ << " in=" << in_h_ << "x" << in_w_ << "x" << in_c_ << " dm=" << dm_ << " filter=" << kh_
      << "x" << kw_ << " stride=" << sh_ << "x" << sw_ << " dilation=" << dh_ << "x" << dw_ << " "
      << (padding_ == Padding::kSame ? "SAME" : "VALID") << " " << (per_channel_ ? "per-channel" : "per-tensor")
      << " act=" << ptq::fused_activation_name(act_) << " bias=" << bias_ << " image=" << image_name(image_)
      << " seed=" << seed_;
    return s.str();
  }

 private:
  int64_t batches_ = 1, in_h_ = 7, in_w_ = 9, in_c_ = 17, dm_ = 1, kh_ = 3, kw_ = 3, sh_ = 1, sw_ = 1, dh_ = 1, dw_ = 1;
  Padding padding_ = Padding::kSame;
  bool per_channel_ = true, weights_with_min_ = false, require_ = true;
  int64_t* negative_zeros_ = nullptr;
  int bias_ = 1;
  FusedActivation act_ = FusedActivation::kNone;
  Image image_ = Image::kNormal;
  uint32_t seed_ = 5;
};

}  // namespace

TEST_CASE("hybrid_conv2d: validate names the culprit") {
  ptq::HybridConv2DParams p;
  p.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 4, 4, 2, 3, 3, 2);
  p.weight_scales = {0.01f};
  std::vector<int8_t> w(2 * 3 * 3 * 2, 1);
  CHECK(ptq::validate_hybrid_conv2d(p, w.data()).ok());
  w[1 * 18 + 2 * 6 + 1 * 2 + 1] = -128;  // [1][2][1][1]
  const ptq::Status s = ptq::validate_hybrid_conv2d(p, w.data());
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("hybrid_conv2d: weights[1][2][1][1] = -128") != std::string::npos);
  w[1 * 18 + 2 * 6 + 1 * 2 + 1] = 0;
  p.groups = 3;
  CHECK(ptq::validate_hybrid_conv2d(p, w.data()).message().find("groups = 3") != std::string::npos);
  p.groups = 1;
  p.weight_scales = {0.1f, 0.2f, 0.3f};
  CHECK(ptq::validate_hybrid_conv2d(p, w.data()).message().find("hybrid_conv2d") != std::string::npos);
  p.weight_scales = {0.1f};
  CHECK(ptq::validate_hybrid_conv2d(p, nullptr).message().find("weights is null") != std::string::npos);

  ptq::HybridDepthwiseConv2DParams d;
  d.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 4, 4, 2, 3, 3, 4);
  d.depth_multiplier = 2;
  d.weight_scales = {0.01f};
  std::vector<int8_t> dw(3 * 3 * 4, -128);  // -128 is accepted here
  CHECK(ptq::validate_hybrid_depthwise_conv2d(d, dw.data()).ok());
  CHECK(ptq::validate_hybrid_depthwise_conv2d(d, nullptr).message().find("weights is null") != std::string::npos);
  d.depth_multiplier = 3;
  CHECK(ptq::validate_hybrid_depthwise_conv2d(d, dw.data()).message().find("depth_multiplier") != std::string::npos);
}

TEST_CASE("hybrid_conv2d: every ISA level equals the reference (geometry sweep)") {
  struct Filter { int64_t h, w; };
  const Filter filters[] = {{1, 1}, {3, 3}, {2, 3}, {5, 5}};
  ptq_test::for_each_isa(kHybridConvFamily, ptq::hybrid_conv2d_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (const Filter f : filters)
      for (int64_t s : {1, 2})
        for (int64_t d : {1, 2})
          for (Padding pad : {Padding::kSame, Padding::kValid})
            for (int64_t g : {1, 3}) {
              if (kSanitized && (d == 2 || f.h == 5) && g == 3) continue;
              const int64_t in_c = g == 1 ? 3 + seed % 15 : 3 * (1 + seed % 6);
              HybridConvTester().input(7 + seed % 3, 9 + seed % 4, in_c).output_channels(g * (1 + seed % 17))
                  .filter(f.h, f.w).stride(s, s).dilation(d, d).padding(pad).groups(g).batches(1 + seed % 2)
                  .per_channel(seed % 3 != 0).activation(kActivations[seed % 4]).bias(seed % 5 == 0 ? 0 : 1)
                  .seed(seed).test(isa);
              ++seed;
            }
    // Mixed strides and dilations, channel counts at the vector widths, the direct 1x1 path.
    for (int64_t c : {1, 3, 15, 16, 17, 33}) {
      HybridConvTester().input(6, 11, c).output_channels(c + 2).filter(3, 2).stride(2, 1).dilation(1, 2).test(isa);
      HybridConvTester().input(5, 5, c).output_channels(33 - c % 7).filter(1, 1).padding(Padding::kValid)
          .per_channel(c % 2 == 0).expect_direct(1).test(isa);
    }
  });
}

TEST_CASE("hybrid_conv2d: 1x1 direct, groups, batches, per-tensor and per-channel kernels") {
  ptq_test::for_each_isa(kHybridConvFamily, ptq::hybrid_conv2d_variant, [&](Isa isa) {
    for (bool pc : {true, false}) {
      HybridConvTester().input(9, 7, 32).output_channels(17).filter(1, 1).batches(3).per_channel(pc).expect_direct(1).test(isa);
      HybridConvTester().input(9, 7, 32).output_channels(34).filter(1, 1).groups(2).per_channel(pc).expect_direct(1).test(isa);
      HybridConvTester().input(4, 5, 12).output_channels(8).filter(1, 1).groups(4).per_channel(pc).expect_direct(1).test(isa);
      HybridConvTester().input(9, 7, 16).output_channels(16).filter(1, 1).stride(2, 2).per_channel(pc).expect_direct(0).test(isa);
    }
  });
}

TEST_CASE("hybrid_conv2d: zero, one-signed, huge, tiny and sparse images; activations; bias") {
  const Image kinds[] = {Image::kNormal, Image::kZero,    Image::kPositive, Image::kNegative, Image::kTiny,
                         Image::kHuge,   Image::kSparse,  Image::kOutlier,  Image::kDenormal, Image::kMixed};
  ptq_test::for_each_isa(kHybridConvFamily, ptq::hybrid_conv2d_variant, [&](Isa isa) {
    uint32_t seed = 100;
    int64_t negative = 0;
    for (Image kind : kinds)
      for (bool pc : {true, false})
        for (FusedActivation act : kActivations)
          for (int bias : {0, 1, 2}) {
            if (kSanitized && (bias == 2 || act == FusedActivation::kRelu6) && kind != Image::kZero) continue;
            const uint32_t s = seed++;
            HybridConvTester().input(5, 6, 7).output_channels(11).batches(kind == Image::kMixed ? 5 : 2)
                .per_channel(pc).activation(act).bias(bias).image(kind).count_negative_zeros(&negative).seed(s).test(isa);
          }
    // Denormal images make -0.0 outputs (per-channel kernel; the per-tensor one adds 0.0f first).
    CHECK(negative > 0);
    // Saturating weights (every |w| = 127) with one-signed images: large accumulators.
    HybridConvTester().input(6, 6, 40).output_channels(9).extreme_weights(true).image(Image::kPositive).test(isa);
    HybridConvTester().input(6, 6, 40).output_channels(9).extreme_weights(true).image(Image::kNegative).per_channel(false).test(isa);
  });
}

TEST_CASE("hybrid_conv2d: im2col in several blocks, threads, a per-call bias") {
  const ptq::gemm::ParallelFor pool = [](int64_t count, const ptq::gemm::PanelTask& task) {
    std::vector<std::thread> threads;
    const int64_t half = count / 2;
    threads.emplace_back([&] { task(0, half); });
    threads.emplace_back([&] { task(half, count); });
    for (auto& t : threads) t.join();
  };
  ptq_test::for_each_isa(kHybridConvFamily, ptq::hybrid_conv2d_variant, [&](Isa isa) {
    // K = 3 * 3 * 256 = 2304: blocks of 64 rows over 10 * 10 pixels.
    HybridConvTester().input(10, 10, 256).output_channels(kSanitized ? 5 : 20).filter(3, 3).test(isa);
    HybridConvTester().input(10, 10, 256).output_channels(9).filter(3, 3).batches(2).per_channel(false).test(isa, &pool);
    HybridConvTester().input(11, 13, 24).output_channels(40).filter(3, 3).stride(2, 2).groups(2).test(isa, &pool, true);
    // Direct 1x1 over more pixels than one block of accumulators holds (out_c = 600: 64-row blocks).
    HybridConvTester().input(kSanitized ? 9 : 17, 13, 8).output_channels(600).filter(1, 1).expect_direct(1).test(isa, &pool);
  });
}

TEST_CASE("hybrid_conv2d: random geometries") {
  std::mt19937 rng(23);
  const int rounds = kSanitized ? 12 : 60;
  ptq_test::for_each_isa(kHybridConvFamily, ptq::hybrid_conv2d_variant, [&](Isa isa) {
    int non_trivial = 0;
    for (int i = 0; i < rounds; ++i) {
      // One draw per statement: argument evaluation order differs between compilers.
      auto draw = [&](uint32_t n) { return static_cast<int64_t>(rng() % n); };
      const int64_t g = 1 + draw(3);
      const int64_t in_h = 1 + draw(12), in_w = 1 + draw(12), in_c = g * (1 + draw(20));
      const int64_t out_c = g * (1 + draw(20));
      const int64_t kh = 1 + draw(5), kw = 1 + draw(5), sh = 1 + draw(2), sw = 1 + draw(2);
      const int64_t dh = 1 + draw(2), dw = 1 + draw(2);
      // VALID only where the dilated filter fits (an empty output proves nothing).
      const bool fits = (kh - 1) * dh < in_h && (kw - 1) * dw < in_w;
      const Padding padding = draw(2) || !fits ? Padding::kSame : Padding::kValid;
      const int64_t batches = 1 + draw(3);
      const bool per_channel = draw(2) != 0;
      const FusedActivation act = kActivations[draw(4)];
      const int bias = static_cast<int>(draw(3));
      const Image kind = draw(4) == 0 ? Image::kMixed : Image::kNormal;
      const auto seed = static_cast<uint32_t>(rng());
      non_trivial += HybridConvTester().input(in_h, in_w, in_c).output_channels(out_c).groups(g).filter(kh, kw)
                         .stride(sh, sw).dilation(dh, dw).padding(padding).batches(batches).per_channel(per_channel)
                         .activation(act).bias(bias).image(kind).seed(seed).require_non_trivial(false).test(isa);
    }
    CHECK_MESSAGE(non_trivial >= rounds * 3 / 4, "too many draws with fewer than 4 distinct outputs");
  });
}

TEST_CASE("hybrid_depthwise_conv2d: every ISA level equals the reference (geometry sweep)") {
  ptq_test::for_each_isa(kHybridDepthwiseFamily, ptq::hybrid_depthwise_conv2d_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (int64_t k : {1, 3, 5})
      for (int64_t s : {1, 2})
        for (int64_t d : {1, 2})
          for (Padding pad : {Padding::kSame, Padding::kValid})
            for (int64_t dm : {1, 2, 3}) {
              if (kSanitized && dm == 3 && d == 2) continue;
              HybridDepthwiseTester().input(7 + seed % 4, 8 + seed % 5, 1 + seed % 34).depth_multiplier(dm).filter(k, k)
                  .stride(s, s).dilation(d, d).padding(pad).batches(1 + seed % 2).per_channel(seed % 3 != 0)
                  .activation(kActivations[seed % 4]).bias(seed % 5 == 0 ? 0 : 1).seed(seed).test(isa);
              ++seed;
            }
    // Channel counts around the 8- and 16-channel steps; an even tap count; more than 64 taps.
    for (int64_t c : {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48}) {
      HybridDepthwiseTester().input(6, 7, c).filter(3, 3).test(isa);
      HybridDepthwiseTester().input(5, 9, c).filter(2, 4).stride(1, 2).test(isa);
    }
    HybridDepthwiseTester().input(10, 11, 18).filter(9, 9).test(isa);
    HybridDepthwiseTester().input(10, 11, 5).filter(9, 8).padding(Padding::kValid).test(isa);
  });
}

TEST_CASE("hybrid_depthwise_conv2d: zero, one-signed, huge, tiny and sparse images; activations; bias") {
  const Image kinds[] = {Image::kNormal, Image::kZero,    Image::kPositive, Image::kNegative, Image::kTiny,
                         Image::kHuge,   Image::kSparse,  Image::kOutlier,  Image::kDenormal, Image::kMixed};
  ptq_test::for_each_isa(kHybridDepthwiseFamily, ptq::hybrid_depthwise_conv2d_variant, [&](Isa isa) {
    uint32_t seed = 200;
    int64_t negative = 0;
    for (Image kind : kinds)
      for (bool pc : {true, false})
        for (FusedActivation act : kActivations)
          for (int bias : {0, 1, 2}) {
            if (kSanitized && (bias == 2 || act == FusedActivation::kRelu6) && kind != Image::kZero) continue;
            const uint32_t s = seed++;
            HybridDepthwiseTester().input(6, 5, 19).depth_multiplier(1 + s % 2).batches(kind == Image::kMixed ? 5 : 2)
                .per_channel(pc).activation(act).bias(bias).image(kind).count_negative_zeros(&negative).seed(s).test(isa);
          }
    CHECK(negative > 0);  // denormal images make -0.0 outputs
    HybridDepthwiseTester().input(6, 6, 21).weights_with_min(true).image(Image::kPositive).test(isa);
    HybridDepthwiseTester().input(6, 6, 21).weights_with_min(true).image(Image::kNegative).test(isa, true);
    HybridDepthwiseTester().input(4, 9, 16).depth_multiplier(2).test(isa, true);
  });
}

TEST_CASE("hybrid_depthwise_conv2d: random geometries") {
  std::mt19937 rng(29);
  const int rounds = kSanitized ? 12 : 60;
  ptq_test::for_each_isa(kHybridDepthwiseFamily, ptq::hybrid_depthwise_conv2d_variant, [&](Isa isa) {
    int non_trivial = 0;
    for (int i = 0; i < rounds; ++i) {
      auto draw = [&](uint32_t n) { return static_cast<int64_t>(rng() % n); };
      const int64_t in_h = 1 + draw(14), in_w = 1 + draw(14), in_c = 1 + draw(40);
      const int64_t dm = 1 + draw(3);
      const int64_t kh = 1 + draw(5), kw = 1 + draw(5), sh = 1 + draw(2), sw = 1 + draw(2);
      const int64_t dh = 1 + draw(2), dw = 1 + draw(2);
      // VALID only where the dilated filter fits (an empty output proves nothing).
      const bool fits = (kh - 1) * dh < in_h && (kw - 1) * dw < in_w;
      const Padding padding = draw(2) || !fits ? Padding::kSame : Padding::kValid;
      const int64_t batches = 1 + draw(3);
      const bool per_channel = draw(2) != 0;
      const FusedActivation act = kActivations[draw(4)];
      const int bias = static_cast<int>(draw(3));
      const Image kind = draw(4) == 0 ? Image::kMixed : Image::kNormal;
      const auto seed = static_cast<uint32_t>(rng());
      non_trivial += HybridDepthwiseTester().input(in_h, in_w, in_c).depth_multiplier(dm).filter(kh, kw)
                         .stride(sh, sw).dilation(dh, dw).padding(padding).batches(batches).per_channel(per_channel)
                         .activation(act).bias(bias).image(kind).seed(seed).require_non_trivial(false).test(isa);
    }
    CHECK_MESSAGE(non_trivial >= rounds * 3 / 4, "too many draws with fewer than 4 distinct outputs");
  });
}
