// runtime/ops/pool.hpp: the interpreter's AveragePool2D, MaxPool2D, Mean.
// (Placeholder: every prepare below reports the op as not implemented yet.)
#pragma once

#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

inline Result<std::unique_ptr<PreparedOp>> prepare_average_pool2d(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_max_pool2d(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_mean(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

}  // namespace runtime
PTQ_NAMESPACE_END
