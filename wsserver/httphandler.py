"""The HTTP/1.1 request loop over `rfile`/`wfile`, in the vocabulary of `http.server`.

Parsing is the pure core's job (http11); this module only pumps bytes between the
connection and the parser, dispatches to `do_<METHOD>`, and turns every `HTTPError`
into its answer in one place (`fail`).
"""
from wsserver import bodies, compat, http11, httpdate, paths
from wsserver.http11 import HTTPError

log = compat.get_logger("wsserver")

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class HTTPRequestHandler(compat.StreamRequestHandler):
    """Serves the requests of one connection, one after another (keep-alive).

    May be overridden: `do_<METHOD>` methods; `allowed_methods()` (the Allow header of
    405 and OPTIONS); the limits and `server_version` below; `log_request`.
    Inside `do_<METHOD>`: `command`, `target`, `path` (still percent-encoded), `query`,
    `request_version`, `headers`, `read_body()`; then `send_response`, `send_header`,
    `end_headers`, `write`, or `send_error` / raise `HTTPError`.
    """

    server_version = "wsserver/0.1"
    protocol_version = "HTTP/1.1"
    #: Seconds a client may stay silent (or not read) before its connection is closed:
    #: while we wait for a request, a head or a body, and while we send.
    socket_timeout = 30
    timeout = None  # socketserver's own settimeout(): replaced by compat.set_timeouts
    #: Head limits (see http11): 414 for the request line, 431 for the fields.
    max_request_line = compat.BOARD_HEAD_LINE if compat.MICROPYTHON else http11.MAX_REQUEST_LINE
    max_header_line = compat.BOARD_HEAD_LINE if compat.MICROPYTHON else http11.MAX_HEADER_LINE
    max_headers = http11.MAX_HEADERS
    max_head = compat.BOARD_HEAD if compat.MICROPYTHON else http11.MAX_HEAD
    #: A response head and a body up to this size leave in one write: one packet, and no
    #: Nagle / delayed-ACK stall between them.
    #: On a board, a file bigger than the copy buffer streams through it instead.
    single_write_size = compat.COPY_BUFFER_SIZE if compat.MICROPYTHON else 64 * 1024
    disable_nagle_algorithm = True

    def setup(self):
        compat.set_timeouts(self.request, self.socket_timeout)
        self._read_wait = self.socket_timeout
        compat.StreamRequestHandler.setup(self)

    def _reads_may_wait(self, seconds):
        """CPython: how long one read may wait for the client: the server's idle_timeout
        for a request head (and between requests), socket_timeout inside a body. Set
        only when it changes, so a request without a body costs no system call for it.
        (A board's poll loop and LoopStream keep their own.)"""
        if seconds != self._read_wait and not compat.SERVER_WATCHES_IDLE:
            compat.set_timeouts(self.request, seconds, writes=False)
            self._read_wait = seconds

    def handle(self):
        self.close_connection = True
        while self.wait_for_request():
            self.handle_one_request()
            if self.close_connection:
                return
            if compat.SERVER_WATCHES_IDLE:
                self.keep_open = True  # the server's poll loop waits for the next one
                return

    def wait_for_request(self):
        """True once a request starts to arrive; False when the connection stays idle for
        the server's idle_timeout (then it is closed without an answer: it asked nothing).
        A board's poll loop has waited before the handler runs."""
        if compat.SERVER_WATCHES_IDLE:
            return True
        self._reads_may_wait(self.server.idle_timeout)
        arrived = self.server.wait_for_request(self.connection, self.rfile)
        if not compat.separate_read_timeout(self.request):
            self._reads_may_wait(self.socket_timeout)  # writes wait as long as reads here
        return arrived

    def read_head(self):
        """The request head, None when the client closed first. However slowly the
        client sends it, it must be in within the server's head_timeout, and a pause in
        it may last idle_timeout: else 408."""
        started = compat.monotonic()
        self.server.start_head_clock(self.connection, started + self.server.head_timeout)
        try:
            return http11.read_request_head(
                self.rfile.readline, self.max_request_line, self.max_header_line,
                self.max_headers, self.max_head)
        except (HTTPError, OSError) as exc:
            # On CPython a read that timed out looks like the end of the stream (see
            # compat.set_timeouts): a head cut short after idle_timeout is a late one.
            if not (self.server.head_clock_expired(self.connection) or compat.is_timeout(exc)
                    or compat.monotonic() - started >= self.server.idle_timeout):
                raise
        finally:
            self.server.stop_head_clock(self.connection)
        raise HTTPError(408, "request head not complete within %s s" % self.server.head_timeout)

    def handle_one_request(self):
        """Read one request, dispatch it, and answer any error it raises. A client gone
        meanwhile (even while its error is answered) costs a DEBUG line."""
        self._reset()
        try:
            self._serve_request()
        except OSError as exc:
            if not compat.is_disconnect(exc):
                raise
            log.debug("%s: connection lost (%s)", self.address_string(), exc)
            self.close_connection = True

    def _serve_request(self):
        try:
            request = self.read_head()
            if request is None:
                self.close_connection = True
                return
            self.begin(request)
            self.dispatch()
            self.flush_head()
            if self._body_unread():
                self.close_connection = True
        except HTTPError as err:
            self.fail(err)

    def _reset(self):
        self._head = []
        self._pending = None
        self.response_started = False
        self.command = self.target = None
        self.request_version = "HTTP/1.1"
        self.body_length = None
        self.body = None
        self._send_continue = False

    def begin(self, request):
        """Take in a parsed head: keep-alive, Host, target, body framing, Expect."""
        self.request_head = request
        self.command = request.method
        self.target = request.target
        self.request_version = request.version
        self.headers = request.headers
        self.close_connection = not request.keep_alive()
        http11.check_host(request)
        self.body_length = bodies.body_length(request)
        if request.target == "*" and request.method == "OPTIONS":
            self.path, self.query = "*", ""  # RFC 9112 §3.2.4: the server as a whole
        else:
            self.path, self.query = paths.split_target(request.target)
        expect = self.headers.get("expect")
        if expect is not None:
            # RFC 9110 §10.1.1: 100-continue is the only expectation defined.
            if expect.lower() != "100-continue":
                raise HTTPError(417, "unsupported expectation")
            self._send_continue = request.version == "HTTP/1.1"

    def dispatch(self):
        method = getattr(self, "do_" + self.command, None)
        if method is not None:
            method()
        elif self.command in http11.STANDARD_METHODS:
            raise HTTPError(405, "%s is not allowed here" % self.command,
                            [("Allow", self.allowed_methods())])
        else:
            raise HTTPError(501, "unknown method %s" % self.command)

    def allowed_methods(self):
        """The methods this target accepts, for Allow: every do_<METHOD> by default."""
        names = [m for m in http11.STANDARD_METHODS if hasattr(self, "do_" + m)]
        return ", ".join(names)

    def read_body(self, limit=None):
        """The request body as a reader: `readinto(buffer)` -> n, 0 at its end.

        limit: largest body accepted, 413 past it: from Content-Length before a byte of
        the body is read, or while a chunked body streams in. A client waiting on
        `Expect: 100-continue` is told to go on only once the body is wanted.
        """
        if self.body_length == bodies.CHUNKED:
            reader = bodies.ChunkedReader(self.rfile.readline, self.rfile.readinto, limit,
                                          self.max_header_line, self.max_head)
        elif limit is not None and self.body_length > limit:
            raise HTTPError(413, "body of %d bytes is over the limit of %d"
                            % (self.body_length, limit))
        else:
            reader = bodies.LengthReader(self.rfile.readinto, self.body_length)
        self._reads_may_wait(self.socket_timeout)
        if self._send_continue:
            self._send_continue = False
            self.wfile.write(_CONTINUE)
        self.body = reader
        return reader

    def _body_unread(self):
        """True while bytes of the request body may still be on the wire."""
        if self.body_length is None:
            return True  # the head was not understood: its framing is unknown
        return self.body_length != 0 and (self.body is None or not self.body.at_end())

    def fail(self, err):
        """Answer an HTTPError, unless a response is already on its way (then hang up)."""
        if self._body_unread():
            self.close_connection = True
        if self.response_started:
            log.info("%s: %s after the response started; closing",
                     self.address_string(), err.message)
            self.close_connection = True
            return
        self.send_error(err.status, err.message, err.headers)

    def send_error(self, status, message="", headers=()):
        """An error response with a short plain-text body saying what was wrong."""
        self._head = []
        if message:  # the access line follows; this one says why, naming the target
            log.info("%s: %s %s refused: %s", self.address_string(), self.command or "-",
                     self.target or "-", message)
        body = ("%d %s\n%s\n" % (status, http11.REASONS.get(status, ""), message)).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", len(body))
        self.end_headers()
        self.write(b"" if self.command == "HEAD" else body)

    def send_response(self, status, reason=None):
        """Start a response head; it leaves with the first write or at flush_head()."""
        self.log_request(status)
        self._head = [http11.status_line("HTTP/1.1", status, reason),
                      "Server: %s\r\n" % self.server_version,
                      "Date: %s\r\n" % _now_date()]

    def send_header(self, name, value):
        if name.lower() == "connection" and str(value).lower() == "close":
            self.close_connection = True
        self._head.append(http11.header_line(name, value))

    def end_headers(self):
        if self.close_connection:
            self._head.append("Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            self._head.append("Connection: keep-alive\r\n")
        self._head.append("\r\n")
        self._pending = "".join(self._head).encode()
        self._head = []

    def write(self, data):
        """Send body bytes; a pending head goes with them, in one write when small."""
        head, self._pending = self._pending, None
        self.response_started = True
        if head is None:
            self.wfile.write(data)
        elif len(data) <= self.single_write_size:
            self.wfile.write(head + data)
        else:
            self.wfile.write(head)
            self.wfile.write(data)

    def flush_head(self):
        """Send a head that no body followed (HEAD, 204, 304, before sendfile)."""
        if self._pending is not None:
            self.write(b"")

    def address_string(self):
        return compat.format_address(self.client_address)

    def log_request(self, status):
        """One access-log line per response, as http.server writes."""
        log.info('%s "%s %s %s" %d', self.address_string(), self.command or "-",
                 self.target or "-", self.request_version, status)


_date_cache = [0, ""]


def _now_date():
    """The Date header value, formatted once a second."""
    now = int(compat.unix_time())
    if now != _date_cache[0]:
        _date_cache[1] = httpdate.format_date(now)
        _date_cache[0] = now
    return _date_cache[1]
