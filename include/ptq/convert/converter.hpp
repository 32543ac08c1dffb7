// convert/converter.hpp: post-training quantization of a float model, in TFLite's converter modes.
//
//   convert::ConvertOptions o;
//   o.mode = convert::Mode::kFullInteger;
//   o.representative_dataset = &calibration_samples;     // convert/dataset.hpp
//   Result<convert::Conversion> r = convert::convert(float_model, o);
//   save_model(r->graph, "model_int8.ptq");  std::puts(r->summary.to_string().c_str());
//
// Modes (TFLite's names in brackets):
//   kWeightOnly   [OPTIMIZE_FOR_SIZE / post_training_quantize] Weights with at least
//                 min_weight_elements values become int8 (symmetric, per output channel where the
//                 consumer has one), each followed by a Dequantize; the interpreter dequantizes them
//                 once at load and runs the float kernels. 4x smaller weights, float speed.
//   kDynamicRange [DEFAULT optimization without a dataset] Weights of fully connected, conv,
//                 depthwise, embedding lookup and recurrent ops become int8 (per channel, symmetric);
//                 those ops then run hybrid: activations quantized on the fly per row, int8 GEMM,
//                 float out. Weights below min_weight_elements stay float (TFLite's 1024).
//   kFullInteger  [DEFAULT + representative_dataset] Activation ranges calibrated by running the float
//                 model (calibrate.hpp); int8 activations per tensor (asymmetric, nudged), int8 weights
//                 per channel (symmetric, [-127, 127]) or per tensor, int32 bias at input scale x weight
//                 scale (weight scales raised where a tiny scale would overflow int32, as TFLite's
//                 quantizer does). Ops TFLite fixes get fixed outputs (Softmax, Logistic 1/256, -128;
//                 Tanh 1/128, 0); ops that move values unchanged (Reshape, Flatten, Transpose, Pad,
//                 pooling, EmbeddingLookup) share their input's parameters. I/O float32 (Quantize /
//                 Dequantize at the edges), int8 or uint8 (TFLite's inference_input_type /
//                 inference_output_type). Ops without an int8 kernel stay float with Dequantize /
//                 Quantize around them, or, with integer_only [TFLITE_BUILTINS_INT8], conversion fails
//                 with one error naming every such op and why. Legacy uint8 [QUANTIZED_UINT8]: uint8
//                 I/O with input_stats (mean, std_dev: real = (q - mean) / std_dev) fixing the input's
//                 parameters instead of calibration.
//   kFloat16      [target_spec.supported_types = float16] Every float32 constant stored as float16,
//                 followed by a Dequantize (the interpreter widens them once at load).
//
// Which ops run int8 is decided by a table of the int8 kernels TFLite has and then confirmed by
// preparing each quantized op with the runtime's own kernels (runtime/op_registry.hpp): whatever the
// runtime cannot run as quantized stays float, with the runtime's reason in the summary. The result
// is checked by creating an interpreter on it before it is returned.
//
// Names: a quantized model keeps the float model's tensor names for the tensors it quantizes (the
// int8 output of conv "c1" is still "c1"; a quantized weight keeps its name), so the accuracy report
// (evaluate.hpp) can pair every tensor with its float twin. Tensors the converter adds are named
// after their source: "x/quantized" (int8 version of float x), "x/dequantized" (float version of int8
// x). Graph inputs and outputs keep their names on the side the caller sees (e.g. a float output
// "logits" is the Dequantize of the int8 "logits/quantized").
//
// Quantization-aware ranges: a FakeQuant op (ir::OpKind::kFakeQuant, min/max/num_bits/narrow_range)
// in the float graph gives its input tensor's range; the FakeQuant itself is removed. A graph whose
// every activation is covered converts without a dataset.
// Layer selection: keep_float lists op names, output tensor names or op kind names ("Softmax") whose
// ops stay float.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ptq/convert/calibrate.hpp"
#include "ptq/convert/dataset.hpp"
#include "ptq/convert/observers.hpp"
#include "ptq/core/config.hpp"
#include "ptq/core/float16.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/ir/validate.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "ptq/runtime/op_registry.hpp"

PTQ_NAMESPACE_BEGIN
namespace convert {

enum class Mode { kWeightOnly, kDynamicRange, kFullInteger, kFloat16 };
enum class IoType { kFloat32, kInt8, kUInt8 };

inline const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kWeightOnly: return "weights";
    case Mode::kDynamicRange: return "dynamic";
    case Mode::kFullInteger: return "int8";
    case Mode::kFloat16: return "float16";
  }
  return "?";
}
inline const char* io_type_name(IoType t) {
  return t == IoType::kFloat32 ? "float32" : t == IoType::kInt8 ? "int8" : "uint8";
}

// Legacy uint8 input statistics: real = (q - mean) / std_dev.
struct InputStats {
  float mean = 0.0f;
  float std_dev = 1.0f;
};

struct ConvertOptions {
  Mode mode = Mode::kDynamicRange;
  // Weight-only and dynamic range: weights with fewer values stay float (TFLite: 1024).
  int64_t min_weight_elements = 1024;
  // Weights of conv, depthwise, fully connected, recurrent ops: one scale per output channel (TFLite's
  // default) or one per tensor.
  bool per_channel = true;
  // Full integer: the samples to calibrate on, and how many of them (0 = all).
  const Dataset* representative_dataset = nullptr;
  std::size_t calibration_samples = 0;
  CalibrationOptions calibration;
  IoType input_type = IoType::kFloat32;
  IoType output_type = IoType::kFloat32;
  bool integer_only = false;
  // Full integer: an op that stays float but has a hybrid kernel (today: the recurrent ops) gets int8
  // weights and runs hybrid, as in dynamic range (false: it keeps float weights, TFLite's fallback).
  bool hybrid_fallback = true;
  std::vector<InputStats> input_stats;  // one per graph input, or empty (uint8 inputs then calibrate)
  // Ops kept float: op names, output tensor names or op kind names.
  std::vector<std::string> keep_float;
  ProgressCallback progress;                // calibration progress
  runtime::InterpreterOptions interpreter;  // how calibration runs
};

// What became of one op of the float model.
struct OpDecision {
  int op_index = 0;     // in the float model
  std::string op;       // "op 3 'conv1' (Conv2D)"
  std::string form;     // "int8", "hybrid", "float", "float (int8 weights)", "float (float16 weights)"
  std::string reason;   // why an op stayed float (empty otherwise)
};

struct ConversionSummary {
  Mode mode = Mode::kDynamicRange;
  std::vector<OpDecision> ops;
  std::size_t constant_bytes_before = 0, constant_bytes_after = 0;
  std::size_t calibration_samples = 0;
  std::vector<std::string> notes;  // e.g. weight scales raised for int32 bias

  int count(const std::string& form) const {
    return static_cast<int>(std::count_if(ops.begin(), ops.end(), [&](const OpDecision& d) { return d.form == form; }));
  }
  std::string to_string() const {
    std::string s = std::string("mode ") + mode_name(mode) + ": ";
    std::map<std::string, int> forms;
    for (const OpDecision& d : ops) ++forms[d.form];
    bool first = true;
    for (const auto& f : forms) {
      s += (first ? "" : ", ") + std::to_string(f.second) + " " + f.first;
      first = false;
    }
    s += "; constants " + std::to_string(constant_bytes_before) + " -> " + std::to_string(constant_bytes_after) + " bytes";
    if (calibration_samples) s += "; calibrated on " + std::to_string(calibration_samples) + " samples";
    s += "\n";
    for (const OpDecision& d : ops) {
      if (!d.reason.empty()) s += (d.form == "float" ? "  kept float: " : "  not int8, " + d.form + ": ") + d.op + ": " + d.reason + "\n";
    }
    for (const std::string& n : notes) s += "  note: " + n + "\n";
    return s;
  }
};

struct Conversion {
  ir::Graph graph;
  ConversionSummary summary;
};

namespace detail {

using ir::OpKind;
using ir::TensorId;

inline std::size_t constant_bytes(const ir::Graph& g) {
  std::size_t n = 0;
  for (const ir::Tensor& t : g.tensors) n += t.is_constant() ? t.data.size() : 0;
  return n;
}

inline bool is_recurrent(OpKind k) { return k == OpKind::kRnn || k == OpKind::kLstm || k == OpKind::kGru; }

// Recurrent inputs: x, then {w, r, b} per direction, then states.
inline int recurrent_directions(const ir::Op& op) { return op.attrs.bidirectional ? 2 : 1; }
inline bool is_recurrent_weight(const ir::Op& op, int input) {
  const int d = recurrent_directions(op);
  return input >= 1 && input < 1 + 3 * d && (input - 1) % 3 != 2;
}

// The output-channel axis of a weight input (conv 0, depthwise 3, fully connected 0, recurrent rows
// 0, embedding rows 0), or -1 when `input` is not a weight of `op`.
inline int weight_axis(const ir::Op& op, int input) {
  switch (op.kind) {
    case OpKind::kConv2D:
    case OpKind::kFullyConnected: return input == 1 ? 0 : -1;
    case OpKind::kDepthwiseConv2D: return input == 1 ? 3 : -1;
    case OpKind::kEmbeddingLookup: return input == 1 ? 0 : -1;
    case OpKind::kRnn:
    case OpKind::kLstm:
    case OpKind::kGru: return is_recurrent_weight(op, input) ? 0 : -1;
    default: return -1;
  }
}

inline bool is_bias_input(const ir::Op& op, int input) {
  switch (op.kind) {
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kFullyConnected: return input == 2;
    default: return false;
  }
}

// An int8 copy of float constant `c` with the given quantization (per tensor or per axis):
// q = clamp(round(x / scale) + zero_point, -128, 127), the kernels' quantize.
inline ir::Tensor quantize_tensor(const ir::Tensor& c, ir::Quantization quant) {
  const auto n = static_cast<std::size_t>(c.shape.num_elements());
  ir::Tensor q;
  q.name = c.name;
  q.dtype = DType::kInt8;
  q.shape = c.shape;
  ir::Buffer b = ir::Buffer::allocate(n);
  auto* out = reinterpret_cast<int8_t*>(b.mutable_data());
  if (quant.is_per_axis()) {
    quantize_per_axis(c.data.as<float>(), out, c.shape, quant.axis_params());
  } else {
    quantize(c.data.as<float>(), out, n, quant.params());
  }
  q.data = std::move(b);
  q.quant = std::move(quant);
  return q;
}

// The smallest and largest of `n` values, widened to contain 0.
inline std::pair<float, float> range_with_zero(const float* x, std::size_t n) {
  float lo = 0.0f, hi = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  return {lo, hi};
}

// int8 weights with the given scales (one, or one per slice along `axis`) and zero points 0 (the
// symmetric scales below keep them within [-127, 127]).
inline ir::Tensor quantize_weights_scaled(const ir::Tensor& w, int axis, std::vector<float> scales) {
  return quantize_tensor(w, axis >= 0 ? ir::Quantization::along(axis, std::move(scales))
                                      : ir::Quantization::per_tensor(scales.at(0), 0));
}

// Symmetric int8 weights (TFLite's scheme): scale = max |w| / 127 per slice along `axis` (or per
// tensor with axis < 0), zero points 0. A slice of zeros gets scale 1 (any scale represents it).
inline ir::Tensor quantize_weights(const ir::Tensor& w, int axis) {
  const float* x = w.data.as<float>();
  std::vector<float> scales;
  if (axis >= 0) {
    scales = choose_per_axis_quant_params<int8_t>(x, w.shape, axis, /*symmetric=*/true).scales;
  } else {
    const auto r = range_with_zero(x, static_cast<std::size_t>(w.shape.num_elements()));
    scales = {symmetric_quant_params<int8_t>(r.first, r.second).scale};
  }
  for (float& s : scales) {
    if (!(s > 0.0f)) s = 1.0f;
  }
  return quantize_weights_scaled(w, axis, std::move(scales));
}

// Per-tensor asymmetric int8 for a constant that is not a weight (e.g. an Add operand).
inline ir::Tensor quantize_constant(const ir::Tensor& c) {
  const auto r = range_with_zero(c.data.as<float>(), static_cast<std::size_t>(c.shape.num_elements()));
  QuantParams p = choose_quant_params<int8_t>(r.first, r.second);
  if (!(p.scale > 0.0f)) p = {1.0f, 0};
  return quantize_tensor(c, ir::Quantization::per_tensor(p));
}

// A float16 copy of a float32 constant.
inline ir::Tensor to_float16(const ir::Tensor& c) {
  const auto n = static_cast<std::size_t>(c.shape.num_elements());
  ir::Tensor h;
  h.name = c.name;
  h.dtype = DType::kFloat16;
  h.shape = c.shape;
  ir::Buffer b = ir::Buffer::allocate(n * 2);
  float_to_half(c.data.as<float>(), reinterpret_cast<uint16_t*>(b.mutable_data()), n);
  h.data = std::move(b);
  return h;
}

// Whether `op` is listed in keep_float (by op name, output tensor name or kind name).
inline bool kept_float(const ir::Graph& g, const ir::Op& op, const std::vector<std::string>& keep) {
  for (const std::string& k : keep) {
    if (!op.name.empty() && op.name == k) return true;
    if (k == ir::op_kind_name(op.kind)) return true;
    for (TensorId o : op.outputs) {
      if (g.tensor(o).name == k) return true;
    }
  }
  return false;
}

// Prepares op `index` of `g` with the runtime's kernels: ok, or the runtime's reason.
inline Status probe_op(const ir::Graph& g, int index) {
  const runtime::PrepareFn fn = runtime::find_prepare(g.ops[static_cast<std::size_t>(index)].kind);
  if (fn == nullptr) return unimplemented(g.describe_op(index) + ": no implementation");
  runtime::OpOptions options;
  runtime::PrepareContext ctx(g, index, g.tensors, options);
  Result<std::unique_ptr<runtime::PreparedOp>> r = fn(ctx);
  return r.ok() ? Status() : r.status();
}

// Removes the "op N 'name' (Kind): " prefix of a runtime message (the summary names the op itself).
inline std::string strip_op_prefix(const std::string& message) {
  const std::size_t at = message.find("): ");
  return at == std::string::npos ? message : message.substr(at + 3);
}

// The float model, normalised: Dequantize ops of float16 or int8 constants (a float16 or weight-only
// model given again) folded into float32 constants. Anything else quantized is an error.
inline Result<ir::Graph> normalized_float_model(const ir::Graph& model) {
  PTQ_RETURN_IF_ERROR(ir::validate(model).with_context("converter: the input model is not valid"));
  ir::Graph g = model;
  std::vector<ir::Op> ops;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const ir::Op& op = g.ops[i];
    if (op.kind == OpKind::kDequantize && g.tensor(op.inputs[0]).is_constant()) {
      const ir::Tensor& in = g.tensor(op.inputs[0]);
      ir::Tensor& out = g.tensor(op.outputs[0]);
      const auto n = static_cast<std::size_t>(in.shape.num_elements());
      ir::Buffer b = ir::Buffer::allocate(n * sizeof(float));
      auto* y = reinterpret_cast<float*>(b.mutable_data());
      if (in.dtype == DType::kFloat16) {
        half_to_float(in.data.as<uint16_t>(), y, n);
      } else if (in.dtype == DType::kInt8 && !in.quant.empty()) {
        if (in.quant.is_per_axis()) {
          dequantize_per_axis(in.data.as<int8_t>(), y, in.shape, in.quant.axis_params());
        } else {
          dequantize(in.data.as<int8_t>(), y, n, in.quant.params());
        }
      } else {
        return unimplemented("converter: " + g.describe_op(static_cast<int>(i)) + " dequantizes " +
                             dtype_name(in.dtype) + " constant " + g.describe_tensor(op.inputs[0]) +
                             "; the converter takes float models");
      }
      out.data = std::move(b);
      continue;
    }
    ops.push_back(op);
  }
  g.ops = std::move(ops);
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    for (TensorId id : g.ops[i].inputs) {
      if (id == ir::kNoTensor) continue;
      const ir::Tensor& t = g.tensor(id);
      if (t.dtype == DType::kFloat16 || (t.is_quantized() && t.dtype != DType::kInt32)) {
        return unimplemented("converter: " + g.describe_op(static_cast<int>(i)) + " reads " + dtype_name(t.dtype) + " " +
                             g.describe_tensor(id) + "; the converter takes float models (already quantized?)");
      }
    }
  }
  for (TensorId id : g.inputs) {
    if (g.tensor(id).dtype != DType::kFloat32 && g.tensor(id).dtype != DType::kInt32) {
      return unimplemented("converter: graph input " + g.describe_tensor(id) + " is " + dtype_name(g.tensor(id).dtype) +
                           "; the converter takes float models");
    }
  }
  return g;
}

// FakeQuant ops: each gives its input's range (quantization-aware training) and is removed; the
// consumers of its output read its input instead. Returns the ranges by tensor id.
struct FakeQuantRanges {
  std::map<TensorId, ir::Attributes> by_tensor;
};

inline FakeQuantRanges fold_fake_quant(ir::Graph& g) {
  FakeQuantRanges r;
  std::vector<TensorId> alias(static_cast<std::size_t>(g.tensor_count()));
  for (int i = 0; i < g.tensor_count(); ++i) alias[static_cast<std::size_t>(i)] = i;
  std::vector<ir::Op> ops;
  for (const ir::Op& op : g.ops) {
    if (op.kind != OpKind::kFakeQuant) {
      ops.push_back(op);
      continue;
    }
    const TensorId x = alias[static_cast<std::size_t>(op.inputs[0])];
    r.by_tensor[x] = op.attrs;
    alias[static_cast<std::size_t>(op.outputs[0])] = x;
  }
  for (ir::Op& op : ops) {
    for (TensorId& id : op.inputs) {
      if (id != ir::kNoTensor) id = alias[static_cast<std::size_t>(id)];
    }
  }
  for (TensorId& id : g.outputs) {
    const TensorId x = alias[static_cast<std::size_t>(id)];
    if (x != id) {
      // The output keeps its name: the tensor that now stands for it takes it over.
      g.tensor(x).name = g.tensor(id).name;
      id = x;
    }
  }
  g.ops = std::move(ops);
  return r;
}

// The int8 parameters a FakeQuant stands for: TensorFlow's nudged grid (core/qparams.hpp
// fake_quant_nudge) moved from its unsigned [quant_min, quant_max] to int8 (zero point - 128).
// Preconditions: num_bits in [2, 8], clip_min < clip_max.
inline QuantParams fake_quant_params(const ir::Attributes& a) {
  const FakeQuantNudged n = fake_quant_nudge(a.clip_min, a.clip_max, a.num_bits, a.narrow_range);
  return {n.scale, n.zero_point - 128};
}

// ---- weight-only, dynamic range, float16 -----------------------------------------------------

// Weight-only and float16: constants replaced by (int8 | float16 constant -> Dequantize).
inline Result<Conversion> convert_constants(const ir::Graph& model, const ConvertOptions& o) {
  ir::Graph g = model;
  Conversion out;
  out.summary.mode = o.mode;
  out.summary.constant_bytes_before = constant_bytes(model);
  const bool fp16 = o.mode == Mode::kFloat16;
  // Which constants are rewritten, and with which axis (the first weight consumer decides); ops in
  // keep_float go on reading the float originals.
  std::vector<int> axis_of(static_cast<std::size_t>(g.tensor_count()), -2);  // -2: leave alone
  std::vector<bool> denied(g.ops.size(), false);
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const ir::Op& op = g.ops[i];
    denied[i] = kept_float(g, op, o.keep_float);
    if (denied[i]) continue;
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      const TensorId id = op.inputs[k];
      if (id == ir::kNoTensor) continue;
      const ir::Tensor& t = g.tensor(id);
      if (!t.is_constant() || t.dtype != DType::kFloat32) continue;
      int& a = axis_of[static_cast<std::size_t>(id)];
      if (fp16) {
        a = -1;
      } else if (!is_bias_input(op, static_cast<int>(k)) && t.shape.num_elements() >= o.min_weight_elements) {
        const int wa = weight_axis(op, static_cast<int>(k));
        if (a == -2) a = o.per_channel && wa >= 0 ? wa : -1;
      }
    }
  }
  std::vector<ir::Op> ops;
  std::vector<TensorId> replacement(static_cast<std::size_t>(g.tensor_count()), ir::kNoTensor);
  std::vector<bool> rewritten_op(g.ops.size(), false);
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    ir::Op op = g.ops[i];
    for (TensorId& id : op.inputs) {
      if (id == ir::kNoTensor || denied[i]) continue;
      const int a = axis_of[static_cast<std::size_t>(id)];
      if (a < -1) continue;
      if (replacement[static_cast<std::size_t>(id)] == ir::kNoTensor) {
        const ir::Tensor& w = g.tensor(id);
        ir::Tensor packed = fp16 ? to_float16(w) : quantize_weights(w, a);
        ir::Tensor widened;
        widened.name = w.name + "/dequantized";
        widened.dtype = DType::kFloat32;
        widened.shape = w.shape;
        const TensorId pid = g.add_tensor(std::move(packed));
        const TensorId wid = g.add_tensor(std::move(widened));
        ir::Op dq;
        dq.kind = OpKind::kDequantize;
        dq.name = g.tensor(pid).name + "/dequantize";
        dq.inputs = {pid};
        dq.outputs = {wid};
        ops.push_back(dq);
        replacement[static_cast<std::size_t>(id)] = wid;
      }
      id = replacement[static_cast<std::size_t>(id)];
      rewritten_op[i] = true;
    }
    ops.push_back(std::move(op));
  }
  g.ops = std::move(ops);
  // Drop the float constants no op reads any more.
  ir::Graph compact = ir::without_unused_tensors(g);
  for (std::size_t i = 0; i < model.ops.size(); ++i) {
    OpDecision d{static_cast<int>(i), model.describe_op(static_cast<int>(i)), "float", ""};
    if (rewritten_op[i]) d.form = fp16 ? "float (float16 weights)" : "float (int8 weights)";
    if (denied[i]) d.reason = "kept float (keep_float)";
    out.summary.ops.push_back(d);
  }
  out.graph = std::move(compact);
  out.summary.constant_bytes_after = constant_bytes(out.graph);
  return out;
}


// Dynamic range: int8 weights fed straight into the ops that have hybrid kernels.
inline Result<Conversion> convert_dynamic_range(const ir::Graph& model, const ConvertOptions& o) {
  ir::Graph g = model;
  Conversion out;
  out.summary.mode = o.mode;
  out.summary.constant_bytes_before = constant_bytes(model);
  std::map<std::pair<TensorId, int>, TensorId> quantized;  // (float weight, axis) -> int8 copy
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    OpDecision d{static_cast<int>(i), model.describe_op(static_cast<int>(i)), "float", ""};
    ir::Op& op = g.ops[i];
    std::vector<int> slots;
    int64_t largest = 0;
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      const TensorId id = op.inputs[k];
      if (id == ir::kNoTensor || weight_axis(op, static_cast<int>(k)) < 0) continue;
      const ir::Tensor& w = g.tensor(id);
      if (!w.is_constant() || w.dtype != DType::kFloat32) continue;
      slots.push_back(static_cast<int>(k));
      largest = std::max(largest, w.shape.num_elements());
    }
    if (!slots.empty() && kept_float(g, op, o.keep_float)) {
      d.reason = "kept float (keep_float)";
    } else if (!slots.empty() && largest < o.min_weight_elements) {
      d.reason = "weights have " + std::to_string(largest) + " values, fewer than min_weight_elements = " +
                 std::to_string(o.min_weight_elements);
    } else if (!slots.empty()) {
      // A recurrent op's kernel takes all its weights in one dtype: they are quantized together.
      const std::vector<TensorId> before = op.inputs;
      for (int k : slots) {
        const TensorId id = op.inputs[static_cast<std::size_t>(k)];
        const int axis = o.per_channel ? weight_axis(op, k) : -1;
        auto it = quantized.find({id, axis});
        if (it == quantized.end()) it = quantized.emplace(std::make_pair(id, axis), g.add_tensor(quantize_weights(g.tensor(id), axis))).first;
        op.inputs[static_cast<std::size_t>(k)] = it->second;
      }
      const Status probe = probe_op(g, static_cast<int>(i));
      if (probe.ok()) {
        d.form = "hybrid";
      } else {
        op.inputs = before;
        d.reason = "no hybrid kernel: " + strip_op_prefix(probe.message());
      }
    }
    out.summary.ops.push_back(d);
  }
  ir::Graph compact = ir::without_unused_tensors(g);
  // A weight still read in float by another op keeps its name; its int8 copy is "<name>/quantized".
  std::map<std::string, int> seen;
  for (const ir::Tensor& t : compact.tensors) ++seen[t.name];
  for (ir::Tensor& t : compact.tensors) {
    if (t.dtype == DType::kInt8 && t.is_constant() && seen[t.name] > 1) t.name += "/quantized";
  }
  out.graph = std::move(compact);
  out.summary.constant_bytes_after = constant_bytes(out.graph);
  return out;
}

// ---- full integer ------------------------------------------------------------------------------

// Ops with an int8 kernel in TFLite (and ptq); the runtime confirms each one when it is prepared.
inline bool has_int8_kernel(OpKind k) {
  switch (k) {
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kFullyConnected:
    case OpKind::kBatchMatMul:
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kAveragePool2D:
    case OpKind::kMaxPool2D:
    case OpKind::kMean:
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kReluN1To1:
    case OpKind::kClip:
    case OpKind::kLeakyRelu:
    case OpKind::kHardSwish:
    case OpKind::kHardSigmoid:
    case OpKind::kSoftmax:
    case OpKind::kLogistic:
    case OpKind::kTanh:
    case OpKind::kReshape:
    case OpKind::kFlatten:
    case OpKind::kTranspose:
    case OpKind::kConcatenation:
    case OpKind::kPad:
    case OpKind::kEmbeddingLookup: return true;
    default: return false;
  }
}

// The input whose parameters a quantized op's output shares (TFLite: these ops move values without
// rescaling), or -1.
inline int tied_input(OpKind k) {
  switch (k) {
    case OpKind::kReshape:
    case OpKind::kFlatten:
    case OpKind::kTranspose:
    case OpKind::kPad:
    case OpKind::kMaxPool2D:
    case OpKind::kAveragePool2D: return 0;
    case OpKind::kEmbeddingLookup: return 1;
    default: return -1;
  }
}

// Where a tensor's int8 range comes from: a FakeQuant, calibration, or legacy input statistics.
struct RangeSource {
  const Calibration* calibration = nullptr;
  const FakeQuantRanges* fake_quant = nullptr;
  std::map<TensorId, QuantParams> fixed;  // input statistics

  std::optional<QuantParams> params(TensorId id) const {
    auto f = fixed.find(id);
    if (f != fixed.end()) return f->second;
    if (fake_quant) {
      auto q = fake_quant->by_tensor.find(id);
      if (q != fake_quant->by_tensor.end()) return fake_quant_params(q->second);
    }
    if (calibration && calibration->has_range(id)) {
      const Range r = calibration->range(id, QuantTarget{});
      if (!(std::isfinite(r.min) && std::isfinite(r.max))) return std::nullopt;
      const QuantParams p = choose_quant_params<int8_t>(std::min(r.min, r.max), std::max(r.min, r.max));
      return p.scale > 0.0f ? p : QuantParams{1.0f, 0};  // a tensor that was always 0
    }
    return std::nullopt;
  }
};

// Builds the quantized graph for a given choice of int8 ops.
class IntegerRewriter {
 public:
  IntegerRewriter(const ir::Graph& g, const ConvertOptions& o, const RangeSource& ranges, const std::vector<bool>& int8)
      : g_(g), o_(o), ranges_(ranges), int8_(int8) {}

  std::vector<int> origin;  // per op of the result: the float model's op, or -1 for an inserted one
  std::vector<std::string> notes;

  Result<ir::Graph> build() {
    origin.clear();
    notes.clear();
    out_ = ir::Graph();
    out_.name = g_.name;
    rep_.assign(g_.tensors.size(), Rep());
    PTQ_RETURN_IF_ERROR(assign_params());
    for (std::size_t k = 0; k < g_.inputs.size(); ++k) PTQ_RETURN_IF_ERROR(add_input(g_.inputs[k]));
    for (std::size_t i = 0; i < g_.ops.size(); ++i) {
      PTQ_RETURN_IF_ERROR(int8_[i] ? add_int8_op(static_cast<int>(i)) : add_float_op(static_cast<int>(i)));
    }
    for (TensorId id : g_.outputs) PTQ_RETURN_IF_ERROR(add_output(id));
    return out_;
  }

  // The int8 parameters of runtime tensor `id` (after assign_params), if it has them.
  const std::optional<QuantParams>& params(TensorId id) const { return params_[static_cast<std::size_t>(id)]; }

 private:
  enum class Side { kFloat, kInt8, kUInt8 };
  struct Rep {
    TensorId f = ir::kNoTensor, q = ir::kNoTensor;
  };

  // Activation parameters, in execution order (tied outputs follow their inputs).
  Status assign_params() {
    params_.assign(g_.tensors.size(), std::nullopt);
    for (TensorId id : g_.inputs) params_[static_cast<std::size_t>(id)] = ranges_.params(id);
    for (std::size_t i = 0; i < g_.ops.size(); ++i) {
      const ir::Op& op = g_.ops[i];
      for (TensorId y : op.outputs) {
        std::optional<QuantParams>& p = params_[static_cast<std::size_t>(y)];
        if (int8_[i]) {
          const int tie = tied_input(op.kind);
          if (const auto fixed = ir::fixed_output_params(op.kind, DType::kInt8)) {
            p = fixed;
          } else if (tie >= 0 && g_.tensor(op.inputs[static_cast<std::size_t>(tie)]).is_constant()) {
            p = quantize_constant(g_.tensor(op.inputs[static_cast<std::size_t>(tie)])).quant.params();
          } else if (tie >= 0) {
            p = params_[static_cast<std::size_t>(op.inputs[static_cast<std::size_t>(tie)])];
          } else {
            p = ranges_.params(y);
          }
          if (!p) return internal_error("converter: " + g_.describe_op(static_cast<int>(i)) + " has no range for " + g_.describe_tensor(y));
        } else {
          p = ranges_.params(y);
        }
      }
    }
    return Status();
  }

  Side owner(TensorId id, Side produced) const {
    for (TensorId o : g_.outputs) {
      if (o == id) return side_of(o_.output_type);
    }
    for (TensorId in : g_.inputs) {
      if (in == id) return side_of(o_.input_type);
    }
    return produced;
  }
  static Side side_of(IoType t) { return t == IoType::kFloat32 ? Side::kFloat : t == IoType::kInt8 ? Side::kInt8 : Side::kUInt8; }
  std::string name_for(TensorId id, Side side, Side produced) const {
    const std::string& base = g_.tensor(id).name;
    if (owner(id, produced) == side) return base;
    return base + (side == Side::kFloat ? "/dequantized" : "/quantized");
  }

  TensorId add(const std::string& name, DType dtype, const Shape& shape, ir::Quantization q = {}, ir::Buffer data = {}) {
    ir::Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = shape;
    t.quant = std::move(q);
    t.data = std::move(data);
    return out_.add_tensor(std::move(t));
  }
  void emit(OpKind kind, const std::string& name, TensorId x, TensorId y) {
    ir::Op op;
    op.kind = kind;
    op.name = name;
    op.inputs = {x};
    op.outputs = {y};
    out_.ops.push_back(std::move(op));
    origin.push_back(-1);
  }
  QuantParams need_params(TensorId id) const { return *params_[static_cast<std::size_t>(id)]; }

  Status add_input(TensorId id) {
    const ir::Tensor& t = g_.tensor(id);
    Rep& r = rep_[static_cast<std::size_t>(id)];
    if (t.dtype != DType::kFloat32 || o_.input_type == IoType::kFloat32) {
      r.f = add(t.name, t.dtype, t.shape);
      out_.inputs.push_back(r.f);
      return Status();
    }
    if (!params_[static_cast<std::size_t>(id)]) {
      return failed_precondition("converter: graph input " + g_.describe_tensor(id) + " has no range for its " +
                                 io_type_name(o_.input_type) + " type (no calibration sample or input statistics reached it)");
    }
    const QuantParams p = need_params(id);
    if (o_.input_type == IoType::kInt8) {
      r.q = add(t.name, DType::kInt8, t.shape, ir::Quantization::per_tensor(p));
      out_.inputs.push_back(r.q);
      return Status();
    }
    const TensorId u = add(t.name, DType::kUInt8, t.shape, ir::Quantization::per_tensor(p.scale, p.zero_point + 128));
    out_.inputs.push_back(u);
    r.q = add(t.name + "/quantized", DType::kInt8, t.shape, ir::Quantization::per_tensor(p));
    emit(OpKind::kQuantize, t.name + "/quantize", u, r.q);
    return Status();
  }

  Status add_output(TensorId id) {
    const ir::Tensor& t = g_.tensor(id);
    if (t.dtype != DType::kFloat32 || o_.output_type == IoType::kFloat32) {
      PTQ_ASSIGN_OR_RETURN(TensorId f, float_of(id));
      out_.outputs.push_back(f);
      return Status();
    }
    PTQ_ASSIGN_OR_RETURN(TensorId q, int8_of(id));
    if (o_.output_type == IoType::kInt8) {
      out_.outputs.push_back(q);
      return Status();
    }
    const QuantParams p = out_.tensor(q).quant.params();
    const TensorId u = add(t.name, DType::kUInt8, t.shape, ir::Quantization::per_tensor(p.scale, p.zero_point + 128));
    emit(OpKind::kQuantize, t.name + "/quantize", q, u);
    out_.outputs.push_back(u);
    return Status();
  }

  // The float version of tensor `id`: the tensor itself (float producers, constants, non-float
  // tensors), or a Dequantize of its int8 version.
  Result<TensorId> float_of(TensorId id) {
    Rep& r = rep_[static_cast<std::size_t>(id)];
    if (r.f != ir::kNoTensor) return r.f;
    const ir::Tensor& t = g_.tensor(id);
    if (t.is_constant()) {
      r.f = add(t.name, t.dtype, t.shape, t.quant, t.data);
      return r.f;
    }
    if (r.q == ir::kNoTensor) return internal_error("converter: " + g_.describe_tensor(id) + " is used before it is produced");
    r.f = add(name_for(id, Side::kFloat, Side::kInt8), DType::kFloat32, t.shape);
    emit(OpKind::kDequantize, t.name + "/dequantize", r.q, r.f);
    return r.f;
  }

  // The int8 version of runtime tensor `id`: its int8 producer's output, or a Quantize of the float one.
  Result<TensorId> int8_of(TensorId id) {
    Rep& r = rep_[static_cast<std::size_t>(id)];
    if (r.q != ir::kNoTensor) return r.q;
    const ir::Tensor& t = g_.tensor(id);
    if (r.f == ir::kNoTensor) return internal_error("converter: " + g_.describe_tensor(id) + " is used before it is produced");
    if (!params_[static_cast<std::size_t>(id)]) return internal_error("converter: " + g_.describe_tensor(id) + " has no range");
    r.q = add(name_for(id, Side::kInt8, Side::kFloat), DType::kInt8, t.shape, ir::Quantization::per_tensor(need_params(id)));
    emit(OpKind::kQuantize, t.name + "/quantize", r.f, r.q);
    return r.q;
  }

  Status add_float_op(int index) {
    ir::Op op = g_.ops[static_cast<std::size_t>(index)];
    for (TensorId& id : op.inputs) {
      if (id == ir::kNoTensor) continue;
      PTQ_ASSIGN_OR_RETURN(id, float_of(id));
    }
    for (TensorId& y : op.outputs) {
      const ir::Tensor& t = g_.tensor(y);
      Rep& r = rep_[static_cast<std::size_t>(y)];
      r.f = add(name_for(y, Side::kFloat, Side::kFloat), t.dtype, t.shape);
      y = r.f;
    }
    out_.ops.push_back(std::move(op));
    origin.push_back(index);
    return Status();
  }

  Status add_int8_op(int index) {
    const ir::Op& src = g_.ops[static_cast<std::size_t>(index)];
    ir::Op op = src;
    const bool layer = src.kind == OpKind::kConv2D || src.kind == OpKind::kDepthwiseConv2D ||
                       src.kind == OpKind::kFullyConnected;
    std::vector<float> w_scales;  // a layer's weight scales, for its bias
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      const TensorId id = src.inputs[k];
      if (id == ir::kNoTensor) continue;
      const ir::Tensor& t = g_.tensor(id);
      if (t.dtype != DType::kFloat32) {
        PTQ_ASSIGN_OR_RETURN(op.inputs[k], float_of(id));  // ids and other non-float tensors pass unchanged
      } else if (!t.is_constant()) {
        PTQ_ASSIGN_OR_RETURN(op.inputs[k], int8_of(id));
      } else if (layer && k == 1) {
        op.inputs[k] = add_layer_weights(index, src, &w_scales);
      } else if (layer && k == 2) {
        op.inputs[k] = add_bias(src, w_scales);
      } else {
        op.inputs[k] = add_quantized_constant(id, src);
      }
    }
    for (TensorId& y : op.outputs) {
      Rep& r = rep_[static_cast<std::size_t>(y)];
      r.q = add(name_for(y, Side::kInt8, Side::kInt8), DType::kInt8, g_.tensor(y).shape,
                ir::Quantization::per_tensor(need_params(y)));
      y = r.q;
    }
    out_.ops.push_back(std::move(op));
    origin.push_back(index);
    return Status();
  }

  std::string const_name(TensorId id) const {
    // The quantized copy keeps the name unless a float op also reads the constant.
    for (std::size_t i = 0; i < g_.ops.size(); ++i) {
      if (int8_[i]) continue;
      for (TensorId in : g_.ops[i].inputs) {
        if (in == id) return g_.tensor(id).name + "/quantized";
      }
    }
    return g_.tensor(id).name;
  }

  TensorId add_quantized_constant(TensorId id, const ir::Op& consumer) {
    (void)consumer;
    ir::Tensor q = quantize_constant(g_.tensor(id));
    q.name = const_name(id);
    return out_.add_tensor(std::move(q));
  }

  // Weights: symmetric int8 per output channel (or per tensor). A channel whose bias would not fit
  // int32 at input scale x weight scale gets a larger weight scale (TFLite's quantizer does the same).
  TensorId add_layer_weights(int index, const ir::Op& op, std::vector<float>* w_scales) {
    const ir::Tensor& w = g_.tensor(op.inputs[1]);
    const int axis = o_.per_channel ? weight_axis(op, 1) : -1;
    ir::Tensor q = quantize_weights(w, axis);
    if (ranges_.fake_quant) {
      auto fq = ranges_.fake_quant->by_tensor.find(op.inputs[1]);
      if (fq != ranges_.fake_quant->by_tensor.end()) q = quantize_tensor(w, ir::Quantization::per_tensor(fake_quant_params(fq->second)));
    }
    const bool has_bias = op.inputs.size() > 2 && op.inputs[2] != ir::kNoTensor && g_.tensor(op.inputs[2]).is_constant();
    const bool symmetric = std::all_of(q.quant.zero_points.begin(), q.quant.zero_points.end(), [](int32_t z) { return z == 0; });
    if (has_bias && symmetric) {
      const float* b = g_.tensor(op.inputs[2]).data.as<float>();
      const double in_scale = need_params(op.inputs[0]).scale;
      const std::size_t channels = static_cast<std::size_t>(g_.tensor(op.inputs[2]).shape.num_elements());
      std::vector<float> scales = q.quant.scales;
      bool raised = false;
      for (std::size_t c = 0; c < channels; ++c) {
        float& s = scales[scales.size() == 1 ? 0 : c];
        const double limit = 0.999 * static_cast<double>(std::numeric_limits<int32_t>::max());
        const double needed = std::fabs(static_cast<double>(b[c])) / (in_scale * limit);
        if (static_cast<double>(s) < needed) {
          s = static_cast<float>(needed);
          raised = true;
        }
      }
      if (raised) {
        q = quantize_weights_scaled(w, axis, scales);
        notes.push_back(g_.describe_op(index) + ": weight scales raised so that the int32 bias fits");
      }
    }
    *w_scales = q.quant.scales;
    q.name = const_name(op.inputs[1]);
    return out_.add_tensor(std::move(q));
  }

  // Bias: int32, scale = input scale x weight scale (per channel with per-channel weights).
  TensorId add_bias(const ir::Op& op, const std::vector<float>& w_scales) {
    const ir::Tensor& b = g_.tensor(op.inputs[2]);
    const float in_scale = need_params(op.inputs[0]).scale;
    const auto n = static_cast<std::size_t>(b.shape.num_elements());
    ir::Buffer data = ir::Buffer::allocate(n * sizeof(int32_t));
    auto* q = reinterpret_cast<int32_t*>(data.mutable_data());
    std::vector<float> scales(w_scales.size() == 1 ? 1 : n);
    for (std::size_t c = 0; c < scales.size(); ++c) scales[c] = in_scale * w_scales[c];
    const float* x = b.data.as<float>();
    for (std::size_t c = 0; c < n; ++c) {
      const double v = std::round(static_cast<double>(x[c]) / static_cast<double>(scales[scales.size() == 1 ? 0 : c]));
      q[c] = static_cast<int32_t>(std::min(std::max(v, -2147483648.0), 2147483647.0));
    }
    ir::Quantization quant = scales.size() == 1 ? ir::Quantization::per_tensor(scales[0], 0) : ir::Quantization::along(0, scales);
    return add(const_name(op.inputs[2]), DType::kInt32, b.shape, std::move(quant), std::move(data));
  }

  const ir::Graph& g_;
  const ConvertOptions& o_;
  const RangeSource& ranges_;
  const std::vector<bool>& int8_;
  ir::Graph out_;
  std::vector<Rep> rep_;
  std::vector<std::optional<QuantParams>> params_;
};

// Full integer: calibrate, choose the int8 ops, build, confirm each int8 op with the runtime (an op
// the runtime cannot run quantized goes back to float with its reason), build again.
inline Result<Conversion> convert_full_integer(const ir::Graph& model, const ConvertOptions& o) {
  Conversion out;
  out.summary.mode = o.mode;
  out.summary.constant_bytes_before = constant_bytes(model);
  ir::Graph g = model;
  FakeQuantRanges fq = fold_fake_quant(g);  // tensor ids stay those of `model`
  for (const auto& r : fq.by_tensor) {
    const ir::Attributes& a = r.second;
    if (a.num_bits < 2 || a.num_bits > 8 || !(a.clip_min < a.clip_max)) {
      return unimplemented("converter: the FakeQuant of " + g.describe_tensor(r.first) + " has " + std::to_string(a.num_bits) +
                           " bits and range [" + std::to_string(a.clip_min) + ", " + std::to_string(a.clip_max) +
                           "]; int8 conversion takes 2 to 8 bits and min < max");
    }
  }

  RangeSource ranges;
  ranges.fake_quant = &fq;
  std::optional<Calibration> calibration;
  if (o.representative_dataset != nullptr) {
    CalibrateOptions c;
    c.observer = o.calibration;
    c.max_samples = o.calibration_samples;
    c.progress = o.progress;
    c.interpreter = o.interpreter;
    PTQ_ASSIGN_OR_RETURN(calibration, calibrate(model, *o.representative_dataset, c));
    ranges.calibration = &*calibration;
    out.summary.calibration_samples = calibration->samples();
  } else if (fq.by_tensor.empty()) {
    return failed_precondition("converter: full-integer conversion needs a representative dataset to calibrate on "
                               "(or a quantization-aware model whose FakeQuant ops give the ranges)");
  }
  if (!o.input_stats.empty()) {
    if (o.input_stats.size() != g.inputs.size()) {
      return invalid_argument("converter: " + std::to_string(o.input_stats.size()) + " input statistics for " +
                              std::to_string(g.inputs.size()) + " inputs");
    }
    for (std::size_t i = 0; i < g.inputs.size(); ++i) {
      const InputStats& st = o.input_stats[i];
      if (!(st.std_dev > 0.0f) || !std::isfinite(st.std_dev) || !(st.mean >= 0.0f && st.mean <= 255.0f)) {
        return invalid_argument("converter: input statistics of " + g.describe_tensor(g.inputs[i]) + ": mean " +
                                std::to_string(st.mean) + ", std_dev " + std::to_string(st.std_dev) +
                                "; expected a mean in [0, 255] and a positive std_dev (real = (q - mean) / std_dev)");
      }
      // uint8 q = real * std_dev + mean: scale 1 / std_dev, zero point mean; int8 is 128 lower.
      ranges.fixed[g.inputs[i]] = {1.0f / st.std_dev, static_cast<int32_t>(std::lround(st.mean)) - 128};
    }
  }

  // First choice: every op with an int8 kernel whose tensors have ranges.
  const std::size_t n = g.ops.size();
  std::vector<bool> int8(n, false);
  std::vector<std::string> reason(n);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Op& op = g.ops[i];
    if (kept_float(g, op, o.keep_float)) {
      reason[i] = "kept float (keep_float)";
      continue;
    }
    if (!has_int8_kernel(op.kind)) {
      reason[i] = std::string("no int8 kernel for ") + ir::op_kind_name(op.kind) +
                  (op.kind == OpKind::kLstm
                       ? " (the interpreter runs TFLite's integer LSTM from .tflite files; the converter does not yet "
                         "calibrate its cell state and hidden intermediate)"
                       : is_recurrent(op.kind) ? " (no full-integer kernel for this recurrent op)" : "");
      continue;
    }
    const bool fixed_or_tied = ir::fixed_output_params(op.kind, DType::kInt8).has_value() || tied_input(op.kind) >= 0;
    std::string missing;
    for (TensorId id : op.inputs) {
      if (id == ir::kNoTensor || g.tensor(id).is_constant() || g.tensor(id).dtype != DType::kFloat32) continue;
      if (!ranges.params(id)) missing = g.describe_tensor(id);
    }
    for (TensorId id : op.outputs) {
      if (!fixed_or_tied && !ranges.params(id)) missing = g.describe_tensor(id);
    }
    if (!missing.empty()) {
      reason[i] = "no range for " + missing + " (no calibration sample or FakeQuant reached it)";
      continue;
    }
    int8[i] = true;
  }

  IntegerRewriter rewriter(g, o, ranges, int8);
  ir::Graph built;
  for (std::size_t round = 0;; ++round) {
    PTQ_ASSIGN_OR_RETURN(built, rewriter.build());
    bool changed = false;
    for (std::size_t k = 0; k < built.ops.size(); ++k) {
      const int src = rewriter.origin[k];
      if (src < 0 || !int8[static_cast<std::size_t>(src)]) continue;
      const Status probe = probe_op(built, static_cast<int>(k));
      if (probe.ok()) continue;
      if (probe.code() != StatusCode::kUnimplemented || round > n) {
        return internal_error("converter: the runtime rejects the quantized " + probe.message());
      }
      int8[static_cast<std::size_t>(src)] = false;
      reason[static_cast<std::size_t>(src)] = "no int8 kernel for this form: " + strip_op_prefix(probe.message());
      changed = true;
    }
    if (!changed) break;
  }

  if (o.integer_only) {
    std::string blocking;
    int count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (int8[i]) continue;
      ++count;
      blocking += "\n  " + g.describe_op(static_cast<int>(i)) + ": " + reason[i];
    }
    if (count > 0) {
      return unimplemented("converter: integer-only conversion: " + std::to_string(count) + " op" + (count > 1 ? "s" : "") +
                           " cannot run int8:" + blocking);
    }
  }

  for (std::size_t i = 0; i < n; ++i) {
    out.summary.ops.push_back({static_cast<int>(i), model.describe_op(static_cast<int>(i)), int8[i] ? "int8" : "float", reason[i]});
  }
  out.summary.notes = rewriter.notes;
  if (o.hybrid_fallback) {
    // The float ops left in the built graph are the fallback ones (int8 ops hold int8 weights).
    PTQ_ASSIGN_OR_RETURN(Conversion hybrid, convert_dynamic_range(built, o));
    for (std::size_t k = 0; k < built.ops.size(); ++k) {
      const int src = rewriter.origin[k];
      if (src >= 0 && hybrid.summary.ops[k].form == "hybrid") out.summary.ops[static_cast<std::size_t>(src)].form = "hybrid";
    }
    built = std::move(hybrid.graph);
  }
  out.graph = std::move(built);
  out.summary.constant_bytes_after = constant_bytes(out.graph);
  return out;
}

}  // namespace detail

// Converts `float_model` as `options` say. The result runs in runtime::Interpreter (checked).
inline Result<Conversion> convert(const ir::Graph& float_model, const ConvertOptions& options) {
  PTQ_ASSIGN_OR_RETURN(ir::Graph g, detail::normalized_float_model(float_model));
  const bool integer = options.mode == Mode::kFullInteger;
  if (!integer && (options.input_type != IoType::kFloat32 || options.output_type != IoType::kFloat32)) {
    return invalid_argument(std::string("converter: ") + io_type_name(options.input_type) + " / " +
                            io_type_name(options.output_type) + " inputs and outputs need full-integer mode, not " +
                            mode_name(options.mode));
  }
  if (!integer && (options.integer_only || !options.input_stats.empty())) {
    return invalid_argument(std::string("converter: integer_only and input_stats need full-integer mode, not ") +
                            mode_name(options.mode));
  }
  if (!integer) {
    for (const ir::Op& op : g.ops) {
      if (op.kind == ir::OpKind::kFakeQuant) {
        return unimplemented(std::string("converter: the model has FakeQuant ops (quantization-aware training); convert it "
                                          "in full-integer mode, not ") + mode_name(options.mode));
      }
    }
  }
  if (options.min_weight_elements < 0) return invalid_argument("converter: min_weight_elements is negative");
  Result<Conversion> r = options.mode == Mode::kFullInteger  ? detail::convert_full_integer(g, options)
                         : options.mode == Mode::kDynamicRange ? detail::convert_dynamic_range(g, options)
                                                               : detail::convert_constants(g, options);
  if (!r.ok()) return r;
  Result<runtime::Interpreter> check = runtime::Interpreter::create(r->graph, options.interpreter);
  if (!check.ok()) return internal_error("converter: the converted model does not run: " + check.status().message());
  return r;
}

}  // namespace convert
PTQ_NAMESPACE_END
