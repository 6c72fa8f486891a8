"""The push parser for the frames a WebSocket client sends (RFC 6455 §5, §8.1).

Pure: bytes in, events out, no sockets. Messages are assembled from their fragments,
text is checked as UTF-8 as its bytes arrive, and every protocol violation becomes a
WebSocketError carrying the close code to fail the connection with (§7.1.7, §7.4.1).
"""
from wsserver.frames import (CLOSE_INVALID_DATA, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR,
                             MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_CONTINUATION,
                             OP_PONG, OP_TEXT, WebSocketError, apply_mask, parse_close,
                             unmasked)
from wsserver.utf8 import Utf8Decoder


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
            self._add_text(unmasked(piece, self._mask, seen), last and self._fin, events)
        elif kind == OP_BINARY:
            self._add_binary(piece, seen, last and self._fin, events)
        else:
            self._control += unmasked(piece, self._mask, seen)
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
            events.append((OP_BINARY, bytes(unmasked(piece, self._mask, seen))))
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
