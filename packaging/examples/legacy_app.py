#!/usr/bin/env python3
"""A sample "legacy" DingTalk HTTP-push app, written the way such apps were written before
Stream mode: it trusts nothing but DingTalk's own signatures. Point dingtalk-stream-bridge
routes with format legacy-robot, legacy-event and legacy-card at it (see
legacy-app.example.yaml next to this file) to see the bridge stand in for DingTalk.

Python 3 standard library only. The standard library has no AES, so AES-256-CBC runs
through the `openssl enc` command (openssl must be on PATH); the scheme's own 32-byte pad
is done here, and openssl runs with -nopad. Everything else (SHA-1, HMAC-SHA256, Base64)
is hashlib / hmac / base64.

Endpoints (on 127.0.0.1 unless --host says otherwise):
  POST /dingtalk/robot    checks headers `timestamp` and `sign` (401 when wrong or more than
                          1 h off), answers a text message echoing the received text.
  POST /dingtalk/events   checks `msg_signature` (or `signature`), decrypts `encrypt`,
                          checks the owner key, records the event, answers the encrypted
                          "success" (or a deliberately wrong reply, see --event-reply).
  POST /dingtalk/card     checks x-ddpaas-signature when --api-secret is set, answers a
                          cardData update with the clicked action.
  GET  /_recorded         JSON list of everything received (for tests).
  POST /_control          {"event_reply": MODE} switches the event reply mode at run time.

Configuration: arguments, or the environment variables named in --help. The port may be 0;
the chosen one is printed as "legacy app listening on HOST:PORT". In a container of its own
(packaging/docker-compose.example.yaml) it listens on --host 0.0.0.0, so the bridge's
container reaches it by its service name.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import string
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAD_BLOCK = 32  # DingTalk pads to 32 bytes although AES blocks are 16
ALPHANUMERIC = string.ascii_letters + string.digits
SIGN_WINDOW_MS = 3_600_000
EVENT_REPLY_MODES = ("success", "wrong-text", "bad-signature", "wrong-owner", "not-json", "http-500")


class CryptoError(Exception):
    pass


class CallbackCrypto:
    """DingTalk's event crypto, as the official DingCallbackCrypto classes do it."""

    def __init__(self, token, aes_key, owner_key):
        self.token = token
        # Base64(aes_key + "="): Python's non-strict decoder drops the spare bits that the
        # official keys have set, as it must.
        self.key = base64.b64decode(aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("aes_key must be 43 Base64 characters (32 bytes)")
        self.owner_key = owner_key

    def _openssl(self, decrypt, data):
        args = ["openssl", "enc", "-aes-256-cbc", "-nopad", "-K", self.key.hex(), "-iv", self.key[:16].hex()]
        if decrypt:
            args.append("-d")
        result = subprocess.run(args, input=data, capture_output=True, check=False)
        if result.returncode != 0:
            raise CryptoError("openssl enc failed: " + result.stderr.decode(errors="replace").strip())
        return result.stdout

    def signature(self, timestamp, nonce, encrypt):
        joined = "".join(sorted([self.token, timestamp, nonce, encrypt]))
        return hashlib.sha1(joined.encode()).hexdigest()

    def encrypt(self, message, owner_key=None):
        data = message.encode()
        plain = "".join(secrets.choice(ALPHANUMERIC) for _ in range(16)).encode()
        plain += len(data).to_bytes(4, "big") + data + (owner_key or self.owner_key).encode()
        pad = PAD_BLOCK - len(plain) % PAD_BLOCK
        plain += bytes([pad]) * pad
        return base64.b64encode(self._openssl(False, plain)).decode()

    def decrypt(self, encrypt):
        try:
            cipher = base64.b64decode("".join(encrypt.split()), validate=True)
        except ValueError as e:
            raise CryptoError("encrypt is not Base64") from e
        if not cipher or len(cipher) % 16:
            raise CryptoError("ciphertext is not whole AES blocks")
        plain = self._openssl(True, cipher)
        pad = plain[-1]
        if not 1 <= pad <= PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        length = int.from_bytes(plain[16:20], "big")
        if 20 + length > len(plain):
            raise CryptoError("length field too large")
        message, owner = plain[20:20 + length], plain[20 + length:]
        if owner.decode(errors="replace") != self.owner_key:
            raise CryptoError("owner key mismatch: %r" % owner.decode(errors="replace"))
        return message.decode()

    def reply(self, message, mode="success"):
        timestamp = str(int(time.time() * 1000))
        nonce = "".join(secrets.choice(ALPHANUMERIC) for _ in range(16))
        owner = "dingwrongownerkey" if mode == "wrong-owner" else None
        encrypt = self.encrypt(message, owner)
        signature = self.signature(timestamp, nonce, encrypt)
        if mode == "bad-signature":
            signature = "0" * 40
        return {"msg_signature": signature, "timeStamp": timestamp, "nonce": nonce, "encrypt": encrypt}


def robot_sign(secret, timestamp):
    digest = hmac.new(secret.encode(), (timestamp + "\n" + secret).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def card_sign(api_secret, timestamp):
    digest = hmac.new(api_secret.encode(), timestamp.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class App:
    def __init__(self, options):
        self.options = options
        self.lock = threading.Lock()
        self.recorded = []
        self.event_reply = options.event_reply
        self.crypto = None
        if options.token and options.aes_key:
            self.crypto = CallbackCrypto(options.token, options.aes_key, options.owner_key or options.client_id)

    def record(self, entry):
        with self.lock:
            self.recorded.append(entry)


class Handler(BaseHTTPRequestHandler):
    server_version = "legacy-app/1"
    app = None  # set in main()

    def log_message(self, fmt, *args):  # noqa: N802 (BaseHTTPRequestHandler API)
        if not self.app.options.quiet:
            sys.stderr.write("legacy app: %s\n" % (fmt % args))

    def _send(self, status, body=b"", content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _record(self, path, body, **extra):
        entry = {"path": path, "query": self.query, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body.decode(errors="replace"), "time_ms": int(time.time() * 1000)}
        entry.update(extra)
        self.app.record(entry)

    def do_GET(self):  # noqa: N802
        if urlsplit(self.path).path == "/_recorded":
            with self.app.lock:
                self._send(200, list(self.app.recorded))
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):  # noqa: N802
        parts = urlsplit(self.path)
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self._body()
        route = {"/dingtalk/robot": self.robot, "/dingtalk/events": self.events,
                 "/dingtalk/card": self.card, "/_control": self.control}.get(parts.path)
        if route is None:
            self._send(404, {"error": "not found"})
            return
        route(parts.path, body)

    def robot(self, path, body):
        timestamp = self.headers.get("timestamp", "")
        sign = self.headers.get("sign", "")
        now = int(time.time() * 1000)
        if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGN_WINDOW_MS:
            self._record(path, body, verdict="rejected: timestamp")
            self._send(401, {"error": "timestamp missing or more than 1 h off"})
            return
        if not hmac.compare_digest(sign, robot_sign(self.app.options.client_secret, timestamp)):
            self._record(path, body, verdict="rejected: sign")
            self._send(401, {"error": "bad sign"})
            return
        message = json.loads(body or b"{}")
        content = (message.get("text") or {}).get("content")
        self._record(path, body, verdict="accepted", message=message)
        if content is None:
            self._send(200, {"msgtype": "empty"})
        else:
            self._send(200, {"msgtype": "text", "text": {"content": "echo:" + content}})

    def events(self, path, body):
        crypto = self.app.crypto
        if crypto is None:
            self._send(500, {"error": "no token / aes key configured"})
            return
        signature = self.query.get("msg_signature") or self.query.get("signature", "")
        timestamp = self.query.get("timeStamp") or self.query.get("timestamp", "")
        nonce = self.query.get("nonce", "")
        try:
            encrypt = json.loads(body)["encrypt"]
        except (ValueError, KeyError, TypeError):
            self._record(path, body, verdict="rejected: body")
            self._send(400, {"error": "body must be {\"encrypt\": ...}"})
            return
        if not hmac.compare_digest(signature, crypto.signature(timestamp, nonce, encrypt)):
            self._record(path, body, verdict="rejected: signature")
            self._send(403, {"error": "bad signature"})
            return
        try:
            plaintext = crypto.decrypt(encrypt)
            event = json.loads(plaintext)
        except (CryptoError, ValueError) as e:
            self._record(path, body, verdict="rejected: " + str(e))
            self._send(400, {"error": str(e)})
            return
        self._record(path, body, verdict="accepted", event=event, plaintext=plaintext)
        mode = self.app.event_reply
        if mode == "http-500":
            self._send(500, {"error": "asked to fail"})
        elif mode == "not-json":
            self._send(200, "success", "text/plain")
        else:
            self._send(200, crypto.reply("fail" if mode == "wrong-text" else "success", mode))

    def card(self, path, body):
        api_secret = self.app.options.api_secret
        if api_secret:
            timestamp = self.headers.get("x-ddpaas-signature-timestamp", "")
            signature = self.headers.get("x-ddpaas-signature", "")
            if not hmac.compare_digest(signature, card_sign(api_secret, timestamp)):
                self._record(path, body, verdict="rejected: signature")
                self._send(401, {"error": "bad x-ddpaas-signature"})
                return
        try:
            callback = json.loads(body)
            content = json.loads(callback.get("content") or "{}")
            action = ((content.get("cardPrivateData") or {}).get("params") or {}).get("action", "clicked")
        except (ValueError, AttributeError):
            self._record(path, body, verdict="rejected: body")
            self._send(400, {"error": "not a card callback"})
            return
        self._record(path, body, verdict="accepted", callback=callback)
        self._send(200, {"cardData": {"cardParamMap": {"status": str(action)}},
                         "userPrivateData": {"cardParamMap": {"btnDisabled": "true"}},
                         "cardUpdateOptions": {"updateCardDataByKey": True, "updatePrivateDataByKey": True}})

    def control(self, path, body):
        try:
            mode = json.loads(body)["event_reply"]
        except (ValueError, KeyError, TypeError):
            mode = None
        if mode not in EVENT_REPLY_MODES:
            self._send(400, {"error": "event_reply must be one of " + ", ".join(EVENT_REPLY_MODES)})
            return
        self.app.event_reply = mode
        self._send(200, {"event_reply": mode})


def parse_options(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=env("LEGACY_APP_HOST", "127.0.0.1"),
                   help="listen address (env LEGACY_APP_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, default=int(env("LEGACY_APP_PORT", "8080")),
                   help="listen port, 0 = any (env LEGACY_APP_PORT, default 8080)")
    p.add_argument("--client-id", default=env("DINGTALK_CLIENT_ID", ""),
                   help="the app's Client ID / appKey: default owner key (env DINGTALK_CLIENT_ID)")
    p.add_argument("--client-secret", default=env("DINGTALK_CLIENT_SECRET", ""),
                   help="robot sign key (env DINGTALK_CLIENT_SECRET)")
    p.add_argument("--token", default=env("LEGACY_TOKEN", ""), help="event signature token (env LEGACY_TOKEN)")
    p.add_argument("--aes-key", default=env("LEGACY_AES_KEY", ""), help="43-char aes_key (env LEGACY_AES_KEY)")
    p.add_argument("--owner-key", default=env("LEGACY_OWNER_KEY", ""),
                   help="owner key inside ciphertexts, default the client id (env LEGACY_OWNER_KEY)")
    p.add_argument("--api-secret", default=env("LEGACY_API_SECRET", ""),
                   help="card callback apiSecret; empty = do not check (env LEGACY_API_SECRET)")
    p.add_argument("--event-reply", choices=EVENT_REPLY_MODES, default=env("LEGACY_APP_EVENT_REPLY", "success"),
                   help="how /dingtalk/events answers; anything but success is a wrong reply for tests "
                        "(env LEGACY_APP_EVENT_REPLY)")
    p.add_argument("--quiet", action="store_true", help="no request log on stderr")
    return p.parse_args(argv)


def main(argv=None):
    options = parse_options(argv)
    Handler.app = App(options)
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    print("legacy app listening on %s:%d" % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
