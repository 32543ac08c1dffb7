// kernels_tour: the foundation floors of ptq end to end on a bundled, deterministic layer.
//
// 1. Which ISA levels this CPU runs, and which one ptq selected (no -march needed).
// 2. A conv-shaped weight tensor [64, 3, 3, 32] quantized per output channel (symmetric int8,
//    TFLite's weight spec) and per tensor, with the error each leaves.
// 3. Activations quantized asymmetrically (choose_quant_params, zero-point nudging).
// 4. The integer data path of one fully connected layer: int8 x int8 -> int32 accumulators ->
//    requantize (TFLite's fixed-point multiplier) -> int8, compared with the float layer.
// 5. The same bytes on every ISA level, checked.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <ptq/ptq.hpp>

namespace {

// Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2).
double sqnr_db(const std::vector<float>& x, const std::vector<float>& y) {
  double signal = 0.0, noise = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    signal += double{x[i]} * x[i];
    noise += (double{x[i]} - y[i]) * (double{x[i]} - y[i]);
  }
  return noise == 0.0 ? INFINITY : 10.0 * std::log10(signal / noise);
}

double max_abs_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double m = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(double{x[i]} - y[i]));
  return m;
}

}  // namespace

int main() {
  std::printf("ptq %d.%d.%d\n", PTQ_VERSION_MAJOR, PTQ_VERSION_MINOR, PTQ_VERSION_PATCH);
  std::printf("ISA levels this CPU runs : %s\n", ptq::isa_mask_to_string(ptq::runnable_isa_mask()).c_str());
  std::printf("selected (PTQ_ISA=... to force one) : %s\n\n", ptq::isa_name(ptq::selected_isa()));

  // ---- the bundled layer: deterministic weights with per-channel magnitudes spanning 100x -------
  const ptq::Shape wshape{64, 3, 3, 32};  // [out_channels, kh, kw, in_channels], TFLite's conv layout
  const auto wn = static_cast<std::size_t>(wshape.num_elements());
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(wn);
  for (std::size_t i = 0; i < wn; ++i) {
    const std::size_t oc = i / (wn / 64);
    w[i] = normal(rng) * 0.01f * std::pow(100.0f, static_cast<float>(oc) / 63.0f);
  }

  // Per-channel (axis 0) versus per-tensor symmetric int8 weights.
  const auto per_channel = ptq::choose_per_axis_quant_params<int8_t>(w.data(), wshape, 0, /*symmetric=*/true);
  std::vector<int8_t> wq(wn);
  std::vector<float> wdq(wn);
  ptq::quantize_per_axis<int8_t>(w.data(), wq.data(), wshape, per_channel);
  ptq::dequantize_per_axis<int8_t>(wq.data(), wdq.data(), wshape, per_channel);
  const double sqnr_pc = sqnr_db(w, wdq);

  const auto mm = std::minmax_element(w.begin(), w.end());
  const ptq::QuantParams per_tensor = ptq::symmetric_quant_params<int8_t>(*mm.first, *mm.second);
  std::vector<int8_t> wq_t(wn);
  std::vector<float> wdq_t(wn);
  ptq::quantize<int8_t>(w.data(), wq_t.data(), wn, per_tensor);
  ptq::dequantize<int8_t>(wq_t.data(), wdq_t.data(), wn, per_tensor);
  const double sqnr_pt = sqnr_db(w, wdq_t);

  std::printf("weights %s, symmetric int8:\n", wshape.to_string().c_str());
  std::printf("  %-12s scales %-22s SQNR %6.2f dB\n", "per channel", "64 (one per out ch.)", sqnr_pc);
  std::printf("  %-12s scale  %-22.6g SQNR %6.2f dB\n", "per tensor", double{per_tensor.scale}, sqnr_pt);

  // ---- activations: asymmetric, ReLU-like (mostly positive) --------------------------------
  const std::size_t batch = 8, depth = 288, units = 64;  // an FC over a 3x3x32 patch
  std::vector<float> a(batch * depth);
  for (auto& v : a) v = std::max(0.0f, normal(rng) + 0.5f);
  const auto amm = std::minmax_element(a.begin(), a.end());
  const ptq::QuantParams ap = ptq::choose_quant_params<int8_t>(*amm.first, *amm.second);
  std::vector<int8_t> aq(a.size());
  ptq::quantize<int8_t>(a.data(), aq.data(), a.size(), ap);
  std::printf("\nactivations [%zu, %zu] in [%.3f, %.3f]: scale %.6g, zero point %d (nudged: 0.0 -> exactly %d)\n",
              batch, depth, double{*amm.first}, double{*amm.second}, double{ap.scale}, ap.zero_point,
              ap.zero_point);

  // ---- one fully connected layer, integer path versus float -------------------------------
  // Weights: the first `units` rows of the per-channel tensor above, viewed as [units, depth].
  std::vector<float> yf(batch * units);
  std::vector<int32_t> acc(batch * units);
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t u = 0; u < units; ++u) {
      double sf = 0.0;
      int32_t si = 0;
      for (std::size_t k = 0; k < depth; ++k) {
        sf += double{a[b * depth + k]} * w[u * depth + k];
        si += (int32_t{aq[b * depth + k]} - ap.zero_point) * int32_t{wq[u * depth + k]};
      }
      yf[b * units + u] = static_cast<float>(sf);
      acc[b * units + u] = si;
    }
  }
  const auto ymm = std::minmax_element(yf.begin(), yf.end());
  const ptq::QuantParams yp = ptq::choose_quant_params<int8_t>(*ymm.first, *ymm.second);
  // Accumulator scale of channel u is input_scale * weight_scale[u] (the spec's bias scale).
  ptq::PerAxisQuantParams acc_params;
  acc_params.axis = 1;
  for (std::size_t u = 0; u < units; ++u) {
    acc_params.scales.push_back(ap.scale * per_channel.scales[u]);
    acc_params.zero_points.push_back(0);
  }
  const auto rq = ptq::make_requantize_params(acc_params, yp);
  std::vector<int8_t> yq(yf.size());
  ptq::requantize_per_axis<int32_t, int8_t>(acc.data(), yq.data(), ptq::Shape{int64_t(batch), int64_t(units)}, rq);
  std::vector<float> ydq(yf.size());
  ptq::dequantize<int8_t>(yq.data(), ydq.data(), ydq.size(), yp);
  std::printf("\nfully connected [%zu x %zu] x [%zu x %zu], int8 -> int32 -> requantize -> int8:\n", batch,
              depth, depth, units);
  std::printf("  output scale %.6g, zero point %d, SQNR vs float %.2f dB, max |error| %.4f (= %.2f output steps)\n",
              double{yp.scale}, yp.zero_point, sqnr_db(yf, ydq), max_abs_diff(yf, ydq),
              max_abs_diff(yf, ydq) / double{yp.scale});

  // ---- the same bytes on every ISA level -------------------------------------------------
  int mismatches = 0;
  std::printf("\nbit-exactness across ISA levels (vs the scalar reference):\n");
  std::vector<int8_t> ref_q(wn), ref_y(yq.size());
  ptq::quantize_per_axis<int8_t>(w.data(), ref_q.data(), wshape, per_channel, ptq::Isa::kScalar);
  ptq::requantize_per_axis<int32_t, int8_t>(acc.data(), ref_y.data(), ptq::Shape{int64_t(batch), int64_t(units)}, rq,
                                            ptq::Isa::kScalar);
  for (ptq::Isa isa : ptq::runnable_isas()) {
    std::vector<int8_t> q(wn), y(yq.size());
    ptq::quantize_per_axis<int8_t>(w.data(), q.data(), wshape, per_channel, isa);
    ptq::requantize_per_axis<int32_t, int8_t>(acc.data(), y.data(), ptq::Shape{int64_t(batch), int64_t(units)}, rq, isa);
    const bool same = q == ref_q && y == ref_y;
    mismatches += same ? 0 : 1;
    std::printf("  %-10s (quantize kernel: %-7s) %s\n", ptq::isa_name(isa),
                ptq::isa_name(ptq::quantize_variant(isa)), same ? "identical" : "DIFFERENT");
  }

  // The demo fails loudly if the numbers are not what the spec promises.
  const bool ok = mismatches == 0 && sqnr_pc > sqnr_pt + 6.0 && sqnr_pc > 38.0 && sqnr_db(yf, ydq) > 25.0;
  std::printf("\n%s\n", ok ? "kernels_tour: OK" : "kernels_tour: FAILED");
  return ok ? 0 : 1;
}
