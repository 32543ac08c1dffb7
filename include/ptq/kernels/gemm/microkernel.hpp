// gemm/microkernel.hpp: what a GEMM microkernel is to the front end: a tile function per row
// count, the panel layout it reads, and the output stage that goes with it.
//
// A tile function computes, for m = its row count, j in [0, nr):
//   acc[i * nr + j] += sum_{k < kc} a[i * a_stride + k] * W(j, k)        i in [0, m), int32 wrapping
// where W is a K-block of one packed panel (pack.hpp: `w` points at byte k0 * nr of the panel,
// k0 a multiple of kr). It reads a[i * a_stride + k] only for k < kc (a K remainder that is not a
// multiple of kr is loaded partially) and round_up(kc, kr) * nr bytes of w. acc is read and
// written: the front end seeds it with the bias and chains K-blocks through it.
//
// Names are the spec, XNNPACK style: s8s8_s32_<MR>x<NR>c<KR>__<isa>[_<technique>] = int8
// activations x int8 weights -> int32 accumulators, an MR x NR register tile, KR consecutive K per
// column in the panel.
#pragma once

#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/kernels/gemm/output_stage.hpp"
#include "ptq/kernels/gemm/pack.hpp"
#include "ptq/simd/arch.hpp"

PTQ_NAMESPACE_BEGIN
namespace gemm {

// Fully unrolls the loops over a tile's rows and vectors, so that accumulators stay in registers
// (GCC does not unroll them at -O2 by itself).
#define PTQ_GEMM_UNROLL _Pragma("GCC unroll 16")

// The n < 8 bytes at p as the low bytes of a little-endian word, the rest 0: the partial K group
// at the end of a row (the panel's padding bytes are 0, so whatever multiplies them is 0 too).
// A byte loop, not memcpy: a variable-length memcpy is a libc call, and one per row and tile
// doubled the time of a K = 27 layer.
PTQ_INLINE uint64_t load_tail(const int8_t* p, int64_t n) {
  uint64_t v = 0;
  for (int64_t i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

inline constexpr int kMaxMr = 8;
inline constexpr int kMaxNr = 64;

using TileFn = void (*)(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w, int32_t* acc);
// The int8 output stage for a tile whose accumulator rows are layout.nr apart (output_stage.hpp).
using OutputFn = void (*)(int rows, int cols, const int32_t* acc, const OutputStage& os, int8_t* out,
                          int64_t out_stride);

struct Microkernel {
  const char* name = "";
  Isa isa = Isa::kScalar;  // the level whose instructions it uses
  int mr = 1;
  PackLayout layout{};
  // The kernel multiplies x + 128 (u8) by the weights and needs PackedWeights::bias_u8() (VNNI).
  bool u8_activations = false;
  // Exact for weights equal to -128 too (no vpsignb sign trick): scalar, vpmaddwd, vpdpbusd. The
  // uint8 path (gemm/uint8.hpp) needs it when a layer's weights span all 256 uint8 values.
  bool exact_weight_min = false;
  TileFn tiles[kMaxMr] = {};  // tiles[m - 1] computes m rows, m in [1, mr]
  OutputFn output = nullptr;
};

}  // namespace gemm
PTQ_NAMESPACE_END
