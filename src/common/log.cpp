#include "common/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common/clock.hpp"
#include "common/json.hpp"

namespace dsb::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<Format> g_format{Format::text};
std::atomic<Sink> g_sink{nullptr};
std::mutex g_write_mutex;  // one line at a time, whole, from any thread

std::string timestamp() { return format_utc_ms(wall_ms()); }

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}

}  // namespace

void configure(Level level, Format format) {
  g_level = static_cast<int>(level);
  g_format = format;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void set_sink(Sink sink) { g_sink = sink; }

std::string_view level_name(Level level) {
  switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  if (g_format.load() == Format::json) {
    line += "{\"ts\":";
    line += json::quote(timestamp());
    line += ",\"level\":";
    line += json::quote(level_name(level));
    line += ",\"component\":";
    line += json::quote(component);
    line += ",\"msg\":";
    line += json::quote(message);
    for (const auto& [key, value] : fields) {
      line += ',';
      line += json::quote(key);
      line += ':';
      line += json::quote(value);
    }
    line += '}';
  } else {
    line += timestamp();
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += component;
    line += ": ";
    line += message;
    for (const auto& [key, value] : fields) {
      line += ' ';
      line += key;
      line += '=';
      line += needs_quotes(value) ? json::quote(value) : value;
    }
  }
  line += '\n';
  std::lock_guard lock(g_write_mutex);
  if (Sink sink = g_sink.load()) {
    sink(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace dsb::log
