// reference/pool_16x8.hpp: AveragePool2D, MaxPool2D and Mean on int16 activations (TFLite's 16x8
// scheme: symmetric, zero point 0), bit-exact with LiteRT.
//
// TFLite runs these on the reference kernels for int16 in every build; ptq's are scalar too: the
// kernels are reference/pool.hpp's average_pool, max_pool and mean, templates on int8_t and int16_t,
// and this header adds the int16 checks. They take the int8 kernels' parameter structs (reference/pool.hpp: PoolParams, MeanParams, with the same
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

PTQ_NAMESPACE_END
