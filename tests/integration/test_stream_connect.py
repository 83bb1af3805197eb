"""The Stream connection against the emulator: open call, registration, ACKs, SYSTEM ping,
N connections, credentials rejected, clean stop (product.md sections 4 and 7)."""
import signal
import time
import unittest

from streamutil import Emulator, start, stop_all, wait_until, harness

ROBOT = "/v1.0/im/bot/messages/get"


class StreamConnectTest(unittest.TestCase):
    def setUp(self):
        self.webhook = harness.StubWebhook()
        self.addCleanup(self.webhook.close)
        self.emu = Emulator()
        self.bridge = None
        self.addCleanup(lambda: stop_all(self.bridge, self.emu))

    def routes(self):
        return [{"name": "robot", "topic": ROBOT, "url": self.webhook.url + "/robot"},
                {"name": "events", "event": '"*"', "url": self.webhook.url + "/events"}]

    def test_open_call_and_registration(self):
        self.bridge = start(self.emu, routes=self.routes())
        conns = self.emu.wait_for_connections(1)
        self.bridge.wait_for_line(r"stream: connection registered conn=1 slot=0 "
                                  r"endpoint=ws://127\.0\.0\.1:\d+/connect")
        opens = self.emu.get("/emulator/opens")
        self.assertEqual(len(opens), 1)
        first = opens[0]
        self.assertEqual(first["accept"], "application/json")
        self.assertEqual(first["contentType"], "application/json")
        self.assertRegex(first["ua"], r"^dingtalk-stream-bridge/\d+\.\d+\.\d+")
        self.assertRegex(first["localIp"], r"^\d+\.\d+\.\d+\.\d+(,\d+\.\d+\.\d+\.\d+)*$")
        self.assertNotIn("127.0.0.1", first["localIp"].split(","))
        self.assertEqual(first["status"], 200)
        self.assertEqual(sorted((s["type"], s["topic"]) for s in first["subscriptions"]),
                         [("CALLBACK", ROBOT), ("EVENT", "*")])
        self.assertEqual(conns[0]["ua"], first["ua"])
        # Neither the secret nor the ticket is ever logged.
        text = "\n".join(self.bridge.output())
        self.assertNotIn(harness.CLIENT_SECRET, text)
        self.assertNotIn("ticket=", text)

    def test_event_and_callback_are_acked(self):
        self.bridge = start(self.emu, routes=self.routes())
        self.emu.wait_for_connections(1)
        event = self.emu.send_event("user_add_org", {"userId": ["u1"]})
        callback = self.emu.send_callback(ROBOT, {"msgtype": "text", "text": {"content": "hi"},
                                                  "msgId": "msg-1"})
        ack = self.emu.wait_for_ack(event["messageId"])
        self.assertEqual(ack["code"], 200)
        self.assertEqual(ack["status"], "SUCCESS")
        ack = self.emu.wait_for_ack(callback["messageId"])
        self.assertEqual(ack["code"], 200)
        self.assertEqual(ack["data"], '{"response":null}')

    def test_system_ping_answered_with_same_id_and_data(self):
        self.bridge = start(self.emu, routes=self.routes())
        self.emu.wait_for_connections(1)
        ping = self.emu.post("/emulator/system/ping")
        ack = self.emu.wait_for_ack(ping["messageId"])
        self.assertEqual(ack["code"], 200)
        self.assertEqual(ack["connection"], ping["connection"])
        self.assertIn(ping["opaque"], ack["data"])
        self.assertEqual(ack["data"], '{"opaque":"%s"}' % ping["opaque"])

    def test_three_connections(self):
        self.bridge = start(self.emu, routes=self.routes(), **{"dingtalk.connections": 3})
        conns = self.emu.wait_for_connections(3)
        self.assertEqual(len(self.emu.connections("open")), 3)
        self.assertEqual(len(self.emu.get("/emulator/opens")), 3)
        for slot in range(3):
            self.bridge.wait_for_line(r"connection registered .*slot=%d" % slot)
        # Every connection ACKs what lands on it.
        for conn in conns:
            sent = self.emu.send_event(connection=conn["id"])
            self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["connection"], conn["id"])

    def test_sigterm_sends_close_frame_and_exits_zero(self):
        self.bridge = start(self.emu, routes=self.routes(), **{"dingtalk.connections": 2})
        self.emu.wait_for_connections(2)
        started = time.monotonic()
        self.bridge.send_signal(signal.SIGTERM)
        code = self.bridge.wait(timeout=10)
        elapsed = time.monotonic() - started
        self.assertEqual(code, 0)
        self.assertLess(elapsed, 5.0)
        conns = wait_until(lambda: [c for c in self.emu.connections() if c["state"] == "closed"]
                           if len(self.emu.connections("closed")) == 2 else None, 5,
                           what="both connections closed")
        for conn in conns:
            # "closed by client" = a close frame from us, not a TCP drop.
            self.assertEqual(conn["closeReason"], "closed by client", conn)

    def test_wrong_credentials_no_hot_loop(self):
        self.bridge = start(self.emu, routes=self.routes(),
                            **{"dingtalk.client_secret": "wrong-secret-value",
                               "dingtalk.reconnect.initial": "100ms",
                               "dingtalk.reconnect.max": "3s"})
        line = self.bridge.wait_for_line(r"rejected credentials")[0]
        self.assertIn("error", line)
        self.assertIn("status=401", line)
        time.sleep(4.0)
        opens = self.emu.get("/emulator/opens")
        # initial open + at most 2 retries spaced by >= 2.4 s (3 s cap with 20% jitter).
        self.assertGreaterEqual(len(opens), 1)
        self.assertLessEqual(len(opens), 3, opens)
        self.assertTrue(all(o["status"] == 401 for o in opens))
        delays = [int(m) for m in
                  (l.split("delay_ms=")[1].split()[0] for l in self.bridge.grep("reconnect scheduled"))]
        self.assertTrue(delays)
        self.assertTrue(all(2400 <= d <= 3000 for d in delays), delays)
        self.assertNotIn("wrong-secret-value", "\n".join(self.bridge.output()))
        self.assertEqual(self.emu.connections(), [])


if __name__ == "__main__":
    unittest.main()
