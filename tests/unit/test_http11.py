"""http11: request heads, limits, body framing and chunked decoding, from byte literals."""
import io

from checks import raises, status_of
from wsserver import http11
from wsserver.http11 import HTTPError


def head(data, **limits):
    return http11.read_request_head(io.BytesIO(data).readline, **limits)


def test_request_head_fields_in_order_and_case_insensitive():
    request = head(b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nx-one: 2\r\n\r\n")
    assert (request.method, request.target, request.version) == ("GET", "/a?b=1", "HTTP/1.1")
    assert request.headers.get("HOST") == "x"
    assert request.headers.get_all("X-ONE") == ["1", "2"]
    assert request.headers.items() == [("Host", "x"), ("X-One", "1"), ("x-one", "2")]
    assert "x-one" in request.headers and "nope" not in request.headers


def test_bare_lf_line_ends_and_value_whitespace():
    request = head(b"GET / HTTP/1.0\nUser-Agent: \t curl \t\n\n")
    assert request.version == "HTTP/1.0"
    assert request.headers.get("user-agent") == "curl"


def test_one_empty_line_before_request_line_is_ignored():
    assert head(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").method == "GET"


def test_end_of_stream_before_a_request_is_none():
    assert head(b"") is None


def test_malformed_request_lines_are_400():
    for line in (b"GET /\r\n", b"GET / HTTP/1.1 x\r\n", b"GET  / HTTP/1.1\r\n",
                 b"\x16\x03\x01\x02\x00\r\n", b"G(T / HTTP/1.1\r\n", b"GET / HTTX/1.1\r\n",
                 b"GET / HTTP/1\r\n", b"GET /\xc3\xa9 HTTP/1.1\r\n", b"GET / HTTP/1.1"):
        assert status_of(head, line + b"Host: x\r\n\r\n") == 400, line


def test_http_2_is_505_and_higher_minor_versions_are_1_1():
    assert status_of(head, b"GET / HTTP/2.0\r\n\r\n") == 505
    assert head(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n").version == "HTTP/1.1"


def test_request_line_over_limit_is_414():
    assert status_of(head, b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n\r\n", max_line=50) == 414


def test_header_limits_are_431():
    long_field = b"GET / HTTP/1.1\r\nX: " + b"a" * 100 + b"\r\n\r\n"
    assert status_of(head, long_field, max_header_line=50) == 431
    many = b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 11 + b"\r\n"
    assert status_of(head, many, max_headers=10) == 431
    assert head(b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 10 + b"\r\n", max_headers=10)
    assert status_of(head, many, max_head=40) == 431


def test_malformed_header_lines_are_400():
    for field in (b"No colon", b"Space : before", b" folded: x", b"\tfolded: x",
                  b"Bad\x01name: x", b": empty name", b"X: a\rb", b"X: \xff",
                  b"X: a\r", b"X: a\x01b", b"X: \x1f", b"X: a\x7f", b"X: a\x0bb"):
        assert status_of(head, b"GET / HTTP/1.1\r\n" + field + b"\r\n\r\n") == 400, field


def test_head_cut_short_is_400():
    assert status_of(head, b"GET / HTTP/1.1\r\nHost: x\r\n") == 400


def test_host_rules():
    assert status_of(http11.check_host, head(b"GET / HTTP/1.1\r\n\r\n")) == 400
    assert status_of(http11.check_host, head(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")) == 400
    http11.check_host(head(b"GET / HTTP/1.0\r\n\r\n"))
    http11.check_host(head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"))


def test_keep_alive_defaults_per_version():
    assert head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").keep_alive()
    assert not head(b"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n").keep_alive()
    assert not head(b"GET / HTTP/1.0\r\n\r\n").keep_alive()
    assert head(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive()


def test_response_lines():
    assert http11.status_line("HTTP/1.1", 404) == "HTTP/1.1 404 Not Found\r\n"
    assert http11.status_line("HTTP/1.1", 299) == "HTTP/1.1 299 Unknown\r\n"
    assert http11.header_line("Content-Length", 5) == "Content-Length: 5\r\n"
    raises(ValueError, http11.header_line, "X", "a\r\nSet-Cookie: b")
    raises(ValueError, http11.header_line, "Bad Name", "a")


def test_header_line_refuses_what_the_parser_refuses():
    # Found by test_fuzz_http11: header_line("0", "\x00") made a line that
    # parse_header_line answers with 400. Both refuse every control but tab.
    for value in ("a\x00b", "a\x01", "\x1f", "a\x7f", "a\rb"):
        raises(ValueError, http11.header_line, "X", value)
        line = b"GET / HTTP/1.1\r\nX: " + value.encode() + b"\r\n\r\n"
        assert status_of(head, line) == 400, value
    assert http11.header_line("X", "a\tb") == "X: a\tb\r\n"
    assert head(b"GET / HTTP/1.1\r\nX: a\tb\r\n\r\n").headers.get("x") == "a\tb"


def test_status_line_refuses_a_reason_that_breaks_the_line():
    # Found by test_fuzz_http11: status_line("HTTP/1.1", 100, "\r") ended the line
    # early; a reason from send_response could have started header lines of its own.
    for reason in ("\r", "OK\r\nSet-Cookie: a=b", "\n", "a\x00"):
        raises(ValueError, http11.status_line, "HTTP/1.1", 200, reason)


def test_http_error_carries_status_message_headers():
    err = HTTPError(405, "no", [("Allow", "GET")])
    assert (err.status, err.message, err.headers) == (405, "no", [("Allow", "GET")])
    assert HTTPError(400).headers == []


def test_host_values():
    def check(value):
        http11.check_host(head(b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n"))
    for value in (b"", b"example.com", b"a:80", b"127.0.0.1:8000", b"[::1]", b"[::1]:80"):
        check(value)
    for value in (b"a b", b"127.0.0.1:x", b"::1", b"[::1", b"a]:80", b"a:80:90", b"[::1]x", b"a/b"):
        assert status_of(check, value) == 400, value


def test_host_port_takes_ascii_digits_only():
    # Found by test_fuzz_http11: "a:\xc2\xb2" (superscript two) passed str.isdigit().
    for value in (b"a:\xc2\xb2", b"[::1]:\xd9\xa1"):
        request = head(b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n")
        assert status_of(http11.check_host, request) == 400, value
