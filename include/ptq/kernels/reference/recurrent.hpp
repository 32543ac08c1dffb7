// reference/recurrent.hpp: recurrent sequence ops -- basic RNN, LSTM and GRU run over a whole
// sequence, uni- or bidirectional -- in float and hybrid (int8 weights; float input, states, bias
// and output, the input and hidden rows quantized per row on the fly at every time step).
//
// TFLite: UNIDIRECTIONAL_SEQUENCE_RNN / BIDIRECTIONAL_SEQUENCE_RNN (kernel_utils::RnnBatchStep),
// UNIDIRECTIONAL_SEQUENCE_LSTM / BIDIRECTIONAL_SEQUENCE_LSTM (lstm_eval.cc: LstmStepFloat,
// LstmStepHybrid, CalculateLstmGate*, UpdateLstmCellFloat, CalculateLstmOutput*), without peephole,
// CIFG, layer norm, projection or auxiliary input. TFLite has no hybrid GRU; ptq's follows the RNN's
// and LSTM's hybrid scheme (below) with ONNX's GRU equations.
//
// Layouts. x [B, T, I] (time_major: [T, B, I]); y [B, T, D * H] (time_major: [T, B, D * H]) with D = 2
// when bidirectional, else 1: direction d writes columns [d * H, (d + 1) * H) of every output row.
// Direction 0 walks t = 0 .. T-1, direction 1 walks t = T-1 .. 0 and writes its output at t. Per
// direction, with G = 1 (RNN), 4 (LSTM), 3 (GRU) gates stacked along the rows:
//   w [G * H, I], r [G * H, H], b [H] (RNN), [4H] (LSTM), [6H] (GRU: the w-side 3H, then the r-side 3H);
//   h0, c0 [B, H] or null (zeros); c0 only for the LSTM.
//
// One step, for a block of batch rows (gates[b][n], n in [0, G * H)):
//   gates = b (per row: VectorBatchVectorAssign); gates += W x_t; gates += R h_{t-1}   (the products below)
//   RNN  (RnnBatchStep):  h = act(gates); y = h
//   LSTM (gate order i, f, g, o as TFLite's input, forget, cell, output):
//        i = sig(gates_i), f = sig(gates_f), g = act(gates_g), o = sig(gates_o)
//        c = f * c;  c = c + g * i;  c = max(min(clip, c), -clip) when cell_clip > 0 (CwiseClipping)
//        h = o * act(c); y = h
//   GRU  (ONNX, linear_before_reset = 1; Keras reset_after): gx = b_w + W x_t, gh = b_r + R h_{t-1},
//        each formed as the gates above; per unit j:
//        z = sig(gx_z + gh_z), r = sig(gx_r + gh_r), n = tanh(gx_n + r * gh_n), h = (1 - z) * n + z * h
// Every float expression is evaluated left to right as written, one rounding per operation (tests
// build with -ffp-contract=off).
//
// Products, accumulated into the float gates:
//   float  (PortableMatrixBatchVectorMultiplyAccumulate, float): gates[b][n] += dot, where
//          dot = sum_k w[n][k] * v[b][k] summed in float from 0.0f in increasing k.
//   hybrid (RnnBatchStep / CalculateLstmGateHybrid): if every float of the step's block of rows is
//          == 0.0f the product is skipped (IsZeroVector); else each row is quantized
//          (quantize_rows: symmetric, or asymmetric with a per-row zero point when
//          input_quantization is kAsymmetric) and hybrid_matrix_batch_vector_accumulate adds
//          float(sum_k w[n][k] * q[b][k] - row_sum[n] * zp[b]) * (row_scale[b] * w_scale[n]).
//          w_scale[n] is the matrix's one scale (per tensor; TFLite's only option) or its row n's
//          (per axis 0, ptq's extension; for the LSTM that also covers TFLite's one scale per gate).
//          x_t's block is quantized once per step and matrix, h_{t-1}'s likewise.
// Blocks, as TFLite iterates: time major, one step covers all B rows (the all-zero test spans
// them); batch major, each batch row runs its own sequence one row at a time.
//
// Activations (ApplyActivationToVector's portable definitions):
//   sig(v) = 1.0f / (1.0f + std::exp(-v)),  tanh(v) = std::tanh(v),  relu(v) = std::max(0.0f, v).
//   Deliberate difference: current TFLite builds evaluate sigmoid and tanh with Eigen's vectorized
//   rational approximations, whose last bits depend on the build; ptq uses the C library functions
//   above (TFLite's earlier portable code), so outputs can differ from TFLite's in the last bits of
//   each activation. Quantization and the integer products are TFLite's exactly.
//
// Scratch (caller-provided, recurrent_scratch_bytes / recurrent_hybrid_scratch_bytes): the state
// h [B, H] (and c [B, H]), the gates [B, G * H] (GRU: also gh [B, 3H]) and, for the hybrid kernel, the
// quantized rows [B, max(I, H)] with their scales and zero points [B]. The run functions never
// allocate; the input and weights are read only; initial states are copied, not updated.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/hybrid.hpp"

PTQ_NAMESPACE_BEGIN

enum class RecurrentCell : uint8_t { kRnn = 0, kLstm = 1, kGru = 2 };

inline const char* recurrent_cell_name(RecurrentCell c) {
  switch (c) {
    case RecurrentCell::kRnn: return "rnn";
    case RecurrentCell::kLstm: return "lstm";
    case RecurrentCell::kGru: return "gru";
  }
  return "unknown";
}

// The RNN's activation and the LSTM's cell activation (TfLiteFusedActivation kTfLiteActTanh,
// kTfLiteActRelu, kTfLiteActSigmoid). Numbered as ir::RecurrentActivation.
enum class CellActivation : uint8_t { kTanh = 0, kRelu = 1, kSigmoid = 2 };

// One direction's tensors, as raw pointers. W is float (float op) or int8_t (hybrid op).
template <class W>
struct RecurrentDirection {
  const W* input_weights = nullptr;      // w [G * H, I]
  const W* recurrent_weights = nullptr;  // r [G * H, H]
  const float* bias = nullptr;           // [H], [4H] or [6H]
  const float* initial_hidden = nullptr;  // h0 [B, H], or null: zeros
  const float* initial_cell = nullptr;    // LSTM c0 [B, H], or null: zeros
};

// Everything a recurrent sequence op needs besides its tensors, prepared once.
struct RecurrentParams {
  RecurrentCell cell = RecurrentCell::kRnn;
  int64_t batches = 1;     // B
  int64_t time_steps = 1;  // T
  int64_t input_size = 0;  // I
  int64_t hidden_size = 0;  // H
  bool time_major = false;
  bool bidirectional = false;
  CellActivation activation = CellActivation::kTanh;  // RNN's act, LSTM's g and act(c); GRU: unused
  float cell_clip = 0.0f;                             // LSTM: > 0 clips c to [-cell_clip, cell_clip]

  // Hybrid only: how x_t and h_{t-1} rows are quantized, and each direction's weight scales
  // (1 per tensor, or G * H per row).
  HybridInputQuantization input_quantization = HybridInputQuantization::kAsymmetric;
  struct WeightScales {
    std::vector<float> input;      // w's
    std::vector<float> recurrent;  // r's
  };
  WeightScales weight_scales[2];

  int64_t gates() const { return cell == RecurrentCell::kRnn ? 1 : (cell == RecurrentCell::kLstm ? 4 : 3); }
  int64_t gate_rows() const { return gates() * hidden_size; }
  int64_t bias_size() const { return cell == RecurrentCell::kGru ? 6 * hidden_size : gate_rows(); }
  int64_t directions() const { return bidirectional ? 2 : 1; }
  int64_t output_row() const { return directions() * hidden_size; }  // y's last dimension

  // What the float kernel assumes.
  Status validate() const {
    const std::string what = std::string("recurrent_sequence (") + recurrent_cell_name(cell) + ")";
    if (cell != RecurrentCell::kRnn && cell != RecurrentCell::kLstm && cell != RecurrentCell::kGru) {
      return invalid_argument(what + ": unknown cell kind " + std::to_string(static_cast<int>(cell)));
    }
    const struct {
      const char* name;
      int64_t value;
    } sizes[] = {{"batches", batches}, {"time_steps", time_steps}, {"input_size", input_size},
                 {"hidden_size", hidden_size}};
    for (const auto& s : sizes) {
      if (s.value < 0) return invalid_argument(what + ": " + s.name + " = " + std::to_string(s.value) + " is negative");
    }
    if (activation != CellActivation::kTanh && activation != CellActivation::kRelu &&
        activation != CellActivation::kSigmoid) {
      return invalid_argument(what + ": unknown activation " + std::to_string(static_cast<int>(activation)));
    }
    if (!std::isfinite(cell_clip) || cell_clip < 0.0f) {
      return invalid_argument(what + ": cell_clip = " + std::to_string(cell_clip) +
                              " must be finite and >= 0 (0: no clipping)");
    }
    return {};
  }

  // What the hybrid kernel assumes: validate() and 1 or G * H finite positive scales per matrix.
  Status validate_hybrid() const {
    PTQ_RETURN_IF_ERROR(validate());
    const std::string what = std::string("hybrid_recurrent_sequence (") + recurrent_cell_name(cell) + ")";
    for (int64_t d = 0; d < directions(); ++d) {
      const std::string dir = d == 0 ? " forward" : " backward";
      PTQ_RETURN_IF_ERROR(reference::detail::check_weight_scales(what + dir + " input weights",
                                                                 weight_scales[d].input, gate_rows()));
      PTQ_RETURN_IF_ERROR(reference::detail::check_weight_scales(what + dir + " recurrent weights",
                                                                 weight_scales[d].recurrent, gate_rows()));
    }
    return {};
  }
};

namespace reference {
namespace detail {

// Byte offsets of the scratch regions, each 64-byte aligned.
struct RecurrentScratchLayout {
  std::size_t hidden = 0, cell = 0, gates = 0, recurrent_gates = 0;  // float
  std::size_t row_scales = 0, row_zero_points = 0, quantized = 0;     // hybrid only
  std::size_t total = 0;
};

inline RecurrentScratchLayout recurrent_scratch_layout(const RecurrentParams& p, bool hybrid) {
  RecurrentScratchLayout l;
  std::size_t at = 0;
  const auto take = [&at](int64_t count, std::size_t element) {
    const std::size_t offset = at;
    at += (static_cast<std::size_t>(count) * element + 63) / 64 * 64;
    return offset;
  };
  const int64_t bh = p.batches * p.hidden_size;
  l.hidden = take(bh, sizeof(float));
  l.cell = take(p.cell == RecurrentCell::kLstm ? bh : 0, sizeof(float));
  l.gates = take(p.batches * p.gate_rows(), sizeof(float));
  l.recurrent_gates = take(p.cell == RecurrentCell::kGru ? p.batches * p.gate_rows() : 0, sizeof(float));
  if (hybrid) {
    l.row_scales = take(p.batches, sizeof(float));
    l.row_zero_points = take(p.batches, sizeof(int32_t));
    l.quantized = take(p.batches * std::max(p.input_size, p.hidden_size), sizeof(int8_t));
  }
  l.total = at;
  return l;
}

inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

inline float cell_activation(CellActivation a, float v) {
  switch (a) {
    case CellActivation::kTanh: return std::tanh(v);
    case CellActivation::kRelu: return std::max(0.0f, v);
    case CellActivation::kSigmoid: return sigmoid(v);
  }
  return v;
}

// gates[b][n] += sum_k w[n][k] * v[b][k], the dot summed in float from 0 in increasing k.
struct FloatProduct {
  void operator()(const float* w, const std::vector<float>& /*scales*/, int64_t rows, int64_t depth,
                  const float* v, int64_t nb, float* gates) const {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v_row = v + b * depth;
      for (int64_t n = 0; n < rows; ++n) {
        const float* w_row = w + n * depth;
        float dot = 0.0f;
        for (int64_t k = 0; k < depth; ++k) dot += w_row[k] * v_row[k];
        gates[b * rows + n] += dot;
      }
    }
  }
};

// The hybrid product: skip an all-zero block, else quantize its rows and accumulate (see header).
struct HybridProduct {
  HybridInputQuantization mode = HybridInputQuantization::kAsymmetric;
  int8_t* quantized = nullptr;  // [nb, depth]
  float* row_scales = nullptr;  // [nb]
  int32_t* row_zero_points = nullptr;

  void operator()(const int8_t* w, const std::vector<float>& scales, int64_t rows, int64_t depth, const float* v,
                  int64_t nb, float* gates) const {
    bool all_zero = true;  // tensor_utils::IsZeroVector
    for (int64_t i = 0; i < nb * depth && all_zero; ++i) all_zero = v[i] == 0.0f;
    if (all_zero) return;
    quantize_rows(v, nb, depth, mode, quantized, row_scales, row_zero_points);
    hybrid_matrix_batch_vector_accumulate(w, rows, depth, scales.data(), static_cast<int64_t>(scales.size()),
                                          quantized, row_scales, row_zero_points, nb, gates);
  }
};

// gates[b] = bias[0, n) for each of the nb rows (VectorBatchVectorAssign).
inline void assign_bias(const float* bias, int64_t n, int64_t nb, float* gates) {
  for (int64_t b = 0; b < nb; ++b) std::copy(bias, bias + n, gates + b * n);
}

// State and scratch pointers of one step; h, c point at the block's first batch row.
struct StepBuffers {
  float* h = nullptr;
  float* c = nullptr;
  float* gates = nullptr;
  float* recurrent_gates = nullptr;
};

// One time step for nb batch rows: x [nb, I] contiguous, y rows at y + b * y_stride.
template <class W, class Product>
void recurrent_step(const RecurrentParams& p, const RecurrentDirection<W>& dir,
                    const RecurrentParams::WeightScales& scales, const Product& product, const float* x,
                    int64_t nb, const StepBuffers& s, float* y, int64_t y_stride) {
  const int64_t H = p.hidden_size, I = p.input_size, N = p.gate_rows();
  if (p.cell == RecurrentCell::kGru) {
    assign_bias(dir.bias, N, nb, s.gates);
    product(dir.input_weights, scales.input, N, I, x, nb, s.gates);
    assign_bias(dir.bias + N, N, nb, s.recurrent_gates);
    product(dir.recurrent_weights, scales.recurrent, N, H, s.h, nb, s.recurrent_gates);
    for (int64_t b = 0; b < nb; ++b) {
      const float* gx = s.gates + b * N;
      const float* gh = s.recurrent_gates + b * N;
      for (int64_t j = 0; j < H; ++j) {
        const float z = sigmoid(gx[j] + gh[j]);
        const float r = sigmoid(gx[H + j] + gh[H + j]);
        const float n = std::tanh(gx[2 * H + j] + r * gh[2 * H + j]);
        const float h = (1.0f - z) * n + z * s.h[b * H + j];
        s.h[b * H + j] = h;
        y[b * y_stride + j] = h;
      }
    }
    return;
  }
  assign_bias(dir.bias, N, nb, s.gates);
  product(dir.input_weights, scales.input, N, I, x, nb, s.gates);
  product(dir.recurrent_weights, scales.recurrent, N, H, s.h, nb, s.gates);
  for (int64_t b = 0; b < nb; ++b) {
    const float* g = s.gates + b * N;
    for (int64_t j = 0; j < H; ++j) {
      float h;
      if (p.cell == RecurrentCell::kRnn) {
        h = cell_activation(p.activation, g[j]);
      } else {
        const float in = sigmoid(g[j]);
        const float forget = sigmoid(g[H + j]);
        const float cell_in = cell_activation(p.activation, g[2 * H + j]);
        const float out = sigmoid(g[3 * H + j]);
        float c = forget * s.c[b * H + j];
        c = c + cell_in * in;
        if (p.cell_clip > 0.0f) c = std::max(std::min(p.cell_clip, c), -p.cell_clip);
        s.c[b * H + j] = c;
        h = out * cell_activation(p.activation, c);
      }
      s.h[b * H + j] = h;
      y[b * y_stride + j] = h;
    }
  }
}

template <class W, class Product>
void recurrent_sequence_impl(const RecurrentParams& p, const float* x, const RecurrentDirection<W>* directions,
                             float* y, unsigned char* scratch, const RecurrentScratchLayout& l,
                             const Product& product) {
  const int64_t B = p.batches, T = p.time_steps, I = p.input_size, H = p.hidden_size;
  const int64_t y_row = p.output_row();
  float* hidden = reinterpret_cast<float*>(scratch + l.hidden);
  float* cell = reinterpret_cast<float*>(scratch + l.cell);
  float* gates = reinterpret_cast<float*>(scratch + l.gates);
  float* recurrent_gates = reinterpret_cast<float*>(scratch + l.recurrent_gates);
  for (int64_t d = 0; d < p.directions(); ++d) {
    const RecurrentDirection<W>& dir = directions[d];
    const RecurrentParams::WeightScales& scales = p.weight_scales[d];
    if (dir.initial_hidden != nullptr) {
      std::copy(dir.initial_hidden, dir.initial_hidden + B * H, hidden);
    } else {
      std::fill(hidden, hidden + B * H, 0.0f);
    }
    if (p.cell == RecurrentCell::kLstm) {
      if (dir.initial_cell != nullptr) {
        std::copy(dir.initial_cell, dir.initial_cell + B * H, cell);
      } else {
        std::fill(cell, cell + B * H, 0.0f);
      }
    }
    const int64_t column = d * H;
    const auto time_at = [&](int64_t step) { return d == 0 ? step : T - 1 - step; };
    if (p.time_major) {
      const StepBuffers s{hidden, cell, gates, recurrent_gates};
      for (int64_t step = 0; step < T; ++step) {
        const int64_t t = time_at(step);
        recurrent_step(p, dir, scales, product, x + t * B * I, B, s, y + t * B * y_row + column, y_row);
      }
    } else {
      for (int64_t b = 0; b < B; ++b) {
        const StepBuffers s{hidden + b * H, cell + b * H, gates, recurrent_gates};
        for (int64_t step = 0; step < T; ++step) {
          const int64_t t = time_at(step);
          recurrent_step(p, dir, scales, product, x + (b * T + t) * I, 1, s, y + (b * T + t) * y_row + column,
                         y_row);
        }
      }
    }
  }
}

}  // namespace detail

// Scratch bytes the float / hybrid kernel needs for p.
inline std::size_t recurrent_scratch_bytes(const RecurrentParams& p) {
  return detail::recurrent_scratch_layout(p, false).total;
}
inline std::size_t recurrent_hybrid_scratch_bytes(const RecurrentParams& p) {
  return detail::recurrent_scratch_layout(p, true).total;
}

// The float op. x, y as in the header; directions[p.directions()]; scratch: at least
// recurrent_scratch_bytes(p) bytes, 4-byte aligned. Preconditions: p.validate() is ok.
inline void recurrent_sequence(const RecurrentParams& p, const float* x, const RecurrentDirection<float>* directions,
                               float* y, void* scratch) {
  PTQ_DCHECK(p.hidden_size >= 0 && p.input_size >= 0 && p.batches >= 0 && p.time_steps >= 0,
             "recurrent_sequence: negative size (call validate())");
  const detail::RecurrentScratchLayout l = detail::recurrent_scratch_layout(p, false);
  detail::recurrent_sequence_impl(p, x, directions, y, static_cast<unsigned char*>(scratch), l,
                                  detail::FloatProduct{});
}

// The hybrid op: int8 weights with p.weight_scales, everything else float. scratch: at least
// recurrent_hybrid_scratch_bytes(p) bytes, 4-byte aligned. Preconditions: p.validate_hybrid() is ok.
inline void hybrid_recurrent_sequence(const RecurrentParams& p, const float* x,
                                      const RecurrentDirection<int8_t>* directions, float* y, void* scratch) {
  PTQ_DCHECK(!p.weight_scales[0].input.empty() && !p.weight_scales[0].recurrent.empty() &&
                 (!p.bidirectional || (!p.weight_scales[1].input.empty() && !p.weight_scales[1].recurrent.empty())),
             "hybrid_recurrent_sequence: missing weight scales (call validate_hybrid())");
  const detail::RecurrentScratchLayout l = detail::recurrent_scratch_layout(p, true);
  unsigned char* bytes = static_cast<unsigned char*>(scratch);
  detail::HybridProduct product;
  product.mode = p.input_quantization;
  product.quantized = reinterpret_cast<int8_t*>(bytes + l.quantized);
  product.row_scales = reinterpret_cast<float*>(bytes + l.row_scales);
  product.row_zero_points = reinterpret_cast<int32_t*>(bytes + l.row_zero_points);
  detail::recurrent_sequence_impl(p, x, directions, y, bytes, l, product);
}

}  // namespace reference
PTQ_NAMESPACE_END
