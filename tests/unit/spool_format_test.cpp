// How `spool list|show|replay|purge` print (store/spool_format.hpp): pure, rows in, text out.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "store/spool_format.hpp"
#include "store/store.hpp"

using namespace dsb::store;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

DeliveryRow dead_row() {
  DeliveryRow row;
  row.id = 7;
  row.frame_id = 3;
  row.route = "orders";
  row.state = "dead";
  row.url = "https://user:secret@hooks.example/orders";
  row.dingtalk_id = "ev-123";
  row.event = "order_paid";
  row.attempts = 12;
  row.created_at_ms = kNow - 7'200'000;
  row.updated_at_ms = kNow - 60'000;
  row.next_attempt_at_ms = kNow - 60'000;
  row.last_error = "webhook returned 503\nbusy";
  return row;
}

DeliveryRow pending_row() {
  DeliveryRow row;
  row.id = 8;
  row.frame_id = 4;
  row.route = "robot";
  row.state = "pending";
  row.url = "http://127.0.0.1:8080/robot";
  row.dingtalk_id = "msg-9";
  row.event = "/v1.0/im/bot/messages/get";
  row.attempts = 1;
  row.created_at_ms = kNow - 90'000;
  row.next_attempt_at_ms = kNow + 30'000;
  return row;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("spool format: human durations", "[spool][format]") {
  CHECK(human_duration(-5) == "0s");
  CHECK(human_duration(45'999) == "45s");
  CHECK(human_duration(125'000) == "2m5s");
  CHECK(human_duration(3 * 3'600'000) == "3h0m");
  CHECK(human_duration(49 * 3'600'000) == "2d1h");
}

TEST_CASE("spool format: the list is one grep-able line per delivery", "[spool][format]") {
  std::ostringstream out;
  print_list_table({dead_row(), pending_row()}, kNow, out);
  auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 4);
  const std::string& header = lines[0];
  for (const char* column : {"ID", "ROUTE", "STATE", "ATTEMPTS", "AGE", "NEXT", "DINGTALK ID",
                             "EVENT/TOPIC", "URL", "LAST ERROR"}) {
    CHECK(header.find(column) != std::string::npos);
  }
  const size_t url_at = header.find("URL");
  const size_t id_at = header.find("DINGTALK ID");
  CHECK(lines[1].substr(url_at).rfind("https://***@hooks.example/orders", 0) == 0);
  CHECK(lines[1].substr(id_at).rfind("ev-123 ", 0) == 0);
  CHECK(lines[1].find("order_paid") != std::string::npos);
  CHECK(lines[1].find("2h0m") != std::string::npos);
  CHECK(lines[1].find("webhook returned 503 busy") != std::string::npos);  // one line
  CHECK(lines[1].find("secret") == std::string::npos);
  CHECK(lines[2].substr(id_at).rfind("msg-9 ", 0) == 0);
  CHECK(lines[2].find("in 30s") != std::string::npos);
  CHECK(lines[3] == "1 pending, 1 dead-lettered");
}

TEST_CASE("spool format: list --json is one array, URLs redacted", "[spool][format]") {
  std::ostringstream out;
  print_list_json({dead_row(), pending_row()}, kNow, out);
  rapidjson::Document doc;
  doc.Parse(out.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsArray());
  REQUIRE(doc.Size() == 2);
  const auto& dead = doc[0];
  CHECK(dead["id"].GetInt64() == 7);
  CHECK(std::string(dead["url"].GetString()) == "https://***@hooks.example/orders");
  CHECK(std::string(dead["dingtalk_id"].GetString()) == "ev-123");
  CHECK(std::string(dead["event"].GetString()) == "order_paid");
  CHECK(dead["age_ms"].GetInt64() == 7'200'000);
  CHECK(dead["dead_lettered_at_ms"].GetInt64() == kNow - 60'000);
  CHECK(dead["next_attempt_at_ms"].IsNull());
  CHECK(std::string(dead["last_error"].GetString()) == "webhook returned 503\nbusy");
  CHECK(doc[1]["dead_lettered_at_ms"].IsNull());
  CHECK(doc[1]["next_attempt_at_ms"].GetInt64() == kNow + 30'000);
}

DeliveryDetail detail_with_history() {
  DeliveryDetail detail;
  detail.row = dead_row();
  detail.frame_type = "EVENT";
  detail.headers = {{"eventId", "ev-123"}, {"eventType", "order_paid"}};
  detail.body = R"({"order":42})";
  detail.history = {{1, kNow - 7'000'000, "retry", 0, "webhook failed: Connection refused"},
                    {2, kNow - 6'000'000, "retry", 503, "webhook returned 503"},
                    {3, kNow - 5'000'000, "retry", 503, "webhook returned 503"},
                    {11, kNow - 120'000, "retry", 503, "webhook returned 503"},
                    {12, kNow - 60'000, "dead", 503, "webhook returned 503"}};
  return detail;
}

TEST_CASE("spool format: show prints the delivery, its frame and every attempt kept",
          "[spool][format]") {
  std::ostringstream out;
  print_show_text(detail_with_history(), kNow, out);
  const std::string text = out.str();
  CHECK(text.find("delivery:       7 (dead)\n") != std::string::npos);
  CHECK(text.find("url:            https://***@hooks.example/orders\n") != std::string::npos);
  CHECK(text.find("dingtalk id:    ev-123\n") != std::string::npos);
  CHECK(text.find("event/topic:    order_paid\n") != std::string::npos);
  CHECK(text.find("dead-lettered:  2023-11-14T22:12:20.000Z\n") != std::string::npos);
  CHECK(text.find("\nheaders:\n  eventId: ev-123\n  eventType: order_paid\n") !=
        std::string::npos);
  CHECK(text.find("\nbody:\n{\"order\":42}\n") != std::string::npos);
  CHECK(text.find("the first 3 and the last 10 attempts are kept") != std::string::npos);
  CHECK(text.find("  ...      7 attempts not kept") != std::string::npos);
  auto lines = lines_of(text);
  const std::string last = lines.back();
  CHECK(last.rfind("  12 ", 0) == 0);
  CHECK(last.find("2023-11-14T22:12:20.000Z") != std::string::npos);
  CHECK(last.find("dead") != std::string::npos);
  CHECK(last.find("503") != std::string::npos);
  // A failure below HTTP has no status.
  auto first = std::find_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.rfind("  1 ", 0) == 0; });
  REQUIRE(first != lines.end());
  CHECK(first->find(" - ") != std::string::npos);
  CHECK(text.find("secret") == std::string::npos);
}

TEST_CASE("spool format: show --json and the replay / purge summary", "[spool][format]") {
  std::ostringstream out;
  print_show_json(detail_with_history(), kNow, out);
  rapidjson::Document doc;
  doc.Parse(out.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["url"].GetString()) == "https://***@hooks.example/orders");
  CHECK(std::string(doc["frame_type"].GetString()) == "EVENT");
  CHECK(std::string(doc["headers"]["eventType"].GetString()) == "order_paid");
  CHECK(std::string(doc["body"].GetString()) == R"({"order":42})");
  REQUIRE(doc["history"].Size() == 5);
  CHECK(doc["history"][0]["status"].IsNull());
  CHECK(doc["history"][4]["status"].GetInt() == 503);
  CHECK(std::string(doc["history"][4]["outcome"].GetString()) == "dead");
  CHECK(doc["history"][4]["at_ms"].GetInt64() == kNow - 60'000);

  std::ostringstream summary;
  print_change_json("replay", {3, 5}, summary);
  CHECK(summary.str() == "{\"action\":\"replay\",\"count\":2,\"ids\":[3,5]}\n");
}
