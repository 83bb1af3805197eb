// The Stream connections on the daemon's event loop: one lws vhost of our own for every slot.
//
// Threads: the loop thread owns the vhost, the slots, the connections and their write
// queues; the sink and send_ack() run on it too. The open-call worker thread owns curl; it
// hands results back through OpenCallWorker's queue and wakes the loop with
// lws_cancel_service(); we drain them in LWS_CALLBACK_EVENT_WAIT_CANCELLED.
//
// Timers (the event loop's, all on the loop thread): the tick (stop deadline, only while
// stopping), per slot the reconnect delay, per connection ping-idle, pong-timeout, silence
// watchdog and drain deadline.
#include "stream/stream_client.hpp"

#include <curl/curl.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "admin/metrics.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "loop/lws_log.hpp"
#include "stream/backoff.hpp"
#include "stream/connection.hpp"
#include "stream/endpoint.hpp"
#include "stream/local_ip.hpp"
#include "stream/open_call.hpp"
#include "stream/open_worker.hpp"
#include "stream/proxy.hpp"

namespace dsb::stream {
namespace {

// A StreamClient serves one app: its config is narrowed to it (Config::narrowed_to).
const config::App& the_app(const config::Config& config) { return config.apps.front(); }


constexpr const char* kComponent = "stream";
constexpr const char* kProtocolName = "dingtalk-stream";
constexpr int64_t kTickUs = 100'000;            // how fast the stop deadline is noticed
constexpr int64_t kDrainUs = 10'000'000;        // old connection after SYSTEM disconnect
constexpr int64_t kStopCloseUs = 2'000'000;     // wait for close handshakes on stop
constexpr int64_t kHealthyUptimeUs = 30'000'000;  // up this long: backoff resets
// dsb_ack_latency_seconds: a ping's pong takes microseconds, an event's ACK waits for its
// webhook up to limits.ack_deadline.
const std::vector<double> kAckLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t to_us(std::chrono::milliseconds ms) { return static_cast<int64_t>(ms.count()) * 1000; }

// Low-cardinality label for dsb_frames_malformed_total from parse_frame's reason.
std::string malformed_label(const std::string& reason) {
  if (reason.rfind("invalid JSON", 0) == 0 || reason == "frame is not a JSON object") {
    return "bad_json";
  }
  if (reason.find("\"data\"") != std::string::npos) return "bad_data";
  return "bad_envelope";
}

}  // namespace

enum class SlotState { waiting, opening, connecting, up };

struct Slot {
  Slot(loop::EventLoop& loop, int index_, const config::Reconnect& reconnect)
      : index(index_), backoff(reconnect.initial, reconnect.max), retry_timer(loop) {}
  int index;
  // Beyond a reloaded, smaller `connections`: its connection drains and it reconnects no
  // more. Kept in place (connections refer to slots by index) and revived if N grows again.
  bool retired = false;
  SlotState state = SlotState::waiting;
  Backoff backoff;
  ConnectionId current = 0;  // the connecting/up connection; 0 when none
  uint64_t open_token = 0;   // matches the open call in flight
  int64_t open_started_us = 0;
  Timer retry_timer;
};

struct StreamClient::Impl {
  Impl(loop::EventLoop& loop_, std::shared_ptr<const config::Config> config_, FrameSink& sink_,
       StreamClient& self_)
      : loop(loop_), config(std::move(config_)), sink(sink_), self(self_) {}

  loop::EventLoop& loop;
  std::shared_ptr<const config::Config> config;  // replaced whole on reload
  FrameSink& sink;
  StreamClient& self;

  lws_context* context = nullptr;  // the loop's
  lws_vhost* vhost = nullptr;      // ours: client connections with our proxy and CA
  std::string vhost_name;          // lws keeps the pointer
  lws_protocols protocols[2] = {};
  std::vector<std::unique_ptr<Slot>> slots;
  std::map<ConnectionId, std::unique_ptr<Connection>> conns;
  ConnectionId next_conn_id = 1;
  uint64_t next_token = 1;
  std::unique_ptr<OpenCallWorker> worker;
  std::optional<Proxy> proxy;
  std::string proxy_lws;  // keeps info.http_proxy_address alive
  std::string ca_file;

  bool stopping = false;
  bool destroying = false;  // context teardown: schedule nothing more
  bool killed_all = false;
  int64_t stop_deadline_us = 0;
  std::function<void()> on_closed;  // close_all()'s; run once every connection is gone
  Timer tick_timer{loop};

  metrics::Registry& metrics = metrics::global();
  // Every series of ours carries the app (constant per client: a reload keeps the name).
  const std::string app_name = the_app(*config).name;
  metrics::Gauge& up_gauge = metrics.gauge("dsb_connections_up", {{"app", app_name}});
  metrics::Counter& reconnects = metrics.counter("dsb_reconnects_total", {{"app", app_name}});
  std::map<std::pair<std::string, std::string>, metrics::Counter*> frame_counters;
  std::map<std::pair<int, std::string_view>, metrics::Counter*> ack_counters;
  // dsb_ack_latency_seconds by frame type, indexed by FrameType; all at zero from the start.
  metrics::Histogram* ack_latency[3] = {&ack_latency_of(FrameType::system),
                                        &ack_latency_of(FrameType::event),
                                        &ack_latency_of(FrameType::callback)};
  int64_t newest_frame_us = 0;

  // --- setup and teardown ---------------------------------------------------------------
  Status start();
  Status create_vhost();
  void release();
  void reconfigure(std::shared_ptr<const config::Config> next);
  void resize_slots();

  // --- slots ------------------------------------------------------------------------------
  void start_open(Slot& slot);
  void on_open_done(OpenCallWorker::Done& done);
  void start_websocket(Slot& slot, const std::string& endpoint, const std::string& ticket,
                       const std::string& address);
  void schedule_reconnect(Slot& slot, const std::string& reason, bool healthy);
  void on_retry_timer(Slot& slot);

  // --- connections ------------------------------------------------------------------------
  Connection* find(ConnectionId id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second.get();
  }
  void on_established(Connection& c);
  void on_receive(Connection& c, struct lws* wsi, const char* in, size_t len);
  void on_text(Connection& c, std::string text);
  void on_system(Connection& c, Frame& frame);
  void malformed(Connection& c, const std::string& label, const std::string& reason,
                 const std::string& message_id, size_t bytes);
  int on_writeable(Connection& c, struct lws* wsi);
  void on_gone(ConnectionId id, const std::string& reason);
  void begin_replacement(Connection& c, const std::string& reason);
  void request_close(Connection& c, const std::string& reason);
  void kill(Connection& c, const std::string& reason);
  // `answers`: the frame `ack` answers, when its latency is to be measured.
  void enqueue(Connection& c, const Ack& ack, WriteQueue::Priority priority,
               AnsweredFrame answers = {});
  void note_alive(Connection& c);

  // `fire` runs once after `delay_us` unless the timer is scheduled again or cancelled.
  void schedule(Timer& timer, int64_t delay_us, std::function<void()> fire) {
    if (destroying || context == nullptr) return;
    timer.schedule(std::chrono::microseconds(delay_us), std::move(fire));
  }
  void schedule_ping(Connection& c, int64_t delay_us) {
    schedule(c.ping_timer, delay_us, [this, &c] { on_ping_timer(c); });
  }
  void schedule_silence(Connection& c, int64_t delay_us) {
    schedule(c.silence_timer, delay_us, [this, &c] { on_silence_timer(c); });
  }
  void schedule_tick() { schedule(tick_timer, kTickUs, [this] { on_tick(); }); }
  void on_ping_timer(Connection& c);
  void on_pong_timer(Connection& c);
  void on_silence_timer(Connection& c);
  void on_drain_timer(Connection& c);
  void on_tick();

  // --- stop -------------------------------------------------------------------------------
  void begin_stop();
  void notify_closed_if_done();

  // --- the lws callback -------------------------------------------------------------------
  static int callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                      size_t len);
  int handle(struct lws* wsi, enum lws_callback_reasons reason, void* in, size_t len);

  void send_ack(ConnectionId id, const Ack& ack);
  metrics::Counter& frame_counter(FrameType type, std::string_view topic);
  metrics::Counter& ack_counter(const Ack& ack);
  metrics::Histogram& ack_latency_of(FrameType type) {
    return metrics.histogram("dsb_ack_latency_seconds",
                             {{"app", app_name}, {"type", std::string(frame_type_name(type))}},
                             kAckLatencyBuckets);
  }
};

// ---------------------------------------------------------------------------------------
// setup and loop

Status StreamClient::Impl::create_vhost() {
  protocols[0] = {kProtocolName, &Impl::callback, 0, 0, 0, nullptr, 0};
  protocols[1] = {nullptr, nullptr, 0, 0, 0, nullptr, 0};

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  // One vhost per app's client: a name of its own, so lws tells them apart.
  vhost_name = "dingtalk-stream-" + the_app(*config).name;
  info.vhost_name = vhost_name.c_str();
  info.user = this;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  if (!ca_file.empty()) info.client_ssl_ca_filepath = ca_file.c_str();
  if (proxy) {
    proxy_lws = proxy->lws_address();
    info.http_proxy_address = proxy_lws.c_str();
  } else if (const char* env = std::getenv("http_proxy"); env != nullptr && *env != '\0') {
    // lws would read http_proxy itself when no proxy is given; our proxy decision is
    // dingtalk.proxy / HTTPS_PROXY only. An empty address leaves the vhost without a proxy
    // (lws logs a harmless complaint about it, silenced here).
    info.http_proxy_address = "";
    lws_set_log_level(0, nullptr);
  }
  vhost = lws_create_vhost(context, &info);
  loop::route_lws_logs();
  if (vhost == nullptr) return Status::error("could not create the websocket client vhost");
  return Status::ok();
}

Status StreamClient::Impl::start() {
  context = loop.context();
  // The series an ACK LATER ratio divides, at zero before the first event.
  ack_counter(ack_event("", true));
  ack_counter(ack_event("", false));
  curl_global_init(CURL_GLOBAL_DEFAULT);

  if (proxy) {
    log::info(kComponent, "using HTTP proxy",
              {{"proxy", proxy->display()}, {"source", proxy->source}, {"app", app_name}});
  }
  ca_file = the_app(*config).dingtalk.ca_file;

  if (Status status = create_vhost(); !status) return status;

  OpenCallWorker::Settings settings;
  settings.proxy = proxy;
  settings.ca_file = ca_file;
  lws_context* ctx = context;
  worker = std::make_unique<OpenCallWorker>(std::move(settings), [ctx] { lws_cancel_service(ctx); });
  worker->start();

  resize_slots();
  return Status::ok();
}

void StreamClient::Impl::release() {
  if (worker) worker->stop();
  // Cancel every timer of ours while the context (which links them) still exists.
  destroying = true;
  tick_timer.cancel();
  for (auto& slot : slots) slot->retry_timer.cancel();
  for (auto& [id, conn] : conns) conn->cancel_timers();
}

// Makes the slots match `connections`: new ones start connecting, surplus ones drain.
void StreamClient::Impl::resize_slots() {
  const size_t wanted = static_cast<size_t>(std::max(1, the_app(*config).dingtalk.connections));
  while (slots.size() < wanted) {
    slots.push_back(std::make_unique<Slot>(loop, static_cast<int>(slots.size()),
                                           the_app(*config).dingtalk.reconnect));
    slots.back()->retired = true;  // revived below, like any retired slot
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    Slot& slot = *slots[i];
    const bool keep = i < wanted;
    if (keep && slot.retired) {
      slot.retired = false;
      start_open(slot);
    } else if (!keep && !slot.retired) {
      slot.retired = true;
      slot.retry_timer.cancel();
      slot.open_token = 0;  // an open call in flight is ignored when it returns
      slot.state = SlotState::waiting;
      if (Connection* c = find(slot.current)) {
        if (c->state == ConnState::up) {
          // No replacement will come: it closes once it owes no ACK (or at the deadline).
          begin_replacement(*c, "connections reduced");
          c->replaced = true;
          if (c->owed.empty()) request_close(*c, "connections reduced");
        } else {
          kill(*c, "connections reduced");
        }
      }
      slot.current = 0;
    }
  }
}

void StreamClient::Impl::reconfigure(std::shared_ptr<const config::Config> next) {
  const config::DingTalk& before = the_app(*config).dingtalk;
  const config::DingTalk& after = the_app(*next).dingtalk;
  const bool new_identity = before.client_id != after.client_id ||
                            before.client_secret != after.client_secret ||
                            before.api_base != after.api_base ||
                            the_app(*config).subscriptions() != the_app(*next).subscriptions();
  if (before.proxy != after.proxy || before.ca_file != after.ca_file) {
    log::warn(kComponent, "dingtalk.proxy and dingtalk.ca_file changes take effect on restart",
              {{"app", app_name}});
  }
  const bool new_pacing = before.reconnect.initial != after.reconnect.initial ||
                          before.reconnect.max != after.reconnect.max;
  config = std::move(next);
  if (stopping) return;
  for (auto& slot : slots) {
    const config::Reconnect& pacing = the_app(*config).dingtalk.reconnect;
    if (new_pacing) slot->backoff = Backoff(pacing.initial, pacing.max);
  }
  if (new_identity) {
    log::info(kComponent, "credentials, api_base or subscriptions changed: replacing connections",
              {{"app", app_name}});
    for (auto& slot : slots) {
      if (slot->retired) continue;
      Connection* c = find(slot->current);
      if (c != nullptr && c->state == ConnState::up) {
        begin_replacement(*c, "config reloaded");  // make before break
        continue;
      }
      // Not up yet: whatever is under way was made with the old config; start again.
      if (c != nullptr) kill(*c, "config reloaded");
      slot->current = 0;
      start_open(*slot);
    }
  }
  resize_slots();
}

// Runs only while stopping (begin_stop() starts it): nothing else needs a periodic look.
void StreamClient::Impl::on_tick() {
  if (!killed_all && now_us() > stop_deadline_us) {
    // Close handshakes that did not finish in time: drop the sockets.
    killed_all = true;
    for (auto& [id, conn] : conns) {
      if (conn->wsi != nullptr) lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
  }
  // Bounded even if lws never reports the last close.
  if (now_us() > stop_deadline_us + 1'000'000) {
    conns.clear();
    notify_closed_if_done();
  }
  schedule_tick();
}

void StreamClient::Impl::notify_closed_if_done() {
  if (!stopping || !conns.empty() || !on_closed) return;
  // Posted, not called: we may be deep inside an lws callback for the last connection.
  loop.post(std::move(on_closed));
  on_closed = nullptr;
}

void StreamClient::Impl::begin_stop() {
  stopping = true;
  stop_deadline_us = now_us() + kStopCloseUs;
  log::info(kComponent, "stopping: closing connections",
            {{"connections", std::to_string(conns.size())}, {"app", app_name}});
  for (auto& slot : slots) slot->retry_timer.cancel();
  schedule_tick();
  if (worker) worker->cancel();
  for (auto& [id, conn] : conns) {
    if (conn->state == ConnState::connecting) {
      kill(*conn, "shutdown");
    } else {
      request_close(*conn, "shutdown");
    }
  }
  notify_closed_if_done();
}

// ---------------------------------------------------------------------------------------
// slots

void StreamClient::Impl::start_open(Slot& slot) {
  if (stopping || slot.retired) return;
  slot.retry_timer.cancel();
  slot.state = SlotState::opening;
  slot.open_token = next_token++;
  slot.open_started_us = now_us();
  OpenRequest request;
  request.client_id = the_app(*config).dingtalk.client_id;
  request.client_secret = the_app(*config).dingtalk.client_secret;
  request.subscriptions = the_app(*config).subscriptions();
  request.ua = user_agent();
  request.local_ip = local_ipv4_addresses();
  log::debug(kComponent, "opening connection",
             {{"slot", std::to_string(slot.index)}, {"app", app_name}});
  worker->submit(OpenCallWorker::Job{slot.open_token, slot.index, open_url(the_app(*config).dingtalk.api_base),
                                     open_request_body(request), the_app(*config).dingtalk.client_secret});
}

void StreamClient::Impl::on_open_done(OpenCallWorker::Done& done) {
  if (stopping || done.slot < 0 || done.slot >= static_cast<int>(slots.size())) return;
  Slot& slot = *slots[static_cast<size_t>(done.slot)];
  if (slot.state != SlotState::opening || slot.open_token != done.token) return;
  const OpenResponse& r = done.response;
  const std::string slot_text = std::to_string(slot.index);
  switch (r.outcome) {
    case OpenOutcome::ok:
      start_websocket(slot, r.endpoint, r.ticket, r.resolved_address);
      return;
    case OpenOutcome::rejected:
      log::error(kComponent, "rejected credentials",
                 {{"slot", slot_text},
                  {"status", std::to_string(r.http_status)},
                  {"error", r.error},
                  {"client_id", the_app(*config).dingtalk.client_id}, {"app", app_name}});
      slot.backoff.jump_to_max();
      schedule_reconnect(slot, "rejected credentials", false);
      return;
    case OpenOutcome::failed:
      log::warn(kComponent, "open call failed",
                {{"slot", slot_text},
                 {"status", std::to_string(r.http_status)},
                 {"error", r.error}, {"app", app_name}});
      schedule_reconnect(slot, "open call failed", false);
      return;
  }
}

void StreamClient::Impl::start_websocket(Slot& slot, const std::string& endpoint,
                                         const std::string& ticket, const std::string& address) {
  auto target = ws_target(endpoint, ticket);
  if (!target) {
    log::warn(kComponent, "open call failed",
              {{"slot", std::to_string(slot.index)},
               {"error", "unusable endpoint " + redact_query(endpoint) + ": " +
                             target.status().message()}, {"app", app_name}});
    schedule_reconnect(slot, "bad endpoint", false);
    return;
  }
  const ConnectionId id = next_conn_id++;
  auto owned = std::make_unique<Connection>(loop, id, slot.index, config->limits.max_frame);
  Connection& c = *owned;
  c.endpoint = target->display;
  c.opened_us = slot.open_started_us;
  conns.emplace(id, std::move(owned));
  slot.current = id;
  slot.state = SlotState::connecting;

  // TLS names have no port; lws strips ":port" from the Host value before SNI and the
  // hostname check, so the Host header can carry a non-default port.
  const bool default_port = target->port == (target->tls ? 443 : 80);
  const bool v6 = target->host.find(':') != std::string::npos;
  const std::string host_header =
      default_port || v6 ? target->host : target->host + ":" + std::to_string(target->port);

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = context;
  ci.vhost = vhost;
  // A numeric address never blocks the loop in getaddrinfo(); TLS SNI and the hostname
  // check use the Host value below, not this.
  ci.address = address.empty() ? target->host.c_str() : address.c_str();
  ci.port = target->port;
  // Verified TLS only: no ALLOW_SELFSIGNED / SKIP_SERVER_CERT_HOSTNAME_CHECK, ever.
  ci.ssl_connection = target->tls ? LCCSCF_USE_SSL : 0;
  ci.path = target->path.c_str();
  ci.host = host_header.c_str();
  ci.origin = target->host.c_str();
  ci.protocol = nullptr;  // no Sec-WebSocket-Protocol header: the gateway wants none
  ci.local_protocol_name = kProtocolName;
  ci.opaque_user_data = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  ci.pwsi = &c.wsi;
  log::debug(kComponent, "connecting websocket",
             {{"conn", std::to_string(id)}, {"slot", std::to_string(slot.index)},
              {"endpoint", c.endpoint}, {"app", app_name}});
  if (lws_client_connect_via_info(&ci) == nullptr) {
    // lws may already have reported CLIENT_CONNECTION_ERROR (then on_gone ran).
    if (find(id) != nullptr) on_gone(id, "websocket connect failed");
  }
}

void StreamClient::Impl::schedule_reconnect(Slot& slot, const std::string& reason, bool healthy) {
  if (stopping || slot.retired) return;
  if (healthy) slot.backoff.reset();
  const auto delay = slot.backoff.next();
  slot.state = SlotState::waiting;
  slot.current = 0;
  reconnects.inc();
  log::info(kComponent, "reconnect scheduled",
            {{"slot", std::to_string(slot.index)},
             {"delay_ms", std::to_string(delay.count())},
             {"reason", reason}, {"app", app_name}});
  schedule(slot.retry_timer, to_us(delay), [this, &slot] { on_retry_timer(slot); });
}

void StreamClient::Impl::on_retry_timer(Slot& slot) {
  if (slot.state == SlotState::waiting) start_open(slot);
}

// ---------------------------------------------------------------------------------------
// connections

void StreamClient::Impl::on_established(Connection& c) {
  const int64_t now = now_us();
  c.state = ConnState::up;
  c.established_us = now;
  c.last_rx_us = now;
  c.last_frame_us = now;
  c.counted_up = true;
  up_gauge.add(1);
  Slot& slot = *slots[static_cast<size_t>(c.slot)];
  if (slot.current == c.id) slot.state = SlotState::up;
  log::info(kComponent, "connection registered",
            {{"conn", std::to_string(c.id)},
             {"slot", std::to_string(c.slot)},
             {"endpoint", c.endpoint},
             {"connect_ms", std::to_string((now - c.opened_us) / 1000)}, {"app", app_name}});
  schedule_ping(c, to_us(the_app(*config).dingtalk.keepalive.ping_idle));
  schedule_silence(c, to_us(the_app(*config).dingtalk.keepalive.silence_timeout));
  // Make before break: the replacement is up, so the connections it replaces may go as
  // soon as they owe no ACK (the drain timer bounds the wait).
  for (auto& [id, other] : conns) {
    if (other->slot == c.slot && other->id != c.id && other->state == ConnState::draining) {
      other->replaced = true;
      if (other->owed.empty()) request_close(*other, "replaced by conn " + std::to_string(c.id));
    }
  }
  if (stopping) request_close(c, "shutdown");
}

void StreamClient::Impl::note_alive(Connection& c) {
  c.last_rx_us = now_us();
  if (c.awaiting_pong) {
    c.awaiting_pong = false;
    c.pong_timer.cancel();
    schedule_ping(c, to_us(the_app(*config).dingtalk.keepalive.ping_idle));
  }
}

void StreamClient::Impl::on_receive(Connection& c, struct lws* wsi, const char* in, size_t len) {
  note_alive(c);
  const auto outcome = c.reassembler.feed(std::string_view(in, len), lws_is_first_fragment(wsi) != 0,
                                          lws_is_final_fragment(wsi) != 0,
                                          lws_frame_is_binary(wsi) != 0);
  switch (outcome) {
    case Reassembler::Outcome::need_more:
      return;
    case Reassembler::Outcome::complete:
      on_text(c, c.reassembler.take());
      return;
    case Reassembler::Outcome::oversized:
      c.last_frame_us = now_us();
      malformed(c, "oversized",
                "frame of " + std::to_string(c.reassembler.total_bytes()) +
                    " bytes exceeds limits.max_frame (" + std::to_string(config->limits.max_frame) + ")",
                c.reassembler.message_id(), c.reassembler.total_bytes());
      return;
    case Reassembler::Outcome::binary:
      c.last_frame_us = now_us();
      malformed(c, "binary", "binary message", {}, c.reassembler.total_bytes());
      return;
  }
}

void StreamClient::Impl::on_text(Connection& c, std::string text) {
  c.last_frame_us = now_us();
  newest_frame_us = c.last_frame_us;
  ParsedFrame parsed = parse_frame(text);
  if (!parsed.status) {
    const std::string& reason = parsed.status.message();
    malformed(c, malformed_label(reason), reason, parsed.message_id, text.size());
    return;
  }
  Frame& frame = *parsed.frame;
  c.healthy = true;
  frame_counter(frame.type, frame.topic()).inc();
  if (frame.type == FrameType::system) {
    on_system(c, frame);
    return;
  }
  if (stopping) {
    // Not taken: without an ACK DingTalk redelivers it to the next connection.
    log::debug(kComponent, "frame not taken while stopping",
               {{"conn", std::to_string(c.id)}, {"messageId", std::string(frame.message_id())},
                {"app", app_name}});
    return;
  }
  log::trace(kComponent, "frame",
             {{"conn", std::to_string(c.id)},
              {"type", std::string(frame_type_name(frame.type))},
              {"topic", std::string(frame.topic())},
              {"messageId", std::string(frame.message_id())}, {"app", app_name}});
  // Owed until the sink ACKs it: a draining connection stays open for it.
  c.owed.emplace(std::string(frame.message_id()), AnsweredFrame{c.last_frame_us, frame.type});
  sink.on_frame(c.id, std::move(frame), self);
}

void StreamClient::Impl::on_system(Connection& c, Frame& frame) {
  const std::string_view topic = frame.topic();
  if (topic == "ping") {
    // Straight to the front of the queue: never behind ACKs of business frames.
    enqueue(c, ack_system(frame), WriteQueue::Priority::urgent,
            AnsweredFrame{c.last_frame_us, FrameType::system});
    return;
  }
  if (topic == "disconnect") {
    std::string reason;
    rapidjson::Document data;
    data.Parse(frame.data.data(), frame.data.size());
    if (!data.HasParseError() && data.IsObject()) {
      if (auto r = json::string_member(data, "reason")) reason = std::string(*r);
    }
    log::info(kComponent, "disconnect requested by gateway",
              {{"conn", std::to_string(c.id)}, {"slot", std::to_string(c.slot)}, {"reason", reason},
               {"app", app_name}});
    // Harmless, and Go's SDK notes it stops the gateway from re-sending the disconnect.
    enqueue(c, ack_system(frame), WriteQueue::Priority::normal,
            AnsweredFrame{c.last_frame_us, FrameType::system});
    begin_replacement(c, "gateway disconnect");
    return;
  }
  // CONNECTED, REGISTERED, KEEPALIVE and unknown topics: liveness only, never ACKed.
  log::debug(kComponent, "system frame",
             {{"conn", std::to_string(c.id)}, {"topic", std::string(topic)}, {"app", app_name}});
}

void StreamClient::Impl::malformed(Connection& c, const std::string& label,
                                   const std::string& reason, const std::string& message_id,
                                   size_t bytes) {
  log::warn(kComponent, "malformed frame",
            {{"conn", std::to_string(c.id)},
             {"reason", reason},
             {"messageId", message_id},
             {"bytes", std::to_string(bytes)}, {"app", app_name}});
  metrics.counter("dsb_frames_malformed_total", {{"app", app_name}, {"reason", label}}).inc();
  if (!message_id.empty()) {
    enqueue(c, ack_error(message_id, 400, reason), WriteQueue::Priority::normal);
  }
}

void StreamClient::Impl::enqueue(Connection& c, const Ack& ack, WriteQueue::Priority priority,
                                 AnsweredFrame answers) {
  c.queue.push(serialize_ack(ack), priority, answers);
  ack_counter(ack).inc();
  if (c.wsi != nullptr) lws_callback_on_writable(c.wsi);
}

void StreamClient::Impl::send_ack(ConnectionId id, const Ack& ack) {
  Connection* c = find(id);
  if (c == nullptr || c->wsi == nullptr || c->state == ConnState::connecting) {
    log::warn(kComponent, "ack dropped: connection gone",
              {{"conn", std::to_string(id)}, {"messageId", ack.message_id}, {"app", app_name}});
    metrics.counter("dsb_acks_dropped_total", {{"app", app_name}}).inc();
    return;
  }
  const auto owed = c->owed.find(ack.message_id);
  enqueue(*c, ack, WriteQueue::Priority::normal,
          owed != c->owed.end() ? owed->second : AnsweredFrame{});
  if (c->owed.erase(ack.message_id) > 0 && c->owed.empty() && c->replaced &&
      c->state == ConnState::draining) {
    request_close(*c, "replaced; every ACK sent");
  }
}

int StreamClient::Impl::on_writeable(Connection& c, struct lws* wsi) {
  if (c.ping_due) {
    c.ping_due = false;
    unsigned char buf[LWS_PRE + 1];
    if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0) return -1;
    if (!c.queue.empty() || c.close_requested) lws_callback_on_writable(wsi);
    return 0;
  }
  if (!c.queue.empty()) {
    const size_t size = c.queue.front_size();
    const AnsweredFrame answers = c.queue.front_answers();
    const int n = lws_write(wsi, c.queue.front_payload(), size, LWS_WRITE_TEXT);
    c.queue.pop();
    if (n < 0) {
      c.close_reason = "write failed";
      return -1;
    }
    if (answers.arrived_us != 0) {
      ack_latency[static_cast<size_t>(answers.type)]->observe(
          static_cast<double>(now_us() - answers.arrived_us) / 1e6);
    }
    if (!c.queue.empty() || c.close_requested) lws_callback_on_writable(wsi);
    return 0;
  }
  if (c.close_requested) {
    const std::string& why = c.close_reason;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY,
                     reinterpret_cast<unsigned char*>(const_cast<char*>(why.data())),
                     std::min<size_t>(why.size(), 120));
    return -1;
  }
  return 0;
}

void StreamClient::Impl::begin_replacement(Connection& c, const std::string& reason) {
  if (c.state != ConnState::up) return;
  c.state = ConnState::draining;
  c.silence_timer.cancel();
  schedule(c.drain_timer, kDrainUs, [this, &c] { on_drain_timer(c); });
  Slot& slot = *slots[static_cast<size_t>(c.slot)];
  if (slot.current != c.id) return;
  slot.current = 0;
  if (stopping) return;
  log::info(kComponent, "replacing connection",
            {{"conn", std::to_string(c.id)}, {"slot", std::to_string(c.slot)}, {"reason", reason},
             {"app", app_name}});
  // Replacement starts at once (no backoff): the old connection still carries ACKs.
  start_open(slot);
}

void StreamClient::Impl::request_close(Connection& c, const std::string& reason) {
  if (c.state == ConnState::closing) return;
  if (c.state == ConnState::connecting) {
    kill(c, reason);
    return;
  }
  c.state = ConnState::closing;
  c.close_requested = true;
  c.close_reason = reason;
  c.cancel_timers();
  if (c.wsi != nullptr) {
    lws_callback_on_writable(c.wsi);
    // A peer that stopped reading never gives us WRITEABLE: give up after 5 s.
    lws_set_timeout(c.wsi, PENDING_TIMEOUT_USER_OK, 5);
  }
}

void StreamClient::Impl::kill(Connection& c, const std::string& reason) {
  c.state = ConnState::closing;
  c.close_reason = reason;
  c.cancel_timers();
  if (c.wsi != nullptr) lws_set_timeout(c.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void StreamClient::Impl::on_gone(ConnectionId id, const std::string& reason) {
  auto it = conns.find(id);
  if (it == conns.end()) return;
  std::unique_ptr<Connection> c = std::move(it->second);
  conns.erase(it);
  c->cancel_timers();
  c->wsi = nullptr;
  if (c->counted_up) up_gauge.add(-1);
  const bool was_up = c->established_us != 0;
  const std::string why = c->close_reason.empty() ? reason : c->close_reason;
  const int64_t now = now_us();
  if (was_up) {
    log::info(kComponent, "connection closed",
              {{"conn", std::to_string(id)},
               {"slot", std::to_string(c->slot)},
               {"reason", why},
               {"up_ms", std::to_string((now - c->established_us) / 1000)}, {"app", app_name}});
  } else {
    log::warn(kComponent, "connection failed",
              {{"conn", std::to_string(id)},
               {"slot", std::to_string(c->slot)},
               {"endpoint", c->endpoint},
               {"reason", why}, {"app", app_name}});
  }
  if (stopping) notify_closed_if_done();
  if (destroying || stopping) return;
  Slot& slot = *slots[static_cast<size_t>(c->slot)];
  if (slot.current != id) return;  // a drained connection: its replacement is under way
  const bool healthy = c->healthy || (was_up && now - c->established_us >= kHealthyUptimeUs);
  schedule_reconnect(slot, why, healthy);
}

// ---------------------------------------------------------------------------------------
// timers

void StreamClient::Impl::on_ping_timer(Connection& c) {
  if (c.state == ConnState::closing || c.wsi == nullptr || c.awaiting_pong) return;
  const auto& ka = the_app(*config).dingtalk.keepalive;
  const int64_t idle = now_us() - c.last_rx_us;
  if (idle < to_us(ka.ping_idle)) {
    schedule_ping(c, to_us(ka.ping_idle) - idle);
    return;
  }
  c.ping_due = true;
  c.awaiting_pong = true;
  lws_callback_on_writable(c.wsi);
  schedule(c.pong_timer, to_us(ka.pong_timeout), [this, &c] { on_pong_timer(c); });
}

void StreamClient::Impl::on_pong_timer(Connection& c) {
  if (!c.awaiting_pong || c.state == ConnState::closing) return;
  log::warn(kComponent, "pong timeout",
            {{"conn", std::to_string(c.id)},
             {"slot", std::to_string(c.slot)},
             {"timeout_ms", std::to_string(the_app(*config).dingtalk.keepalive.pong_timeout.count())},
             {"app", app_name}});
  // The peer is not answering, so a close handshake would only wait: drop the socket.
  kill(c, "pong timeout");
}

void StreamClient::Impl::on_silence_timer(Connection& c) {
  if (c.state != ConnState::up) return;
  const int64_t limit = to_us(the_app(*config).dingtalk.keepalive.silence_timeout);
  const int64_t silent = now_us() - c.last_frame_us;
  if (silent < limit) {
    schedule_silence(c, limit - silent);
    return;
  }
  log::warn(kComponent, "silence watchdog",
            {{"conn", std::to_string(c.id)},
             {"slot", std::to_string(c.slot)},
             {"silent_ms", std::to_string(silent / 1000)}, {"app", app_name}});
  begin_replacement(c, "silence watchdog");
}

void StreamClient::Impl::on_drain_timer(Connection& c) {
  if (c.state == ConnState::draining) request_close(c, "drain timeout");
}

// ---------------------------------------------------------------------------------------
// the lws callback

int StreamClient::Impl::callback(struct lws* wsi, enum lws_callback_reasons reason, void*,
                                 void* in, size_t len) {
  if (wsi == nullptr) return 0;
  lws_vhost* vh = lws_get_vhost(wsi);
  auto* self = vh != nullptr ? static_cast<Impl*>(lws_get_vhost_user(vh)) : nullptr;
  if (self == nullptr) return 0;
  // No exception may cross into lws (C code).
  try {
    return self->handle(wsi, reason, in, len);
  } catch (const std::exception& e) {
    log::error(kComponent, "internal error in websocket callback", {{"error", e.what()}});
  } catch (...) {
    log::error(kComponent, "internal error in websocket callback");
  }
  // A connection whose handling failed is closed; the loop itself carries on.
  return reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED ? 0 : -1;
}

int StreamClient::Impl::handle(struct lws* wsi, enum lws_callback_reasons reason, void* in,
                               size_t len) {
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
    if (worker) {
      for (auto& done : worker->drain()) on_open_done(done);
    }
    return 0;
  }

  const auto id = static_cast<ConnectionId>(reinterpret_cast<uintptr_t>(lws_get_opaque_user_data(wsi)));
  if (id == 0) return 0;  // not one of our connections
  Connection* c = find(id);

  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string why = "connect failed";
      if (in != nullptr) why += std::string(": ") + static_cast<const char*>(in);
      // lws 4.1 reports a failed certificate check only as "connect SSL err 1:
      // error:00000001:lib(0)::reason(1)"; OpenSSL's verify result on the still-open TLS
      // session names the problem (untrusted issuer, host name mismatch, expiry, ...).
      if (SSL* ssl = lws_get_ssl(wsi); ssl != nullptr) {
        if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
          why += std::string(" (certificate verify failed: ") +
                 X509_verify_cert_error_string(verify) + ")";
        }
      }
      loop::redact_ticket(why);
      on_gone(id, why);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (c == nullptr || c->state == ConnState::closing) return -1;
      c->wsi = wsi;
      on_established(*c);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (c == nullptr) return -1;
      on_receive(*c, wsi, static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
      if (c != nullptr) note_alive(*c);
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      if (c == nullptr) return -1;
      return on_writeable(*c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (c != nullptr && c->close_reason.empty()) {
        const auto* p = static_cast<const unsigned char*>(in);
        std::string why = "closed by gateway";
        if (p != nullptr && len >= 2) {
          why += " (code " + std::to_string((p[0] << 8) | p[1]);
          if (len > 2) why += ", " + std::string(reinterpret_cast<const char*>(p + 2), len - 2);
          why += ")";
        }
        c->close_reason = why;
      }
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      on_gone(id, "connection lost");
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      on_gone(id, "connection lost");
      return 0;
    default:
      return 0;
  }
}

metrics::Counter& StreamClient::Impl::frame_counter(FrameType type, std::string_view topic) {
  auto key = std::make_pair(std::string(frame_type_name(type)), std::string(topic));
  auto it = frame_counters.find(key);
  if (it == frame_counters.end()) {
    metrics::Counter& counter =
        metrics.counter("dsb_frames_total", {{"app", app_name}, {"type", key.first}, {"topic", key.second}});
    it = frame_counters.emplace(std::move(key), &counter).first;
  }
  return *it->second;
}

metrics::Counter& StreamClient::Impl::ack_counter(const Ack& ack) {
  const auto key = std::make_pair(ack.code, ack_status(ack));
  auto it = ack_counters.find(key);
  if (it == ack_counters.end()) {
    metrics::Counter& counter = metrics.counter(
        "dsb_acks_total",
        {{"app", app_name}, {"code", std::to_string(key.first)}, {"status", std::string(key.second)}});
    it = ack_counters.emplace(key, &counter).first;
  }
  return *it->second;
}

// ---------------------------------------------------------------------------------------
// public API

StreamClient::StreamClient(loop::EventLoop& loop, std::shared_ptr<const config::Config> config,
                           FrameSink& sink)
    : impl_(std::make_unique<Impl>(loop, std::move(config), sink, *this)) {}

StreamClient::~StreamClient() = default;

Status StreamClient::start(std::optional<Proxy> proxy) {
  impl_->proxy = std::move(proxy);
  return impl_->start();
}

void StreamClient::reconfigure(std::shared_ptr<const config::Config> config) {
  impl_->reconfigure(std::move(config));
}

void StreamClient::close_all(std::function<void()> on_closed) {
  impl_->on_closed = std::move(on_closed);
  if (!impl_->stopping) {
    impl_->begin_stop();
  } else {
    impl_->notify_closed_if_done();
  }
}

void StreamClient::release() { impl_->release(); }

int64_t StreamClient::newest_frame_us() const { return impl_->newest_frame_us; }

int StreamClient::connections_up() const {
  int up = 0;
  for (const auto& [id, conn] : impl_->conns) up += conn->state == ConnState::up ? 1 : 0;
  return up;
}

void StreamClient::send_ack(ConnectionId conn, const Ack& ack) { impl_->send_ack(conn, ack); }

}  // namespace dsb::stream
