"""Slow and idle clients: how long a connection may wait, idle, for its next request
(`idle_timeout`), and how long a request head may take once it has begun
(`head_timeout`, then 408), on both interpreters.

On CPython each connection has a thread, blocked in its reads (their timeout is set by
the handler): the server keeps the deadlines of the heads being read, and
`service_actions` (between polls of serve_forever) ends the reads of the late ones, so
that their handlers answer 408; and it lists the connections waiting for a request, so
that a new one can take the place of the oldest when the server is full. On a board the
poll loop reads heads ahead into each connection's LoopStream, whose clock ends its
waits (see _socketserver): a head still trickling in holds no thread.
"""
from wsserver import compat


class ClientClocksMixIn:
    """For the Server: call `start_clocks()` from __init__. Uses its `_streams` (a
    board's connection -> LoopStream) and `stream(request)`."""

    #: Seconds a connection may wait, idle, for its next (or first) request; then it is
    #: closed (browsers open spare connections and keep them).
    idle_timeout = 5
    #: Seconds a request head may take once it has begun, however slowly it trickles in
    #: (slowloris); then the answer is 408. A body only has the handler's socket_timeout:
    #: a big upload over a slow link takes long, and that is fine.
    head_timeout = 10

    def start_clocks(self):
        self._waiting = {}  # CPython: connections waiting for a request, oldest first
        self._head_deadlines = {}  # CPython: connection -> when its head is late
        self._late = set()  # CPython: connections whose head came too late

    def wait_for_request(self, request, rfile):
        """CPython: wait for the connection's next (or first) request to start arriving:
        True then; False when its reads time out (the handler set them to idle_timeout),
        or when a new connection took its place because the server was full. (A board's
        poll loop waits instead.) No lock: a dict operation is atomic in CPython."""
        self._waiting[request] = True
        try:
            return bool(rfile.peek(1))
        except OSError as exc:
            if compat.is_disconnect(exc):
                return False
            raise
        finally:
            self._waiting.pop(request, None)

    def _take_oldest_waiting(self):
        """The connection that has waited longest for a request (a dict keeps its
        insertion order), taken from the waiting ones; None when none waits."""
        for request in list(self._waiting):
            if self._waiting.pop(request, None) is not None:
                return request
        return None

    def start_head_clock(self, request, deadline):
        """A request head starts: it must be in by `deadline` (compat.monotonic()). A
        board's stream stops its waits then (and may have started the clock as the head
        began to arrive, see head_arrived); on CPython service_actions ends late heads.
        No lock on CPython: each step is one atomic dict or set operation."""
        stream = self._streams.get(request)
        if stream is not None:
            stream.start_clock(deadline)
        else:
            self._head_deadlines[request] = deadline

    def stop_head_clock(self, request):
        stream = self._streams.get(request)
        if stream is not None:
            stream.stop_clock()
        else:
            self._head_deadlines.pop(request, None)
            self._late.discard(request)

    def head_clock_expired(self, request):
        """True when the request's head was not in within head_timeout."""
        stream = self._streams.get(request)
        if stream is not None:
            return stream.clock_expired()
        return request in self._late

    def service_actions(self):
        """Between polls of serve_forever: end the reads of the heads that are late, so
        their handlers answer 408 (on CPython; a board's streams watch their own)."""
        if not self._head_deadlines:
            return
        now = compat.monotonic()
        for request, deadline in list(self._head_deadlines.items()):
            # Whoever pops first, this or stop_head_clock, decides.
            if deadline <= now and self._head_deadlines.pop(request, None) is not None:
                self._late.add(request)
                compat.shutdown_read(request)

    def head_arrived(self, request):
        """A board's hook: take in what the client has sent; True once the connection's
        next request head is read whole (or its stream is full, or ended, or the head is
        late), so that the poll loop never serves a head that is still trickling in."""
        return self.stream(request).read_head_ahead(self.head_timeout)

    def head_begun(self, request):
        """A board's hook: True when part of the next request head is in (its clock
        runs)."""
        stream = self._streams.get(request)
        return stream is not None and stream.deadline is not None
