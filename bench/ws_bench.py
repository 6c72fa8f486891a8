"""WebSocket benchmark: wsserver against websockets, aiohttp and websocket-server.

Run from the repository root (needs `pip install -r bench/requirements.txt`):

    python bench/ws_bench.py                 # full run (10-20 minutes: it waits out other load)
    python bench/ws_bench.py --quick         # smoke run: 1 s runs, 100 held connections
    python bench/ws_bench.py --servers wsserver,aiohttp   # a subset (+ the references)

Every server runs as a subprocess on 127.0.0.1 with a free port and echoes at
ws://127.0.0.1:PORT/ws/echo. Three reference servers always run as well:

- "raw ping-pong" (bench/peers/raw_echo.py): no WebSocket, a thread per
  connection doing recv/sendall; it gets the same masked frames and sends them
  back unchanged: the loopback round trip of a Python server;
- "raw echo (epoll)" (raw_echo.py --epoll) and "frame responder"
  (bench/peers/ws_responder.py: handshake, then a cached pre-encoded reply per
  frame, payloads skipped), both one epoll loop: the client's own ceiling.

All servers are started at once. First, one server at a time:

- probes: 64-byte text and binary echo, 1 MiB binary echo (1 MiB text where
  binary does not work), the close handshake, each on a new connection and
  read with a full frame parser;
- held connections: VmRSS idle (after a warm-up), then with 500 connections
  open after their handshake and idle: (RSS open - RSS idle) / 500 in KiB.

Then the timed tests, each in 5 rounds that visit every server in turn for a
1 s segment on new connections (see "Servers and rounds"):

- 1 client, 64-byte text messages one at a time: msg/s (median of the
  segments), p50 and p99 latency (of all messages); then the same with server
  and client on one core (see "CPU placement");
- 16 clients the same way, concurrently, driven by --procs client processes
  (epoll, each connection with one message in flight): total msg/s, p50, p99;
- pipelined: N = 100,000 64-byte text messages sent back to back on one
  connection by a thread while the main thread counts the echoed bytes: msg/s,
  best of 3 rounds;
- 1 MiB binary messages echoed one at a time: MB/s of message payload per
  round trip, the best of all round trips (at least 10, for 5 s).

The client is built not to be the limit: raw sockets, frames encoded and
masked once with a fixed key, replies checked by byte count against the exact
expected frame (probes first prove that the server answers with exactly that
frame), TCP_NODELAY, kernel socket timeouts (SO_RCVTIMEO) instead of a poll()
before each call. Server and client CPU time are read for each measurement
(server from /proc/PID/stat, all its threads; client from getrusage), so the
tables show which side ran out of CPU. This machine has 2 cores: the timed
tests pin the server to one and the client to the other (see "CPU placement").

It prints Markdown tables, the ratios of wsserver to each peer and the
issue's targets, and writes the raw figures to bench/results/ws.json.
MB means 10**6 bytes, KiB 1024 bytes, MiB 2**20 bytes.
"""

import argparse
import multiprocessing
import os
import platform
import random
import select
import shutil
import socket
import struct
import sys
import threading
import time
from array import array

from benchlib import (ACCEPT, ALL_CPUS, HOST, KIB, MB, ROOT, apply_settings, client_frame,
                      fmt, machine_busy, make_work, own_cpu, parse_head, peer_argv, pin,
                      raise_nofile, ratio, read_rss, save_results, server_cpu, start_server,
                      stop_server, tail, target_verdicts, unpin, upgrade_request, wait_quiet,
                      wanted_servers)
import benchlib

RESULTS = os.path.join(ROOT, "bench", "results", "ws.json")

PATH = "/ws/echo"
BIG_SIZE = 1 << 20
SOCKET_TIMEOUT = 15         # seconds for any single blocking socket call
PROBE_TIMEOUT = 5           # seconds to wait for a probe's reply
CLOSE_TIMEOUT = 5           # seconds to wait for closing handshakes, all connections together
RECV_BUFFER = 1 << 20
MIN_CPU_WINDOW = 0.25       # seconds: CPU times come in 10 ms ticks, shorter is noise
OTHER_LIMIT = 15            # % of one core that other processes may use during a timed test
TEXT64 = b"wsserver bench: sixty-four bytes of ASCII text, echoed back...."
OP_TEXT, OP_BINARY, OP_CLOSE = 0x1, 0x2, 0x8

# seconds: per server and test, split into `rounds` segments, each after `warm` seconds on
# its new connection(s); pipelined: one batch per round; big_runs: at least this many 1 MiB
# round trips in all.
FULL = {"seconds": 5.0, "rounds": 5, "warm": 0.2, "pipelined": 100000, "pipelined_runs": 3,
        "held": 500, "big_runs": 10, "attempts": 3, "quiet_wait": 120}
QUICK = {"seconds": 1.0, "rounds": 2, "warm": 0.1, "pipelined": 20000, "pipelined_runs": 1,
         "held": 100, "big_runs": 3, "attempts": 2, "quiet_wait": 20}


# --------------------------------------------------------------------------
# The servers under test

class Server(benchlib.Server):
    """How to start one server (`argv`: a function (port, static, uploads) -> argv list);
    kind "ws" speaks WebSocket, "raw" only echoes bytes."""

    def __init__(self, name, argv, note, kind="ws", reference=False):
        super().__init__(name, argv, note)
        self.kind = kind
        self.reference = reference


def peer(script):
    return lambda p, s, u: peer_argv(script, p)


def websockets_version():
    try:
        from importlib.metadata import version
        return "websockets %s, aiohttp %s, websocket-server %s" % (
            version("websockets"), version("aiohttp"), version("websocket-server"))
    except Exception as exc:  # only for the report
        return "versions unknown (%s)" % exc


SERVERS = [
    Server("wsserver",
           lambda p, s, u: [os.path.join(ROOT, "run.py"), p, "-b", HOST,
                            "-d", s, "--uploads", u],
           "run.py; logs every request at INFO (to a file here)"),
    Server("websockets", peer("ws_websockets.py"),
           "websockets.sync.server.serve (a thread per connection), max_size 16 MiB"),
    Server("aiohttp", peer("ws_aiohttp.py"),
           "web.WebSocketResponse(max_msg_size=16 MiB), default asyncio loop"),
    Server("websocket-server", peer("ws_websocket_server.py"),
           "ThreadingMixIn, a thread per connection; text only; unmasks byte by byte"),
    Server("raw ping-pong", peer("raw_echo.py"),
           "reference: no WebSocket, a thread per connection doing recv/sendall of the "
           "same masked frames", kind="raw", reference=True),
    Server("raw echo (epoll)", lambda p, s, u: peer("raw_echo.py")(p, s, u) + ["--epoll"],
           "client ceiling: the same byte echo from one epoll loop, no threads",
           kind="raw", reference=True),
    Server("frame responder", peer("ws_responder.py"),
           "client ceiling: handshake, then a cached pre-encoded reply per frame, "
           "one epoll loop", reference=True),
]
CEILINGS = ("raw echo (epoll)", "frame responder")


# --------------------------------------------------------------------------
# Frames: built once

def server_frame(opcode, payload):
    return benchlib.frame_head(opcode, len(payload), False) + payload


class Message:
    """One test message: the frame the client sends and the exact reply expected."""

    def __init__(self, kind, opcode, payload):
        self.opcode = opcode
        self.payload = payload
        self.frame = client_frame(opcode, payload)
        self.reply = self.frame if kind == "raw" else server_frame(opcode, payload)


BIG_BINARY = random.Random(6455).randbytes(BIG_SIZE)
BIG_TEXT = (b"0123456789abcdef" * (BIG_SIZE // 16))
CLOSE_1000 = struct.pack(">H", 1000)


# --------------------------------------------------------------------------
# Connections

def set_kernel_timeouts(sock, seconds):
    """SO_RCVTIMEO / SO_SNDTIMEO: blocking calls fail after `seconds` without a poll() each."""
    value = struct.pack("ll", int(seconds), int((seconds % 1) * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def open_ws(port, kind):
    """Connect (and upgrade, for kind "ws"); return (blocking socket, bytes past the 101)."""
    sock = socket.create_connection((HOST, port), timeout=SOCKET_TIMEOUT)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rest = b"" if kind == "raw" else upgrade(sock, port)
    except BaseException:
        sock.close()
        raise
    sock.settimeout(None)
    set_kernel_timeouts(sock, SOCKET_TIMEOUT)
    return sock, rest


def upgrade(sock, port):
    sock.sendall(upgrade_request(PATH, port))
    data = benchlib.recv_head(
        sock, 65536, lambda data: "handshake: connection closed after %r" % data[:300],
        "handshake: response head over 64 KiB")
    head, lines, headers, rest = parse_head(data)
    if lines[0].split()[1:2] != ["101"] or headers.get("sec-websocket-accept") != ACCEPT:
        raise RuntimeError("handshake: %r" % head[:300])
    return rest


def send_close(sock):
    """Send a masked close 1000, ignoring a peer that is already gone."""
    try:
        sock.send(client_frame(OP_CLOSE, CLOSE_1000))
    except OSError:
        pass


def close_all(socks, graceful):
    """Close handshake on every socket (bounded by CLOSE_TIMEOUT overall), then close them."""
    if graceful:
        for sock in socks:
            send_close(sock)
        drain_until_eof(socks, CLOSE_TIMEOUT)
    for sock in socks:
        sock.close()


def drain_until_eof(socks, seconds):
    """Read and drop from every socket until each one reports EOF or `seconds` pass."""
    poller = select.poll()
    live = {}
    for sock in socks:
        sock.setblocking(False)
        poller.register(sock.fileno(), select.POLLIN)
        live[sock.fileno()] = sock
    deadline = time.monotonic() + seconds
    while live and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            try:
                if live[fd].recv(65536):
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            poller.unregister(fd)
            del live[fd]
    return len(live)


# --------------------------------------------------------------------------
# Full frame parser (probes only)

class FrameReader:
    """Reads whole server frames from a socket with a timeout."""

    def __init__(self, sock, data=b""):
        self.sock = sock
        self.buf = bytearray(data)

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(RECV_BUFFER)
            if not chunk:
                raise EOFError("the server closed the TCP connection (no close frame)"
                               if not self.buf else "the server closed the TCP connection "
                               "after %d bytes of a frame" % len(self.buf))
            self.buf += chunk

    def frame(self):
        """(fin, opcode, payload, masked) of the next frame."""
        self.need(2)
        b0, b1 = self.buf[0], self.buf[1]
        length, pos = b1 & 0x7F, 2
        if length == 126:
            self.need(4)
            length, pos = struct.unpack_from(">H", self.buf, 2)[0], 4
        elif length == 127:
            self.need(10)
            length, pos = struct.unpack_from(">Q", self.buf, 2)[0], 10
        masked = bool(b1 & 0x80)
        if masked:
            pos += 4
        self.need(pos + length)
        payload = bytes(self.buf[pos:pos + length])
        if masked:
            payload = benchlib.apply_mask(payload, bytes(self.buf[pos - 4:pos]))
        self.buf = self.buf[pos + length:]
        return bool(b0 & 0x80), b0 & 0x0F, payload, masked, b0 & 0x70

    def message(self):
        """(opcode, payload, number of frames, remarks) of the next message or close."""
        frames, parts, opcode, remarks = 0, [], None, []
        while True:
            fin, op, payload, masked, rsv = self.frame()
            frames += 1
            if masked:
                remarks.append("server frame masked")
            if rsv:
                remarks.append("RSV bits set")
            if op in (0x9, 0xA):
                remarks.append("got %s" % ("ping" if op == 0x9 else "pong"))
                continue
            if op == OP_CLOSE:
                return op, payload, frames, remarks
            if opcode is None:
                opcode = op
            parts.append(payload)
            if fin:
                return opcode, b"".join(parts), frames, remarks


def describe_close(payload):
    if len(payload) >= 2:
        code = struct.unpack(">H", payload[:2])[0]
        return "close %d %r" % (code, payload[2:].decode("utf-8", "replace"))
    return "close (empty)"


def probe_echo(port, kind, message, timeout=PROBE_TIMEOUT):
    """Send one message on a new connection; say how the echo came back.

    A thread sends, so a server that echoes while still receiving (the raw
    ping-pong does) cannot dead-lock against this reader.
    """
    try:
        sock, rest = open_ws(port, kind)
    except Exception as exc:
        return {"ok": False, "detail": "connect/handshake failed: %s" % exc}
    sender = threading.Thread(target=send_quietly, args=(sock, message.frame), daemon=True)
    try:
        sock.settimeout(timeout)
        sender.start()
        if kind == "raw":
            ok = recv_exact(sock, len(message.reply), rest) == message.reply
            return {"ok": ok, "exact": ok, "detail": "same bytes back" if ok else "differs"}
        opcode, payload, frames, remarks = FrameReader(sock, rest).message()
        ok = opcode == message.opcode and payload == message.payload
        if opcode == OP_CLOSE:
            detail = "server answered with " + describe_close(payload)
        elif ok:
            detail = "echoed in %d frame%s" % (frames, "" if frames == 1 else "s")
        else:
            detail = "wrong echo: opcode %d, %d bytes (sent opcode %d, %d bytes)" % (
                opcode, len(payload), message.opcode, len(message.payload))
        if remarks:
            detail += " (%s)" % ", ".join(sorted(set(remarks)))
        return {"ok": ok, "exact": ok and frames == 1 and not remarks, "detail": detail}
    except socket.timeout:
        return {"ok": False, "detail": "no reply within %d s" % timeout}
    except (OSError, EOFError) as exc:
        return {"ok": False, "detail": "%s: %s" % (type(exc).__name__, exc)}
    finally:
        close_all([sock], kind != "raw")
        sender.join(PROBE_TIMEOUT)


def send_quietly(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass


def probe_close(port):
    """Send close 1000; expect a close frame with 1000 back, then EOF."""
    try:
        sock, rest = open_ws(port, "ws")
    except Exception as exc:
        return {"ok": False, "detail": "connect/handshake failed: %s" % exc}
    try:
        sock.settimeout(PROBE_TIMEOUT)
        sock.sendall(client_frame(OP_CLOSE, CLOSE_1000))
        reader = FrameReader(sock, rest)
        opcode, payload, _, _ = reader.message()
        if opcode != OP_CLOSE:
            return {"ok": False, "detail": "got opcode %d instead of a close" % opcode}
        start = time.monotonic()
        eof = sock.recv(1) == b""
        detail = describe_close(payload) + (", then EOF in %.0f ms"
                                            % ((time.monotonic() - start) * 1000)
                                            if eof else ", then more data")
        return {"ok": payload[:2] == CLOSE_1000 and eof, "detail": detail}
    except socket.timeout:
        return {"ok": False, "detail": "no close frame or EOF within %d s" % PROBE_TIMEOUT}
    except (OSError, EOFError) as exc:
        return {"ok": False, "detail": "%s: %s" % (type(exc).__name__, exc)}
    finally:
        sock.close()


def recv_exact(sock, n, rest=b""):
    data = bytearray(rest)
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def run_probes(port, kind):
    """What the server supports; decides which 1 MiB message the timed test uses."""
    probes = {
        "text_64": probe_echo(port, kind, Message(kind, OP_TEXT, TEXT64)),
        "binary_64": probe_echo(port, kind, Message(kind, OP_BINARY, TEXT64)),
    }
    if probes["binary_64"]["ok"]:
        probes["binary_1MiB"] = probe_echo(port, kind, Message(kind, OP_BINARY, BIG_BINARY), 20)
    else:
        probes["binary_1MiB"] = {"ok": False, "detail": "not tried (64-byte binary failed)"}
    if not probes["binary_1MiB"]["ok"]:
        probes["text_1MiB"] = probe_echo(port, kind, Message(kind, OP_TEXT, BIG_TEXT), 60)
    if kind != "raw":
        probes["close"] = probe_close(port)
    return probes


# --------------------------------------------------------------------------
# CPU accounting

def cpu_figures(server_s, client_s, busy_s, wall):
    """% of one core: server, client, and everyone else on the machine ("other")."""
    return {"server_pct": 100 * server_s / wall, "client_pct": 100 * client_s / wall,
            "other_pct": max(0.0, 100 * (busy_s - server_s - client_s) / wall),
            "seconds": wall}


class CpuWindow:
    """Server, client and other CPU over a measurement, as % of one core."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.wall = time.monotonic()
        self.server = server_cpu(self.pid)
        self.client = own_cpu()
        self.busy = machine_busy()
        return self

    def __exit__(self, *exc):
        self.result = cpu_figures(server_cpu(self.pid) - self.server, own_cpu() - self.client,
                                  machine_busy() - self.busy, time.monotonic() - self.wall)
        return False


# --------------------------------------------------------------------------
# CPU placement
#
# With two cores shared by the server and the client, the scheduler's choices
# move the figures more than most code changes would: a ping-pong between two
# cores pays a cross-core wake-up per message (about 40 µs on this VM, so the
# same pair makes 4x more round trips on one core), and a thread-per-connection
# server spread over both cores fights the client for them and hands the GIL
# back and forth (websockets' 16-client figure doubles when it is kept on one
# core). So every timed test pins its two sides ("split": all server threads on
# the last CPU, the client's processes and threads on the first), and the
# 1-client test runs once more with both on the first CPU ("same core", where
# a round trip is simply the client's CPU plus the server's CPU per message).
# --no-pin leaves placement to the scheduler (except for the same-core run).

PLACEMENTS = {"split": ({ALL_CPUS[-1]}, {ALL_CPUS[0]}),
              "same": ({ALL_CPUS[0]}, {ALL_CPUS[0]})}


# --------------------------------------------------------------------------
# Measurements

def percentiles(latencies_ns):
    ordered = sorted(latencies_ns)
    if not ordered:
        return None, None
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000
    return pick(0.50), pick(0.99)


def placed(proc, placement, measure):
    """Run measure() with the server and this process pinned as `placement` says."""
    if placement == "free":
        return dict(measure(), placement=placement)
    if placement == "split" and len(ALL_CPUS) < 2:
        raise RuntimeError("split placement needs two CPUs")
    pin(proc.pid, *PLACEMENTS[placement])
    try:
        return dict(measure(), placement=placement)
    finally:
        unpin(proc.pid)


def one_client(proc, port, kind, seconds, warm):
    """64-byte text, one at a time on one connection: msg/s, p50/p99 µs."""
    message = Message(kind, OP_TEXT, TEXT64)
    frame, reply, size = message.frame, message.reply, len(message.reply)
    sock, rest = open_ws(port, kind)
    buf = bytearray(65536)
    latencies = array("q")
    clock = time.perf_counter_ns
    bad = 0
    if rest:
        raise RuntimeError("server sent %d bytes before any message" % len(rest))
    try:
        warm_end = time.monotonic() + warm
        while time.monotonic() < warm_end:
            sock.send(frame)
            got = 0
            while got < size:
                got += sock.recv_into(buf)
        with CpuWindow(proc.pid) as cpu:
            start = clock()
            end = start + int(seconds * 1e9)
            while True:
                t0 = clock()
                sock.send(frame)
                got = sock.recv_into(buf)
                if got != size:
                    while 0 < got < size:
                        n = sock.recv_into(memoryview(buf)[got:])
                        if n == 0:
                            raise RuntimeError("connection closed mid-reply")
                        got += n
                    if got != size:
                        raise RuntimeError("reply of %d bytes, expected %d" % (got, size))
                t1 = clock()
                if buf[:size] != reply:
                    bad += 1
                latencies.append(t1 - t0)
                if t1 >= end:
                    break
        elapsed = (t1 - start) / 1e9
    finally:
        close_all([sock], kind != "raw")
    return {"msgs": len(latencies), "msg_per_s": len(latencies) / elapsed,
            "latencies": latencies, "bad_replies": bad, "cpu": cpu.result}


def many_clients_worker(port, kind, count, pipe):
    """Worker process: `count` connections, each one message in flight, epoll."""
    message = Message(kind, OP_TEXT, TEXT64)
    frame, reply, size = message.frame, message.reply, len(message.reply)
    socks = []
    try:
        for _ in range(count):
            sock, rest = open_ws(port, kind)
            if rest:
                raise RuntimeError("server sent %d bytes before any message" % len(rest))
            sock.setblocking(False)
            socks.append(sock)
        pipe.send("ready")
        warm_at, end_at = pipe.recv()
        pipe.send(drive(socks, frame, reply, size, warm_at, end_at))
    except Exception as exc:
        pipe.send({"error": "%s: %s" % (type(exc).__name__, exc)})
    finally:
        close_all(socks, kind != "raw")
        pipe.close()


def drive(socks, frame, reply, size, warm_at, end_at):
    """The epoll loop; latencies count for replies between warm_at and end_at (monotonic s)."""
    clock = time.perf_counter_ns
    offset = clock() - time.monotonic_ns()
    warm_ns, end_ns = int(warm_at * 1e9) + offset, int(end_at * 1e9) + offset
    hard_ns = end_ns + SOCKET_TIMEOUT * 10 ** 9
    poller = select.epoll()
    by_fd, sent_at, got = {}, {}, {}
    buf = bytearray(65536)
    latencies = array("q")
    bad = extra = 0
    cpu = {}
    for sock in socks:
        fd = sock.fileno()
        by_fd[fd], got[fd] = sock, 0
        poller.register(fd, select.EPOLLIN)
        sent_at[fd] = clock()
        sock.send(frame)
    active = len(socks)
    while active:
        events = poller.poll(1.0)
        now = clock()
        if "start" not in cpu and now >= warm_ns:
            cpu["start"] = own_cpu()
        if now > hard_ns:
            raise RuntimeError("%d connections still waiting for a reply %d s after the end"
                               % (active, SOCKET_TIMEOUT))
        for fd, _ in events:
            sock = by_fd[fd]
            try:
                n = sock.recv_into(buf)
            except BlockingIOError:
                continue
            if n == 0:
                raise RuntimeError("server closed a connection")
            total = got[fd] + n
            if total < size:
                got[fd] = total
                continue
            now = clock()
            if total > size:
                extra += 1
            elif n == size and buf[:size] != reply:
                bad += 1
            got[fd] = 0
            if sent_at[fd] >= warm_ns and now <= end_ns:
                latencies.append(now - sent_at[fd])
            if now < end_ns:
                sent_at[fd] = now
                sock.send(frame)
            else:
                if "end" not in cpu:
                    cpu["end"] = own_cpu()
                poller.unregister(fd)
                active -= 1
    poller.close()
    return {"latencies": latencies.tobytes(), "bad_replies": bad, "extra_bytes": extra,
            "client_cpu_s": cpu.get("end", own_cpu()) - cpu.get("start", 0.0)}


def many_clients(proc, port, kind, clients, procs, seconds, warm):
    """`clients` connections over `procs` worker processes: total msg/s, p50/p99 µs."""
    context = multiprocessing.get_context("fork")
    workers = []
    try:
        for i in range(procs):
            count = clients // procs + (1 if i < clients % procs else 0)
            if not count:
                continue
            mine, theirs = context.Pipe()
            worker = context.Process(target=many_clients_worker,
                                     args=(port, kind, count, theirs), daemon=True)
            worker.start()
            theirs.close()
            workers.append((worker, mine))
        for worker, pipe in workers:
            if not pipe.poll(SOCKET_TIMEOUT * 2):
                raise RuntimeError("a client process did not connect in time")
            answer = pipe.recv()
            if answer != "ready":
                raise RuntimeError("client process: %s" % answer.get("error"))
        warm_at = time.monotonic() + 0.05
        end_at = warm_at + warm + seconds
        warm_at += warm
        for _, pipe in workers:
            pipe.send((warm_at, end_at))
        time.sleep(max(0.0, warm_at - time.monotonic()))
        cpu_start, busy_start = server_cpu(proc.pid), machine_busy()
        time.sleep(max(0.0, end_at - time.monotonic()))
        cpu_end, busy_end = server_cpu(proc.pid), machine_busy()
        latencies = array("q")
        result = {"bad_replies": 0, "extra_bytes": 0, "client_cpu_s": 0.0}
        for _, pipe in workers:
            if not pipe.poll(SOCKET_TIMEOUT * 2):
                raise RuntimeError("a client process did not report in time")
            answer = pipe.recv()
            if "error" in answer:
                raise RuntimeError("client process: %s" % answer["error"])
            latencies.frombytes(answer["latencies"])
            for key in ("bad_replies", "extra_bytes", "client_cpu_s"):
                result[key] += answer[key]
    finally:
        for worker, pipe in workers:
            worker.join(CLOSE_TIMEOUT + 5)
            if worker.is_alive():
                worker.kill()
                worker.join(5)
            pipe.close()
    result.update({"clients": clients, "procs": len(workers), "msgs": len(latencies),
                   "msg_per_s": len(latencies) / seconds, "latencies": latencies,
                   "cpu": cpu_figures(cpu_end - cpu_start, result.pop("client_cpu_s"),
                                      busy_end - busy_start, seconds)})
    return result


def pipelined(proc, port, kind, count):
    """`count` 64-byte texts sent back to back by a thread, the echoes counted: msg/s.

    After a warm-up batch of count / 10; each batch on a new connection.
    """
    message = Message(kind, OP_TEXT, TEXT64)
    run(port, kind, message, max(1000, count // 10))
    with CpuWindow(proc.pid) as cpu:
        elapsed, tail_ok = run(port, kind, message, count)
    return {"msgs": count, "msg_per_s": count / elapsed, "seconds": elapsed,
            "last_reply_ok": tail_ok, "reply_bytes": len(message.reply), "cpu": cpu.result}


def run(port, kind, message, count):
    """One pipelined batch; return (seconds to the last echoed byte, last reply exact)."""
    blob = message.frame * count
    expected = len(message.reply) * count
    sock, rest = open_ws(port, kind)
    failure = []

    def send():
        try:
            sock.sendall(blob)
        except OSError as exc:
            failure.append(exc)

    buf = bytearray(RECV_BUFFER)
    sender = threading.Thread(target=send, daemon=True)
    try:
        start = time.perf_counter()
        sender.start()
        got, n = len(rest), 0
        while got < expected:
            try:
                n = sock.recv_into(buf)
            except OSError as exc:
                raise RuntimeError("pipelined: %d of %d echoes after a receive error (%s)%s"
                                   % (got // len(message.reply), count, exc,
                                      "; send failed: %s" % failure[0] if failure else ""))
            if n == 0:
                raise RuntimeError("pipelined: server closed after %d of %d echoes"
                                   % (got // len(message.reply), count))
            got += n
        elapsed = time.perf_counter() - start
        size = len(message.reply)
        tail_ok = got == expected and n >= size and buf[n - size:n] == message.reply
        sender.join(SOCKET_TIMEOUT)
    finally:
        close_all([sock], kind != "raw")
    return elapsed, tail_ok


def big_echo(proc, port, kind, message, runs, seconds):
    """1 MiB messages one at a time: best MB/s, payload bytes / round trip.

    At least `runs` messages and at least `seconds` of them (at most 1000), so
    that the CPU figures cover more than a few clock ticks.
    """
    sock, rest = open_ws(port, kind)
    buf = bytearray(len(message.reply))
    times = []
    try:
        if rest:
            raise RuntimeError("server sent %d bytes before any message" % len(rest))
        sock.setblocking(False)
        round_trip(sock, message, buf)  # warm-up
        with CpuWindow(proc.pid) as cpu:
            end = time.monotonic() + seconds
            while len(times) < 1000 and (len(times) < runs or time.monotonic() < end):
                times.append(round_trip(sock, message, buf))
    finally:
        sock.setblocking(True)
        close_all([sock], kind != "raw")
    return {"mbps": len(message.payload) / min(times) / MB, "times": times,
            "payload": len(message.payload), "opcode": message.opcode, "cpu": cpu.result}


def round_trip(sock, message, buf):
    """Send the frame and receive the reply at once (poll), so neither side blocks the other."""
    frame, size = memoryview(message.frame), len(message.reply)
    view = memoryview(buf)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLOUT)
    sent = got = 0
    start = time.perf_counter()
    while got < size:
        events = poller.poll(SOCKET_TIMEOUT * 1000)
        if not events:
            raise RuntimeError("1 MiB echo: nothing for %d s (%d of %d bytes back)"
                               % (SOCKET_TIMEOUT, got, size))
        mask = events[0][1]
        if mask & select.POLLOUT and sent < len(frame):
            try:
                sent += sock.send(frame[sent:])
            except BlockingIOError:
                pass
            if sent == len(frame):
                poller.modify(sock.fileno(), select.POLLIN)
        if mask & (select.POLLIN | select.POLLHUP | select.POLLERR):
            try:
                n = sock.recv_into(view[got:])
            except BlockingIOError:
                continue
            if n == 0:
                raise RuntimeError("1 MiB echo: server closed after %d of %d bytes"
                                   % (got, size))
            got += n
    elapsed = time.perf_counter() - start
    if buf != message.reply:
        raise RuntimeError("1 MiB echo: reply differs from the expected single frame")
    return elapsed


def held(proc, port, kind, count):
    """RSS idle, then with `count` idle upgraded connections: KiB per connection."""
    warm_up(port, kind)
    time.sleep(0.5)
    idle = read_rss(proc.pid)[0]
    socks = []
    try:
        start = time.monotonic()
        for _ in range(count):
            socks.append(open_ws(port, kind)[0])
        opened = time.monotonic() - start
        time.sleep(1.0)
        rss = read_rss(proc.pid)[0]
        alive = [echo_once(socks[0], kind), echo_once(socks[-1], kind)]
    finally:
        close_all(socks, kind != "raw")
    return {"connections": count, "idle_rss": idle, "rss_open": rss,
            "kib_per_conn": (rss - idle) / count / KIB, "open_seconds": opened,
            "first_and_last_still_echo": alive}


def warm_up(port, kind):
    """A few connections with a few echoes, so imports and pools exist before idle RSS."""
    for _ in range(20):
        sock, _ = open_ws(port, kind)
        try:
            for _ in range(10):
                echo_once(sock, kind)
        finally:
            close_all([sock], kind != "raw")


def echo_once(sock, kind):
    message = Message(kind, OP_TEXT, TEXT64)
    sock.sendall(message.frame)
    return recv_exact(sock, len(message.reply)) == message.reply


# --------------------------------------------------------------------------
# Servers and rounds
#
# All the servers run at once (idle ones cost nothing), so that every timed test
# can go round them in turn: round 1 visits each server for a short segment, then
# round 2, and so on. Figures drift by 10-20 % over minutes on this shared VM
# (cross-core wake-ups, other sessions' tests); interleaving spreads that drift over
# every server instead of charging it to whichever ran at a bad moment.

class Running:
    """One started server, its results so far and the segments of its timed tests."""

    def __init__(self, server, work, static, uploads):
        self.server = server
        self.kind = server.kind
        self.log_path = os.path.join(work, server.name.replace(" ", "_") + ".log")
        self.result = {"note": server.note, "kind": server.kind}
        self.segments = {}
        self.proc = None
        try:
            self.proc, self.port = start_server(server, static, uploads, self.log_path)
            self.result["port"] = self.port
        except Exception as exc:
            self.result["error"] = "start: %s" % exc

    def alive(self):
        if self.proc is None or "error" in self.result:
            return False
        if self.proc.poll() is not None:
            self.result["error"] = "server exited with %s" % self.proc.returncode
            return False
        return True

    def stop(self):
        if self.proc is not None:
            self.result["stop"] = stop_server(self.proc)
            self.result["log_tail"] = tail(self.log_path, 1500)


def first_checks(running, args):
    """Probes, then the held connections (RSS), one server at a time."""
    try:
        running.result["probes"] = run_probes(running.port, running.kind)
        text = running.result["probes"]["text_64"]
        if not text["ok"]:
            raise RuntimeError("64-byte text echo: %s" % text["detail"])
    except Exception as exc:
        running.result["error"] = "%s: %s" % (type(exc).__name__, exc)
        return
    try:
        running.result["held"] = held(running.proc, running.port, running.kind, args.held)
    except Exception as exc:
        running.result["held"] = {"error": "%s: %s" % (type(exc).__name__, exc)}


def timed_tests(args):
    """(name, placement, segment function of a Running, number of rounds)."""
    main = "split" if args.pin else "free"
    segment = args.seconds / args.rounds
    return [
        ("one_client", main, lambda r: one_client(r.proc, r.port, r.kind, segment, args.warm),
         args.rounds),
        ("one_client_same_core", "same",
         lambda r: one_client(r.proc, r.port, r.kind, segment, args.warm), args.rounds),
        ("many_clients", main, lambda r: many_clients(r.proc, r.port, r.kind, args.clients,
                                                      args.procs, segment, args.warm),
         args.rounds),
        ("pipelined", main, lambda r: pipelined(r.proc, r.port, r.kind, args.pipelined),
         args.pipelined_runs),
        ("big", main, lambda r: big_echo(r.proc, r.port, r.kind, big_message(r.result, r.kind),
                                         max(1, args.big_runs // args.rounds), segment),
         args.rounds),
    ]


def run_rounds(runnings, args):
    for name, placement, segment, rounds in timed_tests(args):
        for number in range(rounds):
            print("%s, round %d of %d ..." % (name, number + 1, rounds), flush=True)
            for running in runnings:
                if not running.alive() or not running.result.get("probes"):
                    continue
                try:
                    outcome = quiet_step(running.proc, placement,
                                         lambda: segment(running), args)
                except Exception as exc:
                    outcome = {"error": "%s: %s" % (type(exc).__name__, exc)}
                running.segments.setdefault(name, []).append(outcome)
                running.alive()
        for running in runnings:
            if name in running.segments:
                running.result[name] = AGGREGATE[name](running.segments.pop(name))


def quiet_step(proc, placement, step, args):
    """Run a timed segment when the machine is quiet; again if other processes took CPU.

    Other sessions may run tests on this machine: before each attempt wait (at most
    args.quiet_wait s) for the machine to be under OTHER_LIMIT % of a core busy; an
    attempt during which other processes used more than that is repeated, up to
    args.attempts times, and the attempt with the least other load is kept.
    """
    attempts = []
    for _ in range(args.attempts):
        quiet = wait_quiet(OTHER_LIMIT, args.quiet_wait)
        attempt = placed(proc, placement, step)
        attempt["quiet_before"] = quiet
        attempts.append(attempt)
        if attempt["cpu"]["other_pct"] <= OTHER_LIMIT:
            break
    best = min(attempts, key=lambda a: a["cpu"]["other_pct"])
    best["other_pct_per_attempt"] = [round(a["cpu"]["other_pct"], 1) for a in attempts]
    return best


# Aggregation of the segments of one server

def split_errors(segments):
    """(segments to aggregate, errors): segments that failed are left out, and so are
    those during which other processes used over OTHER_LIMIT % of a core, if any are
    left without them."""
    good = [s for s in segments if "error" not in s]
    errors = [s["error"] for s in segments if "error" in s]
    quiet = [s for s in good if s["cpu"]["other_pct"] <= OTHER_LIMIT]
    return quiet or good, errors


def mean_cpu(segments):
    total = sum(s["cpu"]["seconds"] for s in segments)
    cpu = {key: sum(s["cpu"][key] * s["cpu"]["seconds"] for s in segments) / total
           for key in ("server_pct", "client_pct", "other_pct")}
    cpu["seconds"] = total
    return cpu


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def with_errors(result, errors, segments):
    if errors:
        result["segment_errors"] = errors
    used = split_errors(segments)[0]
    result["segments_used"] = "%d of %d" % (len(used), len(segments))
    result["other_pct_per_segment"] = [s.get("other_pct_per_attempt") for s in segments]
    return result


def aggregate_rate(segments):
    """Round-trip tests: median msg/s of the segments, percentiles of all latencies."""
    good, errors = split_errors(segments)
    if not good:
        return {"error": errors[0], "segment_errors": errors}
    latencies = array("q")
    for s in good:
        latencies.extend(s.pop("latencies"))
    p50, p99 = percentiles(latencies)
    rates = [s["msg_per_s"] for s in good]
    result = {"msg_per_s": median(rates), "segments_msg_per_s": rates,
              "msgs": len(latencies), "p50_us": p50, "p99_us": p99, "cpu": mean_cpu(good),
              "placement": good[0]["placement"],
              "bad_replies": sum(s.get("bad_replies", 0) for s in good),
              "extra_bytes": sum(s.get("extra_bytes", 0) for s in good)}
    return with_errors(result, errors, segments)


def aggregate_pipelined(segments):
    """Best batch (msg/s), with its CPU."""
    good, errors = split_errors(segments)
    if not good:
        return {"error": errors[0], "segment_errors": errors}
    best = max(good, key=lambda s: s["msg_per_s"])
    result = {"msg_per_s": best["msg_per_s"], "batches_msg_per_s": [s["msg_per_s"] for s in good],
              "msgs": best["msgs"], "cpu": best["cpu"], "placement": best["placement"],
              "last_reply_ok": all(s["last_reply_ok"] for s in good)}
    return with_errors(result, errors, segments)


def aggregate_big(segments):
    """Best single round trip of all segments (MB/s), and the median one."""
    good, errors = split_errors(segments)
    if not good:
        return {"error": errors[0], "segment_errors": errors}
    times = sorted(t for s in good for t in s["times"])
    payload = good[0]["payload"]
    result = {"mbps": payload / times[0] / MB, "median_mbps": payload / median(times) / MB,
              "messages": len(times), "opcode": good[0]["opcode"], "cpu": mean_cpu(good),
              "placement": good[0]["placement"]}
    return with_errors(result, errors, segments)


AGGREGATE = {"one_client": aggregate_rate, "one_client_same_core": aggregate_rate,
             "many_clients": aggregate_rate, "pipelined": aggregate_pipelined,
             "big": aggregate_big}


def big_message(result, kind):
    """1 MiB binary, or 1 MiB text for a server whose binary echo failed the probe."""
    probes = result.get("probes", {})
    if probes.get("binary_1MiB", {}).get("exact"):
        return Message(kind, OP_BINARY, BIG_BINARY)
    if probes.get("text_1MiB", {}).get("exact"):
        return Message(kind, OP_TEXT, BIG_TEXT)
    raise RuntimeError("no 1 MiB echo came back as one exact frame (see probes)")


# --------------------------------------------------------------------------
# Report

STEPS = ("held", "one_client", "one_client_same_core", "many_clients", "pipelined", "big")


def figure(result, step, key):
    return (result.get(step) or {}).get(key)


def big_cell(result):
    value = figure(result, "big", "mbps")
    if value is None:
        return "N/A"
    return fmt(value) + (" (text)" if result["big"]["opcode"] == OP_TEXT else "")


def main_table(results):
    lines = [
        "| server | 1 client msg/s | p50 µs | p99 µs | 1 client, same core msg/s | p50 µs "
        "| 16 clients msg/s | p50 µs | p99 µs | pipelined msg/s | 1 MiB echo MB/s "
        "| 1 MiB median MB/s | idle RSS MB | KiB per held conn |",
        "| --- |" + " ---: |" * 13,
    ]
    for name, r in results.items():
        idle = figure(r, "held", "idle_rss")
        cells = [fmt(figure(r, "one_client", "msg_per_s")),
                 fmt(figure(r, "one_client", "p50_us")),
                 fmt(figure(r, "one_client", "p99_us")),
                 fmt(figure(r, "one_client_same_core", "msg_per_s")),
                 fmt(figure(r, "one_client_same_core", "p50_us")),
                 fmt(figure(r, "many_clients", "msg_per_s")),
                 fmt(figure(r, "many_clients", "p50_us")),
                 fmt(figure(r, "many_clients", "p99_us")),
                 fmt(figure(r, "pipelined", "msg_per_s")), big_cell(r),
                 fmt(figure(r, "big", "median_mbps")),
                 fmt(idle / MB if idle else None, 1), fmt(figure(r, "held", "kib_per_conn"), 1)]
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    return "\n".join(lines)


def cpu_table(results):
    steps = STEPS[1:]
    lines = ["| CPU % of one core: server / client / other processes | 1 client "
             "| 1 client, same core "
             "| 16 clients | pipelined | 1 MiB echo |", "| --- |" + " ---: |" * len(steps)]
    for name, r in results.items():
        cells = []
        for step in steps:
            cpu = figure(r, step, "cpu")
            if not cpu:
                cells.append("N/A")
            elif cpu["seconds"] < MIN_CPU_WINDOW:
                cells.append("(%.0f ms)" % (cpu["seconds"] * 1000))
            else:
                cells.append("%.0f / %.0f / %.0f" % (cpu["server_pct"], cpu["client_pct"],
                                                    cpu["other_pct"]))
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    return "\n".join(lines)


METRICS = [("1 client msg/s", "one_client", "msg_per_s"),
           ("1 client, same core msg/s", "one_client_same_core", "msg_per_s"),
           ("16 clients msg/s", "many_clients", "msg_per_s"),
           ("pipelined msg/s", "pipelined", "msg_per_s"),
           ("1 MiB echo MB/s", "big", "mbps"),
           ("1 MiB median MB/s", "big", "median_mbps"),
           ("KiB per held conn (lower is better)", "held", "kib_per_conn")]


def ratio_table(results):
    ours = results["wsserver"]
    lines = ["| wsserver / peer | %s |" % " | ".join(m[0] for m in METRICS),
             "| --- |" + " ---: |" * len(METRICS)]
    for name, r in results.items():
        if name == "wsserver":
            continue
        cells = [fmt(ratio(figure(ours, step, key), figure(r, step, key)), 2)
                 for _, step, key in METRICS]
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    return "\n".join(lines)


def target_lines(results):
    ours = results["wsserver"]

    def versus(peer, step, key):
        return ratio(figure(ours, step, key), figure(results.get(peer, {}), step, key))

    checks = [
        ("1-client echo within 10 % of the raw ping-pong (ratio >= 0.90; split cores)",
         versus("raw ping-pong", "one_client", "msg_per_s"), 0.90, True),
        ("same, both on one core (ratio >= 0.90)",
         versus("raw ping-pong", "one_client_same_core", "msg_per_s"), 0.90, True),
        ("16-client echo >= aiohttp", versus("aiohttp", "many_clients", "msg_per_s"), 1.0, True),
        ("1 MiB echo >= aiohttp (best round trips)", versus("aiohttp", "big", "mbps"), 1.0,
         True),
        ("same, median round trips", versus("aiohttp", "big", "median_mbps"), 1.0, True),
        ("pipelined >= websocket-server",
         versus("websocket-server", "pipelined", "msg_per_s"), 1.0, True),
        ("<= 20 KiB per held echo connection", figure(ours, "held", "kib_per_conn"), 20.0, False),
    ]
    return target_verdicts(checks)


def ceiling_warnings(results):
    """A figure over 80 % of the best client-ceiling server's may be client-bound."""
    for name, r in results.items():
        if name in CEILINGS or name == "raw ping-pong":
            continue
        for label, step, key in METRICS[:6]:
            tops = [figure(results.get(c, {}), step, key) for c in CEILINGS]
            tops = [t for t in tops if t]
            ours = figure(r, step, key)
            if ours and tops and ours > 0.8 * max(tops):
                yield ("NEAR THE CEILING: %s %s is %.0f %% of the client ceiling (%s): "
                       "the client or the loopback may be the limit there"
                       % (name, label, 100 * ours / max(tops), fmt(max(tops))))


def load_warnings(results):
    """Tests where other processes took CPU: segments dropped, or all of them loaded."""
    for name, r in results.items():
        for step in STEPS[1:]:
            cpu, used = figure(r, step, "cpu"), figure(r, step, "segments_used")
            if cpu and cpu["other_pct"] > OTHER_LIMIT:
                yield ("LOADED: %s %s ran while other processes used %.0f %% of a core "
                       "(per segment and attempt: %s)"
                       % (name, step, cpu["other_pct"],
                          figure(r, step, "other_pct_per_segment")))
            elif used and used.split()[0] != used.split()[-1]:
                yield ("- %s %s: %s segments used (the others ran while other processes "
                       "used over %d %% of a core)" % (name, step, used, OTHER_LIMIT))


def probe_lines(results):
    for name, r in results.items():
        probes = r.get("probes")
        if probes:
            yield "- %s: %s" % (name, "; ".join("%s: %s" % (key, p["detail"])
                                               for key, p in probes.items()))


def problem_lines(results):
    for name, r in results.items():
        if r.get("error"):
            yield "- %s ERROR: %s" % (name, r["error"])
        for step in STEPS:
            if figure(r, step, "error"):
                yield "- %s %s: %s" % (name, step, figure(r, step, "error"))
        for step in ("one_client", "one_client_same_core", "many_clients"):
            if figure(r, step, "bad_replies") or figure(r, step, "extra_bytes"):
                yield "- %s %s: %d replies differ, %d with extra bytes" % (
                    name, step, figure(r, step, "bad_replies") or 0,
                    figure(r, step, "extra_bytes") or 0)
        if figure(r, "pipelined", "last_reply_ok") is False:
            yield "- %s pipelined: the last echo differs from the expected frame" % name
        alive = figure(r, "held", "first_and_last_still_echo")
        if alive and not all(alive):
            yield "- %s held: first/last held connection echo: %s" % (name, alive)
        if r.get("error") or any(figure(r, step, "error") for step in STEPS):
            yield "  %s log tail: %s" % (name, r.get("log_tail", "")[-600:])


def report(results, args):
    clients = lambda text: text.replace("16 clients", "%d clients" % args.clients)
    print()
    print(clients(main_table(results)))
    print()
    print(clients(cpu_table(results)))
    if "wsserver" in results:
        print()
        print(clients(ratio_table(results)))
        print()
        print("Targets (wsserver):")
        print(target_lines(results))
    print()
    for line in ceiling_warnings(results):
        print(line)
    for line in load_warnings(results):
        print(line)
    print("64-byte text messages; %s s per server and test in %d interleaved rounds, each "
          "after %s s of warm-up; %s; "
          "same core: both on CPU %s; %d clients over %d client processes; pipelined "
          "N = %d, best of %d; 1 MiB binary, best round trip of >= %d (>= %s s); "
          "%d held connections; %d CPUs; Python %s; %s"
          % (args.seconds, args.rounds, args.warm,
             "pinned: server CPU %s, client CPU %s" % (sorted(PLACEMENTS["split"][0])[0],
                                                       sorted(PLACEMENTS["split"][1])[0])
             if args.pin else "placement left to the scheduler (--no-pin)",
             sorted(PLACEMENTS["same"][0])[0],
             args.clients, args.procs, args.pipelined, args.pipelined_runs, args.big_runs,
             args.seconds,
             args.held, os.cpu_count(), platform.python_version(), websockets_version()))
    print("Probes:")
    for line in probe_lines(results):
        print(line)
    benchlib.print_problems(problem_lines(results))
    print("Notes:")
    for name, r in results.items():
        print("- %s: %s; stop: %s" % (name, r["note"], r.get("stop")))


def save(results, args):
    save_results(RESULTS, args.quick, {
        "settings": {k: getattr(args, k) for k in
                     ("seconds", "rounds", "warm", "clients", "procs", "pipelined",
                      "pipelined_runs", "held", "big_runs", "pin", "attempts",
                      "quiet_wait")},
        "other_limit_pct": OTHER_LIMIT,
        "cpus_used": ALL_CPUS, "placements": {k: [sorted(c) for c in v]
                                              for k, v in PLACEMENTS.items()},
        "message_bytes": len(TEXT64), "big_bytes": BIG_SIZE,
        "python": sys.version, "cpus": os.cpu_count(), "versions": websockets_version(),
        "servers": results})


# --------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 s runs, N = 20,000 pipelined, 100 held connections")
    parser.add_argument("--servers", default=",".join(s.name for s in SERVERS if not s.reference),
                        help="comma-separated subset of: %(default)s (the two reference "
                             "servers always run)")
    parser.add_argument("--clients", type=int, default=16,
                        help="connections in the concurrent test (default %(default)s)")
    parser.add_argument("--procs", type=int, default=None,
                        help="client processes driving them (default 1 when pinned: they "
                             "share one CPU, and a second one only adds scheduling delays; "
                             "2 with --no-pin)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="let the scheduler place server and client (default: pinned "
                             "to different CPUs)")
    args = parser.parse_args()
    if args.procs is None:
        args.procs = 1 if args.pin else 2
    apply_settings(args, QUICK, FULL)
    return args


def main():
    args = parse_args()
    raise_nofile(args.held * 2 + 256)  # the servers inherit it too
    wanted = wanted_servers(args.servers, SERVERS)
    servers = [s for s in SERVERS if s.name in wanted or s.reference]
    work, static, uploads = make_work("wsbench-")
    runnings = []
    try:
        for server in servers:
            print("Starting %s ..." % server.name, flush=True)
            runnings.append(Running(server, work, static, uploads))
        for running in runnings:
            if running.alive():
                print("Probes and held connections: %s ..." % running.server.name, flush=True)
                first_checks(running, args)
        run_rounds(runnings, args)
    finally:
        for running in runnings:
            running.stop()
        shutil.rmtree(work, ignore_errors=True)
    results = {running.server.name: running.result for running in runnings}
    report(results, args)
    save(results, args)


if __name__ == "__main__":
    main()
