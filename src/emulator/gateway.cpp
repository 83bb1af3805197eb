#include "emulator/gateway.hpp"

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "emulator/ack_shape.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>

namespace dsb::emulator {

namespace {

constexpr size_t kMaxInvalidText = 4096;
constexpr int64_t kTokenLifetimeS = 7200;
constexpr int64_t kSessionWebhookLifetimeMs = 90 * 60 * 1000;

std::string error_body(std::string_view code, std::string_view message) {
  return "{\"code\":" + json::quote(code) + ",\"message\":" + json::quote(message) + "}";
}

// Why `body` is not a valid open-connection request, or "" when it is.
std::string parse_open(std::string_view body, std::string& client_id, std::string& secret,
                       ClientInfo& info) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return "body is not a JSON object";
  auto id = json::string_member(doc, "clientId");
  auto sec = json::string_member(doc, "clientSecret");
  if (!id || !sec) return "clientId and clientSecret must be strings";
  client_id = std::string(*id);
  secret = std::string(*sec);
  if (auto ua = json::string_member(doc, "ua")) info.ua = std::string(*ua);
  if (auto ip = json::string_member(doc, "localIp")) info.local_ip = std::string(*ip);
  auto subs = doc.FindMember("subscriptions");
  if (subs == doc.MemberEnd() || !subs->value.IsArray()) return "subscriptions must be an array";
  for (const auto& s : subs->value.GetArray()) {
    auto type = json::string_member(s, "type");
    auto topic = json::string_member(s, "topic");
    if (!type || !topic) return "each subscription needs string type and topic";
    if (*type != "EVENT" && *type != "CALLBACK" && *type != "SYSTEM")
      return "unknown subscription type " + std::string(*type);
    info.subscriptions.push_back({std::string(*type), std::string(*topic)});
  }
  return {};
}

}  // namespace

Gateway::Gateway(GatewayOptions options, Clock clock, Transport& transport)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      transport_(transport),
      rng_(std::random_device{}()),
      tickets_(clock_.steady_ms, [this] { return random_hex(32); }) {
  app_id_ = uuid();
  corp_id_ = "dingemulatorcorp" + random_hex(8);
  const int64_t now = clock_.steady_ms();
  next_ping_ = now + options_.system_ping_interval_s * 1000LL;
  next_demo_ = now + options_.demo_event_interval_s * 1000LL;
}

std::string Gateway::random_hex(size_t chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(chars);
  while (out.size() < chars) {
    uint64_t bits = rng_();
    for (int i = 0; i < 16 && out.size() < chars; ++i, bits >>= 4) out += kDigits[bits & 15];
  }
  return out;
}

std::string Gateway::uuid() {
  std::string h = random_hex(32);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20);
}

Gateway::OpenResult Gateway::open_connection(std::string_view body, const std::string& accept,
                                             const std::string& content_type) {
  OpenRecord record;
  record.at = clock_.wall_ms();
  record.accept = accept;
  record.content_type = content_type;
  std::string secret;
  std::string problem = parse_open(body, record.client_id, secret, record.info);
  OpenResult result;
  if (!problem.empty()) {
    result = {400, error_body("InvalidParameter", problem)};
  } else if (!options_.accepts(record.client_id, secret)) {
    problem = "clientId or clientSecret is wrong";
    result = {401, error_body("InvalidAuthentication", problem)};
  } else {
    std::string endpoint = base_url_;
    if (endpoint.rfind("http", 0) == 0) endpoint.replace(0, 4, "ws");
    record.info.client_id = record.client_id;
    std::string ticket = tickets_.issue(record.info);
    result = {200, "{\"endpoint\":" + json::quote(endpoint + "/connect") +
                       ",\"ticket\":" + json::quote(ticket) + "}"};
  }
  record.status = result.status;
  record.error = problem;
  log::info("emulator", "open connection",
            {{"status", std::to_string(result.status)}, {"ua", record.info.ua},
             {"subscriptions", std::to_string(record.info.subscriptions.size())}});
  opens_.push_back(std::move(record));
  return result;
}

Gateway::OpenResult Gateway::access_token(std::string_view body) {
  ++token_fetches_;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  auto key = doc.HasParseError() ? std::nullopt : json::string_member(doc, "appKey");
  auto secret = doc.HasParseError() ? std::nullopt : json::string_member(doc, "appSecret");
  if (!key || !secret)
    return {400, error_body("MissingParameter", "appKey and appSecret must be strings")};
  ++token_fetches_by_client_[std::string(*key)];
  if (token_api_down_) return {503, error_body("ServiceUnavailable", "the token API is down (emulated)")};
  if (!options_.accepts(std::string(*key), std::string(*secret)))
    return {401, error_body("InvalidAuthentication", "appKey or appSecret is wrong")};
  const int64_t now = clock_.steady_ms();
  IssuedToken& issued = tokens_[std::string(*key)];
  if (issued.token.empty() || now >= issued.expiry) {
    issued.token = random_hex(32);
    issued.expiry = now + kTokenLifetimeS * 1000;
    ++tokens_issued_;
  }
  const int64_t left = std::max<int64_t>(1, (issued.expiry - now) / 1000);
  return {200, "{\"accessToken\":" + json::quote(issued.token) +
                   ",\"expireIn\":" + std::to_string(left) + "}"};
}

Gateway::OpenResult Gateway::session_reply(std::string session, std::string content_type,
                                           std::string body) {
  log::info("emulator", "session webhook reply",
            {{"session", session}, {"bytes", std::to_string(body.size())},
             {"errcode", std::to_string(session_errcode_)}});
  replies_.push_back({clock_.wall_ms(), std::move(session), std::move(content_type),
                      std::move(body)});
  if (session_errcode_ == 0) return {200, R"({"errcode":0,"errmsg":"ok"})"};
  return {200, "{\"errcode\":" + std::to_string(session_errcode_) +
                   ",\"errmsg\":\"refused by the emulator\"}"};
}

int Gateway::revoke_tokens() {
  int revoked = 0;
  for (auto& [client_id, issued] : tokens_) {
    if (!issued.token.empty()) ++revoked;
    issued.token.clear();
  }
  tokens_revoked_ += static_cast<uint64_t>(revoked);
  return revoked;
}

std::string Gateway::token_owner(const std::string& token) const {
  if (token.empty()) return {};
  const int64_t now = clock_.steady_ms();
  for (const auto& [client_id, issued] : tokens_) {
    if (issued.token == token && now < issued.expiry) return client_id;
  }
  return {};
}

namespace {

// Why `body` is not a valid robot-message request for `api`, or "" when it is.
std::string robot_message_problem(const std::string& api, std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return "body is not a JSON object";
  for (const char* name : {"robotCode", "msgKey", "msgParam"}) {
    auto value = json::string_member(doc, name);
    if (!value || value->empty()) return std::string(name) + " must be a non-empty string";
  }
  auto param = json::string_member(doc, "msgParam");
  if (param->size() > 15000) return "msgParam is longer than 15000 bytes";
  rapidjson::Document inner;
  inner.Parse(param->data(), param->size());
  if (inner.HasParseError() || !inner.IsObject()) return "msgParam is not a JSON object text";
  if (api == "groupMessages/send") {
    auto cid = json::string_member(doc, "openConversationId");
    if (!cid || cid->empty()) return "openConversationId must be a non-empty string";
  } else {
    auto ids = doc.FindMember("userIds");
    if (ids == doc.MemberEnd() || !ids->value.IsArray() || ids->value.Empty() ||
        ids->value.Size() > 20)
      return "userIds must be an array of 1 to 20 strings";
    for (const auto& id : ids->value.GetArray()) {
      if (!id.IsString() || id.GetStringLength() == 0)
        return "userIds must be an array of 1 to 20 strings";
    }
  }
  return {};
}

}  // namespace

Gateway::OpenResult Gateway::robot_message(const std::string& api, const std::string& token,
                                           std::string body) {
  RobotMessageRecord record;
  record.at = clock_.wall_ms();
  record.api = api;
  OpenResult result;
  const bool token_valid = !token_owner(token).empty();
  std::string problem;
  if (!token_valid) {
    // What api.dingtalk.com answers for a stale or unknown token: HTTP 400, not 401, with
    // the code (as seen in SDK issue reports); the bridge must read the code.
    record.outcome = "invalid_token";
    result = {400, "{\"requestid\":" + json::quote(uuid()) +
                       ",\"code\":\"InvalidAuthentication\",\"message\":\"不合法的access_token\"}"};
  } else if (problem = robot_message_problem(api, body); !problem.empty()) {
    record.outcome = "invalid_parameter";
    result = {400, error_body("InvalidParameter", problem)};
  } else if (rate_limited_left_ > 0) {
    --rate_limited_left_;
    record.outcome = "rate_limited";
    result = rate_limit_form_ == RateLimitForm::http_429
                 ? OpenResult{429, error_body("Throttling.Api",
                                              "request was denied due to api flow control")}
                 : OpenResult{200, R"({"errcode":130101,"errmsg":"send too fast"})"};
  } else {
    record.outcome = "sent";
    std::string key = json::quote(random_hex(32));
    result = api == "groupMessages/send"
                 ? OpenResult{200, "{\"processQueryKey\":" + key + "}"}
                 : OpenResult{200, "{\"processQueryKey\":" + key +
                                       ",\"invalidStaffIdList\":[],\"flowControlledStaffIdList\":[]}"};
  }
  record.status = result.status;
  record.body = std::move(body);
  log::info("emulator", "robot message",
            {{"api", api}, {"status", std::to_string(result.status)}, {"outcome", record.outcome},
             {"reason", problem}});
  robot_messages_.push_back(std::move(record));
  return result;
}

Result<ClientInfo> Gateway::spend_ticket(std::string_view ticket) {
  return tickets_.consume(ticket);
}

std::string Gateway::connection_opened(ClientInfo info) {
  ConnectionRecord c;
  c.id = "c" + std::to_string(next_connection_++);
  c.info = std::move(info);
  c.server_id = uuid();
  c.opened_at = clock_.wall_ms();
  log::info("emulator", "connection open",
            {{"connection", c.id}, {"ua", c.info.ua}, {"localIp", c.info.local_ip}});
  connections_.push_back(std::move(c));
  return connections_.back().id;
}

ConnectionRecord* Gateway::connection(const std::string& id) {
  for (auto& c : connections_)
    if (c.id == id) return &c;
  return nullptr;
}

const ConnectionRecord* Gateway::find_connection(const std::string& id) const {
  for (const auto& c : connections_)
    if (c.id == id) return &c;
  return nullptr;
}

std::vector<std::string> Gateway::open_connection_ids() const {
  std::vector<std::string> ids;
  for (const auto& c : connections_)
    if (c.open) ids.push_back(c.id);
  return ids;
}

void Gateway::check_ack_shape(const std::string& conn, std::string_view text, bool binary) {
  std::vector<std::string> problems =
      binary ? std::vector<std::string>{"binary frame"} : ack_shape_violations(text);
  if (problems.empty()) return;
  ++ack_violation_count_;
  AckViolation violation{conn, clock_.wall_ms(), binary ? std::string() : salvage_message_id(text),
                         std::move(problems), std::string(text.substr(0, kMaxInvalidText))};
  std::string summary;
  for (const auto& problem : violation.problems) summary += (summary.empty() ? "" : "; ") + problem;
  log::warn("emulator", "ack shape violation",
            {{"connection", conn}, {"messageId", violation.message_id}, {"problems", summary}});
  if (ack_violations_.size() < kMaxAckViolations) ack_violations_.push_back(std::move(violation));
}

void Gateway::message_received(const std::string& conn, std::string_view text, bool binary) {
  check_ack_shape(conn, text, binary);
  AckRecord record;
  record.connection = conn;
  record.at = clock_.wall_ms();
  Result<Ack> ack = binary ? Result<Ack>::error("binary frame") : parse_ack(text);
  if (!ack) {
    record.invalid = ack.status().message();
    record.message_id = binary ? std::string() : salvage_message_id(text);
    record.text = std::string(text.substr(0, kMaxInvalidText));
    log::warn("emulator", "invalid ack",
              {{"connection", conn}, {"reason", record.invalid}, {"messageId", record.message_id}});
    acks_.push_back(std::move(record));
    return;
  }
  record.message_id = ack->message_id;
  auto it = frame_index_.find(ack->message_id);
  if (it != frame_index_.end()) {
    PushedFrame& pushed = frames_[it->second];
    pushed.ack = AckSummary{ack->code, ack->status, conn, record.at, steady_us() - pushed.pushed_us};
  }
  log::info("emulator", "ack",
            {{"connection", conn}, {"messageId", ack->message_id},
             {"code", std::to_string(ack->code)}, {"status", ack->status},
             {"known", it != frame_index_.end() ? "true" : "false"}});
  record.ack = std::move(ack.value());
  acks_.push_back(std::move(record));
}

void Gateway::connection_closed(const std::string& conn, std::string reason) {
  ConnectionRecord* c = connection(conn);
  if (!c || !c->open) return;
  c->open = false;
  c->closed_at = clock_.wall_ms();
  c->close_deadline = 0;
  if (c->close_reason.empty()) c->close_reason = std::move(reason);
  log::info("emulator", "connection closed", {{"connection", conn}, {"reason", c->close_reason}});
}

Result<std::string> Gateway::pick_connection(const std::string& wanted, std::string_view type,
                                             std::string_view topic, const std::string& client_id) {
  const std::string what = std::string(type) + " " + std::string(topic);
  if (!wanted.empty()) {
    ConnectionRecord* c = connection(wanted);
    if (!c) return Result<std::string>::error("unknown connection " + wanted);
    if (!client_id.empty() && c->info.client_id != client_id)
      return Result<std::string>::error("connection " + wanted + " is not of client " + client_id);
    if (!c->open) return Result<std::string>::error("connection " + wanted + " is closed");
    if (c->draining)
      return Result<std::string>::error("connection " + wanted + " got a disconnect frame");
    if (!subscribed(c->info.subscriptions, type, topic))
      return Result<std::string>::error("connection " + wanted + " is not subscribed to " + what);
    return wanted;
  }
  std::vector<const ConnectionRecord*> live, eligible;
  for (const auto& c : connections_) {
    if (!c.open || c.draining) continue;
    if (!client_id.empty() && c.info.client_id != client_id) continue;
    live.push_back(&c);
    if (subscribed(c.info.subscriptions, type, topic)) eligible.push_back(&c);
  }
  if (live.empty()) {
    return Result<std::string>::error(client_id.empty() ? "no open connection"
                                                        : "no open connection of client " + client_id);
  }
  if (eligible.empty())
    return Result<std::string>::error("no open connection subscribed to " + what);
  std::uniform_int_distribution<size_t> pick(0, eligible.size() - 1);
  return eligible[pick(rng_)]->id;
}

FrameIds Gateway::next_ids(const ConnectionRecord& c) {
  FrameIds ids;
  ids.now_wall_ms = clock_.wall_ms();
  char counter[32];
  std::snprintf(counter, sizeof counter, "%llx", static_cast<unsigned long long>(next_message_++));
  ids.message_id = random_hex(8) + "_" + counter + "_" +
                   std::to_string(ids.now_wall_ms) + "_" + random_hex(4);
  ids.event_id = random_hex(30);
  ids.app_id = app_id_;
  ids.corp_id = corp_id_;
  ids.connection_id = c.server_id;
  return ids;
}

const PushedFrame& Gateway::push(FrameSpec spec, const std::string& conn) {
  ConnectionRecord* c = connection(conn);
  PushedFrame pushed;
  pushed.frame = build_frame(spec, next_ids(*c));
  pushed.connection = conn;
  pushed.client_id = c->info.client_id;
  pushed.at = clock_.wall_ms();
  pushed.pushed_us = steady_us();
  transport_.send(conn, pushed.frame.text, false, 1);
  log::info("emulator", "push",
            {{"connection", conn}, {"type", pushed.frame.type}, {"topic", pushed.frame.topic},
             {"messageId", pushed.frame.message_id}, {"eventType", pushed.frame.event_type}});
  frame_index_[pushed.frame.message_id] = frames_.size();
  frames_.push_back(std::move(pushed));
  return frames_.back();
}

std::string Gateway::robot_data(std::string_view data_object) {
  return with_session_webhook(data_object,
                              base_url_ + "/robot/sendBySession?session=" + random_hex(24),
                              clock_.wall_ms() + kSessionWebhookLifetimeMs);
}

Gateway::Ping Gateway::ping(const std::string& conn) {
  Ping p;
  p.opaque = uuid();
  FrameSpec spec;
  spec.type = "SYSTEM";
  spec.topic = "ping";
  spec.data = "{\"opaque\":" + json::quote(p.opaque) + "}";
  p.message_id = push(std::move(spec), conn).frame.message_id;
  return p;
}

std::string Gateway::disconnect(const std::string& conn, const std::string& reason) {
  FrameSpec spec;
  spec.type = "SYSTEM";
  spec.topic = "disconnect";
  spec.data = "{\"reason\":" + json::quote(reason) + "}";
  std::string message_id = push(std::move(spec), conn).frame.message_id;
  ConnectionRecord* c = connection(conn);
  c->draining = true;
  c->close_deadline = clock_.steady_ms() + kDisconnectGraceMs;
  return message_id;
}

void Gateway::send_raw(const std::string& conn, const std::string& text, bool binary,
                       int fragments) {
  log::info("emulator", "push raw",
            {{"connection", conn}, {"bytes", std::to_string(text.size())},
             {"binary", binary ? "true" : "false"}, {"fragments", std::to_string(fragments)}});
  transport_.send(conn, text, binary, fragments);
}

void Gateway::fault(const std::string& conn, Fault f) {
  ConnectionRecord* c = connection(conn);
  if (!c || !c->open) return;
  static constexpr const char* kNames[] = {"drop", "silence", "close"};
  log::info("emulator", "fault", {{"connection", conn}, {"action", kNames[static_cast<int>(f)]}});
  if (f == Fault::silence) {
    c->silenced = true;
  } else if (c->close_reason.empty()) {
    c->close_reason = f == Fault::drop ? "dropped by emulator" : "closed by emulator";
  }
  transport_.fault(conn, f);
}

int Gateway::redeliver() {
  int count = 0;
  for (auto& f : frames_) {
    if (f.frame.type != "EVENT" && f.frame.type != "CALLBACK") continue;
    const bool later = f.ack && f.frame.type == "EVENT" && f.ack->status == "LATER";
    if (f.ack && !later) continue;
    // DingTalk redelivers to the app the frame was for, on any of its connections.
    Result<std::string> conn = pick_connection("", f.frame.type, f.frame.topic, f.client_id);
    if (!conn) continue;
    transport_.send(conn.value(), f.frame.text, false, 1);
    f.connection = conn.value();
    f.at = clock_.wall_ms();
    f.pushed_us = steady_us();
    f.deliveries += 1;
    f.ack.reset();
    log::info("emulator", "redeliver",
              {{"connection", f.connection}, {"messageId", f.frame.message_id},
               {"deliveries", std::to_string(f.deliveries)}});
    ++count;
  }
  return count;
}

void Gateway::reset_logs() {
  frames_.clear();
  frame_index_.clear();
  acks_.clear();
  opens_.clear();
  replies_.clear();
  robot_messages_.clear();
  openapi_calls_.clear();
}

void Gateway::tick() {
  const int64_t now = clock_.steady_ms();
  for (auto& c : connections_) {
    if (c.open && c.close_deadline && now >= c.close_deadline) {
      c.close_deadline = 0;
      if (c.close_reason.empty()) c.close_reason = "closed by emulator 10 s after disconnect";
      transport_.fault(c.id, Fault::close);
    }
  }
  if (options_.system_ping_interval_s > 0 && now >= next_ping_) {
    next_ping_ = now + options_.system_ping_interval_s * 1000LL;
    for (const auto& id : open_connection_ids()) {
      const ConnectionRecord* c = find_connection(id);
      if (!c->draining && !c->silenced) ping(id);
    }
  }
  if (options_.demo_event_interval_s > 0 && now >= next_demo_) {
    next_demo_ = now + options_.demo_event_interval_s * 1000LL;
    demo();
  }
  tickets_.purge();
}

void Gateway::demo() {
  const std::string n = std::to_string(next_message_);
  if (auto conn = pick_connection("", "EVENT", "*")) {
    FrameSpec spec;
    spec.type = "EVENT";
    spec.event_type = "user_add_org";
    spec.data = "{\"timeStamp\":\"" + std::to_string(clock_.wall_ms()) +
                "\",\"userId\":[\"demo-user-" + n + "\"]}";
    push(std::move(spec), conn.value());
  } else {
    log::info("emulator", "demo event skipped", {{"reason", conn.status().message()}});
  }
  if (auto conn = pick_connection("", "CALLBACK", kRobotTopic)) {
    FrameSpec spec;
    spec.type = "CALLBACK";
    spec.topic = std::string(kRobotTopic);
    spec.data = robot_data(
        "{\"conversationId\":\"cidDEMO==\",\"conversationType\":\"1\",\"msgId\":\"msgDEMO" + n +
        "\",\"msgtype\":\"text\",\"text\":{\"content\":\"hello from the emulator #" + n +
        "\"},\"senderStaffId\":\"demo-user\",\"senderNick\":\"Demo User\",\"createAt\":" +
        std::to_string(clock_.wall_ms()) +
        ",\"robotCode\":\"dingemulatorrobot\",\"chatbotUserId\":\"$:LWCP_v1:$demo\","
        "\"isInAtList\":true}");
    push(std::move(spec), conn.value());
  }
}

}  // namespace dsb::emulator
