// float16_test.cpp: core/float16.hpp against two oracles that share no code with it.
//
//   (a) GCC's _Float16: conversions are libgcc's soft-fp (__extendhfsf2 / __truncsfhf2) in a
//       baseline x86-64 build, or the compiler's own folding for constants;
//   (b) the F16C instructions vcvtph2ps / vcvtps2ph (imm8 = round to nearest even), called from a
//       function with a target attribute, when the CPU has them.
// Every half is checked; floats are swept densely where rounding is delicate. Hand-worked values
// come first, each with the arithmetic that gives it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <ios>
#include <limits>
#include <vector>

#include "ptq/core/float16.hpp"
#include "ptq/simd/arch.hpp"

#if PTQ_ARCH_X86
#include <immintrin.h>
#endif

namespace {

uint32_t bits_of(float x) {
  uint32_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float x = 0;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

bool is_nan_half(uint16_t h) { return (h & 0x7FFFu) > 0x7C00u; }

#if defined(PTQ_TEST_SANITIZED)
// Instrumented builds check every 5th element (odd, so every low-bit residue is still visited).
constexpr uint32_t kSanitizedShrink = 5;
#else
constexpr uint32_t kSanitizedShrink = 1;
#endif

// ---- oracle (a): _Float16 ----------------------------------------------------------------------
// GCC before 13 defines __FLT16_MAX__ on AArch64 but accepts _Float16 only in C, not in C++; there
// the oracle is __fp16 (IEEE binary16 on AArch64), converted by the FPU's fcvt instead of libgcc.
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define PTQ_TEST_HAVE_FLOAT16_TYPE 1
using OracleHalf = __fp16;
#elif defined(__FLT16_MAX__)
#define PTQ_TEST_HAVE_FLOAT16_TYPE 1
using OracleHalf = _Float16;
#endif
#if PTQ_TEST_HAVE_FLOAT16_TYPE
// noinline + volatile keep the conversion a run-time libgcc call rather than something the
// optimiser could rewrite.
PTQ_NOINLINE uint16_t oracle_soft_float_to_half(float x) {
  volatile float vx = x;
  const OracleHalf h = static_cast<OracleHalf>(vx);
  uint16_t u = 0;
  std::memcpy(&u, &h, sizeof u);
  return u;
}
PTQ_NOINLINE uint32_t oracle_soft_half_to_float(uint16_t u) {
  volatile uint16_t vu = u;
  const uint16_t copy = vu;
  OracleHalf h;
  std::memcpy(&h, &copy, sizeof h);
  return bits_of(static_cast<float>(h));
}
#else
#define PTQ_TEST_HAVE_FLOAT16_TYPE 0
#endif

// ---- oracle (b): F16C --------------------------------------------------------------------------
#if PTQ_ARCH_X86
__attribute__((target("f16c"))) void oracle_f16c_float_to_half(const float* x, uint16_t* h,
                                                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const __m128i v = _mm_cvtps_ph(_mm_set_ss(x[i]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    h[i] = static_cast<uint16_t>(_mm_extract_epi16(v, 0));
  }
}
__attribute__((target("f16c"))) void oracle_f16c_half_to_float(const uint16_t* h, uint32_t* x,
                                                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const __m128 v = _mm_cvtph_ps(_mm_cvtsi32_si128(h[i]));
    x[i] = bits_of(_mm_cvtss_f32(v));
  }
}
bool have_f16c() {
  const ptq::CpuFeatures& f = ptq::cpu_features();
  return f.f16c && f.avx && f.os_avx;  // VEX-encoded: needs the OS to save ymm state too
}
#else
bool have_f16c() { return false; }
#endif

void report_oracles() {
  if (!PTQ_TEST_HAVE_FLOAT16_TYPE) MESSAGE("skipped oracle (a): this compiler has no _Float16");
  if (!have_f16c()) MESSAGE("skipped oracle (b): this CPU has no F16C");
}

// Checks ptq's float -> half on every float of `xs` against the oracles this build has.
// Returns how many floats were compared with at least one oracle.
std::size_t check_float_to_half(const std::vector<float>& xs) {
  std::vector<uint16_t> ours(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) ours[i] = ptq::float_to_half_bits(xs[i]);
  std::size_t mismatches = 0, compared = 0;
#if PTQ_TEST_HAVE_FLOAT16_TYPE
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const uint16_t want = oracle_soft_float_to_half(xs[i]);
    if (want != ours[i] && mismatches++ < 10) {
      FAIL_CHECK("float " << std::hex << bits_of(xs[i]) << ": ptq " << ours[i] << ", _Float16 "
                          << want);
    }
  }
  compared = xs.size();
#endif
#if PTQ_ARCH_X86
  if (have_f16c()) {
    std::vector<uint16_t> hw(xs.size());
    oracle_f16c_float_to_half(xs.data(), hw.data(), xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (hw[i] != ours[i] && mismatches++ < 20) {
        FAIL_CHECK("float " << std::hex << bits_of(xs[i]) << ": ptq " << ours[i] << ", F16C "
                            << hw[i]);
      }
    }
    compared = xs.size();
  }
#endif
  CHECK(mismatches == 0);
  return compared;
}

}  // namespace

TEST_SUITE("core") {
TEST_CASE("float16: hand-worked float -> half values") {
  using ptq::float_to_half_bits;
  // 1.0 = 2^0: biased exponent 0 + 15 = 0b01111, mantissa 0 -> 0x3C00.
  CHECK(float_to_half_bits(1.0f) == 0x3C00);
  // -2.0 = -2^1: sign, exponent 16 = 0b10000 -> 0xC000. 0.5: exponent 14 -> 0x3800.
  CHECK(float_to_half_bits(-2.0f) == 0xC000);
  CHECK(float_to_half_bits(0.5f) == 0x3800);
  // 65504 = (2 - 2^-10) * 2^15, the largest half: exponent 30, mantissa 0x3FF -> 0x7BFF.
  CHECK(float_to_half_bits(65504.0f) == 0x7BFF);
  // 65519.99 lies below 65520, the midpoint of 65504 and 2^16 (ulp 32 at this exponent): down.
  CHECK(float_to_half_bits(65519.99f) == 0x7BFF);
  // 65520 is that midpoint; 65504's mantissa 0x3FF is odd, so the tie goes to 2^16, i.e. inf.
  CHECK(float_to_half_bits(65520.0f) == 0x7C00);
  CHECK(float_to_half_bits(-65520.0f) == 0xFC00);
  CHECK(float_to_half_bits(1e10f) == 0x7C00);
  CHECK(float_to_half_bits(INFINITY) == 0x7C00);
  CHECK(float_to_half_bits(-INFINITY) == 0xFC00);
  // Ties at 1.0, whose half ulp is 2^-10: 1 + 2^-11 is halfway between 0x3C00 (even) and 0x3C01:
  // down. 1 + 3 * 2^-11 is halfway between 0x3C01 (odd) and 0x3C02 (even): up. 1 + 2^-11 + 2^-23
  // is just above a tie: up to 0x3C01.
  CHECK(float_to_half_bits(1.0f + 0x1p-11f) == 0x3C00);
  CHECK(float_to_half_bits(1.0f + 0x3p-11f) == 0x3C02);
  CHECK(float_to_half_bits(1.0f + 0x1p-11f + 0x1p-23f) == 0x3C01);
  // 2^-14 is the smallest normal half: exponent 1 -> 0x0400.
  CHECK(float_to_half_bits(0x1p-14f) == 0x0400);
  // Subnormal halves are multiples of 2^-24. 2^-24 is 1 unit -> 0x0001; 1023 units -> 0x03FF.
  CHECK(float_to_half_bits(0x1p-24f) == 0x0001);
  CHECK(float_to_half_bits(1023 * 0x1p-24f) == 0x03FF);
  // 2^-14 - 2^-25 = 1023.5 units: tie between 1023 (odd) and 1024 (even) = 0x0400, the smallest
  // normal, reached by rounding up out of the subnormal range.
  CHECK(float_to_half_bits(0x1p-14f - 0x1p-25f) == 0x0400);
  // 2^-25 = 0.5 units: tie between 0 (even) and 1: down to +0. Anything above it rounds up to 1.
  CHECK(float_to_half_bits(0x1p-25f) == 0x0000);
  CHECK(float_to_half_bits(-0x1p-25f) == 0x8000);
  CHECK(float_to_half_bits(float_of(0x33000001u)) == 0x0001);
  // 3 * 2^-26 = 0.75 units: nearest is 1 -> 0x0001 (not a tie).
  CHECK(float_to_half_bits(0x3p-26f) == 0x0001);
  // 3 * 2^-25 = 1.5 units: tie between 1 (odd) and 2 (even) -> 0x0002.
  CHECK(float_to_half_bits(0x3p-25f) == 0x0002);
  // 5 * 2^-25 = 2.5 units: tie between 2 (even) and 3 -> 0x0002.
  CHECK(float_to_half_bits(0x5p-25f) == 0x0002);
  // 1e-8 is 0.168 units: +0. Float subnormals are far below: +-0 with their sign.
  CHECK(float_to_half_bits(1e-8f) == 0x0000);
  CHECK(float_to_half_bits(float_of(0x80000001u)) == 0x8000);
  CHECK(float_to_half_bits(0.0f) == 0x0000);
  CHECK(float_to_half_bits(-0.0f) == 0x8000);
  // NaN: 0x7E00 (quiet bit) | sign | float payload bits 22..13. The default quiet NaN 0x7FC00000
  // has payload bit 22 only, which is the quiet bit itself -> 0x7E00.
  CHECK(float_to_half_bits(float_of(0x7FC00000u)) == 0x7E00);
  // Signalling NaN 0x7F800001: its payload lies in the 13 dropped bits; without the quiet bit it
  // would encode inf (0x7C00). Quieted -> 0x7E00.
  CHECK(float_to_half_bits(float_of(0x7F800001u)) == 0x7E00);
  // 0xFFA00000: sign, payload bit 21 -> half bit 8 (0x0100): 0x8000 | 0x7E00 | 0x0100 = 0xFF00.
  CHECK(float_to_half_bits(float_of(0xFFA00000u)) == 0xFF00);
  // 0x7F802000: payload bit 13 -> half bit 0: 0x7E01.
  CHECK(float_to_half_bits(float_of(0x7F802000u)) == 0x7E01);
  // The same rule is usable at compile time on bit patterns.
  static_assert(ptq::float_bits_to_half_bits(0x3F800000u) == 0x3C00, "1.0");
  static_assert(ptq::float_bits_to_half_bits(0x477FF000u) == 0x7C00, "65520 -> inf");
  static_assert(ptq::float_bits_to_half_bits(0x33000000u) == 0x0000, "2^-25 -> 0");
}

TEST_CASE("float16: hand-worked half -> float values") {
  using ptq::half_bits_to_float;
  CHECK(half_bits_to_float(0x3C00) == 1.0f);
  CHECK(half_bits_to_float(0xC000) == -2.0f);
  CHECK(half_bits_to_float(0x7BFF) == 65504.0f);
  // 0x0001 is 1 * 2^-24: the float 2^-24 has biased exponent 127 - 24 = 103 -> 0x33800000.
  CHECK(bits_of(half_bits_to_float(0x0001)) == 0x33800000u);
  // 0x03FF is 1023 * 2^-24 = (2 - 2^-9) * 2^-15: exponent 112, mantissa 0x3FE << 13 -> 0x387FC000.
  CHECK(bits_of(half_bits_to_float(0x03FF)) == 0x387FC000u);
  CHECK(bits_of(half_bits_to_float(0x8000)) == 0x80000000u);
  CHECK(bits_of(half_bits_to_float(0x7C00)) == 0x7F800000u);
  CHECK(bits_of(half_bits_to_float(0xFC00)) == 0xFF800000u);
  // NaN: payload << 13, plus the quiet bit 0x00400000. 0x7C01 -> 0x7F800000 | 0x00400000 | 0x2000.
  CHECK(bits_of(half_bits_to_float(0x7C01)) == 0x7FC02000u);
  CHECK(bits_of(half_bits_to_float(0xFE00)) == 0xFFC00000u);
  CHECK(bits_of(half_bits_to_float(0x7FFF)) == 0x7FFFE000u);
  static_assert(ptq::half_bits_to_float_bits(0x0001) == 0x33800000u, "2^-24");
}

TEST_CASE("float16: the value type holds bits and converts explicitly") {
  static_assert(sizeof(ptq::float16) == 2, "two bytes per element");
  const ptq::float16 h(1.5f);
  CHECK(h.bits == 0x3E00);
  CHECK(static_cast<float>(h) == 1.5f);
  CHECK(static_cast<float>(ptq::float16::from_bits(0xC400)) == -4.0f);
  std::vector<ptq::float16> tensor(3);  // value-initialised: +0
  CHECK(tensor[1].bits == 0);
  CHECK(static_cast<float>(ptq::float16(70000.0f)) == INFINITY);
}

TEST_CASE("float16: every half -> float is exact and round-trips, against _Float16 and F16C") {
  report_oracles();
  std::vector<uint16_t> all(65536);
  std::vector<uint32_t> ours(65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    all[i] = static_cast<uint16_t>(i);
    ours[i] = bits_of(ptq::half_bits_to_float(all[i]));
  }
  std::size_t bad_roundtrip = 0, nan_count = 0, subnormal_count = 0, oracle_mismatch = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = all[i];
    const float x = float_of(ours[i]);
    const uint16_t back = ptq::float_to_half_bits(x);
    if (is_nan_half(h)) {
      ++nan_count;
      // A NaN stays a NaN both ways, sign and payload kept, quiet bit set.
      CHECK(std::isnan(x));
      CHECK(back == (h | 0x0200));
    } else if (back != h && bad_roundtrip++ < 10) {
      FAIL_CHECK("half " << std::hex << h << " -> float " << ours[i] << " -> half " << back);
    }
    if ((h & 0x7C00) == 0 && (h & 0x03FF) != 0) ++subnormal_count;
  }
  CHECK(bad_roundtrip == 0);
  CHECK(nan_count == 2 * 1023);
  CHECK(subnormal_count == 2 * 1023);
#if PTQ_TEST_HAVE_FLOAT16_TYPE
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint32_t want = oracle_soft_half_to_float(all[i]);
    if (want != ours[i] && oracle_mismatch++ < 10)
      FAIL_CHECK("half " << std::hex << all[i] << ": ptq " << ours[i] << ", _Float16 " << want);
  }
#endif
#if PTQ_ARCH_X86
  if (have_f16c()) {
    std::vector<uint32_t> hw(65536);
    oracle_f16c_half_to_float(all.data(), hw.data(), all.size());
    for (uint32_t i = 0; i < 65536; ++i) {
      if (hw[i] != ours[i] && oracle_mismatch++ < 20)
        FAIL_CHECK("half " << std::hex << all[i] << ": ptq " << ours[i] << ", F16C " << hw[i]);
    }
  }
#endif
  CHECK(oracle_mismatch == 0);
}

TEST_CASE("float16: float -> half on dense sweeps, against _Float16 and F16C") {
  report_oracles();
  std::vector<float> xs;

  // (1) Every sign and exponent and the top 10 mantissa bits (2^19 combinations), with the 13
  // dropped bits set to values around each rounding decision: exact (0), just above exact (1),
  // just below / at / just above half (0x0FFF, 0x1000, 0x1001), just below the next (0x1FFF).
  // This walks every normal, subnormal-result, overflow and NaN region of the input.
  const uint32_t kLow[] = {0x0000u, 0x0001u, 0x0FFFu, 0x1000u, 0x1001u, 0x1FFFu};
  for (uint32_t top = 0; top < (1u << 19); top += kSanitizedShrink) {
    for (uint32_t low : kLow) xs.push_back(float_of((top << 13) | low));
  }

  // (2) The subnormal-rounding region [2^-25, 2^-13]: the result's rounding point moves with the
  // exponent, so walk it with an odd stride that visits every residue of the dropped bits.
  const uint32_t lo = bits_of(0x1p-25f), hi = bits_of(0x1p-13f);
  const uint32_t stride = 61 * kSanitizedShrink;
  for (uint32_t u = lo; u <= hi; u += stride) {
    xs.push_back(float_of(u));
    xs.push_back(float_of(u | 0x80000000u));
  }

  // (3) Exact ties to even in the subnormal range: (k + 1/2) * 2^-24 for every k in [0, 1023].
  for (uint32_t k = 0; k < 1024; ++k) {
    const float tie = (static_cast<float>(k) + 0.5f) * 0x1p-24f;
    xs.push_back(tie);
    xs.push_back(-tie);
    xs.push_back(std::nextafter(tie, 0.0f));
    xs.push_back(std::nextafter(tie, 1.0f));
  }

  // (4) Named values.
  const float kSpecial[] = {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, 65536.0f, -65520.0f,
                            std::nextafter(65520.0f, 0.0f), INFINITY, -INFINITY, 0x1p-14f,
                            0x1p-24f, 0x1p-25f, std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min(), float_of(0x7FC00000u),
                            float_of(0xFFC00000u), float_of(0x7F800001u), float_of(0xFF800001u),
                            float_of(0x7FBFFFFFu), float_of(0x7FFFFFFFu), float_of(0x7F802000u)};
  for (float x : kSpecial) xs.push_back(x);

  const std::size_t compared = check_float_to_half(xs);
  MESSAGE("float -> half: " << xs.size() << " floats, " << compared << " compared with an oracle");
  CHECK(compared == xs.size());  // at least one oracle ran: this test cannot pass vacuously
}
}
