// Status values for the data path: parse, route and delivery outcomes travel as values,
// never as exceptions (no exception may cross an lws or curl C callback).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace dsb {

class Status {
 public:
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool is_ok() const { return !message_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  // REQUIRES: !is_ok()
  const std::string& message() const { return *message_; }

 private:
  Status() = default;
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

// A value or the reason there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)), status_(Status::ok()) {}  // NOLINT: implicit by design
  Result(Status failure) : status_(std::move(failure)) {}                // NOLINT
  static Result error(std::string message) { return Result(Status::error(std::move(message))); }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  // REQUIRES: is_ok()
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace dsb
