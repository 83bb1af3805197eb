// `emulate --client-id`, repeatable: which apps the emulated gateway serves at once.
#include <set>

#include "emulator/emulator.hpp"

namespace dsb::emulator {

Status set_clients(Options& options, const std::vector<std::string>& values) {
  std::set<std::string> seen;
  bool first = true;
  for (const std::string& value : values) {
    const size_t colon = value.find(':');
    const std::string id = value.substr(0, colon);
    const std::string secret = colon == std::string::npos ? options.client_secret : value.substr(colon + 1);
    if (id.empty()) return Status::error("--client-id: a client id must not be empty");
    if (secret.empty()) return Status::error("--client-id " + id + ": empty secret");
    if (!seen.insert(id).second) return Status::error("--client-id " + id + " given twice");
    if (first) {
      options.client_id = id;
      options.client_secret = secret;
      first = false;
    } else {
      options.more_clients[id] = secret;
    }
  }
  return Status::ok();
}

}  // namespace dsb::emulator
