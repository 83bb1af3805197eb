// The emulator's control API: JSON in, JSON out, on the emulator's own port. Errors are
// {"error": "..."}: 400 for a malformed body, 409 when no suitable connection is open.
// `connection` is an id such as "c1"; when omitted, one open connection is chosen at random
// among those subscribed to the frame (as DingTalk does). Times are epoch milliseconds.
// With several client ids served (emulate --client-id A --client-id B:secret), a push
// (frames, graph) may name `"clientId":"B"`: one of that client's connections takes it.
//
// POST /emulator/frames
//   {"type":"EVENT"|"CALLBACK"|"SYSTEM" (default EVENT), "topic":"...", "data":<any JSON>,
//    "headers":{...}, "eventType":"...", "eventId":"...", "connection":"c1", "clientId":"..."}
//   data: a string is sent verbatim, anything else is serialized; missing = "{}". A robot
//   CALLBACK (/v1.0/im/bot/messages/get) whose data is an object gets sessionWebhook (back to
//   this emulator) and sessionWebhookExpiredTime (now + 90 min) unless it has them.
//   Header values that are not strings are serialized. EVENT frames carry topic "*".
//   -> {"messageId":"...","eventId":"..."|null,"connection":"c1"}
// POST /emulator/graph  {"method":"GET" (default), "uri":"/path?q=1", "headers":{"name":"value"},
//   "body":"text" (default ""), "connection":"c1"}
//   an AI-skill call as DingTalk sends it: a CALLBACK on /v1.0/graph/api/invoke whose data is
//   {"requestLine":{"method","uri"},"headers":{...},"body":"..."}. uri is required; header
//   values and body must be strings (a malformed graph request is sent with /emulator/frames).
//   The ACK's data is {"response":{"statusLine","headers","body"}} (GET /emulator/acks).
//   -> {"messageId":"...","connection":"c1"}
// POST /emulator/raw  {"text":"...", "binary":false, "fragments":1, "connection":"c1"}
//   sends exactly these bytes as one message in N websocket frames. -> {"connection","bytes"}
// POST /emulator/system/ping  {"connection":"c1"}  -> {"messageId","opaque","connection"}
// POST /emulator/system/disconnect  {"connection":"c1", "reason":"..."}
//   sends the disconnect frame; the connection gets no more frames and the emulator closes it
//   10 s later unless the client closes first. -> {"messageId","connection"}
// POST /emulator/faults  {"action":"drop"|"silence"|"close", "connection":"c1" (default: all open)}
//   drop: TCP close without a close frame; silence: stop reading (no pongs, ACKs unread), TCP
//   stays open; close: normal close frame. -> {"connections":["c1",...]}
// POST /emulator/redeliver  {}  re-sends, unchanged, every EVENT/CALLBACK frame without an ACK
//   and every EVENT ACKed LATER. -> {"redelivered":N}
// POST /emulator/reset  {}  clears frames, ACKs, opens, replies, robot messages; keeps
//   connections, ACK violations and token counts. -> {"ok":true}
// GET /emulator/connections  [{"id","state":"open"|"closed","clientId","ua","localIp","subscriptions":
//   [{"type","topic"}],"openedAt","closedAt"|null,"closeReason","draining","silenced",
//   "wsPingsReceived":null}]   (lws 4.1 answers websocket pings itself and does not report them)
// GET /emulator/acks  [{"messageId","code","message","data","status","connection","at"}] and,
//   for frames that are not valid ACKs, [{"invalid":"reason","messageId","text","connection","at"}]
// GET /emulator/ack-violations  {"count":N,"violations":[{"messageId","problems":["..."],
//   "text","connection","at"}]}: upstream frames that break the ACK shape the official
//   SDKs write (ack_shape.hpp), since start (reset keeps them); the first 100 are listed.
// GET /emulator/frames  [{"messageId","type","topic","eventId","eventType","connection","at",
//   "deliveries","headers":{...},"data":"...","ack":null|{"code","status","connection","at","latencyUs"}}]
// GET /emulator/opens  [{"at","clientId","ua","localIp","subscriptions","accept","contentType",
//   "status","error"}]
// GET /emulator/replies  [{"at","session","contentType","body":"raw text","json":<parsed>|null}]
//   (a robot message whose sessionWebhook has expired: send its data with
//   "sessionWebhookExpiredTime" in the past; it is kept as given)
// POST /emulator/session-webhook  {"errcode":N}  the sessionWebhook sink answers
//   200 {"errcode":N,...} from now on (0, the default, accepts). -> {"errcode":N}
// GET /emulator/robot-messages  [{"at","api":"groupMessages/send"|"oToMessages/batchSend",
//   "status","outcome":"sent"|"invalid_token"|"rate_limited"|"invalid_parameter",
//   "body":"raw text","json":<parsed>|null}]: every robot-message OpenAPI call
// POST /emulator/robot-messages/rate-limit  {"count":N, "form":"http429"|"errcode"}
//   the next N robot-message calls with a valid token answer DingTalk's rate limit:
//   http429 (default) HTTP 429 {"code":"Throttling.Api"}, errcode HTTP 200
//   {"errcode":130101,"errmsg":"send too fast"}. -> {"count":N,"form":"..."}
// POST /emulator/tokens/revoke  {}  every access token issued so far stops working (the
//   robot-message APIs answer InvalidAuthentication); the next fetch issues a new one.
//   -> {"revoked":N}
// GET /emulator/tokens  {"fetches":N,"by_client":{ID:N},"down":B,"issued":N,"revoked":N}:
//   access-token calls (any answer; by appKey), tokens issued, tokens revoked
// POST /emulator/tokens/down  {"down":true|false}: the token API answers 503 while down
// GET /emulator/openapi-calls  [{"at","method","path","query","client_id","token_sent",
//   "status","headers","body"}]: card updates, user gets and echoes (public_api.cpp)
#include "emulator/routes.hpp"

#include "common/json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace dsb::emulator {

namespace {

using httpd::Request;
using httpd::Response;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr int kMaxFragments = 1024;

// The request body as a JSON object ("" counts as {}), or why not.
Status parse_body(const Request& req, rapidjson::Document& doc) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    doc.SetObject();
    return Status::ok();
  }
  doc.Parse(req.body.data(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::error("body is not a JSON object");
  return Status::ok();
}

std::string string_or(const rapidjson::Value& obj, const char* name, std::string fallback = {}) {
  auto v = json::string_member(obj, name);
  return v ? std::string(*v) : std::move(fallback);
}

// A JSON value as frame text: strings verbatim, everything else serialized.
std::string as_text(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : json::write(v);
}

void key(Writer& w, const char* k) { w.Key(k); }
void str(Writer& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}
void str_or_null(Writer& w, const char* k, const std::string& v) {
  if (v.empty()) {
    w.Key(k);
    w.Null();
  } else {
    str(w, k, v);
  }
}
void num(Writer& w, const char* k, int64_t v) {
  w.Key(k);
  w.Int64(v);
}

void subscriptions(Writer& w, const std::vector<Subscription>& subs) {
  key(w, "subscriptions");
  w.StartArray();
  for (const auto& s : subs) {
    w.StartObject();
    str(w, "type", s.type);
    str(w, "topic", s.topic);
    w.EndObject();
  }
  w.EndArray();
}

// Embeds already serialized JSON, or null when `text` is not JSON.
void raw_json(Writer& w, const char* k, const std::string& text) {
  key(w, k);
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    w.Null();
  } else {
    doc.Accept(w);
  }
}

Response done(rapidjson::StringBuffer& buffer) {
  return Response::json(200, std::string(buffer.GetString(), buffer.GetSize()));
}

// Every GET listing: a JSON array with one object per record, its fields written by
// `fields(w, record)`.
template <typename Records, typename Fields>
Response list_of(const Records& records, Fields fields) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& record : records) {
    w.StartObject();
    fields(w, record);
    w.EndObject();
  }
  w.EndArray();
  return done(buffer);
}

// Pushes `spec` on the named connection (or one that subscribed to it) and answers the
// ids a test waits on: {"messageId","eventId" (null for callbacks),"connection"}.
Response push_frame(Gateway& gw, const rapidjson::Document& doc, FrameSpec spec) {
  auto conn = gw.pick_connection(string_or(doc, "connection"), spec.type, spec.topic,
                                 string_or(doc, "clientId"));
  if (!conn) return Response::error(409, conn.status().message());
  const PushedFrame& pushed = gw.push(std::move(spec), conn.value());
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  str(w, "messageId", pushed.frame.message_id);
  str_or_null(w, "eventId", pushed.frame.event_id);
  str(w, "connection", pushed.connection);
  w.EndObject();
  return done(buffer);
}

Response post_frames(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  FrameSpec spec;
  spec.type = string_or(doc, "type", "EVENT");
  if (spec.type != "EVENT" && spec.type != "CALLBACK" && spec.type != "SYSTEM")
    return Response::error(400, "type must be EVENT, CALLBACK or SYSTEM");
  spec.topic = spec.type == "EVENT" ? "*" : string_or(doc, "topic");
  if (spec.topic.empty()) return Response::error(400, "topic is required for " + spec.type);
  spec.event_type = string_or(doc, "eventType");
  spec.event_id = string_or(doc, "eventId");
  if (auto it = doc.FindMember("data"); it != doc.MemberEnd()) {
    spec.data = as_text(it->value);
    if (spec.type == "CALLBACK" && spec.topic == kRobotTopic && it->value.IsObject())
      spec.data = gw.robot_data(spec.data);
  }
  if (auto it = doc.FindMember("headers"); it != doc.MemberEnd()) {
    if (!it->value.IsObject()) return Response::error(400, "headers must be an object");
    for (const auto& m : it->value.GetObject())
      spec.headers.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()),
                                as_text(m.value));
  }
  return push_frame(gw, doc, std::move(spec));
}

constexpr const char* kGraphTopic = "/v1.0/graph/api/invoke";

Response post_graph(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  auto uri = json::string_member(doc, "uri");
  if (!uri) return Response::error(400, "uri must be a string");
  auto body = doc.FindMember("body");
  if (body != doc.MemberEnd() && !body->value.IsString()) {
    return Response::error(400, "body must be a string");
  }
  rapidjson::Document data(rapidjson::kObjectType);
  auto& alloc = data.GetAllocator();
  rapidjson::Value line(rapidjson::kObjectType);
  const std::string method = string_or(doc, "method", "GET");
  line.AddMember("method", rapidjson::Value(method.c_str(), alloc), alloc);
  line.AddMember("uri", rapidjson::Value(uri->data(), static_cast<rapidjson::SizeType>(uri->size()), alloc),
                 alloc);
  data.AddMember("requestLine", line, alloc);
  rapidjson::Value headers(rapidjson::kObjectType);
  if (auto it = doc.FindMember("headers"); it != doc.MemberEnd()) {
    if (!it->value.IsObject()) return Response::error(400, "headers must be an object");
    for (const auto& m : it->value.GetObject()) {
      if (!m.value.IsString()) return Response::error(400, "header values must be strings");
      headers.AddMember(rapidjson::Value(m.name, alloc), rapidjson::Value(m.value, alloc), alloc);
    }
  }
  data.AddMember("headers", headers, alloc);
  if (body != doc.MemberEnd()) {
    data.AddMember("body", rapidjson::Value(body->value, alloc), alloc);
  } else {
    data.AddMember("body", "", alloc);
  }

  FrameSpec spec;
  spec.type = "CALLBACK";
  spec.topic = kGraphTopic;
  spec.data = json::write(data);
  return push_frame(gw, doc, std::move(spec));
}

Response post_raw(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  auto text = json::string_member(doc, "text");
  if (!text) return Response::error(400, "text must be a string");
  bool binary = false;
  if (auto it = doc.FindMember("binary"); it != doc.MemberEnd()) {
    if (!it->value.IsBool()) return Response::error(400, "binary must be a boolean");
    binary = it->value.GetBool();
  }
  int fragments = 1;
  if (auto it = doc.FindMember("fragments"); it != doc.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 1 || it->value.GetInt() > kMaxFragments)
      return Response::error(400, "fragments must be an integer from 1 to 1024");
    fragments = it->value.GetInt();
  }
  auto conn = gw.pick_connection(string_or(doc, "connection"), "SYSTEM", "raw");
  if (!conn) return Response::error(409, conn.status().message());
  gw.send_raw(conn.value(), std::string(*text), binary, fragments);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  str(w, "connection", conn.value());
  num(w, "bytes", static_cast<int64_t>(text->size()));
  w.EndObject();
  return done(buffer);
}

Response post_ping(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  auto conn = gw.pick_connection(string_or(doc, "connection"), "SYSTEM", "ping");
  if (!conn) return Response::error(409, conn.status().message());
  Gateway::Ping ping = gw.ping(conn.value());
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  str(w, "messageId", ping.message_id);
  str(w, "opaque", ping.opaque);
  str(w, "connection", conn.value());
  w.EndObject();
  return done(buffer);
}

Response post_disconnect(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  auto conn = gw.pick_connection(string_or(doc, "connection"), "SYSTEM", "disconnect");
  if (!conn) return Response::error(409, conn.status().message());
  std::string message_id =
      gw.disconnect(conn.value(), string_or(doc, "reason", "persistent connection is timeout"));
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  str(w, "messageId", message_id);
  str(w, "connection", conn.value());
  w.EndObject();
  return done(buffer);
}

Response post_faults(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  const std::string action = string_or(doc, "action");
  Fault fault;
  if (action == "drop") {
    fault = Fault::drop;
  } else if (action == "silence") {
    fault = Fault::silence;
  } else if (action == "close") {
    fault = Fault::close;
  } else {
    return Response::error(400, "action must be drop, silence or close");
  }
  std::vector<std::string> targets;
  const std::string wanted = string_or(doc, "connection");
  if (wanted.empty()) {
    targets = gw.open_connection_ids();
    if (targets.empty()) return Response::error(409, "no open connection");
  } else {
    const ConnectionRecord* c = gw.find_connection(wanted);
    if (!c) return Response::error(409, "unknown connection " + wanted);
    if (!c->open) return Response::error(409, "connection " + wanted + " is closed");
    targets.push_back(wanted);
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  key(w, "connections");
  w.StartArray();
  for (const auto& id : targets) {
    gw.fault(id, fault);
    w.String(id.c_str());
  }
  w.EndArray();
  w.EndObject();
  return done(buffer);
}

Response get_connections(const Gateway& gw) {
  return list_of(gw.connections(), [](Writer& w, const auto& c) {
    str(w, "id", c.id);
    str(w, "state", c.open ? "open" : "closed");
    str(w, "clientId", c.info.client_id);
    str(w, "ua", c.info.ua);
    str(w, "localIp", c.info.local_ip);
    subscriptions(w, c.info.subscriptions);
    num(w, "openedAt", c.opened_at);
    key(w, "closedAt");
    if (c.open) {
      w.Null();
    } else {
      w.Int64(c.closed_at);
    }
    str(w, "closeReason", c.close_reason);
    key(w, "draining");
    w.Bool(c.draining);
    key(w, "silenced");
    w.Bool(c.silenced);
    key(w, "wsPingsReceived");
    w.Null();
  });
}

Response get_acks(const Gateway& gw) {
  return list_of(gw.acks(), [](Writer& w, const auto& a) {
    str(w, "messageId", a.message_id);
    if (a.ack) {
      num(w, "code", a.ack->code);
      key(w, "message");
      if (a.ack->message) {
        w.String(a.ack->message->c_str(), static_cast<rapidjson::SizeType>(a.ack->message->size()));
      } else {
        w.Null();
      }
      key(w, "data");
      if (a.ack->data) {
        w.String(a.ack->data->c_str(), static_cast<rapidjson::SizeType>(a.ack->data->size()));
      } else {
        w.Null();
      }
      str(w, "status", a.ack->status);
    } else {
      str(w, "invalid", a.invalid);
      str(w, "text", a.text);
    }
    str(w, "connection", a.connection);
    num(w, "at", a.at);
  });
}

Response get_ack_violations(const Gateway& gw) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  num(w, "count", static_cast<int64_t>(gw.ack_violation_count()));
  key(w, "violations");
  w.StartArray();
  for (const auto& v : gw.ack_violations()) {
    w.StartObject();
    str(w, "messageId", v.message_id);
    key(w, "problems");
    w.StartArray();
    for (const auto& problem : v.problems) {
      w.String(problem.c_str(), static_cast<rapidjson::SizeType>(problem.size()));
    }
    w.EndArray();
    str(w, "text", v.text);
    str(w, "connection", v.connection);
    num(w, "at", v.at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return done(buffer);
}

Response get_frames(const Gateway& gw) {
  return list_of(gw.frames(), [](Writer& w, const auto& f) {
    str(w, "messageId", f.frame.message_id);
    str(w, "type", f.frame.type);
    str(w, "topic", f.frame.topic);
    str_or_null(w, "eventId", f.frame.event_id);
    str_or_null(w, "eventType", f.frame.event_type);
    str(w, "connection", f.connection);
    num(w, "at", f.at);
    num(w, "deliveries", f.deliveries);
    key(w, "headers");
    w.StartObject();
    for (const auto& [name, value] : f.frame.headers) str(w, name.c_str(), value);
    w.EndObject();
    str(w, "data", f.frame.data);
    key(w, "ack");
    if (f.ack) {
      w.StartObject();
      num(w, "code", f.ack->code);
      str(w, "status", f.ack->status);
      str(w, "connection", f.ack->connection);
      num(w, "latencyUs", f.ack->latency_us);
      num(w, "at", f.ack->at);
      w.EndObject();
    } else {
      w.Null();
    }
  });
}

Response get_opens(const Gateway& gw) {
  return list_of(gw.opens(), [](Writer& w, const auto& o) {
    num(w, "at", o.at);
    str(w, "clientId", o.client_id);
    str(w, "ua", o.info.ua);
    str(w, "localIp", o.info.local_ip);
    subscriptions(w, o.info.subscriptions);
    str(w, "accept", o.accept);
    str(w, "contentType", o.content_type);
    num(w, "status", o.status);
    str(w, "error", o.error);
  });
}

Response get_replies(const Gateway& gw) {
  return list_of(gw.replies(), [](Writer& w, const auto& r) {
    num(w, "at", r.at);
    str(w, "session", r.session);
    str(w, "contentType", r.content_type);
    str(w, "body", r.body);
    raw_json(w, "json", r.body);
  });
}

Response get_robot_messages(const Gateway& gw) {
  return list_of(gw.robot_messages(), [](Writer& w, const auto& m) {
    num(w, "at", m.at);
    str(w, "api", m.api);
    num(w, "status", m.status);
    str(w, "outcome", m.outcome);
    str(w, "body", m.body);
    raw_json(w, "json", m.body);
  });
}

Response get_openapi_calls(const Gateway& gw) {
  return list_of(gw.openapi_calls(), [](Writer& w, const auto& c) {
    num(w, "at", c.at);
    str(w, "method", c.method);
    str(w, "path", c.path);
    str(w, "query", c.query);
    str(w, "client_id", c.client_id);
    str(w, "token_sent", c.token_sent);
    num(w, "status", c.status);
    w.Key("headers");
    w.StartObject();
    for (const auto& [name, value] : c.headers) {
      w.Key(name.c_str());
      w.String(value.c_str());
    }
    w.EndObject();
    str(w, "body", c.body);
  });
}

Response post_rate_limit(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  auto count = doc.FindMember("count");
  if (count == doc.MemberEnd() || !count->value.IsInt() || count->value.GetInt() < 0)
    return Response::error(400, "count must be an integer >= 0");
  const std::string form = string_or(doc, "form", "http429");
  if (form != "http429" && form != "errcode")
    return Response::error(400, "form must be http429 or errcode");
  gw.rate_limit_robot_messages(count->value.GetInt(),
                               form == "errcode" ? RateLimitForm::errcode : RateLimitForm::http_429);
  return Response::json(200, "{\"count\":" + std::to_string(count->value.GetInt()) +
                                 ",\"form\":" + json::quote(form) + "}");
}

Response post_session_webhook(Gateway& gw, const Request& req) {
  rapidjson::Document doc;
  if (Status s = parse_body(req, doc); !s) return Response::error(400, s.message());
  auto errcode = doc.FindMember("errcode");
  if (errcode == doc.MemberEnd() || !errcode->value.IsInt64())
    return Response::error(400, "errcode must be an integer");
  gw.set_session_webhook_errcode(errcode->value.GetInt64());
  return Response::json(200, "{\"errcode\":" + std::to_string(errcode->value.GetInt64()) + "}");
}

Response get_tokens(const Gateway& gw) {
  std::string by_client = "{";
  for (const auto& [client_id, fetches] : gw.token_fetches_by_client()) {
    if (by_client.size() > 1) by_client += ',';
    by_client += json::quote(client_id) + ":" + std::to_string(fetches);
  }
  by_client += "}";
  return Response::json(200, "{\"fetches\":" + std::to_string(gw.token_fetches()) +
                                 ",\"by_client\":" + by_client + ",\"down\":" +
                                 (gw.token_api_down() ? "true" : "false") +
                                 ",\"issued\":" + std::to_string(gw.tokens_issued()) +
                                 ",\"revoked\":" + std::to_string(gw.tokens_revoked()) + "}");
}

}  // namespace

void add_control_routes(Gateway& gw, httpd::Router& router) {
  router.add("POST", "/emulator/frames", [&gw](const Request& r) { return post_frames(gw, r); });
  router.add("POST", "/emulator/graph", [&gw](const Request& r) { return post_graph(gw, r); });
  router.add("POST", "/emulator/raw", [&gw](const Request& r) { return post_raw(gw, r); });
  router.add("POST", "/emulator/system/ping", [&gw](const Request& r) { return post_ping(gw, r); });
  router.add("POST", "/emulator/system/disconnect",
             [&gw](const Request& r) { return post_disconnect(gw, r); });
  router.add("POST", "/emulator/faults", [&gw](const Request& r) { return post_faults(gw, r); });
  router.add("POST", "/emulator/redeliver", [&gw](const Request&) {
    return Response::json(200, "{\"redelivered\":" + std::to_string(gw.redeliver()) + "}");
  });
  router.add("POST", "/emulator/reset", [&gw](const Request&) {
    gw.reset_logs();
    return Response::json(200, "{\"ok\":true}");
  });
  router.add("GET", "/emulator/connections", [&gw](const Request&) { return get_connections(gw); });
  router.add("GET", "/emulator/acks", [&gw](const Request&) { return get_acks(gw); });
  router.add("GET", "/emulator/ack-violations",
             [&gw](const Request&) { return get_ack_violations(gw); });
  router.add("GET", "/emulator/frames", [&gw](const Request&) { return get_frames(gw); });
  router.add("GET", "/emulator/opens", [&gw](const Request&) { return get_opens(gw); });
  router.add("GET", "/emulator/replies", [&gw](const Request&) { return get_replies(gw); });
  router.add("POST", "/emulator/session-webhook",
             [&gw](const Request& r) { return post_session_webhook(gw, r); });
  router.add("GET", "/emulator/robot-messages",
             [&gw](const Request&) { return get_robot_messages(gw); });
  router.add("POST", "/emulator/robot-messages/rate-limit",
             [&gw](const Request& r) { return post_rate_limit(gw, r); });
  router.add("POST", "/emulator/tokens/revoke", [&gw](const Request&) {
    return Response::json(200, "{\"revoked\":" + std::to_string(gw.revoke_tokens()) + "}");
  });
  router.add("GET", "/emulator/tokens", [&gw](const Request&) { return get_tokens(gw); });
  router.add("POST", "/emulator/tokens/down", [&gw](const Request& r) {
    rapidjson::Document doc;
    if (Status s = parse_body(r, doc); !s) return Response::error(400, s.message());
    auto down = doc.FindMember("down");
    if (down == doc.MemberEnd() || !down->value.IsBool()) return Response::error(400, "down must be true or false");
    gw.set_token_api_down(down->value.GetBool());
    return Response::json(200, std::string("{\"down\":") + (down->value.GetBool() ? "true" : "false") + "}");
  });
  router.add("GET", "/emulator/openapi-calls", [&gw](const Request&) { return get_openapi_calls(gw); });
}

}  // namespace dsb::emulator
