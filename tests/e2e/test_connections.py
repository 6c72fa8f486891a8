"""How connections share the server: keep-alive, requests behind an upload, parked
WebSockets served while a request is, idle connections, and the connection cap (503).

On the board kinds these are the thread budget's promises: with 0 workers requests are
served one after another while WebSockets keep being served; with 1 or more, an upload
does not hold up the page.
"""
import json
import socket
import threading

import pytest
import requests
import websocket

WAIT = 10  # seconds any one step may take before the test gives up


class PausedUpload:
    """A chunked PUT that sends half its body, then waits for resume() (or WAIT seconds)."""

    PIECES = 8
    PIECE = b"u" * 4096

    def __init__(self, running, name):
        self.url = running.url + "/uploads/" + name
        self.halfway = threading.Event()
        self._resume = threading.Event()
        self.response = None
        self.thread = threading.Thread(target=self._put)

    def _body(self):
        for i in range(self.PIECES):
            if i == self.PIECES // 2:
                self.halfway.set()
                self._resume.wait(WAIT)
            yield self.PIECE

    def _put(self):
        self.response = requests.put(self.url, data=self._body(), timeout=WAIT * 3)

    def start(self):
        self.thread.start()
        assert self.halfway.wait(WAIT)
        return self

    def resume(self):
        self._resume.set()
        self.thread.join(WAIT * 3)
        return self.response

    @property
    def body(self):
        return self.PIECE * self.PIECES


def get_in_thread(url):
    """GET url in a thread; a dict that gets "response" (or "error") when it is done."""
    result = {}

    def get():
        try:
            result["response"] = requests.get(url, timeout=WAIT * 3)
        except requests.RequestException as exc:
            result["error"] = exc
        result["done"] = True
    result["thread"] = threading.Thread(target=get)
    result["thread"].start()
    return result


def test_keep_alive_serves_requests_on_one_connection(server):
    (server.static / "a.txt").write_bytes(b"alpha\n")
    with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
        stream = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            assert stream.readline() == b"HTTP/1.1 200 OK\r\n"
            head = {}
            for line in iter(stream.readline, b"\r\n"):
                name, _, value = line.decode().partition(":")
                head[name.lower()] = value.strip()
            assert "close" not in head.get("connection", "")
            assert stream.read(int(head["content-length"])) == b"alpha\n"


def test_spare_connections_do_not_hold_up_a_request(server):
    """A browser opens connections it may never use; the page must load meanwhile."""
    (server.static / "index.html").write_bytes(b"<p>page</p>")
    spares = [socket.create_connection((server.host, server.port), timeout=WAIT)
              for _ in range(3)]
    try:
        assert requests.get(server.url + "/", timeout=WAIT).content == b"<p>page</p>"
        # Still open: the page did not wait for them to be closed. Each serves a request.
        for spare in spares:
            spare.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert spare.makefile("rb").read().endswith(b"<p>page</p>")
    finally:
        for spare in spares:
            spare.close()


def test_a_request_behind_an_upload_is_answered(server):
    """0 workers: once the upload ends; otherwise while it is still coming in."""
    (server.static / "index.html").write_bytes(b"<p>page</p>")
    upload = PausedUpload(server, "big.bin").start()
    page = get_in_thread(server.url + "/")
    if server.kind == "upy-w0":
        page["thread"].join(0.5)
        assert "done" not in page  # it waits for the upload
    else:
        page["thread"].join(WAIT)
        assert page["response"].content == b"<p>page</p>"
    assert upload.resume().status_code == 201
    page["thread"].join(WAIT)
    assert page["response"].status_code == 200
    assert (server.uploads / "big.bin").read_bytes() == upload.body


def test_websockets_are_served_while_an_upload_is(server):
    """Echo and live log keep going while a request is served, also with 0 workers."""
    viewer = websocket.create_connection(server.url.replace("http", "ws") + "/ws/log",
                                         timeout=WAIT)
    echo = websocket.create_connection(server.url.replace("http", "ws") + "/ws/echo",
                                       timeout=WAIT)
    upload = PausedUpload(server, "during.bin").start()
    try:
        echo.send("still there?")
        assert echo.recv() == "still there?"
        echo.close()  # its "closed" record reaches the viewer during the upload
        line = ""
        while "/ws/echo closed" not in line:
            line = json.loads(viewer.recv())["msg"]
    finally:
        assert upload.resume().status_code == 201
    while "stored" not in line:
        line = json.loads(viewer.recv())["msg"]
    assert '"during.bin"' in line
    viewer.close()


def test_upload_page_files_and_viewers_at_once(server):
    """With threads to spare, a page, a file and three viewers during one upload."""
    if server.kind == "upy-w0":
        pytest.skip("0 workers serve one request at a time (test above)")
    (server.static / "index.html").write_bytes(b"<p>page</p>")
    (server.uploads / "old.txt").write_bytes(b"stored before\n")
    viewers = [websocket.create_connection(server.url.replace("http", "ws") + "/ws/log",
                                           timeout=WAIT) for _ in range(3)]
    upload = PausedUpload(server, "new.bin").start()
    page = get_in_thread(server.url + "/")
    stored = get_in_thread(server.url + "/uploads/old.txt")
    for result in (page, stored):
        result["thread"].join(WAIT)
    assert page["response"].content == b"<p>page</p>"
    assert stored["response"].content == b"stored before\n"
    assert upload.resume().status_code == 201
    for viewer in viewers:
        line = ""
        while "stored" not in line:
            line = json.loads(viewer.recv())["msg"]
        assert '"new.bin"' in line
        viewer.close()


def test_past_the_connection_cap_the_answer_is_503(start_server):
    running = start_server(max_connections=2)
    url = running.url.replace("http", "ws") + "/ws/echo"
    held = [websocket.create_connection(url, timeout=WAIT) for _ in range(2)]
    response = requests.get(running.url + "/", timeout=WAIT)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "too many connections" in response.text
    held[0].close()
    for _ in range(100):  # the server notices the close at its next turn
        response = requests.get(running.url + "/uploads/", timeout=WAIT)
        if response.status_code != 503:
            break
    assert response.status_code == 200
    held[1].send("still served")
    assert held[1].recv() == "still served"
    held[1].close()


def test_an_idle_connection_makes_room_for_a_new_one(start_server):
    running = start_server(max_connections=2)
    idle = [socket.create_connection((running.host, running.port), timeout=WAIT)
            for _ in range(2)]
    try:
        assert requests.get(running.url + "/uploads/", timeout=WAIT).status_code == 200
        assert idle[0].recv(1) == b""  # the oldest idle one was closed to make room
    finally:
        for sock in idle:
            sock.close()


def test_an_idle_connection_is_closed_after_idle_timeout(start_server):
    server = start_server(idle_timeout=1)
    with socket.create_connection((server.host, server.port), timeout=WAIT * 2) as sock:
        sock.sendall(b"GET /uploads/ HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while True:  # the response, then the end of the stream (idle_timeout)
            data = sock.recv(4096)
            if not data:
                break
            received += data
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Connection: close" not in received
