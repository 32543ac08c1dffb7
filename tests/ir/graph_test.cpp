// The model IR: builder, shape inference (TFLite's rules, worked by hand below) and the validator's
// messages.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ptq/ir/builder.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/ir/shape_inference.hpp"
#include "ptq/ir/validate.hpp"

namespace {

using ptq::DType;
using ptq::FusedActivation;
using ptq::Padding;
using ptq::Shape;
namespace ir = ptq::ir;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A small CNN in a dozen lines: the builder's reason to exist.
ir::Graph small_cnn() {
  ir::GraphBuilder b("small_cnn");
  ir::TensorId x = b.input("image", {1, 28, 28, 1});
  x = b.conv2d(x, b.constant("conv1/w", std::vector<float>(8 * 3 * 3 * 1, 0.1f), {8, 3, 3, 1}),
               b.constant("conv1/b", std::vector<float>(8, 0.0f), {8}), ir::attrs().same().relu());
  x = b.max_pool2d(x, ir::attrs().window(2, 2).stride(2));
  x = b.depthwise_conv2d(x, b.constant("dw/w", std::vector<float>(3 * 3 * 8, 0.1f), {1, 3, 3, 8}), ir::kNoTensor,
                         ir::attrs().stride(2).activation(FusedActivation::kRelu6));
  x = b.flatten(x);
  x = b.fully_connected(x, b.constant("fc/w", std::vector<float>(10 * 288, 0.01f), {10, 288}),
                        b.constant("fc/b", std::vector<float>(10, 0.0f), {10}));
  b.output(b.softmax(x), "probs");
  return b.build().value();
}

}  // namespace

TEST_SUITE("ir") {

TEST_CASE("builder: a small CNN gets TFLite's shapes") {
  const ir::Graph g = small_cnn();
  // conv SAME stride 1: 28x28x8; pool 2/2 VALID: 14x14x8; depthwise 3x3 stride 2 VALID:
  // (14 - 3) / 2 + 1 = 6 -> 6x6x8; flatten: 288; fc: 10.
  REQUIRE(g.ops.size() == 6);
  CHECK(g.tensor(g.ops[0].outputs[0]).shape == Shape{1, 28, 28, 8});
  CHECK(g.tensor(g.ops[1].outputs[0]).shape == Shape{1, 14, 14, 8});
  CHECK(g.tensor(g.ops[2].outputs[0]).shape == Shape{1, 6, 6, 8});
  CHECK(g.tensor(g.ops[3].outputs[0]).shape == Shape{1, 288});
  CHECK(g.tensor(g.outputs[0]).shape == Shape{1, 10});
  CHECK(g.tensor(g.outputs[0]).name == "probs");
  CHECK(g.ops[2].inputs.size() == 2);  // the absent bias is dropped
  CHECK(g.ops[0].attrs.activation == FusedActivation::kRelu);
  CHECK(g.ops[2].attrs.stride_h == 2);
  CHECK(ir::validate(g).ok());
}

TEST_CASE("builder: int8 outputs get the spec's fixed or inherited parameters") {
  ir::GraphBuilder b("q");
  const auto q = ir::Quantization::per_tensor(0.05f, 3);
  ir::TensorId x = b.input("x", {2, 6}, DType::kInt8, q);
  CHECK(b.graph().tensor(b.softmax(x)).quant == ir::Quantization::per_tensor(1.0f / 256.0f, -128));
  CHECK(b.graph().tensor(b.logistic(x)).quant == ir::Quantization::per_tensor(1.0f / 256.0f, -128));
  CHECK(b.graph().tensor(b.tanh(x)).quant == ir::Quantization::per_tensor(1.0f / 128.0f, 0));
  CHECK(b.graph().tensor(b.reshape(x, {3, 4})).quant == q);
  CHECK(b.graph().tensor(b.transpose(x, {1, 0})).quant == q);
  const ir::TensorId f = b.dequantize(x);
  CHECK(b.graph().tensor(f).dtype == DType::kFloat32);
  CHECK(b.graph().tensor(f).quant.empty());
  // An Add without output parameters cannot be int8: build() says which op.
  b.output(b.add(x, x));
  auto g = b.build();
  REQUIRE_FALSE(g.ok());
  CHECK(contains(g.status().message(), "(Add)"));
  CHECK(contains(g.status().message(), "without quantization parameters"));
}

TEST_CASE("shape inference: hand-worked cases") {
  ir::GraphBuilder b("shapes");
  const ir::TensorId x = b.input("x", {2, 7, 9, 4});
  // Conv2D SAME stride 2 dilation 1: ceil(7/2) = 4, ceil(9/2) = 5; VALID 3x3 dilation 2 stride 1:
  // effective filter 5 -> 7 - 5 + 1 = 3, 9 - 5 + 1 = 5.
  const auto w = b.constant("w", std::vector<float>(6 * 3 * 3 * 4, 0.0f), {6, 3, 3, 4});
  CHECK(b.graph().tensor(b.conv2d(x, w, ir::kNoTensor, ir::attrs().same().stride(2))).shape == Shape{2, 4, 5, 6});
  CHECK(b.graph().tensor(b.conv2d(x, w, ir::kNoTensor, ir::attrs().dilation(2, 2))).shape == Shape{2, 3, 5, 6});
  // Grouped conv: weights with 2 input channels on a 4-channel input = 2 groups.
  const auto wg = b.constant("wg", std::vector<float>(6 * 1 * 1 * 2, 0.0f), {6, 1, 1, 2});
  CHECK(b.graph().tensor(b.conv2d(x, wg, ir::kNoTensor)).shape == Shape{2, 7, 9, 6});
  // Depthwise with depth multiplier 2 -> 8 channels.
  const auto dw = b.constant("dw", std::vector<float>(3 * 3 * 8, 0.0f), {1, 3, 3, 8});
  CHECK(b.graph().tensor(b.depthwise_conv2d(x, dw, ir::kNoTensor, ir::attrs().same().depth_multiplier(2))).shape ==
        Shape{2, 7, 9, 8});
  // Pools: 3x3 stride 2 VALID: (7 - 3) / 2 + 1 = 3, (9 - 3) / 2 + 1 = 4.
  CHECK(b.graph().tensor(b.average_pool2d(x, ir::attrs().window(3, 3).stride(2))).shape == Shape{2, 3, 4, 4});
  // Mean over H, W with and without keep_dims; negative axes.
  CHECK(b.graph().tensor(b.mean(x, ir::attrs().axes({1, 2}))).shape == Shape{2, 4});
  CHECK(b.graph().tensor(b.mean(x, ir::attrs().axes({-3, -2}, true))).shape == Shape{2, 1, 1, 4});
  // Broadcasting [2,7,9,4] + [9,1] -> [2,7,9,4]; [3,1,5] * [4,1] -> [3,4,5].
  CHECK(b.graph().tensor(b.add(x, b.constant("c", std::vector<float>(9, 0.0f), {9, 1}))).shape == Shape{2, 7, 9, 4});
  const auto p = b.input("p", {3, 1, 5});
  const auto q = b.input("q", {4, 1});
  CHECK(b.graph().tensor(b.mul(p, q)).shape == Shape{3, 4, 5});
  // Reshape with -1: 504 elements / (2 * 4) = 63.
  CHECK(b.graph().tensor(b.reshape(x, {2, -1, 4})).shape == Shape{2, 63, 4});
  CHECK(b.graph().tensor(b.transpose(x, {0, 3, 1, 2})).shape == Shape{2, 4, 7, 9});
  CHECK(b.graph().tensor(b.concatenation({x, x}, -1)).shape == Shape{2, 7, 9, 8});
  CHECK(b.graph().tensor(b.pad(x, {0, 0, 1, 2, 3, 4, 0, 0})).shape == Shape{2, 10, 16, 4});
  // FullyConnected flattens leading dims: 2*7*9*4 / 4 = 126 rows; keep_num_dims keeps them.
  const auto fw = b.constant("fw", std::vector<float>(5 * 4, 0.0f), {5, 4});
  CHECK(b.graph().tensor(b.fully_connected(x, fw)).shape == Shape{126, 5});
  CHECK(b.graph().tensor(b.fully_connected(x, fw, ir::kNoTensor, ir::attrs().keep_num_dims())).shape == Shape{2, 7, 9, 5});
  // BatchMatMul: [2,1,3,4] x [5,4,2] -> [2,5,3,2]; adj_y: [3,4] x [6,4]^T -> [3,6].
  const auto m1 = b.input("m1", {2, 1, 3, 4});
  const auto m2 = b.input("m2", {5, 4, 2});
  CHECK(b.graph().tensor(b.batch_matmul(m1, m2)).shape == Shape{2, 5, 3, 2});
  const auto m3 = b.input("m3", {3, 4});
  const auto m4 = b.input("m4", {6, 4});
  CHECK(b.graph().tensor(b.batch_matmul(m3, m4, ir::attrs().adjoint(false, true))).shape == Shape{3, 6});
  // EmbeddingLookup: ids [2, 3] into a [10, 4] table -> [2, 3, 4].
  const auto ids = b.input("ids", {2, 3}, DType::kInt32);
  CHECK(b.graph().tensor(b.embedding_lookup(ids, b.constant("table", std::vector<float>(40, 0.0f), {10, 4}))).shape ==
        Shape{2, 3, 4});
  CHECK(b.status().ok());
}

TEST_CASE("shape inference: recurrent ops") {
  ir::GraphBuilder b("rnn");
  const ir::TensorId x = b.input("x", {2, 5, 3});  // [B, T, I]
  const int h = 4;
  auto w = [&](const char* name, int rows, int cols) {
    return b.constant(name, std::vector<float>(static_cast<std::size_t>(rows * cols), 0.0f), {rows, cols});
  };
  auto bias = [&](const char* name, int n) { return b.constant(name, std::vector<float>(static_cast<std::size_t>(n), 0.0f), {n}); };
  const auto lstm = b.recurrent(ir::OpKind::kLstm, {x, w("wi", 4 * h, 3), w("ri", 4 * h, h), bias("bi", 4 * h)}, ir::attrs());
  CHECK(b.graph().tensor(lstm).shape == Shape{2, 5, 4});
  const auto gru = b.recurrent(ir::OpKind::kGru,
                               {x, w("gw", 3 * h, 3), w("gr", 3 * h, h), bias("gb", 6 * h), w("gw2", 3 * h, 3),
                                w("gr2", 3 * h, h), bias("gb2", 6 * h)},
                               ir::attrs().bidirectional());
  CHECK(b.graph().tensor(gru).shape == Shape{2, 5, 8});
  CHECK(b.status().ok());
  // A wrong input-weight shape names the tensor.
  b.recurrent(ir::OpKind::kRnn, {x, w("bad", h, 5), w("rr", h, h), bias("rb", h)}, ir::attrs());
  REQUIRE_FALSE(b.status().ok());
  CHECK(contains(b.status().message(), "'bad'"));
  CHECK(contains(b.status().message(), "expected [4, 3]"));
}

TEST_CASE("builder: the first error is kept and names the op") {
  ir::GraphBuilder b("bad");
  const ir::TensorId x = b.input("x", {1, 8, 8, 3});
  const auto w = b.constant("w", std::vector<float>(4 * 3 * 3 * 2, 0.0f), {4, 3, 3, 2});  // 2 does not divide 3
  CHECK(b.conv2d(x, w, ir::kNoTensor) == ir::kNoTensor);
  CHECK(b.relu(x) == ir::kNoTensor);  // no-op after the error
  auto g = b.build();
  REQUIRE_FALSE(g.ok());
  CHECK(contains(g.status().message(), "op 0 'Conv2D_0' (Conv2D)"));
  CHECK(contains(g.status().message(), "do not divide the input's 3"));
  // A constant of the wrong size.
  ir::GraphBuilder c("bad2");
  CHECK(c.constant("k", std::vector<float>(5, 0.0f), {2, 3}) == ir::kNoTensor);
  CHECK(contains(c.status().message(), "'k': 20 bytes given"));
}

TEST_CASE("validator: reports every problem with op and tensor names") {
  ir::Graph g = small_cnn();
  // 1. Out-of-order: make op 1 read op 3's output.
  g.ops[1].inputs[0] = g.ops[3].outputs[0];
  // 2. A constant with the wrong byte count.
  const ir::TensorId fcw = g.find_tensor("fc/w");
  g.tensor(fcw).data = ir::Buffer::copy_of(std::vector<float>(7, 0.0f));
  // 3. A per-axis quantization whose scale count does not match the axis.
  const ir::TensorId dw = g.find_tensor("dw/w");
  g.tensor(dw).quant = ir::Quantization::along(3, {0.1f, 0.2f});
  // 4. A duplicate name.
  g.tensor(g.find_tensor("conv1/b")).name = "conv1/w";
  // 5. A declared output shape that disagrees with inference.
  g.tensor(g.outputs[0]).shape = Shape{1, 11};
  // 6. A graph output that is never produced.
  ir::Tensor orphan;
  orphan.name = "orphan";
  orphan.shape = Shape{1};
  g.outputs.push_back(g.add_tensor(orphan));

  const std::vector<std::string> problems = ir::find_problems(g);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  CAPTURE(all);
  CHECK(problems.size() >= 6);
  CHECK(contains(all, "op 1 'MaxPool2D_1' (MaxPool2D): input 0 tensor"));
  CHECK(contains(all, "is not a constant, a graph input or the output of an earlier op"));
  CHECK(contains(all, "'fc/w': constant holds 28 bytes; float32 [10, 288] needs 11520"));
  CHECK(contains(all, "'dw/w': 2 scales along axis 3 of shape [1, 3, 3, 8]"));
  CHECK(contains(all, "'conv1/w': the name is used by another tensor"));
  CHECK(contains(all, "is declared [1, 11]; the op produces [1, 10]"));
  CHECK(contains(all, "graph output tensor"));
  CHECK(contains(all, "'orphan' is never produced"));
  const ptq::Status s = ir::validate(g);
  CHECK(contains(s.message(), "graph 'small_cnn' has " + std::to_string(problems.size()) + " problems:"));
}

TEST_CASE("validator: bad ids, zero points and scales") {
  ir::Graph g = small_cnn();
  g.ops[0].inputs[1] = 999;
  g.ops[2].outputs.push_back(g.ops[2].outputs[0]);  // produced twice, and too many outputs
  const ir::TensorId x = g.inputs[0];
  g.tensor(x).dtype = DType::kInt8;
  g.tensor(x).quant = ir::Quantization::per_tensor(-1.0f, 300);
  std::string all;
  for (const auto& p : ir::find_problems(g)) all += p + "\n";
  CAPTURE(all);
  CHECK(contains(all, "op 0 'Conv2D_0' (Conv2D): input 1 refers to tensor 999, which does not exist"));
  CHECK(contains(all, "is already a graph input or another op's output"));
  CHECK(contains(all, "'image': scale 0 = -1.000000 is not a finite positive number"));
  ir::Graph h = small_cnn();
  h.tensor(h.inputs[0]).dtype = DType::kInt8;
  h.tensor(h.inputs[0]).quant = ir::Quantization::per_tensor(0.5f, 128);
  all.clear();
  for (const auto& p : ir::find_problems(h)) all += p + "\n";
  CHECK(contains(all, "'image': zero point 128 is outside the range of int8"));
}

TEST_CASE("attributes: equality visits every field") {
  ir::Attributes a, b;
  CHECK(a == b);
  int fields = 0;
  ir::visit_attributes([&](int tag, const char* name, auto&) {
    ++fields;
    CHECK(tag == fields);  // tags are 1..n in order: the format relies on them being stable
    CHECK(std::string(name).size() > 0);
  }, a);
  CHECK(fields == 34);
  b.perm = {1, 0};
  CHECK(a != b);
  b = a;
  b.cell_clip = 3.0f;
  CHECK(a != b);
}

}
