// runtime/op_kernel.hpp: the contract between the interpreter and one op's implementation.
//
// Each op kind has a prepare function (registered in op_registry.hpp):
//
//   Result<std::unique_ptr<PreparedOp>> prepare_add(const PrepareContext& ctx);
//
// Prepare runs once per op when the interpreter is built. It sees the whole op: its tensors with
// dtype, final shape and quantization, and the bytes of every constant input (float16 constants
// already widened to float32, Dequantize of constants already folded). It checks everything the
// kernel needs (returning an error that names the op via ctx.what()), computes what does not
// change between runs (multipliers, clamp ranges, packed weights, lookup tables) and returns a
// PreparedOp holding them. Run is then called many times with the tensors' data pointers; it must
// not allocate, throw or fail. Scratch memory it needs is declared by scratch_bytes() and handed
// in by the interpreter (shared between ops, 64-byte aligned, contents undefined on entry).
//
// An op picks its kernel by the dtypes it sees: float32 in and out = float; float32 activations
// with int8 weights = hybrid; int8 (or uint8, int16) activations = quantized. An unsupported
// combination is an unimplemented() error naming the op and the dtypes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/kernels/gemm/gemm.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

// Interpreter-wide settings an op may consult at prepare.
struct OpOptions {
  Isa isa = selected_isa();                               // SIMD level for the kernels
  const gemm::ParallelFor* parallel_for = nullptr;        // threads for the GEMM-based ops
  RoundingMode rounding = kDefaultRounding;               // requantization rounding
  FcRequantization fc_requantization = FcRequantization::kFixedPoint;  // int8 FullyConnected
};

class PrepareContext {
 public:
  PrepareContext(const ir::Graph& graph, int op_index, const std::vector<ir::Tensor>& tensors,
                 const OpOptions& options)
      : graph_(graph), op_index_(op_index), tensors_(tensors), options_(options) {}

  const ir::Op& op() const { return graph_.ops[static_cast<std::size_t>(op_index_)]; }
  const ir::Attributes& attrs() const { return op().attrs; }
  const OpOptions& options() const { return options_; }
  int op_index() const { return op_index_; }

  int input_count() const { return static_cast<int>(op().inputs.size()); }
  int output_count() const { return static_cast<int>(op().outputs.size()); }
  // False for an absent optional input (kNoTensor) or an index past the end.
  bool has_input(int i) const { return i < input_count() && op().inputs[static_cast<std::size_t>(i)] != ir::kNoTensor; }

  // The tensors as the interpreter will run them (constants possibly widened, see above).
  const ir::Tensor& input(int i) const { return tensors_[static_cast<std::size_t>(op().inputs[static_cast<std::size_t>(i)])]; }
  const ir::Tensor& output(int i = 0) const { return tensors_[static_cast<std::size_t>(op().outputs[static_cast<std::size_t>(i)])]; }
  // The bytes of a constant input as T, or nullptr when the input is a runtime value.
  template <class T>
  const T* constant(int i) const {
    return has_input(i) && input(i).is_constant() ? input(i).data.as<T>() : nullptr;
  }

  // "op 3 'conv1' (Conv2D)": prefix every message with it.
  std::string what() const { return graph_.describe_op(op_index_); }
  // "op 3 'conv1' (Conv2D): input 1 'conv1/w' is int16; expected int8" style helper.
  std::string input_name(int i) const { return "input " + std::to_string(i) + " '" + input(i).name + "'"; }
  std::string output_name(int i = 0) const { return "output " + std::to_string(i) + " '" + output(i).name + "'"; }

  Status error(const std::string& message) const { return invalid_argument(what() + ": " + message); }
  Status unsupported(const std::string& message) const { return unimplemented(what() + ": " + message); }

 private:
  const ir::Graph& graph_;
  int op_index_;
  const std::vector<ir::Tensor>& tensors_;
  const OpOptions& options_;
};

// What run() gets: one data pointer per op input (nullptr for an absent optional one) and output,
// and the scratch the op asked for.
struct RunContext {
  const void* const* inputs = nullptr;
  void* const* outputs = nullptr;
  void* scratch = nullptr;

  template <class T>
  const T* in(int i) const { return static_cast<const T*>(inputs[i]); }
  template <class T>
  T* out(int i = 0) const { return static_cast<T*>(outputs[i]); }
  template <class T>
  T* scratch_as() const { return static_cast<T*>(scratch); }
};

class PreparedOp {
 public:
  virtual ~PreparedOp() = default;
  virtual void run(const RunContext& ctx) = 0;
  virtual std::size_t scratch_bytes() const { return 0; }
};

// A PreparedOp from a callable `void(const RunContext&)` that captures the prepared state:
//   return make_prepared_op([p = params](const RunContext& c) { kernel(p, c.in<float>(0), c.out<float>()); });
template <class Run>
class LambdaOp final : public PreparedOp {
 public:
  LambdaOp(Run run, std::size_t scratch) : run_(std::move(run)), scratch_(scratch) {}
  void run(const RunContext& ctx) override { run_(ctx); }
  std::size_t scratch_bytes() const override { return scratch_; }

 private:
  Run run_;
  std::size_t scratch_;
};

template <class Run>
std::unique_ptr<PreparedOp> make_prepared_op(Run run, std::size_t scratch_bytes = 0) {
  return std::make_unique<LambdaOp<Run>>(std::move(run), scratch_bytes);
}

using PrepareFn = Result<std::unique_ptr<PreparedOp>> (*)(const PrepareContext& ctx);

}  // namespace runtime
PTQ_NAMESPACE_END
