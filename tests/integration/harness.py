"""Test harness: starts the real binary (bridge and emulator) on loopback and talks to them.

Every socket is 127.0.0.1 with port 0; every wait is bounded. Standard library only.
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BINARY = os.environ.get("BRIDGE_BINARY", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "src", "dingtalk-stream-bridge"))
SOURCE_DIR = os.environ.get("BRIDGE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

CLIENT_ID = "dingtestclient"
CLIENT_SECRET = "test-client-secret-9f8e7d"


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class _Process:
    """A child process whose stdout+stderr lines are collected by a reader thread."""

    def __init__(self, args, env=None):
        self.args = args
        self.lines = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))
            if os.environ.get("BRIDGE_TEST_ECHO"):
                print(f"[{os.path.basename(self.args[0])}] {line}", end="", flush=True)
        self.proc.stdout.close()

    def output(self):
        with self._lock:
            return list(self.lines)

    def grep(self, pattern):
        rx = re.compile(pattern)
        return [line for line in self.output() if rx.search(line)]

    def wait_for_line(self, pattern, timeout=10.0):
        return wait_until(lambda: self.grep(pattern), timeout, what=f"a line matching {pattern!r}")

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout=15.0):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._reader.join(timeout=2)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2)
        return self.proc.returncode


def http(method, url, body=None, headers=None, timeout=5.0, context=None):
    """Returns (status, parsed JSON or text) without raising on HTTP errors. `context`: an
    ssl.SSLContext for https:// URLs (None: Python's default verification)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class Emulator(_Process):
    """`dingtalk-stream-bridge emulate` on 127.0.0.1, port 0.

    tls=(cert_file, key_file, ca_file): serve HTTPS/WSS with that certificate; `base` is then
    https:// and api() verifies the emulator against ca_file through `ssl_context` (a test
    whose certificate names another host may relax that context's check_hostname).

    stop() fails the test (after stopping) when any ACK the emulator received broke the shape
    the official SDKs write (GET /emulator/ack-violations), so every test that ends with it
    checks every ACK the bridge wrote. A test that sends bad ACKs on purpose sets
    `check_acks = False`."""

    def __init__(self, *extra_args, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tls=None):
        self.check_acks = True
        tls_args = []
        self.ssl_context = None
        if tls is not None:
            cert_file, key_file, ca_file = tls
            tls_args = ["--tls-cert", cert_file, "--tls-key", key_file]
            self.ssl_context = ssl.create_default_context(cafile=ca_file)
        super().__init__([BINARY, "emulate", "--listen", "127.0.0.1:0", "--client-id", client_id,
                          "--client-secret", client_secret, *tls_args, *extra_args])
        line = self.wait_for_line(r"emulator listening on ", timeout=10)[0]
        self.address = re.search(r"listening on (\S+)", line).group(1)
        self.base = f"{'https' if tls is not None else 'http'}://{self.address}"

    def api(self, method, path, body=None):
        return http(method, self.base + path, body, context=self.ssl_context)

    def get(self, path):
        status, value = self.api("GET", path)
        assert status == 200, f"GET {path}: {status} {value}"
        return value

    def post(self, path, body=None, expect=200):
        status, value = self.api("POST", path, body if body is not None else {})
        assert status == expect, f"POST {path}: {status} {value}"
        return value

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        violations = self.ack_violations() if self.check_acks and self.proc.poll() is None else None
        code = super().stop(sig, timeout)
        if violations and violations["count"]:
            raise AssertionError(f"{violations['count']} ACK(s) broke the SDK shape: "
                                 f"{json.dumps(violations['violations'][:5])}")
        return code

    def ack_violations(self):
        """{"count": N, "violations": [...]}, or None when the emulator does not answer."""
        try:
            return self.get("/emulator/ack-violations")
        except (AssertionError, OSError):
            return None

    # Views of the emulator's state.
    def connections(self, state=None):
        conns = self.get("/emulator/connections")
        return [c for c in conns if state is None or c["state"] == state]

    def acks(self, message_id=None):
        acks = self.get("/emulator/acks")
        return [a for a in acks if message_id is None or a["messageId"] == message_id]

    def wait_for_connections(self, count=1, timeout=10.0):
        return wait_until(lambda: len(self.connections("open")) >= count and
                          self.connections("open"), timeout, what=f"{count} open connection(s)")

    def wait_for_ack(self, message_id, timeout=10.0):
        return wait_until(lambda: self.acks(message_id), timeout,
                          what=f"the ACK of {message_id}")[0]

    def send_event(self, event_type="user_add_org", data=None, **extra):
        body = {"type": "EVENT", "topic": "*", "eventType": event_type,
                "data": data if data is not None else {"userId": ["u1"]}}
        body.update(extra)
        return self.post("/emulator/frames", body)

    def send_callback(self, topic, data, **extra):
        body = {"type": "CALLBACK", "topic": topic, "data": data}
        body.update(extra)
        return self.post("/emulator/frames", body)


def bridge_config(emulator, routes=None, **overrides):
    """A bridge YAML config pointing at the emulator; overrides are dotted-key -> raw YAML value."""
    values = {
        "dingtalk.client_id": CLIENT_ID,
        "dingtalk.client_secret": CLIENT_SECRET,
        "dingtalk.api_base": emulator.base if emulator else "http://127.0.0.1:9",
        "admin.listen": '""',
        "log.level": "debug",
    }
    values.update(overrides)
    sections = {}
    for dotted, value in values.items():
        path = dotted.split(".")
        node = sections
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    def emit(node, indent):
        out = []
        for key, value in node.items():
            if isinstance(value, dict):
                out.append(" " * indent + f"{key}:")
                out.extend(emit(value, indent + 2))
            else:
                out.append(" " * indent + f"{key}: {value}")
        return out

    lines = emit(sections, 0)
    lines.append("routes:")
    for route in routes if routes is not None else [
            {"name": "events", "event": '"*"', "url": "http://127.0.0.1:9/events"}]:
        first = True
        for key, value in route.items():
            lines.append(("  - " if first else "    ") + f"{key}: {value}")
            first = False
    return "\n".join(lines) + "\n"


class Bridge(_Process):
    """`dingtalk-stream-bridge run -c FILE` with the given YAML text."""

    def __init__(self, config_text, *extra_args, env=None):
        self.dir = tempfile.TemporaryDirectory(prefix="bridge-test-")
        self.config_path = os.path.join(self.dir.name, "bridge.yaml")
        if "state_dir:" not in config_text:
            config_text += f"state_dir: {self.dir.name}/state\n"
        with open(self.config_path, "w") as f:
            f.write(config_text)
        full_env = dict(os.environ)
        full_env.pop("HTTPS_PROXY", None)
        full_env.pop("https_proxy", None)
        full_env.update(env or {})
        super().__init__([BINARY, "run", "-c", self.config_path, *extra_args], env=full_env)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        code = super().stop(sig, timeout)
        self.dir.cleanup()
        return code


class StubWebhook:
    """A webhook on 127.0.0.1:0 that records requests and answers as told.

    answer: optional callable(request) -> (status, delay) or (status, delay, headers)
    choosing each reply from the recorded request (path, headers, body); status None closes
    the connection without a reply; headers (a dict) are added to the reply. Without it every request gets the current `status` after `delay` seconds.
    Each recorded request also has "at" (time.monotonic() on arrival) and the status chosen."""

    def __init__(self, status=200, body=b"{}", delay=0.0, answer=None):
        self.requests = []
        self.status, self.body, self.delay, self.answer = status, body, delay, answer
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's
                # algorithm and the client's delayed ACK add ~40 ms to every reply.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                payload = self.rfile.read(length)
                record = {"path": self.path, "headers": dict(self.headers), "body": payload,
                          "at": time.monotonic()}
                extra = {}
                if stub.answer is not None:
                    status, delay, *rest = stub.answer(record)
                    extra = rest[0] if rest else {}
                else:  # answered with the status of the moment it arrived
                    status, delay = stub.status, stub.delay
                record["status"] = status
                stub.requests.append(record)
                if delay:
                    time.sleep(delay)
                if status is None:  # a webhook that dies mid-request
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                body = stub.body if isinstance(stub.body, bytes) else stub.body.encode()
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bridge gave up on us (a timeout test): expected

            def log_message(self, *args):
                pass

        class QuietServer(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the bridge opens up to max_in_flight connections at once

            def handle_error(self, request, client_address):
                pass  # a client that vanished mid-request (kill -9 tests) is not a failure

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
