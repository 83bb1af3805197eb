"""A minimal RFC 6455 websocket client for tests (standard library only, ws:// only).

It exposes what the tests need to check the emulator's wire behaviour: the handshake status,
every received frame (opcode, FIN, payload) including fragments, masked text frames, pings.
"""
import base64
import hashlib
import os
import socket
import struct
import time
import urllib.parse

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(Exception):
    def __init__(self, status, body):
        super().__init__(f"websocket handshake refused: HTTP {status} {body!r}")
        self.status = status
        self.body = body


class Closed(Exception):
    """The peer closed (code is None for a TCP close without a close frame)."""

    def __init__(self, code=None, reason=""):
        super().__init__(f"connection closed (code={code}, reason={reason!r})")
        self.code = code
        self.reason = reason


class WebSocket:
    def __init__(self, url, timeout=5.0, protocol=None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "ws":
            raise ValueError("only ws:// URLs are supported")
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        self.sock.settimeout(timeout)
        self._buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        lines = [f"GET {path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode(errors="replace").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers[name.strip().lower()] = value.strip()
        if self.status != 101:
            body = self._buf
            length = int(self.headers.get("content-length", "0") or 0)
            try:
                while len(body) < length:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        break
                    body += chunk
            except OSError:
                pass
            self.sock.close()
            raise HandshakeError(self.status, body.decode(errors="replace"))
        expect = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != expect:
            raise HandshakeError(self.status, "bad Sec-WebSocket-Accept")
        self.pongs = []

    # --- raw IO ---------------------------------------------------------------------------
    def _read_until(self, marker):
        while marker not in self._buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Closed()
            self._buf += chunk
        head, self._buf = self._buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(max(4096, n - len(self._buf)))
            if not chunk:
                raise Closed()
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def send_frame(self, opcode, payload=b"", fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def read_frame(self):
        """Returns (fin, opcode, payload) of the next frame on the wire."""
        b0, b1 = self._read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        mask = self._read_exact(4) if b1 & 0x80 else None
        payload = self._read_exact(n)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(b0 & 0x80), b0 & 0x0F, payload

    # --- messages -------------------------------------------------------------------------
    def recv_message(self, timeout=5.0, frames=None):
        """Next data message as (opcode, bytes); answers pings, records pongs.

        `frames`, when a list, receives every (fin, opcode, len) of the message's frames.
        Raises Closed on a close frame or TCP close, socket.timeout on timeout.
        """
        deadline = time.monotonic() + timeout
        parts, first_op = [], None
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            fin, op, payload = self.read_frame()
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                self.pongs.append(payload)
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise Closed(code, payload[2:].decode(errors="replace"))
            if frames is not None:
                frames.append((fin, op, len(payload)))
            if first_op is None:
                first_op = op
            parts.append(payload)
            if fin:
                return first_op, b"".join(parts)

    def recv_json(self, timeout=5.0):
        import json
        op, payload = self.recv_message(timeout)
        assert op == OP_TEXT, f"expected a text frame, got opcode {op}"
        return json.loads(payload)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_json(self, value):
        import json
        self.send_text(json.dumps(value))

    def ping(self, payload=b"p"):
        self.send_frame(OP_PING, payload)

    def close(self, code=1000):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def wait_closed(self, timeout=5.0):
        """Reads until the server closes; returns the Closed exception."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.recv_message(timeout=max(0.01, deadline - time.monotonic()))
            except Closed as closed:
                return closed
            except (ConnectionResetError, BrokenPipeError):
                return Closed()
            except socket.timeout:
                break
        raise AssertionError(f"server did not close within {timeout}s")


def ack(frame, code=200, data=None, message="OK"):
    """The ACK frame (dict) for a received frame dict."""
    import json
    return {"code": code,
            "headers": {"contentType": "application/json",
                        "messageId": frame["headers"]["messageId"]},
            "message": message,
            "data": data if isinstance(data, str) else json.dumps(data if data is not None
                                                                  else {"status": "SUCCESS"})}
