// convert/calibrate.hpp: run a float model on representative samples and record every activation's
// range -- TFLite's calibration step of full-integer post-training quantization.
//
//   Result<convert::Calibration> c = convert::calibrate(float_model, dataset, options);
//   convert::Range r = c->range(tensor_id, convert::QuantTarget{});   // the observer's chosen range
//
// The model runs in ptq's interpreter; an observer (runtime::Interpreter::set_observer) feeds each
// float32 runtime tensor (graph inputs and every op output) of each sample into that tensor's
// RangeObserver (observers.hpp: min/max, moving average, percentile, MSE or entropy). Constants are
// not observed: the converter reads their values directly. Observers are streaming and mergeable,
// so memory is O(tensors x histogram bins) whatever the number of samples.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "ptq/convert/dataset.hpp"
#include "ptq/convert/observers.hpp"
#include "ptq/core/config.hpp"
#include "ptq/core/dtype.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
#include "ptq/kernels/float16.hpp"
#include "ptq/kernels/quantize.hpp"
#include "ptq/runtime/interpreter.hpp"

PTQ_NAMESPACE_BEGIN
namespace convert {

struct CalibrateOptions {
  CalibrationOptions observer;              // which range estimator
  std::size_t max_samples = 0;              // 0 = every sample of the dataset
  ProgressCallback progress;                // (done, total) after each sample
  runtime::InterpreterOptions interpreter;  // how the float model runs
};

// The observed ranges of one float model's runtime tensors, by tensor id.
class Calibration {
 public:
  std::size_t samples() const { return samples_; }
  // Whether tensor `id` was observed with at least one finite value.
  bool has_range(ir::TensorId id) const {
    return id >= 0 && static_cast<std::size_t>(id) < observers_.size() && observed_[static_cast<std::size_t>(id)] &&
           !observers_[static_cast<std::size_t>(id)].empty();
  }
  const RangeObserver& observer(ir::TensorId id) const { return observers_.at(static_cast<std::size_t>(id)); }
  // The range the observer chooses for `target`. Precondition: has_range(id).
  Range range(ir::TensorId id, const QuantTarget& target = QuantTarget()) const { return observer(id).range(target); }

  // Combines two calibrations of the same model on disjoint samples (shards).
  Status merge(const Calibration& other) {
    if (other.observers_.size() != observers_.size()) {
      return invalid_argument("calibration: cannot merge the ranges of models with " + std::to_string(observers_.size()) +
                              " and " + std::to_string(other.observers_.size()) + " tensors");
    }
    for (std::size_t i = 0; i < observers_.size(); ++i) {
      if (!other.observed_[i]) continue;
      if (observed_[i]) {
        PTQ_RETURN_IF_ERROR(observers_[i].merge(other.observers_[i]));
      } else {
        observers_[i] = other.observers_[i];
        observed_[i] = true;
      }
    }
    samples_ += other.samples_;
    return Status();
  }

 private:
  friend Result<Calibration> calibrate(const ir::Graph&, const Dataset&, const CalibrateOptions&);
  std::vector<RangeObserver> observers_;
  std::vector<bool> observed_;
  std::size_t samples_ = 0;
};

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


inline Result<Calibration> calibrate(const ir::Graph& float_model, const Dataset& data,
                                     const CalibrateOptions& options = CalibrateOptions()) {
  Result<runtime::Interpreter> created = runtime::Interpreter::create(float_model, options.interpreter);
  if (!created.ok()) return Status(created.status()).with_context("calibration: the float model does not run");
  runtime::Interpreter& net = created.value();
  for (int i = 0; i < net.input_count(); ++i) {
    if (net.input(i).tensor->dtype != DType::kFloat32) {
      return invalid_argument("calibration: input " + std::to_string(i) + " '" + net.input(i).tensor->name + "' is " +
                              dtype_name(net.input(i).tensor->dtype) + "; calibration runs a float32 model");
    }
  }
  Calibration c;
  c.observers_.assign(static_cast<std::size_t>(float_model.tensor_count()), RangeObserver(options.observer));
  c.observed_.assign(c.observers_.size(), false);
  net.set_observer([&c](const runtime::Observation& o) {
    if (o.tensor->dtype != DType::kFloat32) return;
    const auto id = static_cast<std::size_t>(o.tensor_id);
    c.observers_[id].observe(static_cast<const float*>(o.data), static_cast<std::size_t>(o.tensor->shape.num_elements()));
    c.observed_[id] = true;
  });

  const std::size_t total =
      options.max_samples == 0 || options.max_samples > data.size() ? data.size() : options.max_samples;
  if (total == 0) return invalid_argument("calibration: the representative dataset is empty");
  InputSet sample;
  for (std::size_t s = 0; s < total; ++s) {
    PTQ_RETURN_IF_ERROR(data.read(s, sample).with_context("calibration"));
    PTQ_RETURN_IF_ERROR(feed_sample(net, sample, s).with_context("calibration"));
    net.run();
    ++c.samples_;
    if (options.progress) options.progress(s + 1, total);
  }
  return c;
}

}  // namespace convert
PTQ_NAMESPACE_END
