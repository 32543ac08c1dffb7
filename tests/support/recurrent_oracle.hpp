// recurrent_oracle.hpp: an independent, straightforward evaluation of the recurrent sequence ops
// (ir/graph.hpp "Recurrent ops") in double, one batch row and time step at a time, with each gate
// written out as its formula -- the oracle the float kernels and runtime ops are checked against --
// and, for the hybrid kernels, a bound on how far quantizing x_t and h_{t-1} per row can move each
// output, propagated through the cell step by step.
//
// The hybrid bound. Quantizing a row with step s moves each value by at most s / 2 (both quantizers
// round to the nearest grid point and their grid covers the row's range to within s / 2); 0.505 * s
// also covers float rounding in zp + x * inv. s is max|v| / 127 (symmetric) or
// (max(0, max v) - min(0, min v)) / 255 (asymmetric); for h_{t-1} the row is the hybrid's own state,
// within dh of the oracle's, so its range is widened by dh. A pre-activation of weight row n then
// moves by at most
//   e_x[n] = 0.505 * s_x * sum_k |W[n][k]|,  e_h[n] = 0.505 * s_h * sum_k |R[n][k]| + sum_k |R[n][k]| * dh,
// (W, R dequantized), plus kSlack for the float arithmetic. Through the cell, with Lipschitz constants
// L(tanh) = L(relu) = 1, L(sigmoid) = 1/4 and |i|, |f|, |o|, |z|, |r| <= 1:
//   RNN   dh' = L(act) * e
//   LSTM  di = e_i / 4, df = e_f / 4, do = e_o / 4, dg = L(act) * e_g;
//         dc' = df * (|c| + dc) + dc + dg + |g| * di                   (clipping is 1-Lipschitz)
//         dh' = do * (|act(c')| + L(act) * dc') + L(act) * dc'
//   GRU   dz = (e_xz + e_hz) / 4, dr = (e_xr + e_hr) / 4, dn = e_xn + dr * (|gh_n| + e_hn) + e_hn
//         dh' = dn + dh + dz * (|n - h| + dn + dh)
// where unprimed values are the oracle's, dh is the row's largest state error so far, dc per unit.
//
// Also here, shared by the kernel and runtime op tests: random cases (one random draw per
// statement), symmetric int8 weight quantization, and runners of the reference kernels on a case.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "ptq/kernels/reference/recurrent.hpp"

namespace ptq_test {

// One recurrent op's float data: weights as floats (dequantized for a hybrid op), absent states empty.
struct RecurrentCase {
  ptq::RecurrentCell cell = ptq::RecurrentCell::kRnn;
  int64_t B = 1, T = 1, I = 1, H = 1;
  bool time_major = false;
  bool bidirectional = false;
  ptq::CellActivation activation = ptq::CellActivation::kTanh;
  float cell_clip = 0.0f;
  std::vector<float> x;                 // [B, T, I] or [T, B, I]
  std::vector<float> w[2], r[2], b[2];  // per direction
  std::vector<float> h0[2], c0[2];      // [B, H] or empty

  int64_t directions() const { return bidirectional ? 2 : 1; }
  int64_t gates() const { return cell == ptq::RecurrentCell::kRnn ? 1 : (cell == ptq::RecurrentCell::kLstm ? 4 : 3); }
  // Offset of row (b, t) in x (row size I) or y (row size D * H).
  int64_t row(int64_t b, int64_t t) const { return time_major ? t * B + b : b * T + t; }
};

struct OracleResult {
  std::vector<double> y;      // the op's output, in its layout
  std::vector<double> bound;  // hybrid only: |hybrid - y| <= bound, elementwise (else zeros)
};

namespace oracle_detail {

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

inline double activate(ptq::CellActivation a, double v) {
  switch (a) {
    case ptq::CellActivation::kTanh: return std::tanh(v);
    case ptq::CellActivation::kRelu: return v > 0.0 ? v : 0.0;
    case ptq::CellActivation::kSigmoid: return sigmoid(v);
  }
  return v;
}

inline double lipschitz(ptq::CellActivation a) { return a == ptq::CellActivation::kSigmoid ? 0.25 : 1.0; }

// Quantization step bound of a row whose values are within `widen` of v.
inline double row_step(const std::vector<double>& v, bool asymmetric, double widen) {
  double lo = 0.0, hi = 0.0;
  for (double e : v) {
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  if (asymmetric) return (hi - lo + 2.0 * widen) / 255.0;
  return (std::max(-lo, hi) + widen) / 127.0;
}

// sum_k m[n][k] * v[k] and sum_k |m[n][k]|.
inline double dot(const std::vector<float>& m, int64_t n, const std::vector<double>& v) {
  double s = 0.0;
  const std::size_t row = static_cast<std::size_t>(n) * v.size();
  for (std::size_t k = 0; k < v.size(); ++k) s += static_cast<double>(m[row + k]) * v[k];
  return s;
}
inline double abs_sum(const std::vector<float>& m, int64_t n, int64_t depth) {
  double s = 0.0;
  for (int64_t k = 0; k < depth; ++k) s += std::abs(static_cast<double>(m[static_cast<std::size_t>(n * depth + k)]));
  return s;
}

}  // namespace oracle_detail

inline constexpr double kSlack = 1e-5;

// hybrid: nullptr for the float oracle alone; else *hybrid = asymmetric input quantization.
inline OracleResult recurrent_oracle(const RecurrentCase& c, const bool* hybrid_asymmetric = nullptr) {
  using namespace oracle_detail;
  const int64_t B = c.B, T = c.T, I = c.I, H = c.H, D = c.directions();
  OracleResult out;
  out.y.assign(static_cast<std::size_t>(B * T * D * H), 0.0);
  out.bound.assign(out.y.size(), 0.0);
  const bool hybrid = hybrid_asymmetric != nullptr;
  const bool asym = hybrid && *hybrid_asymmetric;
  for (int64_t d = 0; d < D; ++d) {
    const std::vector<float>& w = c.w[d];
    const std::vector<float>& r = c.r[d];
    const std::vector<float>& bias = c.b[d];
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(static_cast<std::size_t>(H), 0.0), cell(static_cast<std::size_t>(H), 0.0);
      std::vector<double> dc(static_cast<std::size_t>(H), 0.0);
      double dh = 0.0;
      for (int64_t j = 0; j < H; ++j) {
        if (!c.h0[d].empty()) h[j] = c.h0[d][static_cast<std::size_t>(b * H + j)];
        if (!c.c0[d].empty()) cell[j] = c.c0[d][static_cast<std::size_t>(b * H + j)];
      }
      for (int64_t step = 0; step < T; ++step) {
        const int64_t t = d == 0 ? step : T - 1 - step;
        std::vector<double> xv(static_cast<std::size_t>(I));
        for (int64_t k = 0; k < I; ++k) xv[k] = c.x[static_cast<std::size_t>(c.row(b, t) * I + k)];
        const double sx = hybrid ? row_step(xv, asym, 0.0) : 0.0;
        const double sh = hybrid ? row_step(h, asym, dh) : 0.0;
        // Pre-activation error bounds of weight row n, x side and h side.
        const auto ex = [&](int64_t n) { return hybrid ? 0.505 * sx * abs_sum(w, n, I) + kSlack : 0.0; };
        const auto eh = [&](int64_t n) {
          return hybrid ? 0.505 * sh * abs_sum(r, n, H) + abs_sum(r, n, H) * dh + kSlack : 0.0;
        };
        std::vector<double> h_new(static_cast<std::size_t>(H)), dh_new(static_cast<std::size_t>(H));
        for (int64_t j = 0; j < H; ++j) {
          if (c.cell == ptq::RecurrentCell::kRnn) {
            const double a = bias[j] + dot(w, j, xv) + dot(r, j, h);
            h_new[j] = activate(c.activation, a);
            dh_new[j] = lipschitz(c.activation) * (ex(j) + eh(j));
          } else if (c.cell == ptq::RecurrentCell::kLstm) {
            double pre[4], e[4];
            for (int64_t q = 0; q < 4; ++q) {
              const int64_t n = q * H + j;
              pre[q] = bias[n] + dot(w, n, xv) + dot(r, n, h);
              e[q] = ex(n) + eh(n);
            }
            const double i = sigmoid(pre[0]), f = sigmoid(pre[1]), g = activate(c.activation, pre[2]);
            const double o = sigmoid(pre[3]);
            const double c_prev = cell[j];
            double c_next = f * c_prev + i * g;
            if (c.cell_clip > 0.0f) c_next = std::max(-double(c.cell_clip), std::min(double(c.cell_clip), c_next));
            cell[j] = c_next;
            h_new[j] = o * activate(c.activation, c_next);
            const double L = lipschitz(c.activation);
            const double di = e[0] / 4, df = e[1] / 4, dg = L * e[2], d_o = e[3] / 4;
            const double dc_next = df * (std::abs(c_prev) + dc[j]) + dc[j] + dg + std::abs(g) * di;
            dc[j] = dc_next;
            dh_new[j] = d_o * (std::abs(activate(c.activation, c_next)) + L * dc_next) + L * dc_next;
          } else {
            double gx[3], gh[3], exq[3], ehq[3];
            for (int64_t q = 0; q < 3; ++q) {
              const int64_t n = q * H + j;
              gx[q] = bias[n] + dot(w, n, xv);
              gh[q] = bias[3 * H + n] + dot(r, n, h);
              exq[q] = ex(n);
              ehq[q] = eh(n);
            }
            const double z = sigmoid(gx[0] + gh[0]);
            const double rr = sigmoid(gx[1] + gh[1]);
            const double n = std::tanh(gx[2] + rr * gh[2]);
            h_new[j] = (1.0 - z) * n + z * h[j];
            const double dz = (exq[0] + ehq[0]) / 4, dr = (exq[1] + ehq[1]) / 4;
            const double dn = exq[2] + dr * (std::abs(gh[2]) + ehq[2]) + ehq[2];
            dh_new[j] = dn + dh + dz * (std::abs(n - h[j]) + dn + dh);
          }
        }
        h = h_new;
        dh = 0.0;
        for (int64_t j = 0; j < H; ++j) {
          dh = std::max(dh, dh_new[j]);
          const std::size_t at = static_cast<std::size_t>(c.row(b, t) * D * H + d * H + j);
          out.y[at] = h[j];
          out.bound[at] = dh_new[j];
        }
      }
    }
  }
  return out;
}

// ---- random cases ----------------------------------------------------------------------------

// Weights of a hybrid op: int8 values and their scales (1 per tensor, or one per row).
struct QuantizedWeights {
  std::vector<int8_t> w[2], r[2];
  std::vector<float> w_scales[2], r_scales[2];
};

inline std::vector<float> random_floats(std::mt19937& rng, int64_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = dist(rng);
  return v;
}

inline int draw(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// A random case; weights drawn so that each row's absolute sum is about 1 (outputs stay informative).
inline RecurrentCase random_case(std::mt19937& rng, ptq::RecurrentCell cell, ptq::CellActivation act,
                                 bool time_major, bool bidirectional, bool with_states) {
  RecurrentCase c;
  c.cell = cell;
  c.activation = act;
  c.time_major = time_major;
  c.bidirectional = bidirectional;
  c.B = draw(rng, 1, 3);
  c.T = draw(rng, 1, 4);
  c.I = draw(rng, 1, 5);
  c.H = draw(rng, 1, 4);
  if (cell == ptq::RecurrentCell::kLstm && draw(rng, 0, 1) == 1) c.cell_clip = 0.5f;
  c.x = random_floats(rng, c.B * c.T * c.I, -1.0f, 1.0f);
  const int64_t rows = c.gates() * c.H;
  const int64_t bias = cell == ptq::RecurrentCell::kGru ? 6 * c.H : rows;
  for (int d = 0; d < c.directions(); ++d) {
    c.w[d] = random_floats(rng, rows * c.I, -2.0f / static_cast<float>(c.I), 2.0f / static_cast<float>(c.I));
    c.r[d] = random_floats(rng, rows * c.H, -2.0f / static_cast<float>(c.H), 2.0f / static_cast<float>(c.H));
    c.b[d] = random_floats(rng, bias, -0.5f, 0.5f);
    if (with_states) {
      c.h0[d] = random_floats(rng, c.B * c.H, -1.0f, 1.0f);
      if (cell == ptq::RecurrentCell::kLstm) c.c0[d] = random_floats(rng, c.B * c.H, -1.0f, 1.0f);
    }
  }
  return c;
}

// Quantizes c's float weights to int8 (symmetric, per tensor or per row) and replaces them with their
// dequantized values, so that the float kernel on c is the hybrid kernel's float counterpart.
inline QuantizedWeights quantize_weights(RecurrentCase& c, bool per_row) {
  QuantizedWeights q;
  const int64_t rows = c.gates() * c.H;
  const auto quantize = [&](std::vector<float>& m, int64_t depth, std::vector<int8_t>& out,
                            std::vector<float>& scales) {
    out.resize(m.size());
    scales.assign(per_row ? static_cast<std::size_t>(rows) : 1u, 0.0f);
    for (int64_t n = 0; n < rows; ++n) {
      float& s = scales[per_row ? static_cast<std::size_t>(n) : 0u];
      for (int64_t k = 0; k < depth; ++k) {
        s = std::max(s, std::abs(m[static_cast<std::size_t>(n * depth + k)]) / 127.0f);
      }
    }
    for (float& s : scales) s = s > 0.0f ? s : 1.0f;
    for (int64_t n = 0; n < rows; ++n) {
      const float s = scales[per_row ? static_cast<std::size_t>(n) : 0u];
      for (int64_t k = 0; k < depth; ++k) {
        const std::size_t at = static_cast<std::size_t>(n * depth + k);
        const long v = std::lround(m[at] / s);
        out[at] = static_cast<int8_t>(std::max(-127L, std::min(127L, v)));
        m[at] = static_cast<float>(out[at]) * s;
      }
    }
  };
  for (int d = 0; d < c.directions(); ++d) {
    quantize(c.w[d], c.I, q.w[d], q.w_scales[d]);
    quantize(c.r[d], c.H, q.r[d], q.r_scales[d]);
  }
  return q;
}

// ---- running the reference kernels ----------------------------------------------------------

inline ptq::RecurrentParams params_of(const RecurrentCase& c) {
  ptq::RecurrentParams p;
  p.cell = c.cell;
  p.batches = c.B;
  p.time_steps = c.T;
  p.input_size = c.I;
  p.hidden_size = c.H;
  p.time_major = c.time_major;
  p.bidirectional = c.bidirectional;
  p.activation = c.activation;
  p.cell_clip = c.cell_clip;
  return p;
}

template <class W>
ptq::RecurrentDirection<W> direction_of(const RecurrentCase& c, int d, const W* w, const W* r) {
  ptq::RecurrentDirection<W> dir;
  dir.input_weights = w;
  dir.recurrent_weights = r;
  dir.bias = c.b[d].data();
  dir.initial_hidden = c.h0[d].empty() ? nullptr : c.h0[d].data();
  dir.initial_cell = c.c0[d].empty() ? nullptr : c.c0[d].data();
  return dir;
}

// The float / hybrid reference kernel on c (hybrid: q holds c's weights quantized), with an
// exact-size scratch (ASan sees any overrun) and a poisoned output.
inline std::vector<float> run_float(const RecurrentCase& c) {
  const ptq::RecurrentParams p = params_of(c);
  REQUIRE(p.validate().ok());
  ptq::RecurrentDirection<float> dirs[2];
  for (int d = 0; d < c.directions(); ++d) dirs[d] = direction_of<float>(c, d, c.w[d].data(), c.r[d].data());
  std::vector<unsigned char> scratch(ptq::reference::recurrent_scratch_bytes(p), 0xA5);
  std::vector<float> y(static_cast<std::size_t>(c.B * c.T * c.directions() * c.H), -777.0f);
  ptq::reference::recurrent_sequence(p, c.x.data(), dirs, y.data(), scratch.data());
  return y;
}

inline std::vector<float> run_hybrid(const RecurrentCase& c, const QuantizedWeights& q,
                                     ptq::HybridInputQuantization mode) {
  ptq::RecurrentParams p = params_of(c);
  p.input_quantization = mode;
  ptq::RecurrentDirection<int8_t> dirs[2];
  for (int d = 0; d < c.directions(); ++d) {
    p.weight_scales[d].input = q.w_scales[d];
    p.weight_scales[d].recurrent = q.r_scales[d];
    dirs[d] = direction_of<int8_t>(c, d, q.w[d].data(), q.r[d].data());
  }
  REQUIRE(p.validate_hybrid().ok());
  std::vector<unsigned char> scratch(ptq::reference::recurrent_hybrid_scratch_bytes(p), 0xA5);
  std::vector<float> y(static_cast<std::size_t>(c.B * c.T * c.directions() * c.H), -777.0f);
  ptq::reference::hybrid_recurrent_sequence(p, c.x.data(), dirs, y.data(), scratch.data());
  return y;
}

// Bit equality, so that -0.0 != +0.0.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace ptq_test
