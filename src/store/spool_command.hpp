// `dingtalk-stream-bridge spool list|replay|purge -c FILE` (product.md section 2): the
// operator's view of the spool. Works on the daemon's file while the daemon runs (WAL and
// a busy timeout); the daemon polls due(), so a replayed delivery (pending, due now) is
// picked up without telling it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "config/config.hpp"

namespace dsb::store {

enum class SpoolAction { list, replay, purge };

struct SpoolOptions {
  SpoolAction action = SpoolAction::list;
  bool json = false;      // list: a JSON array instead of the table
  int64_t id = 0;         // replay/purge: only this delivery id (0 = any)
  std::string route;      // replay/purge: only this route ("" = any)
  bool yes = false;       // purge: confirmed
};

// Exit codes: 0 done (also when nothing matched), 1 the store could not be read or
// written, 2 usage (purge without --yes).
int run_spool_command(const config::Config& config, const SpoolOptions& options,
                      std::ostream& out, std::ostream& err);

}  // namespace dsb::store
