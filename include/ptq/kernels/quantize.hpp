// quantize.hpp: quantize, dequantize and requantize buffers, per tensor and per axis, on the best
// ISA level the CPU has (or the one the caller names).
//
// One dispatch point per family. The arithmetic, and the exact meaning of every result, is that
// of kernels/reference/quantize.hpp; each SIMD level equals it bit for bit (tests/kernels).
//
//   family        scalar   generic (xsimd)   sse41   avx2 (+avxvnni)   avx512 (+avx512vnni)
//   quantize        x           x              x          x                  x
//   dequantize      x       (reference)        x          x                  x
//   requantize      x       (reference)        x          x                  x
//
// Preconditions (checked in debug builds): parameters that pass validate_quant_params /
// validate_requantize_params; buffers of n elements that do not overlap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/kernels/reference/quantize.hpp"
#include "ptq/simd/dispatch.hpp"

#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__)
#define PTQ_HAVE_GENERIC_SIMD 1
#include "ptq/kernels/generic/quantize_xsimd.hpp"
#else
#define PTQ_HAVE_GENERIC_SIMD 0
#endif

#if PTQ_ARCH_X86
#include "ptq/kernels/x86/quantize_avx2.hpp"
#include "ptq/kernels/x86/quantize_avx512.hpp"
#include "ptq/kernels/x86/quantize_sse41.hpp"
#endif

PTQ_NAMESPACE_BEGIN

// The implementation level that quantize/dequantize run for a requested level (before clamping to
// what the CPU runs): levels without their own kernel inherit the best one they imply.
constexpr Isa quantize_variant(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
    case Isa::kAvx512: return Isa::kAvx512;
    case Isa::kAvxVnni:
    case Isa::kAvx2: return Isa::kAvx2;
    case Isa::kSse41: return Isa::kSse41;
    case Isa::kNeonDot:
    case Isa::kNeon:
    case Isa::kGeneric: return PTQ_HAVE_GENERIC_SIMD ? Isa::kGeneric : Isa::kScalar;
    case Isa::kScalar: return Isa::kScalar;
  }
  return Isa::kScalar;
}

// Dequantize and requantize have no xsimd version (see generic/quantize_xsimd.hpp).
constexpr Isa dequantize_variant(Isa isa) {
  const Isa v = quantize_variant(isa);
  return v == Isa::kGeneric ? Isa::kScalar : v;
}
constexpr Isa requantize_variant(Isa isa) { return dequantize_variant(isa); }

namespace detail {
template <class T>
void dcheck_params(QuantParams p) {
  PTQ_DCHECK(validate_quant_params<T>(p).ok(), "quantize: invalid scale or zero point");
  (void)p;
}
}  // namespace detail

// q[i] = clamp(round(x[i] / scale) + zero_point, qmin, qmax) for T in {int8, uint8, int16}.
template <class T>
void quantize(const float* x, T* q, std::size_t n, QuantParams p, Isa isa = selected_isa()) {
  static_assert(sizeof(T) <= 2, "quantize produces int8, uint8 or int16");
  detail::dcheck_params<T>(p);
  switch (quantize_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx512: return x86::avx512::quantize<T>(x, q, n, p);
    case Isa::kAvx2: return x86::avx2::quantize<T>(x, q, n, p);
    case Isa::kSse41: return x86::sse41::quantize<T>(x, q, n, p);
#endif
#if PTQ_HAVE_GENERIC_SIMD
    case Isa::kGeneric: return generic::quantize<T>(x, q, n, p);
#endif
    default: return reference::quantize<T>(x, q, n, p);
  }
}

// x[i] = (q[i] - zero_point) * scale for T in {int8, uint8, int16, int32}.
template <class T>
void dequantize(const T* q, float* x, std::size_t n, QuantParams p, Isa isa = selected_isa()) {
  detail::dcheck_params<T>(p);
  switch (dequantize_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx512: return x86::avx512::dequantize<T>(q, x, n, p);
    case Isa::kAvx2: return x86::avx2::dequantize<T>(q, x, n, p);
    case Isa::kSse41: return x86::sse41::dequantize<T>(q, x, n, p);
#endif
    default: return reference::dequantize<T>(q, x, n, p);
  }
}

// y[i] = clamp(multiply_by_quantized_multiplier(x[i] - in_zp) + out_zp) between any two of
// {int8, uint8, int16, int32}; see make_requantize_params.
template <class In, class Out>
void requantize(const In* x, Out* y, std::size_t n, const RequantizeParams& p, Isa isa = selected_isa()) {
  PTQ_DCHECK((validate_requantize_params<In, Out>(p).ok()), "requantize: invalid parameters");
  switch (requantize_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx512: return x86::avx512::requantize<In, Out>(x, y, n, p);
    case Isa::kAvx2: return x86::avx2::requantize<In, Out>(x, y, n, p);
    case Isa::kSse41: return x86::sse41::requantize<In, Out>(x, y, n, p);
#endif
    default: return reference::requantize<In, Out>(x, y, n, p);
  }
}

// ---- per axis ----------------------------------------------------------------------------------
// Slices that share a channel's parameters run the per-tensor kernels; when the quantized axis is
// the innermost one (depthwise weights, channels-last activations) each vector loads a run of
// per-channel scales and zero points instead.

template <class T>
void quantize_per_axis(const float* x, T* q, const Shape& shape, const PerAxisQuantParams& p,
                       Isa isa = selected_isa()) {
  PTQ_DCHECK(validate_quant_params<T>(p, shape).ok(), "quantize_per_axis: invalid parameters");
  const AxisSplit s = split_at_axis(shape, p.axis);
  const Isa v = quantize_variant(best_runnable_isa_within(isa));
  if (s.inner == 1 && v != Isa::kScalar && v != Isa::kGeneric) {
#if PTQ_ARCH_X86
    const auto rows = static_cast<std::size_t>(s.outer), channels = static_cast<std::size_t>(s.channels);
    if (v == Isa::kAvx512) return x86::avx512::quantize_rows<T>(x, q, rows, channels, p.scales.data(), p.zero_points.data());
    if (v == Isa::kAvx2) return x86::avx2::quantize_rows<T>(x, q, rows, channels, p.scales.data(), p.zero_points.data());
    if (v == Isa::kSse41) return x86::sse41::quantize_rows<T>(x, q, rows, channels, p.scales.data(), p.zero_points.data());
#endif
  }
  for_each_axis_run(shape, p.axis, [&](std::size_t at, std::size_t n, std::size_t c) {
    quantize<T>(x + at, q + at, n, p.at(c), isa);
  });
}

template <class T>
void dequantize_per_axis(const T* q, float* x, const Shape& shape, const PerAxisQuantParams& p,
                         Isa isa = selected_isa()) {
  PTQ_DCHECK(validate_quant_params<T>(p, shape).ok(), "dequantize_per_axis: invalid parameters");
  const AxisSplit s = split_at_axis(shape, p.axis);
  const Isa v = dequantize_variant(best_runnable_isa_within(isa));
  if (s.inner == 1 && v != Isa::kScalar && v != Isa::kGeneric) {
#if PTQ_ARCH_X86
    const auto rows = static_cast<std::size_t>(s.outer), channels = static_cast<std::size_t>(s.channels);
    if (v == Isa::kAvx512) return x86::avx512::dequantize_rows<T>(q, x, rows, channels, p.scales.data(), p.zero_points.data());
    if (v == Isa::kAvx2) return x86::avx2::dequantize_rows<T>(q, x, rows, channels, p.scales.data(), p.zero_points.data());
    if (v == Isa::kSse41) return x86::sse41::dequantize_rows<T>(q, x, rows, channels, p.scales.data(), p.zero_points.data());
#endif
  }
  for_each_axis_run(shape, p.axis, [&](std::size_t at, std::size_t n, std::size_t c) {
    dequantize<T>(q + at, x + at, n, p.at(c), isa);
  });
}

// Per-axis input parameters (e.g. int32 accumulators of a per-channel layer), per-tensor output.
// Slices along inner axes vectorize; an innermost quantized axis runs the reference (per-lane
// shifts are the GEMM output stage's job, kernels/gemm).
template <class In, class Out>
void requantize_per_axis(const In* x, Out* y, const Shape& shape, const PerAxisRequantizeParams& p,
                         Isa isa = selected_isa()) {
  for_each_axis_run(shape, p.axis, [&](std::size_t at, std::size_t n, std::size_t c) {
    requantize<In, Out>(x + at, y + at, n, channel_params(p, c), isa);
  });
}

PTQ_NAMESPACE_END
