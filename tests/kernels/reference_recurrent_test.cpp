// reference/recurrent.hpp: the float RNN, LSTM and GRU sequence kernels on cases worked by hand and
// against a straightforward double evaluation (tests/support/recurrent_oracle.hpp) on random shapes,
// both layouts, both directions, with and without initial states, every activation and cell_clip;
// the hybrid kernels on a case whose per-row quantization and integer products are worked by hand
// (bit-exact), against the float kernel on the dequantized weights within the bound the oracle
// derives from the quantization steps, and on TFLite's all-zero shortcut.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/recurrent.hpp"
#include "support/isa_coverage.hpp"
#include "support/recurrent_oracle.hpp"

namespace {

using ptq::CellActivation;
using ptq::HybridInputQuantization;
using ptq::RecurrentCell;
using ptq_test::QuantizedWeights;
using ptq_test::RecurrentCase;
using ptq_test::quantize_weights;
using ptq_test::random_case;
using ptq_test::run_float;
using ptq_test::run_hybrid;
using ptq_test::same_bits;

const char* act_name(CellActivation a) {
  return a == CellActivation::kTanh ? "tanh" : (a == CellActivation::kRelu ? "relu" : "sigmoid");
}

// [B, T, X] <-> [T, B, X].
std::vector<float> swap_batch_time(const std::vector<float>& v, int64_t outer, int64_t inner, int64_t row) {
  std::vector<float> out(v.size());
  for (int64_t a = 0; a < outer; ++a) {
    for (int64_t b = 0; b < inner; ++b) {
      for (int64_t k = 0; k < row; ++k) {
        out[static_cast<std::size_t>((b * outer + a) * row + k)] = v[static_cast<std::size_t>((a * inner + b) * row + k)];
      }
    }
  }
  return out;
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("recurrent: float Rnn with H = I = 1, T = 2, worked by hand") {
  RecurrentCase c;
  c.cell = RecurrentCell::kRnn;
  c.T = 2;
  c.w[0] = {0.5f};
  c.r[0] = {-0.25f};
  c.b[0] = {0.25f};
  c.x = {1.0f, 2.0f};
  SUBCASE("relu, no initial state: exact in binary") {
    // t0: a = 0.25 + 0.5 * 1 + (-0.25) * 0    = 0.75   -> h = 0.75
    // t1: a = 0.25 + 0.5 * 2 + (-0.25) * 0.75 = 1.0625 -> h = 1.0625
    c.activation = CellActivation::kRelu;
    CHECK(run_float(c) == std::vector<float>{0.75f, 1.0625f});
  }
  SUBCASE("relu, h0 = 2") {
    // t0: a = 0.25 + 0.5 - 0.25 * 2     = 0.25; t1: a = 0.25 + 1 - 0.25 * 0.25 = 1.1875
    c.activation = CellActivation::kRelu;
    c.h0[0] = {2.0f};
    CHECK(run_float(c) == std::vector<float>{0.25f, 1.1875f});
  }
  SUBCASE("relu clamps a negative pre-activation to 0") {
    // h0 = 8: t0: a = 0.25 + 0.5 - 2 = -1.25 -> 0; t1: a = 0.25 + 1 - 0 = 1.25
    c.activation = CellActivation::kRelu;
    c.h0[0] = {8.0f};
    CHECK(run_float(c) == std::vector<float>{0.0f, 1.25f});
  }
  SUBCASE("tanh") {
    // t0: a = 0.75, h = tanh(0.75) = 0.6351489524
    // t1: a = 0.25 + 1 - 0.25 * 0.6351489524 = 1.0912127619, h = tanh(1.0912127619) = 0.7973203568
    c.activation = CellActivation::kTanh;
    const std::vector<float> y = run_float(c);
    CHECK(y[0] == doctest::Approx(0.6351489524).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(0.7973203568).epsilon(1e-6));
  }
  SUBCASE("sigmoid") {
    // t0: h = 1 / (1 + e^-0.75) = 0.6791786992; t1: a = 1.25 - 0.25 * 0.6791786992 = 1.0802053252,
    // h = 0.7465328373
    c.activation = CellActivation::kSigmoid;
    const std::vector<float> y = run_float(c);
    CHECK(y[0] == doctest::Approx(0.6791786992).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(0.7465328373).epsilon(1e-6));
  }
}

TEST_CASE("recurrent: float Lstm with H = I = 1, T = 2, worked by hand") {
  // Gates stacked i, f, g, o: w = [0.5, -0.5, 1, 0.25], r = [0.25, 0.5, -0.5, 1], b = [0, 0.5, 0, -0.25],
  // x = [1, -1], h0 = c0 = 0, tanh.
  // t0: pre = [0.5, 0, 1, 0]; i = sig(0.5) = 0.6224593312, f = 0.5, g = tanh(1) = 0.7615941560, o = 0.5
  //     c = 0.5 * 0 + 0.6224593312 * 0.7615941560 = 0.4740613890; h = 0.5 * tanh(c) = 0.2207374968
  // t1: pre = b + w * -1 + r * 0.2207374968 = [-0.4448156258, 1.1103687484, -1.1103687484, -0.2792625032]
  //     i = 0.3905941021, f = 0.7521978512, g = -0.8041926993, o = 0.4306345925
  //     c = 0.7521978512 * 0.4740613890 + 0.3905941021 * -0.8041926993 = 0.0424750328
  //     h = 0.4306345925 * tanh(0.0424750328) = 0.0182802265
  RecurrentCase c;
  c.cell = RecurrentCell::kLstm;
  c.T = 2;
  c.w[0] = {0.5f, -0.5f, 1.0f, 0.25f};
  c.r[0] = {0.25f, 0.5f, -0.5f, 1.0f};
  c.b[0] = {0.0f, 0.5f, 0.0f, -0.25f};
  c.x = {1.0f, -1.0f};
  SUBCASE("no clip") {
    const std::vector<float> y = run_float(c);
    CHECK(y[0] == doctest::Approx(0.2207374968).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(0.0182802265).epsilon(1e-5));
  }
  SUBCASE("cell_clip = 0.3") {
    // t0: c = 0.4740613890 clipped to 0.3; h = 0.5 * tanh(0.3) = 0.1456563062
    // t1: pre = b + w * -1 + r * 0.1456563062 = [-0.4635859234, 1.0728281531, -1.0728281531, -0.3543436938]
    //     c = sig(1.0728281531) * 0.3 + sig(-0.4635859234) * tanh(-1.0728281531) = -0.0817091936
    //     (inside the clip); h = sig(-0.3543436938) * tanh(c) = -0.0336163310
    c.cell_clip = 0.3f;
    const std::vector<float> y = run_float(c);
    CHECK(y[0] == doctest::Approx(0.1456563062).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(-0.0336163310).epsilon(1e-5));
  }
  SUBCASE("c0 and h0 given") {
    // h0 = 0.5, c0 = -1, relu as the cell activation.
    // t0: pre = b + w + r * 0.5 = [0.625, 0.25, 0.75, 0.5]; i = 0.6513548647, f = 0.5621765009,
    //     g = relu(0.75) = 0.75, o = 0.6224593312; c = 0.5621765009 * -1 + 0.6513548647 * 0.75 =
    //     -0.0736603524; h = o * relu(c) = 0
    // t1: pre = b - w + r * 0 = [-0.5, 1, -1, -0.5]; i = 0.3775406688, f = 0.7310585786, g = 0,
    //     o = 0.3775406688; c = 0.7310585786 * -0.0736603524 = -0.0538500325; h = 0
    // Both outputs 0 (relu of a negative cell); the cell state is what changes.
    c.activation = CellActivation::kRelu;
    c.h0[0] = {0.5f};
    c.c0[0] = {-1.0f};
    CHECK(run_float(c) == std::vector<float>{0.0f, 0.0f});
    // The same with c0 = +1: t0: c = 0.5621765009 + 0.4885161485 = 1.0506926494,
    //     h = 0.6224593312 * 1.0506926494 = 0.6540134438
    // t1: pre = b - w + r * 0.6540134438 = [-0.3364966390, 1.3270067219, -1.3270067219, 0.1540134438]
    //     i = 0.4166607355, f = 0.7903450805, g = relu(-1.327) = 0, o = 0.5384274323
    //     c = 0.7903450805 * 1.0506926494 = 0.8304097665; h = 0.5384274323 * 0.8304097665 = 0.4471153983
    c.c0[0] = {1.0f};
    const std::vector<float> y = run_float(c);
    CHECK(y[0] == doctest::Approx(0.6540134438).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(0.4471153983).epsilon(1e-6));
  }
}

TEST_CASE("recurrent: float Gru with H = I = 1, T = 2, worked by hand") {
  // Gates stacked z, r, n: w = [0.5, -1, 2], r = [1, 0.5, -1], b = [bwz, bwr, bwn, brz, brr, brn] =
  // [0, 0.25, 0, -0.5, 0.25, 0.5], x = [1, -1], h0 = 0.5.
  // t0: gx = b_w + w * 1 = [0.5, -0.75, 2]; gh = b_r + r * 0.5 = [0, 0.5, 0]
  //     z = sig(0.5) = 0.6224593312, r = sig(-0.25) = 0.4378234991, n = tanh(2 + r * 0) = 0.9640275801
  //     h = (1 - z) * n + z * 0.5 = 0.6751892829
  // t1: gx = [-0.5, 1.25, -2]; gh = b_r + r * 0.6751892829 = [0.1751892829, 0.5875946415, -0.1751892829]
  //     z = sig(-0.3248107171) = 0.4195037887, r = sig(1.8375946415) = 0.8626639815,
  //     n = tanh(-2 + 0.8626639815 * -0.1751892829) = -0.9732857704
  //     h = (1 - z) * n + z * 0.6751892829 = -0.2817442399
  RecurrentCase c;
  c.cell = RecurrentCell::kGru;
  c.T = 2;
  c.w[0] = {0.5f, -1.0f, 2.0f};
  c.r[0] = {1.0f, 0.5f, -1.0f};
  c.b[0] = {0.0f, 0.25f, 0.0f, -0.5f, 0.25f, 0.5f};
  c.h0[0] = {0.5f};
  c.x = {1.0f, -1.0f};
  const std::vector<float> y = run_float(c);
  CHECK(y[0] == doctest::Approx(0.6751892829).epsilon(1e-6));
  CHECK(y[1] == doctest::Approx(-0.2817442399).epsilon(1e-6));
}

TEST_CASE("recurrent: float kernels match the per-step oracle on random shapes, layouts and directions") {
  std::mt19937 rng(20240611);
  const int rounds = ptq_test::kSanitized ? 1 : 3;
  int checked = 0;
  for (RecurrentCell cell : {RecurrentCell::kRnn, RecurrentCell::kLstm, RecurrentCell::kGru}) {
    for (CellActivation act : {CellActivation::kTanh, CellActivation::kRelu, CellActivation::kSigmoid}) {
      if (cell == RecurrentCell::kGru && act != CellActivation::kTanh) continue;
      for (int layout = 0; layout < 8; ++layout) {
        for (int round = 0; round < rounds; ++round) {
          const bool time_major = (layout & 1) != 0, bidirectional = (layout & 2) != 0, states = (layout & 4) != 0;
          const RecurrentCase c = random_case(rng, cell, act, time_major, bidirectional, states);
          CAPTURE(ptq::recurrent_cell_name(cell));
          CAPTURE(act_name(act));
          CAPTURE(time_major);
          CAPTURE(bidirectional);
          CAPTURE(states);
          CAPTURE(c.B);
          CAPTURE(c.T);
          CAPTURE(c.I);
          CAPTURE(c.H);
          CAPTURE(c.cell_clip);
          const std::vector<float> y = run_float(c);
          const ptq_test::OracleResult want = ptq_test::recurrent_oracle(c);
          REQUIRE(y.size() == want.y.size());
          for (std::size_t i = 0; i < y.size(); ++i) {
            CAPTURE(i);
            CHECK(std::abs(y[i] - want.y[i]) <= 2e-5 * (1.0 + std::abs(want.y[i])));
          }
          ++checked;
        }
      }
    }
  }
  CHECK(checked == 7 * 8 * rounds);
}

TEST_CASE("recurrent: the backward direction is the forward op on time-reversed input") {
  std::mt19937 rng(7);
  for (RecurrentCell cell : {RecurrentCell::kRnn, RecurrentCell::kLstm, RecurrentCell::kGru}) {
    CAPTURE(ptq::recurrent_cell_name(cell));
    RecurrentCase bi = random_case(rng, cell, CellActivation::kTanh, false, true, true);
    const std::vector<float> y = run_float(bi);
    // Forward alone: direction 0's tensors.
    RecurrentCase fw = bi;
    fw.bidirectional = false;
    // Backward alone: direction 1's tensors on x reversed in time, its output reversed back.
    RecurrentCase bw = fw;
    bw.w[0] = bi.w[1];
    bw.r[0] = bi.r[1];
    bw.b[0] = bi.b[1];
    bw.h0[0] = bi.h0[1];
    bw.c0[0] = bi.c0[1];
    for (int64_t b = 0; b < bi.B; ++b) {
      for (int64_t t = 0; t < bi.T; ++t) {
        for (int64_t k = 0; k < bi.I; ++k) {
          bw.x[static_cast<std::size_t>((b * bi.T + t) * bi.I + k)] =
              bi.x[static_cast<std::size_t>((b * bi.T + (bi.T - 1 - t)) * bi.I + k)];
        }
      }
    }
    const std::vector<float> y_fw = run_float(fw), y_bw = run_float(bw);
    for (int64_t b = 0; b < bi.B; ++b) {
      for (int64_t t = 0; t < bi.T; ++t) {
        for (int64_t j = 0; j < bi.H; ++j) {
          const std::size_t at = static_cast<std::size_t>((b * bi.T + t) * 2 * bi.H);
          CHECK(y[at + static_cast<std::size_t>(j)] == y_fw[static_cast<std::size_t>((b * bi.T + t) * bi.H + j)]);
          CHECK(y[at + static_cast<std::size_t>(bi.H + j)] ==
                y_bw[static_cast<std::size_t>((b * bi.T + (bi.T - 1 - t)) * bi.H + j)]);
        }
      }
    }
  }
}

TEST_CASE("recurrent: time-major and batch-major layouts give the same outputs, float and hybrid") {
  std::mt19937 rng(99);
  for (RecurrentCell cell : {RecurrentCell::kRnn, RecurrentCell::kLstm, RecurrentCell::kGru}) {
    for (bool bidirectional : {false, true}) {
      CAPTURE(ptq::recurrent_cell_name(cell));
      CAPTURE(bidirectional);
      RecurrentCase bm = random_case(rng, cell, CellActivation::kTanh, false, bidirectional, true);
      RecurrentCase tm = bm;
      tm.time_major = true;
      tm.x = swap_batch_time(bm.x, bm.B, bm.T, bm.I);
      const int64_t y_row = bm.directions() * bm.H;
      // Rows are independent and quantized one by one, so only the order of the loops differs.
      CHECK(same_bits(swap_batch_time(run_float(tm), bm.T, bm.B, y_row), run_float(bm)));
      const QuantizedWeights q = quantize_weights(bm, true);
      for (HybridInputQuantization mode : {HybridInputQuantization::kSymmetric, HybridInputQuantization::kAsymmetric}) {
        CHECK(same_bits(swap_batch_time(run_hybrid(tm, q, mode), bm.T, bm.B, y_row), run_hybrid(bm, q, mode)));
      }
    }
  }
}

TEST_CASE("recurrent: hybrid Rnn quantizes x and h per row as worked by hand") {
  // B = 1, T = 2, I = 2, H = 1, relu. w = [[64, -127]] with scale 1/128, r = [[-10]] with scale 1/64,
  // b = 0.25, x = [[1, -0.5], [0.5, 0.2]], no h0 (so h is all zero at t0: the recurrent product is
  // skipped). Each gate: g = b; g += float(dot_x) * (s_x * 2^-7); g += float(dot_h) * (s_h * 2^-6).
  RecurrentCase c;
  c.cell = RecurrentCell::kRnn;
  c.activation = CellActivation::kRelu;
  c.T = 2;
  c.I = 2;
  c.b[0] = {0.25f};
  c.x = {1.0f, -0.5f, 0.5f, 0.2f};
  QuantizedWeights q;
  q.w[0] = {64, -127};
  q.r[0] = {-10};
  q.w_scales[0] = {0.0078125f};
  q.r_scales[0] = {0.015625f};
  const auto relu = [](float v) { return std::max(0.0f, v); };

  SUBCASE("asymmetric") {
    // t0, x = [1, -0.5]: rmin = -0.5, rmax = 1, s0 = float(1.5 / 255); zero point -128 + 0.5 / (1.5 / 255)
    //   = -43; q = round(-43 + x / s0) = [127, -128]. dot = 64 * 127 + -127 * -128 = 24384,
    //   row_sum = 64 - 127 = -63, dot - row_sum * zp = 24384 - 2709 = 21675.
    // t1, x = [0.5, 0.2]: rmin = 0, s1 = float(0.5 / 255), zero point -128; q = round(-128 + x * 510) =
    //   [127, -26]; dot = 8128 + 3302 = 11430; 11430 - (-63) * (-128) = 3366.
    //   h = [h0]: rmin = 0, s_h = float(h0 / 255), zero point -128, q = [127]; dot = -1270,
    //   row_sum = -10: -1270 - (-10) * (-128) = -2550.
    int8_t qx[2];
    const ptq::RowQuantization r0 = ptq::reference::quantize_row_asymmetric(c.x.data(), 2, qx);
    CHECK(r0.zero_point == -43);
    CHECK(qx[0] == 127);
    CHECK(qx[1] == -128);
    const ptq::RowQuantization r1 = ptq::reference::quantize_row_asymmetric(c.x.data() + 2, 2, qx);
    CHECK(r1.zero_point == -128);
    CHECK(qx[0] == 127);
    CHECK(qx[1] == -26);

    const float s0 = static_cast<float>(1.5 / 255.0);
    float g0 = 0.25f;
    g0 += static_cast<float>(21675) * (s0 * 0.0078125f);
    const float h0 = relu(g0);
    const float s1 = static_cast<float>(0.5 / 255.0);
    const float sh = static_cast<float>(static_cast<double>(h0) / 255.0);
    float g1 = 0.25f;
    g1 += static_cast<float>(3366) * (s1 * 0.0078125f);
    g1 += static_cast<float>(-2550) * (sh * 0.015625f);
    const std::vector<float> y = run_hybrid(c, q, HybridInputQuantization::kAsymmetric);
    CHECK(y[0] > 1.0f);  // 0.25 + 21675 * 1.5 / 255 / 128 = 1.2461
    CHECK(y[1] > 0.0f);  // 0.25 + 0.0516 - 0.1947 = 0.1069: neither relu bound is hit
    CHECK(same_bits(y, {h0, relu(g1)}));
  }
  SUBCASE("symmetric") {
    // t0, x = [1, -0.5]: range 1, s0 = 1 / 127.0f, q = round(127 * x) = [127, round(-63.5) = -64]
    //   (ties away from zero); dot = 8128 + 8128 = 16256.
    // t1, x = [0.5, 0.2]: range 0.5, s1 = 0.5f / 127.0f, q = round(254 * x) = [127, round(50.8) = 51];
    //   dot = 8128 - 6477 = 1651. h = [h0]: s_h = h0 / 127.0f, q = [127], dot = -1270.
    int8_t qx[2];
    ptq::reference::quantize_row_symmetric(c.x.data(), 2, qx);
    CHECK(qx[1] == -64);
    ptq::reference::quantize_row_symmetric(c.x.data() + 2, 2, qx);
    CHECK(qx[1] == 51);

    float g0 = 0.25f;
    g0 += static_cast<float>(16256) * ((1.0f / 127.0f) * 0.0078125f);
    const float h0 = relu(g0);
    float g1 = 0.25f;
    g1 += static_cast<float>(1651) * ((0.5f / 127.0f) * 0.0078125f);
    g1 += static_cast<float>(-1270) * ((h0 / 127.0f) * 0.015625f);
    const std::vector<float> y = run_hybrid(c, q, HybridInputQuantization::kSymmetric);
    CHECK(y[1] > 0.0f);
    CHECK(same_bits(y, {h0, relu(g1)}));
  }
}

TEST_CASE("recurrent: hybrid kernels stay within the quantization bound of the float op on dequantized weights") {
  std::mt19937 rng(31337);
  const int rounds = ptq_test::kSanitized ? 1 : 2;
  double largest_bound = 0.0, largest_diff = 0.0;
  for (RecurrentCell cell : {RecurrentCell::kRnn, RecurrentCell::kLstm, RecurrentCell::kGru}) {
    for (CellActivation act : {CellActivation::kTanh, CellActivation::kRelu, CellActivation::kSigmoid}) {
      if (cell == RecurrentCell::kGru && act != CellActivation::kTanh) continue;
      for (int layout = 0; layout < 16; ++layout) {
        for (int round = 0; round < rounds; ++round) {
          const bool time_major = (layout & 1) != 0, bidirectional = (layout & 2) != 0, states = (layout & 4) != 0;
          const bool per_row = (layout & 8) != 0;
          RecurrentCase c = random_case(rng, cell, act, time_major, bidirectional, states);
          const QuantizedWeights q = quantize_weights(c, per_row);
          const std::vector<float> y_float = run_float(c);
          for (HybridInputQuantization mode :
               {HybridInputQuantization::kSymmetric, HybridInputQuantization::kAsymmetric}) {
            CAPTURE(ptq::recurrent_cell_name(cell));
            CAPTURE(act_name(act));
            CAPTURE(layout);
            CAPTURE(static_cast<int>(mode));
            const bool asymmetric = mode == HybridInputQuantization::kAsymmetric;
            const ptq_test::OracleResult want = ptq_test::recurrent_oracle(c, &asymmetric);
            const std::vector<float> y = run_hybrid(c, q, mode);
            for (std::size_t i = 0; i < y.size(); ++i) {
              CAPTURE(i);
              const double diff = std::abs(static_cast<double>(y[i]) - y_float[i]);
              CHECK(diff <= want.bound[i] + 1e-5);
              largest_bound = std::max(largest_bound, want.bound[i]);
              largest_diff = std::max(largest_diff, diff);
            }
          }
        }
      }
    }
  }
  // Not vacuous: quantization did move the outputs, and the bound is far below the outputs' scale.
  CHECK(largest_diff > 1e-4);
  CHECK(largest_bound < 0.5);
  MESSAGE("largest |hybrid - float| = " << largest_diff << ", largest bound = " << largest_bound);
}

TEST_CASE("recurrent: hybrid skips the products of all-zero rows, as TFLite") {
  // x all zero and no h0: at t0 both products are skipped, so the output is tanh(bias) exactly; a
  // bias of -0.0 shows it (a product that ran would add 0.0f * s and turn -0.0f into +0.0f).
  RecurrentCase c;
  c.cell = RecurrentCell::kRnn;
  c.activation = CellActivation::kTanh;
  c.B = 2;
  c.T = 3;
  c.I = 3;
  c.H = 2;
  c.x.assign(18, 0.0f);
  c.b[0] = {-0.0f, 0.5f};
  QuantizedWeights q;
  q.w[0] = {1, 2, 3, -4, -5, 6};
  q.r[0] = {7, -8, 9, 10};
  q.w_scales[0] = {0.5f};
  q.r_scales[0] = {0.25f};
  for (bool time_major : {false, true}) {
    c.time_major = time_major;
    // t0: g = [-0, 0.5] -> h = [tanh(-0) = -0, tanh(0.5)]; later steps see h != 0 and differ.
    const std::vector<float> y = run_hybrid(c, q, HybridInputQuantization::kAsymmetric);
    CHECK(std::signbit(y[0]));
    CHECK(y[0] == 0.0f);
    CHECK(y[1] == std::tanh(0.5f));
  }
}

TEST_CASE("recurrent: params validation names the culprit") {
  ptq::RecurrentParams p;
  p.cell = RecurrentCell::kLstm;
  p.hidden_size = 2;
  p.input_size = 3;
  CHECK(p.validate().ok());
  p.time_steps = -1;
  CHECK(p.validate().message().find("time_steps") != std::string::npos);
  p.time_steps = 1;
  p.cell_clip = -1.0f;
  CHECK(p.validate().message().find("cell_clip") != std::string::npos);
  p.cell_clip = 0.0f;
  p.weight_scales[0].input = {1.0f, 2.0f};  // neither 1 nor 4 * H = 8
  p.weight_scales[0].recurrent = {1.0f};
  const ptq::Status s = p.validate_hybrid();
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("forward input weights") != std::string::npos);
  p.weight_scales[0].input = std::vector<float>(8, 0.5f);
  CHECK(p.validate_hybrid().ok());
  p.weight_scales[0].recurrent = {0.0f};
  CHECK(p.validate_hybrid().message().find("forward recurrent weights") != std::string::npos);
  // Scratch grows with what each cell keeps: the LSTM's cell state, the GRU's second gate block,
  // the hybrid's quantized rows.
  p.weight_scales[0].recurrent = {0.5f};
  CHECK(ptq::reference::recurrent_hybrid_scratch_bytes(p) > ptq::reference::recurrent_scratch_bytes(p));
}

}  // TEST_SUITE
