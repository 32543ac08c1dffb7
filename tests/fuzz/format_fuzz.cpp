// format_fuzz.cpp: libFuzzer target for the model file reader (ir/format.hpp); see README.md here.
//
// Each input is parsed twice: with checksums off (so mutations reach every structural check
// instead of stopping at a checksum) and with them on, from a 64-byte aligned copy owned by a
// shared_ptr (so constants take the borrowing path). A parse must fail with "at byte N: ..." or
// give a graph that serializes, parses back (checksums on) and serializes to the same bytes.
// Anything else -- a crash, a sanitizer report, an error without a byte offset, a graph the writer
// refuses or a round trip that is not a fixpoint -- aborts, and libFuzzer saves the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ptq/ir/format.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "format_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check(const ptq::Result<ptq::ir::Graph>& r) {
  if (r.ok()) {
    auto once = ptq::ir::serialize(*r);
    if (!once.ok()) fail("a parsed graph does not serialize", once.status().to_string());
    auto again = ptq::ir::parse_model(once->data(), once->size());
    if (!again.ok()) fail("a re-serialized graph does not parse", again.status().to_string());
    auto twice = ptq::ir::serialize(*again);
    if (!twice.ok() || *twice != *once) fail("serialize(parse(x)) is not a fixpoint", "");
    return;
  }
  const ptq::Status& s = r.status();
  if (s.message().rfind("at byte ", 0) != 0) fail("an error without a byte offset", s.to_string());
  if (s.code() != ptq::StatusCode::kDataLoss && s.code() != ptq::StatusCode::kUnimplemented) {
    fail("an error with an unexpected code", s.to_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  ptq::ir::ReadOptions unchecked;
  unchecked.verify_checksums = false;
  unchecked.verify_blob_checksum = false;
  check(ptq::ir::parse_model(data, size, {}, unchecked));

  auto aligned = std::make_shared<ptq::ir::Buffer>(ptq::ir::Buffer::copy_of(data, size));
  check(ptq::ir::parse_model(aligned->data(), size, aligned));
  return 0;
}
