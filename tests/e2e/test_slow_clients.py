"""Slow and silent clients: a head that trickles in or stalls gets 408 after the server's
head_timeout, an idle connection is closed after idle_timeout without an answer, and
many stalled heads (slowloris) do not hold up a normal request.

On the board kinds the poll loop reads heads as they arrive and serves a connection only
once its head is in, so this holds with 0 workers too.
"""
import socket
import time

import pytest
import requests

from rawhttp import Connection

WAIT = 10  # seconds any one step may take before the test gives up
HALF_HEAD = b"GET /uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
STALLED = 50


def silent_and_open(sock):
    """True while the server has neither answered nor closed the connection."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def test_stalled_heads_do_not_hold_up_a_normal_request(server):
    stalled = []
    try:
        for _ in range(STALLED):
            sock = socket.create_connection((server.host, server.port), timeout=WAIT)
            sock.sendall(HALF_HEAD)
            stalled.append(sock)
        response = requests.get(server.url + "/uploads/", timeout=WAIT)
        assert response.status_code == 200
        # Answered before the stalled heads ran out of time (head_timeout, 10 s): the
        # newest of them is still waiting. (A board past its max_connections closed
        # the oldest ones to make room.)
        assert silent_and_open(stalled[-1])
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("pace", ["stalls", "trickles"])
def test_a_late_head_is_answered_408_and_closed(start_server, pace):
    running = start_server(head_timeout=1)
    with Connection(running) as conn:
        conn.send(HALF_HEAD)
        if pace == "trickles":  # a byte every 0.1 s: never silent for long, never done
            conn.sock.settimeout(0.1)
            for _ in range(20 * WAIT):
                conn.send(b"x")
                try:
                    conn.buffer += conn.sock.recv(4096)
                    break
                except socket.timeout:
                    pass
            conn.sock.settimeout(WAIT)
        response = conn.read_response()
        assert response.status == 408
        assert b"request head not complete" in response.body
        assert conn.closed_by_server()


def test_a_connection_that_never_asks_is_closed_without_an_answer(start_server):
    running = start_server(idle_timeout=1)
    with socket.create_connection((running.host, running.port), timeout=WAIT) as sock:
        started = time.monotonic()
        assert sock.recv(4096) == b""  # closed, nothing said
        assert time.monotonic() - started < WAIT
