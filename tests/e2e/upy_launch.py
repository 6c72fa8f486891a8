"""Runs the wsserver package under MicroPython for the end-to-end tests (conftest.py).

    micropython -X heapsize=N upy_launch.py < CONFIG_JSON_LINE

CONFIG_JSON_LINE, the first line of standard input (the unix port dies on an argument of
256 bytes or more, "FATAL: uncaught NLR"): {"root": repo root, "port": N, "directory":
..., "uploads": ..., "workers": N, "options": {make_server keywords}, "log_level": 10
for DEBUG lines too (20: INFO and up), "handler": [module, class] or null}. The handler's module is looked up next to this file
(tests/e2e/handlers.py). Serves in a background thread (server.start()) until standard
input ends, then stops as embedding code would: shutdown(), server_close(). Not with
Ctrl-C: a KeyboardInterrupt can strike while another thread holds the heap locked
("MemoryError: heap is locked" in server_close: 2 stops in 6 on a loaded machine).
Every further line is a reset, for the next test of a module that shares this process
(conftest.py): {"reset": N, "directory": ..., "uploads": ...}. Once no connection is left
(at most IDLE_WAIT seconds), the server serves the new folders and its live log history
is emptied, as a fresh server's would be; then "upy_launch: ready N" on standard output
(or "upy_launch: busy N" when connections stayed open: the caller starts a fresh process).
The answer is looked for anywhere in a line: another thread's print may share it.
Written in the MicroPython subset (no f-strings' !a, no argparse, no `with socket`).
"""
import _thread
import gc
import json
import sys
import time

config = json.loads(sys.stdin.readline())
here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, config["root"])
sys.path.insert(0, here)

from wsserver import compat  # noqa: E402 (after the path is set)
from wsserver.server import make_server  # noqa: E402

compat.PrintLogger.level = config.get("log_level", 20)

options = config["options"]
if config.get("handler"):
    module_name, class_name = config["handler"]
    options["handler_class"] = getattr(__import__(module_name), class_name)
server = make_server(port=config["port"], bind="127.0.0.1", directory=config["directory"],
                     uploads=config["uploads"], **options)
server.workers = config["workers"]  # the board stand-in's threads, started by serve_forever
print("upy_launch: serving on port %d with %d workers" % (config["port"], server.workers))
server.start()
IDLE_WAIT = 3000  # ms
# A parked WebSocket leaves the server's count in _ws_lost (unpark), which then logs its
# "closed" record and runs on_close: a reset waits for the calls still under way.
losing = [0]
losing_lock = _thread.allocate_lock()
ws_lost = server.RequestHandlerClass._ws_lost


def counted_ws_lost(handler, why):
    with losing_lock:
        losing[0] += 1
    try:
        ws_lost(handler, why)
    finally:
        with losing_lock:
            losing[0] -= 1


server.RequestHandlerClass._ws_lost = counted_ws_lost


def connections():
    with server._connections_lock:
        count = len(server._connections) + len(server._parked)
    with losing_lock:  # after the count: a connection unparked is then seen here
        return count + losing[0]


def reset(command):
    started = time.ticks_ms()
    while connections() or (server.log_hub is not None and len(server.log_hub)):
        if time.ticks_diff(time.ticks_ms(), started) > IDLE_WAIT:
            return "busy %d (%d connections open)" % (command["reset"], connections())
        time.sleep_ms(5)
    server.directory = command["directory"]
    server.uploads = command["uploads"]
    hub = server.log_hub
    if hub is not None:
        with hub._lock:
            while hub._history:
                hub._history.popleft()
    gc.collect()  # as fresh a heap as can be had without a new process
    return "ready %d" % command["reset"]


while True:
    line = sys.stdin.readline()
    if not line:  # the end of standard input: the test stops the server
        break
    # Not print(): on a board print() output goes to the live log (wsserver.printlog).
    sys.stdout.write("upy_launch: %s\n" % reset(json.loads(line)))
server.shutdown()
server.server_close()
print("upy_launch: closed")
