"""The file a board's request handler reads and writes: one per connection, kept from
one request to the next, so that bytes read ahead (a pipelined request) are not lost.

Its socket is non-blocking, and every wait for the client goes through `_wait`: when the
poll loop's own thread serves the request (a board with no free worker), through
`Poller.wait_for`, which keeps the parked connections served meanwhile: live-log viewers
get their lines during an upload, even with no worker thread at all. In a worker
thread, through a poll() of its own.

It is also a buffered reader: a board socket's own readline() makes one system call per
byte.
"""
import errno
import select

from wsserver import compat


class LoopStream:
    """readline(limit), readinto(buffer), read1(n) and write(data) over a non-blocking
    socket; OSError(ETIMEDOUT) when the client stays silent, or stops reading, for
    `timeout` seconds. `poller`: the loop's Poller while its thread serves the request,
    None in a worker thread."""

    def __init__(self, sock, timeout, buffer_size=512):
        self.sock = sock
        self.timeout = timeout
        #: While a request head is read: when it is late (compat.monotonic() seconds);
        #: a wait for the client ends then.
        self.deadline = None
        self.poller = None
        self._own_poll = None
        self._buffer = bytearray(buffer_size)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0

    def serve_from(self, poller):
        """Before each request: the loop's Poller (its thread serves it) or None."""
        self.sock.setblocking(False)
        self.poller = poller

    def start_clock(self, deadline):
        """The head being read must be in by `deadline`; a clock started as its first
        bytes arrived (read_head_ahead) keeps its own."""
        if self.deadline is None:
            self.deadline = deadline

    def stop_clock(self):
        self.deadline = None

    def clock_expired(self):
        return self.deadline is not None and compat.monotonic() >= self.deadline

    def read_head_ahead(self, head_timeout):
        """Without waiting, take in what the client has sent. True once the buffer holds
        a whole request head, is full, the stream has ended or failed, or the head is
        late: then a handler can read it without waiting for the client (or answer).
        The first bytes of a head start its clock: head_timeout seconds."""
        if self._start == self._end:
            self._start = self._end = 0
        elif self._end == len(self._buffer) and self._start:
            self._buffer[:self._end - self._start] = bytes(self._view[self._start:self._end])
            self._start, self._end = 0, self._end - self._start
        if self._end < len(self._buffer):
            try:
                count = compat.recv_into(self.sock, self._view[self._end:])
            except OSError:
                return True  # the handler's read meets the error again, and says so
            if count == 0:
                return True
            if count:
                self._end += count
                self.start_clock(compat.monotonic() + head_timeout)
        if self._end == len(self._buffer) or self.clock_expired():
            return True
        return (self._buffer.find(b"\n\r\n", self._start, self._end) >= 0
                or self._buffer.find(b"\n\n", self._start, self._end) >= 0)

    def _wait(self, events):
        timeout = self.timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - compat.monotonic())
        if timeout <= 0:
            ready = False
        elif self.poller is not None:
            ready = self.poller.wait_for(self.sock, events, timeout)
        else:
            if self._own_poll is None:
                self._own_poll = select.poll()
                self._own_poll.register(self.sock, events)
            else:
                self._own_poll.modify(self.sock, events)
            ready = bool(self._own_poll.poll(int(timeout * 1000)))
        if not ready:
            raise OSError(errno.ETIMEDOUT, "client silent for %s s" % timeout)

    def _recv_into(self, buffer):
        """Bytes received into buffer once there are some; 0 at the end of the stream."""
        while True:
            count = compat.recv_into(self.sock, buffer)
            if count is not None:
                return count
            self._wait(select.POLLIN)

    def readline(self, limit=-1):
        """One line with its b"\\n", at most `limit` bytes; shorter at the end of the stream."""
        parts = []
        size = 0
        while limit < 0 or size < limit:
            if self._start == self._end:
                self._start, self._end = 0, self._recv_into(self._buffer)
                if not self._end:
                    break
            newline = self._buffer.find(b"\n", self._start, self._end)
            stop = self._end if newline < 0 else newline + 1
            if limit >= 0:
                stop = min(stop, self._start + limit - size)
            parts.append(bytes(self._view[self._start:stop]))
            size += stop - self._start
            self._start = stop
            if newline >= 0 and stop == newline + 1:
                break
        return b"".join(parts)

    def readinto(self, buffer):
        """Some bytes into buffer (n), 0 at the end of the stream."""
        if self._start == self._end:
            return self._recv_into(buffer)
        count = min(len(buffer), self._end - self._start)
        buffer[:count] = self._view[self._start:self._start + count]
        self._start += count
        return count

    def read1(self, size):
        """What is buffered already, up to size bytes, without waiting (b"" if nothing)."""
        count = min(size, self._end - self._start)
        data = bytes(self._view[self._start:self._start + count])
        self._start += count
        return data

    def write(self, data):
        view = memoryview(data)
        sent = 0
        while sent < len(view):
            count = compat.send_some(self.sock, view[sent:])
            if count:
                sent += count
            else:
                self._wait(select.POLLOUT)
        return sent
