// peak_bench.cpp: the instruction-throughput ceilings that ptq's GEMM figures are measured against
// (bench/README.md, "Peak"): int8 multiply-accumulate streams per ISA level and fp32 FMA, each as
// many independent accumulator chains as hide the instruction's latency, nothing else in the loop.
//
// Counter "ops" = 2 * multiply-adds per iteration, as a rate (GOPS; GFLOPS for the fp32 rows):
//   vpdpbusd zmm 64 MACs, ymm 32; vpmaddubsw zmm 64, ymm 32 (the products vpmaddwd and vpaddd
//   then sum); vfmadd231ps zmm 16, ymm 8.
// `peak/clock/dependent_add` runs a chain of dependent 1-cycle adds: its "cycles" rate is the
// core's clock while busy (a KVM guest does not tell), so MAC/cycle = (GOPS / 2) / GHz.
//
// How the compiler is kept honest: every stream is intrinsics in a function compiled for its level
// (PTQ_TARGET_*), with 12 (16 registers) or 16 (32 registers) accumulators; each chain depends on
// its previous value, and where the product does not (vpmaddubsw + vpmaddwd, whose inputs are loop
// invariant), an empty asm statement declares the weight operand modified before each use, so the
// products are neither hoisted out of the loop nor shared between chains. The sum of the
// accumulators is returned and passed to DoNotOptimize. Levels this CPU lacks report an error
// (SkipWithError) instead of a figure.
#include <benchmark/benchmark.h>

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "ptq/simd/arch.hpp"
#include "ptq/simd/dispatch.hpp"

namespace {

constexpr int64_t kInner = 1024;  // loop trips per benchmark iteration

// Accumulators are named variables, not an array: GCC 12 kept an array of vectors on the stack
// and stored it every trip (seen in the disassembly of an earlier version).
#define PTQ_PEAK_ACC8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define PTQ_PEAK_ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define PTQ_PEAK_ACC16(X) PTQ_PEAK_ACC12(X) X(12) X(13) X(14) X(15)

// The 16-register streams (AVX2, AVX-VNNI) are one asm statement per trip with the 12 accumulators
// as register operands %0..%11: GCC 12 otherwise keeps some accumulators on the stack (all 16 ymm
// registers are needed), which puts a store and a load in each chain.
#define PTQ_PEAK_OPERANDS12 \
  "+x"(vacc0), "+x"(vacc1), "+x"(vacc2), "+x"(vacc3), "+x"(vacc4), "+x"(vacc5), "+x"(vacc6), \
      "+x"(vacc7), "+x"(vacc8), "+x"(vacc9), "+x"(vacc10), "+x"(vacc11)

// Lane 0 of the sum of the accumulators (enough to keep every chain alive).
#define PTQ_PEAK_LANE0(vsum, T) \
  [&] {                         \
    T lanes[sizeof(vsum) / sizeof(T)]; \
    std::memcpy(lanes, &vsum, sizeof(lanes)); \
    return lanes[0];            \
  }()

// ---- AVX-512 VNNI ------------------------------------------------------------------------------
PTQ_TARGET_AVX512VNNI __attribute__((noinline)) int32_t vpdpbusd_zmm(int64_t trips) {
#define DECL(i) __m512i vacc##i = _mm512_set1_epi32(i);
#define STEP(i) vacc##i = _mm512_dpbusd_epi32(vacc##i, va, vb);
#define SUM(i) vsum = _mm512_add_epi32(vsum, vacc##i);
  PTQ_PEAK_ACC16(DECL)
  __m512i va = _mm512_set1_epi8(3), vb = _mm512_set1_epi8(-5);
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile("" : "+v"(va), "+v"(vb));
    PTQ_PEAK_ACC16(STEP)
  }
  __m512i vsum = _mm512_setzero_si512();
  PTQ_PEAK_ACC16(SUM)
  return PTQ_PEAK_LANE0(vsum, int32_t);
#undef DECL
#undef STEP
#undef SUM
}

// EVEX-encoded vpdpbusd on ymm (AVX-512 VNNI + VL): 32 registers.
PTQ_TARGET_AVX512VNNI __attribute__((noinline)) int32_t vpdpbusd_ymm_evex(int64_t trips) {
#define DECL(i) __m256i vacc##i = _mm256_set1_epi32(i);
#define STEP(i) vacc##i = _mm256_dpbusd_epi32(vacc##i, va, vb);
#define SUM(i) vsum = _mm256_add_epi32(vsum, vacc##i);
  PTQ_PEAK_ACC16(DECL)
  __m256i va = _mm256_set1_epi8(3), vb = _mm256_set1_epi8(-5);
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile("" : "+v"(va), "+v"(vb));
    PTQ_PEAK_ACC16(STEP)
  }
  __m256i vsum = _mm256_setzero_si256();
  PTQ_PEAK_ACC16(SUM)
  return PTQ_PEAK_LANE0(vsum, int32_t);
#undef DECL
#undef STEP
#undef SUM
}

// ---- AVX-VNNI (VEX vpdpbusd, 16 registers) -----------------------------------------------------
PTQ_TARGET_AVXVNNI __attribute__((noinline)) int32_t vpdpbusd_ymm_vex(int64_t trips) {
#define DECL(i) __m256i vacc##i = _mm256_set1_epi32(i);
  PTQ_PEAK_ACC12(DECL)
#undef DECL
  const __m256i va = _mm256_set1_epi8(3), vb = _mm256_set1_epi8(-5);
#define STEP(i) "%{vex%} vpdpbusd %[b], %[a], %" #i "\n\t"
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile(PTQ_PEAK_ACC12(STEP) : PTQ_PEAK_OPERANDS12 : [a] "x"(va), [b] "x"(vb));
  }
#undef STEP
  __m256i vsum = _mm256_setzero_si256();
#define SUM(i) vsum = _mm256_add_epi32(vsum, vacc##i);
  PTQ_PEAK_ACC12(SUM)
#undef SUM
  return PTQ_PEAK_LANE0(vsum, int32_t);
}

// ---- AVX-512BW: vpmaddubsw + vpmaddwd + vpaddd on zmm ------------------------------------------
PTQ_TARGET_AVX512 __attribute__((noinline)) int32_t maddubs_zmm(int64_t trips) {
#define DECL(i) __m512i vacc##i = _mm512_set1_epi32(i);
  PTQ_PEAK_ACC16(DECL)
#undef DECL
  const __m512i va = _mm512_set1_epi8(3), vb = _mm512_set1_epi8(-5), vones = _mm512_set1_epi16(1);
  __m512i vt;
  // One asm statement per trip, like the 16-register streams: GCC 12 left stores in this loop.
#define STEP(i)                            \
  "vpmaddubsw %[b], %[a], %[t]\n\t"     \
  "vpmaddwd %[ones], %[t], %[t]\n\t"    \
  "vpaddd %[t], %" #i ", %" #i "\n\t"
  // Two statements of 8 chains (an asm statement takes at most 30 operands, "+v" counts twice).
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile(PTQ_PEAK_ACC8(STEP) : "+v"(vacc0), "+v"(vacc1), "+v"(vacc2), "+v"(vacc3), "+v"(vacc4), "+v"(vacc5), "+v"(vacc6), "+v"(vacc7), [t] "=&v"(vt)
                 : [a] "v"(va), [b] "v"(vb), [ones] "v"(vones));
    asm volatile(PTQ_PEAK_ACC8(STEP) : "+v"(vacc8), "+v"(vacc9), "+v"(vacc10), "+v"(vacc11), "+v"(vacc12), "+v"(vacc13), "+v"(vacc14), "+v"(vacc15), [t] "=&v"(vt)
                 : [a] "v"(va), [b] "v"(vb), [ones] "v"(vones));
  }
#undef STEP
  __m512i vsum = _mm512_setzero_si512();
#define SUM(i) vsum = _mm512_add_epi32(vsum, vacc##i);
  PTQ_PEAK_ACC16(SUM)
#undef SUM
  return PTQ_PEAK_LANE0(vsum, int32_t);
}

// ---- AVX2: vpmaddubsw + vpmaddwd + vpaddd on ymm -----------------------------------------------
// 12 accumulators + 2 operands + ones + 1 product = all 16 ymm registers.
PTQ_TARGET_AVX2 __attribute__((noinline)) int32_t maddubs_ymm(int64_t trips) {
#define DECL(i) __m256i vacc##i = _mm256_set1_epi32(i);
  PTQ_PEAK_ACC12(DECL)
#undef DECL
  const __m256i va = _mm256_set1_epi8(3), vb = _mm256_set1_epi8(-5), vones = _mm256_set1_epi16(1);
  __m256i vt;
#define STEP(i)                            \
  "vpmaddubsw %[b], %[a], %[t]\n\t"     \
  "vpmaddwd %[ones], %[t], %[t]\n\t"    \
  "vpaddd %[t], %" #i ", %" #i "\n\t"
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile(PTQ_PEAK_ACC12(STEP) : PTQ_PEAK_OPERANDS12, [t] "=&x"(vt)
                 : [a] "x"(va), [b] "x"(vb), [ones] "x"(vones));
  }
#undef STEP
  __m256i vsum = _mm256_setzero_si256();
#define SUM(i) vsum = _mm256_add_epi32(vsum, vacc##i);
  PTQ_PEAK_ACC12(SUM)
#undef SUM
  return PTQ_PEAK_LANE0(vsum, int32_t);
}

// The same plus vpsignb: the step of ptq's exact AVX2 kernel (microkernel_avx2.hpp,
// vpmaddubsw(|x|, sign(w, x))), whose |x| is computed once per broadcast row and not counted here.
PTQ_TARGET_AVX2 __attribute__((noinline)) int32_t sign_maddubs_ymm(int64_t trips) {
#define DECL(i) __m256i vacc##i = _mm256_set1_epi32(i);
  PTQ_PEAK_ACC12(DECL)
#undef DECL
  const __m256i va = _mm256_set1_epi8(3), vb = _mm256_set1_epi8(-5), vones = _mm256_set1_epi16(1);
  __m256i vt;
#define STEP(i)                            \
  "vpsignb %[a], %[b], %[t]\n\t"        \
  "vpmaddubsw %[t], %[a], %[t]\n\t"     \
  "vpmaddwd %[ones], %[t], %[t]\n\t"    \
  "vpaddd %[t], %" #i ", %" #i "\n\t"
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile(PTQ_PEAK_ACC12(STEP) : PTQ_PEAK_OPERANDS12, [t] "=&x"(vt)
                 : [a] "x"(va), [b] "x"(vb), [ones] "x"(vones));
  }
#undef STEP
  __m256i vsum = _mm256_setzero_si256();
#define SUM(i) vsum = _mm256_add_epi32(vsum, vacc##i);
  PTQ_PEAK_ACC12(SUM)
#undef SUM
  return PTQ_PEAK_LANE0(vsum, int32_t);
}

// ---- fp32 FMA ----------------------------------------------------------------------------------
PTQ_TARGET_AVX512 __attribute__((noinline)) float fma_zmm(int64_t trips) {
#define DECL(i) __m512 vacc##i = _mm512_set1_ps(static_cast<float>(i));
#define STEP(i) vacc##i = _mm512_fmadd_ps(va, vacc##i, vb);
#define SUM(i) vsum = _mm512_add_ps(vsum, vacc##i);
  PTQ_PEAK_ACC16(DECL)
  __m512 va = _mm512_set1_ps(0.999f), vb = _mm512_set1_ps(1e-3f);
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile("" : "+v"(va), "+v"(vb));
    PTQ_PEAK_ACC16(STEP)
  }
  __m512 vsum = _mm512_setzero_ps();
  PTQ_PEAK_ACC16(SUM)
  return PTQ_PEAK_LANE0(vsum, float);
#undef DECL
#undef STEP
#undef SUM
}

PTQ_TARGET_AVX2 __attribute__((noinline)) float fma_ymm(int64_t trips) {
#define DECL(i) __m256 vacc##i = _mm256_set1_ps(static_cast<float>(i));
#define STEP(i) vacc##i = _mm256_fmadd_ps(va, vacc##i, vb);
#define SUM(i) vsum = _mm256_add_ps(vsum, vacc##i);
  PTQ_PEAK_ACC12(DECL)
  __m256 va = _mm256_set1_ps(0.999f), vb = _mm256_set1_ps(1e-3f);
  for (int64_t t = 0; t < trips; ++t) {
    asm volatile("" : "+x"(va), "+x"(vb));
    PTQ_PEAK_ACC12(STEP)
  }
  __m256 vsum = _mm256_setzero_ps();
  PTQ_PEAK_ACC12(SUM)
  return PTQ_PEAK_LANE0(vsum, float);
#undef DECL
#undef STEP
#undef SUM
}

// ---- the clock ---------------------------------------------------------------------------------
// 16 dependent adds per trip: 16 cycles (integer add latency is 1 on every x86 core of the last
// decade); the loop's own counter and branch run beside the chain.
__attribute__((noinline)) uint64_t dependent_adds(int64_t trips) {
  uint64_t x = 0;
  for (int64_t t = 0; t < trips; ++t) {
#if defined(__x86_64__)
    asm volatile(
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
        : "+r"(x));
#endif
  }
  return x;
}

template <class R>
void bm_stream(benchmark::State& state, ptq::Isa isa, R (*stream)(int64_t), int unroll, double macs_per_instr) {
  if (!ptq::isa_runnable(isa)) {
    state.SkipWithError((std::string(ptq::isa_name(isa)) + " not supported by this CPU").c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(stream(kInner));
  state.counters["ops"] = benchmark::Counter(2.0 * macs_per_instr * unroll * static_cast<double>(kInner),
                                             benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(unroll) + " accumulators");
}

void bm_clock(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(dependent_adds(kInner));
  state.counters["cycles"] = benchmark::Counter(16.0 * static_cast<double>(kInner),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(bm_clock)->Name("peak/clock/dependent_add");
BENCHMARK_CAPTURE(bm_stream, vpdpbusd_zmm, ptq::Isa::kAvx512Vnni, &vpdpbusd_zmm, 16, 64.0)
    ->Name("peak/int8/vpdpbusd_zmm__avx512vnni");
BENCHMARK_CAPTURE(bm_stream, vpdpbusd_ymm_evex, ptq::Isa::kAvx512Vnni, &vpdpbusd_ymm_evex, 16, 32.0)
    ->Name("peak/int8/vpdpbusd_ymm_evex__avx512vnni");
BENCHMARK_CAPTURE(bm_stream, vpdpbusd_ymm_vex, ptq::Isa::kAvxVnni, &vpdpbusd_ymm_vex, 12, 32.0)
    ->Name("peak/int8/vpdpbusd_ymm_vex__avxvnni");
BENCHMARK_CAPTURE(bm_stream, maddubs_zmm, ptq::Isa::kAvx512, &maddubs_zmm, 16, 64.0)
    ->Name("peak/int8/maddubs_maddwd_add_zmm__avx512bw");
BENCHMARK_CAPTURE(bm_stream, maddubs_ymm, ptq::Isa::kAvx2, &maddubs_ymm, 12, 32.0)
    ->Name("peak/int8/maddubs_maddwd_add_ymm__avx2");
BENCHMARK_CAPTURE(bm_stream, sign_maddubs_ymm, ptq::Isa::kAvx2, &sign_maddubs_ymm, 12, 32.0)
    ->Name("peak/int8/sign_maddubs_maddwd_add_ymm__avx2");
BENCHMARK_CAPTURE(bm_stream, fma_zmm, ptq::Isa::kAvx512, &fma_zmm, 16, 16.0)
    ->Name("peak/f32/vfmadd231ps_zmm__avx512f");
BENCHMARK_CAPTURE(bm_stream, fma_ymm, ptq::Isa::kAvx2, &fma_ymm, 12, 8.0)
    ->Name("peak/f32/vfmadd231ps_ymm__avx2");

BENCHMARK_MAIN();
