// The hybrid (dynamic-range) fully connected (kernels/hybrid.hpp) against reference/hybrid.hpp,
// bit for bit (floats compared as bit patterns, so -0.0 and +0.0 differ), on every ISA level the
// CPU runs: the per-row quantizers (asymmetric and symmetric, lengths around the vector widths,
// all-zero rows, one-signed rows, rounding ties, tiny and huge ranges), and the whole layer
// (batches, K, N around the tiles, per-tensor and per-channel weight scales, bias or not, every
// fused activation, an all-zero input, all-zero rows, extreme zero points).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/kernels/hybrid.hpp"
#include "ptq/kernels/reference/hybrid.hpp"
#include "support/isa_coverage.hpp"

using ptq::FusedActivation;
using ptq::HybridInputQuantization;
using ptq::Isa;

namespace {

using ptq_test::kSanitized;

const uint32_t kHybridFamily = ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

enum class RowKind { kNormal, kZero, kPositive, kNegative, kTiny, kHuge, kTies, kSparse };

void fill_row(std::mt19937& rng, RowKind kind, float* x, int64_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    float v = nd(rng);
    switch (kind) {
      case RowKind::kNormal: break;
      case RowKind::kZero: v = (i % 2) ? -0.0f : 0.0f; break;
      case RowKind::kPositive: v = std::abs(v) + 0.25f; break;
      case RowKind::kNegative: v = -std::abs(v) - 0.25f; break;
      case RowKind::kTiny: v *= 1e-30f; break;
      case RowKind::kHuge: v *= 1e30f; break;
      case RowKind::kTies: v = static_cast<float>(static_cast<int>(rng() % 255) - 127) * 0.5f; break;  // x.5 steps
      case RowKind::kSparse: v = (rng() % 7 == 0) ? v : 0.0f; break;
    }
    x[i] = v;
  }
}

const RowKind kKinds[] = {RowKind::kNormal, RowKind::kZero,  RowKind::kPositive, RowKind::kNegative,
                          RowKind::kTiny,   RowKind::kHuge,  RowKind::kTies,     RowKind::kSparse};

}  // namespace

TEST_CASE("hybrid: per-row quantizers equal reference::quantize_rows") {
  ptq_test::for_each_isa(kHybridFamily, ptq::hybrid_variant, [&](Isa isa) {
    std::mt19937 rng(17);
    int64_t nonzero_q = 0;
    for (HybridInputQuantization mode : {HybridInputQuantization::kAsymmetric, HybridInputQuantization::kSymmetric}) {
      for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1024, 1027}) {
        for (RowKind kind : kKinds) {
          const int64_t rows = 3;
          std::vector<float> x(static_cast<std::size_t>(rows * n));
          for (int64_t r = 0; r < rows; ++r) fill_row(rng, r == 1 ? RowKind::kNormal : kind, x.data() + r * n, n);
          std::vector<int8_t> qw(x.size()), qg(x.size(), int8_t{0x5A});
          std::vector<float> sw(rows), sg(rows);
          std::vector<int32_t> zw(rows), zg(rows);
          ptq::reference::quantize_rows(x.data(), rows, n, mode, qw.data(), sw.data(), zw.data());
          ptq::quantize_rows_hybrid(x.data(), rows, n, mode, qg.data(), sg.data(), zg.data(), isa);
          for (int64_t r = 0; r < rows; ++r) {
            INFO("n=" << n << " row " << r << " kind " << static_cast<int>(kind) << " mode " << static_cast<int>(mode));
            REQUIRE(bits(sg[r]) == bits(sw[r]));
            REQUIRE(zg[r] == zw[r]);
          }
          for (std::size_t i = 0; i < qw.size(); ++i) {
            if (qg[i] != qw[i]) FAIL("q[" << i << "] got " << int{qg[i]} << " want " << int{qw[i]} << " n=" << n);
            nonzero_q += qw[i] != 0;
          }
        }
      }
    }
    CHECK(nonzero_q > 1000);
  });
}

namespace {

struct FcCase {
  int64_t batches = 2, k = 37, n = 19;
  bool per_channel = true, bias = true;
  HybridInputQuantization mode = HybridInputQuantization::kAsymmetric;
  FusedActivation act = FusedActivation::kNone;
  RowKind kind = RowKind::kNormal;
  bool zero_rows = false;  // every other row all zeros
  bool all_zero = false;   // the whole input zero
  bool negative_zero_bias = false;
  uint32_t seed = 1;

  std::string describe() const {
    std::ostringstream s;
    s << "B=" << batches << " K=" << k << " N=" << n << (per_channel ? " per-channel" : " per-tensor")
      << (bias ? " bias" : " no-bias") << " mode=" << static_cast<int>(mode) << " act=" << ptq::fused_activation_name(act)
      << " kind=" << static_cast<int>(kind) << (zero_rows ? " zero-rows" : "") << (all_zero ? " all-zero" : "");
    return s.str();
  }

  void test(Isa isa) const {
    INFO(describe());
    std::mt19937 rng(seed);
    ptq::HybridFullyConnectedParams p;
    p.batches = batches;
    p.input_depth = k;
    p.output_depth = n;
    p.input_quantization = mode;
    p.activation = act;
    std::uniform_real_distribution<float> sd(0.0005f, 0.005f);
    if (per_channel) {
      for (int64_t c = 0; c < n; ++c) p.weight_scales.push_back(sd(rng));
    } else {
      p.weight_scales = {sd(rng)};
    }
    std::vector<int8_t> w(static_cast<std::size_t>(n * k));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<float> b(static_cast<std::size_t>(n));
    std::normal_distribution<float> bd(0.0f, 2.0f);
    for (auto& v : b) v = negative_zero_bias ? -0.0f : bd(rng);
    std::vector<float> x(static_cast<std::size_t>(batches * k));
    for (int64_t r = 0; r < batches; ++r) {
      const bool zero = all_zero || (zero_rows && r % 2 == 0);
      fill_row(rng, zero ? RowKind::kZero : kind, x.data() + r * k, k);
    }
    REQUIRE(ptq::validate_hybrid_fully_connected(p, w.data()).ok());
    std::vector<float> want(static_cast<std::size_t>(batches * n));
    ptq::HybridScratch scratch;
    ptq::reference::hybrid_fully_connected(p, x.data(), w.data(), bias ? b.data() : nullptr, want.data(), scratch);
    const ptq::PreparedHybridFullyConnected fc = ptq::prepare_hybrid_fully_connected(p, w.data(), bias ? b.data() : nullptr);
    std::vector<float> got(want.size() + 4, 12345.0f);
    for (int rep = 0; rep < 2; ++rep) {
      ptq::hybrid_fully_connected(fc, x.data(), got.data(), isa);
      for (std::size_t i = 0; i < want.size(); ++i) {
        if (bits(got[i]) != bits(want[i])) {
          FAIL("mismatch at row " << static_cast<int64_t>(i) / n << " col " << static_cast<int64_t>(i) % n << ": got "
                                  << got[i] << " (0x" << std::hex << bits(got[i]) << ") want " << want[i] << " (0x"
                                  << bits(want[i]) << std::dec << ")");
        }
      }
    }
    for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE(got[i] == 12345.0f);
    if (!all_zero && !negative_zero_bias && kind != RowKind::kZero && kind != RowKind::kTiny && want.size() >= 8) {
      const std::set<uint32_t> distinct = [&] {
        std::set<uint32_t> s;
        for (float f : want) s.insert(bits(f));
        return s;
      }();
      CHECK_MESSAGE(distinct.size() >= std::min<std::size_t>(8, want.size() / 4), "too few distinct outputs: vacuous");
    }
  }
};

}  // namespace

TEST_CASE("hybrid: fully connected equals the reference (shapes, modes, activations)") {
  ptq_test::for_each_isa(kHybridFamily, ptq::hybrid_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (HybridInputQuantization mode : {HybridInputQuantization::kAsymmetric, HybridInputQuantization::kSymmetric})
      for (FusedActivation act : {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6, FusedActivation::kReluN1To1})
        for (bool pc : {true, false})
          for (bool bias : {true, false}) {
            FcCase c;
            c.mode = mode;
            c.act = act;
            c.per_channel = pc;
            c.bias = bias;
            for (int64_t bt : {1, 3, 8}) {
              c.batches = bt;
              c.k = 1 + (seed * 37) % 150;
              c.n = 1 + (seed * 11) % 40;
              c.seed = seed++;
              c.test(isa);
            }
          }
  });
}

TEST_CASE("hybrid: zero rows, zero input, extreme rows") {
  ptq_test::for_each_isa(kHybridFamily, ptq::hybrid_variant, [&](Isa isa) {
    for (HybridInputQuantization mode : {HybridInputQuantization::kAsymmetric, HybridInputQuantization::kSymmetric}) {
      for (RowKind kind : kKinds) {
        FcCase c;
        c.mode = mode;
        c.kind = kind;
        c.batches = 4;
        c.k = 67;
        c.n = 33;
        c.test(isa);
        c.zero_rows = true;
        c.act = FusedActivation::kRelu;
        c.test(isa);
      }
      FcCase z;
      z.mode = mode;
      z.all_zero = true;
      z.test(isa);
      z.negative_zero_bias = true;  // act(-0.0) skipped-product path, and -0.0 + 0.0 rows
      z.test(isa);
      z.all_zero = false;
      z.zero_rows = true;
      z.test(isa);
    }
  });
}

TEST_CASE("hybrid: prequantized rows with extreme zero points, large K") {
  ptq_test::for_each_isa(kHybridFamily, ptq::hybrid_variant, [&](Isa isa) {
    std::mt19937 rng(5);
    for (int64_t k : {int64_t{1}, int64_t{33}, int64_t{kSanitized ? 4096 : 20000}}) {
      ptq::HybridFullyConnectedParams p;
      p.batches = 3;
      p.input_depth = k;
      p.output_depth = 21;
      p.weight_scales = {0.0123f};
      std::vector<int8_t> w(static_cast<std::size_t>(21 * k)), q(static_cast<std::size_t>(3 * k));
      for (auto& v : w) v = (rng() & 1) ? int8_t{127} : int8_t{-127};
      for (auto& v : q) v = (rng() & 1) ? int8_t{127} : int8_t{-128};
      const float scales[3] = {0.5f, 3e-5f, 1.7f};
      const int32_t zps[3] = {-128, 127, 0};
      std::vector<float> bias(21, 0.25f), want(3 * 21), got(3 * 21);
      ptq::reference::hybrid_fully_connected_prequantized(p, q.data(), scales, zps, w.data(), bias.data(), want.data());
      const auto fc = ptq::prepare_hybrid_fully_connected(p, w.data(), bias.data());
      ptq::hybrid_fully_connected_prequantized(fc, q.data(), scales, zps, got.data(), isa);
      for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(bits(got[i]) == bits(want[i]));
    }
  });
}

TEST_CASE("hybrid: validate names the culprit") {
  ptq::HybridFullyConnectedParams p;
  p.batches = 1;
  p.input_depth = 3;
  p.output_depth = 2;
  p.weight_scales = {0.1f};
  std::vector<int8_t> w = {1, 2, 3, 4, 5, -128};
  CHECK(ptq::validate_hybrid_fully_connected(p, w.data()).message().find("weights[1][2] = -128") != std::string::npos);
  w[5] = 6;
  CHECK(ptq::validate_hybrid_fully_connected(p, w.data()).ok());
  p.weight_scales = {0.1f, -1.0f};
  CHECK(ptq::validate_hybrid_fully_connected(p, w.data()).message().find("weight_scales[1]") != std::string::npos);
}
