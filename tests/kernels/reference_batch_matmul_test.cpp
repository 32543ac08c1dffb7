// reference/batch_matmul.hpp: hand-worked int8 products, batch broadcasting [2,1,3,4] x [5,4,2]
// against a straightforward int64 loop (both rounding modes, extreme zero points, adj_x / adj_y),
// float against double, TFLite's multiplier formula, and the geometry's errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/batch_matmul.hpp"

namespace {

using ptq::BatchMatMulParams;
using ptq::QuantizedMultiplier;
using ptq::RoundingMode;
using ptq::Shape;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<int8_t> random_int8(std::mt19937& rng, std::size_t n) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

std::vector<float> random_float(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("data: int8 batch matmul of 2x2 matrices, hand-worked") {
  auto made = BatchMatMulParams::make(Shape{2, 2}, Shape{2, 2}, false, false);
  REQUIRE(made.ok());
  BatchMatMulParams p = *made;
  CHECK(p.output_shape() == Shape{2, 2});
  // lhs zp 1, rhs zp -1: (lhs - 1) = [[0, 1], [2, 3]], (rhs + 1) = [[6, 7], [8, 9]];
  // acc = [[8, 9], [36, 41]]; times 0.5 = [[4, 4.5], [18, 20.5]] -> 4.5 and 20.5 round up (both
  // modes round ties toward +inf here) -> [[4, 5], [18, 21]]; plus out zp -3 -> [[1, 2], [15, 18]].
  p.lhs_zero_point = 1;
  p.rhs_zero_point = -1;
  p.output_zero_point = -3;
  p.multiplier = QuantizedMultiplier{1 << 30, 0};  // 0.5
  const std::vector<int8_t> lhs = {1, 2, 3, 4}, rhs = {5, 6, 7, 8};
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    p.rounding = mode;
    REQUIRE(p.validate_int8().ok());
    std::vector<int8_t> y(4, 0);
    ptq::reference::batch_matmul(p, lhs.data(), rhs.data(), y.data());
    CHECK(y == std::vector<int8_t>{1, 2, 15, 18});
  }
  // Saturation: multiplier 4 (shift 3) sends 4 * 41 - 3 past 127 and a negative product past -128.
  p.multiplier = QuantizedMultiplier{1 << 30, 3};
  p.rounding = RoundingMode::kDouble;
  std::vector<int8_t> y(4, 0);
  ptq::reference::batch_matmul(p, lhs.data(), rhs.data(), y.data());
  CHECK(y == std::vector<int8_t>{29, 33, 127, 127});
  p.rhs_zero_point = 127;  // (rhs - 127) is negative: [[-122, -121], [-120, -119]]
  ptq::reference::batch_matmul(p, lhs.data(), rhs.data(), y.data());
  // acc[0][0] = 0 * -122 + 1 * -120 = -120 -> -480 - 3 -> -128.
  CHECK(y == std::vector<int8_t>{-128, -128, -128, -128});
}

TEST_CASE("data: int8 batch matmul broadcasting [2,1,3,4] x [5,4,2] against an int64 loop") {
  std::mt19937 rng(7);
  const std::vector<int8_t> lhs = random_int8(rng, 2 * 1 * 3 * 4);
  const std::vector<int8_t> rhs = random_int8(rng, 5 * 4 * 2);
  // lhs stored transposed ([2,1,4,3]) and rhs stored transposed ([5,2,4]) for adj_x / adj_y.
  const auto at = [](int i) { return static_cast<std::size_t>(i); };
  std::vector<int8_t> lhs_t(lhs.size()), rhs_t(rhs.size());
  for (int b = 0; b < 2; ++b)
    for (int m = 0; m < 3; ++m)
      for (int k = 0; k < 4; ++k) lhs_t[at((b * 4 + k) * 3 + m)] = lhs[at((b * 3 + m) * 4 + k)];
  for (int b = 0; b < 5; ++b)
    for (int k = 0; k < 4; ++k)
      for (int n = 0; n < 2; ++n) rhs_t[at((b * 2 + n) * 4 + k)] = rhs[at((b * 4 + k) * 2 + n)];

  struct Case {
    int32_t lhs_zp, rhs_zp, out_zp;
    double multiplier;
  };
  // Extreme zero points on every operand; the last multiplier (> 1, a left shift) saturates most outputs.
  const std::vector<Case> cases = {{0, 0, 0, 0.0021},        {-128, 127, 127, 0.0007}, {127, -128, 127, 0.00031},
                                   {-128, -128, -128, 0.0007}, {127, 127, -128, 0.0005}, {-5, 9, 3, 0.0113},
                                   {0, 0, 0, 1.7}};
  for (const Case& c : cases) {
    for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      for (int adj = 0; adj < 4; ++adj) {
        const bool adj_x = (adj & 1) != 0, adj_y = (adj & 2) != 0;
        CAPTURE(c.lhs_zp);
        CAPTURE(c.rhs_zp);
        CAPTURE(c.multiplier);
        CAPTURE(adj_x);
        CAPTURE(adj_y);
        CAPTURE(ptq::rounding_mode_name(mode));
        auto made = BatchMatMulParams::make(adj_x ? Shape{2, 1, 4, 3} : Shape{2, 1, 3, 4},
                                            adj_y ? Shape{5, 2, 4} : Shape{5, 4, 2}, adj_x, adj_y);
        REQUIRE(made.ok());
        BatchMatMulParams p = *made;
        REQUIRE(p.output_shape() == Shape{2, 5, 3, 2});
        p.lhs_zero_point = c.lhs_zp;
        p.rhs_zero_point = c.rhs_zp;
        p.output_zero_point = c.out_zp;
        p.rounding = mode;
        p.multiplier = ptq::quantize_multiplier(c.multiplier, mode);
        REQUIRE(p.validate_int8().ok());
        std::vector<int8_t> y(2 * 5 * 3 * 2, 0);
        const int8_t* l = adj_x ? lhs_t.data() : lhs.data();
        const int8_t* r = adj_y ? rhs_t.data() : rhs.data();
        ptq::reference::batch_matmul(p, l, r, y.data());

        int saturated = 0, distinct_from_zp = 0;
        for (int b0 = 0; b0 < 2; ++b0) {
          for (int b1 = 0; b1 < 5; ++b1) {
            for (int m = 0; m < 3; ++m) {
              for (int n = 0; n < 2; ++n) {
                int64_t acc = 0;
                for (int k = 0; k < 4; ++k) {
                  const int64_t l = lhs[static_cast<std::size_t>((b0 * 3 + m) * 4 + k)];  // lhs[b0][0][m][k]
                  const int64_t r = rhs[static_cast<std::size_t>((b1 * 4 + k) * 2 + n)];  // rhs[b1][k][n]
                  acc += (l - c.lhs_zp) * (r - c.rhs_zp);
                }
                const int64_t scaled =
                    ptq::multiply_by_quantized_multiplier(static_cast<int32_t>(acc), p.multiplier, mode) +
                    static_cast<int64_t>(c.out_zp);
                const int64_t expected = scaled < -128 ? -128 : (scaled > 127 ? 127 : scaled);
                const int got = y[static_cast<std::size_t>(((b0 * 5 + b1) * 3 + m) * 2 + n)];
                CHECK(got == expected);
                // The fixed-point result is the real product rounded (to within one step).
                const double real = static_cast<double>(acc) * c.multiplier + c.out_zp;
                if (real > -128 && real < 127) CHECK(std::abs(got - real) <= 1.0);
                saturated += expected == -128 || expected == 127;
                distinct_from_zp += expected != c.out_zp;
              }
            }
          }
        }
        CHECK(distinct_from_zp > 20);
        if (c.multiplier < 0.1) CHECK(saturated < 30);
      }
    }
  }
}

TEST_CASE("data: batch matmul broadcasting shapes, including a rank-2 operand and rank 6") {
  auto a = BatchMatMulParams::make(Shape{3, 4}, Shape{2, 2, 4, 5}, false, false);
  REQUIRE(a.ok());
  CHECK(a->output_shape() == Shape{2, 2, 3, 5});
  auto b = BatchMatMulParams::make(Shape{1, 3, 1, 2, 7, 4}, Shape{5, 1, 4, 2}, false, false);
  REQUIRE(b.ok());
  CHECK(b->output_shape() == Shape{1, 3, 5, 2, 7, 2});
  auto adj = BatchMatMulParams::make(Shape{6, 4, 3}, Shape{6, 2, 4}, true, true);
  REQUIRE(adj.ok());
  CHECK(adj->output_shape() == Shape{6, 3, 2});
}

TEST_CASE("data: float batch matmul against double, and adj_x / adj_y against transposed storage") {
  std::mt19937 rng(3);
  // [3, 4] x [2, 2, 4, 5] -> [2, 2, 3, 5]: the lhs matrix is shared by all four rhs matrices.
  const std::vector<float> lhs = random_float(rng, 3 * 4);
  const std::vector<float> rhs = random_float(rng, 2 * 2 * 4 * 5);
  auto made = BatchMatMulParams::make(Shape{3, 4}, Shape{2, 2, 4, 5}, false, false);
  REQUIRE(made.ok());
  std::vector<float> y(2 * 2 * 3 * 5, 0.0f);
  ptq::reference::batch_matmul(*made, lhs.data(), rhs.data(), y.data());
  for (int b = 0; b < 4; ++b) {
    for (int m = 0; m < 3; ++m) {
      for (int n = 0; n < 5; ++n) {
        double exact = 0.0, magnitude = 0.0;
        for (int k = 0; k < 4; ++k) {
          const double t = static_cast<double>(lhs[static_cast<std::size_t>(m * 4 + k)]) *
                           rhs[static_cast<std::size_t>((b * 4 + k) * 5 + n)];
          exact += t;
          magnitude += std::abs(t);
        }
        CHECK(std::abs(y[static_cast<std::size_t>((b * 3 + m) * 5 + n)] - exact) <= 4 * 1.2e-7 * magnitude + 1e-30);
      }
    }
  }
  // Same products summed in the same order: bit-identical whatever the storage.
  std::vector<float> lhs_t(lhs.size()), rhs_t(rhs.size());
  for (int m = 0; m < 3; ++m)
    for (int k = 0; k < 4; ++k) lhs_t[static_cast<std::size_t>(k * 3 + m)] = lhs[static_cast<std::size_t>(m * 4 + k)];
  for (int b = 0; b < 4; ++b)
    for (int k = 0; k < 4; ++k)
      for (int n = 0; n < 5; ++n)
        rhs_t[static_cast<std::size_t>((b * 5 + n) * 4 + k)] = rhs[static_cast<std::size_t>((b * 4 + k) * 5 + n)];
  auto both = BatchMatMulParams::make(Shape{4, 3}, Shape{2, 2, 5, 4}, true, true);
  REQUIRE(both.ok());
  std::vector<float> y_adj(y.size(), 0.0f);
  ptq::reference::batch_matmul(*both, lhs_t.data(), rhs_t.data(), y_adj.data());
  CHECK(y_adj == y);
}

TEST_CASE("data: int8 batch matmul with an empty depth gives the output zero point") {
  auto made = BatchMatMulParams::make(Shape{2, 0}, Shape{0, 3}, false, false);
  REQUIRE(made.ok());
  BatchMatMulParams p = *made;
  p.output_zero_point = -7;
  p.multiplier = QuantizedMultiplier{1 << 30, 0};
  REQUIRE(p.validate_int8().ok());
  std::vector<int8_t> y(6, 0);
  const int8_t none = 0;
  ptq::reference::batch_matmul(p, &none, &none, y.data());
  CHECK(y == std::vector<int8_t>(6, -7));
}

TEST_CASE("data: batch matmul multiplier rounds the scale product to float first (TFLite)") {
  int differs = 0;
  for (int i = 1; i <= 200; ++i) {
    const float sa = 0.0137f * static_cast<float>(i), sb = 0.0031f, so = 0.071f;
    const QuantizedMultiplier got = ptq::batch_matmul_multiplier(sa, sb, so);
    const float product = sa * sb;
    CHECK(got == ptq::quantize_multiplier(static_cast<double>(product) / static_cast<double>(so)));
    differs += !(got == ptq::quantize_multiplier(static_cast<double>(sa) * sb / so));
  }
  CHECK(differs > 0);  // the float rounding is visible in the mantissa
}

TEST_CASE("data: batch matmul geometry errors name lhs and rhs") {
  auto rank1 = BatchMatMulParams::make(Shape{4}, Shape{4, 2}, false, false);
  REQUIRE_FALSE(rank1.ok());
  CHECK(contains(rank1.status().message(), "lhs [4] has rank 1"));
  auto rank7 = BatchMatMulParams::make(Shape{1, 1, 1, 1, 1, 2, 2}, Shape{2, 2}, false, false);
  REQUIRE_FALSE(rank7.ok());
  CHECK(contains(rank7.status().message(), "has rank 7"));
  auto batch = BatchMatMulParams::make(Shape{2, 3, 4}, Shape{3, 4, 5}, false, false);
  REQUIRE_FALSE(batch.ok());
  CHECK(contains(batch.status().message(), "do not broadcast"));
  auto depth = BatchMatMulParams::make(Shape{3, 4}, Shape{5, 2}, false, false);
  REQUIRE_FALSE(depth.ok());
  CHECK(contains(depth.status().message(), "has depth 4 but rhs [5, 2] has depth 5"));
  auto adj_depth = BatchMatMulParams::make(Shape{3, 4}, Shape{3, 2}, true, false);
  CHECK(adj_depth.ok());  // adj_x: lhs [3, 4] is K = 3 by M = 4
  BatchMatMulParams p = *adj_depth;
  p.output_zero_point = 128;
  CHECK(contains(p.validate_int8().message(), "output_zero_point = 128"));
}

}  // TEST_SUITE
