#!/usr/bin/env python3
"""The smallest webhook: prints every POST the bridge makes and answers 200 {}.

Used by packaging/run-local.sh so a newcomer sees frames arrive. Standard library only.
  python3 echo_webhook.py [PORT]     (default 8080; 0 picks a free port)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        kind = self.headers.get("X-DingTalk-Type", "legacy")
        what = self.headers.get("X-DingTalk-Event-Type") or self.headers.get("X-DingTalk-Topic", "")
        print(f"webhook {self.path}: {kind} {what} {body[:120].decode(errors='replace')}",
              file=sys.stderr, flush=True)
        reply = json.dumps({}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    server = ThreadingHTTPServer(("127.0.0.1", port), Echo)
    print(f"echo webhook listening on 127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
