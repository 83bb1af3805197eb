#include "store/store_location.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "store/database.hpp"

namespace dsb::store {
namespace {

// "" while `path` still leads to `expected`; else what happened to it.
std::string change_of(const std::string& what, const std::string& path, const FileId& expected) {
  const std::optional<FileId> now = file_id(path);
  if (!now) return what + " " + path + " was removed while running";
  if (*now != expected) return what + " " + path + " was replaced while running";
  return {};
}

}  // namespace

std::optional<FileId> file_id(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

Result<StoreLocation> StoreLocation::of(const std::string& state_dir) {
  const std::string db_path = database_path(state_dir);
  const std::optional<FileId> dir = file_id(state_dir);
  const std::optional<FileId> db = file_id(db_path);
  if (!dir || !db) {
    return Status::error((dir ? db_path : state_dir) + ": " + std::strerror(errno));
  }
  return StoreLocation{state_dir, *dir, *db};
}

Status StoreLocation::still_in_place() const {
  // The directory first: removing it removes the file too, and that is the cause to name.
  std::string change = change_of("state_dir", state_dir, dir);
  if (change.empty()) change = change_of("the store file", database_path(state_dir), db);
  return change.empty() ? Status::ok() : Status::error(std::move(change));
}

}  // namespace dsb::store
