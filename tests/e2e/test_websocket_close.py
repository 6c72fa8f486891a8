"""The WebSocket closing handshake (RFC 6455 §5.5.1, §7), server-initiated close,
keepalive, shutdown, errors in user hooks, and sends from another thread."""
import struct
import threading
import time

import pytest
import websocket

from rawws import (OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, ProtocolError, assert_fails,
                   assert_tcp_closed, encode_frame, expect_close, open_ws, parse_close)
from handlers import (SENDS, ByeHandler, ChattyHandler, FailingHandler, KeepaliveHandler,
                      chatter_binary, chatter_text)

TIMEOUT = 10


# the client closes

def test_close_with_code_and_reason(server):
    with open_ws(server) as conn:
        conn.send_close(1000, "done here")
        code, _ = expect_close(conn)
        assert code == 1000
        assert conn.skipped == []


def test_empty_close_gets_an_empty_close(server):
    with open_ws(server) as conn:
        conn.send_close()
        assert expect_close(conn)[0] == 1005
        assert conn.close_payload == b""


VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
               3000, 3999, 4000, 4999]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_close_code_echoed(server, code):
    with open_ws(server) as conn:
        conn.send_close(code, "reason")
        assert expect_close(conn)[0] == code


INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_close_code_is_1002(server, code):
    with open_ws(server) as conn:
        conn.send_close(code)
        assert_fails(conn, 1002)


def test_one_byte_close_payload_is_1002(server):
    with open_ws(server) as conn:
        conn.send_frame(OP_CLOSE, b"\x03")
        assert_fails(conn, 1002)


@pytest.mark.parametrize("reason", [b"\xff", b"ok \xed\xa0\x80", b"\xc0\xaf", b"trunc \xe2\x82"],
                         ids=["ff", "surrogate", "overlong", "truncated"])
def test_invalid_utf8_reason_is_1007(server, reason):
    with open_ws(server) as conn:
        conn.send_close(1000, reason)
        assert_fails(conn, 1007)


def test_valid_utf8_reason_accepted(server):
    with open_ws(server) as conn:
        conn.send_close(1000, "κόσμε 😀")
        assert expect_close(conn)[0] == 1000


def test_close_payload_of_125_bytes_accepted(server):
    with open_ws(server) as conn:
        conn.send_close(1000, b"r" * 123)
        assert expect_close(conn)[0] == 1000


def test_close_payload_of_126_bytes_is_1002(server):
    with open_ws(server) as conn:
        conn.send_close(1000, b"r" * 124)
        assert_fails(conn, 1002)


def test_nothing_sent_after_the_close_handshake(server):
    with open_ws(server) as conn:
        conn.echo(OP_TEXT, b"before")
        conn.send_close(1000)
        opcode, payload = conn.recv_message()
        assert opcode == OP_CLOSE
        assert parse_close(payload)[0] == 1000
        assert_tcp_closed(conn)


def test_data_after_the_clients_close_is_ignored(server):
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_CLOSE, struct.pack("!H", 1000))
                  + encode_frame(OP_TEXT, b"after close") + encode_frame(OP_PING, b"after close")
                  + encode_frame(OP_BINARY, b"after close"))
        assert expect_close(conn)[0] == 1000
        assert conn.skipped == []


def test_data_sent_later_after_the_clients_close_is_ignored(server):
    with open_ws(server) as conn:
        conn.send_close(1000)
        conn.send_text(b"late")  # may hit a closed socket: that is fine too
        assert expect_close(conn)[0] == 1000
        assert conn.skipped == []


def test_messages_before_the_close_are_echoed_first(server):
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_TEXT, b"one") + encode_frame(OP_BINARY, b"two")
                  + encode_frame(OP_CLOSE, struct.pack("!H", 1000)))
        assert expect_close(conn)[0] == 1000
        assert conn.skipped == [(OP_TEXT, b"one"), (OP_BINARY, b"two")]


# the server closes

@pytest.fixture
def bye(start_server):
    return start_server(handler_class=ByeHandler)


def test_server_close_then_client_answers(bye):
    with open_ws(bye) as conn:
        conn.echo(OP_TEXT, b"hello")
        conn.send_text(b"bye")
        opcode, payload = conn.recv_message()
        assert opcode == OP_CLOSE
        assert parse_close(payload) == (4000, "bye")
        conn.send_close(4000)
        assert_tcp_closed(conn)


def test_server_close_when_client_never_answers(bye):
    with open_ws(bye) as conn:
        conn.send_text(b"bye")
        opcode, payload = conn.recv_message()
        assert opcode == OP_CLOSE
        assert parse_close(payload) == (4000, "bye")
        assert_tcp_closed(conn)  # after close_timeout (0.5 s), well within the 10 s


def test_server_close_ignores_data_before_the_answer(bye):
    with open_ws(bye) as conn:
        conn.send_text(b"bye")
        opcode, payload = conn.recv_message()
        assert (opcode, parse_close(payload)) == (OP_CLOSE, (4000, "bye"))
        conn.send_text(b"not echoed")
        conn.send_close(4000)
        assert_tcp_closed(conn)


def test_websocket_client_sees_server_close(bye):
    ws = websocket.create_connection("ws://%s:%d/ws/echo" % (bye.host, bye.port), timeout=TIMEOUT)
    try:
        ws.send("bye")
        opcode, frame = ws.recv_data_frame(True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert parse_close(frame.data) == (4000, "bye")
    finally:
        ws.close()


# keepalive

@pytest.fixture
def keepalive(start_server):
    return start_server(handler_class=KeepaliveHandler)


def test_idle_client_gets_a_ping(keepalive):
    with open_ws(keepalive) as conn:
        frame = conn.recv_frame()  # within the socket timeout
        assert frame.opcode == OP_PING


def test_client_that_answers_pings_stays_connected(keepalive):
    with open_ws(keepalive) as conn:
        for _ in range(5):
            frame = conn.recv_frame()
            assert frame.opcode == OP_PING, frame
            conn.send_pong(frame.payload)
        conn.echo(OP_TEXT, b"still here")


def test_client_that_never_answers_is_closed(keepalive):
    with open_ws(keepalive) as conn:
        frame = conn.recv_frame()
        assert frame.opcode == OP_PING
        # Nothing is sent back: the server closes, with 1011 if the frame gets out.
        try:
            opcode, payload = conn.recv_message()
        except ProtocolError:  # TCP closed without a close frame
            assert conn.eof
            return
        assert opcode == OP_CLOSE, (opcode, payload)
        assert parse_close(payload)[0] == 1011
        assert_tcp_closed(conn)


def test_messages_count_as_activity(keepalive):
    # A client that keeps sending data (and never answers pings) is not dropped while it
    # does; pings that arrive are read past.
    with open_ws(keepalive) as conn:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            conn.send_text(b"busy")
            for _ in range(10):
                opcode, payload = conn.recv_message()
                if opcode != OP_PING:
                    break
            assert (opcode, payload) == (OP_TEXT, b"busy")
            time.sleep(0.1)


# server shutdown, errors in hooks

def test_shutdown_sends_1001_to_websocket_client(start_server):
    running = start_server()
    ws = websocket.create_connection("ws://%s:%d/ws/echo" % (running.host, running.port),
                                     timeout=TIMEOUT)
    stopper = threading.Thread(target=running.stop, daemon=True)
    try:
        ws.send("before shutdown")
        assert ws.recv() == "before shutdown"
        stopper.start()
        opcode, frame = ws.recv_data_frame(True)  # answers the close itself
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert parse_close(frame.data)[0] == 1001
    finally:
        ws.close()
        stopper.join(TIMEOUT)
    assert not stopper.is_alive(), "the server did not stop"


def test_shutdown_sends_1001_and_closes_tcp(start_server):
    running = start_server()
    with open_ws(running) as conn:
        conn.echo(OP_TEXT, b"before shutdown")
        stopper = threading.Thread(target=running.stop, daemon=True)
        stopper.start()
        try:
            assert expect_close(conn)[0] == 1001
        finally:
            stopper.join(TIMEOUT)
    assert not stopper.is_alive(), "the server did not stop"


def test_exception_in_on_message_is_1011(start_server):
    running = start_server(handler_class=FailingHandler)
    with open_ws(running) as conn:
        conn.echo(OP_TEXT, b"fine")
        conn.send_text(b"boom")
        assert_fails(conn, 1011)
    with open_ws(running) as conn:  # the server goes on
        conn.echo(OP_TEXT, b"next connection")


# sends from another thread

def test_sends_from_another_thread_arrive_intact(start_server):
    running = start_server(handler_class=ChattyHandler)
    with open_ws(running) as conn:
        echoes = [b"client %d " % i + b"c" * (i * 701 % 20000) for i in range(SENDS)]
        sender = threading.Thread(
            target=lambda: [conn.send_binary(e) for e in echoes], daemon=True)
        sender.start()
        from_thread, echoed = [], []
        for _ in range(2 * SENDS):
            opcode, payload = conn.recv_data()
            if payload.startswith(b"client "):
                assert opcode == OP_BINARY
                echoed.append(payload)
            else:
                from_thread.append((opcode, payload))
        sender.join(TIMEOUT)
        assert echoed == echoes
        expected = [(OP_BINARY, chatter_binary(i)) if i % 2
                    else (OP_TEXT, chatter_text(i).encode()) for i in range(SENDS)]
        assert from_thread == expected
        conn.send_close(1000)
        assert expect_close(conn)[0] == 1000
