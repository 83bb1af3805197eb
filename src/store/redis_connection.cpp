#include "store/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>

#include "common/clock.hpp"

namespace dsb::store {
namespace {

timeval to_timeval(int64_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

RedisReply copy_reply(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = reply->type == REDIS_REPLY_STRING   ? RedisReply::Type::string
                 : reply->type == REDIS_REPLY_STATUS ? RedisReply::Type::status
                                                     : RedisReply::Type::error;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i) out.elements.push_back(copy_reply(reply->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

std::string describe(const config::RedisEndpoint& endpoint) {
  return "redis " + endpoint.host + ":" + std::to_string(endpoint.port) + "/" +
         std::to_string(endpoint.db);
}

}  // namespace

int64_t RedisReply::as_int(int64_t fallback) const {
  if (type == Type::integer) return integer;
  if (type == Type::string && !str.empty()) {
    char* end = nullptr;
    const long long v = std::strtoll(str.c_str(), &end, 10);
    if (end && *end == '\0') return v;
  }
  return fallback;
}

RedisConnection::RedisConnection(RedisConnectionOptions options)
    : options_(std::move(options)), where_(describe(options_.endpoint)) {}

RedisConnection::~RedisConnection() {
  if (context_) redisFree(context_);
}

void RedisConnection::drop(const std::string& reason) {
  if (context_) {
    redisFree(context_);
    context_ = nullptr;
  }
  last_error_ = reason;
}

Status RedisConnection::fail(const std::string& what) {
  drop(where_ + ": " + what);
  backoff_ms_ = backoff_ms_ == 0 ? options_.backoff_min_ms
                                 : std::min(backoff_ms_ * 2, options_.backoff_max_ms);
  next_attempt_ms_ = steady_ms() + backoff_ms_;
  return Status::error(last_error_);
}

Status RedisConnection::ensure() {
  if (context_) return Status::ok();
  if (steady_ms() < next_attempt_ms_) return Status::error(last_error_);
  return connect();
}

Status RedisConnection::connect() {
  const config::RedisEndpoint& endpoint = options_.endpoint;
  context_ = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                                     to_timeval(options_.connect_timeout_ms));
  if (context_ == nullptr) return fail("cannot connect: out of memory");
  if (context_->err) return fail(std::string("cannot connect: ") + context_->errstr);
  if (redisSetTimeout(context_, to_timeval(options_.command_timeout_ms)) != REDIS_OK)
    return fail("cannot set the command timeout");
  if (!endpoint.password.empty()) {
    // Not command(): its failure message would be built from the reply only, but keep AUTH
    // away from every path that could ever echo arguments.
    auto* reply = static_cast<redisReply*>(
        redisCommand(context_, "AUTH %b", endpoint.password.data(), endpoint.password.size()));
    if (reply == nullptr) return fail(std::string("AUTH failed: ") + context_->errstr);
    const bool refused = reply->type == REDIS_REPLY_ERROR;
    const std::string answer = refused ? std::string(reply->str, reply->len) : std::string();
    freeReplyObject(reply);
    if (refused) return fail("AUTH refused: " + answer);
  }
  if (endpoint.db != 0) {
    Result<RedisReply> selected = command({"SELECT", std::to_string(endpoint.db)});
    if (!selected) return selected.status();
    if (selected->is_error()) return fail("SELECT refused: " + selected->str);
  }
  backoff_ms_ = 0;
  last_error_.clear();
  return Status::ok();
}

Result<std::vector<RedisReply>> RedisConnection::pipeline(
    const std::vector<RedisCommand>& commands) {
  if (!context_) return Status::error(last_error_.empty() ? where_ + ": not connected" : last_error_);
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const RedisCommand& cmd : commands) {
    argv.clear();
    lengths.clear();
    for (const std::string& arg : cmd) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK)
      return fail(std::string("cannot queue a command: ") + context_->errstr);
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      // hiredis reports its read timeout as EAGAIN's text: say what it means.
      const bool timed_out = context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
      const std::string why = timed_out ? "timed out after " + std::to_string(options_.command_timeout_ms) + " ms"
                              : context_->err ? std::string(context_->errstr)
                                              : std::string("no reply");
      return fail("no reply (" + why + ")");
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(copy_reply(reply));
    freeReplyObject(reply);
  }
  return replies;
}

Result<RedisReply> RedisConnection::command(const RedisCommand& cmd) {
  Result<std::vector<RedisReply>> replies = pipeline({cmd});
  if (!replies) return replies.status();
  return std::move(replies.value().front());
}

}  // namespace dsb::store
