#include "store/spool_command.hpp"

#include <sys/stat.h>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "config/units.hpp"
#include "store/database.hpp"
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

int list(Database& db, const SpoolOptions& options, int64_t now, std::ostream& out,
         std::ostream& err) {
  auto rows = read_deliveries(db);
  if (!rows) {
    err << "spool list: " << rows.status().message() << '\n';
    return kExitFailure;
  }
  if (options.json) print_list_json(rows.value(), now, out);
  else print_list_table(rows.value(), now, out);
  return kExitOk;
}

int show(Database& db, const SpoolOptions& options, int64_t now, std::ostream& out,
         std::ostream& err) {
  auto detail = read_delivery(db, options.id);
  if (!detail) {
    err << "spool show: " << detail.status().message() << '\n';
    return kExitFailure;
  }
  if (!detail.value()) return no_such_delivery(options.id, err);
  if (options.json) print_show_json(*detail.value(), now, out);
  else print_show_text(*detail.value(), now, out);
  return kExitOk;
}

int change(Database& db, const SpoolOptions& options, int64_t now, std::ostream& out,
           std::ostream& err) {
  DeadLetterSelection which;
  which.id = options.id;
  which.route = options.route;
  if (options.since_ms) which.died_since_ms = now - *options.since_ms;
  const bool replay = options.action == SpoolAction::replay;
  auto ids = replay ? replay_dead_letters(db, which, now) : purge_dead_letters(db, which);
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

}  // namespace

int run_spool_command(const config::Config& config, const SpoolOptions& options,
                      std::ostream& out, std::ostream& err) {
  if (options.action == SpoolAction::purge && !options.yes) {
    err << "spool purge: dead letters are dropped for good; add --yes to confirm\n";
    return kExitUsage;
  }
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
  const int64_t now = wall_ms();
  switch (options.action) {
    case SpoolAction::list: return list(*db.value(), options, now, out, err);
    case SpoolAction::show: return show(*db.value(), options, now, out, err);
    case SpoolAction::replay:
    case SpoolAction::purge: return change(*db.value(), options, now, out, err);
  }
  return kExitFailure;
}

}  // namespace dsb::store
