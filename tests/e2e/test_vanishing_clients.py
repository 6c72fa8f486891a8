"""A client that vanishes mid-request or mid-download, or stops reading, costs the
server a DEBUG line ("connection lost"), never a traceback, and the server goes on
serving. Reset connections (SO_LINGER 0) give ECONNRESET/EPIPE; a client that stops
reading makes the server's send time out."""
import logging
import os
import socket
import struct
import time

import pytest
import requests

from handlers import ShortTimeoutHandler

WAIT = 10
BIG = 32 * 1024 * 1024  # more than the loopback socket buffers hold


def reset(sock):
    """Close so that the server sees a reset, as when a phone leaves the Wi-Fi."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def cut_mid_head(running):
    sock = socket.create_connection((running.host, running.port), timeout=WAIT)
    sock.sendall(b"GET /uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
    time.sleep(0.2)  # the server is reading the head
    reset(sock)


def cut_mid_upload(running):
    sock = socket.create_connection((running.host, running.port), timeout=WAIT)
    sock.sendall(b"PUT /uploads/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Length: 4000000\r\n\r\n" + os.urandom(600000))
    time.sleep(0.2)  # the server is writing the body
    reset(sock)


def cut_mid_download(running):
    sock = socket.create_connection((running.host, running.port), timeout=WAIT)
    sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    sock.recv(65536)
    reset(sock)


def stop_reading_mid_download(running):
    sock = socket.create_connection((running.host, running.port), timeout=WAIT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock  # read nothing: the server's send times out (ShortTimeoutHandler)


@pytest.mark.parametrize("vanish", [cut_mid_head, cut_mid_upload, cut_mid_download,
                                    stop_reading_mid_download],
                         ids=lambda f: f.__name__)
def test_a_vanished_client_costs_a_debug_line(start_server, caplog, capfd, vanish):
    caplog.set_level(logging.DEBUG, logger="wsserver")
    running = start_server(handler_class=ShortTimeoutHandler, log_level=logging.DEBUG)
    (running.static / "big.bin").write_bytes(os.urandom(BIG))
    held = vanish(running)
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and "connection lost" not in server_log(running, caplog):
            time.sleep(0.05)
        assert "DEBUG wsserver: " in server_log(running, caplog)
        assert "connection lost" in server_log(running, caplog)
    finally:
        if held is not None:
            held.close()
    assert requests.get(running.url + "/uploads/", timeout=WAIT).status_code == 200
    assert running.wait_stored([]) == []
    log = server_log(running, caplog) + capfd.readouterr().err
    for bad in ("Traceback", "WARNING", "ERROR"):
        assert bad not in log


def server_log(running, caplog):
    """The server's log lines so far, as `LEVEL name: message` (a board prints them so;
    the in-process server's records are in caplog)."""
    if running.output is not None:
        return running.output()
    return "\n".join("%s %s: %s" % (r.levelname, r.name, r.getMessage())
                     for r in caplog.records)
