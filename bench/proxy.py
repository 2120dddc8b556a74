#!/usr/bin/env python3
"""Loopback latency/throttling proxy for benchmarks (stdlib only).

Listens on 127.0.0.1:PORT and forwards every request to the emulator, adding a fixed latency
per call (--latency-ms, default 40) and a per-operation token bucket (--rate calls/s per
operation, --burst tokens; 0 = no limit). A request over its operation's rate gets the AWS
throttling error in its protocol's shape:
  JSON 1.0/1.1 (X-Amz-Target): 400 {"__type":"ThrottlingException",...}
  awsQuery (Action=):          400 <ErrorResponse>...<Code>Throttling</Code>...
  EC2 (Action= to EC2):        503 <Response><Errors><Error><Code>RequestLimitExceeded</Code>...
  S3 (REST-XML):               503 <Error><Code>SlowDown</Code>...
  REST-JSON (others):          429 x-amzn-ErrorType: TooManyRequestsException
It counts calls forwarded and throttles sent, per operation, and prints them on exit/SIGTERM
and at GET /__stats (JSON). POST /__reset zeroes the counters.
"""

import argparse
import http.client
import json
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"calls": {}, "throttles": {}}
BUCKETS = {}
ARGS = None


def service_of(headers):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    return m.group(1) if m else "unknown"


def operation(method, path, headers, body):
    """(service, operation, protocol)"""
    svc = service_of(headers)
    target = headers.get("X-Amz-Target")
    if target:
        return svc, target.split(".")[-1], "json"
    ctype = headers.get("Content-Type", "")
    if method == "POST" and "x-www-form-urlencoded" in ctype:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", ["?"])[0]
        return svc, action, "ec2" if svc == "ec2" else "query"
    route = re.sub(r"/[^/]*[0-9][^/]*", "/{id}", urllib.parse.urlsplit(path).path)
    if svc == "s3":
        return svc, f"{method} {route}", "s3"
    return svc, f"{method} {route}", "rest-json"


def take(key):
    if ARGS.rate <= 0:
        return True
    now = time.monotonic()
    with LOCK:
        tokens, last = BUCKETS.get(key, (float(ARGS.burst), now))
        tokens = min(float(ARGS.burst), tokens + (now - last) * ARGS.rate)
        ok = tokens >= 1.0
        BUCKETS[key] = (tokens - 1.0 if ok else tokens, now)
        return ok


def throttle_answer(protocol):
    rid = str(uuid.uuid4())
    if protocol == "json":
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return 400, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid)], body
    if protocol == "query":
        body = f"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        return 400, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body
    if protocol == "ec2":
        body = f"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>{rid}</RequestID></Response>"
        return 503, [("Content-Type", "text/xml")], body
    if protocol == "s3":
        body = f"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{rid}</RequestId></Error>"
        return 503, [("Content-Type", "application/xml"), ("x-amz-request-id", rid)], body
    body = json.dumps({"message": "Too Many Requests"})
    return 429, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "TooManyRequestsException"), ("x-amzn-RequestId", rid)], body


def snapshot():
    with LOCK:
        calls = sum(STATS["calls"].values())
        throttles = sum(STATS["throttles"].values())
        return {"calls": calls, "throttles": throttles, "per_operation": {k: {"calls": v, "throttles": STATS["throttles"].get(k, 0)} for k, v in sorted(STATS["calls"].items())}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__stats":
            return self._send(200, [("Content-Type", "application/json")], json.dumps(snapshot()))
        if self.path == "/__reset":
            with LOCK:
                STATS["calls"].clear()
                STATS["throttles"].clear()
                BUCKETS.clear()
            return self._send(200, [], "")
        svc, op, protocol = operation(self.command, self.path, self.headers, body)
        key = f"{svc}:{op}"
        time.sleep(ARGS.latency_ms / 1000.0)
        with LOCK:
            STATS["calls"][key] = STATS["calls"].get(key, 0) + 1
        if not take(key):
            with LOCK:
                STATS["throttles"][key] = STATS["throttles"].get(key, 0) + 1
            return self._send(*throttle_answer(protocol))
        conn = http.client.HTTPConnection("127.0.0.1", ARGS.upstream, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            out = [(k, v) for k, v in r.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
            self._send(r.status, out, data)
        finally:
            conn.close()

    def _send(self, status, headers, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True, help="emulator port on 127.0.0.1")
    p.add_argument("--latency-ms", type=float, default=40.0)
    p.add_argument("--rate", type=float, default=20.0, help="calls/s per operation; 0: unlimited")
    p.add_argument("--burst", type=float, default=None, help="bucket size (default: rate)")
    ARGS = p.parse_args()
    if ARGS.burst is None:
        ARGS.burst = max(ARGS.rate, 1.0)
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True

    def stop(*_):
        print(json.dumps(snapshot()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
