// tflite_int8_lstm_test.cpp: TFLite's full-integer (8x8->16) UNIDIRECTIONAL_SEQUENCE_LSTM in ptq --
// the int16 gemmlowp arithmetic (core/fixed_point_int16.hpp) on hand-worked values and against the
// real functions, the lstm_int8_fio fixture through the reader and interpreter against LiteRT's
// reference output (zero differences), the .tflite and ptq-format round trips, and the refusals of
// malformed quantization (validator, prepare) and of the LSTM variants ptq does not map.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "io/tflite_test_util.hpp"
#include "ptq/core/fixed_point_int16.hpp"
#include "ptq/io/tflite.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/ir/validate.hpp"
#include "ptq/kernels/reference/integer_lstm.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

namespace fp16 = ptq::fixed_point16;
const std::string kLstmDir = PTQ_TFLITE_FIXTURES_DIR;
const std::string kStem = kLstmDir + "/lstm_int8_fio";

// Runs `g` on the fixture's input; the float output, or an empty vector with `error` set.
std::vector<float> run_lstm_fixture(ptq::ir::Graph g, std::string* error) {
  ptq::Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(std::move(g));
  if (!net.ok()) return *error = net.status().to_string(), std::vector<float>{};
  const tflite_test::Npy x = tflite_test::read_npy(kStem + ".in0.npy");
  const ptq::runtime::TensorView in = net->input(0);
  if (!x.ok || x.data.size() != in.bytes) return *error = "input size", std::vector<float>{};
  std::memcpy(in.data, x.data.data(), in.bytes);
  net->run();
  const ptq::runtime::TensorView out = net->output(0);
  std::vector<float> y(out.bytes / sizeof(float));
  std::memcpy(y.data(), out.data, out.bytes);
  return y;
}

// Elements of `y` whose bits differ from LiteRT's reference output.
int64_t differing_from_reference(const std::vector<float>& y) {
  const tflite_test::Npy want = tflite_test::read_npy(kStem + ".ref.out0.npy");
  REQUIRE(want.ok);
  REQUIRE(want.data.size() == y.size() * sizeof(float));
  int64_t differing = 0;
  for (std::size_t i = 0; i < y.size(); ++i) differing += std::memcmp(&y[i], want.data.data() + 4 * i, 4) != 0;
  return differing;
}

ptq::ir::Op& the_lstm(ptq::ir::Graph& g) {
  for (ptq::ir::Op& op : g.ops) {
    if (op.kind == ptq::ir::OpKind::kLstm) return op;
  }
  FAIL("no Lstm op");
  return g.ops[0];
}

}  // namespace

TEST_CASE("int16 fixed point: gemmlowp's primitives on hand-worked values") {
  // SaturatingRoundingDoublingHighMul<int16>: (a*b + 2^14) / 2^15 truncated (a*b >= 0).
  CHECK(fp16::mul(16384, 16384) == 8192);  // 0.5 * 0.5: (2^28 + 2^14) / 2^15 = 8192.5 -> 8192
  CHECK(fp16::mul(512, -4096) == -64);     // (-2097152 + 1 - 16384) / 32768 = -64.49 -> -64
  CHECK(fp16::mul(-32768, -32768) == 32767);  // (-1) * (-1) saturates
  // The constants: gemmlowp's int32 literals, RoundingDivideByPOT(c, 16).
  CHECK(fp16::constant(1895147668) == 28918);  // exp(-1/8) * 2^15 = 28917.7
  CHECK(fp16::constant(715827883) == 10923);   // 1/3
  CHECK(fp16::constant(-1010580540) == -15420);  // -32/17 in Q2.13
  CHECK(fp16::constant(242) == 0);             // exp(-16) vanishes at 16 bits
  // Wrap-around of +, - and unary - (gemmlowp narrows int results to int16).
  CHECK(fp16::neg(-32768) == -32768);
  CHECK(fp16::add(32767, 1) == -32768);
  CHECK(fp16::saturating_add(32767, 1) == 32767);
  // Rescale<0> of a Q3.12 raw: x 2^3, saturating beyond +-4095.
  CHECK(fp16::rescale<0, 3>(-1024) == -8192);
  CHECK(fp16::rescale<0, 3>(4096) == 32767);
  CHECK(fp16::rescale<2, 4>(226) == 904);
}

TEST_CASE("int16 fixed point: exp, logistic and tanh on hand-worked values") {
  // exp on [-1/4, 0) at a = -1/4 = -8192: x = a + 1/8 = -4096; x2 = mul(-4096, -4096) = 512 (512.5 truncated);
  // x3 = mul(512, -4096) = -64; x4 = mul(512, 512) = 8 (8.5); x4/4 = 2; (2 - 64) * 1/3 = mul(-62, 10923) = -21;
  // -21 + 512 = 491; 491 / 2 = 246 (245.5 away from zero); x + 246 = -3850; mul(28918, -3850) = -3398;
  // 28918 - 3398 = 25520 = exp(-1/4) * 2^15 (25520.1).
  CHECK(fp16::exp_on_interval_between_negative_one_quarter_and_0_excl(-8192) == 25520);
  CHECK(fp16::exp_on_interval_between_negative_one_quarter_and_0_excl(-4096) == 28918);  // x = 0: exp(-1/8)
  // logistic<3>(-8.0 = -32768): |a| wraps to -32768, so exp_on_negative_values<3>(-32768): a mod 1/4 - 1/4 =
  // -1024 (Q3.12), rescaled to Q0.15 -8192 -> 25520 (above); remainder 31744 = bits 10..14 = 1/4 + 1/2 + 1 + 2
  // + 4: 25520 * 25520 -> 19875, * 19875 -> 12055, * 12055 -> 4435, * 4435 -> 600, * 600 -> 11 (each
  // (a*b + 2^14) >> 15). 1/(1 + 11/2^15): d = (11 + 32767 + 1) / 2 = 16389; x0 = 23130 + mul(16389, -15420)
  // = 23130 - 7712 = 15418; Newton steps: 1 - d*x = 8192 - 7711 = 481, x += 4 * mul(15418, 481) = 4 * 226
  // -> 16322; 8192 - 8163 = 29, x += 4 * 14 -> 16378; 8192 - 8191 = 1, mul(16378, 1) = 0 -> 16378;
  // Q2 -> Q0: 2 * 16378 = 32756. Negative input: 32767 - 32756 = 11 (sigmoid(-8) * 2^15 = 10.99).
  CHECK(fp16::exp_on_negative_values<3>(-32768) == 11);
  CHECK(fp16::one_over_one_plus_x_for_x_in_0_1(11) == 32756);
  CHECK(fp16::logistic<3>(-32768) == 11);
  CHECK(fp16::logistic<3>(0) == 16384);  // one half
  CHECK(fp16::tanh<3>(0) == 0);
  CHECK(fp16::exp_on_negative_values<3>(0) == 32767);  // One()
  CHECK(fp16::tanh_with_integer_bits(7, 100) == 0);     // outside TFLite's 0..6 dispatch
}

TEST_CASE("int16 fixed point: logistic and tanh stay within a few 2^-15 of the real functions") {
  // An independent formulation (libm in double): every int16 input of the Q3.12 gates and of the
  // cell's Q2.13 tanh, within gemmlowp's int16 accuracy (measured: 6 units for logistic<3>, 12 for
  // tanh; bit for bit the same as gemmlowp's own fixedpoint.h on all 65536 inputs, checked out of
  // tree while writing core/fixed_point_int16.hpp).
  int worst_logistic = 0, worst_tanh3 = 0, worst_tanh2 = 0;
  for (int32_t v = -32768; v <= 32767; ++v) {
    const auto a = static_cast<int16_t>(v);
    const double x3 = v / 4096.0, x2 = v / 8192.0;
    const auto ulp = [](int16_t got, double want) { return static_cast<int>(std::lround(std::fabs(got - want * 32768.0))); };
    worst_logistic = std::max(worst_logistic, ulp(fp16::logistic<3>(a), 1.0 / (1.0 + std::exp(-x3))));
    worst_tanh3 = std::max(worst_tanh3, ulp(fp16::tanh<3>(a), std::tanh(x3)));
    worst_tanh2 = std::max(worst_tanh2, ulp(fp16::tanh<2>(a), std::tanh(x2)));
  }
  MESSAGE("max |error| in units of 2^-15: logistic<3> " << worst_logistic << ", tanh<3> " << worst_tanh3
                                                          << ", tanh<2> " << worst_tanh2);
  CHECK(worst_logistic <= 8);
  CHECK(worst_tanh3 <= 16);
  CHECK(worst_tanh2 <= 16);
}

TEST_CASE("integer lstm: lstm_int8_fio runs with zero differences from LiteRT's reference kernels") {
  ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kStem + ".tflite");
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  const ptq::ir::Op& op = the_lstm(*g);
  CHECK(g->tensor(op.inputs[0]).dtype == ptq::DType::kInt8);
  // The converter's facts (tensors 16, 17 and intermediate 22 of the file): output state and hidden
  // 0.00755374 / -2, cell state 2^-13.
  CHECK(op.attrs.lstm_cell_scale == std::ldexp(1.0f, -13));
  CHECK(op.attrs.lstm_state_zero_point == -2);
  CHECK(op.attrs.lstm_hidden_zero_point == -2);
  CHECK(op.attrs.lstm_hidden_scale == doctest::Approx(0.00755374).epsilon(1e-6));
  CHECK(op.attrs.cell_clip == 10.0f);
  std::string error;
  const std::vector<float> y = run_lstm_fixture(*g, &error);
  REQUIRE_MESSAGE(!y.empty(), error);
  CHECK(y.size() == 2 * 4 * 3);
  CHECK(differing_from_reference(y) == 0);
  int nonzero = 0;
  for (float v : y) nonzero += v != 0.0f;
  CHECK(nonzero > 12);  // not vacuous
}

TEST_CASE("integer lstm: .tflite read -> write -> read is the same graph and runs to the same bits") {
  ptq::Result<ptq::ir::Graph> g1 = ptq::io::read_tflite(kStem + ".tflite");
  REQUIRE(g1.ok());
  ptq::Result<std::vector<uint8_t>> bytes = ptq::io::serialize_tflite(*g1);
  REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
  ptq::Result<ptq::ir::Graph> g2 = ptq::io::parse_tflite(bytes->data(), bytes->size());
  REQUIRE_MESSAGE(g2.ok(), g2.status().to_string());
  std::string why;
  CHECK_MESSAGE(tflite_test::same_graph(*g1, *g2, &why), why);
  CHECK(the_lstm(*g1).attrs == the_lstm(*g2).attrs);
  ptq::Result<std::vector<uint8_t>> again = ptq::io::serialize_tflite(*g2);
  REQUIRE(again.ok());
  CHECK(*again == *bytes);
  std::string error;
  const std::vector<float> y = run_lstm_fixture(std::move(*g2), &error);
  REQUIRE_MESSAGE(!y.empty(), error);
  CHECK(differing_from_reference(y) == 0);
}

TEST_CASE("integer lstm: ptq's own format keeps the lstm_* attributes (format 1.2)") {
  ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kStem + ".tflite");
  REQUIRE(g.ok());
  CHECK(ptq::ir::format::kMinorVersion == 2);
  ptq::Result<std::vector<uint8_t>> bytes = ptq::ir::serialize(*g);
  REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
  ptq::Result<ptq::ir::Graph> back = ptq::ir::parse_model(bytes->data(), bytes->size());
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(the_lstm(*back).attrs == the_lstm(*g).attrs);
  std::string error;
  const std::vector<float> y = run_lstm_fixture(std::move(*back), &error);
  REQUIRE_MESSAGE(!y.empty(), error);
  CHECK(differing_from_reference(y) == 0);
}

TEST_CASE("integer lstm: malformed quantization is refused, naming the attribute or tensor") {
  ptq::Result<ptq::ir::Graph> base = ptq::io::read_tflite(kStem + ".tflite");
  REQUIRE(base.ok());
  const auto problems_of = [](const ptq::ir::Graph& g) { return ptq::ir::validate(g).message(); };
  const auto prepare_error = [](ptq::ir::Graph g) {
    ptq::Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(std::move(g));
    return net.ok() ? std::string() : net.status().to_string();
  };
  SUBCASE("a cell scale that is not a power of two") {
    ptq::ir::Graph g = *base;
    the_lstm(g).attrs.lstm_cell_scale = 0.0001f;
    CHECK(problems_of(g).find("lstm_cell_scale = 0.000100 is not a power of two in [2^-15, 2^-9]") != std::string::npos);
    CHECK(prepare_error(g).find("is not a power of two") != std::string::npos);
  }
  SUBCASE("a cell scale outside [2^-15, 2^-9]") {
    ptq::ir::Graph g = *base;
    the_lstm(g).attrs.lstm_cell_scale = std::ldexp(1.0f, -8);
    CHECK(problems_of(g).find("lstm_cell_scale") != std::string::npos);
    CHECK(prepare_error(g).find("lstm_cell_scale = 0.003906 is not a power of two in [2^-15, 2^-9]") !=
          std::string::npos);  // the interpreter validates first
  }
  SUBCASE("missing hidden and state scales (a float Lstm's defaults on an int8 one)") {
    ptq::ir::Graph g = *base;
    the_lstm(g).attrs.lstm_hidden_scale = 0.0f;
    the_lstm(g).attrs.lstm_state_zero_point = 300;
    const std::string p = problems_of(g);
    CHECK(p.find("(Lstm): integer Lstm attribute lstm_hidden_scale = 0.000000 is not a finite positive scale") !=
          std::string::npos);
    CHECK(p.find("lstm_state_zero_point = 300 is outside int8's range") != std::string::npos);
    CHECK(prepare_error(g).find("lstm_hidden_scale = 0.000000") != std::string::npos);
  }
  SUBCASE("weights with two scales inside one gate") {
    ptq::ir::Graph g = *base;
    ptq::ir::Tensor& w = g.tensor(the_lstm(g).inputs[1]);
    w.quant.scales[5] *= 2.0f;
    CHECK(prepare_error(g).find("differs from its gate's first row's") != std::string::npos);
  }
  SUBCASE("asymmetric weights") {
    ptq::ir::Graph g = *base;
    g.tensor(the_lstm(g).inputs[2]).quant.zero_points[0] = 3;
    CHECK(prepare_error(g).find("has zero point 3 at row 0; integer Lstm weights are symmetric") != std::string::npos);
  }
  SUBCASE("an initial state, a bidirectional or a relu integer Lstm") {
    ptq::ir::Graph g = *base;
    the_lstm(g).attrs.recurrent_activation = ptq::ir::RecurrentActivation::kRelu;
    CHECK(prepare_error(g).find("the integer Lstm's cell activation is tanh") != std::string::npos);
    g = *base;
    the_lstm(g).attrs.bidirectional = true;
    CHECK(!prepare_error(g).empty());
  }
  SUBCASE("the kernel's own checks") {
    ptq::IntegerLstmParams p;
    p.hidden_size = 1;
    p.input_size = 1;
    ptq::IntegerLstmScales s;
    const int8_t w[4] = {1, 1, 1, 1};
    const int32_t b[4] = {};
    const ptq::Status st = ptq::reference::integer_lstm_prepare(s, w, w, b, &p, "op 1 'lstm' (Lstm)");
    CHECK(st.message() == "op 1 'lstm' (Lstm): the input scale = 0.000000 is not a finite positive number");
    s.input_scale = s.state_scale = 0.01f;
    for (int k = 0; k < 4; ++k) s.input_weight_scales[k] = s.recurrent_weight_scales[k] = 0.01f;
    CHECK(ptq::reference::integer_lstm_prepare(s, w, w, b, &p, "lstm").message() ==
          "lstm: the hidden scale = 0.000000 is not a finite positive number");
    s.hidden_scale = 0.01f;
    s.cell_scale = std::ldexp(1.0f, -8);
    CHECK(ptq::reference::integer_lstm_prepare(s, w, w, b, &p, "lstm").message() ==
          "lstm: the cell state scale 2^-8 is outside [2^-15, 2^-9] (its tanh takes 0 to 6 integer bits)");
    s.cell_scale = 0.0003f;
    CHECK(ptq::reference::integer_lstm_prepare(s, w, w, b, &p, "lstm").message().find("is not a power of two") !=
          std::string::npos);
    s.cell_scale = std::ldexp(1.0f, -12);
    CHECK(ptq::reference::integer_lstm_prepare(s, w, w, b, &p, "lstm").ok());
  }
}

TEST_CASE("integer lstm: the zero points fold into the biases (TFLite's precomputed row sums)") {
  // w = [[1, 2], [3, -4], [0, 0], [5, 5]] (4 gates, H = 1, I = 2), r = [[1], [-1], [2], [0]], b = [10, 20, 30, 40],
  // x_zp = 3, h_zp = -2: input_bias = b - 3 * row sums = [10 - 9, 20 + 3, 30 - 0, 40 - 30] = [1, 23, 30, 10];
  // recurrent_bias = 2 * row sums of r = [2, -2, 4, 0].
  const int8_t w[8] = {1, 2, 3, -4, 0, 0, 5, 5};
  const int8_t r[4] = {1, -1, 2, 0};
  const int32_t b[4] = {10, 20, 30, 40};
  ptq::IntegerLstmScales s;
  s.input_scale = 0.01f;
  s.input_zero_point = 3;
  for (int k = 0; k < 4; ++k) s.input_weight_scales[k] = s.recurrent_weight_scales[k] = 0.005f;
  s.state_scale = s.hidden_scale = 1.0f / 128.0f;
  s.state_zero_point = s.hidden_zero_point = -2;
  s.cell_scale = std::ldexp(1.0f, -11);
  s.cell_clip = 1.5f;
  ptq::IntegerLstmParams p;
  p.hidden_size = 1;
  p.input_size = 2;
  REQUIRE(ptq::reference::integer_lstm_prepare(s, w, r, b, &p, "lstm").ok());
  CHECK(p.input_bias == std::vector<int32_t>{1, 23, 30, 10});
  CHECK(p.recurrent_bias == std::vector<int32_t>{2, -2, 4, 0});
  CHECK(p.cell_shift == -11);
  CHECK(p.cell_clip == 3072);  // 1.5 / 2^-11
  // Effective scales: 0.005 * 0.01 / 2^-12 = 0.2048 -> 0.8192 * 2^-2; hidden 2^-30 / 2^-7 = 2^-23 -> 0.5 * 2^-22.
  CHECK(p.input_multiplier[0].shift == -2);
  CHECK(p.hidden_multiplier.multiplier == (1 << 30));
  CHECK(p.hidden_multiplier.shift == -22);
}

namespace {

// The fixture's bytes with one int32 of the LSTM operator's inputs (slot `slot`) or of its
// intermediates vector (slot -1: the vector's length; k >= 0 via `intermediate`) replaced. The
// vectors are found by their contents (24 inputs 15, 14, ..., 17, -1 x 4; 5 intermediates 18..22).
std::vector<uint8_t> patched(int input_slot, int32_t value, int intermediate_slot = -2, int32_t inter_value = 0) {
  std::vector<uint8_t> bytes = tflite_test::read_bytes(kStem + ".tflite");
  const auto find = [&](const std::vector<int32_t>& words) {
    std::vector<uint8_t> pattern(words.size() * 4);
    std::memcpy(pattern.data(), words.data(), pattern.size());  // little-endian host (x86, AArch64)
    const auto it = std::search(bytes.begin(), bytes.end(), pattern.begin(), pattern.end());
    REQUIRE(it != bytes.end());
    return static_cast<std::size_t>(it - bytes.begin());
  };
  const auto put = [&](std::size_t at, int32_t v) { std::memcpy(bytes.data() + at, &v, 4); };
  if (input_slot >= 0) {
    const std::size_t at = find({24, 15, 14, 13, 12, 11, 10, 9, 8, 7, -1, -1, -1, 6, 5, 4, 3, -1, -1, 16, 17, -1, -1, -1, -1});
    put(at + 4 * static_cast<std::size_t>(1 + input_slot), value);
  }
  if (intermediate_slot >= -1) {
    const std::size_t at = find({5, 18, 19, 20, 21, 22});
    put(at + 4 * static_cast<std::size_t>(1 + intermediate_slot), inter_value);
  }
  return bytes;
}

std::string read_error(const std::vector<uint8_t>& bytes) {
  ptq::Result<ptq::ir::Graph> g = ptq::io::parse_tflite(bytes.data(), bytes.size());
  return g.ok() ? std::string() : g.status().to_string();
}

}  // namespace

TEST_CASE("integer lstm: the reader refuses the LSTM variants ptq does not map, each with its own message") {
  REQUIRE(read_error(patched(-1, 0)).empty());  // the unpatched bytes read
  CHECK(read_error(patched(1, -1)).find("input 1 is absent (CIFG LSTM is not supported)") != std::string::npos);
  CHECK(read_error(patched(9, 7)).find("input 9 is present: a peephole LSTM (cell-to-gate weights) is not supported") !=
        std::string::npos);
  CHECK(read_error(patched(16, 7)).find("input 16 is present: a projection LSTM") != std::string::npos);
  CHECK(read_error(patched(21, 7)).find("input 21 is present: a layer-norm LSTM") != std::string::npos);
  // Intermediates: 4 instead of 5 (the length prefix), a float hidden intermediate, an absent one.
  CHECK(read_error(patched(-1, 0, -1, 4)).find("an integer LSTM with 4 intermediates; ptq maps TFLite's 8x8->16 "
                                               "kernel, which takes 5") != std::string::npos);
  CHECK(read_error(patched(-1, 0, 4, 18)).find("the integer LSTM's hidden intermediate (intermediate 4) tensor 18 "
                                               "'input_to_input_intermediate' is not int8 with per-tensor quantization") !=
        std::string::npos);
  CHECK(read_error(patched(-1, 0, 4, -1)).find("hidden intermediate (intermediate 4) is absent") != std::string::npos);
  // The cell state (input 19) must be the int16 variable; the output state tensor is int8.
  CHECK(read_error(patched(19, 16)).find("cell state (input 19) tensor 16 'tfl.pseudo_qconst' is not int16") !=
        std::string::npos);
  // Every refusal says where: "at byte N:".
  CHECK(read_error(patched(9, 7)).find("at byte ") != std::string::npos);
}

TEST_CASE("integer lstm: time major gives the batch-major fixture's bits, transposed") {
  // Every integer operation is per batch row, so running the fixture's graph with T and B swapped
  // (time_major, every [2, 4, k] tensor made [4, 2, k], the input transposed) must reproduce LiteRT's
  // reference output transposed.
  ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kStem + ".tflite");
  REQUIRE(g.ok());
  for (ptq::ir::Tensor& t : g->tensors) {
    if (t.shape.rank() == 3 && t.shape[0] == 2 && t.shape[1] == 4) t.shape = ptq::Shape{4, 2, t.shape[2]};
  }
  the_lstm(*g).attrs.time_major = true;
  ptq::Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(std::move(*g));
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  const tflite_test::Npy x = tflite_test::read_npy(kStem + ".in0.npy");
  const tflite_test::Npy want = tflite_test::read_npy(kStem + ".ref.out0.npy");
  REQUIRE((x.ok && want.ok));
  const int64_t B = 2, T = 4, I = 32, O = 3;
  const ptq::runtime::TensorView in = net->input(0);
  REQUIRE(in.bytes == x.data.size());
  auto* xt = static_cast<float*>(in.data);
  const auto* xb = reinterpret_cast<const float*>(x.data.data());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < I; ++i) xt[(t * B + b) * I + i] = xb[(b * T + t) * I + i];
  net->run();
  const ptq::runtime::TensorView out = net->output(0);
  REQUIRE(out.bytes == want.data.size());
  const auto* yt = static_cast<const float*>(out.data);
  const auto* yb = reinterpret_cast<const float*>(want.data.data());
  int differing = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < O; ++o) differing += std::memcmp(&yt[(t * B + b) * O + o], &yb[(b * T + t) * O + o], 4) != 0;
  CHECK(differing == 0);
}

TEST_CASE("integer lstm: one step worked by hand through the interpreter") {
  // H = I = B = T = 1. Scales chosen so that every gate's effective multiplier is exactly 1:
  // x 2^-7, w and r 2^-5 per gate, output state 2^-7 -> 2^-5 * 2^-7 / 2^-12 = 1 (QuantizeMultiplier:
  // 2^30, shift 1; MBQM(v) = v). Hidden 2^-7 -> 2^-30 / 2^-7 = 2^-23 (2^30, shift -22). Cell 2^-11.
  // Zero points 0, so h0 = 0 and no row sums fold; c0 = 0.
  //   x = 127; w = [1, 0, -128, 2] (i, f, g, o); b = [-127, 5, -16512, -254]; r = [1, 2, 3, 4] (times h0 = 0)
  //   i: -127 + 127 * 1 = 0         -> logistic<3>(0) = 16384 (1/2)
  //   f: 5                           -> unused: f * c0 = 0
  //   g: -16512 + 127 * -128 = -32768 -> tanh<3>(-8): exp_on_negative_values<4>(-32768) = 0 (the barrel
  //      shifter takes 25520 through exp(-1/4 .. -8) down to 11 * 11 -> 0), (1 - 0) / (1 + 0): Newton
  //      x = 15420 -> 16328 -> 16384 -> 16384, Q2 -> Q0 of 16384 - 8192 saturates: 32767; negated: -32767
  //   o: -254 + 127 * 2 = 0          -> 16384
  //   c = RDBPOT(16384 * 0, 15) + RDBPOT(16384 * -32767, 30 - 11 = 19) = round(-1023.97) = -1024 (-0.5 in Q4.11)
  //   tanh<4>(-1024): exp_on_negative_values<5>(-1024 = -1.0): -1024 mod 1/4 - 1/4 = -256 -> Q0: -8192 -> 25520;
  //      remainder 768 = bits 8, 9 (1/4, 1/2): 25520 -> 19875 -> 12055 (exp(-1)). (1 - e) / (1 + e):
  //      d = (12055 + 32767 + 1) / 2 = 22411; x0 = 23130 - 10546 = 12584; 8192 - 8607 = -415 -> x += 4 * -159
  //      = 11948; 8192 - 8172 = 20 -> x += 4 * 7 = 11976; 8192 - 8191 = 1 -> + 0; 4 * (11976 - 8192) = 15136
  //      (tanh(0.5) * 2^15 = 15143.6); negative input: -15136
  //   h = MBQM(16384 * -15136 = -247988224, 2^-23) = round(-29.5625) = -30; y = -30 (real -0.234;
  //      float: 0.5 * tanh(-0.5) = -0.231).
  namespace ir = ptq::ir;
  ir::Graph g;
  g.name = "one step";
  const auto q = [](float s) { return ir::Quantization::per_tensor(s, 0); };
  const auto constant = [&](const char* name, ptq::DType t, ptq::Shape shape, const void* data, std::size_t bytes,
                            ir::Quantization quant) {
    ir::Tensor x;
    x.name = name;
    x.dtype = t;
    x.shape = std::move(shape);
    x.quant = std::move(quant);
    x.data = ir::Buffer::copy_of(data, bytes);
    return g.add_tensor(std::move(x));
  };
  ir::Tensor xt;
  xt.name = "x";
  xt.dtype = ptq::DType::kInt8;
  xt.shape = ptq::Shape{1, 1, 1};
  xt.quant = q(1.0f / 128.0f);
  const ir::TensorId x = g.add_tensor(xt);
  const int8_t w[4] = {1, 0, -128, 2}, r[4] = {1, 2, 3, 4};
  const int32_t b[4] = {-127, 5, -16512, -254};
  const ir::TensorId wt = constant("w", ptq::DType::kInt8, ptq::Shape{4, 1}, w, 4, q(1.0f / 32.0f));
  const ir::TensorId rt = constant("r", ptq::DType::kInt8, ptq::Shape{4, 1}, r, 4, q(1.0f / 32.0f));
  const ir::TensorId bt = constant("b", ptq::DType::kInt32, ptq::Shape{4}, b, 16, q(1.0f / 4096.0f));
  xt.name = "y";
  const ir::TensorId y = g.add_tensor(xt);
  ir::Op op;
  op.kind = ir::OpKind::kLstm;
  op.name = "lstm";
  op.inputs = {x, wt, rt, bt};
  op.outputs = {y};
  op.attrs = ir::attrs().lstm_state(1.0f / 128.0f, 0).lstm_hidden(1.0f / 128.0f, 0).lstm_cell_scale(1.0f / 2048.0f);
  g.ops.push_back(op);
  g.inputs = {x};
  g.outputs = {y};
  ptq::Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(g);
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  *static_cast<int8_t*>(net->input(0).data) = 127;
  net->run();
  CHECK(*static_cast<const int8_t*>(net->output(0).data) == -30);
  // The pieces, as the comment works them.
  CHECK(fp16::tanh<3>(-32768) == -32767);
  CHECK(fp16::tanh<4>(-1024) == -15136);
  CHECK(fp16::exp_on_negative_values<5>(-1024) == 12055);
}
