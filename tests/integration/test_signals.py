"""Signals on the real binary: SIGTERM drains in-flight work and closes with a close frame;
SIGHUP reloads the config atomically (routes without reconnecting, subscriptions
make-before-break, an invalid file changes nothing); SIGUSR1, SIGUSR2 and SIGALRM are
ignored and logged. test_reload.py has reloads under load."""
import json
import signal
import time
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, wait_until

CARD = "/v1.0/card/instances/callback"


class SignalTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)

    def stub(self, **kwargs):
        stub = StubWebhook(**kwargs)
        self.addCleanup(stub.close)
        return stub

    def start(self, text):
        bridge = Bridge(text)
        self.addCleanup(bridge.stop)
        self.emulator.wait_for_connections(1)
        return bridge

    def status(self, ack):
        return json.loads(ack["data"])["status"]

    def test_sigterm_finishes_in_flight_work_then_closes_with_a_close_frame(self):
        hook = self.stub(delay=1.0)
        bridge = self.start(bridge_config(self.emulator, [
            {"name": "events", "event": '"*"', "url": hook.url}], **{"defaults.timeout": "5s",
                                                                    "limits.ack_deadline": "2500ms"}))
        sent = self.emulator.send_event()
        wait_until(lambda: hook.requests, what="the webhook to be called")
        bridge.send_signal(signal.SIGTERM)
        self.assertEqual(bridge.wait(timeout=10), 0)
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(self.status(ack), "SUCCESS")
        conn = wait_until(lambda: self.emulator.connections("closed"), what="a closed connection")[0]
        self.assertEqual(conn["closeReason"], "closed by client")  # a close frame, not a drop
        self.assertTrue(bridge.grep("stopping: draining in-flight work"))

    def test_sigterm_past_the_grace_acks_later_and_still_exits_zero(self):
        hook = self.stub(delay=4.0)
        bridge = self.start(bridge_config(self.emulator, [
            {"name": "cards", "topic": CARD, "url": hook.url, "timeout": "10s"}],
            **{"limits.shutdown_grace": "300ms"}))
        sent = self.emulator.send_callback(CARD, {"outTrackId": "x"})
        wait_until(lambda: hook.requests, what="the webhook to be called")
        started = time.monotonic()
        bridge.send_signal(signal.SIGTERM)
        self.assertEqual(bridge.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - started, 3.0)
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(ack["code"], 500)

    def test_sighup_changes_routes_without_reconnecting(self):
        first, second = self.stub(), self.stub()
        bridge = self.start(bridge_config(self.emulator, [
            {"name": "events", "event": '"*"', "url": first.url}]))
        before = self.emulator.connections("open")
        self.emulator.wait_for_ack(self.emulator.send_event()["messageId"])
        with open(bridge.config_path, "w") as f:
            f.write(bridge_config(self.emulator, [{"name": "events", "event": '"*"', "url": second.url}])
                    + f"state_dir: {bridge.dir.name}/state\n")
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"config reloaded")
        self.emulator.wait_for_ack(self.emulator.send_event()["messageId"])
        self.assertEqual(len(first.requests), 1)
        self.assertEqual(len(second.requests), 1)
        self.assertEqual([c["id"] for c in self.emulator.connections("open")],
                         [c["id"] for c in before])
        self.assertEqual(len(self.emulator.get("/emulator/opens")), 1)

    def test_sighup_with_an_invalid_file_keeps_the_running_config(self):
        hook = self.stub()
        bridge = self.start(bridge_config(self.emulator, [
            {"name": "events", "event": '"*"', "url": hook.url}]))
        with open(bridge.config_path, "w") as f:
            f.write("dingtalk: [\nroutes: nope\n")
        bridge.send_signal(signal.SIGHUP)
        line = bridge.wait_for_line(r"reload rejected")[0]
        self.assertIn(bridge.config_path, line)
        self.emulator.wait_for_ack(self.emulator.send_event()["messageId"])
        self.assertEqual(len(hook.requests), 1)
        self.assertIsNone(bridge.proc.poll())

    def test_sighup_with_new_subscriptions_reconnects_make_before_break(self):
        hook = self.stub(body=b'{"ok":true}')
        bridge = self.start(bridge_config(self.emulator, [
            {"name": "events", "event": '"*"', "url": hook.url}]))
        old = self.emulator.connections("open")[0]
        with open(bridge.config_path, "w") as f:
            f.write(bridge_config(self.emulator, [
                {"name": "cards", "topic": CARD, "url": hook.url},
                {"name": "events", "event": '"*"', "url": hook.url}])
                + f"state_dir: {bridge.dir.name}/state\n")
        bridge.send_signal(signal.SIGHUP)
        new = wait_until(lambda: [c for c in self.emulator.connections("open") if c["id"] != old["id"]],
                         what="the replacement connection")[0]
        self.assertIn({"type": "CALLBACK", "topic": CARD}, new["subscriptions"])
        closed = wait_until(lambda: [c for c in self.emulator.connections("closed")
                                     if c["id"] == old["id"]], what="the old connection to close")[0]
        self.assertGreaterEqual(closed["closedAt"], new["openedAt"])
        sent = self.emulator.send_callback(CARD, {"outTrackId": "x"}, connection=new["id"])
        self.assertEqual(json.loads(self.emulator.wait_for_ack(sent["messageId"])["data"]),
                         {"response": {"ok": True}})

    def test_sigusr1_sigusr2_and_sigalrm_are_ignored_and_logged(self):
        hook = self.stub()
        bridge = self.start(bridge_config(self.emulator, [
            {"name": "events", "event": '"*"', "url": hook.url}]))
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
            bridge.send_signal(sig)
            # Each logged on its own: by default each of these killed the process silently.
            bridge.wait_for_line(rf"signal ignored signal={sig.name} times=1")
            self.assertIsNone(bridge.proc.poll(), sig.name)
        ack = self.emulator.wait_for_ack(self.emulator.send_event()["messageId"])
        self.assertEqual(self.status(ack), "SUCCESS")
        self.assertEqual(bridge.stop(), 0)

    def test_disconnect_keeps_the_old_connection_until_its_acks_are_sent(self):
        hook = self.stub(delay=1.0)
        self.start(bridge_config(self.emulator, [
            {"name": "events", "event": '"*"', "url": hook.url}]))
        old = self.emulator.connections("open")[0]
        sent = self.emulator.send_event()
        wait_until(lambda: hook.requests, what="the webhook to be called")
        self.emulator.post("/emulator/system/disconnect", {"reason": "persistent connection is timeout"})
        wait_until(lambda: [c for c in self.emulator.connections("open") if c["id"] != old["id"]],
                   what="the replacement connection")
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(ack["connection"], old["id"])
        self.assertEqual(self.status(ack), "SUCCESS")
        closed = wait_until(lambda: [c for c in self.emulator.connections("closed")
                                     if c["id"] == old["id"]], what="the old connection to close")[0]
        self.assertGreaterEqual(closed["closedAt"], ack["at"])
        self.assertLess(closed["closedAt"] - ack["at"], 5000)


if __name__ == "__main__":
    unittest.main()
