// The URL of an OpenAPI path on `api_base` (dingtalk.api_base): the config allows a
// trailing slash on the base, the paths all start with one, and DingTalk's gateway does not
// fold "//". The one place that joins them.
#pragma once

#include <string>
#include <string_view>

namespace dsb::openapi {

// REQUIRES: `path` starts with '/'.
inline std::string api_url(std::string_view api_base, std::string_view path) {
  while (!api_base.empty() && api_base.back() == '/') api_base.remove_suffix(1);
  std::string url(api_base);
  url += path;
  return url;
}

}  // namespace dsb::openapi
