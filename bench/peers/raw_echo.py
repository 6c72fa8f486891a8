"""Raw-socket ping-pong peer for bench/ws_bench.py: no WebSocket at all.

    python bench/peers/raw_echo.py PORT [-b 127.0.0.1] [--epoll]

By default a thread per connection does recv_into a reused buffer and sendall
of what came, until the peer closes. With --epoll one thread serves every
connection from an epoll loop (no GIL hand-offs between threads), which is the
cheapest echo Python can do: the bench uses it for the client's ceiling. The
bench sends either the same masked frames it sends the WebSocket servers and
expects them back unchanged, so this is the loopback round-trip floor of a
Python server. Prints a line with http://HOST:PORT/ once it is listening.
"""

import select
import socket
import threading

from peerlib import accept_all, announce, arg_parser

BUFFER = 1 << 16


def echo(conn):
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                n = conn.recv_into(buffer)
                if n == 0:
                    return
                conn.sendall(view[:n])
        except OSError:
            return


def serve_threads(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def serve_epoll(listener):
    """One epoll loop; a connection with unsent output is not read until it drains."""
    listener.setblocking(False)
    poller = select.epoll()
    poller.register(listener.fileno(), select.EPOLLIN)
    conns = {}      # fd -> [socket, unsent bytes]
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    while True:
        for fd, events in poller.poll():
            if fd == listener.fileno():
                accept_all(listener, poller, conns, lambda conn: [conn, b""])
                continue
            entry = conns[fd]
            conn = entry[0]
            try:
                if entry[1]:
                    entry[1] = entry[1][conn.send(entry[1]):]
                    if not entry[1]:
                        poller.modify(fd, select.EPOLLIN)
                    continue
                n = conn.recv_into(buffer)
                if n == 0:
                    raise ConnectionError("closed")
                try:
                    sent = conn.send(view[:n])
                except BlockingIOError:
                    sent = 0
                if sent < n:
                    entry[1] = memoryview(bytes(view[sent:n]))
                    poller.modify(fd, select.EPOLLOUT)
            except BlockingIOError:
                continue
            except OSError:
                poller.unregister(fd)
                del conns[fd]
                conn.close()


def main():
    parser = arg_parser(__doc__)
    parser.add_argument("--epoll", action="store_true", help="one epoll loop, no threads")
    args = parser.parse_args()
    listener = socket.create_server((args.bind, args.port), backlog=1024)
    announce(args)
    (serve_epoll if args.epoll else serve_threads)(listener)


if __name__ == "__main__":
    main()
