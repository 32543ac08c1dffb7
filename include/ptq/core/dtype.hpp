// dtype.hpp: the element types of the quantization spec and their ranges.
//
// TFLite's int8 spec: activations int8 in [-128, 127]; weights int8 in [-127, 127] (narrow range,
// zero point 0); bias int32. uint8 is the legacy asymmetric type; int16 is the 16x8 activation
// type (symmetric, zero point 0). int4 is stored packed two per byte, low nibble first (the order
// TFLite's tensor_utils::UnpackDenseInt4IntoInt8 reads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN

enum class DType : uint8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt8 = 2,
  kUInt8 = 3,
  kInt16 = 4,
  kInt32 = 5,
  kInt64 = 6,
  kInt4 = 7,  // packed, two elements per byte
};

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kInt4: return "int4";
  }
  return "unknown";
}

// Bytes per element; 0 for kInt4, whose storage is packed_int4_bytes(count).
constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat16: return 2;
    case DType::kInt8: return 1;
    case DType::kUInt8: return 1;
    case DType::kInt16: return 2;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kInt4: return 0;
  }
  return 0;
}

constexpr bool dtype_is_quantized_integer(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8 || t == DType::kInt16 || t == DType::kInt32 ||
         t == DType::kInt4;
}

// Compile-time traits for the integer element types that quantized tensors use.
template <class T>
struct QuantTraits;

template <>
struct QuantTraits<int8_t> {
  static constexpr DType dtype = DType::kInt8;
  static constexpr int32_t min = -128, max = 127;
};
template <>
struct QuantTraits<uint8_t> {
  static constexpr DType dtype = DType::kUInt8;
  static constexpr int32_t min = 0, max = 255;
};
template <>
struct QuantTraits<int16_t> {
  static constexpr DType dtype = DType::kInt16;
  static constexpr int32_t min = -32768, max = 32767;
};
template <>
struct QuantTraits<int32_t> {
  static constexpr DType dtype = DType::kInt32;
  static constexpr int32_t min = std::numeric_limits<int32_t>::min();
  static constexpr int32_t max = std::numeric_limits<int32_t>::max();
};

// The quantized range [qmin, qmax] of T; narrow_range drops the lowest value so the range is
// symmetric (int8 weights: [-127, 127]).
template <class T>
constexpr int32_t quant_min(bool narrow_range = false) {
  return QuantTraits<T>::min + (narrow_range ? 1 : 0);
}
template <class T>
constexpr int32_t quant_max() {
  return QuantTraits<T>::max;
}

// ---- int4, packed two per byte ------------------------------------------------------------
// Element 2i is the low nibble of byte i, element 2i+1 the high nibble; both signed [-8, 7].

constexpr std::size_t packed_int4_bytes(std::size_t count) { return (count + 1) / 2; }

// Packs `count` values (each in [-8, 7]) into packed_int4_bytes(count) bytes. An odd count leaves
// the last byte's high nibble zero.
inline void pack_int4(const int8_t* PTQ_RESTRICT src, std::size_t count, uint8_t* PTQ_RESTRICT dst) {
  for (std::size_t i = 0; i + 1 < count; i += 2) {
    dst[i / 2] = static_cast<uint8_t>((static_cast<uint8_t>(src[i]) & 0x0F) |
                                      ((static_cast<uint8_t>(src[i + 1]) & 0x0F) << 4));
  }
  if (count % 2 != 0) dst[count / 2] = static_cast<uint8_t>(static_cast<uint8_t>(src[count - 1]) & 0x0F);
}

// Unpacks `count` signed nibbles into int8 values in [-8, 7].
inline void unpack_int4(const uint8_t* PTQ_RESTRICT src, std::size_t count, int8_t* PTQ_RESTRICT dst) {
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned nibble = (i % 2 == 0) ? (src[i / 2] & 0x0Fu) : (src[i / 2] >> 4);
    dst[i] = static_cast<int8_t>(static_cast<int>(nibble ^ 0x8u) - 8);  // sign-extend 4 bits
  }
}

PTQ_NAMESPACE_END
