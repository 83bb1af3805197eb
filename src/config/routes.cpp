#include "config/routes.hpp"

#include <charconv>
#include <limits>
#include <map>

#include "common/base64.hpp"
#include "common/glob.hpp"
#include "config/checks.hpp"
#include "config/field_path.hpp"
#include "config/units.hpp"

namespace dsb::config {
namespace {

constexpr long long kMaxInFlight = 10'000;

// The one topic whose frames are HTTP requests (product.md section 10): format graph reads
// no other frame's data as one.
constexpr std::string_view kGraphTopic = "/v1.0/graph/api/invoke";
// Every URL of a route gets its own POST of every event, so the fan-out multiplies each
// event's work and connections; a few targets per route is what deployments use. The cap
// turns a generated or runaway list into an error instead of a daemon that cannot keep up.
constexpr std::size_t kMaxUrlsPerRoute = 64;
// Static headers go into every request of the route; real ones are a handful (a token, a
// tenant). Past this it is a generated or broken file, and every request would carry it.
constexpr std::size_t kMaxHeadersPerRoute = 64;

// A CALLBACK's webhook answers while DingTalk waits for the ACK (an AI assistant thinking,
// product.md section 10), a robot's while its sessionWebhook is valid; 10m covers both
// with room, and past it a request is more likely stuck than thinking.
constexpr Millis kMaxTimeout{10 * 60'000};
// `match` conditions are checked for every frame the route could take; a handful is what a
// route needs (robotCode, conversationId). Past this it is a generated or broken file.
constexpr std::size_t kMaxMatchFields = 16;
// Each glob is matched against a field value of up to limits.max_frame bytes, in time
// proportional to both; real ones are an id and a "*".
constexpr std::size_t kMaxGlobBytes = 1024;

const std::vector<std::string_view> kRouteKeys = {
    "name",    "topic",         "event",  "match",  "url",    "format",
    "timeout", "delivery",      "max_in_flight",    "headers",
    "signing", "signing_secret", "signing_secret_file", "rate", "retry", "legacy",
    "order_by"};
const std::vector<std::string_view> kFormats = {"raw", "legacy-robot", "legacy-event", "legacy-card",
                                                "graph"};
const std::vector<std::string_view> kDeliveries = {"direct", "spool"};
const std::vector<std::string_view> kSignings = {"bridge-v1", "standard-webhooks"};
constexpr long long kMaxRate = 1'000'000;
// Standard Webhooks keys are 24 to 64 random bytes; fewer than 16 is no key at all.
constexpr std::size_t kMinStandardWebhooksKey = 16;

std::optional<Format> format_from(const std::string& name) {
  if (name == "raw") return Format::raw;
  if (name == "legacy-robot") return Format::legacy_robot;
  if (name == "legacy-event") return Format::legacy_event;
  if (name == "legacy-card") return Format::legacy_card;
  if (name == "graph") return Format::graph;
  return std::nullopt;
}

// The label messages use for a route: its name when that is usable, else its position.
std::string route_label(std::size_t index, const std::optional<std::string>& name) {
  if (name && !check_route_name(*name)) return "route \"" + *name + "\"";
  return "route #" + std::to_string(index + 1);
}

// Why `pattern` is refused, naming the character check_glob stopped at.
std::string glob_problem(std::string_view pattern, const GlobError& error) {
  return "bad glob " + quoted(pattern) + " at character " + std::to_string(error.position) +
         ": " + error.message;
}

// What fires the route: `topic` (a CALLBACK topic, exact) or `event` (an eventType glob).
void read_trigger(MapReader& r, Route& route) {
  if (r.reject_both("topic", "event")) return;
  if (!r.has("topic") && !r.has("event")) {
    r.missing_either("topic", "event");
    return;
  }
  if (auto topic = r.text("topic")) {
    if (Problem problem = check_identifier(*topic)) {
      r.error("topic", *problem);
    } else if (topic->empty() || topic->front() != '/') {
      r.error("topic", "must start with \"/\", got \"" + *topic + "\"");
    } else {
      route.topic = *topic;
    }
  }
  if (auto event = r.text("event")) {
    if (event->empty()) r.error("event", "must not be empty (\"*\" matches every event)");
    if (Problem problem = check_identifier(*event)) {
      r.error("event", *problem);
    } else if (std::optional<GlobError> bad = check_glob(*event)) {
      r.error("event", glob_problem(*event, *bad));
    }
    route.event = *event;
  }
}

// `match: {FIELD: GLOB, ...}`: data fields (dotted paths) and the globs their values must
// match (product.md section 10).
void read_match(Context& ctx, MapReader& r, Route& route) {
  const MapReader::Entry* entry = r.find("match");
  if (!entry) return;
  if (!entry->value.IsMap() && !entry->value.IsNull()) {
    r.error("match", "expected a mapping of data fields to globs (robotCode: \"ding*\"), got " +
                         kind_of(entry->value));
    return;
  }
  std::optional<MapReader> m = r.map("match");
  if (!m) return;
  if (m->entries().empty()) {
    r.error("match", "must name at least one data field (FIELD: GLOB); leave match out to "
                     "take every frame");
    return;
  }
  if (m->entries().size() > kMaxMatchFields) {
    r.error("match", "names " + std::to_string(m->entries().size()) +
                         " fields; a route may match at most " + std::to_string(kMaxMatchFields));
    return;
  }
  m->report_duplicates();
  for (const MapReader::Entry& condition : m->entries()) {
    Result<FieldPath> field = parse_field_path(condition.key);
    if (!field) {
      ctx.diag.error(condition.key_mark, r.scope().name("match") + ": " + field.status().message());
      continue;
    }
    if (condition.value.IsNull()) {  // a null value's mark is the next token: point at the key
      ctx.diag.error(condition.key_mark, m->scope().name(condition.key) +
                                             ": expected a glob (\"*\" for any value), got nothing");
      continue;
    }
    if (!condition.value.IsScalar()) {
      m->error(condition.key, "expected a glob (\"*\" for any value), got " + kind_of(condition.value));
      continue;
    }
    std::optional<std::string> glob = m->text(condition.key);
    if (!glob) continue;
    if (glob->size() > kMaxGlobBytes) {
      m->error(condition.key, "a glob may be at most " + std::to_string(kMaxGlobBytes) +
                                  " bytes long, got " + std::to_string(glob->size()));
      continue;
    }
    if (Problem problem = check_identifier(*glob)) {
      m->error(condition.key, *problem);
      continue;
    }
    if (std::optional<GlobError> bad = check_glob(*glob)) {
      m->error(condition.key, glob_problem(*glob, *bad));
      continue;
    }
    route.match.push_back(FieldMatch{std::move(field.value()), std::move(*glob)});
  }
}

// One cap for every route: an event route's ACK goes out by limits.ack_deadline whatever its
// timeout, and configs written before the cap existed keep starting unless they ask for more.
void check_timeout(MapReader& r, const Route& route) {
  if (route.timeout <= kMaxTimeout) return;
  const std::string from = r.has("timeout") ? "" : " (from defaults.timeout)";
  r.error("timeout", format_duration(route.timeout) + from + " is longer than " +
                         format_duration(kMaxTimeout) + ", the most a route may wait for its webhook");
}

// A graph route's URLs are bases that each request's uri is appended to (product.md
// section 10), so they take no query.
void read_urls(Context& ctx, MapReader& r, Route& route, const std::optional<Format>& format) {
  const UrlKind kind = format == Format::graph ? UrlKind::api_base : UrlKind::webhook;
  const MapReader::Entry* entry = r.find("url");
  if (!entry) {
    r.missing("url");
    return;
  }
  auto add = [&](const YAML::Node& node, const YAML::Mark& mark, const std::string& name) {
    std::optional<std::string> text = read_text(ctx, node, mark, name);
    if (!text) return;
    Result<std::string> url = parse_url(*text, kind);
    if (!url) {
      ctx.diag.error(mark, name + ": " + url.status().message());
      return;
    }
    route.urls.push_back(std::move(url.value()));
  };
  const YAML::Node& value = entry->value;
  YAML::Mark mark = r.value_mark("url");
  if (value.IsSequence()) {
    if (value.size() == 0) r.error("url", "must list at least one URL");
    if (value.size() > kMaxUrlsPerRoute) {
      r.error("url", "lists " + std::to_string(value.size()) + " URLs; a route may have at most " +
                         std::to_string(kMaxUrlsPerRoute));
      return;
    }
    std::size_t i = 0;
    for (const YAML::Node& item : value) {
      add(item, mark_or(item, mark), r.scope().name("url[" + std::to_string(i++) + "]"));
    }
  } else if (value.IsMap()) {
    r.error("url", "expected a URL or a list of URLs, got a mapping");
  } else {
    add(value, mark, r.scope().name("url"));
  }
}

void read_headers(Context& ctx, MapReader& r, Route& route) {
  std::optional<MapReader> headers = r.map("headers");
  if (!headers) return;
  if (headers->entries().size() > kMaxHeadersPerRoute) {
    r.error("headers", "sets " + std::to_string(headers->entries().size()) +
                           " headers; a route may set at most " +
                           std::to_string(kMaxHeadersPerRoute));
    return;
  }
  headers->report_duplicates();
  for (const MapReader::Entry& entry : headers->entries()) {
    if (Problem problem = check_header_name(entry.key)) {
      ctx.diag.error(entry.key_mark, r.scope().name("headers") + ": \"" + entry.key + "\" " + *problem);
      continue;
    }
    std::optional<std::string> value = headers->text(entry.key);
    if (!value) continue;
    if (Problem problem = check_header_value(*value)) {
      headers->error(entry.key, *problem);
      continue;
    }
    route.headers.emplace_back(entry.key, *value);
  }
}

void read_retry(MapReader& r, Retry& retry) {
  std::optional<MapReader> m = r.map("retry");
  if (!m) return;
  m->reject_unknown({"max_attempts", "max_age", "backoff", "retry_4xx"});
  if (auto v = m->boolean("retry_4xx")) retry.retry_4xx = *v;
  if (auto v = m->integer("max_attempts", 1, std::numeric_limits<int>::max())) {
    retry.max_attempts = static_cast<int>(*v);
  }
  if (auto v = m->duration("max_age")) retry.max_age = *v;
  std::optional<MapReader> backoff = m->map("backoff");
  if (!backoff) return;
  backoff->reject_unknown({"initial", "max"});
  auto initial = backoff->duration("initial");
  auto max = backoff->duration("max");
  if (initial) retry.backoff.initial = *initial;
  if (max) retry.backoff.max = *max;
  if ((initial || max) && retry.backoff.max < retry.backoff.initial) {
    backoff->error(max ? "max" : "initial", "must not be less than initial (" +
                                               format_duration(retry.backoff.initial) + ")");
  }
}

// Which legacy keys each format takes: the HTTP-push scheme it imitates defines them
// (product.md section 5). Anything else is refused so a misplaced secret is noticed.
void read_legacy(MapReader& r, const std::optional<Format>& format, Route& route) {
  bool event_format = format == Format::legacy_event;
  bool card_format = format == Format::legacy_card;
  if (!r.has("legacy")) {
    if (event_format) r.missing("legacy", "format legacy-event needs legacy.token and legacy.aes_key");
    return;
  }
  std::optional<MapReader> m = r.map("legacy");
  if (!m) return;
  m->reject_unknown({"token", "token_file", "aes_key", "aes_key_file", "owner_key", "api_secret",
                     "api_secret_file"});
  if (format && !event_format && !card_format) {
    r.error("legacy", "format " + std::string(format_name(*format)) +
                          " takes no legacy settings (only legacy-event and legacy-card do)");
    return;
  }
  Legacy& legacy = route.legacy;
  auto only_for = [&](std::string_view key, std::string_view wanted) {
    if (m->has(key) || m->has(std::string(key) + "_file")) {
      m->error(m->has(key) ? key : std::string(key) + "_file",
               "only " + std::string(wanted) + " routes take it");
    }
  };
  if (card_format) {
    only_for("token", "legacy-event");
    only_for("aes_key", "legacy-event");
    only_for("owner_key", "legacy-event");
    if (auto v = m->secret("api_secret")) legacy.api_secret = *v;
    return;
  }
  if (event_format) only_for("api_secret", "legacy-card");
  if (event_format) {
    if (auto v = m->required_secret("token")) legacy.token = *v;
  } else if (auto v = m->secret("token")) {
    legacy.token = *v;
  }
  std::optional<std::string> aes_key = event_format ? m->required_secret("aes_key") : m->secret("aes_key");
  if (aes_key && !aes_key->empty()) {
    if (Problem problem = check_aes_key(*aes_key)) m->error("aes_key", *problem);
    legacy.aes_key = *aes_key;
  }
  if (auto v = m->text("owner_key")) {
    if (Problem problem = check_identifier(*v)) m->error("owner_key", *problem);
    legacy.owner_key = *v;
  }
}

// `rate: N/s` or `N/m`, N from 1 to kMaxRate.
void read_rate(MapReader& r, Rate& rate) {
  std::optional<std::string> text = r.text("rate");
  if (!text) return;
  std::size_t slash = text->find('/');
  std::string count = text->substr(0, slash);
  std::string unit = slash == std::string::npos ? "" : text->substr(slash + 1);
  long long value = 0;
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), value);
  bool whole = ec == std::errc() && end == count.data() + count.size() && !count.empty();
  if (!whole || (unit != "s" && unit != "m")) {
    r.error("rate", "expected N/s or N/m (POSTs started per second or minute), got " + quoted(*text));
    return;
  }
  if (value < 1 || value > kMaxRate) {
    r.error("rate", "must be between 1 and " + std::to_string(kMaxRate) + " per " +
                        (unit == "s" ? "second" : "minute") + ", got " + count);
    return;
  }
  rate.count = static_cast<int>(value);
  rate.per = Millis{unit == "s" ? 1'000 : 60'000};
}

// `order_by: conversationId`: a dotted path into the frame's data (product.md section 10).
void read_order_by(MapReader& r, Route& route) {
  std::optional<std::string> text = r.text("order_by");
  if (!text) return;
  Result<FieldPath> path = parse_field_path(*text);
  if (!path) {
    r.error("order_by", path.status().message());
    return;
  }
  route.order_by = std::move(path.value());
}

// `signing` picks the scheme; `signing_secret` holds its key. A standard-webhooks secret is
// "whsec_" + base64 of the key bytes, as the specification's libraries take it.
void read_signing(MapReader& r, Route& route) {
  if (auto v = r.choice("signing", kSignings)) {
    route.signing = *v == "standard-webhooks" ? Signing::standard_webhooks : Signing::bridge_v1;
  }
  std::optional<std::string> secret = r.secret("signing_secret");
  if (secret) route.signing_secret = *secret;
  if (route.signing != Signing::standard_webhooks) return;
  std::string key_name = r.has("signing_secret_file") ? "signing_secret_file" : "signing_secret";
  if (!r.has("signing_secret") && !r.has("signing_secret_file")) {
    r.missing("signing_secret", "signing standard-webhooks needs a whsec_ secret");
    return;
  }
  if (!secret) return;
  constexpr std::string_view kPrefix = "whsec_";
  std::optional<std::string> key;
  if (secret->starts_with(kPrefix)) key = base64_decode(secret->substr(kPrefix.size()));
  if (!key || key->size() < kMinStandardWebhooksKey) {
    r.error(key_name, "signing standard-webhooks needs \"whsec_\" followed by the base64 of "
                      "at least " + std::to_string(kMinStandardWebhooksKey) + " key bytes");
    return;
  }
  route.signing_secret = *key;
}

void read_route(Context& ctx, std::size_t index, const YAML::Node& node, const YAML::Mark& mark,
                const Defaults& defaults, std::map<std::string, int>& names,
                const std::string& of_app, std::vector<Route>& out) {
  std::string label = "route #" + std::to_string(index + 1) + of_app;
  if (!node.IsMap()) {
    ctx.diag.error(mark, label + ": expected a mapping with name, topic or event, and url, got " +
                             kind_of(node));
    return;
  }
  MapReader r(ctx, node, mark, Scope{"", label});
  Route route;
  route.location = ctx.diag.location(mark);
  route.timeout = defaults.timeout;
  route.delivery = defaults.delivery;
  route.max_in_flight = defaults.max_in_flight;

  // The name comes first because every other message names the route by it.
  std::optional<std::string> name = r.text("name");
  if (!r.has("name")) r.missing("name");
  if (name) {
    if (Problem problem = check_route_name(*name)) {
      r.error("name", *problem);
    } else {
      r.set_scope(Scope{"", route_label(index, name) + of_app});
      auto [it, inserted] = names.emplace(*name, r.value_mark("name").line + 1);
      if (!inserted) r.error("name", "already used by the route at line " + std::to_string(it->second));
    }
    route.name = *name;
  }
  r.reject_unknown(kRouteKeys);

  read_trigger(r, route);
  read_match(ctx, r, route);
  std::optional<Format> format = Format::raw;
  if (r.has("format")) {
    std::optional<std::string> text = r.choice("format", kFormats);
    format = text ? format_from(*text) : std::nullopt;
  }
  if (format) route.format = *format;
  // The service's answer is the ACK's data, and only a CALLBACK's ACK carries one; and only
  // the graph topic's data is an HTTP request (graph on robot messages would make each a 400).
  if (format == Format::graph && r.has("event")) {
    r.error("format", "format graph is for CALLBACK routes (topic: /v1.0/graph/api/invoke); an "
                      "event's ACK cannot carry an HTTP answer");
  } else if (format == Format::graph && !route.topic.empty() && route.topic != kGraphTopic) {
    r.error("format", "format graph is only for topic /v1.0/graph/api/invoke (AI skill calls), "
                      "got topic \"" + route.topic + "\"; use raw or legacy-robot for other "
                      "callbacks");
  }
  read_urls(ctx, r, route, format);
  if (auto v = r.duration("timeout")) route.timeout = *v;
  check_timeout(r, route);
  if (auto v = r.choice("delivery", kDeliveries)) {
    route.delivery = *v == "spool" ? Delivery::spool : Delivery::direct;
  }
  if (auto v = r.integer("max_in_flight", 1, kMaxInFlight)) route.max_in_flight = static_cast<int>(*v);
  read_headers(ctx, r, route);
  read_signing(r, route);
  read_rate(r, route.rate);
  read_retry(r, route.retry);
  read_legacy(r, format, route);
  read_order_by(r, route);
  out.push_back(std::move(route));
}

}  // namespace

void read_routes(Context& ctx, MapReader& root, const Defaults& defaults, std::vector<Route>& out,
                 std::string_view app) {
  // Inside `apps:` messages name the app too: two apps may each have a route "robot".
  const std::string of_app = app.empty() ? "" : " of app " + quoted(app);
  const MapReader::Entry* entry = root.find("routes");
  if (!entry) {
    root.missing("routes", "at least one route is needed");
    return;
  }
  const YAML::Node& list = entry->value;
  if (list.IsNull() || (list.IsSequence() && list.size() == 0)) {
    root.error("routes", "at least one route is needed; with none, every frame would be "
                         "acknowledged and dropped");
    return;
  }
  if (!list.IsSequence()) {
    root.error("routes", "expected a list of routes, got " + kind_of(list));
    return;
  }
  std::map<std::string, int> names;  // name -> line of its first use
  std::size_t index = 0;
  for (const YAML::Node& item : list) {
    read_route(ctx, index, item, mark_or(item, root.value_mark("routes")), defaults, names, of_app, out);
    ++index;
  }
}

}  // namespace dsb::config
