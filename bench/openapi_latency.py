#!/usr/bin/env python3
"""Added latency of the local OpenAPI endpoint (product.md section 13), run by hand.

Starts the emulator and the bridge (openapi.listen on loopback) and times N sequential
`PUT /v1.0/card/instances` calls on one kept-alive connection each way:
  direct: straight to the emulator, with a token fetched once by this script;
  proxy:  through the bridge, which adds the token.
Prints p50/p99 of both and of the difference. Not part of CI's quick bench: a loopback
figure on a shared machine is for comparison, not for a gate.

  bench/openapi_latency.py [--binary build/src/dingtalk-stream-bridge] [--requests 2000]
"""
import argparse
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def timed(host_port, path, headers, count):
    conn = http.client.HTTPConnection(host_port, timeout=10)
    body = b'{"outTrackId":"bench","cardData":{"cardParamMap":{"k":"v"}}}'
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        conn.request("PUT", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        samples.append((time.perf_counter() - start) * 1e6)
        if resp.status != 200:
            raise SystemExit(f"{host_port}{path}: HTTP {resp.status}")
    conn.close()
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=harness.BINARY)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    harness.BINARY = args.binary
    emulator = harness.Emulator()
    bridge = None
    try:
        # info: the endpoint's "listening" line, and no per-request debug line in the way.
        config = harness.bridge_config(emulator, **{"openapi.listen": "127.0.0.1:0",
                                                    "log.level": "info"})
        bridge = harness.Bridge(config)
        line = bridge.wait_for_line(r"openapi.*listening", timeout=10)[0]
        proxy = line.split("address=")[1].split()[0]
        status, token = harness.http("POST", emulator.base + "/v1.0/oauth2/accessToken",
                                     {"appKey": harness.CLIENT_ID, "appSecret": harness.CLIENT_SECRET})
        assert status == 200, token
        headers = {"Content-Type": "application/json"}
        # Warm both paths (the proxy's token fetch, connection set-up), then measure in turns
        # so both see the same machine load.
        timed(emulator.address, "/v1.0/card/instances",
              dict(headers, **{"x-acs-dingtalk-access-token": token["accessToken"]}), 50)
        timed(proxy, "/v1.0/card/instances", headers, 50)
        direct, proxied = [], []
        rounds = 10
        for _ in range(rounds):
            direct += timed(emulator.address, "/v1.0/card/instances",
                            dict(headers, **{"x-acs-dingtalk-access-token": token["accessToken"]}),
                            args.requests // rounds)
            proxied += timed(proxy, "/v1.0/card/instances", headers, args.requests // rounds)
        result = {
            "requests": len(direct),
            "direct_us": {"p50": round(percentile(direct, 50)), "p99": round(percentile(direct, 99))},
            "proxy_us": {"p50": round(percentile(proxied, 50)), "p99": round(percentile(proxied, 99))},
        }
        result["added_us"] = {k: result["proxy_us"][k] - result["direct_us"][k] for k in ("p50", "p99")}
        result["token_fetches"] = emulator.get("/emulator/tokens")["fetches"] - 1  # less ours
        print(json.dumps(result))
    finally:
        if bridge is not None:
            bridge.stop()
        emulator.stop()


if __name__ == "__main__":
    main()
