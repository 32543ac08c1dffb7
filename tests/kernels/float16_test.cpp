// float16_test.cpp: every runnable variant of kernels/float16.hpp against reference/float16.hpp,
// bit for bit (NaN payloads included), at every edge length and on unaligned pointers.
//
// The reference itself is checked against _Float16 and F16C in tests/core/float16_test.cpp. Here
// every runnable level goes through the front end (support/isa_coverage.hpp), and the test fails
// if a variant the CPU runs was never reached (a dispatch that sent kAvx512 to the scalar loop
// would pass the bit comparisons and fail the coverage check).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ios>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/reference/float16.hpp"
#include "ptq/simd/arch.hpp"
#include "support/isa_coverage.hpp"

namespace {

// Lengths around every block size the variants use (4, 8, 16, 32 elements) and beyond.
constexpr std::size_t kLengths[] = {0, 1, 7, 15, 16, 17, 31, 33, 63, 64, 65, 1000, 4097};

// The levels that have their own variant in this family, written independently of
// float16_variant: kGeneric has none (xsimd 8.1 has no fp16 conversion), nor do the VNNI levels.
uint32_t float16_family() {
#if PTQ_ARCH_X86
  return ptq_test::isa_mask(
      {ptq::Isa::kAvx512, ptq::Isa::kAvx2, ptq::Isa::kSse41, ptq::Isa::kScalar});
#else
  return ptq_test::isa_mask({ptq::Isa::kScalar});
#endif
}

#if defined(PTQ_TEST_SANITIZED)
constexpr std::size_t kRandomFloats = std::size_t{1} << 20;
#else
constexpr std::size_t kRandomFloats = std::size_t{1} << 22;  // 4,194,304
#endif

float float_of(uint32_t u) {
  float x = 0;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// Runs convert(in + off, out + off, len, isa) for every length in kLengths, plus `in.size() - 1`,
// at offsets 0 and 1 (unaligned). The input is copied to a buffer that ends exactly at the last
// element read (so an over-read is an ASan error), and the output must equal `want` on
// [off, off + len) and keep a guard pattern everywhere else. Returns the number of mismatches.
template <class In, class Out, class Convert>
std::size_t check_all_lengths(const std::vector<In>& in, const std::vector<Out>& want,
                              Convert convert, ptq::Isa isa) {
  std::vector<std::size_t> lengths(std::begin(kLengths), std::end(kLengths));
  lengths.push_back(in.size() - 1);
  std::size_t mismatches = 0;
  for (std::size_t len : lengths) {
    for (std::size_t off : {std::size_t{0}, std::size_t{1}}) {
      if (off + len > in.size()) continue;
      const std::vector<In> src(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(off + len));
      Out guard;
      std::memset(&guard, 0xA5, sizeof guard);
      std::vector<Out> dst(off + len + 32, guard);
      convert(src.data() + off, dst.data() + off, len, isa);
      for (std::size_t i = 0; i < dst.size(); ++i) {
        const bool inside = i >= off && i < off + len;
        const Out& expect = inside ? want[i] : guard;
        if (std::memcmp(&dst[i], &expect, sizeof(Out)) != 0 && mismatches++ < 10) {
          uint32_t got_bits = 0, want_bits = 0;
          std::memcpy(&got_bits, &dst[i], sizeof(Out));
          std::memcpy(&want_bits, &expect, sizeof(Out));
          const std::string where = inside ? "" : " (outside the range: guard)";
          FAIL_CHECK(std::string(ptq::isa_name(isa)) << " len " << len << " offset " << off
                                                     << " element " << i << where << ": got 0x"
                                                     << std::hex << got_bits << ", want 0x"
                                                     << want_bits);
        }
      }
    }
  }
  return mismatches;
}

}  // namespace

TEST_SUITE("kernels") {
TEST_CASE("float16 kernels: float16_variant maps every level, and the front end clamps it") {
#if PTQ_ARCH_X86
  CHECK(ptq::float16_variant(ptq::Isa::kAvx512Vnni) == ptq::Isa::kAvx512);
  CHECK(ptq::float16_variant(ptq::Isa::kAvx512) == ptq::Isa::kAvx512);
  CHECK(ptq::float16_variant(ptq::Isa::kAvxVnni) == ptq::Isa::kAvx2);
  CHECK(ptq::float16_variant(ptq::Isa::kAvx2) == ptq::Isa::kAvx2);
  CHECK(ptq::float16_variant(ptq::Isa::kSse41) == ptq::Isa::kSse41);
#endif
  CHECK(ptq::float16_variant(ptq::Isa::kGeneric) == ptq::Isa::kScalar);
  CHECK(ptq::float16_variant(ptq::Isa::kScalar) == ptq::Isa::kScalar);
  CHECK(ptq::float16_variant(ptq::Isa::kNeon) == ptq::Isa::kScalar);
  CHECK(ptq::float16_variant(ptq::Isa::kNeonDot) == ptq::Isa::kScalar);
  // Whatever level is asked for, what runs is a variant this CPU runs: requesting every level,
  // runnable or not, must not fault and must give the reference's bits.
  const float xs[5] = {1.0f, 65520.0f, 0x1p-25f, float_of(0x7F800001u), -0.0f};
  const uint16_t want[5] = {0x3C00, 0x7C00, 0x0000, 0x7E00, 0x8000};
  for (ptq::Isa isa : ptq::kAllIsas) {
    const std::string level = ptq::isa_name(isa);
    CAPTURE(level);
    CHECK(ptq::isa_runnable(ptq::float16_variant(ptq::best_runnable_isa_within(isa))));
    uint16_t h[5] = {};
    ptq::float_to_half(xs, h, 5, isa);
    CHECK(std::memcmp(h, want, sizeof want) == 0);
  }
}

TEST_CASE("float16 kernels: half -> float equals the reference on all 65536 halves, every ISA") {
  // Every half once, in a fixed random order so neighbouring lanes mix categories.
  std::vector<uint16_t> halves(65536);
  for (uint32_t i = 0; i < 65536; ++i) halves[i] = static_cast<uint16_t>(i);
  std::mt19937 rng(20240611);
  std::shuffle(halves.begin(), halves.end(), rng);
  std::vector<float> want(halves.size());
  ptq::reference::half_to_float(halves.data(), want.data(), halves.size());
  // Not vacuous: the reference output holds NaNs, infs, subnormal-half values and both zeros.
  std::size_t nans = 0, infs = 0, tiny = 0;
  for (float x : want) {
    nans += std::isnan(x) ? 1 : 0;
    infs += std::isinf(x) ? 1 : 0;
    tiny += (x != 0.0f && std::fabs(x) < 0x1p-14f) ? 1 : 0;
  }
  CHECK(nans == 2046);
  CHECK(infs == 2);
  CHECK(tiny == 2046);

  ptq_test::for_each_isa(float16_family(), ptq::float16_variant, [&](ptq::Isa isa) {
    const std::size_t bad = check_all_lengths(
        halves, want,
        [](const uint16_t* h, float* x, std::size_t n, ptq::Isa level) {
          ptq::half_to_float(h, x, n, level);
        },
        isa);
    CHECK(bad == 0);
  });
}

TEST_CASE("float16 kernels: float -> half equals the reference on millions of floats, every ISA") {
  std::vector<float> xs;
  xs.reserve(kRandomFloats + 64);
  // Special values first, so the edge lengths meet them in their first lanes.
  const uint32_t kSpecial[] = {0x00000000u, 0x80000000u, 0x477FE000u /* 65504 */,
                               0x477FEFFFu, 0x477FF000u /* 65520 */, 0xC77FF000u,
                               0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u,
                               0x7F800001u, 0xFF800001u, 0x7FBFFFFFu, 0x7FFFFFFFu,
                               0x7F802000u, 0x38800000u /* 2^-14 */, 0x387FF000u,
                               0x387FEFFFu, 0x33800000u /* 2^-24 */, 0x33000000u /* 2^-25 */,
                               0x33000001u, 0x33400000u /* 3*2^-26 */, 0x33C00000u /* 3*2^-25 */,
                               0x00000001u, 0x007FFFFFu, 0x7F7FFFFFu, 0x3F801000u, 0x3F803000u,
                               0x3F801001u, 0x3F800FFFu};
  for (uint32_t u : kSpecial) xs.push_back(float_of(u));
  // Then random bit patterns: half of them uniform over all 2^32 (every exponent, NaNs, float
  // subnormals), half with the exponent drawn from [100, 144], the range where halves live and
  // round (subnormal results from 103 up, normals from 113, overflow from 143).
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any;
  std::uniform_int_distribution<uint32_t> exponent(100, 144);
  while (xs.size() < kRandomFloats) {
    const uint32_t r = any(rng);
    xs.push_back(float_of(r));
    xs.push_back(float_of((r & 0x807FFFFFu) | (exponent(rng) << 23)));
  }
  std::vector<uint16_t> want(xs.size());
  ptq::reference::float_to_half(xs.data(), want.data(), xs.size());
  // Not vacuous: every category of result occurs many times.
  std::size_t nans = 0, infs = 0, subnormals = 0, zeros = 0, normals = 0;
  for (uint16_t h : want) {
    const uint16_t a = h & 0x7FFF;
    nans += a > 0x7C00 ? 1 : 0;
    infs += a == 0x7C00 ? 1 : 0;
    subnormals += (a != 0 && a < 0x0400) ? 1 : 0;
    zeros += a == 0 ? 1 : 0;
    normals += (a >= 0x0400 && a < 0x7C00) ? 1 : 0;
  }
  CHECK(nans > 100);
  CHECK(infs > 100);
  CHECK(subnormals > 100);
  CHECK(zeros > 100);
  CHECK(normals > 100);

  ptq_test::for_each_isa(float16_family(), ptq::float16_variant, [&](ptq::Isa isa) {
    const std::size_t bad = check_all_lengths(
        xs, want,
        [](const float* x, uint16_t* h, std::size_t n, ptq::Isa level) {
          ptq::float_to_half(x, h, n, level);
        },
        isa);
    CHECK(bad == 0);
  });
}
}
