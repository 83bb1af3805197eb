"""Several apps in one daemon (product.md section 12): each app's frames reach its own routes
with X-DingTalk-App, one eventId in two apps is delivered to both, and SIGHUP adds and
removes apps without touching the connections of the apps it leaves alone."""
import os
import re
import signal
import unittest

from harness import CLIENT_ID, CLIENT_SECRET, Bridge, Emulator, StubWebhook, http, wait_until

APPS = {"hr": ("hr-client", "hr-secret"), "sales": ("sales-client", "sales-secret"),
        "default": (CLIENT_ID, CLIENT_SECRET),
        "stranger": ("unknown-client", "whatever")}  # the emulator refuses its credentials


def apps_config(emulator, hooks, admin='""', robots=()):
    """`apps:` with one app per entry of `hooks` (name -> StubWebhook), each on its own client;
    the apps named in `robots` also take robot messages (another subscription)."""
    lines = ["apps:"]
    for name, hook in hooks.items():
        client_id, secret = APPS[name]
        lines += [f"  - name: {name}",
                  f"    client_id: {client_id}",
                  f"    client_secret: {secret}",
                  f"    api_base: {emulator.base}",
                  "    routes:",
                  "      - name: events",
                  '        event: "*"',
                  f"        url: {hook.url}/{name}"]
        if name in robots:
            lines += ["      - name: robot",
                      "        topic: /v1.0/im/bot/messages/get",
                      f"        url: {hook.url}/{name}-robot"]
    lines += ["admin:", f"  listen: {admin}", "log:", "  level: debug"]
    return "\n".join(lines) + "\n"


class AppsTest(unittest.TestCase):
    def setUp(self):
        # The harness's own client (the app "default" here) plus two more.
        self.emulator = Emulator("--client-id", "hr-client:hr-secret",
                                 "--client-id", "sales-client:sales-secret")
        self.addCleanup(self.emulator.stop)

    def stub(self):
        hook = StubWebhook()
        self.addCleanup(hook.close)
        return hook

    def start(self, hooks, admin='""', connecting=None):
        bridge = Bridge(apps_config(self.emulator, hooks, admin))
        self.addCleanup(bridge.stop)
        self.wait_for_clients(connecting or set(APPS[name][0] for name in hooks))
        return bridge

    @staticmethod
    def admin_base(bridge):
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        return "http://" + re.search(r"address=(\S+)", line).group(1)

    def open_by_client(self):
        return {c["clientId"]: c["id"] for c in self.emulator.connections("open")}

    def wait_for_clients(self, client_ids):
        return wait_until(lambda: set(self.open_by_client()) == client_ids and self.open_by_client(),
                          timeout=15, what=f"open connections of exactly {sorted(client_ids)}")

    def delivered(self, hook, event_id):
        return [r for r in hook.requests if f'"{event_id}"'.encode() in r["body"] or
                r["headers"].get("Idempotency-Key") == event_id]

    def test_each_app_reaches_its_own_route_with_its_name(self):
        hr, sales = self.stub(), self.stub()
        self.start({"hr": hr, "sales": sales})
        sent_hr = self.emulator.send_event(clientId="hr-client", eventId="ev-hr-1")
        sent_sales = self.emulator.send_event(clientId="sales-client", eventId="ev-sales-1")
        for sent in (sent_hr, sent_sales):
            self.assertEqual(self.emulator.wait_for_ack(sent["messageId"])["status"], "SUCCESS")
        wait_until(lambda: hr.requests and sales.requests, what="both webhooks called")
        self.assertEqual([r["path"] for r in hr.requests], ["/hr"])
        self.assertEqual([r["path"] for r in sales.requests], ["/sales"])
        self.assertEqual(hr.requests[0]["headers"]["X-DingTalk-App"], "hr")
        self.assertEqual(sales.requests[0]["headers"]["X-DingTalk-App"], "sales")

    def test_metrics_carry_the_app_and_readyz_names_the_app_without_a_connection(self):
        hr, stranger = self.stub(), self.stub()
        bridge = self.start({"hr": hr, "stranger": stranger}, admin="127.0.0.1:0",
                            connecting={"hr-client"})
        base = self.admin_base(bridge)
        bridge.wait_for_line(r"rejected credentials.*app=stranger")
        status, body = http("GET", base + "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("no Stream connection registered for app stranger", str(body))
        self.assertNotIn("app hr", str(body))

        sent = self.emulator.send_event(clientId="hr-client", eventId="ev-metrics")
        self.emulator.wait_for_ack(sent["messageId"])
        status, text = http("GET", base + "/metrics")
        self.assertEqual(status, 200)
        text = text if isinstance(text, str) else text.decode()
        self.assertRegex(text, r'dsb_deliveries_total\{app="hr",route="events",outcome="ok"\} 1')
        self.assertRegex(text, r'dsb_deliveries_total\{app="stranger",route="events",outcome="ok"\} 0')
        self.assertRegex(text, r'dsb_connections_up\{app="hr"\} 1')
        self.assertRegex(text, r'dsb_connections_up\{app="stranger"\} 0')

    def test_one_event_id_in_two_apps_is_delivered_to_both(self):
        hr, sales = self.stub(), self.stub()
        self.start({"hr": hr, "sales": sales})
        first = self.emulator.send_event(clientId="hr-client", eventId="same-event")
        self.emulator.wait_for_ack(first["messageId"])
        second = self.emulator.send_event(clientId="sales-client", eventId="same-event")
        self.assertEqual(self.emulator.wait_for_ack(second["messageId"])["status"], "SUCCESS")
        self.assertEqual(len(hr.requests), 1)
        self.assertEqual(len(sales.requests), 1)
        # Within one app it is a duplicate: ACKed, not POSTed again.
        repeat = self.emulator.send_event(clientId="hr-client", eventId="same-event")
        self.assertEqual(self.emulator.wait_for_ack(repeat["messageId"])["status"], "SUCCESS")
        self.assertEqual(len(hr.requests), 1)

    def test_sighup_adds_and_removes_apps_and_leaves_the_others_connected(self):
        hr, sales, default = self.stub(), self.stub(), self.stub()
        bridge = self.start({"hr": hr, "sales": sales})
        hr_connection = self.open_by_client()["hr-client"]

        with open(bridge.config_path + ".new", "w") as f:
            f.write(apps_config(self.emulator, {"hr": hr, "default": default}) +
                    f"state_dir: {bridge.dir.name}/state\n")
        os.replace(bridge.config_path + ".new", bridge.config_path)
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"config reloaded")
        self.wait_for_clients({"hr-client", CLIENT_ID})
        # hr's connection is the very one it had: the reload did not touch it.
        self.assertEqual(self.open_by_client()["hr-client"], hr_connection)
        closed = [c for c in self.emulator.connections("closed") if c["clientId"] == "sales-client"]
        self.assertEqual(len(closed), 1)
        self.assertTrue(bridge.grep(r"app removed.*app=sales"))
        self.assertTrue(bridge.grep(r"app added app=default"))

        after = self.emulator.send_event(clientId="hr-client", eventId="ev-after")
        self.assertEqual(self.emulator.wait_for_ack(after["messageId"])["status"], "SUCCESS")
        added = self.emulator.send_event(clientId=CLIENT_ID, eventId="ev-default")
        self.assertEqual(self.emulator.wait_for_ack(added["messageId"])["status"], "SUCCESS")
        wait_until(lambda: len(hr.requests) == 1 and len(default.requests) == 1,
                   what="hr's and the new app's webhooks called")
        self.assertEqual(default.requests[0]["headers"]["X-DingTalk-App"], "default")
        self.assertEqual(sales.requests, [])
        self.assertEqual(bridge.stop(), 0)

    def rewrite(self, bridge, text):
        with open(bridge.config_path + ".new", "w") as f:
            f.write(text + f"state_dir: {bridge.dir.name}/state\n")
        os.replace(bridge.config_path + ".new", bridge.config_path)

    def test_sighup_changing_one_apps_subscriptions_replaces_only_its_connection(self):
        hr, sales = self.stub(), self.stub()
        bridge = self.start({"hr": hr, "sales": sales})
        before = self.open_by_client()
        self.rewrite(bridge, apps_config(self.emulator, {"hr": hr, "sales": sales}, robots=("hr",)))
        bridge.send_signal(signal.SIGHUP)
        bridge.wait_for_line(r"config reloaded")
        # hr subscribes to robot messages now: a new connection replaces its old one.
        wait_until(lambda: self.open_by_client().get("hr-client") not in (None, before["hr-client"]),
                   timeout=15, what="hr's replacement connection")
        self.wait_for_clients({"hr-client", "sales-client"})
        self.assertEqual(self.open_by_client()["sales-client"], before["sales-client"])
        robot = self.emulator.send_callback("/v1.0/im/bot/messages/get",
                                            {"msgId": "m-1", "robotCode": "r", "text": {"content": "hi"}},
                                            clientId="hr-client")
        self.emulator.wait_for_ack(robot["messageId"])
        wait_until(lambda: any(r["path"] == "/hr-robot" for r in hr.requests),
                   what="hr's new robot route called")


if __name__ == "__main__":
    unittest.main()
