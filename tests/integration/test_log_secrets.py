"""Secrets never reach the logs (product.md section 7), at log.level trace, in text and JSON.

The real bridge runs against the emulator, through an HTTP CONNECT proxy with user:password,
in front of the sample legacy app (legacy-robot, legacy-card with api_secret, legacy-event
with token and aes_key) and a raw webhook with a signing_secret. Traffic covers every path
that logs: events and callbacks delivered and failed, a SYSTEM disconnect (a second open
call, a second ticket), a SIGHUP reload that is accepted (a new signing secret) and one that
is rejected (bad secrets in the file), a second bridge with a wrong client_secret (the
rejected-credentials path), and SIGTERM. Then no line of either bridge may contain a secret
(plain, URL-encoded or base64 as in Proxy-Authorization) or a ticket the emulator issued.

The tickets are read off the wire by the proxy: the open call and the websocket upgrade both
travel, unencrypted inside the tunnel, through it (http:// api_base)."""
import base64
import json
import os
import re
import shutil
import signal
import sys
import threading
import unittest
import urllib.parse

from harness import (SOURCE_DIR, Bridge, Emulator, StubWebhook, _Process, bridge_config, http,
                     wait_until)
from streamutil import ConnectProxy

APP = os.path.join(SOURCE_DIR, "packaging", "examples", "legacy_app.py")
ROBOT = "/v1.0/im/bot/messages/get"
CARD = "/v1.0/card/instances/callback"

CLIENT_ID = "dingsecretsclient"
# Distinctive values: none of them can occur in a log line by chance.
SECRETS = {
    "client_secret": "cs-Zq8WvK3pLx-client-secret",
    "signing_secret": "ss-Hb4NrT7yQe-signing-secret",
    "signing_secret_reloaded": "ss-Mu2JcF9aDw-reloaded-secret",
    "legacy_token": "tk-Vg6PsY1oRi-legacy-token",
    "aes_key": "AESKEYq7Wm2Xr9Lp4Tn6Vb8Hc1Jd3Fg5Ks0Zy7Qe2Ua",  # 43 base64 characters
    "api_secret": "as-Ce5XlB8nUt-card-api-secret",
    "wrong_client_secret": "ws-Ko3HyD6gMa-wrong-secret",
    "proxy_password": "pp-Ej7QsW2vZr-proxy-pass",
    "webhook_password": "wp-Rn5DkA8sXo-webhook-pass",  # in a webhook URL's user:password@
    # Only in files the reload rejects: an invalid file must not echo its secrets either.
    "rejected_aes_key": "BADKEYn4Rt8Yp2Wq6Zx0Cv3Bn7Mk1Lj5Hg9Fd2Sa",  # 42 characters
    "rejected_signing_secret": "ss-Tw1PoI9uYq-rejected-secret",
}
PROXY_USER = "bridge-proxy-user"


class RecordingProxy(ConnectProxy):
    """The CONNECT proxy of streamutil, also keeping every byte it relays, both ways."""

    def __init__(self):
        self.wire = []
        self._wire_lock = threading.Lock()
        super().__init__()

    def _pipe(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._wire_lock:
                    self.wire.append(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):  # both directions end together; closing twice is harmless
                try:
                    s.shutdown(2)
                except OSError:
                    pass
                s.close()

    def tickets(self):
        with self._wire_lock:
            text = b"".join(self.wire).decode("latin-1")
        found = set(re.findall(r'"ticket"\s*:\s*"([^"]+)"', text))
        found.update(re.findall(r"[?&]ticket=([^&\s]+)", text))
        return found


def variants(secret):
    """The forms a leaked secret could take in a log line."""
    return {secret, urllib.parse.quote(secret, safe=""), json.dumps(secret)[1:-1]}


@unittest.skipIf(shutil.which("openssl") is None, "SKIPPED: the sample app needs the openssl command")
class LogSecretsTest(unittest.TestCase):
    def setUp(self):
        self.app = _Process([sys.executable, APP, "--port", "0", "--client-id", CLIENT_ID,
                             "--client-secret", SECRETS["client_secret"],
                             "--token", SECRETS["legacy_token"], "--aes-key", SECRETS["aes_key"],
                             "--api-secret", SECRETS["api_secret"]])
        self.addCleanup(self.app.stop)
        line = self.app.wait_for_line(r"legacy app listening on ")[0]
        self.app_url = "http://" + re.search(r"listening on (\S+)", line).group(1)
        self.webhook = StubWebhook()
        self.addCleanup(self.webhook.close)
        self.proxy = RecordingProxy()
        self.addCleanup(self.proxy.close)
        self.emu = Emulator(client_id=CLIENT_ID, client_secret=SECRETS["client_secret"])
        self.addCleanup(self.emu.stop)

    def config(self, log_format, signing_secret, client_secret=None, aes_key=None, extra_route="",
               state_dir=None):
        legacy_event = (f'{{token: {SECRETS["legacy_token"]}, '
                        f'aes_key: {aes_key or SECRETS["aes_key"]}}}')
        hook_url = self.webhook.url.replace("://", f"://hook:{SECRETS['webhook_password']}@")
        routes = [
            {"name": "robot", "topic": ROBOT, "url": self.app_url + "/dingtalk/robot",
             "format": "legacy-robot"},
            {"name": "cards", "topic": CARD, "url": self.app_url + "/dingtalk/card",
             "format": "legacy-card", "legacy": f'{{api_secret: {SECRETS["api_secret"]}}}'},
            {"name": "approvals", "event": '"bpms_*"', "url": self.app_url + "/dingtalk/events",
             "format": "legacy-event", "legacy": legacy_event},
            {"name": "spooled", "event": "user_leave_org", "url": hook_url + "/spooled",
             "delivery": "spool",
             "retry": "{max_attempts: 2, backoff: {initial: 100ms, max: 200ms}}"},
            {"name": "raw", "event": '"*"', "url": hook_url + "/raw",
             "signing_secret": signing_secret},
        ]
        text = bridge_config(self.emu, routes, **{
            "dingtalk.client_id": CLIENT_ID,
            "dingtalk.client_secret": client_secret or SECRETS["client_secret"],
            "dingtalk.proxy": (f"http://{PROXY_USER}:{SECRETS['proxy_password']}"
                               f"@127.0.0.1:{self.proxy.port}"),
            "dingtalk.reconnect.initial": "200ms",
            "dingtalk.reconnect.max": "1s",
            "log.level": "trace",
            "log.format": log_format,
        })
        if state_dir:
            text += f"state_dir: {state_dir}\n"
        return text + extra_route

    def drive(self, log_format):
        bridge = Bridge(self.config(log_format, SECRETS["signing_secret"]))
        self.addCleanup(bridge.stop)
        first = self.emu.wait_for_connections(1)[0]["id"]

        # Delivered: a robot message (signed with client_secret, reply relayed), a card
        # callback (api_secret signature), a legacy event (token + aes_key), a signed raw event.
        sent = [
            self.emu.send_callback(ROBOT, {"msgId": "secrets-msg-1", "msgtype": "text",
                                           "text": {"content": "hello"}, "conversationId": "c1"}),
            self.emu.send_callback(CARD, {"type": "actionCallback", "outTrackId": "card-1",
                                          "corpId": "corp", "userId": "u1",
                                          "content": json.dumps({"cardPrivateData": {}})}),
            self.emu.send_event("bpms_task_change", {"processInstanceId": "p1"}),
            self.emu.send_event("user_add_org", {"userId": ["u1"]}),
        ]
        for frame in sent:
            self.emu.wait_for_ack(frame["messageId"])
        # Failed: the webhook answers 500 (direct: LATER; spooled: retried, then dead-lettered),
        # the legacy app replies with a bad signature.
        self.webhook.status = 500
        self.assertEqual(http("POST", self.app_url + "/_control",
                              {"event_reply": "bad-signature"})[0], 200)
        for frame in (self.emu.send_event("user_modify_org", {"userId": ["u2"]}),
                      self.emu.send_event("bpms_instance_change", {"processInstanceId": "p2"})):
            ack = self.emu.wait_for_ack(frame["messageId"])
            self.assertEqual(json.loads(ack["data"])["status"], "LATER")
        self.emu.send_event("user_leave_org", {"userId": ["u2"]})
        bridge.wait_for_line(r"spooled delivery dead-lettered")
        self.webhook.status = 200

        # A SYSTEM disconnect: a second open call, a second ticket, make-before-break.
        self.emu.post("/emulator/system/disconnect", {"reason": "secrets test"})
        wait_until(lambda: [c for c in self.emu.connections("open") if c["id"] != first],
                   10, what="the replacement connection")

        # SIGHUP: accepted (new signing secret), then rejected (bad secrets in the file).
        state = os.path.join(bridge.dir.name, "state")  # as Bridge wrote it: unchanged
        with open(bridge.config_path, "w") as f:
            f.write(self.config(log_format, SECRETS["signing_secret_reloaded"], state_dir=state))
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"config reloaded")
        frame = self.emu.send_event("user_modify_org", {"userId": ["u3"]})
        self.emu.wait_for_ack(frame["messageId"])
        bad_route = ("  - name: bad\n    event: org_*\n    url: http://127.0.0.1:9/x\n"
                     f"    signing_secret: {SECRETS['rejected_signing_secret']}\n"
                     f"    signing_secert: {SECRETS['rejected_signing_secret']}\n")
        with open(bridge.config_path, "w") as f:
            f.write(self.config(log_format, SECRETS["signing_secret_reloaded"],
                                aes_key=SECRETS["rejected_aes_key"], extra_route=bad_route,
                                state_dir=state))
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"reload rejected")

        # Wrong credentials: a second bridge that the emulator turns away.
        wrong = Bridge(self.config(log_format, SECRETS["signing_secret"],
                                   client_secret=SECRETS["wrong_client_secret"]))
        self.addCleanup(wrong.stop)
        wrong.wait_for_line(r"rejected credentials")
        wrong.stop()
        self.assertEqual(bridge.stop(), 0)

        tickets = self.proxy.tickets()
        self.assertGreaterEqual(len(tickets), 2, "the proxy saw no tickets: is the open call proxied?")
        return bridge.output() + wrong.output(), tickets

    def check(self, lines, tickets, log_format):
        self.assertTrue(lines)
        forbidden = {}
        for name, secret in SECRETS.items():
            for form in variants(secret):
                forbidden[form] = name
        userpass = f"{PROXY_USER}:{SECRETS['proxy_password']}".encode()
        forbidden[base64.b64encode(userpass).decode()] = "proxy credentials (base64)"
        for ticket in tickets:
            forbidden[ticket] = "a ticket the emulator issued"
        for line in lines:
            for value, name in forbidden.items():
                self.assertNotIn(value, line, f"{name} leaked in: {line}")
            # Any ticket we did not see on the wire would still show as ticket=<not ***>.
            for m in re.finditer(r"ticket=([^&\s\"\\]*)", line):
                self.assertEqual(m.group(1), "***", f"unredacted ticket in: {line}")
            if log_format == "json":
                try:
                    record = json.loads(line)
                except ValueError:
                    self.fail(f"not a JSON line: {line!r}")
                self.assertIsInstance(record, dict, line)
        # The run really went through the paths that matter.
        text = "\n".join(lines)
        for needle in ("delivery failed", "spooled delivery failed", "rejected credentials", "reload rejected", "config reloaded",
                       "using HTTP proxy", "disconnect requested by gateway"):
            self.assertIn(needle, text)

    def test_text_format(self):
        lines, tickets = self.drive("text")
        self.check(lines, tickets, "text")

    def test_json_format(self):
        lines, tickets = self.drive("json")
        self.check(lines, tickets, "json")


if __name__ == "__main__":
    unittest.main()
