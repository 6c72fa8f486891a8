"""Log with the standard `logging` module and watch the records in a browser.

    python examples/logging_to_browser.py [PORT] [-b ADDRESS]

A server with a live log (the default) adds a handler to the root logger, so every
record any logger of the process emits also goes to each viewer of /ws/log: open the
page at http://localhost:8000/ and watch the "sensor" lines arrive. Records below a
logger's level are never made, so they reach neither the console nor the browser.
Ctrl-C or SIGTERM stops it cleanly.

Needs the wsserver package importable: `pip install .` in the repository, or
PYTHONPATH pointing at it.
"""
import argparse
import logging
import math
import os
import signal
import time

from wsserver.server import make_server

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "..", "static")  # the page with the live-log viewer
ALARM = 24.0  # degrees: above it, a WARNING

log = logging.getLogger("sensor")


def read_temperature(now):
    """A pretend sensor: a slow wave around 22 degrees."""
    return 22.0 + 3.0 * math.sin(now / 10.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=8000)
    parser.add_argument("-b", "--bind", default="", metavar="ADDRESS")
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = make_server(port=args.port, bind=args.bind, directory=STATIC, uploads="uploads",
                         log_history=100)  # records a viewer who opens the page later gets
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM acts as Ctrl-C
    server.start()
    try:  # from here on, a signal stops the server the clean way
        print("Serving on http://%s:%d/" % (args.bind or "localhost", server.server_address[1]),
              flush=True)
        while True:
            celsius = read_temperature(time.time())
            if celsius > ALARM:
                log.warning("temperature %.1f C is above %.1f C", celsius, ALARM)
            else:
                log.info("temperature %.1f C", celsius)
            time.sleep(1)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.shutdown()
        server.server_close()  # viewers get close code 1001


if __name__ == "__main__":
    main()
