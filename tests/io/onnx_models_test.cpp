// onnx_models_test.cpp: the bundled Fashion-MNIST models (models/fashion_mnist/, trained and
// exported by tools/models/train_fashion_mnist.py) imported and run through ptq's float interpreter.
//
// For each of cnn, mlp and lstm: the 2,000 evaluation images (eval_2000.npy) give the same top-1
// count as the training script recorded in accuracy.json (exactly), and logits within
// 1e-4 + 1e-4 * |ref| of <model>_logits_2000.npy (the script's own float evaluation of the ONNX file).
// The sanitized build runs the first 200 images (logits only: the recorded count is for 2,000).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ptq/io/npy.hpp"
#include "ptq/io/onnx_import.hpp"
#include "ptq/runtime/interpreter.hpp"
#include "support/isa_coverage.hpp"

namespace {

const std::string kModels = PTQ_MODELS_DIR "/fashion_mnist/";

// The "correct" count of models.<name>.top1_eval_2000 in accuracy.json (a fixed layout we write).
int64_t recorded_correct(const std::string& name) {
  std::ifstream f(kModels + "accuracy.json");
  const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::size_t p = s.find("\"models\"");
  p = p == std::string::npos ? p : s.find("\"" + name + "\"", p);
  p = p == std::string::npos ? p : s.find("\"top1_eval_2000\"", p);
  p = p == std::string::npos ? p : s.find("\"correct\"", p);
  p = p == std::string::npos ? p : s.find(':', p);
  REQUIRE_MESSAGE(p != std::string::npos, "accuracy.json has no models." << name << ".top1_eval_2000.correct");
  return std::stoll(s.substr(p + 1));
}

std::size_t argmax(const float* v, std::size_t n) { return static_cast<std::size_t>(std::max_element(v, v + n) - v); }

void check_model(const std::string& name) {
  CAPTURE(name);
  ptq::Result<ptq::io::NpyArray> images = ptq::io::read_npy(kModels + "eval_2000.npy");
  REQUIRE_MESSAGE(images.ok(), images.status().to_string());
  ptq::Result<ptq::io::NpyArray> ref = ptq::io::read_npy(kModels + name + "_logits_2000.npy");
  REQUIRE_MESSAGE(ref.ok(), ref.status().to_string());
  ptq::Result<std::vector<int64_t>> labels = ptq::io::load_labels(kModels + "eval_labels_2000.npy");
  REQUIRE_MESSAGE(labels.ok(), labels.status().to_string());
  REQUIRE(images->dtype == ptq::DType::kFloat32);
  REQUIRE(images->shape == ptq::Shape{2000, 1, 28, 28});
  REQUIRE(ref->shape == ptq::Shape{2000, 10});

  constexpr int64_t kBatch = 100;
  ptq::io::OnnxImportOptions opt;
  opt.batch = kBatch;
  ptq::Result<ptq::ir::Graph> g = ptq::io::import_onnx(kModels + name + ".onnx", opt);
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  ptq::Result<ptq::runtime::Interpreter> it = ptq::runtime::Interpreter::create(*g);
  REQUIRE_MESSAGE(it.ok(), it.status().to_string());
  ptq::runtime::Interpreter& net = *it;
  // [B, 1, 28, 28] NCHW is [B, 28, 28, 1] NHWC with the same element order (one channel); the
  // LSTM reads [B, 28, 28] rows: the same bytes in every case.
  REQUIRE(net.input(0).bytes == static_cast<std::size_t>(kBatch * 28 * 28 * 4));
  REQUIRE(net.output(0).tensor->shape == ptq::Shape{kBatch, 10});

  const int64_t n = ptq_test::kSanitized ? 200 : 2000;
  int64_t correct = 0, argmax_differs = 0;
  double max_err = 0;
  for (int64_t b0 = 0; b0 < n; b0 += kBatch) {
    REQUIRE(net.set_input(0, images->as<float>() + b0 * 28 * 28, net.input(0).bytes).ok());
    net.run();
    const float* logits = net.output_data<float>(0);
    for (int64_t i = 0; i < kBatch; ++i) {
      const float* mine = logits + i * 10;
      const float* want = ref->as<float>() + (b0 + i) * 10;
      for (int k = 0; k < 10; ++k) {
        const double err = std::fabs(static_cast<double>(mine[k]) - want[k]);
        max_err = std::max(max_err, err);
        CHECK(err <= 1e-4 + 1e-4 * std::fabs(want[k]));
      }
      correct += static_cast<int64_t>(argmax(mine, 10)) == (*labels)[static_cast<std::size_t>(b0 + i)];
      argmax_differs += argmax(mine, 10) != argmax(want, 10);
    }
  }
  MESSAGE(name, ": ", correct, " / ", n, " correct; max |logit - reference| ", max_err, "; top-1 differs from the reference on ",
          argmax_differs, " images");
  CHECK(argmax_differs == 0);
  if (n == 2000) CHECK(correct == recorded_correct(name));
}

}  // namespace

TEST_CASE("bundled models: cnn imports and matches its recorded accuracy") { check_model("cnn"); }
TEST_CASE("bundled models: mlp imports and matches its recorded accuracy") { check_model("mlp"); }
TEST_CASE("bundled models: lstm imports and matches its recorded accuracy") { check_model("lstm"); }
