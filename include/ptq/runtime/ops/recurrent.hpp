// runtime/ops/recurrent.hpp: the interpreter's Rnn, Lstm, Gru (float and hybrid, uni- and bidirectional).
//
// The op contract is ir/graph.hpp's "Recurrent ops": inputs x, then {w, r, b} per direction, then the
// optional initial states {h0 (, c0)} per direction (absent or kNoTensor: zeros; trailing absent
// states may be left out of the input list); one output y. The weights' dtype picks the kernel:
// float32 weights run reference::recurrent_sequence, int8 weights (symmetric, per tensor or per axis
// 0) run reference::hybrid_recurrent_sequence (kernels/reference/recurrent.hpp states both exactly).
// x, the bias, the states and y are float32 in both. Attributes: time_major, bidirectional,
// recurrent_activation (Rnn's act and Lstm's cell activation; Gru accepts only tanh), cell_clip
// (Lstm only; Rnn and Gru ignore it), asymmetric_quantize_inputs (hybrid only). Prepare checks every
// dtype, shape and quantization against the sizes B, T, I (from x) and H (from the forward r),
// naming the tensor; run only gathers the pointers and calls the kernel, with the kernel's scratch
// from the interpreter.
//
// An Lstm whose x is int8 is TFLite's integer (8x8->16) LSTM (ir/graph.hpp, "Recurrent ops";
// kernels/reference/integer_lstm.hpp): prepare_integer_lstm checks x int8 per tensor, constant w
// [4H, I] and r [4H, H] int8 symmetric with one scale per gate, constant b int32 [4H], no initial
// states, unidirectional, tanh, y int8 [B, T, H] (time_major [T, B, H]) and the lstm_* attributes,
// then folds the zero points into the biases once.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ptq/kernels/reference/integer_lstm.hpp"
#include "ptq/kernels/reference/recurrent.hpp"
#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {
namespace detail {

// "forward input weights (w)" style names of the input slots, for messages about absent inputs.
inline std::string recurrent_slot_name(int64_t direction, const char* what) {
  return std::string(direction == 0 ? "forward " : "backward ") + what;
}

inline Status check_recurrent_tensor(const PrepareContext& ctx, int i, const Shape& expected, const char* layout) {
  const ir::Tensor& t = ctx.input(i);
  if (t.dtype != DType::kFloat32) {
    return ctx.unsupported(ctx.input_name(i) + " is " + dtype_name(t.dtype) + "; expected float32");
  }
  if (t.shape != expected) {
    return ctx.error(ctx.input_name(i) + " has shape " + t.shape.to_string() + "; expected " + expected.to_string() +
                     " (" + layout + ")");
  }
  return {};
}

// w or r of one direction: dtype (float32, or int8 for `hybrid`), shape and, for int8, symmetric
// per-tensor or per-row quantization. Appends the scales to `scales`.
inline Status check_recurrent_weights(const PrepareContext& ctx, int i, bool hybrid, const Shape& expected,
                                      const char* layout, std::vector<float>* scales) {
  const ir::Tensor& t = ctx.input(i);
  const DType want = hybrid ? DType::kInt8 : DType::kFloat32;
  if (t.dtype != want) {
    return ctx.unsupported(ctx.input_name(i) + " is " + dtype_name(t.dtype) + "; expected " + dtype_name(want) +
                           " like input 1 '" + ctx.input(1).name + "' (float32 weights: float op, int8: hybrid op)");
  }
  if (t.shape != expected) {
    return ctx.error(ctx.input_name(i) + " has shape " + t.shape.to_string() + "; expected " + expected.to_string() +
                     " (" + layout + ")");
  }
  if (!hybrid) return {};
  const ir::Quantization& q = t.quant;
  if (q.empty()) return ctx.error(ctx.input_name(i) + " is int8 without quantization parameters");
  if (q.is_per_axis()) {
    if (q.axis != 0) {
      return ctx.unsupported(ctx.input_name(i) + " is quantized along axis " + std::to_string(q.axis) +
                             "; hybrid recurrent ops take per-tensor or per-row (axis 0) scales");
    }
    if (static_cast<int64_t>(q.scales.size()) != expected[0]) {
      return ctx.error(ctx.input_name(i) + " has " + std::to_string(q.scales.size()) +
                       " scales along axis 0; expected " + std::to_string(expected[0]));
    }
  } else if (q.scales.size() != 1) {
    return ctx.error(ctx.input_name(i) + " has " + std::to_string(q.scales.size()) +
                     " scales without per_axis; expected 1 (per tensor)");
  }
  if (q.zero_points.size() != q.scales.size()) {
    return ctx.error(ctx.input_name(i) + " has " + std::to_string(q.scales.size()) + " scales but " +
                     std::to_string(q.zero_points.size()) + " zero points");
  }
  for (std::size_t k = 0; k < q.scales.size(); ++k) {
    if (q.zero_points[k] != 0) {
      return ctx.unsupported(ctx.input_name(i) + " has zero point " + std::to_string(q.zero_points[k]) + " at " +
                             std::to_string(k) + "; hybrid weights must be symmetric (zero point 0)");
    }
    if (!std::isfinite(q.scales[k]) || !(q.scales[k] > 0.0f)) {
      return ctx.error(ctx.input_name(i) + " has scale " + std::to_string(q.scales[k]) + " at " + std::to_string(k) +
                       "; expected a finite positive number");
    }
  }
  *scales = q.scales;
  return {};
}

// One scale per gate of an int8 integer-Lstm weight [4H, D]: per tensor, or per axis 0 with each
// gate's H rows sharing one scale (TFLite keeps one per-tensor scale per gate matrix).
inline Status integer_lstm_gate_scales(const PrepareContext& ctx, int i, const Shape& expected, float* scales) {
  const ir::Tensor& t = ctx.input(i);
  if (t.dtype != DType::kInt8) {
    return ctx.unsupported(ctx.input_name(i) + " is " + dtype_name(t.dtype) + "; the integer Lstm takes int8 weights");
  }
  if (t.shape != expected) {
    return ctx.error(ctx.input_name(i) + " has shape " + t.shape.to_string() + "; expected " + expected.to_string() +
                     " (4 gates i, f, g, o stacked)");
  }
  if (!t.is_constant()) return ctx.unsupported(ctx.input_name(i) + " is not a constant (its row sums are folded at prepare)");
  const ir::Quantization& q = t.quant;
  const int64_t H = expected[0] / 4;
  if (q.empty()) return ctx.error(ctx.input_name(i) + " is int8 without quantization parameters");
  if (q.is_per_axis() && (q.axis != 0 || static_cast<int64_t>(q.scales.size()) != expected[0])) {
    return ctx.unsupported(ctx.input_name(i) + " is quantized along axis " + std::to_string(q.axis) + " with " +
                           std::to_string(q.scales.size()) + " scales; expected one per row (axis 0) or per tensor");
  }
  if (!q.is_per_axis() && q.scales.size() != 1) {
    return ctx.error(ctx.input_name(i) + " has " + std::to_string(q.scales.size()) + " scales without per_axis");
  }
  for (int k = 0; k < 4; ++k) {
    const std::size_t first = q.is_per_axis() ? static_cast<std::size_t>(k * H) : 0;
    scales[k] = q.scales[first];
    for (int64_t n = 0; n < (q.is_per_axis() ? H : 1); ++n) {
      const std::size_t at = first + static_cast<std::size_t>(n);
      if (q.zero_points[at] != 0) {
        return ctx.unsupported(ctx.input_name(i) + " has zero point " + std::to_string(q.zero_points[at]) +
                               " at row " + std::to_string(at) + "; integer Lstm weights are symmetric");
      }
      if (q.scales[at] != scales[k]) {
        return ctx.unsupported(ctx.input_name(i) + ": row " + std::to_string(at) + "'s scale " +
                               std::to_string(q.scales[at]) + " differs from its gate's first row's " +
                               std::to_string(scales[k]) + " (TFLite's integer LSTM takes one scale per gate)");
      }
    }
  }
  return {};
}

inline Result<std::unique_ptr<PreparedOp>> prepare_integer_lstm(const PrepareContext& ctx) {
  const ir::Attributes& a = ctx.attrs();
  IntegerLstmParams p;
  p.time_major = a.time_major;
  p.rounding = ctx.options().rounding;
  if (a.bidirectional) return ctx.unsupported("the integer Lstm is unidirectional only (TFLite's)");
  if (a.recurrent_activation != ir::RecurrentActivation::kTanh) {
    return ctx.unsupported("the integer Lstm's cell activation is tanh (TFLite's integer kernel has no other)");
  }
  if (ctx.input_count() < 4 || ctx.input_count() > 6) {
    return ctx.error("has " + std::to_string(ctx.input_count()) + " inputs; expected x, w, r, b (and absent h0, c0)");
  }
  for (int k = 0; k < 4; ++k) {
    if (!ctx.has_input(k)) return ctx.error("input " + std::to_string(k) + " (x, w, r, b) is missing");
  }
  for (int k = 4; k < ctx.input_count(); ++k) {
    if (ctx.has_input(k)) {
      return ctx.unsupported(ctx.input_name(k) + ": the integer Lstm takes no initial state (h starts at the output "
                             "state's zero point, c at 0, as TFLite resets its variable tensors)");
    }
  }
  if (ctx.output_count() != 1) return ctx.error("has " + std::to_string(ctx.output_count()) + " outputs; expected 1");
  const ir::Tensor& x = ctx.input(0);
  if (x.shape.rank() != 3) {
    return ctx.error(ctx.input_name(0) + " has shape " + x.shape.to_string() + "; expected rank 3 " +
                     (p.time_major ? "[T, B, I] (time_major)" : "[B, T, I]"));
  }
  if (!x.quant.is_per_tensor()) return ctx.error(ctx.input_name(0) + " is int8 without per-tensor quantization");
  p.batches = p.time_major ? x.shape[1] : x.shape[0];
  p.time_steps = p.time_major ? x.shape[0] : x.shape[1];
  p.input_size = x.shape[2];
  const ir::Tensor& r = ctx.input(2);
  if (r.shape.rank() != 2 || r.shape[1] < 0 || r.shape[0] != 4 * r.shape[1]) {
    return ctx.error(ctx.input_name(2) + " has shape " + r.shape.to_string() + "; expected [4 * H, H]");
  }
  p.hidden_size = r.shape[1];
  const int64_t H = p.hidden_size;
  IntegerLstmScales s;
  s.input_scale = x.quant.scales[0];
  s.input_zero_point = x.quant.zero_points[0];
  PTQ_RETURN_IF_ERROR(integer_lstm_gate_scales(ctx, 1, Shape{4 * H, p.input_size}, s.input_weight_scales));
  PTQ_RETURN_IF_ERROR(integer_lstm_gate_scales(ctx, 2, Shape{4 * H, H}, s.recurrent_weight_scales));
  const ir::Tensor& b = ctx.input(3);
  if (b.dtype != DType::kInt32 || b.shape != Shape{4 * H} || !b.is_constant()) {
    return ctx.unsupported(ctx.input_name(3) + " is " + dtype_name(b.dtype) + " " + b.shape.to_string() +
                           (b.is_constant() ? "" : " (not constant)") + "; expected a constant int32 [4 * H]");
  }
  const ir::Tensor& y = ctx.output(0);
  const Shape y_shape = p.time_major ? Shape{p.time_steps, p.batches, H} : Shape{p.batches, p.time_steps, H};
  if (y.dtype != DType::kInt8 || y.shape != y_shape) {
    return ctx.unsupported(ctx.output_name(0) + " is " + dtype_name(y.dtype) + " " + y.shape.to_string() +
                           "; expected int8 " + y_shape.to_string());
  }
  s.state_scale = a.lstm_state_scale;
  s.state_zero_point = a.lstm_state_zero_point;
  s.hidden_scale = a.lstm_hidden_scale;
  s.hidden_zero_point = a.lstm_hidden_zero_point;
  s.cell_scale = a.lstm_cell_scale;
  s.cell_clip = a.cell_clip;
  const Status prepared = reference::integer_lstm_prepare(s, ctx.constant<int8_t>(1), ctx.constant<int8_t>(2),
                                                          ctx.constant<int32_t>(3), &p, ctx.what());
  if (!prepared.ok()) return prepared;
  const std::size_t scratch = reference::integer_lstm_scratch_bytes(p);
  return make_prepared_op(
      [p = std::move(p)](const RunContext& c) {
        reference::integer_lstm_sequence(p, c.in<int8_t>(0), c.in<int8_t>(1), c.in<int8_t>(2), c.out<int8_t>(),
                                         c.scratch);
      },
      scratch);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_recurrent(const PrepareContext& ctx, RecurrentCell cell) {
  const ir::Attributes& a = ctx.attrs();
  if (cell == RecurrentCell::kLstm && ctx.has_input(0) && ctx.input(0).dtype == DType::kInt8) {
    return prepare_integer_lstm(ctx);
  }
  RecurrentParams p;
  p.cell = cell;
  p.time_major = a.time_major;
  p.bidirectional = a.bidirectional;
  const int64_t directions = p.directions();
  const int states = cell == RecurrentCell::kLstm ? 2 : 1;
  const int weight_inputs = 1 + 3 * static_cast<int>(directions);
  const int max_inputs = weight_inputs + states * static_cast<int>(directions);
  const char* state_list = cell == RecurrentCell::kLstm ? "h0, c0" : "h0";

  // Attributes.
  const auto act = static_cast<uint8_t>(a.recurrent_activation);
  if (act > static_cast<uint8_t>(ir::RecurrentActivation::kSigmoid)) {
    return ctx.error("recurrent_activation = " + std::to_string(act) + " is not a known activation");
  }
  p.activation = static_cast<CellActivation>(act);
  if (cell == RecurrentCell::kGru && p.activation != CellActivation::kTanh) {
    return ctx.unsupported("recurrent_activation must be tanh for Gru (its candidate activation is fixed)");
  }
  if (cell == RecurrentCell::kLstm) {
    if (!std::isfinite(a.cell_clip) || a.cell_clip < 0.0f) {
      return ctx.error("cell_clip = " + std::to_string(a.cell_clip) + " must be finite and >= 0 (0: no clipping)");
    }
    p.cell_clip = a.cell_clip;
  }
  p.input_quantization =
      a.asymmetric_quantize_inputs ? HybridInputQuantization::kAsymmetric : HybridInputQuantization::kSymmetric;

  // Counts.
  if (ctx.input_count() < weight_inputs || ctx.input_count() > max_inputs) {
    return ctx.error("has " + std::to_string(ctx.input_count()) + " inputs; expected x, {w, r, b} per direction (" +
                     std::to_string(weight_inputs) + "), then up to " + std::to_string(max_inputs - weight_inputs) +
                     " optional initial states ({" + state_list + "} per direction)");
  }
  if (ctx.output_count() != 1) {
    return ctx.error("has " + std::to_string(ctx.output_count()) + " outputs; expected 1");
  }

  // x.
  if (!ctx.has_input(0)) return ctx.error("input 0 (x) is missing");
  const ir::Tensor& x = ctx.input(0);
  if (x.dtype != DType::kFloat32) {
    return ctx.unsupported(ctx.input_name(0) + " is " + dtype_name(x.dtype) +
                           "; recurrent ops run float32 activations (float or hybrid)");
  }
  if (x.shape.rank() != 3) {
    return ctx.error(ctx.input_name(0) + " has shape " + x.shape.to_string() + "; expected rank 3 " +
                     (p.time_major ? "[T, B, I] (time_major)" : "[B, T, I]"));
  }
  for (int k = 0; k < 3; ++k) {
    if (x.shape[k] < 0) return ctx.error(ctx.input_name(0) + " has a negative dimension: " + x.shape.to_string());
  }
  p.batches = p.time_major ? x.shape[1] : x.shape[0];
  p.time_steps = p.time_major ? x.shape[0] : x.shape[1];
  p.input_size = x.shape[2];

  // The forward w decides float or hybrid; the forward r gives H.
  for (int k = 1; k < weight_inputs; ++k) {
    const int64_t d = (k - 1) / 3;
    const char* const slots[] = {"input weights (w)", "recurrent weights (r)", "bias (b)"};
    const char* slot = slots[(k - 1) % 3];
    if (!ctx.has_input(k)) {
      return ctx.error("input " + std::to_string(k) + " (" + recurrent_slot_name(d, slot) + ") is missing; " +
                       op_kind_name(ctx.op().kind) + " requires it");
    }
  }
  const DType weight_dtype = ctx.input(1).dtype;
  if (weight_dtype != DType::kFloat32 && weight_dtype != DType::kInt8) {
    return ctx.unsupported(ctx.input_name(1) + " is " + dtype_name(weight_dtype) +
                           "; expected float32 (float op) or int8 (hybrid op)");
  }
  const bool hybrid = weight_dtype == DType::kInt8;
  const ir::Tensor& r0 = ctx.input(2);
  if (r0.shape.rank() != 2 || r0.shape[1] < 0) {
    return ctx.error(ctx.input_name(2) + " has shape " + r0.shape.to_string() + "; expected [" +
                     std::to_string(p.gates()) + " * H, H]");
  }
  p.hidden_size = r0.shape[1];
  const int64_t G = p.gates(), H = p.hidden_size, B = p.batches;
  const Shape w_shape{G * H, p.input_size}, r_shape{G * H, H}, b_shape{p.bias_size()}, state_shape{B, H};
  const std::string g = std::to_string(G);
  const std::string h_from = " with H = " + std::to_string(H) + ", the columns of input 2 '" + r0.name + "'";
  const std::string w_layout = "[" + g + " * H, I]" + h_from;
  const std::string r_layout = "[" + g + " * H, H]" + h_from;
  const std::string b_layout = cell == RecurrentCell::kGru ? "[6 * H]: w-side z, r, n then r-side z, r, n"
                                                           : "[" + g + " * H]";
  for (int64_t d = 0; d < directions; ++d) {
    const int base = 1 + 3 * static_cast<int>(d);
    PTQ_RETURN_IF_ERROR(
        check_recurrent_weights(ctx, base, hybrid, w_shape, w_layout.c_str(), &p.weight_scales[d].input));
    PTQ_RETURN_IF_ERROR(
        check_recurrent_weights(ctx, base + 1, hybrid, r_shape, r_layout.c_str(), &p.weight_scales[d].recurrent));
    PTQ_RETURN_IF_ERROR(check_recurrent_tensor(ctx, base + 2, b_shape, b_layout.c_str()));
  }
  for (int k = weight_inputs; k < ctx.input_count(); ++k) {
    if (!ctx.has_input(k)) continue;
    PTQ_RETURN_IF_ERROR(check_recurrent_tensor(ctx, k, state_shape, "[B, H]"));
  }

  // y.
  const ir::Tensor& y = ctx.output(0);
  if (y.dtype != DType::kFloat32) {
    return ctx.unsupported(ctx.output_name(0) + " is " + dtype_name(y.dtype) + "; expected float32");
  }
  const Shape y_shape = p.time_major ? Shape{p.time_steps, B, p.output_row()} : Shape{B, p.time_steps, p.output_row()};
  if (y.shape != y_shape) {
    return ctx.error(ctx.output_name(0) + " has shape " + y.shape.to_string() + "; expected " + y_shape.to_string() +
                     (p.time_major ? " ([T, B, H * directions])" : " ([B, T, H * directions])"));
  }

  const Status valid = hybrid ? p.validate_hybrid() : p.validate();
  if (!valid.ok()) return ctx.error(valid.message());

  const int input_count = ctx.input_count();
  const std::size_t scratch =
      hybrid ? reference::recurrent_hybrid_scratch_bytes(p) : reference::recurrent_scratch_bytes(p);
  const auto gather = [input_count, directions, states](const RunContext& c, auto* dirs) {
    using W = std::remove_cv_t<std::remove_pointer_t<decltype(dirs->input_weights)>>;
    const int weight_end = 1 + 3 * static_cast<int>(directions);
    for (int64_t d = 0; d < directions; ++d) {
      const int base = 1 + 3 * static_cast<int>(d);
      dirs[d].input_weights = c.in<W>(base);
      dirs[d].recurrent_weights = c.in<W>(base + 1);
      dirs[d].bias = c.in<float>(base + 2);
      const int h0 = weight_end + states * static_cast<int>(d);
      dirs[d].initial_hidden = h0 < input_count ? c.in<float>(h0) : nullptr;
      dirs[d].initial_cell = states == 2 && h0 + 1 < input_count ? c.in<float>(h0 + 1) : nullptr;
    }
  };
  if (hybrid) {
    return make_prepared_op(
        [p = std::move(p), gather](const RunContext& c) {
          RecurrentDirection<int8_t> dirs[2];
          gather(c, dirs);
          reference::hybrid_recurrent_sequence(p, c.in<float>(0), dirs, c.out<float>(), c.scratch);
        },
        scratch);
  }
  return make_prepared_op(
      [p = std::move(p), gather](const RunContext& c) {
        RecurrentDirection<float> dirs[2];
        gather(c, dirs);
        reference::recurrent_sequence(p, c.in<float>(0), dirs, c.out<float>(), c.scratch);
      },
      scratch);
}

}  // namespace detail

inline Result<std::unique_ptr<PreparedOp>> prepare_rnn(const PrepareContext& ctx) {
  return detail::prepare_recurrent(ctx, RecurrentCell::kRnn);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_lstm(const PrepareContext& ctx) {
  return detail::prepare_recurrent(ctx, RecurrentCell::kLstm);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_gru(const PrepareContext& ctx) {
  return detail::prepare_recurrent(ctx, RecurrentCell::kGru);
}

}  // namespace runtime
PTQ_NAMESPACE_END
