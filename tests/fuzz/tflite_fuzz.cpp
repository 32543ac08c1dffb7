// tflite_fuzz.cpp: libFuzzer target for the .tflite reader (io/tflite_reader.hpp); see README.md.
//
// Each input is parsed from a 64-byte aligned copy owned by a shared_ptr (so constants take the
// borrowing path). A parse must fail with "at byte N: ..." (data_loss / unimplemented) or with
// the validator's invalid_argument, or give a graph the writer turns into a file that parses back
// to bytes the writer reproduces (serialize(parse(serialize(g))) == serialize(g)) -- or that the
// writer refuses with unimplemented (an op the reader maps but the writer does not express).
// Anything else -- a crash, a sanitizer report, an error of another form -- aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ptq/io/tflite.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "tflite_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto copy = std::make_shared<ptq::ir::Buffer>(ptq::ir::Buffer::copy_of(data, size));
  ptq::Result<ptq::ir::Graph> r = ptq::io::parse_tflite(copy->data(), size, copy);
  if (!r.ok()) {
    const ptq::Status& s = r.status();
    if (s.code() == ptq::StatusCode::kInvalidArgument) return 0;  // read, but the validator refused it
    if (s.message().rfind("at byte ", 0) != 0) fail("an error without a byte offset", s.to_string());
    if (s.code() != ptq::StatusCode::kDataLoss && s.code() != ptq::StatusCode::kUnimplemented) {
      fail("an error with an unexpected code", s.to_string());
    }
    return 0;
  }
  ptq::Result<std::vector<uint8_t>> once = ptq::io::serialize_tflite(*r);
  if (!once.ok()) {
    if (once.status().code() != ptq::StatusCode::kUnimplemented) fail("the writer failed", once.status().to_string());
    return 0;
  }
  ptq::Result<ptq::ir::Graph> again = ptq::io::parse_tflite(once->data(), once->size());
  if (!again.ok()) fail("a written graph does not parse", again.status().to_string());
  ptq::Result<std::vector<uint8_t>> twice = ptq::io::serialize_tflite(*again);
  if (!twice.ok() || *twice != *once) fail("serialize(parse(x)) is not a fixpoint", "");
  return 0;
}
