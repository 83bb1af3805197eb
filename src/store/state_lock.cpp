#include "store/state_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/database.hpp"

namespace dsb::store {
namespace {

// The PID another holder wrote, as text ("unknown" if it wrote none yet).
std::string holder_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "unknown" : text;
}

}  // namespace

std::string lock_path(const std::string& state_dir) {
  return state_file(state_dir, "bridge.lock");
}

Result<StateLock> StateLock::acquire(const std::string& state_dir, bool* held_elsewhere) {
  if (held_elsewhere) *held_elsewhere = false;
  const std::string path = lock_path(state_dir);
  if (Status created = create_private_file(path); !created) return created;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": cannot open: " + std::strerror(errno));
  StateLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::error(path + ": cannot lock: " + std::strerror(errno));
    if (held_elsewhere) *held_elsewhere = true;
    return Status::error("state_dir " + state_dir + " is in use by another bridge (PID " +
                         holder_pid(fd) + ", holding " + path +
                         "): two bridges must not share a state_dir");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return Status::error(path + ": cannot write the PID: " + std::strerror(errno));
  }
  return lock;
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

bool StateLock::still_in_place(const std::string& state_dir) const {
  struct stat held{};
  struct stat at_path{};
  return ::fstat(fd_, &held) == 0 && ::stat(lock_path(state_dir).c_str(), &at_path) == 0 &&
         held.st_dev == at_path.st_dev && held.st_ino == at_path.st_ino;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dsb::store
