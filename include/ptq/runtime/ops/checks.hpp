// runtime/ops/checks.hpp: the prepare-time checks every op family shares, written once so that
// each kind of mistake gets the same message whichever op it is found in.
//
//   PTQ_RETURN_IF_ERROR(expect_io(ctx, 2, 1));            // arity, required inputs present
//   PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, 0));       // input 0 and the output
//   Result<QuantParams> x = per_tensor_params<int8_t>(ctx, ctx.input(0), ctx.input_name(0));
//   PTQ_RETURN_IF_ERROR(check_params(ctx, kernel_params.validate()));  // a kernel's own check, named
#pragma once

#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>

#include "ptq/core/dtype.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/status.hpp"
#include "ptq/runtime/op_kernel.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

using PreparedResult = Result<std::unique_ptr<PreparedOp>>;

// Exactly `inputs` inputs, all present, and `outputs` outputs.
inline Status expect_io(const PrepareContext& ctx, int inputs, int outputs = 1) {
  if (ctx.input_count() != inputs || ctx.output_count() != outputs) {
    return ctx.error("expects " + std::to_string(inputs) + " input(s) and " + std::to_string(outputs) +
                     " output(s), got " + std::to_string(ctx.input_count()) + " and " +
                     std::to_string(ctx.output_count()));
  }
  for (int i = 0; i < inputs; ++i) {
    if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is absent");
  }
  return {};
}

// Input `input` has the output's dtype.
inline Status expect_same_dtype(const PrepareContext& ctx, int input) {
  if (ctx.input(input).dtype != ctx.output().dtype) {
    return ctx.error(ctx.output_name() + " is " + dtype_name(ctx.output().dtype) + " but " + ctx.input_name(input) +
                     " is " + dtype_name(ctx.input(input).dtype) + "; expected the same dtype");
  }
  return {};
}

// Input `input` has the output's shape.
inline Status expect_same_shape(const PrepareContext& ctx, int input) {
  if (ctx.input(input).shape != ctx.output().shape) {
    return ctx.error(ctx.output_name() + " has shape " + ctx.output().shape.to_string() + " but " +
                     ctx.input_name(input) + " has " + ctx.input(input).shape.to_string() + "; they must match");
  }
  return {};
}

// The per-tensor parameters of quantized tensor `t` of element type T (named `name` in messages):
// one scale, finite and positive, a zero point in T's range, and 0 for int16 (symmetric, TFLite's
// 16x8 scheme).
template <class T>
Result<QuantParams> per_tensor_params(const PrepareContext& ctx, const ir::Tensor& t, const std::string& name) {
  if (!t.quant.is_per_tensor()) {
    const std::string has = t.quant.empty() ? "none" : std::to_string(t.quant.scales.size()) + " scales along axis " +
                                                           std::to_string(t.quant.axis);
    return ctx.error(name + " is " + dtype_name(t.dtype) +
                     " and needs per-tensor quantization (one scale and zero point); it has " + has);
  }
  const QuantParams q = t.quant.params();
  if (!std::isfinite(q.scale) || !(q.scale > 0.0f)) {
    return ctx.error(name + " has scale " + std::to_string(q.scale) + "; it must be finite and positive");
  }
  if (q.zero_point < quant_min<T>() || q.zero_point > quant_max<T>()) {
    return ctx.error(name + " has zero point " + std::to_string(q.zero_point) + ", outside [" +
                     std::to_string(quant_min<T>()) + ", " + std::to_string(quant_max<T>()) + "]");
  }
  if (sizeof(T) == 2 && q.zero_point != 0) {
    return ctx.error(name + " is int16 with zero point " + std::to_string(q.zero_point) +
                     "; int16 activations are symmetric (zero point 0)");
  }
  return q;
}

// The same, into `out` (for prepare functions that collect several tensors' parameters).
template <class T>
Status per_tensor_params(const PrepareContext& ctx, const ir::Tensor& t, const std::string& name, QuantParams* out) {
  Result<QuantParams> q = per_tensor_params<T>(ctx, t, name);
  if (!q.ok()) return q.status();
  *out = *q;
  return {};
}

// Input `input` has one of the `supported` dtypes (else unimplemented, listing them).
inline Status expect_dtype_in(const PrepareContext& ctx, int input, std::initializer_list<DType> supported) {
  std::string list;
  for (DType t : supported) {
    if (ctx.input(input).dtype == t) return {};
    list += std::string(list.empty() ? "" : ", ") + dtype_name(t);
  }
  return ctx.unsupported(ctx.input_name(input) + " is " + dtype_name(ctx.input(input).dtype) + "; supported: " + list);
}

// A kernel's own validate() result as an error of this op (its message prefixed with the op).
inline Status check_params(const PrepareContext& ctx, const Status& s) {
  return s.ok() ? s : Status(s.code(), ctx.what() + ": " + s.message());
}

}  // namespace runtime
PTQ_NAMESPACE_END
