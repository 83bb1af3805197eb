#include "store/redis_store.hpp"

#include <unistd.h>

#include <chrono>
#include <random>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "store/frame_codec.hpp"

namespace dsb::store {
namespace {

constexpr const char* kComponent = "store";

std::string default_replica_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  return std::string(host) + "/" + std::to_string(getpid()) + "/" + std::to_string(random() % 1'000'000);
}

// Error replies that mean the server takes no writes now (not a bug in a script).
bool refuses_writes(const std::string& error) {
  for (const char* prefix : {"OOM", "READONLY", "MISCONF", "NOAUTH", "WRONGPASS", "LOADING",
                             "MASTERDOWN", "BUSY", "NOPERM"}) {
    if (error.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

Status reply_status(const Result<RedisReply>& reply) {
  if (!reply) return reply.status();
  if (reply->is_error()) return Status::error("redis: " + reply->str);
  return Status::ok();
}

}  // namespace

RedisStore::RedisStore(RedisStoreOptions options)
    : options_(std::move(options)),
      replica_(options_.replica_id.empty() ? default_replica_id() : options_.replica_id),
      connection_({options_.endpoint, options_.connect_timeout_ms, options_.command_timeout_ms}),
      thread_([this] { run(); }) {}

RedisStore::~RedisStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int64_t RedisStore::now() const {
  return options_.wall_clock ? options_.wall_clock() : wall_ms();
}

Status RedisStore::wait_open() {
  std::unique_lock lock(open_mutex_);
  opened_.wait(lock, [this] { return open_status_.has_value(); });
  return *open_status_;
}

std::string RedisStore::unwritable_reason() const {
  if (writable()) return {};
  std::lock_guard lock(reason_mutex_);
  return reason_;
}

std::map<std::string, int64_t> RedisStore::oldest_pending() const {
  std::lock_guard lock(oldest_mutex_);
  return oldest_pending_;
}

void RedisStore::set_writable(bool writable, const std::string& reason) {
  const bool changed = !logged_state_known_ || writable_.load() != writable;
  {
    std::lock_guard lock(reason_mutex_);
    reason_ = writable ? std::string() : reason;
  }
  writable_.store(writable, std::memory_order_release);
  if (!changed) return;
  logged_state_known_ = true;
  if (writable) {
    log::info(kComponent, "redis store is writable", {{"server", connection_.where()}});
  } else {
    log::error(kComponent, "redis store is NOT writable: spooled events are ACKed LATER until it is",
               {{"server", connection_.where()}, {"reason", reason}});
  }
}

bool RedisStore::ensure_connected() {
  if (connection_.connected()) return true;
  if (Status status = connection_.ensure(); !status) {
    set_writable(false, status.message());
    return false;
  }
  if (!load_scripts()) return false;
  set_writable(true, {});
  return true;
}

bool RedisStore::load_scripts() {
  // EVALSHA then works without sending the source each time.
  std::vector<RedisCommand> loads;
  for (int i = 0; i < kRedisScriptCount; ++i)
    loads.push_back({"SCRIPT", "LOAD", redis_script_source(static_cast<RedisScript>(i))});
  Result<std::vector<RedisReply>> loaded = connection_.pipeline(loads);
  if (!loaded) {
    set_writable(false, loaded.status().message());
    return false;
  }
  for (int i = 0; i < kRedisScriptCount; ++i) {
    const RedisReply& reply = loaded.value()[static_cast<size_t>(i)];
    if (reply.is_error()) {
      const std::string reason = connection_.where() + ": cannot load a script: " + reply.str;
      connection_.drop(reason);
      set_writable(false, reason);
      return false;
    }
    shas_[static_cast<size_t>(i)] = reply.str;
  }
  return true;
}

RedisCommand RedisStore::expand(const Call& call, bool by_sha) const {
  if (!call.script) return call.args;
  RedisCommand command;
  command.reserve(call.args.size() + 4);
  const auto index = static_cast<size_t>(*call.script);
  command.push_back(by_sha ? "EVALSHA" : "EVAL");
  command.push_back(by_sha ? shas_[index] : redis_script_source(*call.script));
  command.push_back("0");
  command.push_back(options_.key_prefix);
  for (const std::string& arg : call.args) command.push_back(arg);
  return command;
}

void RedisStore::enqueue(const char* op, std::function<Call()> build,
                         std::function<void(Result<RedisReply>)> complete) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({op, std::move(build), std::move(complete), steady_us()});
  }
  wake_.notify_one();
}

void RedisStore::run() {
  name_this_thread("dsb-redis");
  const bool connected = ensure_connected();
  if (connected) {
    std::vector<Request> first;
    periodic(first);
    run_batch(first);
  }
  {
    std::lock_guard lock(open_mutex_);
    open_status_ = connected ? Status::ok() : Status::error(unwritable_reason());
  }
  opened_.notify_all();

  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (!stopping_ && queue_.empty()) {
        int64_t deadline = next_refresh_ms_;
        if (!held_.empty() || !held_markers_.empty()) deadline = std::min(deadline, next_renew_ms_);
        if (!connection_.connected()) deadline = std::min(deadline, connection_.next_attempt_ms());
        if (!unrecorded_.empty()) {
          deadline = std::min(deadline, std::max(next_unrecorded_retry_ms_,
                                                 connection_.next_attempt_ms()));
        }
        const int64_t wait = deadline - steady_ms();
        if (wait <= 0) break;
        wake_.wait_for(lock, std::chrono::milliseconds(wait));
      }
      if (stopping_ && queue_.empty()) break;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // Reconnects on its own once the backoff is over, requests or not: writable() comes
    // back without waiting for traffic.
    if (!connection_.connected() && steady_ms() >= connection_.next_attempt_ms())
      ensure_connected();
    periodic(batch);
    if (!batch.empty()) run_batch(batch);
    batch.clear();
  }
  // A last chance for outcomes that could not be written.
  if (!unrecorded_.empty() && ensure_connected()) {
    next_unrecorded_retry_ms_ = 0;
    periodic(batch);
    run_batch(batch);
  }
  if (!unrecorded_.empty()) {
    log::warn(kComponent, "delivery outcomes not recorded: those deliveries are made again",
              {{"count", std::to_string(unrecorded_.size())}, {"reason", unwritable_reason()}});
  }
}

// Renewals, the counts' refresh and the unrecorded outcomes ride along with the batch.
void RedisStore::periodic(std::vector<Request>& batch) {
  const int64_t t = steady_ms();
  if (!unrecorded_.empty() && t >= next_unrecorded_retry_ms_ && ensure_connected()) {
    for (auto& [id, request] : unrecorded_) batch.insert(batch.begin(), std::move(request));
    unrecorded_.clear();
  }
  // Every lease/3 while anything is held, the first time lease/3 after it was taken.
  int64_t shortest_lease = options_.lease_ms;
  for (const auto& [key, lease] : held_markers_) shortest_lease = std::min(shortest_lease, lease);
  const int64_t renew_period = std::max<int64_t>(shortest_lease / 3, 1);
  if (held_.empty() && held_markers_.empty()) next_renew_ms_ = t + renew_period;
  if (t >= next_renew_ms_ && (!held_.empty() || !held_markers_.empty())) {
    next_renew_ms_ = t + renew_period;
    if (!held_.empty()) {
      batch.push_back({"renew",
                       [this] {
                         Call call{RedisScript::renew, {std::to_string(options_.lease_ms)}};
                         for (const auto& [id, token] : held_) {
                           call.args.push_back(std::to_string(id));
                           call.args.push_back(token);
                         }
                         return call;
                       },
                       [this](Result<RedisReply> reply) {
                         if (!reply || reply->is_error()) return;
                         // Lost to another replica: its outcome would change nothing.
                         for (const RedisReply& id : reply->elements) held_.erase(id.as_int());
                         held_count_ = held_.size();
                       },
                       steady_us()});
    }
    if (!held_markers_.empty()) {
      batch.push_back({"renew_dedup",
                       [this] {
                         Call call{RedisScript::renew_dedup, {replica_}};
                         for (const auto& [key, lease] : held_markers_) {
                           call.args.push_back(key);
                           call.args.push_back(std::to_string(lease));
                         }
                         return call;
                       },
                       [](Result<RedisReply>) {}, steady_us()});
    }
  }
  if (t >= next_refresh_ms_) {
    next_refresh_ms_ = t + options_.refresh_interval_ms;
    batch.push_back({"refresh", [] { return Call{RedisScript::oldest, {}}; },
                     [this](Result<RedisReply> reply) {
                       if (!reply || reply->is_error() || reply->elements.size() < 2) return;
                       const auto& e = reply->elements;
                       pending_ = e[0].as_int();
                       dead_ = e[1].as_int();
                       std::map<std::string, int64_t> oldest;
                       for (size_t i = 2; i + 1 < e.size(); i += 2)
                         oldest[e[i].str] = static_cast<int64_t>(std::strtod(e[i + 1].str.c_str(), nullptr));
                       std::lock_guard lock(oldest_mutex_);
                       oldest_pending_ = std::move(oldest);
                     },
                     steady_us()});
  }
}

void RedisStore::run_batch(std::vector<Request>& batch) {
  std::vector<Call> calls;
  std::vector<RedisCommand> commands;
  Result<std::vector<RedisReply>> replies = Status::error("not sent");
  if (ensure_connected()) {
    calls.reserve(batch.size());
    commands.reserve(batch.size());
    for (auto& request : batch) {
      calls.push_back(request.build());
      commands.push_back(expand(calls.back(), true));
    }
    replies = connection_.pipeline(commands);
    if (replies) {
      // NOSCRIPT (SCRIPT FLUSH, a failover to a server without them): send the source
      // now, and load the scripts again for the batches after this one.
      bool flushed = false;
      for (size_t i = 0; i < batch.size(); ++i) {
        RedisReply& reply = replies.value()[i];
        if (reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
          flushed = true;
          Result<RedisReply> again = connection_.command(expand(calls[i], false));
          if (!again) {
            replies = again.status();
            break;
          }
          reply = std::move(again.value());
        }
      }
      if (flushed && replies) load_scripts();
    }
    if (!replies) {
      set_writable(false, replies.status().message());
    } else {
      std::string refused;
      for (const RedisReply& reply : replies.value())
        if (reply.is_error() && refuses_writes(reply.str)) refused = reply.str;
      if (refused.empty()) set_writable(true, {});
      else set_writable(false, connection_.where() + ": " + refused);
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Result<RedisReply> reply = replies ? Result<RedisReply>(std::move(replies.value()[i]))
                                       : Result<RedisReply>(Status::error(
                                             "redis store unavailable: " + unwritable_reason()));
    batch[i].complete(std::move(reply));
  }
}

// --- spool -------------------------------------------------------------------------------

void RedisStore::append(SpoolEntry entry, std::function<void(Status)> done) {
  auto shared = std::make_shared<SpoolEntry>(std::move(entry));
  enqueue("append",
          [shared] {
            Call call{RedisScript::append,
                      {shared->route, shared->dedup_key,
                       std::string(stream::frame_type_name(shared->frame.type)),
                       frame_headers_json(shared->frame), shared->frame.data,
                       std::to_string(shared->created_at_ms), shared->order_key ? "1" : "0",
                       shared->order_key.value_or("")}};
            for (const std::string& url : shared->urls) call.args.push_back(url);
            return call;
          },
          [done = std::move(done)](Result<RedisReply> reply) { done(reply_status(reply)); });
}

void RedisStore::due(int64_t now_ms, size_t limit,
                     std::function<void(std::vector<DueDelivery>)> done) {
  enqueue("due",
          [this, now_ms, limit] {
            return Call{RedisScript::due,
                        {std::to_string(now_ms), std::to_string(limit),
                         std::to_string(options_.lease_ms), replica_}};
          },
          [this, done = std::move(done)](Result<RedisReply> reply) {
            std::vector<DueDelivery> found;
            if (reply && !reply->is_error()) {
              const auto& e = reply->elements;
              for (size_t i = 0; i + kDueFields <= e.size(); i += kDueFields) {
                DueDelivery d;
                d.id = e[i].as_int();
                held_[d.id] = e[i + 1].str;
                d.frame_id = e[i + 2].as_int();
                d.route = e[i + 3].str;
                d.dedup_key = e[i + 4].str;
                d.frame.type = parse_frame_type(e[i + 5].str);
                parse_frame_headers(e[i + 6].str, d.frame);
                d.frame.data = e[i + 7].str;
                d.url = e[i + 8].str;
                d.attempts = static_cast<int>(e[i + 9].as_int());
                d.queued_at_ms = e[i + 10].as_int();
                d.created_at_ms = e[i + 11].as_int();
                found.push_back(std::move(d));
              }
              held_count_ = held_.size();
            } else if (reply) {
              log::warn(kComponent, "due deliveries not read", {{"reason", reply->str}});
            }
            done(std::move(found));
          });
}

void RedisStore::enqueue_outcome(int64_t delivery_id, const char* kind, Attempt attempt,
                                 int64_t next_attempt_at_ms, std::function<void(Status)> done) {
  auto build = [this, delivery_id, kind, attempt = std::move(attempt), next_attempt_at_ms] {
    auto held = held_.find(delivery_id);
    // Not held (never claimed here, or lost): a token nobody has, so the script ignores it.
    const std::string token = held == held_.end() ? std::string("-") : held->second;
    return Call{RedisScript::outcome,
                {std::to_string(delivery_id), token, kind, std::to_string(attempt.at_ms),
                 std::to_string(attempt.status), attempt.error,
                 std::to_string(next_attempt_at_ms), std::to_string(now())}};
  };
  auto shared_done = std::make_shared<std::function<void(Status)>>(std::move(done));
  enqueue("outcome", build, [this, delivery_id, build, shared_done](Result<RedisReply> reply) {
    complete_outcome(delivery_id, build, shared_done, std::move(reply));
  });
}

void RedisStore::complete_outcome(int64_t delivery_id, std::function<Call()> build,
                                  std::shared_ptr<std::function<void(Status)>> done,
                                  Result<RedisReply> reply) {
  const Status status = reply_status(reply);
  if (!status && (!reply || refuses_writes(reply->str))) {
    // Kept with its claim, written again with a later batch (the claim keeps it from being
    // handed out here meanwhile).
    unrecorded_[delivery_id] = {"outcome", build,
                                [this, delivery_id, build, done](Result<RedisReply> again) {
                                  complete_outcome(delivery_id, build, done, std::move(again));
                                },
                                steady_us()};
    next_unrecorded_retry_ms_ = steady_ms() + options_.retry_interval_ms;
  } else {
    unrecorded_.erase(delivery_id);
    held_.erase(delivery_id);
    held_count_ = held_.size();
    if (!status)
      log::warn(kComponent, "delivery outcome not recorded",
                {{"id", std::to_string(delivery_id)}, {"reason", status.message()}});
  }
  unrecorded_count_ = unrecorded_.size();
  if (*done) {
    (*done)(status);
    *done = nullptr;  // once, also when written again later
  }
}

void RedisStore::record_success(int64_t delivery_id, Attempt attempt,
                                std::function<void(Status)> done) {
  enqueue_outcome(delivery_id, "delivered", std::move(attempt), 0, std::move(done));
}

void RedisStore::record_failure(int64_t delivery_id, Attempt attempt, int64_t next_attempt_at_ms,
                                std::function<void(Status)> done) {
  enqueue_outcome(delivery_id, "retry", std::move(attempt), next_attempt_at_ms, std::move(done));
}

void RedisStore::dead_letter(int64_t delivery_id, Attempt attempt,
                             std::function<void(Status)> done) {
  enqueue_outcome(delivery_id, "dead", std::move(attempt), 0, std::move(done));
}

void RedisStore::release(int64_t delivery_id) {
  enqueue("release",
          [this, delivery_id] {
            auto held = held_.find(delivery_id);
            const std::string token = held == held_.end() ? std::string("-") : held->second;
            held_.erase(delivery_id);
            held_count_ = held_.size();
            return Call{RedisScript::release, {std::to_string(delivery_id), token}};
          },
          [](Result<RedisReply>) {});  // not released: the lease lapses by itself
}

void RedisStore::refresh(std::function<void()> done) {
  enqueue("refresh", [] { return Call{RedisScript::oldest, {}}; },
          [this, done = std::move(done)](Result<RedisReply> reply) {
            if (reply && !reply->is_error() && reply->elements.size() >= 2) {
              const auto& e = reply->elements;
              pending_ = e[0].as_int();
              dead_ = e[1].as_int();
              std::map<std::string, int64_t> oldest;
              for (size_t i = 2; i + 1 < e.size(); i += 2)
                oldest[e[i].str] = static_cast<int64_t>(std::strtod(e[i + 1].str.c_str(), nullptr));
              std::lock_guard lock(oldest_mutex_);
              oldest_pending_ = std::move(oldest);
            }
            if (done) done();
          });
}

// --- dedup -------------------------------------------------------------------------------

void RedisStore::remember_dedup(DedupRecord record) {
  auto shared = std::make_shared<DedupRecord>(std::move(record));
  enqueue("remember_dedup",
          [this, shared] {
            held_markers_.erase(shared->key);
            return Call{RedisScript::remember_dedup,
                        {shared->key,
                         encode_dedup_value(shared->remembered_at_ms, shared->code, shared->data),
                         std::to_string(std::max<int64_t>(options_.dedup_window_ms, 1))}};
          },
          [shared](Result<RedisReply> reply) {
            if (Status status = reply_status(reply); !status)
              log::debug(kComponent, "dedup record not stored",
                         {{"key", shared->key}, {"reason", status.message()}});
          });
}

void RedisStore::find_dedup(std::string key, int64_t since_ms,
                            std::function<void(std::optional<DedupRecord>)> done) {
  auto shared_key = std::make_shared<std::string>(std::move(key));
  enqueue("find_dedup",
          [this, shared_key] { return Call{{}, {"GET", options_.key_prefix + "dd:" + *shared_key}}; },
          [shared_key, since_ms, done = std::move(done)](Result<RedisReply> reply) {
            DedupRecord record;
            if (reply && reply->type == RedisReply::Type::string &&
                decode_dedup_value(*shared_key, reply->str, record) &&
                record.remembered_at_ms >= since_ms) {
              done(std::move(record));
              return;
            }
            done(std::nullopt);
          });
}

void RedisStore::claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                             std::function<void(Result<DedupClaim>)> done) {
  auto shared_key = std::make_shared<std::string>(std::move(key));
  enqueue("claim_dedup",
          [this, shared_key, since_ms, lease_ms] {
            return Call{RedisScript::claim_dedup,
                        {*shared_key, std::to_string(since_ms),
                         std::to_string(std::max<int64_t>(lease_ms, 1)), replica_}};
          },
          [this, shared_key, lease_ms, done = std::move(done)](Result<RedisReply> reply) {
            if (Status status = reply_status(reply); !status) {
              done(status);
              return;
            }
            const auto& e = reply->elements;
            DedupClaim claim;
            const int64_t state = e.empty() ? -1 : e[0].as_int(-1);
            if (state == 1 && e.size() >= 2 && decode_dedup_value(*shared_key, e[1].str, claim.record)) {
              claim.state = DedupClaim::State::delivered;
            } else if (state == 0) {
              claim.state = DedupClaim::State::mine;
              held_markers_[*shared_key] = std::max<int64_t>(lease_ms, 1);
            } else if (state == 2) {
              claim.state = DedupClaim::State::elsewhere;
            } else {
              done(Status::error("redis: unexpected claim_dedup reply"));
              return;
            }
            done(std::move(claim));
          });
}

void RedisStore::release_dedup(std::string key) {
  auto shared_key = std::make_shared<std::string>(std::move(key));
  enqueue("release_dedup",
          [this, shared_key] {
            held_markers_.erase(*shared_key);
            return Call{RedisScript::release_dedup, {*shared_key, replica_}};
          },
          [](Result<RedisReply>) {});  // not released: the marker's lease lapses by itself
}

}  // namespace dsb::store
