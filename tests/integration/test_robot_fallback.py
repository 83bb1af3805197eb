"""Robot replies the sessionWebhook cannot take go through the OpenAPI (product.md section
10 "Reply fallback", section 13 tokens): the real bridge, the emulator's access-token and
robot-message APIs, and a robot webhook that answers each message with the reply the
message asks for (its "wantReply" field, passed through like any data field).

Covered: an expired sessionWebhook in a group -> groupMessages/send; 1:1 ->
oToMessages/batchSend with userIds; a sessionWebhook that refuses (errcode != 0) -> the
OpenAPI; a revoked token -> one refetch and the reply sent; rate-limited twice -> sent on
the third send and counted; markdown and actionCard templates; 20 replies -> one token
fetch; the client secret and the token in no log line; a spooled route's reply too."""
import json
import re
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import CLIENT_ID, CLIENT_SECRET, Bridge, Emulator, bridge_config, http, wait_until

ROBOT = "/v1.0/im/bot/messages/get"
PAST = 1_600_000_000_000  # a sessionWebhookExpiredTime long gone


class EchoRobot:
    """A robot webhook on 127.0.0.1:0: answers each message with its data's "wantReply"."""

    def __init__(self):
        self.received = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
                message = json.loads(body)
                self.received.append(message)
                reply = json.dumps(message.get("wantReply", {"msgtype": "empty"})).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(reply)))
                handler.end_headers()
                handler.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def text(content):
    return {"msgtype": "text", "text": {"content": content}}


class RobotFallbackTest(unittest.TestCase):
    DELIVERY = "direct"

    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.robot = EchoRobot()
        self.addCleanup(self.robot.close)
        self.bridge = Bridge(bridge_config(self.emulator,
                                           [{"name": "robot", "topic": ROBOT, "url": self.robot.url,
                                             "delivery": self.DELIVERY}],
                                           **{"admin.listen": "127.0.0.1:0"}))
        self.addCleanup(self.bridge.stop)
        self.admin = "http://" + re.search(
            r"address=(\S+)", self.bridge.wait_for_line(r"admin endpoint listening")[0]).group(1)
        self.emulator.wait_for_connections(1)
        self.sequence = 0

    def message(self, reply, conversation="2", expired=True, **fields):
        """Pushes a robot message whose webhook answers `reply`."""
        self.sequence += 1
        data = {"msgId": f"msg-{self.id()}-{self.sequence}", "msgtype": "text",
                "text": {"content": "ping"}, "conversationType": conversation,
                "conversationId": "cidGROUP==", "senderStaffId": "staff-7",
                "robotCode": "dingrobotcode", "wantReply": reply}
        if expired:
            data["sessionWebhookExpiredTime"] = PAST
        data.update(fields)
        return self.emulator.send_callback(ROBOT, data)

    def robot_messages(self, count, outcome=None):
        """Waits for `count` robot-message API calls (with that outcome, if given)."""
        def calls():
            got = [m for m in self.emulator.get("/emulator/robot-messages")
                   if outcome is None or m["outcome"] == outcome]
            return got if len(got) >= count else None
        return wait_until(calls, timeout=15, what=f"{count} robot-message call(s) {outcome or ''}")

    def counter(self, via, outcome):
        metrics = http("GET", self.admin + "/metrics")[1]
        found = re.search(r'dsb_robot_replies_total\{app="default",route="robot",via="%s",outcome="%s"\} (\d+)'
                          % (via, outcome), metrics)
        return int(found.group(1)) if found else 0

    def wait_counter(self, via, outcome, value):
        wait_until(lambda: self.counter(via, outcome) == value,
                   what=f"dsb_robot_replies_total{{via={via},outcome={outcome}}} == {value}")

    def test_expired_group_reply_goes_to_group_send(self):
        self.message(text("build passed"))
        call = self.robot_messages(1, "sent")[0]
        self.assertEqual(call["api"], "groupMessages/send")
        self.assertEqual(call["status"], 200)
        body = call["json"]
        self.assertEqual(body["robotCode"], "dingrobotcode")
        self.assertEqual(body["openConversationId"], "cidGROUP==")
        self.assertEqual(body["msgKey"], "sampleText")
        self.assertEqual(json.loads(body["msgParam"]), {"content": "build passed"})
        self.assertNotIn("userIds", body)
        self.wait_counter("openapi", "sent", 1)
        self.assertEqual(self.counter("session_webhook", "expired"), 1)
        self.assertEqual(self.emulator.get("/emulator/replies"), [])

    def test_one_to_one_reply_goes_to_batch_send_with_user_ids(self):
        self.message(text("hi"), conversation="1", robotCode="")
        call = self.robot_messages(1, "sent")[0]
        self.assertEqual(call["api"], "oToMessages/batchSend")
        self.assertEqual(call["json"]["userIds"], ["staff-7"])
        self.assertEqual(call["json"]["robotCode"], CLIENT_ID)  # no robotCode: the app's
        self.assertNotIn("openConversationId", call["json"])

    def test_refused_session_webhook_falls_back(self):
        self.emulator.post("/emulator/session-webhook", {"errcode": 300001})
        self.message(text("refused first"), expired=False)
        call = self.robot_messages(1, "sent")[0]
        self.assertEqual(json.loads(call["json"]["msgParam"]), {"content": "refused first"})
        self.assertEqual(len(self.emulator.get("/emulator/replies")), 1)  # it was tried
        self.wait_counter("openapi", "sent", 1)
        self.assertEqual(self.counter("session_webhook", "failed"), 1)

    def test_revoked_token_is_fetched_again_once_and_the_reply_sent(self):
        self.message(text("one"))
        self.robot_messages(1, "sent")
        self.assertEqual(self.emulator.post("/emulator/tokens/revoke")["revoked"], 1)
        self.message(text("two"))
        self.robot_messages(2, "sent")
        calls = self.emulator.get("/emulator/robot-messages")
        self.assertEqual([c["outcome"] for c in calls], ["sent", "invalid_token", "sent"])
        self.assertEqual(json.loads(calls[2]["json"]["msgParam"]), {"content": "two"})
        tokens = self.emulator.get("/emulator/tokens")
        self.assertEqual((tokens["fetches"], tokens["issued"]), (2, 2))

    def test_rate_limited_twice_is_sent_on_the_third_send(self):
        self.emulator.post("/emulator/robot-messages/rate-limit", {"count": 2, "form": "http429"})
        self.message(text("patience"))
        self.robot_messages(1, "sent")
        calls = self.emulator.get("/emulator/robot-messages")
        self.assertEqual([c["outcome"] for c in calls], ["rate_limited", "rate_limited", "sent"])
        self.assertEqual([c["status"] for c in calls], [429, 429, 200])
        self.wait_counter("openapi", "sent", 1)
        self.assertEqual(self.counter("openapi", "rate_limited"), 2)
        self.assertTrue(self.bridge.grep(r"OpenAPI rate-limited a robot reply"))

    def test_markdown_and_action_card_templates(self):
        # Also the errcode 130101 form of the rate limit, once.
        self.emulator.post("/emulator/robot-messages/rate-limit", {"count": 1, "form": "errcode"})
        self.message({"msgtype": "markdown", "markdown": {"title": "Build", "text": "#### #42\n> ok"}})
        self.robot_messages(1, "sent")
        self.message({"msgtype": "actionCard", "actionCard": {
            "title": "Deploy?", "text": "v1.2", "btns": [
                {"title": "Yes", "actionURL": "https://example.com/y"},
                {"title": "No", "actionURL": "https://example.com/n"}]}})
        sent = self.robot_messages(2, "sent")
        markdown, card = sent[0]["json"], sent[1]["json"]
        self.assertEqual(markdown["msgKey"], "sampleMarkdown")
        self.assertEqual(json.loads(markdown["msgParam"]), {"title": "Build", "text": "#### #42\n> ok"})
        self.assertEqual(card["msgKey"], "sampleActionCard2")
        self.assertEqual(json.loads(card["msgParam"]), {
            "title": "Deploy?", "text": "v1.2", "actionTitle1": "Yes",
            "actionURL1": "https://example.com/y", "actionTitle2": "No",
            "actionURL2": "https://example.com/n"})
        self.assertEqual(self.counter("openapi", "rate_limited"), 1)

    def test_unmappable_reply_is_counted_and_logged(self):
        self.message({"msgtype": "feedCard", "feedCard": {"links": []}})
        self.wait_counter("openapi", "unmappable", 1)
        self.assertTrue(self.bridge.grep(r"msgtype feedCard has no OpenAPI template"))
        self.assertEqual(self.emulator.get("/emulator/robot-messages"), [])

    def test_one_token_fetch_for_many_replies(self):
        for i in range(20):
            self.message(text(f"reply {i}"))
        sent = self.robot_messages(20, "sent")
        self.assertEqual(sorted(json.loads(c["json"]["msgParam"])["content"] for c in sent),
                         sorted(f"reply {i}" for i in range(20)))
        self.assertEqual(self.emulator.get("/emulator/tokens")["fetches"], 1)
        self.wait_counter("openapi", "sent", 20)
        # The token API hands out the same token while it is valid: the one the bridge holds.
        status, answer = self.emulator.api("POST", "/v1.0/oauth2/accessToken",
                                           {"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET})
        self.assertEqual(status, 200)
        for line in self.bridge.output():
            self.assertNotIn(CLIENT_SECRET, line)
            self.assertNotIn(answer["accessToken"], line)


class SpooledRobotFallbackTest(RobotFallbackTest):
    """A spooled robot route's replies take the same way (the Spooler calls RobotReplies)."""
    DELIVERY = "spool"

    def test_expired_group_reply_goes_to_group_send(self):
        super().test_expired_group_reply_goes_to_group_send()


# Only the one case above runs for the spooled route: the rest is the same code.
for _name in [n for n in dir(RobotFallbackTest) if n.startswith("test_")]:
    if _name != "test_expired_group_reply_goes_to_group_send":
        setattr(SpooledRobotFallbackTest, _name, None)


if __name__ == "__main__":
    unittest.main()
