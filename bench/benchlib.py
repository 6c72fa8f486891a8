"""Helpers shared by bench/http_bench.py, ws_bench.py and livelog_bench.py.

One copy of each, so that every benchmark starts, watches and stops its server
subprocesses, reads memory and CPU, and reports in the same way: a fix to one
(say, how a server's start is detected) then reaches all three.
"""

import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", "peers")

HOST = "127.0.0.1"
MB = 1000 * 1000
KIB = 1024
START_TIMEOUT = 20              # seconds for a server to print its URL


# --------------------------------------------------------------------------
# Servers: ports, processes, logs

class Server:
    """How to start one server: `argv(port as str, *rest)` is its script and arguments,
    run with this Python; `note` goes into the report."""

    def __init__(self, name, argv, note):
        self.name = name
        self.argv = argv
        self.note = note

    def command(self, port, *rest):
        return [sys.executable] + self.argv(str(port), *rest)


def peer_argv(script, port, *extra):
    """The argv of a peer script in bench/peers/: `SCRIPT PORT -b HOST [extra]`."""
    return [os.path.join(PEERS, script), port, "-b", HOST] + list(extra)


def free_port():
    """A port the kernel just handed out on 127.0.0.1 (then released)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def make_work(prefix):
    """A temp folder with empty static/ and uploads/ (the servers' -d and --uploads)."""
    work = tempfile.mkdtemp(prefix=prefix)
    static = os.path.join(work, "static")
    uploads = os.path.join(work, "uploads")
    os.mkdir(static)
    os.mkdir(uploads)
    return work, static, uploads


def popen(argv, log, env):
    """A subprocess in the repository root with stdout and stderr to `log`."""
    return subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)


def spawn(argv, log_path, port, heading=None, control_port=None):
    """Start argv and wait for its URL line; return the process.

    Output goes to a file, not a pipe: a chatty server (http.server logs every
    request) would otherwise block once the pipe buffer fills. With `heading`
    the log is appended to (several runs share it), else written anew. With
    `control_port`, that port must accept too.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "ab" if heading else "wb") as log:
        if heading:
            log.write(heading.encode())
            log.flush()
        proc = popen(argv, log, env)
    try:
        wait_listening(proc, log_path, port)
        if control_port is not None and control_port != port:
            socket.create_connection((HOST, control_port), timeout=5).close()
    except BaseException:
        stop_server(proc)
        raise
    return proc


def start_server(server, static, uploads, log_path):
    """Start `server` on a free port serving `static`; return (process, port)."""
    port = free_port()
    return spawn(server.command(port, static, uploads), log_path, port), port


def wait_listening(proc, log_path, port):
    """Wait until the log shows http://HOST:PORT/ and the port accepts."""
    url = ("http://%s:%d/" % (HOST, port)).encode()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s: %s" % (proc.returncode, tail(log_path)))
        with open(log_path, "rb") as log:
            if url in log.read():
                socket.create_connection((HOST, port), timeout=5).close()
                return
        time.sleep(0.05)
    raise RuntimeError("no %s line after %d s: %s" % (url.decode(), START_TIMEOUT,
                                                      tail(log_path)))


def tail(path, size=600):
    """The end of a server's log, for error reports."""
    with open(path, "rb") as log:
        return log.read()[-size:].decode("utf-8", "replace").strip()


def stop_server(proc):
    """Terminate, then kill if it does not go within 5 s; say which it took."""
    if proc.poll() is not None:
        return "had exited (%s)" % proc.returncode
    start = time.monotonic()
    proc.terminate()
    try:
        proc.wait(5)
        return "SIGTERM, exited in %.2f s" % (time.monotonic() - start)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        return "SIGTERM ignored for 5 s, killed"


def raise_nofile(needed):
    """Raise this process's open-file limit (servers started later inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def wanted_servers(spec, servers):
    """The names in a --servers list; exit on a name that is not in `servers`."""
    wanted = [name.strip() for name in spec.split(",")]
    unknown = set(wanted) - {s.name for s in servers}
    if unknown:
        sys.exit("unknown servers: %s" % ", ".join(sorted(unknown)))
    return wanted


def apply_settings(args, quick, full):
    """Copy the --quick or the full settings onto args."""
    for key, value in (quick if args.quick else full).items():
        setattr(args, key, value)


# --------------------------------------------------------------------------
# Memory and CPU, from /proc

def read_rss(pid):
    """(VmRSS, VmHWM) in bytes from /proc/PID/status."""
    values = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, kib = line.split()[:2]
                values[name] = int(kib) * 1024
    return values["VmRSS:"], values["VmHWM:"]


def read_threads(pid):
    """The process's thread count (Threads: in /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return None


def count_fds(pid):
    """The process's open file descriptors (entries of /proc/PID/fd)."""
    return len(os.listdir("/proc/%d/fd" % pid))


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def server_cpu(pid):
    """User + system CPU seconds of a process, all its threads."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def own_cpu():
    """User + system CPU seconds of this process (the client side)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy():
    """CPU seconds spent in user, nice and system mode by the whole machine (/proc/stat)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return sum(int(value) for value in fields[1:4]) / CLOCK_TICK


def wait_quiet(limit_pct, max_wait):
    """Wait (at most max_wait s) until the machine is less than limit_pct % of a core busy.

    The machine is shared: a timed run while other processes take CPU measures them too.
    """
    start = time.monotonic()
    while True:
        before = machine_busy()
        time.sleep(0.5)
        busy_pct = 100 * (machine_busy() - before) / 0.5
        if busy_pct < limit_pct or time.monotonic() - start > max_wait:
            return {"busy_pct": busy_pct, "waited_s": time.monotonic() - start - 0.5}


ALL_CPUS = sorted(os.sched_getaffinity(0))


def pin(pid, server_cpus, client_cpus):
    """Every thread of the server on server_cpus (new threads inherit it), this one on client_cpus."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            os.sched_setaffinity(int(tid), server_cpus)
        except OSError:       # the thread just ended
            pass
    os.sched_setaffinity(0, client_cpus)


def unpin(pid):
    pin(pid, set(ALL_CPUS), set(ALL_CPUS))


# --------------------------------------------------------------------------
# WebSocket client frames and the upgrade request

KEY = "dGhlIHNhbXBsZSBub25jZQ=="          # RFC 6455 sample key, and its accept value
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
MASK = b"\x37\xfa\x21\x3d"  # fixed masking key: frames are masked once, at start-up


def apply_mask(data, key):
    n = len(data)
    full = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(full, "big")).to_bytes(n, "big")


def frame_head(opcode, length, masked):
    bit = 0x80 if masked else 0
    if length < 126:
        return struct.pack(">BB", 0x80 | opcode, bit | length)
    if length < 65536:
        return struct.pack(">BBH", 0x80 | opcode, bit | 126, length)
    return struct.pack(">BBQ", 0x80 | opcode, bit | 127, length)


def client_frame(opcode, payload):
    """A final client frame, masked with MASK."""
    return frame_head(opcode, len(payload), True) + MASK + apply_mask(payload, MASK)


def upgrade_request(path, port):
    """The WebSocket upgrade GET for ws://HOST:PORT/PATH with KEY."""
    return ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (path, HOST, port, KEY)).encode()


def recv_head(sock, limit, closed, too_big):
    """Receive up to the end of an HTTP head; RuntimeError(closed(data so far)) on EOF,
    RuntimeError(too_big) past `limit` bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(closed(data))
        data += chunk
        if len(data) > limit:
            raise RuntimeError(too_big)
    return data


def parse_head(data):
    """(head, its lines, headers dict with lower-case names, the bytes past it)."""
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head, lines, headers, rest


# --------------------------------------------------------------------------
# Report

def fmt(value, digits=0):
    return "N/A" if value is None else "{:,.{}f}".format(value, digits)


def ratio(a, b):
    return a / b if a and b else None


def target_verdicts(checks):
    """Markdown lines for (label, value, bound, at_least) targets: met, MISSED or not measured."""
    lines = []
    for label, value, bound, at_least in checks:
        if value is None:
            verdict = "not measured"
        else:
            met = value >= bound if at_least else value <= bound
            verdict = "%s (%.2f)" % ("met" if met else "MISSED", value)
        lines.append("- %s: %s" % (label, verdict))
    return "\n".join(lines)


def print_problems(lines):
    """A "Problems:" section, only if there are any."""
    problems = list(lines)
    if problems:
        print("Problems:")
        for line in problems:
            print(line)


def save_results(path, quick, data):
    """Write the raw figures as JSON (with the time and --quick first) and say where."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    full = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": quick}
    full.update(data)
    with open(path, "w") as out:
        json.dump(full, out, indent=2)
    print("Raw results: %s" % os.path.relpath(path))
