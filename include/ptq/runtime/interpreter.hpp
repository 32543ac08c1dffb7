// runtime/interpreter.hpp: prepare a graph once, run it many times without allocating.
//
//   Result<runtime::Interpreter> r = runtime::Interpreter::create(graph);   // validate + prepare
//   runtime::Interpreter& net = r.value();
//   std::copy(image, image + n, net.input_data<float>(0));
//   net.run();
//   const float* probs = net.output_data<float>(0);
//
// create():
//   1. Validates the graph (ir/validate.hpp: every problem, by op and tensor name).
//   2. Folds constants the way TFLite's converter modes expect them to be run: float16 constants
//      are widened to float32 once (float16-weight models), and a Dequantize whose input is a
//      constant is evaluated once and its output becomes a float32 constant (weight-only int8
//      models: weights dequantized once and cached). Those Dequantize ops do not run.
//   3. Prepares every remaining op through the registry (runtime/op_registry.hpp): each checks its
//      dtypes and parameters, returns an error naming the op, and precomputes multipliers, packed
//      weights and lookup tables. Which kernel runs follows from the dtypes: float32 ops, hybrid
//      ops (float activations, int8 weights), int8 ops, and Quantize/Dequantize at the edges.
//   4. Plans one arena for all runtime tensors (memory_plan.hpp) and one scratch buffer, and
//      resolves every op's input and output pointers.
// run() then walks the ops; it allocates nothing. Outputs stay valid until the next run().
//
// Profiling (options.profile): per-op wall time accumulated over runs (op_profile()).
// Observation (set_observer): a callback after each op for each of its outputs, and before the
// first op for each graph input -- the converter's calibration and per-layer comparison use it.
// Not thread-safe: one run() at a time per Interpreter (ops own scratch state); create one
// Interpreter per thread to run a model concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/float16.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/ir/validate.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/kernels/thread_pool.hpp"
#include "ptq/runtime/memory_plan.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/op_registry.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

struct InterpreterOptions {
  int threads = 1;                          // GEMM-based ops; 1 = the calling thread only
  const gemm::ParallelFor* parallel_for = nullptr;  // the engine's own pool (overrides threads)
  Isa isa = selected_isa();
  RoundingMode rounding = kDefaultRounding;
  // int8 FullyConnected requantization: kFixedPoint (the default) is LiteRT's optimized kernels and
  // TFLite Micro; kDoubleScale reproduces LiteRT's reference kernels (BUILTIN_REF) bit for bit
  // (kernels/reference/fully_connected.hpp says how they differ).
  FcRequantization fc_requantization = FcRequantization::kFixedPoint;
  bool profile = false;
};

// A tensor's data as the interpreter holds it.
struct TensorView {
  const ir::Tensor* tensor = nullptr;
  void* data = nullptr;
  std::size_t bytes = 0;
};

// One op's accumulated time.
struct OpProfile {
  int op_index = 0;
  std::string op;           // "op 3 'conv1' (Conv2D)"
  double total_seconds = 0;
  int64_t runs = 0;
};

// What an observer sees: the op that produced the tensor (-1 for a graph input), the tensor id
// and the tensor as run, and its data (valid only during the callback).
struct Observation {
  int op_index = -1;
  ir::TensorId tensor_id = ir::kNoTensor;
  const ir::Tensor* tensor = nullptr;
  const void* data = nullptr;
};
using Observer = std::function<void(const Observation&)>;

class Interpreter {
 public:
  static Result<Interpreter> create(ir::Graph graph, const InterpreterOptions& options = InterpreterOptions()) {
    Interpreter it;
    it.s_ = std::make_unique<State>();
    PTQ_RETURN_IF_ERROR(it.s_->init(std::move(graph), options));
    return it;
  }

  Interpreter(Interpreter&&) noexcept = default;
  Interpreter& operator=(Interpreter&&) noexcept = default;

  const ir::Graph& graph() const { return s_->graph; }
  // The tensors as run: constants widened/folded (see the header).
  const std::vector<ir::Tensor>& tensors() const { return s_->tensors; }

  int input_count() const { return static_cast<int>(s_->graph.inputs.size()); }
  int output_count() const { return static_cast<int>(s_->graph.outputs.size()); }
  TensorView input(int i) const { return view(s_->graph.inputs.at(static_cast<std::size_t>(i))); }
  TensorView output(int i) const { return view(s_->graph.outputs.at(static_cast<std::size_t>(i))); }
  template <class T>
  T* input_data(int i) {
    return static_cast<T*>(input(i).data);
  }
  template <class T>
  const T* output_data(int i) const {
    return static_cast<const T*>(output(i).data);
  }
  // Any tensor; runtime tensors that share arena space with later ones hold their value only
  // until it is overwritten (use an observer to see every intermediate).
  TensorView tensor(ir::TensorId id) const { return view(id); }

  // Copies `bytes` into input i; the size must match exactly.
  Status set_input(int i, const void* data, std::size_t bytes) {
    if (i < 0 || i >= input_count()) return invalid_argument("set_input: no input " + std::to_string(i));
    TensorView v = input(i);
    if (bytes != v.bytes) {
      return invalid_argument("set_input: input " + std::to_string(i) + " '" + v.tensor->name + "' holds " +
                              std::to_string(v.bytes) + " bytes, got " + std::to_string(bytes));
    }
    if (bytes) std::memcpy(v.data, data, bytes);
    return Status();
  }

  void set_observer(Observer observer) { s_->observer = std::move(observer); }

  void run() { s_->run(); }

  const std::vector<OpProfile>& op_profile() const { return s_->profile; }
  std::size_t arena_bytes() const { return s_->arena.size(); }
  std::size_t scratch_bytes() const { return s_->scratch.size(); }
  // Number of ops that run (folded Dequantize ops do not).
  int prepared_op_count() const { return static_cast<int>(s_->steps.size()); }

 private:
  Interpreter() = default;

  struct Step {
    int op_index = 0;
    std::unique_ptr<PreparedOp> op;
    std::vector<const void*> inputs;
    std::vector<void*> outputs;
  };

  struct State {
    ir::Graph graph;
    std::vector<ir::Tensor> tensors;
    std::vector<void*> data;  // per tensor: arena pointer or constant bytes
    std::vector<Step> steps;
    ir::Buffer arena, scratch;  // 64-byte aligned (Buffer::allocate), written through mutable_data()
    std::unique_ptr<ThreadPool> pool;
    OpOptions op_options;
    Observer observer;
    bool profiling = false;
    std::vector<OpProfile> profile;

    Status init(ir::Graph g, const InterpreterOptions& options) {
      PTQ_RETURN_IF_ERROR(ir::validate(g));
      graph = std::move(g);
      tensors = graph.tensors;
      op_options.isa = options.isa;
      op_options.rounding = options.rounding;
      op_options.fc_requantization = options.fc_requantization;
      op_options.parallel_for = options.parallel_for;
      if (op_options.parallel_for == nullptr && options.threads > 1) {
        pool = std::make_unique<ThreadPool>(options.threads);
        op_options.parallel_for = pool->parallel_for();
      }
      profiling = options.profile;

      widen_float16_constants();
      std::vector<bool> folded(graph.ops.size(), false);
      for (std::size_t i = 0; i < graph.ops.size(); ++i) {
        const ir::Op& op = graph.ops[i];
        if (op.kind == ir::OpKind::kDequantize && tensors[static_cast<std::size_t>(op.inputs[0])].is_constant()) {
          PTQ_RETURN_IF_ERROR(fold_dequantize(static_cast<int>(i)));
          folded[i] = true;
        }
      }
      for (std::size_t i = 0; i < graph.ops.size(); ++i) {
        if (folded[i]) continue;
        const ir::Op& op = graph.ops[i];
        const PrepareFn fn = find_prepare(op.kind);
        if (fn == nullptr) return unimplemented(graph.describe_op(static_cast<int>(i)) + ": no implementation");
        PrepareContext ctx(graph, static_cast<int>(i), tensors, op_options);
        Result<std::unique_ptr<PreparedOp>> prepared = fn(ctx);
        if (!prepared.ok()) return prepared.status();
        Step step;
        step.op_index = static_cast<int>(i);
        step.op = std::move(prepared).value();
        steps.push_back(std::move(step));
        profile.push_back({static_cast<int>(i), graph.describe_op(static_cast<int>(i)), 0.0, 0});
      }
      plan_memory();
      return Status();
    }

    void widen_float16_constants() {
      for (ir::Tensor& t : tensors) {
        if (!t.is_constant() || t.dtype != DType::kFloat16) continue;
        const auto n = static_cast<std::size_t>(t.shape.num_elements());
        ir::Buffer b = ir::Buffer::allocate(n * sizeof(float));
        half_to_float(t.data.as<uint16_t>(), reinterpret_cast<float*>(b.mutable_data()), n);
        t.data = std::move(b);
        t.dtype = DType::kFloat32;
      }
    }

    // Dequantize of a constant: evaluated now; its output becomes a float32 constant.
    Status fold_dequantize(int op_index) {
      const ir::Op& op = graph.ops[static_cast<std::size_t>(op_index)];
      const ir::Tensor& in = tensors[static_cast<std::size_t>(op.inputs[0])];
      ir::Tensor& out = tensors[static_cast<std::size_t>(op.outputs[0])];
      if (out.dtype != DType::kFloat32) {
        return unimplemented(graph.describe_op(op_index) + ": output " + graph.describe_tensor(op.outputs[0]) + " is " +
                             dtype_name(out.dtype) + "; Dequantize produces float32");
      }
      const auto n = static_cast<std::size_t>(in.shape.num_elements());
      ir::Buffer b = ir::Buffer::allocate(n * sizeof(float));
      auto* y = reinterpret_cast<float*>(b.mutable_data());
      if (in.dtype == DType::kFloat32) {
        if (n) std::memcpy(y, in.data.data(), n * sizeof(float));
      } else {
        if (in.quant.empty()) {
          return invalid_argument(graph.describe_op(op_index) + ": input " + graph.describe_tensor(op.inputs[0]) +
                                  " has no quantization parameters");
        }
        switch (in.dtype) {
          case DType::kInt8: dequantize_any(in, in.data.as<int8_t>(), y); break;
          case DType::kUInt8: dequantize_any(in, in.data.as<uint8_t>(), y); break;
          case DType::kInt16: dequantize_any(in, in.data.as<int16_t>(), y); break;
          default:
            return unimplemented(graph.describe_op(op_index) + ": cannot dequantize " + dtype_name(in.dtype) + " input " +
                                 graph.describe_tensor(op.inputs[0]));
        }
      }
      out.data = std::move(b);
      return Status();
    }

    template <class T>
    static void dequantize_any(const ir::Tensor& in, const T* q, float* y) {
      if (in.quant.is_per_axis()) {
        dequantize_per_axis(q, y, in.shape, in.quant.axis_params());
      } else {
        dequantize(q, y, static_cast<std::size_t>(in.shape.num_elements()), in.quant.params());
      }
    }

    void plan_memory() {
      const int n = static_cast<int>(tensors.size());
      const int end = static_cast<int>(steps.size());
      std::vector<int> first(static_cast<std::size_t>(n), -2), last(static_cast<std::size_t>(n), -2);
      for (ir::TensorId id : graph.inputs) first[static_cast<std::size_t>(id)] = last[static_cast<std::size_t>(id)] = -1;
      for (int s = 0; s < end; ++s) {
        const ir::Op& op = graph.ops[static_cast<std::size_t>(steps[static_cast<std::size_t>(s)].op_index)];
        for (ir::TensorId id : op.inputs) {
          if (id != ir::kNoTensor) last[static_cast<std::size_t>(id)] = s;
        }
        for (ir::TensorId id : op.outputs) {
          auto& f = first[static_cast<std::size_t>(id)];
          if (f == -2) f = s;
          last[static_cast<std::size_t>(id)] = std::max(last[static_cast<std::size_t>(id)], s);
        }
      }
      // Graph inputs and outputs live through the whole run: inputs set once serve many runs, and
      // outputs are read after it.
      for (ir::TensorId id : graph.inputs) last[static_cast<std::size_t>(id)] = end;
      for (ir::TensorId id : graph.outputs) last[static_cast<std::size_t>(id)] = end;
      std::vector<ArenaRequest> requests;
      std::vector<ir::TensorId> ids;
      for (int id = 0; id < n; ++id) {
        const ir::Tensor& t = tensors[static_cast<std::size_t>(id)];
        if (t.is_constant() || first[static_cast<std::size_t>(id)] == -2) continue;
        requests.push_back({t.byte_size(), first[static_cast<std::size_t>(id)], last[static_cast<std::size_t>(id)]});
        ids.push_back(id);
      }
      const ArenaPlan plan = plan_arena(requests);
      arena = ir::Buffer::allocate(plan.size);
      data.assign(static_cast<std::size_t>(n), nullptr);
      for (std::size_t r = 0; r < ids.size(); ++r) data[static_cast<std::size_t>(ids[r])] = arena.mutable_data() + plan.offsets[r];
      for (int id = 0; id < n; ++id) {
        const ir::Tensor& t = tensors[static_cast<std::size_t>(id)];
        if (t.is_constant()) data[static_cast<std::size_t>(id)] = const_cast<uint8_t*>(t.data.data());
      }
      std::size_t scratch_max = 0;
      for (Step& step : steps) {
        const ir::Op& op = graph.ops[static_cast<std::size_t>(step.op_index)];
        for (ir::TensorId id : op.inputs) step.inputs.push_back(id == ir::kNoTensor ? nullptr : data[static_cast<std::size_t>(id)]);
        for (ir::TensorId id : op.outputs) step.outputs.push_back(data[static_cast<std::size_t>(id)]);
        scratch_max = std::max(scratch_max, step.op->scratch_bytes());
      }
      scratch = ir::Buffer::allocate(scratch_max);
    }

    void observe(int op_index, ir::TensorId id) {
      Observation o;
      o.op_index = op_index;
      o.tensor_id = id;
      o.tensor = &tensors[static_cast<std::size_t>(id)];
      o.data = data[static_cast<std::size_t>(id)];
      observer(o);
    }

    void run() {
      if (observer) {
        for (ir::TensorId id : graph.inputs) observe(-1, id);
      }
      for (std::size_t s = 0; s < steps.size(); ++s) {
        Step& step = steps[s];
        RunContext ctx;
        ctx.inputs = step.inputs.data();
        ctx.outputs = step.outputs.data();
        ctx.scratch = scratch.size() ? scratch.mutable_data() : nullptr;
        if (profiling) {
          const auto t0 = std::chrono::steady_clock::now();
          step.op->run(ctx);
          const auto t1 = std::chrono::steady_clock::now();
          profile[s].total_seconds += std::chrono::duration<double>(t1 - t0).count();
          ++profile[s].runs;
        } else {
          step.op->run(ctx);
        }
        if (observer) {
          for (ir::TensorId id : graph.ops[static_cast<std::size_t>(step.op_index)].outputs) observe(step.op_index, id);
        }
      }
    }
  };

  TensorView view(ir::TensorId id) const {
    TensorView v;
    v.tensor = &s_->tensors.at(static_cast<std::size_t>(id));
    v.data = s_->data.at(static_cast<std::size_t>(id));
    v.bytes = v.tensor->byte_size();
    return v;
  }

  std::unique_ptr<State> s_;
};

}  // namespace runtime
PTQ_NAMESPACE_END
