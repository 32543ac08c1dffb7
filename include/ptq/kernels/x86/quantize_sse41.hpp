// x86/quantize_sse41.hpp: quantize, dequantize and requantize on 128-bit vectors (SSE4.1).
//
// Bit-exact with reference/quantize.hpp; the arithmetic is the same, lane by lane:
//   quantize    v = x / scale; NaN -> 0; clamp to [qmin - zp, qmax - zp]; round half away from
//               zero (trunc, then +-1 where |v - trunc(v)| >= 0.5: exact, since v - trunc(v) is
//               representable); convert (exact: v is integral and in range); + zp; pack.
//   dequantize  float(q - zp) * scale (one float rounding, equal to TFLite's double form).
//   requantize  fixed-point multiply from simd/x86/fixed_point_sse41.hpp, clamp, + zp, pack.
// Tails shorter than one vector run the scalar reference, which is the same arithmetic.
// Compiled for SSE4.1 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ptq/kernels/reference/quantize.hpp"
#include "ptq/simd/x86/fixed_point_sse41.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {

// ---- lane helpers ----------------------------------------------------------------------------

// Four elements of T widened to int32 lanes.
template <class T>
inline __m128i load4_widen(const T* p) {
  if constexpr (sizeof(T) == 4) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  } else if constexpr (sizeof(T) == 2) {
    return _mm_cvtepi16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  } else {
    int32_t bytes;
    std::memcpy(&bytes, p, 4);
    const __m128i v = _mm_cvtsi32_si128(bytes);
    return std::is_signed<T>::value ? _mm_cvtepi8_epi32(v) : _mm_cvtepu8_epi32(v);
  }
}

// Four int32 lanes, already inside T's range, narrowed and stored.
template <class T>
inline void store4_narrow(T* p, __m128i v) {
  if constexpr (sizeof(T) == 4) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  } else if constexpr (sizeof(T) == 2) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi32(v, v));
  } else {
    const __m128i w = _mm_packs_epi32(v, v);
    const __m128i b = std::is_signed<T>::value ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
    const int32_t bytes = _mm_cvtsi128_si32(b);
    std::memcpy(p, &bytes, 4);
  }
}

// round(v) with ties away from zero, for |v| < 2^31 (callers clamp first).
inline __m128 round_half_away(__m128 v) {
  const __m128 sign_mask = _mm_set1_ps(-0.0f);
  const __m128 t = _mm_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m128 frac = _mm_andnot_ps(sign_mask, _mm_sub_ps(v, t));
  const __m128 step = _mm_or_ps(_mm_and_ps(v, sign_mask), _mm_set1_ps(1.0f));  // +-1 with v's sign
  return _mm_add_ps(t, _mm_and_ps(_mm_cmpge_ps(frac, _mm_set1_ps(0.5f)), step));
}

// round(clamp(x / scale, lo, hi)) + zp for four lanes; NaN maps to zp.
inline __m128i quantize4(__m128 x, __m128 scale, __m128 lo, __m128 hi, __m128i zp) {
  __m128 v = _mm_div_ps(x, scale);
  v = _mm_and_ps(v, _mm_cmpord_ps(v, v));
  v = _mm_min_ps(_mm_max_ps(v, lo), hi);
  return _mm_add_epi32(_mm_cvtps_epi32(round_half_away(v)), zp);
}

// ---- quantize -------------------------------------------------------------------------------

template <class T>
void quantize(const float* x, T* q, std::size_t n, QuantParams p) {
  const __m128 scale = _mm_set1_ps(p.scale);
  const __m128 lo = _mm_set1_ps(static_cast<float>(quant_min<T>() - p.zero_point));
  const __m128 hi = _mm_set1_ps(static_cast<float>(quant_max<T>() - p.zero_point));
  const __m128i zp = _mm_set1_epi32(p.zero_point);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v0 = quantize4(_mm_loadu_ps(x + i + 0), scale, lo, hi, zp);
    const __m128i v1 = quantize4(_mm_loadu_ps(x + i + 4), scale, lo, hi, zp);
    const __m128i v2 = quantize4(_mm_loadu_ps(x + i + 8), scale, lo, hi, zp);
    const __m128i v3 = quantize4(_mm_loadu_ps(x + i + 12), scale, lo, hi, zp);
    if constexpr (sizeof(T) == 1) {
      const __m128i w01 = _mm_packs_epi32(v0, v1), w23 = _mm_packs_epi32(v2, v3);
      const __m128i b = std::is_signed<T>::value ? _mm_packs_epi16(w01, w23) : _mm_packus_epi16(w01, w23);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), b);
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm_packs_epi32(v0, v1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i + 8), _mm_packs_epi32(v2, v3));
    }
  }
  for (; i + 4 <= n; i += 4) store4_narrow<T>(q + i, quantize4(_mm_loadu_ps(x + i), scale, lo, hi, zp));
  reference::quantize<T>(x + i, q + i, n - i, p);
}

// Channels-last per-axis quantize: element i of each row of `channels` uses scales[i], zps[i].
template <class T>
void quantize_rows(const float* x, T* q, std::size_t rows, std::size_t channels,
                                    const float* scales, const int32_t* zero_points) {
  const __m128 qmin = _mm_set1_ps(static_cast<float>(quant_min<T>()));
  const __m128 qmax = _mm_set1_ps(static_cast<float>(quant_max<T>()));
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    T* qr = q + r * channels;
    std::size_t c = 0;
    for (; c + 4 <= channels; c += 4) {
      const __m128i zp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(zero_points + c));
      const __m128 zpf = _mm_cvtepi32_ps(zp);
      store4_narrow<T>(qr + c, quantize4(_mm_loadu_ps(xr + c), _mm_loadu_ps(scales + c),
                                         _mm_sub_ps(qmin, zpf), _mm_sub_ps(qmax, zpf), zp));
    }
    for (; c < channels; ++c) qr[c] = reference::quantize_one<T>(xr[c], scales[c], zero_points[c]);
  }
}

// ---- dequantize -----------------------------------------------------------------------------

template <class T>
inline __m128 dequantize4(const T* q, __m128i zp, __m128 scale) {
  return _mm_mul_ps(_mm_cvtepi32_ps(_mm_sub_epi32(load4_widen<T>(q), zp)), scale);
}

// int32: (double(q) - double(zp)) * double(scale), then rounded to float (two lanes at a time).
inline __m128 dequantize4_i32(const int32_t* q, __m128d zp, __m128d scale) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128d lo = _mm_mul_pd(_mm_sub_pd(_mm_cvtepi32_pd(v), zp), scale);
  const __m128d hi = _mm_mul_pd(_mm_sub_pd(_mm_cvtepi32_pd(_mm_unpackhi_epi64(v, v)), zp), scale);
  return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

template <class T>
void dequantize(const T* q, float* x, std::size_t n, QuantParams p) {
  std::size_t i = 0;
  if constexpr (sizeof(T) == 4) {
    const __m128d zp = _mm_set1_pd(static_cast<double>(p.zero_point));
    const __m128d scale = _mm_set1_pd(static_cast<double>(p.scale));
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, dequantize4_i32(q + i, zp, scale));
  } else {
    const __m128i zp = _mm_set1_epi32(p.zero_point);
    const __m128 scale = _mm_set1_ps(p.scale);
    for (; i + 16 <= n; i += 16) {
      _mm_storeu_ps(x + i + 0, dequantize4<T>(q + i + 0, zp, scale));
      _mm_storeu_ps(x + i + 4, dequantize4<T>(q + i + 4, zp, scale));
      _mm_storeu_ps(x + i + 8, dequantize4<T>(q + i + 8, zp, scale));
      _mm_storeu_ps(x + i + 12, dequantize4<T>(q + i + 12, zp, scale));
    }
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, dequantize4<T>(q + i, zp, scale));
  }
  reference::dequantize<T>(q + i, x + i, n - i, p);
}

template <class T>
void dequantize_rows(const T* q, float* x, std::size_t rows, std::size_t channels,
                                      const float* scales, const int32_t* zero_points) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* qr = q + r * channels;
    float* xr = x + r * channels;
    std::size_t c = 0;
    if constexpr (sizeof(T) <= 2) {
      for (; c + 4 <= channels; c += 4) {
        const __m128i zp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(zero_points + c));
        _mm_storeu_ps(xr + c, dequantize4<T>(qr + c, zp, _mm_loadu_ps(scales + c)));
      }
    }
    for (; c < channels; ++c) xr[c] = reference::dequantize_one<T>(qr[c], scales[c], zero_points[c]);
  }
}

// ---- requantize -----------------------------------------------------------------------------

template <class In, class Out>
void requantize(const In* x, Out* y, std::size_t n, const RequantizeParams& p) {
  const FixedPointMultiplier m(p.multiplier, p.rounding);
  const __m128i in_zp = _mm_set1_epi32(p.input_zero_point);
  const __m128i out_zp = _mm_set1_epi32(p.output_zero_point);
  // Clamp before adding the output zero point so that the sum cannot overflow int32.
  const int64_t lo64 = int64_t{quant_min<Out>()} - p.output_zero_point;
  const int64_t hi64 = int64_t{quant_max<Out>()} - p.output_zero_point;
  const __m128i lo = _mm_set1_epi32(static_cast<int32_t>(lo64 < INT32_MIN ? INT32_MIN : lo64));
  const __m128i hi = _mm_set1_epi32(static_cast<int32_t>(hi64 > INT32_MAX ? INT32_MAX : hi64));
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128i v = _mm_sub_epi32(load4_widen<In>(x + i), in_zp);
    v = m.apply(v);
    v = _mm_add_epi32(_mm_min_epi32(_mm_max_epi32(v, lo), hi), out_zp);
    store4_narrow<Out>(y + i, v);
  }
  reference::requantize<In, Out>(x + i, y + i, n - i, p);
}

}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
