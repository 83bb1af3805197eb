#include "store/database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dsb::store {
namespace {

// The schema, one step per version: user_version N means steps [0, N) have been applied.
// Steps are append-only; a released step is never edited (old databases replay them).
// Times are wall-clock milliseconds since the epoch (they must survive restarts).
constexpr const char* kMigrations[] = {
    // 1: the spool. One row per spooled frame, one delivery row per (frame, URL).
    R"sql(
CREATE TABLE spool_frames (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  route      TEXT    NOT NULL,
  dedup_key  TEXT    NOT NULL,
  frame_type TEXT    NOT NULL,             -- EVENT | CALLBACK
  headers    TEXT    NOT NULL,             -- JSON object of the frame's headers
  data       TEXT    NOT NULL,             -- the frame's data, as received
  created_at INTEGER NOT NULL
);
CREATE TABLE spool_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  frame_id        INTEGER NOT NULL REFERENCES spool_frames(id) ON DELETE CASCADE,
  url             TEXT    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  queued_at       INTEGER NOT NULL,        -- entered the queue (or was replayed): max_age base
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT    NOT NULL DEFAULT '',
  updated_at      INTEGER NOT NULL
);
CREATE INDEX spool_deliveries_by_frame ON spool_deliveries(frame_id);
)sql",
    // 2: due() scans by state and time; dedup records move from memory into the store.
    R"sql(
CREATE INDEX spool_deliveries_due ON spool_deliveries(state, next_attempt_at);
CREATE TABLE dedup (
  key           TEXT    PRIMARY KEY,
  code          INTEGER NOT NULL,
  data          TEXT    NOT NULL,
  remembered_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX dedup_by_age ON dedup(remembered_at);
)sql",
    // 3: the attempt history of each delivery, for `spool show` (bounded per delivery:
    // see kFirstAttemptsKept in store.hpp). `attempt` is the delivery's attempt count after
    // it (it starts again at 1 after a `spool replay`); `id` orders the history.
    R"sql(
CREATE TABLE spool_attempts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES spool_deliveries(id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  at          INTEGER NOT NULL,              -- when the outcome was known
  outcome     TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
  status      INTEGER NOT NULL,              -- HTTP status; 0 below HTTP or not sent
  error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX spool_attempts_by_delivery ON spool_attempts(delivery_id, id);
)sql",
    // 4: order_by (product.md section 10). order_key is the route's name, a U+001F and the
    // frame's order_by value, copied on every delivery row of the frame; NULL: not ordered
    // (every row spooled before this version). due() holds a row back while an earlier
    // pending row has the same order_key and url; the partial index answers that with one
    // seek and stays as small as the ordered backlog.
    R"sql(
ALTER TABLE spool_deliveries ADD COLUMN order_key TEXT;
CREATE INDEX spool_deliveries_order ON spool_deliveries(order_key, url, id)
  WHERE state = 'pending' AND order_key IS NOT NULL;
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

}  // namespace

int latest_schema_version() { return kLatest; }

std::string state_file(const std::string& state_dir, const char* name) {
  if (!state_dir.empty() && state_dir.back() == '/') return state_dir + name;
  return state_dir + "/" + name;
}

std::string database_path(const std::string& state_dir) {
  return state_file(state_dir, "bridge.db");
}

Status ensure_state_dir(const std::string& dir) {
  if (dir.empty()) return Status::error("state_dir is empty");
  struct stat st{};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::error(dir + ": not a directory");
    return Status::ok();
  }
  if (errno != ENOENT) return Status::error(dir + ": " + std::strerror(errno));
  // Create each missing component; only the last one is ours to restrict to 0700.
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    const std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), pos == std::string::npos ? 0700 : 0755) != 0 && errno != EEXIST)
      return Status::error(part + ": cannot create directory: " + std::strerror(errno));
  }
  return Status::ok();
}

Status create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(path + ": cannot create: " + std::strerror(errno));
  struct stat st{};
  Status status = Status::ok();
  if (::fstat(fd, &st) != 0) {
    status = Status::error(path + ": " + std::strerror(errno));
  } else if ((st.st_mode & 0777) != 0600 && st.st_uid == ::geteuid() &&
             ::fchmod(fd, 0600) != 0) {  // the umask took bits off 0600, or an older file
    status = Status::error(path + ": cannot make it mode 0600: " + std::strerror(errno));
  }
  ::close(fd);
  return status;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

bool Statement::step(Status& status) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status = Status::error(sqlite3_errmsg(db_));
  return false;
}

Status Statement::run() {
  Status status = Status::ok();
  while (step(status)) {
  }
  sqlite3_reset(stmt_);
  return status;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
  const auto* bytes = sqlite3_column_text(stmt_, column);
  if (bytes == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(bytes),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Database::~Database() {
  cache_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

Statement* Database::cached(const char* sql, Status& status) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = prepare(sql);
    if (!stmt) {
      status = stmt.status();
      return nullptr;
    }
    it = cache_.emplace(sql, std::move(stmt.value())).first;
  }
  it->second.reset();
  return &it->second;
}

Status Database::error(std::string_view what) const {
  return Status::error(std::string(what) + ": " + sqlite3_errmsg(db_));
}

void Database::keep_files_on_close() {
  int persist = 1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
}

Status Database::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return Status::ok();
  std::string text = message ? message : sqlite3_errmsg(db_);
  sqlite3_free(message);
  return Status::error(std::move(text));
}

Result<Statement> Database::prepare(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return error("prepare");
  return Statement(db_, stmt);
}

int Database::schema_version() {
  auto stmt = prepare("PRAGMA user_version");
  Status status = Status::ok();
  if (!stmt || !stmt->step(status)) return -1;
  return static_cast<int>(stmt->int64(0));
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 const OpenOptions& options) {
  if (options.create) {
    if (Status s = create_private_file(path); !s) return s;
  }
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw));
  if (rc != SQLITE_OK) {
    return Status::error(path + ": cannot open: " +
                         (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // journal_mode answers with the mode in force; anything but "wal" means the file system
  // refused it (and readers would block the daemon's writes).
  {
    auto stmt = db->prepare("PRAGMA journal_mode=WAL");
    if (!stmt) return Status::error(path + ": " + stmt.status().message());
    Status status = Status::ok();
    if (!stmt->step(status)) {
      return Status::error(path + ": cannot enable WAL: " +
                           (status ? std::string("no answer") : status.message()));
    }
    if (stmt->text(0) != "wal")
      return Status::error(path + ": cannot enable WAL (journal_mode is " + stmt->text(0) + ")");
  }
  if (Status s = db->exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !s)
    return Status::error(path + ": " + s.message());
  if (options.max_page_count > 0) {
    const std::string pragma = "PRAGMA max_page_count=" + std::to_string(options.max_page_count);
    if (Status s = db->exec(pragma.c_str()); !s) return Status::error(path + ": " + s.message());
  }
  const int target = options.target_version > 0 ? options.target_version : kLatest;
  if (Status s = db->migrate(target); !s) return Status::error(path + ": " + s.message());
  return db;
}

Status Database::migrate(int target_version) {
  // IMMEDIATE: two processes opening an old file at once must not both migrate it.
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return Status::error("migration: " + s.message());
  const int current = schema_version();
  if (current < 0 || current > kLatest) {
    exec("ROLLBACK");
    return Status::error("schema version " + std::to_string(current) +
                         " is newer than this binary knows (" + std::to_string(kLatest) +
                         "); refusing to touch it");
  }
  for (int version = current; version < target_version; ++version) {
    if (Status s = exec(kMigrations[version]); !s) {
      exec("ROLLBACK");
      return Status::error("migration to schema version " + std::to_string(version + 1) +
                           " failed: " + s.message());
    }
  }
  if (target_version > current) {
    const std::string pragma = "PRAGMA user_version=" + std::to_string(target_version);
    if (Status s = exec(pragma.c_str()); !s) {
      exec("ROLLBACK");
      return Status::error("migration: " + s.message());
    }
  }
  if (Status s = exec("COMMIT"); !s) {
    exec("ROLLBACK");
    return Status::error("migration commit: " + s.message());
  }
  return Status::ok();
}

}  // namespace dsb::store
