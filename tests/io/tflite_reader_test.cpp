// tflite_reader_test.cpp: the .tflite reader and writer -- round trips of every fixture
// (read -> write -> read gives the same graph, the writer's output is a fixpoint, and the re-read
// model runs to the same outputs), what the reader maps (fp16 constants, per-axis quantization,
// the LSTM's stacked gates), and errors with byte offsets for truncated, corrupt, custom-op and
// unsupported-builtin files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/io/tflite.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "io/tflite_test_util.hpp"
#include "support/isa_coverage.hpp"

namespace {

const std::string kDir = PTQ_TFLITE_FIXTURES_DIR;

std::vector<std::string> stems() {
  std::vector<std::string> out;
  std::ifstream f(kDir + "/manifest.txt");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line.substr(0, line.find(' ')));
  }
  return out;
}

bool starts_with_byte_offset(const ptq::Status& s) { return s.message().rfind("at byte ", 0) == 0; }

}  // namespace

TEST_CASE("tflite: read -> write -> read gives the same graph, and the written bytes are a fixpoint") {
  const char* out_dir = std::getenv("PTQ_TFLITE_ROUNDTRIP_DIR");  // for make_fixtures.py --roundtrip
  int checked = 0;
  for (const std::string& stem : stems()) {
    CAPTURE(stem);
    ptq::Result<ptq::ir::Graph> g1 = ptq::io::read_tflite(kDir + "/" + stem + ".tflite");
    if (!g1.ok()) continue;  // the fixture test covers which fixtures do not map
    ptq::Result<std::vector<uint8_t>> bytes = ptq::io::serialize_tflite(*g1);
    REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
    ptq::Result<ptq::ir::Graph> g2 = ptq::io::parse_tflite(bytes->data(), bytes->size());
    REQUIRE_MESSAGE(g2.ok(), g2.status().to_string());
    std::string why;
    CHECK_MESSAGE(tflite_test::same_graph(*g1, *g2, &why), why);
    ptq::Result<std::vector<uint8_t>> again = ptq::io::serialize_tflite(*g2);
    REQUIRE(again.ok());
    CHECK(*again == *bytes);
    if (out_dir) REQUIRE(ptq::io::write_tflite(std::string(out_dir) + "/" + stem + ".ptq.tflite", *g1).ok());
    ++checked;
  }
  CHECK(checked >= 30);
}

TEST_CASE("tflite: read_tflite borrows aligned constants from the mapping; write_tflite is atomic") {
  ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kDir + "/conv_int8.tflite");
  REQUIRE(g.ok());
  const std::string path = "tflite_reader_test_conv.tflite";
  REQUIRE(ptq::io::write_tflite(path, *g).ok());
  ptq::Result<ptq::ir::Graph> back = ptq::io::read_tflite(path);
  REQUIRE(back.ok());
  int constants = 0;
  for (const auto& t : back->tensors) {
    if (!t.is_constant()) continue;
    ++constants;
    CHECK(reinterpret_cast<uintptr_t>(t.data.data()) % ptq::ir::Buffer::kAlignment == 0);
  }
  CHECK(constants >= 6);
  // The writer aligns every buffer to 64 bytes, so ptq's own files map without a copy: the
  // constants point into the file's mapping (not a fresh allocation per tensor).
  const uint8_t* lo = nullptr;
  const uint8_t* hi = nullptr;
  for (const auto& t : back->tensors) {
    if (!t.is_constant()) continue;
    lo = !lo || t.data.data() < lo ? t.data.data() : lo;
    hi = !hi || t.data.data() > hi ? t.data.data() : hi;
  }
  CHECK(static_cast<std::size_t>(hi - lo) < 8192);  // all within the 4 KB model's mapping
  std::remove(path.c_str());
  // A failing write leaves nothing behind.
  CHECK_FALSE(ptq::io::write_tflite("no_such_dir/x.tflite", *g).ok());
}

TEST_CASE("tflite: what the reader maps") {
  SUBCASE("float16 weights feeding DEQUANTIZE become fp16 constants of the consumer") {
    ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kDir + "/conv_fp16.tflite");
    REQUIRE(g.ok());
    int fp16 = 0;
    for (const auto& op : g->ops) {
      CHECK(op.kind != ptq::ir::OpKind::kDequantize);
      if (op.kind == ptq::ir::OpKind::kConv2D) {
        CHECK(g->tensor(op.inputs[1]).dtype == ptq::DType::kFloat16);
        ++fp16;
      }
    }
    CHECK(fp16 == 3);
  }
  SUBCASE("int8 conv weights: per-axis scales along the output channels, int32 bias") {
    ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kDir + "/conv_int8.tflite");
    REQUIRE(g.ok());
    const auto& op = g->ops.at(0);
    REQUIRE(op.kind == ptq::ir::OpKind::kConv2D);
    const auto& w = g->tensor(op.inputs[1]);
    CHECK(w.dtype == ptq::DType::kInt8);
    CHECK(w.quant.is_per_axis());
    CHECK(w.quant.axis == 0);
    CHECK(w.quant.scales.size() == 6);
    CHECK(g->tensor(op.inputs[2]).dtype == ptq::DType::kInt32);
    CHECK(op.attrs.padding == ptq::Padding::kSame);
    CHECK(op.attrs.activation == ptq::FusedActivation::kRelu6);
    CHECK(g->tensor(g->inputs[0]).dtype == ptq::DType::kInt8);
  }
  SUBCASE("UNIDIRECTIONAL_SEQUENCE_LSTM: four gates stacked into [4H, I] and [4H, H]") {
    ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kDir + "/lstm_float.tflite");
    REQUIRE_MESSAGE(g.ok(), g.status().to_string());
    bool found = false;
    for (const auto& op : g->ops) {
      if (op.kind != ptq::ir::OpKind::kLstm) continue;
      found = true;
      CHECK(g->tensor(op.inputs[1]).shape == ptq::Shape{128, 32});
      CHECK(g->tensor(op.inputs[2]).shape == ptq::Shape{128, 32});
      CHECK(g->tensor(op.inputs[3]).shape == ptq::Shape{128});
    }
    CHECK(found);
  }
}

TEST_CASE("tflite: malformed files give errors with byte offsets, never a crash") {
  const std::vector<uint8_t> good = tflite_test::read_bytes(kDir + "/mobile_int8.tflite");
  REQUIRE(good.size() > 1000);
  REQUIRE(ptq::io::parse_tflite(good.data(), good.size()).ok());

  SUBCASE("truncated at every length") {
    const std::size_t step = ptq_test::kSanitized ? 13 : 1;
    for (std::size_t n = 0; n < good.size(); n += step) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(cut.data(), cut.size());
      REQUIRE_FALSE(r.ok());
      REQUIRE_MESSAGE(starts_with_byte_offset(r.status()), r.status().to_string());
    }
    ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(good.data(), 100);
    CHECK(r.status().code() == ptq::StatusCode::kDataLoss);
  }
  SUBCASE("a root offset past the end") {
    std::vector<uint8_t> bad = good;
    bad[0] = 0xF0, bad[1] = 0xFF, bad[2] = 0xFF, bad[3] = 0x7F;
    ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(bad.data(), bad.size());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().rfind("at byte 0: Model: table offset", 0) == 0);
  }
  SUBCASE("not a TFLite file") {
    std::vector<uint8_t> bad = good;
    bad[4] = 'X';
    ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(bad.data(), bad.size());
    CHECK(r.status().message() == "at byte 4: file identifier: 'XFL3' is not 'TFL3' (not a TFLite model)");
  }
  SUBCASE("every single corrupted byte: an error with an offset or a graph that validates") {
    const std::size_t step = ptq_test::kSanitized ? 17 : 3;
    for (std::size_t i = 0; i < good.size(); i += step) {
      for (uint8_t v : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{0x80}}) {
        std::vector<uint8_t> bad = good;
        bad[i] = v;
        ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(bad.data(), bad.size());
        if (!r.ok() && r.status().code() != ptq::StatusCode::kInvalidArgument) {
          REQUIRE_MESSAGE(starts_with_byte_offset(r.status()), r.status().to_string());
        }
      }
    }
  }
  SUBCASE("a custom op names its custom code") {
    const std::vector<uint8_t> m = tflite_test::one_op_model(32, "MyFancyOp");
    ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(m.data(), m.size());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == ptq::StatusCode::kUnimplemented);
    CHECK(starts_with_byte_offset(r.status()));
    CHECK(r.status().message().find("operator 0: custom op 'MyFancyOp' is not supported") != std::string::npos);
  }
  SUBCASE("an unsupported builtin names the op index and the builtin") {
    const std::vector<uint8_t> m = tflite_test::one_op_model(43);  // SQUEEZE
    ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(m.data(), m.size());
    CHECK(r.status().code() == ptq::StatusCode::kUnimplemented);
    CHECK(r.status().message().find("operator 0: builtin SQUEEZE is not supported by ptq's IR") != std::string::npos);
    // A code past 127 lives in builtin_code only (deprecated_builtin_code holds 127).
    const std::vector<uint8_t> gelu = tflite_test::one_op_model(150);
    r = ptq::io::parse_tflite(gelu.data(), gelu.size());
    CHECK(r.status().message().find("builtin GELU is not supported") != std::string::npos);
  }
  SUBCASE("the hand-built one-op model itself reads (RELU)") {
    const std::vector<uint8_t> m = tflite_test::one_op_model(19);
    ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(m.data(), m.size());
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    CHECK(r->ops.at(0).kind == ptq::ir::OpKind::kRelu);
  }
  SUBCASE("a missing file") {
    ptq::Result<ptq::ir::Graph> r = ptq::io::read_tflite(kDir + "/no_such_model.tflite");
    CHECK(r.status().code() == ptq::StatusCode::kNotFound);
  }
}

TEST_CASE("tflite: the writer names the op it cannot express") {
  ptq::ir::Graph g;
  ptq::ir::Tensor x;
  x.name = "x";
  x.shape = ptq::Shape{1, 4};
  g.inputs = {g.add_tensor(x)};
  x.name = "y";
  g.outputs = {g.add_tensor(x)};
  ptq::ir::Op op;
  op.kind = ptq::ir::OpKind::kHardSigmoid;
  op.inputs = {0};
  op.outputs = {1};
  g.ops.push_back(op);
  ptq::Result<std::vector<uint8_t>> r = ptq::io::serialize_tflite(g);
  CHECK(r.status().code() == ptq::StatusCode::kUnimplemented);
  CHECK(r.status().message() == "write_tflite: op 0 (HardSigmoid): no TFLite builtin in ptq's writer for this op");
}
