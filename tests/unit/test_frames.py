"""wsserver.frames and wsserver.wsparser: RFC 6455 §5.7 vectors, round trips, masking,
and every way a client frame can fail the connection, with its close code."""
import gc

from checks import raises
from wsserver.frames import (
    CLOSE_INVALID_DATA, CLOSE_MESSAGE_TOO_BIG, CLOSE_NO_STATUS, CLOSE_PROTOCOL_ERROR,
    OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
    WebSocketError, apply_mask, encode_close, encode_frame, encode_header,
    is_valid_close_code, parse_close)
from wsserver.utf8 import Utf8Decoder
from wsserver.wsparser import FrameParser

MASK = b"\x37\xfa\x21\x3d"  # the key of RFC 6455 §5.7


def random_bytes(n, seed=1):
    """Deterministic pseudo-random bytes (the same on CPython and MicroPython)."""
    out = bytearray(n)
    for i in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = seed >> 16 & 0xFF
    return bytes(out)


def parse(data, pieces=None, **options):
    """Events of a fresh parser fed data whole, or cut at the positions in pieces."""
    parser = FrameParser(**options)
    cuts = [0] + (pieces or []) + [len(data)]
    view = memoryview(data)  # no copies: MicroPython has 512 KiB here
    events = []
    for k in range(len(cuts) - 1):
        events += parser.feed(view[cuts[k]:cuts[k + 1]])
    return events


def error_code(events):
    """The close code of the error event that must end events."""
    assert events and events[-1][0] is None, events
    assert isinstance(events[-1][1], WebSocketError)
    return events[-1][1].code


def masked(opcode, payload, fin=True):
    return encode_frame(opcode, payload, fin, MASK)


# RFC 6455 §5.7 examples

def test_rfc_unmasked_text():
    data = bytes((0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f))
    assert parse(data, require_mask=False) == [(OP_TEXT, "Hello")]
    assert encode_frame(OP_TEXT, b"Hello") == data


def test_rfc_masked_text():
    data = bytes((0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58))
    assert parse(data) == [(OP_TEXT, "Hello")]
    assert encode_frame(OP_TEXT, b"Hello", mask_key=MASK) == data


def test_rfc_fragmented_unmasked_text():
    data = bytes((0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f))
    assert parse(data, require_mask=False) == [(OP_TEXT, "Hello")]
    assert encode_frame(OP_TEXT, b"Hel", fin=False) + encode_frame(
        OP_CONTINUATION, b"lo") == data


def test_rfc_unmasked_ping_and_masked_pong():
    ping = bytes((0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f))
    pong = bytes((0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58))
    assert parse(ping, require_mask=False) == [(OP_PING, b"Hello")]
    assert parse(pong) == [(OP_PONG, b"Hello")]
    assert encode_frame(OP_PING, b"Hello") == ping
    assert encode_frame(OP_PONG, b"Hello", mask_key=MASK) == pong
    assert parse(masked(OP_PING, b"Hello")) == [(OP_PING, b"Hello")]


def test_rfc_256_byte_binary():
    payload = random_bytes(256)
    data = bytes((0x82, 0x7E, 0x01, 0x00)) + payload
    assert parse(data, require_mask=False) == [(OP_BINARY, payload)]
    assert encode_header(OP_BINARY, 256) == data[:4]
    assert encode_frame(OP_BINARY, payload) == data


def test_rfc_64_kib_binary():
    gc.collect()
    payload = random_bytes(65536)
    head = bytes((0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0))
    assert parse(head + payload, require_mask=False) == [(OP_BINARY, payload)]
    assert encode_header(OP_BINARY, 65536) == head
    frame = masked(OP_BINARY, payload)
    for cut in range(1, 16):  # the 14-byte header split at every position
        assert parse(frame, [cut]) == [(OP_BINARY, payload)], cut
    assert parse(frame, [5, 9, 3000]) == [(OP_BINARY, payload)]


# Encoding

def test_header_length_forms():
    for length, size in ((0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (2 ** 40, 10)):
        assert len(encode_header(OP_BINARY, length)) == size
        head = encode_header(OP_BINARY, length, mask_key=MASK)
        assert len(head) == size + 4 and head[-4:] == MASK and head[1] & 0x80
    assert encode_header(OP_TEXT, 3, fin=False) == b"\x01\x03"
    raises(ValueError, encode_header, OP_PING, 126)
    raises(ValueError, encode_header, OP_CLOSE, 2, False)


def test_encode_frame_takes_any_buffer():
    for payload in (b"abc", bytearray(b"abc"), memoryview(b"xabc")[1:]):
        assert encode_frame(OP_BINARY, payload) == b"\x82\x03abc"
        assert parse(encode_frame(OP_BINARY, payload, mask_key=MASK)) == [(OP_BINARY, b"abc")]


def round_trip(opcode, payload):
    """Encode payload as a masked client frame, parse it: the message that comes out."""
    events = parse(masked(opcode, payload))
    assert len(events) == 1 and events[0][0] == opcode, events
    return events[0][1]


def test_round_trip_all_length_forms():
    for length in (0, 1, 2, 3, 4, 5, 125, 126, 127, 1000, 65535, 65536, 65541):
        gc.collect()  # room for 64 KiB blocks in MicroPython's 512 KiB heap
        payload = random_bytes(length, length)
        assert round_trip(OP_BINARY, payload) == payload, length
        payload = None
        message = "é" * (length // 2) + "!" * (length % 2)  # length bytes of UTF-8
        assert round_trip(OP_TEXT, message.encode()) == message, length
    assert round_trip(OP_PING, b"x" * 125) == b"x" * 125
    assert round_trip(OP_CLOSE, encode_close(1001, "κ")) == (1001, "κ")


# Masking

def naive_mask(data, key, offset):
    return bytes(data[i] ^ key[(i + offset) % 4] for i in range(len(data)))


def test_apply_mask_matches_a_byte_loop():
    data = random_bytes(1100)
    for length in list(range(0, 41)) + [63, 64, 65, 511, 512, 513, 1023, 1100]:
        for offset in range(8):
            for chunk in (None, 4, 8, 64, 512):
                buffer = bytearray(data[:length])
                apply_mask(buffer, MASK, offset, chunk)
                expected = naive_mask(data[:length], MASK, offset)
                assert bytes(buffer) == expected, (length, offset, chunk)


def test_apply_mask_in_place_through_a_memoryview():
    data = random_bytes(300, 7)
    buffer = bytearray(data)
    view = memoryview(buffer)
    apply_mask(view[:101], MASK, 0, 16)  # a payload unmasked in three pieces
    apply_mask(view[101:102], MASK, 101, 16)
    apply_mask(view[102:], MASK, 102, 16)
    assert bytes(buffer) == naive_mask(data, MASK, 0)
    apply_mask(buffer, MASK)
    assert bytes(buffer) == data


# Close payloads

def test_close_payloads():
    assert encode_close() == b""
    assert encode_close(1000) == b"\x03\xe8"
    assert encode_close(1001, "bye") == b"\x03\xe9bye"
    assert parse_close(b"") == (CLOSE_NO_STATUS, "")
    assert parse_close(b"\x03\xe8") == (1000, "")
    assert parse_close(encode_close(4999, "κόσμε")) == (4999, "κόσμε")
    assert raises(WebSocketError, parse_close, b"\x03").code == CLOSE_PROTOCOL_ERROR
    assert raises(WebSocketError, parse_close, b"\x03\xe8\xc0\xaf").code == CLOSE_INVALID_DATA
    raises(ValueError, encode_close, 1005)
    raises(ValueError, encode_close, None, "reason without a code")
    assert encode_close(1000, "x" * 200) == b"\x03\xe8" + b"x" * 123
    assert encode_close(1000, "é" * 70) == b"\x03\xe8" + "é".encode() * 61  # 122 bytes
    assert encode_close(1000, "x" + "é" * 70) == b"\x03\xe8x" + "é".encode() * 61


def test_close_codes():
    valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
             3000, 3999, 4000, 4999]
    invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]
    for code in valid:
        assert is_valid_close_code(code), code
        assert parse_close(code.to_bytes(2, "big") + b"why") == (code, "why")
    for code in invalid:
        assert not is_valid_close_code(code), code
        events = parse(masked(OP_CLOSE, code.to_bytes(2, "big")))
        assert error_code(events) == CLOSE_PROTOCOL_ERROR, code


def test_close_frames_through_the_parser():
    assert parse(masked(OP_CLOSE, b"")) == [(OP_CLOSE, (1005, ""))]
    assert parse(masked(OP_CLOSE, encode_close(1000, "done"))) == [(OP_CLOSE, (1000, "done"))]
    assert error_code(parse(masked(OP_CLOSE, b"\x03"))) == CLOSE_PROTOCOL_ERROR
    assert error_code(parse(masked(OP_CLOSE, b"\x03\xe8\xff"))) == CLOSE_INVALID_DATA


# Protocol errors, each with its close code

def test_unmasked_frame_is_refused():
    assert error_code(parse(b"\x81\x05Hello")) == CLOSE_PROTOCOL_ERROR
    assert error_code(parse(b"\x81\x05")) == CLOSE_PROTOCOL_ERROR  # known from 2 bytes
    assert parse(b"\x81") == []  # one byte does not say yet


def test_rsv_bits_are_refused():
    for bit in (0x40, 0x20, 0x10):
        data = bytearray(masked(OP_TEXT, b"hi"))
        data[0] |= bit
        assert error_code(parse(bytes(data))) == CLOSE_PROTOCOL_ERROR
        assert error_code(parse(bytes(data[:1]))) == CLOSE_PROTOCOL_ERROR  # first byte


def test_reserved_opcodes_are_refused():
    for opcode in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
        data = bytes((0x80 | opcode, 0x80)) + MASK
        assert error_code(parse(data)) == CLOSE_PROTOCOL_ERROR, opcode


def test_control_frame_rules():
    for opcode in (OP_PING, OP_PONG, OP_CLOSE):
        head = bytes((opcode, 0x80)) + MASK  # FIN=0
        assert error_code(parse(head)) == CLOSE_PROTOCOL_ERROR
        head = bytes((0x80 | opcode, 0x80 | 126, 0, 126)) + MASK
        assert error_code(parse(head)) == CLOSE_PROTOCOL_ERROR
    assert parse(masked(OP_PING, b"p" * 125)) == [(OP_PING, b"p" * 125)]


def test_continuation_out_of_place():
    assert error_code(parse(masked(OP_CONTINUATION, b"x"))) == CLOSE_PROTOCOL_ERROR
    done = masked(OP_TEXT, b"a") + masked(OP_CONTINUATION, b"b")
    assert error_code(parse(done)) == CLOSE_PROTOCOL_ERROR
    for opcode in (OP_TEXT, OP_BINARY):
        data = masked(OP_TEXT, b"a", fin=False) + masked(opcode, b"b")
        assert error_code(parse(data)) == CLOSE_PROTOCOL_ERROR


def test_64_bit_length_with_the_top_bit_set():
    data = bytes((0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1)) + MASK
    assert error_code(parse(data)) == CLOSE_PROTOCOL_ERROR


def test_too_big_is_decided_from_the_header_alone():
    head = encode_header(OP_BINARY, 1001, mask_key=MASK)
    events = FrameParser(max_message_size=1000).feed(head)
    assert error_code(events) == CLOSE_MESSAGE_TOO_BIG
    head = encode_header(OP_TEXT, 2 ** 40, mask_key=MASK)
    assert error_code(FrameParser().feed(head)) == CLOSE_MESSAGE_TOO_BIG
    assert parse(masked(OP_BINARY, b"x" * 1000), max_message_size=1000) == [
        (OP_BINARY, b"x" * 1000)]


def test_too_big_counts_all_fragments():
    parser = FrameParser(max_message_size=10)
    assert parser.feed(masked(OP_TEXT, b"123456", fin=False)) == []
    assert parser.feed(masked(OP_PING, b"control frames do not count")) != []
    events = parser.feed(encode_header(OP_CONTINUATION, 5, mask_key=MASK))
    assert error_code(events) == CLOSE_MESSAGE_TOO_BIG


def test_invalid_utf8_fails_with_the_frame_that_brings_it():
    parser = FrameParser()
    assert parser.feed(masked(OP_TEXT, "κό".encode(), fin=False)) == []
    events = parser.feed(masked(OP_CONTINUATION, b"\xce\xba\xed\xa0\x80", fin=False))
    assert error_code(events) == CLOSE_INVALID_DATA


def test_invalid_utf8_fails_with_the_piece_that_brings_it():
    frame = masked(OP_TEXT, b"a" * 100 + b"\xc0\xaf" + b"b" * 100)
    parser = FrameParser()
    assert parser.feed(frame[:50]) == []
    assert error_code(parser.feed(frame[50:110])) == CLOSE_INVALID_DATA


def test_truncated_utf8_fails_at_the_final_fragment():
    parser = FrameParser()
    assert parser.feed(masked(OP_TEXT, b"ok\xe2\x82", fin=False)) == []
    events = parser.feed(masked(OP_CONTINUATION, b""))
    assert error_code(events) == CLOSE_INVALID_DATA


def test_events_before_an_error_are_kept_and_the_parser_stays_dead():
    parser = FrameParser()
    events = parser.feed(masked(OP_TEXT, b"fine") + b"\x81\x02no" + masked(OP_TEXT, b"x"))
    assert events[0] == (OP_TEXT, "fine") and len(events) == 2
    assert error_code(events) == CLOSE_PROTOCOL_ERROR
    assert parser.feed(masked(OP_TEXT, b"later")) == []


# Fragmentation, interleaving, pipelining and arbitrary splits

def mixed_stream():
    """A client's frames and the events they must give, whatever the split."""
    binary = random_bytes(300, 3)
    frames = [
        masked(OP_TEXT, "Hé".encode()[:2], fin=False),  # splits the 'é'
        masked(OP_PING, b"ping"),
        masked(OP_CONTINUATION, "é, κόσμε".encode()[1:], fin=False),
        masked(OP_PONG, b""),
        masked(OP_CONTINUATION, b"!"),
        masked(OP_BINARY, binary[:130], fin=False),
        masked(OP_CONTINUATION, b"", fin=False),
        masked(OP_CONTINUATION, binary[130:]),
        masked(OP_TEXT, b""),
        masked(OP_BINARY, b"\x00"),
        masked(OP_CLOSE, encode_close(1000, "bye")),
    ]
    events = [(OP_PING, b"ping"), (OP_PONG, b""), (OP_TEXT, "Hé, κόσμε!"),
              (OP_BINARY, binary), (OP_TEXT, ""), (OP_BINARY, b"\x00"),
              (OP_CLOSE, (1000, "bye"))]
    return b"".join(frames), events


def test_interleaved_control_frames_and_pipelining():
    data, expected = mixed_stream()
    assert parse(data) == expected
    assert parse(data * 3) == expected * 3


def test_every_split_gives_the_same_events():
    data, expected = mixed_stream()
    assert parse(data, list(range(1, len(data)))) == expected  # one byte at a time
    for cut in range(1, len(data)):
        assert parse(data, [cut]) == expected, cut
    for cut in range(1, len(data) - 13, 7):
        assert parse(data, [cut, cut + 3, cut + 13]) == expected, cut


def test_memoryview_and_bytearray_feeds():
    data, expected = mixed_stream()
    assert parse(bytearray(data), [17]) == expected
    assert parse(memoryview(data), [40, 41]) == expected


def test_unmasked_frames_when_masks_are_not_required():
    data = encode_frame(OP_TEXT, b"ab", fin=False) + encode_frame(OP_PING, b"") + \
        encode_frame(OP_CONTINUATION, b"c") + encode_frame(OP_BINARY, b"\x01" * 200)
    expected = [(OP_PING, b""), (OP_TEXT, "abc"), (OP_BINARY, b"\x01" * 200)]
    assert parse(data, require_mask=False) == expected
    assert parse(data, list(range(1, len(data))), require_mask=False) == expected


def test_decoder_factory_is_used():
    made = []

    def factory():
        made.append(1)
        return Utf8Decoder()

    parser = FrameParser(decoder_factory=factory)
    assert parser.feed(masked(OP_TEXT, b"one") + masked(OP_TEXT, b"two")) == [
        (OP_TEXT, "one"), (OP_TEXT, "two")]
    assert made


def test_cpython_codecs_decoder_gives_the_same_events():
    """compat.py picks codecs' decoder on CPython. Named gap: MicroPython has no
    codecs module; there Utf8Decoder is the decoder, tested everywhere above."""
    try:
        import codecs
    except ImportError:
        return
    factory = codecs.getincrementaldecoder("utf-8")
    data, expected = mixed_stream()
    assert parse(data, list(range(1, len(data))), decoder_factory=factory) == expected
    bad = masked(OP_TEXT, b"ok", fin=False) + masked(OP_CONTINUATION, b"\xf4\x90", fin=False)
    assert error_code(parse(bad, decoder_factory=factory)) == CLOSE_INVALID_DATA
