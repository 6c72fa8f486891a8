"""WebSocket frames (RFC 6455 §5): headers, masking, close payloads, and a push parser
for the frames a client sends.

Pure: bytes in, events out, no sockets. Every protocol violation is a WebSocketError
that carries the close code to fail the connection with (§7.1.7, §7.4.1).
"""
from wsserver.utf8 import Utf8Decoder

# §5.2 Opcodes. %x3-7 and %xB-F are reserved.
OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

# §7.4.1 Defined status codes.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005  # never sent: "no status code was actually present"
CLOSE_ABNORMAL = 1006  # never sent: the connection dropped without a close frame
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_MANDATORY_EXTENSION = 1010
CLOSE_INTERNAL_ERROR = 1011

MAX_CONTROL_PAYLOAD = 125  # §5.5
# Bytes per int XOR in apply_mask, a multiple of 4. CPython: 760 MB/s at 4 KiB, 95% of
# its best. MicroPython: 200 MB/s at 1-4 KiB with a roomy heap, but in a tight heap
# the allocator favours 256 B (140 MB/s, against 45 at 4 KiB): compat may lower it on
# a board. No chunk is longer than the piece being unmasked, itself one socket read.
MASK_CHUNK = 4096


class WebSocketError(Exception):
    """Fail the WebSocket connection (§7.1.7) with close `code`, for `message`."""

    def __init__(self, code, message=""):
        super().__init__(message)
        self.code = code
        self.message = message


def encode_header(opcode, length, fin=True, mask_key=None):
    """The frame header for a payload of `length` bytes (§5.2), masked with
    mask_key (4 bytes) when given: clients mask, servers do not (§5.1)."""
    if opcode >= OP_CLOSE and (length > MAX_CONTROL_PAYLOAD or not fin):
        raise ValueError("control frames are short and never fragmented (§5.5)")
    first = (0x80 if fin else 0) | opcode
    masked = 0x80 if mask_key else 0
    # §5.2: "the minimal number of bytes MUST be used to encode the length"
    if length < 126:
        head = bytes((first, masked | length))
    elif length < 0x10000:
        head = bytes((first, masked | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((first, masked | 127)) + length.to_bytes(8, "big")
    return head + bytes(mask_key) if mask_key else head


def encode_frame(opcode, payload, fin=True, mask_key=None):
    """A whole frame: header plus payload (bytes, bytearray or memoryview)."""
    frame = bytearray(encode_header(opcode, len(payload), fin, mask_key))
    start = len(frame)
    frame += payload
    if mask_key:
        apply_mask(memoryview(frame)[start:], mask_key)
    return bytes(frame)


def apply_mask(buffer, mask_key, offset=0, chunk=None):
    """XOR a writable buffer in place with mask_key; buffer[0] is byte `offset` of the
    frame's payload, so a payload can be unmasked piece by piece as it arrives.

    §5.3: "Octet i of the transformed data is the XOR of octet i of the original data
    with octet at index i modulo 4 of the masking key." One int XOR per chunk, in
    bounded memory: 5 to 40 times the speed of a loop over the bytes (about 20 MB/s).
    """
    n = len(buffer)
    if not n:
        return
    size = min(chunk or MASK_CHUNK, n + 3) & ~3 or 4
    pattern = _key_bytes(mask_key, offset, size)
    key = int.from_bytes(pattern, "little")
    view = memoryview(buffer)
    pos = 0
    while pos + size <= n:
        end = pos + size
        word = int.from_bytes(view[pos:end], "little") ^ key
        view[pos:end] = word.to_bytes(size, "little")
        pos = end
    if pos < n:  # a tail shorter than a chunk
        tail = n - pos
        key = int.from_bytes(pattern[:tail], "little")
        view[pos:n] = (int.from_bytes(view[pos:n], "little") ^ key).to_bytes(tail, "little")


def _key_bytes(mask_key, offset, size):
    """mask_key repeated to `size` bytes, starting at key byte offset % 4."""
    mask_key = bytes(mask_key)
    shift = offset & 3
    if shift:
        mask_key = mask_key[shift:] + mask_key[:shift]
    return (mask_key * ((size >> 2) + 1))[:size]


def _unmasked(piece, mask_key, offset):
    """A bytes-like copy of piece, unmasked; bytes when short, else a bytearray."""
    n = len(piece)
    if mask_key is None or not n:
        return bytes(piece)
    if n > MASK_CHUNK:
        piece = bytearray(piece)
        apply_mask(piece, mask_key, offset)
        return piece
    key = int.from_bytes(_key_bytes(mask_key, offset, n), "little")
    return (int.from_bytes(piece, "little") ^ key).to_bytes(n, "little")


def is_valid_close_code(code):
    """§7.4.1, §7.4.2 and the IANA registry: the codes a close frame may carry."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def encode_close(code=None, reason=""):
    """A close frame's payload (§5.5.1): empty, or the code then the UTF-8 reason,
    cut at a character boundary to fit the 125 bytes of a control frame (§5.5)."""
    if code is None and not reason:
        return b""
    if code is None or not is_valid_close_code(code):
        raise ValueError("close code %r may not be sent" % (code,))
    data = reason.encode()
    end = MAX_CONTROL_PAYLOAD - 2
    if len(data) > end:
        while data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        data = data[:end]
    return code.to_bytes(2, "big") + data


def parse_close(payload):
    """(code, reason) of a close frame's payload; (1005, "") when it is empty.

    §5.5.1: "the first two bytes of the body MUST be a 2-byte unsigned integer (in
    network byte order) representing a status code", then a UTF-8 reason.
    """
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) < 2:
        raise WebSocketError(CLOSE_PROTOCOL_ERROR, "close payload of 1 byte")
    code = int.from_bytes(payload[:2], "big")
    if not is_valid_close_code(code):
        raise WebSocketError(CLOSE_PROTOCOL_ERROR, "invalid close code %d" % code)
    try:
        reason = Utf8Decoder().decode(payload[2:], True)
    except UnicodeError:
        raise WebSocketError(CLOSE_INVALID_DATA, "close reason is not UTF-8")
    return code, reason


class FrameParser:
    """Push parser for the frames a client sends (§5): feed(data) returns events.

    Events: (OP_TEXT, str) and (OP_BINARY, bytes) for whole messages, (OP_PING, bytes),
    (OP_PONG, bytes), (OP_CLOSE, (code, reason)). A protocol violation ends the list
    with (None, WebSocketError) and the parser ignores all later data.
    Memory: an incomplete header (<= 14 bytes), a control payload (<= 125 bytes) and
    the current message (<= max_message_size), which grows as its bytes arrive.
    """

    def __init__(self, max_message_size=1048576, decoder_factory=Utf8Decoder,
                 require_mask=True):
        self.max_message_size = max_message_size
        self.require_mask = require_mask
        self._decoder_factory = decoder_factory
        self._decoder = None  # made for the first text message, reused after final=True
        self._head = b""  # the start of a header split across feeds
        self._remaining = -1  # payload bytes of the current frame still due; -1: header
        self._kind = 0  # OP_TEXT or OP_BINARY (also for continuations), or the control op
        self._fin = 0
        self._mask = None
        self._seen = 0  # payload bytes of the current frame so far (mask rotation)
        self._message = 0  # OP_TEXT or OP_BINARY while a message is open
        self._size = 0  # bytes of the open message, counted from the frame headers
        self._parts = None  # str pieces of a text message, or a binary bytearray
        self._control = b""
        self._dead = False

    def feed(self, data):
        """Parse data (bytes-like, any split of the stream); return the events."""
        events = []
        if self._dead:
            return events
        view = memoryview(data)  # slices of it are not copies
        pos, n = 0, len(view)
        try:
            while pos < n:
                if self._remaining >= 0:
                    end = min(n, pos + self._remaining)
                    self._read_payload(view[pos:end], events)
                    pos = end
                    continue
                if self._head:
                    size = self._read_split_header(view, pos, n)
                else:
                    size = self._parse_header(view, pos, n)
                if not size:
                    self._head += bytes(view[pos:n])
                    break
                pos += size
                if not self._remaining:
                    self._read_payload(b"", events)
        except WebSocketError as exc:
            self._dead = True
            events.append((None, exc))
        return events

    def _read_split_header(self, data, pos, n):
        """Parse a header begun in an earlier feed: the bytes of data[pos:] it used."""
        kept = len(self._head)
        buf = self._head + bytes(data[pos:pos + 14])  # a header is at most 14 bytes
        size = self._parse_header(buf, 0, len(buf))
        if size:
            self._head = b""
            return size - kept
        return 0

    def _parse_header(self, buf, i, n):
        """Start the frame whose header is at buf[i:n]: its size, or 0 if incomplete."""
        first = buf[i]
        second = buf[i + 1] if n - i > 1 else 0x80  # judge one byte on its own
        self._check_start(first, second)
        length = second & 0x7F
        size = (2, 4, 10)[(length > 125) + (length > 126)] + (4 if second & 0x80 else 0)
        if n - i < size:
            return 0
        if length == 126:
            length = (buf[i + 2] << 8) | buf[i + 3]
        elif length == 127:
            length = int.from_bytes(buf[i + 2:i + 10], "big")
            if length >> 63:  # §5.2: "the most significant bit MUST be 0"
                raise WebSocketError(CLOSE_PROTOCOL_ERROR, "64-bit length with the MSB set")
        opcode = first & 0x0F
        if opcode < OP_CLOSE:
            # §10.4: "protect themselves against exceeding those limits": here, from
            # the header, before any of the payload is buffered.
            if self._size + length > self.max_message_size:
                raise WebSocketError(CLOSE_MESSAGE_TOO_BIG, "message over %d bytes"
                                     % self.max_message_size)
            self._size += length
            opcode = self._message = opcode or self._message
        self._kind = opcode
        self._fin = first & 0x80
        self._mask = bytes(buf[i + size - 4:i + size]) if second & 0x80 else None
        self._remaining = length
        self._seen = 0
        return size

    def _check_start(self, first, second):
        """The rules that the first two bytes of a header decide."""
        opcode = first & 0x0F
        if first & 0x70:
            # §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "RSV bits set")
        if opcode > OP_PONG or OP_BINARY < opcode < OP_CLOSE:
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "reserved opcode %d" % opcode)
        if opcode >= OP_CLOSE:
            # §5.5: "All control frames MUST have a payload length of 125 bytes or less
            # and MUST NOT be fragmented."
            if not first & 0x80 or second & 0x7F > MAX_CONTROL_PAYLOAD:
                raise WebSocketError(CLOSE_PROTOCOL_ERROR, "fragmented or long control frame")
        elif (opcode == OP_CONTINUATION) != (self._message != 0):
            # §5.4: "the fragments of one message MUST NOT be interleaved between the
            # fragments of another message"
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "continuation with no message"
                                 if self._message == 0 else "new message before the end")
        if self.require_mask and not second & 0x80:
            # §5.1: "The server MUST close the connection upon receiving a frame that
            # is not masked." (status code 1002)
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "unmasked client frame")

    def _read_payload(self, piece, events):
        """Take the next piece of the current frame's payload; emit what it completes."""
        n = len(piece)
        self._remaining -= n
        last = not self._remaining
        seen = self._seen
        self._seen = seen + n
        kind = self._kind
        if kind == OP_TEXT:
            self._add_text(_unmasked(piece, self._mask, seen), last and self._fin, events)
        elif kind == OP_BINARY:
            self._add_binary(piece, seen, last and self._fin, events)
        else:
            self._control += _unmasked(piece, self._mask, seen)
            if last:
                payload, self._control = self._control, b""
                events.append((kind, parse_close(payload) if kind == OP_CLOSE else payload))
        if last:
            self._remaining = -1

    def _add_text(self, data, final, events):
        """Decode a piece as it arrives, so that the first bad byte fails at once.

        §8.1: an endpoint that "finds that the byte stream is not, in fact, a valid
        UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_."
        """
        if self._decoder is None:
            self._decoder = self._decoder_factory()
        try:
            text = self._decoder.decode(data, final)
        except UnicodeError:
            raise WebSocketError(CLOSE_INVALID_DATA, "text message is not UTF-8")
        parts = self._parts
        if parts is None:
            if final:  # the whole message in one piece
                events.append((OP_TEXT, text))
                self._end_message()
                return
            parts = self._parts = []
        if parts and len(text) < 512 and len(parts[-1]) < 512:
            parts[-1] += text  # a drip of tiny pieces must not cost an object each
        else:
            parts.append(text)
        if final:
            events.append((OP_TEXT, "".join(parts)))
            self._end_message()

    def _add_binary(self, piece, seen, final, events):
        """Append piece to the message and unmask it there: one copy per byte."""
        buf = self._parts
        if final and buf is None:  # the whole message in one piece
            events.append((OP_BINARY, bytes(_unmasked(piece, self._mask, seen))))
            self._end_message()
            return
        if buf is None:
            buf = self._parts = bytearray()
        start = len(buf)
        buf += piece
        if self._mask is not None:
            apply_mask(memoryview(buf)[start:], self._mask, seen)
        if final:
            events.append((OP_BINARY, bytes(buf)))
            self._end_message()

    def _end_message(self):
        self._message = 0
        self._size = 0
        self._parts = None
