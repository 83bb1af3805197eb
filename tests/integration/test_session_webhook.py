"""A robot message's sessionWebhook is taken from the frame: the bridge sends a reply there
only over https or to dingtalk.api_base's origin. A gopher://, dict:// or telnet://
sessionWebhook once made it write raw bytes to any port (issue 12); now nothing reaches a
listener on that port, and each refusal is logged (URL redacted) and counted."""
import json
import re
import socket
import threading
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

ROBOT = "/v1.0/im/bot/messages/get"


class TcpListener:
    """127.0.0.1:0; counts connections and keeps whatever bytes arrive."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections, self.received = 0, b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(0.5)
            try:
                self.received += conn.recv(65536)
            except OSError:
                pass
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


class SessionWebhookTest(unittest.TestCase):
    def test_other_schemes_reach_nothing_and_are_logged_and_counted(self):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        listener = TcpListener()
        self.addCleanup(listener.close)
        reply = {"msgtype": "text", "text": {"content": "pong"}}
        hook = StubWebhook(body=json.dumps(reply).encode())
        self.addCleanup(hook.close)
        bridge = Bridge(bridge_config(emulator, [{"name": "robot", "topic": ROBOT, "url": hook.url}],
                                      **{"admin.listen": "127.0.0.1:0"}))
        self.addCleanup(bridge.stop)
        admin = "http://" + re.search(
            r"address=(\S+)", bridge.wait_for_line(r"admin endpoint listening")[0]).group(1)
        emulator.wait_for_connections(1)

        target = f"127.0.0.1:{listener.port}"
        forged = [f"gopher://{target}/_SET%20pwned%201%0D%0A",
                  f"dict://{target}/info", f"telnet://{target}/"]
        for i, url in enumerate(forged):
            emulator.send_callback(ROBOT, {"msgId": f"forged-{i}", "msgtype": "text",
                                           "text": {"content": "ping"}, "sessionWebhook": url})
        # Then one the bridge must still reply to: the emulator's own, on api_base.
        emulator.send_callback(ROBOT, {"msgId": "genuine", "msgtype": "text",
                                       "text": {"content": "ping"}})
        wait_until(lambda: emulator.get("/emulator/replies"), what="the genuine reply")
        refusals = wait_until(lambda: len(bridge.grep(r"robot reply refused")) == 3 and
                              bridge.grep(r"robot reply refused"), what="3 refusals logged")

        self.assertEqual(listener.connections, 0, listener.received)
        self.assertEqual(listener.received, b"")
        for line in refusals:
            self.assertIn("route=robot", line)
            self.assertRegex(line, r"scheme (gopher|dict|telnet)")
        metrics = http("GET", admin + "/metrics")[1]
        self.assertRegex(metrics, r'dsb_robot_replies_total\{app="default",route="robot",via="session_webhook",'
                                  r'outcome="refused"\} 3\n')
        self.assertRegex(metrics, r'dsb_robot_replies_total\{app="default",route="robot",via="session_webhook",'
                                  r'outcome="sent"\} 1\n')


if __name__ == "__main__":
    unittest.main()
