"""Helpers shared by the peer servers in bench/peers/.

Each peer stays a standalone script (`python bench/peers/X.py PORT -b HOST`; its
folder is on sys.path, so `import peerlib` works), but the pieces that must be
the same in all of them live here once: the command line and the URL line the
benches wait for, the live-log record every live-log peer broadcasts, and the
bench routes' publish runs.
"""

import argparse
import base64
import hashlib
import json
import select
import socket
import struct
import threading
import time
from urllib.parse import parse_qs

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
FORMAT = "bench-%04d-seq=%08d %s"  # run, sequence number, padding


def arg_parser(doc):
    """PORT and -b/--bind, as every bench starts its peers."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    return parser


def announce(args, extra=""):
    """The line the benches wait for: http://HOST:PORT/ once the peer listens."""
    print("Serving on http://%s:%d/%s" % (args.bind, args.port, extra), flush=True)


# --------------------------------------------------------------------------
# WebSocket by hand (epoll peers)

def accept_value(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (bytes)."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def server_frame(opcode, payload):
    """A final, unmasked server frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack(">BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 127, n)
    return head + payload


def accept_all(listener, poller, conns, entry):
    """Accept every pending connection: non-blocking, TCP_NODELAY, conns[fd] = entry(conn)."""
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns[conn.fileno()] = entry(conn)
        poller.register(conn.fileno(), select.EPOLLIN)


# --------------------------------------------------------------------------
# Live-log records and publish runs

def padding(size):
    """The padding that makes a record's message `size` bytes."""
    return "x" * max(0, size - 24)


def record(run, i, pad):
    """One record as JSON text, the shape of wsserver's live log."""
    return json.dumps({"t": time.time(), "level": "INFO", "name": "bench",
                       "msg": FORMAT % (run, i, pad)})


def publish_args(query_string):
    """(n, size, run) of a /bench/publish query."""
    query = {k: v[0] for k, v in parse_qs(query_string).items()}
    return int(query.get("n", 1000)), int(query.get("size", 64)), int(query.get("run", 0))


class Publisher:
    """The last /bench/publish run: a thread that calls loop(n, run, pad) once.

    `loop` publishes records 0..n-1 as fast as it can; start is taken just before it.
    """

    def __init__(self, loop):
        self.loop = loop
        self.lock = threading.Lock()
        self.start = self.end = None
        self.published = 0
        self.thread = None

    def run(self, n, size, run):
        pad = padding(size)
        self.start = time.monotonic()
        self.started.set()
        self.loop(n, run, pad)
        self.published = n
        self.end = time.monotonic()

    def begin(self, n, size, run):
        """Start a run; its start time, or None while one is still running."""
        with self.lock:
            if self.running():
                return None
            self.start = self.end = None
            self.published = 0
            self.started = threading.Event()
            self.thread = threading.Thread(target=self.run, args=(n, size, run), daemon=True)
            self.thread.start()
        self.started.wait(10)
        return self.start

    def running(self):
        return self.thread is not None and self.thread.is_alive()

    def status(self):
        return {"start": self.start, "end": self.end, "published": self.published,
                "running": self.running()}
