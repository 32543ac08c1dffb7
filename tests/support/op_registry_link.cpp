// The op registry, compiled once per test executable (see op_harness.hpp).
#include "ptq/runtime/op_registry.hpp"
#include "support/op_harness.hpp"

namespace ptq_test {

ptq::runtime::PrepareFn registered_prepare(ptq::ir::OpKind kind) { return ptq::runtime::find_prepare(kind); }

}  // namespace ptq_test
