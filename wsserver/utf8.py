"""Strict, incremental UTF-8 (RFC 3629 §4) for interpreters whose decode() is lax.

MicroPython's bytes.decode() turns the overlong b"\\xc0\\xae" into "." and accepts
surrogates, so RFC 6455 §8.1 ("text ... MUST be valid UTF-8") needs these rules
written out. CPython's codecs incremental decoder does the same job in C; compat.py
chooses. Both raise UnicodeError in the call that receives the first byte which can no
longer start valid UTF-8, and keep an incomplete trailing sequence for the next call.

Speed: a run of ASCII costs one C pass (decode, or a 64-byte int test); only the
stretches with bytes >= 0x80 go through the per-byte loop.
"""

# A block whose bytes all lack the high bit is ASCII: one int test per _BLOCK bytes.
_BLOCK = 64
_HIGH_BITS = int.from_bytes(b"\x80" * _BLOCK, "little")
_INVALID = 4  # "continuation bytes" of a byte that cannot lead a sequence


def _tables():
    """Per lead byte: continuation bytes that follow, and the range of the first one.

    RFC 3629 §4: UTF8-2 = %xC2-DF UTF8-tail
      UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
               %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
      UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
               %xF4 %x80-8F 2( UTF8-tail )
    """
    need, low, high = bytearray(256), bytearray(256), bytearray(256)
    for lead in range(256):
        count, first, last = _INVALID, 0x80, 0xBF
        if 0xC2 <= lead <= 0xDF:
            count = 1
        elif 0xE0 <= lead <= 0xEF:
            count = 2
            if lead == 0xE0:
                first = 0xA0  # no overlong 3-byte forms
            elif lead == 0xED:
                last = 0x9F  # no surrogates U+D800..U+DFFF
        elif 0xF0 <= lead <= 0xF4:
            count = 3
            if lead == 0xF0:
                first = 0x90  # no overlong 4-byte forms
            elif lead == 0xF4:
                last = 0x8F  # nothing above U+10FFFF
        need[lead], low[lead], high[lead] = count, first, last
    return bytes(need), bytes(low), bytes(high)


_NEED, _LOW, _HIGH = _tables()


def _incomplete_tail(data):
    """Check data (bytes-like); return how many bytes at its end start a sequence that
    is valid so far but incomplete (0-3). Raise UnicodeError at the first bad byte."""
    view = memoryview(data)
    n = len(data)
    need = count = 0
    low, high = 0x80, 0xBF
    i = 0
    while i < n:
        end = i + _BLOCK
        if end <= n and not need and not int.from_bytes(view[i:end], "little") & _HIGH_BITS:
            i = end  # an all-ASCII block
            continue
        if end > n:
            end = n
        for byte in view[i:end]:
            if need:
                if byte < low or byte > high:
                    raise UnicodeError("invalid UTF-8 continuation byte 0x%02x" % byte)
                need -= 1
                low, high = 0x80, 0xBF
            elif byte >= 0x80:
                need = count = _NEED[byte]
                if need == _INVALID:
                    raise UnicodeError("invalid UTF-8 start byte 0x%02x" % byte)
                low, high = _LOW[byte], _HIGH[byte]
        i = end
    return count + 1 - need if need else 0


def is_utf8(data):
    """True if data (bytes-like) is complete, well-formed UTF-8 (RFC 3629 §4)."""
    try:
        return not _incomplete_tail(data)
    except UnicodeError:
        return False


class Utf8Decoder:
    """Incremental strict UTF-8 decoder, like codecs.getincrementaldecoder("utf-8")().

    decode(data, final=False) returns the text of every complete sequence received so
    far and keeps an incomplete one (at most 3 bytes) for the next call.
    """

    def __init__(self):
        self._pending = b""

    def reset(self):
        self._pending = b""

    def decode(self, data, final=False):
        text = None
        if self._pending:
            data = self._pending + data  # bytes + any buffer: bytes
        else:
            text = _lax_decode(data)
            if text is not None and len(text) == len(data):
                return text  # all ASCII: nothing to validate
        keep = _tail_to_keep(data)
        if keep:
            if final:
                raise UnicodeError("truncated UTF-8 sequence at the end")
            self._pending = bytes(data[len(data) - keep:])
            return str(memoryview(data)[:len(data) - keep], "utf-8")
        self._pending = b""
        # Validated above, so even MicroPython's lax decode gave the right text.
        return str(data, "utf-8") if text is None else text


def _tail_to_keep(data):
    """Like _incomplete_tail, with CPython's one exception: its incremental decoder
    waits for a third byte after ED A0-BF (a truncated surrogate) before it raises.
    Doing the same makes both interpreters fail a connection at the same frame."""
    n = len(data)
    if n > 1 and data[n - 2] == 0xED and 0xA0 <= data[n - 1] <= 0xBF:
        return _incomplete_tail(memoryview(data)[:n - 1]) + 1
    return _incomplete_tail(data)


def _lax_decode(data):
    """str(data) or None: strict on CPython, lax on MicroPython (one C pass)."""
    try:
        return str(data, "utf-8")
    except UnicodeError:
        return None
