#include "store/spool_format.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <ostream>

#include "common/clock.hpp"
#include "config/url.hpp"
#include "store/store.hpp"

namespace dsb::store {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// One table cell, bounded: errors may hold a webhook's body.
std::string cell(std::string text, size_t max) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text.empty() ? "-" : text;
}

void print_aligned(const std::vector<std::vector<std::string>>& lines, std::ostream& out) {
  std::vector<size_t> widths(lines.front().size(), 0);
  for (const auto& line : lines)
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    text.erase(text.find_last_not_of(' ') + 1);  // empty last cells leave no trailing blanks
    out << text << '\n';
  }
}

bool is_pending(const DeliveryRow& row) { return row.state == "pending"; }
bool is_dead(const DeliveryRow& row) { return row.state == "dead"; }

std::string next_attempt(const DeliveryRow& row, int64_t now_ms) {
  if (!is_pending(row)) return "-";
  if (row.next_attempt_at_ms <= now_ms) return "now";
  return "in " + human_duration(row.next_attempt_at_ms - now_ms);
}

void string_member(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void int_member(JsonWriter& w, const char* key, int64_t value) {
  w.Key(key);
  w.Int64(value);
}

// The members `spool list --json` and `spool show --json` share.
void row_members(JsonWriter& w, const DeliveryRow& row, int64_t now_ms) {
  int_member(w, "id", row.id);
  int_member(w, "frame_id", row.frame_id);
  string_member(w, "route", row.route);
  string_member(w, "state", row.state);
  string_member(w, "url", config::redact_url(row.url));
  string_member(w, "dingtalk_id", row.dingtalk_id);
  string_member(w, "event", row.event);
  int_member(w, "attempts", row.attempts);
  int_member(w, "created_at_ms", row.created_at_ms);
  int_member(w, "age_ms", std::max<int64_t>(0, now_ms - row.created_at_ms));
  w.Key("next_attempt_at_ms");
  if (is_pending(row)) w.Int64(row.next_attempt_at_ms);
  else w.Null();
  w.Key("dead_lettered_at_ms");
  if (is_dead(row)) w.Int64(row.updated_at_ms);
  else w.Null();
  string_member(w, "last_error", row.last_error);
}

}  // namespace

std::string human_duration(int64_t ms) {
  const int64_t s = std::max<int64_t>(0, ms) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

void print_list_table(const std::vector<DeliveryRow>& rows, int64_t now_ms, std::ostream& out) {
  std::vector<std::vector<std::string>> lines;
  lines.push_back({"ID", "ROUTE", "STATE", "ATTEMPTS", "AGE", "NEXT", "DINGTALK ID",
                   "EVENT/TOPIC", "URL", "LAST ERROR"});
  int64_t pending = 0;
  for (const auto& row : rows) {
    pending += is_pending(row);
    lines.push_back({std::to_string(row.id), row.route, row.state, std::to_string(row.attempts),
                     human_duration(now_ms - row.created_at_ms), next_attempt(row, now_ms),
                     cell(row.dingtalk_id, 64), cell(row.event, 64),
                     cell(config::redact_url(row.url), 200), cell(row.last_error, 80)});
  }
  print_aligned(lines, out);
  out << pending << " pending, " << static_cast<int64_t>(rows.size()) - pending
      << " dead-lettered\n";
}

void print_list_json(const std::vector<DeliveryRow>& rows, int64_t now_ms, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& row : rows) {
    w.StartObject();
    row_members(w, row, now_ms);
    w.EndObject();
  }
  w.EndArray();
  out << buffer.GetString() << '\n';
}

void print_show_text(const DeliveryDetail& detail, int64_t now_ms, std::ostream& out) {
  const DeliveryRow& row = detail.row;
  std::vector<std::vector<std::string>> fields = {
      {"delivery:", std::to_string(row.id) + " (" + row.state + ")"},
      {"route:", row.route},
      {"url:", config::redact_url(row.url)},
      {"dingtalk id:", cell(row.dingtalk_id, 200)},
      {"event/topic:", cell(row.event, 200)},
      {"frame:", detail.frame_type + " " + std::to_string(row.frame_id) + ", spooled " +
                     format_utc_ms(row.created_at_ms) + " (" +
                     human_duration(now_ms - row.created_at_ms) + " ago)"},
      {"attempts:", std::to_string(row.attempts)},
  };
  if (is_pending(row)) fields.push_back({"next attempt:", next_attempt(row, now_ms)});
  if (is_dead(row)) fields.push_back({"dead-lettered:", format_utc_ms(row.updated_at_ms)});
  fields.push_back({"last error:", cell(row.last_error, 2000)});
  print_aligned(fields, out);

  out << "\nheaders:\n";
  for (const auto& [name, value] : detail.headers) out << "  " << name << ": " << value << '\n';
  out << "\nbody:\n" << detail.body << '\n';

  out << "\nhistory (the first " << kFirstAttemptsKept << " and the last " << kLastAttemptsKept
      << " attempts are kept):\n";
  if (detail.history.empty()) {
    out << "  none recorded\n";
    return;
  }
  std::vector<std::vector<std::string>> lines = {
      {"  ATTEMPT", "TIME", "OUTCOME", "STATUS", "ERROR"}};
  int64_t previous = 0;
  for (const AttemptRow& attempt : detail.history) {
    // A gap in the numbers is the middle of a long history, dropped (a replay restarts at 1).
    if (attempt.attempt > previous + 1 && previous > 0) {
      const int64_t dropped = attempt.attempt - previous - 1;
      lines.push_back({"  ...", std::to_string(dropped) + " attempt" +
                                    (dropped == 1 ? "" : "s") + " not kept", "", "", ""});
    }
    previous = attempt.attempt;
    lines.push_back({"  " + std::to_string(attempt.attempt), format_utc_ms(attempt.at_ms),
                     attempt.outcome, attempt.status == 0 ? "-" : std::to_string(attempt.status),
                     cell(attempt.error, 200)});
  }
  print_aligned(lines, out);
}

void print_show_json(const DeliveryDetail& detail, int64_t now_ms, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  row_members(w, detail.row, now_ms);
  string_member(w, "frame_type", detail.frame_type);
  w.Key("headers");
  w.StartObject();
  for (const auto& [name, value] : detail.headers) string_member(w, name.c_str(), value);
  w.EndObject();
  string_member(w, "body", detail.body);
  w.Key("history");
  w.StartArray();
  for (const AttemptRow& attempt : detail.history) {
    w.StartObject();
    int_member(w, "attempt", attempt.attempt);
    int_member(w, "at_ms", attempt.at_ms);
    string_member(w, "outcome", attempt.outcome);
    w.Key("status");
    if (attempt.status == 0) w.Null();
    else w.Int64(attempt.status);
    string_member(w, "error", attempt.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out << buffer.GetString() << '\n';
}

void print_change_json(const std::string& action, const std::vector<int64_t>& ids,
                       std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  string_member(w, "action", action);
  int_member(w, "count", static_cast<int64_t>(ids.size()));
  w.Key("ids");
  w.StartArray();
  for (int64_t id : ids) w.Int64(id);
  w.EndArray();
  w.EndObject();
  out << buffer.GetString() << '\n';
}

}  // namespace dsb::store
