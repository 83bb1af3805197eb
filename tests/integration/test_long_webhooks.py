"""Robots and AI assistants (product.md section 10): long-running webhooks, single flight
for redelivered robot messages, and dedup scoped by robot with `match: {robotCode: ...}`.

DingTalk redelivers a robot message whose webhook is slow (same msgId, new messageId, after
~16-60 s); here the emulator pushes the same message again while the webhook still works."""
import json
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, wait_until

ROBOT = "/v1.0/im/bot/messages/get"
CARD = "/v1.0/card/instances/callback"
WEBHOOK_SECONDS = 3.0


class LongWebhookTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)

    def start(self, routes):
        bridge = Bridge(bridge_config(self.emulator, routes))
        self.addCleanup(bridge.stop)
        self.emulator.wait_for_connections(1)
        return bridge

    def stub(self, **kwargs):
        stub = StubWebhook(**kwargs)
        self.addCleanup(stub.close)
        return stub

    def test_robot_redelivered_while_its_webhook_thinks_is_posted_once_and_replied(self):
        reply = {"msgtype": "text", "text": {"content": "thought about it"}}
        hook = self.stub(body=json.dumps(reply).encode(), delay=WEBHOOK_SECONDS)
        bridge = self.start([{"name": "ai", "topic": ROBOT, "url": hook.url, "timeout": "8s"}])
        message = {"msgId": "long-1", "robotCode": "dingAI", "msgtype": "text",
                   "text": {"content": "think"}}
        first = self.emulator.send_callback(ROBOT, message)
        wait_until(lambda: hook.requests, what="the first POST")
        again = self.emulator.send_callback(ROBOT, message)
        self.assertNotEqual(first["messageId"], again["messageId"])

        # Both ACKed at once, while the webhook is still working: no reply has come yet.
        for sent in (first, again):
            ack = self.emulator.wait_for_ack(sent["messageId"])
            self.assertEqual(ack["code"], 200)
            self.assertEqual(json.loads(ack["data"]), {"response": None})
        self.assertEqual(self.emulator.get("/emulator/replies"), [])
        bridge.wait_for_line(r"redelivery joins the delivery under way")

        replies = wait_until(lambda: self.emulator.get("/emulator/replies"),
                             timeout=WEBHOOK_SECONDS + 10, what="the reply")
        self.assertEqual(replies[0]["json"], reply)
        self.assertEqual(len(hook.requests), 1)
        self.assertEqual(hook.requests[0]["headers"]["Idempotency-Key"], "long-1")

        # Once delivered, a later redelivery is not POSTed either.
        late = self.emulator.send_callback(ROBOT, message)
        self.emulator.wait_for_ack(late["messageId"])
        bridge.wait_for_line(r"duplicate not delivered again")
        self.assertEqual(len(hook.requests), 1)
        self.assertEqual(len(self.emulator.get("/emulator/replies")), 1)

    def test_callback_route_waits_past_the_default_timeout_for_its_reply(self):
        hook = self.stub(body=b'{"answer":"after a while"}', delay=WEBHOOK_SECONDS)
        self.start([{"name": "cards", "topic": CARD, "url": hook.url, "timeout": "10s"}])
        sent = self.emulator.send_callback(CARD, {"outTrackId": "card-slow"})
        ack = self.emulator.wait_for_ack(sent["messageId"], timeout=WEBHOOK_SECONDS + 10)
        self.assertEqual(ack["code"], 200)
        self.assertEqual(json.loads(ack["data"]), {"response": {"answer": "after a while"}})
        self.assertEqual(len(hook.requests), 1)

    def test_one_message_for_two_robots_reaches_both_routes_once_each(self):
        sales, support = self.stub(), self.stub()
        bridge = self.start([
            {"name": "sales", "topic": ROBOT, "url": sales.url, "match": "{robotCode: dingSALES}"},
            {"name": "support", "topic": ROBOT, "url": support.url,
             "match": "{robotCode: 'dingSUPPORT*'}"}])
        # One message that @-mentions both robots: two frames, one msgId.
        frames = [{"msgId": "both-1", "robotCode": code, "msgtype": "text",
                   "text": {"content": "@sales @support hi"}}
                  for code in ("dingSALES", "dingSUPPORT1")]
        for data in frames:
            self.emulator.send_callback(ROBOT, data)
        wait_until(lambda: sales.requests and support.requests, what="a POST to each robot")
        self.assertEqual(sales.requests[0]["headers"]["Idempotency-Key"], "both-1")
        self.assertEqual(support.requests[0]["headers"]["Idempotency-Key"], "both-1")

        # DingTalk redelivers each: ACKed, neither POSTed again.
        redelivered = [self.emulator.send_callback(ROBOT, data) for data in frames]
        for sent in redelivered:
            self.assertEqual(self.emulator.wait_for_ack(sent["messageId"])["code"], 200)
        wait_until(lambda: len(bridge.grep(r"duplicate not delivered again")) == 2,
                   what="both redeliveries recognised")
        self.assertEqual(len(sales.requests), 1)
        self.assertEqual(len(support.requests), 1)


if __name__ == "__main__":
    unittest.main()
