// reference/hybrid.hpp: the per-row quantizers on rows whose scale is exact (so every q is worked
// out by hand, ties included), hybrid fully connected / conv / depthwise on exact cases, the float
// evaluation order of each kernel, TFLite's kernel selection and all-zero shortcut, padding
// equivalences, and closeness to a float computation within a derived bound.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/hybrid.hpp"

namespace {

using ptq::ConvGeometry;
using ptq::FusedActivation;
using ptq::HybridInputQuantization;
using ptq::RowQuantization;

std::vector<float> random_floats(std::mt19937& rng, int64_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = d(rng);
  return v;
}

std::vector<int8_t> random_int8(std::mt19937& rng, int64_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

bool all_equal(const std::vector<float>& v) {
  for (float e : v) {
    if (e != v[0]) return false;
  }
  return true;
}

// Bit equality, so that -0.0 != +0.0 and NaN == NaN.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  }
  return true;
}

// Error bound of a hybrid output against the float computation with the same (dequantized) weights:
// each input is off by at most half its row's step, |x_hat - x| <= s / 2 (plus float error in
// computing zp + x * inv, far below 1% of a step), so the output is off by at most
//   0.5 * s * w_scale * sum |w_q|   over the taps that were used,
// plus float rounding of the final product and sum (relative 2^-23 each; 1e-5 * (1 + |y|) covers it).
float hybrid_tolerance(float row_scale, float w_scale, int64_t abs_weight_sum, double reference) {
  return static_cast<float>(0.505 * row_scale * w_scale * static_cast<double>(abs_weight_sum) +
                            1e-5 * (1.0 + std::abs(reference)));
}

ConvGeometry geometry(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                      int64_t oc) {
  ConvGeometry g;
  g.batches = n;
  g.input_height = h;
  g.input_width = w;
  g.input_channels = c;
  g.filter_height = kh;
  g.filter_width = kw;
  g.output_height = oh;
  g.output_width = ow;
  g.output_channels = oc;
  return g;
}

// A float NHWC tensor padded with zeros: top/left by (pt, pl), bottom/right by (pb, pr).
std::vector<float> zero_pad(const std::vector<float>& x, int64_t n, int64_t h, int64_t w, int64_t c, int64_t pt,
                            int64_t pl, int64_t pb, int64_t pr) {
  const int64_t ph = h + pt + pb, pw = w + pl + pr;
  std::vector<float> out(static_cast<std::size_t>(n * ph * pw * c), 0.0f);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx)
        for (int64_t ch = 0; ch < c; ++ch)
          out[static_cast<std::size_t>(((b * ph + y + pt) * pw + xx + pl) * c + ch)] =
              x[static_cast<std::size_t>(((b * h + y) * w + xx) * c + ch)];
  return out;
}

}  // namespace

TEST_SUITE("kernels") {

TEST_CASE("reference hybrid: asymmetric row quantizer, exact scales worked by hand") {
  using ptq::reference::quantize_row_asymmetric;
  std::vector<int8_t> q(5, 99);
  // rmin = -2, rmax = 127/64: range 255/64, scale = 1/64 exactly. zero point: from min -128 + 128 = 0
  // (error 128 + 128), from max 127 - 127 = 0 (error 127 + 127, smaller) -> 0. inv = 64.
  //   -2 -> -128;  127/64 -> 127;  0.5/64 -> 0.5 -> 1 (ties away from zero; half-even gives 0);
  //   -1.5/64 -> -1.5 -> -2;  1 -> 64.
  {
    const std::vector<float> x = {-2.0f, 1.984375f, 0.0078125f, -0.0234375f, 1.0f};
    const RowQuantization r = quantize_row_asymmetric(x.data(), 5, q.data());
    CHECK(r.scale == 0.015625f);
    CHECK(r.zero_point == 0);
    CHECK(q == std::vector<int8_t>{-128, 127, 1, -2, 64});
  }
  // rmin = -1, rmax = 191/64: again scale 1/64. Zero point from min: -128 + 64 = -64 (error
  // 128 + 64 = 192); from max: 127 - 191 = -64 (error 318) -> -64. q = round(-64 + 64 x):
  //   -1 -> -128;  191/64 -> 127;  0.5 -> -32;  1.5/64 -> -62.5 -> -63 (away from zero; even: -62);  0 -> -64.
  {
    const std::vector<float> x = {-1.0f, 2.984375f, 0.5f, 0.0234375f, 0.0f};
    const RowQuantization r = quantize_row_asymmetric(x.data(), 5, q.data());
    CHECK(r.scale == 0.015625f);
    CHECK(r.zero_point == -64);
    CHECK(q == std::vector<int8_t>{-128, 127, -32, -63, -64});
  }
  // rmin = -1, rmax = 3: scale = float(4 / 255) (a double quotient rounded to float); zero point
  // -128 + 63.75 = -64.25 (error 191.75, smaller than 318.25) -> round -> -64. inv ~ 63.75, so
  //   -1 -> -127.75 -> -128;  0 -> -64;  3 -> 127.25 -> 127 (the result is the same for inv one ulp off).
  {
    const std::vector<float> x = {-1.0f, 0.0f, 3.0f};
    const RowQuantization r = quantize_row_asymmetric(x.data(), 3, q.data());
    CHECK(r.scale == static_cast<float>(4.0 / 255.0));
    CHECK(r.zero_point == -64);
    CHECK(std::vector<int8_t>(q.begin(), q.begin() + 3) == std::vector<int8_t>{-128, -64, 127});
  }
  // All positive: rmin = 0 -> zero point from min -128 with error 128 (from max: 127 - 255 = -128 with
  // error 382) -> -128 (at qmin). scale = float(2 / 255), inv ~ 127.5:
  //   0.5 -> -128 + 63.75 -> -64;  2 -> -128 + 255 -> 127;  1.5 -> -128 + 191.25 -> 63.
  {
    const std::vector<float> x = {0.5f, 2.0f, 1.5f};
    const RowQuantization r = quantize_row_asymmetric(x.data(), 3, q.data());
    CHECK(r.scale == static_cast<float>(2.0 / 255.0));
    CHECK(r.zero_point == -128);
    CHECK(std::vector<int8_t>(q.begin(), q.begin() + 3) == std::vector<int8_t>{-64, 127, 63});
  }
  // All negative: rmax = 0 -> zero point 127 (from max, error 127). scale = float(4 / 255):
  //   -4 -> 127 - 255 = -128;  -1 -> 127 - 63.75 = 63.25 -> 63.
  {
    const std::vector<float> x = {-4.0f, -1.0f};
    const RowQuantization r = quantize_row_asymmetric(x.data(), 2, q.data());
    CHECK(r.zero_point == 127);
    CHECK(std::vector<int8_t>(q.begin(), q.begin() + 2) == std::vector<int8_t>{-128, 63});
  }
  // An all-zero row: scale 1, zero point 0, every q = 0 (TFLite's special case).
  {
    std::fill(q.begin(), q.end(), int8_t{99});
    const std::vector<float> x = {0.0f, -0.0f, 0.0f};
    const RowQuantization r = quantize_row_asymmetric(x.data(), 3, q.data());
    CHECK(r.scale == 1.0f);
    CHECK(r.zero_point == 0);
    CHECK(std::vector<int8_t>(q.begin(), q.begin() + 3) == std::vector<int8_t>{0, 0, 0});
    CHECK(q[3] == 99);  // nothing written past the row
  }
}

TEST_CASE("reference hybrid: symmetric row quantizer") {
  using ptq::reference::quantize_row_symmetric;
  // range = 4: scale = 4 / 127 (float), inv = 127 / 4 = 31.75 exactly.
  //   -4 -> -127 (never -128);  2 -> 63.5 -> 64 (away from zero);  1 -> 31.75 -> 32;
  //   -0.5 -> -15.875 -> -16;  0.0625 -> 1.984375 -> 2.
  std::vector<int8_t> q(5, 99);
  const std::vector<float> x = {-4.0f, 2.0f, 1.0f, -0.5f, 0.0625f};
  const RowQuantization r = quantize_row_symmetric(x.data(), 5, q.data());
  CHECK(r.scale == 4.0f / 127.0f);
  CHECK(r.zero_point == 0);
  CHECK(q == std::vector<int8_t>{-127, 64, 32, -16, 2});
  // range = 127/64: scale = 1/64 and inv = 64, both exact; ties that round-half-even would send
  // the other way: 2.5/64 -> 2.5 -> 3 (even: 2), -0.5/64 -> -0.5 -> -1 (even: 0).
  const std::vector<float> t = {1.984375f, 0.0390625f, -0.0078125f, -1.984375f};
  const RowQuantization rt = quantize_row_symmetric(t.data(), 4, q.data());
  CHECK(rt.scale == 0.015625f);
  CHECK(std::vector<int8_t>(q.begin(), q.begin() + 4) == std::vector<int8_t>{127, 3, -1, -127});
  // All zeros: scale 1, q = 0.
  const std::vector<float> zeros(4, 0.0f);
  const RowQuantization z = quantize_row_symmetric(zeros.data(), 4, q.data());
  CHECK(z.scale == 1.0f);
  CHECK(std::vector<int8_t>(q.begin(), q.begin() + 4) == std::vector<int8_t>{0, 0, 0, 0});
}

TEST_CASE("reference hybrid: quantize_rows quantizes each row on its own") {
  // Row 0 is the first exact asymmetric row above, row 1 the second; symmetric rows get zero point 0.
  const std::vector<float> x = {-2.0f, 1.984375f, 1.0f, -1.0f, 2.984375f, 0.5f};
  std::vector<int8_t> q(6, 0);
  std::vector<float> scales(2, 0.0f);
  std::vector<int32_t> zps(2, 77);
  ptq::reference::quantize_rows(x.data(), 2, 3, HybridInputQuantization::kAsymmetric, q.data(), scales.data(),
                                zps.data());
  CHECK(q == std::vector<int8_t>{-128, 127, 64, -128, 127, -32});
  CHECK(scales[0] == 0.015625f);
  CHECK(scales[1] == 0.015625f);
  CHECK(zps[0] == 0);
  CHECK(zps[1] == -64);
  zps = {77, 77};
  ptq::reference::quantize_rows(x.data(), 2, 3, HybridInputQuantization::kSymmetric, q.data(), scales.data(),
                                zps.data());
  CHECK(zps == std::vector<int32_t>{0, 0});
  CHECK(scales[0] == 2.0f / 127.0f);
  CHECK(scales[1] == 2.984375f / 127.0f);
}

TEST_CASE("reference hybrid fully_connected: exact case worked by hand") {
  // Row 0 = [-1, 191/64, 0.5] -> q = [-128, 127, -32], zp -64, scale 1/64 (see the quantizer test).
  // Row 1 = [-2, 127/64, 1]   -> q = [-128, 127, 64],  zp 0,   scale 1/64.
  // w = [[1 2 3] [-1 0 4]], row sums 6 and 3; bias [0.25, -2].
  //   per tensor, w_scale 0.5 -> scale = 1/64 * 0.5 = 1/128
  //   b0 u0: dot = -128 + 254 - 96 = 30;  30 - 6 * (-64) = 414;  414 / 128 = 3.234375 + 0.25 = 3.484375
  //   b0 u1: dot = 128 + 0 - 128 = 0;     0 - 3 * (-64) = 192;    192 / 128 = 1.5 - 2 = -0.5
  //   b1 u0: -128 + 254 + 192 = 318;       318 / 128 = 2.484375 + 0.25 = 2.734375
  //   b1 u1: 128 + 0 + 256 = 384;          384 / 128 = 3 - 2 = 1
  // (The quantization is exact here, so these are also the float results: e.g. b0 u0 =
  //  0.5 * (-1 + 2 * 2.984375 + 1.5) + 0.25.)
  const std::vector<float> x = {-1.0f, 2.984375f, 0.5f, -2.0f, 1.984375f, 1.0f};
  const std::vector<int8_t> w = {1, 2, 3, -1, 0, 4};
  const std::vector<float> bias = {0.25f, -2.0f};
  ptq::HybridFullyConnectedParams p;
  p.batches = 2;
  p.input_depth = 3;
  p.output_depth = 2;
  p.weight_scales = {0.5f};
  p.input_quantization = HybridInputQuantization::kAsymmetric;
  REQUIRE(p.validate().ok());
  ptq::HybridScratch scratch;
  std::vector<float> y(4, 0.0f);
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{3.484375f, -0.5f, 2.734375f, 1.0f});

  p.activation = FusedActivation::kRelu;
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{3.484375f, 0.0f, 2.734375f, 1.0f});

  // Per channel, w_scale = [0.5, 0.25]: u1 becomes 192 / 256 - 2 = -1.25 and 384 / 256 - 2 = -0.5.
  p.activation = FusedActivation::kNone;
  p.weight_scales = {0.5f, 0.25f};
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{3.484375f, -1.25f, 2.734375f, -0.5f});
}

TEST_CASE("reference hybrid fully_connected: symmetric inputs") {
  // Row [-4, 2, 1] -> q = [-127, 64, 32], scale s = 4/127 (symmetric test above).
  // w = [[1 1 1] [2 0 -1]], w_scale 0.5, no bias:
  //   u0: dot = -127 + 64 + 32 = -31 -> float(-31) * (s * 0.5)
  //   u1: dot = -254 - 32 = -286     -> float(-286) * (s * 0.5)
  const std::vector<float> x = {-4.0f, 2.0f, 1.0f};
  const std::vector<int8_t> w = {1, 1, 1, 2, 0, -1};
  ptq::HybridFullyConnectedParams p;
  p.input_depth = 3;
  p.output_depth = 2;
  p.weight_scales = {0.5f};
  REQUIRE(p.input_quantization == HybridInputQuantization::kSymmetric);  // TFLite's default
  ptq::HybridScratch scratch;
  std::vector<float> y(2, 0.0f);
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), nullptr, y.data(), scratch);
  const float s = (4.0f / 127.0f) * 0.5f;
  CHECK(y[0] == -31.0f * s);
  CHECK(y[1] == -286.0f * s);
  // Against the float layer, 0.5 * (-4 + 2 + 1) = -0.5 and 0.5 * (-8 + 0 - 1) = -4.5: within half a
  // step per unit of |w|.
  CHECK(std::abs(y[0] - (-0.5f)) <= hybrid_tolerance(4.0f / 127.0f, 0.5f, 3, -0.5));
  CHECK(std::abs(y[1] - (-4.5f)) <= hybrid_tolerance(4.0f / 127.0f, 0.5f, 3, -4.5));
}

TEST_CASE("reference hybrid fully_connected: an all-zero input skips the product (bias, then activation)") {
  // IsZeroVector: out = act(bias). A bias of -0.0 stays -0.0 without activation (the product path
  // would give -0.0 + 0.0 = +0.0), and ReLU(-0.0) = std::max(0.0f, -0.0f) = +0.0.
  const std::vector<float> x(6, 0.0f);
  const std::vector<int8_t> w = {1, 2, 3, 4, 5, 6};
  const std::vector<float> bias = {-0.0f, -1.5f};
  ptq::HybridFullyConnectedParams p;
  p.batches = 2;
  p.input_depth = 3;
  p.output_depth = 2;
  p.weight_scales = {0.5f};
  p.input_quantization = HybridInputQuantization::kAsymmetric;
  ptq::HybridScratch scratch;
  std::vector<float> y(4, 1.0f);
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(same_bits(y, {-0.0f, -1.5f, -0.0f, -1.5f}));
  p.activation = FusedActivation::kRelu;
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(same_bits(y, {0.0f, 0.0f, 0.0f, 0.0f}));
  ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), nullptr, y.data(), scratch);
  CHECK(same_bits(y, {0.0f, 0.0f, 0.0f, 0.0f}));
  // Through the product path instead (quantized zeros, scale 1): -0.0 + 0.0 = +0.0.
  const std::vector<int8_t> q(6, 0);
  const std::vector<float> scales = {1.0f, 1.0f};
  p.activation = FusedActivation::kNone;
  ptq::reference::hybrid_fully_connected_prequantized(p, q.data(), scales.data(), nullptr, w.data(), bias.data(),
                                                      y.data());
  CHECK(same_bits(y, {0.0f, -1.5f, 0.0f, -1.5f}));
}

TEST_CASE("reference hybrid: each kernel keeps TFLite's float evaluation order") {
  // acc = 13, w_scale a = 0.1f, row scale s = 0.3f: (13 a) s and 13 (a s) round differently.
  //   fully connected: bias-or-0 + float(acc) * (s * a)        (PortableMatrixBatchVectorMultiplyAccumulate)
  //   conv per channel: float(acc) * a * s = (acc a) s          (HybridConvPerChannel)
  //   conv per tensor:  0 + float(acc) * (s * a)                (HybridConv: scaling_factor *= filter scale)
  //   depthwise:        float(acc) * (a * s)                    (DepthwiseConvHybridPerChannel)
  const float a = 0.1f, s = 0.3f, acc = 13.0f;
  const float left = (acc * a) * s;
  const float right = acc * (s * a);
  REQUIRE(left != right);  // otherwise this test could not tell the orders apart
  const std::vector<int8_t> q = {13};
  const std::vector<int8_t> w = {1};
  const std::vector<float> scales = {s};
  std::vector<float> y(1, 0.0f);

  ptq::HybridFullyConnectedParams fc;
  fc.input_depth = 1;
  fc.output_depth = 1;
  fc.weight_scales = {a};
  ptq::reference::hybrid_fully_connected_prequantized(fc, q.data(), scales.data(), nullptr, w.data(), nullptr,
                                                      y.data());
  CHECK(y[0] == right);

  ptq::HybridConv2DParams conv;
  conv.geometry = geometry(1, 1, 1, 1, 1, 1, 1, 1, 1);
  conv.weight_scales = {a};
  REQUIRE(conv.validate().ok());
  ptq::reference::hybrid_conv2d_per_channel_prequantized(conv, q.data(), scales.data(), nullptr, w.data(), nullptr,
                                                         y.data());
  CHECK(y[0] == left);
  ptq::reference::hybrid_conv2d_per_tensor_prequantized(conv, q.data(), scales.data(), w.data(), nullptr, y.data());
  CHECK(y[0] == right);

  ptq::HybridDepthwiseConv2DParams dw;
  dw.geometry = geometry(1, 1, 1, 1, 1, 1, 1, 1, 1);
  dw.weight_scales = {a};
  REQUIRE(dw.validate().ok());
  ptq::reference::hybrid_depthwise_conv2d_prequantized(dw, q.data(), scales.data(), nullptr, w.data(), nullptr,
                                                       y.data());
  CHECK(y[0] == right);
}

TEST_CASE("reference hybrid fully_connected: close to the float layer within the derived bound") {
  std::mt19937 rng(99);
  const int64_t batches = 4, depth = 37, units = 9;
  const auto x = random_floats(rng, batches * depth, -3.0f, 2.0f);
  const auto w = random_int8(rng, units * depth, -127, 127);
  const auto bias = random_floats(rng, units, -1.0f, 1.0f);
  std::vector<float> w_scales(static_cast<std::size_t>(units));
  for (auto& e : w_scales) e = std::uniform_real_distribution<float>(0.001f, 0.02f)(rng);
  for (HybridInputQuantization mode : {HybridInputQuantization::kAsymmetric, HybridInputQuantization::kSymmetric}) {
    ptq::HybridFullyConnectedParams p;
    p.batches = batches;
    p.input_depth = depth;
    p.output_depth = units;
    p.weight_scales = w_scales;
    p.input_quantization = mode;
    REQUIRE(p.validate().ok());
    ptq::HybridScratch scratch;
    std::vector<float> y(static_cast<std::size_t>(batches * units), 0.0f);
    ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias.data(), y.data(), scratch);
    CHECK_FALSE(all_equal(y));
    for (int64_t b = 0; b < batches; ++b) {
      const float row_scale = scratch.row_scales[static_cast<std::size_t>(b)];
      for (int64_t n = 0; n < units; ++n) {
        double ref = bias[static_cast<std::size_t>(n)];
        int64_t abs_sum = 0;
        for (int64_t k = 0; k < depth; ++k) {
          const int wq = w[static_cast<std::size_t>(n * depth + k)];
          ref += static_cast<double>(x[static_cast<std::size_t>(b * depth + k)]) * wq * w_scales[static_cast<std::size_t>(n)];
          abs_sum += wq < 0 ? -wq : wq;
        }
        const float got = y[static_cast<std::size_t>(b * units + n)];
        CHECK(std::abs(got - ref) <= hybrid_tolerance(row_scale, w_scales[static_cast<std::size_t>(n)], abs_sum, ref));
      }
    }
  }
}

TEST_CASE("reference hybrid conv2d: exact per-channel case worked by hand") {
  // 2x2 image, one channel: [-1, 191/64, 0.5, 0] -> q = [-128, 127, -32, -64], zp -64, scale 1/64.
  // 2x2 filter, VALID, two output channels, scales [0.5, 0.25] (not equal: per-channel kernel):
  //   oc0: w = [1 2 3 4]:   acc = -64 + 2*191 + 3*32 + 4*0 = 414 -> (414 * 0.5) / 64 = 3.234375, + 0.25
  //   oc1: w = [-1 0 0 1]:  acc = 64 + 0 = 64                     -> (64 * 0.25) / 64 = 0.25, - 1 = -0.75
  // (Also the float results: 0.5 * (-1 + 2 * 2.984375 + 1.5) = 3.234375.)
  const std::vector<float> x = {-1.0f, 2.984375f, 0.5f, 0.0f};
  const std::vector<int8_t> w = {1, 2, 3, 4, -1, 0, 0, 1};
  const std::vector<float> bias = {0.25f, -1.0f};
  ptq::HybridConv2DParams p;
  p.geometry = geometry(1, 2, 2, 1, 2, 2, 1, 1, 2);
  p.weight_scales = {0.5f, 0.25f};
  REQUIRE(p.validate().ok());
  REQUIRE(p.uses_per_channel_kernel());
  ptq::HybridScratch scratch;
  std::vector<float> y(2, 0.0f);
  ptq::reference::hybrid_conv2d(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{3.484375f, -0.75f});
  CHECK(scratch.row_zero_points[0] == -64);
  p.activation = FusedActivation::kRelu6;
  ptq::reference::hybrid_conv2d(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{3.484375f, 0.0f});
  p.activation = FusedActivation::kReluN1To1;
  ptq::reference::hybrid_conv2d(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{1.0f, -0.75f});
}

TEST_CASE("reference hybrid conv2d: equal scales take TFLite's per-tensor kernel with symmetric inputs") {
  // Scales [0.5, 0.5] are all equal and groups == 1: TFLite runs HybridConv on a symmetric
  // quantization. Image [-4, 2, 1, 0.0625] -> q = [-127, 64, 32, 2], s = 4/127.
  //   oc0: w = [1 2 3 4]:  acc = -127 + 128 + 96 + 8 = 105 -> 0 + 105 * (s * 0.5) + 0.25
  //   oc1: w = [0 0 0 -1]: acc = -2                        -> 0 + (-2) * (s * 0.5) + 0
  const std::vector<float> x = {-4.0f, 2.0f, 1.0f, 0.0625f};
  const std::vector<int8_t> w = {1, 2, 3, 4, 0, 0, 0, -1};
  const std::vector<float> bias = {0.25f, 0.0f};
  ptq::HybridConv2DParams p;
  p.geometry = geometry(1, 2, 2, 1, 2, 2, 1, 1, 2);
  p.weight_scales = {0.5f, 0.5f};
  REQUIRE(p.validate().ok());
  CHECK_FALSE(p.uses_per_channel_kernel());
  ptq::HybridScratch scratch;
  std::vector<float> y(2, 0.0f);
  ptq::reference::hybrid_conv2d(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  const float scale = (4.0f / 127.0f) * 0.5f;
  CHECK(y[0] == (0.0f + 105.0f * scale) + 0.25f);
  CHECK(y[1] == (0.0f + -2.0f * scale) + 0.0f);
  CHECK(scratch.row_zero_points[0] == 0);
  // Unequal scales, or groups > 1, select the per-channel kernel.
  p.weight_scales = {0.5f, 0.25f};
  CHECK(p.uses_per_channel_kernel());
  p.weight_scales = {0.5f};
  p.geometry = geometry(1, 2, 2, 2, 2, 2, 1, 1, 2);
  p.groups = 2;
  CHECK(p.uses_per_channel_kernel());
}

TEST_CASE("reference hybrid conv2d: padding equals a zero-padded float input") {
  // Zeros never change a row's range (rmin <= 0 <= rmax already) and quantize to the zero point, so
  // SAME padding and explicit zero padding give bit-identical outputs, for both kernels.
  std::mt19937 rng(17);
  const int64_t n = 2, h = 6, w = 5, c = 3, oc = 4, kh = 3, kw = 3, stride = 2;
  const ConvGeometry same = ptq::make_conv_geometry(ptq::Padding::kSame, n, h, w, c, kh, kw, oc, stride, stride);
  const ptq::ConvPadding pad = ptq::compute_padding(ptq::Padding::kSame, h, w, kh, kw, stride, stride);
  REQUIRE(pad.top + pad.bottom + pad.left + pad.right > 0);
  const auto x = random_floats(rng, n * h * w * c, -2.0f, 3.0f);
  const auto wt = random_int8(rng, oc * kh * kw * c, -127, 127);
  const auto bias = random_floats(rng, oc, -0.5f, 0.5f);
  const std::vector<float> xp = zero_pad(x, n, h, w, c, pad.top, pad.left, pad.bottom, pad.right);
  ConvGeometry valid = same;
  valid.input_height = h + pad.top + pad.bottom;
  valid.input_width = w + pad.left + pad.right;
  valid.pad_top = 0;
  valid.pad_left = 0;
  for (const std::vector<float>& scales :
       {std::vector<float>{0.01f, 0.02f, 0.015f, 0.03f}, std::vector<float>{0.02f}}) {
    ptq::HybridConv2DParams p;
    p.geometry = same;
    p.weight_scales = scales;
    p.activation = FusedActivation::kRelu;
    REQUIRE(p.validate().ok());
    ptq::HybridScratch scratch;
    std::vector<float> y(static_cast<std::size_t>(same.output_size()), 0.0f);
    ptq::reference::hybrid_conv2d(p, x.data(), wt.data(), bias.data(), y.data(), scratch);
    CHECK_FALSE(all_equal(y));
    ptq::HybridConv2DParams pv = p;
    pv.geometry = valid;
    std::vector<float> yv(y.size(), 0.0f);
    ptq::reference::hybrid_conv2d(pv, xp.data(), wt.data(), bias.data(), yv.data(), scratch);
    CHECK(same_bits(y, yv));
  }
}

TEST_CASE("reference hybrid conv2d: close to the float conv within the derived bound") {
  std::mt19937 rng(23);
  const int64_t n = 2, h = 5, w = 6, c = 4, oc = 6, kh = 3, kw = 3, groups = 2;
  const int64_t fic = c / groups, fpg = oc / groups;
  const ConvGeometry g = ptq::make_conv_geometry(ptq::Padding::kSame, n, h, w, c, kh, kw, oc, 1, 2);
  const auto x = random_floats(rng, n * h * w * c, -1.0f, 4.0f);
  const auto wt = random_int8(rng, oc * kh * kw * fic, -127, 127);
  const auto bias = random_floats(rng, oc, -0.5f, 0.5f);
  ptq::HybridConv2DParams p;
  p.geometry = g;
  p.groups = groups;
  p.weight_scales = random_floats(rng, oc, 0.002f, 0.01f);
  REQUIRE(p.validate().ok());
  ptq::HybridScratch scratch;
  std::vector<float> y(static_cast<std::size_t>(g.output_size()), 0.0f);
  ptq::reference::hybrid_conv2d(p, x.data(), wt.data(), bias.data(), y.data(), scratch);
  CHECK_FALSE(all_equal(y));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < g.output_height; ++oy)
      for (int64_t ox = 0; ox < g.output_width; ++ox)
        for (int64_t o = 0; o < oc; ++o) {
          const int64_t grp = o / fpg;
          double ref = bias[static_cast<std::size_t>(o)];
          int64_t abs_sum = 0;
          for (int64_t fy = 0; fy < kh; ++fy)
            for (int64_t fx = 0; fx < kw; ++fx) {
              const int64_t iy = oy * g.stride_height - g.pad_top + fy, ix = ox * g.stride_width - g.pad_left + fx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (int64_t ic = 0; ic < fic; ++ic) {
                const int wq = wt[static_cast<std::size_t>(((o * kh + fy) * kw + fx) * fic + ic)];
                ref += static_cast<double>(x[static_cast<std::size_t>(((b * h + iy) * w + ix) * c + grp * fic + ic)]) *
                       wq * p.weight_scales[static_cast<std::size_t>(o)];
                abs_sum += wq < 0 ? -wq : wq;
              }
            }
          const float got = y[static_cast<std::size_t>(((b * g.output_height + oy) * g.output_width + ox) * oc + o)];
          CHECK(std::abs(got - ref) <= hybrid_tolerance(scratch.row_scales[static_cast<std::size_t>(b)],
                                                        p.weight_scales[static_cast<std::size_t>(o)], abs_sum, ref));
        }
}

TEST_CASE("reference hybrid depthwise_conv2d: exact case worked by hand") {
  // 1x2 image, 2 channels: pixel 0 = [-1, 191/64], pixel 1 = [0.5, 0] -> q = [-128, 127, -32, -64],
  // zp -64, scale 1/64 (the same values as the conv case, in NHWC order). 1x2 filter, VALID,
  // depth multiplier 1; weights [1][0][fx][oc]: fx0 = [2, 1], fx1 = [3, -1]; scales [0.5, 0.25].
  //   oc0 (channel 0, q - zp = -64, 32):  2*(-64) + 3*32 = -32  -> -32 * (0.5 / 64)  = -0.25,       + 1
  //   oc1 (channel 1, q - zp = 191, 0):   1*191 - 1*0   = 191   -> 191 * (0.25 / 64) = 0.74609375, - 1
  const std::vector<float> x = {-1.0f, 2.984375f, 0.5f, 0.0f};
  const std::vector<int8_t> w = {2, 1, 3, -1};
  const std::vector<float> bias = {1.0f, -1.0f};
  ptq::HybridDepthwiseConv2DParams p;
  p.geometry = geometry(1, 1, 2, 2, 1, 2, 1, 1, 2);
  p.weight_scales = {0.5f, 0.25f};
  REQUIRE(p.validate().ok());
  ptq::HybridScratch scratch;
  std::vector<float> y(2, 0.0f);
  ptq::reference::hybrid_depthwise_conv2d(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{0.75f, -0.25390625f});
  p.activation = FusedActivation::kRelu;
  ptq::reference::hybrid_depthwise_conv2d(p, x.data(), w.data(), bias.data(), y.data(), scratch);
  CHECK(y == std::vector<float>{0.75f, 0.0f});
}

TEST_CASE("reference hybrid depthwise_conv2d: with exact scales it is the grouped hybrid conv") {
  // With power-of-two weight and row scales every product is exact, so the two kernels' different
  // evaluation orders cannot show: depthwise (depth multiplier 2) equals the per-channel hybrid conv
  // with groups = channels and the weights moved from [1, KH, KW, OC] to [OC, KH, KW, 1].
  std::mt19937 rng(31);
  const int64_t n = 2, h = 6, w = 7, c = 3, dm = 2, oc = c * dm, kh = 3, kw = 3;
  const ConvGeometry g = ptq::make_conv_geometry(ptq::Padding::kSame, n, h, w, c, kh, kw, oc, 2, 1, 1, 2);
  const auto q = random_int8(rng, g.input_size(), -128, 127);
  const auto wd = random_int8(rng, kh * kw * oc, -127, 127);
  const auto bias = random_floats(rng, oc, -1.0f, 1.0f);
  const std::vector<float> row_scales = {0.015625f, 0.0078125f};
  const std::vector<int32_t> row_zps = {-7, 20};
  const std::vector<float> w_scales = {0.0625f, 0.125f, 0.03125f, 0.25f, 0.5f, 0.0625f};

  ptq::HybridDepthwiseConv2DParams d;
  d.geometry = g;
  d.depth_multiplier = dm;
  d.weight_scales = w_scales;
  d.activation = FusedActivation::kRelu6;
  REQUIRE(d.validate().ok());
  std::vector<float> yd(static_cast<std::size_t>(g.output_size()), 0.0f);
  ptq::reference::hybrid_depthwise_conv2d_prequantized(d, q.data(), row_scales.data(), row_zps.data(), wd.data(),
                                                       bias.data(), yd.data());
  CHECK_FALSE(all_equal(yd));

  ptq::HybridConv2DParams cp;
  cp.geometry = g;
  cp.groups = c;
  cp.weight_scales = w_scales;
  cp.activation = FusedActivation::kRelu6;
  REQUIRE(cp.validate().ok());
  std::vector<int8_t> wc(wd.size());
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t t = 0; t < kh * kw; ++t)
      wc[static_cast<std::size_t>(o * kh * kw + t)] = wd[static_cast<std::size_t>(t * oc + o)];
  std::vector<float> yc(yd.size(), 0.0f);
  ptq::reference::hybrid_conv2d_per_channel_prequantized(cp, q.data(), row_scales.data(), row_zps.data(), wc.data(),
                                                         bias.data(), yc.data());
  CHECK(same_bits(yd, yc));
}

TEST_CASE("reference hybrid depthwise_conv2d: padding equals a zero-padded float input") {
  std::mt19937 rng(41);
  const int64_t n = 1, h = 5, w = 5, c = 4, kh = 3, kw = 3;
  const ConvGeometry same = ptq::make_conv_geometry(ptq::Padding::kSame, n, h, w, c, kh, kw, c);
  const auto x = random_floats(rng, n * h * w * c, -1.0f, 1.0f);
  const auto wt = random_int8(rng, kh * kw * c, -127, 127);
  ptq::HybridDepthwiseConv2DParams p;
  p.geometry = same;
  p.weight_scales = {0.01f, 0.02f, 0.03f, 0.04f};
  REQUIRE(p.validate().ok());
  ptq::HybridScratch scratch;
  std::vector<float> y(static_cast<std::size_t>(same.output_size()), 0.0f);
  ptq::reference::hybrid_depthwise_conv2d(p, x.data(), wt.data(), nullptr, y.data(), scratch);
  CHECK_FALSE(all_equal(y));
  const std::vector<float> xp = zero_pad(x, n, h, w, c, 1, 1, 1, 1);
  ptq::HybridDepthwiseConv2DParams pv = p;
  pv.geometry.input_height = h + 2;
  pv.geometry.input_width = w + 2;
  pv.geometry.pad_top = 0;
  pv.geometry.pad_left = 0;
  std::vector<float> yv(y.size(), 0.0f);
  ptq::reference::hybrid_depthwise_conv2d(pv, xp.data(), wt.data(), nullptr, yv.data(), scratch);
  CHECK(same_bits(y, yv));
}

TEST_CASE("reference hybrid: validate() names the culprit") {
  ptq::HybridFullyConnectedParams fc;
  fc.input_depth = 4;
  fc.output_depth = 3;
  fc.weight_scales = {0.5f, 0.5f};  // neither 1 nor 3
  CHECK(fc.validate().message().find("weight_scales") != std::string::npos);
  fc.weight_scales = {0.5f, -0.5f, 0.5f};
  CHECK(fc.validate().message().find("weight_scales[1]") != std::string::npos);
  fc.weight_scales = {0.5f};
  CHECK(fc.validate().ok());
  fc.batches = -2;
  CHECK(fc.validate().message().find("batches") != std::string::npos);

  ptq::HybridConv2DParams conv;
  conv.geometry = geometry(1, 3, 3, 4, 3, 3, 1, 1, 4);
  conv.weight_scales = {1.0f};
  CHECK(conv.validate().ok());
  conv.groups = 3;
  CHECK(conv.validate().message().find("groups") != std::string::npos);
  conv.groups = 1;
  conv.geometry.filter_width = 0;
  CHECK(conv.validate().message().find("filter_width") != std::string::npos);

  ptq::HybridDepthwiseConv2DParams dw;
  dw.geometry = geometry(1, 3, 3, 2, 3, 3, 1, 1, 4);
  dw.depth_multiplier = 2;
  dw.weight_scales = {1.0f, 1.0f, 1.0f, 1.0f};
  CHECK(dw.validate().ok());
  dw.depth_multiplier = 3;
  CHECK(dw.validate().message().find("depth_multiplier") != std::string::npos);
  dw.depth_multiplier = 2;
  dw.weight_scales[2] = std::nanf("");
  CHECK(dw.validate().message().find("weight_scales[2]") != std::string::npos);
}
}
