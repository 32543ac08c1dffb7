// hybrid.hpp: dynamic-range ("hybrid") fully connected -- float activations quantized per row on
// the fly, int8 weights through the int8 GEMM, float output: prepare once, run many.
//
//   Status s = validate_hybrid_fully_connected(params, weights);
//   PreparedHybridFullyConnected fc = prepare_hybrid_fully_connected(params, weights, bias);
//   hybrid_fully_connected(fc, input, output);                 // per call: no allocation
//
// Bit for bit reference::hybrid_fully_connected (reference/hybrid.hpp) on every level (scalar,
// SSE4.1, AVX2), in both input quantizations, for any batch count, K and N. The run:
//   1. If the whole input is zero (every element == 0.0f), out = act(bias): TFLite skips the rest.
//   2. Per row: min/max (SIMD), the row's scale and zero point computed in scalar code exactly as
//      the reference does (double arithmetic for the asymmetric scheme), then the element loop
//      q = round(zp + x * (1 / scale)) clamped (SIMD; quantize_rows_hybrid is also public).
//   3. The int8 GEMM with zero point 0 and no bias (gemm::fully_connected_accumulators):
//      acc[b][n] = sum_k w[n][k] * q[b][k], int32 wrapping.
//   4. Per row, the float epilogue in the reference's order (hybrid_row.hpp):
//      out = act(init[n] + float(acc - row_sum[n] * zp[b]) * (row_scale[b] * w_scale[n]))
//      with init = bias or 0.0f, and row_sum[n] = sum_k w[n][k] computed at prepare. The row zero
//      point is applied here rather than folded into the packed bias because it changes per row
//      and per call.
// Scratch (the quantized rows, their parameters, the int32 accumulators; sized for
// params.batches rows at prepare) belongs to the PreparedHybridFullyConnected: concurrent calls on
// one object are not safe. Inputs are assumed finite (as the reference assumes).
// Hybrid conv and depthwise are in hybrid_conv.hpp (the GEMM through conv.hpp's im2col, padded with
// the per-image zero point, and the depthwise walk's int32 accumulators).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/hybrid_row.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "ptq/simd/dispatch.hpp"

#if PTQ_ARCH_X86
#include "ptq/kernels/x86/hybrid_avx2.hpp"
#include "ptq/kernels/x86/hybrid_sse41.hpp"
#endif

PTQ_NAMESPACE_BEGIN

// The level whose float loops run for a requested level (the GEMM dispatches on its own).
constexpr Isa hybrid_variant(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
    case Isa::kAvx512:
    case Isa::kAvxVnni:
    case Isa::kAvx2: return PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar;
    case Isa::kSse41: return PTQ_ARCH_X86 ? Isa::kSse41 : Isa::kScalar;
    default: return Isa::kScalar;
  }
}

namespace hybrid_detail {

// reference::quantize_row_asymmetric's parameters from the row's min and max, operation for
// operation (the element loop is hybrid_quantize). Returns false for an all-zero row.
inline bool asymmetric_params(float lo, float hi, RowQuantization* r) {
  const double rmin = static_cast<double>(std::min(0.0f, lo));
  const double rmax = static_cast<double>(std::max(0.0f, hi));
  if (rmin == rmax) {
    *r = {1.0f, 0};
    return false;
  }
  const double qmin = -128.0, qmax = 127.0;
  const double scale = (rmax - rmin) / (qmax - qmin);
  const double zero_point_from_min = qmin - rmin / scale;
  const double zero_point_from_max = qmax - rmax / scale;
  const double zero_point_from_min_error = std::abs(qmin) + std::abs(rmin / scale);
  const double zero_point_from_max_error = std::abs(qmax) + std::abs(rmax / scale);
  const double zero_point_double =
      zero_point_from_min_error < zero_point_from_max_error ? zero_point_from_min : zero_point_from_max;
  int32_t zero_point;
  if (zero_point_double <= qmin) {
    zero_point = -128;
  } else if (zero_point_double >= qmax) {
    zero_point = 127;
  } else {
    zero_point = static_cast<int32_t>(std::round(zero_point_double));
  }
  r->scale = static_cast<float>(scale);
  r->zero_point = zero_point;
  return true;
}

inline void minmax(Isa v, const float* x, int64_t n, float* lo, float* hi) {
  switch (v) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: return x86::avx2::hybrid_minmax(x, n, lo, hi);
    case Isa::kSse41: return x86::sse41::hybrid_minmax(x, n, lo, hi);
#endif
    default: return hybrid_minmax_scalar(x, n, lo, hi);
  }
}

inline void quantize(Isa v, const float* x, int64_t n, float inv, int32_t zp, float lo, float hi, int8_t* q) {
  switch (v) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: return x86::avx2::hybrid_quantize(x, n, inv, zp, lo, hi, q);
    case Isa::kSse41: return x86::sse41::hybrid_quantize(x, n, inv, zp, lo, hi, q);
#endif
    default: return hybrid_quantize_scalar(x, n, inv, zp, lo, hi, q);
  }
}

inline void epilogue(Isa v, int64_t n, const int32_t* acc, const int32_t* row_sums, int32_t zp, float row_scale,
                     const float* w_scales, const float* init, FusedActivation act, float* out) {
  switch (v) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: return x86::avx2::hybrid_fc_epilogue(n, acc, row_sums, zp, row_scale, w_scales, init, act, out);
    case Isa::kSse41: return x86::sse41::hybrid_fc_epilogue(n, acc, row_sums, zp, row_scale, w_scales, init, act, out);
#endif
    default: return hybrid_fc_epilogue_scalar(n, acc, row_sums, zp, row_scale, w_scales, init, act, out);
  }
}

}  // namespace hybrid_detail

// reference::quantize_rows, bit for bit: `rows` rows of `row_size` floats, each quantized with its
// own scale and zero point (symmetric rows get zero point 0).
inline void quantize_rows_hybrid(const float* x, int64_t rows, int64_t row_size, HybridInputQuantization mode,
                                 int8_t* q, float* scales, int32_t* zero_points, Isa isa = selected_isa()) {
  const Isa v = hybrid_variant(best_runnable_isa_within(isa));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * row_size;
    int8_t* qr = q + r * row_size;
    RowQuantization rq{1.0f, 0};
    if (row_size > 0) {
      float lo, hi;
      hybrid_detail::minmax(v, xr, row_size, &lo, &hi);
      if (mode == HybridInputQuantization::kAsymmetric) {
        if (hybrid_detail::asymmetric_params(lo, hi, &rq)) {
          hybrid_detail::quantize(v, xr, row_size, 1.0f / rq.scale, rq.zero_point, -128.0f, 127.0f, qr);
        } else {
          std::fill(qr, qr + row_size, int8_t{0});
        }
      } else {
        const float range = std::max(std::abs(lo), std::abs(hi));
        if (range == 0.0f) {
          std::fill(qr, qr + row_size, int8_t{0});
        } else {
          rq.scale = range / 127.0f;
          hybrid_detail::quantize(v, xr, row_size, 127.0f / range, 0, -127.0f, 127.0f, qr);
        }
      }
    }
    scales[r] = rq.scale;
    zero_points[r] = rq.zero_point;
  }
}

// HybridFullyConnectedParams::validate and weights in [-127, 127] (names the first [n][k] = -128:
// the GEMM's sign trick needs it, and TFLite's symmetric int8 weights never hold it).
inline Status validate_hybrid_fully_connected(const HybridFullyConnectedParams& p, const int8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate());
  if (p.input_depth >= (int64_t{1} << 24)) {
    return unimplemented("hybrid_fully_connected: input_depth = " + std::to_string(p.input_depth) + " is 2^24 or more");
  }
  if (p.input_depth > 0 && p.output_depth > 0 && weights == nullptr) {
    return invalid_argument("hybrid_fully_connected: weights is null");
  }
  for (int64_t i = 0; i < p.input_depth * p.output_depth; ++i) {
    if (weights[i] == -128) {
      return invalid_argument("hybrid_fully_connected: weights[" + std::to_string(i / p.input_depth) + "][" +
                              std::to_string(i % p.input_depth) + "] = -128; int8 weights are in [-127, 127]");
    }
  }
  return {};
}

class PreparedHybridFullyConnected {
 public:
  PreparedHybridFullyConnected() = default;
  const HybridFullyConnectedParams& params() const { return params_; }
  const gemm::PackedWeights& packed() const { return packed_; }

 private:
  friend PreparedHybridFullyConnected prepare_hybrid_fully_connected(const HybridFullyConnectedParams&,
                                                                     const int8_t*, const float*,
                                                                     gemm::PackLayout);
  friend struct HybridRunner;

  HybridFullyConnectedParams params_;
  gemm::PackedWeights packed_;
  std::vector<int32_t> row_sums_;   // [N] sum_k w[n][k]
  std::vector<float> w_scales_;     // [N]
  std::vector<float> init_;         // [N] bias or 0.0f
  mutable std::vector<int8_t> q_;            // [batches][K]
  mutable std::vector<float> row_scales_;    // [batches]
  mutable std::vector<int32_t> row_zps_;     // [batches]
  mutable std::vector<int32_t> acc_;         // [batches][N]
};

// Weights [N, K] int8 (symmetric), bias [N] float or null. Scratch is sized for p.batches rows;
// `layout` is the GEMM packing (the default layout runs on every level).
// Preconditions (checked in debug builds): validate_hybrid_fully_connected(p, weights) is ok.
inline PreparedHybridFullyConnected prepare_hybrid_fully_connected(
    const HybridFullyConnectedParams& p, const int8_t* weights, const float* bias,
    gemm::PackLayout layout = gemm::kDefaultPackLayout) {
  PTQ_DCHECK(validate_hybrid_fully_connected(p, weights).ok(),
             "prepare_hybrid_fully_connected: invalid parameters (call validate_hybrid_fully_connected())");
  PreparedHybridFullyConnected h;
  h.params_ = p;
  const int64_t k = p.input_depth, n = p.output_depth;
  FullyConnectedParams fc;
  fc.batches = p.batches;
  fc.input_depth = k;
  fc.output_depth = n;
  fc.multipliers = {QuantizedMultiplier{1 << 30, 0}};  // unused: the accumulators are the output
  h.packed_ = gemm::pack_weights(fc, weights, nullptr, layout);
  h.row_sums_.resize(static_cast<std::size_t>(n));
  h.w_scales_.resize(static_cast<std::size_t>(n));
  h.init_.resize(static_cast<std::size_t>(n));
  for (int64_t c = 0; c < n; ++c) {
    int32_t s = 0;
    for (int64_t i = 0; i < k; ++i) s += weights[c * k + i];  // |s| < 127 * 2^24: exact
    h.row_sums_[static_cast<std::size_t>(c)] = s;
    h.w_scales_[static_cast<std::size_t>(c)] = p.weight_scale(c);
    h.init_[static_cast<std::size_t>(c)] = bias != nullptr ? bias[c] : 0.0f;
  }
  h.q_.resize(static_cast<std::size_t>(p.batches * k));
  h.row_scales_.resize(static_cast<std::size_t>(p.batches));
  h.row_zps_.resize(static_cast<std::size_t>(p.batches));
  h.acc_.resize(static_cast<std::size_t>(p.batches * n));
  return h;
}

struct HybridRunner {
  static void run_prequantized(const PreparedHybridFullyConnected& h, const int8_t* q, const float* row_scales,
                               const int32_t* row_zps, float* output, Isa isa) {
    const HybridFullyConnectedParams& p = h.params_;
    const int64_t n = p.output_depth;
    if (p.batches == 0 || n == 0) return;
    gemm::GemmOptions o;
    o.isa = isa;
    gemm::fully_connected_accumulators(h.packed_, q, p.batches, h.acc_.data(), o);
    const Isa v = hybrid_variant(best_runnable_isa_within(isa));
    for (int64_t b = 0; b < p.batches; ++b) {
      hybrid_detail::epilogue(v, n, h.acc_.data() + b * n, h.row_sums_.data(), row_zps != nullptr ? row_zps[b] : 0,
                              row_scales[b], h.w_scales_.data(), h.init_.data(), p.activation, output + b * n);
    }
  }

  static void run(const PreparedHybridFullyConnected& h, const float* input, float* output, Isa isa) {
    const HybridFullyConnectedParams& p = h.params_;
    const int64_t total = p.batches * p.input_depth, n = p.output_depth;
    bool all_zero = true;  // tensor_utils::IsZeroVector over the whole input
    for (int64_t i = 0; i < total && all_zero; ++i) all_zero = input[i] == 0.0f;
    if (all_zero) {
      for (int64_t b = 0; b < p.batches; ++b)
        for (int64_t c = 0; c < n; ++c)
          output[b * n + c] = reference::apply_fused_activation(h.init_[static_cast<std::size_t>(c)], p.activation);
      return;
    }
    quantize_rows_hybrid(input, p.batches, p.input_depth, p.input_quantization, h.q_.data(), h.row_scales_.data(),
                         h.row_zps_.data(), isa);
    run_prequantized(h, h.q_.data(), h.row_scales_.data(), h.row_zps_.data(), output, isa);
  }
};

// output [batches, N] = reference::hybrid_fully_connected(params, input, weights, bias) for the
// prepared layer; input [batches, K] float. No allocation.
inline void hybrid_fully_connected(const PreparedHybridFullyConnected& fc, const float* input, float* output,
                                   Isa isa = selected_isa()) {
  HybridRunner::run(fc, input, output, isa);
}

// reference::hybrid_fully_connected_prequantized for the prepared layer: int8 rows [batches, K]
// with their scales and zero points (null: all 0).
inline void hybrid_fully_connected_prequantized(const PreparedHybridFullyConnected& fc, const int8_t* q_input,
                                                const float* row_scales, const int32_t* row_zero_points,
                                                float* output, Isa isa = selected_isa()) {
  HybridRunner::run_prequantized(fc, q_input, row_scales, row_zero_points, output, isa);
}

PTQ_NAMESPACE_END
