// x86/fixed_point-inl.hpp: TFLite's multiply_by_quantized_multiplier on a vector of int32 lanes,
// written once over each level's primitives (gemmlowp's design: the primitives are per ISA, the
// algorithm is not, so the SIMD versions cannot drift from each other in algorithm).
//
// NO include guard: re-included by fixed_point_sse41.hpp, fixed_point_avx2.hpp and
// fixed_point_avx512.hpp, inside that level's namespace and target region, after the primitives
// (VI, Count, set1_i32, mul_even_i32, ...) are declared there.
//
// Bit for bit the scalar functions of core/fixed_point.hpp. The 32x32->64-bit products come from
// pmuldq on the even lanes and on the odd lanes shifted down; each 32-bit result is the bits
// [k, k + 32) of a 64-bit sum, which logical and arithmetic shifts agree on.
//
//   kDouble: x' = x << max(shift, 0)                                   (wrapping, as TFLite)
//            h  = bits [31, 63) of (x' * m + 2^30)                     = SaturatingRoundingDoublingHighMul
//                 (its one overflowing pair, x' = m = INT32_MIN, cannot occur: m >= 0)
//            y  = (h >> e) + ((h & (2^e-1)) > ((2^e-1) >> 1) + (h < 0)) = RoundingDivideByPOT, e = max(-shift, 0)
//   kSingle: y  = (x * m + 2^(s-1)) >> s, s = 31 - shift in [1, 62], arithmetic 64-bit shift.
//            Without a 64-bit arithmetic shift (SSE4.1, AVX2) we add 2^63, which maps the signed
//            sum onto an unsigned one with the same order, shift logically, and subtract 2^(63-s)
//            from the low 32 bits: exact, because 2^63 / 2^s is an integer. AVX-512 uses the same
//            formula so that all levels share it.
// Precondition: multiplier >= 0 (validate_requantize_params) and shift within the mode's range.

struct FixedPointMultiplier {
  RoundingMode mode;
  VI multiplier;    // m in every lane (pmuldq reads the even ones)
  Count left;       // kDouble: max(shift, 0)
  Count right;      // kDouble: e = max(-shift, 0)
  VI rdbpot_mask;   // kDouble: 2^e - 1
  VI rdbpot_half;   // kDouble: (2^e - 1) >> 1
  VI bias64;        // kDouble: 2^30; kSingle: 2^63 + 2^(s-1), in each 64-bit lane
  Count shift64;    // kDouble: 31; kSingle: s
  VI correction;    // kSingle: 2^(63-s) mod 2^32; kDouble: 0

  FixedPointMultiplier(QuantizedMultiplier m, RoundingMode rounding) : mode(rounding) {
    PTQ_DCHECK(m.multiplier >= 0, "fixed point: negative multiplier");
    multiplier = set1_i32(m.multiplier);
    if (rounding == RoundingMode::kDouble) {
      const int e = m.shift > 0 ? 0 : -m.shift;
      const int32_t mask = static_cast<int32_t>((int64_t{1} << e) - 1);
      left = count(m.shift > 0 ? m.shift : 0);
      right = count(e);
      rdbpot_mask = set1_i32(mask);
      rdbpot_half = set1_i32(mask >> 1);
      bias64 = set1_i64(int64_t{1} << 30);
      shift64 = count(31);
      correction = set1_i32(0);
    } else {
      const int s = 31 - m.shift;
      const int c = 63 - s;
      left = right = count(0);
      rdbpot_mask = rdbpot_half = set1_i32(0);
      bias64 = set1_i64(static_cast<int64_t>((uint64_t{1} << 63) + (uint64_t{1} << (s - 1))));
      shift64 = count(s);
      correction = set1_i32(c < 32 ? static_cast<int32_t>(uint32_t{1} << c) : 0);
    }
  }

  // Bits [shift64, shift64 + 32) of (x * m + bias64), lane by lane.
  PTQ_INLINE VI mul_add_shift(VI x) const {
    const VI even = srl_i64(add_i64(mul_even_i32(x, multiplier), bias64), shift64);
    const VI odd = srl_i64(add_i64(mul_even_i32(srli_i64_32(x), multiplier), bias64), shift64);
    return blend_odd_i32(even, slli_i64_32(odd));
  }

  PTQ_INLINE VI apply(VI x) const {
    if (mode == RoundingMode::kDouble) {
      const VI high = mul_add_shift(sll_i32(x, left));
      const VI remainder = and_i(high, rdbpot_mask);
      // Subtracting an all-ones lane (a true compare, or the sign of a negative lane) adds 1.
      const VI threshold = sub_i32(rdbpot_half, srai31_i32(high));
      return sub_i32(sra_i32(high, right), cmpgt_i32(remainder, threshold));
    }
    return sub_i32(mul_add_shift(x), correction);
  }
};
