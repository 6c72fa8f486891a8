"""handshake: RFC 6455 §4.2 checks, one rule per test, and the §1.3 accept key."""
import io

from checks import raises
from wsserver import handshake, http11
from wsserver.http11 import HTTPError

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


def request(method=b"GET", version=b"HTTP/1.1", fields=None):
    if fields is None:
        fields = [b"Host: server.example.com", b"Upgrade: websocket", b"Connection: Upgrade",
                  b"Sec-WebSocket-Key: " + KEY.encode(), b"Sec-WebSocket-Version: 13"]
    head = method + b" /chat " + version + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n"
    return http11.read_request_head(io.BytesIO(head).readline)


def without(name, *extra):
    fields = [f for f in request().headers.items() if f[0].lower() != name.lower()]
    return [("%s: %s" % pair).encode() for pair in fields] + list(extra)


def error(req):
    return raises(HTTPError, handshake.check_request, req)


def test_rfc_example_accept_key():
    assert handshake.accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_valid_request_gives_its_key():
    assert handshake.check_request(request()) == KEY


def test_connection_token_list_and_case():
    fields = without("connection", b"Connection: keep-alive, UPGRADE")
    fields = [f for f in fields if not f.startswith(b"Upgrade")] + [b"Upgrade: WebSocket"]
    assert handshake.check_request(request(fields=fields)) == KEY


def test_method_other_than_get_is_405_with_allow():
    err = error(request(method=b"POST"))
    assert err.status == 405 and err.headers == [("Allow", "GET")]


def test_http_1_0_is_400():
    assert error(request(version=b"HTTP/1.0")).status == 400


def test_missing_upgrade_or_connection_token_is_426_with_upgrade():
    for fields in (without("upgrade"), without("connection"), without("upgrade", b"Upgrade: h2c"),
                   without("connection", b"Connection: keep-alive")):
        err = error(request(fields=fields))
        assert err.status == 426 and ("Upgrade", "websocket") in err.headers


def test_wrong_or_missing_version_is_426_with_version_13():
    for fields in (without("sec-websocket-version"),
                   without("sec-websocket-version", b"Sec-WebSocket-Version: 8"),
                   without("sec-websocket-version", b"Sec-WebSocket-Version: 13",
                           b"Sec-WebSocket-Version: 8")):
        err = error(request(fields=fields))
        assert err.status == 426 and err.headers == [("Sec-WebSocket-Version", "13")]


def test_bad_keys_are_400():
    for extra in ([], [b"Sec-WebSocket-Key: " + KEY.encode()] * 2, [b"Sec-WebSocket-Key: abc"],
                  [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"],  # no padding
                  [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!Q=="],
                  [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQo="]):  # 17 bytes
        assert error(request(fields=without("sec-websocket-key", *extra))).status == 400, extra


def test_origin_allow_list():
    handshake.check_origin(None, ["http://good.example"])
    handshake.check_origin("http://anything.example", None)
    handshake.check_origin("HTTP://Good.Example", ["http://good.example"])
    err = raises(HTTPError, handshake.check_origin, "http://evil.example", ["http://good.example"])
    assert err.status == 403


def test_origin_own_host_only():
    """With own_host (a server with auth and no allow list): the server's own pages."""
    handshake.check_origin(None, None, "device.local:8000")  # not a browser
    handshake.check_origin("http://device.local:8000", None, "device.local:8000")
    handshake.check_origin("https://Device.Local", None, "device.local")
    for origin in ("http://evil.example", "http://device.local:8001", "http://device.local",
                   "null", "http://evil.example/device.local:8000"):
        err = raises(HTTPError, handshake.check_origin, origin, None, "device.local:8000")
        assert err.status == 403, origin
    # An allow list replaces the default: the server's own origin is then one to list.
    handshake.check_origin("http://good.example", ["http://good.example"], "device.local:8000")
    err = raises(HTTPError, handshake.check_origin, "http://device.local:8000",
                 ["http://good.example"], "device.local:8000")
    assert err.status == 403


def test_subprotocol_is_the_servers_first_choice_among_offered():
    def offered(*lines):
        return request(fields=without("x", *[b"Sec-WebSocket-Protocol: " + v for v in lines])).headers
    supported = ("v2.chat", "v1.chat")
    assert handshake.choose_subprotocol(offered(b"v1.chat, v2.chat"), supported) == "v2.chat"
    assert handshake.choose_subprotocol(offered(b"v1.chat", b"v2.chat"), supported) == "v2.chat"
    assert handshake.choose_subprotocol(offered(b"v1.chat"), supported) == "v1.chat"
    assert handshake.choose_subprotocol(offered(b"V2.CHAT, other"), supported) is None
    assert handshake.choose_subprotocol(offered(), supported) is None


def test_response_headers():
    assert handshake.response_headers(KEY) == [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    assert handshake.response_headers(KEY, "chat")[-1] == ("Sec-WebSocket-Protocol", "chat")
