"""Properties of the WebSocket frame parser, frame encoding, close payloads, masking
and the strict UTF-8 decoder (hypothesis; CPython only, see fuzzing.py)."""
import codecs

from fuzzing import cut_points, fuzz, mutated, pieces
from hypothesis import given
from hypothesis import strategies as st

from wsserver.frames import (
    CLOSE_INVALID_DATA, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, MAX_CONTROL_PAYLOAD,
    OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, apply_mask,
    WebSocketError, encode_close, encode_frame, is_valid_close_code, parse_close)
from wsserver.utf8 import Utf8Decoder, is_utf8
from wsserver.wsparser import FrameParser

FAILURE_CODES = (CLOSE_PROTOCOL_ERROR, CLOSE_INVALID_DATA, CLOSE_MESSAGE_TOO_BIG)
HEADER_MOST = 14  # bytes of the longest frame header: 2, 8 of length, 4 of mask

masks = st.none() | st.binary(min_size=4, max_size=4)
client_masks = st.binary(min_size=4, max_size=4)
close_codes = st.sampled_from((1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999))
# Payload sizes at the edges of the three length forms (§5.2), and small ones.
binaries = st.binary(max_size=40) | st.sampled_from((125, 126, 127, 65535, 65536)).map(
    lambda n: bytes(range(256)) * (n // 256) + bytes(n % 256))


def events_of(data, cuts, **options):
    """The parser's events for data fed in pieces, the error as (None, close code);
    checks after each feed that its buffers stay within the limits."""
    parser = FrameParser(**options)
    events = []
    for piece in pieces(data, cuts):
        events += parser.feed(piece)
        check_buffers(parser)
    return [(None, value.code) if kind is None else (kind, value) for kind, value in events]


def check_buffers(parser):
    """Memory: a cut header, one control payload, the open message up to its limit."""
    assert len(parser._head) < HEADER_MOST
    assert len(parser._control) <= MAX_CONTROL_PAYLOAD
    assert parser._size <= parser.max_message_size
    parts = parser._parts or ()  # a binary message's bytearray, or a text's str pieces
    kept = len(parts) if isinstance(parts, bytearray) else sum(len(p) for p in parts)
    assert kept <= parser.max_message_size


@st.composite
def conversations(draw, client=True):
    """(frames, the events they give): text and binary messages cut into fragments
    anywhere (inside a UTF-8 character too), pings and pongs between fragments, and
    perhaps a close frame at the end."""
    frames, events = b"", []
    mask = client_masks if client else masks
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from((OP_TEXT, OP_BINARY)))
        message = draw(st.text(max_size=30)) if kind == OP_TEXT else draw(binaries)
        payload = message.encode() if kind == OP_TEXT else message
        cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=3)))
        fragments = [payload[a:b] for a, b in zip([0] + cuts, cuts + [len(payload)])]
        for i, fragment in enumerate(fragments):
            if i and draw(st.booleans()):  # a control frame inside the message (§5.4)
                control, data = draw(st.sampled_from((OP_PING, OP_PONG))), draw(binaries)
                frames += encode_frame(control, data[:MAX_CONTROL_PAYLOAD], True, draw(mask))
                events.append((control, data[:MAX_CONTROL_PAYLOAD]))
            opcode = kind if i == 0 else OP_CONTINUATION
            frames += encode_frame(opcode, fragment, i == len(fragments) - 1, draw(mask))
        events.append((kind, message))
    if draw(st.booleans()):
        code, reason = draw(close_codes), draw(st.text(max_size=70))
        frames += encode_frame(OP_CLOSE, encode_close(code, reason), True, draw(mask))
        events.append((OP_CLOSE, (code, encode_close(code, reason)[2:].decode())))
    return frames, events


@fuzz(400)
@given(st.data(), st.binary(max_size=300) | mutated(conversations().map(lambda c: c[0])),
       st.booleans(), st.integers(0, 200))
def test_any_input_gives_events_or_a_close_code_however_it_is_split(
        data, stream, require_mask, max_size):
    options = {"require_mask": require_mask, "max_message_size": max_size}
    whole = events_of(stream, [], **options)
    for kind, value in whole[:-1]:
        assert kind is not None  # an error ends the events
    if whole and whole[-1][0] is None:
        assert whole[-1][1] in FAILURE_CODES
    # Split anywhere, the same bytes give the same events.
    assert events_of(stream, data.draw(cut_points(len(stream), most=12)), **options) == whole


@fuzz(150)
@given(st.data(), st.integers(1, 5000), st.integers(0, 300))
def test_a_message_over_the_limit_fails_before_its_payload_is_kept(data, size, max_size):
    # One frame announces a message of `size` bytes, in any split: 1009 as soon as the
    # header is read if it is over max_message_size, else the message itself.
    stream = encode_frame(OP_BINARY, bytes(size), True, data.draw(client_masks))
    events = events_of(stream, data.draw(cut_points(len(stream))), max_message_size=max_size)
    assert events == ([(None, CLOSE_MESSAGE_TOO_BIG)] if size > max_size
                      else [(OP_BINARY, bytes(size))])


@fuzz(200)
@given(st.data(), conversations())
def test_client_frames_parse_back_into_their_messages(data, conversation):
    frames, events = conversation
    assert events_of(frames, data.draw(cut_points(len(frames), most=12))) == events


@fuzz(100)
@given(st.data(), conversations(client=False))
def test_server_frames_masked_or_not_parse_back(data, conversation):
    frames, events = conversation
    cuts = data.draw(cut_points(len(frames)))
    assert events_of(frames, cuts, require_mask=False) == events


@fuzz(200)
@given(close_codes, st.text(max_size=100))
def test_a_close_payload_parses_back_cut_at_a_character(code, reason):
    payload = encode_close(code, reason)
    assert len(payload) <= MAX_CONTROL_PAYLOAD
    parsed_code, parsed_reason = parse_close(payload)
    assert parsed_code == code and reason.startswith(parsed_reason)
    room = MAX_CONTROL_PAYLOAD - 2
    if len(reason.encode()) <= room:
        assert parsed_reason == reason
    else:  # cut before the character that does not fit, itself at most 4 bytes
        assert len(parsed_reason.encode()) > room - 4


@fuzz(200)
@given(st.binary(max_size=300))
def test_any_close_payload_gives_a_code_or_fails_with_one(payload):
    try:
        code, reason = parse_close(payload)
    except WebSocketError as exc:
        assert exc.code in (CLOSE_PROTOCOL_ERROR, CLOSE_INVALID_DATA)
        return
    assert is_valid_close_code(code) or (code, payload) == (1005, b"")


@fuzz(200)
@given(st.data(), st.binary(max_size=600), client_masks, st.integers(0, 3),
       st.sampled_from((None, 4, 8, 12, 256)))
def test_masking_in_pieces_equals_masking_whole(data, payload, key, offset, chunk):
    expected = bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(payload))
    masked = bytearray(payload)
    start = 0
    for piece in pieces(masked, data.draw(cut_points(len(payload)))):
        apply_mask(piece, key, offset + start, chunk)
        start += len(piece)
    assert masked == expected


@fuzz(300)
@given(st.data(), st.binary(max_size=60) | st.text(max_size=20).map(str.encode).flatmap(
    lambda b: mutated(st.just(b))))
def test_utf8_decoder_agrees_with_the_codec_call_by_call(data, raw):
    # compat.utf8_decoder uses CPython's codec there and Utf8Decoder on a board: both
    # must give the same text from the same calls, and fail in the same call.
    cuts = data.draw(cut_points(len(raw)))
    assert decoded(Utf8Decoder(), raw, cuts) == decoded(
        codecs.getincrementaldecoder("utf-8")(), raw, cuts)
    assert is_utf8(raw) == valid_utf8(raw)


def decoded(decoder, raw, cuts):
    """Each call's text, and "error" for the call that raised."""
    out = []
    chunks = list(pieces(raw, cuts))
    try:
        for i, chunk in enumerate(chunks):
            out.append(decoder.decode(bytes(chunk), i == len(chunks) - 1))
    except UnicodeError:
        out.append("error")
    return out


def valid_utf8(raw):
    try:
        raw.decode()
        return True
    except UnicodeError:
        return False
