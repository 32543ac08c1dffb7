// tflite_export_test.cpp: round trip of ptq-CONVERTED models through LiteRT. The bundled float
// Fashion-MNIST CNN was converted by `ptq convert --mode int8 --to tflite` (int8 I/O and float
// I/O) and run in LiteRT on the first 50 evaluation images with its reference (ref), optimized
// (opt) and XNNPACK (xnn) kernels by tools/tflite_fixtures/check_ptq_export.py; the .tflite files
// and LiteRT's outputs are committed in tests/io/tflite/export. Here ptq reads the same files and
// runs its interpreter on the same inputs.
//
// Expected values come from LiteRT. TFLite has two requantizations for an int8 FULLY_CONNECTED:
// its reference kernels (BUILTIN_REF) round acc * in_scale * w_scale / out_scale in double
// (reference_integer_ops::FullyConnected / FullyConnectedPerChannel with float scales), its optimized
// kernels and TFLite Micro use the fixed-point multiplier, ptq's default. So each model runs twice:
// - with FcRequantization::kDoubleScale ptq equals the reference kernels bit for bit, and differs
//   from opt and xnn exactly where LiteRT's own kernel sets differ from its reference (the
//   manifest's counts; the README says why);
// - with the default (fixed point) the differences are pinned in kFixedPointDiffs: 1 of 500 CNN
//   logits and 3 of 500 MLP logits from ref; on the MLP, 0 from opt.
//
// PTQ_TFLITE_EXPORT_DIR=DIR adds a directory the script wrote (e.g. with --models cnn mlp): the
// MLP's .tflite is 240 KB, too big to commit.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "io/tflite_test_util.hpp"
#include "ptq/io/tflite.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

struct ExportRow {
  std::string stem;
  int images = 0;
  std::map<std::string, int64_t> kernel_diffs;  // "opt"/"xnn" -> elements differing from ref
};

std::vector<ExportRow> export_manifest(const std::string& dir) {
  std::vector<ExportRow> rows;
  std::ifstream f(dir + "/manifest.txt");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    ExportRow r;
    s >> r.stem >> r.images;
    std::string d;
    while (s >> d) {  // "opt:195-of-500" or "-"
      const std::size_t colon = d.find(':');
      if (colon != std::string::npos) r.kernel_diffs[d.substr(0, colon)] = std::atoll(d.c_str() + colon + 1);
    }
    rows.push_back(r);
  }
  return rows;
}

// ptq's default requantization (fixed point, LiteRT's optimized kernels) against each LiteRT kernel
// set: elements differing, from the README's table. With kDoubleScale ptq equals `ref` exactly, so
// its counts against opt/xnn are the manifest's ref-vs-opt/xnn counts.
struct FixedPointDiffs {
  int64_t ref, opt, xnn;
};
const std::map<std::string, FixedPointDiffs> kFixedPointDiffs = {
    {"cnn_int8", {1, 196, 127}}, {"cnn_float", {1, 254, 127}}, {"mlp_int8", {3, 0, 3}}, {"mlp_float", {3, 122, 3}}};

struct ExportTotals {
  int models = 0;
  int64_t elements = 0, ref_diffs = 0, fixed_point_ref_diffs = 0;
};

// The outputs of `stem` on `images` inputs, run by ptq's interpreter with `options`.
std::vector<uint8_t> run_export_model(const std::string& dir, const ExportRow& r, const ptq::runtime::InterpreterOptions& options,
                                      ptq::DType* out_dtype) {
  ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(dir + "/" + r.stem + ".tflite");
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  ptq::Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(std::move(*g), options);
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  REQUIRE(net->input_count() == 1);
  REQUIRE(net->output_count() == 1);
  const ptq::runtime::TensorView in = net->input(0);
  const ptq::runtime::TensorView out = net->output(0);
  // int8 I/O: the inputs LiteRT ran (quantized by the script); float I/O: the evaluation images.
  tflite_test::Npy x = tflite_test::read_npy(dir + "/" + r.stem + ".in0.npy");
  if (!x.ok) x = tflite_test::read_npy(std::string(PTQ_FASHION_MNIST_DIR) + "/eval_2000.npy");
  REQUIRE(x.ok);
  REQUIRE(x.dtype == in.tensor->dtype);
  REQUIRE(x.data.size() >= in.bytes * static_cast<std::size_t>(r.images));
  std::vector<uint8_t> got(out.bytes * static_cast<std::size_t>(r.images));
  for (int i = 0; i < r.images; ++i) {
    std::memcpy(in.data, x.data.data() + in.bytes * static_cast<std::size_t>(i), in.bytes);
    net->run();
    std::memcpy(got.data() + out.bytes * static_cast<std::size_t>(i), out.data, out.bytes);
  }
  *out_dtype = out.tensor->dtype;
  return got;
}

void check_export_dir(const std::string& dir, ExportTotals* totals) {
  const std::vector<ExportRow> rows = export_manifest(dir);
  REQUIRE_MESSAGE(!rows.empty(), "no manifest.txt in " << dir);
  for (const ExportRow& r : rows) {
    CAPTURE(r.stem);
    ptq::runtime::InterpreterOptions as_reference;
    as_reference.fc_requantization = ptq::FcRequantization::kDoubleScale;
    ptq::DType dtype = ptq::DType::kFloat32;
    const std::vector<uint8_t> got = run_export_model(dir, r, as_reference, &dtype);
    const std::vector<uint8_t> fixed = run_export_model(dir, r, ptq::runtime::InterpreterOptions(), &dtype);
    const std::size_t esize = ptq::dtype_size(dtype);
    const auto pinned = kFixedPointDiffs.find(r.stem);
    for (const std::string k : {"ref", "opt", "xnn"}) {
      CAPTURE(k);
      const tflite_test::Npy want = tflite_test::read_npy(dir + "/" + r.stem + "." + k + ".out0.npy");
      REQUIRE(want.ok);
      REQUIRE(want.dtype == dtype);
      REQUIRE(want.data.size() == got.size());
      int64_t differing = 0, fixed_differing = 0;
      for (std::size_t e = 0; e < got.size(); e += esize) {
        differing += std::memcmp(&got[e], &want.data[e], esize) != 0;
        fixed_differing += std::memcmp(&fixed[e], &want.data[e], esize) != 0;
      }
      // kDoubleScale: LiteRT's reference exactly, and so its reference's distance to opt and xnn.
      const auto known = r.kernel_diffs.find(k);
      const int64_t expected = k == "ref" || known == r.kernel_diffs.end() ? 0 : known->second;
      CHECK_MESSAGE(differing == expected, r.stem << " [" << k << ", double-scale FC]: " << differing << " of "
                                                  << got.size() / esize << " elements differ from LiteRT (" << expected
                                                  << " expected)");
      if (pinned != kFixedPointDiffs.end()) {
        const int64_t want_fixed = k == "ref" ? pinned->second.ref : k == "opt" ? pinned->second.opt : pinned->second.xnn;
        CHECK_MESSAGE(fixed_differing == want_fixed, r.stem << " [" << k << ", fixed-point FC]: " << fixed_differing
                                                            << " elements differ from LiteRT (" << want_fixed << " expected)");
      }
      if (k == "ref") {
        totals->elements += static_cast<int64_t>(got.size() / esize);
        totals->ref_diffs += differing;
        totals->fixed_point_ref_diffs += fixed_differing;
      }
    }
    ++totals->models;
  }
}

}  // namespace

TEST_CASE("tflite export: ptq-converted Fashion-MNIST models give LiteRT's outputs bit for bit") {
  ExportTotals t;
  check_export_dir(PTQ_TFLITE_EXPORT_FIXTURES_DIR, &t);
  if (const char* extra = std::getenv("PTQ_TFLITE_EXPORT_DIR")) check_export_dir(extra, &t);
  CHECK(t.models >= 2);
  MESSAGE("tflite export: " << t.models << " ptq-written models, " << t.elements
                            << " output elements compared with LiteRT's reference kernels: " << t.ref_diffs
                            << " differ with double-scale FC requantization, " << t.fixed_point_ref_diffs
                            << " with ptq's default fixed point");
}
