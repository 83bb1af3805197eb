#include "config/substitution.hpp"

namespace dsb::config {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_valid_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0])) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace

Substituted substitute(std::string_view text, const Environment& env) {
  Substituted out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t dollar = text.find('$', pos);
    if (dollar == std::string_view::npos) {
      out.value.append(text.substr(pos));
      break;
    }
    out.value.append(text.substr(pos, dollar - pos));
    std::string_view rest = text.substr(dollar);
    if (rest.starts_with("$${")) {
      out.value += "${";
      pos = dollar + 3;
      continue;
    }
    if (!rest.starts_with("${")) {
      out.value += '$';
      pos = dollar + 1;
      continue;
    }
    std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      out.errors.push_back("\"${\" without a closing \"}\"");
      break;
    }
    std::string_view body = text.substr(dollar + 2, close - dollar - 2);
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (std::size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    pos = close + 1;
    if (!is_valid_name(name)) {
      out.errors.push_back("invalid variable name \"" + std::string(name) +
                           "\" (use letters, digits and _; ${NAME} or ${NAME:-default})");
      continue;
    }
    // "${A:-${B}}" would end at the first "}" and leave "${B" plus a stray "}" as text.
    if (fallback && fallback->find("${") != std::string_view::npos) {
      out.errors.push_back("nested substitution in the default of ${" + std::string(name) +
                           ":-...} is not supported (the default is literal text)");
      continue;
    }
    std::optional<std::string> value = env.get(name);
    if (fallback && (!value || value->empty())) {
      out.value.append(*fallback);
    } else if (value) {
      out.value.append(*value);
    } else {
      out.errors.push_back("environment variable " + std::string(name) + " is not set");
    }
  }
  return out;
}

}  // namespace dsb::config
