#!/usr/bin/env python3
"""A small AI-skill service behind a `format: graph` route. Standard library only.

DingTalk's AI assistant calls a skill as an HTTP request inside a Stream frame; the bridge
sends it here as a real request (method, path + query, headers, body) and passes the answer
back, whatever its status. So a skill is a plain HTTP API:

  GET  /weather?city=NAME    200 {"city","forecast","celsius"}; 400 without a city,
                             404 for a city it does not know
  POST /summarize            JSON {"text": "..."} -> 200 {"summary","words"};
                             400 when the body is not JSON, 422 without a text
  ANY  /echo                 200 with what arrived: method, path, query, headers, body
                             (handy while setting a route up)

Route (config/bridge.example.yaml):
  - name: skills
    topic: /v1.0/graph/api/invoke
    format: graph
    url: http://127.0.0.1:8090/skills

  python3 ai_skill.py [--port 8090] [--prefix /skills]   (--port 0 picks a free port)
Prints "ai skill listening on 127.0.0.1:PORT" once it takes requests.
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FORECASTS = {"杭州": ("小雨", 18), "北京": ("晴", 25), "hangzhou": ("light rain", 18),
             "beijing": ("sunny", 25)}


def weather(request):
    city = parse_qs(request.query).get("city", [""])[0]
    if not city:
        return 400, {"error": "city is required"}
    if city.lower() not in FORECASTS:
        return 404, {"error": f"no forecast for {city}"}
    forecast, celsius = FORECASTS[city.lower()]
    return 200, {"city": city, "forecast": forecast, "celsius": celsius}


def summarize(request):
    try:
        text = json.loads(request.body.decode("utf-8")).get("text")
    except (ValueError, AttributeError):
        return 400, {"error": "the body must be a JSON object"}
    if not isinstance(text, str) or not text.strip():
        return 422, {"error": "text is required"}
    words = text.split()
    # The first sentence, cut at a Western or a Chinese full stop, is the "summary".
    first = text.replace("。", ".").split(".")[0].strip()
    return 200, {"summary": first[:200], "words": len(words)}


def echo(request):
    return 200, {"method": request.command, "path": request.path_only, "query": request.query,
                 "headers": {name.lower(): value for name, value in request.headers.items()},
                 "body": request.body.decode("utf-8", errors="replace")}


# path -> (methods, handler); None means every method.
ROUTES = {"/weather": ({"GET", "HEAD"}, weather), "/summarize": ({"POST"}, summarize),
          "/echo": (None, echo)}


class Skill(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    prefix = ""

    def handle_any(self):
        parts = urlsplit(self.path)
        self.path_only, self.query = parts.path, parts.query
        self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path_only
        if self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix):]
        methods, handler = ROUTES.get(path, (None, None))
        if handler is None:
            status, reply = 404, {"error": f"no skill at {self.path_only}"}
        elif methods is not None and self.command not in methods:
            status, reply = 405, {"error": f"{self.command} is not allowed here"}
        else:
            status, reply = handler(self)
        data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Skill", "ai_skill.py")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

    def log_message(self, fmt, *args):
        print(f"ai skill: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}",
              file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--prefix", default="/skills",
                        help="path prefix the route's url ends with ('' for none)")
    args = parser.parse_args()
    Skill.prefix = args.prefix.rstrip("/")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Skill)
    print(f"ai skill listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
