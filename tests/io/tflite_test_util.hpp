// tflite_test_util.hpp: helpers of the TFLite test suite -- the committed fixtures' arrays (through
// io/npy.hpp), graph equality for round trips, and a builder of tiny hand-made .tflite files for the error tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/io/npy.hpp"
#include "ptq/io/tflite.hpp"

namespace tflite_test {

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::vector<uint8_t> out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return out;
  uint8_t buf[1 << 14];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

// A fixture array's bytes and shape (io/npy.hpp reads and validates the file).
struct Npy {
  ptq::DType dtype = ptq::DType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
  bool ok = false;
};

inline Npy read_npy(const std::string& path) {
  Npy r;
  ptq::Result<ptq::io::NpyArray> a = ptq::io::read_npy(path);
  if (!a.ok()) return r;
  r.dtype = a->dtype;
  r.shape = a->shape.dims();
  r.data.assign(a->data.data(), a->data.data() + a->data.size());
  r.ok = true;
  return r;
}

inline bool same_tensor(const ptq::ir::Tensor& a, const ptq::ir::Tensor& b, std::string* why) {
  if (a.name != b.name) return *why = "name '" + a.name + "' vs '" + b.name + "'", false;
  if (a.dtype != b.dtype) return *why = a.name + ": dtype", false;
  if (a.shape != b.shape) return *why = a.name + ": shape " + a.shape.to_string() + " vs " + b.shape.to_string(), false;
  if (a.quant != b.quant) return *why = a.name + ": quantization", false;
  if (a.data.size() != b.data.size() || (a.data.size() && std::memcmp(a.data.data(), b.data.data(), a.data.size()) != 0)) {
    return *why = a.name + ": data", false;
  }
  return true;
}

// Structural equality: tensors (names, types, shapes, quantization, constant bytes), ops, I/O.
inline bool same_graph(const ptq::ir::Graph& a, const ptq::ir::Graph& b, std::string* why) {
  if (a.tensors.size() != b.tensors.size()) {
    return *why = std::to_string(a.tensors.size()) + " vs " + std::to_string(b.tensors.size()) + " tensors", false;
  }
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    if (!same_tensor(a.tensors[i], b.tensors[i], why)) return false;
  }
  if (a.ops.size() != b.ops.size()) return *why = "op count", false;
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto &x = a.ops[i], &y = b.ops[i];
    if (x.kind != y.kind || x.inputs != y.inputs || x.outputs != y.outputs || x.attrs != y.attrs) {
      return *why = a.describe_op(static_cast<int>(i)) + " differs", false;
    }
  }
  if (a.inputs != b.inputs || a.outputs != b.outputs) return *why = "graph inputs/outputs", false;
  return true;
}

// A one-op model: float32 tensors x [1, 4] -> y [1, 4] through operator code `builtin`
// (deprecated_builtin_code min(builtin, 127)) or, with `custom`, a CUSTOM op of that name.
inline std::vector<uint8_t> one_op_model(int32_t builtin, const std::string& custom = "") {
  namespace t = ptq::io::tflite;
  t::FlatBuilder b;
  b.start_table();
  const auto empty_buffer = b.end_table();
  std::vector<t::FlatBuilder::Ref> tensors;
  for (const char* name : {"x", "y"}) {
    const auto shape = b.vector_i32({1, 4});
    const auto n = b.string(name);
    b.start_table();
    b.add_ref(t::field::kTensorShape, shape);
    b.add_ref(t::field::kTensorName, n);
    tensors.push_back(b.end_table());
  }
  const auto cc = custom.empty() ? 0 : b.string(custom);
  b.start_table();
  b.add_u8(t::field::kOpCodeDeprecatedBuiltin, static_cast<uint8_t>(builtin < 127 ? builtin : 127));
  b.add_i32(t::field::kOpCodeBuiltin, builtin);
  if (cc) b.add_ref(t::field::kOpCodeCustomCode, cc);
  const auto code = b.end_table();
  const auto in = b.vector_i32({0});
  const auto out = b.vector_i32({1});
  b.start_table();
  b.add_ref(t::field::kOperatorInputs, in);
  b.add_ref(t::field::kOperatorOutputs, out);
  const auto op = b.end_table();
  const auto tv = b.vector_refs(tensors);
  const auto gi = b.vector_i32({0});
  const auto go = b.vector_i32({1});
  const auto ops = b.vector_refs({op});
  b.start_table();
  b.add_ref(t::field::kSubGraphTensors, tv);
  b.add_ref(t::field::kSubGraphInputs, gi);
  b.add_ref(t::field::kSubGraphOutputs, go);
  b.add_ref(t::field::kSubGraphOperators, ops);
  const auto sg = b.end_table();
  const auto sgs = b.vector_refs({sg});
  const auto codes = b.vector_refs({code});
  const auto bufs = b.vector_refs({empty_buffer});
  b.start_table();
  b.add_u32(t::field::kModelVersion, 3);
  b.add_ref(t::field::kModelOperatorCodes, codes);
  b.add_ref(t::field::kModelSubgraphs, sgs);
  b.add_ref(t::field::kModelBuffers, bufs);
  return b.finish(b.end_table(), t::kFileIdentifier);
}

}  // namespace tflite_test
