"""A backend for Herald (docs/backend.md), with Python's standard library only.

Run herald with

    HERALD_WEBHOOK_SECRET=... herald serve --config herald.yaml \\
        --proxy-url http://127.0.0.1:3000/herald --webhook-url http://127.0.0.1:3000/herald/webhooks

(herald.yaml: proxy: {cookies: [sid]}) and it asks this server about every
connect, subscribe, publish, RPC... and tells it what happened.
"""

import hashlib
import hmac
import json
import os
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "3000"))
WEBHOOK_SECRET = os.environ.get("HERALD_WEBHOOK_SECRET", "").encode()

# Your sessions: session id (the sid cookie) -> user.
SESSIONS = {"sid-ann": "ann", "sid-bob": "bob"}
# The webhook events received, verified and de-duplicated by id.
EVENTS, SEEN, LOCK = [], set(), threading.Lock()
# The demo chat's /feedback notes, which arrive with send: the last 100.
FEEDBACK, FEEDBACK_KEPT = [], 100


def verify(secret, header, body, now):
    """Checks Herald-Signature: t=UNIX,v1=HEX, an HMAC-SHA256 of "t.body"."""
    t, sigs = None, []
    for part in (header or "").split(","):
        k, _, v = part.strip().partition("=")
        if k == "t":
            t = v
        elif k == "v1":
            sigs.append(v)
    if not t or not t.isdigit() or not sigs:
        return False
    if abs(now - int(t)) > 300:  # the replay window
        return False
    want = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(s, want) for s in sigs)


def connect(req, headers):
    cookie = SimpleCookie(headers.get("Cookie", ""))
    user = SESSIONS.get(cookie["sid"].value) if "sid" in cookie else None
    if not user:
        return {"error": {"code": 101, "message": "log in first"}}
    return {"result": {"user": user, "info": {"name": user}, "channels": ["inbox:" + user]}}


def subscribe(req, headers):
    if req["channel"].startswith("admin:"):
        return {"error": {"code": 103, "message": "admins only"}}
    return {"result": {}}


def rpc(req, headers):
    method = req.get("method")
    if method == "whoami":
        return {"result": {"user": req["user"]}}
    if method == "sum":
        return {"result": sum(req.get("data") or [])}
    if method == "time":  # the demo chat's /time: the backend's clock
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
        return {"result": {"now": stamp, "unix_ms": int(now * 1000), "zone": "UTC", "server": "python-backend"}}
    return {"error": {"code": 1004, "message": "no method " + str(method)}}


def send(req, headers):
    """A send is one-way: any 2xx will do. The demo's /feedback sends
    {"type": "feedback", "text", "room", "name"}; the rest is ignored."""
    d = req.get("data")
    if isinstance(d, dict) and d.get("type") == "feedback" and isinstance(d.get("text"), str) and d["text"].strip():
        entry = {
            "text": d["text"].strip()[:2000],
            "room": d["room"][:64] if isinstance(d.get("room"), str) else "",
            "name": d["name"][:32] if isinstance(d.get("name"), str) else "",
            "client": req.get("client"),
            "user": req.get("user"),
            "time_ms": int(time.time() * 1000),
        }
        with LOCK:
            FEEDBACK.append(entry)
            del FEEDBACK[:-FEEDBACK_KEPT]
        print("feedback from %s in #%s: %s" % (entry["name"] or entry["client"], entry["room"], entry["text"]), flush=True)
    return {"result": {}}


ROUTES = {
    "/herald/connect": connect,
    "/herald/refresh": lambda req, headers: {"result": {}},
    "/herald/subscribe": subscribe,
    "/herald/publish": lambda req, headers: {"result": {}},
    "/herald/rpc": rpc,
    "/herald/send": send,
}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/herald/webhooks":
            # The raw body is what was signed: parse JSON only after verifying.
            if not verify(WEBHOOK_SECRET, self.headers.get("Herald-Signature"), body, time.time()):
                return self.reply(401, {"error": "bad signature"})
            with LOCK:
                for e in json.loads(body)["events"]:
                    if e["id"] not in SEEN:  # delivery is at least once
                        SEEN.add(e["id"])
                        EVENTS.append(e)
            return self.reply(204)
        route = ROUTES.get(self.path)
        if route is None:
            return self.reply(404, {"error": "not found"})
        self.reply(200, route(json.loads(body or b"{}"), self.headers))

    def do_GET(self):
        if self.path == "/events":  # for the example's tests: what arrived
            with LOCK:
                return self.reply(200, list(EVENTS))
        if self.path == "/feedback":
            with LOCK:
                return self.reply(200, list(FEEDBACK))
        self.reply(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("backend listening on 127.0.0.1:%d" % PORT, flush=True)
    server.serve_forever()
