// reference/elementwise.hpp: numpy broadcasting up to rank 6, float Add/Sub/Mul with every fused
// activation, int8 and int16 Add/Sub/Mul worked by hand in both rounding modes (extreme zero points,
// saturation), a random sweep against an independent int64 re-derivation and a float tolerance, and
// the params' validate(). The double-rounding values worked by hand here were also confirmed with
// LiteRT's reference kernels (ai-edge-litert 2.3, OpResolverType.BUILTIN_REF) on one-op models.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/pointwise_oracle.hpp"
#include "ptq/kernels/reference/elementwise.hpp"
#include "support/isa_coverage.hpp"

namespace {

using ptq::BroadcastLayout;
using ptq::FusedActivation;
using ptq::QuantParams;
using ptq::RoundingMode;
using ptq::Shape;

BroadcastLayout layout(const Shape& a, const Shape& b, const Shape& y) {
  ptq::Result<BroadcastLayout> l = ptq::make_broadcast_layout(a, b, y);
  REQUIRE(l.ok());
  return *l;
}

BroadcastLayout flat(int64_t n) { return layout({n}, {n}, {n}); }

constexpr RoundingMode kModes[] = {RoundingMode::kDouble, RoundingMode::kSingle};

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("pointwise: broadcast shapes follow numpy, aligned at the last dimension") {
  CHECK(*ptq::broadcast_shape({2, 1, 3}, {4, 1}) == Shape{2, 4, 3});
  CHECK(*ptq::broadcast_shape({}, {2, 3}) == Shape{2, 3});
  CHECK(*ptq::broadcast_shape({5}, {}) == Shape{5});
  CHECK(*ptq::broadcast_shape({}, {}) == Shape{});
  CHECK(*ptq::broadcast_shape({0, 3}, {1, 3}) == Shape{0, 3});
  CHECK(*ptq::broadcast_shape({1, 2, 1, 4, 1, 6}, {2, 3, 1, 5, 1}) == Shape{1, 2, 3, 4, 5, 6});
  const ptq::Result<Shape> bad = ptq::broadcast_shape({2, 3}, {4, 3});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("[2, 3] and [4, 3]") != std::string::npos);
  CHECK(bad.status().message().find("2 vs 4") != std::string::npos);
}

TEST_CASE("pointwise: broadcast layout strides, by hand") {
  // a [2, 1, 3] (row-major strides 3, 3, 1) against b [4, 1] -> y [2, 4, 3]; padded to rank 6:
  //   dims      [1, 1, 1, 2, 4, 3]
  //   a strides [0, 0, 0, 3, 0, 1]   (a's middle dim is 1: stride 0)
  //   b strides [0, 0, 0, 0, 1, 0]   (b is [1, 4, 1] once aligned)
  const BroadcastLayout l = layout({2, 1, 3}, {4, 1}, {2, 4, 3});
  CHECK(l.dims == std::array<int64_t, 6>{1, 1, 1, 2, 4, 3});
  CHECK(l.a_strides == std::array<int64_t, 6>{0, 0, 0, 3, 0, 1});
  CHECK(l.b_strides == std::array<int64_t, 6>{0, 0, 0, 0, 1, 0});
  CHECK_FALSE(l.elementwise);
  CHECK(l.num_elements() == 24);
  CHECK(layout({2, 3}, {2, 3}, {2, 3}).elementwise);
  // A scalar: stride 0 everywhere.
  const BroadcastLayout s = layout({}, {5}, {5});
  CHECK(s.a_strides == std::array<int64_t, 6>{0, 0, 0, 0, 0, 0});
  CHECK(s.b_strides == std::array<int64_t, 6>{0, 0, 0, 0, 0, 1});

  // The output must be the broadcast shape; ranks above 6 are not supported.
  const auto wrong = ptq::make_broadcast_layout({2, 1, 3}, {4, 1}, {2, 4, 4});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().message().find("[2, 4, 4] is not the broadcast [2, 4, 3]") != std::string::npos);
  const auto deep = ptq::make_broadcast_layout({1, 1, 1, 1, 1, 1, 2}, {2}, {1, 1, 1, 1, 1, 1, 2});
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().code() == ptq::StatusCode::kUnimplemented);
  CHECK(deep.status().message().find("rank 7") != std::string::npos);
}

TEST_CASE("pointwise: float Add, Sub, Mul broadcast [2,1,3] with [4,1] to [2,4,3]") {
  // a[i][0][k] = 3i + k + 1 (odd values and a half), b[j][0] = 10 (j + 1).
  const std::vector<float> a = {1.0f, 2.0f, 3.5f, 4.0f, 5.0f, -6.0f};
  const std::vector<float> b = {10.0f, 20.0f, 30.0f, 40.0f};
  const ptq::FloatBinaryParams p = ptq::make_float_binary_params(layout({2, 1, 3}, {4, 1}, {2, 4, 3}), FusedActivation::kNone);
  const ptq::FloatBinaryParams q = ptq::make_float_binary_params(layout({4, 1}, {2, 1, 3}, {2, 4, 3}), FusedActivation::kNone);
  std::vector<float> add(24), sub(24), mul(24), rsub(24);
  ptq::reference::add(p, a.data(), b.data(), add.data());
  ptq::reference::sub(p, a.data(), b.data(), sub.data());
  ptq::reference::mul(p, a.data(), b.data(), mul.data());
  ptq::reference::sub(q, b.data(), a.data(), rsub.data());  // operands swapped: b - a
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 3; ++k) {
        const std::size_t y = static_cast<std::size_t>((i * 4 + j) * 3 + k);
        const float av = a[static_cast<std::size_t>(i * 3 + k)], bv = b[static_cast<std::size_t>(j)];
        CAPTURE(y);
        CHECK(add[y] == av + bv);
        CHECK(sub[y] == av - bv);
        CHECK(mul[y] == av * bv);
        CHECK(rsub[y] == bv - av);
      }
    }
  }
  CHECK(add[23] == 40.0f - 6.0f);  // y[1][3][2] = a[1][0][2] + b[3][0]
}

TEST_CASE("pointwise: float Add/Sub/Mul with a scalar operand and every fused activation") {
  const std::vector<float> s = {2.5f};  // rank 0
  const std::vector<float> b = {-10.0f, -1.0f, 0.5f, 4.0f, 9.0f};
  const BroadcastLayout l = layout({}, {5}, {5});
  std::vector<float> y(5);
  struct Case {
    FusedActivation act;
    std::vector<float> add, sub, mul;
  };
  // add = 2.5 + b = [-7.5, 1.5, 3, 6.5, 11.5]; sub = 2.5 - b = [12.5, 3.5, 2, -1.5, -6.5];
  // mul = 2.5 b = [-25, -2.5, 1.25, 10, 22.5]; then each clamp.
  const Case cases[] = {
      {FusedActivation::kNone, {-7.5f, 1.5f, 3.0f, 6.5f, 11.5f}, {12.5f, 3.5f, 2.0f, -1.5f, -6.5f}, {-25.0f, -2.5f, 1.25f, 10.0f, 22.5f}},
      {FusedActivation::kRelu, {0.0f, 1.5f, 3.0f, 6.5f, 11.5f}, {12.5f, 3.5f, 2.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.25f, 10.0f, 22.5f}},
      {FusedActivation::kRelu6, {0.0f, 1.5f, 3.0f, 6.0f, 6.0f}, {6.0f, 3.5f, 2.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.25f, 6.0f, 6.0f}},
      {FusedActivation::kReluN1To1, {-1.0f, 1.0f, 1.0f, 1.0f, 1.0f}, {1.0f, 1.0f, 1.0f, -1.0f, -1.0f}, {-1.0f, -1.0f, 1.0f, 1.0f, 1.0f}},
  };
  for (const Case& c : cases) {
    CAPTURE(ptq::fused_activation_name(c.act));
    const ptq::FloatBinaryParams p = ptq::make_float_binary_params(l, c.act);
    ptq::reference::add(p, s.data(), b.data(), y.data());
    CHECK(y == c.add);
    ptq::reference::sub(p, s.data(), b.data(), y.data());
    CHECK(y == c.sub);
    ptq::reference::mul(p, s.data(), b.data(), y.data());
    CHECK(y == c.mul);
  }
}

TEST_CASE("pointwise: float Add clamps infinities to the finite range and passes NaN (TFLite's kNone)") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> a = {inf, -inf, std::nanf(""), 1.0f};
  const std::vector<float> b = {1.0f, 1.0f, 1.0f, std::numeric_limits<float>::max()};
  std::vector<float> y(4);
  ptq::reference::add(ptq::make_float_binary_params(flat(4), FusedActivation::kNone), a.data(), b.data(), y.data());
  CHECK(y[0] == std::numeric_limits<float>::max());
  CHECK(y[1] == std::numeric_limits<float>::lowest());
  CHECK(std::isnan(y[2]));
  CHECK(y[3] == std::numeric_limits<float>::max());
}

TEST_CASE("pointwise: int8 Add worked by hand, extreme zero points, both rounding modes") {
  // s_a = 0.5, zp_a = -128; s_b = 0.25, zp_b = 127; s_y = 1, zp_y = -5; left_shift 20.
  // twice_max = 1: Ma = 0.5 = {2^30, 0}, Mb = 0.25 = {2^30, -1}, Mo = 2^-20 = {2^30, -19}.
  // e0: a - zp = 3 (1.5), b - zp = -5 (-1.25): sa = 3*2^19, sb = -5*2^18, r = 2^18 -> 0.25 -> 0:  y = -5.
  // e1: a - zp = 1 (0.5), b - zp = -4 (-1): sa = 2^19, sb = -2^20, r = -2^19 = -0.5 * 2^20, a tie:
  //     double: SRDHM(-2^19, 2^30) = -2^18, RoundingDivideByPOT(-2^18, 19) = -0.5 -> -1:  y = -6;
  //     single: (-2^19 * 2^30 + 2^49) >> 50 = 0:                                        y = -5.
  // e2: a - zp = 255 (127.5), b - zp = 0: r = 255*2^19 -> 127.5 -> 128 (both):            y = 123.
  const std::vector<int8_t> a = {-125, -127, 127};
  const std::vector<int8_t> b = {122, 123, 127};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const ptq::QuantizedAddParams p = ptq::make_quantized_add_params<int8_t>(
        flat(3), QuantParams{0.5f, -128}, QuantParams{0.25f, 127}, QuantParams{1.0f, -5}, FusedActivation::kNone, mode);
    REQUIRE(p.validate<int8_t>().ok());
    CHECK(p.left_shift == 20);
    CHECK(p.input1_multiplier == ptq::QuantizedMultiplier{1 << 30, 0});
    CHECK(p.input2_multiplier == ptq::QuantizedMultiplier{1 << 30, -1});
    CHECK(p.output_multiplier == ptq::QuantizedMultiplier{1 << 30, -19});
    std::vector<int8_t> y(3, 0);
    ptq::reference::add(p, a.data(), b.data(), y.data());
    CHECK(y[0] == -5);
    CHECK(y[1] == (mode == RoundingMode::kDouble ? -6 : -5));
    CHECK(y[2] == 123);
  }
}

TEST_CASE("pointwise: int8 Sub worked by hand, saturation, both rounding modes") {
  // s_a = 0.5, zp_a = 127; s_b = 0.25, zp_b = -128; s_y = 1, zp_y = -5 (same multipliers as Add).
  // e0: a - zp = -1 (-0.5), b - zp = 0: r = -0.5 (a tie): double -1 -> y = -6; single 0 -> y = -5.
  // e1: a - zp = -3 (-1.5), b - zp = 6 (1.5): -1.5 - 1.5 = -3 exactly:                y = -8.
  // e2: a - zp = -255 (-127.5), b - zp = 255 (63.75): -191.25 -> -191, -196 saturates: y = -128.
  const std::vector<int8_t> a = {126, 124, -128};
  const std::vector<int8_t> b = {-128, -122, 127};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const ptq::QuantizedAddParams p = ptq::make_quantized_add_params<int8_t>(
        flat(3), QuantParams{0.5f, 127}, QuantParams{0.25f, -128}, QuantParams{1.0f, -5}, FusedActivation::kNone, mode);
    REQUIRE(p.validate<int8_t>().ok());
    std::vector<int8_t> y(3, 0);
    ptq::reference::sub(p, a.data(), b.data(), y.data());
    CHECK(y[0] == (mode == RoundingMode::kDouble ? -6 : -5));
    CHECK(y[1] == -8);
    CHECK(y[2] == -128);
  }
}

TEST_CASE("pointwise: int8 Mul worked by hand, saturation, both rounding modes") {
  // s_a = 0.5, zp_a = -128; s_b = 0.25, zp_b = 127; s_y = 0.5, zp_y = 3: M = 0.125 / 0.5 = 0.25
  // = {2^30, -1}.
  // e0: 6 * -7 = -42 -> -10.5: double SRDHM(-42, 2^30) = -21, RDBP(-21, 1) = -11 -> y = -8;
  //     single (-42 * 2^30 + 2^31) >> 32 = -10 -> y = -7.
  // e1: 10 * -3 = -30 -> -7.5: double -8 -> y = -5; single -7 -> y = -4.
  // e2: 255 * -255 = -65025 -> -16256.25, saturates: y = -128.
  // e3: 255 * 0 = 0: y = 3.
  const std::vector<int8_t> a = {-122, -118, 127, 127};
  const std::vector<int8_t> b = {120, 124, -128, 127};
  for (RoundingMode mode : kModes) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const ptq::QuantizedMulParams p = ptq::make_quantized_mul_params<int8_t>(
        flat(4), QuantParams{0.5f, -128}, QuantParams{0.25f, 127}, QuantParams{0.5f, 3}, FusedActivation::kNone, mode);
    REQUIRE(p.validate<int8_t>().ok());
    CHECK(p.output_multiplier == ptq::QuantizedMultiplier{1 << 30, -1});
    std::vector<int8_t> y(4, 0);
    ptq::reference::mul(p, a.data(), b.data(), y.data());
    const bool dbl = mode == RoundingMode::kDouble;
    CHECK(y == std::vector<int8_t>{static_cast<int8_t>(dbl ? -8 : -7), static_cast<int8_t>(dbl ? -5 : -4), -128, 3});
  }
  // A multiplier above 1 (s_y small): M = 0.125 / 0.03125 = 4 = {2^30, 3}: 6 * -7 * 4 = -168 -> -128;
  // 1 * -1 * 4 = -4 (zp_y = 0).
  const ptq::QuantizedMulParams big = ptq::make_quantized_mul_params<int8_t>(
      flat(2), QuantParams{0.5f, -128}, QuantParams{0.25f, 127}, QuantParams{0.03125f, 0}, FusedActivation::kNone);
  REQUIRE(big.validate<int8_t>().ok());
  CHECK(big.output_multiplier == ptq::QuantizedMultiplier{1 << 30, 3});
  const std::vector<int8_t> a2 = {-122, -127}, b2 = {120, 126};
  std::vector<int8_t> y2(2, 0);
  ptq::reference::mul(big, a2.data(), b2.data(), y2.data());
  CHECK(y2 == std::vector<int8_t>{-128, -4});
}

TEST_CASE("pointwise: int8 Add and Mul under every fused activation") {
  // s_y = 0.5, zp_y = -10: relu [-10 + round(0), 127] = [-10, 127]; relu6 [-10, -10 + 12] = [-10, 2];
  // relu_n1_to_1 [-10 - 2, -10 + 2] = [-12, -8].
  // Add with s_a = s_b = 0.5, zero points 0: Ma = Mb = 0.5 and Mo = 2^-20 * 1 / 0.5 = 2^-19, so
  // y - zp_y = round((a + b) * 0.5 / 0.5) = a + b: a + b = [-20, -3, 1, 3, 40] -> [-30, -13, -9, -7, 30].
  // Mul with s_a = 1, s_b = 0.5 (M = 1): y - zp_y = a * b: [-20*1, -3*1, 1*1, 3*1, 40*1].
  const std::vector<int8_t> a = {-20, -3, 1, 3, 40};
  const std::vector<int8_t> ones = {1, 1, 1, 1, 1};
  const std::vector<int8_t> zeros = {0, 0, 0, 0, 0};
  struct Case {
    FusedActivation act;
    int32_t lo, hi;
    std::vector<int8_t> expected;
  };
  const Case cases[] = {
      {FusedActivation::kNone, -128, 127, {-30, -13, -9, -7, 30}},
      {FusedActivation::kRelu, -10, 127, {-10, -10, -9, -7, 30}},
      {FusedActivation::kRelu6, -10, 2, {-10, -10, -9, -7, 2}},
      {FusedActivation::kReluN1To1, -12, -8, {-12, -12, -9, -8, -8}},
  };
  for (const Case& c : cases) {
    CAPTURE(ptq::fused_activation_name(c.act));
    const ptq::QuantizedAddParams pa = ptq::make_quantized_add_params<int8_t>(
        flat(5), QuantParams{0.5f, 0}, QuantParams{0.5f, 0}, QuantParams{0.5f, -10}, c.act);
    REQUIRE(pa.validate<int8_t>().ok());
    CHECK(pa.activation_min == c.lo);
    CHECK(pa.activation_max == c.hi);
    std::vector<int8_t> y(5, 0);
    ptq::reference::add(pa, a.data(), zeros.data(), y.data());
    CHECK(y == c.expected);
    const ptq::QuantizedMulParams pm = ptq::make_quantized_mul_params<int8_t>(
        flat(5), QuantParams{1.0f, 0}, QuantParams{0.5f, 0}, QuantParams{0.5f, -10}, c.act);
    REQUIRE(pm.validate<int8_t>().ok());
    ptq::reference::mul(pm, a.data(), ones.data(), y.data());
    CHECK(y == c.expected);
  }
}

TEST_CASE("pointwise: int8 Add with broadcasting equals Add on the materialized operands") {
  // a [3, 1, 5] + b [4, 1] -> [3, 4, 5]: the broadcast result must equal the elementwise kernel run
  // on b copied out to the full shape by index arithmetic.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> a(15), b(4);
  for (auto& v : a) v = static_cast<int8_t>(d(rng));
  for (auto& v : b) v = static_cast<int8_t>(d(rng));
  std::vector<int8_t> a_full(60), b_full(60);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 5; ++k) {
        a_full[static_cast<std::size_t>((i * 4 + j) * 5 + k)] = a[static_cast<std::size_t>(i * 5 + k)];
        b_full[static_cast<std::size_t>((i * 4 + j) * 5 + k)] = b[static_cast<std::size_t>(j)];
      }
    }
  }
  const QuantParams qa{0.07f, -3}, qb{0.02f, 11}, qy{0.09f, 4};
  for (bool mul : {false, true}) {
    std::vector<int8_t> y(60), y_full(60);
    if (mul) {
      ptq::reference::mul(ptq::make_quantized_mul_params<int8_t>(layout({3, 1, 5}, {4, 1}, {3, 4, 5}), qa, qb, qy, FusedActivation::kNone),
                          a.data(), b.data(), y.data());
      ptq::reference::mul(ptq::make_quantized_mul_params<int8_t>(flat(60), qa, qb, qy, FusedActivation::kNone), a_full.data(),
                          b_full.data(), y_full.data());
    } else {
      ptq::reference::add(ptq::make_quantized_add_params<int8_t>(layout({3, 1, 5}, {4, 1}, {3, 4, 5}), qa, qb, qy, FusedActivation::kNone),
                          a.data(), b.data(), y.data());
      ptq::reference::add(ptq::make_quantized_add_params<int8_t>(flat(60), qa, qb, qy, FusedActivation::kNone), a_full.data(),
                          b_full.data(), y_full.data());
    }
    CHECK(y == y_full);
  }
}

TEST_CASE("pointwise: int8 Add, Sub, Mul sweep against an int64 re-derivation and the real result") {
  namespace o = pointwise_oracle;
  std::mt19937 rng(20240521);
  std::uniform_int_distribution<int> q8(-128, 127);
  std::uniform_real_distribution<float> log_scale(-9.0f, 1.0f);
  const int rounds = ptq_test::kSanitized ? 40 : 300;
  int nonzero = 0;
  for (int round = 0; round < rounds; ++round) {
    QuantParams qa, qb, qy;
    qa.scale = std::exp2(log_scale(rng));
    qb.scale = std::exp2(log_scale(rng));
    qy.scale = std::exp2(log_scale(rng));
    qa.zero_point = q8(rng);
    qb.zero_point = q8(rng);
    qy.zero_point = q8(rng);
    const RoundingMode mode = kModes[round % 2];
    CAPTURE(round);
    const int n = 17;
    std::vector<int8_t> a(n), b(n), ya(n), ys(n), ym(n);
    for (auto& v : a) v = static_cast<int8_t>(q8(rng));
    for (auto& v : b) v = static_cast<int8_t>(q8(rng));
    const ptq::QuantizedAddParams pa = ptq::make_quantized_add_params<int8_t>(flat(n), qa, qb, qy, FusedActivation::kNone, mode);
    const ptq::QuantizedMulParams pm = ptq::make_quantized_mul_params<int8_t>(flat(n), qa, qb, qy, FusedActivation::kNone, mode);
    REQUIRE(pa.validate<int8_t>().ok());
    REQUIRE(pm.validate<int8_t>().ok());
    ptq::reference::add(pa, a.data(), b.data(), ya.data());
    ptq::reference::sub(pa, a.data(), b.data(), ys.data());
    ptq::reference::mul(pm, a.data(), b.data(), ym.data());

    // TFLite's Prepare arithmetic (add.cc, mul.cc), then its integer steps, in int64.
    const double twice_max = static_cast<double>(2.0f * std::max(qa.scale, qb.scale));
    const o::Multiplier ma = o::quantize(static_cast<double>(qa.scale) / twice_max);
    const o::Multiplier mb = o::quantize(static_cast<double>(qb.scale) / twice_max);
    const o::Multiplier mo = o::quantize(twice_max / static_cast<double>(1048576.0f * qy.scale));
    const o::Multiplier mm = o::quantize(static_cast<double>(qa.scale * qb.scale / qy.scale));
    for (int i = 0; i < n; ++i) {
      const int64_t da = a[static_cast<std::size_t>(i)] - qa.zero_point, db = b[static_cast<std::size_t>(i)] - qb.zero_point;
      const int64_t sa = o::requantize(da * (1 << 20), ma, mode), sb = o::requantize(db * (1 << 20), mb, mode);
      const int64_t add = o::clamp(o::requantize(sa + sb, mo, mode) + qy.zero_point, -128, 127);
      const int64_t sub = o::clamp(o::requantize(sa - sb, mo, mode) + qy.zero_point, -128, 127);
      const int64_t mul = o::clamp(o::requantize(da * db, mm, mode) + qy.zero_point, -128, 127);
      CHECK(ya[static_cast<std::size_t>(i)] == add);
      CHECK(ys[static_cast<std::size_t>(i)] == sub);
      CHECK(ym[static_cast<std::size_t>(i)] == mul);
      // Within one step of the exactly rounded real result (two roundings on the way).
      const double ra = static_cast<double>(qa.scale) * static_cast<double>(da);
      const double rb = static_cast<double>(qb.scale) * static_cast<double>(db);
      const auto real_q = [&](double r) {
        return o::clamp(static_cast<int64_t>(std::llround(std::max(-1e6, std::min(1e6, r / qy.scale)))) + qy.zero_point, -128, 127);
      };
      CHECK(std::abs(ya[static_cast<std::size_t>(i)] - real_q(ra + rb)) <= 1);
      CHECK(std::abs(ys[static_cast<std::size_t>(i)] - real_q(ra - rb)) <= 1);
      CHECK(std::abs(ym[static_cast<std::size_t>(i)] - real_q(ra * rb)) <= 1);
      nonzero += (ya[static_cast<std::size_t>(i)] != -128 && ya[static_cast<std::size_t>(i)] != 127) ? 1 : 0;
    }
  }
  CHECK(nonzero > rounds);  // not all saturated
}

TEST_CASE("pointwise: int16 Add, Sub, Mul worked by hand (left_shift 15, zero points 0)") {
  // Add: s_a = 2^-10, s_b = 2^-11, s_y = 2^-9. twice_max = 2^-9: Ma = 0.5, Mb = 0.25,
  // Mo = 2^-9 / (2^15 * 2^-9) = 2^-15 = {2^30, -14}.
  //   1000 * 2^-10 - 3001 * 2^-11 = -1001 * 2^-11 = -250.25 * 2^-9 -> -250.
  //   Sub of the same: 5001 * 2^-11 = 1250.25 * 2^-9 -> 1250.
  //   -32768 * 2^-10 - 32768 * 2^-11 = -24576 * 2^-9 (Add) ; Sub: -8192 * 2^-9.
  const std::vector<int16_t> a = {1000, -32768};
  const std::vector<int16_t> b = {-3001, -32768};
  const ptq::QuantizedAddParams pa = ptq::make_quantized_add_params<int16_t>(
      flat(2), QuantParams{0.0009765625f, 0}, QuantParams{0.00048828125f, 0}, QuantParams{0.001953125f, 0}, FusedActivation::kNone);
  REQUIRE(pa.validate<int16_t>().ok());
  CHECK(pa.left_shift == 15);
  CHECK(pa.output_multiplier == ptq::QuantizedMultiplier{1 << 30, -14});
  std::vector<int16_t> y(2, 0);
  ptq::reference::add(pa, a.data(), b.data(), y.data());
  CHECK(y == std::vector<int16_t>{-250, -24576});
  ptq::reference::sub(pa, a.data(), b.data(), y.data());
  CHECK(y == std::vector<int16_t>{1250, -8192});
  // Mul: s_y = 2^-12, M = 2^-21 / 2^-12 = 2^-9 = {2^30, -8}: 300 * -301 = -90300 -> -176.37 -> -176;
  // -32768 * -32768 = 2^30 -> 2^21, saturates to 32767.
  const std::vector<int16_t> ma = {300, -32768}, mb = {-301, -32768};
  const ptq::QuantizedMulParams pm = ptq::make_quantized_mul_params<int16_t>(
      flat(2), QuantParams{0.0009765625f, 0}, QuantParams{0.00048828125f, 0}, QuantParams{0.000244140625f, 0}, FusedActivation::kNone);
  REQUIRE(pm.validate<int16_t>().ok());
  CHECK(pm.output_multiplier == ptq::QuantizedMultiplier{1 << 30, -8});
  ptq::reference::mul(pm, ma.data(), mb.data(), y.data());
  CHECK(y == std::vector<int16_t>{-176, 32767});
}

TEST_CASE("pointwise: quantized binary params validate() names the field") {
  ptq::QuantizedAddParams p = ptq::make_quantized_add_params<int8_t>(flat(1), QuantParams{0.5f, 0}, QuantParams{0.5f, 0},
                                                                     QuantParams{0.5f, 0}, FusedActivation::kNone);
  REQUIRE(p.validate<int8_t>().ok());
  p.input2_zero_point = 128;
  CHECK(p.validate<int8_t>().message().find("input2_zero_point = 128") != std::string::npos);
  p.input2_zero_point = 0;
  p.left_shift = 24;  // 255 * 2^24 does not fit in int32
  CHECK(p.validate<int8_t>().message().find("left_shift = 24") != std::string::npos);
  p.left_shift = 20;
  p.activation_min = 5;
  p.activation_max = 4;
  CHECK(p.validate<int8_t>().message().find("activation_min = 5 is greater") != std::string::npos);

  ptq::QuantizedMulParams m = ptq::make_quantized_mul_params<int16_t>(flat(1), QuantParams{0.5f, 0}, QuantParams{0.5f, 0},
                                                                      QuantParams{0.5f, 0}, FusedActivation::kNone);
  REQUIRE(m.validate<int16_t>().ok());
  m.input1_zero_point = 3;
  CHECK(m.validate<int16_t>().message().find("zero points 0") != std::string::npos);
}

}  // TEST_SUITE
