// reference/embedding.hpp: embedding lookup -- rows of a table gathered by id -- in float, as a raw
// copy of a quantized table, and dequantizing an int8 table on the fly ("hybrid").
//
// TFLite: builtin::embedding_lookup::EvalSimple and EvalHybrid (kernels/embedding_lookup.cc). The
// table is [num_rows, ...]; a row is the product of the remaining dims (row_size). For position i
// of the id list:
//   plain:   out[i][j] = table[ids[i]][j]                    (a copy, whatever the element type)
//   hybrid:  out[i][j] = float(table[ids[i]][j]) * scale     int8 table, float output; scale is
//            scales[0] (per tensor) or scales[ids[i]] (per row: quantized_dimension 0). One float
//            multiply: the int8 value converted to float, times the scale.
//   TFLite's hybrid path requires symmetric tables (zero point 0), and so does this one.
// An id outside [0, num_rows) is an error in TFLite's Eval; here validate() reports it, naming the
// id and its position, and the kernels assume ids were validated.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"

PTQ_NAMESPACE_BEGIN

struct EmbeddingLookupParams {
  int64_t num_rows = 0;  // table rows (dim 0)
  int64_t row_size = 0;  // elements per row (product of the table's other dims)
  int64_t num_ids = 0;   // lookups; the output is [num_ids, row_size]
  // Hybrid lookup only: 1 scale (per tensor) or num_rows (one per row). Ignored by the plain lookups.
  std::vector<float> scales;

  // What the plain lookups assume: sizes and every id in [0, num_rows).
  Status validate(const int32_t* ids) const {
    const std::string what = "embedding_lookup";
    if (num_rows < 0) return invalid_argument(what + ": num_rows = " + std::to_string(num_rows) + " is negative");
    if (row_size < 0) return invalid_argument(what + ": row_size = " + std::to_string(row_size) + " is negative");
    if (num_ids < 0) return invalid_argument(what + ": num_ids = " + std::to_string(num_ids) + " is negative");
    if (num_ids > 0 && ids == nullptr) return invalid_argument(what + ": ids is null for num_ids = " + std::to_string(num_ids));
    for (int64_t i = 0; i < num_ids; ++i) {
      if (ids[i] < 0 || ids[i] >= num_rows) {
        return out_of_range(what + ": ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                            " is outside [0, " + std::to_string(num_rows - 1) + "] (the table has " +
                            std::to_string(num_rows) + " rows)");
      }
    }
    return {};
  }

  // What the hybrid lookup assumes: validate() plus 1 or num_rows finite, non-negative scales.
  Status validate_hybrid(const int32_t* ids) const {
    const std::string what = "embedding_lookup_hybrid";
    if (scales.size() != 1 && static_cast<int64_t>(scales.size()) != num_rows) {
      return invalid_argument(what + ": scales has " + std::to_string(scales.size()) +
                              " entries; expected 1 (per tensor) or num_rows = " + std::to_string(num_rows));
    }
    for (std::size_t r = 0; r < scales.size(); ++r) {
      if (!std::isfinite(scales[r]) || scales[r] < 0.0f) {
        return invalid_argument(what + ": scales[" + std::to_string(r) + "] = " + std::to_string(scales[r]) +
                                " is not a finite non-negative number");
      }
    }
    return validate(ids);
  }
};

namespace reference {

// builtin::embedding_lookup::EvalSimple: out[i] = table[ids[i]], row by row, for any element type
// (float, int8 passthrough, ...). Preconditions: p.validate(ids) is ok.
template <class T>
void embedding_lookup(const EmbeddingLookupParams& p, const int32_t* ids, const T* table, T* out) {
  for (int64_t i = 0; i < p.num_ids; ++i) {
    PTQ_DCHECK(ids[i] >= 0 && ids[i] < p.num_rows, "embedding_lookup: id out of range (call validate())");
    const T* row = table + static_cast<int64_t>(ids[i]) * p.row_size;
    std::copy(row, row + p.row_size, out + i * p.row_size);
  }
}

// builtin::embedding_lookup::EvalHybrid for an int8 table and float output:
// out[i][j] = float(table[ids[i]][j]) * scale(ids[i]). Preconditions: p.validate_hybrid(ids) is ok.
inline void embedding_lookup_hybrid(const EmbeddingLookupParams& p, const int32_t* ids, const int8_t* table,
                                    float* out) {
  PTQ_DCHECK(!p.scales.empty(), "embedding_lookup_hybrid: no scales (call validate_hybrid())");
  for (int64_t i = 0; i < p.num_ids; ++i) {
    const int32_t id = ids[i];
    PTQ_DCHECK(id >= 0 && id < p.num_rows, "embedding_lookup_hybrid: id out of range (call validate_hybrid())");
    const float scale = p.scales.size() == 1 ? p.scales[0] : p.scales[static_cast<std::size_t>(id)];
    const int8_t* row = table + static_cast<int64_t>(id) * p.row_size;
    float* dst = out + i * p.row_size;
    for (int64_t j = 0; j < p.row_size; ++j) dst[j] = static_cast<float>(row[j]) * scale;
  }
}

}  // namespace reference
PTQ_NAMESPACE_END
