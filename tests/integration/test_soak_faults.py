"""Soak under faults: one bridge streams events for about a minute while the gateway sends
SYSTEM disconnects, drops and closes sockets, goes silent and sends garbage, and the webhook
fails at random. At the end every event has been delivered, nothing delivered was POSTed
again (product.md section 4, "Duplicates"), the bridge is still up and connected, and its
resident set is back within 10% of what it was under steady load before the faults.

Phases: a warm-up of WARMUP_EVENTS at WARMUP_RATE (the dedup index is a fixed 8 MiB table
whose pages become resident as ids land in them: ~98% after 8,000 ids, so before that the
process has not reached its steady state); STEADY_SECONDS at RATE where the steady RSS is
sampled; FAULT_SECONDS of faults at RATE; QUIET_TAIL at RATE; then the drain.

Reproducible: the fault schedule, the garbage and every webhook answer (a function of the
event id and the attempt number) come from one seed. Knobs for a longer run by hand:
SOAK_SEED, SOAK_RATE (events/s), SOAK_SECONDS (length of the fault phase), SOAK_FAULTS (a
comma-separated subset of FAULT_KINDS, or "none", to tell causes apart).
"""
import collections
import hashlib
from http.client import HTTPConnection, HTTPException
import json
import mmap
import os
import random
import re
import subprocess
import threading
import time
import unittest

from harness import BINARY, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

SEED = int(os.environ.get("SOAK_SEED", "1729"))
RATE = float(os.environ.get("SOAK_RATE", "150"))               # events/s after the warm-up
FAULT_SECONDS = float(os.environ.get("SOAK_SECONDS", "50"))    # faults spread over this long
WARMUP_EVENTS, WARMUP_RATE = 8000, 500.0
SETTLE_SECONDS = 2.0   # at RATE after the warm-up, before the steady RSS samples
STEADY_SECONDS = 4.0   # RSS sampled every 0.5 s at RATE: the steady state
QUIET_TAIL = 6.0       # seconds at RATE after the last fault

ROUTE_TIMEOUT_S = 5.0
ACK_DEADLINE_S = 1.0  # below the slow answers below: exercises "LATER now, SUCCESS on redelivery"
RSS_SLACK = 1.10

# Webhook behaviour per attempt (probabilities): 500, connection reset, slow 200, slow 500.
P_FAIL, P_RESET, P_SLOW_OK, P_SLOW_FAIL = 0.18, 0.02, 0.04, 0.01
SLOW = (0.3, 1.6)  # seconds; well under ROUTE_TIMEOUT_S, so the bridge sees every answer

FAULT_KINDS = ["disconnect", "drop", "close", "silence", "garbage-text", "garbage-binary",
               "garbage-fragmented", "garbage-truncated", "garbage-bad-fields",
               "garbage-unknown-type", "garbage-oversized", "huge-event"]

CRASH_PATTERNS = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|"
                            r"terminate called|Assertion .* failed|stack smashing|double free")


def is_sanitized_binary(path):
    """True for an ASan build (CI's second run sets ASAN_OPTIONS; a local one may not)."""
    if os.environ.get("ASAN_OPTIONS"):
        return True
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return m.find(b"__asan_init") != -1
    except (OSError, ValueError):
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class ControlClient:
    """A keep-alive connection to the emulator's control API, one per thread (urllib would
    open a socket per call, which costs more than the call at a few hundred calls a second)."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.conn = host, int(port), None

    def call(self, method, path, body=None, timeout=10.0):
        """Returns (status, JSON value). A broken connection is reopened once; a POST that
        failed in transit may have been applied (for /emulator/frames, as when DingTalk
        pushes an event twice: the same eventId)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in range(2):
            if self.conn is None:
                self.conn = HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                try:
                    return resp.status, json.loads(raw)
                except ValueError:
                    return resp.status, raw.decode(errors="replace")
            except (OSError, HTTPException):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class FlakyWebhook(StubWebhook):
    """Fails at random, reproducibly: the answer to attempt k of event E depends only on
    (SEED, E, k), never on the order in which requests arrive."""

    def __init__(self):
        self._attempts = collections.Counter()
        self._lock = threading.Lock()
        self.answers = collections.Counter()
        super().__init__(answer=self._answer)

    def _answer(self, request):
        key = request["headers"].get("Idempotency-Key", "")
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        digest = hashlib.sha256(f"{SEED}:{key}:{attempt}".encode()).digest()
        rng = random.Random(digest)
        roll = rng.random()
        if roll < P_FAIL:
            kind, answer = "500", (500, 0.0)
        elif roll < P_FAIL + P_RESET:
            kind, answer = "reset", (None, 0.0)
        elif roll < P_FAIL + P_RESET + P_SLOW_OK:
            kind, answer = "slow 200", (200, rng.uniform(*SLOW))
        elif roll < P_FAIL + P_RESET + P_SLOW_OK + P_SLOW_FAIL:
            kind, answer = "slow 500", (500, rng.uniform(*SLOW))
        else:
            kind, answer = "200", (200, 0.0)
        with self._lock:
            self.answers[kind] += 1
        return answer


def event_frame_text(message_id, event_id, data):
    return json.dumps({"specVersion": "1.0", "type": "EVENT",
                       "headers": {"messageId": message_id, "topic": "*",
                                   "contentType": "application/json", "eventType": "soak_direct",
                                   "eventId": event_id, "time": "1700000000000",
                                   "eventBornTime": "1700000000000", "eventCorpId": "corp"},
                       "data": data})


class SoakUnderFaultsTest(unittest.TestCase):
    def setUp(self):
        self.sanitized = is_sanitized_binary(BINARY)
        self.webhook = FlakyWebhook()
        self.addCleanup(self.webhook.close)
        # SYSTEM pings every 2 s, as DingTalk sends them: they travel with the load.
        self.emu = Emulator("--ping-interval", "2")
        self.addCleanup(self.emu.stop)

        self.lock = threading.Lock()
        self.expected = {}            # eventId -> route path ("/direct" or "/spool")
        self.silenced = set()         # connection ids we silenced
        self.silenced_at = 0.0        # time.monotonic() of the last silence
        self.stop = threading.Event()
        self.errors = []              # failures seen inside threads
        self.stats = collections.Counter()
        self.faults = collections.Counter()
        self.garbage_ids = []         # messageIds of garbage that must be ACKed 400
        self.rss_samples = []         # (seconds since start, KiB)
        self.timeline = []            # "12.3s drop", ...
        self.warmed = threading.Event()
        self.phase2 = None            # time.monotonic() when the warm-up was all sent

    # -- the bridge ------------------------------------------------------------------------

    def start_bridge(self):
        retry = "{max_attempts: 1000, max_age: 1h, backoff: {initial: 100ms, max: 1s}}"
        routes = [
            {"name": "direct", "event": "soak_direct", "url": self.webhook.url + "/direct",
             "delivery": "direct"},
            {"name": "spooled", "event": "soak_spool", "url": self.webhook.url + "/spool",
             "delivery": "spool", "retry": retry},
        ]
        text = bridge_config(self.emu, routes, **{
            "admin.listen": "127.0.0.1:0",
            "log.level": "info",
            "dingtalk.reconnect.initial": "200ms",
            "dingtalk.reconnect.max": "2s",
            "dingtalk.keepalive.ping_idle": "1s",
            "dingtalk.keepalive.pong_timeout": "1s",
            "dingtalk.keepalive.silence_timeout": "5s",
            "limits.ack_deadline": f"{int(ACK_DEADLINE_S * 1000)}ms",
            "defaults.timeout": f"{int(ROUTE_TIMEOUT_S * 1000)}ms",
        })  # limits.dedup_window stays at its default (1h), as in production
        self.bridge = Bridge(text)
        self.addCleanup(self.bridge.stop)
        line = self.bridge.wait_for_line(r"admin endpoint listening")[0]
        self.admin = "http://" + re.search(r"address=(\S+)", line).group(1)
        self.emu.wait_for_connections(1)

    def print_log_tail(self, count=80):
        lines = self.bridge.output()
        print(f"\n--- last {count} of {len(lines)} bridge log lines ---")
        print("\n".join(lines[-count:]), flush=True)

    def metrics(self):
        status, text = http("GET", self.admin + "/metrics")
        self.assertEqual(status, 200)
        values = collections.Counter()
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name_labels, value = line.rsplit(" ", 1)
            values[name_labels] = float(value)
            values[re.sub(r"\{.*\}", "", name_labels)] += float(value)
        return values

    # -- connections -----------------------------------------------------------------------

    def healthy_connection(self, client):
        """The newest open connection that took no disconnect frame and was not silenced."""
        status, conns = client.call("GET", "/emulator/connections")
        if status != 200:
            return None
        with self.lock:
            silenced = set(self.silenced)
        live = [c for c in conns if c["state"] == "open" and not c["draining"]
                and not c["silenced"] and c["id"] not in silenced]
        return max(live, key=lambda c: c["openedAt"])["id"] if live else None

    def wait_healthy(self, client, timeout):
        deadline = time.monotonic() + timeout
        while True:
            conn = self.healthy_connection(client)
            if conn or time.monotonic() > deadline:
                return conn
            time.sleep(0.05)

    # -- the threads -----------------------------------------------------------------------

    def guarded(self, name, body):
        def run():
            try:
                body()
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                self.errors.append(f"{name}: {exc!r}")
                self.stop.set()
        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def feed(self, start, total):
        """Streams WARMUP_EVENTS at WARMUP_RATE, then sets `warmed` (with `phase2` = when)
        and streams the rest of `total` at RATE. A 409 (no connection) keeps the event for
        later: it counts as sent only once the emulator took it."""
        client = ControlClient(self.emu.address)
        rng = random.Random(SEED)
        kinds = ["soak_direct" if rng.random() < 0.5 else "soak_spool" for _ in range(total)]
        pending = collections.deque()
        produced, target, refreshed = 0, None, 0.0
        while produced < total or pending:
            if self.stop.is_set():
                return
            now = time.monotonic()
            if not self.warmed.is_set():
                due = min(WARMUP_EVENTS, int((now - start) * WARMUP_RATE) + 1)
                if produced == WARMUP_EVENTS and not pending:
                    self.phase2 = now
                    self.warmed.set()
            if self.warmed.is_set():
                due = min(total, WARMUP_EVENTS + int((now - self.phase2) * RATE) + 1)
            while produced < due:
                pending.append(produced)
                produced += 1
            if not pending:
                time.sleep(0.002)
                continue
            with self.lock:
                if target in self.silenced:
                    target = None
            if target is None or now - refreshed > 0.5:
                target, refreshed = self.healthy_connection(client), now
                if target is None:
                    self.stats["feeder waits"] += 1
                    time.sleep(0.02)
                    continue
            seq = pending[0]
            event_id = f"soak-{seq:06d}"
            kind = kinds[seq]
            status, value = client.call("POST", "/emulator/frames", {
                "type": "EVENT", "eventType": kind, "eventId": event_id, "connection": target,
                "data": {"seq": seq, "kind": kind, "note": "soak under faults"}})
            if status == 200:
                pending.popleft()
                with self.lock:
                    self.expected[event_id] = "/direct" if kind == "soak_direct" else "/spool"
                self.stats["sent"] += 1
            elif status == 409:
                self.stats["409 (held, sent later)"] += 1
                target = None
            else:
                raise AssertionError(f"POST /emulator/frames: {status} {value}")

    def redeliver_loop(self):
        """DingTalk redelivers what was not ACKed SUCCESS; here every 2 s, except while a
        silenced connection (which the emulator still counts as open, and may pick for a
        redelivery) is being replaced: for up to 10 s after the silence."""
        client = ControlClient(self.emu.address)
        while not self.stop.wait(2.0):
            with self.lock:
                recent = time.monotonic() - self.silenced_at < 10.0
            if recent and not self.silence_over(client):
                continue
            status, value = client.call("POST", "/emulator/redeliver", {})
            if status != 200:
                raise AssertionError(f"POST /emulator/redeliver: {status} {value}")
            self.stats["redelivered"] += value["redelivered"]

    def silence_over(self, client):
        """Forgets silenced connections the emulator has seen closed."""
        status, conns = client.call("GET", "/emulator/connections")
        if status != 200:
            return False
        closed = {c["id"] for c in conns if c["state"] == "closed"}
        with self.lock:
            self.silenced -= closed
            return not self.silenced

    def fault_schedule(self, start):
        """Every fault kind a fixed number of times, in a seeded order, spread evenly (with
        jitter) over FAULT_SECONDS from `start`."""
        rng = random.Random(SEED + 1)
        kinds = (["disconnect"] * 4 + ["drop"] * 3 + ["close"] * 3 + ["silence"] * 3 +
                 FAULT_KINDS[4:] * 2)
        wanted = os.environ.get("SOAK_FAULTS")
        if wanted:
            unknown = set(wanted.split(",")) - set(FAULT_KINDS) - {"none"}
            self.assertEqual(unknown, set(), f"SOAK_FAULTS: unknown kinds; known: {FAULT_KINDS}")
            kinds = [k for k in kinds if k in wanted.split(",")]
        rng.shuffle(kinds)
        gap = FAULT_SECONDS / max(1, len(kinds))
        at, plan = 0.0, []
        for kind in kinds:
            plan.append((start + at, kind))
            at += gap * rng.uniform(0.6, 1.4)
        return plan, rng

    def inject_faults(self, plan, rng):
        client = ControlClient(self.emu.address)
        for when, kind in plan:
            if self.stop.wait(max(0.0, when - time.monotonic())):
                return
            conn = self.wait_healthy(client, timeout=20)
            if conn is None:
                raise AssertionError(f"no healthy connection 20 s before fault {kind}: the bridge "
                                     "did not reconnect")
            status, value = self.inject(client, kind, conn, rng)
            if status == 200:
                self.faults[kind] += 1
                self.timeline.append(f"{time.monotonic() - self.t0:.1f}s {kind}")
            elif status == 409:  # the connection went away between the look and the fault
                self.stats["faults skipped (409)"] += 1
            else:
                raise AssertionError(f"fault {kind}: {status} {value}")

    def inject(self, client, kind, conn, rng):
        n = sum(self.faults.values()) + self.stats["faults skipped (409)"]
        if kind == "disconnect":
            return client.call("POST", "/emulator/system/disconnect",
                               {"connection": conn, "reason": "persistent connection is timeout"})
        if kind in ("drop", "close"):
            return client.call("POST", "/emulator/faults", {"action": kind, "connection": conn})
        if kind == "silence":
            with self.lock:
                self.silenced.add(conn)
                self.silenced_at = time.monotonic()
            return client.call("POST", "/emulator/faults",
                               {"action": "silence", "connection": conn})
        if kind == "huge-event":
            # A valid ~1.5 MiB event (under max_frame): relayed like any other.
            event_id = f"soak-huge-{n}"
            status, value = client.call("POST", "/emulator/frames", {
                "type": "EVENT", "eventType": "soak_direct", "eventId": event_id,
                "connection": conn, "data": {"seq": -1, "blob": "h" * (1536 * 1024)}})
            if status == 200:
                with self.lock:
                    self.expected[event_id] = "/direct"
            return status, value

        def raw(text, binary=False, fragments=1):
            return client.call("POST", "/emulator/raw", {"text": text, "binary": binary,
                                                         "fragments": fragments,
                                                         "connection": conn})
        noise = "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(10, 4000)))
        if kind == "garbage-text":
            return raw("this is not JSON {{{ " + noise)
        if kind == "garbage-binary":
            return raw(noise, binary=True, fragments=rng.randrange(1, 4))
        if kind == "garbage-fragmented":
            return raw("[" + noise, fragments=rng.randrange(2, 40))
        if kind == "garbage-truncated":
            text = event_frame_text(f"garbage-trunc-{n}", f"garbage-trunc-{n}", '{"a":1}')
            return raw(text[:rng.randrange(5, len(text) - 2)])
        mid = f"garbage-{n}"
        if kind == "garbage-bad-fields":  # valid JSON, no data: ACK 400
            text = json.dumps({"type": "EVENT", "headers": {"messageId": mid, "topic": "*"}})
        elif kind == "garbage-unknown-type":
            text = json.dumps({"type": "WHAT", "headers": {"messageId": mid, "topic": "*"},
                               "data": "{}"})
        else:  # oversized: beyond the default 4 MiB max_frame, messageId in the first fragment
            text = event_frame_text(mid, mid, json.dumps({"blob": "o" * (4608 * 1024)}))
        status, value = raw(text, fragments=32 if kind == "garbage-oversized" else 1)
        if status == 200:
            self.garbage_ids.append(mid)
        return status, value

    def sample_rss(self, start):
        while not self.stop.wait(0.5):
            self.rss_samples.append((time.monotonic() - start, rss_kib(self.bridge.proc.pid)))

    # -- the test --------------------------------------------------------------------------

    def test_soak_under_faults(self):
        began = time.monotonic()
        self.start_bridge()
        try:
            self.soak(began)
        except BaseException:
            self.print_log_tail()
            raise

    def soak(self, began):
        control = ControlClient(self.emu.address)
        after_warmup = SETTLE_SECONDS + STEADY_SECONDS + FAULT_SECONDS + QUIET_TAIL
        total = WARMUP_EVENTS + int(RATE * after_warmup)
        start = self.t0 = time.monotonic()
        threads = [self.guarded("feeder", lambda: self.feed(start, total)),
                   self.guarded("redeliver", self.redeliver_loop)]
        sampler = self.guarded("rss", lambda: self.sample_rss(start))

        # Warm-up, then the steady state: the mean of the samples taken at RATE, no fault yet.
        self.assertTrue(self.warmed.wait(timeout=WARMUP_EVENTS / WARMUP_RATE + 45),
                        f"the warm-up's {WARMUP_EVENTS} events were not all sent: {self.errors}")
        warmed_at = self.phase2 - start
        steady_from = self.phase2 + SETTLE_SECONDS
        faults_from = steady_from + STEADY_SECONDS
        time.sleep(max(0.0, faults_from - time.monotonic()))
        warm = [kib for at, kib in self.rss_samples
                if steady_from - start <= at <= faults_from - start]
        self.assertGreaterEqual(len(warm), 4, "too few RSS samples for the steady state")
        steady = sum(warm) / len(warm)

        plan, rng = self.fault_schedule(faults_from)
        threads.append(self.guarded("faults", lambda: self.inject_faults(plan, rng)))
        # Feeder and faults end on their own, each bounded.
        threads[0].join(timeout=max(1.0, faults_from + FAULT_SECONDS + QUIET_TAIL + 45 -
                                    time.monotonic()))
        threads[2].join(timeout=max(1.0, faults_from + FAULT_SECONDS + 45 - time.monotonic()))
        self.assertEqual(self.errors, [])
        self.assertFalse(threads[0].is_alive(), "the feeder could not hand over every event")
        self.assertFalse(threads[2].is_alive(), "the fault thread did not finish")
        self.stop.set()
        threads[1].join(timeout=15)
        sampler.join(timeout=5)
        streamed = time.monotonic() - start
        self.assertEqual(self.errors, [])
        self.assertIsNone(self.bridge.proc.poll(), "the bridge exited during the soak")

        # Drain: redeliver (as DingTalk keeps doing) until every event frame is ACKed SUCCESS.
        self.stop.clear()
        self.assertIsNotNone(self.wait_healthy(control, timeout=20),
                             "no healthy connection after the faults stopped")
        with self.lock:
            expected = dict(self.expected)
        self.assertEqual(len([e for e in expected if not e.startswith("soak-huge")]), total)
        deadline = time.monotonic() + 60
        while True:
            status, frames = control.call("GET", "/emulator/frames", timeout=30)
            self.assertEqual(status, 200)
            ours = [f for f in frames if f["type"] == "EVENT" and f["eventId"] in expected]
            unacked = [f for f in ours if not f["ack"] or f["ack"]["status"] != "SUCCESS"]
            if not unacked:
                break
            if time.monotonic() > deadline:
                self.fail(f"{len(unacked)} event frames still not ACKed SUCCESS 60 s after the "
                          f"faults stopped, e.g. {unacked[:3]}")
            status, value = control.call("POST", "/emulator/redeliver", {})
            self.assertEqual(status, 200, value)
            self.stats["redelivered"] += value["redelivered"]
            time.sleep(1.5)
        self.assertEqual({f["eventId"] for f in ours}, set(expected),
                         "the emulator holds no frame for some events it accepted")

        # Every event reaches the webhook (spooled ones may still be retrying).
        def delivered():
            return {r["headers"].get("Idempotency-Key") for r in list(self.webhook.requests)
                    if r["status"] == 200}
        try:
            wait_until(lambda: set(expected) <= delivered(), timeout=60, interval=0.5,
                       what="every event answered 200 by the webhook")
        except AssertionError:
            missing = sorted(set(expected) - delivered())
            self.fail(f"{len(missing)} events never delivered, e.g. {missing[:10]}")
        drained = time.monotonic() - start

        # Nothing in the spool: no dead letter, no delivery left.
        status, text = http("GET", self.admin + "/readyz")
        self.assertEqual(status, 200, f"the bridge is not ready at the end: {text}")
        def spool_rows():
            listing = subprocess.run([BINARY, "spool", "list", "-c", self.bridge.config_path,
                                      "--json"], capture_output=True, text=True, timeout=30)
            self.assertEqual(listing.returncode, 0, listing.stderr)
            return json.loads(listing.stdout)
        try:
            wait_until(lambda: self.metrics()["dsb_spool_depth"] == 0, timeout=15,
                       interval=0.5, what="an empty spool")
        except AssertionError:
            rows = spool_rows()
            self.fail(f"dsb_spool_depth {self.metrics()['dsb_spool_depth']:.0f} 15 s after "
                      f"every event was delivered; {len(rows)} spool rows, e.g. {rows[:5]}")
        self.assertEqual(spool_rows(), [], "spool rows left (dead letters?)")

        # Final resident set: idle, queue drained; the median of several samples.
        time.sleep(3.0)
        finals = []
        for _ in range(7):
            finals.append(rss_kib(self.bridge.proc.pid))
            time.sleep(0.5)
        final = sorted(finals)[len(finals) // 2]
        peak = hwm_kib(self.bridge.proc.pid)

        # What the webhook saw, per event, in arrival order.
        requests = list(self.webhook.requests)
        by_key = collections.defaultdict(list)
        for r in requests:
            by_key[r["headers"].get("Idempotency-Key")].append(r)
        duplicates, wrong = 0, []
        for key, rs in by_key.items():
            first_ok = next((i for i, r in enumerate(rs) if r["status"] == 200), None)
            if first_ok is not None:
                duplicates += len(rs) - first_ok - 1  # POSTed again after a 200
            if key not in expected:
                wrong.append(f"unknown key {key!r}")
                continue
            for r in rs:
                if r["path"] != expected[key]:
                    wrong.append(f"{key} went to {r['path']}")
                body = json.loads(r["body"])
                if not key.startswith("soak-huge") and body.get("seq") != int(key[5:]):
                    wrong.append(f"{key} carried {r['body'][:80]!r}")
        failures = sum(1 for r in requests if r["status"] != 200)
        m = self.metrics()
        opens = self.emu.get("/emulator/opens")
        log = self.bridge.output()
        crashes = [line for line in log if CRASH_PATTERNS.search(line)]
        malformed = len([line for line in log if "malformed frame" in line])
        acks = {a.get("messageId"): a for a in self.emu.acks()}
        garbage_unanswered = [mid for mid in self.garbage_ids
                              if acks.get(mid, {}).get("code") != 400]
        connection_faults = sum(self.faults[k] for k in ("disconnect", "drop", "close", "silence"))
        garbage_sent = sum(v for k, v in self.faults.items() if k.startswith("garbage"))

        summary = (
            f"soak: {len(expected)} events sent ({WARMUP_EVENTS} warm-up in {warmed_at:.0f}s, "
            f"{total - WARMUP_EVENTS} at {RATE:g}/s, {len(expected) - total} huge) in "
            f"{streamed:.0f}s, drained at {drained:.0f}s; "
            f"faults {dict(sorted(self.faults.items()))}, {self.stats['faults skipped (409)']} "
            f"skipped; {self.stats['409 (held, sent later)']} pushes refused (409) and retried; "
            f"{self.stats['redelivered']} redeliveries; {len(opens)} connections opened, "
            f"{m['dsb_reconnects_total']:.0f} reconnects; webhook: {len(requests)} requests, "
            f"{failures} failed ({dict(sorted(self.webhook.answers.items()))}); "
            f"{len(set(expected))} events delivered, {duplicates} duplicates "
            f"(bridge suppressed {m['dsb_duplicates_total']:.0f} redeliveries); "
            f"malformed logged {malformed}, ACKs dropped {m['dsb_acks_dropped_total']:.0f}; "
            f"RSS steady {steady / 1024:.1f} MiB, final {final / 1024:.1f} MiB "
            f"({(final / steady - 1) * 100:+.1f}%), peak {peak / 1024:.1f} MiB"
            f"{' [ASan build]' if self.sanitized else ''}; test took "
            f"{time.monotonic() - began:.0f}s")
        print("\n" + summary, flush=True)
        rss_trace = " ".join(f"{at:.0f}s:{kib / 1024:.1f}" for at, kib in self.rss_samples[::6])
        print(f"RSS trace (MiB): {rss_trace} end:{final / 1024:.1f}", flush=True)
        print(f"faults: {', '.join(self.timeline)}", flush=True)

        self.assertEqual(crashes, [], "crash or sanitizer report in the bridge log")
        self.assertIsNone(self.bridge.proc.poll(), "the bridge exited")
        self.assertGreaterEqual(m['dsb_connections_up{app="default"}'], 1, "the bridge reports no connection up")
        self.assertEqual(wrong, [], "deliveries to the wrong route or with the wrong body")
        self.assertEqual(duplicates, 0, "an event was POSTed again after the webhook took it")
        self.assertEqual(m["dsb_dead_letters"], 0)
        # Every fault that hits a connection costs a new one (and a fresh open call).
        self.assertGreaterEqual(len(opens), 1 + connection_faults)
        self.assertGreaterEqual(malformed, garbage_sent,
                                "fewer malformed frames logged than garbage sent")
        self.assertEqual(garbage_unanswered, [], "garbage with a messageId not ACKed 400")

        # A clean drain on SIGTERM (under ASan this is also where LeakSanitizer reports).
        code = self.bridge.stop()
        self.assertEqual(code, 0, "the bridge did not exit cleanly on SIGTERM")

        if self.sanitized:
            print(f"RSS check skipped: ASan build (quarantine and shadow memory make RSS "
                  f"meaningless); measured steady {steady / 1024:.1f} MiB, final "
                  f"{final / 1024:.1f} MiB", flush=True)
        else:
            self.assertLessEqual(
                final, steady * RSS_SLACK,
                f"RSS did not come back: steady {steady / 1024:.1f} MiB under load before the "
                f"faults, {final / 1024:.1f} MiB idle after them "
                f"(limit +{(RSS_SLACK - 1) * 100:.0f}%)")


if __name__ == "__main__":
    unittest.main()
