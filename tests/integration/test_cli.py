"""The command line as product.md section 2 fixes it: commands, exit codes, the config env var."""
import os
import subprocess
import tempfile
import unittest

from harness import BINARY, CLIENT_SECRET, Emulator, bridge_config

VALID = bridge_config(None) + "state_dir: /tmp/dsb-cli-test\n"


def run(*args, env=None, timeout=15):
    full_env = dict(os.environ)
    full_env.pop("DINGTALK_STREAM_BRIDGE_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_version_and_help_exit_zero(self):
        version = run("--version")
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^dingtalk-stream-bridge \d+\.\d+\.\d+")
        help_ = run("--help")
        self.assertEqual(help_.returncode, 0)
        for command in ("run", "check", "emulate"):
            self.assertIn(command, help_.stdout)

    def test_usage_errors_exit_two(self):
        self.assertEqual(run("no-such-command").returncode, 2)
        self.assertEqual(run("check").returncode, 2)  # -c missing
        nothing = run()
        self.assertEqual(nothing.returncode, 2)
        self.assertIn("DINGTALK_STREAM_BRIDGE_CONFIG", nothing.stderr)

    def test_check_valid_config_prints_subscriptions_and_routes(self):
        path = self.write("good.yaml", VALID)
        result = run("check", "-c", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("EVENT", result.stdout)
        self.assertIn("events", result.stdout)
        self.assertNotIn(CLIENT_SECRET, result.stdout + result.stderr)

    def test_check_reports_every_error_with_location(self):
        path = self.write("bad.yaml", VALID.replace("log:", "logg:") + "extra_key: 1\n")
        result = run("check", "-c", path)
        self.assertEqual(result.returncode, 2)
        lines = [l for l in result.stderr.splitlines() if l.strip()]
        self.assertGreaterEqual(len(lines), 2, result.stderr)
        for line in lines:
            self.assertRegex(line, r"^" + path + r":\d+:\d+: ")
        self.assertIn('did you mean "log"', result.stderr)

    def test_check_missing_file_exits_two(self):
        result = run("check", "-c", os.path.join(self.dir.name, "absent.yaml"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("absent.yaml", result.stderr)

    def test_config_from_environment_variable(self):
        path = self.write("env.yaml", VALID)
        result = run("check", env={"DINGTALK_STREAM_BRIDGE_CONFIG": path})
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_run_with_invalid_config_exits_two(self):
        path = self.write("bad.yaml", "dingtalk: [\n")
        self.assertEqual(run("run", "-c", path).returncode, 2)

    def test_default_command_is_run_and_sigterm_exits_zero(self):
        emulator = Emulator()
        self.addCleanup(emulator.stop)
        path = self.write("run.yaml", bridge_config(emulator) +
                          f"state_dir: {self.dir.name}/state\n")
        env = dict(os.environ, DINGTALK_STREAM_BRIDGE_CONFIG=path)
        proc = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            emulator.wait_for_connections(1)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=15), 0)


if __name__ == "__main__":
    unittest.main()
