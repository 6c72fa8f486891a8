"""Raw-socket WebSocket (RFC 6455) client for the end-to-end tests: exact frames out,
strictly parsed frames in.

websocket-client refuses to send most broken frames and forgives a server that sends
them, so the tests that check bytes on the wire use these helpers instead. Frames are
built with full control over FIN, RSV bits, opcode, masking and the length form; frames
from the server are parsed strictly (a server frame must not be masked, must use the
shortest length form, no RSV bit without an extension, control frames are final and at
most 125 bytes).

Built on rawhttp.Connection (same socket timeout, same receive buffer), so the opening
handshake's answer is parsed by rawhttp and any bytes that follow the 101 head stay in
the buffer for the first frame.
"""
import base64
import collections
import hashlib
import os
import struct

from rawhttp import TIMEOUT, Connection, ProtocolError, build

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
KNOWN_OPCODES = (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG)

RSV1 = 4  # rsv argument bits: RSV1 is 0x40 of the first byte, RSV2 0x20, RSV3 0x10
RSV2 = 2
RSV3 = 1

MAX_FRAME = 64 * 1024 * 1024  # bytes of one server frame accepted before giving up
MAX_MESSAGE = 64 * 1024 * 1024  # bytes of one server message accepted before giving up
MAX_SKIPPED_FRAMES = 100000  # frames expect_close() reads past before giving up

Frame = collections.namedtuple("Frame", "fin rsv opcode payload")


def new_key():
    """A fresh Sec-WebSocket-Key: 16 random bytes, base64."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_key(key):
    """Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2, step 5.4)."""
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode("ascii")


def upgrade_request(path="/ws/echo", key=None, overrides=None, extra=(), method="GET",
                    version="HTTP/1.1", host="127.0.0.1"):
    """The bytes of an opening handshake.

    The default headers are Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version;
    `overrides` maps a header name (any case) to a new value, or to None to leave the
    header out; `extra` pairs are appended as given (repeat a name to repeat a header).
    """
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key or new_key()), ("Sec-WebSocket-Version", "13")]
    overrides = dict((name.lower(), value) for name, value in (overrides or {}).items())
    result = []
    for name, value in headers:
        value = overrides.pop(name.lower(), value)
        if value is not None:
            result.append((name, value))
    result.extend((name, value) for name, value in overrides.items() if value is not None)
    result.extend(extra)
    return build(method, path, result, version=version, host=host)


def mask_bytes(payload, key):
    """payload XOR the 4-byte key repeated (RFC 6455 §5.3)."""
    if not payload:
        return b""
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None,
                 length_form=None, length=None):
    """One frame's bytes.

    rsv: 3 bits, RSV1=4, RSV2=2, RSV3=1. mask: mask with mask_key (random by default).
    length_form: None for the shortest, or 7, 16 or 64 to force that form.
    length: the length to announce, when it should differ from len(payload) (a header
    announcing more bytes than follow).
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if length is None:
        length = len(payload)
    if length_form is None:
        length_form = 7 if length < 126 else 16 if length < 65536 else 64
    head = bytearray([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0xF)])
    mask_bit = 0x80 if mask else 0
    if length_form == 7:
        assert length < 126
        head.append(mask_bit | length)
    elif length_form == 16:
        assert length < 65536
        head.append(mask_bit | 126)
        head += struct.pack("!H", length)
    else:
        assert length_form == 64
        head.append(mask_bit | 127)
        head += struct.pack("!Q", length)
    if mask:
        key = mask_key if mask_key is not None else os.urandom(4)
        return bytes(head) + key + mask_bytes(payload, key)
    return bytes(head) + payload


def close_payload(code=None, reason=b""):
    """The payload of a close frame: nothing when code is None."""
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    if code is None:
        return reason
    return struct.pack("!H", code) + reason


def parse_close(payload):
    """(code, reason) of a server's close payload; (1005, "") for an empty one."""
    if not payload:
        return 1005, ""
    if len(payload) < 2:
        raise ProtocolError("server close payload of 1 byte: %r" % payload)
    code = struct.unpack("!H", payload[:2])[0]
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("server close reason is not UTF-8: %r" % payload)
    return code, reason


class WSConnection(Connection):
    """A client connection that speaks WebSocket after handshake()."""

    def __init__(self, target, timeout=TIMEOUT):
        Connection.__init__(self, target, timeout)
        self.key = None
        self.close_sent = False
        self.close_payload = None  # the payload of the server's close frame, once read
        self.skipped = []  # frames expect_close() read past
        self._message_opcode = None
        self._fragments = []

    # opening handshake

    def handshake(self, path="/ws/echo", key=None, overrides=None, extra=(), method="GET",
                  version="HTTP/1.1", after=b""):
        """Send an opening handshake (and `after` in the same sendall); the answer
        (rawhttp.Response: 101 or an error with its body)."""
        self.key = key or new_key()
        request = upgrade_request(path, self.key, overrides, extra, method, version)
        assert self.send(request + after)
        return self.read_response(method)

    # sending

    def send_frame(self, opcode, payload=b"", **options):
        """Send one frame (options as encode_frame); False if the server has gone."""
        if opcode == OP_CLOSE and options.get("fin", True):
            self.close_sent = True
        return self.send(encode_frame(opcode, payload, **options))

    def send_text(self, text, **options):
        return self.send_frame(OP_TEXT, text, **options)

    def send_binary(self, data, **options):
        return self.send_frame(OP_BINARY, data, **options)

    def send_ping(self, payload=b"", **options):
        return self.send_frame(OP_PING, payload, **options)

    def send_pong(self, payload=b"", **options):
        return self.send_frame(OP_PONG, payload, **options)

    def send_close(self, code=None, reason=b"", **options):
        return self.send_frame(OP_CLOSE, close_payload(code, reason), **options)

    # receiving

    def recv_frame(self):
        """The next frame from the server, checked strictly."""
        first, second = self.read_exact(2, "frame header")
        fin = bool(first & 0x80)
        rsv = (first >> 4) & 7
        opcode = first & 0xF
        if second & 0x80:
            raise ProtocolError("the server masked a frame: %02x %02x" % (first, second))
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.read_exact(2, "frame length"))[0]
            if length < 126:
                raise ProtocolError("16-bit length form for %d bytes" % length)
        elif length == 127:
            length = struct.unpack("!Q", self.read_exact(8, "frame length"))[0]
            if length < 65536:
                raise ProtocolError("64-bit length form for %d bytes" % length)
        if rsv:
            raise ProtocolError("server frame with RSV bits %d (no extension)" % rsv)
        if opcode not in KNOWN_OPCODES:
            raise ProtocolError("server frame with reserved opcode %#x" % opcode)
        if opcode >= OP_CLOSE and (not fin or length > 125):
            raise ProtocolError("bad server control frame: opcode %#x fin %s length %d"
                                % (opcode, fin, length))
        if length > MAX_FRAME:
            raise ProtocolError("server frame of %d bytes" % length)
        return Frame(fin, rsv, opcode, self.read_exact(length, "frame payload"))

    def recv_message(self):
        """(opcode, payload) of the next whole data message, or of a control frame
        (which may come between the fragments of a message; the message continues on
        the next call). Text payloads are checked to be UTF-8 and returned as bytes."""
        for _ in range(MAX_SKIPPED_FRAMES):
            frame = self.recv_frame()
            if frame.opcode >= OP_CLOSE:
                if frame.opcode == OP_CLOSE:
                    self.close_payload = frame.payload
                return frame.opcode, frame.payload
            if frame.opcode == OP_CONT:
                if self._message_opcode is None:
                    raise ProtocolError("server continuation frame with no message open")
            elif self._message_opcode is not None:
                raise ProtocolError("server started a message inside another")
            else:
                self._message_opcode = frame.opcode
            self._fragments.append(frame.payload)
            if sum(len(f) for f in self._fragments) > MAX_MESSAGE:
                raise ProtocolError("server message too big")
            if frame.fin:
                opcode, payload = self._message_opcode, b"".join(self._fragments)
                self._message_opcode, self._fragments = None, []
                if opcode == OP_TEXT:
                    try:
                        payload.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProtocolError("server text message is not UTF-8")
                return opcode, payload
        raise ProtocolError("more than %d frames in one message" % MAX_SKIPPED_FRAMES)

    def recv_data(self):
        """(opcode, payload) of the next data message; a control frame is a failure."""
        opcode, payload = self.recv_message()
        if opcode >= OP_CLOSE:
            raise AssertionError("expected a data message, got opcode %#x payload %r"
                                 % (opcode, payload[:200]))
        return opcode, payload

    def echo(self, opcode, payload, **options):
        """Send one message and check that the server echoes it exactly."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        assert self.send_frame(opcode, payload, **options)
        got = self.recv_data()
        assert got[0] == opcode, "echo opcode %#x for %#x" % (got[0], opcode)
        assert got[1] == payload, "echo of %d bytes differs (got %d)" % (len(payload), len(got[1]))


def open_ws(target, path="/ws/echo", **options):
    """A WSConnection after a successful handshake (101 checked)."""
    conn = WSConnection(target)
    try:
        response = conn.handshake(path, **options)
        check_accepted(response, conn.key)
    except BaseException:
        conn.close()
        raise
    conn.response = response
    return conn


def check_accepted(response, key):
    """Assert that response is a correct 101 for key."""
    assert response.status == 101, response
    assert response.tokens("Upgrade") == ["websocket"], response
    assert "upgrade" in response.tokens("Connection"), response
    assert response.get_all("Sec-WebSocket-Accept") == [accept_key(key)], response


def expect_close(conn, reply=None):
    """(code, reason) of the server's close frame, reading past any other frames (kept
    in conn.skipped); then asserts that the server closes TCP within the timeout.

    reply: answer the close with the same code before waiting for the TCP close; by
    default only when this client has not sent a close of its own.
    """
    for _ in range(MAX_SKIPPED_FRAMES):
        opcode, payload = conn.recv_message()
        if opcode == OP_CLOSE:
            break
        conn.skipped.append((opcode, payload))
    else:
        raise ProtocolError("no close frame in %d frames" % MAX_SKIPPED_FRAMES)
    code, reason = parse_close(payload)
    if reply is None:
        reply = not conn.close_sent
    if reply:
        conn.send_close(None if code == 1005 else code)
    assert_tcp_closed(conn)
    return code, reason


def assert_fails(conn, code):
    """The server closes with `code` (and then closes TCP)."""
    got = expect_close(conn)[0]
    assert got == code, "close code %d, expected %d" % (got, code)


def assert_tcp_closed(conn):
    """The server closes the connection and sends nothing more (within the timeout)."""
    closed = conn.closed_by_server()
    assert closed, "server did not close TCP (buffered: %r)" % bytes(conn.buffer[:200])
