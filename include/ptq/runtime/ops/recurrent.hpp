// runtime/ops/recurrent.hpp: the interpreter's Rnn, Lstm, Gru (float and hybrid, uni- and bidirectional).
// (Placeholder: every prepare below reports the op as not implemented yet.)
#pragma once

#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

inline Result<std::unique_ptr<PreparedOp>> prepare_rnn(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_lstm(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

inline Result<std::unique_ptr<PreparedOp>> prepare_gru(const PrepareContext& ctx) {
  return ctx.unsupported("not implemented yet");
}

}  // namespace runtime
PTQ_NAMESPACE_END
