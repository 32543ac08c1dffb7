// x86/quantize_avx512.hpp: quantize, dequantize and requantize on 512-bit vectors (AVX-512 F/BW/VL).
//
// The lane arithmetic is that of x86/quantize_sse41.hpp (and so of reference/quantize.hpp), on
// sixteen lanes. AVX-512 adds what makes the edges cheap: vpmovs*/vpmovus* narrow with saturation
// in one instruction, and k-masked loads and stores handle tails without a scalar loop.
// Compiled for AVX-512 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ptq/kernels/reference/quantize.hpp"
#include "ptq/simd/x86/fixed_point_avx512.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX512)
PTQ_X86_BEGIN_AVX512_WARNINGS
PTQ_NAMESPACE_BEGIN
namespace x86::avx512 {

// Mask of the first n (<= 16) lanes.
PTQ_INLINE __mmask16 first_lanes(std::size_t n) {
  return static_cast<__mmask16>((1u << n) - 1u);
}

// Up to sixteen elements of T (the lanes in `k`) widened to int32; other lanes are 0.
template <class T>
PTQ_INLINE __m512i load16_widen(const T* p, __mmask16 k) {
  if constexpr (sizeof(T) == 4) {
    return _mm512_maskz_loadu_epi32(k, p);
  } else if constexpr (sizeof(T) == 2) {
    return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(k, p));
  } else {
    const __m128i v = _mm_maskz_loadu_epi8(k, p);
    return std::is_signed<T>::value ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
  }
}

// Sixteen int32 lanes, already inside T's range: the lanes in `k` narrowed and stored.
template <class T>
PTQ_INLINE void store16_narrow(T* p, __mmask16 k, __m512i v) {
  if constexpr (sizeof(T) == 4) {
    _mm512_mask_storeu_epi32(p, k, v);
  } else if constexpr (sizeof(T) == 2) {
    _mm512_mask_cvtsepi32_storeu_epi16(p, k, v);
  } else if constexpr (std::is_signed<T>::value) {
    _mm512_mask_cvtsepi32_storeu_epi8(p, k, v);
  } else {
    _mm512_mask_cvtusepi32_storeu_epi8(p, k, v);  // lanes are in [0, 255]: unsigned view is exact
  }
}

// round(v) with ties away from zero, for |v| < 2^31 (callers clamp first).
PTQ_INLINE __m512 round_half_away(__m512 v) {
  const __m512i sign_mask = _mm512_set1_epi32(INT32_MIN);
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
  const __mmask16 away = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 step = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), sign_mask),
                      _mm512_castps_si512(_mm512_set1_ps(1.0f))));
  return _mm512_mask_add_ps(t, away, t, step);
}

// round(clamp(x / scale, lo, hi)) + zp for sixteen lanes; NaN maps to zp.
PTQ_INLINE __m512i quantize16(__m512 x, __m512 scale, __m512 lo, __m512 hi, __m512i zp) {
  __m512 v = _mm512_div_ps(x, scale);
  v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(round_half_away(v)), zp);
}

template <class T>
void quantize(const float* x, T* q, std::size_t n, QuantParams p) {
  const __m512 scale = _mm512_set1_ps(p.scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(quant_min<T>() - p.zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(quant_max<T>() - p.zero_point));
  const __m512i zp = _mm512_set1_epi32(p.zero_point);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i v0 = quantize16(_mm512_loadu_ps(x + i), scale, lo, hi, zp);
    const __m512i v1 = quantize16(_mm512_loadu_ps(x + i + 16), scale, lo, hi, zp);
    store16_narrow<T>(q + i, 0xFFFF, v0);
    store16_narrow<T>(q + i + 16, 0xFFFF, v1);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = first_lanes(n - i < 16 ? n - i : 16);
    store16_narrow<T>(q + i, k, quantize16(_mm512_maskz_loadu_ps(k, x + i), scale, lo, hi, zp));
  }
}

// Channels-last per-axis quantize: element c of each row of `channels` uses scales[c], zps[c].
template <class T>
void quantize_rows(const float* x, T* q, std::size_t rows, std::size_t channels, const float* scales,
                   const int32_t* zero_points) {
  const __m512 qmin = _mm512_set1_ps(static_cast<float>(quant_min<T>()));
  const __m512 qmax = _mm512_set1_ps(static_cast<float>(quant_max<T>()));
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    T* qr = q + r * channels;
    for (std::size_t c = 0; c < channels; c += 16) {
      const __mmask16 k = first_lanes(channels - c < 16 ? channels - c : 16);
      const __m512i zp = _mm512_maskz_loadu_epi32(k, zero_points + c);
      const __m512 zpf = _mm512_cvtepi32_ps(zp);
      // Masked-off lanes divide 0 by 1 and are never stored.
      const __m512 scale = _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), k, scales + c);
      store16_narrow<T>(qr + c, k, quantize16(_mm512_maskz_loadu_ps(k, xr + c), scale,
                                              _mm512_sub_ps(qmin, zpf), _mm512_sub_ps(qmax, zpf), zp));
    }
  }
}

template <class T>
PTQ_INLINE __m512 dequantize16(const T* q, __mmask16 k, __m512i zp, __m512 scale) {
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(load16_widen<T>(q, k), zp)), scale);
}

// int32: (double(q) - double(zp)) * double(scale), then rounded to float.
PTQ_INLINE __m512 dequantize16_i32(const int32_t* q, __mmask16 k, __m512d zp, __m512d scale) {
  const __m512i v = _mm512_maskz_loadu_epi32(k, q);
  const __m256 flo = _mm512_cvtpd_ps(
      _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(v)), zp), scale));
  const __m256 fhi = _mm512_cvtpd_ps(
      _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(v, 1)), zp), scale));
  return _mm512_insertf32x8(_mm512_castps256_ps512(flo), fhi, 1);
}

template <class T>
void dequantize(const T* q, float* x, std::size_t n, QuantParams p) {
  std::size_t i = 0;
  if constexpr (sizeof(T) == 4) {
    const __m512d zp = _mm512_set1_pd(static_cast<double>(p.zero_point));
    const __m512d scale = _mm512_set1_pd(static_cast<double>(p.scale));
    for (; i < n; i += 16) {
      const __mmask16 k = first_lanes(n - i < 16 ? n - i : 16);
      _mm512_mask_storeu_ps(x + i, k, dequantize16_i32(q + i, k, zp, scale));
    }
  } else {
    const __m512i zp = _mm512_set1_epi32(p.zero_point);
    const __m512 scale = _mm512_set1_ps(p.scale);
    for (; i + 32 <= n; i += 32) {
      _mm512_storeu_ps(x + i, dequantize16<T>(q + i, 0xFFFF, zp, scale));
      _mm512_storeu_ps(x + i + 16, dequantize16<T>(q + i + 16, 0xFFFF, zp, scale));
    }
    for (; i < n; i += 16) {
      const __mmask16 k = first_lanes(n - i < 16 ? n - i : 16);
      _mm512_mask_storeu_ps(x + i, k, dequantize16<T>(q + i, k, zp, scale));
    }
  }
}

template <class T>
void dequantize_rows(const T* q, float* x, std::size_t rows, std::size_t channels, const float* scales,
                     const int32_t* zero_points) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* qr = q + r * channels;
    float* xr = x + r * channels;
    if constexpr (sizeof(T) <= 2) {
      for (std::size_t c = 0; c < channels; c += 16) {
        const __mmask16 k = first_lanes(channels - c < 16 ? channels - c : 16);
        const __m512i zp = _mm512_maskz_loadu_epi32(k, zero_points + c);
        _mm512_mask_storeu_ps(xr + c, k, dequantize16<T>(qr + c, k, zp, _mm512_maskz_loadu_ps(k, scales + c)));
      }
    } else {
      for (std::size_t c = 0; c < channels; ++c)
        xr[c] = reference::dequantize_one<T>(qr[c], scales[c], zero_points[c]);
    }
  }
}

template <class In, class Out>
void requantize(const In* x, Out* y, std::size_t n, const RequantizeParams& p) {
  const FixedPointMultiplier m(p.multiplier, p.rounding);
  const __m512i in_zp = _mm512_set1_epi32(p.input_zero_point);
  const __m512i out_zp = _mm512_set1_epi32(p.output_zero_point);
  // Clamp before adding the output zero point so that the sum cannot overflow int32.
  const int64_t lo64 = int64_t{quant_min<Out>()} - p.output_zero_point;
  const int64_t hi64 = int64_t{quant_max<Out>()} - p.output_zero_point;
  const __m512i lo = _mm512_set1_epi32(static_cast<int32_t>(lo64 < INT32_MIN ? INT32_MIN : lo64));
  const __m512i hi = _mm512_set1_epi32(static_cast<int32_t>(hi64 > INT32_MAX ? INT32_MAX : hi64));
  for (std::size_t i = 0; i < n; i += 16) {
    const __mmask16 k = first_lanes(n - i < 16 ? n - i : 16);
    __m512i v = m.apply(_mm512_sub_epi32(load16_widen<In>(x + i, k), in_zp));
    v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), out_zp);
    store16_narrow<Out>(y + i, k, v);
  }
}

}  // namespace x86::avx512
PTQ_NAMESPACE_END
PTQ_X86_END_AVX512_WARNINGS
PTQ_X86_END_REGION
