"""Fixtures that run the real server on a loopback port for the end-to-end tests.

`server` is a running server with empty static and uploads folders under tmp_path;
`start_server(**options)` starts one with make_server() keyword options
(max_upload=..., handler_class=...), and `log_level` (logging.DEBUG: the server's
DEBUG lines too). Each yields a `Running` record and stops the server afterwards.

Every test that uses them runs once per kind of server (`server_kind`, shown in the test
id):

- "cpython": the package in this process, served from a thread;
- "upy-w0", "upy-w1", "upy-w4": the same package under the MicroPython unix port, in a
  `micropython` subprocess (tests/e2e/upy_launch.py) whose board server has 0, 1 or 4
  worker threads. A handler_class must then live in tests/e2e/handlers.py, which both
  interpreters import; the subprocess gets its module and class name.

For the MicroPython kinds, the plain `server` fixture does not start a process per
test: the tests of one module share one process per kind, re-pointed before each test to
that test's own empty folders (tmp_path/static0 and uploads0, as `start_server` makes)
once the server has no connection left, its live log history emptied (upy_launch.py). A
process that still has connections after a test, that a test stopped, or that served a
failed test, is replaced by a fresh one. `start_server`, and `server` in a test marked
`@pytest.mark.fresh_server(reason)`, always start a process of their own.

A test that can only run against the in-process server (it reads the server object,
or this process's `logging`) says why with `@pytest.mark.cpython_only(reason)`, and is
skipped for the MicroPython kinds with that reason.
"""
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from wsserver.server import make_server

KINDS = ("cpython", "upy-w0", "upy-w1", "upy-w4")
WORKERS = {"upy-w0": 0, "upy-w1": 1, "upy-w4": 4}
E2E = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(E2E))
LAUNCHER = os.path.join(E2E, "upy_launch.py")
if os.path.dirname(E2E) not in sys.path:  # pytest tests/e2e alone
    sys.path.append(os.path.dirname(E2E))
from test_micropython_core import micropython  # noqa: E402 (tests/ on the path first)
from test_micropython_server import free_port  # noqa: E402
# MicroPython heap of the subprocess (WSSERVER_TEST_HEAP overrides it, to measure).
# The largest need is a 1 MiB binary WebSocket message (the default max_message_size),
# assembled whole: it needs 3M; 2M fails with MemoryError. Twice that, for headroom.
UPY_HEAP = os.environ.get("WSSERVER_TEST_HEAP", "6M")
START_TIMEOUT = 10  # seconds for the subprocess to accept its first connection
STOP_TIMEOUT = 10
LOG_TAIL = 300  # lines of the subprocess's output shown for a failing test
POLL_INTERVAL = 0.005  # the in-process server's: how long its shutdown() may wait
RESET_TIMEOUT = 10  # seconds for a shared process to answer a reset (it waits 3 s at most)
STARTS = {"fresh": 0, "shared": 0, "reused": 0, "replaced busy": 0}  # the summary's figures
UNANSWERED = []  # a shared process's output after a reset it did not answer in time


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cpython_only(reason): needs the in-process server; skipped, with the "
                   "reason, for the MicroPython kinds")
    config.addinivalue_line(
        "markers", "fresh_server(reason): the `server` fixture starts a MicroPython process "
                   "for this test alone, not one shared with the module's other tests")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """item.failed_phase: set once a phase of the test fails (a shared process that
    served it is not reused)."""
    outcome = yield
    if outcome.get_result().failed:
        item.failed_phase = call.when


def pytest_terminal_summary(terminalreporter):
    if any(STARTS.values()):
        terminalreporter.write_line(
            "e2e MicroPython servers: %(fresh)d started for one test, %(shared)d shared by "
            "a module's tests (%(reused)d reuses), %(replaced busy)d replaced as connections "
            "stayed open" % STARTS)
    for output in UNANSWERED:
        terminalreporter.write_line("a reset was not answered in %d s; the output after it:\n%s"
                                    % (RESET_TIMEOUT, output))


class Running:
    """What a test needs to reach a running server and look at its folders.

    `server` is the server object for the "cpython" kind only; `stop()` shuts any kind
    down as its user would: shutdown() and server_close() (for MicroPython, in the
    subprocess, once its standard input ends).
    """

    def __init__(self, kind, port, static, uploads, server=None, process=None, output=None):
        self.kind = kind
        self.server = server
        self.process = process
        #: For the MicroPython kinds: the server's output during the test, so far.
        self.output = output
        self.host, self.port = "127.0.0.1", port
        self.url = "http://%s:%d" % (self.host, self.port)
        self.static = static
        self.uploads = uploads
        self.stopped = False

    def stored(self):
        """Names in the uploads folder, temporary files included, sorted."""
        return sorted(p.name for p in self.uploads.iterdir())

    def wait_stored(self, expected, rounds=100):
        """stored() once it equals expected, or after `rounds` short polls (cleanup
        may happen just after the answer or once the server notices a disconnect)."""
        names = self.stored()
        for _ in range(rounds):
            if names == expected:
                break
            time.sleep(0.05)
            names = self.stored()
        return names

    def stop(self):
        """Stop serving: open WebSockets get 1001, then the server closes. Returns once
        it has (any thread may call it)."""
        self.stopped = True
        if self.process is None:
            self.server.shutdown()
            self.server.server_close()
            return
        self.process.stdin.close()
        self.process.wait(STOP_TIMEOUT)


def answered_and_closed(sock):
    """One request, read to the end: once the server has closed the connection, it no
    longer counts against max_connections (a bare connect-and-close could still be
    counted when the test's first connections arrive)."""
    sock.sendall(b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    while sock.recv(4096):
        pass


class Subprocess:
    """A `micropython` process serving the package; its stdout and stderr are kept in
    `lines` by a thread (not in tmp_path, whose contents some tests compare)."""

    def __init__(self, workers, static, uploads, options):
        handler = options.pop("handler_class", None)
        options.pop("bind", None)
        self.config = {"root": ROOT, "workers": workers, "directory": str(static),
                       "uploads": str(uploads), "options": options,
                       "log_level": options.pop("log_level", logging.INFO),
                       "handler": handler and [handler.__module__, handler.__name__]}
        if handler is not None:
            assert handler.__module__ == "handlers", (
                "%s must be in tests/e2e/handlers.py to run under MicroPython" % handler)
        self.command = [micropython(), "-X", "heapsize=" + UPY_HEAP, LAUNCHER]
        self.process = None
        self.lines = []
        self.changed = threading.Condition()
        self.resets = 0

    def start(self):
        """Start on a free port; the port, once the process accepts connections."""
        for _ in range(3):  # another process may take the free port before we bind it
            port = free_port()
            self.config["port"] = port
            self.lines = []
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            reader = threading.Thread(target=self._read, args=(self.process, self.lines),
                                      daemon=True)
            reader.start()
            self.process.stdin.write(json.dumps(self.config).encode() + b"\n")
            self.process.stdin.flush()  # kept open: its end stops the server (Running.stop)
            if self._wait_listening(port):
                return port
            reader.join(STOP_TIMEOUT)
            if "EADDRINUSE" not in self.read_output():
                break
        pytest.fail("micropython server did not start:\n" + self.read_output())

    def _read(self, process, lines):
        for line in iter(process.stdout.readline, b""):
            with self.changed:
                lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
                self.changed.notify_all()
        process.stdout.close()

    def _wait_listening(self, port):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                probe = socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                time.sleep(0.01)
                continue
            try:
                probe.settimeout(START_TIMEOUT)
                answered_and_closed(probe)
                return True
            except OSError:
                time.sleep(0.01)  # not answered yet: try again while time is left
            finally:
                probe.close()
        self.process.kill()
        self.process.wait()
        return False

    def read_output(self, start=0):
        """The output from line `start` on."""
        with self.changed:
            return "\n".join(self.lines[start:])

    def reset(self, static, uploads):
        """Serve static and uploads for the next test, once the last one's connections
        are closed (upy_launch.py). True when done; False when connections stayed open
        or the process is gone (the caller replaces it)."""
        if self.process.poll() is not None or self.process.stdin.closed:
            return False
        self.resets += 1
        command = {"reset": self.resets, "directory": str(static), "uploads": str(uploads)}
        begin = len(self.lines)
        try:
            self.process.stdin.write(json.dumps(command).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            return False
        ready, busy = "upy_launch: ready %d\n" % self.resets, "upy_launch: busy %d " % self.resets
        deadline = time.monotonic() + RESET_TIMEOUT
        with self.changed:
            while time.monotonic() < deadline:
                for line in self.lines[begin:]:
                    if busy in line:
                        STARTS["replaced busy"] += 1
                        return False
                    if ready in line + "\n":
                        return True
                self.changed.wait(0.1)
            UNANSWERED.append("\n".join(self.lines[begin:][-20:]))
        return False

    def show_output(self, start=0):
        """Print the output from line `start` on (pytest shows it for a failing test)."""
        with self.changed:
            lines = self.lines[start:]
        cut = len(lines) - LOG_TAIL
        print("--- micropython server output%s ---" % (
            " (last %d lines of %d)" % (LOG_TAIL, len(lines)) if cut > 0 else ""))
        print("\n".join(lines[max(cut, 0):]))
        return lines

    def kill(self):
        """Kill the process; its exit status if it had ended by itself, else None."""
        died = self.process.poll()
        if died is None:
            self.process.kill()
        self.process.wait()
        if not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass  # a write the process never read
        return died

    def finish(self, stopped, start=0):
        """Kill the process; print its output since line `start` and fail if it died by
        itself."""
        died = self.kill()
        self.check(died, stopped, start)

    def check(self, died, stopped, start=0):
        lines = self.show_output(start)
        if died is not None and not stopped:
            pytest.fail("the micropython server exited with status %s during the test:\n%s"
                        % (died, "\n".join(lines[-LOG_TAIL:])))


@pytest.fixture(params=KINDS)
def server_kind(request):
    """The kind of server the test runs against (see the module's docstring)."""
    marker = request.node.get_closest_marker("cpython_only")
    if marker is not None and request.param != "cpython":
        pytest.skip("cpython only: " + (marker.args[0] if marker.args else marker.kwargs["reason"]))
    return request.param


@pytest.fixture
def info_level():
    """The server's records at INFO reach the live log, as under run.py (a board's
    logger prints INFO and up)."""
    server_log = logging.getLogger("wsserver")
    level = server_log.level
    server_log.setLevel(logging.INFO)
    yield
    server_log.setLevel(level)


@pytest.fixture
def start_server(server_kind, tmp_path, info_level):
    started = []  # (Running, Subprocess or None)

    def start(**options):
        static = tmp_path / ("static%d" % len(started))
        uploads = tmp_path / ("uploads%d" % len(started))
        static.mkdir()
        uploads.mkdir()
        if server_kind == "cpython":
            options.setdefault("bind", "127.0.0.1")
            logging.getLogger("wsserver").setLevel(options.pop("log_level", logging.INFO))
            server = make_server(port=0, directory=str(static), uploads=str(uploads), **options)
            server.start(POLL_INTERVAL)
            running = Running(server_kind, server.server_address[1], static, uploads, server=server)
            started.append((running, None))
            return running
        process = Subprocess(WORKERS[server_kind], static, uploads, options)
        port = process.start()
        STARTS["fresh"] += 1
        running = Running(server_kind, port, static, uploads, process=process.process,
                          output=process.read_output)
        started.append((running, process))
        return running

    yield start
    for running, process in started:
        if process is None:
            running.server.shutdown()
            running.server.server_close()
        else:
            process.finish(running.stopped)


@pytest.fixture(scope="module")
def shared_processes():
    """{kind: Subprocess} shared by the module's tests that use `server` (see the
    module's docstring); killed after the module's last test."""
    shared = {}
    yield shared
    for process in shared.values():
        process.kill()


@pytest.fixture
def server(request, server_kind, start_server, shared_processes, tmp_path):
    if server_kind == "cpython" or request.node.get_closest_marker("fresh_server"):
        yield start_server()
        return
    static, uploads = tmp_path / "static0", tmp_path / "uploads0"
    static.mkdir()
    uploads.mkdir()
    process = shared_processes.pop(server_kind, None)
    if process is not None and process.reset(static, uploads):
        STARTS["reused"] += 1
        port = process.config["port"]
    else:
        if process is not None:
            process.kill()
        process = Subprocess(WORKERS[server_kind], static, uploads, {})
        port = process.start()
        STARTS["shared"] += 1
    start = len(process.lines)
    running = Running(server_kind, port, static, uploads, process=process.process,
                      output=lambda: process.read_output(start))
    yield running
    died = process.process.poll()
    if running.stopped or died is not None or getattr(request.node, "failed_phase", None):
        process.kill()  # not reused: a fresh process for the next test
    else:
        shared_processes[server_kind] = process
    process.check(died, running.stopped, start)
