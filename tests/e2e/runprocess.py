"""run.py and the wsserver command as a user starts them: a real process on a free
loopback port, for the tests that stop it with a signal, kill it, or start it under
resource limits."""
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 10


RUN_PY = [sys.executable, os.path.join(ROOT, "run.py")]
PYTHON_M_WSSERVER = [sys.executable, "-m", "wsserver"]


def start_server(command, *arguments, cwd=ROOT, env=None, preexec_fn=None):
    """command + arguments started, its output piped: (process, port), the port of the
    first URL it prints."""
    process = subprocess.Popen(list(command) + [str(a) for a in arguments], cwd=cwd,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=preexec_fn)
    line = process.stdout.readline()
    match = re.search(r"^Serving on https?://\S+:(\d+)/$", line.strip())
    if not match:
        process.kill()
        raise AssertionError("no URL first", line, process.communicate()[1])
    return process, int(match.group(1))


def start_run_py(folder, *options, preexec_fn=None, command=RUN_PY):
    """run.py (or another command with its options) serving folder/static and
    folder/uploads on 127.0.0.1: (process, port, uploads path). The folders are made
    when missing and kept when present (a restart sees what the last process left)."""
    static, uploads = folder / "static", folder / "uploads"
    static.mkdir(parents=True, exist_ok=True)
    (static / "index.html").write_bytes(b"<h1>hello</h1>")
    process, port = start_server(command, "0", "-b", "127.0.0.1", "-d", static,
                                 "--uploads", uploads, *options, preexec_fn=preexec_fn)
    return process, port, uploads


def stop(process, signum):
    """Send signum and wait for the exit status; the process is gone afterwards."""
    process.send_signal(signum)
    try:
        return process.wait(TIMEOUT)
    finally:
        process.kill()
        process.stdout.close()
        process.stderr.close()


def wait_for(condition):
    """Poll condition() for up to TIMEOUT seconds; its last value."""
    deadline = time.monotonic() + TIMEOUT
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def start_partial_upload(port, uploads, name="cut.bin"):
    """A PUT that has sent 64 KiB of its 1 MiB, and whose temporary file exists."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(b"PUT /uploads/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"
                 % name.encode() + b"x" * 65536)
    assert wait_for(lambda: any(p.name.endswith(".part") for p in uploads.iterdir()))
    return sock
