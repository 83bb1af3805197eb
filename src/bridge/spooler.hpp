// Delivers what `delivery: spool` routes journaled (product.md sections 4 and 6): it takes
// due deliveries from the spool, POSTs each to its URL within the route's lane, and records
// the outcome: delivered, retried later (RetryPolicy: backoff with jitter), or dead-lettered.
// Deliveries are per URL and independent. Single-threaded: the bridge's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_set>

#include "bridge/ports.hpp"
#include "bridge/robot_replies.hpp"
#include "bridge/route_lanes.hpp"
#include "bridge/route_metrics.hpp"
#include "bridge/webhook_caller.hpp"
#include "config/config.hpp"

namespace dsb::bridge {

class Spooler {
 public:
  Spooler(std::shared_ptr<const config::Config> config, Spool& spool, Timers& timers,
          WallClock& clock, RouteLanes& lanes, WebhookCaller& caller, RobotReplies& replies,
          RouteMetrics& metrics);
  ~Spooler();

  void reload(std::shared_ptr<const config::Config> config) { config_ = std::move(config); }

  // Starts polling the spool (retries come due, `spool replay` re-queues) every kPollInterval.
  // While the spool cannot record outcomes, no delivery is taken (it could be POSTed again
  // and again, its success never recorded); the poll resumes them once it can.
  void start();
  // Looks for due deliveries now (after an append, say).
  void pump();
  // Takes no more deliveries; those under way go on (shutdown drain).
  void stop_taking();
  // stop_taking(), and those whose POST still runs are released (due again at the next
  // start) and their answers ignored.
  void stop();
  size_t in_flight() const { return in_flight_.size(); }

  // How many deliveries run at once across all spool routes (each route's max_in_flight
  // applies within it).
  static constexpr size_t kMaxInFlight = 256;

 private:
  void on_due(std::vector<store::DueDelivery> due);
  void deliver(std::shared_ptr<store::DueDelivery> delivery, const config::App& app,
               const config::Route& route);
  void on_answer(const store::DueDelivery& delivery, const config::App& app, const config::Route& route,
                 const Answer& answer);
  void schedule_poll();

  std::shared_ptr<const config::Config> config_;
  Spool& spool_;
  Timers& timers_;
  WallClock& clock_;
  RouteLanes& lanes_;
  WebhookCaller& caller_;
  RobotReplies& replies_;
  RouteMetrics& metrics_;
  bool running_ = false;
  bool asking_ = false;  // a due() query is out: one at a time
  bool paused_ = false;  // the spool cannot record outcomes (logged once per change)
  TimerId poll_timer_ = 0;
  std::unordered_set<int64_t> in_flight_;  // claimed delivery ids
};

}  // namespace dsb::bridge
