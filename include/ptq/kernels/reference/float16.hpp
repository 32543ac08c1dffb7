// reference/float16.hpp: float32 <-> float16 buffer conversion, scalar and readable.
//
// This is the normative implementation: every SIMD variant in kernels/float16.hpp equals it bit
// for bit on every input, NaN payloads included. The per-element rule (round to nearest even,
// overflow to inf at 65520, NaNs quieted with their top payload bits kept) is written once, in
// core/float16.hpp; these loops only apply it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/core/float16.hpp"

PTQ_NAMESPACE_BEGIN
namespace reference {

// h[i] = binary16 bits of x[i], for i in [0, n).
inline void float_to_half(const float* PTQ_RESTRICT x, uint16_t* PTQ_RESTRICT h, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h[i] = float_to_half_bits(x[i]);
}

// x[i] = the float value of the binary16 bits h[i], for i in [0, n).
inline void half_to_float(const uint16_t* PTQ_RESTRICT h, float* PTQ_RESTRICT x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] = half_bits_to_float(h[i]);
}

}  // namespace reference
PTQ_NAMESPACE_END
