// onnx_import.cpp: the ONNX importer behind io/onnx_import.hpp (library ptq::onnx).
//
// How it works, in one pass over the ONNX nodes (which ONNX keeps in topological order):
//   - Every ONNX value is a `Value`: either a host constant (initializers, Constant nodes, and
//     anything computed from constants or static shapes: folded here, never emitted) or a runtime
//     value backed by up to two IR tensors: `plain` (ONNX's shape and element order) and `nhwc`
//     (for rank 4: the same data as N, H, W, C). Ops that work in NHWC (conv, pooling) ask for the
//     nhwc view, layout-agnostic ops (elementwise, activations, concat, pad, reduce) keep whichever
//     view their input has, and layout-sensitive ops ask for the plain view. A missing view is made
//     once (one Transpose, or a Reshape when C == 1 or H * W == 1, where both orders coincide) and
//     cached, so a model pays for a layout change only where its meaning needs one.
//   - Each ONNX node becomes zero or more IR ops, built through emit(), which runs the IR's shape
//     inference at once; every message names the ONNX node (index, name, op type).
//   - Afterwards: BatchNormalization has been folded into its producer as it was met; a following
//     Relu / Relu6 / ReluN1To1 is fused into its only producer; unused ops and tensors are dropped;
//     the graph is validated (ir::validate).
// Reference: ONNX Operators.md (opsets 11-17) and onnx.proto.
#include "ptq/io/onnx_import.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <onnx/onnx_pb.h>

#include "ptq/core/float16.hpp"
#include "ptq/ir/builder.hpp"
#include "ptq/ir/shape_inference.hpp"
#include "ptq/ir/validate.hpp"

PTQ_NAMESPACE_BEGIN
namespace io {
namespace {

using ir::kNoTensor;
using ir::OpKind;
using ir::TensorId;
using Dims = std::vector<int64_t>;

constexpr int64_t kMaxElements = int64_t{1} << 30;  // a bound on any tensor the importer builds

std::string dims_str(const Dims& d) { return Shape(d).to_string(); }

int64_t product(const Dims& d, std::size_t begin = 0, std::size_t end = SIZE_MAX) {
  int64_t n = 1;
  for (std::size_t i = begin; i < d.size() && i < end; ++i) n *= d[i];
  return n;
}

// Row-major strides of `d`.
Dims strides_of(const Dims& d) {
  Dims s(d.size(), 1);
  for (std::size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

// ---- host constants ------------------------------------------------------------------------
// Float data (float, double, float16 in ONNX) as float32, integer and bool data as int64.
struct Const {
  bool is_float = true;
  Dims dims;
  std::vector<float> f;
  std::vector<int64_t> i;

  int64_t count() const { return product(dims); }
  double at(int64_t k) const {
    return is_float ? static_cast<double>(f[static_cast<std::size_t>(k)]) : static_cast<double>(i[static_cast<std::size_t>(k)]);
  }
  static Const floats(Dims d, std::vector<float> v) {
    Const c;
    c.dims = std::move(d);
    c.f = std::move(v);
    return c;
  }
  static Const ints(Dims d, std::vector<int64_t> v) {
    Const c;
    c.is_float = false;
    c.dims = std::move(d);
    c.i = std::move(v);
    return c;
  }
  std::vector<float> as_floats() const {
    if (is_float) return f;
    return std::vector<float>(i.begin(), i.end());
  }
  std::vector<int64_t> as_ints() const {
    if (!is_float) return i;
    std::vector<int64_t> r;
    r.reserve(f.size());
    for (float v : f) r.push_back(static_cast<int64_t>(v));
    return r;
  }
};

// Elements of `c` rearranged by `perm` (out dim k = in dim perm[k]).
Const transpose_const(const Const& c, const std::vector<int>& perm) {
  const std::size_t r = c.dims.size();
  Dims out(r);
  for (std::size_t k = 0; k < r; ++k) out[k] = c.dims[static_cast<std::size_t>(perm[k])];
  const Dims in_strides = strides_of(c.dims);
  Const o;
  o.is_float = c.is_float;
  o.dims = out;
  const int64_t n = c.count();
  if (c.is_float) o.f.resize(static_cast<std::size_t>(n)); else o.i.resize(static_cast<std::size_t>(n));
  Dims idx(r, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t src = 0;
    for (std::size_t k = 0; k < r; ++k) src += idx[k] * in_strides[static_cast<std::size_t>(perm[k])];
    if (c.is_float) o.f[static_cast<std::size_t>(flat)] = c.f[static_cast<std::size_t>(src)];
    else o.i[static_cast<std::size_t>(flat)] = c.i[static_cast<std::size_t>(src)];
    for (std::size_t k = r; k-- > 0;) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return o;
}

// numpy broadcasting of two shapes; false if they do not broadcast.
bool broadcast_dims(const Dims& a, const Dims& b, Dims* out) {
  const std::size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  for (std::size_t k = 0; k < r; ++k) {
    const int64_t da = k + a.size() >= r ? a[k + a.size() - r] : 1;
    const int64_t db = k + b.size() >= r ? b[k + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1) return false;
    (*out)[k] = da == 1 ? db : da;
  }
  return true;
}

// The flat index into a tensor of dims `d` (right-aligned, broadcast) for output index `idx`.
int64_t broadcast_offset(const Dims& d, const Dims& idx) {
  int64_t off = 0, stride = 1;
  for (std::size_t k = d.size(); k-- > 0;) {
    const int64_t i = d[k] == 1 ? 0 : idx[k + idx.size() - d.size()];
    off += i * stride;
    stride *= d[k];
  }
  return off;
}

// The model's Value table entry.
struct Value {
  bool is_const = false;
  Const c;
  TensorId plain = kNoTensor;
  TensorId nhwc = kNoTensor;
};

// An attribute as the importer reads it.
struct Attr {
  int type = 0;  // onnx::AttributeProto::AttributeType
  int64_t i = 0;
  float f = 0;
  std::string s;
  Dims ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  const onnx::TensorProto* t = nullptr;
};

// ---- TensorProto -> Const ------------------------------------------------------------------
Result<Const> const_from_proto(const onnx::TensorProto& t, const std::string& what) {
  Const c;
  for (int64_t d : t.dims()) {
    if (d < 0) return invalid_argument(what + ": negative dimension " + std::to_string(d));
    c.dims.push_back(d);
    if (product(c.dims) > kMaxElements) return invalid_argument(what + ": more than 2^30 elements");
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    return unimplemented(what + ": external data (a separate weights file) is not supported");
  }
  if (t.segment().begin() != 0 || t.segment().end() != 0) return unimplemented(what + ": segmented tensors are not supported");
  const int64_t n = c.count();
  const auto nz = static_cast<std::size_t>(n);
  const bool raw = t.has_raw_data();
  const std::string& bytes = t.raw_data();
  const auto need_raw = [&](std::size_t elem) -> Status {
    if (bytes.size() != nz * elem) {
      return data_loss(what + ": raw_data holds " + std::to_string(bytes.size()) + " bytes; " + dims_str(c.dims) +
                       " needs " + std::to_string(nz * elem));
    }
    return Status();
  };
  const auto need_count = [&](int have) -> Status {
    if (static_cast<int64_t>(have) != n) {
      return data_loss(what + ": holds " + std::to_string(have) + " values; " + dims_str(c.dims) + " needs " + std::to_string(n));
    }
    return Status();
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      c.f.resize(nz);
      if (raw) {
        PTQ_RETURN_IF_ERROR(need_raw(4));
        if (nz) std::memcpy(c.f.data(), bytes.data(), nz * 4);
      } else {
        PTQ_RETURN_IF_ERROR(need_count(t.float_data_size()));
        std::copy(t.float_data().begin(), t.float_data().end(), c.f.begin());
      }
      return c;
    case onnx::TensorProto::DOUBLE:
      c.f.resize(nz);
      if (raw) {
        PTQ_RETURN_IF_ERROR(need_raw(8));
        for (std::size_t k = 0; k < nz; ++k) {
          double v;
          std::memcpy(&v, bytes.data() + 8 * k, 8);
          c.f[k] = static_cast<float>(v);
        }
      } else {
        PTQ_RETURN_IF_ERROR(need_count(t.double_data_size()));
        for (std::size_t k = 0; k < nz; ++k) c.f[k] = static_cast<float>(t.double_data(static_cast<int>(k)));
      }
      return c;
    case onnx::TensorProto::FLOAT16:
      c.f.resize(nz);
      if (raw) {
        PTQ_RETURN_IF_ERROR(need_raw(2));
        for (std::size_t k = 0; k < nz; ++k) {
          uint16_t h;
          std::memcpy(&h, bytes.data() + 2 * k, 2);
          c.f[k] = half_bits_to_float(h);
        }
      } else {
        PTQ_RETURN_IF_ERROR(need_count(t.int32_data_size()));
        for (std::size_t k = 0; k < nz; ++k) c.f[k] = half_bits_to_float(static_cast<uint16_t>(t.int32_data(static_cast<int>(k))));
      }
      return c;
    case onnx::TensorProto::INT64:
      c.is_float = false;
      c.i.resize(nz);
      if (raw) {
        PTQ_RETURN_IF_ERROR(need_raw(8));
        if (nz) std::memcpy(c.i.data(), bytes.data(), nz * 8);
      } else {
        PTQ_RETURN_IF_ERROR(need_count(t.int64_data_size()));
        std::copy(t.int64_data().begin(), t.int64_data().end(), c.i.begin());
      }
      return c;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::BOOL: {
      c.is_float = false;
      c.i.resize(nz);
      const int dt = t.data_type();
      const std::size_t elem = dt == onnx::TensorProto::INT32 ? 4
                               : (dt == onnx::TensorProto::INT16 || dt == onnx::TensorProto::UINT16) ? 2 : 1;
      if (raw) {
        PTQ_RETURN_IF_ERROR(need_raw(elem));
        for (std::size_t k = 0; k < nz; ++k) {
          const char* p = bytes.data() + elem * k;
          switch (dt) {
            case onnx::TensorProto::INT32: { int32_t v; std::memcpy(&v, p, 4); c.i[k] = v; break; }
            case onnx::TensorProto::INT16: { int16_t v; std::memcpy(&v, p, 2); c.i[k] = v; break; }
            case onnx::TensorProto::UINT16: { uint16_t v; std::memcpy(&v, p, 2); c.i[k] = v; break; }
            case onnx::TensorProto::INT8: c.i[k] = static_cast<int8_t>(*p); break;
            default: c.i[k] = static_cast<uint8_t>(*p); break;
          }
        }
      } else {
        PTQ_RETURN_IF_ERROR(need_count(t.int32_data_size()));
        std::copy(t.int32_data().begin(), t.int32_data().end(), c.i.begin());
      }
      return c;
    }
    default:
      return unimplemented(what + ": data type " + std::to_string(t.data_type()) +
                           " (onnx.TensorProto.DataType) is not supported (float, double, float16 and integers are)");
  }
}

bool is_identity_perm(const std::vector<int>& p) {
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p[k] != static_cast<int>(k)) return false;
  }
  return true;
}

const std::vector<int> kToNhwc = {0, 2, 3, 1};  // NHWC dim k = NCHW dim kToNhwc[k]
const std::vector<int> kToNchw = {0, 3, 1, 2};  // NCHW dim k = NHWC dim kToNchw[k]

// ---- helpers shared by several handlers ------------------------------------------------------
int nhwc_pos(int onnx_axis) { return onnx_axis == 0 ? 0 : onnx_axis == 1 ? 3 : onnx_axis - 1; }

std::vector<int> inverse_perm(const std::vector<int>& p) {
  std::vector<int> q(p.size());
  for (std::size_t k = 0; k < p.size(); ++k) q[static_cast<std::size_t>(p[k])] = static_cast<int>(k);
  return q;
}

// The indices a Slice keeps along each dimension of `dims`.
Result<std::vector<Dims>> slice_picks(const Dims& dims, const Dims& starts, const Dims& ends, Dims axes, Dims steps) {
  const std::size_t r = dims.size();
  if (axes.empty()) for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size()) {
    return invalid_argument("starts, ends, axes and steps differ in length");
  }
  std::vector<Dims> pick(r);
  for (std::size_t k = 0; k < r; ++k) {
    for (int64_t q = 0; q < dims[k]; ++q) pick[k].push_back(q);
  }
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto rr = static_cast<int64_t>(r);
    if (axes[k] < -rr || axes[k] >= rr) return invalid_argument("axis " + std::to_string(axes[k]) + " is out of range");
    const auto ax = static_cast<std::size_t>(axes[k] < 0 ? axes[k] + rr : axes[k]);
    const int64_t dim = dims[ax], step = steps[k];
    if (step == 0) return invalid_argument("step 0");
    int64_t b = starts[k] < 0 ? starts[k] + dim : starts[k];
    int64_t e = ends[k] < 0 ? ends[k] + dim : ends[k];
    pick[ax].clear();
    if (step > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      for (int64_t q = b; q < e; q += step) pick[ax].push_back(q);
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      for (int64_t q = b; q > e; q += step) pick[ax].push_back(q);
    }
  }
  return pick;
}

bool is_iota(const Dims& ids, int64_t n) {
  if (static_cast<int64_t>(ids.size()) != n) return false;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] != static_cast<int64_t>(k)) return false;
  }
  return true;
}

// ---- the importer ----------------------------------------------------------------------------
class Importer {
 public:
  explicit Importer(const OnnxImportOptions& options) : opt_(options) {}

  Result<ir::Graph> run(const onnx::ModelProto& model);

 private:
  // ---- messages ----
  Status fail(StatusCode code, const std::string& msg) const { return Status(code, where_ + ": " + msg); }
  Status unsupported(const std::string& msg) const { return fail(StatusCode::kUnimplemented, msg); }
  Status invalid(const std::string& msg) const { return fail(StatusCode::kInvalidArgument, msg); }
  Status bad_attr(const std::string& name, const std::string& msg) const {
    return unsupported("attribute '" + name + "' " + msg);
  }

  // ---- names ----
  std::string unique_name(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_names_.count(name); ++k) name = base + "_" + std::to_string(k);
    used_names_.insert(name);
    return name;
  }

  // ---- IR construction ----
  TensorId add_const_tensor(const std::string& base, const Const& c, const std::vector<int>& perm = {}) {
    const Const& src = perm.empty() ? c : transpose_const(c, perm);
    ir::Tensor t;
    t.name = unique_name(base);
    t.shape = Shape(perm.empty() ? c.dims : src.dims);
    if (src.is_float) {
      t.dtype = DType::kFloat32;
      t.data = ir::Buffer::copy_of(src.f);
    } else {
      t.dtype = DType::kInt32;
      std::vector<int32_t> v(src.i.size());
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<int32_t>(src.i[k]);
      t.data = ir::Buffer::copy_of(v);
    }
    return g_.add_tensor(std::move(t));
  }
  TensorId add_float_const(const std::string& base, Dims dims, const std::vector<float>& v) {
    return add_const_tensor(base, Const::floats(std::move(dims), v));
  }

  // Appends one IR op whose output is named `out_name` (made unique) and shaped by inference.
  Result<TensorId> emit(OpKind kind, std::vector<TensorId> inputs, const ir::Attributes& a, const std::string& out_name) {
    while (inputs.size() > 1 && inputs.back() == kNoTensor &&
           static_cast<int>(inputs.size()) > ir::op_signature(kind, a).min_inputs) {
      inputs.pop_back();
    }
    ir::Op op;
    op.kind = kind;
    op.name = unique_op_name(node_name_);
    op.inputs = std::move(inputs);
    op.attrs = a;
    ir::Tensor y;
    y.name = unique_name(out_name);
    y.dtype = kind == OpKind::kEmbeddingLookup ? g_.tensor(op.inputs[1]).dtype : g_.tensor(op.inputs[0]).dtype;
    const TensorId yid = g_.add_tensor(std::move(y));
    op.outputs = {yid};
    g_.ops.push_back(std::move(op));
    Result<std::vector<Shape>> shapes = ir::infer_output_shapes(g_, g_.op_count() - 1);
    if (!shapes.ok()) return invalid("the imported " + std::string(ir::op_kind_name(kind)) + " does not fit: " + shapes.status().message());
    g_.tensor(yid).shape = (*shapes)[0];
    return yid;
  }
  std::string unique_op_name(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_op_names_.count(name); ++k) name = base + "/" + std::to_string(k);
    used_op_names_.insert(name);
    return name;
  }

  Result<TensorId> reshape(TensorId x, const Dims& dims, const std::string& out_name) {
    if (g_.tensor(x).shape.dims() == dims) return x;
    return emit(OpKind::kReshape, {x}, ir::attrs().new_shape(dims), out_name);
  }
  Result<TensorId> transpose(TensorId x, const std::vector<int>& perm, const std::string& out_name) {
    if (is_identity_perm(perm)) return x;
    // Moving only size-1 dims keeps the element order: a Reshape says so and costs nothing.
    const Dims& d = g_.tensor(x).shape.dims();
    std::vector<int> moved;
    for (int p : perm) {
      if (d[static_cast<std::size_t>(p)] != 1) moved.push_back(p);
    }
    if (std::is_sorted(moved.begin(), moved.end())) {
      Dims out;
      for (int p : perm) out.push_back(d[static_cast<std::size_t>(p)]);
      return reshape(x, out, out_name);
    }
    return emit(OpKind::kTranspose, {x}, ir::attrs().perm(std::vector<int32_t>(perm.begin(), perm.end())), out_name);
  }

  // ---- values ----
  Result<Value*> value(const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end()) return invalid("input '" + name + "' is not produced by any earlier node, initializer or graph input");
    return &it->second;
  }
  bool has_input(int k) const { return k < node_->input_size() && !node_->input(k).empty(); }
  const std::string& in_name(int k) const { return node_->input(k); }
  Result<Value*> in(int k) {
    if (!has_input(k)) return invalid("input " + std::to_string(k) + " is missing");
    return value(in_name(k));
  }
  // A constant input (folded), or an error naming it.
  Result<const Const*> const_in(int k, const std::string& role) {
    Result<Value*> v = in(k);
    if (!v.ok()) return v.status();
    if (!(*v)->is_const) {
      return unsupported("input " + std::to_string(k) + " (" + role + ") '" + in_name(k) +
                         "' is computed at run time; ptq imports it only as a constant");
    }
    return &(*v)->c;
  }

  Dims onnx_dims(const Value& v) const {
    if (v.is_const) return v.c.dims;
    if (v.plain != kNoTensor) return g_.tensor(v.plain).shape.dims();
    const Dims& n = g_.tensor(v.nhwc).shape.dims();
    return {n[0], n[3], n[1], n[2]};
  }
  static bool orders_agree(const Dims& nchw) { return nchw.size() == 4 && (nchw[1] == 1 || nchw[2] * nchw[3] == 1); }

  // The IR tensor with ONNX's shape and element order.
  Result<TensorId> plain(Value& v, const std::string& name) {
    if (v.plain != kNoTensor) return v.plain;
    if (v.is_const) return v.plain = add_const_tensor(name, v.c);
    Result<TensorId> t = transpose(v.nhwc, kToNchw, name + "/nchw");
    if (!t.ok()) return t;
    return v.plain = *t;
  }
  // The rank-4 value as NHWC.
  Result<TensorId> nhwc(Value& v, const std::string& name) {
    if (v.nhwc != kNoTensor) return v.nhwc;
    const Dims d = onnx_dims(v);
    if (d.size() != 4) return unsupported("'" + name + "' has shape " + dims_str(d) + "; this op needs a 4-D NCHW tensor");
    if (v.is_const) return v.nhwc = add_const_tensor(name + "/nhwc", v.c, kToNhwc);
    Result<TensorId> t = transpose(v.plain, kToNhwc, name + "/nhwc");
    if (!t.ok()) return t;
    return v.nhwc = *t;
  }
  // An IR tensor whose elements are in ONNX's row-major order (its shape may be the NHWC one).
  Result<TensorId> ordered(Value& v, const std::string& name) {
    if (v.plain != kNoTensor || v.is_const) return plain(v, name);
    if (orders_agree(onnx_dims(v))) return v.nhwc;
    return plain(v, name);
  }

  // Output k of the current node.
  const std::string& out_name(int k = 0) const { return node_->output(k); }
  Value& def_out(int k = 0) {
    Value& v = values_[node_->output(k)];
    v = Value();
    return v;
  }
  void set_plain(TensorId t, int k = 0) { def_out(k).plain = t; }
  void set_nhwc(TensorId t, int k = 0) { def_out(k).nhwc = t; }
  void set_const(Const c, int k = 0) {
    Value& v = def_out(k);
    v.is_const = true;
    v.c = std::move(c);
  }
  bool output_used(int k) const {
    if (k >= node_->output_size() || node_->output(k).empty()) return false;
    auto it = uses_.find(node_->output(k));
    return it != uses_.end() && it->second > 0;
  }

  // ---- attributes ----
  Status read_attributes(const std::vector<std::string>& allowed);
  bool has_attr(const std::string& n) const { return attrs_.count(n) != 0; }
  int64_t attr_int(const std::string& n, int64_t dflt) const {
    auto it = attrs_.find(n);
    return it == attrs_.end() ? dflt : it->second.i;
  }
  float attr_float(const std::string& n, float dflt) const {
    auto it = attrs_.find(n);
    return it == attrs_.end() ? dflt : it->second.f;
  }
  std::string attr_string(const std::string& n, const std::string& dflt) const {
    auto it = attrs_.find(n);
    return it == attrs_.end() ? dflt : it->second.s;
  }
  Dims attr_ints(const std::string& n, Dims dflt) const {
    auto it = attrs_.find(n);
    return it == attrs_.end() ? dflt : it->second.ints;
  }

  // ---- node handlers ----
  Status import_node();
  Status fold_node(bool* folded);
  Status do_conv();
  Status do_conv_transpose();
  Status do_gemm();
  Status do_matmul();
  Status do_binary(OpKind kind, bool divide);
  // a (op) b with ONNX broadcasting, in NHWC when the run-time operands are; sets *is_nhwc.
  Result<TensorId> binary(OpKind kind, Value& a, const std::string& a_name, Value& b, const std::string& b_name,
                          const std::string& out, bool* is_nhwc);
  Status do_unary(OpKind kind, const ir::Attributes& a);
  Status do_clip();
  Status do_softmax();
  Status do_pool(bool is_max);
  Status do_global_average_pool();
  // Output dims of Reshape, Flatten, Squeeze, Unsqueeze (the current node) for input dims `in`.
  Result<Dims> shape_op_dims(const Dims& in);
  Status do_shape_op();
  Status do_transpose();
  Status do_concat();
  Status do_pad();
  Status do_gather();
  Status do_slice();
  Status do_reduce_mean();
  Status do_batch_norm();
  Status do_recurrent(bool lstm);
  Status do_alias();

  // Entries `ids` (in range) of run-time tensor `x` along `axis`: a gather as Transpose (axis to
  // the front), EmbeddingLookup with constant ids, Transpose back. The axis keeps its place.
  Result<TensorId> take(TensorId x, int axis, const std::vector<int64_t>& ids, const std::string& name);

  // Window geometry shared by Conv and the pools: the IR padding mode, or explicit pads
  // (top, left, bottom, right) that an explicit Pad op must add before a VALID window.
  struct Window {
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    Padding padding = Padding::kValid;
    bool explicit_pad = false;
    int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  };
  Status window(const Dims& x_nchw, int64_t kh, int64_t kw, bool ceil_mode, Window* w);
  Result<TensorId> pad_nhwc(TensorId x, const Window& w);

  // How many IR ops (and graph outputs) read `id`.
  int ir_consumers(TensorId id) const;
  // Whether every value of run-time tensor `id` is >= 0 by construction (a Relu, Relu6, Sigmoid,
  // Softmax or HardSigmoid output, or a data movement / max of such values).
  bool nonnegative(TensorId id, int depth = 0) const;

  Status fuse_activations();
  Status compact();
  Status declare_input(const onnx::ValueInfoProto& vi);

  const OnnxImportOptions& opt_;
  ir::Graph g_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> uses_;  // ONNX value name -> nodes reading it (+1 per graph output use)
  std::set<std::string> used_names_, used_op_names_;
  int64_t opset_ = 0;
  const onnx::NodeProto* node_ = nullptr;
  int node_index_ = 0;
  std::string where_ = "model";
  std::string node_name_;
  std::map<std::string, Attr> attrs_;
};

Status Importer::read_attributes(const std::vector<std::string>& allowed) {
  attrs_.clear();
  for (const onnx::AttributeProto& a : node_->attribute()) {
    if (std::find(allowed.begin(), allowed.end(), a.name()) == allowed.end()) {
      return bad_attr(a.name(), "is not supported on " + node_->op_type());
    }
    Attr x;
    x.type = a.type();
    x.i = a.i();
    x.f = a.f();
    x.s = a.s();
    x.ints.assign(a.ints().begin(), a.ints().end());
    x.floats.assign(a.floats().begin(), a.floats().end());
    x.strings.assign(a.strings().begin(), a.strings().end());
    if (a.has_t()) x.t = &a.t();
    attrs_[a.name()] = std::move(x);
  }
  return Status();
}

int Importer::ir_consumers(TensorId id) const {
  int n = 0;
  for (const ir::Op& op : g_.ops) {
    for (TensorId t : op.inputs) n += t == id;
  }
  for (TensorId t : g_.outputs) n += t == id;
  return n;
}

bool Importer::nonnegative(TensorId id, int depth) const {
  if (depth > 16) return false;
  for (const ir::Op& op : g_.ops) {
    if (op.outputs[0] != id) continue;
    if (op.attrs.activation == FusedActivation::kRelu || op.attrs.activation == FusedActivation::kRelu6) {
      if (op.kind != OpKind::kPad) return true;
    }
    switch (op.kind) {
      case OpKind::kRelu:
      case OpKind::kRelu6:
      case OpKind::kLogistic:
      case OpKind::kSoftmax:
      case OpKind::kHardSigmoid: return true;
      case OpKind::kMaxPool2D:
      case OpKind::kAveragePool2D:
      case OpKind::kPad:
      case OpKind::kReshape:
      case OpKind::kTranspose:
      case OpKind::kMean: return nonnegative(op.inputs[0], depth + 1);
      case OpKind::kConcatenation:
        for (TensorId t : op.inputs) {
          if (!nonnegative(t, depth + 1)) return false;
        }
        return true;
      default: return false;
    }
  }
  return false;
}

// ---- graph inputs ----------------------------------------------------------------------------
Status Importer::declare_input(const onnx::ValueInfoProto& vi) {
  const std::string what = "graph input '" + vi.name() + "'";
  if (!vi.type().has_tensor_type()) return Status(StatusCode::kUnimplemented, what + " is not a tensor");
  const auto& tt = vi.type().tensor_type();
  DType dtype;
  switch (tt.elem_type()) {
    case onnx::TensorProto::FLOAT: dtype = DType::kFloat32; break;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::INT32: dtype = DType::kInt32; break;  // ids: the IR's id type
    default:
      return Status(StatusCode::kUnimplemented,
                    what + " has element type " + std::to_string(tt.elem_type()) + "; float32 and integer ids are supported");
  }
  if (!tt.has_shape()) {
    return Status(StatusCode::kInvalidArgument, what + " has no shape; ptq needs static shapes (dynamic batch aside)");
  }
  Dims dims;
  for (int k = 0; k < tt.shape().dim_size(); ++k) {
    const auto& d = tt.shape().dim(k);
    if (d.has_dim_value() && d.dim_value() > 0) {
      dims.push_back(d.dim_value());
      continue;
    }
    const std::string param = d.has_dim_param() ? d.dim_param() : std::string();
    bool bound = false;
    for (const auto& [n, v] : opt_.dims) {
      if (!param.empty() && n == param) {
        if (v < 1) return Status(StatusCode::kInvalidArgument, "OnnxImportOptions::dims: '" + n + "' must be >= 1");
        dims.push_back(v);
        bound = true;
        break;
      }
    }
    if (bound) continue;
    if (k == 0) {
      if (opt_.batch < 1) return Status(StatusCode::kInvalidArgument, "OnnxImportOptions::batch must be >= 1");
      dims.push_back(opt_.batch);
      continue;
    }
    return Status(StatusCode::kInvalidArgument,
                  what + " dimension " + std::to_string(k) +
                      (param.empty() ? " is dynamic" : " is dynamic ('" + param + "')") +
                      "; only dimension 0 is bound to the batch: bind it through OnnxImportOptions::dims");
  }
  if (product(dims) > kMaxElements) return Status(StatusCode::kInvalidArgument, what + " is too large: " + dims_str(dims));
  ir::Tensor t;
  t.name = unique_name(vi.name());
  t.dtype = dtype;
  Value& v = values_[vi.name()];
  v = Value();
  if (opt_.nhwc && dims.size() == 4 && dtype == DType::kFloat32) {
    t.shape = Shape{dims[0], dims[2], dims[3], dims[1]};
    v.nhwc = g_.add_tensor(std::move(t));
    g_.inputs.push_back(v.nhwc);
  } else {
    t.shape = Shape(dims);
    v.plain = g_.add_tensor(std::move(t));
    g_.inputs.push_back(v.plain);
  }
  return Status();
}

// ---- the driver ------------------------------------------------------------------------------
Result<ir::Graph> Importer::run(const onnx::ModelProto& model) {
  if (!model.has_graph()) return data_loss("the model has no graph (not an ONNX ModelProto?)");
  for (const auto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
  }
  if (opset_ < 11 || opset_ > 17) {
    return unimplemented("the model's default-domain opset is " + std::to_string(opset_) +
                         "; ptq imports opsets 11 to 17 (re-export with opset_version in that range)");
  }
  const onnx::GraphProto& graph = model.graph();
  g_.name = graph.name().empty() ? "onnx_model" : graph.name();

  std::set<std::string> initializer_names;
  for (int k = 0; k < graph.initializer_size(); ++k) {
    const onnx::TensorProto& t = graph.initializer(k);
    Result<Const> c = const_from_proto(t, "initializer " + std::to_string(k) + " '" + t.name() + "'");
    if (!c.ok()) return c.status();
    Value& v = values_[t.name()];
    v.is_const = true;
    v.c = std::move(c).value();
    initializer_names.insert(t.name());
  }
  if (graph.sparse_initializer_size() > 0) return unimplemented("sparse initializers are not supported");
  for (const auto& vi : graph.input()) {
    if (initializer_names.count(vi.name())) continue;  // an initializer listed as an input (IR < 4)
    PTQ_RETURN_IF_ERROR(declare_input(vi));
  }
  for (const auto& n : graph.node()) {
    for (const auto& i : n.input()) ++uses_[i];
  }
  for (const auto& o : graph.output()) ++uses_[o.name()];

  for (int k = 0; k < graph.node_size(); ++k) {
    node_ = &graph.node(k);
    node_index_ = k;
    where_ = "node " + std::to_string(k) + (node_->name().empty() ? "" : " '" + node_->name() + "'") + " (" + node_->op_type() + ")";
    node_name_ = node_->name().empty() ? node_->op_type() + "_" + std::to_string(k) : node_->name();
    PTQ_RETURN_IF_ERROR(import_node());
    for (int o = 0; o < node_->output_size(); ++o) {
      if (!node_->output(o).empty() && !values_.count(node_->output(o)) && output_used(o)) {
        return unsupported("output " + std::to_string(o) + " '" + node_->output(o) + "' is used, but ptq does not compute it");
      }
    }
  }
  where_ = "model";

  for (const auto& o : graph.output()) {
    auto it = values_.find(o.name());
    if (it == values_.end()) return invalid_argument("graph output '" + o.name() + "' is never produced");
    Value& v = it->second;
    if (v.is_const) return unimplemented("graph output '" + o.name() + "' is a constant after folding; ptq graphs compute their outputs");
    const bool as_nhwc = opt_.nhwc && onnx_dims(v).size() == 4 &&
                         g_.tensor(v.nhwc != kNoTensor ? v.nhwc : v.plain).dtype == DType::kFloat32;
    Result<TensorId> t = as_nhwc ? nhwc(v, o.name()) : plain(v, o.name());
    if (!t.ok()) return t.status();
    if (std::find(g_.inputs.begin(), g_.inputs.end(), *t) != g_.inputs.end() ||
        std::find(g_.outputs.begin(), g_.outputs.end(), *t) != g_.outputs.end()) {
      return unimplemented("graph output '" + o.name() + "' is a graph input or another output; ptq graphs compute each output");
    }
    g_.outputs.push_back(*t);
    // The output keeps the ONNX name (swapped with whichever tensor holds it).
    if (g_.tensor(*t).name != o.name()) {
      const TensorId holder = g_.find_tensor(o.name());
      if (holder != kNoTensor) g_.tensor(holder).name = g_.tensor(*t).name;
      g_.tensor(*t).name = o.name();
    }
  }
  if (opt_.fuse_activations) PTQ_RETURN_IF_ERROR(fuse_activations());
  PTQ_RETURN_IF_ERROR(compact());
  PTQ_RETURN_IF_ERROR(ir::validate(g_));
  return std::move(g_);
}

// Folds a following Relu / Relu6 / ReluN1To1 into the op producing its input.
Status Importer::fuse_activations() {
  for (std::size_t k = 0; k < g_.ops.size(); ++k) {
    ir::Op& act = g_.ops[k];
    FusedActivation f;
    switch (act.kind) {
      case OpKind::kRelu: f = FusedActivation::kRelu; break;
      case OpKind::kRelu6: f = FusedActivation::kRelu6; break;
      case OpKind::kReluN1To1: f = FusedActivation::kReluN1To1; break;
      default: continue;
    }
    const TensorId x = act.inputs[0];
    if (std::find(g_.outputs.begin(), g_.outputs.end(), x) != g_.outputs.end() || ir_consumers(x) != 1) continue;
    for (std::size_t p = 0; p < k; ++p) {
      ir::Op& prod = g_.ops[p];
      if (prod.outputs[0] != x) continue;
      const bool fusable = prod.kind == OpKind::kConv2D || prod.kind == OpKind::kDepthwiseConv2D ||
                           prod.kind == OpKind::kFullyConnected || prod.kind == OpKind::kAdd ||
                           prod.kind == OpKind::kSub || prod.kind == OpKind::kMul;
      if (!fusable || prod.attrs.activation != FusedActivation::kNone) break;
      prod.attrs.activation = f;
      prod.outputs[0] = act.outputs[0];
      g_.ops.erase(g_.ops.begin() + static_cast<std::ptrdiff_t>(k));
      --k;
      break;
    }
  }
  return Status();
}

// Drops ops whose outputs nobody reads and tensors nobody refers to; renumbers the tensors.
Status Importer::compact() {
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<int> readers(g_.tensors.size(), 0);
    for (const ir::Op& op : g_.ops) {
      for (TensorId t : op.inputs) {
        if (t != kNoTensor) ++readers[static_cast<std::size_t>(t)];
      }
    }
    for (TensorId t : g_.outputs) ++readers[static_cast<std::size_t>(t)];
    for (std::size_t k = g_.ops.size(); k-- > 0;) {
      if (readers[static_cast<std::size_t>(g_.ops[k].outputs[0])] == 0) {
        g_.ops.erase(g_.ops.begin() + static_cast<std::ptrdiff_t>(k));
        changed = true;
      }
    }
  }
  std::vector<TensorId> remap(g_.tensors.size(), kNoTensor);
  std::vector<bool> keep(g_.tensors.size(), false);
  for (const ir::Op& op : g_.ops) {
    for (TensorId t : op.inputs) {
      if (t != kNoTensor) keep[static_cast<std::size_t>(t)] = true;
    }
    for (TensorId t : op.outputs) keep[static_cast<std::size_t>(t)] = true;
  }
  for (TensorId t : g_.inputs) keep[static_cast<std::size_t>(t)] = true;
  for (TensorId t : g_.outputs) keep[static_cast<std::size_t>(t)] = true;
  std::vector<ir::Tensor> kept;
  for (std::size_t k = 0; k < g_.tensors.size(); ++k) {
    if (!keep[k]) continue;
    remap[k] = static_cast<TensorId>(kept.size());
    kept.push_back(std::move(g_.tensors[k]));
  }
  g_.tensors = std::move(kept);
  const auto fix = [&](std::vector<TensorId>& ids) {
    for (TensorId& t : ids) {
      if (t != kNoTensor) t = remap[static_cast<std::size_t>(t)];
    }
  };
  for (ir::Op& op : g_.ops) {
    fix(op.inputs);
    fix(op.outputs);
  }
  fix(g_.inputs);
  fix(g_.outputs);
  return Status();
}

Status Importer::import_node() {
  const std::string& type = node_->op_type();
  if (!node_->domain().empty() && node_->domain() != "ai.onnx") {
    return unsupported("op domain '" + node_->domain() + "' is not supported (only the default ONNX domain)");
  }
  bool folded = false;
  PTQ_RETURN_IF_ERROR(fold_node(&folded));
  if (folded) return Status();

  if (type == "Conv") return do_conv();
  if (type == "ConvTranspose") return do_conv_transpose();
  if (type == "Gemm") return do_gemm();
  if (type == "MatMul") return do_matmul();
  if (type == "Add") return do_binary(OpKind::kAdd, false);
  if (type == "Sub") return do_binary(OpKind::kSub, false);
  if (type == "Mul") return do_binary(OpKind::kMul, false);
  if (type == "Div") return do_binary(OpKind::kMul, true);
  if (type == "Relu" || type == "Sigmoid" || type == "Tanh" || type == "HardSwish") {
    PTQ_RETURN_IF_ERROR(read_attributes({}));
    return do_unary(type == "Relu" ? OpKind::kRelu : type == "Sigmoid" ? OpKind::kLogistic
                    : type == "Tanh" ? OpKind::kTanh : OpKind::kHardSwish, {});
  }
  if (type == "LeakyRelu") {
    PTQ_RETURN_IF_ERROR(read_attributes({"alpha"}));
    return do_unary(OpKind::kLeakyRelu, ir::attrs().alpha(attr_float("alpha", 0.01f)));
  }
  if (type == "HardSigmoid") {
    PTQ_RETURN_IF_ERROR(read_attributes({"alpha", "beta"}));
    return do_unary(OpKind::kHardSigmoid, ir::attrs().alpha(attr_float("alpha", 0.2f)).beta(attr_float("beta", 0.5f)));
  }
  if (type == "Clip") return do_clip();
  if (type == "Softmax") return do_softmax();
  if (type == "MaxPool") return do_pool(true);
  if (type == "AveragePool") return do_pool(false);
  if (type == "GlobalAveragePool") return do_global_average_pool();
  if (type == "Flatten" || type == "Reshape" || type == "Squeeze" || type == "Unsqueeze") return do_shape_op();
  if (type == "Transpose") return do_transpose();
  if (type == "Concat") return do_concat();
  if (type == "Pad") return do_pad();
  if (type == "Gather") return do_gather();
  if (type == "Slice") return do_slice();
  if (type == "ReduceMean") return do_reduce_mean();
  if (type == "BatchNormalization") return do_batch_norm();
  if (type == "LSTM") return do_recurrent(true);
  if (type == "GRU") return do_recurrent(false);
  if (type == "Identity" || type == "Dropout" || type == "Cast") return do_alias();
  return unsupported("op type '" + type + "' is not supported by ptq's ONNX importer");
}

// Identity, Dropout (inference: identity; its mask output must be unused), Cast to float of a float.
Status Importer::do_alias() {
  const std::string& type = node_->op_type();
  if (type == "Dropout") {
    PTQ_RETURN_IF_ERROR(read_attributes({"seed", "ratio"}));
    if (has_input(2)) {
      Result<const Const*> tm = const_in(2, "training_mode");
      if (!tm.ok()) return tm.status();
      if ((*tm)->count() > 0 && (*tm)->at(0) != 0) return unsupported("training_mode is true; ptq imports inference graphs");
    }
    if (output_used(1)) return unsupported("the mask output is used; ptq removes Dropout");
  } else if (type == "Cast") {
    PTQ_RETURN_IF_ERROR(read_attributes({"to", "saturate"}));
    if (attr_int("to", 0) != onnx::TensorProto::FLOAT) {
      return bad_attr("to", "= " + std::to_string(attr_int("to", 0)) + ": a run-time Cast is supported only to float (1) of a float");
    }
  } else {
    PTQ_RETURN_IF_ERROR(read_attributes({}));
  }
  Result<Value*> x = in(0);
  if (!x.ok()) return x.status();
  if (type == "Cast" && !(*x)->is_const) {
    const TensorId t = (*x)->plain != kNoTensor ? (*x)->plain : (*x)->nhwc;
    if (g_.tensor(t).dtype != DType::kFloat32) return unsupported("a run-time Cast of a non-float tensor is not supported");
  }
  const Value copy = **x;
  def_out(0) = copy;
  return Status();
}

// ---- constant folding ------------------------------------------------------------------------
Status Importer::fold_node(bool* folded) {
  const std::string& type = node_->op_type();
  *folded = false;
  if (type == "Constant") {
    PTQ_RETURN_IF_ERROR(read_attributes({"value", "value_float", "value_floats", "value_int", "value_ints",
                                         "sparse_value", "value_string", "value_strings"}));
    if (has_attr("sparse_value") || has_attr("value_string") || has_attr("value_strings")) {
      return unsupported("only dense numeric Constant values are supported");
    }
    Const c;
    if (has_attr("value")) {
      const Attr& a = attrs_.at("value");
      if (!a.t) return bad_attr("value", "holds no tensor");
      Result<Const> r = const_from_proto(*a.t, where_ + " attribute 'value'");
      if (!r.ok()) return r.status();
      c = std::move(r).value();
    } else if (has_attr("value_float")) {
      c = Const::floats({}, {attr_float("value_float", 0)});
    } else if (has_attr("value_floats")) {
      const auto& v = attrs_.at("value_floats").floats;
      c = Const::floats({static_cast<int64_t>(v.size())}, v);
    } else if (has_attr("value_int")) {
      c = Const::ints({}, {attr_int("value_int", 0)});
    } else if (has_attr("value_ints")) {
      const Dims v = attr_ints("value_ints", {});
      c = Const::ints({static_cast<int64_t>(v.size())}, v);
    } else {
      return invalid("Constant has no value attribute");
    }
    set_const(std::move(c));
    *folded = true;
    return Status();
  }
  if (type == "Shape") {
    PTQ_RETURN_IF_ERROR(read_attributes({"start", "end"}));
    Result<Value*> x = in(0);
    if (!x.ok()) return x.status();
    const Dims d = onnx_dims(**x);
    const auto r = static_cast<int64_t>(d.size());
    const auto clampi = [&](int64_t v) { v = v < 0 ? v + r : v; return std::clamp<int64_t>(v, 0, r); };
    const int64_t b = clampi(attr_int("start", 0)), e = clampi(attr_int("end", r));
    Dims s;
    for (int64_t k = b; k < e; ++k) s.push_back(d[static_cast<std::size_t>(k)]);
    set_const(Const::ints({static_cast<int64_t>(s.size())}, s));
    *folded = true;
    return Status();
  }
  static const std::set<std::string> kFoldable = {"Identity", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat",
                                                  "Reshape", "Flatten", "Slice", "Add", "Sub", "Mul", "Div", "Neg",
                                                  "Transpose", "ConstantOfShape", "Range", "Sqrt", "Floor", "Ceil",
                                                  "Equal", "Where", "Min", "Max"};
  if (!kFoldable.count(type)) return Status();
  std::vector<const Const*> cs;
  for (int k = 0; k < node_->input_size(); ++k) {
    if (node_->input(k).empty()) {
      cs.push_back(nullptr);
      continue;
    }
    Result<Value*> v = value(node_->input(k));
    if (!v.ok()) return v.status();
    if (!(*v)->is_const) return Status();  // a run-time op
    cs.push_back(&(*v)->c);
  }
  if (cs.empty() && type != "ConstantOfShape") return Status();
  const auto need = [&](std::size_t n) -> Status {
    if (cs.size() < n || !cs[n - 1]) return invalid("needs " + std::to_string(n) + " inputs");
    return Status();
  };
  const auto axis_of = [&](int64_t a, std::size_t rank) -> Result<std::size_t> {
    const int64_t r = static_cast<int64_t>(rank);
    if (a < -r || a >= r) return invalid("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    return static_cast<std::size_t>(a < 0 ? a + r : a);
  };
  Const out;
  if (type == "Identity") {
    PTQ_RETURN_IF_ERROR(need(1));
    out = *cs[0];
  } else if (type == "Cast") {
    PTQ_RETURN_IF_ERROR(read_attributes({"to", "saturate"}));
    PTQ_RETURN_IF_ERROR(need(1));
    const int64_t to = attr_int("to", 0);
    if (to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE || to == onnx::TensorProto::FLOAT16) {
      out = Const::floats(cs[0]->dims, cs[0]->as_floats());
    } else if (to == onnx::TensorProto::BOOL) {
      std::vector<int64_t> v;
      for (int64_t k = 0; k < cs[0]->count(); ++k) v.push_back(cs[0]->at(k) != 0);
      out = Const::ints(cs[0]->dims, v);
    } else {
      out = Const::ints(cs[0]->dims, cs[0]->as_ints());
    }
  } else if (type == "Neg" || type == "Sqrt" || type == "Floor" || type == "Ceil") {
    PTQ_RETURN_IF_ERROR(need(1));
    out = *cs[0];
    for (float& v : out.f) v = type == "Neg" ? -v : type == "Sqrt" ? std::sqrt(v) : type == "Floor" ? std::floor(v) : std::ceil(v);
    if (type == "Neg") {
      for (int64_t& v : out.i) v = -v;
    }
  } else if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div" || type == "Equal" || type == "Min" ||
             type == "Max") {
    PTQ_RETURN_IF_ERROR(need(2));
    const Const &a = *cs[0], &b = *cs[1];
    Dims d;
    if (!broadcast_dims(a.dims, b.dims, &d)) return invalid("shapes " + dims_str(a.dims) + " and " + dims_str(b.dims) + " do not broadcast");
    const bool fl = (a.is_float || b.is_float) && type != "Equal";
    const int64_t n = product(d);
    if (n > kMaxElements) return invalid("folded result too large");
    out.is_float = fl;
    out.dims = d;
    Dims idx(d.size(), 0);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t ia = broadcast_offset(a.dims, idx), ib = broadcast_offset(b.dims, idx);
      if (fl) {
        const float x = static_cast<float>(a.at(ia)), y = static_cast<float>(b.at(ib));
        out.f.push_back(type == "Add" ? x + y : type == "Sub" ? x - y : type == "Mul" ? x * y : type == "Div" ? x / y
                        : type == "Min" ? std::min(x, y) : std::max(x, y));
      } else {
        const int64_t x = a.is_float ? static_cast<int64_t>(a.at(ia)) : a.i[static_cast<std::size_t>(ia)];
        const int64_t y = b.is_float ? static_cast<int64_t>(b.at(ib)) : b.i[static_cast<std::size_t>(ib)];
        if (type == "Div" && y == 0) return invalid("integer division by zero in a constant expression");
        int64_t r = 0;
        if (type == "Add") r = x + y;
        else if (type == "Sub") r = x - y;
        else if (type == "Mul") r = x * y;
        else if (type == "Div") r = x / y;  // ONNX integer Div truncates, as C++
        else if (type == "Equal") r = a.at(ia) == b.at(ib);
        else if (type == "Min") r = std::min(x, y);
        else r = std::max(x, y);
        out.i.push_back(r);
      }
      for (std::size_t q = d.size(); q-- > 0;) {
        if (++idx[q] < d[q]) break;
        idx[q] = 0;
      }
    }
  } else if (type == "Where") {
    PTQ_RETURN_IF_ERROR(need(3));
    const Const &c = *cs[0], &a = *cs[1], &b = *cs[2];
    Dims d0, d;
    if (!broadcast_dims(c.dims, a.dims, &d0) || !broadcast_dims(d0, b.dims, &d)) return invalid("Where inputs do not broadcast");
    const bool fl = a.is_float || b.is_float;
    out.is_float = fl;
    out.dims = d;
    Dims idx(d.size(), 0);
    for (int64_t k = 0; k < product(d); ++k) {
      const bool pick_a = c.at(broadcast_offset(c.dims, idx)) != 0;
      const Const& s = pick_a ? a : b;
      const int64_t off = broadcast_offset(s.dims, idx);
      if (fl) out.f.push_back(static_cast<float>(s.at(off)));
      else out.i.push_back(s.i[static_cast<std::size_t>(off)]);
      for (std::size_t q = d.size(); q-- > 0;) {
        if (++idx[q] < d[q]) break;
        idx[q] = 0;
      }
    }
  } else if (type == "ConstantOfShape") {
    PTQ_RETURN_IF_ERROR(read_attributes({"value"}));
    PTQ_RETURN_IF_ERROR(need(1));
    const Dims d = cs[0]->as_ints();
    for (int64_t v : d) {
      if (v < 0) return invalid("negative dimension in the shape");
    }
    if (product(d) > kMaxElements) return invalid("shape " + dims_str(d) + " is too large");
    Const fill = Const::floats({1}, {0.0f});
    if (has_attr("value")) {
      if (!attrs_.at("value").t) return bad_attr("value", "holds no tensor");
      Result<Const> r = const_from_proto(*attrs_.at("value").t, where_ + " attribute 'value'");
      if (!r.ok()) return r.status();
      fill = std::move(r).value();
      if (fill.count() != 1) return bad_attr("value", "must hold one element");
    }
    const auto n = static_cast<std::size_t>(product(d));
    out = fill.is_float ? Const::floats(d, std::vector<float>(n, fill.f[0])) : Const::ints(d, std::vector<int64_t>(n, fill.i[0]));
  } else if (type == "Range") {
    PTQ_RETURN_IF_ERROR(need(3));
    const double start = cs[0]->at(0), limit = cs[1]->at(0), delta = cs[2]->at(0);
    if (delta == 0) return invalid("Range with delta 0");
    const double n = std::max(0.0, std::ceil((limit - start) / delta));
    if (n > static_cast<double>(kMaxElements)) return invalid("Range too long");
    const auto count = static_cast<int64_t>(n);
    if (cs[0]->is_float) {
      std::vector<float> v;
      for (int64_t k = 0; k < count; ++k) v.push_back(static_cast<float>(start + static_cast<double>(k) * delta));
      out = Const::floats({count}, v);
    } else {
      std::vector<int64_t> v;
      for (int64_t k = 0; k < count; ++k) v.push_back(cs[0]->i[0] + k * cs[2]->i[0]);
      out = Const::ints({count}, v);
    }
  } else if (type == "Transpose") {
    PTQ_RETURN_IF_ERROR(read_attributes({"perm"}));
    PTQ_RETURN_IF_ERROR(need(1));
    const std::size_t r = cs[0]->dims.size();
    Dims p = attr_ints("perm", {});
    if (p.empty()) for (std::size_t k = r; k-- > 0;) p.push_back(static_cast<int64_t>(k));
    std::vector<int> perm;
    std::vector<bool> seen(r, false);
    if (p.size() != r) return bad_attr("perm", "has " + std::to_string(p.size()) + " entries for rank " + std::to_string(r));
    for (int64_t v : p) {
      if (v < 0 || v >= static_cast<int64_t>(r) || seen[static_cast<std::size_t>(v)]) return bad_attr("perm", "is not a permutation");
      seen[static_cast<std::size_t>(v)] = true;
      perm.push_back(static_cast<int>(v));
    }
    out = transpose_const(*cs[0], perm);
  } else if (type == "Concat") {
    PTQ_RETURN_IF_ERROR(read_attributes({"axis"}));
    PTQ_RETURN_IF_ERROR(need(1));
    Result<std::size_t> ax = axis_of(attr_int("axis", 0), cs[0]->dims.size());
    if (!ax.ok()) return ax.status();
    out.is_float = false;
    for (const Const* c : cs) out.is_float = out.is_float || (c && c->is_float);
    out.dims = cs[0]->dims;
    out.dims[*ax] = 0;
    for (const Const* c : cs) {
      if (!c || c->dims.size() != out.dims.size()) return invalid("Concat inputs differ in rank");
      out.dims[*ax] += c->dims[*ax];
    }
    const int64_t outer = product(out.dims, 0, *ax);
    for (int64_t o = 0; o < outer; ++o) {
      for (const Const* c : cs) {
        const int64_t block = product(c->dims, *ax);
        for (int64_t k = o * block; k < (o + 1) * block; ++k) {
          if (out.is_float) out.f.push_back(static_cast<float>(c->at(k)));
          else out.i.push_back(c->i[static_cast<std::size_t>(k)]);
        }
      }
    }
  } else if (type == "Gather") {
    PTQ_RETURN_IF_ERROR(read_attributes({"axis"}));
    PTQ_RETURN_IF_ERROR(need(2));
    const Const &data = *cs[0], &ids = *cs[1];
    Result<std::size_t> ax = axis_of(attr_int("axis", 0), data.dims.size());
    if (!ax.ok()) return ax.status();
    const int64_t n = data.dims[*ax];
    out.is_float = data.is_float;
    out.dims.assign(data.dims.begin(), data.dims.begin() + static_cast<std::ptrdiff_t>(*ax));
    out.dims.insert(out.dims.end(), ids.dims.begin(), ids.dims.end());
    out.dims.insert(out.dims.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(*ax) + 1, data.dims.end());
    const int64_t outer = product(data.dims, 0, *ax), inner = product(data.dims, *ax + 1);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t k = 0; k < ids.count(); ++k) {
        int64_t id = static_cast<int64_t>(ids.at(k));
        if (id < 0) id += n;
        if (id < 0 || id >= n) return invalid("index " + std::to_string(static_cast<int64_t>(ids.at(k))) + " is out of range");
        for (int64_t q = 0; q < inner; ++q) {
          const int64_t src = (o * n + id) * inner + q;
          if (out.is_float) out.f.push_back(data.f[static_cast<std::size_t>(src)]);
          else out.i.push_back(data.i[static_cast<std::size_t>(src)]);
        }
      }
    }
  } else if (type == "Unsqueeze" || type == "Squeeze" || type == "Reshape" || type == "Flatten") {
    // Shape-only: the data is unchanged.
    PTQ_RETURN_IF_ERROR(need(1));
    Result<Dims> d = shape_op_dims(cs[0]->dims);
    if (!d.ok()) return d.status();
    out = *cs[0];
    out.dims = *d;
  } else if (type == "Slice") {
    PTQ_RETURN_IF_ERROR(need(3));
    const Const& data = *cs[0];
    const std::size_t r = data.dims.size();
    Result<std::vector<Dims>> picks = slice_picks(data.dims, cs[1]->as_ints(), cs[2]->as_ints(),
                                                  cs.size() > 3 && cs[3] ? cs[3]->as_ints() : Dims(),
                                                  cs.size() > 4 && cs[4] ? cs[4]->as_ints() : Dims());
    if (!picks.ok()) return invalid(picks.status().message());
    const std::vector<Dims>& pick = *picks;
    out.is_float = data.is_float;
    for (const auto& p : pick) out.dims.push_back(static_cast<int64_t>(p.size()));
    const Dims st = strides_of(data.dims);
    Dims idx(r, 0);
    for (int64_t k = 0; k < product(out.dims); ++k) {
      int64_t src = 0;
      for (std::size_t q = 0; q < r; ++q) src += pick[q][static_cast<std::size_t>(idx[q])] * st[q];
      if (out.is_float) out.f.push_back(data.f[static_cast<std::size_t>(src)]);
      else out.i.push_back(data.i[static_cast<std::size_t>(src)]);
      for (std::size_t q = r; q-- > 0;) {
        if (++idx[q] < out.dims[q]) break;
        idx[q] = 0;
      }
    }
  }
  set_const(std::move(out));
  *folded = true;
  return Status();
}


Result<TensorId> Importer::take(TensorId x, int axis, const std::vector<int64_t>& ids, const std::string& name) {
  const Dims d = g_.tensor(x).shape.dims();
  if (is_iota(ids, d[static_cast<std::size_t>(axis)])) return x;
  std::vector<int> front = {axis};
  for (int k = 0; k < static_cast<int>(d.size()); ++k) {
    if (k != axis) front.push_back(k);
  }
  Result<TensorId> t = transpose(x, front, name + "/axis_first");
  if (!t.ok()) return t;
  const TensorId idc = add_const_tensor(name + "/ids", Const::ints({static_cast<int64_t>(ids.size())}, ids));
  Result<TensorId> e = emit(OpKind::kEmbeddingLookup, {idc, *t}, {}, name + "/gather");
  if (!e.ok()) return e;
  return transpose(*e, inverse_perm(front), name);
}

Status Importer::window(const Dims& x, int64_t kh, int64_t kw, bool ceil_mode, Window* w) {
  const Dims strides = attr_ints("strides", {1, 1}), dil = attr_ints("dilations", {1, 1}), pads = attr_ints("pads", {0, 0, 0, 0});
  const std::string auto_pad = attr_string("auto_pad", "NOTSET");
  if (strides.size() != 2) return bad_attr("strides", "has " + std::to_string(strides.size()) + " values; 2-D windows need 2");
  if (dil.size() != 2) return bad_attr("dilations", "has " + std::to_string(dil.size()) + " values; 2-D windows need 2");
  if (pads.size() != 4) return bad_attr("pads", "has " + std::to_string(pads.size()) + " values; 2-D windows need 4");
  for (int64_t v : strides) {
    if (v < 1 || v > INT32_MAX) return bad_attr("strides", "has a value " + std::to_string(v) + " < 1");
  }
  for (int64_t v : dil) {
    if (v < 1 || v > INT32_MAX) return bad_attr("dilations", "has a value " + std::to_string(v) + " < 1");
  }
  for (int64_t v : pads) {
    if (v < 0) return bad_attr("pads", "has a negative value (cropping) " + std::to_string(v));
  }
  if (kh < 1 || kw < 1 || kh > INT32_MAX || kw > INT32_MAX) return bad_attr("kernel_shape", "is not a valid 2-D window");
  w->kh = kh; w->kw = kw; w->sh = strides[0]; w->sw = strides[1]; w->dh = dil[0]; w->dw = dil[1];
  const int64_t H = x[2], W = x[3];
  const int64_t eh = (kh - 1) * w->dh + 1, ew = (kw - 1) * w->dw + 1;
  int64_t pt = pads[0], pl = pads[1], pb = pads[2], pr = pads[3];
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const auto total = [](int64_t in, int64_t s, int64_t e) {
      const int64_t out = (in + s - 1) / s;
      return std::max<int64_t>(0, (out - 1) * s + e - in);
    };
    const int64_t th = total(H, w->sh, eh), tw = total(W, w->sw, ew);
    const bool upper = auto_pad == "SAME_UPPER";
    pt = upper ? th / 2 : th - th / 2;
    pb = th - pt;
    pl = upper ? tw / 2 : tw - tw / 2;
    pr = tw - pl;
  } else if (auto_pad == "VALID") {
    pt = pl = pb = pr = 0;
  } else if (auto_pad != "NOTSET") {
    return bad_attr("auto_pad", "= '" + auto_pad + "' is not an ONNX value");
  }
  if (H + pt + pb < eh || W + pl + pr < ew) return invalid("the window " + std::to_string(eh) + "x" + std::to_string(ew) + " is larger than the padded input");
  if (ceil_mode) {
    const auto outs = [](int64_t in, int64_t p0, int64_t p1, int64_t e, int64_t s, int64_t* fl, int64_t* ce) {
      *fl = (in + p0 + p1 - e) / s + 1;
      *ce = (in + p0 + p1 - e + s - 1) / s + 1;
      if ((*ce - 1) * s >= in + p0) --*ce;  // the last window must start inside the input or its leading pad
    };
    int64_t f1, c1, f2, c2;
    outs(H, pt, pb, eh, w->sh, &f1, &c1);
    outs(W, pl, pr, ew, w->sw, &f2, &c2);
    if (f1 != c1 || f2 != c2) return bad_attr("ceil_mode", "= 1 adds a partial window here; TFLite's SAME/VALID cannot express it");
  }
  w->pt = pt; w->pl = pl; w->pb = pb; w->pr = pr;
  if (pt == 0 && pl == 0 && pb == 0 && pr == 0) {
    w->padding = Padding::kValid;
    return Status();
  }
  const ConvPadding same = compute_padding(Padding::kSame, H, W, kh, kw, w->sh, w->sw, w->dh, w->dw);
  const int64_t oh = (H + pt + pb - eh) / w->sh + 1, ow = (W + pl + pr - ew) / w->sw + 1;
  if (same.output_height == oh && same.output_width == ow && same.top == pt && same.left == pl) {
    w->padding = Padding::kSame;
    return Status();
  }
  w->padding = Padding::kValid;
  w->explicit_pad = true;
  return Status();
}

Result<TensorId> Importer::pad_nhwc(TensorId x, const Window& w) {
  return emit(OpKind::kPad, {x}, ir::attrs().paddings({0, 0, w.pt, w.pb, w.pl, w.pr, 0, 0}), out_name() + "/pad");
}

// ---- Conv ---------------------------------------------------------------------------------
Status Importer::do_conv() {
  PTQ_RETURN_IF_ERROR(read_attributes({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  const Dims xd = onnx_dims(x);
  if (xd.size() != 4) return unsupported("input has shape " + dims_str(xd) + "; only 2-D convolutions (4-D NCHW inputs) are imported");
  Result<const Const*> wr = const_in(1, "weights");
  if (!wr.ok()) return wr.status();
  const Const& w = **wr;
  if (w.dims.size() != 4) return invalid("weights have shape " + dims_str(w.dims) + "; expected [O, C / group, KH, KW]");
  const Const* b = nullptr;
  if (has_input(2)) {
    Result<const Const*> br = const_in(2, "bias");
    if (!br.ok()) return br.status();
    b = *br;
  }
  const int64_t O = w.dims[0], cg = w.dims[1], C = xd[1], group = attr_int("group", 1);
  if (group < 1 || C % group != 0 || O % group != 0 || cg * group != C) {
    return invalid("weights " + dims_str(w.dims) + " do not match " + std::to_string(C) + " input channels in " +
                   std::to_string(group) + " group(s)");
  }
  if (has_attr("kernel_shape") && attr_ints("kernel_shape", {}) != Dims{w.dims[2], w.dims[3]}) {
    return bad_attr("kernel_shape", "disagrees with the weights' " + dims_str(w.dims));
  }
  if (b && b->count() != O) return invalid("bias has shape " + dims_str(b->dims) + "; expected [" + std::to_string(O) + "]");
  Window win;
  PTQ_RETURN_IF_ERROR(window(xd, w.dims[2], w.dims[3], false, &win));
  Result<TensorId> xt = nhwc(x, in_name(0));
  if (!xt.ok()) return xt.status();
  TensorId xin = *xt;
  if (win.explicit_pad) {
    Result<TensorId> p = pad_nhwc(xin, win);
    if (!p.ok()) return p.status();
    xin = *p;
  }
  const TensorId bias = b ? add_const_tensor(in_name(2), Const::floats(Dims{O}, b->as_floats())) : kNoTensor;
  Const wf = Const::floats(w.dims, w.as_floats());
  ir::AttrBuilder a = ir::attrs();
  a.stride(static_cast<int32_t>(win.sh), static_cast<int32_t>(win.sw))
      .dilation(static_cast<int32_t>(win.dh), static_cast<int32_t>(win.dw))
      .padding(win.padding);
  Result<TensorId> y = kNoTensor;
  if (group > 1 && cg == 1 && group == C) {  // depthwise: [O, 1, KH, KW] -> [1, KH, KW, O], O = C * multiplier
    a.depth_multiplier(static_cast<int32_t>(O / C));
    const TensorId wt = add_const_tensor(in_name(1), wf, {1, 2, 3, 0});
    y = emit(OpKind::kDepthwiseConv2D, {xin, wt, bias}, a, out_name());
  } else {  // OIHW -> OHWI (grouped convs keep C / group input channels per filter)
    const TensorId wt = add_const_tensor(in_name(1), wf, {0, 2, 3, 1});
    y = emit(OpKind::kConv2D, {xin, wt, bias}, a, out_name());
  }
  if (!y.ok()) return y.status();
  set_nhwc(*y);
  return Status();
}

Status Importer::do_conv_transpose() {
  PTQ_RETURN_IF_ERROR(read_attributes({"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
                                       "pads", "strides"}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  const Dims xd = onnx_dims(**xv);
  Result<const Const*> wr = const_in(1, "weights");
  if (!wr.ok()) return wr.status();
  const Const& w = **wr;
  const auto all = [&](const char* n, int64_t v) {
    for (int64_t e : attr_ints(n, {})) {
      if (e != v) return false;
    }
    return true;
  };
  if (xd.size() != 4 || w.dims.size() != 4 || w.dims[2] != 1 || w.dims[3] != 1 || attr_int("group", 1) != 1 ||
      !all("strides", 1) || !all("pads", 0) || !all("dilations", 1) || !all("output_padding", 0) || has_attr("output_shape")) {
    return unsupported("only a 1x1, stride 1, unpadded, ungrouped ConvTranspose (a pointwise convolution) is imported; "
                       "ptq's IR has no transposed convolution");
  }
  if (w.dims[0] != xd[1]) return invalid("weights " + dims_str(w.dims) + " do not match the input's " + std::to_string(xd[1]) + " channels");
  const int64_t O = w.dims[1];
  const Const* b = nullptr;
  if (has_input(2)) {
    Result<const Const*> br = const_in(2, "bias");
    if (!br.ok()) return br.status();
    b = *br;
    if (b->count() != O) return invalid("bias has shape " + dims_str(b->dims));
  }
  Result<TensorId> xt = nhwc(**xv, in_name(0));
  if (!xt.ok()) return xt.status();
  // [C, O, 1, 1] -> [O, 1, 1, C]
  const TensorId wt = add_const_tensor(in_name(1), Const::floats(w.dims, w.as_floats()), {1, 2, 3, 0});
  const TensorId bias = b ? add_const_tensor(in_name(2), Const::floats(Dims{O}, b->as_floats())) : kNoTensor;
  Result<TensorId> y = emit(OpKind::kConv2D, {*xt, wt, bias}, ir::attrs(), out_name());
  if (!y.ok()) return y.status();
  set_nhwc(*y);
  return Status();
}

// ---- Gemm, MatMul ------------------------------------------------------------------------------
Status Importer::do_gemm() {
  PTQ_RETURN_IF_ERROR(read_attributes({"alpha", "beta", "transA", "transB"}));
  const float alpha = attr_float("alpha", 1.0f), beta = attr_float("beta", 1.0f);
  const bool ta = attr_int("transA", 0) != 0, tb = attr_int("transB", 0) != 0;
  Result<Value*> av = in(0), bv = in(1);
  if (!av.ok()) return av.status();
  if (!bv.ok()) return bv.status();
  if ((*av)->is_const) return unsupported("input A is a constant; ptq imports Gemm with a run-time A");
  const Dims ad = onnx_dims(**av), bd = onnx_dims(**bv);
  if (ad.size() != 2 || bd.size() != 2) return invalid("A " + dims_str(ad) + " and B " + dims_str(bd) + " must be 2-D");
  Result<TensorId> a = plain(**av, in_name(0));
  if (!a.ok()) return a.status();
  if (ta) {
    a = transpose(*a, {1, 0}, out_name() + "/a_t");
    if (!a.ok()) return a.status();
  }
  const int64_t K = ta ? ad[0] : ad[1];
  const int64_t N = tb ? bd[0] : bd[1];
  if ((tb ? bd[1] : bd[0]) != K) return invalid("A " + dims_str(ad) + " and B " + dims_str(bd) + " do not multiply");
  Result<TensorId> y = kNoTensor;
  // C: a bias per column folds into the FullyConnected; anything else is added after.
  const Const* cc = nullptr;
  Value* cv = nullptr;
  if (has_input(2)) {
    Result<Value*> r = in(2);
    if (!r.ok()) return r.status();
    cv = *r;
    if (cv->is_const) cc = &cv->c;
  }
  bool bias_folded = false;
  if ((*bv)->is_const) {
    Const w = Const::floats((*bv)->c.dims, (*bv)->c.as_floats());
    if (!tb) w = transpose_const(w, {1, 0});  // [K, N] -> [N, K]
    if (alpha != 1.0f) {
      for (float& v : w.f) v *= alpha;
    }
    TensorId bias = kNoTensor;
    if (cc && (cc->count() == N || cc->count() == 1) && cc->dims.size() <= 2 && (cc->dims.size() < 2 || cc->dims[0] == 1)) {
      std::vector<float> bvals(static_cast<std::size_t>(N));
      for (int64_t k = 0; k < N; ++k) bvals[static_cast<std::size_t>(k)] = beta * static_cast<float>(cc->at(cc->count() == 1 ? 0 : k));
      bias = add_float_const(in_name(2), {N}, bvals);
      bias_folded = true;
    }
    y = emit(OpKind::kFullyConnected, {*a, add_const_tensor(in_name(1), w), bias}, {}, out_name());
  } else {
    Result<TensorId> b = plain(**bv, in_name(1));
    if (!b.ok()) return b.status();
    y = emit(OpKind::kBatchMatMul, {*a, *b}, ir::attrs().adjoint(false, tb), out_name() + (alpha != 1.0f || cv ? "/matmul" : ""));
    if (y.ok() && alpha != 1.0f) {
      y = emit(OpKind::kMul, {*y, add_float_const(out_name() + "/alpha", {1}, {alpha})}, {}, out_name() + (cv ? "/scaled" : ""));
    }
  }
  if (!y.ok()) return y.status();
  if (cv && !bias_folded) {
    TensorId c;
    if (cc) {
      std::vector<float> v = cc->as_floats();
      for (float& e : v) e *= beta;
      c = add_float_const(in_name(2), cc->dims, v);
    } else {
      if (beta != 1.0f) return bad_attr("beta", "!= 1 with a run-time C is not supported");
      Result<TensorId> cr = plain(*cv, in_name(2));
      if (!cr.ok()) return cr.status();
      c = *cr;
    }
    g_.tensor(*y).name = unique_name(out_name() + "/product");
    y = emit(OpKind::kAdd, {*y, c}, {}, out_name());
    if (!y.ok()) return y.status();
  }
  set_plain(*y);
  return Status();
}

Status Importer::do_matmul() {
  PTQ_RETURN_IF_ERROR(read_attributes({}));
  Result<Value*> av = in(0), bv = in(1);
  if (!av.ok()) return av.status();
  if (!bv.ok()) return bv.status();
  const Dims ad = onnx_dims(**av), bd = onnx_dims(**bv);
  if (ad.size() < 2 || bd.size() < 2) return unsupported("operands " + dims_str(ad) + " and " + dims_str(bd) + ": rank-1 MatMul is not imported");
  Result<TensorId> a = plain(**av, in_name(0));
  if (!a.ok()) return a.status();
  Result<TensorId> y = kNoTensor;
  if (!(*av)->is_const && (*bv)->is_const && bd.size() == 2) {
    if (bd[0] != ad.back()) return invalid("A " + dims_str(ad) + " and B " + dims_str(bd) + " do not multiply");
    const Const w = transpose_const(Const::floats(bd, (*bv)->c.as_floats()), {1, 0});  // [K, N] -> [N, K]
    y = emit(OpKind::kFullyConnected, {*a, add_const_tensor(in_name(1), w), kNoTensor},
             ir::attrs().keep_num_dims(ad.size() > 2), out_name());
  } else {
    Result<TensorId> b = plain(**bv, in_name(1));
    if (!b.ok()) return b.status();
    y = emit(OpKind::kBatchMatMul, {*a, *b}, {}, out_name());
  }
  if (!y.ok()) return y.status();
  set_plain(*y);
  return Status();
}

// ---- elementwise ---------------------------------------------------------------------------
Result<TensorId> Importer::binary(OpKind kind, Value& a, const std::string& a_name, Value& b, const std::string& b_name,
                                  const std::string& out, bool* is_nhwc) {
  const Dims ad = onnx_dims(a), bd = onnx_dims(b);
  Dims od;
  if (!broadcast_dims(ad, bd, &od)) return invalid("shapes " + dims_str(ad) + " and " + dims_str(bd) + " do not broadcast");
  bool use_nhwc = od.size() == 4;
  bool any_nhwc = false;
  for (const Value* v : {&a, &b}) {
    if (v->is_const) continue;
    if (onnx_dims(*v).size() != 4) use_nhwc = false;
    any_nhwc = any_nhwc || v->nhwc != kNoTensor;
  }
  use_nhwc = use_nhwc && any_nhwc;
  TensorId ids[2];
  Value* vs[2] = {&a, &b};
  const std::string* names[2] = {&a_name, &b_name};
  for (int k = 0; k < 2; ++k) {
    Value& v = *vs[k];
    if (v.is_const) {
      Const c = Const::floats(v.c.dims, v.c.as_floats());
      if (use_nhwc) {
        c.dims.insert(c.dims.begin(), 4 - c.dims.size(), 1);
        ids[k] = add_const_tensor(*names[k], c, kToNhwc);
      } else {
        ids[k] = add_const_tensor(*names[k], c);
      }
      continue;
    }
    Result<TensorId> t = use_nhwc ? nhwc(v, *names[k]) : plain(v, *names[k]);
    if (!t.ok()) return t;
    ids[k] = *t;
  }
  *is_nhwc = use_nhwc;
  return emit(kind, {ids[0], ids[1]}, {}, out);
}

Status Importer::do_binary(OpKind kind, bool divide) {
  PTQ_RETURN_IF_ERROR(read_attributes({}));
  Result<Value*> av = in(0), bv = in(1);
  if (!av.ok()) return av.status();
  if (!bv.ok()) return bv.status();
  Value* b = *bv;
  Value reciprocal;
  if (divide) {  // x / c -> x * (1 / c)
    if (!b->is_const) return unsupported("the divisor '" + in_name(1) + "' is computed at run time; ptq imports Div by a constant");
    reciprocal.is_const = true;
    reciprocal.c = Const::floats(b->c.dims, b->c.as_floats());
    for (float& v : reciprocal.c.f) v = 1.0f / v;
    b = &reciprocal;
  }
  bool is_nhwc = false;
  Result<TensorId> y = binary(kind, **av, in_name(0), *b, divide ? in_name(1) + "/reciprocal" : in_name(1), out_name(), &is_nhwc);
  if (!y.ok()) return y.status();
  if (is_nhwc) set_nhwc(*y); else set_plain(*y);
  return Status();
}

Status Importer::do_unary(OpKind kind, const ir::Attributes& a) {
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  if (x.is_const) return unsupported("input is a constant; ptq folds only shape computations");
  const bool n = x.nhwc != kNoTensor;
  Result<TensorId> y = emit(kind, {n ? x.nhwc : x.plain}, a, out_name());
  if (!y.ok()) return y.status();
  if (n) set_nhwc(*y); else set_plain(*y);
  return Status();
}

Status Importer::do_clip() {
  PTQ_RETURN_IF_ERROR(read_attributes({}));
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  for (int k : {1, 2}) {
    if (!has_input(k)) continue;
    Result<const Const*> c = const_in(k, k == 1 ? "min" : "max");
    if (!c.ok()) return c.status();
    if ((*c)->count() != 1) return invalid("min and max must be scalars");
    (k == 1 ? lo : hi) = static_cast<float>((*c)->at(0));
  }
  if (lo == 0.0f && hi == 6.0f) return do_unary(OpKind::kRelu6, {});
  if (lo == 0.0f && std::isinf(hi) && hi > 0) return do_unary(OpKind::kRelu, {});
  if (lo == -1.0f && hi == 1.0f) return do_unary(OpKind::kReluN1To1, {});
  return do_unary(OpKind::kClip, ir::attrs().clip(lo, hi));
}

Status Importer::do_softmax() {
  PTQ_RETURN_IF_ERROR(read_attributes({"axis"}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  if (x.is_const) return unsupported("input is a constant");
  const Dims d = onnx_dims(x);
  const auto r = static_cast<int64_t>(d.size());
  int64_t axis = attr_int("axis", opset_ < 13 ? 1 : -1);
  if (axis < -r || axis >= r) return bad_attr("axis", "= " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  Result<TensorId> y = kNoTensor;
  if (opset_ >= 13 && r == 4 && axis == 1 && x.nhwc != kNoTensor) {  // channels: the NHWC tensor's last axis
    y = emit(OpKind::kSoftmax, {x.nhwc}, {}, out_name());
    if (!y.ok()) return y.status();
    set_nhwc(*y);
    return Status();
  }
  if (axis == r - 1) {
    Result<TensorId> t = plain(x, in_name(0));
    if (!t.ok()) return t.status();
    y = emit(OpKind::kSoftmax, {*t}, {}, out_name());
  } else if (opset_ < 13) {  // opsets 11-12: softmax over the flattened dims [axis, r)
    Result<TensorId> t = ordered(x, in_name(0));
    if (!t.ok()) return t.status();
    t = reshape(*t, {product(d, 0, static_cast<std::size_t>(axis)), product(d, static_cast<std::size_t>(axis))}, out_name() + "/2d");
    if (!t.ok()) return t.status();
    t = emit(OpKind::kSoftmax, {*t}, {}, out_name() + "/softmax");
    if (!t.ok()) return t.status();
    y = reshape(*t, d, out_name());
  } else {  // one inner axis: move it last and back
    Result<TensorId> t = plain(x, in_name(0));
    if (!t.ok()) return t.status();
    std::vector<int> p;
    for (int k = 0; k < r; ++k) {
      if (k != axis) p.push_back(k);
    }
    p.push_back(static_cast<int>(axis));
    t = transpose(*t, p, out_name() + "/axis_last");
    if (!t.ok()) return t.status();
    t = emit(OpKind::kSoftmax, {*t}, {}, out_name() + "/softmax");
    if (!t.ok()) return t.status();
    y = transpose(*t, inverse_perm(p), out_name());
  }
  if (!y.ok()) return y.status();
  set_plain(*y);
  return Status();
}

// ---- pooling ---------------------------------------------------------------------------------
Status Importer::do_pool(bool is_max) {
  if (is_max) {
    PTQ_RETURN_IF_ERROR(read_attributes({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}));
    if (output_used(1)) return unsupported("the Indices output is used; ptq's MaxPool2D has none");
    for (int64_t v : attr_ints("dilations", {1, 1})) {
      if (v != 1) return bad_attr("dilations", "!= 1 is not supported by MaxPool2D");
    }
  } else {
    PTQ_RETURN_IF_ERROR(read_attributes({"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}));
  }
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  const Dims xd = onnx_dims(**xv);
  if (xd.size() != 4) return unsupported("input has shape " + dims_str(xd) + "; only 2-D pooling (4-D NCHW inputs) is imported");
  const Dims k = attr_ints("kernel_shape", {});
  if (k.size() != 2) return bad_attr("kernel_shape", "must hold 2 values");
  Window win;
  PTQ_RETURN_IF_ERROR(window(xd, k[0], k[1], attr_int("ceil_mode", 0) != 0, &win));
  const bool include_pad = !is_max && attr_int("count_include_pad", 0) != 0;
  const bool padded = win.pt || win.pl || win.pb || win.pr;
  Result<TensorId> xt = nhwc(**xv, in_name(0));
  if (!xt.ok()) return xt.status();
  // Zeros are a neutral padding for the max of values >= 0 (every window holds one real value).
  const bool zero_pad_ok = include_pad || (is_max && nonnegative(*xt));
  if (win.explicit_pad && !zero_pad_ok) {
    return bad_attr("pads", "(" + std::to_string(win.pt) + ", " + std::to_string(win.pl) + ", " + std::to_string(win.pb) + ", " +
                                std::to_string(win.pr) + ") is not TFLite's SAME padding, and an explicit zero Pad would change "
                                "what " + node_->op_type() + " computes at the border" +
                                (is_max ? " (its input is not known to be >= 0)" : ""));
  }
  TensorId xin = *xt;
  if ((include_pad && padded) || win.explicit_pad) {  // pad explicitly (the zeros count, or cannot win), then pool VALID
    Result<TensorId> p = pad_nhwc(xin, win);
    if (!p.ok()) return p.status();
    xin = *p;
    win.padding = Padding::kValid;
  }
  const ir::Attributes a = ir::attrs()
                               .window(static_cast<int32_t>(win.kh), static_cast<int32_t>(win.kw))
                               .stride(static_cast<int32_t>(win.sh), static_cast<int32_t>(win.sw))
                               .padding(win.padding);
  Result<TensorId> y = emit(is_max ? OpKind::kMaxPool2D : OpKind::kAveragePool2D, {xin}, a, out_name());
  if (!y.ok()) return y.status();
  set_nhwc(*y);
  return Status();
}

Status Importer::do_global_average_pool() {
  PTQ_RETURN_IF_ERROR(read_attributes({}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  if (onnx_dims(**xv).size() != 4) return unsupported("input has shape " + dims_str(onnx_dims(**xv)) + "; only 4-D NCHW inputs are imported");
  Result<TensorId> xt = nhwc(**xv, in_name(0));
  if (!xt.ok()) return xt.status();
  Result<TensorId> y = emit(OpKind::kMean, {*xt}, ir::attrs().axes({1, 2}, true), out_name());
  if (!y.ok()) return y.status();
  set_nhwc(*y);
  return Status();
}

// ---- shape ops -----------------------------------------------------------------------------
Result<Dims> Importer::shape_op_dims(const Dims& in) {
  const std::string& type = node_->op_type();
  const auto r = static_cast<int64_t>(in.size());
  const int64_t total = product(in);
  if (type == "Flatten") {
    PTQ_RETURN_IF_ERROR(read_attributes({"axis"}));
    int64_t axis = attr_int("axis", 1);
    if (axis < -r || axis > r) return bad_attr("axis", "= " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
    if (axis < 0) axis += r;
    return Dims{product(in, 0, static_cast<std::size_t>(axis)), product(in, static_cast<std::size_t>(axis))};
  }
  if (type == "Reshape") {
    PTQ_RETURN_IF_ERROR(read_attributes({"allowzero"}));
    Result<const Const*> sc = const_in(1, "shape");
    if (!sc.ok()) return sc.status();
    Dims out = (*sc)->as_ints();
    const bool allowzero = attr_int("allowzero", 0) != 0;
    int unknown = -1;
    int64_t known = 1;
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (out[k] == 0 && !allowzero) {
        if (static_cast<int64_t>(k) >= r) return invalid("shape entry " + std::to_string(k) + " is 0 (copy) beyond the input's rank");
        out[k] = in[k];
      }
      if (out[k] == -1) {
        if (unknown >= 0) return invalid("shape " + dims_str((*sc)->as_ints()) + " has two -1");
        unknown = static_cast<int>(k);
        continue;
      }
      if (out[k] < 0) return invalid("shape " + dims_str((*sc)->as_ints()) + " has a negative entry");
      known *= out[k];
    }
    if (unknown >= 0) {
      if (known == 0 || total % known != 0) return invalid("cannot reshape " + dims_str(in) + " to " + dims_str((*sc)->as_ints()));
      out[static_cast<std::size_t>(unknown)] = total / known;
    } else if (known != total) {
      return invalid("cannot reshape " + dims_str(in) + " to " + dims_str(out));
    }
    return out;
  }
  // Squeeze, Unsqueeze: axes from the attribute (opset < 13) or input 1.
  PTQ_RETURN_IF_ERROR(read_attributes({"axes"}));
  Dims axes = attr_ints("axes", {});
  if (opset_ >= 13 && has_input(1)) {
    Result<const Const*> ac = const_in(1, "axes");
    if (!ac.ok()) return ac.status();
    axes = (*ac)->as_ints();
  }
  const bool unsq = type == "Unsqueeze";
  const int64_t out_rank = unsq ? r + static_cast<int64_t>(axes.size()) : r;
  std::vector<bool> marked(static_cast<std::size_t>(out_rank), false);
  for (int64_t a : axes) {
    if (a < -out_rank || a >= out_rank) return invalid("axis " + std::to_string(a) + " is out of range");
    const auto k = static_cast<std::size_t>(a < 0 ? a + out_rank : a);
    if (marked[k]) return invalid("axis " + std::to_string(a) + " is repeated");
    marked[k] = true;
  }
  Dims out;
  if (unsq) {
    std::size_t src = 0;
    for (std::size_t k = 0; k < marked.size(); ++k) out.push_back(marked[k] ? 1 : in[src++]);
    return out;
  }
  for (std::size_t k = 0; k < in.size(); ++k) {
    const bool drop = axes.empty() ? in[k] == 1 : marked[k];
    if (drop && in[k] != 1) return invalid("cannot squeeze dimension " + std::to_string(k) + " of " + dims_str(in) + " (not 1)");
    if (!drop) out.push_back(in[k]);
  }
  return out;
}

Status Importer::do_shape_op() {
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Result<Dims> d = shape_op_dims(onnx_dims(**xv));
  if (!d.ok()) return d.status();
  Result<TensorId> t = ordered(**xv, in_name(0));
  if (!t.ok()) return t.status();
  Result<TensorId> y = reshape(*t, *d, out_name());
  if (!y.ok()) return y.status();
  set_plain(*y);
  return Status();
}

Status Importer::do_transpose() {
  PTQ_RETURN_IF_ERROR(read_attributes({"perm"}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  const Dims d = onnx_dims(x);
  const std::size_t r = d.size();
  Dims p = attr_ints("perm", {});
  if (p.empty()) for (std::size_t k = r; k-- > 0;) p.push_back(static_cast<int64_t>(k));
  if (p.size() != r) return bad_attr("perm", "has " + std::to_string(p.size()) + " entries for rank " + std::to_string(r));
  std::vector<int> perm;
  std::vector<bool> seen(r, false);
  for (int64_t v : p) {
    if (v < 0 || v >= static_cast<int64_t>(r) || seen[static_cast<std::size_t>(v)]) return bad_attr("perm", "is not a permutation");
    seen[static_cast<std::size_t>(v)] = true;
    perm.push_back(static_cast<int>(v));
  }
  if (x.plain == kNoTensor && x.nhwc != kNoTensor) {  // compose with the NHWC view
    std::vector<int> q;
    for (int v : perm) q.push_back(nhwc_pos(v));
    Result<TensorId> y = transpose(x.nhwc, q, out_name());
    if (!y.ok()) return y.status();
    set_plain(*y);
    return Status();
  }
  Result<TensorId> t = plain(x, in_name(0));
  if (!t.ok()) return t.status();
  if (r == 4 && perm == kToNchw) {  // NHWC -> NCHW: the input is the output's NHWC view
    set_nhwc(*t);
    return Status();
  }
  Result<TensorId> y = transpose(*t, perm, out_name());
  if (!y.ok()) return y.status();
  set_plain(*y);
  return Status();
}

Status Importer::do_concat() {
  PTQ_RETURN_IF_ERROR(read_attributes({"axis"}));
  std::vector<Value*> vs;
  std::vector<std::string> names;
  for (int k = 0; k < node_->input_size(); ++k) {
    if (node_->input(k).empty()) continue;
    Result<Value*> v = value(node_->input(k));
    if (!v.ok()) return v.status();
    vs.push_back(*v);
    names.push_back(node_->input(k));
  }
  if (vs.empty()) return invalid("Concat has no inputs");
  const auto r = static_cast<int64_t>(onnx_dims(*vs[0]).size());
  int64_t axis = attr_int("axis", 0);
  if (axis < -r || axis >= r) return bad_attr("axis", "= " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  bool use_nhwc = r == 4, any = false;
  for (Value* v : vs) any = any || v->nhwc != kNoTensor;
  use_nhwc = use_nhwc && any;
  std::vector<TensorId> ids;
  for (std::size_t k = 0; k < vs.size(); ++k) {
    Value& v = *vs[k];
    if (v.is_const) {
      const Const c = Const::floats(v.c.dims, v.c.as_floats());
      ids.push_back(use_nhwc ? add_const_tensor(names[k], c, kToNhwc) : add_const_tensor(names[k], c));
      continue;
    }
    Result<TensorId> t = use_nhwc ? nhwc(v, names[k]) : plain(v, names[k]);
    if (!t.ok()) return t.status();
    ids.push_back(*t);
  }
  Result<TensorId> y = emit(OpKind::kConcatenation, ids,
                            ir::attrs().axis(static_cast<int32_t>(use_nhwc ? nhwc_pos(static_cast<int>(axis)) : axis)), out_name());
  if (!y.ok()) return y.status();
  if (use_nhwc) set_nhwc(*y); else set_plain(*y);
  return Status();
}

Status Importer::do_pad() {
  PTQ_RETURN_IF_ERROR(read_attributes({"mode"}));
  const std::string mode = attr_string("mode", "constant");
  if (mode != "constant") return bad_attr("mode", "= '" + mode + "': only constant (zero) padding is supported");
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  const Dims d = onnx_dims(x);
  const std::size_t r = d.size();
  Result<const Const*> pc = const_in(1, "pads");
  if (!pc.ok()) return pc.status();
  const Dims pads = (*pc)->as_ints();
  if (pads.size() != 2 * r) return invalid("pads has " + std::to_string(pads.size()) + " values for rank " + std::to_string(r));
  for (int64_t v : pads) {
    if (v < 0) return unsupported("pads has a negative value (cropping), which Pad does not import");
  }
  if (has_input(2)) {
    Result<const Const*> cv = const_in(2, "constant_value");
    if (!cv.ok()) return cv.status();
    if ((*cv)->count() > 0 && (*cv)->at(0) != 0) return unsupported("constant_value is not 0; ptq's Pad pads with zeros");
  }
  if (has_input(3)) return unsupported("the axes input (opset 18) is not supported");
  const bool n = x.nhwc != kNoTensor && r == 4;
  std::vector<int64_t> p;
  for (std::size_t k = 0; k < r; ++k) {
    const auto src = static_cast<std::size_t>(n ? kToNhwc[k] : static_cast<int>(k));
    p.push_back(pads[src]);
    p.push_back(pads[r + src]);
  }
  Result<TensorId> t = n ? Result<TensorId>(x.nhwc) : plain(x, in_name(0));
  if (!t.ok()) return t.status();
  Result<TensorId> y = emit(OpKind::kPad, {*t}, ir::attrs().paddings(p), out_name());
  if (!y.ok()) return y.status();
  if (n) set_nhwc(*y); else set_plain(*y);
  return Status();
}

// ---- Gather, Slice ---------------------------------------------------------------------------
Status Importer::do_gather() {
  PTQ_RETURN_IF_ERROR(read_attributes({"axis"}));
  Result<Value*> dv = in(0), iv = in(1);
  if (!dv.ok()) return dv.status();
  if (!iv.ok()) return iv.status();
  Value &data = **dv, &idx = **iv;
  const Dims dd = onnx_dims(data), id = onnx_dims(idx);
  const auto r = static_cast<int64_t>(dd.size());
  int64_t axis = attr_int("axis", 0);
  if (axis < -r || axis >= r) return bad_attr("axis", "= " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  if (!idx.is_const) {  // an embedding: run-time ids into a table
    if (axis != 0) return bad_attr("axis", "= " + std::to_string(axis) + " with run-time indices: only axis 0 (an embedding lookup) is supported");
    Result<TensorId> ids = plain(idx, in_name(1));
    if (!ids.ok()) return ids.status();
    if (g_.tensor(*ids).dtype != DType::kInt32) return unsupported("run-time indices must be a graph input of integer ids");
    Result<TensorId> table = kNoTensor;
    if (data.is_const) {
      table = add_const_tensor(in_name(0), Const::floats(data.c.dims, data.c.as_floats()));
    } else {
      table = plain(data, in_name(0));
    }
    if (!table.ok()) return table.status();
    Result<TensorId> y = emit(OpKind::kEmbeddingLookup, {*ids, *table}, {}, out_name());
    if (!y.ok()) return y.status();
    set_plain(*y);
    return Status();
  }
  // Constant indices into a run-time tensor: a selection along `axis`.
  const int64_t n = dd[static_cast<std::size_t>(axis)];
  Dims ids = idx.c.as_ints();
  for (int64_t& v : ids) {
    if (v < -n || v >= n) return invalid("index " + std::to_string(v) + " is out of range for dimension " + std::to_string(n));
    if (v < 0) v += n;
  }
  Dims out(dd.begin(), dd.begin() + axis);
  out.insert(out.end(), id.begin(), id.end());
  out.insert(out.end(), dd.begin() + axis + 1, dd.end());
  if (r == 4 && id.size() == 1 && data.plain == kNoTensor && data.nhwc != kNoTensor) {
    Result<TensorId> y = take(data.nhwc, nhwc_pos(static_cast<int>(axis)), ids, out_name());
    if (!y.ok()) return y.status();
    set_nhwc(*y);
    return Status();
  }
  Result<TensorId> t = plain(data, in_name(0));
  if (!t.ok()) return t.status();
  Result<TensorId> y = take(*t, static_cast<int>(axis), ids, out_name() + (id.size() == 1 ? "" : "/take"));
  if (!y.ok()) return y.status();
  y = reshape(*y, out, out_name());
  if (!y.ok()) return y.status();
  set_plain(*y);
  return Status();
}

Status Importer::do_slice() {
  PTQ_RETURN_IF_ERROR(read_attributes({}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  Dims parts[4];
  const char* roles[4] = {"starts", "ends", "axes", "steps"};
  for (int k = 0; k < 4; ++k) {
    if (!has_input(k + 1)) continue;
    Result<const Const*> c = const_in(k + 1, roles[k]);
    if (!c.ok()) return c.status();
    parts[k] = (*c)->as_ints();
  }
  const Dims d = onnx_dims(x);
  Result<std::vector<Dims>> picks = slice_picks(d, parts[0], parts[1], parts[2], parts[3]);
  if (!picks.ok()) return invalid(picks.status().message());
  for (const Dims& p : *picks) {
    if (p.empty()) return unsupported("the slice is empty");
  }
  const bool n = d.size() == 4 && x.plain == kNoTensor && x.nhwc != kNoTensor;
  Result<TensorId> t = n ? Result<TensorId>(x.nhwc) : plain(x, in_name(0));
  if (!t.ok()) return t.status();
  int changed = 0;
  for (std::size_t k = 0; k < d.size(); ++k) changed += !is_iota((*picks)[k], d[k]);
  int done = 0;
  for (std::size_t k = 0; k < d.size(); ++k) {
    if (is_iota((*picks)[k], d[k])) continue;
    ++done;
    const int ax = n ? nhwc_pos(static_cast<int>(k)) : static_cast<int>(k);
    t = take(*t, ax, (*picks)[k], out_name() + (done == changed ? "" : "/axis" + std::to_string(k)));
    if (!t.ok()) return t.status();
  }
  if (n) set_nhwc(*t); else set_plain(*t);
  return Status();
}

// ---- ReduceMean ----------------------------------------------------------------------------------
Status Importer::do_reduce_mean() {
  PTQ_RETURN_IF_ERROR(read_attributes({"axes", "keepdims"}));
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  const Dims d = onnx_dims(x);
  const auto r = static_cast<int64_t>(d.size());
  const bool keep = attr_int("keepdims", 1) != 0;
  std::vector<bool> red(d.size(), false);
  Dims axes = attr_ints("axes", {});
  if (axes.empty()) {
    red.assign(d.size(), true);
  }
  for (int64_t a : axes) {
    if (a < -r || a >= r) return bad_attr("axes", "holds " + std::to_string(a) + ", out of range for rank " + std::to_string(r));
    red[static_cast<std::size_t>(a < 0 ? a + r : a)] = true;
  }
  bool n = r == 4 && x.nhwc != kNoTensor;
  if (n && !keep) {  // without keepdims the NHWC result must list the kept dims in ONNX's order
    std::vector<int> kept_nhwc, kept_onnx;
    for (int k : kToNhwc) {
      if (!red[static_cast<std::size_t>(k)]) kept_nhwc.push_back(k);
    }
    for (int k = 0; k < 4; ++k) {
      if (!red[static_cast<std::size_t>(k)]) kept_onnx.push_back(k);
    }
    n = kept_nhwc == kept_onnx;
  }
  std::vector<int32_t> ir_axes;
  for (int k = 0; k < r; ++k) {
    if (red[static_cast<std::size_t>(k)]) ir_axes.push_back(n ? nhwc_pos(k) : k);
  }
  std::sort(ir_axes.begin(), ir_axes.end());
  Result<TensorId> t = n ? Result<TensorId>(x.nhwc) : plain(x, in_name(0));
  if (!t.ok()) return t.status();
  Result<TensorId> y = emit(OpKind::kMean, {*t}, ir::attrs().axes(ir_axes, keep), out_name());
  if (!y.ok()) return y.status();
  if (n && keep) set_nhwc(*y); else set_plain(*y);
  return Status();
}

// ---- BatchNormalization ---------------------------------------------------------------------------
Status Importer::do_batch_norm() {
  PTQ_RETURN_IF_ERROR(read_attributes({"epsilon", "momentum", "training_mode"}));
  if (attr_int("training_mode", 0) != 0) return bad_attr("training_mode", "= 1: ptq imports inference graphs");
  for (int k = 1; k < node_->output_size(); ++k) {
    if (output_used(k)) return unsupported("output " + std::to_string(k) + " (training statistics) is used");
  }
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  Value& x = **xv;
  if (x.is_const) return unsupported("input is a constant");
  const Dims d = onnx_dims(x);
  if (d.size() < 2) return invalid("input has shape " + dims_str(d) + "; BatchNormalization needs a channel axis 1");
  const int64_t C = d[1];
  const Const* p[4];
  const char* roles[4] = {"scale", "B", "input_mean", "input_var"};
  for (int k = 0; k < 4; ++k) {
    Result<const Const*> c = const_in(k + 1, roles[k]);
    if (!c.ok()) return c.status();
    if ((*c)->count() != C) return invalid(std::string(roles[k]) + " has shape " + dims_str((*c)->dims) + "; expected [" + std::to_string(C) + "]");
    p[k] = *c;
  }
  const float eps = attr_float("epsilon", 1e-5f);
  std::vector<float> s(static_cast<std::size_t>(C)), shift(static_cast<std::size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const auto k = static_cast<std::size_t>(c);
    s[k] = static_cast<float>(p[0]->at(c)) / std::sqrt(static_cast<float>(p[3]->at(c)) + eps);
    shift[k] = static_cast<float>(p[1]->at(c)) - static_cast<float>(p[2]->at(c)) * s[k];
  }
  // Fold into the producer: a conv (NHWC, channels last) or a FullyConnected with a 2-D output.
  const TensorId t = d.size() == 4 ? x.nhwc : (d.size() == 2 ? x.plain : kNoTensor);
  auto u = uses_.find(in_name(0));
  const bool only_use = u != uses_.end() && u->second == 1 && t != kNoTensor && ir_consumers(t) == 0;
  for (std::size_t op_i = g_.ops.size(); only_use && op_i-- > 0;) {
    ir::Op& op = g_.ops[op_i];
    if (op.outputs[0] != t) continue;
    const bool conv = op.kind == OpKind::kConv2D || op.kind == OpKind::kDepthwiseConv2D;
    if (!(conv && d.size() == 4) && !(op.kind == OpKind::kFullyConnected && d.size() == 2)) break;
    if (op.attrs.activation != FusedActivation::kNone) break;
    const ir::Tensor& wt = g_.tensor(op.inputs[1]);
    if (!wt.is_constant() || wt.dtype != DType::kFloat32) break;
    const Dims wd = wt.shape.dims();
    std::vector<float> w(wt.data.as<float>(), wt.data.as<float>() + wt.shape.num_elements());
    const int64_t per = product(wd) / C;
    for (std::size_t k = 0; k < w.size(); ++k) {
      const auto ch = static_cast<std::size_t>(op.kind == OpKind::kDepthwiseConv2D ? static_cast<int64_t>(k) % C : static_cast<int64_t>(k) / per);
      w[k] *= s[ch];
    }
    std::vector<float> b = shift;
    if (op.inputs.size() > 2 && op.inputs[2] != kNoTensor) {
      const ir::Tensor& bt = g_.tensor(op.inputs[2]);
      for (std::size_t k = 0; k < b.size(); ++k) b[k] += bt.data.as<float>()[k] * s[k];
    }
    const std::string wname = wt.name;
    op.inputs[1] = add_float_const(wname + "/bn", wd, w);
    const TensorId bias = add_float_const(out_name() + "/bias", {C}, b);
    if (op.inputs.size() > 2) op.inputs[2] = bias; else op.inputs.push_back(bias);
    const Value copy = x;
    def_out(0) = copy;
    return Status();
  }
  // Standalone: y = x * s + shift, per channel (axis 1).
  Dims cd(d.size() - 1, 1);
  cd[0] = C;
  Value sv, hv;
  sv.is_const = hv.is_const = true;
  sv.c = Const::floats(cd, s);
  hv.c = Const::floats(cd, shift);
  bool is_nhwc = false;
  Result<TensorId> m = binary(OpKind::kMul, x, in_name(0), sv, out_name() + "/scale", out_name() + "/scaled", &is_nhwc);
  if (!m.ok()) return m.status();
  Value mv;
  (is_nhwc ? mv.nhwc : mv.plain) = *m;
  Result<TensorId> y = binary(OpKind::kAdd, mv, out_name() + "/scaled", hv, out_name() + "/shift", out_name(), &is_nhwc);
  if (!y.ok()) return y.status();
  if (is_nhwc) set_nhwc(*y); else set_plain(*y);
  return Status();
}

// ---- LSTM, GRU ---------------------------------------------------------------------------------
Status Importer::do_recurrent(bool lstm) {
  PTQ_RETURN_IF_ERROR(read_attributes(lstm ? std::vector<std::string>{"activation_alpha", "activation_beta", "activations", "clip",
                                                                      "direction", "hidden_size", "input_forget", "layout"}
                                           : std::vector<std::string>{"activation_alpha", "activation_beta", "activations", "clip",
                                                                      "direction", "hidden_size", "layout", "linear_before_reset"}));
  if (has_attr("activation_alpha")) return bad_attr("activation_alpha", "is not supported (default activations only)");
  if (has_attr("activation_beta")) return bad_attr("activation_beta", "is not supported (default activations only)");
  if (has_attr("clip")) {
    return bad_attr("clip", "clips the gates' pre-activations in ONNX; ptq's cell_clip clips the cell state, a different function");
  }
  if (lstm && attr_int("input_forget", 0) != 0) return bad_attr("input_forget", "= 1 (coupled input and forget gates) is not supported");
  if (!lstm && attr_int("linear_before_reset", 0) != 1) {
    return bad_attr("linear_before_reset", "= 0 is not supported: ptq's GRU applies the reset gate after the recurrent product (1, PyTorch's export)");
  }
  const std::string dir = attr_string("direction", "forward");
  if (dir != "forward" && dir != "bidirectional") return bad_attr("direction", "= '" + dir + "': forward and bidirectional are supported");
  const int dirs = dir == "bidirectional" ? 2 : 1;
  if (has_attr("activations")) {
    const std::vector<std::string> def = lstm ? std::vector<std::string>{"sigmoid", "tanh", "tanh"} : std::vector<std::string>{"sigmoid", "tanh"};
    const auto& acts = attrs_.at("activations").strings;
    bool ok = acts.size() == def.size() * static_cast<std::size_t>(dirs);
    for (std::size_t k = 0; ok && k < acts.size(); ++k) {
      std::string a = acts[k];
      std::transform(a.begin(), a.end(), a.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      ok = a == def[k % def.size()];
    }
    if (!ok) return bad_attr("activations", "differ from the defaults; only the default activations are supported");
  }
  const int64_t layout = attr_int("layout", 0);
  if (layout != 0 && layout != 1) return bad_attr("layout", "= " + std::to_string(layout) + " is not 0 or 1");
  const int64_t G = lstm ? 4 : 3;
  Result<Value*> xv = in(0);
  if (!xv.ok()) return xv.status();
  const Dims xd = onnx_dims(**xv);
  if (xd.size() != 3) return invalid("X has shape " + dims_str(xd) + "; expected rank 3");
  const int64_t T = layout == 0 ? xd[0] : xd[1], B = layout == 0 ? xd[1] : xd[0], I = xd[2];
  Result<const Const*> wr = const_in(1, "W"), rr = const_in(2, "R");
  if (!wr.ok()) return wr.status();
  if (!rr.ok()) return rr.status();
  const Const &W = **wr, &R = **rr;
  if (R.dims.size() != 3) return invalid("R has shape " + dims_str(R.dims));
  const int64_t H = attr_int("hidden_size", R.dims[2]);
  if (W.dims != Dims{dirs, G * H, I}) return invalid("W has shape " + dims_str(W.dims) + "; expected " + dims_str({dirs, G * H, I}));
  if (R.dims != Dims{dirs, G * H, H}) return invalid("R has shape " + dims_str(R.dims) + "; expected " + dims_str({dirs, G * H, H}));
  const Const* Bc = nullptr;
  if (has_input(3)) {
    Result<const Const*> br = const_in(3, "B");
    if (!br.ok()) return br.status();
    Bc = *br;
    if (Bc->dims != Dims{dirs, 2 * G * H}) return invalid("B has shape " + dims_str(Bc->dims));
  }
  if (has_input(4)) {
    Result<const Const*> sl = const_in(4, "sequence_lens");
    if (!sl.ok()) return sl.status();
    for (int64_t k = 0; k < (*sl)->count(); ++k) {
      if ((*sl)->at(k) != static_cast<double>(T)) return unsupported("sequence_lens differ from the sequence length " + std::to_string(T));
    }
  }
  if (lstm && has_input(7)) {
    Result<const Const*> pp = const_in(7, "P");
    if (!pp.ok()) return pp.status();
    for (int64_t k = 0; k < (*pp)->count(); ++k) {
      if ((*pp)->at(k) != 0) return unsupported("peephole weights P are not supported");
    }
  }
  Result<TensorId> x = plain(**xv, in_name(0));
  if (!x.ok()) return x.status();
  const std::vector<float> wf = W.as_floats(), rf = R.as_floats();
  const std::vector<float> bf = Bc ? Bc->as_floats() : std::vector<float>(static_cast<std::size_t>(dirs * 2 * G * H), 0.0f);
  // IR gate block k takes ONNX gate block src[k]: LSTM (i, o, f, c) -> (i, f, c, o); GRU keeps (z, r, h).
  const int src_lstm[4] = {0, 2, 3, 1}, src_gru[3] = {0, 1, 2};
  const int* src = lstm ? src_lstm : src_gru;
  std::vector<TensorId> inputs = {*x};
  const std::string base = out_name(0).empty() ? node_name_ : out_name(0);
  for (int dd = 0; dd < dirs; ++dd) {
    const std::string tag = base + (dd ? "/bw" : "/fw");
    std::vector<float> w, r, b;
    for (int64_t k = 0; k < G; ++k) {
      const int64_t s = src[k];
      const auto wbeg = wf.begin() + (dd * G * H + s * H) * I, rbeg = rf.begin() + (dd * G * H + s * H) * H;
      w.insert(w.end(), wbeg, wbeg + H * I);
      r.insert(r.end(), rbeg, rbeg + H * H);
    }
    const auto bw = bf.begin() + dd * 2 * G * H, brr = bw + G * H;
    if (lstm) {
      for (int64_t k = 0; k < G; ++k) {
        for (int64_t h = 0; h < H; ++h) b.push_back(bw[src[k] * H + h] + brr[src[k] * H + h]);
      }
    } else {
      b.assign(bw, bw + 2 * G * H);
    }
    inputs.push_back(add_float_const(tag + "/w", {G * H, I}, w));
    inputs.push_back(add_float_const(tag + "/r", {G * H, H}, r));
    inputs.push_back(add_float_const(tag + "/b", {lstm ? G * H : 2 * G * H}, b));
  }
  // Initial states: [dirs, B, H] (layout 0) or [B, dirs, H] (layout 1) -> [B, H] per direction.
  const int state_axis = layout == 0 ? 0 : 1;
  const Dims state_dims = layout == 0 ? Dims{dirs, B, H} : Dims{B, dirs, H};
  std::vector<TensorId> states;
  for (int dd = 0; dd < dirs; ++dd) {
    for (int k : lstm ? std::vector<int>{5, 6} : std::vector<int>{5}) {
      if (!has_input(k)) {
        states.push_back(kNoTensor);
        continue;
      }
      Result<Value*> sv = in(k);
      if (!sv.ok()) return sv.status();
      if (onnx_dims(**sv) != state_dims) return invalid("initial state '" + in_name(k) + "' has shape " + dims_str(onnx_dims(**sv)) + "; expected " + dims_str(state_dims));
      const std::string sname = in_name(k) + (dirs > 1 ? (dd ? "/bw" : "/fw") : "");
      if ((*sv)->is_const) {
        const Const c = Const::floats((*sv)->c.dims, (*sv)->c.as_floats());
        std::vector<float> v;
        for (int64_t bi = 0; bi < B; ++bi) {
          for (int64_t h = 0; h < H; ++h) {
            const int64_t off = layout == 0 ? (dd * B + bi) * H + h : (bi * dirs + dd) * H + h;
            v.push_back(c.f[static_cast<std::size_t>(off)]);
          }
        }
        states.push_back(add_float_const(sname, {B, H}, v));
        continue;
      }
      Result<TensorId> st = plain(**sv, in_name(k));
      if (!st.ok()) return st.status();
      st = take(*st, state_axis, {dd}, sname + "/slice");
      if (!st.ok()) return st.status();
      st = reshape(*st, {B, H}, sname);
      if (!st.ok()) return st.status();
      states.push_back(*st);
    }
  }
  bool any_state = false;
  for (TensorId s : states) any_state = any_state || s != kNoTensor;
  if (any_state) inputs.insert(inputs.end(), states.begin(), states.end());
  ir::AttrBuilder a = ir::attrs();
  a.time_major(layout == 0).bidirectional(dirs == 2);
  const bool y_used = output_used(0);
  Result<TensorId> y = emit(lstm ? OpKind::kLstm : OpKind::kGru, inputs, a, base + (y_used && dirs == 1 && layout == 1 ? "/y" : "/y"));
  if (!y.ok()) return y.status();
  if (output_used(2)) return unsupported("output Y_c (the final cell state) is used; ptq's LSTM does not output it");
  // Y: [T, dirs, B, H] (layout 0) or [B, T, dirs, H] (layout 1).
  if (y_used) {
    Result<TensorId> yo = kNoTensor;
    if (layout == 1) {
      yo = reshape(*y, {B, T, dirs, H}, out_name(0));
    } else if (dirs == 1) {
      yo = reshape(*y, {T, 1, B, H}, out_name(0));
    } else {
      yo = reshape(*y, {T, B, dirs, H}, out_name(0) + "/split");
      if (yo.ok()) yo = transpose(*yo, {0, 2, 1, 3}, out_name(0));
    }
    if (!yo.ok()) return yo.status();
    set_plain(*yo, 0);
  }
  // Y_h: the forward direction's last step and the backward direction's first.
  if (output_used(1)) {
    const int time_axis = layout == 0 ? 0 : 1;
    std::vector<TensorId> parts;
    for (int dd = 0; dd < dirs; ++dd) {
      const std::string tag = out_name(1) + (dirs > 1 ? (dd ? "/bw" : "/fw") : "");
      Result<TensorId> h = take(*y, time_axis, {dd == 0 ? T - 1 : 0}, tag + "/step");
      if (!h.ok()) return h.status();
      if (dirs > 1) {
        Dims cols;
        for (int64_t k = 0; k < H; ++k) cols.push_back(dd * H + k);
        h = take(*h, 2, cols, tag);
        if (!h.ok()) return h.status();
      }
      parts.push_back(*h);
    }
    Result<TensorId> yh = parts[0];
    if (dirs > 1) yh = emit(OpKind::kConcatenation, parts, ir::attrs().axis(time_axis), out_name(1) + "/concat");
    if (!yh.ok()) return yh.status();
    yh = reshape(*yh, layout == 0 ? Dims{dirs, B, H} : Dims{B, dirs, H}, out_name(1));
    if (!yh.ok()) return yh.status();
    set_plain(*yh, 1);
  }
  return Status();
}

// ---- parsing ---------------------------------------------------------------------------------
Result<ir::Graph> import_model_bytes(const void* data, std::size_t size, const OnnxImportOptions& options) {
  if (size > static_cast<std::size_t>(INT_MAX)) return unimplemented("models over 2 GiB (protobuf's limit) are not supported");
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) {
    return data_loss("the bytes do not parse as an ONNX ModelProto (corrupt or truncated file)");
  }
  Importer importer(options);
  return importer.run(model);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return io_error("reading '" + path + "' failed");
  return ss.str();
}

}  // namespace

Result<ir::Graph> import_onnx_bytes(const void* data, std::size_t size, const OnnxImportOptions& options) {
  return import_model_bytes(data, size, options);
}

Result<ir::Graph> import_onnx(const std::string& path, const OnnxImportOptions& options) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  Result<ir::Graph> g = import_model_bytes(bytes->data(), bytes->size(), options);
  if (!g.ok()) {
    Status s = g.status();
    return s.with_context(path);
  }
  return g;
}

Result<ir::Tensor> load_onnx_tensor_bytes(const void* data, std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) return unimplemented("tensors over 2 GiB are not supported");
  onnx::TensorProto t;
  if (!t.ParseFromArray(data, static_cast<int>(size))) return data_loss("the bytes do not parse as an ONNX TensorProto");
  Result<Const> c = const_from_proto(t, "tensor '" + t.name() + "'");
  if (!c.ok()) return c.status();
  ir::Tensor out;
  out.name = t.name();
  out.shape = Shape(c->dims);
  if (c->is_float) {
    out.dtype = DType::kFloat32;
    out.data = ir::Buffer::copy_of(c->f);
  } else {
    out.dtype = DType::kInt32;
    std::vector<int32_t> v;
    for (int64_t e : c->i) {
      if (e < INT32_MIN || e > INT32_MAX) return out_of_range("tensor '" + t.name() + "': value " + std::to_string(e) + " does not fit int32");
      v.push_back(static_cast<int32_t>(e));
    }
    out.data = ir::Buffer::copy_of(v);
  }
  return out;
}

Result<ir::Tensor> load_onnx_tensor(const std::string& path) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  Result<ir::Tensor> t = load_onnx_tensor_bytes(bytes->data(), bytes->size());
  if (!t.ok()) {
    Status s = t.status();
    return s.with_context(path);
  }
  return t;
}
}  // namespace io
PTQ_NAMESPACE_END
