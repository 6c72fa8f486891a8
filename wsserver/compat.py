"""The one place that tells the interpreters apart.

Everything above the pure core imports platform facilities from here: the socketserver
classes, thread start, logging, errno values, symlink resolution and the fast paths
CPython has (socket.sendfile). MicroPython's branches belong here too, and nowhere else.
"""
import errno
import os
import socket
import sys
import time

# SERVER_WATCHES_IDLE: where a connection waits for its next request. On CPython in its
# own thread (and the WebSocket poller has a thread of its own); on a board in the
# server's poll loop, which also runs the poller (a handler sets keep_open and returns).
try:
    import socketserver
    SERVER_WATCHES_IDLE = False
except ImportError:  # MicroPython: the board's stand-in, same names and hooks
    from wsserver import _socketserver as socketserver
    SERVER_WATCHES_IDLE = True
ThreadingTCPServer = socketserver.ThreadingTCPServer
StreamRequestHandler = socketserver.StreamRequestHandler

try:
    import logging
except ImportError:
    logging = None

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    import gc
    # Collect every 4 KiB allocated, from the package's first imports on: loading it
    # allocates transient buffers between long-lived code objects, and a heap left to
    # fill up before its first collection ends fragmented (no room for a 2 KiB block
    # with 50 KB free).
    gc.threshold(4096)

# Upload copy buffer: big on a PC (fewer system calls), small on a board.
COPY_BUFFER_SIZE = 2048 if MICROPYTHON else 256 * 1024

# Live-log records kept for a new viewer: each costs a board about 160 B of heap (200:
# 32 KB, half a small board's heap, filled after about 100 requests).
LOG_HISTORY = 20 if MICROPYTHON else 200

# Records one live-log viewer may have waiting (its oldest are dropped past it). A
# MicroPython deque allocates all of its slots at once: 1000 are 8 KB per viewer.
LOG_QUEUE = 64 if MICROPYTHON else 1000

# Longest request line and header line a board accepts (414 / 431 past them):
# MicroPython's readline(n) takes an n-byte block before it reads a byte, so the 8 KiB
# of http11's defaults would cost a board 8 KiB of contiguous heap per line.
BOARD_HEAD_LINE = 2048
# All field lines of a head (or of a chunked body's trailers) on a board: a few
# connections at the PC's 64 KiB would take all of its heap.
BOARD_HEAD = 8192

# Errors that mean "the peer went away": not worth a traceback. MicroPython lacks some
# names, and a write to a reset peer raises errno 32 there without a name.
_EPIPE = getattr(errno, "EPIPE", 32)
DISCONNECT_ERRNOS = (_EPIPE, errno.ECONNRESET, errno.ECONNABORTED, errno.ENOTCONN,
                     getattr(errno, "ESHUTDOWN", 108), errno.EBADF)
TIMEOUT_ERRNOS = (errno.ETIMEDOUT, errno.EAGAIN)
# A full disk, or a file over the process's size limit: 507 Insufficient Storage.
STORAGE_FULL_ERRNOS = (getattr(errno, "ENOSPC", 28), getattr(errno, "EFBIG", 27),
                       getattr(errno, "EDQUOT", 122))


def is_timeout(exc):
    """CPython raises socket.timeout (errno None); MicroPython OSError(ETIMEDOUT/EAGAIN)."""
    return type(exc).__name__ in ("timeout", "TimeoutError") or (
        isinstance(exc, OSError) and exc.errno in TIMEOUT_ERRNOS)


def is_disconnect(exc):
    """True for a peer gone or silent; over TLS also for a broken TLS stream (the
    client's doing: not worth a traceback)."""
    return isinstance(exc, OSError) and (exc.errno in DISCONNECT_ERRNOS or is_timeout(exc)
                                         or isinstance(exc, _TLS_ERRORS))


def get_logger(name):
    """A logging.Logger; without `logging` (a board) a PrintLogger."""
    if logging is None:
        return PrintLogger(name)
    return logging.getLogger(name)


# Live logs fed by PrintLoggers (where there is no `logging` to attach a handler to).
_hubs = []


class PrintLogger:
    """The part of logging.Logger wsserver uses, for boards without `logging`: prints
    `LEVEL name: message` and publishes the record to every attached live log."""

    level = 20  # INFO: debug lines cost a board's time and heap

    def __init__(self, name):
        self.name = name

    def _log(self, level, levelname, msg, args):
        if level < self.level:
            return
        if args:
            msg = msg % args
        capture = _printlog.active() if _printlog is not None else None
        if capture is None:
            print("%s %s: %s" % (levelname, self.name, msg))
        else:  # the record is published below: its printed line must not come back
            capture.mute()
            try:
                print("%s %s: %s" % (levelname, self.name, msg))
            finally:
                capture.unmute()
        for hub in _hubs:
            hub.publish(unix_time(), levelname, self.name, msg)

    def debug(self, msg, *args):
        self._log(10, "DEBUG", msg, args)

    def info(self, msg, *args):
        self._log(20, "INFO", msg, args)

    def warning(self, msg, *args):
        self._log(30, "WARNING", msg, args)

    def error(self, msg, *args):
        self._log(40, "ERROR", msg, args)

    def exception(self, msg, *args):
        self._log(40, "ERROR", msg, args)
        print_exception(args)


def print_exception(args=()):
    """Print the traceback of the exception being handled: sys.exc_info is missing on
    the boards, so the exception is looked for among the log call's arguments first."""
    for arg in args:
        if isinstance(arg, BaseException):
            sys.print_exception(arg)
            return
    if hasattr(sys, "exc_info") and sys.exc_info()[1] is not None:
        sys.print_exception(sys.exc_info()[1])


def attach_to_logging(hub):
    """Feed every log record to hub; the handle to detach it with."""
    if logging is None:
        _hubs.append(hub)
        return hub
    from wsserver.loghandler import LogHubHandler
    handler = LogHubHandler(hub)
    logging.getLogger().addHandler(handler)
    return handler


def detach_from_logging(handler):
    if handler is None:
        return
    if logging is None:
        if handler in _hubs:
            _hubs.remove(handler)
        return
    logging.getLogger().removeHandler(handler)


_printlog = None  # wsserver.printlog, once a server has asked for print() capture


def capture_print(hub):
    """Copy print() output into hub, one INFO record named "print" per line; the handle
    for release_print.

    MicroPython only: there print() is how a board talks (main.py, tracebacks). On
    CPython the hub already gets every `logging` record, and a program's own print() is
    left alone: None. os.dupterm where the port has it (it sees the REPL too), else a
    builtins.print wrapper (the unix port).
    """
    global _printlog
    if not MICROPYTHON:
        return None
    from wsserver import printlog
    _printlog = printlog
    return printlog.start(hub, getattr(os, "dupterm", None), unix_time)


def release_print(handle):
    if handle is not None and _printlog is not None:
        _printlog.stop(handle)


try:
    import threading
except ImportError:  # MicroPython: _thread only
    threading = None
try:
    import _thread
except ImportError:  # ESP8266: no threads
    _thread = None


class _Thread:
    """What start_thread gives on MicroPython: the thread's ident, for in_thread().
    There is no join() there."""

    ident = None


def start_thread(function, *args):
    """Run function(*args) in a new (daemon) thread; the thread."""
    if threading is not None:
        thread = threading.Thread(target=function, args=args, daemon=True)
        thread.start()
        return thread
    thread = _Thread()

    def run():
        thread.ident = _thread.get_ident()
        function(*args)
    _thread.start_new_thread(run, ())
    return thread


def stat_inside(root, relative):
    """os.stat of root/relative, or None when it is missing or a symbolic link leads
    out of root.

    One lstat per path component below root: cheaper than resolving the whole path,
    and the last lstat is the answer when no link is met. Boards' file systems have no
    symbolic links; the MicroPython unix port's has (see _meets_link).
    """
    path = root + "/" + relative if relative else root
    if not relative:
        return stat_or_none(path)
    if MICROPYTHON:
        return None if _meets_link(root, relative) else stat_or_none(path)
    partial = root
    for name in relative.split("/"):
        partial += "/" + name
        st = stat_or_none(partial, os.lstat)
        if st is None:
            return None
        if st[0] & 0o170000 == 0o120000:  # S_IFLNK
            return stat_or_none(path) if _resolves_inside(root, path) else None
    return st


def _meets_link(root, relative):
    """MicroPython: True when a component of root/relative is a symbolic link. It has no
    lstat and no realpath, so a link is refused wherever it leads; os.ilistdir gives
    each entry's type. Only the unix port's file system (VfsPosix) has links."""
    if not hasattr(os, "VfsPosix"):
        return False
    parent = root
    for name in relative.split("/"):
        try:
            entries = os.ilistdir(parent)
        except OSError:
            return False  # missing: the stat that follows says so
        for entry in entries:
            if entry[0] == name:
                if entry[1] == 0o120000:  # S_IFLNK
                    return True
                break
        parent += "/" + name
    return False


def stat_or_none(path, stat=os.stat):
    try:
        return stat(path)
    except OSError:
        return None


_real_roots = {}


def _resolves_inside(root, path):
    real_root = _real_roots.get(root)
    if real_root is None:
        real_root = _real_roots[root] = os.path.realpath(root).rstrip("/") + "/"
    return (os.path.realpath(path) + "/").startswith(real_root)


def random_token(size=6):
    """A random hex string of `size` bytes: short for temporary file names, longer for
    a secret (the WebSocket token of a server with auth)."""
    import binascii
    return binascii.hexlify(os.urandom(size)).decode()


# same_secret(received, expected): bytes equality whose time does not tell where, or
# whether, they differ (credentials, tokens).
try:
    from hmac import compare_digest as same_secret
except ImportError:  # MicroPython: no hmac (micropython-lib's lacks compare_digest)
    from wsserver.basicauth import xor_equal as same_secret


# TLS (HTTPS, WSS): CPython's ssl module only. A board's ssl module differs (no
# pending(), other errors from a non-blocking socket) and its heap is small for TLS
# buffers: make_server refuses a certfile there (tls_context).
if MICROPYTHON:
    ssl = None
    _TLS_ERRORS = ()
    _WOULD_BLOCK = ()
else:
    import ssl
    _TLS_ERRORS = (ssl.SSLError,)
    # A non-blocking TLS socket raises these where a plain one raises BlockingIOError.
    _WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def tls_context(certfile, keyfile=None):
    """A server-side ssl.SSLContext with the certificate chain (and its key, when in
    a file of its own); ValueError on MicroPython, which HTTPS is not made for."""
    if ssl is None:
        raise ValueError("HTTPS (certfile) needs CPython: MicroPython's ssl module is "
                         "not supported by wsserver")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)  # reads never need writes
    # The server ends reads with shutdown(SHUT_RD) (a late head, see shutdown_read):
    # OpenSSL 3 would fail the connection at that bare EOF, and the 408 could not leave.
    # HTTP's own framing still tells a cut body from a whole one.
    context.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    context.load_cert_chain(certfile, keyfile)
    return context


def is_tls(sock):
    """True for an ssl.SSLSocket (only they have pending())."""
    return hasattr(sock, "pending")


def pending(sock):
    """Bytes a TLS socket has received and decrypted but not yet handed over: poll()
    cannot see them. 0 for a plain socket."""
    return sock.pending() if is_tls(sock) else 0


def set_timeouts(sock, seconds, writes=True):
    """Close a connection whose client stays silent, or stops reading, for `seconds`.

    On Linux the kernel enforces it (SO_RCVTIMEO/SO_SNDTIMEO): settimeout() would cost
    a poll() before every recv and send. A timed-out read then looks like the end of the
    stream to rfile and a timed-out write raises EAGAIN: either way the handler closes
    the connection, as it would on a timeout exception. writes=False changes how long a
    read may wait only (elsewhere than on Linux, both).

    A TLS socket gets settimeout(): the ssl module retries a blocking read that the
    kernel timed out, forever.
    """
    if seconds is None:
        return
    if separate_read_timeout(sock):
        import socket
        import struct
        timeval = struct.pack("ll", int(seconds), int(seconds % 1 * 1e6))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        if writes:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    else:
        sock.settimeout(seconds)


def separate_read_timeout(sock):
    """True where a read's timeout is set apart from a write's (set_timeouts)."""
    return sys.platform == "linux" and not MICROPYTHON and not is_tls(sock)


def read_range(path, offset, count):
    """`count` bytes of a file from `offset`, and the os.stat of the file they were read
    from (None on a board, which has no fstat): a file replaced since it was looked at
    is told apart by it. On CPython in four system calls, without a file object."""
    if MICROPYTHON:
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read(count), None
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, count, offset), os.fstat(fd)
    finally:
        os.close(fd)


def stat_opened(file):
    """os.stat of an open file (None on a board, which has no fstat)."""
    return None if MICROPYTHON else os.fstat(file.fileno())


def send_file_range(handler, file, offset, count):
    """Send `count` bytes of an open binary file from `offset` to the client.

    The kernel copies where os.sendfile exists (not through TLS, which it would bypass);
    elsewhere a loop through one buffer.
    """
    if hasattr(os, "sendfile") and not is_tls(handler.connection):
        out, source = handler.connection.fileno(), file.fileno()
        while count > 0:
            sent = os.sendfile(out, source, offset, count)  # EAGAIN on SO_SNDTIMEO
            if sent == 0:
                raise OSError(errno.EIO, "file shrank while sending")
            offset += sent
            count -= sent
        return
    file.seek(offset)
    buffer = bytearray(min(COPY_BUFFER_SIZE, count) or 1)
    view = memoryview(buffer)
    while count > 0:
        got = file.readinto(view[:min(count, len(buffer))])
        if not got:
            raise OSError(errno.EIO, "file shrank while sending")
        handler.wfile.write(view[:got])
        count -= got


def format_address(address):
    """'host:port' for a peer address; MicroPython's unix port gives a raw sockaddr."""
    if not isinstance(address, tuple) and hasattr(socket, "sockaddr"):
        try:
            family, host, port = socket.sockaddr(address)[:3]
            address = (socket.inet_ntop(family, host), port)
        except (OSError, ValueError, TypeError):
            pass  # not an address this port can decode
    if isinstance(address, tuple):
        return "%s:%s" % (address[0], address[1])
    return str(address)


def _epoch_offset():
    """Seconds to add to time.time() for Unix time: ESP32 and ESP8266 count from 2000."""
    return 946684800 if time.gmtime(0)[0] == 2000 else 0


EPOCH_OFFSET = _epoch_offset()


def unix_time():
    return time.time() + EPOCH_OFFSET


def replace_file(source, target):
    """Rename source onto target, replacing it (os.rename does not replace on Windows)."""
    getattr(os, "replace", os.rename)(source, target)


class _OneThreadLock:
    """A board without threads (ESP8266) has nothing to exclude."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def allocate_lock():
    return _thread.allocate_lock() if _thread is not None else _OneThreadLock()


def thread_ident():
    return _thread.get_ident() if _thread is not None else 0


def start_threads(function, count):
    """Start up to `count` threads running function(); how many the platform granted
    (an ESP8266 has no threads, a Pico W one extra)."""
    started = 0
    while _thread is not None and started < count:
        try:
            _thread.start_new_thread(function, ())
        except (OSError, MemoryError, RuntimeError):
            break  # rp2: "core1 in use"
        started += 1
    return started


# One receive buffer serves every parked connection (they share one loop's thread).
RECV_BUFFER_SIZE = 512 if MICROPYTHON else 64 * 1024


if MICROPYTHON:
    def monotonic():
        """Seconds from a clock that never jumps, for timeouts."""
        return time.ticks_ms() / 1000
else:
    monotonic = time.monotonic  # called for every request head: no wrapper


def in_thread(thread):
    """True when called from inside `thread` (a started thread, or None)."""
    if thread is None:
        return False
    if threading is None:
        return thread.ident == _thread.get_ident()
    return threading.current_thread() is thread


def poll_key(sock):
    """What select.poll reports for a socket: its fd on CPython, itself on MicroPython."""
    return sock if MICROPYTHON else sock.fileno()


class Waker:
    """A socket pair that wakes a poll() loop when another thread has work for it."""

    def __init__(self):
        if hasattr(socket, "socketpair"):
            self.sock, self._writer = socket.socketpair()
        else:
            self.sock = self._writer = _udp_to_itself()
        self.sock.setblocking(False)
        self._writer.setblocking(False)

    def wake(self):
        try:
            self._writer.send(b"\0")
        except OSError:
            pass  # the pipe is full: the loop is awake already

    def drain(self):
        try:
            while self.sock.recv(64):  # MicroPython's recv(n) allocates n bytes first
                pass
        except OSError:
            pass  # drained

    def close(self):
        self.sock.close()
        if self._writer is not self.sock:
            self._writer.close()


def _udp_to_itself():
    """MicroPython has no socketpair: a UDP socket on 127.0.0.1 connected to itself.

    It cannot tell its own port (no getsockname), so it binds a port it picks.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = 40000 + int.from_bytes(os.urandom(2), "big") % 20000
    for attempt in range(100):
        address = socket.getaddrinfo("127.0.0.1", port + attempt)[0][-1]
        try:
            sock.bind(address)
        except OSError:
            continue  # in use
        sock.connect(address)
        return sock
    sock.close()
    raise OSError(errno.EADDRINUSE, "no free port for the waker")


def take_buffered(rfile, sock):
    """Make the socket non-blocking and return the bytes rfile had read ahead of the
    parser (a WebSocket's first frame may arrive with the handshake). A TLS socket
    may hold more, decrypted already (see pending)."""
    sock.setblocking(False)
    try:
        return rfile.read1(RECV_BUFFER_SIZE) or b""
    except _WOULD_BLOCK:  # TLS: rfile had nothing and the socket has nothing yet
        return b""


def recv_into(sock, buffer):
    """Bytes received into buffer on a non-blocking socket: None when there are none
    yet, 0 at the end of the stream."""
    if MICROPYTHON:
        return sock.readinto(buffer)  # no recv_into; None when nothing is there
    try:
        return sock.recv_into(buffer)
    except _WOULD_BLOCK:
        return None


def send_some(sock, data):
    """As much of data as a non-blocking socket takes now (possibly 0)."""
    try:
        return sock.send(data)
    except _WOULD_BLOCK:  # TLS: to be sent again, the same bytes first (SSL_write's rule)
        return 0
    except OSError as exc:  # MicroPython: a plain OSError(EAGAIN)
        if exc.errno == errno.EAGAIN or exc.errno == getattr(errno, "EWOULDBLOCK", 11):
            return 0
        raise


def utf8_decoder():
    """An incremental strict UTF-8 decoder: decode(data, final) -> str, UnicodeError on
    the first invalid byte. CPython's codec is in C; MicroPython's decode() is lax."""
    if MICROPYTHON:
        from wsserver.utf8 import Utf8Decoder
        return Utf8Decoder()
    import codecs
    return codecs.getincrementaldecoder("utf-8")()


def shutdown_write(sock):
    """Half-close: send FIN and keep reading. False where sockets cannot (a board's):
    the caller then closes instead."""
    if not hasattr(sock, "shutdown"):
        return False
    _shutdown(sock, socket.SHUT_WR)
    return True


def shutdown_both(sock):
    """Hang up on a connection another thread serves, waking its blocked read; boards'
    sockets have no shutdown (their connections are served by the closing thread)."""
    _shutdown(sock, socket.SHUT_RDWR)


def shutdown_read(sock):
    """End the reads of a connection another thread serves: its blocked read returns
    the end of the stream, and it can still answer (CPython; see shutdown_both)."""
    _shutdown(sock, socket.SHUT_RD)


def _shutdown(sock, how):
    if hasattr(sock, "shutdown"):
        try:
            _shutdown_socket(sock, how)
        except OSError:
            pass  # already closed by its peer


def _shutdown_socket(sock, how):
    """The socket's own shutdown: an ssl.SSLSocket's would also drop its TLS state, and
    what the connection writes next (a 408, a close frame) would leave as plain text."""
    if MICROPYTHON:
        sock.shutdown(how)
    else:
        socket.socket.shutdown(sock, how)


# IPv6 listening; boards' lwIP builds may lack it (binding then fails with a clear error).
AF_INET6 = getattr(socket, "AF_INET6", None)
