// runtime/memory_plan.hpp: one arena for every runtime tensor, reused across tensors whose
// lifetimes do not overlap.
//
// TFLite's "greedy by size" (ArenaPlanner / simple_memory_arena): tensors sorted by size, largest
// first, each placed at the lowest 64-byte aligned offset where it overlaps no already placed
// tensor that is alive at the same time. A tensor is alive from the op that writes it (graph
// inputs: before the first op) to the last op that reads it (graph outputs: to the end, so they
// can be read after run()).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN
namespace runtime {

struct ArenaRequest {
  std::size_t bytes = 0;
  int first = 0;  // first op index at which the tensor is alive (-1: before the first op)
  int last = 0;   // last op index at which it is alive
};

struct ArenaPlan {
  std::vector<std::size_t> offsets;  // one per request
  std::size_t size = 0;              // arena bytes
};

inline constexpr std::size_t kArenaAlignment = 64;

inline ArenaPlan plan_arena(const std::vector<ArenaRequest>& requests) {
  const auto align = [](std::size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; };
  std::vector<std::size_t> order(requests.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return requests[a].bytes > requests[b].bytes; });
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<std::size_t> placed;  // indices already given an offset, sorted by offset
  for (std::size_t i : order) {
    const ArenaRequest& r = requests[i];
    const std::size_t need = align(r.bytes);
    std::size_t offset = 0;
    for (std::size_t j : placed) {  // walk neighbours in offset order; first gap that fits wins
      const ArenaRequest& o = requests[j];
      if (o.last < r.first || r.last < o.first) continue;  // not alive together
      if (plan.offsets[j] >= offset + need) break;         // the gap before j fits
      offset = std::max(offset, plan.offsets[j] + align(o.bytes));
    }
    plan.offsets[i] = offset;
    plan.size = std::max(plan.size, offset + need);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), i,
                                   [&](std::size_t a, std::size_t b) { return plan.offsets[a] < plan.offsets[b]; }),
                  i);
  }
  return plan;
}

}  // namespace runtime
PTQ_NAMESPACE_END
