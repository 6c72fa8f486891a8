"""Serve in a background thread while your own program goes on; stop cleanly.

    python examples/background.py [PORT] [-b ADDRESS]

The loop in main() stands for your program's work: once a second it writes what it
has done to www/status.json, which the server serves at /status.json. Ctrl-C or
SIGTERM (systemd, docker stop) ends the loop; then shutdown() stops the server's
thread, and server_close() closes every connection and the port.

Needs the wsserver package importable: `pip install .` in the repository, or
PYTHONPATH pointing at it.
"""
import argparse
import json
import os
import signal
import time

from wsserver.server import make_server

WWW = "www"  # served folder, in the current directory


def write_status(count, started):
    """Replace www/status.json in one step: it is never seen half written."""
    temp = os.path.join(WWW, ".status.tmp")
    with open(temp, "w") as file:
        json.dump({"count": count, "uptime": round(time.monotonic() - started, 1)}, file)
    os.replace(temp, os.path.join(WWW, "status.json"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=8000)
    parser.add_argument("-b", "--bind", default="", metavar="ADDRESS")
    args = parser.parse_args()

    os.makedirs(WWW, exist_ok=True)
    server = make_server(port=args.port, bind=args.bind, directory=WWW, uploads="uploads")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM acts as Ctrl-C
    server.start()
    started = time.monotonic()
    count = 0
    try:  # from here on, a signal stops the server the clean way
        print("Serving on http://%s:%d/status.json" % (args.bind or "localhost",
                                                       server.server_address[1]), flush=True)
        while True:  # your program's own loop
            count += 1
            write_status(count, started)
            time.sleep(1)
    except KeyboardInterrupt:
        print("Stopping", flush=True)
    finally:
        server.shutdown()  # serve_forever returns (within its poll interval)
        server.server_close()  # WebSockets get 1001; other connections are closed


if __name__ == "__main__":
    main()
