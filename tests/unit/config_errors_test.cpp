// Golden error messages: each bad snippet with the exact lines `check` prints for it.
// Operators and scripts read these, so a wording change must be deliberate (update here).
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"

using dsb::config::load_file;
using dsb::config::load_string;
using dsb::config::testing::FakeEnvironment;

namespace {

FakeEnvironment make_env() {
  FakeEnvironment env;
  env.vars = {{"SET", "value"}, {"EMPTY", ""}};
  env.files = {{"/run/secret", "s3cr3t\n"},
               {"/run/empty", "\n"},
               {"/run/huge", std::string(64 * 1024 + 1, 'x')},
               {"/run/binary", std::string("s3\0cr3t", 7)},
               {"/run/broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}};
  return env;
}

std::vector<std::string> errors_of(const std::string& yaml) {
  FakeEnvironment env = make_env();
  auto result = load_string(yaml, "bridge.yaml", env);
  std::vector<std::string> out;
  for (const auto& error : result.errors) out.push_back(error.to_string());
  CHECK(result.config.has_value() == out.empty());
  return out;
}

// One line that makes the routes section valid, for snippets about other sections.
const std::string kRoute = "routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n";
// Lines 1-3: a valid dingtalk section, for snippets about later sections.
const std::string kDingtalk = "dingtalk:\n  client_id: id\n  client_secret: s\n";

struct Golden {
  const char* what;
  std::string yaml;
  std::vector<std::string> expected;
};

const std::vector<Golden> kGolden = {
    {"YAML syntax error", "dingtalk: [\n",
     {"bridge.yaml:2:1: invalid YAML: end of sequence flow not found"}},
    {"empty file", "", {"bridge.yaml:1:1: the config is empty; at least dingtalk and routes are required"}},
    {"comments only", "# nothing\n",
     {"bridge.yaml:1:1: the config is empty; at least dingtalk and routes are required"}},
    {"top level is a list", "- a\n",
     {"bridge.yaml:1:1: expected a mapping of sections (dingtalk, routes, ...) at the top level, "
      "got a list"}},
    {"unknown top-level key with hint", kDingtalk + "loggs: {}\n" + kRoute,
     {"bridge.yaml:4:1: unknown top-level key \"loggs\" (did you mean \"log\"?)"}},
    {"unknown key without a close match", kDingtalk + "  colour: blue\n" + kRoute,
     {"bridge.yaml:4:3: unknown key \"colour\" in dingtalk"}},
    {"non-secret as *_file", kDingtalk + "  state_dir_file: /x\n" + kRoute,
     {"bridge.yaml:4:3: unknown key \"state_dir_file\" in dingtalk"}},
    {"*_file of a key that is no secret",
     "dingtalk:\n  client_id_file: /run/id\n  client_id: id\n  client_secret: s\n" + kRoute,
     {"bridge.yaml:2:3: unknown key \"client_id_file\" in dingtalk (only secrets can be given as "
      "*_file)"}},
    {"missing sections", "log: {level: info}\n",
     {"bridge.yaml:1:1: missing top-level key \"dingtalk\" (client_id and client_secret are required)",
      "bridge.yaml:1:1: missing top-level key \"routes\" (at least one route is needed)"}},
    {"section of the wrong type", kDingtalk + "limits: 5\n" + kRoute,
     {"bridge.yaml:4:9: limits: expected a mapping, got a string"}},
    {"missing client_id and client_secret", "dingtalk:\n  api_base: https://x\n" + kRoute,
     {"bridge.yaml:1:1: missing key \"client_id\" in dingtalk",
      "bridge.yaml:1:1: missing key \"client_secret\" or \"client_secret_file\" in dingtalk"}},
    {"required value empty after substitution",
     "dingtalk:\n  client_id: ${EMPTY}\n  client_secret: \"\"\n" + kRoute,
     {"bridge.yaml:2:14: dingtalk.client_id: must not be empty",
      "bridge.yaml:3:18: dingtalk.client_secret: must not be empty"}},
    {"scalar expected, mapping given", "dingtalk:\n  client_id: {a: 1}\n  client_secret: s\n" + kRoute,
     {"bridge.yaml:2:14: dingtalk.client_id: expected a string, got a mapping"}},
    {"unset variable, named", "dingtalk:\n  client_id: app-${NOPE}-${SET}\n  client_secret: s\n" + kRoute,
     {"bridge.yaml:2:14: dingtalk.client_id: environment variable NOPE is not set"}},
    {"bad variable reference", "dingtalk:\n  client_id: ${1X}\n  client_secret: ${OPEN\n" + kRoute,
     {"bridge.yaml:2:14: dingtalk.client_id: invalid variable name \"1X\" (use letters, digits and _; "
      "${NAME} or ${NAME:-default})",
      "bridge.yaml:3:18: dingtalk.client_secret: \"${\" without a closing \"}\""}},
    {"secret given twice",
     "dingtalk:\n  client_id: id\n  client_secret: s\n  client_secret_file: /run/secret\n" + kRoute,
     {"bridge.yaml:4:3: dingtalk.client_secret_file: cannot be combined with client_secret; give "
      "only one of them"}},
    {"secret file empty", "dingtalk:\n  client_id: id\n  client_secret_file: /run/empty\n" + kRoute,
     {"bridge.yaml:3:23: dingtalk.client_secret_file: the file is empty"}},
    {"secret file unreadable", "dingtalk:\n  client_id: id\n  client_secret_file: /run/missing\n" + kRoute,
     {"bridge.yaml:3:23: dingtalk.client_secret_file: cannot read \"/run/missing\": No such file or "
      "directory"}},
    {"integer out of range and not an integer",
     kDingtalk + "  connections: 9\ndefaults:\n  max_in_flight: two\n" + kRoute,
     {"bridge.yaml:4:16: dingtalk.connections: must be between 1 and 8, got 9",
      "bridge.yaml:6:18: defaults.max_in_flight: expected an integer, got \"two\""}},
    {"api_base and proxy schemes", kDingtalk + "  api_base: ftp://x\n  proxy: https://u:pw@p:3128\n" + kRoute,
     {"bridge.yaml:4:13: dingtalk.api_base: must be an http:// or https:// URL, got \"ftp://x\"",
      "bridge.yaml:5:10: dingtalk.proxy: must be an http:// URL, got \"https://***@p:3128\" (or \"\" for "
      "none)"}},
    {"admin.listen", kDingtalk + "admin:\n  listen: \"9180\"\n" + kRoute,
     {"bridge.yaml:5:11: admin.listen: must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, "
      "got \"9180\""}},
    {"admin.listen port", kDingtalk + "admin: {listen: \"[::1]:70000\"}\n" + kRoute,
     {"bridge.yaml:4:17: admin.listen: port must be between 0 and 65535, got 70000"}},
    {"log enums with hint", kDingtalk + "log:\n  level: verbose\n  format: jsn\n" + kRoute,
     {"bridge.yaml:5:10: log.level: must be one of trace, debug, info, warn, error, got \"verbose\"",
      "bridge.yaml:6:11: log.format: must be one of text, json, got \"jsn\" (did you mean \"json\"?)"}},
    {"durations: unit, bare number, zero, empty",
     kDingtalk + "limits:\n  ack_deadline: 5x\n  dedup_window: 5\n  shutdown_grace: 0s\n"
                 "  max_frame: 4XB\n" + kRoute,
     {"bridge.yaml:5:17: limits.ack_deadline: invalid duration \"5x\": use a number followed by ms, "
      "s, m or h",
      "bridge.yaml:6:17: limits.dedup_window: invalid duration \"5\": use a number followed by ms, s, "
      "m or h",
      "bridge.yaml:7:19: limits.shutdown_grace: must be greater than 0",
      "bridge.yaml:8:14: limits.max_frame: invalid size \"4XB\": use a number of bytes, optionally "
      "followed by KiB, MiB, GiB, KB, MB or GB"}},
    {"keepalive and reconnect", kDingtalk + "  keepalive: {ping_idle: 1m, pong_tmeout: 5s}\n"
                                            "  reconnect: {initial: 10s, max: 5s}\n" + kRoute,
     {"bridge.yaml:4:30: unknown key \"pong_tmeout\" in dingtalk.keepalive (did you mean "
      "\"pong_timeout\"?)",
      "bridge.yaml:5:34: dingtalk.reconnect.max: must not be less than initial (10s)"}},
    {"routes empty", kDingtalk + "routes: []\n",
     {"bridge.yaml:4:9: routes: at least one route is needed; with none, every frame would be "
      "acknowledged and dropped"}},
    {"routes not a list", kDingtalk + "routes:\n  robot: {}\n",
     {"bridge.yaml:5:3: routes: expected a list of routes, got a mapping"}},
    {"route not a mapping", kDingtalk + "routes:\n  - http://h/x\n",
     {"bridge.yaml:5:5: route #1: expected a mapping with name, topic or event, and url, got a string"}},
    {"route keys missing", kDingtalk + "routes:\n  - format: raw\n",
     {"bridge.yaml:5:5: missing key \"name\" in route #1",
      "bridge.yaml:5:5: missing key \"topic\" or \"event\" in route #1",
      "bridge.yaml:5:5: missing key \"url\" in route #1"}},
    {"unknown route key with hint, named by the route",
     kDingtalk + "routes:\n  - name: robot\n    topic: /t\n    url: http://h/x\n    timout: 3s\n",
     {"bridge.yaml:8:5: unknown key \"timout\" in route \"robot\" (did you mean \"timeout\"?)"}},
    {"bad and duplicate names",
     kDingtalk + "routes:\n  - {name: \"a b\", event: x, url: \"http://h/1\"}\n"
                 "  - {name: r, event: y, url: \"http://h/2\"}\n"
                 "  - {name: r, event: z, url: \"http://h/3\"}\n",
     {"bridge.yaml:5:12: name in route #1: may contain only letters, digits, \"_\", \".\" and \"-\", "
      "got \"a b\"",
      "bridge.yaml:7:12: name in route \"r\": already used by the route at line 6"}},
    {"topic and event together; topic without slash",
     kDingtalk + "routes:\n  - {name: a, topic: /t, event: x, url: \"http://h/1\"}\n"
                 "  - {name: b, topic: v1.0/t, url: \"http://h/2\"}\n",
     {"bridge.yaml:5:26: event in route \"a\": cannot be combined with topic; give only one of them",
      "bridge.yaml:6:22: topic in route \"b\": must start with \"/\", got \"v1.0/t\""}},
    {"url forms", kDingtalk + "routes:\n  - {name: a, event: x, url: []}\n"
                              "  - {name: b, event: y, url: [\"http://h/1\", \"ftp://h\", {u: 1}]}\n"
                              "  - {name: c, event: z, url: {u: 1}}\n",
     {"bridge.yaml:5:30: url in route \"a\": must list at least one URL",
      "bridge.yaml:6:45: url[1] in route \"b\": must be an http:// or https:// URL, got \"ftp://h\"",
      "bridge.yaml:6:56: url[2] in route \"b\": expected a string, got a mapping",
      "bridge.yaml:7:30: url in route \"c\": expected a URL or a list of URLs, got a mapping"}},
    {"route enums and ranges",
     kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n    format: legacy_robot\n"
                 "    delivery: spooled\n    max_in_flight: 0\n    timeout: 0ms\n",
     {"bridge.yaml:8:13: format in route \"a\": must be one of raw, legacy-robot, legacy-event, "
      "legacy-card, graph, got \"legacy_robot\" (did you mean \"legacy-robot\"?)",
      "bridge.yaml:9:15: delivery in route \"a\": must be one of direct, spool, got \"spooled\" (did "
      "you mean \"spool\"?)",
      "bridge.yaml:10:20: max_in_flight in route \"a\": must be between 1 and 10000, got 0",
      "bridge.yaml:11:14: timeout in route \"a\": must be greater than 0"}},
    {"headers", kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n    headers:\n"
                            "      Bad Name: v\n      X-Ok: [1]\n",
     {"bridge.yaml:9:7: headers in route \"a\": \"Bad Name\" is not a valid HTTP header name",
      "bridge.yaml:10:13: headers.X-Ok in route \"a\": expected a string, got a list"}},
    {"retry", kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n    retry:\n"
                          "      max_attempts: 0\n      backoff: {intial: 1s, max: 1h}\n",
     {"bridge.yaml:9:21: retry.max_attempts in route \"a\": must be at least 1, got 0",
      "bridge.yaml:10:17: unknown key \"intial\" in retry.backoff of route \"a\" (did you mean "
      "\"initial\"?)"}},
    {"graph on an event route and a graph base with a query",
     kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n    format: graph\n"
                 "  - name: b\n    topic: /v1.0/graph/api/invoke\n    format: graph\n"
                 "    url: [\"http://h/skills?k=1\"]\n",
     {"bridge.yaml:8:13: format in route \"a\": format graph is for CALLBACK routes (topic: "
      "/v1.0/graph/api/invoke); an event's ACK cannot carry an HTTP answer",
      "bridge.yaml:12:11: url[0] in route \"b\": must not have a query (paths are appended to it), "
      "got \"http://h/skills?k=***\""}},
    {"graph on a callback topic other than graph/api/invoke",
     kDingtalk + "routes:\n  - name: bot\n    topic: /v1.0/im/bot/messages/get\n    url: http://h/1\n"
                 "    format: graph\n",
     {"bridge.yaml:8:13: format in route \"bot\": format graph is only for topic "
      "/v1.0/graph/api/invoke (AI skill calls), got topic \"/v1.0/im/bot/messages/get\"; use raw "
      "or legacy-robot for other callbacks"}},
    {"legacy on a raw route", kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n"
                                          "    legacy: {token: t}\n",
     {"bridge.yaml:8:13: legacy in route \"a\": format raw takes no legacy settings (only "
      "legacy-event and legacy-card do)"}},
    {"legacy-event without legacy", kDingtalk + "routes:\n  - name: a\n    event: x\n"
                                                "    url: http://h/1\n    format: legacy-event\n",
     {"bridge.yaml:5:5: missing key \"legacy\" in route \"a\" (format legacy-event needs "
      "legacy.token and legacy.aes_key)"}},
    {"legacy-event keys", kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n"
                                      "    format: legacy-event\n    legacy:\n      aes_key: short\n"
                                      "      api_secret: x\n",
     {"bridge.yaml:9:5: missing key \"token\" or \"token_file\" in legacy of route \"a\"",
      "bridge.yaml:10:16: legacy.aes_key in route \"a\": must be 43 base64 characters (A-Z, a-z, 0-9, "
      "+, /), got 5",
      "bridge.yaml:11:19: legacy.api_secret in route \"a\": only legacy-card routes take it"}},
    {"legacy-card keys", kDingtalk + "routes:\n  - name: a\n    topic: /v1.0/card/instances/callback\n"
                                     "    url: http://h/1\n    format: legacy-card\n"
                                     "    legacy: {token: t, api_secret_file: /run/none}\n",
     {"bridge.yaml:9:21: legacy.token in route \"a\": only legacy-event routes take it",
      "bridge.yaml:9:41: legacy.api_secret_file in route \"a\": cannot read \"/run/none\": No such "
      "file or directory"}},
    {"admin.listen host names and shorthand that run could not bind (issue 12)",
     kDingtalk + "admin: {listen: \"myhost:9180\"}\n" + kRoute,
     {"bridge.yaml:4:17: admin.listen: the host must be an IPv4 address (all four numbers), [IPv6 "
      "address] or localhost, got \"myhost:9180\" (host names are not looked up)"}},
    {"admin.listen IPv4 shorthand", kDingtalk + "admin: {listen: \"127.1:9180\"}\n" + kRoute,
     {"bridge.yaml:4:17: admin.listen: the host must be an IPv4 address (all four numbers), [IPv6 "
      "address] or localhost, got \"127.1:9180\" (host names are not looked up)"}},
    {"admin.listen IPv4 in brackets", kDingtalk + "admin: {listen: \"[127.0.0.1]:9180\"}\n" + kRoute,
     {"bridge.yaml:4:17: admin.listen: \"[127.0.0.1]\" is not an IPv6 address in brackets, in "
      "\"[127.0.0.1]:9180\""}},
    {"admin.listen octet out of range", kDingtalk + "admin: {listen: \"999.1.1.1:9180\"}\n" + kRoute,
     {"bridge.yaml:4:17: admin.listen: the host must be an IPv4 address (all four numbers), [IPv6 "
      "address] or localhost, got \"999.1.1.1:9180\" (host names are not looked up)"}},
    {"route URLs curl would refuse at every delivery (issue 12)",
     kDingtalk + "routes:\n  - name: a\n    event: x\n    url:\n      - \"http://@\"\n"
                 "      - \"http://#frag\"\n      - \"http://127.0.0.1:99999/h\"\n"
                 "      - \"http://[::1:9/h\"\n      - \"http://999.1.1.1/h\"\n"
                 "      - \"http://h:/h\"\n      - \"http://a b/\"\n",
     {"bridge.yaml:8:9: url[0] in route \"a\": no host in \"http://@\"",
      "bridge.yaml:9:9: url[1] in route \"a\": must not have a #fragment (it is never sent to the "
      "server), got \"http://#***\"",
      "bridge.yaml:10:9: url[2] in route \"a\": port must be between 1 and 65535, got 99999 in "
      "\"http://127.0.0.1:99999/h\"",
      "bridge.yaml:11:9: url[3] in route \"a\": unclosed \"[\" in the host of \"http://[::1:9/h\"",
      "bridge.yaml:12:9: url[4] in route \"a\": \"999.1.1.1\" is not an IPv4 address (write all four "
      "numbers, each 0 to 255) in \"http://999.1.1.1/h\"",
      "bridge.yaml:13:9: url[5] in route \"a\": the port must be a number in \"http://h:/h\"",
      "bridge.yaml:14:9: url[6] in route \"a\": must not contain spaces or control characters, got "
      "\"http://a b/\""}},
    {"proxy of another scheme: its password is not shown",
     kDingtalk + "  proxy: socks5://user:hunter2@p:1080\n" + kRoute,
     {"bridge.yaml:4:10: dingtalk.proxy: must be an http:// URL, got \"socks5://***@p:1080\" (or "
      "\"\" for none)"}},
    {"URL query values are not shown", kDingtalk + "routes:\n  - name: a\n    event: x\n"
                                                   "    url: \"ftp://h/x?access_token=abc&x=1\"\n",
     {"bridge.yaml:7:10: url in route \"a\": must be an http:// or https:// URL, got "
      "\"ftp://h/x?access_token=***&x=***\""}},
    {"ca_file missing, not PEM, empty",
     kDingtalk + "  ca_file: /run/none.pem\n" + kRoute,
     {"bridge.yaml:4:12: dingtalk.ca_file: cannot read \"/run/none.pem\": No such file or directory"}},
    {"ca_file not PEM", kDingtalk + "  ca_file: /run/secret\n" + kRoute,
     {"bridge.yaml:4:12: dingtalk.ca_file: \"/run/secret\" contains no PEM certificate "
      "(\"-----BEGIN CERTIFICATE-----\")"}},
    {"ca_file with a broken certificate", kDingtalk + "  ca_file: /run/broken.pem\n" + kRoute,
     {"bridge.yaml:4:12: dingtalk.ca_file: \"/run/broken.pem\" is not a PEM certificate bundle "
      "(OpenSSL cannot read it)"}},
    {"secret file over 64 KiB", "dingtalk:\n  client_id: id\n  client_secret_file: /run/huge\n" + kRoute,
     {"bridge.yaml:3:23: dingtalk.client_secret_file: cannot read \"/run/huge\": larger than 64 KiB"}},
    {"secret file with a NUL byte", "dingtalk:\n  client_id: id\n  client_secret_file: /run/binary\n" +
                                        kRoute,
     {"bridge.yaml:3:23: dingtalk.client_secret_file: \"/run/binary\" contains a NUL byte; a secret "
      "is text"}},
    {"more URLs than a route may have",
     kDingtalk + "routes:\n  - name: a\n    event: x\n    url: [" + [] {
       std::string urls;
       for (int i = 0; i < 65; ++i) urls += (i ? ", " : "") + std::string("\"http://h/") + std::to_string(i) + "\"";
       return urls;
     }() + "]\n",
     {"bridge.yaml:7:10: url in route \"a\": lists 65 URLs; a route may have at most 64"}},
    {"YAML nested too deeply", kDingtalk + "x: " + std::string(600, '[') + std::string(600, ']') + "\n",
     {"bridge.yaml:4:1204: invalid YAML: lists and mappings nested deeper than about 500 levels"}},
    {"nested substitution in a default",
     "dingtalk:\n  client_id: ${NOPE:-${SET}}\n  client_secret: s\n" + kRoute,
     {"bridge.yaml:2:14: dingtalk.client_id: nested substitution in the default of ${NOPE:-...} is "
      "not supported (the default is literal text)"}},
    {"NUL bytes, control characters and invalid UTF-8 in identifiers",
     "dingtalk:\n  client_id: \"app\\0x\"\n  client_secret: s\nroutes:\n"
     "  - {name: a, event: \"a\xc3(\", url: \"http://h/x\"}\n"
     "  - {name: b, topic: \"/t\\x01\", url: \"http://h/x\"}\n",
     {"bridge.yaml:2:14: dingtalk.client_id: must not contain a NUL byte",
      "bridge.yaml:5:22: event in route \"a\": must be valid UTF-8",
      "bridge.yaml:6:22: topic in route \"b\": must not contain control characters or NUL bytes"}},
    {"order_by paths", kDingtalk + "routes:\n  - {name: a, event: x, url: http://h/1, order_by: a..b}\n"
                               "  - {name: b, event: y, url: http://h/1, order_by: \"\"}\n"
                               "  - {name: c, event: z, url: http://h/1, order_by: [x]}\n",
     {"bridge.yaml:5:52: order_by in route \"a\": \"a..b\" has an empty segment: write a dotted "
      "path like text.content",
      "bridge.yaml:6:52: order_by in route \"b\": a field name may not be empty",
      "bridge.yaml:7:52: order_by in route \"c\": expected a string, got a list"}},
    {"match that is no mapping, or empty",
     kDingtalk + "routes:\n  - {name: a, topic: /t, url: \"http://h/1\", match: [robotCode]}\n"
                 "  - {name: b, topic: /t, url: \"http://h/1\", match: {}}\n"
                 "  - {name: c, topic: /t, url: \"http://h/1\", match: ding}\n",
     {"bridge.yaml:5:52: match in route \"a\": expected a mapping of data fields to globs "
      "(robotCode: \"ding*\"), got a list",
      "bridge.yaml:6:52: match in route \"b\": must name at least one data field (FIELD: GLOB); "
      "leave match out to take every frame",
      "bridge.yaml:7:52: match in route \"c\": expected a mapping of data fields to globs "
      "(robotCode: \"ding*\"), got a string"}},
    {"match field names and glob values",
     kDingtalk + "routes:\n  - name: a\n    topic: /t\n    url: http://h/1\n    match:\n"
                 "      \"\": x\n      text..content: x\n      robotCode: [ding]\n"
                 "      conversationId:\n      senderId: {a: 1}\n",
     {"bridge.yaml:9:7: match in route \"a\": a field name may not be empty",
      "bridge.yaml:10:7: match in route \"a\": \"text..content\" has an empty segment: write a "
      "dotted path like text.content",
      "bridge.yaml:11:18: match.robotCode in route \"a\": expected a glob (\"*\" for any value), "
      "got a list",
      "bridge.yaml:12:7: match.conversationId in route \"a\": expected a glob (\"*\" for any "
      "value), got nothing",
      "bridge.yaml:13:17: match.senderId in route \"a\": expected a glob (\"*\" for any value), got "
      "a mapping"}},
    {"bad globs in match and event",
     kDingtalk + "routes:\n  - name: a\n    topic: /t\n    url: http://h/1\n    match:\n"
                 "      robotCode: 'ding[abc'\n      conversationId: 'cid[]x'\n"
                 "      senderNick: '[z-a]*'\n      text.content: 'ends\\'\n"
                 "      chatbotUserId: '[\xc3\xa9]'\n"
                 "  - {name: b, event: \"bpms_[\", url: \"http://h/1\"}\n",
     {"bridge.yaml:9:18: match.robotCode in route \"a\": bad glob \"ding[abc\" at character 5: "
      "unterminated \"[\" (write \\[ for the character itself)",
      "bridge.yaml:10:23: match.conversationId in route \"a\": bad glob \"cid[]x\" at character 4: "
      "empty character class \"[]\"",
      "bridge.yaml:11:19: match.senderNick in route \"a\": bad glob \"[z-a]*\" at character 2: "
      "reversed range \"z-a\" (write the lower character first)",
      "bridge.yaml:12:21: match.text.content in route \"a\": bad glob \"ends\\\" at character 5: "
      "trailing \"\\\" (write \\\\ for a backslash)",
      "bridge.yaml:13:22: match.chatbotUserId in route \"a\": bad glob \"[\xc3\xa9]\" at character "
      "2: a character class may list only ASCII characters",
      "bridge.yaml:14:22: event in route \"b\": bad glob \"bpms_[\" at character 6: unterminated "
      "\"[\" (write \\[ for the character itself)"}},
    {"timeout cap: 10m for every route",
     kDingtalk + "defaults: {timeout: 11m}\nroutes:\n"
                 "  - {name: ai, topic: /t, url: \"http://h/1\", timeout: 11m}\n"
                 "  - {name: ok, topic: /t, url: \"http://h/1\", timeout: 10m}\n"
                 "  - {name: ev, event: x, url: \"http://h/1\", timeout: 10m}\n"
                 "  - {name: inherits, event: x, url: \"http://h/1\"}\n",
     {"bridge.yaml:6:55: timeout in route \"ai\": 11m is longer than 10m, the most a route may "
      "wait for its webhook",
      "bridge.yaml:9:5: timeout in route \"inherits\": 11m (from defaults.timeout) is longer than "
      "10m, the most a route may wait for its webhook"}},
    {"duplicate key", kDingtalk + "routes:\n  - name: a\n    event: x\n    url: http://h/1\n"
                                  "    url: http://h/2\n",
     {"bridge.yaml:8:5: duplicate key \"url\" in route \"a\" (first at line 7)"}},
    {"store: unknown backend, unknown key", kDingtalk + "store:\n  backend: mysql\n  leas: 5s\n" + kRoute,
     {"bridge.yaml:5:12: store.backend: must be one of sqlite, redis, got \"mysql\"",
      "bridge.yaml:6:3: unknown key \"leas\" in store (did you mean \"lease\"?)"}},
    {"store: redis without a url", kDingtalk + "store:\n  backend: redis\n" + kRoute,
     {"bridge.yaml:4:1: missing key \"url\" or \"url_file\" in store"}},
    {"store: redis url without the scheme, the password not echoed",
     kDingtalk + "store: {backend: redis, url: \"http://:hunter2@h:6379\"}\n" + kRoute,
     {"bridge.yaml:4:30: store.url: must start with redis:// (redis://[:password@]host:port/db)"}},
    {"store: bad port and db", kDingtalk + "store: {backend: redis, url: \"redis://h:99999\"}\n" +
                                 "x: 1\n" + kRoute,
     {"bridge.yaml:4:30: store.url: the port must be a number from 1 to 65535, got \"99999\"",
      "bridge.yaml:5:1: unknown top-level key \"x\""}},
    {"store: a user name in the url",
     kDingtalk + "store: {backend: redis, url: \"redis://bob:pw@h:1\"}\n" + kRoute,
     {"bridge.yaml:4:30: store.url: a user name is not supported, only a password "
      "(redis://:password@host:port)"}},
    {"store: url_file that is no redis URL",
     kDingtalk + "store: {backend: redis, url_file: /run/secret}\n" + kRoute,
     {"bridge.yaml:4:35: store.url_file: must start with redis:// (redis://[:password@]host:port/db)"}},
    {"store: lease under 1s, empty key_prefix",
     kDingtalk + "store: {backend: redis, url: \"redis://h/2\", lease: 500ms, key_prefix: \"\"}\n" + kRoute,
     {"bridge.yaml:4:52: store.lease: must be at least 1s, got 500ms",
      "bridge.yaml:4:71: store.key_prefix: must not be empty (it keeps the bridge's keys apart)"}},
    {"store: redis keys with backend sqlite",
     kDingtalk + "store:\n  url: \"redis://h\"\n  lease: 5s\n" + kRoute,
     {"bridge.yaml:5:8: store.url: only used with backend: redis",
      "bridge.yaml:6:10: store.lease: only used with backend: redis"}},
};

}  // namespace

TEST_CASE("golden error messages", "[config]") {
  REQUIRE(kGolden.size() >= 25);
  for (const Golden& golden : kGolden) {
    INFO(golden.what << "\n--- yaml ---\n" << golden.yaml);
    CHECK(errors_of(golden.yaml) == golden.expected);
  }
}

TEST_CASE("every error of a file is reported, in file order", "[config]") {
  // The route comes before dingtalk in the file, and its errors are found last by the
  // loader: the report must still follow the file.
  std::string yaml =
      "routes:\n"                         // 1
      "  - name: robot\n"                 // 2
      "    topic: /v1.0/im/bot/messages/get\n"
      "    url: http://127.0.0.1:8080/r\n"
      "    timout: 3s\n"                  // 5
      "    format: legacy-robot\n"
      "dingtalk:\n"                       // 7
      "  client_id: ${MISSING_ID}\n"      // 8
      "  client_secret: s\n"
      "  connections: 0\n"                // 10
      "limits:\n"
      "  max_frame: 4MB\n"
      "  ack_deadline: 3\n";              // 13
  CHECK(errors_of(yaml) ==
        std::vector<std::string>{
            "bridge.yaml:5:5: unknown key \"timout\" in route \"robot\" (did you mean \"timeout\"?)",
            "bridge.yaml:8:14: dingtalk.client_id: environment variable MISSING_ID is not set",
            "bridge.yaml:10:16: dingtalk.connections: must be between 1 and 8, got 0",
            "bridge.yaml:13:17: limits.ack_deadline: invalid duration \"3\": use a number followed by "
            "ms, s, m or h"});
}

TEST_CASE("a config file that cannot be read is reported without a position", "[config]") {
  FakeEnvironment env = make_env();
  auto result = load_file("/etc/dingtalk-stream-bridge/none.yaml", env);
  REQUIRE(result.errors.size() == 1);
  CHECK_FALSE(result.config.has_value());
  CHECK(result.errors[0].to_string() ==
        "/etc/dingtalk-stream-bridge/none.yaml: cannot read the config file: No such file or directory");
}

TEST_CASE("secret values never appear in error messages", "[config]") {
  FakeEnvironment env = make_env();
  env.vars["AES"] = "tooShortSecretKeyMaterial";
  std::string yaml = kDingtalk +
                     "routes:\n  - name: a\n    event: x\n    url: http://h/1\n"
                     "    format: legacy-event\n    legacy: {token: \"${SET}\", aes_key: \"${AES}\"}\n";
  auto result = load_string(yaml, "bridge.yaml", env);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message.find("tooShort") == std::string::npos);
  CHECK(result.errors[0].message == "legacy.aes_key in route \"a\": must be 43 base64 characters "
                                    "(A-Z, a-z, 0-9, +, /), got 25");
}
