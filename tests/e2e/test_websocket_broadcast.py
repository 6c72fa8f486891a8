"""server.broadcast(): one message to many WebSocket connections, where a client that
stops reading never holds up the others, and is dropped once too far behind."""
import socket
import threading

import pytest
import websocket

from rawws import open_ws
from handlers import HUB, HubHandler

TIMEOUT = 10
IN_PROCESS = pytest.mark.cpython_only(
    "calls server.broadcast() and reads the members it keeps on the in-process server")


def start_hub(start_server):
    running = start_server(handler_class=HubHandler)
    running.server.members = set()
    running.server.members_lock = threading.Lock()
    return running


def members(running):
    with running.server.members_lock:
        return list(running.server.members)


def wait_until(condition):
    for _ in range(500):  # 10 s at most
        if condition():
            return True
        threading.Event().wait(0.02)
    return condition()


def read_messages(ws, count, into):
    for _ in range(count):
        into.append(ws.recv())


@IN_PROCESS
def test_a_stalled_client_does_not_hold_up_the_others(start_server):
    running = start_hub(start_server)
    stalled = open_ws(running, path=HUB)  # completes its handshake, then never reads
    stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    healthy = [websocket.create_connection("ws://127.0.0.1:%d%s" % (running.port, HUB),
                                           timeout=TIMEOUT) for _ in range(3)]
    assert wait_until(lambda: len(members(running)) == 4)
    count, batch = 2400, 200
    received = [[] for _ in healthy]
    readers = [threading.Thread(target=read_messages, args=(ws, count, got))
               for ws, got in zip(healthy, received)]
    for reader in readers:
        reader.start()

    def broadcast_in_batches():
        """Paced so the healthy readers keep up; the stalled client falls behind.
        Binary: websocket-client checks text in pure Python, slowly."""
        for start in range(0, count, batch):
            for i in range(start, start + batch):
                running.server.broadcast(members(running), b"line %05d " % i + b"x" * 8000)
            wait_until(lambda: all(len(got) >= start + batch for got in received))

    sender = threading.Thread(target=broadcast_in_batches)
    sender.start()
    sender.join(TIMEOUT * 6)
    assert not sender.is_alive(), "broadcast blocked on the stalled client"
    for reader in readers:
        reader.join(TIMEOUT)
    expected = [b"line %05d " % i + b"x" * 8000 for i in range(count)]
    assert all(got == expected for got in received)  # every line, in order
    # The stalled client fell more than max_send_buffer behind and was dropped.
    assert wait_until(lambda: len(members(running)) == 3)
    for ws in healthy:
        ws.close()
    stalled.close()


@IN_PROCESS
def test_broadcast_skips_closed_connections(start_server):
    running = start_hub(start_server)
    first = websocket.create_connection("ws://127.0.0.1:%d%s" % (running.port, HUB), timeout=TIMEOUT)
    second = websocket.create_connection("ws://127.0.0.1:%d%s" % (running.port, HUB), timeout=TIMEOUT)
    assert wait_until(lambda: len(members(running)) == 2)
    everyone = members(running)
    first.close()
    assert wait_until(lambda: len(members(running)) == 1)
    running.server.broadcast(everyone, b"\x00binary\xff")
    assert second.recv() == b"\x00binary\xff"
    second.close()
