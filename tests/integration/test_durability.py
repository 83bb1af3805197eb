"""Durability with the real binary (product.md section 6): kill -9 during a burst with the
webhook down loses nothing; dead letters and `spool replay`; dedup across a restart; an
unwritable store makes events LATER and /readyz not ready, and recovers."""
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BINARY, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until


def status_of(ack):
    return json.loads(ack["data"])["status"]


class DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="bridge-durability-")
        self.addCleanup(self.dir.cleanup)
        self.state = os.path.join(self.dir.name, "state")
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.hook = StubWebhook()
        self.addCleanup(self.hook.close)

    def config(self, delivery="spool", state=None, **overrides):
        route = {"name": "events", "event": '"*"', "url": self.hook.url + "/events",
                 "delivery": delivery,
                 "retry": "{max_attempts: 1000, max_age: 1h, backoff: {initial: 100ms, max: 300ms}}"}
        return bridge_config(self.emulator, [route], **overrides) + f"state_dir: {state or self.state}\n"

    def start(self, text, wait=True):
        bridge = Bridge(text)
        self.addCleanup(bridge.stop)
        if wait:
            wait_until(lambda: [c for c in self.emulator.connections("open")], what="a connection")
        return bridge

    def write_config(self, text):
        path = os.path.join(self.dir.name, "bridge.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def spool(self, *args):
        return subprocess.run([BINARY, "spool", *args], capture_output=True, text=True, timeout=15)

    def test_kill_9_during_a_burst_with_the_webhook_down_loses_nothing(self):
        self.hook.status = 503  # the webhook is down
        bridge = self.start(self.config())
        pushed = []

        def burst():
            for i in range(600):
                status, value = self.emulator.api("POST", "/emulator/frames",
                                                  {"type": "EVENT", "eventType": "burst",
                                                   "eventId": f"burst-{i}", "data": {"seq": i}})
                if status == 200:
                    pushed.append(value["eventId"])
                elif status == 409:
                    return  # the bridge is gone: DingTalk holds the rest

        pusher = threading.Thread(target=burst)
        pusher.start()
        wait_until(lambda: len(pushed) >= 150, what="the burst to be under way")
        bridge.proc.kill()  # kill -9 in the middle of the burst
        pusher.join(timeout=30)
        bridge.wait(timeout=10)
        acked = {a["messageId"] for a in self.emulator.acks() if a.get("status") == "SUCCESS"}
        wait_until(lambda: not self.emulator.connections("open"), what="the dead connection to close")

        self.hook.status = 200  # the webhook comes back; so does the bridge
        self.start(self.config())
        # DingTalk redelivers what was never ACKed (or was ACKed LATER).
        self.emulator.post("/emulator/redeliver")
        expected = set(pushed)

        def delivered():
            return [r["headers"]["Idempotency-Key"] for r in self.hook.requests if r["status"] == 200]
        wait_until(lambda: expected <= set(delivered()), timeout=60, what="every event delivered")
        time.sleep(1.0)  # let stragglers show up before counting duplicates
        ok = delivered()
        duplicates = len(ok) - len(set(ok))
        print(f"\nkill -9 test: pushed {len(pushed)}, ACKed SUCCESS before the kill {len(acked)}, "
              f"un-ACKed at the kill {len(pushed) - len(acked)}, delivered {len(set(ok))} "
              f"distinct, duplicates {duplicates}", flush=True)
        self.assertEqual(expected - set(ok), set())
        self.assertEqual(set(ok) - expected, set())

    def test_dead_letter_then_replay(self):
        self.hook.status = 500
        route = {"name": "events", "event": '"*"', "url": self.hook.url, "delivery": "spool",
                 "retry": "{max_attempts: 2, max_age: 1h, backoff: {initial: 100ms, max: 100ms}}"}
        text = bridge_config(self.emulator, [route]) + f"state_dir: {self.state}\n"
        path = self.write_config(text)
        self.start(text)
        sent = self.emulator.send_event(eventId="dead-1")
        self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")
        wait_until(lambda: '"dead"' in self.spool("list", "-c", path, "--json").stdout,
                   timeout=15, what="a dead letter")
        self.assertEqual(len(self.hook.requests), 2)
        listing = json.loads(self.spool("list", "-c", path, "--json").stdout)
        dead = [row for row in listing if row["state"] == "dead"]
        self.assertEqual(len(dead), 1)
        self.assertIn("500", dead[0]["last_error"])

        self.hook.status = 200
        replay = self.spool("replay", "-c", path, "--route", "events")
        self.assertEqual(replay.returncode, 0, replay.stderr)
        wait_until(lambda: len(self.hook.requests) == 3, timeout=15, what="the replayed delivery")
        wait_until(lambda: json.loads(self.spool("list", "-c", path, "--json").stdout) == [],
                   timeout=15, what="an empty spool")

    def test_dedup_survives_a_restart(self):
        bridge = self.start(self.config(delivery="direct"))
        first = self.emulator.send_event(eventId="restart-1")
        self.assertEqual(status_of(self.emulator.wait_for_ack(first["messageId"])), "SUCCESS")
        bridge.stop(signal.SIGTERM)
        wait_until(lambda: not self.emulator.connections("open"), what="the connection to close")
        self.start(self.config(delivery="direct"))
        second = self.emulator.send_event(eventId="restart-1")
        self.assertEqual(status_of(self.emulator.wait_for_ack(second["messageId"])), "SUCCESS")
        self.assertEqual(len(self.hook.requests), 1)

    def test_unwritable_store_acks_later_and_is_not_ready_then_recovers(self):
        blocker = os.path.join(self.dir.name, "blocker")
        with open(blocker, "w") as f:
            f.write("a file where the state directory should be\n")
        state = os.path.join(blocker, "state")
        bridge = self.start(self.config(state=state, **{"admin.listen": "127.0.0.1:0"}))
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        base = "http://" + re.search(r"address=(\S+)", line).group(1)
        sent = self.emulator.send_event(eventId="unwritable-1")
        self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "LATER")
        status, body = http("GET", base + "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("store not writable", body)
        self.assertTrue(bridge.grep(r"store"))

        os.remove(blocker)  # space returns
        wait_until(lambda: http("GET", base + "/readyz")[0] == 200, timeout=20, what="recovery")
        again = self.emulator.send_event(eventId="unwritable-2")
        self.assertEqual(status_of(self.emulator.wait_for_ack(again["messageId"])), "SUCCESS")
        wait_until(lambda: self.hook.requests, what="the delivery")


if __name__ == "__main__":
    unittest.main()
