#include "bridge/loop_ports.hpp"

#include "common/clock.hpp"

namespace dsb::bridge {

int64_t LoopTimers::now_ms() const { return dsb::steady_ms(); }

int64_t SystemWallClock::now_ms() const { return dsb::wall_ms(); }

HttpWebhooks::HttpWebhooks(loop::EventLoop& loop, deliver::HttpClient::Options options)
    : loop_(loop) {
  client_ = std::make_unique<deliver::HttpClient>(
      options, [this](std::vector<deliver::Completion> batch) {
        // HTTP thread: hand over, nothing else. One task per batch, not per completion.
        loop_.post([this, batch = std::move(batch)]() mutable {
          for (auto& completion : batch) complete(std::move(completion));
        });
      });
}

HttpWebhooks::~HttpWebhooks() { shutdown(); }

void HttpWebhooks::post(deliver::Request request, std::function<void(deliver::Response)> done) {
  // The completion can only run on this (the loop) thread after we return, so registering
  // `done` after submit() cannot miss it.
  const deliver::RequestId id = client_->submit(std::move(request));
  pending_.emplace(id, std::move(done));
}

void HttpWebhooks::complete(deliver::Completion completion) {
  auto it = pending_.find(completion.id);
  if (it == pending_.end()) return;
  std::function<void(deliver::Response)> done = std::move(it->second);
  pending_.erase(it);
  done(std::move(completion.response));
}

void HttpWebhooks::shutdown() { client_.reset(); }

void LoopSpool::append(store::SpoolEntry entry, std::function<void(Status)> done) {
  store_.append(std::move(entry), [this, done = std::move(done)](Status status) mutable {
    loop_.post([done = std::move(done), status = std::move(status)] { done(status); });
  });
}

void LoopSpool::due(int64_t now_ms, size_t limit,
                    std::function<void(std::vector<store::DueDelivery>)> done) {
  store_.due(now_ms, limit, [this, done = std::move(done)](std::vector<store::DueDelivery> due) mutable {
    loop_.post([done = std::move(done), due = std::move(due)]() mutable { done(std::move(due)); });
  });
}

}  // namespace dsb::bridge
