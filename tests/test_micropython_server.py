"""The package served by the real MicroPython unix port: GET, PUT and a WebSocket echo.

The server runs as a `micropython` subprocess on a free loopback port, with the default
of no worker threads (requests and the WebSocket loop share the serving thread).
"""
import os
import socket
import subprocess
import time

import pytest
import requests
import websocket

from test_micropython_core import micropython

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 10  # seconds for the server to answer its first connection


def free_port():
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def wait_listening(port, process):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    out, err = process.communicate(timeout=5)
    pytest.fail("micropython server did not start:\n%s\n%s" % (out, err))


@pytest.fixture
def upy_server(tmp_path):
    static = tmp_path / "static"
    uploads = tmp_path / "uploads"
    static.mkdir()
    (static / "index.html").write_bytes(b"<!doctype html><title>board</title>\n")
    port = free_port()
    script = ("import sys\nsys.path.insert(0, %r)\nimport wsserver\n"
              "wsserver.serve(port=%d, bind='127.0.0.1', directory=%r, uploads=%r)\n"
              % (ROOT, port, str(static), str(uploads)))
    process = subprocess.Popen([micropython(), "-X", "heapsize=1M", "-c", script],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port, process)
        yield "http://127.0.0.1:%d" % port, static, uploads
    finally:
        process.kill()
        process.communicate(timeout=5)


def test_get_a_static_file(upy_server):
    url, static, _ = upy_server
    response = requests.get(url + "/", timeout=5)
    assert response.status_code == 200
    assert response.content == (static / "index.html").read_bytes()
    assert response.headers["Content-Type"].startswith("text/html")


def test_put_an_upload(upy_server):
    url, _, uploads = upy_server
    body = os.urandom(50000)
    response = requests.put(url + "/uploads/x.bin", data=body, timeout=10)
    assert response.status_code == 201
    assert (uploads / "x.bin").read_bytes() == body
    assert requests.get(url + "/uploads/x.bin", timeout=5).content == body


def test_websocket_echo_next_to_http(upy_server):
    url, _, _ = upy_server
    ws = websocket.create_connection(url.replace("http", "ws") + "/ws/echo", timeout=5)
    try:
        ws.send("hello")
        assert ws.recv() == "hello"
        # The parked connection and new HTTP requests share the serving thread.
        assert requests.get(url + "/", timeout=5).status_code == 200
        ws.send_binary(b"\x00\xff" * 5000)
        assert ws.recv() == b"\x00\xff" * 5000
    finally:
        ws.close()


def test_https_is_refused_clearly_on_micropython(tmp_path):
    """TLS is CPython's only (compat.tls_context): a certfile on a board is a clear
    ValueError from make_server, before it takes the port."""
    script = ("import sys\nsys.path.insert(0, %r)\nfrom wsserver.server import make_server\n"
              "try:\n"
              "    make_server(port=0, bind='127.0.0.1', uploads=%r, certfile='cert.pem')\n"
              "except ValueError as exc:\n"
              "    print('refused:', exc)\n" % (ROOT, str(tmp_path / "uploads")))
    result = subprocess.run([micropython(), "-X", "heapsize=1M", "-c", script],
                            capture_output=True, text=True, timeout=60)
    assert "refused: HTTPS (certfile) needs CPython" in result.stdout, result.stdout + result.stderr
