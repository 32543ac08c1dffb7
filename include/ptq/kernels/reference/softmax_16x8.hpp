// reference/softmax_16x8.hpp: Softmax, Logistic and Tanh on int16 activations (TFLite's 16x8 scheme,
// zero points 0), bit-exact with LiteRT. TFLite runs all three on these reference formulations in
// every build for int16 (activations.cc), so ptq's scalar loops are the spec; no SIMD path.
//
// ---- 513-entry int16 tables (tflite::LUTPopulate<int16_t>, the double-precision variant softmax uses;
// tflite::LUTLookup for int16) -------------------------------------------------------------------
// make_int16_lut(in_scale, in_zp, out_scale, out_zp, f): with everything in double,
//   in_min = in_scale * (-32768 - in_zp), in_max = in_scale * (32767 - in_zp),
//   out_min, out_max likewise, step = (in_max - in_min) / 512, inv = 65536 / (out_max - out_min);
//   for i < 512, with a = in_min + i * step:
//     v = f(a), v_mid = f(a + step / 2), v_next = f(in_min + (i + 1) * step)
//     bias = round((round((v_next * inv + round(v * inv)) / 2) - round(v_mid * inv)) / 2)
//     lut[i] = clamp(round(v * inv) - bias, -32768, 32767)
//   (the bias halves the error of linear interpolation at the segment's midpoint), and
//   lut[512] = clamp(round(f(in_max) * inv)); round = std::round (ties away from zero).
// lookup_int16(x): index = 256 + (x >> 7) (arithmetic shift), frac = x & 0x7f,
//   y = int16(lut[index] + ((int16(lut[index + 1] - lut[index]) * frac + 64) >> 7)).
//
// ---- Softmax (reference_ops::SoftmaxInt16; SoftmaxPrepare for int16) ------------------------------
// Prepare: exp table = make_int16_lut(10 / 65535, 32767, 2 / 65535, 0, exp) (inputs [-10, 0]),
//   reciprocal table = make_int16_lut(1 / 65535, -32768, 2 / 65535, 0, 1 / (1 + x)) (inputs [0, 1]),
//   (input_multiplier, input_shift) = quantize_multiplier(double(float(s_in * beta)) / (10 / 65535))
//   -- the product s_in * beta is a float product, as in TFLite.
// Per row of `depth` values:
//   m = max(-32768, x...);  e_c = lookup(exp table, clamp(MBQM(x_c - m, input_multiplier, input_shift)
//                                                         + 32767, -32768, 32767))       (Q0.15)
//   sum = e_0 + ... (int32, Q16.15); h = clz32(sum)   (sum >= 1: the row's maximum gives e ~ 32767)
//   r = lookup(reciprocal table, clamp((((int64)sum << (h - 1)) + 2^13 >> 14) - 3 * 2^15, -32768, 32767))
//   y_c = clamp((e_c * r + 2^(30 - h)) >> (31 - h), 0, 32767)                (int64 product)
// MBQM is the int32 multiply_by_quantized_multiplier in the chosen RoundingMode. Rows longer than
// 65536 could wrap the int32 sum; prepare rejects them.
//
// ---- Logistic and Tanh (reference_integer_ops::Logistic / Tanh, int16 overloads; SigmoidPrepare /
// TanhPrepare) ---------------------------------------------------------------------------------------
// Prepare (make_sigmoid_tanh_16x8_params): l = CheckedLog2(s_in) (float: log(s) * (1 / log(2)),
// rounded; a power of two when the fraction is below 1e-3); shift = 12 + l. A power-of-two scale with
// shift 0 (logistic) or 0 / 1 (tanh) gives multiplier 3 << shift and shift 0. Otherwise
// mult = double(s_in) * 4096 * 3, doubled (shift + 1) while mult <= 32767 / 2 and shift <= 30, then
// truncated to int32 (input rescaled so that 2^17 represents 10.7). The output scale must be 2^-15
// (CheckedLog2) and, for logistic, exactly 1/32768; zero points 0.
// Run, per element: v = (x * mult + round) >> shift   (round = 2^(shift - 1), or 0), a = |v|,
//   T = TFLite's 256-entry table of sigmoid(i / 24) in Q0.16 (kSigmoidTable16 below), uint32 arithmetic:
//   tanh:     h = a >> 8; r = h >= 255 ? 0xFFFF << 8 : (T[h] << 8) + (a & 0xFF) * (T[h + 1] - T[h]);
//             r = v >= 0 ? r - 2^23 + 2^7 : 2^23 + 2^7 - 1 - r;  y = int16(r >> 8)  (arithmetic shift)
//   logistic: h = a >> 9; r = h >= 255 ? 0x7FFF << 10 : (T[h] << 9) + (a & 0x1FF) * (T[h + 1] - T[h]);
//             r = v >= 0 ? r + 2^9 : 2^25 - r + 2^9 - 1;  y = int16(r >> 10)
// Prepare rejects input scales whose multiplier would not fit in 15 bits (s_in > 32767 / 12288),
// where TFLite's int32 arithmetic would overflow.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/fixed_point_math.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN

using Int16LookupTable = std::array<int16_t, 513>;

// tflite::LUTPopulate<int16_t> in double (the formula in the header).
template <class F>
Int16LookupTable make_int16_lut(double input_scale, int32_t input_zero_point, double output_scale,
                                int32_t output_zero_point, F f) {
  Int16LookupTable lut{};
  const double in_min = input_scale * static_cast<double>(-32768 - input_zero_point);
  const double in_max = input_scale * static_cast<double>(32767 - input_zero_point);
  const double out_min = output_scale * static_cast<double>(-32768 - output_zero_point);
  const double out_max = output_scale * static_cast<double>(32767 - output_zero_point);
  constexpr int kSteps = 512;
  const double step = (in_max - in_min) / kSteps;
  const double half_step = step / 2;
  const double inv = 65536.0 / (out_max - out_min);
  const auto clamp16 = [](double v) { return static_cast<int16_t>(std::min(std::max(v, -32768.0), 32767.0)); };
  for (int i = 0; i < kSteps; ++i) {
    const double v = f(in_min + i * step);
    const double v_mid = f(in_min + i * step + half_step);
    const double v_next = f(in_min + (i + 1) * step);
    const double sample = std::round(v * inv);
    const double interpolated_mid = std::round((v_next * inv + std::round(v * inv)) / 2);
    const double mid = std::round(v_mid * inv);
    const double bias = std::round((interpolated_mid - mid) / 2);
    lut[static_cast<std::size_t>(i)] = clamp16(sample - bias);
  }
  lut[kSteps] = clamp16(std::round(f(in_max) * inv));
  return lut;
}

// TFLite's 256-entry table of sigmoid(i / 24) in Q0.16 (kernels/internal/common.h, shared by its
// int16 Logistic and Tanh). These are TFLite's published values -- they do not all equal a rounding
// of the formula (43 of 256 are one above round(65536 * sigmoid(i / 24))), so they are kept as data.
inline constexpr std::array<uint16_t, 256> kSigmoidTable16 = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

// tflite::CheckedLog2: *log2 = round(log2(x)) computed in float; true when x is a power of two to
// within 1e-3 in the exponent.
inline bool checked_log2(float x, int* log2) {
  const float x_log2 = std::log(x) * (1.0f / std::log(2.0f));
  const float rounded = std::round(x_log2);
  *log2 = static_cast<int>(rounded);
  return std::fabs(x_log2 - rounded) < 1e-3f;
}

// ---- softmax ----------------------------------------------------------------------------------

struct Softmax16x8Params {
  int64_t outer_size = 0;
  int64_t depth = 0;
  QuantizedMultiplier input_multiplier;  // s_in * beta / (10 / 65535)
  RoundingMode rounding = kDefaultRounding;
  Int16LookupTable exp_lut{};
  Int16LookupTable reciprocal_lut{};
};

// SoftmaxPrepare for int16. Errors (naming the value) for a non-positive or non-finite s_in * beta,
// a multiplier outside what the rounding mode takes, or rows longer than 65536.
inline Result<Softmax16x8Params> make_softmax_16x8_params(int64_t outer_size, int64_t depth, float beta,
                                                          float input_scale, RoundingMode rounding = kDefaultRounding) {
  const std::string what = "softmax_16x8";
  if (outer_size < 0 || depth < 0) return invalid_argument(what + ": negative outer size or depth");
  if (depth > 65536) {
    return invalid_argument(what + ": rows of " + std::to_string(depth) +
                            " values; at most 65536 keep the int32 sum of exponentials from wrapping");
  }
  const float scaled_beta = input_scale * beta;  // a float product, as TFLite's
  const double real = static_cast<double>(scaled_beta) / (10.0 / 65535.0);
  if (!std::isfinite(real) || !(real > 0.0)) {
    return invalid_argument(what + ": input scale * beta = " + std::to_string(scaled_beta) +
                            " is not a finite positive number");
  }
  Softmax16x8Params p;
  p.outer_size = outer_size;
  p.depth = depth;
  p.rounding = rounding;
  p.input_multiplier = quantize_multiplier(real, rounding);
  const int max_shift = rounding == RoundingMode::kSingle ? 30 : 31;
  if (p.input_multiplier.shift > max_shift || p.input_multiplier.multiplier == 0) {
    return invalid_argument(what + ": input scale * beta * 6553.5 = " + std::to_string(real) +
                            " gives a multiplier outside what the requantization takes");
  }
  const double range = 65535.0;
  p.exp_lut = make_int16_lut(10.0 / range, 32767, 2.0 / range, 0, [](double v) { return std::exp(v); });
  p.reciprocal_lut = make_int16_lut(1.0 / range, -32768, 2.0 / range, 0, [](double v) { return 1.0 / (1.0 + v); });
  return p;
}

namespace reference {

// tflite::LUTLookup for int16: 512 segments of 128 values, linear interpolation between entries.
inline int16_t lookup_int16(const Int16LookupTable& lut, int16_t x) {
  const auto index = static_cast<std::size_t>(256 + (x >> 7));
  const int32_t frac = x & 0x7f;
  const int32_t base = lut[index];
  const auto slope = static_cast<int16_t>(lut[index + 1] - lut[index]);
  const int32_t delta = (slope * frac + 64) >> 7;
  return static_cast<int16_t>(base + delta);
}

inline int16_t saturate_int16(int32_t v) { return static_cast<int16_t>(std::min(std::max(v, -32768), 32767)); }

// reference_ops::SoftmaxInt16 over rows of p.depth values. input and output may be the same buffer.
inline void softmax_16x8(const Softmax16x8Params& p, const int16_t* input, int16_t* output) {
  for (int64_t i = 0; i < p.outer_size; ++i) {
    const int16_t* x = input + i * p.depth;
    int16_t* y = output + i * p.depth;
    int16_t max_in_row = -32768;
    for (int64_t c = 0; c < p.depth; ++c) max_in_row = std::max(max_in_row, x[c]);
    int32_t sum = 0;  // Q16.15; at most 65536 * 32767 < 2^31
    for (int64_t c = 0; c < p.depth; ++c) {
      const int32_t scaled = multiply_by_quantized_multiplier(static_cast<int32_t>(x[c]) - max_in_row,
                                                              p.input_multiplier, p.rounding);
      y[c] = lookup_int16(p.exp_lut, saturate_int16(scaled + 32767));  // y holds exp values until the rescale
      sum += y[c];
    }
    if (sum <= 0) {  // unreachable for valid tables (the maximum's exp is ~32767); keeps shifts defined
      for (int64_t c = 0; c < p.depth; ++c) y[c] = 0;
      continue;
    }
    const int headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(sum));
    const auto shifted_sum =
        static_cast<int32_t>(((static_cast<int64_t>(sum) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    const int16_t reciprocal = lookup_int16(p.reciprocal_lut, saturate_int16(shifted_sum - ((1 << 15) + (1 << 16))));
    const int right_shift = 31 - headroom_plus_one;
    const int64_t round = int64_t{1} << (right_shift - 1);
    for (int64_t c = 0; c < p.depth; ++c) {
      const auto r = static_cast<int32_t>((static_cast<int64_t>(y[c]) * reciprocal + round) >> right_shift);
      y[c] = static_cast<int16_t>(std::min(std::max(r, 0), 32767));
    }
  }
}

}  // namespace reference

// ---- logistic and tanh ------------------------------------------------------------------------

struct SigmoidTanh16x8Params {
  int32_t input_multiplier = 0;  // 0: power-of-two input scale (the kernel uses 3 << input_left_shift)
  int input_left_shift = 0;
};

enum class SigmoidTanh16x8 { kLogistic, kTanh };

// SigmoidPrepare / TanhPrepare for int16 (the formulas in the header). Errors name the scale.
inline Result<SigmoidTanh16x8Params> make_sigmoid_tanh_16x8_params(SigmoidTanh16x8 op, float input_scale,
                                                                   float output_scale) {
  const std::string what = op == SigmoidTanh16x8::kTanh ? "tanh_16x8" : "logistic_16x8";
  if (!std::isfinite(input_scale) || !(input_scale > 0.0f) || !std::isfinite(output_scale) || !(output_scale > 0.0f)) {
    return invalid_argument(what + ": scales must be finite and positive");
  }
  int out_log2 = 0;
  if (!checked_log2(output_scale, &out_log2) || out_log2 != -15 ||
      (op == SigmoidTanh16x8::kLogistic && output_scale != 1.0f / 32768.0f)) {
    return invalid_argument(what + ": output scale " + std::to_string(output_scale) + " must be 2^-15 (1/32768)");
  }
  if (static_cast<double>(input_scale) * 4096.0 * 3.0 >= 32768.0) {
    return invalid_argument(what + ": input scale " + std::to_string(input_scale) +
                            " is too large for the int16 kernel's 15-bit input multiplier (at most 32767 / 12288)");
  }
  SigmoidTanh16x8Params p;
  int in_log2 = 0;
  bool pot = checked_log2(input_scale, &in_log2);
  p.input_left_shift = 12 + in_log2;
  pot = pot && (p.input_left_shift == 0 || (op == SigmoidTanh16x8::kTanh && p.input_left_shift == 1));
  if (!pot) {
    double multiplier = static_cast<double>(input_scale) * 4096.0 * 3.0;
    p.input_left_shift = 0;
    while (multiplier <= 32767.0 / 2.0 && p.input_left_shift <= 30) {
      ++p.input_left_shift;
      multiplier *= 2.0;
    }
    p.input_multiplier = static_cast<int32_t>(multiplier);
  }
  return p;
}

namespace reference {
namespace detail {

// The kernel's effective (multiplier, shift): a power-of-two scale uses 3 << shift, shift 0.
inline void effective_sigmoid_tanh_multiplier(const SigmoidTanh16x8Params& p, int32_t* multiplier, int* shift) {
  *multiplier = p.input_multiplier == 0 ? (3 << p.input_left_shift) : p.input_multiplier;
  *shift = p.input_multiplier == 0 ? 0 : p.input_left_shift;
}

}  // namespace detail

// reference_integer_ops::Tanh (int16).
inline void tanh_16x8(const SigmoidTanh16x8Params& p, const int16_t* x, int16_t* y, std::size_t n) {
  int32_t multiplier = 0;
  int shift = 0;
  detail::effective_sigmoid_tanh_multiplier(p, &multiplier, &shift);
  const int32_t round = shift > 0 ? (int32_t{1} << (shift - 1)) : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int32_t v = (x[i] * multiplier + round) >> shift;
    const auto a = static_cast<uint32_t>(std::abs(v));
    const uint32_t h = a >> 8;
    int32_t r;
    if (h >= 255) {
      r = 0xFFFF << 8;
    } else {
      const uint32_t ua = kSigmoidTable16[h], ub = kSigmoidTable16[h + 1];
      r = static_cast<int32_t>((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    y[i] = static_cast<int16_t>(r >> 8);
  }
}

// reference_integer_ops::Logistic (int16).
inline void logistic_16x8(const SigmoidTanh16x8Params& p, const int16_t* x, int16_t* y, std::size_t n) {
  int32_t multiplier = 0;
  int shift = 0;
  detail::effective_sigmoid_tanh_multiplier(p, &multiplier, &shift);
  const int32_t round = shift > 0 ? (int32_t{1} << (shift - 1)) : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int32_t v = (x[i] * multiplier + round) >> shift;
    const auto a = static_cast<uint32_t>(std::abs(v));
    const uint32_t h = a >> 9;
    uint32_t r;
    if (h >= 255) {
      r = 0x7FFFu << 10;
    } else {
      const uint32_t ua = kSigmoidTable16[h], ub = kSigmoidTable16[h + 1];
      r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    y[i] = static_cast<int16_t>(r >> 10);
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
