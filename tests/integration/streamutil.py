"""Helpers for the Stream connection's integration tests (test_stream_*.py): shorter
reconnect pacing, a CONNECT proxy, and cleanup."""
import re
import socket
import threading

import harness

Bridge, Emulator, bridge_config, wait_until = (harness.Bridge, harness.Emulator,
                                               harness.bridge_config, harness.wait_until)

# Short reconnect pacing for tests; keepalive stays at its defaults unless a test sets it.
FAST = {"dingtalk.reconnect.initial": "200ms", "dingtalk.reconnect.max": "2s"}


def start(emulator, routes=None, env=None, **overrides):
    values = dict(FAST)
    values.update(overrides)
    return Bridge(bridge_config(emulator, routes=routes, **values), env=env)


def stop_all(*procs):
    """Stops each in turn; then re-raises the first failed check (the emulator's ACK shape
    check) so the test still fails, while other errors in cleanup are ignored."""
    failed = None
    for proc in procs:
        if proc is not None:
            try:
                proc.stop()
            except AssertionError as err:
                failed = failed or err
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
    if failed is not None:
        raise failed


def ack_map(emulator):
    return {a.get("messageId"): a for a in emulator.acks()}


def log_field(line, name):
    m = re.search(r"\b%s=(\"[^\"]*\"|\S+)" % re.escape(name), line)
    if not m:
        return None
    value = m.group(1)
    return value[1:-1] if value.startswith('"') else value


class ConnectProxy:
    """A tiny HTTP proxy on 127.0.0.1:0: CONNECT tunnels and absolute-URI forwarding are both
    recorded (method + target + Proxy-Authorization) and served."""

    def __init__(self):
        self.requests = []
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            header, rest = head.split(b"\r\n\r\n", 1)
            lines = header.decode(errors="replace").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            with self._lock:
                self.requests.append({"method": method, "target": target,
                                      "auth": headers.get("proxy-authorization")})
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)), timeout=10)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            client.settimeout(None)
            upstream.settimeout(None)
            t = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
            t.start()
            self._pipe(client, upstream)
            t.join(timeout=1)
        except OSError:
            pass
        finally:
            try:
                client.close()
            except OSError:
                pass

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def seen(self):
        with self._lock:
            return list(self.requests)

    def close(self):
        self._stop = True
        self.sock.close()
