"""The spool with `store: {backend: redis}` (product.md section 12) through the real binary
and a real redis-server on a free loopback port: an event is ACKed SUCCESS once Redis took
it and delivered from there; a dead letter shows in `spool list` / `spool show` and comes
back with `spool replay`, goes with `spool purge`; the commands fail cleanly, without the
password, when Redis is unreachable."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, Bridge, Emulator, StubWebhook, bridge_config, wait_until


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server on 127.0.0.1, no persistence, in a temporary directory. Nothing skips:
    without redis-server (packaging/install-deps.sh installs it) the test fails."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        if shutil.which("redis-server") is None:
            raise AssertionError("redis-server is not installed (packaging/install-deps.sh)")
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.dir.name],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._answers():
                return
            self.proc.kill()
            self.proc.wait()
        raise AssertionError("redis-server did not start")

    def _answers(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.dir.cleanup()


def status_of(ack):
    return json.loads(ack["data"])["status"]


class SpoolCliRedisTest(unittest.TestCase):
    def setUp(self):
        self.redis = RedisServer()
        self.addCleanup(self.redis.stop)
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.dir = tempfile.TemporaryDirectory(prefix="bridge-redis-")
        self.addCleanup(self.dir.cleanup)

    def write_config(self, hook, url):
        route = {"name": "orders", "event": '"*"', "url": hook.url + "/orders",
                 "delivery": "spool",
                 "retry": "{max_attempts: 1, max_age: 1h, backoff: {initial: 100ms, max: 100ms}}"}
        text = bridge_config(self.emulator, [route]) + (
            f"state_dir: {self.dir.name}/state\n"
            f"store:\n  backend: redis\n  url: {url}\n  key_prefix: \"t1:\"\n  lease: 2s\n")
        self.config_path = os.path.join(self.dir.name, "bridge.yaml")
        with open(self.config_path, "w") as f:
            f.write(text)
        return text

    def spool(self, *args, code=0):
        result = subprocess.run([BINARY, "spool", *args, "-c", self.config_path],
                                capture_output=True, text=True, timeout=15)
        self.assertEqual(result.returncode, code, result.stderr)
        return result

    def rows(self):
        return json.loads(self.spool("list", "--json").stdout)

    def send(self, event_id):
        sent = self.emulator.send_event(event_type="order_paid", eventId=event_id)
        self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")

    def test_spool_commands_on_redis(self):
        hook = StubWebhook(status=200)
        self.addCleanup(hook.close)
        bridge = Bridge(self.write_config(hook, f"redis://127.0.0.1:{self.redis.port}/0"))
        self.addCleanup(bridge.stop)
        wait_until(lambda: self.emulator.connections("open"), what="a connection")
        self.assertIn("store: redis redis://127.0.0.1:", subprocess.run(
            [BINARY, "check", "-c", self.config_path], capture_output=True, text=True).stdout)

        # Spooled in Redis, ACKed, delivered; nothing left behind.
        self.send("ev-ok")
        wait_until(lambda: len(hook.requests) == 1, timeout=15, what="the delivery")
        self.assertIn("ev-ok", json.dumps(hook.requests[0]["headers"]))
        wait_until(lambda: self.rows() == [], what="an empty spool")

        # A 404 dead-letters (max_attempts 1): listed, shown, replayed, delivered.
        hook.status = 404
        self.send("ev-dead")
        wait_until(lambda: self.rows(), timeout=15, what="a dead letter")
        dead = self.rows()[0]
        self.assertEqual((dead["state"], dead["dingtalk_id"], dead["event"]),
                         ("dead", "ev-dead", "order_paid"))
        self.assertIn("404", dead["last_error"])
        shown = json.loads(self.spool("show", str(dead["id"]), "--json").stdout)
        self.assertEqual([(a["attempt"], a["outcome"], a["status"]) for a in shown["history"]],
                         [(1, "dead", 404)])
        self.assertEqual(shown["headers"]["eventId"], "ev-dead")
        hook.status = 200
        self.assertIn("re-queued 1 dead-letter delivery", self.spool("replay", "--id",
                                                                     str(dead["id"])).stdout)
        wait_until(lambda: len(hook.requests) == 3, timeout=15, what="the replayed delivery")
        self.assertIn("ev-dead", json.dumps(hook.requests[2]["headers"]))
        wait_until(lambda: self.rows() == [], what="an empty spool")

        # Another dead letter, purged.
        hook.status = 410
        self.send("ev-gone")
        wait_until(lambda: self.rows(), timeout=15, what="a dead letter")
        self.spool("purge", code=2)  # needs --yes
        self.assertIn("purged 1 dead-letter delivery", self.spool("purge", "--yes").stdout)
        self.assertEqual(self.rows(), [])
        self.spool("show", "999", code=1)

    def test_unreachable_redis_fails_without_the_password(self):
        hook = StubWebhook(status=200)
        self.addCleanup(hook.close)
        self.write_config(hook, f"redis://:SECRET-PW@127.0.0.1:{free_port()}/0")
        result = self.spool("list", code=1)
        self.assertIn("spool: redis 127.0.0.1:", result.stderr)
        self.assertNotIn("SECRET-PW", result.stderr + result.stdout)


if __name__ == "__main__":
    unittest.main()
