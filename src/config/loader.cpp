// The schema of product.md section 3 (plus dingtalk.keepalive and dingtalk.reconnect),
// read section by section. Each reader records errors and keeps the default on a bad
// value, so one run reports everything; the Config is returned only when nothing failed.
#include "config/loader.hpp"

#include <limits>
#include <map>

#include <yaml-cpp/depthguard.h>

#include "config/checks.hpp"
#include "config/diagnostics.hpp"
#include "config/map_reader.hpp"
#include "config/openapi_section.hpp"
#include "config/routes.hpp"
#include "config/store_settings.hpp"
#include "config/units.hpp"

namespace dsb::config {
namespace {

constexpr long long kMaxConnections = 8;
// What yaml-cpp's DepthGuard (2000 recursive calls, about four per level) allows.
constexpr int kYamlNestingLimit = 500;

// Known keys are listed most-used first: "did you mean" prefers earlier ones on ties.
const std::vector<std::string_view> kTopKeys = {"dingtalk", "routes", "apps",   "admin",  "openapi",
                                                "state_dir", "store", "log", "limits", "defaults"};
// The keys of `dingtalk:`, which an item of `apps:` takes too (product.md section 12).
const std::vector<std::string_view> kDingtalkKeys = {
    "client_id", "client_secret", "client_secret_file", "api_base", "oapi_base",
    "connections", "proxy",       "ca_file",            "keepalive", "reconnect"};
constexpr std::size_t kMaxAppName = 32;
const std::vector<std::string_view> kLevels = {"trace", "debug", "info", "warn", "error"};
const std::vector<std::string_view> kLogFormats = {"text", "json"};
const std::vector<std::string_view> kDeliveries = {"direct", "spool"};

void read_required_text(MapReader& m, std::string_view key, std::string& out) {
  if (!m.has(key)) {
    m.missing(key);
    return;
  }
  if (auto v = m.text(key)) {
    if (v->empty()) m.error(key, "must not be empty");
    out = *v;
  }
}

void read_keepalive(MapReader& dingtalk, Keepalive& keepalive) {
  std::optional<MapReader> m = dingtalk.map("keepalive");
  if (!m) return;
  m->reject_unknown({"ping_idle", "pong_timeout", "silence_timeout"});
  if (auto v = m->duration("ping_idle")) keepalive.ping_idle = *v;
  if (auto v = m->duration("pong_timeout")) keepalive.pong_timeout = *v;
  if (auto v = m->duration("silence_timeout")) keepalive.silence_timeout = *v;
}

void read_reconnect(MapReader& dingtalk, Reconnect& reconnect) {
  std::optional<MapReader> m = dingtalk.map("reconnect");
  if (!m) return;
  m->reject_unknown({"initial", "max"});
  auto initial = m->duration("initial");
  auto max = m->duration("max");
  if (initial) reconnect.initial = *initial;
  if (max) reconnect.max = *max;
  if ((initial || max) && reconnect.max < reconnect.initial) {
    m->error(max ? "max" : "initial",
             "must not be less than initial (" + format_duration(reconnect.initial) + ")");
  }
}

// The keys of kDingtalkKeys in `m`: the `dingtalk:` mapping or one item of `apps:`.
void read_dingtalk_keys(MapReader* m, DingTalk& dingtalk) {
  read_required_text(*m, "client_id", dingtalk.client_id);
  if (Problem problem = check_identifier(dingtalk.client_id)) m->error("client_id", *problem);
  if (auto v = m->required_secret("client_secret")) dingtalk.client_secret = *v;
  if (auto v = m->text("api_base")) {
    if (Result<std::string> url = parse_url(*v, UrlKind::api_base); !url) {
      m->error("api_base", url.status().message());
    } else {
      // Downstream appends "/v1.0/..." paths; a trailing slash would double it.
      while (url->ends_with('/')) url->pop_back();
      dingtalk.api_base = std::move(url.value());
    }
  }
  if (auto v = m->text("oapi_base")) {
    if (Result<std::string> url = parse_url(*v, UrlKind::api_base); !url) {
      m->error("oapi_base", url.status().message());
    } else {
      while (url->ends_with('/')) url->pop_back();
      dingtalk.oapi_base = std::move(url.value());
    }
  }
  if (auto v = m->integer("connections", 1, kMaxConnections)) dingtalk.connections = static_cast<int>(*v);
  if (auto v = m->text("proxy"); v && !v->empty()) {
    if (Result<std::string> url = parse_url(*v, UrlKind::proxy); !url) {
      m->error("proxy", url.status().message() + " (or \"\" for none)");
    } else {
      dingtalk.proxy = std::move(url.value());
    }
  }
  if (auto v = m->text("ca_file"); v && !v->empty()) {
    if (std::optional<std::string> pem = m->file("ca_file", *v, kMaxCaBundleBytes)) {
      if (Problem problem = check_ca_bundle(*pem)) m->error("ca_file", quoted(*v) + " " + *problem);
    }
    dingtalk.ca_file = *v;
  }
  read_keepalive(*m, dingtalk.keepalive);
  read_reconnect(*m, dingtalk.reconnect);
}

// The single-app form: `dingtalk:` and top-level `routes:` are the app "default".
void read_single_app(Context& ctx, MapReader& root, const Defaults& defaults, ListenUses& listens,
                     std::vector<App>& apps) {
  App app;
  app.location = ctx.diag.location(root.mark());
  if (!root.has("dingtalk")) {
    root.missing("dingtalk", "client_id and client_secret are required");
  } else if (std::optional<MapReader> m = root.map("dingtalk")) {
    app.location = ctx.diag.location(root.value_mark("dingtalk"));
    m->reject_unknown(kDingtalkKeys);
    read_dingtalk_keys(&*m, app.dingtalk);
  }
  read_routes(ctx, root, defaults, app.routes);
  read_openapi(ctx, root, "the openapi endpoint", listens, app.openapi);
  apps.push_back(std::move(app));
}

Problem check_app_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAppName) {
    return "must be 1 to " + std::to_string(kMaxAppName) + " characters, got " +
           std::to_string(name.size());
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return "may contain only a-z, 0-9, \"_\" and \"-\", got " + quoted(name);
  }
  return std::nullopt;
}

struct AppSeen {
  int line;  // 1-based, of the first use
  std::string app;
};

void read_app(Context& ctx, std::size_t index, const YAML::Node& node, const YAML::Mark& mark,
              const Defaults& defaults, std::map<std::string, AppSeen>& names,
              std::map<std::string, AppSeen>& client_ids, ListenUses& listens,
              std::vector<App>& out) {
  const std::string label = "app #" + std::to_string(index + 1);
  if (!node.IsMap()) {
    ctx.diag.error(mark, label + ": expected a mapping with name, client_id, client_secret and "
                                 "routes, got " + kind_of(node));
    return;
  }
  MapReader r(ctx, node, mark, Scope{"", label});
  App app;
  app.location = ctx.diag.location(mark);
  // The name comes first because every other message names the app by it.
  std::optional<std::string> name = r.text("name");
  if (!r.has("name")) r.missing("name");
  bool named = false;
  if (name) {
    if (Problem problem = check_app_name(*name)) {
      r.error("name", *problem);
    } else {
      named = true;
      r.set_scope(Scope{"", "app " + quoted(*name)});
      auto [it, inserted] = names.emplace(*name, AppSeen{r.value_mark("name").line + 1, *name});
      if (!inserted) {
        r.error("name", "already used by the app at line " + std::to_string(it->second.line));
      }
    }
    app.name = *name;
  }
  std::vector<std::string_view> known = {"name"};
  known.insert(known.end(), kDingtalkKeys.begin(), kDingtalkKeys.end());
  known.push_back("routes");
  known.push_back("openapi");
  r.reject_unknown(known);
  read_dingtalk_keys(&r, app.dingtalk);
  if (!app.dingtalk.client_id.empty()) {
    auto [it, inserted] = client_ids.emplace(
        app.dingtalk.client_id, AppSeen{r.value_mark("client_id").line + 1, app.name});
    if (!inserted) {
      // DingTalk spreads an app's pushes over all its connections: two apps on one client
      // id would each get a random share of the other's frames.
      r.error("client_id", "already used by app " + quoted(it->second.app) + " (line " +
                               std::to_string(it->second.line) + "); one app per client id");
    }
  }
  read_routes(ctx, r, defaults, app.routes, named ? std::string_view(*name) : std::string_view());
  read_openapi(ctx, r, "app " + quoted(app.name), listens, app.openapi);
  out.push_back(std::move(app));
}

// The `apps:` form: a list of apps, each with the keys of `dingtalk:` and its own routes.
void read_apps(Context& ctx, MapReader& root, const Defaults& defaults, ListenUses& listens,
               std::vector<App>& apps) {
  for (std::string_view key : {"dingtalk", "routes", "openapi"}) {
    if (root.has(key)) {
      root.error(key, "cannot be combined with apps; give each app its dingtalk keys and routes "
                      "inside apps, or use dingtalk and routes without apps (the app \"default\")");
    }
  }
  const YAML::Node& list = root.find("apps")->value;
  if (list.IsNull() || (list.IsSequence() && list.size() == 0)) {
    root.error("apps", "at least one app is needed");
    return;
  }
  if (!list.IsSequence()) {
    root.error("apps", "expected a list of apps, got " + kind_of(list));
    return;
  }
  std::map<std::string, AppSeen> names;
  std::map<std::string, AppSeen> client_ids;
  std::size_t index = 0;
  for (const YAML::Node& item : list) {
    read_app(ctx, index, item, mark_or(item, root.value_mark("apps")), defaults, names, client_ids,
             listens, apps);
    ++index;
  }
}

void read_admin(MapReader& root, Admin& admin) {
  std::optional<MapReader> m = root.map("admin");
  if (!m) return;
  m->reject_unknown({"listen"});
  std::optional<std::string> text = m->text("listen");
  if (!text) return;
  if (text->empty()) {
    admin.listen.reset();
    return;
  }
  Result<ListenAddress> address = parse_listen(*text);
  if (!address) {
    m->error("listen", address.status().message());
    return;
  }
  admin.listen = std::move(address.value());
}

void read_log(MapReader& root, Log& log) {
  std::optional<MapReader> m = root.map("log");
  if (!m) return;
  m->reject_unknown({"level", "format"});
  if (auto v = m->choice("level", kLevels)) {
    for (std::size_t i = 0; i < kLevels.size(); ++i) {
      if (kLevels[i] == *v) log.level = static_cast<log::Level>(i);
    }
  }
  if (auto v = m->choice("format", kLogFormats)) {
    log.format = *v == "json" ? log::Format::json : log::Format::text;
  }
}

void read_limits(MapReader& root, Limits& limits) {
  std::optional<MapReader> m = root.map("limits");
  if (!m) return;
  m->reject_unknown({"ack_deadline", "dedup_window", "max_frame", "shutdown_grace"});
  if (auto v = m->duration("ack_deadline")) limits.ack_deadline = *v;
  if (auto v = m->duration("dedup_window")) limits.dedup_window = *v;
  if (auto v = m->size("max_frame")) limits.max_frame = *v;
  if (auto v = m->duration("shutdown_grace")) limits.shutdown_grace = *v;
}

void read_defaults(MapReader& root, Defaults& defaults) {
  std::optional<MapReader> m = root.map("defaults");
  if (!m) return;
  m->reject_unknown({"timeout", "delivery", "max_in_flight"});
  if (auto v = m->duration("timeout")) defaults.timeout = *v;
  if (auto v = m->choice("delivery", kDeliveries)) {
    defaults.delivery = *v == "spool" ? Delivery::spool : Delivery::direct;
  }
  if (auto v = m->integer("max_in_flight", 1, 10'000)) defaults.max_in_flight = static_cast<int>(*v);
}

void read_config(Context& ctx, const YAML::Node& root_node, Config& config) {
  MapReader root(ctx, root_node, root_node.Mark(), Scope{});
  root.reject_unknown(kTopKeys);
  read_admin(root, config.admin);
  if (auto v = root.text("state_dir")) {
    if (v->empty()) root.error("state_dir", "must not be empty");
    config.state_dir = *v;
  }
  read_store(root, config.store);
  read_log(root, config.log);
  read_limits(root, config.limits);
  read_defaults(root, config.defaults);
  ListenUses listens;
  if (config.admin.listen && config.admin.listen->port != 0) {
    listens.emplace(config.admin.listen->to_string(), "the admin endpoint");
  }
  if (root.has("apps")) {
    read_apps(ctx, root, config.defaults, listens, config.apps);
  } else {
    read_single_app(ctx, root, config.defaults, listens, config.apps);
  }
}

}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& file_name, const Environment& env) {
  Diagnostics diag(file_name);
  Context ctx{diag, env};
  Config config;
  config.source_file = file_name;
  // yaml-cpp reports through exceptions; none may leave the loader (the CLI and the
  // SIGHUP reload path expect a LoadResult, never a throw).
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) {
      diag.error(YAML::Mark(), "the config is empty; at least dingtalk and routes are required");
    } else if (!root.IsMap()) {
      diag.error(mark_or(root, YAML::Mark()),
                 "expected a mapping of sections (dingtalk, routes, ...) at the top level, got " +
                     kind_of(root));
    } else {
      read_config(ctx, root, config);
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own text is "bad file"; its guard stops at 2000 parser frames, which is
    // about 500 levels of lists or mappings.
    diag.error(e.mark, "invalid YAML: lists and mappings nested deeper than about " +
                           std::to_string(kYamlNestingLimit) + " levels");
  } catch (const YAML::Exception& e) {
    diag.error(e.mark, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    diag.error(YAML::Mark::null_mark(), std::string("internal error while loading: ") + e.what());
  }
  LoadResult result;
  result.errors = diag.take_sorted();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_file(const std::string& path, const Environment& env) {
  Result<std::string> text = env.read_file(path, kMaxConfigBytes);
  if (!text) {
    LoadResult result;
    result.errors.push_back({{path, 0, 0}, "cannot read the config file: " + text.status().message()});
    return result;
  }
  return load_string(text.value(), path, env);
}

}  // namespace dsb::config
