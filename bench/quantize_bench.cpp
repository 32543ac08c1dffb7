// quantize_bench.cpp: bandwidth of quantize, dequantize, requantize and float16 conversion on every
// ISA level ptq has a kernel for, beside memcpy and a read-only pass of the same float tensor.
//
// Why it is built this way:
//   - Sizes are the size of the *float* tensor (argument `bytes_f32`): 4 KiB (L1), 128 KiB (L2),
//     1 MiB (L3 on a 512 KiB-L2 core, L2 on a 1 MiB-L2 core) and 64 MiB (DRAM). Every op on one
//     size touches the same number of elements, so rows of one size compare directly.
//   - The counter `bytes` is bytes read + bytes written per iteration, as a rate
//     (kIsIterationInvariantRate): quantize f32->s8 5 B/element, dequantize s8->f32 5,
//     requantize s32->s8 5, s8->s8 2, float16 6, memcpy 8, read 4. `items_per_second` is elements/s.
//   - One registration per ISA level that has its own variant (quantize_variant and friends
//     dedupe the levels that inherit one), walked from scalar up, and every one is registered on
//     every x86 machine: a level the CPU cannot run reports "<isa> not supported by this CPU"
//     (SkipWithError) instead of silently running a lower level. `reference` calls
//     ptq::reference::* directly (it is also what the dispatched scalar level runs).
//   - Buffers are allocated and filled once, 64-byte aligned, before any benchmark runs; inputs
//     are realistic (normal floats clipped to [-3, 3], scale 0.02, zero point -5).
//   - Built for baseline x86-64: what is measured is ptq's run-time dispatch.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/quantize.hpp"
#include "ptq/version.hpp"

#if __has_include("ptq/kernels/float16.hpp")
#include "ptq/kernels/float16.hpp"
#define PTQ_BENCH_HAVE_FLOAT16 1
#else
#define PTQ_BENCH_HAVE_FLOAT16 0
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PTQ_BENCH_X86 1
#else
#define PTQ_BENCH_X86 0
#endif

namespace {

using ptq::Isa;

// Float tensor sizes in bytes (the benchmark argument).
constexpr int64_t kSizes[] = {4 << 10, 128 << 10, 1 << 20, 64 << 20};
constexpr std::size_t kMaxElements = (64u << 20) / sizeof(float);

// Quantization parameters of the float tensor and of the int8 -> int8 requantize output.
constexpr ptq::QuantParams kActivation{0.02f, -5};
constexpr ptq::QuantParams kRequantOut{0.03f, 3};
// int32 accumulators of an int8 layer: input scale 0.02 x weight scale 0.004, zero point 0,
// requantized to an output of scale 0.05 (multiplier 0.0016): accumulators of +-60000 span the
// int8 output range, so most lanes land inside it and a few saturate.
constexpr ptq::QuantParams kAccumulator{0.02f * 0.004f, 0};
constexpr ptq::QuantParams kAccumulatorOut{0.05f, -5};

// ---- buffers -----------------------------------------------------------------------------------

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <class T>
using Buffer = std::unique_ptr<T[], FreeDeleter>;

template <class T>
Buffer<T> allocate(std::size_t n) {
  const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;  // aligned_alloc wants a multiple of 64
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);  // fault every page in now, not inside a timed loop
  return Buffer<T>(static_cast<T*>(p));
}

// Inputs and outputs of every op, kMaxElements each; a benchmark of n elements uses the first n.
struct Data {
  Buffer<float> f32_in = allocate<float>(kMaxElements);     // N(0, 1) clipped to [-3, 3]
  Buffer<float> f32_out = allocate<float>(kMaxElements);
  Buffer<int8_t> s8_in = allocate<int8_t>(kMaxElements);    // f32_in quantized with kActivation
  Buffer<int8_t> s8_out = allocate<int8_t>(kMaxElements);
  Buffer<int32_t> s32_in = allocate<int32_t>(kMaxElements); // N(0, 20000) accumulators
#if PTQ_BENCH_HAVE_FLOAT16
  Buffer<uint16_t> f16_in = allocate<uint16_t>(kMaxElements);  // f32_in as binary16
  Buffer<uint16_t> f16_out = allocate<uint16_t>(kMaxElements);
#endif

  Data() {
    std::mt19937 rng(20261123);
    std::normal_distribution<float> unit(0.0f, 1.0f);
    std::normal_distribution<float> acc(0.0f, 20000.0f);
    for (std::size_t i = 0; i < kMaxElements; ++i) f32_in[i] = std::clamp(unit(rng), -3.0f, 3.0f);
    for (std::size_t i = 0; i < kMaxElements; ++i) s32_in[i] = static_cast<int32_t>(acc(rng));
    ptq::reference::quantize<int8_t>(f32_in.get(), s8_in.get(), kMaxElements, kActivation);
#if PTQ_BENCH_HAVE_FLOAT16
    ptq::reference::float_to_half(f32_in.get(), f16_in.get(), kMaxElements);
#endif
  }
};

Data& data() {
  static Data d;
  return d;
}

// ---- baselines -------------------------------------------------------------------------------

#if PTQ_BENCH_X86
// Sum of n floats with four independent ymm accumulators: the read bandwidth ceiling.
__attribute__((target("avx2"))) float sum_avx2(const float* x, std::size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(x + i + 0));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(x + i + 24));
  }
  const __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, a);
  float s = 0.0f;
  for (float v : lanes) s += v;
  for (; i < n; ++i) s += x[i];
  return s;
}

// The same with SSE2 (baseline x86-64), for CPUs without AVX2.
float sum_sse2(const float* x, std::size_t n) {
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm_add_ps(a0, _mm_load_ps(x + i + 0));
    a1 = _mm_add_ps(a1, _mm_load_ps(x + i + 4));
    a2 = _mm_add_ps(a2, _mm_load_ps(x + i + 8));
    a3 = _mm_add_ps(a3, _mm_load_ps(x + i + 12));
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, _mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
  float s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) s += x[i];
  return s;
}
#endif

float sum_floats(const float* x, std::size_t n) {
#if PTQ_BENCH_X86
  return ptq::isa_runnable(Isa::kAvx2) ? sum_avx2(x, n) : sum_sse2(x, n);
#else
  float s[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t j = 0; j < 8; ++j) s[j] += x[i + j];
  for (; i < n; ++i) s[0] += x[i];
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
#endif
}

// ---- registration ------------------------------------------------------------------------------

// `run(d, n)` is one pass over n elements; `level` must be runnable (kScalar for baselines and
// references, which always are).
template <class Run>
void add(const std::string& name, Isa level, double bytes_per_element, Run run) {
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    if (!ptq::isa_runnable(level)) {
      state.SkipWithError((std::string(ptq::isa_name(level)) + " not supported by this CPU").c_str());
      return;
    }
    const auto n = static_cast<std::size_t>(state.range(0)) / sizeof(float);
    Data& d = data();
    for (auto _ : state) {
      run(d, n);
      benchmark::ClobberMemory();
    }
    state.counters["bytes"] = benchmark::Counter(bytes_per_element * static_cast<double>(n),
                                                 benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  })->ArgName("bytes_f32")->Apply([](benchmark::internal::Benchmark* b) {
    for (int64_t size : kSizes) b->Arg(size);
  });
}

// The levels, from scalar up, that have their own kernel in a family (variant(isa) == isa) and
// that this build compiles; the scalar level is left out, it is registered as `reference`.
template <class Variant>
std::vector<Isa> distinct_levels(Variant variant) {
  std::vector<Isa> out;
  for (auto it = std::rbegin(ptq::kAllIsas); it != std::rend(ptq::kAllIsas); ++it) {
    const Isa isa = *it;
    if (isa == Isa::kScalar || variant(isa) != isa) continue;
    if ((ptq::compiled_isas() & ptq::isa_bit(isa)) == 0) continue;
    out.push_back(isa);
  }
  return out;
}

std::string name_of(const char* op, const char* types, const char* level) {
  return std::string(op) + "/" + types + "/" + level;
}

void register_baselines() {
  add("memcpy/f32/libc", Isa::kScalar, 8.0, [](Data& d, std::size_t n) {
    std::memcpy(d.f32_out.get(), d.f32_in.get(), n * sizeof(float));
    benchmark::DoNotOptimize(d.f32_out.get());
  });
  add("read/f32/sum", Isa::kScalar, 4.0, [](Data& d, std::size_t n) {
    float s = sum_floats(d.f32_in.get(), n);
    benchmark::DoNotOptimize(s);
  });
}

void register_quantize() {
  const auto levels = distinct_levels([](Isa isa) { return ptq::quantize_variant(isa); });

  add(name_of("quantize", "f32_s8", "reference"), Isa::kScalar, 5.0, [](Data& d, std::size_t n) {
    ptq::reference::quantize<int8_t>(d.f32_in.get(), d.s8_out.get(), n, kActivation);
    benchmark::DoNotOptimize(d.s8_out.get());
  });
  for (Isa isa : levels) {
    add(name_of("quantize", "f32_s8", ptq::isa_name(isa)), isa, 5.0, [isa](Data& d, std::size_t n) {
      ptq::quantize<int8_t>(d.f32_in.get(), d.s8_out.get(), n, kActivation, isa);
      benchmark::DoNotOptimize(d.s8_out.get());
    });
  }

  add(name_of("dequantize", "s8_f32", "reference"), Isa::kScalar, 5.0, [](Data& d, std::size_t n) {
    ptq::reference::dequantize<int8_t>(d.s8_in.get(), d.f32_out.get(), n, kActivation);
    benchmark::DoNotOptimize(d.f32_out.get());
  });
  for (Isa isa : distinct_levels([](Isa i) { return ptq::dequantize_variant(i); })) {
    add(name_of("dequantize", "s8_f32", ptq::isa_name(isa)), isa, 5.0, [isa](Data& d, std::size_t n) {
      ptq::dequantize<int8_t>(d.s8_in.get(), d.f32_out.get(), n, kActivation, isa);
      benchmark::DoNotOptimize(d.f32_out.get());
    });
  }
}

void register_requantize() {
  const auto levels = distinct_levels([](Isa isa) { return ptq::requantize_variant(isa); });
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    const std::string mode_name = ptq::rounding_mode_name(mode);

    const ptq::RequantizeParams acc = ptq::make_requantize_params(kAccumulator, kAccumulatorOut, mode);
    const std::string s32 = "s32_s8_" + mode_name;
    add(name_of("requantize", s32.c_str(), "reference"), Isa::kScalar, 5.0, [acc](Data& d, std::size_t n) {
      ptq::reference::requantize<int32_t, int8_t>(d.s32_in.get(), d.s8_out.get(), n, acc);
      benchmark::DoNotOptimize(d.s8_out.get());
    });
    for (Isa isa : levels) {
      add(name_of("requantize", s32.c_str(), ptq::isa_name(isa)), isa, 5.0, [acc, isa](Data& d, std::size_t n) {
        ptq::requantize<int32_t, int8_t>(d.s32_in.get(), d.s8_out.get(), n, acc, isa);
        benchmark::DoNotOptimize(d.s8_out.get());
      });
    }

    const ptq::RequantizeParams s8p = ptq::make_requantize_params(kActivation, kRequantOut, mode);
    const std::string s8 = "s8_s8_" + mode_name;
    add(name_of("requantize", s8.c_str(), "reference"), Isa::kScalar, 2.0, [s8p](Data& d, std::size_t n) {
      ptq::reference::requantize<int8_t, int8_t>(d.s8_in.get(), d.s8_out.get(), n, s8p);
      benchmark::DoNotOptimize(d.s8_out.get());
    });
    for (Isa isa : levels) {
      add(name_of("requantize", s8.c_str(), ptq::isa_name(isa)), isa, 2.0, [s8p, isa](Data& d, std::size_t n) {
        ptq::requantize<int8_t, int8_t>(d.s8_in.get(), d.s8_out.get(), n, s8p, isa);
        benchmark::DoNotOptimize(d.s8_out.get());
      });
    }
  }
}

void register_float16() {
#if PTQ_BENCH_HAVE_FLOAT16
  const auto levels = distinct_levels([](Isa isa) { return ptq::float16_variant(isa); });

  add(name_of("float16", "f32_f16", "reference"), Isa::kScalar, 6.0, [](Data& d, std::size_t n) {
    ptq::reference::float_to_half(d.f32_in.get(), d.f16_out.get(), n);
    benchmark::DoNotOptimize(d.f16_out.get());
  });
  for (Isa isa : levels) {
    add(name_of("float16", "f32_f16", ptq::isa_name(isa)), isa, 6.0, [isa](Data& d, std::size_t n) {
      ptq::float_to_half(d.f32_in.get(), d.f16_out.get(), n, isa);
      benchmark::DoNotOptimize(d.f16_out.get());
    });
  }

  add(name_of("float16", "f16_f32", "reference"), Isa::kScalar, 6.0, [](Data& d, std::size_t n) {
    ptq::reference::half_to_float(d.f16_in.get(), d.f32_out.get(), n);
    benchmark::DoNotOptimize(d.f32_out.get());
  });
  for (Isa isa : levels) {
    add(name_of("float16", "f16_f32", ptq::isa_name(isa)), isa, 6.0, [isa](Data& d, std::size_t n) {
      ptq::half_to_float(d.f16_in.get(), d.f32_out.get(), n, isa);
      benchmark::DoNotOptimize(d.f32_out.get());
    });
  }
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("ptq_version", std::to_string(PTQ_VERSION_MAJOR) + "." +
                                                 std::to_string(PTQ_VERSION_MINOR) + "." +
                                                 std::to_string(PTQ_VERSION_PATCH));
  benchmark::AddCustomContext("ptq_selected_isa", ptq::isa_name(ptq::selected_isa()));
  benchmark::AddCustomContext("ptq_runnable_isas", ptq::isa_mask_to_string(ptq::runnable_isa_mask()));
  benchmark::AddCustomContext("ptq_compiled_isas", ptq::isa_mask_to_string(ptq::compiled_isas()));
  benchmark::AddCustomContext("ptq_float16", PTQ_BENCH_HAVE_FLOAT16 ? "benchmarked" : "not built");
  benchmark::AddCustomContext("compiler", __VERSION__);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  register_baselines();
  register_quantize();
  register_requantize();
  register_float16();

  benchmark::RunSpecifiedBenchmarks();  // the first benchmark fills the buffers, before its timed loop
  benchmark::Shutdown();
  return 0;
}
