// runtime/ops/pool.hpp: AveragePool2D, MaxPool2D and Mean through the op registry (OpHarness): float32
// and int8 results (hand-worked and TFLite golden values), attributes, rounding modes, and the prepare
// errors naming their tensor or attribute.
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

ptq::ir::Attributes pool_attrs(int fh, int fw, int sh, int sw, ptq::Padding padding,
                               ptq::FusedActivation act = ptq::FusedActivation::kNone) {
  ptq::ir::Attributes a;
  a.filter_h = fh;
  a.filter_w = fw;
  a.stride_h = sh;
  a.stride_w = sw;
  a.padding = padding;
  a.activation = act;
  return a;
}

ptq::ir::Attributes mean_attrs(std::vector<int32_t> axes, bool keep_dims) {
  ptq::ir::Attributes a;
  a.axes = std::move(axes);
  a.keep_dims = keep_dims;
  return a;
}

struct OneOp {
  ptq_test::OpHarness h;
  ptq::ir::TensorId x = 0, y = 0;
  OneOp(OpKind kind, DType dtype, ptq::Shape in, ptq::Shape out, ptq::ir::Attributes attrs, Quantization qx = {},
        Quantization qy = {}, DType out_dtype = DType::kFloat32) {
    x = h.input("x", dtype, std::move(in), std::move(qx));
    y = h.output("y", dtype == DType::kFloat32 ? out_dtype : dtype, std::move(out), std::move(qy));
    h.op(kind, {x}, {y}, std::move(attrs));
  }
};

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("pool: float32 AveragePool2D and MaxPool2D through the registry, SAME and VALID") {
  // 1x3x3x1 = 1..9, 2x2 window, stride 2, SAME: output 2x2; windows (with only in-image taps)
  // {1,2,4,5}, {3,6}, {7,8}, {9}.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  OneOp avg(OpKind::kAveragePool2D, DType::kFloat32, {1, 3, 3, 1}, {1, 2, 2, 1}, pool_attrs(2, 2, 2, 2, ptq::Padding::kSame));
  REQUIRE(avg.h.prepare().ok());
  avg.h.set<float>(avg.x, x);
  avg.h.run();
  CHECK(avg.h.get<float>(avg.y) == std::vector<float>{3.0f, 4.5f, 7.5f, 9.0f});
  OneOp mx(OpKind::kMaxPool2D, DType::kFloat32, {1, 3, 3, 1}, {1, 1, 1, 1},
           pool_attrs(2, 2, 2, 2, ptq::Padding::kValid, ptq::FusedActivation::kRelu6));
  REQUIRE(mx.h.prepare().ok());
  mx.h.set<float>(mx.x, x);
  mx.h.run();
  CHECK(mx.h.get<float>(mx.y) == std::vector<float>{5.0f});  // max {1,2,4,5} = 5, within relu6
  OneOp mx6(OpKind::kMaxPool2D, DType::kFloat32, {1, 3, 3, 1}, {1, 2, 2, 1},
            pool_attrs(2, 2, 2, 2, ptq::Padding::kSame, ptq::FusedActivation::kRelu6));
  REQUIRE(mx6.h.prepare().ok());
  mx6.h.set<float>(mx6.x, x);
  mx6.h.run();
  CHECK(mx6.h.get<float>(mx6.y) == std::vector<float>{5.0f, 6.0f, 6.0f, 6.0f});  // {5, 6, 8, 9} capped at 6
}

TEST_CASE("pool: int8 AveragePool2D matches TFLite (golden) and MaxPool2D keeps the input's parameters") {
  // TFLite golden: AVERAGE_POOL_2D 3x3, stride 2, SAME, fused RELU6, scale 0.06664515286684036, zp -8.
  const Quantization q = Quantization::per_tensor(0.06664515286684036f, -8);
  OneOp avg(OpKind::kAveragePool2D, DType::kInt8, {1, 5, 5, 2}, {1, 3, 3, 2},
            pool_attrs(3, 3, 2, 2, ptq::Padding::kSame, ptq::FusedActivation::kRelu6), q, q);
  REQUIRE(avg.h.prepare().ok());
  avg.h.set<int8_t>(avg.x, {43,  -16, -42,  -39, 16,  -115, 88,  44,  -60, -33, -14, 52,  91,
                            2,   39,  24,   -107, -65, -41, -115, -106, -60, -29, 52,  52,  -19,
                            -124, -96, 18,  -82, 86,  -96, 106, -51, 0,   -58, 52,  63,  -61,
                            21,  111, -83, -2,  42,  116, -15, 99,  33,  111, -59});
  avg.h.run();
  CHECK(avg.h.get<int8_t>(avg.y) == std::vector<int8_t>{20, 0, 14, -8, -8, -8, 22, -8, 9, -8, -8, -8, 75, -8, 62, 2, 50, 15});

  // Max pool with zero point 127 and ReLU: every output is pinned to 127 (q(0) = 127).
  const Quantization top = Quantization::per_tensor(0.5f, 127);
  OneOp relu(OpKind::kMaxPool2D, DType::kInt8, {1, 2, 2, 1}, {1, 1, 1, 1},
             pool_attrs(2, 2, 1, 1, ptq::Padding::kValid, ptq::FusedActivation::kRelu), top, top);
  REQUIRE(relu.h.prepare().ok());
  relu.h.set<int8_t>(relu.x, {-128, -5, 3, 100});
  relu.h.run();
  CHECK(relu.h.get<int8_t>(relu.y) == std::vector<int8_t>{127});
  // Zero point -128 and ReluN1To1 at scale 0.5: clamp [-128, -126].
  const Quantization bottom = Quantization::per_tensor(0.5f, -128);
  OneOp n1(OpKind::kMaxPool2D, DType::kInt8, {1, 1, 3, 1}, {1, 1, 3, 1},
           pool_attrs(1, 1, 1, 1, ptq::Padding::kSame, ptq::FusedActivation::kReluN1To1), bottom, bottom);
  REQUIRE(n1.h.prepare().ok());
  n1.h.set<int8_t>(n1.x, {-128, -127, 50});
  n1.h.run();
  CHECK(n1.h.get<int8_t>(n1.y) == std::vector<int8_t>{-128, -127, -126});
}

TEST_CASE("pool: pooling prepare errors name the tensor or attribute") {
  // int8 with different input and output parameters.
  OneOp diff(OpKind::kAveragePool2D, DType::kInt8, {1, 2, 2, 1}, {1, 1, 1, 1}, pool_attrs(2, 2, 1, 1, ptq::Padding::kValid),
             Quantization::per_tensor(0.5f, 0), Quantization::per_tensor(0.25f, 0));
  ptq::Status s = diff.h.prepare();
  CHECK(mentions(s, "output 0 'y'"));
  CHECK(mentions(s, "requires the input's parameters"));
  OneOp zp(OpKind::kMaxPool2D, DType::kInt8, {1, 2, 2, 1}, {1, 1, 1, 1}, pool_attrs(2, 2, 1, 1, ptq::Padding::kValid),
           Quantization::per_tensor(0.5f, 0), Quantization::per_tensor(0.5f, 1));
  CHECK(mentions(zp.h.prepare(), "zero point 1"));
  // Rank, output shape, window attributes, dtypes, quantization.
  OneOp rank(OpKind::kMaxPool2D, DType::kFloat32, {2, 2, 1}, {1, 1, 1}, pool_attrs(1, 1, 1, 1, ptq::Padding::kValid));
  CHECK(mentions(rank.h.prepare(), "expected rank 4"));
  OneOp shape(OpKind::kAveragePool2D, DType::kFloat32, {1, 4, 4, 2}, {1, 2, 2, 2}, pool_attrs(2, 2, 1, 1, ptq::Padding::kValid));
  s = shape.h.prepare();
  CHECK(mentions(s, "output 0 'y' has shape [1, 2, 2, 2]; the window gives [1, 3, 3, 2]"));
  CHECK(mentions(s, "'under_test' (AveragePool2D)"));
  OneOp stride(OpKind::kAveragePool2D, DType::kFloat32, {1, 4, 4, 2}, {1, 2, 2, 2}, pool_attrs(2, 2, 0, 1, ptq::Padding::kValid));
  CHECK(mentions(stride.h.prepare(), "stride 0x1"));
  OneOp u8(OpKind::kMaxPool2D, DType::kUInt8, {1, 2, 2, 1}, {1, 1, 1, 1}, pool_attrs(2, 2, 1, 1, ptq::Padding::kValid),
           Quantization::per_tensor(0.5f, 0), Quantization::per_tensor(0.5f, 0));
  CHECK(u8.h.prepare().code() == ptq::StatusCode::kUnimplemented);
  OneOp mixed(OpKind::kMaxPool2D, DType::kFloat32, {1, 2, 2, 1}, {1, 1, 1, 1}, pool_attrs(2, 2, 1, 1, ptq::Padding::kValid),
              {}, {}, DType::kInt8);
  CHECK(mentions(mixed.h.prepare(), "output 0 'y' is int8 but input 0 'x' is float32; expected the same dtype"));
  OneOp noq(OpKind::kAveragePool2D, DType::kInt8, {1, 2, 2, 1}, {1, 1, 1, 1}, pool_attrs(2, 2, 1, 1, ptq::Padding::kValid),
            Quantization::per_tensor(0.5f, 0), {});
  CHECK(mentions(noq.h.prepare(), "output 0 'y' is int8 and needs per-tensor quantization (one scale and zero point); it has none"));
}

TEST_CASE("pool: float32 Mean through the registry, keep_dims and negative axes") {
  // x [2, 3] = {1, 2, 3, 4, 5, 6}.
  OneOp keep(OpKind::kMean, DType::kFloat32, {2, 3}, {2, 1}, mean_attrs({-1}, true));
  REQUIRE(keep.h.prepare().ok());
  keep.h.set<float>(keep.x, {1, 2, 3, 4, 5, 6});
  keep.h.run();
  CHECK(keep.h.get<float>(keep.y) == std::vector<float>{2.0f, 5.0f});
  OneOp drop(OpKind::kMean, DType::kFloat32, {2, 3}, {3}, mean_attrs({0, 0}, false));
  REQUIRE(drop.h.prepare().ok());
  drop.h.set<float>(drop.x, {1, 2, 3, 4, 5, 6});
  drop.h.run();
  CHECK(drop.h.get<float>(drop.y) == std::vector<float>{2.5f, 3.5f, 4.5f});
  // Global average pooling as Mean over {1, 2} of NHWC.
  OneOp gap(OpKind::kMean, DType::kFloat32, {1, 2, 2, 2}, {1, 1, 1, 2}, mean_attrs({1, 2}, true));
  REQUIRE(gap.h.prepare().ok());
  gap.h.set<float>(gap.x, {1, -1, 2, -2, 3, -3, 4, -4});
  gap.h.run();
  CHECK(gap.h.get<float>(gap.y) == std::vector<float>{2.5f, -2.5f});
}

TEST_CASE("pool: int8 Mean through the registry matches TFLite (golden), both rounding modes") {
  // TFLite golden: MEAN {1, 2}, keep_dims, (0.031333137303590775, -33) -> (0.01527860015630722, -84).
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    OneOp m(OpKind::kMean, DType::kInt8, {1, 3, 4, 2}, {1, 1, 1, 2}, mean_attrs({1, 2}, true),
            Quantization::per_tensor(0.031333137303590775f, -33), Quantization::per_tensor(0.01527860015630722f, -84));
    m.h.options.rounding = mode;
    REQUIRE(m.h.prepare().ok());
    m.h.set<int8_t>(m.x, {15, -74, 43, 99, -85, -86, 37, -55, -24, -12, -39, 65,
                          -97, -103, 114, -73, -32, -17, -66, 39, -69, 21, 36, -33});
    m.h.run();
    CHECK(m.h.get<int8_t>(m.y) == std::vector<int8_t>{-45, -55});
  }
  // The rounding option reaches the kernel: ratio 1/4 over two values {1, 2} gives 1 with double
  // rounding and 0 with single rounding (see the kernel tests for the arithmetic).
  for (ptq::RoundingMode mode : {ptq::RoundingMode::kDouble, ptq::RoundingMode::kSingle}) {
    OneOp m(OpKind::kMean, DType::kInt8, {2}, {}, mean_attrs({0}, false), Quantization::per_tensor(0.25f, 0),
            Quantization::per_tensor(1.0f, 0));
    m.h.options.rounding = mode;
    REQUIRE(m.h.prepare().ok());
    m.h.set<int8_t>(m.x, {1, 2});
    m.h.run();
    CHECK(m.h.get<int8_t>(m.y) == std::vector<int8_t>{static_cast<int8_t>(mode == ptq::RoundingMode::kDouble ? 1 : 0)});
  }
}

TEST_CASE("pool: Mean prepare errors name the axis or the tensor") {
  OneOp axis(OpKind::kMean, DType::kFloat32, {2, 3}, {2}, mean_attrs({1, 3}, false));
  ptq::Status s = axis.h.prepare();
  CHECK(mentions(s, "axes[1] = 3"));
  CHECK(mentions(s, "(Mean)"));
  OneOp shape(OpKind::kMean, DType::kFloat32, {2, 3}, {2}, mean_attrs({1}, true));
  CHECK(mentions(shape.h.prepare(), "output 0 'y' has shape [2]; reducing [2, 3] gives [2, 1]"));
  OneOp noq(OpKind::kMean, DType::kInt8, {2, 3}, {2}, mean_attrs({1}, false), {}, Quantization::per_tensor(1.0f, 0));
  CHECK(mentions(noq.h.prepare(), "input 0 'x' is int8 and needs per-tensor quantization (one scale and zero point); it has none"));
  OneOp huge(OpKind::kMean, DType::kInt8, {2}, {}, mean_attrs({0}, false), Quantization::per_tensor(1e6f, 0),
             Quantization::per_tensor(1e-6f, 0));
  huge.h.options.rounding = ptq::RoundingMode::kDouble;  // (single rounding saturates the shift instead)
  CHECK(mentions(huge.h.prepare(), "multiplier"));
  OneOp i32(OpKind::kMean, DType::kInt32, {2}, {}, mean_attrs({0}, false));
  CHECK(i32.h.prepare().code() == ptq::StatusCode::kUnimplemented);
}

}
