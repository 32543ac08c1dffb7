// gemm/uint8.hpp: TFLite's legacy QUANTIZED_UINT8 fully connected (uint8 activations and weights,
// each with a zero point; per-tensor multiplier; uint8 output) on the int8 GEMM engine, bit for bit
// reference::fully_connected<uint8_t> (and fully_connected_accumulators<uint8_t>).
//
//   Status s = gemm::validate_u8(params, weights_u8);
//   gemm::PackedWeightsU8 packed = gemm::pack_weights_u8(params, weights_u8, bias);   // once
//   gemm::fully_connected(packed, input_u8, batches, output_u8, options);             // per call
//
// ---- The exact formulation (no new microkernel) ----------------------------------------------
// With x, w in [0, 255], zero points x_zp, w_zp in [0, 255], and a per-layer integer c chosen at
// pack time (below), let
//   x' = x - 128 = x ^ 0x80     (int8, converted per call)     x'_zp = x_zp - 128   (int8)
//   w' = w - c                   (int8, packed once)
// Then, all sums modulo 2^32 like the reference's accumulator:
//   acc[b][n] = bias[n] + sum_k (w - w_zp)(x - x_zp)
//             = bias[n] + sum_k w' (x' - x'_zp)  +  (c - w_zp) * sum_k (x[b][k] - x_zp)
//             = [the int8 engine on x', w' with input zero point x'_zp]  +  row_term[b]
// The first part is exactly what pack_weights/fully_connected compute (bias and x'_zp folded at
// pack time, pack.hpp). row_term[b] = (c - w_zp) * (R[b] - K * x_zp), R[b] = sum_k x[b][k], is
// the one per-call extra: the front end computes R for each M-block and seeds the accumulators
// with bias[n] + row_term[b]. It is zero, and skipped, when c = w_zp.
// The output: y = clamp(MBQM(acc) + y_zp, lo, hi) in [0, 255] is computed by the int8 output stage
// with y_zp - 128 and [lo - 128, hi - 128] (both in int8), which gives y - 128; the front end then
// flips the top bit of the stored bytes (y = (y - 128) ^ 0x80), in the tile just written.
//
// Choosing c (w' must be int8, and in [-127, 127] for the sign-trick kernels, pack.hpp):
//   1. w - w_zp in [-127, 127] for every weight: c = w_zp, no row term. (Weights quantized around
//      their zero point with a range of 254 or less.)
//   2. else, if max(w) - min(w) <= 254: c = the value of [max(w) - 127, min(w) + 127] nearest
//      w_zp; w' in [-127, 127]; the row term costs K adds per row per M-block per task.
//   3. else (the weights use both 0 and 255, as min/max uint8 quantization usually gives): c = 128,
//      w' in [-128, 127] with -128 present. The sign-trick kernels (AVX2/SSE4.1/AVX-512BW
//      vpmaddubsw) are not exact for -128 weights, so such a packing runs only on kernels with
//      Microkernel::exact_weight_min: scalar, AVX2 vpmaddwd (3x8c8), AVX-VNNI and AVX-512 VNNI
//      vpdpbusd. pack_weights_u8(.., isa) picks the layout of the best such kernel.
// So every uint8 layer is covered exactly; case 3 is slower on CPUs without VNNI (the vpmaddwd
// kernel, about 0.7x the sign-trick kernel, bench/README.md).
//
// Per-call costs besides the int8 GEMM: x ^ 0x80 into a 16 KiB stack buffer (per M-block, once for
// all N-panels, when 16384 / K >= MR rows fit -- M-blocks are shortened to fit, e.g. 16 rows at
// K = 1024; for larger K per register tile and N-panel), the row sums (cases 2 and 3 with
// c != w_zp), and the output's top-bit flip. No allocation; threads as in gemm.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/kernels/gemm/gemm.hpp"

PTQ_NAMESPACE_BEGIN
namespace gemm {

// A uint8 layer packed for the int8 engine (see the header for c, w' and the row term).
class PackedWeightsU8 {
 public:
  PackedWeightsU8() = default;

  // The int8 packing of w' = w - c, with input zero point x_zp - 128, output zero point y_zp - 128
  // and the clamp shifted by -128.
  const PackedWeights& packed() const { return packed_; }
  PackLayout layout() const { return packed_.layout(); }
  int64_t input_depth() const { return packed_.input_depth(); }
  int64_t output_depth() const { return packed_.output_depth(); }
  bool empty() const { return packed_.empty(); }
  int32_t weights_offset() const { return c_; }             // c
  int32_t row_coefficient() const { return c_ - w_zp_; }    // c - w_zp: 0 means no row term
  int32_t input_zero_point() const { return x_zp_; }        // uint8 x_zp
  bool full_range() const { return full_range_; }           // some w' == -128 (case 3)

 private:
  friend PackedWeightsU8 pack_weights_u8(const FullyConnectedParams&, const uint8_t*, const int32_t*,
                                         PackLayout);
  PackedWeights packed_;
  int32_t c_ = 0, w_zp_ = 0, x_zp_ = 0;
  bool full_range_ = false;
};

// FullyConnectedParams::validate<uint8_t>() (zero points and clamp in [0, 255], multipliers,
// per-channel only with w_zp = 0), and K < 2^24 (the packed column sums). Any uint8 weights.
inline Status validate_u8(const FullyConnectedParams& p, const uint8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate<uint8_t>());
  if (p.input_depth >= (int64_t{1} << 24)) {
    return unimplemented("gemm::fully_connected (uint8): input_depth = " + std::to_string(p.input_depth) +
                         " is 2^24 or more");
  }
  if (p.output_depth > 0 && p.input_depth > 0 && weights == nullptr) {
    return invalid_argument("gemm::fully_connected (uint8): weights is null");
  }
  return {};
}

namespace detail {

// c of the header's three cases, and whether w - c reaches -128.
inline void choose_weights_offset(const FullyConnectedParams& p, const uint8_t* weights, int32_t* c,
                                  bool* full_range) {
  const int64_t count = p.output_depth * p.input_depth;
  *c = p.weights_zero_point;
  *full_range = false;
  if (count == 0) return;
  const auto [lo_it, hi_it] = std::minmax_element(weights, weights + count);
  const int32_t lo = *lo_it, hi = *hi_it;
  if (hi - lo <= 254) {
    *c = std::min(std::max(p.weights_zero_point, hi - 127), lo + 127);
  } else {
    *c = 128;
    *full_range = true;
  }
}

// The best kernel of this build for `layout` at level `isa` (clamped to the CPU) that is exact for
// -128 weights; nullptr if none reads the layout.
inline const Microkernel* exact_weight_min_kernel(PackLayout layout, Isa isa) {
  const Isa v = gemm_variant(best_runnable_isa_within(isa));
  std::size_t n = 0;
  const Microkernel* const* all = microkernels(&n);
  const Microkernel* best = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    const Microkernel* k = all[i];
    if (!k->exact_weight_min || k->layout != layout || (isa_implied(v) & isa_bit(k->isa)) == 0) continue;
    if (best == nullptr || isa_bit(k->isa) > isa_bit(best->isa)) best = k;
  }
  return best;
}

// The layout of the best exact-for--128 kernel at `isa`.
inline PackLayout exact_weight_min_layout(Isa isa) {
  const Isa v = gemm_variant(best_runnable_isa_within(isa));
  std::size_t n = 0;
  const Microkernel* const* all = microkernels(&n);
  const Microkernel* best = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    const Microkernel* k = all[i];
    if (!k->exact_weight_min || (isa_implied(v) & isa_bit(k->isa)) == 0) continue;
    if (best == nullptr || isa_bit(k->isa) > isa_bit(best->isa)) best = k;
  }
  return best != nullptr ? best->layout : kDefaultPackLayout;
}

}  // namespace detail

// Packs uint8 weights [N, K] and bias [N] (or null) for `layout`. Preconditions (checked in debug
// builds): validate_u8(p, weights) is ok. If the result is full_range(), run it only on kernels
// with exact_weight_min (fully_connected picks one; GemmOptions::kernel must be one).
inline PackedWeightsU8 pack_weights_u8(const FullyConnectedParams& p, const uint8_t* weights,
                                       const int32_t* bias, PackLayout layout) {
  PTQ_DCHECK(validate_u8(p, weights).ok(), "gemm::pack_weights_u8: invalid parameters (call validate_u8())");
  PackedWeightsU8 out;
  detail::choose_weights_offset(p, weights, &out.c_, &out.full_range_);
  out.w_zp_ = p.weights_zero_point;
  out.x_zp_ = p.input_zero_point;
  const std::size_t count = static_cast<std::size_t>(p.output_depth * p.input_depth);
  std::vector<int8_t> w(count);
  for (std::size_t i = 0; i < count; ++i) w[i] = static_cast<int8_t>(static_cast<int32_t>(weights[i]) - out.c_);
  FullyConnectedParams p8 = p;
  p8.input_zero_point = p.input_zero_point - 128;
  p8.weights_zero_point = 0;
  p8.output_zero_point = p.output_zero_point - 128;
  p8.activation_min = p.activation_min - 128;
  p8.activation_max = p.activation_max - 128;
  out.packed_ = detail::pack_weights_any(p8, w.data(), bias, layout);
  return out;
}

// Packs for level `isa`: its preferred layout, or for full-range weights the layout of its best
// kernel that is exact for -128 weights (AVX2: 8c8 vpmaddwd; VNNI levels: their own).
inline PackedWeightsU8 pack_weights_u8(const FullyConnectedParams& p, const uint8_t* weights,
                                       const int32_t* bias, Isa isa = selected_isa()) {
  int32_t c = 0;
  bool full = false;
  if (p.output_depth > 0 && p.input_depth > 0) detail::choose_weights_offset(p, weights, &c, &full);
  return pack_weights_u8(p, weights, bias, full ? detail::exact_weight_min_layout(isa) : preferred_layout(isa));
}

// The kernel that runs a uint8 packing at level `isa`.
inline const Microkernel* microkernel_for(const PackedWeightsU8& pw, Isa isa = selected_isa()) {
  return pw.full_range() ? detail::exact_weight_min_kernel(pw.layout(), isa) : microkernel_for(pw.layout(), isa);
}

namespace detail {

// The converted activations (x ^ 0x80) live in a stack buffer of this size: a whole M-block of
// rows when mr rows of K fit (the M-block is then shortened to what fits, and converted once for
// all panels), else one register tile's rows x K-block (converted once per panel).
inline constexpr int64_t kU8ActivationBytes = 16384;

// dst[i] = src[i] ^ 0x80 (uint8 x -> int8 x - 128), 8 bytes at a time.
inline void flip_top_bits(int8_t* dst, const uint8_t* src, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    uint64_t v;
    std::memcpy(&v, src + i, 8);
    v ^= 0x8080808080808080ull;
    std::memcpy(dst + i, &v, 8);
  }
  for (; i < count; ++i) dst[i] = static_cast<int8_t>(src[i] ^ 0x80u);
}

// run_panels (gemm.hpp) for uint8 activations: the same walk, plus the per-row term in the
// accumulator seed, the activations converted per tile, and uint8 stores. Kept separate so that
// the int8 path's loop is untouched.
template <class Out>
void run_panels_u8(const Microkernel& uk, const PackedView& pw, const uint8_t* input, int64_t in_stride,
                   int64_t batches, Out* output, int64_t out_stride, int32_t row_coeff, int32_t x_zp,
                   int64_t panel_begin, int64_t panel_end) {
  const int64_t nr = uk.layout.nr, kr = uk.layout.kr, mr = uk.mr;
  const int64_t k = pw.k, n = pw.n;
  const int64_t mc_full = std::min(kMaxMc, kAccInts / nr) / mr * mr;
  // Whole blocks when mr rows of K fit the buffer (K <= 16384 / mr), else per tile.
  const bool whole_block = k > 0 && mr * k <= kU8ActivationBytes;
  const int64_t mc = whole_block ? std::min(mc_full, kU8ActivationBytes / k / mr * mr) : mc_full;
  const int64_t kc_full = std::max(kr, kPanelSliceBytes / nr / kr * kr);
  const int64_t kc = whole_block ? kc_full : std::min(kc_full, std::max(kr, kU8ActivationBytes / mr / kr * kr));
  const int32_t* bias = uk.u8_activations ? pw.bias_u8 : pw.bias_s8;
  alignas(64) int32_t acc[kAccInts];
  alignas(64) int8_t xs[kU8ActivationBytes];
  uint32_t row_term[kMaxMc];
  OutputStage os;
  os.output_zero_point = pw.output_zero_point;
  os.activation_min = pw.activation_min;
  os.activation_max = pw.activation_max;
  os.rounding = pw.rounding;
  for (int64_t m0 = 0; m0 < batches; m0 += mc) {
    const int64_t mb = std::min(mc, batches - m0);
    if (whole_block)
      for (int64_t r = 0; r < mb; ++r) flip_top_bits(xs + r * k, input + (m0 + r) * in_stride, k);
    for (int64_t r = 0; r < mb; ++r) {
      row_term[r] = 0;
      if (row_coeff == 0) continue;
      const uint8_t* x = input + (m0 + r) * in_stride;
      int64_t sum = 0;  // <= 255 * K < 2^32
      for (int64_t kk = 0; kk < k; ++kk) sum += x[kk];
      // (c - w_zp) * sum_k (x - x_zp), modulo 2^32.
      row_term[r] = static_cast<uint32_t>(row_coeff) * static_cast<uint32_t>(sum - k * x_zp);
    }
    for (int64_t p = panel_begin; p < panel_end; ++p) {
      const int64_t n0 = p * nr;
      const int cols = static_cast<int>(std::min(nr, n - n0));
      for (int64_t r = 0; r < mb; ++r)
        for (int64_t j = 0; j < nr; ++j)
          acc[r * nr + j] = static_cast<int32_t>(static_cast<uint32_t>(bias[n0 + j]) + row_term[r]);
      for (int64_t k0 = 0; k0 < k; k0 += kc) {
        const int64_t kn = std::min(kc, k - k0);
        const int8_t* w = pw.weights + p * pw.panel_bytes + k0 * nr;
        for (int64_t m = 0; m < mb; m += mr) {
          const int64_t rows = std::min(mr, mb - m);
          if (whole_block) {
            uk.tiles[rows - 1](kn, xs + m * k + k0, k, w, acc + m * nr);
          } else {
            for (int64_t i = 0; i < rows; ++i) flip_top_bits(xs + i * kc, input + (m0 + m + i) * in_stride + k0, kn);
            uk.tiles[rows - 1](kn, xs, kc, w, acc + m * nr);
          }
        }
      }
      Out* out = output + m0 * out_stride + n0;
      if constexpr (std::is_same<Out, uint8_t>::value) {
        os.multipliers = pw.multipliers + n0;
        os.shifts = pw.shifts + n0;
        // Bytes through int8_t (a character type: aliasing is fine); y - 128 -> y.
        uk.output(static_cast<int>(mb), cols, acc, os, reinterpret_cast<int8_t*>(out), out_stride);
        for (int64_t r = 0; r < mb; ++r)
          for (int c = 0; c < cols; ++c) out[r * out_stride + c] = static_cast<uint8_t>(out[r * out_stride + c] ^ 0x80u);
      } else {
        output_stage_i32(static_cast<int>(mb), cols, static_cast<int>(nr), acc, out, out_stride);
      }
    }
  }
}

template <class Out>
void run_u8(const PackedWeightsU8& pw, const uint8_t* input, int64_t batches, Out* output,
            const GemmOptions& o) {
  PTQ_DCHECK(!pw.empty() || pw.output_depth() == 0, "gemm::fully_connected (uint8): weights not packed");
  PTQ_DCHECK(batches >= 0, "gemm::fully_connected (uint8): negative batch count");
  const Microkernel* uk = o.kernel != nullptr ? o.kernel : microkernel_for(pw, o.isa);
  PTQ_DCHECK(uk != nullptr, "gemm::fully_connected (uint8): no kernel reads this packed layout");
  PTQ_DCHECK(uk->layout == pw.layout(), "gemm::fully_connected (uint8): kernel and packing disagree on layout");
  PTQ_DCHECK(isa_runnable(uk->isa), "gemm::fully_connected (uint8): the kernel's ISA does not run on this CPU");
  PTQ_DCHECK(!pw.full_range() || uk->exact_weight_min,
             "gemm::fully_connected (uint8): full-range weights need a kernel exact for -128 weights");
  if (batches == 0 || pw.output_depth() == 0) return;
  const int64_t in_stride = o.input_stride != 0 ? o.input_stride : pw.input_depth();
  const int64_t out_stride = o.output_stride != 0 ? o.output_stride : pw.output_depth();
  PTQ_DCHECK(in_stride >= pw.input_depth() && out_stride >= pw.output_depth(),
             "gemm::fully_connected (uint8): a row stride is shorter than the row");
  const PackedView view = pw.packed().view();
  const int32_t row_coeff = pw.row_coefficient(), x_zp = pw.input_zero_point();
  for_panels(o, pw.packed().panel_count(), [&](int64_t begin, int64_t end) {
    run_panels_u8<Out>(*uk, view, input, in_stride, batches, output, out_stride, row_coeff, x_zp, begin, end);
  });
}

}  // namespace detail

// output[b][n] = reference::fully_connected<uint8_t> on the packed layer; strides and threads as
// for the int8 fully_connected (GemmOptions).
inline void fully_connected(const PackedWeightsU8& packed, const uint8_t* input, int64_t batches,
                            uint8_t* output, const GemmOptions& options) {
  detail::run_u8<uint8_t>(packed, input, batches, output, options);
}

inline void fully_connected(const PackedWeightsU8& packed, const uint8_t* input, int64_t batches,
                            uint8_t* output, Isa isa = selected_isa()) {
  GemmOptions o;
  o.isa = isa;
  detail::run_u8<uint8_t>(packed, input, batches, output, o);
}

// The int32 accumulators, bias included: reference::fully_connected_accumulators<uint8_t>.
inline void fully_connected_accumulators(const PackedWeightsU8& packed, const uint8_t* input,
                                         int64_t batches, int32_t* output,
                                         const GemmOptions& options = GemmOptions()) {
  detail::run_u8<int32_t>(packed, input, batches, output, options);
}

}  // namespace gemm
PTQ_NAMESPACE_END
