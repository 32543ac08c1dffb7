// The converter (convert/converter.hpp) in each mode, on small synthetic float graphs: the structure
// of the converted graph, its parameters against values worked by hand from the spec, and its
// outputs against the float model's within bounds stated per test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/convert/converter.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

using ptq::DType;
using ptq::Shape;
using ptq::convert::Conversion;
using ptq::convert::ConvertOptions;
using ptq::convert::IoType;
using ptq::convert::Mode;
using ptq::convert::VectorDataset;
using ptq::ir::Graph;
using ptq::ir::GraphBuilder;
using ptq::ir::OpKind;
using ptq::ir::TensorId;

std::vector<float> normal(std::mt19937& rng, std::size_t n, float sd) {
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<float> uniform(std::mt19937& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Runs a model on one sample (quantizing it for int8/uint8 inputs) and returns output 0 as floats.
std::vector<float> run(const Graph& g, const std::vector<float>& x) {
  auto net = ptq::runtime::Interpreter::create(g);
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  REQUIRE(ptq::convert::feed_sample(*net, {x}, 0).ok());
  net->run();
  const ptq::runtime::TensorView y = net->output(0);
  const auto n = static_cast<std::size_t>(y.tensor->shape.num_elements());
  std::vector<float> out(n);
  if (y.tensor->dtype == DType::kFloat32) {
    std::copy_n(static_cast<const float*>(y.data), n, out.begin());
  } else if (y.tensor->dtype == DType::kInt8) {
    ptq::dequantize(static_cast<const int8_t*>(y.data), out.data(), n, y.tensor->quant.params());
  } else {
    REQUIRE(y.tensor->dtype == DType::kUInt8);
    ptq::dequantize(static_cast<const uint8_t*>(y.data), out.data(), n, y.tensor->quant.params());
  }
  return out;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

int count_ops(const Graph& g, OpKind k) {
  return static_cast<int>(std::count_if(g.ops.begin(), g.ops.end(), [&](const ptq::ir::Op& op) { return op.kind == k; }));
}

const ptq::ir::Tensor& tensor_named(const Graph& g, const std::string& name) {
  const TensorId id = g.find_tensor(name);
  REQUIRE_MESSAGE(id != ptq::ir::kNoTensor, "no tensor '" << name << "'");
  return g.tensor(id);
}

// [1, 64] -> FC 48 (3072 weights) ReLU -> FC 10 (480 weights) -> Softmax.
Graph mlp(std::mt19937& rng) {
  GraphBuilder b("mlp");
  TensorId x = b.input("x", {1, 64});
  x = b.fully_connected(x, b.constant("fc1/w", normal(rng, 48 * 64, 0.15f), {48, 64}), b.constant("fc1/b", normal(rng, 48, 0.1f), {48}),
                        ptq::ir::attrs().relu());
  b.name_op(x, "fc1");
  x = b.fully_connected(x, b.constant("fc2/w", normal(rng, 10 * 48, 0.2f), {10, 48}), b.constant("fc2/b", normal(rng, 10, 0.1f), {10}));
  b.name_op(x, "fc2");
  x = b.softmax(x);
  b.name_op(x, "probs");
  b.output(x);
  auto g = b.build();
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  return *g;
}

// [1, 12, 12, 3] -> Conv 3x3 16 ReLU -> DW 3x3 ReLU6 -> MaxPool 2 -> {AvgPool 1x1, Conv 1x1 8} concat
// -> Mean(H, W) -> FC 5 -> Softmax: every int8 layer kind the issue names.
Graph cnn(std::mt19937& rng) {
  GraphBuilder b("cnn");
  TensorId x = b.input("image", {1, 12, 12, 3});
  x = b.conv2d(x, b.constant("c1/w", normal(rng, 16 * 27, 0.3f), {16, 3, 3, 3}), b.constant("c1/b", normal(rng, 16, 0.1f), {16}),
               ptq::ir::attrs().same().relu());
  b.name_op(x, "c1");
  x = b.depthwise_conv2d(x, b.constant("dw/w", normal(rng, 9 * 16, 0.3f), {1, 3, 3, 16}), b.constant("dw/b", normal(rng, 16, 0.1f), {16}),
                         ptq::ir::attrs().same().relu6());
  b.name_op(x, "dw");
  x = b.max_pool2d(x, ptq::ir::attrs().window(2, 2).stride(2));
  b.name_op(x, "pool");
  TensorId a = b.average_pool2d(x, ptq::ir::attrs().window(1, 1).stride(1));
  b.name_op(a, "avg");
  TensorId c = b.conv2d(x, b.constant("c2/w", normal(rng, 8 * 16, 0.3f), {8, 1, 1, 16}), b.constant("c2/b", normal(rng, 8, 0.1f), {8}));
  b.name_op(c, "c2");
  x = b.concatenation({a, c}, 3);
  b.name_op(x, "cat");
  x = b.mean(x, ptq::ir::attrs().axes({1, 2}));
  b.name_op(x, "gap");
  x = b.fully_connected(x, b.constant("fc/w", normal(rng, 5 * 24, 0.3f), {5, 24}), b.constant("fc/b", normal(rng, 5, 0.1f), {5}));
  b.name_op(x, "logits");
  x = b.softmax(x);
  b.name_op(x, "probs");
  b.output(x);
  auto g = b.build();
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  return *g;
}

// [1, 6, 8] -> LSTM 16 (w 64x8, r 64x16) -> FC 4: the recurrent op has no int8 kernel.
Graph lstm_model(std::mt19937& rng) {
  GraphBuilder b("lstm");
  TensorId x = b.input("seq", {1, 6, 8});
  const TensorId w = b.constant("lstm/w", normal(rng, 64 * 8, 0.3f), {64, 8});
  const TensorId r = b.constant("lstm/r", normal(rng, 64 * 16, 0.3f), {64, 16});
  const TensorId bias = b.constant("lstm/b", normal(rng, 64, 0.1f), {64});
  x = b.recurrent(OpKind::kLstm, {x, w, r, bias}, {});
  b.name_op(x, "lstm");
  x = b.reshape(x, {1, 96});
  b.name_op(x, "flat");
  x = b.fully_connected(x, b.constant("fc/w", normal(rng, 4 * 96, 0.2f), {4, 96}), b.constant("fc/b", normal(rng, 4, 0.1f), {4}));
  b.name_op(x, "out");
  b.output(x);
  auto g = b.build();
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  return *g;
}

VectorDataset samples(std::mt19937& rng, const Graph& g, int count, float lo, float hi) {
  VectorDataset d;
  const auto n = static_cast<std::size_t>(g.tensor(g.inputs[0]).shape.num_elements());
  for (int i = 0; i < count; ++i) d.add({uniform(rng, n, lo, hi)});
  return d;
}

Conversion convert_ok(const Graph& g, const ConvertOptions& o) {
  auto r = ptq::convert::convert(g, o);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

}  // namespace

TEST_SUITE("convert") {

TEST_CASE("converter: weight-only stores large weights as int8 + Dequantize and keeps small ones float") {
  std::mt19937 rng(1);
  const Graph g = mlp(rng);
  ConvertOptions o;
  o.mode = Mode::kWeightOnly;
  const Conversion c = convert_ok(g, o);
  // fc1/w has 3072 >= 1024 values, fc2/w 480 < 1024: one Dequantize.
  CHECK(count_ops(c.graph, OpKind::kDequantize) == 1);
  const auto& w = tensor_named(c.graph, "fc1/w");
  CHECK(w.dtype == DType::kInt8);
  REQUIRE(w.quant.is_per_axis());
  CHECK(w.quant.axis == 0);
  // Row 0's scale is max |w| / 127 (symmetric, TFLite's scheme).
  const float* fw = tensor_named(g, "fc1/w").data.as<float>();
  float m = 0.0f;
  for (int k = 0; k < 64; ++k) m = std::max(m, std::fabs(fw[k]));
  CHECK(w.quant.scales[0] == doctest::Approx(m / 127.0f).epsilon(1e-6));
  CHECK(tensor_named(c.graph, "fc2/w").dtype == DType::kFloat32);
  CHECK(c.summary.ops[0].form == "float (int8 weights)");
  // Constants: 3072 float bytes -> int8 bytes (x4 smaller for that tensor).
  CHECK(c.summary.constant_bytes_before - c.summary.constant_bytes_after == 3072 * 3);
  // Outputs: a probability moves by less than 0.02 (int8 weights, float math).
  const std::vector<float> x = uniform(rng, 64, -1.0f, 1.0f);
  CHECK(max_abs_diff(run(g, x), run(c.graph, x)) < 0.02f);
}

TEST_CASE("converter: dynamic range makes fc/conv/depthwise hybrid and names what stays float") {
  std::mt19937 rng(2);
  const Graph g = mlp(rng);
  ConvertOptions o;
  o.mode = Mode::kDynamicRange;
  const Conversion c = convert_ok(g, o);
  CHECK(c.summary.ops[0].form == "hybrid");
  CHECK(c.summary.ops[1].form == "float");
  CHECK(c.summary.ops[1].reason.find("480 values, fewer than min_weight_elements = 1024") != std::string::npos);
  CHECK(count_ops(c.graph, OpKind::kDequantize) == 0);
  CHECK(tensor_named(c.graph, "fc1/w").dtype == DType::kInt8);
  const std::vector<float> x = uniform(rng, 64, -1.0f, 1.0f);
  CHECK(max_abs_diff(run(g, x), run(c.graph, x)) < 0.03f);

  // A lower threshold makes the conv net's every layer hybrid.
  const Graph net = cnn(rng);
  o.min_weight_elements = 0;
  const Conversion cc = convert_ok(net, o);
  CHECK(cc.summary.count("hybrid") == 4);  // c1, dw, c2, logits
  const std::vector<float> img = uniform(rng, 12 * 12 * 3, 0.0f, 1.0f);
  CHECK(max_abs_diff(run(net, img), run(cc.graph, img)) < 0.03f);
}

TEST_CASE("converter: dynamic range runs an LSTM hybrid") {
  std::mt19937 rng(3);
  const Graph g = lstm_model(rng);
  ConvertOptions o;
  o.mode = Mode::kDynamicRange;
  o.min_weight_elements = 256;
  const Conversion c = convert_ok(g, o);
  CHECK(c.summary.ops[0].form == "hybrid");
  CHECK(tensor_named(c.graph, "lstm/w").dtype == DType::kInt8);
  CHECK(tensor_named(c.graph, "lstm/r").dtype == DType::kInt8);
  CHECK(tensor_named(c.graph, "lstm/b").dtype == DType::kFloat32);
  const std::vector<float> x = uniform(rng, 48, -1.0f, 1.0f);
  CHECK(max_abs_diff(run(g, x), run(c.graph, x)) < 0.05f);
}

TEST_CASE("converter: dynamic range makes an embedding table int8 per row") {
  std::mt19937 rng(13);
  GraphBuilder b("embed");
  const TensorId ids = b.input("ids", {1, 3}, DType::kInt32);
  TensorId x = b.embedding_lookup(ids, b.constant("table", normal(rng, 64 * 32, 0.5f), {64, 32}));
  b.name_op(x, "embed");
  x = b.fully_connected(x, b.constant("fc/w", normal(rng, 8 * 32, 0.2f), {8, 32}));
  b.output(x);
  auto g = b.build();
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  ConvertOptions o;
  o.mode = Mode::kDynamicRange;
  const Conversion c = convert_ok(*g, o);
  CHECK(c.summary.ops[0].form == "hybrid");
  const auto& t = tensor_named(c.graph, "table");
  CHECK(t.dtype == DType::kInt8);
  CHECK(t.quant.is_per_axis());
  CHECK(t.quant.scales.size() == 64);
  // Ids 5, 0, 63: each row comes back within half a step of its own scale.
  auto net = ptq::runtime::Interpreter::create(c.graph);
  REQUIRE(net.ok());
  const int32_t id_values[] = {5, 0, 63};
  std::copy(id_values, id_values + 3, net->input_data<int32_t>(0));
  net->run();
  auto fnet = ptq::runtime::Interpreter::create(*g);
  REQUIRE(fnet.ok());
  std::copy(id_values, id_values + 3, fnet->input_data<int32_t>(0));
  fnet->run();
  const float* yq = net->output_data<float>(0);
  const float* yf = fnet->output_data<float>(0);
  for (int i = 0; i < 3 * 8; ++i) CHECK(std::fabs(yq[i] - yf[i]) < 0.05f);
}

TEST_CASE("converter: float16 halves every float constant") {
  std::mt19937 rng(4);
  const Graph g = cnn(rng);
  ConvertOptions o;
  o.mode = Mode::kFloat16;
  const Conversion c = convert_ok(g, o);
  CHECK(c.summary.constant_bytes_after * 2 == c.summary.constant_bytes_before);
  CHECK(tensor_named(c.graph, "c1/w").dtype == DType::kFloat16);
  CHECK(count_ops(c.graph, OpKind::kDequantize) == 8);  // 4 layers x (weights, bias)
  const std::vector<float> x = uniform(rng, 12 * 12 * 3, 0.0f, 1.0f);
  CHECK(max_abs_diff(run(g, x), run(c.graph, x)) < 2e-3f);
}

TEST_CASE("converter: full integer quantizes a conv net end to end with the spec's parameters") {
  std::mt19937 rng(5);
  const Graph g = cnn(rng);
  VectorDataset data = samples(rng, g, 16, 0.0f, 1.0f);
  // Pin the input range to exactly [0, 1]: scale 1/255, zero point -128 (nudged).
  std::vector<float> corners(12 * 12 * 3, 0.5f);
  corners[0] = 0.0f;
  corners[1] = 1.0f;
  data.add({corners});
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  o.representative_dataset = &data;
  const Conversion c = convert_ok(g, o);
  CHECK(c.summary.count("int8") == g.op_count());
  CHECK(c.summary.calibration_samples == 17);
  // Float I/O: one Quantize in, one Dequantize out, nothing else inserted.
  CHECK(count_ops(c.graph, OpKind::kQuantize) == 1);
  CHECK(count_ops(c.graph, OpKind::kDequantize) == 1);
  CHECK(c.graph.tensor(c.graph.inputs[0]).dtype == DType::kFloat32);
  CHECK(c.graph.tensor(c.graph.inputs[0]).name == "image");
  CHECK(c.graph.tensor(c.graph.outputs[0]).name == "probs:0");

  const auto& in = tensor_named(c.graph, "image/quantized");
  CHECK(in.quant.params().scale == doctest::Approx(1.0 / 255.0).epsilon(1e-6));
  CHECK(in.quant.params().zero_point == -128);
  // Conv output keeps its name; bias scale = input scale x weight scale per channel.
  const auto& w = tensor_named(c.graph, "c1/w");
  const auto& b = tensor_named(c.graph, "c1/b");
  CHECK(b.dtype == DType::kInt32);
  for (int k = 0; k < 16; ++k) {
    CHECK(b.quant.scales[static_cast<std::size_t>(k)] == doctest::Approx(in.quant.params().scale * w.quant.scales[static_cast<std::size_t>(k)]).epsilon(1e-6));
  }
  CHECK(tensor_named(c.graph, "c1:0").dtype == DType::kInt8);
  // MaxPool and AvgPool share their input's parameters; Softmax has TFLite's fixed output.
  CHECK(tensor_named(c.graph, "pool:0").quant == tensor_named(c.graph, "dw:0").quant);
  CHECK(tensor_named(c.graph, "avg:0").quant == tensor_named(c.graph, "pool:0").quant);
  CHECK(tensor_named(c.graph, "probs:0/quantized").quant == ptq::ir::Quantization::per_tensor(1.0f / 256.0f, -128));
  // Softmax outputs agree to within a few int8 steps on fresh inputs.
  for (int i = 0; i < 4; ++i) {
    const std::vector<float> x = uniform(rng, 12 * 12 * 3, 0.0f, 1.0f);
    CHECK(max_abs_diff(run(g, x), run(c.graph, x)) < 0.04f);
  }
}

TEST_CASE("converter: full integer with int8 and uint8 inputs and outputs") {
  std::mt19937 rng(6);
  const Graph g = mlp(rng);
  VectorDataset data = samples(rng, g, 8, -1.0f, 1.0f);
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  o.representative_dataset = &data;
  o.input_type = IoType::kInt8;
  o.output_type = IoType::kInt8;
  const Conversion c8 = convert_ok(g, o);
  CHECK(count_ops(c8.graph, OpKind::kQuantize) == 0);
  CHECK(count_ops(c8.graph, OpKind::kDequantize) == 0);
  CHECK(c8.graph.tensor(c8.graph.inputs[0]).dtype == DType::kInt8);
  CHECK(c8.graph.tensor(c8.graph.outputs[0]).dtype == DType::kInt8);

  o.input_type = IoType::kUInt8;
  o.output_type = IoType::kUInt8;
  const Conversion cu = convert_ok(g, o);
  const auto& u_in = cu.graph.tensor(cu.graph.inputs[0]);
  CHECK(u_in.dtype == DType::kUInt8);
  // The uint8 side is the int8 side shifted by 128.
  CHECK(u_in.quant.params().zero_point == tensor_named(cu.graph, "x/quantized").quant.params().zero_point + 128);
  CHECK(u_in.quant.params().scale == tensor_named(cu.graph, "x/quantized").quant.params().scale);
  CHECK(cu.graph.tensor(cu.graph.outputs[0]).quant == ptq::ir::Quantization::per_tensor(1.0f / 256.0f, 0));
  const std::vector<float> x = uniform(rng, 64, -1.0f, 1.0f);
  CHECK(max_abs_diff(run(c8.graph, x), run(cu.graph, x)) == 0.0f);  // same int8 graph inside
  CHECK(max_abs_diff(run(g, x), run(cu.graph, x)) < 0.03f);
}

TEST_CASE("converter: legacy uint8 takes the input's parameters from mean and std_dev") {
  std::mt19937 rng(7);
  const Graph g = mlp(rng);
  VectorDataset data = samples(rng, g, 8, -1.0f, 1.0f);
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  o.representative_dataset = &data;
  o.input_type = IoType::kUInt8;
  o.input_stats = {{128.0f, 127.5f}};  // real = (q - 128) / 127.5: scale 1/127.5, zero point 128
  const Conversion c = convert_ok(g, o);
  const auto& u = c.graph.tensor(c.graph.inputs[0]);
  CHECK(u.quant.params().scale == doctest::Approx(1.0 / 127.5).epsilon(1e-7));
  CHECK(u.quant.params().zero_point == 128);
  o.input_stats = {{300.0f, 1.0f}};
  auto bad = ptq::convert::convert(g, o);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("mean 300") != std::string::npos);
}

TEST_CASE("converter: an op without an int8 kernel stays float between Dequantize and Quantize, or blocks integer-only") {
  std::mt19937 rng(8);
  const Graph g = lstm_model(rng);
  VectorDataset data = samples(rng, g, 8, -1.0f, 1.0f);
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  o.representative_dataset = &data;
  o.hybrid_fallback = false;
  const Conversion c = convert_ok(g, o);
  CHECK(c.summary.ops[0].form == "float");
  CHECK(c.summary.ops[0].reason.find("no int8 kernel for Lstm") != std::string::npos);
  CHECK(c.summary.ops[1].form == "int8");
  CHECK(c.summary.ops[2].form == "int8");
  // The float LSTM reads the float input and its output is quantized for the int8 reshape.
  CHECK(tensor_named(c.graph, "lstm:0").dtype == DType::kFloat32);
  CHECK(tensor_named(c.graph, "lstm:0/quantized").dtype == DType::kInt8);
  CHECK(tensor_named(c.graph, "flat:0").quant == tensor_named(c.graph, "lstm:0/quantized").quant);
  const std::vector<float> x = uniform(rng, 48, -1.0f, 1.0f);
  const std::vector<float> yf = run(g, x);
  float range = 0.0f;
  for (float v : yf) range = std::max(range, std::fabs(v));
  CHECK(max_abs_diff(yf, run(c.graph, x)) < 0.05f * std::max(range, 1.0f));

  // By default the fallback LSTM keeps running in float activations but with int8 weights (hybrid).
  o.hybrid_fallback = true;
  o.min_weight_elements = 256;
  const Conversion h = convert_ok(g, o);
  CHECK(h.summary.ops[0].form == "hybrid");
  CHECK(h.summary.ops[0].reason.find("no int8 kernel for Lstm") != std::string::npos);
  CHECK(tensor_named(h.graph, "lstm/w").dtype == DType::kInt8);
  CHECK(tensor_named(h.graph, "lstm:0").dtype == DType::kFloat32);
  CHECK(max_abs_diff(yf, run(h.graph, x)) < 0.05f * std::max(range, 1.0f));

  o.integer_only = true;
  auto r = ptq::convert::convert(g, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ptq::StatusCode::kUnimplemented);
  CHECK(r.status().message().find("integer-only conversion: 1 op cannot run int8") != std::string::npos);
  CHECK(r.status().message().find("op 0 'lstm' (Lstm): no int8 kernel for Lstm") != std::string::npos);
}

TEST_CASE("converter: keep_float keeps named ops and kinds float") {
  std::mt19937 rng(9);
  const Graph g = cnn(rng);
  VectorDataset data = samples(rng, g, 8, 0.0f, 1.0f);
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  o.representative_dataset = &data;
  o.keep_float = {"dw", "Softmax"};
  const Conversion c = convert_ok(g, o);
  CHECK(c.summary.ops[1].form == "float");
  CHECK(c.summary.ops[1].reason == "kept float (keep_float)");
  CHECK(c.summary.ops.back().form == "float");
  CHECK(c.summary.count("int8") == g.op_count() - 2);
  CHECK(tensor_named(c.graph, "dw/w").dtype == DType::kFloat32);
  CHECK(tensor_named(c.graph, "probs:0").dtype == DType::kFloat32);
  // Around the float depthwise: Dequantize of c1, Quantize of dw's output.
  CHECK(tensor_named(c.graph, "c1:0/dequantized").dtype == DType::kFloat32);
  CHECK(tensor_named(c.graph, "dw:0/quantized").dtype == DType::kInt8);
  o.integer_only = true;
  auto r = ptq::convert::convert(g, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("2 ops cannot run int8") != std::string::npos);
}

TEST_CASE("converter: FakeQuant ranges convert a quantization-aware model without a dataset") {
  std::mt19937 rng(10);
  GraphBuilder b("qat");
  TensorId x = b.input("x", {1, 16});
  x = b.fake_quant(x, -1.0f, 1.0f);
  const TensorId w = b.fake_quant(b.constant("w", uniform(rng, 8 * 16, -0.5f, 0.5f), {8, 16}), -0.5f, 0.5f, 8, true);
  x = b.fully_connected(x, w, b.constant("b", normal(rng, 8, 0.1f), {8}));
  b.name_op(x, "fc");
  x = b.fake_quant(x, -4.0f, 4.0f);
  b.output(x, "y");
  auto built = b.build();
  REQUIRE_MESSAGE(built.ok(), built.status().to_string());
  const Graph g = *built;
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  const Conversion c = convert_ok(g, o);
  CHECK(count_ops(c.graph, OpKind::kFakeQuant) == 0);
  CHECK(c.summary.calibration_samples == 0);
  // x in [-1, 1] with 8 bits: scale = float(2 / 255) = 0.00784313772 (rounded up), so the zero point
  // from min, 0 - (-1) / scale, is 127.499992 in float (TensorFlow's Nudge computes in float) and
  // rounds to 127: int8 zero point 127 - 128 = -1.
  const auto& xq = tensor_named(c.graph, "x/quantized");
  CHECK(xq.quant.params().scale == doctest::Approx(2.0 / 255.0).epsilon(1e-6));
  CHECK(xq.quant.params().zero_point == -1);
  // Weights in [-0.5, 0.5], narrow range: scale 1/254, zero point 1 - (-0.5) / scale = 128 exactly
  // in float -> int8 0.
  const auto& wq = tensor_named(c.graph, "w");
  CHECK(wq.dtype == DType::kInt8);
  CHECK(wq.quant.params().scale == doctest::Approx(1.0 / 254.0).epsilon(1e-6));
  CHECK(wq.quant.params().zero_point == 0);
  // Output [-4, 4]: scale 8/255, zero point 127.499992 -> 127 as for x; the float output keeps the name "y".
  CHECK(c.graph.tensor(c.graph.outputs[0]).name == "y");
  CHECK(tensor_named(c.graph, "y/quantized").quant.params().scale == doctest::Approx(8.0 / 255.0).epsilon(1e-6));
  CHECK(tensor_named(c.graph, "y/quantized").quant.params().zero_point == -1);
  // The converted model agrees with the fake-quantized float model to one output step.
  const std::vector<float> v = uniform(rng, 16, -1.0f, 1.0f);
  CHECK(max_abs_diff(run(g, v), run(c.graph, v)) <= 8.0f / 255.0f + 1e-5f);
}

TEST_CASE("converter: FakeQuant runs in float as TensorFlow's FakeQuantWithMinMaxArgs") {
  GraphBuilder b("fq");
  TensorId x = b.input("x", {1, 6});
  b.output(b.fake_quant(x, -0.1f, 1.0f, 2));  // 2 bits: 4 levels
  auto g = b.build();
  REQUIRE(g.ok());
  // scale = 1.1 / 3; zero point from min = 0.1 / (1.1/3) = 0.2727 -> 0; nudged range [0, 1.1].
  // 0.5 -> floor(0.5 / (1.1/3) + 0.5) = floor(1.8636) = 1 -> 0.3667; -1 -> 0; 2 -> 1.1; 0.56 -> 2 steps.
  const std::vector<float> y = run(*g, {0.5f, -1.0f, 2.0f, 0.56f, 0.0f, 0.18f});
  const float s = 1.1f / 3.0f;
  CHECK(y[0] == doctest::Approx(s));
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == doctest::Approx(3 * s));
  CHECK(y[3] == doctest::Approx(2 * s));
  CHECK(y[4] == 0.0f);
  CHECK(y[5] == 0.0f);  // 0.18 / s = 0.49 -> 0
}

TEST_CASE("converter: weight scales are raised where a tiny scale would overflow the int32 bias") {
  GraphBuilder b("bias");
  TensorId x = b.input("x", {1, 4});
  // Weights of 1e-9 with a bias of 100: bias / (s_in * s_w) = 100 / ((2/255) * (1e-9/127)) >> 2^31.
  x = b.fully_connected(x, b.constant("w", std::vector<float>(8, 1e-9f), {2, 4}), b.constant("b", std::vector<float>{100.0f, 0.5f}, {2}));
  b.output(x);
  auto g = b.build();
  REQUIRE(g.ok());
  VectorDataset data;
  data.add({{-1.0f, 1.0f, 0.5f, 0.0f}});
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  o.representative_dataset = &data;
  o.calibration.method = ptq::convert::CalibrationMethod::kMinMax;
  const Conversion c = convert_ok(*g, o);
  REQUIRE(c.summary.notes.size() == 1);
  CHECK(c.summary.notes[0].find("weight scales raised") != std::string::npos);
  const auto& w = tensor_named(c.graph, "w");
  const auto& bias = tensor_named(c.graph, "b");
  const float s_in = tensor_named(c.graph, "x/quantized").quant.params().scale;
  // Channel 0 is raised to fit: |q_bias| <= 2^31 - 1; channel 1 keeps max|w| / 127.
  CHECK(std::fabs(100.0 / (double(s_in) * w.quant.scales[0])) <= 2147483647.0);
  CHECK(w.quant.scales[1] == doctest::Approx(1e-9 / 127.0).epsilon(1e-5));
  CHECK(bias.data.as<int32_t>()[0] > 2000000000);
}

TEST_CASE("converter: errors name what is wrong") {
  std::mt19937 rng(11);
  const Graph g = mlp(rng);
  ConvertOptions o;
  o.mode = Mode::kFullInteger;
  auto no_data = ptq::convert::convert(g, o);
  REQUIRE_FALSE(no_data.ok());
  CHECK(no_data.status().code() == ptq::StatusCode::kFailedPrecondition);
  CHECK(no_data.status().message().find("needs a representative dataset") != std::string::npos);

  VectorDataset wrong;
  wrong.add({std::vector<float>(63, 0.0f)});
  o.representative_dataset = &wrong;
  auto bad_sample = ptq::convert::convert(g, o);
  REQUIRE_FALSE(bad_sample.ok());
  CHECK(bad_sample.status().message().find("sample 0, input 0 'x': 63 values") != std::string::npos);

  ConvertOptions d;
  d.mode = Mode::kDynamicRange;
  d.input_type = IoType::kInt8;
  auto io = ptq::convert::convert(g, d);
  REQUIRE_FALSE(io.ok());
  CHECK(io.status().message().find("need full-integer mode, not dynamic") != std::string::npos);

  // An already quantized model is not a float model.
  VectorDataset data = samples(rng, g, 4, -1.0f, 1.0f);
  o.representative_dataset = &data;
  const Conversion c = convert_ok(g, o);
  auto again = ptq::convert::convert(c.graph, o);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message().find("the converter takes float models") != std::string::npos);
}

TEST_CASE("converter: a weight-only or float16 model converts again as the float model it stands for") {
  std::mt19937 rng(12);
  const Graph g = mlp(rng);
  ConvertOptions o;
  o.mode = Mode::kFloat16;
  const Conversion h = convert_ok(g, o);
  o.mode = Mode::kDynamicRange;
  const Conversion d = convert_ok(h.graph, o);
  CHECK(d.summary.ops[0].form == "hybrid");
}

}  // TEST_SUITE
