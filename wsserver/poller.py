"""One poll() loop for the connections that need no thread of their own.

A WebSocket connection, once its handshake is answered, is parked here: the loop reads
what arrives on every parked socket into one shared buffer, writes their queued output
when the socket can take it, and runs their timers (keepalive, close timeouts). A
thousand idle viewers then cost a socket and a little state each, not a thread each;
on a board, where threads are scarce, the same loop is what keeps them alive.

A parked connection provides: `connection` (the socket), `poll_events()` (the events
it waits for now), `on_readable(buffer)`, `on_writable()`, `on_tick(now)` and
`abort()`. Those callbacks run in the loop's thread only.

A TLS socket may hold bytes it has received and decrypted already, which poll() cannot
see (compat.pending): the loop reads them at its next round without waiting.
"""
import select

from wsserver import compat

log = compat.get_logger("wsserver")

POLLIN = select.POLLIN
POLLOUT = select.POLLOUT
_GONE = select.POLLHUP | select.POLLERR


class Poller:
    """The loop; `add`, `update`, `call`, `flush_soon` and `close_all` may be called from
    any thread.

    tick: seconds between two rounds of timers; keepalive and close timeouts are
    checked that often.
    """

    tick = 0.25
    #: True when no thread of its own runs the loop: the server's loop calls run_once.
    inline = False

    def __init__(self, buffer_size=compat.RECV_BUFFER_SIZE):
        self.buffer = bytearray(buffer_size)
        self._poll = select.poll()
        self._connections = {}  # poll key -> connection
        self._watched = {}  # poll key -> callback, for sockets that are not connections
        self._actions = []  # (function, argument) from other threads, run by the loop
        self._buffered = []  # connections with input poll() cannot see (TLS)
        self._lock = compat.allocate_lock()
        self._waker = compat.Waker()
        self._waker_key = compat.poll_key(self._waker.sock)
        self._poll.register(self._waker.sock, POLLIN)
        self._next_tick = 0
        self._thread = None
        self._paused = False  # watched sockets are out of the poll set (wait_for)
        self.running = True

    def __len__(self):
        return len(self._connections)

    def connections(self):
        return list(self._connections.values())

    def start(self):
        """Run the loop in a thread of its own (not when `inline`)."""
        self._thread = compat.start_thread(self.run_forever)

    def run_forever(self):
        while self.running:
            self.run_once(self.tick)
        self._close()

    def run_once(self, timeout, awaited=None):
        """Wait up to `timeout` seconds for events, handle them, then run due timers.

        awaited: the poll key of a socket wait_for() registered; True when it is ready.
        """
        self._run_actions()
        if not self.running:
            return False
        ready = False
        buffered, self._buffered = self._buffered, []
        for key, flags in self._poll.poll(0 if buffered else int(timeout * 1000)):
            if key == awaited:
                ready = True
            elif key == self._waker_key:
                self._waker.drain()
            elif key in self._connections:  # not discarded earlier in this round
                self._dispatch(self._connections[key], flags)
            elif key in self._watched and not self._paused:
                self._watched[key][1]()
        for connection in buffered:
            if compat.poll_key(connection.connection) in self._connections:
                self._dispatch(connection, POLLIN)
        now = compat.monotonic()
        if now >= self._next_tick:
            self._next_tick = now + self.tick
            for connection in list(self._connections.values()):
                self._guard(connection, connection.on_tick, now)
        return ready

    def _dispatch(self, connection, flags):
        if flags & (POLLIN | _GONE):
            self._guard(connection, connection.on_readable, self.buffer)
        if flags & POLLOUT and compat.poll_key(connection.connection) in self._connections:
            self._guard(connection, connection.on_writable)
        self._note_buffered(connection)

    def _note_buffered(self, connection):
        """Have the next round read what the connection's socket holds decrypted, when
        the connection reads at all now (poll_events)."""
        sock = connection.connection
        if (compat.pending(sock) and compat.poll_key(sock) in self._connections
                and connection.poll_events() & POLLIN and connection not in self._buffered):
            self._buffered.append(connection)

    def _guard(self, connection, callback, *args):
        """A failure in one connection costs that connection, never the loop."""
        try:
            callback(*args)
        except Exception as exc:
            if not compat.is_disconnect(exc):
                log.exception("error on a parked connection: %r", exc)
            connection.abort()

    def call(self, function, *args):
        """Have the loop's thread call function(*args) at its next turn."""
        with self._lock:
            self._actions.append((function, args))
        self._waker.wake()

    def _run_actions(self):
        with self._lock:
            actions, self._actions = self._actions, []
        for function, args in actions:
            try:
                function(*args)
            except Exception as exc:  # the loop must outlive any one piece of work
                log.exception("error in the poller: %r", exc)

    def flush_soon(self, connection):
        """From any thread: have the loop write what the connection has queued."""
        self.call(self._guard, connection, connection.on_writable)

    def add(self, connection, start):
        """Watch a connection; the loop's thread calls start() first."""
        self.call(self._add, connection, start)

    def _add(self, connection, start):
        self._connections[compat.poll_key(connection.connection)] = connection
        self._poll.register(connection.connection, connection.poll_events())
        self._guard(connection, start)
        self._note_buffered(connection)

    def update(self, connection):
        """Poll for what the connection waits for now (after it queued output, say)."""
        if compat.in_thread(self._thread):
            self._update(connection)
        else:
            self.call(self._update, connection)

    def _update(self, connection):
        if compat.poll_key(connection.connection) in self._connections:
            self._poll.modify(connection.connection, connection.poll_events())

    def watch(self, sock, callback):
        """From the loop's thread: call callback() when sock is readable (a board's
        listening socket and idle keep-alive connections, so that one poll() serves
        them and the parked connections)."""
        self._watched[compat.poll_key(sock)] = (sock, callback)
        if not self._paused:
            self._poll.register(sock, POLLIN)

    def unwatch(self, sock):
        if self._watched.pop(compat.poll_key(sock), None) is not None and not self._paused:
            self._poll.unregister(sock)

    def pause_watched(self):
        """Stop polling the watched sockets while the loop's thread serves a request
        itself: new connections and idle ones wait for it, as they would for a worker."""
        if not self._paused:
            self._paused = True
            for sock, _ in self._watched.values():
                self._poll.unregister(sock)

    def resume_watched(self):
        if self._paused:
            self._paused = False
            for sock, _ in self._watched.values():
                self._poll.register(sock, POLLIN)

    def wait_for(self, sock, events, timeout):
        """From the loop's thread, inside a request it serves itself: keep the parked
        connections served until sock is ready for `events`. False after `timeout`
        seconds. Watched sockets are paused meanwhile (see pause_watched)."""
        self.pause_watched()
        key = compat.poll_key(sock)
        self._poll.register(sock, events)
        deadline = compat.monotonic() + timeout
        try:
            while True:
                left = deadline - compat.monotonic()
                if left <= 0 or not self.running:
                    return False
                if self.run_once(min(left, self.tick), key):
                    return True
        finally:
            self._poll.unregister(sock)

    def discard(self, connection):
        """Stop watching a connection (it closes its socket itself)."""
        key = compat.poll_key(connection.connection)
        if self._connections.pop(key, None) is not None:
            self._poll.unregister(connection.connection)

    def close_all(self, code, reason):
        """Close every connection with a close frame, then stop the loop and wait for it."""
        self.call(self._close_all, code, reason)
        if self.inline:  # run by the server's own loop, which has returned
            self.run_forever()
        elif self._thread is not None and not compat.in_thread(self._thread):
            self._thread.join(5)

    def _close_all(self, code, reason):
        for connection in list(self._connections.values()):
            self._guard(connection, connection.shut_down, code, reason)
        self.running = False

    def _close(self):
        for connection in list(self._connections.values()):
            connection.abort()
        self._poll.unregister(self._waker.sock)
        self._waker.close()
