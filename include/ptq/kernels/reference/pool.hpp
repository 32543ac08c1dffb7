// reference/pool.hpp: AveragePool2D and MaxPool2D (NHWC, float32 and int8) and Mean (reduction over
// any set of axes, float32 and int8), bit-exact with TFLite's reference kernels.
//
// Pooling (TFLite reference_ops::AveragePool / MaxPool for float, reference_integer_ops::AveragePool /
// MaxPool for int8; kernels/pooling.cc). For batch b, output pixel (oy, ox), channel c, the window
// starts at y0 = oy * stride_h - pad_top, x0 = ox * stride_w - pad_left and covers the taps
// (y0 + fy, x0 + fx), fy < filter_h, fx < filter_w, that lie inside the image (padding is never read):
//   float average:  total = sum of the taps in order (fy outer, fx inner), float;
//                   y = min(max(total / float(count), act_min), act_max)
//   float max:      m = std::max(lowest float, taps...); y = min(max(m, act_min), act_max)
//   int8 average:   acc = sum of the raw int8 taps (int32; no zero point is subtracted: input and
//                   output share their parameters); n = count;
//                   avg = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n   (C++ division truncates: this
//                   is rounding half away from zero); y = clamp(avg, act_min, act_max)
//   int8 max:       m = max(-128, taps...); y = clamp(m, act_min, act_max)
//   - act_min/act_max: the fused activation's range (activation.hpp): calculate_activation_range
//     for float, calculate_activation_range_quantized<int8_t> with the output's parameters for int8.
//   - TFLite's int8 pooling assumes equal input and output parameters (pooling.cc checks them in debug
//     builds); the interpreter's prepare requires them (scale within 1e-6, same zero point).
//   - Output size and padding: compute_padding (core/nn.hpp), TFLite's ComputePaddingHeightWidth.
//     With those, every window has at least one tap; validate() checks that for any padding given.
//
// Mean (TFLite kernels/reduce.cc EvalMean under kReference, reference/reduce.h):
//   float: reference_ops::Mean<float, float>: for each output, sum = the input values it reduces, in
//          increasing input order (row-major), in float; y = sum / float(count).
//   int8:  reference_ops::QuantizedMeanOrSum (compute_sum = false), with the multiplier from
//          PrepareMeanOrSum: (M, shift) = quantize_multiplier(double(s_in) / double(s_out)), then
//          "readapted" to include 1/count:
//            k = min(floor(log2(count)), 32, 31 + shift)
//            M' = int32((int64(M) << k) / count)       (integer division, truncating)
//            shift' = shift - k
//          per output: sum = the raw int8 values it reduces (int32, wrapping);
//            y = clamp(multiply_by_quantized_multiplier(int32(sum - z_in * count), M', shift') + z_out,
//                      -128, 127)
//          (the int64 difference is narrowed to int32 as TFLite's static_cast does; the multiply follows
//          the RoundingMode). This is the one path TFLite's reference kernel takes for int8 in current
//          releases, whatever the parameters and axes.
//   - Axes: any subset of [0, rank), negative values count from the end, duplicates are ignored.
//     An empty axis list copies the input to the output unchanged (ReduceIsCopy, also for int8).
//   - keep_dims only changes the output shape (1 in place of each reduced dim), not the data layout.
//   - An input with no elements gives NaN (float) or 0 (int8) everywhere (InitializeMeanOutput).
//
// Standard library only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/fixed_point.hpp"
#include "ptq/core/fixed_point_math.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN

// ---- pooling ----------------------------------------------------------------------------------

struct PoolParams {
  int64_t batches = 1;
  int64_t input_height = 0, input_width = 0, channels = 0;
  int64_t output_height = 0, output_width = 0;
  int64_t filter_height = 1, filter_width = 1;
  int64_t stride_height = 1, stride_width = 1;
  int64_t pad_top = 0, pad_left = 0;
  // Fused activation clamp: float kernels use the float range, int8 kernels the quantized one.
  float float_activation_min = std::numeric_limits<float>::lowest();
  float float_activation_max = std::numeric_limits<float>::max();
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  int64_t input_size() const { return batches * input_height * input_width * channels; }
  int64_t output_size() const { return batches * output_height * output_width * channels; }

  // Sizes, windows and padding such that every window has at least one tap inside the image.
  Status validate(const std::string& what = "pool2d") const {
    const auto at_least = [&](const char* name, int64_t v, int64_t lo) -> Status {
      if (v < lo) {
        return invalid_argument(what + ": " + name + " = " + std::to_string(v) + " must be >= " + std::to_string(lo));
      }
      return {};
    };
    PTQ_RETURN_IF_ERROR(at_least("batches", batches, 0));
    PTQ_RETURN_IF_ERROR(at_least("input_height", input_height, 0));
    PTQ_RETURN_IF_ERROR(at_least("input_width", input_width, 0));
    PTQ_RETURN_IF_ERROR(at_least("channels", channels, 0));
    PTQ_RETURN_IF_ERROR(at_least("output_height", output_height, 0));
    PTQ_RETURN_IF_ERROR(at_least("output_width", output_width, 0));
    PTQ_RETURN_IF_ERROR(at_least("filter_height", filter_height, 1));
    PTQ_RETURN_IF_ERROR(at_least("filter_width", filter_width, 1));
    PTQ_RETURN_IF_ERROR(at_least("stride_height", stride_height, 1));
    PTQ_RETURN_IF_ERROR(at_least("stride_width", stride_width, 1));
    PTQ_RETURN_IF_ERROR(at_least("pad_top", pad_top, 0));
    PTQ_RETURN_IF_ERROR(at_least("pad_left", pad_left, 0));
    // Window rows [oy * s - pad, oy * s - pad + f) must meet [0, in) for every oy: the first window
    // must reach row 0 and the last must start inside the image (both are monotonic in oy).
    const auto windows_meet_image = [&](const char* dim, int64_t out, int64_t in, int64_t filter, int64_t stride,
                                        int64_t pad) -> Status {
      if (out == 0) return {};
      if (pad >= filter || (out - 1) * stride - pad >= in) {
        return invalid_argument(what + ": a window along " + dim + " lies entirely in the padding (input " +
                                std::to_string(in) + ", output " + std::to_string(out) + ", filter " +
                                std::to_string(filter) + ", stride " + std::to_string(stride) + ", padding " +
                                std::to_string(pad) + ")");
      }
      return {};
    };
    PTQ_RETURN_IF_ERROR(windows_meet_image("height", output_height, input_height, filter_height, stride_height, pad_top));
    PTQ_RETURN_IF_ERROR(windows_meet_image("width", output_width, input_width, filter_width, stride_width, pad_left));
    return {};
  }

  Status validate_quantized(const std::string& what = "pool2d") const {
    PTQ_RETURN_IF_ERROR(validate(what));
    return reference::detail::check_activation_range<int8_t>(what, activation_min, activation_max);
  }
};

// A PoolParams with TFLite's output size and padding (compute_padding) and no activation clamp.
inline PoolParams make_pool_params(Padding padding, int64_t batches, int64_t input_height, int64_t input_width,
                                   int64_t channels, int64_t filter_height, int64_t filter_width,
                                   int64_t stride_height, int64_t stride_width) {
  const ConvPadding pad =
      compute_padding(padding, input_height, input_width, filter_height, filter_width, stride_height, stride_width);
  PoolParams p;
  p.batches = batches;
  p.input_height = input_height;
  p.input_width = input_width;
  p.channels = channels;
  p.output_height = pad.output_height;
  p.output_width = pad.output_width;
  p.filter_height = filter_height;
  p.filter_width = filter_width;
  p.stride_height = stride_height;
  p.stride_width = stride_width;
  p.pad_top = pad.top;
  p.pad_left = pad.left;
  return p;
}

namespace reference {
namespace detail {

// Calls visit(input_offset) for every in-image tap of output pixel (b, oy, ox), channel c, in TFLite's
// order (fy outer, fx inner); offsets are element offsets into the NHWC input.
template <class Visit>
inline void for_each_tap(const PoolParams& p, int64_t b, int64_t oy, int64_t ox, int64_t c, Visit visit) {
  const int64_t y0 = oy * p.stride_height - p.pad_top;
  const int64_t x0 = ox * p.stride_width - p.pad_left;
  const int64_t fy_begin = std::max<int64_t>(0, -y0);
  const int64_t fy_end = std::min(p.filter_height, p.input_height - y0);
  const int64_t fx_begin = std::max<int64_t>(0, -x0);
  const int64_t fx_end = std::min(p.filter_width, p.input_width - x0);
  for (int64_t fy = fy_begin; fy < fy_end; ++fy) {
    for (int64_t fx = fx_begin; fx < fx_end; ++fx) {
      visit(((b * p.input_height + (y0 + fy)) * p.input_width + (x0 + fx)) * p.channels + c);
    }
  }
}

// Runs `pixel(b, oy, ox, c)` for every output element and stores its result, NHWC order.
template <class T, class Pixel>
inline void for_each_output(const PoolParams& p, T* output, Pixel pixel) {
  for (int64_t b = 0; b < p.batches; ++b) {
    for (int64_t oy = 0; oy < p.output_height; ++oy) {
      for (int64_t ox = 0; ox < p.output_width; ++ox) {
        T* out = output + ((b * p.output_height + oy) * p.output_width + ox) * p.channels;
        for (int64_t c = 0; c < p.channels; ++c) out[c] = pixel(b, oy, ox, c);
      }
    }
  }
}

}  // namespace detail

// reference_ops::AveragePool (float). Precondition: p.validate() is ok.
inline void average_pool(const PoolParams& p, const float* input, float* output) {
  detail::for_each_output(p, output, [&](int64_t b, int64_t oy, int64_t ox, int64_t c) {
    float total = 0.0f;
    float count = 0.0f;
    detail::for_each_tap(p, b, oy, ox, c, [&](int64_t i) {
      total += input[i];
      count += 1.0f;
    });
    return activation_with_min_max(total / count, p.float_activation_min, p.float_activation_max);
  });
}

// reference_ops::MaxPool (float). Precondition: p.validate() is ok.
inline void max_pool(const PoolParams& p, const float* input, float* output) {
  detail::for_each_output(p, output, [&](int64_t b, int64_t oy, int64_t ox, int64_t c) {
    float max = std::numeric_limits<float>::lowest();
    detail::for_each_tap(p, b, oy, ox, c, [&](int64_t i) { max = std::max(max, input[i]); });
    return activation_with_min_max(max, p.float_activation_min, p.float_activation_max);
  });
}

// The integer element types of TFLite's quantized pooling and mean: int8, and int16 (16x8 scheme).
template <class T>
using EnableIfPoolInt = std::enable_if_t<std::is_same<T, int8_t>::value || std::is_same<T, int16_t>::value>;

// reference_integer_ops::AveragePool (its int8 and int16 overloads). Precondition:
// p.validate_quantized() is ok (int16: validate_pool_16x8, whose 2^16-tap limit keeps the sum exact).
template <class T, class = EnableIfPoolInt<T>>
inline void average_pool(const PoolParams& p, const T* input, T* output) {
  detail::for_each_output(p, output, [&](int64_t b, int64_t oy, int64_t ox, int64_t c) {
    int32_t acc = 0;
    int32_t count = 0;
    detail::for_each_tap(p, b, oy, ox, c, [&](int64_t i) {
      acc = wrapping_add(acc, input[i]);
      ++count;
    });
    PTQ_DCHECK(count > 0, "average_pool: a window without taps (call validate())");
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return static_cast<T>(std::min(std::max(acc, p.activation_min), p.activation_max));
  });
}

// reference_integer_ops::MaxPool (int8 and int16). Precondition: as average_pool.
template <class T, class = EnableIfPoolInt<T>>
inline void max_pool(const PoolParams& p, const T* input, T* output) {
  detail::for_each_output(p, output, [&](int64_t b, int64_t oy, int64_t ox, int64_t c) {
    int32_t max = std::numeric_limits<T>::lowest();
    detail::for_each_tap(p, b, oy, ox, c, [&](int64_t i) { max = std::max<int32_t>(max, input[i]); });
    return static_cast<T>(std::min(std::max(max, p.activation_min), p.activation_max));
  });
}

}  // namespace reference

// ---- mean -------------------------------------------------------------------------------------

// A reduction laid out for the kernel: the input's dims folded so that runs of adjacent kept dims and
// runs of adjacent reduced dims are one dim each (as TFLite's ResolveAxis does), split into the kept
// dims (which index the output, in order) and the reduced ones, with input element strides.
struct MeanParams {
  std::vector<int64_t> kept_sizes, kept_strides;        // outermost first
  std::vector<int64_t> reduced_sizes, reduced_strides;  // outermost first
  int64_t num_outputs = 1;    // product of the kept sizes
  int64_t reduced_count = 1;  // elements per output (product of the reduced sizes)
  int64_t input_size = 1;     // all input elements
  bool copy = false;          // empty axis list: y = x (ReduceIsCopy)

  // int8 (set_mean_quantization fills these).
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier multiplier;  // already divided by reduced_count (see the header)
  RoundingMode rounding = kDefaultRounding;
};

// Resolves `axes` against `input` (negative axes from the end, duplicates ignored) and folds the dims.
// Errors name the offending axis.
inline Result<MeanParams> make_mean_params(const Shape& input, const std::vector<int32_t>& axes) {
  const int rank = input.rank();
  std::vector<bool> reduced(static_cast<std::size_t>(rank), false);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const int32_t a = axes[i];
    if (a < -rank || a >= rank) {
      return invalid_argument("mean: axes[" + std::to_string(i) + "] = " + std::to_string(a) +
                              " is outside [" + std::to_string(-rank) + ", " + std::to_string(rank) +
                              ") for an input of rank " + std::to_string(rank));
    }
    reduced[static_cast<std::size_t>(a < 0 ? a + rank : a)] = true;
  }
  for (int d = 0; d < rank; ++d) {
    if (input[d] < 0) return invalid_argument("mean: input dim " + std::to_string(d) + " is negative");
  }
  MeanParams p;
  p.copy = axes.empty();
  p.input_size = input.num_elements();
  // Fold from the innermost dim outwards, tracking the element stride of each folded dim.
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  std::vector<bool> kinds;
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    const bool r = reduced[static_cast<std::size_t>(d)];
    if (!kinds.empty() && kinds.back() == r) {
      sizes.back() *= input[d];
    } else {
      sizes.push_back(input[d]);
      strides.push_back(stride);
      kinds.push_back(r);
    }
    stride *= input[d];
  }
  for (std::size_t i = sizes.size(); i-- > 0;) {  // back to outermost first
    if (kinds[i]) {
      p.reduced_sizes.push_back(sizes[i]);
      p.reduced_strides.push_back(strides[i]);
      p.reduced_count *= sizes[i];
    } else {
      p.kept_sizes.push_back(sizes[i]);
      p.kept_strides.push_back(strides[i]);
      p.num_outputs *= sizes[i];
    }
  }
  return p;
}

// PrepareMeanOrSum's multiplier, readapted by QuantizedMeanOrSum to include 1 / reduced_count.
// Preconditions: scales finite and positive.
inline void set_mean_quantization(MeanParams* p, QuantParams input, QuantParams output,
                                  RoundingMode rounding = kDefaultRounding) {
  PTQ_DCHECK(input.scale > 0.0f && output.scale > 0.0f, "set_mean_quantization: scales must be positive");
  p->input_zero_point = input.zero_point;
  p->output_zero_point = output.zero_point;
  p->rounding = rounding;
  QuantizedMultiplier m =
      quantize_multiplier(static_cast<double>(input.scale) / static_cast<double>(output.scale), rounding);
  const int64_t count = p->reduced_count;
  if (count > 0) {
    int k = 63;
    while (k > 0 && !((static_cast<uint64_t>(count) >> k) & 1u)) --k;  // floor(log2(count))
    k = std::min(k, 32);
    k = std::min(k, 31 + m.shift);
    m.multiplier = static_cast<int32_t>((static_cast<int64_t>(m.multiplier) << k) / count);
    m.shift -= k;
  }
  p->multiplier = m;
}

namespace reference {
namespace detail {

// Input offset of output index o (kept dims) or of reduced index r (reduced dims).
inline int64_t folded_offset(int64_t index, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
  int64_t offset = 0;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    offset += (index % sizes[d]) * strides[d];
    index /= sizes[d];
  }
  return offset;
}

}  // namespace detail

// reference_ops::Mean<float, float>. Precondition: p from make_mean_params for the input's shape.
inline void mean(const MeanParams& p, const float* input, float* output) {
  if (p.copy) {
    for (int64_t i = 0; i < p.input_size; ++i) output[i] = input[i];
    return;
  }
  for (int64_t o = 0; o < p.num_outputs; ++o) {
    if (p.input_size == 0) {
      output[o] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    const float* base = input + detail::folded_offset(o, p.kept_sizes, p.kept_strides);
    float sum = 0.0f;
    for (int64_t r = 0; r < p.reduced_count; ++r) sum += base[detail::folded_offset(r, p.reduced_sizes, p.reduced_strides)];
    output[o] = sum / static_cast<float>(p.reduced_count);
  }
}

// reference_ops::QuantizedMeanOrSum<T, int32_t> (mean), T = int8_t or int16_t. Precondition: p from
// make_mean_params and set_mean_quantization.
template <class T, class = EnableIfPoolInt<T>>
inline void mean(const MeanParams& p, const T* input, T* output) {
  if (p.copy) {
    for (int64_t i = 0; i < p.input_size; ++i) output[i] = input[i];
    return;
  }
  for (int64_t o = 0; o < p.num_outputs; ++o) {
    if (p.input_size == 0) {
      output[o] = 0;
      continue;
    }
    const T* base = input + detail::folded_offset(o, p.kept_sizes, p.kept_strides);
    int32_t sum = 0;
    for (int64_t r = 0; r < p.reduced_count; ++r) {
      sum = wrapping_add(sum, base[detail::folded_offset(r, p.reduced_sizes, p.reduced_strides)]);
    }
    const int32_t shifted_sum =
        static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(sum) -
                                                   static_cast<int64_t>(p.input_zero_point) * p.reduced_count));
    const int64_t y = static_cast<int64_t>(multiply_by_quantized_multiplier(shifted_sum, p.multiplier, p.rounding)) +
                      p.output_zero_point;
    output[o] = static_cast<T>(std::min<int64_t>(std::max<int64_t>(y, quant_min<T>()), quant_max<T>()));
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
