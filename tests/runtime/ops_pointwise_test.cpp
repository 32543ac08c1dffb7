// runtime/ops/elementwise.hpp through OpHarness: Add, Sub, Mul (float, int8, int16; broadcasting,
// constant and scalar operands, fused activations, both rounding modes) and the pointwise
// activations, with values worked by hand; and every prepare error naming the op and the tensor.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support/op_harness.hpp"

namespace {

using ptq::DType;
using ptq::FusedActivation;
using ptq::RoundingMode;
using ptq::ir::OpKind;
using ptq::ir::Quantization;
using ptq_test::OpHarness;

Quantization pt(float scale, int32_t zero_point) { return Quantization::per_tensor(scale, zero_point); }

ptq::ir::Attributes with_activation(FusedActivation a) {
  ptq::ir::Attributes attrs;
  attrs.activation = a;
  return attrs;
}

bool contains(const ptq::Status& s, const std::string& text) {
  const bool found = s.message().find(text) != std::string::npos;
  if (!found) MESSAGE("message: " << s.to_string());
  return found;
}

// One unary op over int8 values: builds, prepares (REQUIRE ok) and runs it.
std::vector<int8_t> run_unary_int8(OpKind kind, const std::vector<int8_t>& x, Quantization qx, Quantization qy,
                                   ptq::ir::Attributes attrs = {}, RoundingMode mode = ptq::kDefaultRounding) {
  OpHarness h;
  h.options.rounding = mode;
  const int64_t n = static_cast<int64_t>(x.size());
  const auto in = h.input("x", DType::kInt8, {n}, std::move(qx));
  const auto out = h.output("y", DType::kInt8, {n}, std::move(qy));
  h.op(kind, {in}, {out}, std::move(attrs));
  const ptq::Status s = h.prepare();
  INFO(s.to_string());
  REQUIRE(s.ok());
  h.set<int8_t>(in, x);
  h.run();
  return h.get<int8_t>(out);
}

std::vector<float> run_unary_float(OpKind kind, const std::vector<float>& x, ptq::ir::Attributes attrs = {}) {
  OpHarness h;
  const int64_t n = static_cast<int64_t>(x.size());
  const auto in = h.input("x", DType::kFloat32, {1, n});
  const auto out = h.output("y", DType::kFloat32, {1, n});
  h.op(kind, {in}, {out}, std::move(attrs));
  REQUIRE(h.prepare().ok());
  h.set<float>(in, x);
  h.run();
  return h.get<float>(out);
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("pointwise: float Add broadcasts [2,1,3] with a constant [4,1] to [2,4,3]") {
  OpHarness h;
  const auto a = h.input("a", DType::kFloat32, {2, 1, 3});
  const auto b = h.constant<float>("b", DType::kFloat32, {4, 1}, {10.0f, 20.0f, 30.0f, 40.0f});
  const auto y = h.output("y", DType::kFloat32, {2, 4, 3});
  h.op(OpKind::kAdd, {a, b}, {y});
  REQUIRE(h.prepare().ok());
  const std::vector<float> av = {1.0f, 2.5f, -3.0f, 4.0f, 5.0f, 6.0f};
  h.set<float>(a, av);
  h.run();
  const std::vector<float> got = h.get<float>(y);
  const std::vector<float> bv = {10.0f, 20.0f, 30.0f, 40.0f};
  REQUIRE(got.size() == 24);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 3; ++k) {
        CHECK(got[static_cast<std::size_t>((i * 4 + j) * 3 + k)] ==
              av[static_cast<std::size_t>(i * 3 + k)] + bv[static_cast<std::size_t>(j)]);
      }
    }
  }
}

TEST_CASE("pointwise: float Sub and Mul with a scalar constant first operand and fused activations") {
  // 3 - x and 3 * x for x = [-2, 0.5, 4, 10]: sub [5, 2.5, -1, -7], mul [-6, 1.5, 12, 30].
  const std::vector<float> x = {-2.0f, 0.5f, 4.0f, 10.0f};
  struct Case {
    OpKind kind;
    FusedActivation act;
    std::vector<float> expected;
  };
  const Case cases[] = {
      {OpKind::kSub, FusedActivation::kNone, {5.0f, 2.5f, -1.0f, -7.0f}},
      {OpKind::kSub, FusedActivation::kRelu, {5.0f, 2.5f, 0.0f, 0.0f}},
      {OpKind::kMul, FusedActivation::kRelu6, {0.0f, 1.5f, 6.0f, 6.0f}},
      {OpKind::kMul, FusedActivation::kReluN1To1, {-1.0f, 1.0f, 1.0f, 1.0f}},
  };
  for (const Case& c : cases) {
    CAPTURE(ptq::fused_activation_name(c.act));
    OpHarness h;
    const auto s = h.constant<float>("three", DType::kFloat32, {}, {3.0f});
    const auto in = h.input("x", DType::kFloat32, {4});
    const auto out = h.output("y", DType::kFloat32, {4});
    h.op(c.kind, {s, in}, {out}, with_activation(c.act));
    REQUIRE(h.prepare().ok());
    h.set<float>(in, x);
    h.run();
    CHECK(h.get<float>(out) == c.expected);
  }
}

TEST_CASE("pointwise: int8 Add with a constant bias-like vector, both rounding modes") {
  // s = 0.5 for a, b and y: Ma = Mb = 0.5, Mo = 2^-19, so y - zp_y = (a - zp_a) + (b - zp_b) exactly.
  // zp_a = 3, zp_b = -2, zp_y = 1: y = a + b. a [2, 3], b [3] (constant):
  //   [[10, -20, 30], [100, 120, 127]] + [5, -7, 60] = [[15, -27, 90], [105, 113, 187 -> 127]].
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    OpHarness h;
    h.options.rounding = mode;
    const auto a = h.input("a", DType::kInt8, {2, 3}, pt(0.5f, 3));
    const auto b = h.constant<int8_t>("bias", DType::kInt8, {3}, {5, -7, 60}, pt(0.5f, -2));
    const auto y = h.output("y", DType::kInt8, {2, 3}, pt(0.5f, 1));
    h.op(OpKind::kAdd, {a, b}, {y});
    REQUIRE(h.prepare().ok());
    h.set<int8_t>(a, {10, -20, 30, 100, 120, 127});
    h.run();
    CHECK(h.get<int8_t>(y) == std::vector<int8_t>{15, -27, 90, 105, 113, 127});
  }
  // The tie of reference_elementwise_test's Add case through the op: s_a = 0.5 zp -128, s_b = 0.25
  // zp 127, s_y = 1 zp -5; (a, b) = (-127, 123) is 0.5 - 1 = -0.5: double -6, single -5.
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    CAPTURE(ptq::rounding_mode_name(mode));
    OpHarness h;
    h.options.rounding = mode;
    const auto a = h.input("a", DType::kInt8, {1}, pt(0.5f, -128));
    const auto b = h.input("b", DType::kInt8, {1}, pt(0.25f, 127));
    const auto y = h.output("y", DType::kInt8, {1}, pt(1.0f, -5));
    h.op(OpKind::kAdd, {a, b}, {y});
    REQUIRE(h.prepare().ok());
    h.set<int8_t>(a, {-127});
    h.set<int8_t>(b, {123});
    h.run();
    CHECK(h.get<int8_t>(y)[0] == (mode == RoundingMode::kDouble ? -6 : -5));
  }
}

TEST_CASE("pointwise: int8 Add, Sub, Mul under every fused activation, broadcasting [2,1] with [3]") {
  // All scales 0.5 except Mul's a (1.0), zero points 0 except y (-10); so Add gives a + b, Sub a - b,
  // Mul a * b, each + zp_y and clamped: relu [-10, 127], relu6 [-10, 2], relu_n1_to_1 [-12, -8].
  // a = [[-3], [4]], b = [1, 2, -5]:
  //   add [[-2, -1, -8], [5, 6, -1]]; sub [[-4, -5, 2], [3, 2, 9]]; mul [[-3, -6, 15], [4, 8, -20]].
  struct Case {
    FusedActivation act;
    int32_t lo, hi;
  };
  const Case cases[] = {{FusedActivation::kNone, -128, 127},
                        {FusedActivation::kRelu, -10, 127},
                        {FusedActivation::kRelu6, -10, 2},
                        {FusedActivation::kReluN1To1, -12, -8}};
  const std::vector<int> add = {-2, -1, -8, 5, 6, -1}, sub = {-4, -5, 2, 3, 2, 9}, mul = {-3, -6, 15, 4, 8, -20};
  for (const Case& c : cases) {
    CAPTURE(ptq::fused_activation_name(c.act));
    for (OpKind kind : {OpKind::kAdd, OpKind::kSub, OpKind::kMul}) {
      CAPTURE(ptq::ir::op_kind_name(kind));
      OpHarness h;
      const auto a = h.input("a", DType::kInt8, {2, 1}, pt(kind == OpKind::kMul ? 1.0f : 0.5f, 0));
      const auto b = h.input("b", DType::kInt8, {3}, pt(0.5f, 0));
      const auto y = h.output("y", DType::kInt8, {2, 3}, pt(0.5f, -10));
      h.op(kind, {a, b}, {y}, with_activation(c.act));
      REQUIRE(h.prepare().ok());
      h.set<int8_t>(a, {-3, 4});
      h.set<int8_t>(b, {1, 2, -5});
      h.run();
      const std::vector<int>& raw = kind == OpKind::kAdd ? add : (kind == OpKind::kSub ? sub : mul);
      std::vector<int8_t> expected;
      for (int v : raw) expected.push_back(static_cast<int8_t>(std::max(c.lo, std::min(c.hi, v - 10))));
      CHECK(h.get<int8_t>(y) == expected);
    }
  }
}

TEST_CASE("pointwise: int16 Add and Mul through the op") {
  // Add: s_a = 2^-10, s_b = 2^-11, s_y = 2^-9: 1000 s_a - 3001 s_b = -250.25 s_y -> -250.
  // Mul: s_y = 2^-12: 300 * -301 * 2^-21 / 2^-12 = -176.37 -> -176.
  for (OpKind kind : {OpKind::kAdd, OpKind::kMul}) {
    OpHarness h;
    const auto a = h.input("a", DType::kInt16, {1}, pt(0.0009765625f, 0));
    const auto b = h.input("b", DType::kInt16, {1}, pt(0.00048828125f, 0));
    const auto y = h.output("y", DType::kInt16, {1}, pt(kind == OpKind::kAdd ? 0.001953125f : 0.000244140625f, 0));
    h.op(kind, {a, b}, {y});
    REQUIRE(h.prepare().ok());
    h.set<int16_t>(a, {static_cast<int16_t>(kind == OpKind::kAdd ? 1000 : 300)});
    h.set<int16_t>(b, {static_cast<int16_t>(kind == OpKind::kAdd ? -3001 : -301)});
    h.run();
    CHECK(h.get<int16_t>(y)[0] == (kind == OpKind::kAdd ? -250 : -176));
  }
}

TEST_CASE("pointwise: float activations through the op") {
  const std::vector<float> x = {-7.0f, -0.5f, 0.5f, 3.0f, 8.0f};
  CHECK(run_unary_float(OpKind::kRelu, x) == std::vector<float>{0.0f, 0.0f, 0.5f, 3.0f, 8.0f});
  CHECK(run_unary_float(OpKind::kRelu6, x) == std::vector<float>{0.0f, 0.0f, 0.5f, 3.0f, 6.0f});
  CHECK(run_unary_float(OpKind::kReluN1To1, x) == std::vector<float>{-1.0f, -0.5f, 0.5f, 1.0f, 1.0f});
  ptq::ir::Attributes clip;
  clip.clip_min = -2.0f;
  clip.clip_max = 1.5f;
  CHECK(run_unary_float(OpKind::kClip, x, clip) == std::vector<float>{-2.0f, -0.5f, 0.5f, 1.5f, 1.5f});
  ptq::ir::Attributes leaky;
  leaky.alpha = 0.25f;
  CHECK(run_unary_float(OpKind::kLeakyRelu, x, leaky) == std::vector<float>{-1.75f, -0.125f, 0.5f, 3.0f, 8.0f});
  // hard_swish: -7 -> -0; -0.5 -> -0.5 * 2.5 / 6; 0.5 -> 0.5 * 3.5 / 6; 3 -> 3; 8 -> 8.
  const std::vector<float> hs = run_unary_float(OpKind::kHardSwish, x);
  CHECK(hs == std::vector<float>{0.0f, -1.25f / 6.0f, 1.75f / 6.0f, 3.0f, 8.0f});
  ptq::ir::Attributes hsig;
  hsig.alpha = 0.25f;
  hsig.beta = 0.5f;  // set explicitly: Attributes' beta default is Softmax's 1
  CHECK(run_unary_float(OpKind::kHardSigmoid, x, hsig) == std::vector<float>{0.0f, 0.375f, 0.625f, 1.0f, 1.0f});
}

TEST_CASE("pointwise: int8 activations through the op, worked by hand") {
  // Relu family: s_x = 0.5 zp 0, s_y = 0.25 zp -100 (see reference_pointwise_test):
  //   x = [-10, 1, 5, 20, 127] -> relu [-100, -98, -90, -60, 127], relu6 [.., -76, -76],
  //   relu_n1_to_1 [-104, -98, -96, -96, -96].
  const std::vector<int8_t> x = {-10, 1, 5, 20, 127};
  CHECK(run_unary_int8(OpKind::kRelu, x, pt(0.5f, 0), pt(0.25f, -100)) == std::vector<int8_t>{-100, -98, -90, -60, 127});
  CHECK(run_unary_int8(OpKind::kRelu6, x, pt(0.5f, 0), pt(0.25f, -100)) == std::vector<int8_t>{-100, -98, -90, -76, -76});
  CHECK(run_unary_int8(OpKind::kReluN1To1, x, pt(0.5f, 0), pt(0.25f, -100)) ==
        std::vector<int8_t>{-104, -98, -96, -96, -96});
  // ReluN1To1's negative tie (s_x = 0.25, s_y = 1, x = -2 -> -0.5): double -1, single 0.
  CHECK(run_unary_int8(OpKind::kReluN1To1, {-2}, pt(0.25f, 0), pt(1.0f, 0), {}, RoundingMode::kDouble)[0] == -1);
  CHECK(run_unary_int8(OpKind::kReluN1To1, {-2}, pt(0.25f, 0), pt(1.0f, 0), {}, RoundingMode::kSingle)[0] == 0);

  // Clip [0, 6] through a table: s_x = 0.1 zp 0, s_y = 0.05 zp -128: -5 -> -128, 10 -> -108, 127 -> -8.
  ptq::ir::Attributes clip;
  clip.clip_min = 0.0f;
  clip.clip_max = 6.0f;
  CHECK(run_unary_int8(OpKind::kClip, {-5, 10, 127}, pt(0.1f, 0), pt(0.05f, -128), clip) == std::vector<int8_t>{-128, -108, -8});

  // LeakyRelu alpha 0.125: s_x = 0.5 zp 10, s_y = 0.25 zp -20: x = [10, 30, 0, 8] -> [-20, 20, -23/-22, -21/-20].
  ptq::ir::Attributes leaky;
  leaky.alpha = 0.125f;
  CHECK(run_unary_int8(OpKind::kLeakyRelu, {10, 30, 0, 8}, pt(0.5f, 10), pt(0.25f, -20), leaky, RoundingMode::kDouble) ==
        std::vector<int8_t>{-20, 20, -23, -21});
  CHECK(run_unary_int8(OpKind::kLeakyRelu, {10, 30, 0, 8}, pt(0.5f, 10), pt(0.25f, -20), leaky, RoundingMode::kSingle) ==
        std::vector<int8_t>{-20, 20, -22, -20});

  // HardSwish: s_x = 3/64, s_y = 3/128, zero points 0: [32, -32, -128, 127] -> [48, -16, 0, 127].
  CHECK(run_unary_int8(OpKind::kHardSwish, {32, -32, -128, 127}, pt(0.046875f, 0), pt(0.0234375f, 0)) ==
        std::vector<int8_t>{48, -16, 0, 127});

  // HardSigmoid alpha 0.2, beta 0.5: s_x = 0.1 zp 0, s_y = 1/256 zp -128: [0, -128, 127, 10] -> [0, -128, 127, 51].
  ptq::ir::Attributes hsig;
  hsig.alpha = 0.2f;
  hsig.beta = 0.5f;
  CHECK(run_unary_int8(OpKind::kHardSigmoid, {0, -128, 127, 10}, pt(0.1f, 0), pt(0.00390625f, -128), hsig) ==
        std::vector<int8_t>{0, -128, 127, 51});
}

TEST_CASE("pointwise: int16 Relu6 and LeakyRelu through the op") {
  OpHarness h;
  const auto x = h.input("x", DType::kInt16, {3}, pt(0.00390625f, 0));
  const auto y = h.output("y", DType::kInt16, {3}, pt(0.001953125f, 0));
  h.op(OpKind::kRelu6, {x}, {y});
  REQUIRE(h.prepare().ok());
  h.set<int16_t>(x, {-300, 1000, 32767});
  h.run();
  CHECK(h.get<int16_t>(y) == std::vector<int16_t>{0, 2000, 3072});  // 6 / 2^-9 = 3072

  // LeakyRelu alpha 0.5, s_x = 2^-8, s_y = 2^-9: positives double, negatives stay (M_alpha = 1).
  OpHarness l;
  ptq::ir::Attributes attrs;
  attrs.alpha = 0.5f;
  const auto lx = l.input("x", DType::kInt16, {3}, pt(0.00390625f, 0));
  const auto ly = l.output("y", DType::kInt16, {3}, pt(0.001953125f, 0));
  l.op(OpKind::kLeakyRelu, {lx}, {ly}, attrs);
  REQUIRE(l.prepare().ok());
  l.set<int16_t>(lx, {-300, 1000, -32768});
  l.run();
  CHECK(l.get<int16_t>(ly) == std::vector<int16_t>{-300, 2000, -32768});
}

TEST_CASE("pointwise: prepare errors name the op and the tensor") {
  const std::string op_add = "op 0 'under_test' (Add)";
  SUBCASE("unsupported dtype") {
    OpHarness h;
    const auto a = h.input("a", DType::kInt32, {2});
    const auto b = h.input("b", DType::kInt32, {2});
    const auto y = h.output("y", DType::kInt32, {2});
    h.op(OpKind::kAdd, {a, b}, {y});
    const ptq::Status s = h.prepare();
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
    CHECK(contains(s, op_add));
    CHECK(contains(s, "output 0 'y' is int32"));
  }
  SUBCASE("mismatched dtypes") {
    OpHarness h;
    const auto a = h.input("a", DType::kInt8, {2}, pt(0.5f, 0));
    const auto b = h.input("b", DType::kFloat32, {2});
    const auto y = h.output("y", DType::kInt8, {2}, pt(0.5f, 0));
    h.op(OpKind::kSub, {a, b}, {y});
    const ptq::Status s = h.prepare();
    CHECK(contains(s, "op 0 'under_test' (Sub)"));
    CHECK(contains(s, "input 1 'b' is float32"));
  }
  SUBCASE("shapes that do not broadcast, and a wrong output shape") {
    OpHarness h;
    const auto a = h.input("a", DType::kFloat32, {2, 3});
    const auto b = h.input("b", DType::kFloat32, {4, 3});
    const auto y = h.output("y", DType::kFloat32, {2, 3});
    h.op(OpKind::kMul, {a, b}, {y});
    const ptq::Status s = h.prepare();
    CHECK(contains(s, "op 0 'under_test' (Mul)"));
    CHECK(contains(s, "input 1 'b'"));
    CHECK(contains(s, "do not broadcast"));
    OpHarness w;
    const auto wa = w.input("a", DType::kFloat32, {2, 1});
    const auto wb = w.input("b", DType::kFloat32, {3});
    const auto wy = w.output("out", DType::kFloat32, {2, 1});
    w.op(OpKind::kAdd, {wa, wb}, {wy});
    const ptq::Status ws = w.prepare();
    CHECK(contains(ws, "output 0 'out'"));
    CHECK(contains(ws, "not the broadcast [2, 3]"));
  }
  SUBCASE("missing, per-axis and invalid quantization") {
    OpHarness h;
    const auto a = h.input("a", DType::kInt8, {2}, pt(0.5f, 0));
    const auto b = h.constant<int8_t>("b", DType::kInt8, {2}, {1, 2});
    const auto y = h.output("y", DType::kInt8, {2}, pt(0.5f, 0));
    h.op(OpKind::kAdd, {a, b}, {y});
    const ptq::Status s = h.prepare();
    CHECK(contains(s, op_add));
    CHECK(contains(s, "input 1 'b' is int8 and needs per-tensor quantization"));

    OpHarness p;
    const auto pa = p.input("a", DType::kInt8, {2}, pt(0.5f, 0));
    const auto pb = p.input("b", DType::kInt8, {2}, pt(0.5f, 0));
    const auto py = p.output("y", DType::kInt8, {2}, Quantization::along(0, {0.5f, 0.25f}));
    p.op(OpKind::kMul, {pa, pb}, {py});
    CHECK(contains(p.prepare(), "output 0 'y' is int8 and needs per-tensor quantization (one scale and zero point); it has 2 scales"));

    OpHarness z;
    const auto zx = z.input("x", DType::kInt8, {2}, pt(0.0f, 0));
    const auto zy = z.output("y", DType::kInt8, {2}, pt(0.5f, 0));
    z.op(OpKind::kRelu, {zx}, {zy});
    const ptq::Status zs = z.prepare();
    CHECK(contains(zs, "op 0 'under_test' (Relu)"));
    CHECK(contains(zs, "input 0 'x' has scale 0"));

    OpHarness r;
    const auto rx = r.input("x", DType::kInt8, {2}, pt(0.5f, 300));
    const auto ry = r.output("y", DType::kInt8, {2}, pt(0.5f, 0));
    r.op(OpKind::kLeakyRelu, {rx}, {ry});
    CHECK(contains(r.prepare(), "input 0 'x' has zero point 300, outside [-128, 127]"));

    OpHarness s16;
    const auto sa = s16.input("a", DType::kInt16, {2}, pt(0.5f, 0));
    const auto sb = s16.input("b", DType::kInt16, {2}, pt(0.5f, 4));
    const auto sy = s16.output("y", DType::kInt16, {2}, pt(0.5f, 0));
    s16.op(OpKind::kAdd, {sa, sb}, {sy});
    CHECK(contains(s16.prepare(), "input 1 'b' is int16 with zero point 4"));
  }
  SUBCASE("arity and unary shapes") {
    OpHarness h;
    const auto a = h.input("a", DType::kFloat32, {2});
    const auto y = h.output("y", DType::kFloat32, {2});
    h.op(OpKind::kAdd, {a}, {y});
    CHECK(contains(h.prepare(), "expects 2 input(s) and 1 output(s), got 1 and 1"));

    OpHarness u;
    const auto x = u.input("x", DType::kFloat32, {2, 3});
    const auto uy = u.output("y", DType::kFloat32, {3, 2});
    u.op(OpKind::kHardSwish, {x}, {uy});
    const ptq::Status s = u.prepare();
    CHECK(contains(s, "op 0 'under_test' (HardSwish)"));
    CHECK(contains(s, "output 0 'y' has shape [3, 2] but input 0 'x' has [2, 3]"));
  }
  SUBCASE("dtypes an activation does not have") {
    const std::pair<OpKind, DType> cases[] = {{OpKind::kReluN1To1, DType::kInt16},
                                              {OpKind::kHardSwish, DType::kInt16},
                                              {OpKind::kClip, DType::kInt16},
                                              {OpKind::kHardSigmoid, DType::kUInt8},
                                              {OpKind::kRelu, DType::kUInt8}};
    for (const auto& c : cases) {
      CAPTURE(ptq::ir::op_kind_name(c.first));
      OpHarness h;
      const auto x = h.input("x", c.second, {2}, pt(0.5f, 0));
      const auto y = h.output("y", c.second, {2}, pt(0.5f, 0));
      h.op(c.first, {x}, {y});
      const ptq::Status s = h.prepare();
      CHECK(s.code() == ptq::StatusCode::kUnimplemented);
      CHECK(contains(s, std::string("(") + ptq::ir::op_kind_name(c.first) + ")"));
      CHECK(contains(s, std::string("output 0 'y' is ") + ptq::dtype_name(c.second)));
    }
  }
  SUBCASE("attributes and TFLite's HardSwish constraint") {
    OpHarness c;
    ptq::ir::Attributes clip;
    clip.clip_min = 2.0f;
    clip.clip_max = 1.0f;
    const auto cx = c.input("x", DType::kFloat32, {2});
    const auto cy = c.output("y", DType::kFloat32, {2});
    c.op(OpKind::kClip, {cx}, {cy}, clip);
    const ptq::Status cs = c.prepare();
    CHECK(contains(cs, "op 0 'under_test' (Clip)"));
    CHECK(contains(cs, "clip_min = 2.000000 and clip_max = 1.000000"));

    OpHarness l;
    ptq::ir::Attributes leaky;
    leaky.alpha = std::nanf("");
    const auto lx = l.input("x", DType::kFloat32, {2});
    const auto ly = l.output("y", DType::kFloat32, {2});
    l.op(OpKind::kLeakyRelu, {lx}, {ly}, leaky);
    CHECK(contains(l.prepare(), "attribute alpha = nan is not finite"));

    OpHarness hs;
    const auto hx = hs.input("x", DType::kInt8, {2}, pt(1.0f, 0));
    const auto hy = hs.output("y", DType::kInt8, {2}, pt(0.00390625f, 0));
    hs.op(OpKind::kHardSwish, {hx}, {hy});
    const ptq::Status s = hs.prepare();
    CHECK(contains(s, "op 0 'under_test' (HardSwish)"));
    CHECK(contains(s, "input 0 'x', output 0 'y'"));
    CHECK(contains(s, "not below 1"));
  }
}

}  // TEST_SUITE
