"""print() output into the live log, on boards.

On a board the server's own records come from compat.PrintLogger, but much of what a
board says goes through plain print(): main.py's Wi-Fi progress, tracebacks, the user's
own code. Without a serial cable the live log is the only console, so that output is
copied there too, one record per complete line: level "INFO", name "print".

Two ways to see the output: `os.dupterm` where the port has it (compat, the one place
that knows the port, passes it in; it sees everything written to the console, REPL and
tracebacks included), else a wrapper around `builtins.print` (the unix port has no
dupterm, or every slot is taken; MicroPython lets builtins.print be replaced, and
sys.stdout cannot be).

One capture serves every server that asks (`start`), installed by the first and
removed with the last (`stop`).

Runs on MicroPython, so no `logging` here: records go to a plain publish(t, level,
name, msg) function.
"""
import builtins
import io
import sys

from wsserver import compat


# A line longer than this is published in pieces: a print() without a newline must not
# grow a board's heap without end.
MAX_LINE = 512
LEVEL = "INFO"
NAME = "print"


def _decode(line):
    """Text of one line. MicroPython's decode raises on some invalid bytes and has no
    error handlers, and a long line may be cut inside a character: '?' for non-ASCII."""
    try:
        return line.decode()
    except UnicodeError:
        return "".join(chr(b) if b < 128 else "?" for b in line)


class LineCapture:
    """Cuts console output into lines and publishes each complete one.

    publish(t, level, name, msg) receives them; clock() gives t (Unix time). Text from
    a thread that is `mute()`d is dropped: compat.PrintLogger prints records it has
    published already, and a record must not come back as a "print" line. The same
    guard stops recursion should publishing itself ever print.

    feed() never raises: an exception inside a dupterm write detaches the stream (and
    prints about it), and one inside print() would break the caller's code.
    """

    def __init__(self, publish, clock):
        self._publish = publish
        self._clock = clock
        self._partial = b""
        self._muted = []  # thread idents; a list: a board's threads are few
        self._lock = compat.allocate_lock()

    def mute(self):
        with self._lock:
            self._muted.append(compat.thread_ident())

    def unmute(self):
        ident = compat.thread_ident()
        with self._lock:  # the unix port's threads share no GIL
            if ident in self._muted:
                self._muted.remove(ident)

    def feed(self, data):
        """Take some output: str, or bytes/bytearray/memoryview (dupterm's buffer is
        only lent for the call, so it is copied)."""
        try:
            if isinstance(data, str):
                data = data.encode()
            else:
                data = bytes(data)
            with self._lock:
                lines = self._take(data)
            if not lines:
                return
            try:
                t = self._clock()
                for line in lines:
                    self._publish(t, LEVEL, NAME, line)
            finally:
                self.unmute()
        except Exception:
            pass  # a lost line is better than a console that raises

    def _take(self, data):
        """The lines data completes, with this thread muted while it publishes them;
        None from a muted thread."""
        ident = compat.thread_ident()
        if ident in self._muted:
            return None
        lines = self._cut(data)
        if lines:
            self._muted.append(ident)
        return lines

    def _cut(self, data):
        """The complete lines (as text) that data finishes; keeps the rest."""
        data = self._partial + data
        lines = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            lines.append(data[start:end])
            start = end + 1
        rest = data[start:]
        while len(rest) >= MAX_LINE:
            lines.append(rest[:MAX_LINE])
            rest = rest[MAX_LINE:]
        self._partial = rest
        return [_decode(line.rstrip(b"\r")) for line in lines if line.rstrip(b"\r")]


class DuptermStream(io.IOBase):
    """The stream os.dupterm writes the console's output to.

    write() copies into the capture and never raises or prints (either would detach the
    stream, with a message on the console). readinto() returns None: no input comes
    from the live log. ioctl() answers every request (a poll of stdin, the close at
    detach) with 0, since an IOBase without it raises AttributeError there.
    """

    def __init__(self, capture):
        self.capture = capture

    def write(self, buf):
        self.capture.feed(buf)
        return len(buf)

    def readinto(self, buf):
        return None

    def ioctl(self, request, arg):
        return 0


def attach_dupterm(capture, dupterm):
    """Put a DuptermStream into a free dupterm slot; a handle for detach_dupterm, or
    None when no slot is free.

    dupterm is os.dupterm. Slot 0 may hold WebREPL, whose input must keep flowing: a
    taken slot is given back and the next one tried, until the port has no more.
    """
    stream = DuptermStream(capture)
    index = 0
    while index < 4:
        try:
            previous = dupterm(stream, index)
        except (ValueError, OSError, TypeError):
            return None  # no such slot (TypeError: a port without the index argument)
        if previous is None:
            return (dupterm, stream, index)
        dupterm(previous, index)
        index += 1
    return None


def detach_dupterm(handle):
    dupterm, stream, index = handle
    current = dupterm(None, index)
    if current is not None and current is not stream:
        dupterm(current, index)  # someone else's by now: leave it


class PrintWrapper:
    """A builtins.print that prints, then copies what went to stdout into the capture.

    Released out of order (two servers), it cannot take itself out of the chain of
    wrappers: it then only passes calls through.
    """

    def __init__(self, capture, original):
        self.capture = capture
        self.original = original

    def __call__(self, *args, **kwargs):
        self.original(*args, **kwargs)
        capture = self.capture
        if capture is None:
            return
        stream = kwargs.get("file")
        if stream is not None and stream is not sys.stdout:
            return
        try:
            sep = kwargs.get("sep")
            end = kwargs.get("end")
            text = (" " if sep is None else sep).join([str(a) for a in args])
            capture.feed(text + ("\n" if end is None else end))
        except Exception:
            pass  # print() itself succeeded: that is what the caller asked for


def _current_print():
    """The print() a bare name finds. Not `builtins.print`: on MicroPython an assigned
    builtin goes to an override table, and the attribute still reads the original."""
    return print


def wrap_print(capture):
    """Replace builtins.print with a PrintWrapper; the handle for unwrap_print."""
    wrapper = PrintWrapper(capture, _current_print())
    builtins.print = wrapper
    return wrapper


def unwrap_print(wrapper):
    wrapper.capture = None
    if _current_print() is wrapper:
        builtins.print = wrapper.original


_hubs = ()  # replaced, never changed in place: the capture reads it unlocked
_capture = None
_handle = None


def _publish(t, level, name, msg):
    for hub in _hubs:
        hub.publish(t, level, name, msg)


def active():
    """The installed LineCapture, or None."""
    return _capture


def start(hub, dupterm, clock):
    """Copy console output into hub (anything with publish(t, level, name, msg)) from
    now on; the handle for stop. dupterm: os.dupterm, or None where the port lacks it;
    clock: Unix time."""
    global _hubs, _capture, _handle
    if _capture is None:
        capture = LineCapture(_publish, clock)
        handle = attach_dupterm(capture, dupterm) if dupterm is not None else None
        _handle = handle if handle is not None else wrap_print(capture)
        _capture = capture
    _hubs = _hubs + (hub,)
    return hub


def stop(hub):
    """Stop copying into hub; with the last hub gone, the capture is removed."""
    global _hubs, _capture, _handle
    if hub not in _hubs:
        return
    _hubs = tuple(h for h in _hubs if h is not hub)
    if not _hubs and _capture is not None:
        if isinstance(_handle, PrintWrapper):
            unwrap_print(_handle)
        else:
            detach_dupterm(_handle)
        _capture = _handle = None
