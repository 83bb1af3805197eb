// dingtalk-stream-bridge: the command line (product.md section 2). Subcommands only; each
// hands over to the stage that owns the work.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "bridge/daemon.hpp"
#include "config/loader.hpp"
#include "config/units.hpp"
#include "emulator/emulator.hpp"
#include "store/spool_command.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;  // usage or config error (product.md section 2)

constexpr const char* kConfigEnv = "DINGTALK_STREAM_BRIDGE_CONFIG";

// Loads and validates `path`; prints every error as FILE:LINE:COL: message on stderr.
std::optional<dsb::config::Config> load_or_report(const std::string& path) {
  dsb::config::ProcessEnvironment env;
  dsb::config::LoadResult result = dsb::config::load_file(path, env);
  for (const auto& error : result.errors) std::cerr << error.to_string() << '\n';
  return std::move(result.config);
}

int run_command(const std::string& path) {
  auto config = load_or_report(path);
  if (!config) return kExitUsage;
  return dsb::bridge::run_daemon(*config);
}

int check_command(const std::string& path) {
  auto config = load_or_report(path);
  if (!config) return kExitUsage;
  std::cout << path << ": OK\n" << dsb::config::describe(*config);
  return kExitOk;
}

int spool_command(const std::string& path, const dsb::store::SpoolOptions& options) {
  auto config = load_or_report(path);
  if (!config) return kExitUsage;
  return dsb::store::run_spool_command(*config, options, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Holds DingTalk Stream-mode connections and relays events and callbacks to "
               "local HTTP webhooks.",
               "dingtalk-stream-bridge"};
  app.set_version_flag("--version", std::string("dingtalk-stream-bridge ") + BRIDGE_VERSION);
  app.require_subcommand(0, 1);

  // `run` is also what happens with no subcommand, so the top level takes -c as well.
  std::string default_config;
  app.add_option("-c,--config", default_config, "Config file (for the default `run`)")
      ->envname(kConfigEnv);

  std::string run_config;
  CLI::App* run = app.add_subcommand("run", "Run the daemon in the foreground (the default)");
  run->add_option("-c,--config", run_config, "Config file")->envname(kConfigEnv)->required();

  std::string check_config;
  CLI::App* check = app.add_subcommand(
      "check", "Validate the config; print every error as FILE:LINE:COL: message");
  check->add_option("-c,--config", check_config, "Config file")->envname(kConfigEnv)->required();

  dsb::emulator::Options emulator_options;
  CLI::App* emulate =
      app.add_subcommand("emulate", "Run a local, offline stand-in for the DingTalk gateway");
  emulate->add_option("--listen", emulator_options.listen, "HOST:PORT to listen on (port 0: any)")
      ->capture_default_str();
  std::vector<std::string> emulator_clients;
  emulate->add_option("--client-id", emulator_clients,
                      "Accepted client id (default dingemulatorclient); repeat it to serve several "
                      "apps at once, each as ID (with --client-secret) or ID:SECRET");
  emulate->add_option("--client-secret", emulator_options.client_secret, "Accepted client secret")
      ->capture_default_str();
  emulate->add_option("--ping-interval", emulator_options.system_ping_interval_s,
                      "Seconds between SYSTEM ping frames to each connection (0: off)")
      ->capture_default_str();
  emulate->add_option("--demo-interval", emulator_options.demo_event_interval_s,
                      "Seconds between sample frames pushed for a demo (0: off)")
      ->capture_default_str();
  CLI::Option* tls_cert =
      emulate->add_option("--tls-cert", emulator_options.tls_cert,
                          "PEM certificate (chain): serve HTTPS and WSS instead of HTTP and WS")
          ->check(CLI::ExistingFile);
  CLI::Option* tls_key = emulate->add_option("--tls-key", emulator_options.tls_key,
                                             "PEM private key of --tls-cert")
                             ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);

  // spool list|show|replay|purge -c FILE (product.md sections 2 and 11)
  std::string spool_config;
  dsb::store::SpoolOptions spool_options;
  CLI::App* spool = app.add_subcommand(
      "spool", "Show, re-queue or drop dead-lettered deliveries of `delivery: spool` routes");
  spool->require_subcommand(1);
  CLI::App* spool_list =
      spool->add_subcommand("list", "Print pending and dead-lettered deliveries");
  CLI::App* spool_show = spool->add_subcommand(
      "show", "Print one delivery: its frame's headers and body, and its attempts");
  CLI::App* spool_replay = spool->add_subcommand(
      "replay", "Re-queue dead letters (all unless --id, --route or --since)");
  CLI::App* spool_purge =
      spool->add_subcommand("purge", "Drop dead letters for good (all unless --id or --route)");
  for (CLI::App* leaf : {spool_list, spool_show, spool_replay, spool_purge}) {
    leaf->add_option("-c,--config", spool_config, "Config file")->envname(kConfigEnv)->required();
    leaf->add_flag("--json", spool_options.json, "Print one JSON document instead of text");
  }
  spool_show->add_option("ID", spool_options.id, "The delivery id (as `spool list` shows it)")
      ->check(CLI::PositiveNumber)
      ->required();
  for (CLI::App* leaf : {spool_replay, spool_purge}) {
    CLI::Option* id = leaf->add_option("--id", spool_options.id, "Only this delivery id")
                          ->check(CLI::PositiveNumber);
    CLI::Option* route = leaf->add_option("--route", spool_options.route, "Only this route");
    id->excludes(route);
  }
  spool_replay->add_option_function<std::string>(
      "--since",
      [&spool_options](const std::string& text) {
        auto since = dsb::config::parse_duration(text);
        if (!since) throw CLI::ValidationError("--since", since.status().message());
        spool_options.since_ms = since.value().count();
      },
      "Only those dead-lettered within DURATION (e.g. 30m, 2h)")
      ->type_name("DURATION");
  spool_purge->add_flag("--yes", spool_options.yes, "Confirm: dropped dead letters are gone");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version come through here with exit code 0.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  if (*check) return check_command(check_config);
  if (*emulate) {
    if (dsb::Status clients = dsb::emulator::set_clients(emulator_options, emulator_clients); !clients) {
      std::fprintf(stderr, "%s\n", clients.message().c_str());
      return 2;
    }
    return dsb::emulator::run(emulator_options);
  }
  if (*run) return run_command(run_config);
  if (*spool) {
    spool_options.action = *spool_replay ? dsb::store::SpoolAction::replay
                           : *spool_purge ? dsb::store::SpoolAction::purge
                           : *spool_show  ? dsb::store::SpoolAction::show
                                          : dsb::store::SpoolAction::list;
    return spool_command(spool_config, spool_options);
  }
  if (default_config.empty()) {
    std::cerr << "dingtalk-stream-bridge: no config file: pass -c FILE or set " << kConfigEnv
              << "\nRun with --help for more information.\n";
    return kExitUsage;
  }
  return run_command(default_config);
}
