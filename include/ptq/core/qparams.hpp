// qparams.hpp: quantization parameters and how to choose them from a real range.
//
// The affine map of the spec:  real = (q - zero_point) * scale.
//
// Asymmetric (activations, uint8 legacy): tflite::ChooseQuantizationParams. The range is first
// widened to contain 0, then
//     scale      = (rmax - rmin) / (qmax - qmin)                                   (double)
//     zp_real    = qmin - rmin / scale   or   qmax - rmax / scale, whichever adds the smaller terms
//     zero_point = clamp(round(zp_real), qmin, qmax)     ("nudging": real 0 is exactly representable)
// A range that is the single point 0 gives scale 0 and zero point 0, as in TFLite; quantizing with
// scale 0 maps every value to the zero point (see kernels/reference/quantize.hpp).
//
// Symmetric (weights, int16 activations): zero point 0 and scale = max(|rmin|, |rmax|) / qmax,
// computed in float like TFLite's converter (GetSymmetricQuantizationParams); int8 weights use the
// narrow range [-127, 127] so that -128 never occurs (which the AVX2 kernels rely on).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;

  float dequantize(int32_t q) const { return static_cast<float>(q - zero_point) * scale; }
  friend bool operator==(const QuantParams& a, const QuantParams& b) {
    return a.scale == b.scale && a.zero_point == b.zero_point;
  }
};

// One (scale, zero point) per index along `axis` (TFLite's quantized_dimension).
struct PerAxisQuantParams {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  int axis = 0;

  std::size_t size() const { return scales.size(); }
  QuantParams at(std::size_t c) const { return {scales[c], zero_points[c]}; }
};

// Checks what every quantize/dequantize kernel assumes: a finite, non-negative scale and a zero
// point inside T's range. `what` names the tensor in the message.
template <class T>
Status validate_quant_params(const QuantParams& p, const std::string& what = "tensor") {
  if (!std::isfinite(p.scale) || p.scale < 0.0f) {
    return invalid_argument(what + ": scale " + std::to_string(p.scale) +
                            " is not a finite non-negative number");
  }
  if (p.zero_point < quant_min<T>() || p.zero_point > quant_max<T>()) {
    return invalid_argument(what + ": zero point " + std::to_string(p.zero_point) +
                            " is outside [" + std::to_string(quant_min<T>()) + ", " +
                            std::to_string(quant_max<T>()) + "]");
  }
  return {};
}

template <class T>
Status validate_quant_params(const PerAxisQuantParams& p, const Shape& shape,
                             const std::string& what = "tensor") {
  if (p.axis < 0 || p.axis >= shape.rank()) {
    return invalid_argument(what + ": quantized axis " + std::to_string(p.axis) +
                            " is outside a shape of rank " + std::to_string(shape.rank()));
  }
  const auto channels = static_cast<std::size_t>(shape[p.axis]);
  if (p.scales.size() != channels || p.zero_points.size() != channels) {
    return invalid_argument(what + ": " + std::to_string(p.scales.size()) + " scales and " +
                            std::to_string(p.zero_points.size()) + " zero points for " +
                            std::to_string(channels) + " channels along axis " +
                            std::to_string(p.axis) + " of " + shape.to_string());
  }
  for (std::size_t c = 0; c < channels; ++c) {
    Status s = validate_quant_params<T>(p.at(c), what + " channel " + std::to_string(c));
    if (!s.ok()) return s;
  }
  return {};
}

// tflite::ChooseQuantizationParams<T>(rmin, rmax, narrow_range), with the range first widened to
// contain 0 (TFLite CHECK-fails instead). Preconditions: rmin, rmax finite and rmin <= rmax.
template <class T>
QuantParams choose_quant_params(double rmin, double rmax, bool narrow_range = false) {
  static_assert(std::is_integral<T>::value && sizeof(T) <= 2, "int8, uint8 or int16");
  PTQ_DCHECK(std::isfinite(rmin) && std::isfinite(rmax) && rmin <= rmax,
             "choose_quant_params: range must be finite and ordered");
  rmin = std::min(rmin, 0.0);
  rmax = std::max(rmax, 0.0);
  const double qmin = quant_min<T>(narrow_range);
  const double qmax = quant_max<T>();
  if (rmin == rmax) return {0.0f, 0};

  const double scale = (rmax - rmin) / (qmax - qmin);
  const double zero_point_from_min = qmin - rmin / scale;
  const double zero_point_from_max = qmax - rmax / scale;
  const double zero_point_from_min_error = std::abs(qmin) + std::abs(rmin / scale);
  const double zero_point_from_max_error = std::abs(qmax) + std::abs(rmax / scale);
  const double zero_point_real = zero_point_from_min_error < zero_point_from_max_error
                                     ? zero_point_from_min
                                     : zero_point_from_max;
  int32_t zero_point;
  if (zero_point_real < qmin) {
    zero_point = static_cast<int32_t>(qmin);
  } else if (zero_point_real > qmax) {
    zero_point = static_cast<int32_t>(qmax);
  } else {
    zero_point = static_cast<int32_t>(std::round(zero_point_real));
  }
  return {static_cast<float>(scale), zero_point};
}

// TensorFlow's FakeQuantWithMinMaxArgs range ("Nudge"): the scale of [min, max] over
// [quant_min, quant_max] = [narrow_range ? 1 : 0, 2^num_bits - 1], the zero point rounded to an
// integer in that range, and the range moved so that real 0 is exactly representable. All in float,
// as TensorFlow computes it. Preconditions: min < max, 2 <= num_bits <= 16.
struct FakeQuantNudged {
  float scale = 1.0f;
  int32_t zero_point = 0;  // in [quant_min, quant_max] (unsigned counting)
  float min = 0.0f, max = 0.0f;
  int32_t quant_min = 0, quant_max = 255;
};

inline FakeQuantNudged fake_quant_nudge(float min, float max, int num_bits, bool narrow_range) {
  PTQ_DCHECK(min < max && num_bits >= 2 && num_bits <= 16, "fake_quant_nudge: min < max, 2..16 bits");
  FakeQuantNudged n;
  n.quant_min = narrow_range ? 1 : 0;
  n.quant_max = (1 << num_bits) - 1;
  const float qmin = static_cast<float>(n.quant_min), qmax = static_cast<float>(n.quant_max);
  n.scale = (max - min) / (qmax - qmin);
  const float zero_point_from_min = qmin - min / n.scale;
  n.zero_point = zero_point_from_min < qmin   ? n.quant_min
                 : zero_point_from_min > qmax ? n.quant_max
                                              : static_cast<int32_t>(std::round(zero_point_from_min));
  n.min = (qmin - static_cast<float>(n.zero_point)) * n.scale;
  n.max = (qmax - static_cast<float>(n.zero_point)) * n.scale;
  return n;
}

// Symmetric parameters: zero point 0, scale = max(|rmin|, |rmax|) / qmax in float (TFLite's
// GetSymmetricQuantizationParams; qmax is 127 for int8, 32767 for int16). All-zero ranges give
// scale 0. Preconditions: finite range.
template <class T>
QuantParams symmetric_quant_params(float rmin, float rmax) {
  static_assert(std::is_signed<T>::value && std::is_integral<T>::value && sizeof(T) <= 2,
                "symmetric quantization is for int8 and int16");
  PTQ_DCHECK(std::isfinite(rmin) && std::isfinite(rmax), "symmetric_quant_params: finite range");
  rmin = std::min(rmin, 0.0f);
  rmax = std::max(rmax, 0.0f);
  const float half_range = std::max(std::abs(rmin), std::abs(rmax));
  return {half_range / static_cast<float>(quant_max<T>()), 0};
}

// Minimum and maximum of each slice along `axis` of a row-major tensor. Empty slices give 0, 0.
struct AxisMinMax {
  std::vector<float> min, max;
};

inline AxisMinMax min_max_per_axis(const float* data, const Shape& shape, int axis) {
  const AxisSplit s = split_at_axis(shape, axis);
  AxisMinMax mm;
  mm.min.assign(static_cast<std::size_t>(s.channels), std::numeric_limits<float>::infinity());
  mm.max.assign(static_cast<std::size_t>(s.channels), -std::numeric_limits<float>::infinity());
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const float* p = data + (o * s.channels + c) * s.inner;
      float lo = mm.min[static_cast<std::size_t>(c)], hi = mm.max[static_cast<std::size_t>(c)];
      for (int64_t i = 0; i < s.inner; ++i) {
        lo = std::min(lo, p[i]);
        hi = std::max(hi, p[i]);
      }
      mm.min[static_cast<std::size_t>(c)] = lo;
      mm.max[static_cast<std::size_t>(c)] = hi;
    }
  }
  for (std::size_t c = 0; c < mm.min.size(); ++c) {
    if (mm.min[c] > mm.max[c]) mm.min[c] = mm.max[c] = 0.0f;  // empty slice
  }
  return mm;
}

// Per-axis parameters from a float tensor: symmetric (weights: TFLite's per-channel scheme,
// zero points 0) or asymmetric (choose_quant_params per slice). Preconditions: finite data,
// axis in [0, rank).
template <class T>
PerAxisQuantParams choose_per_axis_quant_params(const float* data, const Shape& shape, int axis,
                                                bool symmetric, bool narrow_range = false) {
  const AxisMinMax mm = min_max_per_axis(data, shape, axis);
  PerAxisQuantParams p;
  p.axis = axis;
  p.scales.resize(mm.min.size());
  p.zero_points.resize(mm.min.size());
  for (std::size_t c = 0; c < mm.min.size(); ++c) {
    QuantParams q;
    if constexpr (std::is_signed<T>::value) {
      q = symmetric ? symmetric_quant_params<T>(mm.min[c], mm.max[c])
                    : choose_quant_params<T>(mm.min[c], mm.max[c], narrow_range);
    } else {
      PTQ_DCHECK(!symmetric, "choose_per_axis_quant_params: symmetric needs a signed type");
      q = choose_quant_params<T>(mm.min[c], mm.max[c], narrow_range);
    }
    p.scales[c] = q.scale;
    p.zero_points[c] = q.zero_point;
  }
  return p;
}

PTQ_NAMESPACE_END
