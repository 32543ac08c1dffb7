// ir/shape_inference.hpp: each op's output shapes from its input shapes and attributes, and the
// op signatures (how many inputs and outputs each kind takes).
//
//   Result<std::vector<Shape>> s = infer_output_shapes(graph, op_index);  // one op
//   Status st = infer_shapes(graph);   // every op in order, writing the outputs' shapes
//
// The rules are the OpKind table's in graph.hpp (TFLite's semantics: SAME/VALID output sizes from
// core/nn.hpp, numpy broadcasting for binary ops and BatchMatMul's batch dims, Reshape with one
// -1). Errors name the op and the offending tensor or attribute.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"

PTQ_NAMESPACE_BEGIN
namespace ir {

// How many inputs and outputs an op kind takes (inputs may include absent optional ones).
struct OpSignature {
  int min_inputs = 1, max_inputs = 1;
  int outputs = 1;
};

inline OpSignature op_signature(OpKind kind, const Attributes& a) {
  constexpr int kMany = 1 << 16;
  const int dirs = a.bidirectional ? 2 : 1;
  switch (kind) {
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kFullyConnected: return {2, 3, 1};
    case OpKind::kBatchMatMul:
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kEmbeddingLookup: return {2, 2, 1};
    case OpKind::kConcatenation: return {1, kMany, 1};
    case OpKind::kRnn:
    case OpKind::kGru: return {1 + 3 * dirs, 1 + 4 * dirs, 1};
    case OpKind::kLstm: return {1 + 3 * dirs, 1 + 5 * dirs, 1};
    default: return {1, 1, 1};
  }
}

namespace detail {

inline Status shape_error(const Graph& g, int op_index, const std::string& message) {
  return invalid_argument(g.describe_op(op_index) + ": " + message);
}

inline Result<Shape> broadcast_shapes(const Graph& g, int op_index, const Shape& a, const Shape& b,
                                      int skip_trailing = 0) {
  const int ra = a.rank() - skip_trailing, rb = b.rank() - skip_trailing;
  const int rank = ra > rb ? ra : rb;
  std::vector<int64_t> dims(static_cast<std::size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    const int ia = ra - rank + i, ib = rb - rank + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      return shape_error(g, op_index, "shapes " + a.to_string() + " and " + b.to_string() + " do not broadcast");
    }
    dims[static_cast<std::size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::move(dims));
}

inline int normalize_axis(int axis, int rank) { return axis < 0 ? axis + rank : axis; }

}  // namespace detail

// The output shapes of op `op_index` from its inputs' current shapes. Assumes tensor ids in range
// (validate() checks that first).
inline Result<std::vector<Shape>> infer_output_shapes(const Graph& g, int op_index) {
  const Op& op = g.ops.at(static_cast<std::size_t>(op_index));
  const Attributes& a = op.attrs;
  const auto err = [&](const std::string& m) { return detail::shape_error(g, op_index, m); };
  const OpSignature sig = op_signature(op.kind, a);
  const int n_in = static_cast<int>(op.inputs.size());
  if (n_in < sig.min_inputs || n_in > sig.max_inputs) {
    return err("takes " + std::to_string(sig.min_inputs) +
               (sig.max_inputs != sig.min_inputs ? " to " + std::to_string(sig.max_inputs) : std::string()) +
               " inputs, has " + std::to_string(n_in));
  }
  if (static_cast<int>(op.outputs.size()) != sig.outputs) {
    return err("takes " + std::to_string(sig.outputs) + " outputs, has " + std::to_string(op.outputs.size()));
  }
  for (int i = 0; i < sig.min_inputs; ++i) {
    if (op.inputs[static_cast<std::size_t>(i)] == kNoTensor) return err("required input " + std::to_string(i) + " is absent");
  }
  const auto in = [&](int i) -> const Shape& { return g.tensor(op.inputs[static_cast<std::size_t>(i)]).shape; };
  const auto in_name = [&](int i) { return "input " + std::to_string(i) + " " + g.describe_tensor(op.inputs[static_cast<std::size_t>(i)]); };
  const auto need_rank = [&](int i, int rank) -> Status {
    if (in(i).rank() != rank) {
      return err(in_name(i) + " has shape " + in(i).to_string() + "; expected rank " + std::to_string(rank));
    }
    return Status();
  };
  const auto one = [](Shape s) { return std::vector<Shape>{std::move(s)}; };

  switch (op.kind) {
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kAveragePool2D:
    case OpKind::kMaxPool2D: {
      PTQ_RETURN_IF_ERROR(need_rank(0, 4));
      if (a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1) {
        return err("strides and dilations must be >= 1");
      }
      const Shape& x = in(0);
      int64_t kh = a.filter_h, kw = a.filter_w, out_c = x[3];
      if (op.kind == OpKind::kConv2D || op.kind == OpKind::kDepthwiseConv2D) {
        PTQ_RETURN_IF_ERROR(need_rank(1, 4));
        const Shape& w = in(1);
        kh = w[1];
        kw = w[2];
        if (op.kind == OpKind::kConv2D) {
          out_c = w[0];
          if (w[3] < 1 || x[3] % w[3] != 0) {
            return err(in_name(1) + " has " + std::to_string(w[3]) + " input channels, which do not divide the input's " +
                       std::to_string(x[3]));
          }
        } else {
          out_c = w[3];
          if (w[0] != 1) return err(in_name(1) + " must have shape [1, KH, KW, C * depth_multiplier], has " + w.to_string());
          if (a.depth_multiplier < 1 || out_c != x[3] * a.depth_multiplier) {
            return err(in_name(1) + " has " + std::to_string(out_c) + " channels; expected input channels " +
                       std::to_string(x[3]) + " * depth_multiplier " + std::to_string(a.depth_multiplier));
          }
        }
        if (n_in > 2 && op.inputs[2] != kNoTensor && (in(2).rank() != 1 || in(2)[0] != out_c)) {
          return err(in_name(2) + " (bias) has shape " + in(2).to_string() + "; expected [" + std::to_string(out_c) + "]");
        }
      }
      if (kh < 1 || kw < 1) return err("filter size must be >= 1");
      const ConvPadding p = compute_padding(a.padding, x[1], x[2], kh, kw, a.stride_h, a.stride_w,
                                            op.kind == OpKind::kConv2D || op.kind == OpKind::kDepthwiseConv2D ? a.dilation_h : 1,
                                            op.kind == OpKind::kConv2D || op.kind == OpKind::kDepthwiseConv2D ? a.dilation_w : 1);
      return one(Shape{x[0], p.output_height, p.output_width, out_c});
    }
    case OpKind::kFullyConnected: {
      const Shape& x = in(0);
      PTQ_RETURN_IF_ERROR(need_rank(1, 2));
      const Shape& w = in(1);
      const int64_t depth = w[1];
      if (x.rank() < 1 || depth <= 0 || x.num_elements() % depth != 0 || (a.keep_num_dims && x[x.rank() - 1] != depth)) {
        return err(in_name(0) + " of shape " + x.to_string() + " does not match the weights' depth " + std::to_string(depth));
      }
      if (n_in > 2 && op.inputs[2] != kNoTensor && (in(2).rank() != 1 || in(2)[0] != w[0])) {
        return err(in_name(2) + " (bias) has shape " + in(2).to_string() + "; expected [" + std::to_string(w[0]) + "]");
      }
      if (a.keep_num_dims) {
        std::vector<int64_t> d = x.dims();
        d.back() = w[0];
        return one(Shape(std::move(d)));
      }
      return one(Shape{x.num_elements() / depth, w[0]});
    }
    case OpKind::kBatchMatMul: {
      const Shape &x = in(0), &y = in(1);
      if (x.rank() < 2 || y.rank() < 2) return err("both inputs need rank >= 2");
      const int64_t m = a.adj_x ? x[x.rank() - 1] : x[x.rank() - 2];
      const int64_t kx = a.adj_x ? x[x.rank() - 2] : x[x.rank() - 1];
      const int64_t ky = a.adj_y ? y[y.rank() - 1] : y[y.rank() - 2];
      const int64_t n = a.adj_y ? y[y.rank() - 2] : y[y.rank() - 1];
      if (kx != ky) return err("inner dimensions differ: " + x.to_string() + " x " + y.to_string());
      Result<Shape> batch = detail::broadcast_shapes(g, op_index, x, y, 2);
      if (!batch.ok()) return batch.status();
      std::vector<int64_t> d = batch->dims();
      d.push_back(m);
      d.push_back(n);
      return one(Shape(std::move(d)));
    }
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul: {
      Result<Shape> s = detail::broadcast_shapes(g, op_index, in(0), in(1));
      if (!s.ok()) return s.status();
      return one(std::move(s).value());
    }
    case OpKind::kMean: {
      const Shape& x = in(0);
      std::vector<bool> reduced(static_cast<std::size_t>(x.rank()), false);
      for (int32_t ax : a.axes) {
        const int axis = detail::normalize_axis(ax, x.rank());
        if (axis < 0 || axis >= x.rank()) return err("axis " + std::to_string(ax) + " is out of range for " + x.to_string());
        reduced[static_cast<std::size_t>(axis)] = true;
      }
      std::vector<int64_t> d;
      for (int i = 0; i < x.rank(); ++i) {
        if (!reduced[static_cast<std::size_t>(i)]) d.push_back(x[i]);
        else if (a.keep_dims) d.push_back(1);
      }
      return one(Shape(std::move(d)));
    }
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kReluN1To1:
    case OpKind::kClip:
    case OpKind::kLeakyRelu:
    case OpKind::kHardSwish:
    case OpKind::kHardSigmoid:
    case OpKind::kLogistic:
    case OpKind::kTanh:
    case OpKind::kQuantize:
    case OpKind::kDequantize:
    case OpKind::kFakeQuant: return one(in(0));
    case OpKind::kSoftmax:
      if (in(0).rank() < 1) return err("softmax needs rank >= 1");
      return one(in(0));
    case OpKind::kReshape: {
      const int64_t total = in(0).num_elements();
      int64_t known = 1;
      int unknown = -1;
      std::vector<int64_t> d = a.new_shape;
      for (std::size_t i = 0; i < d.size(); ++i) {
        if (d[i] == -1 && unknown < 0) {
          unknown = static_cast<int>(i);
        } else if (d[i] < 0) {
          return err("new_shape has an invalid dimension " + std::to_string(d[i]));
        } else {
          known *= d[i];
        }
      }
      if (unknown >= 0) {
        if (known == 0 || total % known != 0) return err("cannot infer the -1 of new_shape for " + in(0).to_string());
        d[static_cast<std::size_t>(unknown)] = total / known;
      } else if (known != total) {
        return err("new_shape has " + std::to_string(known) + " elements; the input " + in(0).to_string() + " has " +
                   std::to_string(total));
      }
      return one(Shape(std::move(d)));
    }
    case OpKind::kFlatten: {
      const Shape& x = in(0);
      if (x.rank() < 1) return err("flatten needs rank >= 1");
      return one(Shape{x[0], x.flat_size(1, x.rank())});
    }
    case OpKind::kTranspose: {
      const Shape& x = in(0);
      if (static_cast<int>(a.perm.size()) != x.rank()) {
        return err("perm has " + std::to_string(a.perm.size()) + " entries for rank " + std::to_string(x.rank()));
      }
      std::vector<bool> seen(a.perm.size(), false);
      std::vector<int64_t> d;
      for (int32_t p : a.perm) {
        if (p < 0 || p >= x.rank() || seen[static_cast<std::size_t>(p)]) return err("perm is not a permutation");
        seen[static_cast<std::size_t>(p)] = true;
        d.push_back(x[p]);
      }
      return one(Shape(std::move(d)));
    }
    case OpKind::kConcatenation: {
      const Shape& x0 = in(0);
      const int axis = detail::normalize_axis(a.axis, x0.rank());
      if (axis < 0 || axis >= x0.rank()) return err("axis " + std::to_string(a.axis) + " is out of range for " + x0.to_string());
      std::vector<int64_t> d = x0.dims();
      for (int i = 1; i < n_in; ++i) {
        const Shape& xi = in(i);
        bool match = xi.rank() == x0.rank();
        for (int j = 0; match && j < x0.rank(); ++j) match = j == axis || xi[j] == x0[j];
        if (!match) return err(in_name(i) + " of shape " + xi.to_string() + " does not concatenate with " + x0.to_string());
        d[static_cast<std::size_t>(axis)] += xi[axis];
      }
      return one(Shape(std::move(d)));
    }
    case OpKind::kPad: {
      const Shape& x = in(0);
      if (static_cast<int>(a.paddings.size()) != 2 * x.rank()) {
        return err("paddings has " + std::to_string(a.paddings.size()) + " values; expected 2 * rank = " +
                   std::to_string(2 * x.rank()));
      }
      std::vector<int64_t> d = x.dims();
      for (int i = 0; i < x.rank(); ++i) {
        const int64_t before = a.paddings[static_cast<std::size_t>(2 * i)], after = a.paddings[static_cast<std::size_t>(2 * i + 1)];
        if (before < 0 || after < 0) return err("paddings must be >= 0");
        d[static_cast<std::size_t>(i)] += before + after;
      }
      return one(Shape(std::move(d)));
    }
    case OpKind::kEmbeddingLookup: {
      const Shape &ids = in(0), &table = in(1);
      if (table.rank() < 1) return err(in_name(1) + " (table) needs rank >= 1");
      std::vector<int64_t> d = ids.dims();
      for (int i = 1; i < table.rank(); ++i) d.push_back(table[i]);
      return one(Shape(std::move(d)));
    }
    case OpKind::kRnn:
    case OpKind::kLstm:
    case OpKind::kGru: {
      PTQ_RETURN_IF_ERROR(need_rank(0, 3));
      PTQ_RETURN_IF_ERROR(need_rank(2, 2));  // forward recurrent weights [G*H, H]
      const int64_t h = in(2)[1];
      const int gates = op.kind == OpKind::kLstm ? 4 : op.kind == OpKind::kGru ? 3 : 1;
      const int dirs = a.bidirectional ? 2 : 1;
      const Shape& x = in(0);
      for (int d = 0; d < dirs; ++d) {
        const int base = 1 + 3 * d;
        PTQ_RETURN_IF_ERROR(need_rank(base, 2));
        PTQ_RETURN_IF_ERROR(need_rank(base + 1, 2));
        if (in(base)[0] != gates * h || in(base)[1] != x[2]) {
          return err(in_name(base) + " has shape " + in(base).to_string() + "; expected [" + std::to_string(gates * h) + ", " +
                     std::to_string(x[2]) + "]");
        }
        if (in(base + 1)[0] != gates * h || in(base + 1)[1] != h) {
          return err(in_name(base + 1) + " has shape " + in(base + 1).to_string() + "; expected [" +
                     std::to_string(gates * h) + ", " + std::to_string(h) + "]");
        }
        const int64_t bias = (op.kind == OpKind::kGru ? 6 : gates) * h;
        if (in(base + 2).rank() != 1 || in(base + 2)[0] != bias) {
          return err(in_name(base + 2) + " (bias) has shape " + in(base + 2).to_string() + "; expected [" +
                     std::to_string(bias) + "]");
        }
      }
      return one(Shape{x[0], x[1], h * dirs});
    }
  }
  return err("unknown op kind");
}

// Runs infer_output_shapes on every op in order and writes the results into the output tensors.
inline Status infer_shapes(Graph& g) {
  for (int i = 0; i < g.op_count(); ++i) {
    Result<std::vector<Shape>> shapes = infer_output_shapes(g, i);
    if (!shapes.ok()) return shapes.status();
    const Op& op = g.ops[static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < op.outputs.size(); ++k) g.tensor(op.outputs[k]).shape = (*shapes)[k];
  }
  return Status();
}

}  // namespace ir
PTQ_NAMESPACE_END
