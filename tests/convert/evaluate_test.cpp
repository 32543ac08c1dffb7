// The accuracy report (convert/evaluate.hpp): hand-built float models and int8 twins whose errors
// are worked out by hand -- SQNR, top-1 agreement and accuracy, clipped share, weight SQNR --,
// isolated vs propagated errors, ranking, the JSON/table/SVG renderings, and the errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/sample_models.hpp"
#include "ptq/convert/evaluate.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/ir/builder.hpp"
#include "support/isa_coverage.hpp"

namespace {

namespace ir = ptq::ir;
namespace cv = ptq::convert;
using ptq::DType;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::size_t count_of(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
  return n;
}

const cv::LayerMetrics& layer(const cv::AccuracyReport& r, const std::string& tensor) {
  for (const cv::LayerMetrics& l : r.layers) {
    if (l.tensor == tensor) return l;
  }
  FAIL("no layer " << tensor);
  return r.layers.front();
}

bool has_layer(const cv::AccuracyReport& r, const std::string& tensor) {
  return std::any_of(r.layers.begin(), r.layers.end(), [&](const cv::LayerMetrics& l) { return l.tensor == tensor; });
}

// ---- x [1, n] -> Relu "y" in float, and in int8 (Quantize "x/q", int8 Relu "y", Dequantize "out") ----

ir::Graph relu_float(int64_t n) {
  ir::GraphBuilder b("relu_float");
  const ir::TensorId x = b.input("x", {1, n});
  const ir::TensorId y = b.relu(x);
  b.name_op(y, "y");
  b.output(y);
  return b.build().value();
}

// int8_input: the graph input itself is int8 (no Quantize op).
ir::Graph relu_int8(int64_t n, float scale, int32_t zero_point, bool int8_input = false) {
  ir::GraphBuilder b("relu_int8");
  const auto q = ir::Quantization::per_tensor(scale, zero_point);
  ir::TensorId x = int8_input ? b.input("x", {1, n}, DType::kInt8, q) : b.input("x", {1, n});
  if (!int8_input) {
    x = b.quantize(x, DType::kInt8, q);
    b.name_op(x, "x/q");
  }
  const ir::TensorId y = b.relu(x);
  b.name_op(y, "y");
  const ir::TensorId out = b.dequantize(y);
  b.name_op(out, "out");
  b.output(out);
  return b.build().value();
}

// ---- fully connected layers, float and int8 -----------------------------------------------------

struct Dense {
  std::string name;
  int64_t units = 0, depth = 0;
  std::vector<float> w, b;
};

Dense random_dense(std::mt19937& rng, const std::string& name, int64_t units, int64_t depth) {
  Dense d{name, units, depth, {}, {}};
  std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(static_cast<float>(depth)));
  d.w.resize(static_cast<std::size_t>(units * depth));
  for (float& v : d.w) v = nd(rng);
  d.b.resize(static_cast<std::size_t>(units));
  for (float& v : d.b) v = 0.1f * nd(rng);
  return d;
}

ir::TensorId float_fc(ir::GraphBuilder& b, ir::TensorId x, const Dense& d, bool relu) {
  const ir::TensorId y = b.fully_connected(x, b.constant(d.name + "/w", d.w, {d.units, d.depth}),
                                           b.constant(d.name + "/b", d.b, {d.units}), relu ? ir::attrs().relu() : ir::attrs());
  b.name_op(y, d.name);
  return y;
}

// Weights symmetric per output channel (scales multiplied by `coarsen` to make a bad layer), bias
// int32 at input scale x weight scale, output `out`.
ir::TensorId int8_fc(ir::GraphBuilder& b, ir::TensorId x, const Dense& d, bool relu, ptq::QuantParams out, float coarsen = 1.0f) {
  const ptq::Shape shape{d.units, d.depth};
  ptq::PerAxisQuantParams wq = ptq::choose_per_axis_quant_params<int8_t>(d.w.data(), shape, 0, true);
  for (float& s : wq.scales) s *= coarsen;
  std::vector<int8_t> w8(d.w.size());
  for (std::size_t i = 0; i < w8.size(); ++i) {
    const float s = wq.scales[i / static_cast<std::size_t>(d.depth)];
    w8[i] = static_cast<int8_t>(std::max(-127.0f, std::min(127.0f, std::round(d.w[i] / s))));
  }
  const float x_scale = b.graph().tensor(x).quant.scales[0];
  std::vector<int32_t> b32(d.b.size());
  std::vector<float> b_scales(d.b.size());
  for (std::size_t c = 0; c < b32.size(); ++c) {
    b_scales[c] = x_scale * wq.scales[c];
    b32[c] = static_cast<int32_t>(std::round(d.b[c] / b_scales[c]));
  }
  const ir::TensorId y = b.fully_connected(x, b.constant(d.name + "/w", w8, shape, ir::Quantization::along(wq)),
                                           b.constant(d.name + "/b", b32, {d.units}, ir::Quantization::along(0, b_scales)),
                                           relu ? ir::attrs().relu() : ir::attrs(), ir::Quantization::per_tensor(out));
  b.name_op(y, d.name);
  return y;
}

// Min/max of every tensor of a float graph over the samples, as int8 parameters, by tensor name.
std::map<std::string, ptq::QuantParams> calibrate(const ir::Graph& g, const cv::VectorDataset& data) {
  ptq::runtime::Interpreter net = ptq::runtime::Interpreter::create(g).value();
  std::map<std::string, std::pair<float, float>> mm;
  net.set_observer([&](const ptq::runtime::Observation& o) {
    const auto* v = static_cast<const float*>(o.data);
    auto& r = mm.try_emplace(o.tensor->name, 0.0f, 0.0f).first->second;
    for (int64_t i = 0; i < o.tensor->shape.num_elements(); ++i) {
      r.first = std::min(r.first, v[i]);
      r.second = std::max(r.second, v[i]);
    }
  });
  cv::InputSet sample;
  for (std::size_t i = 0; i < data.size(); ++i) {
    REQUIRE(data.read(i, sample).ok());
    REQUIRE(net.set_input(0, sample[0].data(), sample[0].size() * sizeof(float)).ok());
    net.run();
  }
  std::map<std::string, ptq::QuantParams> ranges;
  for (const auto& [name, r] : mm) ranges[name] = ptq::choose_quant_params<int8_t>(r.first, r.second);
  return ranges;
}

// x [1, 8] -> fc1 (16, ReLU) -> fc2 (4); float and int8 (fc1's weights coarsened by `coarsen`).
struct TwoLayer {
  ir::Graph float_model, int8_model;
  cv::VectorDataset data;
};

TwoLayer two_layer(float coarsen, std::size_t samples) {
  std::mt19937 rng(99);
  const Dense fc1 = random_dense(rng, "fc1", 16, 8), fc2 = random_dense(rng, "fc2", 4, 16);
  TwoLayer t;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (std::size_t s = 0; s < samples; ++s) {
    std::vector<float> x(8);
    for (float& v : x) v = u(rng);
    t.data.add({x});
  }
  {
    ir::GraphBuilder b("two_layer_float");
    ir::TensorId x = b.input("x", {1, 8});
    b.output(float_fc(b, float_fc(b, x, fc1, true), fc2, false));
    t.float_model = b.build().value();
  }
  const auto ranges = calibrate(t.float_model, t.data);
  ir::GraphBuilder b("two_layer_int8");
  ir::TensorId x = b.quantize(b.input("x", {1, 8}), DType::kInt8, ir::Quantization::per_tensor(ranges.at("x")));
  b.name_op(x, "x/quantize");
  x = int8_fc(b, x, fc1, true, ranges.at("fc1:0"), coarsen);
  x = int8_fc(b, x, fc2, false, ranges.at("fc2:0"));
  x = b.dequantize(x);
  b.name_op(x, "fc2/dequantize");
  b.output(x);
  t.int8_model = b.build().value();
  return t;
}

// A dataset whose sample 1 cannot be read.
class BrokenDataset final : public cv::Dataset {
 public:
  std::size_t size() const override { return 3; }
  ptq::Status read(std::size_t index, cv::InputSet& inputs) const override {
    if (index == 1) return ptq::io_error("sample 1: cannot open 'x1.npy'");
    inputs = {{0.5f, 1.0f, -1.0f, 0.25f}};
    return ptq::Status();
  }
};

}  // namespace

TEST_CASE("evaluate: a model against itself is exact: infinite SQNR, full agreement, no error") {
  const ir::Graph g = ptq_samples::sample_model("mlp", ptq_samples::Form::kFloat);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  cv::VectorDataset data;
  for (int s = 0; s < 3; ++s) {
    std::vector<float> x(784);
    for (float& v : x) v = u(rng);
    data.add({x});
  }
  const std::vector<int64_t> labels = {0, 1, 2};
  auto r = cv::evaluate(g, g, data, &labels);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->samples == 3);
  REQUIRE(r->outputs.size() == 1);
  const cv::OutputMetrics& o = r->outputs[0];
  CHECK(o.name == "probs");
  CHECK(std::isinf(o.sqnr_db));
  CHECK(o.sqnr_db > 0);
  CHECK(o.top1_agreement == 1.0);
  CHECK(o.max_abs_error == 0.0);
  CHECK(o.mean_abs_error == 0.0);
  CHECK(o.top1_accuracy == o.float_top1_accuracy);
  // fc1, fc2, fc3 and the softmax (renamed "probs"), all float32: every metric exact.
  REQUIRE(r->layers.size() == 4);
  for (const cv::LayerMetrics& l : r->layers) {
    CAPTURE(l.tensor);
    CHECK(l.dtype == "float32");
    CHECK(std::isinf(l.sqnr_db));
    CHECK(std::isinf(l.isolated_sqnr_db));
    CHECK(std::isnan(l.clipped_percent));  // float tensors cannot clip
  }
  CHECK(std::isinf(layer(*r, "fc2:0").weight_sqnr_db));
  CHECK(std::isnan(layer(*r, "probs").weight_sqnr_db));  // softmax has no weights
  CHECK(contains(r->to_table(), "inf"));
  CHECK(contains(r->to_json(), "\"sqnr_db\": \"inf\""));
}

TEST_CASE("evaluate: SQNR, errors and top-1 of a hand-worked int8 Relu") {
  // scale 0.25, zero point 0. x = [0.3, 0.6, -0.2, 0.9] quantizes to round(x / 0.25) = [1, 2, -1, 4],
  // i.e. [0.25, 0.5, -0.25, 1.0]. Float y = relu(x) = [0.3, 0.6, 0, 0.9]; int8 y = [0.25, 0.5, 0, 1.0].
  // noise = 0.05^2 + 0.1^2 + 0 + 0.1^2 = 0.0225; signal = 0.09 + 0.36 + 0 + 0.81 = 1.26;
  // SQNR = 10 log10(1.26 / 0.0225) = 10 log10(56); max |err| 0.1; mean |err| 0.25 / 4.
  const double expected = 10.0 * std::log10(56.0);
  cv::VectorDataset data;
  data.add({{0.3f, 0.6f, -0.2f, 0.9f}});
  for (const bool int8_input : {false, true}) {
    CAPTURE(int8_input);
    auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0, int8_input), data, nullptr);
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    REQUIRE(r->outputs.size() == 1);
    const cv::OutputMetrics& o = r->outputs[0];
    CHECK(o.name == "out:0");
    CHECK(o.sqnr_db == doctest::Approx(expected).epsilon(1e-5));
    CHECK(o.max_abs_error == doctest::Approx(0.1).epsilon(1e-5));
    CHECK(o.mean_abs_error == doctest::Approx(0.0625).epsilon(1e-5));
    CHECK(o.top1_agreement == 1.0);  // index 3 in both
    CHECK(std::isnan(o.top1_accuracy));
    CHECK(std::isnan(o.float_top1_accuracy));
    // Layers: "y" (int8, twin of float "y:0"); "x/q" and "out" have no twin.
    REQUIRE(r->layers.size() == 1);
    const cv::LayerMetrics& l = r->layers[0];
    CHECK(l.tensor == "y:0");
    CHECK(l.dtype == "int8");
    CHECK(contains(l.op, "Relu"));
    CHECK(l.sqnr_db == doctest::Approx(expected).epsilon(1e-5));
    // Isolated: the Relu fed the float "x" (through the Quantize, or the int8 input) quantized with
    // its input's params: the same arithmetic.
    CHECK(l.isolated_sqnr_db == doctest::Approx(expected).epsilon(1e-5));
    CHECK(l.clipped_percent == 0.0);  // [-32, 31.75] holds every value
    CHECK(std::isnan(l.weight_sqnr_db));
  }
}

TEST_CASE("evaluate: top-1 agreement and accuracy against labels, counted by hand") {
  // scale 0.25 (rounding as above):
  //   s0 [0.3, 0.6, -0.2, 0.9] -> [0.25, 0.5, -0.25, 1.0]   float top-1 3, int8 3
  //   s1 [0.3, 0.32, 0, 0]     -> [0.25, 0.25, 0, 0]        float 1, int8 0 (tie -> lowest index)
  //   s2 [1.0, 0.1, 0.2, 0.3]  -> [1.0, 0, 0.25, 0.25]      float 0, int8 0
  //   s3 [0, 0, 2.0, 0.1]      -> [0, 0, 2.0, 0]            float 2, int8 2
  // agreement 3/4. labels [3, 1, 1, 2]: float right on s0, s1, s3 (3/4); int8 on s0, s3 (2/4).
  cv::VectorDataset data;
  data.add({{0.3f, 0.6f, -0.2f, 0.9f}});
  data.add({{0.3f, 0.32f, 0.0f, 0.0f}});
  data.add({{1.0f, 0.1f, 0.2f, 0.3f}});
  data.add({{0.0f, 0.0f, 2.0f, 0.1f}});
  const std::vector<int64_t> labels = {3, 1, 1, 2};
  std::vector<std::size_t> progress;
  std::size_t expected_total = 4;
  cv::EvaluateOptions options;
  options.progress = [&](std::size_t done, std::size_t total) {
    CHECK(total == expected_total);
    progress.push_back(done);
  };
  auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), data, &labels, options);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->samples == 4);
  CHECK(progress == std::vector<std::size_t>{1, 2, 3, 4});
  const cv::OutputMetrics& o = r->outputs[0];
  CHECK(o.top1_agreement == 0.75);
  CHECK(o.float_top1_accuracy == 0.75);
  CHECK(o.top1_accuracy == 0.5);

  SUBCASE("max_samples: the first two only") {
    // s0 agrees, s1 does not; labels: float 2/2, int8 1/2.
    options.max_samples = 2;
    expected_total = 2;
    progress.clear();
    auto r2 = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), data, &labels, options);
    REQUIRE_MESSAGE(r2.ok(), r2.status().to_string());
    CHECK(r2->samples == 2);
    CHECK(progress.back() == 2);
    CHECK(r2->outputs[0].top1_agreement == 0.5);
    CHECK(r2->outputs[0].float_top1_accuracy == 1.0);
    CHECK(r2->outputs[0].top1_accuracy == 0.5);
  }
}

TEST_CASE("evaluate: clipped share of a tensor whose range is set to clip") {
  // scale 0.01, zero point -28: int8 holds [(-128 + 28) 0.01, (127 + 28) 0.01] = [-1.0, 1.55].
  // relu(x) over two samples: [0, 0.5, 1.5, 1.6] and [2.0, 0.2, 1.54, 1.56]: 1.6, 2.0 and 1.56 lie
  // above 1.55 -> 3 of 8 = 37.5%. (The negative x is clipped too, at the Quantize, but relu's float
  // twin is 0 there.)
  cv::VectorDataset data;
  data.add({{-3.0f, 0.5f, 1.5f, 1.6f}});
  data.add({{2.0f, 0.2f, 1.54f, 1.56f}});
  auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.01f, -28), data, nullptr);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(layer(*r, "y:0").clipped_percent == doctest::Approx(37.5));
  // The error is the clipping: int8 y = [0, 0.5, 1.5, 1.55 | 1.55, 0.2, 1.54, 1.55].
  // noise = 0.05^2 + 0.45^2 + 0.01^2 = 0.2051; signal = 0.25 + 2.25 + 2.56 + 4 + 0.04 + 2.3716 + 2.4336.
  const double signal = 0.25 + 2.25 + 2.56 + 4.0 + 0.04 + 2.3716 + 2.4336;
  CHECK(layer(*r, "y:0").sqnr_db == doctest::Approx(10.0 * std::log10(signal / 0.2051)).epsilon(1e-4));
}

TEST_CASE("evaluate: weight SQNR of a hand-quantized fully connected layer, int8 and weight-only") {
  // Float w = [[1.0, 0.3], [-0.5, 0.25]]. int8 per channel: channel 0 scale 0.1, q [10, 3] -> [1.0,
  // 0.3] (exact); channel 1 scale 0.2, q [-2, 1] -> [-0.4, 0.2]. noise = 0.1^2 + 0.05^2 = 0.0125;
  // signal = 1 + 0.09 + 0.25 + 0.0625 = 1.4025; the int32 bias (1-D) is not a weight.
  const double expected = 10.0 * std::log10(1.4025 / 0.0125);
  const std::vector<float> w = {1.0f, 0.3f, -0.5f, 0.25f};
  const std::vector<int8_t> w8 = {10, 3, -2, 1};
  const auto wq = ir::Quantization::along(0, {0.1f, 0.2f});
  ir::Graph float_model;
  {
    ir::GraphBuilder b("fc_float");
    const ir::TensorId y = b.fully_connected(b.input("x", {1, 2}), b.constant("fc/w", w, {2, 2}),
                                             b.constant("fc/b", std::vector<float>{0.5f, -0.5f}, {2}));
    b.name_op(y, "fc");
    b.output(y);
    float_model = b.build().value();
  }
  ir::Graph int8_model;
  {
    ir::GraphBuilder b("fc_int8");
    ir::TensorId x = b.quantize(b.input("x", {1, 2}), DType::kInt8, ir::Quantization::per_tensor(0.01f, 0));
    b.name_op(x, "x/quantize");
    // bias 0.5 / (0.01 * 0.1) = 500, -0.5 / (0.01 * 0.2) = -250.
    ir::TensorId y = b.fully_connected(x, b.constant("fc/w", w8, {2, 2}, wq),
                                       b.constant("fc/b", std::vector<int32_t>{500, -250}, {2}, ir::Quantization::along(0, {0.001f, 0.002f})),
                                       {}, ir::Quantization::per_tensor(0.02f, 0));
    b.name_op(y, "fc");
    y = b.dequantize(y);
    b.name_op(y, "fc/dequantize");
    b.output(y);
    int8_model = b.build().value();
  }
  ir::Graph weight_only;
  {
    ir::GraphBuilder b("fc_weight_only");
    const ir::TensorId wd = b.dequantize(b.constant("fc/w", w8, {2, 2}, wq));  // folded at load
    b.name_op(wd, "fc/w/dequantize");
    const ir::TensorId y = b.fully_connected(b.input("x", {1, 2}), wd, b.constant("fc/b", std::vector<float>{0.5f, -0.5f}, {2}));
    b.name_op(y, "fc");
    b.output(y);
    weight_only = b.build().value();
  }
  cv::VectorDataset data;
  data.add({{0.5f, -1.0f}});
  data.add({{0.25f, 0.75f}});
  for (const ir::Graph* q : {&int8_model, &weight_only}) {
    CAPTURE(q->name);
    auto r = cv::evaluate(float_model, *q, data, nullptr);
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    const cv::LayerMetrics& l = layer(*r, "fc:0");
    CHECK(l.weight_sqnr_db == doctest::Approx(expected).epsilon(1e-4));
    CHECK(l.dtype == (q == &weight_only ? "float32" : "int8"));
    // Only the weight error here (inputs on the int8 grid... nearly): a finite, positive SQNR.
    CHECK(std::isfinite(l.sqnr_db));
    CHECK(l.sqnr_db > 10.0);
  }
}

TEST_CASE("evaluate: a bad early layer -- propagated errors flow downstream, isolated ones do not; worst first") {
  // fc1's weight scales x 40: about 3 bits of weight, a bad layer. fc2 is quantized well: alone on
  // the float fc1 output it is accurate, but in the int8 model it inherits fc1's error.
  const TwoLayer t = two_layer(40.0f, ptq_test::kSanitized ? 8 : 24);
  auto r = cv::evaluate(t.float_model, t.int8_model, t.data, nullptr);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  REQUIRE(r->layers.size() == 2);
  const cv::LayerMetrics& fc1 = layer(*r, "fc1:0");
  const cv::LayerMetrics& fc2 = layer(*r, "fc2:0");
  CHECK(fc1.weight_sqnr_db < 20.0);
  CHECK(fc2.weight_sqnr_db > 35.0);
  CHECK(fc1.isolated_sqnr_db < 20.0);
  CHECK(fc1.sqnr_db == doctest::Approx(fc1.isolated_sqnr_db).epsilon(0.05));  // its inputs are the graph's
  CHECK(fc2.isolated_sqnr_db > 30.0);
  CHECK(fc2.sqnr_db < 20.0);
  CHECK(fc2.isolated_sqnr_db - fc2.sqnr_db > 10.0);
  // Worst first.
  CHECK(r->layers[0].sqnr_db <= r->layers[1].sqnr_db);

  SUBCASE("well quantized: both layers accurate, isolated off") {
    const TwoLayer good = two_layer(1.0f, 8);
    cv::EvaluateOptions options;
    options.isolated = false;
    auto g = cv::evaluate(good.float_model, good.int8_model, good.data, nullptr, options);
    REQUIRE_MESSAGE(g.ok(), g.status().to_string());
    REQUIRE(g->layers.size() == 2);
    for (const cv::LayerMetrics& l : g->layers) {
      CHECK(l.sqnr_db > 25.0);
      CHECK(std::isnan(l.isolated_sqnr_db));
    }
    CHECK(g->outputs[0].sqnr_db > 25.0);
  }
  SUBCASE("per_layer off: outputs only") {
    cv::EvaluateOptions options;
    options.per_layer = false;
    auto g = cv::evaluate(t.float_model, t.int8_model, t.data, nullptr, options);
    REQUIRE_MESSAGE(g.ok(), g.status().to_string());
    CHECK(g->layers.empty());
    CHECK(g->outputs[0].sqnr_db == doctest::Approx(layer(*r, "fc2:0").sqnr_db).epsilon(1e-3));
  }
}

TEST_CASE("evaluate: the sample models against their int8 forms") {
  for (const std::string model : {"mlp", "small_cnn"}) {
    CAPTURE(model);
    const ir::Graph f = ptq_samples::sample_model(model, ptq_samples::Form::kFloat);
    const ir::Graph q = ptq_samples::sample_model(model, ptq_samples::Form::kInt8);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    cv::VectorDataset data;
    const std::size_t n = static_cast<std::size_t>(f.tensor(f.inputs[0]).shape.num_elements());
    for (int s = 0; s < (model == "mlp" ? 4 : 2); ++s) {
      std::vector<float> x(n);
      for (float& v : x) v = u(rng);
      data.add({x});
    }
    auto r = cv::evaluate(f, q, data, nullptr);
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    // Every weighted layer (int8), the pool (cnn) and "probs" (the Dequantize output, float32); the
    // input Quantize and the int8 softmax have no twin.
    const std::vector<std::string> weighted = model == "mlp" ? std::vector<std::string>{"fc1:0", "fc2:0", "fc3:0"}
                                                             : std::vector<std::string>{"conv1:0", "dw2:0", "pw3:0", "conv4:0", "fc5:0"};
    CHECK(r->layers.size() == weighted.size() + (model == "mlp" ? 1 : 2));
    for (const std::string& name : weighted) {
      CAPTURE(name);
      const cv::LayerMetrics& l = layer(*r, name);
      CHECK(l.dtype == "int8");
      CHECK(l.weight_sqnr_db > 30.0);  // 8-bit per-channel weights: about 6 dB per bit
      CHECK(l.sqnr_db > 15.0);
      CHECK(!std::isnan(l.isolated_sqnr_db));  // the first layer through the input Quantize
      CHECK(l.isolated_sqnr_db >= l.sqnr_db - 1.0);
      CHECK(l.clipped_percent >= 0.0);
    }
    CHECK(std::isnan(layer(*r, "probs").isolated_sqnr_db));  // its input has no twin
    CHECK(!has_layer(*r, "softmax:0"));
    CHECK(r->outputs[0].sqnr_db > 15.0);
    for (std::size_t i = 1; i < r->layers.size(); ++i) CHECK(r->layers[i - 1].sqnr_db <= r->layers[i].sqnr_db);
    CHECK(contains(r->to_table(), weighted[0]));
  }
}

TEST_CASE("evaluate: JSON, table and SVG renderings") {
  cv::AccuracyReport r;
  r.samples = 2;
  r.outputs.push_back({"probs \"final\"", 0.5, NAN, NAN, 0.25, 0.125, 12.5});
  r.layers.push_back({3, "op 3 'fc<2>' (FullyConnected)", "fc2:0", "int8", 10.0, 30.0, 1.5, 40.0});
  r.layers.push_back({1, "op 1 'fc1' (FullyConnected)", "fc1:0", "int8", 20.0, NAN, 0.0, NAN});
  r.layers.push_back({5, "op 5 'sm' (Softmax)", "sm:0", "float32", std::numeric_limits<double>::infinity(), NAN, NAN, NAN});

  const std::string json = r.to_json();
  CHECK(json.front() == '{');
  CHECK(contains(json, "\"samples\": 2"));
  CHECK(contains(json, "\"name\": \"probs \\\"final\\\"\""));
  CHECK(contains(json, "\"top1_accuracy\": null"));
  CHECK(contains(json, "\"float_top1_accuracy\": null"));
  CHECK(contains(json, "\"top1_agreement\": 0.5"));
  CHECK(contains(json, "\"sqnr_db\": 12.5"));
  CHECK(contains(json, "\"isolated_sqnr_db\": null"));
  CHECK(contains(json, "\"sqnr_db\": \"inf\""));
  CHECK(contains(json, "\"op_index\": 3"));
  CHECK(!contains(json, "nan"));
  CHECK(count_of(json, "\"op_index\"") == 3);
  CHECK(count_of(json, "{") == count_of(json, "}"));
  CHECK(count_of(json, "[") == count_of(json, "]"));

  const std::string table = r.to_table(2);
  CHECK(contains(table, "over 2 samples"));
  CHECK(contains(table, "(2 of 3"));
  CHECK(contains(table, "fc2:0"));
  CHECK(!contains(table, "sm:0"));  // beyond max_layers
  CHECK(contains(table, "50.00%"));
  CHECK(contains(r.to_table(0), "sm:0"));

  const std::string svg = r.to_svg();
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(contains(svg, "</svg>"));
  CHECK(count_of(svg, "<rect class=\"bar\"") == 3);
  CHECK(count_of(svg, "<line class=\"isolated\"") == 1);
  CHECK(count_of(svg, "<text") == count_of(svg, "</text>"));
  CHECK(count_of(svg, "<title>") == count_of(svg, "</title>"));
  CHECK(!contains(svg, "<script"));
  CHECK(contains(svg, "fc&lt;2&gt;"));
  CHECK(!contains(svg, "fc<2>"));
  // Graph order: op 1 above op 3 above op 5.
  CHECK(svg.find("op 1 ") < svg.find("op 3 "));
  CHECK(svg.find("op 3 ") < svg.find("op 5 "));
}

TEST_CASE("evaluate: errors name what is wrong") {
  cv::VectorDataset data;
  data.add({{0.5f, 1.0f, -1.0f, 0.25f}});

  SUBCASE("input element counts differ") {
    auto r = cv::evaluate(relu_float(4), relu_int8(5, 0.25f, 0), data, nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "input 0"));
    CHECK(contains(r.status().message(), "[1, 5]"));
  }
  SUBCASE("input counts differ") {
    ir::GraphBuilder b("two_inputs");
    b.output(b.add(b.input("x", {1, 4}), b.input("z", {1, 4})));
    auto r = cv::evaluate(relu_float(4), b.build().value(), data, nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "1 inputs, the quantized model 2"));
  }
  SUBCASE("a sample that does not fit the input") {
    cv::VectorDataset bad;
    bad.add({{0.5f, 1.0f, -1.0f, 0.25f}});
    bad.add({{0.5f, 1.0f, -1.0f}});
    auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), bad, nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "sample 1"));
    CHECK(contains(r.status().message(), "'x'"));
    CHECK(contains(r.status().message(), "needs 4 values"));
  }
  SUBCASE("a sample with too many arrays") {
    cv::VectorDataset bad;
    bad.add({{0.5f, 1.0f, -1.0f, 0.25f}, {1.0f}});
    auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), bad, nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "2 input arrays"));
  }
  SUBCASE("labels of the wrong length") {
    const std::vector<int64_t> labels = {1, 2};
    auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), data, &labels);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "2 labels for 1 samples"));
  }
  SUBCASE("a dataset read error") {
    auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), BrokenDataset(), nullptr);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == ptq::StatusCode::kIo);
    CHECK(contains(r.status().message(), "reading sample 1"));
    CHECK(contains(r.status().message(), "x1.npy"));
  }
  SUBCASE("an empty dataset") {
    auto r = cv::evaluate(relu_float(4), relu_int8(4, 0.25f, 0), cv::VectorDataset(), nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "no samples"));
  }
  SUBCASE("output counts differ") {
    ir::GraphBuilder b("two_outputs");
    const ir::TensorId x = b.input("x", {1, 4});
    b.output(b.relu(x));
    b.output(b.relu6(x));
    auto r = cv::evaluate(relu_float(4), b.build().value(), data, nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "1 outputs, the quantized model 2"));
  }
  SUBCASE("a model that does not load") {
    ir::Graph broken = relu_float(4);
    broken.outputs.push_back(99);
    auto r = cv::evaluate(relu_float(4), broken, data, nullptr);
    REQUIRE(!r.ok());
    CHECK(contains(r.status().message(), "quantized model"));
  }
}

TEST_CASE("evaluate: per-axis clipping ranges and reading tensors as real numbers") {
  // int8 [2, 3] quantized along axis 1: channel 0 scale 0.01 zp 0 -> [-1.28, 1.27]; channel 1 scale
  // 0.1 zp 10 -> [-13.8, 11.7]; channel 2 scale 1 zp -128 -> [0, 255].
  ir::Tensor t;
  t.dtype = DType::kInt8;
  t.shape = {2, 3};
  t.quant = ir::Quantization::along(1, {0.01f, 0.1f, 1.0f}, {0, 10, -128});
  cv::detail::ClipRange range;
  REQUIRE(cv::detail::ClipRange::make(t, range));
  // Row 0: 1.3 (> 1.27, clipped), 11.0 (in), -0.5 (< 0, clipped); row 1: -1.2 (in), -14 (clipped), 255 (in).
  const std::vector<float> f = {1.3f, 11.0f, -0.5f, -1.2f, -14.0f, 255.0f};
  CHECK(range.count_outside(f.data()) == 3);

  // The same tensor read back: (q - zp) * scale per channel.
  const std::vector<int8_t> q = {127, 127, -128, -128, -128, 127};
  std::vector<float> real;
  REQUIRE(cv::detail::tensor_to_float(t, q.data(), real));
  const std::vector<float> expected = {1.27f, 11.7f, 0.0f, -1.28f, -13.8f, 255.0f};
  for (std::size_t i = 0; i < real.size(); ++i) CHECK(real[i] == doctest::Approx(expected[i]).epsilon(1e-6));

  // int32 ids without parameters are not real numbers; float tensors never clip.
  ir::Tensor ids;
  ids.dtype = DType::kInt32;
  ids.shape = {3};
  CHECK(!cv::detail::reads_as_real(ids));
  ir::Tensor x;
  x.shape = {3};
  CHECK(!cv::detail::ClipRange::make(x, range));
  // Feeding ids from float samples rounds (and saturates).
  std::vector<int32_t> fed(3);
  REQUIRE(cv::float_to_tensor(std::vector<float>{2.4f, -1.6f, 1e12f}.data(), 3, ids, fed.data(), "ids").ok());
  CHECK(fed == std::vector<int32_t>{2, -2, 2147483647});
}
