"""print() output in the live log, under the real MicroPython unix port.

The unix port has no os.dupterm, so the server there wraps builtins.print; the dupterm
stream is checked with a stand-in for os.dupterm (its slots, WebREPL's in slot 0).
"""
import json
import subprocess
import time

import websocket

from test_micropython_core import micropython
from test_micropython_server import ROOT, free_port, wait_listening

RECV_DEADLINE = 10  # seconds for the expected records to arrive


def run_upy(script):
    result = subprocess.run([micropython(), "-X", "heapsize=256K", "-c",
                             "import sys\nsys.path.insert(0, %r)\n" % ROOT + script],
                            capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_line_capture_and_dupterm_stream():
    output = run_upy(r'''
from wsserver import printlog
got = []
cap = printlog.LineCapture(lambda t, l, n, m: got.append((t, l, n, m)), lambda: 123)
s = printlog.DuptermStream(cap)
for piece in (b"he", bytearray(b"llo"), memoryview(b" w\r\nsecond\n\nthi"), "rd\n"):
    assert s.write(piece) == len(piece)
assert s.readinto(bytearray(4)) is None
s.write(b"caf\xc3")           # a character cut across two writes
s.write(b"\xa9\n")
s.write(b"x" * (printlog.MAX_LINE + 5))
cap.mute(); s.write(b"muted\n"); cap.unmute()
cap.feed(b"\n")
assert got[0] == (123, "INFO", "print", "hello w"), got
assert [m for _, _, _, m in got] == ["hello w", "second", "third", "caf\xe9",
                                     "x" * printlog.MAX_LINE, "xxxxx"], got
bad = printlog.LineCapture(lambda *a: 1 / 0, lambda: 0)
bad.feed("never raises\n")

slots = ["webrepl", None]
def dupterm(stream, index=0):
    if index >= len(slots):
        raise ValueError("invalid dupterm index")
    previous, slots[index] = slots[index], stream
    return previous
handle = printlog.attach_dupterm(cap, dupterm)
assert slots[0] == "webrepl" and isinstance(slots[1], printlog.DuptermStream), slots
printlog.detach_dupterm(handle)
assert slots == ["webrepl", None], slots
slots[1] = "other"
assert printlog.attach_dupterm(cap, dupterm) is None and slots == ["webrepl", "other"]

class Hub:
    def __init__(self):
        self.records = []
    def publish(self, *record):
        self.records.append(record)
slots[1] = None
hub = Hub()
printlog.start(hub, dupterm, lambda: 7)  # what compat does on a board with dupterm
slots[1].write(b"via dupterm\n")
assert printlog.active() is not None
printlog.stop(hub)
assert slots == ["webrepl", None] and printlog.active() is None, slots
assert hub.records == [(7, "INFO", "print", "via dupterm")], hub.records

original = printlog._current_print()
got.clear()
wrapper = printlog.wrap_print(cap)
assert printlog._current_print() is wrapper
print("a", 1, sep="-", end="!\n")
print("to", "stderr", file=sys.stderr)
printlog.unwrap_print(wrapper)
print("after")
assert printlog._current_print() is original
assert [m for _, _, _, m in got] == ["a-1!"], got
print("printlog ok")
''')
    assert "printlog ok" in output


def read_records(ws, wanted, deadline):
    """Records until wanted(records) holds or the deadline passes."""
    records = []
    while time.monotonic() < deadline and not wanted(records):
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            message = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        records.append(json.loads(message))
    return records


def test_print_reaches_the_live_log(tmp_path):
    """A line printed after make_server (history) and one printed while a viewer
    watches (live) both reach /ws/log as INFO records named "print"."""
    static = tmp_path / "static"
    static.mkdir()
    port = free_port()
    script = (
        "import sys, time, _thread\nsys.path.insert(0, %r)\n"
        "from wsserver.server import make_server\n"
        "server = make_server(port=%d, bind='127.0.0.1', directory=%r, uploads=%r)\n"
        "print('hello from print')\n"
        "def later():\n"
        "    for _ in range(200):\n"
        "        if len(server.log_hub):\n"
        "            break\n"
        "        time.sleep(0.05)\n"
        "    time.sleep(0.2)\n"
        "    print('live', 'from', 'print')\n"
        "_thread.start_new_thread(later, ())\n"
        "server.serve_forever()\n"
        % (ROOT, port, str(static), str(tmp_path / "uploads")))
    process = subprocess.Popen([micropython(), "-X", "heapsize=1M", "-c", script],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ws = None
    try:
        wait_listening(port, process)
        before = time.time()
        ws = websocket.create_connection("ws://127.0.0.1:%d/ws/log" % port, timeout=5)
        records = read_records(
            ws, lambda rs: any(r.get("msg") == "live from print" for r in rs),
            time.monotonic() + RECV_DEADLINE)
        printed = [r for r in records if r.get("name") == "print"]
        by_msg = {r["msg"]: r for r in printed}
        assert "hello from print" in by_msg and "live from print" in by_msg, records
        for record in by_msg.values():
            assert record["level"] == "INFO"
            assert abs(record["t"] - before) < 60, record  # Unix time, not board time
        # The server's own records (PrintLogger) are published once, not again as print.
        assert not [r for r in printed if r["msg"].startswith("INFO wsserver")], records
        assert any(r.get("name") == "wsserver" for r in records), records
    finally:
        if ws is not None:
            ws.close()
        process.kill()
        out, err = process.communicate(timeout=5)
    assert "hello from print" in out  # still printed to the console too


def test_server_close_removes_the_capture(tmp_path):
    output = run_upy(r'''
from wsserver import printlog
from wsserver.server import make_server
original = printlog._current_print()
kw = dict(port=0, bind="127.0.0.1", directory=%r, uploads=%r)
one = make_server(**kw)
two = make_server(**kw)
assert printlog._current_print() is not original
print("to both")
one.server_close()
print("to two")
two.server_close()
assert printlog._current_print() is original
print("to none")
seen = [len(one.log_hub._history), len(two.log_hub._history)]
assert seen == [1, 2], seen
print("close ok")
''' % (str(tmp_path), str(tmp_path / "uploads")))
    assert "close ok" in output
