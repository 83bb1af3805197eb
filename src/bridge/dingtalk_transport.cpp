#include "bridge/dingtalk_transport.hpp"

#include "common/log.hpp"

namespace dsb::bridge {

deliver::Transport DingTalkTransport::http() const {
  deliver::Transport transport;
  if (proxy) {
    transport.proxy = proxy->curl_url();
    transport.proxy_username = proxy->username;
    transport.proxy_password = proxy->password;
  }
  transport.extra_ca_file = ca_file;
  return transport;
}

DingTalkTransport resolve_dingtalk_transport(const config::App& app,
                                             const stream::Getenv& getenv_fn) {
  DingTalkTransport transport;
  transport.ca_file = app.dingtalk.ca_file;
  auto resolved = stream::resolve_proxy(app.dingtalk.proxy, getenv_fn);
  if (!resolved) {
    log::error("bridge",
               "ignoring an unusable proxy setting; connecting directly (Stream and requests "
               "to DingTalk alike)",
               {{"app", app.name}, {"reason", resolved.status().message()}});
  } else {
    transport.proxy = std::move(resolved.value());
  }
  return transport;
}

}  // namespace dsb::bridge
