// convert/evaluate.hpp: the accuracy report -- a float model and its quantized form run side by
// side on the same samples, compared per output and per layer, the worst layers first.
//
//   Result<convert::AccuracyReport> r = convert::evaluate(float_model, int8_model, data, &labels);
//   std::puts(r->to_table().c_str());          // or r->to_json(), r->to_svg()
//
// Pairing (the contract with the converter): the quantized model keeps the float model's tensor
// NAMES for every tensor it quantizes, and graph inputs/outputs keep theirs; tensors the converter
// inserts ("x/quantize") have no twin and are skipped. Graph inputs and outputs pair by POSITION
// (their counts and element counts must agree); every other tensor pairs by exact name, and only
// when both sides hold the same element count and a type that reads as real numbers (float32,
// float16, or an integer type with quantization parameters; int32 ids without parameters are not
// compared). A quantized tensor is read as real values with its own parameters (per tensor or per
// axis: real = (q - zero_point) * scale), so any two models can be compared, float vs int8 as well
// as float16 vs int8.
//
// Metrics (streaming over samples: sums of squares, never all tensors kept):
//   SQNR (dB)      = 10 log10(sum f^2 / sum (q - f)^2), f the float twin, q the quantized tensor
//                    read as reals; +inf when the noise is 0 (identical), -inf when the signal is 0
//                    and the noise is not. The table writes "inf"/"-inf"; JSON writes the strings
//                    "inf"/"-inf" (JSON has no infinity) and null for NaN (= not computed).
//   top-1          argmax over the LAST axis of each output; for an output [N, ..., C] only the
//                  first row (the first C values) is ranked -- one prediction per sample, as for a
//                  batch-1 classifier. Ties go to the lowest index. Labels (one per dataset sample,
//                  data.size() of them) are compared with every output's top-1.
//   propagated     a layer's output in the quantized model vs its float twin, each model fed only
//                  the sample (errors of earlier layers included).
//   isolated       the op alone, in a one-op graph with the quantized model's dtypes and params,
//                  fed the float model's values of its runtime inputs (quantized to the op's input
//                  params when those are quantized), vs the float twin of its output: the error
//                  this layer adds by itself. An input without a float twin is looked for through
//                  the Quantize/Dequantize ops that produced it (so the first layer after an
//                  inserted input Quantize is still isolated); failing that, isolated is NaN.
//   clipped %      share of the float twin's values outside the quantized tensor's representable
//                  range [(qmin - zp) s, (qmax - zp) s] (per axis: each channel's own), over all
//                  samples; NaN for an unquantized (float-fallback) tensor.
//   weight SQNR    the op's constant inputs of rank >= 2 (weights, filters, tables; biases are 1-D
//                  and excluded) read as reals vs their float twins, all of them together; a weight
//                  behind a Dequantize of a constant (weight-only models) is followed to that
//                  constant. NaN when the op has none with a twin.
//
// Inputs: the dataset's floats are fed as they are to float32 inputs, rounded to float16, quantized
// with the input's parameters for int8/uint8/int16 inputs (kernels/quantize.hpp, TFLite's
// Quantize), and rounded (saturating) for int32/int64 inputs such as ids.
//
// References: TFLite's QuantizationDebugger (tensorflow/lite/tools/optimize/debugging) compares
// each quantized op with a float op run on that op's dequantized inputs (per-layer error
// statistics, model metrics on the outputs); ONNX Runtime's qdq_loss_debug pairs float and QDQ
// activations by tensor name and reports SQNR in dB. This file takes the second's pairing and
// metric, and isolates layers from the other side: the quantized op fed the float model's values.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ptq/convert/calibrate.hpp"
#include "ptq/convert/dataset.hpp"
#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/runtime/interpreter.hpp"

PTQ_NAMESPACE_BEGIN
namespace convert {

struct EvaluateOptions {
  std::size_t max_samples = 0;  // the first max_samples samples; 0 = all
  bool per_layer = true;        // per-layer metrics (costlier: every tensor read each sample)
  bool isolated = true;         // also each layer alone, fed the float model's inputs (per_layer only)
  ProgressCallback progress;    // after each sample
  runtime::InterpreterOptions interpreter;
};

// One graph output, paired by position.
struct OutputMetrics {
  std::string name;                    // the quantized model's output tensor
  double top1_agreement = 0;           // share of samples whose top-1 equals the float model's, in [0, 1]
  double top1_accuracy = NAN;          // share whose top-1 equals the label; NaN without labels
  double float_top1_accuracy = NAN;    // the float model's, on the same samples; NaN without labels
  double max_abs_error = 0;            // over all elements of all samples
  double mean_abs_error = 0;
  double sqnr_db = 0;
};

// One tensor produced by an op of the quantized model that has a float twin.
struct LayerMetrics {
  int op_index = 0;                    // in the quantized graph
  std::string op;                      // Graph::describe_op: "op 3 'conv1' (Conv2D)"
  std::string tensor;                  // output tensor name
  std::string dtype;                   // of the quantized tensor ("int8"; "float32" for float-fallback ops)
  double sqnr_db = 0;                  // propagated, over all samples
  double isolated_sqnr_db = NAN;       // the op alone fed the float model's inputs; NaN if not computed
  double clipped_percent = NAN;        // in [0, 100]; NaN for an unquantized tensor
  double weight_sqnr_db = NAN;         // NaN if the op has no constant weight with a twin
};

struct AccuracyReport {
  std::size_t samples = 0;
  std::vector<OutputMetrics> outputs;
  std::vector<LayerMetrics> layers;  // worst (lowest sqnr_db) first; ties in graph order

  // {"samples": N, "outputs": [{name, top1_agreement, top1_accuracy, float_top1_accuracy,
  //  max_abs_error, mean_abs_error, sqnr_db}], "layers": [{op_index, op, tensor, dtype, sqnr_db,
  //  isolated_sqnr_db, clipped_percent, weight_sqnr_db}]}; keys in this order; NaN as null,
  //  infinities as the strings "inf" / "-inf"; numbers with 9 significant digits.
  std::string to_json() const;
  // The outputs, then the first max_layers layers (0 = all) worst first, in aligned columns.
  std::string to_table(std::size_t max_layers = 20) const;
  // Per-layer SQNR as horizontal bars in graph order, one <rect class="bar"> per layer, with the
  // isolated SQNR as a tick; self-contained SVG (no scripts, no external references).
  std::string to_svg() const;
};

namespace detail {

inline double sqnr_db(double signal, double noise) {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

// Streaming sums of a quantized tensor's error against its float twin.
struct ErrorSums {
  double signal = 0, noise = 0, abs_sum = 0, max_abs = 0;
  std::size_t count = 0;

  void add(const float* reference, const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const double f = reference[i];
      const double e = static_cast<double>(x[i]) - f;
      signal += f * f;
      noise += e * e;
      abs_sum += std::fabs(e);
      max_abs = std::max(max_abs, std::fabs(e));
    }
    count += n;
  }
  double sqnr() const { return sqnr_db(signal, noise); }
};

// Whether a tensor of this type reads as real numbers (tensor_to_float below).
inline bool reads_as_real(const ir::Tensor& t) {
  switch (t.dtype) {
    case DType::kFloat32:
    case DType::kFloat16: return true;
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kInt16:
    case DType::kInt32:
    case DType::kInt4: return t.is_quantized();
    default: return false;
  }
}

template <class T>
void dequantize_tensor(const ir::Tensor& t, const T* q, float* out) {
  if (t.quant.is_per_axis()) {
    dequantize_per_axis<T>(q, out, t.shape, t.quant.axis_params());
  } else {
    dequantize<T>(q, out, static_cast<std::size_t>(t.shape.num_elements()), t.quant.params());
  }
}

// `data` (laid out as t) as real numbers in `out`; false for a type that does not read as real.
inline bool tensor_to_float(const ir::Tensor& t, const void* data, std::vector<float>& out) {
  if (!reads_as_real(t)) return false;
  const auto n = static_cast<std::size_t>(t.shape.num_elements());
  out.resize(n);
  if (n == 0) return true;
  switch (t.dtype) {
    case DType::kFloat32: std::memcpy(out.data(), data, n * sizeof(float)); return true;
    case DType::kFloat16: half_to_float(static_cast<const uint16_t*>(data), out.data(), n); return true;
    case DType::kInt8: dequantize_tensor(t, static_cast<const int8_t*>(data), out.data()); return true;
    case DType::kUInt8: dequantize_tensor(t, static_cast<const uint8_t*>(data), out.data()); return true;
    case DType::kInt16: dequantize_tensor(t, static_cast<const int16_t*>(data), out.data()); return true;
    case DType::kInt32: dequantize_tensor(t, static_cast<const int32_t*>(data), out.data()); return true;
    case DType::kInt4: {
      std::vector<int8_t> unpacked(n);
      unpack_int4(static_cast<const uint8_t*>(data), n, unpacked.data());
      dequantize_tensor(t, unpacked.data(), out.data());
      return true;
    }
    default: return false;
  }
}

// The representable real range of a quantized tensor, per channel (one entry when per tensor).
struct ClipRange {
  std::vector<double> lo, hi;
  int axis = -1;  // -1: per tensor
  Shape shape;

  static bool make(const ir::Tensor& t, ClipRange& r) {
    int32_t qmin = 0, qmax = 0;
    switch (t.dtype) {
      case DType::kInt8: qmin = quant_min<int8_t>(); qmax = quant_max<int8_t>(); break;
      case DType::kUInt8: qmin = quant_min<uint8_t>(); qmax = quant_max<uint8_t>(); break;
      case DType::kInt16: qmin = quant_min<int16_t>(); qmax = quant_max<int16_t>(); break;
      case DType::kInt32: qmin = quant_min<int32_t>(); qmax = quant_max<int32_t>(); break;
      case DType::kInt4: qmin = -8; qmax = 7; break;
      default: return false;
    }
    if (!t.is_quantized()) return false;
    r.axis = t.quant.is_per_axis() ? t.quant.axis : -1;
    r.shape = t.shape;
    for (std::size_t c = 0; c < t.quant.scales.size(); ++c) {
      const double s = t.quant.scales[c];
      const double zp = t.quant.zero_points[c];
      r.lo.push_back((qmin - zp) * s);
      r.hi.push_back((qmax - zp) * s);
    }
    return true;
  }

  std::size_t count_outside(const float* f) const {
    std::size_t clipped = 0;
    const auto outside = [&](std::size_t at, std::size_t n, std::size_t c) {
      for (std::size_t i = at; i < at + n; ++i) clipped += (f[i] < lo[c] || f[i] > hi[c]) ? 1 : 0;
    };
    if (axis < 0) {
      outside(0, static_cast<std::size_t>(shape.num_elements()), 0);
    } else {
      for_each_axis_run(shape, axis, outside);
    }
    return clipped;
  }
};

// ---- formatting ----

inline std::string format_number(double v, const char* format = "%.9g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

inline std::string json_number(double v) {
  if (std::isnan(v)) return "null";
  if (std::isinf(v)) return v > 0 ? "\"inf\"" : "\"-inf\"";
  return format_number(v);
}

inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;  // XML 1.0 forbids other controls
    }
  }
  return out;
}

// "34.12", "inf", "-" (NaN), with `decimals` digits.
inline std::string table_number(double v, int decimals = 2) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char format[16];
  std::snprintf(format, sizeof format, "%%.%df", decimals);
  return format_number(v, format);
}

inline std::string table_percent(double share) { return std::isnan(share) ? "-" : table_number(100.0 * share) + "%"; }

// Rows of cells as aligned columns; `left[c]` left-aligns column c (else right).
inline std::string align_columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& left) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) line += "  ";
      const std::string pad(width[c] - row[c].size(), ' ');
      const bool l = c < left.size() && left[c];
      line += l ? row[c] + pad : pad + row[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace detail

inline std::string AccuracyReport::to_json() const {
  using detail::json_number;
  using detail::json_string;
  std::string s = "{\n  \"samples\": " + std::to_string(samples) + ",\n  \"outputs\": [";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const OutputMetrics& o = outputs[i];
    s += i ? ",\n    {" : "\n    {";
    s += "\"name\": " + json_string(o.name);
    s += ", \"top1_agreement\": " + json_number(o.top1_agreement);
    s += ", \"top1_accuracy\": " + json_number(o.top1_accuracy);
    s += ", \"float_top1_accuracy\": " + json_number(o.float_top1_accuracy);
    s += ", \"max_abs_error\": " + json_number(o.max_abs_error);
    s += ", \"mean_abs_error\": " + json_number(o.mean_abs_error);
    s += ", \"sqnr_db\": " + json_number(o.sqnr_db) + "}";
  }
  s += outputs.empty() ? "],\n  \"layers\": [" : "\n  ],\n  \"layers\": [";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerMetrics& l = layers[i];
    s += i ? ",\n    {" : "\n    {";
    s += "\"op_index\": " + std::to_string(l.op_index);
    s += ", \"op\": " + json_string(l.op);
    s += ", \"tensor\": " + json_string(l.tensor);
    s += ", \"dtype\": " + json_string(l.dtype);
    s += ", \"sqnr_db\": " + json_number(l.sqnr_db);
    s += ", \"isolated_sqnr_db\": " + json_number(l.isolated_sqnr_db);
    s += ", \"clipped_percent\": " + json_number(l.clipped_percent);
    s += ", \"weight_sqnr_db\": " + json_number(l.weight_sqnr_db) + "}";
  }
  s += layers.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return s;
}

inline std::string AccuracyReport::to_table(std::size_t max_layers) const {
  using detail::table_number;
  using detail::table_percent;
  std::string s = "Accuracy report over " + std::to_string(samples) + " sample" + (samples == 1 ? "" : "s") + "\n\n";
  std::vector<std::vector<std::string>> rows = {
      {"output", "top-1 agree", "top-1 acc", "float acc", "max |err|", "mean |err|", "SQNR dB"}};
  for (const OutputMetrics& o : outputs) {
    rows.push_back({o.name, table_percent(o.top1_agreement), table_percent(o.top1_accuracy),
                    table_percent(o.float_top1_accuracy), detail::format_number(o.max_abs_error, "%.4g"),
                    detail::format_number(o.mean_abs_error, "%.4g"), table_number(o.sqnr_db)});
  }
  s += detail::align_columns(rows, {true});
  if (layers.empty()) return s;
  const std::size_t shown = max_layers == 0 ? layers.size() : std::min(max_layers, layers.size());
  s += "\nLayers, worst SQNR first (" + std::to_string(shown) + " of " + std::to_string(layers.size()) +
       "; isolated = the layer alone on float inputs)\n";
  rows = {{"#", "op", "tensor", "dtype", "SQNR dB", "isolated dB", "clipped", "weight dB"}};
  for (std::size_t i = 0; i < shown; ++i) {
    const LayerMetrics& l = layers[i];
    rows.push_back({std::to_string(i + 1), l.op, l.tensor, l.dtype, table_number(l.sqnr_db), table_number(l.isolated_sqnr_db),
                    std::isnan(l.clipped_percent) ? "-" : table_number(l.clipped_percent) + "%", table_number(l.weight_sqnr_db)});
  }
  s += detail::align_columns(rows, {false, true, true, true});
  return s;
}

inline std::string AccuracyReport::to_svg() const {
  using detail::format_number;
  using detail::xml_escape;
  std::vector<const LayerMetrics*> order;
  for (const LayerMetrics& l : layers) order.push_back(&l);
  std::stable_sort(order.begin(), order.end(), [](const LayerMetrics* a, const LayerMetrics* b) { return a->op_index < b->op_index; });

  // Scale: 0 dB to the largest finite SQNR (at least 40 dB), rounded up to 10 dB.
  double top = 40.0;
  for (const LayerMetrics* l : order) {
    for (const double v : {l->sqnr_db, l->isolated_sqnr_db}) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
  }
  top = std::ceil(top / 10.0) * 10.0;
  std::size_t label_chars = 10;
  for (const LayerMetrics* l : order) label_chars = std::max(label_chars, l->op.size());
  label_chars = std::min<std::size_t>(label_chars, 48);
  const double row_h = 20, bar_h = 14, label_w = 7.5 * static_cast<double>(label_chars) + 16, bar_w = 480, value_w = 70;
  const double x0 = label_w, y0 = 50;
  const double width = x0 + bar_w + value_w, height = y0 + row_h * static_cast<double>(order.size()) + 40;
  const auto px = [&](double db) { return x0 + bar_w * std::min(1.0, std::max(0.0, db / top)); };
  const auto color = [](double db) { return db < 20.0 ? "#d62728" : db < 30.0 ? "#ff7f0e" : "#2ca02c"; };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + format_number(width, "%.0f") + "\" height=\"" +
                  format_number(height, "%.0f") + "\" viewBox=\"0 0 " + format_number(width, "%.0f") + " " +
                  format_number(height, "%.0f") + "\" font-family=\"monospace\" font-size=\"12\">\n";
  s += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"4\" y=\"18\" font-size=\"14\">Per-layer SQNR (dB), " + std::to_string(samples) +
       " samples; bars: propagated, ticks: isolated</text>\n";
  // Grid every 10 dB.
  for (double db = 0; db <= top + 1e-9; db += 10.0) {
    const std::string x = format_number(px(db), "%.1f");
    s += "<line x1=\"" + x + "\" y1=\"" + format_number(y0 - 6, "%.0f") + "\" x2=\"" + x + "\" y2=\"" +
         format_number(height - 34, "%.0f") + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + x + "\" y=\"" + format_number(y0 - 10, "%.0f") + "\" text-anchor=\"middle\" fill=\"#666\">" +
         format_number(db, "%.0f") + "</text>\n";
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    const LayerMetrics& l = *order[i];
    const double y = y0 + row_h * static_cast<double>(i);
    std::string label = l.op.size() > label_chars ? l.op.substr(0, label_chars - 1) + "~" : l.op;
    s += "<text x=\"" + format_number(x0 - 6, "%.1f") + "\" y=\"" + format_number(y + bar_h - 3, "%.1f") +
         "\" text-anchor=\"end\">" + xml_escape(label) + "</text>\n";
    const double v = std::isnan(l.sqnr_db) ? 0.0 : l.sqnr_db;
    s += "<rect class=\"bar\" x=\"" + format_number(x0, "%.1f") + "\" y=\"" + format_number(y, "%.1f") + "\" width=\"" +
         format_number(px(v) - x0, "%.1f") + "\" height=\"" + format_number(bar_h, "%.0f") + "\" fill=\"" + color(v) +
         "\"><title>" + xml_escape(l.op + " -> " + l.tensor + " (" + l.dtype + "): " + detail::table_number(l.sqnr_db) +
                                   " dB, isolated " + detail::table_number(l.isolated_sqnr_db) + " dB") +
         "</title></rect>\n";
    if (!std::isnan(l.isolated_sqnr_db)) {
      const std::string x = format_number(px(l.isolated_sqnr_db), "%.1f");
      s += "<line class=\"isolated\" x1=\"" + x + "\" y1=\"" + format_number(y - 2, "%.1f") + "\" x2=\"" + x + "\" y2=\"" +
           format_number(y + bar_h + 2, "%.1f") + "\" stroke=\"black\" stroke-width=\"2\"/>\n";
    }
    s += "<text x=\"" + format_number(x0 + bar_w + 6, "%.1f") + "\" y=\"" + format_number(y + bar_h - 3, "%.1f") + "\">" +
         detail::table_number(l.sqnr_db, 1) + "</text>\n";
  }
  s += "<text x=\"4\" y=\"" + format_number(height - 12, "%.0f") +
       "\" fill=\"#666\">red &lt; 20 dB, orange &lt; 30 dB, green &gt;= 30 dB; inf = identical to float</text>\n";
  s += "</svg>\n";
  return s;
}

namespace detail {

// The run of evaluate(): both interpreters, the pairing and the running sums.
class Evaluator {
 public:
  Status init(const ir::Graph& float_model, const ir::Graph& quantized_model, const EvaluateOptions& options) {
    options_ = options;
    {
      Result<runtime::Interpreter> f = runtime::Interpreter::create(float_model, options.interpreter);
      if (!f.ok()) return Status(f.status()).with_context("evaluate: float model");
      float_net_ = std::make_unique<runtime::Interpreter>(std::move(f).value());
      Result<runtime::Interpreter> q = runtime::Interpreter::create(quantized_model, options.interpreter);
      if (!q.ok()) return Status(q.status()).with_context("evaluate: quantized model");
      quant_net_ = std::make_unique<runtime::Interpreter>(std::move(q).value());
    }
    PTQ_RETURN_IF_ERROR(check_interfaces());
    if (options.per_layer) {
      pair_tensors();
      build_layers();
      if (options.isolated) build_isolated();
    }
    return Status();
  }

  // One sample: feed, run both models (and the isolated ops), accumulate.
  Status run_sample(std::size_t index, const InputSet& sample, const std::vector<int64_t>* labels) {
    PTQ_RETURN_IF_ERROR(feed_sample(*float_net_, sample, index).with_context("evaluate"));
    PTQ_RETURN_IF_ERROR(feed_sample(*quant_net_, sample, index).with_context("evaluate"));
    ++generation_;
    float_net_->run();
    quant_net_->run();
    if (!observer_error_.ok()) return observer_error_;
    for (Isolated& iso : isolated_) run_isolated(iso);
    if (!observer_error_.ok()) return observer_error_;

    for (std::size_t o = 0; o < outputs_.size(); ++o) {
      OutputSums& sums = outputs_[o];
      const runtime::TensorView fv = float_net_->output(static_cast<int>(o)), qv = quant_net_->output(static_cast<int>(o));
      tensor_to_float(*fv.tensor, fv.data, scratch_a_);
      tensor_to_float(*qv.tensor, qv.data, scratch_b_);
      sums.error.add(scratch_a_.data(), scratch_b_.data(), scratch_a_.size());
      const int64_t f_top = top1(*fv.tensor, scratch_a_), q_top = top1(*qv.tensor, scratch_b_);
      sums.agree += f_top == q_top ? 1 : 0;
      if (labels != nullptr) {
        const int64_t label = (*labels)[index];
        sums.correct += q_top == label ? 1 : 0;
        sums.float_correct += f_top == label ? 1 : 0;
      }
    }
    ++samples_;
    return Status();
  }

  AccuracyReport report(bool with_labels) const {
    AccuracyReport r;
    r.samples = samples_;
    const double n = static_cast<double>(samples_);
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
      const OutputSums& sums = outputs_[o];
      OutputMetrics m;
      m.name = quant_net_->output(static_cast<int>(o)).tensor->name;
      m.top1_agreement = n > 0 ? static_cast<double>(sums.agree) / n : NAN;
      if (with_labels) {
        m.top1_accuracy = n > 0 ? static_cast<double>(sums.correct) / n : NAN;
        m.float_top1_accuracy = n > 0 ? static_cast<double>(sums.float_correct) / n : NAN;
      }
      m.max_abs_error = sums.error.max_abs;
      m.mean_abs_error = sums.error.count ? sums.error.abs_sum / static_cast<double>(sums.error.count) : 0.0;
      m.sqnr_db = sums.error.sqnr();
      r.outputs.push_back(m);
    }
    for (const Layer& l : layers_) {
      LayerMetrics m;
      m.op_index = l.op_index;
      m.op = quant_net_->graph().describe_op(l.op_index);
      m.tensor = quant_net_->graph().tensor(l.tensor).name;
      m.dtype = dtype_name(quant_net_->graph().tensor(l.tensor).dtype);
      m.sqnr_db = l.propagated.sqnr();
      m.isolated_sqnr_db = l.isolated.count ? l.isolated.sqnr() : NAN;
      m.clipped_percent = l.has_clip && l.propagated.count
                              ? 100.0 * static_cast<double>(l.clipped) / static_cast<double>(l.propagated.count)
                              : NAN;
      m.weight_sqnr_db = l.weight_sqnr_db;
      r.layers.push_back(m);
    }
    std::stable_sort(r.layers.begin(), r.layers.end(), [](const LayerMetrics& a, const LayerMetrics& b) {
      // Lowest SQNR first; NaN (never the case for a listed layer) last.
      if (std::isnan(a.sqnr_db) || std::isnan(b.sqnr_db)) return !std::isnan(a.sqnr_db) && std::isnan(b.sqnr_db);
      return a.sqnr_db < b.sqnr_db;
    });
    return r;
  }

 private:
  struct OutputSums {
    ErrorSums error;
    std::size_t agree = 0, correct = 0, float_correct = 0;
  };
  struct Layer {
    int op_index = 0;
    ir::TensorId tensor = ir::kNoTensor;  // in the quantized graph
    ir::TensorId twin = ir::kNoTensor;    // in the float graph
    ErrorSums propagated, isolated;
    bool has_clip = false;
    ClipRange clip;
    std::size_t clipped = 0;
    double weight_sqnr_db = NAN;
  };
  struct Isolated {
    std::unique_ptr<runtime::Interpreter> net;
    std::vector<ir::TensorId> input_twins;                      // per graph input of net: float graph id
    std::vector<std::pair<int, std::size_t>> outputs;           // (net output, layer slot)
  };

  Status check_interfaces() {
    const ir::Graph& fg = float_net_->graph();
    const ir::Graph& qg = quant_net_->graph();
    if (fg.inputs.size() != qg.inputs.size()) {
      return invalid_argument("evaluate: the float model has " + std::to_string(fg.inputs.size()) +
                              " inputs, the quantized model " + std::to_string(qg.inputs.size()));
    }
    for (std::size_t i = 0; i < fg.inputs.size(); ++i) {
      const ir::Tensor& f = fg.tensor(fg.inputs[i]);
      const ir::Tensor& q = qg.tensor(qg.inputs[i]);
      if (f.shape.num_elements() != q.shape.num_elements()) {
        return invalid_argument("evaluate: input " + std::to_string(i) + ": float model's '" + f.name + "' " +
                                f.shape.to_string() + " and quantized model's '" + q.name + "' " + q.shape.to_string() +
                                " hold different element counts");
      }
    }
    if (fg.outputs.size() != qg.outputs.size()) {
      return invalid_argument("evaluate: the float model has " + std::to_string(fg.outputs.size()) +
                              " outputs, the quantized model " + std::to_string(qg.outputs.size()));
    }
    for (std::size_t i = 0; i < fg.outputs.size(); ++i) {
      const ir::Tensor& f = fg.tensor(fg.outputs[i]);
      const ir::Tensor& q = qg.tensor(qg.outputs[i]);
      const std::string what = "evaluate: output " + std::to_string(i) + " ('" + f.name + "' / '" + q.name + "')";
      if (f.shape.num_elements() != q.shape.num_elements()) {
        return invalid_argument(what + ": " + f.shape.to_string() + " and " + q.shape.to_string() +
                                " hold different element counts");
      }
      if (!reads_as_real(f) || !reads_as_real(q)) {
        return invalid_argument(what + ": " + dtype_name(f.dtype) + " / " + dtype_name(q.dtype) +
                                " cannot be compared as real numbers (no quantization parameters)");
      }
    }
    outputs_.assign(fg.outputs.size(), OutputSums());
    return Status();
  }

  // Twins by name; which float tensors to capture each sample.
  void pair_tensors() {
    const ir::Graph& fg = float_net_->graph();
    for (ir::TensorId id = 0; id < fg.tensor_count(); ++id) {
      if (!fg.tensor(id).name.empty()) float_by_name_.emplace(fg.tensor(id).name, id);
    }
    const ir::Graph& qg = quant_net_->graph();
    producer_.assign(static_cast<std::size_t>(qg.tensor_count()), -1);
    for (int i = 0; i < qg.op_count(); ++i) {
      for (ir::TensorId id : qg.ops[static_cast<std::size_t>(i)].outputs) producer_[static_cast<std::size_t>(id)] = i;
    }
    float_values_.resize(static_cast<std::size_t>(fg.tensor_count()));
    float_generation_.assign(static_cast<std::size_t>(fg.tensor_count()), 0);
    capture_.assign(static_cast<std::size_t>(fg.tensor_count()), 0);
  }

  // The float twin of quantized tensor `id` (same name, same element count, both real), or none.
  ir::TensorId twin_of(ir::TensorId id) const {
    const ir::Tensor& q = quant_net_->tensors()[static_cast<std::size_t>(id)];
    const auto it = float_by_name_.find(q.name);
    if (q.name.empty() || it == float_by_name_.end()) return ir::kNoTensor;
    const ir::Tensor& f = float_net_->tensors()[static_cast<std::size_t>(it->second)];
    if (f.shape.num_elements() != q.shape.num_elements() || !reads_as_real(f) || !reads_as_real(q)) return ir::kNoTensor;
    return it->second;
  }

  // twin_of, or else the twin of what the Quantize/Dequantize ops that produced `id` read (the same
  // real values in another type).
  ir::TensorId twin_through_casts(ir::TensorId id) const {
    for (int depth = 0; depth < 8; ++depth) {
      const ir::TensorId t = twin_of(id);
      if (t != ir::kNoTensor) return t;
      const int p = producer_[static_cast<std::size_t>(id)];
      if (p < 0) return ir::kNoTensor;
      const ir::Op& op = quant_net_->graph().ops[static_cast<std::size_t>(p)];
      if ((op.kind != ir::OpKind::kQuantize && op.kind != ir::OpKind::kDequantize) || op.inputs.size() != 1) return ir::kNoTensor;
      id = op.inputs[0];
    }
    return ir::kNoTensor;
  }

  // Marks float tensor `twin` for capture; constants are read once here.
  void capture(ir::TensorId twin) {
    const auto t = static_cast<std::size_t>(twin);
    if (capture_[t]) return;
    capture_[t] = 1;
    const ir::Tensor& f = float_net_->tensors()[t];
    if (f.is_constant()) {
      tensor_to_float(f, f.data.data(), float_values_[t]);
      float_generation_[t] = std::numeric_limits<uint64_t>::max();  // always current
    }
  }

  // A constant input of a quantized op as the graph holds it: itself, or the constant a folded
  // Dequantize reads.
  ir::TensorId weight_source(ir::TensorId id) const {
    const ir::Graph& qg = quant_net_->graph();
    if (qg.tensor(id).is_constant()) return id;
    const int p = producer_[static_cast<std::size_t>(id)];
    if (p >= 0) {
      const ir::Op& op = qg.ops[static_cast<std::size_t>(p)];
      if (op.kind == ir::OpKind::kDequantize && qg.tensor(op.inputs[0]).is_constant()) return op.inputs[0];
    }
    return ir::kNoTensor;
  }

  double weight_sqnr(const ir::Op& op) {
    const ir::Graph& qg = quant_net_->graph();
    const ir::Graph& fg = float_net_->graph();
    ErrorSums sums;
    for (const ir::TensorId in : op.inputs) {
      if (in == ir::kNoTensor) continue;
      const ir::TensorId src = weight_source(in);
      if (src == ir::kNoTensor) continue;
      // The constant's own name, or (a dequantized weight renamed) the op input's.
      ir::TensorId twin = ir::kNoTensor;
      for (const ir::TensorId candidate : {src, in}) {
        const auto it = float_by_name_.find(qg.tensor(candidate).name);
        if (twin == ir::kNoTensor && it != float_by_name_.end() && fg.tensor(it->second).is_constant()) twin = it->second;
      }
      if (twin == ir::kNoTensor) continue;
      const ir::Tensor& q = qg.tensor(src);
      const ir::Tensor& f = fg.tensor(twin);
      if (q.shape.rank() < 2 || f.shape.num_elements() != q.shape.num_elements()) continue;
      if (!tensor_to_float(f, f.data.data(), scratch_a_) || !tensor_to_float(q, q.data.data(), scratch_b_)) continue;
      sums.add(scratch_a_.data(), scratch_b_.data(), scratch_a_.size());
    }
    return sums.count ? sums.sqnr() : NAN;
  }

  void build_layers() {
    const ir::Graph& qg = quant_net_->graph();
    const std::vector<ir::Tensor>& qt = quant_net_->tensors();
    layer_of_.assign(static_cast<std::size_t>(qg.tensor_count()), -1);
    for (int i = 0; i < qg.op_count(); ++i) {
      const ir::Op& op = qg.ops[static_cast<std::size_t>(i)];
      for (ir::TensorId out : op.outputs) {
        if (qt[static_cast<std::size_t>(out)].is_constant()) continue;  // a folded Dequantize: never runs
        const ir::TensorId twin = twin_of(out);
        if (twin == ir::kNoTensor) continue;
        Layer l;
        l.op_index = i;
        l.tensor = out;
        l.twin = twin;
        l.has_clip = ClipRange::make(qt[static_cast<std::size_t>(out)], l.clip);
        l.weight_sqnr_db = weight_sqnr(op);
        capture(twin);
        layer_of_[static_cast<std::size_t>(out)] = static_cast<int>(layers_.size());
        layers_.push_back(std::move(l));
      }
    }
    float_net_->set_observer([this](const runtime::Observation& o) {
      const auto t = static_cast<std::size_t>(o.tensor_id);
      if (!capture_[t]) return;
      tensor_to_float(*o.tensor, o.data, float_values_[t]);
      float_generation_[t] = generation_;
    });
    quant_net_->set_observer([this](const runtime::Observation& o) {
      const int slot = layer_of_[static_cast<std::size_t>(o.tensor_id)];
      if (slot < 0 || o.op_index < 0) return;
      Layer& l = layers_[static_cast<std::size_t>(slot)];
      const std::vector<float>* f = current_float(l.twin);
      if (f == nullptr) return;
      tensor_to_float(*o.tensor, o.data, scratch_q_);
      l.propagated.add(f->data(), scratch_q_.data(), scratch_q_.size());
      if (l.has_clip) l.clipped += l.clip.count_outside(f->data());
    });
  }

  // The float model's value of `twin` in this sample, or nullptr if the run did not produce it.
  const std::vector<float>* current_float(ir::TensorId twin) {
    const auto t = static_cast<std::size_t>(twin);
    if (float_generation_[t] != generation_ && float_generation_[t] != std::numeric_limits<uint64_t>::max()) {
      if (observer_error_.ok()) {
        observer_error_ = internal_error("evaluate: the float model did not produce " + float_net_->graph().describe_tensor(twin));
      }
      return nullptr;
    }
    return &float_values_[t];
  }

  // Per op with a runtime input and a layer slot: a one-op graph of the quantized op.
  void build_isolated() {
    const ir::Graph& qg = quant_net_->graph();
    const std::vector<ir::Tensor>& qt = quant_net_->tensors();
    for (int i = 0; i < qg.op_count(); ++i) {
      const ir::Op& op = qg.ops[static_cast<std::size_t>(i)];
      bool has_layer = false;
      for (ir::TensorId out : op.outputs) has_layer = has_layer || layer_of_[static_cast<std::size_t>(out)] >= 0;
      if (!has_layer) continue;
      ir::Graph g;
      g.name = qg.name + "/" + (op.name.empty() ? "op" + std::to_string(i) : op.name);
      ir::Op copy = op;
      std::unordered_map<ir::TensorId, ir::TensorId> remap;
      Isolated iso;
      bool ok = true;
      for (ir::TensorId& in : copy.inputs) {
        if (in == ir::kNoTensor) continue;
        const auto found = remap.find(in);
        if (found != remap.end()) {
          in = found->second;
          continue;
        }
        const ir::Tensor& t = qt[static_cast<std::size_t>(in)];  // constants as the interpreter folded them
        const ir::TensorId id = g.add_tensor(t);
        if (!t.is_constant()) {
          const ir::TensorId twin = twin_through_casts(in);
          if (twin == ir::kNoTensor) {
            ok = false;
            break;
          }
          g.inputs.push_back(id);
          iso.input_twins.push_back(twin);
        }
        remap.emplace(in, id);
        in = id;
      }
      if (!ok || g.inputs.empty()) continue;
      for (ir::TensorId& out : copy.outputs) {
        ir::Tensor t = qt[static_cast<std::size_t>(out)];
        t.data = ir::Buffer();
        const ir::TensorId id = g.add_tensor(std::move(t));
        const int slot = layer_of_[static_cast<std::size_t>(out)];
        if (slot >= 0) iso.outputs.emplace_back(static_cast<int>(g.outputs.size()), static_cast<std::size_t>(slot));
        g.outputs.push_back(id);
        out = id;
      }
      g.ops.push_back(std::move(copy));
      Result<runtime::Interpreter> net = runtime::Interpreter::create(std::move(g), options_.interpreter);
      if (!net.ok()) continue;  // the op cannot run alone (documented: isolated stays NaN)
      iso.net = std::make_unique<runtime::Interpreter>(std::move(net).value());
      for (const ir::TensorId twin : iso.input_twins) capture(twin);
      isolated_.push_back(std::move(iso));
    }
  }

  void run_isolated(Isolated& iso) {
    for (std::size_t i = 0; i < iso.input_twins.size(); ++i) {
      const std::vector<float>* f = current_float(iso.input_twins[i]);
      if (f == nullptr) return;
      const runtime::TensorView v = iso.net->input(static_cast<int>(i));
      Status s = float_to_tensor(f->data(), f->size(), *v.tensor, v.data, "evaluate: isolated " + iso.net->graph().name);
      if (!s.ok()) {
        if (observer_error_.ok()) observer_error_ = s;
        return;
      }
    }
    iso.net->run();
    for (const auto& [output, slot] : iso.outputs) {
      Layer& l = layers_[slot];
      const std::vector<float>* f = current_float(l.twin);
      if (f == nullptr) return;
      const runtime::TensorView v = iso.net->output(output);
      tensor_to_float(*v.tensor, v.data, scratch_q_);
      l.isolated.add(f->data(), scratch_q_.data(), scratch_q_.size());
    }
  }

  // Argmax over the last axis of the first row; ties to the lowest index.
  static int64_t top1(const ir::Tensor& t, const std::vector<float>& v) {
    const int rank = t.shape.rank();
    const std::size_t classes = rank == 0 ? 1 : static_cast<std::size_t>(t.shape[rank - 1]);
    const std::size_t n = std::min(classes, v.size());
    int64_t best = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (v[i] > v[static_cast<std::size_t>(best)]) best = static_cast<int64_t>(i);
    }
    return best;
  }

  EvaluateOptions options_;
  std::unique_ptr<runtime::Interpreter> float_net_, quant_net_;
  std::vector<OutputSums> outputs_;
  std::unordered_map<std::string, ir::TensorId> float_by_name_;
  std::vector<int> producer_;   // quantized graph: op producing each tensor, -1 for none
  std::vector<int> layer_of_;   // quantized graph: layer slot of each tensor, -1 for none
  std::vector<Layer> layers_;
  std::vector<Isolated> isolated_;
  std::vector<char> capture_;                    // float graph: captured each sample
  std::vector<std::vector<float>> float_values_;  // float graph: the current sample's values, as reals
  std::vector<uint64_t> float_generation_;        // sample generation of float_values_ (max = constant)
  uint64_t generation_ = 0;
  std::vector<float> scratch_a_, scratch_b_, scratch_q_;
  Status observer_error_;
  std::size_t samples_ = 0;
};

}  // namespace detail

// Runs both models on the first options.max_samples samples of `data` (all when 0) and compares
// them (see the header). `labels`, when given, holds one class index per sample of `data`
// (data.size() of them). Errors: models that fail to load, different input/output counts or
// element counts, a sample that does not match the inputs, a wrong labels count, a dataset read
// error -- each naming the input, output or sample.
inline Result<AccuracyReport> evaluate(const ir::Graph& float_model, const ir::Graph& quantized_model, const Dataset& data,
                                       const std::vector<int64_t>* labels, const EvaluateOptions& options = {}) {
  if (labels != nullptr && labels->size() != data.size()) {
    return invalid_argument("evaluate: " + std::to_string(labels->size()) + " labels for " + std::to_string(data.size()) +
                            " samples; give one label per sample");
  }
  const std::size_t total = options.max_samples == 0 ? data.size() : std::min(options.max_samples, data.size());
  if (total == 0) return invalid_argument("evaluate: the dataset holds no samples");
  detail::Evaluator ev;
  PTQ_RETURN_IF_ERROR(ev.init(float_model, quantized_model, options));
  InputSet sample;
  for (std::size_t i = 0; i < total; ++i) {
    Status read = data.read(i, sample);
    if (!read.ok()) return read.with_context("evaluate: reading sample " + std::to_string(i));
    PTQ_RETURN_IF_ERROR(ev.run_sample(i, sample, labels));
    if (options.progress) options.progress(i + 1, total);
  }
  return ev.report(labels != nullptr);
}

}  // namespace convert
PTQ_NAMESPACE_END
