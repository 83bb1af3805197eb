// ${VAR} and ${VAR:-default} in config strings (product.md section 3).
//
// Rules, chosen to match the shell closely enough that operators guess right:
//   ${VAR}          the variable's value; unset is an error (set but empty gives "")
//   ${VAR:-text}    the value, or `text` when VAR is unset or empty; `text` is literal
//                   and ends at the first "}"; a "${" inside it is an error (no nesting)
//   $${             a literal "${" (the escape); any other "$" is kept as is, so
//                   passwords and URLs containing "$" need no escaping
// Names are [A-Za-z_][A-Za-z0-9_]*.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"

namespace dsb::config {

struct Substituted {
  std::string value;
  // One message per problem, without key or location: the caller adds those. Messages
  // name variables but never echo the surrounding text, which may be a secret.
  std::vector<std::string> errors;
};

Substituted substitute(std::string_view text, const Environment& env);

}  // namespace dsb::config
