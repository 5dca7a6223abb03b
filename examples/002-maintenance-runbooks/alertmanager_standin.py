#!/usr/bin/env python3
"""A stand-in for Alertmanager's silences API (v2), for trying the runbooks without a real one.

It keeps silences in memory and implements what the runbooks call:
  POST   /api/v2/silences          create; answers {"silenceID": ...}
  GET    /api/v2/silences          list
  GET    /api/v2/silence/<id>      one, with status.state active / pending / expired
  DELETE /api/v2/silence/<id>      expire it

    python3 alertmanager_standin.py --port 9093 [--state silences.json]

--port 0 picks a free port; the port is printed on stdout once it listens. --state writes every
silence to a JSON file after each change, so a test or an operator can read them.
"""

import argparse
import datetime
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SILENCES = {}
LOCK = threading.Lock()


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def state_of(silence):
    if silence.get("expired"):
        return "expired"
    if parse_time(silence["endsAt"]) <= now():
        return "expired"
    if parse_time(silence["startsAt"]) > now():
        return "pending"
    return "active"


def public(silence):
    shown = {k: v for k, v in silence.items() if k != "expired"}
    shown["status"] = {"state": state_of(silence)}
    return shown


class Handler(BaseHTTPRequestHandler):
    state_file = None

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def save(self):
        if self.state_file:
            with open(self.state_file, "w") as f:
                json.dump([public(s) for s in SILENCES.values()], f, indent=2)

    def do_POST(self):
        if self.path != "/api/v2/silences":
            return self.reply(404, {"error": "not found"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            for key in ("matchers", "startsAt", "endsAt", "createdBy", "comment"):
                if key not in body:
                    raise ValueError(f"missing {key}")
            if parse_time(body["endsAt"]) <= parse_time(body["startsAt"]):
                raise ValueError("endsAt is not after startsAt")
        except (ValueError, TypeError) as e:
            return self.reply(400, {"error": str(e)})
        silence_id = str(uuid.uuid4())
        with LOCK:
            SILENCES[silence_id] = dict(body, id=silence_id)
            self.save()
        self.reply(200, {"silenceID": silence_id})

    def do_GET(self):
        with LOCK:
            if self.path == "/api/v2/silences":
                return self.reply(200, [public(s) for s in SILENCES.values()])
            silence = SILENCES.get(self.path.removeprefix("/api/v2/silence/"))
            if silence is None:
                return self.reply(404, {"error": "silence not found"})
            self.reply(200, public(silence))

    def do_DELETE(self):
        with LOCK:
            silence = SILENCES.get(self.path.removeprefix("/api/v2/silence/"))
            if silence is None:
                return self.reply(404, {"error": "silence not found"})
            silence["expired"] = True
            self.save()
        self.reply(200, {})

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9093)
    p.add_argument("--state")
    args = p.parse_args()
    Handler.state_file = args.state
    server = ThreadingHTTPServer((args.listen, args.port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
