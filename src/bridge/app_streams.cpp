#include "bridge/app_streams.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace dsb::bridge {

struct AppStreams::App {
  App(loop::EventLoop& loop, Relay& relay, std::shared_ptr<const config::Config> narrowed,
      DingTalkTransport resolved)
      : name(narrowed->apps.front().name),
        transport(std::move(resolved)),
        frames(relay, name),
        client(loop, std::move(narrowed), frames) {}

  const std::string name;
  const DingTalkTransport transport;  // resolved once: proxy and CA apply on restart
  AppFrames frames;
  stream::StreamClient client;
  bool closing = false;  // retired: close_all() called
};

AppStreams::AppStreams(loop::EventLoop& loop, Relay& relay, stream::Getenv getenv_fn)
    : loop_(loop), relay_(relay), getenv_(std::move(getenv_fn)) {}

AppStreams::~AppStreams() = default;

std::unique_ptr<AppStreams::App> AppStreams::make(const std::shared_ptr<const config::Config>& config,
                                                  const config::App& app) {
  return std::make_unique<App>(loop_, relay_,
                               std::make_shared<const config::Config>(config->narrowed_to(app.name)),
                               resolve_dingtalk_transport(app, getenv_));
}

void AppStreams::resolve(const config::Config& config) {
  auto shared = std::make_shared<const config::Config>(config);
  for (const config::App& app : config.apps) apps_.push_back(make(shared, app));
}

Status AppStreams::start() {
  for (auto& app : apps_) {
    if (Status status = app->client.start(app->transport.proxy); !status) {
      return Status::error("app " + app->name + ": " + status.message());
    }
  }
  return Status::ok();
}

AppStreams::App* AppStreams::find(const std::string& name) const {
  for (const auto& app : apps_) {
    if (app->name == name) return app.get();
  }
  return nullptr;
}

void AppStreams::reconfigure(const std::shared_ptr<const config::Config>& config) {
  // Removed apps first: their connections close once the relay owes their frames nothing.
  for (auto it = apps_.begin(); it != apps_.end();) {
    if (config->find_app((*it)->name) != nullptr) {
      ++it;
      continue;
    }
    log::info("bridge", "app removed: closing its connections once its frames are answered",
              {{"app", (*it)->name}});
    retired_.push_back(std::move(*it));
    it = apps_.erase(it);
  }
  std::vector<std::unique_ptr<App>> ordered;
  for (const config::App& app : config->apps) {
    auto existing = std::find_if(apps_.begin(), apps_.end(),
                                 [&](const auto& a) { return a && a->name == app.name; });
    if (existing != apps_.end()) {
      // The client itself tells what changed (credentials and subscriptions: make before
      // break; connections: slots added or drained; nothing: nothing happens).
      (*existing)->client.reconfigure(std::make_shared<const config::Config>(config->narrowed_to(app.name)));
      ordered.push_back(std::move(*existing));
      continue;
    }
    std::unique_ptr<App> added = make(config, app);
    if (Status status = added->client.start(added->transport.proxy); !status) {
      log::error("bridge", "app added by the reload cannot connect",
                 {{"app", app.name}, {"reason", status.message()}});
      // Kept (its readiness reason says so): a later reload or restart may fix it.
    } else {
      log::info("bridge", "app added", {{"app", app.name}, {"client_id", app.dingtalk.client_id}});
    }
    ordered.push_back(std::move(added));
  }
  apps_ = std::move(ordered);
}

void AppStreams::on_tick() {
  for (auto& app : retired_) {
    if (app->closing || relay_.in_flight(app->name) != 0) continue;
    app->closing = true;
    app->client.close_all([name = app->name] {
      log::info("bridge", "removed app's connections closed", {{"app", name}});
    });
  }
}

deliver::Transport AppStreams::transport_for(const config::App& app) const {
  if (const App* known = find(app.name)) return known->transport.http();
  return resolve_dingtalk_transport(app, getenv_).http();
}

std::vector<std::string> AppStreams::not_ready_reasons() const {
  std::vector<std::string> reasons;
  for (const auto& app : apps_) {
    if (app->client.connections_up() != 0) continue;
    reasons.push_back(app->name == config::App::kDefaultAppName && apps_.size() == 1
                          ? "no Stream connection registered"
                          : "no Stream connection registered for app " + app->name);
  }
  return reasons;
}

int AppStreams::connections_up() const {
  int up = 0;
  for (const auto& app : apps_) up += app->client.connections_up();
  return up;
}

int64_t AppStreams::newest_frame_us() const {
  int64_t newest = 0;
  for (const auto& app : apps_) newest = std::max(newest, app->client.newest_frame_us());
  return newest;
}

int AppStreams::connections_wanted(const config::Config& config) {
  int wanted = 0;
  for (const config::App& app : config.apps) wanted += app.dingtalk.connections;
  return wanted;
}

void AppStreams::close_all(std::function<void()> on_closed) {
  auto remaining = std::make_shared<size_t>(apps_.size() + retired_.size());
  auto done = std::make_shared<std::function<void()>>(std::move(on_closed));
  if (*remaining == 0) {
    (*done)();
    return;
  }
  auto one_closed = [remaining, done] {
    if (--*remaining == 0) (*done)();
  };
  // A retired client already closing runs the newest callback given (close_all again).
  for (auto& app : apps_) app->client.close_all(one_closed);
  for (auto& app : retired_) {
    app->closing = true;
    app->client.close_all(one_closed);
  }
}

void AppStreams::release() {
  for (auto& app : apps_) app->client.release();
  for (auto& app : retired_) app->client.release();
}

}  // namespace dsb::bridge
