// x86/quantize_avx2.hpp: quantize, dequantize and requantize on 256-bit vectors (AVX2).
//
// The lane arithmetic is that of x86/quantize_sse41.hpp (and so of reference/quantize.hpp), on
// eight lanes: divide, NaN -> 0, clamp to [qmin - zp, qmax - zp], round half away from zero,
// convert, + zp, narrow. Narrowing packs the two 128-bit halves (vpackssdw works within lanes).
// Compiled for AVX2 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ptq/kernels/reference/quantize.hpp"
#include "ptq/simd/x86/fixed_point_avx2.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX2)
PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {

// Eight elements of T widened to int32 lanes.
template <class T>
PTQ_INLINE __m256i load8_widen(const T* p) {
  if constexpr (sizeof(T) == 4) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  } else if constexpr (sizeof(T) == 2) {
    return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return std::is_signed<T>::value ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
  }
}

// Eight int32 lanes, already inside T's range, narrowed and stored.
template <class T>
PTQ_INLINE void store8_narrow(T* p, __m256i v) {
  if constexpr (sizeof(T) == 4) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
  } else {
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    if constexpr (sizeof(T) == 2) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), w);
    } else {
      const __m128i b = std::is_signed<T>::value ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), b);
    }
  }
}

// Thirty-two int32 lanes (four vectors) narrowed to 8-bit T and stored as one 256-bit vector.
template <class T>
PTQ_INLINE void store32_narrow8(T* p, __m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  // The packs work within 128-bit lanes. In 4-byte units (vK.a = lanes 0-3 of vK, vK.b = 4-7)
  // the result is v0.a v1.a v2.a v3.a | v0.b v1.b v2.b v3.b; the permute restores
  // v0.a v0.b v1.a v1.b v2.a v2.b v3.a v3.b.
  const __m256i w01 = _mm256_packs_epi32(v0, v1), w23 = _mm256_packs_epi32(v2, v3);
  const __m256i b = std::is_signed<T>::value ? _mm256_packs_epi16(w01, w23) : _mm256_packus_epi16(w01, w23);
  const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), ordered);
}

// round(v) with ties away from zero, for |v| < 2^31 (callers clamp first).
PTQ_INLINE __m256 round_half_away(__m256 v) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign_mask), _mm256_set1_ps(1.0f));
  return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

// round(clamp(x / scale, lo, hi)) + zp for eight lanes; NaN maps to zp.
PTQ_INLINE __m256i quantize8(__m256 x, __m256 scale, __m256 lo, __m256 hi, __m256i zp) {
  __m256 v = _mm256_div_ps(x, scale);
  v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
  v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(round_half_away(v)), zp);
}

template <class T>
void quantize(const float* x, T* q, std::size_t n, QuantParams p) {
  const __m256 scale = _mm256_set1_ps(p.scale);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(quant_min<T>() - p.zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(quant_max<T>() - p.zero_point));
  const __m256i zp = _mm256_set1_epi32(p.zero_point);
  std::size_t i = 0;
  if constexpr (sizeof(T) == 1) {
    for (; i + 32 <= n; i += 32) {
      store32_narrow8<T>(q + i, quantize8(_mm256_loadu_ps(x + i + 0), scale, lo, hi, zp),
                         quantize8(_mm256_loadu_ps(x + i + 8), scale, lo, hi, zp),
                         quantize8(_mm256_loadu_ps(x + i + 16), scale, lo, hi, zp),
                         quantize8(_mm256_loadu_ps(x + i + 24), scale, lo, hi, zp));
    }
  }
  for (; i + 8 <= n; i += 8) store8_narrow<T>(q + i, quantize8(_mm256_loadu_ps(x + i), scale, lo, hi, zp));
  reference::quantize<T>(x + i, q + i, n - i, p);
}

// Channels-last per-axis quantize: element c of each row of `channels` uses scales[c], zps[c].
template <class T>
void quantize_rows(const float* x, T* q, std::size_t rows, std::size_t channels, const float* scales,
                   const int32_t* zero_points) {
  const __m256 qmin = _mm256_set1_ps(static_cast<float>(quant_min<T>()));
  const __m256 qmax = _mm256_set1_ps(static_cast<float>(quant_max<T>()));
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    T* qr = q + r * channels;
    std::size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      const __m256i zp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero_points + c));
      const __m256 zpf = _mm256_cvtepi32_ps(zp);
      store8_narrow<T>(qr + c, quantize8(_mm256_loadu_ps(xr + c), _mm256_loadu_ps(scales + c),
                                         _mm256_sub_ps(qmin, zpf), _mm256_sub_ps(qmax, zpf), zp));
    }
    for (; c < channels; ++c) qr[c] = reference::quantize_one<T>(xr[c], scales[c], zero_points[c]);
  }
}

template <class T>
PTQ_INLINE __m256 dequantize8(const T* q, __m256i zp, __m256 scale) {
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(load8_widen<T>(q), zp)), scale);
}

// int32: (double(q) - double(zp)) * double(scale), then rounded to float.
PTQ_INLINE __m256 dequantize8_i32(const int32_t* q, __m256d zp, __m256d scale) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 4));
  const __m128 flo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtepi32_pd(lo), zp), scale));
  const __m128 fhi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtepi32_pd(hi), zp), scale));
  return _mm256_insertf128_ps(_mm256_castps128_ps256(flo), fhi, 1);
}

template <class T>
void dequantize(const T* q, float* x, std::size_t n, QuantParams p) {
  std::size_t i = 0;
  if constexpr (sizeof(T) == 4) {
    const __m256d zp = _mm256_set1_pd(static_cast<double>(p.zero_point));
    const __m256d scale = _mm256_set1_pd(static_cast<double>(p.scale));
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, dequantize8_i32(q + i, zp, scale));
  } else {
    const __m256i zp = _mm256_set1_epi32(p.zero_point);
    const __m256 scale = _mm256_set1_ps(p.scale);
    for (; i + 32 <= n; i += 32) {
      _mm256_storeu_ps(x + i + 0, dequantize8<T>(q + i + 0, zp, scale));
      _mm256_storeu_ps(x + i + 8, dequantize8<T>(q + i + 8, zp, scale));
      _mm256_storeu_ps(x + i + 16, dequantize8<T>(q + i + 16, zp, scale));
      _mm256_storeu_ps(x + i + 24, dequantize8<T>(q + i + 24, zp, scale));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, dequantize8<T>(q + i, zp, scale));
  }
  reference::dequantize<T>(q + i, x + i, n - i, p);
}

template <class T>
void dequantize_rows(const T* q, float* x, std::size_t rows, std::size_t channels, const float* scales,
                     const int32_t* zero_points) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* qr = q + r * channels;
    float* xr = x + r * channels;
    std::size_t c = 0;
    if constexpr (sizeof(T) <= 2) {
      for (; c + 8 <= channels; c += 8) {
        const __m256i zp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero_points + c));
        _mm256_storeu_ps(xr + c, dequantize8<T>(qr + c, zp, _mm256_loadu_ps(scales + c)));
      }
    }
    for (; c < channels; ++c) xr[c] = reference::dequantize_one<T>(qr[c], scales[c], zero_points[c]);
  }
}

template <class In, class Out>
void requantize(const In* x, Out* y, std::size_t n, const RequantizeParams& p) {
  const FixedPointMultiplier m(p.multiplier, p.rounding);
  const __m256i in_zp = _mm256_set1_epi32(p.input_zero_point);
  const __m256i out_zp = _mm256_set1_epi32(p.output_zero_point);
  // Clamp before adding the output zero point so that the sum cannot overflow int32.
  const int64_t lo64 = int64_t{quant_min<Out>()} - p.output_zero_point;
  const int64_t hi64 = int64_t{quant_max<Out>()} - p.output_zero_point;
  const __m256i lo = _mm256_set1_epi32(static_cast<int32_t>(lo64 < INT32_MIN ? INT32_MIN : lo64));
  const __m256i hi = _mm256_set1_epi32(static_cast<int32_t>(hi64 > INT32_MAX ? INT32_MAX : hi64));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i v = m.apply(_mm256_sub_epi32(load8_widen<In>(x + i), in_zp));
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), out_zp);
    store8_narrow<Out>(y + i, v);
  }
  reference::requantize<In, Out>(x + i, y + i, n - i, p);
}

}  // namespace x86::avx2
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
