// core/fixed_point_math.hpp and reference/softmax.hpp: gemmlowp's fixed-point functions on hand-worked
// values and against double precision; Softmax, Logistic and Tanh in float (TFLite's formulas) and
// int8 (hand-worked cases and golden outputs of TFLite's own interpreter).
//
// "TFLite golden" vectors below were produced by the TFLite 2.21 Python interpreter with the
// BUILTIN_REF op resolver (TFLite's reference kernels) on single-op int8 models; the input and output
// parameters are the ones those models carry.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ptq/core/fixed_point_math.hpp"
#include "ptq/kernels/reference/softmax.hpp"
#include "support/isa_coverage.hpp"

namespace {

constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr double kTwo31 = 2147483648.0;

std::vector<int8_t> all_int8() {
  std::vector<int8_t> v;
  for (int q = -128; q <= 127; ++q) v.push_back(static_cast<int8_t>(q));
  return v;
}

// TFLite golden: LOGISTIC over every int8 input, input scale 0.05097246542572975, zero point -10.
const std::vector<int8_t> kLogisticGolden = {
    -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127,
    -126, -126, -126, -126, -126, -126, -126, -126, -126, -126, -125, -125, -125, -125, -125, -125, -125, -124,
    -124, -124, -124, -124, -123, -123, -123, -123, -122, -122, -122, -121, -121, -121, -120, -120, -119, -119,
    -119, -118, -118, -117, -117, -116, -115, -115, -114, -113, -113, -112, -111, -110, -109, -109, -108, -107,
    -106, -105, -103, -102, -101, -100, -99,  -97,  -96,  -94,  -93,  -91,  -90,  -88,  -86,  -84,  -82,  -80,
    -78,  -76,  -74,  -72,  -70,  -67,  -65,  -63,  -60,  -58,  -55,  -52,  -49,  -47,  -44,  -41,  -38,  -35,
    -32,  -29,  -26,  -23,  -19,  -16,  -13,  -10,  -7,   -3,   0,    3,    7,    10,   13,   16,   19,   23,
    26,   29,   32,   35,   38,   41,   44,   47,   49,   52,   55,   58,   60,   63,   65,   67,   70,   72,
    74,   76,   78,   80,   82,   84,   86,   88,   90,   91,   93,   94,   96,   97,   99,   100,  101,  102,
    103,  105,  106,  107,  108,  109,  109,  110,  111,  112,  113,  113,  114,  115,  115,  116,  117,  117,
    118,  118,  119,  119,  119,  120,  120,  121,  121,  121,  122,  122,  122,  123,  123,  123,  123,  124,
    124,  124,  124,  124,  125,  125,  125,  125,  125,  125,  125,  126,  126,  126,  126,  126,  126,  126,
    126,  126,  126,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,
    127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,
    127,  127,  127,  127};

// TFLite golden: TANH over every int8 input, input scale 0.021566146984696388, zero point -12.
const std::vector<int8_t> kTanhGolden = {
    -126, -126, -126, -126, -126, -126, -126, -126, -126, -125, -125, -125, -125, -125, -125, -125, -125, -124,
    -124, -124, -124, -124, -124, -123, -123, -123, -123, -123, -122, -122, -122, -122, -121, -121, -121, -120,
    -120, -120, -119, -119, -119, -118, -118, -117, -117, -117, -116, -116, -115, -115, -114, -113, -113, -112,
    -111, -111, -110, -109, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99,  -98,  -97,  -96,
    -95,  -93,  -92,  -91,  -89,  -88,  -86,  -85,  -83,  -82,  -80,  -78,  -77,  -75,  -73,  -71,  -69,  -67,
    -65,  -63,  -61,  -59,  -57,  -54,  -52,  -50,  -47,  -45,  -42,  -40,  -38,  -35,  -32,  -30,  -27,  -25,
    -22,  -19,  -16,  -14,  -11,  -8,   -6,   -3,   0,    3,    6,    8,    11,   14,   16,   19,   22,   25,
    27,   30,   32,   35,   38,   40,   42,   45,   47,   50,   52,   54,   57,   59,   61,   63,   65,   67,
    69,   71,   73,   75,   77,   78,   80,   82,   83,   85,   86,   88,   89,   91,   92,   93,   95,   96,
    97,   98,   99,   100,  101,  102,  103,  104,  105,  106,  107,  108,  109,  109,  110,  111,  111,  112,
    113,  113,  114,  115,  115,  116,  116,  117,  117,  117,  118,  118,  119,  119,  119,  120,  120,  120,
    121,  121,  121,  122,  122,  122,  122,  123,  123,  123,  123,  123,  124,  124,  124,  124,  124,  124,
    125,  125,  125,  125,  125,  125,  125,  125,  126,  126,  126,  126,  126,  126,  126,  126,  126,  126,
    126,  126,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,  127,
    127,  127,  127,  127};

}  // namespace

TEST_SUITE("ops") {

// ---- fixed-point helpers ------------------------------------------------------------------------

TEST_CASE("nonlinear: fixed-point primitives on hand-worked values") {
  // rounding_half_sum: (a + b + sign) / 2, truncated.
  CHECK(ptq::rounding_half_sum(3, 4) == 4);     // 3.5 -> 4
  CHECK(ptq::rounding_half_sum(-3, -4) == -4);  // -3.5 -> -4
  CHECK(ptq::rounding_half_sum(1, -2) == -1);   // -0.5 -> -1
  CHECK(ptq::rounding_half_sum(kMax, kMax) == kMax);
  CHECK(ptq::rounding_half_sum(0, kMax) == (1 << 30));  // (2^31 - 1 + 1) / 2
  // saturating_rounding_multiply_by_pot: saturates past +-(2^(31-e) - 1), rounds for e < 0.
  CHECK(ptq::saturating_rounding_multiply_by_pot((1 << 29) - 1, 2) == kMax - 3);
  CHECK(ptq::saturating_rounding_multiply_by_pot(1 << 29, 2) == kMax);
  CHECK(ptq::saturating_rounding_multiply_by_pot(-(1 << 29) + 1, 2) == kMin + 4);
  CHECK(ptq::saturating_rounding_multiply_by_pot(-(1 << 29), 2) == kMin);  // -2^31 fits, gemmlowp saturates
  CHECK(ptq::saturating_rounding_multiply_by_pot(6, -2) == 2);             // 1.5 -> 2
  CHECK(ptq::saturating_rounding_multiply_by_pot(-6, -2) == -2);           // -1.5 -> -2
  CHECK(ptq::saturating_rounding_multiply_by_pot(7, 0) == 7);
  // rescale<12, 0>(1.0): (2^31 - 1) / 2^12 = 524287.99... -> 524288 = 1.0 in Q12.19.
  CHECK(ptq::rescale<12, 0>(kMax) == 524288);
  CHECK(ptq::rescale<0, 5>(-(1 << 24)) == -(1 << 29));  // -1/4: Q5.26 -> Q0.31, exact
  CHECK(ptq::count_leading_zeros(0u) == 32);
  CHECK(ptq::count_leading_zeros(1u) == 31);
  CHECK(ptq::count_leading_zeros(0x80000000u) == 0);
}

TEST_CASE("nonlinear: exp_on_negative_values, hand-worked and against double exp") {
  // At -1/8 the Taylor series is centred: x = 0, every power vanishes, result = exp(-1/8) = 1895147668.
  CHECK(ptq::exp_on_interval_between_negative_one_quarter_and_0_excl(-(1 << 28)) == 1895147668);
  // exp(-1/4), 0 integer bits: a mod 1/4 - 1/4 = -1/4, no remainder bits. The series at x = -1/8
  // (-2^28): x^2 = 2^25, x^3 = -2^22, x^4 = 2^19, x^4/4 = 2^17;
  // (2^17 - 2^22) * 715827883 / 2^31 = -1354410.67 -> -1354411; + 2^25 = 32200021; / 2 -> 16100011
  // (ties away); x + 16100011 = -252335445; 1895147668 * -252335445 / 2^31 -> -222685249;
  // 1895147668 - 222685249 = 1672462419 (exp(-1/4) * 2^31 = 1672461947.5: within 2.2e-7).
  CHECK(ptq::exp_on_negative_values<0>(-(1 << 29)) == 1672462419);
  CHECK(ptq::exp_on_negative_values<0>(0) == kMax);
  CHECK(ptq::exp_on_negative_values<5>(0) == kMax);
  // With 12 integer bits, inputs below -32 clamp to 0 (and exp(-32) * 2^31 < 1e-4 rounds to 0 anyway).
  CHECK(ptq::exp_on_negative_values<12>(-(33 << 19)) == 0);
  // gemmlowp's 4th-order series is accurate to about 2.3e-7 over the whole range.
  const int step = ptq_test::kSanitized ? 1000003 : 12347;
  for (int64_t a = -(int64_t{16} << 26); a <= 0; a += step) {
    const double got = ptq::exp_on_negative_values<5>(static_cast<int32_t>(a)) / kTwo31;
    CHECK(std::fabs(got - std::exp(static_cast<double>(a) / (1 << 26))) < 3e-7);
  }
  for (int64_t a = kMin; a <= 0; a += int64_t{step} * 97) {
    const double got = ptq::exp_on_negative_values<0>(static_cast<int32_t>(a)) / kTwo31;
    CHECK(std::fabs(got - std::exp(static_cast<double>(a) / kTwo31)) < 3e-7);
  }
}

TEST_CASE("nonlinear: 1/(1+x), (1-x)/(1+x), tanh, logistic and the reciprocal against double") {
  // At x = 0: 1/(1+0) = 1 and (1-0)/(1+0) = 1 saturate to 2^31 - 1; tanh(0) = 0, logistic(0) = 1/2.
  CHECK(ptq::one_over_one_plus_x_for_x_in_0_1(0) == kMax);
  CHECK(ptq::one_minus_x_over_one_plus_x_for_x_in_0_1(0) == kMax);
  CHECK(ptq::fixed_point_tanh<4>(0) == 0);
  CHECK(ptq::fixed_point_logistic<4>(0) == (1 << 30));
  // Symmetries that hold exactly by construction: tanh(-x) = -tanh(x), logistic(-x) = (2^31 - 1) - logistic(x).
  for (int32_t a : {1, 1 << 27, 3 << 26, kMax}) {
    CHECK(ptq::fixed_point_tanh<4>(-a) == -ptq::fixed_point_tanh<4>(a));
    CHECK(ptq::fixed_point_logistic<4>(-a) == kMax - ptq::fixed_point_logistic<4>(a));
  }
  const int64_t step = ptq_test::kSanitized ? 40000003 : 1048573;
  for (int64_t a = 0; a <= kMax; a += step) {
    const double x = static_cast<double>(a) / kTwo31;
    CHECK(std::fabs(ptq::one_over_one_plus_x_for_x_in_0_1(static_cast<int32_t>(a)) / kTwo31 - 1.0 / (1.0 + x)) < 1e-8);
    CHECK(std::fabs(ptq::one_minus_x_over_one_plus_x_for_x_in_0_1(static_cast<int32_t>(a)) / kTwo31 -
                    (1.0 - x) / (1.0 + x)) < 1e-8);
  }
  for (int64_t a = kMin; a <= kMax; a += step) {
    const double x = static_cast<double>(a) / (1 << 27);  // Q4.27
    CHECK(std::fabs(ptq::fixed_point_tanh<4>(static_cast<int32_t>(a)) / kTwo31 - std::tanh(x)) < 2e-7);
    CHECK(std::fabs(ptq::fixed_point_logistic<4>(static_cast<int32_t>(a)) / kTwo31 - 1.0 / (1.0 + std::exp(-x))) < 1e-7);
  }
  // get_reciprocal: 4.0 in Q12.19 is 2^21: clz = 10, num_bits_over_unit = 12 - 10 = 2, (2^21 << 10) - 2^31
  // = 0, 1/(1+0) = 2^31 - 1: 1/4 = (2^31 - 1) / 2^31 / 2^2.
  int bits = 0;
  CHECK(ptq::get_reciprocal(1 << 21, 12, &bits) == kMax);
  CHECK(bits == 2);
  for (int64_t s = 524288; s < kMax; s += step) {
    const int32_t r = ptq::get_reciprocal(static_cast<int32_t>(s), 12, &bits);
    const double want = 524288.0 / static_cast<double>(s);
    CHECK(std::fabs(r / kTwo31 / std::ldexp(1.0, bits) - want) < 1e-8 * want);
  }
}

TEST_CASE("nonlinear: calculate_input_radius on hand-worked values") {
  CHECK(ptq::calculate_input_radius(5, 22) == 496);      // 31 * 2^26 / 2^22 = 31 * 16
  CHECK(ptq::calculate_input_radius(4, 24, 31) == 120);  // 15 * 2^27 / 2^24
  CHECK(ptq::calculate_input_radius(5, 31) == 0);        // floor(31 / 32)
  CHECK(ptq::calculate_input_radius(4, 25, 31) == 60);
  CHECK(ptq::calculate_input_radius(4, 26, 31) == 30);
  CHECK(ptq::calculate_input_radius(4, 27, 31) == 15);
  CHECK(ptq::calculate_input_radius(4, 28, 31) == 7);    // floor(7.5)
  CHECK(ptq::calculate_input_radius(4, -2, 31) == std::numeric_limits<int>::max());  // 15 * 2^29 saturates
}

// ---- softmax ------------------------------------------------------------------------------------

TEST_CASE("nonlinear: float softmax is TFLite's formula, with beta") {
  ptq::SoftmaxParams p;
  p.outer_size = 3;
  p.depth = 5;
  p.beta = 0.7f;
  REQUIRE(p.validate().ok());
  const std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f,  //
                                -1.0f, -1.0f, -1.0f, -1.0f, -1.0f,  //
                                1000.0f, -1000.0f, 0.0f, 999.0f, 3.5f};
  std::vector<float> y(x.size(), 0.0f);
  ptq::reference::softmax(p, x.data(), y.data());
  for (int r = 0; r < 3; ++r) {
    float m = std::numeric_limits<float>::lowest();
    for (int c = 0; c < 5; ++c) m = std::max(m, x[r * 5 + c]);
    float e[5];
    float sum = 0.0f;
    for (int c = 0; c < 5; ++c) {
      e[c] = std::exp((x[r * 5 + c] - m) * 0.7f);
      sum += e[c];
    }
    for (int c = 0; c < 5; ++c) CHECK(y[r * 5 + c] == e[c] / sum);  // the same float operations: exact
  }
  CHECK(y[5] == doctest::Approx(0.2));                   // equal inputs
  CHECK(y[10] == doctest::Approx(1.0 / (1.0 + std::exp(-0.7))).epsilon(1e-6));  // 1000 vs 999, no overflow
  CHECK(y[11] == 0.0f);
}

TEST_CASE("nonlinear: int8 softmax parameters as TFLite's SoftmaxPrepare computes them") {
  // Input scale 0.027442609891295433 (float), beta 1: real = scale * 2^26 = 1841642.375;
  // frexp = 0.87816... * 2^21 -> multiplier round(0.87816... * 2^31) = 1885841792, shift 21;
  // diff_min = -floor(31 * 2^26 / 2^21) = -992.
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    auto p = ptq::make_softmax_params(2, 6, 1.0f, 0.027442609891295433f, mode);
    REQUIRE(p.ok());
    CHECK(p->input_multiplier == 1885841792);
    CHECK(p->input_left_shift == 21);
    CHECK(p->diff_min == -992);
  }
  // A large beta * scale caps at 2^31 - 1 (2^30 - 1 with single rounding): shift 31 (30), radius 0.
  auto big = ptq::make_softmax_params(1, 4, 100.0f, 1.0f, ptq::RoundingMode::kDouble);
  REQUIRE(big.ok());
  CHECK(big->input_left_shift == 31);
  CHECK(big->diff_min == 0);
  auto big1 = ptq::make_softmax_params(1, 4, 100.0f, 1.0f, ptq::RoundingMode::kSingle);
  REQUIRE(big1.ok());
  CHECK(big1->input_left_shift == 30);
  CHECK(big1->diff_min == -1);  // floor(31 * 2^26 / 2^30) = 1
  // beta * scale * 2^26 must exceed 1, and beta * scale must be finite and positive.
  auto tiny = ptq::make_softmax_params(1, 4, 1.0f, 1e-9f);
  REQUIRE_FALSE(tiny.ok());
  CHECK(tiny.status().message().find("greater than 1") != std::string::npos);
  CHECK_FALSE(ptq::make_softmax_params(1, 4, -1.0f, 0.1f).ok());
  CHECK_FALSE(ptq::make_softmax_params(1, 4, std::numeric_limits<float>::infinity(), 0.1f).ok());
}

TEST_CASE("nonlinear: int8 softmax on hand-worked rows, both rounding modes") {
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    // Four equal values: each exp(0) = 2^31 - 1, Q12 sum = 4 * 2^19 = 2^21, reciprocal 2^31 - 1 with
    // 2 bits over unit, exponent 2 + 23 = 25: (2^31 - 2) / 2^25 -> 64; -128 + 64 = -64 (= 0.25 * 256 - 128).
    auto p = ptq::make_softmax_params(3, 4, 1.0f, 0.1f, mode);
    REQUIRE(p.ok());
    const std::vector<int8_t> x = {7, 7, 7, 7,            // equal
                                   -128, -128, -128, -128,  // equal at the bottom of the range
                                   127, -128, -128, -128};  // one dominant value: diff -255 < diff_min
    std::vector<int8_t> y(x.size(), 0);
    ptq::reference::softmax(*p, x.data(), y.data());
    // Row 3: 0.1 * 2^26 -> shift 23, diff_min = -floor(31 * 2^3) = -248 > -255, so the three small values
    // are skipped (-128) and the dominant one gets 1.0: 256 - 128 = 128, saturating to 127.
    CHECK(y == std::vector<int8_t>{-64, -64, -64, -64, -64, -64, -64, -64, 127, -128, -128, -128});
    // depth 1: always probability 1 -> 127.
    auto one = ptq::make_softmax_params(2, 1, 1.0f, 0.1f, mode);
    REQUIRE(one.ok());
    const std::vector<int8_t> x1 = {-128, 127};
    std::vector<int8_t> y1(2, 0);
    ptq::reference::softmax(*one, x1.data(), y1.data());
    CHECK(y1 == std::vector<int8_t>{127, 127});
  }
}

TEST_CASE("nonlinear: int8 softmax matches TFLite's reference kernel (golden)") {
  // TFLite golden: SOFTMAX, input scale 0.027442609891295433, zero point 18 (the zero point does not
  // enter softmax), output 1/256, -128.
  const std::vector<int8_t> x = {-128, -128, -128, -128, -128, -128,  //
                                 127,  -128, -128, -128, -128, -128,  //
                                 5,    5,    5,    5,    5,    5,     //
                                 100,  90,   80,   70,   -128, 127,   //
                                 3,    -7,   12,   0,    -1,   9,     //
                                 -20,  -21,  -60,  -22,  -128, -19};
  const std::vector<int8_t> golden = {-85, -85,  -85, -85,  -85,  -85,  127, -128, -128, -128, -128, -128,
                                      -85, -85,  -85, -85,  -85,  -85,  -76, -88,  -98,  -105, -128, -18,
                                      -86, -96,  -74, -89,  -90,  -78,  -69, -71,  -108, -72,  -125, -67};
  auto p = ptq::make_softmax_params(6, 6, 1.0f, 0.027442609891295433f, ptq::RoundingMode::kDouble);
  REQUIRE(p.ok());
  std::vector<int8_t> y(x.size(), 0);
  ptq::reference::softmax(*p, x.data(), y.data());
  CHECK(y == golden);
}

TEST_CASE("nonlinear: int8 softmax stays within a quantum of the float softmax on random rows") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> q(-128, 127);
  const int rows = ptq_test::kSanitized ? 8 : 64;
  const int depth = 13;
  const float scale = 0.0625f;
  auto p = ptq::make_softmax_params(rows, depth, 1.0f, scale);
  REQUIRE(p.ok());
  std::vector<int8_t> x(static_cast<std::size_t>(rows * depth));
  for (auto& v : x) v = static_cast<int8_t>(q(rng));
  std::vector<int8_t> y(x.size(), 0);
  ptq::reference::softmax(*p, x.data(), y.data());
  for (int r = 0; r < rows; ++r) {
    int m = -128;
    for (int c = 0; c < depth; ++c) m = std::max<int>(m, x[static_cast<std::size_t>(r * depth + c)]);
    double sum = 0.0;
    for (int c = 0; c < depth; ++c) sum += std::exp((x[static_cast<std::size_t>(r * depth + c)] - m) * double{scale});
    for (int c = 0; c < depth; ++c) {
      const double prob = std::exp((x[static_cast<std::size_t>(r * depth + c)] - m) * double{scale}) / sum;
      CHECK(std::fabs((y[static_cast<std::size_t>(r * depth + c)] + 128) - prob * 256.0) <= 1.0);
    }
  }
}

// ---- logistic and tanh --------------------------------------------------------------------------

TEST_CASE("nonlinear: float logistic and tanh are TFLite's formulas, including the cutoffs") {
  const std::vector<float> x = {-100.0f, -9.5f, -9.0f, -1.0f, 0.0f, 0.5f, 16.5f, 16.7f, 100.0f};
  std::vector<float> y(x.size(), 0.0f);
  ptq::reference::logistic(x.data(), y.data(), x.size());
  CHECK(y[0] == std::exp(-100.0f));  // below -9: exp(x)
  CHECK(y[1] == std::exp(-9.5f));
  CHECK(y[2] == 1.0f / (1.0f + std::exp(9.0f)));  // -9 itself takes the general branch
  CHECK(y[3] == 1.0f / (1.0f + std::exp(1.0f)));
  CHECK(y[4] == 0.5f);
  CHECK(y[5] == 1.0f / (1.0f + std::exp(-0.5f)));
  CHECK(y[6] == 1.0f / (1.0f + std::exp(-16.5f)));
  CHECK(y[7] == 1.0f);  // above 16.619047...: 1
  CHECK(y[8] == 1.0f);
  ptq::reference::tanh(x.data(), y.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == std::tanh(x[i]));
  CHECK(y[0] == -1.0f);
  CHECK(y[4] == 0.0f);
}

TEST_CASE("nonlinear: int8 logistic and tanh tables on hand-worked entries") {
  // Logistic, input 1/16 and zero point 0, output 1/256 and -128:
  //   q = 0: 0.5 * 256 = 128 -> 0;  q = 16 (x = 1): 0.7310586 * 256 = 187.15 -> 187 -> 59;
  //   q = 127 (x = 7.9375): 255.9 -> 256 -> 128 -> 127;  q = -128 (x = -8): 0.086 -> 0 -> -128.
  const ptq::Int8LookupTable lg = ptq::make_logistic_lut({1.0f / 16, 0}, {1.0f / 256, -128});
  const auto at = [](const ptq::Int8LookupTable& t, int q) { return int{t[static_cast<uint8_t>(static_cast<int8_t>(q))]}; };
  CHECK(at(lg, 0) == 0);
  CHECK(at(lg, 16) == 59);
  CHECK(at(lg, -16) == -59);  // 1 - 0.7310586 = 0.2689414 * 256 = 68.85 -> 69 -> -59
  CHECK(at(lg, 127) == 127);
  CHECK(at(lg, -128) == -128);
  // Tanh, input 1/32 and zero point 0, output 1/128 and 0:
  //   q = 32 (x = 1): 0.7615942 * 128 = 97.48 -> 97;  q = 127: 0.99928 * 128 = 127.9 -> 128 -> 127;
  //   q = -128 (x = -4): -127.91 -> -128.
  const ptq::Int8LookupTable th = ptq::make_tanh_lut({1.0f / 32, 0}, {1.0f / 128, 0});
  CHECK(at(th, 0) == 0);
  CHECK(at(th, 32) == 97);
  CHECK(at(th, -32) == -97);
  CHECK(at(th, 127) == 127);
  CHECK(at(th, -128) == -128);
  // Extreme input zero points move the table: with zero point 127 every input is <= 0.
  const ptq::Int8LookupTable lg127 = ptq::make_logistic_lut({1.0f / 16, 127}, {1.0f / 256, -128});
  CHECK(at(lg127, 127) == 0);
  CHECK(at(lg127, 111) == -59);  // x = -1
  const std::vector<int8_t> x = {0, 16, -16, 127, -128};
  std::vector<int8_t> y(x.size(), 0);
  ptq::reference::lookup(lg, x.data(), y.data(), x.size());
  CHECK(y == std::vector<int8_t>{0, 59, -59, 127, -128});
}

TEST_CASE("nonlinear: int8 fixed-point logistic and tanh on hand-worked values") {
  // Input scale 1/16: s * 2^27 = 2^23 = 0.5 * 2^24 -> multiplier 2^30, shift 24; radius
  // floor(15 * 2^27 / 2^24) = 120.
  const ptq::FixedPointActivationParams p = ptq::make_fixed_point_activation_params({1.0f / 16, 0});
  CHECK(p.input_multiplier == (1 << 30));
  CHECK(p.input_left_shift == 24);
  CHECK(p.input_range_radius == 120);
  // d = 16: x = 16 * 2^24 * 2^30 / 2^31 = 2^27 = 1.0 in Q4.27; logistic(1) * 2^31 = 1569936226,
  // / 2^23 = 187.15 -> 187, - 128 = 59. tanh(1) * 2^31 = 1635510876, / 2^24 = 97.48 -> 97.
  CHECK(ptq::fixed_point_logistic<4>(1 << 27) == 1569936226);
  CHECK(ptq::fixed_point_tanh<4>(1 << 27) == 1635510876);
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    const ptq::FixedPointActivationParams pm = ptq::make_fixed_point_activation_params({1.0f / 16, 0}, mode);
    const std::vector<int8_t> x = {0, 16, -16, 119, 120, -120, 127, -128};
    std::vector<int8_t> y(x.size(), 0);
    ptq::reference::logistic_fixed_point(pm, x.data(), y.data(), x.size());
    // 119 is inside the radius: logistic(7.4375) * 256 = 255.85 -> 256 -> 128 -> 127; +-120 saturate.
    CHECK(y == std::vector<int8_t>{0, 59, -59, 127, 127, -128, 127, -128});
    ptq::reference::tanh_fixed_point(pm, x.data(), y.data(), x.size());
    CHECK(y == std::vector<int8_t>{0, 97, -97, 127, 127, -128, 127, -128});
  }
}

TEST_CASE("nonlinear: int8 logistic and tanh match TFLite's interpreter over every input (golden)") {
  const std::vector<int8_t> x = all_int8();
  std::vector<int8_t> y(256, 0);
  const ptq::QuantParams lg_in{0.05097246542572975f, -10};
  ptq::reference::lookup(ptq::make_logistic_lut(lg_in, {1.0f / 256, -128}), x.data(), y.data(), 256);
  CHECK(y == kLogisticGolden);
  ptq::reference::logistic_fixed_point(ptq::make_fixed_point_activation_params(lg_in), x.data(), y.data(), 256);
  CHECK(y == kLogisticGolden);  // the fixed-point formulation agrees on this table
  const ptq::QuantParams th_in{0.021566146984696388f, -12};
  ptq::reference::lookup(ptq::make_tanh_lut(th_in, {1.0f / 128, 0}), x.data(), y.data(), 256);
  CHECK(y == kTanhGolden);
  ptq::reference::tanh_fixed_point(ptq::make_fixed_point_activation_params(th_in), x.data(), y.data(), 256);
  CHECK(y == kTanhGolden);
}

TEST_CASE("nonlinear: TFLite's interpreter computes the int8 table, not the fixed-point formulation (golden)") {
  // Input scale 0.018961604684591293, zero point -102 is one of the rare parameter sets where the two
  // formulations differ, at near-ties of the output rounding: 256 * logistic(x) is 113.499994 at
  // q = -114 (x = -12 s), 142.500006 at q = -90 and 178.499997 at q = -58; 128 * tanh(x) is -14.500006
  // at q = -108 and 14.500006 at q = -96. The table (float) and the fixed-point arithmetic land on
  // different sides of some of them. TFLite golden (BUILTIN_REF): logistic {-15, 15, 51}, tanh
  // {-15, 15}: the table's values.
  const ptq::QuantParams in{0.018961604684591293f, -102};
  const std::vector<int8_t> xl = {-114, -90, -58};
  std::vector<int8_t> y(3, 0);
  ptq::reference::lookup(ptq::make_logistic_lut(in, {1.0f / 256, -128}), xl.data(), y.data(), 3);
  CHECK(y == std::vector<int8_t>{-15, 15, 51});
  ptq::reference::logistic_fixed_point(ptq::make_fixed_point_activation_params(in), xl.data(), y.data(), 3);
  CHECK(y == std::vector<int8_t>{-14, 14, 50});
  const std::vector<int8_t> xt = {-108, -96};
  std::vector<int8_t> yt(2, 0);
  ptq::reference::lookup(ptq::make_tanh_lut(in, {1.0f / 128, 0}), xt.data(), yt.data(), 2);
  CHECK(yt == std::vector<int8_t>{-15, 15});
  ptq::reference::tanh_fixed_point(ptq::make_fixed_point_activation_params(in), xt.data(), yt.data(), 2);
  CHECK(yt == std::vector<int8_t>{-14, 14});
}

}
