"""SIGHUP reloads never hold up the event loop (issue 12): the config is read and checked on
a worker thread while ACKs and /healthz go on, a load that blocks (a FIFO secret file) stops
neither them nor the shutdown, and a storm of SIGHUPs still ends with the newest file."""
import datetime
import errno
import os
import re
import signal
import tempfile
import time
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

ACK_DEADLINE_US = 2_500_000  # limits.ack_deadline's default: the contract, not a speed goal


def log_ms(line):
    """Epoch ms of a text log line ("2026-12-02T11:15:28.323Z info ...")."""
    stamp = datetime.datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000


def unblock_fifo_readers(path):
    """Opens the FIFO for writing and closes it, so a reader blocked in open() gets EOF."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as err:
        if err.errno not in (errno.ENXIO, errno.ENOENT):  # ENXIO: nobody is reading
            raise


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)

    def stub(self):
        stub = StubWebhook()
        self.addCleanup(stub.close)
        return stub

    def start(self, hook, **overrides):
        bridge = Bridge(bridge_config(self.emulator, self.routes(hook), **overrides))
        self.addCleanup(bridge.stop)
        self.emulator.wait_for_connections(1)
        return bridge

    @staticmethod
    def routes(hook):
        return [{"name": "events", "event": '"*"', "url": hook.url}]

    def rewrite(self, bridge, text):
        """Replaces the config file in one step, as an editor or a deploy tool would."""
        text += f"state_dir: {bridge.dir.name}/state\n"
        staged = bridge.config_path + ".new"
        with open(staged, "w") as f:
            f.write(text)
        os.replace(staged, bridge.config_path)

    def assert_all_success_within_deadline(self, message_ids):
        for message_id in message_ids:
            self.emulator.wait_for_ack(message_id, timeout=30)
        frames = {f["messageId"]: f for f in self.emulator.get("/emulator/frames")}
        for message_id in message_ids:
            ack = frames[message_id]["ack"]
            self.assertEqual(ack["status"], "SUCCESS", message_id)
            self.assertLess(ack["latencyUs"], ACK_DEADLINE_US, message_id)

    def test_acks_keep_flowing_while_a_large_config_loads(self):
        hook = self.stub()
        bridge = self.start(hook)
        # 3.5 MB, under the 4 MiB cap; comments cost the parser time but no memory later.
        text = bridge_config(self.emulator, self.routes(hook))
        filler = "# " + "x" * 96 + "\n"
        self.rewrite(bridge, text + filler * (3_500_000 // len(filler)))

        bridge.send_signal(signal.SIGHUP)
        sent = []
        deadline = time.monotonic() + 120
        while not bridge.grep(r"config reloaded") and time.monotonic() < deadline:
            sent.append(self.emulator.send_event()["messageId"])
            time.sleep(0.01)
        started = log_ms(bridge.wait_for_line(r"reloading config")[0])
        reloaded = log_ms(bridge.wait_for_line(r"config reloaded", timeout=1)[0])
        self.assert_all_success_within_deadline(sent)

        # The loop ACKed while the file was being read and checked, not only after it.
        acks = [a["at"] for a in self.emulator.acks() if a["messageId"] in set(sent)]
        during = [at for at in acks if started + 50 < at < reloaded]
        print(f"\n[measure] 3.5 MB config load: {reloaded - started:.0f} ms; "
              f"{len(during)} of {len(sent)} events ACKed during it")
        self.assertTrue(during, f"no ACK between reloading ({started}) and reloaded ({reloaded})")

    def test_a_fifo_secret_file_blocks_neither_acks_nor_healthz(self):
        hook = self.stub()
        bridge = self.start(hook, **{"admin.listen": "127.0.0.1:0"})
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        healthz = "http://" + re.search(r"address=(\S+)", line).group(1) + "/healthz"
        fifo_dir = tempfile.TemporaryDirectory(prefix="bridge-fifo-")
        self.addCleanup(fifo_dir.cleanup)
        fifo = os.path.join(fifo_dir.name, "client_secret")
        os.mkfifo(fifo)
        # Runs before the directory goes: a reader still blocked in open() gets EOF, so
        # not even a daemon that waits for it can hang the teardown.
        self.addCleanup(unblock_fifo_readers, fifo)

        text = bridge_config(self.emulator, self.routes(hook)).replace(
            "client_secret: ", f"client_secret_file: {fifo}\n  # was client_secret: ")
        self.assertIn("client_secret_file", text)
        self.rewrite(bridge, text)
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"reloading config")

        # Nothing writes to the FIFO: the load blocks in open(), or is refused at once by a
        # loader that reads only regular files. Either way the loop carries on.
        sent = []
        for _ in range(20):
            sent.append(self.emulator.send_event()["messageId"])
            status, _ = http("GET", healthz, timeout=5)
            self.assertEqual(status, 200)
            time.sleep(0.02)
        self.assert_all_success_within_deadline(sent)
        self.assertIsNone(bridge.proc.poll())

        # SIGTERM still stops it cleanly with the load blocked.
        self.assertEqual(bridge.stop(timeout=20), 0)
        self.assertTrue(bridge.grep(r"stopped exit_code=0"))

    def test_a_sighup_storm_ends_with_the_newest_file_and_every_event_success(self):
        first, second, last = self.stub(), self.stub(), self.stub()
        bridge = self.start(first)
        sent = []
        started = time.monotonic()
        for i in range(200):  # 200 SIGHUPs in about 2 s, the file changing under them
            self.rewrite(bridge, bridge_config(self.emulator, self.routes(first if i % 2 else second)))
            bridge.send_signal(signal.SIGHUP)
            sent.append(self.emulator.send_event()["messageId"])
            time.sleep(max(0.0, started + (i + 1) * 0.01 - time.monotonic()))
        self.rewrite(bridge, bridge_config(self.emulator, self.routes(last)))
        bridge.send_signal(signal.SIGHUP)

        def newest_applied():
            sent.append(self.emulator.send_event()["messageId"])
            self.emulator.wait_for_ack(sent[-1])
            return last.requests

        wait_until(newest_applied, timeout=20, interval=0.2, what="the newest file to apply")
        self.assert_all_success_within_deadline(sent)
        self.assertIsNone(bridge.proc.poll())
        self.assertFalse(bridge.grep(r"reload rejected"))


if __name__ == "__main__":
    unittest.main()
