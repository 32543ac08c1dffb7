// Quantization parameters against hand-worked values (ranges chosen so the arithmetic is exact).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "ptq/core/qparams.hpp"

TEST_SUITE("core") {
TEST_CASE("qparams: choose_quant_params, asymmetric with nudging") {
  // [-8, 7.9375] is 255 steps of 1/16: scale 0.0625, real 0 at q = 0.
  auto p = ptq::choose_quant_params<int8_t>(-8.0, 7.9375);
  CHECK(p.scale == 0.0625f);
  CHECK(p.zero_point == 0);
  // [-4, 11.9375]: same scale, zero point -128 + 4/0.0625 = -64.
  p = ptq::choose_quant_params<int8_t>(-4.0, 11.9375);
  CHECK(p.scale == 0.0625f);
  CHECK(p.zero_point == -64);
  // a positive range is widened to contain 0: [0, 25.5] -> scale 0.1, zero point qmin
  p = ptq::choose_quant_params<int8_t>(3.0, 25.5);
  CHECK(p.scale == doctest::Approx(0.1));
  CHECK(p.zero_point == -128);
  // a negative range: [-25.5, 0] -> zero point qmax
  p = ptq::choose_quant_params<int8_t>(-25.5, -1.0);
  CHECK(p.zero_point == 127);
  // uint8: [0, 2] -> zero point 0; [-2, 2] -> zero point 127.5 rounded away from zero = 128
  p = ptq::choose_quant_params<uint8_t>(0.5, 2.0);
  CHECK(p.zero_point == 0);
  CHECK(p.scale == doctest::Approx(2.0 / 255.0));
  p = ptq::choose_quant_params<uint8_t>(-2.0, 2.0);
  CHECK(p.zero_point == 128);
  // narrow range: [-127, 127] steps of 1/16 -> 254 steps, zero point 0
  p = ptq::choose_quant_params<int8_t>(-7.9375, 7.9375, /*narrow_range=*/true);
  CHECK(p.scale == 0.0625f);
  CHECK(p.zero_point == 0);
  // int16
  p = ptq::choose_quant_params<int16_t>(-1.0, 1.0);
  CHECK(p.scale == doctest::Approx(2.0 / 65535.0));
  CHECK(p.zero_point == -1);  // both candidates are exactly -0.5: ties away from zero
}

TEST_CASE("qparams: the zero point is nudged to the nearest integer, ties away from zero") {
  // [-1, 1] in int8: scale 2/255; -128 + 1/scale and 127 - 1/scale are both exactly -0.5 in
  // double, and round(-0.5) = -1. Real 0 then dequantizes exactly to 0.
  const auto p = ptq::choose_quant_params<int8_t>(-1.0, 1.0);
  CHECK(p.zero_point == -1);
  CHECK(p.dequantize(p.zero_point) == 0.0f);
}

TEST_CASE("qparams: a range that is the point 0 gives scale 0 and zero point 0 (TFLite)") {
  const auto p = ptq::choose_quant_params<int8_t>(0.0, 0.0);
  CHECK(p.scale == 0.0f);
  CHECK(p.zero_point == 0);
}

TEST_CASE("qparams: symmetric parameters") {
  CHECK(ptq::symmetric_quant_params<int8_t>(-2.54f, 1.0f).scale == 2.54f / 127.0f);
  CHECK(ptq::symmetric_quant_params<int8_t>(-2.54f, 1.0f).zero_point == 0);
  CHECK(ptq::symmetric_quant_params<int16_t>(-1.0f, 3.0f).scale == 3.0f / 32767.0f);
  CHECK(ptq::symmetric_quant_params<int8_t>(0.5f, 0.75f).scale == 0.75f / 127.0f);  // widened to 0
  CHECK(ptq::symmetric_quant_params<int8_t>(0.0f, 0.0f).scale == 0.0f);
}

TEST_CASE("qparams: per-axis parameters follow each slice's range") {
  // shape [2, 3]: rows {-1, 2, 0.5} and {4, -8, 1}
  const std::vector<float> w = {-1, 2, 0.5f, 4, -8, 1};
  const ptq::Shape shape{2, 3};
  auto p0 = ptq::choose_per_axis_quant_params<int8_t>(w.data(), shape, 0, /*symmetric=*/true);
  REQUIRE(p0.size() == 2);
  CHECK(p0.axis == 0);
  CHECK(p0.scales[0] == 2.0f / 127.0f);
  CHECK(p0.scales[1] == 8.0f / 127.0f);
  CHECK(p0.zero_points == std::vector<int32_t>{0, 0});
  auto p1 = ptq::choose_per_axis_quant_params<int8_t>(w.data(), shape, 1, /*symmetric=*/true);
  REQUIRE(p1.size() == 3);
  CHECK(p1.scales[0] == 4.0f / 127.0f);  // column {-1, 4}
  CHECK(p1.scales[1] == 8.0f / 127.0f);  // column {2, -8}
  CHECK(p1.scales[2] == 1.0f / 127.0f);  // column {0.5, 1}
  auto pa = ptq::choose_per_axis_quant_params<uint8_t>(w.data(), shape, 0, /*symmetric=*/false);
  CHECK(pa.zero_points[0] == ptq::choose_quant_params<uint8_t>(-1.0, 2.0).zero_point);
  CHECK(pa.zero_points[1] == ptq::choose_quant_params<uint8_t>(-8.0, 4.0).zero_point);
  CHECK(pa.zero_points[1] > pa.zero_points[0]);
}

TEST_CASE("qparams: validation names the culprit") {
  CHECK(ptq::validate_quant_params<int8_t>({0.5f, 3}).ok());
  auto s = ptq::validate_quant_params<int8_t>({-1.0f, 0}, "conv1/input");
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("conv1/input") != std::string::npos);
  CHECK(s.message().find("scale") != std::string::npos);
  s = ptq::validate_quant_params<uint8_t>({1.0f, 300}, "x");
  CHECK(s.message().find("zero point 300") != std::string::npos);
  ptq::PerAxisQuantParams pa{{0.1f, 0.2f}, {0, 0}, 1};
  s = ptq::validate_quant_params<int8_t>(pa, ptq::Shape{4, 3}, "w");
  CHECK(s.message().find("2 scales") != std::string::npos);
  CHECK(ptq::validate_quant_params<int8_t>(pa, ptq::Shape{4, 2}, "w").ok());
  pa.axis = 2;
  CHECK(ptq::validate_quant_params<int8_t>(pa, ptq::Shape{4, 2}, "w").message().find("axis 2") !=
        std::string::npos);
}
}
