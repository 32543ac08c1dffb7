// ir/format.hpp: ptq's model file -- a Graph written to bytes or a file, and read back.
//
// The layout is specified in format.md beside this header; the constants below are its numbers.
// In short: a little-endian binary of a 64-byte header (magic, major/minor version, flags, file
// size, where the table of contents is, a checksum), a table of contents of sections (string table,
// tensor table, op table, attribute records, graph inputs/outputs, blob area), and the constant
// tensors' bytes in the blob area, each aligned to 64 bytes from the start of the file so that a
// reader that maps the file uses the weights in place (load_model does).
//
// Why it is built this way:
// - Everything a reader needs to size or place something is validated before it is used: offsets
//   and sizes against the file and their section, counts against the bytes left (so no allocation
//   is ever driven by a number that was not first checked against the data), names against the
//   string table (and, in total, against its size, so shared ranges cannot amplify memory), dtypes,
//   shapes (dims >= 0, element count and byte size without overflow), quantization, op kinds,
//   tensor references and every attribute record's type and length. Each error is a Status
//   (data_loss; unimplemented for a newer major version or a feature of a newer minor version that
//   cannot be ignored) whose message starts "at byte N:" and names the field, e.g.
//   "at byte 1234: tensor 5 'conv/w': shape dim 2 = -3 is negative".
// - Checksums are XXH64 (seed 0; the public xxHash64 algorithm, implemented here): one per section
//   in the table of contents, and one in the header over the header and the table of contents, so
//   a corruption is located to its section, and the blob checksum (the only costly one: it reads
//   every weight byte) can be skipped by a reader that wants lazy paging (ReadOptions). Structure
//   is validated first and checksums last, so a corrupt field is reported by name when the
//   structure shows it, and by its section's checksum otherwise.
// - The writer checks the graph against the reader's own rules (the same functions), so a file
//   ptq writes is a file ptq reads; it writes only attributes that differ from their defaults,
//   each as a tagged record (tag, type, length) that a reader of an older minor version can skip.
// - save_model is atomic: a temporary file in the target's directory, written, fsync'ed, then
//   renamed over the target; any failure removes the temporary and leaves an existing file as it
//   was. A loaded graph maps the file, and rename never modifies a mapped inode, so a model being
//   served is never changed under the reader by a later save_model.
//
// Standard library only, plus POSIX open/mmap where available (a plain-read fallback elsewhere);
// the atomic write is ir/file_io.hpp's, shared with io/npy.hpp. This is the ir floor: it includes core and ir only.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/nn.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/file_io.hpp"
#include "ptq/ir/graph.hpp"

#if defined(__unix__) || defined(__APPLE__)
#define PTQ_FORMAT_POSIX 1
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#define PTQ_FORMAT_POSIX 0
#include <filesystem>
#include <system_error>
#endif

PTQ_NAMESPACE_BEGIN
namespace ir {

// ---- The format's numbers (format.md) --------------------------------------------------------
namespace format {

inline constexpr uint8_t kMagic[8] = {0x89, 'P', 'T', 'Q', '\r', '\n', 0x1A, '\n'};
inline constexpr uint16_t kMajorVersion = 1;
inline constexpr uint16_t kMinorVersion = 2;  // 1.1: FakeQuant (op 62), attributes 28-29; 1.2: attributes 30-34 (integer Lstm)

inline constexpr std::size_t kHeaderSize = 64;
inline constexpr std::size_t kTocEntrySize = 32;
inline constexpr std::size_t kSectionAlignment = 8;  // every section but the blob area
inline constexpr std::size_t kBlobAlignment = 64;    // the blob area and every blob in it

// Header fields: byte offsets from the start of the file.
inline constexpr std::size_t kHeaderMagic = 0;       // 8 bytes
inline constexpr std::size_t kHeaderMajor = 8;       // u16
inline constexpr std::size_t kHeaderMinor = 10;      // u16
inline constexpr std::size_t kHeaderFlags = 12;      // u32, no flag defined in 1.0
inline constexpr std::size_t kHeaderFileSize = 16;   // u64
inline constexpr std::size_t kHeaderTocOffset = 24;  // u64
inline constexpr std::size_t kHeaderTocSize = 32;    // u64, bytes: entries * kTocEntrySize
inline constexpr std::size_t kHeaderReserved = 40;   // 16 bytes of zeros
inline constexpr std::size_t kHeaderChecksum = 56;   // u64: XXH64 of bytes [0, 56) then the TOC

// Table of contents entry fields: byte offsets within an entry.
inline constexpr std::size_t kTocId = 0;         // u32, a Section
inline constexpr std::size_t kTocCount = 4;      // u32, records (tensor and op tables), else 0
inline constexpr std::size_t kTocOffset = 8;     // u64, from the start of the file
inline constexpr std::size_t kTocSize = 16;      // u64, bytes
inline constexpr std::size_t kTocChecksum = 24;  // u64, XXH64 of the section's bytes

enum class Section : uint32_t {
  kStrings = 1,     // names, UTF-8 by convention, referenced as (offset, length); no terminators
  kTensors = 2,     // tensor records
  kOps = 3,         // op records, in execution order
  kGraph = 4,       // graph name, inputs, outputs
  kAttributes = 5,  // the ops' attribute records
  kBlobs = 6,       // constant tensor bytes, each 64-byte aligned
};

// Tensor record (variable size: kTensorFixedSize + 8 * rank + 8 * scale_count, a multiple of 8).
inline constexpr std::size_t kTensorName = 0;         // u32 offset, u32 length in the string table
inline constexpr std::size_t kTensorDtype = 8;        // u8, DType
inline constexpr std::size_t kTensorFlags = 9;        // u8, kTensorFlag*
inline constexpr std::size_t kTensorReserved = 10;    // u16, 0
inline constexpr std::size_t kTensorRank = 12;        // u32
inline constexpr std::size_t kTensorScaleCount = 16;  // u32, scales and zero points each
inline constexpr std::size_t kTensorAxis = 20;        // i32, quantized dimension (0 unless per axis)
inline constexpr std::size_t kTensorBlobOffset = 24;  // u64, from the start of the file (0 if none)
inline constexpr std::size_t kTensorBlobSize = 32;    // u64, bytes (0 if none)
inline constexpr std::size_t kTensorFixedSize = 40;   // then i64 dims[rank], f32 scales[n], i32 zero_points[n]
inline constexpr uint8_t kTensorFlagConstant = 1;
inline constexpr uint8_t kTensorFlagPerAxis = 2;

// Op record (variable size: kOpFixedSize + 4 * (inputs + outputs), zero-padded to a multiple of 8).
inline constexpr std::size_t kOpName = 0;          // u32 offset, u32 length in the string table
inline constexpr std::size_t kOpKind = 8;          // u16, OpKind
inline constexpr std::size_t kOpReserved = 10;     // u16, 0
inline constexpr std::size_t kOpInputCount = 12;   // u32
inline constexpr std::size_t kOpOutputCount = 16;  // u32
inline constexpr std::size_t kOpAttrSize = 20;     // u32, bytes of this op's attribute records
inline constexpr std::size_t kOpAttrOffset = 24;   // u64, from the start of the attribute section
inline constexpr std::size_t kOpFixedSize = 32;    // then i32 inputs[], i32 outputs[], padding

// Graph section: name, then i32 inputs[], i32 outputs[], zero-padded to a multiple of 8.
inline constexpr std::size_t kGraphName = 0;         // u32 offset, u32 length in the string table
inline constexpr std::size_t kGraphInputCount = 8;   // u32
inline constexpr std::size_t kGraphOutputCount = 12; // u32
inline constexpr std::size_t kGraphFixedSize = 16;

// Attribute record: u16 tag (visit_attributes' numbers), u16 type, u32 length, then `length` bytes.
inline constexpr std::size_t kAttrRecordHeaderSize = 8;
enum class AttrType : uint16_t {
  kInt32 = 1,       // 4 bytes
  kBool = 2,        // 1 byte, 0 or 1
  kFloat32 = 3,     // 4 bytes, IEEE binary32
  kEnum8 = 4,       // 1 byte, the enum's numeric value
  kInt32Array = 5,  // 4 * count bytes
  kInt64Array = 6,  // 8 * count bytes
};

// ---- Little-endian loads and stores ------------------------------------------------------------

inline uint64_t load_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline void store_le(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t load_le64(const uint8_t* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
#else
  return load_le(p, 8);
#endif
}

// ---- XXH64 -------------------------------------------------------------------------------------
// The xxHash64 algorithm (Yann Collet's public specification), streaming. Four 64-bit lanes
// consume 32-byte stripes (lane = rotl(lane + word * P2, 31) * P1); the lanes are merged, the
// length added, the tail (8-, 4-, 1-byte steps) mixed in and the result avalanched. About 8 bytes
// per cycle on a current x86 core, so checking a 50 MB model costs a few milliseconds.
class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0)
      : seed_(seed), v_{seed + kP1 + kP2, seed + kP2, seed, seed - kP1} {}

  void update(const void* data, std::size_t size) {
    if (size == 0) return;
    const uint8_t* p = static_cast<const uint8_t*>(data);
    total_ += size;
    if (buffered_ + size < 32) {
      std::memcpy(buf_ + buffered_, p, size);
      buffered_ += size;
      return;
    }
    if (buffered_ != 0) {
      const std::size_t fill = 32 - buffered_;
      std::memcpy(buf_ + buffered_, p, fill);
      stripes(buf_, 32);
      p += fill;
      size -= fill;
      buffered_ = 0;
    }
    const std::size_t bulk = size / 32 * 32;
    stripes(p, bulk);
    p += bulk;
    size -= bulk;
    if (size != 0) std::memcpy(buf_, p, size);
    buffered_ = size;
  }

  uint64_t digest() const {
    uint64_t h;
    if (total_ >= 32) {
      h = rotl(v_[0], 1) + rotl(v_[1], 7) + rotl(v_[2], 12) + rotl(v_[3], 18);
      for (uint64_t v : v_) h = (h ^ round(0, v)) * kP1 + kP4;
    } else {
      h = seed_ + kP5;
    }
    h += total_;
    const uint8_t* p = buf_;
    std::size_t n = buffered_;
    for (; n >= 8; p += 8, n -= 8) h = rotl(h ^ round(0, load_le64(p)), 27) * kP1 + kP4;
    if (n >= 4) {
      h = rotl(h ^ (load_le(p, 4) * kP1), 23) * kP2 + kP3;
      p += 4;
      n -= 4;
    }
    for (; n > 0; ++p, --n) h = rotl(h ^ (*p * kP5), 11) * kP1;
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    h ^= h >> 32;
    return h;
  }

 private:
  static constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
  static constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
  static constexpr uint64_t kP3 = 0x165667B19E3779F9ull;
  static constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ull;
  static constexpr uint64_t kP5 = 0x27D4EB2F165667C5ull;

  static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  static uint64_t round(uint64_t acc, uint64_t word) { return rotl(acc + word * kP2, 31) * kP1; }

  // `size` is a multiple of 32. The lanes live in locals so they stay in registers.
  void stripes(const uint8_t* p, std::size_t size) {
    uint64_t v0 = v_[0], v1 = v_[1], v2 = v_[2], v3 = v_[3];
    for (const uint8_t* end = p + size; p != end; p += 32) {
      v0 = round(v0, load_le64(p));
      v1 = round(v1, load_le64(p + 8));
      v2 = round(v2, load_le64(p + 16));
      v3 = round(v3, load_le64(p + 24));
    }
    v_[0] = v0, v_[1] = v1, v_[2] = v2, v_[3] = v3;
  }

  uint64_t seed_;
  uint64_t v_[4];
  uint64_t total_ = 0;
  uint8_t buf_[32] = {};
  std::size_t buffered_ = 0;
};

inline uint64_t xxh64(const void* data, std::size_t size, uint64_t seed = 0) {
  Xxh64 h(seed);
  h.update(data, size);
  return h.digest();
}

}  // namespace format

// What a reader checks beyond the structure (which it always checks).
struct ReadOptions {
  bool verify_checksums = true;      // header + table of contents, and the metadata sections (cheap)
  bool verify_blob_checksum = true;  // the blob area: reads every weight byte (pages in a mapping)
};

// ---- Rules shared by the writer and the reader -------------------------------------------------
namespace format_detail {

inline bool known(DType t) {
  switch (t) {
    case DType::kFloat32: case DType::kFloat16: case DType::kInt8: case DType::kUInt8:
    case DType::kInt16: case DType::kInt32: case DType::kInt64: case DType::kInt4:
      return true;
  }
  return false;  // no default label: a new enumerator warns here until the format lists it
}
inline bool known(Padding p) {
  switch (p) {
    case Padding::kSame: case Padding::kValid: return true;
  }
  return false;
}
inline bool known(FusedActivation a) {
  switch (a) {
    case FusedActivation::kNone: case FusedActivation::kRelu: case FusedActivation::kRelu6:
    case FusedActivation::kReluN1To1:
      return true;
  }
  return false;
}
inline bool known(RecurrentActivation a) {
  switch (a) {
    case RecurrentActivation::kTanh: case RecurrentActivation::kRelu: case RecurrentActivation::kSigmoid:
      return true;
  }
  return false;
}
inline const char* enum_type_name(Padding) { return "Padding"; }
inline const char* enum_type_name(FusedActivation) { return "FusedActivation"; }
inline const char* enum_type_name(RecurrentActivation) { return "RecurrentActivation"; }

inline std::string float_text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}
inline std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A name as messages show it: quoted, at most 64 bytes, non-printable bytes escaped (names come
// from untrusted files).
inline std::string quoted(const std::string& name) {
  std::string s = "'";
  const std::size_t n = std::min<std::size_t>(name.size(), 64);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  if (name.size() > n) s += "...";
  return s + "'";
}
inline std::string describe_tensor(std::size_t index, const std::string& name) {
  std::string s = "tensor " + std::to_string(index);
  return name.empty() ? s : s + " " + quoted(name);
}
inline std::string describe_op(std::size_t index, const std::string& name, uint32_t kind) {
  std::string s = "op " + std::to_string(index);
  if (!name.empty()) s += " " + quoted(name);
  const char* kind_name = is_known_op_kind(kind) ? op_kind_name(static_cast<OpKind>(kind)) : nullptr;
  return s + " (" + (kind_name ? std::string(kind_name) : "kind " + std::to_string(kind)) + ")";
}

// The field a rule concerns, so the reader can give its byte offset (the writer names it only).
enum class Field : uint8_t {
  kDtype, kFlags, kDim, kScaleCount, kAxis, kScale, kZeroPoint, kBlobSize,  // tensor
  kKind, kInput, kOutput, kAttribute,                                       // op
};
struct Problem {
  Field field = Field::kDtype;
  std::size_t index = 0;  // which dim, scale, zero point, input, output; an attribute's tag
  std::string message;    // empty: no problem
  explicit operator bool() const { return !message.empty(); }
};

// The dense byte size of `dtype` x `shape`, or a Problem when a dim is negative or the element
// count or byte size overflows int64 (the in-memory size is then also checked against size_t).
inline Problem dense_bytes(DType dtype, const Shape& shape, uint64_t* bytes) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  bool has_zero = false;
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape[i] < 0) {
      return {Field::kDim, static_cast<std::size_t>(i),
              "shape dim " + std::to_string(i) + " = " + std::to_string(shape[i]) + " is negative"};
    }
    has_zero = has_zero || shape[i] == 0;
  }
  uint64_t elements = has_zero ? 0 : 1;
  for (int i = 0; i < shape.rank() && !has_zero; ++i) {
    const auto d = static_cast<uint64_t>(shape[i]);
    if (elements > kMax / d) {
      return {Field::kDim, static_cast<std::size_t>(i),
              "shape " + shape.to_string() + " has more than 2^63 - 1 elements (overflow at dim " +
                  std::to_string(i) + ")"};
    }
    elements *= d;
  }
  const uint64_t element_size = dtype_size(dtype);
  if (dtype == DType::kInt4) {
    *bytes = elements / 2 + elements % 2;
  } else if (elements > kMax / element_size) {
    return {Field::kDim, 0,
            "shape " + shape.to_string() + " of " + dtype_name(dtype) + " is more than 2^63 - 1 bytes"};
  } else {
    *bytes = elements * element_size;
  }
  if (*bytes > std::numeric_limits<std::size_t>::max()) {
    return {Field::kDim, 0, "shape " + shape.to_string() + " of " + dtype_name(dtype) +
                                " does not fit in this platform's address space"};
  }
  return {};
}

inline bool zero_point_range(DType t, int64_t* lo, int64_t* hi) {
  switch (t) {
    case DType::kInt8: *lo = -128, *hi = 127; return true;
    case DType::kUInt8: *lo = 0, *hi = 255; return true;
    case DType::kInt16: *lo = -32768, *hi = 32767; return true;
    case DType::kInt4: *lo = -8, *hi = 7; return true;
    default: return false;
  }
}

// The quantization's axis is meaningful (and stored) when it is per axis or has several scales.
inline bool axis_is_meaningful(const Quantization& q) { return q.per_axis || q.scales.size() > 1; }

// One tensor's rules: known dtype; dims >= 0 and sizes without overflow; quantization with as many
// zero points as scales, scales finite and >= 0, zero points in the dtype's range, and when per
// axis an axis in [0, rank) and 1 or shape[axis] scales; a constant's byte count equal to its
// dense size.
inline Problem check_tensor(const Tensor& t, bool constant, uint64_t data_bytes) {
  if (!known(t.dtype)) {
    return {Field::kDtype, 0, "dtype " + std::to_string(static_cast<unsigned>(t.dtype)) +
                                  " is not a known dtype (0 to 7)"};
  }
  uint64_t bytes = 0;
  Problem p = dense_bytes(t.dtype, t.shape, &bytes);
  if (p) return p;
  const Quantization& q = t.quant;
  const std::size_t n = q.scales.size();
  if (q.zero_points.size() != n) {
    return {Field::kScaleCount, 0, "quantization has " + std::to_string(n) + " scales but " +
                                       std::to_string(q.zero_points.size()) + " zero points"};
  }
  if (n == 0 && q.per_axis) return {Field::kFlags, 0, "quantization is per axis but has no scales"};
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(q.scales[i]) || q.scales[i] < 0.0f) {
      return {Field::kScale, i, "quantization scale " + std::to_string(i) + " = " +
                                    float_text(q.scales[i]) + " is not a finite non-negative number"};
    }
  }
  int64_t lo = 0, hi = 0;
  if (zero_point_range(t.dtype, &lo, &hi)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (q.zero_points[i] < lo || q.zero_points[i] > hi) {
        return {Field::kZeroPoint, i,
                "quantization zero point " + std::to_string(i) + " = " + std::to_string(q.zero_points[i]) +
                    " is outside " + dtype_name(t.dtype) + "'s [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]"};
      }
    }
  }
  if (n != 0 && axis_is_meaningful(q)) {
    if (q.axis < 0 || q.axis >= t.shape.rank()) {
      return {Field::kAxis, 0, "quantization axis " + std::to_string(q.axis) + " is outside [0, " +
                                   std::to_string(t.shape.rank()) + ") of shape " + t.shape.to_string()};
    }
    const int64_t dim = t.shape[q.axis];
    if (n != 1 && static_cast<int64_t>(n) != dim) {
      return {Field::kScaleCount, 0,
              "quantization has " + std::to_string(n) + " scales along axis " + std::to_string(q.axis) +
                  " of size " + std::to_string(dim) + " (needs 1 or " + std::to_string(dim) + ")"};
    }
  }
  if (constant && data_bytes != bytes) {
    return {Field::kBlobSize, 0, "constant data is " + std::to_string(data_bytes) + " bytes, but " +
                                     dtype_name(t.dtype) + " " + t.shape.to_string() + " takes " +
                                     std::to_string(bytes)};
  }
  return {};
}

// An attribute value's rule: enums must be known values; arrays must fit a record (u32 length).
template <class T>
std::string attr_value_problem(const T&) {
  return {};
}
template <class T>
std::string attr_value_problem(const std::vector<T>& v) {
  if (v.size() > std::numeric_limits<uint32_t>::max() / sizeof(T)) {
    return std::to_string(v.size()) + " values do not fit an attribute record";
  }
  return {};
}
template <class E, class = decltype(enum_type_name(E{}))>
std::string enum_problem(E v) {
  if (known(v)) return {};
  return "value " + std::to_string(static_cast<unsigned>(v)) + " is not a known " + enum_type_name(v);
}
inline std::string attr_value_problem(const Padding& v) { return enum_problem(v); }
inline std::string attr_value_problem(const FusedActivation& v) { return enum_problem(v); }
inline std::string attr_value_problem(const RecurrentActivation& v) { return enum_problem(v); }

// One op's rules: a known kind; inputs are tensors or kNoTensor (an absent optional input);
// outputs are tensors; attribute values are representable and enums known.
inline Problem check_op(const Op& op, std::size_t tensor_count) {
  if (!is_known_op_kind(static_cast<uint32_t>(op.kind))) {
    return {Field::kKind, 0, "op kind " + std::to_string(static_cast<unsigned>(op.kind)) + " is unknown"};
  }
  const auto in_range = [&](TensorId id) { return id >= 0 && static_cast<std::size_t>(id) < tensor_count; };
  for (std::size_t i = 0; i < op.inputs.size(); ++i) {
    if (op.inputs[i] != kNoTensor && !in_range(op.inputs[i])) {
      return {Field::kInput, i, "input " + std::to_string(i) + " = " + std::to_string(op.inputs[i]) +
                                    " is neither a tensor (the graph has " + std::to_string(tensor_count) +
                                    ") nor -1 (absent)"};
    }
  }
  for (std::size_t i = 0; i < op.outputs.size(); ++i) {
    if (!in_range(op.outputs[i])) {
      return {Field::kOutput, i, "output " + std::to_string(i) + " = " + std::to_string(op.outputs[i]) +
                                     " is not a tensor (the graph has " + std::to_string(tensor_count) + ")"};
    }
  }
  Problem p;
  visit_attributes(
      [&](int tag, const char* name, const auto& value) {
        if (p) return;
        std::string m = attr_value_problem(value);
        if (!m.empty()) {
          p = {Field::kAttribute, static_cast<std::size_t>(tag),
               "attribute '" + std::string(name) + "' (tag " + std::to_string(tag) + "): " + m};
        }
      },
      op.attrs);
  return p;
}

// ---- Attribute records: one overload per C++ field type -----------------------------------------
using format::AttrType;

inline AttrType attr_type_of(const int32_t*) { return AttrType::kInt32; }
inline AttrType attr_type_of(const bool*) { return AttrType::kBool; }
inline AttrType attr_type_of(const float*) { return AttrType::kFloat32; }
inline AttrType attr_type_of(const Padding*) { return AttrType::kEnum8; }
inline AttrType attr_type_of(const FusedActivation*) { return AttrType::kEnum8; }
inline AttrType attr_type_of(const RecurrentActivation*) { return AttrType::kEnum8; }
inline AttrType attr_type_of(const std::vector<int32_t>*) { return AttrType::kInt32Array; }
inline AttrType attr_type_of(const std::vector<int64_t>*) { return AttrType::kInt64Array; }

inline const char* attr_type_name(uint16_t t) {
  switch (static_cast<AttrType>(t)) {
    case AttrType::kInt32: return "int32";
    case AttrType::kBool: return "bool";
    case AttrType::kFloat32: return "float32";
    case AttrType::kEnum8: return "enum8";
    case AttrType::kInt32Array: return "int32 array";
    case AttrType::kInt64Array: return "int64 array";
  }
  return "unknown type";
}

// Whether a field equals its default bit for bit (floats by bits: -0.0 and NaN payloads survive).
template <class T>
bool same_bits(const T& a, const T& b) {
  return a == b;
}
inline bool same_bits(const float& a, const float& b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// The payload of a record, appended to `out`.
inline void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  uint8_t field[8];
  format::store_le(field, v, bytes);
  out.insert(out.end(), field, field + bytes);
}
inline void put_payload(std::vector<uint8_t>& out, int32_t v) { put_le(out, static_cast<uint32_t>(v), 4); }
inline void put_payload(std::vector<uint8_t>& out, bool v) { out.push_back(v ? 1 : 0); }
inline void put_payload(std::vector<uint8_t>& out, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_le(out, bits, 4);
}
inline void put_payload(std::vector<uint8_t>& out, Padding v) { out.push_back(static_cast<uint8_t>(v)); }
inline void put_payload(std::vector<uint8_t>& out, FusedActivation v) { out.push_back(static_cast<uint8_t>(v)); }
inline void put_payload(std::vector<uint8_t>& out, RecurrentActivation v) {
  out.push_back(static_cast<uint8_t>(v));
}
inline void put_payload(std::vector<uint8_t>& out, const std::vector<int32_t>& v) {
  for (int32_t x : v) put_le(out, static_cast<uint32_t>(x), 4);
}
inline void put_payload(std::vector<uint8_t>& out, const std::vector<int64_t>& v) {
  for (int64_t x : v) put_le(out, static_cast<uint64_t>(x), 8);
}

inline uint64_t payload_size(int32_t) { return 4; }
inline uint64_t payload_size(bool) { return 1; }
inline uint64_t payload_size(float) { return 4; }
inline uint64_t payload_size(Padding) { return 1; }
inline uint64_t payload_size(FusedActivation) { return 1; }
inline uint64_t payload_size(RecurrentActivation) { return 1; }
inline uint64_t payload_size(const std::vector<int32_t>& v) { return 4 * static_cast<uint64_t>(v.size()); }
inline uint64_t payload_size(const std::vector<int64_t>& v) { return 8 * static_cast<uint64_t>(v.size()); }

// Decoding a known tag's payload into its field: "" or what is wrong, and where (bytes from the
// record's start: 2 type, 4 length, 8 payload).
struct AttrIssue {
  std::size_t at = 0;
  std::string message;
};
inline AttrIssue expect(uint16_t type, AttrType want, uint32_t length, uint32_t unit, bool exact) {
  if (type != static_cast<uint16_t>(want)) {
    return {2, std::string("type ") + std::to_string(type) + " (" + attr_type_name(type) + "), expected " +
                   attr_type_name(static_cast<uint16_t>(want))};
  }
  if (exact ? length != unit : length % unit != 0) {
    return {4, "length " + std::to_string(length) + (exact ? ", expected " : ", not a multiple of ") +
                   std::to_string(unit)};
  }
  return {};
}
inline AttrIssue decode_payload(uint16_t type, const uint8_t* p, uint32_t length, int32_t& out) {
  AttrIssue e = expect(type, AttrType::kInt32, length, 4, true);
  if (e.message.empty()) out = static_cast<int32_t>(static_cast<uint32_t>(format::load_le(p, 4)));
  return e;
}
inline AttrIssue decode_payload(uint16_t type, const uint8_t* p, uint32_t length, float& out) {
  AttrIssue e = expect(type, AttrType::kFloat32, length, 4, true);
  if (e.message.empty()) {
    const auto bits = static_cast<uint32_t>(format::load_le(p, 4));
    std::memcpy(&out, &bits, 4);
  }
  return e;
}
inline AttrIssue decode_payload(uint16_t type, const uint8_t* p, uint32_t length, bool& out) {
  AttrIssue e = expect(type, AttrType::kBool, length, 1, true);
  if (!e.message.empty()) return e;
  if (p[0] > 1) return {8, "value " + std::to_string(p[0]) + " is not a bool (0 or 1)"};
  out = p[0] == 1;
  return {};
}
template <class E, class = decltype(enum_type_name(E{}))>
AttrIssue decode_payload(uint16_t type, const uint8_t* p, uint32_t length, E& out) {
  AttrIssue e = expect(type, AttrType::kEnum8, length, 1, true);
  if (!e.message.empty()) return e;
  const E v = static_cast<E>(p[0]);
  if (!known(v)) return {8, enum_problem(v)};
  out = v;
  return {};
}
inline AttrIssue decode_payload(uint16_t type, const uint8_t* p, uint32_t length, std::vector<int32_t>& out) {
  AttrIssue e = expect(type, AttrType::kInt32Array, length, 4, false);
  if (!e.message.empty()) return e;
  out.resize(length / 4);  // bounded by the record, which was checked against the data
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<int32_t>(static_cast<uint32_t>(format::load_le(p + 4 * i, 4)));
  }
  return {};
}
inline AttrIssue decode_payload(uint16_t type, const uint8_t* p, uint32_t length, std::vector<int64_t>& out) {
  AttrIssue e = expect(type, AttrType::kInt64Array, length, 8, false);
  if (!e.message.empty()) return e;
  out.resize(length / 8);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(format::load_le64(p + 8 * i));
  return {};
}

// ---- Writer ------------------------------------------------------------------------------------

// A file in two parts: `meta` is bytes [0, blob area offset) complete with checksums; the blob
// area is `blobs` (sorted by offset, distinct) with zero padding between them.
struct Layout {
  struct Blob {
    uint64_t offset;
    const uint8_t* data;
    std::size_t size;
  };
  std::vector<uint8_t> meta;
  std::vector<Blob> blobs;
  uint64_t blob_area_offset = 0;
  uint64_t file_size = 0;
};

inline const uint8_t* zero_padding() {
  static const uint8_t zeros[format::kBlobAlignment] = {};
  return zeros;
}

// Calls sink(data, size) -> bool for the blob area's bytes in file order; false stops.
template <class Sink>
bool emit_blob_area(const Layout& l, Sink&& sink) {
  uint64_t pos = l.blob_area_offset;
  for (const Layout::Blob& b : l.blobs) {
    if (b.offset > pos && !sink(zero_padding(), static_cast<std::size_t>(b.offset - pos))) return false;
    if (!sink(b.data, b.size)) return false;
    pos = b.offset + b.size;
  }
  return true;
}
template <class Sink>
bool emit_file(const Layout& l, Sink&& sink) {
  return sink(l.meta.data(), l.meta.size()) && emit_blob_area(l, sink);
}

inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

inline Result<Layout> make_layout(const Graph& g) {
  using namespace format;
  const auto fail = [](const std::string& m) { return invalid_argument("serialize: " + m); };
  constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();

  // The reader's rules, applied to the graph first.
  if (g.tensors.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
    return fail(std::to_string(g.tensors.size()) + " tensors; a TensorId holds at most 2^31 - 1");
  }
  if (g.ops.size() > kU32Max) return fail(std::to_string(g.ops.size()) + " ops; the format holds 2^32 - 1");
  for (std::size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    if (Problem p = check_tensor(t, t.is_constant(), t.data.size())) {
      return fail(describe_tensor(i, t.name) + ": " + p.message);
    }
    if (t.shape.rank() > static_cast<int>(kU32Max / 8)) return fail(describe_tensor(i, t.name) + ": rank too large");
    if (t.quant.scales.size() > kU32Max / 8) return fail(describe_tensor(i, t.name) + ": too many scales");
  }
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    if (Problem p = check_op(op, g.tensors.size())) {
      return fail(describe_op(i, op.name, static_cast<uint32_t>(op.kind)) + ": " + p.message);
    }
    if (op.inputs.size() + op.outputs.size() > kU32Max / 8) {
      return fail(describe_op(i, op.name, static_cast<uint32_t>(op.kind)) + ": too many inputs and outputs");
    }
  }
  for (int which = 0; which < 2; ++which) {
    const std::vector<TensorId>& ids = which == 0 ? g.inputs : g.outputs;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= g.tensors.size()) {
        return fail(std::string("graph ") + (which == 0 ? "input " : "output ") + std::to_string(i) + " = " +
                    std::to_string(ids[i]) + " is not a tensor (the graph has " +
                    std::to_string(g.tensors.size()) + ")");
      }
    }
  }
  if (g.inputs.size() + g.outputs.size() > kU32Max / 8) return fail("too many graph inputs and outputs");

  // String table: every name appended once per reference (no sharing: a reader caps the names'
  // total at the table's size). A name is referenced as (offset, length).
  std::vector<uint8_t> strings;
  bool strings_overflow = false;
  const auto put_name = [&](std::vector<uint8_t>& out, const std::string& s) {
    strings_overflow = strings_overflow || strings.size() + s.size() > kU32Max;
    put_le(out, strings_overflow ? 0 : strings.size(), 4);
    put_le(out, strings_overflow ? 0 : s.size(), 4);
    if (!strings_overflow) strings.insert(strings.end(), s.begin(), s.end());
  };

  // Attribute section and op table.
  std::vector<uint8_t> attrs, ops;
  const Attributes defaults;
  for (const Op& op : g.ops) {
    const std::size_t block_begin = attrs.size();
    visit_attributes(
        [&](int tag, const char*, const auto& value, const auto& default_value) {
          if (same_bits(value, default_value)) return;
          put_le(attrs, static_cast<uint16_t>(tag), 2);
          put_le(attrs, static_cast<uint16_t>(attr_type_of(&value)), 2);
          put_le(attrs, payload_size(value), 4);
          put_payload(attrs, value);
        },
        op.attrs, defaults);
    const uint64_t block_size = attrs.size() - block_begin;
    if (block_size > kU32Max) return fail("an op's attributes take more than 4 GiB");
    const std::size_t rec = ops.size();
    put_name(ops, op.name);
    put_le(ops, static_cast<uint16_t>(op.kind), 2);
    put_le(ops, 0, 2);
    put_le(ops, op.inputs.size(), 4);
    put_le(ops, op.outputs.size(), 4);
    put_le(ops, block_size, 4);
    put_le(ops, block_begin, 8);
    for (TensorId id : op.inputs) put_le(ops, static_cast<uint32_t>(id), 4);
    for (TensorId id : op.outputs) put_le(ops, static_cast<uint32_t>(id), 4);
    while ((ops.size() - rec) % 8 != 0) ops.push_back(0);
  }

  // Graph section.
  std::vector<uint8_t> graph;
  put_name(graph, g.name);
  put_le(graph, g.inputs.size(), 4);
  put_le(graph, g.outputs.size(), 4);
  for (TensorId id : g.inputs) put_le(graph, static_cast<uint32_t>(id), 4);
  for (TensorId id : g.outputs) put_le(graph, static_cast<uint32_t>(id), 4);
  while (graph.size() % 8 != 0) graph.push_back(0);

  // Tensor table (blob offsets patched in below, once the blob area is placed).
  std::vector<uint8_t> tensors;
  for (const Tensor& t : g.tensors) {
    const Quantization& q = t.quant;
    put_name(tensors, t.name);
    tensors.push_back(static_cast<uint8_t>(t.dtype));
    tensors.push_back(static_cast<uint8_t>((t.is_constant() ? kTensorFlagConstant : 0) |
                                           (q.per_axis ? kTensorFlagPerAxis : 0)));
    put_le(tensors, 0, 2);
    put_le(tensors, static_cast<uint64_t>(t.shape.rank()), 4);
    put_le(tensors, q.scales.size(), 4);
    put_le(tensors, static_cast<uint32_t>(axis_is_meaningful(q) ? q.axis : 0), 4);
    put_le(tensors, 0, 8);  // blob offset
    put_le(tensors, 0, 8);  // blob size
    for (int64_t d : t.shape.dims()) put_le(tensors, static_cast<uint64_t>(d), 8);
    for (float s : q.scales) put_payload(tensors, s);
    for (int32_t z : q.zero_points) put_le(tensors, static_cast<uint32_t>(z), 4);
  }
  if (strings_overflow) return fail("the names take more than 4 GiB");

  constexpr int kSections = 6;
  const uint64_t toc_offset = kHeaderSize;
  const uint64_t strings_offset = toc_offset + kSections * kTocEntrySize;
  const uint64_t tensors_offset = align_up(strings_offset + strings.size(), kSectionAlignment);
  const uint64_t ops_offset = tensors_offset + tensors.size();
  const uint64_t attrs_offset = ops_offset + ops.size();
  const uint64_t graph_offset = align_up(attrs_offset + attrs.size(), kSectionAlignment);
  const uint64_t blobs_offset = align_up(graph_offset + graph.size(), kBlobAlignment);

  // Blobs: one per distinct buffer (tensors that share a Buffer's bytes share the blob).
  Layout l;
  l.blob_area_offset = blobs_offset;
  std::map<std::pair<uintptr_t, std::size_t>, uint64_t> placed_blobs;
  uint64_t blob_end = blobs_offset;
  uint64_t record = 0;
  for (const Tensor& t : g.tensors) {
    uint8_t* rec = tensors.data() + record;
    record += kTensorFixedSize + 8 * static_cast<uint64_t>(t.shape.rank()) + 8 * t.quant.scales.size();
    if (!t.is_constant()) continue;
    uint64_t at = blobs_offset;
    if (t.data.size() != 0) {
      const auto key = std::make_pair(reinterpret_cast<uintptr_t>(t.data.data()), t.data.size());
      const auto it = placed_blobs.find(key);
      if (it != placed_blobs.end()) {
        at = it->second;
      } else {
        at = align_up(blob_end, kBlobAlignment);
        l.blobs.push_back({at, t.data.data(), t.data.size()});
        placed_blobs.emplace(key, at);
        blob_end = at + t.data.size();
      }
    }
    store_le(rec + kTensorBlobOffset, at, 8);
    store_le(rec + kTensorBlobSize, t.data.size(), 8);
  }
  l.file_size = blob_end;

  // Assemble the metadata, then the checksums: sections, then header + TOC.
  l.meta.assign(static_cast<std::size_t>(blobs_offset), 0);
  uint8_t* m = l.meta.data();
  struct Placed {
    Section id;
    uint32_t count;
    uint64_t offset;
    const std::vector<uint8_t>* bytes;
  };
  const Placed placed[kSections] = {
      {Section::kStrings, 0, strings_offset, &strings},
      {Section::kTensors, static_cast<uint32_t>(g.tensors.size()), tensors_offset, &tensors},
      {Section::kOps, static_cast<uint32_t>(g.ops.size()), ops_offset, &ops},
      {Section::kAttributes, 0, attrs_offset, &attrs},
      {Section::kGraph, 0, graph_offset, &graph},
      {Section::kBlobs, 0, blobs_offset, nullptr},
  };
  for (int s = 0; s < kSections; ++s) {
    const Placed& p = placed[s];
    uint8_t* e = m + toc_offset + s * kTocEntrySize;
    uint64_t size = 0, checksum = 0;
    if (p.bytes) {
      if (!p.bytes->empty()) std::memcpy(m + p.offset, p.bytes->data(), p.bytes->size());
      size = p.bytes->size();
      checksum = xxh64(p.bytes->data(), p.bytes->size());
    } else {
      Xxh64 h;
      emit_blob_area(l, [&](const uint8_t* d, std::size_t n) {
        h.update(d, n);
        return true;
      });
      size = blob_end - blobs_offset;
      checksum = h.digest();
    }
    store_le(e + kTocId, static_cast<uint32_t>(p.id), 4);
    store_le(e + kTocCount, p.count, 4);
    store_le(e + kTocOffset, p.offset, 8);
    store_le(e + kTocSize, size, 8);
    store_le(e + kTocChecksum, checksum, 8);
  }
  std::memcpy(m + kHeaderMagic, kMagic, sizeof kMagic);
  store_le(m + kHeaderMajor, kMajorVersion, 2);
  store_le(m + kHeaderMinor, kMinorVersion, 2);
  store_le(m + kHeaderFlags, 0, 4);
  store_le(m + kHeaderFileSize, l.file_size, 8);
  store_le(m + kHeaderTocOffset, toc_offset, 8);
  store_le(m + kHeaderTocSize, kSections * kTocEntrySize, 8);
  Xxh64 h;
  h.update(m, kHeaderChecksum);
  h.update(m + toc_offset, kSections * kTocEntrySize);
  store_le(m + kHeaderChecksum, h.digest(), 8);
  return l;
}

// ---- Reader ------------------------------------------------------------------------------------

class Reader {
 public:
  Reader(const uint8_t* data, uint64_t size) : d_(data), size_(size) {}

  Result<Graph> read(const std::shared_ptr<const void>& owner, const ReadOptions& options) {
    Graph g;
    PTQ_RETURN_IF_ERROR(read_header());
    PTQ_RETURN_IF_ERROR(read_toc());
    PTQ_RETURN_IF_ERROR(read_tensors(&g));
    PTQ_RETURN_IF_ERROR(read_ops(&g));
    PTQ_RETURN_IF_ERROR(read_graph(&g));
    PTQ_RETURN_IF_ERROR(verify(options));
    attach_blobs(&g, owner);
    return g;
  }

 private:
  struct Sect {
    uint32_t id = 0, count = 0;
    uint64_t offset = 0, size = 0, checksum = 0, entry_at = 0;
    bool present = false;
    uint64_t end() const { return offset + size; }
  };

  static const char* section_name(uint32_t id) {
    switch (static_cast<format::Section>(id)) {
      case format::Section::kStrings: return "string table";
      case format::Section::kTensors: return "tensor table";
      case format::Section::kOps: return "op table";
      case format::Section::kGraph: return "graph section";
      case format::Section::kAttributes: return "attribute section";
      case format::Section::kBlobs: return "blob area";
    }
    return nullptr;
  }
  static std::string label(uint32_t id) {
    const char* n = section_name(id);
    return n ? std::string(n) : "section id " + std::to_string(id);
  }
  static std::string range(uint64_t begin, uint64_t size) {
    return "[" + std::to_string(begin) + ", " + std::to_string(begin + size) + ")";
  }

  Status fail(uint64_t at, const std::string& m) const {
    return data_loss("at byte " + std::to_string(at) + ": " + m);
  }
  // Something only a newer minor version may contain and this reader must understand.
  Status unsupported_or_fail(uint64_t at, const std::string& m) const {
    if (!newer_minor_) return fail(at, m);
    return unimplemented("at byte " + std::to_string(at) + ": " + m + " (the file's minor version " +
                         std::to_string(minor_) + " is newer than this reader's " +
                         std::to_string(format::kMinorVersion) + "; use a newer ptq)");
  }

  uint64_t u(uint64_t at, int bytes) const { return format::load_le(d_ + at, bytes); }
  int32_t i32(uint64_t at) const { return static_cast<int32_t>(static_cast<uint32_t>(u(at, 4))); }
  bool fits(uint64_t at, uint64_t n, uint64_t end) const { return at <= end && n <= end - at; }
  Sect* known_section(uint32_t id) {
    switch (static_cast<format::Section>(id)) {
      case format::Section::kStrings: return &strings_;
      case format::Section::kTensors: return &tensors_;
      case format::Section::kOps: return &ops_;
      case format::Section::kGraph: return &graph_;
      case format::Section::kAttributes: return &attrs_;
      case format::Section::kBlobs: return &blobs_;
    }
    return nullptr;
  }

  Status read_header() {
    using namespace format;
    const uint64_t magic_bytes = std::min<uint64_t>(size_, sizeof kMagic);
    if (size_ == 0 || std::memcmp(d_, kMagic, static_cast<std::size_t>(magic_bytes)) != 0) {
      return fail(kHeaderMagic, "magic: not a ptq model (expected the 8 bytes 89 50 54 51 0d 0a 1a 0a)");
    }
    if (size_ < kHeaderSize) {
      return fail(size_, "header: the data ends after " + std::to_string(size_) + " bytes; the header takes " +
                             std::to_string(kHeaderSize));
    }
    const auto major = static_cast<uint16_t>(u(kHeaderMajor, 2));
    minor_ = static_cast<uint16_t>(u(kHeaderMinor, 2));
    if (major > kMajorVersion) {
      return unimplemented("at byte " + std::to_string(kHeaderMajor) + ": major version " + std::to_string(major) +
                           " is newer than this reader's " + std::to_string(kMajorVersion) + "; use a newer ptq");
    }
    if (major != kMajorVersion) return fail(kHeaderMajor, "major version 0 does not exist");
    newer_minor_ = minor_ > kMinorVersion;
    const auto flags = static_cast<uint32_t>(u(kHeaderFlags, 4));
    if (flags != 0) return unsupported_or_fail(kHeaderFlags, "flags " + hex64(flags) + ": unknown flag bits");
    const uint64_t file_size = u(kHeaderFileSize, 8);
    if (file_size != size_) {
      return fail(kHeaderFileSize, "file_size = " + std::to_string(file_size) + " but the data is " +
                                       std::to_string(size_) + " bytes (truncated or extended)");
    }
    for (uint64_t at = kHeaderReserved; at < kHeaderChecksum; ++at) {
      if (d_[at] != 0) return unsupported_or_fail(at, "header: reserved byte is not zero");
    }
    toc_offset_ = u(kHeaderTocOffset, 8);
    toc_size_ = u(kHeaderTocSize, 8);
    if (toc_offset_ < kHeaderSize || toc_offset_ % kSectionAlignment != 0 || toc_offset_ > size_) {
      return fail(kHeaderTocOffset, "toc_offset = " + std::to_string(toc_offset_) +
                                        " is not a multiple of 8 in [64, file size " + std::to_string(size_) + "]");
    }
    if (toc_size_ % kTocEntrySize != 0 || toc_size_ > size_ - toc_offset_) {
      return fail(kHeaderTocSize, "toc_size = " + std::to_string(toc_size_) +
                                      " is not a multiple of 32 that fits the file after byte " +
                                      std::to_string(toc_offset_));
    }
    return {};
  }

  Status read_toc() {
    using namespace format;
    struct Span {
      uint64_t begin, end, at;
      int64_t entry;  // -2 the header, -1 the table of contents
      uint32_t id;
    };
    const auto entry_text = [](int64_t entry, uint32_t id) {
      if (entry == -2) return std::string("the header");
      if (entry == -1) return std::string("the table of contents");
      return "table of contents entry " + std::to_string(entry) + " (" + label(id) + ")";
    };
    std::vector<Span> spans = {{0, kHeaderSize, 0, -2, 0},
                               {toc_offset_, toc_offset_ + toc_size_, kHeaderTocOffset, -1, 0}};
    const uint64_t entries = toc_size_ / kTocEntrySize;
    for (uint64_t i = 0; i < entries; ++i) {
      const uint64_t e = toc_offset_ + i * kTocEntrySize;
      Sect s;
      s.id = static_cast<uint32_t>(u(e + kTocId, 4));
      s.count = static_cast<uint32_t>(u(e + kTocCount, 4));
      s.offset = u(e + kTocOffset, 8);
      s.size = u(e + kTocSize, 8);
      s.checksum = u(e + kTocChecksum, 8);
      s.entry_at = e;
      s.present = true;
      const auto what = [&] { return entry_text(static_cast<int64_t>(i), s.id); };
      if (!fits(s.offset, s.size, size_)) {
        return fail(e + kTocOffset, what() + ": offset " + std::to_string(s.offset) + " and size " +
                                        std::to_string(s.size) + " run past the end of the file (" +
                                        std::to_string(size_) + " bytes)");
      }
      const uint64_t alignment = s.id == static_cast<uint32_t>(Section::kBlobs) ? kBlobAlignment : kSectionAlignment;
      if (s.offset % alignment != 0) {
        return fail(e + kTocOffset, what() + ": offset " + std::to_string(s.offset) + " is not a multiple of " +
                                        std::to_string(alignment));
      }
      if (Sect* known = known_section(s.id)) {
        if (known->present) return fail(e + kTocId, what() + ": a second " + label(s.id));
        const bool counted = s.id == static_cast<uint32_t>(Section::kTensors) ||
                             s.id == static_cast<uint32_t>(Section::kOps);
        if (!counted && s.count != 0) {
          return fail(e + kTocCount, what() + ": count = " + std::to_string(s.count) + ", must be 0");
        }
        *known = s;
      } else {
        if (!newer_minor_) {
          return fail(e + kTocId, what() + ": unknown section id " + std::to_string(s.id) +
                                      " (allowed only in a file of a newer minor version)");
        }
        unknown_.push_back(s);
      }
      spans.push_back({s.offset, s.end(), e + kTocOffset, static_cast<int64_t>(i), s.id});
    }
    for (uint32_t id = 1; id <= 6; ++id) {
      if (!known_section(id)->present) {
        return fail(kHeaderTocOffset, "table of contents: the " + label(id) + " is missing");
      }
    }
    // No two regions overlap; the bytes between them (alignment padding) are zero.
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t covered = 0;
    const Span* previous = nullptr;
    for (const Span& s : spans) {
      if (s.begin < covered) {
        return fail(s.at, entry_text(s.entry, s.id) + " " + range(s.begin, s.end - s.begin) + " overlaps " +
                              entry_text(previous->entry, previous->id));
      }
      for (uint64_t at = covered; at < s.begin; ++at) {
        if (d_[at] != 0) return fail(at, "padding before " + entry_text(s.entry, s.id) + " is not zero");
      }
      covered = s.end;
      previous = &s;
    }
    if (covered != size_) {
      return fail(covered, std::to_string(size_ - covered) + " bytes after the end of the last section");
    }
    return {};
  }

  // A name field (u32 offset, u32 length) at `at`; who() names its owner in messages.
  template <class Who>
  Status read_name(uint64_t at, const Who& who, std::string* out) {
    const uint64_t offset = u(at, 4), length = u(at + 4, 4);
    if (offset + length > strings_.size) {
      return fail(at, who() + ": name " + range(offset, length) + " is outside the string table (" +
                          std::to_string(strings_.size) + " bytes)");
    }
    name_bytes_ += length;
    if (name_bytes_ > strings_.size) {
      return fail(at + 4, who() + ": the names so far take " + std::to_string(name_bytes_) +
                              " bytes, more than the string table's " + std::to_string(strings_.size) +
                              " (names may not share bytes)");
    }
    out->assign(reinterpret_cast<const char*>(d_ + strings_.offset + offset), static_cast<std::size_t>(length));
    return {};
  }

  Status read_tensors(Graph* g) {
    using namespace format;
    const uint64_t count = tensors_.count;
    constexpr auto kMaxTensors = static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
    if (count > tensors_.size / kTensorFixedSize || count > kMaxTensors) {
      return fail(tensors_.entry_at + kTocCount,
                  "tensor table: " + std::to_string(count) + " tensors need at least " +
                      std::to_string(count * kTensorFixedSize) + " bytes, the table has " +
                      std::to_string(tensors_.size));
    }
    g->tensors.reserve(static_cast<std::size_t>(count));
    blob_refs_.reserve(static_cast<std::size_t>(count));
    uint64_t r = tensors_.offset;
    const uint64_t end = tensors_.end();
    for (uint64_t i = 0; i < count; ++i) {
      Tensor t;
      const auto who = [&] { return describe_tensor(static_cast<std::size_t>(i), t.name); };
      if (end - r < kTensorFixedSize) {
        return fail(r, who() + ": the record needs " + std::to_string(kTensorFixedSize) +
                           " bytes, the tensor table has " + std::to_string(end - r) + " left");
      }
      PTQ_RETURN_IF_ERROR(read_name(r + kTensorName, who, &t.name));
      t.dtype = static_cast<DType>(d_[r + kTensorDtype]);
      const uint8_t flags = d_[r + kTensorFlags];
      if ((flags & ~(kTensorFlagConstant | kTensorFlagPerAxis)) != 0) {
        return fail(r + kTensorFlags, who() + ": unknown flag bits in " + hex64(flags));
      }
      if (u(r + kTensorReserved, 2) != 0) return fail(r + kTensorReserved, who() + ": reserved field is not zero");
      const uint64_t rank = u(r + kTensorRank, 4), scale_count = u(r + kTensorScaleCount, 4);
      const uint64_t arrays = 8 * rank + 8 * scale_count;
      if (arrays > end - r - kTensorFixedSize) {
        return fail(r + kTensorRank, who() + ": rank " + std::to_string(rank) + " and " + std::to_string(scale_count) +
                                         " scales need " + std::to_string(kTensorFixedSize + arrays) +
                                         " bytes, the tensor table has " + std::to_string(end - r) + " left");
      }
      const int32_t axis = i32(r + kTensorAxis);
      const uint64_t blob_offset = u(r + kTensorBlobOffset, 8), blob_size = u(r + kTensorBlobSize, 8);
      const uint64_t dims_at = r + kTensorFixedSize, scales_at = dims_at + 8 * rank,
                     zero_points_at = scales_at + 4 * scale_count;
      std::vector<int64_t> dims(static_cast<std::size_t>(rank));
      for (uint64_t k = 0; k < rank; ++k) dims[k] = static_cast<int64_t>(u(dims_at + 8 * k, 8));
      t.shape = Shape(std::move(dims));
      Quantization& q = t.quant;
      q.scales.resize(static_cast<std::size_t>(scale_count));
      q.zero_points.resize(static_cast<std::size_t>(scale_count));
      for (uint64_t k = 0; k < scale_count; ++k) {
        const auto bits = static_cast<uint32_t>(u(scales_at + 4 * k, 4));
        std::memcpy(&q.scales[k], &bits, 4);
        q.zero_points[k] = i32(zero_points_at + 4 * k);
      }
      q.per_axis = (flags & kTensorFlagPerAxis) != 0;
      q.axis = axis;
      if (!axis_is_meaningful(q) && axis != 0) {
        return fail(r + kTensorAxis, who() + ": quantization axis = " + std::to_string(axis) +
                                         " but the quantization is not per axis (must be 0)");
      }
      const bool constant = (flags & kTensorFlagConstant) != 0;
      if (Problem p = check_tensor(t, constant, blob_size)) {
        uint64_t at = r;
        switch (p.field) {
          case Field::kDtype: at = r + kTensorDtype; break;
          case Field::kFlags: at = r + kTensorFlags; break;
          case Field::kDim: at = dims_at + 8 * p.index; break;
          case Field::kScaleCount: at = r + kTensorScaleCount; break;
          case Field::kAxis: at = r + kTensorAxis; break;
          case Field::kScale: at = scales_at + 4 * p.index; break;
          case Field::kZeroPoint: at = zero_points_at + 4 * p.index; break;
          case Field::kBlobSize: at = r + kTensorBlobSize; break;
          default: break;
        }
        return fail(at, who() + ": " + p.message);
      }
      if (constant) {
        if (blob_offset % kBlobAlignment != 0 || blob_offset < blobs_.offset ||
            !fits(blob_offset, blob_size, blobs_.end())) {
          return fail(r + kTensorBlobOffset, who() + ": constant data " + range(blob_offset, blob_size) +
                                                 " is not a 64-byte aligned range inside the blob area " +
                                                 range(blobs_.offset, blobs_.size));
        }
      } else if (blob_offset != 0 || blob_size != 0) {
        return fail(r + kTensorBlobOffset, who() + ": not a constant, but has data " + range(blob_offset, blob_size));
      }
      blob_refs_.push_back({constant, blob_offset, blob_size});
      g->tensors.push_back(std::move(t));
      r += kTensorFixedSize + arrays;
    }
    if (r != end) return fail(r, "tensor table: " + std::to_string(end - r) + " bytes after the last tensor record");
    return {};
  }

  Status read_ops(Graph* g) {
    using namespace format;
    const uint64_t count = ops_.count;
    if (count > ops_.size / kOpFixedSize) {
      return fail(ops_.entry_at + kTocCount, "op table: " + std::to_string(count) + " ops need at least " +
                                                 std::to_string(count * kOpFixedSize) + " bytes, the table has " +
                                                 std::to_string(ops_.size));
    }
    g->ops.reserve(static_cast<std::size_t>(count));
    const std::size_t tensor_count = g->tensors.size();
    uint64_t r = ops_.offset;
    const uint64_t end = ops_.end();
    for (uint64_t i = 0; i < count; ++i) {
      Op op;
      uint32_t kind = 0;
      bool kind_read = false;
      const auto who = [&] {
        return kind_read ? describe_op(static_cast<std::size_t>(i), op.name, kind) : "op " + std::to_string(i);
      };
      if (end - r < kOpFixedSize) {
        return fail(r, who() + ": the record needs " + std::to_string(kOpFixedSize) + " bytes, the op table has " +
                           std::to_string(end - r) + " left");
      }
      PTQ_RETURN_IF_ERROR(read_name(r + kOpName, who, &op.name));
      kind = static_cast<uint32_t>(u(r + kOpKind, 2));
      kind_read = true;
      if (!is_known_op_kind(kind)) {
        return unsupported_or_fail(r + kOpKind, who() + ": op kind " + std::to_string(kind) + " is unknown");
      }
      op.kind = static_cast<OpKind>(kind);
      if (u(r + kOpReserved, 2) != 0) return fail(r + kOpReserved, who() + ": reserved field is not zero");
      const uint64_t n_in = u(r + kOpInputCount, 4), n_out = u(r + kOpOutputCount, 4);
      const uint64_t record = align_up(kOpFixedSize + 4 * (n_in + n_out), 8);
      if (record > end - r) {
        return fail(r + kOpInputCount, who() + ": " + std::to_string(n_in) + " inputs and " + std::to_string(n_out) +
                                           " outputs need " + std::to_string(record) + " bytes, the op table has " +
                                           std::to_string(end - r) + " left");
      }
      const uint64_t attr_size = u(r + kOpAttrSize, 4), attr_offset = u(r + kOpAttrOffset, 8);
      if (!fits(attr_offset, attr_size, attrs_.size)) {
        return fail(r + kOpAttrOffset, who() + ": attributes " + range(attr_offset, attr_size) +
                                           " are outside the attribute section (" + std::to_string(attrs_.size) +
                                           " bytes)");
      }
      attr_bytes_ += attr_size;
      if (attr_bytes_ > attrs_.size) {
        return fail(r + kOpAttrSize, who() + ": the attributes so far take " + std::to_string(attr_bytes_) +
                                         " bytes, more than the attribute section's " + std::to_string(attrs_.size) +
                                         " (ops may not share attribute bytes)");
      }
      const uint64_t ids_at = r + kOpFixedSize;
      op.inputs.resize(static_cast<std::size_t>(n_in));
      op.outputs.resize(static_cast<std::size_t>(n_out));
      for (uint64_t k = 0; k < n_in; ++k) op.inputs[k] = i32(ids_at + 4 * k);
      for (uint64_t k = 0; k < n_out; ++k) op.outputs[k] = i32(ids_at + 4 * (n_in + k));
      for (uint64_t at = ids_at + 4 * (n_in + n_out); at < r + record; ++at) {
        if (d_[at] != 0) return fail(at, who() + ": record padding is not zero");
      }
      PTQ_RETURN_IF_ERROR(read_attributes(attrs_.offset + attr_offset, attr_size, who, &op.attrs));
      if (Problem p = check_op(op, tensor_count)) {
        uint64_t at = r + kOpKind;
        if (p.field == Field::kInput) at = ids_at + 4 * p.index;
        if (p.field == Field::kOutput) at = ids_at + 4 * (n_in + p.index);
        if (p.field == Field::kAttribute) at = r + kOpAttrOffset;
        return fail(at, who() + ": " + p.message);
      }
      g->ops.push_back(std::move(op));
      r += record;
    }
    if (r != end) return fail(r, "op table: " + std::to_string(end - r) + " bytes after the last op record");
    return {};
  }

  template <class Who>
  Status read_attributes(uint64_t begin, uint64_t size, const Who& who, Attributes* a) {
    using namespace format;
    const uint64_t end = begin + size;
    uint64_t r = begin;
    uint32_t last_tag = 0;
    while (r < end) {
      if (end - r < kAttrRecordHeaderSize) {
        return fail(r, who() + ": attribute record header needs 8 bytes, the op's attributes have " +
                           std::to_string(end - r) + " left");
      }
      const auto tag = static_cast<uint16_t>(u(r, 2));
      const auto type = static_cast<uint16_t>(u(r + 2, 2));
      const auto length = static_cast<uint32_t>(u(r + 4, 4));
      if (length > end - r - kAttrRecordHeaderSize) {
        return fail(r + 4, who() + ": attribute tag " + std::to_string(tag) + ": length " + std::to_string(length) +
                               " runs past the op's attributes (" + std::to_string(end - r - kAttrRecordHeaderSize) +
                               " bytes left)");
      }
      if (tag <= last_tag) {
        return fail(r, who() + ": attribute tag " + std::to_string(tag) + " after tag " + std::to_string(last_tag) +
                           " (tags must increase)");
      }
      last_tag = tag;
      bool found = false;
      Status status;
      visit_attributes(
          [&](int field_tag, const char* name, auto& field) {
            if (field_tag != tag) return;
            found = true;
            AttrIssue issue = decode_payload(type, d_ + r + kAttrRecordHeaderSize, length, field);
            if (!issue.message.empty()) {
              status = fail(r + issue.at, who() + ": attribute '" + name + "' (tag " + std::to_string(tag) +
                                              "): " + issue.message);
            }
          },
          *a);
      PTQ_RETURN_IF_ERROR(status);
      if (!found && !newer_minor_) {
        return fail(r, who() + ": unknown attribute tag " + std::to_string(tag) +
                           " (skipped only in a file of a newer minor version)");
      }
      r += kAttrRecordHeaderSize + length;
    }
    return {};
  }

  Status read_graph(Graph* g) {
    using namespace format;
    const uint64_t r = graph_.offset, end = graph_.end();
    if (graph_.size < kGraphFixedSize) {
      return fail(r, "graph section: " + std::to_string(graph_.size) + " bytes, needs at least 16");
    }
    PTQ_RETURN_IF_ERROR(read_name(r + kGraphName, [] { return std::string("graph"); }, &g->name));
    const uint64_t n_in = u(r + kGraphInputCount, 4), n_out = u(r + kGraphOutputCount, 4);
    const uint64_t needed = align_up(kGraphFixedSize + 4 * (n_in + n_out), 8);
    if (needed != graph_.size) {
      return fail(r + kGraphInputCount, "graph section: " + std::to_string(n_in) + " inputs and " +
                                            std::to_string(n_out) + " outputs take " + std::to_string(needed) +
                                            " bytes, the section has " + std::to_string(graph_.size));
    }
    const uint64_t ids_at = r + kGraphFixedSize;
    for (uint64_t k = 0; k < n_in + n_out; ++k) {
      const int32_t id = i32(ids_at + 4 * k);
      const bool input = k < n_in;
      if (id < 0 || static_cast<std::size_t>(id) >= g->tensors.size()) {
        return fail(ids_at + 4 * k, std::string("graph ") + (input ? "input " : "output ") +
                                        std::to_string(input ? k : k - n_in) + " = " + std::to_string(id) +
                                        " is not a tensor (the model has " + std::to_string(g->tensors.size()) + ")");
      }
      (input ? g->inputs : g->outputs).push_back(id);
    }
    for (uint64_t at = ids_at + 4 * (n_in + n_out); at < end; ++at) {
      if (d_[at] != 0) return fail(at, "graph section: padding is not zero");
    }
    return {};
  }

  Status verify(const ReadOptions& options) {
    using namespace format;
    if (options.verify_checksums) {
      Xxh64 h;
      h.update(d_, kHeaderChecksum);
      h.update(d_ + toc_offset_, static_cast<std::size_t>(toc_size_));
      const uint64_t stored = u(kHeaderChecksum, 8), computed = h.digest();
      if (stored != computed) {
        return fail(kHeaderChecksum, "header checksum: stored " + hex64(stored) + ", computed " + hex64(computed) +
                                         " over the header and table of contents: they are corrupt");
      }
      std::vector<const Sect*> sections = {&strings_, &tensors_, &ops_, &attrs_, &graph_};
      for (const Sect& s : unknown_) sections.push_back(&s);
      for (const Sect* s : sections) PTQ_RETURN_IF_ERROR(verify_section(*s));
    }
    if (options.verify_blob_checksum) PTQ_RETURN_IF_ERROR(verify_section(blobs_));
    return {};
  }
  Status verify_section(const Sect& s) const {
    const uint64_t computed = format::xxh64(d_ + s.offset, static_cast<std::size_t>(s.size));
    if (computed == s.checksum) return {};
    return fail(s.entry_at + format::kTocChecksum, label(s.id) + " " + range(s.offset, s.size) + ": checksum: stored " +
                                                       hex64(s.checksum) + ", computed " + hex64(computed) +
                                                       ": the section is corrupt");
  }

  // Constants borrow from the data when `owner` keeps it alive and it is 64-byte aligned (so the
  // blobs are too); otherwise the blob area is copied once and the tensors share the copy.
  void attach_blobs(Graph* g, const std::shared_ptr<const void>& owner) const {
    alignas(format::kBlobAlignment) static const uint8_t kNoBytes[format::kBlobAlignment] = {};
    const bool borrow = owner != nullptr && reinterpret_cast<uintptr_t>(d_) % format::kBlobAlignment == 0;
    std::shared_ptr<const Buffer> copy;
    for (std::size_t i = 0; i < blob_refs_.size(); ++i) {
      const BlobRef& b = blob_refs_[i];
      Buffer& data = g->tensors[i].data;
      const auto size = static_cast<std::size_t>(b.size);
      if (!b.constant) continue;
      if (size == 0) {
        data = Buffer::borrow(kNoBytes, 0, nullptr);  // a constant with no elements: not empty()
      } else if (borrow) {
        data = Buffer::borrow(d_ + b.offset, size, owner);
      } else {
        if (!copy) {
          copy = std::make_shared<Buffer>(Buffer::copy_of(d_ + blobs_.offset, static_cast<std::size_t>(blobs_.size)));
        }
        data = Buffer::borrow(copy->data() + (b.offset - blobs_.offset), size, copy);
      }
    }
  }

  struct BlobRef {
    bool constant;
    uint64_t offset, size;
  };

  const uint8_t* d_;
  uint64_t size_;
  uint16_t minor_ = 0;
  bool newer_minor_ = false;
  uint64_t toc_offset_ = 0, toc_size_ = 0;
  Sect strings_, tensors_, ops_, graph_, attrs_, blobs_;
  std::vector<Sect> unknown_;
  uint64_t name_bytes_ = 0, attr_bytes_ = 0;
  std::vector<BlobRef> blob_refs_;
};

}  // namespace format_detail

// ---- API -----------------------------------------------------------------------------------------

// The model as bytes. Fails (invalid_argument, naming the tensor or op) on a graph the reader
// would reject: unknown dtype or op kind, negative dim, inconsistent quantization, constant data
// of the wrong size, tensor references out of range, unknown attribute enum values.
inline Result<std::vector<uint8_t>> serialize(const Graph& graph) {
  Result<format_detail::Layout> layout = format_detail::make_layout(graph);
  if (!layout.ok()) return layout.status();
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<std::size_t>(layout->file_size));
  format_detail::emit_file(*layout, [&](const uint8_t* d, std::size_t n) {
    bytes.insert(bytes.end(), d, d + n);
    return true;
  });
  return bytes;
}

// Reads a model from `size` bytes at `data`. Constant tensors borrow their bytes from `data` when
// `owner` keeps it alive and `data` is 64-byte aligned; otherwise the blob area is copied once.
// Errors: data_loss for a truncated, corrupt or hostile model ("at byte N: <field>: ..."),
// unimplemented for a newer major version or a newer minor version's feature that cannot be
// skipped (flags, an op kind).
inline Result<Graph> parse_model(const uint8_t* data, std::size_t size, std::shared_ptr<const void> owner = {},
                                 const ReadOptions& options = {}) {
  static const uint8_t kEmpty[1] = {};
  format_detail::Reader reader(data != nullptr ? data : kEmpty, data != nullptr ? size : 0);
  return reader.read(owner, options);
}

// Writes the model to `path` atomically: a temporary file in the same directory is written,
// flushed to disk (fsync) and renamed over `path` (then the directory is fsync'ed, best effort).
// On any failure the temporary is removed and an existing file at `path` is left untouched. An
// existing file's permission bits are kept; a new file gets 0666 minus the umask. A symbolic link
// at `path` is replaced by the new file, not followed (as rename does).
inline Status save_model(const Graph& graph, const std::string& path) {
  Result<format_detail::Layout> layout = format_detail::make_layout(graph);
  if (!layout.ok()) return Status(layout.status()).with_context("save_model '" + path + "'");
  return write_file_atomically(path, "save_model '" + path + "'",
                               [&](auto&& sink) { return format_detail::emit_file(*layout, sink); });
}

// Reads the model at `path`, mapped read-only: constant tensors borrow their bytes from the
// mapping, which they keep alive (the mapping is released with the last of them). Falls back to
// reading the file into memory where it cannot be mapped. Do not truncate a mapped model file in
// place (save_model never does: it replaces the file by rename).
inline Result<Graph> load_model(const std::string& path, const ReadOptions& options = {}) {
  const std::string context = "load_model '" + path + "'";
  // With every checksum verified every page is read anyway: ask for them up front.
  Result<FileBytes> file = read_file_bytes(path, context, /*populate=*/options.verify_blob_checksum);
  if (!file.ok()) return file.status();
  Result<Graph> r = parse_model(file->data, file->size, file->owner, options);
  if (r.ok()) return r;
  return Status(r.status()).with_context(context);
}

}  // namespace ir
PTQ_NAMESPACE_END
