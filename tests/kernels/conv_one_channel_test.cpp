// conv2d and hybrid_conv2d layers with one input channel per group (in_c = 1, or groups = in_c),
// which prepare_conv2d / prepare_hybrid_conv2d run through the depthwise walk (kernels/conv.hpp,
// kernels/hybrid_conv.hpp), against reference::conv2d / reference::hybrid_conv2d bit for bit (floats
// as bit patterns) on every ISA level: the Fashion-MNIST CNN's first layer, odd sizes, output channel counts
// around the depthwise's 8- and 16-channel steps, strides, dilations, SAME / VALID, batches,
// extreme zero points, clamps, per-tensor and per-channel multipliers, both rounding modes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/hybrid_conv.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "support/isa_coverage.hpp"

using ptq::Isa;
using ptq::Padding;
using ptq::RoundingMode;

namespace {

const uint32_t kDepthwiseFamily = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});

struct OneChannelCase {
  int64_t batches, h, w, groups, out_per_group, kh, kw, stride, dilation;
  Padding padding;
  int32_t x_zp, y_zp, act_min, act_max;
  bool per_channel;
  RoundingMode rounding;
};

// Returns whether the reference output was non-trivial (>= 3 distinct values, not all clamped).
bool run(const OneChannelCase& c, Isa isa, uint32_t seed) {
  std::mt19937 rng(seed);
  ptq::Conv2DParams p;
  const int64_t in_c = c.groups, out_c = c.groups * c.out_per_group;
  p.geometry = ptq::make_conv_geometry(c.padding, c.batches, c.h, c.w, in_c, c.kh, c.kw, out_c, c.stride, c.stride,
                                       c.dilation, c.dilation);
  p.groups = c.groups;
  p.input_zero_point = c.x_zp;
  p.output_zero_point = c.y_zp;
  p.rounding = c.rounding;
  p.activation_min = c.act_min;
  p.activation_max = c.act_max;
  const double typical = std::sqrt(static_cast<double>(c.kh * c.kw)) * 74.0 * 73.0;
  std::uniform_real_distribution<double> jitter(0.6, 1.6);
  const int64_t multipliers = c.per_channel ? out_c : 1;
  for (int64_t i = 0; i < multipliers; ++i) p.multipliers.push_back(ptq::quantize_multiplier(60.0 * jitter(rng) / typical, c.rounding));
  std::vector<int8_t> x(static_cast<std::size_t>(p.geometry.input_size()));
  std::vector<int8_t> w(static_cast<std::size_t>(p.filter_size()));
  std::vector<int32_t> b(static_cast<std::size_t>(out_c));
  for (auto& v : x) v = static_cast<int8_t>(rng());
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  for (auto& v : b) v = static_cast<int32_t>(rng() % 20001) - 10000;
  REQUIRE(ptq::validate_conv2d(p, w.data()).ok());
  std::vector<int8_t> want(static_cast<std::size_t>(p.geometry.output_size()));
  ptq::reference::conv2d(p, x.data(), w.data(), b.data(), want.data());
  const ptq::PreparedConv2D conv = ptq::prepare_conv2d(p, w.data(), b.data());
  CHECK(conv.depthwise());
  CHECK(conv.scratch_bytes() == 0);
  std::vector<int8_t> got(want.size() + 32, int8_t{0x5A});
  for (int pass = 0; pass < 2; ++pass) {  // the prepared layer runs twice with the same result
    ptq::conv2d(conv, x.data(), got.data(), isa);
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (got[i] != want[i]) FAIL("element " << i << ": got " << int{got[i]} << " want " << int{want[i]});
    }
    for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE_MESSAGE(got[i] == 0x5A, "wrote past the output");
  }
  const std::set<int8_t> distinct(want.begin(), want.end());
  const auto clamped = std::count_if(want.begin(), want.end(), [&](int8_t v) { return v == c.act_min || v == c.act_max; });
  return distinct.size() >= 3 && clamped < static_cast<long>(want.size());
}

}  // namespace

TEST_CASE("conv2d with one input channel per group runs as a depthwise and equals the reference") {
  const RoundingMode kD = RoundingMode::kDouble, kS = RoundingMode::kSingle;
  const std::vector<OneChannelCase> cases = {
      {1, 28, 28, 1, 16, 3, 3, 1, 1, Padding::kSame, -128, -128, -128, 127, true, kD},  // the CNN's conv1
      {2, 9, 7, 1, 5, 3, 3, 1, 1, Padding::kSame, 0, 3, -128, 127, true, kS},
      {1, 11, 13, 1, 17, 3, 3, 2, 1, Padding::kSame, 127, -128, -128, 127, false, kD},
      {1, 10, 9, 1, 33, 5, 5, 1, 2, Padding::kValid, -7, 0, -20, 60, true, kS},
      {1, 7, 8, 1, 8, 2, 3, 1, 1, Padding::kSame, 5, 127, -128, 127, true, kD},
      {1, 6, 7, 1, 1, 3, 3, 1, 1, Padding::kSame, -128, 0, -128, 127, true, kD},
      {2, 8, 9, 3, 4, 3, 3, 1, 1, Padding::kSame, 9, -9, -128, 127, true, kS},    // groups = in_c = 3
      {1, 12, 5, 16, 1, 3, 3, 2, 1, Padding::kSame, -30, 2, -128, 100, false, kD},  // a depthwise as groups
      {1, 1, 1, 1, 3, 3, 3, 1, 1, Padding::kSame, 1, 1, -128, 127, true, kD},
  };
  ptq_test::for_each_isa(kDepthwiseFamily, ptq::depthwise_variant, [&](Isa isa) {
    int nontrivial = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO("case " << i);
      nontrivial += run(cases[i], isa, static_cast<uint32_t>(100 + i));
    }
    CHECK(nontrivial >= static_cast<int>(cases.size()) - 2);
  });
}

namespace {

// The hybrid form of a case: float input (with a constant offset so the per-image zero point is not
// 0), per-channel scales (TFLite's asymmetric kernel) or one scale (symmetric per-tensor kernel,
// when groups == 1), weights in [-127, 127] (validate_hybrid_conv2d's range).
void run_hybrid(const OneChannelCase& c, Isa isa, uint32_t seed) {
  std::mt19937 rng(seed);
  ptq::HybridConv2DParams p;
  const int64_t in_c = c.groups, out_c = c.groups * c.out_per_group;
  p.geometry = ptq::make_conv_geometry(c.padding, c.batches, c.h, c.w, in_c, c.kh, c.kw, out_c, c.stride, c.stride,
                                       c.dilation, c.dilation);
  p.groups = c.groups;
  p.activation = c.per_channel ? ptq::FusedActivation::kRelu : ptq::FusedActivation::kNone;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), scale(0.002f, 0.02f);
  const int64_t scales = c.per_channel ? out_c : 1;
  for (int64_t i = 0; i < scales; ++i) p.weight_scales.push_back(scale(rng));
  std::vector<float> x(static_cast<std::size_t>(p.geometry.input_size()));
  std::vector<int8_t> w(static_cast<std::size_t>(out_c * c.kh * c.kw));
  std::vector<float> b(static_cast<std::size_t>(out_c));
  const float offset = static_cast<float>(c.x_zp) / 64.0f;
  for (auto& v : x) v = u(rng) + offset;
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  for (auto& v : b) v = u(rng);
  REQUIRE(ptq::validate_hybrid_conv2d(p, w.data()).ok());
  std::vector<float> want(static_cast<std::size_t>(p.geometry.output_size()));
  ptq::HybridScratch scratch;
  ptq::reference::hybrid_conv2d(p, x.data(), w.data(), b.data(), want.data(), scratch);
  const ptq::PreparedHybridConv2D conv = ptq::prepare_hybrid_conv2d(p, w.data(), b.data());
  CHECK(conv.depthwise());
  std::vector<float> got(want.size() + 8, 1.25f);
  for (int pass = 0; pass < 2; ++pass) {
    ptq::hybrid_conv2d(conv, x.data(), got.data(), isa);
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) FAIL("element " << i << ": got " << got[i] << " want " << want[i]);
    }
    for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE_MESSAGE(got[i] == 1.25f, "wrote past the output");
  }
  const std::set<float> distinct(want.begin(), want.end());
  CHECK(distinct.size() >= std::min<std::size_t>(3, want.size()));
}

}  // namespace

TEST_CASE("hybrid_conv2d with one input channel per group runs the depthwise walk and equals the reference") {
  const RoundingMode kD = RoundingMode::kDouble;
  const std::vector<OneChannelCase> cases = {
      {1, 28, 28, 1, 16, 3, 3, 1, 1, Padding::kSame, 0, 0, -128, 127, true, kD},  // the CNN's conv1
      {1, 28, 28, 1, 16, 3, 3, 1, 1, Padding::kSame, 64, 0, -128, 127, false, kD},  // per-tensor, symmetric
      {2, 9, 7, 1, 5, 3, 3, 1, 1, Padding::kSame, -100, 0, -128, 127, true, kD},
      {1, 11, 13, 1, 17, 3, 3, 2, 1, Padding::kSame, 30, 0, -128, 127, false, kD},
      {1, 10, 9, 1, 33, 5, 5, 1, 2, Padding::kValid, 0, 0, -128, 127, true, kD},
      {2, 8, 9, 3, 4, 3, 3, 1, 1, Padding::kSame, 50, 0, -128, 127, true, kD},   // groups = in_c = 3
      {1, 12, 5, 16, 1, 3, 3, 2, 1, Padding::kSame, -20, 0, -128, 127, true, kD},  // a depthwise as groups
  };
  ptq_test::for_each_isa(kDepthwiseFamily, ptq::depthwise_variant, [&](Isa isa) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO("case " << i);
      run_hybrid(cases[i], isa, static_cast<uint32_t>(200 + i));
    }
  });
}
