// ptq: the command-line tool -- convert a float model, compare it with its quantized form, inspect
// and time models, without writing C++.
//
//   ptq convert MODEL -o OUT.ptq --mode int8 --calib calib.npy
//   ptq eval MODEL OUT.ptq --data eval.npy --labels labels.npy --json report.json
//   ptq inspect OUT.ptq
//   ptq bench OUT.ptq --threads 1
//
// MODEL is a .ptq file (ptq's format), a .onnx file (when built with ptq::onnx) or a .tflite file.
// DATA is a .npy array whose first axis is the sample, or a folder of .npy shards; a model with
// several inputs takes one DATA per input, comma-separated. Exit codes: 0 success, 1 the work
// failed (the message says what to fix), 2 the command line is wrong. Nothing is written on failure
// (outputs are written atomically, after everything else succeeded).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ptq/convert/converter.hpp"
#include "ptq/convert/evaluate.hpp"
#include "ptq/io/npy.hpp"
#include "ptq/io/tflite.hpp"
#include "ptq/ir/file_io.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/ir/print.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "ptq/version.hpp"
#if PTQ_CLI_WITH_ONNX
#include "ptq/io/onnx_import.hpp"
#endif

namespace {

using ptq::Result;
using ptq::Status;

constexpr int kFailed = 1;
constexpr int kUsage = 2;

// ---- command line ----------------------------------------------------------------------------

class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) items_.emplace_back(argv[i]);
  }
  bool flag(const std::string& name) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] == name) {
        items_.erase(items_.begin() + static_cast<long>(i));
        return true;
      }
    }
    return false;
  }
  // The value after `name` (or in "--name=value"); error_ is set when the value is missing.
  std::string value(const std::string& name, const std::string& fallback = "") {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] == name) {
        if (i + 1 >= items_.size()) {
          error_ = name + " needs a value";
          items_.erase(items_.begin() + static_cast<long>(i));
          return fallback;
        }
        std::string v = items_[i + 1];
        items_.erase(items_.begin() + static_cast<long>(i), items_.begin() + static_cast<long>(i) + 2);
        return v;
      }
      if (items_[i].rfind(name + "=", 0) == 0) {
        std::string v = items_[i].substr(name.size() + 1);
        items_.erase(items_.begin() + static_cast<long>(i));
        return v;
      }
    }
    return fallback;
  }
  bool integer(const std::string& name, long long lo, long long* out) {
    const std::string v = value(name);
    if (v.empty()) return true;
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0' || n < lo) {
      error_ = name + " takes an integer >= " + std::to_string(lo) + ", not '" + v + "'";
      return false;
    }
    *out = n;
    return true;
  }
  // What is left after the options: the positional arguments (an unknown option is an error).
  std::vector<std::string> positional() {
    std::vector<std::string> p;
    for (const std::string& s : items_) {
      if (s.size() > 1 && s[0] == '-' && error_.empty()) error_ = "unknown option '" + s + "'";
      p.push_back(s);
    }
    return p;
  }
  const std::string& error() const { return error_; }
  void fail(const std::string& e) {
    if (error_.empty()) error_ = e;
  }

 private:
  std::vector<std::string> items_;
  std::string error_;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int usage_error(const char* command, const std::string& message) {
  std::fprintf(stderr, "ptq %s: %s\n(ptq %s --help shows the usage)\n", command, message.c_str(), command);
  return kUsage;
}

int failure(const std::string& message) {
  std::fprintf(stderr, "ptq: error: %s\n", message.c_str());
  return kFailed;
}

// ---- models and data ---------------------------------------------------------------------------

Result<ptq::ir::Graph> load_any(const std::string& path, int64_t batch) {
  if (ends_with(path, ".onnx")) {
#if PTQ_CLI_WITH_ONNX
    ptq::io::OnnxImportOptions o;
    o.batch = batch;
    return ptq::io::import_onnx(path, o);
#else
    (void)batch;
    return ptq::unimplemented("'" + path + "': this ptq was built without ONNX import (install libonnx-dev and "
                              "libprotobuf-dev, then reconfigure)");
#endif
  }
  if (ends_with(path, ".tflite")) return ptq::io::read_tflite(path);
  if (ends_with(path, ".ptq")) return ptq::ir::load_model(path);
  return ptq::invalid_argument("'" + path + "': unknown model type; expected .ptq, .onnx or .tflite");
}

Status save_any(const ptq::ir::Graph& g, const std::string& path, const std::string& to) {
  if (to == "tflite" || (to.empty() && ends_with(path, ".tflite"))) return ptq::io::write_tflite(path, g);
  return ptq::ir::save_model(g, path);
}

long long file_size(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return -1;
  std::fseek(f, 0, SEEK_END);
  const long long n = std::ftell(f);
  std::fclose(f);
  return n;
}

std::vector<int64_t> input_elements(const ptq::ir::Graph& g) {
  std::vector<int64_t> n;
  for (ptq::ir::TensorId id : g.inputs) n.push_back(g.tensor(id).shape.num_elements());
  return n;
}

Result<ptq::convert::VectorDataset> load_data(const std::string& spec, const ptq::ir::Graph& g) {
  return ptq::io::load_samples(split(spec, ','), input_elements(g));
}

// A progress bar on a terminal (stderr), nothing otherwise.
ptq::convert::ProgressCallback progress_bar(const char* what) {
  if (!::isatty(2)) return nullptr;
  return [what](std::size_t done, std::size_t total) {
    const int width = 30;
    const int filled = total ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\r%s [%s%s] %zu/%zu", what, std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), done, total);
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

std::string human_bytes(long long n) {
  char buf[32];
  if (n >= 1 << 20) {
    std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(n) / (1 << 20));
  } else if (n >= 1 << 10) {
    std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(n) / (1 << 10));
  } else {
    std::snprintf(buf, sizeof buf, "%lld B", n);
  }
  return buf;
}

// ---- convert -------------------------------------------------------------------------------------

const char* kConvertHelp =
    "usage: ptq convert MODEL -o OUT [options]\n"
    "Quantizes a float model (.ptq, .onnx, .tflite) and writes OUT (.ptq, or .tflite with --to tflite).\n"
    "  --mode M              weights | dynamic (default) | int8 | float16 | uint8\n"
    "                          weights: int8 weights dequantized at load (4x smaller, float speed)\n"
    "                          dynamic: int8 weights, hybrid kernels (activations quantized on the fly)\n"
    "                          int8:    full integer, calibrated on --calib (needs it)\n"
    "                          float16: float16 weights (2x smaller)\n"
    "                          uint8:   full integer with uint8 inputs and outputs (legacy; see --input-stats)\n"
    "  --calib DATA          calibration samples: .npy (first axis = sample) or a folder of .npy;\n"
    "                        one per model input, comma-separated\n"
    "  --calib-count N       use the first N samples (default: all)\n"
    "  --calib-method M      minmax (default) | moving-average | percentile | mse | entropy\n"
    "  --io T                int8 mode: float (default) | int8 | uint8 model inputs and outputs\n"
    "  --integer-only        int8 mode: fail, listing every op that cannot run int8, instead of\n"
    "                        keeping it float\n"
    "  --per-tensor          one weight scale per tensor instead of per output channel\n"
    "  --keep-float NAMES    comma-separated op names, output tensor names or op kinds kept float\n"
    "  --input-stats M,S     uint8 mode: real = (q - M) / S for the (single) input, instead of calibrating it\n"
    "  --min-weight-elements N  weights/dynamic: smaller weights stay float (default 1024)\n"
    "  --batch N             batch size for models with a dynamic batch dimension (default 1)\n"
    "  --to FORMAT           ptq (default, or from OUT's extension) | tflite\n";

int run_convert(Args& a) {
  if (a.flag("--help") || a.flag("-h")) {
    std::fputs(kConvertHelp, stdout);
    return 0;
  }
  std::string out = a.value("-o");
  if (out.empty()) out = a.value("--output");
  const std::string mode = a.value("--mode", "dynamic");
  const std::string calib = a.value("--calib");
  const std::string method = a.value("--calib-method", "minmax");
  const std::string io = a.value("--io", mode == "uint8" ? "uint8" : "float");
  const std::string keep = a.value("--keep-float");
  const std::string stats = a.value("--input-stats");
  const std::string to = a.value("--to");
  long long count = 0, batch = 1, min_weights = 1024;
  a.integer("--calib-count", 1, &count);
  a.integer("--batch", 1, &batch);
  a.integer("--min-weight-elements", 0, &min_weights);
  const bool integer_only = a.flag("--integer-only");
  const bool per_tensor = a.flag("--per-tensor");
  const std::vector<std::string> pos = a.positional();
  if (!a.error().empty()) return usage_error("convert", a.error());
  if (pos.size() != 1) return usage_error("convert", "expected one MODEL, got " + std::to_string(pos.size()));
  if (out.empty()) return usage_error("convert", "-o OUT is required");
  if (!to.empty() && to != "ptq" && to != "tflite") return usage_error("convert", "--to takes ptq or tflite, not '" + to + "'");

  ptq::convert::ConvertOptions o;
  if (mode == "weights") {
    o.mode = ptq::convert::Mode::kWeightOnly;
  } else if (mode == "dynamic") {
    o.mode = ptq::convert::Mode::kDynamicRange;
  } else if (mode == "int8" || mode == "uint8") {
    o.mode = ptq::convert::Mode::kFullInteger;
  } else if (mode == "float16") {
    o.mode = ptq::convert::Mode::kFloat16;
  } else {
    return usage_error("convert", "--mode takes weights, dynamic, int8, float16 or uint8, not '" + mode + "'");
  }
  const bool full = o.mode == ptq::convert::Mode::kFullInteger;
  if (io == "float") {
    o.input_type = o.output_type = ptq::convert::IoType::kFloat32;
  } else if (io == "int8") {
    o.input_type = o.output_type = ptq::convert::IoType::kInt8;
  } else if (io == "uint8") {
    o.input_type = o.output_type = ptq::convert::IoType::kUInt8;
  } else {
    return usage_error("convert", "--io takes float, int8 or uint8, not '" + io + "'");
  }
  if (!full && io != "float") return usage_error("convert", "--io " + io + " needs --mode int8 or uint8");
  if (!full && (integer_only || !calib.empty() || !stats.empty())) {
    return usage_error("convert", "--calib, --integer-only and --input-stats need --mode int8 or uint8");
  }
  if (full && calib.empty() && stats.empty()) {
    // Allowed only for quantization-aware models; the converter says so otherwise.
  }
  Result<ptq::convert::CalibrationMethod> m = ptq::convert::parse_calibration_method(method);
  if (!m.ok()) return usage_error("convert", m.status().message());
  o.calibration.method = *m;
  o.integer_only = integer_only;
  o.per_channel = !per_tensor;
  o.min_weight_elements = min_weights;
  o.calibration_samples = static_cast<std::size_t>(count);
  if (!keep.empty()) o.keep_float = split(keep, ',');
  if (!stats.empty()) {
    const std::vector<std::string> ms = split(stats, ',');
    char* e1 = nullptr;
    char* e2 = nullptr;
    const float mean = ms.size() == 2 ? std::strtof(ms[0].c_str(), &e1) : 0.0f;
    const float sd = ms.size() == 2 ? std::strtof(ms[1].c_str(), &e2) : 0.0f;
    if (ms.size() != 2 || *e1 != '\0' || *e2 != '\0') return usage_error("convert", "--input-stats takes MEAN,STD, not '" + stats + "'");
    o.input_stats = {{mean, sd}};
  }

  Result<ptq::ir::Graph> model = load_any(pos[0], batch);
  if (!model.ok()) return failure(model.status().to_string());
  ptq::convert::VectorDataset data;
  if (!calib.empty()) {
    Result<ptq::convert::VectorDataset> d = load_data(calib, *model);
    if (!d.ok()) return failure("--calib: " + d.status().to_string());
    data = std::move(*d);
    o.representative_dataset = &data;
    o.progress = progress_bar("calibrating");
  }
  const auto t0 = std::chrono::steady_clock::now();
  Result<ptq::convert::Conversion> c = ptq::convert::convert(*model, o);
  if (!c.ok()) return failure(c.status().to_string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Status saved = save_any(c->graph, out, to);
  if (!saved.ok()) return failure(saved.to_string());

  const ptq::convert::ConversionSummary& s = c->summary;
  std::printf("converted %s -> %s (%s, %.2f s)\n", pos[0].c_str(), out.c_str(), mode.c_str(), seconds);
  std::map<std::string, int> forms;
  for (const auto& d : s.ops) ++forms[d.form];
  std::printf("  ops:");
  for (const auto& f : forms) std::printf("  %d %s", f.second, f.first.c_str());
  std::printf("\n");
  for (const auto& d : s.ops) {
    if (d.reason.empty()) continue;
    std::printf("  %s: %s: %s\n", d.form == "float" ? "kept float" : ("not int8, " + d.form).c_str(), d.op.c_str(), d.reason.c_str());
  }
  for (const std::string& n : s.notes) std::printf("  note: %s\n", n.c_str());
  if (s.calibration_samples) {
    std::printf("  calibration: %zu samples, %s\n", s.calibration_samples, ptq::convert::calibration_method_name(o.calibration.method));
  }
  const long long before = file_size(pos[0]), after = file_size(out);
  std::printf("  size: %s -> %s", human_bytes(before).c_str(), human_bytes(after).c_str());
  if (before > 0 && after > 0) std::printf(" (%.2fx smaller)", static_cast<double>(before) / static_cast<double>(after));
  std::printf("; weights and constants %s -> %s\n", human_bytes(static_cast<long long>(s.constant_bytes_before)).c_str(),
              human_bytes(static_cast<long long>(s.constant_bytes_after)).c_str());
  return 0;
}

// ---- eval ----------------------------------------------------------------------------------------

const char* kEvalHelp =
    "usage: ptq eval FLOAT_MODEL QUANT_MODEL --data DATA [options]\n"
    "Runs both models on DATA and reports how far the quantized one is from the float one: per output\n"
    "(top-1 agreement, top-1 accuracy with --labels, max abs error, SQNR) and per layer, worst first\n"
    "(SQNR against the float twin, propagated and with float inputs, % clipped, weight SQNR).\n"
    "  --data DATA        evaluation samples (.npy or folder; comma-separated per input)\n"
    "  --labels LABELS    a .npy of integer labels, one per sample\n"
    "  --count N          the first N samples only\n"
    "  --layers N         layers shown in the table (default 20, 0 = all)\n"
    "  --no-layers        outputs only (faster)\n"
    "  --json OUT         also write the report as JSON\n"
    "  --svg OUT          also write a per-layer SQNR chart as SVG\n"
    "  --batch N          batch size for models with a dynamic batch dimension (default 1)\n";

Status write_text(const std::string& path, const std::string& text) {
  return ptq::ir::write_file_atomically(path, "writing '" + path + "'", [&](auto&& sink) {
    return sink(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  });
}

int run_eval(Args& a) {
  if (a.flag("--help") || a.flag("-h")) {
    std::fputs(kEvalHelp, stdout);
    return 0;
  }
  const std::string data_spec = a.value("--data");
  const std::string labels_path = a.value("--labels");
  const std::string json = a.value("--json");
  const std::string svg = a.value("--svg");
  long long count = 0, layers = 20, batch = 1;
  a.integer("--count", 1, &count);
  a.integer("--layers", 0, &layers);
  a.integer("--batch", 1, &batch);
  const bool no_layers = a.flag("--no-layers");
  const std::vector<std::string> pos = a.positional();
  if (!a.error().empty()) return usage_error("eval", a.error());
  if (pos.size() != 2) return usage_error("eval", "expected FLOAT_MODEL and QUANT_MODEL, got " + std::to_string(pos.size()) + " models");
  if (data_spec.empty()) return usage_error("eval", "--data DATA is required");

  Result<ptq::ir::Graph> f = load_any(pos[0], batch);
  if (!f.ok()) return failure(f.status().to_string());
  Result<ptq::ir::Graph> q = load_any(pos[1], batch);
  if (!q.ok()) return failure(q.status().to_string());
  Result<ptq::convert::VectorDataset> data = load_data(data_spec, *f);
  if (!data.ok()) return failure("--data: " + data.status().to_string());
  std::vector<int64_t> labels;
  if (!labels_path.empty()) {
    Result<std::vector<int64_t>> l = ptq::io::load_labels(labels_path);
    if (!l.ok()) return failure("--labels: " + l.status().to_string());
    labels = std::move(*l);
  }
  ptq::convert::EvaluateOptions o;
  o.max_samples = static_cast<std::size_t>(count);
  o.per_layer = !no_layers;
  o.progress = progress_bar("evaluating");
  Result<ptq::convert::AccuracyReport> r =
      ptq::convert::evaluate(*f, *q, *data, labels_path.empty() ? nullptr : &labels, o);
  if (!r.ok()) return failure(r.status().to_string());
  std::fputs(r->to_table(static_cast<std::size_t>(layers)).c_str(), stdout);
  if (!json.empty()) {
    const Status s = write_text(json, r->to_json());
    if (!s.ok()) return failure(s.to_string());
  }
  if (!svg.empty()) {
    const Status s = write_text(svg, r->to_svg());
    if (!s.ok()) return failure(s.to_string());
  }
  return 0;
}

// ---- inspect -------------------------------------------------------------------------------------

const char* kInspectHelp =
    "usage: ptq inspect MODEL [--batch N]\n"
    "Prints the model's tensors (dtype, shape, quantization, bytes) and ops (inputs, outputs, attributes).\n";

int run_inspect(Args& a) {
  if (a.flag("--help") || a.flag("-h")) {
    std::fputs(kInspectHelp, stdout);
    return 0;
  }
  long long batch = 1;
  a.integer("--batch", 1, &batch);
  const std::vector<std::string> pos = a.positional();
  if (!a.error().empty()) return usage_error("inspect", a.error());
  if (pos.size() != 1) return usage_error("inspect", "expected one MODEL");
  Result<ptq::ir::Graph> g = load_any(pos[0], batch);
  if (!g.ok()) return failure(g.status().to_string());
  std::fputs(ptq::ir::to_text(*g).c_str(), stdout);
  return 0;
}

// ---- bench ---------------------------------------------------------------------------------------

const char* kBenchHelp =
    "usage: ptq bench MODEL [--threads N] [--runs N] [--warmup N] [--ops N]\n"
    "Times the model in ptq's interpreter on zero inputs: median and p90 latency, and the slowest ops.\n"
    "  --threads N   threads for the GEMM-based ops (default 1)\n"
    "  --runs N      timed runs (default 100)\n"
    "  --warmup N    untimed runs first (default 10)\n"
    "  --ops N       ops listed in the profile (default 10)\n";

int run_bench(Args& a) {
  if (a.flag("--help") || a.flag("-h")) {
    std::fputs(kBenchHelp, stdout);
    return 0;
  }
  long long threads = 1, runs = 100, warmup = 10, ops = 10, batch = 1;
  a.integer("--threads", 1, &threads);
  a.integer("--runs", 1, &runs);
  a.integer("--warmup", 0, &warmup);
  a.integer("--ops", 0, &ops);
  a.integer("--batch", 1, &batch);
  const std::vector<std::string> pos = a.positional();
  if (!a.error().empty()) return usage_error("bench", a.error());
  if (pos.size() != 1) return usage_error("bench", "expected one MODEL");
  Result<ptq::ir::Graph> g = load_any(pos[0], batch);
  if (!g.ok()) return failure(g.status().to_string());
  ptq::runtime::InterpreterOptions o;
  o.threads = static_cast<int>(threads);
  Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(*g, o);
  if (!net.ok()) return failure(net.status().to_string());
  for (long long i = 0; i < warmup; ++i) net->run();
  std::vector<double> t(static_cast<std::size_t>(runs));
  for (double& s : t) {
    const auto t0 = std::chrono::steady_clock::now();
    net->run();
    s = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(t.begin(), t.end());
  const double median = t[t.size() / 2], p90 = t[std::min(t.size() - 1, t.size() * 9 / 10)];
  std::printf("%s: %d ops, %lld thread%s, %lld runs: median %.1f us, p90 %.1f us, min %.1f us\n", pos[0].c_str(),
              net->prepared_op_count(), threads, threads == 1 ? "" : "s", runs, median, p90, t.front());

  ptq::runtime::InterpreterOptions po = o;
  po.profile = true;
  Result<ptq::runtime::Interpreter> prof = ptq::runtime::Interpreter::create(*g, po);
  if (!prof.ok()) return failure(prof.status().to_string());
  for (long long i = 0; i < runs; ++i) prof->run();
  std::vector<ptq::runtime::OpProfile> p = prof->op_profile();
  double total = 0;
  for (const auto& e : p) total += e.total_seconds;
  std::sort(p.begin(), p.end(), [](const auto& x, const auto& y) { return x.total_seconds > y.total_seconds; });
  if (ops > 0) std::printf("slowest ops (mean per run):\n");
  for (std::size_t i = 0; i < p.size() && static_cast<long long>(i) < ops; ++i) {
    const double us = p[i].runs ? p[i].total_seconds / static_cast<double>(p[i].runs) * 1e6 : 0.0;
    std::printf("  %8.1f us %5.1f%%  %s\n", us, total > 0 ? 100.0 * p[i].total_seconds / total : 0.0, p[i].op.c_str());
  }
  return 0;
}

const char* kHelp =
    "usage: ptq COMMAND [options]   (ptq COMMAND --help for each)\n"
    "  convert MODEL -o OUT --mode {weights,dynamic,int8,float16,uint8} [--calib DATA] ...\n"
    "                              quantize a float model\n"
    "  eval FLOAT QUANT --data DATA [--labels L] [--json OUT] [--svg OUT]\n"
    "                              the accuracy report: quantized vs float, per output and per layer\n"
    "  inspect MODEL               tensors, ops, dtypes, quantization parameters, sizes\n"
    "  bench MODEL [--threads N]   latency (median, p90) and the per-op profile\n"
    "MODEL: .ptq, .onnx or .tflite. DATA: .npy (first axis = sample) or a folder of .npy files.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return kUsage;
  }
  const std::string command = argv[1];
  Args args(argc, argv, 2);
  if (command == "convert") return run_convert(args);
  if (command == "eval") return run_eval(args);
  if (command == "inspect") return run_inspect(args);
  if (command == "bench") return run_bench(args);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("ptq %d.%d.%d\n", PTQ_VERSION_MAJOR, PTQ_VERSION_MINOR, PTQ_VERSION_PATCH);
    return 0;
  }
  std::fprintf(stderr, "ptq: unknown command '%s'\n%s", command.c_str(), kHelp);
  return kUsage;
}
