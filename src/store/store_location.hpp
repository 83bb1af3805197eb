// Where the open database lives, by identity (device, inode) of state_dir and bridge.db.
// SQLite holds its files open: when the path is removed or replaced while the daemon runs,
// it keeps writing to the unlinked file, and every commit from then on is lost at the next
// start. Comparing identities notices that (a stat each, cheap enough before every commit).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/status.hpp"

namespace dsb::store {

struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileId&) const = default;
};

// The identity of what is at `path` now; nullopt when nothing is (or it cannot be read).
std::optional<FileId> file_id(const std::string& path);

struct StoreLocation {
  std::string state_dir;
  FileId dir;
  FileId db;

  // The identities of state_dir and its bridge.db as they are now.
  static Result<StoreLocation> of(const std::string& state_dir);
  // Ok while both paths still lead to the same directory and file; else what changed, as
  // "state_dir X was removed while running" and the like.
  Status still_in_place() const;
};

}  // namespace dsb::store
