#!/usr/bin/env python3
"""Measures the budgets of product.md section 9: the real bridge between dsb-loadgen (plays
the gateway) and dsb-stubhook (a webhook answering 200 at once). Builds nothing.

  bench/run.py [--build-dir build-bench] [--quick | --soak-seconds 600] [--json FILE]

Three sessions, every socket on 127.0.0.1 port 0:
  ceiling  dsb-loadgen --self-ack: the same phases against an in-process trivial ACKer, so
           every bridge figure can be read beside what the generator itself can do
  direct   bridge with one `delivery: direct` route: idle RSS, ACK latency at 200/s and
           1,000/s, capacity flat out (window of unACKed frames), then the soak at 1,000/s
  spool    bridge with one `delivery: spool` route: capacity flat out
  ordered  direct with `match` and `order_by` (section 14)
With the Redis store (section 12), one redis-server started here on a free loopback port
(appendonly yes, appendfsync always, as README "Running two replicas" recommends):
  redis-spool   one replica, `delivery: spool` into Redis: capacity flat out
  redis-direct  one replica, `delivery: direct`, dedup records in Redis: ACK latency at
                1,000/s and capacity flat out
  replicas      two bridge processes on the same config; the loadgen pushes every frame
                to one of the two connections at random and pushes every 10th event
                again (a redelivery, same eventId): 0 lost and 0 duplicated POSTs
After every phase the stub webhook's counts say whether anything was lost or duplicated.
Prints a table and a JSON document (stdout, and --json FILE). Exit 1 when an event was lost
or duplicated, or a phase failed. Standard library only; Linux (/proc).
"""
import argparse
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
import redis_server  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUDGETS = {
    "capacity_direct": 10000, "capacity_spool": 3000, "p99_ms_1000": 5.0,
    "rss_idle_mb": 20, "rss_peak_mb": 64, "cpu_us_direct": 30,
    "capacity_redis_spool": 5000, "capacity_redis_direct": 10000, "p99_ms_1000_redis": 5.0,
}
# The replicas session's loadgen phases: random dispatch over both bridges' connections,
# and every 10th event pushed again as a redelivery.
REPLICA_KEYS = "dispatch=random repeat=10"


# ---------------------------------------------------------------------------- processes

class Lines:
    """A child whose stdout lines go to a queue; stderr goes to a log file."""

    def __init__(self, args, log_path, stdin=False):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.proc.args[0]} exited (code {self.proc.wait()}) "
                                   f"while waiting for {what}; see {self.log.name}")
            if predicate(line):
                return line

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def cpu_us(pid):
    """utime + stime of the whole process (all threads), µs; CLK_TCK resolution (10 ms)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000 // CLK_TCK


def thread_cpu_us(pid):
    """utime + stime per thread name (the daemon names its threads: dsb-webhooks, dsb-store,
    dsb-open-call; the loop is the main thread, named after the binary), µs."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) * 1_000_000 // CLK_TCK
    return out


def mem_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


class Stubhook(Lines):
    def __init__(self, binary, log_path):
        super().__init__([binary], log_path)
        line = self.expect(lambda s: s.startswith("stubhook listening on "), 10, "stubhook")
        self.url = "http://" + line.split()[-1]

    def stats(self):
        with urllib.request.urlopen(self.url + "/__stats", timeout=10) as resp:
            return json.loads(resp.read())

    def latency(self, first, end):
        """Delivery latency (loadgen push -> webhook arrival, µs) of samples [first, end)."""
        with urllib.request.urlopen(f"{self.url}/__latency?from={first}&to={end}", timeout=10) as resp:
            return json.loads(resp.read())


class LoadGen(Lines):
    def __init__(self, binary, log_path, self_ack=False):
        super().__init__([binary] + (["--self-ack"] if self_ack else []), log_path, stdin=True)
        line = self.expect(lambda s: s.startswith("loadgen listening on "), 10, "loadgen")
        self.base = "http://" + line.split()[-1]

    def phase(self, spec, timeout):
        self.send(spec)
        return json.loads(self.expect(lambda s: s.startswith("{"), timeout, f"phase {spec!r}"))


# ---------------------------------------------------------------------------- one phase

def run_phase(gen, spec, timeout, bridge=None, hook=None, delivery_timeout=300.0, others=None):
    """Runs one loadgen phase; with a bridge, adds its CPU and the webhook's counts. others:
    more processes whose CPU per event is reported (name -> pid: a second replica, Redis)."""
    pids = {"loadgen": gen.proc.pid}
    if bridge is not None:
        pids["bridge"] = bridge.proc.pid
    pids.update(others or {})
    before_cpu = {k: cpu_us(p) for k, p in pids.items()}
    before_threads = thread_cpu_us(bridge.proc.pid) if bridge is not None else {}
    before_hook = hook.stats() if hook else None
    result = gen.phase(spec, timeout)
    if hook:
        # spool ACKs before delivering: wait until the webhook has seen every ACKed event.
        # (Every event once: a repeat=K phase pushes some events twice.)
        events = result.get("events", result["sent"])
        want = before_hook["distinct_keys"] + min(events, result["acked"])
        deadline = time.monotonic() + delivery_timeout
        started = time.monotonic()
        while True:
            after_hook = hook.stats()
            if after_hook["distinct_keys"] >= want or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        result["delivery_wait_after_last_ack_s"] = round(time.monotonic() - started, 2)
        result["delivered"] = after_hook["distinct_keys"] - before_hook["distinct_keys"]
        result["webhook_requests"] = after_hook["requests"] - before_hook["requests"]
        result["duplicates"] = after_hook["duplicates"] - before_hook["duplicates"]
        result["lost"] = events - result["delivered"]
        result["duplicate_samples"] = after_hook["duplicate_samples"][:5]
        result["delivery_latency_us"] = hook.latency(before_hook["latency_samples"],
                                                     after_hook["latency_samples"])
    events = max(1, result["acked"])
    for k, p in pids.items():
        result[f"{k}_cpu_us_per_event"] = round((cpu_us(p) - before_cpu[k]) / events, 1)
    if bridge is not None:
        result["bridge_mem_kb"] = mem_kb(bridge.proc.pid)
        after_threads = thread_cpu_us(bridge.proc.pid)
        result["bridge_thread_cpu_us_per_event"] = {
            name: round((used - before_threads.get(name, 0)) / events, 1)
            for name, used in sorted(after_threads.items())}
    return result


# The section 14 route: the new keys on, as a busy robot or AI route would have them. The
# loadgen's events name one robot and 200 conversations (bench/loadgen.cpp).
ORDERED_ROUTE_KEYS = {"match": '{robotCode: "dingbench*"}', "order_by": "conversationId"}


def bridge_for(gen, hook, delivery, args, route_keys=None, store=None):
    emu = type("Gateway", (), {"base": gen.base})()
    route = {"name": "bench", "event": '"*"', "url": hook.url, "delivery": delivery}
    route.update(route_keys or {})
    overrides = {"log.level": "warn"}
    overrides.update(store or {})
    if args.dedup_window:
        overrides["limits.dedup_window"] = args.dedup_window
    config = harness.bridge_config(emu, [route], **overrides)
    bridge = harness.Bridge(config)
    gen.expect(lambda s: s.startswith("loadgen connected"), 30, "the bridge's websocket")
    return bridge


def phase_specs(args):
    lat_s = args.latency_seconds
    return {
        "lat200": f"name=lat200 rate=200 seconds={lat_s}",
        "lat1000": f"name=lat1000 rate=1000 seconds={lat_s}",
        "capacity": f"name=capacity count={args.events} window={args.window}",
        "lat1000_replicas": f"name=lat1000_replicas rate=1000 seconds={lat_s} {REPLICA_KEYS}",
        "capacity_redis": f"name=capacity count={args.redis_events} window={args.window}",
        "capacity_replicas": f"name=capacity_replicas count={args.redis_events} "
                             f"window={args.window} {REPLICA_KEYS}",
    }


# ---------------------------------------------------------------------------- sessions

def ceiling(args, bins, logdir):
    gen = LoadGen(bins["loadgen"], os.path.join(logdir, "loadgen-ceiling.log"), self_ack=True)
    try:
        gen.expect(lambda s: s.startswith("loadgen connected"), 10, "the self-ACKer")
        specs = phase_specs(args)
        return {name: run_phase(gen, spec, 120) for name, spec in specs.items()}
    finally:
        gen.stop()


def run_session(args, bins, logdir, name, delivery, phases, route_keys=None, soak_too=False,
                redis=None, replicas=1):
    """Bridges (`replicas` of them, one config) against the loadgen and the stub webhook: the
    named phases, memory around them. redis: a RedisServer the bridges share as their store
    (flushed first); its CPU per event is reported beside the bridges'."""
    hook = Stubhook(bins["stubhook"], os.path.join(logdir, f"stubhook-{name}.log"))
    gen = LoadGen(bins["loadgen"], os.path.join(logdir, f"loadgen-{name}.log"))
    bridges = []
    out = {}
    store = None
    if redis is not None:
        redis.command("FLUSHALL")
        store = {"store.backend": "redis", "store.url": redis.url,
                 "store.key_prefix": f'"bench-{name}:"'}
    try:
        for _ in range(replicas):
            bridges.append(bridge_for(gen, hook, delivery, args, route_keys, store))
        bridge = bridges[0]
        others = {f"bridge{i + 1}": b.proc.pid for i, b in enumerate(bridges[1:])}
        if redis is not None:
            others["redis"] = redis.pid()
        time.sleep(3)
        out["idle_mem_kb"] = mem_kb(bridge.proc.pid)
        specs = phase_specs(args)
        for phase in phases:
            out[phase] = run_phase(gen, specs[phase], 300, bridge, hook, others=others)
        out["peak_mem_kb_after_capacity"] = mem_kb(bridge.proc.pid)
        if soak_too and args.soak_seconds > 0:
            out["soak"] = soak(args, gen, bridge, hook)
        out["final_mem_kb"] = mem_kb(bridge.proc.pid)
        out["bridge_warnings"] = [line for b in bridges for line in
                                  b.grep(r"level=(warn|error)|\"level\":\"(warn|error)\"")][:10]
        return out
    finally:
        for bridge in bridges:
            bridge.stop()
        gen.stop()
        hook.stop()


def soak(args, gen, bridge, hook):
    samples = []
    stop = threading.Event()
    started = time.monotonic()

    def sample():
        while not stop.is_set():
            samples.append((round(time.monotonic() - started, 1), mem_kb(bridge.proc.pid)["VmRSS"]))
            stop.wait(args.soak_sample_seconds)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    spec = f"name=soak rate={args.soak_rate} seconds={args.soak_seconds}"
    try:
        result = run_phase(gen, spec, args.soak_seconds + 120, bridge, hook)
    finally:
        stop.set()
        t.join()
    rss = [kb for _, kb in samples]
    n = max(1, len(rss) // 5)
    result["rss_kb"] = {"first": rss[0], "last": rss[-1], "min": min(rss), "max": max(rss),
                        "mean_first_fifth": round(sum(rss[:n]) / n),
                        "mean_last_fifth": round(sum(rss[-n:]) / n)}
    # Least-squares slope over the samples after the first fifth (allocator warm-up).
    pts = samples[n:] if len(samples) > 2 * n else samples
    if len(pts) >= 2:
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        den = sum((x - mx) ** 2 for x, _ in pts) or 1
        result["rss_slope_kb_per_min"] = round(60 * sum((x - mx) * (y - my) for x, y in pts) / den, 2)
    result["rss_samples"] = samples
    return result


# ---------------------------------------------------------------------------- report

def table(doc):
    rows = []
    if "direct" not in doc:  # --redis-only
        return rows_table(redis_rows(doc, deliv, lat))
    c, d, s = doc["ceiling"], doc["direct"], doc["spool"]

    rows.append(("capacity direct (ACKed ev/s)", f'{d["capacity"]["ack_rate"]:.0f}',
                 f'{c["capacity"]["ack_rate"]:.0f}', ">= 10000", deliv(d["capacity"])))
    rows.append(("capacity spool (ACKed ev/s)", f'{s["capacity"]["ack_rate"]:.0f}',
                 f'{c["capacity"]["ack_rate"]:.0f}', ">= 3000",
                 deliv(s["capacity"]) + f', delivered {s["capacity"]["delivery_wait_after_last_ack_s"]}s after last ACK'))
    rows.append(("ACK ms p50/p99/max @200/s", lat(d["lat200"]), lat(c["lat200"]), "", deliv(d["lat200"])))
    rows.append(("ACK ms p50/p99/max @1000/s", lat(d["lat1000"]), lat(c["lat1000"]), "p99 < 5",
                 deliv(d["lat1000"])))
    def dlat(r):
        q = r["delivery_latency_us"]
        return f'{q["p50_us"] / 1000:.2f} / {q["p99_us"] / 1000:.2f} / {q["max_us"] / 1000:.2f}'
    rows.append(("delivery ms p50/p99/max @200/s", dlat(d["lat200"]), "", "", "push -> webhook"))
    rows.append(("delivery ms p50/p99/max @1000/s", dlat(d["lat1000"]), "", "", "push -> webhook"))
    rows.append(("delivery ms p50/p99/max spool capacity", dlat(s["capacity"]), "", "",
                 "push -> webhook, flat out (queueing)"))
    rows.append(("CPU µs/event direct (capacity)", f'{d["capacity"]["bridge_cpu_us_per_event"]}',
                 f'loadgen {c["capacity"]["loadgen_cpu_us_per_event"]}', "< 30", "utime+stime / ACKed"))
    rows.append(("CPU µs/event direct @1000/s", f'{d["lat1000"]["bridge_cpu_us_per_event"]}',
                 f'loadgen {c["lat1000"]["loadgen_cpu_us_per_event"]}', "< 60", ""))
    def by_thread(r):
        per = r.get("bridge_thread_cpu_us_per_event", {})
        return ", ".join(f"{name} {us}" for name, us in per.items() if us > 0)
    rows.append(("  by thread (capacity / @1000/s)", "", "", "",
                 f'{by_thread(d["capacity"])} / {by_thread(d["lat1000"])}'))
    if "ordered" in doc:
        o = doc["ordered"]
        rows.append(("capacity direct, match + order_by", f'{o["capacity"]["ack_rate"]:.0f}', "",
                     ">= 10000", deliv(o["capacity"])))
        rows.append(("CPU µs/event match + order_by (capacity / @1000/s)",
                     f'{o["capacity"]["bridge_cpu_us_per_event"]} / {o["lat1000"]["bridge_cpu_us_per_event"]}',
                     "", "< 30 / < 60", f'plain direct: {d["capacity"]["bridge_cpu_us_per_event"]} / '
                                        f'{d["lat1000"]["bridge_cpu_us_per_event"]}'))
    rows.append(("CPU µs/event spool (capacity)", f'{s["capacity"]["bridge_cpu_us_per_event"]}',
                 "", "", "incl. the deliveries after the ACK"))
    rows.append(("RSS idle (MB)", f'{d["idle_mem_kb"]["VmRSS"] / 1024:.1f}', "", "< 20",
                 f'spool session: {s["idle_mem_kb"]["VmRSS"] / 1024:.1f}'))
    rows.append(("RSS peak (VmHWM, MB)", f'{d["peak_mem_kb_after_capacity"]["VmHWM"] / 1024:.1f}', "",
                 "< 64", f'direct; spool: {s["peak_mem_kb_after_capacity"]["VmHWM"] / 1024:.1f}'))
    if "soak" in d:
        k = d["soak"]
        r = k["rss_kb"]
        rows.append((f'soak {doc["args"]["soak_seconds"]}s @{doc["args"]["soak_rate"]}/s RSS MB',
                     f'{r["first"] / 1024:.1f} -> {r["last"] / 1024:.1f} (max {r["max"] / 1024:.1f})',
                     "", "no growth",
                     f'slope {k.get("rss_slope_kb_per_min", "?")} kB/min; ' + deliv(k) +
                     f'; ACK p99 {k["ack_latency_us"]["p99"] / 1000:.2f} ms'))
    rows += redis_rows(doc, deliv, lat)
    return rows_table(rows)


def lat(r):
    q = r["ack_latency_us"]
    return f'{q["p50"] / 1000:.2f} / {q["p99"] / 1000:.2f} / {q["max"] / 1000:.2f}'


def deliv(r):
    return f'{r["delivered"]}/{r.get("events", r["sent"])} delivered, lost {r["lost"]}, dup {r["duplicates"]}'


def rows_table(rows):
    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(5)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(HEADER, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


HEADER = ("figure", "bridge", "loadgen ceiling", "budget", "correctness / notes")


def redis_rows(doc, deliv, lat):
    """The Redis store's figures (section 12 / 14), when those sessions ran."""
    rows = []
    if "redis-spool" not in doc:
        return rows

    def cpu(r):
        bridges = r["bridge_cpu_us_per_event"] + sum(
            v for k, v in r.items() if k.startswith("bridge") and k[6:7].isdigit()
            and k.endswith("_cpu_us_per_event"))
        return f'{bridges:.1f} / {r.get("redis_cpu_us_per_event", 0):.1f}'
    s, d, r = doc["redis-spool"], doc["redis-direct"], doc["replicas"]
    rows.append(("capacity spool, Redis store (ACKed ev/s)", f'{s["capacity_redis"]["ack_rate"]:.0f}', "",
                 ">= 5000", deliv(s["capacity_redis"]) +
                 f', delivered {s["capacity_redis"]["delivery_wait_after_last_ack_s"]}s after last ACK'))
    rows.append(("capacity direct, Redis dedup (ACKed ev/s)", f'{d["capacity_redis"]["ack_rate"]:.0f}', "",
                 ">= 10000", deliv(d["capacity_redis"])))
    rows.append(("ACK ms p50/p99/max @1000/s, Redis dedup", lat(d["lat1000"]), "", "p99 < 5",
                 deliv(d["lat1000"])))
    for name, phase in (("replicas @1000/s", "lat1000_replicas"),
                        ("replicas capacity (ACKed frames/s)", "capacity_replicas")):
        q = r[phase]
        rows.append((f"two {name}, random dispatch",
                     lat(q) if phase.startswith("lat") else f'{q["ack_rate"]:.0f}', "",
                     "0 lost, 0 dup", deliv(q) + f', {q["repeats"]} redeliveries, frames by '
                     f'connection {q["frames_by_connection"]}'))
    rows.append(("CPU µs/event bridge(s) / redis-server",
                 f'spool {cpu(s["capacity_redis"])}; direct {cpu(d["capacity_redis"])}', "", "",
                 f'@1000/s {cpu(d["lat1000"])}; two replicas capacity {cpu(r["capacity_replicas"])}'
                 f' @1000/s {cpu(r["lat1000_replicas"])}'))
    return rows


def redis_sessions(args, bins, logdir, doc):
    """The sessions with the Redis store, against one durable redis-server started here."""
    options = ("--appendonly", "yes", "--appendfsync", args.redis_appendfsync)
    redis = redis_server.RedisServer(*options)
    try:
        doc["redis"] = {"port": redis.port, "options": list(options),
                        "version": re.search(r"redis_version:(\S+)", redis.command("INFO", "server")
                                              .decode(errors="replace")).group(1)}
        doc["redis-spool"] = run_session(args, bins, logdir, "redis-spool", "spool",
                                         ("capacity_redis",), redis=redis)
        doc["redis-direct"] = run_session(args, bins, logdir, "redis-direct", "direct",
                                          ("lat1000", "capacity_redis"), redis=redis)
        doc["replicas"] = run_session(args, bins, logdir, "replicas", "direct",
                                      ("lat1000_replicas", "capacity_replicas"), redis=redis,
                                      replicas=2)
    finally:
        redis.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(HERE, "..", "build-bench"))
    parser.add_argument("--soak-seconds", type=float, default=600)
    parser.add_argument("--quick", action="store_true", help="soak 30 s, latency phases 5 s")
    parser.add_argument("--soak-rate", type=float, default=1000)
    parser.add_argument("--soak-sample-seconds", type=float, default=5)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--events", type=int, default=50000, help="events per capacity run")
    parser.add_argument("--window", type=int, default=1000,
                        help="capacity runs: most frames pushed and not yet ACKed")
    parser.add_argument("--dedup-window", default="",
                        help="limits.dedup_window for the bridge (default: the bridge's, 1h). The "
                             "dedup window is held in memory, so RSS grows with rate x window "
                             "until the window is full: a short one (60s) separates that growth "
                             "from a leak in the soak")
    parser.add_argument("--no-redis", action="store_true",
                        help="skip the Redis store's sessions (they need Debian's redis-server)")
    parser.add_argument("--redis-only", action="store_true",
                        help="run only the Redis store's sessions")
    parser.add_argument("--redis-events", type=int, default=0,
                        help="events per capacity run of the Redis sessions (default: --events; "
                             "--quick: 10000)")
    parser.add_argument("--redis-appendfsync", default="always", choices=("always", "everysec"),
                        help="the benchmark's redis-server: appendfsync (README \"Running two "
                             "replicas\" recommends always)")
    parser.add_argument("--json", help="also write the JSON document here")
    parser.add_argument("--logs", help="directory for the children's logs (default: a temp dir)")
    args = parser.parse_args()
    if args.quick:
        args.soak_seconds = 30
        args.latency_seconds = 5
        args.soak_sample_seconds = 2
        args.redis_events = args.redis_events or 10000
    args.redis_events = args.redis_events or args.events
    build = os.path.abspath(args.build_dir)
    bins = {"bridge": os.path.join(build, "src", "dingtalk-stream-bridge"),
            "loadgen": os.path.join(build, "bench", "dsb-loadgen"),
            "stubhook": os.path.join(build, "bench", "dsb-stubhook")}
    for name, path in bins.items():
        if not os.access(path, os.X_OK):
            sys.exit(f"run.py: no {name} at {path}: build {build} first (it builds nothing)")
    harness.BINARY = bins["bridge"]
    logdir = args.logs or tempfile.mkdtemp(prefix="dsb-bench-")
    os.makedirs(logdir, exist_ok=True)

    doc = {"args": vars(args), "host": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
           "logs": logdir, "budgets": BUDGETS}
    t0 = time.monotonic()
    sessions = []
    if not args.redis_only:
        doc["ceiling"] = ceiling(args, bins, logdir)
        doc["direct"] = run_session(args, bins, logdir, "direct", "direct",
                                    ("lat200", "lat1000", "capacity"), soak_too=True)
        doc["spool"] = run_session(args, bins, logdir, "spool", "spool", ("capacity",))
        # What the section 14 keys cost beside plain direct.
        doc["ordered"] = run_session(args, bins, logdir, "ordered", "direct", ("lat1000", "capacity"),
                                     ORDERED_ROUTE_KEYS)
        sessions = ["direct", "spool", "ordered"]
    if not args.no_redis:
        redis_sessions(args, bins, logdir, doc)
        sessions += ["redis-spool", "redis-direct", "replicas"]
    doc["host"]["loadavg_end"] = os.getloadavg()
    doc["seconds"] = round(time.monotonic() - t0, 1)

    bad = []
    for session in sessions:
        for name, r in doc[session].items():
            if isinstance(r, dict) and "lost" in r:
                if r["lost"] or r["duplicates"] or r["unacked"] or r["duplicate_acks"]:
                    bad.append(f"{session}/{name}: lost {r['lost']}, duplicates {r['duplicates']}, "
                               f"unacked {r['unacked']}, duplicate ACKs {r['duplicate_acks']}")
                if set(r["statuses"]) != {"SUCCESS"}:
                    bad.append(f"{session}/{name}: ACK statuses {r['statuses']}")
    doc["problems"] = bad
    text = json.dumps(doc, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    print()
    print(table(doc))
    print(f'\nload average at start {doc["host"]["loadavg_start"]}, end {doc["host"]["loadavg_end"]}; '
          f'logs in {logdir}')
    for b in bad:
        print("PROBLEM:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
