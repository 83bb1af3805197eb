// `format: graph` (product.md section 10; reference/stream-protocol.md §4.4 and §5.1): a
// CALLBACK on /v1.0/graph/api/invoke (AI assistant skills, AI plugins) carries an HTTP
// request, and the bridge passes it on as one. The frame's data
//
//   {"requestLine":{"method":"GET","uri":"/weather?city=%E6%9D%AD"},
//    "headers":{"accept":"application/json"},"body":""}
//
// becomes `GET <url>/weather?city=%E6%9D%AD` to the route's url (a base), with the frame's
// headers and body, and the service's answer becomes the callback's response:
//
//   {"statusLine":{"code":200,"reasonPhrase":"OK"},"headers":{"content-type":"..."},
//    "body":"<text>"}
//
// (the relay wraps it in {"response": ...}). Every status the service answers with is
// passed on. The bridge's own failures are answers of the same shape with a body
// {"error":"<short reason>"}:
//   400  the data is not a request (not JSON, no requestLine.method or .uri, a body or
//        header value that is not a string, headers over kMaxGraphHeaderBytes), or its uri
//        would leave the base (check_graph_uri). Never sent; counted as a malformed frame.
//   502  no connection, or an answer that cannot be passed on (body over the client's cap,
//        body not UTF-8 text: the response's body is a JSON string).
//   504  no answer within the route's timeout.
//
// Delivery outcome (dsb_deliveries_total, logs): the service's 1xx-4xx answers are
// deliveries (it handled the request and said so); its 5xx answers are failed deliveries,
// passed on all the same; the bridge's 400/502/504 are failed deliveries. Only a delivered
// answer is remembered for a redelivery of the same frame.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deliver/format.hpp"

namespace dsb::deliver {

inline constexpr size_t kMaxGraphUri = 8 * 1024;
// Names plus values of a request's headers. A browser sends a few KiB; an AI plugin less.
inline constexpr size_t kMaxGraphHeaderBytes = 64 * 1024;
inline constexpr size_t kMaxGraphHeaders = 256;

// What a graph frame's data asks for.
struct GraphRequest {
  std::string method;
  std::string uri;
  std::vector<std::pair<std::string, std::string>> headers;  // in the data's order
  std::string body;
};

// The request in `data`, or why it is not one (a short reason fit for the 400 body).
// Absent or null `headers` and `body` are none and "" (the Python SDK leaves unset members
// out); a null header value is skipped (the Java SDK's forwarder does the same). Members
// the shape does not name are ignored.
Result<GraphRequest> parse_graph_request(std::string_view data);

// OK when `uri` is an absolute path with an optional query: it starts with one "/", has no
// "." or ".." path segment (also when %-encoded, hidden by an encoded "/" or "\", or
// followed by ";params", which servlet containers drop before normalising: "/..;/x"), no
// encoded NUL, no control character, space, backslash or "#", and is at most kMaxGraphUri
// bytes. Anything else could address something other than the base's subtree.
Status check_graph_uri(std::string_view uri);

// REQUIRES: check_graph_uri(uri). `base` has no query (config refuses one); one "/"
// between them. Bytes >= 0x80 (unencoded UTF-8 in a uri) are %-encoded, as a URL needs.
std::string join_graph_url(std::string_view base, std::string_view uri);

// The response object for a service's answer: header names lower-cased, hop-by-hop ones
// (and those the answer's Connection header names) dropped, repeats joined with ", ", a
// header whose value is not UTF-8 dropped. An empty reason phrase (HTTP/2) gets the
// standard one. Fails when `body` is not UTF-8.
Result<std::string> graph_response(int status, std::string_view reason_phrase,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::string_view body);

// The response object for a failure of the bridge's own: `status` with its standard
// reason phrase, a JSON content-type, body {"error": reason}.
std::string graph_error_response(int status, std::string_view reason);

class GraphFormat : public WebhookFormat {
 public:
  // Fails (-> 400) when the data is not a request or its uri is refused.
  Result<Request> build(const DeliveryInput& input) const override;
  // Any answer, status 0 (no usable answer) included.
  ReplyVerdict judge(const config::Route& route, std::string_view client_id,
                     const Response& response) const override;
  bool judges_every_answer() const override { return true; }
  std::optional<std::string> failure_reply(int status, std::string_view reason) const override {
    return graph_error_response(status, reason);
  }
  std::string_view malformed_label() const override { return "graph_request"; }
};

}  // namespace dsb::deliver
