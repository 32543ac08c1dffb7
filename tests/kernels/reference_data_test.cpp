// reference/data.hpp: transposes (rank 0, 1, 2 by hand, rank 6 against an independent scatter),
// concatenations (negative axes, TFLite's requantizing form hand-worked and swept, activations) and
// pads (extreme zero points, rank 6 against an index formula, empty dims), and the params' errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/data.hpp"

namespace {

using ptq::ConcatenationParams;
using ptq::PadParams;
using ptq::QuantParams;
using ptq::Shape;
using ptq::TransposeParams;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int d = static_cast<int>(dims.size()) - 2; d >= 0; --d) {
    s[static_cast<std::size_t>(d)] = s[static_cast<std::size_t>(d) + 1] * dims[static_cast<std::size_t>(d) + 1];
  }
  return s;
}

// The multi-index of flat position `at` in a row-major shape.
std::vector<int64_t> unflatten(int64_t at, const std::vector<int64_t>& dims) {
  std::vector<int64_t> idx(dims.size(), 0);
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
    const int64_t e = dims[static_cast<std::size_t>(d)];
    idx[static_cast<std::size_t>(d)] = at % e;
    at /= e;
  }
  return idx;
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("data: transpose of a 2x3 matrix, by hand") {
  auto p = TransposeParams::make(Shape{2, 3}, {1, 0});
  REQUIRE(p.ok());
  CHECK(p->output_shape() == Shape{3, 2});
  const std::vector<int32_t> x = {1, 2, 3, 4, 5, 6};  // [[1,2,3],[4,5,6]]
  std::vector<int32_t> y(6, 0);
  ptq::reference::transpose(*p, x.data(), y.data());
  CHECK(y == std::vector<int32_t>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("data: transpose of rank 0 and rank 1 copies") {
  auto scalar = TransposeParams::make(Shape{}, {});
  REQUIRE(scalar.ok());
  const float s = -2.5f;
  float out = 0.0f;
  ptq::reference::transpose(*scalar, &s, &out);
  CHECK(out == -2.5f);

  auto vec = TransposeParams::make(Shape{5}, {0});
  REQUIRE(vec.ok());
  const std::vector<int8_t> x = {-128, 127, 0, 5, -1};
  std::vector<int8_t> y(5, 9);
  ptq::reference::transpose(*vec, x.data(), y.data());
  CHECK(y == x);
}

TEST_CASE("data: transpose of rank 6 equals an independent scatter") {
  // Kernel: walks the output, gathering. Oracle: walks the input, scattering each element to the
  // output position whose index is the input index permuted (out index i_d = in index j_{perm[d]}).
  const std::vector<std::vector<int32_t>> perms = {
      {5, 4, 3, 2, 1, 0}, {1, 0, 3, 2, 5, 4}, {2, 5, 0, 3, 1, 4}, {0, 1, 2, 3, 4, 5}, {3, 1, 4, 0, 5, 2}};
  const std::vector<int64_t> dims = {2, 3, 1, 4, 3, 2};
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<uint16_t> x(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = static_cast<uint16_t>(1000 + i);
  for (const auto& perm : perms) {
    CAPTURE(Shape(std::vector<int64_t>(perm.begin(), perm.end())).to_string());
    auto p = TransposeParams::make(Shape(dims), perm);
    REQUIRE(p.ok());
    std::vector<int64_t> out_dims;
    for (int32_t q : perm) out_dims.push_back(dims[static_cast<std::size_t>(q)]);
    CHECK(p->output_shape() == Shape(out_dims));
    const std::vector<int64_t> out_strides = strides_of(out_dims);
    std::vector<uint16_t> expected(x.size(), 0);
    for (int64_t at = 0; at < n; ++at) {
      const std::vector<int64_t> in_idx = unflatten(at, dims);
      int64_t to = 0;
      for (std::size_t d = 0; d < perm.size(); ++d) to += in_idx[static_cast<std::size_t>(perm[d])] * out_strides[d];
      expected[static_cast<std::size_t>(to)] = x[static_cast<std::size_t>(at)];
    }
    std::vector<uint16_t> y(x.size(), 0);
    ptq::reference::transpose(*p, x.data(), y.data());
    CHECK(y == expected);
  }
}

TEST_CASE("data: transpose params reject bad permutations and ranks") {
  auto short_perm = TransposeParams::make(Shape{2, 3, 4}, {1, 0});
  REQUIRE_FALSE(short_perm.ok());
  CHECK(contains(short_perm.status().message(), "perm has 2 entries"));
  auto repeated = TransposeParams::make(Shape{2, 3}, {1, 1});
  REQUIRE_FALSE(repeated.ok());
  CHECK(contains(repeated.status().message(), "perm[1] = 1 repeats"));
  auto negative = TransposeParams::make(Shape{2, 3}, {-1, 0});
  REQUIRE_FALSE(negative.ok());
  CHECK(contains(negative.status().message(), "perm[0] = -1 is outside [0, 1]"));
  auto rank7 = TransposeParams::make(Shape{1, 1, 1, 1, 1, 1, 1}, {0, 1, 2, 3, 4, 5, 6});
  REQUIRE_FALSE(rank7.ok());
  CHECK(contains(rank7.status().message(), "rank 7"));
}

TEST_CASE("data: concatenation along a negative axis glues blocks") {
  // [2, 2] and [2, 1] along axis -1 (= 1): rows are [a0 a1 b0].
  auto p = ConcatenationParams::make({Shape{2, 2}, Shape{2, 1}}, -1);
  REQUIRE(p.ok());
  CHECK(p->outer_size == 2);
  CHECK(p->inner_size == 1);
  CHECK(p->output_axis_size() == 3);
  const std::vector<int64_t> a = {1, 2, 3, 4}, b = {-5, -6};
  const int64_t* in[] = {a.data(), b.data()};
  std::vector<int64_t> y(6, 0);
  ptq::reference::concatenation(*p, in, y.data());
  CHECK(y == std::vector<int64_t>{1, 2, -5, 3, 4, -6});

  // Axis -3 of rank 3 is axis 0: the inputs one after the other.
  auto first = ConcatenationParams::make({Shape{1, 2, 2}, Shape{2, 2, 2}}, -3);
  REQUIRE(first.ok());
  CHECK(first->outer_size == 1);
  CHECK(first->inner_size == 4);
  const std::vector<int64_t> c(4, 7), d = {0, 1, 2, 3, 4, 5, 6, 8};
  const int64_t* in2[] = {c.data(), d.data()};
  std::vector<int64_t> y2(12, 0);
  ptq::reference::concatenation(*first, in2, y2.data());
  CHECK(y2 == std::vector<int64_t>{7, 7, 7, 7, 0, 1, 2, 3, 4, 5, 6, 8});
}

TEST_CASE("data: concatenation params name the input that does not fit") {
  auto bad_dim = ConcatenationParams::make({Shape{2, 3}, Shape{2, 4}, Shape{3, 3}}, 1);
  REQUIRE_FALSE(bad_dim.ok());
  CHECK(contains(bad_dim.status().message(), "input 2 [3, 3] differs from input 0 [2, 3] in dim 0"));
  auto bad_rank = ConcatenationParams::make({Shape{2, 3}, Shape{2, 3, 1}}, 0);
  REQUIRE_FALSE(bad_rank.ok());
  CHECK(contains(bad_rank.status().message(), "input 1 has rank 3"));
  auto bad_axis = ConcatenationParams::make({Shape{2, 3}}, -3);
  REQUIRE_FALSE(bad_axis.ok());
  CHECK(contains(bad_axis.status().message(), "axis -3 is outside [-2, 1]"));
}

TEST_CASE("data: int8 concatenation of inputs with different parameters, hand-worked") {
  // Output scale 1, zero point 0; axis 1 (written -1). ConcatenationWithScaling per input:
  //   x0: scale 1, zp 0 = the output's -> copied.
  //   x1: scale 0.5, zp 10 -> scale = 0.5 * (1 / 1) = 0.5, bias = -10 * 0.5 = -5:
  //       20 -> 10 - 5 = 5;  11 -> 5.5 - 5 = 0.5 -> 1 (tie away from zero);  9 -> -0.5 -> -1;
  //       -128 -> -64 - 5 = -69;  127 -> 63.5 - 5 = 58.5 -> 59;  10 -> 0.
  //   x2: scale 4, zp 0 -> 100 -> 400 -> 127 (saturates);  -100 -> -400 -> -128;  ... 3 -> 12.
  auto made = ConcatenationParams::make({Shape{2, 2}, Shape{2, 3}, Shape{2, 1}}, -1);
  REQUIRE(made.ok());
  ConcatenationParams p = *made;
  p.input_params = {{1.0f, 0}, {0.5f, 10}, {4.0f, 0}};
  p.output_params = {1.0f, 0};
  REQUIRE(p.validate_quantized<int8_t>().ok());
  const std::vector<int8_t> x0 = {5, -7, 127, -128}, x1 = {20, 11, 9, -128, 127, 10}, x2 = {100, -100};
  const int8_t* in[] = {x0.data(), x1.data(), x2.data()};
  std::vector<int8_t> y(12, 0);
  ptq::reference::concatenation_quantized(p, in, y.data());
  CHECK(y == std::vector<int8_t>{5, -7, 5, 1, -1, 127,  //
                                 127, -128, -69, 59, 0, -128});
  const std::vector<int8_t> x2b = {3, -3};
  in[2] = x2b.data();
  ptq::reference::concatenation_quantized(p, in, y.data());
  CHECK(y[5] == 12);
  CHECK(y[11] == -12);
}

TEST_CASE("data: uint8 and int16 concatenation rescale with the same arithmetic") {
  // uint8: output scale 2, zp 128; x1 scale 1, zp 0: scale = 1 * 0.5 = 0.5, bias = 0:
  //   0 -> 0 + 128 = 128;  255 -> 127.5 -> 128 + 128 = 256 -> 255;  3 -> 1.5 -> 2 -> 130.
  auto made = ConcatenationParams::make({Shape{1, 1}, Shape{1, 3}}, 1);
  REQUIRE(made.ok());
  ConcatenationParams p = *made;
  p.input_params = {{2.0f, 128}, {1.0f, 0}};
  p.output_params = {2.0f, 128};
  p.activation_min = 0;
  p.activation_max = 255;
  REQUIRE(p.validate_quantized<uint8_t>().ok());
  const std::vector<uint8_t> a = {7}, b = {0, 255, 3};
  const uint8_t* in[] = {a.data(), b.data()};
  std::vector<uint8_t> y(4, 0);
  ptq::reference::concatenation_quantized(p, in, y.data());
  CHECK(y == std::vector<uint8_t>{7, 128, 255, 130});

  // int16, zero points 0: x1 scale 3, output scale 1: 10000 -> 30000; 20000 -> 60000 -> 32767.
  auto made16 = ConcatenationParams::make({Shape{2}, Shape{2}}, 0);
  REQUIRE(made16.ok());
  ConcatenationParams q = *made16;
  q.input_params = {{1.0f, 0}, {3.0f, 0}};
  q.output_params = {1.0f, 0};
  q.activation_min = -32768;
  q.activation_max = 32767;
  REQUIRE(q.validate_quantized<int16_t>().ok());
  const std::vector<int16_t> c = {-32768, 1}, d = {10000, 20000};
  const int16_t* in16[] = {c.data(), d.data()};
  std::vector<int16_t> y16(4, 0);
  ptq::reference::concatenation_quantized(q, in16, y16.data());
  CHECK(y16 == std::vector<int16_t>{-32768, 1, 30000, 32767});
}

TEST_CASE("data: int8 concatenation requantization sweep matches TFLite's float formula") {
  // Every int8 value through input parameters whose ratio to the output's is not a power of two.
  // Expected: the formula written out here with volatile floats (no FMA), and it stays within half a
  // step (plus float error) of the exact real requantization computed in double.
  const std::vector<QuantParams> ins = {{0.1f, -128}, {0.3f, 127}, {0.0173f, 5}, {1.7f, -3}};
  const QuantParams out = {0.25f, -20};
  for (const QuantParams& ip : ins) {
    CAPTURE(ip.scale);
    CAPTURE(ip.zero_point);
    auto made = ConcatenationParams::make({Shape{256}}, 0);
    REQUIRE(made.ok());
    ConcatenationParams p = *made;
    p.input_params = {ip};
    p.output_params = out;
    REQUIRE(p.validate_quantized<int8_t>().ok());
    std::vector<int8_t> x(256);
    for (int i = 0; i < 256; ++i) x[static_cast<std::size_t>(i)] = static_cast<int8_t>(i - 128);
    const int8_t* in[] = {x.data()};
    std::vector<int8_t> y(256, 0);
    ptq::reference::concatenation_quantized(p, in, y.data());
    volatile float inv = 1.0f / out.scale;
    volatile float scale = ip.scale * inv;
    volatile float bias = static_cast<float>(-ip.zero_point) * scale;
    int distinct = 0;
    for (int i = 0; i < 256; ++i) {
      const int q = i - 128;
      volatile float product = static_cast<float>(q) * scale;
      volatile float sum = product + bias;
      long expected = std::lround(sum) + out.zero_point;
      expected = expected < -128 ? -128 : (expected > 127 ? 127 : expected);
      CHECK(y[static_cast<std::size_t>(i)] == expected);
      const double exact = (q - ip.zero_point) * static_cast<double>(ip.scale) / out.scale + out.zero_point;
      if (exact > -128.5 && exact < 127.5) CHECK(std::abs(y[static_cast<std::size_t>(i)] - exact) <= 0.5 + 1e-4);
      distinct += i > 0 && y[static_cast<std::size_t>(i)] != y[static_cast<std::size_t>(i) - 1];
    }
    CHECK(distinct > 10);  // not a constant output
  }
}

TEST_CASE("data: quantized concatenation applies the activation clamp to copies and rescales") {
  // Output scale 0.1, zp -128, ReLU6 -> [max(-128, -128 + 0), min(127, -128 + 60)] = [-128, -68].
  auto made = ConcatenationParams::make({Shape{4}, Shape{2}}, 0);
  REQUIRE(made.ok());
  ConcatenationParams p = *made;
  p.input_params = {{0.1f, -128}, {0.2f, -128}};
  p.output_params = {0.1f, -128};
  p.activation_min = -128;
  p.activation_max = -68;
  REQUIRE(p.validate_quantized<int8_t>().ok());
  // x1: scale = 0.2 * (1 / 0.1) = 2 (to float rounding), bias = 128 * 2 = 256:
  //   -128 -> 0 -> -128;  -100 -> 56 -> -72.
  const std::vector<int8_t> a = {-128, 0, -68, -67}, b = {-128, -100};
  const int8_t* in[] = {a.data(), b.data()};
  std::vector<int8_t> y(6, 0);
  ptq::reference::concatenation_quantized(p, in, y.data());
  CHECK(y == std::vector<int8_t>{-128, -68, -68, -68, -128, -72});
}

TEST_CASE("data: float concatenation with fused activations") {
  auto p = ConcatenationParams::make({Shape{1, 3}, Shape{1, 2}}, 1);
  REQUIRE(p.ok());
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> a = {-1.5f, 0.5f, 7.0f}, b = {-0.0f, inf};
  const float* in[] = {a.data(), b.data()};
  std::vector<float> y(5, 0.0f);
  ptq::reference::concatenation_float(*p, in, y.data(), ptq::FusedActivation::kNone);
  CHECK(y == std::vector<float>{-1.5f, 0.5f, 7.0f, -0.0f, inf});
  CHECK(std::signbit(y[3]));
  ptq::reference::concatenation_float(*p, in, y.data(), ptq::FusedActivation::kRelu);
  CHECK(y == std::vector<float>{0.0f, 0.5f, 7.0f, 0.0f, std::numeric_limits<float>::max()});
  ptq::reference::concatenation_float(*p, in, y.data(), ptq::FusedActivation::kRelu6);
  CHECK(y == std::vector<float>{0.0f, 0.5f, 6.0f, 0.0f, 6.0f});
  ptq::reference::concatenation_float(*p, in, y.data(), ptq::FusedActivation::kReluN1To1);
  CHECK(y == std::vector<float>{-1.0f, 0.5f, 1.0f, 0.0f, 1.0f});
}

TEST_CASE("data: quantized concatenation params reject a zero output scale and overflowing ratios") {
  auto made = ConcatenationParams::make({Shape{1}}, 0);
  REQUIRE(made.ok());
  ConcatenationParams p = *made;
  p.input_params = {{1.0f, 0}};
  p.output_params = {0.0f, 0};
  CHECK(contains(p.validate_quantized<int8_t>().message(), "output scale 0.000000 is not positive"));
  p.output_params = {1e-30f, 0};
  p.input_params = {{1e30f, 0}};
  CHECK(contains(p.validate_quantized<int8_t>().message(), "overflows float"));
  p.output_params = {1.0f, 0};
  p.input_params = {{1.0f, 200}};
  CHECK(contains(p.validate_quantized<int8_t>().message(), "input 0: zero point 200"));
}

TEST_CASE("data: pad with the extreme int8 zero points") {
  // [2, 3] padded with 1 row before and 2 columns after: [3, 5].
  for (int zp : {-128, 127}) {
    CAPTURE(zp);
    auto p = PadParams::make(Shape{2, 3}, {1, 0, 0, 2});
    REQUIRE(p.ok());
    CHECK(p->output_shape() == Shape{3, 5});
    const std::vector<int8_t> x = {1, -2, 3, 127, -128, 0};
    std::vector<int8_t> y(15, 55);
    const auto z = static_cast<int8_t>(zp);
    ptq::reference::pad(*p, x.data(), z, y.data());
    CHECK(y == std::vector<int8_t>{z, z, z, z, z,  //
                                   1, -2, 3, z, z,  //
                                   127, -128, 0, z, z});
  }
}

TEST_CASE("data: pad of a rank-6 tensor equals the index formula, and empty dims") {
  // Oracle: out[i] = in[i - before] when 0 <= i_d - before_d < in_d for every d, else the pad value.
  const std::vector<int64_t> dims = {2, 1, 3, 2, 1, 2};
  const std::vector<int64_t> paddings = {0, 1, 2, 0, 1, 1, 0, 0, 1, 2, 0, 1};
  auto p = PadParams::make(Shape(dims), paddings);
  REQUIRE(p.ok());
  std::vector<int64_t> out_dims;
  for (std::size_t d = 0; d < dims.size(); ++d) out_dims.push_back(paddings[2 * d] + dims[d] + paddings[2 * d + 1]);
  CHECK(p->output_shape() == Shape(out_dims));
  const std::vector<int64_t> in_strides = strides_of(dims);
  int64_t in_n = 1, out_n = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    in_n *= dims[d];
    out_n *= out_dims[d];
  }
  std::vector<float> x(static_cast<std::size_t>(in_n));
  for (int64_t i = 0; i < in_n; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i + 1);
  std::vector<float> y(static_cast<std::size_t>(out_n), -9.0f);
  ptq::reference::pad(*p, x.data(), 0.0f, y.data());
  int copied = 0;
  for (int64_t at = 0; at < out_n; ++at) {
    const std::vector<int64_t> idx = unflatten(at, out_dims);
    bool inside = true;
    int64_t from = 0;
    for (std::size_t d = 0; d < dims.size(); ++d) {
      const int64_t j = idx[d] - paddings[2 * d];
      inside = inside && j >= 0 && j < dims[d];
      from += j * in_strides[d];
    }
    const float expected = inside ? x[static_cast<std::size_t>(from)] : 0.0f;
    CHECK(y[static_cast<std::size_t>(at)] == expected);
    copied += inside;
  }
  CHECK(copied == in_n);

  // An empty input dim: the whole output is padding.
  auto empty = PadParams::make(Shape{2, 0}, {0, 1, 1, 1});
  REQUIRE(empty.ok());
  CHECK(empty->output_shape() == Shape{3, 2});
  std::vector<uint8_t> e(6, 1);
  ptq::reference::pad(*empty, static_cast<const uint8_t*>(nullptr), uint8_t{200}, e.data());
  CHECK(e == std::vector<uint8_t>(6, 200));

  // Rank 0: a copy.
  auto scalar = PadParams::make(Shape{}, {});
  REQUIRE(scalar.ok());
  const int32_t s = 42;
  int32_t t = 0;
  ptq::reference::pad(*scalar, &s, int32_t{0}, &t);
  CHECK(t == 42);
}

TEST_CASE("data: pad params reject negative paddings and a wrong count") {
  auto negative = PadParams::make(Shape{2, 3}, {0, 0, -1, 0});
  REQUIRE_FALSE(negative.ok());
  CHECK(contains(negative.status().message(), "before[1] = -1 is negative"));
  auto count = PadParams::make(Shape{2, 3}, {0, 0, 1});
  REQUIRE_FALSE(count.ok());
  CHECK(contains(count.status().message(), "paddings has 3 entries; expected 2 * rank = 4"));
}

}  // TEST_SUITE
