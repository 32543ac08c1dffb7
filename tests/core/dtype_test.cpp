#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "ptq/core/dtype.hpp"
#include "ptq/core/shape.hpp"

TEST_SUITE("core") {
TEST_CASE("dtype: ranges of the spec's types") {
  CHECK(ptq::quant_min<int8_t>() == -128);
  CHECK(ptq::quant_min<int8_t>(/*narrow_range=*/true) == -127);
  CHECK(ptq::quant_max<int8_t>() == 127);
  CHECK(ptq::quant_min<uint8_t>() == 0);
  CHECK(ptq::quant_max<uint8_t>() == 255);
  CHECK(ptq::quant_min<int16_t>(true) == -32767);
  CHECK(ptq::dtype_size(ptq::DType::kFloat16) == 2);
  CHECK(std::string(ptq::dtype_name(ptq::DType::kUInt8)) == "uint8");
}

TEST_CASE("dtype: int4 packs two per byte, low nibble first, and round-trips") {
  const std::vector<int8_t> v = {-8, 7, 0, -1, 3};
  std::vector<uint8_t> packed(ptq::packed_int4_bytes(v.size()));
  REQUIRE(packed.size() == 3);
  ptq::pack_int4(v.data(), v.size(), packed.data());
  CHECK(packed[0] == 0x78);  // low nibble -8 = 0x8, high nibble 7
  CHECK(packed[1] == 0xF0);  // low 0, high -1 = 0xF
  CHECK(packed[2] == 0x03);  // odd count: high nibble left 0
  std::vector<int8_t> back(v.size());
  ptq::unpack_int4(packed.data(), v.size(), back.data());
  CHECK(back == v);
  std::vector<int8_t> all(16);
  for (int i = 0; i < 16; ++i) all[static_cast<std::size_t>(i)] = static_cast<int8_t>(i - 8);
  std::vector<uint8_t> p(8);
  ptq::pack_int4(all.data(), all.size(), p.data());
  std::vector<int8_t> all_back(16);
  ptq::unpack_int4(p.data(), all.size(), all_back.data());
  CHECK(all_back == all);
}

TEST_CASE("shape: sizes and axis splits") {
  const ptq::Shape s{2, 3, 5};
  CHECK(s.rank() == 3);
  CHECK(s.num_elements() == 30);
  CHECK(s.to_string() == "[2, 3, 5]");
  const auto a = ptq::split_at_axis(s, 1);
  CHECK(a.outer == 2);
  CHECK(a.channels == 3);
  CHECK(a.inner == 5);
  CHECK(ptq::Shape{}.num_elements() == 1);
}
}
