// gemm_bench.cpp: ptq's int8 GEMM (per ISA level and per microkernel variant) against oneDNN int8
// matmul, XNNPACK qs8 fully connected and OpenBLAS fp32 sgemm, in one binary, on one thread.
//
// Every contender prepacks its weights outside the timed loop and produces the same thing: int8
// [M, N] from int8 [M, K] x int8 [K, N] with per-channel (oneDNN, ptq) or per-tensor (XNNPACK
// 2022 has no per-channel qs8 FC) output scales; OpenBLAS computes fp32 C = A * B^T as the float
// baseline. Counter "ops" = 2 * M * N * K per iteration, reported as a rate (GOPS in the table of
// bench/README.md). Names: gemm/<contender>/<variant>/MxKxN, so --benchmark_filter selects any.
//
// One thread for everyone: ptq and XNNPACK run without a pool; OpenBLAS is told so; oneDNN's
// OpenMP runtime reads OMP_NUM_THREADS when the library loads, so main() re-executes itself with
// OMP_NUM_THREADS=1 when it is unset.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_common.hpp"
#include "ptq/kernels/gemm/gemm.hpp"

#if PTQ_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if PTQ_BENCH_HAVE_XNNPACK
#include <xnnpack.h>
#endif
#if PTQ_BENCH_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace {

struct Shape {
  int64_t m, k, n;
};
const Shape kShapes[] = {{1, 1024, 1024}, {8, 1024, 1024},  {64, 1024, 1024},
                         {3136, 576, 64}, {784, 1152, 128}, {1024, 1024, 1024}};

std::string shape_name(const Shape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n);
}

// One layer's data, identical for every contender (w is [N, K]; weight scales around 0.01).
struct Problem : ptq_bench::LayerData {
  Shape s;
  float x_scale = 0.05f, y_scale = 2.0f;
  int32_t x_zp = 3, y_zp = -2;

  explicit Problem(Shape shape) : LayerData(shape.m * shape.k, shape.n * shape.k, shape.n, 0.005f, 0.01f), s(shape) {}

  ptq::FullyConnectedParams params() const {
    ptq::FullyConnectedParams p;
    p.batches = s.m;
    p.input_depth = s.k;
    p.output_depth = s.n;
    p.input_zero_point = x_zp;
    p.output_zero_point = y_zp;
    p.multipliers = ptq::fully_connected_multipliers(x_scale, w_scales, y_scale);
    return p;
  }
};

void set_ops(benchmark::State& state, const Shape& s) {
  ptq_bench::set_ops(state, static_cast<double>(s.m * s.n * s.k));
}

// ptq with the kernel the front end picks for `isa`, or a named variant.
void bm_ptq(benchmark::State& state, Shape shape, ptq::Isa isa, const ptq::gemm::Microkernel* kernel) {
  if (ptq_bench::skip_isa(state, kernel != nullptr ? kernel->isa : isa)) return;
  const Problem pr(shape);
  const ptq::FullyConnectedParams p = pr.params();
  const ptq::gemm::PackedWeights packed =
      kernel != nullptr ? ptq::gemm::pack_weights(p, pr.w.data(), pr.bias.data(), *kernel)
                        : ptq::gemm::pack_weights(p, pr.w.data(), pr.bias.data(),
                                                  ptq::gemm::preferred_layout(isa));
  std::vector<int8_t> y(static_cast<std::size_t>(shape.m * shape.n));
  ptq::gemm::GemmOptions o;
  o.isa = isa;
  o.kernel = kernel;
  for (auto _ : state) {
    ptq::gemm::fully_connected(packed, pr.x.data(), shape.m, y.data(), o);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const ptq::gemm::Microkernel* ran = kernel != nullptr ? kernel : ptq::gemm::microkernel_for(packed.layout(), isa);
  state.SetLabel(ran->name);
  set_ops(state, shape);
}

#if PTQ_BENCH_HAVE_DNNL
// src_type s8 is the like-for-like contender; u8 (activations + 128, the layout oneDNN's x86 int8
// kernels are built around) is registered too, to show oneDNN's best case.
void bm_onednn(benchmark::State& state, Shape shape, dnnl::memory::data_type src_type) {
  using namespace dnnl;
  const Problem pr(shape);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dims src_dims = {shape.m, shape.k}, w_dims = {shape.k, shape.n},
                     dst_dims = {shape.m, shape.n}, b_dims = {1, shape.n};
  const memory::desc src_md(src_dims, src_type, memory::format_tag::ab);
  const memory::desc w_any(w_dims, memory::data_type::s8, memory::format_tag::any);
  const memory::desc w_user(w_dims, memory::data_type::s8, memory::format_tag::ba);  // = [N, K] row-major
  const memory::desc b_md(b_dims, memory::data_type::s32, memory::format_tag::ab);
  const memory::desc dst_md(dst_dims, memory::data_type::s8, memory::format_tag::ab);
  std::vector<float> scales(static_cast<std::size_t>(shape.n));
  for (int64_t n = 0; n < shape.n; ++n) scales[n] = pr.x_scale * pr.w_scales[n] / pr.y_scale;
  primitive_attr attr;
  attr.set_output_scales(1 << 1, scales);  // per output column
  const matmul::primitive_desc pd(matmul::desc(src_md, w_any, b_md, dst_md), attr, eng);
  memory src_m(src_md, eng, const_cast<int8_t*>(pr.x.data()));
  memory w_user_m(w_user, eng, const_cast<int8_t*>(pr.w.data()));
  memory w_m(pd.weights_desc(), eng);
  reorder(w_user_m, w_m).execute(strm, w_user_m, w_m);  // prepack, outside the timed loop
  memory b_m(b_md, eng, const_cast<int32_t*>(pr.bias.data()));
  memory dst_m(dst_md, eng);
  const matmul prim(pd);
  const std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_BIAS, b_m}, {DNNL_ARG_DST, dst_m}};
  ptq_bench::time_onednn(state, strm, prim, pd, args);
  set_ops(state, shape);
}
#endif

#if PTQ_BENCH_HAVE_XNNPACK
void bm_xnnpack(benchmark::State& state, Shape shape) {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  const Problem pr(shape);
  xnn_operator_t op = nullptr;
  // XNNPACK 2022's qs8 fully connected is per tensor: one kernel scale.
  if (xnn_create_fully_connected_nc_qs8(
          static_cast<size_t>(shape.k), static_cast<size_t>(shape.n), static_cast<size_t>(shape.k),
          static_cast<size_t>(shape.n), static_cast<int8_t>(pr.x_zp), pr.x_scale, pr.w_scales[0],
          pr.w.data(), pr.bias.data(), static_cast<int8_t>(pr.y_zp), pr.y_scale, -128, 127, 0,
          &op) != xnn_status_success) {
    state.SkipWithError("xnn_create_fully_connected_nc_qs8 failed");
    return;
  }
  std::vector<int8_t> y(static_cast<std::size_t>(shape.m * shape.n));
  if (xnn_setup_fully_connected_nc_qs8(op, static_cast<size_t>(shape.m), pr.x.data(), y.data(), nullptr) !=
      xnn_status_success) {
    state.SkipWithError("xnn_setup_fully_connected_nc_qs8 failed");
    xnn_delete_operator(op);
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  set_ops(state, shape);
}
#endif

#if PTQ_BENCH_HAVE_OPENBLAS
void bm_openblas(benchmark::State& state, Shape shape) {
  openblas_set_num_threads(1);
  const Problem pr(shape);
  std::vector<float> a(pr.x.begin(), pr.x.end()), b(pr.w.begin(), pr.w.end());
  std::vector<float> c(static_cast<std::size_t>(shape.m * shape.n));
  const auto m = static_cast<int>(shape.m), n = static_cast<int>(shape.n), k = static_cast<int>(shape.k);
  for (auto _ : state) {
    if (m == 1) {  // what a float fully connected at batch 1 calls
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, b.data(), k, a.data(), 1, 0.0f, c.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, b.data(), k,
                  0.0f, c.data(), n);
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, shape);
}
#endif

void register_all() {
  // The VNNI and AVX-512 levels are skipped (with a message) on CPUs without them.
  const ptq::Isa levels[] = {ptq::Isa::kAvx512Vnni, ptq::Isa::kAvxVnni, ptq::Isa::kAvx512,
                             ptq::Isa::kAvx2,       ptq::Isa::kSse41,   ptq::Isa::kScalar};
  std::size_t count = 0;
  const ptq::gemm::Microkernel* const* kernels = ptq::gemm::microkernels(&count);
  for (const Shape& s : kShapes) {
    const std::string sn = shape_name(s);
    for (ptq::Isa isa : levels) {
      if (isa == ptq::Isa::kScalar && s.m * s.n * s.k > (int64_t{1} << 26)) continue;  // minutes
      benchmark::RegisterBenchmark(("gemm/ptq/" + std::string(ptq::isa_name(isa)) + "/" + sn).c_str(),
                                   bm_ptq, s, isa, nullptr);
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (kernels[i]->isa == ptq::Isa::kScalar) continue;
      benchmark::RegisterBenchmark(("gemm/ptq_kernel/" + std::string(kernels[i]->name) + "/" + sn).c_str(),
                                   bm_ptq, s, kernels[i]->isa, kernels[i]);
    }
#if PTQ_BENCH_HAVE_DNNL
    benchmark::RegisterBenchmark(("gemm/onednn/s8/" + sn).c_str(), bm_onednn, s, dnnl::memory::data_type::s8);
    benchmark::RegisterBenchmark(("gemm/onednn/u8/" + sn).c_str(), bm_onednn, s, dnnl::memory::data_type::u8);
#endif
#if PTQ_BENCH_HAVE_XNNPACK
    benchmark::RegisterBenchmark(("gemm/xnnpack/qs8/" + sn).c_str(), bm_xnnpack, s);
#endif
#if PTQ_BENCH_HAVE_OPENBLAS
    benchmark::RegisterBenchmark(("gemm/openblas/f32/" + sn).c_str(), bm_openblas, s);
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {  // see the header: oneDNN on one thread
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
  }
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// ---- float32: ptq's float GEMM (kernels/float_gemm.hpp) against OpenBLAS sgemm/sgemv -------------
// gemm/ptq_f32/<level>/MxKxN: y = x * W^T + bias in fp32, weights packed outside the timed loop,
// one thread; the rows to compare with are gemm/openblas/f32/MxKxN above (same shapes, fp32
// C = A * B^T, no bias) and gemm/ptq_f32/reference (the scalar reference the interpreter ran
// before). Bit for bit the reference at every level (no FMA: float_microkernel.hpp).
#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"

namespace {

void bm_ptq_f32(benchmark::State& state, Shape shape, ptq::Isa isa, bool reference) {
  if (!reference && ptq_bench::skip_isa(state, isa)) return;
  const Problem pr(shape);
  const std::vector<float> x(pr.x.begin(), pr.x.end()), w(pr.w.begin(), pr.w.end());
  const std::vector<float> bias(pr.bias.begin(), pr.bias.end());
  const ptq::FloatFullyConnectedParams p{shape.m, shape.k, shape.n, ptq::FusedActivation::kNone};
  const ptq::PreparedFloatFullyConnected fc = ptq::prepare_float_fully_connected(p, w.data(), bias.data());
  std::vector<float> y(static_cast<std::size_t>(shape.m * shape.n));
  for (auto _ : state) {
    if (reference) {
      ptq::reference::fully_connected(p, x.data(), w.data(), bias.data(), y.data());
    } else {
      ptq::float_fully_connected(fc, x.data(), y.data(), isa);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(reference ? "reference" : ptq::float_kernels(isa).name);
  set_ops(state, shape);
}

const bool kF32BenchesRegistered = [] {
  for (const Shape& s : kShapes) {
    for (ptq::Isa isa : {ptq::Isa::kAvx2, ptq::Isa::kSse41, ptq::Isa::kScalar}) {
      if (isa == ptq::Isa::kScalar && s.m * s.n * s.k > (int64_t{1} << 26)) continue;
      benchmark::RegisterBenchmark(("gemm/ptq_f32/" + std::string(ptq::isa_name(isa)) + "/" + shape_name(s)).c_str(),
                                   bm_ptq_f32, s, isa, false);
    }
    if (s.m * s.n * s.k <= (int64_t{1} << 26)) {
      benchmark::RegisterBenchmark(("gemm/ptq_f32/reference/" + shape_name(s)).c_str(), bm_ptq_f32, s,
                                   ptq::Isa::kScalar, true);
    }
  }
  return true;
}();

}  // namespace

// ---- Threads: ptq on ptq::ThreadPool (kernels/thread_pool.hpp) ----------------------------------
// gemm/ptq_threads/<T>/<level>/MxKxN: the level ptq selects on this CPU, with a pool of T threads
// (the caller included), wall-clock time (UseRealTime), so that the 1-thread rows above and these
// show the scaling. Registered from a static initializer, before main() runs.
#include "ptq/kernels/thread_pool.hpp"

namespace {

void bm_ptq_threads(benchmark::State& state, Shape shape, int threads) {
  const ptq::Isa isa = ptq::selected_isa();
  const Problem pr(shape);
  const ptq::FullyConnectedParams p = pr.params();
  const ptq::gemm::PackedWeights packed =
      ptq::gemm::pack_weights(p, pr.w.data(), pr.bias.data(), ptq::gemm::preferred_layout(isa));
  std::vector<int8_t> y(static_cast<std::size_t>(shape.m * shape.n));
  ptq::ThreadPool pool(threads);
  ptq::gemm::GemmOptions o;
  o.isa = isa;
  o.parallel_for = pool.parallel_for();
  for (auto _ : state) {
    ptq::gemm::fully_connected(packed, pr.x.data(), shape.m, y.data(), o);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(ptq::gemm::microkernel_for(packed.layout(), isa)->name);
  set_ops(state, shape);
}

const bool kThreadBenchesRegistered = [] {
  const std::string level = ptq::isa_name(ptq::selected_isa());
  for (const Shape& s : {Shape{64, 1024, 1024}, Shape{1024, 1024, 1024}}) {
    for (int threads : {1, 2}) {
      benchmark::RegisterBenchmark(("gemm/ptq_threads/" + std::to_string(threads) + "/" + level + "/" +
                                    shape_name(s)).c_str(),
                                   bm_ptq_threads, s, threads)
          ->UseRealTime();
    }
  }
  return true;
}();

}  // namespace

// ---- uint8 legacy path (kernels/gemm/uint8.hpp) -------------------------------------------------
// gemm/ptq_u8/<weights>/<level>/MxKxN, one thread: "narrow" weights (w - w_zp in [-127, 127]: the
// int8 kernels, no row term) and "full" weights (0 and 255 present: the kernels exact for -128,
// vpmaddwd on AVX2), against the int8 rows above.
#include "ptq/kernels/gemm/uint8.hpp"

namespace {

void bm_ptq_u8(benchmark::State& state, Shape shape, bool full_range) {
  const ptq::Isa isa = ptq::selected_isa();
  std::mt19937 rng(42);
  std::vector<uint8_t> x(static_cast<std::size_t>(shape.m * shape.k)), w(static_cast<std::size_t>(shape.n * shape.k));
  std::vector<int32_t> bias(static_cast<std::size_t>(shape.n));
  for (auto& v : x) v = static_cast<uint8_t>(rng() % 256);
  for (auto& v : w) v = static_cast<uint8_t>(full_range ? rng() % 256 : 1 + rng() % 255);  // narrow: [1, 255]
  for (auto& v : bias) v = static_cast<int32_t>(rng() % 20001) - 10000;
  ptq::FullyConnectedParams p;
  p.batches = shape.m;
  p.input_depth = shape.k;
  p.output_depth = shape.n;
  p.input_zero_point = 120;
  p.weights_zero_point = 128;
  p.output_zero_point = 130;
  p.activation_min = 0;
  p.activation_max = 255;
  p.multipliers = {ptq::quantize_multiplier(1e-4)};
  const ptq::gemm::PackedWeightsU8 packed = ptq::gemm::pack_weights_u8(p, w.data(), bias.data(), isa);
  std::vector<uint8_t> y(static_cast<std::size_t>(shape.m * shape.n));
  for (auto _ : state) {
    ptq::gemm::fully_connected(packed, x.data(), shape.m, y.data(), isa);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(ptq::gemm::microkernel_for(packed, isa)->name);
  set_ops(state, shape);
}

const bool kU8BenchesRegistered = [] {
  const std::string level = ptq::isa_name(ptq::selected_isa());
  for (const Shape& s : {Shape{1, 1024, 1024}, Shape{64, 1024, 1024}, Shape{1024, 1024, 1024}}) {
    for (bool full : {false, true}) {
      benchmark::RegisterBenchmark(("gemm/ptq_u8/" + std::string(full ? "full" : "narrow") + "/" + level + "/" +
                                    shape_name(s)).c_str(),
                                   bm_ptq_u8, s, full);
    }
  }
  return true;
}();

}  // namespace
