"""Runs the wsserver package under MicroPython for the end-to-end tests (conftest.py).

    micropython -X heapsize=N upy_launch.py < CONFIG_JSON_LINE

CONFIG_JSON_LINE, the first line of standard input (the unix port dies on an argument of
256 bytes or more, "FATAL: uncaught NLR"): {"root": repo root, "port": N, "directory":
..., "uploads": ..., "workers": N, "options": {make_server keywords}, "handler": [module,
class] or null}. The handler's module is looked up next to this file
(tests/e2e/handlers.py). Serves in a background thread (server.start()) until standard
input ends, then stops as embedding code would: shutdown(), server_close(). Not with
Ctrl-C: a KeyboardInterrupt can strike while another thread holds the heap locked
("MemoryError: heap is locked" in server_close: 2 stops in 6 on a loaded machine).
Written in the MicroPython subset (no f-strings' !a, no argparse, no `with socket`).
"""
import json
import sys

config = json.loads(sys.stdin.readline())
here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, config["root"])
sys.path.insert(0, here)

from wsserver.server import make_server  # noqa: E402 (after the path is set)

options = config["options"]
if config.get("handler"):
    module_name, class_name = config["handler"]
    options["handler_class"] = getattr(__import__(module_name), class_name)
server = make_server(port=config["port"], bind="127.0.0.1", directory=config["directory"],
                     uploads=config["uploads"], **options)
server.workers = config["workers"]  # the board stand-in's threads, started by serve_forever
print("upy_launch: serving on port %d with %d workers" % (config["port"], server.workers))
server.start()
sys.stdin.readline()  # the end of standard input: the test stops the server
server.shutdown()
server.server_close()
print("upy_launch: closed")
