// Two builds of one file, for tests/emu/test_quantize_emu.py:
//  * -DPTQ_EMU_GUEST: a freestanding x86-64 ELF (no libc) whose extern "C" entry points call the
//    AVX-512 kernels; it runs inside the emulated CPU (bochs_runner.py). Only integer/pointer
//    arguments: parameters travel as structs in guest memory, laid out by the host build below,
//    which is the same compiler and ABI.
//  * otherwise: a host shared library (ctypes) with the scalar reference, the input generators of
//    tests/kernels/quantize_test.cpp, and the parameter structs.
#include <cstddef>
#include <cstdint>

#ifdef PTQ_EMU_GUEST
#include "ptq/kernels/x86/float16_avx512.hpp"
#include "ptq/kernels/x86/quantize_avx512.hpp"

// The compiler may emit calls to these for struct copies and zeroing, even freestanding.
extern "C" void* memcpy(void* d, const void* s, std::size_t n) {
  auto* dp = static_cast<unsigned char*>(d);
  const auto* sp = static_cast<const unsigned char*>(s);
  while (n--) *dp++ = *sp++;
  return d;
}
extern "C" void* memset(void* d, int c, std::size_t n) {
  auto* dp = static_cast<unsigned char*>(d);
  while (n--) *dp++ = static_cast<unsigned char>(c);
  return d;
}

namespace k = ptq::x86::avx512;
namespace k16 = ptq::x86::avx512;
#define PTQ_EMU_QUANTIZE(NAME, T)                                                       \
  extern "C" void quantize_##NAME(const float* x, T* q, std::size_t n, const ptq::QuantParams* p) { \
    k::quantize<T>(x, q, n, *p);                                                        \
  }                                                                                     \
  extern "C" void dequantize_##NAME(const T* q, float* x, std::size_t n, const ptq::QuantParams* p) { \
    k::dequantize<T>(q, x, n, *p);                                                      \
  }
#define PTQ_EMU_REQUANTIZE(NAME, In, Out)                                                          \
  extern "C" void requantize_##NAME(const In* x, Out* y, std::size_t n, const ptq::RequantizeParams* p) { \
    k::requantize<In, Out>(x, y, n, *p);                                                           \
  }

#else  // host
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ptq/kernels/reference/float16.hpp"
#include "ptq/kernels/reference/quantize.hpp"

namespace k = ptq::reference;
namespace k16 = ptq::reference;

// The scalar twin of the channels-last per-axis kernels: row r, element c uses scales[c], zps[c].
namespace ptq::reference {
template <class T>
void quantize_rows(const float* x, T* q, std::size_t rows, std::size_t channels, const float* scales,
                   const int32_t* zero_points) {
  for (std::size_t i = 0; i < rows * channels; ++i)
    q[i] = quantize_one<T>(x[i], scales[i % channels], zero_points[i % channels]);
}
template <class T>
void dequantize_rows(const T* q, float* x, std::size_t rows, std::size_t channels, const float* scales,
                     const int32_t* zero_points) {
  for (std::size_t i = 0; i < rows * channels; ++i)
    x[i] = dequantize_one<T>(q[i], scales[i % channels], zero_points[i % channels]);
}
}  // namespace ptq::reference
#define PTQ_EMU_QUANTIZE(NAME, T)                                                       \
  extern "C" void quantize_##NAME(const float* x, T* q, std::size_t n, const ptq::QuantParams* p) { \
    k::quantize<T>(x, q, n, *p);                                                        \
  }                                                                                     \
  extern "C" void dequantize_##NAME(const T* q, float* x, std::size_t n, const ptq::QuantParams* p) { \
    k::dequantize<T>(q, x, n, *p);                                                      \
  }
#define PTQ_EMU_REQUANTIZE(NAME, In, Out)                                                          \
  extern "C" void requantize_##NAME(const In* x, Out* y, std::size_t n, const ptq::RequantizeParams* p) { \
    k::requantize<In, Out>(x, y, n, *p);                                                           \
  }

extern "C" std::size_t sizeof_quant_params() { return sizeof(ptq::QuantParams); }
extern "C" std::size_t sizeof_requantize_params() { return sizeof(ptq::RequantizeParams); }
extern "C" void make_quant_params(float scale, int32_t zero_point, ptq::QuantParams* out) {
  *out = ptq::QuantParams{scale, zero_point};
}
extern "C" void make_requantize_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, int single,
                                       ptq::RequantizeParams* out) {
  *out = ptq::make_requantize_params({in_scale, in_zp}, {out_scale, out_zp},
                                     single ? ptq::RoundingMode::kSingle : ptq::RoundingMode::kDouble);
}

// Floats that stress quantize, as in tests/kernels/quantize_test.cpp: ties at the scale, their
// neighbours, arbitrary bit patterns (NaNs included), specials, ordinary values.
extern "C" void tricky_floats(uint32_t seed, float scale, float* v, std::size_t n) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> k(-300, 300);
  std::uniform_real_distribution<float> u(-200.0f, 200.0f);
  for (std::size_t i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0: v[i] = (static_cast<float>(k(rng)) + 0.5f) * scale; break;
      case 1: v[i] = std::nextafter((static_cast<float>(k(rng)) + 0.5f) * scale, 0.0f); break;
      case 2: v[i] = std::nextafter((static_cast<float>(k(rng)) + 0.5f) * scale, 1e30f); break;
      case 3: {
        const uint32_t b = static_cast<uint32_t>(rng());
        std::memcpy(&v[i], &b, 4);
        break;
      }
      case 4: {
        const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN(), 3e9f, -3e9f, 1e-40f};
        v[i] = specials[rng() % 8];
        break;
      }
      default: v[i] = u(rng) * scale; break;
    }
  }
}
#endif

// Per-axis along the innermost axis. The parameter block is {uint64 rows, uint64 channels,
// float scales[channels], int32 zero_points[channels]}, addressed the same way in guest and host.
struct RowsHeader {
  uint64_t rows, channels;
};
#define PTQ_EMU_ROWS(NAME, T)                                                                        \
  extern "C" void quantize_rows_##NAME(const float* x, T* q, std::size_t, const RowsHeader* p) {     \
    const auto* scales = reinterpret_cast<const float*>(p + 1);                                    \
    k::quantize_rows<T>(x, q, p->rows, p->channels, scales,                                         \
                        reinterpret_cast<const int32_t*>(scales + p->channels));                    \
  }                                                                                                 \
  extern "C" void dequantize_rows_##NAME(const T* q, float* x, std::size_t, const RowsHeader* p) {   \
    const auto* scales = reinterpret_cast<const float*>(p + 1);                                    \
    k::dequantize_rows<T>(q, x, p->rows, p->channels, scales,                                       \
                          reinterpret_cast<const int32_t*>(scales + p->channels));                  \
  }
PTQ_EMU_ROWS(i8, int8_t)
PTQ_EMU_ROWS(u8, uint8_t)
PTQ_EMU_ROWS(i16, int16_t)

extern "C" void float_to_half(const float* x, uint16_t* h, std::size_t n, const void*) { k16::float_to_half(x, h, n); }
extern "C" void half_to_float(const uint16_t* h, float* x, std::size_t n, const void*) { k16::half_to_float(h, x, n); }

PTQ_EMU_QUANTIZE(i8, int8_t)
PTQ_EMU_QUANTIZE(u8, uint8_t)
PTQ_EMU_QUANTIZE(i16, int16_t)
PTQ_EMU_QUANTIZE(i32, int32_t)  // dequantize_i32 is the double-precision path; quantize_i32 is unused
PTQ_EMU_REQUANTIZE(i8_i8, int8_t, int8_t)
PTQ_EMU_REQUANTIZE(i8_u8, int8_t, uint8_t)
PTQ_EMU_REQUANTIZE(u8_i8, uint8_t, int8_t)
PTQ_EMU_REQUANTIZE(i32_i8, int32_t, int8_t)
PTQ_EMU_REQUANTIZE(i32_u8, int32_t, uint8_t)
PTQ_EMU_REQUANTIZE(i32_i16, int32_t, int16_t)
