// io/tflite_schema.hpp: the parts of TFLite's flatbuffer schema (version 3) ptq reads and writes,
// and a small bounds-checked flatbuffer walker -- no flatbuffers library, no generated code.
//
// Reference: tensorflow/lite/schema/schema.fbs (TensorFlow's TFLite schema, file identifier "TFL3").
// A flatbuffer table's fields are numbered in declaration order; field n lives at vtable slot n,
// i.e. vtable byte 4 + 2n (a union field takes two slots: its type byte, then its value). The
// numbers below are those slots, taken from the schema's field lists; the BuiltinOptions union's
// type ids are the 1-based positions of its members; BuiltinOperator values are the enum's.
//
// The walker (FlatView) follows the flatbuffers binary format (flatbuffers.dev "internals"):
// little-endian; a uoffset (u32) is relative to where it is stored and points forward; a table
// starts with an soffset (i32) to its vtable (vtable = table - soffset); a vtable is u16 vtable
// size, u16 table size, then one u16 per field (0 = absent, else the field's offset in the table);
// a vector or string is a u32 length then its elements (strings add a 0 byte). Every read checks its
// bytes against the buffer before it touches them, and every failure is a data_loss Status whose
// message starts "at byte N:" and names the field ("at byte 1234: Tensor.shape: vector runs past
// the end of the file"). The walker keeps the first error and answers defaults afterwards, so a
// reader can walk a table and test ok() once.
//
// The builder (FlatBuilder) lays a flatbuffer out from its end, as flatbuffers' own builder does
// (uoffsets point forward, so children are written before their parents); every table gets its
// own vtable, placed just before the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN
namespace io {
namespace tflite {

// ---- Schema numbers ----------------------------------------------------------------------------

inline constexpr char kFileIdentifier[5] = "TFL3";
inline constexpr uint32_t kSchemaVersion = 3;

// Vtable slots (field numbers) per table.
namespace field {
// table Model
inline constexpr int kModelVersion = 0, kModelOperatorCodes = 1, kModelSubgraphs = 2, kModelDescription = 3,
                     kModelBuffers = 4, kModelMetadataBuffer = 5, kModelMetadata = 6, kModelSignatureDefs = 7;
// table OperatorCode
inline constexpr int kOpCodeDeprecatedBuiltin = 0, kOpCodeCustomCode = 1, kOpCodeVersion = 2, kOpCodeBuiltin = 3;
// table SubGraph
inline constexpr int kSubGraphTensors = 0, kSubGraphInputs = 1, kSubGraphOutputs = 2, kSubGraphOperators = 3,
                     kSubGraphName = 4;
// table Buffer
inline constexpr int kBufferData = 0, kBufferOffset = 1, kBufferSize = 2;
// table Tensor
inline constexpr int kTensorShape = 0, kTensorType = 1, kTensorBuffer = 2, kTensorName = 3, kTensorQuantization = 4,
                     kTensorIsVariable = 5, kTensorSparsity = 6, kTensorShapeSignature = 7, kTensorHasRank = 8;
// table QuantizationParameters
inline constexpr int kQuantMin = 0, kQuantMax = 1, kQuantScale = 2, kQuantZeroPoint = 3, kQuantDetailsType = 4,
                     kQuantDetails = 5, kQuantDimension = 6;
// table Operator
inline constexpr int kOperatorOpcodeIndex = 0, kOperatorInputs = 1, kOperatorOutputs = 2,
                     kOperatorBuiltinOptionsType = 3, kOperatorBuiltinOptions = 4, kOperatorCustomOptions = 5,
                     kOperatorIntermediates = 8, kOperatorBuiltinOptions2Type = 11;
// table Metadata
inline constexpr int kMetadataName = 0, kMetadataBuffer = 1;
// Options tables.
inline constexpr int kConvPadding = 0, kConvStrideW = 1, kConvStrideH = 2, kConvActivation = 3, kConvDilationW = 4,
                     kConvDilationH = 5;
inline constexpr int kDwPadding = 0, kDwStrideW = 1, kDwStrideH = 2, kDwDepthMultiplier = 3, kDwActivation = 4,
                     kDwDilationW = 5, kDwDilationH = 6;
inline constexpr int kPoolPadding = 0, kPoolStrideW = 1, kPoolStrideH = 2, kPoolFilterW = 3, kPoolFilterH = 4,
                     kPoolActivation = 5;
inline constexpr int kFcActivation = 0, kFcWeightsFormat = 1, kFcKeepNumDims = 2, kFcAsymmetricQuantizeInputs = 3;
inline constexpr int kSoftmaxBeta = 0;
inline constexpr int kConcatAxis = 0, kConcatActivation = 1;
inline constexpr int kAddActivation = 0, kAddPotScaleInt16 = 1;  // AddOptions, SubOptions
inline constexpr int kMulActivation = 0;
inline constexpr int kReshapeNewShape = 0;
inline constexpr int kGatherAxis = 0, kGatherBatchDims = 1;
inline constexpr int kReducerKeepDims = 0;
inline constexpr int kSeqRnnTimeMajor = 0, kSeqRnnActivation = 1, kSeqRnnAsymmetric = 2;
inline constexpr int kSeqLstmActivation = 0, kSeqLstmCellClip = 1, kSeqLstmProjClip = 2, kSeqLstmTimeMajor = 3,
                     kSeqLstmAsymmetric = 4, kSeqLstmDiagonal = 5;
inline constexpr int kBatchMatMulAdjX = 0, kBatchMatMulAdjY = 1, kBatchMatMulAsymmetric = 2;
inline constexpr int kLeakyReluAlpha = 0;
}  // namespace field

// enum TensorType.
enum class TensorType : int8_t {
  kFloat32 = 0, kFloat16 = 1, kInt32 = 2, kUInt8 = 3, kInt64 = 4, kString = 5, kBool = 6, kInt16 = 7,
  kComplex64 = 8, kInt8 = 9, kFloat64 = 10, kComplex128 = 11, kUInt64 = 12, kResource = 13, kVariant = 14,
  kUInt32 = 15, kUInt16 = 16, kInt4 = 17,
};

// enum ActivationFunctionType.
enum class Activation : int8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3, kTanh = 4, kSignBit = 5 };

// union BuiltinOptions: type ids (0 = NONE).
namespace options {
inline constexpr uint8_t kNone = 0, kConv2D = 1, kDepthwiseConv2D = 2, kPool2D = 5, kRnn = 7, kFullyConnected = 8,
                         kSoftmax = 9, kConcatenation = 10, kAdd = 11, kLstm = 14, kReshape = 17, kMul = 21, kPad = 22,
                         kGather = 23, kTranspose = 26, kReducer = 27, kSub = 28, kSequenceRnn = 31,
                         kDequantize = 38, kUnidirectionalSequenceLstm = 71, kLeakyRelu = 75, kQuantize = 89,
                         kHardSwish = 91, kBatchMatMul = 101;
}  // namespace options

// enum BuiltinOperator: the codes ptq maps.
namespace op {
inline constexpr int32_t kAdd = 0, kAveragePool2D = 1, kConcatenation = 2, kConv2D = 3, kDepthwiseConv2D = 4,
                         kDequantize = 6, kEmbeddingLookup = 7, kFullyConnected = 9, kLogistic = 14, kMaxPool2D = 17,
                         kMul = 18, kRelu = 19, kReluN1To1 = 20, kRelu6 = 21, kReshape = 22, kSoftmax = 25,
                         kTanh = 28, kCustom = 32, kPad = 34, kUnidirectionalSequenceRnn = 35, kGather = 36,
                         kTranspose = 39, kMean = 40, kSub = 41, kUnidirectionalSequenceLstm = 44, kLeakyRelu = 98,
                         kQuantize = 114, kHardSwish = 117, kBatchMatMul = 126,
                         kPlaceholderForGreaterOpCodes = 127;
}  // namespace op

// BuiltinOperator names 0..161 (schema.fbs order), for messages about ops ptq does not map.
inline const char* builtin_operator_name(int32_t code) {
  static const char* const kNames[] = {
      "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
      "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
      "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
      "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
      "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
      "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
      "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
      "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
      "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
      "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
      "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR",
      "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
      "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
      "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
      "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
      "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
      "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
      "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
      "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
      "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
      "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
      "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT"};
  constexpr int32_t kCount = static_cast<int32_t>(sizeof(kNames) / sizeof(kNames[0]));
  return code >= 0 && code < kCount ? kNames[code] : nullptr;
}

inline std::string builtin_operator_text(int32_t code) {
  const char* n = builtin_operator_name(code);
  return n ? std::string(n) : "builtin code " + std::to_string(code);
}

// ---- Reading -----------------------------------------------------------------------------------

inline uint64_t read_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A table found in the buffer: where it starts, its vtable and their sizes (all checked).
struct Table {
  std::size_t pos = 0;      // the table's first byte (its soffset to the vtable)
  std::size_t vtable = 0;   // the vtable's first byte
  uint32_t vtable_size = 0; // bytes
  uint32_t table_size = 0;  // bytes of the table's inline part
  bool present = false;     // false for an absent optional table
};

// A vector (or string) found in the buffer: its elements start at `data`.
struct Vec {
  std::size_t data = 0;
  uint32_t length = 0;
  bool present = false;
};

class FlatView {
 public:
  FlatView(const uint8_t* data, std::size_t size) : d_(data), n_(size) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const uint8_t* bytes() const { return d_; }
  std::size_t size() const { return n_; }

  // Records the first error: "at byte <at>: <what>: <message>".
  void fail(std::size_t at, const std::string& what, const std::string& message) {
    if (status_.ok()) status_ = data_loss("at byte " + std::to_string(at) + ": " + what + ": " + message);
  }

  bool in_bounds(std::size_t pos, uint64_t count) const { return pos <= n_ && count <= n_ - pos; }

  // The root table (uoffset at byte 0).
  Table root(const char* what) {
    if (n_ < 8) {
      fail(0, what, "the file is " + std::to_string(n_) + " bytes, too short for a flatbuffer");
      return {};
    }
    return table_at(static_cast<std::size_t>(read_le(d_, 4)), 0, what);
  }

  // The table that starts at `pos` (referenced from byte `from`).
  Table table_at(std::size_t pos, std::size_t from, const std::string& what) {
    Table t;
    if (!ok()) return t;
    if (!in_bounds(pos, 4)) {
      fail(from, what, "table offset " + std::to_string(pos) + " is past the end of the file (" + std::to_string(n_) +
                           " bytes)");
      return t;
    }
    const int64_t soff = static_cast<int32_t>(static_cast<uint32_t>(read_le(d_ + pos, 4)));
    const int64_t vt = static_cast<int64_t>(pos) - soff;
    if (vt < 0 || !in_bounds(static_cast<std::size_t>(vt), 4)) {
      fail(pos, what, "vtable offset " + std::to_string(vt) + " is outside the file");
      return t;
    }
    t.vtable = static_cast<std::size_t>(vt);
    t.vtable_size = static_cast<uint32_t>(read_le(d_ + t.vtable, 2));
    t.table_size = static_cast<uint32_t>(read_le(d_ + t.vtable + 2, 2));
    if (t.vtable_size < 4 || t.vtable_size % 2 != 0 || !in_bounds(t.vtable, t.vtable_size)) {
      fail(t.vtable, what, "vtable of " + std::to_string(t.vtable_size) + " bytes is malformed or runs past the end");
      return t;
    }
    if (t.table_size < 4 || !in_bounds(pos, t.table_size)) {
      fail(pos, what, "table of " + std::to_string(t.table_size) + " bytes runs past the end of the file");
      return t;
    }
    t.pos = pos;
    t.present = true;
    return t;
  }

  // Where field `slot` of `t` is (0 if absent), checked to hold `bytes` bytes inside the table.
  std::size_t field_pos(const Table& t, int slot, int bytes, const std::string& what) {
    if (!ok() || !t.present) return 0;
    const std::size_t entry = 4 + 2 * static_cast<std::size_t>(slot);
    if (entry + 2 > t.vtable_size) return 0;
    const uint32_t off = static_cast<uint32_t>(read_le(d_ + t.vtable + entry, 2));
    if (off == 0) return 0;
    if (off < 4 || static_cast<uint64_t>(off) + static_cast<uint64_t>(bytes) > t.table_size) {
      fail(t.vtable + entry, what, "field offset " + std::to_string(off) + " is outside its table (" +
                                       std::to_string(t.table_size) + " bytes)");
      return 0;
    }
    return t.pos + off;
  }

  bool has(const Table& t, int slot) {
    if (!t.present) return false;
    const std::size_t entry = 4 + 2 * static_cast<std::size_t>(slot);
    return entry + 2 <= t.vtable_size && read_le(d_ + t.vtable + entry, 2) != 0;
  }

  uint64_t scalar_u(const Table& t, int slot, int bytes, uint64_t dflt, const std::string& what) {
    const std::size_t p = field_pos(t, slot, bytes, what);
    return p ? read_le(d_ + p, bytes) : dflt;
  }
  int32_t i32(const Table& t, int slot, int32_t dflt, const std::string& what) {
    return static_cast<int32_t>(static_cast<uint32_t>(scalar_u(t, slot, 4, static_cast<uint32_t>(dflt), what)));
  }
  uint32_t u32(const Table& t, int slot, uint32_t dflt, const std::string& what) {
    return static_cast<uint32_t>(scalar_u(t, slot, 4, dflt, what));
  }
  uint64_t u64(const Table& t, int slot, uint64_t dflt, const std::string& what) {
    return scalar_u(t, slot, 8, dflt, what);
  }
  int8_t i8(const Table& t, int slot, int8_t dflt, const std::string& what) {
    return static_cast<int8_t>(static_cast<uint8_t>(scalar_u(t, slot, 1, static_cast<uint8_t>(dflt), what)));
  }
  uint8_t u8(const Table& t, int slot, uint8_t dflt, const std::string& what) {
    return static_cast<uint8_t>(scalar_u(t, slot, 1, dflt, what));
  }
  bool boolean(const Table& t, int slot, bool dflt, const std::string& what) {
    return scalar_u(t, slot, 1, dflt ? 1 : 0, what) != 0;
  }
  float f32(const Table& t, int slot, float dflt, const std::string& what) {
    const std::size_t p = field_pos(t, slot, 4, what);
    if (!p) return dflt;
    const uint32_t bits = static_cast<uint32_t>(read_le(d_ + p, 4));
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }

  // The position a uoffset field points to, or 0 if absent.
  std::size_t follow(const Table& t, int slot, const std::string& what) {
    const std::size_t p = field_pos(t, slot, 4, what);
    if (!p) return 0;
    const uint64_t target = p + read_le(d_ + p, 4);
    if (target >= n_) {
      fail(p, what, "offset to " + std::to_string(target) + " is past the end of the file (" + std::to_string(n_) +
                        " bytes)");
      return 0;
    }
    return static_cast<std::size_t>(target);
  }

  Table table(const Table& t, int slot, const std::string& what) {
    const std::size_t p = follow(t, slot, what);
    return p ? table_at(p, p, what) : Table{};
  }

  // A vector of `elem_size`-byte elements (strings: elem_size 1).
  Vec vec_at(std::size_t pos, int elem_size, const std::string& what) {
    Vec v;
    if (!ok()) return v;
    if (!in_bounds(pos, 4)) {
      fail(pos, what, "vector length is past the end of the file");
      return v;
    }
    v.length = static_cast<uint32_t>(read_le(d_ + pos, 4));
    if (!in_bounds(pos + 4, static_cast<uint64_t>(v.length) * static_cast<uint64_t>(elem_size))) {
      fail(pos, what, "vector of " + std::to_string(v.length) + " elements of " + std::to_string(elem_size) +
                          " bytes runs past the end of the file");
      v.length = 0;
      return v;
    }
    v.data = pos + 4;
    v.present = true;
    return v;
  }
  Vec vec(const Table& t, int slot, int elem_size, const std::string& what) {
    const std::size_t p = follow(t, slot, what);
    return p ? vec_at(p, elem_size, what) : Vec{};
  }

  std::string str(const Table& t, int slot, const std::string& what) {
    const Vec v = vec(t, slot, 1, what);
    if (!v.present) return {};
    return std::string(reinterpret_cast<const char*>(d_ + v.data), v.length);
  }

  // Element i of a vector of tables.
  Table table_elem(const Vec& v, uint32_t i, const std::string& what) {
    if (!ok() || i >= v.length) return {};
    const std::size_t p = v.data + 4 * static_cast<std::size_t>(i);
    const uint64_t target = p + read_le(d_ + p, 4);
    if (target >= n_) {
      fail(p, what, "offset to " + std::to_string(target) + " is past the end of the file");
      return {};
    }
    return table_at(static_cast<std::size_t>(target), p, what);
  }

  int32_t i32_elem(const Vec& v, uint32_t i) const {
    return static_cast<int32_t>(static_cast<uint32_t>(read_le(d_ + v.data + 4 * static_cast<std::size_t>(i), 4)));
  }
  int64_t i64_elem(const Vec& v, uint32_t i) const {
    return static_cast<int64_t>(read_le(d_ + v.data + 8 * static_cast<std::size_t>(i), 8));
  }
  float f32_elem(const Vec& v, uint32_t i) const {
    const uint32_t bits = static_cast<uint32_t>(read_le(d_ + v.data + 4 * static_cast<std::size_t>(i), 4));
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }

 private:
  const uint8_t* d_;
  std::size_t n_;
  Status status_;
};

// ---- Writing -----------------------------------------------------------------------------------

// Builds a flatbuffer back to front, as flatbuffers' own builder does: every object is written
// before whatever refers to it, so references (uoffsets) point forward in the finished buffer.
// Positions ("refs") are counted from the END of the buffer, which does not move as it grows.
class FlatBuilder {
 public:
  using Ref = uint32_t;  // bytes from the end of the buffer to the object's first byte

  std::size_t size() const { return buf_.size(); }

  // Pads so that after writing `bytes` more, the size is a multiple of `align` (also records the
  // largest alignment, for the final buffer).
  void align(std::size_t bytes, std::size_t alignment) {
    if (alignment > max_align_) max_align_ = alignment;
    while ((buf_.size() + bytes) % alignment != 0) buf_.push_back(0);
  }

  // A vector of raw little-endian elements; `align_to` extra alignment for the data (buffers: 16).
  Ref vector_bytes(const void* data, std::size_t count, std::size_t elem_size, std::size_t align_to = 4) {
    const std::size_t bytes = count * elem_size;
    align(bytes, align_to > 4 ? align_to : 4);
    align(bytes + 4, 4);
    prepend_raw(data, bytes);
    return prepend_u32(static_cast<uint32_t>(count));
  }
  Ref vector_i32(const std::vector<int32_t>& v) { return vector_le(v); }
  Ref vector_i64(const std::vector<int64_t>& v) { return vector_le(v); }
  Ref vector_f32(const std::vector<float>& v) {
    std::vector<uint32_t> bits(v.size());
    if (!v.empty()) std::memcpy(bits.data(), v.data(), v.size() * 4);
    return vector_le(bits);
  }
  Ref string(const std::string& s) {
    align(s.size() + 1 + 4, 4);
    buf_.push_back(0);  // the terminator (the buffer is reversed at the end)
    prepend_raw(s.data(), s.size());
    return prepend_u32(static_cast<uint32_t>(s.size()));
  }
  // A vector of references (tables, strings).
  Ref vector_refs(const std::vector<Ref>& refs) {
    align(4 * refs.size() + 4, 4);
    for (std::size_t i = refs.size(); i-- > 0;) prepend_offset(refs[i]);
    return prepend_u32(static_cast<uint32_t>(refs.size()));
  }

  // Tables: start_table(), add fields, end_table().
  void start_table() {
    fields_.clear();
    table_start_ = buf_.size();
  }
  void add_u8(int slot, uint8_t v) { add_scalar(slot, v, 1); }
  void add_i32(int slot, int32_t v) { add_scalar(slot, static_cast<uint32_t>(v), 4); }
  void add_u32(int slot, uint32_t v) { add_scalar(slot, v, 4); }
  void add_f32(int slot, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    add_scalar(slot, bits, 4);
  }
  void add_ref(int slot, Ref r) {
    align(4, 4);
    prepend_offset(r);
    fields_.push_back({slot, static_cast<uint32_t>(buf_.size())});
  }
  Ref end_table() {
    // The soffset to the vtable comes first in the table; the vtable is written just before it,
    // so vtable = table - soffset with a positive soffset.
    align(4, 4);
    prepend_u32(0);  // placeholder for the soffset
    const uint32_t table_ref = static_cast<uint32_t>(buf_.size());
    int max_slot = -1;
    for (const auto& f : fields_) max_slot = f.slot > max_slot ? f.slot : max_slot;
    const std::size_t vt_entries = static_cast<std::size_t>(max_slot + 1);
    std::vector<uint16_t> vt(vt_entries, 0);
    for (const auto& f : fields_) vt[static_cast<std::size_t>(f.slot)] = static_cast<uint16_t>(table_ref - f.ref);
    const uint16_t table_size = static_cast<uint16_t>(table_ref - table_start_);
    // vtable: [vtable size][table size][field offsets...], 2-byte entries, prepended in reverse.
    for (std::size_t i = vt_entries; i-- > 0;) prepend_u16(vt[i]);
    prepend_u16(table_size);
    prepend_u16(static_cast<uint16_t>(4 + 2 * vt_entries));
    const uint32_t vtable_ref = static_cast<uint32_t>(buf_.size());
    // soffset = table - vtable (positions from the start) = vtable_ref - table_ref (from the end).
    const int32_t soffset = static_cast<int32_t>(vtable_ref - table_ref);
    // Patch the placeholder: it sits at distance table_ref from the end.
    patch_u32(table_ref, static_cast<uint32_t>(soffset));
    return table_ref;
  }

  // Finishes the buffer with `root` and the file identifier; returns the bytes front to back.
  std::vector<uint8_t> finish(Ref root, const char identifier[4]) {
    align(8, max_align_ > 8 ? max_align_ : 8);
    prepend_raw(identifier, 4);
    prepend_offset(root);
    std::vector<uint8_t> out(buf_.rbegin(), buf_.rend());
    return out;
  }

 private:
  struct Field {
    int slot;
    uint32_t ref;
  };

  template <class T>
  Ref vector_le(const std::vector<T>& v) {
    align(sizeof(T) * v.size() + 4, sizeof(T) > 4 ? sizeof(T) : 4);
    for (std::size_t i = v.size(); i-- > 0;) prepend_le(static_cast<uint64_t>(v[i]), static_cast<int>(sizeof(T)));
    return prepend_u32(static_cast<uint32_t>(v.size()));
  }
  void add_scalar(int slot, uint64_t v, int bytes) {
    align(static_cast<std::size_t>(bytes), static_cast<std::size_t>(bytes));
    prepend_le(v, bytes);
    fields_.push_back({slot, static_cast<uint32_t>(buf_.size())});
  }
  // The buffer is kept reversed: prepending pushes bytes to the back, last byte first.
  void prepend_le(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void prepend_raw(const void* data, std::size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (std::size_t i = n; i-- > 0;) buf_.push_back(p[i]);
  }
  Ref prepend_u32(uint32_t v) {
    prepend_le(v, 4);
    return static_cast<Ref>(buf_.size());
  }
  void prepend_u16(uint16_t v) { prepend_le(v, 2); }
  // A uoffset to `target`: stored at distance s from the end (after prepending), target at
  // distance target; in front-to-back terms the target is (s - target) bytes further on.
  void prepend_offset(Ref target) {
    const uint32_t here = static_cast<uint32_t>(buf_.size() + 4);
    prepend_u32(here - target);
  }
  void patch_u32(uint32_t ref, uint32_t v) {
    // The 4 bytes of the object at distance `ref` from the end are buf_[ref-1] .. buf_[ref-4]
    // (reversed storage: buf_[ref-1] is its first byte).
    for (int i = 0; i < 4; ++i) buf_[ref - 1 - static_cast<uint32_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  }

  std::vector<uint8_t> buf_;  // reversed
  std::vector<Field> fields_;
  std::size_t table_start_ = 0;
  std::size_t max_align_ = 4;
};

}  // namespace tflite
}  // namespace io
PTQ_NAMESPACE_END
