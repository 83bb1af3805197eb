// (method, exact path) -> handler. Unknown path -> 404, known path with another method -> 405
// with an Allow header. No patterns: every route of the admin endpoint and the emulator is a
// fixed path, and ids travel in the query or the body.
#pragma once

#include "httpd/request.hpp"

#include <map>
#include <string>

namespace dsb::httpd {

class Router {
 public:
  // A later add() for the same (method, path) replaces the earlier handler.
  void add(const std::string& method, const std::string& path, Handler handler);

  // Never throws: a handler's exception becomes a 500.
  Response dispatch(const Request& request) const;

 private:
  std::map<std::string, std::map<std::string, Handler>> routes_;  // path -> method -> handler
};

}  // namespace dsb::httpd
