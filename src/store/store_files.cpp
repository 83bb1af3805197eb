#include "store/store_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"

namespace dsb::store {
namespace {

constexpr const char* kComponent = "store";

Status sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": " + std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  return synced ? Status::ok() : Status::error(path + ": fsync: " + std::strerror(error));
}

}  // namespace

Status StoreFiles::open() { return detached_ ? reattach() : open_at_path(); }

Status StoreFiles::open_at_path() {
  const std::string& dir = options_.state_dir;
  if (Status status = ensure_state_dir(dir); !status) return status;
  if (lock_ && !lock_->still_in_place(dir)) lock_.reset();  // went with a removed directory
  if (!lock_) {
    auto lock = StateLock::acquire(dir, &locked_out_);
    if (!lock) return lock.status();
    lock_ = std::move(lock.value());
  }
  OpenOptions open;
  open.busy_timeout_ms = options_.busy_timeout_ms;
  open.max_page_count = options_.max_page_count;
  auto db = Database::open(database_path(dir), open);
  if (!db) return db.status();
  auto location = StoreLocation::of(dir);
  if (!location) return location.status();
  db_ = std::move(db.value());
  location_ = std::move(location.value());
  return Status::ok();
}

Status StoreFiles::in_place() const {
  if (!db_) return Status::ok();
  return location_->still_in_place();
}

void StoreFiles::detach() {
  db_->keep_files_on_close();  // the names at the path are not its own any more
  detached_ = std::move(db_);
}

Status StoreFiles::reattach() {
  const std::string& dir = options_.state_dir;
  const std::string path = database_path(dir);
  const Status change = location_->still_in_place();
  if (change) {  // moved away and back: the path leads to the detached files again
    db_ = std::move(detached_);
    return Status::ok();
  }
  if (!file_id(dir)) {
    return Status::error(change.message() +
                         ": recreate it and the running store is written back there, or restart "
                         "the bridge (spooled events not yet delivered would be lost)");
  }
  if (file_id(path)) {
    return Status::error(change.message() + "; " + path +
                         " is another database now: restart the bridge to use it, or remove it "
                         "and the running store is written back");
  }
  return write_back();
}

Status StoreFiles::write_back() {
  const std::string& dir = options_.state_dir;
  const std::string path = database_path(dir);
  const std::string copy = path + ".restore";
  ::unlink(copy.c_str());  // a stray from an attempt that failed
  Status status = create_private_file(copy);
  if (status) {
    auto vacuum = detached_->prepare("VACUUM INTO ?1");  // a consistent snapshot, ids kept
    status = vacuum ? vacuum->bind(1, copy).run() : vacuum.status();
  }
  if (status) status = sync_path(copy);
  if (status) {
    // Whatever -wal or -shm is at the path is the detached database's own (still open) or
    // a stray: SQLite would replay a stray WAL into the copy.
    ::unlink((path + "-wal").c_str());
    ::unlink((path + "-shm").c_str());
    if (::rename(copy.c_str(), path.c_str()) != 0)
      status = Status::error("rename: " + std::string(std::strerror(errno)));
  }
  if (!status) {
    ::unlink(copy.c_str());
    return Status::error("cannot write the store back to " + path + ": " + status.message());
  }
  if (Status synced = sync_path(dir); !synced)
    log::warn(kComponent, "cannot fsync state_dir after writing the store back",
              {{"reason", synced.message()}});
  detached_.reset();
  log::warn(kComponent, "store written back to its path from the running process",
            {{"path", path}});
  return open_at_path();
}

void StoreFiles::close() {
  db_.reset();
  detached_.reset();
  lock_.reset();
}

}  // namespace dsb::store
