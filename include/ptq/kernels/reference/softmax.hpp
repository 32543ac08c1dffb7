// reference/softmax.hpp: Softmax (over the last axis), Logistic and Tanh in float32 and int8,
// bit-exact with TFLite.
//
// Float (TFLite reference_ops, kernels/internal/reference/{softmax,logistic,tanh}.h):
//   softmax   per row: m = max(lowest, x...) (std::max from the lowest float), e_c = std::exp((x_c - m)
//             * beta) in float, sum = e_0 + e_1 + ... in order, y_c = e_c / sum.
//   logistic  x > 16.619047164916992188 -> 1; x < -9 -> std::exp(x); else 1 / (1 + std::exp(-x)), float.
//   tanh      std::tanh(x), float.
//
// int8 softmax (TFLite's kReference path: activations.cc SoftmaxPrepare with kernel_type kReference,
// reference_ops::Softmax<int8_t, int8_t>). Prepare (make_softmax_params):
//   real = min(beta * input_scale * 2^26, M_max) in double, M_max = 2^31 - 1 (2^30 - 1 with single
//   rounding)                                           (PreprocessSoftmaxScaling, 5 integer bits)
//   (input_multiplier, input_left_shift) = quantize_multiplier(real); real must be > 1, as TFLite's
//   QuantizeMultiplierGreaterThanOne checks
//   diff_min = -calculate_input_radius(5, input_left_shift)          (CalculateInputRadius, 31 bits)
// Run, per row of `depth` values (output scale 1/256, zero point -128 by contract):
//   m = max(-128, x...);  d_c = x_c - m  (<= 0)
//   for d_c >= diff_min: e_c = exp_on_negative_values<5>(MultiplyByQuantizedMultiplierGreaterThanOne(
//                        d_c, input_multiplier, input_left_shift))      Q5.26 in, Q0.31 out
//   sum = sum of rescale<12, 0>(e_c)                   Q12.19, int32 wrap-around
//   r = get_reciprocal(sum, 12, &num_bits_over_unit); exponent = num_bits_over_unit + 31 - 8
//   y_c = clamp(rounding_divide_by_pot(r * e_c, exponent) - 128, -128, 127) for d_c >= diff_min,
//   else y_c = -128.                        (r * e_c: saturating_rounding_doubling_high_mul)
//   TFLite aborts (TFLITE_CHECK) when exponent leaves [0, 31], which needs the Q12 sum to wrap
//   (rows of 4096 or more near-maximal values); ptq clamps the exponent there instead of aborting.
//   The multiply follows the RoundingMode (TFLITE_SINGLE_ROUNDING defines
//   MultiplyByQuantizedMultiplierGreaterThanOne as the single-rounding multiply).
// TFLite's default (optimized) kernel is a different formulation: PopulateSoftmaxLookupTable, a
// float exp table, float sums and std::round, which can differ from the above in the last bit. ptq
// follows the reference kernel (BUILTIN_REF), the one defined by integer arithmetic alone.
//
// int8 logistic and tanh. Two TFLite formulations, both here:
//   (a) lookup table (int8_lut, logistic_lut / tanh_lut): what TFLite's interpreter runs for int8
//       in both its reference (BUILTIN_REF) and default builds -- activations.cc SigmoidPrepare /
//       TanhPrepare populate a 256-entry table with LUTPopulate<int8_t>:
//         table[uint8(q)] = clamp(int32(round(f(s_in * (q - z_in)) * (1 / s_out)) + z_out), -128, 127)
//       all in float (s_in * (q - z_in) with q - z_in converted to float; 1 / s_out in float;
//       round = std::round, ties away from zero; the zero point added in float), with
//       f(x) = 1 / (1 + std::exp(-x)) (logistic) or std::tanh(x) (tanh), float.
//       Output parameters are 1/256, -128 (logistic) and 1/128, 0 (tanh) by contract.
//   (b) fixed point (logistic_fixed_point / tanh_fixed_point): reference_integer_ops::Logistic /
//       Tanh for int8, which TFLite Micro runs (and TFLite's own BUILTIN_REF ran before it switched
//       to the table), with Micro's prepare (logistic_common.cc / tanh_common.cc):
//         (input_multiplier, input_left_shift) = frexp(s_in * 2^27) with the mantissa rounded to
//         31 bits (quantize_multiplier in double-rounding form), input_range_radius =
//         calculate_input_radius(4, input_left_shift, 31); per element, with d = q - z_in:
//           d <= -radius -> -128;  d >= radius -> 127;  otherwise
//           x = MultiplyByQuantizedMultiplier(d, input_multiplier, input_left_shift)  (Q4.27)
//           logistic: y = clamp(rounding_divide_by_pot(fixed_point_logistic<4>(x), 23) - 128, -128, 127)
//           tanh:     y = clamp(rounding_divide_by_pot(fixed_point_tanh<4>(x), 24), -128, 127)
//       Where Micro's arithmetic is undefined (a scale below 2^-58 gives a right shift past 31) the
//       multiplier here is flushed to zero instead.
//   The two differ in the last bit on rare inputs (for about 0.1% of input scales, one to three of
//   the 256 entries). The interpreter (runtime/ops/nonlinear.hpp) uses (a): that is what TFLite's
//   interpreter computes under BUILTIN_REF and by default (checked: on parameters where (a) and (b)
//   differ, TFLite 2.21's BUILTIN_REF interpreter returns (a); see the kernel tests).
//
// Fixed-point helpers: core/fixed_point_math.hpp. Standard library only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/fixed_point_math.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/lookup_table.hpp"

PTQ_NAMESPACE_BEGIN

// Softmax over the last axis: outer_size rows of depth contiguous values.
struct SoftmaxParams {
  int64_t outer_size = 0;  // rows (product of the leading dims)
  int64_t depth = 0;       // values per row (the last dim)
  float beta = 1.0f;       // float kernel

  // int8 kernel (make_softmax_params fills these).
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  int32_t diff_min = 0;
  RoundingMode rounding = kDefaultRounding;

  Status validate() const {
    const std::string what = "softmax";
    if (outer_size < 0) return invalid_argument(what + ": outer_size = " + std::to_string(outer_size) + " is negative");
    if (depth < 0) return invalid_argument(what + ": depth = " + std::to_string(depth) + " is negative");
    return {};
  }
  Status validate_quantized() const {
    PTQ_RETURN_IF_ERROR(validate());
    const std::string what = "softmax";
    if (input_multiplier < (1 << 30)) {
      return invalid_argument(what + ": input_multiplier = " + std::to_string(input_multiplier) +
                              " is not a Q0.31 mantissa in [2^30, 2^31)");
    }
    const int max_shift = rounding == RoundingMode::kSingle ? 30 : 31;
    if (input_left_shift < 1 || input_left_shift > max_shift) {
      return invalid_argument(what + ": input_left_shift = " + std::to_string(input_left_shift) +
                              " is outside [1, " + std::to_string(max_shift) + "]");
    }
    if (diff_min > 0) return invalid_argument(what + ": diff_min = " + std::to_string(diff_min) + " is positive");
    return {};
  }
};

// TFLite's SoftmaxPrepare for int8 under kReference (PreprocessSoftmaxScaling with 5 integer bits,
// CalculateInputRadius). Errors (naming the value) where TFLite's checks fail: beta * input_scale
// not finite and positive, or beta * input_scale * 2^26 <= 1.
inline Result<SoftmaxParams> make_softmax_params(int64_t outer_size, int64_t depth, float beta,
                                                 float input_scale, RoundingMode rounding = kDefaultRounding) {
  constexpr int kScaledDiffIntegerBits = 5;
  SoftmaxParams p;
  p.outer_size = outer_size;
  p.depth = depth;
  p.beta = beta;
  p.rounding = rounding;
  const double input_beta = static_cast<double>(beta) * static_cast<double>(input_scale);
  if (!std::isfinite(input_beta) || !(input_beta > 0.0)) {
    return invalid_argument("softmax: beta * input scale = " + std::to_string(input_beta) +
                            " is not a finite positive number");
  }
  const double max_real = rounding == RoundingMode::kSingle ? (double(int64_t{1} << 30) - 1.0)
                                                            : (double(int64_t{1} << 31) - 1.0);
  const double real = std::min(input_beta * double(int64_t{1} << (31 - kScaledDiffIntegerBits)), max_real);
  if (!(real > 1.0)) {
    return invalid_argument("softmax: beta * input scale * 2^26 = " + std::to_string(real) +
                            " must be greater than 1 (TFLite's QuantizeMultiplierGreaterThanOne); "
                            "the input scale is too small");
  }
  const QuantizedMultiplier m = quantize_multiplier(real, rounding);
  p.input_multiplier = m.multiplier;
  p.input_left_shift = m.shift;
  p.diff_min = -calculate_input_radius(kScaledDiffIntegerBits, m.shift);
  PTQ_RETURN_IF_ERROR(p.validate_quantized());
  return p;
}

// The parameters of TFLite's fixed-point int8 logistic and tanh (reference_integer_ops::Logistic /
// Tanh with TFLite Micro's prepare).
struct FixedPointActivationParams {
  int32_t input_zero_point = 0;
  int32_t input_range_radius = 0;
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  RoundingMode rounding = kDefaultRounding;
};

// Micro's CalculateArithmeticOpDataLogistic / ...Tanh for int8 (identical for the two ops).
// Precondition: input.scale finite and positive.
inline FixedPointActivationParams make_fixed_point_activation_params(QuantParams input,
                                                                     RoundingMode rounding = kDefaultRounding) {
  PTQ_DCHECK(std::isfinite(input.scale) && input.scale > 0.0f,
             "make_fixed_point_activation_params: input scale must be finite and positive");
  constexpr int kInputIntegerBits = 4;
  FixedPointActivationParams p;
  p.input_zero_point = input.zero_point;
  p.rounding = rounding;
  // frexp + round(q * 2^31), as Micro; a float scale's mantissa never rounds up to 2^31.
  const QuantizedMultiplier m = quantize_multiplier(
      static_cast<double>(input.scale) * double(int64_t{1} << (31 - kInputIntegerBits)), RoundingMode::kDouble);
  p.input_multiplier = m.multiplier;
  p.input_left_shift = m.shift;
  p.input_range_radius = calculate_input_radius(kInputIntegerBits, m.shift, 31);
  return p;
}

namespace reference {

// The float functions TFLite's tables sample (the lambdas in activations.cc).
inline float logistic_for_lut(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float tanh_for_lut(float x) { return std::tanh(x); }

}  // namespace reference

// The tables of TFLite's int8 Logistic and Tanh (output parameters 1/256, -128 and 1/128, 0).
inline Int8LookupTable make_logistic_lut(QuantParams input, QuantParams output) {
  return make_int8_lut(input, output, reference::logistic_for_lut);
}
inline Int8LookupTable make_tanh_lut(QuantParams input, QuantParams output) {
  return make_int8_lut(input, output, reference::tanh_for_lut);
}

namespace reference {

// ---- float ------------------------------------------------------------------------------------

// reference_ops::Softmax (float). Precondition: p.validate() is ok.
inline void softmax(const SoftmaxParams& p, const float* input, float* output) {
  for (int64_t i = 0; i < p.outer_size; ++i) {
    const float* x = input + i * p.depth;
    float* y = output + i * p.depth;
    float max = std::numeric_limits<float>::lowest();
    for (int64_t c = 0; c < p.depth; ++c) max = std::max(max, x[c]);
    float sum = 0.0f;
    for (int64_t c = 0; c < p.depth; ++c) {
      const float e = std::exp((x[c] - max) * p.beta);
      y[c] = e;
      sum += e;
    }
    for (int64_t c = 0; c < p.depth; ++c) y[c] = y[c] / sum;
  }
}

// reference_ops::Logistic (float).
inline float logistic_one(float x) {
  constexpr float kCutoffUpper = 16.619047164916992188f;
  constexpr float kCutoffLower = -9.0f;
  if (x > kCutoffUpper) return 1.0f;
  if (x < kCutoffLower) return std::exp(x);
  return 1.0f / (1.0f + std::exp(-x));
}

inline void logistic(const float* input, float* output, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) output[i] = logistic_one(input[i]);
}

// reference_ops::Tanh (float).
inline void tanh(const float* input, float* output, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) output[i] = std::tanh(input[i]);
}

// ---- int8 -------------------------------------------------------------------------------------

namespace detail {

template <RoundingMode M>
void softmax_int8(const SoftmaxParams& p, const int8_t* input, int8_t* output) {
  constexpr int kAccumulationIntegerBits = 12;
  for (int64_t i = 0; i < p.outer_size; ++i) {
    const int8_t* x = input + i * p.depth;
    int8_t* y = output + i * p.depth;
    int32_t max_in_row = std::numeric_limits<int8_t>::min();
    for (int64_t c = 0; c < p.depth; ++c) max_in_row = std::max<int32_t>(max_in_row, x[c]);

    const auto exp_of_diff = [&](int32_t diff) {
      const int32_t scaled_diff =
          multiply_by_quantized_multiplier_greater_than_one<M>(diff, p.input_multiplier, p.input_left_shift);
      return exp_on_negative_values<5>(scaled_diff);
    };

    int32_t sum_of_exps = 0;  // Q12.19
    for (int64_t c = 0; c < p.depth; ++c) {
      const int32_t diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (diff >= p.diff_min) {
        sum_of_exps = fixed_point_detail::add(sum_of_exps, rescale<kAccumulationIntegerBits, 0>(exp_of_diff(diff)));
      }
    }

    int num_bits_over_unit = 0;
    const int32_t shifted_scale = get_reciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    int exponent = num_bits_over_unit + 31 - 8;
    exponent = std::min(std::max(exponent, 0), 31);  // TFLite aborts outside [0, 31] (see the header)

    for (int64_t c = 0; c < p.depth; ++c) {
      const int32_t diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (diff >= p.diff_min) {
        const int32_t unsat_output =
            rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted_scale, exp_of_diff(diff)), exponent);
        const int32_t shifted_output = unsat_output - 128;
        y[c] = static_cast<int8_t>(std::min(std::max(shifted_output, -128), 127));
      } else {
        y[c] = -128;
      }
    }
  }
}

}  // namespace detail

// reference_ops::Softmax<int8_t, int8_t> (output scale 1/256, zero point -128).
// Precondition: p.validate_quantized() is ok (make_softmax_params).
inline void softmax(const SoftmaxParams& p, const int8_t* input, int8_t* output) {
  PTQ_DCHECK(p.input_multiplier >= (1 << 30), "softmax: params not prepared (make_softmax_params)");
  if (p.rounding == RoundingMode::kSingle) {
    detail::softmax_int8<RoundingMode::kSingle>(p, input, output);
  } else {
    detail::softmax_int8<RoundingMode::kDouble>(p, input, output);
  }
}

namespace detail {

// The shared shape of reference_integer_ops::Logistic and Tanh: saturate outside the radius,
// otherwise rescale the input to Q4.27 and apply `body` (which returns the int8 output value).
template <class Body>
void fixed_point_activation(const FixedPointActivationParams& p, const int8_t* input, int8_t* output,
                            std::size_t n, Body body) {
  for (std::size_t i = 0; i < n; ++i) {
    const int32_t d = static_cast<int32_t>(input[i]) - p.input_zero_point;
    if (d <= -p.input_range_radius) {
      output[i] = -128;
    } else if (d >= p.input_range_radius) {
      output[i] = 127;
    } else {
      const int32_t x_q4 = multiply_by_quantized_multiplier(d, p.input_multiplier, p.input_left_shift, p.rounding);
      output[i] = static_cast<int8_t>(std::min(std::max(body(x_q4), -128), 127));
    }
  }
}

}  // namespace detail

// reference_integer_ops::Logistic (int8; output scale 1/256, zero point -128).
inline void logistic_fixed_point(const FixedPointActivationParams& p, const int8_t* input, int8_t* output,
                                 std::size_t n) {
  detail::fixed_point_activation(p, input, output, n, [](int32_t x_q4) {
    return rounding_divide_by_pot(fixed_point_logistic<4>(x_q4), 31 - 8) - 128;
  });
}

// reference_integer_ops::Tanh (int8; output scale 1/128, zero point 0).
inline void tanh_fixed_point(const FixedPointActivationParams& p, const int8_t* input, int8_t* output,
                             std::size_t n) {
  detail::fixed_point_activation(p, input, output, n, [](int32_t x_q4) {
    return rounding_divide_by_pot(fixed_point_tanh<4>(x_q4), 31 - 7);
  });
}

}  // namespace reference
PTQ_NAMESPACE_END
