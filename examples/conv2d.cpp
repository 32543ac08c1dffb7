// conv2d.cpp: an int8 3x3 convolution and a depthwise convolution with ptq: prepare once, run many.
//
// Prepare: validate the layer (errors name the culprit), then pack: the convolution's OHWI filter
// becomes the GEMM's packed weights (input zero point and bias folded in) and its im2col scratch
// is sized once; the depthwise filter is interleaved for the channel-vectorized kernel. Run: one
// call per image, no allocation, bit-exact with TFLite's reference kernels (checked here).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "ptq/kernels/conv.hpp"
#include "ptq/kernels/depthwise.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"

int main() {
  const int64_t height = 20, width = 20, channels = 24, filters = 32;
  std::mt19937 rng(1);
  auto int8_in = [&](int lo, int hi) { return static_cast<int8_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1))); };

  // A conv layer as a converter hands it over: OHWI int8 weights with per-channel scales, int32
  // bias, input/output quantization, SAME padding, stride 2, fused ReLU6.
  std::vector<int8_t> weights(static_cast<std::size_t>(filters * 3 * 3 * channels));
  for (auto& w : weights) w = int8_in(-127, 127);
  std::vector<int32_t> bias(static_cast<std::size_t>(filters));
  for (auto& b : bias) b = static_cast<int32_t>(rng() % 4001) - 2000;
  std::vector<float> weight_scales(static_cast<std::size_t>(filters));
  for (auto& s : weight_scales) s = 0.001f + 0.0005f * static_cast<float>(rng() % 10);
  const ptq::QuantParams input{0.05f, -3}, output{0.1f, -128};

  ptq::Conv2DParams conv;
  conv.geometry = ptq::make_conv_geometry(ptq::Padding::kSame, /*batches=*/1, height, width, channels, 3, 3, filters,
                                          /*stride=*/2, 2);
  conv.input_zero_point = input.zero_point;
  conv.output_zero_point = output.zero_point;
  conv.multipliers = ptq::convolution_multipliers(input.scale, weight_scales, output.scale);
  const auto relu6 = ptq::reference::calculate_activation_range_quantized<int8_t>(ptq::FusedActivation::kRelu6, output);
  conv.activation_min = relu6.min;
  conv.activation_max = relu6.max;

  // A depthwise 3x3 on the conv's output, depth multiplier 1.
  const ptq::ConvGeometry& cg = conv.geometry;
  std::vector<int8_t> dw_weights(static_cast<std::size_t>(3 * 3 * filters));
  for (auto& w : dw_weights) w = int8_in(-127, 127);
  ptq::DepthwiseConv2DParams dw;
  dw.geometry = ptq::make_conv_geometry(ptq::Padding::kSame, 1, cg.output_height, cg.output_width, filters, 3, 3, filters);
  dw.input_zero_point = output.zero_point;
  dw.output_zero_point = 0;
  dw.multipliers = ptq::convolution_multipliers(output.scale, std::vector<float>(filters, 0.01f), 0.6f);

  // ---- prepare once ----
  for (const ptq::Status& s : {ptq::validate_conv2d(conv, weights.data()),
                               ptq::validate_depthwise_conv2d(dw, dw_weights.data())}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.to_string().c_str());
      return 1;
    }
  }
  const ptq::PreparedConv2D conv_layer = ptq::prepare_conv2d(conv, weights.data(), bias.data());
  const ptq::PreparedDepthwiseConv2D dw_layer = ptq::prepare_depthwise_conv2d(dw, dw_weights.data(), nullptr);
  std::printf("conv %lldx%lldx%lld -> %lldx%lldx%lld: K = %lld, %s, scratch %zu bytes; level %s\n",
              static_cast<long long>(height), static_cast<long long>(width), static_cast<long long>(channels),
              static_cast<long long>(cg.output_height), static_cast<long long>(cg.output_width),
              static_cast<long long>(filters), static_cast<long long>(conv_layer.group_depth()),
              conv_layer.direct() ? "direct GEMM" : "im2col + GEMM", conv_layer.scratch_bytes(),
              ptq::isa_name(ptq::selected_isa()));

  // ---- run many ----
  std::vector<int8_t> x(static_cast<std::size_t>(cg.input_size()));
  std::vector<int8_t> y(static_cast<std::size_t>(cg.output_size())), y_want(y.size());
  std::vector<int8_t> z(y.size()), z_want(y.size());
  for (int call = 0; call < 3; ++call) {
    for (auto& v : x) v = int8_in(-128, 127);
    ptq::conv2d(conv_layer, x.data(), y.data());
    ptq::depthwise_conv2d(dw_layer, y.data(), z.data());

    ptq::reference::conv2d(conv, x.data(), weights.data(), bias.data(), y_want.data());
    ptq::reference::depthwise_conv2d(dw, y_want.data(), dw_weights.data(), nullptr, z_want.data());
    const bool same = y == y_want && z == z_want;
    const auto [lo, hi] = std::minmax_element(z.begin(), z.end());
    std::printf("call %d: depthwise output in [%d, %d], %s the reference\n", call, int{*lo}, int{*hi},
                same ? "bit-exact with" : "DIFFERENT FROM");
    if (!same) return 1;
  }
  return 0;
}
