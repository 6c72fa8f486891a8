"""Malformed and refused requests over raw sockets (RFC 9110, RFC 9112).

Each case sends exact bytes and checks the status, that the error answer carries a
Content-Length, that the connection is closed when the request's framing cannot be
trusted, that no upload (or temporary file) is left, and that the server still answers a
normal request afterwards.
"""

import pytest
import requests

from rawhttp import Connection

HOST = b"Host: 127.0.0.1\r\n"
UPLOAD = b"PUT /uploads/x.bin HTTP/1.1\r\n" + HOST


def with_headers(lines):
    return b"GET /ok.txt HTTP/1.1\r\n" + HOST + lines + b"\r\n"


# id: (request bytes, expected status, the server must close the connection after it)
CASES = {
    # request line (RFC 9112 §3)
    "no version": (b"GET /\r\n\r\n", 400, True),
    "extra part": (b"GET / HTTP/1.1 extra\r\n" + HOST + b"\r\n", 400, True),
    "double space": (b"GET  / HTTP/1.1\r\n" + HOST + b"\r\n", 400, True),
    "garbage text": (b"\x00\xff\xfe\x01 garbage\r\n\r\n", 400, True),
    "tls client hello": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, True),
    "lowercase version": (b"GET / http/1.1\r\n" + HOST + b"\r\n", 400, True),
    "version without minor": (b"GET / HTTP/1\r\n" + HOST + b"\r\n", 400, True),
    "overlong target": (b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414, True),
    "http 2.0": (b"GET / HTTP/2.0\r\n" + HOST + b"\r\n", 505, True),
    "http 3.0": (b"GET / HTTP/3.0\r\n" + HOST + b"\r\n", 505, True),
    # methods (RFC 9110 §9.1: method names are case-sensitive)
    "lowercase method": (b"get /ok.txt HTTP/1.1\r\n" + HOST + b"\r\n", 501, False),
    "unknown method": (b"BREW /pot HTTP/1.1\r\n" + HOST + b"\r\n", 501, False),
    # header section (RFC 9112 §5)
    "header line too long": (with_headers(b"X-Long: " + b"v" * 100000 + b"\r\n"), 431, True),
    "too many headers": (with_headers(b"".join(b"X-H%d: v\r\n" % i for i in range(200))), 431, True),
    "header without colon": (with_headers(b"NoColonHere\r\n"), 400, True),
    "space before colon": (with_headers(b"X-Test : v\r\n"), 400, True),
    "obs-fold": (with_headers(b"X-Test: a\r\n  folded\r\n"), 400, True),
    # Host (RFC 9112 §3.2)
    "no host": (b"GET /ok.txt HTTP/1.1\r\n\r\n", 400, False),
    "two hosts": (b"GET /ok.txt HTTP/1.1\r\n" + HOST + b"Host: example.com\r\n\r\n", 400, False),
    "two equal hosts": (b"GET /ok.txt HTTP/1.1\r\n" + HOST + HOST + b"\r\n", 400, False),
    "invalid host value": (b"GET /ok.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400, False),
    "invalid host port": (b"GET /ok.txt HTTP/1.1\r\nHost: 127.0.0.1:x\r\n\r\n", 400, False),
    # Content-Length (RFC 9110 §8.6, RFC 9112 §6.3)
    "content-length abc": (UPLOAD + b"Content-Length: abc\r\n\r\nabc", 400, True),
    "content-length -1": (UPLOAD + b"Content-Length: -1\r\n\r\nabc", 400, True),
    "content-length +3": (UPLOAD + b"Content-Length: +3\r\n\r\nabc", 400, True),
    "content-length 1_0": (UPLOAD + b"Content-Length: 1_0\r\n\r\nabcdefghij", 400, True),
    "content-length list": (UPLOAD + b"Content-Length: 1, 2\r\n\r\nab", 400, True),
    "two content-lengths": (UPLOAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, True),
    "content-length and chunked": (
        UPLOAD + b"Content-Length: 8\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, True),
    # Transfer-Encoding (RFC 9112 §6.1, §7.1)
    "transfer-encoding gzip": (UPLOAD + b"Transfer-Encoding: gzip\r\n\r\nabc", 501, True),
    "chunk size zz": (UPLOAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400, True),
    "chunk size -1": (UPLOAD + b"Transfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n", 400, True),
    "chunk size 0x3": (UPLOAD + b"Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400, True),
    "chunk size +3": (UPLOAD + b"Transfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", 400, True),
    "chunk data without crlf": (
        UPLOAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcde\r\n0\r\n\r\n", 400, True),
}

# id: (request bytes, expected status): refused methods, which must list what is allowed
NOT_ALLOWED = {
    "put static file": (b"PUT /index.html HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n\r\n", 405),
    "delete root": (b"DELETE / HTTP/1.1\r\n" + HOST + b"\r\n", 405),
    "post static file": (b"POST /ok.txt HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n\r\n", 405),
}


@pytest.fixture
def site(server):
    (server.static / "ok.txt").write_bytes(b"still here\n")
    (server.static / "index.html").write_bytes(b"<p>index</p>")
    return server


def send_raw(server, data, check_close=False):
    """(response, closed): the answer to data and, when check_close, whether the server
    then closed the connection (None otherwise: a kept connection would cost a timeout)."""
    with Connection(server) as conn:
        conn.send(data)  # may fail part-way when the server answers early and closes
        response = conn.read_response()
        return response, (conn.closed_by_server() if check_close else None)


def assert_still_serving(server):
    r = requests.get(server.url + "/ok.txt", timeout=10)
    assert r.status_code == 200
    assert r.content == b"still here\n"


def assert_error_framing(response):
    assert response.get("Content-Length") is not None, response
    assert int(response.get("Content-Length")) == len(response.body)


@pytest.mark.parametrize("case", list(CASES))
def test_malformed(site, case):
    data, status, closes = CASES[case]
    response, closed = send_raw(site, data, check_close=closes)
    assert response.status == status, response
    assert_error_framing(response)
    if closes:
        assert closed, "connection left open after %d for %s" % (status, case)
    assert site.wait_stored([]) == []
    assert_still_serving(site)


@pytest.mark.parametrize("case", list(NOT_ALLOWED))
def test_method_not_allowed(site, case):
    data, status = NOT_ALLOWED[case]
    response, _ = send_raw(site, data)
    assert response.status == status, response
    assert "get" in response.tokens("Allow"), response
    assert_error_framing(response)
    assert (site.static / "index.html").read_bytes() == b"<p>index</p>"
    assert (site.static / "ok.txt").read_bytes() == b"still here\n"
    assert_still_serving(site)


def test_error_on_kept_alive_connection_then_closed(site):
    # A good request, then a malformed one on the same connection: the first is
    # answered normally, the second gets 400 and the connection closes.
    with Connection(site) as conn:
        conn.send(b"GET /ok.txt HTTP/1.1\r\n" + HOST + b"\r\n")
        first = conn.read_response()
        assert (first.status, first.body) == (200, b"still here\n")
        conn.send(with_headers(b"NoColonHere\r\n"))
        second = conn.read_response()
        assert second.status == 400
        assert conn.closed_by_server()
    assert_still_serving(site)


def test_empty_lines_before_request_are_ignored(site):
    # RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
    response, _ = send_raw(site, b"\r\nGET /ok.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert (response.status, response.body) == (200, b"still here\n")


def test_client_closing_without_request_does_not_break_server(site):
    for data in (b"", b"GET /ok.txt HT", b"GET /ok.txt HTTP/1.1\r\nHost: 127"):
        with Connection(site) as conn:
            conn.send(data)
    assert_still_serving(site)
