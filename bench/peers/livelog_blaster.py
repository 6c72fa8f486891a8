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

import json
import select
import socket
import time
from urllib.parse import urlsplit

from peerlib import accept_value, announce, arg_parser, padding, publish_args, record, server_frame

CHUNK = 256 * 1024


def records(n, size, run):
    pad = padding(size)
    return b"".join(server_frame(0x1, record(run, i, pad).encode()) for i in range(n))


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
            accept = accept_value(headers["sec-websocket-key"].encode())
            conn.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept
                              + b"\r\n\r\n")
            conn.viewer = True
            return
        if url.path == "/bench/publish":
            result = self.publish(*publish_args(url.query))
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
    parser = arg_parser(__doc__)
    args = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(1024)
    announce(args)
    try:
        Blaster(listener).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
