// reference/batch_matmul.hpp: batched matrix multiply with numpy broadcasting over the batch dims,
// float32 and int8 (per-tensor parameters), the oracle for any faster BatchMatMul.
//
// TFLite: kernels/batch_matmul.cc (Prepare, EvalInt8Int8) and reference_ops::BatchMatMul.
// lhs is [..., M, K] (adj_x: [..., K, M], read transposed), rhs is [..., K, N] (adj_y: [..., N, K]),
// the output [..., M, N], all row-major. The batch dims (all but the last two) are aligned from the
// right, a missing one counting as 1, and broadcast: each output batch dim is the inputs' common
// value or the one that is not 1. For output batch b, row m and column n:
//
//   float:  y = sum_k lhs[b][m][k] * rhs[b][k][n]
//           in float, k ascending from 0.0f, each product rounded to float before it is added (no
//           FMA, whatever -ffp-contract the including TU uses): reference_ops::BatchMatMul<float>
//           as written. TFLite's default (optimized) kernel goes through ruy/Eigen, whose summation
//           order differs, so float results agree with it only to rounding.
//   int8:   acc = sum_k (lhs[b][m][k] - lhs_zp) * (rhs[b][k][n] - rhs_zp)    int32, wrapping
//           y   = clamp(multiply_by_quantized_multiplier(acc, M) + out_zp, -128, 127)
//           M   = quantize_multiplier(double(float(lhs_scale * rhs_scale)) / double(out_scale)),
//                 GetQuantizedConvolutionMultipler without bias (the scale product rounded to float
//                 first); batch_matmul_multiplier below. BatchMatMul has no fused activation in
//                 TFLite, so the clamp is int8's range; the params carry it (activation_min/max) so
//                 a caller may narrow it. TFLite has no zero-point restriction for int8 (int16
//                 requires 0, not implemented here) and reads the lhs as the "input" and the rhs
//                 as the "filter" (input_offset = -lhs_zp, weights_offset = -rhs_zp).
//   Multiplication and rounding: multiply_by_quantized_multiplier in the params' RoundingMode; the
//   output zero point is added in int64 and the sum clamped (quantized_output_stage, activation.hpp).
//
// TFLite supports ranks 2 to 5; ptq accepts 2 to 6 (up to 4 batch dims).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/data.hpp"

PTQ_NAMESPACE_BEGIN

struct BatchMatMulParams {
  static constexpr int kMaxBatchRank = 4;

  // Batch dims, aligned from the right and padded with 1s to batch_rank (= output rank - 2).
  int batch_rank = 0;
  int64_t lhs_batch[kMaxBatchRank] = {};
  int64_t rhs_batch[kMaxBatchRank] = {};
  int64_t rows = 0;   // M
  int64_t depth = 0;  // K
  int64_t cols = 0;   // N
  bool adj_x = false, adj_y = false;

  // int8 only.
  int32_t lhs_zero_point = 0;
  int32_t rhs_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier multiplier;
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  // The geometry from the operand shapes (TFLite's Prepare): ranks in [2, 6], batch dims that
  // broadcast, and matching depths. Messages name "lhs" and "rhs".
  static Result<BatchMatMulParams> make(const Shape& lhs, const Shape& rhs, bool adj_x, bool adj_y) {
    const std::string what = "batch_matmul";
    for (const Shape* s : {&lhs, &rhs}) {
      const char* name = s == &lhs ? "lhs" : "rhs";
      if (s->rank() < 2 || s->rank() > kMaxBatchRank + 2) {
        return invalid_argument(what + ": " + name + " " + s->to_string() + " has rank " + std::to_string(s->rank()) +
                                "; expected 2 to " + std::to_string(kMaxBatchRank + 2));
      }
      for (int64_t d : s->dims()) {
        if (d < 0) return invalid_argument(what + ": " + name + " " + s->to_string() + " has a negative dim");
      }
    }
    BatchMatMulParams p;
    p.adj_x = adj_x;
    p.adj_y = adj_y;
    const int lr = lhs.rank(), rr = rhs.rank();
    p.batch_rank = (lr > rr ? lr : rr) - 2;
    for (int i = 0; i < p.batch_rank; ++i) {
      // Output batch dim i, counted from the left of the aligned (right-justified) shapes.
      const int li = i - (p.batch_rank - (lr - 2)), ri = i - (p.batch_rank - (rr - 2));
      p.lhs_batch[i] = li >= 0 ? lhs[li] : 1;
      p.rhs_batch[i] = ri >= 0 ? rhs[ri] : 1;
      if (p.lhs_batch[i] != p.rhs_batch[i] && p.lhs_batch[i] != 1 && p.rhs_batch[i] != 1) {
        return invalid_argument(what + ": batch dims of lhs " + lhs.to_string() + " and rhs " + rhs.to_string() +
                                " do not broadcast (output batch dim " + std::to_string(i) + ": " +
                                std::to_string(p.lhs_batch[i]) + " vs " + std::to_string(p.rhs_batch[i]) + ")");
      }
    }
    p.rows = adj_x ? lhs[lr - 1] : lhs[lr - 2];
    p.depth = adj_x ? lhs[lr - 2] : lhs[lr - 1];
    const int64_t rhs_depth = adj_y ? rhs[rr - 1] : rhs[rr - 2];
    p.cols = adj_y ? rhs[rr - 2] : rhs[rr - 1];
    if (rhs_depth != p.depth) {
      return invalid_argument(what + ": lhs " + lhs.to_string() + (adj_x ? " (adj_x)" : "") + " has depth " +
                              std::to_string(p.depth) + " but rhs " + rhs.to_string() + (adj_y ? " (adj_y)" : "") +
                              " has depth " + std::to_string(rhs_depth));
    }
    return p;
  }

  int64_t output_batch(int i) const { return lhs_batch[i] == 1 ? rhs_batch[i] : lhs_batch[i]; }
  int64_t batches() const {
    int64_t n = 1;
    for (int i = 0; i < batch_rank; ++i) n *= output_batch(i);
    return n;
  }
  Shape output_shape() const {
    std::vector<int64_t> dims;
    for (int i = 0; i < batch_rank; ++i) dims.push_back(output_batch(i));
    dims.push_back(rows);
    dims.push_back(cols);
    return Shape(std::move(dims));
  }

  // Geometry as make() leaves it: batch rank in [0, 4], non-negative sizes, broadcastable batches.
  Status validate() const {
    const std::string what = "batch_matmul";
    if (batch_rank < 0 || batch_rank > kMaxBatchRank) {
      return invalid_argument(what + ": batch_rank = " + std::to_string(batch_rank) + " is outside [0, " +
                              std::to_string(kMaxBatchRank) + "]");
    }
    if (rows < 0 || depth < 0 || cols < 0) return invalid_argument(what + ": negative rows, depth or cols");
    for (int i = 0; i < batch_rank; ++i) {
      if (lhs_batch[i] < 0 || rhs_batch[i] < 0 ||
          (lhs_batch[i] != rhs_batch[i] && lhs_batch[i] != 1 && rhs_batch[i] != 1)) {
        return invalid_argument(what + ": batch dim " + std::to_string(i) + " (" + std::to_string(lhs_batch[i]) +
                                " vs " + std::to_string(rhs_batch[i]) + ") does not broadcast");
      }
    }
    return {};
  }

  // What the int8 kernel assumes besides validate(): zero points in int8's range, a multiplier the
  // rounding mode accepts, and a clamp inside int8's range.
  Status validate_int8() const {
    const std::string what = "batch_matmul";
    PTQ_RETURN_IF_ERROR(validate());
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "lhs_zero_point", lhs_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "rhs_zero_point", rhs_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_in_range(what, "output_zero_point", output_zero_point, -128, 127));
    PTQ_RETURN_IF_ERROR(reference::detail::check_multiplier(what, "multiplier", multiplier, rounding));
    return reference::detail::check_activation_range<int8_t>(what, activation_min, activation_max);
  }
};

// TFLite's BatchMatMul Prepare: GetQuantizedConvolutionMultipler (no bias),
// double(float(lhs_scale * rhs_scale)) / double(out_scale), through quantize_multiplier.
inline QuantizedMultiplier batch_matmul_multiplier(float lhs_scale, float rhs_scale, float output_scale,
                                                   RoundingMode rounding = kDefaultRounding) {
  const float product = lhs_scale * rhs_scale;
  return quantize_multiplier(static_cast<double>(product) / static_cast<double>(output_scale), rounding);
}

namespace reference {
namespace batch_matmul_detail {

// Calls fn(out_batch, lhs_offset, rhs_offset) for every output batch in order, with the element
// offsets of the operands' matrices (a broadcast dim does not advance its operand).
template <class Fn>
void for_each_batch(const BatchMatMulParams& p, Fn fn) {
  const int64_t lhs_matrix = p.rows * p.depth, rhs_matrix = p.depth * p.cols;
  int64_t lhs_stride[BatchMatMulParams::kMaxBatchRank] = {}, rhs_stride[BatchMatMulParams::kMaxBatchRank] = {};
  int64_t ls = lhs_matrix, rs = rhs_matrix;
  for (int i = p.batch_rank - 1; i >= 0; --i) {
    lhs_stride[i] = p.lhs_batch[i] == 1 ? 0 : ls;
    rhs_stride[i] = p.rhs_batch[i] == 1 ? 0 : rs;
    ls *= p.lhs_batch[i];
    rs *= p.rhs_batch[i];
  }
  const int64_t batches = p.batches();
  for (int64_t b = 0; b < batches; ++b) {
    int64_t rest = b, lhs_offset = 0, rhs_offset = 0;
    for (int i = p.batch_rank - 1; i >= 0; --i) {
      const int64_t extent = p.output_batch(i);
      const int64_t index = rest % extent;
      rest /= extent;
      lhs_offset += index * lhs_stride[i];
      rhs_offset += index * rhs_stride[i];
    }
    fn(b, lhs_offset, rhs_offset);
  }
}

// Element (m, k) of an lhs matrix and (k, n) of an rhs matrix, honouring adj_x / adj_y.
inline int64_t lhs_index(const BatchMatMulParams& p, int64_t m, int64_t k) {
  return p.adj_x ? k * p.rows + m : m * p.depth + k;
}
inline int64_t rhs_index(const BatchMatMulParams& p, int64_t k, int64_t n) {
  return p.adj_y ? n * p.depth + k : k * p.cols + n;
}

}  // namespace batch_matmul_detail

// reference_ops::BatchMatMul<float>. Preconditions: p.validate() is ok; lhs, rhs and output hold
// their shapes' element counts; output overlaps neither operand.
inline void batch_matmul(const BatchMatMulParams& p, const float* lhs, const float* rhs, float* output) {
  batch_matmul_detail::for_each_batch(p, [&](int64_t b, int64_t lo, int64_t ro) {
    const float* l = lhs + lo;
    const float* r = rhs + ro;
    float* y = output + b * p.rows * p.cols;
    for (int64_t m = 0; m < p.rows; ++m) {
      for (int64_t n = 0; n < p.cols; ++n) {
        float total = 0.0f;
        for (int64_t k = 0; k < p.depth; ++k) {
          total += data_detail::unfused_mul(l[batch_matmul_detail::lhs_index(p, m, k)],
                                            r[batch_matmul_detail::rhs_index(p, k, n)]);
        }
        y[m * p.cols + n] = total;
      }
    }
  });
}

// reference_ops::BatchMatMul<int8_t, int32_t> as EvalInt8Int8 calls it. Preconditions:
// p.validate_int8() is ok; sizes as for the float version.
inline void batch_matmul(const BatchMatMulParams& p, const int8_t* lhs, const int8_t* rhs, int8_t* output) {
  PTQ_DCHECK(p.activation_min <= p.activation_max, "batch_matmul: empty activation range (call validate_int8())");
  batch_matmul_detail::for_each_batch(p, [&](int64_t b, int64_t lo, int64_t ro) {
    const int8_t* l = lhs + lo;
    const int8_t* r = rhs + ro;
    int8_t* y = output + b * p.rows * p.cols;
    for (int64_t m = 0; m < p.rows; ++m) {
      for (int64_t n = 0; n < p.cols; ++n) {
        int32_t acc = 0;
        for (int64_t k = 0; k < p.depth; ++k) {
          acc = wrapping_mac(acc, static_cast<int32_t>(l[batch_matmul_detail::lhs_index(p, m, k)]) - p.lhs_zero_point,
                             static_cast<int32_t>(r[batch_matmul_detail::rhs_index(p, k, n)]) - p.rhs_zero_point);
        }
        y[m * p.cols + n] = static_cast<int8_t>(quantized_output_stage(
            acc, p.multiplier, p.rounding, p.output_zero_point, p.activation_min, p.activation_max));
      }
    }
  });
}

}  // namespace reference
PTQ_NAMESPACE_END
