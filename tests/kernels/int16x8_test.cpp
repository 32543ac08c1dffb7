// int16x8_test.cpp: TFLite's 16x8 kernels (kernels/reference/{conv,pool,softmax}_16x8.hpp) on
// hand-worked cases -- the arithmetic is in the comments, the expected values come from it, not from
// the code -- and their runtime ops' prepare checks (runtime/ops/{conv,pool,nonlinear}.hpp) through
// the op registry.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptq/kernels/reference/conv_16x8.hpp"
#include "ptq/kernels/reference/pool_16x8.hpp"
#include "ptq/kernels/reference/softmax_16x8.hpp"
#include "support/op_harness.hpp"

namespace {

using ptq::DType;
using ptq::QuantizedMultiplier;
using ptq::ir::OpKind;
using ptq::ir::Quantization;

ptq::ConvGeometry one_by_one(int64_t width, int64_t in_c, int64_t out_c) {
  ptq::ConvGeometry g;
  g.input_height = g.output_height = 1;
  g.input_width = g.output_width = width;
  g.input_channels = in_c;
  g.output_channels = out_c;
  return g;
}

}  // namespace

TEST_CASE("16x8 int64 requantization: one rounding, ties toward +infinity") {
  // M = 0.5 -> (2^30, shift 0); reduced to 16 bits: (2^30 + 2^15) >> 16 = 16384; total shift 15:
  //   y = (acc * 16384 + 2^14) >> 15 = floor((acc + 1) / 2).
  const QuantizedMultiplier half = ptq::quantize_multiplier(0.5);
  REQUIRE(half.multiplier == (1 << 30));
  REQUIRE(half.shift == 0);
  CHECK(ptq::multiply_by_quantized_multiplier_64(3, half.multiplier, half.shift, ptq::RoundingMode::kDouble) == 2);
  CHECK(ptq::multiply_by_quantized_multiplier_64(-3, half.multiplier, half.shift, ptq::RoundingMode::kDouble) == -1);
  CHECK(ptq::multiply_by_quantized_multiplier_64(-4, half.multiplier, half.shift, ptq::RoundingMode::kDouble) == -2);
  // The mantissa keeps 15 bits: M = 0.3 -> (1288490189, shift -1) -> (1288490189 + 2^15) >> 16 = 19661,
  // total shift 16: (10^6 * 19661 + 2^15) >> 16 = 300003 (300003.05 + 0.5, floored), where the int32
  // multiply with the full mantissa gives 300000.
  const QuantizedMultiplier m = ptq::quantize_multiplier(0.3);
  REQUIRE(m.multiplier == 1288490189);
  REQUIRE(m.shift == -1);
  CHECK(ptq::multiply_by_quantized_multiplier_64(1000000, m.multiplier, m.shift, ptq::RoundingMode::kDouble) == 300003);
  CHECK(ptq::multiply_by_quantized_multiplier(1000000, m, ptq::RoundingMode::kDouble) == 300000);
}

TEST_CASE("16x8 conv2d: int64 accumulation, per-channel multipliers, tie and saturation") {
  // 1x1 conv, width 4, one input channel, two output channels with weights 1 and 127, bias 0 and 0,
  // multipliers 0.5 (2^30, 0) and 0.25 (2^30, -1):
  //   ch0: y = floor((x + 1) / 2)                        (shift 0: (x * 16384 + 2^14) >> 15)
  //   ch1: y = (127x * 16384 + 2^15) >> 16 = floor((127x + 2) / 4), then clamp to [-32768, 32767]
  ptq::Conv2D16x8Params p;
  p.geometry = one_by_one(4, 1, 2);
  p.multipliers = ptq::convolution_multipliers(1.0f, {0.5f, 0.25f}, 1.0f);
  REQUIRE(p.multipliers.size() == 2);
  CHECK(p.multipliers[1].multiplier == (1 << 30));
  CHECK(p.multipliers[1].shift == -1);
  const std::vector<int8_t> w = {1, 127};
  const std::vector<int64_t> bias = {0, 2};  // ch1: + 2 -> floor((127x + 4) / 4)
  REQUIRE(p.validate(bias.data()).ok());
  const std::vector<int16_t> x = {-3, 3, 32767, -32768};
  std::vector<int16_t> y(8, 0);
  ptq::reference::conv2d_16x8(p, x.data(), w.data(), bias.data(), y.data());
  // x = -3: ch0 floor(-2 / 2) = -1 (the tie -1.5 goes up); ch1 acc = -381 + 2 = -379: floor(-377 / 4) = -95
  //         (-94.75 rounds to -95).
  // x = 3:  ch0 floor(4 / 2) = 2; ch1 acc = 383: floor(385 / 4) = 96 (95.75).
  // x = 32767: ch0 16384; ch1 acc = 4161411 -> 1040353 -> clamp 32767.
  // x = -32768: ch0 floor(-32767 / 2) = -16384; ch1 acc = -4161534 -> -1040383 -> clamp -32768.
  CHECK(y == std::vector<int16_t>{-1, -95, 2, 96, 16384, 32767, -16384, -32768});

  // relu6 with output scale 1/4096: act range [0, round(6 * 4096)] = [0, 24576] -> clamp at 24576.
  p.activation_min = 0;
  p.activation_max = 24576;
  ptq::reference::conv2d_16x8(p, x.data(), w.data(), bias.data(), y.data());
  CHECK(y == std::vector<int16_t>{0, 0, 2, 96, 16384, 24576, 0, 0});
}

TEST_CASE("16x8 conv2d: a 3x3 window with padding sums only in-image taps") {
  // 2x2 input, one channel, 3x3 filter of ones, SAME padding (pad 1, output 2x2), bias 10, M = 1
  // (2^30, shift 1: reduced 16384, total shift 14, y = (acc * 16384 + 2^13) >> 14 = acc).
  // Every output window covers the whole 2x2 image: acc = 1 + 2 + 3 + 4 + 10 = 20.
  ptq::Conv2D16x8Params p;
  p.geometry = ptq::make_conv_geometry(ptq::Padding::kSame, 1, 2, 2, 1, 3, 3, 1, 1, 1, 1, 1);
  p.multipliers = {ptq::quantize_multiplier(1.0)};
  const std::vector<int8_t> w(9, 1);
  const std::vector<int64_t> bias = {10};
  REQUIRE(p.validate(bias.data()).ok());
  const std::vector<int16_t> x = {1, 2, 3, 4};
  std::vector<int16_t> y(4, 0);
  ptq::reference::conv2d_16x8(p, x.data(), w.data(), bias.data(), y.data());
  CHECK(y == std::vector<int16_t>{20, 20, 20, 20});
}

TEST_CASE("16x8 depthwise: channel c reads input channel c / depth_multiplier") {
  // Input 1x2 pixels x 2 channels: pixel 0 = (100, -200), pixel 1 = (300, 400); filter 1x2, depth
  // multiplier 1, weights [fx][c] = {(2, -3), (5, 7)}, bias (1, -1), M = 0.5 for both:
  //   ch0: 100 * 2 + 300 * 5 + 1 = 1701 -> floor(1702 / 2) = 851 (850.5 tie goes up)
  //   ch1: -200 * -3 + 400 * 7 - 1 = 3399 -> floor(3400 / 2) = 1700 (1699.5 tie goes up)
  ptq::DepthwiseConv2D16x8Params p;
  p.geometry = ptq::make_conv_geometry(ptq::Padding::kValid, 1, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1);
  p.multipliers = {ptq::quantize_multiplier(0.5)};
  const std::vector<int8_t> w = {2, -3, 5, 7};
  const std::vector<int64_t> bias = {1, -1};
  REQUIRE(p.validate(bias.data()).ok());
  const std::vector<int16_t> x = {100, -200, 300, 400};
  std::vector<int16_t> y(2, 0);
  ptq::reference::depthwise_conv2d_16x8(p, x.data(), w.data(), bias.data(), y.data());
  CHECK(y == std::vector<int16_t>{851, 1700});
}

TEST_CASE("16x8 fully connected: requantized in double, ties away from zero, saturating") {
  // Effective scale 1 * 0.5 / 1 = 0.5 (per tensor); y = clamp(round(acc * 0.5)) with std::round.
  ptq::FullyConnected16x8Params p;
  p.batches = 4;
  p.input_depth = 2;
  p.output_depth = 1;
  p.effective_scales = ptq::fully_connected_16x8_scales(1.0f, {0.5f}, 1.0f);
  REQUIRE(p.effective_scales[0] == 0.5);
  const std::vector<int8_t> w = {3, 5};
  const std::vector<int64_t> bias = {100};
  REQUIRE(p.validate(bias.data()).ok());
  const std::vector<int16_t> x = {1000, -2000, -1001, 0, 32767, 32767, -32768, -32768};
  std::vector<int16_t> y(4, 0);
  ptq::reference::fully_connected_16x8(p, x.data(), w.data(), bias.data(), y.data());
  // row 0: 3000 - 10000 + 100 = -6900 -> -3450
  // row 1: -3003 + 100 = -2903 -> -1451.5 -> -1452 (tie away from zero; the conv's int64 multiply
  //        would give -1451)
  // row 2: 8 * 32767 + 100 = 262236 -> 131118 -> 32767;  row 3: -262144 + 100 -> -131022 -> -32768
  CHECK(y == std::vector<int16_t>{-3450, -1452, 32767, -32768});

  // Per channel with relu: two units, scales 0.5 and 0.25 of the same weights row; act [0, 32767].
  p.batches = 1;
  p.output_depth = 2;
  p.effective_scales = ptq::fully_connected_16x8_scales(1.0f, {0.5f, 0.25f}, 1.0f);
  p.activation_min = 0;
  const std::vector<int8_t> w2 = {3, 5, 3, 5};
  const std::vector<int64_t> b2 = {2, 2};
  const std::vector<int16_t> x2 = {1, 1};  // acc = 10 for both: 5, then 2.5 -> 3
  std::vector<int16_t> y2(2, 0);
  ptq::reference::fully_connected_16x8(p, x2.data(), w2.data(), b2.data(), y2.data());
  CHECK(y2 == std::vector<int16_t>{5, 3});
  const std::vector<int16_t> x3 = {-1, -1};  // acc = -6: -3, -1.5 -> both clamped to 0 by relu
  ptq::reference::fully_connected_16x8(p, x3.data(), w2.data(), b2.data(), y2.data());
  CHECK(y2 == std::vector<int16_t>{0, 0});
}

TEST_CASE("16x8 pooling: average rounds half away from zero, max from -32768") {
  // 1x2 input rows pooled by a 1x2 VALID window, 3 images of 1 channel.
  ptq::PoolParams p = ptq::make_pool_params(ptq::Padding::kValid, 3, 1, 2, 1, 1, 2, 1, 2);
  p.activation_min = -32768;
  p.activation_max = 32767;
  REQUIRE(ptq::validate_pool_16x8(p).ok());
  const std::vector<int16_t> x = {3, 0, -3, 0, -32768, -32767};
  std::vector<int16_t> y(3, 0);
  // average: 3 / 2 = 1.5 -> (3 + 1) / 2 = 2; -1.5 -> (-3 - 1) / 2 = -2; -65535 / 2 -> (-65535 - 1) / 2 = -32768
  ptq::reference::average_pool(p, x.data(), y.data());
  CHECK(y == std::vector<int16_t>{2, -2, -32768});
  ptq::reference::max_pool(p, x.data(), y.data());
  CHECK(y == std::vector<int16_t>{3, 0, -32767});
  // relu clamp: [0, 32767]
  p.activation_min = 0;
  ptq::reference::average_pool(p, x.data(), y.data());
  CHECK(y == std::vector<int16_t>{2, 0, 0});
}

TEST_CASE("16x8 mean: readapted multiplier, double rounding, int16 clamp") {
  // x [1, 2, 2, 1] over axes {1, 2}; input scale = output scale, so M = 1 -> (2^30, shift 1);
  // count 4: k = min(floor(log2 4), 32, 31 + 1) = 2, M' = (2^30 << 2) / 4 = 2^30, shift' = 1 - 2 = -1,
  // i.e. y = RDBP(SRDHM(sum, 2^30), 1) = sum / 4 with each step rounding half away from zero.
  ptq::Result<ptq::MeanParams> made = ptq::make_mean_params(ptq::Shape{1, 2, 2, 1}, {1, 2});
  REQUIRE(made.ok());
  ptq::MeanParams p = *made;
  ptq::set_mean_quantization(&p, {0.001f, 0}, {0.001f, 0});
  CHECK(p.multiplier.multiplier == (1 << 30));
  CHECK(p.multiplier.shift == -1);
  std::vector<int16_t> y(1, 0);
  // sum 1001: SRDHM = round(1001 / 2) = 501 (500.5 up), RDBP(501, 1) = 250.5 -> 251
  const std::vector<int16_t> a = {100, 200, 300, 401};
  ptq::reference::mean(p, a.data(), y.data());
  CHECK(y[0] == 251);
  // (the exact mean is 250.25: the two roundings of TFLite's default build move it to 251)
  // sum 1000 -> 500 -> 250.
  const std::vector<int16_t> b = {100, 200, 300, 400};
  ptq::reference::mean(p, b.data(), y.data());
  CHECK(y[0] == 250);
  // sum -1002 (exact mean -250.5): SRDHM = trunc((-1002 * 2^30 + 1 - 2^30) / 2^31) = trunc(-501.5 + 2^-31)
  // = -501; RDBP(-501, 1): remainder 1, threshold 1, so -501 >> 1 = -251 (the tie away from zero).
  const std::vector<int16_t> c = {-100, -200, -300, -402};
  ptq::reference::mean(p, c.data(), y.data());
  CHECK(y[0] == -251);
  // Output scale a quarter of the input's: M = 4 -> the mean 32767 becomes 131068, clamped to 32767.
  ptq::set_mean_quantization(&p, {0.004f, 0}, {0.001f, 0});
  const std::vector<int16_t> d = {32767, 32767, 32767, 32767};
  ptq::reference::mean(p, d.data(), y.data());
  CHECK(y[0] == 32767);
  const std::vector<int16_t> e = {-32768, -32768, -32768, -32768};
  ptq::reference::mean(p, e.data(), y.data());
  CHECK(y[0] == -32768);
}

TEST_CASE("16x8 logistic: sigmoid table interpolation, power-of-two and general scales") {
  // Input scale 2^-12: CheckedLog2 -> -12, shift 12 - 12 = 0: the power-of-two case, v = 3x.
  ptq::Result<ptq::SigmoidTanh16x8Params> pot =
      ptq::make_sigmoid_tanh_16x8_params(ptq::SigmoidTanh16x8::kLogistic, 1.0f / 4096.0f, 1.0f / 32768.0f);
  REQUIRE(pot.ok());
  CHECK(pot->input_multiplier == 0);
  CHECK(pot->input_left_shift == 0);
  const std::vector<int16_t> x = {0, 4096, -4096};
  std::vector<int16_t> y(3, 0);
  ptq::reference::logistic_16x8(*pot, x.data(), y.data(), x.size());
  // x = 0: v = 0, h = 0: r = T[0] << 9 = 32768 * 512 = 16777216; (r + 512) >> 10 = 16384 (0.5)
  // x = 4096 (1.0): v = 12288, h = 12288 >> 9 = 24, frac 0: r = T[24] << 9 = 47911 * 512 = 24530432;
  //                 (r + 512) >> 10 = 23956 (0.73108; sigmoid(1) = 0.73106)
  // x = -4096: 2^25 - 24530432 + 512 - 1 = 9024511; >> 10 = 8812 (0.26892)
  CHECK(y == std::vector<int16_t>{16384, 23956, 8812});

  // Input scale 2^-11: shift 1 is not a power-of-two case for logistic -> general multiplier:
  // 2^-11 * 4096 * 3 = 6, doubled 12 times to 24576 (> 16383.5), shift 12.
  ptq::Result<ptq::SigmoidTanh16x8Params> general =
      ptq::make_sigmoid_tanh_16x8_params(ptq::SigmoidTanh16x8::kLogistic, 1.0f / 2048.0f, 1.0f / 32768.0f);
  REQUIRE(general.ok());
  CHECK(general->input_multiplier == 24576);
  CHECK(general->input_left_shift == 12);
  const std::vector<int16_t> ends = {32767, -32768};
  ptq::reference::logistic_16x8(*general, ends.data(), y.data(), 2);
  // 32767: v = (32767 * 24576 + 2048) >> 12 = 196602, h >= 255: r = 0x7FFF << 10; (r + 512) >> 10 = 32767
  // -32768: v = -196608: 2^25 - (0x7FFF << 10) + 511 = 1535; >> 10 = 1
  CHECK(y[0] == 32767);
  CHECK(y[1] == 1);

  // Output scale must be exactly 1/32768.
  CHECK_FALSE(ptq::make_sigmoid_tanh_16x8_params(ptq::SigmoidTanh16x8::kLogistic, 1.0f / 4096.0f, 1.0f / 256.0f).ok());
  // Input scales whose 15-bit multiplier would overflow TFLite's int32 arithmetic are refused.
  CHECK_FALSE(ptq::make_sigmoid_tanh_16x8_params(ptq::SigmoidTanh16x8::kLogistic, 3.0f, 1.0f / 32768.0f).ok());
}

TEST_CASE("16x8 tanh: odd symmetry and saturation at +-32767") {
  ptq::Result<ptq::SigmoidTanh16x8Params> p =
      ptq::make_sigmoid_tanh_16x8_params(ptq::SigmoidTanh16x8::kTanh, 1.0f / 4096.0f, 1.0f / 32768.0f);
  REQUIRE(p.ok());
  const std::vector<int16_t> x = {0, 2048, -2048, 32767, -32768};
  std::vector<int16_t> y(5, 0);
  ptq::reference::tanh_16x8(*p, x.data(), y.data(), x.size());
  // v = 3x. x = 0: r = T[0] << 8 = 2^23; r - 2^23 + 2^7 = 128; >> 8 = 0
  // x = 2048 (0.5): v = 6144, h = 24, frac 0: r = 47911 << 8 = 12265216; - 2^23 + 128 = 3876736;
  //                 >> 8 = 15143 (tanh(0.5) = 0.46212 = 15142.7 / 32768)
  // x = -2048: -12265216 + 2^23 + 127 = -3876481; >> 8 (arithmetic) = floor(-15142.5) = -15143
  // x = 32767: v = 98301, h = 383 >= 255: r = 0xFFFF << 8 = 16776960; - 2^23 + 128 = 8388480; >> 8 = 32767
  // x = -32768: v = -98304: -16776960 + 2^23 + 127 = -8388225; >> 8 = -32767
  CHECK(y == std::vector<int16_t>{0, 15143, -15143, 32767, -32767});
  // Input scale 2^-11: shift 1 is a power-of-two case for tanh (multiplier 3 << 1 = 6, shift 0).
  ptq::Result<ptq::SigmoidTanh16x8Params> p2 =
      ptq::make_sigmoid_tanh_16x8_params(ptq::SigmoidTanh16x8::kTanh, 1.0f / 2048.0f, 1.0f / 32768.0f);
  REQUIRE(p2.ok());
  CHECK(p2->input_multiplier == 0);
  CHECK(p2->input_left_shift == 1);
  const std::vector<int16_t> x2 = {1024};  // 0.5 again: v = 6144 -> 15143
  ptq::reference::tanh_16x8(*p2, x2.data(), y.data(), 1);
  CHECK(y[0] == 15143);
}

TEST_CASE("16x8 lookup tables: interpolation and the exp table's end points") {
  // A ramp lut[i] = 64 * (i - 256): lookup(x) = 64 * (x >> 7) + ((64 * (x & 127) + 64) >> 7).
  ptq::Int16LookupTable ramp{};
  for (int i = 0; i < 513; ++i) ramp[static_cast<std::size_t>(i)] = static_cast<int16_t>(64 * (i - 256));
  CHECK(ptq::reference::lookup_int16(ramp, 1000) == 500);   // 448 + ((64 * 104 + 64) >> 7) = 448 + 52
  CHECK(ptq::reference::lookup_int16(ramp, -1) == 0);       // -64 + ((64 * 127 + 64) >> 7) = -64 + 64
  CHECK(ptq::reference::lookup_int16(ramp, -32768) == -16384);
  CHECK(ptq::reference::lookup_int16(ramp, 32767) == 16384);  // 16320 + ((64 * 127 + 64) >> 7)

  // Softmax's exp table over [-10, 0], output scale 2 / 65535 (inv = 65536 / 2 = 32768):
  //   lut[512] = clamp(round(exp(0) * 32768)) = 32767;
  //   lut[0]: v = exp(-10) * 32768 = 1.4877 -> 1; v_next = exp(-10 + 10/512) * 32768 = 1.5170;
  //           v_mid = exp(-10 + 5/512) * 32768 = 1.5023 -> 2; interpolated mid = round((1.5170 + 1) / 2) = 1;
  //           bias = round((1 - 2) / 2) = -1 (half away from zero); lut[0] = 1 - (-1) = 2.
  ptq::Result<ptq::Softmax16x8Params> s = ptq::make_softmax_16x8_params(1, 4, 1.0f, 10.0f / 65535.0f);
  REQUIRE(s.ok());
  CHECK(s->exp_lut[512] == 32767);
  CHECK(s->exp_lut[0] == 2);
  // 1 / (1 + x) over [0, 1]: lut[0] = clamp(round(1 * 32768)) = 32767, lut[512] = round(0.5 * 32768) = 16384.
  CHECK(s->reciprocal_lut[0] == 32767);
  CHECK(s->reciprocal_lut[512] == 16384);
  // Input scale 10 / 65535 and beta 1: real multiplier float(10 / 65535) / (10 / 65535), 1 to within a
  // float's rounding.
  CHECK(std::abs(s->input_multiplier.real() - 1.0) < 1e-6);
}

TEST_CASE("16x8 softmax: uniform rows split 32768 evenly, a dominant value takes nearly all") {
  ptq::Result<ptq::Softmax16x8Params> s = ptq::make_softmax_16x8_params(2, 4, 1.0f, 10.0f / 65535.0f);
  REQUIRE(s.ok());
  // Row 0 uniform: every e_c is the same table value E ~ 32767, sum = 4E, outputs e_c / sum = 1/4:
  //   8192 within a unit (the reciprocal is itself a table value).
  // Row 1: one value 65535 input steps (10.0) above the others: the others' exp is the table's
  //   lowest segment (~exp(-10) * 32768 = 1.5), so the dominant output is ~32767 and the others ~1 or 0.
  const std::vector<int16_t> x = {7, 7, 7, 7, 32767, -32768, -32768, -32768};
  std::vector<int16_t> y(8, 0);
  ptq::reference::softmax_16x8(*s, x.data(), y.data());
  for (int c = 0; c < 4; ++c) CHECK(std::abs(y[static_cast<std::size_t>(c)] - 8192) <= 1);
  CHECK(y[0] == y[1]);
  CHECK(y[4] >= 32750);
  for (int c = 5; c < 8; ++c) CHECK(y[static_cast<std::size_t>(c)] <= 2);
  // Rows longer than 65536 could wrap the int32 sum: refused.
  CHECK_FALSE(ptq::make_softmax_16x8_params(1, 65537, 1.0f, 0.001f).ok());
}

// ---- the runtime ops' prepare checks ------------------------------------------------------------

TEST_CASE("16x8 ops: prepare refuses bad parameters with errors naming the tensor") {
  const auto fc = [](DType bias_type, int32_t input_zero_point) {
    auto h = std::make_unique<ptq_test::OpHarness>();
    const auto x = h->input("x", DType::kInt16, {1, 2}, Quantization::per_tensor(0.001f, input_zero_point));
    const auto w = h->constant<int8_t>("w", DType::kInt8, {1, 2}, {3, 5}, Quantization::per_tensor(0.01f, 0));
    ptq::ir::TensorId b;
    if (bias_type == DType::kInt64) {
      b = h->constant<int64_t>("b", DType::kInt64, {1}, {7});
    } else {
      b = h->constant<int32_t>("b", DType::kInt32, {1}, {7});
    }
    const auto y = h->output("y", DType::kInt16, {1, 1}, Quantization::per_tensor(0.002f, 0));
    h->op(OpKind::kFullyConnected, {x, w, b}, {y});
    return h;
  };
  {
    auto h = fc(DType::kInt64, 0);
    REQUIRE(h->prepare().ok());
    // acc = 3 * 100 + 5 * -20 + 7 = 207; scale 0.001 * 0.01 / 0.002 = 0.005: round(1.035) = 1
    h->set<int16_t>(0, {100, -20});
    h->run();
    CHECK(h->get<int16_t>(3) == std::vector<int16_t>{1});
  }
  {
    auto h = fc(DType::kInt32, 0);
    const ptq::Status s = h->prepare();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("'b' (bias) is int32") != std::string::npos);
  }
  {
    auto h = fc(DType::kInt64, 5);
    const ptq::Status s = h->prepare();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("'x' is int16 with zero point 5") != std::string::npos);
  }
  {
    // A bias beyond 2^46 would take the int64 accumulator past what the requantization assumes.
    ptq_test::OpHarness h;
    const auto x = h.input("x", DType::kInt16, {1, 1, 1, 1}, Quantization::per_tensor(0.001f, 0));
    const auto w = h.constant<int8_t>("w", DType::kInt8, {1, 1, 1, 1}, {1}, Quantization::per_tensor(0.01f, 0));
    const auto b = h.constant<int64_t>("b", DType::kInt64, {1}, {int64_t{1} << 50});
    const auto y = h.output("y", DType::kInt16, {1, 1, 1, 1}, Quantization::per_tensor(0.002f, 0));
    h.op(OpKind::kConv2D, {x, w, b}, {y});
    const ptq::Status s = h.prepare();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("bias[0]") != std::string::npos);
  }
  {
    // int16 Tanh with a non power-of-two output scale.
    ptq_test::OpHarness h;
    const auto x = h.input("x", DType::kInt16, {4}, Quantization::per_tensor(0.001f, 0));
    const auto y = h.output("y", DType::kInt16, {4}, Quantization::per_tensor(0.001f, 0));
    h.op(OpKind::kTanh, {x}, {y});
    const ptq::Status s = h.prepare();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("2^-15") != std::string::npos);
  }
  {
    // int16 average pool whose output parameters differ from the input's.
    ptq_test::OpHarness h;
    const auto x = h.input("x", DType::kInt16, {1, 2, 2, 1}, Quantization::per_tensor(0.001f, 0));
    const auto y = h.output("y", DType::kInt16, {1, 1, 1, 1}, Quantization::per_tensor(0.002f, 0));
    ptq::ir::Attributes a;
    a.filter_h = a.filter_w = 2;
    a.stride_h = a.stride_w = 2;
    h.op(OpKind::kAveragePool2D, {x}, {y}, a);
    const ptq::Status s = h.prepare();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("int16 pooling requires the input's parameters") != std::string::npos);
  }
}
