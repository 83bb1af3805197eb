"""The wss:// path with verified TLS, end to end: the emulator serves HTTPS and WSS on one port
with throwaway certificates made by the openssl CLI, and the bridge must verify both legs
(the open call through curl, the websocket through lws) against dingtalk.ca_file.

The last tests put an HTTPS relay the bridge trusts in front of the open call, so the open
call succeeds and only the websocket's own verification stands between the bridge and an
untrusted or misnamed emulator."""
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from streamutil import Emulator, start, stop_all, wait_until, harness

OPENSSL = shutil.which("openssl")
OPEN_PATH = "/v1.0/gateway/connections/open"
# What a certificate problem looks like in the bridge's log, from curl or from lws/OpenSSL.
CERT_PROBLEM = re.compile(r"(?i)certificate|verif")


class Pki:
    """A throwaway CA hierarchy in a temp dir, made with the openssl CLI (P-256 keys)."""

    def __init__(self, directory):
        self.dir = directory

    def _run(self, *args):
        subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=30,
                       cwd=self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def ca(self, name):
        """Returns (cert, key) of a new self-signed CA."""
        cert, key = self.path(name + ".pem"), self.path(name + ".key")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                  "-subj", f"/CN=dingtalk-stream-bridge test {name}",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return cert, key

    def server(self, name, ca, san):
        """Returns (cert, key) of a server certificate signed by `ca` for subjectAltName `san`.
        The CN is no host name, so only the SAN can make the name check pass."""
        cert, key, csr = (self.path(name + ext) for ext in (".pem", ".key", ".csr"))
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid,issuer\n")
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", f"/CN=test server {name}")
        self._run("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                  "-set_serial", "0x" + secrets.token_hex(8), "-days", "2",
                  "-extfile", ext, "-out", cert)
        return cert, key


class OpenCallRelay:
    """An HTTPS server on 127.0.0.1:0 (certificate cert/key) that passes the open call on to
    an emulator and hands back its answer unchanged: a wss:// endpoint on the emulator and a
    real ticket. The bridge trusts the relay; whether it trusts the emulator is then up to
    the websocket's TLS check alone."""

    def __init__(self, cert, key, emulator):
        self.calls = 0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                relay.calls += 1
                headers = {k: self.headers[k] for k in ("Content-Type", "Accept", "User-Agent")
                           if self.headers.get(k) is not None}
                req = urllib.request.Request(emulator.base + self.path, data=body,
                                             method="POST", headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=5,
                                                context=emulator.ssl_context) as resp:
                        status, answer = resp.status, resp.read()
                except urllib.error.HTTPError as err:
                    status, answer = err.code, err.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        class QuietServer(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipUnless(OPENSSL, "openssl CLI not found: cannot make the throwaway certificates "
                              "the TLS tests need")
class StreamTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bridge-tls-")
        pki = Pki(cls.tmp.name)
        cls.ca = pki.ca("ca")
        cls.other_ca = pki.ca("other-ca")  # never given to the bridge
        cls.good = pki.server("good", cls.ca, "IP:127.0.0.1")
        cls.wrong_name = pki.server("wrong-name", cls.ca, "DNS:example.com")
        cls.untrusted = pki.server("untrusted", cls.other_ca, "IP:127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.webhook = harness.StubWebhook()
        self.addCleanup(self.webhook.close)
        self.routes = [{"name": "events", "event": '"*"', "url": self.webhook.url + "/events"}]
        self.emu = None
        self.bridge = None
        self.addCleanup(lambda: stop_all(self.bridge, self.emu))

    def emulator(self, server_cert, ca):
        self.emu = Emulator(tls=(server_cert[0], server_cert[1], ca[0]))
        return self.emu

    def relay(self, emulator):
        relay = OpenCallRelay(*self.good, emulator)
        self.addCleanup(relay.close)
        return relay

    def assert_never_registers(self, failure, seconds=4.0, max_attempts=8):
        """`failure`: the log line each attempt ends with. Waits `seconds`, then checks that the
        bridge retried with backoff (FAST: 200 ms doubling to 2 s), never came up, and never
        logged the ticket."""
        time.sleep(seconds)
        attempts = self.bridge.grep(failure)
        self.assertGreaterEqual(len(attempts), 2, "expected a retry")
        self.assertLessEqual(len(attempts), max_attempts, attempts)
        delays = [int(m.group(1)) for m in
                  (re.search(r"delay_ms=(\d+)", l) for l in self.bridge.grep("reconnect scheduled"))
                  if m]
        self.assertGreaterEqual(len(delays), 2, delays)
        self.assertTrue(all(d >= 150 for d in delays), delays)
        self.assertGreater(max(delays), min(delays), f"backoff did not grow: {delays}")
        self.assertEqual(self.bridge.grep("connection registered"), [])
        self.assertEqual(self.emu.connections(), [])
        self.assertNotIn("ticket=", "\n".join(self.bridge.output()))

    def test_emulator_serves_https_and_hands_out_wss(self):
        emu = self.emulator(self.good, self.ca)
        self.assertTrue(emu.grep(r"^emulator listening on 127\.0\.0\.1:\d+ \(tls\)$"), emu.output())
        self.assertTrue(emu.base.startswith("https://127.0.0.1:"), emu.base)
        status, answer = emu.api("POST", OPEN_PATH, {
            "clientId": harness.CLIENT_ID, "clientSecret": harness.CLIENT_SECRET,
            "subscriptions": [{"type": "EVENT", "topic": "*"}], "ua": "test", "localIp": "10.0.0.1"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["endpoint"], f"wss://{emu.address}/connect")
        # Plain HTTP on the TLS port is not served.
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://{emu.address}/emulator/connections", timeout=3).read()

    def test_verified_wss_connects_and_acks(self):
        emu = self.emulator(self.good, self.ca)
        self.bridge = start(emu, routes=self.routes, **{"dingtalk.ca_file": self.ca[0]})
        conn = emu.wait_for_connections(1)[0]
        self.bridge.wait_for_line(r"stream: connection registered conn=1 slot=0 "
                                  r"endpoint=wss://127\.0\.0\.1:\d+/connect")
        opens = emu.get("/emulator/opens")
        self.assertEqual([o["status"] for o in opens], [200])
        sent = emu.send_event("user_add_org", {"userId": ["u1"]}, connection=conn["id"])
        ack = emu.wait_for_ack(sent["messageId"])
        self.assertEqual(ack["code"], 200)
        self.assertEqual(ack["status"], "SUCCESS")
        wait_until(lambda: self.webhook.requests, 5, what="the webhook delivery")

    def test_without_ca_file_the_open_call_fails_verification(self):
        emu = self.emulator(self.good, self.ca)
        self.bridge = start(emu, routes=self.routes)
        line = self.bridge.wait_for_line(r"open call failed")[0]
        self.assertRegex(line, CERT_PROBLEM)
        self.assert_never_registers(r"warn stream: open call failed")
        self.assertEqual(emu.get("/emulator/opens"), [])  # no request got past the handshake

    def test_wrong_host_name_is_rejected(self):
        emu = self.emulator(self.wrong_name, self.ca)
        emu.ssl_context.check_hostname = False  # the test's own control calls only
        self.bridge = start(emu, routes=self.routes, **{"dingtalk.ca_file": self.ca[0]})
        line = self.bridge.wait_for_line(r"open call failed")[0]
        # curl: "SSL: no alternative certificate subject name matches target host name ..."
        self.assertRegex(line, r"(?i)subject name|host ?name")
        self.assert_never_registers(r"warn stream: open call failed")
        self.assertEqual(emu.get("/emulator/opens"), [])

    # --- the websocket's own verification, behind a trusted open call ---------------------

    def test_relayed_open_call_control(self):
        """The relay itself works: with a trusted emulator behind it, the bridge comes up."""
        emu = self.emulator(self.good, self.ca)
        relay = self.relay(emu)
        self.bridge = start(emu, routes=self.routes,
                            **{"dingtalk.api_base": relay.base, "dingtalk.ca_file": self.ca[0]})
        conn = emu.wait_for_connections(1)[0]
        self.assertEqual(relay.calls, 1)
        sent = emu.send_event(connection=conn["id"])
        self.assertEqual(emu.wait_for_ack(sent["messageId"])["code"], 200)

    def assert_websocket_rejected(self, emu, relay, problem):
        """The open call (relayed) succeeds every time; the websocket's TLS check fails every
        time, and the log says why (`problem`: OpenSSL's verify result text)."""
        line = self.bridge.wait_for_line(r"connection failed")[0]
        self.assertIn(f"endpoint=wss://{emu.address}/connect", line)
        self.assertRegex(line, r"certificate verify failed: (%s)" % problem)
        self.assert_never_registers(r"warn stream: connection failed")
        opens = emu.get("/emulator/opens")
        self.assertGreaterEqual(len(opens), 2)
        self.assertTrue(all(o["status"] == 200 for o in opens), opens)
        self.assertEqual(relay.calls, len(opens))

    def test_websocket_rejects_an_untrusted_certificate(self):
        emu = self.emulator(self.untrusted, self.other_ca)
        relay = self.relay(emu)
        self.bridge = start(emu, routes=self.routes,
                            **{"dingtalk.api_base": relay.base, "dingtalk.ca_file": self.ca[0]})
        self.assert_websocket_rejected(emu, relay, r"unable to get local issuer certificate")

    def test_websocket_checks_the_host_name(self):
        emu = self.emulator(self.wrong_name, self.ca)
        emu.ssl_context.check_hostname = False
        relay = self.relay(emu)
        self.bridge = start(emu, routes=self.routes,
                            **{"dingtalk.api_base": relay.base, "dingtalk.ca_file": self.ca[0]})
        # OpenSSL 3 checks an IP literal against the IP SANs: "IP address mismatch".
        self.assert_websocket_rejected(emu, relay, r"IP address mismatch|hostname mismatch")


if __name__ == "__main__":
    unittest.main()
