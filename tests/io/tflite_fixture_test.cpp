// tflite_fixture_test.cpp: every committed .tflite fixture (tests/io/tflite/fixtures, made by
// tools/tflite_fixtures/make_fixtures.py with TensorFlow's converter) read by ptq, run through ptq's
// interpreter on the committed inputs, and compared with LiteRT's committed outputs from its
// reference kernels (ref), its optimized kernels (opt) and its default XNNPACK path (xnn).
//
// Expected values come from LiteRT, an outside engine. Tolerances:
// - integer outputs (int8 / int16 I/O models): bit for bit against ref and opt.
// - float outputs of the integer models with float I/O (int8_fio, int16x8): bit for bit too (the
//   final DEQUANTIZE of equal integers gives equal floats).
// - float32, float16-weight and dynamic-range (hybrid) models: |ptq - LiteRT| <= 1e-5 + 1e-5 |LiteRT|
//   (float sums in another order; hybrid ops' float epilogue).
// - Where LiteRT's optimized or XNNPACK kernels differ from its reference kernels, the count of
//   differing elements is pinned (kKnownDifferences, with the reason); ptq equals the reference.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ptq/io/tflite.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "io/tflite_test_util.hpp"

namespace {

const std::string kDir = PTQ_TFLITE_FIXTURES_DIR;

struct Row {
  std::string stem, mode;
  int inputs = 0, outputs = 0;
};

std::vector<Row> manifest() {
  std::vector<Row> rows;
  std::ifstream f(kDir + "/manifest.txt");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    Row r;
    s >> r.stem >> r.inputs >> r.outputs;
    r.mode = r.stem.substr(r.stem.find('_') + 1);
    rows.push_back(r);
  }
  return rows;
}

bool integer_mode(const std::string& mode) { return mode == "int8" || mode == "int8_fio" || mode == "int16x8"; }

struct Compare {
  int64_t elements = 0, differing = 0;
  double max_abs = 0;
};

// ptq's output vs LiteRT's: element count, how many differ beyond `tol`, largest |difference|.
Compare compare(const ptq::runtime::TensorView& v, const tflite_test::Npy& want, double tol) {
  Compare c;
  const ptq::DType t = v.tensor->dtype;
  const std::size_t n = v.bytes / ptq::dtype_size(t);
  c.elements = static_cast<int64_t>(n);
  for (std::size_t i = 0; i < n; ++i) {
    double a = 0, b = 0;
    switch (t) {
      case ptq::DType::kFloat32: {
        float x, y;
        std::memcpy(&x, static_cast<const uint8_t*>(v.data) + 4 * i, 4);
        std::memcpy(&y, want.data.data() + 4 * i, 4);
        a = x, b = y;
        break;
      }
      case ptq::DType::kInt8: a = static_cast<const int8_t*>(v.data)[i], b = static_cast<int8_t>(want.data[i]); break;
      case ptq::DType::kUInt8: a = static_cast<const uint8_t*>(v.data)[i], b = want.data[i]; break;
      case ptq::DType::kInt16: {
        int16_t y;
        std::memcpy(&y, want.data.data() + 2 * i, 2);
        a = static_cast<const int16_t*>(v.data)[i], b = y;
        break;
      }
      default: a = 0, b = 1; break;
    }
    const double d = std::fabs(a - b);
    if (!(d <= tol * (1.0 + std::fabs(b)))) ++c.differing;
    if (d > c.max_abs || d != d) c.max_abs = d;
  }
  return c;
}

// Fixtures ptq does not run, and the error that says why (a gap in ptq's interpreter or IR).
const std::map<std::string, std::string> kUnsupported = {
    // none at present: every committed fixture runs
};

// Where LiteRT's own kernel sets disagree with its reference kernels (the fixtures' README says
// why): elements of the output that differ from ptq, which equals the reference everywhere.
//   opt: TFLite's optimized per-channel int8 depthwise rounds the requantized value half upward
//        (DepthwiseConvOutputRounding::kUpward): +1 on negative ties, where the reference (and ptq)
//        rounds half away from zero.
//   xnn: XNNPACK requantizes in float (fp32 scale, round to nearest even): +-1 on some elements
//        of conv, depthwise and average pool.
const std::map<std::string, int64_t> kKnownDifferences = {
    {"depthwise_int8/opt", 5}, {"depthwise_int8_fio/opt", 5}, {"depthwise_int8/xnn", 2},
    {"depthwise_int8_fio/xnn", 2}, {"conv_int8/xnn", 3},       {"conv_int8_fio/xnn", 3},
    {"pool_int8/xnn", 1},      {"pool_int8_fio/xnn", 1},
};

}  // namespace

TEST_CASE("tflite fixtures: ptq's interpreter equals LiteRT's reference and optimized kernels") {
  const std::vector<Row> rows = manifest();
  REQUIRE(rows.size() >= 30);
  int models = 0;
  int64_t tensors = 0, elements = 0, int_elements = 0;
  std::map<std::string, int64_t> int_diffs;  // kernel set -> differing integer-model elements
  for (const Row& r : rows) {
    CAPTURE(r.stem);
    if (std::getenv("PTQ_TFLITE_VERBOSE")) std::fprintf(stderr, "fixture %s\n", r.stem.c_str());
    ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(kDir + "/" + r.stem + ".tflite");
    ptq::Result<ptq::runtime::Interpreter> net =
        g.ok() ? ptq::runtime::Interpreter::create(std::move(*g)) : ptq::Result<ptq::runtime::Interpreter>(g.status());
    const auto skip = kUnsupported.find(r.stem);
    if (skip != kUnsupported.end()) {
      CHECK_FALSE(net.ok());
      if (!net.ok()) CHECK_MESSAGE(net.status().message().find(skip->second) != std::string::npos, net.status().to_string());
      continue;
    }
    if (!net.ok()) {
      FAIL_CHECK(net.status().to_string());
      continue;
    }
    REQUIRE(net->input_count() == r.inputs);
    REQUIRE(net->output_count() == r.outputs);
    for (int i = 0; i < r.inputs; ++i) {
      const tflite_test::Npy x = tflite_test::read_npy(kDir + "/" + r.stem + ".in" + std::to_string(i) + ".npy");
      REQUIRE(x.ok);
      const ptq::runtime::TensorView in = net->input(i);
      REQUIRE(x.dtype == in.tensor->dtype);
      REQUIRE(x.data.size() == in.bytes);
      std::memcpy(in.data, x.data.data(), in.bytes);
    }
    net->run();
    ++models;
    const bool integer = integer_mode(r.mode);
    for (int o = 0; o < r.outputs; ++o) {
      const ptq::runtime::TensorView out = net->output(o);
      for (const std::string k : {"ref", "opt", "xnn"}) {
        CAPTURE(k);
        const tflite_test::Npy want = tflite_test::read_npy(kDir + "/" + r.stem + "." + k + ".out" + std::to_string(o) + ".npy");
        REQUIRE(want.ok);
        REQUIRE(want.dtype == out.tensor->dtype);
        REQUIRE(want.data.size() == out.bytes);
        // Integer models: ref bit for bit; against opt/xnn a float output may differ in its last bit
        // (their DEQUANTIZE multiplies in float, the reference in double), so 1e-6 there.
        const double tol = !integer ? 1e-5 : (k == "ref" || out.tensor->dtype != ptq::DType::kFloat32) ? 0.0 : 1e-6;
        const Compare c = compare(out, want, tol);
        ++tensors;
        elements += c.elements;
        const auto known = kKnownDifferences.find(r.stem + "/" + k);
        const int64_t expected = known == kKnownDifferences.end() ? 0 : known->second;
        if (integer) {
          int_elements += c.elements;
          int_diffs[k] += c.differing;
        }
        CHECK_MESSAGE(c.differing == expected, r.stem << " [" << k << "] out" << o << ": " << c.differing << " of "
                                                      << c.elements << " differ (" << expected
                                                      << " expected), max |diff| " << c.max_abs);
      }
    }
  }
  MESSAGE("tflite fixtures: " << models << " models run, " << tensors << " output tensors and " << elements
                              << " elements compared (" << int_elements << " from integer models); integer-model "
                              << "elements differing: ref " << int_diffs["ref"] << ", opt " << int_diffs["opt"]
                              << ", xnn " << int_diffs["xnn"]);
}
