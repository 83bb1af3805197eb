"""`dingtalk-stream-bridge spool list|show|replay|purge -c FILE` (product.md sections 2, 6
and 11).

The test writes the store itself with python's sqlite3, as schema version 2 wrote it (the
release before the attempt history): the schema is the on-disk contract the daemon and the
CLI share (src/store/database.cpp), and every command must upgrade such a file.
"""
import json
import os
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, bridge_config

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE spool_frames (
  id INTEGER PRIMARY KEY AUTOINCREMENT, route TEXT NOT NULL, dedup_key TEXT NOT NULL,
  frame_type TEXT NOT NULL, headers TEXT NOT NULL, data TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE spool_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  frame_id INTEGER NOT NULL REFERENCES spool_frames(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL);
CREATE INDEX spool_deliveries_by_frame ON spool_deliveries(frame_id);
CREATE INDEX spool_deliveries_due ON spool_deliveries(state, next_attempt_at);
CREATE TABLE dedup (key TEXT PRIMARY KEY, code INTEGER NOT NULL, data TEXT NOT NULL,
  remembered_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX dedup_by_age ON dedup(remembered_at);
"""


def run(*args, timeout=15):
    env = dict(os.environ)
    env.pop("DINGTALK_STREAM_BRIDGE_CONFIG", None)
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


class SpoolCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.state = os.path.join(self.dir.name, "state")
        self.config = os.path.join(self.dir.name, "bridge.yaml")
        with open(self.config, "w") as f:
            f.write(bridge_config(None) + f"state_dir: {self.state}\n")
        self.now = int(time.time() * 1000)

    def seed(self):
        """Two frames: orders (2 URLs: one dead, one pending), crm (one dead, one delivered)."""
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        db = sqlite3.connect(os.path.join(self.state, "bridge.db"))
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        hour = 3_600_000

        def frame(route, event_id, event_type, created):
            headers = {"messageId": "m-" + event_id, "eventId": event_id,
                       "eventType": event_type, "topic": "*"}
            cur = db.execute(
                "INSERT INTO spool_frames (route, dedup_key, frame_type, headers, data, created_at)"
                " VALUES (?, ?, 'EVENT', ?, ?, ?)",
                (route, "event:" + event_id, json.dumps(headers),
                 json.dumps({"order": event_id}), created))
            return cur.lastrowid

        def delivery(frame_id, url, state, attempts, error, next_at):
            cur = db.execute(
                "INSERT INTO spool_deliveries (frame_id, url, state, attempts, queued_at,"
                " next_attempt_at, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (frame_id, url, state, attempts, self.now - 2 * hour, next_at, error, self.now))
            return cur.lastrowid

        orders = frame("orders", "o1", "order_paid", self.now - 2 * hour)
        crm = frame("crm", "c1", "crm_customer_add", self.now - 90_000)
        self.dead_orders = delivery(orders, "http://hook:s3cret@127.0.0.1:9/orders", "dead", 12,
                                    "HTTP 503 Service Unavailable\nretry later", self.now - 1000)
        self.pending_orders = delivery(orders, "http://127.0.0.1:9/audit", "pending", 3,
                                       "connection refused", self.now + 60_000)
        self.dead_crm = delivery(crm, "http://127.0.0.1:9/crm", "dead", 12, "timeout", self.now)
        delivery(crm, "http://127.0.0.1:9/crm-log", "delivered", 1, "", self.now)
        db.commit()
        db.close()

    def rows(self, sql, *params):
        db = sqlite3.connect(os.path.join(self.state, "bridge.db"))
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def list_json(self):
        result = run("spool", "list", "--json", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_list_without_a_store_is_empty(self):
        result = run("spool", "list", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("0 pending, 0 dead-lettered", result.stdout)
        self.assertEqual(self.list_json(), [])

    def test_list_prints_an_aligned_table_of_pending_and_dead(self):
        self.seed()
        result = run("spool", "list", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        header = lines[0]
        for column in ("ID", "ROUTE", "STATE", "ATTEMPTS", "AGE", "URL", "LAST ERROR"):
            self.assertIn(column, header)
        body = lines[1:4]
        self.assertEqual(len(body), 3, result.stdout)
        # Aligned: every column starts at the same offset on each line.
        url_at = header.index("URL")
        for line in body:
            self.assertTrue(line[url_at:].startswith("http://"), line)
        dead_line = next(l for l in body if l.startswith(str(self.dead_orders) + " "))
        self.assertIn("orders", dead_line)
        for column, text in (("DINGTALK ID", "o1 "), ("EVENT/TOPIC", "order_paid "),
                             ("URL", "http://***@127.0.0.1:9/orders ")):
            at = header.index(column)
            self.assertTrue(dead_line[at:].startswith(text), (column, dead_line))
        self.assertNotIn("s3cret", result.stdout)
        self.assertIn("dead", dead_line)
        self.assertIn("2h0m", dead_line)
        self.assertIn("HTTP 503 Service Unavailable retry later", dead_line)  # one line
        self.assertNotIn("crm-log", result.stdout)  # delivered ones are not listed
        self.assertEqual(lines[-1], "1 pending, 2 dead-lettered")

    def test_list_json(self):
        self.seed()
        entries = {e["id"]: e for e in self.list_json()}
        self.assertEqual(set(entries), {self.dead_orders, self.pending_orders, self.dead_crm})
        dead = entries[self.dead_orders]
        self.assertEqual(dead["route"], "orders")
        self.assertEqual(dead["state"], "dead")
        self.assertEqual(dead["attempts"], 12)
        self.assertEqual(dead["url"], "http://***@127.0.0.1:9/orders")
        self.assertEqual(dead["dingtalk_id"], "o1")
        self.assertEqual(dead["event"], "order_paid")
        self.assertEqual(dead["dead_lettered_at_ms"], self.now)
        self.assertEqual(dead["last_error"], "HTTP 503 Service Unavailable\nretry later")
        self.assertIsNone(dead["next_attempt_at_ms"])
        self.assertGreaterEqual(dead["age_ms"], 2 * 3_600_000)
        self.assertEqual(entries[self.pending_orders]["next_attempt_at_ms"], self.now + 60_000)

    def test_replay_by_id_requeues_one_dead_letter_due_now(self):
        self.seed()
        result = run("spool", "replay", "--id", str(self.dead_orders), "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("re-queued 1 dead-letter delivery", result.stdout)
        state, attempts, next_at, queued_at = self.rows(
            "SELECT state, attempts, next_attempt_at, queued_at FROM spool_deliveries"
            " WHERE id = ?", self.dead_orders)[0]
        self.assertEqual((state, attempts), ("pending", 0))
        after = int(time.time() * 1000)
        self.assertTrue(self.now <= next_at <= after)
        self.assertEqual(queued_at, next_at)  # max_age starts again
        self.assertEqual(self.rows("SELECT state FROM spool_deliveries WHERE id = ?",
                                   self.dead_crm)[0][0], "dead")

    def test_replay_by_route_and_all(self):
        self.seed()
        result = run("spool", "replay", "--route", "crm", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("re-queued 1 dead-letter delivery of route crm", result.stdout)
        self.assertEqual(self.rows("SELECT state FROM spool_deliveries WHERE id = ?",
                                   self.dead_orders)[0][0], "dead")
        result = run("spool", "replay", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("re-queued 1 dead-letter delivery", result.stdout)
        self.assertEqual(self.rows("SELECT count(*) FROM spool_deliveries WHERE state = 'dead'"),
                         [(0,)])

    def test_replay_of_an_unknown_id_says_so(self):
        self.seed()
        result = run("spool", "replay", "--id", "999", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("re-queued 0", result.stdout)
        self.assertIn("no dead-letter delivery with id 999", result.stderr)

    def test_purge_needs_yes(self):
        self.seed()
        result = run("spool", "purge", "-c", self.config)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--yes", result.stderr)
        self.assertEqual(self.rows("SELECT count(*) FROM spool_deliveries WHERE state = 'dead'"),
                         [(2,)])

    def test_purge_drops_dead_letters_and_finished_frames(self):
        self.seed()
        result = run("spool", "purge", "--route", "crm", "--yes", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("purged 1 dead-letter delivery of route crm", result.stdout)
        # crm's frame had nothing left to deliver: gone with its delivered row.
        self.assertEqual(self.rows("SELECT route FROM spool_frames"), [("orders",)])
        result = run("spool", "purge", "--yes", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("purged 1 dead-letter delivery", result.stdout)
        remaining = self.rows("SELECT id, state FROM spool_deliveries")
        self.assertEqual(remaining, [(self.pending_orders, "pending")])

    def test_usage_and_config_errors_exit_two(self):
        self.assertEqual(run("spool").returncode, 2)
        self.assertEqual(run("spool", "list").returncode, 2)  # no -c
        self.assertEqual(run("spool", "replay", "--id", "1", "--route", "x", "-c",
                             self.config).returncode, 2)
        bad = os.path.join(self.dir.name, "bad.yaml")
        with open(bad, "w") as f:
            f.write("routes: [\n")
        result = run("spool", "list", "-c", bad)
        self.assertEqual(result.returncode, 2)
        self.assertIn("bad.yaml:", result.stderr)

    def test_works_while_another_connection_holds_the_file_open(self):
        self.seed()
        db = sqlite3.connect(os.path.join(self.state, "bridge.db"))
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM spool_deliveries").fetchall()  # a reader, as the daemon
        try:
            result = run("spool", "replay", "-c", self.config)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("re-queued 2", result.stdout)
        finally:
            db.rollback()
            db.close()

    def test_list_finds_the_dead_letter_of_an_event_with_grep(self):
        self.seed()
        result = run("spool", "list", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = [l for l in result.stdout.splitlines() if " c1 " in l]
        self.assertEqual(len(lines), 1, result.stdout)
        self.assertTrue(lines[0].startswith(f"{self.dead_crm} "))
        self.assertIn("crm_customer_add", lines[0])

    def test_show_prints_the_delivery_its_frame_and_its_attempts(self):
        self.seed()
        self.assertEqual(run("spool", "list", "-c", self.config).returncode, 0)  # upgrades
        db = sqlite3.connect(os.path.join(self.state, "bridge.db"))
        for attempt, outcome, status, error in ((1, "retry", 0, "connection refused"),
                                                (2, "retry", 503, "webhook returned 503"),
                                                (12, "dead", 503, "webhook returned 503")):
            db.execute("INSERT INTO spool_attempts (delivery_id, attempt, at, outcome, status,"
                       " error) VALUES (?, ?, ?, ?, ?, ?)",
                       (self.dead_orders, attempt, self.now - 1000 * (13 - attempt), outcome,
                        status, error))
        db.commit()
        db.close()

        result = run("spool", "show", str(self.dead_orders), "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        text = result.stdout
        self.assertIn(f"delivery:       {self.dead_orders} (dead)", text)
        self.assertIn("url:            http://***@127.0.0.1:9/orders", text)
        self.assertIn("dingtalk id:    o1", text)
        self.assertIn("event/topic:    order_paid", text)
        self.assertIn("\nheaders:\n  messageId: m-o1\n  eventId: o1\n", text)
        self.assertIn('\nbody:\n{"order": "o1"}\n', text)
        self.assertIn("9 attempts not kept", text)
        history = text[text.index("history"):].splitlines()[2:]
        self.assertEqual([l.split()[0] for l in history], ["1", "2", "...", "12"])
        self.assertIn("connection refused", history[0])
        self.assertIn("503", history[3])
        self.assertNotIn("s3cret", text)

        shown = json.loads(run("spool", "show", str(self.dead_orders), "--json",
                               "-c", self.config).stdout)
        self.assertEqual(shown["id"], self.dead_orders)
        self.assertEqual(shown["headers"]["eventType"], "order_paid")
        self.assertEqual(shown["body"], '{"order": "o1"}')
        self.assertEqual([(a["attempt"], a["status"]) for a in shown["history"]],
                         [(1, None), (2, 503), (12, 503)])

    def test_show_of_an_unknown_id_fails(self):
        result = run("spool", "show", "5", "-c", self.config)  # no store at all
        self.assertEqual(result.returncode, 1)
        self.assertIn("no delivery with id 5", result.stderr)
        self.seed()
        result = run("spool", "show", "999", "--json", "-c", self.config)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertIn("no delivery with id 999", result.stderr)
        self.assertEqual(run("spool", "show", "-c", self.config).returncode, 2)  # no ID
        self.assertEqual(run("spool", "show", "x", "-c", self.config).returncode, 2)

    def test_replay_since_takes_only_recent_dead_letters(self):
        self.seed()
        db = sqlite3.connect(os.path.join(self.state, "bridge.db"))
        db.execute("UPDATE spool_deliveries SET updated_at = ? WHERE id = ?",
                   (self.now - 3 * 3_600_000, self.dead_orders))
        db.commit()
        db.close()
        result = run("spool", "replay", "--since", "1h", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("re-queued 1 dead-letter delivery that died within 1h", result.stdout)
        self.assertEqual(self.rows("SELECT id FROM spool_deliveries WHERE state = 'dead'"),
                         [(self.dead_orders,)])
        result = run("spool", "replay", "--since", "4h", "--route", "orders", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("re-queued 1", result.stdout)
        bad = run("spool", "replay", "--since", "soon", "-c", self.config)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("invalid duration", bad.stderr)

    def test_json_on_replay_and_purge(self):
        self.seed()
        result = run("spool", "replay", "--json", "--route", "crm", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout),
                         {"action": "replay", "count": 1, "ids": [self.dead_crm]})
        result = run("spool", "purge", "--json", "--yes", "-c", self.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout),
                         {"action": "purge", "count": 1, "ids": [self.dead_orders]})
        self.assertEqual(run("spool", "purge", "--json", "-c", self.config).returncode, 2)
        empty = tempfile.TemporaryDirectory()
        self.addCleanup(empty.cleanup)
        config = os.path.join(empty.name, "bridge.yaml")
        with open(config, "w") as f:
            f.write(bridge_config(None) + f"state_dir: {empty.name}/none\n")
        result = run("spool", "replay", "--json", "-c", config)
        self.assertEqual(json.loads(result.stdout), {"action": "replay", "count": 0, "ids": []})

    def test_a_version_2_store_is_upgraded_by_the_command(self):
        self.seed()
        self.assertEqual(self.rows("PRAGMA user_version"), [(2,)])
        self.assertEqual(len(self.list_json()), 3)
        self.assertEqual(self.rows("PRAGMA user_version"), [(4,)])
        self.assertEqual(self.rows("SELECT count(*) FROM spool_attempts"), [(0,)])

    def test_a_store_from_a_newer_binary_is_refused_untouched(self):
        self.seed()
        db = sqlite3.connect(os.path.join(self.state, "bridge.db"))
        db.execute("PRAGMA user_version=99")
        db.commit()
        db.close()
        for args in (("list",), ("show", "1"), ("replay",), ("purge", "--yes")):
            result = run("spool", *args, "-c", self.config)
            self.assertEqual(result.returncode, 1, args)
            self.assertIn("schema version 99 is newer than this binary knows (4); refusing to "
                          "touch it", result.stderr)
        self.assertEqual(self.rows("PRAGMA user_version"), [(99,)])
        self.assertEqual(self.rows("SELECT count(*) FROM spool_deliveries WHERE state = 'dead'"),
                         [(2,)])


if __name__ == "__main__":
    unittest.main()
