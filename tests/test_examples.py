"""examples/*.py as a user runs them: a real process on a loopback port, checked for
what its docstring promises, then stopped by a signal: exit status 0, no traceback."""
import json
import os
import re
import signal
import struct
import subprocess
import sys

import pytest
import requests
import websocket

from e2e.runprocess import ROOT, TIMEOUT, wait_for


def start_example(name, folder):
    """examples/<name> on 127.0.0.1, a port of its choosing, run in folder: (process,
    "127.0.0.1:PORT") once it has printed the URL it serves on."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "examples", name), "0", "-b", "127.0.0.1"],
        cwd=str(folder), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://(127\.0\.0\.1:\d+)/", line)
    if not match:
        process.kill()
        pytest.fail("no URL printed: %r %s" % (line, process.communicate(timeout=TIMEOUT)))
    return process, match.group(1)


def stop(process, signum):
    """Send signum; assert a clean exit (status 0, no traceback); its stdout."""
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    return out


def receive_until(ws, wanted):
    """Text messages of ws, decoded as JSON, until wanted(message); that message."""
    ws.settimeout(TIMEOUT)
    while True:
        message = json.loads(ws.recv())
        if wanted(message):
            return message


def close_code(ws):
    """Read ws to its close frame (messages before it are skipped); the close code."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_background_serves_while_its_own_loop_works(tmp_path, signum):
    process, host = start_example("background.py", tmp_path)
    url = "http://%s/status.json" % host

    def count():
        """The count served: status.json is replaced every second, and each answer is
        one whole version of it."""
        return requests.get(url, timeout=TIMEOUT).json()["count"]

    assert wait_for(count)
    first = count()
    assert wait_for(lambda: count() > first)  # the loop goes on while it serves
    assert "Stopping" in stop(process, signum)
    with pytest.raises(requests.ConnectionError):  # the port is closed
        requests.get(url, timeout=TIMEOUT)


def test_logging_records_reach_the_browser(tmp_path):
    process, host = start_example("logging_to_browser.py", tmp_path)
    assert "<html" in requests.get("http://%s/" % host, timeout=TIMEOUT).text.lower()
    ws = websocket.create_connection("ws://%s/ws/log" % host, timeout=TIMEOUT)
    try:
        record = receive_until(ws, lambda m: m.get("name") == "sensor")
        assert record["msg"].startswith("temperature ")
        assert record["level"] in ("INFO", "WARNING")
        stop(process, signal.SIGTERM)
        assert close_code(ws) == 1001
    finally:
        ws.close()


def test_custom_route_pushes_answers_and_keeps_the_stock_routes(tmp_path):
    process, host = start_example("custom_route.py", tmp_path)
    sensor = websocket.create_connection("ws://%s/ws/sensor" % host, timeout=TIMEOUT)
    echo = websocket.create_connection("ws://%s/ws/echo" % host, timeout=TIMEOUT)
    try:
        pushed = receive_until(sensor, lambda m: True)  # the next second's reading
        assert isinstance(pushed["celsius"], float)
        sensor.send("read")
        answer = receive_until(sensor, lambda m: m.get("command") == "read")
        assert isinstance(answer["reading"]["celsius"], float)
        sensor.send("reboot")
        assert "error" in receive_until(sensor, lambda m: m.get("command") == "reboot")
        reading = requests.get("http://%s/api/reading" % host, timeout=TIMEOUT)
        assert reading.headers["Content-Type"] == "application/json"
        assert isinstance(reading.json()["celsius"], float)
        head = requests.head("http://%s/api/reading" % host, timeout=TIMEOUT)
        assert head.status_code == 200 and head.content == b""
        echo.send("still here")
        assert echo.recv() == "still here"
        stop(process, signal.SIGTERM)
        assert close_code(sensor) == 1001
    finally:
        sensor.close()
        echo.close()
