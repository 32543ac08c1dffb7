// format_models.hpp: graphs that exercise every feature of the model file format (ir/format.hpp),
// and helpers that read and edit files as format.md describes them (independently of the reader);
// shared by tests/ir/format_test.cpp and the fuzz seed generator (tests/fuzz/make_corpus.cpp).
// Standard library and ptq only (no doctest), so the fuzz build can use it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptq/ir/format.hpp"
#include "ptq/ir/graph.hpp"

namespace ptq_test {

// An Attributes with every field different from its default (the format writes only those).
inline ptq::ir::Attributes every_attribute_set() {
  ptq::ir::Attributes a;
  a.stride_h = 2;
  a.stride_w = 3;
  a.dilation_h = 2;
  a.dilation_w = 4;
  a.filter_h = 3;
  a.filter_w = 5;
  a.padding = ptq::Padding::kSame;
  a.depth_multiplier = 2;
  a.activation = ptq::FusedActivation::kRelu6;
  a.keep_num_dims = true;
  a.asymmetric_quantize_inputs = false;
  a.adj_x = true;
  a.adj_y = true;
  a.axis = -1;
  a.axes = {1, 2};
  a.keep_dims = true;
  a.perm = {0, 3, 1, 2};
  a.new_shape = {-1, 12};
  a.paddings = {0, 0, 1, 1, 2, 2, 0, 0};
  a.beta = 0.5f;
  a.alpha = 0.125f;
  a.clip_min = -1.0f;
  a.clip_max = 1.0f;
  a.time_major = true;
  a.bidirectional = true;
  a.recurrent_activation = ptq::ir::RecurrentActivation::kSigmoid;
  a.cell_clip = 10.0f;
  a.num_bits = 4;
  a.narrow_range = true;
  a.lstm_state_scale = 0.0078125f;
  a.lstm_state_zero_point = -3;
  a.lstm_hidden_scale = 0.01f;
  a.lstm_hidden_zero_point = 5;
  a.lstm_cell_scale = 1.0f / 2048.0f;
  return a;
}

// Deterministic bytes for constants (no RNG: the seeds must be reproducible anywhere).
inline std::vector<uint8_t> pattern_bytes(std::size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

inline ptq::ir::Tensor constant(std::string name, ptq::DType dtype, ptq::Shape shape, uint32_t seed,
                                ptq::ir::Quantization quant = {}) {
  ptq::ir::Tensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.quant = std::move(quant);
  t.data = ptq::ir::Buffer::copy_of(pattern_bytes(t.byte_size(), seed));
  return t;
}

inline ptq::ir::Tensor value(std::string name, ptq::DType dtype, ptq::Shape shape, ptq::ir::Quantization quant = {}) {
  ptq::ir::Tensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.quant = std::move(quant);
  return t;
}

// Every dtype as a constant, per-tensor and per-axis quantization (including per axis with one
// scale), a scalar, a zero-element constant, a buffer shared by two tensors, empty names, absent
// optional inputs (kNoTensor), an op with every attribute set, several ops and graph outputs.
inline ptq::ir::Graph full_model() {
  using ptq::DType;
  using ptq::ir::Quantization;
  ptq::ir::Graph g;
  g.name = "format test model";
  const auto x = g.add_tensor(value("input", DType::kFloat32, {1, 6, 6, 3}));
  const auto xq = g.add_tensor(value("input/q", DType::kInt8, {1, 6, 6, 3}, Quantization::per_tensor(0.05f, -128)));
  const auto w = g.add_tensor(constant("conv/w", DType::kInt8, {4, 3, 3, 3}, 1,
                                       Quantization::along(0, {0.01f, 0.02f, 0.03f, 0.5f}, {0, 0, 0, 0})));
  const auto b = g.add_tensor(constant("conv/b", DType::kInt32, {4}, 2,
                                       Quantization::along(0, {5e-4f, 1e-3f, 1.5e-3f, 0.025f})));
  const auto y = g.add_tensor(value("conv/y", DType::kInt8, {1, 3, 3, 4}, Quantization::per_tensor(0.1f, 127)));
  const auto wf = g.add_tensor(constant("fc/w", DType::kFloat32, {5, 36}, 3));
  const auto yf = g.add_tensor(value("", DType::kFloat32, {1, 5}));  // empty name
  const auto h = g.add_tensor(constant("half", DType::kFloat16, {5}, 4));
  const auto u = g.add_tensor(constant("u8", DType::kUInt8, {7}, 5, Quantization::per_tensor(0.5f, 255)));
  const auto s16 = g.add_tensor(constant("i16", DType::kInt16, {3, 2}, 6, Quantization::per_tensor(1.0f / 32768, 0)));
  const auto shape = g.add_tensor(constant("shape", DType::kInt64, {2}, 7));
  const auto i4 = g.add_tensor(constant("int4", DType::kInt4, {5}, 8, Quantization::per_tensor(0.25f, -8)));
  const auto one_scale = g.add_tensor(
      constant("per-axis, one scale", DType::kInt8, {2, 3}, 9, Quantization::along(1, {0.75f}, {-3})));
  const auto scalar = g.add_tensor(constant("scalar", DType::kFloat32, {}, 10));
  static const uint8_t kNothing[1] = {};
  ptq::ir::Tensor none = value("zero elements", DType::kFloat32, {0, 4});
  none.data = ptq::ir::Buffer::borrow(kNothing, 0, nullptr);
  const auto zero = g.add_tensor(none);
  ptq::ir::Tensor shared = g.tensor(wf);  // same Buffer bytes: written once
  shared.name = "fc/w alias";
  const auto alias = g.add_tensor(shared);
  const auto scale_zero = g.add_tensor(constant("scale 0", DType::kInt8, {2}, 11, Quantization::per_tensor(0.0f, 0)));
  const auto out = g.add_tensor(value("output", DType::kFloat32, {1, 5}));

  using ptq::ir::OpKind;
  ptq::ir::Op quant;
  quant.kind = OpKind::kQuantize;
  quant.name = "quantize";
  quant.inputs = {x};
  quant.outputs = {xq};
  g.ops.push_back(quant);

  ptq::ir::Op conv;
  conv.kind = OpKind::kConv2D;
  conv.name = "conv";
  conv.inputs = {xq, w, b};
  conv.outputs = {y};
  conv.attrs.stride_h = conv.attrs.stride_w = 2;
  conv.attrs.padding = ptq::Padding::kSame;
  conv.attrs.activation = ptq::FusedActivation::kRelu;
  g.ops.push_back(conv);

  ptq::ir::Op fc;  // empty name, no bias
  fc.kind = OpKind::kFullyConnected;
  fc.inputs = {y, wf, ptq::ir::kNoTensor};
  fc.outputs = {yf};
  fc.attrs.keep_num_dims = true;
  g.ops.push_back(fc);

  ptq::ir::Op all;  // every attribute non-default, some absent inputs
  all.kind = OpKind::kLstm;
  all.name = "every attribute";
  all.inputs = {yf, h, u, s16, shape, i4, one_scale, scalar, zero, alias, scale_zero, ptq::ir::kNoTensor};
  all.outputs = {out};
  all.attrs = every_attribute_set();
  g.ops.push_back(all);

  g.inputs = {x};
  g.outputs = {out, yf};
  return g;
}

// One op, no constants: small enough to corrupt exhaustively.
inline ptq::ir::Graph tiny_model() {
  ptq::ir::Graph g;
  g.name = "tiny";
  const auto x = g.add_tensor(value("x", ptq::DType::kFloat32, {2, 3}));
  const auto y = g.add_tensor(value("y", ptq::DType::kFloat32, {2, 3}));
  ptq::ir::Op relu;
  relu.kind = ptq::ir::OpKind::kRelu;
  relu.name = "relu";
  relu.inputs = {x};
  relu.outputs = {y};
  g.ops.push_back(relu);
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

// A small int8 CNN block: constants, per-axis weights, attributes, fused activations.
inline ptq::ir::Graph small_cnn() {
  using ptq::DType;
  using ptq::ir::Quantization;
  ptq::ir::Graph g;
  g.name = "small cnn";
  const auto x = g.add_tensor(value("x", DType::kInt8, {1, 8, 8, 2}, Quantization::per_tensor(0.02f, -5)));
  const auto w = g.add_tensor(constant("dw/w", DType::kInt8, {1, 3, 3, 4}, 21,
                                       Quantization::along(3, {0.1f, 0.2f, 0.3f, 0.4f})));
  const auto y = g.add_tensor(value("dw/y", DType::kInt8, {1, 8, 8, 4}, Quantization::per_tensor(0.05f, 3)));
  const auto p = g.add_tensor(value("pool", DType::kInt8, {1, 4, 4, 4}, Quantization::per_tensor(0.05f, 3)));
  const auto r = g.add_tensor(value("flat", DType::kInt8, {1, 64}, Quantization::per_tensor(0.05f, 3)));
  ptq::ir::Op dw;
  dw.kind = ptq::ir::OpKind::kDepthwiseConv2D;
  dw.name = "dw";
  dw.inputs = {x, w, ptq::ir::kNoTensor};
  dw.outputs = {y};
  dw.attrs.padding = ptq::Padding::kSame;
  dw.attrs.depth_multiplier = 2;
  dw.attrs.activation = ptq::FusedActivation::kRelu6;
  g.ops.push_back(dw);
  ptq::ir::Op pool;
  pool.kind = ptq::ir::OpKind::kMaxPool2D;
  pool.name = "pool";
  pool.inputs = {y};
  pool.outputs = {p};
  pool.attrs.filter_h = pool.attrs.filter_w = 2;
  pool.attrs.stride_h = pool.attrs.stride_w = 2;
  g.ops.push_back(pool);
  ptq::ir::Op reshape;
  reshape.kind = ptq::ir::OpKind::kReshape;
  reshape.name = "reshape";
  reshape.inputs = {p};
  reshape.outputs = {r};
  reshape.attrs.new_shape = {1, -1};
  g.ops.push_back(reshape);
  g.inputs = {x};
  g.outputs = {r};
  return g;
}

// A graph with no tensors and no ops.
inline ptq::ir::Graph empty_model() { return ptq::ir::Graph{}; }

// ---- Reading and editing files per format.md ------------------------------------------------------
using Bytes = std::vector<uint8_t>;

inline uint64_t le(const Bytes& f, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | f.at(at + i);
  return v;
}
inline void put(Bytes& f, uint64_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) f.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t float_bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

struct TocEntry {
  uint32_t id = 0, count = 0;
  uint64_t offset = 0, size = 0, checksum = 0, at = 0;
  uint64_t end() const { return offset + size; }
};

inline std::vector<TocEntry> toc(const Bytes& f) {
  std::vector<TocEntry> entries;
  const uint64_t at = le(f, ptq::ir::format::kHeaderTocOffset, 8), size = le(f, ptq::ir::format::kHeaderTocSize, 8);
  for (uint64_t e = at; e < at + size; e += ptq::ir::format::kTocEntrySize) {
    entries.push_back({static_cast<uint32_t>(le(f, e, 4)), static_cast<uint32_t>(le(f, e + 4, 4)), le(f, e + 8, 8),
                       le(f, e + 16, 8), le(f, e + 24, 8), e});
  }
  return entries;
}

inline uint64_t header_checksum(const Bytes& f) {
  ptq::ir::format::Xxh64 h;
  h.update(f.data(), ptq::ir::format::kHeaderChecksum);
  h.update(f.data() + le(f, ptq::ir::format::kHeaderTocOffset, 8), le(f, ptq::ir::format::kHeaderTocSize, 8));
  return h.digest();
}
// Recomputes every checksum (after a deliberate edit that must still parse).
inline void reseal(Bytes& f) {
  for (const TocEntry& e : toc(f)) {
    put(f, e.at + ptq::ir::format::kTocChecksum, ptq::ir::format::xxh64(f.data() + e.offset, e.size), 8);
  }
  put(f, ptq::ir::format::kHeaderChecksum, header_checksum(f), 8);
}

// The file with one more section (id, payload) and the table of contents moved to the end.
inline Bytes with_extra_section(const Bytes& original, uint32_t id, const Bytes& payload) {
  Bytes f = original;
  const uint64_t old_toc = le(f, ptq::ir::format::kHeaderTocOffset, 8);
  const uint64_t old_size = le(f, ptq::ir::format::kHeaderTocSize, 8);
  while (f.size() % 8) f.push_back(0);
  const uint64_t payload_at = f.size();
  f.insert(f.end(), payload.begin(), payload.end());
  while (f.size() % 8) f.push_back(0);
  const uint64_t toc_at = f.size();
  const Bytes entries(f.begin() + static_cast<std::ptrdiff_t>(old_toc),
                      f.begin() + static_cast<std::ptrdiff_t>(old_toc + old_size));
  f.insert(f.end(), entries.begin(), entries.end());
  f.resize(f.size() + ptq::ir::format::kTocEntrySize, 0);
  const uint64_t e = toc_at + old_size;
  put(f, e + ptq::ir::format::kTocId, id, 4);
  put(f, e + ptq::ir::format::kTocOffset, payload_at, 8);
  put(f, e + ptq::ir::format::kTocSize, payload.size(), 8);
  std::fill(f.begin() + static_cast<std::ptrdiff_t>(old_toc),
            f.begin() + static_cast<std::ptrdiff_t>(old_toc + old_size), 0);
  put(f, ptq::ir::format::kHeaderTocOffset, toc_at, 8);
  put(f, ptq::ir::format::kHeaderTocSize, old_size + ptq::ir::format::kTocEntrySize, 8);
  put(f, ptq::ir::format::kHeaderFileSize, f.size(), 8);
  reseal(f);
  return f;
}


}  // namespace ptq_test
