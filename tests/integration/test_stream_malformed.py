"""Malformed frames never crash or stall the connection; a 400 ACK goes back whenever the
messageId is known (product.md section 4)."""
import json
import unittest

from streamutil import Emulator, start, stop_all, wait_until, harness


def event_text(message_id, data='{"userId":["u1"]}', pad=0):
    frame = {"specVersion": "1.0", "type": "EVENT",
             "headers": {"messageId": message_id, "topic": "*", "contentType": "application/json",
                         "eventType": "user_add_org", "eventId": "ev-" + message_id,
                         "time": "1700000000000", "eventBornTime": "1700000000000",
                         "eventCorpId": "corp"},
             "data": data}
    if pad:
        frame["data"] = json.dumps({"blob": "x" * pad})
    return json.dumps(frame)


class StreamMalformedTest(unittest.TestCase):
    def setUp(self):
        self.webhook = harness.StubWebhook()
        self.addCleanup(self.webhook.close)
        self.emu = Emulator()
        self.bridge = start(self.emu, routes=[{"name": "events", "event": '"*"',
                                               "url": self.webhook.url + "/events"}],
                            **{"limits.max_frame": "2KiB"})
        self.addCleanup(lambda: stop_all(self.bridge, self.emu))
        self.conn = self.emu.wait_for_connections(1)[0]["id"]

    def raw(self, text, binary=False, fragments=1):
        return self.emu.post("/emulator/raw", {"text": text, "binary": binary,
                                               "fragments": fragments, "connection": self.conn})

    def assert_still_working(self):
        sent = self.emu.send_event(connection=self.conn)
        self.assertEqual(self.emu.wait_for_ack(sent["messageId"])["status"], "SUCCESS")
        self.assertEqual([c["id"] for c in self.emu.connections()], [self.conn])

    def assert_400(self, message_id):
        ack = self.emu.wait_for_ack(message_id)
        self.assertEqual(ack["code"], 400, ack)
        return ack

    def test_bad_json_without_message_id(self):
        self.raw("{this is not json")
        line = self.bridge.wait_for_line(r"malformed frame .*reason=\"invalid JSON")[0]
        self.assertIn('messageId=""', line)
        self.assert_still_working()

    def test_missing_fields_acked_400(self):
        self.raw(json.dumps({"type": "EVENT", "headers": {"messageId": "mf-1", "topic": "*"}}))
        ack = self.assert_400("mf-1")
        self.assertIn("data", ack["message"])
        self.bridge.wait_for_line(r"malformed frame .*messageId=mf-1")
        self.assert_still_working()

    def test_wrong_types_acked_400(self):
        self.raw(json.dumps({"type": "EVENT", "headers": {"messageId": "mf-2", "topic": "*"},
                             "data": 5}))
        self.raw(json.dumps({"type": "EVENT", "headers": {"messageId": "mf-3", "topic": 7},
                             "data": "{}"}))
        self.raw(json.dumps({"type": "WHAT", "headers": {"messageId": "mf-4", "topic": "*"},
                             "data": "{}"}))
        self.raw(event_text("mf-5", data="not json inside"))
        for mid in ("mf-2", "mf-3", "mf-4", "mf-5"):
            self.assert_400(mid)
        self.assert_still_working()

    def test_binary_message(self):
        self.raw(event_text("mf-bin"), binary=True, fragments=3)
        self.bridge.wait_for_line(r"malformed frame .*reason=\"binary message\"")
        self.assert_still_working()
        self.assertEqual(self.emu.acks("mf-bin"), [])

    def test_oversized_message_discarded_and_acked_400(self):
        text = event_text("mf-big", pad=6000)
        self.assertGreater(len(text), 2048)
        self.raw(text, fragments=8)  # the first fragment (< 2 KiB) shows the messageId
        ack = self.assert_400("mf-big")
        self.assertIn("max_frame", ack["message"])
        self.bridge.wait_for_line(r"malformed frame .*exceeds limits.max_frame")
        self.assert_still_working()

    def test_oversized_single_frame_without_id(self):
        self.raw(event_text("mf-big2", pad=6000), fragments=1)
        self.bridge.wait_for_line(r"malformed frame .*exceeds limits.max_frame")
        self.assert_still_working()

    def test_fragmented_valid_frame_is_reassembled(self):
        self.raw(event_text("mf-frag", pad=1000), fragments=7)
        ack = self.emu.wait_for_ack("mf-frag")
        self.assertEqual(ack["code"], 200)
        self.assertEqual(ack["status"], "SUCCESS")
        self.assert_still_working()


if __name__ == "__main__":
    unittest.main()
