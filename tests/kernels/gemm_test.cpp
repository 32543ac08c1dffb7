// The int8 GEMM (kernels/gemm/) against reference::fully_connected, bit for bit, on every ISA
// level the CPU runs and every registered microkernel: K below, at and above the kernel's group
// and the K-block, large K with extreme values (int32 accumulation), every partial M and N tile,
// odd row strides, extreme zero points, saturation both ways, activation clamps, per tensor and
// per channel, both rounding modes; and results that do not depend on the thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "support/isa_coverage.hpp"

using ptq::Isa;
using ptq::RoundingMode;
namespace gemm = ptq::gemm;

namespace {

using ptq_test::kSanitized;

const uint32_t kGemmFamily = ptq_test::isa_mask(
    {Isa::kScalar, Isa::kSse41, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon,
     Isa::kNeonDot});

enum class Values {
  kUniform,  // x in [-128, 127], w in [-127, 127]
  kSmall,    // x, w in [-4, 4]: tiny accumulators, so multipliers > 1 (positive shifts)
  kExtreme,  // x in {-128, 127}, w in {-127, 127}, half the rows aligned in sign with the weights
};

// XNNPACK's GemmMicrokernelTester, for the whole GEMM: set the shape and the numbers, then
// test(kernel) runs it against the reference and reports the first mismatch in full.
class GemmTester {
 public:
  GemmTester& m(int64_t v) { m_ = v; return *this; }
  GemmTester& k(int64_t v) { k_ = v; return *this; }
  GemmTester& n(int64_t v) { n_ = v; return *this; }
  GemmTester& input_stride_pad(int64_t v) { in_pad_ = v; return *this; }
  GemmTester& output_stride_pad(int64_t v) { out_pad_ = v; return *this; }
  // GemmOptions::padded_rows: rows at least round_up(K, kr) apart, the bytes past K filled with
  // -128 and 127 (which the kernels must multiply by the packing's zero padding, not use).
  GemmTester& padded_rows(bool v) { padded_rows_ = v; return *this; }
  GemmTester& input_zero_point(int32_t v) { x_zp_ = v; return *this; }
  GemmTester& output_zero_point(int32_t v) { y_zp_ = v; return *this; }
  GemmTester& per_channel(bool v) { per_channel_ = v; return *this; }
  GemmTester& rounding(RoundingMode v) { rounding_ = v; return *this; }
  GemmTester& activation(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  // Multipliers map the largest |acc| of a column (or of the layer) to `gain` * 100 output steps;
  // gain > 1.27 saturates both ways.
  GemmTester& gain(double v) { gain_ = v; return *this; }
  GemmTester& values(Values v) { values_ = v; return *this; }
  GemmTester& bias(bool v) { bias_ = v; return *this; }
  GemmTester& seed(uint32_t v) { seed_ = v; return *this; }
  GemmTester& expect_saturation(bool v) { expect_saturation_ = v; return *this; }

  // Runs `kernel` (nullptr: whatever the front end picks for `isa`, on the level's preferred
  // layout) and checks every output.
  void test(const gemm::Microkernel* kernel, Isa isa, const gemm::ParallelFor* pf = nullptr) const {
    std::mt19937 rng(seed_ ^ static_cast<uint32_t>(m_ * 7919 + k_ * 104729 + n_ * 31));
    ptq::FullyConnectedParams p;
    p.batches = m_;
    p.input_depth = k_;
    p.output_depth = n_;
    p.input_zero_point = x_zp_;
    p.output_zero_point = y_zp_;
    p.rounding = rounding_;
    p.activation_min = act_min_;
    p.activation_max = act_max_;

    std::vector<int8_t> x(static_cast<std::size_t>(m_ * k_)), w(static_cast<std::size_t>(n_ * k_));
    std::vector<int32_t> bias(static_cast<std::size_t>(n_));
    fill(rng, x, w, bias);

    // Multipliers from the accumulators themselves, so the outputs span the int8 range.
    ptq::FullyConnectedParams pa = p;
    pa.multipliers = {ptq::QuantizedMultiplier{1 << 30, 1}};
    std::vector<int32_t> acc(static_cast<std::size_t>(m_ * n_));
    ptq::reference::fully_connected_accumulators(pa, x.data(), w.data(), bias_ ? bias.data() : nullptr,
                                                 acc.data());
    std::vector<double> col_max(static_cast<std::size_t>(n_), 1.0);
    for (int64_t b = 0; b < m_; ++b)
      for (int64_t c = 0; c < n_; ++c)
        col_max[c] = std::max(col_max[c], std::abs(static_cast<double>(acc[b * n_ + c])));
    const double layer_max = *std::max_element(col_max.begin(), col_max.end());
    std::uniform_real_distribution<double> jitter(0.6, 1.7);
    if (per_channel_) {
      for (int64_t c = 0; c < n_; ++c)
        p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 100.0 * jitter(rng) / col_max[c], rounding_));
    } else {
      p.multipliers.push_back(ptq::quantize_multiplier(gain_ * 100.0 / layer_max, rounding_));
    }
    REQUIRE(gemm::validate(p, w.data()).ok());

    std::vector<int8_t> want(static_cast<std::size_t>(m_ * n_));
    ptq::reference::fully_connected(p, x.data(), w.data(), bias_ ? bias.data() : nullptr, want.data());

    const gemm::PackedWeights packed =
        kernel != nullptr ? gemm::pack_weights(p, w.data(), bias_ ? bias.data() : nullptr, *kernel)
                          : gemm::pack_weights(p, w.data(), bias_ ? bias.data() : nullptr,
                                               gemm::preferred_layout(isa));

    // Strided copies, with sentinels in the gaps: the kernel must neither read them into the
    // result nor write the output's gaps. Padded rows: the gap is readable and holds extremes.
    const int64_t kr = packed.layout().kr;
    const int64_t row = padded_rows_ ? (k_ + kr - 1) / kr * kr : k_;
    const int64_t in_stride = row + in_pad_, out_stride = n_ + out_pad_;
    std::vector<int8_t> xs(static_cast<std::size_t>(std::max<int64_t>(1, m_ * in_stride)), int8_t{0x55});
    for (int64_t b = 0; b < m_; ++b) {
      std::copy_n(&x[b * k_], k_, &xs[b * in_stride]);
      for (int64_t i = k_; i < row; ++i) xs[b * in_stride + i] = static_cast<int8_t>((b + i) % 2 != 0 ? -128 : 127);
    }
    constexpr int8_t kSentinel = 0x5A;
    std::vector<int8_t> got(static_cast<std::size_t>(std::max<int64_t>(1, m_ * out_stride)), kSentinel);
    std::vector<int32_t> got_acc(static_cast<std::size_t>(std::max<int64_t>(1, m_ * out_stride)), 0x5A5A5A5A);
    gemm::GemmOptions o;
    o.isa = isa;
    o.kernel = kernel;
    o.input_stride = in_stride;
    o.output_stride = out_stride;
    o.parallel_for = pf;
    o.padded_rows = padded_rows_;
    gemm::fully_connected(packed, xs.data(), m_, got.data(), o);
    gemm::fully_connected_accumulators(packed, xs.data(), m_, got_acc.data(), o);

    const gemm::Microkernel* ran = kernel != nullptr ? kernel : gemm::microkernel_for(packed.layout(), isa);
    REQUIRE(ran != nullptr);
    for (int64_t b = 0; b < m_; ++b) {
      for (int64_t c = 0; c < out_stride; ++c) {
        const int8_t g = got[b * out_stride + c];
        if (c >= n_) {
          if (g != kSentinel) FAIL_CHECK("wrote the output's stride gap at row " << b << " col " << c);
          continue;
        }
        const int8_t want_v = want[b * n_ + c];
        const int32_t a = acc[b * n_ + c], ga = got_acc[b * out_stride + c];
        if (g != want_v || ga != a) {
          FAIL("mismatch at (row " << b << ", col " << c << "): got " << int{g} << " want "
                                   << int{want_v} << ", acc got " << ga << " want " << a << "; M=" << m_
                                   << " N=" << n_ << " K=" << k_ << " kernel " << std::string(ran->name) << " ("
                                   << ran->mr << "x" << ran->layout.nr << "c" << ran->layout.kr
                                   << ") " << describe());
        }
      }
    }
    check_not_vacuous(want);
  }

  std::string describe() const {
    std::ostringstream s;
    s << "x_zp=" << x_zp_ << " y_zp=" << y_zp_ << " act=[" << act_min_ << "," << act_max_ << "] "
      << (per_channel_ ? "per-channel" : "per-tensor") << " rounding=" << ptq::rounding_mode_name(rounding_)
      << " gain=" << gain_ << " strides+" << in_pad_ << "/" << out_pad_ << (padded_rows_ ? " padded rows" : "");
    return s.str();
  }

 private:
  void fill(std::mt19937& rng, std::vector<int8_t>& x, std::vector<int8_t>& w,
            std::vector<int32_t>& bias) const {
    auto pick = [&](int lo, int hi) { return static_cast<int8_t>(lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1))); };
    switch (values_) {
      case Values::kUniform:
        for (auto& v : x) v = pick(-128, 127);
        for (auto& v : w) v = pick(-127, 127);
        break;
      case Values::kSmall:
        for (auto& v : x) v = pick(-4, 4);
        for (auto& v : w) v = pick(-4, 4);
        break;
      case Values::kExtreme:
        for (auto& v : w) v = (rng() & 1) ? 127 : -127;
        for (int64_t b = 0; b < m_; ++b) {
          // Even rows: x = -128 where w > 0 and 127 where w < 0 against column 0, so that row's
          // sum of w * (x - zp) is as large as int8 allows; odd rows random extremes.
          for (int64_t kk = 0; kk < k_; ++kk) {
            int8_t& v = x[b * k_ + kk];
            if (b % 2 == 0 && n_ > 0) v = w[kk] > 0 ? int8_t{-128} : int8_t{127};
            else v = (rng() & 1) ? int8_t{127} : int8_t{-128};
          }
        }
        break;
    }
    std::uniform_int_distribution<int32_t> bd(values_ == Values::kSmall ? -20 : -100000,
                                              values_ == Values::kSmall ? 20 : 100000);
    for (auto& v : bias) v = bd(rng);
  }

  void check_not_vacuous(const std::vector<int8_t>& want) const {
    if (want.size() < 8) return;
    const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
    INFO(describe() << " M=" << m_ << " N=" << n_ << " K=" << k_);
    CHECK_MESSAGE(*lo != *hi, "all outputs equal: the test would pass vacuously");
    const auto clamped = std::count_if(want.begin(), want.end(), [&](int8_t v) {
      return v == act_min_ || v == act_max_;
    });
    CHECK_MESSAGE(clamped < static_cast<long>(want.size()), "all outputs saturated");
    if (expect_saturation_) {
      CHECK(std::count(want.begin(), want.end(), static_cast<int8_t>(act_min_)) > 0);
      CHECK(std::count(want.begin(), want.end(), static_cast<int8_t>(act_max_)) > 0);
    }
  }

  int64_t m_ = 1, k_ = 1, n_ = 1, in_pad_ = 0, out_pad_ = 0;
  int32_t x_zp_ = 3, y_zp_ = -5, act_min_ = -128, act_max_ = 127;
  bool per_channel_ = true, bias_ = true, expect_saturation_ = false, padded_rows_ = false;
  RoundingMode rounding_ = RoundingMode::kDouble;
  double gain_ = 1.0;
  Values values_ = Values::kUniform;
  uint32_t seed_ = 12345;
};

// Kernels of this build that this CPU runs.
std::vector<const gemm::Microkernel*> runnable_kernels() {
  std::size_t count = 0;
  const gemm::Microkernel* const* all = gemm::microkernels(&count);
  std::vector<const gemm::Microkernel*> out;
  for (std::size_t i = 0; i < count; ++i)
    if (ptq::isa_runnable(all[i]->isa)) out.push_back(all[i]);
  return out;
}

// The shape sweep every kernel goes through (nr, kr, mr from the kernel).
void sweep_shapes(const gemm::Microkernel& uk, Isa isa, RoundingMode rounding, bool per_channel) {
  const int64_t mr = uk.mr, nr = uk.layout.nr, kr = uk.layout.kr;
  auto base = [&] { return GemmTester().rounding(rounding).per_channel(per_channel); };
  // K below, at and above the group, around the 16 KiB K-block (kc = 16384 / nr), and odd.
  const int64_t kc = 16384 / nr;
  std::vector<int64_t> ks = {1, kr - 1, kr, kr + 1, 2 * kr - 1, 2 * kr + 1, 3 * kr, 31, 67};
  if (!kSanitized) ks.insert(ks.end(), {kc - 1, kc, kc + kr + 1, 2 * kc + 3});
  for (int64_t k : ks) {
    if (k < 1) continue;
    base().m(mr + 1).n(nr + 3).k(k).test(&uk, isa);
  }
  const int64_t tile_ks[] = {1, kr, 2 * kr + 3, 5 * kr + 1};
  for (int64_t m = 1; m <= mr + 1; ++m)
    for (int64_t n = 1; n <= 2 * nr + 1; ++n)
      base().m(m).n(n).k(tile_ks[(m + n) % 4]).input_stride_pad(n % 3).output_stride_pad(m % 2).test(&uk, isa);
  // Several M-blocks (mc = 64 rows) and tiles at their edges.
  for (int64_t m : {2 * mr + 1, int64_t{63}, int64_t{64}, int64_t{65}, int64_t{131}}) base().m(m).n(nr + 1).k(19).test(&uk, isa);
}

}  // namespace

TEST_CASE("gemm: validate names the culprit") {
  ptq::FullyConnectedParams p;
  p.batches = 1;
  p.input_depth = 3;
  p.output_depth = 2;
  p.multipliers = {ptq::quantize_multiplier(0.01)};
  std::vector<int8_t> w = {1, 2, 3, 4, -128, 6};
  const ptq::Status s = gemm::validate(p, w.data());
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("weights[1][1] = -128") != std::string::npos);
  w[4] = -127;
  CHECK(gemm::validate(p, w.data()).ok());
  p.weights_zero_point = 2;
  CHECK(gemm::validate(p, w.data()).message().find("weights_zero_point") != std::string::npos);
  p.weights_zero_point = 0;
  p.multipliers = {{1 << 30, 40}};
  CHECK(gemm::validate(p, w.data()).message().find("shift") != std::string::npos);
}

TEST_CASE("gemm: packing follows its stated layout") {
  ptq::FullyConnectedParams p;
  p.input_depth = 6;
  p.output_depth = 3;
  p.input_zero_point = -2;
  p.multipliers = {ptq::quantize_multiplier(0.5), ptq::quantize_multiplier(0.25), ptq::quantize_multiplier(2.0)};
  std::vector<int8_t> w(18);
  for (int i = 0; i < 18; ++i) w[i] = static_cast<int8_t>(i + 1);
  const int32_t bias[] = {10, 20, 30};
  const gemm::PackedWeights pw = gemm::pack_weights(p, w.data(), bias, gemm::PackLayout{2, 4});
  CHECK(pw.padded_depth() == 8);
  CHECK(pw.padded_columns() == 4);
  CHECK(pw.panel_count() == 2);
  CHECK(reinterpret_cast<uintptr_t>(pw.weights()) % 64 == 0);
  // w[n][k] at panel n / 2, byte ((k / 4) * 2 + n % 2) * 4 + k % 4; zeros elsewhere.
  for (int n = 0; n < 4; ++n)
    for (int k = 0; k < 8; ++k) {
      const int8_t want = (n < 3 && k < 6) ? w[n * 6 + k] : 0;
      CHECK(pw.panel(n / 2)[((k / 4) * 2 + n % 2) * 4 + k % 4] == want);
    }
  for (int n = 0; n < 3; ++n) {
    int32_t sum = 0;
    for (int k = 0; k < 6; ++k) sum += w[n * 6 + k];
    CHECK(pw.bias_s8()[n] == bias[n] + 2 * sum);
    CHECK(pw.bias_u8()[n] == bias[n] + 2 * sum - 128 * sum);
    CHECK(pw.multipliers()[n] == p.multipliers[n].multiplier);
    CHECK(pw.shifts()[n] == p.multipliers[n].shift);
  }
  CHECK(pw.bias_s8()[3] == 0);
}

TEST_CASE("gemm: every ISA level equals the reference (shapes, strides)") {
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [](Isa isa) {
    const gemm::Microkernel* uk = gemm::microkernel_for(gemm::preferred_layout(isa), isa);
    REQUIRE(uk != nullptr);
    CHECK(uk->isa == gemm::gemm_variant(isa));
    CAPTURE(std::string(uk->name));
    for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle})
      for (bool pc : {true, false}) sweep_shapes(*uk, isa, r, pc);
  });
}

TEST_CASE("gemm: every layout runs at every level") {
  // A packing made for one CPU (or under one PTQ_ISA) must run wherever it is used.
  for (gemm::PackLayout layout : {gemm::PackLayout{16, 4}, gemm::PackLayout{64, 4}, gemm::PackLayout{8, 8}}) {
    for (Isa isa : ptq::kAllIsas) {
      const gemm::Microkernel* uk = gemm::microkernel_for(layout, isa);
      REQUIRE(uk != nullptr);
      CHECK(ptq::isa_runnable(uk->isa));
      CHECK((uk->layout == layout));
    }
  }
}

TEST_CASE("gemm: every microkernel variant equals the reference") {
  for (const gemm::Microkernel* uk : runnable_kernels()) {
    CAPTURE(std::string(uk->name));
    sweep_shapes(*uk, uk->isa, RoundingMode::kDouble, true);
    sweep_shapes(*uk, uk->isa, RoundingMode::kSingle, false);
  }
}

TEST_CASE("gemm: zero points, saturation, clamps and rounding at the extremes") {
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [](Isa isa) {
    for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      for (bool pc : {true, false}) {
        auto base = [&] { return GemmTester().rounding(r).per_channel(pc).m(5).n(37).k(29); };
        for (int32_t xzp : {-128, 127, 0})
          for (int32_t yzp : {-128, 127, 0}) base().input_zero_point(xzp).output_zero_point(yzp).gain(0.5).test(nullptr, isa);
        // Saturation both ways.
        base().gain(6.0).output_zero_point(0).expect_saturation(true).test(nullptr, isa);
        base().gain(3.0).output_zero_point(-100).input_zero_point(127).test(nullptr, isa);
        // Fused activation clamps: relu (zp..127), relu6-like, a narrow range.
        base().activation(-5, 127).output_zero_point(-5).gain(1.5).expect_saturation(true).test(nullptr, isa);
        base().activation(-20, 50).output_zero_point(10).gain(1.5).expect_saturation(true).test(nullptr, isa);
        base().activation(-1, 1).output_zero_point(0).gain(0.5).test(nullptr, isa);
        // Tiny accumulators: multipliers above 1 (positive shifts, the left-shift path).
        base().values(Values::kSmall).k(3).gain(1.0).test(nullptr, isa);
        base().values(Values::kSmall).k(2).gain(8.0).expect_saturation(true).test(nullptr, isa);
        // No bias.
        base().bias(false).test(nullptr, isa);
      }
    }
  });
}

TEST_CASE("gemm: large K with extreme values (int32 accumulation)") {
  // x in {-128, 127} against w in {-127, 127} with x_zp = 127: |w * (x - zp)| = 127 * 255 per
  // term, so K = 65536 puts aligned rows at about -2.1e9, next to INT32_MIN.
  const std::vector<int64_t> ks = kSanitized ? std::vector<int64_t>{4096, 65536} : std::vector<int64_t>{4093, 4096, 16385, 65536};
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [&](Isa isa) {
    for (int64_t k : ks) {
      for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
        GemmTester().values(Values::kExtreme).m(3).n(kSanitized ? 9 : 17).k(k).input_zero_point(127)
            .rounding(r).per_channel(true).test(nullptr, isa);
        GemmTester().values(Values::kExtreme).m(2).n(5).k(k).input_zero_point(-128).output_zero_point(127)
            .rounding(r).per_channel(false).gain(1.2).test(nullptr, isa);
      }
    }
  });
}

TEST_CASE("gemm: padded rows run K % kr as whole groups, the bytes past K ignored") {
  // GemmOptions::padded_rows (conv.hpp's im2col): every kernel, K below, at and past its group,
  // tiles with partial M and N, several K-blocks; the padding holds -128 and 127.
  for (const gemm::Microkernel* uk : runnable_kernels()) {
    CAPTURE(std::string(uk->name));
    const int64_t mr = uk->mr, nr = uk->layout.nr, kr = uk->layout.kr;
    for (int64_t k : {int64_t{1}, kr - 1, kr + 1, 2 * kr + 3, int64_t{27}, 16384 / nr + 1}) {
      if (k < 1) continue;
      GemmTester().padded_rows(true).m(mr + 1).n(nr + 3).k(k).test(uk, uk->isa);
      GemmTester().padded_rows(true).m(2 * mr + 3).n(nr - 1).k(k).input_stride_pad(3).values(Values::kExtreme)
          .input_zero_point(-128).rounding(RoundingMode::kSingle).per_channel(false).test(uk, uk->isa);
    }
  }
}

TEST_CASE("gemm: random shapes") {
  std::mt19937 rng(7);
  const int rounds = kSanitized ? 10 : 60;
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [&](Isa isa) {
    for (int i = 0; i < rounds; ++i) {
      GemmTester()
          .m(1 + rng() % 70).n(1 + rng() % 70).k(1 + rng() % 300)
          .input_stride_pad(rng() % 5).output_stride_pad(rng() % 3)
          .input_zero_point(static_cast<int32_t>(rng() % 256) - 128)
          .output_zero_point(static_cast<int32_t>(rng() % 256) - 128)
          .per_channel(rng() & 1).rounding((rng() & 1) ? RoundingMode::kSingle : RoundingMode::kDouble)
          .gain(0.3 + (rng() % 100) / 50.0).seed(rng())
          .test(nullptr, isa);
    }
  });
}

TEST_CASE("gemm: results do not depend on the thread count") {
  // A splitter that runs ranges on real threads, unevenly and out of order.
  auto make_pool = [](int threads) {
    return gemm::ParallelFor([threads](int64_t count, const gemm::PanelTask& task) {
      std::vector<std::thread> pool;
      int64_t begin = 0;
      for (int t = 0; t < threads && begin < count; ++t) {
        const int64_t end = t == threads - 1 ? count : std::min(count, begin + 1 + t % 3);
        pool.emplace_back([&task, begin, end] { task(begin, end); });
        begin = end;
      }
      for (auto& th : pool) th.join();
    });
  };
  const gemm::ParallelFor one_by_one = [](int64_t count, const gemm::PanelTask& task) {
    for (int64_t p = count - 1; p >= 0; --p) task(p, p + 1);
  };
  const gemm::ParallelFor pool2 = make_pool(2), pool5 = make_pool(5);
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [&](Isa isa) {
    for (const gemm::ParallelFor* pf : {&pool2, &pool5, &one_by_one}) {
      GemmTester().m(70).n(100).k(300).test(nullptr, isa, pf);
      GemmTester().m(1).n(129).k(1030).per_channel(false).test(nullptr, isa, pf);
    }
  });
  // And the bytes are the same as the single-threaded run's, not just equal to the reference.
  ptq::FullyConnectedParams p;
  p.batches = 9;
  p.input_depth = 77;
  p.output_depth = 50;
  p.multipliers = {ptq::quantize_multiplier(0.0007)};
  std::vector<int8_t> x(9 * 77), w(50 * 77);
  std::mt19937 rng(3);
  for (auto& v : x) v = static_cast<int8_t>(rng() % 256 - 128);
  for (auto& v : w) v = static_cast<int8_t>(rng() % 255 - 127);
  const gemm::PackedWeights pw = gemm::pack_weights(p, w.data(), nullptr);
  std::vector<int8_t> y1(9 * 50), y5(9 * 50);
  gemm::fully_connected(pw, x.data(), 9, y1.data());
  gemm::GemmOptions o;
  o.parallel_for = &pool5;
  gemm::fully_connected(pw, x.data(), 9, y5.data(), o);
  CHECK(y1 == y5);
}

TEST_CASE("gemm: the output stage equals the scalar one for every shift, per lane") {
  // Every column its own (multiplier, shift), shifts over the whole range of each mode, and
  // accumulators at the int32 edges: the per-lane requantizer (simd/x86/fixed_point_per_lane-inl)
  // and SSE4.1's emulated variable shifts against core/fixed_point.hpp.
  std::mt19937 rng(11);
  ptq_test::for_each_isa(kGemmFamily, gemm::gemm_variant, [&](Isa isa) {
    const gemm::Microkernel* uk = gemm::microkernel_for(gemm::preferred_layout(isa), isa);
    REQUIRE(uk != nullptr);
    const int nr = uk->layout.nr, rows = 4;
    for (RoundingMode r : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      const int max_shift = r == RoundingMode::kSingle ? 30 : 31;
      for (int round = 0; round < (kSanitized ? 40 : 400); ++round) {
        std::vector<int32_t> mult(nr), shift(nr), acc(rows * nr);
        for (int c = 0; c < nr; ++c) {
          mult[c] = (rng() % 16 == 0) ? 0 : static_cast<int32_t>((1u << 30) + (rng() % (1u << 30)));
          shift[c] = -31 + static_cast<int>(rng() % static_cast<uint32_t>(max_shift + 32));
        }
        const int32_t edges[] = {INT32_MIN, INT32_MAX, 0, 1, -1, INT32_MIN + 1, 1 << 30, -(1 << 30)};
        for (auto& a : acc) {
          const uint32_t pick = rng() % 4;
          a = pick == 0 ? edges[rng() % 8]
              : pick == 1 ? static_cast<int32_t>(rng())
                          : static_cast<int32_t>(rng() % 20001) - 10000;
        }
        gemm::OutputStage os;
        os.multipliers = mult.data();
        os.shifts = shift.data();
        os.rounding = r;
        os.output_zero_point = static_cast<int32_t>(rng() % 256) - 128;
        os.activation_min = -128 + static_cast<int32_t>(rng() % 20);
        os.activation_max = 127 - static_cast<int32_t>(rng() % 20);
        const int cols = 1 + static_cast<int>(rng() % static_cast<uint32_t>(nr));
        std::vector<int8_t> got(rows * nr, 0), want(rows * nr, 0);
        uk->output(rows, cols, acc.data(), os, got.data(), nr);
        gemm::output_stage_scalar(rows, cols, nr, acc.data(), os, want.data(), nr);
        for (int i = 0; i < rows * nr; ++i) {
          if (got[i] != want[i]) {
            FAIL("output stage " << std::string(uk->name) << " " << ptq::rounding_mode_name(r) << " at (row "
                                 << i / nr << ", col " << i % nr << "): acc " << acc[i] << " multiplier "
                                 << mult[i % nr] << " shift " << shift[i % nr] << " got " << int{got[i]}
                                 << " want " << int{want[i]});
          }
        }
      }
    }
  });
}
