// float_microkernel.hpp: the float32 kernels of one ISA level as the float front ends see them
// (float_gemm.hpp, float_conv.hpp, float_depthwise.hpp), and the arithmetic every level commits to.
//
// ---- The summation order: the reference's own, on every level -----------------------------------
// TFLite's float reference kernels (reference/fully_connected.hpp, conv.hpp, depthwise_conv.hpp)
// compute each output as one chain:  total = 0.0f;  total = total + x_k * w_k  for k in order
// (K order for fully connected, [fy][fx][ic] for conv, [fy][fx] for depthwise, taps outside the
// image skipped);  y = min(max(total + bias, lo), hi)  (bias 0.0f when absent).
// The fast kernels keep exactly that chain per output element and get their parallelism from
// *other* outputs instead of splitting one sum:
//   - GEMM (outer product): a register tile holds MR rows x 16 columns of such chains; each step
//     k broadcasts x[m][k], multiplies it by the 16 weights w[n][k] of the packed panel and adds
//     the products to the 16 chains, in k order. K-blocking stores a chain to memory and resumes
//     it (exact), so the blocking, the tile shape, the thread split and the ISA never change a
//     bit.
//   - Depthwise: vectors run across channels; each lane is one output's chain over the taps.
// Each product is rounded to float and then added (two roundings: mul then add, never an FMA).
// Every product goes through opaque_f / opaque_mul, an empty asm barrier, so no compiler
// contracts `acc + x * w` into an FMA whatever -ffp-contract the including TU uses (g++'s default
// in C++ mode is to contract when FMA is enabled, and the AVX2 target region enables FMA).
//
// Consequence: every level (scalar, SSE4.1, AVX2) equals the reference bit for bit, for all inputs,
// when the reference itself is compiled without contraction (ptq's builds use -ffp-contract=off;
// a TU that contracts the reference's `total += x * w` changes the reference, not these kernels).
// Tests therefore use tolerance 0. NaN results are NaN on every path; only their payload bits
// are unspecified (which NaN operand x86 propagates depends on operand order, which the compiler
// chooses for the reference too). Where a tap outside the image is materialized as 0.0f (the conv
// im2col, the depthwise zero rows), it adds 0.0f * w = +-0.0f to the chain, and the chain is left
// unchanged: a chain that starts at +0.0f is never -0.0f in round-to-nearest (x + (-x) = +0.0f and
// +0.0f + -0.0f = +0.0f), and t + +-0.0f = t for every other t. That holds for finite w only
// (0 * inf = NaN), so layers whose weights hold inf or NaN run the reference (the front ends check
// at prepare).
//
// Cost of the choice: none against a K-split dot product (the same number of multiplies and adds;
// no FMA either way, by the project's rule), and the outer product is the faster GEMM anyway (no
// horizontal reductions). On CPUs with separate add and multiply pipes (AMD Zen: 2 + 2) mul + add
// reaches the FMA peak in flops.
#pragma once

#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/simd/arch.hpp"

PTQ_NAMESPACE_BEGIN

// Fully unrolls a tile's loops over rows and vectors (accumulators in registers).
#define PTQ_FLOAT_UNROLL _Pragma("GCC unroll 16")

inline constexpr int kFloatNr = 16;            // columns per packed panel (float_gemm.hpp)
inline constexpr int kFloatMaxMr = 8;          // rows of the largest tile
inline constexpr int kFloatMaxGemvPanels = 4;  // panels of the largest one-row (GEMV) tile

// acc[i * kFloatNr + j] = acc[i * kFloatNr + j] + a[i * a_stride + k] * w[k * kFloatNr + j]
//   for k = 0 .. kc - 1 in order, i < rows (the function's row count), j < kFloatNr.
using FloatTileFn = void (*)(int64_t kc, const float* a, int64_t a_stride, const float* w, float* acc);
// One row and np panels (the function's panel count), panel p at w + p * panel_stride:
// acc[p * kFloatNr + j] = acc[p * kFloatNr + j] + a[k] * w[p * panel_stride + k * kFloatNr + j], k in order.
using FloatGemvFn = void (*)(int64_t kc, const float* a, const float* w, int64_t panel_stride, float* acc);
// out[r * out_stride + j] = min(max(acc[r * acc_stride + j] + bias[j], lo), hi)   r < rows, j < cols
// with std::max / std::min's operand order (ActivationFunctionWithMinMax): NaN passes through.
using FloatOutputFn = void (*)(int64_t rows, int64_t cols, const float* acc, int64_t acc_stride, const float* bias,
                               float lo, float hi, float* out, int64_t out_stride);

// One output row of a depthwise convolution (channels-last):
//   y[ox][c] = min(max((0.0f + sum_{t in order} taps[t][ox * pixel_stride + c] * weights[t][c]) + bias[c], lo), hi)
// for ox < pixels, c < channels; taps[t] is filter tap t's input for pixel 0 of the row (the input
// row itself, its zero-padded copy, or a row of zeros: float_depthwise.hpp).
struct FloatDepthwiseRowArgs {
  const float* const* taps = nullptr;  // [tap_count]
  int64_t tap_count = 0;               // filter_h * filter_w
  int64_t pixel_stride = 0;            // floats between consecutive pixels' inputs (stride_w * channels)
  int64_t pixels = 0;
  int64_t channels = 0;
  const float* weights = nullptr;      // [tap_count][channels], TFLite's [1, KH, KW, OC]
  const float* bias = nullptr;         // [channels] (0.0f where the layer has no bias)
  float lo = 0.0f, hi = 0.0f;          // the activation's bounds
  float* output = nullptr;             // [pixels][channels]
};
using FloatDepthwiseRowFn = void (*)(const FloatDepthwiseRowArgs& args);

// The float kernels of one level.
struct FloatKernels {
  const char* name = "";
  Isa isa = Isa::kScalar;
  int mr = 1;           // rows of the largest tile
  int gemv_panels = 1;  // panels of the largest one-row tile
  FloatTileFn tiles[kFloatMaxMr] = {};         // tiles[m - 1]: m rows, one panel
  FloatGemvFn gemv[kFloatMaxGemvPanels] = {};  // gemv[p - 1]: one row, p panels
  FloatOutputFn output = nullptr;
  FloatDepthwiseRowFn depthwise_row = nullptr;
};

namespace float_detail {

// v, opaque to the optimizer: the value must exist as a rounded float here, so a product passed
// through it is never fused with the addition that follows.
inline float opaque(float v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile float t = v;
  v = t;
#endif
  return v;
}

// a * b rounded to float: `acc + opaque_mul(a, b)` is never an FMA.
inline float opaque_mul(float a, float b) { return opaque(a * b); }

}  // namespace float_detail
PTQ_NAMESPACE_END
