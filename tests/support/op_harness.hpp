// op_harness.hpp: run one op of the IR through its runtime implementation, without an interpreter.
//
//   ptq_test::OpHarness h;
//   auto a = h.input("a", ptq::DType::kInt8, {2, 3}, ptq::ir::Quantization::per_tensor(0.5f, -3));
//   auto w = h.constant<int8_t>("w", {3, 3}, weights, ptq::ir::Quantization::along(0, scales));
//   auto y = h.output("y", ptq::DType::kInt8, {2, 3}, ptq::ir::Quantization::per_tensor(0.25f, 1));
//   h.op(ptq::ir::OpKind::kAdd, {a, w}, {y}, attrs);
//   REQUIRE(h.prepare().ok());         // prepare_<op> through the registry
//   h.set<int8_t>(a, {...});
//   h.run();
//   std::vector<int8_t> got = h.get<int8_t>(y);
//
// Buffers are exact-size heap vectors, so ASan catches a kernel that reads or writes past a tensor.
//
// The test programs build with PTQ_OPS_EXTERN: op_registry.hpp only declares find_prepare, and
// the registry with every op family and its kernels compiles once, in support/ops_implementation.cpp.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ptq/ir/graph.hpp"
#include "ptq/runtime/op_kernel.hpp"
#include "ptq/runtime/op_registry.hpp"

namespace ptq_test {

class OpHarness {
 public:
  ptq::ir::Graph graph;
  ptq::runtime::OpOptions options;

  ptq::ir::TensorId input(const std::string& name, ptq::DType dtype, ptq::Shape shape,
                          ptq::ir::Quantization q = {}) {
    ptq::ir::Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    return graph.add_tensor(std::move(t));
  }
  ptq::ir::TensorId output(const std::string& name, ptq::DType dtype, ptq::Shape shape,
                           ptq::ir::Quantization q = {}) {
    return input(name, dtype, std::move(shape), std::move(q));
  }
  template <class T>
  ptq::ir::TensorId constant(const std::string& name, ptq::DType dtype, ptq::Shape shape, const std::vector<T>& values,
                             ptq::ir::Quantization q = {}) {
    const ptq::ir::TensorId id = input(name, dtype, std::move(shape), std::move(q));
    graph.tensor(id).data = ptq::ir::Buffer::copy_of(values);
    REQUIRE(graph.tensor(id).byte_size() == values.size() * sizeof(T));
    return id;
  }

  void op(ptq::ir::OpKind kind, std::vector<ptq::ir::TensorId> inputs, std::vector<ptq::ir::TensorId> outputs,
          ptq::ir::Attributes attrs = {}) {
    ptq::ir::Op o;
    o.kind = kind;
    o.name = "under_test";
    o.inputs = std::move(inputs);
    o.outputs = std::move(outputs);
    o.attrs = std::move(attrs);
    graph.ops.push_back(std::move(o));
  }

  // Prepares the (single) op; on success allocates every tensor's buffer.
  ptq::Status prepare() {
    REQUIRE(graph.ops.size() == 1);
    ptq::runtime::PrepareFn fn = ptq::runtime::find_prepare(graph.ops[0].kind);
    REQUIRE(static_cast<bool>(fn));
    ptq::runtime::PrepareContext ctx(graph, 0, graph.tensors, options);
    auto prepared = fn(ctx);
    if (!prepared.ok()) return prepared.status();
    prepared_ = std::move(prepared).value();
    buffers_.assign(graph.tensors.size(), {});
    for (std::size_t i = 0; i < graph.tensors.size(); ++i) {
      if (!graph.tensors[i].is_constant()) buffers_[i].assign(graph.tensors[i].byte_size(), 0xA5);
    }
    scratch_.assign(prepared_->scratch_bytes(), 0xA5);
    return ptq::Status();
  }

  template <class T>
  void set(ptq::ir::TensorId id, const std::vector<T>& values) {
    auto& b = buffers_.at(static_cast<std::size_t>(id));
    REQUIRE(values.size() * sizeof(T) == b.size());
    if (!b.empty()) std::memcpy(b.data(), values.data(), b.size());
  }

  void run() {
    REQUIRE(prepared_ != nullptr);
    const ptq::ir::Op& o = graph.ops[0];
    std::vector<const void*> in;
    std::vector<void*> out;
    for (ptq::ir::TensorId id : o.inputs) in.push_back(pointer(id));
    for (ptq::ir::TensorId id : o.outputs) out.push_back(pointer(id));
    ptq::runtime::RunContext c;
    c.inputs = in.data();
    c.outputs = out.data();
    c.scratch = scratch_.empty() ? nullptr : scratch_.data();
    prepared_->run(c);
  }

  template <class T>
  std::vector<T> get(ptq::ir::TensorId id) const {
    const auto& b = buffers_.at(static_cast<std::size_t>(id));
    std::vector<T> v(b.size() / sizeof(T));
    if (!b.empty()) std::memcpy(v.data(), b.data(), b.size());
    return v;
  }

 private:
  void* pointer(ptq::ir::TensorId id) {
    if (id == ptq::ir::kNoTensor) return nullptr;
    const ptq::ir::Tensor& t = graph.tensor(id);
    if (t.is_constant()) return const_cast<uint8_t*>(t.data.data());
    return buffers_[static_cast<std::size_t>(id)].data();
  }

  std::unique_ptr<ptq::runtime::PreparedOp> prepared_;
  std::vector<std::vector<uint8_t>> buffers_;
  std::vector<uint8_t> scratch_;
};

}  // namespace ptq_test
