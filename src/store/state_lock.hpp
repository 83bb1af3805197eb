// The exclusive lock on a state_dir ({state_dir}/bridge.lock, flock): two daemons on one
// store would both deliver every spooled event (claims are in memory, per process). The
// holder's PID is written into the file so the one refused can name it. `spool` commands
// do not take it: they work beside a running daemon through SQLite's own locking.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.hpp"

namespace dsb::store {

// {state_dir}/bridge.lock
std::string lock_path(const std::string& state_dir);

class StateLock {
 public:
  // Takes the lock (the directory must exist), creating the file with mode 0600. Fails
  // without waiting when another process holds it; then `held_elsewhere` (if given) is set
  // and the message names that process's PID.
  static Result<StateLock> acquire(const std::string& state_dir, bool* held_elsewhere = nullptr);

  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();  // releases the lock; the file stays (removing it would race a new holder)

  // True while {state_dir}/bridge.lock is still the file this lock holds (not removed with
  // its directory, not replaced).
  bool still_in_place(const std::string& state_dir) const;

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace dsb::store
