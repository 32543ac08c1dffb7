// float_gemm.hpp: float32 fully connected (y = act(x * W^T + bias)) with weights packed once into
// panels: prepare once, run many.
//
//   Status s = validate_float_fully_connected(params, weights);    // once: names the culprit
//   PreparedFloatFullyConnected fc = prepare_float_fully_connected(params, weights, bias);
//   float_fully_connected(fc, input, output);                       // per call: no allocation
//
// Bit for bit reference::fully_connected (the float overload, reference/fully_connected.hpp) on
// every ISA level, for any batch count, K, N, row strides and thread count: each output is the
// reference's own chain 0.0f + x_0 * w_0 + x_1 * w_1 + ... in K order, then + bias, then the
// activation (float_microkernel.hpp says why that order costs nothing and how FMA is kept out).
//
// Packing (PackedFloatWeights): N in panels of kFloatNr = 16 columns; panel p holds, for each k in
// order, the 16 weights w[16p + j][k] (j < 16) contiguously, so a tile reads its panel front to back:
//   float offset of w[16p + j][k] = p * K * 16 + k * 16 + j;  columns >= N are 0.0f (never output).
// Bias is copied into N_pad floats (0.0f past N, and everywhere when the layer has none: the
// reference adds 0.0f then too). The activation becomes its [lo, hi] (calculate_activation_range).
//
// The walk, outermost first (the int8 engine's, gemm/gemm.hpp):
//   M-blocks of mc rows (mc * K floats of activations, <= 256 KiB, stay in L2 while every panel
//   passes over them) -> panels -> K-blocks of 256 (a 16 KiB slice of the panel stays in L1 while
//   the M-block's tiles stream over it; the chains wait in a stack buffer between K-blocks) ->
//   MR-row tiles (6 on AVX2, 3 on SSE4.1, 2 scalar; a partial last tile runs the m-row instance).
//   A one-row M-block (batch 1: GEMV) instead runs the one-row tile over up to 4 panels at once
//   across all of K, reading every weight once in order.
//   Then the output stage (+ bias, clamp) of the block x panel(s).
// Threading: give gemm::ParallelFor; its task count is M-blocks x panels, and a range of tasks
// covers the panels of one or more M-blocks. Each output is computed by one task with the same
// operations in the same order whatever the split.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/float_microkernel.hpp"
#include "ptq/kernels/float_scalar.hpp"
#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/gemm/pack.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/simd/dispatch.hpp"

#if PTQ_ARCH_X86
#include "ptq/kernels/x86/float_avx2.hpp"
#include "ptq/kernels/x86/float_sse41.hpp"
#endif

PTQ_NAMESPACE_BEGIN

// The level whose float kernels run for a requested level: AVX2 for every AVX2-class x86 level
// (the AVX-512 ones included: no zmm float kernel yet), SSE4.1, else the portable one.
constexpr Isa float_variant(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
    case Isa::kAvx512:
    case Isa::kAvxVnni:
    case Isa::kAvx2: return PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar;
    case Isa::kSse41: return PTQ_ARCH_X86 ? Isa::kSse41 : Isa::kScalar;
    default: return Isa::kScalar;
  }
}

// The kernels that run for `isa`, clamped to what the CPU runs.
inline const FloatKernels& float_kernels(Isa isa = selected_isa()) {
  switch (float_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx2: return x86::avx2::kFloatKernels;
    case Isa::kSse41: return x86::sse41::kFloatKernels;
#endif
    default: return float_scalar::kFloatKernels;
  }
}

namespace float_detail {

inline constexpr int64_t kPanelSliceK = 16 * 1024 / (kFloatNr * static_cast<int64_t>(sizeof(float)));  // 256
inline constexpr int64_t kMaxMc = 96;                    // a multiple of every level's MR (6, 3, 2)
inline constexpr int64_t kActivationBlockBytes = 256 * 1024;

// Rows per M-block: the block's activations (mc * K floats) within kActivationBlockBytes.
inline int64_t m_block_rows(int64_t k) {
  const int64_t fit = k > 0 ? kActivationBlockBytes / (k * static_cast<int64_t>(sizeof(float))) : kMaxMc;
  return std::max<int64_t>(12, std::min(kMaxMc, fit) / 12 * 12);
}

}  // namespace float_detail

// Float weights [N, K], bias and activation range, packed for the float tiles (see the header).
// Built once by pack_float_weights(); immutable afterwards and safe to share between threads.
class PackedFloatWeights {
 public:
  PackedFloatWeights() = default;

  int64_t input_depth() const { return k_; }   // K
  int64_t output_depth() const { return n_; }  // N
  int64_t panel_count() const { return (n_ + kFloatNr - 1) / kFloatNr; }
  int64_t panel_stride() const { return k_ * kFloatNr; }  // floats between panels
  const float* weights() const { return static_cast<const float*>(weights_.get()); }
  const float* bias() const { return static_cast<const float*>(bias_.get()); }  // [panel_count() * 16]
  float activation_min() const { return lo_; }
  float activation_max() const { return hi_; }
  int64_t m_block_rows() const { return mc_; }  // rows per M-block of the walk
  bool empty() const { return bias_ == nullptr; }

 private:
  friend PackedFloatWeights pack_float_weights(int64_t, int64_t, const float*, const float*, FusedActivation);

  int64_t k_ = 0, n_ = 0, mc_ = 0;
  float lo_ = 0.0f, hi_ = 0.0f;
  std::unique_ptr<void, gemm::detail::AlignedFree> weights_;  // panel_count() * panel_stride() floats
  std::unique_ptr<void, gemm::detail::AlignedFree> bias_;
};

// Packs weights [N, K] (row-major, TFLite's filter layout) and bias [N] (or null); the
// activation's range is applied by the output stage. weights may be null when N * K == 0.
inline PackedFloatWeights pack_float_weights(int64_t k, int64_t n, const float* weights, const float* bias,
                                              FusedActivation activation) {
  PTQ_DCHECK(k >= 0 && n >= 0, "pack_float_weights: negative size");
  PTQ_DCHECK(weights != nullptr || k * n == 0, "pack_float_weights: weights is null");
  PackedFloatWeights out;
  out.k_ = k;
  out.n_ = n;
  out.mc_ = float_detail::m_block_rows(k);
  const FloatActivationRange range = reference::calculate_activation_range(activation);
  out.lo_ = range.min;
  out.hi_ = range.max;
  const int64_t panels = out.panel_count(), n_pad = panels * kFloatNr;
  const auto weight_bytes = static_cast<std::size_t>(panels * out.panel_stride()) * sizeof(float);
  out.weights_.reset(gemm::detail::aligned_alloc64(weight_bytes));
  out.bias_.reset(gemm::detail::aligned_alloc64(static_cast<std::size_t>(n_pad) * sizeof(float)));
  auto* w = static_cast<float*>(out.weights_.get());
  auto* b = static_cast<float*>(out.bias_.get());
  std::memset(w, 0, weight_bytes);  // all-zero bytes are +0.0f
  std::memset(b, 0, static_cast<std::size_t>(n_pad) * sizeof(float));
  for (int64_t col = 0; col < n; ++col) {
    float* dst = w + col / kFloatNr * out.panel_stride() + col % kFloatNr;
    const float* src = weights + col * k;
    for (int64_t kk = 0; kk < k; ++kk) dst[kk * kFloatNr] = src[kk];
    if (bias != nullptr) b[col] = bias[col];
  }
  return out;
}

struct FloatGemmOptions {
  Isa isa = selected_isa();
  // The kernels to run, resolved once by the caller (float_kernels(isa)); null: resolve `isa` per call.
  const FloatKernels* kernels = nullptr;
  int64_t input_stride = 0;   // floats between input rows; 0 means K
  int64_t output_stride = 0;  // floats between output rows; 0 means N
  const gemm::ParallelFor* parallel_for = nullptr;
};

namespace float_detail {

// Rows [m0, m0 + mb) against panels [p_begin, p_end).
inline void run_block(const FloatKernels& uk, const PackedFloatWeights& pw, const float* input, int64_t in_stride,
                      int64_t m0, int64_t mb, float* output, int64_t out_stride, int64_t p_begin, int64_t p_end) {
  const int64_t k = pw.input_depth(), n = pw.output_depth(), ps = pw.panel_stride();
  const float lo = pw.activation_min(), hi = pw.activation_max();
  alignas(64) float acc[kMaxMc * kFloatNr];
  static_assert(kMaxMc >= kFloatMaxGemvPanels, "the accumulator buffer holds the widest one-row tile");
  const float* a = input + m0 * in_stride;
  float* out = output + m0 * out_stride;
  if (mb == 1) {
    for (int64_t p = p_begin; p < p_end;) {
      const int64_t np = std::min<int64_t>(uk.gemv_panels, p_end - p);
      std::memset(acc, 0, static_cast<std::size_t>(np * kFloatNr) * sizeof(float));
      uk.gemv[np - 1](k, a, pw.weights() + p * ps, ps, acc);
      const int64_t n0 = p * kFloatNr;
      uk.output(1, std::min(np * kFloatNr, n - n0), acc, 0, pw.bias() + n0, lo, hi, out + n0, out_stride);
      p += np;
    }
    return;
  }
  const int64_t mr = uk.mr;
  for (int64_t p = p_begin; p < p_end; ++p) {
    std::memset(acc, 0, static_cast<std::size_t>(mb * kFloatNr) * sizeof(float));
    for (int64_t k0 = 0; k0 < k; k0 += kPanelSliceK) {
      const int64_t kn = std::min(kPanelSliceK, k - k0);
      const float* w = pw.weights() + p * ps + k0 * kFloatNr;
      for (int64_t m = 0; m < mb; m += mr) {
        const int64_t rows = std::min(mr, mb - m);
        uk.tiles[rows - 1](kn, a + m * in_stride + k0, in_stride, w, acc + m * kFloatNr);
      }
    }
    const int64_t n0 = p * kFloatNr;
    uk.output(mb, std::min<int64_t>(kFloatNr, n - n0), acc, kFloatNr, pw.bias() + n0, lo, hi, out + n0, out_stride);
  }
}

}  // namespace float_detail

// output[b][n] = reference::fully_connected(...) for b < rows, on the packed layer: input rows of K
// floats (o.input_stride apart), output rows of N floats (o.output_stride apart). No allocation.
inline void float_gemm(const PackedFloatWeights& pw, const float* input, int64_t rows, float* output,
                       const FloatGemmOptions& o = FloatGemmOptions()) {
  PTQ_DCHECK(!pw.empty(), "float_gemm: weights not packed");
  PTQ_DCHECK(rows >= 0, "float_gemm: negative row count");
  const int64_t k = pw.input_depth(), n = pw.output_depth();
  if (rows == 0 || n == 0) return;
  const int64_t in_stride = o.input_stride != 0 ? o.input_stride : k;
  const int64_t out_stride = o.output_stride != 0 ? o.output_stride : n;
  PTQ_DCHECK(in_stride >= k && out_stride >= n, "float_gemm: a row stride is shorter than the row");
  const FloatKernels& uk = o.kernels != nullptr ? *o.kernels : float_kernels(o.isa);
  PTQ_DCHECK(isa_runnable(uk.isa), "float_gemm: the kernels' ISA does not run on this CPU");
  const int64_t mc = pw.m_block_rows(), panels = pw.panel_count();
  if (o.parallel_for == nullptr || !*o.parallel_for) {
    for (int64_t m0 = 0; m0 < rows; m0 += mc) {
      float_detail::run_block(uk, pw, input, in_stride, m0, std::min(mc, rows - m0), output, out_stride, 0, panels);
    }
    return;
  }
  const int64_t blocks = (rows + mc - 1) / mc;
  const auto task = [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end;) {
      const int64_t blk = u / panels, p0 = u % panels, p1 = std::min(panels, p0 + (end - u));
      const int64_t m0 = blk * mc;
      float_detail::run_block(uk, pw, input, in_stride, m0, std::min(mc, rows - m0), output, out_stride, p0, p1);
      u += p1 - p0;
    }
  };
  const int64_t units = blocks * panels;
  if (units > 1) {
    (*o.parallel_for)(units, gemm::PanelTask(task));
  } else {
    task(0, units);
  }
}

// Non-negative sizes, and weights present when N * K > 0; the message names the field.
inline Status validate_float_fully_connected(const FloatFullyConnectedParams& p, const float* weights) {
  const std::string what = "float fully_connected";
  if (p.batches < 0) return invalid_argument(what + ": batches = " + std::to_string(p.batches) + " is negative");
  if (p.input_depth < 0) return invalid_argument(what + ": input_depth = " + std::to_string(p.input_depth) + " is negative");
  if (p.output_depth < 0) {
    return invalid_argument(what + ": output_depth = " + std::to_string(p.output_depth) + " is negative");
  }
  if (p.input_depth > 0 && p.output_depth > 0 && weights == nullptr) return invalid_argument(what + ": weights is null");
  return {};
}

// A float fully connected layer: its parameters and packed weights. Immutable after prepare (no
// scratch): concurrent calls are safe.
class PreparedFloatFullyConnected {
 public:
  PreparedFloatFullyConnected() = default;
  const FloatFullyConnectedParams& params() const { return params_; }
  const PackedFloatWeights& packed() const { return packed_; }

 private:
  friend PreparedFloatFullyConnected prepare_float_fully_connected(const FloatFullyConnectedParams&, const float*,
                                                                   const float*);
  FloatFullyConnectedParams params_;
  PackedFloatWeights packed_;
};

// Weights [N, K], bias [N] or null. Preconditions (checked in debug builds):
// validate_float_fully_connected(p, weights) is ok.
inline PreparedFloatFullyConnected prepare_float_fully_connected(const FloatFullyConnectedParams& p,
                                                                 const float* weights, const float* bias) {
  PTQ_DCHECK(validate_float_fully_connected(p, weights).ok(),
             "prepare_float_fully_connected: invalid parameters (call validate_float_fully_connected())");
  PreparedFloatFullyConnected fc;
  fc.params_ = p;
  fc.packed_ = pack_float_weights(p.input_depth, p.output_depth, weights, bias, p.activation);
  return fc;
}

// output [batches, N] = reference::fully_connected(params, input, weights, bias), bit for bit;
// input [batches, K]. No allocation.
inline void float_fully_connected(const PreparedFloatFullyConnected& fc, const float* input, float* output,
                                  const FloatGemmOptions& options) {
  float_gemm(fc.packed(), input, fc.params().batches, output, options);
}

inline void float_fully_connected(const PreparedFloatFullyConnected& fc, const float* input, float* output,
                                  Isa isa = selected_isa()) {
  FloatGemmOptions o;
  o.isa = isa;
  float_gemm(fc.packed(), input, fc.params().batches, output, o);
}

PTQ_NAMESPACE_END
