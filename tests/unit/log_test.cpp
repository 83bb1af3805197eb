// Log lines: one per call, whole, parseable as JSON in json mode, filtered by level.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "common/log.hpp"

namespace {

std::vector<std::string> g_lines;
void capture(std::string_view line) { g_lines.emplace_back(line); }

struct CaptureLogs {
  CaptureLogs() {
    g_lines.clear();
    dsb::log::set_sink(&capture);
  }
  ~CaptureLogs() {
    dsb::log::set_sink(nullptr);
    dsb::log::configure(dsb::log::Level::info, dsb::log::Format::text);
  }
};

}  // namespace

TEST_CASE("json log lines are one valid object each, fields escaped", "[log]") {
  CaptureLogs capture_logs;
  dsb::log::configure(dsb::log::Level::debug, dsb::log::Format::json);
  dsb::log::info("stream", "connection closed", {{"reason", "peer said \"bye\"\n"}, {"conn", "3"}});

  REQUIRE(g_lines.size() == 1);
  const std::string& line = g_lines[0];
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["level"].GetString()) == "info");
  CHECK(std::string(doc["component"].GetString()) == "stream");
  CHECK(std::string(doc["msg"].GetString()) == "connection closed");
  CHECK(std::string(doc["reason"].GetString()) == "peer said \"bye\"\n");
  CHECK(std::string(doc["conn"].GetString()) == "3");
}

TEST_CASE("text log lines quote values only when needed, levels filter", "[log]") {
  CaptureLogs capture_logs;
  dsb::log::configure(dsb::log::Level::warn, dsb::log::Format::text);
  dsb::log::info("stream", "dropped");
  dsb::log::warn("stream", "reconnect scheduled", {{"delay_ms", "1200"}, {"reason", "pong timeout"}});

  REQUIRE(g_lines.size() == 1);
  CHECK_THAT(g_lines[0], Catch::Matchers::EndsWith(
                             " warn stream: reconnect scheduled delay_ms=1200 reason=\"pong timeout\"\n"));
  CHECK_FALSE(dsb::log::enabled(dsb::log::Level::info));
  CHECK(dsb::log::enabled(dsb::log::Level::error));
}
