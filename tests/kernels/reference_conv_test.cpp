// reference/conv.hpp: hand-worked convolutions, TFLite's SAME/VALID padding arithmetic, and
// properties tying conv to other computations (1x1 conv = fully connected, padding = explicit
// zero-point padding, grouped = one conv per group, dilation = a filter with zeros inserted).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"

namespace {

using ptq::Conv2DParams;
using ptq::ConvGeometry;
using ptq::QuantizedMultiplier;
using ptq::RoundingMode;

constexpr QuantizedMultiplier kHalf{1 << 30, 0};      // 0.5
constexpr QuantizedMultiplier kQuarter{1 << 30, -1};  // 0.25
constexpr QuantizedMultiplier kOne{1 << 30, 1};       // 1.0

ConvGeometry geometry(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                      int64_t oc, int64_t stride_h = 1, int64_t stride_w = 1, int64_t pad_top = 0,
                      int64_t pad_left = 0, int64_t dil_h = 1, int64_t dil_w = 1) {
  ConvGeometry g;
  g.batches = n;
  g.input_height = h;
  g.input_width = w;
  g.input_channels = c;
  g.filter_height = kh;
  g.filter_width = kw;
  g.output_height = oh;
  g.output_width = ow;
  g.output_channels = oc;
  g.stride_height = stride_h;
  g.stride_width = stride_w;
  g.pad_top = pad_top;
  g.pad_left = pad_left;
  g.dilation_height = dil_h;
  g.dilation_width = dil_w;
  return g;
}

Conv2DParams conv_params(const ConvGeometry& g, int64_t groups, int32_t x_zp, int32_t y_zp,
                         std::vector<QuantizedMultiplier> ms, RoundingMode mode = RoundingMode::kDouble) {
  Conv2DParams p;
  p.geometry = g;
  p.groups = groups;
  p.input_zero_point = x_zp;
  p.output_zero_point = y_zp;
  p.multipliers = std::move(ms);
  p.rounding = mode;
  return p;
}

template <class T>
std::vector<T> random_values(std::mt19937& rng, int64_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

// Multipliers between 2^-9 and 2^-7, one per channel: typical int8 conv magnitudes.
std::vector<QuantizedMultiplier> random_multipliers(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, 2147483647);
  std::uniform_int_distribution<int> shift(-8, -6);
  std::vector<QuantizedMultiplier> ms(static_cast<std::size_t>(n));
  for (auto& m : ms) m = {mantissa(rng), shift(rng)};
  return ms;
}

std::vector<int8_t> run_conv(const Conv2DParams& p, const std::vector<int8_t>& x, const std::vector<int8_t>& w,
                             const std::vector<int32_t>& bias) {
  REQUIRE(p.validate().ok());
  REQUIRE(static_cast<int64_t>(x.size()) == p.geometry.input_size());
  REQUIRE(static_cast<int64_t>(w.size()) == p.filter_size());
  std::vector<int8_t> y(static_cast<std::size_t>(p.geometry.output_size()), 0);
  ptq::reference::conv2d(p, x.data(), w.data(), bias.empty() ? nullptr : bias.data(), y.data());
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

TEST_CASE("reference conv2d: 3x3 image, 2x2 filters, VALID, worked by hand") {
  // x = [[1 2 3] [4 5 6] [7 8 9]], x_zp = 1  ->  a = [[0 1 2] [3 4 5] [6 7 8]]
  // Channel 0: w = [[1 2] [3 4]], bias 3, M = 0.5:
  //   (0,0): 0 + 2 + 9 + 16 = 27   (0,1): 1 + 4 + 12 + 20 = 37
  //   (1,0): 3 + 8 + 18 + 28 = 57  (1,1): 4 + 10 + 21 + 32 = 67
  //   + 3 -> 30 40 60 70, * 0.5 -> 15 20 30 35, + y_zp (-5) -> 10 15 25 30
  // Channel 1: w = [[2 0] [0 0]], bias -1, M = 0.25 = {2^30, -1}: acc = 2a - 1 = -1 1 5 7, exact
  //   products -0.25 0.25 1.25 1.75. Here the rounding modes part ways:
  //   single, one rounding of acc * 2^30 / 2^32:      0 0 1 2
  //   double, SRDHM(acc, 2^30) = round(acc / 2) with ties up: 0 1 3 4 (-0.5 -> 0, 0.5 -> 1, 2.5 -> 3),
  //     then RoundingDivideByPOT(., 1), ties away from zero:   0 1 2 2 (0.5 -> 1, 1.5 -> 2)
  //   + y_zp: single -5 -5 -4 -3, double -5 -4 -3 -3
  const std::vector<int8_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<int8_t> w = {1, 2, 3, 4, 2, 0, 0, 0};  // [OC=2][KH=2][KW=2][IC=1]
  const std::vector<int32_t> bias = {3, -1};
  const ConvGeometry g = geometry(1, 3, 3, 1, 2, 2, 2, 2, 2);
  CHECK(run_conv(conv_params(g, 1, 1, -5, {kHalf, kQuarter}, RoundingMode::kDouble), x, w, bias) ==
        std::vector<int8_t>{10, -5, 15, -4, 25, -3, 30, -3});  // NHWC
  CHECK(run_conv(conv_params(g, 1, 1, -5, {kHalf, kQuarter}, RoundingMode::kSingle), x, w, bias) ==
        std::vector<int8_t>{10, -5, 15, -5, 25, -4, 30, -3});
}

TEST_CASE("reference conv2d: SAME padding with stride 2 skips out-of-image taps") {
  // 5x5 image a(y, x) = 5y + x (zero point 0), 3x3 filter of ones, stride 2: SAME gives a 3x3 output
  // with one pixel of padding on each side. M = 1.0, no bias.
  //   (0,0): window rows/cols -1..1 -> inside 0..1: 0 + 1 + 5 + 6             = 12
  //   (0,2): rows -1..1, cols 3..5  -> rows 0..1, cols 3..4: 3 + 4 + 8 + 9    = 24
  //   (1,1): rows 1..3, cols 1..3, all inside: 3*5*(1+2+3) + 3*(1+2+3)        = 108
  //   (2,2): rows 3..5, cols 3..5  -> rows 3..4, cols 3..4: 18 + 19 + 23 + 24 = 84
  const ptq::ConvGeometry g = ptq::make_conv_geometry(ptq::Padding::kSame, 1, 5, 5, 1, 3, 3, 1, 2, 2);
  REQUIRE(g.output_height == 3);
  REQUIRE(g.output_width == 3);
  REQUIRE(g.pad_top == 1);
  REQUIRE(g.pad_left == 1);
  std::vector<int8_t> x(25);
  for (int i = 0; i < 25; ++i) x[static_cast<std::size_t>(i)] = static_cast<int8_t>(i);
  const std::vector<int8_t> w(9, 1);
  const std::vector<int8_t> y = run_conv(conv_params(g, 1, 0, 0, {kOne}), x, w, {});
  CHECK(y[0] == 12);
  CHECK(y[2] == 24);
  CHECK(y[4] == 108);
  CHECK(y[8] == 84);
}

TEST_CASE("reference conv2d: compute_padding matches TFLite's ComputePaddingHeightWidth") {
  using ptq::Padding;
  // SAME, in 5, filter 3, stride 2: out = ceil(5/2) = 3; total = (3-1)*2 + 3 - 5 = 2 -> 1 before, 1 after.
  ptq::ConvPadding p = ptq::compute_padding(Padding::kSame, 5, 5, 3, 3, 2, 2);
  CHECK(p.output_height == 3);
  CHECK(p.top == 1);
  CHECK(p.bottom == 1);
  // SAME, in 4, filter 3, stride 2: out 2; total = 2 + 3 - 4 = 1 -> 0 before, the odd pixel after.
  p = ptq::compute_padding(Padding::kSame, 4, 6, 3, 3, 2, 2);
  CHECK(p.output_height == 2);
  CHECK(p.top == 0);
  CHECK(p.bottom == 1);
  CHECK(p.output_width == 3);  // width 6: ceil(6/2) = 3; total = 4 + 3 - 6 = 1
  CHECK(p.left == 0);
  CHECK(p.right == 1);
  // VALID, in 5, filter 3, stride 2: out = (5 + 2 - 3) / 2 = 2; no padding.
  p = ptq::compute_padding(Padding::kValid, 5, 5, 3, 3, 2, 2);
  CHECK(p.output_height == 2);
  CHECK(p.top == 0);
  CHECK(p.bottom == 0);
  // Dilation 2 makes a 3-tap filter span 5: VALID in 7 -> 3; SAME in 7 -> 7 with total 6 + 5 - 7 = 4.
  p = ptq::compute_padding(Padding::kValid, 7, 7, 3, 3, 1, 1, 2, 2);
  CHECK(p.output_height == 3);
  CHECK(p.top == 0);
  p = ptq::compute_padding(Padding::kSame, 7, 7, 3, 3, 1, 1, 2, 2);
  CHECK(p.output_height == 7);
  CHECK(p.top == 2);
  CHECK(p.bottom == 2);
  // A filter larger than a VALID image leaves no output (TFLite would compute -2 and fail).
  p = ptq::compute_padding(Padding::kValid, 2, 2, 5, 5, 1, 1);
  CHECK(p.output_height == 0);
  CHECK(p.output_width == 0);
}

TEST_CASE("reference conv2d: saturation, activation clamp and both rounding modes") {
  // One pixel, x - x_zp = 127 - (-128) = 255, M = 1.0; weights 127, -127, 1 with bias 0, 0, -250:
  //   acc = 32385, -32385, 5  ->  y = 127 (saturated), -128 (saturated), 5.
  const std::vector<int8_t> x = {127};
  const std::vector<int8_t> w = {127, -127, 1};
  const std::vector<int32_t> bias = {0, 0, -250};
  Conv2DParams p = conv_params(geometry(1, 1, 1, 1, 1, 1, 1, 1, 3), 1, -128, 0, {kOne});
  CHECK(run_conv(p, x, w, bias) == std::vector<int8_t>{127, -128, 5});
  p.activation_min = -10;
  p.activation_max = 10;
  CHECK(run_conv(p, x, w, bias) == std::vector<int8_t>{10, -10, 5});

  // x - x_zp = 1, weights 1 and -2, M = 0.375 = {0.75 * 2^31, -1} and 0.25, y_zp 5:
  //   0.375: single rounding gives 0; double gives SRDHM -> round(0.75) = 1, then round(0.5) = 1.
  //   -0.5:  single rounds the tie up to 0; double gives -1 (RoundingDivideByPOT, away from zero).
  const std::vector<int8_t> one = {1};
  const std::vector<int8_t> w2 = {1, -2};
  Conv2DParams q = conv_params(geometry(1, 1, 1, 1, 1, 1, 1, 1, 2), 1, 0, 5, {{1610612736, -1}, kQuarter});
  CHECK(run_conv(q, one, w2, {}) == std::vector<int8_t>{6, 4});
  q.rounding = RoundingMode::kSingle;
  CHECK(run_conv(q, one, w2, {}) == std::vector<int8_t>{5, 5});
}

TEST_CASE("reference conv2d: a 1x1 stride-1 conv is the fully connected layer on N*H*W rows") {
  std::mt19937 rng(7);
  const int64_t n = 2, h = 3, w = 4, c = 13, oc = 6;
  const auto x = random_values<int8_t>(rng, n * h * w * c, -128, 127);
  const auto wt = random_values<int8_t>(rng, oc * c, -127, 127);
  const auto bias = random_values<int32_t>(rng, oc, -3000, 3000);
  const auto ms = random_multipliers(rng, oc);
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    Conv2DParams p = conv_params(geometry(n, h, w, c, 1, 1, h, w, oc), 1, 9, -4, ms, mode);
    p.activation_min = -100;
    p.activation_max = 120;
    const std::vector<int8_t> y_conv = run_conv(p, x, wt, bias);
    CHECK_FALSE(all_equal(y_conv));

    ptq::FullyConnectedParams f;
    f.batches = n * h * w;
    f.input_depth = c;
    f.output_depth = oc;
    f.input_zero_point = 9;
    f.output_zero_point = -4;
    f.multipliers = ms;
    f.rounding = mode;
    f.activation_min = -100;
    f.activation_max = 120;
    REQUIRE(f.validate().ok());
    std::vector<int8_t> y_fc(y_conv.size(), 0);
    ptq::reference::fully_connected(f, x.data(), wt.data(), bias.data(), y_fc.data());
    CHECK(y_conv == y_fc);
  }
}

TEST_CASE("reference conv2d: padding is the same as an input padded with its zero point") {
  // Out-of-image taps are skipped; with symmetric weights that equals reading x_zp there. Pad the
  // input explicitly (top 1, left 2, and enough at the bottom/right) and convolve without padding.
  std::mt19937 rng(11);
  const int64_t n = 2, h = 6, w = 7, c = 3, oc = 4, kh = 3, kw = 3;
  const int32_t x_zp = -17;
  for (int64_t dil : {1, 2}) {
    CAPTURE(dil);
    const int64_t stride = 2, pad_top = 1, pad_left = 2, pad_bottom = 3, pad_right = 3;
    const int64_t ph = h + pad_top + pad_bottom, pw = w + pad_left + pad_right;
    const int64_t oh = (ph - ((kh - 1) * dil + 1)) / stride + 1;
    const int64_t ow = (pw - ((kw - 1) * dil + 1)) / stride + 1;
    const auto x = random_values<int8_t>(rng, n * h * w * c, -128, 127);
    const auto wt = random_values<int8_t>(rng, oc * kh * kw * c, -127, 127);
    const auto bias = random_values<int32_t>(rng, oc, -2000, 2000);
    const auto ms = random_multipliers(rng, oc);

    const Conv2DParams padded_conv =
        conv_params(geometry(n, h, w, c, kh, kw, oh, ow, oc, stride, stride, pad_top, pad_left, dil, dil), 1, x_zp,
                    3, ms);
    const std::vector<int8_t> y = run_conv(padded_conv, x, wt, bias);
    CHECK_FALSE(all_equal(y));

    std::vector<int8_t> xp(static_cast<std::size_t>(n * ph * pw * c), static_cast<int8_t>(x_zp));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t iy = 0; iy < h; ++iy)
        for (int64_t ix = 0; ix < w; ++ix)
          for (int64_t ic = 0; ic < c; ++ic)
            xp[static_cast<std::size_t>(((b * ph + iy + pad_top) * pw + ix + pad_left) * c + ic)] =
                x[static_cast<std::size_t>(((b * h + iy) * w + ix) * c + ic)];
    const Conv2DParams explicit_conv =
        conv_params(geometry(n, ph, pw, c, kh, kw, oh, ow, oc, stride, stride, 0, 0, dil, dil), 1, x_zp, 3, ms);
    CHECK(run_conv(explicit_conv, xp, wt, bias) == y);
  }
}

TEST_CASE("reference conv2d: a grouped conv is one conv per group, concatenated") {
  // groups = 3, 6 input channels (2 per group), 9 output channels (3 per group).
  std::mt19937 rng(5);
  const int64_t n = 1, h = 5, w = 5, c = 6, oc = 9, groups = 3, kh = 3, kw = 2;
  const int64_t fic = c / groups, fpg = oc / groups;
  const ptq::ConvGeometry g = ptq::make_conv_geometry(ptq::Padding::kSame, n, h, w, c, kh, kw, oc, 2, 1);
  const auto x = random_values<int8_t>(rng, n * h * w * c, -128, 127);
  const auto wt = random_values<int8_t>(rng, oc * kh * kw * fic, -127, 127);
  const auto bias = random_values<int32_t>(rng, oc, -2000, 2000);
  const auto ms = random_multipliers(rng, oc);
  const std::vector<int8_t> y = run_conv(conv_params(g, groups, 4, -2, ms), x, wt, bias);
  CHECK_FALSE(all_equal(y));

  const int64_t pixels_in = n * h * w, pixels_out = n * g.output_height * g.output_width;
  for (int64_t grp = 0; grp < groups; ++grp) {
    CAPTURE(grp);
    std::vector<int8_t> xg(static_cast<std::size_t>(pixels_in * fic));
    for (int64_t i = 0; i < pixels_in; ++i)
      for (int64_t ic = 0; ic < fic; ++ic)
        xg[static_cast<std::size_t>(i * fic + ic)] = x[static_cast<std::size_t>(i * c + grp * fic + ic)];
    const std::vector<int8_t> wg(wt.begin() + grp * fpg * kh * kw * fic, wt.begin() + (grp + 1) * fpg * kh * kw * fic);
    const std::vector<int32_t> bg(bias.begin() + grp * fpg, bias.begin() + (grp + 1) * fpg);
    const std::vector<QuantizedMultiplier> mg(ms.begin() + grp * fpg, ms.begin() + (grp + 1) * fpg);
    ConvGeometry gg = g;
    gg.input_channels = fic;
    gg.output_channels = fpg;
    const std::vector<int8_t> yg = run_conv(conv_params(gg, 1, 4, -2, mg), xg, wg, bg);
    for (int64_t i = 0; i < pixels_out; ++i)
      for (int64_t o = 0; o < fpg; ++o)
        CHECK(yg[static_cast<std::size_t>(i * fpg + o)] == y[static_cast<std::size_t>(i * oc + grp * fpg + o)]);
  }
}

TEST_CASE("reference conv2d: dilation equals a filter with zeros between its taps") {
  // A 2x2 filter with dilation (2, 3) reads the same pixels as the 3x4 filter
  //   [[w00 0 0 w01] [0 0 0 0] [w10 0 0 w11]]  with dilation 1 (zero taps add nothing).
  std::mt19937 rng(3);
  const int64_t n = 2, h = 7, w = 8, c = 2, oc = 3;
  const ptq::ConvGeometry gd = ptq::make_conv_geometry(ptq::Padding::kSame, n, h, w, c, 2, 2, oc, 1, 2, 2, 3);
  ConvGeometry g1 = gd;
  g1.filter_height = 3;
  g1.filter_width = 4;
  g1.dilation_height = 1;
  g1.dilation_width = 1;
  const auto x = random_values<int8_t>(rng, n * h * w * c, -128, 127);
  const auto wd = random_values<int8_t>(rng, oc * 2 * 2 * c, -127, 127);
  std::vector<int8_t> w1(static_cast<std::size_t>(oc * 3 * 4 * c), 0);
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t fy = 0; fy < 2; ++fy)
      for (int64_t fx = 0; fx < 2; ++fx)
        for (int64_t ic = 0; ic < c; ++ic)
          w1[static_cast<std::size_t>(((o * 3 + fy * 2) * 4 + fx * 3) * c + ic)] =
              wd[static_cast<std::size_t>(((o * 2 + fy) * 2 + fx) * c + ic)];
  const auto bias = random_values<int32_t>(rng, oc, -1000, 1000);
  const auto ms = random_multipliers(rng, oc);
  const std::vector<int8_t> y = run_conv(conv_params(gd, 1, 0, 1, ms), x, wd, bias);
  CHECK_FALSE(all_equal(y));
  CHECK(run_conv(conv_params(g1, 1, 0, 1, ms), x, w1, bias) == y);
}

TEST_CASE("reference conv2d: multipliers from scales (PopulateConvolutionQuantizationParams)") {
  // 0.5 * 0.25 / 0.5 = 0.25 and 0.5 * 1.0 / 0.5 = 1.0, formed in double.
  const auto ms = ptq::convolution_multipliers(0.5f, {0.25f, 1.0f}, 0.5f);
  REQUIRE(ms.size() == 2);
  CHECK(ms[0] == kQuarter);
  CHECK(ms[1] == kOne);
  // Per tensor the int8 conv also forms the product in double (unlike per-tensor fully connected).
  CHECK(ptq::convolution_multipliers(0.1f, {0.3f}, 1.0f)[0] ==
        ptq::quantize_multiplier(static_cast<double>(0.1f) * static_cast<double>(0.3f)));
}

TEST_CASE("reference conv2d: validate() names the culprit") {
  const Conv2DParams good = conv_params(geometry(1, 4, 4, 6, 3, 3, 2, 2, 4), 2, 0, 0, {kHalf});
  CHECK(good.validate().ok());
  const auto fails_naming = [](const Conv2DParams& p, const char* name) {
    const ptq::Status s = p.validate();
    CAPTURE(s.to_string());
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(name) != std::string::npos);
  };
  Conv2DParams p = good;
  p.groups = 4;  // does not divide 6 input channels
  fails_naming(p, "groups");
  p = good;
  p.groups = 3;  // divides 6 inputs but not 4 outputs
  fails_naming(p, "output_channels");
  p = good;
  p.geometry.stride_height = 0;
  fails_naming(p, "stride_height");
  p = good;
  p.geometry.dilation_width = 0;
  fails_naming(p, "dilation_width");
  p = good;
  p.geometry.pad_top = -1;
  fails_naming(p, "pad_top");
  p = good;
  p.geometry.input_channels = 0;
  fails_naming(p, "input_channels");
  p = good;
  p.multipliers = {kHalf, kHalf};  // neither 1 nor 4
  fails_naming(p, "multipliers");
  p = good;
  p.input_zero_point = 128;
  fails_naming(p, "input_zero_point");
  p = good;
  p.activation_max = -129;
  fails_naming(p, "activation_max");
}
}
