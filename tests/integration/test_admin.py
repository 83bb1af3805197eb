"""The admin endpoint of the real binary: /healthz, /readyz following the Stream connection,
/healthz/store following the store alone, /metrics in Prometheus text whose counters move
with traffic and whose per-route series exist from the first scrape."""
import os
import re
import signal
import tempfile
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (?P<value>-?[0-9.e+-]+|\+Inf|NaN)$')


def parse_metrics(text):
    """Strict enough: every line is HELP, TYPE or a well-formed sample; TYPE comes first."""
    typed, values = set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            typed.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        name = match.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"sample before its TYPE: {line!r}"
        labels = sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"', match.group(2) or ""))
        key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else "")
        values[key] = float(match.group("value"))
    return values


def admin_base(bridge):
    line = bridge.wait_for_line(r"admin endpoint listening")[0]
    return "http://" + re.search(r"address=(\S+)", line).group(1)


def scrape(base):
    status, text = http("GET", base + "/metrics")
    assert status == 200, status
    return parse_metrics(text)


def route_series(route, spool=False):
    """Every series a configured route has, as parse_metrics keys them."""
    keys = [f'dsb_deliveries_total{{app="default",outcome="{outcome}",route="{route}"}}' for outcome in ("failed", "ok")]
    keys.append(f'dsb_duplicates_total{{app="default",route="{route}"}}')
    keys.append(f'dsb_deliveries_abandoned_total{{app="default",route="{route}"}}')
    if spool:
        keys.append(f'dsb_spool_oldest_pending_seconds{{app="default",route="{route}"}}')
    keys += [f'dsb_delivery_duration_seconds_{part}{{app="default",route="{route}"}}' for part in ("count", "sum")]
    keys += [f'dsb_delivery_duration_seconds_bucket{{app="default",le="{le}",route="{route}"}}' for le in ("0.001", "10", "+Inf")]
    return keys


class AdminTest(unittest.TestCase):
    def test_health_readiness_and_metrics(self):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        hook = StubWebhook()
        self.addCleanup(hook.close)
        # Start the bridge against a gateway that rejects it, so it is alive but not ready.
        bridge = Bridge(bridge_config(emulator, [{"name": "events", "event": '"*"', "url": hook.url}],
                                      **{"admin.listen": "127.0.0.1:0",
                                         "dingtalk.client_secret": "wrong-secret",
                                         "dingtalk.reconnect.initial": "200ms",
                                         "dingtalk.reconnect.max": "200ms"}))
        self.addCleanup(bridge.stop)
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        base = "http://" + re.search(r"address=(\S+)", line).group(1)

        self.assertEqual(http("GET", base + "/healthz")[0], 200)
        status, body = http("GET", base + "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("no Stream connection registered", body)
        self.assertEqual(http("GET", base + "/nope")[0], 404)
        self.assertEqual(http("POST", base + "/metrics", {})[0], 405)
        bridge.stop()

        bridge = Bridge(bridge_config(emulator, [{"name": "events", "event": '"*"', "url": hook.url}],
                                      **{"admin.listen": "127.0.0.1:0"}))
        self.addCleanup(bridge.stop)
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        base = "http://" + re.search(r"address=(\S+)", line).group(1)
        emulator.wait_for_connections(1)
        wait_until(lambda: http("GET", base + "/readyz")[0] == 200, what="/readyz 200")

        before = parse_metrics(http("GET", base + "/metrics")[1])
        self.assertEqual(before.get('dsb_connections_up{app="default"}'), 1.0)
        for _ in range(3):
            emulator.wait_for_ack(emulator.send_event()["messageId"])
        after = parse_metrics(http("GET", base + "/metrics")[1])
        key = 'dsb_frames_total{app="default",topic="*",type="EVENT"}'  # labels sorted by parse_metrics
        self.assertEqual(after[key] - before.get(key, 0.0), 3.0)
        self.assertEqual(after['dsb_deliveries_total{app="default",outcome="ok",route="events"}'], 3.0)
        self.assertEqual(after['dsb_delivery_duration_seconds_count{app="default",route="events"}'], 3.0)


    def test_every_route_has_its_series_at_zero_from_the_first_scrape_and_after_a_reload(self):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        hook = StubWebhook()
        self.addCleanup(hook.close)
        routes = [{"name": "events", "event": '"user_*"', "url": hook.url},
                  {"name": "spooled", "event": '"org_*"', "url": hook.url, "delivery": "spool"}]
        bridge = Bridge(bridge_config(emulator, routes, **{"admin.listen": "127.0.0.1:0"}))
        self.addCleanup(bridge.stop)
        base = admin_base(bridge)

        first = scrape(base)  # before any frame: nothing has touched a route yet
        for key in route_series("events") + route_series("spooled", spool=True):
            self.assertEqual(first.get(key), 0.0, key)
        for frame_type in ("EVENT", "CALLBACK", "SYSTEM"):
            self.assertEqual(first.get(f'dsb_ack_latency_seconds_count{{app="default",type="{frame_type}"}}'), 0.0)
        self.assertEqual(first.get('dsb_acks_total{app="default",code="200",status="later"}'), 0.0)
        self.assertIn("dsb_last_frame_age_seconds", first)

        routes.append({"name": "added", "event": '"dept_*"', "url": hook.url, "delivery": "spool"})
        with open(bridge.config_path, "w") as f:
            f.write(bridge_config(emulator, routes, **{"admin.listen": "127.0.0.1:0"})
                    + f"state_dir: {bridge.dir.name}/state\n")
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"config reloaded")
        after_reload = scrape(base)
        for key in route_series("added", spool=True):
            self.assertEqual(after_reload.get(key), 0.0, key)

        emulator.wait_for_connections(1)
        emulator.wait_for_ack(emulator.send_event("user_add_org")["messageId"])
        traffic = wait_until(lambda: (lambda m: m if m.get('dsb_ack_latency_seconds_count{app="default",type="EVENT"}') else None)(
            scrape(base)), what="the event's ACK latency")
        self.assertEqual(traffic['dsb_deliveries_total{app="default",outcome="ok",route="events"}'], 1.0)
        self.assertEqual(traffic['dsb_deliveries_total{app="default",outcome="ok",route="added"}'], 0.0)
        self.assertEqual(traffic['dsb_ack_latency_seconds_count{app="default",type="EVENT"}'], 1.0)
        self.assertGreaterEqual(traffic['dsb_acks_total{app="default",code="200",status="ok"}'], 1.0)
        self.assertLess(traffic["dsb_last_frame_age_seconds"], 5.0)

    def test_last_frame_age_counts_from_start_until_a_frame_comes(self):
        # No gateway at all (api_base on a closed port): no frame ever arrives.
        bridge = Bridge(bridge_config(None, **{"admin.listen": "127.0.0.1:0"}))
        self.addCleanup(bridge.stop)
        base = admin_base(bridge)
        wait_until(lambda: scrape(base)["dsb_last_frame_age_seconds"] >= 2.0, timeout=10,
                   what="the age to grow from the start")

    def test_healthz_store_answers_503_with_the_readyz_reason_while_the_store_is_not_writable(self):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        scratch = tempfile.TemporaryDirectory(prefix="bridge-store-health-")
        self.addCleanup(scratch.cleanup)
        blocker = os.path.join(scratch.name, "blocker")
        with open(blocker, "w") as f:
            f.write("a file where the state directory should be\n")
        bridge = Bridge(bridge_config(emulator, **{"admin.listen": "127.0.0.1:0"})
                        + f"state_dir: {blocker}/state\n")
        self.addCleanup(bridge.stop)
        base = admin_base(bridge)
        emulator.wait_for_connections(1)

        status, body = http("GET", base + "/healthz/store")
        self.assertEqual(status, 503)
        self.assertTrue(body.startswith("store not writable: "), body)
        readyz_status, readyz_body = http("GET", base + "/readyz")
        self.assertEqual(readyz_status, 503)
        self.assertIn(body.strip(), readyz_body.splitlines())  # the very reason /readyz gives
        self.assertEqual(http("GET", base + "/healthz"), (200, "ok\n"))  # the process runs

        os.remove(blocker)
        wait_until(lambda: http("GET", base + "/healthz/store") == (200, "ok\n"), timeout=20,
                   what="the store to recover")


if __name__ == "__main__":
    unittest.main()
