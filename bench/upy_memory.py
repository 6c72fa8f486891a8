"""MicroPython heap benchmark: how small a heap wsserver serves in, under the unix port.

Run from the repository root (needs `micropython` and `mpy-cross` on PATH, and
requests + websocket-client):

    python bench/upy_memory.py

The package is compiled with `python deploy.py --dry-run --build TMP` (the board
build, TMP/wsserver/*.mpy); the .py sources are copied to another temp folder for the
comparison. Each server is `micropython -X heapsize=NK launcher.py`, where the
launcher puts the build folder first on sys.path, makes the server on a free port of
127.0.0.1 (picked here: the unix port cannot report the port of a socket bound to 0),
with the repo's static/ and a temp uploads folder, prints its URL and serves.

Measured:
1. the smallest heap (binary search, KIB_STEP resolution, TRIALS attempts per heap, all
   passing) at which a smoke sequence passes, for .mpy and for .py, and the heaps
   within BAND_KIB of it that break the order (pass below it, fail above it): /ws/log viewer connected first; GET / (200, body =
   static/index.html); PUT a 256 KiB file (201) and GET it back identical; one
   WebSocket echo on /ws/echo; the viewer receives the record `stored "NAME"`.
2. at the smallest passing .mpy heap (and at the 64 KiB target): a 1 MiB PUT, read
   back identical.
3. the heap taken by importing the package (gc.mem_free before/after, after
   gc.collect), .mpy and .py, and the smallest heap the import alone succeeds in.
4. the heap per idle /ws/log viewer: server at 512 KiB with a thread printing
   gc.mem_free() after gc.collect() every 0.5 s; 0 then 20 viewers held (connected
   VIEWER_PACE apart; two viewers come and go first, so the poller exists). Then, in
   a fresh server at 512 KiB, 20 viewers back to back and a GET /: do they all get in?

Raw results: bench/results/upy_memory.json.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests
import websocket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results", "upy_memory.json")
STATIC = os.path.join(ROOT, "static")
HOST = "127.0.0.1"
MICROPYTHON = shutil.which("micropython") or "micropython"

START_TIMEOUT = 15      # seconds for the URL line (the machine may be busy)
IO_TIMEOUT = 20         # seconds for any one request / WebSocket operation
LOG_TIMEOUT = 10        # seconds for the live-log record to arrive
LOW_KIB, HIGH_KIB, KIB_STEP = 32, 1024, 2
TRIALS = 3              # a heap passes when all of its attempts pass
BAND_KIB = 24           # heaps below the smallest passing one scanned for lucky passes
TARGET_KIB = 64
SMOKE_UPLOAD = 256 * 1024
BIG_UPLOAD = 1024 * 1024
COMFORTABLE_KIB = 512
HELD_VIEWERS = 20
# The board default of 8 connections (sockets a board has) would stop the viewer counts.
MAX_CONNECTIONS = HELD_VIEWERS + 4
VIEWER_PACE = 0.3       # seconds between two viewers' connects in viewer_heap

LAUNCHER = """\
import sys
sys.path.insert(0, %(lib)r)
import gc
if %(monitor)r:
    import _thread
    import time
    def _monitor():
        while True:
            gc.collect()
            print("MEMFREE %%d" %% gc.mem_free())
            time.sleep(0.5)
    _thread.start_new_thread(_monitor, ())
from wsserver import _socketserver
_finish = _socketserver.TCPServer.finish_request
def _finish_request(self, request, client_address):
    # Bench diagnostic: handle_error prints "None" here (no sys.exc_info), so the
    # exception is printed first, then re-raised unchanged.
    try:
        return _finish(self, request, client_address)  # _serve_one reads .keep_open
    except Exception as exc:
        print("BENCH-EXC")
        sys.print_exception(exc)
        raise
_socketserver.TCPServer.finish_request = _finish_request
from wsserver.server import make_server
server = make_server(port=%(port)d, bind=%(host)r, directory=%(static)r, uploads=%(uploads)r,
                     max_connections=%(max_connections)d)
print("URL http://%(host)s:%(port)d")
try:
    server.serve_forever()
finally:
    server.server_close()
"""

IMPORTER = """\
import sys
sys.path.insert(0, %(lib)r)
import gc
gc.collect()
free0 = gc.mem_free()
import wsserver.server
gc.collect()
free1 = gc.mem_free()
import wsserver.handler, wsserver.httphandler, wsserver.wsmixin, wsserver.uploads
import wsserver.multipart, wsserver.loghub, wsserver.poller, wsserver.files
gc.collect()
free2 = gc.mem_free()
mods = sorted(k for k in sys.modules if k.startswith("wsserver"))
print("IMPORT %%d %%d %%d %%s" %% (free0, free0 - free1, free0 - free2, ",".join(mods)))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def build(work):
    """(mpy folder, py folder): each holds wsserver/ with the package."""
    mpy = os.path.join(work, "mpy")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "deploy.py"), "--dry-run",
                           "--build", mpy], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    if done.returncode:
        sys.exit("build failed:\n" + done.stdout + done.stderr)
    summary = [line for line in done.stdout.splitlines() if line.startswith("deploy:")]
    digest = hashlib.sha256()
    for name in sorted(os.listdir(os.path.join(ROOT, "wsserver"))):
        if name.endswith(".py"):
            with open(os.path.join(ROOT, "wsserver", name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    summary.append("sources sha256 %s" % digest.hexdigest()[:16])
    py = os.path.join(work, "py", "wsserver")
    os.makedirs(py)
    for name in sorted(os.listdir(os.path.join(ROOT, "wsserver"))):
        if name.endswith(".py"):
            shutil.copy(os.path.join(ROOT, "wsserver", name), py)
    return {"mpy": mpy, "py": os.path.dirname(py)}, summary


def tail(path, lines=8):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def memory_error_line(text):
    for line in text.splitlines():
        if "MemoryError" in line:
            return line.strip()
    return None


class Upy:
    """One `micropython -X heapsize=NK launcher.py` server process."""

    def __init__(self, work, lib, heap_kib, monitor=False):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="run-", dir=work)
        self.uploads = os.path.join(self.dir, "uploads")
        self.log_path = os.path.join(self.dir, "server.log")
        self.launcher = os.path.join(self.dir, "launcher.py")
        with open(self.launcher, "w") as f:
            f.write(LAUNCHER % {"lib": lib, "monitor": monitor, "port": self.port,
                                "host": HOST, "static": STATIC, "uploads": self.uploads,
                                "max_connections": MAX_CONNECTIONS})
        self.heap_kib = heap_kib
        self.process = None
        self.url = "http://%s:%d" % (HOST, self.port)

    def start(self):
        """Start and wait for the URL line; raises Failure("start", why)."""
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                [MICROPYTHON, "-X", "heapsize=%dK" % self.heap_kib, self.launcher],
                cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "URL http" in self.output():
                return
            if self.process.poll() is not None:
                time.sleep(0.05)
                raise Failure("start", "died at start (rc %s)" % self.process.returncode)
            time.sleep(0.05)
        raise Failure("start", "no URL line within %d s" % START_TIMEOUT)

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def mem_free_samples(self):
        return [int(m) for m in re.findall(r"MEMFREE (\d+)", self.output())]


class Failure(Exception):
    def __init__(self, phase, why):
        Exception.__init__(self, "%s: %s" % (phase, why))
        self.phase = phase
        self.why = why


def step(server, phase, action):
    """Run one smoke step; any error (or a dead server) becomes Failure(phase, ...)."""
    try:
        result = action()
    except Failure:
        raise
    except Exception as exc:
        raise Failure(phase, "%s: %s" % (type(exc).__name__, str(exc)[:200]))
    if not server.alive():
        raise Failure(phase, "server died (rc %s)" % server.process.returncode)
    return result


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def put_and_get(server, name, size):
    body = os.urandom(size)
    response = requests.put(server.url + "/uploads/" + name, data=body, timeout=IO_TIMEOUT)
    check(response.status_code in (201, 204), "PUT status %d: %r"
          % (response.status_code, response.content[:200]))
    back = requests.get(server.url + "/uploads/" + name, timeout=IO_TIMEOUT)
    check(back.status_code == 200, "GET upload status %d" % back.status_code)
    check(back.content == body, "read back %d bytes, not the %d put" % (len(back.content), size))


def smoke(server):
    """The smoke sequence against a started server; raises Failure."""
    ws_url = server.url.replace("http", "ws")
    with open(os.path.join(STATIC, "index.html"), "rb") as f:
        index = f.read()
    name = "smoke-%d.bin" % os.getpid()
    viewer = step(server, "connect /ws/log",
                  lambda: websocket.create_connection(ws_url + "/ws/log", timeout=IO_TIMEOUT))
    try:
        def get_index():
            response = requests.get(server.url + "/", timeout=IO_TIMEOUT)
            check(response.status_code == 200, "status %d" % response.status_code)
            check(response.content == index, "body differs from static/index.html (%d B)"
                  % len(response.content))
        step(server, "GET /", get_index)
        step(server, "PUT+GET 256 KiB", lambda: put_and_get(server, name, SMOKE_UPLOAD))

        def echo():
            ws = websocket.create_connection(ws_url + "/ws/echo", timeout=IO_TIMEOUT)
            try:
                ws.send("hello board")
                got = ws.recv()
                check(got == "hello board", "echo returned %r" % (got,))
            finally:
                ws.close()
        step(server, "WS echo", echo)

        def log_record():
            deadline = time.monotonic() + LOG_TIMEOUT
            wanted = 'stored "%s"' % name
            while time.monotonic() < deadline:
                viewer.settimeout(max(0.1, deadline - time.monotonic()))
                text = viewer.recv()
                try:
                    record = json.loads(text)
                except ValueError:
                    continue
                if wanted in str(record.get("msg", "")):
                    return
            raise AssertionError("no record with %s within %d s" % (wanted, LOG_TIMEOUT))
        step(server, "live-log record", log_record)
    finally:
        try:
            viewer.close(timeout=1)
        except Exception:
            pass


def attempt(work, lib, heap_kib, extra=None):
    """Start a server at heap_kib, run the smoke (and `extra`), kill it. A dict."""
    server = Upy(work, lib, heap_kib)
    result = {"heap_kib": heap_kib, "ok": False}
    started = time.monotonic()
    try:
        server.start()
        smoke(server)
        if extra is not None:
            extra(server)
        result["ok"] = True
    except Failure as failure:
        result["phase"] = failure.phase
        result["why"] = failure.why
    except Exception as exc:  # a bug here, reported rather than hidden
        result["phase"] = "bench"
        result["why"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        server.stop()
    if not result["ok"]:
        out = server.output()
        mem = memory_error_line(out)
        if mem:
            result["memory_error"] = mem
        result["server_tail"] = tail(server.log_path)
    result["seconds"] = round(time.monotonic() - started, 2)
    shutil.rmtree(server.dir, ignore_errors=True)
    return result


def describe(result):
    if result["ok"]:
        return "pass"
    why = "%s: %s" % (result.get("phase"), result.get("why"))
    if result.get("memory_error"):
        why += " [%s]" % result["memory_error"]
    return why


def describe_burst(burst):
    return {k: v for k, v in burst.items() if k != "server_tail"}


def smallest_heap(work, lib, label):
    """Binary search for the smallest passing heap; (kib or None, attempts)."""
    attempts = []

    def run(kib):
        """TRIALS attempts at kib; True when all of them pass (stops at a failure)."""
        for _ in range(TRIALS):
            result = attempt(work, lib, kib)
            attempts.append(result)
            print("  %-4s heap %4d KiB: %s (%.1f s)" % (label, kib, describe(result),
                                                        result["seconds"]), flush=True)
            if not result["ok"]:
                return False
        return True

    if not run(HIGH_KIB):
        return None, attempts
    if run(LOW_KIB):
        return LOW_KIB, attempts
    low, high = LOW_KIB, HIGH_KIB  # low fails, high passes
    while high - low > KIB_STEP:
        mid = (low + high) // 2
        mid -= mid % KIB_STEP
        if mid <= low:
            mid = low + KIB_STEP
        if run(mid):
            high = mid
        else:
            low = mid
    return high, attempts


def edge_band(work, lib, found, label):
    """Around the smallest heap that passed TRIALS/TRIALS: passes out of TRIALS at each
    KIB_STEP from found - BAND_KIB to found + BAND_KIB. The outcome depends on the heap
    layout, so it need not be monotonic: a heap below may pass, one above may fail."""
    band = []
    heaps = list(range(found - BAND_KIB, found + BAND_KIB + 1, KIB_STEP))
    for kib in heaps:
        if kib < LOW_KIB or kib == found:
            continue
        results = [attempt(work, lib, kib) for _ in range(TRIALS)]
        passes = sum(r["ok"] for r in results)
        reasons = sorted(set(describe(r) for r in results if not r["ok"]))
        band.append({"heap_kib": kib, "passes": passes, "trials": TRIALS, "reasons": reasons})
        print("  %-4s band %4d KiB: %d/%d pass" % (label, kib, passes, TRIALS), flush=True)
    return band


def big_upload(work, lib, heap_kib):
    def extra(server):
        step(server, "PUT+GET 1 MiB", lambda: put_and_get(server, "big.bin", BIG_UPLOAD))
    return attempt(work, lib, heap_kib, extra)


def import_heap(lib, heap_kib=1024):
    path = os.path.join(lib, "..", "importer-%s.py" % os.path.basename(lib))
    with open(path, "w") as f:
        f.write(IMPORTER % {"lib": lib})
    done = subprocess.run([MICROPYTHON, "-X", "heapsize=%dK" % heap_kib, path],
                          capture_output=True, text=True, timeout=60)
    match = re.search(r"IMPORT (\d+) (\d+) (\d+) (\S*)", done.stdout)
    if not match:
        return {"error": (done.stdout + done.stderr)[-500:], "heap_kib": heap_kib}
    return {"heap_kib": heap_kib, "free_before": int(match.group(1)),
            "server_import": int(match.group(2)), "all_modules": int(match.group(3)),
            "modules": match.group(4).split(",")}


def smallest_import_heap(lib):
    """The smallest heap (KIB_STEP resolution) in which the importer script runs."""
    low, high = 8, HIGH_KIB
    while high - low > KIB_STEP:
        mid = (low + high) // 2
        if "error" in import_heap(lib, mid):
            low = mid
        else:
            high = mid
    return high


def settled_free(server, seconds=2.0):
    """The smallest of the mem_free samples printed in the next `seconds`."""
    before = len(server.mem_free_samples())
    deadline = time.monotonic() + seconds + 3
    time.sleep(seconds)
    while time.monotonic() < deadline:
        samples = server.mem_free_samples()[before:]
        if len(samples) >= 3:
            return samples[-3:]
        time.sleep(0.2)
    raise Failure("mem_free", "no MEMFREE samples from the monitor thread")


def close_viewers(viewers):
    """Close each websocket-client connection; one that fails must not keep the rest."""
    for ws in viewers:
        try:
            ws.close(timeout=1)
        except Exception:
            pass


def viewer_heap(work, lib):
    server = Upy(work, lib, COMFORTABLE_KIB)
    server.heap_kib = COMFORTABLE_KIB
    with open(server.launcher, "w") as f:
        f.write(LAUNCHER % {"lib": lib, "monitor": True, "port": server.port, "host": HOST,
                            "static": STATIC, "uploads": server.uploads,
                            "max_connections": MAX_CONNECTIONS})
    ws_url = server.url.replace("http", "ws") + "/ws/log"
    viewers = []
    result = {"heap_kib": COMFORTABLE_KIB, "held": HELD_VIEWERS}
    try:
        server.start()
        # Warm-up: the first viewer makes the poller; two viewers come and go.
        for _ in range(2):
            ws = websocket.create_connection(ws_url, timeout=IO_TIMEOUT)
            ws.close(timeout=2)
        time.sleep(0.5)
        free0 = settled_free(server)
        for _ in range(HELD_VIEWERS):
            viewers.append(websocket.create_connection(ws_url, timeout=IO_TIMEOUT))
            time.sleep(VIEWER_PACE)  # see viewer_burst: back to back they can fail
        free20 = settled_free(server)
        check(server.alive(), "server died")
        result.update(free_0=free0, free_held=free20,
                      per_viewer=(min(free0) - min(free20)) / HELD_VIEWERS)
    except Exception as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
        result["server_tail"] = tail(server.log_path)
    finally:
        close_viewers(viewers)
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)
    return result


def viewer_burst(work, lib, heap_kib=COMFORTABLE_KIB):
    """HELD_VIEWERS /ws/log viewers connected back to back (no pause), then GET /:
    how many got in, and the server's MemoryError if any."""
    server = Upy(work, lib, heap_kib)
    ws_url = server.url.replace("http", "ws") + "/ws/log"
    viewers = []
    result = {"heap_kib": heap_kib, "wanted": HELD_VIEWERS, "ok": False}
    try:
        server.start()
        for _ in range(HELD_VIEWERS):
            viewers.append(websocket.create_connection(ws_url, timeout=IO_TIMEOUT))
        response = requests.get(server.url + "/", timeout=IO_TIMEOUT)
        check(response.status_code == 200, "GET / status %d" % response.status_code)
        result["ok"] = True
    except Exception as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        result["connected"] = len(viewers)
        close_viewers(viewers)
        server.stop()
        mem = memory_error_line(server.output())
        if mem:
            result["memory_error"] = mem
        if not result["ok"]:
            result["server_tail"] = tail(server.log_path, 14)
        shutil.rmtree(server.dir, ignore_errors=True)
    return result


def kib(value):
    return "—" if value is None else "%d KiB" % value


def table(results):
    smallest = results["smallest_heap"]
    mpy_kib, py_kib = smallest["mpy"]["kib"], smallest["py"]["kib"]
    rows = [("Smallest heap, smoke passes (.mpy)", kib(mpy_kib), "<= %d KiB" % TARGET_KIB,
             "" if mpy_kib is None else ("met" if mpy_kib <= TARGET_KIB else "MISSED")),
            ("Smallest heap, smoke passes (.py)", kib(py_kib), "(comparison)", "")]
    for kind in ("mpy", "py"):
        found = smallest[kind]["kib"]
        band = smallest[kind].get("band", [])
        odd = [b for b in band if (b["heap_kib"] < found and b["passes"])
               or (b["heap_kib"] > found and b["passes"] < b["trials"])]
        if band:
            rows.append(("Heaps within +-%d KiB of it that break the order (.%s)"
                         % (BAND_KIB, kind),
                         ", ".join("%d KiB passes %d/%d" % (b["heap_kib"], b["passes"],
                                                           b["trials"]) for b in odd)
                         or "none", "", ""))
    for key, label in (("at_smallest", "1 MiB upload at smallest .mpy heap"),
                       ("at_target", "1 MiB upload at %d KiB (.mpy)" % TARGET_KIB)):
        big = results["big_upload"].get(key)
        if big is None:
            continue
        figure = "pass" if big["ok"] else "FAIL (%s)" % describe(big)
        target = "succeeds" if key == "at_target" else ""
        verdict = ("met" if big["ok"] else "MISSED") if key == "at_target" else ""
        rows.append(("%s (%d KiB)" % (label, big["heap_kib"]) if key == "at_smallest" else label,
                     figure, target, verdict))
    for kind in ("mpy", "py"):
        imp = results["import_heap"][kind]
        if "error" in imp:
            rows.append(("Heap taken by import (.%s)" % kind, "FAIL: %s" % imp["error"][-120:],
                         "", ""))
        else:
            rows.append(("Heap taken by import wsserver.server (.%s)" % kind,
                         "%d B (%.1f KiB)" % (imp["server_import"], imp["server_import"] / 1024),
                         "", ""))
            rows.append(("Heap taken by import, all handler modules (.%s)" % kind,
                         "%d B (%.1f KiB)" % (imp["all_modules"], imp["all_modules"] / 1024),
                         "", ""))
            rows.append(("Smallest heap in which the import alone succeeds (.%s)" % kind,
                         kib(imp.get("smallest_heap_kib")), "", ""))
    vh = results["viewer_heap"]
    if "per_viewer" in vh:
        rows.append(("Heap per held /ws/log viewer (.mpy, %d held, %d KiB heap)"
                     % (vh["held"], vh["heap_kib"]), "%.0f B" % vh["per_viewer"], "", ""))
    else:
        rows.append(("Heap per held /ws/log viewer", "FAIL: %s" % vh.get("error"), "", ""))
    burst = results.get("viewer_burst")
    if burst:
        figure = ("pass" if burst["ok"] else "FAIL after %d connected: %s%s" % (
            burst["connected"], burst.get("error"),
            " [%s]" % burst["memory_error"] if burst.get("memory_error") else ""))
        rows.append(("%d /ws/log viewers back to back, then GET / (.mpy, %d KiB heap)"
                     % (burst["wanted"], burst["heap_kib"]), figure, "", ""))
    lines = ["| Measure | Result | Target | |", "|---|---|---|---|"]
    lines += ["| %s | %s | %s | %s |" % row for row in rows]
    return "\n".join(lines)


def main():
    started = time.time()
    work = tempfile.mkdtemp(prefix="upy-memory-")
    try:
        version = subprocess.run([MICROPYTHON, "-c", "import sys; print(sys.version)"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
        libs, summary = build(work)
        print("micropython %s; %s" % (version, " ".join(summary)), flush=True)
        results = {"micropython": version, "build": summary, "smallest_heap": {},
                   "big_upload": {}, "import_heap": {},
                   "settings": {"low_kib": LOW_KIB, "high_kib": HIGH_KIB, "step_kib": KIB_STEP,
                                "smoke_upload": SMOKE_UPLOAD, "big_upload": BIG_UPLOAD}}
        for kind in ("mpy", "py"):
            print("smallest heap (%s):" % kind, flush=True)
            found, attempts = smallest_heap(work, libs[kind], "." + kind)
            band = edge_band(work, libs[kind], found, "." + kind) if found else []
            results["smallest_heap"][kind] = {"kib": found, "attempts": attempts,
                                              "band": band}
        mpy_kib = results["smallest_heap"]["mpy"]["kib"]
        if mpy_kib is not None:
            big = big_upload(work, libs["mpy"], mpy_kib)
            print("1 MiB upload at %d KiB: %s" % (mpy_kib, describe(big)), flush=True)
            results["big_upload"]["at_smallest"] = big
        big = big_upload(work, libs["mpy"], TARGET_KIB)
        print("1 MiB upload at %d KiB: %s" % (TARGET_KIB, describe(big)), flush=True)
        results["big_upload"]["at_target"] = big
        for kind in ("mpy", "py"):
            results["import_heap"][kind] = import_heap(libs[kind])
            results["import_heap"][kind]["smallest_heap_kib"] = smallest_import_heap(libs[kind])
            print("import heap (%s): %s" % (kind, results["import_heap"][kind]), flush=True)
        results["viewer_heap"] = viewer_heap(work, libs["mpy"])
        print("viewer heap: %s" % results["viewer_heap"], flush=True)
        results["viewer_burst"] = viewer_burst(work, libs["mpy"])
        print("viewer burst: %s" % describe_burst(results["viewer_burst"]), flush=True)
        results["seconds"] = round(time.time() - started, 1)
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        with open(RESULTS, "w") as f:
            json.dump(results, f, indent=2)
        print()
        print(table(results))
        print("\nraw results: %s" % os.path.relpath(RESULTS, ROOT))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
