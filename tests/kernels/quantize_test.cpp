// Quantize, dequantize and requantize: the reference against hand-worked values from the spec,
// then every SIMD level against the reference, bit for bit, on every ISA the CPU runs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/quantize.hpp"
#include "support/isa_coverage.hpp"

using ptq::Isa;
using ptq::QuantParams;
using ptq::RoundingMode;

namespace {

#if defined(PTQ_TEST_SANITIZED)
constexpr int kRandomRounds = 3;
#else
constexpr int kRandomRounds = 20;
#endif

const uint32_t kQuantizeFamily = ptq_test::isa_mask(
    {Isa::kScalar, Isa::kGeneric, Isa::kSse41, Isa::kAvx2, Isa::kAvx512});
// Dequantize and requantize have no generic (xsimd) kernel.
const uint32_t kRequantizeFamily =
    ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2, Isa::kAvx512});
const uint32_t kDequantizeFamily = kRequantizeFamily;

// Lengths at every edge of 4-, 8-, 16- and 32-lane loops, plus long odd ones.
const std::size_t kLengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 1001};

float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Floats that stress quantize: exact halves at the scale, values next to them, huge, NaN, inf.
std::vector<float> tricky_floats(float scale, std::mt19937& rng, std::size_t n) {
  std::vector<float> v(n);
  std::uniform_int_distribution<int> k(-300, 300);
  std::uniform_real_distribution<float> u(-200.0f, 200.0f);
  for (std::size_t i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0: v[i] = (static_cast<float>(k(rng)) + 0.5f) * scale; break;  // ties
      case 1: v[i] = std::nextafter((static_cast<float>(k(rng)) + 0.5f) * scale, 0.0f); break;
      case 2: v[i] = std::nextafter((static_cast<float>(k(rng)) + 0.5f) * scale, 1e30f); break;
      case 3: v[i] = bits_to_float(static_cast<uint32_t>(rng())); break;  // anything, NaNs included
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
  return v;
}

template <class T>
int32_t random_zero_point(std::mt19937& rng) {
  const int64_t lo = ptq::quant_min<T>(), hi = ptq::quant_max<T>();
  switch (rng() % 4) {
    case 0: return static_cast<int32_t>(lo);
    case 1: return static_cast<int32_t>(hi);
    case 2: return static_cast<int32_t>(sizeof(T) == 2 ? 0 : (lo + hi + 1) / 2);
    default: return static_cast<int32_t>(lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)));
  }
}

template <class T>
std::size_t count_distinct(const std::vector<T>& v) {
  std::vector<T> s(v);
  std::sort(s.begin(), s.end());
  return static_cast<std::size_t>(std::unique(s.begin(), s.end()) - s.begin());
}

}  // namespace

TEST_SUITE("kernels") {

// ---- the reference, against the spec by hand -------------------------------------------------

TEST_CASE("quantize reference: round(x / scale) + zp, ties away from zero, clamped") {
  const QuantParams p{0.5f, -3};
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // x:      1.25 -> 2.5 -> 3 - 3 = 0      (ties to even would give -1)
  //        -1.25 -> -2.5 -> -3 - 3 = -6
  //         0.75 -> 1.5 -> 2 - 3 = -1
  //         0.7  -> 1.4 -> 1 - 3 = -2
  //         100  -> 200 -> saturates at 127;  -100 -> saturates at -128
  //         NaN  -> zero point; +-inf saturate; -0 -> zero point
  const std::vector<float> x = {1.25f, -1.25f, 0.75f, 0.7f, 100.0f, -100.0f, nan, inf, -inf, -0.0f};
  const std::vector<int8_t> want = {0, -6, -1, -2, 127, -128, -3, 127, -128, -3};
  std::vector<int8_t> q(x.size());
  ptq::reference::quantize<int8_t>(x.data(), q.data(), x.size(), p);
  CHECK(q == want);

  // uint8 with zero point 128: 0.1 * k
  const QuantParams pu{0.25f, 128};
  const std::vector<float> xu = {0.0f, 0.125f, -0.125f, 31.75f, 32.0f, -32.0f, -32.25f};
  const std::vector<uint8_t> wu = {128, 129, 127, 255, 255, 0, 0};
  std::vector<uint8_t> qu(xu.size());
  ptq::reference::quantize<uint8_t>(xu.data(), qu.data(), xu.size(), pu);
  CHECK(qu == wu);

  // int16, symmetric: scale 2^-10
  const QuantParams p16{1.0f / 1024.0f, 0};
  const std::vector<float> x16 = {1.0f, -1.0f, 0.00048828125f /* 0.5 step */, 40.0f, -40.0f};
  const std::vector<int16_t> w16 = {1024, -1024, 1, 32767, -32768};
  std::vector<int16_t> q16(x16.size());
  ptq::reference::quantize<int16_t>(x16.data(), q16.data(), x16.size(), p16);
  CHECK(q16 == w16);
}

TEST_CASE("quantize reference: a zero scale maps everything to the zero point or the bounds") {
  const QuantParams p{0.0f, 5};
  const std::vector<float> x = {0.0f, 1.0f, -1.0f};
  std::vector<int8_t> q(3);
  ptq::reference::quantize<int8_t>(x.data(), q.data(), 3, p);
  CHECK(q == std::vector<int8_t>{5, 127, -128});
}

TEST_CASE("dequantize reference: (q - zp) * scale, and int32 through double") {
  const std::vector<int8_t> q = {-128, -3, 0, 127};
  std::vector<float> x(4);
  ptq::reference::dequantize<int8_t>(q.data(), x.data(), 4, {0.5f, -3});
  CHECK(x == std::vector<float>{-62.5f, 0.0f, 1.5f, 65.0f});
  // int32: 2^24 + 1 is not a float; the product is formed in double, as TFLite does:
  // 0.5 * 16777217 = 8388608.5 -> nearest float 8388608 (ties to even)
  const std::vector<int32_t> q32 = {16777217, -16777219};
  std::vector<float> x32(2);
  ptq::reference::dequantize<int32_t>(q32.data(), x32.data(), 2, {0.5f, 0});
  CHECK(x32[0] == 8388608.0f);
  CHECK(x32[1] == -8388610.0f);  // -8388609.5 -> -8388610 (ties to even)
}

TEST_CASE("requantize reference: hand-worked, and the int8 <-> uint8 shift by 128") {
  // in (0.5, zp 1) -> out (0.25, zp -2): multiplier 2 = {2^30, shift 2}
  const auto rp = ptq::make_requantize_params({0.5f, 1}, {0.25f, -2});
  CHECK(rp.multiplier == ptq::QuantizedMultiplier{1 << 30, 2});
  const std::vector<int8_t> x = {10, -10, 100, -100, 1};
  std::vector<int8_t> y(x.size());
  ptq::reference::requantize<int8_t, int8_t>(x.data(), y.data(), x.size(), rp);
  // (10-1)*2-2 = 16; (-10-1)*2-2 = -24; (100-1)*2-2 = 196 -> 127; -204 -> -128; 0*2-2 = -2
  CHECK(y == std::vector<int8_t>{16, -24, 127, -128, -2});
  // same scale, zero points 0 -> 128: uint8 = int8 + 128
  const auto shift128 = ptq::make_requantize_params({0.1f, 0}, {0.1f, 128});
  const std::vector<int8_t> s = {-128, -1, 0, 127};
  std::vector<uint8_t> u(4);
  ptq::reference::requantize<int8_t, uint8_t>(s.data(), u.data(), 4, shift128);
  CHECK(u == std::vector<uint8_t>{0, 127, 128, 255});
  // int32 accumulators down to int8 with multiplier 0.75: 1000 -> 750 saturates, 100 -> 75 + 3
  const auto acc = ptq::make_requantize_params({0.75f, 0}, {1.0f, 3});
  const std::vector<int32_t> a = {1000, 100, -100, INT32_MIN, INT32_MAX};
  std::vector<int8_t> ay(a.size());
  ptq::reference::requantize<int32_t, int8_t>(a.data(), ay.data(), a.size(), acc);
  CHECK(ay == std::vector<int8_t>{127, 78, -72, -128, 127});
}

TEST_CASE("requantize reference: within one step of the real-valued rescale") {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    const QuantParams in{std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 1000.0f, -static_cast<int>(rng() % 12)),
                         random_zero_point<int8_t>(rng)};
    const QuantParams out{std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 1000.0f, -static_cast<int>(rng() % 12)),
                          random_zero_point<int8_t>(rng)};
    for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
      const auto rp = ptq::make_requantize_params(in, out, mode);
      for (int v = -128; v <= 127; ++v) {
        const auto x = static_cast<int8_t>(v);
        int8_t y;
        ptq::reference::requantize<int8_t, int8_t>(&x, &y, 1, rp);
        const double real = (v - in.zero_point) * static_cast<double>(in.scale) / out.scale + out.zero_point;
        const double clamped = std::min(127.0, std::max(-128.0, real));
        REQUIRE(std::abs(y - clamped) <= 1.0);
      }
    }
  }
}

// ---- every SIMD level against the reference --------------------------------------------------

TEST_CASE_TEMPLATE("quantize: every ISA equals the reference bit for bit", T, int8_t, uint8_t, int16_t) {
  std::mt19937 rng(11);
  ptq_test::for_each_isa(kQuantizeFamily, ptq::quantize_variant, [&](Isa isa) {
    for (int round = 0; round < kRandomRounds; ++round) {
      const float scale = std::ldexp(1.0f + static_cast<float>(rng() % 4096) / 4096.0f,
                                     static_cast<int>(rng() % 20) - 14);
      const QuantParams p{scale, random_zero_point<T>(rng)};
      for (std::size_t n : kLengths) {
        const std::size_t offset = rng() % 3;  // unaligned buffers
        const auto x = tricky_floats(scale, rng, n + offset);
        std::vector<T> want(n + offset), got(n + offset, T{42});
        ptq::reference::quantize<T>(x.data() + offset, want.data() + offset, n, p);
        ptq::quantize<T>(x.data() + offset, got.data() + offset, n, p, isa);
        CAPTURE(n);
        CAPTURE(scale);
        CAPTURE(p.zero_point);
        for (std::size_t i = 0; i < offset; ++i) REQUIRE(got[i] == T{42});  // nothing written before
        for (std::size_t i = offset; i < n + offset; ++i) {
          CAPTURE(i);
          CAPTURE(x[i]);
          REQUIRE(static_cast<int>(got[i]) == static_cast<int>(want[i]));
        }
      }
    }
  });
}

TEST_CASE("quantize: every ISA rounds exactly at and next to every half step of int16") {
  // scale 1: v = x exactly, so this walks round() over every k + 0.5 in int16's range.
  std::vector<float> x;
  for (int k = -32800; k <= 32800; ++k) {
    const float h = static_cast<float>(k) + 0.5f;
    x.push_back(h);
    x.push_back(std::nextafter(h, -1e9f));
    x.push_back(std::nextafter(h, 1e9f));
    x.push_back(static_cast<float>(k));
  }
  std::vector<int16_t> want(x.size()), got(x.size());
  const QuantParams p{1.0f, 0};
  ptq::reference::quantize<int16_t>(x.data(), want.data(), x.size(), p);
  // The reference itself against the spec: ties away from zero.
  CHECK(want[std::size_t{4 * 32800}] == 1);  // k = 0: 0.5 -> 1
  CHECK(want[std::size_t{4 * 32799}] == -1);  // k = -1: -0.5 -> -1
  ptq_test::for_each_isa(kQuantizeFamily, ptq::quantize_variant, [&](Isa isa) {
    ptq::quantize<int16_t>(x.data(), got.data(), x.size(), p, isa);
    CHECK(got == want);
  });
}

TEST_CASE_TEMPLATE("dequantize: every ISA equals the reference bit for bit", T, int8_t, uint8_t, int16_t, int32_t) {
  std::mt19937 rng(13);
  ptq_test::for_each_isa(kDequantizeFamily, ptq::dequantize_variant, [&](Isa isa) {
    for (int round = 0; round < kRandomRounds; ++round) {
      const float scale = std::ldexp(1.0f + static_cast<float>(rng() % 4096) / 4096.0f,
                                     static_cast<int>(rng() % 30) - 20);
      const QuantParams p{scale, random_zero_point<T>(rng)};
      for (std::size_t n : kLengths) {
        const std::size_t offset = rng() % 3;
        std::vector<T> q(n + offset);
        for (auto& v : q) v = static_cast<T>(rng());
        if (n > 0) q[offset] = std::numeric_limits<T>::min();
        if (n > 1) q[offset + 1] = std::numeric_limits<T>::max();
        std::vector<float> want(n + offset), got(n + offset);
        ptq::reference::dequantize<T>(q.data() + offset, want.data() + offset, n, p);
        ptq::dequantize<T>(q.data() + offset, got.data() + offset, n, p, isa);
        CAPTURE(n);
        REQUIRE((n == 0 || std::memcmp(want.data() + offset, got.data() + offset, n * sizeof(float)) == 0));
      }
    }
  });
}

namespace {
template <class In, class Out>
void check_requantize_all_isas(std::mt19937& rng) {
  ptq_test::for_each_isa(kRequantizeFamily, ptq::requantize_variant, [&](Isa isa) {
    std::size_t saturated = 0, total = 0;
    for (int round = 0; round < kRandomRounds; ++round) {
      for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
        // Multipliers from 2^-30 to 2^8, i.e. shifts from about -29 to +9.
        const float in_scale = std::ldexp(1.0f + static_cast<float>(rng() % 4096) / 4096.0f,
                                          static_cast<int>(rng() % 30) - 25);
        const float out_scale = std::ldexp(1.0f + static_cast<float>(rng() % 4096) / 4096.0f,
                                           static_cast<int>(rng() % 10) - 8);
        const QuantParams in{in_scale, sizeof(In) == 4 ? 0 : random_zero_point<In>(rng)};
        const QuantParams out{out_scale, sizeof(Out) == 4 ? 0 : random_zero_point<Out>(rng)};
        const auto rp = ptq::make_requantize_params(in, out, mode);
        REQUIRE(ptq::validate_requantize_params<In, Out>(rp).ok());
        for (std::size_t n : kLengths) {
          std::vector<In> x(n);
          for (auto& v : x) v = static_cast<In>(rng());
          if (n > 2) {
            x[0] = std::numeric_limits<In>::min();
            x[1] = std::numeric_limits<In>::max();
          }
          std::vector<Out> want(n), got(n);
          ptq::reference::requantize<In, Out>(x.data(), want.data(), n, rp);
          ptq::requantize<In, Out>(x.data(), got.data(), n, rp, isa);
          CAPTURE(n);
          const std::string rounding = ptq::rounding_mode_name(mode);
          CAPTURE(rounding);
          CAPTURE(rp.multiplier.multiplier);
          CAPTURE(rp.multiplier.shift);
          for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i);
            CAPTURE(static_cast<int64_t>(x[i]));
            REQUIRE(static_cast<int64_t>(got[i]) == static_cast<int64_t>(want[i]));
            saturated += (want[i] == std::numeric_limits<Out>::min() || want[i] == std::numeric_limits<Out>::max());
            ++total;
          }
        }
      }
    }
    // Not vacuous: both saturated and unsaturated results were compared.
    if (sizeof(Out) < 4) CHECK(saturated > 0);
    CHECK(saturated < total);
  });
}
}  // namespace

TEST_CASE("requantize: every ISA equals the reference, all type pairs, both rounding modes") {
  std::mt19937 rng(17);
  check_requantize_all_isas<int8_t, int8_t>(rng);
  check_requantize_all_isas<int8_t, uint8_t>(rng);
  check_requantize_all_isas<uint8_t, int8_t>(rng);
  check_requantize_all_isas<int8_t, int16_t>(rng);
  check_requantize_all_isas<int16_t, int8_t>(rng);
  check_requantize_all_isas<int16_t, int16_t>(rng);
  check_requantize_all_isas<int32_t, int8_t>(rng);
  check_requantize_all_isas<int32_t, uint8_t>(rng);
  check_requantize_all_isas<int32_t, int16_t>(rng);
  check_requantize_all_isas<int32_t, int32_t>(rng);
  check_requantize_all_isas<uint8_t, uint8_t>(rng);
  check_requantize_all_isas<uint8_t, int32_t>(rng);
}

TEST_CASE("requantize: every ISA agrees on every int32 edge with every shift") {
  // The fixed-point lanes at their extremes: each shift the modes allow, accumulators at and
  // around INT32_MIN/MAX and at exact ties of the division.
  std::vector<int32_t> x = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX};
  for (int e = 0; e < 31; ++e) {
    const int32_t h = int32_t{1} << e;
    for (int32_t v : {h, -h, h + 1, -h - 1, h - 1, 3 * (h / 2), -3 * (h / 2)}) x.push_back(v);
  }
  for (RoundingMode mode : {RoundingMode::kDouble, RoundingMode::kSingle}) {
    const int max_shift = mode == RoundingMode::kSingle ? 30 : 31;
    for (int shift = -31; shift <= max_shift; ++shift) {
      if (mode == RoundingMode::kSingle && shift > 0) continue;  // results must fit in int32
      for (int32_t m : {1 << 30, (1 << 30) + 1, 1610612736, INT32_MAX, 0}) {
        ptq::RequantizeParams rp;
        rp.multiplier = {m, shift};
        rp.rounding = mode;
        std::vector<int32_t> want(x.size()), got(x.size());
        ptq::reference::requantize<int32_t, int32_t>(x.data(), want.data(), x.size(), rp);
        ptq_test::for_each_isa(kRequantizeFamily, ptq::requantize_variant, [&](Isa isa) {
          ptq::requantize<int32_t, int32_t>(x.data(), got.data(), x.size(), rp, isa);
          CAPTURE(shift);
          CAPTURE(m);
          const std::string rounding = ptq::rounding_mode_name(mode);
          CAPTURE(rounding);
          CHECK(got == want);
        });
      }
    }
  }
}

TEST_CASE_TEMPLATE("per-axis quantize and dequantize: every ISA equals the reference", T, int8_t, uint8_t, int16_t) {
  std::mt19937 rng(19);
  const ptq::Shape shapes[] = {{3, 5, 7}, {2, 33}, {1, 4, 4, 19}, {17, 1}, {5, 64}};
  ptq_test::for_each_isa(kQuantizeFamily, ptq::quantize_variant, [&](Isa isa) {
    for (const ptq::Shape& shape : shapes) {
      for (int axis = 0; axis < shape.rank(); ++axis) {
        const auto channels = static_cast<std::size_t>(shape[axis]);
        ptq::PerAxisQuantParams p;
        p.axis = axis;
        for (std::size_t c = 0; c < channels; ++c) {
          p.scales.push_back(std::ldexp(1.0f + static_cast<float>(rng() % 100) / 100.0f, -static_cast<int>(rng() % 8)));
          p.zero_points.push_back(random_zero_point<T>(rng));
        }
        const auto n = static_cast<std::size_t>(shape.num_elements());
        const auto x = tricky_floats(0.1f, rng, n);
        std::vector<T> want(n), got(n);
        ptq::reference::quantize_per_axis<T>(x.data(), want.data(), shape, p);
        ptq::quantize_per_axis<T>(x.data(), got.data(), shape, p, isa);
        CAPTURE(shape.to_string());
        CAPTURE(axis);
        REQUIRE(got == want);
        if (n >= 32) CHECK(count_distinct(want) > 3);  // not all saturated or all zero point
        std::vector<float> dw(n), dg(n);
        ptq::reference::dequantize_per_axis<T>(want.data(), dw.data(), shape, p);
        ptq::dequantize_per_axis<T>(want.data(), dg.data(), shape, p, isa);
        REQUIRE(std::memcmp(dw.data(), dg.data(), n * sizeof(float)) == 0);
      }
    }
  });
}

TEST_CASE("per-axis requantize: int32 accumulators per channel down to int8") {
  // hand-worked: channel 0 scale 0.5, channel 1 scale 0.25, output scale 1, zero point 2
  ptq::PerAxisQuantParams in{{0.5f, 0.25f}, {0, 0}, 1};
  const auto rp = ptq::make_requantize_params(in, QuantParams{1.0f, 2});
  const std::vector<int32_t> acc = {10, 10, -7, -7, 1000, 1000};  // shape [3, 2]
  // 10 * 0.5 + 2 = 7;  10 * 0.25 = 2.5 -> 3 (away from zero) + 2 = 5
  // -7 * 0.5 = -3.5 -> -3 (SaturatingRoundingDoublingHighMul rounds ties up) + 2 = -1
  // -7 * 0.25 = -1.75 -> -2 + 2 = 0;  1000 saturates in both channels
  const std::vector<int8_t> want_hand = {7, 5, -1, 0, 127, 127};
  std::vector<int8_t> ref(6), got(6);
  ptq::reference::requantize_per_axis<int32_t, int8_t>(acc.data(), ref.data(), ptq::Shape{3, 2}, rp);
  CHECK(ref == want_hand);
  ptq_test::for_each_isa(kRequantizeFamily, ptq::requantize_variant, [&](Isa isa) {
    ptq::requantize_per_axis<int32_t, int8_t>(acc.data(), got.data(), ptq::Shape{3, 2}, rp, isa);
    CHECK(got == ref);
  });
}
}
