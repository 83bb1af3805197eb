// The bridge core (product.md section 4): each business frame is routed, delivered to its
// route's webhooks and ACKed exactly as the contract says:
//
//   EVENT, direct      POST to every URL; all 2xx -> SUCCESS, any failure -> LATER; never
//                      later than limits.ack_deadline (then LATER, and a success that
//                      lands afterwards is remembered so the redelivery is ACKed SUCCESS
//                      with no second POST). Unrouted -> SUCCESS, counted.
//   EVENT, spool       journaled (fsync'd) -> SUCCESS; store failing -> LATER. The Spooler
//                      delivers it afterwards, per URL, with retries.
//   robot CALLBACK     direct: ACK at once, then POST; spool: ACK once journaled. A reply
//                      that is a robot message goes to the message's sessionWebhook.
//   other CALLBACK     POST, wait up to the route timeout; 200 {"response": reply}, or 500
//                      on failure or timeout; unrouted -> 404. (Always direct: the reply
//                      is the ACK.) A format with HTTP-shaped failures (graph) ACKs them
//                      200 with its reply instead of 500 (WebhookFormat::failure_reply).
//   order_by           a route's frames with the same value at that data field are POSTed one
//                      at a time, in arrival order (OrderedQueues before the route's lane;
//                      spooled ones by the store). The ACK rules above hold meanwhile.
//   duplicates         a frame already delivered or journaled (by eventId / robotCode +
//                      msgId / messageId: dedup_key) is ACKed as before and not POSTed
//                      again; one still in flight (or waiting for its turn) is not POSTed
//                      twice either: the redelivery waits for it (a robot message's is
//                      ACKed at once). With a store shared by replicas (section 12) the
//                      same holds across them: a redelivery another replica is delivering
//                      asks the store again until its ACK deadline (callbacks: the route
//                      timeout), then ACKs as that replica's outcome says, or LATER / the
//                      failure ACK; it delivers the frame itself if that replica's claim
//                      lapsed. A robot message ACKed on arrival is not delivered twice.
//
// Single-threaded: every entry point and every callback runs on the stream thread. The
// core touches no socket: Timers, Webhooks and Spool are interfaces (ports.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/metrics.hpp"
#include "bridge/dedup.hpp"
#include "bridge/ordered_queues.hpp"
#include "bridge/ports.hpp"
#include "bridge/robot_replies.hpp"
#include "bridge/route_lanes.hpp"
#include "bridge/route_metrics.hpp"
#include "bridge/spooler.hpp"
#include "bridge/webhook_caller.hpp"
#include "config/config.hpp"
#include "stream/frame_sink.hpp"

namespace dsb::bridge {

// The dedup key of `frame_key` (dedup.hpp's) in `app`'s scope: apps other than "default"
// prefix it with "app:<name>/", so one message id in two apps is two frames; "default"
// keeps the bare key, so a single-app bridge keeps its dedup window across the upgrade.
std::string dedup_key_in_app(const config::App& app, std::string frame_key);

class Relay : public stream::FrameSink {
 public:
  // `dingtalk`: how robot replies reach DingTalk (dingtalk_transport.hpp, resolved once).
  Relay(std::shared_ptr<const config::Config> config, Timers& timers, Webhooks& webhooks,
        WallClock& clock, DedupStore& dedup, Spool& spool,
        RobotReplies::TransportFor dingtalk = {});
  ~Relay() override;

  // Starts delivering what the spool holds (also what a previous run left there).
  void start() { spooler_.start(); }

  // A frame of the config's first app (the only one in a single-app config).
  void on_frame(stream::ConnectionId conn, stream::Frame frame, stream::AckWriter& acks) override;
  // A frame that came in on one of `app`'s connections: routed by that app's routes, its
  // dedup key in that app's scope, ACKed through `acks`. A frame of an app the config no
  // longer has is left un-ACKed (its connections are closing; DingTalk redelivers it).
  void on_frame(const std::string& app, stream::ConnectionId conn, stream::Frame frame,
                stream::AckWriter& acks);

  // `app`'s access-token cache (the robot replies' fallback uses it too); lives as long
  // as this Relay.
  openapi::AccessTokenCache& token_cache(const config::App& app) { return replies_.token_cache(app); }

  // New routes for new frames; deliveries under way finish with the routes they started with.
  void reload(std::shared_ptr<const config::Config> config);

  // Shutdown: frames arriving from now on are not taken (left un-ACKed, so DingTalk
  // redelivers them), no new spooled delivery starts. Deliveries under way go on.
  void stop_taking_frames();
  // Frames whose ACK or delivery is still pending, spooled deliveries included.
  size_t in_flight() const { return deliveries_.size() + spooler_.in_flight(); }
  // Direct deliveries of `app`'s frames still under way: its connections may close (the
  // app was removed) once none owes them an ACK.
  size_t in_flight(const std::string& app) const;
  // order_by keys with a direct delivery running or waiting (tests: idle keys are released).
  size_t ordered_keys() const { return ordered_.keys(); }
  // Shutdown grace is over: ACK every waiting event LATER and every waiting callback 500
  // (a graph callback: its 503 response), and hand spooled deliveries back to the spool.
  // Requests still running complete into the void. Deliveries that owe no ACK (direct
  // robot messages, ACKed on arrival, running or waiting for their order_by turn) are lost:
  // counted dsb_deliveries_abandoned_total{route} and logged.
  void abandon_in_flight();

 private:
  struct Delivery;
  struct Waiter;

  // Routes an EVENT or CALLBACK frame, answers repeats, or starts its delivery.
  void handle(const config::App& app, stream::ConnectionId conn, stream::Frame frame,
              stream::AckWriter& acks);
  // Asks the dedup store whether the frame came before (on a shared store: claims it).
  void ask_dedup(const std::shared_ptr<Delivery>& delivery);
  // Continues `handle` once the dedup store knows whether the frame came before.
  void on_dedup_answer(const std::shared_ptr<Delivery>& delivery, DedupAnswer answer);
  // Another replica is delivering the frame: asks again soon, until the waiters' deadlines.
  void wait_elsewhere(const std::shared_ptr<Delivery>& delivery);
  void count_elsewhere_wait(const char* outcome);
  // Records the outcome under the frame's key (ending a shared store's claim).
  void remember(Delivery& delivery, DeliveredOutcome outcome);
  void journal(const std::shared_ptr<Delivery>& delivery);
  void on_journaled(const std::shared_ptr<Delivery>& delivery, const Status& status);

  // Starts the delivery now, or after the earlier ones of its order_by key.
  void start_in_order(const std::shared_ptr<Delivery>& delivery);
  // Starts one POST per URL that has not had this frame yet.
  void start_delivery(std::shared_ptr<Delivery> delivery);
  void on_answer(const std::shared_ptr<Delivery>& delivery, size_t url_index, Answer answer);
  void on_all_answers(const std::shared_ptr<Delivery>& delivery);
  void add_waiter(const std::shared_ptr<Delivery>& delivery, stream::AckWriter& acks,
                  stream::ConnectionId conn, std::string message_id);
  void ack_waiters(Delivery& delivery);
  // A duplicate's ACK: as the first arrival was ACKed.
  stream::Ack replayed_ack(const Delivery& delivery, const std::string& message_id) const;
  // The ACK this delivery's outcome calls for (a callback's success is remembered here).
  stream::Ack outcome_ack(Delivery& delivery, const std::string& message_id);
  // A callback's ACK for a failure of the bridge's own (504 its deadline, 503 shutdown):
  // the format's HTTP-shaped reply when it has one, else an error ACK 500.
  stream::Ack failure_ack(const Delivery& delivery, const std::string& message_id, int status,
                          const std::string& reason) const;
  void ack_waiter(Waiter& waiter, const stream::Ack& ack);
  void finish(const std::shared_ptr<Delivery>& delivery);
  // Every app's routes' series, at zero when new (start and each reload).
  void declare_route_metrics();


  std::shared_ptr<const config::Config> config_;
  Timers& timers_;
  WallClock& clock_;
  DedupStore& dedup_;
  Spool& spool_;
  RouteMetrics route_metrics_;
  RouteLanes lanes_;
  OrderedQueues ordered_;  // direct deliveries of order_by routes, before their lane
  WebhookCaller caller_;
  RobotReplies replies_;
  Spooler spooler_;
  bool taking_frames_ = true;
  // Deliveries under way, by dedup key (app-scoped: dedup_key_in_app): one per frame
  // identity, however often it arrives.
  std::unordered_map<std::string, std::shared_ptr<Delivery>> deliveries_;
};

// What one app's StreamClient hands its frames to: the relay, told whose frames they are.
class AppFrames : public stream::FrameSink {
 public:
  // REQUIRES: `relay` outlives this object.
  AppFrames(Relay& relay, std::string app) : relay_(relay), app_(std::move(app)) {}
  void on_frame(stream::ConnectionId conn, stream::Frame frame, stream::AckWriter& acks) override {
    relay_.on_frame(app_, conn, std::move(frame), acks);
  }

 private:
  Relay& relay_;
  const std::string app_;
};

}  // namespace dsb::bridge
