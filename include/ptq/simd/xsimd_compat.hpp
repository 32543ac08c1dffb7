// xsimd_compat.hpp: the one place that spells xsimd API names, so ptq builds against xsimd 8.1
// (Debian 12) and later releases whose spellings changed (notes: hadd -> reduce_add in 9.0,
// bitwise_cast's template argument in 11.0, load_as's arch bug in 8.1).
//
// Inside an Arch-templated kernel, spell every type as xsimd::batch<T, Arch>: xsimd's free
// functions with a defaulted `A = default_arch` silently use the TU's arch instead.
#pragma once

#include <xsimd/xsimd.hpp>

#include <type_traits>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN
namespace simd {

// The arch xsimd picked from this TU's flags (SSE2 on baseline x86-64, NEON on AArch64).
using DefaultArch = xsimd::default_arch;

template <class T, class Arch>
using Batch = xsimd::batch<T, Arch>;

// Loads Batch<To, Arch>::size elements of From, converting each (int8 -> int32 sign-extends).
template <class To, class Arch, class From>
PTQ_INLINE Batch<To, Arch> load_convert(const From* p) {
  return Batch<To, Arch>::load_unaligned(p);
}

// Stores each lane converted to To. Integer narrowing truncates: callers clamp to To's range first.
template <class To, class T, class Arch>
PTQ_INLINE void store_convert(To* p, const Batch<T, Arch>& v) {
  v.store_unaligned(p);
}

// Lane-wise conversion between same-width int32 and float (float -> int truncates toward zero).
template <class To, class T, class Arch>
PTQ_INLINE Batch<To, Arch> convert(const Batch<T, Arch>& v) {
  return xsimd::batch_cast<To>(v);
}

// a / b, correctly rounded (IEEE division). xsimd 8.1 divides float batches on NEON64 by a
// reciprocal estimate refined by two Newton steps (xsimd_neon.hpp; neon64 overrides only double),
// which is off by an ulp for some quotients: quantize's round() then lands on the other side of a tie.
template <class Arch>
PTQ_INLINE Batch<float, Arch> div(const Batch<float, Arch>& a, const Batch<float, Arch>& b) {
#if defined(__aarch64__)
  if constexpr (std::is_same<Arch, xsimd::neon64>::value) {
    return Batch<float, Arch>(vdivq_f32(a, b));
  }
#endif
  return a / b;
}

template <class T, class Arch>
PTQ_INLINE T reduce_add(const Batch<T, Arch>& v) {
#if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_add(v);
#else
  return xsimd::hadd(v);
#endif
}

}  // namespace simd
PTQ_NAMESPACE_END
