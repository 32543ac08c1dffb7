// ir/graph.hpp: ptq's model IR -- a graph of tensors and ops, without flatbuffers or protobuf.
//
// A Graph owns a table of tensors and a list of ops in execution (topological) order; ops and the
// graph refer to tensors by index (TensorId). A tensor is either a constant (its bytes are in a
// Buffer, owned or borrowed from a mapped file) or a runtime value produced by exactly one op or
// fed as a graph input. Quantization follows TFLite: none, per tensor (one scale and zero point),
// or per axis (one per index along `axis`, TFLite's quantized_dimension); real = (q - zp) * scale.
//
// The op set and each op's inputs, outputs and attributes (the contract shape inference, the
// validator, the file format and the interpreter share) are listed at OpKind below. Layouts are
// TFLite's: activations NHWC, conv filters OHWI [out_c, kh, kw, in_c / groups], depthwise filters
// [1, kh, kw, out_c], fully connected weights [units, depth].
//
// This floor includes only core (ARCHITECTURE.md): it describes models, it does not run them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN
namespace ir {

using TensorId = int32_t;
inline constexpr TensorId kNoTensor = -1;  // an absent optional input (e.g. no bias)

// ---- Ops -------------------------------------------------------------------------------------
// The numeric values are part of the file format (format.md): never renumber, only append.
//
//   kind             inputs                                   outputs  attributes
//   Conv2D           x [N,H,W,C], w [O,KH,KW,C/groups], b?[O]  y        stride, dilation, padding, activation
//   DepthwiseConv2D  x [N,H,W,C], w [1,KH,KW,C*dm], b?[C*dm]  y        stride, dilation, padding, depth_multiplier, activation
//   FullyConnected   x [..., D], w [U,D], b?[U]               y        activation, keep_num_dims, asymmetric_quantize_inputs
//   BatchMatMul      a [..., M, K], b [..., K, N] (broadcast)  y        adj_x, adj_y
//   Add, Sub, Mul    a, b (numpy broadcasting)                 y        activation
//   AveragePool2D    x [N,H,W,C]                               y        filter, stride, padding, activation
//   MaxPool2D        x [N,H,W,C]                               y        filter, stride, padding, activation
//   Mean             x                                         y        axes, keep_dims
//   Relu, Relu6, ReluN1To1, HardSwish, HardSigmoid, Logistic, Tanh   x -> y
//   Clip             x                                         y        clip_min, clip_max
//   LeakyRelu        x                                         y        alpha
//   HardSigmoid      y = max(0, min(1, alpha * x + beta))      (ONNX; alpha 0.2, beta 0.5 by default)
//   Softmax          x (over the last axis)                    y        beta
//   Reshape          x                                         y        new_shape (one -1 allowed)
//   Flatten          x [d0, d1, ...]                           y [d0, d1 * ...]
//   Transpose        x                                         y        perm
//   Concatenation    x0, x1, ...                               y        axis, activation
//   Pad              x                                         y        paddings (before/after per dim), pad value = zero point
//   Quantize         x (float, or an integer type to requantize) y
//   Dequantize       x (int8/uint8/int16/float16)              y float32
//   FakeQuant        x float32                                 y float32 clip_min, clip_max (the range), num_bits, narrow_range
//                    (TensorFlow's FakeQuantWithMinMaxArgs: quantization-aware training's marks; the
//                    converter takes them as ranges and removes them, the interpreter runs them in float)
//   EmbeddingLookup  ids int32 [...], table [V, D...]          y [..., D...]  (TFLite EMBEDDING_LOOKUP / GATHER axis 0)
//   Rnn, Lstm, Gru   see "Recurrent ops" below
enum class OpKind : uint16_t {
  kConv2D = 1,
  kDepthwiseConv2D = 2,
  kFullyConnected = 3,
  kBatchMatMul = 4,
  kAdd = 10,
  kSub = 11,
  kMul = 12,
  kAveragePool2D = 20,
  kMaxPool2D = 21,
  kMean = 22,
  kRelu = 30,
  kRelu6 = 31,
  kReluN1To1 = 32,
  kClip = 33,
  kLeakyRelu = 34,
  kHardSwish = 35,
  kHardSigmoid = 36,
  kSoftmax = 40,
  kLogistic = 41,
  kTanh = 42,
  kReshape = 50,
  kFlatten = 51,
  kTranspose = 52,
  kConcatenation = 53,
  kPad = 54,
  kQuantize = 60,
  kDequantize = 61,
  kFakeQuant = 62,
  kEmbeddingLookup = 70,
  kRnn = 80,
  kLstm = 81,
  kGru = 82,
};

// Recurrent ops (sequence ops; one op runs the whole sequence, TFLite's UNIDIRECTIONAL_SEQUENCE_*
// and BIDIRECTIONAL_SEQUENCE_*). x is [B, T, I] (batch major) or [T, B, I] with time_major.
// Per direction d (forward; with `bidirectional` also backward) the inputs are, in order:
//   Rnn:  w [H, I], r [H, H], b [H]                        h_t = act(w x_t + r h_{t-1} + b)
//   Lstm: w [4H, I], r [4H, H], b [4H]   gates stacked i, f, g (cell), o:
//         i = sig(.), f = sig(.), g = act(.), o = sig(.); c_t = clip(f c_{t-1} + i g); h_t = o act(c_t)
//   Gru:  w [3H, I], r [3H, H], b [6H]   gates stacked z (update), r (reset), n (new), biases
//         w-side then r-side (ONNX layout, linear_before_reset = 1, as Keras reset_after):
//         z = sig(Wz x + bwz + Rz h + brz), r = sig(Wr x + bwr + Rr h + brr),
//         n = tanh(Wn x + bwn + r * (Rn h + brn)), h_t = (1 - z) n + z h_{t-1}
// followed (all directions' weights first, then) by optional initial states per direction:
// Rnn, Gru h0 [B, H]; Lstm h0 [B, H], c0 [B, H] (absent: zeros).
//   inputs = x, {w, r, b} x directions, {h0 (, c0)} x directions   (absent states: kNoTensor)
// Output y: [B, T, H * directions] (time_major: [T, B, H * directions]); the backward direction's
// outputs are concatenated after the forward ones along the last axis.
// Float weights give a float op; int8 weights (per-tensor or per-axis along axis 0, i.e. per row)
// with float x give the hybrid op (activations quantized per batch row on the fly, as TFLite's
// hybrid sequence ops; attribute asymmetric_quantize_inputs).
// `activation` (RNN's act, LSTM's cell act) uses RecurrentActivation.
// Integer Lstm (TFLite's full-integer "8x8->16" UNIDIRECTIONAL_SEQUENCE_LSTM): x int8 (per tensor),
// w and r int8 symmetric with one scale per gate (per axis 0, uniform within each gate's H rows, or
// per tensor), b int32 [4H], y int8; unidirectional, tanh, no initial states (they start as TFLite
// resets its variables: h at the output state's zero point, c at 0). The quantization TFLite keeps
// in tensors the IR does not have -- the output state h, the cell state c (a power of two in
// [2^-15, 2^-9]) and the hidden intermediate (h before it becomes the output state) -- is carried
// by the attributes lstm_state_scale / _zero_point, lstm_cell_scale and lstm_hidden_scale /
// _zero_point; the gate pre-activations are Q3.12 (TFLite's fixed choice without layer norm).
// kernels/reference/integer_lstm.hpp states the arithmetic.
enum class RecurrentActivation : uint8_t { kTanh = 0, kRelu = 1, kSigmoid = 2 };

inline const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kConv2D: return "Conv2D";
    case OpKind::kDepthwiseConv2D: return "DepthwiseConv2D";
    case OpKind::kFullyConnected: return "FullyConnected";
    case OpKind::kBatchMatMul: return "BatchMatMul";
    case OpKind::kAdd: return "Add";
    case OpKind::kSub: return "Sub";
    case OpKind::kMul: return "Mul";
    case OpKind::kAveragePool2D: return "AveragePool2D";
    case OpKind::kMaxPool2D: return "MaxPool2D";
    case OpKind::kMean: return "Mean";
    case OpKind::kRelu: return "Relu";
    case OpKind::kRelu6: return "Relu6";
    case OpKind::kReluN1To1: return "ReluN1To1";
    case OpKind::kClip: return "Clip";
    case OpKind::kLeakyRelu: return "LeakyRelu";
    case OpKind::kHardSwish: return "HardSwish";
    case OpKind::kHardSigmoid: return "HardSigmoid";
    case OpKind::kSoftmax: return "Softmax";
    case OpKind::kLogistic: return "Logistic";
    case OpKind::kTanh: return "Tanh";
    case OpKind::kReshape: return "Reshape";
    case OpKind::kFlatten: return "Flatten";
    case OpKind::kTranspose: return "Transpose";
    case OpKind::kConcatenation: return "Concatenation";
    case OpKind::kPad: return "Pad";
    case OpKind::kQuantize: return "Quantize";
    case OpKind::kDequantize: return "Dequantize";
    case OpKind::kFakeQuant: return "FakeQuant";
    case OpKind::kEmbeddingLookup: return "EmbeddingLookup";
    case OpKind::kRnn: return "Rnn";
    case OpKind::kLstm: return "Lstm";
    case OpKind::kGru: return "Gru";
  }
  return nullptr;
}

// The output parameters TFLite fixes for a quantized op (Softmax and Logistic: 1/256 with zero point
// -128 for int8, 0 for uint8; Tanh: 1/128 with 0 for int8, 128 for uint8), or none.
inline std::optional<QuantParams> fixed_output_params(OpKind kind, DType dtype) {
  const bool int8 = dtype == DType::kInt8;
  switch (kind) {
    case OpKind::kSoftmax:
    case OpKind::kLogistic: return QuantParams{1.0f / 256.0f, int8 ? -128 : 0};
    case OpKind::kTanh: return QuantParams{1.0f / 128.0f, int8 ? 0 : 128};
    default: return std::nullopt;
  }
}

// Every op kind, in numeric order (for tables, tests and the file reader's check).
inline constexpr OpKind kAllOpKinds[] = {
    OpKind::kConv2D,    OpKind::kDepthwiseConv2D, OpKind::kFullyConnected, OpKind::kBatchMatMul,
    OpKind::kAdd,       OpKind::kSub,             OpKind::kMul,            OpKind::kAveragePool2D,
    OpKind::kMaxPool2D, OpKind::kMean,            OpKind::kRelu,           OpKind::kRelu6,
    OpKind::kReluN1To1, OpKind::kClip,            OpKind::kLeakyRelu,      OpKind::kHardSwish,
    OpKind::kHardSigmoid, OpKind::kSoftmax,       OpKind::kLogistic,       OpKind::kTanh,
    OpKind::kReshape,   OpKind::kFlatten,         OpKind::kTranspose,      OpKind::kConcatenation,
    OpKind::kPad,       OpKind::kQuantize,        OpKind::kDequantize,     OpKind::kFakeQuant,
    OpKind::kEmbeddingLookup,
    OpKind::kRnn,       OpKind::kLstm,            OpKind::kGru,
};

inline bool is_known_op_kind(uint32_t v) {
  return v <= 0xFFFF && op_kind_name(static_cast<OpKind>(v)) != nullptr;
}

// Typed attributes. One struct serves every op (each reads the fields its row above names; the
// rest keep their defaults), so builders, the validator and the file format share one list.
struct Attributes {
  // Windowed ops (Conv2D, DepthwiseConv2D, pooling).
  int32_t stride_h = 1, stride_w = 1;
  int32_t dilation_h = 1, dilation_w = 1;
  int32_t filter_h = 1, filter_w = 1;  // pooling window
  Padding padding = Padding::kValid;
  int32_t depth_multiplier = 1;
  FusedActivation activation = FusedActivation::kNone;
  // FullyConnected.
  bool keep_num_dims = false;
  bool asymmetric_quantize_inputs = true;  // hybrid ops: per-row zero point (TFLite's newer scheme)
  // BatchMatMul.
  bool adj_x = false, adj_y = false;
  // Concatenation, and Quantize/Dequantize-free ops that take one axis.
  int32_t axis = 0;
  // Mean.
  std::vector<int32_t> axes;
  bool keep_dims = false;
  // Transpose.
  std::vector<int32_t> perm;
  // Reshape.
  std::vector<int64_t> new_shape;
  // Pad: 2 * rank values, before and after per dimension.
  std::vector<int64_t> paddings;
  // Softmax beta, LeakyRelu / HardSigmoid alpha, HardSigmoid beta, Clip bounds.
  float beta = 1.0f;
  float alpha = 0.2f;
  float clip_min = 0.0f, clip_max = 6.0f;
  // Recurrent ops.
  bool time_major = false;
  bool bidirectional = false;
  RecurrentActivation recurrent_activation = RecurrentActivation::kTanh;
  float cell_clip = 0.0f;  // LSTM: 0 = no clip
  // FakeQuant (its range is clip_min, clip_max). Format 1.1.
  int32_t num_bits = 8;
  bool narrow_range = false;
  // Integer Lstm (int8 x; see "Recurrent ops"): the quantization of TFLite's output state variable
  // (h), of its hidden intermediate and of its cell state variable (c). Format 1.2.
  float lstm_state_scale = 0.0f;
  int32_t lstm_state_zero_point = 0;
  float lstm_hidden_scale = 0.0f;
  int32_t lstm_hidden_zero_point = 0;
  float lstm_cell_scale = 0.0f;

  friend bool operator==(const Attributes& a, const Attributes& b);
  friend bool operator!=(const Attributes& a, const Attributes& b) { return !(a == b); }
};

// The attribute list, once: visit(tag, name, field_of_each...) for every field, where tag is the
// field's stable number in the file format. One Attributes visits its fields (writer, reader,
// printing); two visit theirs in pairs (operator==).
template <class Visitor, class... Attrs>
void visit_attributes(Visitor&& visit, Attrs&... a) {
  visit(1, "stride_h", a.stride_h...);
  visit(2, "stride_w", a.stride_w...);
  visit(3, "dilation_h", a.dilation_h...);
  visit(4, "dilation_w", a.dilation_w...);
  visit(5, "filter_h", a.filter_h...);
  visit(6, "filter_w", a.filter_w...);
  visit(7, "padding", a.padding...);
  visit(8, "depth_multiplier", a.depth_multiplier...);
  visit(9, "activation", a.activation...);
  visit(10, "keep_num_dims", a.keep_num_dims...);
  visit(11, "asymmetric_quantize_inputs", a.asymmetric_quantize_inputs...);
  visit(12, "adj_x", a.adj_x...);
  visit(13, "adj_y", a.adj_y...);
  visit(14, "axis", a.axis...);
  visit(15, "axes", a.axes...);
  visit(16, "keep_dims", a.keep_dims...);
  visit(17, "perm", a.perm...);
  visit(18, "new_shape", a.new_shape...);
  visit(19, "paddings", a.paddings...);
  visit(20, "beta", a.beta...);
  visit(21, "alpha", a.alpha...);
  visit(22, "clip_min", a.clip_min...);
  visit(23, "clip_max", a.clip_max...);
  visit(24, "time_major", a.time_major...);
  visit(25, "bidirectional", a.bidirectional...);
  visit(26, "recurrent_activation", a.recurrent_activation...);
  visit(27, "cell_clip", a.cell_clip...);
  visit(28, "num_bits", a.num_bits...);
  visit(29, "narrow_range", a.narrow_range...);
  visit(30, "lstm_state_scale", a.lstm_state_scale...);
  visit(31, "lstm_state_zero_point", a.lstm_state_zero_point...);
  visit(32, "lstm_hidden_scale", a.lstm_hidden_scale...);
  visit(33, "lstm_hidden_zero_point", a.lstm_hidden_zero_point...);
  visit(34, "lstm_cell_scale", a.lstm_cell_scale...);
}

inline bool operator==(const Attributes& a, const Attributes& b) {
  bool equal = true;
  visit_attributes([&](int, const char*, const auto& x, const auto& y) { equal = equal && x == y; }, a, b);
  return equal;
}

struct Op {
  OpKind kind = OpKind::kRelu;
  std::string name;  // optional, for messages and profiles; empty gets "op <index>"
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  Attributes attrs;
};

// ---- Tensors ---------------------------------------------------------------------------------

// Immutable bytes, 64-byte aligned, either owned or borrowed from a longer-lived owner (a mapped
// file). Copies share the bytes.
class Buffer {
 public:
  static constexpr std::size_t kAlignment = 64;

  Buffer() = default;

  // A new aligned copy of `size` bytes.
  static Buffer copy_of(const void* data, std::size_t size) {
    Buffer b = allocate(size);
    if (size) std::memcpy(const_cast<uint8_t*>(b.data_), data, size);
    return b;
  }
  template <class T>
  static Buffer copy_of(const std::vector<T>& v) {
    return copy_of(v.data(), v.size() * sizeof(T));
  }

  // `size` bytes of zeros, writable through mutable_data() until shared.
  static Buffer allocate(std::size_t size) {
    Buffer b;
    const std::size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    void* p = rounded ? ::operator new(rounded, std::align_val_t(kAlignment)) : nullptr;
    if (p) std::memset(p, 0, rounded);
    b.owner_ = std::shared_ptr<void>(p, [](void* q) {
      if (q) ::operator delete(q, std::align_val_t(kAlignment));
    });
    b.data_ = static_cast<const uint8_t*>(p);
    b.size_ = size;
    return b;
  }

  // Bytes that `owner` keeps alive (e.g. a mapped file); not copied.
  static Buffer borrow(const void* data, std::size_t size, std::shared_ptr<const void> owner) {
    Buffer b;
    b.data_ = static_cast<const uint8_t*>(data);
    b.size_ = size;
    b.owner_ = std::move(owner);
    return b;
  }

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return const_cast<uint8_t*>(data_); }  // only on a fresh allocate()
  std::size_t size() const { return size_; }
  bool empty() const { return data_ == nullptr && size_ == 0; }
  template <class T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }

 private:
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<const void> owner_;
};

// TFLite's QuantizationParameters: empty scales = not quantized; one scale = per tensor; more (or
// per_axis set) = per axis along `axis`.
struct Quantization {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  int32_t axis = 0;
  bool per_axis = false;

  static Quantization per_tensor(float scale, int32_t zero_point) { return {{scale}, {zero_point}, 0, false}; }
  static Quantization per_tensor(QuantParams p) { return per_tensor(p.scale, p.zero_point); }
  static Quantization along(int32_t axis, std::vector<float> scales, std::vector<int32_t> zero_points = {}) {
    if (zero_points.empty()) zero_points.assign(scales.size(), 0);
    return {std::move(scales), std::move(zero_points), axis, true};
  }
  static Quantization along(const PerAxisQuantParams& p) { return along(p.axis, p.scales, p.zero_points); }

  bool empty() const { return scales.empty(); }
  bool is_per_tensor() const { return !per_axis && scales.size() == 1; }
  bool is_per_axis() const { return per_axis; }
  QuantParams params() const { return {scales.at(0), zero_points.at(0)}; }  // per tensor
  PerAxisQuantParams axis_params() const { return {scales, zero_points, axis}; }

  friend bool operator==(const Quantization& a, const Quantization& b) {
    return a.scales == b.scales && a.zero_points == b.zero_points && a.per_axis == b.per_axis &&
           (!a.per_axis || a.axis == b.axis);
  }
  friend bool operator!=(const Quantization& a, const Quantization& b) { return !(a == b); }
};

struct Tensor {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  Quantization quant;
  Buffer data;  // empty for runtime values; constants hold byte_size() bytes

  bool is_constant() const { return !data.empty(); }
  bool is_quantized() const { return !quant.empty(); }

  // Bytes of a dense tensor of this dtype and shape.
  std::size_t byte_size() const { return tensor_bytes(dtype, shape); }

  static std::size_t tensor_bytes(DType t, const Shape& s) {
    const auto n = static_cast<std::size_t>(s.num_elements());
    return t == DType::kInt4 ? packed_int4_bytes(n) : n * dtype_size(t);
  }
};

// ---- Graph -----------------------------------------------------------------------------------

struct Graph {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  // in execution order: every input is a constant, a graph input or an earlier output
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;

  Tensor& tensor(TensorId id) { return tensors.at(static_cast<std::size_t>(id)); }
  const Tensor& tensor(TensorId id) const { return tensors.at(static_cast<std::size_t>(id)); }
  int tensor_count() const { return static_cast<int>(tensors.size()); }
  int op_count() const { return static_cast<int>(ops.size()); }

  // The tensor named `name`, or kNoTensor.
  TensorId find_tensor(const std::string& tensor_name) const {
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].name == tensor_name) return static_cast<TensorId>(i);
    }
    return kNoTensor;
  }

  TensorId add_tensor(Tensor t) {
    tensors.push_back(std::move(t));
    return static_cast<TensorId>(tensors.size() - 1);
  }

  // "op 3 'conv1' (Conv2D)": how messages name an op.
  std::string describe_op(int index) const {
    const Op& op = ops.at(static_cast<std::size_t>(index));
    const char* kind = op_kind_name(op.kind);
    std::string s = "op " + std::to_string(index);
    if (!op.name.empty()) s += " '" + op.name + "'";
    return s + " (" + (kind ? kind : "unknown kind " + std::to_string(static_cast<int>(op.kind))) + ")";
  }
  // "tensor 7 'conv1/weights'": how messages name a tensor.
  std::string describe_tensor(TensorId id) const {
    std::string s = "tensor " + std::to_string(id);
    if (id >= 0 && id < tensor_count() && !tensor(id).name.empty()) s += " '" + tensor(id).name + "'";
    return s;
  }
};

// The graph without the tensors that no op reads or writes and that are not graph inputs or outputs
// (e.g. float weights a converter replaced); tensor ids are renumbered in their old order.
inline Graph without_unused_tensors(const Graph& g) {
  std::vector<TensorId> remap(g.tensors.size(), kNoTensor);
  auto mark = [&](TensorId id) {
    if (id != kNoTensor) remap[static_cast<std::size_t>(id)] = 0;
  };
  for (const Op& op : g.ops) {
    for (TensorId id : op.inputs) mark(id);
    for (TensorId id : op.outputs) mark(id);
  }
  for (TensorId id : g.inputs) mark(id);
  for (TensorId id : g.outputs) mark(id);
  Graph out;
  out.name = g.name;
  for (std::size_t i = 0; i < g.tensors.size(); ++i) {
    if (remap[i] == kNoTensor) continue;
    remap[i] = out.add_tensor(g.tensors[i]);
  }
  auto map = [&](TensorId id) { return id == kNoTensor ? kNoTensor : remap[static_cast<std::size_t>(id)]; };
  out.ops = g.ops;
  for (Op& op : out.ops) {
    for (TensorId& id : op.inputs) id = map(id);
    for (TensorId& id : op.outputs) id = map(id);
  }
  for (TensorId id : g.inputs) out.inputs.push_back(map(id));
  for (TensorId id : g.outputs) out.outputs.push_back(map(id));
  return out;
}

}  // namespace ir
PTQ_NAMESPACE_END
