// elementwise_tables.hpp: table-driven int8 Add, Sub, Softmax and unary activations, bit for bit
// the reference kernels (reference/elementwise.hpp, pointwise.hpp, softmax.hpp), prepared once.
//
//   Int8AddTables t = make_int8_add_tables(params, /*subtract=*/false);   // once
//   add_sub_int8(t, a, b, y);                                            // per call
//
// Why tables: TFLite's int8 arithmetic is defined per element by fixed-point steps whose inputs are
// single int8 values, so every step that sees one int8 value and nothing else has 256 possible
// results and is computed once at prepare:
//   - unary activations (Relu family, LeakyRelu, HardSwish): the whole op is a function of the
//     input byte. tabulate_int8 runs the reference kernel itself on all 256 bytes; reference::lookup
//     (lookup_table.hpp) then applies it. Bit-exact by construction.
//   - Add and Sub: (x - zp) << left_shift scaled by the input's multiplier depends on that input
//     alone, so each input gets a 256-entry int32 table; per element remain the sum (or difference,
//     wrapping as the reference's) and the output stage: one fixed-point multiply instead of three.
//   - Softmax: with m the row's maximum, exp_on_negative_values(rescaled x - m) depends on x - m in
//     [-255, 0] alone: a table of 256 Q0.31 exponentials (0 where x - m < diff_min, which the
//     reference skips) and of their Q12.19 rescalings for the sum. Per element remain the sum, one
//     doubling high multiply and one rounding shift: two exp_on_negative_values calls (~100
//     instructions each) go.
// The references stay the definition; tests/kernels/elementwise_tables_test.cpp compares every
// function here with them, over all 65,536 input pairs for Add and Sub.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/fixed_point_math.hpp"
#include "ptq/kernels/reference/elementwise.hpp"
#include "ptq/kernels/reference/lookup_table.hpp"
#include "ptq/kernels/reference/softmax.hpp"

PTQ_NAMESPACE_BEGIN

// The table of an elementwise int8 kernel: kernel(x, y, n) run once over all 256 bytes, entry
// uint8(q) holding the output for input q (lookup_table.hpp's layout). Precondition: each output
// of `kernel` depends on its own input only.
template <class Kernel>
Int8LookupTable tabulate_int8(Kernel kernel) {
  std::array<int8_t, 256> x{};
  for (int i = 0; i < 256; ++i) x[static_cast<std::size_t>(i)] = static_cast<int8_t>(static_cast<uint8_t>(i));
  Int8LookupTable table{};
  kernel(x.data(), table.data(), std::size_t{256});
  return table;
}

// ---- Add, Sub ---------------------------------------------------------------------------------

struct Int8AddTables {
  QuantizedAddParams params;
  bool subtract = false;
  std::array<int32_t, 256> scaled_a{}, scaled_b{};  // by uint8(q): multiplier((q - zp) << left_shift)
};

// Precondition: p.validate<int8_t>() is ok.
inline Int8AddTables make_int8_add_tables(const QuantizedAddParams& p, bool subtract) {
  Int8AddTables t;
  t.params = p;
  t.subtract = subtract;
  for (int32_t q = -128; q <= 127; ++q) {
    const auto at = static_cast<std::size_t>(static_cast<uint8_t>(static_cast<int8_t>(q)));
    t.scaled_a[at] = multiply_by_quantized_multiplier((q - p.input1_zero_point) * (int32_t{1} << p.left_shift),
                                                      p.input1_multiplier, p.rounding);
    t.scaled_b[at] = multiply_by_quantized_multiplier((q - p.input2_zero_point) * (int32_t{1} << p.left_shift),
                                                      p.input2_multiplier, p.rounding);
  }
  return t;
}

// reference::add / reference::sub<int8_t> with t's params (broadcasting included).
inline void add_sub_int8(const Int8AddTables& t, const int8_t* a, const int8_t* b, int8_t* y) {
  const QuantizedAddParams& p = t.params;
  const auto one = [&](int8_t x1, int8_t x2) {
    const int32_t sa = t.scaled_a[static_cast<uint8_t>(x1)], sb = t.scaled_b[static_cast<uint8_t>(x2)];
    const int32_t raw = t.subtract ? reference::wrapping_add(sa, static_cast<int32_t>(0u - static_cast<uint32_t>(sb)))
                                   : reference::wrapping_add(sa, sb);
    return static_cast<int8_t>(reference::quantized_output_stage(raw, p.output_multiplier, p.rounding, p.output_zero_point,
                                                      p.activation_min, p.activation_max));
  };
  if (p.layout.elementwise) {
    const int64_t n = p.layout.num_elements();
    for (int64_t i = 0; i < n; ++i) y[i] = one(a[i], b[i]);
    return;
  }
  reference::for_each_broadcast(p.layout, [&](int64_t ia, int64_t ib, int64_t iy) { y[iy] = one(a[ia], b[ib]); });
}

// ---- Softmax ----------------------------------------------------------------------------------

struct Int8SoftmaxTables {
  SoftmaxParams params;
  // By d = m - x in [0, 255]: exp_on_negative_values of the rescaled -d (Q0.31), and the same
  // rescaled to Q12.19 for the sum; `live` is false where -d < diff_min (skipped by the reference).
  std::array<int32_t, 256> exp{}, exp_q12{};
  std::array<bool, 256> live{};
};

// Precondition: p.validate_quantized() is ok (make_softmax_params).
inline Int8SoftmaxTables make_int8_softmax_tables(const SoftmaxParams& p) {
  Int8SoftmaxTables t;
  t.params = p;
  for (int32_t d = 0; d < 256; ++d) {
    const int32_t diff = -d;
    const auto at = static_cast<std::size_t>(d);
    t.live[at] = diff >= p.diff_min;
    if (!t.live[at]) continue;
    const int32_t scaled = p.rounding == RoundingMode::kSingle
                               ? multiply_by_quantized_multiplier_greater_than_one<RoundingMode::kSingle>(
                                     diff, p.input_multiplier, p.input_left_shift)
                               : multiply_by_quantized_multiplier_greater_than_one<RoundingMode::kDouble>(
                                     diff, p.input_multiplier, p.input_left_shift);
    t.exp[at] = exp_on_negative_values<5>(scaled);
    t.exp_q12[at] = rescale<12, 0>(t.exp[at]);
  }
  return t;
}

// reference::softmax(p, input, output) for int8, t = make_int8_softmax_tables(p).
inline void softmax_int8(const Int8SoftmaxTables& t, const int8_t* input, int8_t* output) {
  const SoftmaxParams& p = t.params;
  for (int64_t i = 0; i < p.outer_size; ++i) {
    const int8_t* x = input + i * p.depth;
    int8_t* y = output + i * p.depth;
    int32_t m = std::numeric_limits<int8_t>::min();
    for (int64_t c = 0; c < p.depth; ++c) m = std::max<int32_t>(m, x[c]);
    int32_t sum = 0;  // Q12.19
    for (int64_t c = 0; c < p.depth; ++c) {
      const auto d = static_cast<std::size_t>(m - x[c]);
      if (t.live[d]) sum = fixed_point_detail::add(sum, t.exp_q12[d]);
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = get_reciprocal(sum, 12, &num_bits_over_unit);
    const int exponent = std::min(std::max(num_bits_over_unit + 31 - 8, 0), 31);  // as the reference
    for (int64_t c = 0; c < p.depth; ++c) {
      const auto d = static_cast<std::size_t>(m - x[c]);
      if (t.live[d]) {
        const int32_t v = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted_scale, t.exp[d]), exponent) - 128;
        y[c] = static_cast<int8_t>(std::min(std::max(v, -128), 127));
      } else {
        y[c] = -128;
      }
    }
  }
}

PTQ_NAMESPACE_END
