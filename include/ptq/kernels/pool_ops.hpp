// pool_ops.hpp: what every level of the pooling kernels (kernels/pool.hpp) shares: the one-lane
// Ops (plain C++: the scalar level's only width and every SIMD level's last one, for channel
// counts below its narrowest vector), Mean's int8 requantization of a sum, and the window bound
// below which the x86 int8 average is exact.
//
// The Ops contract is in pool_kernels-inl.hpp. The one-lane Ops are the reference's scalar
// arithmetic: int32 sums wrap (wrapping_add), the int8 average is the reference's integer
// division, max(a, b) = a > b ? a : b and min(a, b) = a < b ? a : b (what std::max(b, a) and
// std::min(b, a) return, NaN included, as MAXPS / MINPS do).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/kernels/reference/pool.hpp"

PTQ_NAMESPACE_BEGIN
namespace pool_ops {

// Windows of at most this many taps take the SIMD int8 average: |acc +- n/2| <= 128.5 * 65536 <
// 2^24, so acc +- n/2 and n are exact floats and the correctly rounded float quotient, truncated,
// is the truncated integer quotient (a non-integer quotient lies >= 1/n from every integer, more
// than its rounding error |acc / n| * 2^-24 while |acc| < 2^24). Larger windows run the reference.
inline constexpr int64_t kPoolSimdMaxTaps = 65536;

struct I8x1 {
  using V = int8_t;
  static constexpr int kLanes = 1;
  static PTQ_INLINE V load(const int8_t* p) { return *p; }
  static PTQ_INLINE void store(int8_t* p, V v) { *p = v; }
  static PTQ_INLINE V set1(int8_t v) { return v; }
  static PTQ_INLINE V max(V a, V b) { return a > b ? a : b; }
  static PTQ_INLINE V min(V a, V b) { return a < b ? a : b; }
};

struct F32x1 {
  using V = float;
  static constexpr int kLanes = 1;
  static PTQ_INLINE V load(const float* p) { return *p; }
  static PTQ_INLINE void store(float* p, V v) { *p = v; }
  static PTQ_INLINE V set1(float v) { return v; }
  static PTQ_INLINE V zero() { return 0.0f; }
  static PTQ_INLINE V add(V a, V b) { return a + b; }
  static PTQ_INLINE V div(V a, V b) { return a / b; }
  static PTQ_INLINE V max(V a, V b) { return a > b ? a : b; }
  static PTQ_INLINE V min(V a, V b) { return a < b ? a : b; }
};

struct I32x1 {
  using V = int32_t;
  static constexpr int kLanes = 1;
  static PTQ_INLINE V load_widen(const int8_t* p) { return *p; }
  static PTQ_INLINE void store(int32_t* p, V v) { *p = v; }
  static PTQ_INLINE V set1(int32_t v) { return v; }
  static PTQ_INLINE V zero() { return 0; }
  static PTQ_INLINE V add(V a, V b) { return reference::wrapping_add(a, b); }
  static PTQ_INLINE V max(V a, V b) { return a > b ? a : b; }
  static PTQ_INLINE V min(V a, V b) { return a < b ? a : b; }
  static PTQ_INLINE V average(V acc, int32_t n) { return acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n; }
  static PTQ_INLINE void store_narrow(int8_t* p, V v) { *p = static_cast<int8_t>(v); }
};

// reference::mean's int8 output for one raw sum (see reference/pool.hpp): the same expression.
inline int8_t mean_requantize(const MeanParams& p, int32_t sum) {
  const int32_t shifted_sum = static_cast<int32_t>(
      static_cast<uint32_t>(static_cast<int64_t>(sum) - static_cast<int64_t>(p.input_zero_point) * p.reduced_count));
  const int64_t y =
      static_cast<int64_t>(multiply_by_quantized_multiplier(shifted_sum, p.multiplier, p.rounding)) + p.output_zero_point;
  return static_cast<int8_t>(std::min<int64_t>(std::max<int64_t>(y, -128), 127));
}

}  // namespace pool_ops
PTQ_NAMESPACE_END
