"""The live log: recent records kept for late joiners, every new one sent to every viewer.

A record is encoded once, as the bytes of a WebSocket text frame, and the same bytes are
queued to each viewer. Publishing never blocks and never fails because of a viewer: it
appends to each viewer's bounded queue (dropping that viewer's oldest record when it is
full, and counting the drop) and asks the poller's thread to write; a viewer whose socket
is stalled only loses its own oldest lines, and is told how many before the next one.

Independent of the `logging` module: on a board `print()` output feeds it too.
"""
import json
from collections import deque

from wsserver import compat, frames

# Records of one batch written to a viewer with a single send.
# (On a board, a 16 KiB batch, joined, needed a 16 KiB hole in a fragmented heap: a
# viewer joining with a full history failed even in 512 KiB.)
_BATCH_BYTES = 2048 if compat.MICROPYTHON else 256 * 1024


def record_frame(t, level, name, msg):
    """The text frame of one record: {"t": seconds, "level", "name", "msg"}."""
    text = json.dumps({"t": t, "level": level, "name": name, "msg": msg})
    return frames.encode_frame(frames.OP_TEXT, text.encode())


class Viewer:
    """One viewer's queue of frames not yet handed to its connection.

    The connection takes from it (`take`) whenever its own output is written out; any
    thread pushes to it.
    """

    def __init__(self, connection, queue_length, backlog):
        self.connection = connection
        self._queue = deque(tuple(backlog), queue_length)
        self._length = queue_length  # MicroPython's deque has no maxlen attribute
        self._lock = compat.allocate_lock()
        self.dropped = 0
        self._kicked = False

    def push(self, frame):
        """Queue a frame; True when the connection must be asked to take it."""
        with self._lock:
            if len(self._queue) == self._length:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(frame)
            kick, self._kicked = not self._kicked, True
        return kick

    def take(self):
        """The frames waiting, joined for one send (a "dropped" notice first), or None."""
        with self._lock:
            pieces, size = [], 0
            if self.dropped:
                notice = json.dumps({"dropped": self.dropped}).encode()
                pieces.append(frames.encode_frame(frames.OP_TEXT, notice))
                self.dropped = 0
            while self._queue and size < _BATCH_BYTES:
                frame = self._queue.popleft()
                pieces.append(frame)
                size += len(frame)
            if not self._queue:
                self._kicked = False
        return b"".join(pieces) if pieces else None


class LogHub:
    """Recent records and the viewers of new ones.

    history: records kept and sent first to a new viewer.
    queue_length: records waiting for one viewer, past which its oldest are dropped.
    """

    def __init__(self, history=200, queue_length=compat.LOG_QUEUE):
        self._history = deque((), history)
        self.queue_length = max(queue_length, history)
        self._viewers = ()  # replaced, never changed in place: publish reads it unlocked
        self._lock = compat.allocate_lock()

    def publish(self, t, level, name, msg):
        """Send a record to every viewer and keep it for later ones."""
        frame = record_frame(t, level, name, msg)
        with self._lock:
            self._history.append(frame)
            viewers = self._viewers
        for viewer in viewers:
            if viewer.push(frame):
                viewer.connection.request_flush()

    def subscribe(self, connection):
        """A new viewer, which receives the history first, then every new record."""
        with self._lock:
            viewer = Viewer(connection, self.queue_length, self._history)
            self._viewers = self._viewers + (viewer,)
        connection.ws_source = viewer
        connection.request_flush()
        return viewer

    def unsubscribe(self, viewer):
        with self._lock:
            self._viewers = tuple(v for v in self._viewers if v is not viewer)

    def __len__(self):
        return len(self._viewers)
