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
#include <cstddef>
#include <string>
#include <vector>

#include "ptq/convert/dataset.hpp"
#include "ptq/convert/observers.hpp"
#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"
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
