// The spool's and the dedup records' data, as every store backend (backend.hpp) takes and
// hands it out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stream/frame.hpp"

namespace dsb::store {

// What the relay spools for a `delivery: spool` route: the frame and the URLs it goes to.
struct SpoolEntry {
  std::string route;
  std::string dedup_key;
  stream::Frame frame;
  std::vector<std::string> urls;  // one delivery row each
  int64_t created_at_ms = 0;      // wall clock
  // The route's order_by value for this frame; none: not ordered. Deliveries with one are
  // handed out per (route, URL, order_key) one at a time, in append order (see due()).
  std::optional<std::string> order_key;
};

// One (frame, URL) delivery handed out by due(): claimed until record_*() or release().
struct DueDelivery {
  int64_t id = 0;  // the delivery id (record_* / spool replay --id)
  int64_t frame_id = 0;
  std::string route;
  std::string dedup_key;
  stream::Frame frame;
  std::string url;
  int attempts = 0;          // made so far
  int64_t queued_at_ms = 0;  // for RetryPolicy's age (reset by `spool replay`)
  int64_t created_at_ms = 0;
};

// One attempt on a delivery, as its history keeps it (`spool show`).
struct Attempt {
  int64_t at_ms = 0;  // wall clock: when the outcome was known
  int status = 0;     // the webhook's HTTP status; 0 when it failed below HTTP or was not sent
  std::string error;  // why it failed; "" for a success
};

// The history kept per delivery: its first attempts (how it started failing) and its
// latest ones (how it fails now); those between are dropped as new ones come, so a
// delivery retried for a day holds at most this many rows.
inline constexpr int kFirstAttemptsKept = 3;
inline constexpr int kLastAttemptsKept = 10;

struct SpoolCounts {
  int64_t pending = 0;
  int64_t dead = 0;
};

struct DedupRecord {
  std::string key;
  int code = 200;
  std::string data;
  int64_t remembered_at_ms = 0;
};

}  // namespace dsb::store
