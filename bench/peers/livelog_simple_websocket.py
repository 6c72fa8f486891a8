"""simple-websocket live-log peer for bench/livelog_bench.py: a loop of `ws.send`.

    python bench/peers/livelog_simple_websocket.py PORT [-b 127.0.0.1]

simple-websocket (PyPI `simple-websocket`, on wsproto) needs a WSGI server that hands
over its socket; this is the way Flask-Sock runs it without gunicorn: Werkzeug's
threaded server (`werkzeug.serving.make_server(threaded=True)`), a WSGI app that calls
`simple_websocket.Server.accept(environ)` for ws://HOST:PORT/ws/log. Each viewer holds
two threads: Werkzeug's request thread (waiting in `ws.receive()` until the connection
ends) and simple-websocket's own reader thread. Bench routes:

- /bench/publish?n=N&size=S&run=R: a thread encodes N records as JSON text, the same shape
  as wsserver's live log ({"t", "level", "name", "msg"}, msg "bench-RRRR-seq=NNNNNNNN xxx..." of
  S bytes), and for each one calls `ws.send(text)` on every viewer (simple-websocket
  has no broadcast: wsproto frames the message for each connection, then a blocking
  `socket.send`). Answers {"start": time.monotonic() of the first send}.
- /bench/status: {"start", "end", "published", "running"}.
- /bench/viewers: {"viewers": number of connected viewers}.

ping_interval stays None (the default: no keepalive). Werkzeug's request log is
turned down to warnings. Prints a line with http://HOST:PORT/ once it is listening.
"""

import json
import logging
import threading

from peerlib import Publisher, announce, arg_parser, publish_args, record
from simple_websocket import ConnectionClosed, Server
from werkzeug.serving import make_server


class State:
    lock = threading.Lock()
    viewers = ()  # replaced, never changed in place


def publish(n, run, pad):
    viewers = State.viewers
    for i in range(n):
        text = record(run, i, pad)
        for ws in viewers:
            try:
                ws.send(text)
            except (ConnectionClosed, OSError):
                pass


PUBLISHER = Publisher(publish)


def respond(start_response, status, value):
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/ws/log":
        return view(environ)
    if path == "/bench/publish":
        start = PUBLISHER.begin(*publish_args(environ.get("QUERY_STRING", "")))
        if start is None:
            return respond(start_response, "409 Conflict", {"start": None})
        return respond(start_response, "200 OK", {"start": start})
    if path == "/bench/status":
        return respond(start_response, "200 OK", PUBLISHER.status())
    if path == "/bench/viewers":
        return respond(start_response, "200 OK", {"viewers": len(State.viewers)})
    return respond(start_response, "404 Not Found", {"error": "no such route"})


def view(environ):
    ws = Server.accept(environ)
    with State.lock:
        State.viewers = State.viewers + (ws,)
    try:
        while ws.connected:
            ws.receive(timeout=1)  # viewers send nothing; this waits for the end
    except ConnectionClosed:
        pass
    finally:
        with State.lock:
            State.viewers = tuple(v for v in State.viewers if v is not ws)
    # As Flask-Sock does under Werkzeug: the socket is done, no HTTP response follows.
    raise ConnectionError("WebSocket closed")


def main():
    parser = arg_parser(__doc__)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(args.bind, args.port, app, threaded=True)
    server.daemon_threads = True
    announce(args)
    server.serve_forever()


if __name__ == "__main__":
    main()
