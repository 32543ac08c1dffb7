// runtime/ops/data.hpp: the interpreter's Reshape, Flatten, Transpose, Concatenation, Pad, EmbeddingLookup, Quantize, Dequantize, BatchMatMul.
// (Placeholder: every prepare below reports the op as not implemented yet.)
#pragma once

#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

inline Result<std::unique_ptr<PreparedOp>> prepare_reshape(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_flatten(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_transpose(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_concatenation(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_pad(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_embedding_lookup(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_quantize(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_dequantize(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_batch_matmul(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

}  // namespace runtime
PTQ_NAMESPACE_END
