"""Connection management (RFC 9112 §9): keep-alive, pipelining, HTTP/1.0, Connection:
close; and the headers every answer carries (Date, Server)."""
import email.utils
import os
import time

import pytest
import requests

from rawhttp import Connection, build, chunked

TIMEOUT = 10


@pytest.fixture
def files(server):
    contents = {"a.txt": b"alpha\n", "b.txt": b"bravo bravo\n", "big.bin": os.urandom(1024 * 1024)}
    for name, data in contents.items():
        (server.static / name).write_bytes(data)
    return contents


def test_keep_alive_several_requests_on_one_socket(server, files):
    with Connection(server) as conn:
        for i in range(6):
            name = "a.txt" if i % 2 else "b.txt"
            assert conn.send(build("GET", "/" + name))
            r = conn.read_response()
            assert r.status == 200
            assert r.version == "HTTP/1.1"
            assert r.body == files[name]
            assert "close" not in r.tokens("Connection")


def test_keep_alive_after_big_response(server, files):
    with Connection(server) as conn:
        conn.send(build("GET", "/big.bin"))
        assert conn.read_response().body == files["big.bin"]
        conn.send(build("GET", "/a.txt"))
        assert conn.read_response().body == files["a.txt"]


def test_keep_alive_after_request_bodies(server, files):
    # The body of each upload is consumed exactly: the next request parses cleanly.
    with Connection(server) as conn:
        conn.send(build("PUT", "/uploads/k1.bin", [("Content-Length", "7")], b"seven\r\n"))
        assert conn.read_response().status == 201
        conn.send(build("GET", "/uploads/k1.bin"))
        assert conn.read_response().body == b"seven\r\n"
        conn.send(build("PUT", "/uploads/k2.bin", [("Transfer-Encoding", "chunked")],
                        chunked([b"chunk", b"ed\r\n"])))
        assert conn.read_response().status == 201
        conn.send(build("GET", "/uploads/k2.bin"))
        assert conn.read_response().body == b"chunked\r\n"
        conn.send(build("GET", "/a.txt"))
        assert conn.read_response().body == files["a.txt"]


def test_session_reuses_one_connection(server, files):
    with requests.Session() as session:
        for i in range(50):
            name = "a.txt" if i % 2 else "b.txt"
            r = session.get(server.url + "/" + name, timeout=TIMEOUT)
            assert r.status_code == 200, i
            assert r.content == files[name]
        pools = session.get_adapter(server.url).poolmanager.pools
        opened = sum(pools[key].num_connections for key in pools.keys())
        assert opened == 1  # urllib3 counts every new connection it opens


def test_pipelined_requests_answered_in_order(server, files):
    requests_bytes = (build("GET", "/a.txt") + build("HEAD", "/b.txt") + build("GET", "/missing")
                      + build("GET", "/b.txt") + build("GET", "/a.txt?x=1"))
    with Connection(server) as conn:
        assert conn.send(requests_bytes)
        first = conn.read_response()
        second = conn.read_response("HEAD")
        third = conn.read_response()
        fourth = conn.read_response()
        fifth = conn.read_response()
    assert (first.status, first.body) == (200, files["a.txt"])
    assert (second.status, second.get("Content-Length")) == (200, str(len(files["b.txt"])))
    assert third.status == 404
    assert (fourth.status, fourth.body) == (200, files["b.txt"])
    assert (fifth.status, fifth.body) == (200, files["a.txt"])


def test_many_pipelined_requests(server, files):
    with Connection(server) as conn:
        assert conn.send(b"".join(build("GET", "/a.txt") for _ in range(200)))
        for i in range(200):
            r = conn.read_response()
            assert (r.status, r.body) == (200, files["a.txt"]), i


def test_connection_kept_after_404_and_304(server, files):
    # Answers with known framing (a 404 with a body, a 304 without) keep the connection.
    with Connection(server) as conn:
        conn.send(build("GET", "/missing") + build("GET", "/a.txt", [("If-None-Match", "*")])
                  + build("GET", "/a.txt"))
        assert conn.read_response().status == 404
        not_modified = conn.read_response()
        assert not_modified.status == 304
        assert not_modified.get("Date")
        assert conn.read_response().body == files["a.txt"]


def test_pipelined_upload_then_download(server):
    with Connection(server) as conn:
        conn.send(build("PUT", "/uploads/p.bin", [("Content-Length", "4")], b"\x00\r\n\x01")
                  + build("GET", "/uploads/p.bin"))
        assert conn.read_response().status == 201
        r = conn.read_response()
    assert (r.status, r.body) == (200, b"\x00\r\n\x01")


def test_http10_answered_then_closed(server, files):
    with Connection(server) as conn:
        conn.send(b"GET /a.txt HTTP/1.0\r\n\r\n")
        r = conn.read_response()
        assert r.status == 200
        assert r.body == files["a.txt"]
        assert conn.closed_by_server()


def test_http10_keep_alive(server, files):
    with Connection(server) as conn:
        conn.send(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = conn.read_response()
        assert r.status == 200
        assert r.body == files["a.txt"]
        # An HTTP/1.0 client only keeps the connection if the answer says so.
        assert "keep-alive" in r.tokens("Connection")
        assert r.get("Content-Length") == str(len(files["a.txt"]))
        conn.send(b"GET /b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = conn.read_response()
        assert (r.status, r.body) == (200, files["b.txt"])


@pytest.mark.parametrize("value", ["close", "Close", "keep-alive, close"])
def test_connection_close_honoured(server, files, value):
    # The request after the one with "close" is never answered (RFC 9112 §9.6).
    with Connection(server) as conn:
        conn.send(build("GET", "/a.txt", [("Connection", value)]) + build("GET", "/b.txt"))
        r = conn.read_response()
        assert (r.status, r.body) == (200, files["a.txt"])
        assert conn.closed_by_server()


@pytest.mark.parametrize("path, status", [("/a.txt", 200), ("/missing", 404)])
def test_date_and_server_headers(server, files, path, status):
    r = requests.get(server.url + path, timeout=TIMEOUT)
    assert r.status_code == status
    assert r.headers.get("Server")
    date = email.utils.parsedate_to_datetime(r.headers["Date"])
    assert r.headers["Date"].endswith(" GMT")
    assert abs(date.timestamp() - time.time()) < 86400  # a clock sanity check, not timing


def test_upload_answers_carry_date_and_server(server):
    r = requests.put(server.url + "/uploads/d.bin", data=b"x", timeout=TIMEOUT)
    assert r.status_code == 201
    assert r.headers.get("Server")
    assert email.utils.parsedate_to_datetime(r.headers["Date"])


@pytest.mark.parametrize("target, allowed", [
    ("*", "GET, HEAD, POST, PUT, DELETE, OPTIONS"),
    ("/index.html", "GET, HEAD, OPTIONS"),
    ("/uploads/", "GET, HEAD, POST, OPTIONS"),
    ("/uploads/a.txt", "GET, HEAD, PUT, DELETE, OPTIONS"),
])
def test_options_lists_the_allowed_methods(server, target, allowed):
    with Connection(server) as conn:
        conn.send(build("OPTIONS", target))
        response = conn.read_response()
    assert response.status == 204
    assert response.get("Allow") == allowed
