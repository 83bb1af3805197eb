"""dingtalk.proxy (and HTTPS_PROXY): the open call and the websocket both go through an HTTP
CONNECT proxy. The open call is tunnelled too (CURLOPT_HTTPPROXYTUNNEL), even for an http://
api_base, so both legs look the same to the proxy."""
import base64
import unittest

from streamutil import ConnectProxy, Emulator, start, stop_all, wait_until, harness


class StreamProxyTest(unittest.TestCase):
    def setUp(self):
        self.webhook = harness.StubWebhook()
        self.addCleanup(self.webhook.close)
        self.proxy = ConnectProxy()
        self.addCleanup(self.proxy.close)
        self.emu = Emulator()
        self.bridge = None
        self.addCleanup(lambda: stop_all(self.bridge, self.emu))
        self.routes = [{"name": "events", "event": '"*"', "url": self.webhook.url + "/events"}]
        self.target = self.emu.address  # 127.0.0.1:PORT

    def assert_both_legs_tunnelled(self, auth=None):
        conn = self.emu.wait_for_connections(1)[0]["id"]
        seen = wait_until(lambda: len(self.proxy.seen()) >= 2 and self.proxy.seen(), 5,
                          what="two proxied connections")
        self.assertEqual([(r["method"], r["target"]) for r in seen[:2]],
                         [("CONNECT", self.target), ("CONNECT", self.target)])
        for request in seen:
            self.assertEqual(request["auth"], auth)
        sent = self.emu.send_event(connection=conn)
        self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["status"], "SUCCESS")

    def test_configured_proxy(self):
        self.bridge = start(self.emu, routes=self.routes,
                            **{"dingtalk.proxy": f"http://127.0.0.1:{self.proxy.port}"})
        self.assert_both_legs_tunnelled()
        self.bridge.wait_for_line(r"using HTTP proxy proxy=127\.0\.0\.1:\d+ source=dingtalk\.proxy")

    def test_proxy_credentials(self):
        self.bridge = start(self.emu, routes=self.routes,
                            **{"dingtalk.proxy": f"http://bridge:p%40ss@127.0.0.1:{self.proxy.port}"})
        expected = "Basic " + base64.b64encode(b"bridge:p@ss").decode()
        conn = self.emu.wait_for_connections(1)[0]["id"]
        seen = wait_until(lambda: len(self.proxy.seen()) >= 2 and self.proxy.seen(), 5,
                          what="two proxied connections")
        # lws writes the scheme as "basic", curl as "Basic": both valid (RFC 7235).
        self.assertEqual([(r["method"], (r["auth"] or "").lower()) for r in seen[:2]],
                         [("CONNECT", expected.lower())] * 2)
        sent = self.emu.send_event(connection=conn)
        self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["status"], "SUCCESS")
        self.assertNotIn("p@ss", "\n".join(self.bridge.output()))
        self.assertNotIn("p%40ss", "\n".join(self.bridge.output()))

    def test_https_proxy_environment(self):
        self.bridge = start(self.emu, routes=self.routes,
                            env={"HTTPS_PROXY": f"http://127.0.0.1:{self.proxy.port}",
                                 "http_proxy": "http://127.0.0.1:9"})
        self.assert_both_legs_tunnelled()
        self.bridge.wait_for_line(r"using HTTP proxy .*source=HTTPS_PROXY")

    def test_plain_http_proxy_env_is_ignored(self):
        # http_proxy is not for the gateway's https/wss; lws would otherwise pick it up itself.
        self.bridge = start(self.emu, routes=self.routes,
                            env={"http_proxy": f"http://127.0.0.1:{self.proxy.port}"})
        conn = self.emu.wait_for_connections(1)[0]["id"]
        sent = self.emu.send_event(connection=conn)
        self.emu.wait_for_ack(sent["messageId"])
        self.assertEqual(self.proxy.seen(), [])


if __name__ == "__main__":
    unittest.main()
