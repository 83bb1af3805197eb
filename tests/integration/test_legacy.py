"""Legacy HTTP-push apps work unchanged: the sample legacy app (packaging/examples) behind the
real bridge, against the emulator. A robot message, an event and a card callback go through
end to end; a wrong event reply turns into LATER."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

from harness import (CLIENT_ID, CLIENT_SECRET, SOURCE_DIR, Bridge, Emulator, _Process,
                     bridge_config, http, wait_until)

APP = os.path.join(SOURCE_DIR, "packaging", "examples", "legacy_app.py")
TOKEN = "legacy-token-123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
API_SECRET = "card-api-secret"
ROBOT = "/v1.0/im/bot/messages/get"
CARD = "/v1.0/card/instances/callback"


@unittest.skipIf(shutil.which("openssl") is None, "SKIPPED: the sample app needs the openssl command")
class LegacyAppTest(unittest.TestCase):
    def setUp(self):
        self.app = _Process([sys.executable, APP, "--port", "0", "--client-id", CLIENT_ID,
                             "--client-secret", CLIENT_SECRET, "--token", TOKEN, "--aes-key",
                             AES_KEY, "--api-secret", API_SECRET])
        self.addCleanup(self.app.stop)
        line = self.app.wait_for_line(r"legacy app listening on ")[0]
        self.app_url = "http://" + re.search(r"listening on (\S+)", line).group(1)
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)
        legacy = f'{{token: {TOKEN}, aes_key: {AES_KEY}}}'
        self.bridge = Bridge(bridge_config(self.emulator, [
            {"name": "robot", "topic": ROBOT, "url": self.app_url + "/dingtalk/robot",
             "format": "legacy-robot"},
            {"name": "cards", "topic": CARD, "url": self.app_url + "/dingtalk/card",
             "format": "legacy-card", "legacy": f"{{api_secret: {API_SECRET}}}"},
            {"name": "events", "event": '"*"', "url": self.app_url + "/dingtalk/events",
             "format": "legacy-event", "legacy": legacy},
        ]))
        self.addCleanup(self.bridge.stop)
        self.emulator.wait_for_connections(1)

    def recorded(self, path):
        status, items = http("GET", self.app_url + "/_recorded")
        self.assertEqual(status, 200)
        return [i for i in items if i.get("path", "").startswith(path)]

    def test_robot_message_signed_and_reply_relayed(self):
        sent = self.emulator.send_callback(ROBOT, {"msgId": "legacy-msg-1", "msgtype": "text",
                                                   "text": {"content": "hello legacy"},
                                                   "conversationId": "cid1"})
        self.emulator.wait_for_ack(sent["messageId"])
        replies = wait_until(lambda: self.emulator.get("/emulator/replies"), what="a robot reply")
        self.assertIn("hello legacy", json.dumps(replies[0]["json"]))
        received = self.recorded("/dingtalk/robot")
        self.assertEqual(len(received), 1)
        self.assertEqual(received[0]["verdict"], "accepted")  # timestamp + sign checked

    def test_event_encrypted_and_success_reply_accepted(self):
        sent = self.emulator.send_event("user_add_org", {"userId": ["u-legacy"]})
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(json.loads(ack["data"])["status"], "SUCCESS")
        events = self.recorded("/dingtalk/events")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["verdict"], "accepted")  # signature, decryption, owner key
        plain = json.dumps(events[0])
        self.assertIn("user_add_org", plain)
        self.assertIn("u-legacy", plain)
        self.assertIn(sent["eventId"], plain)

    def test_wrong_event_replies_turn_into_later(self):
        for mode in ("wrong-text", "bad-signature", "wrong-owner", "not-json", "http-500"):
            with self.subTest(mode=mode):
                self.assertEqual(http("POST", self.app_url + "/_control", {"event_reply": mode})[0], 200)
                sent = self.emulator.send_event("user_add_org", {"userId": ["u2"]})
                ack = self.emulator.wait_for_ack(sent["messageId"])
                self.assertEqual(json.loads(ack["data"])["status"], "LATER", mode)

    def test_card_callback_reply_becomes_the_response(self):
        sent = self.emulator.send_callback(CARD, {
            "type": "actionCallback", "outTrackId": "card-1", "corpId": "corp", "userId": "u1",
            "content": json.dumps({"cardPrivateData": {"actionIds": ["1"], "params": {"action": "accept"}}})})
        ack = self.emulator.wait_for_ack(sent["messageId"])
        self.assertEqual(ack["code"], 200)
        response = json.loads(ack["data"])["response"]
        self.assertIn("cardData", response)
        cards = self.recorded("/dingtalk/card")
        self.assertEqual(len(cards), 1)
        self.assertEqual(cards[0]["verdict"], "accepted")  # x-ddpaas-signature checked


if __name__ == "__main__":
    unittest.main()
