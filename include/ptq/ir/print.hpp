// ir/print.hpp: a graph as readable text -- what `ptq inspect` and the examples print.
//
//   std::fputs(ir::to_text(graph).c_str(), stdout);
//
//   graph 'cnn': 23 tensors, 9 ops, 15.2 KB of constants
//   tensors:
//     %0 'image'          float32  [1, 28, 28, 1]   graph input
//     %3 'c1/w'           int8     [16, 3, 3, 1]    constant 144 B  per axis 0: 16 scales in [0.0021, 0.0093], zero points 0
//     %5 'c1:0'           int8     [1, 28, 28, 16]  scale 0.0235 zero point -128
//   ops:
//     op 0 'c1' (Conv2D)  in: %1, %3, %4  out: %5  padding=SAME, activation=RELU
//
// Attributes are listed when they differ from their defaults (ir::visit_attributes, the one list
// the file format and the validator share).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/ir/graph.hpp"

PTQ_NAMESPACE_BEGIN
namespace ir {

namespace print_detail {

inline std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
inline std::string value_text(bool v) { return v ? "true" : "false"; }
inline std::string value_text(float v) { return number(v); }
inline std::string value_text(int32_t v) { return std::to_string(v); }
inline std::string value_text(Padding v) { return v == Padding::kSame ? "SAME" : "VALID"; }
inline std::string value_text(FusedActivation v) { return fused_activation_name(v); }
inline std::string value_text(RecurrentActivation v) {
  return v == RecurrentActivation::kTanh ? "tanh" : v == RecurrentActivation::kRelu ? "relu" : "sigmoid";
}
template <class T>
std::string value_text(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
  return s + "]";
}

inline std::string bytes_text(std::size_t n) {
  if (n >= (1u << 20)) return number(static_cast<double>(n) / (1 << 20)) + " MB";
  if (n >= (1u << 10)) return number(static_cast<double>(n) / (1 << 10)) + " KB";
  return std::to_string(n) + " B";
}

inline std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace print_detail

// "%7 'conv1/w'" (or "-" for an absent optional input).
inline std::string tensor_ref(const Graph& g, TensorId id) {
  if (id == kNoTensor) return "-";
  return "%" + std::to_string(id) + " '" + g.tensor(id).name + "'";
}

// "scale 0.0235 zero point -128", "per axis 0: 16 scales in [a, b], zero points 0", or "".
inline std::string quantization_text(const Quantization& q) {
  using print_detail::number;
  if (q.empty()) return "";
  if (q.is_per_tensor()) return "scale " + number(q.scales[0]) + " zero point " + std::to_string(q.zero_points.at(0));
  const auto [lo, hi] = std::minmax_element(q.scales.begin(), q.scales.end());
  const bool zero = std::all_of(q.zero_points.begin(), q.zero_points.end(), [](int32_t z) { return z == 0; });
  return "per axis " + std::to_string(q.axis) + ": " + std::to_string(q.scales.size()) + " scales in [" + number(*lo) +
         ", " + number(*hi) + "], zero points " + (zero ? "0" : "varying");
}

// Op attributes that differ from the defaults: "stride_h=2, padding=SAME".
inline std::string attributes_text(const Attributes& a) {
  const Attributes defaults;
  std::string s;
  visit_attributes(
      [&](int, const char* name, const auto& value, const auto& dflt) {
        if (!(value == dflt)) s += (s.empty() ? "" : ", ") + std::string(name) + "=" + print_detail::value_text(value);
      },
      a, defaults);
  return s;
}

inline std::string to_text(const Graph& g) {
  using print_detail::pad;
  std::size_t constant_bytes = 0;
  for (const Tensor& t : g.tensors) constant_bytes += t.is_constant() ? t.data.size() : 0;
  std::string s = "graph '" + g.name + "': " + std::to_string(g.tensor_count()) + " tensors, " + std::to_string(g.op_count()) +
                  " ops, " + print_detail::bytes_text(constant_bytes) + " of constants\n";
  std::size_t name_width = 0, shape_width = 0;
  for (int i = 0; i < g.tensor_count(); ++i) {
    name_width = std::max(name_width, tensor_ref(g, i).size());
    shape_width = std::max(shape_width, g.tensor(i).shape.to_string().size());
  }
  s += "tensors:\n";
  for (int i = 0; i < g.tensor_count(); ++i) {
    const Tensor& t = g.tensor(i);
    std::string role;
    if (t.is_constant()) role = "constant " + print_detail::bytes_text(t.data.size());
    for (TensorId id : g.inputs) role = id == i ? "graph input" : role;
    for (TensorId id : g.outputs) role = id == i ? "graph output" : role;
    std::string line = "  " + pad(tensor_ref(g, i), name_width) + "  " + pad(dtype_name(t.dtype), 8) + " " +
                       pad(t.shape.to_string(), shape_width) + "  " + pad(role, 16);
    const std::string q = quantization_text(t.quant);
    if (!q.empty()) line += "  " + q;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  s += "ops:\n";
  for (int i = 0; i < g.op_count(); ++i) {
    const Op& op = g.ops[static_cast<std::size_t>(i)];
    std::string ins, outs;
    for (TensorId id : op.inputs) ins += (ins.empty() ? "" : ", ") + tensor_ref(g, id);
    for (TensorId id : op.outputs) outs += (outs.empty() ? "" : ", ") + tensor_ref(g, id);
    s += "  " + g.describe_op(i) + "\n      in:  " + ins + "\n      out: " + outs + "\n";
    const std::string attrs = attributes_text(op.attrs);
    if (!attrs.empty()) s += "      attrs: " + attrs + "\n";
  }
  return s;
}

}  // namespace ir
PTQ_NAMESPACE_END
