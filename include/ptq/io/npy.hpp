// io/npy.hpp: NumPy's .npy arrays read and written, and the calibration / evaluation samples and
// labels made from them.
//
// Reference: NumPy's format specification (numpy/lib/format.py, "NEP 1"): the 6-byte magic
// "\x93NUMPY", a major and a minor version byte, the header length (u16 little-endian in version
// 1.0; u32 in 2.0 and 3.0), then the header -- a Python dict literal with exactly the keys 'descr',
// 'fortran_order' and 'shape', padded with spaces and ended by '\n' -- then the raw elements.
// Versions 1.0 and 2.0 encode the header in latin-1, 3.0 in utf-8; every header ptq accepts is
// ASCII, so they are read alike.
//
// What is read: little-endian ('<', or '|' for one-byte types) float32 '<f4', float16 '<f2', int8
// '|i1', uint8 '|u1', int16 '<i2', int32 '<i4', int64 '<i8', in C order. Big-endian data, Fortran
// order, other types (float64, bool, unsigned 16/32/64, complex, strings, objects, structured
// arrays) and other versions are `unimplemented`, naming what was found. Everything else that is
// wrong is `data_loss`, located "at byte N": a bad magic, a header length past the end, a malformed
// dict (strings, booleans, the shape tuple), a missing, duplicated or unknown key, a negative dim, a
// byte size beyond int64 (the non-zero dims count even beside a zero dim, as in NumPy), a header
// whose padding does not end in '\n', data shorter than the shape says (truncation) or bytes after
// it. Lenient where NumPy is: the padding
// may be any length (NumPy's writer pads to 64 bytes, older ones to 16), the keys may come in any
// order, spaces are free, and Python 2's 'L' suffix on dims is accepted (NumPy filters it).
//
// What is written: version 1.0 exactly as NumPy's own writer does (keys sorted, "{'descr': '<f4',
// 'fortran_order': False, 'shape': (2, 3), }", spaces to a 64-byte boundary, '\n'), or 2.0 when the
// header needs more than 65535 bytes; so np.load reads ptq's files and the bytes equal np.save's.
// write_npy replaces the file atomically (ir/file_io.hpp).
//
// Array bytes are kept as the file has them (little-endian, C order) in a 64-byte aligned
// ir::Buffer; ptq targets little-endian hosts, where as<T>() reads them directly.
//
// Datasets: load_samples turns one .npy per model input (or a folder of .npy shards, concatenated
// in file-name order) whose first axis is the sample into a convert::VectorDataset; load_labels
// reads class indices.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ptq/convert/dataset.hpp"
#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/float16.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/file_io.hpp"
#include "ptq/ir/graph.hpp"

PTQ_NAMESPACE_BEGIN
namespace io {

// An array read from a .npy file.
struct NpyArray {
  DType dtype = DType::kFloat32;  // float32, float16, int8, uint8, int16, int32 or int64
  Shape shape;                    // a 0-d array has rank 0 (and one element)
  ir::Buffer data;                // count() * dtype_size(dtype) bytes, little-endian, C order, 64-byte aligned

  std::size_t count() const { return static_cast<std::size_t>(shape.num_elements()); }
  template <class T>
  const T* as() const {
    return data.as<T>();
  }
};

namespace npy_detail {

inline constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
inline constexpr std::size_t kMaxRank = 64;  // NumPy 2's limit (NPY_MAXDIMS); NumPy 1 allows 32

// The descr ptq writes for a dtype (NumPy's spelling); nullptr for int4, which NumPy has not.
inline const char* descr_of(DType t) {
  switch (t) {
    case DType::kFloat32: return "<f4";
    case DType::kFloat16: return "<f2";
    case DType::kInt8: return "|i1";
    case DType::kUInt8: return "|u1";
    case DType::kInt16: return "<i2";
    case DType::kInt32: return "<i4";
    case DType::kInt64: return "<i8";
    case DType::kInt4: return nullptr;
  }
  return nullptr;
}

inline Status error_at(StatusCode code, const std::string& what, std::size_t offset, const std::string& msg) {
  return Status(code, what + ": at byte " + std::to_string(offset) + ": " + msg);
}

inline std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The dtype named by a descr, or an error (at `offset`, the descr's position).
inline Status dtype_of_descr(const std::string& descr, const std::string& what, std::size_t offset, DType* out) {
  const std::string shown = "descr '" + printable(descr) + "'";
  if (descr.size() < 2) return error_at(StatusCode::kDataLoss, what, offset, shown + " is not a NumPy type string");
  const char order = descr[0];
  const std::string code = descr.substr(1);
  struct Known {
    const char* code;
    DType dtype;
  };
  static const Known kKnown[] = {{"f4", DType::kFloat32}, {"f2", DType::kFloat16}, {"i1", DType::kInt8},
                                 {"u1", DType::kUInt8},   {"i2", DType::kInt16},   {"i4", DType::kInt32},
                                 {"i8", DType::kInt64}};
  if (order != '<' && order != '|' && order != '>' && order != '=') {
    return error_at(StatusCode::kDataLoss, what, offset,
                    shown + " does not start with a byte order ('<', '>', '|' or '=')");
  }
  for (const Known& k : kKnown) {
    if (code != k.code) continue;
    const std::size_t bytes = dtype_size(k.dtype);
    if (order == '>' && bytes > 1) {
      return error_at(StatusCode::kUnimplemented, what, offset,
                      shown + ": big-endian data is not supported; save it little-endian (astype('<" + code + "'))");
    }
    if (order == '=' && bytes > 1) {
      return error_at(StatusCode::kUnimplemented, what, offset,
                      shown + ": native byte order is ambiguous in a file; NumPy writes '<' or '>'");
    }
    if (order == '|' && bytes > 1) {
      return error_at(StatusCode::kDataLoss, what, offset,
                      shown + ": byte order '|' (not applicable) on a " + std::to_string(bytes) + "-byte type");
    }
    *out = k.dtype;
    return {};
  }
  std::string hint;
  if (code == "f8") hint = " (float64: save as float32 with astype(np.float32))";
  if (code == "b1") hint = " (bool: save as uint8)";
  return error_at(StatusCode::kUnimplemented, what, offset,
                  shown + " is not a supported type; ptq reads <f4, <f2, |i1, |u1, <i2, <i4, <i8" + hint);
}

// The header dict, parsed as the small subset of Python literals NumPy writes.
class HeaderParser {
 public:
  HeaderParser(const uint8_t* bytes, std::size_t begin, std::size_t end, const std::string& what)
      : p_(bytes), pos_(begin), end_(end), what_(what) {}

  struct Header {
    std::string descr;
    std::size_t descr_offset = 0;
    bool fortran_order = false;
    std::size_t fortran_offset = 0;
    std::vector<int64_t> dims;
    std::size_t shape_offset = 0;
  };

  Status parse(Header* h) {
    const std::size_t begin = pos_;
    if (end_ == begin || p_[end_ - 1] != '\n') {
      return fail(end_ == begin ? begin : end_ - 1,
                  "the header does not end in '\\n' (NumPy pads it with spaces and a newline)");
    }
    for (std::size_t i = begin; i < end_; ++i) {
      if (p_[i] >= 0x80 || (p_[i] < 0x20 && p_[i] != '\n' && p_[i] != '\r' && p_[i] != '\t')) {
        return fail(i, "header byte 0x" + hex2(p_[i]) + " is not printable ASCII");
      }
    }
    skip_space();
    if (!consume('{')) return fail(pos_, "the header is not a dict (no '{')");
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    for (;;) {
      skip_space();
      if (consume('}')) break;
      const std::size_t key_offset = pos_;
      std::string key;
      PTQ_RETURN_IF_ERROR(parse_string(&key, "a key"));
      skip_space();
      if (!consume(':')) return fail(pos_, "expected ':' after the key '" + printable(key) + "'");
      skip_space();
      bool* seen = nullptr;
      if (key == "descr") {
        seen = &seen_descr;
        h->descr_offset = pos_;
        if (pos_ < end_ && p_[pos_] == '[') {
          return Status(StatusCode::kUnimplemented,
                        prefix(pos_) + "descr is a list: structured arrays are not supported");
        }
        PTQ_RETURN_IF_ERROR(parse_string(&h->descr, "the descr"));
      } else if (key == "fortran_order") {
        seen = &seen_fortran;
        h->fortran_offset = pos_;
        PTQ_RETURN_IF_ERROR(parse_bool(&h->fortran_order));
      } else if (key == "shape") {
        seen = &seen_shape;
        h->shape_offset = pos_;
        PTQ_RETURN_IF_ERROR(parse_shape(&h->dims));
      } else {
        return fail(key_offset, "unknown key '" + printable(key) + "' (a .npy header has exactly 'descr', "
                                "'fortran_order' and 'shape')");
      }
      if (*seen) return fail(key_offset, "the key '" + key + "' appears twice");
      *seen = true;
      skip_space();
      if (consume(',')) continue;
      if (consume('}')) break;
      return fail(pos_, "expected ',' or '}' after the value of '" + key + "'");
    }
    skip_space();
    if (pos_ != end_) return fail(pos_, "unexpected '" + printable(std::string(1, static_cast<char>(p_[pos_]))) +
                                            "' after the header dict (only spaces may pad it)");
    const char* missing = !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : !seen_shape ? "shape" : nullptr;
    if (missing) return fail(begin, std::string("the header has no '") + missing + "' key");
    return {};
  }

 private:
  static std::string hex2(unsigned v) {
    static const char* hex = "0123456789abcdef";
    return std::string{hex[(v >> 4) & 15], hex[v & 15]};
  }
  std::string prefix(std::size_t at) const { return what_ + ": at byte " + std::to_string(at) + ": "; }
  Status fail(std::size_t at, const std::string& msg) const { return Status(StatusCode::kDataLoss, prefix(at) + msg); }

  void skip_space() {
    while (pos_ < end_ && (p_[pos_] == ' ' || p_[pos_] == '\t' || p_[pos_] == '\n' || p_[pos_] == '\r')) ++pos_;
  }
  bool consume(char c) {
    if (pos_ < end_ && p_[pos_] == static_cast<uint8_t>(c)) {
      ++pos_;
      return true;
    }
    return false;
  }

  Status parse_string(std::string* out, const char* role) {
    if (pos_ >= end_ || (p_[pos_] != '\'' && p_[pos_] != '"')) {
      return fail(pos_, std::string("expected a quoted string as ") + role);
    }
    const uint8_t quote = p_[pos_];
    const std::size_t open = pos_++;
    out->clear();
    while (pos_ < end_ && p_[pos_] != quote) {
      if (p_[pos_] == '\\') return fail(pos_, "escape sequences in header strings are not supported");
      if (p_[pos_] == '\n') break;
      out->push_back(static_cast<char>(p_[pos_++]));
    }
    if (pos_ >= end_ || p_[pos_] != quote) return fail(open, std::string("unterminated string as ") + role);
    ++pos_;
    return {};
  }

  Status parse_bool(bool* out) {
    const std::size_t at = pos_;
    std::string word;
    while (pos_ < end_ && ((p_[pos_] >= 'a' && p_[pos_] <= 'z') || (p_[pos_] >= 'A' && p_[pos_] <= 'Z'))) {
      word.push_back(static_cast<char>(p_[pos_++]));
    }
    if (word == "True") *out = true;
    else if (word == "False") *out = false;
    else return fail(at, "fortran_order is '" + printable(word) + "', not True or False");
    return {};
  }

  // A tuple of non-negative ints: (), (n,), (n, m), (n, m,) -- one element needs its comma, as in
  // Python, where (n) is an int.
  Status parse_shape(std::vector<int64_t>* dims) {
    if (!consume('(')) return fail(pos_, "the shape is not a tuple (no '(')");
    dims->clear();
    bool trailing_comma = false;
    for (;;) {
      skip_space();
      if (consume(')')) break;
      const std::size_t at = pos_;
      if (pos_ < end_ && p_[pos_] == '-') {
        return fail(at, "shape dim " + std::to_string(dims->size()) + " is negative");
      }
      if (pos_ >= end_ || p_[pos_] < '0' || p_[pos_] > '9') {
        return fail(at, "shape dim " + std::to_string(dims->size()) + " is not an integer");
      }
      int64_t v = 0;
      while (pos_ < end_ && p_[pos_] >= '0' && p_[pos_] <= '9') {
        const int digit = p_[pos_++] - '0';
        if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) {
          return fail(at, "shape dim " + std::to_string(dims->size()) + " does not fit in 64 bits");
        }
        v = v * 10 + digit;
      }
      if (pos_ < end_ && (p_[pos_] == 'L' || p_[pos_] == 'l')) ++pos_;  // Python 2's long literal
      if (dims->size() == kMaxRank) return fail(at, "the shape has more than " + std::to_string(kMaxRank) + " dims");
      dims->push_back(v);
      skip_space();
      trailing_comma = consume(',');
      if (trailing_comma) continue;
      if (consume(')')) break;
      return fail(pos_, "expected ',' or ')' in the shape");
    }
    if (dims->size() == 1 && !trailing_comma) {
      return fail(pos_ - 1, "the shape (n) is an int, not a tuple; a 1-d shape is written (n,)");
    }
    return {};
  }

  const uint8_t* p_;
  std::size_t pos_, end_;
  const std::string& what_;
};

// The byte size of an array of `dims` (each >= 0) of `dtype`, into *bytes; false when the product
// of the non-zero dims, or that times the element size, does not fit in int64. As NumPy
// (PyArray_NewFromDescr), a zero dim does not excuse the others: (0, 2**62, 2**62) is too big, so
// that Shape::num_elements() never overflows on an array ptq accepted.
inline bool byte_size(DType dtype, const std::vector<int64_t>& dims, uint64_t* bytes) {
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const uint64_t item = dtype_size(dtype);
  uint64_t product = item;  // the non-zero dims times the element size
  bool empty = false;
  for (int64_t d : dims) {
    if (d < 0) return false;
    if (d == 0) {
      empty = true;
      continue;
    }
    if (product > kMax / static_cast<uint64_t>(d)) return false;
    product *= static_cast<uint64_t>(d);
  }
  *bytes = empty ? 0 : product;
  return true;
}

inline uint64_t load_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Parses `size` bytes at `p`. The array's bytes are borrowed from `whole` (which holds exactly
// these bytes) when it is given and the data start is 64-byte aligned, and copied otherwise.
inline Result<NpyArray> parse(const uint8_t* p, std::size_t size, const std::string& what, const ir::Buffer* whole) {
  for (std::size_t i = 0; i < sizeof kMagic; ++i) {
    if (i >= size) {
      return error_at(StatusCode::kDataLoss, what, i,
                      "truncated: " + std::to_string(size) + " bytes, shorter than the magic \\x93NUMPY");
    }
    if (p[i] != kMagic[i]) {
      return error_at(StatusCode::kDataLoss, what, i, "not a .npy file (it does not start with \\x93NUMPY)");
    }
  }
  if (size < 8) return error_at(StatusCode::kDataLoss, what, size, "truncated in the version bytes");
  const unsigned major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0) {
    return error_at(StatusCode::kUnimplemented, what, 6,
                    "format version " + std::to_string(major) + "." + std::to_string(minor) +
                        " (ptq reads 1.0, 2.0 and 3.0)");
  }
  const int length_bytes = major == 1 ? 2 : 4;
  const std::size_t header_begin = 8 + static_cast<std::size_t>(length_bytes);
  if (size < header_begin) return error_at(StatusCode::kDataLoss, what, 8, "truncated in the header length");
  const uint64_t header_length = load_le(p + 8, length_bytes);
  if (header_length > size - header_begin) {
    return error_at(StatusCode::kDataLoss, what, 8,
                    "the header length " + std::to_string(header_length) + " runs past the end of the file (" +
                        std::to_string(size) + " bytes)");
  }
  const std::size_t data_begin = header_begin + static_cast<std::size_t>(header_length);

  HeaderParser::Header h;
  PTQ_RETURN_IF_ERROR(HeaderParser(p, header_begin, data_begin, what).parse(&h));
  NpyArray a;
  PTQ_RETURN_IF_ERROR(dtype_of_descr(h.descr, what, h.descr_offset, &a.dtype));
  if (h.fortran_order) {
    return error_at(StatusCode::kUnimplemented, what, h.fortran_offset,
                    "fortran_order is True: Fortran-order arrays are not supported; save a C-order copy "
                    "(np.ascontiguousarray)");
  }
  uint64_t data_bytes = 0;
  if (!byte_size(a.dtype, h.dims, &data_bytes)) {
    return error_at(StatusCode::kDataLoss, what, h.shape_offset,
                    "the shape " + Shape(h.dims).to_string() + " of " + dtype_name(a.dtype) +
                        " has more bytes than 64 bits count");
  }
  a.shape = Shape(std::move(h.dims));
  const std::size_t available = size - data_begin;
  if (data_bytes > available) {
    return error_at(StatusCode::kDataLoss, what, size,
                    "truncated: the header declares " + a.shape.to_string() + " " + dtype_name(a.dtype) + " (" +
                        std::to_string(data_bytes) + " bytes from byte " + std::to_string(data_begin) +
                        ") but the file ends " + std::to_string(available) + " bytes after the header");
  }
  if (data_bytes < available) {
    return error_at(StatusCode::kDataLoss, what, data_begin + static_cast<std::size_t>(data_bytes),
                    std::to_string(available - data_bytes) + " bytes after the data of " + a.shape.to_string() +
                        " " + dtype_name(a.dtype) + " (the header and the file size disagree)");
  }
  const uint8_t* data = p + data_begin;
  const auto n = static_cast<std::size_t>(data_bytes);
  if (whole != nullptr && reinterpret_cast<std::uintptr_t>(data) % ir::Buffer::kAlignment == 0) {
    a.data = ir::Buffer::borrow(data, n, std::make_shared<ir::Buffer>(*whole));
  } else {
    a.data = ir::Buffer::copy_of(data, n);
  }
  return a;
}

// Element i of `a` as a float value (integers converted as values, no scaling).
inline float value_as_float(const NpyArray& a, std::size_t i) {
  switch (a.dtype) {
    case DType::kFloat32: return a.as<float>()[i];
    case DType::kFloat16: return half_bits_to_float(a.as<uint16_t>()[i]);
    case DType::kInt8: return static_cast<float>(a.as<int8_t>()[i]);
    case DType::kUInt8: return static_cast<float>(a.as<uint8_t>()[i]);
    case DType::kInt16: return static_cast<float>(a.as<int16_t>()[i]);
    case DType::kInt32: return static_cast<float>(a.as<int32_t>()[i]);
    case DType::kInt64: return static_cast<float>(a.as<int64_t>()[i]);
    case DType::kInt4: break;
  }
  return 0.0f;
}

// The .npy files of a folder, sorted by file name; or the path itself when it is not a folder.
inline Result<std::vector<std::string>> npy_files(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return std::vector<std::string>{path};
  std::vector<std::string> files;
  fs::directory_iterator it(path, ec);
  if (ec) return io_error("'" + path + "': cannot list the folder: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return io_error("'" + path + "': cannot list the folder: " + ec.message());
    if (it->path().extension() == ".npy" && !it->is_directory(ec)) files.push_back(it->path().string());
  }
  if (ec) return io_error("'" + path + "': cannot list the folder: " + ec.message());
  if (files.empty()) return not_found("'" + path + "': the folder holds no .npy file");
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace npy_detail

// Reads a .npy array from `size` bytes at `bytes` (which need no alignment); the array's bytes are
// copied. Errors are "<what>: at byte N: ..." (see the file comment for which are data_loss and
// which unimplemented).
inline Result<NpyArray> parse_npy(const void* bytes, std::size_t size, const std::string& what = "npy") {
  static const uint8_t kEmpty[1] = {};
  const auto* p = bytes != nullptr ? static_cast<const uint8_t*>(bytes) : kEmpty;
  return npy_detail::parse(p, bytes != nullptr ? size : 0, what, nullptr);
}

// Reads the .npy file at `path`. Errors name the path ("'<path>': at byte N: ..."); a missing file
// is not_found.
inline Result<NpyArray> read_npy(const std::string& path) {
  const std::string what = "'" + path + "'";
  Result<ir::Buffer> file = ir::read_file(path, what);
  if (!file.ok()) return file.status();
  return npy_detail::parse(file->data(), file->size(), what, &*file);
}

// The .npy bytes of `shape` elements of `dtype` at `data` (little-endian, C order): version 1.0 as
// np.save writes it, 2.0 if the header needs more than 65535 bytes. Preconditions: dtype is not
// int4 (NumPy has no such type), every dim is >= 0 and the byte size fits int64; on a violation the result is empty (never a
// valid .npy), which write_npy reports as invalid_argument.
inline std::vector<uint8_t> serialize_npy(DType dtype, const Shape& shape, const void* data) {
  const char* descr = npy_detail::descr_of(dtype);
  uint64_t data_size = 0;
  if (descr == nullptr || !npy_detail::byte_size(dtype, shape.dims(), &data_size)) return {};
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < shape.rank(); ++i) {
    if (i) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  dict += shape.rank() == 1 ? ",), }" : "), }";
  // NumPy: the magic, version and length, the dict, then 1 to 64 spaces and '\n' so that the data
  // starts on a multiple of 64 bytes.
  int major = 1;
  std::size_t preamble = 10;
  std::size_t pad = 64 - (preamble + dict.size() + 1) % 64;
  if (dict.size() + pad + 1 > 0xFFFF) {
    major = 2;
    preamble = 12;
    pad = 64 - (preamble + dict.size() + 1) % 64;
  }
  const std::size_t header_length = dict.size() + pad + 1;
  const auto data_bytes = static_cast<std::size_t>(data_size);
  std::vector<uint8_t> out;
  out.reserve(preamble + header_length + data_bytes);
  out.insert(out.end(), npy_detail::kMagic, npy_detail::kMagic + sizeof npy_detail::kMagic);
  out.push_back(static_cast<uint8_t>(major));
  out.push_back(0);
  for (std::size_t i = 0; i < preamble - 8; ++i) out.push_back(static_cast<uint8_t>(header_length >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), pad, ' ');
  out.push_back('\n');
  if (data_bytes) {
    const auto* d = static_cast<const uint8_t*>(data);
    out.insert(out.end(), d, d + data_bytes);
  }
  return out;
}

// Writes the array to `path` atomically (ir::write_file_atomically: a temporary, fsync, rename).
inline Status write_npy(const std::string& path, DType dtype, const Shape& shape, const void* data) {
  const std::string context = "write_npy '" + path + "'";
  if (npy_detail::descr_of(dtype) == nullptr) {
    return invalid_argument(context + ": dtype " + dtype_name(dtype) + " has no .npy equivalent");
  }
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape[i] < 0) return invalid_argument(context + ": shape " + shape.to_string() + " has a negative dim");
  }
  uint64_t data_size = 0;
  if (!npy_detail::byte_size(dtype, shape.dims(), &data_size)) {
    return invalid_argument(context + ": shape " + shape.to_string() + " has more bytes than 64 bits count");
  }
  const std::vector<uint8_t> bytes = serialize_npy(dtype, shape, data);
  return ir::write_file_atomically(path, context, [&](auto&& sink) { return sink(bytes.data(), bytes.size()); });
}

// Samples for the converter and the evaluator (convert/dataset.hpp). `path_per_input[i]` feeds the
// model's input i: one .npy whose first axis is the sample, or a folder of .npy shards concatenated
// in file-name order (all agreeing in dtype and in the dims after the first). Each sample of input
// i must hold `input_elements[i]` elements, and every input the same number of samples. Integer
// arrays are converted to float as values (no scaling): a uint8 image stays in [0, 255].
inline Result<convert::VectorDataset> load_samples(const std::vector<std::string>& path_per_input,
                                                   const std::vector<int64_t>& input_elements) {
  if (path_per_input.size() != input_elements.size()) {
    return invalid_argument("load_samples: " + std::to_string(path_per_input.size()) + " paths for " +
                            std::to_string(input_elements.size()) + " model inputs");
  }
  if (path_per_input.empty()) return invalid_argument("load_samples: no inputs");
  std::vector<convert::InputSet> samples;
  for (std::size_t input = 0; input < path_per_input.size(); ++input) {
    const std::string& path = path_per_input[input];
    const std::string context = "load_samples: input " + std::to_string(input);
    if (input_elements[input] <= 0) {
      return invalid_argument(context + ": expected element count " + std::to_string(input_elements[input]) +
                              " is not positive");
    }
    const auto expected = static_cast<std::size_t>(input_elements[input]);
    Result<std::vector<std::string>> files = npy_detail::npy_files(path);
    if (!files.ok()) return Status(files.status()).with_context(context);
    std::size_t n = 0;  // samples of this input so far
    std::string first_file;
    NpyArray first;
    for (const std::string& file : *files) {
      Result<NpyArray> a = read_npy(file);
      if (!a.ok()) return Status(a.status()).with_context(context);
      const std::string where = context + ": '" + file + "' (" + a->shape.to_string() + " " + dtype_name(a->dtype) + ")";
      if (a->shape.rank() == 0) return invalid_argument(where + ": a 0-d array has no sample axis");
      const std::size_t per_sample = static_cast<std::size_t>(a->shape.flat_size(1, a->shape.rank()));
      if (per_sample != expected) {
        return invalid_argument(where + ": a sample holds " + std::to_string(per_sample) +
                                " elements, the model input expects " + std::to_string(expected));
      }
      if (first_file.empty()) {
        first_file = file;
        first.dtype = a->dtype;
        first.shape = a->shape;
      } else if (a->dtype != first.dtype ||
                 std::vector<int64_t>(a->shape.dims().begin() + 1, a->shape.dims().end()) !=
                     std::vector<int64_t>(first.shape.dims().begin() + 1, first.shape.dims().end())) {
        return invalid_argument(where + ": disagrees with the first shard '" + first_file + "' (" +
                                first.shape.to_string() + " " + dtype_name(first.dtype) + ") in dtype or inner shape");
      }
      const auto rows = static_cast<std::size_t>(a->shape[0]);
      if (input == 0) samples.resize(samples.size() + rows, convert::InputSet(path_per_input.size()));
      if (n + rows > samples.size()) {
        return invalid_argument(context + ": '" + path + "' holds more samples than input 0 (" +
                                std::to_string(samples.size()) + ")");
      }
      for (std::size_t r = 0; r < rows; ++r) {
        std::vector<float>& v = samples[n + r][input];
        v.resize(expected);
        for (std::size_t e = 0; e < expected; ++e) v[e] = npy_detail::value_as_float(*a, r * expected + e);
      }
      n += rows;
    }
    if (n != samples.size()) {
      return invalid_argument(context + ": '" + path + "' holds " + std::to_string(n) + " samples, input 0 holds " +
                              std::to_string(samples.size()));
    }
  }
  if (samples.empty()) return invalid_argument("load_samples: '" + path_per_input[0] + "' holds no samples");
  return convert::VectorDataset(std::move(samples));
}

// Class labels: a 1-d (or [N, 1]) array of an integer dtype (int32, int64 and uint8 are usual;
// int8 and int16 are accepted too), every label >= 0.
inline Result<std::vector<int64_t>> load_labels(const std::string& path) {
  Result<NpyArray> a = read_npy(path);
  if (!a.ok()) return Status(a.status()).with_context("load_labels");
  const std::string where = "load_labels '" + path + "' (" + a->shape.to_string() + " " + dtype_name(a->dtype) + ")";
  if (a->dtype == DType::kFloat32 || a->dtype == DType::kFloat16) {
    return invalid_argument(where + ": labels must be integers");
  }
  if (!(a->shape.rank() == 1 || (a->shape.rank() == 2 && a->shape[1] == 1))) {
    return invalid_argument(where + ": labels must be 1-d or [N, 1]");
  }
  std::vector<int64_t> labels(a->count());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    switch (a->dtype) {
      case DType::kInt8: labels[i] = a->as<int8_t>()[i]; break;
      case DType::kUInt8: labels[i] = a->as<uint8_t>()[i]; break;
      case DType::kInt16: labels[i] = a->as<int16_t>()[i]; break;
      case DType::kInt32: labels[i] = a->as<int32_t>()[i]; break;
      default: labels[i] = a->as<int64_t>()[i]; break;
    }
    if (labels[i] < 0) return invalid_argument(where + ": label " + std::to_string(i) + " = " +
                                               std::to_string(labels[i]) + " is negative");
  }
  return labels;
}

}  // namespace io
PTQ_NAMESPACE_END
