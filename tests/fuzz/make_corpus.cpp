// make_corpus.cpp: writes the fuzz seed corpus (tests/fuzz/corpus/) -- valid models of every shape
// the tests use, plus one of a newer minor version with an unknown section and attribute tag, so
// the fuzzer starts from files that reach every part of the reader.
//
//   ptq_format_fuzz_corpus <directory>
#include <cstdio>
#include <string>
#include <vector>

#include "ir/format_models.hpp"
#include "ptq/ir/format.hpp"

namespace {

bool write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  struct Seed {
    const char* name;
    ptq::ir::Graph graph;
  };
  const Seed seeds[] = {{"full.ptq", ptq_test::full_model()},
                        {"small_cnn.ptq", ptq_test::small_cnn()},
                        {"tiny.ptq", ptq_test::tiny_model()},
                        {"empty.ptq", ptq_test::empty_model()}};
  std::vector<uint8_t> cnn;
  for (const Seed& s : seeds) {
    auto bytes = ptq::ir::serialize(s.graph);
    if (!bytes.ok() || !write(dir + "/" + s.name, *bytes)) {
      std::fprintf(stderr, "cannot write %s\n", s.name);
      return 1;
    }
    if (std::string(s.name) == "small_cnn.ptq") cnn = *bytes;
  }
  // A newer minor version: an unknown section (id 100) and the reshape's attribute under unknown tag 300.
  std::vector<uint8_t> newer = ptq_test::with_extra_section(cnn, 100, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  ptq_test::put(newer, ptq::ir::format::kHeaderMinor, ptq::ir::format::kMinorVersion + 1, 2);
  const auto ops = ptq_test::toc(newer)[2];  // the op table
  uint64_t op = ops.offset;
  for (int i = 0; i < 2; ++i) {
    const uint64_t ids = ptq_test::le(newer, op + 12, 4) + ptq_test::le(newer, op + 16, 4);
    op += (32 + 4 * ids + 7) / 8 * 8;
  }
  const uint64_t attrs = ptq_test::toc(newer)[3].offset + ptq_test::le(newer, op + ptq::ir::format::kOpAttrOffset, 8);
  ptq_test::put(newer, attrs, 300, 2);
  ptq_test::reseal(newer);
  if (!ptq::ir::parse_model(newer.data(), newer.size()).ok() || !write(dir + "/newer_minor.ptq", newer)) {
    std::fprintf(stderr, "cannot write newer_minor.ptq\n");
    return 1;
  }
  return 0;
}
