"""The monitoring pack (packaging/monitoring) names only what the bridge exports: every metric
in the Grafana dashboard's queries and in the alert rules is a family of a real bridge's
/metrics after a little of every kind of traffic (a histogram's _bucket, _sum and _count
count as its family). And the dashboard imports anywhere: its datasource is an input."""
import json
import os
import re
import unittest

from harness import SOURCE_DIR, Bridge, Emulator, StubWebhook, bridge_config, http, wait_until

PACK = os.path.join(SOURCE_DIR, "packaging", "monitoring")
ROBOT = "/v1.0/im/bot/messages/get"
METRIC = re.compile(r"\bdsb_[a-z0-9_]+")


def dashboard():
    with open(os.path.join(PACK, "grafana-dashboard.json")) as f:
        return json.load(f)


def dashboard_queries():
    board = dashboard()
    queries = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return queries + [v["query"]["query"] for v in board["templating"]["list"]]


def alert_rules_text():
    with open(os.path.join(PACK, "alerts.yaml")) as f:
        return f.read()


def rule_expressions():
    """The `expr:` of every rule, one line or a `|` block (standard library only: no YAML)."""
    exprs, lines = [], alert_rules_text().splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"(\s*)expr:\s*(.*)$", line)
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2)
        if rest not in ("|", ">", "|-", ">-"):
            exprs.append(rest)
            continue
        block = []
        for following in lines[i + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following.strip())
        exprs.append(" ".join(block))
    return exprs


def exported_families(text):
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            names.add(name)
            if kind == "histogram":
                names.update({name + "_bucket", name + "_sum", name + "_count"})
    return names


class MonitoringPackTest(unittest.TestCase):
    def test_the_dashboard_imports_with_its_datasource_as_an_input_and_has_every_row(self):
        board = dashboard()
        self.assertEqual([i["name"] for i in board["__inputs"]], ["DS_PROMETHEUS"])
        self.assertEqual(board["__inputs"][0]["pluginId"], "prometheus")
        self.assertIsNone(board["id"])
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            self.assertEqual(panel["datasource"]["uid"], "${DS_PROMETHEUS}", panel["title"])
            for target in panel["targets"]:
                self.assertEqual(target["datasource"]["uid"], "${DS_PROMETHEUS}", panel["title"])
        self.assertEqual([p["title"] for p in board["panels"] if p["type"] == "row"],
                         ["Connections", "Frames and ACKs", "Deliveries per route", "Latency",
                          "Spool", "Dead letters"])

    def test_every_alert_has_a_runbook(self):
        text = alert_rules_text()
        alerts = re.findall(r"- alert: (\S+)", text)
        self.assertGreaterEqual(len(alerts), 8)
        for block in re.split(r"\n\s+- alert: ", text)[1:]:
            for part in ("summary:", "description:", "Means:", "Check:", "Do:"):
                self.assertIn(part, block, block.splitlines()[0])

    def test_every_metric_the_pack_names_is_exported_by_the_bridge(self):
        used = {name for expr in dashboard_queries() + rule_expressions() for name in METRIC.findall(expr)}
        self.assertGreater(len(used), 10)

        emulator = Emulator()
        self.addCleanup(emulator.stop)
        reply = {"msgtype": "text", "text": {"content": "pong"}}
        hook = StubWebhook(body=json.dumps(reply).encode())
        self.addCleanup(hook.close)
        bridge = Bridge(bridge_config(emulator, [
            {"name": "events", "event": '"user_*"', "url": hook.url},
            {"name": "spooled", "event": '"org_*"', "url": hook.url, "delivery": "spool"},
            {"name": "robot", "topic": ROBOT, "url": hook.url}], **{"admin.listen": "127.0.0.1:0"}))
        self.addCleanup(bridge.stop)
        line = bridge.wait_for_line(r"admin endpoint listening")[0]
        base = "http://" + re.search(r"address=(\S+)", line).group(1)
        emulator.wait_for_connections(1)

        # A little of everything: delivered, spooled, unrouted, robot reply, malformed.
        for event_type in ("user_add_org", "org_dept_create", "chat_update"):
            emulator.wait_for_ack(emulator.send_event(event_type)["messageId"])
        robot = emulator.send_callback(ROBOT, {"msgId": "m-1", "msgtype": "text", "text": {"content": "ping"}})
        emulator.wait_for_ack(robot["messageId"])
        wait_until(lambda: emulator.get("/emulator/replies"), what="the robot reply")
        emulator.post("/emulator/raw", {"text": '{"type": "EVENT", "headers": {"messageId": "bad-1"}, "data": "{"}'})
        wait_until(lambda: emulator.acks("bad-1"), what="the malformed frame's ACK")

        exported = wait_until(lambda: (lambda names: names if "dsb_robot_replies_total" in names else None)(
            exported_families(http("GET", base + "/metrics")[1])), what="every family in /metrics")
        self.assertEqual(sorted(used - exported), [], "named by the monitoring pack, not exported")


if __name__ == "__main__":
    unittest.main()
