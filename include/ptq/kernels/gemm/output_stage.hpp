// gemm/output_stage.hpp: what happens to a tile of int32 accumulators after the microkernel: the
// quantized output stage (int8) or the accumulators themselves (int32), and its scalar version.
//
// For every accumulator acc (the bias, with the activation zero point folded in at pack time,
// is already inside it; see pack.hpp), output column n:
//   int8:  y = clamp(multiply_by_quantized_multiplier(acc, m[n], shift[n]) + y_zp, act_min, act_max)
//          multiply_by_quantized_multiplier in the layer's RoundingMode (core/fixed_point.hpp); the
//          SIMD stages clamp to [act_min - y_zp, act_max - y_zp] and then add y_zp, which equals
//          the reference's int64 sum-then-clamp without an int32 overflow (reference/activation.hpp).
//   int32: y = acc                                         (reference::fully_connected_accumulators)
// Per-tensor parameters are replicated per column at pack time, so one code path serves both.
#pragma once

#include <cstdint>
#include <cstring>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN
namespace gemm {

// The output stage of one panel: per-column arrays start at the panel's first column.
struct OutputStage {
  const int32_t* multipliers = nullptr;  // Q0.31 mantissas, >= 0
  const int32_t* shifts = nullptr;       // in [-31, 31] (kDouble) or [-31, 30] (kSingle)
  int32_t output_zero_point = 0;
  int32_t activation_min = -128;
  int32_t activation_max = 127;
  RoundingMode rounding = kDefaultRounding;
};

// A tile: `rows` x `cols` accumulators at acc[r * nr + c] (cols <= nr), written to
// out[r * out_stride + c].
inline void output_stage_scalar(int rows, int cols, int nr, const int32_t* acc, const OutputStage& os,
                                int8_t* out, int64_t out_stride) {
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const QuantizedMultiplier m{os.multipliers[c], os.shifts[c]};
      out[r * out_stride + c] = static_cast<int8_t>(
          reference::quantized_output_stage(acc[r * nr + c], m, os.rounding, os.output_zero_point,
                                 os.activation_min, os.activation_max));
    }
  }
}

inline void output_stage_i32(int rows, int cols, int nr, const int32_t* acc, int32_t* out,
                             int64_t out_stride) {
  for (int r = 0; r < rows; ++r) {
    std::memcpy(out + r * out_stride, acc + r * nr, static_cast<std::size_t>(cols) * sizeof(int32_t));
  }
}

}  // namespace gemm
PTQ_NAMESPACE_END
