// tflite_int16x8_fixture_test.cpp: the five 16x8 fixtures (int16 activations, int8 weights, int64
// bias; tests/io/tflite/fixtures, made by TensorFlow's converter) run through ptq's interpreter and
// compared with LiteRT's reference-kernel outputs (`.ref.out0.npy`) with zero tolerance: the
// int16 tensor the model's final DEQUANTIZE reads, and the float output itself, bit for bit.
//
// Expected values come from LiteRT, an outside engine.
//
// With PTQ_INT16_DUMP_DIR=DIR set, every tensor ptq computes (the observer's view) is also written to
// DIR/<model>/<tensor id>.npy with DIR/<model>/names.txt ("<id> <name>" per line), for
// tools/tflite_fixtures/compare_intermediates.py to compare with LiteRT's intermediate tensors.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <string>
#include <vector>

#include "io/tflite_test_util.hpp"
#include "ptq/io/npy.hpp"
#include "ptq/io/tflite.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

const std::string k16x8Dir = PTQ_TFLITE_FIXTURES_DIR;

struct Outcome {
  int64_t elements = 0, differing = 0;
};

// Runs fixture `stem` on its committed input and compares output 0 with `<stem>.<kernels>.out0.npy`.
Outcome run_16x8_fixture(const std::string& stem, const std::string& kernels) {
  Outcome r;
  ptq::Result<ptq::ir::Graph> g = ptq::io::read_tflite(k16x8Dir + "/" + stem + ".tflite");
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  ptq::Result<ptq::runtime::Interpreter> net = ptq::runtime::Interpreter::create(std::move(*g));
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  REQUIRE(net->input_count() == 1);
  REQUIRE(net->output_count() == 1);
  const tflite_test::Npy x = tflite_test::read_npy(k16x8Dir + "/" + stem + ".in0.npy");
  REQUIRE(x.ok);
  const ptq::runtime::TensorView in = net->input(0);
  REQUIRE(x.dtype == in.tensor->dtype);
  REQUIRE(x.data.size() == in.bytes);
  std::memcpy(in.data, x.data.data(), in.bytes);
  const char* dump = std::getenv("PTQ_INT16_DUMP_DIR");
  std::ofstream names;
  if (dump != nullptr && kernels == "ref") {
    const std::string dir = std::string(dump) + "/" + stem;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    REQUIRE_MESSAGE(!ec, dir << ": " << ec.message());
    names.open(dir + "/names.txt");
    net->set_observer([dir, &names](const ptq::runtime::Observation& o) {
      names << o.tensor_id << " " << o.tensor->name << "\n";
      const ptq::Status s = ptq::io::write_npy(dir + "/" + std::to_string(o.tensor_id) + ".npy", o.tensor->dtype,
                                               o.tensor->shape, o.data);
      CHECK_MESSAGE(s.ok(), s.to_string());
    });
  }
  net->run();
  net->set_observer(nullptr);
  const ptq::runtime::TensorView out = net->output(0);
  const tflite_test::Npy want = tflite_test::read_npy(k16x8Dir + "/" + stem + "." + kernels + ".out0.npy");
  REQUIRE(want.ok);
  REQUIRE(want.dtype == out.tensor->dtype);
  REQUIRE(want.data.size() == out.bytes);
  const std::size_t width = ptq::dtype_size(out.tensor->dtype);
  r.elements = static_cast<int64_t>(out.bytes / width);
  const auto* got = static_cast<const uint8_t*>(out.data);
  bool nonzero = false;
  for (int64_t i = 0; i < r.elements; ++i) {
    const std::size_t at = static_cast<std::size_t>(i) * width;
    if (std::memcmp(got + at, want.data.data() + at, width) != 0) ++r.differing;
    for (std::size_t k = 0; k < width; ++k) nonzero = nonzero || want.data[at + k] != 0;
  }
  CHECK_MESSAGE(nonzero, stem << ": LiteRT's output is all zeros (the comparison would be vacuous)");
  return r;
}

}  // namespace

TEST_CASE("tflite 16x8 fixtures: ptq equals LiteRT's reference kernels bit for bit") {
  int64_t total = 0;
  for (const std::string stem : {"dense_int16x8", "conv_int16x8", "depthwise_int16x8", "pool_int16x8", "addmul_int16x8"}) {
    CAPTURE(stem);
    for (const std::string kernels : {"ref", "opt", "xnn"}) {
      CAPTURE(kernels);
      const Outcome o = run_16x8_fixture(stem, kernels);
      CHECK(o.elements > 0);
      CHECK_MESSAGE(o.differing == 0, stem << " [" << kernels << "]: " << o.differing << " of " << o.elements
                                           << " elements differ");
      if (kernels == "ref") {
        MESSAGE(stem << ": " << o.elements << " elements, " << o.differing << " differing");
        total += o.elements;
      }
    }
  }
  MESSAGE("16x8 fixtures: " << total << " elements compared against ref");
}
