"""`rate: N/s` per route (product.md section 11): at most N POSTs start per second on the
route, the rest wait in its queue; a direct event still gets its ACK by ack_deadline. Direct
and spooled deliveries alike. Loose bounds only: no window of 1 s holds more than N + 1
starts (timer slack), and the starts are spread, not bunched."""
import json
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, wait_until

RATE = 5
EVENTS = 20


def most_in_any_window(times, width=1.0):
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - width:
            first += 1
        most = max(most, last - first + 1)
    return most


class RateTest(unittest.TestCase):
    def run_route(self, delivery):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        hook = StubWebhook()
        self.addCleanup(hook.close)
        bridge = Bridge(bridge_config(emulator, [{"name": "paced", "event": '"*"', "url": hook.url,
                                                  "delivery": delivery, "rate": f"{RATE}/s"}],
                                      **{"log.level": "info"}))
        self.addCleanup(bridge.stop)
        emulator.wait_for_connections(1)
        sent = [emulator.send_event(data={"n": i})["messageId"] for i in range(EVENTS)]
        acks = [emulator.wait_for_ack(message_id, timeout=5) for message_id in sent]
        wait_until(lambda: len(hook.requests) >= EVENTS, timeout=15, what=f"{EVENTS} POSTs")

        starts = [r["at"] for r in hook.requests]
        self.assertEqual(sorted(json.loads(r["body"])["n"] for r in hook.requests), list(range(EVENTS)))
        self.assertLessEqual(most_in_any_window(starts), RATE + 1, starts)
        # 20 starts at 5/s span about 3.8 s; bunched they would take a few ms.
        self.assertGreater(max(starts) - min(starts), (EVENTS - 1) / RATE - 1.0)
        frames = {f["messageId"]: f for f in emulator.get("/emulator/frames")}
        latencies = [frames[message_id]["ack"]["latencyUs"] / 1e6 for message_id in sent]
        return [json.loads(ack["data"])["status"] for ack in acks], latencies

    def test_direct_events_are_paced_and_acked_by_the_deadline(self):
        statuses, latencies = self.run_route("direct")
        # The last POSTs start about 3.8 s after the first, yet every ACK went out by the
        # 2.5 s ack_deadline (LATER for those still queued then); 1 s of slack for the timer.
        self.assertIn("SUCCESS", statuses)
        self.assertLess(max(latencies), 3.5, latencies)

    def test_spooled_deliveries_are_paced(self):
        statuses, _ = self.run_route("spool")
        self.assertEqual(set(statuses), {"SUCCESS"})


if __name__ == "__main__":
    unittest.main()
