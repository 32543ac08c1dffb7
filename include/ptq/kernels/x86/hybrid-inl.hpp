// x86/hybrid-inl.hpp: the float ends of the hybrid (dynamic-range) kernels, written once over a
// level's vector primitives: per-row min/max, the per-row quantizers' element loops, and the fully
// connected and convolution epilogues.
//
// NO include guard: re-included by hybrid_sse41.hpp and hybrid_avx2.hpp inside the level's
// namespace and target region, after the primitives (VF, VI, kLanes, loadu_f, opaque_f, ...) are
// declared there.
//
// Each loop is the reference's expression (reference/hybrid.hpp) evaluated lane by lane in the
// same order, with each float operation rounded on its own: the product in `a + x * b` goes through
// an empty asm barrier (opaque_f) so that no compiler contracts it into an FMA, whatever
// -ffp-contract the including TU uses. Rounding is TfLiteRound (half away from zero), after
// NaN -> the row's zero point and the clamp, exactly as reference::detail::round_to_int_clamped
// orders them. Tails run the scalar twins of hybrid_row.hpp, which are the same arithmetic.

// min and max of x[0, n), n >= 1, finite values (signed zeros may come out either way; the
// quantizers' min(0, lo) / max(0, hi) and |.| make that irrelevant).
inline void hybrid_minmax(const float* x, int64_t n, float* lo, float* hi) {
  int64_t i = 0;
  float l = x[0], h = x[0];
  if (n >= kLanes) {
    VF vl0 = loadu_f(x), vh0 = vl0, vl1 = vl0, vh1 = vl0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      const VF a = loadu_f(x + i), b = loadu_f(x + i + kLanes);
      vl0 = min_f(vl0, a);
      vh0 = max_f(vh0, a);
      vl1 = min_f(vl1, b);
      vh1 = max_f(vh1, b);
    }
    for (; i + kLanes <= n; i += kLanes) {
      const VF a = loadu_f(x + i);
      vl0 = min_f(vl0, a);
      vh0 = max_f(vh0, a);
    }
    alignas(64) float tl[kLanes], th[kLanes];
    storeu_f(tl, min_f(vl0, vl1));
    storeu_f(th, max_f(vh0, vh1));
    for (int64_t j = 0; j < kLanes; ++j) {
      l = tl[j] < l ? tl[j] : l;
      h = th[j] > h ? th[j] : h;
    }
  }
  for (; i < n; ++i) {
    l = x[i] < l ? x[i] : l;
    h = x[i] > h ? x[i] : h;
  }
  *lo = l;
  *hi = h;
}

// q[i] = round_to_int_clamped(zp + x[i] * inv, lo, hi, nan_value = zp) for i < n: the asymmetric
// quantizer with (lo, hi) = (-128, 127); the symmetric one is zp = 0, (lo, hi) = (-127, 127).
inline void hybrid_quantize(const float* x, int64_t n, float inv, int32_t zero_point, float lo, float hi,
                            int8_t* q) {
  const VF vinv = set1_f(inv), vzp = set1_f(static_cast<float>(zero_point));
  const VF vlo = set1_f(lo), vhi = set1_f(hi);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    VF v = add_f(vzp, opaque_f(mul_f(loadu_f(x + i), vinv)));
    v = min_f(max_f(nan_to_f(v, vzp), vlo), vhi);
    store_narrow_i8(q + i, cvt_f_i(round_half_away(v)));
  }
  ::ptq::hybrid_detail::hybrid_quantize_scalar(x + i, n - i, inv, zero_point, lo, hi, q + i);
}

// One output row of the hybrid fully connected (reference::hybrid_fully_connected_prequantized):
//   dot    = acc[n] - row_sums[n] * zp                      int32, wrapping
//   out[n] = act(init[n] + float(dot) * (row_scale * w_scales[n]))
// The activations are std::max(a, b) = (a < b) ? b : a and std::min(a, b) = (b < a) ? b : a, as
// max_f / min_f with the operands in the order that returns the same lane on ties, signed zeros
// and NaN.
inline void hybrid_fc_epilogue(int64_t n, const int32_t* acc, const int32_t* row_sums, int32_t zp, float row_scale,
                               const float* w_scales, const float* init, FusedActivation act, float* out) {
  const VI vzp = set1_i32(zp);
  const VF vrs = set1_f(row_scale), zero = set1_f(0.0f);
  const VF six = set1_f(6.0f), one = set1_f(1.0f), minus_one = set1_f(-1.0f);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const VI dot = sub_i32(loadu_i(acc + i), mullo_i32(loadu_i(row_sums + i), vzp));
    const VF scale = mul_f(vrs, loadu_f(w_scales + i));
    VF v = add_f(loadu_f(init + i), opaque_f(mul_f(cvt_i_f(dot), scale)));
    switch (act) {
      case FusedActivation::kNone: break;
      case FusedActivation::kRelu: v = max_f(v, zero); break;                           // max(0, v)
      case FusedActivation::kRelu6: v = max_f(min_f(six, v), zero); break;              // max(0, min(v, 6))
      case FusedActivation::kReluN1To1: v = max_f(min_f(one, v), minus_one); break;     // max(-1, min(v, 1))
    }
    storeu_f(out + i, v);
  }
  ::ptq::hybrid_detail::hybrid_fc_epilogue_scalar(n - i, acc + i, row_sums + i, zp, row_scale, w_scales + i,
                                                  init + i, act, out + i);
}

// The convolution epilogue (hybrid_row.hpp, hybrid_conv_epilogue_scalar) with its scaling order
// fixed, over `rows` rows of n channels (acc and out contiguous, row r at r * n): per lane
//   dot    = acc[c] - row_sums[c] * zp                      int32, wrapping
//   v      = (float(dot) * scales[c]) * row_scale | 0.0f + float(dot) * scales[c] | float(dot) * scales[c]
//   out[c] = min(max(v (+ bias[c]), act_min), act_max)
// activation_with_min_max = std::min(std::max(v, lo), hi): std::max(v, lo) = (v < lo) ? lo : v is
// max_f(lo, v) (maxps returns its second operand unless the first is greater: v on ties, on -0.0
// against +0.0 and on NaN), and std::min(y, hi) = (hi < y) ? hi : y is min_f(hi, y).
template <int kScaling>
inline void hybrid_conv_epilogue_fixed(int64_t rows, int64_t n, const int32_t* acc,
                                       const ::ptq::hybrid_detail::HybridConvEpilogue& e, float* out) {
  const VI vzp = set1_i32(e.zero_point);
  const VF vrs = set1_f(e.row_scale), zero = set1_f(0.0f);
  const VF lo = set1_f(e.act_min), hi = set1_f(e.act_max);
  const int64_t n_vec = n / kLanes * kLanes;
  ::ptq::hybrid_detail::HybridConvEpilogue tail = e;
  tail.row_sums += n_vec;
  tail.scales += n_vec;
  if (tail.bias != nullptr) tail.bias += n_vec;
  for (int64_t r = 0; r < rows; ++r, acc += n, out += n) {
    for (int64_t i = 0; i < n_vec; i += kLanes) {
      const VI dot = sub_i32(loadu_i(acc + i), mullo_i32(loadu_i(e.row_sums + i), vzp));
      VF v = opaque_f(mul_f(cvt_i_f(dot), loadu_f(e.scales + i)));
      if (kScaling == 0) v = opaque_f(mul_f(v, vrs));  // (float(dot) * scales[c]) * row_scale
      if (kScaling == 1) v = add_f(zero, v);           // 0.0f + float(dot) * scales[c]
      if (e.bias != nullptr) v = add_f(v, loadu_f(e.bias + i));
      storeu_f(out + i, min_f(hi, max_f(lo, v)));
    }
    if (n_vec < n) ::ptq::hybrid_detail::hybrid_conv_epilogue_scalar(1, n - n_vec, acc + n_vec, tail, out + n_vec);
  }
}

inline void hybrid_conv_epilogue(int64_t rows, int64_t n, const int32_t* acc,
                                 const ::ptq::hybrid_detail::HybridConvEpilogue& e, float* out) {
  switch (e.scaling) {
    case ::ptq::hybrid_detail::HybridConvScaling::kPerChannel: return hybrid_conv_epilogue_fixed<0>(rows, n, acc, e, out);
    case ::ptq::hybrid_detail::HybridConvScaling::kPerTensor: return hybrid_conv_epilogue_fixed<1>(rows, n, acc, e, out);
    default: return hybrid_conv_epilogue_fixed<2>(rows, n, acc, e, out);
  }
}
