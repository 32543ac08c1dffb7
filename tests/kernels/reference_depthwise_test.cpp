// reference/depthwise_conv.hpp: a hand-worked case with depth multiplier 2, the equivalence with the
// grouped conv of conv.hpp (groups = input channels), explicit zero-point padding, saturation, both
// rounding modes and validate().
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"

namespace {

using ptq::ConvGeometry;
using ptq::DepthwiseConv2DParams;
using ptq::QuantizedMultiplier;
using ptq::RoundingMode;

constexpr QuantizedMultiplier kHalf{1 << 30, 0};      // 0.5
constexpr QuantizedMultiplier kQuarter{1 << 30, -1};  // 0.25
constexpr QuantizedMultiplier kOne{1 << 30, 1};       // 1.0

DepthwiseConv2DParams dw_params(const ConvGeometry& g, int64_t dm, int32_t x_zp, int32_t y_zp,
                                std::vector<QuantizedMultiplier> ms, RoundingMode mode = RoundingMode::kDouble) {
  DepthwiseConv2DParams p;
  p.geometry = g;
  p.depth_multiplier = dm;
  p.input_zero_point = x_zp;
  p.output_zero_point = y_zp;
  p.multipliers = std::move(ms);
  p.rounding = mode;
  return p;
}

ConvGeometry one_pixel(int64_t in_c, int64_t out_c) {
  return ptq::make_conv_geometry(ptq::Padding::kValid, 1, 1, 1, in_c, 1, 1, out_c);
}

template <class T>
std::vector<T> random_values(std::mt19937& rng, int64_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

std::vector<QuantizedMultiplier> random_multipliers(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, 2147483647);
  std::uniform_int_distribution<int> shift(-6, -4);
  std::vector<QuantizedMultiplier> ms(static_cast<std::size_t>(n));
  for (auto& m : ms) m = {mantissa(rng), shift(rng)};
  return ms;
}

std::vector<int8_t> run_dw(const DepthwiseConv2DParams& p, const std::vector<int8_t>& x,
                           const std::vector<int8_t>& w, const std::vector<int32_t>& bias) {
  REQUIRE(p.validate().ok());
  REQUIRE(static_cast<int64_t>(x.size()) == p.geometry.input_size());
  REQUIRE(static_cast<int64_t>(w.size()) == p.filter_size());
  std::vector<int8_t> y(static_cast<std::size_t>(p.geometry.output_size()), 0);
  ptq::reference::depthwise_conv2d(p, x.data(), w.data(), bias.empty() ? nullptr : bias.data(), y.data());
  return y;
}

// The grouped conv that a depthwise conv is: groups = C, weights [OC, KH, KW, 1] from [1, KH, KW, OC].
std::vector<int8_t> run_as_grouped_conv(const DepthwiseConv2DParams& d, const std::vector<int8_t>& x,
                                        const std::vector<int8_t>& w, const std::vector<int32_t>& bias) {
  const ConvGeometry& g = d.geometry;
  ptq::Conv2DParams c;
  c.geometry = g;
  c.groups = g.input_channels;
  c.input_zero_point = d.input_zero_point;
  c.output_zero_point = d.output_zero_point;
  c.multipliers = d.multipliers;
  c.rounding = d.rounding;
  c.activation_min = d.activation_min;
  c.activation_max = d.activation_max;
  REQUIRE(c.validate().ok());
  std::vector<int8_t> wc(w.size());
  for (int64_t oc = 0; oc < g.output_channels; ++oc)
    for (int64_t t = 0; t < g.filter_height * g.filter_width; ++t)
      wc[static_cast<std::size_t>(oc * g.filter_height * g.filter_width + t)] =
          w[static_cast<std::size_t>(t * g.output_channels + oc)];
  std::vector<int8_t> y(static_cast<std::size_t>(g.output_size()), 0);
  ptq::reference::conv2d(c, x.data(), wc.data(), bias.empty() ? nullptr : bias.data(), y.data());
  return y;
}

bool all_equal(const std::vector<int8_t>& v) {
  for (int8_t e : v) {
    if (e != v[0]) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("kernels") {

TEST_CASE("reference depthwise_conv2d: depth multiplier 2 worked by hand") {
  // 2x2 image, 2 channels, x_zp = -1 so a = x + 1:
  //   x: (0,0) [1 -1]  (0,1) [2 -2]  (1,0) [3 -3]  (1,1) [4 -4]
  //   a: channel 0 = 2 3 4 5, channel 1 = 0 -1 -2 -3   (pixels in raster order)
  // 2x2 filter, VALID -> one output pixel, oc = ic * 2 + m. Weights [1][fy][fx][oc]:
  //   tap (0,0): [1  0 -1 2]  tap (0,1): [1 1 0 0]  tap (1,0): [1 0 2 0]  tap (1,1): [1 -1 0 1]
  //   oc0 (ic0): 2 + 3 + 4 + 5           = 14
  //   oc1 (ic0): 0 + 3 + 0 - 5           = -2
  //   oc2 (ic1): 0*(-1) + 0 + (-2)*2 + 0 = -4
  //   oc3 (ic1): 0*2 + 0 + 0 + (-3)*1    = -3
  // bias [1 2 3 4] -> 15 0 -1 1; M = [1, 1, 0.5, 0.5] -> 15 0 -0.5 0.5. With shift 0 only SRDHM
  // rounds (ties toward +inf), and single rounding also rounds ties up: 15 0 0 1 in both modes.
  // y_zp = 2 -> [17 2 2 3].
  const std::vector<int8_t> x = {1, -1, 2, -2, 3, -3, 4, -4};
  const std::vector<int8_t> w = {1, 0, -1, 2, 1, 1, 0, 0, 1, 0, 2, 0, 1, -1, 0, 1};
  const std::vector<int32_t> bias = {1, 2, 3, 4};
  const ConvGeometry g = ptq::make_conv_geometry(ptq::Padding::kValid, 1, 2, 2, 2, 2, 2, 4);
  REQUIRE(g.output_height == 1);
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    const std::vector<int8_t> y = run_dw(dw_params(g, 2, -1, 2, {kOne, kOne, kHalf, kHalf}, mode), x, w, bias);
    CHECK(y == std::vector<int8_t>{17, 2, 2, 3});
  }
}

TEST_CASE("reference depthwise_conv2d: equals the grouped conv with groups == channels") {
  std::mt19937 rng(21);
  struct Case {
    int64_t n, h, w, c, dm, kh, kw, stride, dil;
    ptq::Padding padding;
  };
  const Case cases[] = {
      {2, 7, 6, 5, 1, 3, 3, 1, 1, ptq::Padding::kSame},   // the common MobileNet shape
      {1, 9, 8, 4, 1, 3, 3, 2, 1, ptq::Padding::kSame},   // stride 2
      {1, 8, 9, 3, 3, 3, 2, 1, 2, ptq::Padding::kSame},   // depth multiplier 3, dilation 2
      {2, 6, 6, 2, 2, 5, 5, 1, 1, ptq::Padding::kValid},  // large filter
  };
  for (const Case& k : cases) {
    CAPTURE(k.c);
    CAPTURE(k.dm);
    const ConvGeometry g = ptq::make_conv_geometry(k.padding, k.n, k.h, k.w, k.c, k.kh, k.kw, k.c * k.dm, k.stride,
                                                   k.stride, k.dil, k.dil);
    const auto x = random_values<int8_t>(rng, g.input_size(), -128, 127);
    const auto w = random_values<int8_t>(rng, k.kh * k.kw * k.c * k.dm, -127, 127);
    const auto bias = random_values<int32_t>(rng, k.c * k.dm, -2000, 2000);
    for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      DepthwiseConv2DParams p = dw_params(g, k.dm, 13, -6, random_multipliers(rng, k.c * k.dm), mode);
      p.activation_min = -120;
      p.activation_max = 110;
      const std::vector<int8_t> y = run_dw(p, x, w, bias);
      CHECK_FALSE(all_equal(y));
      CHECK(run_as_grouped_conv(p, x, w, bias) == y);
    }
  }
}

TEST_CASE("reference depthwise_conv2d: padding is the same as an input padded with its zero point") {
  std::mt19937 rng(8);
  const int64_t n = 1, h = 5, w = 6, c = 3, dm = 2, kh = 3, kw = 3, stride = 2;
  const int64_t pad_top = 1, pad_left = 1, ph = h + 3, pw = w + 3;
  const int64_t oh = (ph - kh) / stride + 1, ow = (pw - kw) / stride + 1;
  const int32_t x_zp = 40;
  const auto x = random_values<int8_t>(rng, n * h * w * c, -128, 127);
  const auto wt = random_values<int8_t>(rng, kh * kw * c * dm, -127, 127);
  const auto bias = random_values<int32_t>(rng, c * dm, -1000, 1000);
  const auto ms = random_multipliers(rng, c * dm);

  ConvGeometry g = ptq::make_conv_geometry(ptq::Padding::kValid, n, h, w, c, kh, kw, c * dm, stride, stride);
  g.output_height = oh;
  g.output_width = ow;
  g.pad_top = pad_top;
  g.pad_left = pad_left;
  const std::vector<int8_t> y = run_dw(dw_params(g, dm, x_zp, 0, ms), x, wt, bias);
  CHECK_FALSE(all_equal(y));

  std::vector<int8_t> xp(static_cast<std::size_t>(n * ph * pw * c), static_cast<int8_t>(x_zp));
  for (int64_t iy = 0; iy < h; ++iy)
    for (int64_t ix = 0; ix < w; ++ix)
      for (int64_t ic = 0; ic < c; ++ic)
        xp[static_cast<std::size_t>(((iy + pad_top) * pw + ix + pad_left) * c + ic)] =
            x[static_cast<std::size_t>((iy * w + ix) * c + ic)];
  ConvGeometry gp = g;
  gp.input_height = ph;
  gp.input_width = pw;
  gp.pad_top = 0;
  gp.pad_left = 0;
  CHECK(run_dw(dw_params(gp, dm, x_zp, 0, ms), xp, wt, bias) == y);
}

TEST_CASE("reference depthwise_conv2d: saturation, activation clamp and both rounding modes") {
  // One pixel, 3 channels, x - x_zp = 255 each, M = 1.0: weights 127, -127, 1, bias 0 0 -250
  //   -> 32385 (127), -32385 (-128), 5.
  const std::vector<int8_t> x = {127, 127, 127};
  const std::vector<int8_t> w = {127, -127, 1};
  const std::vector<int32_t> bias = {0, 0, -250};
  DepthwiseConv2DParams p = dw_params(one_pixel(3, 3), 1, -128, 0, {kOne});
  CHECK(run_dw(p, x, w, bias) == std::vector<int8_t>{127, -128, 5});
  p.activation_min = -10;
  p.activation_max = 10;
  CHECK(run_dw(p, x, w, bias) == std::vector<int8_t>{10, -10, 5});

  // x - x_zp = 1, depth multiplier 2, weights 1 and 5, M = 0.25, y_zp 0: exact 0.25 and 1.25.
  //   single: one rounding -> 0 and 1.
  //   double: SRDHM(1, 2^30) = round(0.5) = 1, then round(1/2) away from zero = 1;
  //           SRDHM(5, 2^30) = round(2.5) = 3, then round(3/2) = 2.
  const std::vector<int8_t> one = {1};
  const std::vector<int8_t> w2 = {1, 5};
  DepthwiseConv2DParams q = dw_params(one_pixel(1, 2), 2, 0, 0, {kQuarter});
  CHECK(run_dw(q, one, w2, {}) == std::vector<int8_t>{1, 2});
  q.rounding = RoundingMode::kSingle;
  CHECK(run_dw(q, one, w2, {}) == std::vector<int8_t>{0, 1});
}

TEST_CASE("reference depthwise_conv2d: validate() names the culprit") {
  const DepthwiseConv2DParams good =
      dw_params(ptq::make_conv_geometry(ptq::Padding::kSame, 1, 4, 4, 3, 3, 3, 6), 2, 0, 0, {kHalf});
  CHECK(good.validate().ok());
  const auto fails_naming = [](const DepthwiseConv2DParams& p, const char* name) {
    const ptq::Status s = p.validate();
    CAPTURE(s.to_string());
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(name) != std::string::npos);
    CHECK(s.message().find("depthwise_conv2d") != std::string::npos);
  };
  DepthwiseConv2DParams p = good;
  p.depth_multiplier = 0;
  fails_naming(p, "depth_multiplier");
  p = good;
  p.depth_multiplier = 3;  // 3 * 3 != 6
  fails_naming(p, "output_channels");
  p = good;
  p.multipliers = {kHalf, kHalf, kHalf};  // neither 1 nor 6
  fails_naming(p, "multipliers");
  p = good;
  p.geometry.stride_width = 0;
  fails_naming(p, "stride_width");
  p = good;
  p.output_zero_point = 300;
  fails_naming(p, "output_zero_point");
}
}
