// One line per thing worth knowing, to stderr (journald picks it up), as text or JSON.
// Callers pass structured fields; they must never pass secrets (client_secret, tickets,
// tokens, keys): the logger cannot know which strings are secret.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsb::log {

enum class Level { trace = 0, debug, info, warn, error };
enum class Format { text, json };

using Field = std::pair<std::string_view, std::string>;

void configure(Level level, Format format);
bool enabled(Level level);
// Where lines go; stderr by default. Tests capture them through this.
using Sink = void (*)(std::string_view line);
void set_sink(Sink sink);

void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields = {});

inline void trace(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::trace)) write(Level::trace, c, m, f);
}
inline void debug(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::debug)) write(Level::debug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::info)) write(Level::info, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::warn)) write(Level::warn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::error, c, m, f);
}

std::string_view level_name(Level level);

}  // namespace dsb::log
