// reference/hybrid.hpp: dynamic-range ("hybrid") kernels -- float activations quantized on the fly
// per row, int8 weights, float bias and output -- and the per-row quantizers they start with.
//
// TFLite's hybrid kernels disagree with one another on the order of their float operations, and
// bit-exactness is the contract, so each function below follows its TFLite counterpart operation for
// operation. Products of floats are rounded left to right as written; float(acc) is the int32
// accumulator converted to float (exact below 2^24 in magnitude, rounded to nearest-even above).
//
// Per-row quantizers (tensor_utils, reference/portable_tensor_utils.cc):
//   quantize_row_asymmetric  (PortableAsymmetricQuantizeFloats)
//     rmin = min(0, min x), rmax = max(0, max x)             in float, then widened to double
//     rmin == rmax (all zeros)  -> scale 1, zero point 0, every q = 0
//     scale_d = (rmax - rmin) / 255                          double
//     zp_d    = -128 - rmin / scale_d  or  127 - rmax / scale_d, the one whose |qbound| + |r / scale_d|
//               is smaller (the first on ties); zp = -128 if zp_d <= -128, 127 if zp_d >= 127, else
//               round(zp_d) (std::round: ties away from zero)
//     scale = float(scale_d); inv = 1.0f / scale             float division
//     q     = clamp(round(float(zp) + x * inv), -128, 127)   x * inv and the sum in float, round as above
//   quantize_row_symmetric   (PortableSymmetricQuantizeFloats)
//     range = max(|min x|, |max x|) in float; range == 0 -> scale 1, every q = 0
//     scale = range / 127.0f;  inv = 127.0f / range          float divisions
//     q     = clamp(round(x * inv), -127, 127);  zero point 0
//   Defined where TFLite is not (ptq's choice): an empty row gives scale 1 and zero point 0; a value
//   of round()'s argument that is not finite (a denormal range makes inv infinite) is clamped before
//   the integer conversion, NaN mapping to the zero point. Inputs are otherwise assumed finite.
//   quantize_rows (BatchQuantizeFloats) applies one of them to each row; symmetric rows get zero
//   point 0 (TFLite leaves that buffer untouched and reads it as 0 only by convention).
//
// Fully connected (EvalHybridDense + PortableMatrixBatchVectorMultiplyAccumulate with
// per_channel_scale, input_offset and row_sums), for row b and unit n, w_scale[n] = weight_scales[0]
// (per tensor) or weight_scales[n]:
//   dot  = sum_k w[n][k] * q[b][k] - row_sum[n] * zp[b]          int32, wrapping; row_sum = sum_k w[n][k]
//   out  = act(init + float(dot) * (row_scale[b] * w_scale[n]))   init = bias[n], or 0.0f without bias
//   act  = apply_fused_activation (ApplyActivationToVector: ReLU(-0.0) = +0.0).
//   If the whole float input is zero (every element == 0.0f, -0.0 included), TFLite skips the
//   product: out = act(init). (TFLite computes row_scale * w_scale as `scaling_factor *= filter_scale`
//   per tensor and `scale = scaling_factor; scale *= per_channel_scale[n]` per channel: the same
//   product.) TFLite releases before the per-channel hybrid (TF ~2.3) held the row offset in a float,
//   so `dot -= row_sum * offset` was rounded once |dot| passed 2^24; ptq follows today's int32 form.
//
// Matrix times a batch of quantized rows, accumulating (hybrid_matrix_batch_vector_accumulate): the
// dot and scale above, added into a float result that already holds the bias or earlier products,
// as the hybrid sequence ops (recurrent.hpp) use it once per weight matrix and time step:
//   result[b][n] += float(dot) * (row_scale[b] * w_scale[n])
//
// Conv2D: TFLite picks between two kernels (kernels/conv.cc): per channel when the weight scales are
// not all equal or groups != 1, else per tensor. Each batch's whole H x W x C image is one "row".
//   per channel (reference_ops::HybridConvPerChannel), input quantized asymmetrically:
//     acc = sum over in-image taps of w * (q - zp[b])               int32, wrapping
//     out = act(float(acc) * w_scale[oc] * row_scale[b] (+ bias[oc]))   i.e. (acc * w) * s, then + bias
//     (TFLite's optimized HybridConvPerChannel, which its default build runs, multiplies
//     float(acc) * (w * s) instead, so TFLite's own two builds can differ in the last bit; ptq
//     follows the reference kernel.)
//   per tensor (optimized_ops::HybridConv, TFLite's only implementation; im2col pads with q = 0),
//   input quantized symmetrically:
//     acc = sum over in-image taps of w * q                          int32, wrapping
//     out = act((0.0f + float(acc) * (row_scale[b] * w_scale)) (+ bias[oc]))
//   act = activation_with_min_max(x, calculate_activation_range(activation)) (min(max(x, lo), hi)).
//
// Depthwise (reference_integer_ops::DepthwiseConvHybridPerChannel), input quantized asymmetrically:
//     acc = sum over in-image taps of w * (q - zp[b])               int32, wrapping
//     out = act(float(acc) * (w_scale[oc] * row_scale[b]) (+ bias[oc]))   i.e. acc * (w * s), then + bias
//   act as for conv.
//
// Each kernel comes in two stages, as in TFLite: the whole op from float input (which quantizes
// into a caller-owned HybridScratch, growing it only when too small), and the `_prequantized` form
// taking the int8 rows with their scales and zero points (the form SIMD kernels are tested against).
// Layouts are those of fully_connected.hpp, conv.hpp and depthwise_conv.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/conv.hpp"

PTQ_NAMESPACE_BEGIN

// TfLiteFullyConnectedParams::asymmetric_quantize_inputs as a type.
enum class HybridInputQuantization : uint8_t {
  kSymmetric = 0,   // zero point 0, q in [-127, 127] (TFLite's default for fully connected)
  kAsymmetric = 1,  // per-row zero point, q in [-128, 127]
};

// The parameters one row was quantized with: real = (q - zero_point) * scale.
struct RowQuantization {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Caller-owned buffers for the whole-op hybrid kernels: the quantized input and its per-row
// parameters. Reused across calls; grown (allocating) only when a call needs more.
struct HybridScratch {
  std::vector<int8_t> quantized_input;
  std::vector<float> row_scales;
  std::vector<int32_t> row_zero_points;

  void ensure(int64_t rows, int64_t row_size) {
    const auto n = static_cast<std::size_t>(rows * row_size);
    if (quantized_input.size() < n) quantized_input.resize(n);
    if (row_scales.size() < static_cast<std::size_t>(rows)) {
      row_scales.resize(static_cast<std::size_t>(rows));
      row_zero_points.resize(static_cast<std::size_t>(rows));
    }
  }
};

struct HybridFullyConnectedParams {
  int64_t batches = 1;       // rows of input and output
  int64_t input_depth = 0;   // K
  int64_t output_depth = 0;  // N: weight rows
  std::vector<float> weight_scales;  // 1 (per tensor) or output_depth (per channel)
  HybridInputQuantization input_quantization = HybridInputQuantization::kSymmetric;
  FusedActivation activation = FusedActivation::kNone;

  float weight_scale(int64_t n) const {
    return weight_scales.size() == 1 ? weight_scales[0] : weight_scales[static_cast<std::size_t>(n)];
  }

  Status validate() const {
    const std::string what = "hybrid_fully_connected";
    if (batches < 0) return invalid_argument(what + ": batches = " + std::to_string(batches) + " is negative");
    if (input_depth < 0)
      return invalid_argument(what + ": input_depth = " + std::to_string(input_depth) + " is negative");
    if (output_depth < 0)
      return invalid_argument(what + ": output_depth = " + std::to_string(output_depth) + " is negative");
    return reference::detail::check_weight_scales(what, weight_scales, output_depth);
  }
};

struct HybridConv2DParams {
  ConvGeometry geometry;
  int64_t groups = 1;
  std::vector<float> weight_scales;  // 1 (per tensor) or output_channels (per channel)
  FusedActivation activation = FusedActivation::kNone;

  int64_t filter_input_channels() const { return geometry.input_channels / groups; }
  float weight_scale(int64_t oc) const {
    return weight_scales.size() == 1 ? weight_scales[0] : weight_scales[static_cast<std::size_t>(oc)];
  }
  // TFLite's choice (conv.cc Prepare/Eval): the per-channel kernel when the scales are not all equal
  // or the convolution is grouped; the per-tensor kernel otherwise.
  bool uses_per_channel_kernel() const {
    if (groups != 1) return true;
    for (float s : weight_scales) {
      if (s != weight_scales[0]) return true;
    }
    return false;
  }

  Status validate() const {
    const std::string what = "hybrid_conv2d";
    PTQ_RETURN_IF_ERROR(geometry.validate(what));
    if (groups < 1) return invalid_argument(what + ": groups = " + std::to_string(groups) + " must be >= 1");
    if (geometry.input_channels % groups != 0 || geometry.output_channels % groups != 0) {
      return invalid_argument(what + ": groups = " + std::to_string(groups) + " does not divide input_channels = " +
                              std::to_string(geometry.input_channels) + " and output_channels = " +
                              std::to_string(geometry.output_channels));
    }
    return reference::detail::check_weight_scales(what, weight_scales, geometry.output_channels);
  }
};

struct HybridDepthwiseConv2DParams {
  ConvGeometry geometry;
  int64_t depth_multiplier = 1;
  // output_channels scales (TFLite requires one per channel); a single scale is accepted and used
  // for every channel, which is the same arithmetic.
  std::vector<float> weight_scales;
  FusedActivation activation = FusedActivation::kNone;

  float weight_scale(int64_t oc) const {
    return weight_scales.size() == 1 ? weight_scales[0] : weight_scales[static_cast<std::size_t>(oc)];
  }

  Status validate() const {
    const std::string what = "hybrid_depthwise_conv2d";
    PTQ_RETURN_IF_ERROR(geometry.validate(what));
    if (depth_multiplier < 1) {
      return invalid_argument(what + ": depth_multiplier = " + std::to_string(depth_multiplier) + " must be >= 1");
    }
    if (geometry.output_channels != geometry.input_channels * depth_multiplier) {
      return invalid_argument(what + ": output_channels = " + std::to_string(geometry.output_channels) +
                              " is not input_channels * depth_multiplier = " +
                              std::to_string(geometry.input_channels) + " * " + std::to_string(depth_multiplier));
    }
    return reference::detail::check_weight_scales(what, weight_scales, geometry.output_channels);
  }
};

namespace reference {
namespace detail {

// round(v) converted to int32 and clamped to [lo, hi], for v that may be +-inf or NaN (see header).
inline int32_t round_to_int_clamped(float v, float lo, float hi, int32_t nan_value) {
  if (std::isnan(v)) return nan_value;
  v = std::min(std::max(v, lo), hi);  // lo, hi integral: clamping before or after round() agrees
  return static_cast<int32_t>(std::round(v));
}

// a - b * c with int32 wrap-around.
constexpr int32_t wrapping_sub_mul(int32_t a, int32_t b, int32_t c) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b) * static_cast<uint32_t>(c));
}

// sum_k w[k] * q[k] - row_sum * zp with row_sum = sum_k w[k], int32 wrapping: one weight row against
// one quantized input row (PortableMatrixBatchVectorMultiplyAccumulate's `dotprod -= row_sums[row] *
// batch_offset`, with the row sum accumulated alongside instead of cached).
inline int32_t hybrid_row_dot(const int8_t* w_row, const int8_t* q_row, int64_t depth, int32_t zp) {
  int32_t dot = 0;
  int32_t row_sum = 0;
  for (int64_t k = 0; k < depth; ++k) {
    dot = wrapping_mac(dot, w_row[k], q_row[k]);
    row_sum = wrapping_add(row_sum, w_row[k]);
  }
  return wrapping_sub_mul(dot, row_sum, zp);
}

}  // namespace detail

// ---- per-row quantizers -----------------------------------------------------------------------

// tensor_utils::PortableAsymmetricQuantizeFloats: x[0, n) -> q[0, n) in [-128, 127].
inline RowQuantization quantize_row_asymmetric(const float* x, int64_t n, int8_t* q) {
  if (n <= 0) return {1.0f, 0};
  float lo = x[0], hi = x[0];
  for (int64_t i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const double rmin = static_cast<double>(std::min(0.0f, lo));
  const double rmax = static_cast<double>(std::max(0.0f, hi));
  if (rmin == rmax) {
    std::fill(q, q + n, int8_t{0});
    return {1.0f, 0};
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
  RowQuantization r;
  r.scale = static_cast<float>(scale);
  r.zero_point = zero_point;
  const float inv = 1.0f / r.scale;
  const float zp = static_cast<float>(zero_point);
  for (int64_t i = 0; i < n; ++i) {
    q[i] = static_cast<int8_t>(detail::round_to_int_clamped(zp + x[i] * inv, -128.0f, 127.0f, zero_point));
  }
  return r;
}

// tensor_utils::PortableSymmetricQuantizeFloats: x[0, n) -> q[0, n) in [-127, 127], zero point 0.
inline RowQuantization quantize_row_symmetric(const float* x, int64_t n, int8_t* q) {
  if (n <= 0) return {1.0f, 0};
  float lo = x[0], hi = x[0];
  for (int64_t i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float range = std::max(std::abs(lo), std::abs(hi));
  if (range == 0.0f) {
    std::fill(q, q + n, int8_t{0});
    return {1.0f, 0};
  }
  RowQuantization r;
  r.scale = range / 127.0f;
  const float inv = 127.0f / range;
  for (int64_t i = 0; i < n; ++i) {
    q[i] = static_cast<int8_t>(detail::round_to_int_clamped(x[i] * inv, -127.0f, 127.0f, 0));
  }
  return r;
}

// tensor_utils::BatchQuantizeFloats: `rows` rows of `row_size` values, each with its own parameters.
inline void quantize_rows(const float* x, int64_t rows, int64_t row_size, HybridInputQuantization mode, int8_t* q,
                          float* scales, int32_t* zero_points) {
  for (int64_t r = 0; r < rows; ++r) {
    const RowQuantization rq = mode == HybridInputQuantization::kAsymmetric
                                   ? quantize_row_asymmetric(x + r * row_size, row_size, q + r * row_size)
                                   : quantize_row_symmetric(x + r * row_size, row_size, q + r * row_size);
    scales[r] = rq.scale;
    zero_points[r] = rq.zero_point;
  }
}

// ---- fully connected --------------------------------------------------------------------------

// tensor_utils::PortableMatrixBatchVectorMultiplyAccumulate (per_channel_scale, input_offset,
// row_sums) onto a result initialised with the bias, then ApplyActivationToVector, as
// EvalHybridDense does. q_input [batches, K]; row_scales, row_zero_points [batches]
// (row_zero_points may be null: all 0); weights [N, K]; bias [N] or null; output [batches, N].
inline void hybrid_fully_connected_prequantized(const HybridFullyConnectedParams& p, const int8_t* q_input,
                                                const float* row_scales, const int32_t* row_zero_points,
                                                const int8_t* weights, const float* bias, float* output) {
  PTQ_DCHECK(!p.weight_scales.empty(), "hybrid_fully_connected: no weight scales (call validate())");
  for (int64_t b = 0; b < p.batches; ++b) {
    const int8_t* q_row = q_input + b * p.input_depth;
    const int32_t zp = row_zero_points != nullptr ? row_zero_points[b] : 0;
    for (int64_t n = 0; n < p.output_depth; ++n) {
      const int32_t dot = detail::hybrid_row_dot(weights + n * p.input_depth, q_row, p.input_depth, zp);
      const float scale = row_scales[b] * p.weight_scale(n);
      float acc = bias != nullptr ? bias[n] : 0.0f;
      acc += static_cast<float>(dot) * scale;
      output[b * p.output_depth + n] = apply_fused_activation(acc, p.activation);
    }
  }
}

// builtin::fully_connected::EvalHybridDense: quantize each input row (p.input_quantization), then
// hybrid_fully_connected_prequantized. input [batches, K] float.
inline void hybrid_fully_connected(const HybridFullyConnectedParams& p, const float* input, const int8_t* weights,
                                   const float* bias, float* output, HybridScratch& scratch) {
  const int64_t total = p.batches * p.input_depth;
  bool all_zero = true;  // tensor_utils::IsZeroVector over the whole input
  for (int64_t i = 0; i < total && all_zero; ++i) all_zero = input[i] == 0.0f;
  if (all_zero) {
    for (int64_t b = 0; b < p.batches; ++b) {
      for (int64_t n = 0; n < p.output_depth; ++n) {
        output[b * p.output_depth + n] = apply_fused_activation(bias != nullptr ? bias[n] : 0.0f, p.activation);
      }
    }
    return;
  }
  scratch.ensure(p.batches, p.input_depth);
  quantize_rows(input, p.batches, p.input_depth, p.input_quantization, scratch.quantized_input.data(),
                scratch.row_scales.data(), scratch.row_zero_points.data());
  hybrid_fully_connected_prequantized(p, scratch.quantized_input.data(), scratch.row_scales.data(),
                                      scratch.row_zero_points.data(), weights, bias, output);
}

// tensor_utils::PortableMatrixBatchVectorMultiplyAccumulate (scaling_factors, per_channel_scale,
// input_offset, row_sums) as the hybrid sequence ops call it (kernel_utils::RnnBatchStep,
// lstm_eval.cc CalculateLstmGateHybrid): accumulates into a float result that already holds the
// bias or earlier products. For vector b and weight row n:
//   result[b * rows + n] += float(hybrid_row_dot(w[n], q[b], depth, zp[b])) * (row_scale[b] * w_scale[n])
// weights [rows, depth]; weight_scales holds 1 (per tensor) or `rows` (per row) values; q_vectors
// [batches, depth] with vector_scales and vector_zero_points [batches] (zero points may be null: all
// 0). TFLite forms the scale as `scaling_factors[b] *= weight_scale` (RNN), `sf[b] * weight_scale`
// (LSTM) or `scale = sf[b]; scale *= per_channel_scale[n]`: the same float product.
inline void hybrid_matrix_batch_vector_accumulate(const int8_t* weights, int64_t rows, int64_t depth,
                                                  const float* weight_scales, int64_t weight_scale_count,
                                                  const int8_t* q_vectors, const float* vector_scales,
                                                  const int32_t* vector_zero_points, int64_t batches,
                                                  float* result) {
  PTQ_DCHECK(weight_scale_count == 1 || weight_scale_count == rows,
             "hybrid_matrix_batch_vector_accumulate: need 1 or `rows` weight scales");
  for (int64_t b = 0; b < batches; ++b) {
    const int8_t* q_row = q_vectors + b * depth;
    const int32_t zp = vector_zero_points != nullptr ? vector_zero_points[b] : 0;
    for (int64_t n = 0; n < rows; ++n) {
      const int32_t dot = detail::hybrid_row_dot(weights + n * depth, q_row, depth, zp);
      const float scale = vector_scales[b] * weight_scales[weight_scale_count == 1 ? 0 : n];
      result[b * rows + n] += static_cast<float>(dot) * scale;
    }
  }
}

// ---- conv2d -----------------------------------------------------------------------------------

namespace detail {

// sum over in-image taps of w * (q - zp), int32 wrapping; shared by both hybrid conv kernels.
inline int32_t hybrid_conv_acc(const ConvGeometry& g, int64_t fic, int64_t group, const int8_t* q_input,
                               int32_t zp, const int8_t* weights, int64_t b, int64_t oy, int64_t ox,
                               int64_t oc) {
  int32_t acc = 0;
  for (int64_t fy = 0; fy < g.filter_height; ++fy) {
    for (int64_t fx = 0; fx < g.filter_width; ++fx) {
      int64_t iy, ix;
      if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
      const int8_t* x = q_input + ((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + group * fic;
      const int8_t* w = weights + ((oc * g.filter_height + fy) * g.filter_width + fx) * fic;
      for (int64_t ic = 0; ic < fic; ++ic) acc = wrapping_mac(acc, w[ic], static_cast<int32_t>(x[ic]) - zp);
    }
  }
  return acc;
}

}  // namespace detail

// reference_ops::HybridConvPerChannel. q_input [N, H, W, C] int8; batch_scales and
// batch_zero_points [N] (zero points may be null: all 0); weights [OC, KH, KW, C / groups]; bias
// [OC] or null; output [N, OH, OW, OC] float.
inline void hybrid_conv2d_per_channel_prequantized(const HybridConv2DParams& p, const int8_t* q_input,
                                                   const float* batch_scales, const int32_t* batch_zero_points,
                                                   const int8_t* weights, const float* bias, float* output) {
  PTQ_DCHECK(!p.weight_scales.empty() && p.groups >= 1, "hybrid_conv2d: invalid params (call validate())");
  const ConvGeometry& g = p.geometry;
  const FloatActivationRange range = calculate_activation_range(p.activation);
  const int64_t fic = p.filter_input_channels();
  const int64_t filters_per_group = g.output_channels / p.groups;
  for (int64_t b = 0; b < g.batches; ++b) {
    const int32_t zp = batch_zero_points != nullptr ? batch_zero_points[b] : 0;
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t oc = 0; oc < g.output_channels; ++oc) {
          const int32_t acc =
              detail::hybrid_conv_acc(g, fic, oc / filters_per_group, q_input, zp, weights, b, oy, ox, oc);
          float v = static_cast<float>(acc) * p.weight_scale(oc) * batch_scales[b];
          if (bias != nullptr) v += bias[oc];
          output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
              activation_with_min_max(v, range.min, range.max);
        }
      }
    }
  }
}

// optimized_ops::HybridConv (per-tensor weights, symmetric input, groups == 1). Arguments as for
// hybrid_conv2d_per_channel_prequantized without zero points (symmetric rows have zero point 0).
inline void hybrid_conv2d_per_tensor_prequantized(const HybridConv2DParams& p, const int8_t* q_input,
                                                  const float* batch_scales, const int8_t* weights,
                                                  const float* bias, float* output) {
  PTQ_DCHECK(!p.weight_scales.empty() && p.groups == 1,
             "hybrid_conv2d_per_tensor: needs a weight scale and groups == 1");
  const ConvGeometry& g = p.geometry;
  const FloatActivationRange range = calculate_activation_range(p.activation);
  const float weight_scale = p.weight_scales[0];
  for (int64_t b = 0; b < g.batches; ++b) {
    const float scale = batch_scales[b] * weight_scale;  // scaling_factors_ptr[b] *= filter scale
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t oc = 0; oc < g.output_channels; ++oc) {
          const int32_t acc =
              detail::hybrid_conv_acc(g, g.input_channels, 0, q_input, 0, weights, b, oy, ox, oc);
          float v = 0.0f;  // the output buffer is zero-filled, then accumulated into
          v += static_cast<float>(acc) * scale;
          if (bias != nullptr) v = v + bias[oc];  // AddBiasAndEvalActivationFunction
          output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
              activation_with_min_max(v, range.min, range.max);
        }
      }
    }
  }
}

// builtin::conv::EvalHybridPerChannel / EvalHybrid: quantize each batch image (asymmetric for the
// per-channel kernel, symmetric for the per-tensor one; see p.uses_per_channel_kernel()), then run
// the matching kernel. input [N, H, W, C] float.
inline void hybrid_conv2d(const HybridConv2DParams& p, const float* input, const int8_t* weights, const float* bias,
                          float* output, HybridScratch& scratch) {
  const ConvGeometry& g = p.geometry;
  const int64_t image = g.input_height * g.input_width * g.input_channels;
  scratch.ensure(g.batches, image);
  if (p.uses_per_channel_kernel()) {
    quantize_rows(input, g.batches, image, HybridInputQuantization::kAsymmetric, scratch.quantized_input.data(),
                  scratch.row_scales.data(), scratch.row_zero_points.data());
    hybrid_conv2d_per_channel_prequantized(p, scratch.quantized_input.data(), scratch.row_scales.data(),
                                           scratch.row_zero_points.data(), weights, bias, output);
  } else {
    quantize_rows(input, g.batches, image, HybridInputQuantization::kSymmetric, scratch.quantized_input.data(),
                  scratch.row_scales.data(), scratch.row_zero_points.data());
    hybrid_conv2d_per_tensor_prequantized(p, scratch.quantized_input.data(), scratch.row_scales.data(), weights,
                                          bias, output);
  }
}

// ---- depthwise conv2d -------------------------------------------------------------------------

// reference_integer_ops::DepthwiseConvHybridPerChannel. q_input [N, H, W, C] int8; batch_scales and
// batch_zero_points [N] (zero points may be null: all 0); weights [1, KH, KW, C * depth_multiplier];
// bias [OC] or null; output [N, OH, OW, OC] float.
inline void hybrid_depthwise_conv2d_prequantized(const HybridDepthwiseConv2DParams& p, const int8_t* q_input,
                                                 const float* batch_scales, const int32_t* batch_zero_points,
                                                 const int8_t* weights, const float* bias, float* output) {
  PTQ_DCHECK(!p.weight_scales.empty() && p.depth_multiplier >= 1,
             "hybrid_depthwise_conv2d: invalid params (call validate())");
  const ConvGeometry& g = p.geometry;
  const FloatActivationRange range = calculate_activation_range(p.activation);
  for (int64_t b = 0; b < g.batches; ++b) {
    const int32_t zp = batch_zero_points != nullptr ? batch_zero_points[b] : 0;
    for (int64_t oy = 0; oy < g.output_height; ++oy) {
      for (int64_t ox = 0; ox < g.output_width; ++ox) {
        for (int64_t ic = 0; ic < g.input_channels; ++ic) {
          for (int64_t m = 0; m < p.depth_multiplier; ++m) {
            const int64_t oc = ic * p.depth_multiplier + m;
            int32_t acc = 0;
            for (int64_t fy = 0; fy < g.filter_height; ++fy) {
              for (int64_t fx = 0; fx < g.filter_width; ++fx) {
                int64_t iy, ix;
                if (!conv_tap(g, oy, ox, fy, fx, &iy, &ix)) continue;
                const int32_t x = q_input[((b * g.input_height + iy) * g.input_width + ix) * g.input_channels + ic];
                const int32_t w = weights[(fy * g.filter_width + fx) * g.output_channels + oc];
                acc = wrapping_mac(acc, w, x - zp);
              }
            }
            float v = static_cast<float>(acc);
            v *= p.weight_scale(oc) * batch_scales[b];
            if (bias != nullptr) v += bias[oc];
            output[((b * g.output_height + oy) * g.output_width + ox) * g.output_channels + oc] =
                activation_with_min_max(v, range.min, range.max);
          }
        }
      }
    }
  }
}

// builtin::depthwise_conv::EvalHybridPerChannel: quantize each batch image asymmetrically, then
// hybrid_depthwise_conv2d_prequantized. input [N, H, W, C] float.
inline void hybrid_depthwise_conv2d(const HybridDepthwiseConv2DParams& p, const float* input,
                                    const int8_t* weights, const float* bias, float* output,
                                    HybridScratch& scratch) {
  const ConvGeometry& g = p.geometry;
  const int64_t image = g.input_height * g.input_width * g.input_channels;
  scratch.ensure(g.batches, image);
  quantize_rows(input, g.batches, image, HybridInputQuantization::kAsymmetric, scratch.quantized_input.data(),
                scratch.row_scales.data(), scratch.row_zero_points.data());
  hybrid_depthwise_conv2d_prequantized(p, scratch.quantized_input.data(), scratch.row_scales.data(),
                                       scratch.row_zero_points.data(), weights, bias, output);
}

}  // namespace reference
PTQ_NAMESPACE_END
