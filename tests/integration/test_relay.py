"""The relay end to end: the real binary between the emulator and stub webhooks on loopback.

Covers every ACK rule of product.md section 4 (events, robot messages, other callbacks,
duplicates), the raw format and its signature, and no loss across a SYSTEM disconnect.
"""
import hashlib
import hmac
import json
import re
import time
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

ROBOT = "/v1.0/im/bot/messages/get"
CARD = "/v1.0/card/instances/callback"


class RelayTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)

    def start(self, routes, **overrides):
        bridge = Bridge(bridge_config(self.emulator, routes, **overrides))
        self.addCleanup(bridge.stop)
        self.emulator.wait_for_connections(1)
        return bridge

    def stub(self, **kwargs):
        stub = StubWebhook(**kwargs)
        self.addCleanup(stub.close)
        return stub

    def ack_status(self, ack):
        return json.loads(ack["data"])["status"] if ack.get("data") else None

    # --- events ---------------------------------------------------------------------------

    def test_event_2xx_is_success_with_raw_body_and_headers(self):
        hook = self.stub()
        self.start([{"name": "events", "event": '"*"', "url": hook.url + "/events"}])
        sent = self.emulator.send_event("user_add_org", {"userId": ["u1"]})
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(ack["code"], 200)
        self.assertEqual(self.ack_status(ack), "SUCCESS")
        self.assertEqual(len(hook.requests), 1)
        request = hook.requests[0]
        self.assertEqual(request["path"], "/events")
        self.assertEqual(json.loads(request["body"]), {"userId": ["u1"]})
        headers = request["headers"]
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["X-DingTalk-Type"], "EVENT")
        self.assertEqual(headers["X-DingTalk-Event-Type"], "user_add_org")
        self.assertEqual(headers["X-DingTalk-Event-Id"], sent["eventId"])
        self.assertEqual(headers["X-DingTalk-Message-Id"], sent["messageId"])
        self.assertEqual(headers["Idempotency-Key"], sent["eventId"])
        self.assertIn("X-DingTalk-Event-Corp-Id", headers)
        self.assertIn("X-DingTalk-Event-Born-Time", headers)

    def test_event_500_is_later(self):
        hook = self.stub(status=500)
        self.start([{"name": "events", "event": '"*"', "url": hook.url}])
        sent = self.emulator.send_event()
        self.assertEqual(self.ack_status(self.emulator.wait_for_ack(sent["messageId"])), "LATER")

    def test_event_to_refused_port_is_later(self):
        self.start([{"name": "events", "event": '"*"', "url": "http://127.0.0.1:9/refused"}])
        sent = self.emulator.send_event()
        self.assertEqual(self.ack_status(self.emulator.wait_for_ack(sent["messageId"])), "LATER")

    def test_any_failing_url_makes_later_and_redelivery_only_retries_it(self):
        good, bad = self.stub(), self.stub(status=503)
        self.start([{"name": "events", "event": '"*"', "url": f"[{good.url}, {bad.url}]"}])
        sent = self.emulator.send_event()
        self.assertEqual(self.ack_status(self.emulator.wait_for_ack(sent["messageId"])), "LATER")
        bad.status = 200
        self.emulator.post("/emulator/redeliver")
        wait_until(lambda: any(self.ack_status(a) == "SUCCESS"
                               for a in self.emulator.acks(sent["messageId"])), what="SUCCESS")
        self.assertEqual(len(good.requests), 1)
        self.assertEqual(len(bad.requests), 2)

    def test_slow_webhook_gets_later_by_the_deadline_then_redelivery_is_success_without_post(self):
        hook = self.stub(delay=1.5)
        self.start([{"name": "events", "event": '"*"', "url": hook.url}],
                   **{"limits.ack_deadline": "400ms", "defaults.timeout": "5s"})
        started = time.monotonic()
        sent = self.emulator.send_event()
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertLess(time.monotonic() - started, 1.4)
        self.assertEqual(self.ack_status(ack), "LATER")
        wait_until(lambda: len(hook.requests) == 1)
        time.sleep(1.5)  # the request finishes after the LATER
        self.emulator.post("/emulator/redeliver")
        wait_until(lambda: any(self.ack_status(a) == "SUCCESS"
                               for a in self.emulator.acks(sent["messageId"])), what="SUCCESS")
        self.assertEqual(len(hook.requests), 1)

    def test_duplicate_event_is_acked_success_and_not_posted_again(self):
        hook = self.stub()
        self.start([{"name": "events", "event": '"*"', "url": hook.url}])
        first = self.emulator.send_event(eventId="evt-dup-1")
        self.emulator.wait_for_ack(first["messageId"])
        second = self.emulator.send_event(eventId="evt-dup-1")
        self.assertEqual(self.ack_status(self.emulator.wait_for_ack(second["messageId"])), "SUCCESS")
        self.assertEqual(len(hook.requests), 1)

    def test_unrouted_event_is_success(self):
        hook = self.stub()
        self.start([{"name": "approvals", "event": "bpms_*", "url": hook.url}])
        sent = self.emulator.send_event("user_add_org")
        self.assertEqual(self.ack_status(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")
        self.assertEqual(hook.requests, [])

    def test_signing_secret_signs_timestamp_dot_body(self):
        hook = self.stub()
        self.start([{"name": "events", "event": '"*"', "url": hook.url,
                     "signing_secret": "local-signing-key"}])
        sent = self.emulator.send_event()
        self.emulator.wait_for_ack(sent["messageId"])
        headers, body = hook.requests[0]["headers"], hook.requests[0]["body"]
        expected = hmac.new(b"local-signing-key",
                            headers["X-Bridge-Timestamp"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        self.assertEqual(headers["X-Bridge-Signature"], "v1=" + expected)
        self.assertLess(abs(int(headers["X-Bridge-Timestamp"]) - time.time() * 1000), 60_000)

    # --- callbacks ------------------------------------------------------------------------

    def test_callback_reply_becomes_the_response(self):
        hook = self.stub(body=b'{"cardData":{"cardParamMap":{"status":"accepted"}}}')
        self.start([{"name": "cards", "topic": CARD, "url": hook.url}])
        sent = self.emulator.send_callback(CARD, {"outTrackId": "card-1", "content": "{}"})
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(ack["code"], 200)
        self.assertEqual(json.loads(ack["data"]),
                         {"response": {"cardData": {"cardParamMap": {"status": "accepted"}}}})

    def test_callback_redelivered_gets_the_stored_response_without_a_post(self):
        hook = self.stub(body=b'{"answer":42}')
        bridge = self.start([{"name": "cards", "topic": CARD, "url": hook.url}],
                            **{"admin.listen": "127.0.0.1:0"})
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        admin = "http://" + re.search(r"address=(\S+)", line).group(1)
        # The same frame twice (DingTalk redelivers with the messageId unchanged). The reply
        # is not kept in memory: the second answer is read back from the store.
        frame = json.dumps({"specVersion": "1.0", "type": "CALLBACK",
                            "headers": {"messageId": "cb-dup-1", "topic": CARD,
                                        "contentType": "application/json", "time": "1"},
                            "data": json.dumps({"outTrackId": "card-9"})})
        for attempt in (1, 2):
            self.emulator.post("/emulator/raw", {"text": frame})
            wait_until(lambda: len(self.emulator.acks("cb-dup-1")) == attempt,
                       what=f"ACK {attempt} of the callback")
        first, second = self.emulator.acks("cb-dup-1")
        self.assertEqual(len(hook.requests), 1)
        self.assertEqual(second["code"], 200)
        self.assertEqual(json.loads(second["data"]), {"response": {"answer": 42}})
        self.assertEqual(second["data"], first["data"])
        wait_until(lambda: re.search(r"^dsb_dedup_store_lookups_total [1-9]",
                                     http("GET", admin + "/metrics")[1], re.M),
                   what="the store lookup counted")

    def test_callback_timeout_is_500(self):
        hook = self.stub(delay=2.0)
        self.start([{"name": "cards", "topic": CARD, "url": hook.url, "timeout": "300ms"}])
        sent = self.emulator.send_callback(CARD, {"outTrackId": "card-1"})
        self.assertEqual(self.emulator.wait_for_ack(sent["messageId"])["code"], 500)

    def test_callback_failure_is_500(self):
        hook = self.stub(status=502)
        self.start([{"name": "cards", "topic": CARD, "url": hook.url}])
        sent = self.emulator.send_callback(CARD, {"outTrackId": "card-1"})
        self.assertEqual(self.emulator.wait_for_ack(sent["messageId"])["code"], 500)

    def test_robot_message_acked_at_once_and_reply_relayed_to_session_webhook(self):
        reply = {"msgtype": "text", "text": {"content": "pong"}}
        hook = self.stub(body=json.dumps(reply).encode(), delay=0.5)
        self.start([{"name": "robot", "topic": ROBOT, "url": hook.url}])
        sent = self.emulator.send_callback(ROBOT, {"msgId": "msg-1", "msgtype": "text",
                                                   "text": {"content": "ping"}})
        ack = self.emulator.wait_for_ack(sent["messageId"], timeout=0.45)  # before the webhook answers
        self.assertEqual(json.loads(ack["data"]), {"response": None})
        replies = wait_until(lambda: self.emulator.get("/emulator/replies"), what="a reply")
        self.assertEqual(replies[0]["json"], reply)

    def test_robot_empty_reply_sends_nothing(self):
        hook = self.stub(body=b'{"msgtype":"empty"}')
        self.start([{"name": "robot", "topic": ROBOT, "url": hook.url}])
        sent = self.emulator.send_callback(ROBOT, {"msgId": "msg-2", "msgtype": "text"})
        self.emulator.wait_for_ack(sent["messageId"])
        wait_until(lambda: hook.requests)
        time.sleep(0.3)
        self.assertEqual(self.emulator.get("/emulator/replies"), [])

    # --- across a SYSTEM disconnect ---------------------------------------------------------

    def test_no_event_lost_across_a_system_disconnect(self):
        hook = self.stub()
        self.start([{"name": "events", "event": '"*"', "url": hook.url}])
        sent = [self.emulator.send_event(eventId=f"before-{i}") for i in range(20)]
        self.emulator.post("/emulator/system/disconnect", {"reason": "persistent connection is timeout"})
        deadline = time.monotonic() + 15
        i = 0
        while time.monotonic() < deadline and i < 40:
            status, value = self.emulator.api("POST", "/emulator/frames",
                                              {"type": "EVENT", "eventId": f"after-{i}",
                                               "eventType": "user_add_org", "data": {}})
            if status == 200:
                sent.append(value)
                i += 1
            else:
                time.sleep(0.05)  # between the old connection's last frame and the new one
        self.assertEqual(i, 40)
        for s in sent:
            ack = self.emulator.wait_for_ack(s["messageId"])
            self.assertEqual(self.ack_status(ack), "SUCCESS")
        delivered = {r["headers"]["Idempotency-Key"] for r in hook.requests}
        self.assertEqual(delivered, {s["eventId"] for s in sent})


if __name__ == "__main__":
    unittest.main()
