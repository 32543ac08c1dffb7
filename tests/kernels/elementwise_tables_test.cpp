// kernels/elementwise_tables.hpp against the reference kernels it replaces at run time: int8 Add and
// Sub over all 65,536 input pairs (per parameter set, both rounding modes, with and without a fused
// clamp, and broadcast), Softmax on random rows (including rows where the reference skips values
// below diff_min), and the tabulated unary activations over all 256 inputs.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "ptq/kernels/elementwise_tables.hpp"
#include "ptq/kernels/reference/pointwise.hpp"

namespace {

using ptq::QuantParams;
using ptq::RoundingMode;

float random_scale(std::mt19937& rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}
int32_t random_zp(std::mt19937& rng) {
  const int32_t pick = static_cast<int32_t>(rng() % 5);
  return pick == 0 ? -128 : pick == 1 ? 127 : static_cast<int32_t>(rng() % 256) - 128;  // extremes too
}

}  // namespace

TEST_CASE("elementwise tables: int8 Add and Sub equal the reference on every input pair") {
  std::mt19937 rng(21);
  // a: every value 256 times, b: the 256 values in turn -> all 65,536 pairs, element-wise.
  std::vector<int8_t> a(65536), b(65536);
  for (int i = 0; i < 65536; ++i) {
    a[static_cast<std::size_t>(i)] = static_cast<int8_t>(i / 256 - 128);
    b[static_cast<std::size_t>(i)] = static_cast<int8_t>(i % 256 - 128);
  }
  const ptq::Shape shape{65536};
  const ptq::Result<ptq::BroadcastLayout> layout = ptq::make_broadcast_layout(shape, shape, shape);
  REQUIRE(layout.ok());
  for (int trial = 0; trial < 8; ++trial) {
    CAPTURE(trial);
    const RoundingMode mode = trial % 2 == 0 ? RoundingMode::kDouble : RoundingMode::kSingle;
    const QuantParams qa{random_scale(rng, 0.002f, 0.2f), random_zp(rng)};
    const QuantParams qb{trial == 4 ? qa.scale : random_scale(rng, 0.002f, 0.2f), random_zp(rng)};
    const QuantParams qy{random_scale(rng, 0.004f, 0.3f), random_zp(rng)};
    const ptq::FusedActivation act = trial % 3 == 0 ? ptq::FusedActivation::kRelu : ptq::FusedActivation::kNone;
    const ptq::QuantizedAddParams p = ptq::make_quantized_add_params<int8_t>(*layout, qa, qb, qy, act, mode);
    REQUIRE(p.validate<int8_t>().ok());
    std::vector<int8_t> want(65536), got(65536);
    ptq::reference::add<int8_t>(p, a.data(), b.data(), want.data());
    ptq::add_sub_int8(ptq::make_int8_add_tables(p, false), a.data(), b.data(), got.data());
    CHECK(got == want);
    ptq::reference::sub<int8_t>(p, a.data(), b.data(), want.data());
    ptq::add_sub_int8(ptq::make_int8_add_tables(p, true), a.data(), b.data(), got.data());
    CHECK(got == want);
  }

  // Broadcast: [3, 1, 5] + [4, 1] -> [3, 4, 5].
  const ptq::Shape sa{3, 1, 5}, sb{4, 1}, sy{3, 4, 5};
  const ptq::Result<ptq::BroadcastLayout> bl = ptq::make_broadcast_layout(sa, sb, sy);
  REQUIRE(bl.ok());
  REQUIRE(!bl->elementwise);
  const ptq::QuantizedAddParams p =
      ptq::make_quantized_add_params<int8_t>(*bl, {0.05f, 3}, {0.02f, -7}, {0.06f, 1}, ptq::FusedActivation::kRelu6);
  std::vector<int8_t> x(15), z(4), want(60), got(60);
  for (auto& v : x) v = static_cast<int8_t>(rng() % 256 - 128);
  for (auto& v : z) v = static_cast<int8_t>(rng() % 256 - 128);
  ptq::reference::sub<int8_t>(p, x.data(), z.data(), want.data());
  ptq::add_sub_int8(ptq::make_int8_add_tables(p, true), x.data(), z.data(), got.data());
  CHECK(got == want);
}

TEST_CASE("elementwise tables: int8 Softmax equals the reference") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 40; ++trial) {
    CAPTURE(trial);
    const RoundingMode mode = trial % 2 == 0 ? RoundingMode::kDouble : RoundingMode::kSingle;
    const int64_t rows = 1 + static_cast<int64_t>(rng() % 4), depth = 1 + static_cast<int64_t>(rng() % 300);
    // Large beta * scale makes diff_min small in magnitude, so many values fall below it.
    const float scale = trial % 5 == 0 ? 0.5f : random_scale(rng, 0.01f, 0.2f);
    const float beta = trial % 7 == 0 ? 3.0f : 1.0f;
    const ptq::Result<ptq::SoftmaxParams> p = ptq::make_softmax_params(rows, depth, beta, scale, mode);
    REQUIRE(p.ok());
    std::vector<int8_t> x(static_cast<std::size_t>(rows * depth)), want(x.size()), got(x.size());
    for (auto& v : x) v = static_cast<int8_t>(rng() % 256 - 128);
    if (trial % 4 == 1) std::fill(x.begin(), x.end(), int8_t{-128});  // one flat row: all equal
    ptq::reference::softmax(*p, x.data(), want.data());
    ptq::softmax_int8(ptq::make_int8_softmax_tables(*p), x.data(), got.data());
    CHECK(got == want);
  }
}

TEST_CASE("elementwise tables: tabulated unary activations equal their references on all 256 inputs") {
  std::mt19937 rng(9);
  std::vector<int8_t> x(256), want(256);
  for (int i = 0; i < 256; ++i) x[static_cast<std::size_t>(i)] = static_cast<int8_t>(i - 128);
  const auto check = [&](const ptq::Int8LookupTable& table) {
    std::vector<int8_t> got(256);
    ptq::reference::lookup(table, x.data(), got.data(), got.size());
    CHECK(got == want);
  };
  for (int trial = 0; trial < 6; ++trial) {
    CAPTURE(trial);
    const RoundingMode mode = trial % 2 == 0 ? RoundingMode::kDouble : RoundingMode::kSingle;
    const QuantParams in{random_scale(rng, 0.01f, 0.1f), random_zp(rng)};
    const QuantParams out{random_scale(rng, 0.01f, 0.1f), random_zp(rng)};

    const ptq::QuantizedReluParams relu = ptq::make_quantized_relu_params<int8_t>(in, out, ptq::FusedActivation::kRelu6, mode);
    ptq::reference::relu_quantized<int8_t>(relu, x.data(), want.data(), 256);
    check(ptq::tabulate_int8([&](const int8_t* a, int8_t* b, std::size_t n) { ptq::reference::relu_quantized<int8_t>(relu, a, b, n); }));

    const ptq::QuantizedLeakyReluParams leaky = ptq::make_quantized_leaky_relu_params(in, out, 0.2f, mode);
    ptq::reference::leaky_relu_quantized<int8_t>(leaky, x.data(), want.data(), 256);
    check(ptq::tabulate_int8([&](const int8_t* a, int8_t* b, std::size_t n) { ptq::reference::leaky_relu_quantized<int8_t>(leaky, a, b, n); }));

    const ptq::Result<ptq::QuantizedHardSwishParams> hs = ptq::make_quantized_hard_swish_params(in, out, mode);
    REQUIRE(hs.ok());
    ptq::reference::hard_swish_quantized(*hs, x.data(), want.data(), 256);
    check(ptq::tabulate_int8([&](const int8_t* a, int8_t* b, std::size_t n) { ptq::reference::hard_swish_quantized(*hs, a, b, n); }));
  }
  // The table's layout: entry uint8(q) is the output for q (q = -1 lives at 255).
  const ptq::Int8LookupTable negate = ptq::tabulate_int8([](const int8_t* a, int8_t* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<int8_t>(a[i] == -128 ? 127 : -a[i]);
  });
  CHECK(negate[255] == 1);
  CHECK(negate[128] == 127);
  CHECK(negate[1] == -1);
}
