#include "store/spool_command.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "store/database.hpp"

namespace dsb::store {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Row {
  int64_t id = 0;
  int64_t frame_id = 0;
  std::string route;
  std::string state;
  std::string url;
  int64_t attempts = 0;
  int64_t created_at = 0;
  int64_t next_attempt_at = 0;
  std::string last_error;
};

std::string human_duration(int64_t ms) {
  if (ms < 0) ms = 0;
  int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

// One line, bounded: errors may hold a webhook's body.
std::string table_text(std::string text, size_t max) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text.empty() ? "-" : text;
}

// The WHERE clause for --id / --route, bound at ?2 and ?3 (?1 is left to the caller).
constexpr const char* kSelection =
    "(?2 = 0 OR id = ?2) AND (?3 = '' OR frame_id IN (SELECT id FROM spool_frames "
    "WHERE route = ?3))";

std::string selection_text(const SpoolOptions& options) {
  if (options.id != 0) return " with id " + std::to_string(options.id);
  if (!options.route.empty()) return " of route " + options.route;
  return "";
}

Result<std::vector<Row>> read_rows(Database& db) {
  auto stmt = db.prepare(
      "SELECT d.id, d.frame_id, f.route, d.state, d.url, d.attempts, f.created_at, "
      "d.next_attempt_at, d.last_error FROM spool_deliveries d "
      "JOIN spool_frames f ON f.id = d.frame_id WHERE d.state IN ('pending', 'dead') "
      "ORDER BY d.state = 'pending', d.id");
  if (!stmt) return stmt.status();
  std::vector<Row> rows;
  Status status = Status::ok();
  while (stmt->step(status)) {
    rows.push_back({stmt->int64(0), stmt->int64(1), stmt->text(2), stmt->text(3),
                    stmt->text(4), stmt->int64(5), stmt->int64(6), stmt->int64(7),
                    stmt->text(8)});
  }
  if (!status) return status;
  return rows;
}

void print_json(const std::vector<Row>& rows, int64_t now, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& row : rows) {
    w.StartObject();
    w.Key("id"); w.Int64(row.id);
    w.Key("frame_id"); w.Int64(row.frame_id);
    w.Key("route"); w.String(row.route.c_str(), static_cast<rapidjson::SizeType>(row.route.size()));
    w.Key("state"); w.String(row.state.c_str(), static_cast<rapidjson::SizeType>(row.state.size()));
    w.Key("url"); w.String(row.url.c_str(), static_cast<rapidjson::SizeType>(row.url.size()));
    w.Key("attempts"); w.Int64(row.attempts);
    w.Key("created_at_ms"); w.Int64(row.created_at);
    w.Key("age_ms"); w.Int64(std::max<int64_t>(0, now - row.created_at));
    w.Key("next_attempt_at_ms");
    if (row.state == "pending") w.Int64(row.next_attempt_at); else w.Null();
    w.Key("last_error");
    w.String(row.last_error.c_str(), static_cast<rapidjson::SizeType>(row.last_error.size()));
    w.EndObject();
  }
  w.EndArray();
  out << buffer.GetString() << '\n';
}

void print_table(const std::vector<Row>& rows, int64_t now, std::ostream& out) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"ID", "ROUTE", "STATE", "ATTEMPTS", "AGE", "NEXT", "URL", "LAST ERROR"});
  int64_t pending = 0;
  for (const auto& row : rows) {
    const bool is_pending = row.state == "pending";
    pending += is_pending;
    cells.push_back({std::to_string(row.id), row.route, is_pending ? "pending" : "dead",
                     std::to_string(row.attempts), human_duration(now - row.created_at),
                     is_pending ? (row.next_attempt_at <= now
                                       ? "now"
                                       : "in " + human_duration(row.next_attempt_at - now))
                                : "-",
                     row.url, table_text(row.last_error, 80)});
  }
  std::vector<size_t> widths(cells.front().size(), 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    out << text << '\n';
  }
  out << pending << " pending, " << static_cast<int64_t>(rows.size()) - pending
      << " dead-lettered\n";
}

// replay or purge, in one transaction.
Result<int64_t> change_dead_letters(Database& db, const SpoolOptions& options, int64_t now) {
  if (Status s = db.exec("BEGIN IMMEDIATE"); !s) return s;
  Status status = Status::ok();
  int64_t changed = 0;
  if (options.action == SpoolAction::replay) {
    // A fresh start: attempts and the max_age clock begin again, due at once.
    std::string sql = std::string(
        "UPDATE spool_deliveries SET state = 'pending', attempts = 0, queued_at = ?1, "
        "next_attempt_at = ?1, updated_at = ?1 WHERE state = 'dead' AND ") + kSelection;
    auto stmt = db.prepare(sql.c_str());
    if (!stmt) status = stmt.status();
    else status = stmt->bind(1, now).bind(2, options.id).bind(3, options.route).run();
  } else {
    std::string sql = std::string(
        "DELETE FROM spool_deliveries WHERE state = 'dead' AND ") + kSelection;
    auto stmt = db.prepare(sql.c_str());
    if (!stmt) status = stmt.status();
    else status = stmt->bind(2, options.id).bind(3, options.route).run();
    if (status) {
      changed = db.changes();
      // Frames with nothing left to deliver go too.
      status = db.exec(
          "DELETE FROM spool_frames WHERE NOT EXISTS (SELECT 1 FROM spool_deliveries d "
          "WHERE d.frame_id = spool_frames.id AND d.state != 'delivered')");
    }
  }
  if (status && options.action == SpoolAction::replay) changed = db.changes();
  if (status) status = db.exec("COMMIT");
  if (!status) {
    db.exec("ROLLBACK");
    return status;
  }
  return changed;
}

}  // namespace

int run_spool_command(const config::Config& config, const SpoolOptions& options,
                      std::ostream& out, std::ostream& err) {
  if (options.action == SpoolAction::purge && !options.yes) {
    err << "spool purge: dead letters are dropped for good; add --yes to confirm\n";
    return kExitUsage;
  }
  const std::string path = database_path(config.state_dir);
  const int64_t now = wall_ms();
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    // The daemon has not spooled anything yet: an empty spool, not an error.
    if (options.action == SpoolAction::list) {
      if (options.json) out << "[]\n";
      else out << "no store at " << path << " yet: 0 pending, 0 dead-lettered\n";
    } else {
      out << "no store at " << path << " yet: nothing to "
          << (options.action == SpoolAction::replay ? "replay" : "purge") << '\n';
    }
    return kExitOk;
  }
  OpenOptions open;
  open.create = false;
  auto db = Database::open(path, open);
  if (!db) {
    err << "spool: " << db.status().message() << '\n';
    return kExitFailure;
  }

  if (options.action == SpoolAction::list) {
    auto rows = read_rows(*db.value());
    if (!rows) {
      err << "spool: " << path << ": " << rows.status().message() << '\n';
      return kExitFailure;
    }
    if (options.json) print_json(rows.value(), now, out);
    else print_table(rows.value(), now, out);
    return kExitOk;
  }

  auto changed = change_dead_letters(*db.value(), options, now);
  if (!changed) {
    err << "spool: " << path << ": " << changed.status().message() << '\n';
    return kExitFailure;
  }
  const char* verb = options.action == SpoolAction::replay ? "re-queued" : "purged";
  out << verb << ' ' << changed.value() << " dead-letter deliver"
      << (changed.value() == 1 ? "y" : "ies") << selection_text(options) << '\n';
  if (changed.value() == 0 && options.id != 0)
    err << "spool: no dead-letter delivery with id " << options.id << '\n';
  return kExitOk;
}

}  // namespace dsb::store
