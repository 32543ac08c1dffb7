// reference/pointwise.hpp: the float activations on signed zeros, NaN and infinities; quantized
// Relu/Relu6/ReluN1To1 and LeakyRelu worked by hand in both rounding modes and swept against an
// int64 re-derivation; int8 HardSwish through TFLite's fixed-point steps by hand and within a step
// of the real function; the Clip and HardSigmoid lookup tables against their defining formula.
// The double-rounding int8 values worked by hand here (Relu family, LeakyRelu including a negative
// alpha, HardSwish) were also confirmed with LiteRT's reference kernels (ai-edge-litert 2.3).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/pointwise_oracle.hpp"
#include "ptq/kernels/reference/pointwise.hpp"
#include "support/isa_coverage.hpp"

namespace {

using ptq::FusedActivation;
using ptq::QuantParams;
using ptq::RoundingMode;

constexpr RoundingMode kModes[] = {RoundingMode::kDouble, RoundingMode::kSingle};

template <class T>
std::vector<T> run_relu(const ptq::QuantizedReluParams& p, const std::vector<T>& x) {
  REQUIRE(p.validate<T>().ok());
  std::vector<T> y(x.size(), 0);
  ptq::reference::relu_quantized<T>(p, x.data(), y.data(), x.size());
  return y;
}

std::vector<int8_t> all_int8() {
  std::vector<int8_t> v;
  for (int q = -128; q <= 127; ++q) v.push_back(static_cast<int8_t>(q));
  return v;
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("pointwise: float Relu, Relu6, ReluN1To1 in TFLite's spellings (-0, NaN, inf)") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {-3.0f, -0.0f, 0.25f, 5.0f, 7.0f, inf, -inf, std::nanf("")};
  std::vector<float> y(x.size());
  ptq::reference::relu(x.data(), y.data(), x.size());  // x < 0 ? 0 : x
  CHECK(y[0] == 0.0f);
  CHECK(std::signbit(y[1]));  // -0.0 is not < 0: kept
  CHECK(y[2] == 0.25f);
  CHECK(y[4] == 7.0f);
  CHECK(y[5] == inf);
  CHECK(y[6] == 0.0f);
  CHECK(std::isnan(y[7]));
  ptq::reference::relu6(x.data(), y.data(), x.size());  // min(max(0, x), 6)
  CHECK(y == std::vector<float>{0.0f, 0.0f, 0.25f, 5.0f, 6.0f, 6.0f, 0.0f, 0.0f});
  CHECK_FALSE(std::signbit(y[1]));  // max(0, -0) is the first argument, +0; max(0, NaN) is 0
  ptq::reference::relu_n1_to_1(x.data(), y.data(), x.size());  // x > 1 ? 1 : x < -1 ? -1 : x
  CHECK(y[0] == -1.0f);
  CHECK(std::signbit(y[1]));
  CHECK(y[2] == 0.25f);
  CHECK(y[3] == 1.0f);
  CHECK(y[6] == -1.0f);
  CHECK(std::isnan(y[7]));
}

TEST_CASE("pointwise: float Clip, LeakyRelu, HardSwish, HardSigmoid") {
  const std::vector<float> x = {-5.0f, -2.0f, -0.5f, 0.0f, 1.0f, 2.5f, 4.0f};
  std::vector<float> y(x.size());
  ptq::reference::clip(x.data(), y.data(), x.size(), -1.0f, 2.0f);
  CHECK(y == std::vector<float>{-1.0f, -1.0f, -0.5f, 0.0f, 1.0f, 2.0f, 2.0f});

  ptq::reference::leaky_relu(x.data(), y.data(), x.size(), 0.1f);  // x > 0 ? x : x * alpha
  CHECK(y == std::vector<float>{-5.0f * 0.1f, -2.0f * 0.1f, -0.5f * 0.1f, 0.0f, 1.0f, 2.5f, 4.0f});
  ptq::reference::leaky_relu(x.data(), y.data(), x.size(), -2.0f);  // a negative alpha flips
  CHECK(y == std::vector<float>{10.0f, 4.0f, 1.0f, -0.0f, 1.0f, 2.5f, 4.0f});

  // x * min(6, max(0, x + 3)) / 6: -5 -> -5 * 0 / 6 = -0; -2 -> -2 * 1 / 6; -0.5 -> -0.5 * 2.5 / 6;
  // 1 -> 4 / 6; 2.5 -> 2.5 * 5.5 / 6; 4 -> 4 * 6 / 6 = 4.
  ptq::reference::hard_swish(x.data(), y.data(), x.size());
  CHECK(y[0] == 0.0f);
  CHECK(std::signbit(y[0]));
  CHECK(y[1] == -2.0f / 6.0f);
  CHECK(y[2] == -1.25f / 6.0f);
  CHECK(y[3] == 0.0f);
  CHECK(y[4] == 4.0f / 6.0f);
  CHECK(y[5] == 13.75f / 6.0f);
  CHECK(y[6] == 4.0f);

  // max(0, min(1, 0.2 x + 0.5)): -5 -> 0; -2 -> 0.1; -0.5 -> 0.4; 0 -> 0.5; 1 -> 0.7; 2.5 -> 1; 4 -> 1.
  ptq::reference::hard_sigmoid(x.data(), y.data(), x.size(), 0.2f, 0.5f);
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == 0.2f * -2.0f + 0.5f);
  CHECK(y[2] == 0.2f * -0.5f + 0.5f);
  CHECK(y[3] == 0.5f);
  CHECK(y[4] == 0.2f + 0.5f);
  CHECK(y[5] == 1.0f);
  CHECK(y[6] == 1.0f);
}

TEST_CASE("pointwise: int8 Relu, Relu6, ReluN1To1 requantize, worked by hand") {
  // s_x = 0.5, zp_x = 0; s_y = 0.25, zp_y = -100: M = 2 = {2^30, 2}; y = -100 + 2 (x - 0), clamped:
  //   relu [-100, 127]; relu6 [-100, -100 + 24] = [-100, -76]; relu_n1_to_1 [-104, -96].
  //   x = [-10, 1, 5, 20, 127] -> unclamped [-120, -98, -90, -60, 154].
  const std::vector<int8_t> x = {-10, 1, 5, 20, 127};
  const QuantParams qx{0.5f, 0}, qy{0.25f, -100};
  const auto relu = ptq::make_quantized_relu_params<int8_t>(qx, qy, FusedActivation::kRelu);
  CHECK(relu.multiplier == ptq::QuantizedMultiplier{1 << 30, 2});
  CHECK(run_relu(relu, x) == std::vector<int8_t>{-100, -98, -90, -60, 127});
  const auto relu6 = ptq::make_quantized_relu_params<int8_t>(qx, qy, FusedActivation::kRelu6);
  CHECK(relu6.activation_max == -76);
  CHECK(run_relu(relu6, x) == std::vector<int8_t>{-100, -98, -90, -76, -76});
  const auto relu1 = ptq::make_quantized_relu_params<int8_t>(qx, qy, FusedActivation::kReluN1To1);
  CHECK(run_relu(relu1, x) == std::vector<int8_t>{-104, -98, -96, -96, -96});
  // Extreme zero points: zp_x = -128 (x - zp in [0, 255]), zp_y = 127: relu's range is [127, 127].
  const auto top = ptq::make_quantized_relu_params<int8_t>(QuantParams{0.5f, -128}, QuantParams{0.5f, 127},
                                                           FusedActivation::kRelu);
  CHECK(run_relu(top, std::vector<int8_t>{-128, 0, 127}) == std::vector<int8_t>{127, 127, 127});
}

TEST_CASE("pointwise: int8 ReluN1To1 rounds negative ties differently in the two modes") {
  // s_x = 0.25, s_y = 1: M = 0.25 = {2^30, -1}; bounds [-1, 1].
  //   x = -2 -> -0.5: double SRDHM(-2, 2^30) = -1, RDBP(-1, 1) = -1; single (-2 * 2^30 + 2^31) >> 32 = 0.
  //   x = 2 -> 0.5 -> 1 in both; x = -6 -> -1.5 -> -2 or -1, clamped to -1 either way.
  const std::vector<int8_t> x = {-2, 2, -6};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const auto p = ptq::make_quantized_relu_params<int8_t>(QuantParams{0.25f, 0}, QuantParams{1.0f, 0},
                                                           FusedActivation::kReluN1To1, mode);
    CHECK(run_relu(p, x) == std::vector<int8_t>{static_cast<int8_t>(mode == RoundingMode::kDouble ? -1 : 0), 1, -1});
  }
}

TEST_CASE("pointwise: int16 Relu and Relu6 (zero points 0)") {
  // s_x = 2^-8, s_y = 2^-9: M = 2; relu6 bound round(6 / 2^-9) = 3072.
  const auto relu = ptq::make_quantized_relu_params<int16_t>(QuantParams{0.00390625f, 0}, QuantParams{0.001953125f, 0},
                                                             FusedActivation::kRelu);
  CHECK(run_relu(relu, std::vector<int16_t>{-300, 7, 1000, 32767}) == std::vector<int16_t>{0, 14, 2000, 32767});
  const auto relu6 = ptq::make_quantized_relu_params<int16_t>(QuantParams{0.00390625f, 0}, QuantParams{0.001953125f, 0},
                                                              FusedActivation::kRelu6);
  CHECK(run_relu(relu6, std::vector<int16_t>{-300, 7, 1000, 32767}) == std::vector<int16_t>{0, 14, 2000, 3072});
}

TEST_CASE("pointwise: int8 Relu family swept against an int64 re-derivation") {
  namespace o = pointwise_oracle;
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> q8(-128, 127);
  std::uniform_real_distribution<float> log_scale(-8.0f, 2.0f);
  const std::vector<int8_t> x = all_int8();
  const int rounds = ptq_test::kSanitized ? 20 : 100;
  for (int round = 0; round < rounds; ++round) {
    QuantParams qx, qy;
    qx.scale = std::exp2(log_scale(rng));
    qy.scale = std::exp2(log_scale(rng));
    qx.zero_point = q8(rng);
    qy.zero_point = q8(rng);
    const RoundingMode mode = kModes[round % 2];
    const FusedActivation kind = round % 3 == 0 ? FusedActivation::kRelu
                                                : (round % 3 == 1 ? FusedActivation::kRelu6 : FusedActivation::kReluN1To1);
    CAPTURE(round);
    const auto p = ptq::make_quantized_relu_params<int8_t>(qx, qy, kind, mode);
    const std::vector<int8_t> y = run_relu(p, x);
    // ReluPrepare: M = s_x / s_y in float; QuantizedReluX: bounds zp + round(bound / s_y).
    const o::Multiplier m = o::quantize(static_cast<double>(qx.scale / qy.scale));
    const auto bound = [&](float f) { return o::clamp(qy.zero_point + static_cast<int64_t>(std::round(f / qy.scale)), -128, 127); };
    const int64_t lo = bound(kind == FusedActivation::kReluN1To1 ? -1.0f : 0.0f);
    const int64_t hi = kind == FusedActivation::kRelu ? 127 : bound(kind == FusedActivation::kRelu6 ? 6.0f : 1.0f);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const int64_t expected = o::clamp(qy.zero_point + o::requantize(x[i] - qx.zero_point, m, mode), lo, hi);
      CHECK(y[i] == expected);
    }
  }
}

TEST_CASE("pointwise: int8 LeakyRelu worked by hand, both rounding modes, alpha < 0 and > 1") {
  // s_x = 0.5, zp_x = 10; s_y = 0.25, zp_y = -20; alpha = 0.125:
  //   M_id = 2 = {2^30, 2}; M_alpha = 0.5 * 0.125 / 0.25 = 0.25 = {2^30, -1}.
  //   x = 10 -> d 0 -> -20.  x = 30 -> d 20 -> 40 -> 20.  x = 127 -> d 117 -> 234 -> 127 (saturates).
  //   x = 0 -> d -10 -> -2.5: double -3 -> -23, single -2 -> -22.
  //   x = 8 -> d -2 -> -0.5: double -1 -> -21, single 0 -> -20.
  //   x = -128 -> d -138 -> -34.5: double -35 -> -55, single -34 -> -54.
  const std::vector<int8_t> x = {10, 30, 127, 0, 8, -128};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const auto p = ptq::make_quantized_leaky_relu_params(QuantParams{0.5f, 10}, QuantParams{0.25f, -20}, 0.125f, mode);
    REQUIRE(p.validate<int8_t>().ok());
    CHECK(p.identity_multiplier == ptq::QuantizedMultiplier{1 << 30, 2});
    CHECK(p.alpha_multiplier == ptq::QuantizedMultiplier{1 << 30, -1});
    std::vector<int8_t> y(x.size(), 0);
    ptq::reference::leaky_relu_quantized<int8_t>(p, x.data(), y.data(), x.size());
    const bool dbl = mode == RoundingMode::kDouble;
    CHECK(y == std::vector<int8_t>{-20, 20, 127, static_cast<int8_t>(dbl ? -23 : -22), static_cast<int8_t>(dbl ? -21 : -20),
                                   static_cast<int8_t>(dbl ? -55 : -54)});
  }
  // alpha = -0.5: M_alpha = -1, applied as -(d * |M|) with |M| = {2^30, 1}: d = -10 -> +10 -> -10;
  // d = 20 -> 40 -> 20 (identity).
  // alpha = 3: M_alpha = 6: d = -10 -> -60 -> -80; d = -30 -> -180 -> -128.
  const std::vector<int8_t> x2 = {0, 30, -20};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    std::vector<int8_t> y(3, 0);
    const auto neg = ptq::make_quantized_leaky_relu_params(QuantParams{0.5f, 10}, QuantParams{0.25f, -20}, -0.5f, mode);
    REQUIRE(neg.validate<int8_t>().ok());
    ptq::reference::leaky_relu_quantized<int8_t>(neg, x2.data(), y.data(), 3);
    CHECK(y == std::vector<int8_t>{-10, 20, 10});  // d = -30 -> +30 -> -20 + 30
    const auto big = ptq::make_quantized_leaky_relu_params(QuantParams{0.5f, 10}, QuantParams{0.25f, -20}, 3.0f, mode);
    REQUIRE(big.validate<int8_t>().ok());
    ptq::reference::leaky_relu_quantized<int8_t>(big, x2.data(), y.data(), 3);
    CHECK(y == std::vector<int8_t>{-80, 20, -128});
  }
  // A negative alpha on a tie, where the sign handling shows (LiteRT's QuantizeLeakyRelu negates the
  // product by |M|; multiplying by a negative mantissa would round the other way):
  // s_x = 0.05, s_y = 0.01, alpha = -3.5, zero points 0: |M_alpha| = 17.5 = {1174405120, 5}.
  //   d = -1: double SRDHM(-32, 1174405120) = -17.5, ties toward +inf -> -17, negated: 17;
  //           single (-1174405120 + 2^25) >> 26 = -17 -> 17.   (-1 * -17.5 directly would give 18.)
  //   d = -3: -52.5 -> -52 -> 52.   d = -8: 140 -> 127.
  const std::vector<int8_t> x3 = {-1, -3, -8};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const auto p = ptq::make_quantized_leaky_relu_params(QuantParams{0.05f, 0}, QuantParams{0.01f, 0}, -3.5f, mode);
    REQUIRE(p.validate<int8_t>().ok());
    CHECK(p.alpha_negative);
    CHECK(p.alpha_multiplier == ptq::QuantizedMultiplier{1174405120, 5});
    std::vector<int8_t> y(3, 0);
    ptq::reference::leaky_relu_quantized<int8_t>(p, x3.data(), y.data(), 3);
    CHECK(y == std::vector<int8_t>{17, 52, 127});
  }
}

TEST_CASE("pointwise: int8 and int16 LeakyRelu swept against an int64 re-derivation") {
  namespace o = pointwise_oracle;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> q8(-128, 127);
  std::uniform_int_distribution<int> q16(-32768, 32767);
  std::uniform_real_distribution<float> log_scale(-8.0f, 2.0f);
  std::uniform_real_distribution<float> alphas(-1.0f, 2.0f);
  const std::vector<int8_t> x = all_int8();
  const int rounds = ptq_test::kSanitized ? 20 : 100;
  for (int round = 0; round < rounds; ++round) {
    QuantParams qx, qy;
    qx.scale = std::exp2(log_scale(rng));
    qy.scale = std::exp2(log_scale(rng));
    qx.zero_point = q8(rng);
    qy.zero_point = q8(rng);
    const float alpha = alphas(rng);
    const RoundingMode mode = kModes[round % 2];
    CAPTURE(round);
    const auto p = ptq::make_quantized_leaky_relu_params(qx, qy, alpha, mode);
    REQUIRE(p.validate<int8_t>().ok());
    std::vector<int8_t> y(x.size(), 0);
    ptq::reference::leaky_relu_quantized<int8_t>(p, x.data(), y.data(), x.size());
    // LeakyReluPrepare's float arithmetic; a negative alpha multiplies by |M| and negates.
    const double sign = alpha < 0.0f ? -1.0 : 1.0;
    const o::Multiplier m_id = o::quantize(static_cast<double>(qx.scale / qy.scale));
    const o::Multiplier m_alpha = o::quantize(sign * static_cast<double>(qx.scale * alpha / qy.scale));
    const auto leaky = [&](int64_t d, o::Multiplier id, o::Multiplier al) {
      return d >= 0 ? o::requantize(d, id, mode) : static_cast<int64_t>(sign) * o::requantize(d, al, mode);
    };
    for (std::size_t i = 0; i < x.size(); ++i) {
      const int64_t d = x[i] - qx.zero_point;
      CHECK(y[i] == o::clamp(qy.zero_point + leaky(d, m_id, m_alpha), -128, 127));
    }
    // int16, zero points 0, on random values.
    const QuantParams sx{qx.scale / 256.0f, 0}, sy{qy.scale / 256.0f, 0};
    const auto p16 = ptq::make_quantized_leaky_relu_params(sx, sy, alpha, mode);
    REQUIRE(p16.validate<int16_t>().ok());
    std::vector<int16_t> x16(31), y16(31);
    for (auto& v : x16) v = static_cast<int16_t>(q16(rng));
    ptq::reference::leaky_relu_quantized<int16_t>(p16, x16.data(), y16.data(), x16.size());
    const o::Multiplier n_id = o::quantize(static_cast<double>(sx.scale / sy.scale));
    const o::Multiplier n_alpha = o::quantize(sign * static_cast<double>(sx.scale * alpha / sy.scale));
    for (std::size_t i = 0; i < x16.size(); ++i) {
      CHECK(y16[i] == o::clamp(leaky(x16[i], n_id, n_alpha), -32768, 32767));
    }
  }
}

TEST_CASE("pointwise: int8 HardSwish through TFLite's fixed-point steps, worked by hand") {
  // s_x = 3/64, s_y = 3/128, zero points 0.
  //   hires = s_x / 128 = 3/8192; output multiplier = hires / s_y = 1/64 = 0.5 * 2^-5
  //     -> mantissa 2^30 -> int16 (2^30 + 2^15) >> 16 = 16384, exponent -5.
  //   reluish multiplier = hires / (3/32768) = 4 = 0.5 * 2^3 -> 16384, exponent 3.
  // x = 32 (1.5, hard_swish 1.125 = 48 s_y): v = 32 * 128 = 4096; pre = SRDHM16(4096, 16384) = 2048;
  //   r = sat(4096 * 2^2) = 16384; SRDHM16(16384, 16384) = 8192; sat(8192 * 2) = 16384;
  //   r = (16384 + 32768) >> 1 = 24576; SDHM16(24576, 2048) = 1536; RDBP(1536, 5) = 48.
  // x = -32 (-1.5, hard_swish -0.375 = -16 s_y): v = -4096; pre = -2048; r = -16384 -> -8192 -> -16384;
  //   (-16384 + 32768) >> 1 = 8192; SDHM16(8192, -2048) = -512; RDBP(-512, 5) = -16.
  // x = -128 (-6, hard_swish 0): r saturates to -32768 twice; (-32768 + 32768) >> 1 = 0 -> 0.
  // x = 127 (5.95, hard_swish 5.95 = 254 s_y): v = 16256; pre = 8128; r = sat(65024) = 32767;
  //   SRDHM16(32767, 16384) = 16384; sat(32768) = 32767; (32767 + 32768) >> 1 = 32767;
  //   SDHM16(32767, 8128) = 8127 (truncated); RDBP(8127, 5) = 254 -> saturates to 127.
  const auto p = ptq::make_quantized_hard_swish_params(QuantParams{0.046875f, 0}, QuantParams{0.0234375f, 0});
  REQUIRE(p.ok());
  REQUIRE(p->validate().ok());
  CHECK(p->output_multiplier_fixedpoint_int16 == 16384);
  CHECK(p->output_multiplier_exponent == -5);
  CHECK(p->reluish_multiplier_fixedpoint_int16 == 16384);
  CHECK(p->reluish_multiplier_exponent == 3);
  const std::vector<int8_t> x = {32, -32, -128, 127, 0};
  std::vector<int8_t> y(x.size(), 0);
  ptq::reference::hard_swish_quantized(*p, x.data(), y.data(), x.size());
  CHECK(y == std::vector<int8_t>{48, -16, 0, 127, 0});

  // Zero points shift both sides: zp_x = 20, zp_y = -30: x = 52 is d = 32 -> 48 - 30 = 18.
  const auto shifted = ptq::make_quantized_hard_swish_params(QuantParams{0.046875f, 20}, QuantParams{0.0234375f, -30});
  REQUIRE(shifted.ok());
  const std::vector<int8_t> x2 = {52, -12, 20};
  ptq::reference::hard_swish_quantized(*shifted, x2.data(), y.data(), 3);
  CHECK(y[0] == 18);
  CHECK(y[1] == -46);  // d = -32 -> -16 - 30
  CHECK(y[2] == -30);  // d = 0

  // A right-shifting reluish multiplier: s_x = 3/1024 -> reluish 0.25 = {16384, -1}; s_y = 3/2048 ->
  // output 1/64 = {16384, -5}.
  // x = 100: v = 12800; pre = 6400; r = SRDHM16(12800, 16384) = 6400; RDBP(6400, 1) = 3200;
  //   (3200 + 32768) >> 1 = 17984; SDHM16(17984, 6400) = 3512 (3512.5 truncated); RDBP(3512, 5) = 110.
  // x = -100: r = -3200 -> 14784; SDHM16(14784, -6400) = -2887 (toward zero); RDBP(-2887, 5) = -90.
  const auto small = ptq::make_quantized_hard_swish_params(QuantParams{0.0029296875f, 0}, QuantParams{0.00146484375f, 0});
  REQUIRE(small.ok());
  CHECK(small->reluish_multiplier_exponent == -1);
  const std::vector<int8_t> x3 = {100, -100};
  ptq::reference::hard_swish_quantized(*small, x3.data(), y.data(), 2);
  CHECK(y[0] == 110);
  CHECK(y[1] == -90);

  // TFLite's Prepare rejects an output multiplier >= 1: s_x / (128 s_y) = 2.
  const auto bad = ptq::make_quantized_hard_swish_params(QuantParams{1.0f, 0}, QuantParams{0.00390625f, 0});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("not below 1") != std::string::npos);
}

TEST_CASE("pointwise: int8 HardSwish stays within one step of the real function") {
  // Every int8 input for several parameter sets: |y - quantize(hard_swish(dequantize(x)))| <= 1.
  const std::vector<int8_t> x = all_int8();
  const std::pair<QuantParams, QuantParams> sets[] = {
      {{0.046875f, 0}, {0.0234375f, 0}},  {{0.05f, -128}, {0.03f, -100}},   {{0.02f, 127}, {0.011f, 60}},
      {{0.1f, 5}, {0.05f, -128}},         {{0.003f, -7}, {0.0017f, 3}},     {{0.3f, 0}, {0.2f, -40}},
  };
  for (const auto& s : sets) {
    CAPTURE(s.first.scale);
    CAPTURE(s.second.scale);
    const auto p = ptq::make_quantized_hard_swish_params(s.first, s.second);
    REQUIRE(p.ok());
    std::vector<int8_t> y(x.size(), 0);
    ptq::reference::hard_swish_quantized(*p, x.data(), y.data(), x.size());
    int distinct = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double r = s.first.scale * static_cast<double>(x[i] - s.first.zero_point);
      const double h = r * std::min(6.0, std::max(0.0, r + 3.0)) / 6.0;
      const double q = std::max(-128.0, std::min(127.0, std::round(h / s.second.scale) + s.second.zero_point));
      CAPTURE(int{x[i]});
      CHECK(std::abs(y[i] - q) <= 1.0);
      distinct += i > 0 && y[i] != y[i - 1] ? 1 : 0;
    }
    CHECK(distinct > 20);
  }
}

TEST_CASE("pointwise: Clip and HardSigmoid int8 tables follow their defining formula") {
  // table[uint8(q)] = clamp(round(f(s_x * float(q - zp_x)) * (1 / s_y)) + zp_y, -128, 127), std::round.
  // Clip [0, 6], s_x = 0.1, zp_x = 0, s_y = 0.05, zp_y = -128:
  //   q = -5 -> 0 -> -128;  q = 10 -> 1.0 / 0.05 = 20 -> -108;  q = 127 -> 6 / 0.05 = 120 -> -8.
  const QuantParams cx{0.1f, 0}, cy{0.05f, -128};
  const ptq::Int8LookupTable clip =
      ptq::make_int8_lut(cx, cy, [](float v) { return ptq::reference::clip_one(v, 0.0f, 6.0f); });
  CHECK(clip[static_cast<uint8_t>(int8_t{-5})] == -128);
  CHECK(clip[static_cast<uint8_t>(int8_t{10})] == -108);
  CHECK(clip[static_cast<uint8_t>(int8_t{127})] == -8);
  // HardSigmoid alpha 0.2, beta 0.5, s_x = 0.1, s_y = 1/256, zp_y = -128:
  //   q = 0 -> 0.5 -> 128 -> 0;  q = -128 -> 0 -> -128;  q = 127 -> 1 -> 256 -> 127 (saturates);
  //   q = 10 -> 0.7 -> 179.2 -> 179 -> 51.
  const QuantParams hy{0.00390625f, -128};
  const ptq::Int8LookupTable hs =
      ptq::make_int8_lut(cx, hy, [](float v) { return ptq::reference::hard_sigmoid_one(v, 0.2f, 0.5f); });
  CHECK(hs[static_cast<uint8_t>(int8_t{0})] == 0);
  CHECK(hs[static_cast<uint8_t>(int8_t{-128})] == -128);
  CHECK(hs[static_cast<uint8_t>(int8_t{127})] == 127);
  CHECK(hs[static_cast<uint8_t>(int8_t{10})] == 51);

  // Every entry, and the lookup kernel, against the formula written out here.
  const QuantParams qx{0.037f, 17}, qy{0.021f, -9};
  const ptq::Int8LookupTable t =
      ptq::make_int8_lut(qx, qy, [](float v) { return ptq::reference::hard_sigmoid_one(v, 0.3f, 0.4f); });
  const std::vector<int8_t> x = all_int8();
  std::vector<int8_t> y(x.size(), 0);
  ptq::reference::lookup(t, x.data(), y.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float real = qx.scale * static_cast<float>(x[i] - qx.zero_point);
    const float f = std::max(0.0f, std::min(1.0f, 0.3f * real + 0.4f));
    const float q = std::round(f * (1.0f / qy.scale)) + static_cast<float>(qy.zero_point);
    CHECK(y[i] == static_cast<int8_t>(std::max(-128.0f, std::min(127.0f, q))));
  }
}

}  // TEST_SUITE
