// status.hpp: error values for everything that reads outside data or can fail on a user's model.
//
// Kernels do not use this: they have preconditions (PTQ_DCHECK). Loaders, the converter and the
// CLI return a Status (or a Result<T>) whose message names the tensor, op, field or byte offset.
// No exceptions are needed to use ptq; Result<T>::value() on an error aborts with the message,
// so a caller that ignores errors learns about it loudly.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "ptq/core/config.hpp"

PTQ_NAMESPACE_BEGIN

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,    // the caller passed something that cannot be right (bad shape, bad scale)
  kOutOfRange,         // a value outside what the format or type can hold
  kUnimplemented,      // a valid request that ptq does not support (yet)
  kDataLoss,           // a truncated or corrupt file
  kNotFound,           // a missing file, tensor or op
  kFailedPrecondition, // a state that must hold first (e.g. calibration before conversion)
  kInternal,           // a broken invariant inside ptq: a bug
  kIo,                 // the operating system refused a read or write
};

inline const char* status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kOutOfRange: return "out of range";
    case StatusCode::kUnimplemented: return "unimplemented";
    case StatusCode::kDataLoss: return "data loss";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kIo: return "i/o error";
  }
  return "unknown";
}

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: quantize: scale = -1 is not positive"
  std::string to_string() const {
    if (ok()) return "ok";
    return std::string(status_code_name(code_)) + ": " + message_;
  }

  // Prepends context, keeping the code: "reading model.ptq: " + message.
  Status& with_context(const std::string& context) {
    if (!ok()) message_ = context + ": " + message_;
    return *this;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
inline Status out_of_range(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
inline Status unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
inline Status data_loss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
inline Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status failed_precondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
inline Status internal_error(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
inline Status io_error(std::string msg) { return {StatusCode::kIo, std::move(msg)}; }

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = internal_error("Result constructed from an ok Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }

  T& value() & { check(); return *value_; }
  const T& value() const& { check(); return *value_; }
  T&& value() && { check(); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!value_) {
      std::fprintf(stderr, "ptq: Result::value() on an error: %s\n", status_.to_string().c_str());
      std::abort();
    }
  }
  std::optional<T> value_;
  Status status_;
};

// Returns early from a function returning Status or Result<T> when `expr` is an error.
#define PTQ_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::ptq::Status ptq_status_ = (expr);      \
    if (!ptq_status_.ok()) return ptq_status_; \
  } while (0)

// `lhs = value of expr`, or returns its error early: PTQ_ASSIGN_OR_RETURN(ir::Graph g, load(path));
#define PTQ_ASSIGN_OR_RETURN(lhs, expr) PTQ_ASSIGN_OR_RETURN_IMPL_(PTQ_STATUS_CONCAT_(ptq_result_, __LINE__), lhs, expr)
#define PTQ_STATUS_CONCAT_INNER_(a, b) a##b
#define PTQ_STATUS_CONCAT_(a, b) PTQ_STATUS_CONCAT_INNER_(a, b)
#define PTQ_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

PTQ_NAMESPACE_END
