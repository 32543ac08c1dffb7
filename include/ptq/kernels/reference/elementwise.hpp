// reference/elementwise.hpp: Add, Sub and Mul with numpy broadcasting, in float32 and quantized
// int8 / int16, bit-exact with TFLite.
//
// Broadcasting (TFLite's NdArrayDescsForElementwiseBroadcast, up to rank 6 like BroadcastAdd6DSlow
// and BroadcastMul6DSlow): shapes are aligned at their last dimension and padded with leading 1s
// to rank 6; along each dimension the two sizes are equal or one of them is 1, and the output takes
// the other. An input whose size is 1 along a dimension is read with stride 0 there. A rank-0
// (scalar) operand broadcasts against anything. The element computed at an output position is the
// same whether or not broadcasting happens, so one loop serves both.
//
// Float (reference_ops::Add / BroadcastAdd*, SubWithActivation / BroadcastSubSlow, Mul /
// BroadcastMul*):
//   y = activation_with_min_max(a op b, act_min, act_max)        min(max(a op b, act_min), act_max)
//   with [act_min, act_max] = calculate_activation_range(activation) (activation.hpp): kNone clamps
//   to [lowest, max], so +-inf become +-FLT_MAX as in TFLite; NaN passes through.
//
// Quantized Add and Sub (reference_integer_ops::AddFunc for int8, reference_ops::AddElementwise
// (general scale) for int16, reference_ops::SubElementwise / BroadcastQuantSubSlow for both):
//   a' = (a - a_zp) * 2^left_shift                      left_shift 20 (int8) or 15 (int16)
//   sa = multiply_by_quantized_multiplier(a', Ma)      Ma = s_a / (2 max(s_a, s_b))     (<= 1/2)
//   sb = multiply_by_quantized_multiplier(b', Mb)      Mb = s_b / (2 max(s_a, s_b))
//   r  = sa + sb  (Add)   or   sa - sb  (Sub)
//   y  = clamp(multiply_by_quantized_multiplier(r, Mo) + y_zp, act_min, act_max)
//                                                      Mo = 2 max(s_a, s_b) / (2^left_shift s_y)
//   The multipliers are computed as in TFLite's add.cc Prepare / sub.cc PrepareGeneralSubOp, with
//   their mixed float/double arithmetic (quantized_add_params below). TFLite applies them with
//   MultiplyByQuantizedMultiplierSmallerThanOneExp, which is multiply_by_quantized_multiplier for
//   every shift <= 0. Mo > 1 (an output scale below 2 max(s_a, s_b) / 2^20, a nearly constant
//   output) is outside what TFLite computes: add.cc aborts in Prepare (its multiplier check fails),
//   sub.cc quantizes Mo with a positive shift that the SmallerThanOneExp form then mishandles
//   (meaningless results). ptq applies Mo with the general multiply_by_quantized_multiplier: the
//   correctly scaled (usually saturated) result.
//   TFLite's older Sub negated Mb and reused Add; the current kernels subtract, and so does ptq
//   (the two differ only when SaturatingRoundingDoublingHighMul hits an exact tie).
//   |a'|, |b'| <= 255 * 2^20 (int8) or 65535 * 2^15 (int16), so nothing overflows int32.
//
// Quantized Mul (reference_integer_ops::MulElementwise / BroadcastMul6DSlow, int8 and int16):
//   y = clamp(multiply_by_quantized_multiplier((a - a_zp) * (b - b_zp), M) + y_zp, act_min, act_max)
//   M = double(float(float(s_a * s_b) / s_y)) (mul.cc Prepare: the scales are floats, so the product
//   and the quotient are float operations), through quantize_multiplier (M may exceed 1).
//   int16 requires zero points 0 (TFLite checks it so that the product fits in int32).
//
// The output zero point is added in int64 before the clamp, so sums that TFLite would overflow
// saturate instead (see activation.hpp); everywhere TFLite is defined the results are identical.
// The activation clamp comes from calculate_activation_range_quantized<T>(activation, output).
//
// Standard library only.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN

// ---- broadcasting -----------------------------------------------------------------------------

inline constexpr int kMaxBroadcastRank = 6;

// The numpy broadcast of two shapes, or an error naming the dimension that does not match.
inline Result<Shape> broadcast_shape(const Shape& a, const Shape& b) {
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(static_cast<std::size_t>(rank), 1);
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      return invalid_argument("shapes " + a.to_string() + " and " + b.to_string() + " do not broadcast: dimension " +
                              std::to_string(i) + " of the broadcast (aligned at the last) is " + std::to_string(da) +
                              " vs " + std::to_string(db));
    }
    dims[static_cast<std::size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::move(dims));
}

// How a binary op walks its operands: the output's dims padded to rank 6 with leading 1s, and each
// input's element stride per dimension (0 where that input broadcasts).
struct BroadcastLayout {
  std::array<int64_t, kMaxBroadcastRank> dims{{1, 1, 1, 1, 1, 1}};
  std::array<int64_t, kMaxBroadcastRank> a_strides{};
  std::array<int64_t, kMaxBroadcastRank> b_strides{};
  bool elementwise = false;  // a, b and y all have the output's shape: one flat loop

  int64_t num_elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }

  // What for_each_broadcast assumes: dims >= 0, strides >= 0.
  Status validate() const {
    for (int i = 0; i < kMaxBroadcastRank; ++i) {
      const auto k = static_cast<std::size_t>(i);
      if (dims[k] < 0 || a_strides[k] < 0 || b_strides[k] < 0) {
        return invalid_argument("broadcast layout: dimension " + std::to_string(i) +
                                " has a negative size or stride");
      }
    }
    return {};
  }
};

// The layout of y = a op b. Fails (naming the shapes) if a rank exceeds 6, if a and b do not
// broadcast, or if `out` is not their broadcast shape.
inline Result<BroadcastLayout> make_broadcast_layout(const Shape& a, const Shape& b, const Shape& out) {
  for (const Shape* s : {&a, &b, &out}) {
    if (s->rank() > kMaxBroadcastRank) {
      return unimplemented("shape " + s->to_string() + " has rank " + std::to_string(s->rank()) +
                           "; broadcasting supports rank <= " + std::to_string(kMaxBroadcastRank));
    }
    for (int64_t d : s->dims()) {
      if (d < 0) return invalid_argument("shape " + s->to_string() + " has a negative dimension");
    }
  }
  Result<Shape> expected = broadcast_shape(a, b);
  if (!expected.ok()) return expected.status();
  if (*expected != out) {
    return invalid_argument("the output shape " + out.to_string() + " is not the broadcast " + expected->to_string() +
                            " of " + a.to_string() + " and " + b.to_string());
  }
  BroadcastLayout l;
  l.elementwise = a == out && b == out;
  const int pad = kMaxBroadcastRank - out.rank();
  int64_t a_stride = 1, b_stride = 1;
  for (int i = kMaxBroadcastRank - 1; i >= pad; --i) {
    const auto k = static_cast<std::size_t>(i);
    const int io = i - pad;
    const int ia = a.rank() - out.rank() + io, ib = b.rank() - out.rank() + io;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    l.dims[k] = out[io];
    l.a_strides[k] = da == 1 ? 0 : a_stride;
    l.b_strides[k] = db == 1 ? 0 : b_stride;
    a_stride *= da;
    b_stride *= db;
  }
  return l;
}

namespace reference {

// Calls fn(a_index, b_index, y_index) for every output element, y_index in memory order.
template <class Fn>
void for_each_broadcast(const BroadcastLayout& l, Fn fn) {
  if (l.elementwise) {
    const int64_t n = l.num_elements();
    for (int64_t i = 0; i < n; ++i) fn(i, i, i);
    return;
  }
  const auto& d = l.dims;
  const auto& sa = l.a_strides;
  const auto& sb = l.b_strides;
  int64_t y = 0;
  for (int64_t i0 = 0, a0 = 0, b0 = 0; i0 < d[0]; ++i0, a0 += sa[0], b0 += sb[0]) {
    for (int64_t i1 = 0, a1 = a0, b1 = b0; i1 < d[1]; ++i1, a1 += sa[1], b1 += sb[1]) {
      for (int64_t i2 = 0, a2 = a1, b2 = b1; i2 < d[2]; ++i2, a2 += sa[2], b2 += sb[2]) {
        for (int64_t i3 = 0, a3 = a2, b3 = b2; i3 < d[3]; ++i3, a3 += sa[3], b3 += sb[3]) {
          for (int64_t i4 = 0, a4 = a3, b4 = b3; i4 < d[4]; ++i4, a4 += sa[4], b4 += sb[4]) {
            for (int64_t i5 = 0, a5 = a4, b5 = b4; i5 < d[5]; ++i5, a5 += sa[5], b5 += sb[5]) {
              fn(a5, b5, y++);
            }
          }
        }
      }
    }
  }
}

}  // namespace reference

// ---- params -----------------------------------------------------------------------------------

// Float Add, Sub, Mul: the layout and the fused activation's clamp.
struct FloatBinaryParams {
  BroadcastLayout layout;
  float activation_min = std::numeric_limits<float>::lowest();
  float activation_max = std::numeric_limits<float>::max();
};

inline FloatBinaryParams make_float_binary_params(const BroadcastLayout& layout, FusedActivation activation) {
  FloatBinaryParams p;
  p.layout = layout;
  const FloatActivationRange r = reference::calculate_activation_range(activation);
  p.activation_min = r.min;
  p.activation_max = r.max;
  return p;
}

// Quantized Add and Sub (TFLite's ArithmeticParams for the general-scale path).
struct QuantizedAddParams {
  BroadcastLayout layout;
  int32_t input1_zero_point = 0;
  int32_t input2_zero_point = 0;
  int32_t output_zero_point = 0;
  int left_shift = 20;                    // 20 for int8, 15 for int16
  QuantizedMultiplier input1_multiplier;  // s_a / (2 max(s_a, s_b))
  QuantizedMultiplier input2_multiplier;  // s_b / (2 max(s_a, s_b))
  QuantizedMultiplier output_multiplier;  // 2 max(s_a, s_b) / (2^left_shift s_y)
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  // Everything add<T> / sub<T> assume; the message names the field.
  template <class T>
  Status validate() const {
    static_assert(std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value, "int8_t or int16_t");
    const std::string what = "quantized add/sub";
    PTQ_RETURN_IF_ERROR(layout.validate());
    using reference::detail::check_in_range;
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input1_zero_point", input1_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input2_zero_point", input2_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "output_zero_point", output_zero_point, quant_min<T>(), quant_max<T>()));
    // (qmax - qmin) * 2^left_shift must fit in int32.
    int max_left_shift = 0;
    while ((int64_t{quant_max<T>() - quant_min<T>()} << (max_left_shift + 1)) < (int64_t{1} << 31)) ++max_left_shift;
    PTQ_RETURN_IF_ERROR(check_in_range(what, "left_shift", left_shift, 0, max_left_shift));
    using reference::detail::check_multiplier;
    PTQ_RETURN_IF_ERROR(check_multiplier(what, "input1_multiplier", input1_multiplier, rounding));
    PTQ_RETURN_IF_ERROR(check_multiplier(what, "input2_multiplier", input2_multiplier, rounding));
    PTQ_RETURN_IF_ERROR(check_multiplier(what, "output_multiplier", output_multiplier, rounding));
    if (input1_multiplier.shift > 0 || input2_multiplier.shift > 0) {
      return invalid_argument(what + ": the input multipliers must be at most 1 (shift <= 0)");
    }
    return reference::detail::check_activation_range<T>(what, activation_min, activation_max);
  }
};

// TFLite's add.cc Prepare / sub.cc PrepareGeneralSubOp for output type T, with its arithmetic:
//   twice_max = double(2 * max(s_a, s_b))                (a float product)
//   Ma = double(s_a) / twice_max,  Mb = double(s_b) / twice_max
//   Mo = twice_max / double(float(2^left_shift) * s_y)    (the denominator is a float product)
// Preconditions: scales finite and positive.
template <class T>
QuantizedAddParams make_quantized_add_params(const BroadcastLayout& layout, QuantParams a, QuantParams b,
                                             QuantParams y, FusedActivation activation,
                                             RoundingMode rounding = kDefaultRounding) {
  static_assert(std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value, "int8_t or int16_t");
  QuantizedAddParams p;
  p.layout = layout;
  p.input1_zero_point = a.zero_point;
  p.input2_zero_point = b.zero_point;
  p.output_zero_point = y.zero_point;
  p.left_shift = sizeof(T) == 1 ? 20 : 15;
  const float twice_max_float = 2.0f * std::max(a.scale, b.scale);
  const double twice_max = static_cast<double>(twice_max_float);
  const float shifted_output_scale = static_cast<float>(1 << p.left_shift) * y.scale;
  p.input1_multiplier = quantize_multiplier(static_cast<double>(a.scale) / twice_max, rounding);
  p.input2_multiplier = quantize_multiplier(static_cast<double>(b.scale) / twice_max, rounding);
  p.output_multiplier = quantize_multiplier(twice_max / static_cast<double>(shifted_output_scale), rounding);
  p.rounding = rounding;
  const QuantizedActivationRange r = reference::calculate_activation_range_quantized<T>(activation, y);
  p.activation_min = r.min;
  p.activation_max = r.max;
  return p;
}

// Quantized Mul.
struct QuantizedMulParams {
  BroadcastLayout layout;
  int32_t input1_zero_point = 0;
  int32_t input2_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier output_multiplier;  // s_a * s_b / s_y
  RoundingMode rounding = kDefaultRounding;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  template <class T>
  Status validate() const {
    static_assert(std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value, "int8_t or int16_t");
    const std::string what = "quantized mul";
    PTQ_RETURN_IF_ERROR(layout.validate());
    using reference::detail::check_in_range;
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input1_zero_point", input1_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "input2_zero_point", input2_zero_point, quant_min<T>(), quant_max<T>()));
    PTQ_RETURN_IF_ERROR(check_in_range(what, "output_zero_point", output_zero_point, quant_min<T>(), quant_max<T>()));
    if (sizeof(T) == 2 && (input1_zero_point != 0 || input2_zero_point != 0)) {
      return invalid_argument(what + ": int16 inputs need zero points 0 (the product must fit in int32)");
    }
    PTQ_RETURN_IF_ERROR(reference::detail::check_multiplier(what, "output_multiplier", output_multiplier, rounding));
    return reference::detail::check_activation_range<T>(what, activation_min, activation_max);
  }
};

// TFLite's mul.cc Prepare: M = double(s_a * s_b / s_y) evaluated in float, then quantize_multiplier.
template <class T>
QuantizedMulParams make_quantized_mul_params(const BroadcastLayout& layout, QuantParams a, QuantParams b,
                                             QuantParams y, FusedActivation activation,
                                             RoundingMode rounding = kDefaultRounding) {
  static_assert(std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value, "int8_t or int16_t");
  QuantizedMulParams p;
  p.layout = layout;
  p.input1_zero_point = a.zero_point;
  p.input2_zero_point = b.zero_point;
  p.output_zero_point = y.zero_point;
  const float product = a.scale * b.scale;
  const float real = product / y.scale;
  p.output_multiplier = quantize_multiplier(static_cast<double>(real), rounding);
  p.rounding = rounding;
  const QuantizedActivationRange r = reference::calculate_activation_range_quantized<T>(activation, y);
  p.activation_min = r.min;
  p.activation_max = r.max;
  return p;
}

namespace reference {

// ---- float ------------------------------------------------------------------------------------

inline void add(const FloatBinaryParams& p, const float* a, const float* b, float* y) {
  for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) {
    y[iy] = activation_with_min_max(a[ia] + b[ib], p.activation_min, p.activation_max);
  });
}

inline void sub(const FloatBinaryParams& p, const float* a, const float* b, float* y) {
  for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) {
    y[iy] = activation_with_min_max(a[ia] - b[ib], p.activation_min, p.activation_max);
  });
}

inline void mul(const FloatBinaryParams& p, const float* a, const float* b, float* y) {
  for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) {
    y[iy] = activation_with_min_max(a[ia] * b[ib], p.activation_min, p.activation_max);
  });
}

// ---- quantized --------------------------------------------------------------------------------

// One element of quantized Add (subtract = false) or Sub (subtract = true), as in the header.
inline int32_t quantized_add_sub_one(int32_t a, int32_t b, const QuantizedAddParams& p, bool subtract) {
  const int32_t shifted_a = (a - p.input1_zero_point) * (int32_t{1} << p.left_shift);
  const int32_t shifted_b = (b - p.input2_zero_point) * (int32_t{1} << p.left_shift);
  const int32_t scaled_a = multiply_by_quantized_multiplier(shifted_a, p.input1_multiplier, p.rounding);
  const int32_t scaled_b = multiply_by_quantized_multiplier(shifted_b, p.input2_multiplier, p.rounding);
  // Cannot overflow with the multipliers of make_quantized_add_params (<= 1/2 each); wraps like
  // TFLite's int32 arithmetic (instead of being undefined) with hand-made ones.
  const int32_t raw = subtract ? wrapping_add(scaled_a, static_cast<int32_t>(0u - static_cast<uint32_t>(scaled_b)))
                               : wrapping_add(scaled_a, scaled_b);
  return quantized_output_stage(raw, p.output_multiplier, p.rounding, p.output_zero_point, p.activation_min,
                                p.activation_max);
}

// y = a + b. T is int8_t or int16_t. Preconditions: p.validate<T>() is ok; buffers hold the
// layout's input and output sizes.
template <class T>
void add(const QuantizedAddParams& p, const T* a, const T* b, T* y) {
  for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) {
    y[iy] = static_cast<T>(quantized_add_sub_one(a[ia], b[ib], p, false));
  });
}

// y = a - b, with the same parameters as add (sub.cc computes them the same way).
template <class T>
void sub(const QuantizedAddParams& p, const T* a, const T* b, T* y) {
  for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) {
    y[iy] = static_cast<T>(quantized_add_sub_one(a[ia], b[ib], p, true));
  });
}

// One element of quantized Mul.
inline int32_t quantized_mul_one(int32_t a, int32_t b, const QuantizedMulParams& p) {
  const int32_t product = (a - p.input1_zero_point) * (b - p.input2_zero_point);
  return quantized_output_stage(product, p.output_multiplier, p.rounding, p.output_zero_point, p.activation_min,
                                p.activation_max);
}

template <class T>
void mul(const QuantizedMulParams& p, const T* a, const T* b, T* y) {
  for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) {
    y[iy] = static_cast<T>(quantized_mul_one(a[ia], b[ib], p));
  });
}

}  // namespace reference
PTQ_NAMESPACE_END
