// gemm/microkernel_scalar.hpp: the portable microkernel, for any panel layout (NR, KR).
//
// Plain C++ over the packed panel; it is both the fallback on CPUs without a SIMD variant and the
// proof that the packing contract (pack.hpp) is all a kernel needs. Products and sums in int32
// with wrap-around computed in uint32 (defined behaviour; equal to the SIMD lanes).
#pragma once

#include <cstdint>
#include <cstring>

#include "ptq/kernels/gemm/microkernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace gemm {
namespace scalar {

template <int MR, int NR, int KR>
void s8s8_s32_tile(int64_t kc, const int8_t* a, int64_t a_stride, const int8_t* w, int32_t* acc) {
  uint32_t vacc[MR][NR];
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i)
    PTQ_GEMM_UNROLL
    for (int j = 0; j < NR; ++j) vacc[i][j] = static_cast<uint32_t>(acc[i * NR + j]);
  for (int64_t k0 = 0; k0 < kc; k0 += KR) {
    const int kn = kc - k0 < KR ? static_cast<int>(kc - k0) : KR;
    PTQ_GEMM_UNROLL
    for (int i = 0; i < MR; ++i) {
      int8_t va[KR] = {};
      std::memcpy(va, a + i * a_stride + k0, static_cast<std::size_t>(kn));
      PTQ_GEMM_UNROLL
      for (int j = 0; j < NR; ++j) {
        int32_t dot = 0;  // |dot| <= KR * 128 * 127: exact
        PTQ_GEMM_UNROLL
        for (int t = 0; t < KR; ++t) dot += static_cast<int32_t>(va[t]) * w[j * KR + t];
        vacc[i][j] += static_cast<uint32_t>(dot);
      }
    }
    w += NR * KR;
  }
  PTQ_GEMM_UNROLL
  for (int i = 0; i < MR; ++i)
    PTQ_GEMM_UNROLL
    for (int j = 0; j < NR; ++j) acc[i * NR + j] = static_cast<int32_t>(vacc[i][j]);
}

template <int NR>
void output_stage(int rows, int cols, const int32_t* acc, const OutputStage& os, int8_t* out,
                  int64_t out_stride) {
  output_stage_scalar(rows, cols, NR, acc, os, out, out_stride);
}

template <int MR, int NR, int KR>
constexpr Microkernel make_microkernel(const char* name) {
  static_assert(MR <= 4, "scalar tiles are instantiated for 1..4 rows");
  Microkernel k;
  k.name = name;
  k.isa = Isa::kScalar;
  k.exact_weight_min = true;
  k.mr = MR;
  k.layout = PackLayout{NR, KR};
  k.tiles[0] = &s8s8_s32_tile<1, NR, KR>;
  if (MR >= 2) k.tiles[1] = &s8s8_s32_tile<(MR >= 2 ? 2 : 1), NR, KR>;
  if (MR >= 3) k.tiles[2] = &s8s8_s32_tile<(MR >= 3 ? 3 : 1), NR, KR>;
  if (MR >= 4) k.tiles[3] = &s8s8_s32_tile<(MR >= 4 ? 4 : 1), NR, KR>;
  k.output = &output_stage<NR>;
  return k;
}

// The layouts of the SIMD kernels, so that any PackedWeights runs on any CPU.
inline constexpr Microkernel kS8S8_4x16c4 = make_microkernel<4, 16, 4>("s8s8_s32_4x16c4__scalar");
inline constexpr Microkernel kS8S8_3x8c8 = make_microkernel<3, 8, 8>("s8s8_s32_3x8c8__scalar");
inline constexpr Microkernel kS8S8_2x64c4 = make_microkernel<2, 64, 4>("s8s8_s32_2x64c4__scalar");

}  // namespace scalar
}  // namespace gemm
PTQ_NAMESPACE_END
