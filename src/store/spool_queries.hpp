// The spool as the operator's `spool` command reads and changes it (product.md sections 2,
// 6 and 11): deliveries with the DingTalk event they carry, one delivery in full with its
// attempt history, and the replay / purge of dead letters. Runs on the caller's thread
// with its own Database (the command's, beside a running daemon: WAL and a busy timeout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "store/database.hpp"

namespace dsb::store {

// One pending or dead-lettered delivery, as `spool list` shows it.
struct DeliveryRow {
  int64_t id = 0;
  int64_t frame_id = 0;
  std::string route;
  std::string state;  // pending | delivered | dead
  std::string url;    // as configured: redact before showing
  std::string dingtalk_id;  // eventId (events), msgId (robot messages), else messageId
  std::string event;        // the event type (EVENT) or the topic (CALLBACK)
  int64_t attempts = 0;
  int64_t created_at_ms = 0;       // spooled
  int64_t updated_at_ms = 0;       // last change; for a dead letter, when it died
  int64_t next_attempt_at_ms = 0;  // meaningful while pending
  std::string last_error;
};

// One attempt of a delivery's kept history (store.hpp: kFirstAttemptsKept).
struct AttemptRow {
  int64_t attempt = 0;  // the delivery's attempt count after it (restarts after a replay)
  int64_t at_ms = 0;
  std::string outcome;  // delivered | retry | dead
  int64_t status = 0;   // HTTP status; 0 below HTTP or not sent
  std::string error;
};

// One delivery in full, as `spool show ID` prints it.
struct DeliveryDetail {
  DeliveryRow row;
  std::string frame_type;  // EVENT | CALLBACK
  std::vector<std::pair<std::string, std::string>> headers;  // the frame's, in order
  std::string body;                                          // the frame's data
  std::vector<AttemptRow> history;                           // oldest first
};

// Which dead letters `spool replay` / `spool purge` take; empty fields select all.
struct DeadLetterSelection {
  int64_t id = 0;              // only this delivery (0 = any)
  std::string route;           // only this route ("" = any)
  int64_t died_since_ms = 0;   // only those dead-lettered at or after this wall time
};

// Pending and dead deliveries: dead letters first, each group oldest id first.
Result<std::vector<DeliveryRow>> read_deliveries(Database& db);

// The delivery `id` in any state; nullopt when there is none.
Result<std::optional<DeliveryDetail>> read_delivery(Database& db, int64_t id);

// Makes the selected dead letters pending again, due at `now_ms`, with their attempts and
// max_age clock starting over. One transaction; returns the ids re-queued.
Result<std::vector<int64_t>> replay_dead_letters(Database& db, const DeadLetterSelection& which,
                                                 int64_t now_ms);

// Deletes the selected dead letters (their history with them) and every frame left with
// nothing to deliver. One transaction; returns the ids purged.
Result<std::vector<int64_t>> purge_dead_letters(Database& db, const DeadLetterSelection& which);

// The dedup key is "<kind>:<DingTalk id>" (bridge/dedup.hpp): the id is what follows the
// first colon, as in the Idempotency-Key the webhook got.
std::string dingtalk_id_of(std::string_view dedup_key);

// The four queries above over either backend, for the `spool` command: SQLite's run on a
// Database, Redis's (redis_spool_queries.hpp) on a connection.
class SpoolQueries {
 public:
  virtual ~SpoolQueries() = default;
  virtual Result<std::vector<DeliveryRow>> deliveries() = 0;
  virtual Result<std::optional<DeliveryDetail>> delivery(int64_t id) = 0;
  virtual Result<std::vector<int64_t>> replay(const DeadLetterSelection& which, int64_t now_ms) = 0;
  virtual Result<std::vector<int64_t>> purge(const DeadLetterSelection& which) = 0;
};

}  // namespace dsb::store
