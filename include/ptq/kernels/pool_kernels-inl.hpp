// pool_kernels-inl.hpp: MaxPool2D, AveragePool2D (float32, int8) and Mean with the innermost dim
// kept (float32, int8), written once over a level's channel-vector primitives; the arithmetic is
// reference/pool.hpp's, per lane, in the same order (the contract is in kernels/pool.hpp).
//
// NO include guard: re-included by kernels/pool.hpp (scalar level), x86/pool_{sse41,avx2}.hpp and arm/pool_neon.hpp
// inside the level's namespace (and target region), after the level has declared the type lists
//   I8Widths, F32Widths, I32Widths = std::tuple<Ops...>, widest first, ending with a 1-lane Ops
// (pool_ops.hpp). for_blocks(List{}, channels, block) calls block(Ops{}, c) for channel offsets c
// covering [0, channels) with the widest Ops whose kLanes <= channels; the last block may overlap
// the previous one (every kernel here writes each output element from the input only, and the
// output must not overlap the input, so recomputing an element is harmless). The Ops (all static):
//   I8 (max pool):   V, kLanes, load(const int8_t*), store(int8_t*, V), set1(int8_t), max, min
//   F32:             V, kLanes, load, store, set1(float), zero(), add, div,
//                    max(a, b) = a > b ? a : b, min(a, b) = a < b ? a : b  (MAXPS / MINPS)
//   I32 (int8 sums): V (int32 lanes), kLanes, load_widen(const int8_t*) (kLanes int8 -> int32),
//                    zero(), add, store(int32_t*, V), set1(int32_t), max, min,
//                    average(acc, n) = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n (truncating),
//                    store_narrow(int8_t*, V) (lanes already in [-128, 127])

namespace pool_walk {

template <class O, class... Rest, class Block>
PTQ_INLINE void for_blocks(std::tuple<O, Rest...>, int64_t channels, Block&& block) {
  if constexpr (sizeof...(Rest) > 0) {
    if (channels < O::kLanes) {
      for_blocks(std::tuple<Rest...>{}, channels, block);
      return;
    }
  }
  for (int64_t c = 0; c < channels; c += O::kLanes) block(O{}, c + O::kLanes <= channels ? c : channels - O::kLanes);
}

// The in-image taps of one output pixel: rows [0, rows) of cols [0, cols) starting at `first`
// (element offset into the input), rows row_stride apart and columns `channels` apart.
struct Window {
  int64_t first = 0, rows = 0, cols = 0;
};

inline Window window(const PoolParams& p, int64_t b, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * p.stride_height - p.pad_top, x0 = ox * p.stride_width - p.pad_left;
  const int64_t fy_begin = y0 < 0 ? -y0 : 0;
  const int64_t fy_end = p.filter_height < p.input_height - y0 ? p.filter_height : p.input_height - y0;
  const int64_t fx_begin = x0 < 0 ? -x0 : 0;
  const int64_t fx_end = p.filter_width < p.input_width - x0 ? p.filter_width : p.input_width - x0;
  Window w;
  w.first = ((b * p.input_height + y0 + fy_begin) * p.input_width + x0 + fx_begin) * p.channels;
  w.rows = fy_end - fy_begin;
  w.cols = fx_end - fx_begin;
  return w;
}

// Calls pixel(window, output pointer) for every output pixel, NHWC order.
template <class T, class Pixel>
PTQ_INLINE void for_each_pixel(const PoolParams& p, T* output, Pixel&& pixel) {
  for (int64_t b = 0; b < p.batches; ++b) {
    for (int64_t oy = 0; oy < p.output_height; ++oy) {
      for (int64_t ox = 0; ox < p.output_width; ++ox) {
        pixel(window(p, b, oy, ox), output + ((b * p.output_height + oy) * p.output_width + ox) * p.channels);
      }
    }
  }
}

inline void max_pool(const PoolParams& p, const int8_t* input, int8_t* output) {
  const int64_t c_n = p.channels, row_stride = p.input_width * p.channels;
  for_each_pixel(p, output, [&](const Window& w, int8_t* out) {
    for_blocks(I8Widths{}, c_n, [&](auto ops, int64_t c) {
      using O = decltype(ops);
      typename O::V m = O::set1(-128);
      const int8_t* row = input + w.first + c;
      for (int64_t fy = 0; fy < w.rows; ++fy, row += row_stride) {
        for (int64_t fx = 0; fx < w.cols; ++fx) m = O::max(O::load(row + fx * c_n), m);
      }
      m = O::min(O::max(m, O::set1(static_cast<int8_t>(p.activation_min))), O::set1(static_cast<int8_t>(p.activation_max)));
      O::store(out + c, m);
    });
  });
}

inline void max_pool(const PoolParams& p, const float* input, float* output) {
  const int64_t c_n = p.channels, row_stride = p.input_width * p.channels;
  for_each_pixel(p, output, [&](const Window& w, float* out) {
    for_blocks(F32Widths{}, c_n, [&](auto ops, int64_t c) {
      using O = decltype(ops);
      typename O::V m = O::set1(std::numeric_limits<float>::lowest());
      const float* row = input + w.first + c;
      for (int64_t fy = 0; fy < w.rows; ++fy, row += row_stride) {
        for (int64_t fx = 0; fx < w.cols; ++fx) m = O::max(O::load(row + fx * c_n), m);  // std::max(m, x)
      }
      // std::min(std::max(m, lo), hi)
      m = O::min(O::set1(p.float_activation_max), O::max(O::set1(p.float_activation_min), m));
      O::store(out + c, m);
    });
  });
}

inline void average_pool(const PoolParams& p, const float* input, float* output) {
  const int64_t c_n = p.channels, row_stride = p.input_width * p.channels;
  for_each_pixel(p, output, [&](const Window& w, float* out) {
    const float count = static_cast<float>(w.rows * w.cols);
    for_blocks(F32Widths{}, c_n, [&](auto ops, int64_t c) {
      using O = decltype(ops);
      typename O::V total = O::zero();
      const float* row = input + w.first + c;
      for (int64_t fy = 0; fy < w.rows; ++fy, row += row_stride) {
        for (int64_t fx = 0; fx < w.cols; ++fx) total = O::add(total, O::load(row + fx * c_n));
      }
      typename O::V y = O::div(total, O::set1(count));
      y = O::min(O::set1(p.float_activation_max), O::max(O::set1(p.float_activation_min), y));
      O::store(out + c, y);
    });
  });
}

// Precondition: filter_height * filter_width <= kPoolSimdMaxTaps (pool.hpp: the float quotient
// inside the x86 average() is exact below it).
inline void average_pool(const PoolParams& p, const int8_t* input, int8_t* output) {
  const int64_t c_n = p.channels, row_stride = p.input_width * p.channels;
  for_each_pixel(p, output, [&](const Window& w, int8_t* out) {
    const auto count = static_cast<int32_t>(w.rows * w.cols);
    for_blocks(I32Widths{}, c_n, [&](auto ops, int64_t c) {
      using O = decltype(ops);
      typename O::V acc = O::zero();
      const int8_t* row = input + w.first + c;
      for (int64_t fy = 0; fy < w.rows; ++fy, row += row_stride) {
        for (int64_t fx = 0; fx < w.cols; ++fx) acc = O::add(acc, O::load_widen(row + fx * c_n));
      }
      typename O::V y = O::average(acc, count);
      y = O::min(O::max(y, O::set1(p.activation_min)), O::set1(p.activation_max));
      O::store_narrow(out + c, y);
    });
  });
}

// Mean with the innermost input dim kept (mean_inner_kept(p)): per outer index (the kept dims but
// the last) and channel block, the reduced elements are added in increasing reduced index, the
// reference's order. body(input offset, output offset) runs once per outer index.
template <class Body>
PTQ_INLINE void mean_walk_outer(const MeanParams& p, Body&& body) {
  const int64_t channels = p.kept_sizes.back();
  const int64_t outer = channels == 0 ? 0 : p.num_outputs / channels;
  for (int64_t o = 0; o < outer; ++o) {
    body(::ptq::reference::detail::folded_offset(o * channels, p.kept_sizes, p.kept_strides), o * channels);
  }
}

// The input offset of reduced index r (one multiply when the reduced dims fold into one).
PTQ_INLINE int64_t reduced_offset(const MeanParams& p, int64_t r) {
  return p.reduced_sizes.size() == 1 ? r * p.reduced_strides[0]
                                     : ::ptq::reference::detail::folded_offset(r, p.reduced_sizes, p.reduced_strides);
}

inline void mean(const MeanParams& p, const float* input, float* output) {
  const int64_t channels = p.kept_sizes.back();
  const float count = static_cast<float>(p.reduced_count);
  mean_walk_outer(p, [&](int64_t in_base, int64_t out_base) {
    for_blocks(F32Widths{}, channels, [&](auto ops, int64_t c) {
      using O = decltype(ops);
      typename O::V sum = O::zero();
      for (int64_t r = 0; r < p.reduced_count; ++r) sum = O::add(sum, O::load(input + in_base + reduced_offset(p, r) + c));
      O::store(output + out_base + c, O::div(sum, O::set1(count)));
    });
  });
}

inline void mean(const MeanParams& p, const int8_t* input, int8_t* output) {
  const int64_t channels = p.kept_sizes.back();
  mean_walk_outer(p, [&](int64_t in_base, int64_t out_base) {
    for_blocks(I32Widths{}, channels, [&](auto ops, int64_t c) {
      using O = decltype(ops);
      typename O::V sum = O::zero();
      for (int64_t r = 0; r < p.reduced_count; ++r) {
        sum = O::add(sum, O::load_widen(input + in_base + reduced_offset(p, r) + c));
      }
      int32_t sums[O::kLanes];
      O::store(sums, sum);
      for (int j = 0; j < O::kLanes; ++j) output[out_base + c + j] = ::ptq::pool_ops::mean_requantize(p, sums[j]);
    });
  });
}

}  // namespace pool_walk

// The level's entry points, as a type kernels/pool.hpp's dispatch can pass around.
struct Level {
  static void max_pool(const PoolParams& p, const int8_t* x, int8_t* y) { pool_walk::max_pool(p, x, y); }
  static void max_pool(const PoolParams& p, const float* x, float* y) { pool_walk::max_pool(p, x, y); }
  static void average_pool(const PoolParams& p, const int8_t* x, int8_t* y) { pool_walk::average_pool(p, x, y); }
  static void average_pool(const PoolParams& p, const float* x, float* y) { pool_walk::average_pool(p, x, y); }
  static void mean(const MeanParams& p, const int8_t* x, int8_t* y) { pool_walk::mean(p, x, y); }
  static void mean(const MeanParams& p, const float* x, float* y) { pool_walk::mean(p, x, y); }
};
