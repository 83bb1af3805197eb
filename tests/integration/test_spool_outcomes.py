"""Spooled delivery outcomes with the real binary (product.md section 11): a 4xx answer
dead-letters at once unless retry.retry_4xx; Retry-After on a 429 or 503 delays the next
attempt; the dead letter names its event in `spool list` and `spool show` lists every
attempt; a store of today's schema is upgraded, one from a newer binary refused."""
import email.utils
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until


def status_of(ack):
    return json.loads(ack["data"])["status"]


class SpoolOutcomesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="bridge-outcomes-")
        self.addCleanup(self.dir.cleanup)
        self.state = os.path.join(self.dir.name, "state")
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)

    def start(self, hook, retry, **overrides):
        route = {"name": "orders", "event": '"*"', "url": hook.url + "/orders",
                 "delivery": "spool", "retry": retry}
        text = bridge_config(self.emulator, [route], **overrides) + f"state_dir: {self.state}\n"
        self.config_path = os.path.join(self.dir.name, "bridge.yaml")
        with open(self.config_path, "w") as f:
            f.write(text)
        bridge = Bridge(text)
        self.addCleanup(bridge.stop)
        wait_until(lambda: self.emulator.connections("open"), what="a connection")
        return bridge

    def spool(self, *args):
        result = subprocess.run([BINARY, "spool", *args, "-c", self.config_path],
                                capture_output=True, text=True, timeout=15)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def dead_letters(self):
        return [r for r in json.loads(self.spool("list", "--json")) if r["state"] == "dead"]

    def send(self, event_id, event_type="order_paid"):
        sent = self.emulator.send_event(event_type=event_type, eventId=event_id)
        self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")

    def test_a_4xx_dead_letters_at_once_and_names_its_event(self):
        hook = StubWebhook(status=404)
        self.addCleanup(hook.close)
        self.start(hook, "{max_attempts: 10, max_age: 1h, backoff: {initial: 100ms, max: 100ms}}")
        self.send("ev-404")
        wait_until(self.dead_letters, timeout=15, what="a dead letter")
        time.sleep(0.5)  # a retry, were there one, would come within 100 ms
        self.assertEqual(len(hook.requests), 1)
        dead = self.dead_letters()[0]
        self.assertEqual(dead["attempts"], 1)
        self.assertEqual(dead["dingtalk_id"], "ev-404")
        self.assertEqual(dead["event"], "order_paid")
        self.assertIn("webhook returned 404", dead["last_error"])

        # An operator greps the table for the event's id and finds its dead letter.
        line = [l for l in self.spool("list").splitlines() if "ev-404" in l]
        self.assertEqual(len(line), 1)
        self.assertTrue(line[0].startswith(f"{dead['id']} "), line[0])
        for text in ("orders", "dead", "order_paid", hook.url + "/orders", "404"):
            self.assertIn(text, line[0])

        shown = json.loads(self.spool("show", str(dead["id"]), "--json"))
        self.assertEqual([(a["attempt"], a["outcome"], a["status"]) for a in shown["history"]],
                         [(1, "dead", 404)])
        self.assertEqual(shown["headers"]["eventId"], "ev-404")
        self.assertIn("ev-404", self.spool("show", str(dead["id"])))

    def test_retry_4xx_keeps_retrying_a_4xx(self):
        hook = StubWebhook(status=404)
        self.addCleanup(hook.close)
        self.start(hook, "{retry_4xx: true, max_attempts: 3, max_age: 1h, "
                         "backoff: {initial: 100ms, max: 100ms}}")
        self.send("ev-retry-4xx")
        wait_until(self.dead_letters, timeout=15, what="a dead letter")
        self.assertEqual(len(hook.requests), 3)
        dead = self.dead_letters()[0]
        shown = json.loads(self.spool("show", str(dead["id"]), "--json"))
        self.assertEqual([(a["outcome"], a["status"]) for a in shown["history"]],
                         [("retry", 404), ("retry", 404), ("dead", 404)])

    def test_retry_after_delays_the_next_attempt(self):
        # The first answer of each event asks for a wait: 503 in seconds, 429 as a date.
        def answer(request):
            key = request["headers"]["Idempotency-Key"]
            if any(r["headers"]["Idempotency-Key"] == key for r in hook.requests):
                return 200, 0
            if key == "ev-seconds":
                return 503, 0, {"Retry-After": "2"}
            return 429, 0, {"Retry-After": email.utils.formatdate(time.time() + 3, usegmt=True)}

        hook = StubWebhook(answer=answer)
        self.addCleanup(hook.close)
        self.start(hook, "{max_attempts: 10, max_age: 1h, backoff: {initial: 100ms, max: 100ms}}")
        for kind in ("seconds", "date"):
            sent = self.emulator.send_event(eventId=f"ev-{kind}")
            self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")
        wait_until(lambda: len([r for r in hook.requests if r["status"] == 200]) == 2,
                   timeout=20, what="both events delivered")

        def gap(kind):
            times = [r["at"] for r in hook.requests
                     if r["headers"]["Idempotency-Key"] == f"ev-{kind}"]
            self.assertEqual(len(times), 2)
            return times[1] - times[0]
        # Without Retry-After the backoff is 100 ms; with it, at least the wait asked for
        # (the date has whole seconds: at least 2 s of the 3 remain).
        self.assertGreaterEqual(gap("seconds"), 1.9)
        self.assertGreaterEqual(gap("date"), 1.9)


class SchemaUpgradeTest(unittest.TestCase):
    """A bridge.db written by today's schema (version 2) keeps working; a newer one is refused."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="bridge-schema-")
        self.addCleanup(self.dir.cleanup)
        self.state = os.path.join(self.dir.name, "state")
        os.makedirs(self.state, mode=0o700)
        self.db_path = os.path.join(self.state, "bridge.db")
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.hook = StubWebhook()
        self.addCleanup(self.hook.close)

    def start(self):
        route = {"name": "orders", "event": '"*"', "url": self.hook.url + "/orders",
                 "delivery": "spool"}
        text = bridge_config(self.emulator, [route], **{"admin.listen": "127.0.0.1:0"})
        bridge = Bridge(text + f"state_dir: {self.state}\n")
        self.addCleanup(bridge.stop)
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        return "http://" + re.search(r"address=(\S+)", line).group(1)

    def test_a_version_2_store_is_upgraded_and_its_pending_delivery_sent(self):
        from test_spool_cli import SCHEMA, SCHEMA_VERSION
        self.assertEqual(SCHEMA_VERSION, 2)
        db = sqlite3.connect(self.db_path)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        now = int(time.time() * 1000)
        db.execute("INSERT INTO spool_frames (route, dedup_key, frame_type, headers, data,"
                   " created_at) VALUES ('orders', 'event:old-1', 'EVENT', ?, '{\"n\":1}', ?)",
                   (json.dumps({"messageId": "m-old", "eventId": "old-1",
                                "eventType": "order_paid"}), now))
        db.execute("INSERT INTO spool_deliveries (frame_id, url, queued_at, next_attempt_at,"
                   " updated_at) VALUES (1, ?, ?, ?, ?)", (self.hook.url + "/orders", now, now, now))
        db.commit()
        db.close()

        self.start()
        wait_until(lambda: self.hook.requests, timeout=15, what="the old pending delivery")
        self.assertEqual(self.hook.requests[0]["headers"]["Idempotency-Key"], "old-1")
        db = sqlite3.connect(self.db_path)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 4)
            wait_until(lambda: db.execute("SELECT outcome, status FROM spool_attempts")
                       .fetchall() == [("delivered", 200)], timeout=10, what="its attempt kept")
        finally:
            db.close()

    def test_a_store_from_a_newer_binary_is_refused_with_the_readyz_reason(self):
        db = sqlite3.connect(self.db_path)
        db.execute("PRAGMA user_version=99")
        db.commit()
        db.close()
        base = self.start()
        status, body = http("GET", base + "/readyz")
        self.assertEqual(status, 503)
        self.assertIn(f"store not writable: {self.db_path}: schema version 99 is newer than "
                      f"this binary knows (4); refusing to touch it", body)
        self.emulator.wait_for_connections(1)  # readyz is 503 for the store: wait on the gateway
        sent = self.emulator.send_event(eventId="future-1")
        self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "LATER")
        db = sqlite3.connect(self.db_path)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 99)
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()
