#include "config/openapi_section.hpp"

#include "common/glob.hpp"
#include "config/checks.hpp"

namespace dsb::config {
namespace {

// A path glob of `allow`: matched against the request path the app sends ("/v1.0/robot/*",
// "/oapi/topapi/v2/user/get"), so it must start with "/".
void read_allow(Context& ctx, MapReader& m, OpenApi& out) {
  const MapReader::Entry* entry = m.find("allow");
  if (!entry) return;
  const YAML::Node& value = entry->value;
  const YAML::Mark mark = m.value_mark("allow");
  if (value.IsNull()) return;
  if (!value.IsSequence()) {
    m.error("allow", "expected a list of path globs, got " + kind_of(value));
    return;
  }
  std::size_t i = 0;
  for (const YAML::Node& item : value) {
    const YAML::Mark item_mark = mark_or(item, mark);
    const std::string name = m.scope().name("allow[" + std::to_string(i++) + "]");
    std::optional<std::string> glob = read_text(ctx, item, item_mark, name);
    if (!glob) continue;
    if (!glob->starts_with('/')) {
      ctx.diag.error(item_mark, name + ": a path glob starts with \"/\", got " + quoted(*glob));
      continue;
    }
    if (std::optional<GlobError> bad = check_glob(*glob)) {
      ctx.diag.error(item_mark, name + ": bad glob " + quoted(*glob) + " at character " +
                                    std::to_string(bad->position) + ": " + bad->message);
      continue;
    }
    out.allow.push_back(std::move(*glob));
  }
}

}  // namespace

bool is_loopback(const ListenAddress& address) {
  if (address.ipv6) return address.host == "::1";
  return address.host.starts_with("127.");
}

void read_openapi(Context& ctx, MapReader& parent, const std::string& owner, ListenUses& uses,
                  OpenApi& out) {
  std::optional<MapReader> m = parent.map("openapi");
  if (!m) return;
  m->reject_unknown({"listen", "allow", "max_body", "allow_remote"});
  if (auto v = m->boolean("allow_remote")) out.allow_remote = *v;
  if (auto v = m->size("max_body")) out.max_body = *v;  // size() refuses 0
  read_allow(ctx, *m, out);
  std::optional<std::string> text = m->text("listen");
  if (!text || text->empty()) return;
  Result<ListenAddress> address = parse_listen(*text);
  if (!address) {
    m->error("listen", address.status().message());
    return;
  }
  if (!is_loopback(address.value()) && !out.allow_remote) {
    m->error("listen", quoted(*text) + " is not a loopback address: whoever reaches it calls "
                       "the OpenAPI as the app; set allow_remote: true to mean it");
  }
  if (address->port != 0) {
    const int line = m->value_mark("listen").line + 1;
    auto [it, inserted] = uses.emplace(address->to_string(),
                                       owner + " (line " + std::to_string(line) + ")");
    if (!inserted) m->error("listen", address->to_string() + " is already used by " + it->second);
  }
  out.listen = std::move(address.value());
}

}  // namespace dsb::config
