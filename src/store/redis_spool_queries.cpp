#include "store/redis_spool_queries.hpp"

#include <algorithm>
#include <map>

#include "store/frame_codec.hpp"
#include "store/redis_scripts.hpp"

namespace dsb::store {
namespace {

constexpr size_t kChunk = 1'000;  // commands per pipeline

Status reply_error(const RedisReply& reply) {
  return Status::error("redis: " + reply.str);
}

std::map<std::string, std::string> as_map(const RedisReply& reply) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2)
    out[reply.elements[i].str] = reply.elements[i + 1].str;
  return out;
}

int64_t to_int(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : std::strtoll(it->second.c_str(), nullptr, 10);
}

std::string text(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

// Pipelined in chunks: one round trip per kChunk commands.
Result<std::vector<RedisReply>> run_all(RedisConnection& connection,
                                        const std::vector<RedisCommand>& commands) {
  std::vector<RedisReply> replies;
  for (size_t at = 0; at < commands.size(); at += kChunk) {
    std::vector<RedisCommand> chunk(commands.begin() + static_cast<std::ptrdiff_t>(at),
                                    commands.begin() + static_cast<std::ptrdiff_t>(std::min(at + kChunk, commands.size())));
    auto got = connection.pipeline(chunk);
    if (!got) return got.status();
    for (auto& reply : got.value()) {
      if (reply.is_error()) return reply_error(reply);
      replies.push_back(std::move(reply));
    }
  }
  return replies;
}

}  // namespace

Result<std::vector<int64_t>> RedisSpoolQueries::ids_of(const std::string& zset) {
  auto reply = connection_.command({"ZRANGE", prefix_ + zset, "0", "-1"});
  if (!reply) return reply.status();
  if (reply->is_error()) return reply_error(reply.value());
  std::vector<int64_t> ids;
  for (const RedisReply& e : reply->elements) ids.push_back(e.as_int());
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<DeliveryRow>> RedisSpoolQueries::rows(const std::vector<int64_t>& ids,
                                                         std::vector<std::string>* frame_types,
                                                         std::vector<std::string>* headers,
                                                         std::vector<std::string>* bodies) {
  std::vector<RedisCommand> commands;
  for (int64_t id : ids) commands.push_back({"HGETALL", prefix_ + "d:" + std::to_string(id)});
  auto deliveries = run_all(connection_, commands);
  if (!deliveries) return deliveries.status();
  std::vector<std::map<std::string, std::string>> fields;
  commands.clear();
  for (const RedisReply& reply : deliveries.value()) {
    fields.push_back(as_map(reply));
    commands.push_back({"HMGET", prefix_ + "f:" + text(fields.back(), "f"), "route", "dedup_key",
                        "type", "headers", "created_at", bodies ? "data" : "type"});
  }
  auto frames = run_all(connection_, commands);
  if (!frames) return frames.status();
  std::vector<DeliveryRow> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& d = fields[i];
    if (d.empty()) continue;  // delivered or purged since the id was read
    const auto& f = frames.value()[i].elements;
    DeliveryRow row;
    row.id = ids[i];
    row.frame_id = to_int(d, "f");
    row.route = text(d, "route");
    row.state = text(d, "state");
    row.url = text(d, "url");
    row.attempts = to_int(d, "attempts");
    row.updated_at_ms = to_int(d, "updated_at");
    row.next_attempt_at_ms = to_int(d, "next_at");
    row.last_error = text(d, "error");
    if (f.size() >= 6) {
      row.dingtalk_id = dingtalk_id_of(f[1].str);
      stream::Frame frame;
      parse_frame_headers(f[3].str, frame);
      row.event = std::string(frame.header(f[2].str == "EVENT" ? "eventType" : "topic"));
      row.created_at_ms = f[4].as_int();
      if (frame_types) frame_types->push_back(f[2].str);
      if (headers) headers->push_back(f[3].str);
      if (bodies) bodies->push_back(f[5].str);
    } else {
      if (frame_types) frame_types->emplace_back();
      if (headers) headers->emplace_back();
      if (bodies) bodies->emplace_back();
    }
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::vector<DeliveryRow>> RedisSpoolQueries::deliveries() {
  auto dead = ids_of("dead");
  if (!dead) return dead.status();
  auto pending = ids_of("pending");
  if (!pending) return pending.status();
  std::vector<int64_t> ids = dead.value();  // dead letters first, each group by id
  ids.insert(ids.end(), pending.value().begin(), pending.value().end());
  return rows(ids, nullptr, nullptr, nullptr);
}

Result<std::optional<DeliveryDetail>> RedisSpoolQueries::delivery(int64_t id) {
  std::vector<std::string> types, headers, bodies;
  auto found = rows({id}, &types, &headers, &bodies);
  if (!found) return found.status();
  if (found.value().empty()) return std::optional<DeliveryDetail>();
  DeliveryDetail detail;
  detail.row = std::move(found.value().front());
  detail.frame_type = types.front();
  stream::Frame frame;
  parse_frame_headers(headers.front(), frame);
  detail.headers = std::move(frame.headers);
  detail.body = bodies.front();
  auto history = connection_.command({"LRANGE", prefix_ + "h:" + std::to_string(id), "0", "-1"});
  if (!history) return history.status();
  if (history->is_error()) return reply_error(history.value());
  for (const RedisReply& entry : history->elements) {
    // attempt US at US outcome US status US error (redis_scripts.cpp, the outcome script)
    std::vector<std::string> parts;
    size_t start = 0;
    while (parts.size() < 4) {
      const size_t us = entry.str.find('\x1f', start);
      if (us == std::string::npos) break;
      parts.push_back(entry.str.substr(start, us - start));
      start = us + 1;
    }
    if (parts.size() < 4) continue;
    detail.history.push_back({std::strtoll(parts[0].c_str(), nullptr, 10),
                              std::strtoll(parts[1].c_str(), nullptr, 10), parts[2],
                              std::strtoll(parts[3].c_str(), nullptr, 10), entry.str.substr(start)});
  }
  return std::optional<DeliveryDetail>(std::move(detail));
}

Result<std::vector<int64_t>> RedisSpoolQueries::run_change(bool replay,
                                                           const DeadLetterSelection& which,
                                                           int64_t now_ms) {
  RedisCommand command = {"EVAL", redis_script_source(replay ? RedisScript::replay : RedisScript::purge),
                          "0", prefix_, std::to_string(which.id), which.route,
                          std::to_string(which.died_since_ms)};
  if (replay) command.push_back(std::to_string(now_ms));
  auto reply = connection_.command(command);
  if (!reply) return reply.status();
  if (reply->is_error()) return reply_error(reply.value());
  std::vector<int64_t> ids;
  for (const RedisReply& e : reply->elements) ids.push_back(e.as_int());
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<int64_t>> RedisSpoolQueries::replay(const DeadLetterSelection& which,
                                                       int64_t now_ms) {
  return run_change(true, which, now_ms);
}

Result<std::vector<int64_t>> RedisSpoolQueries::purge(const DeadLetterSelection& which) {
  return run_change(false, which, 0);
}

}  // namespace dsb::store
