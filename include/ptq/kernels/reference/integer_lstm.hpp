// reference/integer_lstm.hpp: TFLite's full-integer ("8x8->16") sequence LSTM -- int8 input, int8
// weights, int32 biases, int16 gates in Q3.12 and int16 cell state, int8 hidden state and output --
// bit-exact with LiteRT's kernel.
//
// TFLite: unidirectional_sequence_lstm.cc (PopulateQuantizedLstmParams8x8_16 for the effective
// scales, PopulatePrecomputedZPTimesWeightsWithBias / PrecomputeZeroPointTimesWeightWithBias for the
// zero-point folding) and lstm_eval.cc (EvalInteger8x8_16, LstmStepInteger8x8_16,
// CalculateLstmGateInteger8x8_16, UpdateLstmCellInteger, CalculateLstmOutputInteger8x8_16) with the
// portable tensor_utils they call. Covered: no CIFG, no peephole, no projection, no layer norm (the
// four gate intermediates are then TFLite's fixed Q3.12, scale 2^-12), unidirectional.
//
// Prepared once (integer_lstm_prepare), per gate k in i, f, g (cell), o (rows [kH, (k+1)H) of the
// stacked [4H, ...] weights), in float as TFLite computes them, then QuantizeMultiplier'd:
//   input_multiplier[k]     = w_scale[k] * x_scale / 2^-12        (float * float, then / float)
//   recurrent_multiplier[k] = r_scale[k] * h_scale / 2^-12        (h: the output state)
//   hidden_multiplier       = float(2^-15 / hidden_scale * 2^-15)  (evaluated in double)
//   input_bias[n]     = b[n] + (-x_zp) * sum_j w[n][j]     recurrent_bias[n] = (-h_zp) * sum_j r[n][j]
//   cell_shift = log2(cell_scale) (TFLite's CheckedLog2; the cell state is Q(15+cell_shift).(-cell_shift))
//   cell_clip_q = int16(min(max(cell_clip / cell_scale, -32768), 32767)) (truncated), 0: no clip
//
// One step for one batch row (x_t [I] int8, h [H] int8 = h_{t-1}, c [H] int16), every gate k, row n:
//   a  = clamp16(MBQM(input_bias[kH+n] + sum_j x_t[j] * w[kH+n][j], input_multiplier[k]))
//   p  = clamp16(MBQM(recurrent_bias[kH+n] + sum_j h[j] * r[kH+n][j], recurrent_multiplier[k]) + a)
//   gate_k[n] = k == g ? tanh<3>(p) : logistic<3>(p)     (Q3.12 in, Q0.15 out; core/fixed_point_int16)
// then per unit n (UpdateLstmCellInteger, CalculateLstmOutputInteger8x8_16):
//   c[n] = int16(RDBPOT(f[n] * c[n], 15))                       (narrowed without saturation, as TFLite)
//   c[n] = clamp16(c[n] + int16(RDBPOT(i[n] * g[n], 30 + cell_shift)))
//   c[n] = min(max(c[n], -cell_clip_q), cell_clip_q) when cell_clip_q > 0
//   h[n] = clamp8(MBQM(o[n] * tanh<15 + cell_shift>(c[n]), hidden_multiplier) + hidden_zp);  y_t[n] = h[n]
// MBQM is MultiplyByQuantizedMultiplier (core/fixed_point.hpp, in p.rounding: TFLite's build's),
// RDBPOT gemmlowp's RoundingDivideByPOT, clampN saturation to intN. The states start as TFLite resets
// its variable tensors: h = h_zp (the int8 output state's zero point), c = 0.
//
// Layouts as reference/recurrent.hpp: x [B, T, I] (time_major [T, B, I]), y [B, T, H] (time_major
// [T, B, H]); every operation above is per batch row, so the order of rows does not change a bit.
// Scratch: integer_lstm_scratch_bytes(p); run never allocates.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/fixed_point_int16.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN

// The quantization facts of an integer LSTM (what TFLite reads from its tensors and intermediates).
struct IntegerLstmScales {
  float input_scale = 0.0f;  // x
  int32_t input_zero_point = 0;
  float input_weight_scales[4] = {};      // w per gate i, f, g, o
  float recurrent_weight_scales[4] = {};  // r per gate
  float state_scale = 0.0f;  // h (TFLite's output state variable)
  int32_t state_zero_point = 0;
  float hidden_scale = 0.0f;  // TFLite's intermediate 4 (effective_hidden_scale_intermediate)
  int32_t hidden_zero_point = 0;
  float cell_scale = 0.0f;  // c (TFLite's cell state variable): a power of two in [2^-15, 2^-9]
  float cell_clip = 0.0f;   // 0: no clipping
};

// Prepared parameters of the integer LSTM kernel.
struct IntegerLstmParams {
  int64_t batches = 1, time_steps = 1, input_size = 0, hidden_size = 0;
  bool time_major = false;
  RoundingMode rounding = kDefaultRounding;  // of every MBQM and QuantizeMultiplier
  QuantizedMultiplier input_multiplier[4], recurrent_multiplier[4], hidden_multiplier;
  int32_t hidden_zero_point = 0;
  int32_t state_zero_point = 0;
  int cell_shift = -15;       // log2 of the cell state's scale, in [-15, -9]
  int16_t cell_clip = 0;      // quantized; 0: none
  std::vector<int32_t> input_bias;      // [4H]: b + (-x_zp) * row sums of w
  std::vector<int32_t> recurrent_bias;  // [4H]: (-h_zp) * row sums of r
};

namespace reference {

// TFLite's CheckedLog2: the rounded log2 of x, and whether x is within 1e-3 (in log2) of that power.
inline bool checked_log2(float x, int* log2_result) {
  const float x_log2 = std::log(x) * (1.0f / std::log(2.0f));
  const float rounded = std::round(x_log2);
  *log2_result = static_cast<int>(rounded);
  return std::abs(x_log2 - rounded) < 1e-3f;
}

// Checks the scales and computes p's multipliers, folded biases and cell parameters. `what` names the
// op in messages. w [4H, I], r [4H, H] int8 row major; bias [4H] int32.
inline Status integer_lstm_prepare(const IntegerLstmScales& s, const int8_t* w, const int8_t* r, const int32_t* bias,
                                   IntegerLstmParams* p, const std::string& what) {
  const int64_t H = p->hidden_size, I = p->input_size;
  if (H < 0 || I < 0 || p->batches < 0 || p->time_steps < 0) return invalid_argument(what + ": negative size");
  const auto positive = [&](float v, const char* name) -> Status {
    if (std::isfinite(v) && v > 0.0f) return {};
    return invalid_argument(what + ": " + name + " = " + std::to_string(v) + " is not a finite positive number");
  };
  const auto int8_zp = [&](int32_t z, const char* name) -> Status {
    if (z >= -128 && z <= 127) return {};
    return invalid_argument(what + ": " + name + " = " + std::to_string(z) + " is outside int8's range");
  };
  PTQ_RETURN_IF_ERROR(positive(s.input_scale, "the input scale"));
  PTQ_RETURN_IF_ERROR(int8_zp(s.input_zero_point, "the input zero point"));
  PTQ_RETURN_IF_ERROR(positive(s.state_scale, "the output state scale"));
  PTQ_RETURN_IF_ERROR(int8_zp(s.state_zero_point, "the output state zero point"));
  PTQ_RETURN_IF_ERROR(positive(s.hidden_scale, "the hidden scale"));
  PTQ_RETURN_IF_ERROR(int8_zp(s.hidden_zero_point, "the hidden zero point"));
  for (int k = 0; k < 4; ++k) {
    PTQ_RETURN_IF_ERROR(positive(s.input_weight_scales[k], "an input weight scale"));
    PTQ_RETURN_IF_ERROR(positive(s.recurrent_weight_scales[k], "a recurrent weight scale"));
  }
  PTQ_RETURN_IF_ERROR(positive(s.cell_scale, "the cell state scale"));
  int cell_shift = 0;
  if (!checked_log2(s.cell_scale, &cell_shift)) {
    return invalid_argument(what + ": the cell state scale " + std::to_string(s.cell_scale) +
                            " is not a power of two (TFLite's integer LSTM needs one)");
  }
  if (cell_shift < -15 || cell_shift > -9) {
    return invalid_argument(what + ": the cell state scale 2^" + std::to_string(cell_shift) +
                            " is outside [2^-15, 2^-9] (its tanh takes 0 to 6 integer bits)");
  }
  if (!std::isfinite(s.cell_clip) || s.cell_clip < 0.0f) {
    return invalid_argument(what + ": cell_clip = " + std::to_string(s.cell_clip) + " must be finite and >= 0");
  }
  p->cell_shift = cell_shift;
  p->cell_clip = s.cell_clip > 0.0f
                     ? static_cast<int16_t>(std::min(std::max(s.cell_clip / s.cell_scale, -32768.0f), 32767.0f))
                     : int16_t{0};
  const float gate_scale = 1.0f / 4096.0f;  // 2^-12: Q3.12
  for (int k = 0; k < 4; ++k) {
    const float in_eff = s.input_weight_scales[k] * s.input_scale / gate_scale;
    const float rec_eff = s.recurrent_weight_scales[k] * s.state_scale / gate_scale;
    p->input_multiplier[k] = quantize_multiplier(static_cast<double>(in_eff), p->rounding);
    p->recurrent_multiplier[k] = quantize_multiplier(static_cast<double>(rec_eff), p->rounding);
  }
  const float hidden_eff =
      static_cast<float>(std::ldexp(1.0, -15) / static_cast<double>(s.hidden_scale) * std::ldexp(1.0, -15));
  p->hidden_multiplier = quantize_multiplier(static_cast<double>(hidden_eff), p->rounding);
  p->hidden_zero_point = s.hidden_zero_point;
  p->state_zero_point = s.state_zero_point;
  const int64_t rows = 4 * H;
  p->input_bias.assign(static_cast<std::size_t>(rows), 0);
  p->recurrent_bias.assign(static_cast<std::size_t>(rows), 0);
  for (int64_t n = 0; n < rows; ++n) {
    int32_t w_sum = 0, r_sum = 0;
    for (int64_t j = 0; j < I; ++j) w_sum += w[n * I + j];
    for (int64_t j = 0; j < H; ++j) r_sum += r[n * H + j];
    p->input_bias[static_cast<std::size_t>(n)] = bias[n] + w_sum * -s.input_zero_point;
    p->recurrent_bias[static_cast<std::size_t>(n)] = r_sum * -s.state_zero_point;
  }
  return {};
}

// Scratch bytes: h [B, H] int8, c [B, H] int16, the four gates [4, H] int16.
inline std::size_t integer_lstm_scratch_bytes(const IntegerLstmParams& p) {
  const auto up = [](std::size_t n) { return (n + 63) / 64 * 64; };
  const std::size_t bh = static_cast<std::size_t>(p.batches * p.hidden_size);
  return up(bh) + up(2 * bh) + up(2 * 4 * static_cast<std::size_t>(p.hidden_size));
}

namespace detail {

inline int16_t clamp_int16(int32_t v) { return static_cast<int16_t>(std::min(32767, std::max(-32768, v))); }

// One time step of one batch row; see the header for the arithmetic.
inline void integer_lstm_step(const IntegerLstmParams& p, const int8_t* x, const int8_t* w, const int8_t* r,
                              int8_t* h, int16_t* c, int16_t* gates, int8_t* y) {
  const int64_t H = p.hidden_size, I = p.input_size;
  for (int k = 0; k < 4; ++k) {
    int16_t* gate = gates + k * H;
    for (int64_t n = 0; n < H; ++n) {
      const int64_t row = k * H + n;
      int32_t acc = p.input_bias[static_cast<std::size_t>(row)];
      for (int64_t j = 0; j < I; ++j) acc += int32_t{x[j]} * int32_t{w[row * I + j]};
      const int16_t from_input = clamp_int16(multiply_by_quantized_multiplier(acc, p.input_multiplier[k], p.rounding));
      acc = p.recurrent_bias[static_cast<std::size_t>(row)];
      for (int64_t j = 0; j < H; ++j) acc += int32_t{h[j]} * int32_t{r[row * H + j]};
      const int16_t pre =
          clamp_int16(multiply_by_quantized_multiplier(acc, p.recurrent_multiplier[k], p.rounding) + int32_t{from_input});
      gate[n] = k == 2 ? fixed_point16::tanh<3>(pre) : fixed_point16::logistic<3>(pre);
    }
  }
  const int16_t* in = gates;
  const int16_t* forget = gates + H;
  const int16_t* cell_in = gates + 2 * H;
  const int16_t* out = gates + 3 * H;
  for (int64_t n = 0; n < H; ++n) {
    const int16_t kept = fixed_point16::wrap(rounding_divide_by_pot(int32_t{forget[n]} * int32_t{c[n]}, 15));
    const int16_t added =
        fixed_point16::wrap(rounding_divide_by_pot(int32_t{in[n]} * int32_t{cell_in[n]}, 30 + p.cell_shift));
    int16_t cell = clamp_int16(int32_t{kept} + int32_t{added});
    if (p.cell_clip > 0) cell = std::min<int16_t>(std::max<int16_t>(cell, static_cast<int16_t>(-p.cell_clip)), p.cell_clip);
    c[n] = cell;
    const int16_t t = fixed_point16::tanh_with_integer_bits(15 + p.cell_shift, cell);
    int32_t v = multiply_by_quantized_multiplier(int32_t{out[n]} * int32_t{t}, p.hidden_multiplier, p.rounding);
    v = std::min(127, std::max(-128, v + p.hidden_zero_point));
    h[n] = static_cast<int8_t>(v);
  }
  std::copy(h, h + H, y);
}

}  // namespace detail

// The integer LSTM over the whole sequence. x, y as in the header; w [4H, I], r [4H, H] int8;
// scratch: integer_lstm_scratch_bytes(p) bytes, 2-byte aligned. Preconditions: p from a successful
// integer_lstm_prepare with these weights.
inline void integer_lstm_sequence(const IntegerLstmParams& p, const int8_t* x, const int8_t* w, const int8_t* r,
                                  int8_t* y, void* scratch) {
  const int64_t B = p.batches, T = p.time_steps, I = p.input_size, H = p.hidden_size;
  PTQ_DCHECK(static_cast<int64_t>(p.input_bias.size()) == 4 * H, "integer_lstm_sequence: call integer_lstm_prepare");
  const auto up = [](std::size_t n) { return (n + 63) / 64 * 64; };
  unsigned char* bytes = static_cast<unsigned char*>(scratch);
  const std::size_t bh = static_cast<std::size_t>(B * H);
  int8_t* hidden = reinterpret_cast<int8_t*>(bytes);
  int16_t* cell = reinterpret_cast<int16_t*>(bytes + up(bh));
  int16_t* gates = reinterpret_cast<int16_t*>(bytes + up(bh) + up(2 * bh));
  std::fill(hidden, hidden + bh, static_cast<int8_t>(p.state_zero_point));
  std::fill(cell, cell + bh, int16_t{0});
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b) {
      const int64_t row = p.time_major ? t * B + b : b * T + t;
      detail::integer_lstm_step(p, x + row * I, w, r, hidden + b * H, cell + b * H, gates, y + row * H);
    }
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
