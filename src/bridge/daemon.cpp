#include "bridge/daemon.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include "admin/admin_server.hpp"
#include "admin/metrics.hpp"
#include "admin/systemd_notify.hpp"
#include "bridge/app_streams.hpp"
#include "bridge/config_reload.hpp"
#include "bridge/dingtalk_transport.hpp"
#include "bridge/dedup.hpp"
#include "bridge/loop_ports.hpp"
#include "bridge/openapi_endpoints.hpp"
#include "bridge/relay.hpp"
#include "bridge/signals.hpp"
#include "bridge/spool_age_metric.hpp"
#include "bridge/store_metrics.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/memory_policy.hpp"
#include "config/loader.hpp"
#include "loop/event_loop.hpp"
#include "store/dedup_for_backend.hpp"
#include "store/open_backend.hpp"
#include "store/store.hpp"
#include "stream/stream_client.hpp"

namespace dsb::bridge {
namespace {

constexpr std::chrono::milliseconds kTick{100};  // how fast a signal is noticed
// Connections a reload may add (new apps) beyond what the config at start asks for.
constexpr int kReloadConnections = 16;

size_t route_count(const config::Config& config) {
  size_t routes = 0;
  for (const config::App& app : config.apps) routes += app.routes.size();
  return routes;
}

// Owns every stage for one run, in the order they must be built and torn down.
class Daemon : public admin::Readiness {
 public:
  explicit Daemon(const config::Config& config)
      : config_(std::make_shared<const config::Config>(config)),
        backend_(store::open_backend(config)),
        store_(*backend_, metrics::global()),
        dedup_(config, store_, dynamic_cast<store::Store*>(backend_.get()),
               [this](std::function<void()> task) { loop_.post(std::move(task)); }),
        webhooks_(loop_, http_options(config)),
        timers_(loop_),
        spool_(loop_, store_),
        relay_(config_, timers_, webhooks_, clock_, dedup_.get(), spool_,
               [this](const config::App& app) { return streams_.transport_for(app); }),
        streams_(loop_, relay_, [](const char* name) { return std::getenv(name); }),
        reload_(
            [](const std::string& path) {
              return config::load_file(path, config::ProcessEnvironment());
            },
            [this](std::function<void()> task) { loop_.post(std::move(task)); },
            [this](config::LoadResult result) { reload_finished(std::move(result)); }) {}

  int run() {
    if (Status opened = store_.wait_open(); !opened) {
      if (store_.locked_out()) {  // another bridge delivers from this store: never both
        log::error("bridge", "cannot start", {{"reason", opened.message()}});
        return 1;
      }
      // Not fatal: events are ACKed LATER and /readyz says why until the store recovers.
      if (config_->store.backend == config::StoreBackend::sqlite) {
        log::error("bridge", "store not writable; will keep trying",
                   {{"state_dir", config_->state_dir}, {"reason", opened.message()}});
      } else {
        log::error("bridge", "store not writable; will keep trying",
                   {{"backend", std::string(store_.name())}, {"reason", opened.message()}});
      }
    }
    // N connections, their replacements, the worker's wake pipe and headroom, plus what the
    // admin endpoint may hold: lws stops accepting and connecting once the table is full, so
    // the admin port must never be able to fill the Stream connections' share.
    // Room for a reload to add a few apps' connections (kReloadConnections) too.
    const int connections = AppStreams::connections_wanted(*config_) + kReloadConnections;
    const auto fd_limit = static_cast<unsigned int>(4 * connections + 64) +
                          admin::AdminServer::kFdsNeeded + OpenApiEndpoints::fds_needed(*config_);
    if (Status status = loop_.create(fd_limit); !status) {
      log::error("bridge", "cannot start the event loop", {{"reason", status.message()}});
      return 1;
    }
    metrics::declare_standard(metrics::global());
    metrics::global().describe("dsb_dedup_store_lookups_total",
                               "Duplicate checks the in-memory index could not answer, read from "
                               "the store (callback replies, partial deliveries, index overflow); "
                               "with store.backend redis, every check.");
    spool_age_.update(*config_, store_.oldest_pending(), clock_.now_ms());
    dedup_.load(wall_ms());
    if (config_->admin.listen) {
      if (Status status = admin_.start(loop_, *config_->admin.listen, *this); !status) {
        log::error("bridge", "cannot start the admin endpoint", {{"reason", status.message()}});
        loop_.destroy();
        return 1;
      }
      log::info("bridge", "admin endpoint listening", {{"address", admin_.address()}});
    }
    streams_.resolve(*config_);
    if (Status status = openapi_.start(
            loop_, *config_, [this](const config::App& app) -> openapi::AccessTokenCache& { return relay_.token_cache(app); },
            [this](const config::App& app) { return streams_.transport_for(app); }, webhooks_, timers_);
        !status) {
      log::error("bridge", "cannot start the openapi endpoint", {{"reason", status.message()}});
      loop_.destroy();
      return 1;
    }
    if (Status status = streams_.start(); !status) {
      log::error("bridge", "cannot start the Stream connection", {{"reason", status.message()}});
      loop_.destroy();
      return 1;
    }
    relay_.start();
    // READY=1 once the loop really runs: the first task it executes.
    loop_.post([this] {
      admin::systemd::notify_ready();
      admin::systemd::notify_status("running");
      watchdog_.start(loop_);
    });
    schedule_tick();
    loop_.run();

    // Teardown order: no thread may post to the loop, and no timer may be linked in it,
    // when the context goes; the stream and the admin server must still be there to hear
    // about their sockets.
    watchdog_.stop();
    webhooks_.shutdown();
    streams_.release();
    loop_.destroy();
    return 0;
  }

 private:
  // admin::Readiness. Loop thread; cheap.
  std::vector<std::string> not_ready_reasons() const override {
    std::vector<std::string> reasons;
    if (draining_) reasons.emplace_back("shutting down");
    for (std::string& reason : streams_.not_ready_reasons()) reasons.push_back(std::move(reason));
    if (std::string store = store_problem(); !store.empty()) reasons.push_back(std::move(store));
    return reasons;
  }

  std::string store_problem() const override {
    return store_.writable() ? std::string() : "store not writable: " + store_.unwritable_reason();
  }

  static deliver::HttpClient::Options http_options(const config::Config& config) {
    deliver::HttpClient::Options options;
    // A webhook reply can become a callback ACK: never larger than a frame we accept.
    options.max_response_body = config.limits.max_frame;
    return options;
  }

  void schedule_tick() {
    loop_.after(kTick, [this] {
      on_tick();
      if (!closing_) schedule_tick();
    });
  }

  void on_tick() {
    const int64_t newest_frame_us = streams_.newest_frame_us();
    last_frame_age_.set((steady_us() - (newest_frame_us != 0 ? newest_frame_us : started_us_)) /
                        1'000'000);
    const store::SpoolCounts counts = store_.counts();
    spool_depth_.set(counts.pending);
    dead_letters_.set(counts.dead);
    spool_age_.update(*config_, store_.oldest_pending(), clock_.now_ms());
    const uint64_t lookups = dedup_.store_lookups();
    dedup_store_lookups_.inc(lookups - dedup_lookups_reported_);
    dedup_lookups_reported_ = lookups;
    const TakenSignals signals = take_signals();
    for (const auto& ignored : signals.ignored) {
      log::warn("bridge", "signal ignored",
                {{"signal", ignored.name}, {"times", std::to_string(ignored.times)}});
    }
    streams_.on_tick();
    if (signals.reload && !draining_) request_reload();
    if (signals.stop && !draining_) begin_drain();
    if (draining_ && !closing_) {
      const bool drained = relay_.in_flight() == 0;
      if (drained || steady_ms() >= drain_deadline_ms_) finish_drain(drained);
    }
  }

  // Stop taking frames; let in-flight work finish within limits.shutdown_grace.
  void begin_drain() {
    draining_ = true;
    drain_deadline_ms_ = steady_ms() + config_->limits.shutdown_grace.count();
    relay_.stop_taking_frames();
    admin::systemd::notify_stopping();
    admin::systemd::notify_status("draining");
    log::info("bridge", "stopping: draining in-flight work",
              {{"in_flight", std::to_string(relay_.in_flight())},
               {"grace_ms", std::to_string(config_->limits.shutdown_grace.count())}});
  }

  void finish_drain(bool drained) {
    closing_ = true;
    if (!drained) {
      log::warn("bridge", "shutdown grace over: ACKing what is left LATER",
                {{"in_flight", std::to_string(relay_.in_flight())}});
      relay_.abandon_in_flight();
    }
    streams_.close_all([this] { loop_.quit(); });
  }

  // All or nothing: a file that does not load changes nothing. The file is read and
  // checked on reload_'s thread; the loop only swaps in the result (config_reload.hpp).
  void request_reload() {
    const std::string& path = config_->source_file;
    log::info("bridge", "reloading config", {{"config", path}});
    if (!reload_.busy()) admin::systemd::notify_reloading();
    reload_.request(path);
  }

  void reload_finished(config::LoadResult result) {
    if (draining_) return;  // stopping: nothing to apply, and systemd was told STOPPING=1
    apply_reloaded(std::move(result));
    if (!reload_.busy()) admin::systemd::notify_ready();  // the last queued load is in
  }

  void apply_reloaded(config::LoadResult result) {
    if (!result.config) {
      for (const auto& error : result.errors) {
        log::error("bridge", "reload rejected; keeping the running config",
                   {{"error", error.to_string()}});
      }
      return;
    }
    auto next = std::make_shared<const config::Config>(std::move(*result.config));
    log::configure(next->log.level, next->log.format);
    if (next->limits.dedup_window != config_->limits.dedup_window ||
        next->admin.listen != config_->admin.listen || next->state_dir != config_->state_dir) {
      log::warn("bridge", "admin.listen, state_dir and limits.dedup_window take effect on restart");
    }
    if (OpenApiEndpoints::differ(*config_, *next)) {
      log::warn("bridge", "openapi endpoints take effect on restart");
    }
    config_ = next;
    relay_.reload(next);
    // At once, as relay_.reload() declares the per-route series: a scrape right after the
    // reload sees an added spool route's age at zero, not absent until the next tick.
    spool_age_.update(*config_, store_.oldest_pending(), clock_.now_ms());
    streams_.reconfigure(next);
    log::info("bridge", "config reloaded",
              {{"apps", std::to_string(next->apps.size())}, {"routes", std::to_string(route_count(*next))}});
  }

  std::shared_ptr<const config::Config> config_;
  loop::EventLoop loop_;  // first built, last destroyed
  // store.backend's; its thread posts to the loop: built after it, destroyed before.
  std::unique_ptr<store::Backend> backend_;
  MeteredBackend store_;  // backend_ as the daemon uses it: with the store metrics
  store::DedupForBackend dedup_;  // by store.backend
  SystemWallClock clock_;
  HttpWebhooks webhooks_;
  LoopTimers timers_;
  LoopSpool spool_;
  Relay relay_;  // one for every app: one spool, one dedup store
  // Each app's connections, and its proxy and CA for the Stream and every request to
  // DingTalk (resolved once per app).
  AppStreams streams_;
  admin::AdminServer admin_;
  OpenApiEndpoints openapi_;  // each app's local OpenAPI endpoint
  admin::systemd::WatchdogPinger watchdog_;
  ConfigReload reload_;  // its hand-back posts to the loop: destroyed first

  metrics::Gauge& spool_depth_ = metrics::global().gauge("dsb_spool_depth");
  metrics::Gauge& dead_letters_ = metrics::global().gauge("dsb_dead_letters");
  metrics::Gauge& last_frame_age_ = metrics::global().gauge("dsb_last_frame_age_seconds");
  const int64_t started_us_ = steady_us();  // the last frame's age counts from here until one comes
  metrics::Counter& dedup_store_lookups_ = metrics::global().counter("dsb_dedup_store_lookups_total");
  SpoolAgeMetric spool_age_{metrics::global()};
  uint64_t dedup_lookups_reported_ = 0;
  bool draining_ = false;
  bool closing_ = false;
  int64_t drain_deadline_ms_ = 0;
};

}  // namespace

int run_daemon(const config::Config& config) {
  log::configure(config.log.level, config.log.format);
  log::info("bridge", "starting",
            {{"version", BRIDGE_VERSION},
             {"config", config.source_file},
             {"apps", std::to_string(config.apps.size())},
             {"routes", std::to_string(route_count(config))},
             {"connections", std::to_string(AppStreams::connections_wanted(config))}});
  install_signal_handlers();
  return_large_buffers_to_the_kernel();

  int code = 1;
  {
    Daemon daemon(config);
    code = daemon.run();
  }
  log::info("bridge", "stopped", {{"exit_code", std::to_string(code)}});
  return code;
}

}  // namespace dsb::bridge
