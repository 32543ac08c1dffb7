// runtime/ops/elementwise.hpp: the interpreter's Add, Sub, Mul and the pointwise activations.
// (Placeholder: every prepare below reports the op as not implemented yet.)
#pragma once

#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

inline Result<std::unique_ptr<PreparedOp>> prepare_add(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_sub(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_mul(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_relu(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_relu6(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_relu_n1_to_1(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_clip(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_leaky_relu(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_hard_swish(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_hard_sigmoid(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

}  // namespace runtime
PTQ_NAMESPACE_END
