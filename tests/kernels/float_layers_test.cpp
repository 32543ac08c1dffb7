// The float32 layers (kernels/float_gemm.hpp, float_conv.hpp, float_depthwise.hpp) against the float
// references, on every ISA level the CPU runs.
//
// The contract (kernels/float_microkernel.hpp): every level computes each output as the
// reference's own chain (0.0f, then + x * w in the reference's order, each product and each sum
// rounded, never fused; then + bias; then the clamp), so the tolerance against the reference is 0
// and levels agree bit for bit. Values are compared as bits (NaN: any NaN matches any NaN, the
// payload is unspecified). Independently of the reference, outputs are also checked against a
// double-precision sum with the classic bound for a recursive float sum of n products,
//   |y - y_exact| <= gamma_{n+1} * (sum_k |x_k w_k| + |bias|),  gamma_m = m u / (1 - m u), u = 2^-24,
// (Higham, Accuracy and Stability, 3.1 and 3.5; n + 1 for the bias add), so that the reference
// and the kernels cannot agree on a wrong answer. Sweeps cover K around the vector widths and the
// 256-K blocks, M/N partial tiles and M-blocks, batch 1 (the one-row tiles over 1-4 panels), every
// fused activation, no bias, row strides, thread splits, conv geometry (groups, strides,
// dilations, SAME/VALID, 1x1 direct, several im2col blocks, caller scratch), depthwise depth
// multipliers and channel tails, and non-finite values (inf/NaN inputs; inf/NaN weights take the
// reference path).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/kernels/float_conv.hpp"
#include "ptq/kernels/float_depthwise.hpp"
#include "ptq/kernels/float_gemm.hpp"
#include "ptq/kernels/reference/conv.hpp"
#include "ptq/kernels/reference/depthwise_conv.hpp"
#include "ptq/kernels/reference/fully_connected.hpp"
#include "support/isa_coverage.hpp"

using ptq::FusedActivation;
using ptq::Isa;
using ptq::Padding;

namespace {

using ptq_test::kSanitized;

// Levels with their own float kernels (independent of float_variant: x86 has SSE4.1 and AVX2).
uint32_t float_family() {
#if PTQ_ARCH_X86
  return ptq_test::isa_mask({Isa::kScalar, Isa::kSse41, Isa::kAvx2});
#else
  return ptq_test::isa_mask({Isa::kScalar});
#endif
}

const FusedActivation kActivations[] = {FusedActivation::kNone, FusedActivation::kRelu, FusedActivation::kRelu6,
                                        FusedActivation::kReluN1To1};

const char* act_name(FusedActivation a) {
  switch (a) {
    case FusedActivation::kNone: return "none";
    case FusedActivation::kRelu: return "relu";
    case FusedActivation::kRelu6: return "relu6";
    case FusedActivation::kReluN1To1: return "relu_n1_to_1";
  }
  return "?";
}

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || bits(a) == bits(b); }

std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// got[i] and want[i] are the same float for i < n (0 tolerance), and got is untouched past n.
void check_same(const std::vector<float>& got, const std::vector<float>& want, std::size_t n, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() >= n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!same(got[i], want[i])) FAIL("element " << i << ": got " << got[i] << " want " << want[i]);
  }
  for (std::size_t i = n; i < got.size(); ++i) REQUIRE_MESSAGE(bits(got[i]) == bits(1234.5f), "wrote past the output");
}

// The error bound of a recursive float sum of `terms` rounded products (see the header).
double gamma(int64_t terms) {
  const double u = std::ldexp(1.0, -24), m = static_cast<double>(terms + 1);
  return m * u / (1.0 - m * u);
}

// y (a float output) against exact = the double sum before the clamp, abs_sum = sum of |terms|.
void check_bound(float y, double exact, double abs_sum, int64_t terms, float lo, float hi, const std::string& what) {
  const double clamped = std::min(static_cast<double>(hi), std::max(static_cast<double>(lo), exact));
  const double tol = gamma(terms) * abs_sum;
  if (!(std::abs(static_cast<double>(y) - clamped) <= tol)) {
    FAIL(what << ": y = " << y << ", double sum " << exact << " (clamped " << clamped << "), bound " << tol);
  }
}

// Outputs must not be trivial: several distinct values, and not all at one clamp bound.
void check_not_vacuous(const std::vector<float>& want, float lo, float hi, const std::string& what) {
  INFO(what);
  if (want.size() < 8) return;
  std::vector<float> s = want;
  std::sort(s.begin(), s.end());
  CHECK_MESSAGE(std::unique(s.begin(), s.end()) - s.begin() >= 3, "fewer than 3 distinct outputs");
  const auto clamped = std::count_if(want.begin(), want.end(), [&](float v) { return v == lo || v == hi; });
  CHECK_MESSAGE(clamped < static_cast<long>(want.size()), "every output clamped");
}

// ---- fully connected --------------------------------------------------------------------------

struct FcCase {
  int64_t m, k, n;
  FusedActivation act = FusedActivation::kNone;
  bool bias = true;
  int64_t in_pad = 0, out_pad = 0;  // extra floats per row (strides K + in_pad, N + out_pad)
  uint32_t seed = 1;

  std::string describe() const {
    std::ostringstream s;
    s << "M=" << m << " K=" << k << " N=" << n << " act=" << act_name(act) << (bias ? "" : " no-bias")
      << " in_pad=" << in_pad << " out_pad=" << out_pad;
    return s.str();
  }

  void test(Isa isa, const ptq::gemm::ParallelFor* pf = nullptr) const {
    std::mt19937 rng(seed * 7919u + static_cast<uint32_t>(m * 131 + k * 17 + n));
    const int64_t lda = k + in_pad, ldc = n + out_pad;
    const auto x = random_floats(rng, static_cast<std::size_t>(std::max<int64_t>(1, m * lda)), -2.0f, 2.0f);
    // Weights scaled by 1 / sqrt(K): outputs of order 1, so that every activation clamps some and
    // passes some.
    const float ws = 1.5f / std::sqrt(static_cast<float>(std::max<int64_t>(1, k)));
    const auto w = random_floats(rng, static_cast<std::size_t>(std::max<int64_t>(1, n * k)), -ws, ws);
    const auto b = random_floats(rng, static_cast<std::size_t>(std::max<int64_t>(1, n)), -1.5f, 1.5f);
    const ptq::FloatFullyConnectedParams p{m, k, n, act};
    REQUIRE(ptq::validate_float_fully_connected(p, w.data()).ok());
    // The reference on dense rows.
    std::vector<float> xd(static_cast<std::size_t>(std::max<int64_t>(1, m * k)));
    for (int64_t r = 0; r < m; ++r) std::copy(x.begin() + r * lda, x.begin() + r * lda + k, xd.begin() + r * k);
    std::vector<float> want(static_cast<std::size_t>(m * n));
    ptq::reference::fully_connected(p, xd.data(), w.data(), bias ? b.data() : nullptr, want.data());

    const ptq::PreparedFloatFullyConnected fc = ptq::prepare_float_fully_connected(p, w.data(), bias ? b.data() : nullptr);
    std::vector<float> got(static_cast<std::size_t>(m * ldc + 16), 1234.5f);
    ptq::FloatGemmOptions o;
    o.isa = isa;
    o.input_stride = in_pad != 0 ? lda : 0;
    o.output_stride = out_pad != 0 ? ldc : 0;
    o.parallel_for = pf;
    ptq::float_fully_connected(fc, x.data(), got.data(), o);
    std::vector<float> dense(static_cast<std::size_t>(m * n + 16), 1234.5f);
    for (int64_t r = 0; r < m; ++r) {
      std::copy(got.begin() + r * ldc, got.begin() + r * ldc + n, dense.begin() + r * n);
      for (int64_t j = n; j < ldc; ++j) REQUIRE_MESSAGE(bits(got[static_cast<std::size_t>(r * ldc + j)]) == bits(1234.5f),
                                                         "wrote into a row's stride padding");
    }
    for (std::size_t i = static_cast<std::size_t>(m * ldc); i < got.size(); ++i) REQUIRE(bits(got[i]) == bits(1234.5f));
    check_same(dense, want, want.size(), describe());

    const ptq::FloatActivationRange r = ptq::reference::calculate_activation_range(act);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double exact = bias ? b[static_cast<std::size_t>(j)] : 0.0, abs_sum = std::abs(exact);
        for (int64_t t = 0; t < k; ++t) {
          const double prod = static_cast<double>(xd[static_cast<std::size_t>(i * k + t)]) * w[static_cast<std::size_t>(j * k + t)];
          exact += prod;
          abs_sum += std::abs(prod);
        }
        check_bound(want[static_cast<std::size_t>(i * n + j)], exact, abs_sum, k, r.min, r.max, describe());
      }
    }
    if (k > 0) check_not_vacuous(want, r.min, r.max, describe());  // K = 0: y = act(bias), checked exactly above
  }
};

}  // namespace

TEST_CASE("float layers: float_variant maps every level, and the kernels it names run") {
  CHECK(ptq::float_variant(Isa::kAvx512Vnni) == (PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar));
  CHECK(ptq::float_variant(Isa::kAvx512) == (PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar));
  CHECK(ptq::float_variant(Isa::kAvxVnni) == (PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar));
  CHECK(ptq::float_variant(Isa::kAvx2) == (PTQ_ARCH_X86 ? Isa::kAvx2 : Isa::kScalar));
  CHECK(ptq::float_variant(Isa::kSse41) == (PTQ_ARCH_X86 ? Isa::kSse41 : Isa::kScalar));
  CHECK(ptq::float_variant(Isa::kGeneric) == Isa::kScalar);
  CHECK(ptq::float_variant(Isa::kScalar) == Isa::kScalar);
  CHECK(ptq::float_variant(Isa::kNeon) == Isa::kScalar);
  for (Isa isa : ptq::kAllIsas) {
    const ptq::FloatKernels& k = ptq::float_kernels(isa);
    CAPTURE(ptq::isa_name(isa));
    CHECK(ptq::isa_runnable(k.isa));
    CHECK(k.isa == ptq::float_variant(ptq::best_runnable_isa_within(isa)));
    REQUIRE(k.mr >= 1);
    REQUIRE(k.mr <= ptq::kFloatMaxMr);
    for (int i = 0; i < k.mr; ++i) CHECK(static_cast<bool>(k.tiles[i]));
    for (int i = 0; i < k.gemv_panels; ++i) CHECK(static_cast<bool>(k.gemv[i]));
    CHECK(static_cast<bool>(k.output));
    CHECK(static_cast<bool>(k.depthwise_row));
  }
}

TEST_CASE("float layers: fully connected equals the reference bit for bit on every level (shape sweep)") {
  // K below, at and above the vector widths (4, 8) and the 256-K block; M partial tiles (MR = 6,
  // 3, 2), M = 1 (one-row tiles over 1..4 panels), M-blocks (mc = 96 here, and a 1-row last
  // block at M = 97); N partial panels.
  const int64_t ms[] = {1, 2, 3, 5, 6, 7, 13, 97};
  const int64_t ks[] = {0, 1, 3, 4, 7, 8, 9, 17, 255, 256, 257, 600};
  const int64_t ns[] = {1, 5, 15, 16, 17, 33, 47, 64, 65, 70};
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (int64_t m : ms)
      for (int64_t k : ks)
        for (int64_t n : ns) {
          ++seed;
          if (kSanitized && seed % 5 != 0) continue;
          if (m * k * n > 100000 && seed % 4 != 0) continue;  // keep the sweep fast
          FcCase c{m, k, n, kActivations[seed % 4], seed % 7 != 3, 0, 0, seed};
          if (k == 0) {  // outputs are the bias: keep them distinct
            c.act = FusedActivation::kNone;
            c.bias = true;
          }
          c.test(isa);
        }
  });
}

TEST_CASE("float layers: fully connected with every activation, no bias, row strides and large M and K") {
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    for (FusedActivation act : kActivations) {
      for (bool bias : {true, false}) {
        FcCase{1, 200, 71, act, bias}.test(isa);
        FcCase{9, 33, 40, act, bias}.test(isa);
      }
    }
    FcCase{5, 19, 21, FusedActivation::kNone, true, 3, 5}.test(isa);   // strided rows
    FcCase{1, 64, 100, FusedActivation::kRelu, true, 1, 7}.test(isa);
    if (!kSanitized) {
      FcCase{200, 700, 40}.test(isa);  // two M-blocks (mc = 84 for K = 700), three K-blocks
      FcCase{2, 1030, 130}.test(isa);
    }
  });
}

TEST_CASE("float layers: fully connected gives the same bits for every thread split") {
  // A splitter that runs the task over uneven ranges in reverse order, on this thread.
  const ptq::gemm::ParallelFor uneven = [](int64_t count, const ptq::gemm::PanelTask& task) {
    int64_t end = count, step = 1;
    while (end > 0) {
      const int64_t begin = std::max<int64_t>(0, end - step);
      task(begin, end);
      end = begin;
      step = step % 3 + 1;
    }
  };
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    FcCase{1, 77, 150, FusedActivation::kRelu}.test(isa, &uneven);
    FcCase{130, 300, 50, FusedActivation::kNone}.test(isa, &uneven);
    FcCase{7, 5, 3}.test(isa, &uneven);
  });
}

TEST_CASE("float layers: non-finite and signed-zero values follow the reference") {
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    const float big = 3e38f;
    const int64_t m = 7, k = 19, n = 35;
    std::mt19937 rng(11);
    auto x = random_floats(rng, static_cast<std::size_t>(m * k), -1.0f, 1.0f);
    auto w = random_floats(rng, static_cast<std::size_t>(n * k), -1.0f, 1.0f);
    auto b = random_floats(rng, static_cast<std::size_t>(n), -1.0f, 1.0f);
    x[3] = inf;                   // row 0: +-inf or NaN (inf * w, then inf - inf where signs meet)
    x[k + 4] = nan;               // row 1: NaN everywhere
    x[2 * k + 1] = big;           // row 2: overflow to +-inf
    x[2 * k + 2] = big;
    w[3 * k + 1] = w[3 * k + 2] = 1.0f;  // column 3: big + big
    for (int64_t t = 0; t < k; ++t) x[static_cast<std::size_t>(3 * k + t)] = (t % 2) ? -0.0f : 0.0f;  // row 3: zeros
    w[5 * k + 2] = inf;           // column 5: inf weight (every row: x * inf)
    b[6] = -0.0f;                 // column 6: -0 bias on the zero row gives +0 + -0 = +0
    b[7] = nan;                   // column 7: NaN bias
    for (FusedActivation act : kActivations) {
      for (bool bias : {true, false}) {
        const ptq::FloatFullyConnectedParams p{m, k, n, act};
        std::vector<float> want(static_cast<std::size_t>(m * n));
        ptq::reference::fully_connected(p, x.data(), w.data(), bias ? b.data() : nullptr, want.data());
        const auto fc = ptq::prepare_float_fully_connected(p, w.data(), bias ? b.data() : nullptr);
        std::vector<float> got(want.size() + 16, 1234.5f);
        ptq::float_fully_connected(fc, x.data(), got.data(), isa);
        check_same(got, want, want.size(), std::string("special values, act=") + act_name(act));
        if (act == FusedActivation::kNone && bias) {
          CHECK(std::isnan(want[static_cast<std::size_t>(n + 3)]));   // row 1
          // Row 2, column 3 overflows to +inf, which kNone's clamp turns into FLT_MAX (TFLite's
          // ActivationFunctionWithMinMax with the float range [lowest, max]).
          CHECK(want[static_cast<std::size_t>(2 * n + 3)] == std::numeric_limits<float>::max());
          CHECK(bits(want[static_cast<std::size_t>(3 * n + 6)]) == bits(0.0f));
        }
      }
    }
  });
}

// ---- conv2d -----------------------------------------------------------------------------------

namespace {

struct ConvCase {
  int64_t batches = 1, in_h = 7, in_w = 9, in_c = 5, out_c = 7, kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t groups = 1;
  Padding padding = Padding::kSame;
  FusedActivation act = FusedActivation::kNone;
  bool bias = true;
  int expect_direct = -1;
  uint32_t seed = 3;

  std::string describe() const {
    std::ostringstream s;
    s << "N=" << batches << " in=" << in_h << "x" << in_w << "x" << in_c << " out_c=" << out_c << " filter=" << kh
      << "x" << kw << " stride=" << sh << "x" << sw << " dilation=" << dh << "x" << dw << " "
      << (padding == Padding::kSame ? "SAME" : "VALID") << " groups=" << groups << " act=" << act_name(act)
      << (bias ? "" : " no-bias");
    return s.str();
  }

  void test(Isa isa, int scratch_mode = 0, const ptq::gemm::ParallelFor* pf = nullptr) const {
    std::mt19937 rng(seed * 31u + static_cast<uint32_t>(in_h * 131 + in_w * 17 + in_c * 7 + out_c + kh * 1000));
    ptq::FloatConv2DParams p;
    p.geometry = ptq::make_conv_geometry(padding, batches, in_h, in_w, in_c, kh, kw, out_c, sh, sw, dh, dw);
    p.groups = groups;
    p.activation = act;
    const ptq::ConvGeometry& g = p.geometry;
    const int64_t fic = in_c / groups, k = kh * kw * fic;
    const auto x = random_floats(rng, static_cast<std::size_t>(g.input_size()), -2.0f, 2.0f);
    const float ws = 1.5f / std::sqrt(static_cast<float>(k));  // outputs of order 1
    const auto w = random_floats(rng, static_cast<std::size_t>(out_c * k), -ws, ws);
    const auto b = random_floats(rng, static_cast<std::size_t>(out_c), -1.0f, 1.0f);
    REQUIRE(ptq::validate_float_conv2d(p, w.data()).ok());
    std::vector<float> want(static_cast<std::size_t>(g.output_size()));
    ptq::reference::conv2d(p, x.data(), w.data(), bias ? b.data() : nullptr, want.data());

    // scratch_mode 0: the prepared object's own; 1: the caller's (the object has none).
    const ptq::PreparedFloatConv2D conv =
        ptq::prepare_float_conv2d(p, w.data(), bias ? b.data() : nullptr, scratch_mode == 0);
    if (expect_direct >= 0) CHECK(conv.direct() == (expect_direct == 1));
    CHECK_FALSE(conv.reference_only());
    std::vector<float> scratch(conv.scratch_bytes() / sizeof(float) + 1);
    std::vector<float> got(want.size() + 16, 1234.5f);
    ptq::FloatConvOptions o;
    o.isa = isa;
    o.scratch = scratch_mode == 1 ? scratch.data() : nullptr;
    o.parallel_for = pf;
    ptq::float_conv2d(conv, x.data(), got.data(), o);
    check_same(got, want, want.size(), describe());

    // The double-precision sum over the taps inside the image.
    const ptq::FloatActivationRange r = ptq::reference::calculate_activation_range(act);
    const int64_t ocg = out_c / groups;
    for (int64_t bi = 0; bi < batches; ++bi)
      for (int64_t oy = 0; oy < g.output_height; ++oy)
        for (int64_t ox = 0; ox < g.output_width; ++ox)
          for (int64_t oc = 0; oc < out_c; ++oc) {
            double exact = bias ? b[static_cast<std::size_t>(oc)] : 0.0, abs_sum = std::abs(exact);
            const int64_t grp = oc / ocg;
            for (int64_t fy = 0; fy < kh; ++fy)
              for (int64_t fx = 0; fx < kw; ++fx) {
                const int64_t iy = oy * sh - g.pad_top + fy * dh, ix = ox * sw - g.pad_left + fx * dw;
                if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                for (int64_t ic = 0; ic < fic; ++ic) {
                  const double prod =
                      static_cast<double>(x[static_cast<std::size_t>(((bi * in_h + iy) * in_w + ix) * in_c + grp * fic + ic)]) *
                      w[static_cast<std::size_t>(((oc * kh + fy) * kw + fx) * fic + ic)];
                  exact += prod;
                  abs_sum += std::abs(prod);
                }
              }
            const std::size_t i = static_cast<std::size_t>(((bi * g.output_height + oy) * g.output_width + ox) * out_c + oc);
            check_bound(want[i], exact, abs_sum, k, r.min, r.max, describe());
          }
    check_not_vacuous(want, r.min, r.max, describe());
  }
};

}  // namespace

TEST_CASE("float layers: conv2d equals the reference bit for bit on every level (geometry sweep)") {
  struct Filter { int64_t h, w; };
  const Filter filters[] = {{1, 1}, {3, 3}, {2, 3}, {5, 5}};
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (const Filter f : filters)
      for (int64_t s : {1, 2})
        for (int64_t d : {1, 2})
          for (Padding pad : {Padding::kSame, Padding::kValid})
            for (int64_t g : {1, 3}) {
              ++seed;
              if (kSanitized && seed % 3 != 0) continue;
              ConvCase c;
              c.in_h = 7 + seed % 3;
              c.in_w = 9 + seed % 4;
              c.in_c = g == 1 ? 3 + seed % 15 : 3 * (1 + seed % 6);
              c.out_c = g * (1 + seed % 17);
              c.kh = f.h;
              c.kw = f.w;
              c.sh = c.sw = s;
              c.dh = c.dw = d;
              c.padding = pad;
              c.groups = g;
              c.batches = 1 + seed % 2;
              c.act = kActivations[seed % 4];
              c.bias = seed % 5 != 2;
              c.seed = seed;
              c.test(isa);
            }
    // Mixed strides and dilations; channel counts around the vector widths; 1x1 direct.
    for (int64_t ch : {1, 3, 15, 16, 17, 33}) {
      ConvCase c;
      c.in_h = 6;
      c.in_w = 11;
      c.in_c = ch;
      c.out_c = ch + 2;
      c.kh = 3;
      c.kw = 2;
      c.sh = 2;
      c.dw = 2;
      c.test(isa);
      ConvCase d;
      d.in_h = d.in_w = 5;
      d.in_c = ch;
      d.out_c = 33 - ch % 7;
      d.kh = d.kw = 1;
      d.padding = Padding::kValid;
      d.expect_direct = 1;
      d.act = FusedActivation::kRelu;
      d.test(isa);
    }
  });
}

TEST_CASE("float layers: conv2d 1x1 direct with groups and batches, im2col blocks, scratch and threads") {
  const ptq::gemm::ParallelFor halves = [](int64_t count, const ptq::gemm::PanelTask& task) {
    task(count / 2, count);
    task(0, count / 2);
  };
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    ConvCase a;
    a.in_h = 9;
    a.in_w = 7;
    a.in_c = 32;
    a.out_c = 17;
    a.kh = a.kw = 1;
    a.batches = 3;
    a.expect_direct = 1;
    a.test(isa);
    a.out_c = 34;
    a.groups = 2;
    a.act = FusedActivation::kRelu6;
    a.test(isa);
    ConvCase s2 = a;  // 1x1 with stride 2 gathers
    s2.groups = 1;
    s2.sh = s2.sw = 2;
    s2.expect_direct = 0;
    s2.test(isa);
    // K_g = 3 * 3 * 64 = 576: 96-row im2col blocks, 12 x 13 = 156 rows per image, two images.
    ConvCase big;
    big.in_h = 12;
    big.in_w = 13;
    big.in_c = 64;
    big.out_c = 20;
    big.batches = kSanitized ? 1 : 2;
    big.act = FusedActivation::kReluN1To1;
    big.expect_direct = 0;
    big.test(isa, 0);
    big.test(isa, 1);
    big.test(isa, 1, &halves);
    a.test(isa, 1, &halves);
  });
}

TEST_CASE("float layers: conv2d with inf or NaN weights runs the reference (zero padding would not be exact)") {
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    std::mt19937 rng(5);
    ptq::FloatConv2DParams p;
    p.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 5, 6, 3, 3, 3, 4);
    auto x = random_floats(rng, static_cast<std::size_t>(p.geometry.input_size()), -1.0f, 1.0f);
    auto w = random_floats(rng, static_cast<std::size_t>(4 * 27), -1.0f, 1.0f);
    for (float special : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      w[0] = special;  // [0][0][0][0]: outside the image for the top-left pixel, which the reference skips
      std::vector<float> want(static_cast<std::size_t>(p.geometry.output_size()));
      ptq::reference::conv2d(p, x.data(), w.data(), nullptr, want.data());
      CHECK_FALSE(std::isnan(want[0]));  // the top-left output never meets the special weight
      const ptq::PreparedFloatConv2D conv = ptq::prepare_float_conv2d(p, w.data(), nullptr);
      CHECK(conv.reference_only());
      std::vector<float> got(want.size() + 16, 1234.5f);
      ptq::float_conv2d(conv, x.data(), got.data(), isa);
      check_same(got, want, want.size(), "special weight");
    }
  });
}

TEST_CASE("float layers: validate_float_conv2d and validate_float_depthwise_conv2d name the culprit") {
  ptq::FloatConv2DParams p;
  p.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 4, 4, 6, 3, 3, 4);
  const std::vector<float> w(4 * 9 * 6, 0.5f);
  CHECK(ptq::validate_float_conv2d(p, w.data()).ok());
  p.groups = 4;
  CHECK(ptq::validate_float_conv2d(p, w.data()).message().find("groups = 4 does not divide input_channels = 6") !=
        std::string::npos);
  p.groups = 3;
  CHECK(ptq::validate_float_conv2d(p, w.data()).message().find("does not divide output_channels = 4") != std::string::npos);
  p.groups = 1;
  CHECK(ptq::validate_float_conv2d(p, nullptr).message().find("weights is null") != std::string::npos);
  p.geometry.stride_width = 0;
  CHECK(ptq::validate_float_conv2d(p, w.data()).message().find("stride_width") != std::string::npos);

  ptq::FloatDepthwiseConv2DParams d;
  d.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 4, 4, 3, 3, 3, 6);
  d.depth_multiplier = 2;
  CHECK(ptq::validate_float_depthwise_conv2d(d, w.data()).ok());
  d.depth_multiplier = 3;
  CHECK(ptq::validate_float_depthwise_conv2d(d, w.data()).message().find("input_channels * depth_multiplier = 9") !=
        std::string::npos);
  d.depth_multiplier = 0;
  CHECK(ptq::validate_float_depthwise_conv2d(d, w.data()).message().find("depth_multiplier = 0") != std::string::npos);

  ptq::FloatFullyConnectedParams f{2, 3, -1, FusedActivation::kNone};
  CHECK(ptq::validate_float_fully_connected(f, w.data()).message().find("output_depth = -1") != std::string::npos);
  f.output_depth = 4;
  CHECK(ptq::validate_float_fully_connected(f, nullptr).message().find("weights is null") != std::string::npos);
}

// ---- depthwise --------------------------------------------------------------------------------

namespace {

struct DwCase {
  int64_t batches = 1, in_h = 7, in_w = 9, in_c = 5, dm = 1, kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1;
  Padding padding = Padding::kSame;
  FusedActivation act = FusedActivation::kNone;
  bool bias = true;
  uint32_t seed = 4;

  std::string describe() const {
    std::ostringstream s;
    s << "N=" << batches << " in=" << in_h << "x" << in_w << "x" << in_c << " dm=" << dm << " filter=" << kh << "x" << kw
      << " stride=" << sh << "x" << sw << " dilation=" << dh << "x" << dw << " "
      << (padding == Padding::kSame ? "SAME" : "VALID") << " act=" << act_name(act) << (bias ? "" : " no-bias");
    return s.str();
  }

  void test(Isa isa) const {
    std::mt19937 rng(seed * 37u + static_cast<uint32_t>(in_h * 131 + in_w * 17 + in_c * 7 + dm + kh * 1000));
    const int64_t oc = in_c * dm;
    ptq::FloatDepthwiseConv2DParams p;
    p.geometry = ptq::make_conv_geometry(padding, batches, in_h, in_w, in_c, kh, kw, oc, sh, sw, dh, dw);
    p.depth_multiplier = dm;
    p.activation = act;
    const ptq::ConvGeometry& g = p.geometry;
    const auto x = random_floats(rng, static_cast<std::size_t>(g.input_size()), -2.0f, 2.0f);
    const float ws = 1.5f / std::sqrt(static_cast<float>(kh * kw));  // outputs of order 1
    const auto w = random_floats(rng, static_cast<std::size_t>(kh * kw * oc), -ws, ws);
    const auto b = random_floats(rng, static_cast<std::size_t>(oc), -0.5f, 0.5f);
    REQUIRE(ptq::validate_float_depthwise_conv2d(p, w.data()).ok());
    std::vector<float> want(static_cast<std::size_t>(g.output_size()));
    ptq::reference::depthwise_conv2d(p, x.data(), w.data(), bias ? b.data() : nullptr, want.data());
    const ptq::PreparedFloatDepthwiseConv2D dwc = ptq::prepare_float_depthwise_conv2d(p, w.data(), bias ? b.data() : nullptr);
    CHECK_FALSE(dwc.reference_only());
    std::vector<float> got(want.size() + 16, 1234.5f);
    ptq::float_depthwise_conv2d(dwc, x.data(), got.data(), isa);
    check_same(got, want, want.size(), describe());
    // Twice: the padded-row ring is reused across calls and images.
    std::fill(got.begin(), got.end(), 1234.5f);
    ptq::float_depthwise_conv2d(dwc, x.data(), got.data(), isa);
    check_same(got, want, want.size(), describe() + " (second call)");

    const ptq::FloatActivationRange r = ptq::reference::calculate_activation_range(act);
    for (int64_t bi = 0; bi < batches; ++bi)
      for (int64_t oy = 0; oy < g.output_height; ++oy)
        for (int64_t ox = 0; ox < g.output_width; ++ox)
          for (int64_t c = 0; c < oc; ++c) {
            double exact = bias ? b[static_cast<std::size_t>(c)] : 0.0, abs_sum = std::abs(exact);
            for (int64_t fy = 0; fy < kh; ++fy)
              for (int64_t fx = 0; fx < kw; ++fx) {
                const int64_t iy = oy * sh - g.pad_top + fy * dh, ix = ox * sw - g.pad_left + fx * dw;
                if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                const double prod = static_cast<double>(x[static_cast<std::size_t>(((bi * in_h + iy) * in_w + ix) * in_c + c / dm)]) *
                                    w[static_cast<std::size_t>((fy * kw + fx) * oc + c)];
                exact += prod;
                abs_sum += std::abs(prod);
              }
            const std::size_t i = static_cast<std::size_t>(((bi * g.output_height + oy) * g.output_width + ox) * oc + c);
            check_bound(want[i], exact, abs_sum, kh * kw, r.min, r.max, describe());
          }
    check_not_vacuous(want, r.min, r.max, describe());
  }
};

}  // namespace

TEST_CASE("float layers: depthwise equals the reference bit for bit on every level (geometry sweep)") {
  struct Filter { int64_t h, w; };
  const Filter filters[] = {{3, 3}, {1, 1}, {2, 3}, {5, 5}};
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    uint32_t seed = 1;
    for (const Filter f : filters)
      for (int64_t s : {1, 2})
        for (int64_t d : {1, 2})
          for (Padding pad : {Padding::kSame, Padding::kValid})
            for (int64_t dm : {1, 2, 3}) {
              ++seed;
              if (kSanitized && seed % 3 != 0) continue;
              DwCase c;
              c.in_h = 6 + seed % 4;
              c.in_w = 7 + seed % 5;
              c.in_c = 1 + seed % 21;  // channel tails around 4, 8, 16
              c.dm = dm;
              c.kh = f.h;
              c.kw = f.w;
              c.sh = c.sw = s;
              c.dh = c.dw = d;
              c.padding = pad;
              c.batches = 1 + seed % 2;
              c.act = kActivations[seed % 4];
              c.bias = seed % 5 != 1;
              c.seed = seed;
              c.test(isa);
            }
    // Channel counts at and around the vector widths, mixed strides and dilations.
    for (int64_t ch : {1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40}) {
      DwCase c;
      c.in_c = ch;
      c.sh = 2;
      c.dw = 2;
      c.act = FusedActivation::kRelu;
      c.test(isa);
    }
  });
}

TEST_CASE("float layers: depthwise with every activation, no bias, and inf or NaN weights") {
  ptq_test::for_each_isa(float_family(), ptq::float_variant, [&](Isa isa) {
    for (FusedActivation act : kActivations) {
      for (bool bias : {true, false}) {
        DwCase c;
        c.in_c = 19;
        c.batches = 2;
        c.act = act;
        c.bias = bias;
        c.test(isa);
      }
    }
    std::mt19937 rng(9);
    ptq::FloatDepthwiseConv2DParams p;
    p.geometry = ptq::make_conv_geometry(Padding::kSame, 1, 5, 5, 10, 3, 3, 10);
    const auto x = random_floats(rng, static_cast<std::size_t>(p.geometry.input_size()), -1.0f, 1.0f);
    auto w = random_floats(rng, 90, -1.0f, 1.0f);
    for (float special : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      w[2] = special;  // tap (0, 0) of channel 2: outside the image for the top row
      std::vector<float> want(static_cast<std::size_t>(p.geometry.output_size()));
      ptq::reference::depthwise_conv2d(p, x.data(), w.data(), nullptr, want.data());
      CHECK_FALSE(std::isnan(want[2]));
      const auto dwc = ptq::prepare_float_depthwise_conv2d(p, w.data(), nullptr);
      CHECK(dwc.reference_only());
      std::vector<float> got(want.size() + 16, 1234.5f);
      ptq::float_depthwise_conv2d(dwc, x.data(), got.data(), isa);
      check_same(got, want, want.size(), "special weight");
    }
  });
}
