// convert/observers.hpp: range estimators for calibration -- one streaming observer per tensor that
// sees the float values the model produces on the representative dataset and proposes the real
// range [min, max] the tensor will be quantized to.
//
// Methods (CalibrationMethod):
//   minmax          TFLite's calibrator: the exact extremes over every sample.
//   moving-average  TensorFlow's MovingAvgQuantize / PyTorch's MovingAverageMinMaxObserver: per
//                   observe() call, the call's (batch's) finite min and max b_min, b_max; the first
//                   call sets min = b_min, max = b_max, later ones do
//                       min += c * (b_min - min),   max += c * (b_max - max)      (float, c = averaging_constant)
//                   The result depends on the order of the calls and on how data are cut into calls.
//   percentile      lower and upper percentiles of a histogram, interpolated linearly inside a bin
//                   (values assumed uniform in their bin), clamped to the observed extremes.
//                   `percentile` p is the share of values kept inside the range: two-sided data
//                   lose (100 - p) / 2 % on each side; data of one sign (all >= 0 or all <= 0) lose
//                   100 - p % on their one side; symmetric targets take the p-th percentile of |x|
//                   (ONNX Runtime's PercentileCalibrater does the same for symmetric=True).
//   mse             the clipping range that minimises the expected squared quantize-dequantize
//                   error under the QuantTarget, from the histogram (below).
//   entropy         TensorRT's KL-divergence threshold search (GTC 2017, "8-bit inference with
//                   TensorRT"; as ONNX Runtime's HistogramCalibrater entropy mode runs it), below.
//
// Every range() contains 0 (TFLite's ChooseQuantizationParams needs real 0 in the range) and is never
// wider than min_max() widened to contain 0. Nudging the range onto a quantization grid is
// core/qparams.hpp's job, not the observer's.
//
// The histogram (percentile, mse, entropy). `bins` B (a power of two) bins of equal width cover
//     [0, R)    while every value seen is >= 0   (width R / B; "non-negative layout"), or
//     [-R, R)   once a negative value appeared  (width 2R / B; "signed layout"),
// where R is the smallest power of two strictly greater than every |x| seen (R = 0 while only zeros
// were seen: they sit in the bin that starts at 0). A value goes to bin floor((x - origin) / width),
// computed exactly (Histogram::add says how). When R must double, adjacent bin pairs merge; when
// the first negative value arrives, pairs merge into the upper half of the signed layout. Both are
// exact re-binnings because every bin edge of a coarser layout is an edge of the finer one. Hence
// the histogram of a set of values is a function of the set alone -- bin j counts exactly the values
// in [origin + j*width, origin + (j+1)*width) of the layout the whole set needs -- so it does not
// depend on the order values arrive in or on how they are split into calls, and merging two
// observers (bringing both to the common layout and adding counts) is exact. Memory: B uint64
// counters per tensor; no observer stores values. The occupied part of the histogram is at least
// B/2 bins (non-negative layout) or B/4 bins on the larger side (signed layout).
//
// MSE. The expected error of a range [a, b] (a <= 0 <= b) with step s = (b - a) / (qmax - qmin):
//     clipping error  sum over values outside [a, b] of (x - a)^2 or (x - b)^2, each bin's values
//                     taken uniform in the bin: n * ((centre - bound)^2 + width^2 / 12);
//     rounding error  s^2 / 12 for every value inside the range, except exact zeros (counted
//                     separately at observe()), which the nudged zero point represents exactly.
// Candidates are the histogram's bin edges (every edge on each side of 0, plus the observed min and
// max themselves), so the clipped set is always whole bins and each candidate costs O(1) with prefix
// sums. Asymmetric targets search every (a, b) pair; past 2^16 pairs, a grid strided on both sides
// (at most 5 candidates apart with 2048 bins, where the error varies smoothly) and then every pair
// within +-stride of its best. Symmetric targets search t over the edges of the |x| histogram with
// s = t / qmax (clipping at -t and t). Ties keep the widest candidate.
//
// Entropy. On a one-sided histogram h of |x| (the histogram itself for non-negative data), for each
// candidate slice of the first i bins (i from the number of quantized bins nq to the last occupied
// bin): P is h[0, i) with the mass beyond the slice added to its last bin; Q is h[0, i) merged into
// nq groups of adjacent bins (group g holds bins [g*i/nq, (g+1)*i/nq)), each group's count spread
// evenly over the bins where P is non-zero; KL(P || Q) of the normalised distributions, a zero Q
// bin under a non-zero P bin counting as 1e-4 (ONNX Runtime's smoothing eps). The threshold is the
// upper edge of the slice with the smallest divergence, clamped to max |x|; divergences within 1e-12
// of each other count as ties, which keep the wider slice (ONNX Runtime keeps the narrower: on sparse
// data, e.g. a few distinct values, the narrowest slice can hold all its mass in one bin where P = Q,
// a divergence of 0 that says nothing about the values it would clip).
// nq is 2^(num_bits - 1) -- TensorRT's 128 for int8 -- for symmetric targets and for asymmetric
// targets on data of both signs (a |x| search, range [max(min, -t), min(max, t)]); for asymmetric
// targets on data of one sign (ReLU outputs, the common int8 activation) the one side is searched
// with all 2^num_bits levels (2^num_bits - 1 with narrow_range), range [0, t] or [-t, 0]. The
// search is O((occupied bins) * nq) with prefix sums of h and h*log(h). Exact zeros (counted at
// observe()) are taken out of h: the zero point represents them at any threshold, and as a spike in
// bin 0 (half of a ReLU output) they would dominate the divergence and drag the threshold to the
// widest slice whose first group is bin 0 alone (TensorRT's pytorch-quantization overwrites bin 0
// with bin 1 for the same reason).
//
// Merge. min/max and the histogram methods: merge(A, B) is bit for bit what observing A's data and
// then B's would give (counts add, extremes combine, histograms re-bin exactly). Moving average:
// the two running ranges are averaged weighted by how many observe() calls with finite values each
// saw, in double, then rounded to float -- deterministic and symmetric (merge(A, B) == merge(B, A))
// but only an approximation of observing sequentially, which no merge of two averages can give.
//
// Non-finite values (NaN, +-inf) are skipped by every method and counted (non_finite_count()).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN
namespace convert {

enum class CalibrationMethod { kMinMax, kMovingAverageMinMax, kPercentile, kMse, kEntropy };

inline const char* calibration_method_name(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::kMinMax: return "minmax";
    case CalibrationMethod::kMovingAverageMinMax: return "moving-average";
    case CalibrationMethod::kPercentile: return "percentile";
    case CalibrationMethod::kMse: return "mse";
    case CalibrationMethod::kEntropy: return "entropy";
  }
  return "unknown";
}

inline Result<CalibrationMethod> parse_calibration_method(const std::string& name) {
  static constexpr CalibrationMethod kAll[] = {
      CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverageMinMax,
      CalibrationMethod::kPercentile, CalibrationMethod::kMse, CalibrationMethod::kEntropy};
  std::string valid;
  for (CalibrationMethod m : kAll) {
    if (name == calibration_method_name(m)) return m;
    valid += valid.empty() ? "" : ", ";
    valid += calibration_method_name(m);
  }
  return invalid_argument("calibration method \"" + name + "\" is not one of: " + valid);
}

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  float averaging_constant = 0.01f;  // moving average: weight of each observe() call, in (0, 1]
  double percentile = 99.99;         // percentile: share of values kept inside the range, in (0, 100]
  int bins = 2048;                   // histogram methods: a power of two in [16, 2^20]
};

inline constexpr int kMinHistogramBins = 16;
inline constexpr int kMaxHistogramBins = 1 << 20;

// Checks the options' fields; the message names the field and its valid values. RangeObserver does
// not fail on invalid options: it clamps them as its constructor documents.
inline Status validate_calibration_options(const CalibrationOptions& o) {
  if (!(o.averaging_constant > 0.0f && o.averaging_constant <= 1.0f)) {
    return invalid_argument("calibration options: averaging_constant " +
                            std::to_string(o.averaging_constant) + " is not in (0, 1]");
  }
  if (!(o.percentile > 0.0 && o.percentile <= 100.0)) {
    return invalid_argument("calibration options: percentile " + std::to_string(o.percentile) +
                            " is not in (0, 100]");
  }
  if (o.bins < kMinHistogramBins || o.bins > kMaxHistogramBins || (o.bins & (o.bins - 1)) != 0) {
    return invalid_argument("calibration options: bins " + std::to_string(o.bins) +
                            " is not a power of two in [" + std::to_string(kMinHistogramBins) +
                            ", " + std::to_string(kMaxHistogramBins) + "]");
  }
  return {};
}

struct Range {
  float min = 0, max = 0;
  friend bool operator==(const Range& a, const Range& b) { return a.min == b.min && a.max == b.max; }
  friend bool operator!=(const Range& a, const Range& b) { return !(a == b); }
};

// What the range will be quantized to: MSE and entropy search for the range that minimises the
// error of this target. num_bits outside [2, 16] is clamped into it.
struct QuantTarget {
  int num_bits = 8;
  bool symmetric = false;
  bool narrow_range = false;
};

namespace observer_detail {

// Finite extremes, non-finite and exact-zero counts of one call's values.
struct BatchStats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  std::uint64_t non_finite = 0;
  std::uint64_t zeros = 0;
  bool any_finite() const { return min <= max; }
};

// One pass, written as kLanes independent accumulators so that the compiler vectorises it.
inline BatchStats scan(const float* x, std::size_t n) {
  constexpr std::size_t kLanes = 8;
  constexpr std::size_t kChunk = std::size_t{1} << 28;  // keeps the per-lane uint32 counts exact
  const float inf = std::numeric_limits<float>::infinity();
  BatchStats s;
  for (std::size_t begin = 0; begin < n; begin += kChunk) {
    const std::size_t end = std::min(n, begin + kChunk);
    float lo[kLanes], hi[kLanes];
    std::uint32_t bad[kLanes], zero[kLanes];
    for (std::size_t l = 0; l < kLanes; ++l) lo[l] = inf, hi[l] = -inf, bad[l] = 0, zero[l] = 0;
    std::size_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) {
        const float v = x[i + l];
        const bool finite = std::fabs(v) <= FLT_MAX;  // false for NaN and +-inf
        const float vlo = finite ? v : inf;
        const float vhi = finite ? v : -inf;
        lo[l] = vlo < lo[l] ? vlo : lo[l];
        hi[l] = vhi > hi[l] ? vhi : hi[l];
        bad[l] += finite ? 0u : 1u;
        zero[l] += v == 0.0f ? 1u : 0u;
      }
    }
    for (; i < end; ++i) {
      const float v = x[i];
      const bool finite = std::fabs(v) <= FLT_MAX;
      if (finite) {
        lo[0] = std::min(lo[0], v);
        hi[0] = std::max(hi[0], v);
      }
      bad[0] += finite ? 0u : 1u;
      zero[0] += v == 0.0f ? 1u : 0u;
    }
    for (std::size_t l = 0; l < kLanes; ++l) {
      s.min = std::min(s.min, lo[l]);
      s.max = std::max(s.max, hi[l]);
      s.non_finite += bad[l];
      s.zeros += zero[l];
    }
  }
  return s;
}

// The smallest power of two strictly greater than m > 0 (m finite).
inline double power_of_two_above(double m) {
  int e = 0;
  std::frexp(m, &e);  // m = f * 2^e with f in [0.5, 1): 2^(e-1) <= m < 2^e
  return std::ldexp(1.0, e);
}

// The histogram described in the file comment.
class Histogram {
 public:
  explicit Histogram(int bins = 0) : counts_(static_cast<std::size_t>(bins), 0) {}

  int bins() const { return static_cast<int>(counts_.size()); }
  double half_range() const { return r_; }  // R (0 while only zeros were seen)
  bool is_signed() const { return signed_; }
  double origin() const { return signed_ ? -r_ : 0.0; }
  double width() const { return (signed_ ? 2.0 * r_ : r_) / bins(); }
  int zero_bin() const { return signed_ ? bins() / 2 : 0; }  // the bin [0, width)
  const std::vector<std::uint64_t>& counts() const { return counts_; }

  // Brings the layout to one that holds every value of [lo, hi] (finite, lo <= hi).
  void cover(float lo, float hi) {
    const double m = std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi)));
    const double r = m > 0.0 ? std::max(r_, power_of_two_above(m)) : r_;
    relayout(r, signed_ || lo < 0.0f);
  }

  // Counts the finite values of x; each must lie inside the layout (cover() first). `non_finite` is
  // how many of them are NaN or +-inf (scan() counts them).
  //
  // Per block of values: an integer-only pass replaces non-finite values by +0 (they land in the
  // zero bin and are taken out again at the end), then the bin index is
  //     i = trunc(x * scale + zero_bin)        in double, scale = 1 / width a power of two,
  // which is floor((x - origin) / width) exactly: x * scale is exact, and the sum is exact unless
  // |x * scale| < 2^-10, where only a negative x can round up -- onto zero_bin itself, so a negative
  // x that lands there moves to zero_bin - 1. Both passes are free of branches and of selects
  // guarding floating-point operations, which is what lets GCC vectorise them under its default
  // -ftrapping-math. The counts go to four interleaved 32-bit sub-histograms (a thread-local
  // scratch folded into the 64-bit counts after every call) so that runs of equal bins do not
  // serialise on one counter.
  void add(const float* x, std::size_t n, std::uint64_t non_finite) {
    const std::int32_t b = bins();
    const std::int32_t zero = zero_bin();
    const double scale = r_ > 0.0 ? 1.0 / width() : 0.0;
    const double zero_d = static_cast<double>(zero);
    constexpr std::size_t kBlock = 256;
    constexpr std::size_t kFoldEvery = std::size_t{1} << 30;  // keeps every 32-bit counter exact
    const bool interleave = n >= 4 * counts_.size();
    std::uint32_t* sub = interleave ? sub_histograms(counts_.size()) : nullptr;
    std::uint32_t clean[kBlock];
    std::int32_t index[kBlock];
    std::size_t since_fold = 0;
    for (std::size_t begin = 0; begin < n; begin += kBlock) {
      const std::size_t m = std::min(kBlock, n - begin);
      std::memcpy(clean, x + begin, m * sizeof(float));
      for (std::size_t k = 0; k < m; ++k) clean[k] = (clean[k] & 0x7fffffffu) < 0x7f800000u ? clean[k] : 0u;
      for (std::size_t k = 0; k < m; ++k) {
        float v;
        std::memcpy(&v, &clean[k], sizeof v);
        std::int32_t i = static_cast<std::int32_t>(static_cast<double>(v) * scale + zero_d);
        const std::int32_t negative = clean[k] > 0x80000000u ? 1 : 0;  // x < 0 (not -0)
        i -= negative & (i == zero ? 1 : 0);
        i = i < 0 ? 0 : i;
        i = i > b - 1 ? b - 1 : i;
        index[k] = i;
      }
      if (sub != nullptr) {
        const std::size_t stride = counts_.size();
        std::size_t k = 0;
        for (; k + 4 <= m; k += 4) {
          ++sub[static_cast<std::size_t>(index[k])];
          ++sub[stride + static_cast<std::size_t>(index[k + 1])];
          ++sub[2 * stride + static_cast<std::size_t>(index[k + 2])];
          ++sub[3 * stride + static_cast<std::size_t>(index[k + 3])];
        }
        for (; k < m; ++k) ++sub[static_cast<std::size_t>(index[k])];
        since_fold += m;
        if (since_fold >= kFoldEvery) fold(sub), since_fold = 0;
      } else {
        for (std::size_t k = 0; k < m; ++k) ++counts_[static_cast<std::size_t>(index[k])];
      }
    }
    if (sub != nullptr) fold(sub);
    counts_[static_cast<std::size_t>(zero)] -= non_finite;
  }

  // Adds another histogram of the same number of bins, re-binning both to the common layout.
  void merge(const Histogram& other) {
    Histogram o = other;
    const double r = std::max(r_, o.r_);
    const bool s = signed_ || o.signed_;
    relayout(r, s);
    o.relayout(r, s);
    for (std::size_t j = 0; j < counts_.size(); ++j) counts_[j] += o.counts_[j];
  }

 private:
  // Four zeroed sub-histograms of `bins` counters, one scratch per thread.
  static std::uint32_t* sub_histograms(std::size_t bins) {
    static thread_local std::vector<std::uint32_t> scratch;
    if (scratch.size() < 4 * bins) scratch.assign(4 * bins, 0u);
    return scratch.data();
  }

  // Adds the sub-histograms to the counts and zeroes them.
  void fold(std::uint32_t* sub) {
    const std::size_t b = counts_.size();
    for (std::size_t j = 0; j < b; ++j) {
      counts_[j] += std::uint64_t{sub[j]} + sub[b + j] + sub[2 * b + j] + sub[3 * b + j];
      sub[j] = sub[b + j] = sub[2 * b + j] = sub[3 * b + j] = 0u;
    }
  }

  // Re-bins to half range r (a power of two >= r_) and signedness s (>= signed_). Every step maps
  // old bin j to new bin (j >> 1) + shift: doubling R merges pairs (shift 0 in the non-negative
  // layout, B/4 in the signed one: the old range [-R, R) is the middle half of [-2R, 2R)); turning
  // signed at the same R merges pairs into the upper half (shift B/2).
  void relayout(double r, bool s) {
    if (r_ == 0.0) {  // only zeros so far: all in the zero bin, which any layout has
      const std::uint64_t zeros = counts_[static_cast<std::size_t>(zero_bin())];
      counts_[static_cast<std::size_t>(zero_bin())] = 0;
      r_ = r;
      signed_ = s && r > 0.0;
      counts_[static_cast<std::size_t>(zero_bin())] = zeros;
      return;
    }
    const int half = bins() / 2, quarter = bins() / 4;
    while (r_ < r) {
      halve_into(signed_ ? quarter : 0);
      r_ *= 2.0;
    }
    if (s && !signed_) {
      halve_into(half);
      signed_ = true;
    }
  }

  void halve_into(int shift) {
    std::vector<std::uint64_t> out(counts_.size(), 0);
    for (std::size_t j = 0; j < counts_.size(); ++j) out[(j >> 1) + static_cast<std::size_t>(shift)] += counts_[j];
    counts_.swap(out);
  }

  std::vector<std::uint64_t> counts_;
  double r_ = 0.0;
  bool signed_ = false;
};

// A one-sided histogram: bin j holds values v (v = x or |x|) in [j*width, (j+1)*width).
struct OneSided {
  std::vector<double> counts;
  double width = 0;
};

// The histogram of |x|: the signed layout folded at 0 (bin B/2 - 1 - k, x in [-(k+1)w, -kw), joins
// bin B/2 + k), or the non-negative layout as it is.
inline OneSided fold_abs(const Histogram& h) {
  OneSided f;
  f.width = h.width();
  const auto& c = h.counts();
  const std::size_t b = c.size();
  if (!h.is_signed()) {
    f.counts.assign(c.begin(), c.end());
  } else {
    f.counts.resize(b / 2);
    for (std::size_t k = 0; k < b / 2; ++k) f.counts[k] = static_cast<double>(c[b / 2 + k] + c[b / 2 - 1 - k]);
  }
  return f;
}

// The value below which `rank` of the histogram's values lie, linear inside the bin where the
// cumulative count reaches rank (0 <= rank <= total). counts[j] covers [origin + j*w, origin + (j+1)*w).
template <class Count>
double quantile(const Count* counts, std::size_t bins, double origin, double w, double rank) {
  double cum = 0;
  std::size_t last = 0;
  for (std::size_t j = 0; j < bins; ++j) {
    const double c = static_cast<double>(counts[j]);
    if (c <= 0) continue;
    last = j;
    if (cum + c >= rank) {
      const double f = std::min(1.0, std::max(0.0, (rank - cum) / c));
      return origin + (static_cast<double>(j) + f) * w;
    }
    cum += c;
  }
  return origin + static_cast<double>(last + 1) * w;
}

inline int clamp_bits(int bits) { return std::min(16, std::max(2, bits)); }

}  // namespace observer_detail

// One tensor's observer: streaming, bounded memory (O(bins) for the histogram methods, O(1)
// otherwise), deterministic and mergeable across shards (see the file comment for what merge means
// per method).
class RangeObserver {
 public:
  // Invalid options are clamped rather than refused (validate_calibration_options() reports them):
  // averaging_constant into (0, 1] (NaN -> 0.01), percentile into (0, 100] (NaN -> 99.99), bins up
  // to the next power of two inside [16, 2^20].
  explicit RangeObserver(const CalibrationOptions& options = {}) : options_(sanitize(options)) {
    if (uses_histogram()) hist_ = observer_detail::Histogram(options_.bins);
  }

  const CalibrationOptions& options() const { return options_; }
  // The histogram (percentile, mse, entropy; zero bins otherwise), for tests and reports.
  const observer_detail::Histogram& histogram() const { return hist_; }

  // One sample's (or batch's) values. NaN and +-inf are skipped and counted.
  void observe(const float* data, std::size_t n) {
    if (data == nullptr || n == 0) return;
    const observer_detail::BatchStats s = observer_detail::scan(data, n);
    non_finite_ += s.non_finite;
    if (!s.any_finite()) return;
    count_ += n - s.non_finite;
    zeros_ += s.zeros;
    min_ = std::min(min_, s.min);
    max_ = std::max(max_, s.max);
    if (options_.method == CalibrationMethod::kMovingAverageMinMax) {
      if (batches_ == 0) {
        avg_min_ = s.min;
        avg_max_ = s.max;
      } else {
        const float c = options_.averaging_constant;
        avg_min_ = avg_min_ + c * (s.min - avg_min_);
        avg_max_ = avg_max_ + c * (s.max - avg_max_);
      }
    }
    ++batches_;
    if (uses_histogram()) {
      hist_.cover(s.min, s.max);
      hist_.add(data, n, s.non_finite);
    }
  }

  // Adds a shard's observations. Both observers must use the same method and number of bins.
  Status merge(const RangeObserver& other) {
    if (other.options_.method != options_.method || other.options_.bins != options_.bins) {
      return invalid_argument(std::string("merging calibration observers: method ") +
                              calibration_method_name(options_.method) + " with " +
                              std::to_string(options_.bins) + " bins cannot take one of method " +
                              calibration_method_name(other.options_.method) + " with " +
                              std::to_string(other.options_.bins) + " bins");
    }
    if (options_.method == CalibrationMethod::kMovingAverageMinMax && other.batches_ > 0) {
      if (batches_ == 0) {
        avg_min_ = other.avg_min_;
        avg_max_ = other.avg_max_;
      } else {
        const double wa = static_cast<double>(batches_), wb = static_cast<double>(other.batches_);
        avg_min_ = static_cast<float>((wa * avg_min_ + wb * other.avg_min_) / (wa + wb));
        avg_max_ = static_cast<float>((wa * avg_max_ + wb * other.avg_max_) / (wa + wb));
      }
    }
    if (uses_histogram()) hist_.merge(other.hist_);
    count_ += other.count_;
    non_finite_ += other.non_finite_;
    zeros_ += other.zeros_;
    batches_ += other.batches_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    return {};
  }

  bool empty() const { return count_ == 0; }
  std::uint64_t count() const { return count_; }
  std::uint64_t non_finite_count() const { return non_finite_; }

  // The raw observed extremes ({0, 0} when empty).
  Range min_max() const { return empty() ? Range{} : Range{min_, max_}; }

  // The chosen range: contains 0, never wider than min_max() widened to contain 0.
  Range range(const QuantTarget& target = {}) const {
    if (empty()) return {};
    double lo = min_, hi = max_;
    switch (options_.method) {
      case CalibrationMethod::kMinMax: break;
      case CalibrationMethod::kMovingAverageMinMax: lo = avg_min_, hi = avg_max_; break;
      case CalibrationMethod::kPercentile: percentile_range(target, lo, hi); break;
      case CalibrationMethod::kMse: mse_range(target, lo, hi); break;
      case CalibrationMethod::kEntropy: entropy_range(target, lo, hi); break;
    }
    const double full_lo = std::min(0.0, static_cast<double>(min_));
    const double full_hi = std::max(0.0, static_cast<double>(max_));
    lo = std::min(0.0, std::max(lo, full_lo));
    hi = std::max(0.0, std::min(hi, full_hi));
    return {static_cast<float>(lo), static_cast<float>(hi)};
  }

 private:
  static CalibrationOptions sanitize(CalibrationOptions o) {
    if (!(o.averaging_constant > 0.0f)) o.averaging_constant = std::isnan(o.averaging_constant) ? 0.01f : FLT_MIN;
    o.averaging_constant = std::min(o.averaging_constant, 1.0f);
    if (!(o.percentile > 0.0)) o.percentile = std::isnan(o.percentile) ? 99.99 : DBL_MIN;
    o.percentile = std::min(o.percentile, 100.0);
    int b = kMinHistogramBins;
    while (b < o.bins && b < kMaxHistogramBins) b *= 2;
    o.bins = b;
    return o;
  }

  bool uses_histogram() const {
    return options_.method == CalibrationMethod::kPercentile || options_.method == CalibrationMethod::kMse ||
           options_.method == CalibrationMethod::kEntropy;
  }

  double max_abs() const { return std::max(std::fabs(static_cast<double>(min_)), std::fabs(static_cast<double>(max_))); }

  // ---- percentile ------------------------------------------------------------------------------
  void percentile_range(const QuantTarget& target, double& lo, double& hi) const {
    using observer_detail::quantile;
    const double n = static_cast<double>(count_);
    const double keep = options_.percentile / 100.0;
    if (target.symmetric) {
      const observer_detail::OneSided f = observer_detail::fold_abs(hist_);
      const double t = quantile(f.counts.data(), f.counts.size(), 0.0, f.width, keep * n);
      lo = -t, hi = t;
      return;
    }
    const auto& c = hist_.counts();
    const double o = hist_.origin(), w = hist_.width();
    if (min_ >= 0.0f) {
      hi = quantile(c.data(), c.size(), o, w, keep * n);
    } else if (max_ <= 0.0f) {
      lo = quantile(c.data(), c.size(), o, w, (1.0 - keep) * n);
    } else {
      const double tail = (1.0 - keep) / 2.0;
      lo = quantile(c.data(), c.size(), o, w, tail * n);
      hi = quantile(c.data(), c.size(), o, w, (1.0 - tail) * n);
    }
  }

  // ---- mse -------------------------------------------------------------------------------------
  // Prefix sums over bins of n, n*centre and n*(centre^2 + w^2/12), exact zeros taken out.
  struct Moments {
    std::vector<double> c0, c1, c2;
    // Clipping error and count of the bins [j0, j1) clipped to `bound`.
    double clip_error(std::size_t j0, std::size_t j1, double bound) const {
      if (j1 <= j0) return 0.0;
      const double s0 = c0[j1] - c0[j0], s1 = c1[j1] - c1[j0], s2 = c2[j1] - c2[j0];
      return std::max(0.0, s2 - 2.0 * bound * s1 + bound * bound * s0);
    }
    double count(std::size_t j0, std::size_t j1) const { return j1 <= j0 ? 0.0 : c0[j1] - c0[j0]; }
  };

  static Moments moments(const std::vector<double>& n, double origin, double w) {
    Moments m;
    m.c0.assign(n.size() + 1, 0.0);
    m.c1.assign(n.size() + 1, 0.0);
    m.c2.assign(n.size() + 1, 0.0);
    for (std::size_t j = 0; j < n.size(); ++j) {
      const double centre = origin + (static_cast<double>(j) + 0.5) * w;
      m.c0[j + 1] = m.c0[j] + n[j];
      m.c1[j + 1] = m.c1[j] + n[j] * centre;
      m.c2[j + 1] = m.c2[j] + n[j] * (centre * centre + w * w / 12.0);
    }
    return m;
  }

  // A candidate bound and the bin index where its clipped bins start (upper) or end (lower).
  struct Candidate {
    double bound;
    std::size_t j;
  };

  void mse_range(const QuantTarget& target, double& lo, double& hi) const {
    const int bits = observer_detail::clamp_bits(target.num_bits);
    const double nonzero = static_cast<double>(count_ - zeros_);
    if (max_abs() == 0.0 || nonzero == 0.0) return;
    if (target.symmetric) {
      observer_detail::OneSided f = observer_detail::fold_abs(hist_);
      f.counts[0] -= static_cast<double>(zeros_);
      const Moments m = moments(f.counts, 0.0, f.width);
      std::size_t last = f.counts.size();
      while (last > 0 && f.counts[last - 1] == 0.0) --last;
      const double qmax = std::ldexp(1.0, bits - 1) - 1.0;
      double best_t = max_abs(), best = nonzero * (best_t / qmax) * (best_t / qmax) / 12.0;
      for (std::size_t j = 1; j < last; ++j) {  // t = j*w clips bins [j, last)
        const double t = static_cast<double>(j) * f.width;
        const double s = t / qmax;
        const double e = m.clip_error(j, last, t) + (nonzero - m.count(j, last)) * s * s / 12.0;
        if (e < best) best = e, best_t = t;
      }
      lo = -best_t, hi = best_t;
      return;
    }
    const auto& c = hist_.counts();
    std::vector<double> n(c.begin(), c.end());
    const std::size_t z = static_cast<std::size_t>(hist_.zero_bin());
    n[z] -= static_cast<double>(zeros_);
    const double o = hist_.origin(), w = hist_.width();
    const Moments m = moments(n, o, w);
    std::size_t first = 0, last = n.size();
    while (first < n.size() && n[first] == 0.0) ++first;
    while (last > first && n[last - 1] == 0.0) --last;
    // Lower candidates clip bins [first, j) to the bound; upper ones clip [j, last).
    std::vector<Candidate> lower, upper;
    if (min_ < 0.0f) {
      lower.push_back({static_cast<double>(min_), first});
      for (std::size_t j = first + 1; j <= z && j < last; ++j) lower.push_back({o + static_cast<double>(j) * w, j});
    } else {
      lower.push_back({0.0, first});
    }
    if (max_ > 0.0f) {
      upper.push_back({static_cast<double>(max_), last});
      for (std::size_t j = last - 1; j >= std::max(z, first + 1) && j > 0; --j) {
        upper.push_back({o + static_cast<double>(j) * w, j});
      }
    } else {
      upper.push_back({0.0, last});
    }
    const double steps = std::ldexp(1.0, bits) - (target.narrow_range ? 2.0 : 1.0);
    auto cost = [&](const Candidate& a, const Candidate& b) {
      const double s = (b.bound - a.bound) / steps;
      const double inside = nonzero - m.count(first, a.j) - m.count(b.j, last);
      return m.clip_error(first, a.j, a.bound) + m.clip_error(b.j, last, b.bound) + inside * s * s / 12.0;
    };
    // Every pair when there are at most 2^16, else a strided grid then a full-resolution window.
    constexpr double kMaxPairs = 65536.0;
    const double pairs = static_cast<double>(lower.size()) * static_cast<double>(upper.size());
    const std::size_t stride =
        pairs <= kMaxPairs ? 1 : static_cast<std::size_t>(std::ceil(std::sqrt(pairs / kMaxPairs)));
    std::size_t best_a = 0, best_b = 0;
    double best = cost(lower[0], upper[0]);
    auto visit = [&](std::size_t ia, std::size_t ib) {
      const double e = cost(lower[ia], upper[ib]);
      if (e < best || (e == best && (ia < best_a || (ia == best_a && ib < best_b)))) best = e, best_a = ia, best_b = ib;
    };
    for (std::size_t ia = 0; ia < lower.size(); ia += stride) {
      for (std::size_t ib = 0; ib < upper.size(); ib += stride) visit(ia, ib);
    }
    if (stride > 1) {
      const std::size_t ca = best_a, cb = best_b;
      for (std::size_t ia = ca > stride ? ca - stride : 0; ia <= std::min(lower.size() - 1, ca + stride); ++ia) {
        for (std::size_t ib = cb > stride ? cb - stride : 0; ib <= std::min(upper.size() - 1, cb + stride); ++ib) {
          visit(ia, ib);
        }
      }
    }
    lo = lower[best_a].bound, hi = upper[best_b].bound;
  }

  // ---- entropy ---------------------------------------------------------------------------------
  void entropy_range(const QuantTarget& target, double& lo, double& hi) const {
    const int bits = observer_detail::clamp_bits(target.num_bits);
    const double amax = max_abs();
    if (amax == 0.0) return;
    const bool one_sign = min_ >= 0.0f || max_ <= 0.0f;
    const bool one_sided = !target.symmetric && one_sign;
    const std::size_t nq = one_sided ? (std::size_t{1} << bits) - (target.narrow_range ? 1 : 0)
                                     : std::size_t{1} << (bits - 1);
    observer_detail::OneSided f = observer_detail::fold_abs(hist_);
    f.counts[0] -= static_cast<double>(zeros_);  // exact zeros: representable at any threshold
    const double t = kl_threshold(f, nq, amax);
    if (one_sided) {
      if (min_ >= 0.0f) lo = 0.0, hi = t;
      else lo = -t, hi = 0.0;
    } else {
      lo = -t, hi = t;
    }
  }

  // The slice [0, i) of f minimising KL(P || Q); returns its upper edge clamped to amax.
  static double kl_threshold(const observer_detail::OneSided& f, std::size_t nq, double amax) {
    const std::vector<double>& h = f.counts;
    std::size_t occupied = h.size();
    while (occupied > 0 && h[occupied - 1] == 0.0) --occupied;
    if (occupied <= nq) return amax;  // nothing narrower than nq bins to try
    // Prefix sums: counts, non-zero bins, and h*log(h).
    std::vector<double> c0(occupied + 1, 0.0), hlogh(occupied + 1, 0.0);
    std::vector<std::size_t> nz(occupied + 1, 0);
    for (std::size_t j = 0; j < occupied; ++j) {
      c0[j + 1] = c0[j] + h[j];
      nz[j + 1] = nz[j] + (h[j] > 0.0 ? 1 : 0);
      hlogh[j + 1] = hlogh[j] + (h[j] > 0.0 ? h[j] * std::log(h[j]) : 0.0);
    }
    const double total = c0[occupied];
    constexpr double kEps = 1e-4;  // a Q count standing in for 0 under a non-zero P bin
    double best = std::numeric_limits<double>::infinity();
    std::size_t best_i = occupied;
    for (std::size_t i = occupied; i >= nq; --i) {  // widest first: ties keep it
      const double outliers = total - c0[i];
      const double p_last = h[i - 1] + outliers;  // P's last bin
      const double q_total = c0[i];               // Q's mass: the slice without the outliers
      if (q_total <= 0.0) continue;               // every value beyond the slice: KL is infinite
      // sum over P's non-zero bins of p * log(p) (unnormalised), then the cross term group by group
      double plogp = hlogh[i - 1] + (p_last > 0.0 ? p_last * std::log(p_last) : 0.0);
      double plogq = 0.0;
      for (std::size_t g = 0; g < nq; ++g) {
        const std::size_t b0 = g * i / nq, b1 = (g + 1) * i / nq;
        const double group = c0[b1] - c0[b0];
        std::size_t nonzero = nz[b1] - nz[b0];
        double p_mass = group;
        if (b1 == i) {  // the last group holds P's last bin, which the outliers may have filled
          p_mass += outliers;
          if (h[i - 1] == 0.0 && p_last > 0.0) ++nonzero;
        }
        if (p_mass <= 0.0) continue;
        if (group > 0.0) {
          plogq += p_mass * std::log(group / static_cast<double>(nonzero));
        } else {
          plogq += p_mass * std::log(kEps);
        }
      }
      // KL = sum (p/P) log((p/P) / (q/Q)) with P = total, Q = q_total
      const double kl = (plogp - plogq) / total - std::log(total) + std::log(q_total);
      if (kl < best - 1e-12) best = kl, best_i = i;
    }
    return std::min(amax, static_cast<double>(best_i) * f.width);
  }

  CalibrationOptions options_;
  observer_detail::Histogram hist_;
  std::uint64_t count_ = 0, non_finite_ = 0, zeros_ = 0, batches_ = 0;
  float min_ = std::numeric_limits<float>::infinity();
  float max_ = -std::numeric_limits<float>::infinity();
  float avg_min_ = 0.0f, avg_max_ = 0.0f;
};

}  // namespace convert
PTQ_NAMESPACE_END
