#include "httpd/server.hpp"

#include "common/log.hpp"
#include "common/percent.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace dsb::httpd {

struct Session {
  Request request;
  bool expect_body = false;
  bool body_too_large = false;
  // Response being written: headers first, then the body in chunks.
  bool responding = false;
  bool headers_sent = false;
  bool head_only = false;
  Response response;
  size_t body_sent = 0;
  // A deferred request's Respond holds this weakly: it expires when the connection closes
  // or starts its next request, so a late answer goes nowhere.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

namespace {

constexpr size_t kChunk = 16 * 1024;

struct MethodToken {
  lws_token_indexes token;
  const char* name;
};
constexpr MethodToken kMethods[] = {
    {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
    {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_DELETE_URI, "DELETE"},
    {WSI_TOKEN_PATCH_URI, "PATCH"},   {WSI_TOKEN_HEAD_URI, "HEAD"},
    {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
};

struct CapturedHeader {
  lws_token_indexes token;
  const char* name;
};
constexpr CapturedHeader kHeaders[] = {
    {WSI_TOKEN_HOST, "host"},
    {WSI_TOKEN_HTTP_ACCEPT, "accept"},
    {WSI_TOKEN_HTTP_CONTENT_TYPE, "content-type"},
    {WSI_TOKEN_HTTP_CONTENT_LENGTH, "content-length"},
    {WSI_TOKEN_HTTP_USER_AGENT, "user-agent"},
    {WSI_TOKEN_HTTP_AUTHORIZATION, "authorization"},
};

// Headers lws has no token for, captured by name (lower case, as Request::headers keeps
// them): the emulator checks the OpenAPI token the bridge sends.
constexpr const char* kCustomHeaders[] = {"x-acs-dingtalk-access-token", "x-request-id",
                                          "x-acs-request-id", "idempotency-key", "traceparent",
                                          "x-acs-dingtalk-app-id"};

std::string custom_header_value(lws* wsi, const char* name) {
  const std::string key = std::string(name) + ":";
  const int nlen = static_cast<int>(key.size());
  const int n = lws_hdr_custom_length(wsi, key.c_str(), nlen);
  if (n <= 0) return {};
  std::string value(static_cast<size_t>(n) + 1, '\0');
  const int got = lws_hdr_custom_copy(wsi, value.data(), n + 1, key.c_str(), nlen);
  value.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return value;
}

// Every header lws has a token for ("accept-language:", not "get " or ":authority"),
// lower case, without the colon.
void capture_known_headers(lws* wsi, std::map<std::string, std::string>& out) {
  for (int i = 0; i < static_cast<int>(WSI_TOKEN_COUNT); ++i) {
    const auto token = static_cast<lws_token_indexes>(i);
    const char* name = reinterpret_cast<const char*>(lws_token_to_string(token));
    if (name == nullptr || name[0] == ':' || name[0] == '\0') continue;
    std::string key(name);
    if (!key.ends_with(':')) continue;
    key.pop_back();
    if (lws_hdr_total_length(wsi, token) <= 0) continue;
    std::string value = header_value(wsi, token);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.emplace(std::move(key), std::move(value));
  }
}

}  // namespace

std::string header_value(lws* wsi, lws_token_indexes token) {
  int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string value(static_cast<size_t>(n) + 1, '\0');
  int got = lws_hdr_copy(wsi, value.data(), n + 1, token);
  value.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return value;
}

// lws splits the query at '&' into fragments of WSI_TOKEN_HTTP_URI_ARGS.
namespace {

// One query fragment as lws hands it over (split at '&', then percent-decoded), escaped
// again so the query can be forwarded as a URL part and parsed once: the name up to the
// first '=', the value after it. lws has already turned '+' into a space, so a '+' here
// was "%2B" and is escaped again.
void append_fragment(std::string& query, std::string_view fragment) {
  bool in_value = false;
  for (char c : fragment) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = std::isalnum(byte) || std::strchr("-._~!$'()*,;:@/?", c) != nullptr;
    if (c == '=' && !in_value) {
      in_value = true;
      query += '=';
    } else if (plain && byte < 0x80) {
      query += c;
    } else {
      append_percent_escape(query, byte);
    }
  }
}

// The query, re-escaped: "a=x%20y&b=2".
std::string raw_query(lws* wsi) {
  std::string query;
  std::vector<char> buf(static_cast<size_t>(lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS)) + 1);
  for (int i = 0;; ++i) {
    int n = lws_hdr_copy_fragment(wsi, buf.data(), static_cast<int>(buf.size()),
                                  WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    if (!query.empty()) query += '&';
    append_fragment(query, std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  return query;
}
}  // namespace

std::map<std::string, std::string> query_args(lws* wsi) { return parse_query(raw_query(wsi)); }

bool write_short_response(lws* wsi, const Response& r) {
  std::vector<unsigned char> buf(LWS_PRE + 1024 + r.body.size());
  unsigned char* start = buf.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf.data() + buf.size() - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(r.status),
                                  r.content_type.empty() ? nullptr : r.content_type.c_str(),
                                  r.body.size(), &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return false;
  if (r.body.empty()) return true;
  std::memcpy(start, r.body.data(), r.body.size());
  return lws_write(wsi, start, r.body.size(), LWS_WRITE_HTTP_FINAL) ==
         static_cast<int>(r.body.size());
}

namespace {

Session& session_of(SessionSlot* slot) {
  if (!slot->session) slot->session = new Session();
  return *slot->session;
}

void release(SessionSlot* slot) {
  delete slot->session;
  slot->session = nullptr;
}

}  // namespace

Server::Server(Router router, Options options)
    : router_(std::move(router)), options_(std::move(options)) {}

bool Server::handles(lws_callback_reasons reason) {
  switch (reason) {
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_HTTP_WRITEABLE:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      return true;
    default:
      return false;
  }
}

lws_protocols Server::protocol(const char* name) {
  lws_protocols p;
  std::memset(&p, 0, sizeof p);
  p.name = name;
  p.callback = &Server::lws_callback;
  p.per_session_data_size = sizeof(SessionSlot);
  p.user = this;
  return p;
}

int Server::lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                         size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* server = protocol ? static_cast<Server*>(protocol->user) : nullptr;
  if (!server || !user || !handles(reason)) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return server->callback(wsi, reason, static_cast<SessionSlot*>(user), in, len);
}

int Server::callback(lws* wsi, lws_callback_reasons reason, SessionSlot* slot, void* in,
                     size_t len) {
  try {
    switch (reason) {
      case LWS_CALLBACK_HTTP:
        return begin(wsi, session_of(slot), static_cast<const char*>(in));
      case LWS_CALLBACK_HTTP_BODY: {
        Session& s = session_of(slot);
        if (s.request.body.size() + len > options_.max_body) {
          s.body_too_large = true;
          s.request.body.clear();
        } else if (!s.body_too_large) {
          s.request.body.append(static_cast<const char*>(in), len);
        }
        return 0;
      }
      case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        // lws reports the end of an empty body too ("Content-Length: 0"), after begin()
        // answered already: a second answer would replace (or, deferred, race) the first.
        Session& s = session_of(slot);
        if (!s.expect_body) return 0;
        s.expect_body = false;
        return respond(wsi, s);
      }
      case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!slot->session || !slot->session->responding) return 0;
        return write_some(wsi, *slot->session);
      case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      case LWS_CALLBACK_CLOSED_HTTP:
        release(slot);
        return 0;
      default:
        return 0;
    }
  } catch (const std::exception& e) {
    log::error("httpd", "callback failed", {{"error", e.what()}});
  } catch (...) {
    log::error("httpd", "callback failed");
  }
  return -1;  // closes this connection only
}

int Server::begin(lws* wsi, Session& s, const char* uri) {
  s = Session();  // keep-alive: a new transaction on the same connection
  for (const auto& m : kMethods) {
    if (lws_hdr_total_length(wsi, m.token) > 0) {
      s.request.method = m.name;
      break;
    }
  }
  s.request.path = uri ? uri : "";
  if (s.request.path.empty()) s.request.path = "/";
  s.request.query = raw_query(wsi);
  s.request.args = parse_query(s.request.query);
  capture_known_headers(wsi, s.request.headers);
  for (const auto& h : kHeaders) {
    std::string value = header_value(wsi, h.token);
    if (!value.empty()) s.request.headers.emplace(h.name, std::move(value));
  }
  for (const char* name : kCustomHeaders) {
    std::string value = custom_header_value(wsi, name);
    if (!value.empty()) s.request.headers.emplace(name, std::move(value));
  }
  char peer[64] = {0};
  lws_get_peer_simple(wsi, peer, sizeof peer);
  s.request.peer = peer;
  s.head_only = s.request.method == "HEAD";

  const std::string& length = s.request.header("content-length");
  bool has_body = !length.empty() && length != "0";
  if (has_body) {
    if (std::strtoull(length.c_str(), nullptr, 10) > options_.max_body) s.body_too_large = true;
    s.expect_body = true;
    return 0;  // wait for LWS_CALLBACK_HTTP_BODY_COMPLETION
  }
  return respond(wsi, s);
}

int Server::respond(lws* wsi, Session& s) {
  if (options_.deferred) {
    s.request.body_too_large = s.body_too_large;
    if (s.body_too_large) s.request.body.clear();
    // Being answered from now on: it waits on the handler, it is not idle.
    if (options_.on_answering) options_.on_answering(wsi, true);
    std::weak_ptr<bool> alive = s.alive;
    Session* session = &s;
    options_.deferred(std::move(s.request), [this, wsi, alive, session](Response response) {
      if (alive.expired()) return;  // the connection closed or moved on meanwhile
      answer(wsi, *session, std::move(response));
    });
    return 0;
  }
  if (s.body_too_large) {
    s.response = Response::error(413, "request body larger than " +
                                          std::to_string(options_.max_body) + " bytes");
  } else {
    s.response = router_.dispatch(s.request);
  }
  log::debug("httpd", "request", {{"method", s.request.method}, {"path", s.request.path},
                                  {"status", std::to_string(s.response.status)}});
  answer(wsi, s, std::move(s.response));
  return 0;
}

void Server::answer(lws* wsi, Session& s, Response response) {
  s.response = std::move(response);
  s.responding = true;
  s.headers_sent = false;
  s.body_sent = 0;
  if (options_.on_answering) options_.on_answering(wsi, true);
  lws_callback_on_writable(wsi);
}

int Server::write_some(lws* wsi, Session& s) {
  const Response& r = s.response;
  if (!s.headers_sent) {
    size_t extra = 0;
    for (const auto& [name, value] : r.headers) extra += name.size() + value.size() + 8;
    std::vector<unsigned char> buf(LWS_PRE + 1024 + extra);
    unsigned char* start = buf.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buf.data() + buf.size() - 1;
    if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(r.status),
                                    r.content_type.empty() ? nullptr : r.content_type.c_str(),
                                    r.body.size(), &p, end))
      return -1;
    for (const auto& [name, value] : r.headers) {
      std::string field = name + ":";
      if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(field.c_str()),
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), &p, end))
        return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    s.headers_sent = true;
    if (!r.body.empty() && !s.head_only) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  } else {
    size_t n = std::min(kChunk, r.body.size() - s.body_sent);
    bool last = s.body_sent + n == r.body.size();
    std::vector<unsigned char> buf(LWS_PRE + n);
    std::memcpy(buf.data() + LWS_PRE, r.body.data() + s.body_sent, n);
    if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        static_cast<int>(n))
      return -1;
    s.body_sent += n;
    if (!last) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  }
  s.responding = false;
  if (options_.on_answering) options_.on_answering(wsi, false);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

}  // namespace dsb::httpd
