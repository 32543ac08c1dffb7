// io/tflite_writer.hpp: writes a ptq graph as a TFLite model (.tflite, schema version 3).
//
//   Result<std::vector<uint8_t>> bytes = io::serialize_tflite(graph);
//   Status s = io::write_tflite("model.tflite", graph);     // atomic (ir::write_file_atomically)
//
// The inverse of io/tflite_reader.hpp for the same op subset (reference: tensorflow/lite/schema/
// schema.fbs; each builtin's inputs as tensorflow/lite/kernels/*.cc read them):
// - One subgraph; tensor i of the graph is TFLite tensor i, each constant in its own buffer
//   (buffer 0 is the empty sentinel), buffer data 64-byte aligned so that ptq's reader maps it in
//   place. Extra tensors TFLite wants are appended: constant operands (RESHAPE's shape, MEAN's axes,
//   PAD's paddings, TRANSPOSE's perm), a float32 tensor per fp16 constant with a DEQUANTIZE in
//   front of the ops (TFLite's float kernels take float32 weights), the LSTM's per-gate weights
//   and the recurrent ops' variable state tensors.
// - Flatten becomes RESHAPE, EmbeddingLookup becomes GATHER (axis 0), Lstm becomes
//   UNIDIRECTIONAL_SEQUENCE_LSTM (gates split back; a per-axis scale per gate must be uniform
//   within the gate, as TFLite's hybrid LSTM takes one scale per gate matrix; an int8 Lstm is the
//   integer 8x8->16 LSTM: 24 inputs, int8 / int16 variable states and the 5 intermediates TFLite
//   wants, quantized from the op's lstm_* attributes), Rnn becomes
//   UNIDIRECTIONAL_SEQUENCE_RNN. Ops outside the subset (Clip, HardSigmoid, Gru, bidirectional
//   recurrent ops, ...) are an unimplemented error naming the op.
// - OperatorCode.version is 1 for every op, deprecated_builtin_code holds min(code, 127) and
//   builtin_code the code, as the converter writes them; no metadata (no min_runtime_version).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/io/tflite_schema.hpp"

PTQ_NAMESPACE_BEGIN
namespace io {
namespace tflite_detail {

using namespace ::ptq::io::tflite;  // NOLINT: the schema's names

inline int8_t to_tensor_type(DType t) {
  switch (t) {
    case DType::kFloat32: return static_cast<int8_t>(TensorType::kFloat32);
    case DType::kFloat16: return static_cast<int8_t>(TensorType::kFloat16);
    case DType::kInt8: return static_cast<int8_t>(TensorType::kInt8);
    case DType::kUInt8: return static_cast<int8_t>(TensorType::kUInt8);
    case DType::kInt16: return static_cast<int8_t>(TensorType::kInt16);
    case DType::kInt32: return static_cast<int8_t>(TensorType::kInt32);
    case DType::kInt64: return static_cast<int8_t>(TensorType::kInt64);
    case DType::kInt4: return static_cast<int8_t>(TensorType::kInt4);
  }
  return -1;
}

inline int8_t to_activation(FusedActivation a) {
  switch (a) {
    case FusedActivation::kNone: return static_cast<int8_t>(Activation::kNone);
    case FusedActivation::kRelu: return static_cast<int8_t>(Activation::kRelu);
    case FusedActivation::kRelu6: return static_cast<int8_t>(Activation::kRelu6);
    case FusedActivation::kReluN1To1: return static_cast<int8_t>(Activation::kReluN1To1);
  }
  return 0;
}

class Writer {
 public:
  explicit Writer(const ir::Graph& g) : g_(g) {}

  Result<std::vector<uint8_t>> write() {
    for (const ir::Tensor& t : g_.tensors) {
      if (to_tensor_type(t.dtype) < 0) return invalid_argument("tensor '" + t.name + "': unknown dtype");
      TensorOut o;
      o.src = &t;
      tensors_.push_back(o);
    }
    widen_fp16_constants();
    for (int i = 0; i < g_.op_count(); ++i) PTQ_RETURN_IF_ERROR(map_op(i));
    return finish();
  }

 private:
  struct TensorOut {
    const ir::Tensor* src = nullptr;  // or the fields below for an extra tensor
    ir::Tensor extra;
    bool is_variable = false;
    const ir::Tensor& t() const { return src ? *src : extra; }
  };
  struct OpOut {
    int32_t code = 0;
    std::vector<int32_t> in, out, inter;  // inter: Operator.intermediates (the integer LSTM's)
    uint8_t opts_type = options::kNone;
    // Options as (slot, kind, value) records, written into the options table.
    struct Field {
      int slot;
      char kind;  // 'b' byte, 'i' int32, 'f' float, 'v' int32 vector
      int32_t i = 0;
      float f = 0;
      std::vector<int32_t> v;
    };
    std::vector<Field> fields;
    void byte(int s, int32_t x) { fields.push_back({s, 'b', x, 0, {}}); }
    void i32(int s, int32_t x) { fields.push_back({s, 'i', x, 0, {}}); }
    void f32(int s, float x) { fields.push_back({s, 'f', 0, x, {}}); }
    void vec(int s, std::vector<int32_t> x) { fields.push_back({s, 'v', 0, 0, std::move(x)}); }
  };

  int32_t add_extra(ir::Tensor t, bool is_variable = false) {
    TensorOut o;
    o.extra = std::move(t);
    o.is_variable = is_variable;
    tensors_.push_back(std::move(o));
    return static_cast<int32_t>(tensors_.size() - 1);
  }

  std::string unique_name(const std::string& base) {
    std::string name = base;
    for (int k = 1; taken(name); ++k) name = base + "_" + std::to_string(k);
    names_.push_back(name);
    return name;
  }
  bool taken(const std::string& name) const {
    if (g_.find_tensor(name) != ir::kNoTensor) return true;
    for (const std::string& n : names_) {
      if (n == name) return true;
    }
    return false;
  }

  int32_t const_i32(const std::string& name, const std::vector<int32_t>& values, Shape shape) {
    ir::Tensor t;
    t.name = unique_name(name);
    t.dtype = DType::kInt32;
    t.shape = std::move(shape);
    t.data = ir::Buffer::copy_of(values);
    return add_extra(std::move(t));
  }

  // Every fp16 constant an op reads (other than a Dequantize) is read through a DEQUANTIZE.
  void widen_fp16_constants() {
    widened_.assign(g_.tensors.size(), -1);
    for (const ir::Op& op : g_.ops) {
      if (op.kind == ir::OpKind::kDequantize || op.kind == ir::OpKind::kLstm) continue;  // Lstm: per gate
      for (ir::TensorId id : op.inputs) {
        if (id < 0 || widened_[static_cast<std::size_t>(id)] >= 0) continue;
        const ir::Tensor& t = g_.tensor(id);
        if (!t.is_constant() || t.dtype != DType::kFloat16) continue;
        ir::Tensor f;
        f.name = unique_name(t.name + "_dequantize");
        f.dtype = DType::kFloat32;
        f.shape = t.shape;
        const int32_t out = add_extra(std::move(f));
        widened_[static_cast<std::size_t>(id)] = out;
        OpOut o;
        o.code = op::kDequantize;
        o.in = {id};
        o.out = {out};
        ops_.push_back(std::move(o));
      }
    }
  }
  int32_t in_id(ir::TensorId id) const {
    if (id < 0) return -1;
    const int32_t w = widened_[static_cast<std::size_t>(id)];
    return w >= 0 ? w : id;
  }

  Status unsupported(int i, const std::string& message) {
    return unimplemented("write_tflite: " + g_.describe_op(i) + ": " + message);
  }

  Status map_op(int i) {
    const ir::Op& op = g_.ops[static_cast<std::size_t>(i)];
    const ir::Attributes& a = op.attrs;
    OpOut o;
    for (ir::TensorId t : op.inputs) o.in.push_back(op.kind == ir::OpKind::kDequantize ? t : in_id(t));
    o.out.assign(op.outputs.begin(), op.outputs.end());
    const auto inputs_upto = [&](std::size_t n) { o.in.resize(std::min(o.in.size(), n)); };
    switch (op.kind) {
      case ir::OpKind::kConv2D:
        o.code = op::kConv2D;
        o.opts_type = options::kConv2D;
        o.byte(field::kConvPadding, a.padding == Padding::kSame ? 0 : 1);
        o.i32(field::kConvStrideW, a.stride_w);
        o.i32(field::kConvStrideH, a.stride_h);
        o.byte(field::kConvActivation, to_activation(a.activation));
        o.i32(field::kConvDilationW, a.dilation_w);
        o.i32(field::kConvDilationH, a.dilation_h);
        break;
      case ir::OpKind::kDepthwiseConv2D:
        o.code = op::kDepthwiseConv2D;
        o.opts_type = options::kDepthwiseConv2D;
        o.byte(field::kDwPadding, a.padding == Padding::kSame ? 0 : 1);
        o.i32(field::kDwStrideW, a.stride_w);
        o.i32(field::kDwStrideH, a.stride_h);
        o.i32(field::kDwDepthMultiplier, a.depth_multiplier);
        o.byte(field::kDwActivation, to_activation(a.activation));
        o.i32(field::kDwDilationW, a.dilation_w);
        o.i32(field::kDwDilationH, a.dilation_h);
        break;
      case ir::OpKind::kFullyConnected:
        o.code = op::kFullyConnected;
        o.opts_type = options::kFullyConnected;
        o.byte(field::kFcActivation, to_activation(a.activation));
        o.byte(field::kFcKeepNumDims, a.keep_num_dims);
        o.byte(field::kFcAsymmetricQuantizeInputs, a.asymmetric_quantize_inputs);
        break;
      case ir::OpKind::kBatchMatMul:
        o.code = op::kBatchMatMul;
        o.opts_type = options::kBatchMatMul;
        o.byte(field::kBatchMatMulAdjX, a.adj_x);
        o.byte(field::kBatchMatMulAdjY, a.adj_y);
        o.byte(field::kBatchMatMulAsymmetric, a.asymmetric_quantize_inputs);
        break;
      case ir::OpKind::kAdd:
      case ir::OpKind::kSub:
      case ir::OpKind::kMul:
        o.code = op.kind == ir::OpKind::kAdd ? op::kAdd : op.kind == ir::OpKind::kSub ? op::kSub : op::kMul;
        o.opts_type = op.kind == ir::OpKind::kAdd ? options::kAdd : op.kind == ir::OpKind::kSub ? options::kSub : options::kMul;
        o.byte(0, to_activation(a.activation));
        break;
      case ir::OpKind::kAveragePool2D:
      case ir::OpKind::kMaxPool2D:
        o.code = op.kind == ir::OpKind::kMaxPool2D ? op::kMaxPool2D : op::kAveragePool2D;
        o.opts_type = options::kPool2D;
        o.byte(field::kPoolPadding, a.padding == Padding::kSame ? 0 : 1);
        o.i32(field::kPoolStrideW, a.stride_w);
        o.i32(field::kPoolStrideH, a.stride_h);
        o.i32(field::kPoolFilterW, a.filter_w);
        o.i32(field::kPoolFilterH, a.filter_h);
        o.byte(field::kPoolActivation, to_activation(a.activation));
        break;
      case ir::OpKind::kMean:
        o.code = op::kMean;
        o.opts_type = options::kReducer;
        o.byte(field::kReducerKeepDims, a.keep_dims);
        o.in.push_back(const_i32(g_.tensor(op.outputs[0]).name + "/axes", a.axes,
                                 Shape{static_cast<int64_t>(a.axes.size())}));
        break;
      case ir::OpKind::kReshape:
      case ir::OpKind::kFlatten: {
        o.code = op::kReshape;
        o.opts_type = options::kReshape;
        const std::vector<int64_t>& d = g_.tensor(op.outputs[0]).shape.dims();
        std::vector<int32_t> shape(d.begin(), d.end());
        o.vec(field::kReshapeNewShape, shape);
        o.in.push_back(const_i32(g_.tensor(op.outputs[0]).name + "/shape", shape, Shape{static_cast<int64_t>(shape.size())}));
        break;
      }
      case ir::OpKind::kSoftmax:
        o.code = op::kSoftmax;
        o.opts_type = options::kSoftmax;
        o.f32(field::kSoftmaxBeta, a.beta);
        break;
      case ir::OpKind::kLogistic: o.code = op::kLogistic; break;
      case ir::OpKind::kTanh: o.code = op::kTanh; break;
      case ir::OpKind::kHardSwish: o.code = op::kHardSwish; break;
      case ir::OpKind::kRelu: o.code = op::kRelu; break;
      case ir::OpKind::kRelu6: o.code = op::kRelu6; break;
      case ir::OpKind::kReluN1To1: o.code = op::kReluN1To1; break;
      case ir::OpKind::kQuantize: o.code = op::kQuantize; break;
      case ir::OpKind::kDequantize: o.code = op::kDequantize; break;
      case ir::OpKind::kLeakyRelu:
        o.code = op::kLeakyRelu;
        o.opts_type = options::kLeakyRelu;
        o.f32(field::kLeakyReluAlpha, a.alpha);
        break;
      case ir::OpKind::kPad: {
        o.code = op::kPad;
        const int64_t rank = static_cast<int64_t>(a.paddings.size() / 2);
        std::vector<int32_t> p;
        for (int64_t v : a.paddings) {
          if (v < 0 || v > INT32_MAX) return unsupported(i, "padding " + std::to_string(v) + " does not fit TFLite's int32");
          p.push_back(static_cast<int32_t>(v));
        }
        o.in.push_back(const_i32(g_.tensor(op.outputs[0]).name + "/paddings", p, Shape{rank, 2}));
        break;
      }
      case ir::OpKind::kConcatenation:
        o.code = op::kConcatenation;
        o.opts_type = options::kConcatenation;
        o.i32(field::kConcatAxis, a.axis);
        o.byte(field::kConcatActivation, to_activation(a.activation));
        break;
      case ir::OpKind::kTranspose:
        o.code = op::kTranspose;
        o.in.push_back(const_i32(g_.tensor(op.outputs[0]).name + "/perm", a.perm, Shape{static_cast<int64_t>(a.perm.size())}));
        break;
      case ir::OpKind::kEmbeddingLookup:
        o.code = op::kGather;
        o.opts_type = options::kGather;
        o.i32(field::kGatherAxis, 0);
        std::swap(o.in[0], o.in[1]);  // GATHER takes (params, indices)
        break;
      case ir::OpKind::kRnn: {
        if (a.bidirectional) return unsupported(i, "bidirectional RNNs are not written");
        if (op.inputs.size() > 4 && op.inputs[4] != ir::kNoTensor) return unsupported(i, "an initial state is not written");
        if (a.recurrent_activation == ir::RecurrentActivation::kSigmoid) return unsupported(i, "sigmoid RNN activation");
        o.code = op::kUnidirectionalSequenceRnn;
        o.opts_type = options::kSequenceRnn;
        o.byte(field::kSeqRnnTimeMajor, a.time_major);
        o.byte(field::kSeqRnnActivation, static_cast<int8_t>(a.recurrent_activation == ir::RecurrentActivation::kRelu
                                                                   ? Activation::kRelu : Activation::kTanh));
        o.byte(field::kSeqRnnAsymmetric, a.asymmetric_quantize_inputs);
        inputs_upto(4);
        o.in.push_back(state(op, g_.tensor(op.inputs[2]).shape[0], "/hidden_state"));
        break;
      }
      case ir::OpKind::kLstm: {
        if (a.bidirectional) return unsupported(i, "bidirectional LSTMs are not written");
        for (std::size_t k = 4; k < op.inputs.size(); ++k) {
          if (op.inputs[k] != ir::kNoTensor) return unsupported(i, "an initial state is not written");
        }
        if (a.recurrent_activation == ir::RecurrentActivation::kSigmoid) return unsupported(i, "sigmoid cell activation");
        o.code = op::kUnidirectionalSequenceLstm;
        o.opts_type = options::kUnidirectionalSequenceLstm;
        o.byte(field::kSeqLstmActivation, static_cast<int8_t>(a.recurrent_activation == ir::RecurrentActivation::kRelu
                                                                    ? Activation::kRelu : Activation::kTanh));
        o.f32(field::kSeqLstmCellClip, a.cell_clip);
        o.byte(field::kSeqLstmTimeMajor, a.time_major);
        o.byte(field::kSeqLstmAsymmetric, a.asymmetric_quantize_inputs);
        std::vector<int32_t> w, r, b;
        PTQ_RETURN_IF_ERROR(split_gates(i, op.inputs[1], &w));
        PTQ_RETURN_IF_ERROR(split_gates(i, op.inputs[2], &r));
        PTQ_RETURN_IF_ERROR(split_gates(i, op.inputs[3], &b));
        const int64_t hidden = g_.tensor(op.inputs[2]).shape[1];
        if (g_.tensor(op.inputs[0]).dtype == DType::kInt8) {  // the integer (8x8->16) LSTM
          const ir::Quantization state_q = ir::Quantization::per_tensor(a.lstm_state_scale, a.lstm_state_zero_point);
          const ir::Quantization cell_q = ir::Quantization::per_tensor(a.lstm_cell_scale, 0);
          o.in = {in_id(op.inputs[0]), w[0], w[1], w[2], w[3], r[0], r[1], r[2], r[3], -1, -1, -1,
                  b[0], b[1], b[2], b[3], -1, -1,
                  state(op, hidden, "/output_state", DType::kInt8, state_q),
                  state(op, hidden, "/cell_state", DType::kInt16, cell_q), -1, -1, -1, -1};
          static const char* const kIntermediate[] = {"input_to_input", "input_to_forget", "input_to_cell",
                                                      "input_to_output", "effective_hidden_scale"};
          for (int k = 0; k < 5; ++k) {
            ir::Tensor t;
            t.name = unique_name(g_.tensor(op.outputs[0]).name + "/" + kIntermediate[k] + "_intermediate");
            t.shape = Shape{0};
            if (k == 4) {
              t.dtype = DType::kInt8;
              t.quant = ir::Quantization::per_tensor(a.lstm_hidden_scale, a.lstm_hidden_zero_point);
            }
            o.inter.push_back(add_extra(std::move(t)));
          }
          break;
        }
        o.in = {in_id(op.inputs[0]), w[0], w[1], w[2], w[3], r[0], r[1], r[2], r[3], -1, -1, -1,
                b[0], b[1], b[2], b[3], -1, -1, state(op, hidden, "/output_state"), state(op, hidden, "/cell_state")};
        break;
      }
      default:
        return unsupported(i, "no TFLite builtin in ptq's writer for this op");
    }
    ops_.push_back(std::move(o));
    return {};
  }

  // A variable state [batch, width] for a recurrent op (float32; the integer LSTM's int8 output
  // state and int16 cell state carry its quantization), which TFLite starts at zero (int8: at its
  // zero point).
  int32_t state(const ir::Op& op, int64_t width, const char* suffix, DType dtype = DType::kFloat32,
                ir::Quantization quant = {}) {
    const ir::Tensor& x = g_.tensor(op.inputs[0]);
    const int64_t batch = x.shape.rank() >= 2 ? (op.attrs.time_major ? x.shape[1] : x.shape[0]) : 1;
    ir::Tensor t;
    t.name = unique_name(g_.tensor(op.outputs[0]).name + suffix);
    t.dtype = dtype;
    t.quant = std::move(quant);
    t.shape = Shape{batch, width};
    return add_extra(std::move(t), /*is_variable=*/true);
  }

  // Splits a stacked [4H, ...] constant into four gate constants (per-tensor quantized when the
  // scales within each gate are equal, as TFLite's hybrid LSTM needs).
  Status split_gates(int i, ir::TensorId id, std::vector<int32_t>* out) {
    const ir::Tensor& t = g_.tensor(id);
    if (!t.is_constant() || t.shape.rank() < 1 || t.shape[0] % 4 != 0 || t.dtype == DType::kInt4) {
      return unsupported(i, g_.describe_tensor(id) + " is not a constant stacked along axis 0 in 4 gates");
    }
    const int64_t rows = t.shape[0] / 4;
    const std::size_t bytes = t.data.size() / 4;
    std::vector<int64_t> dims = t.shape.dims();
    dims[0] = rows;
    static const char* const kGate[] = {"input", "forget", "cell", "output"};
    for (int gate = 0; gate < 4; ++gate) {
      ir::Tensor p;
      p.name = unique_name(t.name + "/" + kGate[gate]);
      p.dtype = t.dtype;
      p.shape = Shape(dims);
      p.data = ir::Buffer::copy_of(t.data.data() + bytes * static_cast<std::size_t>(gate), bytes);
      if (!t.quant.empty()) {
        if (!t.quant.is_per_axis() || t.quant.axis != 0) {
          p.quant = t.quant;  // per tensor: the same scale for every gate
        } else {
          const std::size_t first = static_cast<std::size_t>(rows * gate);
          for (std::size_t r = first; r < first + static_cast<std::size_t>(rows); ++r) {
            if (t.quant.scales[r] != t.quant.scales[first] || t.quant.zero_points[r] != t.quant.zero_points[first]) {
              return unsupported(i, g_.describe_tensor(id) + ": gate " + kGate[gate] +
                                        " has more than one scale (TFLite's LSTM takes one per gate matrix)");
            }
          }
          p.quant = ir::Quantization::per_tensor(t.quant.scales[first], t.quant.zero_points[first]);
        }
      }
      const bool fp16 = p.dtype == DType::kFloat16;
      const Shape shape = p.shape;
      const std::string name = p.name;
      int32_t id_out = add_extra(std::move(p));
      if (fp16) {  // TFLite's LSTM takes float32 gates: each fp16 gate through its own DEQUANTIZE
        ir::Tensor f;
        f.name = unique_name(name + "_dequantize");
        f.shape = shape;
        const int32_t widened = add_extra(std::move(f));
        OpOut d;
        d.code = op::kDequantize;
        d.in = {id_out};
        d.out = {widened};
        ops_.push_back(std::move(d));
        id_out = widened;
      }
      out->push_back(id_out);
    }
    return {};
  }

  Result<std::vector<uint8_t>> finish() {
    FlatBuilder b;
    // Buffers: 0 is the empty sentinel; each constant gets the next one.
    std::vector<FlatBuilder::Ref> buffer_refs;
    b.start_table();
    buffer_refs.push_back(b.end_table());
    std::vector<uint32_t> buffer_of(tensors_.size(), 0);
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const ir::Tensor& t = tensors_[i].t();
      if (!t.is_constant()) continue;
      const FlatBuilder::Ref data = b.vector_bytes(t.data.data(), t.data.size(), 1, ir::Buffer::kAlignment);
      b.start_table();
      b.add_ref(field::kBufferData, data);
      buffer_of[i] = static_cast<uint32_t>(buffer_refs.size());
      buffer_refs.push_back(b.end_table());
    }
    // Tensors.
    std::vector<FlatBuilder::Ref> tensor_refs;
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const ir::Tensor& t = tensors_[i].t();
      std::vector<int32_t> dims;
      for (int64_t d : t.shape.dims()) {
        if (d < 0 || d > INT32_MAX) return invalid_argument("write_tflite: tensor '" + t.name + "': dim " + std::to_string(d) + " does not fit int32");
        dims.push_back(static_cast<int32_t>(d));
      }
      const FlatBuilder::Ref shape = b.vector_i32(dims);
      const FlatBuilder::Ref name = b.string(t.name);
      FlatBuilder::Ref quant = 0;
      if (!t.quant.empty()) {
        const FlatBuilder::Ref scale = b.vector_f32(t.quant.scales);
        const FlatBuilder::Ref zp = b.vector_i64(std::vector<int64_t>(t.quant.zero_points.begin(), t.quant.zero_points.end()));
        b.start_table();
        b.add_ref(field::kQuantScale, scale);
        b.add_ref(field::kQuantZeroPoint, zp);
        if (t.quant.is_per_axis()) b.add_i32(field::kQuantDimension, t.quant.axis);
        quant = b.end_table();
      }
      b.start_table();
      b.add_ref(field::kTensorShape, shape);
      b.add_u8(field::kTensorType, static_cast<uint8_t>(to_tensor_type(t.dtype)));
      if (buffer_of[i]) b.add_u32(field::kTensorBuffer, buffer_of[i]);
      b.add_ref(field::kTensorName, name);
      if (quant) b.add_ref(field::kTensorQuantization, quant);
      if (tensors_[i].is_variable) b.add_u8(field::kTensorIsVariable, 1);
      tensor_refs.push_back(b.end_table());
    }
    // Operator codes, in order of first use.
    std::vector<int32_t> codes;
    std::vector<uint32_t> code_index;
    for (const OpOut& o : ops_) {
      uint32_t k = 0;
      while (k < codes.size() && codes[k] != o.code) ++k;
      if (k == codes.size()) codes.push_back(o.code);
      code_index.push_back(k);
    }
    std::vector<FlatBuilder::Ref> code_refs;
    for (int32_t code : codes) {
      b.start_table();
      b.add_u8(field::kOpCodeDeprecatedBuiltin, static_cast<uint8_t>(code < op::kPlaceholderForGreaterOpCodes ? code : op::kPlaceholderForGreaterOpCodes));
      b.add_i32(field::kOpCodeVersion, 1);
      b.add_i32(field::kOpCodeBuiltin, code);
      code_refs.push_back(b.end_table());
    }
    // Operators.
    std::vector<FlatBuilder::Ref> op_refs;
    for (std::size_t k = 0; k < ops_.size(); ++k) {
      const OpOut& o = ops_[k];
      const FlatBuilder::Ref in = b.vector_i32(o.in);
      const FlatBuilder::Ref out = b.vector_i32(o.out);
      const FlatBuilder::Ref inter = o.inter.empty() ? 0 : b.vector_i32(o.inter);
      FlatBuilder::Ref opts = 0;
      if (o.opts_type != options::kNone) {
        std::map<int, FlatBuilder::Ref> vecs;
        for (const auto& f : o.fields) {
          if (f.kind == 'v') vecs[f.slot] = b.vector_i32(f.v);
        }
        b.start_table();
        for (const auto& f : o.fields) {
          switch (f.kind) {
            case 'b': b.add_u8(f.slot, static_cast<uint8_t>(f.i)); break;
            case 'i': b.add_i32(f.slot, f.i); break;
            case 'f': b.add_f32(f.slot, f.f); break;
            default: b.add_ref(f.slot, vecs[f.slot]); break;
          }
        }
        opts = b.end_table();
      }
      b.start_table();
      b.add_u32(field::kOperatorOpcodeIndex, code_index[k]);
      b.add_ref(field::kOperatorInputs, in);
      b.add_ref(field::kOperatorOutputs, out);
      if (opts) {
        b.add_u8(field::kOperatorBuiltinOptionsType, o.opts_type);
        b.add_ref(field::kOperatorBuiltinOptions, opts);
      }
      if (inter) b.add_ref(field::kOperatorIntermediates, inter);
      op_refs.push_back(b.end_table());
    }
    // Subgraph and model.
    const FlatBuilder::Ref tensors = b.vector_refs(tensor_refs);
    const FlatBuilder::Ref inputs = b.vector_i32(std::vector<int32_t>(g_.inputs.begin(), g_.inputs.end()));
    const FlatBuilder::Ref outputs = b.vector_i32(std::vector<int32_t>(g_.outputs.begin(), g_.outputs.end()));
    const FlatBuilder::Ref operators = b.vector_refs(op_refs);
    const FlatBuilder::Ref sg_name = b.string(g_.name);
    b.start_table();
    b.add_ref(field::kSubGraphTensors, tensors);
    b.add_ref(field::kSubGraphInputs, inputs);
    b.add_ref(field::kSubGraphOutputs, outputs);
    b.add_ref(field::kSubGraphOperators, operators);
    b.add_ref(field::kSubGraphName, sg_name);
    const FlatBuilder::Ref sg = b.end_table();
    const FlatBuilder::Ref subgraphs = b.vector_refs({sg});
    const FlatBuilder::Ref opcodes = b.vector_refs(code_refs);
    const FlatBuilder::Ref buffers = b.vector_refs(buffer_refs);
    const FlatBuilder::Ref description = b.string("ptq");
    b.start_table();
    b.add_u32(field::kModelVersion, kSchemaVersion);
    b.add_ref(field::kModelOperatorCodes, opcodes);
    b.add_ref(field::kModelSubgraphs, subgraphs);
    b.add_ref(field::kModelDescription, description);
    b.add_ref(field::kModelBuffers, buffers);
    const FlatBuilder::Ref model = b.end_table();
    if (b.size() > (std::size_t{1} << 31) - 64) {
      return unimplemented("write_tflite: the model exceeds 2 GB (buffers outside the flatbuffer are not written)");
    }
    return b.finish(model, kFileIdentifier);
  }

  const ir::Graph& g_;
  std::vector<TensorOut> tensors_;
  std::vector<OpOut> ops_;
  std::vector<int32_t> widened_;
  std::vector<std::string> names_;
};

}  // namespace tflite_detail

// The graph as .tflite bytes. Errors: unimplemented naming an op outside the TFLite subset.
inline Result<std::vector<uint8_t>> serialize_tflite(const ir::Graph& graph) {
  tflite_detail::Writer w(graph);
  return w.write();
}

// Writes the graph as a .tflite file, atomically (ir::write_file_atomically).
inline Status write_tflite(const std::string& path, const ir::Graph& graph) {
  const std::string context = "write_tflite '" + path + "'";
  Result<std::vector<uint8_t>> bytes = serialize_tflite(graph);
  if (!bytes.ok()) return Status(bytes.status()).with_context(context);
  return ir::write_file_atomically(path, context, [&](auto&& sink) {
    return sink(bytes->data(), bytes->size());
  });
}

}  // namespace io
PTQ_NAMESPACE_END
