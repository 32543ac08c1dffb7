// gemm/x86/output_stage-inl.hpp: the int8 output stage of a GEMM tile (gemm/output_stage.hpp),
// written once over a level's vector primitives.
//
// NO include guard: re-included by each level's microkernel file inside its namespace and target
// region, after simd/x86/fixed_point_<level>.hpp (FixedPointMultiplierPerLane and its primitives)
// and after kLanes, load_i32, min_i32 and store_i8 (kLanes int32 lanes, already in int8 range,
// narrowed and stored as kLanes bytes).
//
// Per kLanes columns: one FixedPointMultiplierPerLane from that run of per-column multipliers and
// shifts (shared by all rows of the block), then for each row
//   y = min(max(apply(acc), act_min - y_zp), act_max - y_zp) + y_zp.

template <int NR>
void output_stage(int rows, int cols, const int32_t* acc, const OutputStage& os, int8_t* out,
                  int64_t out_stride) {
  static_assert(NR % kLanes == 0, "output_stage: NR is a multiple of the vector width");
  const VI lo = set1_i32(os.activation_min - os.output_zero_point);
  const VI hi = set1_i32(os.activation_max - os.output_zero_point);
  const VI zp = set1_i32(os.output_zero_point);
  if (cols == NR) {
    // A whole panel: each run of kLanes columns builds its multiplier once for all the rows.
    for (int c = 0; c < NR; c += kLanes) {
      const FixedPointMultiplierPerLane fp(load_i32(os.multipliers + c), load_i32(os.shifts + c), os.rounding);
      for (int r = 0; r < rows; ++r) {
        const VI y = add_i32(min_i32(max_i32(fp.apply(load_i32(acc + r * NR + c)), lo), hi), zp);
        store_i8(out + r * out_stride + c, y);
      }
    }
    return;
  }
  // The last panel of a layer whose N is not a multiple of NR: rows narrowed into tmp, 4 at a
  // time, and the cols valid bytes copied out.
  alignas(64) int8_t tmp[4][NR];
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const int rn = rows - r0 < 4 ? rows - r0 : 4;
    for (int c = 0; c < cols; c += kLanes) {
      const FixedPointMultiplierPerLane fp(load_i32(os.multipliers + c), load_i32(os.shifts + c), os.rounding);
      for (int r = 0; r < rn; ++r) {
        const VI y = add_i32(min_i32(max_i32(fp.apply(load_i32(acc + (r0 + r) * NR + c)), lo), hi), zp);
        store_i8(&tmp[r][c], y);
      }
    }
    for (int r = 0; r < rn; ++r) std::memcpy(out + (r0 + r) * out_stride, tmp[r], static_cast<std::size_t>(cols));
  }
}
