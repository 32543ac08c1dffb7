// onnx_inspect: import an ONNX model (io/onnx_import.hpp) and print ptq's graph of it -- every
// tensor with its dtype and shape, every op with its inputs, outputs and the attributes that differ
// from their defaults (ir::visit_attributes, the list the file format and the validator share).
//
//   ./onnx_inspect model.onnx [--batch N] [--nchw]
//
// Exit status: 0 when the model imports, 1 with the importer's message when it does not.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "ptq/io/onnx_import.hpp"

namespace ir = ptq::ir;

namespace {

std::string value_text(bool v) { return v ? "true" : "false"; }
std::string value_text(float v) { return std::to_string(v); }
std::string value_text(int32_t v) { return std::to_string(v); }
std::string value_text(ptq::Padding v) { return v == ptq::Padding::kSame ? "SAME" : "VALID"; }
std::string value_text(ptq::FusedActivation v) { return ptq::fused_activation_name(v); }
std::string value_text(ir::RecurrentActivation v) {
  return v == ir::RecurrentActivation::kTanh ? "tanh" : v == ir::RecurrentActivation::kRelu ? "relu" : "sigmoid";
}
template <class T>
std::string value_text(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
  return s + "]";
}

std::string tensor_text(const ir::Graph& g, ir::TensorId id) {
  if (id == ir::kNoTensor) return "-";
  const ir::Tensor& t = g.tensor(id);
  return "%" + std::to_string(id) + " '" + t.name + "'";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.onnx [--batch N] [--nchw]\n", argv[0]);
    return 2;
  }
  ptq::io::OnnxImportOptions options;
  for (int k = 2; k < argc; ++k) {
    if (std::strcmp(argv[k], "--batch") == 0 && k + 1 < argc) {
      options.batch = std::atoll(argv[++k]);
    } else if (std::strcmp(argv[k], "--nchw") == 0) {
      options.nhwc = false;
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n", argv[k]);
      return 2;
    }
  }
  ptq::Result<ir::Graph> imported = ptq::io::import_onnx(argv[1], options);
  if (!imported.ok()) {
    std::fprintf(stderr, "%s\n", imported.status().to_string().c_str());
    return 1;
  }
  const ir::Graph& g = *imported;
  std::size_t weight_bytes = 0;
  for (const ir::Tensor& t : g.tensors) weight_bytes += t.is_constant() ? t.data.size() : 0;
  std::printf("graph '%s': %d tensors, %d ops, %zu bytes of constants\n", g.name.c_str(), g.tensor_count(), g.op_count(),
              weight_bytes);

  std::printf("\ntensors:\n");
  for (int i = 0; i < g.tensor_count(); ++i) {
    const ir::Tensor& t = g.tensor(i);
    std::string role = t.is_constant() ? "constant" : "";
    for (ir::TensorId id : g.inputs) role = id == i ? "graph input" : role;
    for (ir::TensorId id : g.outputs) role = id == i ? "graph output" : role;
    std::printf("  %-40s %-8s %-18s %s\n", tensor_text(g, i).c_str(), ptq::dtype_name(t.dtype), t.shape.to_string().c_str(),
                role.c_str());
  }

  std::printf("\nops:\n");
  const ir::Attributes defaults;
  for (int i = 0; i < g.op_count(); ++i) {
    const ir::Op& op = g.ops[static_cast<std::size_t>(i)];
    std::printf("  %s\n", g.describe_op(i).c_str());
    std::string ins, outs, attrs;
    for (ir::TensorId id : op.inputs) ins += (ins.empty() ? "" : ", ") + tensor_text(g, id);
    for (ir::TensorId id : op.outputs) outs += (outs.empty() ? "" : ", ") + tensor_text(g, id);
    ir::visit_attributes(
        [&](int, const char* name, const auto& value, const auto& dflt) {
          if (!(value == dflt)) attrs += (attrs.empty() ? "" : ", ") + std::string(name) + "=" + value_text(value);
        },
        op.attrs, defaults);
    std::printf("      in:  %s\n      out: %s\n", ins.c_str(), outs.c_str());
    if (!attrs.empty()) std::printf("      attrs: %s\n", attrs.c_str());
  }
  return 0;
}
