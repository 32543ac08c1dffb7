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
// parameters: feed_sample (calibrate.hpp) checks a sample against an interpreter's inputs and writes it in,
// for calibration, the accuracy report and the tools alike. io/npy.hpp makes datasets from .npy
// arrays whose first axis is the sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"

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

}  // namespace convert
PTQ_NAMESPACE_END
