// gemm/pack.hpp: int8 weights [N, K] packed once into the panels a GEMM microkernel streams, with
// the activation zero point folded into an int32 bias and the requantization multipliers laid out
// per output column.
//
// Why packing owns all of this: the run path then has nothing to decide per call. A microkernel
// reads its panel front to back in exactly its load order, K padding is zeros (so a kernel never
// needs a K remainder on the weights side), and the zero point of the activations, which TFLite
// subtracts inside the dot product, becomes one int32 per column:
//
//   acc[b][n] = bias[n] + sum_k w[n][k] * (x[b][k] - x_zp)
//             = (bias[n] - x_zp * sum_k w[n][k]) + sum_k w[n][k] * x[b][k]        (int32, mod 2^32)
//             =  bias_s8[n]                      + sum_k w[n][k] * x[b][k]
//
// The equality holds modulo 2^32, which is what the reference's wrapping accumulator computes, so
// the result is bit-exact even where a sum wraps.
//
// A kernel that multiplies unsigned activations (x + 128, u8) by signed weights (x86 VNNI
// vpdpbusd) computes sum_k w * (x + 128) and needs bias_u8[n] = bias_s8[n] - 128 * sum_k w[n][k];
// packing stores both, so s8 and u8 kernels share one PackedWeights when they share (NR, KR).
//
// ---- Layout contract (PackLayout{nr, kr}) -----------------------------------------------------
//   K_pad   = round_up(K, kr)                 N_pad = round_up(N, nr)       panels = N_pad / nr
//   panel p holds columns n = p*nr + j, j in [0, nr), and is nr * K_pad bytes at
//   weights() + p * panel_bytes(). Inside a panel, K runs in groups of kr:
//       byte offset of w[p*nr + j][g*kr + t] = (g * nr + j) * kr + t     g in [0, K_pad/kr), t in [0, kr)
//   i.e. for each group: nr columns, each with kr consecutive K values (XNNPACK's "NRcKR").
//   Bytes with k >= K or n >= N are 0. A K-block starting at a multiple of kr, k0, starts at byte
//   k0 * nr of its panel.
//   Per-column int32 arrays of N_pad entries (columns >= N hold bias 0, multiplier 0, shift 0):
//       bias_s8()[n], bias_u8()[n]  as above
//       multipliers()[n], shifts()[n]  the (Q0.31 mantissa, shift) of column n; per-tensor
//                                      parameters are replicated into every column
//   Every buffer starts on a 64-byte boundary, and kernels may read up to kReadPastEnd bytes past
//   the end of the packed weights (never used by the kernels in this tree; reserved for wider
//   future kernels that prefetch or over-read the last group).
//   Values: weights in [-127, 127] (checked in debug builds): the AVX2/SSE4.1 sign trick
//   (|x| * sign(w, x) in vpmaddubsw) is exact only without -128.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"

PTQ_NAMESPACE_BEGIN
namespace gemm {

// The panel shape a microkernel reads: nr output columns per panel, K in groups of kr.
struct PackLayout {
  int nr = 16;
  int kr = 4;
  friend constexpr bool operator==(PackLayout a, PackLayout b) { return a.nr == b.nr && a.kr == b.kr; }
  friend constexpr bool operator!=(PackLayout a, PackLayout b) { return !(a == b); }
};

// The layout every x86 level has a kernel for (scalar, SSE4.1, AVX2, AVX-VNNI: 16 columns x 4 K
// = two ymm), and the default of pack_weights. The AVX-512 levels' own kernels read 64c4
// (64 columns x 4 K = four zmm); gemm::preferred_layout(isa) names the layout of a level's
// fastest kernel, and every layout here has a kernel at every level (AVX2 and scalar ones for 64c4).
inline constexpr PackLayout kDefaultPackLayout{16, 4};

// Kernels may read this many bytes past the packed weights.
inline constexpr std::size_t kReadPastEnd = 64;

namespace detail {
// 64-byte aligned storage through C++17's aligned operator new: out of memory behaves as it does
// for std::vector (std::bad_alloc, or std::terminate in builds without exceptions).
struct AlignedFree {
  void operator()(void* p) const { ::operator delete(p, std::align_val_t{64}); }
};
inline void* aligned_alloc64(std::size_t bytes) {
  return ::operator new(bytes == 0 ? 64 : (bytes + 63) / 64 * 64, std::align_val_t{64});
}
constexpr int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
}  // namespace detail

// What the run path reads of a packing, as plain pointers and values (no ownership): the
// front end's panel walk takes this, so that it also runs where PackedWeights cannot be built
// (the freestanding emulator tests, tests/emu/, whose packed bytes come from the host).
struct PackedView {
  PackLayout layout{};
  int64_t k = 0, n = 0;            // input_depth, output_depth
  int64_t panel_bytes = 0;         // nr * K_pad
  const int8_t* weights = nullptr;  // panel p at weights + p * panel_bytes
  const int32_t* bias_s8 = nullptr;
  const int32_t* bias_u8 = nullptr;
  const int32_t* multipliers = nullptr;
  const int32_t* shifts = nullptr;
  int32_t output_zero_point = 0, activation_min = -128, activation_max = 127;
  RoundingMode rounding = kDefaultRounding;
};

class PackedWeights;
namespace detail {
// pack_weights without the value checks: weights may hold -128 (the uint8 path, gemm/uint8.hpp,
// which runs such packings only on kernels with Microkernel::exact_weight_min).
inline PackedWeights pack_weights_any(const FullyConnectedParams& p, const int8_t* weights,
                                      const int32_t* bias, PackLayout layout);
}  // namespace detail

// Weights, bias and output-stage parameters of one fully connected layer, packed for PackLayout.
// Built once by pack_weights(); immutable afterwards and safe to share between threads.
class PackedWeights {
 public:
  PackedWeights() = default;

  PackLayout layout() const { return layout_; }
  int64_t input_depth() const { return k_; }    // K
  int64_t output_depth() const { return n_; }   // N
  int64_t padded_depth() const { return k_pad_; }
  int64_t padded_columns() const { return n_pad_; }
  int64_t panel_count() const { return n_pad_ / layout_.nr; }
  int64_t panel_bytes() const { return static_cast<int64_t>(layout_.nr) * k_pad_; }
  bool empty() const { return weights_ == nullptr; }

  const int8_t* weights() const { return static_cast<const int8_t*>(weights_.get()); }
  const int8_t* panel(int64_t p) const { return weights() + p * panel_bytes(); }
  const int32_t* bias_s8() const { return ints() + 0 * n_pad_; }
  const int32_t* bias_u8() const { return ints() + 1 * n_pad_; }
  const int32_t* multipliers() const { return ints() + 2 * n_pad_; }
  const int32_t* shifts() const { return ints() + 3 * n_pad_; }

  PackedView view() const {
    PackedView v;
    v.layout = layout_;
    v.k = k_;
    v.n = n_;
    v.panel_bytes = panel_bytes();
    v.weights = weights();
    v.bias_s8 = bias_s8();
    v.bias_u8 = bias_u8();
    v.multipliers = multipliers();
    v.shifts = shifts();
    v.output_zero_point = output_zero_point_;
    v.activation_min = activation_min_;
    v.activation_max = activation_max_;
    v.rounding = rounding_;
    return v;
  }

  // The output stage's scalar parameters.
  int32_t input_zero_point() const { return input_zero_point_; }
  int32_t output_zero_point() const { return output_zero_point_; }
  int32_t activation_min() const { return activation_min_; }
  int32_t activation_max() const { return activation_max_; }
  RoundingMode rounding() const { return rounding_; }
  bool per_channel() const { return per_channel_; }

 private:
  friend PackedWeights detail::pack_weights_any(const FullyConnectedParams&, const int8_t*,
                                                const int32_t*, PackLayout);
  const int32_t* ints() const { return static_cast<const int32_t*>(ints_.get()); }

  PackLayout layout_{};
  int64_t k_ = 0, n_ = 0, k_pad_ = 0, n_pad_ = 0;
  int32_t input_zero_point_ = 0, output_zero_point_ = 0;
  int32_t activation_min_ = -128, activation_max_ = 127;
  RoundingMode rounding_ = kDefaultRounding;
  bool per_channel_ = false;
  std::unique_ptr<void, detail::AlignedFree> weights_;  // panel_count() * panel_bytes() + kReadPastEnd
  std::unique_ptr<void, detail::AlignedFree> ints_;     // 4 * N_pad int32
};

// Everything pack_weights and the GEMM assume, with messages naming the field: the reference's
// own checks (FullyConnectedParams::validate<int8_t>), weights zero point 0 (the GEMM folds only
// the activation zero point), and no weight equal to -128 (names the first one found).
inline Status validate(const FullyConnectedParams& p, const int8_t* weights) {
  PTQ_RETURN_IF_ERROR(p.validate<int8_t>());
  if (p.weights_zero_point != 0) {
    return unimplemented("gemm::fully_connected: weights_zero_point = " +
                         std::to_string(p.weights_zero_point) +
                         "; the int8 GEMM takes symmetric weights (zero point 0)");
  }
  if (p.input_depth >= (int64_t{1} << 24)) {  // 127 * K must fit the packed column sums (int32)
    return unimplemented("gemm::fully_connected: input_depth = " + std::to_string(p.input_depth) +
                         " is 2^24 or more");
  }
  if (p.output_depth > 0 && p.input_depth > 0 && weights == nullptr) {
    return invalid_argument("gemm::fully_connected: weights is null");
  }
  for (int64_t i = 0; i < p.output_depth * p.input_depth; ++i) {
    if (weights[i] == -128) {
      return invalid_argument("gemm::fully_connected: weights[" + std::to_string(i / p.input_depth) +
                              "][" + std::to_string(i % p.input_depth) +
                              "] = -128; int8 weights are in [-127, 127] (TFLite's spec)");
    }
  }
  return {};
}

// Packs weights [N, K] (row-major, TFLite's filter layout) and bias [N] (or null) for `layout`.
// Preconditions (checked in debug builds): validate(p, weights) is ok. p.batches is ignored.
// (Defined below detail::pack_weights_any, which does the work.)
inline PackedWeights pack_weights(const FullyConnectedParams& p, const int8_t* weights,
                                  const int32_t* bias, PackLayout layout = kDefaultPackLayout);

inline PackedWeights detail::pack_weights_any(const FullyConnectedParams& p, const int8_t* weights,
                                              const int32_t* bias, PackLayout layout) {
  PTQ_DCHECK(layout.nr > 0 && layout.kr > 0, "gemm::pack_weights: empty layout");
  PackedWeights out;
  out.layout_ = layout;
  out.k_ = p.input_depth;
  out.n_ = p.output_depth;
  out.k_pad_ = detail::round_up(p.input_depth, layout.kr);
  out.n_pad_ = detail::round_up(p.output_depth, layout.nr);
  out.input_zero_point_ = p.input_zero_point;
  out.output_zero_point_ = p.output_zero_point;
  out.activation_min_ = p.activation_min;
  out.activation_max_ = p.activation_max;
  out.rounding_ = p.rounding;
  out.per_channel_ = p.multipliers.size() > 1;

  const int64_t nr = layout.nr, kr = layout.kr, k = out.k_, n = out.n_;
  const std::size_t weight_bytes = static_cast<std::size_t>(out.n_pad_ * out.k_pad_) + kReadPastEnd;
  out.weights_.reset(detail::aligned_alloc64(weight_bytes));
  out.ints_.reset(detail::aligned_alloc64(static_cast<std::size_t>(4 * out.n_pad_) * sizeof(int32_t)));
  auto* w = static_cast<int8_t*>(out.weights_.get());
  auto* ints = static_cast<int32_t*>(out.ints_.get());
  std::memset(w, 0, weight_bytes);
  std::memset(ints, 0, static_cast<std::size_t>(4 * out.n_pad_) * sizeof(int32_t));

  for (int64_t col = 0; col < n; ++col) {
    const int64_t panel = col / nr, j = col % nr;
    int8_t* dst = w + panel * nr * out.k_pad_;
    const int8_t* src = weights + col * k;
    int32_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      dst[((kk / kr) * nr + j) * kr + kk % kr] = src[kk];
      sum += src[kk];  // |sum| <= 128 * K: exact for K < 2^24
    }
    const int32_t b = bias != nullptr ? bias[col] : 0;
    // Wrapping int32 arithmetic, like the reference's accumulator.
    const uint32_t s8 = static_cast<uint32_t>(b) -
                        static_cast<uint32_t>(p.input_zero_point) * static_cast<uint32_t>(sum);
    ints[0 * out.n_pad_ + col] = static_cast<int32_t>(s8);
    ints[1 * out.n_pad_ + col] = static_cast<int32_t>(s8 - 128u * static_cast<uint32_t>(sum));
    const QuantizedMultiplier m = p.multiplier(col);
    ints[2 * out.n_pad_ + col] = m.multiplier;
    ints[3 * out.n_pad_ + col] = m.shift;
  }
  return out;
}

inline PackedWeights pack_weights(const FullyConnectedParams& p, const int8_t* weights,
                                  const int32_t* bias, PackLayout layout) {
  PTQ_DCHECK(validate(p, weights).ok(), "gemm::pack_weights: invalid parameters (call validate())");
  return detail::pack_weights_any(p, weights, bias, layout);
}

}  // namespace gemm
PTQ_NAMESPACE_END
