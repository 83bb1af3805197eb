"""`dingtalk-stream-bridge emulate` over real sockets: the open call, tickets, the websocket,
frame injection, ACK recording, raw/fragmented frames, disconnect, faults, redelivery."""
import json
import socket
import time
import unittest

from harness import CLIENT_ID, CLIENT_SECRET, Emulator, http, wait_until
from wsclient import OP_BINARY, OP_TEXT, Closed, HandshakeError, WebSocket, ack

ROBOT = "/v1.0/im/bot/messages/get"
ALL = [{"type": "EVENT", "topic": "*"}, {"type": "CALLBACK", "topic": ROBOT}]


class EmulatorTest(unittest.TestCase):
    def setUp(self):
        self.emu = Emulator()
        self.sockets = []

    def tearDown(self):
        for ws in self.sockets:
            ws.close()
        code = self.emu.stop()
        self.assertEqual(code, 0, "the emulator exits 0 on SIGTERM")

    def open_call(self, subscriptions=None, secret=CLIENT_SECRET, **extra):
        body = {"clientId": CLIENT_ID, "clientSecret": secret,
                "subscriptions": ALL if subscriptions is None else subscriptions,
                "ua": "test-emulator/1", "localIp": "10.0.0.1"}
        body.update(extra)
        return http("POST", self.emu.base + "/v1.0/gateway/connections/open", body,
                    headers={"Accept": "application/json"})

    def connect_one(self, subscriptions=None):
        status, value = self.open_call(subscriptions)
        self.assertEqual(status, 200, value)
        count = len(self.emu.connections())
        ws = WebSocket(f"{value['endpoint']}?ticket={value['ticket']}")
        self.sockets.append(ws)
        wait_until(lambda: len(self.emu.connections()) > count, what="the connection record")
        return ws, self.emu.connections()[-1]["id"]

    # --- the open call ---------------------------------------------------------------------
    def test_open_call_checks_credentials_and_body(self):
        status, value = self.open_call()
        self.assertEqual(status, 200)
        self.assertEqual(value["endpoint"], f"ws://{self.emu.address}/connect")
        self.assertTrue(len(value["ticket"]) >= 16)
        status, value = self.open_call(secret="wrong")
        self.assertEqual(status, 401)
        self.assertEqual(value["code"], "InvalidAuthentication")
        status, _ = http("POST", self.emu.base + "/v1.0/gateway/connections/open", b"{not json")
        self.assertEqual(status, 400)
        status, _ = self.open_call(subscriptions="nope")
        self.assertEqual(status, 400)
        opens = self.emu.get("/emulator/opens")
        self.assertEqual([o["status"] for o in opens], [200, 401, 400, 400])
        self.assertEqual(opens[0]["accept"], "application/json")
        self.assertEqual(opens[0]["ua"], "test-emulator/1")
        self.assertEqual(opens[0]["localIp"], "10.0.0.1")
        self.assertEqual(opens[0]["subscriptions"], ALL)
        self.assertNotIn(CLIENT_SECRET, json.dumps(opens))
        self.assertFalse(self.emu.grep(CLIENT_SECRET), "the secret never reaches the log")

    def test_ticket_is_single_use(self):
        status, value = self.open_call()
        url = f"{value['endpoint']}?ticket={value['ticket']}"
        ws = WebSocket(url)
        self.sockets.append(ws)
        with self.assertRaises(HandshakeError) as reuse:
            WebSocket(url)
        self.assertEqual(reuse.exception.status, 403)
        with self.assertRaises(HandshakeError) as unknown:
            WebSocket(f"{value['endpoint']}?ticket=not-a-ticket")
        self.assertEqual(unknown.exception.status, 401)
        with self.assertRaises(HandshakeError) as missing:
            WebSocket(value["endpoint"])
        self.assertEqual(missing.exception.status, 401)
        conns = self.emu.wait_for_connections(1)
        self.assertEqual(len(self.emu.connections()), 1)
        self.assertEqual(conns[0]["ua"], "test-emulator/1")
        self.assertEqual(conns[0]["subscriptions"], ALL)

    def test_access_token(self):
        url = self.emu.base + "/v1.0/oauth2/accessToken"
        status, first = http("POST", url, {"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET})
        self.assertEqual(status, 200)
        self.assertEqual(first["expireIn"], 7200)
        _, second = http("POST", url, {"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET})
        self.assertEqual(first["accessToken"], second["accessToken"])
        status, _ = http("POST", url, {"appKey": CLIENT_ID, "appSecret": "x"})
        self.assertEqual(status, 401)

    # --- frames and ACKs -------------------------------------------------------------------
    def test_event_is_delivered_and_its_ack_recorded(self):
        ws, conn = self.connect_one()
        sent = self.emu.send_event("user_add_org", data={"userId": ["u1"]})
        self.assertEqual(sent["connection"], conn)
        frame = ws.recv_json()
        self.assertEqual(frame["specVersion"], "1.0")
        self.assertEqual(frame["type"], "EVENT")
        headers = frame["headers"]
        self.assertEqual(headers["messageId"], sent["messageId"])
        self.assertEqual(headers["eventId"], sent["eventId"])
        self.assertEqual(headers["eventType"], "user_add_org")
        self.assertEqual(headers["topic"], "*")
        for name in ("time", "eventBornTime", "eventCorpId", "eventUnifiedAppId", "contentType"):
            self.assertIsInstance(headers[name], str, name)
        self.assertEqual(json.loads(frame["data"]), {"userId": ["u1"]})
        ws.send_json(ack(frame, data={"status": "SUCCESS", "message": "ok"}))
        got = self.emu.wait_for_ack(sent["messageId"])
        self.assertEqual(got["code"], 200)
        self.assertEqual(got["status"], "SUCCESS")
        self.assertEqual(got["connection"], conn)
        frames = self.emu.get("/emulator/frames")
        self.assertEqual(frames[0]["ack"]["status"], "SUCCESS")

    def test_only_subscribed_frames_are_delivered(self):
        ws, conn = self.connect_one([{"type": "CALLBACK", "topic": ROBOT}])
        status, value = self.emu.api("POST", "/emulator/frames", {"type": "EVENT"})
        self.assertEqual(status, 409, value)
        status, value = self.emu.api("POST", "/emulator/frames",
                                     {"type": "CALLBACK", "topic": "/v1.0/card/instances/callback"})
        self.assertEqual(status, 409, value)
        sent = self.emu.send_callback(ROBOT, {"msgId": "m1", "msgtype": "text"})
        frame = ws.recv_json()
        self.assertEqual(frame["headers"]["messageId"], sent["messageId"])
        data = json.loads(frame["data"])
        self.assertTrue(data["sessionWebhook"].startswith(self.emu.base + "/robot/sendBySession?session="))
        self.assertGreater(data["sessionWebhookExpiredTime"], time.time() * 1000 + 80 * 60 * 1000)
        status, value = http("POST", data["sessionWebhook"], {"msgtype": "text", "text": {"content": "hi"}})
        self.assertEqual((status, value), (200, {"errcode": 0, "errmsg": "ok"}))
        replies = self.emu.get("/emulator/replies")
        self.assertEqual(replies[0]["json"]["text"]["content"], "hi")
        self.assertEqual(replies[0]["session"], data["sessionWebhook"].split("session=")[1])

    def test_no_connection_is_409(self):
        status, value = self.emu.api("POST", "/emulator/frames", {"type": "EVENT"})
        self.assertEqual((status, value), (409, {"error": "no open connection"}))

    def test_invalid_acks_are_recorded(self):
        self.emu.check_acks = False  # sent on purpose
        ws, _ = self.connect_one()
        ws.send_text("not json at all")
        ws.send_json({"headers": {"messageId": "m-1"}, "code": "200"})
        acks = wait_until(lambda: len(self.emu.acks()) >= 2 and self.emu.acks(), what="two ACKs")
        self.assertEqual(acks[0]["invalid"], "not JSON")
        self.assertEqual(acks[1]["invalid"], "code missing or not an integer")
        self.assertEqual(acks[1]["messageId"], "m-1")
        violations = self.emu.get("/emulator/ack-violations")
        self.assertEqual(violations["count"], 2)
        self.assertEqual(violations["violations"][0]["problems"], ["not JSON"])
        self.assertIn("headers.contentType is not \"application/json\"",
                      violations["violations"][1]["problems"])

    def test_acks_in_the_sdk_shape_are_no_violation(self):
        ws, _ = self.connect_one()
        sent = self.emu.send_event()
        frame = ws.recv_json()
        ws.send_json(ack(frame, data={"status": "SUCCESS", "message": "ok"}))
        self.emu.wait_for_ack(sent["messageId"])
        self.assertEqual(self.emu.get("/emulator/ack-violations"), {"count": 0, "violations": []})

    def test_system_ping_ack_echoes_data(self):
        ws, conn = self.connect_one()
        sent = self.emu.post("/emulator/system/ping", {})
        frame = ws.recv_json()
        self.assertEqual(frame["type"], "SYSTEM")
        self.assertEqual(frame["headers"]["topic"], "ping")
        self.assertEqual(json.loads(frame["data"]), {"opaque": sent["opaque"]})
        ws.send_json(ack(frame, data=frame["data"]))
        got = self.emu.wait_for_ack(sent["messageId"])
        self.assertEqual(got["data"], frame["data"])

    def test_raw_frames_and_fragments(self):
        ws, conn = self.connect_one()
        text = "{\"half\": " + "x" * 50
        self.emu.post("/emulator/raw", {"text": text, "fragments": 3})
        frames = []
        opcode, payload = ws.recv_message(frames=frames)
        self.assertEqual((opcode, payload.decode()), (OP_TEXT, text))
        self.assertEqual([f[0] for f in frames], [False, False, True])
        self.assertEqual(frames[0][1], OP_TEXT)
        self.assertEqual(frames[1][1], 0)
        self.emu.post("/emulator/raw", {"text": "bin", "binary": True})
        opcode, payload = ws.recv_message()
        self.assertEqual((opcode, payload), (OP_BINARY, b"bin"))

    def test_redeliver_resends_unacked_and_later(self):
        ws, _ = self.connect_one()
        a = self.emu.send_event()
        b = self.emu.send_event()
        c = self.emu.send_event()
        fa, fb, fc = ws.recv_json(), ws.recv_json(), ws.recv_json()
        ws.send_json(ack(fa, data={"status": "SUCCESS"}))
        ws.send_json(ack(fb, data={"status": "LATER"}))
        self.emu.wait_for_ack(b["messageId"])
        self.assertEqual(self.emu.post("/emulator/redeliver", {}), {"redelivered": 2})
        again = [ws.recv_json(), ws.recv_json()]
        self.assertEqual(again, [fb, fc], "same messageId, eventId and headers")
        self.assertEqual(self.emu.post("/emulator/redeliver", {}), {"redelivered": 2})

    def test_websocket_pings_are_answered(self):
        ws, _ = self.connect_one()
        ws.ping(b"are-you-there")
        self.emu.post("/emulator/system/ping", {})
        ws.recv_json()
        wait_until(lambda: ws.pongs, what="a pong")
        self.assertEqual(ws.pongs[0], b"are-you-there")

    # --- disconnect and faults --------------------------------------------------------------
    def test_disconnect_then_server_closes_after_10s(self):
        ws, conn = self.connect_one()
        sent = self.emu.post("/emulator/system/disconnect", {"reason": "persistent connection is timeout"})
        frame = ws.recv_json()
        started = time.monotonic()
        self.assertEqual(frame["headers"]["topic"], "disconnect")
        self.assertEqual(frame["headers"]["messageId"], sent["messageId"])
        self.assertEqual(json.loads(frame["data"]), {"reason": "persistent connection is timeout"})
        status, _ = self.emu.api("POST", "/emulator/frames", {"type": "EVENT"})
        self.assertEqual(status, 409, "no frames after a disconnect")
        closed = ws.wait_closed(timeout=15)
        elapsed = time.monotonic() - started
        self.assertEqual(closed.code, 1000)
        self.assertGreater(elapsed, 9.0)
        self.assertLess(elapsed, 12.0)
        conns = wait_until(lambda: self.emu.connections("closed"), what="the closed record")
        self.assertIn("after disconnect", conns[0]["closeReason"])

    def test_client_may_close_first_after_disconnect(self):
        ws, conn = self.connect_one()
        self.emu.post("/emulator/system/disconnect", {})
        ws.recv_json()
        ws.close()
        conns = wait_until(lambda: self.emu.connections("closed"), what="the closed record")
        self.assertEqual(conns[0]["closeReason"], "closed by client")

    def test_fault_close_sends_a_close_frame(self):
        ws, conn = self.connect_one()
        self.assertEqual(self.emu.post("/emulator/faults", {"action": "close"}), {"connections": [conn]})
        self.assertEqual(ws.wait_closed().code, 1000)

    def test_fault_drop_closes_tcp_without_close_frame(self):
        ws, conn = self.connect_one()
        self.emu.post("/emulator/faults", {"action": "drop", "connection": conn})
        closed = ws.wait_closed()
        self.assertIsNone(closed.code)
        wait_until(lambda: self.emu.connections("closed"), what="the closed record")

    def test_fault_silence_keeps_tcp_but_stops_reading(self):
        ws, conn = self.connect_one()
        self.emu.post("/emulator/faults", {"action": "silence"})
        time.sleep(0.2)
        ws.ping(b"hello?")
        ws.send_json({"code": 200, "headers": {"messageId": "x"}, "message": "OK", "data": "{}"})
        with self.assertRaises(socket.timeout):
            ws.recv_message(timeout=1.0)
        self.assertEqual(ws.pongs, [])
        self.assertEqual(self.emu.acks(), [])
        conns = self.emu.connections()
        self.assertEqual(conns[0]["state"], "open")
        self.assertTrue(conns[0]["silenced"])

    def test_control_api_errors(self):
        status, _ = self.emu.api("POST", "/emulator/frames", {"type": "WHAT"})
        self.assertEqual(status, 400)
        status, _ = self.emu.api("POST", "/emulator/faults", {"action": "explode"})
        self.assertEqual(status, 400)
        status, _ = self.emu.api("GET", "/emulator/nope")
        self.assertEqual(status, 404)
        self.assertEqual(self.emu.post("/emulator/reset", {}), {"ok": True})


if __name__ == "__main__":
    unittest.main()
