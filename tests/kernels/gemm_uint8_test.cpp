// The uint8 legacy GEMM path (kernels/gemm/uint8.hpp) against reference::fully_connected<uint8_t>
// and fully_connected_accumulators<uint8_t>, bit for bit, on every ISA level the CPU runs and every
// kernel that may run each case: the three choices of the weights offset c (c = w_zp; c != w_zp
// with a row term; full-range weights on the kernels exact for -128), zero points 0, 128, 255 and
// in between, saturation, activation clamps, K below/at/above the group and the K-block, partial
// tiles, odd strides, per tensor and per channel, both rounding modes, 1..3 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/kernels/gemm/uint8.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/kernels/thread_pool.hpp"
#include "support/isa_coverage.hpp"

using ptq::Isa;
using ptq::RoundingMode;
namespace gemm = ptq::gemm;

namespace {

using ptq_test::kSanitized;

enum class Weights {
  kAroundZeroPoint,  // w in [w_zp - 127, w_zp + 127] & [0, 255]: c = w_zp, no row term
  kShifted,          // a range of 200 away from w_zp: c != w_zp, a row term
  kFullRange,        // w in [0, 255] with 0 and 255 present: -128 in w', exact kernels only
  kExtreme,          // w in {0, 255}, x in {0, 255}: the largest accumulators
};

class U8Tester {
 public:
  U8Tester& m(int64_t v) { m_ = v; return *this; }
  U8Tester& k(int64_t v) { k_ = v; return *this; }
  U8Tester& n(int64_t v) { n_ = v; return *this; }
  U8Tester& strides(int64_t in_pad, int64_t out_pad) { in_pad_ = in_pad; out_pad_ = out_pad; return *this; }
  U8Tester& zero_points(int32_t x, int32_t w, int32_t y) { x_zp_ = x; w_zp_ = w; y_zp_ = y; return *this; }
  U8Tester& activation(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  U8Tester& per_channel(bool v) { per_channel_ = v; return *this; }
  U8Tester& rounding(RoundingMode v) { rounding_ = v; return *this; }
  U8Tester& gain(double v) { gain_ = v; return *this; }
  U8Tester& weights(Weights v) { weights_ = v; return *this; }
  U8Tester& seed(uint32_t v) { seed_ = v; return *this; }
  U8Tester& expect_saturation(bool v) { expect_saturation_ = v; return *this; }

  // kernel == nullptr: pack for `isa` and let the front end pick.
  void test(const gemm::Microkernel* kernel, Isa isa, const gemm::ParallelFor* pf = nullptr) const {
    std::mt19937 rng(seed_ ^ static_cast<uint32_t>(m_ * 7919 + k_ * 104729 + n_ * 31));
    ptq::FullyConnectedParams p;
    p.batches = m_;
    p.input_depth = k_;
    p.output_depth = n_;
    p.input_zero_point = x_zp_;
    p.weights_zero_point = per_channel_ ? 0 : w_zp_;
    p.output_zero_point = y_zp_;
    p.activation_min = act_min_;
    p.activation_max = act_max_;
    p.rounding = rounding_;
    std::vector<uint8_t> x(static_cast<std::size_t>(m_ * k_)), w(static_cast<std::size_t>(n_ * k_));
    std::vector<int32_t> bias(static_cast<std::size_t>(n_));
    fill(rng, p.weights_zero_point, x, w, bias);

    ptq::FullyConnectedParams pa = p;
    pa.multipliers = {ptq::QuantizedMultiplier{1 << 30, 1}};
    std::vector<int32_t> acc(static_cast<std::size_t>(m_ * n_));
    if (weights_ != Weights::kExtreme) {
      // Asymmetric uint8 data gives every accumulator of a column the same large offset,
      // K * mean(w - w_zp) * mean(x - x_zp); a trained layer's bias and scales absorb it. Here the
      // bias cancels the column mean, so that the outputs spread over the range instead of all
      // saturating (the extreme-value tests keep their offsets: they test int32 accumulation).
      ptq::reference::fully_connected_accumulators(pa, x.data(), w.data(), nullptr, acc.data());
      // Per column with several rows; over the row with one.
      double row_mean = 0;
      for (int64_t c = 0; c < n_; ++c) row_mean += acc[c];
      row_mean /= static_cast<double>(std::max<int64_t>(1, n_));
      for (int64_t c = 0; c < n_; ++c) {
        double mean = 0;
        for (int64_t b = 0; b < m_; ++b) mean += acc[b * n_ + c];
        bias[c] -= static_cast<int32_t>(std::llround(m_ > 1 ? mean / static_cast<double>(m_) : row_mean));
      }
    }
    ptq::reference::fully_connected_accumulators(pa, x.data(), w.data(), bias.data(), acc.data());
    std::vector<double> col_max(static_cast<std::size_t>(n_), 1.0);
    for (int64_t b = 0; b < m_; ++b)
      for (int64_t c = 0; c < n_; ++c) col_max[c] = std::max(col_max[c], std::abs(static_cast<double>(acc[b * n_ + c])));
    const double layer_max = *std::max_element(col_max.begin(), col_max.end());
    std::uniform_real_distribution<double> jitter(0.6, 1.7);
    if (per_channel_) {
      for (int64_t c = 0; c < n_; ++c)
        p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 100.0 * jitter(rng) / col_max[c], rounding_));
    } else {
      p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 100.0 / layer_max, rounding_));
    }
    REQUIRE(gemm::validate_u8(p, w.data()).ok());
    std::vector<uint8_t> want(static_cast<std::size_t>(m_ * n_));
    ptq::reference::fully_connected(p, x.data(), w.data(), bias.data(), want.data());

    const gemm::PackedWeightsU8 packed = kernel != nullptr
                                             ? gemm::pack_weights_u8(p, w.data(), bias.data(), kernel->layout)
                                             : gemm::pack_weights_u8(p, w.data(), bias.data(), isa);
    // The case the weights were meant to exercise is the one packing chose.
    if (n_ * k_ >= 2) {
      switch (weights_) {
        case Weights::kAroundZeroPoint: CHECK(packed.row_coefficient() == 0); CHECK_FALSE(packed.full_range()); break;
        case Weights::kShifted: CHECK(packed.row_coefficient() != 0); CHECK_FALSE(packed.full_range()); break;
        case Weights::kFullRange: CHECK(packed.full_range()); break;
        case Weights::kExtreme: CHECK(packed.full_range()); break;
      }
    }
    const gemm::Microkernel* ran = kernel != nullptr ? kernel : gemm::microkernel_for(packed, isa);
    REQUIRE(ran != nullptr);
    if (packed.full_range()) REQUIRE(ran->exact_weight_min);

    const int64_t in_stride = k_ + in_pad_, out_stride = n_ + out_pad_;
    std::vector<uint8_t> xs(static_cast<std::size_t>(std::max<int64_t>(1, m_ * in_stride)), uint8_t{0xA5});
    for (int64_t b = 0; b < m_; ++b) std::copy_n(&x[b * k_], k_, &xs[b * in_stride]);
    constexpr uint8_t kSentinel = 0x5A;
    std::vector<uint8_t> got(static_cast<std::size_t>(std::max<int64_t>(1, m_ * out_stride)), kSentinel);
    std::vector<int32_t> got_acc(static_cast<std::size_t>(std::max<int64_t>(1, m_ * out_stride)), 0x5A5A5A5A);
    gemm::GemmOptions o;
    o.isa = isa;
    o.kernel = kernel;
    o.input_stride = in_stride;
    o.output_stride = out_stride;
    o.parallel_for = pf;
    gemm::fully_connected(packed, xs.data(), m_, got.data(), o);
    gemm::fully_connected_accumulators(packed, xs.data(), m_, got_acc.data(), o);
    for (int64_t b = 0; b < m_; ++b) {
      for (int64_t c = 0; c < out_stride; ++c) {
        const uint8_t g = got[b * out_stride + c];
        if (c >= n_) {
          if (g != kSentinel) FAIL_CHECK("wrote the output's stride gap at row " << b << " col " << c);
          continue;
        }
        const uint8_t wv = want[b * n_ + c];
        const int32_t a = acc[b * n_ + c], ga = got_acc[b * out_stride + c];
        if (g != wv || ga != a) {
          FAIL("mismatch at (row " << b << ", col " << c << "): got " << int{g} << " want " << int{wv} << ", acc got "
                                   << ga << " want " << a << "; M=" << m_ << " N=" << n_ << " K=" << k_ << " kernel "
                                   << std::string(ran->name) << " c=" << packed.weights_offset() << " "
                                   << describe());
        }
      }
    }
    if (want.size() >= 16) {
      const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
      INFO(describe() << " M=" << m_ << " N=" << n_ << " K=" << k_);
      CHECK_MESSAGE(*lo != *hi, "all outputs equal: the test would pass vacuously");
      if (expect_saturation_) {
        CHECK(std::count(want.begin(), want.end(), static_cast<uint8_t>(act_min_)) > 0);
        CHECK(std::count(want.begin(), want.end(), static_cast<uint8_t>(act_max_)) > 0);
      }
    }
  }

  std::string describe() const {
    std::ostringstream s;
    s << "x_zp=" << x_zp_ << " w_zp=" << w_zp_ << " y_zp=" << y_zp_ << " act=[" << act_min_ << "," << act_max_
      << "] weights=" << static_cast<int>(weights_) << (per_channel_ ? " per-channel" : " per-tensor")
      << " rounding=" << ptq::rounding_mode_name(rounding_) << " gain=" << gain_ << " strides+" << in_pad_ << "/"
      << out_pad_;
    return s.str();
  }

 private:
  void fill(std::mt19937& rng, int32_t w_zp, std::vector<uint8_t>& x, std::vector<uint8_t>& w,
            std::vector<int32_t>& bias) const {
    auto pick = [&](int lo, int hi) { return static_cast<uint8_t>(lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1))); };
    for (auto& v : x) v = weights_ == Weights::kExtreme ? ((rng() & 1) ? 255 : 0) : pick(0, 255);
    switch (weights_) {
      case Weights::kAroundZeroPoint:
        for (auto& v : w) v = pick(std::max(0, w_zp - 127), std::min(255, w_zp + 127));
        break;
      case Weights::kShifted: {
        // 200 values on the side of [0, 255] away from w_zp, so w_zp is out of [hi - 127, lo + 127].
        const int lo = w_zp >= 128 ? 0 : 55;
        for (auto& v : w) v = pick(lo, lo + 200);
        if (!w.empty()) { w[0] = static_cast<uint8_t>(lo); w[w.size() - 1] = static_cast<uint8_t>(lo + 200); }
        break;
      }
      case Weights::kFullRange:
        for (auto& v : w) v = pick(0, 255);
        if (!w.empty()) { w[0] = 0; w[w.size() - 1] = 255; }
        break;
      case Weights::kExtreme:
        for (auto& v : w) v = (rng() & 1) ? 255 : 0;
        if (!w.empty()) { w[0] = 0; w[w.size() - 1] = 255; }
        break;
    }
    std::uniform_int_distribution<int32_t> bd(-100000, 100000);
    for (auto& v : bias) v = bd(rng);
  }

  int64_t m_ = 1, k_ = 1, n_ = 1, in_pad_ = 0, out_pad_ = 0;
  int32_t x_zp_ = 128, w_zp_ = 128, y_zp_ = 128, act_min_ = 0, act_max_ = 255;
  bool per_channel_ = false, expect_saturation_ = false;
  RoundingMode rounding_ = RoundingMode::kDouble;
  double gain_ = 1.0;
  Weights weights_ = Weights::kFullRange;
  uint32_t seed_ = 777;
};

const uint32_t kGemmFamily = ptq_test::isa_mask(
    {Isa::kScalar, Isa::kSse41, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon,
     Isa::kNeonDot});

const Weights kAllWeights[] = {Weights::kAroundZeroPoint, Weights::kShifted, Weights::kFullRange};

}  // namespace

TEST_CASE("gemm uint8: validate and the choice of the weights offset") {
  ptq::FullyConnectedParams p;
  p.input_depth = 2;
  p.output_depth = 2;
  p.multipliers = {ptq::quantize_multiplier(0.01)};
  p.activation_min = 0;
  p.activation_max = 255;
  p.weights_zero_point = 100;
  const uint8_t around[] = {0, 227, 50, 150};  // w - 100 in [-100, 127]: c = w_zp
  CHECK(gemm::validate_u8(p, around).ok());
  CHECK(gemm::pack_weights_u8(p, around, nullptr).weights_offset() == 100);
  const uint8_t shifted[] = {200, 255, 201, 230};  // [200, 255] with w_zp 100: c = 255 - 127 = 128
  CHECK(gemm::pack_weights_u8(p, shifted, nullptr).weights_offset() == 128);
  CHECK(gemm::pack_weights_u8(p, shifted, nullptr).row_coefficient() == 28);
  const uint8_t full[] = {0, 255, 3, 4};
  const gemm::PackedWeightsU8 pf = gemm::pack_weights_u8(p, full, nullptr);
  CHECK(pf.full_range());
  CHECK(pf.weights_offset() == 128);
  CHECK(gemm::microkernel_for(pf)->exact_weight_min);
  p.output_zero_point = 256;
  CHECK(gemm::validate_u8(p, full).message().find("output_zero_point") != std::string::npos);
  p.output_zero_point = 0;
  p.activation_min = -1;
  CHECK_FALSE(gemm::validate_u8(p, full).ok());
  p.activation_min = 0;
  p.multipliers = {ptq::quantize_multiplier(0.01), ptq::quantize_multiplier(0.02)};
  CHECK(gemm::validate_u8(p, full).message().find("weights_zero_point") != std::string::npos);
}

TEST_CASE("gemm uint8: every ISA level, every weights case, shapes and strides") {
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [](Isa isa) {
    for (Weights wc : kAllWeights) {
      for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
        auto base = [&] { return U8Tester().weights(wc).rounding(r); };
        for (int64_t k : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 67, 255}) base().m(5).n(19).k(k).test(nullptr, isa);
        if (!kSanitized)
          for (int64_t k : {1023, 1024, 1025, 2047, 2049, 4099}) base().m(7).n(17).k(k).test(nullptr, isa);
        for (int64_t m = 1; m <= 8; ++m)
          for (int64_t n : {1, 7, 8, 9, 16, 17, 33, 64, 65})
            base().m(m).n(n).k(3 + (m * n) % 29).strides(n % 3, m % 2).test(nullptr, isa);
        for (int64_t m : {63, 64, 65, 131}) base().m(m).n(21).k(19).test(nullptr, isa);
        // M-blocks shortened to what fits the 16 KiB activation buffer (16 rows at K = 1000,
        // MR rows at K = 3000), and past it (per-tile conversion).
        base().m(37).n(19).k(1000).strides(3, 1).test(nullptr, isa);
        if (!kSanitized) base().m(23).n(18).k(3000).test(nullptr, isa);
        base().m(11).n(5).k(5000).test(nullptr, isa);
        base().m(9).n(23).k(40).per_channel(true).test(nullptr, isa);
      }
    }
  });
}

TEST_CASE("gemm uint8: zero points 0, 128, 255, saturation and clamps") {
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [](Isa isa) {
    for (Weights wc : kAllWeights) {
      for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
        auto base = [&] { return U8Tester().weights(wc).rounding(r).m(5).n(37).k(29); };
        for (int32_t xzp : {0, 1, 128, 254, 255})
          for (int32_t wzp : {0, 127, 128, 255})
            for (int32_t yzp : {0, 128, 255}) base().zero_points(xzp, wzp, yzp).gain(0.5).test(nullptr, isa);
        base().zero_points(128, 128, 128).gain(6.0).expect_saturation(true).test(nullptr, isa);
        base().zero_points(0, 255, 10).gain(3.0).test(nullptr, isa);
        // relu (y_zp..255), relu6-like, narrow.
        base().zero_points(100, 130, 140).activation(20, 255).gain(2.5).expect_saturation(true).test(nullptr, isa);
        base().zero_points(100, 130, 60).activation(60, 180).gain(1.5).expect_saturation(true).test(nullptr, isa);
        base().zero_points(3, 250, 127).activation(126, 128).gain(0.5).test(nullptr, isa);
      }
    }
  });
}

TEST_CASE("gemm uint8: extreme values and large K (int32 accumulation)") {
  // x, w in {0, 255} with zero points at the far end: |(w - w_zp)(x - x_zp)| up to 255 * 255.
  const std::vector<int64_t> ks = kSanitized ? std::vector<int64_t>{4096, 30000} : std::vector<int64_t>{4093, 16385, 33000};
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [&](Isa isa) {
    for (int64_t k : ks) {
      U8Tester().weights(Weights::kExtreme).m(3).n(9).k(k).zero_points(0, 255, 128).test(nullptr, isa);
      U8Tester().weights(Weights::kExtreme).m(2).n(5).k(k).zero_points(255, 0, 255).gain(1.2).rounding(RoundingMode::kSingle).test(nullptr, isa);
      U8Tester().weights(Weights::kShifted).m(2).n(5).k(k).zero_points(255, 255, 255).test(nullptr, isa);
    }
  });
}

TEST_CASE("gemm uint8: every microkernel variant that may run each case") {
  std::size_t count = 0;
  const gemm::Microkernel* const* all = gemm::microkernels(&count);
  int exact_ran = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const gemm::Microkernel* uk = all[i];
    if (!ptq::isa_runnable(uk->isa)) continue;
    CAPTURE(std::string(uk->name));
    for (Weights wc : kAllWeights) {
      if (wc == Weights::kFullRange && !uk->exact_weight_min) continue;
      exact_ran += wc == Weights::kFullRange;
      for (int64_t m = 1; m <= uk->mr + 1; ++m)
        for (int64_t n : {int64_t{1}, int64_t{uk->layout.nr - 1}, int64_t{uk->layout.nr + 3}})
          for (int64_t k : {int64_t{1}, int64_t{uk->layout.kr}, int64_t{2 * uk->layout.kr + 3}, int64_t{300}})
            if (n >= 1) U8Tester().weights(wc).m(m).n(n).k(k).zero_points(17, 201, 90).strides(1, 2).test(uk, uk->isa);
    }
  }
  CHECK(exact_ran >= 1);  // at least the scalar kernels (and AVX2 vpmaddwd, VNNI where runnable)
}

TEST_CASE("gemm uint8: random shapes and thread counts") {
  std::mt19937 rng(99);
  ptq::ThreadPool pools[] = {ptq::ThreadPool(2), ptq::ThreadPool(3)};
  const int rounds = kSanitized ? 8 : 40;
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [&](Isa isa) {
    for (int i = 0; i < rounds; ++i) {
      const gemm::ParallelFor* pf = i % 3 == 0 ? nullptr : pools[i % 2].parallel_for();
      U8Tester()
          .m(1 + rng() % 70).n(1 + rng() % 90).k(1 + rng() % 300)
          .strides(rng() % 5, rng() % 3)
          .zero_points(static_cast<int32_t>(rng() % 256), static_cast<int32_t>(rng() % 256), static_cast<int32_t>(rng() % 256))
          .weights(kAllWeights[rng() % 3])
          .rounding((rng() & 1) ? RoundingMode::kSingle : RoundingMode::kDouble)
          .gain(0.3 + (rng() % 100) / 50.0).seed(rng())
          .test(nullptr, isa, pf);
    }
  });
}
