"""The local OpenAPI endpoint (product.md section 13): an app calls the OpenAPI through the
bridge with no secret and no token of its own. Pass-through of method, query, headers and
body both ways; the app's token injected (a caller's replaced) in the v1.0 header and the
/oapi query; a revoked token refetched once; the token API down -> 502; allow -> 403; too
large -> 413; 100 concurrent requests -> one token fetch; two apps, two tokens; no token
in the log."""
import http.client as httpclient
import json
import re
import threading
import unittest

from harness import CLIENT_ID, CLIENT_SECRET, Bridge, Emulator, bridge_config, http, wait_until


def endpoints(bridge, count=1):
    """{app: "http://HOST:PORT"} of the bridge's OpenAPI endpoints."""
    bridge.wait_for_line(r"openapi.*listening", timeout=10)
    wait_until(lambda: len(bridge.grep(r"openapi.*listening")) >= count, what=f"{count} endpoints")
    found = {}
    for line in bridge.grep(r"openapi.*listening"):
        app = re.search(r"app=(\S+)", line).group(1)
        found[app] = "http://" + re.search(r"address=(\S+)", line).group(1)
    return found


def call(base, method, path, body=None, headers=None):
    """(status, headers as a lower-case dict, body bytes), with full control of the request."""
    host_port = base.split("//", 1)[1]
    conn = httpclient.HTTPConnection(host_port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def openapi_config(emulator, **openapi):
    overrides = {"dingtalk.oapi_base": emulator.base + "/oapi", "openapi.listen": "127.0.0.1:0",
                 "admin.listen": "127.0.0.1:0"}
    overrides.update({f"openapi.{k}": v for k, v in openapi.items()})
    return bridge_config(emulator, **overrides)


class OpenApiProxyTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Emulator("--client-id", "desk-client:desk-secret")
        self.addCleanup(self.emulator.stop)

    def start(self, config_text, count=1):
        bridge = Bridge(config_text)
        self.addCleanup(bridge.stop)
        return bridge, endpoints(bridge, count)

    def fetches(self, client_id=CLIENT_ID):
        return self.emulator.get("/emulator/tokens")["by_client"].get(client_id, 0)

    def calls(self):
        return self.emulator.get("/emulator/openapi-calls")

    def test_pass_through_both_ways_with_the_apps_token(self):
        bridge, eps = self.start(openapi_config(self.emulator))
        base = eps["default"]
        body = b'{"hello":"\xe4\xb8\x96\xe7\x95\x8c","n":1}'
        status, headers, raw = call(base, "PATCH", "/v1.0/emulator/echo?b=2&a=x%20y&status=201", body, {
            "Content-Type": "application/json; charset=utf-8", "Accept-Language": "zh-CN",
            "X-Request-Id": "req-7", "x-acs-dingtalk-access-token": "CALLERS-OWN-TOKEN",
            "Connection": "keep-alive"})
        self.assertEqual(status, 201, raw)
        self.assertEqual(headers.get("x-emulator-echo"), "1")
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        echoed = json.loads(raw)
        self.assertEqual(echoed["method"], "PATCH")
        self.assertEqual(echoed["query"], "b=2&a=x%20y&status=201")
        self.assertEqual(echoed["body"].encode(), body)
        sent = echoed["headers"]
        self.assertEqual(sent["accept-language"], "zh-CN")
        self.assertEqual(sent["x-request-id"], "req-7")
        self.assertEqual(sent["content-type"], "application/json; charset=utf-8")
        self.assertEqual(sent["host"], self.emulator.address)  # rewritten for DingTalk
        token = sent["x-acs-dingtalk-access-token"]
        self.assertNotEqual(token, "CALLERS-OWN-TOKEN")
        record = self.calls()[-1]
        self.assertEqual(record["client_id"], CLIENT_ID)  # a live token of this app
        self.assertEqual(record["token_sent"], "header")

        for method in ("GET", "DELETE", "POST", "PUT"):
            status, _, raw = call(base, method, "/v1.0/emulator/echo?m=1")
            self.assertEqual((status, json.loads(raw).get("method")), (200, method), raw)

        # A real OpenAPI: the card update.
        status, _, raw = call(base, "PUT", "/v1.0/card/instances",
                              b'{"outTrackId":"t1","cardData":{"cardParamMap":{"k":"v"}}}',
                              {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(raw)), (200, {"success": True, "result": True}))
        # A robot message through the same endpoint.
        status, _, raw = call(base, "POST", "/v1.0/robot/oToMessages/batchSend", json.dumps({
            "robotCode": "dingbot", "userIds": ["u1"], "msgKey": "sampleText",
            "msgParam": json.dumps({"content": "hi"})}).encode(), {"Content-Type": "application/json"})
        self.assertEqual(status, 200, raw)
        self.assertIn("processQueryKey", json.loads(raw))

        # The legacy API: /oapi/... -> oapi_base with access_token in the query, the caller's
        # own replaced.
        status, _, raw = call(base, "POST", "/oapi/topapi/v2/user/get?access_token=CALLERS&lang=zh_CN",
                              b'{"userid":"manager1"}', {"Content-Type": "application/json"})
        self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(raw)["result"]["userid"], "manager1")
        record = self.calls()[-1]
        self.assertEqual(record["path"], "/oapi/topapi/v2/user/get")
        self.assertEqual(record["token_sent"], "query")
        self.assertEqual(record["client_id"], CLIENT_ID)
        self.assertNotIn("CALLERS", record["query"])
        self.assertTrue(record["query"].startswith("lang=zh_CN&access_token="))

        # A DingTalk error answer comes back as is.
        status, _, raw = call(base, "POST", "/v1.0/robot/oToMessages/batchSend", b"{}",
                              {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(raw)["code"], "InvalidParameter")

        self.assertEqual(self.fetches(), 1)
        self.assertNotIn(token, bridge.output())  # never a token in a log line
        self.assertNotIn(CLIENT_SECRET, bridge.output())

        admin = "http://" + re.search(r"address=(\S+)",
                                      bridge.wait_for_line(r"admin endpoint listening")[0]).group(1)
        status, metrics = http("GET", admin + "/metrics")
        self.assertIn('dsb_openapi_requests_total{app="default",status="201"} 1', metrics)
        self.assertIn('dsb_openapi_requests_total{app="default",status="400"} 1', metrics)
        self.assertIn('dsb_openapi_request_seconds_count{app="default"}', metrics)

    def test_a_revoked_token_is_refetched_once(self):
        _, eps = self.start(openapi_config(self.emulator))
        base = eps["default"]
        status, _, _ = call(base, "PUT", "/v1.0/card/instances", b"{}")
        self.assertEqual(status, 200)
        self.emulator.post("/emulator/tokens/revoke")
        status, _, raw = call(base, "PUT", "/v1.0/card/instances", b"{}")
        self.assertEqual(status, 200, raw)
        status, _, raw = call(base, "POST", "/oapi/topapi/v2/user/get", b'{"userid":"u"}')
        self.assertEqual((status, json.loads(raw)["errcode"]), (200, 0))
        self.assertEqual(self.fetches(), 2)
        outcomes = [c["status"] for c in self.calls()]
        self.assertEqual(outcomes, [200, 400, 200, 200])  # the refused one, then the resend

    def test_token_api_down_is_a_502(self):
        self.emulator.post("/emulator/tokens/down", {"down": True})
        bridge, eps = self.start(openapi_config(self.emulator))
        status, _, raw = call(eps["default"], "PUT", "/v1.0/card/instances", b"{}")
        self.assertEqual(status, 502, raw)
        self.assertEqual(json.loads(raw)["code"], "TokenUnavailable")
        self.assertEqual(self.calls(), [])
        self.assertNotIn(CLIENT_SECRET, bridge.output())

    def test_allow_unknown_prefix_and_body_limit(self):
        _, eps = self.start(openapi_config(self.emulator, allow='["/v1.0/card/*", "/oapi/topapi/*"]',
                                           max_body="1KiB"))
        base = eps["default"]
        status, _, raw = call(base, "POST", "/v1.0/robot/oToMessages/batchSend", b"{}")
        self.assertEqual((status, json.loads(raw)["code"]), (403, "Forbidden"))
        status, _, raw = call(base, "GET", "/v2.0/whatever")
        self.assertEqual(status, 404)
        status, _, raw = call(base, "PUT", "/v1.0/card/instances", b"x" * 2048)
        self.assertEqual(status, 413)
        status, _, _ = call(base, "PUT", "/v1.0/card/instances", b"{}")
        self.assertEqual(status, 200)
        self.assertEqual(len(self.calls()), 1)  # only the allowed one reached DingTalk

    def test_concurrent_requests_share_one_token_fetch(self):
        _, eps = self.start(openapi_config(self.emulator))
        base = eps["default"]
        statuses = []
        lock = threading.Lock()
        start = threading.Barrier(100)

        def one(i):
            start.wait(timeout=20)
            status, _, _ = call(base, "PUT", "/v1.0/card/instances", json.dumps({"i": i}).encode())
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(statuses, [200] * 100)
        self.assertEqual(self.fetches(), 1)
        print(f"token fetches for 100 concurrent requests: {self.fetches()}")

    def test_two_apps_each_call_with_their_own_token(self):
        config = "\n".join([
            "apps:",
            "  - name: hr", f"    client_id: {CLIENT_ID}", f"    client_secret: {CLIENT_SECRET}",
            f"    api_base: {self.emulator.base}", f"    oapi_base: {self.emulator.base}/oapi",
            "    routes: [{name: events, event: '*', url: 'http://127.0.0.1:9/e'}]",
            "    openapi: {listen: 127.0.0.1:0}",
            "  - name: desk", "    client_id: desk-client", "    client_secret: desk-secret",
            f"    api_base: {self.emulator.base}", f"    oapi_base: {self.emulator.base}/oapi",
            "    routes: [{name: events, event: '*', url: 'http://127.0.0.1:9/e'}]",
            "    openapi: {listen: 127.0.0.1:0}",
            "admin:", '  listen: ""', "log:", "  level: debug", ""])
        _, eps = self.start(config, count=2)
        for app in ("hr", "desk", "hr"):
            status, _, raw = call(eps[app], "GET", "/v1.0/emulator/echo")
            self.assertEqual(status, 200, raw)
        self.assertEqual([c["client_id"] for c in self.calls()], [CLIENT_ID, "desk-client", CLIENT_ID])
        tokens = self.emulator.get("/emulator/tokens")["by_client"]
        self.assertEqual(tokens, {CLIENT_ID: 1, "desk-client": 1})


if __name__ == "__main__":
    unittest.main()
