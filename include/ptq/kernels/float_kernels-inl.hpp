// float_kernels-inl.hpp: the float32 GEMM tiles, the output stage and the depthwise row, written
// once over a level's vector primitives (the contracts are in float_microkernel.hpp).
//
// NO include guard: re-included by float_scalar.hpp, x86/float_sse41.hpp and x86/float_avx2.hpp
// inside the level's namespace (and target region), after these are declared there:
//   VF, kLanes (floats per VF; kFloatNr % kLanes == 0), kMr (rows of the largest tile),
//   kGemvPanels, loadu_f, storeu_f, set1_f, zero_f, add_f, mul_f,
//   min_f(a, b) = a < b ? a : b, max_f(a, b) = a > b ? a : b (MINPS / MAXPS: the second operand
//   on NaN), opaque_f (the product barrier).
// Every product is opaque_f(mul_f(x, w)) and is then added to its chain: never an FMA.

inline constexpr int kVecs = kFloatNr / kLanes;  // vectors per 16-column row of a panel

// ROWS x 16 chains of the outer product over kc steps of K (FloatTileFn).
template <int ROWS>
void f32_tile(int64_t kc, const float* a, int64_t a_stride, const float* w, float* acc) {
  VF vacc[ROWS][kVecs];
  const float* ar[ROWS];
  PTQ_FLOAT_UNROLL
  for (int i = 0; i < ROWS; ++i) {
    ar[i] = a + i * a_stride;
    PTQ_FLOAT_UNROLL
    for (int j = 0; j < kVecs; ++j) vacc[i][j] = loadu_f(acc + i * kFloatNr + j * kLanes);
  }
  for (int64_t k = 0; k < kc; ++k) {
    VF vw[kVecs];
    PTQ_FLOAT_UNROLL
    for (int j = 0; j < kVecs; ++j) vw[j] = loadu_f(w + j * kLanes);
    w += kFloatNr;
    PTQ_FLOAT_UNROLL
    for (int i = 0; i < ROWS; ++i) {
      const VF vx = set1_f(ar[i][k]);
      PTQ_FLOAT_UNROLL
      for (int j = 0; j < kVecs; ++j) vacc[i][j] = add_f(vacc[i][j], opaque_f(mul_f(vx, vw[j])));
    }
  }
  PTQ_FLOAT_UNROLL
  for (int i = 0; i < ROWS; ++i)
    PTQ_FLOAT_UNROLL
    for (int j = 0; j < kVecs; ++j) storeu_f(acc + i * kFloatNr + j * kLanes, vacc[i][j]);
}

// One row against NP panels at once (FloatGemvFn): batch 1 has a single row, and NP panels give
// NP * kVecs independent chains per step instead of kVecs, enough to hide the add latency.
template <int NP>
void f32_gemv(int64_t kc, const float* a, const float* w, int64_t panel_stride, float* acc) {
  VF vacc[NP][kVecs];
  const float* wp[NP];
  PTQ_FLOAT_UNROLL
  for (int p = 0; p < NP; ++p) {
    wp[p] = w + p * panel_stride;
    PTQ_FLOAT_UNROLL
    for (int j = 0; j < kVecs; ++j) vacc[p][j] = loadu_f(acc + p * kFloatNr + j * kLanes);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const VF vx = set1_f(a[k]);
    PTQ_FLOAT_UNROLL
    for (int p = 0; p < NP; ++p) {
      PTQ_FLOAT_UNROLL
      for (int j = 0; j < kVecs; ++j) {
        vacc[p][j] = add_f(vacc[p][j], opaque_f(mul_f(vx, loadu_f(wp[p] + k * kFloatNr + j * kLanes))));
      }
    }
  }
  PTQ_FLOAT_UNROLL
  for (int p = 0; p < NP; ++p)
    PTQ_FLOAT_UNROLL
    for (int j = 0; j < kVecs; ++j) storeu_f(acc + p * kFloatNr + j * kLanes, vacc[p][j]);
}

// FloatOutputFn. max_f(lo, v) = lo > v ? lo : v = std::max(v, lo); min_f(hi, v) = hi < v ? hi : v
// = std::min(v, hi): the reference's activation_with_min_max, NaN and signed zeros included.
inline void f32_output(int64_t rows, int64_t cols, const float* acc, int64_t acc_stride, const float* bias, float lo,
                       float hi, float* out, int64_t out_stride) {
  const VF vlo = set1_f(lo), vhi = set1_f(hi);
  for (int64_t r = 0; r < rows; ++r) {
    const float* ar = acc + r * acc_stride;
    float* o = out + r * out_stride;
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes) {
      storeu_f(o + j, min_f(vhi, max_f(vlo, add_f(loadu_f(ar + j), loadu_f(bias + j)))));
    }
    for (; j < cols; ++j) o[j] = ::ptq::reference::activation_with_min_max(ar[j] + bias[j], lo, hi);
  }
}

// FloatDepthwiseRowFn. Channel blocks outermost (the block's weights stay in L1 across the row),
// pixels inside: consecutive pixels are independent chains, which the CPU overlaps.
inline void f32_depthwise_row(const FloatDepthwiseRowArgs& a) {
  const int64_t channels = a.channels, taps = a.tap_count;
  const VF vlo = set1_f(a.lo), vhi = set1_f(a.hi);
  int64_t c = 0;
  for (; c + 2 * kLanes <= channels; c += 2 * kLanes) {
    const VF b0 = loadu_f(a.bias + c), b1 = loadu_f(a.bias + c + kLanes);
    for (int64_t ox = 0; ox < a.pixels; ++ox) {
      const int64_t off = ox * a.pixel_stride + c;
      VF acc0 = zero_f(), acc1 = zero_f();
      for (int64_t t = 0; t < taps; ++t) {
        const float* x = a.taps[t] + off;
        const float* w = a.weights + t * channels + c;
        acc0 = add_f(acc0, opaque_f(mul_f(loadu_f(x), loadu_f(w))));
        acc1 = add_f(acc1, opaque_f(mul_f(loadu_f(x + kLanes), loadu_f(w + kLanes))));
      }
      float* o = a.output + ox * channels + c;
      storeu_f(o, min_f(vhi, max_f(vlo, add_f(acc0, b0))));
      storeu_f(o + kLanes, min_f(vhi, max_f(vlo, add_f(acc1, b1))));
    }
  }
  for (; c + kLanes <= channels; c += kLanes) {
    const VF b0 = loadu_f(a.bias + c);
    for (int64_t ox = 0; ox < a.pixels; ++ox) {
      const int64_t off = ox * a.pixel_stride + c;
      VF acc0 = zero_f();
      for (int64_t t = 0; t < taps; ++t) {
        acc0 = add_f(acc0, opaque_f(mul_f(loadu_f(a.taps[t] + off), loadu_f(a.weights + t * channels + c))));
      }
      storeu_f(a.output + ox * channels + c, min_f(vhi, max_f(vlo, add_f(acc0, b0))));
    }
  }
  for (; c < channels; ++c) {  // fewer than kLanes channels left: the same chain in scalar code
    for (int64_t ox = 0; ox < a.pixels; ++ox) {
      const int64_t off = ox * a.pixel_stride + c;
      float total = 0.0f;
      for (int64_t t = 0; t < taps; ++t) {
        total += ::ptq::float_detail::opaque_mul(a.taps[t][off], a.weights[t * channels + c]);
      }
      a.output[ox * channels + c] = ::ptq::reference::activation_with_min_max(total + a.bias[c], a.lo, a.hi);
    }
  }
}
