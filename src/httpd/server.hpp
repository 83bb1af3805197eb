// HTTP/1.1 on an lws vhost: turns lws HTTP callbacks into Request -> Router -> Response.
//
// Use it inside an existing vhost: put `server.protocol("name")` in the vhost's protocol list
// (first entry, so plain HTTP binds to it), or, when one protocol must also serve websockets,
// embed a SessionSlot in that protocol's per-session data and forward every reason for which
// Server::handles(reason) is true to Server::callback().
//
// Threading: everything runs on the lws service thread; the Server must outlive the vhost.
#pragma once

#include "httpd/router.hpp"

#include <libwebsockets.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>

namespace dsb::httpd {

// For callbacks that look at a request outside Server (a websocket upgrade check, say).
// REQUIRES: the wsi still has its headers (HTTP callbacks, CONFIRM_UPGRADE).
std::string header_value(lws* wsi, lws_token_indexes token);
std::map<std::string, std::string> query_args(lws* wsi);

// Writes a short response at once, from a callback that must answer before returning (a
// refused upgrade, say) rather than on WRITEABLE. False when lws refused the write.
bool write_short_response(lws* wsi, const Response& response);

struct Session;  // one HTTP connection's request/response state (server.cpp)

// What the owner keeps in lws per-session data. lws zero-fills it; Server allocates the
// Session lazily and frees it when the connection closes or leaves the protocol.
struct SessionSlot {
  Session* session;
};

class Server {
 public:
  struct Options {
    size_t max_body = 1 << 20;  // bytes; a larger request body is answered 413
    // Told when a connection starts writing a response (true) and when it is done (false),
    // from inside callback(); may be empty.
    std::function<void(lws* wsi, bool answering)> on_answering;
    // When set, every request goes here instead of the router, and is answered when the handler calls `respond` (from the loop thread,
    // possibly after other callbacks ran): a proxy waiting on another thread.
    std::function<void(Request request, Respond respond)> deferred;
  };

  Server(Router router, Options options);
  explicit Server(Router router) : Server(std::move(router), Options{}) {}
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // True for the HTTP-server reasons callback() deals with.
  static bool handles(lws_callback_reasons reason);

  // The lws callback body for those reasons. Never throws.
  int callback(lws* wsi, lws_callback_reasons reason, SessionSlot* slot, void* in, size_t len);

  // A ready-made protocol entry whose per-session data is a SessionSlot and whose `user` is
  // this Server.
  lws_protocols protocol(const char* name);

  const Router& router() const { return router_; }

 private:
  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                          size_t len);
  int begin(lws* wsi, Session& session, const char* uri);
  int respond(lws* wsi, Session& session);
  // Starts writing `response` (on WRITEABLE).
  void answer(lws* wsi, Session& session, Response response);
  int write_some(lws* wsi, Session& session);

  Router router_;
  Options options_;
};

}  // namespace dsb::httpd
