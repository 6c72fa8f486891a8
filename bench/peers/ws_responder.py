"""Pre-encoded frame responder for bench/ws_bench.py: the client's ceiling.

    python bench/peers/ws_responder.py PORT [-b 127.0.0.1]

Does the WebSocket handshake, then answers every client frame with a cached,
already encoded server frame of the same opcode and length. The cache entry is
built (unmasked) from the first frame of that opcode and length; the bench
always sends the same payload for a given size, so the replies are correct
echoes while the responder does no per-message work beyond finding frame
boundaries: payload bytes are skipped, never copied. All replies to one recv go
out in one send. A close frame gets a close frame back, then the connection
ends. One thread serves every connection from an epoll loop; a connection with
unsent output is not read until it drains.
Prints a line with http://HOST:PORT/ once it is listening.
"""

import select
import socket
import struct

from peerlib import accept_all, accept_value, announce, arg_parser, server_frame

BUFFER = 1 << 16


def header_length(second_byte):
    extra = {126: 2, 127: 8}.get(second_byte & 0x7F, 0)
    return 2 + extra + (4 if second_byte & 0x80 else 0)


def parse_header(hdr):
    """(opcode, payload length, mask) of a complete frame header."""
    opcode, code = hdr[0] & 0x0F, hdr[1] & 0x7F
    pos = 2
    if code == 126:
        code, pos = struct.unpack_from(">H", hdr, 2)[0], 4
    elif code == 127:
        code, pos = struct.unpack_from(">Q", hdr, 2)[0], 10
    mask = bytes(hdr[pos:pos + 4]) if hdr[1] & 0x80 else b"\0\0\0\0"
    return opcode, code, mask


def unmask(data, mask):
    n = len(data)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def accept_response(head):
    key = b""
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept = accept_value(key)
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")


class Responder:
    """Handshake and frame-boundary state of one connection."""

    def __init__(self):
        self.head = bytearray()   # request head until the upgrade, then None
        self.cache = {}
        self.hdr = bytearray()
        self.skip = 0             # payload bytes of the current frame still to come
        self.frame = None         # (opcode, length, mask) of the current frame
        self.collect = None       # payload chunks while building a cache entry
        self.closed = False

    def feed(self, data):
        """Consume a memoryview; return the list of replies it completes."""
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return []
            rest = bytes(self.head[end + 4:])
            out = [accept_response(self.head[:end])]
            self.head = None
            return out + self.feed(memoryview(rest))
        out = []
        cache = self.cache
        pos, n = 0, len(data)
        while pos < n:
            if self.skip:
                take = min(self.skip, n - pos)
                if self.collect is not None:
                    self.collect.append(bytes(data[pos:pos + take]))
                pos += take
                self.skip -= take
                if not self.skip:
                    self.finish(out)
                continue
            if not self.hdr and n - pos >= 2:
                code = data[pos + 1] & 0x7F
                if code < 126 and n - pos >= 6 + code:      # fast path: a whole small frame
                    reply = cache.get((data[pos] & 0x0F, code))
                    if reply is not None and data[pos] & 0x0F != 0x8:
                        out.append(reply)
                        pos += 6 + code
                        continue
                size = header_length(data[pos + 1])
                if n - pos >= size:
                    self.start(parse_header(data[pos:pos + size]), out)
                    pos += size
                    continue
            self.hdr += data[pos:pos + 1]
            pos += 1
            if len(self.hdr) >= 2 and len(self.hdr) == header_length(self.hdr[1]):
                self.start(parse_header(self.hdr), out)
                self.hdr = bytearray()
        return out

    def start(self, frame, out):
        self.frame = frame
        self.collect = None if frame[:2] in self.cache else []
        self.skip = frame[1]
        if not self.skip:
            self.finish(out)

    def finish(self, out):
        opcode, length, mask = self.frame
        if self.collect is not None:
            payload = unmask(b"".join(self.collect), mask)
            self.cache[(opcode, length)] = server_frame(opcode, payload)
            self.collect = None
        out.append(self.cache[(opcode, length)])
        if opcode == 0x8:
            self.closed = True


def serve(listener):
    listener.setblocking(False)
    poller = select.epoll()
    poller.register(listener.fileno(), select.EPOLLIN)
    conns = {}      # fd -> [socket, Responder, unsent memoryview]
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    while True:
        for fd, _ in poller.poll():
            if fd == listener.fileno():
                accept_all(listener, poller, conns,
                           lambda conn: [conn, Responder(), memoryview(b"")])
                continue
            entry = conns[fd]
            conn, responder = entry[0], entry[1]
            try:
                if entry[2]:
                    entry[2] = entry[2][conn.send(entry[2]):]
                    if entry[2]:
                        continue
                    poller.modify(fd, select.EPOLLIN)
                else:
                    n = conn.recv_into(buffer)
                    if n == 0:
                        raise ConnectionError("closed")
                    out = responder.feed(view[:n])
                    if out:
                        data = out[0] if len(out) == 1 else b"".join(out)
                        entry[2] = memoryview(data)[send_some(conn, data):]
                        if entry[2]:
                            poller.modify(fd, select.EPOLLOUT)
                            continue
                if responder.closed:
                    raise ConnectionError("close handshake done")
            except BlockingIOError:
                continue
            except OSError:
                poller.unregister(fd)
                del conns[fd]
                conn.close()


def send_some(conn, data):
    try:
        return conn.send(data)
    except BlockingIOError:
        return 0


def main():
    parser = arg_parser(__doc__)
    args = parser.parse_args()
    listener = socket.create_server((args.bind, args.port), backlog=1024)
    announce(args)
    serve(listener)


if __name__ == "__main__":
    main()
