"""`check` and `run` agree (issue 12): every form `check` accepts starts the daemon, and
every config `check` refuses makes `run` exit 2 as well, before it touches the network.

One table of configs serves both directions, so a form added for `check` is also started.
Before the fix, `admin.listen: myhost:9180` passed `check` and made `run` exit 1 (systemd's
ExecStartPre passed and the unit restarted every 2 s), and route URLs libcurl refuses
(`http://@`, `http://127.0.0.1:99999/h`) passed and left every event LATER forever.
"""
import os
import re
import tempfile
import unittest

from harness import BINARY, CLIENT_SECRET, Bridge, Emulator, bridge_config
from test_cli import run

# The certificate of tests/unit/fixtures/config/test_ca_pem.hpp (self-signed, valid to 2126).
TEST_CA_PEM = """-----BEGIN CERTIFICATE-----
MIIBgjCCASmgAwIBAgIUbq55rO0haj3SO0MuEaGbD4CN+tMwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZHNiLXRlc3QtY2EwIBcNMjYxMjAyMTA0OTA3WhgPMjEyNjEx
MDgxMDQ5MDdaMBYxFDASBgNVBAMMC2RzYi10ZXN0LWNhMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEzkQKyEflOFYppl1Pxc4G/YKFr4cMu5B/2S4LAeR4c/T05VqT
GsMSeTQjb9ZxUuW082uudatW8T5t0hmw5Y9/nKNTMFEwHQYDVR0OBBYEFA000Vbi
wyU9QqtJsrJM/6XdyuiGMB8GA1UdIwQYMBaAFA000VbiwyU9QqtJsrJM/6XdyuiG
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgUXjF2obXq+kMo4xw
BRrMlt1hAXNuKvhi91cRGzWUKQkCIDIsN5cHUA6ycQzELekoQEOj7hc/4jz9OEbb
D5H7CHqY
-----END CERTIFICATE-----
"""


def route(url):
    return [{"name": "events", "event": '"*"', "url": url}]


# name -> (overrides of harness.bridge_config, routes or None). "{dir}" is a temp dir with
# the files setUpClass writes; "{api_host}" the emulator's HOST:PORT; an override of None
# drops the harness's value. Started means a Stream connection is registered, except with a
# proxy (none listens on port 9): then the log line that the proxy is in use.
STARTED = r"stream: connection registered"
ACCEPTED = {
    "defaults of the harness": ({}, None),
    "admin on IPv4 loopback, any port": ({"admin.listen": '"127.0.0.1:0"'}, None),
    "admin on localhost": ({"admin.listen": '"localhost:0"'}, None),
    "admin on [::1]": ({"admin.listen": '"[::1]:0"'}, None),
    "admin on every address": ({"admin.listen": '"0.0.0.0:0"'}, None),
    "api_base scheme in upper case": ({"dingtalk.api_base": "HTTP://{api_host}"}, None),
    "URL scheme in upper case": ({}, route('"HTTPS://127.0.0.1:9/x"')),
    "URL with user:password and a query": ({}, route('"http://u:p%40ss@127.0.0.1:9/x?access_token=t&v"')),
    "URL list of names, IPv4 and IPv6": (
        {}, route('["http://localhost:9/a", "http://127.0.0.1:9/b", "http://[::1]:9/c"]')),
    "ca_file with a PEM certificate": ({"dingtalk.ca_file": "{dir}/ca.pem"}, None),
    "secret from a file": ({"dingtalk.client_secret_file": "{dir}/secret",
                            "dingtalk.client_secret": None}, None),
    "http proxy with credentials": ({"dingtalk.proxy": '"http://user:pw@127.0.0.1:9"'}, None),
}
STARTED_BY = {
    "http proxy with credentials": r"stream: using HTTP proxy",
}

# name -> (overrides, routes, text that must be in the error line)
REJECTED = {
    "admin host name": ({"admin.listen": '"myhost:9180"'}, None, "host names are not looked up"),
    "admin IPv4 shorthand": ({"admin.listen": '"127.1:9180"'}, None, "all four numbers"),
    "admin IPv4 in brackets": ({"admin.listen": '"[127.0.0.1]:9180"'}, None, "not an IPv6 address"),
    "admin octet over 255": ({"admin.listen": '"999.1.1.1:9180"'}, None, "all four numbers"),
    "URL without a host": ({}, route('"http://@"'), "no host"),
    "URL of a fragment only": ({}, route('"http://#frag"'), "#fragment"),
    "URL port over 65535": ({}, route('"http://127.0.0.1:99999/h"'), "port must be between 1 and 65535"),
    "URL with an unclosed [": ({}, route('"http://[::1:9/h"'), 'unclosed "["'),
    "ca_file missing": ({"dingtalk.ca_file": "{dir}/absent.pem"}, None, "No such file or directory"),
    "ca_file not PEM": ({"dingtalk.ca_file": "{dir}/secret"}, None, "contains no PEM certificate"),
    "secret file is /dev/zero": ({"dingtalk.client_secret_file": "/dev/zero",
                                  "dingtalk.client_secret": None}, None, "not a regular file"),
    "secret file is a FIFO": ({"dingtalk.client_secret_file": "{dir}/fifo",
                               "dingtalk.client_secret": None}, None, "not a regular file (a FIFO)"),
    "socks5 proxy": ({"dingtalk.proxy": '"socks5://user:hunter2@127.0.0.1:1080"'}, None,
                     '"socks5://***@127.0.0.1:1080"'),
    "nested substitution": ({"dingtalk.client_id": '"${NOPE:-${HOME}}"'}, None, "nested substitution"),
    "NUL in client_id": ({"dingtalk.client_id": '"app\\0id"'}, None, "NUL byte"),
}


class ConfigAgreementTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="config-agreement-")
        cls.dir = cls.tmp.name
        with open(os.path.join(cls.dir, "ca.pem"), "w") as f:
            f.write(TEST_CA_PEM)
        with open(os.path.join(cls.dir, "secret"), "w") as f:
            f.write(CLIENT_SECRET + "\n")
        os.mkfifo(os.path.join(cls.dir, "fifo"))
        cls.emulator = Emulator()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        cls.tmp.cleanup()

    def config(self, overrides, routes):
        values = {}
        for key, value in overrides.items():
            if value is not None:
                value = value.replace("{dir}", self.dir).replace("{api_host}", self.emulator.address)
            values[key] = value
        dropped = [key for key, value in values.items() if value is None]
        kept = {key: value for key, value in values.items() if value is not None}
        text = bridge_config(self.emulator, routes=routes, **kept)
        for key in dropped:
            text = re.sub(r"(?m)^\s+" + re.escape(key.split(".")[-1]) + r": .*\n", "", text, count=1)
        return text + f"state_dir: {self.dir}/state\n"

    def write(self, name, text):
        path = os.path.join(self.dir, re.sub(r"\W+", "_", name) + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_check_accepts_each_form(self):
        for name, (overrides, routes) in ACCEPTED.items():
            with self.subTest(name):
                result = run("check", "-c", self.write(name, self.config(overrides, routes)))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertNotIn("u:p%40ss", result.stdout)
                self.assertNotIn("access_token=t", result.stdout)

    def test_run_starts_on_every_config_check_accepts(self):
        for name, (overrides, routes) in ACCEPTED.items():
            with self.subTest(name):
                bridge = Bridge(self.config(overrides, routes))
                try:
                    bridge.wait_for_line(STARTED_BY.get(name, STARTED), timeout=15)
                    if "admin.listen" in overrides:
                        bridge.wait_for_line(r"admin endpoint listening", timeout=5)
                finally:
                    code = bridge.stop()
                self.assertEqual(code, 0, "\n".join(bridge.output()[-20:]))

    def test_check_and_run_exit_two_on_every_config_check_refuses(self):
        for name, (overrides, routes, reason) in REJECTED.items():
            with self.subTest(name):
                path = self.write(name, self.config(overrides, routes))
                for command in ("check", "run"):
                    result = run(command, "-c", path, timeout=10)
                    self.assertEqual(result.returncode, 2, f"{command}: {result.stderr}")
                    self.assertRegex(result.stderr, "^" + re.escape(path) + r":\d+:\d+: ")
                    self.assertIn(reason, result.stderr)
                    self.assertNotIn("hunter2", result.stderr)

    def test_check_of_an_endless_file_fails_at_once(self):
        for path, kind in (("/dev/zero", "a character device"),
                           (os.path.join(self.dir, "fifo"), "a FIFO"),
                           (self.dir, "a directory")):
            with self.subTest(path):
                result = run("check", "-c", path, timeout=10)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stderr,
                                 f"{path}: cannot read the config file: not a regular file ({kind})\n")


if __name__ == "__main__":
    unittest.main()
