"""WebSocket frames and messages over raw sockets (RFC 6455 §5, §8), the categories of
the Autobahn testsuite: framing, ping/pong, reserved bits, opcodes, fragmentation, UTF-8
handling, limits. A broken frame must make the server close with the exact code."""
import pytest

from rawws import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RSV1, RSV2,
                   RSV3, assert_fails, encode_frame, expect_close, open_ws)
from handlers import SmallHandler

MIB = 1024 * 1024


@pytest.fixture
def small(start_server):
    return start_server(handler_class=SmallHandler)


def text_of(n):
    """n bytes of ASCII text."""
    return (b"0123456789abcdefghijklmnopqrstuvwxyz" * (n // 36 + 1))[:n]


def binary_of(n):
    return (bytes(range(256)) * (n // 256 + 1))[:n]


# framing: lengths in all three forms

@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, MIB])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_echo_lengths(server, opcode, length):
    payload = text_of(length) if opcode == OP_TEXT else binary_of(length)
    with open_ws(server) as conn:
        conn.echo(opcode, payload)
        conn.echo(opcode, b"after")


@pytest.mark.parametrize("length", [0, 1, 5, 125])
@pytest.mark.parametrize("form", [16, 64])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_echo_forced_long_length_forms(server, opcode, form, length):
    with open_ws(server) as conn:
        conn.echo(opcode, text_of(length), length_form=form)


def test_several_messages_in_one_packet(server):
    with open_ws(server) as conn:
        payloads = [text_of(n) for n in (0, 3, 200, 70000)]
        conn.send(b"".join(encode_frame(OP_TEXT, p) for p in payloads))
        for payload in payloads:
            assert conn.recv_data() == (OP_TEXT, payload)


def test_frame_sent_byte_by_byte(server):
    with open_ws(server) as conn:
        for byte in encode_frame(OP_TEXT, b"slowly"):
            conn.send(bytes([byte]))
        assert conn.recv_data() == (OP_TEXT, b"slowly")


def test_mask_key_of_zeros(server):
    with open_ws(server) as conn:
        conn.echo(OP_BINARY, b"plain", mask_key=b"\x00\x00\x00\x00")


# limits (default 1 MiB; SmallHandler 1000 bytes)

def test_default_limit_header_over_1mib_is_1009_before_payload(server):
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_BINARY, b"", length=MIB + 1))
        assert_fails(conn, 1009)


def test_default_limit_fragments_over_1mib_is_1009(server):
    with open_ws(server) as conn:
        conn.send_binary(binary_of(MIB), fin=False)
        conn.send_frame(OP_CONT, b"x", fin=True)
        assert_fails(conn, 1009)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_message_at_the_limit_passes(small, opcode):
    with open_ws(small) as conn:
        conn.echo(opcode, text_of(1000))


def test_fragments_at_the_limit_pass(small):
    with open_ws(small) as conn:
        conn.send_binary(binary_of(600), fin=False)
        conn.send_frame(OP_CONT, binary_of(400), fin=True)
        assert conn.recv_data() == (OP_BINARY, binary_of(600) + binary_of(400))


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_over_the_limit_is_1009(small, opcode):
    with open_ws(small) as conn:
        conn.send_frame(opcode, text_of(1001))
        assert_fails(conn, 1009)


@pytest.mark.parametrize("form", [16, 64])
def test_header_over_the_limit_is_1009_before_payload(small, form):
    # Only the header: the payload never comes, so the server must decide from it.
    with open_ws(small) as conn:
        conn.send(encode_frame(OP_BINARY, b"", length=1001, length_form=form))
        assert_fails(conn, 1009)


def test_huge_64bit_length_is_1009(small):
    with open_ws(small) as conn:
        conn.send(encode_frame(OP_BINARY, b"", length=2 ** 63 - 1))
        assert_fails(conn, 1009)


def test_fragments_summing_over_the_limit_are_1009(small):
    with open_ws(small) as conn:
        conn.send_binary(binary_of(600), fin=False)
        conn.send_frame(OP_CONT, binary_of(401), fin=True)
        assert_fails(conn, 1009)


def test_fragment_header_summing_over_the_limit_is_1009_before_payload(small):
    with open_ws(small) as conn:
        conn.send_text(text_of(600), fin=False)
        conn.send(encode_frame(OP_CONT, b"", fin=False, length=401))
        assert_fails(conn, 1009)


# masking, reserved bits, opcodes

@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY, OP_PING, OP_CLOSE],
                         ids=["text", "binary", "ping", "close"])
def test_unmasked_frame_is_1002(server, opcode):
    with open_ws(server) as conn:
        payload = b"\x03\xe8" if opcode == OP_CLOSE else b"unmasked"
        conn.send(encode_frame(opcode, payload, mask=False))
        assert_fails(conn, 1002)


@pytest.mark.parametrize("rsv", [RSV1, RSV2, RSV3, RSV1 | RSV2 | RSV3],
                         ids=["rsv1", "rsv2", "rsv3", "all"])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY, OP_PING], ids=["text", "binary", "ping"])
def test_reserved_bits_are_1002(server, opcode, rsv):
    with open_ws(server) as conn:
        conn.send_frame(opcode, b"reserved", rsv=rsv)
        assert_fails(conn, 1002)


def test_reserved_bit_on_a_continuation_is_1002(server):
    with open_ws(server) as conn:
        conn.send_text(b"first", fin=False)
        conn.send_frame(OP_CONT, b"second", rsv=RSV1)
        assert_fails(conn, 1002)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF],
                         ids=lambda op: "%#x" % op)
def test_reserved_opcodes_are_1002(server, opcode):
    with open_ws(server) as conn:
        conn.send_frame(opcode, b"")
        assert_fails(conn, 1002)


@pytest.mark.parametrize("opcode", [3, 0xB])
def test_reserved_opcode_with_payload_after_a_good_message_is_1002(server, opcode):
    with open_ws(server) as conn:
        conn.echo(OP_TEXT, b"good")
        conn.send_frame(opcode, b"reserved payload", fin=False)
        assert_fails(conn, 1002)


# ping and pong

@pytest.mark.parametrize("length", [0, 1, 125])
def test_ping_gets_pong_with_the_same_payload(server, length):
    payload = binary_of(length)
    with open_ws(server) as conn:
        conn.send_ping(payload)
        frame = conn.recv_frame()
        assert (frame.opcode, frame.payload) == (OP_PONG, payload)
        conn.echo(OP_TEXT, b"still open")


def test_several_pings_get_pongs_in_order(server):
    with open_ws(server) as conn:
        conn.send(b"".join(encode_frame(OP_PING, b"p%d" % i) for i in range(10)))
        for i in range(10):
            frame = conn.recv_frame()
            assert (frame.opcode, frame.payload) == (OP_PONG, b"p%d" % i)


def test_ping_of_126_bytes_is_1002(server):
    with open_ws(server) as conn:
        conn.send_ping(binary_of(126))
        assert_fails(conn, 1002)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE], ids=["ping", "pong", "close"])
def test_control_frame_with_fin_0_is_1002(server, opcode):
    with open_ws(server) as conn:
        payload = b"\x03\xe8" if opcode == OP_CLOSE else b"fragmented"
        conn.send_frame(opcode, payload, fin=False)
        assert_fails(conn, 1002)


def test_fragmented_ping_with_continuation_is_1002(server):
    with open_ws(server) as conn:
        conn.send_ping(b"frag", fin=False)
        conn.send_frame(OP_CONT, b"mented", fin=True)
        assert_fails(conn, 1002)


@pytest.mark.parametrize("payload", [b"", b"unsolicited", b"x" * 125])
def test_unsolicited_pong_is_ignored(server, payload):
    with open_ws(server) as conn:
        conn.send_pong(payload)
        conn.echo(OP_TEXT, b"after the pong")


def test_pong_of_126_bytes_is_1002(server):
    with open_ws(server) as conn:
        conn.send_pong(binary_of(126))
        assert_fails(conn, 1002)


# fragmentation

def send_fragments(conn, opcode, pieces, **options):
    for i, piece in enumerate(pieces):
        assert conn.send_frame(opcode if i == 0 else OP_CONT, piece,
                               fin=i == len(pieces) - 1, **options)


def test_text_in_two_fragments(server):
    with open_ws(server) as conn:
        send_fragments(conn, OP_TEXT, [b"Hello, ", b"world"])
        assert conn.recv_data() == (OP_TEXT, b"Hello, world")


def test_text_in_many_fragments(server):
    pieces = [b"part%02d " % i for i in range(50)]
    with open_ws(server) as conn:
        send_fragments(conn, OP_TEXT, pieces)
        assert conn.recv_data() == (OP_TEXT, b"".join(pieces))


def test_binary_fragmented(server):
    data = binary_of(200000)
    pieces = [data[:1], data[1:70000], data[70000:70125], data[70125:]]
    with open_ws(server) as conn:
        send_fragments(conn, OP_BINARY, pieces)
        assert conn.recv_data() == (OP_BINARY, data)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
def test_one_byte_fragments(server, opcode):
    data = b"one byte at a time"
    with open_ws(server) as conn:
        send_fragments(conn, opcode, [data[i:i + 1] for i in range(len(data))])
        assert conn.recv_data() == (opcode, data)


def test_fragments_in_one_packet(server):
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_TEXT, b"a", fin=False) + encode_frame(OP_CONT, b"b", fin=False)
                  + encode_frame(OP_CONT, b"c") + encode_frame(OP_BINARY, b"d"))
        assert conn.recv_data() == (OP_TEXT, b"abc")
        assert conn.recv_data() == (OP_BINARY, b"d")


def test_ping_between_fragments_answered_before_the_message(server):
    with open_ws(server) as conn:
        conn.send_text(b"frag", fin=False)
        conn.send_ping(b"in between")
        conn.send_frame(OP_CONT, b"mented", fin=True)
        frame = conn.recv_frame()
        assert (frame.opcode, frame.payload) == (OP_PONG, b"in between")
        assert conn.recv_data() == (OP_TEXT, b"fragmented")


def test_pings_and_pongs_between_one_byte_fragments(server):
    data = b"interleaved"
    with open_ws(server) as conn:
        for i in range(len(data)):
            conn.send_frame(OP_TEXT if i == 0 else OP_CONT, data[i:i + 1], fin=i == len(data) - 1)
            if i < len(data) - 1:
                conn.send_pong(b"pong %d" % i)
                conn.send_ping(b"ping %d" % i)
        for i in range(len(data) - 1):
            frame = conn.recv_frame()
            assert (frame.opcode, frame.payload) == (OP_PONG, b"ping %d" % i)
        assert conn.recv_data() == (OP_TEXT, data)


def test_pong_between_fragments_ignored(server):
    with open_ws(server) as conn:
        conn.send_binary(b"frag", fin=False)
        conn.send_pong(b"unsolicited")
        conn.send_frame(OP_CONT, b"mented", fin=True)
        assert conn.recv_data() == (OP_BINARY, b"fragmented")


def test_close_between_fragments_closes(server):
    with open_ws(server) as conn:
        conn.send_text(b"frag", fin=False)
        conn.send_close(1000)
        assert expect_close(conn)[0] == 1000
        assert conn.skipped == []


@pytest.mark.parametrize("fin", [True, False], ids=["final", "not final"])
def test_continuation_without_a_message_is_1002(server, fin):
    with open_ws(server) as conn:
        conn.send_frame(OP_CONT, b"orphan", fin=fin)
        assert_fails(conn, 1002)


def test_continuation_after_a_finished_message_is_1002(server):
    with open_ws(server) as conn:
        conn.echo(OP_TEXT, b"finished")
        conn.send_frame(OP_CONT, b"late", fin=True)
        assert_fails(conn, 1002)


@pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
@pytest.mark.parametrize("fin", [True, False], ids=["final", "not final"])
def test_new_message_inside_an_open_one_is_1002(server, second, fin):
    with open_ws(server) as conn:
        conn.send_text(b"open", fin=False)
        conn.send_frame(second, b"new", fin=fin)
        assert_fails(conn, 1002)


def test_empty_fragments(server):
    with open_ws(server) as conn:
        send_fragments(conn, OP_TEXT, [b"", b"", b"data", b"", b""])
        assert conn.recv_data() == (OP_TEXT, b"data")
        send_fragments(conn, OP_BINARY, [b"", b"", b""])
        assert conn.recv_data() == (OP_BINARY, b"")
        send_fragments(conn, OP_TEXT, [b"", b"x"])
        assert conn.recv_data() == (OP_TEXT, b"x")


# UTF-8 (Autobahn section 6)

VALID_TEXT = [
    "κόσμε",
    "Hello-µ@ßöäüàá-UTF-8!!",
    "\u0000",
    "\u007f\u0080\u07ff\u0800\uffff",
    "\U00010000\U0010ffff",
    "\ud7ff\ue000\ufffd\ufeff",
    "emoji 😀 and € and 中文",
]


@pytest.mark.parametrize("text", VALID_TEXT, ids=range(len(VALID_TEXT)))
def test_valid_utf8_echoed(server, text):
    with open_ws(server) as conn:
        conn.echo(OP_TEXT, text.encode("utf-8"))


def test_utf8_split_at_every_byte_across_fragments(server):
    data = "κόσμε 😀 € 中".encode("utf-8")
    with open_ws(server) as conn:
        for i in range(1, len(data)):
            send_fragments(conn, OP_TEXT, [data[:i], data[i:]])
            assert conn.recv_data() == (OP_TEXT, data), i


def test_utf8_in_one_byte_fragments(server):
    data = "κόσμε😀€".encode("utf-8")
    with open_ws(server) as conn:
        send_fragments(conn, OP_TEXT, [data[i:i + 1] for i in range(len(data))])
        assert conn.recv_data() == (OP_TEXT, data)


INVALID_UTF8 = {
    # 6.3: valid prefix, surrogate inside
    "6.3.1 kosme with surrogate": b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
    # 6.8, 6.9: 5- and 6-byte forms
    "6.8.1 five bytes": b"\xf8\x88\x80\x80\x80",
    "6.8.2 six bytes": b"\xfc\x84\x80\x80\x80\x80",
    # 6.6/6.10: beyond U+10FFFF
    "f4 90 80 80": b"\xf4\x90\x80\x80",
    "f4 90": b"\xf4\x90",
    "f5": b"\xf5\x80\x80\x80",
    # 6.14: lone continuation bytes
    "lone 0x80": b"\x80",
    "lone 0xbf": b"\xbf",
    "text then 0x80": b"abc\x80def",
    "two continuations": b"\x80\xbf",
    # 6.15-6.17: start bytes not followed by continuations
    "c0 space": b"\xc0 ",
    "e0 space": b"\xe0 ",
    "f0 space": b"\xf0 ",
    # 6.18-6.19: impossible bytes
    "fe": b"\xfe",
    "ff": b"\xff",
    "fe fe ff ff": b"\xfe\xfe\xff\xff",
    # 6.20: overlong '/'
    "overlong / 2 bytes": b"\xc0\xaf",
    "overlong / 3 bytes": b"\xe0\x80\xaf",
    "overlong / 4 bytes": b"\xf0\x80\x80\xaf",
    "overlong / 5 bytes": b"\xf8\x80\x80\x80\xaf",
    "overlong nul 2 bytes": b"\xc0\x80",
    "overlong max 2 bytes": b"\xc1\xbf",
    "overlong max 3 bytes": b"\xe0\x9f\xbf",
    "overlong max 4 bytes": b"\xf0\x8f\xbf\xbf",
    # 6.21-6.22: surrogates
    "surrogate d800": b"\xed\xa0\x80",
    "surrogate dbff": b"\xed\xaf\xbf",
    "surrogate dc00": b"\xed\xb0\x80",
    "surrogate dfff": b"\xed\xbf\xbf",
    "surrogate pair": b"\xed\xa0\x80\xed\xb0\x80",
    # truncated sequences at the end of the message
    "truncated 2 of 3": b"abc\xe2\x82",
    "truncated 1 of 2": b"abc\xce",
    "truncated 3 of 4": b"\xf0\x9f\x98",
}


@pytest.mark.parametrize("data", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
def test_invalid_utf8_in_one_frame_is_1007(server, data):
    with open_ws(server) as conn:
        conn.send_text(data)
        assert_fails(conn, 1007)


@pytest.mark.parametrize("data", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
def test_invalid_utf8_in_one_byte_fragments_is_1007(server, data):
    with open_ws(server) as conn:
        for i in range(len(data)):  # the server may fail and close at the first bad byte
            if not conn.send_frame(OP_CONT if i else OP_TEXT, data[i:i + 1],
                                   fin=i == len(data) - 1):
                break
        assert_fails(conn, 1007)


def test_invalid_utf8_in_second_of_three_fragments_fails_early(server):
    # The third fragment is never sent: the 1007 must come from the second alone.
    with open_ws(server) as conn:
        conn.send_text(b"valid start ", fin=False)
        conn.send_frame(OP_CONT, b"then \xed\xa0\x80 a surrogate", fin=False)
        assert_fails(conn, 1007)


def test_invalid_utf8_fails_early_inside_one_frame(server):
    # Autobahn 6.4.3 (fail fast, "strict"): a single frame whose invalid byte has
    # arrived while the rest of its payload never does.
    with open_ws(server) as conn:
        frame = encode_frame(OP_TEXT, b"ok \xf4\x90\x80\x80" + b"x" * 5000)
        conn.send(frame[:-4000])
        assert_fails(conn, 1007)


def test_truncated_sequence_at_the_final_fragment_is_1007(server):
    with open_ws(server) as conn:
        conn.send_text(b"abc\xe2\x82", fin=False)
        conn.send_frame(OP_CONT, b"", fin=True)
        assert_fails(conn, 1007)


def test_sequence_completed_by_the_final_fragment_passes(server):
    with open_ws(server) as conn:
        conn.send_text(b"abc\xe2\x82", fin=False)
        conn.send_frame(OP_CONT, b"\xac", fin=True)
        assert conn.recv_data() == (OP_TEXT, "abc€".encode("utf-8"))


def test_invalid_utf8_in_binary_is_fine(server):
    with open_ws(server) as conn:
        conn.echo(OP_BINARY, b"\xff\xfe\xed\xa0\x80\xc0\xaf")


def test_good_frame_echoed_before_the_close_for_a_bad_one(server):
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_TEXT, b"good") + encode_frame(OP_TEXT, b"bad", rsv=RSV1))
        assert conn.recv_message() == (OP_TEXT, b"good")
        assert_fails(conn, 1002)


def test_good_frame_echoed_before_the_close_for_bad_utf8(server):
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_TEXT, b"good") + encode_frame(OP_TEXT, b"\xff"))
        assert conn.recv_message() == (OP_TEXT, b"good")
        assert_fails(conn, 1007)


def test_nothing_processed_after_a_protocol_error(server):
    # Frames after the failing one in the same packet are neither echoed nor answered.
    with open_ws(server) as conn:
        conn.send(encode_frame(OP_CONT, b"orphan") + encode_frame(OP_TEXT, b"after")
                  + encode_frame(OP_PING, b"after"))
        assert_fails(conn, 1002)
        assert conn.skipped == []
