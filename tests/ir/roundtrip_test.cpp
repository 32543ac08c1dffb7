// Format round trip at the level users care about: a model written, read back (from memory and
// mapped from a file) and run gives the same output bits as the model it was written from, for
// the sample models in every form the interpreter runs.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/sample_models.hpp"
#include "ptq/ir/format.hpp"
#include "ptq/runtime/interpreter.hpp"

namespace {

std::vector<uint8_t> run_bytes(const ptq::ir::Graph& g, uint32_t seed) {
  auto net = ptq::runtime::Interpreter::create(g);
  REQUIRE_MESSAGE(net.ok(), net.status().to_string());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  float* in = net->input_data<float>(0);
  for (std::size_t i = 0; i < net->input(0).bytes / sizeof(float); ++i) in[i] = d(rng);
  net->run();
  const auto* out = static_cast<const uint8_t*>(net->output(0).data);
  return std::vector<uint8_t>(out, out + net->output(0).bytes);
}

}  // namespace

TEST_SUITE("ir") {

TEST_CASE("format round trip: write, read, run, same bits (sample models, every form)") {
  const auto dir = std::filesystem::temp_directory_path() / "ptq_roundtrip_test";
  std::filesystem::create_directories(dir);
  for (const char* name : {"mlp", "small_cnn"}) {
    for (ptq_samples::Form form : {ptq_samples::Form::kFloat, ptq_samples::Form::kHybrid, ptq_samples::Form::kInt8}) {
      const std::string label = std::string(name) + "/" + ptq_samples::form_name(form);
      CAPTURE(label);
      const ptq::ir::Graph g = ptq_samples::sample_model(name, form);
      auto bytes = ptq::ir::serialize(g);
      REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
      auto parsed = ptq::ir::parse_model(bytes->data(), bytes->size());
      REQUIRE_MESSAGE(parsed.ok(), parsed.status().to_string());
      const std::string path = (dir / (std::string(name) + "_" + ptq_samples::form_name(form) + ".ptq")).string();
      REQUIRE(ptq::ir::save_model(g, path).ok());
      auto loaded = ptq::ir::load_model(path);
      REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
      for (uint32_t seed : {1u, 2u}) {
        const std::vector<uint8_t> expected = run_bytes(g, seed);
        CHECK(run_bytes(*parsed, seed) == expected);
        CHECK(run_bytes(*loaded, seed) == expected);
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}
