#include "store/spool_command.hpp"

#include <sys/stat.h>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "config/units.hpp"
#include "store/database.hpp"
#include "store/redis_connection.hpp"
#include "store/redis_spool_queries.hpp"
#include "store/spool_format.hpp"
#include "store/spool_queries.hpp"

namespace dsb::store {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char* action_name(SpoolAction action) {
  switch (action) {
    case SpoolAction::list: return "list";
    case SpoolAction::show: return "show";
    case SpoolAction::replay: return "replay";
    case SpoolAction::purge: return "purge";
  }
  return "";
}

std::string selection_text(const SpoolOptions& options) {
  std::string text;
  if (options.id != 0) text += " with id " + std::to_string(options.id);
  if (!options.route.empty()) text += " of route " + options.route;
  if (options.since_ms) {
    text += " that died within " +
            config::format_duration(std::chrono::milliseconds(*options.since_ms));
  }
  return text;
}

int no_such_delivery(int64_t id, std::ostream& err) {
  err << "spool show: no delivery with id " << id << '\n';
  return kExitFailure;
}

// The daemon has not spooled anything yet: an empty spool, not an error.
int without_store(const SpoolOptions& options, const std::string& path, std::ostream& out,
                  std::ostream& err) {
  switch (options.action) {
    case SpoolAction::list:
      if (options.json) out << "[]\n";
      else out << "no store at " << path << " yet: 0 pending, 0 dead-lettered\n";
      return kExitOk;
    case SpoolAction::show:
      return no_such_delivery(options.id, err);
    case SpoolAction::replay:
    case SpoolAction::purge:
      if (options.json) print_change_json(action_name(options.action), {}, out);
      else out << "no store at " << path << " yet: nothing to " << action_name(options.action)
               << '\n';
      return kExitOk;
  }
  return kExitOk;
}

int list(SpoolQueries& db, const SpoolOptions& options, int64_t now, std::ostream& out,
         std::ostream& err) {
  auto rows = db.deliveries();
  if (!rows) {
    err << "spool list: " << rows.status().message() << '\n';
    return kExitFailure;
  }
  if (options.json) print_list_json(rows.value(), now, out);
  else print_list_table(rows.value(), now, out);
  return kExitOk;
}

int show(SpoolQueries& db, const SpoolOptions& options, int64_t now, std::ostream& out,
         std::ostream& err) {
  auto detail = db.delivery(options.id);
  if (!detail) {
    err << "spool show: " << detail.status().message() << '\n';
    return kExitFailure;
  }
  if (!detail.value()) return no_such_delivery(options.id, err);
  if (options.json) print_show_json(*detail.value(), now, out);
  else print_show_text(*detail.value(), now, out);
  return kExitOk;
}

int change(SpoolQueries& db, const SpoolOptions& options, int64_t now, std::ostream& out,
           std::ostream& err) {
  DeadLetterSelection which;
  which.id = options.id;
  which.route = options.route;
  if (options.since_ms) which.died_since_ms = now - *options.since_ms;
  const bool replay = options.action == SpoolAction::replay;
  auto ids = replay ? db.replay(which, now) : db.purge(which);
  if (!ids) {
    err << "spool " << action_name(options.action) << ": " << ids.status().message() << '\n';
    return kExitFailure;
  }
  const size_t count = ids.value().size();
  if (options.json) {
    print_change_json(action_name(options.action), ids.value(), out);
  } else {
    out << (replay ? "re-queued " : "purged ") << count << " dead-letter deliver"
        << (count == 1 ? "y" : "ies") << selection_text(options) << '\n';
  }
  if (count == 0 && options.id != 0)
    err << "spool: no dead-letter delivery with id " << options.id << '\n';
  return kExitOk;
}

// The SQLite queries on the daemon's file.
class SqliteSpoolQueries final : public SpoolQueries {
 public:
  explicit SqliteSpoolQueries(Database& db) : db_(db) {}
  Result<std::vector<DeliveryRow>> deliveries() override { return read_deliveries(db_); }
  Result<std::optional<DeliveryDetail>> delivery(int64_t id) override {
    return read_delivery(db_, id);
  }
  Result<std::vector<int64_t>> replay(const DeadLetterSelection& which, int64_t now_ms) override {
    return replay_dead_letters(db_, which, now_ms);
  }
  Result<std::vector<int64_t>> purge(const DeadLetterSelection& which) override {
    return purge_dead_letters(db_, which);
  }

 private:
  Database& db_;
};

int run_queries(SpoolQueries& queries, const SpoolOptions& options, std::ostream& out,
                std::ostream& err) {
  const int64_t now = wall_ms();
  switch (options.action) {
    case SpoolAction::list: return list(queries, options, now, out, err);
    case SpoolAction::show: return show(queries, options, now, out, err);
    case SpoolAction::replay:
    case SpoolAction::purge: return change(queries, options, now, out, err);
  }
  return kExitFailure;
}

// Redis: the same queries on the server the daemons share (an empty spool has no keys,
// which reads as empty: no "no store yet" case).
int run_on_redis(const config::Config& config, const SpoolOptions& options, std::ostream& out,
                 std::ostream& err) {
  RedisConnection connection({config.store.redis});
  if (Status connected = connection.ensure(); !connected) {
    err << "spool: " << connected.message() << '\n';
    return kExitFailure;
  }
  RedisSpoolQueries queries(connection, config.store.key_prefix);
  return run_queries(queries, options, out, err);
}

}  // namespace

int run_spool_command(const config::Config& config, const SpoolOptions& options,
                      std::ostream& out, std::ostream& err) {
  if (options.action == SpoolAction::purge && !options.yes) {
    err << "spool purge: dead letters are dropped for good; add --yes to confirm\n";
    return kExitUsage;
  }
  if (config.store.backend == config::StoreBackend::redis)
    return run_on_redis(config, options, out, err);
  const std::string path = database_path(config.state_dir);
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return without_store(options, path, out, err);
  OpenOptions open;
  open.create = false;
  auto db = Database::open(path, open);
  if (!db) {
    err << "spool: " << db.status().message() << '\n';
    return kExitFailure;
  }
  SqliteSpoolQueries queries(*db.value());
  return run_queries(queries, options, out, err);
}

}  // namespace dsb::store
