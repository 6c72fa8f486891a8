"""Live-log benchmark: wsserver's /ws/log against python-websockets, simple-websocket
and websocket-server broadcasting to many viewers.

Run from the repository root (needs `pip install -r bench/requirements.txt`):

    python bench/livelog_bench.py            # full run (a few minutes)
    python bench/livelog_bench.py --quick    # smoke run: 2,000 records, 1 run, 100 held

Every server runs as a subprocess on 127.0.0.1 with a free port (bench/peers/):

- wsserver (wsserver_livelog.py): `wsserver.server.make_server(...)` with the real
  handler; viewers at /ws/log; a subclass adds bench-only GET routes (/bench/publish
  starts a thread that calls logging.getLogger("bench").info("bench-seq=%08d %s", i,
  pad) N times, as fast as it can). The root logger is at INFO with no handler but the
  live log's: every record reaches the hub, nothing is printed per record.
- websockets (livelog_websockets.py): asyncio server, `websockets.broadcast()` of each
  record to every connection, yielding to the loop every 64 records (and while a
  connection holds over 1 MiB unsent: broadcast() has no backpressure);
- simple-websocket (livelog_simple_websocket.py): under Werkzeug's threaded WSGI
  server, as Flask-Sock runs it; a broadcast is a loop of `ws.send` over the viewers;
- websocket-server (livelog_websocket_server.py): `send_message_to_all`;
- blaster (livelog_blaster.py), the reference: one epoll loop that writes a buffer of
  records encoded once in advance to every viewer: the viewers' own ceiling.

The peers broadcast the same record as wsserver's live log, JSON text frames
{"t", "level", "name", "msg"} whose msg is the 64-byte "bench-seq=NNNNNNNN xxx...",
encoded once per record. Measured, in this order:

1. held viewers (a fresh server process): VmRSS idle after a warm-up (20 viewers, 100
   records), then with --held viewers connected to /ws/log, idle: (RSS - idle) / held
   in KiB per viewer; then 100 records, checked at every viewer. wsserver runs here
   with its defaults (log_history 200, queue_length 1000).
2. broadcast (a fresh server process; wsserver with log_history 10 and queue_length
   records + 1000, so that no healthy viewer is dropped a record): 50 viewers, then
   N records of 64 bytes published as fast as the server can: deliveries/s = N x 50 /
   (last delivery - first publish), best of --runs; each viewer checks that it got
   every record, in order (count and sequence numbers), and reports the monotonic
   time of its last one (CLOCK_MONOTONIC is one clock for every process here).
3. wsserver only, same process: the cost of one logging.info call, timed in the server
   (perf_counter_ns around each of --calls calls, back to back, in the /bench/cost
   request's thread): with 0 viewers, 50 viewers, and 50 viewers plus one stalled
   viewer (a raw socket, SO_RCVBUF 4 KiB, that does the handshake and never reads; it
   subscribes with a queue of 1000 records, the default). Before the timed calls,
   40,000 records of another run fill its socket buffers (the server's send buffer
   grows to 4 MiB on loopback) and its queue, so that every timed call finds it full
   and drops its oldest record. The healthy viewers must get every record; the
   stalled one is read afterwards (what it was kept must still be in order).
4. Every server, same process: 10 viewers that reset their connections (SO_LINGER 0)
   while records flow to them, up to 3 rounds: are they dropped within 5 s, and is a
   new viewer still served? Tracebacks the servers print are shown.
5. With --profile, wsserver only: one more broadcast of 100,000 records under
   `py-spy record --gil` (the thread holding the GIL, 250 Hz): the share of samples of
   each function, inclusive, per thread (publisher: the logging.info loop; poller).

Viewers are raw sockets in --procs client processes (epoll, 256 KiB recv, a minimal
frame walk, sequence numbers found by one regex per recv); they answer pings and end
with the closing handshake. The
server is pinned to the last CPU and the client processes to the first (--no-pin to
let the scheduler place them). Server CPU is read from /proc/PID/stat, the clients'
from their own getrusage.

It prints Markdown tables, the ratios of wsserver to each peer and the targets, and
writes the raw figures to bench/results/livelog.json. KiB is 1024 bytes, MB 10**6.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import re
import select
import shutil
import socket
import struct
import sys
import time

from benchlib import (ACCEPT, ALL_CPUS, HOST, KIB, MB, PEERS, ROOT, apply_settings,
                      client_frame, fmt, free_port, machine_busy, make_work, own_cpu,
                      peer_argv, pin, popen, raise_nofile, ratio, read_rss, read_threads,
                      save_results, server_cpu, spawn, stop_server, tail, unpin,
                      upgrade_request, wait_quiet, wanted_servers)
import benchlib

RESULTS = os.path.join(ROOT, "bench", "results", "livelog.json")

PATH = "/ws/log"
SIZE = 64                   # bytes of each record's message
VIEWERS = 50
RECV = 256 * 1024
SOCKET_TIMEOUT = 15         # seconds for a blocking connect / handshake
CONTROL_TIMEOUT = 120       # seconds for a bench route to answer (/bench/cost runs long)
CLOSE_TIMEOUT = 5           # seconds for the closing handshakes of one client process
STALLED_RCVBUF = 4096
STALLED_QUEUE = 1000        # wsserver's default queue_length, for the stalled viewer
PREFILL = 40000             # records (about 5.5 MB) that fill the stalled viewer's buffers
RESET_VIEWERS = 10          # viewers that reset their connections while records flow
RESET_RECORDS = 20000
RESET_ROUNDS = 3
PROFILE_RECORDS = 100000
WARM_RECORDS = 100
OTHER_LIMIT = 15            # % of one core other processes may use during a timed run
DROPPED = re.compile(rb'"dropped": (\d+)')

FULL = {"records": 20000, "runs": 3, "calls": 10000, "held": 500, "quiet_wait": 30,
        "attempts": 3}
QUICK = {"records": 2000, "runs": 1, "calls": 2000, "held": 100, "quiet_wait": 10,
         "attempts": 1}


# --------------------------------------------------------------------------
# The servers

class Server(benchlib.Server):
    """`argv`: a function (port, control port, mode, args) -> argv list."""

    def __init__(self, name, argv, note, control="same", reference=False):
        super().__init__(name, argv, note)
        self.control = control      # "same" port for the bench routes, or "separate"
        self.reference = reference

    def command(self, port, cport, mode, args):
        return super().command(port, str(cport), mode, args)


def wsserver_argv(p, c, mode, args):
    argv = [os.path.join(PEERS, "wsserver_livelog.py"), p, "-b", HOST,
            "-d", args.static, "--uploads", args.uploads]
    if mode == "broadcast":
        queue = max(args.records, args.calls, PREFILL) + 1000
        argv += ["--log-history", "10", "--queue-length", str(queue)]
    return argv  # held: the defaults, log_history 200 and queue_length 1000


def peer(script, *extra):
    return lambda p, c, mode, args: peer_argv(script, p, *[
        c if x == "CPORT" else x for x in extra])


SERVERS = [
    Server("blaster", peer("livelog_blaster.py"),
           "reference (client ceiling): records encoded once in advance into one buffer, "
           "written to every viewer from one epoll loop", reference=True),
    Server("wsserver", wsserver_argv,
           "make_server() + bench routes; logging.info() from one thread; root logger at "
           "INFO, no console handler (only the live log's); broadcast run with "
           "log_history 10, queue_length records + 1000; held run with the defaults"),
    Server("websockets", peer("livelog_websockets.py"),
           "asyncio server, websockets.broadcast() per record, sleep(0) every 64 records "
           "and while a transport holds > 1 MiB"),
    Server("simple-websocket", peer("livelog_simple_websocket.py"),
           "Werkzeug threaded WSGI server + Server.accept(environ) (as Flask-Sock); "
           "ws.send() loop per record; 2 threads per viewer"),
    Server("websocket-server", peer("livelog_websocket_server.py", "--control-port", "CPORT"),
           "ThreadingMixIn, a thread per viewer; send_message_to_all() per record; bench "
           "routes on a second port", control="separate"),
]


def versions():
    from importlib.metadata import version
    names = ("websockets", "simple-websocket", "wsproto", "werkzeug", "websocket-server")
    found = []
    for name in names:
        try:
            found.append("%s %s" % (name, version(name)))
        except Exception:
            found.append("%s ?" % name)
    return ", ".join(found)


def start_server(server, mode, args, log_path):
    """Start a server, wait for its URL line; return (process, port, control port)."""
    port = free_port()
    cport = free_port() if server.control == "separate" else port
    proc = spawn(server.command(port, cport, mode, args), log_path, port,
                 heading="--- %s (%s)\n" % (server.name, mode), control_port=cport)
    return proc, port, cport


def control(cport, target, timeout=CONTROL_TIMEOUT):
    """GET a bench route; its JSON answer."""
    conn = http.client.HTTPConnection(HOST, cport, timeout=timeout)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError("%s: %d %r" % (target, response.status, body[:200]))
        return json.loads(body)
    finally:
        conn.close()


def publish(cport, records, run):
    """Start a publish run; the server's time.monotonic() of its first record."""
    start = control(cport, "/bench/publish?n=%d&size=%d&run=%d" % (records, SIZE, run))["start"]
    if start is None:
        raise RuntimeError("the server refused to publish (a publish still running)")
    return start


def wait_viewers(cport, count, seconds=30):
    """Wait until the server counts `count` viewers; the count it had last."""
    deadline = time.monotonic() + seconds
    while True:
        seen = control(cport, "/bench/viewers")["viewers"]
        if seen == count:
            return seen
        if time.monotonic() > deadline:
            raise RuntimeError("server counts %d viewers, expected %d after %d s"
                               % (seen, count, seconds))
        time.sleep(0.05)


# --------------------------------------------------------------------------
# Viewers: raw sockets, minimal frame walk

def open_viewer(port, rcvbuf=None):
    """Connect and upgrade to /ws/log; (socket, bytes past the 101)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(SOCKET_TIMEOUT)
        sock.connect((HOST, port))
        sock.sendall(upgrade_request(PATH, port))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096 if rcvbuf else 65536)
            if not chunk:
                raise RuntimeError("handshake: closed after %r" % data[:200])
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0] or ACCEPT.encode() not in head:
            raise RuntimeError("handshake: %r" % head[:300])
        return sock, rest
    except BaseException:
        sock.close()
        raise


def run_pattern(run):
    """The records of one publish run: "bench-RRRR-seq=NNNNNNNN"; older runs' records (a
    new viewer gets the history first) are other frames."""
    return re.compile(rb"bench-%04d-seq=(\d{8})" % run)


class Runs:
    """Every publish gets a run number of its own."""
    last = 0

    @classmethod
    def next(cls):
        cls.last += 1
        return cls.last


class Viewer:
    """What one viewer received: record count, order, other frames, end time."""

    __slots__ = ("sock", "seq", "tail", "next", "count", "frames", "bad", "first_bad",
                 "done_at", "eof", "dropped", "pings", "closed", "bytes", "first_seq", "last_at")

    def __init__(self, sock, rest, run):
        self.sock = sock
        self.seq = run_pattern(run)
        self.tail = rest
        self.next = None        # sequence number expected next (None: take the first)
        self.count = 0          # bench records received
        self.frames = 0         # every frame
        self.bad = 0            # records out of order
        self.first_bad = None
        self.done_at = None
        self.eof = False
        self.dropped = 0        # sum of {"dropped": n} notices
        self.pings = 0
        self.closed = None      # close code from the server
        self.bytes = 0
        self.first_seq = None
        self.last_at = None

    def feed(self, data, strict=True):
        """Walk the frames of tail + data; check the sequence numbers they carry.

        strict: the first record must be number 0 (a stalled viewer may lose some).
        """
        if self.tail:
            data = self.tail + data
        pos, end = 0, len(data)
        frames = 0
        while end - pos >= 2:
            length = data[pos + 1] & 0x7F
            if length < 126:
                stop = pos + 2 + length
            elif length == 126:
                if end - pos < 4:
                    break
                stop = pos + 4 + ((data[pos + 2] << 8) | data[pos + 3])
            else:
                if end - pos < 10:
                    break
                stop = pos + 10 + int.from_bytes(data[pos + 2:pos + 10], "big")
            if stop > end:
                break
            opcode = data[pos] & 0x0F
            if opcode != 1:
                self.control_frame(opcode, data[stop - length:stop] if length < 126 else b"")
            frames += 1
            pos = stop
        self.tail = data[pos:]
        self.frames += frames
        found = self.seq.findall(data, 0, pos)
        if found:
            numbers = list(map(int, found))
            if self.first_seq is None:
                self.first_seq = numbers[0]
            if strict:
                first = self.next or 0
                if numbers != list(range(first, first + len(numbers))):
                    wrong = [(first + i, n) for i, n in enumerate(numbers) if n != first + i]
                    self.bad += len(wrong)
                    self.first_bad = self.first_bad or wrong[0]
            else:  # a viewer that lost records: what it got must still increase
                previous = [self.next - 1] if self.next is not None else []
                pairs = zip(previous + numbers, numbers[len(previous) == 0:])
                self.bad += sum(1 for a, b in pairs if b <= a)
            self.next = numbers[-1] + 1
            self.count += len(numbers)
        if b'"dropped"' in data:
            self.dropped += sum(int(n) for n in DROPPED.findall(data, 0, pos))

    def control_frame(self, opcode, payload):
        if opcode == 0x9:
            self.pings += 1
            try:
                self.sock.send(client_frame(0xA, payload))
            except OSError:
                pass
        elif opcode == 0x8:
            self.closed = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005

    def summary(self):
        return {"count": self.count, "bad": self.bad, "first_bad": self.first_bad,
                "frames": self.frames, "dropped": self.dropped, "eof": self.eof,
                "closed": self.closed, "pings": self.pings, "bytes": self.bytes,
                "done_at": self.done_at, "first_seq": self.first_seq}


def viewer_process(pipe, port, count, expect, run, timeout):
    """Client process: `count` viewers; 'done' once each got `expect` records; runs until
    the parent says 'stop' (or timeout), then sends its viewers' summaries."""
    viewers = []
    try:
        for _ in range(count):
            viewers.append(Viewer(*open_viewer(port), run))
    except Exception as exc:
        pipe.send(("error", "connect %d/%d: %s: %s" % (len(viewers) + 1, count,
                                                      type(exc).__name__, exc)))
        for v in viewers:
            v.sock.close()
        return
    poller = select.epoll()
    by_fd = {}
    for v in viewers:
        v.sock.setblocking(False)
        by_fd[v.sock.fileno()] = v
        poller.register(v.sock.fileno(), select.EPOLLIN)
        if v.tail:
            data, v.tail = v.tail, b""
            v.bytes += len(data)
            v.feed(data)
    poller.register(pipe.fileno(), select.EPOLLIN)
    cpu0, wall0 = own_cpu(), time.monotonic()
    pipe.send(("ready", count))
    waiting = sum(1 for v in viewers if not (expect and v.count >= expect))
    done_sent = not expect
    deadline = time.monotonic() + timeout
    stop = None
    monotonic = time.monotonic
    while not stop and monotonic() < deadline:
        if not done_sent and waiting == 0:
            pipe.send(("done", own_cpu() - cpu0, monotonic() - wall0))
            done_sent = True
        for fd, _ in poller.poll(0.5):
            v = by_fd.get(fd)
            if v is None:
                stop = pipe.recv()  # "stop" or "reset"
                continue
            try:
                data = v.sock.recv(RECV)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                v.eof = True
                poller.unregister(fd)
                del by_fd[fd]
                if expect and v.done_at is None:
                    v.done_at = -1.0
                    waiting -= 1
                continue
            v.bytes += len(data)
            v.last_at = monotonic()
            v.feed(data)
            if expect and v.done_at is None and v.count >= expect:
                v.done_at = v.last_at
                waiting -= 1
    cpu = own_cpu() - cpu0
    if stop == "reset":
        for v in viewers:
            v.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            v.sock.close()
        unclosed = 0
    else:
        unclosed = close_gracefully(viewers, CLOSE_TIMEOUT)
    pipe.send(("result", {"viewers": [v.summary() for v in viewers], "cpu_s": cpu,
                          "wall_s": time.monotonic() - wall0, "timed_out": not stop,
                          "unclosed": unclosed}))


def close_gracefully(viewers, seconds):
    """The closing handshake: a close frame from each viewer, then read (and drop) what
    comes until the server's end of stream; the number of viewers still open after
    `seconds` (closed anyway). Closing with unread bytes would reset the connection."""
    poller = select.epoll()
    live = {}
    for v in viewers:
        try:
            if not v.eof:
                v.sock.send(client_frame(0x8, struct.pack(">H", 1000)))
                live[v.sock.fileno()] = v
                poller.register(v.sock.fileno(), select.EPOLLIN)
                continue
        except OSError:
            pass
        v.sock.close()
    deadline = time.monotonic() + seconds
    while live and time.monotonic() < deadline:
        for fd, _ in poller.poll(0.2):
            try:
                if live[fd].sock.recv(RECV):
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            poller.unregister(fd)
            live.pop(fd).sock.close()
    for v in live.values():
        v.sock.close()
    return len(live)


class Clients:
    """`total` viewers spread over `procs` client processes."""

    def __init__(self, port, total, procs, expect, run, timeout):
        context = multiprocessing.get_context("fork")
        self.timeout = timeout
        self.procs = []
        shares = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
        for share in shares:
            if not share:
                continue
            parent, child = context.Pipe()
            proc = context.Process(target=viewer_process,
                                   args=(child, port, share, expect, run, timeout),
                                   daemon=True)
            proc.start()
            child.close()
            self.procs.append((proc, parent))
        self.done_cpu = []

    def wait(self, kind, seconds):
        """Wait for one `kind` message from every process; their payloads."""
        deadline = time.monotonic() + seconds
        got = []
        for proc, pipe in self.procs:
            left = deadline - time.monotonic()
            if left <= 0 or not pipe.poll(left):
                raise RuntimeError("no %r from a client process within %d s" % (kind, seconds))
            message = pipe.recv()
            if message[0] == "error":
                raise RuntimeError(message[1])
            if message[0] != kind:
                raise RuntimeError("client said %r, expected %r" % (message[0], kind))
            got.append(message[1:])
        return got

    def stop(self, how="stop"):
        """Tell every process to stop (closing handshakes) or "reset" (close with RST:
        SO_LINGER 0); merged summaries."""
        for _, pipe in self.procs:
            try:
                pipe.send(how)
            except OSError:
                pass
        viewers, cpu, timed_out, unclosed = [], 0.0, False, 0
        for proc, pipe in self.procs:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and pipe.poll(max(0, deadline - time.monotonic())):
                message = pipe.recv()
                if message[0] == "result":
                    viewers += message[1]["viewers"]
                    cpu += message[1]["cpu_s"]
                    timed_out = timed_out or message[1]["timed_out"]
                    unclosed += message[1]["unclosed"]
                    break
        self.kill()
        return {"viewers": viewers, "cpu_s": cpu, "timed_out": timed_out,
                "unclosed": unclosed}

    def kill(self):
        for proc, pipe in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
            pipe.close()
        self.procs = []


def check(summary, expect, count):
    """Did each of `count` viewers get `expect` records, in order, no drops?"""
    viewers = summary["viewers"]
    complete = [v for v in viewers if v["count"] == expect and not v["bad"] and not v["dropped"]]
    problems = []
    if len(viewers) != count:
        problems.append("%d of %d viewers reported" % (len(viewers), count))
    for i, v in enumerate(viewers):
        if v["count"] != expect or v["bad"] or v["dropped"] or v["eof"]:
            problems.append("viewer %d: %d/%d records, %d out of order (first %s), "
                            "%d dropped, eof %s, close %s"
                            % (i, v["count"], expect, v["bad"], v["first_bad"], v["dropped"],
                               v["eof"], v["closed"]))
    return {"complete": len(complete), "viewers": len(viewers),
            "all_in_order": len(complete) == count == len(viewers),
            "records_received": sum(v["count"] for v in viewers),
            "other_frames": sum(v["frames"] - v["count"] for v in viewers),
            "closing_handshakes_unfinished": summary.get("unclosed"),
            "pings": sum(v["pings"] for v in viewers),
            "problems": problems[:5], "problem_count": len(problems)}


# --------------------------------------------------------------------------
# Measurements

def held(proc, port, cport, args):
    """RSS idle (after a warm-up), then with args.held idle viewers; then 100 records."""
    run = Runs.next()
    clients = Clients(port, 20, 1, WARM_RECORDS, run, 60)
    try:
        clients.wait("ready", 60)
        wait_viewers(cport, 20)
        publish(cport, WARM_RECORDS, run)
        clients.wait("done", 60)
    finally:
        warm = check(clients.stop(), WARM_RECORDS, 20)
    wait_viewers(cport, 0)
    time.sleep(1.0)
    idle = read_rss(proc.pid)[0]
    start = time.monotonic()
    run = Runs.next()
    clients = Clients(port, args.held, max(args.procs, 2), WARM_RECORDS, run, 300)
    try:
        clients.wait("ready", 120)
        wait_viewers(cport, args.held, 60)
        opened = time.monotonic() - start
        time.sleep(1.0)
        rss = read_rss(proc.pid)[0]
        threads = read_threads(proc.pid)
        publish(cport, WARM_RECORDS, run)
        clients.wait("done", 120)
        rss_after = read_rss(proc.pid)[0]
    finally:
        delivered = check(clients.stop(), WARM_RECORDS, args.held)
    return {"viewers": args.held, "idle_rss": idle, "rss_held": rss,
            "kib_per_viewer": (rss - idle) / args.held / KIB, "threads_held": threads,
            "rss_after_records": rss_after, "open_seconds": opened,
            "warm_up": warm, "records_after": delivered}


def broadcast(proc, port, cport, args, records):
    """50 viewers, `records` records published as fast as the server can."""
    wait_viewers(cport, 0)
    timeout = max(60, records * VIEWERS / 20000)
    run = Runs.next()
    clients = Clients(port, VIEWERS, args.procs, records, run, timeout + 30)
    summary = None
    try:
        clients.wait("ready", 60)
        wait_viewers(cport, VIEWERS)
        time.sleep(0.3)  # history and "opened" records drained
        busy0, scpu0, wall0 = machine_busy(), server_cpu(proc.pid), time.monotonic()
        start = publish(cport, records, run)
        done = clients.wait("done", timeout)
        wall = time.monotonic() - wall0
        scpu = server_cpu(proc.pid) - scpu0
        busy = machine_busy() - busy0
        status = control(cport, "/bench/status")
    finally:
        summary = clients.stop()
    verdict = check(summary, records, VIEWERS)
    ends = [v["done_at"] for v in summary["viewers"] if v["done_at"] and v["done_at"] > 0]
    last = max(ends) if ends else None
    seconds = last - start if last else None
    client_cpu = sum(d[0] for d in done)
    result = {"records": records, "viewers": VIEWERS,
              "deliveries": verdict["records_received"],
              "seconds": seconds,
              "deliveries_per_s": verdict["records_received"] / seconds if seconds else None,
              "publish_seconds": (status["end"] - status["start"]) if status.get("end") else None,
              "first_viewer_done_s": min(ends) - start if ends else None,
              "server_cpu_pct": 100 * scpu / wall, "client_cpu_pct": 100 * client_cpu / wall,
              "other_pct": max(0.0, 100 * (busy - scpu - client_cpu) / wall),
              "window_s": wall}
    result.update(verdict)
    return result


def broadcast_runs(proc, port, cport, args):
    """args.runs runs; a run during which other processes used over OTHER_LIMIT % of a
    core is tried again (args.attempts in all), and the least loaded attempt is kept."""
    runs = []
    for _ in range(args.runs):
        attempts = []
        for _ in range(args.attempts):
            attempt = one_broadcast(proc, port, cport, args)
            attempts.append(attempt)
            if attempt.get("other_pct", 0) <= OTHER_LIMIT or time.monotonic() < Load.until:
                break
        run = min(attempts, key=lambda a: a.get("other_pct", 0))
        run["other_pct_per_attempt"] = [round(a.get("other_pct", 0)) for a in attempts]
        runs.append(run)
    good = [r for r in runs if r.get("deliveries_per_s") and r.get("all_in_order")]
    best = max(good, key=lambda r: r["deliveries_per_s"]) if good else None
    return {"runs": runs, "best": best}


class Load:
    """When a wait for a quiet machine ran out, the load is taken as lasting: for the
    next LASTING seconds the wait is only a 0.5 s sample, and no run is tried again."""
    LASTING = 120
    until = 0.0


def wait_for_quiet(args):
    persistent = time.monotonic() < Load.until
    quiet = wait_quiet(OTHER_LIMIT, 0 if persistent else args.quiet_wait)
    if quiet["busy_pct"] >= OTHER_LIMIT:
        Load.until = time.monotonic() + Load.LASTING
    quiet["persistent_load"] = time.monotonic() < Load.until
    return quiet


def one_broadcast(proc, port, cport, args):
    quiet = wait_for_quiet(args)
    if args.pin:
        pin(proc.pid, {ALL_CPUS[-1]}, {ALL_CPUS[0]})
    try:
        run = broadcast(proc, port, cport, args, args.records)
    except Exception as exc:
        run = {"error": "%s: %s" % (type(exc).__name__, exc)}
    finally:
        if args.pin:
            unpin(proc.pid)
    run["quiet_before"] = quiet
    return run


def cost(proc, port, cport, args):
    """logging.info cost in the wsserver process: 0, 50, 50 + 1 stalled viewers."""
    calls = args.calls
    route = lambda run: "/bench/cost?n=%d&size=%d&run=%d" % (calls, SIZE, run)
    out = {}
    quiet = wait_for_quiet(args)
    if args.pin:
        pin(proc.pid, {ALL_CPUS[-1]}, {ALL_CPUS[0]})
    try:
        wait_viewers(cport, 0)
        control(cport, route(Runs.next()))  # warm-up
        out["0 viewers"] = {"stats": control(cport, route(Runs.next()))}
        out["50 viewers"] = cost_with_viewers(cport, port, route, calls, args, stalled=False)
        out["50 viewers + 1 stalled"] = cost_with_viewers(cport, port, route, calls, args,
                                                          stalled=True)
        out["0 viewers"]["machine_before"] = quiet
    finally:
        if args.pin:
            unpin(proc.pid)
    return out


def cost_with_viewers(cport, port, route, calls, args, stalled):
    wait_viewers(cport, 0)
    run = Runs.next()
    clients = Clients(port, VIEWERS, args.procs, calls, run, 120)
    stuck = None
    result = {}
    try:
        clients.wait("ready", 60)
        wait_viewers(cport, VIEWERS)
        if stalled:
            normal = control(cport, "/bench/config")["queue_length"]
            control(cport, "/bench/config?queue_length=%d" % STALLED_QUEUE)
            stuck = Viewer(*open_viewer(port, STALLED_RCVBUF), run)
            wait_viewers(cport, VIEWERS + 1)
            control(cport, "/bench/config?queue_length=%d" % normal)
            result["stalled_before"] = fill_stalled(cport)
        time.sleep(0.3)
        result["stats"] = control(cport, route(run))
        clients.wait("done", 120)
        if stalled:
            result["stalled_after"] = stalled_detail(cport)[0]
    finally:
        summary = clients.stop()
        if stuck is not None:
            result["stalled_viewer"] = drain_stalled(stuck, calls)
    result["healthy"] = check(summary, calls, VIEWERS)
    return result


def stalled_detail(cport):
    """The server's view of the stalled viewer: the one subscribed with STALLED_QUEUE."""
    detail = control(cport, "/bench/viewers?detail=1")["detail"]
    stalled = [d for d in detail if d["queue_length"] == STALLED_QUEUE]
    others = [d for d in detail if d["queue_length"] != STALLED_QUEUE]
    return (stalled[0] if stalled else None), others


def fill_stalled(cport):
    """Publish PREFILL records (another run's) so that the stalled viewer's socket
    buffers (the server's send buffer grows to 4 MiB on loopback) and then its queue
    are full, and it drops; wait until the healthy viewers have read them all."""
    publish(cport, PREFILL, Runs.next())
    deadline = time.monotonic() + 60
    while True:
        stalled, others = stalled_detail(cport)
        busy = control(cport, "/bench/status")["running"] or any(
            d["queued"] or d["out_bytes"] for d in others)
        if not busy:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("healthy viewers still have records queued after 60 s")
        time.sleep(0.1)
    if not stalled or stalled["queued"] < STALLED_QUEUE:
        raise RuntimeError("the stalled viewer is not stalled after %d records: %s"
                           % (PREFILL, stalled))
    return stalled


def drain_stalled(viewer, calls):
    """Read what the stalled viewer was kept, until 1 s passes without a byte."""
    sock = viewer.sock
    try:
        sock.settimeout(1.0)
        data = viewer.tail
        viewer.tail = b""
        viewer.feed(data, strict=False)
        while True:
            try:
                chunk = sock.recv(RECV)
            except socket.timeout:
                break
            if not chunk:
                viewer.eof = True
                break
            viewer.bytes += len(chunk)
            viewer.feed(chunk, strict=False)
    except OSError as exc:
        return {"error": str(exc)}
    finally:
        sock.setblocking(False)
        close_gracefully([viewer], CLOSE_TIMEOUT)
    return {"records": viewer.count, "dropped_notices_total": viewer.dropped,
            "first_seq": viewer.first_seq, "last_seq": (viewer.next or 0) - 1,
            "increasing": viewer.bad == 0, "bytes": viewer.bytes,
            "ends_with_last_record": viewer.next == calls,
            "records_plus_dropped": viewer.count + viewer.dropped, "frames": viewer.frames,
            "eof": viewer.eof, "close_code": viewer.closed}


def reset_probe(proc, port, cport, args):
    """Viewers that reset their connections (SO_LINGER 0) while records flow to them,
    RESET_ROUNDS times: does the server drop them and go on serving a new viewer?"""
    rounds = []
    for _ in range(RESET_ROUNDS):
        wait_viewers(cport, 0)
        run = Runs.next()
        clients = Clients(port, RESET_VIEWERS, 1, RESET_RECORDS, run, 60)
        try:
            clients.wait("ready", 60)
            wait_viewers(cport, RESET_VIEWERS)
            publish(cport, RESET_RECORDS, run)
            time.sleep(0.05)
        finally:
            clients.stop("reset")
        deadline = time.monotonic() + 60
        while control(cport, "/bench/status")["running"] and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            left = wait_viewers(cport, 0, 5)
        except RuntimeError:
            left = control(cport, "/bench/viewers")["viewers"]
        run = Runs.next()
        fresh = Clients(port, 1, 1, WARM_RECORDS, run, 30)
        got = False
        try:
            fresh.wait("ready", 30)
            time.sleep(0.5)
            publish(cport, WARM_RECORDS, run)
            fresh.wait("done", 10)
            got = True
        except RuntimeError:
            pass
        finally:
            fresh.stop()
        rounds.append({"viewers_left_after_5s": left, "new_viewer_got_records": got})
        if left or not got:
            break
    return {"rounds": rounds, "survived": all(r["new_viewer_got_records"] and
                                              not r["viewers_left_after_5s"] for r in rounds)}


def profile(proc, port, cport, args):
    """One broadcast run of PROFILE_RECORDS records under `py-spy record --gil` (samples
    the thread that holds the GIL): the share of samples per function, inclusive."""
    out = os.path.join(args.work, "profile.txt")
    spy = popen(["py-spy", "record", "--gil", "-f", "raw", "-r", "250",
                            "--pid", str(proc.pid), "-o", out, "-d", "120"],
                           open(os.devnull, "wb"), dict(os.environ))
    try:
        time.sleep(1.5)  # py-spy attaches
        if args.pin:
            pin(proc.pid, {ALL_CPUS[-1]}, {ALL_CPUS[0]})
        try:
            run = broadcast(proc, port, cport, args, PROFILE_RECORDS)
        finally:
            if args.pin:
                unpin(proc.pid)
    finally:
        spy.send_signal(2)
        try:
            spy.wait(30)
        except Exception:
            spy.kill()
    samples, by_function, threads = 0, {}, {}
    with open(out) as raw:
        for line in raw:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            count = int(count)
            samples += count
            frames = [f.split(" (")[0] for f in stack.split(";") if not f.startswith("thread")]
            thread = ("publisher" if "Publisher.run" in frames else
                      "poller" if "Poller.run_forever" in frames else "other")
            threads[thread] = threads.get(thread, 0) + count
            for name in set(frames):
                key = "%s: %s" % (thread, name)
                by_function[key] = by_function.get(key, 0) + count
    top = sorted(by_function.items(), key=lambda kv: -kv[1])
    skip = ("Thread._bootstrap", "Thread._bootstrap_inner", "Thread.run")
    return {"run": {k: run.get(k) for k in ("deliveries_per_s", "seconds", "publish_seconds",
                                             "all_in_order", "server_cpu_pct", "other_pct")},
            "samples": samples, "threads_pct": {k: 100 * v / samples for k, v in threads.items()},
            "inclusive_pct": [(k, round(100 * v / samples, 1)) for k, v in top
                              if not k.endswith(skip)][:30]}


def measure_server(server, args, work):
    log_path = os.path.join(work, server.name + ".log")
    result = {"note": server.note}
    steps = [("held", held)] + [("broadcast", broadcast_runs)]
    if server.name == "wsserver":
        steps.append(("cost", cost))
    if args.profile and server.name == "wsserver":
        steps.append(("profile", profile))
    steps.append(("reset", reset_probe))
    for mode, plan in (("held", ["held"]), ("broadcast", [s[0] for s in steps[1:]])):
        try:
            proc, port, cport = start_server(server, mode, args, log_path)
        except Exception as exc:
            result.setdefault("errors", []).append("start (%s): %s" % (mode, exc))
            continue
        try:
            for name in plan:
                print("  %s ..." % name, flush=True)
                try:
                    result[name] = dict(steps)[name](proc, port, cport, args)
                except Exception as exc:
                    result[name] = {"error": "%s: %s" % (type(exc).__name__, exc)}
                if proc.poll() is not None:
                    raise RuntimeError("server exited with %s during %s"
                                       % (proc.returncode, name))
        except Exception as exc:
            result.setdefault("errors", []).append(str(exc))
        finally:
            result.setdefault("stop", []).append(stop_server(proc))
    result["log_tail"] = tail(log_path, 1500)
    result["tracebacks"] = tracebacks(log_path)
    return result


def tracebacks(log_path, limit=3):
    """The first `limit` tracebacks the server printed (an uncaught exception in a
    thread), less websocket-server's AssertionError on the empty connection with which
    wait_listening() checks the port."""
    with open(log_path, "rb") as log:
        text = log.read().decode("utf-8", "replace")
    found = []
    for block in text.split("Traceback (most recent call last):")[1:]:
        lines = block.strip("\n").split("\n")
        end = next((i for i, line in enumerate(lines) if line and not line.startswith(" ")),
                   len(lines) - 1)
        text = "\n".join(["Traceback (most recent call last):"] + lines[:end + 1])
        if "read_http_headers" in text and lines[end].startswith("AssertionError"):
            continue
        if text not in found:
            found.append(text)
    return found[:limit]


# --------------------------------------------------------------------------
# Report

def get(result, *keys):
    for key in keys:
        if not isinstance(result, dict):
            return None
        result = result.get(key)
    return result


def broadcast_table(results):
    lines = ["| server | deliveries/s (best) | runs | seconds | publish loop s | "
             "every record in order | server CPU % | client CPU % | other processes CPU % |",
             "| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |"]
    for name, r in results.items():
        b = get(r, "broadcast", "best")
        runs = get(r, "broadcast", "runs") or []
        all_runs = ", ".join(fmt(x.get("deliveries_per_s")) if not x.get("error") else "error"
                             for x in runs)
        if b is None:
            failed = runs[-1] if runs else {}
            lines.append("| %s | N/A | %s | | | %s | | | |" % (
                name, all_runs, failed.get("error") or "%s/%s complete" % (
                    failed.get("complete"), failed.get("viewers"))))
            continue
        lines.append("| %s | %s | %s | %.2f | %s | %s | %.0f | %.0f | %.0f |" % (
            name, fmt(b["deliveries_per_s"]), all_runs, b["seconds"],
            fmt(b["publish_seconds"], 2), "%d/%d viewers" % (b["complete"], b["viewers"]),
            b["server_cpu_pct"], b["client_cpu_pct"], b["other_pct"]))
    return "\n".join(lines)


def ratio_table(results):
    ours = get(results, "wsserver", "broadcast", "best", "deliveries_per_s")
    ours_kib = get(results, "wsserver", "held", "kib_per_viewer")
    lines = ["| wsserver / peer | deliveries/s | KiB per held viewer (lower is better) |",
             "| --- | ---: | ---: |"]
    for name, r in results.items():
        if name == "wsserver":
            continue
        lines.append("| %s | %s | %s |" % (
            name, fmt(ratio(ours, get(r, "broadcast", "best", "deliveries_per_s")), 2),
            fmt(ratio(ours_kib, get(r, "held", "kib_per_viewer")), 2)))
    return "\n".join(lines)


def cost_table(results):
    c = get(results, "wsserver", "cost") or {}
    lines = ["| wsserver logging.info() | median µs | p90 µs | p99 µs | p99.9 µs | max µs "
             "| mean µs | calls/s | healthy viewers complete |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    if c.get("error"):
        return "\n".join(lines + ["| ERROR: %s |" % c["error"]])
    for case, entry in c.items():
        s = entry.get("stats") or {}
        healthy = entry.get("healthy")
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            case, fmt(s.get("median_us"), 1), fmt(s.get("p90_us"), 1),
            fmt(s.get("p99_us"), 1), fmt(s.get("p999_us"), 1), fmt(s.get("max_us")),
            fmt(s.get("mean_us"), 1),
            fmt(s["calls"] / s["wall_s"] if s.get("wall_s") else None),
            "%d/%d" % (healthy["complete"], healthy["viewers"]) if healthy else "-"))
    return "\n".join(lines)


def reset_table(results):
    lines = ["| server | %d viewers reset (SO_LINGER 0) mid-broadcast, up to %d rounds: "
             "dropped within 5 s, and a new viewer still served |" % (RESET_VIEWERS,
                                                                       RESET_ROUNDS),
             "| --- | --- |"]
    for name, r in results.items():
        reset = r.get("reset") or {}
        if reset.get("error") or not reset:
            cell = "ERROR: %s" % reset.get("error")
        elif reset["survived"]:
            cell = "yes, %d/%d rounds" % (len(reset["rounds"]), RESET_ROUNDS)
        else:
            last = reset["rounds"][-1]
            cell = "NO, round %d: %d viewers still counted after 5 s, new viewer %s" % (
                len(reset["rounds"]), last["viewers_left_after_5s"],
                "served" if last["new_viewer_got_records"] else "NOT served")
        lines.append("| %s | %s |" % (name, cell))
    return "\n".join(lines)


def held_table(results, args):
    lines = ["| server | idle RSS MB | RSS with %d viewers MB | KiB per viewer | threads "
             "| seconds to connect | %d records to all |" % (args.held, WARM_RECORDS),
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, r in results.items():
        h = r.get("held") or {}
        if h.get("error") or not h:
            lines.append("| %s | ERROR: %s | | | | | |" % (name, h.get("error")))
            continue
        lines.append("| %s | %.1f | %.1f | %.1f | %s | %.1f | %s |" % (
            name, h["idle_rss"] / MB, h["rss_held"] / MB, h["kib_per_viewer"],
            h["threads_held"], h["open_seconds"],
            "%d/%d" % (h["records_after"]["complete"], h["records_after"]["viewers"])))
    return "\n".join(lines)


def target_lines(results):
    ours = get(results, "wsserver", "broadcast", "best", "deliveries_per_s")
    peers = {name: get(r, "broadcast", "best", "deliveries_per_s")
             for name, r in results.items()
             if name != "wsserver" and not any(s.reference for s in SERVERS if s.name == name)}
    best_peer = max((v, k) for k, v in peers.items() if v) if any(peers.values()) else None
    lines = []
    if ours and best_peer:
        met = ours >= best_peer[0]
        lines.append("- deliveries/s >= best peer (%s, %s): %s (%.2f)" % (
            best_peer[1], fmt(best_peer[0]), "met" if met else "MISSED", ours / best_peer[0]))
    else:
        lines.append("- deliveries/s >= best peer: not measured")
    runs = get(results, "wsserver", "broadcast", "runs") or []
    in_order = bool(runs) and all(r.get("all_in_order") for r in runs)
    lines.append("- every record to every viewer in order, every broadcast run: %s"
                 % ("met" if in_order else "MISSED"))
    cost = get(results, "wsserver", "cost") or {}
    healthy = [e.get("healthy", {}).get("all_in_order") for k, e in cost.items()
               if isinstance(e, dict) and "healthy" in e]
    lines.append("- healthy viewers complete during the cost runs (incl. stalled): %s"
                 % ("met" if healthy and all(healthy) else "MISSED"))
    kib = get(results, "wsserver", "held", "kib_per_viewer")
    lines.append("- <= 11 KiB per held viewer: %s" % (
        "not measured" if kib is None else "%s (%.1f)" % ("met" if kib <= 11 else "MISSED", kib)))
    return "\n".join(lines)


def ceiling_lines(results):
    top = get(results, "blaster", "broadcast", "best", "deliveries_per_s")
    if not top:
        return
    for name, r in results.items():
        value = get(r, "broadcast", "best", "deliveries_per_s")
        if name != "blaster" and value and value > 0.8 * top:
            yield ("NEAR THE CEILING: %s reaches %.0f %% of the viewers' ceiling (%s): the "
                   "clients may be the limit" % (name, 100 * value / top, fmt(top)))


def problem_lines(results):
    for name, r in results.items():
        for error in r.get("errors", []):
            yield "- %s: %s" % (name, error)
        for text in r.get("tracebacks", []):
            yield "- %s printed:\n```\n%s\n```" % (name, text)
        for step in ("held", "cost", "reset", "profile"):
            if get(r, step, "error"):
                yield "- %s %s: %s" % (name, step, get(r, step, "error"))
        for i, run in enumerate(get(r, "broadcast", "runs") or []):
            if run.get("error"):
                yield "- %s broadcast run %d: %s" % (name, i + 1, run["error"])
            elif not run.get("all_in_order"):
                yield "- %s broadcast run %d: %d problems: %s" % (
                    name, i + 1, run["problem_count"], "; ".join(run["problems"]))
            if run.get("other_pct", 0) > OTHER_LIMIT:
                yield "- %s broadcast run %d ran while other processes used %.0f %% of a core" % (
                    name, i + 1, run["other_pct"])
        for case, entry in (get(r, "cost") or {}).items():
            healthy = get(entry, "healthy")
            if healthy and not healthy["all_in_order"]:
                yield "- %s cost %s: %s" % (name, case, "; ".join(healthy["problems"]))
        h = r.get("held") or {}
        for key in ("warm_up", "records_after"):
            if h.get(key) and not h[key]["all_in_order"]:
                yield "- %s held %s: %s" % (name, key, "; ".join(h[key]["problems"]))


def report(results, args):
    print()
    print("Broadcast: %d records of %d bytes to %d viewers (best of %d)" % (
        args.records, SIZE, VIEWERS, args.runs))
    print()
    print(broadcast_table(results))
    print()
    print(ratio_table(results))
    print()
    print(cost_table(results))
    stall = get(results, "wsserver", "cost", "50 viewers + 1 stalled")
    if stall:
        print()
        print("Stalled viewer (server side: records queued, queue length, dropped, bytes "
              "held by its connection): before the timed calls %s; after %s; what it read "
              "afterwards: %s" % (json.dumps(stall.get("stalled_before")),
                                  json.dumps(stall.get("stalled_after")),
                                  json.dumps(stall.get("stalled_viewer"))))
    prof = get(results, "wsserver", "profile")
    if prof and not prof.get("error"):
        print()
        print("wsserver profile (py-spy --gil, %d samples; %% of samples, inclusive), "
              "broadcast of %d records: %s" % (prof["samples"], PROFILE_RECORDS,
                                                json.dumps(prof["run"])))
        print("threads: %s" % ", ".join("%s %.0f %%" % kv
                                        for kv in sorted(prof["threads_pct"].items())))
        for name, pct in prof["inclusive_pct"]:
            print("    %5.1f %%  %s" % (pct, name))
    print()
    print(held_table(results, args))
    print()
    print(reset_table(results))
    print()
    print("Targets (wsserver):")
    print(target_lines(results))
    for line in ceiling_lines(results):
        print(line)
    benchlib.print_problems(problem_lines(results))
    print("%s; %d client processes; %d CPUs; Python %s; %s" % (
        "pinned: server CPU %d, clients CPU %d" % (ALL_CPUS[-1], ALL_CPUS[0]) if args.pin
        else "placement left to the scheduler", args.procs, os.cpu_count(),
        platform.python_version(), versions()))
    print("Notes:")
    for name, r in results.items():
        print("- %s: %s; stop: %s" % (name, r["note"], ", ".join(r.get("stop", []))))


def save(results, args):
    save_results(RESULTS, args.quick, {
        "settings": {k: getattr(args, k) for k in
                     ("records", "runs", "calls", "held", "procs", "pin", "quiet_wait",
                      "attempts", "profile")},
        "viewers": VIEWERS, "message_bytes": SIZE, "stalled_rcvbuf": STALLED_RCVBUF,
        "stalled_queue_length": STALLED_QUEUE, "cpus": os.cpu_count(),
        "python": sys.version, "versions": versions(), "servers": results})


# --------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2,000 records, 1 run, 2,000 timed calls, 100 held viewers")
    parser.add_argument("--servers", default=",".join(s.name for s in SERVERS),
                        help="comma-separated subset of: %(default)s")
    parser.add_argument("--procs", type=int, default=2,
                        help="client processes the viewers are spread over (default 2)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="let the scheduler place server and clients")
    parser.add_argument("--profile", action="store_true",
                        help="also profile wsserver with py-spy (--gil) during one broadcast "
                             "of %d records" % PROFILE_RECORDS)
    args = parser.parse_args()
    apply_settings(args, QUICK, FULL)
    return args


def main():
    args = parse_args()
    raise_nofile(args.held * 2 + 512)  # the servers and client processes inherit it
    wanted = wanted_servers(args.servers, SERVERS)
    work, args.static, args.uploads = make_work("livelog-bench-")
    args.work = work
    try:
        results = {}
        for server in SERVERS:
            if server.name in wanted:
                print("Measuring %s ..." % server.name, flush=True)
                results[server.name] = measure_server(server, args, work)
        report(results, args)
        save(results, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
