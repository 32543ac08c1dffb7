// runtime/ops/conv.hpp: the interpreter's Conv2D, DepthwiseConv2D, FullyConnected: float, hybrid and int8 through the SIMD kernels.
// (Placeholder: every prepare below reports the op as not implemented yet.)
#pragma once

#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

inline Result<std::unique_ptr<PreparedOp>> prepare_conv2d(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_depthwise_conv2d(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_fully_connected(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

}  // namespace runtime
PTQ_NAMESPACE_END
