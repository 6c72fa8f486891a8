"""Request handlers of the end-to-end tests that need a route or a limit of their own.

One module for both interpreters: the CPython server imports it in the test process,
and the MicroPython server (tests/e2e/upy_launch.py) imports it in its subprocess, by
module and class name. So it is written in the MicroPython subset: no `threading`
module (compat's threads and locks instead), and no cooperative super() (base methods
are called explicitly).
"""
from wsserver import compat
from wsserver.handler import RequestHandler


class ByeHandler(RequestHandler):
    """Closes with 4000 "bye" when it receives "bye"; echoes everything else."""

    close_timeout = 0.5

    def on_message(self, data):
        if data == "bye":
            self.close(4000, "bye")
        else:
            RequestHandler.on_message(self, data)


class KeepaliveHandler(RequestHandler):
    ping_interval = 0.3
    ping_timeout = 0.3
    close_timeout = 0.5


class FailingHandler(RequestHandler):
    def on_message(self, data):
        if data == "boom":
            raise RuntimeError("on_message failed on purpose")
        RequestHandler.on_message(self, data)


# Messages ChattyHandler's thread sends, while the client sends its own to be echoed.
SENDS = 100


def chatter_text(i):
    return "thread %d " % i + "t" * (i * 37 % 300)


def chatter_binary(i):
    return b"\xfethread %d " % i + bytes([i]) * (i * 1013 % 70000)


class ChattyHandler(RequestHandler):
    """on_open starts a thread that sends SENDS messages while the client talks."""

    def on_open(self):
        RequestHandler.on_open(self)
        compat.start_thread(self.chatter)

    def chatter(self):
        for i in range(SENDS):
            if i % 2:
                self.send(chatter_binary(i))
            else:
                self.send(chatter_text(i))


class SmallHandler(RequestHandler):
    max_message_size = 1000


class ChatHandler(RequestHandler):
    subprotocols = ("v2.chat", "v1.chat")


HUB = "/ws/hub"


class HubHandler(RequestHandler):
    """Every connection to /ws/hub joins `server.members` until it closes (the test
    gives the server `members` and `members_lock`)."""

    websocket_paths = RequestHandler.websocket_paths + (HUB,)
    max_send_buffer = 256 * 1024
    close_timeout = 1

    def on_open(self):
        if self.path == HUB:
            with self.server.members_lock:
                self.server.members.add(self)

    def on_close(self, code, reason):
        with self.server.members_lock:
            self.server.members.discard(self)


class ShortTimeoutHandler(RequestHandler):
    """Gives up on a client that stops reading (or sending) after one second."""

    socket_timeout = 1
