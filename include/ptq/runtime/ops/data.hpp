// runtime/ops/data.hpp: the interpreter's Reshape, Flatten, Transpose, Concatenation, Pad,
// EmbeddingLookup, Quantize, Dequantize and BatchMatMul.
//
// What each op accepts (anything else is an error naming the op and the tensor):
//   Reshape, Flatten   any dtype; a byte copy (skipped when the interpreter aliases output and
//                      input). The output keeps the input's dtype and quantization exactly (TFLite's
//                      converter gives reshapes shared parameters; a mismatch would silently rescale).
//   Transpose          any dtype but int4, rank <= 6 (reference::transpose, moved by element size).
//                      Quantized: the same parameters; a per-axis axis moves with the permutation.
//   Concatenation      float32, with a fused activation (ptq's extension: TFLite rejects any);
//                      int8 / uint8 / int16 with per-tensor parameters: inputs whose parameters equal
//                      the output's are copied, others requantized as TFLite's uint8
//                      ConcatenationWithScaling does (reference/data.hpp; TFLite's int8 kernel
//                      requires equal parameters, so it agrees wherever TFLite runs); other dtypes
//                      (int32, int64, float16, unquantized integers) are copied, without activation.
//   Pad                any dtype but int4, rank <= 6, non-negative paddings. The pad value is 0
//                      (float: +0.0) or, for a quantized tensor, its zero point (TFLite PAD). Input
//                      and output share their (per-tensor) parameters.
//   EmbeddingLookup    ids int32 (any shape), table [rows, ...]: output = table's dtype, a row copy
//                      (quantized: the same per-tensor parameters); or int8 table -> float32 output,
//                      the hybrid lookup (per tensor or per row scales, zero points 0). Constant ids
//                      are checked at prepare. TFLite fails Eval on an id outside [0, rows); run()
//                      cannot fail, so such an id yields a row of real zeros (0, or the zero point).
//   Quantize           float32 -> int8 / uint8 / int16, per tensor or per axis (kernels/quantize.hpp,
//                      the SIMD front end); int8 / uint8 / int16 -> int8 / uint8 / int16 requantize,
//                      input per tensor or per axis, output per tensor, in the interpreter's rounding
//                      mode (TFLite allows int16 -> int8/int16 and int8/uint8 -> int8/uint8; ptq
//                      runs all nine pairs with the same formula).
//   Dequantize         int8 / uint8 / int16 / int32 (per tensor or per axis) and float16 -> float32
//                      (kernels/quantize.hpp, kernels/float16.hpp).
//   BatchMatMul        float32 x float32 -> float32 and int8 x int8 -> int8 with per-tensor
//                      parameters (reference/batch_matmul.hpp, bit-exact with TFLite's int8 kernel).
//                      Hybrid (float x int8) is not implemented.
// Scales: quantize / dequantize accept a zero scale (qparams.hpp gives one to an all-zero range);
// ops that divide by an output scale require it positive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/dtype.hpp"
#include "ptq/core/qparams.hpp"
#include "ptq/core/shape.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/kernels/reference/activation.hpp"
#include "ptq/kernels/reference/batch_matmul.hpp"
#include "ptq/kernels/reference/data.hpp"
#include "ptq/kernels/reference/embedding.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/ops/checks.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {
namespace data_ops {

inline Status expect_shape(const PrepareContext& ctx, const Shape& expected) {
  if (ctx.output().shape != expected) {
    return ctx.error(ctx.output_name() + " has shape " + ctx.output().shape.to_string() + "; expected " +
                     expected.to_string());
  }
  return {};
}

inline std::string describe_quant(const ir::Quantization& q) {
  if (q.empty()) return "not quantized";
  if (q.is_per_tensor()) {
    return "scale " + std::to_string(q.scales[0]) + ", zero point " + std::to_string(q.zero_points.at(0));
  }
  return "per axis " + std::to_string(q.axis) + " (" + std::to_string(q.scales.size()) + " scales)";
}

// The output's quantization equals `expected` (the input's, possibly with a moved axis).
inline Status expect_same_quant(const PrepareContext& ctx, int input, const ir::Quantization& expected) {
  if (ctx.output().quant != expected) {
    return ctx.error(ctx.output_name() + " is quantized with " + describe_quant(ctx.output().quant) + " but " +
                     ctx.input_name(input) + " with " + describe_quant(ctx.input(input).quant) +
                     "; this op moves values unchanged, so both must have the same parameters");
  }
  return {};
}

// A tensor of type T quantized per tensor: a finite scale (> 0, or >= 0 with allow_zero_scale) and a
// zero point in T's range. `label` names the tensor ("input 0 'x'").
template <class T>
Status check_per_tensor(const PrepareContext& ctx, const ir::Tensor& t, const std::string& label,
                        bool allow_zero_scale = false) {
  if (t.quant.empty()) {
    return ctx.error(label + " is " + dtype_name(t.dtype) + " without quantization parameters");
  }
  if (!t.quant.is_per_tensor()) {
    return ctx.unsupported(label + " is quantized " + describe_quant(t.quant) + "; expected per tensor");
  }
  if (t.quant.zero_points.size() != 1)
    return ctx.error(label + " has one scale but " + std::to_string(t.quant.zero_points.size()) + " zero points");
  const QuantParams p = t.quant.params();
  const Status s = validate_quant_params<T>(p, label);
  if (!s.ok()) return ctx.error(s.message());
  if (!allow_zero_scale && !(p.scale > 0.0f))
    return ctx.error(label + ": scale " + std::to_string(p.scale) + " is not positive");
  return {};
}

// A tensor of type T quantized per axis: axis, counts, scales and zero points valid for its shape.
template <class T>
Status check_per_axis(const PrepareContext& ctx, const ir::Tensor& t, const std::string& label) {
  const Status s = validate_quant_params<T>(t.quant.axis_params(), t.shape, label);
  if (!s.ok()) return ctx.error(s.message());
  return {};
}

// Calls fn(T{}) for the quantized activation types int8, uint8, int16; false for any other dtype.
template <class Fn>
bool visit_quantized_type(DType t, Fn&& fn) {
  switch (t) {
    case DType::kInt8: fn(int8_t{}); return true;
    case DType::kUInt8: fn(uint8_t{}); return true;
    case DType::kInt16: fn(int16_t{}); return true;
    default: return false;
  }
}

// Calls fn(U{}) with the unsigned integer type of t's element size, for kernels that only move
// elements; false for int4 (two elements per byte).
template <class Fn>
bool visit_element_bits(DType t, Fn&& fn) {
  switch (dtype_size(t)) {
    case 1: fn(uint8_t{}); return true;
    case 2: fn(uint16_t{}); return true;
    case 4: fn(uint32_t{}); return true;
    case 8: fn(uint64_t{}); return true;
    default: return false;
  }
}

// The bits of real zero in a tensor: 0 (float +0.0, half +0.0, unquantized integers) or the
// per-tensor zero point, as an element of t's size.
template <class U>
U zero_bits(const ir::Tensor& t) {
  if (t.quant.is_per_tensor() && t.quant.zero_points.size() == 1 && dtype_is_quantized_integer(t.dtype)) {
    return static_cast<U>(static_cast<int64_t>(t.quant.zero_points[0]));
  }
  return U{0};
}

inline PreparedResult prepare_copy(const PrepareContext& ctx, const Shape* required_output_shape) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1, 1));
  PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, 0));
  const ir::Tensor& x = ctx.input(0);
  const ir::Tensor& y = ctx.output();
  if (x.shape.num_elements() != y.shape.num_elements()) {
    return ctx.error(ctx.output_name() + " " + y.shape.to_string() + " has " + std::to_string(y.shape.num_elements()) +
                     " elements but " + ctx.input_name(0) + " " + x.shape.to_string() + " has " +
                     std::to_string(x.shape.num_elements()));
  }
  if (required_output_shape != nullptr) PTQ_RETURN_IF_ERROR(expect_shape(ctx, *required_output_shape));
  PTQ_RETURN_IF_ERROR(expect_same_quant(ctx, 0, x.quant));
  const std::size_t bytes = x.byte_size();
  return make_prepared_op([bytes](const RunContext& c) {
    if (bytes != 0 && c.outputs[0] != c.inputs[0]) std::memcpy(c.outputs[0], c.inputs[0], bytes);
  });
}

}  // namespace data_ops

inline Result<std::unique_ptr<PreparedOp>> prepare_reshape(const PrepareContext& ctx) {
  return data_ops::prepare_copy(ctx, nullptr);
}

// Flatten (ONNX, axis 1): [d0, d1, ...] -> [d0, d1 * ...]; a scalar becomes [1, 1].
inline Result<std::unique_ptr<PreparedOp>> prepare_flatten(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1, 1));
  const Shape& in = ctx.input(0).shape;
  const Shape expected = in.rank() == 0 ? Shape{1, 1} : Shape{in[0], in.flat_size(1, in.rank())};
  return data_ops::prepare_copy(ctx, &expected);
}

inline Result<std::unique_ptr<PreparedOp>> prepare_transpose(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1, 1));
  PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, 0));
  const ir::Tensor& x = ctx.input(0);
  auto made = TransposeParams::make(x.shape, ctx.attrs().perm);
  if (!made.ok()) return ctx.error(ctx.input_name(0) + " " + x.shape.to_string() + ": " + made.status().message());
  const TransposeParams p = made.value();
  PTQ_RETURN_IF_ERROR(data_ops::expect_shape(ctx, p.output_shape()));
  ir::Quantization expected = x.quant;
  if (expected.is_per_axis()) {
    for (int i = 0; i < p.rank; ++i) {
      if (p.perm[i] == x.quant.axis) expected.axis = i;
    }
  }
  PTQ_RETURN_IF_ERROR(data_ops::expect_same_quant(ctx, 0, expected));
  std::unique_ptr<PreparedOp> op;
  const bool known = data_ops::visit_element_bits(x.dtype, [&](auto bits) {
    using U = decltype(bits);
    op = make_prepared_op([p](const RunContext& c) { reference::transpose<U>(p, c.in<U>(0), c.out<U>()); });
  });
  if (!known)
    return ctx.unsupported(ctx.input_name(0) + " is " + dtype_name(x.dtype) + ", which Transpose does not support");
  return op;
}

inline Result<std::unique_ptr<PreparedOp>> prepare_concatenation(const PrepareContext& ctx) {
  if (ctx.input_count() < 1 || ctx.output_count() != 1) {
    return ctx.error("expects at least 1 input and 1 output, got " + std::to_string(ctx.input_count()) + " and " +
                     std::to_string(ctx.output_count()));
  }
  const ir::Tensor& y = ctx.output();
  std::vector<Shape> shapes;
  bool quantized = y.is_quantized();
  for (int i = 0; i < ctx.input_count(); ++i) {
    if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is absent");
    PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, i));
    shapes.push_back(ctx.input(i).shape);
    quantized = quantized || ctx.input(i).is_quantized();
  }
  auto made = ConcatenationParams::make(shapes, ctx.attrs().axis);
  if (!made.ok()) return ctx.error(made.status().message());
  ConcatenationParams p = std::move(made).value();
  {
    Shape expected = shapes[0];
    const int axis = ctx.attrs().axis < 0 ? ctx.attrs().axis + expected.rank() : ctx.attrs().axis;
    expected[axis] = p.output_axis_size();
    PTQ_RETURN_IF_ERROR(data_ops::expect_shape(ctx, expected));
  }
  const FusedActivation act = ctx.attrs().activation;
  const int n = ctx.input_count();

  if (y.dtype == DType::kFloat32) {
    if (quantized) {
      std::string which = ctx.output_name();
      for (int i = n - 1; i >= 0; --i) {
        if (ctx.input(i).is_quantized()) which = ctx.input_name(i);
      }
      return ctx.error(which + " is float32 with quantization parameters");
    }
    std::vector<const float*> ptrs(static_cast<std::size_t>(n));
    return make_prepared_op([p, act, ptrs](const RunContext& c) mutable {
      for (std::size_t i = 0; i < ptrs.size(); ++i) ptrs[i] = c.in<float>(static_cast<int>(i));
      reference::concatenation_float(p, ptrs.data(), c.out<float>(), act);
    });
  }

  if (quantized) {
    std::unique_ptr<PreparedOp> op;
    Status status;
    const bool known = data_ops::visit_quantized_type(y.dtype, [&](auto type) {
      using T = decltype(type);
      status = data_ops::check_per_tensor<T>(ctx, y, ctx.output_name());
      for (int i = 0; i < n && status.ok(); ++i) {
        status = data_ops::check_per_tensor<T>(ctx, ctx.input(i), ctx.input_name(i), /*allow_zero_scale=*/true);
        if (status.ok()) p.input_params.push_back(ctx.input(i).quant.params());
      }
      if (!status.ok()) return;
      p.output_params = y.quant.params();
      const QuantizedActivationRange r = reference::calculate_activation_range_quantized<T>(act, p.output_params);
      p.activation_min = r.min;
      p.activation_max = r.max;
      const Status v = p.validate_quantized<T>();
      if (!v.ok()) {
        status = ctx.error(v.message());
        return;
      }
      std::vector<const T*> ptrs(static_cast<std::size_t>(n));
      op = make_prepared_op([p, ptrs](const RunContext& c) mutable {
        for (std::size_t i = 0; i < ptrs.size(); ++i) ptrs[i] = c.in<T>(static_cast<int>(i));
        reference::concatenation_quantized<T>(p, ptrs.data(), c.out<T>());
      });
    });
    if (!known)
      return ctx.unsupported(ctx.output_name() + " is quantized " + dtype_name(y.dtype) +
                             "; quantized Concatenation supports int8, uint8 and int16");
    if (!status.ok()) return status;
    return op;
  }

  if (act != FusedActivation::kNone) {
    return ctx.unsupported(std::string("fused activation ") + fused_activation_name(act) + " on " +
                           dtype_name(y.dtype) + " tensors (only float32 and quantized outputs take one)");
  }
  std::unique_ptr<PreparedOp> op;
  const bool known = data_ops::visit_element_bits(y.dtype, [&](auto bits) {
    using U = decltype(bits);
    std::vector<const U*> ptrs(static_cast<std::size_t>(n));
    op = make_prepared_op([p, ptrs](const RunContext& c) mutable {
      for (std::size_t i = 0; i < ptrs.size(); ++i) ptrs[i] = c.in<U>(static_cast<int>(i));
      reference::concatenation<U>(p, ptrs.data(), c.out<U>());
    });
  });
  if (!known)
    return ctx.unsupported(ctx.output_name() + " is " + dtype_name(y.dtype) + ", which Concatenation does not support");
  return op;
}

inline Result<std::unique_ptr<PreparedOp>> prepare_pad(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1, 1));
  PTQ_RETURN_IF_ERROR(expect_same_dtype(ctx, 0));
  const ir::Tensor& x = ctx.input(0);
  const ir::Tensor& y = ctx.output();
  auto made = PadParams::make(x.shape, ctx.attrs().paddings);
  if (!made.ok()) return ctx.error(ctx.input_name(0) + " " + x.shape.to_string() + ": " + made.status().message());
  const PadParams p = made.value();
  PTQ_RETURN_IF_ERROR(data_ops::expect_shape(ctx, p.output_shape()));
  PTQ_RETURN_IF_ERROR(data_ops::expect_same_quant(ctx, 0, x.quant));
  if (y.is_quantized()) {
    if (!y.quant.is_per_tensor()) {
      return ctx.unsupported(ctx.output_name() + " is quantized " + data_ops::describe_quant(y.quant) +
                             "; Pad needs one zero point to pad with");
    }
    Status status;
    if (data_ops::visit_quantized_type(y.dtype, [&](auto type) {
          status = data_ops::check_per_tensor<decltype(type)>(ctx, y, ctx.output_name(), /*allow_zero_scale=*/true);
        })) {
      PTQ_RETURN_IF_ERROR(status);
    }
  }
  std::unique_ptr<PreparedOp> op;
  const bool known = data_ops::visit_element_bits(x.dtype, [&](auto bits) {
    using U = decltype(bits);
    const U pad_value = data_ops::zero_bits<U>(y);
    op = make_prepared_op(
        [p, pad_value](const RunContext& c) { reference::pad<U>(p, c.in<U>(0), pad_value, c.out<U>()); });
  });
  if (!known) return ctx.unsupported(ctx.input_name(0) + " is " + dtype_name(x.dtype) + ", which Pad does not support");
  return op;
}

inline Result<std::unique_ptr<PreparedOp>> prepare_embedding_lookup(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 2, 1));
  const ir::Tensor& ids = ctx.input(0);
  const ir::Tensor& table = ctx.input(1);
  const ir::Tensor& y = ctx.output();
  if (ids.dtype != DType::kInt32) {
    return ctx.error(ctx.input_name(0) + " (ids) is " + dtype_name(ids.dtype) + "; expected int32");
  }
  if (table.shape.rank() < 1) return ctx.error(ctx.input_name(1) + " (table) is a scalar; expected [rows, ...]");
  std::vector<int64_t> dims = ids.shape.dims();
  for (int d = 1; d < table.shape.rank(); ++d) dims.push_back(table.shape[d]);
  PTQ_RETURN_IF_ERROR(data_ops::expect_shape(ctx, Shape(dims)));

  EmbeddingLookupParams p;
  p.num_rows = table.shape[0];
  p.row_size = table.shape.flat_size(1, table.shape.rank());
  p.num_ids = ids.shape.num_elements();
  if (const int32_t* constant_ids = ctx.constant<int32_t>(0)) {
    const Status s = p.validate(constant_ids);
    if (!s.ok()) return ctx.error(ctx.input_name(0) + ": " + s.message());
  }
  const int64_t num_ids = p.num_ids, row_size = p.row_size, num_rows = p.num_rows;
  EmbeddingLookupParams one = p;  // the kernels' view of a single lookup
  one.num_ids = 1;

  if (table.dtype == DType::kInt8 && y.dtype == DType::kFloat32) {  // hybrid
    if (table.quant.empty()) return ctx.error(ctx.input_name(1) + " is int8 without quantization parameters");
    if (table.quant.is_per_axis() &&
        (table.quant.axis != 0 || static_cast<int64_t>(table.quant.scales.size()) != num_rows)) {
      return ctx.unsupported(ctx.input_name(1) + " is quantized " + data_ops::describe_quant(table.quant) +
                             "; the hybrid lookup takes one scale or one per row (axis 0, " + std::to_string(num_rows) +
                             " scales)");
    }
    for (int32_t zp : table.quant.zero_points) {
      if (zp != 0) {
        return ctx.unsupported(ctx.input_name(1) + " has zero point " + std::to_string(zp) +
                               "; the hybrid lookup needs a symmetric table (zero point 0), as TFLite's");
      }
    }
    one.scales = table.quant.scales;
    EmbeddingLookupParams scales_only = one;  // checks the sizes and scales; ids are checked above or at run
    scales_only.num_ids = 0;
    const Status s = scales_only.validate_hybrid(nullptr);
    if (!s.ok()) return ctx.error(ctx.input_name(1) + ": " + s.message());
    return make_prepared_op([one, num_ids, row_size, num_rows](const RunContext& c) {
      const int32_t* id = c.in<int32_t>(0);
      float* out = c.out<float>();
      for (int64_t i = 0; i < num_ids; ++i, out += row_size) {
        if (id[i] >= 0 && id[i] < num_rows) {
          reference::embedding_lookup_hybrid(one, id + i, c.in<int8_t>(1), out);
        } else {
          std::fill(out, out + row_size, 0.0f);
        }
      }
    });
  }

  if (table.dtype != y.dtype) {
    return ctx.unsupported(ctx.input_name(1) + " is " + dtype_name(table.dtype) + " and " + ctx.output_name() + " " +
                           dtype_name(y.dtype) +
                           "; EmbeddingLookup copies rows (same dtype) or dequantizes an int8 table to float32");
  }
  PTQ_RETURN_IF_ERROR(data_ops::expect_same_quant(ctx, 1, table.quant));
  if (y.is_quantized()) {
    if (!y.quant.is_per_tensor()) {
      return ctx.unsupported(ctx.output_name() + " is quantized " + data_ops::describe_quant(y.quant) +
                             "; a row copy keeps per-tensor parameters only");
    }
    Status status;  // the zero point fills the rows of out-of-range ids
    if (data_ops::visit_quantized_type(y.dtype, [&](auto type) {
          status = data_ops::check_per_tensor<decltype(type)>(ctx, y, ctx.output_name(), /*allow_zero_scale=*/true);
        })) {
      PTQ_RETURN_IF_ERROR(status);
    }
  }
  std::unique_ptr<PreparedOp> op;
  const bool known = data_ops::visit_element_bits(table.dtype, [&](auto bits) {
    using U = decltype(bits);
    const U zero = data_ops::zero_bits<U>(y);
    op = make_prepared_op([one, num_ids, row_size, num_rows, zero](const RunContext& c) {
      const int32_t* id = c.in<int32_t>(0);
      U* out = c.out<U>();
      for (int64_t i = 0; i < num_ids; ++i, out += row_size) {
        if (id[i] >= 0 && id[i] < num_rows) {
          reference::embedding_lookup<U>(one, id + i, c.in<U>(1), out);
        } else {
          std::fill(out, out + row_size, zero);
        }
      }
    });
  });
  if (!known)
    return ctx.unsupported(ctx.input_name(1) + " is " + dtype_name(table.dtype) +
                           ", which EmbeddingLookup does not support");
  return op;
}

inline Result<std::unique_ptr<PreparedOp>> prepare_quantize(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1, 1));
  const ir::Tensor& x = ctx.input(0);
  const ir::Tensor& y = ctx.output();
  if (x.shape != y.shape) {
    return ctx.error(ctx.output_name() + " has shape " + y.shape.to_string() + " but " + ctx.input_name(0) + " has " +
                     x.shape.to_string());
  }
  if (y.quant.empty())
    return ctx.error(ctx.output_name() + " is " + dtype_name(y.dtype) + " without quantization parameters");
  const Isa isa = ctx.options().isa;
  const RoundingMode rounding = ctx.options().rounding;
  const Shape shape = x.shape;
  const auto n = static_cast<std::size_t>(x.shape.num_elements());
  std::unique_ptr<PreparedOp> op;
  Status status;

  if (x.dtype == DType::kFloat32) {
    const bool known = data_ops::visit_quantized_type(y.dtype, [&](auto type) {
      using T = decltype(type);
      if (y.quant.is_per_axis()) {
        status = data_ops::check_per_axis<T>(ctx, y, ctx.output_name());
        if (!status.ok()) return;
        const PerAxisQuantParams qp = y.quant.axis_params();
        op = make_prepared_op([qp, shape, isa](const RunContext& c) {
          quantize_per_axis<T>(c.in<float>(0), c.out<T>(), shape, qp, isa);
        });
      } else {
        status = data_ops::check_per_tensor<T>(ctx, y, ctx.output_name(), /*allow_zero_scale=*/true);
        if (!status.ok()) return;
        const QuantParams qp = y.quant.params();
        op = make_prepared_op(
            [qp, n, isa](const RunContext& c) { quantize<T>(c.in<float>(0), c.out<T>(), n, qp, isa); });
      }
    });
    if (!known)
      return ctx.unsupported(ctx.output_name() + " is " + dtype_name(y.dtype) +
                             "; Quantize produces int8, uint8 or int16");
    if (!status.ok()) return status;
    return op;
  }

  // Requantize: integer in, integer out.
  bool out_known = false;
  const bool in_known = data_ops::visit_quantized_type(x.dtype, [&](auto in_type) {
    using In = decltype(in_type);
    out_known = data_ops::visit_quantized_type(y.dtype, [&](auto out_type) {
      using Out = decltype(out_type);
      status = data_ops::check_per_tensor<Out>(ctx, y, ctx.output_name());
      if (!status.ok()) return;
      const QuantParams out_params = y.quant.params();
      if (x.quant.empty()) {
        status = ctx.error(ctx.input_name(0) + " is " + dtype_name(x.dtype) + " without quantization parameters");
        return;
      }
      if (x.quant.is_per_axis()) {
        status = data_ops::check_per_axis<In>(ctx, x, ctx.input_name(0));
        if (!status.ok()) return;
        const PerAxisRequantizeParams rp = make_requantize_params(x.quant.axis_params(), out_params, rounding);
        for (std::size_t c = 0; c < rp.multipliers.size(); ++c) {
          const Status v =
              validate_requantize_params<In, Out>(channel_params(rp, c), "requantize channel " + std::to_string(c));
          if (!v.ok()) {
            status = ctx.error(v.message());
            return;
          }
        }
        op = make_prepared_op([rp, shape, isa](const RunContext& c) {
          requantize_per_axis<In, Out>(c.in<In>(0), c.out<Out>(), shape, rp, isa);
        });
      } else {
        status = data_ops::check_per_tensor<In>(ctx, x, ctx.input_name(0), /*allow_zero_scale=*/true);
        if (!status.ok()) return;
        const RequantizeParams rp = make_requantize_params(x.quant.params(), out_params, rounding);
        const Status v = validate_requantize_params<In, Out>(rp);
        if (!v.ok()) {
          status = ctx.error(v.message());
          return;
        }
        op = make_prepared_op(
            [rp, n, isa](const RunContext& c) { requantize<In, Out>(c.in<In>(0), c.out<Out>(), n, rp, isa); });
      }
    });
  });
  if (!in_known) {
    return ctx.unsupported(ctx.input_name(0) + " is " + dtype_name(x.dtype) +
                           "; Quantize takes float32, or int8 / uint8 / int16 to requantize");
  }
  if (!out_known) {
    return ctx.unsupported(ctx.output_name() + " is " + dtype_name(y.dtype) +
                           "; Quantize produces int8, uint8 or int16");
  }
  if (!status.ok()) return status;
  return op;
}

inline Result<std::unique_ptr<PreparedOp>> prepare_dequantize(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 1, 1));
  const ir::Tensor& x = ctx.input(0);
  const ir::Tensor& y = ctx.output();
  if (y.dtype != DType::kFloat32)
    return ctx.error(ctx.output_name() + " is " + dtype_name(y.dtype) + "; expected float32");
  if (x.shape != y.shape) {
    return ctx.error(ctx.output_name() + " has shape " + y.shape.to_string() + " but " + ctx.input_name(0) + " has " +
                     x.shape.to_string());
  }
  const Isa isa = ctx.options().isa;
  const Shape shape = x.shape;
  const auto n = static_cast<std::size_t>(x.shape.num_elements());
  if (x.dtype == DType::kFloat16) {
    return make_prepared_op(
        [n, isa](const RunContext& c) { half_to_float(c.in<uint16_t>(0), c.out<float>(), n, isa); });
  }
  std::unique_ptr<PreparedOp> op;
  Status status;
  const auto build = [&](auto type) {
    using T = decltype(type);
    if (x.quant.is_per_axis()) {
      status = data_ops::check_per_axis<T>(ctx, x, ctx.input_name(0));
      if (!status.ok()) return;
      const PerAxisQuantParams qp = x.quant.axis_params();
      op = make_prepared_op([qp, shape, isa](const RunContext& c) {
        dequantize_per_axis<T>(c.in<T>(0), c.out<float>(), shape, qp, isa);
      });
    } else {
      status = data_ops::check_per_tensor<T>(ctx, x, ctx.input_name(0), /*allow_zero_scale=*/true);
      if (!status.ok()) return;
      const QuantParams qp = x.quant.params();
      op = make_prepared_op(
          [qp, n, isa](const RunContext& c) { dequantize<T>(c.in<T>(0), c.out<float>(), n, qp, isa); });
    }
  };
  bool known = data_ops::visit_quantized_type(x.dtype, build);
  if (x.dtype == DType::kInt32) {
    build(int32_t{});
    known = true;
  }
  if (!known) {
    return ctx.unsupported(ctx.input_name(0) + " is " + dtype_name(x.dtype) +
                           "; Dequantize takes int8, uint8, int16, int32 or float16");
  }
  if (!status.ok()) return status;
  return op;
}

inline Result<std::unique_ptr<PreparedOp>> prepare_batch_matmul(const PrepareContext& ctx) {
  PTQ_RETURN_IF_ERROR(expect_io(ctx, 2, 1));
  const ir::Tensor& a = ctx.input(0);
  const ir::Tensor& b = ctx.input(1);
  const ir::Tensor& y = ctx.output();
  if (ctx.attrs().activation != FusedActivation::kNone) {
    return ctx.unsupported(std::string("fused activation ") + fused_activation_name(ctx.attrs().activation) +
                           " (BatchMatMul has none)");
  }
  const bool is_float = a.dtype == DType::kFloat32 && b.dtype == DType::kFloat32;
  const bool is_int8 = a.dtype == DType::kInt8 && b.dtype == DType::kInt8;
  if (a.dtype == DType::kFloat32 && b.dtype == DType::kInt8) {
    return ctx.unsupported("hybrid BatchMatMul (float32 " + ctx.input_name(0) + ", int8 " + ctx.input_name(1) +
                           ") is not implemented");
  }
  if (!is_float && !is_int8) {
    return ctx.unsupported(ctx.input_name(0) + " is " + dtype_name(a.dtype) + " and " + ctx.input_name(1) + " " +
                           dtype_name(b.dtype) + "; BatchMatMul takes float32 x float32 or int8 x int8");
  }
  if (y.dtype != a.dtype) {
    return ctx.unsupported(ctx.output_name() + " is " + dtype_name(y.dtype) + " for " + dtype_name(a.dtype) +
                           " operands; expected " + dtype_name(a.dtype));
  }
  auto made = BatchMatMulParams::make(a.shape, b.shape, ctx.attrs().adj_x, ctx.attrs().adj_y);
  if (!made.ok()) return ctx.error(made.status().message());
  BatchMatMulParams p = made.value();
  PTQ_RETURN_IF_ERROR(data_ops::expect_shape(ctx, p.output_shape()));
  if (is_float) {
    return make_prepared_op(
        [p](const RunContext& c) { reference::batch_matmul(p, c.in<float>(0), c.in<float>(1), c.out<float>()); });
  }
  PTQ_RETURN_IF_ERROR(data_ops::check_per_tensor<int8_t>(ctx, a, ctx.input_name(0)));
  PTQ_RETURN_IF_ERROR(data_ops::check_per_tensor<int8_t>(ctx, b, ctx.input_name(1)));
  PTQ_RETURN_IF_ERROR(data_ops::check_per_tensor<int8_t>(ctx, y, ctx.output_name()));
  p.lhs_zero_point = a.quant.zero_points[0];
  p.rhs_zero_point = b.quant.zero_points[0];
  p.output_zero_point = y.quant.zero_points[0];
  p.rounding = ctx.options().rounding;
  p.multiplier = batch_matmul_multiplier(a.quant.scales[0], b.quant.scales[0], y.quant.scales[0], p.rounding);
  const Status v = p.validate_int8();
  if (!v.ok()) return ctx.error(v.message());
  return make_prepared_op(
      [p](const RunContext& c) { reference::batch_matmul(p, c.in<int8_t>(0), c.in<int8_t>(1), c.out<int8_t>()); });
}

}  // namespace runtime
PTQ_NAMESPACE_END
