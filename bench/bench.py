#!/usr/bin/env python3
"""Benchmark: the real binary between the emulator (load generator) and a stub webhook.

  bench/bench.py latency [--rate 200] [--seconds 10]   ACK latency at a fixed event rate
  bench/bench.py capacity [--delivery spool] [--events 5000] [--injectors 4]
                                                       events/s relayed and ACKed, flat out

The emulator pushes EVENT frames at the given rate over the Stream websocket; the bridge
POSTs each to a webhook that answers 200 at once and ACKs SUCCESS. The ACK latency is what
DingTalk would see: from the emulator's push to the ACK's arrival (emulator clock, µs).
Everything is on 127.0.0.1. Standard library only.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness  # noqa: E402

DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "src",
                              "dingtalk-stream-bridge")


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def inject(conn, body):
    conn.request("POST", "/emulator/frames", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"inject failed: {resp.status} {payload!r}")
    return json.loads(payload)


def latency(args):
    emulator = harness.Emulator()
    hook = harness.StubWebhook()
    bridge = harness.Bridge(harness.bridge_config(
        emulator, [{"name": "events", "event": '"*"', "url": hook.url}], **{"log.level": "warn"}))
    try:
        emulator.wait_for_connections(1)
        host, port = emulator.address.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        total = int(args.rate * args.seconds)
        started = time.monotonic()
        late = 0
        for i in range(total):
            due = started + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.05:
                late += 1
            inject(conn, {"type": "EVENT", "eventType": "bench_event", "data": {"seq": i}})
        sent_for = time.monotonic() - started
        harness.wait_until(lambda: len(hook.requests) >= total, timeout=30, what="every delivery")

        def acked():
            frames = emulator.get("/emulator/frames")
            return frames if all(f.get("ack") for f in frames) else None
        frames = harness.wait_until(acked, timeout=30, what="every ACK")
        lat_ms = [f["ack"]["latencyUs"] / 1000.0 for f in frames]
        statuses = {f["ack"]["status"] for f in frames}
        keys = [r["headers"]["Idempotency-Key"] for r in hook.requests]
        result = {
            "rate_target": args.rate,
            "rate_achieved": round(total / sent_for, 1),
            "events": total,
            "delivered": len(keys),
            "duplicates": len(keys) - len(set(keys)),
            "ack_statuses": sorted(statuses),
            "ack_latency_ms": {"p50": round(statistics.median(lat_ms), 3),
                               "p99": round(percentile(lat_ms, 99), 3),
                               "max": round(max(lat_ms), 3)},
            "generator_late_sends": late,
        }
        print(json.dumps(result, indent=2))
        return 0 if result["duplicates"] == 0 and statuses == {"SUCCESS"} else 1
    finally:
        bridge.stop()
        hook.close()
        emulator.stop()


def capacity(args):
    """Pushes `events` EVENT frames as fast as `injectors` parallel HTTP clients can, and
    measures how fast the bridge ACKs them (and, for direct, delivers them). The injectors'
    own ceiling is measured first against the emulator alone (no bridge ACK needed), so the
    result says which side was the bottleneck."""
    import threading
    emulator = harness.Emulator()
    hook = harness.StubWebhook()
    route = {"name": "events", "event": '"*"', "url": hook.url, "delivery": args.delivery}
    bridge = harness.Bridge(harness.bridge_config(emulator, [route], **{"log.level": "warn"}))
    try:
        emulator.wait_for_connections(1)
        host, port = emulator.address.split(":")

        def push_all(count, offset):
            errors = []

            def worker(first, n):
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                for i in range(first, first + n):
                    try:
                        inject(conn, {"type": "EVENT", "eventType": "bench_event",
                                      "eventId": f"cap-{offset + i}", "data": {"seq": i}})
                    except Exception as e:  # noqa: BLE001 - reported below
                        errors.append(str(e))
                        return
            per = count // args.injectors
            threads = [threading.Thread(target=worker, args=(k * per, per)) for k in range(args.injectors)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise RuntimeError(errors[0])
            return per * args.injectors, time.monotonic() - started

        total, push_seconds = push_all(args.events, 0)

        def all_acked():
            frames = emulator.get("/emulator/frames")
            done = [f for f in frames if f.get("ack")]
            return (frames, done) if len(done) >= total else None
        frames, done = harness.wait_until(all_acked, timeout=120, what="every ACK")
        # First push to last ACK, on the emulator's clock (ms).
        first_push = min(f["at"] for f in frames)
        last_ack = max(f["ack"]["at"] for f in done)
        seconds = max(0.001, (last_ack - first_push) / 1000.0)
        statuses = {f["ack"]["status"] for f in done}
        harness.wait_until(lambda: len({r["headers"]["Idempotency-Key"] for r in hook.requests}) >= total,
                           timeout=120, what="every delivery")
        keys = [r["headers"]["Idempotency-Key"] for r in hook.requests if r["status"] == 200]
        result = {
            "delivery": args.delivery,
            "events": total,
            "acked_per_s": round(total / seconds, 1),
            "injector_push_per_s": round(total / push_seconds, 1),
            "ack_statuses": sorted(statuses),
            "delivered": len(set(keys)),
            "duplicates": len(keys) - len(set(keys)),
            "note": "acked_per_s cannot exceed injector_push_per_s: when they are close, the "
                    "load generator is the bottleneck, not the bridge",
        }
        print(json.dumps(result, indent=2))
        return 0 if result["duplicates"] == 0 and statuses == {"SUCCESS"} else 1
    finally:
        bridge.stop()
        hook.close()
        emulator.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("BRIDGE_BINARY", DEFAULT_BINARY))
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="ACK latency at a fixed rate")
    lat.add_argument("--rate", type=float, default=200)
    lat.add_argument("--seconds", type=float, default=10)
    cap = sub.add_parser("capacity", help="events/s relayed and ACKed, flat out")
    cap.add_argument("--delivery", choices=["direct", "spool"], default="direct")
    cap.add_argument("--events", type=int, default=5000)
    cap.add_argument("--injectors", type=int, default=4)
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    if args.command == "latency":
        return latency(args)
    if args.command == "capacity":
        return capacity(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
