"""format graph end to end (product.md section 10): the real binary between the emulator,
which sends AI-skill calls as DingTalk does (POST /emulator/graph), and the sample skill
service packaging/examples/ai_skill.py. Every answer comes back as the ACK's
{"response":{"statusLine","headers","body"}}; the bridge's own failures as 400/502/504.
"""
import json
import os
import re
import subprocess
import sys
import unittest

from harness import SOURCE_DIR, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

GRAPH = "/v1.0/graph/api/invoke"
AI_SKILL = os.path.join(SOURCE_DIR, "packaging", "examples", "ai_skill.py")


class SkillService:
    """packaging/examples/ai_skill.py on a free port."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, AI_SKILL, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # printed once it takes requests
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, f"ai_skill.py printed {line!r}"
        self.port = int(match.group(1))

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def graph_route(url, **extra):
    route = {"name": "skills", "topic": GRAPH, "format": "graph", "url": url}
    route.update(extra)
    return route


def response_of(ack):
    """The ACK's {"response": ...} object, checked for the field names and types the SDKs read."""
    assert ack["code"] == 200, ack
    response = json.loads(ack["data"])["response"]
    assert isinstance(response["statusLine"]["code"], int), response
    assert isinstance(response["statusLine"]["reasonPhrase"], str), response
    assert all(isinstance(v, str) for v in response["headers"].values()), response
    assert isinstance(response["body"], str), response
    return response


class GraphSkillTest(unittest.TestCase):
    """One bridge, one skill service, many calls."""

    @classmethod
    def setUpClass(cls):
        cls.skill = SkillService()
        cls.emulator = Emulator()
        cls.bridge = Bridge(bridge_config(
            cls.emulator, [graph_route(f"http://127.0.0.1:{cls.skill.port}/skills",
                                       headers="{X-Route-Token: from-config}")],
            **{"admin.listen": "127.0.0.1:0"}))
        cls.emulator.wait_for_connections(1)

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop()
        cls.emulator.stop()
        cls.skill.close()

    def call(self, method, uri, headers=None, body=None):
        request = {"method": method, "uri": uri, "headers": headers or {}}
        if body is not None:
            request["body"] = body
        sent = self.emulator.post("/emulator/graph", request)
        return response_of(self.emulator.wait_for_ack(sent["messageId"]))

    def test_get_with_a_utf8_query_reaches_the_skill(self):
        response = self.call("GET", "/weather?city=%E6%9D%AD%E5%B7%9E")
        self.assertEqual(response["statusLine"], {"code": 200, "reasonPhrase": "OK"})
        self.assertEqual(json.loads(response["body"]),
                         {"city": "杭州", "forecast": "小雨", "celsius": 18})
        self.assertEqual(response["headers"]["content-type"], "application/json; charset=utf-8")
        self.assertEqual(response["headers"]["x-skill"], "ai_skill.py")
        self.assertTrue(all(name == name.lower() for name in response["headers"]))
        self.assertNotIn("connection", response["headers"])

    def test_post_put_delete_pass_method_body_and_headers(self):
        body = '{"text": "今天下雨。明天晴.", "n": 1}\n'
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                response = self.call(method, "/echo?a=1&b=%2F", body=body, headers={
                    "Content-Type": "application/json", "X-Plugin-Id": "plugin-1",
                    "Connection": "close", "Host": "evil.example", "Content-Length": "3",
                    "X-Route-Token": "from-frame", "X-DingTalk-Topic": "forged"})
                self.assertEqual(response["statusLine"]["code"], 200)
                seen = json.loads(response["body"])
                self.assertEqual(seen["method"], method)
                self.assertEqual(seen["path"], "/skills/echo")
                self.assertEqual(seen["query"], "a=1&b=%2F")
                self.assertEqual(seen["body"], body)  # byte for byte
                headers = seen["headers"]
                self.assertEqual(headers["content-type"], "application/json")
                self.assertEqual(headers["x-plugin-id"], "plugin-1")
                self.assertEqual(headers["host"], f"127.0.0.1:{self.skill.port}")  # from the base
                self.assertEqual(headers["content-length"], str(len(body.encode())))
                self.assertEqual(headers["x-route-token"], "from-config")
                self.assertEqual(headers["x-dingtalk-topic"], GRAPH)
                self.assertEqual(headers["x-dingtalk-type"], "CALLBACK")
                self.assertIn("x-dingtalk-message-id", headers)
                self.assertNotIn("expect", headers)
                self.assertNotEqual(headers.get("connection"), "close")

    def test_get_and_head_send_no_body(self):
        seen = json.loads(self.call("GET", "/echo")["body"])
        self.assertEqual(seen["body"], "")
        self.assertNotIn("content-length", seen["headers"])
        self.assertNotIn("content-type", seen["headers"])
        head = self.call("HEAD", "/weather?city=beijing")
        self.assertEqual(head["statusLine"]["code"], 200)
        self.assertEqual(head["body"], "")
        self.assertEqual(head["headers"]["x-skill"], "ai_skill.py")

    def test_the_skills_own_errors_are_passed_on(self):
        for method, uri, body, code in (("GET", "/weather?city=atlantis", None, 404),
                                        ("GET", "/weather", None, 400),
                                        ("POST", "/summarize", "not json", 400),
                                        ("POST", "/summarize", '{"x":1}', 422),
                                        ("GET", "/summarize", None, 405),
                                        ("GET", "/nothing", None, 404)):
            with self.subTest(uri=uri, code=code):
                response = self.call(method, uri, body=body)
                self.assertEqual(response["statusLine"]["code"], code)
                self.assertIn("error", json.loads(response["body"]))
        summary = self.call("POST", "/summarize", body='{"text":"Rain today. Sun tomorrow."}')
        self.assertEqual(json.loads(summary["body"]), {"summary": "Rain today", "words": 4})

    def test_uris_that_leave_the_base_are_not_forwarded(self):
        for uri in ("http://evil.example/x", "//evil.example/x", "/../secret", "/a/%2e%2e/b",
                    "weather", "/a\\b", "/" + "a" * 9000):
            with self.subTest(uri=uri[:40]):
                response = self.call("GET", uri)
                self.assertEqual(response["statusLine"], {"code": 400, "reasonPhrase": "Bad Request"})
                self.assertIn("uri", json.loads(response["body"])["error"])

    def test_the_emulator_control_call_refuses_what_dingtalk_would_not_send(self):
        self.assertIn("uri", self.emulator.post("/emulator/graph", {}, expect=400)["error"])
        self.emulator.post("/emulator/graph", {"uri": "/x", "headers": {"a": 1}}, expect=400)
        self.emulator.post("/emulator/graph", {"uri": "/x", "body": {"a": 1}}, expect=400)
        sent = self.emulator.post("/emulator/graph", {"uri": "/echo"})  # method GET by default
        frame = [f for f in self.emulator.get("/emulator/frames")
                 if f["messageId"] == sent["messageId"]][0]
        self.assertEqual(frame["topic"], GRAPH)
        self.assertEqual(json.loads(frame["data"]),
                         {"requestLine": {"method": "GET", "uri": "/echo"}, "headers": {}, "body": ""})
        self.emulator.wait_for_ack(sent["messageId"])

    def test_a_malformed_graph_request_is_400_and_counted(self):
        line = self.bridge.wait_for_line(r"admin endpoint listening")[0]
        metrics_url = "http://" + re.search(r"address=(\S+)", line).group(1) + "/metrics"

        def malformed_count():
            status, text = http("GET", metrics_url)
            self.assertEqual(status, 200)
            match = re.search(r'^dsb_frames_malformed_total\{app="default",reason="graph_request"\} (\d+)',
                              text, re.M)
            return int(match.group(1)) if match else 0

        before = malformed_count()
        # A header over the 64 KiB cap (a 5 MB one would exceed the emulator's 1 MiB control
        # body; the unit tests parse one).
        cases = ({"headers": {}},
                 {"requestLine": {"method": "GET", "uri": "/echo"}, "body": {"not": "text"}},
                 {"requestLine": {"method": "GET", "uri": "/echo"}, "headers": {"x": "a" * (100 << 10)}})
        for data in cases:
            sent = self.emulator.send_callback(GRAPH, json.dumps(data))
            response = response_of(self.emulator.wait_for_ack(sent["messageId"]))
            self.assertEqual(response["statusLine"]["code"], 400)
            self.assertTrue(json.loads(response["body"])["error"].startswith("graph request: "))
        wait_until(lambda: malformed_count() == before + len(cases), what="the malformed count")
        self.assertTrue(self.bridge.grep(r"malformed frame.*graph request"))


class GraphFailureTest(unittest.TestCase):
    """The bridge's own failures: a skill that is not there, and one too slow."""

    def start(self, url, **extra):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        bridge = Bridge(bridge_config(emulator, [graph_route(url, **extra)]))
        self.addCleanup(bridge.stop)
        emulator.wait_for_connections(1)
        return emulator

    def test_connection_refused_is_502(self):
        gone = StubWebhook()
        port = gone.server.server_address[1]
        gone.close()
        emulator = self.start(f"http://127.0.0.1:{port}/skills")
        sent = emulator.post("/emulator/graph", {"method": "GET", "uri": "/weather"})
        response = response_of(emulator.wait_for_ack(sent["messageId"]))
        self.assertEqual(response["statusLine"], {"code": 502, "reasonPhrase": "Bad Gateway"})
        self.assertEqual(json.loads(response["body"]), {"error": "service unreachable"})
        self.assertEqual(response["headers"], {"content-type": "application/json"})

    def test_no_answer_within_the_route_timeout_is_504(self):
        slow = StubWebhook(delay=3.0)
        self.addCleanup(slow.close)
        emulator = self.start(slow.url + "/skills", timeout="300ms")
        sent = emulator.post("/emulator/graph", {"method": "POST", "uri": "/think", "body": "{}"})
        response = response_of(emulator.wait_for_ack(sent["messageId"]))
        self.assertEqual(response["statusLine"], {"code": 504, "reasonPhrase": "Gateway Timeout"})
        self.assertIn("error", json.loads(response["body"]))
        self.assertEqual(slow.requests[0]["path"], "/skills/think")


if __name__ == "__main__":
    unittest.main()
