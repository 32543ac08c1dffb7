// model_roundtrip: build a model with the graph builder, save it in ptq's file format, load it back
// (weights mapped in place), run both through the interpreter and check they agree to the bit.
//
//   ./model_roundtrip [path]      (default: a file in the system's temporary directory)
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ptq/ir/builder.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace ir = ptq::ir;

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() / "ptq_model_roundtrip.ptq").string();

  // 1. Build: a small int8 classifier (Quantize -> Conv -> DepthwiseConv -> Mean -> FC -> Softmax
  //    -> Dequantize), with made-up but valid parameters.
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> w8(-127, 127);
  auto ints = [&](std::size_t n) {
    std::vector<int8_t> v(n);
    for (auto& e : v) e = static_cast<int8_t>(w8(rng));
    return v;
  };
  const auto q = [](float s, int32_t z) { return ir::Quantization::per_tensor(s, z); };
  ir::GraphBuilder b("roundtrip");
  ir::TensorId x = b.input("image", {1, 16, 16, 3});
  x = b.quantize(x, ptq::DType::kInt8, q(1.0f / 128.0f, 0));
  x = b.conv2d(x, b.constant("conv/w", ints(8 * 3 * 3 * 3), {8, 3, 3, 3}, ir::Quantization::along(0, std::vector<float>(8, 0.004f))),
               b.constant("conv/b", std::vector<int32_t>(8, 200), {8}), ir::attrs().same().stride(2).relu(), q(0.02f, -128));
  x = b.depthwise_conv2d(x, b.constant("dw/w", ints(9 * 8), {1, 3, 3, 8}, ir::Quantization::along(3, std::vector<float>(8, 0.01f))),
                         ir::kNoTensor, ir::attrs().same().relu6(), q(0.03f, -100));
  x = b.mean(x, ir::attrs().axes({1, 2}), q(0.02f, -90));
  x = b.fully_connected(x, b.constant("fc/w", ints(4 * 8), {4, 8}, q(0.02f, 0)), ir::kNoTensor, {}, q(0.1f, 0));
  x = b.dequantize(b.softmax(x));
  b.output(x, "probs");
  ptq::Result<ir::Graph> graph = b.build();
  if (!graph.ok()) {
    std::fprintf(stderr, "build: %s\n", graph.status().to_string().c_str());
    return 1;
  }

  // 2. Save (atomically) and load (mapped).
  if (ptq::Status s = ir::save_model(*graph, path); !s.ok()) {
    std::fprintf(stderr, "save: %s\n", s.to_string().c_str());
    return 1;
  }
  ptq::Result<ir::Graph> loaded = ir::load_model(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "load: %s\n", loaded.status().to_string().c_str());
    return 1;
  }
  std::printf("saved and loaded %s: %d tensors, %d ops, %ju bytes\n", path.c_str(), loaded->tensor_count(),
              loaded->op_count(), static_cast<uintmax_t>(std::filesystem::file_size(path)));

  // 3. Run both on the same input; prepare once, run many.
  auto original = ptq::runtime::Interpreter::create(*graph);
  auto reloaded = ptq::runtime::Interpreter::create(*loaded);
  if (!original.ok() || !reloaded.ok()) {
    std::fprintf(stderr, "prepare: %s\n", (!original.ok() ? original : reloaded).status().to_string().c_str());
    return 1;
  }
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  std::vector<float> image(16 * 16 * 3);
  bool same = true;
  for (int run = 0; run < 3; ++run) {
    for (float& v : image) v = pixel(rng);
    for (auto* net : {&original.value(), &reloaded.value()}) {
      if (ptq::Status s = net->set_input(0, image.data(), image.size() * sizeof(float)); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.to_string().c_str());
        return 1;
      }
      net->run();
    }
    const float* a = original->output_data<float>(0);
    const float* c = reloaded->output_data<float>(0);
    same = same && std::memcmp(a, c, 4 * sizeof(float)) == 0;
    std::printf("run %d: probs = [%.4f, %.4f, %.4f, %.4f]  %s\n", run, c[0], c[1], c[2], c[3],
                std::memcmp(a, c, 4 * sizeof(float)) == 0 ? "(same bits as the built model)" : "(DIFFERENT)");
  }
  std::filesystem::remove(path);
  return same ? 0 : 1;
}
