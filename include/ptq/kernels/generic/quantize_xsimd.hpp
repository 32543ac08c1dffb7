// generic/quantize_xsimd.hpp: quantize written with xsimd, for the TU's own arch.
//
// This is the Isa::kGeneric level: portable SIMD where ptq has no hand-written kernel (NEON
// without a dedicated path, or x86 at the TU's baseline). Same lane arithmetic as the reference:
// divide, NaN -> 0, clamp, xsimd::round (ties away from zero, verified equal to std::round on
// every float), convert (exact: integral and in range), + zp, narrowing store (exact: in range).
// Dequantize and requantize have no generic version: xsimd 8.1 widens int8 to int32 one element
// at a time (the compiler's auto-vectorized reference loop was 3.7x faster than it, measured) and
// has no 32x32->64 multiply (the int64 route is slower than scalar), so kGeneric runs the
// reference for both.
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
    F v = simd::div(F::load_unaligned(x + i), scale);  // IEEE division on every arch
    v = xsimd::select(xsimd::isnan(v), F(0.0f), v);
    v = xsimd::min(xsimd::max(v, lo), hi);
    const I r = simd::convert<int32_t>(xsimd::round(v)) + zp;
    simd::store_convert(q + i, r);
  }
  reference::quantize<T>(x + i, q + i, n - i, p);
}

}  // namespace generic
PTQ_NAMESPACE_END
