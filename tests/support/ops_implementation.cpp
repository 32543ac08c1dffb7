// The one unit of the test programs that compiles the op registry and every op family: the test
// targets build with PTQ_OPS_EXTERN (runtime/op_registry.hpp), and this unit is the program's
// PTQ_OPS_IMPLEMENTATION. It lives in ptq_test_support, so it compiles once per build.
#define PTQ_OPS_IMPLEMENTATION
#include "ptq/runtime/op_registry.hpp"
