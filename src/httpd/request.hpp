// What a route handler sees and returns. Plain data: routing and query parsing are testable
// without a socket.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsb::httpd {

struct Request {
  std::string method;  // "GET", "POST", ... upper case
  std::string path;    // without the query string
  // The query string, "" when none. lws decodes each parameter; the server escapes it again
  // (server.cpp append_fragment), so "a=x%20y" arrives as sent, while an escape of a byte
  // that needs none ("%41") arrives as the byte ("A"): equal for every query parser.
  std::string query;
  std::map<std::string, std::string> args;     // query arguments, percent-decoded
  // Lower-case names: every header lws has a name for, and a few custom ones (server.cpp's
  // kCustomHeaders): lws 4.1 cannot list the names it does not know.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string peer;  // client IP address
  // Only with Server::Options::deferred: the body was over max_body and was dropped; the
  // handler answers (413) as it sees fit.
  bool body_too_large = false;

  // The header's value, or "" when absent. `name` is lower case.
  const std::string& header(const std::string& name) const;
  const std::string& arg(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // "" sends no Content-Type
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, sent verbatim

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
  // {"error": message} with the given status.
  static Response error(int status, std::string_view message);
};

// Answers a deferred request (Server::Options::deferred) on the lws service thread, at most
// once. A call after the connection closed does nothing.
using Respond = std::function<void(Response)>;

// Handlers run on the lws service thread: they must not block and must not throw (the router
// turns a stray exception into a 500, but that is a bug).
using Handler = std::function<Response(const Request&)>;

// "a=1&b=x%20y&c" -> {a:1, b:"x y", c:""}. '+' decodes to a space; a malformed %-escape is
// kept literally. A repeated name keeps its first value.
std::map<std::string, std::string> parse_query(std::string_view query);
std::string percent_decode(std::string_view text);

// The standard reason phrase ("Not Found"), "" for unknown codes.
std::string_view reason_phrase(int status);

}  // namespace dsb::httpd
