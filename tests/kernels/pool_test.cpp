// The SIMD pooling and Mean kernels (kernels/pool.hpp) against the scalar references
// (reference/pool.hpp), bit for bit, on every ISA level the CPU runs: channel counts around every
// vector width (1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 64, 65: the narrower vectors and the
// overlapping last block), odd image sizes, filters 1-5, strides 1-3, SAME and VALID padding,
// batches 1-2, every fused activation at extreme zero points, int8 extremes (sums far from 0, the
// average's halves), float specials (+-0, NaN, +-inf, huge values), the largest window the x86 int8
// average takes in float, and Mean over H, W (the global average pool) and other axis sets.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/kernels/pool.hpp"
#include "ptq/kernels/reference/pool.hpp"
#include "support/isa_coverage.hpp"

using ptq::FusedActivation;
using ptq::Isa;
using ptq::Padding;

namespace {

using ptq_test::kSanitized;

const uint32_t kPoolFamily = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2, Isa::kNeon});
constexpr FusedActivation kActivations[] = {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6,
                                            FusedActivation::kReluN1To1};
constexpr int64_t kChannels[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 64, 65};

std::string describe(const ptq::PoolParams& p) {
  std::ostringstream s;
  s << "N=" << p.batches << " in=" << p.input_height << "x" << p.input_width << "x" << p.channels
    << " out=" << p.output_height << "x" << p.output_width << " filter=" << p.filter_height << "x" << p.filter_width
    << " stride=" << p.stride_height << "x" << p.stride_width << " pad=" << p.pad_top << "," << p.pad_left
    << " act=[" << p.activation_min << "," << p.activation_max << "] float act=[" << p.float_activation_min << ","
    << p.float_activation_max << "]";
  return s.str();
}

// A random pooling geometry (every window has a tap: make_pool_params' padding guarantees it).
ptq::PoolParams random_pool(std::mt19937& rng, int64_t channels) {
  const int64_t h = 1 + rng() % 11, w = 1 + rng() % 11;
  const int64_t fh = 1 + rng() % 5, fw = 1 + rng() % 5;
  const int64_t sh = 1 + rng() % 3, sw = 1 + rng() % 3;
  const Padding pad = rng() % 2 ? Padding::kSame : Padding::kValid;
  return ptq::make_pool_params(pad, 1 + rng() % 2, h, w, channels, fh, fw, sh, sw);
}

// Canary bytes after the output: no kernel writes past it.
constexpr std::size_t kCanary = 64;

template <class T>
void check_equal(const std::vector<T>& want, const std::vector<T>& got, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size() + kCanary);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&want[i], &got[i], sizeof(T)) != 0) {
      FAIL("element " << i << ": got " << +got[i] << " want " << +want[i]);
    }
  }
  for (std::size_t i = want.size(); i < got.size(); ++i) {
    REQUIRE_MESSAGE(std::memcmp(&got[i], &got[want.size()], sizeof(T)) == 0, "wrote past the output");
  }
}

// Not vacuous: a sweep counts the cases whose reference output has at least 3 distinct values and
// not all of them at a clamp bound (a ReLU at zero point 127 clamps everything, by design), and
// requires most of its cases to be such.
struct Tally {
  int cases = 0, nontrivial = 0;
  template <class T>
  void add(const std::vector<T>& want, double lo, double hi) {
    ++cases;
    std::set<double> distinct;
    std::size_t clamped = 0;
    for (T v : want) {
      distinct.insert(static_cast<double>(v));
      clamped += static_cast<double>(v) == lo || static_cast<double>(v) == hi;
    }
    nontrivial += distinct.size() >= 3 && clamped < want.size();
  }
  void check(double fraction) const {
    INFO(nontrivial << " of " << cases << " cases with non-trivial outputs");
    CHECK(cases > 0);
    CHECK(nontrivial >= fraction * cases);
  }
};

// int8 inputs: uniform, or (extreme) only -128 and 127 so sums sit far from 0.
std::vector<int8_t> int8_input(std::mt19937& rng, int64_t n, bool extreme) {
  std::vector<int8_t> x(static_cast<std::size_t>(n));
  for (auto& v : x) v = extreme ? ((rng() & 1) ? int8_t{127} : int8_t{-128}) : static_cast<int8_t>(rng());
  return x;
}

// float inputs in [-1.25, 1.25] (inside or near every fused activation range), with one in 16 a special: +-0, NaN, +-inf, +-3e38, a denormal.
std::vector<float> float_input(std::mt19937& rng, int64_t n, bool specials) {
  std::uniform_real_distribution<float> u(-1.25f, 1.25f);
  const float special[] = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(), 3.0e38f, -3.0e38f, 1.0e-40f};
  std::vector<float> x(static_cast<std::size_t>(n));
  for (auto& v : x) v = specials && rng() % 16 == 0 ? special[rng() % 8] : u(rng);
  return x;
}

void run_int8_pool(const ptq::PoolParams& p, const std::vector<int8_t>& x, Isa isa, Tally* tally) {
  REQUIRE(p.validate_quantized().ok());
  const auto n = static_cast<std::size_t>(p.output_size());
  std::vector<int8_t> want(n), got(n + kCanary, int8_t{0x5A});
  ptq::reference::max_pool(p, x.data(), want.data());
  ptq::max_pool(p, x.data(), got.data(), isa);
  check_equal(want, got, "int8 max_pool " + describe(p));
  tally->add(want, p.activation_min, p.activation_max);
  ptq::reference::average_pool(p, x.data(), want.data());
  ptq::average_pool(p, x.data(), got.data(), isa);
  check_equal(want, got, "int8 average_pool " + describe(p));
}

void run_float_pool(const ptq::PoolParams& p, const std::vector<float>& x, Isa isa, Tally* tally) {
  REQUIRE(p.validate().ok());
  const auto n = static_cast<std::size_t>(p.output_size());
  std::vector<float> want(n), got(n + kCanary, 1.25f);
  ptq::reference::max_pool(p, x.data(), want.data());
  ptq::max_pool(p, x.data(), got.data(), isa);
  check_equal(want, got, "float max_pool " + describe(p));
  tally->add(want, p.float_activation_min, p.float_activation_max);
  ptq::reference::average_pool(p, x.data(), want.data());
  ptq::average_pool(p, x.data(), got.data(), isa);
  check_equal(want, got, "float average_pool " + describe(p));
}

}  // namespace

TEST_CASE("pool: the window bound of the x86 int8 average is within float's exact range") {
  // |acc +- n/2| <= 128 * n + n / 2 with n = kPoolSimdMaxTaps: 128 * 65536 + 32768 = 8421376 < 2^24.
  CHECK(128 * ptq::pool_ops::kPoolSimdMaxTaps + ptq::pool_ops::kPoolSimdMaxTaps / 2 < (int64_t{1} << 24));
}

TEST_CASE("pool: int8 max and average pooling equal the reference on every ISA level") {
  ptq_test::for_each_isa(kPoolFamily, ptq::pool_variant, [](Isa isa) {
    std::mt19937 rng(11);
    Tally tally;
    const int rounds = kSanitized ? 2 : 8;
    for (int64_t channels : kChannels) {
      for (int round = 0; round < rounds; ++round) {
        ptq::PoolParams p = random_pool(rng, channels);
        // A fused activation at an extreme or typical output zero point (input and output share them).
        const int32_t zps[] = {-128, 127, 0, -5};
        const ptq::QuantParams q{0.02f + 0.01f * static_cast<float>(rng() % 5), zps[rng() % 4]};
        const FusedActivation act = kActivations[rng() % 4];
        const ptq::QuantizedActivationRange r = ptq::reference::calculate_activation_range_quantized<int8_t>(act, q);
        p.activation_min = r.min;
        p.activation_max = r.max;
        run_int8_pool(p, int8_input(rng, p.input_size(), round % 3 == 2), isa, &tally);
      }
    }
    tally.check(0.4);  // zero point 127 under a ReLU, and ReluN1To1's narrow range, clamp (nearly) all
  });
}

TEST_CASE("pool: float max and average pooling equal the reference on every ISA level (specials included)") {
  ptq_test::for_each_isa(kPoolFamily, ptq::pool_variant, [](Isa isa) {
    std::mt19937 rng(12);
    Tally tally;
    const int rounds = kSanitized ? 2 : 8;
    for (int64_t channels : kChannels) {
      for (int round = 0; round < rounds; ++round) {
        ptq::PoolParams p = random_pool(rng, channels);
        const FusedActivation act = kActivations[rng() % 4];
        const ptq::FloatActivationRange r = ptq::reference::calculate_activation_range(act);
        p.float_activation_min = r.min;
        p.float_activation_max = r.max;
        const bool specials = round % 2 == 1;
        run_float_pool(p, float_input(rng, p.input_size(), specials), isa, &tally);
      }
    }
    tally.check(0.5);
  });
}

TEST_CASE("pool: hand-worked int8 average rounds half away from zero, max clamps") {
  // One 2x2 window, 1 channel: taps {1, 2, 3, 4} -> 10 / 4 = 2.5 -> 3; {-1, -2, -3, -4} -> -3;
  // {1, 2, 2, 0} -> 5 / 4 = 1.25 -> 1 (acc + 2 = 7, 7 / 4 = 1). Max of {1, 2, 3, 4} under [-128, 2] is 2.
  ptq::PoolParams p = ptq::make_pool_params(Padding::kValid, 1, 2, 2, 1, 2, 2, 2, 2);
  ptq::PoolParams clamped = p;
  clamped.activation_max = 2;
  ptq_test::for_each_isa(kPoolFamily, ptq::pool_variant, [&](Isa isa) {
    const std::vector<std::vector<int8_t>> inputs = {{1, 2, 3, 4}, {-1, -2, -3, -4}, {1, 2, 2, 0}};
    const int8_t want_avg[] = {3, -3, 1};
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      int8_t y = 0;
      ptq::average_pool(p, inputs[i].data(), &y, isa);
      CHECK(int{y} == want_avg[i]);
    }
    int8_t y = 0;
    ptq::max_pool(clamped, inputs[0].data(), &y, isa);
    CHECK(int{y} == 2);
  });
}

TEST_CASE("pool: int8 average over the largest window the x86 kernels divide in float") {
  // 256 x 256 = kPoolSimdMaxTaps taps of 3 channels, SAME padding: windows from 128 * 128 taps
  // (corners) to 65536; all -128 / all 127 give sums of -8388608 and 8323072, whose averages are exact.
  const int64_t side = kSanitized ? 64 : 256;
  ptq::PoolParams p = ptq::make_pool_params(Padding::kSame, 1, side, side, 3, side, side, side / 2, side / 2);
  REQUIRE(p.filter_height * p.filter_width <= ptq::pool_ops::kPoolSimdMaxTaps);
  ptq_test::for_each_isa(kPoolFamily, ptq::pool_variant, [&](Isa isa) {
    std::mt19937 rng(13);
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<int8_t> x(static_cast<std::size_t>(p.input_size()));
      for (auto& v : x) v = mode == 0 ? int8_t{-128} : mode == 1 ? int8_t{127} : static_cast<int8_t>(rng() % 16 - 3);
      std::vector<int8_t> want(static_cast<std::size_t>(p.output_size())), got(want.size() + kCanary, int8_t{0x5A});
      ptq::reference::average_pool(p, x.data(), want.data());
      ptq::average_pool(p, x.data(), got.data(), isa);
      check_equal(want, got, "large window " + describe(p));
      if (mode == 0) CHECK(int{want[0]} == -128);
      if (mode == 1) CHECK(int{want[0]} == 127);
    }
  });
}

TEST_CASE("mean: float and int8 equal the reference on every ISA level (global average pool and other axes)") {
  struct Case {
    ptq::Shape shape;
    std::vector<int32_t> axes;
  };
  const std::vector<Case> cases = {
      {ptq::Shape{1, 7, 7, 64}, {1, 2}},   {ptq::Shape{2, 5, 3, 17}, {1, 2}},  {ptq::Shape{1, 1, 1, 3}, {1, 2}},
      {ptq::Shape{3, 4, 9, 33}, {-3, 2}},  {ptq::Shape{2, 6, 5, 8}, {1}},      {ptq::Shape{2, 6, 5, 40}, {0, 1, 2}},
      {ptq::Shape{4, 5, 31}, {0, 1}},      {ptq::Shape{9, 65}, {0}},           {ptq::Shape{2, 6, 5, 7}, {0, 2}},
      {ptq::Shape{2, 6, 5, 7}, {3}},       {ptq::Shape{2, 6, 5, 7}, {1, 3}},   {ptq::Shape{2, 3, 4}, {}},
      {ptq::Shape{2, 0, 4}, {1}},          {ptq::Shape{1, 64, 64, 16}, {1, 2}},
  };
  ptq_test::for_each_isa(kPoolFamily, ptq::pool_variant, [&](Isa isa) {
    std::mt19937 rng(14);
    Tally tally;
    for (const Case& c : cases) {
      auto made = ptq::make_mean_params(c.shape, c.axes);
      REQUIRE(made.ok());
      ptq::MeanParams p = *made;
      const std::string what = "input " + c.shape.to_string() + " axes " + std::to_string(c.axes.size());
      INFO(what);
      // float, with and without specials.
      for (int specials = 0; specials < 2; ++specials) {
        const std::vector<float> x = float_input(rng, p.input_size, specials == 1);
        std::vector<float> want(static_cast<std::size_t>(p.copy ? p.input_size : p.num_outputs));
        std::vector<float> got(want.size() + kCanary, 1.25f);
        ptq::reference::mean(p, x.data(), want.data());
        ptq::mean(p, x.data(), got.data(), isa);
        check_equal(want, got, "float mean " + what);
        if (specials == 0) tally.add(want, 1e30, 1e30);
      }
      // int8: extreme and typical zero points and scale ratios, both rounding modes; rounds 4 and 5
      // map the mean of uniform inputs (x - 3 = -3.5 on average) near the middle of the output range.
      for (int round = 0; round < 6; ++round) {
        const int32_t zps[] = {-128, 127, 3, -40};
        const ptq::QuantParams in{0.05f, round < 4 ? zps[round] : 3};
        const ptq::QuantParams out{round >= 4 ? 0.0125f : round % 2 ? 0.011f : 0.2f, round >= 4 ? 14 : zps[(round + 1) % 4]};
        const ptq::RoundingMode rounding = round % 4 < 2 ? ptq::RoundingMode::kDouble : ptq::RoundingMode::kSingle;
        ptq::set_mean_quantization(&p, in, out, rounding);
        const std::vector<int8_t> x = int8_input(rng, p.input_size, round == 3);
        std::vector<int8_t> want(static_cast<std::size_t>(p.copy ? p.input_size : p.num_outputs));
        std::vector<int8_t> got(want.size() + kCanary, int8_t{0x5A});
        ptq::reference::mean(p, x.data(), want.data());
        ptq::mean(p, x.data(), got.data(), isa);
        check_equal(want, got, "int8 mean " + what + " round " + std::to_string(round));
        tally.add(want, -128, 127);
      }
    }
    tally.check(0.3);
  });
}

TEST_CASE("mean: the SIMD walk is taken for the global average pool, the reference for inner reductions") {
  CHECK(ptq::mean_inner_kept(*ptq::make_mean_params(ptq::Shape{1, 7, 7, 64}, {1, 2})));
  CHECK(ptq::mean_inner_kept(*ptq::make_mean_params(ptq::Shape{2, 6, 5, 7}, {0, 2})));
  CHECK_FALSE(ptq::mean_inner_kept(*ptq::make_mean_params(ptq::Shape{2, 6, 5, 7}, {3})));
  CHECK_FALSE(ptq::mean_inner_kept(*ptq::make_mean_params(ptq::Shape{2, 3, 4}, {})));
  CHECK_FALSE(ptq::mean_inner_kept(*ptq::make_mean_params(ptq::Shape{2, 0, 4}, {1})));
}
