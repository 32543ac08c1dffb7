// conv2d through the GEMM (kernels/conv.hpp) against reference::conv2d, bit for bit, on every ISA
// level the CPU runs: odd image sizes, 1x1 (the direct GEMM path) and larger filters (im2col),
// strides 1 and 2, dilations 1 and 2, SAME and VALID, groups, channel counts around the vector
// widths, batches > 1, extreme zero points, saturation, clamps, both rounding modes, im2col
// blocks, caller-owned scratch and a thread splitter.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "support/isa_coverage.hpp"

using ptq::Isa;
using ptq::Padding;
using ptq::RoundingMode;

namespace {

using ptq_test::kSanitized;

// The GEMM's levels: scalar, SSE4.1, AVX2, and whichever AVX-512 / VNNI levels the GEMM engine
// gives their own kernel (conv2d_variant is gemm_variant).
uint32_t conv_family() {
  uint32_t m = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});
  for (Isa i : {Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot})
    if (ptq::conv2d_variant(i) == i) m |= ptq::isa_bit(i);
  return m;
}
const uint32_t kConvFamily = conv_family();

class ConvTester {
 public:
  ConvTester& batches(int64_t v) { batches_ = v; return *this; }
  ConvTester& input(int64_t h, int64_t w, int64_t c) { in_h_ = h; in_w_ = w; in_c_ = c; return *this; }
  ConvTester& output_channels(int64_t v) { out_c_ = v; return *this; }
  ConvTester& filter(int64_t h, int64_t w) { kh_ = h; kw_ = w; return *this; }
  ConvTester& stride(int64_t h, int64_t w) { sh_ = h; sw_ = w; return *this; }
  ConvTester& dilation(int64_t h, int64_t w) { dh_ = h; dw_ = w; return *this; }
  ConvTester& padding(Padding v) { padding_ = v; return *this; }
  ConvTester& groups(int64_t v) { groups_ = v; return *this; }
  ConvTester& input_zero_point(int32_t v) { x_zp_ = v; return *this; }
  ConvTester& output_zero_point(int32_t v) { y_zp_ = v; return *this; }
  ConvTester& per_channel(bool v) { per_channel_ = v; return *this; }
  ConvTester& rounding(RoundingMode v) { rounding_ = v; return *this; }
  ConvTester& activation(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  ConvTester& gain(double v) { gain_ = v; return *this; }
  ConvTester& extreme(bool v) { extreme_ = v; return *this; }
  ConvTester& bias(bool v) { bias_ = v; return *this; }
  ConvTester& seed(uint32_t v) { seed_ = v; return *this; }
  ConvTester& expect_saturation(bool v) { expect_saturation_ = v; return *this; }
  ConvTester& expect_direct(int v) { expect_direct_ = v; return *this; }

  void test(Isa isa, bool caller_scratch = false, const ptq::gemm::ParallelFor* pf = nullptr) const {
    std::mt19937 rng(seed_ + static_cast<uint32_t>(in_h_ * 131 + in_w_ * 17 + in_c_ * 7 + out_c_ + kh_ * 1000));
    ptq::Conv2DParams p;
    p.geometry = ptq::make_conv_geometry(padding_, batches_, in_h_, in_w_, in_c_, kh_, kw_, out_c_, sh_, sw_, dh_, dw_);
    p.groups = groups_;
    p.input_zero_point = x_zp_;
    p.output_zero_point = y_zp_;
    p.rounding = rounding_;
    p.activation_min = act_min_;
    p.activation_max = act_max_;
    const int64_t fic = in_c_ / groups_, k = kh_ * kw_ * fic;
    // |acc| is about sqrt(K) * 74 * 73 for uniform data; multipliers put it at gain * 60 steps.
    const double typical = std::sqrt(static_cast<double>(k)) * (extreme_ ? 127.0 * 200.0 : 74.0 * 73.0);
    std::uniform_real_distribution<double> jitter(0.6, 1.6);
    if (per_channel_) {
      for (int64_t c = 0; c < out_c_; ++c) p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 60.0 * jitter(rng) / typical, rounding_));
    } else {
      p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 60.0 / typical, rounding_));
    }
    std::vector<int8_t> x(static_cast<std::size_t>(p.geometry.input_size()));
    std::vector<int8_t> w(static_cast<std::size_t>(p.filter_size()));
    std::vector<int32_t> b(static_cast<std::size_t>(out_c_));
    for (auto& v : x) v = extreme_ ? ((rng() & 1) ? int8_t{127} : int8_t{-128}) : static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    for (auto& v : w) v = extreme_ ? ((rng() & 1) ? int8_t{127} : int8_t{-127}) : static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    for (auto& v : b) v = static_cast<int32_t>(rng() % 40001) - 20000;
    REQUIRE(ptq::validate_conv2d(p, w.data()).ok());

    std::vector<int8_t> want(static_cast<std::size_t>(p.geometry.output_size()));
    ptq::reference::conv2d(p, x.data(), w.data(), bias_ ? b.data() : nullptr, want.data());

    const ptq::PreparedConv2D conv = ptq::prepare_conv2d(p, w.data(), bias_ ? b.data() : nullptr);
    if (expect_direct_ >= 0) CHECK(conv.direct() == (expect_direct_ == 1));
    std::vector<int8_t> got(want.size() + 16, int8_t{0x5A});
    std::vector<int8_t> scratch(conv.scratch_bytes() + 1);
    ptq::ConvOptions o;
    o.isa = isa;
    o.scratch = caller_scratch ? scratch.data() : nullptr;
    o.parallel_for = pf;
    ptq::conv2d(conv, x.data(), got.data(), o);
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (got[i] != want[i]) {
        const int64_t oc = static_cast<int64_t>(i) % out_c_, pix = static_cast<int64_t>(i) / out_c_;
        FAIL("mismatch at pixel " << pix << " channel " << oc << ": got " << int{got[i]} << " want "
                                  << int{want[i]} << "; " << describe());
      }
    }
    for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE_MESSAGE(got[i] == 0x5A, "wrote past the output");
    check_not_vacuous(want);
  }

  std::string describe() const {
    std::ostringstream s;
    s << "N=" << batches_ << " in=" << in_h_ << "x" << in_w_ << "x" << in_c_ << " out_c=" << out_c_ << " filter="
      << kh_ << "x" << kw_ << " stride=" << sh_ << "x" << sw_ << " dilation=" << dh_ << "x" << dw_ << " "
      << (padding_ == Padding::kSame ? "SAME" : "VALID") << " groups=" << groups_ << " x_zp=" << x_zp_
      << " y_zp=" << y_zp_ << " act=[" << act_min_ << "," << act_max_ << "] "
      << (per_channel_ ? "per-channel" : "per-tensor") << " " << ptq::rounding_mode_name(rounding_) << " gain=" << gain_;
    return s.str();
  }

 private:
  void check_not_vacuous(const std::vector<int8_t>& want) const {
    INFO(describe());
    if (want.size() < 16) return;
    const std::set<int8_t> distinct(want.begin(), want.end());
    CHECK_MESSAGE(distinct.size() >= 3, "fewer than 3 distinct outputs: the test would pass vacuously");
    const auto clamped = std::count_if(want.begin(), want.end(), [&](int8_t v) { return v == act_min_ || v == act_max_; });
    CHECK_MESSAGE(clamped < static_cast<long>(want.size()), "all outputs saturated");
    if (expect_saturation_) {
      CHECK(std::count(want.begin(), want.end(), static_cast<int8_t>(act_min_)) > 0);
      CHECK(std::count(want.begin(), want.end(), static_cast<int8_t>(act_max_)) > 0);
    }
  }

  int64_t batches_ = 1, in_h_ = 7, in_w_ = 9, in_c_ = 5, out_c_ = 7, kh_ = 3, kw_ = 3, sh_ = 1, sw_ = 1, dh_ = 1, dw_ = 1;
  int64_t groups_ = 1;
  Padding padding_ = Padding::kSame;
  int32_t x_zp_ = 5, y_zp_ = -3, act_min_ = -128, act_max_ = 127;
  bool per_channel_ = true, extreme_ = false, bias_ = true, expect_saturation_ = false;
  int expect_direct_ = -1;
  RoundingMode rounding_ = RoundingMode::kDouble;
  double gain_ = 1.0;
  uint32_t seed_ = 99;
};

}  // namespace

TEST_CASE("conv2d: validate names the culprit") {
  ptq::Conv2DParams p;
  p.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 4, 4, 2, 3, 3, 2);
  p.multipliers = {ptq::quantize_multiplier(0.01)};
  std::vector<int8_t> w(2 * 3 * 3 * 2, 1);
  CHECK(ptq::validate_conv2d(p, w.data()).ok());
  w[1 * 18 + 2 * 6 + 1 * 2 + 1] = -128;  // [1][2][1][1]
  const ptq::Status s = ptq::validate_conv2d(p, w.data());
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("weights[1][2][1][1] = -128") != std::string::npos);
  w[1 * 18 + 2 * 6 + 1 * 2 + 1] = 0;
  p.groups = 3;
  CHECK(ptq::validate_conv2d(p, w.data()).message().find("groups = 3") != std::string::npos);
  p.groups = 1;
  p.input_zero_point = 200;
  CHECK(ptq::validate_conv2d(p, w.data()).message().find("input_zero_point") != std::string::npos);
}

TEST_CASE("conv2d: every ISA level equals the reference (geometry sweep)") {
  struct Filter { int64_t h, w; };
  const Filter filters[] = {{1, 1}, {3, 3}, {2, 3}, {5, 5}};
  ptq_test::for_each_isa(kConvFamily, ptq::conv2d_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (const Filter f : filters)
      for (int64_t s : {1, 2})
        for (int64_t d : {1, 2})
          for (Padding pad : {Padding::kSame, Padding::kValid})
            for (int64_t g : {1, 3}) {
              if (kSanitized && (d == 2 || f.h == 5) && g == 3) continue;
              const int64_t in_c = g == 1 ? 3 + seed % 15 : 3 * (1 + seed % 6);
              ConvTester().input(7 + seed % 3, 9 + seed % 4, in_c).output_channels(g * (1 + seed % 17))
                  .filter(f.h, f.w).stride(s, s).dilation(d, d).padding(pad).groups(g).batches(1 + seed % 2)
                  .per_channel(seed % 3 != 0).rounding(seed % 2 ? RoundingMode::kSingle : RoundingMode::kDouble)
                  .seed(seed).test(isa);
              ++seed;
            }
    // Mixed strides and dilations, channel counts at the vector widths.
    for (int64_t c : {1, 3, 15, 16, 17, 33}) {
      ConvTester().input(6, 11, c).output_channels(c + 2).filter(3, 2).stride(2, 1).dilation(1, 2).test(isa);
      ConvTester().input(5, 5, c).output_channels(33 - c % 7).filter(1, 1).padding(Padding::kValid).expect_direct(1).test(isa);
    }
  });
}

TEST_CASE("conv2d: 1x1 is the GEMM itself, with groups and batches") {
  ptq_test::for_each_isa(kConvFamily, ptq::conv2d_variant, [&](Isa isa) {
    ConvTester().input(9, 7, 32).output_channels(17).filter(1, 1).batches(3).expect_direct(1).test(isa);
    ConvTester().input(9, 7, 32).output_channels(34).filter(1, 1).groups(2).expect_direct(1).test(isa);
    ConvTester().input(4, 5, 12).output_channels(8).filter(1, 1).groups(4).per_channel(false).expect_direct(1).test(isa);
    // 1x1 with stride 2 gathers (not direct).
    ConvTester().input(9, 7, 16).output_channels(16).filter(1, 1).stride(2, 2).expect_direct(0).test(isa);
  });
}

TEST_CASE("conv2d: zero points, saturation, clamps and rounding at the extremes") {
  ptq_test::for_each_isa(kConvFamily, ptq::conv2d_variant, [&](Isa isa) {
    for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      for (bool pc : {true, false}) {
        auto base = [&] { return ConvTester().rounding(r).per_channel(pc).input(6, 7, 9).output_channels(19).batches(2); };
        for (int32_t xzp : {-128, 127, 0})
          for (int32_t yzp : {-128, 127, 0}) base().input_zero_point(xzp).output_zero_point(yzp).gain(0.5).test(isa);
        base().gain(8.0).output_zero_point(0).expect_saturation(true).test(isa);
        base().extreme(true).input_zero_point(127).gain(4.0).output_zero_point(0).expect_saturation(true).test(isa);
        base().extreme(true).input_zero_point(-128).padding(Padding::kValid).gain(0.7).test(isa);
        base().activation(-3, 127).output_zero_point(-3).gain(1.5).expect_saturation(true).test(isa);
        base().activation(-20, 50).output_zero_point(10).gain(2.0).expect_saturation(true).test(isa);
        base().bias(false).test(isa);
      }
    }
  });
}

TEST_CASE("conv2d: im2col in several blocks, caller scratch, threads") {
  const ptq::gemm::ParallelFor pool = [](int64_t count, const ptq::gemm::PanelTask& task) {
    std::vector<std::thread> threads;
    const int64_t half = count / 2;
    threads.emplace_back([&] { task(0, half); });
    threads.emplace_back([&] { task(half, count); });
    for (auto& t : threads) t.join();
  };
  ptq_test::for_each_isa(kConvFamily, ptq::conv2d_variant, [&](Isa isa) {
    // K = 3 * 3 * 512 = 4608: 56-row blocks over 10 * 10 pixels.
    ConvTester().input(10, 10, 512).output_channels(kSanitized ? 5 : 20).filter(3, 3).test(isa);
    ConvTester().input(10, 10, 512).output_channels(9).filter(3, 3).batches(2).test(isa, true);
    ConvTester().input(11, 13, 24).output_channels(40).filter(3, 3).stride(2, 2).groups(2).test(isa, true, &pool);
  });
}

TEST_CASE("conv2d: random geometries") {
  std::mt19937 rng(11);
  const int rounds = kSanitized ? 15 : 80;
  ptq_test::for_each_isa(kConvFamily, ptq::conv2d_variant, [&](Isa isa) {
    for (int i = 0; i < rounds; ++i) {
      // One draw per statement: the order in which function arguments are evaluated is unspecified
      // (GCC on x86 and on AArch64 differ), and the shapes must be the same on every platform.
      auto draw = [&](uint32_t n) { return static_cast<int64_t>(rng() % n); };
      const int64_t g = 1 + draw(3);
      const int64_t in_h = 1 + draw(12), in_w = 1 + draw(12), in_c = g * (1 + draw(20));
      const int64_t out_c = g * (1 + draw(20));
      const int64_t kh = 1 + draw(4), kw = 1 + draw(4), sh = 1 + draw(2), sw = 1 + draw(3);
      const int64_t dh = 1 + draw(2), dw = 1 + draw(2);
      const Padding padding = draw(2) ? Padding::kSame : Padding::kValid;
      const int64_t batches = 1 + draw(2);
      // Output zero points stay central here (extreme ones have their own test): a small output
      // near one end of the range would be all saturated and prove nothing.
      const auto x_zp = static_cast<int32_t>(draw(256) - 128), y_zp = static_cast<int32_t>(draw(129) - 64);
      const bool per_channel = draw(2) != 0;
      const RoundingMode rounding = draw(2) ? RoundingMode::kSingle : RoundingMode::kDouble;
      const double gain = 0.3 + static_cast<double>(draw(100)) / 50.0;
      const auto seed = static_cast<uint32_t>(rng());
      ConvTester().input(in_h, in_w, in_c).output_channels(out_c).groups(g).filter(kh, kw).stride(sh, sw)
          .dilation(dh, dw).padding(padding).batches(batches).input_zero_point(x_zp).output_zero_point(y_zp)
          .per_channel(per_channel).rounding(rounding).gain(gain).seed(seed).test(isa);
    }
  });
}
