// reference/lookup_table.hpp: int8 -> int8 lookup tables built from a float function, TFLite's
// LUTPopulate<int8_t> (kernels/internal/common.h): what TFLite's int8 Logistic, Tanh and other
// table-driven kernels run, and what ptq uses for int8 ops TFLite has no integer kernel for (Clip,
// HardSigmoid):
//   table[uint8(q)] = clamp(round(f(s_in * (q - zp_in)) * (1 / s_out)) + zp_out, -128, 127)
// with float arithmetic in that order (a product by the inverse scale, not a division) and
// round = std::round (ties away from zero). Standard library only.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ptq/core/config.hpp"
#include "ptq/core/qparams.hpp"

PTQ_NAMESPACE_BEGIN

// A 256-entry int8 -> int8 table indexed by the input's bit pattern (uint8_t(q)), TFLite's layout.
using Int8LookupTable = std::array<int8_t, 256>;

// TFLite's LUTPopulate<int8_t> (kernels/internal/common.h) for a float function f.
template <class F>
Int8LookupTable make_int8_lut(QuantParams input, QuantParams output, F f) {
  Int8LookupTable table{};
  const float inverse_scale = 1.0f / output.scale;
  for (int32_t q = -128; q <= 127; ++q) {
    const float dequantized = input.scale * static_cast<float>(q - input.zero_point);
    const float transformed = f(dequantized);
    const float rescaled = std::round(transformed * inverse_scale);
    const float shifted = rescaled + static_cast<float>(output.zero_point);
    // TFLite converts to int32 and then clamps; clamping in float first gives the same value for every
    // finite result and keeps NaN/inf (where the conversion is undefined) defined: NaN -> -128.
    int32_t v = -128;
    if (shifted >= 127.0f) {
      v = 127;
    } else if (shifted > -128.0f) {
      v = static_cast<int32_t>(shifted);
    }
    table[static_cast<uint8_t>(static_cast<int8_t>(q))] = static_cast<int8_t>(v);
  }
  return table;
}

namespace reference {

// y[i] = table[uint8(x[i])].
inline void lookup(const Int8LookupTable& table, const int8_t* x, int8_t* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = table[static_cast<uint8_t>(x[i])];
}

}  // namespace reference
PTQ_NAMESPACE_END
