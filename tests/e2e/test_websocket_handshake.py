"""The WebSocket opening handshake (RFC 6455 §4.2) over raw sockets: one rule per test,
exact statuses and headers; and websocket-client as a real client."""
import base64
import hashlib

import pytest
import websocket

from rawws import (OP_BINARY, OP_TEXT, WSConnection, accept_key, check_accepted,
                   encode_frame, open_ws)
from handlers import ChatHandler

TIMEOUT = 10
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def handshake(target, path="/ws/echo", **options):
    """The server's answer to one handshake on a fresh connection."""
    with WSConnection(target) as conn:
        response = conn.handshake(path, **options)
        return response, conn.key


def rfc_accept(key):
    """RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), computed here independently."""
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


def test_accept_key_formula_matches_rfc_example():
    assert rfc_accept(RFC_KEY) == RFC_ACCEPT
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_accept_key_for_a_known_key(server):
    key = base64.b64encode(bytes(range(16))).decode()
    response, _ = handshake(server, key=key)
    assert response.status == 101, response
    assert response.get_all("Sec-WebSocket-Accept") == [rfc_accept(key)], response


def test_upgrade_answers_101_with_accept_key(server):
    response, key = handshake(server)
    check_accepted(response, key)
    assert response.version == "HTTP/1.1"
    assert response.get_all("Sec-WebSocket-Protocol") == []
    assert response.get_all("Sec-WebSocket-Extensions") == []


def test_rfc_example_key_through_the_server(server):
    response, _ = handshake(server, key=RFC_KEY)
    assert response.status == 101
    assert response.get_all("Sec-WebSocket-Accept") == [RFC_ACCEPT]


def test_upgrade_then_echo_on_the_same_socket(server):
    with open_ws(server) as conn:
        conn.echo(OP_TEXT, "hello")
        conn.echo(OP_BINARY, b"\x00\xffbinary")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_method_other_than_get_is_405_allow_get(server, method):
    response, _ = handshake(server, method=method)
    assert response.status == 405, response
    assert response.tokens("Allow") == ["get"], response


def test_head_is_405_allow_get(server):
    response, _ = handshake(server, method="HEAD")
    assert response.status == 405, response
    assert response.tokens("Allow") == ["get"], response


def test_http_10_is_400(server):
    response, _ = handshake(server, version="HTTP/1.0")
    assert response.status == 400, response


def test_plain_get_of_websocket_route_is_426(server):
    with WSConnection(server) as conn:
        conn.send(b"GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        response = conn.read_response()
    assert response.status == 426, response
    assert response.tokens("Upgrade") == ["websocket"], response


@pytest.mark.parametrize("overrides", [
    {"Upgrade": None},
    {"Upgrade": "h2c"},
    {"Upgrade": "websocket2"},
    {"Upgrade": ""},
    {"Connection": None},
    {"Connection": "keep-alive"},
    {"Connection": "close"},
    {"Connection": "upgrades"},
], ids=["no upgrade", "upgrade h2c", "upgrade websocket2", "empty upgrade", "no connection",
        "connection keep-alive", "connection close", "connection upgrades"])
def test_missing_or_wrong_upgrade_is_426(server, overrides):
    response, _ = handshake(server, overrides=overrides)
    assert response.status == 426, response
    assert response.tokens("Upgrade") == ["websocket"], response


@pytest.mark.parametrize("overrides", [
    {"Upgrade": "WebSocket"},
    {"Upgrade": "WEBSOCKET"},
    {"Connection": "keep-alive, Upgrade"},
    {"Connection": "Upgrade, keep-alive"},
    {"Connection": "upgrade"},
    {"Connection": "UPGRADE"},
    {"Connection": "keep-alive,upgrade"},
], ids=["upgrade WebSocket", "upgrade WEBSOCKET", "keep-alive, Upgrade",
        "Upgrade, keep-alive", "upgrade", "UPGRADE", "keep-alive,upgrade"])
def test_header_case_and_token_lists_accepted(server, overrides):
    response, key = handshake(server, overrides=overrides)
    check_accepted(response, key)


def test_connection_upgrade_in_a_second_header_line(server):
    response, key = handshake(server, overrides={"Connection": "keep-alive"},
                              extra=[("Connection", "Upgrade")])
    check_accepted(response, key)


def test_lowercase_header_names_accepted(server):
    with WSConnection(server) as conn:
        conn.key = "AQIDBAUGBwgJCgsMDQ4PEA=="
        conn.send(b"GET /ws/echo HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\n"
                  b"connection: upgrade\r\nsec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"
                  b"sec-websocket-version: 13\r\n\r\n")
        response = conn.read_response()
    check_accepted(response, conn.key)


@pytest.mark.parametrize("version", [None, "8", "12", "14", "13, 8", "", "thirteen"],
                         ids=["missing", "8", "12", "14", "list", "empty", "word"])
def test_bad_version_is_426_with_version_13(server, version):
    response, _ = handshake(server, overrides={"Sec-WebSocket-Version": version})
    assert response.status == 426, response
    assert response.get_all("Sec-WebSocket-Version") == ["13"], response


def test_missing_key_is_400(server):
    response, _ = handshake(server, overrides={"Sec-WebSocket-Key": None})
    assert response.status == 400, response


def test_repeated_key_is_400(server):
    response, _ = handshake(server, extra=[("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")])
    assert response.status == 400, response


@pytest.mark.parametrize("key", [
    "not base64 at all!!",
    "%%%%%%%%%%%%%%%%%%%%%%%%",
    base64.b64encode(b"x" * 15).decode(),
    base64.b64encode(b"x" * 17).decode(),
    base64.b64encode(b"x" * 32).decode(),
    "",
], ids=["not base64", "percent signs", "15 bytes", "17 bytes", "32 bytes", "empty"])
def test_bad_key_is_400(server, key):
    response, _ = handshake(server, key="placeholder", overrides={"Sec-WebSocket-Key": key})
    assert response.status == 400, response


def test_foreign_origin_is_403(start_server):
    running = start_server(allow_origins=["http://good.example"])
    response, _ = handshake(running, extra=[("Origin", "http://evil.example")])
    assert response.status == 403, response


def test_listed_origin_accepted(start_server):
    running = start_server(allow_origins=["http://good.example"])
    response, key = handshake(running, extra=[("Origin", "http://good.example")])
    check_accepted(response, key)


def test_no_origin_accepted_with_allow_list(start_server):
    running = start_server(allow_origins=["http://good.example"])
    response, key = handshake(running)
    check_accepted(response, key)


def test_any_origin_accepted_without_allow_list(server):
    response, key = handshake(server, extra=[("Origin", "http://anywhere.example")])
    check_accepted(response, key)


@pytest.mark.parametrize("offers, chosen", [
    (["v1.chat, v2.chat"], "v2.chat"),
    (["v2.chat, v1.chat"], "v2.chat"),
    (["v1.chat"], "v1.chat"),
    (["x.chat, v1.chat"], "v1.chat"),
    (["v1.chat", "v2.chat"], "v2.chat"),
    (["unknown"], None),
    (["unknown, other"], None),
], ids=["both, v1 first", "both, v2 first", "only v1", "unknown and v1", "two header lines",
        "only unknown", "two unknown"])
def test_subprotocol_negotiation(start_server, offers, chosen):
    running = start_server(handler_class=ChatHandler)
    extra = [("Sec-WebSocket-Protocol", offer) for offer in offers]
    response, key = handshake(running, extra=extra)
    check_accepted(response, key)
    expected = [chosen] if chosen else []
    assert response.get_all("Sec-WebSocket-Protocol") == expected, response


def test_no_subprotocol_when_handler_has_none(server):
    response, key = handshake(server, extra=[("Sec-WebSocket-Protocol", "v1.chat")])
    check_accepted(response, key)
    assert response.get_all("Sec-WebSocket-Protocol") == [], response


def test_first_frame_in_the_same_packet_as_the_head(server):
    with WSConnection(server) as conn:
        first = encode_frame(OP_TEXT, b"sent with the head")
        second = encode_frame(OP_BINARY, b"\x01\x02\x03")
        response = conn.handshake(after=first + second)
        check_accepted(response, conn.key)
        assert conn.recv_data() == (OP_TEXT, b"sent with the head")
        assert conn.recv_data() == (OP_BINARY, b"\x01\x02\x03")


def test_websocket_client_echoes_text_and_binary(server):
    ws = websocket.create_connection("ws://%s:%d/ws/echo" % (server.host, server.port),
                                     timeout=TIMEOUT)
    try:
        ws.send("hello κόσμε")
        assert ws.recv() == "hello κόσμε"
        ws.send_binary(b"\x00\x01\xfe\xff")
        assert ws.recv() == b"\x00\x01\xfe\xff"
        big = bytes(range(256)) * 1000
        ws.send_binary(big)
        assert ws.recv() == big
    finally:
        ws.close()


def test_websocket_client_subprotocol(start_server):
    running = start_server(handler_class=ChatHandler)
    ws = websocket.create_connection("ws://%s:%d/ws/echo" % (running.host, running.port),
                                     timeout=TIMEOUT, subprotocols=["v1.chat", "v2.chat"])
    try:
        assert ws.getsubprotocol() == "v2.chat"
        ws.send("chat")
        assert ws.recv() == "chat"
    finally:
        ws.close()
