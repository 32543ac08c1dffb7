// reference/pool.hpp: average and max pooling (float and int8) on hand-worked windows, rounding,
// padding, fused activations and extreme zero points; Mean over any axes (float and int8), its
// multiplier, both rounding modes; and golden outputs of TFLite's interpreter (BUILTIN_REF op resolver,
// TFLite 2.21, single-op int8 models whose parameters are quoted).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/pool.hpp"
#include "support/isa_coverage.hpp"

namespace {

ptq::PoolParams pool_params(ptq::Padding padding, int64_t n, int64_t h, int64_t w, int64_t c, int64_t fh, int64_t fw,
                            int64_t sh, int64_t sw) {
  ptq::PoolParams p = ptq::make_pool_params(padding, n, h, w, c, fh, fw, sh, sw);
  REQUIRE(p.validate().ok());
  return p;
}

ptq::MeanParams mean_params(const ptq::Shape& s, const std::vector<int32_t>& axes) {
  auto p = ptq::make_mean_params(s, axes);
  REQUIRE(p.ok());
  return p.value();
}

}  // namespace

TEST_SUITE("ops") {

// ---- pooling ------------------------------------------------------------------------------------

TEST_CASE("pool: int8 average pool rounds half away from zero") {
  // 1x3x3x1, 2x2 window, stride 1, VALID: four windows.
  //   [1 2 | 3 4] = 10 / 4 = 2.5 -> 3;  [2 -8 | 4 -6] = -8 / 4 = -2;
  //   [3 4 | -5 -7] = -5 / 4 = -1.25 -> -1; [4 -6 | -7 -8] = -17 / 4 = -4.25 -> -4
  const std::vector<int8_t> x = {1, 2, -8, 3, 4, -6, -5, -7, -8};
  ptq::PoolParams p = pool_params(ptq::Padding::kValid, 1, 3, 3, 1, 2, 2, 1, 1);
  REQUIRE(p.output_size() == 4);
  std::vector<int8_t> y(4, 0);
  ptq::reference::average_pool(p, x.data(), y.data());
  CHECK(y == std::vector<int8_t>{3, -2, -1, -4});
  // Ties round away from zero: 6 / 4 = 1.5 -> 2 here, -2 / 4 = -0.5 -> -1 in the image after.
  const std::vector<int8_t> t = {1, 1, 2, 2, 1, 2, 2, -1, -2};
  ptq::reference::average_pool(p, t.data(), y.data());
  // windows: [1 1 | 2 1] = 5/4 -> 1; [1 2 | 1 2] = 6/4 -> 2; [2 1 | 2 -1] = 4/4 = 1; [1 2 | -1 -2] = 0
  CHECK(y == std::vector<int8_t>{1, 2, 1, 0});
  const std::vector<int8_t> u = {-1, -1, 0, -1, -1, 0, 0, 0, 0};
  ptq::reference::average_pool(p, u.data(), y.data());
  // [-1 -1 | -1 -1] = -1; [-1 0 | -1 0] = -2/4 = -0.5 -> -1; [-1 -1 | 0 0] -> -1; [-1 0 | 0 0] = -0.25 -> 0
  CHECK(y == std::vector<int8_t>{-1, -1, -1, 0});
}

TEST_CASE("pool: SAME padding counts only the taps inside the image") {
  // 1x2x2x2 (two channels), 3x3 window, stride 1, SAME: every window covers the whole 2x2 image.
  // Channel 0 = {1, 2, 3, 4}: average 2.5 -> 3 (int8), 2.5 (float); channel 1 = {-128 x 4}.
  const std::vector<int8_t> x = {1, -128, 2, -128, 3, -128, 4, -128};
  ptq::PoolParams p = pool_params(ptq::Padding::kSame, 1, 2, 2, 2, 3, 3, 1, 1);
  REQUIRE(p.output_height == 2);
  REQUIRE(p.output_width == 2);
  std::vector<int8_t> y(8, 0);
  ptq::reference::average_pool(p, x.data(), y.data());
  CHECK(y == std::vector<int8_t>{3, -128, 3, -128, 3, -128, 3, -128});
  // Max pool never sees the padding: an all-negative image keeps its maximum, not 0.
  ptq::reference::max_pool(p, x.data(), y.data());
  CHECK(y == std::vector<int8_t>{4, -128, 4, -128, 4, -128, 4, -128});
  const std::vector<float> xf = {1.0f, -3.0f, 2.0f, -2.0f, 3.0f, -5.0f, 4.0f, -4.0f};
  std::vector<float> yf(8, 0.0f);
  ptq::reference::average_pool(p, xf.data(), yf.data());
  CHECK(yf == std::vector<float>{2.5f, -3.5f, 2.5f, -3.5f, 2.5f, -3.5f, 2.5f, -3.5f});
  ptq::reference::max_pool(p, xf.data(), yf.data());
  CHECK(yf == std::vector<float>{4.0f, -2.0f, 4.0f, -2.0f, 4.0f, -2.0f, 4.0f, -2.0f});
}

TEST_CASE("pool: odd shapes, strides and batches against a direct float formulation") {
  // 2x5x7x3, 3x2 window, stride 2x3, SAME and VALID: float average/max compared with a direct loop over
  // the window (same float order: fy outer, fx inner).
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  std::vector<float> x(2 * 5 * 7 * 3);
  for (auto& v : x) v = u(rng);
  for (ptq::Padding padding : {ptq::Padding::kSame, ptq::Padding::kValid}) {
    ptq::PoolParams p = pool_params(padding, 2, 5, 7, 3, 3, 2, 2, 3);
    std::vector<float> avg(static_cast<std::size_t>(p.output_size())), mx(avg.size());
    ptq::reference::average_pool(p, x.data(), avg.data());
    ptq::reference::max_pool(p, x.data(), mx.data());
    std::size_t k = 0;
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t oy = 0; oy < p.output_height; ++oy) {
        for (int64_t ox = 0; ox < p.output_width; ++ox) {
          for (int64_t c = 0; c < 3; ++c, ++k) {
            float sum = 0.0f, m = std::numeric_limits<float>::lowest();
            int n = 0;
            for (int64_t fy = 0; fy < 3; ++fy) {
              for (int64_t fx = 0; fx < 2; ++fx) {
                const int64_t iy = oy * 2 - p.pad_top + fy, ix = ox * 3 - p.pad_left + fx;
                if (iy < 0 || iy >= 5 || ix < 0 || ix >= 7) continue;
                const float v = x[static_cast<std::size_t>(((b * 5 + iy) * 7 + ix) * 3 + c)];
                sum += v;
                m = std::max(m, v);
                ++n;
              }
            }
            CHECK(avg[k] == sum / static_cast<float>(n));
            CHECK(mx[k] == m);
          }
        }
      }
    }
  }
}

TEST_CASE("pool: every fused activation, float and int8, with extreme zero points") {
  const std::vector<float> xf = {-7.0f, -0.5f, 0.25f, 9.0f};  // 1x2x2x1, 1x1 window: identity before clamping
  ptq::PoolParams p = pool_params(ptq::Padding::kValid, 1, 2, 2, 1, 1, 1, 1, 1);
  std::vector<float> yf(4);
  const auto run_float = [&](ptq::FusedActivation a) {
    const ptq::FloatActivationRange r = ptq::reference::calculate_activation_range(a);
    p.float_activation_min = r.min;
    p.float_activation_max = r.max;
    ptq::reference::average_pool(p, xf.data(), yf.data());
    std::vector<float> ym(4);
    ptq::reference::max_pool(p, xf.data(), ym.data());
    CHECK(ym == yf);
    return yf;
  };
  CHECK(run_float(ptq::FusedActivation::kNone) == std::vector<float>{-7.0f, -0.5f, 0.25f, 9.0f});
  CHECK(run_float(ptq::FusedActivation::kRelu) == std::vector<float>{0.0f, 0.0f, 0.25f, 9.0f});
  CHECK(run_float(ptq::FusedActivation::kRelu6) == std::vector<float>{0.0f, 0.0f, 0.25f, 6.0f});
  CHECK(run_float(ptq::FusedActivation::kReluN1To1) == std::vector<float>{-1.0f, -0.5f, 0.25f, 1.0f});

  // int8, scale 0.5: zero point -128 makes ReLU a no-op and ReLU6 cap at -128 + 12 = -116;
  // zero point 127 makes ReLU pin everything to 127; zero point 0 with ReluN1To1 clamps to [-2, 2].
  const std::vector<int8_t> xq = {-128, -120, 0, 127};
  std::vector<int8_t> yq(4), ym(4);
  const auto run_int8 = [&](ptq::FusedActivation a, int32_t zp) {
    const ptq::QuantizedActivationRange r = ptq::reference::calculate_activation_range_quantized<int8_t>(a, {0.5f, zp});
    p.activation_min = r.min;
    p.activation_max = r.max;
    REQUIRE(p.validate_quantized().ok());
    ptq::reference::average_pool(p, xq.data(), yq.data());
    ptq::reference::max_pool(p, xq.data(), ym.data());
    CHECK(ym == yq);
    return yq;
  };
  CHECK(run_int8(ptq::FusedActivation::kNone, -128) == std::vector<int8_t>{-128, -120, 0, 127});
  CHECK(run_int8(ptq::FusedActivation::kRelu, -128) == std::vector<int8_t>{-128, -120, 0, 127});
  CHECK(run_int8(ptq::FusedActivation::kRelu6, -128) == std::vector<int8_t>{-128, -120, -116, -116});
  CHECK(run_int8(ptq::FusedActivation::kRelu, 127) == std::vector<int8_t>{127, 127, 127, 127});
  CHECK(run_int8(ptq::FusedActivation::kReluN1To1, 0) == std::vector<int8_t>{-2, -2, 0, 2});
}

TEST_CASE("pool: int8 average of saturated windows does not overflow") {
  // A 1x16x16x1 image of 127 (then -128) averaged over 16x16 windows: sum 32512 (-32768), exact.
  ptq::PoolParams p = pool_params(ptq::Padding::kValid, 1, 16, 16, 1, 16, 16, 16, 16);
  for (int8_t v : {int8_t{127}, int8_t{-128}}) {
    const std::vector<int8_t> x(256, v);
    std::vector<int8_t> y(1, 0);
    ptq::reference::average_pool(p, x.data(), y.data());
    CHECK(y[0] == v);
  }
}

TEST_CASE("pool: int8 average pool matches TFLite's reference kernel (golden)") {
  // TFLite golden: AVERAGE_POOL_2D 3x3, stride 2, SAME, fused RELU6, 1x5x5x2 -> 1x3x3x2; input and
  // output scale 0.06664515286684036, zero point -8 (ReLU6 range [-8, -8 + round(6 / s)] = [-8, 82]).
  const std::vector<int8_t> x = {43,  -16, -42,  -39, 16,  -115, 88,  44,  -60, -33, -14, 52,  91,
                                 2,   39,  24,   -107, -65, -41, -115, -106, -60, -29, 52,  52,  -19,
                                 -124, -96, 18,  -82, 86,  -96, 106, -51, 0,   -58, 52,  63,  -61,
                                 21,  111, -83, -2,  42,  116, -15, 99,  33,  111, -59};
  const std::vector<int8_t> golden = {20, 0, 14, -8, -8, -8, 22, -8, 9, -8, -8, -8, 75, -8, 62, 2, 50, 15};
  ptq::PoolParams p = pool_params(ptq::Padding::kSame, 1, 5, 5, 2, 3, 3, 2, 2);
  const ptq::QuantizedActivationRange r = ptq::reference::calculate_activation_range_quantized<int8_t>(
      ptq::FusedActivation::kRelu6, {0.06664515286684036f, -8});
  CHECK(r.min == -8);
  CHECK(r.max == 82);
  p.activation_min = r.min;
  p.activation_max = r.max;
  std::vector<int8_t> y(18, 0);
  ptq::reference::average_pool(p, x.data(), y.data());
  CHECK(y == golden);
}

TEST_CASE("pool: validate rejects windows that lie entirely in the padding and bad sizes") {
  ptq::PoolParams p = ptq::make_pool_params(ptq::Padding::kValid, 1, 4, 4, 1, 2, 2, 2, 2);
  CHECK(p.validate().ok());
  p.pad_top = 2;  // the first window's rows [-2, 0) miss the image
  const ptq::Status s = p.validate("pool");
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("height") != std::string::npos);
  p.pad_top = 0;
  p.output_width = 3;  // the third window starts at column 4 of a 4-wide image
  CHECK(p.validate().message().find("width") != std::string::npos);
  p.output_width = 2;
  p.stride_height = 0;
  CHECK(p.validate().message().find("stride_height") != std::string::npos);
  p.stride_height = 2;
  p.activation_min = 5;
  p.activation_max = 4;
  CHECK_FALSE(p.validate_quantized().ok());
}

// ---- mean ---------------------------------------------------------------------------------------

TEST_CASE("pool: float mean over any axes, negative and duplicate axes, keep_dims-free layout") {
  // x [2, 3, 2] = 0 .. 11.
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i);
  const ptq::Shape s{2, 3, 2};
  std::vector<float> y(12, -1.0f);
  // axis 1: (0+2+4)/3 = 2, (1+3+5)/3 = 3, (6+8+10)/3 = 8, 9.
  ptq::reference::mean(mean_params(s, {1}), x.data(), y.data());
  CHECK(std::vector<float>(y.begin(), y.begin() + 4) == std::vector<float>{2.0f, 3.0f, 8.0f, 9.0f});
  // axes {-1, 0, -1}: reduce dims 2 and 0: {0,1,6,7} -> 3.5, {2,3,8,9} -> 5.5, {4,5,10,11} -> 7.5.
  ptq::MeanParams p = mean_params(s, {-1, 0, -1});
  CHECK(p.num_outputs == 3);
  CHECK(p.reduced_count == 4);
  ptq::reference::mean(p, x.data(), y.data());
  CHECK(std::vector<float>(y.begin(), y.begin() + 3) == std::vector<float>{3.5f, 5.5f, 7.5f});
  // All axes: 66 / 12 = 5.5. Adjacent reduced dims fold into one.
  ptq::MeanParams all = mean_params(s, {0, 1, 2});
  CHECK(all.reduced_sizes == std::vector<int64_t>{12});
  ptq::reference::mean(all, x.data(), y.data());
  CHECK(y[0] == 5.5f);
  // Summation order is the input's (row-major): a sum that is order-sensitive in float.
  const std::vector<float> big = {1e8f, 1.0f, -1e8f, 1.0f};  // [4], mean over axis 0
  ptq::reference::mean(mean_params(ptq::Shape{4}, {0}), big.data(), y.data());
  CHECK(y[0] == (((0.0f + 1e8f) + 1.0f) + -1e8f + 1.0f) / 4.0f);
  // No axes: a copy. No elements: NaN.
  ptq::reference::mean(mean_params(s, {}), x.data(), y.data());
  CHECK(y == x);
  std::vector<float> none;
  std::vector<float> nan_out(2, 0.0f);
  ptq::reference::mean(mean_params(ptq::Shape{2, 0}, {1}), none.data(), nan_out.data());
  CHECK(std::isnan(nan_out[0]));
  CHECK(std::isnan(nan_out[1]));
}

TEST_CASE("pool: int8 mean multiplier as TFLite readapts it, both rounding modes") {
  // Equal parameters, count 2: M = quantize_multiplier(1) = (2^30, 1); k = floor(log2 2) = 1;
  // M' = (2^30 << 1) / 2 = 2^30, shift' = 0: y = sum * 2^30 / 2^31 rounded (ties to +inf).
  ptq::MeanParams p = mean_params(ptq::Shape{3, 2}, {1});
  ptq::set_mean_quantization(&p, {0.1f, 0}, {0.1f, 0});
  CHECK(p.multiplier.multiplier == (1 << 30));
  CHECK(p.multiplier.shift == 0);
  const std::vector<int8_t> x = {1, 2, -1, -2, 127, 127};
  std::vector<int8_t> y(3, 0);
  ptq::reference::mean(p, x.data(), y.data());
  CHECK(y == std::vector<int8_t>{2, -1, 127});  // 1.5 -> 2, -1.5 -> -1 (ties toward +infinity)
  // Count 3: k = 1, M' = 2^31 / 3 = 715827882 (truncated), shift' = 0.
  ptq::MeanParams p3 = mean_params(ptq::Shape{3}, {0});
  ptq::set_mean_quantization(&p3, {0.1f, 0}, {0.1f, 0});
  CHECK(p3.multiplier.multiplier == 715827882);
  // Different parameters: in (0.5, 10), out (0.25, -5): ratio 2 -> (2^30, 2); count 4: k = 2,
  // M' = 2^30, shift' = 0. x = {12, 13, 14, 16}: sum 55 - 10 * 4 = 15, * 0.5 = 7.5 -> 8, - 5 = 3
  // (real: mean (2 + 3 + 4 + 6) / 4 * 0.5 = 1.875 = 7.5 output steps).
  ptq::MeanParams pd = mean_params(ptq::Shape{4}, {0});
  ptq::set_mean_quantization(&pd, {0.5f, 10}, {0.25f, -5});
  CHECK(pd.multiplier.multiplier == (1 << 30));
  CHECK(pd.multiplier.shift == 0);
  const std::vector<int8_t> xd = {12, 13, 14, 16};
  ptq::reference::mean(pd, xd.data(), y.data());
  CHECK(y[0] == 3);
  // Saturation: a large output step count clamps to 127 / -128.
  const std::vector<int8_t> hi = {127, 127, 127, 127}, lo = {-128, -128, -128, -128};
  ptq::reference::mean(pd, hi.data(), y.data());
  CHECK(y[0] == 127);  // (127 - 10) * 2 - 5 = 229
  ptq::reference::mean(pd, lo.data(), y.data());
  CHECK(y[0] == -128);  // (-128 - 10) * 2 - 5 = -281
  // The rounding modes differ where the multiplier right-shifts: ratio 1/4 -> (2^30, -1); count 2:
  // k = 1, M' = 2^30, shift' = -2. sum 3: double rounding: 3 * 2^30 / 2^31 = 1.5 -> 2, 2 / 4 = 0.5 -> 1;
  // single rounding: (3 * 2^30 + 2^32) >> 33 = 0 (real 0.375).
  const std::vector<int8_t> x2 = {1, 2};
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    ptq::MeanParams pm = mean_params(ptq::Shape{2}, {0});
    ptq::set_mean_quantization(&pm, {0.25f, 0}, {1.0f, 0}, mode);
    CHECK(pm.multiplier.shift == -2);
    ptq::reference::mean(pm, x2.data(), y.data());
    CHECK(y[0] == (mode == ptq::RoundingMode::kDouble ? 1 : 0));
  }
}

TEST_CASE("pool: int8 mean matches TFLite's reference kernel (golden)") {
  // TFLite golden: MEAN over axes {1, 2}, keep_dims, x [1, 3, 4, 2] (scale 0.031333137303590775,
  // zero point -33) -> y [1, 1, 1, 2] (scale 0.01527860015630722, zero point -84).
  const std::vector<int8_t> x = {15, -74, 43, 99, -85, -86, 37, -55, -24, -12, -39, 65,
                                 -97, -103, 114, -73, -32, -17, -66, 39, -69, 21, 36, -33};
  ptq::MeanParams p = mean_params(ptq::Shape{1, 3, 4, 2}, {1, 2});
  ptq::set_mean_quantization(&p, {0.031333137303590775f, -33}, {0.01527860015630722f, -84});
  std::vector<int8_t> y(2, 0);
  ptq::reference::mean(p, x.data(), y.data());
  CHECK(y == std::vector<int8_t>{-45, -55});
  // MEAN over axis -1, no keep_dims, x [2, 3, 5] (0.01958080567419529, -77) -> y [2, 3]
  // (0.013423881493508816, -111).
  const std::vector<int8_t> x2 = {2,   94, -2,  -36, -56, 49, -115, 95,  -39, -47, 37, 95, 72, 59,  -117,
                                  -51, 109, -63, -119, 100, -58, -53, -1, -23, 98, -114, 127, -42, 52, -30};
  ptq::MeanParams p2 = mean_params(ptq::Shape{2, 3, 5}, {-1});
  ptq::set_mean_quantization(&p2, {0.01958080567419529f, -77}, {0.013423881493508816f, -111});
  std::vector<int8_t> y2(6, 0);
  ptq::reference::mean(p2, x2.data(), y2.data());
  CHECK(y2 == std::vector<int8_t>{2, -15, 44, -5, -9, 0});
  // Equal parameters take the same path (TFLite's reference no longer truncates there): MEAN over axis
  // -1 of [4, 7], input and output (0.015681490302085876, 0). 6/7 = 0.857 rounds to 1, -6/7 to -1.
  const std::vector<int8_t> x3 = {1,    1,    1,    1,    1,    1,    0,    -1,   -1,   -1,   -1,   -1,   -1,   0,
                                  127,  127,  127,  127,  127,  127,  127,  -128, -128, -128, -128, -128, -128, -127};
  ptq::MeanParams p3 = mean_params(ptq::Shape{4, 7}, {-1});
  ptq::set_mean_quantization(&p3, {0.015681490302085876f, 0}, {0.015681490302085876f, 0});
  std::vector<int8_t> y3(4, 0);
  ptq::reference::mean(p3, x3.data(), y3.data());
  CHECK(y3 == std::vector<int8_t>{1, -1, 127, -128});
}

TEST_CASE("pool: int8 mean against an int64 re-derivation on random shapes and parameters") {
  // y = clamp(round_half_up((sum - zp_in * n) * s_in / (s_out * n)) + zp_out): the fixed-point result
  // may differ from this exact rounding by at most one step.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> q(-128, 127);
  const int trials = ptq_test::kSanitized ? 4 : 40;
  for (int t = 0; t < trials; ++t) {
    const ptq::Shape s{3, 4, 5};
    const std::vector<int32_t> axes = t % 3 == 0 ? std::vector<int32_t>{0, 2} : std::vector<int32_t>{1};
    const float s_in = 0.01f + 0.001f * static_cast<float>(t);
    const float s_out = 0.02f - 0.0003f * static_cast<float>(t);
    const int32_t zp_in = q(rng);
    const int32_t zp_out = q(rng);
    ptq::MeanParams p = mean_params(s, axes);
    ptq::set_mean_quantization(&p, {s_in, zp_in}, {s_out, zp_out});
    std::vector<int8_t> x(60);
    for (auto& v : x) v = static_cast<int8_t>(q(rng));
    std::vector<int8_t> y(static_cast<std::size_t>(p.num_outputs), 0);
    ptq::reference::mean(p, x.data(), y.data());
    for (int64_t o = 0; o < p.num_outputs; ++o) {
      int64_t sum = 0;
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 4; ++j) {
          for (int k = 0; k < 5; ++k) {
            const bool in = axes.size() == 2 ? (j == o) : (i * 5 + k == o);
            if (in) sum += x[static_cast<std::size_t>((i * 4 + j) * 5 + k)];
          }
        }
      }
      const double real = static_cast<double>(sum - int64_t{zp_in} * p.reduced_count) * s_in /
                          (static_cast<double>(s_out) * static_cast<double>(p.reduced_count));
      const double want = std::min(127.0, std::max(-128.0, std::floor(real + 0.5) + zp_out));
      CHECK(std::fabs(y[static_cast<std::size_t>(o)] - want) <= 1.0);
    }
  }
}

TEST_CASE("pool: int8 mean copies with no axes, zeros an empty input, and names a bad axis") {
  const std::vector<int8_t> x = {-128, 5, 127};
  ptq::MeanParams p = mean_params(ptq::Shape{3}, {});
  ptq::set_mean_quantization(&p, {1.0f, 0}, {0.5f, 3});  // ignored: TFLite's ReduceIsCopy
  std::vector<int8_t> y(3, 0);
  ptq::reference::mean(p, x.data(), y.data());
  CHECK(y == x);
  ptq::MeanParams e = mean_params(ptq::Shape{0, 2}, {0});
  ptq::set_mean_quantization(&e, {1.0f, 0}, {1.0f, 0});
  std::vector<int8_t> ye(2, 9);
  ptq::reference::mean(e, static_cast<const int8_t*>(nullptr), ye.data());
  CHECK(ye == std::vector<int8_t>{0, 0});
  auto bad = ptq::make_mean_params(ptq::Shape{2, 3}, {0, 2});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("axes[1] = 2") != std::string::npos);
  CHECK_FALSE(ptq::make_mean_params(ptq::Shape{2, 3}, {-3}).ok());
}

}
