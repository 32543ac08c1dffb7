// x86/pool_x86_128-inl.hpp: the 128-bit (and 64-bit) Ops of the pooling kernels (contract in
// pool_kernels-inl.hpp), SSE4.1 instructions: the SSE4.1 level's widths and the AVX2 level's
// narrow ones (re-included there so they are VEX-encoded inside the AVX2 region).
//
// NO include guard: re-included by x86/pool_sse41.hpp and x86/pool_avx2.hpp inside the level's
// namespace and target region.
//   - max / min: PMAXSB / PMINSB on int8, PMAXSD / PMINSD on int32, MAXPS / MINPS on float
//     (a > b ? a : b and a < b ? a : b, the second operand on NaN).
//   - average(acc, n): num = acc + sign(acc) * (n / 2) (PSIGND: 0 for acc == 0, whose quotient is
//     0 either way), then the float quotient num / n truncated (CVTTPS2DQ): exact for windows of
//     at most pool_ops::kPoolSimdMaxTaps taps (pool_ops.hpp).
//   - store_narrow: two saturating packs of lanes already in [-128, 127].

struct I8x16 {
  using V = __m128i;
  static constexpr int kLanes = 16;
  static PTQ_INLINE V load(const int8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static PTQ_INLINE void store(int8_t* p, V v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
  static PTQ_INLINE V set1(int8_t v) { return _mm_set1_epi8(static_cast<char>(v)); }
  static PTQ_INLINE V max(V a, V b) { return _mm_max_epi8(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm_min_epi8(a, b); }
};

struct I8x8 {
  using V = __m128i;
  static constexpr int kLanes = 8;
  static PTQ_INLINE V load(const int8_t* p) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)); }
  static PTQ_INLINE void store(int8_t* p, V v) { _mm_storel_epi64(reinterpret_cast<__m128i*>(p), v); }
  static PTQ_INLINE V set1(int8_t v) { return _mm_set1_epi8(static_cast<char>(v)); }
  static PTQ_INLINE V max(V a, V b) { return _mm_max_epi8(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm_min_epi8(a, b); }
};

struct F32x4 {
  using V = __m128;
  static constexpr int kLanes = 4;
  static PTQ_INLINE V load(const float* p) { return _mm_loadu_ps(p); }
  static PTQ_INLINE void store(float* p, V v) { _mm_storeu_ps(p, v); }
  static PTQ_INLINE V set1(float v) { return _mm_set1_ps(v); }
  static PTQ_INLINE V zero() { return _mm_setzero_ps(); }
  static PTQ_INLINE V add(V a, V b) { return _mm_add_ps(a, b); }
  static PTQ_INLINE V div(V a, V b) { return _mm_div_ps(a, b); }
  static PTQ_INLINE V max(V a, V b) { return _mm_max_ps(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm_min_ps(a, b); }
};

struct I32x4 {
  using V = __m128i;
  static constexpr int kLanes = 4;
  static PTQ_INLINE V load_widen(const int8_t* p) {
    int32_t bytes;
    std::memcpy(&bytes, p, sizeof(bytes));
    return _mm_cvtepi8_epi32(_mm_cvtsi32_si128(bytes));
  }
  static PTQ_INLINE void store(int32_t* p, V v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
  static PTQ_INLINE V set1(int32_t v) { return _mm_set1_epi32(v); }
  static PTQ_INLINE V zero() { return _mm_setzero_si128(); }
  static PTQ_INLINE V add(V a, V b) { return _mm_add_epi32(a, b); }
  static PTQ_INLINE V max(V a, V b) { return _mm_max_epi32(a, b); }
  static PTQ_INLINE V min(V a, V b) { return _mm_min_epi32(a, b); }
  static PTQ_INLINE V average(V acc, int32_t n) {
    const V num = _mm_add_epi32(acc, _mm_sign_epi32(_mm_set1_epi32(n / 2), acc));
    return _mm_cvttps_epi32(_mm_div_ps(_mm_cvtepi32_ps(num), _mm_set1_ps(static_cast<float>(n))));
  }
  static PTQ_INLINE void store_narrow(int8_t* p, V v) {
    const __m128i b = _mm_packs_epi16(_mm_packs_epi32(v, v), _mm_setzero_si128());
    const int32_t bytes = _mm_cvtsi128_si32(b);
    std::memcpy(p, &bytes, sizeof(bytes));
  }
};
