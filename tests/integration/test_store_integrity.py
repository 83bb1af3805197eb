"""The store against what happens to its files while the daemon runs (issue 12): a full
disk must not make spooled events go out again and again; a removed state_dir must not go
unnoticed; two daemons must not share one state_dir; and the spool's oldest pending age is
exported per route from the first scrape."""
import collections
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until


def status_of(ack):
    return json.loads(ack["data"])["status"]


def fill(directory):
    """Writes a file into `directory` until its file system is full."""
    chunk = b"\0" * 4096
    with open(os.path.join(directory, "filler"), "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass


class StoreIntegrityTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="bridge-store-")
        self.addCleanup(self.dir.cleanup)
        self.state = os.path.join(self.dir.name, "state")
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.hook = StubWebhook(status=503)
        self.addCleanup(self.hook.close)

    def config(self, backoff="100ms"):
        route = {"name": "events", "event": '"*"', "url": self.hook.url + "/events",
                 "delivery": "spool",
                 "retry": f"{{max_attempts: 1000, max_age: 1h, backoff: {{initial: {backoff}, "
                          f"max: {backoff}}}}}"}
        return (bridge_config(self.emulator, [route], **{"admin.listen": "127.0.0.1:0"}) +
                f"state_dir: {self.state}\n")

    def start(self, text):
        bridge = Bridge(text)
        self.addCleanup(bridge.stop)
        wait_until(lambda: self.emulator.connections("open"), what="a connection")
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        return bridge, "http://" + re.search(r"address=(\S+)", line).group(1)

    def spool_list(self, bridge):
        run = subprocess.run([BINARY, "spool", "list", "-c", bridge.config_path, "--json"],
                             capture_output=True, text=True, timeout=15)
        return json.loads(run.stdout)

    def send(self, event_id):
        sent = self.emulator.send_event(eventId=event_id)
        return status_of(self.emulator.wait_for_ack(sent["messageId"]))

    def delivered(self):
        """Idempotency-Key -> how many POSTs of it were answered 200."""
        return collections.Counter(r["headers"]["Idempotency-Key"] for r in self.hook.requests
                                   if r["status"] == 200)

    def test_a_full_disk_posts_each_spooled_event_once(self):
        mount = os.path.join(self.dir.name, "small")
        os.mkdir(mount)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest("needs a small tmpfs (mount as root): " + mounted.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mount])
        self.state = os.path.join(mount, "state")
        bridge, base = self.start(self.config(backoff="2s"))
        keys = [f"full-{i}" for i in range(5)]
        for key in keys:
            self.assertEqual(self.send(key), "SUCCESS")
        wait_until(lambda: len(bridge.grep(r"spooled delivery failed; will retry")) >= 5,
                   what="a first, failed attempt of each")
        time.sleep(0.3)  # those failures are committed at once; let the last one land

        fill(mount)  # the disk fills; the webhook comes back
        self.hook.status = 200
        wait_until(lambda: self.delivered(), timeout=10, what="a delivery on the full disk")
        wait_until(lambda: http("GET", base + "/readyz")[0] == 503, what="not ready")
        time.sleep(3)  # six polls: the old code POSTed each delivered event again on every one
        self.assertEqual(max(self.delivered().values()), 1, self.delivered())
        self.assertTrue(bridge.grep(r"spooled delivery paused"))

        os.remove(os.path.join(mount, "filler"))  # space returns: the outcomes are recorded
        wait_until(lambda: http("GET", base + "/readyz")[0] == 200, timeout=15, what="recovery")
        wait_until(lambda: set(self.delivered()) == set(keys), timeout=15,
                   what="every event delivered")
        wait_until(lambda: self.spool_list(bridge) == [], what="an empty spool")
        time.sleep(1)
        self.assertEqual(self.delivered(), {key: 1 for key in keys})

    def test_a_removed_state_dir_acks_later_and_is_not_ready_until_it_is_back(self):
        bridge, base = self.start(self.config())
        self.assertEqual(self.send("spooled-before"), "SUCCESS")  # the webhook is down
        shutil.rmtree(self.state)

        self.assertEqual(self.send("while-gone"), "LATER")
        status, body = http("GET", base + "/readyz")
        self.assertEqual(status, 503)
        self.assertIn(f"state_dir {self.state} was removed while running", str(body))
        self.assertIn("recreate it", str(body))

        os.mkdir(self.state, 0o700)  # the operator puts the directory back
        wait_until(lambda: http("GET", base + "/readyz")[0] == 200, timeout=15,
                   what="the store written back")
        self.assertTrue(bridge.grep(r"store written back"))
        self.hook.status = 200
        self.emulator.post("/emulator/redeliver")  # DingTalk redelivers what was ACKed LATER
        wait_until(lambda: {"spooled-before", "while-gone"} <= set(self.delivered()), timeout=15,
                   what="both events delivered")

    def test_a_second_daemon_on_the_same_state_dir_exits_naming_the_first(self):
        first, _ = self.start(self.config())
        second = Bridge(self.config())
        self.addCleanup(second.stop)
        self.assertEqual(second.wait(timeout=15), 1)
        self.assertTrue(second.grep(rf"in use by another bridge \(PID {first.proc.pid}\b"),
                        second.output())
        self.assertIsNone(first.proc.poll())

        # The spool commands work beside the running daemon.
        for args in (["list"], ["list", "--json"], ["replay"], ["purge", "--yes"]):
            run = subprocess.run([BINARY, "spool", *args, "-c", first.config_path],
                                 capture_output=True, text=True, timeout=15)
            self.assertEqual(run.returncode, 0, f"spool {args}: {run.stderr}")

    def test_the_oldest_pending_age_is_exported_per_spool_route_from_the_first_scrape(self):
        bridge, base = self.start(self.config(backoff="1s"))
        series = re.compile(r'^dsb_spool_oldest_pending_seconds\{app="default",route="events"\} (\d+)$', re.M)

        def age():
            match = series.search(http("GET", base + "/metrics")[1])
            return int(match.group(1)) if match else None
        self.assertEqual(age(), 0)
        self.assertEqual(self.send("aging"), "SUCCESS")  # the webhook is down: it waits
        wait_until(lambda: (age() or 0) >= 1, timeout=15, what="a pending age")
        self.hook.status = 200
        wait_until(lambda: age() == 0, timeout=15, what="the age back at 0 once delivered")


if __name__ == "__main__":
    unittest.main()
