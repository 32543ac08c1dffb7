// The interpreter (runtime/interpreter.hpp) and its arena plan (runtime/memory_plan.hpp): constant
// folding for float16 and weight-only graphs, the memory plan's invariants, observers, profiling,
// repeatability, and errors naming ops.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ptq/core/float16.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "ptq/runtime/memory_plan.hpp"
#include "support/isa_coverage.hpp"

namespace {

namespace ir = ptq::ir;
namespace rt = ptq::runtime;
using ptq::DType;
using ptq::Shape;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// No two requests alive at the same op share a byte; offsets are 64-byte aligned; the arena holds all.
void check_plan(const std::vector<rt::ArenaRequest>& req, const rt::ArenaPlan& plan) {
  REQUIRE(plan.offsets.size() == req.size());
  for (std::size_t i = 0; i < req.size(); ++i) {
    CHECK(plan.offsets[i] % 64 == 0);
    CHECK(plan.offsets[i] + req[i].bytes <= plan.size);
    for (std::size_t j = i + 1; j < req.size(); ++j) {
      const bool alive_together = !(req[i].last < req[j].first || req[j].last < req[i].first);
      const bool bytes_overlap = req[i].bytes && req[j].bytes && plan.offsets[i] < plan.offsets[j] + req[j].bytes &&
                                 plan.offsets[j] < plan.offsets[i] + req[i].bytes;
      if (alive_together) CHECK_FALSE(bytes_overlap);
    }
  }
}

}  // namespace

TEST_SUITE("runtime") {

TEST_CASE("memory plan: a chain reuses memory, overlapping lifetimes never share bytes") {
  // A chain t0 -> t1 -> t2 -> t3, each 1000 bytes: t0 [-1, 0], t1 [0, 1], t2 [1, 2], t3 [2, 3].
  // Two buffers suffice (ping-pong): 2 * 1024 bytes.
  const std::vector<rt::ArenaRequest> chain = {{1000, -1, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  const rt::ArenaPlan p = rt::plan_arena(chain);
  check_plan(chain, p);
  CHECK(p.size == 2048);
  std::mt19937 rng(1);
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<rt::ArenaRequest> req;
    const int n = 1 + static_cast<int>(rng() % 20);
    std::size_t total = 0;
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 10) - 1;
      const int len = static_cast<int>(rng() % 5);
      const std::size_t bytes = rng() % 3000;
      req.push_back({bytes, first, first + len});
      total += (bytes + 63) / 64 * 64;
    }
    const rt::ArenaPlan plan = rt::plan_arena(req);
    check_plan(req, plan);
    CHECK(plan.size <= total);
  }
}

TEST_CASE("interpreter: float MLP equals the layers run one by one; arena reuses memory") {
  std::mt19937 rng(2);
  const int64_t sizes[] = {24, 40, 40, 40, 10};
  ir::GraphBuilder b("mlp");
  ir::TensorId x = b.input("x", {3, 24});
  std::vector<std::vector<float>> ws, bs;
  for (int l = 0; l < 4; ++l) {
    ws.push_back(random_floats(rng, static_cast<std::size_t>(sizes[l + 1] * sizes[l]), -0.3f, 0.3f));
    bs.push_back(random_floats(rng, static_cast<std::size_t>(sizes[l + 1]), -0.1f, 0.1f));
    x = b.fully_connected(x, b.constant("w" + std::to_string(l), ws.back(), {sizes[l + 1], sizes[l]}),
                          b.constant("b" + std::to_string(l), bs.back(), {sizes[l + 1]}),
                          ir::attrs().activation(l < 3 ? ptq::FusedActivation::kRelu : ptq::FusedActivation::kNone));
  }
  b.output(x, "logits");
  auto net = rt::Interpreter::create(b.build().value());
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  const auto input = random_floats(rng, 3 * 24, -1.0f, 1.0f);
  REQUIRE(net->set_input(0, input.data(), input.size() * sizeof(float)).ok());
  net->run();

  std::vector<float> h = input;
  for (int l = 0; l < 4; ++l) {
    ptq::FloatFullyConnectedParams p{3, sizes[l], sizes[l + 1], l < 3 ? ptq::FusedActivation::kRelu : ptq::FusedActivation::kNone};
    std::vector<float> out(static_cast<std::size_t>(3 * sizes[l + 1]));
    ptq::reference::fully_connected(p, h.data(), ws[static_cast<std::size_t>(l)].data(), bs[static_cast<std::size_t>(l)].data(), out.data());
    h = out;
  }
  const float* got = net->output_data<float>(0);
  CHECK(std::vector<float>(got, got + 30) == h);
  // Tensors: x 288 B, three hidden 480 B each, logits 120 B: alive at once at most 2 hidden + ...;
  // the plan must be smaller than the sum (1728 rounded per tensor to 64: 320 + 3 * 512 + 128 = 1984).
  CHECK(net->arena_bytes() < 1984);
  // A second run on the same input gives the same bits.
  net->run();
  CHECK(std::vector<float>(got, got + 30) == h);
  // set_input checks the size and names the input.
  const ptq::Status s = net->set_input(0, input.data(), 5);
  CHECK(contains(s.message(), "input 0 'x' holds 288 bytes, got 5"));
}

TEST_CASE("interpreter: float16 weights are widened once; weight-only int8 weights are dequantized once") {
  std::mt19937 rng(3);
  const auto w = random_floats(rng, 6 * 8, -1.0f, 1.0f);
  const auto input = random_floats(rng, 2 * 8, -1.0f, 1.0f);
  std::vector<uint16_t> w16(w.size());
  std::vector<float> w16f(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    w16[i] = ptq::float_to_half_bits(w[i]);
    w16f[i] = ptq::half_bits_to_float(w16[i]);
  }
  // int8 weights per output channel with scales 0.01 * (c + 1).
  std::vector<int8_t> w8(w.size());
  std::vector<float> scales(6), w8f(w.size());
  for (int c = 0; c < 6; ++c) {
    scales[static_cast<std::size_t>(c)] = 0.01f * static_cast<float>(c + 1);
    for (int k = 0; k < 8; ++k) {
      const std::size_t i = static_cast<std::size_t>(c * 8 + k);
      w8[i] = static_cast<int8_t>(std::max(-127.0f, std::min(127.0f, std::round(w[i] / scales[static_cast<std::size_t>(c)]))));
      w8f[i] = static_cast<float>(w8[i]) * scales[static_cast<std::size_t>(c)];
    }
  }
  const auto expect = [&](const std::vector<float>& weights) {
    std::vector<float> out(12);
    ptq::reference::fully_connected(ptq::FloatFullyConnectedParams{2, 8, 6, ptq::FusedActivation::kNone}, input.data(),
                                    weights.data(), nullptr, out.data());
    return out;
  };
  for (int mode = 0; mode < 3; ++mode) {
    CAPTURE(mode);
    ir::GraphBuilder b("fp16");
    const ir::TensorId x = b.input("x", {2, 8});
    ir::TensorId wt;
    if (mode == 0) {  // float16 constant used directly
      wt = b.constant_bytes("w16", DType::kFloat16, {6, 8}, w16.data(), w16.size() * 2);
    } else if (mode == 1) {  // float16 constant through Dequantize (TFLite's float16 models)
      wt = b.dequantize(b.constant_bytes("w16", DType::kFloat16, {6, 8}, w16.data(), w16.size() * 2));
    } else {  // int8 per-channel constant through Dequantize (weight-only models)
      wt = b.dequantize(b.constant("w8", w8, {6, 8}, ir::Quantization::along(0, scales)));
    }
    b.output(b.fully_connected(x, wt));
    auto net = rt::Interpreter::create(b.build().value());
    REQUIRE_MESSAGE(net.ok(), net.status().to_string());
    CHECK(net->prepared_op_count() == 1);  // the Dequantize was folded
    REQUIRE(net->set_input(0, input.data(), input.size() * 4).ok());
    net->run();
    const float* got = net->output_data<float>(0);
    CHECK(std::vector<float>(got, got + 12) == expect(mode == 2 ? w8f : w16f));
  }
}

TEST_CASE("interpreter: an int8 CNN equals the reference layers chained by hand") {
  std::mt19937 rng(4);
  const auto q = [](float s, int32_t z) { return ir::Quantization::per_tensor(s, z); };
  std::uniform_int_distribution<int> d8(-127, 127);
  auto ints = [&](std::size_t n) {
    std::vector<int8_t> v(n);
    for (auto& e : v) e = static_cast<int8_t>(d8(rng));
    return v;
  };
  const auto w1 = ints(8 * 3 * 3 * 3), w2 = ints(9 * 8), w3 = ints(5 * 4 * 4 * 8);
  const std::vector<float> s1(8, 0.01f), s2(8, 0.02f);
  const std::vector<int32_t> b1(8, 100), b2(8, -50), b3(5, 7);
  ir::GraphBuilder b("int8_cnn");
  ir::TensorId x = b.input("x", {1, 9, 9, 3}, DType::kInt8, q(0.05f, -10));
  x = b.conv2d(x, b.constant("w1", w1, {8, 3, 3, 3}, ir::Quantization::along(0, s1)), b.constant("b1", b1, {8}),
               ir::attrs().stride(2).relu(), q(0.1f, -128));                              // -> 4x4x8
  x = b.depthwise_conv2d(x, b.constant("w2", w2, {1, 3, 3, 8}, ir::Quantization::along(3, s2)), b.constant("b2", b2, {8}),
                         ir::attrs().same(), q(0.07f, 3));                                  // -> 4x4x8
  x = b.fully_connected(x, b.constant("w3", w3, {5, 128}, q(0.003f, 0)), b.constant("b3", b3, {5}),
                        {}, q(0.2f, 1));
  b.output(x);
  auto net = rt::Interpreter::create(b.build().value());
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  std::vector<int8_t> input(9 * 9 * 3);
  for (auto& e : input) e = static_cast<int8_t>(d8(rng));
  REQUIRE(net->set_input(0, input.data(), input.size()).ok());
  net->run();

  ptq::Conv2DParams c1;
  c1.geometry = ptq::make_conv_geometry(ptq::Padding::kValid, 1, 9, 9, 3, 3, 3, 8, 2, 2);
  c1.input_zero_point = -10;
  c1.output_zero_point = -128;
  c1.multipliers = ptq::convolution_multipliers(0.05f, s1, 0.1f);
  c1.activation_min = -128;  // ReLU: max(-128, q(0) = -128)
  c1.activation_max = 127;
  std::vector<int8_t> y1(4 * 4 * 8), y2(4 * 4 * 8), y3(5);
  ptq::reference::conv2d(c1, input.data(), w1.data(), b1.data(), y1.data());
  ptq::DepthwiseConv2DParams c2;
  c2.geometry = ptq::make_conv_geometry(ptq::Padding::kSame, 1, 4, 4, 8, 3, 3, 8);
  c2.input_zero_point = -128;
  c2.output_zero_point = 3;
  c2.multipliers = ptq::convolution_multipliers(0.1f, s2, 0.07f);
  ptq::reference::depthwise_conv2d(c2, y1.data(), w2.data(), b2.data(), y2.data());
  ptq::FullyConnectedParams c3;
  c3.batches = 1;
  c3.input_depth = 128;
  c3.output_depth = 5;
  c3.input_zero_point = 3;
  c3.output_zero_point = 1;
  c3.multipliers = ptq::fully_connected_multipliers(0.07f, {0.003f}, 0.2f);
  ptq::reference::fully_connected(c3, y2.data(), w3.data(), b3.data(), y3.data());
  const int8_t* got = net->output_data<int8_t>(0);
  CHECK(std::vector<int8_t>(got, got + 5) == y3);
}

TEST_CASE("interpreter: observer sees inputs and every op output; profile counts runs") {
  ir::GraphBuilder b("obs");
  ir::TensorId x = b.input("x", {1, 4});
  x = b.fully_connected(x, b.constant("w1", std::vector<float>(12, 0.5f), {3, 4}));
  x = b.fully_connected(x, b.constant("w2", std::vector<float>(6, 1.0f), {2, 3}));
  b.output(x);
  rt::InterpreterOptions o;
  o.profile = true;
  auto net = rt::Interpreter::create(b.build().value(), o);
  REQUIRE(net.ok());
  std::vector<std::string> seen;
  std::vector<float> values;
  net->set_observer([&](const rt::Observation& ob) {
    seen.push_back(std::to_string(ob.op_index) + ":" + ob.tensor->name);
    values.push_back(static_cast<const float*>(ob.data)[0]);
  });
  const std::vector<float> input = {1, 2, 3, 4};
  REQUIRE(net->set_input(0, input.data(), 16).ok());
  net->run();
  net->run();
  // x -> 0.5 * 10 = 5 per unit -> 3 * 5 = 15 per output.
  CHECK(seen == std::vector<std::string>{"-1:x", "0:FullyConnected_0:0", "1:FullyConnected_1:0",
                                         "-1:x", "0:FullyConnected_0:0", "1:FullyConnected_1:0"});
  CHECK(values == std::vector<float>{1, 5, 15, 1, 5, 15});
  REQUIRE(net->op_profile().size() == 2);
  CHECK(net->op_profile()[0].runs == 2);
  CHECK(net->op_profile()[1].op == "op 1 'FullyConnected_1' (FullyConnected)");
  CHECK(net->op_profile()[1].total_seconds >= 0.0);
}

TEST_CASE("interpreter: errors name the op; invalid graphs list their problems") {
  ir::GraphBuilder b("err");
  ir::TensorId x = b.input("x", {1, 4}, DType::kInt16, ir::Quantization::per_tensor(0.1f, 3));  // int16: zero point 0
  x = b.fully_connected(x, b.constant("w", std::vector<int8_t>(8, 1), {2, 4}, ir::Quantization::per_tensor(0.1f, 0)),
                        ir::kNoTensor, {}, ir::Quantization::per_tensor(0.1f, 0));
  b.output(x);
  auto net = rt::Interpreter::create(b.build().value());
  REQUIRE_FALSE(net.ok());
  CHECK(contains(net.status().message(),
                 "op 0 'FullyConnected_0' (FullyConnected): input 0 'x' is int16 with zero point 3"));
  ir::Graph g = b.graph();
  g.outputs.clear();
  auto bad = rt::Interpreter::create(g);
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.status().message(), "the graph has no outputs"));
}

TEST_CASE("interpreter: threads and ISA levels do not change int8 results") {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> d8(-127, 127);
  std::vector<int8_t> w(200 * 300), input(7 * 300);
  for (auto& e : w) e = static_cast<int8_t>(d8(rng));
  for (auto& e : input) e = static_cast<int8_t>(d8(rng));
  ir::GraphBuilder b("fc");
  const ir::TensorId x = b.input("x", {7, 300}, DType::kInt8, ir::Quantization::per_tensor(0.02f, 4));
  b.output(b.fully_connected(x, b.constant("w", w, {200, 300}, ir::Quantization::per_tensor(0.01f, 0)), ir::kNoTensor, {},
                             ir::Quantization::per_tensor(0.5f, -3)));
  const ir::Graph g = b.build().value();
  std::vector<int8_t> first;
  for (ptq::Isa isa : ptq::kAllIsas) {
    if (!ptq::isa_runnable(isa)) continue;
    for (int threads : {1, 3}) {
      rt::InterpreterOptions o;
      o.isa = isa;
      o.threads = threads;
      auto net = rt::Interpreter::create(g, o);
      REQUIRE(net.ok());
      REQUIRE(net->set_input(0, input.data(), input.size()).ok());
      net->run();
      const int8_t* y = net->output_data<int8_t>(0);
      std::vector<int8_t> got(y, y + 7 * 200);
      if (first.empty()) first = got;
      CAPTURE(ptq::isa_name(isa));
      CHECK(got == first);
    }
  }
}

}
