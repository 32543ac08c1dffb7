// npy_fuzz.cpp: libFuzzer target for the .npy reader (io/npy.hpp); see README.md here.
//
// Each input is parsed as a .npy file. A parse must either fail with data_loss or unimplemented and
// a message "npy: at byte N: ...", or give an array whose bytes match its dtype and shape, that
// serialize_npy writes back, and whose written bytes parse to the same array and serialize to the
// same bytes again. Anything else -- a crash, a sanitizer report, an error without a byte offset, a
// wrong size or a round trip that is not a fixpoint -- aborts, and libFuzzer saves the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/io/npy.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "npy_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto r = ptq::io::parse_npy(data, size);
  if (!r.ok()) {
    const ptq::Status& s = r.status();
    if (s.message().rfind("npy: at byte ", 0) != 0) fail("an error without a byte offset", s.to_string());
    if (s.code() != ptq::StatusCode::kDataLoss && s.code() != ptq::StatusCode::kUnimplemented) {
      fail("an error with an unexpected code", s.to_string());
    }
    return 0;
  }
  const ptq::io::NpyArray& a = *r;
  if (a.data.size() != a.count() * ptq::dtype_size(a.dtype)) fail("data size disagrees with the shape", "");
  if (a.count() != 0 && reinterpret_cast<std::uintptr_t>(a.data.data()) % 64 != 0) fail("unaligned data", "");
  const std::vector<uint8_t> once = ptq::io::serialize_npy(a.dtype, a.shape, a.data.data());
  if (once.empty()) fail("a parsed array does not serialize", a.shape.to_string());
  auto again = ptq::io::parse_npy(once.data(), once.size());
  if (!again.ok()) fail("a serialized array does not parse", again.status().to_string());
  if (again->dtype != a.dtype || again->shape != a.shape || again->data.size() != a.data.size() ||
      (a.data.size() && std::memcmp(again->data.data(), a.data.data(), a.data.size()) != 0)) {
    fail("parse(serialize(a)) differs from a", a.shape.to_string());
  }
  if (ptq::io::serialize_npy(again->dtype, again->shape, again->data.data()) != once) {
    fail("serialize(parse(x)) is not a fixpoint", "");
  }
  return 0;
}
