"""MicroPython's stand-in for `socketserver`: the names and hooks server.py uses.

Only what wsserver needs. It differs from CPython's module where the board makes it:
- the address is bound through getaddrinfo (the unix port wants a sockaddr, not a tuple);
- `workers` threads, fixed at start, take accepted connections from a queue: threads
  are scarce (a Pico W has one extra, an ESP8266 none), so there is no thread per
  connection. With 0 workers each request is served in the serving thread.
- a server with a `poller` attribute (its WebSocket loop) has it run from
  serve_forever, so parked connections need no thread of their own.
No cooperative super() anywhere: MicroPython's MRO is depth-first.
"""
import select
import socket

try:
    import _thread
except ImportError:  # ESP8266: no threads at all
    _thread = None


class TCPServer:
    address_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM
    request_queue_size = 5
    allow_reuse_address = False
    timeout = None
    #: Threads that serve requests; 0: serve them in the thread of serve_forever.
    workers = 0
    #: serve_forever runs the server's `poller` (server.py then starts no thread for it).
    serves_poller = True
    #: No keep-alive: a thread waiting for a client's next request would stall every
    #: other client (all of them, with 0 workers). Each response says Connection: close.
    keep_alive = False

    def __init__(self, server_address, RequestHandlerClass, bind_and_activate=True):
        self.server_address = server_address
        self.RequestHandlerClass = RequestHandlerClass
        self.socket = socket.socket(self.address_family, self.socket_type)
        self._shutdown_request = False
        self._serving = False
        self._queue = []  # (request, client_address) waiting for a worker
        self._queue_lock = None
        if bind_and_activate:
            try:
                self.server_bind()
                self.server_activate()
            except BaseException:
                self.server_close()
                raise

    def server_bind(self):
        if self.allow_reuse_address:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        host, port = self.server_address[0], self.server_address[1]
        # getaddrinfo rejects "" on the unix port; "" means every interface.
        self.socket.bind(socket.getaddrinfo(host or "0.0.0.0", port)[0][-1])

    def server_activate(self):
        self.socket.listen(self.request_queue_size)

    def fileno(self):
        return self.socket.fileno()

    def serve_forever(self, poll_interval=0.5):
        """Accept and serve until shutdown(); checks for it every poll_interval."""
        self._shutdown_request = False
        self._serving = True
        self._start_workers()
        listener = select.poll()
        listener.register(self.socket, select.POLLIN)
        watched = None  # the poller that also watches the listening socket
        try:
            while not self._shutdown_request:
                poller = getattr(self, "poller", None)
                if poller is None:
                    if listener.poll(int(poll_interval * 1000)):
                        self._handle_request_noblock()
                else:
                    # One poll() for new connections and parked ones: neither waits
                    # for the other's timeout.
                    if watched is not poller:
                        poller.watch(self.socket, self._handle_request_noblock)
                        watched = poller
                    poller.run_once(poll_interval)
                self.service_actions()
        finally:
            self._serving = False
            if watched is not None:
                watched.unwatch(self.socket)

    def service_actions(self):
        pass

    def shutdown(self):
        """Stop serve_forever (from another thread); it returns within poll_interval.

        No wait for it: MicroPython's lock.acquire has no timeout, and with no threads
        shutdown() can only be called by a handler, inside serve_forever itself.
        """
        self._shutdown_request = True

    def _handle_request_noblock(self):
        try:
            request, client_address = self.socket.accept()
        except OSError:
            return  # the client gave up between poll and accept
        if self.verify_request(request, client_address):
            try:
                self.process_request(request, client_address)
            except Exception as exc:
                self.handle_error(request, client_address, exc)
                self.shutdown_request(request)
        else:
            self.shutdown_request(request)

    def verify_request(self, request, client_address):
        return True

    def process_request(self, request, client_address):
        if self.workers and self._queue_lock is not None:
            with self._queue_lock:
                self._queue.append((request, client_address))
            return
        self._serve_one(request, client_address)

    def _serve_one(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception as exc:
            self.handle_error(request, client_address, exc)
        self.shutdown_request(request)

    def _start_workers(self):
        """Start `workers` threads, as many as the board grants (maybe none)."""
        if not self.workers or _thread is None or self._queue_lock is not None:
            return
        self._queue_lock = _thread.allocate_lock()
        started = 0
        for _ in range(self.workers):
            try:
                _thread.start_new_thread(self._work, ())
                started += 1
            except (OSError, MemoryError, RuntimeError):
                break  # rp2: "core1 in use"; the serving thread does the rest
        if not started:
            self._queue_lock = None

    def _work(self):
        # A lock cannot wait with a timeout here, so an idle worker naps on poll().
        nap = select.poll()
        while self._serving or self._queue:
            with self._queue_lock:
                job = self._queue.pop(0) if self._queue else None
            if job is None:
                nap.poll(20)
            else:
                self._serve_one(job[0], job[1])

    def finish_request(self, request, client_address):
        self.RequestHandlerClass(request, client_address, self)

    def shutdown_request(self, request):
        self.close_request(request)

    def close_request(self, request):
        request.close()

    def handle_error(self, request, client_address, exc=None):
        """Print the traceback, as CPython's does. The exception is passed in: the
        boards' firmware has no sys.exc_info (the unix port has)."""
        import sys
        print("-" * 40)
        print("Exception occurred during processing of request from", client_address)
        sys.print_exception(exc)
        print("-" * 40)

    def server_close(self):
        self.socket.close()


class ThreadingTCPServer(TCPServer):
    """Same as TCPServer: threads come from `workers` (CPython's name, kept for
    server.py). The attributes CPython's ThreadingMixIn reads are accepted, unused."""

    daemon_threads = False
    block_on_close = True


class StreamRequestHandler:
    """setup(), handle(), finish(), as in CPython; rfile and wfile are the socket
    itself, whose read/readinto/readline/write behave as buffered files do."""

    timeout = None
    disable_nagle_algorithm = False

    def __init__(self, request, client_address, server):
        self.request = request
        self.client_address = client_address
        self.server = server
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self):
        self.connection = self.request
        if self.timeout is not None:
            self.connection.settimeout(self.timeout)
        self.rfile = self.connection
        self.wfile = self.connection

    def handle(self):
        pass

    def finish(self):
        pass
