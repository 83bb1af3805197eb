"""Every query of the Grafana dashboard is valid PromQL: each becomes a recording rule of a
throwaway rule file that `promtool check rules` parses (dashboard variables replaced by
values Prometheus would see). Exit 77 (skipped) without promtool."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

DASHBOARD = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "monitoring",
                         "grafana-dashboard.json")
VARIABLES = {"$__rate_interval": "5m", "$instance": ".*", "$route": ".*"}


def queries(dashboard):
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]["query"]
        if query.startswith("label_values("):  # Grafana's, not PromQL: check its metric
            yield variable["name"], query[len("label_values("):].split(",")[0]
        else:
            yield variable["name"], query


def main():
    if shutil.which("promtool") is None:
        print("promtool not found: install Debian's prometheus package (packaging/install-deps.sh)")
        return 77
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    lines = ["groups:", "  - name: dashboard-queries", "    rules:"]
    count = 0
    for where, expr in queries(dashboard):
        for name, value in VARIABLES.items():
            expr = expr.replace(name, value)
        count += 1
        lines.append(f"      - record: dashboard_query_{count}  # {where}")
        lines.append(f"        expr: {json.dumps(expr)}")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as rules:
        rules.write("\n".join(lines) + "\n")
    try:
        result = subprocess.run(["promtool", "check", "rules", rules.name], capture_output=True, text=True)
    finally:
        os.unlink(rules.name)
    print(result.stdout + result.stderr)
    print(f"{count} dashboard queries checked")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
