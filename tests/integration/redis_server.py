"""A real `redis-server` (Debian's package) for the tests and the benchmark: its own port on
127.0.0.1 and its own temp dir, started, stopped (SIGTERM), killed (-9) and restarted on the
same port and dir, so a bridge configured once finds it again.

No skipping: when redis-server is missing the test fails with the reason (CI installs it
with packaging/install-deps.sh). Standard library only; the PING is spoken in RESP over a
plain socket, so the tests need no Python client.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REDIS_SERVER = os.environ.get("BRIDGE_REDIS_SERVER", shutil.which("redis-server")
                              or "/usr/bin/redis-server")

# Durability as README "Running two replicas" recommends: every write fsync'd before Redis
# answers it (the bridge ACKs a spooled event only after that answer).
DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


def free_port():
    """A port the kernel just handed out on 127.0.0.1 (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port, *args, timeout=2.0):
    """Sends one RESP command and returns its reply: a bulk string's bytes (None when nil),
    else the reply's first line (b"+PONG", b":1", b"-ERR ..."). Raises OSError when the
    server does not answer."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        reply = b""

        def more():
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("redis closed the connection")
            return chunk
        while b"\r\n" not in reply:
            reply += more()
        line, rest = reply.split(b"\r\n", 1)
        if not line.startswith(b"$"):
            return line
        length = int(line[1:])
        if length < 0:
            return None
        while len(rest) < length + 2:
            rest += more()
        return rest[:length]


class RedisServer:
    """redis-server on 127.0.0.1:<free port> with `dir` in a temp directory.

    options: extra command-line options, e.g. DURABLE. RDB snapshots are off (`--save ""`)
    unless the options say otherwise, so a restart without appendonly starts empty."""

    def __init__(self, *options, attempts=5):
        if not os.access(REDIS_SERVER, os.X_OK):
            raise AssertionError(f"redis-server not found at {REDIS_SERVER}: install Debian's "
                                 "redis-server (packaging/install-deps.sh)")
        self.options = list(options)
        self._tmp = tempfile.TemporaryDirectory(prefix="bridge-redis-")
        self.dir = self._tmp.name
        self.log_path = os.path.join(self.dir, "redis.log")
        self.proc = None
        self.port = None
        last = None
        for _ in range(attempts):  # another process may take the port between bind and listen
            self.port = free_port()
            try:
                self.start()
                break
            except AssertionError as err:
                last = err
                self._reap()
        else:
            raise AssertionError(f"redis-server did not start after {attempts} ports: {last}")
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def _args(self):
        args = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
                "--logfile", self.log_path, "--daemonize", "no", "--protected-mode", "yes",
                "--maxmemory-policy", "noeviction"]
        if "--save" not in self.options:
            args += ["--save", ""]
        return args + self.options

    def start(self, timeout=10.0):
        """Starts (or restarts) the server on the same port and dir; returns once PING answers."""
        assert self.proc is None or self.proc.poll() is not None, "redis-server already running"
        self.proc = subprocess.Popen(self._args(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.proc.returncode} on port "
                                     f"{self.port}: {self.log_tail()}")
            if self.ping():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server on port {self.port} did not answer PING "
                                     f"within {timeout}s: {self.log_tail()}")
            time.sleep(0.05)

    def ping(self):
        try:
            return command(self.port, "PING", timeout=0.5) == b"+PONG"
        except OSError:
            return False

    def command(self, *args):
        return command(self.port, *args)

    def stop(self, timeout=10.0):
        """SIGTERM: Redis flushes the append-only file and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        """kill -9: what the append-only file holds is all that survives."""
        self._reap()

    def restart(self):
        self.stop()
        self.start()

    def _reap(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=10):
        try:
            with open(self.log_path, errors="replace") as f:
                return " | ".join(f.read().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def pid(self):
        return self.proc.pid

    def close(self):
        self.stop()
        self._tmp.cleanup()
