// kernels/float16.hpp: float32 <-> float16 buffer conversion, the one dispatch point of the family.
//
// Variants, all equal to reference::float_to_half / half_to_float bit for bit (tests hold them to
// it on every half and on millions of floats, NaN payloads included):
//   kAvx512  x86/float16_avx512.hpp  vcvtps2ph / vcvtph2ps on zmm, opmask tails
//   kAvx2    x86/float16_avx2.hpp    F16C on ymm
//   kSse41   x86/float16_sse41.hpp   integer SIMD, branchless (SSE4.1 has no F16C)
//   kScalar  reference/float16.hpp   also what kGeneric runs: xsimd 8.1 has no fp16 conversion
// A requested level is first clamped to what the CPU runs (best_runnable_isa_within), then mapped
// to the variant that serves it (float16_variant), so no call ever runs an instruction the CPU
// lacks, whatever level the caller passes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/kernels/reference/float16.hpp"
#include "ptq/simd/arch.hpp"
#include "ptq/simd/dispatch.hpp"

#if PTQ_ARCH_X86
#include "ptq/kernels/x86/float16_avx2.hpp"
#include "ptq/kernels/x86/float16_avx512.hpp"
#include "ptq/kernels/x86/float16_sse41.hpp"
#endif

PTQ_NAMESPACE_BEGIN

// The variant that serves a requested level: kAvx512Vnni, kAvx512 -> kAvx512; kAvxVnni, kAvx2 ->
// kAvx2; kSse41 -> kSse41; everything else (kGeneric, kScalar, ARM levels, and every level in a
// build without x86 variants) -> kScalar. It does not check that the CPU runs the level.
constexpr Isa float16_variant(Isa isa) {
#if PTQ_ARCH_X86
  switch (isa) {
    case Isa::kAvx512Vnni:
    case Isa::kAvx512: return Isa::kAvx512;
    case Isa::kAvxVnni:
    case Isa::kAvx2: return Isa::kAvx2;
    case Isa::kSse41: return Isa::kSse41;
    default: return Isa::kScalar;
  }
#else
  (void)isa;
  return Isa::kScalar;
#endif
}

// h[i] = binary16 bits of x[i], for i in [0, n). x and h must not overlap.
inline void float_to_half(const float* x, uint16_t* h, std::size_t n, Isa isa = selected_isa()) {
  PTQ_DCHECK(n == 0 || (x != nullptr && h != nullptr), "null buffer");
  switch (float16_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx512: x86::avx512::float_to_half(x, h, n); return;
    case Isa::kAvx2: x86::avx2::float_to_half(x, h, n); return;
    case Isa::kSse41: x86::sse41::float_to_half(x, h, n); return;
#endif
    default: reference::float_to_half(x, h, n); return;
  }
}

// x[i] = the float value of the binary16 bits h[i], for i in [0, n). h and x must not overlap.
inline void half_to_float(const uint16_t* h, float* x, std::size_t n, Isa isa = selected_isa()) {
  PTQ_DCHECK(n == 0 || (x != nullptr && h != nullptr), "null buffer");
  switch (float16_variant(best_runnable_isa_within(isa))) {
#if PTQ_ARCH_X86
    case Isa::kAvx512: x86::avx512::half_to_float(h, x, n); return;
    case Isa::kAvx2: x86::avx2::half_to_float(h, x, n); return;
    case Isa::kSse41: x86::sse41::half_to_float(h, x, n); return;
#endif
    default: reference::half_to_float(h, x, n); return;
  }
}

PTQ_NAMESPACE_END
