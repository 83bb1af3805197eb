// `dingtalk-stream-bridge spool list|show|replay|purge -c FILE` (product.md sections 2,
// 11 and 12): the operator's view of the spool, in the backend `store.backend` names (with
// Redis: the server the replicas share). Works on the daemon's file while the daemon runs
// (WAL and a busy timeout); the daemon polls due(), so a replayed delivery (pending, due
// now) is picked up without telling it. Opening the file migrates an older schema, as the
// daemon does; a file from a newer binary is refused untouched.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace dsb::store {

enum class SpoolAction { list, show, replay, purge };

struct SpoolOptions {
  SpoolAction action = SpoolAction::list;
  bool json = false;      // one JSON document instead of text
  int64_t id = 0;         // show: the delivery; replay/purge: only this one (0 = any)
  std::string route;      // replay/purge: only this route ("" = any)
  std::optional<int64_t> since_ms;  // replay: only those dead-lettered within this long
  bool yes = false;       // purge: confirmed
};

// Exit codes: 0 done (also when nothing matched a replay or purge), 1 the store could not
// be read or written, or `show` found no such delivery, 2 usage (purge without --yes).
int run_spool_command(const config::Config& config, const SpoolOptions& options,
                      std::ostream& out, std::ostream& err);

}  // namespace dsb::store
