// x86/depthwise_sse41.hpp: one output row of an int8 depthwise convolution on 128-bit vectors.
//
// The arithmetic of x86/depthwise_avx2.hpp on 8 channels per step: per pair of taps, two 8-byte
// loads sign-extended to int16 (pmovsxbw), interleaved (punpck{l,h}wd: channels 0-3 / 4-7 of the
// step, in natural order) and multiplied by the same prepacked weight pairs with pmaddwd (half h of
// a 16-channel block reads chunks 2h and 2h + 1, stored at 16-byte positions h and 2 + h). The
// per-lane requantization uses SSE4.1's emulated variable shifts (simd/x86/fixed_point_sse41.hpp).
// A channel tail of 1-7 goes through 8-byte copies. The hybrid depthwise (hybrid_conv.hpp) runs the
// same walk and stores the int32 accumulators instead.
// Compiled for SSE4.1 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/depthwise_row.hpp"
#include "ptq/simd/x86/fixed_point_sse41.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_SSE41)
PTQ_NAMESPACE_BEGIN
namespace x86::sse41 {

namespace dw_detail {

// One pixel, 8 channels at byte offset c of every tap; w points at the block's weights plus the
// half's offset (8 * h int16).
PTQ_INLINE void dw_block8(const int8_t* const* taps, int64_t pairs, int64_t c, const int16_t* w,
                          __m128i* vacc_lo, __m128i* vacc_hi) {
  __m128i lo = *vacc_lo, hi = *vacc_hi;
  for (int64_t p = 0; p < pairs; ++p) {
    const __m128i x0 = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(taps[2 * p] + c)));
    const __m128i x1 = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(taps[2 * p + 1] + c)));
    const __m128i w_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 32 * p));
    const __m128i w_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 32 * p + 16));
    lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(x0, x1), w_lo));
    hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(x0, x1), w_hi));
  }
  *vacc_lo = lo;
  *vacc_hi = hi;
}

}  // namespace dw_detail

// The row walk of both entry points below. kAccumulators: store the int32 accumulators to
// a.accumulators instead of requantizing to a.output.
template <bool kAccumulators>
inline void depthwise_row_impl(const depthwise_detail::DepthwiseRowArgs& a) {
  using dw_detail::dw_block8;
  const int64_t pairs = a.taps_per_pixel / 2, tp = a.taps_per_pixel;
  const __m128i lo_clamp = _mm_set1_epi32(a.activation_min - a.output_zero_point);
  const __m128i hi_clamp = _mm_set1_epi32(a.activation_max - a.output_zero_point);
  const __m128i zp = _mm_set1_epi32(a.output_zero_point);
  auto finish = [&](__m128i acc_lo, __m128i acc_hi, const FixedPointMultiplierPerLane& f_lo,
                    const FixedPointMultiplierPerLane& f_hi) {
    const __m128i y_lo = _mm_add_epi32(_mm_min_epi32(_mm_max_epi32(f_lo.apply(acc_lo), lo_clamp), hi_clamp), zp);
    const __m128i y_hi = _mm_add_epi32(_mm_min_epi32(_mm_max_epi32(f_hi.apply(acc_hi), lo_clamp), hi_clamp), zp);
    const __m128i w16 = _mm_packs_epi32(y_lo, y_hi);
    return _mm_packs_epi16(w16, w16);  // low 8 bytes
  };
  // Channels c .. c + 7 of pixel ox (`rem` of them when fewer than 8 remain).
  auto emit = [&](__m128i acc_lo, __m128i acc_hi, const FixedPointMultiplierPerLane& f_lo,
                  const FixedPointMultiplierPerLane& f_hi, int64_t ox, int64_t c, int64_t rem) {
    if constexpr (kAccumulators) {
      int32_t* dst = a.accumulators + ox * a.channels + c;
      if (rem >= 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), acc_lo);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 4), acc_hi);
      } else {
        alignas(16) int32_t tmp[8];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), acc_lo);
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp + 4), acc_hi);
        std::memcpy(dst, tmp, static_cast<std::size_t>(rem) * sizeof(int32_t));
      }
    } else {
      int8_t* dst = a.output + ox * a.channels + c;
      if (rem >= 8) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), finish(acc_lo, acc_hi, f_lo, f_hi));
      } else {
        alignas(16) int8_t out[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(out), finish(acc_lo, acc_hi, f_lo, f_hi));
        std::memcpy(dst, out, static_cast<std::size_t>(rem));
      }
    }
  };
  auto load = [](const int32_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  for (int64_t c = 0; c < a.channels; c += 8) {
    const int64_t rem = a.channels - c;
    const FixedPointMultiplierPerLane f_lo(load(a.multipliers + c), load(a.shifts + c), a.rounding);
    const FixedPointMultiplierPerLane f_hi(load(a.multipliers + c + 4), load(a.shifts + c + 4), a.rounding);
    const __m128i bias_lo = load(a.bias + c), bias_hi = load(a.bias + c + 4);
    const int16_t* w = a.weight_pairs + (c / 16) * pairs * 32 + (c % 16 / 8) * 8;
    if (rem >= 8) {
      for (int64_t ox = 0; ox < a.pixels; ++ox) {
        __m128i acc_lo = bias_lo, acc_hi = bias_hi;
        dw_block8(a.taps, pairs, ox * a.pixel_stride + c, w, &acc_lo, &acc_hi);
        emit(acc_lo, acc_hi, f_lo, f_hi, ox, c, rem);
      }
    } else {  // 1 to 7 channels: copies of 8 bytes, 64 taps (32 pairs) at a time
      alignas(16) int8_t tmp[64][8];
      const int8_t* tmp_taps[64];
      for (int64_t ox = 0; ox < a.pixels; ++ox) {
        __m128i acc_lo = bias_lo, acc_hi = bias_hi;
        for (int64_t t0 = 0; t0 < tp; t0 += 64) {
          const int64_t tn = tp - t0 < 64 ? tp - t0 : 64;  // even
          for (int64_t t = 0; t < tn; ++t) {
            std::memset(tmp[t], 0, 8);
            std::memcpy(tmp[t], a.taps[t0 + t] + ox * a.pixel_stride + c, static_cast<std::size_t>(rem));
            tmp_taps[t] = tmp[t];
          }
          dw_block8(tmp_taps, tn / 2, 0, w + (t0 / 2) * 32, &acc_lo, &acc_hi);
        }
        emit(acc_lo, acc_hi, f_lo, f_hi, ox, c, rem);
      }
    }
  }
}

// depthwise_row_scalar's arithmetic (depthwise_row.hpp): a.output = requantized int8.
inline void depthwise_row(const depthwise_detail::DepthwiseRowArgs& a) { depthwise_row_impl<false>(a); }

// depthwise_row_accumulators_scalar's: a.accumulators = the int32 accumulators, bias included.
inline void depthwise_row_accumulators(const depthwise_detail::DepthwiseRowArgs& a) { depthwise_row_impl<true>(a); }

}  // namespace x86::sse41
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
