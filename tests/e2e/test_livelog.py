"""The live log at /ws/log: history first, then every record, one JSON object each;
a stalled viewer loses only its own oldest lines and is told how many."""
import json
import logging
import socket
import threading

import pytest
import requests
import websocket

from rawws import open_ws

TIMEOUT = 10
log = logging.getLogger("wsserver.test")


def viewer(running):
    # websocket-client checks UTF-8 in pure Python, slowly; the server's text is checked
    # by json.loads here anyway.
    return websocket.create_connection("ws://127.0.0.1:%d/ws/log" % running.port,
                                       timeout=TIMEOUT, skip_utf8_validation=True)


def records(ws, count):
    return [json.loads(ws.recv()) for _ in range(count)]


def until(ws, predicate):
    """Read records until one satisfies predicate (bounded); all of them."""
    seen = []
    for _ in range(1000):
        seen.append(json.loads(ws.recv()))
        if predicate(seen[-1]):
            return seen
    raise AssertionError("no such record among %r" % seen[-5:])


def wait_for_viewers(running, count):
    for _ in range(500):
        if len(running.server.log_hub) == count:
            return
        threading.Event().wait(0.02)
    raise AssertionError("%d viewers, not %d" % (len(running.server.log_hub), count))


@pytest.mark.cpython_only("the records it expects are logged with this process's `logging`")
def test_history_then_new_records_as_json(start_server):
    running = start_server(log_history=4)
    for i in range(5):
        log.info("early %d", i)
    ws = viewer(running)
    history = records(ws, 4)
    # The last four records before the viewer: early 3, early 4, then the access line
    # of its own handshake and the line saying it opened.
    assert [r["msg"] for r in history[:2]] == ["early 3", "early 4"]
    assert history[2]["msg"].endswith('"GET /ws/log HTTP/1.1" 101')
    assert history[3]["msg"].endswith("WebSocket /ws/log opened")
    log.warning("new %s", "record")
    record = until(ws, lambda r: r["msg"] == "new record")[-1]
    assert set(record) == {"t", "level", "name", "msg"}
    assert record["level"] == "WARNING" and record["name"] == "wsserver.test"
    assert abs(record["t"] - history[0]["t"]) < 60
    ws.close()


def test_uploads_and_refusals_are_logged_naming_the_file(start_server):
    running = start_server(max_upload=10)
    ws = viewer(running)
    requests.put(running.url + "/uploads/ok.txt", data=b"12345", timeout=TIMEOUT)
    stored = until(ws, lambda r: "stored" in r["msg"])[-1]
    assert stored["msg"].endswith('stored "ok.txt" (5 bytes)')
    requests.put(running.url + "/uploads/big.txt", data=b"x" * 11, timeout=TIMEOUT)
    refused = until(ws, lambda r: "refused" in r["msg"])[-1]
    assert "/uploads/big.txt" in refused["msg"]
    access = until(ws, lambda r: "big.txt" in r["msg"] and r["msg"].endswith(" 413"))
    assert access
    ws.close()


def test_live_log_can_be_turned_off(start_server):
    running = start_server(log_history=0)
    with pytest.raises(websocket.WebSocketBadStatusException) as failure:
        viewer(running)
    assert failure.value.status_code == 404


def read_lines(ws, last, into):
    """Read records until the message `last` (bounded), keeping the test's lines."""
    for _ in range(100000):
        record = json.loads(ws.recv())
        into.append(record)
        if record.get("msg") == last:
            return


@pytest.mark.cpython_only("sets the in-process log hub's queue_length, counts its viewers, "
                          "and logs the lines with this process's `logging`")
def test_stalled_viewer_loses_only_its_own_oldest_lines(start_server):
    running = start_server(log_history=1)
    hub = running.server.log_hub
    hub.queue_length = 50  # for the stalled viewer, which subscribes first
    stalled = open_ws(running, path="/ws/log")  # completes its handshake, never reads
    stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    wait_for_viewers(running, 1)
    hub.queue_length = 100000  # the healthy viewers are never behind by that much
    healthy = [viewer(running) for _ in range(3)]
    wait_for_viewers(running, 4)
    count, pad = 3000, "x" * 1000  # 3 MB: more than the socket buffers hold
    expected = ["line %d %s" % (i, pad) for i in range(count)]
    received = [[] for _ in healthy]
    readers = [threading.Thread(target=read_lines, args=(ws, expected[-1], got))
               for ws, got in zip(healthy, received)]
    for reader in readers:
        reader.start()
    for i in range(count):
        log.info("line %d %s", i, pad)
    for reader in readers:
        reader.join(TIMEOUT * 3)
    for got in received:  # every line, in order, nothing dropped
        assert [r["msg"] for r in got if r.get("name") == "wsserver.test"] == expected
        assert not any("dropped" in r for r in got)
    late = []
    for _ in range(100000):
        message = json.loads(stalled.recv_message()[1])
        late.append(message)
        if message.get("msg") == expected[-1]:
            break
    notices = [m["dropped"] for m in late if "dropped" in m]
    lines = [m["msg"] for m in late if m.get("name") == "wsserver.test"]
    # Each time the socket took more, the viewer was told what it had missed since.
    assert notices and all(n > 0 for n in notices)
    assert lines == [line for line in expected if line in lines]  # in order
    assert len(lines) + sum(notices) >= count  # each line delivered or counted
    stalled.close()
    for ws in healthy:
        ws.close()


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.mark.cpython_only("captures the server's DEBUG records with this process's `logging` "
                          "and counts the in-process log hub's viewers")
def test_a_closed_tab_costs_a_debug_line_not_a_traceback(start_server):
    running = start_server()
    server_log = logging.getLogger("wsserver")
    captured = Records()
    server_log.addHandler(captured)
    server_log.setLevel(logging.DEBUG)
    try:
        tab = open_ws(running, path="/ws/log")
        wait_for_viewers(running, 1)
        tab.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        tab.sock.close()  # a reset, no close frame: the tab is gone
        for i in range(200):
            log.info("after the tab closed %d", i)
        wait_for_viewers(running, 0)
    finally:
        server_log.removeHandler(captured)
    assert not [r for r in captured.records if r.levelno >= logging.WARNING]
    assert any(r.levelno == logging.DEBUG and "socket closed" in r.getMessage()
               for r in captured.records)


@pytest.mark.cpython_only("counts the in-process log hub's viewers and logs with this "
                          "process's `logging`")
def test_viewers_that_reset_mid_stream_do_not_stop_the_live_log(start_server):
    running = start_server()
    tabs = [open_ws(running, path="/ws/log") for _ in range(10)]
    wait_for_viewers(running, 10)
    for i in range(200):
        log.info("before the resets %d", i)
    for tab in tabs:  # unread records in their buffers: closing them sends a reset
        tab.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        tab.sock.close()
    for i in range(200):
        log.info("after the resets %d", i)
    wait_for_viewers(running, 0)
    ws = viewer(running)
    log.info("still served")
    until(ws, lambda r: r["msg"] == "still served")
    ws.close()
