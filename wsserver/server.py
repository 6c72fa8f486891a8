"""The server: a ThreadingTCPServer that knows its folders and its open connections,
and the functions that make and run one (`make_server`, `serve`).
"""
import os

from wsserver import basicauth, compat, frames
from wsserver.clientclocks import ClientClocksMixIn
from wsserver.handler import RequestHandler
from wsserver.loghub import LogHub
from wsserver.loopstream import LoopStream
from wsserver.poller import Poller
from wsserver.wsmixin import ConnectionClosed
from wsserver.uploads import remove_stale_temp_files

log = compat.get_logger("wsserver")

#: Connections served at once (WebSockets included); more are answered 503. A board
#: has about ten sockets in all (MICROPYTHON.md), so its default is small.
DEFAULT_MAX_CONNECTIONS = 8 if compat.MICROPYTHON else 1000


class Server(ClientClocksMixIn, compat.ThreadingTCPServer):
    """Serves RequestHandler on one port: on CPython a thread per connection; on a board
    `workers` threads and the poll loop's own (see _socketserver). WebSockets are parked
    in the poller after their handshake, so they hold no thread anywhere.

    Attributes the handlers read: `directory` (static root), `uploads` (upload folder),
    `max_upload` (bytes, None for no limit), `allow_origins` (origins whose pages may
    open WebSockets, None for any), `credentials` (bytes of "user:password" every
    request must carry, None for none), `ws_token` (what a WebSocket URL may carry
    instead), `own_origin_only` (with credentials and no allow_origins: only the
    server's own pages may open WebSockets), `log_hub` (the live log: the process's
    log records, the last `log_history` of them kept, and on MicroPython print() output
    too; None when log_history is 0), `max_connections` (more are answered 503),
    `ssl_context` (an ssl.SSLContext for HTTPS and WSS, None for plain HTTP; CPython
    only).
    `server_close()` closes WebSockets with 1001, hangs up
    every other connection and waits for its thread, so uploads cut short remove
    their temporary files before the process exits.
    """

    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True
    request_queue_size = 64

    def __init__(self, address, handler_class, directory, uploads, max_upload=None,
                 allow_origins=None, log_history=compat.LOG_HISTORY, max_connections=None,
                 auth=None, ssl_context=None):
        self.ssl_context = ssl_context
        self.directory = directory.rstrip("/") or "/"
        self.uploads = uploads.rstrip("/") or "/"
        self.max_upload = max_upload
        self.allow_origins = allow_origins
        self.credentials = basicauth.expected_credentials(auth) if auth is not None else None
        self.ws_token = compat.random_token(16).encode() if auth is not None else None
        self.own_origin_only = auth is not None and allow_origins is None
        self.max_connections = max_connections or DEFAULT_MAX_CONNECTIONS
        self.log_hub = LogHub(log_history) if log_history else None
        self._log_handler = compat.attach_to_logging(self.log_hub) if log_history else None
        # On a board print() output feeds the live log too (nothing on CPython).
        self._print_capture = compat.capture_print(self.log_hub) if log_history else None
        self.poller = None  # started with the first WebSocket
        if compat.SERVER_WATCHES_IDLE:  # a board's serve_forever runs it from the start
            self.poller = Poller()
            self.poller.inline = True
        self._parked = set()  # sockets the poller serves, not a thread
        self._connections = set()
        self._refused = set()  # connections past max_connections: answered 503
        self._streams = {}  # a board's connection -> its LoopStream (see stream())
        self.start_clocks()
        self._connections_lock = compat.allocate_lock()
        if ":" in address[0]:
            self.address_family = compat.AF_INET6
        super().__init__(address, handler_class)
        remove_stale_temp_files(self.uploads)

    def full(self):
        """True when one more connection would be past max_connections."""
        return len(self._connections) + len(self._parked) >= self.max_connections

    def get_request(self):
        """Accept a connection; with TLS, wrap it, but leave its handshake to the
        connection's own thread (finish_request): a slow or silent client must not hold
        up the accept loop."""
        request, client_address = compat.ThreadingTCPServer.get_request(self)
        if self.ssl_context is not None:
            request = self.ssl_context.wrap_socket(request, server_side=True,
                                                   do_handshake_on_connect=False)
        return request, client_address

    def finish_request(self, request, client_address):
        """Serve the connection, in its own thread; with TLS, after the handshake."""
        if self.ssl_context is not None and not self._tls_handshake(request, client_address):
            return None
        return compat.ThreadingTCPServer.finish_request(self, request, client_address)

    def _tls_handshake(self, request, client_address):
        """True once the TLS handshake is done; it has head_timeout seconds. A failure
        (plain HTTP sent to this port, a client that distrusts the certificate) costs
        one line, and the connection."""
        compat.set_timeouts(request, self.head_timeout)
        try:
            request.do_handshake()
            return True
        except OSError as exc:
            log.info("%s: TLS handshake failed: %s", compat.format_address(client_address), exc)
            return False

    def process_request(self, request, client_address):
        with self._connections_lock:
            if self.full():
                idle = self._take_oldest_waiting()  # CPython (a board's loop made room)
                if idle is not None:
                    compat.shutdown_read(idle)  # it ends its wait, and closes
                else:
                    self._refused.add(request)  # its handler answers 503
            self._connections.add(request)
        compat.ThreadingTCPServer.process_request(self, request, client_address)

    def refuses(self, request):
        """True for a connection that came past max_connections."""
        return request in self._refused

    def stream(self, request):
        """A board's hook (see _socketserver): the connection's LoopStream, what its
        handlers read and write. When the poll loop's thread serves the request itself,
        its waits keep the parked connections served."""
        stream = self._streams.get(request)
        if stream is None:
            stream = LoopStream(request, self.RequestHandlerClass.socket_timeout)
            self._streams[request] = stream
        stream.serve_from(self.poller if request is self.inline_request else None)
        return stream

    def shutdown_request(self, request):
        """The handler's thread is done with the connection: close it, unless parked."""
        with self._connections_lock:
            self._connections.discard(request)
            self._refused.discard(request)
            self._streams.pop(request, None)
            parked = request in self._parked
        if not parked:
            compat.ThreadingTCPServer.shutdown_request(self, request)

    def park(self, handler, start):
        """Serve a handler's connection from the poller from now on; start() runs there."""
        with self._connections_lock:
            if self.poller is None:
                poller = Poller()
                poller.start()
                self.poller = poller  # seen by server_close only once started
            self._parked.add(handler.connection)
            self._connections.discard(handler.connection)  # counted once, as parked
        self.poller.add(handler, start)

    def unpark(self, handler):
        with self._connections_lock:
            self._parked.discard(handler.connection)

    def broadcast(self, connections, data):
        """Send one message to many WebSocket connections: encoded once, queued to each;
        a slow client gets it when it reads, and never holds up the others."""
        if isinstance(data, str):
            frame = frames.encode_frame(frames.OP_TEXT, data.encode())
        else:
            frame = frames.encode_frame(frames.OP_BINARY, data)
        for connection in connections:
            try:
                connection.send_frame_bytes(frame)
            except ConnectionClosed:
                pass  # closing or gone: nothing to deliver

    def server_close(self):
        compat.detach_from_logging(self._log_handler)
        compat.release_print(self._print_capture)
        if self.poller is not None:
            self.poller.close_all(frames.CLOSE_GOING_AWAY, "server shutting down")
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            compat.shutdown_both(connection)
        compat.ThreadingTCPServer.server_close(self)

    def start(self, poll_interval=0.05):
        """Serve in a background thread, next to the caller's own code; the thread.

        poll_interval: seconds between checks for shutdown(), which waits for one.
        """
        return compat.start_thread(self.serve_forever, poll_interval)


def make_server(port=8000, bind="", directory="static", uploads="uploads", max_upload=None,
                allow_origins=None, log_history=compat.LOG_HISTORY, max_connections=None,
                workers=None, idle_timeout=None, head_timeout=None, auth=None,
                certfile=None, keyfile=None, handler_class=RequestHandler):
    """A Server bound and listening on (bind, port), not yet serving; port 0 picks one.

    max_connections: connections served at once, more are answered 503 (None: 1000 on
    a PC, 8 on a board).
    workers: on a board, threads that serve requests besides the poll loop's own
    (None: 0, the safe setting on a Pico W; one or two on an ESP32). CPython serves each
    connection in a thread of its own and does not use it.
    idle_timeout, head_timeout: seconds (None: Server's defaults, 5 and 10).
    auth: "user:password" (split at the first colon) that every request must carry,
    HTTP Basic; a WebSocket may carry the token of GET /ws/token instead, and only the
    server's own pages may open one unless allow_origins lists others (None: no auth).
    ValueError when it has no colon or no user name.
    certfile, keyfile: PEM files of the server's certificate chain and its private key
    (keyfile None: the key is in certfile): the server then speaks HTTPS and WSS only.
    CPython only: ValueError on a board (see compat.tls_context).
    """
    if keyfile is not None and certfile is None:
        raise ValueError("keyfile needs a certfile")
    ssl_context = compat.tls_context(certfile, keyfile) if certfile is not None else None
    try:
        os.mkdir(uploads)
    except OSError:
        pass  # it exists
    server = Server((bind, port), handler_class, directory, uploads, max_upload,
                    allow_origins, log_history, max_connections, auth, ssl_context)
    if workers is not None:
        server.workers = workers
    if idle_timeout is not None:
        server.idle_timeout = idle_timeout
    if head_timeout is not None:
        server.head_timeout = head_timeout
    return server


def serve(**options):
    """Make a server with make_server(**options) and serve until Ctrl-C (a
    KeyboardInterrupt: the way to stop it, so it returns quietly) or an error; the
    server is closed either way."""
    server = make_server(**options)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
