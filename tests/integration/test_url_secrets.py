"""Query-string tokens of webhook URLs (`?access_token=...`) never reach the logs (issue 12):
not in `delivery failed` warnings (refused connection, HTTP 500), dead-letter errors,
debug `delivered` lines, nor in curl's error texts, at log level debug. Every such line
shows its URL through config::redact_url, which blanks query values and userinfo."""
import socket
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, wait_until

SECRET = "SECRETVALUE"
QUERY = f"?access_token={SECRET}&sign=SIGNSECRETVALUE"


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UrlSecretsTest(unittest.TestCase):
    def test_query_tokens_appear_in_no_log_line(self):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        failing = StubWebhook(status=500)
        self.addCleanup(failing.close)
        working = StubWebhook()
        self.addCleanup(working.close)
        routes = [
            {"name": "refused", "event": "refused_event",
             "url": f'"http://127.0.0.1:{closed_port()}/hook{QUERY}"'},
            {"name": "failing", "event": "failing_event", "url": f'"{failing.url}/hook{QUERY}"'},
            {"name": "spooled", "event": "spooled_event", "url": f'"{failing.url}/spool{QUERY}"',
             "delivery": "spool", "retry": "{max_attempts: 1}"},
            {"name": "working", "event": '"*"', "url": f'"{working.url}/hook{QUERY}"'},
        ]
        bridge = Bridge(bridge_config(emulator, routes, **{"log.level": "debug"}))
        self.addCleanup(bridge.stop)
        emulator.wait_for_connections(1)

        for event_type in ("refused_event", "failing_event", "spooled_event", "user_add_org"):
            emulator.wait_for_ack(emulator.send_event(event_type)["messageId"])
        bridge.wait_for_line(r"delivery failed.*route=refused")
        bridge.wait_for_line(r"delivery failed.*route=failing")
        bridge.wait_for_line(r"dead-lettered.*route=spooled")
        bridge.wait_for_line(r"delivered.*route=working")
        wait_until(lambda: working.requests and len(failing.requests) >= 2, what="the POSTs")
        # The token did go out on the wire, where it belongs.
        self.assertIn(SECRET, working.requests[0]["path"])
        bridge.stop()

        leaks = [line for line in bridge.output() if SECRET in line]
        self.assertEqual(leaks, [])


if __name__ == "__main__":
    unittest.main()
