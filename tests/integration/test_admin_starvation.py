"""The admin port cannot be starved, nor starve the Stream connections: thousands of idle or
half-sent connections, upgrades to websocket or h2c, HTTP/2's preface, CONNECT and request
junk all leave /healthz answering and Stream events ACKed."""
import re
import resource
import socket
import time
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

HELD_CONNECTIONS = 2000
CLIENT_TIMEOUT = 5  # AdminServer::kClientTimeoutSeconds


def exchange(address, payload, timeout=10.0, until_close=False):
    """Sends `payload` on a fresh connection; returns (everything read, closed by the server).
    Stops at the end of the first whole response unless `until_close`."""
    with socket.create_connection(address, timeout=timeout) as s:
        if payload:
            s.sendall(payload)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return data, False
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, True
            data += chunk
            if not until_close and b"\r\n\r\n" in data and re.search(rb"content-length: *(\d+)", data, re.I):
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))
                if len(body) >= length:
                    return data, False
        return data, False


def status_of(response):
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    return int(match.group(1)) if match else None


class AdminStarvationTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        self.hook = StubWebhook()
        self.addCleanup(self.hook.close)
        self.bridge = Bridge(bridge_config(self.emulator, [{"name": "events", "event": '"*"', "url": self.hook.url}],
                                           **{"admin.listen": "127.0.0.1:0", "log.level": "info"}))
        self.addCleanup(self.bridge.stop)
        line = self.bridge.wait_for_line(r"admin endpoint listening")[0]
        host, port = re.search(r"address=(\S+)", line).group(1).rsplit(":", 1)
        self.address = (host, int(port))
        self.base = f"http://{host}:{port}"
        self.emulator.wait_for_connections(1)

    def assert_still_serving(self):
        self.assertEqual(http("GET", self.base + "/healthz", timeout=10), (200, "ok\n"))
        sent = self.emulator.send_event()
        self.emulator.wait_for_ack(sent["messageId"])

    def test_thousands_of_idle_connections_leave_healthz_and_the_stream_working(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = HELD_CONNECTIONS + 256
        if hard != resource.RLIM_INFINITY and hard < wanted:
            self.skipTest(f"RLIMIT_NOFILE hard limit {hard} < {wanted}: cannot hold {HELD_CONNECTIONS} connections")
        # Raised for this process only, after the bridge started with the usual limit.
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))

        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        for i in range(HELD_CONNECTIONS):
            s = socket.create_connection(self.address, timeout=10)
            if i % 2:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # a head never finished
            held.append(s)

        started = time.monotonic()
        status, body = http("GET", self.base + "/healthz", timeout=10)
        took = time.monotonic() - started
        self.assertEqual((status, body), (200, "ok\n"))
        print(f"\n/healthz answered in {took:.3f} s with {HELD_CONNECTIONS} connections held")
        self.assertEqual(http("GET", self.base + "/healthz/store", timeout=10)[0], 200)
        sent = self.emulator.send_event()
        self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(len(self.emulator.connections("open")), 1)
        self.assertIsNone(self.bridge.proc.poll())

    def test_upgrades_http2_and_connect_are_refused_with_a_status(self):
        websocket = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        response, _ = exchange(self.address, websocket)
        self.assertEqual(status_of(response), 400, response)
        self.assertIn(b"upgrade to websocket refused", response)

        h2c = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
        response, _ = exchange(self.address, h2c)
        self.assertEqual(status_of(response), 400, response)
        self.assertIn(b"upgrade to h2c refused", response)

        response, closed = exchange(self.address, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", until_close=True)
        self.assertEqual(status_of(response), 403, response)
        self.assertTrue(closed)

        response, closed = exchange(self.address, b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
                                    until_close=True)
        self.assertEqual(status_of(response), 405, response)
        self.assertIn(b"CONNECT refused", response)
        self.assertTrue(closed)
        self.assert_still_serving()

    def test_idle_and_slow_clients_are_dropped_after_a_few_seconds(self):
        idle = socket.create_connection(self.address, timeout=CLIENT_TIMEOUT + 5)
        slow = socket.create_connection(self.address, timeout=CLIENT_TIMEOUT + 5)
        self.addCleanup(idle.close)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /healthz HTTP/1.1\r\n")
        for i in range(3):  # a header line a second: never a whole head
            time.sleep(1)
            slow.sendall(b"X-Drip-%d: 1\r\n" % i)
        for s in (idle, slow):
            try:
                self.assertEqual(s.recv(1024), b"")  # closed, not answered
            except ConnectionResetError:
                pass
            except socket.timeout:
                self.fail(f"a client sending no whole request was still connected {CLIENT_TIMEOUT + 5} s later")

    def test_request_junk_leaves_the_admin_endpoint_serving(self):
        junk = [
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz\r\n",
            b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
        ]
        for payload in junk:
            try:
                response, _ = exchange(self.address, payload, timeout=CLIENT_TIMEOUT + 5)
            except (ConnectionResetError, BrokenPipeError):
                continue  # refused outright: fine
            self.assertNotEqual(status_of(response), 200, (payload[:40], response[:200]))
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main()
