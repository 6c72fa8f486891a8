"""Soak: mixed load on one wsserver for a long while, watching its RSS, threads and fds.

Run from the repository root (needs websocket-client, one of the test tools:
`pip install -r requirements.txt`); it is not part of the test run:

    python bench/soak.py                  # 10 minutes, as recorded in docs/benchmarks.md
    python bench/soak.py --duration 60    # a short shake-out

It starts `run.py` as a subprocess on a free port of 127.0.0.1, with a temporary static
folder (three files of 1 KiB, 300 KiB and 8 MiB) and an empty uploads folder, and runs
these clients in threads of this process, each in bounded sessions until the time is up:

- echo: WebSocket /ws/echo with websocket-client, text (multi-byte UTF-8) and binary
  messages of 0 B to 256 KiB, every reply compared with what was sent;
- viewers: /ws/log for 5 to 45 s at a time, then a new connection; every message must
  be a record {"t", "level", "name", "msg"} or a {"dropped": N} notice;
- uploaders: PUT (with Content-Length or chunked), multipart POST of 1 to 3 files and
  raw POST with X-Filename, 0 B to 6 MiB, each read back with GET and a byte range and
  compared by SHA-256; the answer must be the one the contract gives (201 new, 204
  replaced, the JSON list of a POST); now and then a DELETE, then a 404;
- downloaders: the static files whole and in ranges (first-last, suffix, open-ended),
  HEAD, If-None-Match (304), the JSON listing, a missing file (404);
- abrupt: raw sockets that go away mid-request, with FIN or with RST (SO_LINGER 0):
  half an upload (raw or multipart), a download read in part, a WebSocket frame sent
  in part, a viewer reset while its history arrives;
- idle: raw sockets that fall silent: half a request head, a keep-alive connection
  after its answer, a WebSocket that never reads nor answers pings; each goes (FIN or
  RST) after a while, sometimes after the server's timeout has closed it. Those still
  open when the load stops are left open until the server has settled: its timeouts,
  not the clients, must end them.

Every operation is counted by kind, and every error by kind: an exception, an
unexpected status, a wrong byte, a malformed log record; at the end, a temporary or
partial file in the uploads folder, an upload that is not what the uploader left, and
each Traceback or ERROR line in the server's log.

Every --sample seconds it reads the server's VmRSS and Threads (/proc/PID/status) and
its open file descriptors (/proc/PID/fd) and prints a row. The baseline is a sample
taken after a warm-up (--warmup s of the same mix, then quiet), not one before any
load: the first WebSocket starts the poller thread (with its waker socket pair), the
first multipart body imports the multipart module, and the allocator grows to its
working set once; those are one-off costs, not leaks. (The silent clients of the
warm-up are closed before it.) After the load it waits up to --settle s for threads
and fds to be back at the baseline and RSS within --rss-tolerance MiB of it: the
silent connections left open take the server's socket_timeout (30 s) to go, and a
silent WebSocket ping_interval + ping_timeout + close_timeout (45 s, wsmixin.py). It
exits 1 when there was an error or something did not come back, and writes the
figures to bench/results/soak.json.
"""

import argparse
import collections
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import struct
import sys
import threading
import time

import websocket

from benchlib import (HOST, KIB, ROOT, client_frame, count_fds, free_port,
                      make_work, parse_head, read_rss, read_threads, recv_head,
                      save_results, server_cpu, spawn, stop_server, upgrade_request)

RESULTS = os.path.join(ROOT, "bench", "results", "soak.json")
MIB = 1024 * KIB

SOCKET_TIMEOUT = 30             # seconds for any one blocking call of a client
BLOB_SIZE = 8 * MIB             # random bytes every payload is a slice of
MAX_UPLOAD = 6 * MIB
STATIC_FILES = {"small.bin": KIB, "medium.bin": 300 * KIB, "big.bin": 8 * MIB}
NAMES_PER_UPLOADER = 4          # each uploader cycles through its own names
MAX_SESSIONS = 100000           # a bound on every client's loop besides the clock
LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
TEMP_PREFIX = ".upload-"        # wsserver/uploads.py: a temporary upload's name
ABRUPT_PREFIX = "abrupt-"       # names only cut-short uploads use: never stored

# Table columns: ops per second of the kinds whose name starts with the group.
GROUPS = ("echo", "log", "upload", "download", "abrupt", "idle")


class Failure(Exception):
    """A wrong answer; `kind` names it in the error counts."""

    def __init__(self, kind, detail):
        super().__init__("%s: %s" % (kind, detail))
        self.kind = kind


# --------------------------------------------------------------------------
# Counting, from every client thread

class Tally:
    """Operations and errors by kind, with the first few messages of each error kind."""

    EXAMPLES = 3

    def __init__(self):
        self.lock = threading.Lock()
        self.ops = collections.Counter()
        self.errors = collections.Counter()
        self.examples = collections.defaultdict(list)

    def op(self, kind, count=1):
        with self.lock:
            self.ops[kind] += count

    def error(self, kind, message):
        with self.lock:
            self.errors[kind] += 1
            if len(self.examples[kind]) < self.EXAMPLES:
                self.examples[kind].append(message)

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.ops), sum(self.errors.values())


# --------------------------------------------------------------------------
# What the clients share

class Context:
    """One client thread's view: the server, the shared payloads, its own random
    generator (so a --seed run is repeatable per thread), and the stop signal."""

    def __init__(self, port, tally, stop, left_open, blob, text, static, seed, pause):
        self.port = port
        self.left_open = left_open
        self.tally = tally
        self.stop = stop
        self.blob = memoryview(blob)
        self.text = text
        self.static = static
        self.rng = random.Random(seed)
        self.pause_s = pause

    def ws_url(self, path):
        return "ws://%s:%d%s" % (HOST, self.port, path)

    def http(self):
        return http.client.HTTPConnection(HOST, self.port, timeout=SOCKET_TIMEOUT)

    def raw(self):
        return socket.create_connection((HOST, self.port), timeout=SOCKET_TIMEOUT)

    def pause(self):
        """Think time between operations (--pause), cut short by the stop signal."""
        if self.pause_s:
            self.stop.wait(self.pause_s)

    def slice(self, size):
        """`size` random bytes (a view of the blob at a random offset)."""
        start = self.rng.randrange(0, len(self.blob) - size + 1)
        return self.blob[start:start + size]

    def size(self, largest):
        """A size from 0 to `largest`, log-uniform, so that bytes and MiB both come up."""
        if self.rng.random() < 0.05:
            return 0
        return min(largest, int(2 ** self.rng.uniform(0, largest.bit_length())))


def client_loop(kind, session, ctx):
    """Run session(ctx) until the stop signal (at most MAX_SESSIONS times); an exception
    is an error of its kind and the next session starts afresh."""
    for _ in range(MAX_SESSIONS):
        if ctx.stop.is_set():
            return
        try:
            session(ctx)
        except Failure as exc:
            ctx.tally.error(exc.kind, str(exc))
        except Exception as exc:
            if not ctx.stop.is_set():  # a call cut short by the end of the run is no error
                ctx.tally.error("%s: %s" % (kind, type(exc).__name__), repr(exc))
        ctx.pause()


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# WebSocket echo

def echo_payload(ctx):
    """Text or binary, mostly small, now and then up to 256 KiB."""
    roll = ctx.rng.random()
    size = (ctx.rng.randint(0, 125) if roll < 0.7 else
            ctx.rng.randint(126, 16 * KIB) if roll < 0.95 else
            ctx.rng.randint(16 * KIB, 256 * KIB))
    if ctx.rng.random() < 0.5:
        start = ctx.rng.randrange(0, len(ctx.text) - size + 1)
        return ctx.text[start:start + size]
    return bytes(ctx.slice(size))


def echo_session(ctx):
    """One connection: 20 to 400 messages, each reply checked, then the closing handshake."""
    ws = websocket.create_connection(ctx.ws_url("/ws/echo"), timeout=SOCKET_TIMEOUT)
    try:
        for _ in range(ctx.rng.randint(20, 400)):
            if ctx.stop.is_set():
                break
            payload = echo_payload(ctx)
            if isinstance(payload, str):
                ws.send(payload)
            else:
                ws.send_binary(payload)
            reply = ws.recv()
            if reply != payload:
                raise Failure("echo: reply differs", "sent %d %s, got %r..." % (
                    len(payload), type(payload).__name__, reply[:40]))
            ctx.tally.op("echo")
            ctx.pause()
    finally:
        ws.close()


# --------------------------------------------------------------------------
# Live-log viewers

def check_record(message):
    """A live-log message: a record with its four fields, or a dropped-lines notice."""
    if not isinstance(message, str):
        raise Failure("log: binary message", repr(message[:60]))
    value = json.loads(message)
    if set(value) == {"dropped"} and isinstance(value["dropped"], int):
        return "log.dropped-notice"
    if (set(value) != {"t", "level", "name", "msg"} or value["level"] not in LOG_LEVELS
            or not isinstance(value["t"], (int, float)) or not isinstance(value["msg"], str)):
        raise Failure("log: malformed record", message[:200])
    return "log.record"


def viewer_session(ctx):
    """One viewer for 5 to 45 s: the history, then the records as they come (every
    request logs an access line, so records flow all the time; a quiet 5 s ends it)."""
    ws = websocket.create_connection(ctx.ws_url("/ws/log"), timeout=SOCKET_TIMEOUT)
    ctx.tally.op("viewer.connect")
    ws.settimeout(5)
    end = time.monotonic() + ctx.rng.uniform(5, 45)
    try:
        for _ in range(10 ** 7):
            if ctx.stop.is_set() or time.monotonic() > end:
                break
            try:
                message = ws.recv()
            except websocket.WebSocketTimeoutException:
                break  # mid-frame state is unknown now: end the session here
            ctx.tally.op(check_record(message))
    finally:
        ws.close()


# --------------------------------------------------------------------------
# HTTP: requests, checks of what comes back

def exchange(conn, method, path, body=None, headers=None, expect=(200,), kind="http"):
    """One request on a keep-alive connection; (response, its body). A status not in
    `expect` is a Failure of `kind`."""
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    content = response.read()
    if response.status not in expect:
        raise Failure("%s: status %d" % (kind, response.status), "%s %s: %d, expected %s: %r"
                      % (method, path, response.status, expect, content[:100]))
    return response, content


def get_whole(ctx, conn, path, data, kind):
    """GET path; its body must be `data`, byte for byte."""
    _, content = exchange(conn, "GET", path, kind=kind)
    if sha(content) != sha(data):
        raise Failure("%s: bytes differ" % kind, "GET %s: %d bytes, expected %d"
                      % (path, len(content), len(data)))
    ctx.tally.op(kind)


def random_range(rng, size):
    """(Range header, first, stop) of a first-last, suffix or open-ended range."""
    first = rng.randrange(size)
    form = rng.randrange(3)
    if form == 0:
        last = rng.randrange(first, size)
        return "bytes=%d-%d" % (first, last), first, last + 1
    if form == 1:
        count = rng.randint(1, size)
        return "bytes=-%d" % count, size - count, size
    return "bytes=%d-" % first, first, size


def get_range(ctx, conn, path, data, kind="download.range"):
    """GET a random byte range of path: 206, its Content-Range, the right bytes."""
    if not data:
        return
    header, first, stop = random_range(ctx.rng, len(data))
    response, content = exchange(conn, "GET", path, headers={"Range": header},
                                 expect=(206,), kind=kind)
    content_range = "bytes %d-%d/%d" % (first, stop - 1, len(data))
    if response.getheader("content-range") != content_range:
        raise Failure("%s: wrong Content-Range" % kind, "%s: %s, expected %s" % (
            header, response.getheader("content-range"), content_range))
    if sha(content) != sha(data[first:stop]):
        raise Failure("%s: bytes differ" % kind, "GET %s %s" % (path, header))
    ctx.tally.op(kind)


# --------------------------------------------------------------------------
# Uploads, each read back

class Uploads:
    """What one uploader has stored: name -> its bytes (a view of the blob), or None
    while unknown (an upload cut short by an error may or may not have landed)."""

    def __init__(self, number):
        self.number = number
        self.stored = {}

    def name(self, rng, kind):
        return "%s%d-%d.bin" % (kind[0], self.number, rng.randrange(NAMES_PER_UPLOADER))

    def expect_status(self, name):
        """PUT: 201 for a new file, 204 for a replaced one."""
        if name not in self.stored:
            return (201,)
        return (204,) if self.stored[name] is not None else (201, 204)


def multipart_body(ctx, files):
    """A multipart/form-data body of (name, data) files, with a form field in front."""
    boundary = "soak%016x" % ctx.rng.getrandbits(64)
    parts = [b"--%s\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nsoak\r\n"
             % boundary.encode()]
    for name, data in files:
        parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                     b"filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                     % (boundary.encode(), name.encode()))
        parts.append(bytes(data))
        parts.append(b"\r\n")
    parts.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(parts), "multipart/form-data; boundary=" + boundary


def upload_put(ctx, conn, uploads):
    """PUT one file, with Content-Length or chunked: 201 new, 204 replaced."""
    name = uploads.name(ctx.rng, "put")
    data = ctx.slice(ctx.size(MAX_UPLOAD))
    expect = uploads.expect_status(name)
    uploads.stored[name] = None  # unknown until the answer is in
    if ctx.rng.random() < 0.3:
        pieces = [bytes(data[i:i + 64 * KIB]) for i in range(0, len(data), 64 * KIB)]
        kind = "upload.put-chunked"
        exchange(conn, "PUT", "/uploads/" + name, iter(pieces), expect=expect, kind=kind)
    else:
        kind = "upload.put"
        exchange(conn, "PUT", "/uploads/" + name, data, expect=expect, kind=kind)
    uploads.stored[name] = data
    ctx.tally.op(kind)
    return [name]


def upload_post(ctx, conn, uploads):
    """POST 1 to 3 files as multipart/form-data, or one raw body named by X-Filename:
    201 and the JSON list of what was stored."""
    if ctx.rng.random() < 0.7:
        kind = "upload.multipart"
        files = {uploads.name(ctx.rng, "multipart"): ctx.slice(ctx.size(MAX_UPLOAD // 2))
                 for _ in range(ctx.rng.randint(1, 3))}
        body, content_type = multipart_body(ctx, files.items())
        headers = {"Content-Type": content_type}
    else:
        kind = "upload.raw-post"
        files = {uploads.name(ctx.rng, "raw"): ctx.slice(ctx.size(MAX_UPLOAD))}
        (name, body), = files.items()
        headers = {"Content-Type": "application/octet-stream", "X-Filename": name}
    for name in files:
        uploads.stored[name] = None
    _, content = exchange(conn, "POST", "/uploads/", body, headers, (201,), kind)
    stored = [{"name": name, "size": len(data)} for name, data in files.items()]
    if json.loads(content) != stored:
        raise Failure("%s: wrong answer" % kind, "%r, expected %r" % (content[:200], stored))
    uploads.stored.update(files)
    ctx.tally.op(kind)
    return list(files)


def upload_session(ctx, uploads):
    """A keep-alive connection: 5 to 30 uploads, each read back whole and in a range;
    one in ten names deleted (204), then a GET of it must be 404."""
    conn = ctx.http()
    try:
        for _ in range(ctx.rng.randint(5, 30)):
            if ctx.stop.is_set():
                break
            if ctx.rng.random() < 0.5:
                names = upload_put(ctx, conn, uploads)
            else:
                names = upload_post(ctx, conn, uploads)
            for name in names:
                read_back(ctx, conn, uploads, name)
            ctx.pause()
    finally:
        conn.close()


def read_back(ctx, conn, uploads, name):
    path = "/uploads/" + name
    data = uploads.stored[name]
    get_whole(ctx, conn, path, data, "download.readback")
    get_range(ctx, conn, path, data)
    if ctx.rng.random() < 0.1:
        uploads.stored[name] = None
        exchange(conn, "DELETE", path, expect=(204,), kind="upload.delete")
        del uploads.stored[name]
        exchange(conn, "GET", path, expect=(404,), kind="download.deleted")
        ctx.tally.op("upload.delete")


# --------------------------------------------------------------------------
# Downloads of the static files

def download_session(ctx):
    """A keep-alive connection: 10 to 60 of GET whole, GET a range, HEAD, a conditional
    GET (304), the JSON listing, a missing file (404)."""
    conn = ctx.http()
    try:
        for _ in range(ctx.rng.randint(10, 60)):
            if ctx.stop.is_set():
                break
            name, data = ctx.rng.choice(sorted(ctx.static.items()))
            one_download(ctx, conn, "/" + name, data)
            ctx.pause()
    finally:
        conn.close()


def one_download(ctx, conn, path, data):
    roll = ctx.rng.random()
    if roll < 0.35:
        get_whole(ctx, conn, path, data, "download.static")
    elif roll < 0.7:
        get_range(ctx, conn, path, data)
    elif roll < 0.8:
        response, content = exchange(conn, "HEAD", path, kind="download.head")
        if content or response.getheader("content-length") != str(len(data)):
            raise Failure("download.head: wrong head", "HEAD %s: Content-Length %s, "
                          "%d body bytes" % (path, response.getheader("content-length"),
                                             len(content)))
        ctx.tally.op("download.head")
    elif roll < 0.9:
        etag = exchange(conn, "HEAD", path, kind="download.head")[0].getheader("etag")
        exchange(conn, "GET", path, headers={"If-None-Match": etag}, expect=(304,),
                 kind="download.304")
        ctx.tally.op("download.304")
    elif roll < 0.95:
        _, content = exchange(conn, "GET", "/uploads/", headers={"Accept": "application/json"},
                              kind="download.listing")
        if not isinstance(json.loads(content), list):
            raise Failure("download.listing: not a list", content[:200])
        ctx.tally.op("download.listing")
    else:
        exchange(conn, "GET", path + ".missing", expect=(404,), kind="download.missing")
        ctx.tally.op("download.missing")


# --------------------------------------------------------------------------
# Clients that go away mid-request

def vanish(sock, rst):
    """Close; with rst, SO_LINGER 0 makes the kernel send RST instead of FIN."""
    if rst:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def half_upload(ctx, sock, multipart):
    """The head of a PUT (or multipart POST) and half its body, to a name never stored."""
    size = ctx.rng.randint(64 * KIB, 4 * MIB)
    name = "%s%d.bin" % (ABRUPT_PREFIX, ctx.rng.getrandbits(32))
    if multipart:
        body, content_type = multipart_body(ctx, [(name, ctx.slice(size))])
        target = "POST /uploads/"
    else:
        body, content_type = ctx.slice(size), "application/octet-stream"
        target = "PUT /uploads/" + name
    sock.sendall(("%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                  % (target, HOST, ctx.port, content_type, len(body))).encode())
    sock.sendall(body[:len(body) // 2])
    ctx.stop.wait(ctx.rng.uniform(0, 0.2))  # let the server write some of it


def mid_download(ctx, sock):
    """GET the 8 MiB file and read up to 2 MiB of it."""
    sock.sendall(("GET /big.bin HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (HOST, ctx.port)).encode())
    want = ctx.rng.randint(0, 2 * MIB)
    got = 0
    for _ in range(10 ** 5):
        if got >= want:
            break
        chunk = sock.recv(64 * KIB)
        if not chunk:
            raise Failure("abrupt: download ended early", "%d of %d bytes" % (got, want))
        got += len(chunk)


def upgraded(ctx, sock, path):
    """The WebSocket handshake on a raw socket; the bytes that came after the 101."""
    sock.sendall(upgrade_request(path, ctx.port))
    data = recv_head(sock, 64 * KIB, lambda data: "closed before 101: %r" % data[:100],
                     "handshake answer too long")
    _, lines, _, rest = parse_head(data)
    if lines[0].split()[1] != "101":
        raise Failure("abrupt: no 101", lines[0])
    return rest


def mid_ws_frame(ctx, sock):
    """An echo message, then a binary frame whose payload stops part way."""
    upgraded(ctx, sock, "/ws/echo")
    sock.sendall(client_frame(0x1, b"before the cut"))
    size = ctx.rng.randint(2, 200 * KIB)
    head = bytearray(client_frame(0x2, bytes(ctx.slice(size))))
    sock.sendall(head[:ctx.rng.randint(1, len(head) - 1)])


def viewer_reset(ctx, sock):
    """A viewer that reads a little of the history and goes."""
    upgraded(ctx, sock, "/ws/log")
    sock.recv(ctx.rng.randint(1, 16 * KIB))


ABRUPT = {
    "half-put": lambda ctx, sock: half_upload(ctx, sock, multipart=False),
    "half-multipart": lambda ctx, sock: half_upload(ctx, sock, multipart=True),
    "mid-download": mid_download,
    "mid-ws-frame": mid_ws_frame,
    "viewer-reset": viewer_reset,
}


def abrupt_session(ctx):
    """One raw connection, cut short one way or another, closed with FIN or RST."""
    name = ctx.rng.choice(sorted(ABRUPT))
    rst = ctx.rng.random() < 0.5
    sock = ctx.raw()
    try:
        ABRUPT[name](ctx, sock)
    finally:
        vanish(sock, rst)
    ctx.tally.op("abrupt.%s %s" % (name, "rst" if rst else "fin"))


# --------------------------------------------------------------------------
# Clients that fall silent: the server's timeouts must end them

def stalled_head(ctx, sock):
    """Half a request head, then silence (socket_timeout, 30 s, ends it)."""
    sock.sendall(("GET /small.bin HTTP/1.1\r\nHost: %s:%d\r\nUser-Ag"
                  % (HOST, ctx.port)).encode())
    return 40


def idle_keepalive(ctx, sock):
    """A request answered, then a silent keep-alive connection (socket_timeout ends it)."""
    sock.sendall(("GET /small.bin HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (HOST, ctx.port)).encode())
    _, lines, _, _ = parse_head(recv_head(
        sock, 64 * KIB, lambda data: "closed before the answer: %r" % data[:100], "head too long"))
    if lines[0].split()[1] != "200":
        raise Failure("idle: status %s" % lines[0].split()[1], lines[0])
    return 40


def silent_ws(ctx, sock):
    """A WebSocket that neither reads nor answers the keepalive ping (ping_interval +
    ping_timeout, 40 s, then close_timeout, 5 s, end it)."""
    upgraded(ctx, sock, "/ws/echo")
    return 60


IDLE = {"stalled-head": stalled_head, "idle-keepalive": idle_keepalive,
        "silent-ws": silent_ws}


def idle_session(ctx):
    """One connection that falls silent for up to the time its kind names, then goes
    with FIN or RST; when the run stops first it is left open (`ctx.left_open`): the
    settle period then waits for the server to time it out, as it must."""
    name = ctx.rng.choice(sorted(IDLE))
    rst = ctx.rng.random() < 0.5
    sock = ctx.raw()
    try:
        longest = IDLE[name](ctx, sock)
    except BaseException:
        vanish(sock, rst)
        raise
    if ctx.stop.wait(ctx.rng.uniform(0.5, longest)):
        ctx.left_open.append(sock)
        ctx.tally.op("idle.%s left open" % name)
        return
    vanish(sock, rst)
    ctx.tally.op("idle.%s %s" % (name, "rst" if rst else "fin"))


# --------------------------------------------------------------------------
# Client threads

def client_kinds(args, uploads):
    """(kind, session) for every client thread to run, as many of each as asked."""
    kinds = [("echo", echo_session)] * args.echo + [("viewer", viewer_session)] * args.viewers
    kinds += [("upload", lambda ctx, u=u: upload_session(ctx, u)) for u in uploads]
    kinds += [("download", download_session)] * args.downloaders
    kinds += [("abrupt", abrupt_session)] * args.abrupt
    kinds += [("idle", idle_session)] * args.idle
    return kinds


def start_clients(args, port, tally, left_open, payloads, uploads, seed):
    """Start every client thread; (threads, the stop event that ends them)."""
    stop = threading.Event()
    threads = []
    for number, (kind, session) in enumerate(client_kinds(args, uploads)):
        ctx = Context(port, tally, stop, left_open, *payloads, seed=seed * 1000 + number,
                      pause=args.pause)
        thread = threading.Thread(target=client_loop, args=(kind, session, ctx),
                                  name="%s-%d" % (kind, number), daemon=True)
        thread.start()
        threads.append(thread)
    return threads, stop


def stop_clients(threads, stop, tally, limit=SOCKET_TIMEOUT + 15):
    """Signal the stop and wait (at most `limit` s in all); a client still running
    then is an error: some call of it outlived its timeout."""
    stop.set()
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0, deadline - time.monotonic()))
        if thread.is_alive():
            tally.error("client did not stop", thread.name)


def close_all(sockets):
    """Close the sockets left open by silent clients, and forget them."""
    for sock in sockets:
        sock.close()
    del sockets[:]


def make_payloads(static):
    """The random blob, a text of 1- to 4-byte UTF-8 characters, and the static files
    (written to `static` and kept here to check downloads against)."""
    blob = os.urandom(BLOB_SIZE)
    alphabet = "abc xyz 0123 é ß € 漢字 🙂 \u00a0\n"
    rng = random.Random(1)
    text = "".join(rng.choice(alphabet) for _ in range(300 * KIB))
    files = {}
    for name, size in STATIC_FILES.items():
        files[name] = blob[-size:]
        with open(os.path.join(static, name), "wb") as out:
            out.write(files[name])
    return blob, text, files


# --------------------------------------------------------------------------
# The server's process, sampled

class Monitor:
    """Samples of the server (RSS, threads, fds, CPU) with the operation counts at that
    moment; prints a row for each one it shows."""

    HEAD = "%7s  %-8s" + " %9s" * len(GROUPS) + " %6s %8s %7s %5s %5s"

    def __init__(self, proc, tally):
        self.proc = proc
        self.tally = tally
        self.start = time.monotonic()
        self.samples = []
        self.shown = None

    def take(self, phase, show=True):
        ops, errors = self.tally.snapshot()
        sample = {"t": time.monotonic() - self.start, "phase": phase,
                  "rss": read_rss(self.proc.pid)[0], "threads": read_threads(self.proc.pid),
                  "fds": count_fds(self.proc.pid), "cpu": server_cpu(self.proc.pid),
                  "ops": ops, "errors": errors}
        self.samples.append(sample)
        if show:
            self.show(sample)
        return sample

    def show(self, sample):
        if self.shown is None:
            print(self.HEAD % (("t (s)", "phase") + tuple(g + "/s" for g in GROUPS)
                               + ("errors", "RSS MiB", "threads", "fds", "CPU%")))
            self.shown = sample
        rates = rates_between(self.shown, sample)
        busy = cpu_percent(self.shown, sample)
        print(self.HEAD % (("%.0f" % sample["t"], sample["phase"])
                           + tuple("%.1f" % rates[g] for g in GROUPS)
                           + (sample["errors"], "%.1f" % (sample["rss"] / MIB),
                              sample["threads"], sample["fds"], "%.0f" % busy)), flush=True)
        self.shown = sample

    def load_samples(self):
        return [s for s in self.samples if s["phase"] == "load"]


def rates_between(before, after):
    """Operations per second of each group between two samples."""
    seconds = max(after["t"] - before["t"], 1e-9)
    rates = {}
    for group in GROUPS:
        count = sum(n - before["ops"][kind] for kind, n in after["ops"].items()
                    if kind.startswith(group) and not kind.endswith("dropped-notice"))
        rates[group] = count / seconds
    return rates


def cpu_percent(before, after):
    """The server's CPU between two samples, in % of one core."""
    return 100 * (after["cpu"] - before["cpu"]) / max(after["t"] - before["t"], 1e-9)


def run_load(monitor, args, seconds, phase, clients):
    """Let the clients run for `seconds`, sampling every --sample s; stop them."""
    threads, stop = clients
    end = time.monotonic() + seconds
    for _ in range(int(seconds / args.sample) + 2):
        left = end - time.monotonic()
        if left <= 0 or monitor.proc.poll() is not None:
            break
        time.sleep(min(args.sample, left))
        if monitor.proc.poll() is None:
            monitor.take(phase)
    if monitor.proc.poll() is not None:
        monitor.tally.error("server exited", "exit status %s" % monitor.proc.returncode)
    stop_clients(threads, stop, monitor.tally)


def settle(monitor, args, phase, done):
    """Sample every second until done(sample) (at most --settle s); the last sample.
    Shows a row every --sample s and the last one."""
    last_shown = time.monotonic()
    sample = monitor.take(phase)
    for _ in range(int(args.settle) + 1):
        if done(sample) or monitor.proc.poll() is not None:
            break
        time.sleep(1)
        show = time.monotonic() - last_shown >= args.sample
        sample = monitor.take(phase, show)
        last_shown = time.monotonic() if show else last_shown
    if monitor.shown is not sample:
        monitor.show(sample)
    return sample


def steady(monitor, count=3):
    """done() for the baseline: threads and fds the same over `count` samples."""
    def done(_sample):
        recent = monitor.samples[-count:]
        return len(recent) == count and len({(s["threads"], s["fds"]) for s in recent}) == 1
    return done


def back_to(baseline, tolerance):
    """done() after the load: threads and fds at most the baseline's, RSS within
    `tolerance` bytes of it."""
    def done(sample):
        return (sample["threads"] <= baseline["threads"] and sample["fds"] <= baseline["fds"]
                and sample["rss"] <= baseline["rss"] + tolerance)
    return done


# --------------------------------------------------------------------------
# What must hold at the end

def check_uploads(folder, uploads, tally):
    """Every file of the uploads folder is what its uploader left there, byte for
    byte; no temporary file, no upload cut short, nothing missing."""
    expected = {}
    for each in uploads:
        expected.update(each.stored)
    present = set(os.listdir(folder))
    for name in sorted(present):
        if name.startswith(TEMP_PREFIX):
            tally.error("leftover: temporary file", name)
        elif name.startswith(ABRUPT_PREFIX):
            tally.error("leftover: cut-short upload stored", name)
        elif name not in expected:
            tally.error("leftover: unexpected file", name)
        elif expected[name] is not None:
            with open(os.path.join(folder, name), "rb") as file:
                if sha(file.read()) != sha(expected[name]):
                    tally.error("leftover: stored file differs", name)
    for name, data in expected.items():
        if data is not None and name not in present:
            tally.error("leftover: upload missing", name)


def check_log(log_path, tally):
    """Each Traceback and each ERROR line the server logged is an error."""
    with open(log_path, "rb") as log:
        for line in log:
            text = line.decode("utf-8", "replace").rstrip()
            if text.startswith("Traceback"):
                tally.error("server log: Traceback", text)
            elif " ERROR " in text or " CRITICAL " in text:
                tally.error("server log: ERROR line", text[:300])


def check_settled(baseline, after, tolerance, tally):
    """Threads and fds back at the baseline, RSS within the tolerance."""
    if after["threads"] > baseline["threads"]:
        tally.error("not back: threads", "%d, baseline %d" % (after["threads"],
                                                                baseline["threads"]))
    if after["fds"] > baseline["fds"]:
        tally.error("not back: fds", "%d, baseline %d" % (after["fds"], baseline["fds"]))
    if after["rss"] > baseline["rss"] + tolerance:
        tally.error("not back: RSS", "%.1f MiB, baseline %.1f MiB + %.1f" % (
            after["rss"] / MIB, baseline["rss"] / MIB, tolerance / MIB))


# --------------------------------------------------------------------------
# Report

def condensed_rows(monitor, baseline, after, window):
    """Markdown rows: the baseline, the load every `window` s, the peak, after settle."""
    def row(label, sample, before):
        rates = rates_between(before, sample) if before else dict.fromkeys(GROUPS)
        cells = [label] + ["%.1f" % rates[g] if rates[g] is not None else "" for g in GROUPS]
        cells += [str(sample["errors"]), "%.1f" % (sample["rss"] / MIB),
                  str(sample["threads"]), str(sample["fds"])]
        return "| " + " | ".join(cells) + " |"

    heading = (["t (s)"] + ["%s/s" % g for g in GROUPS]
               + ["errors", "RSS MiB", "threads", "fds"])
    lines = ["| " + " | ".join(heading) + " |",
             "|" + " ---: |" * len(heading),
             row("baseline (%.0f)" % baseline["t"], baseline, None)]
    before, mark = baseline, baseline["t"] + window
    load = monitor.load_samples()
    for sample in load:
        if sample["t"] >= mark - 1 or sample is load[-1]:
            lines.append(row("%.0f" % (sample["t"] - baseline["t"]), sample, before))
            before, mark = sample, sample["t"] + window
    lines.append(row("after settle (+%.0f)" % (after["t"] - load[-1]["t"]), after, None)
                 if load else row("after settle", after, None))
    return lines


def peaks(monitor):
    """Highest RSS, threads and fds under load."""
    load = monitor.load_samples() or monitor.samples
    return {key: max(s[key] for s in load) for key in ("rss", "threads", "fds")}


def describe(sample):
    return "RSS %.1f MiB, %d threads, %d fds" % (sample["rss"] / MIB, sample["threads"],
                                                  sample["fds"])


def report(monitor, tally, baseline, after, args, stopped):
    ops, _ = tally.snapshot()
    top = peaks(monitor)
    load = monitor.load_samples()
    seconds = load[-1]["t"] - baseline["t"] if load else 0
    print("\n## Over time (every %d s of the load)\n" % args.table_every)
    print("\n".join(condensed_rows(monitor, baseline, after, args.table_every)))
    print("\n## Totals over %.0f s of load (and %.0f s of warm-up)\n" % (seconds, args.warmup))
    print("| operation | count |\n| --- | ---: |")
    for kind in sorted(ops):
        print("| %s | %s |" % (kind, format(ops[kind], ",")))
    print("\nServer: before any load %s; baseline %s; peak under load %s; after settle %s."
          % (describe(monitor.samples[0]), describe(baseline), describe(top), describe(after)))
    print("Server stop: %s." % stopped)
    print("\n## Errors\n")
    if not tally.errors:
        print("none")
    for kind, count in sorted(tally.errors.items()):
        print("- %s: %d (%s)" % (kind, count, "; ".join(tally.examples[kind])))
    verdict = "PASS" if not tally.errors else "FAIL"
    print("\nVerdict: %s: %d errors; after %.0f s of settling threads %d (baseline %d), fds %d "
          "(%d), RSS %.1f MiB (%.1f, tolerance +%.1f)" % (
              verdict, sum(tally.errors.values()), after["t"] - load[-1]["t"] if load else 0,
              after["threads"], baseline["threads"], after["fds"], baseline["fds"],
              after["rss"] / MIB, baseline["rss"] / MIB, args.rss_tolerance))
    return verdict


def save(monitor, tally, baseline, after, args, verdict):
    samples = [dict(s, ops=dict(s["ops"])) for s in monitor.samples]
    save_results(RESULTS, args.duration < 600, {
        "args": vars(args), "python": sys.version, "cpus": os.cpu_count(),
        "verdict": verdict, "baseline": dict(baseline, ops=None), "after": dict(after, ops=None),
        "peaks": peaks(monitor), "ops": dict(tally.ops), "errors": dict(tally.errors),
        "error_examples": dict(tally.examples), "samples": samples})


# --------------------------------------------------------------------------

# (option, default, what it sets): seconds and MiB, then client threads of each kind.
SETTINGS = (
    ("--duration", 600.0, "seconds of load"),
    ("--warmup", 60.0, "seconds of the same load before the baseline (the allocator's "
                       "working set grows through the first minutes of load)"),
    ("--sample", 5.0, "seconds between samples of the server"),
    ("--settle", 120.0, "at most this many seconds for the server to come back to its "
                        "baseline after the load"),
    ("--rss-tolerance", 8.0, "MiB by which RSS after settling may exceed the baseline"),
    ("--pause", 0.0, "seconds of think time of each client between operations"),
    ("--table-every", 60, "seconds of load per row of the final table"),
    ("--echo", 3, "WebSocket echo clients"),
    ("--viewers", 3, "live-log viewers"),
    ("--uploaders", 2, "upload clients"),
    ("--downloaders", 2, "download clients"),
    ("--abrupt", 2, "clients that disconnect mid-request"),
    ("--idle", 4, "clients that fall silent and are left to the server's timeouts"),
    ("--seed", 1, "seed of the clients' random choices"),
)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    for option, default, what in SETTINGS:
        parser.add_argument(option, type=type(default), default=default,
                            help="%s (default %%(default)s)" % what)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (server log, uploads)")
    return parser.parse_args()


def main():
    args = parse_args()
    work, static, uploads_dir = make_work("wssoak-")
    log_path = os.path.join(work, "server.log")
    payloads = make_payloads(static)
    tally = Tally()
    left_open = []  # sockets of silent clients, closed only once the server settled
    uploads = [Uploads(n) for n in range(args.uploaders)]
    port = free_port()
    proc = spawn([sys.executable, os.path.join(ROOT, "run.py"), str(port), "-b", HOST,
                  "-d", static, "--uploads", uploads_dir], log_path, port)
    stopped = "not stopped"
    try:
        monitor = Monitor(proc, tally)
        monitor.take("start")
        run_load(monitor, args, args.warmup, "warm-up",
                 start_clients(args, port, tally, left_open, payloads, uploads, args.seed))
        close_all(left_open)
        baseline = settle(monitor, args, "quiet", steady(monitor))
        monitor.samples[-1]["phase"] = "baseline"
        run_load(monitor, args, args.duration, "load",
                 start_clients(args, port, tally, left_open, payloads, uploads, args.seed + 1))
        tolerance = args.rss_tolerance * MIB
        after = settle(monitor, args, "settle", back_to(baseline, tolerance))
        check_settled(baseline, after, tolerance, tally)
        check_uploads(uploads_dir, uploads, tally)
    finally:
        stopped = stop_server(proc)
        close_all(left_open)
    check_log(log_path, tally)
    if any(name.startswith(TEMP_PREFIX) for name in os.listdir(uploads_dir)):
        tally.error("leftover: temporary file after the server stopped", uploads_dir)
    verdict = report(monitor, tally, baseline, after, args, stopped)
    save(monitor, tally, baseline, after, args, verdict)
    if args.keep:
        print("Kept: %s (server log: %s)" % (work, log_path))
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
