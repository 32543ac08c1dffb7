// runtime/ops/nonlinear.hpp: Softmax, Logistic and Tanh through the op registry (OpHarness): float32
// and int8 results (hand-worked and TFLite golden values), and every prepare error naming its tensor.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support/op_harness.hpp"

namespace {

using ptq::DType;
using ptq::ir::OpKind;
using ptq::ir::Quantization;

bool mentions(const ptq::Status& s, const std::string& text) { return s.message().find(text) != std::string::npos; }

// A one-op graph x -> y of the given kind, dtype and shape.
struct Unary {
  ptq_test::OpHarness h;
  ptq::ir::TensorId x = 0, y = 0;
  Unary(OpKind kind, DType dtype, ptq::Shape shape, Quantization qx = {}, Quantization qy = {},
        ptq::ir::Attributes attrs = {}, DType out_dtype = DType::kFloat32, ptq::Shape out_shape = {}) {
    x = h.input("x", dtype, shape, std::move(qx));
    y = h.output("y", dtype == DType::kFloat32 ? out_dtype : dtype, out_shape.rank() ? out_shape : shape,
                 std::move(qy));
    h.op(kind, {x}, {y}, std::move(attrs));
  }
};

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("nonlinear: float32 Softmax, Logistic and Tanh through the registry") {
  ptq::ir::Attributes attrs;
  attrs.beta = 2.0f;
  Unary s(OpKind::kSoftmax, DType::kFloat32, {2, 3}, {}, {}, attrs);
  REQUIRE(s.h.prepare().ok());
  s.h.set<float>(s.x, {0.0f, 0.0f, 0.0f, 1.0f, 0.0f, -1.0f});
  s.h.run();
  const std::vector<float> y = s.h.get<float>(s.y);
  for (int c = 0; c < 3; ++c) CHECK(y[static_cast<std::size_t>(c)] == doctest::Approx(1.0 / 3.0));
  // exp(2 * (x - 1)): {1, e^-2, e^-4} / sum
  const double sum = 1.0 + std::exp(-2.0) + std::exp(-4.0);
  CHECK(y[3] == doctest::Approx(1.0 / sum));
  CHECK(y[4] == doctest::Approx(std::exp(-2.0) / sum));
  CHECK(y[5] == doctest::Approx(std::exp(-4.0) / sum));

  Unary l(OpKind::kLogistic, DType::kFloat32, {5});
  REQUIRE(l.h.prepare().ok());
  l.h.set<float>(l.x, {-20.0f, -1.0f, 0.0f, 2.0f, 30.0f});
  l.h.run();
  CHECK(l.h.get<float>(l.y) ==
        std::vector<float>{std::exp(-20.0f), 1.0f / (1.0f + std::exp(1.0f)), 0.5f, 1.0f / (1.0f + std::exp(-2.0f)), 1.0f});

  Unary t(OpKind::kTanh, DType::kFloat32, {1, 3});
  REQUIRE(t.h.prepare().ok());
  t.h.set<float>(t.x, {-0.5f, 0.0f, 3.0f});
  t.h.run();
  CHECK(t.h.get<float>(t.y) == std::vector<float>{std::tanh(-0.5f), 0.0f, std::tanh(3.0f)});
}

TEST_CASE("nonlinear: int8 Softmax through the registry matches TFLite (golden), both rounding modes") {
  // TFLite golden (BUILTIN_REF, TFLite 2.21): input scale 0.027442609891295433, zero point 18.
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    Unary s(OpKind::kSoftmax, DType::kInt8, {2, 1, 6}, Quantization::per_tensor(0.027442609891295433f, 18),
            Quantization::per_tensor(1.0f / 256.0f, -128));
    s.h.options.rounding = mode;
    REQUIRE(s.h.prepare().ok());
    s.h.set<int8_t>(s.x, {100, 90, 80, 70, -128, 127, -20, -21, -60, -22, -128, -19});
    s.h.run();
    CHECK(s.h.get<int8_t>(s.y) == std::vector<int8_t>{-76, -88, -98, -105, -128, -18, -69, -71, -108, -72, -125, -67});
  }
}

TEST_CASE("nonlinear: int8 Logistic and Tanh through the registry (hand-worked table entries)") {
  // Input scale 1/16, zero point 0: x = q / 16 (see the kernel tests for the arithmetic).
  Unary l(OpKind::kLogistic, DType::kInt8, {1, 5}, Quantization::per_tensor(1.0f / 16, 0),
          Quantization::per_tensor(1.0f / 256, -128));
  REQUIRE(l.h.prepare().ok());
  l.h.set<int8_t>(l.x, {0, 16, -16, 127, -128});
  l.h.run();
  CHECK(l.h.get<int8_t>(l.y) == std::vector<int8_t>{0, 59, -59, 127, -128});

  Unary t(OpKind::kTanh, DType::kInt8, {5}, Quantization::per_tensor(1.0f / 32, 0), Quantization::per_tensor(1.0f / 128, 0));
  REQUIRE(t.h.prepare().ok());
  t.h.set<int8_t>(t.x, {0, 32, -32, 127, -128});
  t.h.run();
  CHECK(t.h.get<int8_t>(t.y) == std::vector<int8_t>{0, 97, -97, 127, -128});

  // The interpreter runs TFLite's table: on parameters where the fixed-point formulation differs
  // (see the kernel tests) it returns TFLite's golden values.
  Unary g(OpKind::kLogistic, DType::kInt8, {3}, Quantization::per_tensor(0.018961604684591293f, -102),
          Quantization::per_tensor(1.0f / 256, -128));
  REQUIRE(g.h.prepare().ok());
  g.h.set<int8_t>(g.x, {-114, -90, -58});
  g.h.run();
  CHECK(g.h.get<int8_t>(g.y) == std::vector<int8_t>{-15, 15, 51});
  Unary gt(OpKind::kTanh, DType::kInt8, {2}, Quantization::per_tensor(0.018961604684591293f, -102),
           Quantization::per_tensor(1.0f / 128, 0));
  REQUIRE(gt.h.prepare().ok());
  gt.h.set<int8_t>(gt.x, {-108, -96});
  gt.h.run();
  CHECK(gt.h.get<int8_t>(gt.y) == std::vector<int8_t>{-15, 15});

  // Extreme input zero point 127: every input is <= 0, so logistic <= 1/2 (q = 0 at the zero point).
  Unary e(OpKind::kLogistic, DType::kInt8, {2}, Quantization::per_tensor(1.0f / 16, 127),
          Quantization::per_tensor(1.0f / 256, -128));
  REQUIRE(e.h.prepare().ok());
  e.h.set<int8_t>(e.x, {127, 111});
  e.h.run();
  CHECK(e.h.get<int8_t>(e.y) == std::vector<int8_t>{0, -59});
}

TEST_CASE("nonlinear: prepare rejects int8 outputs without TFLite's fixed parameters, naming the output") {
  struct Case {
    OpKind kind;
    float scale;
    int32_t zero_point;
    const char* required;
  };
  const Case cases[] = {
      {OpKind::kSoftmax, 1.0f / 128, -128, "1/256"}, {OpKind::kSoftmax, 1.0f / 256, 0, "1/256"},
      {OpKind::kLogistic, 1.0f / 255, -128, "1/256"}, {OpKind::kLogistic, 1.0f / 256, 0, "1/256"},
      {OpKind::kTanh, 1.0f / 256, 0, "1/128"},        {OpKind::kTanh, 1.0f / 128, -128, "1/128"},
  };
  for (const Case& c : cases) {
    CAPTURE(ptq::ir::op_kind_name(c.kind));
    Unary u(c.kind, DType::kInt8, {4}, Quantization::per_tensor(0.1f, 0), Quantization::per_tensor(c.scale, c.zero_point));
    const ptq::Status s = u.h.prepare();
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == ptq::StatusCode::kInvalidArgument);
    CHECK(mentions(s, "output 0 'y'"));
    CHECK(mentions(s, c.required));
    CHECK(mentions(s, ptq::ir::op_kind_name(c.kind)));
  }
  // Softmax accepts a scale within 0.1% of 1/256, as TFLite's TF_LITE_ENSURE_NEAR.
  Unary near(OpKind::kSoftmax, DType::kInt8, {4}, Quantization::per_tensor(0.1f, 0),
             Quantization::per_tensor(1.0005f / 256, -128));
  CHECK(near.h.prepare().ok());
}

TEST_CASE("nonlinear: prepare errors for dtypes, shapes, quantization and attributes") {
  // Unsupported dtype: unimplemented, naming the input.
  Unary u8(OpKind::kTanh, DType::kUInt8, {4}, Quantization::per_tensor(0.1f, 128), Quantization::per_tensor(1.0f / 128, 128));
  ptq::Status s = u8.h.prepare();
  CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  CHECK(mentions(s, "input 0 'x'"));
  CHECK(mentions(s, "uint8"));
  // Mismatched dtypes.
  Unary mixed(OpKind::kLogistic, DType::kFloat32, {4}, {}, {}, {}, DType::kInt8);
  s = mixed.h.prepare();
  CHECK(mentions(s, "output 0 'y' is int8"));
  CHECK(mentions(s, "(Logistic)"));
  // Mismatched shapes.
  Unary shape(OpKind::kSoftmax, DType::kFloat32, {2, 3}, {}, {}, {}, DType::kFloat32, {3, 2});
  s = shape.h.prepare();
  CHECK(mentions(s, "has shape [3, 2] but input 0 'x' has [2, 3]; they must match"));
  // Missing and per-axis quantization.
  Unary none(OpKind::kTanh, DType::kInt8, {4}, {}, Quantization::per_tensor(1.0f / 128, 0));
  s = none.h.prepare();
  CHECK(mentions(s, "input 0 'x' is int8 and needs per-tensor quantization (one scale and zero point); it has none"));
  Unary axis(OpKind::kLogistic, DType::kInt8, {2}, Quantization::along(0, {0.1f, 0.2f}),
             Quantization::per_tensor(1.0f / 256, -128));
  s = axis.h.prepare();
  CHECK(mentions(s, "needs per-tensor quantization"));
  Unary zero_scale(OpKind::kSoftmax, DType::kInt8, {4}, Quantization::per_tensor(0.0f, 0),
                   Quantization::per_tensor(1.0f / 256, -128));
  CHECK(mentions(zero_scale.h.prepare(), "scale 0.000000"));
  // Softmax of a scalar, a non-finite beta, an input scale too small for TFLite's multiplier.
  Unary scalar(OpKind::kSoftmax, DType::kFloat32, ptq::Shape{});
  CHECK(mentions(scalar.h.prepare(), "scalar"));
  ptq::ir::Attributes inf_beta;
  inf_beta.beta = INFINITY;
  Unary bad_beta(OpKind::kSoftmax, DType::kFloat32, {3}, {}, {}, inf_beta);
  CHECK(mentions(bad_beta.h.prepare(), "beta"));
  Unary tiny(OpKind::kSoftmax, DType::kInt8, {4}, Quantization::per_tensor(1e-9f, 0),
             Quantization::per_tensor(1.0f / 256, -128));
  s = tiny.h.prepare();
  CHECK(mentions(s, "input 0 'x'"));
  CHECK(mentions(s, "greater than 1"));
  // Wrong arity.
  ptq_test::OpHarness h;
  const auto a = h.input("a", DType::kFloat32, {2});
  const auto b = h.input("b", DType::kFloat32, {2});
  const auto y = h.output("y", DType::kFloat32, {2});
  h.op(OpKind::kTanh, {a, b}, {y});
  CHECK(mentions(h.prepare(), "expects 1 input(s) and 1 output(s), got 2 and 1"));
}

}
