// The typed configuration (product.md section 3). yaml-cpp nodes never leave the loader:
// everything downstream sees only these structs, already validated, defaults applied.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "config/field_path.hpp"

namespace dsb::config {

using Millis = std::chrono::milliseconds;

enum class Format { raw, legacy_robot, legacy_event, legacy_card, graph };
enum class Delivery { direct, spool };
// How a route's requests are signed (product.md sections 5 and 11); only with a secret.
enum class Signing { bridge_v1, standard_webhooks };

// Where a value came from, for messages that point the operator at the file.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based
  int column = 0;  // 1-based
};

// Dead-connection detection and reconnect pacing (product.md section 7). Not in the
// product's example schema, but operators and tests need to tune them.
struct Keepalive {
  Millis ping_idle{30'000};         // send a websocket ping after this much inbound silence
  Millis pong_timeout{10'000};      // close the connection if no pong arrives within this
  Millis silence_timeout{300'000};  // no frame at all for this long: replace the connection
};

struct Reconnect {
  Millis initial{1'000};  // first delay after a failure; doubles with jitter
  Millis max{60'000};     // cap; also the delay after rejected credentials
};

struct DingTalk {
  std::string client_id;
  std::string client_secret;  // secret: never logged
  std::string api_base = "https://api.dingtalk.com";
  // The legacy OpenAPI (oapi.dingtalk.com) the openapi endpoint forwards /oapi/... to.
  std::string oapi_base = "https://oapi.dingtalk.com";
  int connections = 1;        // 1..8
  std::string proxy;          // http://[user:pass@]host:port; "" = from HTTPS_PROXY
  std::string ca_file;        // extra CA bundle, a PEM file checked at load; TLS is always verified
  Keepalive keepalive;
  Reconnect reconnect;
};

// Where the admin endpoint binds. The host is numeric, so `check` knows exactly what `run`
// will bind and startup needs no DNS; "localhost" is read as 127.0.0.1.
struct ListenAddress {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 address, without brackets
  int port = 9180;                 // 0..65535; 0 = any free port (tests)
  bool ipv6 = false;

  // "127.0.0.1:9180" or "[::1]:9180", as the config would spell it.
  std::string to_string() const;
  bool operator==(const ListenAddress&) const = default;
};

// The app's local OpenAPI endpoint (product.md section 13): forwards /v1.0/... to api_base
// and /oapi/... to oapi_base with the app's access token.
struct OpenApi {
  std::optional<ListenAddress> listen;  // nullopt: disabled (listen: "", the default)
  std::vector<std::string> allow;       // path globs (common/glob.hpp); empty = every path
  std::size_t max_body = 10u * 1024 * 1024;  // bytes; a larger request body is answered 413
  // Anyone who reaches the port acts as the app: a listen address off loopback is refused
  // unless this says the operator means it.
  bool allow_remote = false;

  bool enabled() const { return listen.has_value(); }
};

struct Admin {
  std::optional<ListenAddress> listen = ListenAddress{};  // nullopt: disabled (listen: "")
};

struct Log {
  log::Level level = log::Level::info;
  log::Format format = log::Format::text;
};

struct Limits {
  Millis ack_deadline{2'500};
  Millis dedup_window{3'600'000};
  std::size_t max_frame = 4u * 1024 * 1024;  // bytes
  Millis shutdown_grace{10'000};
};

struct Backoff {
  Millis initial{1'000};
  Millis max{300'000};
};

struct Retry {
  int max_attempts = 12;
  Millis max_age{24 * 3'600'000};
  Backoff backoff;
  // A 4xx answer other than 408, 425 and 429 dead-letters at once unless this is set
  // (product.md section 11): the webhook said the request itself is wrong.
  bool retry_4xx = false;
};

// `rate: N/s` or `N/m`: at most `count` POSTs start per `per` on the route.
struct Rate {
  int count = 0;  // 0 = unlimited
  Millis per{1'000};

  bool limited() const { return count > 0; }
};

struct Legacy {
  std::string token;      // secret
  std::string aes_key;    // secret
  std::string owner_key;  // "" = client_id
  std::string api_secret; // secret (legacy-card)
};

// One condition of a route's `match` (product.md section 10): the data field at `field`
// is present and its value (a string, or the JSON text of a number or boolean) matches
// `glob` (common/glob.hpp; checked at load).
struct FieldMatch {
  FieldPath field;
  std::string glob;

  bool operator==(const FieldMatch&) const = default;
};

struct Defaults {
  Millis timeout{2'500};
  Delivery delivery = Delivery::direct;
  int max_in_flight = 64;
};

struct Route {
  std::string name;
  std::string topic;  // CALLBACK match (exact); empty when `event` is set
  std::string event;  // EVENT match on headers.eventType (glob); empty when `topic` is set
  std::vector<FieldMatch> match;  // every one must hold too; empty = no condition
  std::vector<std::string> urls;
  Format format = Format::raw;
  Millis timeout{2'500};
  Delivery delivery = Delivery::direct;
  int max_in_flight = 64;
  std::vector<std::pair<std::string, std::string>> headers;
  Signing signing = Signing::bridge_v1;
  // The HMAC key, secret; "" = unsigned. For bridge-v1 the secret as written; for
  // standard-webhooks the bytes its "whsec_<base64>" form encodes.
  std::string signing_secret;
  Rate rate;
  Retry retry;
  Legacy legacy;
  // Frames with the same value at this data field are delivered one at a time, in arrival
  // order (per URL when spooled); frames without it are not ordered. None: no order.
  std::optional<FieldPath> order_by;
  SourceLocation location;  // of the route's mapping in the file

  bool is_callback() const { return !topic.empty(); }
};

// Where the spool and the dedup records live (product.md section 12).
enum class StoreBackend { sqlite, redis };

// Where a Redis server is, parsed once from `store.url` (store_settings.cpp).
struct RedisEndpoint {
  std::string host;
  int port = 6379;
  std::string password;  // "" = no AUTH. A secret: never logged
  int db = 0;            // SELECTed after connecting
};

struct StoreSettings {
  StoreBackend backend = StoreBackend::sqlite;  // sqlite: the file under state_dir
  // redis: redis://[:password@]host:port/db (or from url_file). Holds a secret (the
  // password): never logged as written.
  std::string url;
  RedisEndpoint redis;  // `url` parsed (backend redis only)
  std::string key_prefix = "dsb:";  // every key the bridge writes starts with it
  // How long a replica's claim on a spooled delivery or an in-flight frame lasts unless it
  // renews it: the longest a dead replica's work waits before another takes it over.
  Millis lease{30'000};
};

struct Subscription {
  std::string type;   // "EVENT" or "CALLBACK"
  std::string topic;
  bool operator==(const Subscription&) const = default;
};

// One DingTalk app (product.md section 12): its credentials and connections, and the
// routes its frames take. The single-app form of the file (`dingtalk:` and top-level
// `routes:`) is the app named `default`.
struct App {
  std::string name = "default";  // [a-z0-9_-], 1..32 characters, unique in the config
  DingTalk dingtalk;
  std::vector<Route> routes;
  OpenApi openapi;
  SourceLocation location;  // of the app's mapping in `apps:`; of `dingtalk:` otherwise

  bool is_default() const { return name == kDefaultAppName; }
  // One CALLBACK subscription per distinct topic, in route order, and EVENT "*" if any
  // route matches events (product.md section 3).
  std::vector<Subscription> subscriptions() const;

  static constexpr std::string_view kDefaultAppName = "default";
};

// A route and the app it belongs to; both live as long as their Config.
struct AppRoute {
  const App* app = nullptr;
  const Route* route = nullptr;
};

// The name a route goes by outside its app (spool records, `spool --route`): its own name
// in the app "default", "<app>/<route>" in the others. Route names never contain "/".
std::string qualified_route_name(const App& app, const Route& route);

struct Config {
  std::string source_file;
  // Never empty once loaded; in file order. The single-app form loads as one app
  // named "default".
  std::vector<App> apps;
  Admin admin;
  std::string state_dir = "/var/lib/dingtalk-stream-bridge";
  StoreSettings store;
  Log log;
  Limits limits;
  Defaults defaults;

  // The app named `name`, or nullptr.
  const App* find_app(std::string_view name) const;
  // The route named `qualified` (qualified_route_name), or nulls.
  AppRoute find_route(std::string_view qualified) const;
  // This config with only the app `name` (REQUIRES: it exists): for parts that serve one
  // app and read the whole config (a StreamClient, the robot reply senders).
  Config narrowed_to(std::string_view name) const;
};

std::string_view format_name(Format format);
std::string_view delivery_name(Delivery delivery);
std::string_view signing_name(Signing signing);
std::string_view store_backend_name(StoreBackend backend);

}  // namespace dsb::config
