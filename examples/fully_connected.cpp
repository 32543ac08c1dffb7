// fully_connected.cpp: an int8 fully connected layer with ptq's GEMM: prepare once, run many.
//
// Prepare: validate the layer (errors name the culprit), then pack the weights for the best
// microkernel this CPU runs; the input zero point and the bias fold into the packed layer.
// Run: one call per batch, no allocation, bit-exact with TFLite's reference kernel (checked here
// against ptq::reference::fully_connected).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "ptq/kernels/gemm/gemm.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"

int main() {
  const int64_t input_depth = 256, units = 64, max_batch = 4;

  // A layer as a converter hands it over: int8 weights [units, input_depth] in [-127, 127] with
  // per-channel scales, int32 bias, activation and output (scale, zero point), fused ReLU.
  std::mt19937 rng(1);
  std::vector<int8_t> weights(static_cast<std::size_t>(units * input_depth));
  for (auto& w : weights) w = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  std::vector<int32_t> bias(static_cast<std::size_t>(units));
  for (auto& b : bias) b = static_cast<int32_t>(rng() % 2001) - 1000;
  std::vector<float> weight_scales(static_cast<std::size_t>(units));
  for (auto& s : weight_scales) s = 0.002f + 0.001f * static_cast<float>(rng() % 10);
  const ptq::QuantParams input{0.05f, -3}, output{0.4f, -128};

  ptq::FullyConnectedParams params;
  params.input_depth = input_depth;
  params.output_depth = units;
  params.input_zero_point = input.zero_point;
  params.output_zero_point = output.zero_point;
  params.multipliers = ptq::fully_connected_multipliers(input.scale, weight_scales, output.scale);
  const auto relu =
      ptq::reference::calculate_activation_range_quantized<int8_t>(ptq::FusedActivation::kRelu, output);
  params.activation_min = relu.min;
  params.activation_max = relu.max;

  // ---- prepare once ----
  if (const ptq::Status s = ptq::gemm::validate(params, weights.data()); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  const ptq::gemm::PackedWeights layer = ptq::gemm::pack_weights(params, weights.data(), bias.data());
  std::printf("packed %lld x %lld for %s\n", static_cast<long long>(units),
              static_cast<long long>(input_depth), ptq::gemm::microkernel_for(layer.layout())->name);

  // ---- run many ----
  std::vector<int8_t> x(static_cast<std::size_t>(max_batch * input_depth));
  std::vector<int8_t> y(static_cast<std::size_t>(max_batch * units)), want(y.size());
  for (int call = 0; call < 3; ++call) {
    const int64_t batches = 1 + call;  // any batch count, 1 (GEMV) included
    for (auto& v : x) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    ptq::gemm::fully_connected(layer, x.data(), batches, y.data());

    params.batches = batches;
    ptq::reference::fully_connected(params, x.data(), weights.data(), bias.data(), want.data());
    const bool same = std::equal(y.begin(), y.begin() + batches * units, want.begin());
    std::printf("batch %lld: y[0][0..3] = %d %d %d %d, %s the reference\n", static_cast<long long>(batches),
                y[0], y[1], y[2], y[3], same ? "equal to" : "DIFFERENT FROM");
    if (!same) return 1;
  }
  return 0;
}
