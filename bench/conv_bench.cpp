// conv_bench.cpp: ptq's int8 convolution (through the GEMM), direct depthwise and hybrid fully
// connected, per ISA level, against oneDNN int8 convolution, XNNPACK 2022 qc8 convolution and
// OpenBLAS fp32 sgemv / sgemm, in one binary, on one thread.
//
// Every int8 contender prepares (packs) its weights outside the timed loop and produces int8 NHWC
// output with per-channel scales from int8 NHWC input; SAME padding, stride 1, batch 1. Depthwise
// is each peer's grouped convolution with groups = channels (oneDNN picks its depthwise kernel,
// XNNPACK its dwconv microkernels). Hybrid: ptq quantizes the float rows on the fly, runs the int8
// GEMM and the float epilogue; OpenBLAS runs the same layer in fp32 (sgemv at batch 1, sgemm
// above), the float baseline a dynamic-range layer replaces.
// Hybrid conv / depthwise: ptq's SIMD kernels (hybrid_conv.hpp: per-image quantization, the int8
// GEMM through im2col or the depthwise walk, the float epilogue) against the scalar references
// (reference/hybrid.hpp) they equal bit for bit, float NHWC in and out, on the int8 conv shapes;
// "_pc" runs TFLite's per-channel kernel (distinct weight scales, asymmetric images), "_pt" the
// per-tensor one (one weight scale, symmetric images).
// Counter "ops" = 2 * multiply-adds per iteration, as a rate (kIsIterationInvariantRate).
// Names: <op>/<contender>/<variant>/<shape>. One thread: see gemm_bench.cpp (OMP_NUM_THREADS).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_common.hpp"
#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/float_conv.hpp"
#include "ptq/kernels/float_depthwise.hpp"
#include "ptq/kernels/hybrid.hpp"
#include "ptq/kernels/hybrid_conv.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"

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

struct ConvShape {
  int64_t h, w, c, k, oc;  // input h x w x c, k x k filter, oc outputs (depthwise: oc = c)
  bool depthwise;
};
// The three layers, then an RGB network's first layer (K = 3 * 3 * 3 = 27, not a multiple of
// the kernels' K group of 4: the im2col pads its rows).
const ConvShape kConvShapes[] = {{56, 56, 64, 3, 64, false},
                                 {28, 28, 128, 3, 128, false},
                                 {14, 14, 256, 1, 256, false},
                                 {112, 112, 3, 3, 32, false}};
const ConvShape kDwShapes[] = {{112, 112, 32, 3, 32, true}, {56, 56, 128, 3, 128, true}};

std::string shape_name(const ConvShape& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c) + "_" + std::to_string(s.k) + "x" +
         std::to_string(s.k) + "_" + std::to_string(s.oc);
}

double conv_macs(const ConvShape& s) {
  return static_cast<double>(s.h * s.w * s.oc * s.k * s.k * (s.depthwise ? 1 : s.c));
}

using ptq_bench::set_ops;
using ptq_bench::skip_isa;

// One layer's data, identical for every contender (w in ptq's layout: conv OHWI, depthwise
// [1, KH, KW, C]; weight scales around 0.004).
struct ConvProblem : ptq_bench::LayerData {
  ConvShape s;
  float x_scale = 0.05f, y_scale = 0.5f;
  int32_t x_zp = 3, y_zp = -2;

  explicit ConvProblem(ConvShape shape)
      : LayerData(shape.h * shape.w * shape.c, shape.oc * shape.k * shape.k * (shape.depthwise ? 1 : shape.c),
                  shape.oc, 0.002f, 0.004f),
        s(shape) {}
  ptq::ConvGeometry geometry() const {
    return ptq::make_conv_geometry(ptq::Padding::kSame, 1, s.h, s.w, s.c, s.k, s.k, s.oc);
  }
  std::vector<ptq::QuantizedMultiplier> multipliers() const {
    return ptq::convolution_multipliers(x_scale, w_scales, y_scale);
  }
};


void bm_ptq_conv(benchmark::State& state, ConvShape shape, ptq::Isa isa, ptq::gemm::PackLayout layout) {
  if (skip_isa(state, isa)) return;
  const ConvProblem pr(shape);
  ptq::Conv2DParams p;
  p.geometry = pr.geometry();
  p.input_zero_point = pr.x_zp;
  p.output_zero_point = pr.y_zp;
  p.multipliers = pr.multipliers();
  const ptq::PreparedConv2D conv = ptq::prepare_conv2d(p, pr.w.data(), pr.bias.data(), layout);
  std::vector<int8_t> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    ptq::conv2d(conv, pr.x.data(), y.data(), isa);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(ptq::gemm::microkernel_for(conv.packed(0).layout(), isa)->name) +
                 (conv.direct() ? " direct" : " im2col"));
  set_ops(state, conv_macs(shape));
}

void bm_ptq_depthwise(benchmark::State& state, ConvShape shape, ptq::Isa isa) {
  if (skip_isa(state, isa)) return;
  const ConvProblem pr(shape);
  ptq::DepthwiseConv2DParams p;
  p.geometry = pr.geometry();
  p.input_zero_point = pr.x_zp;
  p.output_zero_point = pr.y_zp;
  p.multipliers = pr.multipliers();
  const ptq::PreparedDepthwiseConv2D dw = ptq::prepare_depthwise_conv2d(p, pr.w.data(), pr.bias.data());
  std::vector<int8_t> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    ptq::depthwise_conv2d(dw, pr.x.data(), y.data(), isa);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, conv_macs(shape));
}

#if PTQ_BENCH_HAVE_DNNL
void bm_onednn_conv(benchmark::State& state, ConvShape shape) {
  using namespace dnnl;
  const ConvProblem pr(shape);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dim c = shape.c, oc = shape.oc, k = shape.k, pad = (shape.k - 1) / 2;
  const memory::dims src_dims = {1, c, shape.h, shape.w}, dst_dims = {1, oc, shape.h, shape.w};
  const memory::dims w_dims = shape.depthwise ? memory::dims{c, 1, 1, k, k} : memory::dims{oc, c, k, k};
  const memory::desc src_md(src_dims, memory::data_type::s8, memory::format_tag::nhwc);
  const memory::desc dst_md(dst_dims, memory::data_type::s8, memory::format_tag::nhwc);
  const memory::desc w_any(w_dims, memory::data_type::s8, memory::format_tag::any);
  // ptq's layouts: OHWI ([oc][kh][kw][ic]) and, for depthwise, [kh][kw][c] = goihw's transpose.
  const memory::desc w_user(w_dims, memory::data_type::s8,
                            shape.depthwise ? memory::format_tag::hwigo : memory::format_tag::ohwi);
  const memory::desc b_md({oc}, memory::data_type::s32, memory::format_tag::x);
  std::vector<float> scales(static_cast<std::size_t>(oc));
  for (int64_t i = 0; i < oc; ++i) scales[i] = pr.x_scale * pr.w_scales[i] / pr.y_scale;
  primitive_attr attr;
  attr.set_output_scales(1 << 1, scales);
  const convolution_forward::primitive_desc pd(
      convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any, b_md,
                                dst_md, {1, 1}, {pad, pad}, {pad, pad}),
      attr, eng);
  memory src_m(src_md, eng, const_cast<int8_t*>(pr.x.data()));
  memory w_user_m(w_user, eng, const_cast<int8_t*>(pr.w.data()));
  memory w_m(pd.weights_desc(), eng);
  reorder(w_user_m, w_m).execute(strm, w_user_m, w_m);
  memory b_m(b_md, eng, const_cast<int32_t*>(pr.bias.data()));
  memory dst_m(dst_md, eng);
  const convolution_forward prim(pd);
  const std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_BIAS, b_m}, {DNNL_ARG_DST, dst_m}};
  ptq_bench::time_onednn(state, strm, prim, pd, args);
  set_ops(state, conv_macs(shape));
}
#endif

#if PTQ_BENCH_HAVE_XNNPACK
void bm_xnnpack_conv(benchmark::State& state, ConvShape shape) {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  const ConvProblem pr(shape);
  const auto pad = static_cast<uint32_t>((shape.k - 1) / 2), k = static_cast<uint32_t>(shape.k);
  const auto c = static_cast<size_t>(shape.c), oc = static_cast<size_t>(shape.oc);
  xnn_operator_t op = nullptr;
  // Per-channel (qc8). Depthwise: groups = c with XNNPACK's depthwise filter layout [kh][kw][c],
  // which is ptq's; convolution: [oc][kh][kw][ic], also ptq's.
  const xnn_status st = xnn_create_convolution2d_nhwc_qc8(
      pad, pad, pad, pad, k, k, 1, 1, 1, 1, shape.depthwise ? static_cast<uint32_t>(c) : 1u, shape.depthwise ? 1 : c,
      shape.depthwise ? 1 : oc, c, oc, static_cast<int8_t>(pr.x_zp), pr.x_scale, pr.w_scales.data(), pr.w.data(),
      pr.bias.data(), static_cast<int8_t>(pr.y_zp), pr.y_scale, -128, 127,
      shape.depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0u, &op);
  if (st != xnn_status_success) {
    state.SkipWithError("xnn_create_convolution2d_nhwc_qc8 failed");
    return;
  }
  std::vector<int8_t> y(static_cast<std::size_t>(shape.h * shape.w * shape.oc));
  if (xnn_setup_convolution2d_nhwc_qc8(op, 1, static_cast<size_t>(shape.h), static_cast<size_t>(shape.w), pr.x.data(),
                                       y.data(), nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_setup_convolution2d_nhwc_qc8 failed");
    xnn_delete_operator(op);
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  set_ops(state, conv_macs(shape));
}
#endif

// ---- hybrid conv and depthwise ---------------------------------------------------------------------
// The conv layer's int8 weights with float images (N(0, 1)) and a float bias; weight scales per
// channel (distinct: the per-channel kernel) or one (the per-tensor kernel).
struct HybridConvProblem {
  ConvProblem int8;
  std::vector<float> x, bias;
  explicit HybridConvProblem(ConvShape shape) : int8(shape) {
    std::mt19937 rng(11);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    x.resize(static_cast<std::size_t>(shape.h * shape.w * shape.c));
    bias.resize(static_cast<std::size_t>(shape.oc));
    for (auto& v : x) v = nd(rng);
    for (auto& v : bias) v = nd(rng);
  }
  std::vector<float> weight_scales(bool per_channel) const {
    return per_channel ? int8.w_scales : std::vector<float>{int8.w_scales[0]};
  }
  ptq::HybridConv2DParams conv_params(bool per_channel) const {
    ptq::HybridConv2DParams p;
    p.geometry = int8.geometry();
    p.weight_scales = weight_scales(per_channel);
    p.activation = ptq::FusedActivation::kRelu;
    return p;
  }
  ptq::HybridDepthwiseConv2DParams depthwise_params() const {
    ptq::HybridDepthwiseConv2DParams p;
    p.geometry = int8.geometry();
    p.weight_scales = int8.w_scales;
    p.activation = ptq::FusedActivation::kRelu;
    return p;
  }
};

void bm_ptq_hybrid_conv(benchmark::State& state, ConvShape shape, ptq::Isa isa, bool per_channel) {
  if (skip_isa(state, isa)) return;
  const HybridConvProblem pr(shape);
  const ptq::HybridConv2DParams p = pr.conv_params(per_channel);
  const ptq::PreparedHybridConv2D conv =
      ptq::prepare_hybrid_conv2d(p, pr.int8.w.data(), pr.bias.data(), ptq::gemm::preferred_layout(isa));
  std::vector<float> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    ptq::hybrid_conv2d(conv, pr.x.data(), y.data(), isa);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(ptq::gemm::microkernel_for(conv.packed(0).layout(), isa)->name) +
                 (conv.direct() ? " direct" : " im2col"));
  set_ops(state, conv_macs(shape));
}

void bm_reference_hybrid_conv(benchmark::State& state, ConvShape shape, bool per_channel) {
  const HybridConvProblem pr(shape);
  const ptq::HybridConv2DParams p = pr.conv_params(per_channel);
  ptq::HybridScratch scratch;
  std::vector<float> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    ptq::reference::hybrid_conv2d(p, pr.x.data(), pr.int8.w.data(), pr.bias.data(), y.data(), scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, conv_macs(shape));
}

void bm_ptq_hybrid_depthwise(benchmark::State& state, ConvShape shape, ptq::Isa isa) {
  if (skip_isa(state, isa)) return;
  const HybridConvProblem pr(shape);
  const ptq::HybridDepthwiseConv2DParams p = pr.depthwise_params();
  const ptq::PreparedHybridDepthwiseConv2D dw = ptq::prepare_hybrid_depthwise_conv2d(p, pr.int8.w.data(), pr.bias.data());
  std::vector<float> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    ptq::hybrid_depthwise_conv2d(dw, pr.x.data(), y.data(), isa);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, conv_macs(shape));
}

void bm_reference_hybrid_depthwise(benchmark::State& state, ConvShape shape) {
  const HybridConvProblem pr(shape);
  const ptq::HybridDepthwiseConv2DParams p = pr.depthwise_params();
  ptq::HybridScratch scratch;
  std::vector<float> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    ptq::reference::hybrid_depthwise_conv2d(p, pr.x.data(), pr.int8.w.data(), pr.bias.data(), y.data(), scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, conv_macs(shape));
}

// ---- float32 conv and depthwise (kernels/float_conv.hpp, float_depthwise.hpp) ----------------------
// conv/ptq_f32/<level>/<shape>, depthwise/ptq_f32/<level>/<shape>: the same layers in fp32, weights
// packed outside the timed loop; conv/openblas/f32_im2col/<shape>: the plain im2col + sgemm an fp32
// engine on OpenBLAS runs (im2col timed, bias and ReLU-free); */ptq_f32/reference: the scalar
// reference the interpreter ran before.
struct FloatConvProblem {
  ConvShape s;
  ptq::ConvGeometry g;
  std::vector<float> x, w, bias;
  explicit FloatConvProblem(ConvShape shape) : s(shape) {
    const ConvProblem q(shape);
    g = q.geometry();
    x.resize(q.x.size());
    w.resize(q.w.size());
    bias.resize(q.bias.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(q.x[i]) * 0.02f;
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(q.w[i]) * 0.004f;
    for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<float>(q.bias[i]) * 1e-4f;
  }
};

void bm_ptq_f32_conv(benchmark::State& state, ConvShape shape, ptq::Isa isa, bool reference) {
  if (!reference && skip_isa(state, isa)) return;
  const FloatConvProblem pr(shape);
  ptq::FloatConv2DParams p;
  p.geometry = pr.g;
  const ptq::PreparedFloatConv2D conv = ptq::prepare_float_conv2d(p, pr.w.data(), pr.bias.data());
  std::vector<float> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    if (reference) {
      ptq::reference::conv2d(p, pr.x.data(), pr.w.data(), pr.bias.data(), y.data());
    } else {
      ptq::float_conv2d(conv, pr.x.data(), y.data(), isa);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(reference ? std::string("reference")
                           : std::string(ptq::float_kernels(isa).name) + (conv.direct() ? " direct" : " im2col"));
  set_ops(state, conv_macs(shape));
}

void bm_ptq_f32_depthwise(benchmark::State& state, ConvShape shape, ptq::Isa isa, bool reference) {
  if (!reference && skip_isa(state, isa)) return;
  const FloatConvProblem pr(shape);
  ptq::FloatDepthwiseConv2DParams p;
  p.geometry = pr.g;
  const ptq::PreparedFloatDepthwiseConv2D dw = ptq::prepare_float_depthwise_conv2d(p, pr.w.data(), pr.bias.data());
  std::vector<float> y(static_cast<std::size_t>(p.geometry.output_size()));
  for (auto _ : state) {
    if (reference) {
      ptq::reference::depthwise_conv2d(p, pr.x.data(), pr.w.data(), pr.bias.data(), y.data());
    } else {
      ptq::float_depthwise_conv2d(dw, pr.x.data(), y.data(), isa);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(reference ? "reference" : ptq::float_kernels(isa).name);
  set_ops(state, conv_macs(shape));
}

#if PTQ_BENCH_HAVE_OPENBLAS
void bm_openblas_conv(benchmark::State& state, ConvShape shape) {
  openblas_set_num_threads(1);
  const FloatConvProblem pr(shape);
  const ptq::ConvGeometry& g = pr.g;
  const int64_t k = g.filter_height * g.filter_width * g.input_channels, m = g.output_height * g.output_width;
  const bool direct = shape.k == 1;
  std::vector<float> a(direct ? 0 : static_cast<std::size_t>(m * k)), y(static_cast<std::size_t>(m * shape.oc));
  for (auto _ : state) {
    if (!direct) {  // im2col, zero padding
      float* dst = a.data();
      for (int64_t oy = 0; oy < g.output_height; ++oy) {
        for (int64_t ox = 0; ox < g.output_width; ++ox) {
          for (int64_t fy = 0; fy < g.filter_height; ++fy) {
            const int64_t iy = oy - g.pad_top + fy;
            for (int64_t fx = 0; fx < g.filter_width; ++fx, dst += g.input_channels) {
              const int64_t ix = ox - g.pad_left + fx;
              if (iy < 0 || iy >= g.input_height || ix < 0 || ix >= g.input_width) {
                std::fill(dst, dst + g.input_channels, 0.0f);
              } else {
                std::copy_n(pr.x.data() + (iy * g.input_width + ix) * g.input_channels, g.input_channels, dst);
              }
            }
          }
        }
      }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(shape.oc),
                static_cast<int>(k), 1.0f, direct ? pr.x.data() : a.data(), static_cast<int>(k), pr.w.data(),
                static_cast<int>(k), 0.0f, y.data(), static_cast<int>(shape.oc));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(direct ? "sgemm" : "im2col + sgemm");
  set_ops(state, conv_macs(shape));
}
#endif

void register_f32() {
  for (const ConvShape& s : kConvShapes) {
    const std::string sn = shape_name(s);
    for (ptq::Isa isa : {ptq::Isa::kAvx2, ptq::Isa::kSse41}) {
      benchmark::RegisterBenchmark(("conv/ptq_f32/" + std::string(ptq::isa_name(isa)) + "/" + sn).c_str(),
                                   bm_ptq_f32_conv, s, isa, false);
    }
    benchmark::RegisterBenchmark(("conv/ptq_f32/reference/" + sn).c_str(), bm_ptq_f32_conv, s, ptq::Isa::kScalar, true);
#if PTQ_BENCH_HAVE_OPENBLAS
    benchmark::RegisterBenchmark(("conv/openblas/f32_im2col/" + sn).c_str(), bm_openblas_conv, s);
#endif
  }
  for (const ConvShape& s : kDwShapes) {
    const std::string sn = shape_name(s);
    for (ptq::Isa isa : {ptq::Isa::kAvx2, ptq::Isa::kSse41, ptq::Isa::kScalar}) {
      benchmark::RegisterBenchmark(("depthwise/ptq_f32/" + std::string(ptq::isa_name(isa)) + "/" + sn).c_str(),
                                   bm_ptq_f32_depthwise, s, isa, false);
    }
    benchmark::RegisterBenchmark(("depthwise/ptq_f32/reference/" + sn).c_str(), bm_ptq_f32_depthwise, s,
                                 ptq::Isa::kScalar, true);
  }
}

// ---- hybrid fully connected ----------------------------------------------------------------------
struct FcShape {
  int64_t m, k, n;
};
const FcShape kHybridShapes[] = {{1, 1024, 1024}, {8, 1024, 1024}};

std::string fc_name(const FcShape& s) { return std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n); }

struct HybridProblem {
  FcShape s;
  std::vector<float> x, wf, bias;
  std::vector<int8_t> w;
  std::vector<float> w_scales;
  explicit HybridProblem(FcShape shape) : s(shape) {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    x.resize(static_cast<std::size_t>(s.m * s.k));
    w.resize(static_cast<std::size_t>(s.n * s.k));
    bias.resize(static_cast<std::size_t>(s.n));
    w_scales.resize(static_cast<std::size_t>(s.n));
    for (auto& v : x) v = nd(rng);
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    for (auto& v : bias) v = nd(rng);
    for (auto& v : w_scales) v = 0.001f + 0.001f * static_cast<float>(rng() % 1000) / 1000.0f;
    wf.resize(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) wf[i] = static_cast<float>(w[i]) * w_scales[i / static_cast<std::size_t>(s.k)];
  }
};

void bm_ptq_hybrid(benchmark::State& state, FcShape shape, ptq::Isa isa, ptq::HybridInputQuantization mode) {
  if (skip_isa(state, isa)) return;
  const HybridProblem pr(shape);
  ptq::HybridFullyConnectedParams p;
  p.batches = shape.m;
  p.input_depth = shape.k;
  p.output_depth = shape.n;
  p.weight_scales = pr.w_scales;
  p.input_quantization = mode;
  const ptq::PreparedHybridFullyConnected fc = ptq::prepare_hybrid_fully_connected(p, pr.w.data(), pr.bias.data());
  std::vector<float> y(static_cast<std::size_t>(shape.m * shape.n));
  for (auto _ : state) {
    ptq::hybrid_fully_connected(fc, pr.x.data(), y.data(), isa);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, static_cast<double>(shape.m * shape.k * shape.n));
}

#if PTQ_BENCH_HAVE_OPENBLAS
void bm_openblas_fc(benchmark::State& state, FcShape shape) {
  openblas_set_num_threads(1);
  const HybridProblem pr(shape);
  std::vector<float> y(static_cast<std::size_t>(shape.m * shape.n));
  const auto m = static_cast<int>(shape.m), n = static_cast<int>(shape.n), k = static_cast<int>(shape.k);
  for (auto _ : state) {
    for (int b = 0; b < m; ++b) std::copy(pr.bias.begin(), pr.bias.end(), y.begin() + b * n);
    if (m == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, pr.wf.data(), k, pr.x.data(), 1, 1.0f, y.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, pr.x.data(), k, pr.wf.data(), k, 1.0f,
                  y.data(), n);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(m == 1 ? "sgemv" : "sgemm");
  set_ops(state, static_cast<double>(shape.m * shape.k * shape.n));
}
#endif

void register_all() {
  register_f32();
  const ptq::Isa levels[] = {ptq::Isa::kAvx2, ptq::Isa::kSse41, ptq::Isa::kScalar};
  for (const ConvShape& s : kConvShapes) {
    const std::string sn = shape_name(s);
    for (ptq::Isa isa : levels) {
      if (isa == ptq::Isa::kScalar) continue;  // minutes per shape; the tests cover it
      benchmark::RegisterBenchmark(("conv/ptq/" + std::string(ptq::isa_name(isa)) + "/" + sn).c_str(), bm_ptq_conv, s, isa,
                                   ptq::gemm::kDefaultPackLayout);
    }
    // Other panel layouts that have a kernel at a level (e.g. 64c4), selectable by name.
    for (ptq::gemm::PackLayout layout : {ptq::gemm::PackLayout{64, 4}, ptq::gemm::PackLayout{8, 8}}) {
      for (ptq::Isa isa : {ptq::Isa::kAvx2}) {
        const ptq::gemm::Microkernel* uk = ptq::gemm::microkernel_for(layout, isa);
        if (uk == nullptr || uk->isa != isa) continue;
        benchmark::RegisterBenchmark(("conv/ptq_kernel/" + std::string(uk->name) + "/" + sn).c_str(), bm_ptq_conv, s, isa,
                                     layout);
      }
    }
#if PTQ_BENCH_HAVE_DNNL
    benchmark::RegisterBenchmark(("conv/onednn/s8/" + sn).c_str(), bm_onednn_conv, s);
#endif
#if PTQ_BENCH_HAVE_XNNPACK
    benchmark::RegisterBenchmark(("conv/xnnpack/qc8/" + sn).c_str(), bm_xnnpack_conv, s);
#endif
  }
  for (const ConvShape& s : kDwShapes) {
    const std::string sn = shape_name(s);
    for (ptq::Isa isa : levels)
      benchmark::RegisterBenchmark(("depthwise/ptq/" + std::string(ptq::isa_name(isa)) + "/" + sn).c_str(), bm_ptq_depthwise, s, isa);
#if PTQ_BENCH_HAVE_DNNL
    benchmark::RegisterBenchmark(("depthwise/onednn/s8/" + sn).c_str(), bm_onednn_conv, s);
#endif
#if PTQ_BENCH_HAVE_XNNPACK
    benchmark::RegisterBenchmark(("depthwise/xnnpack/qc8/" + sn).c_str(), bm_xnnpack_conv, s);
#endif
  }
  for (const ConvShape& s : kConvShapes) {
    const std::string sn = shape_name(s);
    for (bool pc : {true, false}) {
      const std::string kind = pc ? "_pc/" : "_pt/";
      for (ptq::Isa isa : {ptq::Isa::kAvx2, ptq::Isa::kSse41}) {
        benchmark::RegisterBenchmark(("hybrid_conv/ptq/" + std::string(ptq::isa_name(isa)) + kind + sn).c_str(),
                                     bm_ptq_hybrid_conv, s, isa, pc);
      }
      benchmark::RegisterBenchmark(("hybrid_conv/reference/scalar" + kind + sn).c_str(), bm_reference_hybrid_conv, s, pc);
    }
  }
  for (const ConvShape& s : kDwShapes) {
    const std::string sn = shape_name(s);
    for (ptq::Isa isa : levels) {
      benchmark::RegisterBenchmark(("hybrid_depthwise/ptq/" + std::string(ptq::isa_name(isa)) + "/" + sn).c_str(),
                                   bm_ptq_hybrid_depthwise, s, isa);
    }
    benchmark::RegisterBenchmark(("hybrid_depthwise/reference/scalar/" + sn).c_str(), bm_reference_hybrid_depthwise, s);
  }
  for (const FcShape& s : kHybridShapes) {
    const std::string sn = fc_name(s);
    for (ptq::Isa isa : levels) {
      benchmark::RegisterBenchmark(("hybrid/ptq/" + std::string(ptq::isa_name(isa)) + "_sym/" + sn).c_str(), bm_ptq_hybrid, s,
                                   isa, ptq::HybridInputQuantization::kSymmetric);
      benchmark::RegisterBenchmark(("hybrid/ptq/" + std::string(ptq::isa_name(isa)) + "_asym/" + sn).c_str(), bm_ptq_hybrid, s,
                                   isa, ptq::HybridInputQuantization::kAsymmetric);
    }
#if PTQ_BENCH_HAVE_OPENBLAS
    benchmark::RegisterBenchmark(("hybrid/openblas/f32/" + sn).c_str(), bm_openblas_fc, s);
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {  // oneDNN on one thread (see gemm_bench.cpp)
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
