/* Smallest guest: CPUID leaf 7 and one instruction from each ISA extension of interest.
 * Built freestanding (see smoke.py); every function writes its results through a pointer. */
#include <immintrin.h>
#include <stdint.h>

void cpuid7(uint32_t* out) {
  uint32_t a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
  out[0] = a; out[1] = b; out[2] = c; out[3] = d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
  out[4] = a; out[5] = b; out[6] = c; out[7] = d;
}

__attribute__((target("avx512f,avx512bw"))) void add_epi32(const int32_t* a, const int32_t* b, int32_t* out) {
  _mm512_storeu_si512(out, _mm512_add_epi32(_mm512_loadu_si512(a), _mm512_loadu_si512(b)));
}

/* EVEX vpdpbusd zmm: out[i] = acc[i] + sum_j u8(a[4i+j]) * s8(b[4i+j]) */
__attribute__((target("avx512f,avx512vnni"))) void dpbusd512(const int32_t* acc, const uint8_t* a, const int8_t* b,
                                                              int32_t* out) {
  _mm512_storeu_si512(out, _mm512_dpbusd_epi32(_mm512_loadu_si512(acc), _mm512_loadu_si512(a), _mm512_loadu_si512(b)));
}

/* VEX vpdpbusd ymm (AVX-VNNI). */
__attribute__((target("avxvnni"))) void dpbusd256_vex(const int32_t* acc, const uint8_t* a, const int8_t* b,
                                                      int32_t* out) {
  _mm256_storeu_si256((__m256i*)out,
                      _mm256_dpbusd_avx_epi32(_mm256_loadu_si256((const __m256i*)acc), _mm256_loadu_si256((const __m256i*)a),
                                              _mm256_loadu_si256((const __m256i*)b)));
}

/* A countable loop for measuring speed: n iterations of 4 AVX-512 ops. */
__attribute__((target("avx512f"))) int64_t spin(int64_t n, int32_t* out) {
  __m512i x = _mm512_set1_epi32(1), y = _mm512_set1_epi32(3);
  for (int64_t i = 0; i < n; ++i) {
    x = _mm512_add_epi32(x, y);
    y = _mm512_xor_si512(y, x);
    __asm__ volatile("" : "+v"(x), "+v"(y));
  }
  _mm512_storeu_si512(out, _mm512_add_epi32(x, y));
  return n;
}

void cpuid_raw(uint32_t leaf, uint32_t subleaf, uint32_t* out) {
  __asm__ volatile("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3]) : "a"(leaf), "c"(subleaf));
}

/* XCR0 as the OS (here: the harness) enabled it; ptq's dispatch reads it with XGETBV. */
uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}
