// x86/fixed_point_per_lane-inl.hpp: multiply_by_quantized_multiplier with a different
// (multiplier, shift) in every int32 lane: the per-channel output stage of the GEMM.
//
// NO include guard: re-included by fixed_point_sse41.hpp, fixed_point_avx2.hpp and fixed_point_avx512.hpp after
// fixed_point-inl.hpp, inside the level's namespace and target region, once the variable-shift
// primitives (sllv_i32, srav_i32, srlv_i64, sllv_i64, ...) are declared there. AVX2 and AVX-512 have them as
// instructions; SSE4.1 has only uniform shifts, and its primitives shift each lane by its own
// count with one uniform shift per lane and blends (exact; 4 + 3 instructions per 4 lanes).
//
// The arithmetic is that of FixedPointMultiplier (fixed_point-inl.hpp) with every shift count a
// vector, so it is bit for bit core/fixed_point.hpp:
//   kDouble: x' = x << l, l = max(shift, 0)                                   (wrapping)
//            h  = bits [31, 63) of (x' * m + 2^30)          (SaturatingRoundingDoublingHighMul)
//            y  = (h >> e) + ((h & (2^e-1)) > ((2^e-1) >> 1) + (h < 0)),  e = max(-shift, 0)
//   kSingle: y  = bits [s, s+32) of (x * m + 2^63 + 2^(s-1)) - 2^(63-s) mod 2^32,  s = 31 - shift
//            (the 2^63 offset makes a logical 64-bit shift act as an arithmetic one; see there).
// The derived per-lane constants are computed from the (multiplier, shift) vectors when the
// object is built, so one object serves all the rows of a GEMM tile.
// Precondition: multipliers >= 0, shifts in the mode's range (reference::detail::check_multiplier).

struct FixedPointMultiplierPerLane {
  RoundingMode mode;
  VI m_even;     // multipliers (pmuldq reads the even lanes)
  VI m_odd;      // multipliers of the odd lanes, moved to the even positions
  VI left;       // kDouble: l
  VI right;      // kDouble: e
  VI rdbpot_mask, rdbpot_half;  // kDouble: 2^e - 1, (2^e - 1) >> 1
  VI bias_even, bias_odd;       // 64-bit lanes: kDouble 2^30; kSingle 2^63 + 2^(s-1)
  VI shift_even, shift_odd;     // 64-bit lanes: kDouble 31; kSingle s
  VI correction;                // kSingle: 2^(63-s) mod 2^32; kDouble: 0

  FixedPointMultiplierPerLane(VI multiplier, VI shift, RoundingMode rounding) : mode(rounding) {
    const VI zero = set1_i32(0), one = set1_i32(1);
    m_even = multiplier;
    m_odd = srli_i64_32(multiplier);
    if (rounding == RoundingMode::kDouble) {
      left = max_i32(shift, zero);
      right = sub_i32(left, shift);
      rdbpot_mask = sub_i32(sllv_i32(one, right), one);
      rdbpot_half = srli1_i32(rdbpot_mask);
      bias_even = bias_odd = set1_i64(int64_t{1} << 30);
      shift_even = shift_odd = set1_i64(31);
      correction = zero;
    } else {
      left = right = rdbpot_mask = rdbpot_half = zero;
      const VI s = sub_i32(set1_i32(31), shift);  // in [1, 62]
      shift_even = and_i(s, set1_i64(0xFFFFFFFF));
      shift_odd = srli_i64_32(s);
      const VI top = set1_i64(static_cast<int64_t>(uint64_t{1} << 63)), one64 = set1_i64(1);
      bias_even = add_i64(top, sllv_i64(one64, sub_i64(shift_even, one64)));
      bias_odd = add_i64(top, sllv_i64(one64, sub_i64(shift_odd, one64)));
      // 63 - s = 32 + shift in [1, 62]; a count of 32 or more shifts everything out (0).
      correction = sllv_i32(one, add_i32(shift, set1_i32(32)));
    }
  }

  PTQ_INLINE VI mul_add_shift(VI x) const {
    const VI even = srlv_i64(add_i64(mul_even_i32(x, m_even), bias_even), shift_even);
    const VI odd = srlv_i64(add_i64(mul_even_i32(srli_i64_32(x), m_odd), bias_odd), shift_odd);
    return blend_odd_i32(even, slli_i64_32(odd));
  }

  PTQ_INLINE VI apply(VI x) const {
    if (mode == RoundingMode::kDouble) {
      const VI high = mul_add_shift(sllv_i32(x, left));
      const VI remainder = and_i(high, rdbpot_mask);
      const VI threshold = sub_i32(rdbpot_half, srai31_i32(high));
      return sub_i32(srav_i32(high, right), cmpgt_i32(remainder, threshold));
    }
    return sub_i32(mul_add_shift(x), correction);
  }
};
