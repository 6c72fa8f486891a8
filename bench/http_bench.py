"""HTTP benchmark: wsserver against aiohttp, http.server and uploadserver.

Run from the repository root (needs `pip install -r bench/requirements.txt` and
`apt-get install -y wrk`):

    python bench/http_bench.py            # full run: 100 MiB file, 5 s wrk runs
    python bench/http_bench.py --quick    # smoke run: 10 MiB file, 2 s wrk runs
    python bench/http_bench.py --servers aiohttp,uploadserver   # a subset

Every server runs as a subprocess on 127.0.0.1 with a free port and serves the
same generated files (small.bin, 1 KiB; big.bin, 100 MiB) from a temporary
folder, with an empty uploads folder. For each one it measures:

- GET small.bin with keep-alive: `wrk -t1 -c10` (req/s, non-2xx and socket
  errors), after checking one response byte for byte;
- GET big.bin without keep-alive: raw-socket client, best of 3 (MB/s);
- upload of big.bin: raw `PUT` (multipart `POST` where the server has no raw
  upload), best of 3 (MB/s), stored size checked;
- RSS: idle after a warm-up, and the peak while uploading big.bin (VmRSS sampled
  every 5 ms, and VmHWM).

It prints a Markdown table, the ratios of wsserver to each peer and the targets
against aiohttp, and writes the raw figures to bench/results/http.json.
MB means 10**6 bytes throughout.
"""

import argparse
import filecmp
import http.client
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time

from benchlib import (HOST, MB, PEERS, ROOT, fmt, make_work, ratio, read_rss, save_results,
                      start_server, stop_server, tail, target_verdicts)
import benchlib

RESULTS = os.path.join(ROOT, "bench", "results", "http.json")

SMALL_SIZE = 1024
BIG_SIZE = 100 * 1024 * 1024
QUICK_BIG_SIZE = 10 * 1024 * 1024
RECV_BUFFER = 16 * 1024 * 1024  # big enough that the client is never the limit
DISCARD_FLAGS = socket.MSG_TRUNC if sys.platform == "linux" else 0
SOCKET_TIMEOUT = 60             # seconds for any single blocking socket call
SAMPLE_INTERVAL = 0.005         # RSS sampling period during uploads
RUNS = 3                        # default best-of count for the big transfers (--runs)
CEILING_RUNS = 5                # best of CEILING_RUNS for the client ceiling
UPLOAD_NAME = "bench-upload.bin"
BOUNDARY = "wsserverbenchboundary7MA4YWxkTrZu0gW"


# --------------------------------------------------------------------------
# The servers under test

class Server(benchlib.Server):
    """How to start one server and how it takes uploads.

    `argv` is a function (port, static, uploads) -> argv list. `upload` is "put"
    (raw PUT /uploads/NAME, stored in the uploads folder), "multipart" (POST
    /upload, stored in the served folder: uploadserver has no other) or None (no
    upload at all).
    """

    def __init__(self, name, argv, upload, note=""):
        super().__init__(name, argv, note)
        self.upload = upload

    def upload_target(self, static, uploads):
        """(request path, where the stored file lands) for this server."""
        if self.upload == "multipart":
            return "/upload", os.path.join(static, UPLOAD_NAME)
        return "/uploads/" + UPLOAD_NAME, os.path.join(uploads, UPLOAD_NAME)


SERVERS = [
    Server("wsserver",
           lambda p, s, u: [os.path.join(ROOT, "run.py"), p, "-b", HOST,
                            "-d", s, "--uploads", u],
           "put", "run.py logs every request at INFO (to a file here)"),
    Server("aiohttp",
           lambda p, s, u: [os.path.join(PEERS, "aiohttp_server.py"), p,
                            "-b", HOST, "-d", s, "--uploads", u],
           "put", "web.static (stat/open in the default thread pool) + streaming PUT; "
           "default asyncio loop, no access log"),
    Server("http.server 1.1",
           lambda p, s, u: ["-m", "http.server", p, "-b", HOST, "-d", s,
                            "-p", "HTTP/1.1"],
           None, "no upload (PUT is 501); head and body go out as two writes, so "
           "each keep-alive response waits ~40 ms for the client's delayed ACK (Nagle)"),
    Server("http.server 1.0",
           lambda p, s, u: ["-m", "http.server", p, "-b", HOST, "-d", s],
           None, "no upload (PUT is 501); closes after every response; logs every request"),
    Server("uploadserver",
           lambda p, s, u: ["-m", "uploadserver", p, "-b", HOST,
                            "--directory", s, "--allow-replace"],
           "multipart", "upload is multipart POST /upload only (PUT is parsed "
           "as multipart too); HTTP/1.0, closes after every response"),
]


# --------------------------------------------------------------------------
# Files

def make_workspace(big_size):
    """A temp folder with static/{small.bin,big.bin} and an empty uploads/."""
    work, static, uploads = make_work("wsbench-")
    write_random(os.path.join(static, "small.bin"), SMALL_SIZE)
    write_random(os.path.join(static, "big.bin"), big_size)
    return work, static, uploads


def write_random(path, size):
    """Random bytes, so nothing in the path can compress or special-case them."""
    with open(path, "wb") as out:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            out.write(os.urandom(n))
            left -= n


# --------------------------------------------------------------------------
# Memory

class RssSampler(threading.Thread):
    """Samples VmRSS every 5 ms until stopped, keeping the highest value."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = read_rss(pid)[0]
        self.samples = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(SAMPLE_INTERVAL):
            self.peak = max(self.peak, read_rss(self.pid)[0])
            self.samples += 1

    def stop(self):
        self.done.set()
        self.join(5)
        self.peak = max(self.peak, read_rss(self.pid)[0])
        return self.peak


# --------------------------------------------------------------------------
# Raw-socket HTTP client for the big transfers

def connect(port):
    return socket.create_connection((HOST, port), timeout=SOCKET_TIMEOUT)


def read_head(sock, limit=65536):
    """Read a response head; return (status, headers dict, bytes already read past it)."""
    data = benchlib.recv_head(
        sock, limit, lambda data: "connection closed before the response head: %r" % data[:200],
        "response head over %d bytes" % limit)
    _, lines, headers, rest = benchlib.parse_head(data)
    return int(lines[0].split()[1]), headers, rest


def recv_discard(sock, count, buffer):
    """Receive and drop up to `count` bytes; return how many came.

    On Linux MSG_TRUNC makes the kernel drop TCP data instead of copying it
    out: with the copy, this client tops out near what sendfile servers
    reach on loopback, and would be measuring itself.
    """
    view = memoryview(buffer)
    left = count
    while left > 0:
        n = sock.recv_into(view, min(left, len(buffer)), DISCARD_FLAGS)
        if n == 0:
            break
        left -= n
    return count - left


def read_body(sock, headers, rest):
    """The (small) response body, by Content-Length; '' if there is none."""
    length = int(headers.get("content-length", "0"))
    body = rest
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return body[:length]


def get_big(port, path, size, buffer):
    """GET one big file with Connection: close; return seconds to the last byte."""
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
               % (path, HOST, port)).encode()
    start = time.perf_counter()
    with connect(port) as sock:
        sock.sendall(request)
        status, headers, rest = read_head(sock)
        got = len(rest) + recv_discard(sock, size - len(rest), buffer)
    elapsed = time.perf_counter() - start
    if status != 200 or got != size or headers.get("content-length") != str(size):
        raise RuntimeError("GET %s: status %d, Content-Length %s, got %d of %d bytes"
                           % (path, status, headers.get("content-length"), got, size))
    return elapsed


def upload_head(kind, port, path, size):
    """The request head and the body parts around the file for a raw or multipart upload."""
    if kind == "multipart":
        before = ("--%s\r\nContent-Disposition: form-data; name=\"files\"; "
                  "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                  % (BOUNDARY, UPLOAD_NAME)).encode()
        after = ("\r\n--%s--\r\n" % BOUNDARY).encode()
        content_type = "multipart/form-data; boundary=" + BOUNDARY
        method = "POST"
    else:
        before = after = b""
        content_type = "application/octet-stream"
        method = "PUT"
    head = ("%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n"
            % (method, path, HOST, port, content_type,
               len(before) + size + len(after))).encode()
    return head, before, after


def upload(kind, port, path, file_path):
    """Send the head, then the file with socket.sendfile; return (seconds, status).

    The clock stops when the response head arrives: that is when the server
    says the file is stored.
    """
    size = os.path.getsize(file_path)
    head, before, after = upload_head(kind, port, path, size)
    start = time.perf_counter()
    with connect(port) as sock, open(file_path, "rb") as body:
        sock.sendall(head + before)
        sock.sendfile(body)
        sock.sendall(after)
        status, headers, rest = read_head(sock)
        elapsed = time.perf_counter() - start
        read_body(sock, headers, rest)
    return elapsed, status


def probe_raw_put(port, path):
    """Status of a 16-byte raw PUT to the upload path: does the server take raw uploads?"""
    request = ("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: 16\r\n"
               "Connection: close\r\n\r\n0123456789abcdef" % (path, HOST, port))
    try:
        with connect(port) as sock:
            sock.sendall(request.encode())
            status, headers, rest = read_head(sock)
            read_body(sock, headers, rest)
    except (OSError, RuntimeError) as exc:
        return "no response (%s)" % exc
    return status


# --------------------------------------------------------------------------
# Client ceiling: the same client against trivial in-process servers

def serve_in_process(handle, runs):
    """Listen on a free port; a thread hands `runs` accepted sockets to `handle`."""
    listener = socket.create_server((HOST, 0))
    listener.settimeout(SOCKET_TIMEOUT)

    def loop():
        with listener:
            for _ in range(runs):
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(SOCKET_TIMEOUT)
                    handle(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def skip_request_head(conn):
    """Read a request head; return its Content-Length and the bytes read past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return 0, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value), rest
    return 0, rest


def client_ceiling(big_path):
    """Best MB/s of the GET and PUT clients against sendfile / discard-only servers."""
    size = os.path.getsize(big_path)
    buffer = bytearray(RECV_BUFFER)

    def send_file(conn):
        skip_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        with open(big_path, "rb") as body:
            conn.sendfile(body)

    def sink(conn):
        length, rest = skip_request_head(conn)
        recv_discard(conn, length - len(rest), bytearray(RECV_BUFFER))
        conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    port, thread = serve_in_process(send_file, CEILING_RUNS)
    get_s = min(get_big(port, "/big.bin", size, buffer) for _ in range(CEILING_RUNS))
    thread.join(SOCKET_TIMEOUT)
    port, thread = serve_in_process(sink, CEILING_RUNS)
    put_s = min(upload("put", port, "/x", big_path)[0] for _ in range(CEILING_RUNS))
    thread.join(SOCKET_TIMEOUT)
    return {"get_mbps": size / get_s / MB, "put_mbps": size / put_s / MB}


# --------------------------------------------------------------------------
# Measurements against one running server

def sanity_get(port, small_path):
    """One keep-alive GET of small.bin must return exactly the file."""
    with open(small_path, "rb") as f:
        expected = f.read()
    conn = http.client.HTTPConnection(HOST, port, timeout=SOCKET_TIMEOUT)
    try:
        conn.request("GET", "/small.bin")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200 or body != expected:
        raise RuntimeError("GET /small.bin: status %d, %d bytes, body %s"
                           % (response.status, len(body),
                              "matches" if body == expected else "differs"))
    return {"status": response.status, "bytes": len(body),
            "content_type": response.getheader("Content-Type"),
            "keep_alive": not response.will_close}


def warm_up(port):
    """A few requests so imports, caches and thread pools exist before idle RSS."""
    for _ in range(20):
        conn = http.client.HTTPConnection(HOST, port, timeout=SOCKET_TIMEOUT)
        try:
            conn.request("GET", "/small.bin")
            conn.getresponse().read()
        finally:
            conn.close()


def run_wrk(port, seconds):
    """wrk -t1 -c10 on small.bin; return req/s and the error counts it reports."""
    argv = ["wrk", "-t1", "-c10", "-d%ds" % seconds, "--timeout", "5s",
            "http://%s:%d/small.bin" % (HOST, port)]
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    result = {"rps": None, "requests": None, "non_2xx_3xx": 0,
              "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif "requests in" in line:
            result["requests"] = int(words[0])
        elif "Non-2xx or 3xx responses:" in line:
            result["non_2xx_3xx"] = int(words[-1])
        elif "Socket errors:" in line:
            pairs = line.split(":", 1)[1].split(",")
            for pair in pairs:
                name, count = pair.split()
                result["socket_errors"][name] = int(count)
    if result["rps"] is None:
        raise RuntimeError("wrk printed no Requests/sec:\n" + out)
    return result


def measure_get_big(port, size, runs):
    """Best of `runs` raw-socket GETs of big.bin, Connection: close."""
    buffer = bytearray(RECV_BUFFER)
    times = [get_big(port, "/big.bin", size, buffer) for _ in range(runs)]
    return {"mbps": size / min(times) / MB, "seconds": times}


def measure_upload(server, proc, port, static, uploads, big_path, runs):
    """Best of `runs` uploads of big.bin, with RSS sampled during each one."""
    path, stored = server.upload_target(static, uploads)
    times, statuses, peaks = [], [], []
    for _ in range(runs):
        sampler = RssSampler(proc.pid)
        sampler.start()
        try:
            elapsed, status = upload(server.upload, port, path, big_path)
        finally:
            peaks.append(sampler.stop())
        check_stored(server.upload + " " + path, status, stored, big_path)
        os.remove(stored)
        times.append(elapsed)
        statuses.append(status)
    size = os.path.getsize(big_path)
    return {"mbps": size / min(times) / MB, "seconds": times, "statuses": statuses,
            "kind": server.upload, "peak_rss": max(peaks), "samples_last": sampler.samples,
            "vm_hwm": read_rss(proc.pid)[1]}


def check_stored(label, status, stored, big_path):
    """The upload must succeed, store the exact bytes, and leave no temporary file."""
    folder = os.path.dirname(stored)
    expected = {os.path.basename(stored), "small.bin", "big.bin"}
    leftovers = sorted(set(os.listdir(folder)) - expected)
    problems = []
    if status not in (200, 201, 204):
        problems.append("status %d" % status)
    if not os.path.exists(stored):
        problems.append("nothing stored")
    elif not filecmp.cmp(stored, big_path, shallow=False):
        problems.append("stored %d bytes that differ from the %d sent"
                        % (os.path.getsize(stored), os.path.getsize(big_path)))
    if leftovers:
        problems.append("left over in the folder: %s" % ", ".join(leftovers))
    if problems:
        raise RuntimeError("%s: %s" % (label, "; ".join(problems)))


def measure_server(server, work, static, uploads, args):
    """Start one server, run every measurement it supports, always stop it.

    Uploads run right after the idle RSS reading, before wrk and the big GETs,
    so that VmHWM and the sampled peak reflect the upload and nothing else.
    """
    log_path = os.path.join(work, server.name.replace(" ", "_") + ".log")
    proc, port = start_server(server, static, uploads, log_path)
    result = {"note": server.note, "port": port}
    try:
        result["sanity"] = sanity_get(port, os.path.join(static, "small.bin"))
        warm_up(port)
        path = server.upload_target(static, uploads)[0]
        result["raw_put_probe"] = "PUT %s: %s" % (path, probe_raw_put(port, path))
        remove_extras(static, uploads)
        time.sleep(0.5)
        result["idle_rss"] = read_rss(proc.pid)[0]
        big_path = os.path.join(static, "big.bin")
        if server.upload:
            result["upload"] = measure_upload(server, proc, port, static, uploads,
                                              big_path, args.runs)
        result["get_big"] = measure_get_big(port, args.big_size, args.runs)
        result["wrk"] = run_wrk(port, args.wrk_seconds)
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
    except Exception as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
        result["log_tail"] = tail(log_path)
    finally:
        result["stop"] = stop_server(proc)
        remove_extras(static, uploads)
    return result


def remove_extras(static, uploads):
    """Keep static/ to the two generated files and uploads/ empty between runs."""
    for folder, keep in ((static, ("small.bin", "big.bin")), (uploads, ())):
        for name in os.listdir(folder):
            if name not in keep:
                path = os.path.join(folder, name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)


# --------------------------------------------------------------------------
# Report

def figures(result):
    """The headline numbers of one server, None where not measured."""
    wrk = result.get("wrk") or {}
    upload = result.get("upload") or {}
    idle = result.get("idle_rss")
    peak = upload.get("peak_rss")
    hwm = upload.get("vm_hwm")
    return {
        "rps": wrk.get("rps"),
        "get_mbps": (result.get("get_big") or {}).get("mbps"),
        "put_mbps": upload.get("mbps"),
        "idle_mb": idle / MB if idle else None,
        "peak_delta_mb": (peak - idle) / MB if peak and idle else None,
        "hwm_delta_mb": (hwm - idle) / MB if hwm and idle else None,
    }


def errors_cell(result):
    wrk = result.get("wrk")
    if not wrk:
        return "N/A"
    return "%d / %d" % (wrk["non_2xx_3xx"], sum(wrk["socket_errors"].values()))


def upload_cell(result):
    upload = result.get("upload")
    if not upload:
        return "N/A (%s)" % result.get("raw_put_probe", "?")
    label = "" if upload["kind"] == "put" else " (multipart POST)"
    return fmt(upload["mbps"]) + label


def main_table(results):
    lines = [
        "| server | 1 KiB GET req/s (wrk -c10) | non-2xx / socket errors | "
        "100 MiB GET MB/s | 100 MiB upload MB/s | idle RSS MB | "
        "upload peak - idle MB (sampled / VmHWM) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in results.items():
        if "error" in result and "wrk" not in result:
            lines.append("| %s | ERROR: %s | | | | | |" % (name, result["error"]))
            continue
        f = figures(result)
        lines.append("| %s | %s | %s | %s | %s | %s | %s / %s |" % (
            name, fmt(f["rps"]), errors_cell(result), fmt(f["get_mbps"]),
            upload_cell(result), fmt(f["idle_mb"], 1), fmt(f["peak_delta_mb"], 1),
            fmt(f["hwm_delta_mb"], 1)))
    return "\n".join(lines)


def ratio_table(results):
    """wsserver divided by each peer, for the three throughput figures."""
    ours = figures(results["wsserver"])
    lines = ["| wsserver / peer | 1 KiB GET req/s | 100 MiB GET MB/s | 100 MiB upload MB/s |",
             "| --- | ---: | ---: | ---: |"]
    for name, result in results.items():
        if name == "wsserver":
            continue
        f = figures(result)
        lines.append("| %s | %s | %s | %s |" % (
            name, fmt(ratio(ours["rps"], f["rps"]), 2),
            fmt(ratio(ours["get_mbps"], f["get_mbps"]), 2),
            fmt(ratio(ours["put_mbps"], f["put_mbps"]), 2)))
    return "\n".join(lines)


def target_lines(results):
    """The project's targets against aiohttp, each marked met or missed."""
    ours, theirs = figures(results["wsserver"]), figures(results["aiohttp"])
    checks = [
        ("1 KiB keep-alive GET >= 3x aiohttp", ratio(ours["rps"], theirs["rps"]), 3.0, True),
        ("100 MiB GET >= aiohttp", ratio(ours["get_mbps"], theirs["get_mbps"]), 1.0, True),
        ("100 MiB PUT >= aiohttp", ratio(ours["put_mbps"], theirs["put_mbps"]), 1.0, True),
        ("RSS during 100 MiB upload within 5 MB of idle", ours["peak_delta_mb"], 5.0, False),
    ]
    return target_verdicts(checks)


def ceiling_warnings(results, ceiling):
    """Flag transfers above 80% of the client ceiling: there the client may be the limit."""
    for name, result in results.items():
        f = figures(result)
        for key, label in (("get_mbps", "GET"), ("put_mbps", "PUT")):
            if f[key] and f[key] > 0.8 * ceiling[key]:
                yield ("WARNING: %s %s at %.0f MB/s is over 80%% of the client ceiling"
                       % (name, label, f[key]))


def report(results, ceiling, args):
    big = "%d MiB" % (args.big_size // (1024 * 1024))
    print()
    print(main_table(results).replace("100 MiB", big))
    if "wsserver" in results:
        print()
        print(ratio_table(results).replace("100 MiB", big))
        if "aiohttp" in results:
            print()
            print("Targets (wsserver vs aiohttp):")
            print(target_lines(results).replace("100 MiB", big))
    print()
    print("Client ceiling (same client, in-process sendfile / discard server): "
          "GET %s MB/s, PUT %s MB/s" % (fmt(ceiling["get_mbps"]), fmt(ceiling["put_mbps"])))
    for warning in ceiling_warnings(results, ceiling):
        print(warning)
    print("wrk -t1 -c10 -d%ds; big transfers best of %d; MB = 10^6 bytes; %d CPUs; Python %s"
          % (args.wrk_seconds, args.runs, os.cpu_count(), platform.python_version()))
    for name, result in results.items():
        if result.get("note"):
            print("- %s: %s" % (name, result["note"]))
        if result.get("error"):
            print("- %s ERROR: %s\n  log: %s" % (name, result["error"],
                                                 result.get("log_tail", "")))


def save(results, ceiling, args):
    save_results(RESULTS, args.quick, {
        "big_size": args.big_size, "small_size": SMALL_SIZE,
        "wrk_seconds": args.wrk_seconds, "runs": args.runs,
        "python": sys.version, "cpus": os.cpu_count(),
        "client_ceiling": ceiling, "servers": results})


# --------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10 MiB big file and 2 s wrk runs, for a smoke run")
    parser.add_argument("--runs", type=int, default=RUNS,
                        help="best of this many big transfers (default %(default)s)")
    parser.add_argument("--servers", default=",".join(s.name for s in SERVERS),
                        help="comma-separated subset of: %(default)s")
    args = parser.parse_args()
    args.wrk_seconds = 2 if args.quick else 5
    args.big_size = QUICK_BIG_SIZE if args.quick else BIG_SIZE
    return args


def main():
    args = parse_args()
    wanted = [name.strip() for name in args.servers.split(",")]
    servers = [s for s in SERVERS if s.name in wanted]
    work, static, uploads = make_workspace(args.big_size)
    try:
        ceiling = client_ceiling(os.path.join(static, "big.bin"))
        print("Client ceiling: GET %s MB/s, PUT %s MB/s"
              % (fmt(ceiling["get_mbps"]), fmt(ceiling["put_mbps"])), flush=True)
        results = {}
        for server in servers:
            print("Measuring %s ..." % server.name, flush=True)
            results[server.name] = measure_server(server, work, static, uploads, args)
        report(results, ceiling, args)
        save(results, ceiling, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
