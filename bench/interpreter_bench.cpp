// interpreter_bench.cpp: end-to-end latency of two small models through ptq's interpreter in
// float32, hybrid and int8 (examples/common/sample_models.hpp), and the interpreter's overhead per
// op at tiny sizes. One thread; the ISA is the best this CPU runs (PTQ_ISA overrides).
//
//   BM_model/<model>/<form>   one run() of the whole model; "ops" = 2 * MACs of its layers
//   BM_op_overhead/<op>       a chain of 64 ops on 4-element tensors, reported per op
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "common/sample_models.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

namespace ir = ptq::ir;
namespace rt = ptq::runtime;
using ptq_samples::Form;

// Multiply-adds of the conv / depthwise / fully connected layers (the work the forms share).
double model_macs(const ir::Graph& g) {
  double macs = 0;
  for (const ir::Op& op : g.ops) {
    if (op.kind != ir::OpKind::kConv2D && op.kind != ir::OpKind::kDepthwiseConv2D && op.kind != ir::OpKind::kFullyConnected) {
      continue;
    }
    const ptq::Shape& w = g.tensor(op.inputs[1]).shape;
    const double out = static_cast<double>(g.tensor(op.outputs[0]).shape.num_elements());
    const double per_output = op.kind == ir::OpKind::kDepthwiseConv2D ? static_cast<double>(w[1] * w[2])
                                                                      : static_cast<double>(w.num_elements() / w[0]);
    macs += out * per_output;
  }
  return macs;
}

void BM_model(benchmark::State& state, const std::string& name, Form form) {
  const ir::Graph g = ptq_samples::sample_model(name, form);
  auto net = rt::Interpreter::create(g);
  if (!net.ok()) {
    state.SkipWithError(net.status().to_string().c_str());
    return;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  float* in = net->input_data<float>(0);
  for (int64_t i = 0; i < g.tensor(g.inputs[0]).shape.num_elements(); ++i) in[i] = d(rng);
  for (auto _ : state) {
    net->run();
    benchmark::DoNotOptimize(net->output_data<float>(0));
  }
  ptq_bench::set_ops(state, model_macs(g));
  state.counters["arena_KiB"] = static_cast<double>(net->arena_bytes()) / 1024.0;
}

constexpr int kChain = 64;

// A chain of kChain ops on [1, 4]: float Relu, int8 Relu, float FC 4x4, int8 FC 4x4.
ir::Graph overhead_chain(ir::OpKind kind, ptq::DType dtype) {
  ir::GraphBuilder b("chain");
  const bool q = dtype == ptq::DType::kInt8;
  const auto qp = q ? ir::Quantization::per_tensor(0.05f, 0) : ir::Quantization{};
  ir::TensorId x = b.input("x", {1, 4}, dtype, qp);
  for (int i = 0; i < kChain; ++i) {
    if (kind == ir::OpKind::kRelu) {
      x = b.relu(x, qp);
    } else {
      const ir::TensorId w = q ? b.constant("w" + std::to_string(i), std::vector<int8_t>(16, 3), {4, 4},
                                            ir::Quantization::per_tensor(0.01f, 0))
                               : b.constant("w" + std::to_string(i), std::vector<float>(16, 0.25f), {4, 4});
      x = b.fully_connected(x, w, ir::kNoTensor, {}, qp);
    }
  }
  b.output(x);
  return b.build().value();
}

void BM_op_overhead(benchmark::State& state, ir::OpKind kind, ptq::DType dtype) {
  auto net = rt::Interpreter::create(overhead_chain(kind, dtype));
  if (!net.ok()) {
    state.SkipWithError(net.status().to_string().c_str());
    return;
  }
  for (auto _ : state) net->run();
  // Time per op: iterations count ops, not chains.
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kChain);
  state.counters["ns_per_op"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kChain, benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
      benchmark::Counter::OneK::kIs1000);
}

const bool registered = [] {
  for (const char* model : {"mlp", "small_cnn"}) {
    for (Form f : {Form::kFloat, Form::kHybrid, Form::kInt8}) {
      benchmark::RegisterBenchmark((std::string("BM_model/") + model + "/" + ptq_samples::form_name(f)).c_str(),
                                   [model, f](benchmark::State& s) { BM_model(s, model, f); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("BM_op_overhead/relu_float32",
                               [](benchmark::State& s) { BM_op_overhead(s, ir::OpKind::kRelu, ptq::DType::kFloat32); });
  benchmark::RegisterBenchmark("BM_op_overhead/relu_int8",
                               [](benchmark::State& s) { BM_op_overhead(s, ir::OpKind::kRelu, ptq::DType::kInt8); });
  benchmark::RegisterBenchmark("BM_op_overhead/fc4x4_float32", [](benchmark::State& s) {
    BM_op_overhead(s, ir::OpKind::kFullyConnected, ptq::DType::kFloat32);
  });
  benchmark::RegisterBenchmark("BM_op_overhead/fc4x4_int8", [](benchmark::State& s) {
    BM_op_overhead(s, ir::OpKind::kFullyConnected, ptq::DType::kInt8);
  });
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
