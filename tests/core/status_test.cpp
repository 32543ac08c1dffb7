#include <doctest/doctest.h>

#include "ptq/core/status.hpp"

TEST_SUITE("core") {
TEST_CASE("status: ok, error text and context") {
  ptq::Status ok;
  CHECK(ok.ok());
  CHECK(ok.to_string() == "ok");
  ptq::Status bad = ptq::invalid_argument("scale -1 is not positive");
  CHECK_FALSE(bad.ok());
  CHECK(bad.code() == ptq::StatusCode::kInvalidArgument);
  bad.with_context("tensor conv1/weights");
  CHECK(bad.to_string() == "invalid argument: tensor conv1/weights: scale -1 is not positive");
}

TEST_CASE("status: Result carries a value or the reason there is none") {
  ptq::Result<int> r = 7;
  REQUIRE(r.ok());
  CHECK(*r == 7);
  ptq::Result<int> e = ptq::data_loss("truncated at byte 12");
  CHECK_FALSE(e.ok());
  CHECK(e.status().message() == "truncated at byte 12");
  ptq::Result<int> from_ok = ptq::Status();  // a bug in the caller, reported, never a value
  CHECK_FALSE(from_ok.ok());
  CHECK(from_ok.status().code() == ptq::StatusCode::kInternal);
}
}
