// fashion_mnist_bench.cpp: the bundled Fashion-MNIST models (models/fashion_mnist, trained with
// PyTorch and imported from ONNX) through ptq's interpreter in every converter mode: the latency
// figures of the quickstart's table, measured properly. One image per run, one thread; the ISA is
// the best this CPU runs (PTQ_ISA overrides). Full integer is calibrated on the 100 bundled images.
//
//   BM_fashion/<cnn|mlp|lstm>/<float32|float16|weights|dynamic|int8>
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <utility>

#include "ptq/convert/converter.hpp"
#include "ptq/io/npy.hpp"
#include "ptq/io/onnx_import.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

namespace convert = ptq::convert;

const std::string kDir = PTQ_MODELS_DIR;

// The converted model, made once per (model, mode).
const ptq::ir::Graph* model(const std::string& name, const std::string& mode, std::string* error) {
  static std::map<std::pair<std::string, std::string>, ptq::ir::Graph> cache;
  auto it = cache.find({name, mode});
  if (it != cache.end()) return &it->second;
  auto g = ptq::io::import_onnx(kDir + "/" + name + ".onnx");
  if (!g.ok()) {
    *error = g.status().to_string();
    return nullptr;
  }
  ptq::ir::Graph out = *g;
  if (mode != "float32") {
    convert::ConvertOptions o;
    o.mode = mode == "float16"   ? convert::Mode::kFloat16
             : mode == "weights" ? convert::Mode::kWeightOnly
             : mode == "dynamic" ? convert::Mode::kDynamicRange
                                 : convert::Mode::kFullInteger;
    auto calib = ptq::io::load_samples({kDir + "/calib_100.npy"}, {g->tensor(g->inputs[0]).shape.num_elements()});
    if (!calib.ok()) {
      *error = calib.status().to_string();
      return nullptr;
    }
    o.representative_dataset = &*calib;
    if (o.mode != convert::Mode::kFullInteger) o.representative_dataset = nullptr;
    auto c = convert::convert(*g, o);
    if (!c.ok()) {
      *error = c.status().to_string();
      return nullptr;
    }
    out = c->graph;
  }
  return &cache.emplace(std::make_pair(name, mode), std::move(out)).first->second;
}

void BM_fashion(benchmark::State& state, const std::string& name, const std::string& mode) {
  std::string error;
  const ptq::ir::Graph* g = model(name, mode, &error);
  if (g == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  auto net = ptq::runtime::Interpreter::create(*g);
  auto eval = ptq::io::load_samples({kDir + "/calib_100.npy"}, {g->tensor(g->inputs[0]).shape.num_elements()});
  convert::InputSet x;
  if (!net.ok() || !eval.ok() || !eval->read(0, x).ok() || !convert::feed_sample(*net, x, 0).ok()) {
    state.SkipWithError("cannot prepare the model");
    return;
  }
  for (auto _ : state) {
    net->run();
    benchmark::DoNotOptimize(net->output(0).data);
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (const char* name : {"cnn", "mlp", "lstm"}) {
    for (const char* mode : {"float32", "float16", "weights", "dynamic", "int8"}) {
      benchmark::RegisterBenchmark((std::string("BM_fashion/") + name + "/" + mode).c_str(),
                                   [name, mode](benchmark::State& s) { BM_fashion(s, name, mode); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
