// reference/data.hpp: data movement -- transpose, concatenation (with TFLite's requantizing form) and
// constant padding -- scalar and readable.
//
// Layouts are row-major, outermost dimension first. Ranks go up to kMaxDataRank = 6 (TFLite's
// Transpose limit; its Pad stops at 5). Every kernel moves elements without looking at them except
// where stated, so one instantiation per element size serves every dtype of that size (a float
// moved as uint32_t keeps its bits, NaN payloads and -0.0 included).
//
// transpose (reference_ops::Transpose): output dim i is input dim perm[i], and
//   out[i_0, ..., i_{r-1}] = in[j] with j_{perm[d]} = i_d.
//
// concatenation (reference_ops::Concatenation): the inputs are glued along `axis`; with outer =
//   product of the dims before the axis and inner = product of the dims after it, output block k
//   (k < outer) is input 0's block k (axis_size_0 * inner elements), then input 1's block k, ...
//   Float version: an optional fused activation clamps every element,
//     y = min(max(x, lo), hi)  (ActivationFunctionWithMinMax; TFLite's CONCATENATION rejects fused
//     activations in Prepare, so this is ptq's extension; kNone leaves the bits untouched).
//   Quantized version (int8, uint8, int16), following reference_ops::ConcatenationWithScaling, which
//   TFLite runs for uint8 (its int8 kernel requires every input to share the output's parameters;
//   ptq applies the uint8 arithmetic to all three types, which is the same thing where TFLite's int8
//   kernel is defined). Per input i:
//     input params == output params (scale and zero point equal): the block is copied.
//     otherwise, all in float:  inv   = 1.0f / out_scale
//                               scale = in_scale[i] * inv
//                               bias  = float(-in_zp[i]) * scale
//                               y     = int32(round(float(q) * scale + bias)) + out_zp
//     with round = std::round (TfLiteRound, ties away from zero). The product is rounded to float
//     before the sum (never an FMA, whatever -ffp-contract the including TU uses), as in TFLite's
//     build. y is clamped to [act_min, act_max]: T's range, or the fused activation's clamp
//     (calculate_activation_range_quantized; again ptq's extension), which also clamps copied blocks.
//     The float is clamped to that range before the conversion to int32, which equals clamping after
//     rounding (the bounds minus out_zp are integers) and keeps huge ratios defined.
//
// pad (reference_ops::Pad, constant mode): out has dims in[d] + before[d] + after[d]; an element
//   whose index minus before[d] lies inside the input in every dim d is copied from there, every
//   other element is `pad_value` (TFLite PAD: 0 for float, the output zero point for quantized
//   tensors; chosen by the caller). Paddings are non-negative, as TFLite requires.
//
// Standard library only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/kernels/reference/activation.hpp"

PTQ_NAMESPACE_BEGIN

inline constexpr int kMaxDataRank = 6;

namespace reference {
namespace data_detail {

// a * b rounded to float, kept out of any FMA contraction with a following add: the empty asm
// statement makes the product an opaque value the compiler cannot fuse.
inline float unfused_mul(float a, float b) {
  float p = a * b;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(p));
#elif defined(__GNUC__) && (defined(__aarch64__) || defined(__ARM_NEON))
  __asm__("" : "+w"(p));
#else
  volatile float v = p;
  p = v;
#endif
  return p;
}

inline Status check_rank(const std::string& what, int rank) {
  if (rank < 0 || rank > kMaxDataRank) {
    return invalid_argument(what + ": rank " + std::to_string(rank) + " is outside [0, " +
                            std::to_string(kMaxDataRank) + "]");
  }
  return {};
}

inline Status check_dims(const std::string& what, const char* name, const int64_t* dims, int rank) {
  for (int d = 0; d < rank; ++d) {
    if (dims[d] < 0) {
      return invalid_argument(what + ": " + name + "[" + std::to_string(d) + "] = " + std::to_string(dims[d]) +
                              " is negative");
    }
  }
  return {};
}

}  // namespace data_detail
}  // namespace reference

// ---- transpose ---------------------------------------------------------------------------------

struct TransposeParams {
  int rank = 0;
  int64_t input_dims[kMaxDataRank] = {};
  int32_t perm[kMaxDataRank] = {};  // output dim i is input dim perm[i]

  // Fills the fields from an input shape and a permutation, then validates them.
  static Result<TransposeParams> make(const Shape& input, const std::vector<int32_t>& perm) {
    TransposeParams p;
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_rank("transpose", input.rank()));
    if (static_cast<int>(perm.size()) != input.rank()) {
      return invalid_argument("transpose: perm has " + std::to_string(perm.size()) + " entries for an input of rank " +
                              std::to_string(input.rank()));
    }
    p.rank = input.rank();
    for (int d = 0; d < p.rank; ++d) {
      p.input_dims[d] = input[d];
      p.perm[d] = perm[static_cast<std::size_t>(d)];
    }
    PTQ_RETURN_IF_ERROR(p.validate());
    return p;
  }

  int64_t output_dim(int i) const { return input_dims[perm[i]]; }
  Shape output_shape() const {
    std::vector<int64_t> dims(static_cast<std::size_t>(rank));
    for (int i = 0; i < rank; ++i) dims[static_cast<std::size_t>(i)] = output_dim(i);
    return Shape(std::move(dims));
  }
  int64_t num_elements() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= input_dims[d];
    return n;
  }

  // Rank in [0, 6], non-negative dims, perm a permutation of [0, rank).
  Status validate() const {
    const std::string what = "transpose";
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_rank(what, rank));
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_dims(what, "input_dims", input_dims, rank));
    bool seen[kMaxDataRank] = {};
    for (int i = 0; i < rank; ++i) {
      if (perm[i] < 0 || perm[i] >= rank) {
        return invalid_argument(what + ": perm[" + std::to_string(i) + "] = " + std::to_string(perm[i]) +
                                " is outside [0, " + std::to_string(rank - 1) + "]");
      }
      if (seen[perm[i]]) {
        return invalid_argument(what + ": perm[" + std::to_string(i) + "] = " + std::to_string(perm[i]) +
                                " repeats an earlier entry; perm must be a permutation");
      }
      seen[perm[i]] = true;
    }
    return {};
  }
};

namespace reference {

// reference_ops::Transpose for any element type (use the unsigned type of the element's size).
// Walks the output in memory order, keeping the matching input offset up to date.
// Preconditions: p.validate() is ok; input and output do not overlap.
template <class T>
void transpose(const TransposeParams& p, const T* PTQ_RESTRICT input, T* PTQ_RESTRICT output) {
  PTQ_DCHECK(p.rank >= 0 && p.rank <= kMaxDataRank, "transpose: bad rank (call validate())");
  const int64_t n = p.num_elements();
  if (n == 0) return;
  // Input strides, and for each output dim the input stride it advances by.
  int64_t input_stride[kMaxDataRank] = {};
  int64_t stride = 1;
  for (int d = p.rank - 1; d >= 0; --d) {
    input_stride[d] = stride;
    stride *= p.input_dims[d];
  }
  int64_t step[kMaxDataRank] = {}, extent[kMaxDataRank] = {}, index[kMaxDataRank] = {};
  for (int i = 0; i < p.rank; ++i) {
    step[i] = input_stride[p.perm[i]];
    extent[i] = p.output_dim(i);
  }
  int64_t from = 0;
  for (int64_t at = 0; at < n; ++at) {
    output[at] = input[from];
    // Odometer over the output index, innermost dim fastest.
    for (int i = p.rank - 1; i >= 0; --i) {
      if (++index[i] < extent[i]) {
        from += step[i];
        break;
      }
      from -= step[i] * (extent[i] - 1);
      index[i] = 0;
    }
  }
}

}  // namespace reference

// ---- concatenation -----------------------------------------------------------------------------

struct ConcatenationParams {
  int64_t outer_size = 1;           // product of the dims before the axis
  int64_t inner_size = 1;           // product of the dims after the axis
  std::vector<int64_t> axis_sizes;  // each input's extent along the axis (one entry per input)

  // Quantized version only: each input's parameters, the output's, and the clamp.
  std::vector<QuantParams> input_params;
  QuantParams output_params;
  int32_t activation_min = -128;
  int32_t activation_max = 127;

  // Fills the geometry from the input shapes and the axis (negative counts from the end, as in
  // TFLite), checking that ranks match and every dim but the axis agrees. The message names the
  // input by position.
  static Result<ConcatenationParams> make(const std::vector<Shape>& inputs, int32_t axis) {
    const std::string what = "concatenation";
    if (inputs.empty()) return invalid_argument(what + ": no inputs");
    const Shape& first = inputs[0];
    const int rank = first.rank();
    if (rank == 0) return invalid_argument(what + ": input 0 is a scalar (rank 0); nothing to concatenate along");
    const int32_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      return invalid_argument(what + ": axis " + std::to_string(axis) + " is outside [" + std::to_string(-rank) + ", " +
                              std::to_string(rank - 1) + "] for rank " + std::to_string(rank));
    }
    ConcatenationParams p;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Shape& s = inputs[i];
      if (s.rank() != rank) {
        return invalid_argument(what + ": input " + std::to_string(i) + " has rank " + std::to_string(s.rank()) +
                                "; input 0 has rank " + std::to_string(rank));
      }
      for (int d = 0; d < rank; ++d) {
        if (s[d] < 0) {
          return invalid_argument(what + ": input " + std::to_string(i) + " has a negative dim in " + s.to_string());
        }
        if (d != a && s[d] != first[d]) {
          return invalid_argument(what + ": input " + std::to_string(i) + " " + s.to_string() +
                                  " differs from input 0 " + first.to_string() + " in dim " + std::to_string(d) +
                                  " (axis is " + std::to_string(a) + ")");
        }
      }
      p.axis_sizes.push_back(s[a]);
    }
    p.outer_size = first.flat_size(0, a);
    p.inner_size = first.flat_size(a + 1, rank);
    return p;
  }

  // The output's extent along the axis.
  int64_t output_axis_size() const {
    int64_t n = 0;
    for (int64_t s : axis_sizes) n += s;
    return n;
  }

  Status validate() const {
    const std::string what = "concatenation";
    if (outer_size < 0 || inner_size < 0) return invalid_argument(what + ": negative outer or inner size");
    if (axis_sizes.empty()) return invalid_argument(what + ": no inputs");
    for (std::size_t i = 0; i < axis_sizes.size(); ++i) {
      if (axis_sizes[i] < 0) {
        return invalid_argument(what + ": axis_sizes[" + std::to_string(i) + "] = " + std::to_string(axis_sizes[i]) +
                                " is negative");
      }
    }
    return {};
  }

  // What concatenation_quantized<T> assumes besides validate(): one parameter pair per input with
  // zero points in T's range and finite non-negative scales, an output scale that is finite and
  // positive, every ratio in_scale * (1 / out_scale) finite, and a clamp inside T's range.
  template <class T>
  Status validate_quantized() const {
    const std::string what = "concatenation";
    PTQ_RETURN_IF_ERROR(validate());
    if (input_params.size() != axis_sizes.size()) {
      return invalid_argument(what + ": input_params has " + std::to_string(input_params.size()) + " entries for " +
                              std::to_string(axis_sizes.size()) + " inputs");
    }
    PTQ_RETURN_IF_ERROR(validate_quant_params<T>(output_params, what + ": output"));
    if (!(output_params.scale > 0.0f)) {
      return invalid_argument(what + ": output scale " + std::to_string(output_params.scale) + " is not positive");
    }
    const float inverse_output_scale = 1.0f / output_params.scale;
    for (std::size_t i = 0; i < input_params.size(); ++i) {
      PTQ_RETURN_IF_ERROR(validate_quant_params<T>(input_params[i], what + ": input " + std::to_string(i)));
      if (!std::isfinite(input_params[i].scale * inverse_output_scale)) {
        return invalid_argument(what + ": input " + std::to_string(i) + " scale " +
                                std::to_string(input_params[i].scale) + " over output scale " +
                                std::to_string(output_params.scale) + " overflows float");
      }
    }
    return reference::detail::check_activation_range<T>(what, activation_min, activation_max);
  }
};

namespace reference {

// reference_ops::Concatenation for any element type: block copies, no arithmetic.
// Preconditions: p.validate() is ok; inputs[i] holds outer * axis_sizes[i] * inner elements; the
// output holds outer * output_axis_size() * inner and overlaps no input.
template <class T>
void concatenation(const ConcatenationParams& p, const T* const* inputs, T* output) {
  T* out = output;
  for (int64_t k = 0; k < p.outer_size; ++k) {
    for (std::size_t i = 0; i < p.axis_sizes.size(); ++i) {
      const int64_t block = p.axis_sizes[i] * p.inner_size;
      if (block > 0) std::memcpy(out, inputs[i] + k * block, static_cast<std::size_t>(block) * sizeof(T));
      out += block;
    }
  }
}

// Float concatenation with the fused activation's clamp (see the header). kNone is a plain copy.
inline void concatenation_float(const ConcatenationParams& p, const float* const* inputs, float* output,
                                FusedActivation activation) {
  concatenation<float>(p, inputs, output);
  if (activation == FusedActivation::kNone) return;
  const FloatActivationRange r = calculate_activation_range(activation);
  const int64_t n = p.outer_size * p.output_axis_size() * p.inner_size;
  for (int64_t j = 0; j < n; ++j) output[j] = activation_with_min_max(output[j], r.min, r.max);
}

// reference_ops::ConcatenationWithScaling for T in {int8_t, uint8_t, int16_t}, with the clamp
// [activation_min, activation_max]. Preconditions: p.validate_quantized<T>() is ok; sizes as for
// concatenation().
template <class T>
void concatenation_quantized(const ConcatenationParams& p, const T* const* inputs, T* output) {
  PTQ_DCHECK(p.input_params.size() == p.axis_sizes.size(), "concatenation_quantized: call validate_quantized()");
  const bool full_range = p.activation_min <= quant_min<T>() && p.activation_max >= quant_max<T>();
  const float inverse_output_scale = 1.0f / p.output_params.scale;
  const int32_t out_zp = p.output_params.zero_point;
  // The clamp, as float bounds on round()'s argument (integers, so clamping first is exact).
  const float lo = static_cast<float>(p.activation_min - out_zp);
  const float hi = static_cast<float>(p.activation_max - out_zp);
  T* out = output;
  for (int64_t k = 0; k < p.outer_size; ++k) {
    for (std::size_t i = 0; i < p.axis_sizes.size(); ++i) {
      const int64_t block = p.axis_sizes[i] * p.inner_size;
      const T* in = inputs[i] + k * block;
      const QuantParams ip = p.input_params[i];
      if (ip.scale == p.output_params.scale && ip.zero_point == out_zp) {
        if (full_range) {
          if (block > 0) std::memcpy(out, in, static_cast<std::size_t>(block) * sizeof(T));
        } else {
          for (int64_t j = 0; j < block; ++j) {
            out[j] = static_cast<T>(detail::clamp_to(in[j], p.activation_min, p.activation_max));
          }
        }
      } else {
        const float scale = ip.scale * inverse_output_scale;
        const float bias = static_cast<float>(-ip.zero_point) * scale;
        for (int64_t j = 0; j < block; ++j) {
          float v = data_detail::unfused_mul(static_cast<float>(in[j]), scale) + bias;
          v = std::round(v);
          v = std::min(std::max(v, lo), hi);
          out[j] = static_cast<T>(static_cast<int32_t>(v) + out_zp);
        }
      }
      out += block;
    }
  }
}

}  // namespace reference

// ---- pad ---------------------------------------------------------------------------------------

struct PadParams {
  int rank = 0;
  int64_t input_dims[kMaxDataRank] = {};
  int64_t before[kMaxDataRank] = {};
  int64_t after[kMaxDataRank] = {};

  // From an input shape and 2 * rank paddings (before and after for each dim, in dim order, as the
  // IR's `paddings` attribute and TFLite's [rank, 2] paddings tensor hold them).
  static Result<PadParams> make(const Shape& input, const std::vector<int64_t>& paddings) {
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_rank("pad", input.rank()));
    if (paddings.size() != 2 * static_cast<std::size_t>(input.rank())) {
      return invalid_argument("pad: paddings has " + std::to_string(paddings.size()) +
                              " entries; expected 2 * rank = " + std::to_string(2 * input.rank()));
    }
    PadParams p;
    p.rank = input.rank();
    for (int d = 0; d < p.rank; ++d) {
      p.input_dims[d] = input[d];
      p.before[d] = paddings[2 * static_cast<std::size_t>(d)];
      p.after[d] = paddings[2 * static_cast<std::size_t>(d) + 1];
    }
    PTQ_RETURN_IF_ERROR(p.validate());
    return p;
  }

  int64_t output_dim(int d) const { return before[d] + input_dims[d] + after[d]; }
  Shape output_shape() const {
    std::vector<int64_t> dims(static_cast<std::size_t>(rank));
    for (int d = 0; d < rank; ++d) dims[static_cast<std::size_t>(d)] = output_dim(d);
    return Shape(std::move(dims));
  }

  // Rank in [0, 6], non-negative dims and paddings (TFLite: "Pad value has to be greater than
  // equal to 0").
  Status validate() const {
    const std::string what = "pad";
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_rank(what, rank));
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_dims(what, "input_dims", input_dims, rank));
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_dims(what, "before", before, rank));
    PTQ_RETURN_IF_ERROR(reference::data_detail::check_dims(what, "after", after, rank));
    return {};
  }
};

namespace reference {
namespace data_detail {

// Writes the output sub-block of dim d and below; in/out point at the block's first element.
// out_stride[d] / in_stride[d]: elements in one step of dim d.
template <class T>
void pad_block(const PadParams& p, int d, const int64_t* in_stride, const int64_t* out_stride, const T* in, T pad_value,
               T* out) {
  const int64_t before = p.before[d] * out_stride[d];
  const int64_t after = p.after[d] * out_stride[d];
  std::fill(out, out + before, pad_value);
  out += before;
  if (d == p.rank - 1) {
    std::copy(in, in + p.input_dims[d], out);
    out += p.input_dims[d];
  } else {
    for (int64_t i = 0; i < p.input_dims[d]; ++i) {
      pad_block(p, d + 1, in_stride, out_stride, in + i * in_stride[d], pad_value, out);
      out += out_stride[d];
    }
  }
  std::fill(out, out + after, pad_value);
}

}  // namespace data_detail

// reference_ops::Pad (constant): see the header. Preconditions: p.validate() is ok; input holds the
// product of input_dims, output the product of the output dims, and they do not overlap.
template <class T>
void pad(const PadParams& p, const T* PTQ_RESTRICT input, T pad_value, T* PTQ_RESTRICT output) {
  if (p.rank == 0) {
    output[0] = input[0];
    return;
  }
  int64_t in_stride[kMaxDataRank] = {}, out_stride[kMaxDataRank] = {};
  int64_t in_n = 1, out_n = 1;
  for (int d = p.rank - 1; d >= 0; --d) {
    in_stride[d] = in_n;
    out_stride[d] = out_n;
    in_n *= p.input_dims[d];
    out_n *= p.output_dim(d);
  }
  if (in_n == 0) {  // nothing to copy: the whole output is padding
    std::fill(output, output + out_n, pad_value);
    return;
  }
  data_detail::pad_block(p, 0, in_stride, out_stride, input, pad_value, output);
}

}  // namespace reference
PTQ_NAMESPACE_END
