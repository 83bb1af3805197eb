#include <catch2/catch.hpp>

#include "bridge/frame_data.hpp"
#include "config/field_path.hpp"

using dsb::bridge::FrameData;
using dsb::config::FieldPath;
using dsb::config::parse_field_path;

namespace {

FieldPath path(const char* text) {
  auto parsed = parse_field_path(text);
  REQUIRE(parsed);
  return parsed.value();
}

}  // namespace

TEST_CASE("field paths split at dots and refuse empty segments", "[field_path]") {
  CHECK(path("conversationId").segments == std::vector<std::string>{"conversationId"});
  CHECK(path("text.content").segments == std::vector<std::string>{"text", "content"});
  for (const char* bad : {"", ".a", "a.", "a..b", "."}) {
    INFO(bad);
    CHECK_FALSE(parse_field_path(bad));
  }
  CHECK_FALSE(parse_field_path(std::string("a\nb")));
  CHECK(parse_field_path("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p"));
  CHECK_FALSE(parse_field_path("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"));
}

TEST_CASE("frame data fields read strings, numbers and booleans as text", "[frame_data]") {
  const std::string data =
      R"({"conversationId":"cid1","conversationType":"2","createAt":1690362101894,)"
      R"("isAdmin":false,"ratio":1.5,"text":{"content":" hi"},"atUsers":[{"staffId":"u"}],"none":null})";
  FrameData fields(data);
  CHECK(fields.field(path("conversationId")) == "cid1");
  CHECK(fields.field(path("text.content")) == " hi");
  CHECK(fields.field(path("createAt")) == "1690362101894");
  CHECK(fields.field(path("isAdmin")) == "false");
  CHECK(fields.field(path("ratio")) == "1.5");
  CHECK_FALSE(fields.field(path("text")));          // an object
  CHECK_FALSE(fields.field(path("atUsers")));       // an array
  CHECK_FALSE(fields.field(path("none")));          // null
  CHECK_FALSE(fields.field(path("missing")));
  CHECK_FALSE(fields.field(path("conversationId.x")));  // a string has no members
}

TEST_CASE("frame data that is not a JSON object has no fields", "[frame_data]") {
  for (const char* data : {"", "not json", "[1,2]", "\"text\"", "{\"a\":"}) {
    INFO(data);
    FrameData fields(data);
    CHECK_FALSE(fields.field(path("a")));
  }
  const std::string deep = std::string(300, '[') + std::string(300, ']');
  FrameData nested(deep);
  CHECK_FALSE(nested.field(path("a")));
}
