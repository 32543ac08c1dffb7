// generic/quantize_xsimd.hpp: quantize and dequantize written with xsimd, for the TU's own arch.
//
// This is the Isa::kGeneric level: portable SIMD where ptq has no hand-written kernel (NEON
// without a dedicated path, or x86 at the TU's baseline). Same lane arithmetic as the reference:
// divide, NaN -> 0, clamp, xsimd::round (ties away from zero, verified equal to std::round on
// every float), convert (exact: integral and in range), + zp, narrowing store (exact: in range).
// Requantize has no generic version: xsimd 8.1 has no 32x32->64 multiply, and the int64 route is
// slower than scalar (notes/xsimd81.md §5), so kGeneric requantizes with the reference.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ptq/kernels/reference/quantize.hpp"
#include "ptq/simd/xsimd_compat.hpp"

PTQ_NAMESPACE_BEGIN
namespace generic {

template <class T, class Arch = simd::DefaultArch>
void quantize(const float* x, T* q, std::size_t n, QuantParams p) {
  using F = simd::Batch<float, Arch>;
  using I = simd::Batch<int32_t, Arch>;
  constexpr std::size_t kLanes = F::size;
  const F scale(p.scale);
  const F lo(static_cast<float>(quant_min<T>() - p.zero_point));
  const F hi(static_cast<float>(quant_max<T>() - p.zero_point));
  const I zp(p.zero_point);
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    F v = F::load_unaligned(x + i) / scale;
    v = xsimd::select(xsimd::isnan(v), F(0.0f), v);
    v = xsimd::min(xsimd::max(v, lo), hi);
    const I r = simd::convert<int32_t>(xsimd::round(v)) + zp;
    simd::store_convert(q + i, r);
  }
  reference::quantize<T>(x + i, q + i, n - i, p);
}

template <class T, class Arch = simd::DefaultArch>
void dequantize(const T* q, float* x, std::size_t n, QuantParams p) {
  std::size_t i = 0;
  if constexpr (sizeof(T) <= 2) {
    using F = simd::Batch<float, Arch>;
    using I = simd::Batch<int32_t, Arch>;
    constexpr std::size_t kLanes = F::size;
    const F scale(p.scale);
    const I zp(p.zero_point);
    for (; i + kLanes <= n; i += kLanes) {
      const I v = simd::load_convert<int32_t, Arch>(q + i) - zp;
      (simd::convert<float>(v) * scale).store_unaligned(x + i);
    }
  }
  reference::dequantize<T>(q + i, x + i, n - i, p);
}

}  // namespace generic
PTQ_NAMESPACE_END
