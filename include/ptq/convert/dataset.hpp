// convert/dataset.hpp: the samples the converter calibrates on and the accuracy report evaluates.
//
// A sample is one float vector per model input, in the graph's input order, each holding exactly
// that input's element count (its layout is the model's: NHWC for images). This is TFLite's
// representative dataset -- a generator of input lists -- with random access and a known size, so
// that calibration can be sharded and the report can pair samples with labels.
//
//   convert::VectorDataset data;
//   data.add({image0});                      // a model with one input
//   data.add({image1});
//
// Quantized models with int8/uint8 inputs are fed by quantizing these floats with the input's own
// parameters: feed_sample (below) checks a sample against an interpreter's inputs and writes it in,
// for calibration, the accuracy report and the tools alike. io/npy.hpp makes datasets from .npy
// arrays whose first axis is the sample.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/runtime/interpreter.hpp"

PTQ_NAMESPACE_BEGIN
namespace convert {

// One float vector per model input.
using InputSet = std::vector<std::vector<float>>;

class Dataset {
 public:
  virtual ~Dataset() = default;
  // Number of samples.
  virtual std::size_t size() const = 0;
  // Sample `index` (< size()) into `inputs`, reusing its storage. An error names the sample and why
  // (e.g. a file that cannot be read).
  virtual Status read(std::size_t index, InputSet& inputs) const = 0;
};

// Samples held in memory.
class VectorDataset final : public Dataset {
 public:
  VectorDataset() = default;
  explicit VectorDataset(std::vector<InputSet> samples) : samples_(std::move(samples)) {}

  void add(InputSet sample) { samples_.push_back(std::move(sample)); }

  std::size_t size() const override { return samples_.size(); }
  Status read(std::size_t index, InputSet& inputs) const override {
    if (index >= samples_.size()) {
      return out_of_range("dataset: sample " + std::to_string(index) + " of " + std::to_string(samples_.size()));
    }
    inputs = samples_[index];
    return Status();
  }

 private:
  std::vector<InputSet> samples_;
};

// The first `count` samples of another dataset (e.g. "--calib-count 100"); the dataset must
// outlive the view.
class DatasetPrefix final : public Dataset {
 public:
  DatasetPrefix(const Dataset& base, std::size_t count) : base_(&base), count_(count < base.size() ? count : base.size()) {}
  std::size_t size() const override { return count_; }
  Status read(std::size_t index, InputSet& inputs) const override {
    if (index >= count_) return out_of_range("dataset: sample " + std::to_string(index) + " of " + std::to_string(count_));
    return base_->read(index, inputs);
  }

 private:
  const Dataset* base_;
  std::size_t count_;
};

// Progress of a long pass (calibration, evaluation): `done` of `total` samples. The CLI draws a bar.
using ProgressCallback = std::function<void(std::size_t done, std::size_t total)>;

// ---- feeding samples to a model ----

namespace detail {
// round(v) clamped to [lo, hi], NaN as 0 (no undefined float-to-int conversion).
inline double saturate_round(double v, double lo, double hi) {
  if (std::isnan(v)) return 0.0;
  return std::min(hi, std::max(lo, std::round(v)));
}
}  // namespace detail

// `n` real numbers written into `dst` laid out as t: float32 copied, float16 converted, int8/uint8/int16
// quantized with t's own parameters (per tensor or per axis), int32/int64 rounded (and quantized when
// t has per-tensor parameters). `what` names the tensor in errors.
inline Status float_to_tensor(const float* x, std::size_t n, const ir::Tensor& t, void* dst, const std::string& what) {
  if (n == 0) return Status();
  switch (t.dtype) {
    case DType::kFloat32: std::memcpy(dst, x, n * sizeof(float)); return Status();
    case DType::kFloat16: float_to_half(x, static_cast<uint16_t*>(dst), n); return Status();
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kInt16: {
      if (!t.is_quantized()) return invalid_argument(what + ": " + dtype_name(t.dtype) + " without quantization parameters");
      const auto feed = [&](auto* q) {
        using T = std::remove_pointer_t<decltype(q)>;
        if (t.quant.is_per_axis()) {
          quantize_per_axis<T>(x, q, t.shape, t.quant.axis_params());
        } else {
          quantize<T>(x, q, n, t.quant.params());
        }
      };
      if (t.dtype == DType::kInt8) feed(static_cast<int8_t*>(dst));
      if (t.dtype == DType::kUInt8) feed(static_cast<uint8_t*>(dst));
      if (t.dtype == DType::kInt16) feed(static_cast<int16_t*>(dst));
      return Status();
    }
    case DType::kInt32: {
      auto* q = static_cast<int32_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) {
        double v = x[i];
        if (t.is_quantized() && t.quant.is_per_tensor()) v = v / t.quant.scales[0] + t.quant.zero_points[0];
        q[i] = static_cast<int32_t>(detail::saturate_round(v, -2147483648.0, 2147483647.0));
      }
      return Status();
    }
    case DType::kInt64: {
      auto* q = static_cast<int64_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<int64_t>(detail::saturate_round(x[i], -4.0e18, 4.0e18));
      return Status();
    }
    default: return unimplemented(what + ": cannot feed a " + std::string(dtype_name(t.dtype)) + " tensor from float samples");
  }
}


// Checks that `sample` fits `net`'s inputs and writes it in (float_to_tensor per input). `index`
// names the sample in messages.
inline Status feed_sample(runtime::Interpreter& net, const InputSet& sample, std::size_t index) {
  const std::string where = "sample " + std::to_string(index);
  if (static_cast<int>(sample.size()) != net.input_count()) {
    return invalid_argument(where + " has " + std::to_string(sample.size()) + " input arrays; the model takes " +
                            std::to_string(net.input_count()));
  }
  for (int i = 0; i < net.input_count(); ++i) {
    const runtime::TensorView in = net.input(i);
    const std::vector<float>& x = sample[static_cast<std::size_t>(i)];
    const auto n = static_cast<std::size_t>(in.tensor->shape.num_elements());
    const std::string what = where + ", input " + std::to_string(i) + " '" + in.tensor->name + "'";
    if (x.size() != n) {
      return invalid_argument(what + ": " + std::to_string(x.size()) + " values; the model's input " +
                              in.tensor->shape.to_string() + " needs " + std::to_string(n) + " values");
    }
    PTQ_RETURN_IF_ERROR(float_to_tensor(x.data(), n, *in.tensor, in.data, what));
  }
  return Status();
}

}  // namespace convert
PTQ_NAMESPACE_END
