// runtime/ops/data.hpp through the op registry (tests/support/op_harness.hpp): Reshape, Flatten,
// Transpose, Concatenation, Pad, EmbeddingLookup, Quantize, Dequantize and BatchMatMul in every
// dtype they take, hand-worked or against a straightforward loop, and the errors of their prepare.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ptq/core/fixed_point.hpp"
#include "support/op_harness.hpp"

namespace {

using ptq::DType;
using ptq::RoundingMode;
using ptq::Shape;
using ptq::ir::Attributes;
using ptq::ir::OpKind;
using ptq::ir::Quantization;
using ptq_test::OpHarness;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A failed prepare whose message names the op and every part given (tensor names, the cause).
void check_error(const ptq::Status& s, std::initializer_list<const char*> parts) {
  REQUIRE_FALSE(s.ok());
  INFO(s.message());
  CHECK(contains(s.message(), "'under_test'"));
  for (const char* p : parts) CHECK(contains(s.message(), p));
}

Attributes perm(std::vector<int32_t> p) {
  Attributes a;
  a.perm = std::move(p);
  return a;
}

Attributes axis(int32_t ax, ptq::FusedActivation act = ptq::FusedActivation::kNone) {
  Attributes a;
  a.axis = ax;
  a.activation = act;
  return a;
}

Attributes paddings(std::vector<int64_t> p) {
  Attributes a;
  a.paddings = std::move(p);
  return a;
}

// The ISA levels to run the SIMD front ends on: the selected one and the scalar reference.
std::vector<ptq::Isa> isas() { return {ptq::selected_isa(), ptq::Isa::kScalar}; }

}  // namespace

TEST_SUITE("ops") {

// ---- Reshape, Flatten ----------------------------------------------------------------------------

TEST_CASE("data: Reshape and Flatten copy any dtype and keep the parameters") {
  {
    OpHarness h;
    const Quantization q = Quantization::per_tensor(0.5f, -3);
    auto x = h.input("x", DType::kInt8, {2, 3}, q);
    auto y = h.output("y", DType::kInt8, {3, 2}, q);
    h.op(OpKind::kReshape, {x}, {y});
    REQUIRE(h.prepare().ok());
    h.set<int8_t>(x, {1, -2, 3, -128, 127, 0});
    h.run();
    CHECK(h.get<int8_t>(y) == std::vector<int8_t>{1, -2, 3, -128, 127, 0});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat16, {4});
    auto y = h.output("y", DType::kFloat16, {2, 1, 2});
    h.op(OpKind::kReshape, {x}, {y});
    REQUIRE(h.prepare().ok());
    h.set<uint16_t>(x, {0x3C00, 0x7E01, 0x8000, 0xFBFF});
    h.run();
    CHECK(h.get<uint16_t>(y) == std::vector<uint16_t>{0x3C00, 0x7E01, 0x8000, 0xFBFF});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3, 2});
    auto y = h.output("y", DType::kFloat32, {2, 6});
    h.op(OpKind::kFlatten, {x}, {y});
    REQUIRE(h.prepare().ok());
    std::vector<float> v(12);
    for (int i = 0; i < 12; ++i) v[static_cast<std::size_t>(i)] = 0.5f * static_cast<float>(i) - 3.0f;
    h.set<float>(x, v);
    h.run();
    CHECK(h.get<float>(y) == v);
  }
}

TEST_CASE("data: Reshape and Flatten errors name the tensor") {
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt8, {2, 3}, Quantization::per_tensor(0.5f, -3));
    auto y = h.output("y", DType::kInt8, {6}, Quantization::per_tensor(0.25f, -3));
    h.op(OpKind::kReshape, {x}, {y});
    check_error(h.prepare(), {"(Reshape)", "output 0 'y'", "input 0 'x'", "same parameters"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3});
    auto y = h.output("y", DType::kFloat32, {7});
    h.op(OpKind::kReshape, {x}, {y});
    check_error(h.prepare(), {"output 0 'y' [7] has 7 elements", "input 0 'x' [2, 3] has 6"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3});
    auto y = h.output("y", DType::kInt8, {6});
    h.op(OpKind::kReshape, {x}, {y});
    check_error(h.prepare(), {"output 0 'y' is int8", "input 0 'x' is float32"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3, 4});
    auto y = h.output("y", DType::kFloat32, {6, 4});
    h.op(OpKind::kFlatten, {x}, {y});
    check_error(h.prepare(), {"(Flatten)", "output 0 'y' has shape [6, 4]; expected [2, 12]"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2});
    auto z = h.input("z", DType::kFloat32, {2});
    auto y = h.output("y", DType::kFloat32, {2});
    h.op(OpKind::kReshape, {x, z}, {y});
    check_error(h.prepare(), {"expects 1 input(s) and 1 output(s), got 2 and 1"});
  }
}

// ---- Transpose -----------------------------------------------------------------------------------

TEST_CASE("data: Transpose of int8 per-axis weights moves the quantized axis") {
  OpHarness h;
  auto x = h.input("x", DType::kInt8, {2, 3}, Quantization::along(1, {0.5f, 0.25f, 2.0f}));
  auto y = h.output("y", DType::kInt8, {3, 2}, Quantization::along(0, {0.5f, 0.25f, 2.0f}));
  h.op(OpKind::kTranspose, {x}, {y}, perm({1, 0}));
  REQUIRE(h.prepare().ok());
  h.set<int8_t>(x, {1, 2, 3, -128, 127, -1});
  h.run();
  CHECK(h.get<int8_t>(y) == std::vector<int8_t>{1, -128, 2, 127, 3, -1});

  OpHarness bad;
  auto bx = bad.input("x", DType::kInt8, {2, 3}, Quantization::along(1, {0.5f, 0.25f, 2.0f}));
  auto by = bad.output("y", DType::kInt8, {3, 2}, Quantization::along(1, {0.5f, 0.25f, 2.0f}));
  bad.op(OpKind::kTranspose, {bx}, {by}, perm({1, 0}));
  check_error(bad.prepare(), {"(Transpose)", "output 0 'y' is quantized with per axis 1", "same parameters"});
}

TEST_CASE("data: Transpose of float, int16 and int64 at ranks 1, 3 and 6") {
  {
    OpHarness h;  // rank 1: a copy
    auto x = h.input("x", DType::kFloat32, {3});
    auto y = h.output("y", DType::kFloat32, {3});
    h.op(OpKind::kTranspose, {x}, {y}, perm({0}));
    REQUIRE(h.prepare().ok());
    h.set<float>(x, {-0.0f, 1.5f, std::numeric_limits<float>::infinity()});
    h.run();
    const std::vector<float> got = h.get<float>(y);
    CHECK(std::signbit(got[0]));
    CHECK(got[1] == 1.5f);
    CHECK(std::isinf(got[2]));
  }
  {
    OpHarness h;  // rank 3, [2, 2, 3] -> perm [2, 0, 1] -> [3, 2, 2]: y[c][a][b] = x[a][b][c]
    auto x = h.input("x", DType::kInt16, {2, 2, 3}, Quantization::per_tensor(0.01f, 0));
    auto y = h.output("y", DType::kInt16, {3, 2, 2}, Quantization::per_tensor(0.01f, 0));
    h.op(OpKind::kTranspose, {x}, {y}, perm({2, 0, 1}));
    REQUIRE(h.prepare().ok());
    // x[a][b][c] = 100a + 10b + c
    h.set<int16_t>(x, {0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112});
    h.run();
    CHECK(h.get<int16_t>(y) == std::vector<int16_t>{0, 10, 100, 110, 1, 11, 101, 111, 2, 12, 102, 112});
  }
  {
    OpHarness h;  // rank 6: [2, 1, 1, 1, 1, 3] with the first and last dims swapped is a 2x3 transpose
    auto x = h.input("x", DType::kInt64, {2, 1, 1, 1, 1, 3});
    auto y = h.output("y", DType::kInt64, {3, 1, 1, 1, 1, 2});
    h.op(OpKind::kTranspose, {x}, {y}, perm({5, 1, 2, 3, 4, 0}));
    REQUIRE(h.prepare().ok());
    h.set<int64_t>(x, {0, 1, 2, int64_t{1} << 40, -5, 7});
    h.run();
    CHECK(h.get<int64_t>(y) == std::vector<int64_t>{0, int64_t{1} << 40, 1, -5, 2, 7});
  }
}

TEST_CASE("data: Transpose errors") {
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3});
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kTranspose, {x}, {y}, perm({0, 0}));
    check_error(h.prepare(), {"input 0 'x' [2, 3]", "perm[1] = 0 repeats"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {1, 1, 1, 1, 1, 1, 2});
    auto y = h.output("y", DType::kFloat32, {1, 1, 1, 1, 1, 1, 2});
    h.op(OpKind::kTranspose, {x}, {y}, perm({0, 1, 2, 3, 4, 5, 6}));
    check_error(h.prepare(), {"input 0 'x'", "rank 7 is outside [0, 6]"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3});
    auto y = h.output("y", DType::kFloat32, {2, 3});
    h.op(OpKind::kTranspose, {x}, {y}, perm({1, 0}));
    check_error(h.prepare(), {"output 0 'y' has shape [2, 3]; expected [3, 2]"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt4, {2, 2});
    auto y = h.output("y", DType::kInt4, {2, 2});
    h.op(OpKind::kTranspose, {x}, {y}, perm({1, 0}));
    const ptq::Status s = h.prepare();
    check_error(s, {"input 0 'x' is int4"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
}

// ---- Concatenation -------------------------------------------------------------------------------

TEST_CASE("data: float Concatenation along a negative axis with every fused activation") {
  // [1, 2, 2] and [1, 1, 2] along axis -2 (= 1) -> [1, 3, 2].
  const std::vector<float> a = {-7.0f, 0.5f, 2.0f, 9.0f}, b = {-0.5f, 3.0f};
  struct Case {
    ptq::FusedActivation act;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {ptq::FusedActivation::kNone, {-7.0f, 0.5f, 2.0f, 9.0f, -0.5f, 3.0f}},
      {ptq::FusedActivation::kRelu, {0.0f, 0.5f, 2.0f, 9.0f, 0.0f, 3.0f}},
      {ptq::FusedActivation::kRelu6, {0.0f, 0.5f, 2.0f, 6.0f, 0.0f, 3.0f}},
      {ptq::FusedActivation::kReluN1To1, {-1.0f, 0.5f, 1.0f, 1.0f, -0.5f, 1.0f}},
  };
  for (const Case& c : cases) {
    CAPTURE(ptq::fused_activation_name(c.act));
    OpHarness h;
    auto x0 = h.input("a", DType::kFloat32, {1, 2, 2});
    auto x1 = h.input("b", DType::kFloat32, {1, 1, 2});
    auto y = h.output("y", DType::kFloat32, {1, 3, 2});
    h.op(OpKind::kConcatenation, {x0, x1}, {y}, axis(-2, c.act));
    REQUIRE(h.prepare().ok());
    h.set<float>(x0, a);
    h.set<float>(x1, b);
    h.run();
    CHECK(h.get<float>(y) == c.expected);
  }
}

TEST_CASE("data: int8 Concatenation of inputs with different parameters, with a constant input") {
  // As the reference test: output scale 1, zp 0, axis -1.
  //   a (scale 1, zp 0) copied; b (scale 0.5, zp 10): q * 0.5 - 5 rounded away from zero on ties;
  //   c (constant, scale 4, zp 0): 100 -> 400 -> 127, -100 -> -128.
  OpHarness h;
  auto a = h.input("a", DType::kInt8, {2, 2}, Quantization::per_tensor(1.0f, 0));
  auto b = h.input("b", DType::kInt8, {2, 3}, Quantization::per_tensor(0.5f, 10));
  auto c = h.constant<int8_t>("c", DType::kInt8, {2, 1}, {100, -100}, Quantization::per_tensor(4.0f, 0));
  auto y = h.output("y", DType::kInt8, {2, 6}, Quantization::per_tensor(1.0f, 0));
  h.op(OpKind::kConcatenation, {a, b, c}, {y}, axis(-1));
  REQUIRE(h.prepare().ok());
  h.set<int8_t>(a, {5, -7, 127, -128});
  h.set<int8_t>(b, {20, 11, 9, -128, 127, 10});
  h.run();
  CHECK(h.get<int8_t>(y) == std::vector<int8_t>{5, -7, 5, 1, -1, 127, 127, -128, -69, 59, 0, -128});
}

TEST_CASE("data: quantized Concatenation with equal parameters is a copy, clamped by the activation") {
  {
    OpHarness h;  // uint8, extreme zero point 255, no activation: bytes pass through
    const Quantization q = Quantization::per_tensor(0.3f, 255);
    auto a = h.input("a", DType::kUInt8, {1, 2}, q);
    auto b = h.input("b", DType::kUInt8, {2, 2}, q);
    auto y = h.output("y", DType::kUInt8, {3, 2}, q);
    h.op(OpKind::kConcatenation, {a, b}, {y}, axis(0));
    REQUIRE(h.prepare().ok());
    h.set<uint8_t>(a, {0, 255});
    h.set<uint8_t>(b, {1, 2, 254, 128});
    h.run();
    CHECK(h.get<uint8_t>(y) == std::vector<uint8_t>{0, 255, 1, 2, 254, 128});
  }
  {
    OpHarness h;  // int8 scale 0.1, zp -128, ReLU6: clamp [-128, -128 + round(6 / 0.1)] = [-128, -68]
    const Quantization q = Quantization::per_tensor(0.1f, -128);
    auto a = h.input("a", DType::kInt8, {4}, q);
    auto y = h.output("y", DType::kInt8, {4}, q);
    h.op(OpKind::kConcatenation, {a}, {y}, axis(0, ptq::FusedActivation::kRelu6));
    REQUIRE(h.prepare().ok());
    h.set<int8_t>(a, {-128, 0, -68, -67});
    h.run();
    CHECK(h.get<int8_t>(y) == std::vector<int8_t>{-128, -68, -68, -68});
  }
  {
    OpHarness h;  // int16, zero points 0: 10000 at scale 3 -> 30000 at scale 1
    auto a = h.input("a", DType::kInt16, {1}, Quantization::per_tensor(1.0f, 0));
    auto b = h.input("b", DType::kInt16, {2}, Quantization::per_tensor(3.0f, 0));
    auto y = h.output("y", DType::kInt16, {3}, Quantization::per_tensor(1.0f, 0));
    h.op(OpKind::kConcatenation, {a, b}, {y}, axis(0));
    REQUIRE(h.prepare().ok());
    h.set<int16_t>(a, {-32768});
    h.set<int16_t>(b, {10000, -20000});
    h.run();
    CHECK(h.get<int16_t>(y) == std::vector<int16_t>{-32768, 30000, -32768});
  }
}

TEST_CASE("data: int8 Concatenation clamps to every fused activation's range") {
  // Output scale 0.05, zp 0: q(0) = 0, q(6) = 120, q(-1) = -20, q(1) = 20. Input a shares the
  // output's parameters (copied, then clamped); input b (scale 0.1) is rescaled by 2, then clamped.
  const std::vector<int8_t> a = {-128, -21, -20, 0, 20, 21, 120, 121, 127}, b = {-11, 11, 61};
  struct Case {
    ptq::FusedActivation act;
    std::vector<int8_t> expected;
  };
  const std::vector<Case> cases = {
      {ptq::FusedActivation::kNone, {-128, -21, -20, 0, 20, 21, 120, 121, 127, -22, 22, 122}},
      {ptq::FusedActivation::kRelu, {0, 0, 0, 0, 20, 21, 120, 121, 127, 0, 22, 122}},
      {ptq::FusedActivation::kRelu6, {0, 0, 0, 0, 20, 21, 120, 120, 120, 0, 22, 120}},
      {ptq::FusedActivation::kReluN1To1, {-20, -20, -20, 0, 20, 20, 20, 20, 20, -20, 20, 20}},
  };
  for (const Case& c : cases) {
    CAPTURE(ptq::fused_activation_name(c.act));
    OpHarness h;
    auto x0 = h.input("a", DType::kInt8, {9}, Quantization::per_tensor(0.05f, 0));
    auto x1 = h.input("b", DType::kInt8, {3}, Quantization::per_tensor(0.1f, 0));
    auto y = h.output("y", DType::kInt8, {12}, Quantization::per_tensor(0.05f, 0));
    h.op(OpKind::kConcatenation, {x0, x1}, {y}, axis(-1, c.act));
    REQUIRE(h.prepare().ok());
    h.set<int8_t>(x0, a);
    h.set<int8_t>(x1, b);
    h.run();
    CHECK(h.get<int8_t>(y) == c.expected);
  }
}

TEST_CASE("data: Concatenation of unquantized int32 copies, without activation") {
  OpHarness h;
  auto a = h.input("a", DType::kInt32, {2, 1});
  auto b = h.input("b", DType::kInt32, {2, 2});
  auto y = h.output("y", DType::kInt32, {2, 3});
  h.op(OpKind::kConcatenation, {a, b}, {y}, axis(1));
  REQUIRE(h.prepare().ok());
  h.set<int32_t>(a, {std::numeric_limits<int32_t>::min(), 4});
  h.set<int32_t>(b, {1, 2, 5, std::numeric_limits<int32_t>::max()});
  h.run();
  CHECK(h.get<int32_t>(y) ==
        std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 1, 2, 4, 5, std::numeric_limits<int32_t>::max()});

  OpHarness act;
  auto c = act.input("a", DType::kInt32, {2});
  auto z = act.output("y", DType::kInt32, {2});
  act.op(OpKind::kConcatenation, {c}, {z}, axis(0, ptq::FusedActivation::kRelu));
  const ptq::Status s = act.prepare();
  check_error(s, {"fused activation relu on int32"});
  CHECK(s.code() == ptq::StatusCode::kUnimplemented);
}

TEST_CASE("data: Concatenation errors name the input") {
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2, 3});
    auto b = h.input("b", DType::kFloat32, {3, 3});
    auto y = h.output("y", DType::kFloat32, {2, 6});
    h.op(OpKind::kConcatenation, {a, b}, {y}, axis(1));
    check_error(h.prepare(), {"(Concatenation)", "input 1 [3, 3] differs from input 0 [2, 3] in dim 0"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    auto b = h.input("b", DType::kInt8, {2});
    auto y = h.output("y", DType::kInt8, {4}, Quantization::per_tensor(1.0f, 0));
    h.op(OpKind::kConcatenation, {a, b}, {y}, axis(0));
    check_error(h.prepare(), {"input 1 'b' is int8 without quantization parameters"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    auto y = h.output("y", DType::kInt8, {2}, Quantization::per_tensor(0.0f, 0));
    h.op(OpKind::kConcatenation, {a}, {y}, axis(0));
    check_error(h.prepare(), {"output 0 'y': scale 0.000000 is not positive"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt8, {2}, Quantization::along(0, {1.0f, 2.0f}));
    auto y = h.output("y", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    h.op(OpKind::kConcatenation, {a}, {y}, axis(0));
    const ptq::Status s = h.prepare();
    check_error(s, {"input 0 'a' is quantized per axis 0", "expected per tensor"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2});
    auto b = h.input("b", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    auto y = h.output("y", DType::kFloat32, {4});
    h.op(OpKind::kConcatenation, {a, b}, {y}, axis(0));
    check_error(h.prepare(), {"input 1 'b' is int8"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2, 2});
    auto y = h.output("y", DType::kFloat32, {2, 2});
    h.op(OpKind::kConcatenation, {a}, {y}, axis(2));
    check_error(h.prepare(), {"axis 2 is outside [-2, 1]"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2});
    auto b = h.input("b", DType::kFloat32, {2}, Quantization::per_tensor(1.0f, 0));
    auto y = h.output("y", DType::kFloat32, {4});
    h.op(OpKind::kConcatenation, {a, b}, {y}, axis(0));
    check_error(h.prepare(), {"input 1 'b' is float32 with quantization parameters"});
  }
}

// ---- Pad -----------------------------------------------------------------------------------------

TEST_CASE("data: Pad fills with the zero point at its extremes, and with +0.0 for floats") {
  for (int zp : {-128, 127}) {
    CAPTURE(zp);
    OpHarness h;
    const Quantization q = Quantization::per_tensor(0.05f, zp);
    auto x = h.input("x", DType::kInt8, {1, 2}, q);
    auto y = h.output("y", DType::kInt8, {2, 4}, q);
    h.op(OpKind::kPad, {x}, {y}, paddings({0, 1, 1, 1}));
    REQUIRE(h.prepare().ok());
    h.set<int8_t>(x, {-128, 127});
    h.run();
    const auto z = static_cast<int8_t>(zp);
    CHECK(h.get<int8_t>(y) == std::vector<int8_t>{z, -128, 127, z, z, z, z, z});
  }
  for (int zp : {0, 255}) {
    CAPTURE(zp);
    OpHarness h;
    const Quantization q = Quantization::per_tensor(0.05f, zp);
    auto x = h.input("x", DType::kUInt8, {2}, q);
    auto y = h.output("y", DType::kUInt8, {5}, q);
    h.op(OpKind::kPad, {x}, {y}, paddings({2, 1}));
    REQUIRE(h.prepare().ok());
    h.set<uint8_t>(x, {7, 200});
    h.run();
    const auto z = static_cast<uint8_t>(zp);
    CHECK(h.get<uint8_t>(y) == std::vector<uint8_t>{z, z, 7, 200, z});
  }
  {
    OpHarness h;  // image-style NHWC pad of a float: [1, 2, 2, 1] -> [1, 3, 4, 1]
    auto x = h.input("x", DType::kFloat32, {1, 2, 2, 1});
    auto y = h.output("y", DType::kFloat32, {1, 3, 4, 1});
    h.op(OpKind::kPad, {x}, {y}, paddings({0, 0, 1, 0, 1, 1, 0, 0}));
    REQUIRE(h.prepare().ok());
    h.set<float>(x, {1.0f, -2.0f, 3.0f, -4.0f});
    h.run();
    const std::vector<float> got = h.get<float>(y);
    CHECK(got == std::vector<float>{0, 0, 0, 0, 0, 1, -2, 0, 0, 3, -4, 0});
    CHECK_FALSE(std::signbit(got[0]));
  }
  {
    OpHarness h;  // float16: zero bits; int16 quantized: its zero point (0, as TFLite's int16)
    auto x = h.input("x", DType::kFloat16, {1});
    auto y = h.output("y", DType::kFloat16, {3});
    h.op(OpKind::kPad, {x}, {y}, paddings({1, 1}));
    REQUIRE(h.prepare().ok());
    h.set<uint16_t>(x, {0xBC00});
    h.run();
    CHECK(h.get<uint16_t>(y) == std::vector<uint16_t>{0, 0xBC00, 0});
  }
}

TEST_CASE("data: Pad errors") {
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 2});
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kPad, {x}, {y}, paddings({1, 0}));
    check_error(h.prepare(), {"(Pad)", "input 0 'x' [2, 2]", "paddings has 2 entries; expected 2 * rank = 4"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 2});
    auto y = h.output("y", DType::kFloat32, {1, 2});
    h.op(OpKind::kPad, {x}, {y}, paddings({-1, 0, 0, 0}));
    check_error(h.prepare(), {"before[0] = -1 is negative"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt8, {2}, Quantization::per_tensor(0.5f, 1));
    auto y = h.output("y", DType::kInt8, {3}, Quantization::per_tensor(0.5f, 2));
    h.op(OpKind::kPad, {x}, {y}, paddings({1, 0}));
    check_error(h.prepare(), {"output 0 'y' is quantized with scale 0.500000, zero point 2", "input 0 'x'"});
  }
  {
    OpHarness h;
    const Quantization q = Quantization::along(0, {0.5f, 0.25f});
    auto x = h.input("x", DType::kInt8, {2, 1}, q);
    auto y = h.output("y", DType::kInt8, {2, 2}, q);
    h.op(OpKind::kPad, {x}, {y}, paddings({0, 0, 0, 1}));
    const ptq::Status s = h.prepare();
    check_error(s, {"output 0 'y' is quantized per axis 0", "one zero point"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2});
    auto y = h.output("y", DType::kFloat32, {4});
    h.op(OpKind::kPad, {x}, {y}, paddings({1, 0}));
    check_error(h.prepare(), {"output 0 'y' has shape [4]; expected [3]"});
  }
}

// ---- EmbeddingLookup -----------------------------------------------------------------------------

TEST_CASE("data: EmbeddingLookup gathers float and int8 rows, ids of any shape") {
  {
    OpHarness h;  // table [3, 2], ids [2, 2] -> [2, 2, 2]
    auto ids = h.input("ids", DType::kInt32, {2, 2});
    auto table = h.constant<float>("table", DType::kFloat32, {3, 2}, {0.5f, -1.0f, 2.0f, 3.0f, -4.5f, 6.0f});
    auto y = h.output("y", DType::kFloat32, {2, 2, 2});
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    REQUIRE(h.prepare().ok());
    h.set<int32_t>(ids, {2, 0, 2, 1});
    h.run();
    CHECK(h.get<float>(y) == std::vector<float>{-4.5f, 6.0f, 0.5f, -1.0f, -4.5f, 6.0f, 2.0f, 3.0f});
  }
  {
    OpHarness h;  // int8 rows with shared parameters; an id outside the table gives zero-point rows
    const Quantization q = Quantization::per_tensor(0.1f, -128);
    auto ids = h.input("ids", DType::kInt32, {4});
    auto table = h.input("table", DType::kInt8, {2, 1, 2}, q);
    auto y = h.output("y", DType::kInt8, {4, 1, 2}, q);
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    REQUIRE(h.prepare().ok());
    h.set<int32_t>(ids, {1, -1, 0, 2});
    h.set<int8_t>(table, {1, 2, 127, -127});
    h.run();
    CHECK(h.get<int8_t>(y) == std::vector<int8_t>{127, -127, -128, -128, 1, 2, -128, -128});
  }
}

TEST_CASE("data: hybrid EmbeddingLookup dequantizes an int8 table with per-row scales") {
  // scales [0.5, 0.25, 2]; ids [1, 2, 0, 3]: row 1 = [3, 4] * 0.25, row 2 = [-128, 127] * 2,
  // row 0 = [1, -2] * 0.5, id 3 is outside the table -> [0, 0].
  OpHarness h;
  auto ids = h.input("ids", DType::kInt32, {4});
  auto table = h.constant<int8_t>("table", DType::kInt8, {3, 2}, {1, -2, 3, 4, -128, 127},
                                  Quantization::along(0, {0.5f, 0.25f, 2.0f}));
  auto y = h.output("y", DType::kFloat32, {4, 2});
  h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
  REQUIRE(h.prepare().ok());
  h.set<int32_t>(ids, {1, 2, 0, 3});
  h.run();
  CHECK(h.get<float>(y) == std::vector<float>{0.75f, 1.0f, -256.0f, 254.0f, 0.5f, -1.0f, 0.0f, 0.0f});

  OpHarness t;  // per-tensor scale
  auto tids = t.input("ids", DType::kInt32, {1});
  auto ttable = t.constant<int8_t>("table", DType::kInt8, {2, 2}, {1, -2, 3, 4}, Quantization::per_tensor(0.1f, 0));
  auto ty = t.output("y", DType::kFloat32, {1, 2});
  t.op(OpKind::kEmbeddingLookup, {tids, ttable}, {ty});
  REQUIRE(t.prepare().ok());
  t.set<int32_t>(tids, {1});
  t.run();
  CHECK(t.get<float>(ty) == std::vector<float>{3.0f * 0.1f, 4.0f * 0.1f});
}

TEST_CASE("data: EmbeddingLookup errors") {
  {
    OpHarness h;
    auto ids = h.constant<int32_t>("ids", DType::kInt32, {3}, {0, 1, 5});
    auto table = h.input("table", DType::kFloat32, {4, 2});
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    check_error(h.prepare(), {"(EmbeddingLookup)", "input 0 'ids'", "ids[2] = 5 is outside [0, 3]"});
  }
  {
    OpHarness h;
    auto ids = h.input("ids", DType::kInt64, {3});
    auto table = h.input("table", DType::kFloat32, {4, 2});
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    check_error(h.prepare(), {"input 0 'ids' (ids) is int64; expected int32"});
  }
  {
    OpHarness h;
    auto ids = h.input("ids", DType::kInt32, {3});
    auto table = h.input("table", DType::kInt8, {4, 2}, Quantization::per_tensor(0.5f, 3));
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    check_error(h.prepare(), {"input 1 'table' has zero point 3", "symmetric"});
  }
  {
    OpHarness h;
    auto ids = h.input("ids", DType::kInt32, {3});
    auto table = h.input("table", DType::kUInt8, {4, 2}, Quantization::per_tensor(0.5f, 3));
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    const ptq::Status s = h.prepare();
    check_error(s, {"input 1 'table' is uint8 and output 0 'y' float32"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
  {
    OpHarness h;
    auto ids = h.input("ids", DType::kInt32, {3});
    auto table = h.input("table", DType::kFloat32, {4, 2});
    auto y = h.output("y", DType::kFloat32, {3, 4});
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    check_error(h.prepare(), {"output 0 'y' has shape [3, 4]; expected [3, 2]"});
  }
  {
    OpHarness h;
    auto ids = h.input("ids", DType::kInt32, {3});
    auto table = h.input("table", DType::kInt8, {4, 2}, Quantization::per_tensor(0.5f, 0));
    auto y = h.output("y", DType::kInt8, {3, 2}, Quantization::per_tensor(0.25f, 0));
    h.op(OpKind::kEmbeddingLookup, {ids, table}, {y});
    check_error(h.prepare(), {"output 0 'y' is quantized with scale 0.250000", "input 1 'table'"});
  }
}

// ---- Quantize ------------------------------------------------------------------------------------

TEST_CASE("data: Quantize float32 to int8, uint8 and int16 on every ISA level, by hand") {
  for (ptq::Isa isa : isas()) {
    CAPTURE(ptq::isa_name(isa));
    {
      // int8, scale 0.5, zp -1: q = clamp(round(x / 0.5) - 1): 0.25 -> round(0.5) = 1 -> 0;
      // -0.25 -> -1 -> -2; 1 -> 1; 0.75 -> round(1.5) = 2 -> 1; +-100 saturate; NaN -> the zero point.
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kFloat32, {7});
      auto y = h.output("y", DType::kInt8, {7}, Quantization::per_tensor(0.5f, -1));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<float>(x, {0.25f, -0.25f, 1.0f, 0.75f, 100.0f, -100.0f, std::nanf("")});
      h.run();
      CHECK(h.get<int8_t>(y) == std::vector<int8_t>{0, -2, 1, 1, 127, -128, -1});
    }
    {
      // uint8 per axis 1 of [2, 3], scales [1, 0.5, 0.25], zero points [0, 128, 255]:
      //   row 0 [1.4, 1.0, -1.0]  -> [1, 2 + 128, -4 + 255] = [1, 130, 251]
      //   row 1 [-2, -64.5, 64]   -> [clamp(-2), clamp(-129 + 128), clamp(256 + 255)] = [0, 0, 255]
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kFloat32, {2, 3});
      auto y = h.output("y", DType::kUInt8, {2, 3}, Quantization::along(1, {1.0f, 0.5f, 0.25f}, {0, 128, 255}));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<float>(x, {1.4f, 1.0f, -1.0f, -2.0f, -64.5f, 64.0f});
      h.run();
      CHECK(h.get<uint8_t>(y) == std::vector<uint8_t>{1, 130, 251, 0, 0, 255});
    }
    {
      // int16 per axis 0 of [2, 2], scales [0.001, 0.5]: [1, 40] -> [1000, 32767 (40000 saturates)];
      // [-3.25, 1.25] -> [-6.5 -> -7, 2.5 -> 3] (ties away from zero).
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kFloat32, {2, 2});
      auto y = h.output("y", DType::kInt16, {2, 2}, Quantization::along(0, {0.001f, 0.5f}));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<float>(x, {1.0f, 40.0f, -3.25f, 1.25f});
      h.run();
      CHECK(h.get<int16_t>(y) == std::vector<int16_t>{1000, 32767, -7, 3});
    }
  }
}

TEST_CASE("data: Quantize requantizes between integer types in both rounding modes") {
  for (ptq::Isa isa : isas()) {
    CAPTURE(ptq::isa_name(isa));
    {
      // int8 zp -5 -> uint8 zp 123, same scale: q + 128 (TFLite's xor-0x80 fast path gives the same).
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kInt8, {3}, Quantization::per_tensor(0.2f, -5));
      auto y = h.output("y", DType::kUInt8, {3}, Quantization::per_tensor(0.2f, 123));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int8_t>(x, {-128, 127, 0});
      h.run();
      CHECK(h.get<uint8_t>(y) == std::vector<uint8_t>{0, 255, 128});
    }
    // int8 scale 0.375 -> int8 scale 1: multiplier 0.375 = {0.75 * 2^31, shift -1}.
    //   x = 6: double rounding: round(6 * 0.75) = round(4.5) = 5, then 5 / 2 = 2.5 -> 3;
    //          single rounding: 6 * 0.375 = 2.25 -> 2.
    //   x = -6: double: round(-4.5) = -4 (ties up), -4 / 2 = -2; single: -2.25 -> -2.
    //   x = 127 -> 47.625 -> 48 both; x = 2 -> 0.75 -> 1 both.
    for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      CAPTURE(ptq::rounding_mode_name(mode));
      OpHarness h;
      h.options.isa = isa;
      h.options.rounding = mode;
      auto x = h.input("x", DType::kInt8, {4}, Quantization::per_tensor(0.375f, 0));
      auto y = h.output("y", DType::kInt8, {4}, Quantization::per_tensor(1.0f, 0));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int8_t>(x, {6, -6, 127, 2});
      h.run();
      const int8_t six = mode == RoundingMode::kDouble ? 3 : 2;
      CHECK(h.get<int8_t>(y) == std::vector<int8_t>{six, -2, 48, 1});
    }
    {
      // int16 per axis 1 (scales [1, 2]) -> int8 per tensor scale 1: [[5, 5], [300, -300]] ->
      // [[5, 10], [127 (300 saturates), -128 (-600 saturates)]].
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kInt16, {2, 2}, Quantization::along(1, {1.0f, 2.0f}));
      auto y = h.output("y", DType::kInt8, {2, 2}, Quantization::per_tensor(1.0f, 0));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int16_t>(x, {5, 5, 300, -300});
      h.run();
      CHECK(h.get<int8_t>(y) == std::vector<int8_t>{5, 10, 127, -128});
    }
    {
      // uint8 zp 0 scale 1 -> int16 zp 0 scale 1/256: q * 256.
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kUInt8, {2}, Quantization::per_tensor(1.0f, 0));
      auto y = h.output("y", DType::kInt16, {2}, Quantization::per_tensor(1.0f / 256.0f, 0));
      h.op(OpKind::kQuantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<uint8_t>(x, {255, 3});
      h.run();
      CHECK(h.get<int16_t>(y) == std::vector<int16_t>{32767, 768});
    }
  }
}

TEST_CASE("data: Quantize errors") {
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2});
    auto y = h.output("y", DType::kInt8, {2});
    h.op(OpKind::kQuantize, {x}, {y});
    check_error(h.prepare(), {"(Quantize)", "output 0 'y' is int8 without quantization parameters"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2});
    auto y = h.output("y", DType::kInt32, {2}, Quantization::per_tensor(1.0f, 0));
    h.op(OpKind::kQuantize, {x}, {y});
    const ptq::Status s = h.prepare();
    check_error(s, {"output 0 'y' is int32"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2, 3});
    auto y = h.output("y", DType::kInt8, {2, 3}, Quantization::along(1, {1.0f, 2.0f}));
    h.op(OpKind::kQuantize, {x}, {y});
    check_error(h.prepare(), {"output 0 'y'", "2 scales and 2 zero points for 3 channels"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    auto y = h.output("y", DType::kInt8, {2}, Quantization::per_tensor(0.0f, 0));
    h.op(OpKind::kQuantize, {x}, {y});
    check_error(h.prepare(), {"output 0 'y': scale 0.000000 is not positive"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    auto y = h.output("y", DType::kInt8, {2}, Quantization::along(0, {1.0f, 2.0f}));
    h.op(OpKind::kQuantize, {x}, {y});
    check_error(h.prepare(), {"output 0 'y' is quantized per axis 0", "expected per tensor"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat16, {2});
    auto y = h.output("y", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    h.op(OpKind::kQuantize, {x}, {y});
    check_error(h.prepare(), {"input 0 'x' is float16"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2});
    auto y = h.output("y", DType::kInt8, {3}, Quantization::per_tensor(1.0f, 0));
    h.op(OpKind::kQuantize, {x}, {y});
    check_error(h.prepare(), {"output 0 'y' has shape [3] but input 0 'x' has [2]"});
  }
}

// ---- Dequantize ----------------------------------------------------------------------------------

TEST_CASE("data: Dequantize int8, uint8, int16, int32 and float16 on every ISA level") {
  for (ptq::Isa isa : isas()) {
    CAPTURE(ptq::isa_name(isa));
    {
      OpHarness h;  // (q + 128) * 0.5
      h.options.isa = isa;
      auto x = h.input("x", DType::kInt8, {3}, Quantization::per_tensor(0.5f, -128));
      auto y = h.output("y", DType::kFloat32, {3});
      h.op(OpKind::kDequantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int8_t>(x, {-128, 127, 0});
      h.run();
      CHECK(h.get<float>(y) == std::vector<float>{0.0f, 127.5f, 64.0f});
    }
    {
      OpHarness h;  // (q - 255) * 1
      h.options.isa = isa;
      auto x = h.input("x", DType::kUInt8, {2}, Quantization::per_tensor(1.0f, 255));
      auto y = h.output("y", DType::kFloat32, {2});
      h.op(OpKind::kDequantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<uint8_t>(x, {255, 0});
      h.run();
      CHECK(h.get<float>(y) == std::vector<float>{0.0f, -255.0f});
    }
    {
      OpHarness h;  // per axis 0, scales [0.5, 2]: [[2, -2], [3, -32768]] -> [[1, -1], [6, -65536]]
      h.options.isa = isa;
      auto x = h.input("x", DType::kInt16, {2, 2}, Quantization::along(0, {0.5f, 2.0f}));
      auto y = h.output("y", DType::kFloat32, {2, 2});
      h.op(OpKind::kDequantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int16_t>(x, {2, -2, 3, -32768});
      h.run();
      CHECK(h.get<float>(y) == std::vector<float>{1.0f, -1.0f, 6.0f, -65536.0f});
    }
    {
      OpHarness h;  // per axis 1 (innermost) of int8 [2, 3], zero points [0, -128, 127]
      h.options.isa = isa;
      auto x = h.input("x", DType::kInt8, {2, 3}, Quantization::along(1, {1.0f, 0.25f, 4.0f}, {0, -128, 127}));
      auto y = h.output("y", DType::kFloat32, {2, 3});
      h.op(OpKind::kDequantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int8_t>(x, {-128, -128, 127, 127, 0, -128});
      h.run();
      CHECK(h.get<float>(y) == std::vector<float>{-128.0f, 0.0f, 0.0f, 127.0f, 32.0f, -1020.0f});
    }
    {
      OpHarness h;
      h.options.isa = isa;
      auto x = h.input("x", DType::kInt32, {2}, Quantization::per_tensor(0.25f, 0));
      auto y = h.output("y", DType::kFloat32, {2});
      h.op(OpKind::kDequantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int32_t>(x, {4, -8});
      h.run();
      CHECK(h.get<float>(y) == std::vector<float>{1.0f, -2.0f});
    }
    {
      OpHarness h;  // binary16 1.0, -2.0, +inf, the largest finite 65504
      h.options.isa = isa;
      auto x = h.input("x", DType::kFloat16, {4});
      auto y = h.output("y", DType::kFloat32, {4});
      h.op(OpKind::kDequantize, {x}, {y});
      REQUIRE(h.prepare().ok());
      h.set<uint16_t>(x, {0x3C00, 0xC000, 0x7C00, 0x7BFF});
      h.run();
      CHECK(h.get<float>(y) == std::vector<float>{1.0f, -2.0f, std::numeric_limits<float>::infinity(), 65504.0f});
    }
  }
}

TEST_CASE("data: Dequantize errors") {
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt8, {2}, Quantization::per_tensor(1.0f, 0));
    auto y = h.output("y", DType::kInt8, {2});
    h.op(OpKind::kDequantize, {x}, {y});
    check_error(h.prepare(), {"(Dequantize)", "output 0 'y' is int8; expected float32"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kInt8, {2});
    auto y = h.output("y", DType::kFloat32, {2});
    h.op(OpKind::kDequantize, {x}, {y});
    check_error(h.prepare(), {"input 0 'x' is int8 without quantization parameters"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kUInt8, {2}, Quantization::per_tensor(1.0f, 256));
    auto y = h.output("y", DType::kFloat32, {2});
    h.op(OpKind::kDequantize, {x}, {y});
    check_error(h.prepare(), {"input 0 'x': zero point 256 is outside [0, 255]"});
  }
  {
    OpHarness h;
    auto x = h.input("x", DType::kFloat32, {2});
    auto y = h.output("y", DType::kFloat32, {2});
    h.op(OpKind::kDequantize, {x}, {y});
    const ptq::Status s = h.prepare();
    check_error(s, {"input 0 'x' is float32"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
}

// ---- BatchMatMul ---------------------------------------------------------------------------------

TEST_CASE("data: float BatchMatMul broadcasts a shared rhs, by hand") {
  // lhs [2, 1, 2] (two 1x2 matrices), rhs [2, 1] shared: [1 2] . [3 4]^T = 11, [5 6] . [3 4]^T = 39.
  OpHarness h;
  auto a = h.input("a", DType::kFloat32, {2, 1, 2});
  auto b = h.constant<float>("b", DType::kFloat32, {2, 1}, {3.0f, 4.0f});
  auto y = h.output("y", DType::kFloat32, {2, 1, 1});
  h.op(OpKind::kBatchMatMul, {a, b}, {y});
  REQUIRE(h.prepare().ok());
  h.set<float>(a, {1.0f, 2.0f, 5.0f, 6.0f});
  h.run();
  CHECK(h.get<float>(y) == std::vector<float>{11.0f, 39.0f});

  OpHarness t;  // adj_x and adj_y: lhs [2, 1] read as [1, 2], rhs [1, 2] read as [2, 1]
  Attributes attrs;
  attrs.adj_x = true;
  attrs.adj_y = true;
  auto ta = t.input("a", DType::kFloat32, {2, 1});
  auto tb = t.input("b", DType::kFloat32, {1, 2});
  auto ty = t.output("y", DType::kFloat32, {1, 1});
  t.op(OpKind::kBatchMatMul, {ta, tb}, {ty}, attrs);
  REQUIRE(t.prepare().ok());
  t.set<float>(ta, {1.0f, 2.0f});
  t.set<float>(tb, {3.0f, 4.0f});
  t.run();
  CHECK(t.get<float>(ty) == std::vector<float>{11.0f});
}

TEST_CASE("data: int8 BatchMatMul [2,1,3,4] x [5,4,2] -> [2,5,3,2] against an int64 loop") {
  std::mt19937 rng(29);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> lhs(2 * 3 * 4), rhs(5 * 4 * 2);
  for (auto& v : lhs) v = static_cast<int8_t>(dist(rng));
  for (auto& v : rhs) v = static_cast<int8_t>(dist(rng));
  const float s_lhs = 0.05f, s_rhs = 0.02f, s_out = 0.5f;
  // Zero points at the extremes, chosen so that |acc| * 0.002 stays mostly inside int8 around out_zp.
  struct ZeroPoints {
    int32_t lhs, rhs, out;
  };
  for (const ZeroPoints zps : {ZeroPoints{-128, -64, -128}, ZeroPoints{127, 63, -128}, ZeroPoints{-128, 64, 127},
                               ZeroPoints{0, 0, 5}}) {
    for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      CAPTURE(zps.lhs);
      CAPTURE(zps.rhs);
      CAPTURE(zps.out);
      CAPTURE(ptq::rounding_mode_name(mode));
      const int32_t lhs_zp = zps.lhs, rhs_zp = zps.rhs, out_zp = zps.out;
      OpHarness h;
      h.options.rounding = mode;
      auto a = h.input("a", DType::kInt8, {2, 1, 3, 4}, Quantization::per_tensor(s_lhs, lhs_zp));
      auto b = h.constant<int8_t>("b", DType::kInt8, {5, 4, 2}, rhs, Quantization::per_tensor(s_rhs, rhs_zp));
      auto y = h.output("y", DType::kInt8, {2, 5, 3, 2}, Quantization::per_tensor(s_out, out_zp));
      h.op(OpKind::kBatchMatMul, {a, b}, {y});
      REQUIRE(h.prepare().ok());
      h.set<int8_t>(a, lhs);
      h.run();
      const std::vector<int8_t> got = h.get<int8_t>(y);
      // TFLite's multiplier: double(float(s_lhs * s_rhs)) / double(s_out).
      const float product = s_lhs * s_rhs;
      const ptq::QuantizedMultiplier m =
          ptq::quantize_multiplier(static_cast<double>(product) / static_cast<double>(s_out), mode);
      int not_zp = 0;
      for (int b0 = 0; b0 < 2; ++b0) {
        for (int b1 = 0; b1 < 5; ++b1) {
          for (int i = 0; i < 3; ++i) {
            for (int j = 0; j < 2; ++j) {
              int64_t acc = 0;
              for (int k = 0; k < 4; ++k) {
                acc += (int64_t{lhs[static_cast<std::size_t>((b0 * 3 + i) * 4 + k)]} - lhs_zp) *
                       (int64_t{rhs[static_cast<std::size_t>((b1 * 4 + k) * 2 + j)]} - rhs_zp);
              }
              int64_t e = int64_t{ptq::multiply_by_quantized_multiplier(static_cast<int32_t>(acc), m, mode)} + out_zp;
              e = e < -128 ? -128 : (e > 127 ? 127 : e);
              CHECK(got[static_cast<std::size_t>(((b0 * 5 + b1) * 3 + i) * 2 + j)] == e);
              not_zp += e != out_zp;
            }
          }
        }
      }
      CHECK(not_zp > 30);
    }
  }
}

TEST_CASE("data: BatchMatMul errors") {
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2, 4});
    auto b = h.input("b", DType::kInt8, {4, 3}, Quantization::per_tensor(0.1f, 0));
    auto y = h.output("y", DType::kFloat32, {2, 3});
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    const ptq::Status s = h.prepare();
    check_error(s, {"(BatchMatMul)", "hybrid BatchMatMul", "input 1 'b'"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt8, {2, 4}, Quantization::per_tensor(0.1f, 0));
    auto b = h.input("b", DType::kInt8, {4, 3}, Quantization::along(1, {0.1f, 0.2f, 0.3f}));
    auto y = h.output("y", DType::kInt8, {2, 3}, Quantization::per_tensor(0.1f, 0));
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    check_error(h.prepare(), {"input 1 'b' is quantized per axis 1", "expected per tensor"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt8, {2, 4}, Quantization::per_tensor(0.1f, 0));
    auto b = h.input("b", DType::kInt8, {4, 3}, Quantization::per_tensor(0.1f, 0));
    auto y = h.output("y", DType::kInt8, {2, 3}, Quantization::per_tensor(0.0f, 0));
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    check_error(h.prepare(), {"output 0 'y': scale 0.000000 is not positive"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2, 4});
    auto b = h.input("b", DType::kFloat32, {4, 3});
    auto y = h.output("y", DType::kFloat32, {3, 2});
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    check_error(h.prepare(), {"output 0 'y' has shape [3, 2]; expected [2, 3]"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kFloat32, {2, 4});
    auto b = h.input("b", DType::kFloat32, {5, 3});
    auto y = h.output("y", DType::kFloat32, {2, 3});
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    check_error(h.prepare(), {"lhs [2, 4] has depth 4 but rhs [5, 3] has depth 5"});
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt16, {2, 4}, Quantization::per_tensor(0.1f, 0));
    auto b = h.input("b", DType::kInt16, {4, 3}, Quantization::per_tensor(0.1f, 0));
    auto y = h.output("y", DType::kInt16, {2, 3}, Quantization::per_tensor(0.1f, 0));
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    const ptq::Status s = h.prepare();
    check_error(s, {"input 0 'a' is int16"});
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
  }
  {
    OpHarness h;
    auto a = h.input("a", DType::kInt8, {2, 4}, Quantization::per_tensor(0.1f, 0));
    auto b = h.input("b", DType::kInt8, {4, 3}, Quantization::per_tensor(0.1f, 0));
    auto y = h.output("y", DType::kInt32, {2, 3});
    h.op(OpKind::kBatchMatMul, {a, b}, {y});
    check_error(h.prepare(), {"output 0 'y' is int32 for int8 operands"});
  }
}

}  // TEST_SUITE
