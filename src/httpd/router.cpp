#include "httpd/router.hpp"

#include "common/log.hpp"

#include <exception>

namespace dsb::httpd {

void Router::add(const std::string& method, const std::string& path, Handler handler) {
  routes_[path][method] = std::move(handler);
}

Response Router::dispatch(const Request& request) const {
  auto by_path = routes_.find(request.path);
  if (by_path == routes_.end()) return Response::error(404, "no such path: " + request.path);
  const auto& methods = by_path->second;
  auto it = methods.find(request.method);
  if (it == methods.end() && request.method == "HEAD") it = methods.find("GET");
  if (it == methods.end()) {
    std::string allow;
    for (const auto& [method, handler] : methods) allow += (allow.empty() ? "" : ", ") + method;
    Response r = Response::error(405, request.method + " not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  try {
    return it->second(request);
  } catch (const std::exception& e) {
    log::error("httpd", "handler threw", {{"path", request.path}, {"error", e.what()}});
  } catch (...) {
    log::error("httpd", "handler threw", {{"path", request.path}});
  }
  return Response::error(500, "internal error");
}

}  // namespace dsb::httpd
