// x86/depthwise_avx2.hpp: one output row of an int8 depthwise convolution on 256-bit vectors.
//
// 16 channels per step. Per pair of filter taps: two 16-byte loads of the inputs, sign-extended to
// int16 (vpmovsxbw), interleaved (vpunpck{l,h}wd: lanes hold (x[2p][c], x[2p+1][c])) and
// multiplied by the prepacked interleaved weights with vpmaddwd, which adds the pair into int32:
// |w * x| <= 127 * 128, a pair sum < 2^15 * 2: exact in int32. The zero point is folded into the
// bias (depthwise_row.hpp), so there is no subtraction in the loop. The two accumulators hold
// channels (0-3, 8-11) and (4-7, 12-15); the bias, multipliers and shifts are prepacked in that
// order, and vpackssdw of the two results restores the natural order. Requantization is the GEMM's
// per-lane fixed point (simd/x86/fixed_point_per_lane-inl.hpp), built once per row and 16 channels
// and shared by the row's pixels. A channel tail of 1-15 goes through 16-byte copies. The hybrid
// depthwise (hybrid_conv.hpp) runs the same walk and stores the int32 accumulators instead.
// Compiled for AVX2 through a target region: any TU may include this file; callers check the CPU.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ptq/kernels/depthwise_row.hpp"
#include "ptq/simd/x86/fixed_point_avx2.hpp"
#include "ptq/simd/x86/target_region.hpp"

PTQ_X86_BEGIN_REGION(PTQ_X86_TARGETS_AVX2)
PTQ_NAMESPACE_BEGIN
namespace x86::avx2 {

namespace dw_detail {

// One pixel, one block of 16 channels at byte offset c of every tap; returns the two int32
// accumulators (channels 0-3, 8-11 and 4-7, 12-15), seeded with the bias.
PTQ_INLINE void dw_block16(const int8_t* const* taps, int64_t pairs, int64_t c, const int16_t* w,
                           __m256i* vacc_lo, __m256i* vacc_hi) {
  __m256i lo = *vacc_lo, hi = *vacc_hi;
  for (int64_t p = 0; p < pairs; ++p) {
    const __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(taps[2 * p] + c)));
    const __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(taps[2 * p + 1] + c)));
    const __m256i w_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * p));
    const __m256i w_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * p + 16));
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), w_lo));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), w_hi));
  }
  *vacc_lo = lo;
  *vacc_hi = hi;
}

// dw_block16 for a filter of 2 * kPairs taps with the block's weights already in registers
// (hoisted out of the loop over the row's pixels).
template <int kPairs>
PTQ_INLINE void dw_block16_fixed(const int8_t* const* taps, int64_t c, const __m256i* vw, __m256i* vacc_lo,
                                 __m256i* vacc_hi) {
  __m256i lo = *vacc_lo, hi = *vacc_hi;
  _Pragma("GCC unroll 16")
  for (int p = 0; p < kPairs; ++p) {
    const __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(taps[2 * p] + c)));
    const __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(taps[2 * p + 1] + c)));
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), vw[2 * p]));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), vw[2 * p + 1]));
  }
  *vacc_lo = lo;
  *vacc_hi = hi;
}

}  // namespace dw_detail

// The row walk of both entry points below. kAccumulators: store the int32 accumulators (natural
// channel order) to a.accumulators instead of requantizing to a.output.
template <bool kAccumulators>
inline void depthwise_row_impl(const depthwise_detail::DepthwiseRowArgs& a) {
  using dw_detail::dw_block16;
  const int64_t pairs = a.taps_per_pixel / 2, tp = a.taps_per_pixel;
  const __m256i lo_clamp = _mm256_set1_epi32(a.activation_min - a.output_zero_point);
  const __m256i hi_clamp = _mm256_set1_epi32(a.activation_max - a.output_zero_point);
  const __m256i zp = _mm256_set1_epi32(a.output_zero_point);
  auto finish = [&](__m256i acc_lo, __m256i acc_hi, const FixedPointMultiplierPerLane& f_lo,
                    const FixedPointMultiplierPerLane& f_hi) {
    const __m256i y_lo = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(f_lo.apply(acc_lo), lo_clamp), hi_clamp), zp);
    const __m256i y_hi = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(f_hi.apply(acc_hi), lo_clamp), hi_clamp), zp);
    const __m256i w16 = _mm256_packs_epi32(y_lo, y_hi);  // channels 0-7 | 8-15, int16
    return _mm_packs_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
  };
  // Channels c .. c + 15 of pixel ox (`rem` of them when fewer than 16 remain): requantized int8,
  // or the accumulators in natural order (lo holds 0-3 | 8-11, hi 4-7 | 12-15).
  auto emit = [&](__m256i acc_lo, __m256i acc_hi, const FixedPointMultiplierPerLane& f_lo,
                  const FixedPointMultiplierPerLane& f_hi, int64_t ox, int64_t c, int64_t rem) {
    if constexpr (kAccumulators) {
      int32_t* dst = a.accumulators + ox * a.channels + c;
      const __m256i c0 = _mm256_permute2x128_si256(acc_lo, acc_hi, 0x20);  // channels 0-7
      const __m256i c1 = _mm256_permute2x128_si256(acc_lo, acc_hi, 0x31);  // channels 8-15
      if (rem >= 16) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), c0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 8), c1);
      } else {
        alignas(32) int32_t tmp[16];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), c0);
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8), c1);
        std::memcpy(dst, tmp, static_cast<std::size_t>(rem) * sizeof(int32_t));
      }
    } else {
      int8_t* dst = a.output + ox * a.channels + c;
      if (rem >= 16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), finish(acc_lo, acc_hi, f_lo, f_hi));
      } else {
        alignas(16) int8_t out[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(out), finish(acc_lo, acc_hi, f_lo, f_hi));
        std::memcpy(dst, out, static_cast<std::size_t>(rem));
      }
    }
  };
  for (int64_t c = 0; c < a.channels; c += 16) {
    const int64_t rem = a.channels - c;
    const FixedPointMultiplierPerLane f_lo(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.multipliers_perm + c)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.shifts_perm + c)), a.rounding);
    const FixedPointMultiplierPerLane f_hi(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.multipliers_perm + c + 8)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.shifts_perm + c + 8)), a.rounding);
    const __m256i bias_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bias_perm + c));
    const __m256i bias_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bias_perm + c + 8));
    const int16_t* w = a.weight_pairs + (c / 16) * pairs * 32;
    if (rem >= 16 && pairs == 5) {  // 3x3 filters (and 10-tap ones), weights in registers
      __m256i vw[10];
      for (int i = 0; i < 10; ++i) vw[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16 * i));
      for (int64_t ox = 0; ox < a.pixels; ++ox) {
        __m256i acc_lo = bias_lo, acc_hi = bias_hi;
        dw_detail::dw_block16_fixed<5>(a.taps, ox * a.pixel_stride + c, vw, &acc_lo, &acc_hi);
        emit(acc_lo, acc_hi, f_lo, f_hi, ox, c, rem);
      }
    } else if (rem >= 16) {
      for (int64_t ox = 0; ox < a.pixels; ++ox) {
        __m256i acc_lo = bias_lo, acc_hi = bias_hi;
        dw_block16(a.taps, pairs, ox * a.pixel_stride + c, w, &acc_lo, &acc_hi);
        emit(acc_lo, acc_hi, f_lo, f_hi, ox, c, rem);
      }
    } else {  // 1 to 15 channels: copies of 16 bytes, 64 taps (32 pairs) at a time
      alignas(16) int8_t tmp[64][16];
      const int8_t* tmp_taps[64];
      for (int64_t ox = 0; ox < a.pixels; ++ox) {
        __m256i acc_lo = bias_lo, acc_hi = bias_hi;
        for (int64_t t0 = 0; t0 < tp; t0 += 64) {
          const int64_t tn = tp - t0 < 64 ? tp - t0 : 64;  // even
          for (int64_t t = 0; t < tn; ++t) {
            std::memset(tmp[t], 0, 16);
            std::memcpy(tmp[t], a.taps[t0 + t] + ox * a.pixel_stride + c, static_cast<std::size_t>(rem));
            tmp_taps[t] = tmp[t];
          }
          dw_block16(tmp_taps, tn / 2, 0, w + (t0 / 2) * 32, &acc_lo, &acc_hi);
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

}  // namespace x86::avx2
PTQ_NAMESPACE_END
PTQ_X86_END_REGION
