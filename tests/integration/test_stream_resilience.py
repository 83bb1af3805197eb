"""The connection that never dies: SYSTEM disconnect (make before break, nothing lost),
abrupt drops, a silent gateway (ping/pong timeout) and the silence watchdog."""
import json
import time
import unittest

from streamutil import Emulator, start, stop_all, wait_until, harness


def emu_send_retrying(emu, body, timeout=10.0):
    """POST /emulator/frames until a connection takes it (409 while none is open)."""
    deadline = time.monotonic() + timeout
    while True:
        status, value = emu.api("POST", "/emulator/frames", body)
        if status == 200:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no connection took the frame: {status} {value}")
        time.sleep(0.005)


class StreamResilienceTest(unittest.TestCase):
    def setUp(self):
        self.webhook = harness.StubWebhook()
        self.addCleanup(self.webhook.close)
        self.emu = Emulator()
        self.bridge = None
        self.addCleanup(lambda: stop_all(self.bridge, self.emu))

    def routes(self):
        return [{"name": "events", "event": '"*"', "url": self.webhook.url + "/events"}]

    def by_id(self):
        return {c["id"]: c for c in self.emu.connections()}

    def test_disconnect_is_make_before_break_and_loses_nothing(self):
        self.bridge = start(self.emu, routes=self.routes())
        old = self.emu.wait_for_connections(1)[0]["id"]
        before = self.emu.send_event()
        self.emu.wait_for_ack(before["messageId"])

        t0_ms = time.time() * 1000
        t0 = time.monotonic()
        disc = self.emu.post("/emulator/system/disconnect",
                             {"connection": old, "reason": "persistent connection is timeout"})
        # Frames injected right after the disconnect land on the replacement (the old one gets
        # no more); every one of them must be ACKed.
        sent = [emu_send_retrying(self.emu, {"type": "EVENT", "topic": "*",
                                             "eventType": "user_add_org", "data": {"n": i}})
                for i in range(20)]
        new = wait_until(lambda: [c for c in self.emu.connections("open") if c["id"] != old], 10,
                         what="a replacement connection")[0]
        registered = self.bridge.wait_for_line(r"connection registered conn=2 ")[0]
        bridge_ms = registered.split("connect_ms=")[1].split()[0]
        measured_ms = new["openedAt"] - t0_ms
        wall_ms = (time.monotonic() - t0) * 1000
        for frame in sent:
            ack = self.emu.wait_for_ack(frame["messageId"])
            self.assertEqual(ack["status"], "SUCCESS")
            self.assertEqual(ack["connection"], new["id"])
        disc_ack = self.emu.wait_for_ack(disc["messageId"])
        self.assertEqual(disc_ack["code"], 200)
        # Every official SDK sends `data` (a JSON string) on a code-200 ACK (issue 12).
        self.assertEqual(json.loads(disc_ack["data"]),
                         {"reason": "persistent connection is timeout"})
        self.assertEqual(self.emu.ack_violations()["count"], 0)

        closed = wait_until(lambda: self.by_id()[old]["state"] == "closed" and self.by_id()[old],
                            5, what="the old connection closed")
        # Make before break: the replacement was open before the old one closed; we closed it
        # (close frame) rather than waiting for the gateway's 10 s.
        self.assertLessEqual(new["openedAt"], closed["closedAt"])
        self.assertEqual(closed["closeReason"], "closed by client")
        self.assertLess(closed["closedAt"] - t0_ms, 5000)
        self.bridge.wait_for_line(r"disconnect requested by gateway .*reason=\"persistent connection is timeout\"")
        print(f"\n[measure] disconnect -> new connection registered: {measured_ms:.1f} ms "
              f"(emulator clock; bridge open call + handshake connect_ms={bridge_ms}); "
              f"{wall_ms:.1f} ms incl. test polling; 20 frames injected meanwhile, all ACKed")

    def test_abrupt_drop_reconnects_with_new_ticket(self):
        self.bridge = start(self.emu, routes=self.routes())
        old = self.emu.wait_for_connections(1)[0]["id"]
        self.emu.post("/emulator/faults", {"action": "drop", "connection": old})
        new = wait_until(lambda: [c for c in self.emu.connections("open") if c["id"] != old], 10,
                         what="a new connection after the drop")[0]
        self.assertEqual(self.by_id()[old]["state"], "closed")
        opens = self.emu.get("/emulator/opens")
        self.assertEqual(len(opens), 2)  # a fresh open call (new ticket) for the reconnect
        self.assertTrue(all(o["status"] == 200 for o in opens))
        self.bridge.wait_for_line(r"reconnect scheduled slot=0 delay_ms=\d+ reason=")
        sent = self.emu.send_event()
        self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["connection"], new["id"])

    def test_gateway_close_frame_reconnects(self):
        self.bridge = start(self.emu, routes=self.routes())
        old = self.emu.wait_for_connections(1)[0]["id"]
        self.emu.post("/emulator/faults", {"action": "close", "connection": old})
        new = wait_until(lambda: [c for c in self.emu.connections("open") if c["id"] != old], 10,
                         what="a new connection after the gateway closed")[0]
        self.bridge.wait_for_line(r"connection closed conn=1 .*reason=\"closed by gateway \(code")
        sent = self.emu.send_event(connection=new["id"])
        self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["status"], "SUCCESS")

    def test_silent_gateway_pong_timeout(self):
        self.bridge = start(self.emu, routes=self.routes(),
                            **{"dingtalk.keepalive.ping_idle": "1s",
                               "dingtalk.keepalive.pong_timeout": "1s"})
        old = self.emu.wait_for_connections(1)[0]["id"]
        started = time.monotonic()
        self.emu.post("/emulator/faults", {"action": "silence", "connection": old})
        self.bridge.wait_for_line(r"stream: pong timeout conn=1", timeout=8)
        new = wait_until(lambda: [c for c in self.emu.connections("open") if c["id"] != old], 10,
                         what="a new connection after the pong timeout")[0]
        self.assertLess(time.monotonic() - started, 8)
        sent = self.emu.send_event(connection=new["id"])
        self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["status"], "SUCCESS")
        self.bridge.wait_for_line(r"connection closed conn=1 .*reason=\"pong timeout\"")

    def test_keepalive_ping_keeps_a_quiet_connection(self):
        # ping_idle 1s: a healthy but quiet gateway answers pings; nothing gets replaced.
        self.bridge = start(self.emu, routes=self.routes(),
                            **{"dingtalk.keepalive.ping_idle": "1s",
                               "dingtalk.keepalive.pong_timeout": "1s"})
        self.emu.wait_for_connections(1)
        time.sleep(3.5)
        self.assertEqual(len(self.emu.connections()), 1)
        self.assertEqual(self.bridge.grep("pong timeout"), [])

    def test_silence_watchdog_replaces_connection(self):
        self.bridge = start(self.emu, routes=self.routes(),
                            **{"dingtalk.keepalive.silence_timeout": "1500ms"})
        old = self.emu.wait_for_connections(1)[0]["id"]
        self.bridge.wait_for_line(r"stream: silence watchdog conn=1", timeout=6)
        new = wait_until(lambda: [c for c in self.emu.connections("open") if c["id"] != old], 10,
                         what="a replacement after the watchdog")[0]
        closed = wait_until(lambda: self.by_id()[old]["state"] == "closed" and self.by_id()[old],
                            5, what="the old connection closed")
        self.assertLessEqual(new["openedAt"], closed["closedAt"])
        self.assertEqual(closed["closeReason"], "closed by client")


if __name__ == "__main__":
    unittest.main()
