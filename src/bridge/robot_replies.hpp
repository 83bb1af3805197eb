// Sends a webhook's robot-message reply to the message's sessionWebhook (product.md
// section 4), for direct and spooled robot routes alike.
#pragma once

#include <string>

#include "bridge/ports.hpp"
#include "bridge/robot_message.hpp"
#include "config/config.hpp"

namespace dsb::bridge {

class RobotReplies {
 public:
  RobotReplies(Webhooks& webhooks, WallClock& clock) : webhooks_(webhooks), clock_(clock) {}

  // Posts `reply` to robot.session_webhook unless it is missing, expired, or neither https
  // nor on dingtalk.api_base (session_webhook.hpp); the outcome is logged and counted
  // (dsb_robot_replies_total{route, via="session_webhook", outcome}).
  // REQUIRES: is_robot_reply(reply).
  void send(const RobotMessage& robot, const config::Route& route, const config::Config& config,
            const std::string& reply);

 private:
  Webhooks& webhooks_;
  WallClock& clock_;
};

}  // namespace dsb::bridge
