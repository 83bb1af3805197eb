#include "store/spool_queries.hpp"

#include <string_view>

namespace dsb::store {
namespace {

// The columns of a DeliveryRow, over spool_deliveries d JOIN spool_frames f. The event is
// read from the frame's headers (every row ever spooled has them, so no schema change
// and no backfill); json_valid keeps one damaged row from failing the whole listing.
constexpr const char* kRowColumns =
    "SELECT d.id, d.frame_id, f.route, d.state, d.url, f.dedup_key, "
    "CASE WHEN NOT json_valid(f.headers) THEN '' "
    "WHEN f.frame_type = 'EVENT' THEN coalesce(json_extract(f.headers, '$.eventType'), '') "
    "ELSE coalesce(json_extract(f.headers, '$.topic'), '') END, "
    "d.attempts, f.created_at, d.updated_at, d.next_attempt_at, d.last_error, f.frame_type, "
    "f.data FROM spool_deliveries d JOIN spool_frames f ON f.id = d.frame_id ";

DeliveryRow row_of(const Statement& stmt) {
  DeliveryRow row;
  row.id = stmt.int64(0);
  row.frame_id = stmt.int64(1);
  row.route = stmt.text(2);
  row.state = stmt.text(3);
  row.url = stmt.text(4);
  row.dingtalk_id = dingtalk_id_of(stmt.text(5));
  row.event = stmt.text(6);
  row.attempts = stmt.int64(7);
  row.created_at_ms = stmt.int64(8);
  row.updated_at_ms = stmt.int64(9);
  row.next_attempt_at_ms = stmt.int64(10);
  row.last_error = stmt.text(11);
  return row;
}

// The WHERE clause of a DeadLetterSelection, bound at ?2, ?3 and ?4 (?1 is the caller's),
// and the ids it changed.
constexpr const char* kSelectionReturningIds =
    "state = 'dead' AND (?2 = 0 OR id = ?2) AND "
    "(?3 = '' OR frame_id IN (SELECT id FROM spool_frames WHERE route = ?3)) AND "
    "updated_at >= ?4 RETURNING id";

// Runs `sql` (ending in kSelectionReturningIds) in a transaction of its own, then `after` (more SQL in
// the same transaction, or null); returns the ids the statement changed.
Result<std::vector<int64_t>> change(Database& db, const std::string& sql,
                                    const DeadLetterSelection& which, int64_t now_ms,
                                    const char* after) {
  if (Status s = db.exec("BEGIN IMMEDIATE"); !s) return s;
  std::vector<int64_t> ids;
  Status status = Status::ok();
  auto stmt = db.prepare(sql.c_str());
  if (!stmt) {
    status = stmt.status();
  } else {
    stmt->bind(1, now_ms).bind(2, which.id).bind(3, which.route).bind(4, which.died_since_ms);
    while (stmt->step(status)) ids.push_back(stmt->int64(0));
    stmt->reset();
  }
  if (status && after != nullptr) status = db.exec(after);
  if (status) status = db.exec("COMMIT");
  if (!status) {
    db.exec("ROLLBACK");
    return status;
  }
  return ids;
}

}  // namespace

std::string dingtalk_id_of(std::string_view dedup_key) {
  const size_t colon = dedup_key.find(':');
  return std::string(colon == std::string_view::npos ? dedup_key : dedup_key.substr(colon + 1));
}

Result<std::vector<DeliveryRow>> read_deliveries(Database& db) {
  const std::string sql = std::string(kRowColumns) +
                          "WHERE d.state IN ('pending', 'dead') ORDER BY d.state = 'pending', d.id";
  auto stmt = db.prepare(sql.c_str());
  if (!stmt) return stmt.status();
  std::vector<DeliveryRow> rows;
  Status status = Status::ok();
  while (stmt->step(status)) rows.push_back(row_of(stmt.value()));
  if (!status) return status;
  return rows;
}

Result<std::optional<DeliveryDetail>> read_delivery(Database& db, int64_t id) {
  const std::string sql = std::string(kRowColumns) + "WHERE d.id = ?1";
  auto stmt = db.prepare(sql.c_str());
  if (!stmt) return stmt.status();
  stmt->bind(1, id);
  Status status = Status::ok();
  if (!stmt->step(status)) {
    if (!status) return status;
    return std::optional<DeliveryDetail>();
  }
  DeliveryDetail detail;
  detail.row = row_of(stmt.value());
  detail.frame_type = stmt->text(12);
  detail.body = stmt->text(13);

  auto headers = db.prepare(
      "SELECT h.key, h.value FROM spool_frames f, json_each(f.headers) h "
      "WHERE f.id = ?1 AND json_valid(f.headers)");
  if (!headers) return headers.status();
  headers->bind(1, detail.row.frame_id);
  while (headers->step(status)) detail.headers.emplace_back(headers->text(0), headers->text(1));
  if (!status) return status;

  auto history = db.prepare(
      "SELECT attempt, at, outcome, status, error FROM spool_attempts WHERE delivery_id = ?1 "
      "ORDER BY id");
  if (!history) return history.status();
  history->bind(1, id);
  while (history->step(status)) {
    detail.history.push_back({history->int64(0), history->int64(1), history->text(2),
                              history->int64(3), history->text(4)});
  }
  if (!status) return status;
  return std::optional<DeliveryDetail>(std::move(detail));
}

Result<std::vector<int64_t>> replay_dead_letters(Database& db, const DeadLetterSelection& which,
                                                 int64_t now_ms) {
  return change(db,
                std::string("UPDATE spool_deliveries SET state = 'pending', attempts = 0, "
                            "queued_at = ?1, next_attempt_at = ?1, updated_at = ?1 WHERE ") +
                    kSelectionReturningIds,
                which, now_ms, nullptr);
}

Result<std::vector<int64_t>> purge_dead_letters(Database& db, const DeadLetterSelection& which) {
  // ?1 is bound but unused here: SQLite allows gaps in numbered parameters.
  return change(db, std::string("DELETE FROM spool_deliveries WHERE ") + kSelectionReturningIds,
                which, 0,
                "DELETE FROM spool_frames WHERE NOT EXISTS (SELECT 1 FROM spool_deliveries d "
                "WHERE d.frame_id = spool_frames.id AND d.state != 'delivered')");
}

}  // namespace dsb::store
