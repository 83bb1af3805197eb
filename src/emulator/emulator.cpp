// The lws side of the emulator: one context, one vhost, one protocol that serves both plain
// HTTP (through httpd::Server) and the Stream websocket, over TLS on the same port when
// Options has a certificate. Everything runs on the service thread; signals only set a flag
// and wake the loop.
#include "emulator/emulator.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "emulator/gateway.hpp"
#include "emulator/routes.hpp"
#include "httpd/server.hpp"
#include "stream/reassembler.hpp"

#include <libwebsockets.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <vector>

#include <unistd.h>

namespace dsb::emulator {

namespace {

constexpr size_t kMaxMessage = 64 << 20;           // bytes; larger client messages are cut
constexpr size_t kMaxControlBody = 64 << 20;       // raw frames for oversize tests come this way
constexpr lws_usec_t kTickUs = 200 * LWS_US_PER_MS;

volatile std::sig_atomic_t g_stop = 0;
lws_context* volatile g_context = nullptr;

void on_signal(int) {
  g_stop = 1;
  if (g_context) lws_cancel_service(g_context);  // a write(2) to lws's event pipe
}

struct OutFrame {
  std::vector<unsigned char> buf;  // LWS_PRE headroom + payload
  int flags;
};

struct WsConn {
  lws* wsi = nullptr;
  std::string id;
  std::deque<OutFrame> out;
  enum class Ending { none, close, drop } ending = Ending::none;
  bool peer_closed = false;
  stream::Reassembler rx{kMaxMessage};
};

// Per-session data of the one protocol; lws zero-fills it.
struct SessionData {
  httpd::SessionSlot http;
  WsConn* ws;
};

bool split_listen(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  long p = std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (!end || *end || p < 0 || p > 65535 || colon + 1 == listen.size()) return false;
  port = static_cast<int>(p);
  return true;
}

class Emulator;

struct Timer {
  lws_sorted_usec_list_t sul;  // first member: the callback casts back
  Emulator* owner;
};

class Emulator final : public Transport {
 public:
  explicit Emulator(const Options& options)
      : gateway_({options.client_id, options.client_secret, options.system_ping_interval_s,
                  options.demo_event_interval_s, options.more_clients},
                 {&steady_ms, &wall_ms}, *this),
        server_(make_router(), httpd::Server::Options{kMaxControlBody}) {
    std::memset(&timer_, 0, sizeof timer_);
    timer_.owner = this;
  }

  int run(const Options& options);

  void send(const std::string& connection, const std::string& payload, bool binary,
            int fragments) override;
  void fault(const std::string& connection, Fault fault) override;

 private:
  httpd::Router make_router() {
    httpd::Router router;
    add_public_routes(gateway_, router);
    add_control_routes(gateway_, router);
    return router;
  }

  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                          size_t len);
  int callback(lws* wsi, lws_callback_reasons reason, SessionData* pss, void* in, size_t len);
  int confirm_upgrade(lws* wsi);
  int writeable(WsConn& conn);
  static void on_tick(lws_sorted_usec_list_t* sul);

  Gateway gateway_;
  httpd::Server server_;
  std::map<std::string, std::unique_ptr<WsConn>> conns_;
  std::map<lws*, ClientInfo> pending_;  // upgrade accepted, websocket not yet established
  lws_context* context_ = nullptr;
  Timer timer_;
};

int Emulator::lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                           size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol ? static_cast<Emulator*>(protocol->user) : nullptr;
  if (!self) return lws_callback_http_dummy(wsi, reason, user, in, len);
  try {
    return self->callback(wsi, reason, static_cast<SessionData*>(user), in, len);
  } catch (const std::exception& e) {
    log::error("emulator", "callback failed", {{"error", e.what()}});
  } catch (...) {
    log::error("emulator", "callback failed");
  }
  return -1;
}

int Emulator::callback(lws* wsi, lws_callback_reasons reason, SessionData* pss, void* in,
                       size_t len) {
  switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return confirm_upgrade(wsi);

    case LWS_CALLBACK_ESTABLISHED: {
      auto it = pending_.find(wsi);
      if (it == pending_.end() || !pss) return -1;
      auto conn = std::make_unique<WsConn>();
      conn->wsi = wsi;
      conn->id = gateway_.connection_opened(std::move(it->second));
      pending_.erase(it);
      pss->ws = conn.get();
      conns_.emplace(conn->id, std::move(conn));
      return 0;
    }

    case LWS_CALLBACK_RECEIVE: {
      if (!pss || !pss->ws) return 0;
      WsConn& c = *pss->ws;
      switch (c.rx.feed(std::string_view(static_cast<const char*>(in), len),
                        lws_is_first_fragment(wsi) != 0,
                        lws_is_final_fragment(wsi) != 0 && !lws_remaining_packet_payload(wsi),
                        lws_frame_is_binary(wsi) != 0)) {
        case stream::Reassembler::Outcome::need_more:
          break;
        case stream::Reassembler::Outcome::complete:
          gateway_.message_received(c.id, c.rx.take(), false);
          break;
        case stream::Reassembler::Outcome::oversized:
        case stream::Reassembler::Outcome::binary:
          gateway_.message_received(c.id, "", true);  // recorded as invalid
          break;
      }
      return 0;
    }

    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (!pss || !pss->ws) return 0;
      return writeable(*pss->ws);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (pss && pss->ws) pss->ws->peer_closed = true;
      return 0;

    case LWS_CALLBACK_CLOSED: {
      if (!pss || !pss->ws) return 0;
      std::string id = pss->ws->id;
      std::string reason_text = pss->ws->peer_closed ? "closed by client" : "connection lost";
      pss->ws = nullptr;
      conns_.erase(id);
      gateway_.connection_closed(id, reason_text);
      if (pss->http.session) server_.callback(wsi, LWS_CALLBACK_CLOSED_HTTP, &pss->http, in, len);
      return 0;
    }

    case LWS_CALLBACK_CLOSED_HTTP:
      pending_.erase(wsi);
      break;

    default:
      break;
  }
  if (pss && httpd::Server::handles(reason)) return server_.callback(wsi, reason, &pss->http, in, len);
  return lws_callback_http_dummy(wsi, reason, pss, in, len);
}

int Emulator::confirm_upgrade(lws* wsi) {
  std::string path = httpd::header_value(wsi, WSI_TOKEN_GET_URI);
  if (path != "/connect") {
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "no websocket here; use /connect");
    return 1;
  }
  auto args = httpd::query_args(wsi);
  auto ticket = args.find("ticket");
  if (ticket == args.end() || ticket->second.empty()) {
    log::warn("emulator", "websocket rejected", {{"reason", "no ticket"}});
    lws_return_http_status(wsi, HTTP_STATUS_UNAUTHORIZED, "ticket missing");
    return 1;
  }
  Result<ClientInfo> info = gateway_.spend_ticket(ticket->second);
  if (!info) {
    const std::string& why = info.status().message();
    log::warn("emulator", "websocket rejected", {{"reason", why}});
    lws_return_http_status(wsi,
                           why == "unknown ticket" ? HTTP_STATUS_UNAUTHORIZED : HTTP_STATUS_FORBIDDEN,
                           why.c_str());
    return 1;
  }
  pending_[wsi] = std::move(info.value());
  return 0;
}

int Emulator::writeable(WsConn& c) {
  if (c.ending == WsConn::Ending::drop) return -1;  // no close frame: an abrupt TCP close
  if (!c.out.empty()) {
    OutFrame& f = c.out.front();
    const size_t n = f.buf.size() - LWS_PRE;
    int wrote = lws_write(c.wsi, f.buf.data() + LWS_PRE, n, static_cast<lws_write_protocol>(f.flags));
    if (wrote < static_cast<int>(n)) {
      log::warn("emulator", "websocket write failed", {{"connection", c.id}});
      return -1;
    }
    c.out.pop_front();
    if (!c.out.empty() || c.ending != WsConn::Ending::none) lws_callback_on_writable(c.wsi);
    return 0;
  }
  if (c.ending == WsConn::Ending::close) {
    static const char kReason[] = "bye";
    lws_close_reason(c.wsi, LWS_CLOSE_STATUS_NORMAL,
                     reinterpret_cast<unsigned char*>(const_cast<char*>(kReason)), sizeof kReason - 1);
    return -1;
  }
  return 0;
}

void Emulator::send(const std::string& connection, const std::string& payload, bool binary,
                    int fragments) {
  auto it = conns_.find(connection);
  if (it == conns_.end() || it->second->ending != WsConn::Ending::none) {
    log::warn("emulator", "send to a closed connection dropped", {{"connection", connection}});
    return;
  }
  WsConn& c = *it->second;
  if (fragments < 1) fragments = 1;
  const size_t parts = static_cast<size_t>(fragments);
  const size_t base = payload.size() / parts;
  size_t offset = 0;
  for (size_t i = 0; i < parts; ++i) {
    size_t n = i + 1 == parts ? payload.size() - offset : base;
    OutFrame f;
    f.buf.resize(LWS_PRE + n);
    std::memcpy(f.buf.data() + LWS_PRE, payload.data() + offset, n);
    f.flags = lws_write_ws_flags(binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, i == 0, i + 1 == parts);
    c.out.push_back(std::move(f));
    offset += n;
  }
  lws_callback_on_writable(c.wsi);
}

void Emulator::fault(const std::string& connection, Fault fault) {
  auto it = conns_.find(connection);
  if (it == conns_.end()) return;
  WsConn& c = *it->second;
  switch (fault) {
    case Fault::silence:
      lws_rx_flow_control(c.wsi, 0);
      return;
    case Fault::drop:
      c.ending = WsConn::Ending::drop;
      c.out.clear();
      break;
    case Fault::close:
      if (c.ending == WsConn::Ending::none) c.ending = WsConn::Ending::close;
      break;
  }
  lws_callback_on_writable(c.wsi);
}

void Emulator::on_tick(lws_sorted_usec_list_t* sul) {
  Emulator* self = reinterpret_cast<Timer*>(sul)->owner;
  try {
    self->gateway_.tick();
  } catch (const std::exception& e) {
    log::error("emulator", "tick failed", {{"error", e.what()}});
  }
  lws_sul_schedule(self->context_, 0, &self->timer_.sul, &Emulator::on_tick, kTickUs);
}

int Emulator::run(const Options& options) {
  std::string host;
  int port = 0;
  if (!split_listen(options.listen, host, port)) {
    log::error("emulator", "bad listen address, expected HOST:PORT", {{"listen", options.listen}});
    return 2;
  }
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    log::error("emulator", "TLS needs both a certificate and a private key (--tls-cert, --tls-key)");
    return 2;
  }
  for (const std::string* file : {&options.tls_cert, &options.tls_key}) {
    // Checked up front so the error names the file; lws would only fail the vhost.
    if (tls && access(file->c_str(), R_OK) != 0) {
      log::error("emulator", "cannot read TLS file",
                 {{"file", *file}, {"error", std::strerror(errno)}});
      return 2;
    }
  }
  lws_set_log_level(LLL_ERR, nullptr);

  lws_protocols protocols[2];
  std::memset(protocols, 0, sizeof protocols);
  protocols[0].name = "dingtalk-stream-emulator";
  protocols[0].callback = &Emulator::lws_callback;
  protocols[0].per_session_data_size = sizeof(SessionData);
  protocols[0].rx_buffer_size = 64 * 1024;
  protocols[0].user = this;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
  // Needed on the context (OpenSSL init) and again on the vhost (lws leaves a vhost without
  // it plain even when it has a certificate); the same info serves both.
  if (tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.gid = static_cast<gid_t>(-1);
  info.uid = static_cast<uid_t>(-1);
  context_ = lws_create_context(&info);
  if (!context_) {
    log::error("emulator", "lws context creation failed");
    return 1;
  }
  info.port = port;
  info.iface = host.c_str();
  info.protocols = protocols;
  info.vhost_name = "emulator";
  if (tls) {
    // One port, TLS only: HTTPS for the open call and the control API, WSS for /connect.
    info.ssl_cert_filepath = options.tls_cert.c_str();
    info.ssl_private_key_filepath = options.tls_key.c_str();
    // httpd::Server speaks HTTP/1.1 only; without this lws would offer h2 and curl take it.
    info.alpn = "http/1.1";
  }
  lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (!vhost) {
    // lws logs the reason (bind error, unusable certificate or key) just before.
    log::error("emulator", tls ? "cannot listen, or cannot use the TLS certificate and key"
                               : "cannot listen",
               {{"listen", options.listen}});
    lws_context_destroy(context_);
    return 1;
  }
  const int bound = lws_get_vhost_listen_port(vhost);
  const std::string address = host + ":" + std::to_string(bound);
  // The gateway derives the open call's endpoint from it: https -> wss://HOST:PORT/connect.
  gateway_.set_base_url((tls ? "https://" : "http://") + address);

  g_stop = 0;
  g_context = context_;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  lws_sul_schedule(context_, 0, &timer_.sul, &Emulator::on_tick, kTickUs);
  std::printf("emulator listening on %s%s\n", address.c_str(), tls ? " (tls)" : "");
  std::fflush(stdout);
  log::info("emulator", "listening",
            {{"address", address}, {"tls", tls ? "on" : "off"}, {"client_id", options.client_id},
             {"more_clients", std::to_string(options.more_clients.size())},
             {"ping_interval_s", std::to_string(options.system_ping_interval_s)},
             {"demo_interval_s", std::to_string(options.demo_event_interval_s)}});

  while (!g_stop) {
    if (lws_service(context_, 0) < 0) break;
  }
  log::info("emulator", "shutting down");
  g_context = nullptr;
  lws_context_destroy(context_);
  context_ = nullptr;
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return 0;
}

}  // namespace

int run(const Options& options) {
  try {
    auto emulator = std::make_unique<Emulator>(options);
    return emulator->run(options);
  } catch (const std::exception& e) {
    log::error("emulator", "fatal", {{"error", e.what()}});
    return 1;
  }
}

}  // namespace dsb::emulator
