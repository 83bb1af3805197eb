"""The admin endpoint of the real binary: /healthz, /readyz following the Stream connection,
/metrics in Prometheus text whose counters move with traffic."""
import re
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
        self.assertEqual(before.get("dsb_connections_up"), 1.0)
        for _ in range(3):
            emulator.wait_for_ack(emulator.send_event()["messageId"])
        after = parse_metrics(http("GET", base + "/metrics")[1])
        key = 'dsb_frames_total{topic="*",type="EVENT"}'  # labels sorted by parse_metrics
        self.assertEqual(after[key] - before.get(key, 0.0), 3.0)
        self.assertEqual(after['dsb_deliveries_total{outcome="ok",route="events"}'], 3.0)
        self.assertEqual(after['dsb_delivery_duration_seconds_count{route="events"}'], 3.0)


if __name__ == "__main__":
    unittest.main()
