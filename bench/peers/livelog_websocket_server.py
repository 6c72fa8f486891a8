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

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from peerlib import Publisher, announce, arg_parser, publish_args, record
from websocket_server import WebsocketServer


class State:
    server = None


def publish(n, run, pad):
    send_to_all = State.server.send_message_to_all
    for i in range(n):
        send_to_all(record(run, i, pad))


PUBLISHER = Publisher(publish)


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/bench/publish":
            start = PUBLISHER.begin(*publish_args(url.query))
            return self.reply(409 if start is None else 200, {"start": start})
        if url.path == "/bench/status":
            return self.reply(200, PUBLISHER.status())
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
    parser = arg_parser(__doc__)
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args()
    State.server = WebsocketServer(host=args.bind, port=args.port, loglevel=logging.WARNING)
    control = ThreadingHTTPServer((args.bind, args.control_port), Control)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    announce(args, " (bench routes on http://%s:%d/)" % (args.bind, args.control_port))
    State.server.run_forever()


if __name__ == "__main__":
    main()
