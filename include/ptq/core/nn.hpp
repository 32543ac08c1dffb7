// nn.hpp: the layer options every floor shares -- fused activations, padding and the output size
// and padding of a windowed layer (conv, depthwise, pooling) -- as TFLite defines them.
//
// Lives in core so that the model IR (shape inference) and the kernels agree on one definition.
// Standard library only.
#pragma once

#include <cstdint>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN

// TfLiteFusedActivation restricted to the clamps that fuse into int8 kernels.
enum class FusedActivation : uint8_t {
  kNone = 0,
  kRelu = 1,        // [0, inf)
  kRelu6 = 2,       // [0, 6]
  kReluN1To1 = 3,   // [-1, 1]  (TFLite's kTfLiteActReluN1To1, formerly kTfLiteActRelu1)
};

inline const char* fused_activation_name(FusedActivation a) {
  switch (a) {
    case FusedActivation::kNone: return "none";
    case FusedActivation::kRelu: return "relu";
    case FusedActivation::kRelu6: return "relu6";
    case FusedActivation::kReluN1To1: return "relu_n1_to_1";
  }
  return "unknown";
}

// TfLitePadding.
enum class Padding : uint8_t { kSame = 0, kValid = 1 };

// TFLite's output size and padding for one layer (ComputePaddingHeightWidth): `top` and `left` are
// TfLitePaddingValues::height and ::width; `bottom` and `right` add height_offset / width_offset
// (SAME puts the odd pixel at the bottom/right).
struct ConvPadding {
  int64_t output_height = 0, output_width = 0;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

// ComputeOutSize. TFLite lets VALID go negative when the dilated filter exceeds the image (and then
// fails to resize the output); ptq returns 0 there.
inline int64_t conv_out_size(Padding padding, int64_t in, int64_t filter, int64_t stride, int64_t dilation) {
  const int64_t effective_filter = (filter - 1) * dilation + 1;
  const int64_t out = padding == Padding::kSame ? (in + stride - 1) / stride
                                                : (in + stride - effective_filter) / stride;
  return out > 0 ? out : 0;
}

// ComputePaddingWithOffset: total padding, halved; the odd pixel goes after (offset).
inline void conv_padding(int64_t in, int64_t filter, int64_t stride, int64_t dilation, int64_t out,
                         int64_t* before, int64_t* after) {
  const int64_t effective_filter = (filter - 1) * dilation + 1;
  int64_t total = (out - 1) * stride + effective_filter - in;
  total = total > 0 ? total : 0;
  *before = total / 2;
  *after = total / 2 + total % 2;
}

// tflite::ComputePaddingHeightWidth. Preconditions: strides and dilations >= 1, filter dims >= 1.
inline ConvPadding compute_padding(Padding padding, int64_t input_height, int64_t input_width,
                                   int64_t filter_height, int64_t filter_width, int64_t stride_height,
                                   int64_t stride_width, int64_t dilation_height = 1,
                                   int64_t dilation_width = 1) {
  PTQ_DCHECK(stride_height >= 1 && stride_width >= 1 && dilation_height >= 1 && dilation_width >= 1,
             "compute_padding: strides and dilations must be >= 1");
  ConvPadding p;
  p.output_height = conv_out_size(padding, input_height, filter_height, stride_height, dilation_height);
  p.output_width = conv_out_size(padding, input_width, filter_width, stride_width, dilation_width);
  conv_padding(input_height, filter_height, stride_height, dilation_height, p.output_height, &p.top, &p.bottom);
  conv_padding(input_width, filter_width, stride_width, dilation_width, p.output_width,
               &p.left, &p.right);
  return p;
}

PTQ_NAMESPACE_END
