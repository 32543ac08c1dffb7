// reference/embedding.hpp: float and int8 lookups, the hybrid (dequantizing) lookup with per-tensor
// and per-row scales, and validate() naming a bad id and its position.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptq/kernels/reference/embedding.hpp"

namespace {

ptq::EmbeddingLookupParams params(int64_t rows, int64_t row_size, int64_t ids, std::vector<float> scales = {}) {
  ptq::EmbeddingLookupParams p;
  p.num_rows = rows;
  p.row_size = row_size;
  p.num_ids = ids;
  p.scales = std::move(scales);
  return p;
}

}  // namespace

TEST_SUITE("kernels") {

TEST_CASE("reference embedding_lookup: float rows gathered by id, repeats allowed") {
  // Table [3, 2, 2] (row_size 4); ids [2, 0, 2, 1].
  const std::vector<float> table = {0.5f, -1.0f, 1.5f, 2.0f,     // row 0
                                    3.25f, 4.0f, -5.0f, 6.0f,    // row 1
                                    -7.5f, 8.0f, 9.0f, -10.0f};  // row 2
  const std::vector<int32_t> ids = {2, 0, 2, 1};
  const ptq::EmbeddingLookupParams p = params(3, 4, 4);
  REQUIRE(p.validate(ids.data()).ok());
  std::vector<float> out(16, 0.0f);
  ptq::reference::embedding_lookup(p, ids.data(), table.data(), out.data());
  CHECK(out == std::vector<float>{-7.5f, 8.0f, 9.0f, -10.0f, 0.5f, -1.0f, 1.5f, 2.0f,  //
                                  -7.5f, 8.0f, 9.0f, -10.0f, 3.25f, 4.0f, -5.0f, 6.0f});
}

TEST_CASE("reference embedding_lookup: int8 rows pass through unchanged") {
  const std::vector<int8_t> table = {1, -2, 3, 4, -128, 127};  // [3, 2]
  const std::vector<int32_t> ids = {2, 0};
  const ptq::EmbeddingLookupParams p = params(3, 2, 2);
  REQUIRE(p.validate(ids.data()).ok());
  std::vector<int8_t> out(4, 0);
  ptq::reference::embedding_lookup(p, ids.data(), table.data(), out.data());
  CHECK(out == std::vector<int8_t>{-128, 127, 1, -2});
  // No ids: nothing is written, and a null id list is fine.
  const ptq::EmbeddingLookupParams none = params(3, 2, 0);
  CHECK(none.validate(nullptr).ok());
  std::vector<int8_t> untouched(2, 9);
  ptq::reference::embedding_lookup(none, nullptr, table.data(), untouched.data());
  CHECK(untouched == std::vector<int8_t>{9, 9});
}

TEST_CASE("reference embedding_lookup_hybrid: int8 table dequantized with a per-tensor scale") {
  // out = float(q) * 0.5; ids [2, 0, 2]: row 2 = [-128, 127] -> [-64, 63.5], row 0 = [1, -2] -> [0.5, -1].
  const std::vector<int8_t> table = {1, -2, 3, 4, -128, 127};
  const std::vector<int32_t> ids = {2, 0, 2};
  const ptq::EmbeddingLookupParams p = params(3, 2, 3, {0.5f});
  REQUIRE(p.validate_hybrid(ids.data()).ok());
  std::vector<float> out(6, 0.0f);
  ptq::reference::embedding_lookup_hybrid(p, ids.data(), table.data(), out.data());
  CHECK(out == std::vector<float>{-64.0f, 63.5f, 0.5f, -1.0f, -64.0f, 63.5f});
  // A scale that is not a power of two: one float multiply per element, float(q) * scale.
  const ptq::EmbeddingLookupParams tenth = params(3, 2, 1, {0.1f});
  ptq::reference::embedding_lookup_hybrid(tenth, ids.data() + 1, table.data(), out.data());
  CHECK(out[0] == 1.0f * 0.1f);
  CHECK(out[1] == -2.0f * 0.1f);
}

TEST_CASE("reference embedding_lookup_hybrid: per-row scales (quantized dimension 0)") {
  // scales [0.5, 0.25, 2]; ids [1, 2, 0]:
  //   row 1 = [3, 4] * 0.25 = [0.75, 1];  row 2 = [-128, 127] * 2 = [-256, 254];  row 0 = [1, -2] * 0.5.
  const std::vector<int8_t> table = {1, -2, 3, 4, -128, 127};
  const std::vector<int32_t> ids = {1, 2, 0};
  const ptq::EmbeddingLookupParams p = params(3, 2, 3, {0.5f, 0.25f, 2.0f});
  REQUIRE(p.validate_hybrid(ids.data()).ok());
  std::vector<float> out(6, 0.0f);
  ptq::reference::embedding_lookup_hybrid(p, ids.data(), table.data(), out.data());
  CHECK(out == std::vector<float>{0.75f, 1.0f, -256.0f, 254.0f, 0.5f, -1.0f});
}

TEST_CASE("reference embedding_lookup: validate() names the bad id and its position") {
  const std::vector<int32_t> ids = {0, 3, 1};
  const ptq::EmbeddingLookupParams p = params(3, 2, 3, {1.0f});
  ptq::Status s = p.validate(ids.data());
  CAPTURE(s.to_string());
  CHECK(s.code() == ptq::StatusCode::kOutOfRange);
  CHECK(s.message().find("ids[1] = 3") != std::string::npos);
  CHECK(s.message().find("[0, 2]") != std::string::npos);
  CHECK(p.validate_hybrid(ids.data()).message().find("ids[1] = 3") != std::string::npos);

  const std::vector<int32_t> negative = {-1};
  s = params(3, 2, 1).validate(negative.data());
  CHECK(s.message().find("ids[0] = -1") != std::string::npos);

  const std::vector<int32_t> fine = {0, 2};
  CHECK(params(3, 2, 2, {0.5f, 0.5f}).validate_hybrid(fine.data()).message().find("scales") != std::string::npos);
  CHECK(params(3, 2, 2, {0.5f, -0.5f, 0.5f}).validate_hybrid(fine.data()).message().find("scales[1]") !=
        std::string::npos);
  CHECK(params(3, 2, 2, {0.5f, 0.0f, 0.5f}).validate_hybrid(fine.data()).ok());  // an all-zero row has scale 0
  CHECK(params(3, -2, 2).validate(fine.data()).message().find("row_size") != std::string::npos);
}
}
