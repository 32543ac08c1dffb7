// The interpreter's Conv2D, DepthwiseConv2D and FullyConnected (runtime/ops/conv.hpp) in their float,
// hybrid and int8 forms: int8 bit for bit against the scalar references driven directly from the
// tensors' parameters (TFLite's Prepare arithmetic spelled out here), float against hand-worked
// values and a double-precision loop, hybrid against the hybrid references; and prepare's errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "support/isa_coverage.hpp"
#include "support/op_harness.hpp"

namespace {

namespace ir = ptq::ir;
using ptq::DType;
using ptq::FusedActivation;
using ptq::Padding;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class T>
std::vector<T> random_ints(std::mt19937& rng, std::size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> random_scales(std::mt19937& rng, std::size_t n) {
  std::vector<float> s = random_floats(rng, n, 0.002f, 0.02f);
  return s;
}

const FusedActivation kActivations[] = {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6,
                                        FusedActivation::kReluN1To1};

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("conv: int8 Conv2D equals reference::conv2d for random layers") {
  std::mt19937 rng(7);
  const int cases = ptq_test::kSanitized ? 6 : 24;
  for (int i = 0; i < cases; ++i) {
    const int64_t n = 1 + i % 2;
    const int64_t h = 3 + static_cast<int64_t>(rng() % 7);
    const int64_t w = 3 + static_cast<int64_t>(rng() % 7);
    const int64_t groups = i % 5 == 4 ? 2 : 1;
    const int64_t cin = groups * (1 + static_cast<int64_t>(rng() % 9));
    const int64_t cout = groups * (1 + static_cast<int64_t>(rng() % 11));
    const int64_t kh = 1 + static_cast<int64_t>(rng() % 3);
    const int64_t kw = 1 + static_cast<int64_t>(rng() % 3);
    const int32_t stride = 1 + static_cast<int32_t>(rng() % 2);
    const Padding padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    const FusedActivation act = kActivations[i % 4];
    const bool per_channel = i % 3 != 0;
    const int32_t x_zp = i % 4 == 1 ? -128 : i % 4 == 2 ? 127 : static_cast<int32_t>(rng() % 200) - 100;
    const int32_t y_zp = i % 4 == 3 ? 127 : static_cast<int32_t>(rng() % 200) - 100;
    const float x_scale = 0.05f, y_scale = i % 6 == 5 ? 0.001f : 0.08f;  // 0.001: saturates
    const std::vector<float> w_scales = random_scales(rng, per_channel ? static_cast<std::size_t>(cout) : 1);
    CAPTURE(i);

    ptq_test::OpHarness hs;
    hs.options.rounding = i % 2 ? ptq::RoundingMode::kSingle : ptq::RoundingMode::kDouble;
    const auto x = hs.input("x", DType::kInt8, {n, h, w, cin}, ir::Quantization::per_tensor(x_scale, x_zp));
    const auto weights = random_ints<int8_t>(rng, static_cast<std::size_t>(cout * kh * kw * (cin / groups)), -127, 127);
    const auto bias = random_ints<int32_t>(rng, static_cast<std::size_t>(cout), -20000, 20000);
    const auto wq = per_channel ? ir::Quantization::along(0, w_scales) : ir::Quantization::per_tensor(w_scales[0], 0);
    const auto wt = hs.constant("w", DType::kInt8, {cout, kh, kw, cin / groups}, weights, wq);
    const auto bt = hs.constant("b", DType::kInt32, {cout}, bias);
    const ptq::ConvGeometry g = ptq::make_conv_geometry(padding, n, h, w, cin, kh, kw, cout, stride, stride);
    const auto y = hs.output("y", DType::kInt8, {n, g.output_height, g.output_width, cout},
                             ir::Quantization::per_tensor(y_scale, y_zp));
    ir::Attributes a;
    a.stride_h = a.stride_w = stride;
    a.padding = padding;
    a.activation = act;
    hs.op(ir::OpKind::kConv2D, {x, wt, bt}, {y}, a);
    const ptq::Status st = hs.prepare();
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    const auto input = random_ints<int8_t>(rng, static_cast<std::size_t>(n * h * w * cin), -128, 127);
    hs.set(x, input);
    hs.run();

    ptq::Conv2DParams p;
    p.geometry = g;
    p.groups = groups;
    p.input_zero_point = x_zp;
    p.output_zero_point = y_zp;
    p.rounding = hs.options.rounding;
    p.multipliers = ptq::convolution_multipliers(x_scale, w_scales, y_scale, p.rounding);
    const auto r = ptq::reference::calculate_activation_range_quantized<int8_t>(act, {y_scale, y_zp});
    p.activation_min = r.min;
    p.activation_max = r.max;
    std::vector<int8_t> expected(static_cast<std::size_t>(g.output_size()));
    ptq::reference::conv2d(p, input.data(), weights.data(), bias.data(), expected.data());
    CHECK(hs.get<int8_t>(y) == expected);
  }
}

TEST_CASE("conv: int8 DepthwiseConv2D and FullyConnected equal their references") {
  std::mt19937 rng(8);
  for (int i = 0; i < (ptq_test::kSanitized ? 4 : 16); ++i) {
    CAPTURE(i);
    const int64_t n = 1 + i % 2, h = 2 + static_cast<int64_t>(rng() % 9), w = 2 + static_cast<int64_t>(rng() % 9);
    const int64_t c = 1 + static_cast<int64_t>(rng() % 37), dm = i % 4 == 3 ? 2 : 1, oc = c * dm;
    const FusedActivation act = kActivations[i % 4];
    const int32_t x_zp = i % 3 == 0 ? -128 : 5, y_zp = i % 3 == 1 ? 127 : -7;
    const std::vector<float> w_scales = random_scales(rng, static_cast<std::size_t>(oc));
    {
      ptq_test::OpHarness hs;
      const auto x = hs.input("x", DType::kInt8, {n, h, w, c}, ir::Quantization::per_tensor(0.04f, x_zp));
      const auto weights = random_ints<int8_t>(rng, static_cast<std::size_t>(9 * oc), -127, 127);
      const auto bias = random_ints<int32_t>(rng, static_cast<std::size_t>(oc), -5000, 5000);
      const auto wt = hs.constant("w", DType::kInt8, {1, 3, 3, oc}, weights, ir::Quantization::along(3, w_scales));
      const auto bt = hs.constant("b", DType::kInt32, {oc}, bias);
      const ptq::ConvGeometry g = ptq::make_conv_geometry(Padding::kSame, n, h, w, c, 3, 3, oc, 1 + i % 2, 1 + i % 2);
      const auto y = hs.output("y", DType::kInt8, {n, g.output_height, g.output_width, oc},
                               ir::Quantization::per_tensor(0.06f, y_zp));
      ir::Attributes a;
      a.stride_h = a.stride_w = 1 + i % 2;
      a.padding = Padding::kSame;
      a.depth_multiplier = static_cast<int32_t>(dm);
      a.activation = act;
      hs.op(ir::OpKind::kDepthwiseConv2D, {x, wt, bt}, {y}, a);
      const ptq::Status st = hs.prepare();
      REQUIRE_MESSAGE(st.ok(), st.to_string());
      const auto input = random_ints<int8_t>(rng, static_cast<std::size_t>(n * h * w * c), -128, 127);
      hs.set(x, input);
      hs.run();
      ptq::DepthwiseConv2DParams p;
      p.geometry = g;
      p.depth_multiplier = dm;
      p.input_zero_point = x_zp;
      p.output_zero_point = y_zp;
      p.rounding = hs.options.rounding;
      p.multipliers = ptq::convolution_multipliers(0.04f, w_scales, 0.06f, p.rounding);
      const auto r = ptq::reference::calculate_activation_range_quantized<int8_t>(act, {0.06f, y_zp});
      p.activation_min = r.min;
      p.activation_max = r.max;
      std::vector<int8_t> expected(static_cast<std::size_t>(g.output_size()));
      ptq::reference::depthwise_conv2d(p, input.data(), weights.data(), bias.data(), expected.data());
      CHECK(hs.get<int8_t>(y) == expected);
    }
    {
      const int64_t depth = 1 + static_cast<int64_t>(rng() % 70), units = 1 + static_cast<int64_t>(rng() % 40);
      const bool per_channel = i % 2 == 0;
      const std::vector<float> fc_scales = random_scales(rng, per_channel ? static_cast<std::size_t>(units) : 1);
      ptq_test::OpHarness hs;
      const auto x = hs.input("x", DType::kInt8, {n, 3, depth}, ir::Quantization::per_tensor(0.03f, x_zp));
      const auto weights = random_ints<int8_t>(rng, static_cast<std::size_t>(units * depth), -127, 127);
      const auto bias = random_ints<int32_t>(rng, static_cast<std::size_t>(units), -5000, 5000);
      const auto wt = hs.constant("w", DType::kInt8, {units, depth}, weights,
                                  per_channel ? ir::Quantization::along(0, fc_scales)
                                              : ir::Quantization::per_tensor(fc_scales[0], 0));
      const auto bt = hs.constant("b", DType::kInt32, {units}, bias);
      const auto y = hs.output("y", DType::kInt8, {n * 3, units}, ir::Quantization::per_tensor(0.05f, y_zp));
      ir::Attributes a;
      a.activation = act;
      hs.op(ir::OpKind::kFullyConnected, {x, wt, bt}, {y}, a);
      const ptq::Status st = hs.prepare();
      REQUIRE_MESSAGE(st.ok(), st.to_string());
      const auto input = random_ints<int8_t>(rng, static_cast<std::size_t>(n * 3 * depth), -128, 127);
      hs.set(x, input);
      hs.run();
      ptq::FullyConnectedParams p;
      p.batches = n * 3;
      p.input_depth = depth;
      p.output_depth = units;
      p.input_zero_point = x_zp;
      p.output_zero_point = y_zp;
      p.rounding = hs.options.rounding;
      p.multipliers = ptq::fully_connected_multipliers(0.03f, fc_scales, 0.05f, p.rounding);
      const auto r = ptq::reference::calculate_activation_range_quantized<int8_t>(act, {0.05f, y_zp});
      p.activation_min = r.min;
      p.activation_max = r.max;
      std::vector<int8_t> expected(static_cast<std::size_t>(n * 3 * units));
      ptq::reference::fully_connected(p, input.data(), weights.data(), bias.data(), expected.data());
      CHECK(hs.get<int8_t>(y) == expected);

      // LiteRT's reference requantization (double scales), through the GEMM's accumulators.
      hs.options.fc_requantization = ptq::FcRequantization::kDoubleScale;
      const ptq::Status st2 = hs.prepare();
      REQUIRE_MESSAGE(st2.ok(), st2.to_string());
      hs.set(x, input);
      hs.run();
      ptq::reference::fully_connected_double_scale(p, ptq::reference::double_scales(0.03f, fc_scales, 0.05f), input.data(),
                                                   weights.data(), bias.data(), expected.data());
      CHECK(hs.get<int8_t>(y) == expected);
    }
  }
}

TEST_CASE("conv: float Conv2D, hand-worked and against a double loop") {
  // 1x3x3x1 input 1..9, one 2x2 filter [[1, 0], [0, -1]], bias 0.5, VALID stride 1:
  //   y[0][0] = 1 - 5 + 0.5 = -3.5, y[0][1] = 2 - 6 + 0.5 = -3.5, ... all -3.5; ReLU -> 0.
  ptq_test::OpHarness hs;
  const auto x = hs.input("x", DType::kFloat32, {1, 3, 3, 1});
  const auto wt = hs.constant("w", DType::kFloat32, {1, 2, 2, 1}, std::vector<float>{1, 0, 0, -1});
  const auto bt = hs.constant("b", DType::kFloat32, {1}, std::vector<float>{0.5f});
  const auto y = hs.output("y", DType::kFloat32, {1, 2, 2, 1});
  hs.op(ir::OpKind::kConv2D, {x, wt, bt}, {y});
  REQUIRE(hs.prepare().ok());
  hs.set(x, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  hs.run();
  CHECK(hs.get<float>(y) == std::vector<float>{-3.5f, -3.5f, -3.5f, -3.5f});

  // Random SAME stride-2 grouped layer with ReLU6 against a double-precision loop.
  std::mt19937 rng(3);
  const int64_t h = 7, w = 6, cin = 4, cout = 6, groups = 2, k = 3;
  ptq_test::OpHarness hr;
  const auto xr = hr.input("x", DType::kFloat32, {1, h, w, cin});
  const auto weights = random_floats(rng, static_cast<std::size_t>(cout * k * k * cin / groups), -1.0f, 1.0f);
  const auto wr = hr.constant("w", DType::kFloat32, {cout, k, k, cin / groups}, weights);
  const ptq::ConvGeometry g = ptq::make_conv_geometry(Padding::kSame, 1, h, w, cin, k, k, cout, 2, 2);
  const auto yr = hr.output("y", DType::kFloat32, {1, g.output_height, g.output_width, cout});
  ir::Attributes a;
  a.stride_h = a.stride_w = 2;
  a.padding = Padding::kSame;
  a.activation = FusedActivation::kRelu6;
  hr.op(ir::OpKind::kConv2D, {xr, wr}, {yr}, a);
  REQUIRE(hr.prepare().ok());
  const auto input = random_floats(rng, static_cast<std::size_t>(h * w * cin), -3.0f, 3.0f);
  hr.set(xr, input);
  hr.run();
  const auto got = hr.get<float>(yr);
  for (int64_t oy = 0; oy < g.output_height; ++oy) {
    for (int64_t ox = 0; ox < g.output_width; ++ox) {
      for (int64_t oc = 0; oc < cout; ++oc) {
        double s = 0;
        const int64_t grp = oc / (cout / groups);
        for (int64_t fy = 0; fy < k; ++fy) {
          for (int64_t fx = 0; fx < k; ++fx) {
            const int64_t iy = oy * 2 - g.pad_top + fy, ix = ox * 2 - g.pad_left + fx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (int64_t ic = 0; ic < cin / groups; ++ic) {
              s += static_cast<double>(input[static_cast<std::size_t>((iy * w + ix) * cin + grp * (cin / groups) + ic)]) *
                   weights[static_cast<std::size_t>(((oc * k + fy) * k + fx) * (cin / groups) + ic)];
            }
          }
        }
        s = std::min(6.0, std::max(0.0, s));
        CHECK(got[static_cast<std::size_t>((oy * g.output_width + ox) * cout + oc)] == doctest::Approx(s).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("conv: float Conv2D, DepthwiseConv2D and FullyConnected equal the float references bit for bit") {
  // The fast float kernels (constant weights) and the reference path (weights or bias given at run
  // time) both reproduce reference::conv2d / depthwise_conv2d / fully_connected exactly, on every
  // level the CPU runs (float_microkernel.hpp: the kernels keep the reference's summation order).
  const auto bits_equal = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  std::mt19937 rng(8);
  const int64_t n = 2, h = 9, w = 7, c = 6, oc = 10, k = 3, groups = 2, dm = 2, depth = 45, units = 37;
  const auto x = random_floats(rng, static_cast<std::size_t>(n * h * w * c), -2.0f, 2.0f);
  const auto cw = random_floats(rng, static_cast<std::size_t>(oc * k * k * c / groups), -0.4f, 0.4f);
  const auto dww = random_floats(rng, static_cast<std::size_t>(k * k * c * dm), -0.6f, 0.6f);
  const auto fw = random_floats(rng, static_cast<std::size_t>(units * depth), -0.3f, 0.3f);
  const auto b = random_floats(rng, 64, -0.5f, 0.5f);
  const ptq::ConvGeometry cg = ptq::make_conv_geometry(Padding::kSame, n, h, w, c, k, k, oc, 2, 1);
  const ptq::ConvGeometry dg = ptq::make_conv_geometry(Padding::kValid, n, h, w, c, k, k, c * dm, 1, 1, 2, 1);
  const int64_t fc_batches = n * h * w * c / depth;
  const uint32_t family = ptq_test::isa_mask({ptq::Isa::kScalar, ptq::Isa::kSse41, ptq::Isa::kAvx2}) &
                          (PTQ_ARCH_X86 ? ~0u : ptq::isa_bit(ptq::Isa::kScalar));
  ptq_test::for_each_isa(family, ptq::float_variant, [&](ptq::Isa isa) {
    for (FusedActivation act : kActivations) {
      for (int mode = 0; mode < 3; ++mode) {  // 0: constant weights and bias; 1: no bias; 2: runtime weights and bias
        CAPTURE(mode);
        const bool runtime = mode == 2, with_bias = mode != 1;
        ir::Attributes a;
        a.activation = act;
        // Conv2D, SAME, stride 2x1, two groups.
        {
          ptq_test::OpHarness hs;
          hs.options.isa = isa;
          const auto xt = hs.input("x", DType::kFloat32, {n, h, w, c});
          const std::vector<float> bias(b.begin(), b.begin() + oc);
          const auto wt = runtime ? hs.input("w", DType::kFloat32, {oc, k, k, c / groups})
                                  : hs.constant("w", DType::kFloat32, {oc, k, k, c / groups}, cw);
          const auto bt = runtime ? hs.input("b", DType::kFloat32, {oc}) : hs.constant("b", DType::kFloat32, {oc}, bias);
          const auto y = hs.output("y", DType::kFloat32, {n, cg.output_height, cg.output_width, oc});
          ir::Attributes ca = a;
          ca.padding = Padding::kSame;
          ca.stride_h = 2;
          std::vector<ir::TensorId> ins = {xt, wt};
          if (with_bias) ins.push_back(bt);
          hs.op(ir::OpKind::kConv2D, ins, {y}, ca);
          REQUIRE(hs.prepare().ok());
          hs.set(xt, x);
          if (runtime) {
            hs.set(wt, cw);
            hs.set(bt, bias);
          }
          hs.run();
          ptq::FloatConv2DParams p{cg, groups, act};
          std::vector<float> expected(static_cast<std::size_t>(cg.output_size()));
          ptq::reference::conv2d(p, x.data(), cw.data(), with_bias ? bias.data() : nullptr, expected.data());
          CHECK(bits_equal(hs.get<float>(y), expected));
        }
        // DepthwiseConv2D, VALID, dilation 2x1, depth multiplier 2.
        {
          ptq_test::OpHarness hs;
          hs.options.isa = isa;
          const int64_t doc = c * dm;
          const std::vector<float> bias(b.begin(), b.begin() + doc);
          const auto xt = hs.input("x", DType::kFloat32, {n, h, w, c});
          const auto wt = runtime ? hs.input("w", DType::kFloat32, {1, k, k, doc})
                                  : hs.constant("w", DType::kFloat32, {1, k, k, doc}, dww);
          const auto bt = runtime ? hs.input("b", DType::kFloat32, {doc}) : hs.constant("b", DType::kFloat32, {doc}, bias);
          const auto y = hs.output("y", DType::kFloat32, {n, dg.output_height, dg.output_width, doc});
          ir::Attributes da = a;
          da.depth_multiplier = dm;
          da.dilation_h = 2;
          std::vector<ir::TensorId> ins = {xt, wt};
          if (with_bias) ins.push_back(bt);
          hs.op(ir::OpKind::kDepthwiseConv2D, ins, {y}, da);
          REQUIRE(hs.prepare().ok());
          hs.set(xt, x);
          if (runtime) {
            hs.set(wt, dww);
            hs.set(bt, bias);
          }
          hs.run();
          ptq::FloatDepthwiseConv2DParams p{dg, dm, act};
          std::vector<float> expected(static_cast<std::size_t>(dg.output_size()));
          ptq::reference::depthwise_conv2d(p, x.data(), dww.data(), with_bias ? bias.data() : nullptr, expected.data());
          CHECK(bits_equal(hs.get<float>(y), expected));
        }
        // FullyConnected over the same data as [fc_batches, depth].
        {
          ptq_test::OpHarness hs;
          hs.options.isa = isa;
          const std::vector<float> bias(b.begin(), b.begin() + units);
          const auto xt = hs.input("x", DType::kFloat32, {fc_batches, depth});
          const auto wt = runtime ? hs.input("w", DType::kFloat32, {units, depth})
                                  : hs.constant("w", DType::kFloat32, {units, depth}, fw);
          const auto bt = runtime ? hs.input("b", DType::kFloat32, {units}) : hs.constant("b", DType::kFloat32, {units}, bias);
          const auto y = hs.output("y", DType::kFloat32, {fc_batches, units});
          std::vector<ir::TensorId> ins = {xt, wt};
          if (with_bias) ins.push_back(bt);
          hs.op(ir::OpKind::kFullyConnected, ins, {y}, a);
          REQUIRE(hs.prepare().ok());
          const std::vector<float> xf(x.begin(), x.begin() + fc_batches * depth);
          hs.set(xt, xf);
          if (runtime) {
            hs.set(wt, fw);
            hs.set(bt, bias);
          }
          hs.run();
          ptq::FloatFullyConnectedParams p{fc_batches, depth, units, act};
          std::vector<float> expected(static_cast<std::size_t>(fc_batches * units));
          ptq::reference::fully_connected(p, xf.data(), fw.data(), with_bias ? bias.data() : nullptr, expected.data());
          CHECK(bits_equal(hs.get<float>(y), expected));
          // Not vacuous: the layer's outputs are spread out (and, under ReLU6, some clamp).
          const auto got = hs.get<float>(y);
          CHECK(*std::max_element(got.begin(), got.end()) > *std::min_element(got.begin(), got.end()) + 0.5f);
        }
      }
    }
  });
}

TEST_CASE("conv: hybrid Conv2D, DepthwiseConv2D and FullyConnected equal the hybrid references") {
  std::mt19937 rng(5);
  const int64_t n = 2, h = 5, w = 4, c = 3, oc = 5;
  const auto input = random_floats(rng, static_cast<std::size_t>(n * h * w * c), -2.0f, 2.0f);
  const std::vector<float> scales = random_scales(rng, static_cast<std::size_t>(oc));
  const auto weights = random_ints<int8_t>(rng, static_cast<std::size_t>(oc * 3 * 3 * c), -127, 127);
  const auto bias = random_floats(rng, static_cast<std::size_t>(oc), -1.0f, 1.0f);
  const ptq::ConvGeometry g = ptq::make_conv_geometry(Padding::kSame, n, h, w, c, 3, 3, oc);
  {
    ptq_test::OpHarness hs;
    const auto x = hs.input("x", DType::kFloat32, {n, h, w, c});
    const auto wt = hs.constant("w", DType::kInt8, {oc, 3, 3, c}, weights, ir::Quantization::along(0, scales));
    const auto bt = hs.constant("b", DType::kFloat32, {oc}, bias);
    const auto y = hs.output("y", DType::kFloat32, {n, h, w, oc});
    ir::Attributes a;
    a.padding = Padding::kSame;
    a.activation = FusedActivation::kRelu;
    hs.op(ir::OpKind::kConv2D, {x, wt, bt}, {y}, a);
    REQUIRE(hs.prepare().ok());
    hs.set(x, input);
    hs.run();
    ptq::HybridConv2DParams p;
    p.geometry = g;
    p.weight_scales = scales;
    p.activation = FusedActivation::kRelu;
    std::vector<float> expected(static_cast<std::size_t>(g.output_size()));
    ptq::HybridScratch scratch;
    ptq::reference::hybrid_conv2d(p, input.data(), weights.data(), bias.data(), expected.data(), scratch);
    CHECK(hs.get<float>(y) == expected);
  }
  {
    const int64_t depth = 37, units = 19;
    const auto fw = random_ints<int8_t>(rng, static_cast<std::size_t>(units * depth), -127, 127);
    const auto fs = random_scales(rng, static_cast<std::size_t>(units));
    const auto fb = random_floats(rng, static_cast<std::size_t>(units), -1.0f, 1.0f);
    const auto fx = random_floats(rng, static_cast<std::size_t>(3 * depth), -4.0f, 4.0f);
    for (bool asymmetric : {false, true}) {
      ptq_test::OpHarness hs;
      const auto x = hs.input("x", DType::kFloat32, {3, depth});
      const auto wt = hs.constant("w", DType::kInt8, {units, depth}, fw, ir::Quantization::along(0, fs));
      const auto bt = hs.constant("b", DType::kFloat32, {units}, fb);
      const auto y = hs.output("y", DType::kFloat32, {3, units});
      ir::Attributes a;
      a.asymmetric_quantize_inputs = asymmetric;
      hs.op(ir::OpKind::kFullyConnected, {x, wt, bt}, {y}, a);
      REQUIRE(hs.prepare().ok());
      hs.set(x, fx);
      hs.run();
      ptq::HybridFullyConnectedParams p;
      p.batches = 3;
      p.input_depth = depth;
      p.output_depth = units;
      p.weight_scales = fs;
      p.input_quantization = asymmetric ? ptq::HybridInputQuantization::kAsymmetric : ptq::HybridInputQuantization::kSymmetric;
      std::vector<float> expected(static_cast<std::size_t>(3 * units));
      ptq::HybridScratch scratch;
      ptq::reference::hybrid_fully_connected(p, fx.data(), fw.data(), fb.data(), expected.data(), scratch);
      CHECK(hs.get<float>(y) == expected);
    }
  }
  {
    ptq_test::OpHarness hs;
    const auto x = hs.input("x", DType::kFloat32, {n, h, w, c});
    const auto dws = random_scales(rng, static_cast<std::size_t>(c));
    const auto dww = random_ints<int8_t>(rng, static_cast<std::size_t>(9 * c), -127, 127);
    const auto wt = hs.constant("w", DType::kInt8, {1, 3, 3, c}, dww, ir::Quantization::along(3, dws));
    const auto y = hs.output("y", DType::kFloat32, {n, h - 2, w - 2, c});
    hs.op(ir::OpKind::kDepthwiseConv2D, {x, wt}, {y});
    REQUIRE(hs.prepare().ok());
    hs.set(x, input);
    hs.run();
    ptq::HybridDepthwiseConv2DParams p;
    p.geometry = ptq::make_conv_geometry(Padding::kValid, n, h, w, c, 3, 3, c);
    p.weight_scales = dws;
    std::vector<float> expected(static_cast<std::size_t>(p.geometry.output_size()));
    ptq::HybridScratch scratch;
    ptq::reference::hybrid_depthwise_conv2d(p, input.data(), dww.data(), nullptr, expected.data(), scratch);
    CHECK(hs.get<float>(y) == expected);
  }
}

// Bit patterns: the hybrid kernels are bit-exact, -0.0 included.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_CASE("conv: hybrid Conv2D per tensor and DepthwiseConv2D with a bias that is an input, bit for bit") {
  std::mt19937 rng(9);
  const int64_t n = 3, h = 6, w = 7, c = 4, oc = 9, dm = 2;
  const auto input = random_floats(rng, static_cast<std::size_t>(n * h * w * c), -3.0f, 1.0f);
  const auto bias = random_floats(rng, static_cast<std::size_t>(oc), -1.0f, 1.0f);  // oc >= c * dm
  for (bool constant_bias : {true, false}) {
    for (FusedActivation act : kActivations) {
      CAPTURE(constant_bias);
      {  // Conv2D 3x3 stride 2, one weight scale: TFLite's per-tensor kernel (symmetric images).
        const auto weights = random_ints<int8_t>(rng, static_cast<std::size_t>(oc * 3 * 3 * c), -127, 127);
        const std::vector<float> scale = {0.0123f};
        ptq_test::OpHarness hs;
        const auto x = hs.input("x", DType::kFloat32, {n, h, w, c});
        const auto wt = hs.constant("w", DType::kInt8, {oc, 3, 3, c}, weights, ir::Quantization::per_tensor(scale[0], 0));
        const std::vector<float>& b = bias;
        const auto bt = constant_bias ? hs.constant("b", DType::kFloat32, {oc}, b) : hs.input("b", DType::kFloat32, {oc});
        const ptq::ConvGeometry g = ptq::make_conv_geometry(Padding::kSame, n, h, w, c, 3, 3, oc, 2, 2);
        const auto y = hs.output("y", DType::kFloat32, {n, g.output_height, g.output_width, oc});
        ir::Attributes a;
        a.padding = Padding::kSame;
        a.stride_h = a.stride_w = 2;
        a.activation = act;
        hs.op(ir::OpKind::kConv2D, {x, wt, bt}, {y}, a);
        REQUIRE(hs.prepare().ok());
        hs.set(x, input);
        if (!constant_bias) hs.set(bt, b);
        hs.run();
        ptq::HybridConv2DParams p;
        p.geometry = g;
        p.weight_scales = scale;
        p.activation = act;
        std::vector<float> expected(static_cast<std::size_t>(g.output_size()));
        ptq::HybridScratch scratch;
        ptq::reference::hybrid_conv2d(p, input.data(), weights.data(), b.data(), expected.data(), scratch);
        CHECK(same_bits(hs.get<float>(y), expected));
      }
      {  // DepthwiseConv2D 3x3, depth multiplier 2.
        const auto scales = random_scales(rng, static_cast<std::size_t>(c * dm));
        const auto weights = random_ints<int8_t>(rng, static_cast<std::size_t>(9 * c * dm), -127, 127);
        const std::vector<float> b(bias.begin(), bias.begin() + c * dm);
        ptq_test::OpHarness hs;
        const auto x = hs.input("x", DType::kFloat32, {n, h, w, c});
        const auto wt = hs.constant("w", DType::kInt8, {1, 3, 3, c * dm}, weights, ir::Quantization::along(3, scales));
        const auto bt = constant_bias ? hs.constant("b", DType::kFloat32, {c * dm}, b) : hs.input("b", DType::kFloat32, {c * dm});
        const auto y = hs.output("y", DType::kFloat32, {n, h, w, c * dm});
        ir::Attributes a;
        a.padding = Padding::kSame;
        a.depth_multiplier = dm;
        a.activation = act;
        hs.op(ir::OpKind::kDepthwiseConv2D, {x, wt, bt}, {y}, a);
        REQUIRE(hs.prepare().ok());
        hs.set(x, input);
        if (!constant_bias) hs.set(bt, b);
        hs.run();
        ptq::HybridDepthwiseConv2DParams p;
        p.geometry = ptq::make_conv_geometry(Padding::kSame, n, h, w, c, 3, 3, c * dm);
        p.depth_multiplier = dm;
        p.weight_scales = scales;
        p.activation = act;
        std::vector<float> expected(static_cast<std::size_t>(p.geometry.output_size()));
        ptq::HybridScratch scratch;
        ptq::reference::hybrid_depthwise_conv2d(p, input.data(), weights.data(), b.data(), expected.data(), scratch);
        CHECK(same_bits(hs.get<float>(y), expected));
      }
    }
  }
  // The GEMM-backed hybrid Conv2D takes TFLite's symmetric weights only: -128 is named.
  ptq_test::OpHarness hs;
  const auto x = hs.input("x", DType::kFloat32, {1, 3, 3, 2});
  std::vector<int8_t> wv(2 * 2 * 2 * 2, 1);
  wv[5] = -128;  // [0][1][0][1]
  const auto wt = hs.constant("conv/w", DType::kInt8, {2, 2, 2, 2}, wv, ir::Quantization::per_tensor(0.1f, 0));
  const auto y = hs.output("y", DType::kFloat32, {1, 2, 2, 2});
  hs.op(ir::OpKind::kConv2D, {x, wt}, {y});
  const ptq::Status s = hs.prepare();
  CHECK(contains(s.message(), "op 0 'under_test' (Conv2D): hybrid_conv2d: weights[0][1][0][1] = -128"));
}

TEST_CASE("conv: prepare errors name the op and the tensor") {
  const auto try_fc = [](DType xt, DType wt_type, ir::Quantization wq, DType bt_type, bool const_bias = true) {
    ptq_test::OpHarness hs;
    const auto x = hs.input("x", xt, {2, 4}, xt == DType::kInt8 ? ir::Quantization::per_tensor(0.1f, 0) : ir::Quantization{});
    const auto w = wt_type == DType::kFloat32
                       ? hs.constant("fc/w", wt_type, {3, 4}, std::vector<float>(12, 0.5f), wq)
                       : hs.constant("fc/w", wt_type, {3, 4}, std::vector<int8_t>(12, 1), wq);
    ir::TensorId b = ir::kNoTensor;
    if (bt_type == DType::kInt32) {
      b = const_bias ? hs.constant("fc/b", bt_type, {3}, std::vector<int32_t>(3, 0)) : hs.input("fc/b", bt_type, {3});
    }
    const auto y = hs.output("y", xt, {2, 3}, xt == DType::kInt8 ? ir::Quantization::per_tensor(0.1f, 0) : ir::Quantization{});
    hs.op(ir::OpKind::kFullyConnected, {x, w, b}, {y});
    return hs.prepare();
  };
  ptq::Status s = try_fc(DType::kInt8, DType::kFloat32, {}, DType::kFloat32);
  CHECK(contains(s.message(), "op 0 'under_test' (FullyConnected): no kernel for int8 input, float32 weights"));
  s = try_fc(DType::kInt8, DType::kInt8, ir::Quantization::per_tensor(0.1f, 3), DType::kInt32);
  CHECK(contains(s.message(), "input 1 'fc/w' has zero point 3; int8 weights are symmetric"));
  s = try_fc(DType::kInt8, DType::kInt8, ir::Quantization::along(1, {0.1f, 0.1f, 0.1f, 0.1f}), DType::kInt32);
  CHECK(contains(s.message(), "is quantized along axis 1; expected axis 0"));
  s = try_fc(DType::kInt8, DType::kInt8, {}, DType::kInt32);
  CHECK(contains(s.message(), "'fc/w' is int8 without quantization parameters"));
  s = try_fc(DType::kInt8, DType::kInt8, ir::Quantization::per_tensor(0.1f, 0), DType::kInt32, false);
  CHECK(contains(s.message(), "input 2 'fc/b' (bias) must be a constant"));
  CHECK(try_fc(DType::kInt8, DType::kInt8, ir::Quantization::per_tensor(0.1f, 0), DType::kInt32).ok());

  // A bias scale that is not input * weight scale (0.5 * 0.25 = 0.125), then weights with -128.
  for (int8_t w0 : {int8_t{-127}, int8_t{-128}}) {
    ptq_test::OpHarness hs;
    const auto x = hs.input("x", DType::kInt8, {1, 2}, ir::Quantization::per_tensor(0.5f, 0));
    const auto w = hs.constant("w", DType::kInt8, {1, 2}, std::vector<int8_t>{w0, 1}, ir::Quantization::per_tensor(0.25f, 0));
    const auto b = hs.constant("b", DType::kInt32, {1}, std::vector<int32_t>{0},
                               ir::Quantization::per_tensor(w0 == -127 ? 0.5f : 0.125f, 0));
    const auto y = hs.output("y", DType::kInt8, {1, 1}, ir::Quantization::per_tensor(1.0f, 0));
    hs.op(ir::OpKind::kFullyConnected, {x, w, b}, {y});
    s = hs.prepare();
    CHECK(contains(s.message(), "op 0 'under_test' (FullyConnected)"));
    CHECK(contains(s.message(), w0 == -127 ? "(bias) scale 0.500000 is not input scale * weight scale = 0.125" : "= -128"));
  }
}

}
