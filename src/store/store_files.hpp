// The store's hold on its state_dir: the exclusive lock, the open database, and where that
// database lives. Store-thread only.
//
// The path can stop leading to the open database while the daemon runs (state_dir removed
// or replaced): SQLite then keeps committing to the unlinked file, and all of it is gone at
// the next start. in_place() notices (StoreLocation), and the database is detached: no request
// may use it, but the connection stays open, holding the spool. open() then puts it back:
// as soon as the directory exists again without a bridge.db, the detached database is
// copied there (VACUUM INTO a temporary file, fsync, rename), with its ids, so claims and
// delivery outcomes still in flight stay valid. A directory that holds another bridge.db is
// the operator's choice: it is not overwritten; the reason says to restart.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.hpp"
#include "store/database.hpp"
#include "store/state_lock.hpp"
#include "store/store_location.hpp"

namespace dsb::store {

struct StoreFilesOptions {
  std::string state_dir;
  int busy_timeout_ms = 5'000;
  int64_t max_page_count = 0;  // test hook, see OpenOptions
};

class StoreFiles {
 public:
  explicit StoreFiles(StoreFilesOptions options) : options_(std::move(options)) {}

  // The open database; null while there is none (never opened, or detached).
  Database* db() const { return db_.get(); }

  // REQUIRES: db() is null. Opens the database, creating state_dir and taking its lock
  // first, or puts a detached one back at its path (see above). The error says why not,
  // and for a detached database what the operator can do.
  Status open();
  // True when the last open() failed because another process holds the lock.
  bool locked_out() const { return locked_out_; }

  // Ok while the path still leads to the open database (or none is open); otherwise what
  // changed ("state_dir X was removed while running"). Two stat calls.
  Status in_place() const;
  // REQUIRES: db() is not null and in no transaction. Stops using the open database (db()
  // turns null) but keeps it, to be put back by open().
  void detach();

  // Closes everything (a detached database's copy not yet written back is lost).
  void close();

 private:
  Status open_at_path();
  Status reattach();
  Status write_back();

  const StoreFilesOptions options_;
  std::optional<StateLock> lock_;
  std::unique_ptr<Database> db_;
  std::optional<StoreLocation> location_;  // of db_, or of detached_ when it was open
  std::unique_ptr<Database> detached_;
  bool locked_out_ = false;
};

}  // namespace dsb::store
