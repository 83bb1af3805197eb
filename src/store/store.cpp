#include "store/store.hpp"

#include <algorithm>
#include <chrono>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "store/frame_codec.hpp"

namespace dsb::store {
namespace {

constexpr const char* kComponent = "store";

// spool_deliveries.order_key (database.cpp, version 4): the route scopes the value.
std::optional<std::string> spool_order_key(const SpoolEntry& entry) {
  if (!entry.order_key) return std::nullopt;
  return entry.route + '\x1f' + *entry.order_key;
}

// A row of "SELECT key, code, data, remembered_at FROM dedup ...".
DedupRecord dedup_row(Statement& stmt) {
  return {stmt.text(0), static_cast<int>(stmt.int64(1)), stmt.text(2), stmt.int64(3)};
}

}  // namespace

Store::Store(StoreOptions options)
    : options_(std::move(options)),
      files_({options_.state_dir, options_.busy_timeout_ms, options_.max_page_count}),
      thread_([this] { run(); }) {}

Store::~Store() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int64_t Store::now() const { return options_.wall_clock ? options_.wall_clock() : wall_ms(); }

Status Store::wait_open() {
  std::unique_lock lock(open_mutex_);
  opened_.wait(lock, [this] { return open_status_.has_value(); });
  return *open_status_;
}

std::string Store::unwritable_reason() const {
  if (writable()) return {};
  std::lock_guard lock(reason_mutex_);
  return reason_;
}

void Store::set_writable(bool writable, const std::string& reason) {
  const bool changed = !logged_state_known_ || writable_.load() != writable;
  {
    std::lock_guard lock(reason_mutex_);
    reason_ = writable ? std::string() : reason;
  }
  writable_.store(writable, std::memory_order_release);
  if (!changed) return;
  logged_state_known_ = true;
  const std::string path = database_path(options_.state_dir);
  if (writable) {
    log::info(kComponent, "store is writable", {{"path", path}});
  } else {
    log::error(kComponent, "store is NOT writable: spooled events are ACKed LATER until it is",
               {{"path", path}, {"reason", reason}});
  }
}

void Store::enqueue(Request request) {
  bool wake = true;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) oldest_queued_ms_ = steady_ms();
    if (!request.deferrable) ++urgent_queued_;
    // A deferrable request wakes the thread only to start its clock (first in the queue)
    // or to commit a full batch.
    wake = !request.deferrable || queue_.empty() || queue_.size() + 1 >= options_.max_batch;
    queue_.push_back(std::move(request));
  }
  if (wake) wake_.notify_one();
}

bool Store::batch_due() const {
  return stopping_ || urgent_queued_ > 0 || queue_.size() >= options_.max_batch ||
         (!queue_.empty() && steady_ms() >= oldest_queued_ms_ + options_.write_behind_ms);
}

bool Store::ensure_open() {
  if (files_.db()) return true;
  const int64_t t = steady_ms();
  if (t < next_open_attempt_ms_) return false;
  next_open_attempt_ms_ = t + options_.retry_interval_ms;
  // A database put back after a detach keeps its ids: claims and unrecorded outcomes hold.
  const Status status = files_.open();
  locked_out_.store(files_.locked_out(), std::memory_order_release);
  if (!status) {
    set_writable(false, status.message());
    return false;
  }
  SpoolCounts counts;
  Status counted = count_spool(counts);
  if (counted) {
    pending_ = counts.pending;
    dead_ = counts.dead;
    counted = read_oldest_pending();
  }
  if (!counted)
    log::warn(kComponent, "cannot count spooled deliveries", {{"reason", counted.message()}});
  set_writable(true, {});
  return true;
}

void Store::detach() {
  files_.detach();
  next_open_attempt_ms_ = 0;
  ensure_open();  // puts it back if it can be at once; else the reason says what to do
}

void Store::run() {
  name_this_thread("dsb-store");
  const bool opened = ensure_open();
  {
    std::lock_guard lock(open_mutex_);
    open_status_ = opened ? Status::ok() : Status::error(unwritable_reason());
  }
  opened_.notify_all();
  next_maintenance_ms_ = steady_ms() + options_.maintenance_interval_ms;
  next_check_ms_ = steady_ms() + options_.retry_interval_ms;

  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (!batch_due()) {
        int64_t deadline = std::min(next_maintenance_ms_, next_check_ms_);
        if (!files_.db()) deadline = std::min(deadline, next_open_attempt_ms_);
        if (!queue_.empty()) {
          deadline = std::min(deadline, oldest_queued_ms_ + options_.write_behind_ms);
        }
        const int64_t wait = deadline - steady_ms();
        if (wait <= 0) break;  // maintenance, the check or a reopen attempt is due
        wake_.wait_for(lock, std::chrono::milliseconds(wait));
      }
      if (stopping_ && queue_.empty()) break;
      // Woken for the periodic work alone, deferrable requests keep waiting for company.
      const bool take = batch_due();
      while (take && !queue_.empty() && batch.size() < options_.max_batch) {
        if (!queue_.front().deferrable) --urgent_queued_;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // What is left behind a full batch is older than anything queued later.
      if (take && !queue_.empty()) oldest_queued_ms_ = steady_ms() - options_.write_behind_ms;
    }
    if (!files_.db() && ensure_open()) retry_unrecorded(batch);
    if (steady_ms() >= next_check_ms_) {
      next_check_ms_ = steady_ms() + options_.retry_interval_ms;
      periodic_check(batch);
    }
    if (steady_ms() >= next_maintenance_ms_) {
      next_maintenance_ms_ = steady_ms() + options_.maintenance_interval_ms;
      batch.push_back({[this](Database* db) {
                         if (!db) return Status::ok();
                         maintain();
                         return Status::ok();
                       },
                       [](const Status&) {}, true});
    }
    if (!batch.empty()) run_batch(batch);
    batch.clear();
  }
  // A last chance for outcomes that could not be committed.
  if (!unrecorded_.empty() && files_.db()) {
    retry_unrecorded(batch);
    run_batch(batch);
  }
  if (!unrecorded_.empty()) {
    log::warn(kComponent, "delivery outcomes not recorded: those deliveries are made again",
              {{"count", std::to_string(unrecorded_.size())}, {"reason", unwritable_reason()}});
  }
  files_.close();
}

void Store::periodic_check(std::vector<Request>& batch) {
  if (!files_.in_place()) {
    detach();
    return;
  }
  if (!files_.db()) return;
  retry_unrecorded(batch);
  const bool any_oldest = !oldest_pending().empty();
  if (pending_.load() > 0 || any_oldest) {
    batch.push_back({[this](Database* db) { return db ? read_oldest_pending() : Status::ok(); },
                     [](const Status&) {}, false});
  }
}

void Store::run_batch(std::vector<Request>& batch) {
  bool writes = std::any_of(batch.begin(), batch.end(), [](const Request& r) {
    return r.writes;
  });
  // A batch that writes anyway is the cheapest retry for outcomes that failed before.
  if (writes && !unrecorded_.empty()) retry_unrecorded(batch);
  Database* db = files_.db();
  // Every request of the batch shares its transaction's fate: one fails, all fail (their
  // SQL is ours, so a failure means the file or the disk, not the request).
  Status outcome = Status::ok();
  Status in_place = Status::ok();
  if (!db) {
    outcome = Status::error("store unavailable: " + unwritable_reason());
  } else if (Status begun = db->exec(writes ? "BEGIN IMMEDIATE" : "BEGIN"); !begun) {
    outcome = Status::error("store: cannot begin a transaction: " + begun.message());
  } else {
    batch_pending_delta_ = 0;
    batch_dead_delta_ = 0;
    batch_counts_.reset();
    for (auto& request : batch) {
      if (Status applied = request.apply(db); !applied) {
        outcome = Status::error("store: " + applied.message());
        break;
      }
    }
    if (outcome && writes && options_.fault) outcome = options_.fault();
    // Last before the commit: a commit to a file that is no longer at its path is lost.
    if (outcome && writes) {
      in_place = files_.in_place();
      if (!in_place) outcome = Status::error("store: " + in_place.message());
    }
    if (outcome) {
      if (Status committed = db->exec("COMMIT"); !committed)
        outcome = Status::error("store: commit failed: " + committed.message());
      else if (writes)
        ++commits_;
    }
    if (!outcome) db->exec("ROLLBACK");  // also after a failed COMMIT: ends the transaction
  }
  if (!in_place) detach();

  if (outcome) {
    if (batch_counts_) {  // counted inside this batch: the deltas are the changes after it
      pending_ = batch_counts_->pending + batch_pending_delta_;
      dead_ = batch_counts_->dead + batch_dead_delta_;
    } else if (writes) {
      pending_ += batch_pending_delta_;
      dead_ += batch_dead_delta_;
    }
    if (pending_.load() <= 0) {
      std::lock_guard lock(oldest_mutex_);
      oldest_pending_.clear();
    }
    if (writes) set_writable(true, {});
  } else if (writes && files_.db() && in_place) {
    set_writable(false, outcome.message());
  }
  for (auto& request : batch) request.complete(outcome);
}

Status Store::recount_in_batch() {
  SpoolCounts counts;
  Status status = count_spool(counts);
  if (!status) return status;
  // What this batch changed so far is in the count; only what follows it is a delta.
  batch_counts_ = counts;
  batch_pending_delta_ = 0;
  batch_dead_delta_ = 0;
  return status;
}

Status Store::count_spool(SpoolCounts& counts) {
  Status status = Status::ok();
  Statement* stmt = files_.db()->cached(
      "SELECT state, count(*) FROM spool_deliveries WHERE state IN ('pending', 'dead') "
      "GROUP BY state",
      status);
  if (!stmt) return status;
  counts = {};
  while (stmt->step(status)) {
    (stmt->text(0) == "pending" ? counts.pending : counts.dead) = stmt->int64(1);
  }
  stmt->reset();
  return status;
}

Status Store::read_oldest_pending() {
  Status status = Status::ok();
  Statement* stmt = files_.db()->cached(
      "SELECT f.route, min(d.queued_at) FROM spool_deliveries d "
      "JOIN spool_frames f ON f.id = d.frame_id WHERE d.state = 'pending' GROUP BY f.route",
      status);
  if (!stmt) return status;
  std::map<std::string, int64_t> oldest;
  while (stmt->step(status)) oldest[stmt->text(0)] = stmt->int64(1);
  stmt->reset();
  if (!status) return status;
  std::lock_guard lock(oldest_mutex_);
  oldest_pending_ = std::move(oldest);
  return status;
}

std::map<std::string, int64_t> Store::oldest_pending() const {
  std::lock_guard lock(oldest_mutex_);
  return oldest_pending_;
}

void Store::maintain() {
  // Best effort inside the batch's transaction: a failure here is logged, not fatal.
  Database* db = files_.db();
  Status status = Status::ok();
  if (Statement* prune = db->cached("DELETE FROM dedup WHERE remembered_at < ?1", status)) {
    prune->bind(1, now() - options_.dedup_window_ms);
    status = prune->run();
    if (status && db->changes() > 0)
      log::debug(kComponent, "pruned dedup records", {{"count", std::to_string(db->changes())}});
  }
  if (status) {
    if (Statement* drop = db->cached(
            "DELETE FROM spool_frames WHERE NOT EXISTS (SELECT 1 FROM spool_deliveries d "
            "WHERE d.frame_id = spool_frames.id AND d.state != 'delivered')",
            status)) {
      status = drop->run();
    }
  }
  if (status) status = recount_in_batch();
  if (status) status = read_oldest_pending();
  if (!status) log::warn(kComponent, "maintenance failed", {{"reason", status.message()}});
}

void Store::append(SpoolEntry entry, std::function<void(Status)> done) {
  auto shared = std::make_shared<SpoolEntry>(std::move(entry));
  enqueue({[this, shared](Database* db) {
             Status status = Status::ok();
             Statement* frame = db->cached(
                 "INSERT INTO spool_frames (route, dedup_key, frame_type, headers, data, "
                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 status);
             if (!frame) return status;
             frame->bind(1, shared->route)
                 .bind(2, shared->dedup_key)
                 .bind(3, stream::frame_type_name(shared->frame.type))
                 .bind(4, frame_headers_json(shared->frame))
                 .bind(5, shared->frame.data)
                 .bind(6, shared->created_at_ms);
             if (status = frame->run(); !status) return status;
             const int64_t frame_id = db->last_insert_id();
             Statement* delivery = db->cached(
                 "INSERT INTO spool_deliveries (frame_id, url, queued_at, next_attempt_at, "
                 "updated_at, order_key) VALUES (?1, ?2, ?3, ?3, ?3, ?4)",
                 status);
             if (!delivery) return status;
             const std::optional<std::string> order_key = spool_order_key(*shared);
             for (const auto& url : shared->urls) {
               delivery->reset();
               delivery->bind(1, frame_id).bind(2, url).bind(3, shared->created_at_ms);
               if (order_key) delivery->bind(4, *order_key);  // else NULL: reset() unbinds
               if (status = delivery->run(); !status) return status;
               ++batch_pending_delta_;
             }
             return status;
           },
           [done = std::move(done)](const Status& status) {
             if (done) done(status);
           },
           true});
}

void Store::due(int64_t now_ms, size_t limit,
                std::function<void(std::vector<DueDelivery>)> done) {
  auto found = std::make_shared<std::vector<DueDelivery>>();
  enqueue({[this, found, now_ms, limit](Database* db) {
             Status status = Status::ok();
             Statement* stmt = db->cached(
                 "SELECT d.id, d.frame_id, f.route, f.dedup_key, f.frame_type, f.headers, "
                 "f.data, d.url, d.attempts, d.queued_at, f.created_at "
                 "FROM spool_deliveries d JOIN spool_frames f ON f.id = d.frame_id "
                 "WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 "
                 "AND (d.order_key IS NULL OR NOT EXISTS (SELECT 1 FROM spool_deliveries e "
                 "WHERE e.order_key = d.order_key AND e.url = d.url AND e.id < d.id "
                 "AND e.state = 'pending')) "
                 "ORDER BY d.next_attempt_at, d.id LIMIT ?2",
                 status);
             if (!stmt) return status;
             // Claimed rows are still pending in the file: look past as many as there are.
             stmt->bind(1, now_ms).bind(2, static_cast<int64_t>(limit + claimed_.size()));
             while (found->size() < limit && stmt->step(status)) {
               const int64_t id = stmt->int64(0);
               if (claimed_.count(id)) continue;
               DueDelivery d;
               d.id = id;
               d.frame_id = stmt->int64(1);
               d.route = stmt->text(2);
               d.dedup_key = stmt->text(3);
               d.frame.type = parse_frame_type(stmt->text(4));
               parse_frame_headers(stmt->text(5), d.frame);
               d.frame.data = stmt->text(6);
               d.url = stmt->text(7);
               d.attempts = static_cast<int>(stmt->int64(8));
               d.queued_at_ms = stmt->int64(9);
               d.created_at_ms = stmt->int64(10);
               found->push_back(std::move(d));
             }
             stmt->reset();
             if (!status) return status;
             for (const auto& d : *found) claimed_.insert(d.id);
             return status;
           },
           [this, found, done = std::move(done)](const Status& status) {
             if (!status) {
               for (const auto& d : *found) claimed_.erase(d.id);
               found->clear();
             }
             done(std::move(*found));
           },
           false});
}

namespace {

// Inside the transaction, after the UPDATE that moved delivery `id` on (so its attempts
// count includes this one): appends the attempt to its history and drops the middle of a
// history longer than kFirstAttemptsKept + kLastAttemptsKept.
Status add_to_history(Database& db, int64_t id, const Attempt& attempt, const char* outcome) {
  Status status = Status::ok();
  Statement* insert = db.cached(
      "INSERT INTO spool_attempts (delivery_id, attempt, at, outcome, status, error) "
      "SELECT id, attempts, ?2, ?3, ?4, ?5 FROM spool_deliveries WHERE id = ?1",
      status);
  if (!insert) return status;
  insert->bind(1, id)
      .bind(2, attempt.at_ms)
      .bind(3, outcome)
      .bind(4, static_cast<int64_t>(attempt.status))
      .bind(5, attempt.error);
  if (status = insert->run(); !status) return status;
  Statement* trim = db.cached(
      "DELETE FROM spool_attempts WHERE delivery_id = ?1 "
      "AND id NOT IN (SELECT id FROM spool_attempts WHERE delivery_id = ?1 ORDER BY id LIMIT ?2) "
      "AND id NOT IN (SELECT id FROM spool_attempts WHERE delivery_id = ?1 "
      "ORDER BY id DESC LIMIT ?3)",
      status);
  if (!trim) return status;
  trim->bind(1, id)
      .bind(2, int64_t{kFirstAttemptsKept})
      .bind(3, int64_t{kLastAttemptsKept});
  return trim->run();
}

}  // namespace

// How an attempt's outcome moves a pending delivery on. Every `update` takes ?1 the id,
// ?2 the error, ?3 the next attempt's time and ?4 now (a statement may leave some unused),
// and changes nothing once the delivery is no longer pending.
struct Store::Outcome {
  const char* name;  // spool_attempts.outcome
  const char* update;
  int pending_delta;
  int dead_delta;
  bool deferrable;  // a success: its claim keeps it from being handed out again meanwhile
};

const Store::Outcome Store::kDelivered{
    "delivered",
    "UPDATE spool_deliveries SET state = 'delivered', attempts = attempts + 1, "
    "last_error = '', updated_at = ?4 WHERE id = ?1 AND state = 'pending'",
    -1, 0, true};
const Store::Outcome Store::kRetry{
    "retry",
    "UPDATE spool_deliveries SET attempts = attempts + 1, last_error = ?2, "
    "next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'pending'",
    0, 0, false};
const Store::Outcome Store::kDead{
    "dead",
    "UPDATE spool_deliveries SET state = 'dead', attempts = attempts + 1, "
    "last_error = ?2, updated_at = ?4 WHERE id = ?1 AND state = 'pending'",
    -1, 1, false};

void Store::enqueue_outcome(int64_t delivery_id, const Outcome& outcome, Attempt attempt,
                            int64_t next_attempt_at_ms, std::function<void(Status)> done) {
  auto apply = [this, delivery_id, &outcome, attempt = std::move(attempt),
                next_attempt_at_ms](Database* db) {
    claimed_.erase(delivery_id);
    Status status = Status::ok();
    Statement* stmt = db->cached(outcome.update, status);
    if (!stmt) return status;
    stmt->bind(1, delivery_id)
        .bind(2, attempt.error)
        .bind(3, next_attempt_at_ms)
        .bind(4, now());
    if (status = stmt->run(); !status || db->changes() == 0) return status;
    batch_pending_delta_ += outcome.pending_delta;
    batch_dead_delta_ += outcome.dead_delta;
    return add_to_history(*db, delivery_id, attempt, outcome.name);
  };
  enqueue({apply,
           [this, delivery_id, apply, done = std::move(done)](const Status& status) {
             if (!status) hold_unrecorded(delivery_id, apply);
             if (done) done(status);
           },
           true, outcome.deferrable});
}

void Store::hold_unrecorded(int64_t delivery_id, std::function<Status(Database*)> apply) {
  claimed_.insert(delivery_id);  // its apply may have ended the claim before the batch failed
  unrecorded_[delivery_id] = std::move(apply);
  unrecorded_count_ = unrecorded_.size() + unrecorded_retrying_;
}

void Store::retry_unrecorded(std::vector<Request>& batch) {
  std::vector<Request> retries;
  retries.reserve(unrecorded_.size());
  for (const auto& held : unrecorded_) {
    const int64_t id = held.first;  // not a structured binding: clang 14 cannot capture one
    const std::function<Status(Database*)>& apply = held.second;
    retries.push_back({apply,
                       [this, id, apply](const Status& status) {
                         --unrecorded_retrying_;
                         if (!status) hold_unrecorded(id, apply);
                         unrecorded_count_ = unrecorded_.size() + unrecorded_retrying_;
                       },
                       true});
  }
  unrecorded_retrying_ += retries.size();
  unrecorded_.clear();
  batch.insert(batch.begin(), std::make_move_iterator(retries.begin()),
               std::make_move_iterator(retries.end()));
}

void Store::record_success(int64_t delivery_id, Attempt attempt,
                           std::function<void(Status)> done) {
  enqueue_outcome(delivery_id, kDelivered, std::move(attempt), 0, std::move(done));
}

void Store::record_failure(int64_t delivery_id, Attempt attempt, int64_t next_attempt_at_ms,
                           std::function<void(Status)> done) {
  enqueue_outcome(delivery_id, kRetry, std::move(attempt), next_attempt_at_ms, std::move(done));
}

void Store::dead_letter(int64_t delivery_id, Attempt attempt, std::function<void(Status)> done) {
  enqueue_outcome(delivery_id, kDead, std::move(attempt), 0, std::move(done));
}

void Store::release(int64_t delivery_id) {
  enqueue({[this, delivery_id](Database*) {
             claimed_.erase(delivery_id);
             return Status::ok();
           },
           [this, delivery_id](const Status& status) {
             if (!status) claimed_.erase(delivery_id);
           },
           false});
}

void Store::refresh_counts(std::function<void(SpoolCounts)> done) {
  enqueue({[this](Database*) { return recount_in_batch(); },
           [this, done = std::move(done)](const Status&) {
             if (done) done(counts());
           },
           false});
}

void Store::remember_dedup(DedupRecord record) {
  auto shared = std::make_shared<DedupRecord>(std::move(record));
  enqueue({[shared](Database* db) {
             Status status = Status::ok();
             Statement* stmt = db->cached(
                 "INSERT INTO dedup (key, code, data, remembered_at) VALUES (?1, ?2, ?3, ?4) "
                 "ON CONFLICT (key) DO UPDATE SET code = excluded.code, data = excluded.data, "
                 "remembered_at = excluded.remembered_at",
                 status);
             if (!stmt) return status;
             stmt->bind(1, shared->key)
                 .bind(2, static_cast<int64_t>(shared->code))
                 .bind(3, shared->data)
                 .bind(4, shared->remembered_at_ms);
             return stmt->run();
           },
           [shared](const Status& status) {
             if (!status)
               log::debug(kComponent, "dedup record not stored",
                          {{"key", shared->key}, {"reason", status.message()}});
           },
           true, true});
}

void Store::scan_dedup(int64_t since_ms, std::function<void(const DedupRecord&)> each,
                       std::function<void(const Status&)> done) {
  enqueue({[since_ms, each = std::move(each)](Database* db) {
             if (db == nullptr) return Status::error("store not open");
             Status status = Status::ok();
             Statement* stmt = db->cached(
                 "SELECT key, code, data, remembered_at FROM dedup WHERE remembered_at >= ?1 "
                 "ORDER BY remembered_at",
                 status);
             if (!stmt) return status;
             stmt->bind(1, since_ms);
             while (stmt->step(status)) each(dedup_row(*stmt));
             stmt->reset();
             return status;
           },
           [done = std::move(done)](const Status& status) { done(status); },
           false});
}

void Store::find_dedup(std::string key, int64_t since_ms,
                       std::function<void(std::optional<DedupRecord>)> done) {
  // `answered`: the apply answers (before the commit); the completion only when the
  // apply never ran or failed before answering.
  auto answered = std::make_shared<bool>(false);
  auto shared_done =
      std::make_shared<std::function<void(std::optional<DedupRecord>)>>(std::move(done));
  enqueue({[key = std::move(key), since_ms, answered, shared_done](Database* db) {
             if (db == nullptr) return Status::error("store not open");
             Status status = Status::ok();
             Statement* stmt = db->cached(
                 "SELECT key, code, data, remembered_at FROM dedup "
                 "WHERE key = ?1 AND remembered_at >= ?2",
                 status);
             if (!stmt) return status;
             stmt->bind(1, key).bind(2, since_ms);
             std::optional<DedupRecord> found;
             if (stmt->step(status)) found = dedup_row(*stmt);
             stmt->reset();
             if (!status) return status;
             *answered = true;
             (*shared_done)(std::move(found));
             return Status::ok();
           },
           [answered, shared_done](const Status&) {
             if (!*answered) (*shared_done)(std::nullopt);
           },
           false});
}

void Store::run_maintenance(std::function<void()> done) {
  enqueue({[this](Database*) {
             maintain();
             return Status::ok();
           },
           [done = std::move(done)](const Status&) {
             if (done) done();
           },
           true});
}

void Store::claim_dedup(std::string key, int64_t since_ms, int64_t /*lease_ms*/,
                        std::function<void(Result<DedupClaim>)> done) {
  // One replica has nobody to share a key with: a record answers `delivered`, anything
  // else (absent, or unreadable: a duplicate is better than a loss) `mine`.
  find_dedup(std::move(key), since_ms,
             [done = std::move(done)](std::optional<DedupRecord> record) {
               DedupClaim claim;
               if (record) {
                 claim.state = DedupClaim::State::delivered;
                 claim.record = std::move(*record);
               }
               done(std::move(claim));
             });
}

}  // namespace dsb::store
