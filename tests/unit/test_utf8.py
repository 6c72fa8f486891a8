"""wsserver.utf8: strict incremental UTF-8, checked against CPython's codecs decoder."""
from checks import raises
from wsserver.utf8 import Utf8Decoder, is_utf8

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # "κόσμε", Autobahn 6.3

# (bytes, index of the byte whose arrival raises when fed one byte at a time; len(data)
# when only final=True raises; None when valid). Autobahn case groups 6.2-6.22.
# test_same_as_cpython_codecs checks every index against CPython.
CORPUS = [
    (b"", None),
    (b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", None),
    (KOSME, None),
    (KOSME + b"\xed\xa0\x80edited", 13),  # 6.3.2: surrogate
    (KOSME + b"\xf4\x90\x80\x80edited", 12),  # 6.4: fail fast above U+10FFFF
    (KOSME + b"\xf4", 12),
    (b"\x00", None), (b"\xc2\x80", None), (b"\xe0\xa0\x80", None),  # 6.7: first of length
    (b"\xf0\x90\x80\x80", None),
    (b"\xf8\x88\x80\x80\x80", 0), (b"\xfc\x84\x80\x80\x80\x80", 0),  # 6.8: 5 and 6 bytes
    (b"\x7f", None), (b"\xdf\xbf", None), (b"\xef\xbf\xbf", None),  # 6.9: last of length
    (b"\xf4\x8f\xbf\xbf", None),
    (b"\xf7\xbf\xbf\xbf", 0), (b"\xfb\xbf\xbf\xbf\xbf", 0),  # 6.10
    (b"\xfd\xbf\xbf\xbf\xbf\xbf", 0),
    (b"\xed\x9f\xbf", None), (b"\xee\x80\x80", None), (b"\xef\xbf\xbd", None),  # 6.11
    (b"\xf4\x90\x80\x80", 1),
    (b"\x80", 0), (b"\xbf", 0), (b"\x80\xbf", 0), (b"\x80\xbf\x80", 0),  # 6.12: lone
    (b"\xc0 \xc1 ", 0), (b"\xe0 ", 1), (b"\xf0 ", 1), (b"\xf8 ", 0),  # 6.13: lonely
    (b"\xfc \xfd ", 0),
    (b"\xc0", 0), (b"\xe0\x80", 1), (b"\xf0\x80\x80", 1), (b"\xdf", 1),  # 6.14: truncated
    (b"\xef\xbf", 2), (b"\xf7\xbf\xbf", 0),
    (b"\xc0\xe0\x80\xf0\x80\x80", 0),  # 6.15
    (b"\xfe", 0), (b"\xff", 0), (b"\xfe\xfe\xff\xff", 0),  # 6.16: impossible bytes
    (b"\xc0\xaf", 0), (b"\xe0\x80\xaf", 1), (b"\xf0\x80\x80\xaf", 1),  # 6.17: overlong
    (b"\xf8\x80\x80\x80\xaf", 0),
    (b"\xc1\xbf", 0), (b"\xe0\x9f\xbf", 1), (b"\xf0\x8f\xbf\xbf", 1),  # 6.18
    (b"\xc0\x80", 0), (b"\xe0\x80\x80", 1), (b"\xf0\x80\x80\x80", 1),  # 6.19: overlong NUL
    (b"\xed\xa0\x80", 2), (b"\xed\xad\xbf", 2), (b"\xed\xbf\xbf", 2),  # 6.20: surrogates
    (b"\xed\xa0\x80\xed\xb0\x80", 2), (b"\xed\xaf\xbf\xed\xbf\xbf", 2),  # 6.21
    (b"\xef\xbf\xbe", None), (b"\xf0\x9f\xbf\xbe", None),  # 6.22: noncharacters
    (b"\xf4\x8f\xbf\xbe", None),
    (b"\xe0", 1), (b"\xe0\xa0", 2), (b"\xf4\x8f\xbf", 3), (b"ab\xf4\x90", 3),
    (b"abc\xe0\xa0\x80d\xc2", 8), (b"ab\xed\xa0", 4),
]


def feed_whole(data):
    """(text, raised_in_call): call 0 is decode(data), call 1 is decode(b"", final=True)."""
    decoder = Utf8Decoder()
    text = ""
    for call, (piece, final) in enumerate(((data, False), (b"", True))):
        try:
            text += decoder.decode(piece, final)
        except UnicodeError:
            return text, call
    return text, None


def feed_bytes(data):
    """(text, index of the byte whose call raised, len(data) for the final call)."""
    decoder = Utf8Decoder()
    text = ""
    for i in range(len(data)):
        try:
            text += decoder.decode(data[i:i + 1])
        except UnicodeError:
            return text, i
    try:
        text += decoder.decode(b"", True)
    except UnicodeError:
        return text, len(data)
    return text, None


def test_corpus_fed_whole():
    for data, fail_at in CORPUS:
        text, call = feed_whole(data)
        if fail_at is None:
            assert call is None and text == data.decode(), data
        else:
            assert call == (1 if fail_at == len(data) else 0), data


def test_corpus_fed_byte_by_byte():
    for data, fail_at in CORPUS:
        text, index = feed_bytes(data)
        assert index == fail_at, (data, index)
        if fail_at is None:
            assert text == data.decode()


def test_fail_fast_examples_from_the_brief():
    raises(UnicodeError, Utf8Decoder().decode, KOSME + b"\xed\xa0\x80")
    raises(UnicodeError, Utf8Decoder().decode, b"\xf4\x90")
    decoder = Utf8Decoder()
    assert decoder.decode(b"\xe0") == ""
    raises(UnicodeError, decoder.decode, b"", True)


def test_split_sequences_are_kept_for_the_next_call():
    text = "Hello κόσμε 😀 € " * 5
    data = text.encode()
    for cut in range(len(data) + 1):
        decoder = Utf8Decoder()
        out = decoder.decode(data[:cut])
        out += decoder.decode(data[cut:], True)
        assert out == text, cut


def test_three_pieces_of_a_four_byte_sequence():
    decoder = Utf8Decoder()
    assert decoder.decode(b"a\xf0") == "a"
    assert decoder.decode(b"\x9f") == ""
    assert decoder.decode(b"\x98") == ""
    assert decoder.decode(b"\x80b", True) == "\U0001f600b"


def test_blocks_of_ascii_around_errors_and_sequences():
    """The 64-byte ASCII blocks: a bad byte or a split sequence at every position."""
    for where in range(0, 140, 3):
        bad = b"a" * where + b"\xc0\xaf" + b"b" * 70
        raises(UnicodeError, Utf8Decoder().decode, bad)
        assert not is_utf8(bad)
        good = b"a" * where + "€".encode() + b"b" * 70
        assert Utf8Decoder().decode(good, True) == good.decode()
        decoder = Utf8Decoder()
        assert decoder.decode(good[:where + 1]) == "a" * where
        assert decoder.decode(good[where + 1:], True) == "€" + "b" * 70


def test_bytearray_and_memoryview_input():
    data = bytearray("façade ".encode() * 20)
    assert Utf8Decoder().decode(data, True) == "façade " * 20
    assert Utf8Decoder().decode(memoryview(data)[:7], True) == "façade"
    assert Utf8Decoder().decode(memoryview(b"plain"), True) == "plain"


def test_reset_drops_the_pending_bytes():
    decoder = Utf8Decoder()
    decoder.decode(b"\xe2\x82")
    decoder.reset()
    assert decoder.decode(b"ok", True) == "ok"


def test_is_utf8():
    assert is_utf8(b"") and is_utf8(KOSME) and is_utf8(b"\xf4\x8f\xbf\xbf")
    assert not is_utf8(b"\xe0")  # truncated
    assert not is_utf8(b"ab\xed\xa0")
    for data, fail_at in CORPUS:
        assert is_utf8(data) == (fail_at is None), data


def _cpython_trace(decoder, data, cuts):
    """Outputs of feeding data cut at cuts then final=True; 'E' marks the raising call."""
    out = []
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])] + [b""]
    for k, piece in enumerate(pieces):
        try:
            out.append(decoder.decode(piece, k == len(pieces) - 1))
        except UnicodeError:
            out.append("E")
            break
    return out


def test_same_as_cpython_codecs():
    """Random bytes, random splits: same output and same raising call as CPython.

    Named gap: MicroPython has no codecs module, so there only the corpus tests above
    run (their expected indices are checked against codecs here)."""
    try:
        import codecs
        import random
    except ImportError:
        return
    for data, _ in CORPUS:
        for cuts in ([], list(range(1, len(data)))):
            expected = _cpython_trace(codecs.getincrementaldecoder("utf-8")(), data, cuts)
            assert _cpython_trace(Utf8Decoder(), data, cuts) == expected, data
    alphabet = b"a\x7f\x80\x8f\x90\x9f\xa0\xbf\xc0\xc1\xc2\xdf\xe0\xe1\xed\xee\xef" \
               b"\xf0\xf1\xf4\xf5\xf8\xff"
    rng = random.Random(6455)
    for _ in range(20000):
        data = b"a" * rng.choice((0, 0, 1, 62, 63, 64, 65, 127, 128)) + bytes(
            rng.choice(alphabet) for _ in range(rng.randrange(8)))
        cuts = sorted(set(rng.randrange(len(data) + 1) for _ in range(rng.randrange(4))))
        expected = _cpython_trace(codecs.getincrementaldecoder("utf-8")(), data, cuts)
        assert _cpython_trace(Utf8Decoder(), data, cuts) == expected, (data, cuts)
