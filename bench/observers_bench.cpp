// observers_bench.cpp: throughput of the calibration observers (convert/observers.hpp).
//
// Why it is built this way:
//   - observe/<method>: one observe() call on a 1M-value float tensor (4 MiB, the size of a large
//     activation) per iteration, into one observer that lives across iterations -- the steady state
//     of calibration, where the histogram layout stops changing after the first samples.
//     `items_per_second` is values/s. `read` is an 8-lane (vectorised) sum over the same tensor:
//     the ceiling of one pass over it, which min/max (one pass) and the histogram methods (two
//     passes: extremes, then bins) are compared with.
//   - Data: N(0, 1) with a ReLU variant (half exact zeros, the common int8 activation), fixed seed.
//   - range/<method>: the cost of choosing the range once calibration is over (per tensor, per
//     target), on the histogram of the Gaussian tensor; for MSE and entropy this is the search.
//   - Built for baseline x86-64 like every ptq bench: the loops are written to auto-vectorise with
//     SSE2, no intrinsics.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "ptq/convert/observers.hpp"

namespace {

using ptq::convert::CalibrationMethod;
using ptq::convert::CalibrationOptions;
using ptq::convert::QuantTarget;
using ptq::convert::RangeObserver;

constexpr std::size_t kValues = 1 << 20;

const std::vector<float>& gaussian() {
  static const std::vector<float> x = [] {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(kValues);
    for (float& e : v) e = d(rng);
    return v;
  }();
  return x;
}

const std::vector<float>& relu() {
  static const std::vector<float> x = [] {
    std::vector<float> v = gaussian();
    for (float& e : v) e = std::max(e, 0.0f);
    return v;
  }();
  return x;
}

constexpr CalibrationMethod kMethods[] = {CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverageMinMax,
                                          CalibrationMethod::kPercentile, CalibrationMethod::kMse,
                                          CalibrationMethod::kEntropy};

void register_all() {
  benchmark::RegisterBenchmark("read/gaussian", [](benchmark::State& state) {
    const std::vector<float>& x = gaussian();
    for (auto _ : state) {
      float sum[8] = {};
      for (std::size_t i = 0; i + 8 <= x.size(); i += 8) {
        for (std::size_t l = 0; l < 8; ++l) sum[l] += x[i + l];  // 8 lanes: vectorised
      }
      benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(x.size()));
  });
  for (const char* data : {"gaussian", "relu"}) {
    for (CalibrationMethod m : kMethods) {
      const std::string name = std::string("observe/") + ptq::convert::calibration_method_name(m) + "/" + data;
      const bool is_relu = std::string(data) == "relu";
      benchmark::RegisterBenchmark(name.c_str(), [m, is_relu](benchmark::State& state) {
        const std::vector<float>& x = is_relu ? relu() : gaussian();
        CalibrationOptions o;
        o.method = m;
        RangeObserver obs(o);
        obs.observe(x.data(), x.size());  // the layout settles on the first sample
        for (auto _ : state) {
          obs.observe(x.data(), x.size());
          benchmark::ClobberMemory();
        }
        state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(x.size()));
      });
    }
  }
  for (CalibrationMethod m : kMethods) {
    for (bool symmetric : {false, true}) {
      const std::string name = std::string("range/") + ptq::convert::calibration_method_name(m) +
                               (symmetric ? "/symmetric" : "/asymmetric");
      benchmark::RegisterBenchmark(name.c_str(), [m, symmetric](benchmark::State& state) {
        CalibrationOptions o;
        o.method = m;
        RangeObserver obs(o);
        obs.observe(gaussian().data(), gaussian().size());
        const QuantTarget target{8, symmetric, symmetric};
        for (auto _ : state) benchmark::DoNotOptimize(obs.range(target));
      });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("compiler", __VERSION__);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
