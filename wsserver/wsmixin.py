"""WebSocket connections (RFC 6455) for the HTTP request handler.

`accept_websocket()` answers the opening handshake on the handler's own thread, then
parks the connection in the server's poller (poller.py): from then on it holds no
thread. Incoming bytes go through the pure frame parser; outgoing frames are queued and
written when the socket can take them, so a slow client never blocks the loop, nor a
thread that sends to it. Every hook runs on the poller's thread.
"""
from wsserver import compat, frames, handshake, wsparser
from wsserver.frames import (CLOSE_INTERNAL_ERROR, CLOSE_NO_STATUS, CLOSE_NORMAL, OP_BINARY,
                             OP_CLOSE, OP_PING, OP_PONG, OP_TEXT)
from wsserver.poller import POLLIN, POLLOUT

log = compat.get_logger("wsserver")

# States of a connection after its handshake.
OPEN = 1  # messages flow both ways
CLOSING = 2  # we sent a close frame and wait for the client's
DRAINING = 3  # close frames exchanged (or the connection failed): flush, FIN, wait for EOF
CLOSED = 4  # the socket is closed

# Frames up to this size leave as one buffer with their header (a copy of the payload).
_COMBINE = 1024 if compat.MICROPYTHON else 16384
# Queued frames are joined for one send while they add up to no more than this.
_COALESCE = 2048 if compat.MICROPYTHON else 256 * 1024


class ConnectionClosed(Exception):
    """send() or ping() on a connection whose closing handshake has begun."""


class WebSocketMixIn:
    """WebSocket for an HTTPRequestHandler: call `accept_websocket()` from `do_GET`.

    May be overridden: the hooks `on_open()`, `on_message(data)` (str for a text
    message, bytes for a binary one) and `on_close(code, reason)`; the limits below.
    To use from any thread: `send(text_or_bytes)`, `ping(payload)`, `close(code,
    reason)`; `subprotocol` is what the handshake chose (or None).
    """

    #: Protocols offered by the server, in its order of preference.
    subprotocols = ()
    #: Largest message accepted, in bytes; larger ones close the connection with 1009.
    max_message_size = 1024 * 1024
    #: Seconds without a byte from the client before it is pinged (None: never).
    ping_interval = 20
    #: Seconds to wait for anything after a keepalive ping, then close with 1011.
    ping_timeout = 20
    #: Seconds to wait for the client's close frame, then for its end of the stream.
    close_timeout = 5
    #: Bytes of output queued for a client that does not read, past which it is dropped.
    max_send_buffer = 4 * 1024 * 1024

    def on_open(self):
        pass

    def on_message(self, data):
        pass

    def on_close(self, code, reason):
        pass

    def accept_websocket(self):
        """Answer the handshake with 101 and park the connection, or raise HTTPError."""
        key = handshake.check_request(self.request_head)
        own_host = self.headers.get("host", "") if self.server.own_origin_only else None
        handshake.check_origin(self.headers.get("origin"), self.server.allow_origins, own_host)
        self.subprotocol = handshake.choose_subprotocol(self.headers, self.subprotocols)
        self.close_connection = False  # the 101 says "Connection: Upgrade", not "close"
        self.send_response(101)
        for name, value in handshake.response_headers(key, self.subprotocol):
            self.send_header(name, value)
        self.end_headers()
        self.flush_head()
        self.close_connection = True  # the HTTP request loop of this thread ends here
        leftover = compat.take_buffered(self.rfile, self.connection)
        self._ws_init()
        self.server.park(self, lambda: self._ws_start(leftover))

    def _ws_init(self):
        self.ws_state = OPEN
        self._ws_lock = compat.allocate_lock()
        self._ws_out = []  # bytes and memoryviews to write, in order
        self._ws_out_size = 0
        self._ws_polled = POLLIN  # the events the poller watches for us
        self._ws_batching = False
        self._ws_fin_sent = False
        self._ws_told_closed = False
        self._ws_seen = compat.monotonic()
        self._ws_pinged = None  # when the keepalive ping left, if unanswered
        self._ws_deadline = None
        self.ws_source = None  # an object whose take() gives more frames to send, or None

    # Sending: from any thread.

    def send(self, data):
        """Send a text message (str) or a binary one (bytes, bytearray, memoryview)."""
        if isinstance(data, str):
            self._send_frame(OP_TEXT, data.encode())
        else:
            self._send_frame(OP_BINARY, data)

    def ping(self, payload=b""):
        self._send_frame(OP_PING, payload)

    def close(self, code=CLOSE_NORMAL, reason=""):
        """Start the closing handshake; the connection closes when the client answers,
        or after close_timeout."""
        with self._ws_lock:
            if self.ws_state != OPEN:
                return
            self._queue(frames.encode_frame(OP_CLOSE, frames.encode_close(code, reason)))
            self.ws_state = CLOSING
            self._ws_deadline = compat.monotonic() + self.close_timeout
            self._flush()

    def send_frame_bytes(self, frame):
        """Queue an encoded frame (a broadcast encodes once for every connection)."""
        with self._ws_lock:
            if self.ws_state != OPEN:
                raise ConnectionClosed()
            self._queue(frame)
            self._flush()

    def _send_frame(self, opcode, payload):
        header = frames.encode_header(opcode, len(payload))
        with self._ws_lock:
            if self.ws_state != OPEN:
                raise ConnectionClosed()
            if len(payload) <= _COMBINE:
                self._queue(header + payload)
            else:
                self._queue(header, payload)
            self._flush()

    def _queue(self, *pieces):
        """Queue the pieces of one or more frames, all or none. Lock held."""
        for data in pieces:
            self._ws_out.append(data)
            self._ws_out_size += len(data)
        if self._ws_out_size > self.max_send_buffer:
            log.info("%s: WebSocket client does not read; dropped", self.address_string())
            self._ws_out = []
            self._ws_out_size = 0
            self._ws_finish()

    def request_flush(self):
        """From any thread: have the poller's thread write what `ws_source` holds."""
        self.server.poller.flush_soon(self)

    def _flush(self):
        """Write queued output the socket takes now; poll for the rest. Lock held.

        Once the queue is written out, more comes from `ws_source` (a live-log viewer's
        queue), so a client that stops reading holds at most one batch here.
        """
        if self._ws_batching:
            return  # the poller's thread flushes once it has handled all input
        sock = self.connection
        while self._ws_out or self._refill():
            if len(self._ws_out) > 1 and self._ws_out_size <= _COALESCE:
                # Many replies to pipelined input: one system call, not one each.
                self._ws_out = [b"".join(bytes(part) for part in self._ws_out)]
            try:
                sent = compat.send_some(sock, self._ws_out[0])
            except OSError as exc:
                if not compat.is_disconnect(exc):
                    raise
                self._ws_gone()
                return
            if sent == 0:
                break
            self._ws_out_size -= sent
            if sent == len(self._ws_out[0]):
                self._ws_out.pop(0)
            else:
                self._ws_out[0] = memoryview(self._ws_out[0])[sent:]
        if not self._ws_out and self.ws_state == DRAINING and not self._ws_fin_sent:
            self._ws_fin_sent = True
            if not compat.shutdown_write(sock):  # a board: our close frame is out, close
                self.server.poller.call(self._ws_lost, "closing handshake done")
        events = self.poll_events()
        if events != self._ws_polled:
            self._ws_polled = events
            self.server.poller.update(self)

    def _ws_gone(self):
        """The client vanished (reset, broken pipe) while we wrote: nothing more can be
        delivered; the poller's thread forgets the connection. Lock held."""
        self._ws_out = []
        self._ws_out_size = 0
        self.ws_source = None
        self.server.poller.call(self.abort)

    def _refill(self):
        """Move the next batch from ws_source to the output queue; False if none."""
        if self.ws_source is None or self.ws_state != OPEN:
            return False
        data = self.ws_source.take()
        if data is None:
            return False
        self._ws_out.append(data)
        self._ws_out_size += len(data)
        return True

    # The poller's side: these run on its thread only.

    def _ws_start(self, leftover):
        self._ws_parser = wsparser.FrameParser(self.max_message_size, compat.utf8_decoder)
        log.info("%s: WebSocket %s opened", self.address_string(), self.path)
        self._ws_call(self.on_open)
        if leftover and self.ws_state != CLOSED:
            self._ws_receive(leftover)

    def poll_events(self):
        if self.ws_state == CLOSED:
            return 0
        events = POLLOUT if self._ws_out else 0
        if self._ws_out_size < self.max_send_buffer // 2:
            events |= POLLIN  # a client that reads nothing gets nothing more read from it
        return events

    def on_readable(self, buffer):
        with self._ws_lock:  # a TLS socket must not read while another thread writes
            count = compat.recv_into(self.connection, buffer)
        if count is None:
            return
        if count == 0:
            return self._ws_lost("connection closed by the client")
        self._ws_seen = compat.monotonic()
        self._ws_pinged = None
        if self.ws_state == DRAINING:
            return  # RFC 6455 §7.1.1: after the close frames, read until the end only
        self._ws_receive(memoryview(buffer)[:count])

    def on_writable(self):
        with self._ws_lock:
            if self.ws_state != CLOSED:
                self._flush()

    def on_tick(self, now):
        """Keepalive pings, and the deadlines of a closing connection."""
        if self.ws_state in (CLOSING, DRAINING) and now > self._ws_deadline:
            return self._ws_lost("close timeout")
        if self.ws_state != OPEN or not self.ping_interval:
            return
        if self._ws_pinged is not None and now - self._ws_pinged > self.ping_timeout:
            self._ws_fail(CLOSE_INTERNAL_ERROR, "keepalive ping timeout")
        elif self._ws_pinged is None and now - self._ws_seen > self.ping_interval:
            self._ws_pinged = now
            try:
                self.ping(b"keepalive")
            except ConnectionClosed:
                pass  # another thread began closing it a moment ago

    def shut_down(self, code, reason):
        """The server stops: a close frame, then the socket closes at once."""
        if self.ws_state == OPEN:
            self._ws_fail(code, reason)
        self._ws_lost(reason)

    def abort(self):
        self._ws_lost("aborted")

    def _ws_receive(self, data):
        """Feed bytes to the parser and act on what it finds; flush replies once."""
        with self._ws_lock:
            self._ws_batching = True
        try:
            for opcode, value in self._ws_parser.feed(data):
                if self.ws_state in (DRAINING, CLOSED):
                    break
                self._ws_event(opcode, value)
        finally:
            with self._ws_lock:
                self._ws_batching = False
                if self.ws_state != CLOSED:
                    self._flush()

    def _ws_event(self, opcode, value):
        if opcode == OP_TEXT or opcode == OP_BINARY:
            if self.ws_state == OPEN:  # §5.5.1: after our close, data is ignored
                self._ws_call(self.on_message, value)
        elif opcode == OP_PING:
            if self.ws_state == OPEN:
                self._send_frame(OP_PONG, value)  # §5.5.2: with the ping's payload
        elif opcode == OP_CLOSE:
            self._ws_closed_by_client(*value)
        elif opcode is None:
            self._ws_fail(value.code, value.message)
        # A pong needs nothing: any byte received already counts as a sign of life.

    def _ws_closed_by_client(self, code, reason):
        """§5.5.1: answer a close frame with one echoing its code, unless we sent ours."""
        with self._ws_lock:
            if self.ws_state == OPEN:
                echo = frames.encode_close(None if code == CLOSE_NO_STATUS else code, "")
                self._queue(frames.encode_frame(OP_CLOSE, echo))
            self._ws_finish()
        self._ws_closed(code, reason)

    def _ws_fail(self, code, reason):
        """§7.1.7: fail the connection: a close frame with the code, then close."""
        log.info("%s: WebSocket %s failed: %d %s", self.address_string(), self.path, code, reason)
        with self._ws_lock:
            if self.ws_state == OPEN:
                self._queue(frames.encode_frame(OP_CLOSE, frames.encode_close(code, reason)))
            self._ws_finish()
        self._ws_closed(code, reason)

    def _ws_finish(self):
        """Both close frames are out or the connection failed: flush, FIN, await EOF.

        Closing the socket while the client still sends would reset the connection and
        could lose our close frame; so we half-close and read to the end (§7.1.1).
        """
        if self.ws_state in (DRAINING, CLOSED):
            return
        self.ws_state = DRAINING
        self._ws_deadline = compat.monotonic() + self.close_timeout
        self._flush()

    def _ws_lost(self, why):
        """Close the socket and forget the connection; tell on_close if not yet told."""
        with self._ws_lock:
            if self.ws_state == CLOSED:
                return
            self.ws_state = CLOSED
        self.server.poller.discard(self)
        self.connection.close()
        self.server.unpark(self)
        log.debug("%s: WebSocket %s socket closed: %s", self.address_string(), self.path, why)
        self._ws_closed(frames.CLOSE_ABNORMAL, "")

    def _ws_closed(self, code, reason):
        if not self._ws_told_closed:
            self._ws_told_closed = True
            log.info("%s: WebSocket %s closed: %d", self.address_string(), self.path, code)
            self._ws_call(self.on_close, code, reason)

    def _ws_call(self, hook, *args):
        """Run a user hook; an exception in it fails the connection with 1011."""
        try:
            hook(*args)
        except ConnectionClosed:
            pass
        except Exception as exc:
            log.exception("%s: error in %s: %r", self.address_string(), hook, exc)
            if self.ws_state == OPEN:
                self._ws_fail(CLOSE_INTERNAL_ERROR, "internal error")
