#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdint>
#include <cstring>

#include "config/loader.hpp"
#include "config/units.hpp"

namespace dsb::config {

std::string ConfigError::to_string() const {
  // Line 0 means the error concerns the file as a whole (e.g. it cannot be read).
  if (where.line <= 0) return where.file + ": " + message;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
         message;
}

std::optional<std::string> ProcessEnvironment::get(std::string_view name) const {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string too_large(std::size_t max_bytes) { return "larger than " + format_size(max_bytes); }

namespace {

std::string_view kind_of_file(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

}  // namespace

// Plain POSIX calls so the reason is errno's (iostreams would hide it). O_NONBLOCK makes
// open() return at once on a FIFO with no writer; fstat() then refuses it before any read.
Result<std::string> ProcessEnvironment::read_file(const std::string& path, std::size_t max_bytes) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Result<std::string>::error(std::strerror(errno));
  auto fail = [fd](std::string message) {
    ::close(fd);
    return Result<std::string>::error(std::move(message));
  };
  struct stat info {};
  if (::fstat(fd, &info) != 0) return fail(std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return fail("not a regular file (" + std::string(kind_of_file(info.st_mode)) + ")");
  if (static_cast<std::uintmax_t>(info.st_size) > max_bytes) return fail(too_large(max_bytes));
  std::string content;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::strerror(errno));
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    // The file may grow between fstat() and here (a log someone pointed us at).
    if (content.size() > max_bytes) return fail(too_large(max_bytes));
  }
  ::close(fd);
  return content;
}

}  // namespace dsb::config
