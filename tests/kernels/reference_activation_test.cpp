// Fused activation ranges and the quantized output stage (reference/activation.hpp), against values
// worked out by hand from TFLite's CalculateActivationRangeQuantized / CalculateActivationRange.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "ptq/kernels/reference/activation.hpp"

namespace {

using ptq::FusedActivation;
using ptq::QuantParams;
using ptq::reference::calculate_activation_range_quantized;

struct Range {
  int32_t min, max;
};

template <class T>
Range q_range(FusedActivation a, float scale, int32_t zero_point) {
  const ptq::QuantizedActivationRange r = calculate_activation_range_quantized<T>(a, QuantParams{scale, zero_point});
  return {r.min, r.max};
}

}  // namespace

TEST_SUITE("kernels") {

TEST_CASE("reference activation: int8 ranges with an exact scale") {
  // scale = 1/32 (exact in float), zero point -100: q(f) = -100 + round(32 f).
  //   q(0) = -100, q(6) = -100 + 192 = 92, q(-1) = -132 (below -128), q(1) = -68.
  const float s = 1.0f / 32.0f;
  Range r = q_range<int8_t>(FusedActivation::kNone, s, -100);
  CHECK(r.min == -128);
  CHECK(r.max == 127);
  r = q_range<int8_t>(FusedActivation::kRelu, s, -100);
  CHECK(r.min == -100);
  CHECK(r.max == 127);
  r = q_range<int8_t>(FusedActivation::kRelu6, s, -100);
  CHECK(r.min == -100);
  CHECK(r.max == 92);
  r = q_range<int8_t>(FusedActivation::kReluN1To1, s, -100);
  CHECK(r.min == -128);  // max(-128, -132)
  CHECK(r.max == -68);
}

TEST_CASE("reference activation: round() sends ties away from zero (TfLiteRound)") {
  // scale 12, zero point 0: q(6) = round(0.5) = 1 (round-half-even would give 0).
  Range r = q_range<int8_t>(FusedActivation::kRelu6, 12.0f, 0);
  CHECK(r.min == 0);
  CHECK(r.max == 1);
  // scale 2, zero point 3: q(-1) = 3 + round(-0.5) = 2, q(1) = 3 + round(0.5) = 4 (half-even: 3 and 3).
  r = q_range<int8_t>(FusedActivation::kReluN1To1, 2.0f, 3);
  CHECK(r.min == 2);
  CHECK(r.max == 4);
}

TEST_CASE("reference activation: uint8 ranges") {
  // scale 0.5, zero point 128: q(0) = 128, q(6) = 140, q(-1) = 126, q(1) = 130.
  Range r = q_range<uint8_t>(FusedActivation::kNone, 0.5f, 128);
  CHECK(r.min == 0);
  CHECK(r.max == 255);
  r = q_range<uint8_t>(FusedActivation::kRelu, 0.5f, 128);
  CHECK(r.min == 128);
  CHECK(r.max == 255);
  r = q_range<uint8_t>(FusedActivation::kRelu6, 0.5f, 128);
  CHECK(r.min == 128);
  CHECK(r.max == 140);
  r = q_range<uint8_t>(FusedActivation::kReluN1To1, 0.5f, 128);
  CHECK(r.min == 126);
  CHECK(r.max == 130);
}

TEST_CASE("reference activation: bounds beyond int32 saturate, then clamp to the type") {
  // 6 / 1e-30 = 6e30 does not fit in int32 (TFLite's Prepare fails); ptq saturates, then clamps.
  Range r = q_range<int8_t>(FusedActivation::kRelu6, 1e-30f, 0);
  CHECK(r.min == 0);
  CHECK(r.max == 127);
  r = q_range<int8_t>(FusedActivation::kReluN1To1, 1e-30f, 5);
  CHECK(r.min == -128);
  CHECK(r.max == 127);
  // A zero point at the top of the range leaves ReLU a single value.
  r = q_range<int8_t>(FusedActivation::kRelu, 0.1f, 127);
  CHECK(r.min == 127);
  CHECK(r.max == 127);
}

TEST_CASE("reference activation: float ranges (CalculateActivationRange)") {
  using ptq::reference::calculate_activation_range;
  const float big = std::numeric_limits<float>::max();
  CHECK(calculate_activation_range(FusedActivation::kNone).min == -big);
  CHECK(calculate_activation_range(FusedActivation::kNone).max == big);
  CHECK(calculate_activation_range(FusedActivation::kRelu).min == 0.0f);
  CHECK(calculate_activation_range(FusedActivation::kRelu).max == big);
  CHECK(calculate_activation_range(FusedActivation::kRelu6).min == 0.0f);
  CHECK(calculate_activation_range(FusedActivation::kRelu6).max == 6.0f);
  CHECK(calculate_activation_range(FusedActivation::kReluN1To1).min == -1.0f);
  CHECK(calculate_activation_range(FusedActivation::kReluN1To1).max == 1.0f);
  CHECK(std::string(ptq::fused_activation_name(FusedActivation::kRelu6)) == "relu6");
}

TEST_CASE("reference activation: the two float spellings differ on -0.0, infinity and NaN") {
  using ptq::reference::activation_with_min_max;
  using ptq::reference::apply_fused_activation;
  // Values away from the edge agree.
  CHECK(apply_fused_activation(7.5f, FusedActivation::kRelu6) == 6.0f);
  CHECK(activation_with_min_max(7.5f, 0.0f, 6.0f) == 6.0f);
  CHECK(apply_fused_activation(-3.0f, FusedActivation::kReluN1To1) == -1.0f);
  CHECK(apply_fused_activation(-3.0f, FusedActivation::kRelu) == 0.0f);
  CHECK(apply_fused_activation(0.25f, FusedActivation::kRelu) == 0.25f);
  CHECK(apply_fused_activation(-3.0f, FusedActivation::kNone) == -3.0f);
  // std::max(0.0f, -0.0f) returns its first argument, +0; std::max(-0.0f, 0.0f) its first, -0.
  CHECK_FALSE(std::signbit(apply_fused_activation(-0.0f, FusedActivation::kRelu)));
  CHECK(std::signbit(activation_with_min_max(-0.0f, 0.0f, std::numeric_limits<float>::max())));
  // NaN: ApplyReluToVector gives 0, ActivationFunctionWithMinMax passes it through.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(apply_fused_activation(nan, FusedActivation::kRelu) == 0.0f);
  CHECK(std::isnan(activation_with_min_max(nan, 0.0f, 6.0f)));
  // kNone through min/max turns +inf into FLT_MAX; the vector form leaves it.
  const float inf = std::numeric_limits<float>::infinity();
  const ptq::FloatActivationRange none = ptq::reference::calculate_activation_range(FusedActivation::kNone);
  CHECK(activation_with_min_max(inf, none.min, none.max) == std::numeric_limits<float>::max());
  CHECK(apply_fused_activation(inf, FusedActivation::kNone) == inf);
}

TEST_CASE("reference activation: quantized output stage and wrapping accumulators") {
  using ptq::reference::quantized_output_stage;
  // 130 * 0.25 = 32.5 -> 33 in both modes (multiplier 2^30 with shift -1 is exactly 0.25):
  //   double: SRDHM(130, 2^30) = 65, RoundingDivideByPOT(65, 1) = 33 (ties away from zero)
  //   single: (130 * 2^30 + 2^31) >> 32 = 33
  const ptq::QuantizedMultiplier quarter{1 << 30, -1};
  CHECK(quantized_output_stage(130, quarter, ptq::RoundingMode::kDouble, -10, -128, 127) == 23);
  CHECK(quantized_output_stage(130, quarter, ptq::RoundingMode::kSingle, -10, -128, 127) == 23);
  CHECK(quantized_output_stage(130, quarter, ptq::RoundingMode::kDouble, -10, -128, 20) == 20);
  CHECK(quantized_output_stage(-1000, quarter, ptq::RoundingMode::kDouble, 0, -128, 127) == -128);
  // The zero point is added in 64 bits: a result near INT32_MAX saturates instead of wrapping.
  // Multiplier (2^31 - 1) * 2^-31, just below 1: INT32_MAX - 10 stays near INT32_MAX, + 127 would
  // overflow int32.
  const ptq::QuantizedMultiplier almost_one{std::numeric_limits<int32_t>::max(), 0};
  CHECK(quantized_output_stage(std::numeric_limits<int32_t>::max() - 10, almost_one, ptq::RoundingMode::kDouble, 127,
                               -128, 127) == 127);
  CHECK(ptq::reference::wrapping_add(std::numeric_limits<int32_t>::max(), 1) == std::numeric_limits<int32_t>::min());
  CHECK(ptq::reference::wrapping_mac(std::numeric_limits<int32_t>::max(), -255, -255) ==
        std::numeric_limits<int32_t>::min() + 65024);
}
}
