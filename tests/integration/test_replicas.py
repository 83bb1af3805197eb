"""Two replicas sharing a Redis store (product.md section 12, issue 14 item 3): two real
bridge processes with the same config (`store: {backend: redis}`), one emulator that, as
DingTalk does, pushes each frame and each redelivery to a random open connection of the app,
and a real redis-server on a free loopback port (redis_server.py).

  (a) a webhook slower than the ACK deadline: redeliveries that land on the other replica
      are not POSTed again (counted by Idempotency-Key at the stub webhook);
  (b) kill -9 of a replica holding spooled deliveries for a webhook that is down: once the
      webhook is back, the other replica delivers every one within lease + backoff;
  (c) Redis killed and restarted mid-stream (appendonly yes, appendfsync always): nothing
      lost; /readyz is 503 with a reason during the outage and 200 after;
  (d) both replicas SIGHUP'd with a changed route: both deliver to the new URL.

Each case fails without the shared store: run with BRIDGE_REPLICAS_BACKEND=sqlite (each
replica its own SQLite file) to see (a) count duplicates, (b) leave the dead replica's spool
undelivered and (c) never report not-ready.

Every replica's route carries a static header naming it (X-Replica), the only difference
between the two configs, so the webhook can tell which replica POSTed.
"""
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import yaml  # python3-yaml (packaging/install-deps.sh): the compose example's check only

from harness import BINARY, SOURCE_DIR, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until
from redis_server import DURABLE, RedisServer

BACKEND = os.environ.get("BRIDGE_REPLICAS_BACKEND", "redis")


def status_of(ack):
    return json.loads(ack["data"])["status"] if ack.get("data") else None


def keys_of(requests, status=None):
    return [r["headers"].get("Idempotency-Key") for r in list(requests)
            if status is None or r["status"] == status]


def duplicates(keys):
    return {k: n for k, n in collections.Counter(keys).items() if n > 1}


class Replica:
    """One bridge process and the emulator connection it opened."""

    def __init__(self, name, bridge, connection):
        self.name, self.bridge, self.connection = name, bridge, connection
        self.admin = None

    def readyz(self):
        return http("GET", self.admin + "/readyz", timeout=3)

    def readyz_if(self, status):
        """(status, body) of /readyz when it answers `status`, else None (for wait_until)."""
        answer = self.readyz()
        return answer if answer[0] == status else None


class ReplicasTest(unittest.TestCase):
    lease = "2s"

    def setUp(self):
        self.redis = RedisServer(*DURABLE)
        self.addCleanup(self.redis.close)
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.hook = self.stub()
        self.replicas = []

    def stub(self, **kwargs):
        hook = StubWebhook(**kwargs)
        self.addCleanup(hook.close)
        return hook

    # ------------------------------------------------------------------ configs and replicas

    def route(self, url, name, **keys):
        route = {"name": "events", "event": '"*"', "url": url,
                 "headers": "{X-Replica: %s}" % name}
        route.update(keys)
        return route

    def config(self, name, url, **route_keys):
        overrides = {"admin.listen": "127.0.0.1:0", "limits.ack_deadline": "500ms"}
        if BACKEND == "redis":
            overrides.update({"store.backend": "redis", "store.url": self.redis.url,
                              "store.key_prefix": '"replicas-test:"', "store.lease": self.lease})
        return bridge_config(self.emulator, [self.route(url, name, **route_keys)], **overrides)

    def start_replica(self, name, url, **route_keys):
        """Starts a replica and waits for its connection (the one that was not open before)."""
        before = {c["id"] for c in self.emulator.connections("open")}
        bridge = Bridge(self.config(name, url, **route_keys))
        self.addCleanup(bridge.stop)
        new = wait_until(lambda: [c["id"] for c in self.emulator.connections("open")
                                  if c["id"] not in before], timeout=15,
                         what=f"replica {name}'s connection")
        replica = Replica(name, bridge, new[0])
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        replica.admin = "http://" + re.search(r"address=(\S+)", line).group(1)
        self.replicas.append(replica)
        return replica

    def start_two(self, url, **route_keys):
        return self.start_replica("a", url, **route_keys), self.start_replica("b", url, **route_keys)

    def rewrite(self, replica, text):
        text += f"state_dir: {replica.bridge.dir.name}/state\n"
        staged = replica.bridge.config_path + ".new"
        with open(staged, "w") as f:
            f.write(text)
        os.replace(staged, replica.bridge.config_path)

    # ------------------------------------------------------------------ the emulator's side

    def latest_acks(self):
        """eventId -> the status of the newest ACK of any of its deliveries."""
        latest = {}
        for frame in self.emulator.get("/emulator/frames"):
            if frame.get("eventId") and frame.get("ack"):
                latest[frame["eventId"]] = frame["ack"].get("status")
        return latest

    def redeliver_until_all_success(self, event_ids, timeout=45.0, pause=0.7):
        """Plays DingTalk: re-sends every frame ACKed LATER (or not at all), at random over the
        open connections, until the newest ACK of every event is SUCCESS."""
        deadline = time.monotonic() + timeout
        while True:
            latest = self.latest_acks()
            missing = [e for e in event_ids if latest.get(e) != "SUCCESS"]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(missing)} event(s) never ACKed SUCCESS, e.g. "
                                     f"{missing[:5]} (latest: {[latest.get(e) for e in missing[:5]]})")
            self.emulator.post("/emulator/redeliver")
            time.sleep(pause)

    # ------------------------------------------------------------------ (a)

    def test_a_redeliveries_of_a_slow_webhook_on_the_other_replica_are_not_posted_again(self):
        self.hook.delay = 1.5  # three ACK deadlines: every first delivery is ACKed LATER
        a, b = self.start_two(self.hook.url)

        # One redelivery placed by hand on the other replica while the first POST runs...
        first = self.emulator.send_event(eventId="slow-placed", connection=a.connection)
        self.assertEqual(status_of(self.emulator.wait_for_ack(first["messageId"])), "LATER")
        wait_until(lambda: keys_of(self.hook.requests), what="the first POST")
        again = self.emulator.send_event(eventId="slow-placed", connection=b.connection)
        self.emulator.wait_for_ack(again["messageId"], timeout=10)

        # ...and a batch at random, redelivered at random until every one is ACKed SUCCESS.
        batch = [self.emulator.send_event(eventId=f"slow-{i}")["eventId"] for i in range(12)]
        events = ["slow-placed"] + batch
        self.redeliver_until_all_success(events)
        time.sleep(2.0)  # a second POST still under way would arrive by now (delay 1.5 s)

        frames = [f for f in self.emulator.get("/emulator/frames") if f.get("eventId") in events]
        on = collections.Counter(f["connection"] for f in frames)
        posted = keys_of(self.hook.requests)
        print(f"\n(a) {len(frames)} pushes of {len(events)} events: {dict(on)} by connection; "
              f"{len(posted)} POSTs, duplicates {duplicates(posted)}", flush=True)
        self.assertTrue(on[a.connection] and on[b.connection], "random dispatch used one replica")
        self.assertEqual(sorted(set(posted)), sorted(events))
        self.assertEqual(duplicates(posted), {})

    # ------------------------------------------------------------------ (b)

    def test_b_a_killed_replicas_spooled_deliveries_are_taken_over_after_the_lease(self):
        # The webhook is down, and slow to say so: at any moment some attempts are under way,
        # so replica a holds claims when it is killed.
        self.hook.status, self.hook.delay = 503, 0.5
        backoff = "{max_attempts: 1000, max_age: 1h, backoff: {initial: 200ms, max: 1s}}"
        a, b = self.start_two(self.hook.url, delivery="spool", retry=backoff)
        events = []
        for i in range(20):
            sent = self.emulator.send_event(eventId=f"spooled-{i}", connection=a.connection)
            events.append(sent["eventId"])
            self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")
        wait_until(lambda: set(events) <= set(keys_of(self.hook.requests)), timeout=15,
                   what="an attempt at every spooled delivery")
        by_a = {r["headers"].get("Idempotency-Key") for r in list(self.hook.requests)
                if r["headers"].get("X-Replica") == "a"}
        self.assertTrue(by_a, "replica a attempted none of its spooled deliveries")

        # Claims held by the two at the kill (RedisStore's key layout; an integer reply ":N").
        claims = self.redis.command("ZCARD", "replicas-test:claims").decode().lstrip(":")
        a.bridge.proc.kill()  # kill -9 while it holds claims (it retries every <= 1 s)
        a.bridge.wait(timeout=10)
        self.hook.status, self.hook.delay = 200, 0.0
        up = time.monotonic()
        # lease 2 s + backoff max 1 s, plus the replica's own claim poll and a loaded CI host.
        wait_until(lambda: set(events) <= set(keys_of(self.hook.requests, 200)), timeout=2 + 1 + 7,
                   what="the surviving replica to deliver every spooled event")
        took = time.monotonic() - up
        delivered = [r for r in list(self.hook.requests) if r["status"] == 200]
        print(f"\n(b) replica a attempted {len(by_a)}/20 before kill -9 ({claims} "
              f"claims held by the two at the kill); all 20 delivered "
              f"{took:.1f}s after the webhook came back, by "
              f"{dict(collections.Counter(r['headers'].get('X-Replica') for r in delivered))}",
              flush=True)
        self.assertEqual({r["headers"].get("X-Replica") for r in delivered}, {"b"})
        self.assertEqual(duplicates(keys_of(self.hook.requests, 200)), {})

    # ------------------------------------------------------------------ (c)

    def test_c_redis_restarted_mid_stream_loses_nothing_and_readyz_says_why(self):
        backoff = "{max_attempts: 1000, max_age: 1h, backoff: {initial: 200ms, max: 1s}}"
        a, b = self.start_two(self.hook.url, delivery="spool", retry=backoff)
        for r in (a, b):
            wait_until(lambda r=r: r.readyz()[0] == 200, what=f"replica {r.name} ready")
        pushed, stop = [], threading.Event()

        def stream():
            i = 0
            while not stop.is_set() and i < 400:
                status, value = self.emulator.api("POST", "/emulator/frames",
                                                  {"type": "EVENT", "eventType": "stream",
                                                   "eventId": f"stream-{i}", "data": {"seq": i}})
                if status == 200:
                    pushed.append(value["eventId"])
                i += 1
                time.sleep(0.02)

        pusher = threading.Thread(target=stream)
        pusher.start()
        try:
            wait_until(lambda: len(pushed) >= 60, timeout=20, what="the stream under way")
            self.redis.kill()  # kill -9: what the append-only file holds is all that survives
            for r in (a, b):
                status, body = wait_until(lambda r=r: r.readyz_if(503), timeout=15,
                                          what=f"replica {r.name} not ready")
                print(f"\n(c) replica {r.name} during the outage: /readyz {status} {body!r}", flush=True)
                self.assertTrue(re.search(r"redis|store", str(body), re.I), body)
            time.sleep(2.0)  # events keep coming during the outage
            self.redis.start()
            for r in (a, b):
                wait_until(lambda r=r: r.readyz()[0] == 200, timeout=20, what=f"replica {r.name} ready again")
            after = len(pushed)
            wait_until(lambda: len(pushed) >= after + 40, timeout=20, what="the stream after the restart")
        finally:
            stop.set()
            pusher.join(timeout=30)

        self.redeliver_until_all_success(pushed, timeout=60)
        wait_until(lambda: set(pushed) <= set(keys_of(self.hook.requests, 200)), timeout=30,
                   what="every event POSTed")
        statuses = collections.Counter(a.get("status") for a in self.emulator.acks())
        posted = keys_of(self.hook.requests, 200)
        print(f"\n(c) {len(pushed)} events, every ACK's status {dict(statuses)}, "
              f"{len(posted)} POSTs ({len(posted) - len(set(posted))} repeated)", flush=True)
        self.assertGreater(statuses.get("LATER", 0), 0, "no event met the outage")
        self.assertEqual(set(pushed) - set(posted), set())

    # ------------------------------------------------------------------ (d)

    def test_d_both_replicas_reloaded_with_a_changed_route_deliver_to_the_new_url(self):
        old, new = self.hook, self.stub()
        a, b = self.start_two(old.url + "/old")
        for r in (a, b):
            sent = self.emulator.send_event(eventId=f"before-{r.name}", connection=r.connection)
            self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")
        self.assertEqual(sorted(keys_of(old.requests)), ["before-a", "before-b"])

        for r in (a, b):
            self.rewrite(r, self.config(r.name, new.url + "/new"))
            r.bridge.send_signal(signal.SIGHUP)
        for r in (a, b):
            r.bridge.wait_for_line(r"config reloaded", timeout=15)
            self.assertFalse(r.bridge.grep(r"reload rejected"))

        events = []
        for r in (a, b):
            sent = self.emulator.send_event(eventId=f"after-{r.name}", connection=r.connection)
            events.append(sent["eventId"])
            self.assertEqual(status_of(self.emulator.wait_for_ack(sent["messageId"])), "SUCCESS")
        events += [self.emulator.send_event(eventId=f"after-random-{i}")["eventId"] for i in range(6)]
        wait_until(lambda: set(events) <= set(keys_of(new.requests)), what="the new URL's POSTs")
        self.assertEqual(sorted(keys_of(old.requests)), ["before-a", "before-b"])
        self.assertEqual({r["path"] for r in new.requests}, {"/new"})
        self.assertEqual({r["headers"].get("X-Replica") for r in new.requests
                          if r["headers"].get("Idempotency-Key") in ("after-a", "after-b")},
                         {"a", "b"})
        # Neither replica dropped its connection to reload.
        self.assertEqual({c["id"] for c in self.emulator.connections("open")},
                         {a.connection, b.connection})


def compose_tool():
    """The command that runs `compose`, or None: docker compose (v2), docker-compose, podman-compose."""
    if shutil.which("docker"):
        try:
            if subprocess.run(["docker", "compose", "version"], capture_output=True,
                              timeout=20).returncode == 0:
                return ["docker", "compose"]
        except (OSError, subprocess.TimeoutExpired):
            pass
    for name in ("docker-compose", "podman-compose"):
        if shutil.which(name):
            return [name]
    return None


class ComposeReplicasExampleTest(unittest.TestCase):
    """packaging/docker-compose.replicas.example.yaml: `docker compose config` when a compose
    tool is installed; always a YAML parse of its shape and `check` of the bridges' config."""
    packaging = os.path.join(SOURCE_DIR, "packaging")

    def test_compose_example_runs_two_replicas_on_one_durable_redis(self):
        path = os.path.join(self.packaging, "docker-compose.replicas.example.yaml")
        with open(path) as f:
            doc = yaml.safe_load(f)
        services = doc["services"]
        self.assertEqual(set(services), {"bridge-a", "bridge-b", "redis", "legacy-app"})
        redis_command = " ".join(services["redis"]["command"])
        for setting in ("--appendonly yes", "--appendfsync always", "--maxmemory-policy noeviction"):
            self.assertIn(setting, redis_command)
        configs = set()
        for name in ("bridge-a", "bridge-b"):
            bridge = services[name]
            self.assertEqual(set(bridge["depends_on"]), {"redis", "legacy-app"})
            configs.add(bridge["command"][-1])
            state = [v for v in bridge["volumes"] if v.endswith(":/var/lib/dingtalk-stream-bridge")]
            self.assertEqual(len(state), 1, name)
        self.assertEqual(configs, {"/etc/dingtalk-stream-bridge/bridge.replicas.yaml"})
        self.assertNotEqual(services["bridge-a"]["volumes"], services["bridge-b"]["volumes"])

        tool = compose_tool()
        if tool:
            env = dict(os.environ, DINGTALK_CLIENT_ID="dingcomposecheck")
            out = subprocess.run(tool + ["-f", path, "config"], cwd=self.packaging, env=env,
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)

    def test_the_replicas_config_is_valid_with_a_redis_store(self):
        with open(os.path.join(self.packaging, "compose", "bridge.replicas.yaml")) as f:
            text = f.read()
        with tempfile.TemporaryDirectory() as tmp:
            secrets = {"dingtalk_client_secret": "s3cret", "legacy_token": "token",
                       "legacy_aes_key": "a" * 43, "legacy_api_secret": "api"}
            for name, value in secrets.items():
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(value)
            text = text.replace("/run/secrets/", tmp + "/").replace(
                "/var/lib/dingtalk-stream-bridge", os.path.join(tmp, "state"))
            config = os.path.join(tmp, "bridge.yaml")
            with open(config, "w") as f:
                f.write(text)
            env = dict(os.environ, DINGTALK_CLIENT_ID="dingcomposecheck")
            out = subprocess.run([BINARY, "check", "-c", config], env=env, capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("redis", (out.stdout + out.stderr).lower())


if __name__ == "__main__":
    unittest.main()
