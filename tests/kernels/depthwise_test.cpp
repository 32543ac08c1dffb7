// depthwise_conv2d's direct kernels (kernels/depthwise.hpp) against reference::depthwise_conv2d,
// bit for bit, on every ISA level the CPU runs: channel counts around the 8- and 16-channel steps
// (1, 3, 15, 16, 17, 33, ...), depth multipliers 1, 2, 3, odd image sizes, strides 1 and 2,
// dilations 1 and 2, SAME and VALID, filters with an odd tap count and with more than 64 taps
// (the tail's chunking), batches > 1, extreme zero points, saturation, clamps, both rounding modes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "support/isa_coverage.hpp"

using ptq::Isa;
using ptq::Padding;
using ptq::RoundingMode;

namespace {

using ptq_test::kSanitized;

const uint32_t kDepthwiseFamily = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});

class DepthwiseTester {
 public:
  DepthwiseTester& batches(int64_t v) { batches_ = v; return *this; }
  DepthwiseTester& input(int64_t h, int64_t w, int64_t c) { in_h_ = h; in_w_ = w; in_c_ = c; return *this; }
  DepthwiseTester& depth_multiplier(int64_t v) { dm_ = v; return *this; }
  DepthwiseTester& filter(int64_t h, int64_t w) { kh_ = h; kw_ = w; return *this; }
  DepthwiseTester& stride(int64_t h, int64_t w) { sh_ = h; sw_ = w; return *this; }
  DepthwiseTester& dilation(int64_t h, int64_t w) { dh_ = h; dw_ = w; return *this; }
  DepthwiseTester& padding(Padding v) { padding_ = v; return *this; }
  DepthwiseTester& input_zero_point(int32_t v) { x_zp_ = v; return *this; }
  DepthwiseTester& output_zero_point(int32_t v) { y_zp_ = v; return *this; }
  DepthwiseTester& per_channel(bool v) { per_channel_ = v; return *this; }
  DepthwiseTester& rounding(RoundingMode v) { rounding_ = v; return *this; }
  DepthwiseTester& activation(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  DepthwiseTester& gain(double v) { gain_ = v; return *this; }
  DepthwiseTester& extreme(bool v) { extreme_ = v; return *this; }
  DepthwiseTester& bias(bool v) { bias_ = v; return *this; }
  DepthwiseTester& seed(uint32_t v) { seed_ = v; return *this; }
  DepthwiseTester& expect_saturation(bool v) { expect_saturation_ = v; return *this; }

  void test(Isa isa) const {
    std::mt19937 rng(seed_ + static_cast<uint32_t>(in_h_ * 131 + in_w_ * 17 + in_c_ * 7 + dm_ + kh_ * 1000));
    ptq::DepthwiseConv2DParams p;
    const int64_t out_c = in_c_ * dm_;
    p.geometry = ptq::make_conv_geometry(padding_, batches_, in_h_, in_w_, in_c_, kh_, kw_, out_c, sh_, sw_, dh_, dw_);
    p.depth_multiplier = dm_;
    p.input_zero_point = x_zp_;
    p.output_zero_point = y_zp_;
    p.rounding = rounding_;
    p.activation_min = act_min_;
    p.activation_max = act_max_;
    const double typical = std::sqrt(static_cast<double>(kh_ * kw_)) * (extreme_ ? 127.0 * 200.0 : 74.0 * 73.0);
    std::uniform_real_distribution<double> jitter(0.6, 1.6);
    if (per_channel_) {
      for (int64_t c = 0; c < out_c; ++c) p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 60.0 * jitter(rng) / typical, rounding_));
    } else {
      p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 60.0 / typical, rounding_));
    }
    std::vector<int8_t> x(static_cast<std::size_t>(p.geometry.input_size()));
    std::vector<int8_t> w(static_cast<std::size_t>(p.filter_size()));
    std::vector<int32_t> b(static_cast<std::size_t>(out_c));
    for (auto& v : x) v = extreme_ ? ((rng() & 1) ? int8_t{127} : int8_t{-128}) : static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    for (auto& v : w) v = extreme_ ? ((rng() & 1) ? int8_t{127} : int8_t{-127}) : static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    for (auto& v : b) v = static_cast<int32_t>(rng() % 20001) - 10000;
    REQUIRE(ptq::validate_depthwise_conv2d(p, w.data()).ok());

    std::vector<int8_t> want(static_cast<std::size_t>(p.geometry.output_size()));
    ptq::reference::depthwise_conv2d(p, x.data(), w.data(), bias_ ? b.data() : nullptr, want.data());
    const ptq::PreparedDepthwiseConv2D dw = ptq::prepare_depthwise_conv2d(p, w.data(), bias_ ? b.data() : nullptr);
    std::vector<int8_t> got(want.size() + 16, int8_t{0x5A});
    for (int run = 0; run < 2; ++run) {  // prepare once, run twice: the scratch is reusable
      ptq::depthwise_conv2d(dw, x.data(), got.data(), isa);
      for (std::size_t i = 0; i < want.size(); ++i) {
        if (got[i] != want[i]) {
          FAIL("mismatch at pixel " << static_cast<int64_t>(i) / out_c << " channel " << static_cast<int64_t>(i) % out_c
                                    << ": got " << int{got[i]} << " want " << int{want[i]} << "; " << describe());
        }
      }
    }
    for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE_MESSAGE(got[i] == 0x5A, "wrote past the output");
    INFO(describe());
    if (want.size() >= 16) {
      const std::set<int8_t> distinct(want.begin(), want.end());
      CHECK_MESSAGE(distinct.size() >= 3, "fewer than 3 distinct outputs: the test would pass vacuously");
      const auto clamped = std::count_if(want.begin(), want.end(), [&](int8_t v) { return v == act_min_ || v == act_max_; });
      CHECK_MESSAGE(clamped < static_cast<long>(want.size()), "all outputs saturated");
      if (expect_saturation_) {
        CHECK(std::count(want.begin(), want.end(), static_cast<int8_t>(act_min_)) > 0);
        CHECK(std::count(want.begin(), want.end(), static_cast<int8_t>(act_max_)) > 0);
      }
    }
  }

  std::string describe() const {
    std::ostringstream s;
    s << "N=" << batches_ << " in=" << in_h_ << "x" << in_w_ << "x" << in_c_ << " dm=" << dm_ << " filter=" << kh_
      << "x" << kw_ << " stride=" << sh_ << "x" << sw_ << " dilation=" << dh_ << "x" << dw_ << " "
      << (padding_ == Padding::kSame ? "SAME" : "VALID") << " x_zp=" << x_zp_ << " y_zp=" << y_zp_ << " act=["
      << act_min_ << "," << act_max_ << "] " << (per_channel_ ? "per-channel" : "per-tensor") << " "
      << ptq::rounding_mode_name(rounding_) << " gain=" << gain_;
    return s.str();
  }

 private:
  int64_t batches_ = 1, in_h_ = 7, in_w_ = 9, in_c_ = 17, dm_ = 1, kh_ = 3, kw_ = 3, sh_ = 1, sw_ = 1, dh_ = 1, dw_ = 1;
  Padding padding_ = Padding::kSame;
  int32_t x_zp_ = -7, y_zp_ = 4, act_min_ = -128, act_max_ = 127;
  bool per_channel_ = true, extreme_ = false, bias_ = true, expect_saturation_ = false;
  RoundingMode rounding_ = RoundingMode::kDouble;
  double gain_ = 1.0;
  uint32_t seed_ = 5;
};

}  // namespace

TEST_CASE("depthwise_conv2d: validate names the culprit") {
  ptq::DepthwiseConv2DParams p;
  p.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 4, 4, 3, 3, 3, 6);
  p.depth_multiplier = 2;
  p.multipliers = {ptq::quantize_multiplier(0.01)};
  std::vector<int8_t> w(3 * 3 * 6, 1);
  CHECK(ptq::validate_depthwise_conv2d(p, w.data()).ok());
  w[(2 * 3 + 1) * 6 + 4] = -128;
  CHECK(ptq::validate_depthwise_conv2d(p, w.data()).message().find("weights[0][2][1][4] = -128") != std::string::npos);
  w[(2 * 3 + 1) * 6 + 4] = 1;
  p.depth_multiplier = 3;
  CHECK(ptq::validate_depthwise_conv2d(p, w.data()).message().find("depth_multiplier") != std::string::npos);
}

TEST_CASE("depthwise_conv2d: every ISA level equals the reference (geometry sweep)") {
  struct Filter { int64_t h, w; };
  const Filter filters[] = {{3, 3}, {1, 1}, {2, 2}, {5, 5}, {3, 2}};
  ptq_test::for_each_isa(kDepthwiseFamily, ptq::depthwise_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (int64_t c : {1, 3, 15, 16, 17, 33})
      for (int64_t dm : {1, 2, 3})
        for (const Filter f : filters)
          for (int64_t s : {1, 2})
            for (Padding pad : {Padding::kSame, Padding::kValid}) {
              const int64_t d = 1 + (seed % 3 == 0);
              if (kSanitized && seed % 2 == 0) { ++seed; continue; }
              DepthwiseTester().input(5 + seed % 4, 6 + seed % 5, c).depth_multiplier(dm).filter(f.h, f.w)
                  .stride(s, s).dilation(d, d).padding(pad).batches(1 + seed % 2).per_channel(seed % 4 != 0)
                  .rounding(seed % 2 ? RoundingMode::kSingle : RoundingMode::kDouble).seed(seed).test(isa);
              ++seed;
            }
    // Wide channel counts (several 16-channel blocks plus tails), mixed strides and dilations.
    for (int64_t c : {31, 32, 48, 63, 100})
      DepthwiseTester().input(6, 7, c).filter(3, 3).stride(2, 1).dilation(1, 2).test(isa);
    // More than 64 taps: the channel tail processes the taps in chunks.
    DepthwiseTester().input(10, 11, 19).filter(9, 9).padding(Padding::kSame).test(isa);
    DepthwiseTester().input(10, 11, 5).depth_multiplier(2).filter(9, 8).padding(Padding::kSame).test(isa);
  });
}

TEST_CASE("depthwise_conv2d: zero points, saturation, clamps and rounding at the extremes") {
  ptq_test::for_each_isa(kDepthwiseFamily, ptq::depthwise_variant, [&](Isa isa) {
    for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      for (bool pc : {true, false}) {
        auto base = [&] { return DepthwiseTester().rounding(r).per_channel(pc).input(7, 6, 35).batches(2); };
        for (int32_t xzp : {-128, 127, 0})
          for (int32_t yzp : {-128, 127, 0}) base().input_zero_point(xzp).output_zero_point(yzp).gain(0.5).test(isa);
        base().gain(8.0).output_zero_point(0).expect_saturation(true).test(isa);
        base().extreme(true).input_zero_point(127).gain(4.0).output_zero_point(0).expect_saturation(true).test(isa);
        base().extreme(true).input_zero_point(-128).depth_multiplier(2).gain(0.7).test(isa);
        base().activation(-3, 127).output_zero_point(-3).gain(1.5).expect_saturation(true).test(isa);
        base().activation(-20, 50).output_zero_point(10).gain(2.0).expect_saturation(true).test(isa);
        base().bias(false).depth_multiplier(3).test(isa);
      }
    }
  });
}

TEST_CASE("depthwise_conv2d: random geometries") {
  std::mt19937 rng(23);
  const int rounds = kSanitized ? 20 : 120;
  ptq_test::for_each_isa(kDepthwiseFamily, ptq::depthwise_variant, [&](Isa isa) {
    for (int i = 0; i < rounds; ++i) {
      // One draw per statement: function arguments are evaluated in an unspecified order (GCC on
      // x86 and on AArch64 differ), and the shapes must be the same on every platform.
      auto draw = [&](uint32_t n) { return static_cast<int64_t>(rng() % n); };
      const int64_t in_h = 1 + draw(12), in_w = 1 + draw(12), in_c = 1 + draw(40);
      const int64_t multiplier = 1 + draw(3);
      const int64_t kh = 1 + draw(5), kw = 1 + draw(5), sh = 1 + draw(2), sw = 1 + draw(3);
      const int64_t dh = 1 + draw(2), dw = 1 + draw(2);
      const Padding padding = draw(2) ? Padding::kSame : Padding::kValid;
      const int64_t batches = 1 + draw(2);
      const auto x_zp = static_cast<int32_t>(draw(256) - 128), y_zp = static_cast<int32_t>(draw(256) - 128);
      const bool per_channel = draw(2) != 0;
      const RoundingMode rounding = draw(2) ? RoundingMode::kSingle : RoundingMode::kDouble;
      const double gain = 0.3 + static_cast<double>(draw(100)) / 50.0;
      const auto seed = static_cast<uint32_t>(rng());
      DepthwiseTester().input(in_h, in_w, in_c).depth_multiplier(multiplier).filter(kh, kw).stride(sh, sw)
          .dilation(dh, dw).padding(padding).batches(batches).input_zero_point(x_zp).output_zero_point(y_zp)
          .per_channel(per_channel).rounding(rounding).gain(gain).seed(seed).test(isa);
    }
  });
}
