// quickstart: ptq's main job on the bundled Fashion-MNIST models -- a trained float model in,
// quantized in every post-training mode, each measured against the float model.
//
//   quickstart [MODELS_DIR [OUT_DIR]]     (defaults: the repository's models/fashion_mnist, ".")
//
// 1. Imports models/fashion_mnist/cnn.onnx (PyTorch export: conv + batch norm, a depthwise-separable
//    block, pooling, a classifier) into ptq's IR.
// 2. Converts it in each of TFLite's modes -- float16, weight-only int8, dynamic range, full integer
//    (calibrated on the 100 bundled training images) -- and writes each model as a .ptq file.
// 3. Evaluates every model on the 2,000 bundled test images: size, top-1 accuracy and its change
//    against float, latency (single-image runs, one thread; see latency_us) and speedup -- the table of
//    TFLite's post-training quantization guide, measured here.
// 4. Compares the calibration methods for the full-integer model, and writes the full-integer
//    model's per-layer report (quickstart_report.json, worst layers first) and a chart of its
//    per-layer SQNR (quickstart_sqnr.svg).
// Exit status 1 (with the reason) when a model fails to import, convert or run, or when a
// quantized model loses more than the promised accuracy (1 point for full integer and float16,
// 0.5 for dynamic range and weight-only).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "ptq/convert/converter.hpp"
#include "ptq/convert/evaluate.hpp"
#include "ptq/io/npy.hpp"
#include "ptq/io/onnx_import.hpp"
#include "ptq/ir/file_io.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/runtime/interpreter.hpp"

#ifndef PTQ_MODELS_DIR
#define PTQ_MODELS_DIR "models/fashion_mnist"
#endif

namespace {

namespace convert = ptq::convert;

int fail(const std::string& what, const ptq::Status& s) {
  std::fprintf(stderr, "quickstart: %s: %s\n", what.c_str(), s.to_string().c_str());
  return 1;
}

// Latency of one run in microseconds, on the dataset's first image (one thread): the median of a
// block of 100 runs, the smallest of 5 blocks (a shared machine's bursts of load spoil single
// blocks, not all of them).
double latency_us(const ptq::ir::Graph& g, const convert::Dataset& data) {
  auto net = ptq::runtime::Interpreter::create(g);
  if (!net.ok()) return NAN;
  convert::InputSet x;
  if (!data.read(0, x).ok() || !convert::feed_sample(*net, x, 0).ok()) return NAN;
  for (int i = 0; i < 20; ++i) net->run();
  double best = INFINITY;
  std::vector<double> t(100);
  for (int block = 0; block < 5; ++block) {
    for (double& s : t) {
      const auto t0 = std::chrono::steady_clock::now();
      net->run();
      s = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }
    std::sort(t.begin(), t.end());
    best = std::min(best, t[t.size() / 2]);
  }
  return best;
}

struct Row {
  std::string mode;
  std::size_t bytes = 0;
  double top1 = 0, latency = 0;
  double allowed_drop = 0;
};

ptq::Status write_text(const std::string& path, const std::string& text) {
  return ptq::ir::write_file_atomically(path, "writing '" + path + "'", [&](auto&& sink) {
    return sink(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : PTQ_MODELS_DIR;
  const std::string out = argc > 2 ? argv[2] : ".";
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) return fail("creating " + out, ptq::io_error(ec.message()));

  auto model = ptq::io::import_onnx(dir + "/cnn.onnx");
  if (!model.ok()) return fail("importing cnn.onnx", model.status());
  const std::vector<int64_t> elements = {model->tensor(model->inputs[0]).shape.num_elements()};
  auto calib = ptq::io::load_samples({dir + "/calib_100.npy"}, elements);
  if (!calib.ok()) return fail("reading calib_100.npy", calib.status());
  auto eval = ptq::io::load_samples({dir + "/eval_2000.npy"}, elements);
  if (!eval.ok()) return fail("reading eval_2000.npy", eval.status());
  auto labels = ptq::io::load_labels(dir + "/eval_labels_2000.npy");
  if (!labels.ok()) return fail("reading eval_labels_2000.npy", labels.status());
  std::printf("ptq quickstart: Fashion-MNIST CNN (%d ops), %zu calibration images, %zu test images\n\n",
              model->op_count(), calib->size(), eval->size());

  struct Mode {
    const char* name;
    const char* file;
    convert::Mode mode;
    double allowed_drop;  // top-1 points
  };
  const Mode modes[] = {
      {"float16", "cnn_float16.ptq", convert::Mode::kFloat16, 1.0},
      {"weights int8", "cnn_weights.ptq", convert::Mode::kWeightOnly, 0.5},
      {"dynamic range", "cnn_dynamic.ptq", convert::Mode::kDynamicRange, 0.5},
      {"full integer", "cnn_int8.ptq", convert::Mode::kFullInteger, 1.0},
  };

  std::vector<Row> rows;
  std::vector<ptq::ir::Graph> graphs;
  auto add_row = [&](const std::string& name, const ptq::ir::Graph& g, double allowed_drop) -> ptq::Status {
    auto bytes = ptq::ir::serialize(g);
    if (!bytes.ok()) return bytes.status();
    convert::EvaluateOptions o;
    o.per_layer = false;
    auto r = convert::evaluate(*model, g, *eval, &*labels, o);
    if (!r.ok()) return r.status();
    rows.push_back({name, bytes->size(), 100.0 * r->outputs[0].top1_accuracy, latency_us(g, *eval), allowed_drop});
    return ptq::Status();
  };
  if (auto s = add_row("float32", *model, 0.0); !s.ok()) return fail("evaluating the float model", s);
  if (auto s = ptq::ir::save_model(*model, out + "/cnn_float32.ptq"); !s.ok()) return fail("saving", s);

  ptq::ir::Graph int8_model;
  for (const Mode& m : modes) {
    convert::ConvertOptions o;
    o.mode = m.mode;
    o.representative_dataset = m.mode == convert::Mode::kFullInteger ? &*calib : nullptr;
    auto c = convert::convert(*model, o);
    if (!c.ok()) return fail(std::string("converting (") + m.name + ")", c.status());
    if (auto s = ptq::ir::save_model(c->graph, out + "/" + m.file); !s.ok()) return fail("saving", s);
    if (auto s = add_row(m.name, c->graph, m.allowed_drop); !s.ok()) return fail(std::string("evaluating ") + m.name, s);
    if (m.mode == convert::Mode::kFullInteger) int8_model = c->graph;
  }

  const Row& f = rows[0];
  std::printf("%-15s %10s %8s %8s %10s %8s\n", "mode", "size", "top-1", "change", "latency", "speedup");
  bool ok = true;
  for (const Row& r : rows) {
    const double change = r.top1 - f.top1;
    std::printf("%-15s %7.1f KB %7.2f%% %+7.2f %7.1f us %7.2fx\n", r.mode.c_str(), r.bytes / 1024.0, r.top1, change, r.latency,
                f.latency / r.latency);
    if (&r != &f && change < -r.allowed_drop) {
      std::printf("  ^ loses more than %.1f points of top-1\n", r.allowed_drop);
      ok = false;
    }
  }

  // Calibration methods for the full-integer model.
  std::printf("\nfull integer by calibration method (100 images):\n%-15s %8s %8s\n", "method", "top-1", "change");
  const convert::CalibrationMethod methods[] = {convert::CalibrationMethod::kMinMax, convert::CalibrationMethod::kMovingAverageMinMax,
                                                 convert::CalibrationMethod::kPercentile, convert::CalibrationMethod::kMse,
                                                 convert::CalibrationMethod::kEntropy};
  for (convert::CalibrationMethod method : methods) {
    convert::ConvertOptions o;
    o.mode = convert::Mode::kFullInteger;
    o.representative_dataset = &*calib;
    o.calibration.method = method;
    auto c = convert::convert(*model, o);
    if (!c.ok()) return fail(std::string("converting with ") + convert::calibration_method_name(method), c.status());
    convert::EvaluateOptions eo;
    eo.per_layer = false;
    auto r = convert::evaluate(*model, c->graph, *eval, &*labels, eo);
    if (!r.ok()) return fail("evaluating", r.status());
    const double top1 = 100.0 * r->outputs[0].top1_accuracy;
    std::printf("%-15s %7.2f%% %+7.2f\n", convert::calibration_method_name(method), top1, top1 - f.top1);
  }

  // The full-integer model's per-layer report.
  auto report = convert::evaluate(*model, int8_model, *eval, &*labels);
  if (!report.ok()) return fail("the per-layer report", report.status());
  std::printf("\nfull integer, per layer (worst first):\n%s", report->to_table(8).c_str());
  if (auto s = write_text(out + "/quickstart_report.json", report->to_json()); !s.ok()) return fail("writing", s);
  if (auto s = write_text(out + "/quickstart_sqnr.svg", report->to_svg()); !s.ok()) return fail("writing", s);
  std::printf("\nwrote %s/cnn_{float32,float16,weights,dynamic,int8}.ptq, quickstart_report.json, quickstart_sqnr.svg\n",
              out.c_str());
  std::printf("%s\n", ok ? "quickstart: OK" : "quickstart: FAILED");
  return ok ? 0 : 1;
}
