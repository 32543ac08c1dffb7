// shape.hpp: tensor dimensions (row-major, outermost first) and the strides that follow from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<std::size_t>(i)]; }
  const std::vector<int64_t>& dims() const { return dims_; }

  // Product of all dims (1 for a scalar, rank 0). Callers validate dims >= 0 first.
  int64_t num_elements() const {
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }

  // Product of dims [begin, end).
  int64_t flat_size(int begin, int end) const {
    int64_t n = 1;
    for (int i = begin; i < end; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }

  // "[1, 224, 224, 3]"
  std::string to_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < dims_.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(dims_[i]);
    }
    return s + "]";
  }

  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

 private:
  std::vector<int64_t> dims_;
};

// How a per-axis loop walks a row-major tensor: `outer` blocks, each holding `channels` runs of
// `inner` contiguous elements that share one channel's parameters.
struct AxisSplit {
  int64_t outer = 1, channels = 1, inner = 1;
};

inline AxisSplit split_at_axis(const Shape& shape, int axis) {
  return {shape.flat_size(0, axis), shape[axis], shape.flat_size(axis + 1, shape.rank())};
}

// Calls fn(offset, count, channel) for each run of `count` contiguous elements (starting at
// element `offset`) that share one index `channel` along `axis`, in memory order.
template <class Fn>
void for_each_axis_run(const Shape& shape, int axis, Fn fn) {
  const AxisSplit s = split_at_axis(shape, axis);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      fn(static_cast<std::size_t>((o * s.channels + c) * s.inner), static_cast<std::size_t>(s.inner),
         static_cast<std::size_t>(c));
    }
  }
}

PTQ_NAMESPACE_END
