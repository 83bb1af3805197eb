// The one SQLite file under state_dir and its schema (the on-disk contract that `spool`
// and the daemon share). A thin RAII layer over the C API: no exceptions, every failure a
// Status carrying SQLite's message. Not thread-safe: one Database per thread that owns it
// (the Store's thread in the daemon, the main thread in `spool`).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.hpp"

namespace dsb::store {

// {state_dir}/{name}, with or without a trailing "/" on state_dir.
std::string state_file(const std::string& state_dir, const char* name);
// {state_dir}/bridge.db
std::string database_path(const std::string& state_dir);

// Creates `dir` (and missing parents) with mode 0700; an existing directory is left as is.
Status ensure_state_dir(const std::string& dir);

// Creates the file at `path` with mode 0600 whatever the umask, or narrows an existing one
// of ours to 0600: the store holds event payloads. SQLite gives the -wal and -shm files the
// mode of the database file, so creating bridge.db this way covers them too.
Status create_private_file(const std::string& path);

// One prepared statement. Binds are 1-based, columns 0-based (SQLite's convention).
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  // SQLITE_ROW -> true, SQLITE_DONE -> false; anything else is an error in `status`.
  bool step(Status& status);
  // Runs to completion (for writes).
  Status run();
  void reset();

  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

struct OpenOptions {
  int busy_timeout_ms = 5'000;
  // Test hook: caps the file at this many pages (PRAGMA max_page_count) so a "disk full"
  // can be produced on demand. 0 = SQLite's default.
  int64_t max_page_count = 0;
  // Migrate up to this schema version (tests open old versions); 0 = the latest.
  int target_version = 0;
  bool create = true;  // false: fail if the file does not exist
};

class Database {
 public:
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (creating if allowed, mode 0600) the file at `path` in WAL mode with synchronous=FULL
  // (every commit is fsync'd) and a busy timeout, then applies the pending migrations in
  // one transaction. The directory must exist.
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                const OpenOptions& options = {});

  Status exec(const char* sql);
  Result<Statement> prepare(const char* sql);
  // A statement prepared once per connection and kept, reset and unbound, ready to use.
  // `sql` must be a string literal (it is the cache key). Null with `status` on error.
  Statement* cached(const char* sql, Status& status);
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int schema_version();
  // SQLite's message for the last failure on this connection, prefixed with `what`.
  Status error(std::string_view what) const;
  // Closing will leave the -wal and -shm files at the path alone: for a connection whose
  // file was removed or replaced, where those names may now belong to another database.
  void keep_files_on_close();

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  Status migrate(int target_version);
  sqlite3* db_;
  std::unordered_map<const char*, Statement> cache_;
};

// The latest schema version (the number of migrations).
int latest_schema_version();

}  // namespace dsb::store
