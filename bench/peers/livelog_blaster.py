"""Pre-encoded live-log blaster for bench/livelog_bench.py: the viewers' ceiling.

    python bench/peers/livelog_blaster.py PORT [-b 127.0.0.1]

One thread, one epoll loop: it answers the WebSocket handshake of every viewer at
ws://HOST:PORT/ws/log, and on /bench/publish?n=N&size=S encodes N records once (the
same JSON text frames as wsserver's live log: {"t", "level", "name", "msg"}, msg
"bench-RRRR-seq=NNNNNNNN xxx..." of S bytes) into one buffer, then writes that same buffer to
every viewer, 256 KiB per send, whenever its socket can take more. The server does
no work per record and almost none per byte: what the viewers reach here is their
own limit. Bench routes: /bench/publish (answers {"start": time.monotonic() when the
first send may go}), /bench/status, /bench/viewers.
Prints a line with http://HOST:PORT/ once it is listening.
"""

import argparse
import base64
import hashlib
import json
import select
import socket
import struct
import time
from urllib.parse import parse_qs, urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CHUNK = 256 * 1024
FORMAT = "bench-%04d-seq=%08d %s"  # run, sequence number, padding


def text_frame(payload):
    n = len(payload)
    if n < 126:
        return struct.pack(">BB", 0x81, n) + payload
    if n < 65536:
        return struct.pack(">BBH", 0x81, 126, n) + payload
    return struct.pack(">BBQ", 0x81, 127, n) + payload


def records(n, size, run):
    pad = "x" * max(0, size - 24)
    return b"".join(
        text_frame(json.dumps({"t": time.time(), "level": "INFO", "name": "bench",
                               "msg": FORMAT % (run, i, pad)}).encode())
        for i in range(n))


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.head = b""
        self.viewer = False
        self.offset = None   # position in the blob while blasting
        self.reply = b""     # an HTTP answer still to send (then close)


class Blaster:
    def __init__(self, listener):
        self.listener = listener
        self.epoll = select.epoll()
        self.conns = {}
        self.blob = b""
        self.start = self.end = None
        self.published = 0
        self.pending = 0

    def run(self):
        self.listener.setblocking(False)
        self.epoll.register(self.listener.fileno(), select.EPOLLIN)
        buf = bytearray(65536)
        while True:
            for fd, events in self.epoll.poll():
                if fd == self.listener.fileno():
                    self.accept()
                    continue
                conn = self.conns.get(fd)
                if conn is None:
                    continue
                try:
                    if events & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                        n = conn.sock.recv_into(buf)
                        if n == 0:
                            raise ConnectionError("closed")
                        if conn.viewer:  # a viewer sends only its close frame
                            raise ConnectionError("viewer leaves")
                        else:
                            conn.head += bytes(buf[:n])
                            if b"\r\n\r\n" in conn.head:
                                self.request(conn)
                    if events & select.EPOLLOUT:
                        self.write(conn)
                except BlockingIOError:
                    pass
                except OSError:
                    self.drop(conn)

    def accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conns[sock.fileno()] = Conn(sock)
            self.epoll.register(sock.fileno(), select.EPOLLIN)

    def drop(self, conn):
        fd = conn.sock.fileno()
        if self.conns.pop(fd, None) is not None:
            self.epoll.unregister(fd)
            if conn.offset is not None:
                self.finished_one()
            conn.sock.close()

    def request(self, conn):
        head = conn.head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        target = lines[0].split()[1]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        url = urlsplit(target)
        if "websocket" in headers.get("upgrade", "").lower():
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode()
                                                   + GUID).digest())
            conn.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept
                              + b"\r\n\r\n")
            conn.viewer = True
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/bench/publish":
            result = self.publish(int(query.get("n", 1000)), int(query.get("size", 64)),
                                  int(query.get("run", 0)))
        elif url.path == "/bench/status":
            result = {"start": self.start, "end": self.end, "published": self.published,
                      "running": self.pending > 0}
        elif url.path == "/bench/viewers":
            result = {"viewers": sum(1 for c in self.conns.values() if c.viewer)}
        else:
            result = {"error": "no such route"}
        body = json.dumps(result).encode()
        conn.sock.setblocking(True)
        conn.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        self.drop(conn)

    def publish(self, n, size, run):
        if self.pending:
            return {"start": None}
        self.blob = memoryview(records(n, size, run))
        self.start, self.end, self.published = time.monotonic(), None, 0
        for conn in self.conns.values():
            if conn.viewer:
                conn.offset = 0
                self.pending += 1
                self.epoll.modify(conn.sock.fileno(), select.EPOLLIN | select.EPOLLOUT)
        self.published = n
        if not self.pending:
            self.end = time.monotonic()
        return {"start": self.start}

    def write(self, conn):
        if conn.offset is None:
            return
        conn.offset += conn.sock.send(self.blob[conn.offset:conn.offset + CHUNK])
        if conn.offset >= len(self.blob):
            conn.offset = None
            self.epoll.modify(conn.sock.fileno(), select.EPOLLIN)
            self.finished_one()

    def finished_one(self):
        self.pending -= 1
        if not self.pending:
            self.end = time.monotonic()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    args = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(1024)
    print("Serving on http://%s:%d/" % (args.bind, args.port), flush=True)
    try:
        Blaster(listener).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
