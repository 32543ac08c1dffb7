// runtime/ops/recurrent.hpp: Rnn, Lstm, Gru through the op registry -- float ops against the
// per-step oracle, hybrid ops (per-tensor and per-row int8 weights, symmetric and asymmetric input
// quantization) bit for bit against the reference kernel and within the quantization bound of the
// float op; initial states given, absent (kNoTensor) and left off the input list; and prepare's
// errors, each naming the op and the tensor or input slot at fault.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ptq/kernels/reference/recurrent.hpp"
#include "support/isa_coverage.hpp"
#include "support/op_harness.hpp"
#include "support/recurrent_oracle.hpp"

namespace {

using ptq::CellActivation;
using ptq::DType;
using ptq::RecurrentCell;
using ptq::ir::OpKind;
using ptq::ir::Quantization;
using ptq::ir::TensorId;
using ptq_test::OpHarness;
using ptq_test::QuantizedWeights;
using ptq_test::RecurrentCase;

OpKind kind_of(RecurrentCell cell) {
  return cell == RecurrentCell::kRnn ? OpKind::kRnn : (cell == RecurrentCell::kLstm ? OpKind::kLstm : OpKind::kGru);
}

// How the initial states appear in the op's input list.
enum class States {
  kGiven,           // every h0 (and c0) as a runtime input
  kAbsent,          // every slot present as kNoTensor
  kLeftOff,         // the list ends after the last bias
  kForwardOnlyH0,   // forward h0 given, the rest kNoTensor (forward c0 too)
};

struct Built {
  OpHarness h;
  TensorId x = ptq::ir::kNoTensor, y = ptq::ir::kNoTensor;
  std::vector<std::pair<TensorId, std::vector<float>>> states;
};

ptq::ir::Attributes attributes_of(const RecurrentCase& c, bool asymmetric = true) {
  ptq::ir::Attributes a;
  a.time_major = c.time_major;
  a.bidirectional = c.bidirectional;
  a.recurrent_activation = static_cast<ptq::ir::RecurrentActivation>(c.activation);
  a.cell_clip = c.cell_clip;
  a.asymmetric_quantize_inputs = asymmetric;
  return a;
}

// Builds the op for c: float weights from c, or int8 weights from q (per_axis: along axis 0).
void build(Built& b, const RecurrentCase& c, const QuantizedWeights* q, States states, bool asymmetric = true) {
  OpHarness& h = b.h;
  const ptq::Shape x_shape = c.time_major ? ptq::Shape{c.T, c.B, c.I} : ptq::Shape{c.B, c.T, c.I};
  const ptq::Shape y_shape =
      c.time_major ? ptq::Shape{c.T, c.B, c.directions() * c.H} : ptq::Shape{c.B, c.T, c.directions() * c.H};
  const int64_t rows = c.gates() * c.H;
  b.x = h.input("x", DType::kFloat32, x_shape);
  std::vector<TensorId> inputs{b.x};
  for (int d = 0; d < c.directions(); ++d) {
    const std::string dir = d == 0 ? "fw" : "bw";
    if (q == nullptr) {
      inputs.push_back(h.constant<float>(dir + "/w", DType::kFloat32, {rows, c.I}, c.w[d]));
      inputs.push_back(h.constant<float>(dir + "/r", DType::kFloat32, {rows, c.H}, c.r[d]));
    } else {
      const auto quant = [](const std::vector<float>& scales) {
        return scales.size() == 1 ? Quantization::per_tensor(scales[0], 0) : Quantization::along(0, scales);
      };
      inputs.push_back(h.constant<int8_t>(dir + "/w", DType::kInt8, {rows, c.I}, q->w[d], quant(q->w_scales[d])));
      inputs.push_back(h.constant<int8_t>(dir + "/r", DType::kInt8, {rows, c.H}, q->r[d], quant(q->r_scales[d])));
    }
    inputs.push_back(h.constant<float>(dir + "/b", DType::kFloat32, {static_cast<int64_t>(c.b[d].size())}, c.b[d]));
  }
  if (states != States::kLeftOff) {
    for (int d = 0; d < c.directions(); ++d) {
      const std::string dir = d == 0 ? "fw" : "bw";
      const bool given_h = states == States::kGiven || (states == States::kForwardOnlyH0 && d == 0);
      const bool given_c = states == States::kGiven;
      if (given_h) {
        const TensorId id = h.input(dir + "/h0", DType::kFloat32, {c.B, c.H});
        b.states.push_back({id, c.h0[d]});
        inputs.push_back(id);
      } else {
        inputs.push_back(ptq::ir::kNoTensor);
      }
      if (c.cell == RecurrentCell::kLstm) {
        if (given_c) {
          const TensorId id = h.input(dir + "/c0", DType::kFloat32, {c.B, c.H});
          b.states.push_back({id, c.c0[d]});
          inputs.push_back(id);
        } else {
          inputs.push_back(ptq::ir::kNoTensor);
        }
      }
    }
  }
  b.y = h.output("y", DType::kFloat32, y_shape);
  h.op(kind_of(c.cell), inputs, {b.y}, attributes_of(c, asymmetric));
}

std::vector<float> run(Built& b, const RecurrentCase& c) {
  REQUIRE(b.h.prepare().ok());
  b.h.set<float>(b.x, c.x);
  for (const auto& s : b.states) b.h.set<float>(s.first, s.second);
  b.h.run();
  return b.h.get<float>(b.y);
}

// c with the states the op will not see removed (what the oracle and kernel should assume).
RecurrentCase as_seen(RecurrentCase c, States states) {
  for (int d = 0; d < 2; ++d) {
    const bool keep_h = states == States::kGiven || (states == States::kForwardOnlyH0 && d == 0);
    if (!keep_h) c.h0[d].clear();
    if (states != States::kGiven) c.c0[d].clear();
  }
  return c;
}

const char* states_name(States s) {
  switch (s) {
    case States::kGiven: return "given";
    case States::kAbsent: return "absent";
    case States::kLeftOff: return "left off";
    case States::kForwardOnlyH0: return "forward h0 only";
  }
  return "?";
}

// A small valid case for the error tests: B = 2, T = 3, I = 3, H = 2, states given.
RecurrentCase small_case(RecurrentCell cell = RecurrentCell::kLstm, bool bidirectional = true) {
  RecurrentCase c;
  c.cell = cell;
  c.bidirectional = bidirectional;
  c.B = 2;
  c.T = 3;
  c.I = 3;
  c.H = 2;
  const auto n = [](int64_t count) { return static_cast<std::size_t>(count); };
  c.x.assign(n(c.B * c.T * c.I), 0.5f);
  for (int d = 0; d < c.directions(); ++d) {
    c.w[d].assign(n(c.gates() * c.H * c.I), 0.25f);
    c.r[d].assign(n(c.gates() * c.H * c.H), -0.25f);
    c.b[d].assign(n(cell == RecurrentCell::kGru ? 6 * c.H : c.gates() * c.H), 0.125f);
    c.h0[d].assign(n(c.B * c.H), 0.5f);
    if (cell == RecurrentCell::kLstm) c.c0[d].assign(n(c.B * c.H), -0.5f);
  }
  return c;
}

// Prepares `b` and returns the error message ("" when ok).
std::string prepare_error(Built& b) {
  const ptq::Status s = b.h.prepare();
  return s.ok() ? std::string() : s.message();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("recurrent: float Rnn, Lstm, Gru ops match the per-step oracle") {
  std::mt19937 rng(424242);
  const States all_states[] = {States::kGiven, States::kAbsent, States::kLeftOff, States::kForwardOnlyH0};
  for (RecurrentCell cell : {RecurrentCell::kRnn, RecurrentCell::kLstm, RecurrentCell::kGru}) {
    for (int layout = 0; layout < 4; ++layout) {
      for (States states : all_states) {
        const bool time_major = (layout & 1) != 0, bidirectional = (layout & 2) != 0;
        const CellActivation act = cell == RecurrentCell::kGru
                                       ? CellActivation::kTanh
                                       : static_cast<CellActivation>(ptq_test::draw(rng, 0, 2));
        const RecurrentCase c = ptq_test::random_case(rng, cell, act, time_major, bidirectional, true);
        CAPTURE(ptq::recurrent_cell_name(cell));
        CAPTURE(static_cast<int>(act));
        CAPTURE(time_major);
        CAPTURE(bidirectional);
        CAPTURE(states_name(states));
        Built b;
        build(b, c, nullptr, states);
        const std::vector<float> y = run(b, c);
        const ptq_test::OracleResult want = ptq_test::recurrent_oracle(as_seen(c, states));
        REQUIRE(y.size() == want.y.size());
        for (std::size_t i = 0; i < y.size(); ++i) {
          CAPTURE(i);
          CHECK(std::abs(y[i] - want.y[i]) <= 2e-5 * (1.0 + std::abs(want.y[i])));
        }
      }
    }
  }
}

TEST_CASE("recurrent: hybrid ops equal the reference kernel and stay within the bound of the float op") {
  std::mt19937 rng(8675309);
  const int rounds = ptq_test::kSanitized ? 1 : 2;
  for (RecurrentCell cell : {RecurrentCell::kRnn, RecurrentCell::kLstm, RecurrentCell::kGru}) {
    for (int layout = 0; layout < 16; ++layout) {
      for (int round = 0; round < rounds; ++round) {
        const bool time_major = (layout & 1) != 0, bidirectional = (layout & 2) != 0;
        const bool per_row = (layout & 4) != 0, asymmetric = (layout & 8) != 0;
        const States states = round == 0 ? States::kGiven : States::kForwardOnlyH0;
        RecurrentCase c = ptq_test::random_case(rng, cell, CellActivation::kTanh, time_major, bidirectional, true);
        const QuantizedWeights q = ptq_test::quantize_weights(c, per_row);  // c now holds dequantized weights
        CAPTURE(ptq::recurrent_cell_name(cell));
        CAPTURE(layout);
        CAPTURE(states_name(states));
        Built hybrid;
        build(hybrid, c, &q, states, asymmetric);
        const std::vector<float> y = run(hybrid, c);

        // The reference kernel, called directly.
        const RecurrentCase seen = as_seen(c, states);
        const std::vector<float> y_kernel = ptq_test::run_hybrid(
            seen, q, asymmetric ? ptq::HybridInputQuantization::kAsymmetric : ptq::HybridInputQuantization::kSymmetric);
        CHECK(ptq_test::same_bits(y, y_kernel));

        // The float op on the dequantized weights, within the oracle's bound.
        Built fl;
        build(fl, c, nullptr, states);
        const std::vector<float> y_float = run(fl, c);
        const ptq_test::OracleResult want = ptq_test::recurrent_oracle(seen, &asymmetric);
        for (std::size_t i = 0; i < y.size(); ++i) {
          CAPTURE(i);
          CHECK(std::abs(static_cast<double>(y[i]) - y_float[i]) <= want.bound[i] + 1e-5);
        }
      }
    }
  }
}

TEST_CASE("recurrent: prepare rejects bad inputs, naming the op and the tensor") {
  SUBCASE("wrong weight shape") {
    Built b;
    build(b, small_case(), nullptr, States::kGiven);
    ptq::ir::Tensor& w = b.h.graph.tensor(b.h.graph.find_tensor("bw/w"));
    w.shape = {8, 2};  // [4H, I - 1]
    w.data = ptq::ir::Buffer::copy_of(std::vector<float>(16, 0.0f));
    const std::string m = prepare_error(b);
    CHECK(contains(m, "op 0 'under_test' (Lstm)"));
    CHECK(contains(m, "input 4 'bw/w' has shape [8, 2]; expected [8, 3]"));
  }
  SUBCASE("recurrent weights with the wrong number of rows") {
    Built b;
    build(b, small_case(RecurrentCell::kGru, false), nullptr, States::kGiven);
    b.h.graph.tensor(b.h.graph.find_tensor("fw/r")).shape = {5, 2};
    b.h.graph.tensor(b.h.graph.find_tensor("fw/r")).data = ptq::ir::Buffer::copy_of(std::vector<float>(10, 0.0f));
    const std::string m = prepare_error(b);
    CHECK(contains(m, "'fw/r'"));
    CHECK(contains(m, "expected [6, 2]"));
  }
  SUBCASE("missing bias") {
    Built b;
    build(b, small_case(), nullptr, States::kGiven);
    b.h.graph.ops[0].inputs[6] = ptq::ir::kNoTensor;  // backward b
    const std::string m = prepare_error(b);
    CHECK(contains(m, "op 0 'under_test' (Lstm)"));
    CHECK(contains(m, "input 6 (backward bias (b)) is missing"));
  }
  SUBCASE("bias of the wrong size") {
    Built b;
    build(b, small_case(RecurrentCell::kGru, false), nullptr, States::kGiven);
    b.h.graph.tensor(b.h.graph.find_tensor("fw/b")).shape = {6};
    b.h.graph.tensor(b.h.graph.find_tensor("fw/b")).data = ptq::ir::Buffer::copy_of(std::vector<float>(6, 0.0f));
    const std::string m = prepare_error(b);
    CHECK(contains(m, "'fw/b'"));
    CHECK(contains(m, "expected [12]"));
  }
  SUBCASE("int16 weights") {
    Built b;
    build(b, small_case(RecurrentCell::kRnn, false), nullptr, States::kGiven);
    ptq::ir::Tensor& w = b.h.graph.tensor(b.h.graph.find_tensor("fw/w"));
    w.dtype = DType::kInt16;
    w.data = ptq::ir::Buffer::copy_of(std::vector<int16_t>(static_cast<std::size_t>(w.shape.num_elements()), 0));
    const ptq::Status s = b.h.prepare();
    CHECK(s.code() == ptq::StatusCode::kUnimplemented);
    CHECK(contains(s.message(), "'fw/w' is int16"));
  }
  SUBCASE("float16 x") {
    Built b;
    build(b, small_case(RecurrentCell::kRnn, false), nullptr, States::kGiven);
    b.h.graph.tensor(b.x).dtype = DType::kFloat16;
    CHECK(contains(prepare_error(b), "'x' is float16"));
  }
  SUBCASE("float recurrent weights with int8 input weights") {
    RecurrentCase c = small_case(RecurrentCell::kRnn, false);
    const QuantizedWeights q = ptq_test::quantize_weights(c, false);
    Built b;
    build(b, c, &q, States::kGiven);
    ptq::ir::Tensor& r = b.h.graph.tensor(b.h.graph.find_tensor("fw/r"));
    r.dtype = DType::kFloat32;
    r.quant = {};
    r.data = ptq::ir::Buffer::copy_of(c.r[0]);
    CHECK(contains(prepare_error(b), "'fw/r' is float32; expected int8"));
  }
  SUBCASE("hybrid weights without quantization, along axis 1, or with a zero point") {
    RecurrentCase c = small_case(RecurrentCell::kLstm, false);
    const QuantizedWeights q = ptq_test::quantize_weights(c, true);
    Built b1;
    build(b1, c, &q, States::kGiven);
    b1.h.graph.tensor(b1.h.graph.find_tensor("fw/w")).quant = {};
    CHECK(contains(prepare_error(b1), "'fw/w' is int8 without quantization"));
    Built b2;
    build(b2, c, &q, States::kGiven);
    b2.h.graph.tensor(b2.h.graph.find_tensor("fw/r")).quant = Quantization::along(1, {0.1f, 0.1f});
    CHECK(contains(prepare_error(b2), "'fw/r' is quantized along axis 1"));
    Built b3;
    build(b3, c, &q, States::kGiven);
    b3.h.graph.tensor(b3.h.graph.find_tensor("fw/w")).quant = Quantization::per_tensor(0.1f, 3);
    CHECK(contains(prepare_error(b3), "'fw/w' has zero point 3"));
    Built b4;
    build(b4, c, &q, States::kGiven);
    b4.h.graph.tensor(b4.h.graph.find_tensor("fw/w")).quant = Quantization::along(0, {0.1f, 0.2f});
    CHECK(contains(prepare_error(b4), "'fw/w' has 2 scales along axis 0; expected 8"));
  }
  SUBCASE("initial state of the wrong shape") {
    Built b;
    build(b, small_case(), nullptr, States::kGiven);
    b.h.graph.tensor(b.h.graph.find_tensor("bw/c0")).shape = {2, 3};
    CHECK(contains(prepare_error(b), "'bw/c0' has shape [2, 3]; expected [2, 2]"));
  }
  SUBCASE("output of the wrong shape") {
    Built b;
    build(b, small_case(), nullptr, States::kGiven);
    b.h.graph.tensor(b.y).shape = {2, 3, 2};  // forgot the backward half
    CHECK(contains(prepare_error(b), "output 0 'y' has shape [2, 3, 2]; expected [2, 3, 4]"));
  }
  SUBCASE("x of the wrong rank") {
    Built b;
    build(b, small_case(), nullptr, States::kGiven);
    b.h.graph.tensor(b.x).shape = {2, 9};
    CHECK(contains(prepare_error(b), "'x' has shape [2, 9]; expected rank 3"));
  }
  SUBCASE("too many or too few inputs") {
    Built b;
    build(b, small_case(RecurrentCell::kRnn, false), nullptr, States::kGiven);
    b.h.graph.ops[0].inputs.push_back(b.x);
    CHECK(contains(prepare_error(b), "has 6 inputs"));
    Built b2;
    build(b2, small_case(RecurrentCell::kRnn, true), nullptr, States::kLeftOff);
    b2.h.graph.ops[0].inputs.pop_back();
    CHECK(contains(prepare_error(b2), "has 6 inputs"));
  }
  SUBCASE("attributes") {
    Built b;
    build(b, small_case(RecurrentCell::kGru, false), nullptr, States::kGiven);
    b.h.graph.ops[0].attrs.recurrent_activation = ptq::ir::RecurrentActivation::kRelu;
    CHECK(contains(prepare_error(b), "(Gru): recurrent_activation must be tanh"));
    Built b2;
    build(b2, small_case(RecurrentCell::kLstm, false), nullptr, States::kGiven);
    b2.h.graph.ops[0].attrs.cell_clip = -1.0f;
    CHECK(contains(prepare_error(b2), "cell_clip"));
  }
}

}  // TEST_SUITE
