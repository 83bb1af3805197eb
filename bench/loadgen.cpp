// dsb-loadgen: plays DingTalk's gateway for the benchmark, in C++ so that it is not the
// bottleneck (the Python bench injected through the emulator's HTTP control API and topped
// out near 1,500 events/s).
//
// It serves the open-connection API (POST /v1.0/gateway/connections/open, through httpd::
// Server) and the Stream websocket (/connect?ticket=...) on one lws vhost, pushes EVENT
// frames (built by the emulator's build_frame) over the newest open connection, and times
// each frame from its lws_write to its ACK's arrival on the steady clock (µs).
//
//   dsb-loadgen [--listen 127.0.0.1:0] [--phase SPEC]... [--self-ack] [--payload-bytes N]
//
// A phase SPEC is comma- or space-separated key=value pairs:
//   name=STR     label echoed in the result
//   rate=R       events/s on a fixed schedule; 0 (default) = flat out
//   count=N      events to push (default rate*seconds, or 10000 flat out)
//   seconds=S    with rate: how long to push
//   window=W     flat out: at most W frames pushed and not yet ACKed (default 1000; 0 = none).
//                DingTalk redelivers after 3 s and the bridge ACKs LATER past ack_deadline,
//                so an unbounded flood measures queueing, not capacity.
//   drain=S      after the last push, wait at most S seconds for the missing ACKs (default 30)
//   dispatch=D   newest (default): every frame on the newest open connection; random: each
//                frame on an open connection picked at random, as DingTalk spreads an app's
//                pushes over all its connections (bench/run.py's two-replica session)
//   repeat=K     after every K events, push the first of those K again: same eventId, new
//                messageId, as DingTalk's redelivery (0 = none). With random dispatch about
//                half the repeats reach the other replica; a bridge that POSTs one again
//                shows as a duplicate at the stub webhook.
// With no --phase, phases are read from stdin, one per line, run in order; EOF ends the run
// (bench/run.py drives it that way, sampling the bridge's /proc between phases).
//
// stdout: "loadgen listening on HOST:PORT", "loadgen connected ID" per websocket, then one
// JSON object per phase on a line of its own. Diagnostics go to stderr.
//
// --self-ack: an in-process trivial peer on a second thread (its own lws client context)
// connects straight to /connect and ACKs every frame SUCCESS at once. Running the same phases
// against it gives the load generator's own ceiling: push loop + ACK parsing + a peer that
// does nothing, on the other core, like the bridge would be.
#include "common/clock.hpp"
#include "emulator/acks.hpp"
#include "emulator/frames.hpp"
#include "httpd/server.hpp"
#include "stream/reassembler.hpp"

#include <libwebsockets.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using dsb::steady_us;

constexpr size_t kMaxMessage = 1 << 20;  // bytes; ACKs are ~150
constexpr int64_t kConnectWaitUs = 60'000'000;
constexpr int64_t kGapUs = 200'000;  // between phases, so the previous one's tail settles
// Every event names one of this many conversations (data.conversationId) and one robot
// (data.robotCode), so the benchmark can run a route with `match` and `order_by` on them.
constexpr int64_t kConversations = 200;

volatile std::sig_atomic_t g_stop = 0;
lws_context* volatile g_context = nullptr;

void on_signal(int) {
  g_stop = 1;
  if (g_context) lws_cancel_service(g_context);
}

struct PhaseSpec {
  std::string name;
  double rate = 0;      // events/s; 0 = flat out
  int64_t count = 0;    // 0 = derived
  double seconds = 0;
  int64_t window = 1000;
  double drain_s = 30;
  bool random_dispatch = false;
  int64_t repeat_every = 0;  // K of repeat=K; 0 = no repeats

  // Frames pushed: every event once, plus one repeat per full group of K.
  int64_t frames() const { return count + (repeat_every > 0 ? count / repeat_every : 0); }
  // Frame f's event and whether it is a repeat. Frames come in groups of K events followed
  // by the repeat of the group's first event; the last, partial group has no repeat.
  std::pair<int64_t, bool> event_of(int64_t f) const {
    if (repeat_every <= 0) return {f, false};
    const int64_t group = repeat_every + 1;
    const int64_t full = count / repeat_every * group;
    if (f >= full) return {count / repeat_every * repeat_every + (f - full), false};
    const int64_t q = f / group, r = f % group;
    return r < repeat_every ? std::pair<int64_t, bool>{q * repeat_every + r, false}
                            : std::pair<int64_t, bool>{q * repeat_every, true};
  }
};

std::optional<PhaseSpec> parse_phase(std::string text, std::string& error) {
  for (char& c : text)
    if (c == ',') c = ' ';
  std::istringstream in(text);
  PhaseSpec p;
  std::string item;
  bool any = false;
  while (in >> item) {
    any = true;
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      error = "expected key=value, got '" + item + "'";
      return std::nullopt;
    }
    std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    char* end = nullptr;
    double num = std::strtod(v.c_str(), &end);
    const bool numeric = end && *end == '\0' && !v.empty() && num >= 0;
    if (k == "name") {
      p.name = v;
    } else if (k == "dispatch") {
      if (v != "random" && v != "newest") {
        error = "dispatch is random or newest, not '" + v + "'";
        return std::nullopt;
      }
      p.random_dispatch = v == "random";
    } else if (!numeric) {
      error = "bad value for " + k + ": '" + v + "'";
      return std::nullopt;
    } else if (k == "rate") {
      p.rate = num;
    } else if (k == "count") {
      p.count = static_cast<int64_t>(num);
    } else if (k == "seconds") {
      p.seconds = num;
    } else if (k == "window") {
      p.window = static_cast<int64_t>(num);
    } else if (k == "drain") {
      p.drain_s = num;
    } else if (k == "repeat") {
      p.repeat_every = static_cast<int64_t>(num);
    } else {
      error = "unknown key '" + k + "'";
      return std::nullopt;
    }
  }
  if (!any) {
    error = "empty phase";
    return std::nullopt;
  }
  if (p.count == 0) p.count = p.rate > 0 ? static_cast<int64_t>(p.rate * p.seconds) : 10000;
  if (p.count <= 0) {
    error = "phase pushes nothing (rate with seconds, or count)";
    return std::nullopt;
  }
  if (p.rate > 0) p.window = 0;  // a schedule is a schedule: lateness shows as latency
  return p;
}

// Phases from --phase or stdin. The stdin reader thread only touches this.
class PhaseQueue {
 public:
  void push(PhaseSpec p) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(std::move(p));
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  // A phase, or nullopt; `done` is set when none will ever come.
  std::optional<PhaseSpec> pop(bool& done) {
    std::lock_guard<std::mutex> lock(mu_);
    done = q_.empty() && closed_;
    if (q_.empty()) return std::nullopt;
    PhaseSpec p = std::move(q_.front());
    q_.pop_front();
    return p;
  }

 private:
  std::mutex mu_;
  std::deque<PhaseSpec> q_;
  bool closed_ = false;
};

std::string random_hex(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (char& c : s) c = kHex[rng() & 15];
  return s;
}

std::string fmt_num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Nearest rank on a sorted vector.
int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// One phase's bookkeeping. Frame i has messageId "<prefix><i>".
struct Phase {
  PhaseSpec spec;
  int index = 0;
  std::string prefix;   // "lg<run>-<phase>-"
  int64_t next = 0;     // frames pushed
  int64_t acked = 0;    // distinct frames ACKed
  int64_t start_us = 0;
  int64_t last_push_us = 0;
  std::vector<int64_t> pushed_us;
  std::vector<int64_t> acked_us;   // 0 = not yet
  std::vector<int64_t> lag_us;     // rate mode: push time - scheduled time
  std::map<std::string, int64_t> statuses;  // ACK data.status (or "code=N" when not 200)
  int64_t duplicate_acks = 0;
  int64_t disconnects = 0;
  int64_t write_failures = 0;
  int64_t repeats = 0;  // frames pushed again as a redelivery (repeat=K)
  std::map<std::string, int64_t> by_connection;  // frames pushed per connection id

  int64_t due_us(int64_t i) const {
    return spec.rate > 0 ? start_us + static_cast<int64_t>(static_cast<double>(i) * 1e6 / spec.rate)
                         : start_us;
  }
  bool all_pushed() const { return next >= spec.frames(); }
  bool window_open() const { return spec.window <= 0 || next - acked < spec.window; }
};

struct WsConn {
  lws* wsi = nullptr;
  std::string id;
  dsb::stream::Reassembler rx{kMaxMessage};
};

struct SessionData {
  dsb::httpd::SessionSlot http;
  WsConn* ws;
};

// Wakes the lws loop (lws_cancel_service) when the next scheduled frame is due, and every
// kPollUs regardless so the loop can look at the phase queue and the drain deadline. Not an
// lws_sul timer: lws 4.1 turns the next timer into a poll() timeout in whole ms rounded down,
// so the last sub-ms of every timer wait is spent polling with timeout 0, a busy loop that
// would take a core from the bridge (seen: 1 ms of CPU per event at 1,000/s).
class Ticker {
 public:
  static constexpr int64_t kPollUs = 50'000;
  void start(lws_context* context) {
    context_ = context;
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  // Wake the loop at `due_us` (steady µs).
  void arm(int64_t due_us) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      due_ = due_us;
    }
    cv_.notify_one();
  }

 private:
  void run();
  lws_context* context_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t due_ = 0;
  bool stop_ = false;
};

class LoadGen {
 public:
  LoadGen(PhaseQueue& phases, size_t payload_bytes)
      : phases_(phases), server_(make_router()), run_id_(random_hex(6)) {
    payload_ = ",\"robotCode\":\"dingbenchrobot\",\"userId\":[\"u1\"],\"pad\":\"" +
             std::string(payload_bytes, 'x') + "\"}";
  }

  // Binds and returns the port, or -1.
  int listen(const std::string& host, int port);
  // The service loop; returns the exit code.
  int run();
  // A ticket for an in-process peer that skips the open call.
  std::string issue_ticket() {
    std::string t = random_hex(32);
    tickets_[t] = false;
    return t;
  }
  lws_context* context() const { return context_; }

 private:
  dsb::httpd::Router make_router();
  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int callback(lws* wsi, lws_callback_reasons reason, SessionData* pss, void* in, size_t len);
  int confirm_upgrade(lws* wsi);
  int writeable(WsConn& c);
  void on_message(const std::string& text);
  void wake();  // asks for WRITEABLE now or arms the timer for the next due frame
  void maybe_finish();
  void finish_phase();

  PhaseQueue& phases_;
  dsb::httpd::Server server_;
  std::string run_id_;
  std::string payload_;
  std::string base_url_;
  lws_context* context_ = nullptr;
  std::map<std::string, bool, std::less<>> tickets_;  // ticket -> spent
  std::map<std::string, std::unique_ptr<WsConn>> conns_;
  WsConn* current_ = nullptr;  // frames go to the newest open connection
  WsConn* target_ = nullptr;   // random dispatch: the connection the next frame goes to
  std::mt19937_64 rng_{std::random_device{}()};
  int conn_seq_ = 0;
  std::unique_ptr<Phase> phase_;
  int phase_seq_ = 0;
  int64_t idle_since_us_ = 0;
  int64_t wait_connect_since_us_ = 0;
  bool queue_done_ = false;
  int exit_code_ = 0;
  Ticker ticker_;
  std::vector<unsigned char> txbuf_;
};

dsb::httpd::Router LoadGen::make_router() {
  dsb::httpd::Router router;
  router.add("POST", "/v1.0/gateway/connections/open", [this](const dsb::httpd::Request&) {
    // The bridge's request is not checked: the emulator's tests cover it; here it costs time.
    std::string ticket = issue_ticket();
    std::string endpoint = base_url_;
    endpoint.replace(0, 4, "ws");
    return dsb::httpd::Response::json(
        200, "{\"endpoint\":\"" + endpoint + "/connect\",\"ticket\":\"" + ticket + "\"}");
  });
  return router;
}

int LoadGen::lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol ? static_cast<LoadGen*>(protocol->user) : nullptr;
  if (!self) return lws_callback_http_dummy(wsi, reason, user, in, len);
  try {
    return self->callback(wsi, reason, static_cast<SessionData*>(user), in, len);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: callback failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "loadgen: callback failed\n");
  }
  return -1;
}

int LoadGen::callback(lws* wsi, lws_callback_reasons reason, SessionData* pss, void* in,
                      size_t len) {
  switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return confirm_upgrade(wsi);

    case LWS_CALLBACK_ESTABLISHED: {
      if (!pss) return -1;
      auto conn = std::make_unique<WsConn>();
      conn->wsi = wsi;
      conn->id = "c" + std::to_string(++conn_seq_);
      pss->ws = conn.get();
      current_ = conn.get();
      std::printf("loadgen connected %s\n", conn->id.c_str());
      std::fflush(stdout);
      conns_.emplace(conn->id, std::move(conn));
      wake();
      return 0;
    }

    case LWS_CALLBACK_RECEIVE: {
      if (!pss || !pss->ws) return 0;
      WsConn& c = *pss->ws;
      switch (c.rx.feed(std::string_view(static_cast<const char*>(in), len),
                        lws_is_first_fragment(wsi) != 0,
                        lws_is_final_fragment(wsi) != 0 && !lws_remaining_packet_payload(wsi),
                        lws_frame_is_binary(wsi) != 0)) {
        case dsb::stream::Reassembler::Outcome::need_more:
          break;
        case dsb::stream::Reassembler::Outcome::complete:
          on_message(c.rx.take());
          break;
        case dsb::stream::Reassembler::Outcome::oversized:
        case dsb::stream::Reassembler::Outcome::binary:
          std::fprintf(stderr, "loadgen: oversized or binary upstream message dropped\n");
          break;
      }
      return 0;
    }

    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (!pss || !pss->ws) return 0;
      return writeable(*pss->ws);

    case LWS_CALLBACK_CLOSED: {
      if (!pss || !pss->ws) return 0;
      std::string id = pss->ws->id;
      if (current_ == pss->ws) current_ = nullptr;
      if (target_ == pss->ws) target_ = nullptr;
      pss->ws = nullptr;
      conns_.erase(id);
      if (phase_) ++phase_->disconnects;
      std::fprintf(stderr, "loadgen: connection %s closed\n", id.c_str());
      if (pss->http.session)
        server_.callback(wsi, LWS_CALLBACK_CLOSED_HTTP, &pss->http, in, len);
      return 0;
    }

    default:
      break;
  }
  if (pss && dsb::httpd::Server::handles(reason))
    return server_.callback(wsi, reason, &pss->http, in, len);
  return lws_callback_http_dummy(wsi, reason, pss, in, len);
}

int LoadGen::confirm_upgrade(lws* wsi) {
  if (dsb::httpd::header_value(wsi, WSI_TOKEN_GET_URI) != "/connect") {
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "use /connect");
    return 1;
  }
  auto args = dsb::httpd::query_args(wsi);
  auto t = args.find("ticket");
  auto it = t == args.end() ? tickets_.end() : tickets_.find(t->second);
  if (it == tickets_.end() || it->second) {
    lws_return_http_status(wsi, HTTP_STATUS_UNAUTHORIZED, "bad ticket");
    return 1;
  }
  it->second = true;
  return 0;
}

int LoadGen::writeable(WsConn& c) {
  Phase* p = phase_.get();
  if (!p || &c != target_ || p->all_pushed() || !p->window_open()) return 0;
  const int64_t now = steady_us();
  const int64_t due = p->due_us(p->next);
  if (now < due) {
    wake();
    return 0;
  }
  const int64_t i = p->next;
  const auto [event, repeat] = p->spec.event_of(i);
  dsb::emulator::FrameSpec spec;
  spec.event_type = "bench_event";
  // The stamp dsb-stubhook subtracts from the arrival: delivery latency (same clock).
  spec.data = "{\"sentUs\":" + std::to_string(steady_us()) + ",\"conversationId\":\"cid" +
              std::to_string(event % kConversations) + "\"" + payload_;
  dsb::emulator::FrameIds ids;
  ids.message_id = p->prefix + std::to_string(i);
  ids.event_id = "ev-" + p->prefix + std::to_string(event);
  if (repeat) ++p->repeats;
  ++p->by_connection[c.id];
  ids.app_id = "bench-app";
  ids.corp_id = "dingbenchcorp";
  ids.connection_id = c.id;
  ids.now_wall_ms = dsb::wall_ms();
  dsb::emulator::Frame frame = dsb::emulator::build_frame(spec, ids);

  const size_t n = frame.text.size();
  txbuf_.resize(LWS_PRE + n);
  std::memcpy(txbuf_.data() + LWS_PRE, frame.text.data(), n);
  const int64_t t = steady_us();
  int wrote = lws_write(c.wsi, txbuf_.data() + LWS_PRE, n, LWS_WRITE_TEXT);
  if (wrote < static_cast<int>(n)) {
    ++p->write_failures;
    return -1;
  }
  p->pushed_us[static_cast<size_t>(i)] = t;
  if (p->spec.rate > 0) p->lag_us.push_back(t - due);
  p->last_push_us = t;
  ++p->next;
  target_ = nullptr;
  wake();
  return 0;
}

void LoadGen::on_message(const std::string& text) {
  const int64_t now = steady_us();
  Phase* p = phase_.get();
  auto ack = dsb::emulator::parse_ack(text);
  if (!ack) {
    std::fprintf(stderr, "loadgen: invalid upstream message (%s): %.200s\n",
                 ack.status().message().c_str(), text.c_str());
    if (p) ++p->statuses["invalid"];
    return;
  }
  const std::string& id = ack.value().message_id;
  if (!p || id.compare(0, p->prefix.size(), p->prefix) != 0) {
    std::fprintf(stderr, "loadgen: ACK for a frame of no current phase: %s\n", id.c_str());
    return;
  }
  char* end = nullptr;
  long long i = std::strtoll(id.c_str() + p->prefix.size(), &end, 10);
  if (!end || *end || i < 0 || i >= p->next) {
    std::fprintf(stderr, "loadgen: ACK for an unknown messageId: %s\n", id.c_str());
    return;
  }
  const std::string status = ack.value().code == 200
                                 ? (ack.value().status.empty() ? "(none)" : ack.value().status)
                                 : "code=" + std::to_string(ack.value().code);
  ++p->statuses[status];
  int64_t& at = p->acked_us[static_cast<size_t>(i)];
  if (at != 0) {
    ++p->duplicate_acks;
    return;
  }
  at = now;
  ++p->acked;
  const bool was_closed = p->spec.window > 0 && p->next - (p->acked - 1) >= p->spec.window;
  if (was_closed) wake();
  maybe_finish();
}

void LoadGen::wake() {
  Phase* p = phase_.get();
  if (!p || !current_ || p->all_pushed()) return;
  if (!p->window_open()) return;  // an ACK reopens it
  const int64_t due = p->due_us(p->next);
  const int64_t now = steady_us();
  if (due <= now) {
    if (!target_) {
      target_ = current_;
      if (p->spec.random_dispatch && conns_.size() > 1) {
        std::uniform_int_distribution<size_t> pick(0, conns_.size() - 1);
        target_ = std::next(conns_.begin(), static_cast<long>(pick(rng_)))->second.get();
      }
    }
    lws_callback_on_writable(target_->wsi);
  } else {
    ticker_.arm(due);
  }
}

void Ticker::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const int64_t now = steady_us();
    int64_t until = now + kPollUs;
    if (due_ != 0 && due_ <= now) {
      due_ = 0;
      lws_cancel_service(context_);
      continue;
    }
    if (due_ != 0) until = std::min(until, due_);
    cv_.wait_for(lock, std::chrono::microseconds(until - now));
    if (due_ == 0 && steady_us() >= until) lws_cancel_service(context_);  // the periodic look
  }
}

void LoadGen::maybe_finish() {
  Phase* p = phase_.get();
  if (p && p->all_pushed() && p->acked >= p->spec.frames()) finish_phase();
}

void LoadGen::finish_phase() {
  Phase& p = *phase_;
  std::vector<int64_t> lat;
  lat.reserve(static_cast<size_t>(p.acked));
  int64_t first_push = 0, last_ack = 0;
  for (int64_t i = 0; i < p.next; ++i) {
    const int64_t pu = p.pushed_us[static_cast<size_t>(i)];
    const int64_t au = p.acked_us[static_cast<size_t>(i)];
    if (first_push == 0 || pu < first_push) first_push = pu;
    if (au == 0) continue;
    lat.push_back(au - pu);
    last_ack = std::max(last_ack, au);
  }
  std::sort(lat.begin(), lat.end());
  std::sort(p.lag_us.begin(), p.lag_us.end());
  double sum = 0;
  for (int64_t v : lat) sum += static_cast<double>(v);
  const double push_s = static_cast<double>(std::max<int64_t>(1, p.last_push_us - first_push)) / 1e6;
  const double ack_s = static_cast<double>(std::max<int64_t>(1, last_ack - first_push)) / 1e6;

  std::string j = "{\"phase\":\"" + p.spec.name + "\",\"index\":" + std::to_string(p.index);
  j += ",\"rate_target\":" + fmt_num(p.spec.rate);
  j += ",\"window\":" + std::to_string(p.spec.window);
  j += ",\"count\":" + std::to_string(p.spec.count);
  j += ",\"events\":" + std::to_string(p.spec.count);
  j += ",\"repeats\":" + std::to_string(p.repeats);
  j += ",\"dispatch\":\"" + std::string(p.spec.random_dispatch ? "random" : "newest") + "\"";
  j += ",\"frames_by_connection\":{";
  for (const auto& [id, n] : p.by_connection)
    j += (j.back() == '{' ? "\"" : ",\"") + id + "\":" + std::to_string(n);
  j += "}";
  j += ",\"sent\":" + std::to_string(p.next);
  j += ",\"acked\":" + std::to_string(p.acked);
  j += ",\"unacked\":" + std::to_string(p.next - p.acked);
  j += ",\"duplicate_acks\":" + std::to_string(p.duplicate_acks);
  j += ",\"statuses\":{";
  bool first = true;
  for (const auto& [k, v] : p.statuses) {
    if (!first) j += ',';
    first = false;
    j += "\"" + k + "\":" + std::to_string(v);
  }
  j += "},\"ack_latency_us\":{\"p50\":" + std::to_string(percentile(lat, 50)) +
       ",\"p90\":" + std::to_string(percentile(lat, 90)) +
       ",\"p99\":" + std::to_string(percentile(lat, 99)) +
       ",\"p999\":" + std::to_string(percentile(lat, 99.9)) +
       ",\"max\":" + std::to_string(lat.empty() ? 0 : lat.back()) +
       ",\"mean\":" + fmt_num(lat.empty() ? 0 : sum / static_cast<double>(lat.size())) + "}";
  j += ",\"push_rate\":" + fmt_num(static_cast<double>(p.next) / push_s);
  j += ",\"ack_rate\":" + fmt_num(static_cast<double>(p.acked) / ack_s);
  j += ",\"push_seconds\":" + std::to_string(push_s);
  j += ",\"first_push_to_last_ack_seconds\":" + std::to_string(ack_s);
  if (p.spec.rate > 0)
    j += ",\"schedule_lag_us\":{\"p99\":" + std::to_string(percentile(p.lag_us, 99)) +
         ",\"max\":" + std::to_string(p.lag_us.empty() ? 0 : p.lag_us.back()) + "}";
  j += ",\"disconnects\":" + std::to_string(p.disconnects);
  j += ",\"write_failures\":" + std::to_string(p.write_failures) + "}";
  std::printf("%s\n", j.c_str());
  std::fflush(stdout);
  if (p.next != p.acked || p.duplicate_acks) exit_code_ = 1;
  phase_.reset();
  idle_since_us_ = steady_us();
}

int LoadGen::listen(const std::string& host, int port) {
  lws_set_log_level(LLL_ERR, nullptr);
  static lws_protocols protocols[2];
  std::memset(protocols, 0, sizeof protocols);
  protocols[0].name = "dingtalk-stream-loadgen";
  protocols[0].callback = &LoadGen::lws_callback;
  protocols[0].per_session_data_size = sizeof(SessionData);
  protocols[0].rx_buffer_size = 64 * 1024;
  protocols[0].user = this;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
  info.gid = static_cast<gid_t>(-1);
  info.uid = static_cast<uid_t>(-1);
  context_ = lws_create_context(&info);
  if (!context_) return -1;
  info.port = port;
  info.iface = host.c_str();
  info.protocols = protocols;
  info.vhost_name = "loadgen";
  lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (!vhost) return -1;
  const int bound = lws_get_vhost_listen_port(vhost);
  base_url_ = "http://" + host + ":" + std::to_string(bound);
  return bound;
}

int LoadGen::run() {
  g_context = context_;
  ticker_.start(context_);
  idle_since_us_ = steady_us();
  while (!g_stop) {
    if (!phase_ && !queue_done_ && steady_us() - idle_since_us_ >= kGapUs) {
      if (!current_) {
        if (wait_connect_since_us_ == 0) wait_connect_since_us_ = steady_us();
        if (steady_us() - wait_connect_since_us_ > kConnectWaitUs) {
          std::fprintf(stderr, "loadgen: no websocket connection after 60 s\n");
          exit_code_ = 1;
          break;
        }
      } else if (auto spec = phases_.pop(queue_done_)) {
        wait_connect_since_us_ = 0;
        auto p = std::make_unique<Phase>();
        p->spec = std::move(*spec);
        p->index = ++phase_seq_;
        if (p->spec.name.empty()) p->spec.name = "phase" + std::to_string(p->index);
        p->prefix = "lg" + run_id_ + "-" + std::to_string(p->index) + "-";
        const auto n = static_cast<size_t>(p->spec.frames());
        p->pushed_us.assign(n, 0);
        p->acked_us.assign(n, 0);
        if (p->spec.rate > 0) p->lag_us.reserve(n);
        p->start_us = steady_us() + 1000;
        phase_ = std::move(p);
        wake();
      }
    }
    if (!phase_ && queue_done_) break;
    if (phase_ && phase_->all_pushed() &&
        steady_us() - phase_->last_push_us > static_cast<int64_t>(phase_->spec.drain_s * 1e6))
      finish_phase();  // with ACKs missing: reported as unacked
    if (lws_service(context_, 0) < 0) break;
    wake();  // woken by the ticker: a frame may be due
  }
  ticker_.stop();
  g_context = nullptr;
  return exit_code_;
}

// The trivial peer for --self-ack: its own client context on its own thread. It answers every
// frame with a SUCCESS ACK, finding the messageId by a string search (no JSON parse), one
// write per WRITEABLE.
class SelfAcker {
 public:
  SelfAcker(int port, std::string ticket) : port_(port), ticket_(std::move(ticket)) {}
  void start() { thread_ = std::thread([this] { run(); }); }
  void stop() {
    stop_ = true;
    if (lws_context* c = context_.load()) lws_cancel_service(c);
    if (thread_.joinable()) thread_.join();
  }

 private:
  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    const lws_protocols* protocol = lws_get_protocol(wsi);
    auto* self = protocol ? static_cast<SelfAcker*>(protocol->user) : nullptr;
    if (!self) return lws_callback_http_dummy(wsi, reason, user, in, len);
    try {
      return self->callback(wsi, reason, in, len);
    } catch (...) {
      return -1;
    }
  }

  int callback(lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
    switch (reason) {
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        std::fprintf(stderr, "self-ack: connection error: %s\n",
                     in ? static_cast<const char*>(in) : "?");
        return 0;
      case LWS_CALLBACK_CLIENT_RECEIVE:
        rx_.append(static_cast<const char*>(in), len);
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
          static const char kKey[] = "\"messageId\":\"";
          size_t at = rx_.find(kKey);
          if (at != std::string::npos) {
            at += sizeof kKey - 1;
            size_t end = rx_.find('"', at);
            std::string ack = "{\"code\":200,\"headers\":{\"contentType\":\"application/json\","
                              "\"messageId\":\"" + rx_.substr(at, end - at) +
                              "\"},\"message\":\"OK\",\"data\":\"{\\\"status\\\":\\\"SUCCESS\\\"}\"}";
            std::vector<unsigned char> buf(LWS_PRE + ack.size());
            std::memcpy(buf.data() + LWS_PRE, ack.data(), ack.size());
            out_.push_back(std::move(buf));
            lws_callback_on_writable(wsi);
          }
          rx_.clear();
        }
        return 0;
      case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (out_.empty()) return 0;
        auto& f = out_.front();
        const size_t n = f.size() - LWS_PRE;
        if (lws_write(wsi, f.data() + LWS_PRE, n, LWS_WRITE_TEXT) < static_cast<int>(n)) return -1;
        out_.pop_front();
        if (!out_.empty()) lws_callback_on_writable(wsi);
        return 0;
      }
      default:
        return 0;
    }
  }

  void run() {
    lws_protocols protocols[2];
    std::memset(protocols, 0, sizeof protocols);
    protocols[0].name = "self-ack";
    protocols[0].callback = &SelfAcker::lws_callback;
    protocols[0].rx_buffer_size = 64 * 1024;
    protocols[0].user = this;
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = static_cast<gid_t>(-1);
    info.uid = static_cast<uid_t>(-1);
    lws_context* ctx = lws_create_context(&info);
    if (!ctx) {
      std::fprintf(stderr, "self-ack: no lws context\n");
      return;
    }
    context_ = ctx;
    std::string path = "/connect?ticket=" + ticket_;
    lws_client_connect_info ci;
    std::memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = "127.0.0.1";
    ci.port = port_;
    ci.path = path.c_str();
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.local_protocol_name = "self-ack";
    if (!lws_client_connect_via_info(&ci)) std::fprintf(stderr, "self-ack: connect failed\n");
    while (!stop_)
      if (lws_service(ctx, 0) < 0) break;
    context_ = nullptr;
    lws_context_destroy(ctx);
  }

  int port_;
  std::string ticket_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<lws_context*> context_{nullptr};
  std::string rx_;
  std::deque<std::vector<unsigned char>> out_;
};

int usage() {
  std::fprintf(stderr,
               "usage: dsb-loadgen [--listen 127.0.0.1:0] [--phase SPEC]... [--self-ack]\n"
               "                   [--payload-bytes N]\n"
               "SPEC: name=S,rate=R,count=N,seconds=S,window=W,drain=S,dispatch=random,repeat=K\n"
               "      (see bench/README.md);\n"
               "without --phase, one SPEC per stdin line.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  bool self_ack = false;
  size_t payload_bytes = 200;
  PhaseQueue phases;
  bool from_args = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (a == "--self-ack") {
      self_ack = true;
    } else if (a == "--listen") {
      auto v = value();
      if (!v) return usage();
      listen = *v;
    } else if (a == "--payload-bytes") {
      auto v = value();
      if (!v) return usage();
      payload_bytes = static_cast<size_t>(std::strtoul(v->c_str(), nullptr, 10));
    } else if (a == "--phase") {
      auto v = value();
      if (!v) return usage();
      std::string error;
      auto p = parse_phase(*v, error);
      if (!p) {
        std::fprintf(stderr, "dsb-loadgen: --phase %s: %s\n", v->c_str(), error.c_str());
        return 2;
      }
      phases.push(std::move(*p));
      from_args = true;
    } else {
      return usage();
    }
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return usage();
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto gen = std::make_unique<LoadGen>(phases, payload_bytes);
  int bound = gen->listen(host, port);
  if (bound < 0) {
    std::fprintf(stderr, "dsb-loadgen: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("loadgen listening on %s:%d\n", host.c_str(), bound);
  std::fflush(stdout);

  std::unique_ptr<SelfAcker> acker;
  if (self_ack) {
    acker = std::make_unique<SelfAcker>(bound, gen->issue_ticket());
    acker->start();
  }
  if (from_args) {
    phases.close();
  } else {
    lws_context* ctx = gen->context();
    std::thread([&phases, ctx] {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string error;
        auto p = parse_phase(line, error);
        if (p) {
          phases.push(std::move(*p));
        } else {
          std::fprintf(stderr, "dsb-loadgen: phase '%s': %s\n", line.c_str(), error.c_str());
        }
        lws_cancel_service(ctx);
      }
      phases.close();
      lws_cancel_service(ctx);
    }).detach();
  }
  int code = gen->run();
  if (acker) acker->stop();
  // The stdin thread may still block in getline: leave without tearing the context down
  // under it.
  std::fflush(stdout);
  std::_Exit(code);
}
