"""MicroPython's stand-in for `socketserver`: the names and hooks server.py uses.

Only what wsserver needs. It differs from CPython's module where the board makes it:
- the address is bound through getaddrinfo (the unix port wants a sockaddr, not a tuple);
- one poll() loop, the server's `poller` (a wsserver.poller.Poller that the subclass
  provides), waits for everything: new connections, idle keep-alive connections and
  parked WebSockets. A connection is served only once its next request head is in
  (`head_arrived`), so an idle one costs no thread, and neither a browser's spare
  connections nor a client trickling its head in (slowloris) can hold up the loop.
  Idle ones are closed after `idle_timeout` seconds; a late head is served all the
  same, and its handler answers 408. When the server is full, a new connection takes
  the place of the oldest idle one, else of the oldest unfinished head;
- `workers` threads, fixed at start, serve requests; threads are scarce (a Pico W has one
  extra, an ESP8266 none). When no worker is free (always, with 0 workers) the loop's
  own thread serves the request, through the file `stream()` gives, which keeps the
  parked connections served while it waits for the client.
No cooperative super() anywhere: MicroPython's MRO is depth-first.
"""
import socket
import time


class TCPServer:
    address_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM
    request_queue_size = 5
    allow_reuse_address = False
    timeout = None
    #: Threads that serve requests; 0: serve them in the thread of serve_forever.
    workers = 0
    #: When every worker is busy, ms to wait for one before the loop's thread serves the
    #: request: a worker that has just answered (a WebSocket handshake, say) is back in
    #: a moment, and the loop's thread is better kept free for new connections.
    worker_grace_ms = 20
    #: Seconds a connection may wait for its next (or first) request.
    idle_timeout = 5
    poller = None
    _serving_thread = None

    def __init__(self, server_address, RequestHandlerClass, bind_and_activate=True):
        self.server_address = server_address
        self.RequestHandlerClass = RequestHandlerClass
        self.socket = socket.socket(self.address_family, self.socket_type)
        self._shutdown_request = False
        self._serving = False
        # request -> [client_address, idle deadline in ticks_ms, head begun]
        self._idle = {}
        self._workers = None  # [lock, free slots] while workers run, see _work
        self.inline_request = None  # the request the loop's thread is serving
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
        from wsserver import compat  # not at the top: compat imports this module
        self._shutdown_request = False
        self._serving = True
        self._serving_thread = compat.thread_ident()
        self._start_workers()
        poller = self.poller
        poller.watch(self.socket, self._handle_request_noblock)
        try:
            while not self._shutdown_request:
                poller.run_once(poll_interval)
                self._close_expired()
                self.service_actions()
        finally:
            self._serving = False
            self._stop_workers()
            poller.unwatch(self.socket)

    def service_actions(self):
        pass

    def shutdown(self):
        """Stop serve_forever and wait until it has returned, as CPython's does. Called
        by a handler, inside serve_forever itself, it only asks (it could not wait)."""
        from wsserver import compat
        self._shutdown_request = True
        if compat.thread_ident() == self._serving_thread:
            return
        while self._serving:  # a board's lock cannot wait with a timeout: nap instead
            time.sleep_ms(10)

    def full(self):
        """True when a new connection would be one too many (see server.py): the oldest
        idle connection is then closed to make room."""
        return False

    def _handle_request_noblock(self):
        try:
            request, client_address = self.socket.accept()
        except OSError:
            return  # the client gave up between poll and accept
        if self._idle and self.full():
            self._close_idle(self._oldest_idle())
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
        """Serve the connection once its first request starts to arrive."""
        self._await_request(request, client_address)

    def _await_request(self, request, client_address):
        """In the loop's thread: watch a connection until its next request head is in
        (serve it now if it is: pipelined)."""
        deadline = time.ticks_add(time.ticks_ms(), int(self.idle_timeout * 1000))
        self._idle[request] = [client_address, deadline, False]
        self.poller.watch(request, lambda: self._request_arrived(request))
        self._request_arrived(request)

    def _request_arrived(self, request):
        """The connection is readable (or its head may be late): serve it once its
        head is in."""
        entry = self._idle[request]
        if not self.head_arrived(request):
            entry[2] = self.head_begun(request)  # then it is no longer idle
            return
        del self._idle[request]
        self.poller.unwatch(request)
        self._dispatch(request, entry[0])

    def _dispatch(self, request, client_address):
        """To a free worker; else, after worker_grace_ms, in the loop's own thread (which
        then takes no new connection until the request is done)."""
        for _ in range(self.worker_grace_ms if self._workers is not None else 0):
            if self._hand_to_worker(request, client_address):
                return
            time.sleep_ms(1)  # lets a worker that is finishing a request come back
        if not self._hand_to_worker(request, client_address):
            self._serve_inline(request, client_address)

    def _serve_inline(self, request, client_address):
        self.inline_request = request
        try:
            self._serve_one(request, client_address)
        finally:
            self.inline_request = None
            self.poller.resume_watched()  # paused while the request waited on its client

    def _serve_one(self, request, client_address):
        keep_open = False
        try:
            keep_open = self.finish_request(request, client_address).keep_open
        except Exception as exc:
            self.handle_error(request, client_address, exc)
        if keep_open and self._serving:
            self.poller.call(self._await_request, request, client_address)
        else:
            self.shutdown_request(request)

    def _oldest_idle(self):
        """The connection to close for a new one: the oldest idle, else the oldest
        whose head is still coming in."""
        oldest = None
        for request, entry in self._idle.items():
            if oldest is None:
                oldest = request
                continue
            other = self._idle[oldest]
            if (entry[2], time.ticks_diff(entry[1], other[1])) < (other[2], 0):
                oldest = request
        return oldest

    def _close_idle(self, request):
        del self._idle[request]
        self.poller.unwatch(request)
        self.shutdown_request(request)

    def _close_expired(self):
        """Close the connections idle past idle_timeout; serve the late heads."""
        now = time.ticks_ms()
        for request, entry in list(self._idle.items()):
            if request not in self._idle:
                continue  # closed meanwhile (server_close, from another thread)
            if entry[2]:
                self._request_arrived(request)
            elif time.ticks_diff(entry[1], now) <= 0:
                self._close_idle(request)

    def _start_workers(self):
        """Start `workers` threads, as many as the board grants (maybe none)."""
        if not self.workers:
            return
        from wsserver import compat  # not at the top: compat imports this module
        self._workers = [compat.allocate_lock(), []]
        compat.start_threads(self._work, self.workers)

    def _work(self):
        """A worker: waits in its slot, [lock, job], for _hand_to_worker to fill it.
        It blocks on the slot's lock (a board's lock cannot wait with a timeout)."""
        from wsserver import compat
        workers_lock, free = self._workers
        slot = [compat.allocate_lock(), None]
        slot[0].acquire()
        while True:
            with workers_lock:
                if not self._serving:
                    return
                free.append(slot)
            slot[0].acquire()  # released with a job, or with None to stop
            job, slot[1] = slot[1], None
            if job is None:
                return
            self._serve_one(job[0], job[1])

    def _hand_to_worker(self, request, client_address):
        """Give the request to a free worker; False when none is free."""
        if self._workers is None:
            return False
        with self._workers[0]:
            if not self._workers[1]:
                return False
            slot = self._workers[1].pop()
        slot[1] = (request, client_address)
        slot[0].release()
        return True

    def _stop_workers(self):
        """Wake the free workers with no job (busy ones stop once done)."""
        if self._workers is None:
            return
        workers_lock, free = self._workers
        self._workers = None
        with workers_lock:
            for slot in free:
                slot[0].release()
            del free[:]

    def stream(self, request):
        """The file a handler reads and writes: the socket itself (see server.py)."""
        return request

    def head_arrived(self, request):
        """True when the connection's next request head can be read without waiting
        (see server.py): here, always."""
        return True

    def head_begun(self, request):
        """True when part of the connection's next request head is in."""
        return False

    def finish_request(self, request, client_address):
        """Serve a request; the handler (its keep_open says: watch for another)."""
        return self.RequestHandlerClass(request, client_address, self)

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
        for key in list(self._idle):
            self._close_idle(key)
        self.socket.close()


class ThreadingTCPServer(TCPServer):
    """Same as TCPServer: threads come from `workers` (CPython's name, kept for
    server.py). The attributes CPython's ThreadingMixIn reads are accepted, unused."""

    daemon_threads = False
    block_on_close = True


class StreamRequestHandler:
    """setup(), handle(), finish(), as in CPython. rfile and wfile are server.stream():
    the socket itself (its read/readinto/readline/write behave as buffered files do),
    or a LoopStream when the loop's thread serves the request."""

    timeout = None
    disable_nagle_algorithm = False
    #: Set by handle() to have the server watch the connection for another request.
    keep_open = False

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
        self.rfile = self.wfile = self.server.stream(self.request)

    def handle(self):
        pass

    def finish(self):
        pass

