// The op registry (runtime/op_registry.hpp, compiled in support/ops_implementation.cpp) covers the
// IR's whole op set.
#include <doctest/doctest.h>

#include <string>

#include "ptq/ir/graph.hpp"
#include "support/op_harness.hpp"

TEST_SUITE("runtime") {

TEST_CASE("registry: every op kind of the IR has a prepare function") {
  for (ptq::ir::OpKind kind : ptq::ir::kAllOpKinds) {
    const std::string name = ptq::ir::op_kind_name(kind);
    CAPTURE(name);
    const bool registered = ptq::runtime::find_prepare(kind) != nullptr;
    CHECK(registered);
  }
}

TEST_CASE("registry: op kind numbers are the file format's and are all listed") {
  // Spot values of the format (format.md), and the check the reader relies on.
  CHECK(static_cast<int>(ptq::ir::OpKind::kConv2D) == 1);
  CHECK(static_cast<int>(ptq::ir::OpKind::kGru) == 82);
  int known = 0;
  for (uint32_t v = 0; v < 200; ++v) known += ptq::ir::is_known_op_kind(v) ? 1 : 0;
  CHECK(known == static_cast<int>(sizeof(ptq::ir::kAllOpKinds) / sizeof(ptq::ir::kAllOpKinds[0])));
  CHECK_FALSE(ptq::ir::is_known_op_kind(0));
  CHECK_FALSE(ptq::ir::is_known_op_kind(0x10000 + 1));
}

}

