// bench_common.hpp: what ptq's benchmark executables share: the ops counter, ISA skips, one
// layer's random data, and the timed loop of a oneDNN primitive.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "ptq/simd/arch.hpp"

#if PTQ_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace ptq_bench {

// Counter "ops" = 2 * multiply-adds per iteration, as a rate (GOPS on the console).
inline void set_ops(benchmark::State& state, double macs) {
  state.counters["ops"] = benchmark::Counter(2.0 * macs, benchmark::Counter::kIsIterationInvariantRate);
}

// Reports a level the CPU cannot run as skipped (registered everywhere, run where possible).
inline bool skip_isa(benchmark::State& state, ptq::Isa isa) {
  if (ptq::isa_runnable(isa)) return false;
  state.SkipWithError("this CPU does not run this ISA level");
  return true;
}

// One layer's data, identical for every contender: x in [-128, 127], w in [-127, 127], bias in
// [-10000, 10000], per-channel weight scales in [scale_lo, scale_lo + scale_span).
struct LayerData {
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias;
  std::vector<float> w_scales;

  LayerData(int64_t x_size, int64_t w_size, int64_t channels, float scale_lo, float scale_span) {
    std::mt19937 rng(42);
    x.resize(static_cast<std::size_t>(x_size));
    w.resize(static_cast<std::size_t>(w_size));
    bias.resize(static_cast<std::size_t>(channels));
    w_scales.resize(static_cast<std::size_t>(channels));
    for (auto& v : x) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    for (auto& v : bias) v = static_cast<int32_t>(rng() % 20001) - 10000;
    for (auto& v : w_scales) v = scale_lo + scale_span * static_cast<float>(rng() % 1000) / 1000.0f;
  }
};

#if PTQ_BENCH_HAVE_DNNL
// Times `prim` (weights already reordered outside the loop) and labels the row with the
// implementation oneDNN chose.
template <class Primitive, class PrimitiveDesc>
void time_onednn(benchmark::State& state, dnnl::stream& strm, const Primitive& prim, const PrimitiveDesc& pd,
                 const std::unordered_map<int, dnnl::memory>& args) {
  strm.wait();
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
  }
  const char* impl = nullptr;
  dnnl_primitive_desc_query(pd.get(), dnnl_query_impl_info_str, 0, &impl);
  state.SetLabel(impl != nullptr ? impl : "");
}
#endif

}  // namespace ptq_bench
