// ir/builder.hpp: build a graph in C++ that reads like the model.
//
//   ir::GraphBuilder b("small_cnn");
//   ir::TensorId x = b.input("image", {1, 28, 28, 1});
//   x = b.conv2d(x, b.constant("conv1/w", w1, {8, 3, 3, 1}), b.constant("conv1/b", b1, {8}),
//                ir::attrs().padding(Padding::kSame).activation(FusedActivation::kRelu));
//   x = b.max_pool2d(x, ir::attrs().window(2, 2).stride(2, 2));
//   x = b.fully_connected(b.flatten(x), b.constant("fc/w", w2, {10, 1352}), b.constant("fc/b", b2, {10}));
//   b.output(b.softmax(x), "probs");
//   Result<ir::Graph> g = b.build();   // shapes inferred as you go; build() validates the whole graph
//
// Each op's output dtype follows its first input (Dequantize gives float32; hybrid ops with float
// activations give float32). Quantized outputs take their parameters from the optional trailing
// `out` argument; without one, ops that TFLite fixes (Softmax, Logistic: 1/256, -128; Tanh: 1/128,
// 0) or that keep their input's parameters (Reshape, Flatten, Transpose, MaxPool2D, Pad, Relu
// family with the input's params, Concatenation of equal params) get those, and the others are
// reported by build(). The first error (a shape that does not fit, say) is kept and returned by
// build(), naming the op; calls after it are no-ops returning kNoTensor.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/float16.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/ir/shape_inference.hpp"
#include "ptq/ir/validate.hpp"

PTQ_NAMESPACE_BEGIN
namespace ir {

// Fluent attributes: ir::attrs().stride(2, 2).padding(Padding::kSame).activation(FusedActivation::kRelu6)
class AttrBuilder {
 public:
  AttrBuilder& stride(int32_t h, int32_t w) { a_.stride_h = h; a_.stride_w = w; return *this; }
  AttrBuilder& stride(int32_t s) { return stride(s, s); }
  AttrBuilder& dilation(int32_t h, int32_t w) { a_.dilation_h = h; a_.dilation_w = w; return *this; }
  AttrBuilder& window(int32_t h, int32_t w) { a_.filter_h = h; a_.filter_w = w; return *this; }
  AttrBuilder& padding(Padding p) { a_.padding = p; return *this; }
  AttrBuilder& same() { return padding(Padding::kSame); }
  AttrBuilder& depth_multiplier(int32_t m) { a_.depth_multiplier = m; return *this; }
  AttrBuilder& activation(FusedActivation f) { a_.activation = f; return *this; }
  AttrBuilder& relu() { return activation(FusedActivation::kRelu); }
  AttrBuilder& relu6() { return activation(FusedActivation::kRelu6); }
  AttrBuilder& keep_num_dims(bool k = true) { a_.keep_num_dims = k; return *this; }
  AttrBuilder& asymmetric_quantize_inputs(bool v) { a_.asymmetric_quantize_inputs = v; return *this; }
  AttrBuilder& adjoint(bool x, bool y) { a_.adj_x = x; a_.adj_y = y; return *this; }
  AttrBuilder& axis(int32_t axis) { a_.axis = axis; return *this; }
  AttrBuilder& axes(std::vector<int32_t> axes, bool keep_dims = false) { a_.axes = std::move(axes); a_.keep_dims = keep_dims; return *this; }
  AttrBuilder& perm(std::vector<int32_t> p) { a_.perm = std::move(p); return *this; }
  AttrBuilder& new_shape(std::vector<int64_t> s) { a_.new_shape = std::move(s); return *this; }
  AttrBuilder& paddings(std::vector<int64_t> p) { a_.paddings = std::move(p); return *this; }
  AttrBuilder& beta(float b) { a_.beta = b; return *this; }
  AttrBuilder& alpha(float v) { a_.alpha = v; return *this; }
  AttrBuilder& clip(float lo, float hi) { a_.clip_min = lo; a_.clip_max = hi; return *this; }
  AttrBuilder& time_major(bool v = true) { a_.time_major = v; return *this; }
  AttrBuilder& bidirectional(bool v = true) { a_.bidirectional = v; return *this; }
  AttrBuilder& recurrent_activation(RecurrentActivation r) { a_.recurrent_activation = r; return *this; }
  AttrBuilder& cell_clip(float c) { a_.cell_clip = c; return *this; }
  // The integer Lstm's quantization (graph.hpp, "Recurrent ops").
  AttrBuilder& lstm_state(float scale, int32_t zero_point) {
    a_.lstm_state_scale = scale;
    a_.lstm_state_zero_point = zero_point;
    return *this;
  }
  AttrBuilder& lstm_hidden(float scale, int32_t zero_point) {
    a_.lstm_hidden_scale = scale;
    a_.lstm_hidden_zero_point = zero_point;
    return *this;
  }
  AttrBuilder& lstm_cell_scale(float s) { a_.lstm_cell_scale = s; return *this; }

  operator const Attributes&() const { return a_; }  // NOLINT: implicit by design
  const Attributes& get() const { return a_; }

 private:
  Attributes a_;
};

inline AttrBuilder attrs() { return AttrBuilder(); }

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name = "model") { g_.name = std::move(name); }

  // ---- tensors ----
  TensorId input(const std::string& name, Shape shape, DType dtype = DType::kFloat32, Quantization q = {}) {
    if (!status_.ok()) return kNoTensor;
    const TensorId id = tensor(name, dtype, std::move(shape), std::move(q));
    g_.inputs.push_back(id);
    return id;
  }

  // A float32 constant (or any T whose DType is given).
  TensorId constant(const std::string& name, const std::vector<float>& values, Shape shape) {
    return constant_bytes(name, DType::kFloat32, std::move(shape), values.data(), values.size() * sizeof(float), {});
  }
  TensorId constant(const std::string& name, const std::vector<int8_t>& values, Shape shape, Quantization q) {
    return constant_bytes(name, DType::kInt8, std::move(shape), values.data(), values.size(), std::move(q));
  }
  TensorId constant(const std::string& name, const std::vector<int32_t>& values, Shape shape, Quantization q = {}) {
    return constant_bytes(name, DType::kInt32, std::move(shape), values.data(), values.size() * sizeof(int32_t), std::move(q));
  }
  TensorId constant_bytes(const std::string& name, DType dtype, Shape shape, const void* data, std::size_t bytes,
                          Quantization q = {}) {
    if (!status_.ok()) return kNoTensor;
    const TensorId id = tensor(name, dtype, std::move(shape), std::move(q));
    Tensor& t = g_.tensor(id);
    if (bytes != t.byte_size()) {
      fail(invalid_argument("constant '" + name + "': " + std::to_string(bytes) + " bytes given, " +
                            std::string(dtype_name(dtype)) + " " + t.shape.to_string() + " needs " +
                            std::to_string(t.byte_size())));
      return kNoTensor;
    }
    t.data = Buffer::copy_of(data, bytes);
    return id;
  }

  void output(TensorId id, const std::string& rename = "") {
    if (!status_.ok() || id == kNoTensor) return;
    if (!rename.empty()) g_.tensor(id).name = rename;
    g_.outputs.push_back(id);
  }

  // ---- ops ----
  TensorId conv2d(TensorId x, TensorId w, TensorId bias, const Attributes& a = {}, Quantization out = {}) {
    return op(OpKind::kConv2D, {x, w, bias}, a, std::move(out));
  }
  TensorId depthwise_conv2d(TensorId x, TensorId w, TensorId bias, const Attributes& a = {}, Quantization out = {}) {
    return op(OpKind::kDepthwiseConv2D, {x, w, bias}, a, std::move(out));
  }
  TensorId fully_connected(TensorId x, TensorId w, TensorId bias = kNoTensor, const Attributes& a = {}, Quantization out = {}) {
    return op(OpKind::kFullyConnected, {x, w, bias}, a, std::move(out));
  }
  TensorId batch_matmul(TensorId x, TensorId y, const Attributes& a = {}, Quantization out = {}) {
    return op(OpKind::kBatchMatMul, {x, y}, a, std::move(out));
  }
  TensorId add(TensorId x, TensorId y, const Attributes& a = {}, Quantization out = {}) { return op(OpKind::kAdd, {x, y}, a, std::move(out)); }
  TensorId sub(TensorId x, TensorId y, const Attributes& a = {}, Quantization out = {}) { return op(OpKind::kSub, {x, y}, a, std::move(out)); }
  TensorId mul(TensorId x, TensorId y, const Attributes& a = {}, Quantization out = {}) { return op(OpKind::kMul, {x, y}, a, std::move(out)); }
  TensorId average_pool2d(TensorId x, const Attributes& a, Quantization out = {}) { return op(OpKind::kAveragePool2D, {x}, a, std::move(out)); }
  TensorId max_pool2d(TensorId x, const Attributes& a, Quantization out = {}) { return op(OpKind::kMaxPool2D, {x}, a, std::move(out)); }
  TensorId mean(TensorId x, const Attributes& a, Quantization out = {}) { return op(OpKind::kMean, {x}, a, std::move(out)); }
  TensorId relu(TensorId x, Quantization out = {}) { return op(OpKind::kRelu, {x}, {}, std::move(out)); }
  TensorId relu6(TensorId x, Quantization out = {}) { return op(OpKind::kRelu6, {x}, {}, std::move(out)); }
  TensorId relu_n1_to_1(TensorId x, Quantization out = {}) { return op(OpKind::kReluN1To1, {x}, {}, std::move(out)); }
  TensorId clip(TensorId x, float lo, float hi, Quantization out = {}) { return op(OpKind::kClip, {x}, attrs().clip(lo, hi), std::move(out)); }
  TensorId leaky_relu(TensorId x, float alpha, Quantization out = {}) { return op(OpKind::kLeakyRelu, {x}, attrs().alpha(alpha), std::move(out)); }
  TensorId hard_swish(TensorId x, Quantization out = {}) { return op(OpKind::kHardSwish, {x}, {}, std::move(out)); }
  TensorId hard_sigmoid(TensorId x, float alpha = 0.2f, float beta = 0.5f, Quantization out = {}) {
    return op(OpKind::kHardSigmoid, {x}, attrs().alpha(alpha).beta(beta), std::move(out));
  }
  TensorId softmax(TensorId x, float beta = 1.0f) { return op(OpKind::kSoftmax, {x}, attrs().beta(beta), {}); }
  TensorId logistic(TensorId x) { return op(OpKind::kLogistic, {x}, {}, {}); }
  TensorId tanh(TensorId x) { return op(OpKind::kTanh, {x}, {}, {}); }
  TensorId reshape(TensorId x, std::vector<int64_t> shape) { return op(OpKind::kReshape, {x}, attrs().new_shape(std::move(shape)), {}); }
  TensorId flatten(TensorId x) { return op(OpKind::kFlatten, {x}, {}, {}); }
  TensorId transpose(TensorId x, std::vector<int32_t> perm) { return op(OpKind::kTranspose, {x}, attrs().perm(std::move(perm)), {}); }
  TensorId concatenation(std::vector<TensorId> xs, int32_t axis, Quantization out = {}) {
    return op(OpKind::kConcatenation, std::move(xs), attrs().axis(axis), std::move(out));
  }
  TensorId pad(TensorId x, std::vector<int64_t> paddings) { return op(OpKind::kPad, {x}, attrs().paddings(std::move(paddings)), {}); }
  TensorId quantize(TensorId x, DType dtype, Quantization out) { return op(OpKind::kQuantize, {x}, {}, std::move(out), dtype); }
  TensorId dequantize(TensorId x) { return op(OpKind::kDequantize, {x}, {}, {}, DType::kFloat32); }
  // Quantization-aware training's mark: x snapped to num_bits levels over [lo, hi] (TensorFlow's FakeQuant).
  TensorId fake_quant(TensorId x, float lo, float hi, int32_t num_bits = 8, bool narrow_range = false) {
    Attributes a = attrs().clip(lo, hi);
    a.num_bits = num_bits;
    a.narrow_range = narrow_range;
    return op(OpKind::kFakeQuant, {x}, a, {});
  }
  TensorId embedding_lookup(TensorId ids, TensorId table, Quantization out = {}) {
    return op(OpKind::kEmbeddingLookup, {ids, table}, {}, std::move(out));
  }
  // Recurrent ops: inputs as graph.hpp lists them (x, weights per direction, optional states).
  TensorId recurrent(OpKind kind, std::vector<TensorId> inputs, const Attributes& a) { return op(kind, std::move(inputs), a, {}); }

  // Any op: inputs, attributes, output quantization; the output dtype is inferred unless given.
  TensorId op(OpKind kind, std::vector<TensorId> inputs, const Attributes& a, Quantization out,
               DType out_dtype = static_cast<DType>(0xFF), const std::string& name = "") {
    if (!status_.ok()) return kNoTensor;
    // Trailing absent optional inputs are dropped so each op lists what it has.
    while (inputs.size() > 1 && inputs.back() == kNoTensor && static_cast<int>(inputs.size()) > op_signature(kind, a).min_inputs) {
      inputs.pop_back();
    }
    Op op;
    op.kind = kind;
    op.name = name.empty() ? std::string(op_kind_name(kind)) + "_" + std::to_string(g_.ops.size()) : name;
    op.inputs = std::move(inputs);
    op.attrs = a;
    for (TensorId id : op.inputs) {
      if (id != kNoTensor && (id < 0 || id >= g_.tensor_count())) {
        fail(invalid_argument(op.name + ": input tensor " + std::to_string(id) + " does not exist"));
        return kNoTensor;
      }
    }
    if (op.inputs.empty() || op.inputs[0] == kNoTensor) {
      fail(invalid_argument(op.name + ": the first input is missing"));
      return kNoTensor;
    }
    const Tensor& x = g_.tensor(op.inputs[0]);
    DType dtype = out_dtype;
    if (dtype == static_cast<DType>(0xFF)) {
      dtype = x.dtype;
      if (kind == OpKind::kEmbeddingLookup) dtype = g_.tensor(op.inputs[1]).dtype;
      if (kind == OpKind::kEmbeddingLookup && g_.tensor(op.inputs[1]).quant.is_per_axis()) dtype = DType::kFloat32;
    }
    if (out.empty() && dtype_is_quantized_integer(dtype) && dtype != DType::kInt32) out = default_output_quant(kind, op.inputs, dtype);
    const TensorId y = tensor(op.name + ":0", dtype, Shape{}, std::move(out));
    op.outputs = {y};
    g_.ops.push_back(std::move(op));
    Result<std::vector<Shape>> shapes = infer_output_shapes(g_, g_.op_count() - 1);
    if (!shapes.ok()) {
      fail(shapes.status());
      return kNoTensor;
    }
    g_.tensor(y).shape = (*shapes)[0];
    return y;
  }

  // Renames the op that produced `t` (and keeps its output name in step).
  void name_op(TensorId t, const std::string& name) {
    for (Op& op : g_.ops) {
      if (!op.outputs.empty() && op.outputs[0] == t) {
        op.name = name;
        g_.tensor(t).name = name + ":0";
      }
    }
  }

  const Graph& graph() const { return g_; }
  const Status& status() const { return status_; }

  // The graph, validated (every problem listed), or the first builder error.
  Result<Graph> build() {
    if (!status_.ok()) return status_;
    PTQ_RETURN_IF_ERROR(validate(g_));
    return g_;
  }

 private:
  TensorId tensor(const std::string& name, DType dtype, Shape shape, Quantization q) {
    Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    return g_.add_tensor(std::move(t));
  }

  Quantization default_output_quant(OpKind kind, const std::vector<TensorId>& inputs, DType dtype) const {
    const Quantization& in = g_.tensor(inputs[0]).quant;
    if (const std::optional<QuantParams> fixed = fixed_output_params(kind, dtype)) return Quantization::per_tensor(*fixed);
    switch (kind) {
      case OpKind::kReshape:
      case OpKind::kFlatten:
      case OpKind::kTranspose:
      case OpKind::kMaxPool2D:
      case OpKind::kAveragePool2D:
      case OpKind::kPad:
      case OpKind::kRelu:
      case OpKind::kRelu6:
      case OpKind::kReluN1To1:
      case OpKind::kMean:
        return in;
      case OpKind::kConcatenation:
        for (TensorId id : inputs) {
          if (g_.tensor(id).quant != in) return {};
        }
        return in;
      case OpKind::kEmbeddingLookup:
        return g_.tensor(inputs[1]).quant;
      default:
        return {};
    }
  }

  void fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  Graph g_;
  Status status_;
};

}  // namespace ir
PTQ_NAMESPACE_END
