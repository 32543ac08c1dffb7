// sample_models.hpp: two small models built with ptq's graph builder, in the forms the interpreter
// runs -- float32, hybrid (int8 weights, float activations) and int8 (Quantize in, int8 ops,
// Dequantize out) -- for the examples, the end-to-end benchmarks and the format's tests.
//
//   mlp:       [1, 784] -> FC 256 ReLU -> FC 128 ReLU -> FC 10 -> Softmax
//   small_cnn: [1, 32, 32, 3] -> Conv 3x3 16 ReLU -> DW 3x3 /2 ReLU6 -> Conv 1x1 32 ReLU
//              -> Conv 3x3 /2 32 ReLU -> Mean(H, W) -> FC 10 -> Softmax
//
// Weights are random (fixed seed); what matters here is shape and arithmetic, not accuracy. The int8
// form's activation ranges come from running the float form on a few random inputs and taking each
// tensor's min/max (a minimal calibration; ptq's converter does this properly), weights are
// quantized symmetric per output channel, biases to int32 at input scale * weight scale.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ptq/core/qparams.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace ptq_samples {

enum class Form { kFloat, kHybrid, kInt8 };

inline const char* form_name(Form f) { return f == Form::kFloat ? "float32" : f == Form::kHybrid ? "hybrid" : "int8"; }

namespace detail {

struct Layer {
  std::string name;
  std::vector<float> w, b;
  ptq::Shape w_shape;
  int axis = 0;  // output-channel axis of w
};

inline Layer random_layer(std::mt19937& rng, const std::string& name, ptq::Shape w_shape, int axis) {
  Layer l;
  l.name = name;
  l.w_shape = w_shape;
  l.axis = axis;
  const auto n = static_cast<std::size_t>(w_shape.num_elements());
  const int64_t fan_in = w_shape.num_elements() / w_shape[axis];
  std::normal_distribution<float> d(0.0f, std::sqrt(2.0f / static_cast<float>(fan_in)));
  l.w.resize(n);
  for (auto& v : l.w) v = d(rng);
  std::normal_distribution<float> db(0.0f, 0.05f);
  l.b.resize(static_cast<std::size_t>(w_shape[axis]));
  for (auto& v : l.b) v = db(rng);
  return l;
}

// A description of the model independent of its form: layers in order with their ops.
struct Spec {
  std::string name;
  ptq::Shape input;
  std::vector<Layer> layers;
};

inline Spec mlp_spec() {
  std::mt19937 rng(1234);
  Spec s{"mlp", {1, 784}, {}};
  s.layers.push_back(random_layer(rng, "fc1", {256, 784}, 0));
  s.layers.push_back(random_layer(rng, "fc2", {128, 256}, 0));
  s.layers.push_back(random_layer(rng, "fc3", {10, 128}, 0));
  return s;
}

inline Spec cnn_spec() {
  std::mt19937 rng(4321);
  Spec s{"small_cnn", {1, 32, 32, 3}, {}};
  s.layers.push_back(random_layer(rng, "conv1", {16, 3, 3, 3}, 0));
  s.layers.push_back(random_layer(rng, "dw2", {1, 3, 3, 16}, 3));
  s.layers.push_back(random_layer(rng, "pw3", {32, 1, 1, 16}, 0));
  s.layers.push_back(random_layer(rng, "conv4", {32, 3, 3, 32}, 0));
  s.layers.push_back(random_layer(rng, "fc5", {10, 32}, 0));
  return s;
}

// The activation tensors' quantization, keyed by tensor name, for the int8 form (empty otherwise).
using Ranges = std::map<std::string, ptq::QuantParams>;

// Adds a weighted layer in `form`; for int8 the output takes ranges[name].
class FormBuilder {
 public:
  FormBuilder(ptq::ir::GraphBuilder& b, Form form, const Ranges& ranges) : b_(b), form_(form), ranges_(ranges) {}

  ptq::ir::Quantization out_q(const std::string& name) const {
    if (form_ != Form::kInt8) return {};
    return ptq::ir::Quantization::per_tensor(ranges_.at(name));
  }

  // Weights and bias for the layer in this form; `x_scale` is the int8 input scale.
  std::pair<ptq::ir::TensorId, ptq::ir::TensorId> weights(const Layer& l, float x_scale) {
    if (form_ == Form::kFloat) {
      return {b_.constant(l.name + "/w", l.w, l.w_shape), b_.constant(l.name + "/b", l.b, {l.w_shape[l.axis]})};
    }
    const ptq::PerAxisQuantParams q = ptq::choose_per_axis_quant_params<int8_t>(l.w.data(), l.w_shape, l.axis, true);
    std::vector<int8_t> w8(l.w.size());
    ptq::for_each_axis_run(l.w_shape, l.axis, [&](std::size_t offset, std::size_t count, std::size_t c) {
      for (std::size_t i = offset; i < offset + count; ++i) {
        const float v = std::round(l.w[i] / q.scales[c]);
        w8[i] = static_cast<int8_t>(std::max(-127.0f, std::min(127.0f, v)));
      }
    });
    const auto w = b_.constant(l.name + "/w", w8, l.w_shape, ptq::ir::Quantization::along(q));
    if (form_ == Form::kHybrid) return {w, b_.constant(l.name + "/b", l.b, {l.w_shape[l.axis]})};
    std::vector<int32_t> b32(l.b.size());
    std::vector<float> b_scales(l.b.size());
    for (std::size_t c = 0; c < l.b.size(); ++c) {
      b_scales[c] = x_scale * q.scales[c];
      b32[c] = static_cast<int32_t>(std::round(l.b[c] / b_scales[c]));
    }
    return {w, b_.constant(l.name + "/b", b32, {l.w_shape[l.axis]}, ptq::ir::Quantization::along(0, b_scales))};
  }

  float scale_of(ptq::ir::TensorId t) const {
    const auto& q = b_.graph().tensor(t).quant;
    return q.empty() ? 1.0f : q.scales[0];
  }

 private:
  ptq::ir::GraphBuilder& b_;
  Form form_;
  const Ranges& ranges_;
};

inline ptq::ir::Graph build(const Spec& s, Form form, const Ranges& ranges) {
  using ptq::FusedActivation;
  namespace ir = ptq::ir;
  ir::GraphBuilder b(s.name + "_" + form_name(form));
  FormBuilder f(b, form, ranges);
  ir::TensorId x = b.input("input", s.input);
  if (form == Form::kInt8) x = b.quantize(x, ptq::DType::kInt8, f.out_q("input_q"));
  const auto layer = [&](std::size_t i) -> const Layer& { return s.layers[i]; };
  const auto name_last = [&](ir::TensorId t, const std::string& name) {
    b.name_op(t, name);
    return t;
  };
  if (s.name == "mlp") {
    for (std::size_t i = 0; i < 3; ++i) {
      const auto [w, bias] = f.weights(layer(i), f.scale_of(x));
      const std::string name = layer(i).name;
      x = b.fully_connected(x, w, bias, ir::attrs().activation(i < 2 ? FusedActivation::kRelu : FusedActivation::kNone),
                            f.out_q(name + ":0"));
      name_last(x, name);
    }
  } else {
    auto conv = [&](std::size_t i, const ir::Attributes& a, bool depthwise) {
      const auto [w, bias] = f.weights(layer(i), f.scale_of(x));
      const std::string name = layer(i).name;
      x = depthwise ? b.depthwise_conv2d(x, w, bias, a, f.out_q(name + ":0")) : b.conv2d(x, w, bias, a, f.out_q(name + ":0"));
      name_last(x, name);
    };
    conv(0, ir::attrs().same().relu(), false);
    conv(1, ir::attrs().same().stride(2).relu6(), true);
    conv(2, ir::attrs().relu(), false);
    conv(3, ir::attrs().same().stride(2).relu(), false);
    x = name_last(b.mean(x, ir::attrs().axes({1, 2}), f.out_q("pool:0")), "pool");
    const auto [w, bias] = f.weights(layer(4), f.scale_of(x));
    x = name_last(b.fully_connected(x, w, bias, {}, f.out_q("fc5:0")), "fc5");
  }
  x = name_last(b.softmax(x), "softmax");
  if (form == Form::kInt8) x = b.dequantize(x);
  b.output(x, "probs");
  return b.build().value();
}

// Min/max of every float tensor over a few random inputs, as int8 parameters (the int8 form's
// calibration). Keys are tensor names; the input is also recorded as "input_q".
inline Ranges calibrate(const Spec& s) {
  ptq::runtime::Interpreter net = ptq::runtime::Interpreter::create(build(s, Form::kFloat, {})).value();
  std::map<std::string, std::pair<float, float>> mm;
  net.set_observer([&](const ptq::runtime::Observation& o) {
    const auto* v = static_cast<const float*>(o.data);
    const auto n = static_cast<std::size_t>(o.tensor->shape.num_elements());
    auto& r = mm.try_emplace(o.tensor->name, 0.0f, 0.0f).first->second;
    for (std::size_t i = 0; i < n; ++i) {
      r.first = std::min(r.first, v[i]);
      r.second = std::max(r.second, v[i]);
    }
  });
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (int sample = 0; sample < 8; ++sample) {
    float* in = net.input_data<float>(0);
    for (int64_t i = 0; i < s.input.num_elements(); ++i) in[i] = d(rng);
    net.run();
  }
  Ranges r;
  for (const auto& [name, range] : mm) r[name] = ptq::choose_quant_params<int8_t>(range.first, range.second);
  r["input_q"] = r.at("input");
  return r;
}

}  // namespace detail

// The model `name` ("mlp" or "small_cnn") in `form`.
inline ptq::ir::Graph sample_model(const std::string& name, Form form) {
  const detail::Spec s = name == "mlp" ? detail::mlp_spec() : detail::cnn_spec();
  return detail::build(s, form, form == Form::kInt8 ? detail::calibrate(s) : detail::Ranges{});
}

}  // namespace ptq_samples
