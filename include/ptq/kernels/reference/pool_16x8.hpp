// reference/pool_16x8.hpp: AveragePool2D, MaxPool2D and Mean on int16 activations (TFLite's 16x8
// scheme: symmetric, zero point 0), bit-exact with LiteRT.
//
// TFLite runs these on the reference kernels for int16 in every build; ptq's are scalar too. They take
// the int8 kernels' parameter structs (reference/pool.hpp: PoolParams, MeanParams, with the same
// window, padding and axis folding) and differ from the int8 ones only in the element type and range:
//   average: reference_integer_ops::AveragePool (int16 overload): acc = sum of the raw int16 taps
//            (int32; at most 2^16 taps keep it exact), n = count,
//            avg = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n   (C++ truncation: half away from 0),
//            y = clamp(avg, act_min, act_max)
//   max:     reference_integer_ops::MaxPool (int16 overload): y = clamp(max(-32768, taps...), act_min, act_max)
//   mean:    reference_ops::QuantizedMeanOrSum<int16_t, int32_t> (reduce.cc EvalQuantizedMean under
//            every kernel set for int16): the int8 formula of reference/pool.hpp with
//            set_mean_quantization's readapted multiplier, clamped to [-32768, 32767]:
//              y = clamp(multiply_by_quantized_multiplier(int32(sum - z_in * count), M', shift') + z_out)
//            (sum in int32, wrapping as TFLite's int32 temp_sum; z_in = z_out = 0 in the 16x8 scheme).
// act_min / act_max: calculate_activation_range_quantized<int16_t> (validate_16x8 checks the range).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/pool.hpp"

PTQ_NAMESPACE_BEGIN

// PoolParams::validate plus an int16 activation range and at most 2^16 taps per window (so that the
// int32 sum of the average cannot wrap).
inline Status validate_pool_16x8(const PoolParams& p, const std::string& what = "pool2d_16x8") {
  PTQ_RETURN_IF_ERROR(p.validate(what));
  if (p.filter_height * p.filter_width > (int64_t{1} << 16)) {
    return invalid_argument(what + ": a " + std::to_string(p.filter_height) + "x" + std::to_string(p.filter_width) +
                            " window has more than 2^16 taps");
  }
  return reference::detail::check_activation_range<int16_t>(what, p.activation_min, p.activation_max);
}

namespace reference {

// reference_integer_ops::AveragePool (int16). Precondition: validate_pool_16x8(p) is ok.
inline void average_pool(const PoolParams& p, const int16_t* input, int16_t* output) {
  detail::for_each_output(p, output, [&](int64_t b, int64_t oy, int64_t ox, int64_t c) {
    int32_t acc = 0;
    int32_t count = 0;
    detail::for_each_tap(p, b, oy, ox, c, [&](int64_t i) {
      acc += input[i];
      ++count;
    });
    PTQ_DCHECK(count > 0, "average_pool: a window without taps (call validate())");
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return static_cast<int16_t>(std::min(std::max(acc, p.activation_min), p.activation_max));
  });
}

// reference_integer_ops::MaxPool (int16). Precondition: validate_pool_16x8(p) is ok.
inline void max_pool(const PoolParams& p, const int16_t* input, int16_t* output) {
  detail::for_each_output(p, output, [&](int64_t b, int64_t oy, int64_t ox, int64_t c) {
    int32_t max = std::numeric_limits<int16_t>::lowest();
    detail::for_each_tap(p, b, oy, ox, c, [&](int64_t i) { max = std::max<int32_t>(max, input[i]); });
    return static_cast<int16_t>(std::min(std::max(max, p.activation_min), p.activation_max));
  });
}

// reference_ops::QuantizedMeanOrSum<int16_t, int32_t> (mean). Precondition: p from make_mean_params and
// set_mean_quantization.
inline void mean(const MeanParams& p, const int16_t* input, int16_t* output) {
  if (p.copy) {
    for (int64_t i = 0; i < p.input_size; ++i) output[i] = input[i];
    return;
  }
  for (int64_t o = 0; o < p.num_outputs; ++o) {
    if (p.input_size == 0) {
      output[o] = 0;
      continue;
    }
    const int16_t* base = input + detail::folded_offset(o, p.kept_sizes, p.kept_strides);
    int32_t sum = 0;
    for (int64_t r = 0; r < p.reduced_count; ++r) {
      sum = wrapping_add(sum, base[detail::folded_offset(r, p.reduced_sizes, p.reduced_strides)]);
    }
    const int32_t shifted_sum =
        static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(sum) -
                                                   static_cast<int64_t>(p.input_zero_point) * p.reduced_count));
    const int64_t y = static_cast<int64_t>(multiply_by_quantized_multiplier(shifted_sum, p.multiplier, p.rounding)) +
                      p.output_zero_point;
    output[o] = static_cast<int16_t>(std::min<int64_t>(std::max<int64_t>(y, -32768), 32767));
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
