// hybrid.cpp: dynamic-range ("hybrid") layers with ptq: float activations, int8 weights, float out.
// Prepare once, run many.
//
// What a dynamic-range model runs (TFLite's converter with optimizations and no representative
// dataset): the weights were quantized once, per output channel; each call quantizes its float
// input on the fly (per row for a fully connected layer, per image for a convolution), runs the
// int8 GEMM, and scales the int32 sums back to float. Prepare packs the weights and sizes every
// buffer; a run allocates nothing. Checked here bit for bit against ptq::reference (TFLite's
// hybrid kernels) and, for what it costs, against the float layer the weights came from.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "ptq/core/qparams.hpp"
#include "ptq/kernels/hybrid.hpp"
#include "ptq/kernels/hybrid_conv.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/kernels/reference/hybrid.hpp"

namespace {

// TFLite's weight spec: symmetric int8 per output channel (axis 0 of `shape`), zero points 0.
std::vector<int8_t> quantize_weights(const std::vector<float>& w, const ptq::Shape& shape, std::vector<float>* scales) {
  const ptq::PerAxisQuantParams p = ptq::choose_per_axis_quant_params<int8_t>(w.data(), shape, 0, /*symmetric=*/true);
  std::vector<int8_t> q(w.size());
  ptq::quantize_per_axis<int8_t>(w.data(), q.data(), shape, p);
  *scales = p.scales;
  return q;
}

// Signal-to-quantization-noise ratio of `got` against `want`, in dB.
double sqnr_db(const std::vector<float>& want, const std::vector<float>& got) {
  double signal = 0.0, noise = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    signal += static_cast<double>(want[i]) * want[i];
    noise += (static_cast<double>(want[i]) - got[i]) * (static_cast<double>(want[i]) - got[i]);
  }
  return 10.0 * std::log10(signal / std::max(noise, 1e-30));
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  bool all_equal = true;

  // ---- a fully connected layer, 2 rows of 512 -> 128 ----
  {
    const int64_t k = 512, n = 128, batches = 2;
    std::vector<float> w_float(static_cast<std::size_t>(n * k)), bias(static_cast<std::size_t>(n));
    for (auto& v : w_float) v = 0.05f * normal(rng);
    for (auto& v : bias) v = 0.1f * normal(rng);
    ptq::HybridFullyConnectedParams p;
    p.batches = batches;
    p.input_depth = k;
    p.output_depth = n;
    const std::vector<int8_t> w = quantize_weights(w_float, ptq::Shape{n, k}, &p.weight_scales);
    p.input_quantization = ptq::HybridInputQuantization::kAsymmetric;  // per row, with a zero point
    p.activation = ptq::FusedActivation::kRelu;

    // Prepare once: validate (errors name the culprit), pack, size the scratch.
    if (const ptq::Status s = ptq::validate_hybrid_fully_connected(p, w.data()); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.to_string().c_str());
      return 1;
    }
    const ptq::PreparedHybridFullyConnected fc = ptq::prepare_hybrid_fully_connected(p, w.data(), bias.data());

    // Run many.
    std::vector<float> x(static_cast<std::size_t>(batches * k)), got(static_cast<std::size_t>(batches * n));
    std::vector<float> want(got.size()), exact(got.size());
    ptq::HybridScratch scratch;
    for (int call = 0; call < 3; ++call) {
      for (auto& v : x) v = normal(rng);
      ptq::hybrid_fully_connected(fc, x.data(), got.data());
      ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), want.data(), scratch);
      for (int64_t b = 0; b < batches; ++b) {  // the float layer the int8 weights came from
        for (int64_t c = 0; c < n; ++c) {
          float acc = bias[static_cast<std::size_t>(c)];
          for (int64_t i = 0; i < k; ++i) {
            acc += x[static_cast<std::size_t>(b * k + i)] * w_float[static_cast<std::size_t>(c * k + i)];
          }
          exact[static_cast<std::size_t>(b * n + c)] = std::max(acc, 0.0f);
        }
      }
      const bool equal = got == want;
      all_equal = all_equal && equal;
      std::printf("hybrid fully connected %lldx%lldx%lld (%s): %s TFLite's reference, SQNR vs float %.1f dB\n",
                  static_cast<long long>(batches), static_cast<long long>(k), static_cast<long long>(n),
                  ptq::gemm::microkernel_for(ptq::gemm::kDefaultPackLayout)->name,
                  equal ? "bit for bit" : "DIFFERS from", sqnr_db(exact, got));
    }
  }

  // ---- a 3x3 convolution, 16x16x8 -> 16, SAME padding ----
  {
    ptq::HybridConv2DParams p;
    ptq::ConvGeometry& g = p.geometry;
    g.batches = 1;
    g.input_height = g.input_width = 16;
    g.input_channels = 8;
    g.output_channels = 16;
    g.filter_height = g.filter_width = 3;
    g.output_height = g.output_width = 16;
    g.pad_top = g.pad_left = 1;
    const int64_t k = 3 * 3 * 8;
    std::vector<float> w_float(static_cast<std::size_t>(16 * k)), bias(16);
    for (auto& v : w_float) v = 0.1f * normal(rng);
    for (auto& v : bias) v = 0.1f * normal(rng);
    const std::vector<int8_t> w = quantize_weights(w_float, ptq::Shape{16, 3, 3, 8}, &p.weight_scales);  // OHWI

    if (const ptq::Status s = ptq::validate_hybrid_conv2d(p, w.data()); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.to_string().c_str());
      return 1;
    }
    const ptq::PreparedHybridConv2D conv = ptq::prepare_hybrid_conv2d(p, w.data(), bias.data());

    std::vector<float> x(static_cast<std::size_t>(16 * 16 * 8)), got(16 * 16 * 16), want(got.size());
    ptq::HybridScratch scratch;
    for (int call = 0; call < 2; ++call) {
      for (auto& v : x) v = normal(rng);
      ptq::hybrid_conv2d(conv, x.data(), got.data());
      ptq::reference::hybrid_conv2d(p, x.data(), w.data(), bias.data(), want.data(), scratch);
      const bool equal = got == want;
      all_equal = all_equal && equal;
      std::printf("hybrid conv 16x16x8 3x3 -> 16 (%s kernel, %s): %s TFLite's reference\n",
                  p.uses_per_channel_kernel() ? "per-channel" : "per-tensor",
                  ptq::gemm::microkernel_for(conv.packed(0).layout())->name, equal ? "bit for bit" : "DIFFERS from");
    }
  }
  return all_equal ? 0 : 1;
}
