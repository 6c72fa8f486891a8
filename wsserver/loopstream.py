"""The file a request handler reads and writes when the poll loop's own thread serves it.

A board with no free worker serves a request in the thread that runs the poller. Its
socket is then non-blocking, and every wait for the client (a slow upload, a download
the client reads slowly) goes through `Poller.wait_for`, which keeps the parked
connections served meanwhile: live-log viewers get their lines during an upload, even
with no worker thread at all.

It is also a buffered reader: a board socket's own readline() makes one system call per
byte.
"""
import errno
import select

from wsserver import compat


class LoopStream:
    """readline(limit), readinto(buffer), read1(n) and write(data) over a socket served by
    the poller's thread; OSError(ETIMEDOUT) when the client stays silent, or stops
    reading, for `timeout` seconds."""

    def __init__(self, sock, poller, timeout, buffer_size=512):
        sock.setblocking(False)
        self.sock = sock
        self.poller = poller
        self.timeout = timeout
        self._buffer = bytearray(buffer_size)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0

    def _wait(self, events):
        if not self.poller.wait_for(self.sock, events, self.timeout):
            raise OSError(errno.ETIMEDOUT, "client silent for %s s" % self.timeout)

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
