// im2col.hpp: the patch gather of the GEMM-based convolutions (conv.hpp int8, hybrid_conv.hpp,
// float_conv.hpp): one row of A per output pixel, its receptive field laid out [fy][fx][ic] like a
// weight row [oc][fy][fx][ic].
//
// The copies are short: a filter row is filter_w * in_c / groups elements (9 bytes for a 3x3 RGB
// layer), and a libc memcpy / memset call per run cost as much as the GEMM of such a layer (measured
// on the 112x112x3 -> 32 layer of bench/conv_bench.cpp: half of the int8 conv's time went to im2col
// and its calls). Runs are therefore copied with fixed-size moves that compile inline, a tail being
// the run's last whole chunk, overlapping what was copied already.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ptq/core/config.hpp"
#include "ptq/kernels/reference/conv.hpp"

PTQ_NAMESPACE_BEGIN
namespace conv_detail {

// dst[0, n) = src[0, n), n bytes, by overlapping fixed-size moves (no call for n < 32 bytes).
PTQ_INLINE void copy_run(void* dst_v, const void* src_v, std::size_t n) {
  auto* dst = static_cast<unsigned char*>(dst_v);
  const auto* src = static_cast<const unsigned char*>(src_v);
  if (n >= 32) {
    for (std::size_t i = 0; i + 32 <= n; i += 32) std::memcpy(dst + i, src + i, 32);
    if (n % 32 != 0) std::memcpy(dst + n - 32, src + n - 32, 32);
  } else if (n >= 16) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// dst[0, n) = value: `pattern` holds 32 bytes of value (any T of size 1, 2, 4 or 8).
PTQ_INLINE void fill_run(void* dst, const unsigned char (&pattern)[32], std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  for (; n >= 32; n -= 32, d += 32) std::memcpy(d, pattern, 32);
  copy_run(d, pattern, n);
}

// The patches of output pixels [m0, m0 + rows) of group `grp`, K_g = filter_h * filter_w *
// (in_c / groups) elements each, into `a`: row r at a + r * row_stride, the row_stride - K_g
// elements after each patch set to T(0) (conv.hpp pads its rows to the GEMM's K group). Pixel m is
// (b, oy, ox) = (m / (out_h * out_w), m / out_w % out_h, m % out_w); a tap outside the image is
// written as `pad_value` (the int8 conv's x_zp, the hybrid conv's per-image zero point, 0.0f).
template <class T>
void im2col(const ConvGeometry& g, int64_t groups, T pad_value, const T* input, int64_t grp, int64_t m0,
            int64_t rows, int64_t row_stride, T* a) {
  static_assert(32 % sizeof(T) == 0, "im2col: element size divides 32");
  const int64_t fic = g.input_channels / groups, in_c = g.input_channels;
  const int64_t kw = g.filter_width, kh = g.filter_height, k = kh * kw * fic;
  const bool contiguous_rows = groups == 1 && g.dilation_width == 1;
  const int64_t pixels = g.output_height * g.output_width;
  const int64_t run = kw * fic, row_pitch = g.dilation_height * g.input_width * in_c;
  const int64_t y_last = (kh - 1) * g.dilation_height;  // the last filter row's offset from y0
  unsigned char pad[32], zero[32] = {};
  for (std::size_t i = 0; i < 32; i += sizeof(T)) std::memcpy(pad + i, &pad_value, sizeof(T));
  constexpr auto kSize = static_cast<int64_t>(sizeof(T));
  const auto copy = [](T* dst, const T* src, int64_t n) { copy_run(dst, src, static_cast<std::size_t>(n * kSize)); };
  const auto fill = [&pad](T* dst, int64_t n) { fill_run(dst, pad, static_cast<std::size_t>(n * kSize)); };
  int64_t b = m0 / pixels, oy = m0 % pixels / g.output_width, ox = m0 % g.output_width;
  for (int64_t r = 0; r < rows; ++r) {
    const T* image = input + b * g.input_height * g.input_width * in_c + grp * fic;
    const int64_t y0 = oy * g.stride_height - g.pad_top, x0 = ox * g.stride_width - g.pad_left;
    if (contiguous_rows && y0 >= 0 && y_last + y0 < g.input_height && x0 >= 0 && x0 + kw <= g.input_width) {
      // The whole field is inside the image (most pixels): filter_h runs, nothing to test.
      const T* src = image + (y0 * g.input_width + x0) * in_c;
      for (int64_t fy = 0; fy < kh; ++fy, src += row_pitch) copy(a + fy * run, src, run);
    } else {
    for (int64_t fy = 0; fy < kh; ++fy) {
      T* dst = a + fy * kw * fic;
      const int64_t iy = y0 + fy * g.dilation_height;
      if (iy < 0 || iy >= g.input_height) {
        fill(dst, kw * fic);
        continue;
      }
      const T* row = image + iy * g.input_width * in_c;
      if (contiguous_rows) {
        // Taps fx in [lo, hi) are inside: x0 + fx in [0, input_width).
        const int64_t lo = std::min(kw, std::max<int64_t>(0, -x0));
        const int64_t hi = std::max(lo, std::min(kw, g.input_width - x0));
        if (lo > 0) fill(dst, lo * fic);
        if (hi > lo) copy(dst + lo * fic, row + (x0 + lo) * in_c, (hi - lo) * fic);
        if (hi < kw) fill(dst + hi * fic, (kw - hi) * fic);
      } else {
        for (int64_t fx = 0; fx < kw; ++fx) {
          const int64_t ix = x0 + fx * g.dilation_width;
          if (ix < 0 || ix >= g.input_width) {
            fill(dst + fx * fic, fic);
          } else {
            copy(dst + fx * fic, row + ix * in_c, fic);
          }
        }
      }
    }
    }
    if (row_stride > k) fill_run(a + k, zero, static_cast<std::size_t>((row_stride - k) * kSize));
    a += row_stride;
    if (++ox == g.output_width) {
      ox = 0;
      if (++oy == g.output_height) {
        oy = 0;
        ++b;
      }
    }
  }
}

}  // namespace conv_detail
PTQ_NAMESPACE_END
