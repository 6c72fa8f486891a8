"""Add routes of your own: a WebSocket that pushes sensor readings and answers commands,
and a small HTTP route, next to everything wsserver serves.

    python examples/custom_route.py [PORT] [-b ADDRESS]

    ws://localhost:8000/ws/sensor   a reading every second, {"celsius": 22.4, "t": ...};
                                    send "read" for one at once: {"command": "read",
                                    "reading": {...}}
    http://localhost:8000/api/reading   the latest reading as JSON

The hooks (on_open, on_message, on_close) run on the server's one WebSocket thread:
they must not block. Ctrl-C or SIGTERM stops it cleanly; WebSocket clients get close
code 1001 ("going away").

Needs the wsserver package importable: `pip install .` in the repository, or
PYTHONPATH pointing at it.
"""
import argparse
import json
import math
import os
import signal
import threading
import time

from wsserver.handler import RequestHandler
from wsserver.server import make_server

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "..", "static")
SENSOR = "/ws/sensor"
READING = "/api/reading"

latest = {"celsius": None, "t": None}  # replaced whole by the main loop, never changed
listeners = set()  # the open /ws/sensor connections
listeners_lock = threading.Lock()  # hooks add and remove while the main loop broadcasts


class SensorHandler(RequestHandler):
    """The stock routes, plus SENSOR (WebSocket) and READING (GET)."""

    websocket_paths = RequestHandler.websocket_paths + (SENSOR,)

    def on_open(self):
        if self.path != SENSOR:
            return RequestHandler.on_open(self)  # /ws/log, /ws/echo
        with listeners_lock:
            listeners.add(self)

    def on_message(self, data):
        if self.path != SENSOR:
            return RequestHandler.on_message(self, data)
        # An answer names its command: readings pushed meanwhile look alike otherwise.
        if data == "read":
            self.send(json.dumps({"command": data, "reading": latest}))
        else:
            self.send(json.dumps({"command": data, "error": "unknown; try \"read\""}))

    def on_close(self, code, reason):
        if self.path != SENSOR:
            return RequestHandler.on_close(self, code, reason)
        with listeners_lock:
            listeners.discard(self)

    def do_GET(self):
        if self.path != READING:
            return RequestHandler.do_GET(self)
        self.send_reading(head_only=False)

    def do_HEAD(self):  # HTTP wants HEAD wherever GET is served
        if self.path != READING:
            return RequestHandler.do_HEAD(self)
        self.send_reading(head_only=True)

    def send_reading(self, head_only):
        body = json.dumps(latest).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", len(body))
        self.send_header("Cache-Control", "no-store")  # a new reading every second
        self.end_headers()
        self.write(b"" if head_only else body)


def read_temperature(now):
    """A pretend sensor: a slow wave around 22 degrees."""
    return 22.0 + 3.0 * math.sin(now / 10.0)


def main():
    global latest
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=8000)
    parser.add_argument("-b", "--bind", default="", metavar="ADDRESS")
    args = parser.parse_args()

    server = make_server(port=args.port, bind=args.bind, directory=STATIC, uploads="uploads",
                         handler_class=SensorHandler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM acts as Ctrl-C
    server.start()
    try:  # from here on, a signal stops the server the clean way
        print("Serving on http://%s:%d/ (WebSocket %s)" % (args.bind or "localhost",
              server.server_address[1], SENSOR), flush=True)
        while True:
            now = time.time()
            latest = {"celsius": round(read_temperature(now), 2), "t": now}
            with listeners_lock:
                connections = list(listeners)
            # Encoded once for all; a client that does not read never holds this up.
            server.broadcast(connections, json.dumps(latest))
            time.sleep(1)
    except KeyboardInterrupt:
        print("Stopping", flush=True)
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
