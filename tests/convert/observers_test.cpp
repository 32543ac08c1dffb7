// Calibration observers (convert/observers.hpp) against hand-worked values and independent
// formulations: a sort-based exact percentile, a histogram binned directly in long double from its
// definition, and the quantize-dequantize error measured with core/qparams.hpp and the reference
// quantizer over a sweep of ranges.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ptq/convert/observers.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/kernels/reference/quantize.hpp"
#include "support/isa_coverage.hpp"

namespace {

using ptq::convert::CalibrationMethod;
using ptq::convert::CalibrationOptions;
using ptq::convert::QuantTarget;
using ptq::convert::Range;
using ptq::convert::RangeObserver;

constexpr CalibrationMethod kAllMethods[] = {
    CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverageMinMax, CalibrationMethod::kPercentile,
    CalibrationMethod::kMse, CalibrationMethod::kEntropy};
constexpr CalibrationMethod kHistogramMethods[] = {CalibrationMethod::kPercentile, CalibrationMethod::kMse,
                                                   CalibrationMethod::kEntropy};

// Large data sets shrink under the sanitizers.
const std::size_t kLarge = ptq_test::kSanitized ? 200000 : 1000000;

CalibrationOptions with_method(CalibrationMethod m) {
  CalibrationOptions o;
  o.method = m;
  return o;
}

RangeObserver observe_all(CalibrationOptions o, const std::vector<float>& x, std::size_t chunk) {
  RangeObserver obs(o);
  for (std::size_t i = 0; i < x.size(); i += chunk) obs.observe(x.data() + i, std::min(chunk, x.size() - i));
  return obs;
}

std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float sigma = 1.0f, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

std::vector<float> uniform(std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

// Mean squared error of int8 quantize-dequantize of x with the parameters core/qparams.hpp chooses
// for range r under target t (8 bits).
double measured_mse(const std::vector<float>& x, Range r, QuantTarget t) {
  const ptq::QuantParams p = t.symmetric ? ptq::symmetric_quant_params<int8_t>(r.min, r.max)
                                         : ptq::choose_quant_params<int8_t>(r.min, r.max, t.narrow_range);
  double sum = 0;
  for (float v : x) {
    const int8_t q = ptq::reference::quantize_one<int8_t>(v, p.scale, p.zero_point);
    const double e = static_cast<double>(v) - ptq::reference::dequantize_one<int8_t>(q, p.scale, p.zero_point);
    sum += e * e;
  }
  return sum / static_cast<double>(x.size());
}

// The histogram of a data set binned from the definition in observers.hpp, independently of the
// streaming code: R = the smallest power of two > max|x| (found by doubling/halving from 1), signed
// layout iff a value < 0, bin floor(x / width) + the zero bin's index, in long double.
std::vector<std::uint64_t> direct_histogram(const std::vector<float>& x, int bins, double& r_out, bool& signed_out) {
  long double m = 0;
  bool neg = false;
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    m = std::max(m, std::fabs(static_cast<long double>(v)));
    neg = neg || v < 0.0f;
  }
  long double r = 0;
  if (m > 0) {
    r = 1;
    while (r <= m) r *= 2;
    while (r / 2 > m) r /= 2;
  }
  const long double width = (neg ? 2 * r : r) / bins;
  std::vector<std::uint64_t> h(static_cast<std::size_t>(bins), 0);
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    // floor((v - origin) / width) = floor(v / width) + (origin / -width): the division by a power of
    // two is exact where v - origin would round (a tiny negative v beside origin = -2^128).
    const long double zero_bin = neg ? bins / 2 : 0;
    const long double j = r > 0 ? std::floor(static_cast<long double>(v) / width) + zero_bin : zero_bin;
    ++h[static_cast<std::size_t>(j)];
  }
  r_out = static_cast<double>(r);
  signed_out = neg;
  return h;
}

}  // namespace

TEST_SUITE("convert") {
TEST_CASE("observers: method names parse back; unknown names list the valid ones") {
  for (CalibrationMethod m : kAllMethods) {
    const auto parsed = ptq::convert::parse_calibration_method(ptq::convert::calibration_method_name(m));
    REQUIRE(parsed.ok());
    CHECK(*parsed == m);
  }
  const auto bad = ptq::convert::parse_calibration_method("kl");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == ptq::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "calibration method \"kl\" is not one of: minmax, moving-average, percentile, mse, entropy");
  CHECK(!ptq::convert::parse_calibration_method("").ok());
  CHECK(!ptq::convert::parse_calibration_method("MinMax").ok());
}

TEST_CASE("observers: option validation names the field; the observer clamps invalid options") {
  CHECK(ptq::convert::validate_calibration_options({}).ok());
  CalibrationOptions o;
  o.bins = 1000;
  auto s = ptq::convert::validate_calibration_options(o);
  CHECK(!s.ok());
  CHECK(s.message().find("bins 1000") != std::string::npos);
  CHECK(RangeObserver(o).options().bins == 1024);  // next power of two
  o = {};
  o.percentile = 0.0;
  CHECK(ptq::convert::validate_calibration_options(o).message().find("percentile") != std::string::npos);
  o = {};
  o.averaging_constant = 1.5f;
  CHECK(ptq::convert::validate_calibration_options(o).message().find("averaging_constant") != std::string::npos);
  CHECK(RangeObserver(o).options().averaging_constant == 1.0f);
  o = {};
  o.bins = 1 << 30;
  CHECK(RangeObserver(o).options().bins == ptq::convert::kMaxHistogramBins);
}

TEST_CASE("observers: min/max over hand data") {
  RangeObserver obs;
  const float a[] = {1.0f, -2.0f, 3.0f};
  const float b[] = {0.5f, 4.0f, -1.0f, 0.0f};
  obs.observe(a, 3);
  obs.observe(b, 4);
  CHECK(obs.count() == 7);
  CHECK(obs.min_max() == Range{-2.0f, 4.0f});
  CHECK(obs.range() == Range{-2.0f, 4.0f});
  // A positive-only tensor: the range is widened to contain 0, the raw extremes are not.
  RangeObserver pos;
  const float c[] = {1.5f, 2.0f, 1.75f};
  pos.observe(c, 3);
  CHECK(pos.min_max() == Range{1.5f, 2.0f});
  CHECK(pos.range() == Range{0.0f, 2.0f});
}

TEST_CASE("observers: moving average over three batches, hand-computed") {
  CalibrationOptions o = with_method(CalibrationMethod::kMovingAverageMinMax);
  o.averaging_constant = 0.25f;  // every step below is exact in float
  RangeObserver obs(o);
  const float b1[] = {-1.0f, 2.0f, 0.5f};  // batch [-1, 2]: first call sets min -1, max 2
  const float b2[] = {-3.0f, 6.0f};        // min = -1 + 0.25 * (-3 - -1) = -1.5; max = 2 + 0.25 * (6 - 2) = 3
  const float b3[] = {0.5f, 1.0f};         // min = -1.5 + 0.25 * (0.5 + 1.5) = -1; max = 3 + 0.25 * (1 - 3) = 2.5
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float only_nan[] = {nan, nan};  // no finite value: not a batch, the averages stay
  obs.observe(b1, 3);
  obs.observe(only_nan, 2);
  obs.observe(b2, 2);
  obs.observe(b3, 2);
  CHECK(obs.range() == Range{-1.0f, 2.5f});
  CHECK(obs.min_max() == Range{-3.0f, 6.0f});
  CHECK(obs.non_finite_count() == 2);

  // Order dependence: the same batches in reverse order give another range.
  // b3 sets [0.5, 1]; b2: min = 0.5 + 0.25 * (-3.5) = -0.375, max = 1 + 0.25 * 5 = 2.25;
  // b1: min = -0.375 + 0.25 * (-0.625) = -0.53125, max = 2.25 + 0.25 * (-0.25) = 2.1875 (range
  // widened to contain 0 only if needed: it contains it).
  RangeObserver rev(o);
  rev.observe(b3, 2);
  rev.observe(b2, 2);
  rev.observe(b1, 3);
  CHECK(rev.range() == Range{-0.53125f, 2.1875f});

  // Merge: the averages weighted by batches, 3 : 1. The other shard saw one batch [-2, 4.5]:
  // min = (3 * -1 + 1 * -2) / 4 = -1.25, max = (3 * 2.5 + 4.5) / 4 = 3.
  RangeObserver shard(o);
  const float b4[] = {-2.0f, 4.5f};
  shard.observe(b4, 2);
  RangeObserver ab = obs, ba = shard;
  REQUIRE(ab.merge(shard).ok());
  REQUIRE(ba.merge(obs).ok());
  CHECK(ab.range() == Range{-1.25f, 3.0f});
  CHECK(ba.range() == ab.range());  // symmetric
  CHECK(ab.min_max() == Range{-3.0f, 6.0f});
  CHECK(ab.count() == 9);
  // An empty side takes the other's averages.
  RangeObserver empty(o);
  REQUIRE(empty.merge(shard).ok());
  CHECK(empty.range() == Range{-2.0f, 4.5f});

  // The default constant 0.01: [0, 10] then [0, 20] -> max = 10 + 0.01 * 10 = 10.1.
  RangeObserver d(with_method(CalibrationMethod::kMovingAverageMinMax));
  const float c1[] = {0.0f, 10.0f}, c2[] = {0.0f, 20.0f};
  d.observe(c1, 2);
  d.observe(c2, 2);
  CHECK(d.range().max == doctest::Approx(10.1).epsilon(1e-6));
  CHECK(d.range().min == 0.0f);
}

TEST_CASE("observers: the histogram equals direct binning, whatever the order and chunking") {
  // Values of both signs and a wide dynamic range, so the layout doubles and turns signed midway.
  std::vector<float> x = uniform(50000, 7, 0.0f, 0.001f);  // first non-negative and tiny
  const std::vector<float> g = gaussian(50000, 8, 3.0f);
  x.insert(x.end(), g.begin(), g.end());
  x.push_back(1000.0f);
  x.push_back(0.0f);
  x.push_back(-0.0f);
  x.push_back(std::numeric_limits<float>::infinity());
  for (int bins : {16, 2048}) {
    CAPTURE(bins);
    double r = 0;
    bool is_signed = false;
    const std::vector<std::uint64_t> expected = direct_histogram(x, bins, r, is_signed);
    CalibrationOptions o = with_method(CalibrationMethod::kPercentile);
    o.bins = bins;
    const RangeObserver in_order = observe_all(o, x, 1000);
    CHECK(in_order.histogram().half_range() == r);
    CHECK(in_order.histogram().is_signed() == is_signed);
    CHECK(in_order.histogram().counts() == expected);
    std::vector<float> shuffled = x;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
    const RangeObserver other_order = observe_all(o, shuffled, 777);
    CHECK(other_order.histogram().counts() == expected);
    CHECK(other_order.histogram().half_range() == r);
  }
}

TEST_CASE("observers: extreme magnitudes bin exactly and every method stays finite and ordered") {
  // Denormals beside values near FLT_MAX: R = 2^128 (beyond float, held in double), width 2^118.
  const std::vector<float> x = {1e-42f, -3e-39f, 2.5e38f, -1e-45f, 1.0f, -3.0e38f, 0.0f, 7e-45f};
  double r = 0;
  bool is_signed = false;
  const std::vector<std::uint64_t> expected = direct_histogram(x, 2048, r, is_signed);
  CHECK(r == std::ldexp(1.0, 128));
  for (CalibrationMethod m : kAllMethods) {
    const std::string method = ptq::convert::calibration_method_name(m);
    CAPTURE(method);
    const RangeObserver obs = observe_all(with_method(m), x, 3);
    if (m == CalibrationMethod::kPercentile || m == CalibrationMethod::kMse || m == CalibrationMethod::kEntropy) {
      CHECK(obs.histogram().counts() == expected);
    }
    for (const QuantTarget& t : {QuantTarget{8, false, false}, QuantTarget{8, true, true}}) {
      const Range rg = obs.range(t);
      CHECK(std::isfinite(rg.min));
      CHECK(std::isfinite(rg.max));
      CHECK(rg.min <= 0.0f);
      CHECK(rg.max >= 0.0f);
      CHECK(rg.min >= -3.0e38f);
      CHECK(rg.max <= 2.5e38f);
    }
  }
  // Only denormals (4e-45 is 3 * 2^-149): R = 2^-146, still exact.
  const std::vector<float> tiny = {1e-45f, -3e-45f, 4e-45f, 0.0f};
  const std::vector<std::uint64_t> tiny_expected = direct_histogram(tiny, 64, r, is_signed);
  CalibrationOptions o = with_method(CalibrationMethod::kEntropy);
  o.bins = 64;
  const RangeObserver t = observe_all(o, tiny, 1);
  CHECK(t.histogram().counts() == tiny_expected);
  CHECK(t.histogram().half_range() == r);
  CHECK(t.range().min <= 0.0f);
}

TEST_CASE("observers: merge(A, B) equals observing A then B, bit for bit") {
  // Shard A is non-negative and small, B signed and larger: merging must re-bin both.
  const std::vector<float> a = uniform(30000, 11, 0.0f, 0.75f);
  const std::vector<float> b = gaussian(40000, 12, 2.0f);
  std::vector<float> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  const QuantTarget targets[] = {{8, false, false}, {8, true, true}, {4, false, false}};
  for (CalibrationMethod m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse,
                              CalibrationMethod::kEntropy}) {
    const std::string method = ptq::convert::calibration_method_name(m);
    CAPTURE(method);
    const RangeObserver sequential = observe_all(with_method(m), ab, 4096);
    RangeObserver left = observe_all(with_method(m), a, 4096);
    const RangeObserver right = observe_all(with_method(m), b, 999);
    RangeObserver reverse = right;
    REQUIRE(left.merge(right).ok());
    REQUIRE(reverse.merge(observe_all(with_method(m), a, 3)).ok());
    for (const RangeObserver* merged : {&left, &reverse}) {
      CHECK(merged->count() == sequential.count());
      CHECK(merged->min_max() == sequential.min_max());
      CHECK(merged->histogram().counts() == sequential.histogram().counts());
      for (const QuantTarget& t : targets) CHECK(merged->range(t) == sequential.range(t));
    }
  }
  // Merging an empty observer changes nothing; methods or bins that differ are refused.
  RangeObserver p = observe_all(with_method(CalibrationMethod::kPercentile), a, 100);
  const Range before = p.range();
  REQUIRE(p.merge(RangeObserver(with_method(CalibrationMethod::kPercentile))).ok());
  CHECK(p.range() == before);
  const ptq::Status s = p.merge(RangeObserver(with_method(CalibrationMethod::kMse)));
  CHECK(s.code() == ptq::StatusCode::kInvalidArgument);
  CHECK(s.message().find("percentile") != std::string::npos);
  CalibrationOptions other_bins = with_method(CalibrationMethod::kPercentile);
  other_bins.bins = 512;
  CHECK(!p.merge(RangeObserver(other_bins)).ok());
}

TEST_CASE("observers: percentile against the exact sort-based percentile, within one bin") {
  struct Case {
    const char* name;
    std::vector<float> x;
  };
  std::vector<float> expo(kLarge);
  {
    std::mt19937 rng(21);
    std::exponential_distribution<float> d(0.5f);
    for (float& v : expo) v = d(rng);
  }
  std::vector<float> negative = gaussian(kLarge / 4, 22, 1.0f, -10.0f);
  for (float& v : negative) v = std::min(v, -0.001f);
  const Case cases[] = {{"gaussian", gaussian(kLarge, 20, 1.5f, 0.3f)},
                        {"exponential (one-sided)", expo},
                        {"negative (one-sided)", negative}};
  for (const Case& c : cases) {
    std::vector<float> sorted = c.x;
    std::sort(sorted.begin(), sorted.end());
    std::vector<float> mag(c.x.size());
    for (std::size_t i = 0; i < mag.size(); ++i) mag[i] = std::fabs(c.x[i]);
    std::sort(mag.begin(), mag.end());
    for (double pct : {99.99, 99.9, 99.0, 90.0}) {
      const std::string name = c.name;
      CAPTURE(name);
      CAPTURE(pct);
      CalibrationOptions o = with_method(CalibrationMethod::kPercentile);
      o.percentile = pct;
      const RangeObserver obs = observe_all(o, c.x, 65536);
      const double n = static_cast<double>(sorted.size());
      const double w = obs.histogram().width();
      // The value with `rank` values at or below it (nearest rank).
      auto exact = [&](double rank) {
        const std::size_t k = static_cast<std::size_t>(std::max(1.0, std::ceil(rank)));
        return static_cast<double>(sorted[std::min(sorted.size(), k) - 1]);
      };
      const Range r = obs.range();
      const bool positive = sorted.front() >= 0.0f, negative_only = sorted.back() <= 0.0f;
      const double keep = pct / 100.0;
      if (positive) {
        CHECK(r.min == 0.0f);
        CHECK(std::fabs(r.max - exact(keep * n)) <= w);
      } else if (negative_only) {
        CHECK(r.max == 0.0f);
        CHECK(std::fabs(r.min - exact((1.0 - keep) * n)) <= w);
      } else {
        const double tail = (1.0 - keep) / 2.0;
        CHECK(std::fabs(r.min - exact(tail * n)) <= w);
        CHECK(std::fabs(r.max - exact((1.0 - tail) * n)) <= w);
      }
      // Symmetric targets: the percentile of |x|.
      const double t = mag[std::min(mag.size(), static_cast<std::size_t>(std::ceil(keep * n))) - 1];
      const Range rs = obs.range({8, true, true});
      CHECK(std::fabs(std::max(std::fabs(rs.min), std::fabs(rs.max)) - t) <= w);
      CHECK(rs.min >= std::min(0.0f, sorted.front()));
      CHECK(rs.max <= std::max(0.0f, sorted.back()));
    }
  }
}

TEST_CASE("observers: MSE finds the best range of a measured sweep and beats min/max on outliers") {
  // A Gaussian (sigma 1) of N values, four of them replaced by outliers at 100, 80 (positive) and
  // -90, -70 (negative). With the body unclipped (|x| < 6) and every outlier clipped, the expected
  // error of a range is the outliers' squared clipping distance plus (N - 4) s^2 / 12 of rounding:
  //   symmetric [-t, t], s = t / 127:
  //     E(t) = (100-t)^2 + (90-t)^2 + (80-t)^2 + (70-t)^2 + (N-4) t^2 / (12 * 127^2)
  //     dE/dt = 0  ->  t* = 340 / (4 + (N-4) / (12 * 127^2))        (N = 1e6: 37.1; 2e5: 67.5)
  //   asymmetric [-a, b], s = (a + b) / 255, c = (N-4) / (12 * 255^2):
  //     dE/db = 0: (100-b) + (80-b) = c (a+b);  dE/da = 0: (90-a) + (70-a) = c (a+b)
  //     ->  a = b - 10,  b* = (90 + 5c) / (1 + c)                     (N = 1e6: 42.25, -32.25)
  // The histogram's signed layout here has R = 128 and width 0.125: the search lands within two
  // bins of these optima.
  std::vector<float> x = gaussian(kLarge, 31);
  x[10] = 100.0f, x[20] = -90.0f, x[30] = 80.0f, x[40] = -70.0f;
  const double n = static_cast<double>(x.size());
  const double t_star = 340.0 / (4.0 + (n - 4.0) / (12.0 * 127.0 * 127.0));
  const double c = (n - 4.0) / (12.0 * 255.0 * 255.0);
  const double b_star = (90.0 + 5.0 * c) / (1.0 + c);
  const RangeObserver mse = observe_all(with_method(CalibrationMethod::kMse), x, 65536);
  const RangeObserver minmax = observe_all(with_method(CalibrationMethod::kMinMax), x, 65536);
  REQUIRE(mse.histogram().width() == 0.125);
  const Range rs = mse.range({8, true, true});
  CHECK(std::fabs(rs.max - t_star) <= 0.25);
  CHECK(rs.min == -rs.max);
  const Range ra = mse.range({8, false, false});
  CHECK(std::fabs(ra.max - b_star) <= 0.25);
  CHECK(std::fabs(-ra.min - (b_star - 10.0)) <= 0.25);
  for (const QuantTarget& target : {QuantTarget{8, true, true}, QuantTarget{8, false, false}}) {
    CAPTURE(target.symmetric);
    const Range r = mse.range(target);
    const double chosen = measured_mse(x, r, target);
    CHECK(chosen < measured_mse(x, minmax.range(target), target));
    // The best of a sweep of symmetric ranges [-t, t] and, for the asymmetric target, of
    // [-t * 90/100, t] (the outliers' own proportion), measured on the data: the chosen range is
    // within 5% of it.
    double best = std::numeric_limits<double>::infinity();
    const int steps = ptq_test::kSanitized ? 20 : 40;
    for (int k = 1; k <= steps; ++k) {
      const float t = 100.0f * static_cast<float>(k) / static_cast<float>(steps);
      best = std::min(best, measured_mse(x, {-t, t}, target));
      if (!target.symmetric) best = std::min(best, measured_mse(x, {-0.9f * t, t}, target));
    }
    CHECK(chosen <= 1.05 * best);
  }
  // Uniform data: clipping never pays more than a hair; the range keeps nearly all of [-1, 1].
  // (Optimum of N(1-b)^3/6 + N(2b/255)^2/12 per side: 1 - b = sqrt(b / (3 * 255^2 / 2)) ~ 0.003.)
  const std::vector<float> u = uniform(kLarge, 32, -1.0f, 1.0f);
  const RangeObserver mu = observe_all(with_method(CalibrationMethod::kMse), u, 65536);
  for (const QuantTarget& target : {QuantTarget{8, true, true}, QuantTarget{8, false, false}}) {
    const Range r = mu.range(target);
    CHECK(r.max >= 0.98f);
    CHECK(r.min <= -0.98f);
    // The model's optimum is a hair inside the extremes; measured, that is within 1% of min/max.
    CHECK(measured_mse(u, r, target) <= 1.01 * measured_mse(u, mu.min_max(), target));
  }
}

TEST_CASE("observers: entropy clips outliers of a Gaussian and keeps uniform data whole") {
  // Gaussian (sigma 1) plus four outliers at +-(80..100): R = 128, the signed layout's width is
  // 2 * 128 / 2048 = 0.125, so the |x| histogram's slices start at nq = 128 bins = 16. The body lies
  // in the first ~40 bins: a 128-bin slice quantizes it bin for bin (Q = P on the body) and only the
  // 4 outliers (4e-6 of the mass) disagree, while wider slices merge body bins; the threshold is
  // therefore the smallest slices' -- well below the outliers, above the body.
  std::vector<float> x = gaussian(kLarge, 41);
  x[10] = 100.0f, x[20] = -90.0f, x[30] = 80.0f, x[40] = -70.0f;
  const RangeObserver e = observe_all(with_method(CalibrationMethod::kEntropy), x, 65536);
  for (const QuantTarget& target : {QuantTarget{8, true, true}, QuantTarget{8, false, false}}) {
    const Range r = e.range(target);
    CAPTURE(r.min);
    CAPTURE(r.max);
    CHECK(r.max >= 16.0f);
    CHECK(r.max <= 25.0f);
    CHECK(r.min == -r.max);  // both signs: the |x| search
  }
  // A Gaussian with moderate outliers at 7.5: R = 8, width 1/128, slices from 1.0 upwards, the body
  // spans ~600 bins. The KL optimum for int8 lies inside the body's tail: 3 to 6.
  std::vector<float> y = gaussian(kLarge, 42);
  y[5] = 7.5f, y[6] = -7.4f;
  const Range ry = observe_all(with_method(CalibrationMethod::kEntropy), y, 65536).range({8, true, true});
  CAPTURE(ry.max);
  CHECK(ry.max >= 3.0f);
  CHECK(ry.max <= 6.0f);
  // ReLU-like data (asymmetric target, non-negative, half of it exact zeros): the one-sided search
  // with 256 levels. Without outliers it keeps nearly the whole half-normal (max ~4.9): with the
  // zero spike left in bin 0 it would stop at the widest slice whose first group is bin 0 alone,
  // 511 bins of 1/256 = 2.0. With an outlier at 60 (R = 64, width 1/32) the slices start at
  // 256 / 32 = 8 and the outlier is clipped.
  std::vector<float> relu = gaussian(kLarge, 43);
  for (float& v : relu) v = std::max(v, 0.0f);
  const Range rn = observe_all(with_method(CalibrationMethod::kEntropy), relu, 65536).range();
  CAPTURE(rn.max);
  CHECK(rn.min == 0.0f);
  CHECK(rn.max > 3.5f);
  relu[7] = 60.0f;
  const Range rr = observe_all(with_method(CalibrationMethod::kEntropy), relu, 65536).range();
  CAPTURE(rr.max);
  CHECK(rr.min == 0.0f);
  CHECK(rr.max >= 8.0f);
  CHECK(rr.max < 30.0f);
  // Uniform data: any slice short of the whole piles the cut mass into P's last bin; the full range wins.
  const std::vector<float> u = uniform(kLarge, 44, -1.0f, 1.0f);
  const RangeObserver eu = observe_all(with_method(CalibrationMethod::kEntropy), u, 65536);
  for (const QuantTarget& target : {QuantTarget{8, true, true}, QuantTarget{8, false, false}}) {
    const Range r = eu.range(target);
    CHECK(r.max >= 0.98f);
    CHECK(r.min <= -0.98f);
  }
  const std::vector<float> up = uniform(kLarge, 45, 0.0f, 6.0f);
  const Range rup = observe_all(with_method(CalibrationMethod::kEntropy), up, 65536).range();
  CHECK(rup.min == 0.0f);
  CHECK(rup.max >= 0.98f * 6.0f);
}

TEST_CASE("observers: non-finite values are skipped and counted") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float x[] = {nan, 1.0f, -inf, -3.0f, inf, 2.0f, nan, 0.5f, 0.25f, -1.0f, 0.0f};
  const float clean[] = {1.0f, -3.0f, 2.0f, 0.5f, 0.25f, -1.0f, 0.0f};
  for (CalibrationMethod m : kAllMethods) {
    const std::string method = ptq::convert::calibration_method_name(m);
    CAPTURE(method);
    RangeObserver obs(with_method(m)), ref(with_method(m));
    obs.observe(x, 11);
    ref.observe(clean, 7);
    CHECK(obs.count() == 7);
    CHECK(obs.non_finite_count() == 4);
    CHECK(obs.min_max() == Range{-3.0f, 2.0f});
    CHECK(obs.range() == ref.range());
    CHECK(obs.histogram().counts() == ref.histogram().counts());
    RangeObserver only_bad(with_method(m));
    const float bad[] = {nan, inf, -inf};
    only_bad.observe(bad, 3);
    CHECK(only_bad.empty());
    CHECK(only_bad.non_finite_count() == 3);
    CHECK(only_bad.range() == Range{});
  }
}

TEST_CASE("observers: empty and degenerate data") {
  const float zeros[] = {0.0f, 0.0f, -0.0f, 0.0f};
  const float five[] = {5.0f};
  const float negative[] = {-3.0f, -2.0f, -1.0f};
  for (CalibrationMethod m : kAllMethods) {
    const std::string method = ptq::convert::calibration_method_name(m);
    CAPTURE(method);
    for (const QuantTarget& t : {QuantTarget{8, false, false}, QuantTarget{8, true, true}}) {
      CAPTURE(t.symmetric);
      RangeObserver empty(with_method(m));
      empty.observe(nullptr, 0);
      CHECK(empty.empty());
      CHECK(empty.count() == 0);
      CHECK(empty.min_max() == Range{});
      CHECK(empty.range(t) == Range{});

      RangeObserver z(with_method(m));
      z.observe(zeros, 4);
      CHECK(z.count() == 4);
      CHECK(!z.empty());
      CHECK(z.range(t) == Range{0.0f, 0.0f});

      RangeObserver single(with_method(m));
      single.observe(five, 1);
      CHECK(single.min_max() == Range{5.0f, 5.0f});
      CHECK(single.range(t) == Range{0.0f, 5.0f});

      RangeObserver neg(with_method(m));
      neg.observe(negative, 3);
      CHECK(neg.min_max() == Range{-3.0f, -1.0f});
      CHECK(neg.range(t).max == 0.0f);
      // 3 values: no method finds clipping worth it except the percentile, which interpolates the
      // lowest value's bin (99.99% of 3 values cuts 0.0003 of a value).
      CHECK(neg.range(t).min <= -2.99f);
      CHECK(neg.range(t).min >= -3.0f);
    }
  }
  // Zeros then a negative value then a large one: the zero count moves with every re-layout.
  RangeObserver p(with_method(CalibrationMethod::kPercentile));
  p.observe(zeros, 4);
  const float later[] = {-0.5f, 300.0f};
  p.observe(later, 2);
  double r = 0;
  bool s = false;
  std::vector<float> all(zeros, zeros + 4);
  all.insert(all.end(), later, later + 2);
  CHECK(p.histogram().counts() == direct_histogram(all, 2048, r, s));
  CHECK(p.histogram().half_range() == 512.0);
}

TEST_CASE("observers: every range contains 0 and lies within the observed extremes") {
  std::vector<float> shifted = gaussian(20000, 51, 0.5f, 3.0f);  // all well above 0
  for (CalibrationMethod m : kAllMethods) {
    for (const QuantTarget& t : {QuantTarget{8, false, false}, QuantTarget{8, true, true},
                                 QuantTarget{4, false, true}, QuantTarget{16, true, false}}) {
      const std::string method = ptq::convert::calibration_method_name(m);
    CAPTURE(method);
      const RangeObserver obs = observe_all(with_method(m), shifted, 1000);
      const Range r = obs.range(t);
      CHECK(r.min == 0.0f);
      CHECK(r.max > 0.0f);
      CHECK(r.max <= obs.min_max().max);
    }
  }
}
}  // TEST_SUITE
