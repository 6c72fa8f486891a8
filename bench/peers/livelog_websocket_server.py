"""websocket-server live-log peer for bench/livelog_bench.py: `send_message_to_all`.

    python bench/peers/livelog_websocket_server.py PORT --control-port CPORT [-b 127.0.0.1]

websocket-server (PyPI `websocket-server`) is a socketserver ThreadingMixIn server (a
thread per connection) that speaks nothing but the WebSocket handshake and ignores the
URL path, so viewers connect to ws://HOST:PORT/ws/log and the bench routes live on a
second port, CPORT, served by http.server in a thread of the same process:

- /bench/publish?n=N&size=S&run=R: a thread encodes N records as JSON text, the same shape
  as wsserver's live log ({"t", "level", "name", "msg"}, msg "bench-RRRR-seq=NNNNNNNN xxx..." of
  S bytes), and calls `server.send_message_to_all(text)` for each (the library frames
  the text for each client, then a blocking `socket.send` under a per-client lock).
  Answers {"start": time.monotonic() of the first send}.
- /bench/status: {"start", "end", "published", "running"}.
- /bench/viewers: {"viewers": len(server.clients)}.

Prints a line with http://HOST:PORT/ once both ports are listening.
"""

import argparse
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from websocket_server import WebsocketServer

FORMAT = "bench-%04d-seq=%08d %s"  # run, sequence number, padding


class State:
    server = None
    thread = None
    start = end = None
    published = 0


def record(run, i, pad):
    return json.dumps({"t": time.time(), "level": "INFO", "name": "bench",
                       "msg": FORMAT % (run, i, pad)})


def publish(n, size, run, started):
    pad = "x" * max(0, size - 24)
    send_to_all = State.server.send_message_to_all
    State.start = time.monotonic()
    started.set()
    for i in range(n):
        send_to_all(record(run, i, pad))
    State.published = n
    State.end = time.monotonic()


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/bench/publish":
            if State.thread is not None and State.thread.is_alive():
                return self.reply(409, {"start": None})
            State.start = State.end = None
            State.published = 0
            started = threading.Event()
            State.thread = threading.Thread(
                target=publish, args=(int(query.get("n", 1000)), int(query.get("size", 64)),
                                      int(query.get("run", 0)), started), daemon=True)
            State.thread.start()
            started.wait(10)
            return self.reply(200, {"start": State.start})
        if url.path == "/bench/status":
            return self.reply(200, {
                "start": State.start, "end": State.end, "published": State.published,
                "running": State.thread is not None and State.thread.is_alive()})
        if url.path == "/bench/viewers":
            return self.reply(200, {"viewers": len(State.server.clients)})
        self.reply(404, {"error": "no such route"})

    def reply(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    args = parser.parse_args()
    State.server = WebsocketServer(host=args.bind, port=args.port, loglevel=logging.WARNING)
    control = ThreadingHTTPServer((args.bind, args.control_port), Control)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print("Serving on http://%s:%d/ (bench routes on http://%s:%d/)"
          % (args.bind, args.port, args.bind, args.control_port), flush=True)
    State.server.run_forever()


if __name__ == "__main__":
    main()
