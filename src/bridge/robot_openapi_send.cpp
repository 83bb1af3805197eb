#include "bridge/robot_openapi_send.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>
#include <vector>

#include "common/json.hpp"

namespace dsb::bridge {
namespace {

constexpr size_t kMaxVerticalButtons = 5;  // sampleActionCard2 .. sampleActionCard5

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string object_of(const Fields& fields) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [name, value] : fields) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Reads the string fields a template needs from `object` (the reply's `text`, `markdown`,
// ... member), naming the first that is missing.
class FieldReader {
 public:
  FieldReader(const rapidjson::Value& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  // `required`: absent or not a string is an error; else it reads as "".
  FieldReader& take(const char* name, const char* as = nullptr, bool required = true) {
    auto value = json::string_member(object_, name);
    if (!value && required && missing_.empty()) missing_ = prefix_ + "." + name;
    fields_.emplace_back(as != nullptr ? as : name, value ? std::string(*value) : std::string());
    return *this;
  }
  FieldReader& optional(const char* name) { return take(name, nullptr, false); }

  Result<OpenApiTemplate> as(std::string msg_key) const {
    if (!missing_.empty()) return Status::error(missing_ + " must be a string");
    return OpenApiTemplate{std::move(msg_key), object_of(fields_)};
  }
  Fields& fields() { return fields_; }
  const std::string& missing() const { return missing_; }

 private:
  const rapidjson::Value& object_;
  std::string prefix_;
  Fields fields_;
  std::string missing_;
};

Result<OpenApiTemplate> action_card(const rapidjson::Value& card) {
  FieldReader reader(card, "actionCard");
  reader.take("title").take("text");
  auto buttons = card.FindMember("btns");
  const bool has_buttons = buttons != card.MemberEnd() && buttons->value.IsArray() &&
                           !buttons->value.GetArray().Empty();
  if (!has_buttons) return reader.take("singleTitle").take("singleURL").as("sampleActionCard");

  const auto& list = buttons->value.GetArray();
  if (list.Size() > kMaxVerticalButtons)
    return Status::error("actionCard has " + std::to_string(list.Size()) +
                         " btns; the OpenAPI templates take at most 5");
  std::vector<std::pair<std::string, std::string>> pairs;  // (title, url)
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    auto title = json::string_member(list[i], "title");
    auto url = json::string_member(list[i], "actionURL");
    if (!title || !url)
      return Status::error("actionCard.btns[" + std::to_string(i) +
                           "] needs string title and actionURL");
    pairs.emplace_back(std::string(*title), std::string(*url));
  }
  if (!reader.missing().empty()) return reader.as("");
  Fields& fields = reader.fields();
  if (pairs.size() == 1) {
    fields.emplace_back("singleTitle", pairs[0].first);
    fields.emplace_back("singleURL", pairs[0].second);
    return reader.as("sampleActionCard");
  }
  auto orientation = json::string_member(card, "btnOrientation");
  if (pairs.size() == 2 && orientation && *orientation == "1") {  // side by side
    for (size_t k = 0; k < 2; ++k) {
      fields.emplace_back("buttonTitle" + std::to_string(k + 1), pairs[k].first);
      fields.emplace_back("buttonUrl" + std::to_string(k + 1), pairs[k].second);
    }
    return reader.as("sampleActionCard6");
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    fields.emplace_back("actionTitle" + std::to_string(k + 1), pairs[k].first);
    fields.emplace_back("actionURL" + std::to_string(k + 1), pairs[k].second);
  }
  return reader.as("sampleActionCard" + std::to_string(pairs.size()));
}

// Whether the reply's `at` block would notify anyone: isAtAll true, or a non-empty list of
// mobiles, user ids or DingTalk ids. An empty or malformed one mentions nobody.
bool mentions_someone(const rapidjson::Value& reply) {
  auto at = reply.FindMember("at");
  if (at == reply.MemberEnd() || !at->value.IsObject()) return false;
  const rapidjson::Value& block = at->value;
  auto all = block.FindMember("isAtAll");
  if (all != block.MemberEnd() && all->value.IsBool() && all->value.GetBool()) return true;
  for (const char* list : {"atMobiles", "atUserIds", "atDingtalkIds"}) {
    auto it = block.FindMember(list);
    if (it != block.MemberEnd() && it->value.IsArray() && !it->value.GetArray().Empty())
      return true;
  }
  return false;
}

}  // namespace

Result<OpenApiTemplate> map_reply_template(std::string_view reply) {
  rapidjson::Document doc;
  if (!json::parse(doc, reply) || !doc.IsObject())
    return Status::error("reply is not a JSON object");
  auto type = json::string_member(doc, "msgtype");
  if (!type) return Status::error("reply has no string msgtype");
  const std::string msgtype(*type);
  auto body = doc.FindMember(msgtype.c_str());
  if (body == doc.MemberEnd() || !body->value.IsObject())
    return Status::error("reply has no " + msgtype + " object");
  const rapidjson::Value& content = body->value;

  Result<OpenApiTemplate> mapped = Status::error("msgtype " + msgtype + " has no OpenAPI template");
  if (msgtype == "text") {
    mapped = FieldReader(content, "text").take("content").as("sampleText");
  } else if (msgtype == "markdown") {
    mapped = FieldReader(content, "markdown").take("title").take("text").as("sampleMarkdown");
  } else if (msgtype == "actionCard") {
    mapped = action_card(content);
  } else if (msgtype == "link") {
    mapped = FieldReader(content, "link")
                 .take("text")
                 .take("title")
                 .optional("picUrl")
                 .take("messageUrl")
                 .as("sampleLink");
  }
  if (mapped && mapped->msg_param.size() > kMaxMsgParamBytes)
    return Status::error("msgParam is " + std::to_string(mapped->msg_param.size()) +
                         " bytes; DingTalk takes at most 15000");
  if (mapped) mapped->mentions_dropped = mentions_someone(doc);
  return mapped;
}

Result<OpenApiSend> build_openapi_send(const RobotMessage& robot, std::string_view reply,
                                       const std::string& default_robot_code) {
  const bool one_to_one = robot.conversation_type == "1";
  if (!one_to_one && robot.conversation_type != "2")
    return Status::error(robot.conversation_type.empty() ? "the message has no conversationType"
                                                         : "conversationType " +
                                                               robot.conversation_type +
                                                               " is neither 1 nor 2");
  if (one_to_one && robot.sender_staff_id.empty())
    return Status::error(
        "a 1:1 message without senderStaffId (external user?) has no OpenAPI recipient");
  if (!one_to_one && robot.conversation_id.empty())
    return Status::error("a group message without conversationId has no OpenAPI recipient");
  const std::string& robot_code = robot.robot_code.empty() ? default_robot_code : robot.robot_code;
  if (robot_code.empty()) return Status::error("no robotCode and no client_id");

  Result<OpenApiTemplate> mapped = map_reply_template(reply);
  if (!mapped) return mapped.status();

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto string = [&w](const std::string& text) {
    w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  };
  w.StartObject();
  w.Key("robotCode");
  string(robot_code);
  if (one_to_one) {
    w.Key("userIds");
    w.StartArray();
    string(robot.sender_staff_id);
    w.EndArray();
  } else {
    w.Key("openConversationId");
    string(robot.conversation_id);
  }
  w.Key("msgKey");
  string(mapped->msg_key);
  w.Key("msgParam");
  string(mapped->msg_param);
  w.EndObject();
  return OpenApiSend{one_to_one ? "/v1.0/robot/oToMessages/batchSend"
                                : "/v1.0/robot/groupMessages/send",
                     std::string(buffer.GetString(), buffer.GetSize()), mapped->mentions_dropped};
}

}  // namespace dsb::bridge
