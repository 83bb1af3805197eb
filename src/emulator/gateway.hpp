// The emulated gateway's state and rules, with no socket in sight: tickets, connections,
// pushed frames, ACKs, open calls, bot replies, access tokens. The lws glue (emulator.cpp)
// feeds it websocket events and carries out what it asks through a Transport; the HTTP
// routes (public_api.cpp, control_api.cpp) call it. One owner: the lws service thread.
#pragma once

#include "emulator/acks.hpp"
#include "emulator/frames.hpp"
#include "emulator/tickets.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace dsb::emulator {

enum class Fault {
  drop,     // TCP close, no close frame
  silence,  // stop reading (so no pongs, no ACKs seen) but keep TCP open
  close,    // normal websocket close
};

// How the gateway reaches the sockets. All calls are requests: the effect happens on a later
// lws service round, and the gateway learns of a close through Gateway::connection_closed.
class Transport {
 public:
  virtual ~Transport() = default;
  // Queues one websocket message split into `fragments` (>= 1) frames.
  virtual void send(const std::string& connection, const std::string& payload, bool binary,
                    int fragments) = 0;
  virtual void fault(const std::string& connection, Fault fault) = 0;
};

struct ConnectionRecord {
  std::string id;  // "c1", "c2", ...
  ClientInfo info;
  std::string server_id;  // the connectionId header value
  bool open = true;
  bool draining = false;  // got a SYSTEM disconnect: no more frames
  bool silenced = false;
  int64_t opened_at = 0;  // wall ms
  int64_t closed_at = 0;  // wall ms, 0 while open
  std::string close_reason;
  int64_t close_deadline = 0;  // steady ms; 0 = none
};

struct AckSummary {
  int64_t code = 0;
  std::string status;
  std::string connection;
  int64_t at = 0;  // wall ms
  int64_t latency_us = 0;  // from the push to this ACK (benchmarks read it)
};

struct PushedFrame {
  Frame frame;
  std::string connection;
  std::string client_id;  // of the connection it was pushed on: redeliveries stay with it
  int64_t at = 0;  // wall ms of the last delivery
  int64_t pushed_us = 0;  // steady µs of the last delivery, for ACK latency
  int deliveries = 1;
  std::optional<AckSummary> ack;  // of the latest delivery
};

struct AckRecord {
  std::string connection;
  int64_t at = 0;                 // wall ms
  std::optional<Ack> ack;         // set when valid
  std::string invalid;            // reason, when not
  std::string message_id;         // best effort for invalid ones
  std::string text;               // the raw frame of an invalid ACK, truncated
};

// An upstream frame that breaks the ACK shape of ack_shape.hpp (valid for parse_ack or not).
struct AckViolation {
  std::string connection;
  int64_t at = 0;  // wall ms
  std::string message_id;  // best effort
  std::vector<std::string> problems;
  std::string text;  // the raw frame, truncated
};

struct OpenRecord {
  int64_t at = 0;
  std::string client_id;
  ClientInfo info;
  std::string accept;
  std::string content_type;
  int status = 0;
  std::string error;
};

struct ReplyRecord {
  int64_t at = 0;
  std::string session;
  std::string content_type;
  std::string body;
};

// A call to one of the robot-message OpenAPIs, whatever its answer.
struct RobotMessageRecord {
  int64_t at = 0;       // wall ms
  std::string api;      // "groupMessages/send" or "oToMessages/batchSend"
  int status = 0;       // what the emulator answered
  std::string outcome;  // "sent", "invalid_token", "rate_limited", "invalid_parameter"
  std::string body;     // the request body as received
};

// A call to one of the other OpenAPIs the emulator serves (card update, user get, echo),
// whatever its answer: what the bridge's OpenAPI endpoint forwarded.
struct OpenApiCallRecord {
  int64_t at = 0;           // wall ms
  std::string method;
  std::string path;         // as served: "/v1.0/card/instances", "/oapi/topapi/v2/user/get"
  std::string query;        // as received
  std::string client_id;    // whose token it carried; "" for none or an invalid one
  std::string token_sent;   // "header", "query" or "" (where the token came)
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, lower case
  std::string body;
};

// How the next robot-message calls answer DingTalk's rate limit.
enum class RateLimitForm {
  http_429,  // HTTP 429 {"code":"Throttling.Api",...} (api.dingtalk.com's gateway)
  errcode,   // HTTP 200 {"errcode":130101,"errmsg":"send too fast"} (robot quota)
};

struct GatewayOptions {
  std::string client_id;
  std::string client_secret;
  int system_ping_interval_s = 0;
  int demo_event_interval_s = 0;
  // Further apps served at once (client id -> secret), beside client_id: each one's open
  // calls get tickets, and frames can be pushed to its connections alone.
  std::map<std::string, std::string> more_clients;

  // Whether `id` with `secret` is one of the clients served.
  bool accepts(const std::string& id, const std::string& secret) const {
    if (id == client_id) return secret == client_secret;
    auto it = more_clients.find(id);
    return it != more_clients.end() && it->second == secret;
  }
};

class Gateway {
 public:
  struct Clock {
    std::function<int64_t()> steady_ms;
    std::function<int64_t()> wall_ms;
  };

  Gateway(GatewayOptions options, Clock clock, Transport& transport);

  // "http://127.0.0.1:PORT", known once the listener is bound.
  void set_base_url(std::string base_url) { base_url_ = std::move(base_url); }
  const std::string& base_url() const { return base_url_; }
  const GatewayOptions& options() const { return options_; }

  // --- the DingTalk-facing calls -------------------------------------------------------
  struct OpenResult {
    int status;
    std::string body;
  };
  // POST /v1.0/gateway/connections/open: 400 malformed body, 401 wrong credentials, else a
  // ticket. Every call is recorded (never the secret).
  OpenResult open_connection(std::string_view body, const std::string& accept,
                             const std::string& content_type);
  OpenResult access_token(std::string_view body);
  // The sessionWebhook sink: records the reply; answers errcode 0 unless a test set
  // another with set_session_webhook_errcode().
  OpenResult session_reply(std::string session, std::string content_type, std::string body);
  // POST /v1.0/robot/{groupMessages/send, oToMessages/batchSend}: `api` is the part after
  // /v1.0/robot/. Checks the token (400 InvalidAuthentication unless one this emulator
  // issued and did not revoke), the body's fields, then the rate-limit control.
  OpenResult robot_message(const std::string& api, const std::string& token, std::string body);

  // --- test controls for the OpenAPI side --------------------------------------------
  // The next `count` robot-message calls with a valid token answer the rate limit.
  void rate_limit_robot_messages(int count, RateLimitForm form) {
    rate_limited_left_ = count;
    rate_limit_form_ = form;
  }
  // Every token issued so far stops working; the next fetch issues a new one.
  int revoke_tokens();
  void set_session_webhook_errcode(int64_t errcode) { session_errcode_ = errcode; }

  // --- websocket lifecycle (called by the lws glue) -------------------------------------
  Result<ClientInfo> spend_ticket(std::string_view ticket);
  // Returns the new connection's id.
  std::string connection_opened(ClientInfo info);
  void message_received(const std::string& connection, std::string_view text, bool binary);
  void connection_closed(const std::string& connection, std::string reason);

  // --- pushes ----------------------------------------------------------------------------
  // Picks `connection` (must be open, not draining, subscribed) or, when empty, a random
  // eligible one; of the client `client_id` only, when that is not empty. Fails with the
  // reason a test should see.
  Result<std::string> pick_connection(const std::string& connection, std::string_view type,
                                      std::string_view topic, const std::string& client_id = "");
  // Builds, sends and logs a frame. REQUIRES: connection is open.
  const PushedFrame& push(FrameSpec spec, const std::string& connection);
  // Robot CALLBACK data object gets a sessionWebhook pointing back at this emulator.
  std::string robot_data(std::string_view data_object);
  struct Ping {
    std::string message_id;
    std::string opaque;
  };
  Ping ping(const std::string& connection);
  std::string disconnect(const std::string& connection, const std::string& reason);
  void send_raw(const std::string& connection, const std::string& text, bool binary,
                int fragments);
  void fault(const std::string& connection, Fault fault);
  int redeliver();
  void reset_logs();

  // Timers: closes drained connections after 10 s, sends periodic pings and demo frames,
  // forgets old tickets. Call it a few times a second.
  void tick();

  // --- views -------------------------------------------------------------------------------
  const std::vector<ConnectionRecord>& connections() const { return connections_; }
  const ConnectionRecord* find_connection(const std::string& id) const;
  std::vector<std::string> open_connection_ids() const;
  const std::vector<PushedFrame>& frames() const { return frames_; }
  const std::vector<AckRecord>& acks() const { return acks_; }
  // Every ACK shape violation since start (reset_logs() keeps them: a test that resets
  // mid-way still answers for what came before); the first kMaxAckViolations are kept.
  uint64_t ack_violation_count() const { return ack_violation_count_; }
  const std::vector<AckViolation>& ack_violations() const { return ack_violations_; }
  const std::vector<OpenRecord>& opens() const { return opens_; }
  const std::vector<ReplyRecord>& replies() const { return replies_; }
  const std::vector<RobotMessageRecord>& robot_messages() const { return robot_messages_; }
  const std::vector<OpenApiCallRecord>& openapi_calls() const { return openapi_calls_; }
  // The client id `token` was issued to, or "" when it is not a live token of this emulator.
  std::string token_owner(const std::string& token) const;
  void record_openapi_call(OpenApiCallRecord record) { openapi_calls_.push_back(std::move(record)); }
  uint64_t token_fetches() const { return token_fetches_; }
  const std::map<std::string, uint64_t>& token_fetches_by_client() const { return token_fetches_by_client_; }
  // While down, the token API answers 503 (a DingTalk outage, for the bridge's 502).
  void set_token_api_down(bool down) { token_api_down_ = down; }
  bool token_api_down() const { return token_api_down_; }
  uint64_t tokens_issued() const { return tokens_issued_; }
  uint64_t tokens_revoked() const { return tokens_revoked_; }

  std::string random_hex(size_t chars);
  std::string uuid();

  static constexpr int64_t kDisconnectGraceMs = 10'000;
  static constexpr size_t kMaxAckViolations = 100;

 private:
  ConnectionRecord* connection(const std::string& id);
  FrameIds next_ids(const ConnectionRecord& connection);
  void demo();
  void check_ack_shape(const std::string& connection, std::string_view text, bool binary);

  GatewayOptions options_;
  Clock clock_;
  Transport& transport_;
  std::mt19937_64 rng_;
  TicketStore tickets_;
  std::string base_url_;
  std::string app_id_;
  std::string corp_id_;
  uint64_t next_connection_ = 1;
  uint64_t next_message_ = 1;
  std::vector<ConnectionRecord> connections_;
  std::vector<PushedFrame> frames_;
  std::map<std::string, size_t> frame_index_;  // messageId -> index in frames_
  std::vector<AckRecord> acks_;
  uint64_t ack_violation_count_ = 0;
  std::vector<AckViolation> ack_violations_;
  std::vector<OpenRecord> opens_;
  std::vector<ReplyRecord> replies_;
  struct IssuedToken {
    std::string token;
    int64_t expiry = 0;  // steady ms
  };
  // By client id: each app has its own token, valid until it expires or is revoked.
  std::map<std::string, IssuedToken> tokens_;
  std::vector<OpenApiCallRecord> openapi_calls_;
  uint64_t token_fetches_ = 0;  // access-token calls, whatever their answer
  std::map<std::string, uint64_t> token_fetches_by_client_;  // by appKey, as sent
  bool token_api_down_ = false;
  uint64_t tokens_issued_ = 0;
  uint64_t tokens_revoked_ = 0;
  std::vector<RobotMessageRecord> robot_messages_;
  int rate_limited_left_ = 0;
  RateLimitForm rate_limit_form_ = RateLimitForm::http_429;
  int64_t session_errcode_ = 0;
  int64_t next_ping_ = 0;     // steady ms
  int64_t next_demo_ = 0;     // steady ms
};

}  // namespace dsb::emulator
