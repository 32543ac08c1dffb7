// pool.hpp: MaxPool2D and AveragePool2D (NHWC, float32 and int8) and Mean (float32 and int8) with
// a SIMD kernel per ISA level, bit for bit the scalar references of reference/pool.hpp.
//
//   max_pool(params, input, output);       // PoolParams: validate() / validate_quantized() first
//   average_pool(params, input, output);
//   mean(mean_params, input, output);      // MeanParams from make_mean_params (+ set_mean_quantization)
//
// Why: the references walk one channel at a time with a tap lambda per element; these walk, per
// output pixel, the pixel's in-image window once per block of channels (channels-last, so every
// tap of a block is one contiguous load): 32 int8 / 8 float channels per AVX2 step, 16 / 4 per
// SSE4.1 step, then narrower vectors (16, 8 int8; 4 float) and single lanes for channel counts
// below a vector, the last block of a row overlapping the previous one instead of a scalar tail.
// Per lane, every kernel does the reference's arithmetic in the reference's order:
//   - max: m = max(x, m) over the taps from m = lowest (MAXPS(x, m) = x > m ? x : m, which is
//     std::max(m, x), NaN included), then min(hi, max(lo, m)) = std::min(std::max(m, lo), hi).
//   - float average: total = 0 + taps in the reference's order (fy outer, fx inner), total / count,
//     the same clamp. Adds and one division: no contraction can occur.
//   - int8 average: int32 sum of the taps, then the reference's rounding division (half away from
//     zero), computed in float on x86 where it is exact (pool_ops.hpp: windows of at most
//     kPoolSimdMaxTaps taps; larger windows run the reference), then the int32 clamp.
//   - Mean, when the innermost input dim is kept (mean_inner_kept: e.g. a global average pool over
//     H, W of NHWC): per output channel block, the reduced elements in increasing reduced index
//     (the reference's order) summed in float / wrapping int32; float divides by the count, int8
//     requantizes each sum with the reference's expression (pool_ops::mean_requantize). Other
//     reductions (innermost dim reduced, an empty axis list, an empty input) run the reference.
// Levels: AVX2, SSE4.1 (x86/pool_{avx2,sse41}.hpp), AArch64 NEON (arm/pool_neon.hpp) and the
// scalar one (the same walk with one lane: portable C++ the compiler may vectorize). No allocation; the output must not overlap the input.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>

#include "ptq/core/config.hpp"
#include "ptq/kernels/pool_ops.hpp"
#include "ptq/kernels/reference/pool.hpp"
#include "ptq/simd/dispatch.hpp"

#if PTQ_ARCH_X86
#include "ptq/kernels/x86/pool_avx2.hpp"
#include "ptq/kernels/x86/pool_sse41.hpp"
#endif
#if defined(__aarch64__)
#include "ptq/kernels/arm/pool_neon.hpp"
#define PTQ_POOL_HAVE_NEON 1
#else
#define PTQ_POOL_HAVE_NEON 0
#endif

PTQ_NAMESPACE_BEGIN

namespace pool_scalar {
using I8Widths = std::tuple<pool_ops::I8x1>;
using F32Widths = std::tuple<pool_ops::F32x1>;
using I32Widths = std::tuple<pool_ops::I32x1>;

#include "ptq/kernels/pool_kernels-inl.hpp"

}  // namespace pool_scalar

// The level whose kernel runs for a requested level (before clamping to what the CPU runs).
constexpr Isa pool_variant(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
    case Isa::kAvx512:
    case Isa::kAvxVnni:
    case Isa::kAvx2: return PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar;
    case Isa::kSse41: return PTQ_ARCH_X86 ? Isa::kSse41 : Isa::kScalar;
    case Isa::kNeonDot:
    case Isa::kNeon: return PTQ_POOL_HAVE_NEON ? Isa::kNeon : Isa::kScalar;
    default: return Isa::kScalar;
  }
}

// True when mean() takes the SIMD walk for p: the innermost input dim is kept and there is
// something to reduce.
inline bool mean_inner_kept(const MeanParams& p) {
  return !p.copy && p.input_size > 0 && !p.kept_sizes.empty() && p.kept_strides.back() == 1 && p.reduced_count > 0;
}

namespace pool_detail {

// Runs `walk(level)` with `level` the kernels of the level isa resolves to (a tag whose walk() is
// that level's pool_walk namespace, through the generic lambda of each entry point).
template <class Walk>
inline void dispatch(Isa isa, Walk&& walk) {
  switch (pool_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: walk(x86::avx2::pool_kernels::Level{}); break;
    case Isa::kSse41: walk(x86::sse41::pool_kernels::Level{}); break;
#endif
#if PTQ_POOL_HAVE_NEON
    case Isa::kNeon: walk(arm::neon::pool_kernels::Level{}); break;
#endif
    default: walk(pool_scalar::Level{}); break;
  }
}

}  // namespace pool_detail

// = reference::max_pool(p, input, output). Precondition: p.validate() is ok.
inline void max_pool(const PoolParams& p, const float* input, float* output, Isa isa = selected_isa()) {
  PTQ_DCHECK(p.validate().ok(), "max_pool: invalid parameters (call validate())");
  pool_detail::dispatch(isa, [&](auto level) { decltype(level)::max_pool(p, input, output); });
}

// = reference::max_pool(p, input, output). Precondition: p.validate_quantized() is ok.
inline void max_pool(const PoolParams& p, const int8_t* input, int8_t* output, Isa isa = selected_isa()) {
  PTQ_DCHECK(p.validate_quantized().ok(), "max_pool: invalid parameters (call validate_quantized())");
  pool_detail::dispatch(isa, [&](auto level) { decltype(level)::max_pool(p, input, output); });
}

// = reference::average_pool(p, input, output). Precondition: p.validate() is ok.
inline void average_pool(const PoolParams& p, const float* input, float* output, Isa isa = selected_isa()) {
  PTQ_DCHECK(p.validate().ok(), "average_pool: invalid parameters (call validate())");
  pool_detail::dispatch(isa, [&](auto level) { decltype(level)::average_pool(p, input, output); });
}

// = reference::average_pool(p, input, output). Precondition: p.validate_quantized() is ok.
inline void average_pool(const PoolParams& p, const int8_t* input, int8_t* output, Isa isa = selected_isa()) {
  PTQ_DCHECK(p.validate_quantized().ok(), "average_pool: invalid parameters (call validate_quantized())");
  if (p.filter_height * p.filter_width > pool_ops::kPoolSimdMaxTaps) {
    reference::average_pool(p, input, output);
    return;
  }
  pool_detail::dispatch(isa, [&](auto level) { decltype(level)::average_pool(p, input, output); });
}

// = reference::mean(p, input, output). Precondition: p from make_mean_params for the input's shape.
inline void mean(const MeanParams& p, const float* input, float* output, Isa isa = selected_isa()) {
  if (!mean_inner_kept(p)) {
    reference::mean(p, input, output);
    return;
  }
  pool_detail::dispatch(isa, [&](auto level) { decltype(level)::mean(p, input, output); });
}

// = reference::mean(p, input, output). Precondition: p from make_mean_params and
// set_mean_quantization.
inline void mean(const MeanParams& p, const int8_t* input, int8_t* output, Isa isa = selected_isa()) {
  if (!mean_inner_kept(p)) {
    reference::mean(p, input, output);
    return;
  }
  pool_detail::dispatch(isa, [&](auto level) { decltype(level)::mean(p, input, output); });
}

PTQ_NAMESPACE_END
