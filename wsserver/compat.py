"""The one place that tells the interpreters apart.

Everything above the pure core imports platform facilities from here: the socketserver
classes, thread start, logging, errno values, symlink resolution and the fast paths
CPython has (socket.sendfile). MicroPython's branches belong here too, and nowhere else.
"""
import errno
import os
import sys

try:
    import socketserver
    ThreadingTCPServer = socketserver.ThreadingTCPServer
    StreamRequestHandler = socketserver.StreamRequestHandler
except ImportError:  # MicroPython: the board's stand-in, same names and hooks
    from wsserver import _socketserver as socketserver
    ThreadingTCPServer = socketserver.ThreadingTCPServer
    StreamRequestHandler = socketserver.StreamRequestHandler

try:
    import logging
except ImportError:
    logging = None

MICROPYTHON = sys.implementation.name == "micropython"

# Upload copy buffer: big on a PC (fewer system calls), small on a board.
COPY_BUFFER_SIZE = 2048 if MICROPYTHON else 256 * 1024

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
    return isinstance(exc, OSError) and (exc.errno in DISCONNECT_ERRNOS or is_timeout(exc))


def get_logger(name):
    """A logging.Logger on CPython; on a board the hub's own small logger (a later port)."""
    return logging.getLogger(name)


def start_thread(function, *args):
    import threading
    thread = threading.Thread(target=function, args=args, daemon=True)
    thread.start()
    return thread


def realpath(path):
    """The path with symlinks resolved; boards' file systems have no symlinks."""
    if MICROPYTHON:
        return path
    return os.path.realpath(path)


def random_token():
    """A short random hex string for temporary file names."""
    import binascii
    return binascii.hexlify(os.urandom(6)).decode()


def send_file_range(handler, file, offset, count):
    """Send `count` bytes of an open binary file from `offset` to the client.

    CPython hands the copy to the kernel (socket.sendfile); elsewhere a buffered loop.
    """
    if hasattr(handler.connection, "sendfile"):
        handler.connection.sendfile(file, offset, count)
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
    if isinstance(address, tuple):
        return "%s:%s" % (address[0], address[1])
    return str(address)


def _epoch_offset():
    """Seconds to add to time.time() for Unix time: ESP32 and ESP8266 count from 2000."""
    import time
    return 946684800 if time.gmtime(0)[0] == 2000 else 0


EPOCH_OFFSET = _epoch_offset()


def unix_time():
    import time
    return time.time() + EPOCH_OFFSET


def replace_file(source, target):
    """Rename source onto target, replacing it (os.rename does not replace on Windows)."""
    getattr(os, "replace", os.rename)(source, target)


def allocate_lock():
    import _thread
    return _thread.allocate_lock()
