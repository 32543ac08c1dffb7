// reference/fully_connected.hpp against hand-worked cases (arithmetic in the comments), both rounding
// modes, saturation, the uint8 legacy path, int32 accumulators with wrap-around, and validate().
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/fully_connected.hpp"

namespace {

using ptq::FullyConnectedParams;
using ptq::QuantizedMultiplier;
using ptq::RoundingMode;

constexpr QuantizedMultiplier kHalf{1 << 30, 0};      // 2^30 * 2^(0 - 31)  = 0.5
constexpr QuantizedMultiplier kQuarter{1 << 30, -1};  // 2^30 * 2^(-1 - 31) = 0.25
constexpr QuantizedMultiplier kOne{1 << 30, 1};       // 1.0

FullyConnectedParams make_params(int64_t batches, int64_t depth, int64_t units, int32_t x_zp, int32_t y_zp,
                                 std::vector<QuantizedMultiplier> ms, RoundingMode mode = RoundingMode::kDouble) {
  FullyConnectedParams p;
  p.batches = batches;
  p.input_depth = depth;
  p.output_depth = units;
  p.input_zero_point = x_zp;
  p.output_zero_point = y_zp;
  p.multipliers = std::move(ms);
  p.rounding = mode;
  return p;
}

template <class T>
std::vector<T> random_values(std::mt19937& rng, std::size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

bool all_equal(const std::vector<int8_t>& v) {
  for (int8_t e : v) {
    if (e != v[0]) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("kernels") {

TEST_CASE("reference fully_connected: 1x3 by 3x2 worked by hand, both rounding modes") {
  // x = [10, -20, 30], x_zp = 5  ->  x - x_zp = [5, -25, 25]
  // w = [[1, 2, 3], [-4, 5, -6]], bias = [100, -5]
  //   acc0 = 5*1 - 25*2 + 25*3 + 100       = 30 + 100  = 130
  //   acc1 = 5*(-4) - 25*5 + 25*(-6) - 5   = -295 - 5  = -300
  // M = 0.25 = {2^30, -1}: 130 * 0.25 = 32.5 -> 33 in both modes (double: SRDHM gives 65 exactly,
  // RoundingDivideByPOT(65, 1) ties away from zero -> 33; single: (130 * 2^30 + 2^31) >> 32 = 33);
  // -300 * 0.25 = -75 exactly. y_zp = -10: y = [23, -85].
  const std::vector<int8_t> x = {10, -20, 30};
  const std::vector<int8_t> w = {1, 2, 3, -4, 5, -6};
  const std::vector<int32_t> bias = {100, -5};
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const FullyConnectedParams p = make_params(1, 3, 2, 5, -10, {kQuarter}, mode);
    REQUIRE(p.validate().ok());
    std::vector<int8_t> y(2, 0);
    ptq::reference::fully_connected(p, x.data(), w.data(), bias.data(), y.data());
    CHECK(y[0] == 23);
    CHECK(y[1] == -85);
  }
  // The accumulators before requantization.
  const FullyConnectedParams p = make_params(1, 3, 2, 5, -10, {kQuarter});
  REQUIRE(p.validate_accumulators().ok());
  std::vector<int32_t> acc(2, 0);
  ptq::reference::fully_connected_accumulators(p, x.data(), w.data(), bias.data(), acc.data());
  CHECK(acc[0] == 130);
  CHECK(acc[1] == -300);
  // Without bias the dot products alone: 30 and -295.
  ptq::reference::fully_connected_accumulators(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr),
                                               acc.data());
  CHECK(acc[0] == 30);
  CHECK(acc[1] == -295);
}

TEST_CASE("reference fully_connected: double and single rounding disagree where they should") {
  // One input (x - x_zp = 1), two units, per-channel multipliers, y_zp = 5.
  // Unit 0: w = 1, acc = 1, M0 = {1610612736 = 0.75 * 2^31, -1} = 0.375; the exact product 0.375
  //   rounds to 0 in one step (single: (1610612736 + 2^31) >> 32 = 0), but double rounding first
  //   takes SRDHM(1, 1610612736) = round(0.75) = 1, then RoundingDivideByPOT(1, 1) = round(0.5) = 1.
  // Unit 1: w = -2, acc = -2, M1 = 0.25: exact product -0.5, a tie. Single rounds ties up:
  //   (-2 * 2^30 + 2^31) >> 32 = 0. Double: SRDHM(-2, 2^30) = -1 exactly, then
  //   RoundingDivideByPOT(-1, 1) = -0.5 rounded away from zero = -1.
  // So double gives [5 + 1, 5 - 1] = [6, 4] and single gives [5, 5].
  const std::vector<int8_t> x = {1};
  const std::vector<int8_t> w = {1, -2};
  const QuantizedMultiplier m0{1610612736, -1};
  std::vector<int8_t> y(2, 0);

  FullyConnectedParams p = make_params(1, 1, 2, 0, 5, {m0, kQuarter}, RoundingMode::kDouble);
  REQUIRE(p.validate().ok());
  ptq::reference::fully_connected(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr), y.data());
  CHECK(y[0] == 6);
  CHECK(y[1] == 4);

  p.rounding = RoundingMode::kSingle;
  REQUIRE(p.validate().ok());
  ptq::reference::fully_connected(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr), y.data());
  CHECK(y[0] == 5);
  CHECK(y[1] == 5);
}

TEST_CASE("reference fully_connected: LiteRT's double-scale requantization") {
  // x - x_zp = [1, 2] (x = [3, 4], x_zp = 2), w = [[1, -3], [-2, 1], [3, 2]], no bias:
  //   acc = [1 - 6, -2 + 2, 3 + 4] = [-5, 0, 7].
  // Per channel, s = in * w_scale / out with in = 0.5, out = 1, w_scale = [1, 3, 0.3]:
  //   s = [0.5, 1.5, 0.15] -> -2.5, 0, 1.05; std::round takes the tie -2.5 away from zero to -3
  //   (the fixed-point multiplier for 0.5, SRDHM then RoundingDivideByPOT, gives -2 there: SRDHM's
  //   nudge takes negative ties toward +inf). y_zp = 10: [7, 10, 11].
  const std::vector<int8_t> x = {3, 4};
  const std::vector<int8_t> w = {1, -3, -2, 1, 3, 2};
  FullyConnectedParams p = make_params(1, 2, 3, 2, 10, {kHalf, kHalf, kHalf});
  const std::vector<double> s = ptq::reference::double_scales(0.5f, {1.0f, 3.0f, 0.3f}, 1.0f);
  CHECK(s[1] == 1.5);
  std::vector<int8_t> y(3, 0);
  ptq::reference::fully_connected_double_scale(p, s, x.data(), w.data(), nullptr, y.data());
  CHECK(y == std::vector<int8_t>{7, 10, 11});
  // The fixed-point form of unit 0 (M = 0.5): -2.5 -> -2, so 8.
  ptq::reference::fully_connected(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr), y.data());
  CHECK(y[0] == 8);

  // Per tensor (one scale) and the clamp: acc = -5 * 100 = -500 -> -250 + 10 -> -128; 7 * 100 -> 127.
  const std::vector<double> big = {50.0};
  ptq::reference::fully_connected_double_scale(p, big, x.data(), w.data(), nullptr, y.data());
  CHECK(y == std::vector<int8_t>{-128, 10, 127});
  // requantize_double_scale saturates a product past int32 before adding the zero point.
  CHECK(ptq::reference::requantize_double_scale(2000000000, 4.0, -100, -128, 127) == 127);
  CHECK(ptq::reference::requantize_double_scale(-2000000000, 4.0, 100, -128, 127) == -128);
  CHECK(ptq::reference::requantize_double_scale(3, 0.5, 0, -128, 127) == 2);    // 1.5 -> 2
  CHECK(ptq::reference::requantize_double_scale(-3, 0.5, 0, -128, 127) == -2);  // -1.5 -> -2
}

TEST_CASE("reference fully_connected: per-channel multipliers, two batches") {
  // x = [[3, -1], [0, 5]], x_zp = 1 -> [[2, -2], [-1, 4]];  w = [[10, 20], [-3, 7]];  bias = [5, -5]
  //   b0: u0 = 20 - 40 + 5 = -15        u1 = -6 - 14 - 5 = -25
  //   b1: u0 = -10 + 80 + 5 = 75        u1 = 3 + 28 - 5 = 26
  // M = [0.5, 0.25]:  -7.5 -> -7 (ties toward +inf in SRDHM; single rounding also rounds ties up),
  //   -6.25 -> -6, 37.5 -> 38, 6.5 -> 7 (double: SRDHM 13, then 6.5 away from zero; single: 28 >> 2).
  // y_zp = 3: [[-4, -3], [41, 10]] in both modes.
  const std::vector<int8_t> x = {3, -1, 0, 5};
  const std::vector<int8_t> w = {10, 20, -3, 7};
  const std::vector<int32_t> bias = {5, -5};
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const FullyConnectedParams p = make_params(2, 2, 2, 1, 3, {kHalf, kQuarter}, mode);
    REQUIRE(p.validate().ok());
    std::vector<int8_t> y(4, 0);
    ptq::reference::fully_connected(p, x.data(), w.data(), bias.data(), y.data());
    CHECK(y == std::vector<int8_t>{-4, -3, 41, 10});
  }
}

TEST_CASE("reference fully_connected: saturation at -128/127 and the activation clamp") {
  // x = [127, 127, 127], x_zp = -128 -> 255 each.
  //   w = [127, 127, 127]:    acc = 3 * 255 * 127 = 97155,  * 0.25 = 24288.75  -> 127
  //   w = [-127, -127, -127]: acc = -97155,                 * 0.25           -> -128
  const std::vector<int8_t> x = {127, 127, 127};
  {
    const std::vector<int8_t> w = {127, 127, 127, -127, -127, -127};
    const FullyConnectedParams p = make_params(1, 3, 2, -128, 0, {kQuarter});
    REQUIRE(p.validate().ok());
    std::vector<int8_t> y(2, 0);
    ptq::reference::fully_connected(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr), y.data());
    CHECK(y[0] == 127);
    CHECK(y[1] == -128);
  }
  // Activation range [-20, 30]:
  //   w = [1, 0, 0]:  255 * 0.25 = 63.75 -> 64 -> clamped to 30
  //   w = [0, -1, 0]: -63.75 -> -64 -> clamped to -20
  //   w = [0, 0, 0], bias 40: 10 -> 10 (inside)
  {
    const std::vector<int8_t> w = {1, 0, 0, 0, -1, 0, 0, 0, 0};
    const std::vector<int32_t> bias = {0, 0, 40};
    FullyConnectedParams p = make_params(1, 3, 3, -128, 0, {kQuarter});
    p.activation_min = -20;
    p.activation_max = 30;
    REQUIRE(p.validate().ok());
    std::vector<int8_t> y(3, 0);
    ptq::reference::fully_connected(p, x.data(), w.data(), bias.data(), y.data());
    CHECK(y == std::vector<int8_t>{30, -20, 10});
  }
}

TEST_CASE("reference fully_connected: a per-tensor int8 weights zero point is applied") {
  // x - x_zp = [1, 1]; w = [3, 5] with w_zp = 2 -> [1, 3]; acc = 4; M = 1.0; y = 4 (y_zp 0).
  const std::vector<int8_t> x = {1, 1};
  const std::vector<int8_t> w = {3, 5};
  FullyConnectedParams p = make_params(1, 2, 1, 0, 0, {kOne});
  p.weights_zero_point = 2;
  REQUIRE(p.validate().ok());
  int8_t y = 0;
  ptq::reference::fully_connected(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr), &y);
  CHECK(y == 4);
}

TEST_CASE("reference fully_connected: uint8 legacy path with input, filter and output offsets") {
  // x = [130, 120, 128], x_zp = 128 -> [2, -8, 0];  w_zp = 100
  //   w0 = [101, 99, 250] -> [1, -1, 150]:  2 + 8 + 0 = 10, + bias 6 = 16, * 0.5 = 8,   + 128 = 136
  //   w1 = [90, 110, 0]   -> [-10, 10, -100]: -20 - 80 + 0 = -100, + bias -4 = -104, * 0.5 = -52, + 128 = 76
  const std::vector<uint8_t> x = {130, 120, 128};
  const std::vector<uint8_t> w = {101, 99, 250, 90, 110, 0};
  const std::vector<int32_t> bias = {6, -4};
  FullyConnectedParams p = make_params(1, 3, 2, 128, 128, {kHalf});
  p.weights_zero_point = 100;
  p.activation_min = 0;
  p.activation_max = 255;
  REQUIRE(p.validate<uint8_t>().ok());
  std::vector<uint8_t> y(2, 0);
  ptq::reference::fully_connected(p, x.data(), w.data(), bias.data(), y.data());
  CHECK(y[0] == 136);
  CHECK(y[1] == 76);
}

TEST_CASE("reference fully_connected: int32 accumulation wraps modulo 2^32") {
  // uint8, zero points 0, 33100 products of 255 * 255 = 65025:
  //   65025 * 33100 = 2152327500 = 2^32 - 2142639796  ->  int32 -2142639796.
  const int64_t depth = 33100;
  const std::vector<uint8_t> x(static_cast<std::size_t>(depth), 255);
  const std::vector<uint8_t> w(static_cast<std::size_t>(depth), 255);
  FullyConnectedParams p = make_params(1, depth, 1, 0, 0, {kHalf});
  REQUIRE(p.validate_accumulators<uint8_t>().ok());
  int32_t acc = 0;
  ptq::reference::fully_connected_accumulators(p, x.data(), w.data(), static_cast<const int32_t*>(nullptr), &acc);
  CHECK(acc == -2142639796);
}

TEST_CASE("reference fully_connected: any number of batches, each row independent") {
  // Batch-matmul use: 7 rows computed at once equal the rows computed one at a time; 0 rows write
  // nothing.
  std::mt19937 rng(1234);
  const int64_t batches = 7, depth = 19, units = 5;
  const auto x = random_values<int8_t>(rng, batches * depth, -128, 127);
  const auto w = random_values<int8_t>(rng, units * depth, -127, 127);
  const auto bias = random_values<int32_t>(rng, units, -5000, 5000);
  const std::vector<QuantizedMultiplier> ms = {{1395864371, -7}, {1134217728, -6}, {2000000000, -8},
                                               {1073741824, -7}, {1500000000, -7}};
  const FullyConnectedParams all = make_params(batches, depth, units, -3, 7, ms);
  REQUIRE(all.validate().ok());
  std::vector<int8_t> y(static_cast<std::size_t>(batches * units), 0);
  ptq::reference::fully_connected(all, x.data(), w.data(), bias.data(), y.data());
  CHECK_FALSE(all_equal(y));
  const FullyConnectedParams one = make_params(1, depth, units, -3, 7, ms);
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<int8_t> row(static_cast<std::size_t>(units), 0);
    ptq::reference::fully_connected(one, x.data() + b * depth, w.data(), bias.data(), row.data());
    for (int64_t n = 0; n < units; ++n) CHECK(row[static_cast<std::size_t>(n)] == y[static_cast<std::size_t>(b * units + n)]);
  }
  const FullyConnectedParams none = make_params(0, depth, units, -3, 7, ms);
  REQUIRE(none.validate().ok());
  std::vector<int8_t> untouched(3, 42);
  ptq::reference::fully_connected(none, x.data(), w.data(), bias.data(), untouched.data());
  CHECK(untouched == std::vector<int8_t>{42, 42, 42});
}

TEST_CASE("reference fully_connected: multipliers from scales as TFLite's Prepare computes them") {
  // Exact scales: 0.5 * 0.25 / 0.5 = 0.25 -> {2^30, -1}; per channel [0.25, 0.5] -> 0.25, 0.5.
  auto ms = ptq::fully_connected_multipliers(0.5f, {0.25f}, 0.5f);
  REQUIRE(ms.size() == 1);
  CHECK(ms[0] == kQuarter);
  ms = ptq::fully_connected_multipliers(0.5f, {0.25f, 0.5f}, 0.5f);
  REQUIRE(ms.size() == 2);
  CHECK(ms[0] == kQuarter);
  CHECK(ms[1] == kHalf);
  // Per tensor, the scale product is rounded to float before the division in double
  // (GetQuantizedConvolutionMultipler); per channel it is formed in double. 0.1f * 0.3f is not exact
  // in float, so the two recipes give different 31-bit mantissas.
  const float product = 0.1f * 0.3f;
  const auto per_tensor = ptq::fully_connected_multipliers(0.1f, {0.3f}, 1.0f)[0];
  const auto per_channel = ptq::fully_connected_multipliers(0.1f, {0.3f, 0.3f}, 1.0f)[0];
  CHECK(per_tensor == ptq::quantize_multiplier(static_cast<double>(product)));
  CHECK(per_channel == ptq::quantize_multiplier(static_cast<double>(0.1f) * static_cast<double>(0.3f)));
  CHECK_FALSE(per_tensor == per_channel);
}

TEST_CASE("reference fully_connected: validate() names the culprit") {
  const auto message = [](const ptq::Status& s) { return s.message(); };
  FullyConnectedParams good = make_params(2, 3, 3, 0, 0, {kHalf});
  CHECK(good.validate().ok());

  FullyConnectedParams p = good;
  p.multipliers = {kHalf, kHalf};  // neither 1 nor output_depth = 3
  CHECK(message(p.validate()).find("multipliers") != std::string::npos);

  p = good;
  p.input_zero_point = 200;
  CHECK(message(p.validate()).find("input_zero_point") != std::string::npos);
  p.activation_min = 0;  // the int8 defaults are outside uint8's range
  p.activation_max = 255;
  CHECK(p.validate<uint8_t>().ok());  // 200 is a fine uint8 zero point
  p.activation_min = -128;
  CHECK(message(p.validate<uint8_t>()).find("activation_min") != std::string::npos);

  p = good;
  p.output_zero_point = -129;
  CHECK(message(p.validate()).find("output_zero_point") != std::string::npos);

  p = good;
  p.activation_min = 10;
  p.activation_max = 5;
  CHECK(message(p.validate()).find("activation_min") != std::string::npos);

  p = good;
  p.multipliers = {kHalf, kHalf, kHalf};
  p.weights_zero_point = 3;
  CHECK(message(p.validate()).find("weights_zero_point") != std::string::npos);

  p = good;
  p.multipliers = {kHalf, {1 << 30, 40}, kHalf};
  CHECK(message(p.validate()).find("multipliers[1].shift") != std::string::npos);

  p = good;
  p.rounding = RoundingMode::kSingle;
  p.multipliers = {{1 << 30, 31}};  // shift 31 is double-rounding only
  CHECK(message(p.validate()).find("multipliers[0].shift") != std::string::npos);

  p = good;
  p.batches = -1;
  CHECK(message(p.validate()).find("batches") != std::string::npos);
  CHECK(p.validate().code() == ptq::StatusCode::kInvalidArgument);
}
}
