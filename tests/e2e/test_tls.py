"""HTTPS and WSS: the CPython server with make_server(certfile=..., keyfile=...), and
run.py with --certfile/--keyfile, with a self-signed certificate made here by openssl.
Everything the plain server does must work through TLS: keep-alive, uploads,
downloads (no os.sendfile there), ranges, timeouts, WebSockets parked in the poller.

CPython only, so these tests start their server themselves rather than through the
`server` fixture: a board's ssl module is not supported (compat.tls_context).
"""
import http.client
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests
import websocket

from conftest import POLL_INTERVAL
from rawws import OP_BINARY, WSConnection, check_accepted, encode_frame, parse_close
from runprocess import start_run_py, stop, wait_for
from wsserver.server import make_server

TIMEOUT = 10
log = logging.getLogger("wsserver.test")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(certfile, keyfile) of a self-signed certificate for 127.0.0.1, valid a day."""
    folder = tmp_path_factory.mktemp("tls")
    certfile, keyfile = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "1", "-keyout", keyfile, "-out", certfile],
                   check=True, capture_output=True, timeout=60)
    return certfile, keyfile


class TLSServer:
    """A running HTTPS server on a loopback port, its folders, and how to reach it."""

    def __init__(self, certificate, folder, **options):
        self.cafile = certificate[0]
        self.static, self.uploads = folder / "static", folder / "uploads"
        self.static.mkdir(parents=True)
        self.server = make_server(port=0, bind="127.0.0.1", directory=str(self.static),
                                  uploads=str(self.uploads), certfile=certificate[0],
                                  keyfile=certificate[1], **options)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.thread = self.server.start(POLL_INTERVAL)
        self.stopped = False

    def stop(self):
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()

    def get(self, path, **options):
        return requests.get(self.url + path, verify=self.cafile, timeout=TIMEOUT, **options)

    def websocket(self, path):
        return websocket.create_connection(
            "wss://127.0.0.1:%d%s" % (self.port, path), timeout=TIMEOUT,
            sslopt={"ca_certs": self.cafile}, skip_utf8_validation=True)

    def client_context(self):
        return ssl.create_default_context(cafile=self.cafile)

    def raw_tls(self):
        """A TLS socket connected to the server (handshake done)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        return self.client_context().wrap_socket(sock, server_hostname="127.0.0.1")


@pytest.fixture
def start_tls(certificate, tmp_path, info_level):
    started = []

    def start(**options):
        server = TLSServer(certificate, tmp_path / str(len(started)), **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def tls_server(start_tls):
    return start_tls()


def test_page_and_static_file(tls_server):
    (tls_server.static / "index.html").write_bytes(b"<h1>secure</h1>")
    (tls_server.static / "a.txt").write_bytes(b"hello")
    assert tls_server.get("/").text == "<h1>secure</h1>"
    answer = tls_server.get("/a.txt")
    assert (answer.status_code, answer.content) == (200, b"hello")


def test_keep_alive_serves_two_requests_on_one_connection(tls_server):
    (tls_server.static / "a.txt").write_bytes(b"one")
    conn = http.client.HTTPSConnection("127.0.0.1", tls_server.port, timeout=TIMEOUT,
                                       context=tls_server.client_context())
    try:
        for number in range(2):
            conn.request("GET", "/a.txt")
            answer = conn.getresponse()
            assert answer.read() == b"one"
            if number == 0:
                first = conn.sock
        assert conn.sock is first  # http.client reconnects only when it was closed
    finally:
        conn.close()


def test_put_then_get_3_mib(tls_server):
    data = os.urandom(3 * 1024 * 1024)
    url = tls_server.url + "/uploads/big.bin"
    put = requests.put(url, data=data, verify=tls_server.cafile, timeout=TIMEOUT)
    assert put.status_code == 201
    assert (tls_server.uploads / "big.bin").read_bytes() == data
    assert tls_server.get("/uploads/big.bin").content == data


def test_multipart_post(tls_server):
    data = os.urandom(300 * 1024)
    answer = requests.post(tls_server.url + "/uploads/", verify=tls_server.cafile,
                           files={"file": ("m.bin", data)}, timeout=TIMEOUT)
    assert answer.status_code == 201
    assert (tls_server.uploads / "m.bin").read_bytes() == data


def test_large_download_and_ranges(tls_server):
    # Over 64 KiB: the plain server would hand it to os.sendfile.
    data = os.urandom(1024 * 1024 + 3)
    (tls_server.static / "big.bin").write_bytes(data)
    assert tls_server.get("/big.bin").content == data
    for first, last in ((10, 99), (1000, 300 * 1024)):
        answer = tls_server.get("/big.bin", headers={"Range": "bytes=%d-%d" % (first, last)})
        assert answer.status_code == 206
        assert answer.content == data[first:last + 1]


def test_wss_echo_big_and_many_small_messages(tls_server):
    ws = tls_server.websocket("/ws/echo")
    try:
        big = os.urandom(1024 * 1024)
        ws.send_binary(big)
        assert ws.recv() == big
        texts = ["message %d" % i for i in range(500)]
        for text in texts:
            ws.send(text)
        assert [ws.recv() for _ in texts] == texts
    finally:
        ws.close()


def test_frame_sent_with_the_handshake_is_answered(tls_server):
    """The handshake and a 10 KB frame in one TLS record: rfile reads part of it, the
    rest waits decrypted inside the TLS socket, where poll() cannot see it."""
    conn = WSConnection(("127.0.0.1", tls_server.port))
    conn.sock = tls_server.client_context().wrap_socket(conn.sock,
                                                        server_hostname="127.0.0.1")
    with conn:
        payload = os.urandom(10000)
        check_accepted(conn.handshake(after=encode_frame(OP_BINARY, payload)), conn.key)
        assert conn.recv_message() == (OP_BINARY, payload)


def test_live_log_viewer_over_wss(tls_server):
    ws = tls_server.websocket("/ws/log")
    try:
        log.info("over %s", "tls")
        for _ in range(1000):
            if json.loads(ws.recv())["msg"] == "over tls":
                break
        else:
            raise AssertionError("the record never came")
    finally:
        ws.close()


def test_plain_http_and_silent_clients_do_not_block_the_server(tls_server):
    (tls_server.static / "a.txt").write_bytes(b"still here")
    silent = socket.create_connection(("127.0.0.1", tls_server.port), timeout=TIMEOUT)
    plain = socket.create_connection(("127.0.0.1", tls_server.port), timeout=TIMEOUT)
    try:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert tls_server.get("/a.txt").content == b"still here"
        try:
            assert b"200 OK" not in plain.recv(4096)  # no answer in plain text
        except ConnectionResetError:
            pass
    finally:
        silent.close()
        plain.close()
    assert tls_server.get("/a.txt").content == b"still here"


def test_late_head_gets_408_through_tls(start_tls):
    running = start_tls(head_timeout=0.5)
    with running.raw_tls() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = b""
        while True:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_idle_connection_is_closed_after_idle_timeout(start_tls):
    running = start_tls(idle_timeout=0.5)
    with running.raw_tls() as sock:
        assert sock.recv(4096) == b""  # closed, well before the client's TIMEOUT


def test_a_download_paused_longer_than_idle_timeout_goes_on(start_tls):
    # Over TLS one timeout covers reads and writes: the short idle one must not be left
    # in force while a response is sent.
    running = start_tls(idle_timeout=0.5)
    data = os.urandom(8 * 1024 * 1024)  # more than the socket buffers hold
    (running.static / "big.bin").write_bytes(data)
    with running.raw_tls() as sock:
        sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = sock.recv(65536)
        time.sleep(1.5)  # the reader pauses: three idle_timeouts
        while len(received.partition(b"\r\n\r\n")[2]) < len(data):
            piece = sock.recv(1024 * 1024)
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == data


def test_connection_cap_503_and_eviction_of_the_idle(start_tls):
    running = start_tls(max_connections=1)
    (running.static / "a.txt").write_bytes(b"a")
    with running.raw_tls() as idle:  # a keep-alive connection waiting for its next request
        idle.sendall(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200 ")
        assert wait_for(lambda: running.server._waiting)  # its thread waits again
        assert running.get("/a.txt").content == b"a"  # the idle one made room
    assert wait_for(lambda: not running.server.full())  # that request's connection closed
    ws = running.websocket("/ws/echo")
    try:
        assert running.get("/a.txt").status_code == 503
    finally:
        ws.close()


def test_stop_closes_wss_clients_with_1001(tls_server):
    echo = tls_server.websocket("/ws/echo")
    viewer = tls_server.websocket("/ws/log")
    stopper = threading.Thread(target=tls_server.stop, daemon=True)
    try:
        echo.send("before the stop")
        assert echo.recv() == "before the stop"
        stopper.start()
        for ws in (echo, viewer):
            while True:
                opcode, frame = ws.recv_data_frame(True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
            assert parse_close(frame.data)[0] == 1001
    finally:
        echo.close()
        viewer.close()
        stopper.join(TIMEOUT)


def test_run_py_serves_https(certificate, tmp_path):
    process, port, uploads = start_run_py(tmp_path, "--certfile", certificate[0],
                                          "--keyfile", certificate[1])
    url = "https://127.0.0.1:%d/" % port
    assert requests.get(url, verify=certificate[0], timeout=TIMEOUT).text == "<h1>hello</h1>"
    assert stop(process, signal.SIGTERM) == 0
