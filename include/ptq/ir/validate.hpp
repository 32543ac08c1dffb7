// ir/validate.hpp: every structural problem of a graph, named by op and tensor.
//
//   std::vector<std::string> problems = find_problems(graph);   // all of them, in graph order
//   Status s = validate(graph);   // ok, or invalid_argument listing every problem, one per line
//
// Checks: tensor ids in range; op kinds known; each op's input/output counts; topological order
// (every input is a constant, a graph input or the output of an earlier op); every runtime
// tensor produced once and never overwritten (not a constant, not a graph input); graph inputs
// are runtime tensors, graph outputs are produced; tensor names unique; shapes non-negative;
// constants hold exactly byte_size() bytes; quantization well formed (finite positive scales,
// zero points in the dtype's range, per-axis counts match the axis dimension); quantized integer
// runtime tensors have quantization; declared output shapes equal the inferred ones; an integer
// (int8 x) Lstm's quantization attributes are well formed.
// Whether a dtype combination is supported by the interpreter is the interpreter's check.
#pragma once

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/ir/shape_inference.hpp"

PTQ_NAMESPACE_BEGIN
namespace ir {

namespace detail {

inline bool zero_point_fits(DType t, int32_t zp) {
  switch (t) {
    case DType::kInt8: return zp >= -128 && zp <= 127;
    case DType::kUInt8: return zp >= 0 && zp <= 255;
    case DType::kInt16: return zp >= -32768 && zp <= 32767;
    case DType::kInt4: return zp >= -8 && zp <= 7;
    default: return true;
  }
}

inline void check_tensor(const Graph& g, TensorId id, std::vector<std::string>& problems) {
  const Tensor& t = g.tensor(id);
  const std::string what = g.describe_tensor(id);
  for (int64_t d : t.shape.dims()) {
    if (d < 0) {
      problems.push_back(what + ": shape " + t.shape.to_string() + " has a negative dimension");
      return;
    }
  }
  if (dtype_name(t.dtype) == std::string("unknown")) problems.push_back(what + ": unknown dtype");
  if (t.is_constant() && t.data.size() != t.byte_size()) {
    problems.push_back(what + ": constant holds " + std::to_string(t.data.size()) + " bytes; " +
                       std::string(dtype_name(t.dtype)) + " " + t.shape.to_string() + " needs " +
                       std::to_string(t.byte_size()));
  }
  const Quantization& q = t.quant;
  if (q.empty()) return;
  if (q.zero_points.size() != q.scales.size()) {
    problems.push_back(what + ": " + std::to_string(q.scales.size()) + " scales but " +
                       std::to_string(q.zero_points.size()) + " zero points");
    return;
  }
  if (q.per_axis) {
    if (q.axis < 0 || q.axis >= t.shape.rank()) {
      problems.push_back(what + ": quantization axis " + std::to_string(q.axis) + " is out of range for shape " +
                         t.shape.to_string());
      return;
    }
    if (static_cast<int64_t>(q.scales.size()) != t.shape[q.axis]) {
      problems.push_back(what + ": " + std::to_string(q.scales.size()) + " scales along axis " + std::to_string(q.axis) +
                         " of shape " + t.shape.to_string());
    }
  } else if (q.scales.size() != 1) {
    problems.push_back(what + ": per-tensor quantization with " + std::to_string(q.scales.size()) + " scales");
  }
  for (std::size_t i = 0; i < q.scales.size(); ++i) {
    if (!std::isfinite(q.scales[i]) || !(q.scales[i] > 0.0f)) {
      problems.push_back(what + ": scale " + std::to_string(i) + " = " + std::to_string(q.scales[i]) +
                         " is not a finite positive number");
      break;
    }
    if (!zero_point_fits(t.dtype, q.zero_points[i])) {
      problems.push_back(what + ": zero point " + std::to_string(q.zero_points[i]) + " is outside the range of " +
                         dtype_name(t.dtype));
      break;
    }
  }
}

// The integer Lstm's quantization attributes (graph.hpp, "Recurrent ops"): finite positive scales,
// int8 zero points, and a cell scale that is a power of two in [2^-15, 2^-9].
inline void check_integer_lstm_attributes(const Op& op, const std::string& what, std::vector<std::string>& problems) {
  const Attributes& a = op.attrs;
  const auto scale = [&](float v, const char* name) {
    if (!std::isfinite(v) || !(v > 0.0f)) {
      problems.push_back(what + ": integer Lstm attribute " + name + " = " + std::to_string(v) +
                         " is not a finite positive scale");
    }
  };
  const auto zero_point = [&](int32_t z, const char* name) {
    if (z < -128 || z > 127) {
      problems.push_back(what + ": integer Lstm attribute " + name + " = " + std::to_string(z) +
                         " is outside int8's range");
    }
  };
  scale(a.lstm_state_scale, "lstm_state_scale");
  zero_point(a.lstm_state_zero_point, "lstm_state_zero_point");
  scale(a.lstm_hidden_scale, "lstm_hidden_scale");
  zero_point(a.lstm_hidden_zero_point, "lstm_hidden_zero_point");
  const float c = a.lstm_cell_scale;
  int exponent = 0;
  const float mantissa = std::isfinite(c) && c > 0.0f ? std::frexp(c, &exponent) : 0.0f;
  if (mantissa != 0.5f || exponent - 1 < -15 || exponent - 1 > -9) {
    problems.push_back(what + ": integer Lstm attribute lstm_cell_scale = " + std::to_string(c) +
                       " is not a power of two in [2^-15, 2^-9]");
  }
}

}  // namespace detail

inline std::vector<std::string> find_problems(const Graph& g) {
  std::vector<std::string> problems;
  const int n = g.tensor_count();
  const auto in_range = [&](TensorId id) { return id >= 0 && id < n; };

  std::set<std::string> names;
  for (TensorId id = 0; id < n; ++id) {
    const std::string& name = g.tensor(id).name;
    if (!name.empty() && !names.insert(name).second) {
      problems.push_back(g.describe_tensor(id) + ": the name is used by another tensor");
    }
    detail::check_tensor(g, id, problems);
  }

  // 0 = undefined, 1 = available (constant, graph input or produced).
  std::vector<char> defined(static_cast<std::size_t>(n), 0);
  for (TensorId id = 0; id < n; ++id) defined[static_cast<std::size_t>(id)] = g.tensor(id).is_constant() ? 1 : 0;
  for (TensorId id : g.inputs) {
    if (!in_range(id)) {
      problems.push_back("graph input " + std::to_string(id) + " is not a tensor");
      continue;
    }
    if (g.tensor(id).is_constant()) problems.push_back("graph input " + g.describe_tensor(id) + " is a constant");
    defined[static_cast<std::size_t>(id)] = 1;
  }

  for (int i = 0; i < g.op_count(); ++i) {
    const Op& op = g.ops[static_cast<std::size_t>(i)];
    const std::string what = g.describe_op(i);
    if (op_kind_name(op.kind) == nullptr) {
      problems.push_back(what + ": unknown op kind");
      continue;
    }
    bool ids_ok = true;
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      const TensorId id = op.inputs[k];
      if (id == kNoTensor) continue;
      if (!in_range(id)) {
        problems.push_back(what + ": input " + std::to_string(k) + " refers to tensor " + std::to_string(id) +
                           ", which does not exist");
        ids_ok = false;
      } else if (!defined[static_cast<std::size_t>(id)]) {
        problems.push_back(what + ": input " + std::to_string(k) + " " + g.describe_tensor(id) +
                           " is not a constant, a graph input or the output of an earlier op");
      }
    }
    for (std::size_t k = 0; k < op.outputs.size(); ++k) {
      const TensorId id = op.outputs[k];
      if (!in_range(id)) {
        problems.push_back(what + ": output " + std::to_string(k) + " refers to tensor " + std::to_string(id) +
                           ", which does not exist");
        ids_ok = false;
        continue;
      }
      const Tensor& t = g.tensor(id);
      if (t.is_constant()) {
        problems.push_back(what + ": output " + g.describe_tensor(id) + " is a constant");
      } else if (defined[static_cast<std::size_t>(id)]) {
        problems.push_back(what + ": output " + g.describe_tensor(id) + " is already a graph input or another op's output");
      }
      defined[static_cast<std::size_t>(id)] = 1;
      if (dtype_is_quantized_integer(t.dtype) && t.dtype != DType::kInt32 && t.quant.empty()) {
        problems.push_back(what + ": output " + g.describe_tensor(id) + " is " + dtype_name(t.dtype) +
                           " without quantization parameters");
      }
    }
    if (!ids_ok) continue;
    if (op.kind == OpKind::kLstm && !op.inputs.empty() && op.inputs[0] != kNoTensor &&
        g.tensor(op.inputs[0]).dtype == DType::kInt8) {
      detail::check_integer_lstm_attributes(op, what, problems);
    }
    Result<std::vector<Shape>> shapes = infer_output_shapes(g, i);
    if (!shapes.ok()) {
      problems.push_back(shapes.status().message());
      continue;
    }
    for (std::size_t k = 0; k < op.outputs.size(); ++k) {
      const Tensor& t = g.tensor(op.outputs[k]);
      if (t.shape != (*shapes)[k]) {
        problems.push_back(what + ": output " + g.describe_tensor(op.outputs[k]) + " is declared " + t.shape.to_string() +
                           "; the op produces " + (*shapes)[k].to_string());
      }
    }
  }
  for (TensorId id : g.inputs) {
    if (in_range(id) && dtype_is_quantized_integer(g.tensor(id).dtype) && g.tensor(id).dtype != DType::kInt32 &&
        g.tensor(id).quant.empty()) {
      problems.push_back("graph input " + g.describe_tensor(id) + " is " + dtype_name(g.tensor(id).dtype) +
                         " without quantization parameters");
    }
  }
  for (TensorId id : g.outputs) {
    if (!in_range(id)) {
      problems.push_back("graph output " + std::to_string(id) + " is not a tensor");
    } else if (!defined[static_cast<std::size_t>(id)]) {
      problems.push_back("graph output " + g.describe_tensor(id) + " is never produced");
    }
  }
  if (g.outputs.empty()) problems.push_back("the graph has no outputs");
  return problems;
}

inline Status validate(const Graph& g) {
  const std::vector<std::string> problems = find_problems(g);
  if (problems.empty()) return Status();
  std::string msg = "graph '" + g.name + "' has " + std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem:" : " problems:");
  for (const std::string& p : problems) msg += "\n  " + p;
  return invalid_argument(msg);
}

}  // namespace ir
PTQ_NAMESPACE_END
