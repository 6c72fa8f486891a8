"""wsserver with bench-only trigger routes, for bench/livelog_bench.py.

    python bench/peers/wsserver_livelog.py PORT [-b 127.0.0.1] [-d STATIC] [--uploads DIR]
                                           [--log-history N] [--queue-length N]

`wsserver.server.make_server(...)` with the real handler (the live log at
ws://HOST:PORT/ws/log), subclassed only to add these GET routes:

- /bench/publish?n=N&size=S&run=R: a thread calls logging.getLogger("bench").info(
  "bench-%04d-seq=%08d %s", R, i, PAD) for i in 0..N-1 as fast as it can (the message
  is S bytes); answers {"start": time.monotonic() of the first call} once it has begun.
- /bench/status: {"start", "end", "published", "running"} of the last publish.
- /bench/cost?n=N&size=S&run=R: N such calls in the request's own thread, each timed with
  time.perf_counter_ns; answers the statistics in microseconds.
- /bench/viewers[?detail=1]: the number of live-log viewers (and, with detail, each
  one's queued records, dropped count and bytes held by its connection).
- /bench/config?queue_length=N: the queue length of viewers that subscribe from now on.

Logging: the root logger is set to INFO and has no handler but the live log's own
(make_server attaches it): every record reaches the hub, nothing is printed per record.
Prints a line with http://HOST:PORT/ once it is listening.
"""

import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from wsserver import paths  # noqa: E402
from wsserver.handler import RequestHandler  # noqa: E402
from wsserver.server import make_server  # noqa: E402

from peerlib import FORMAT, Publisher, announce, arg_parser, padding  # noqa: E402

bench_log = logging.getLogger("bench")


def publish(n, run, pad):
    """The /bench/publish run: logging.info calls, back to back."""
    info = bench_log.info
    for i in range(n):
        info(FORMAT, run, i, pad)


PUBLISHER = Publisher(publish)


def timed_calls(n, size, run):
    """n logging.info calls, each timed: statistics in microseconds."""
    pad = padding(size)
    info = bench_log.info
    clock = time.perf_counter_ns
    times = [0] * n
    begin = clock()
    for i in range(n):
        t0 = clock()
        info(FORMAT, run, i, pad)
        times[i] = clock() - t0
    total = clock() - begin
    times.sort()
    pick = lambda q: times[min(n - 1, int(q * n))] / 1000
    return {"calls": n, "median_us": pick(0.5), "p90_us": pick(0.9), "p99_us": pick(0.99),
            "p999_us": pick(0.999), "max_us": times[-1] / 1000,
            "mean_us": sum(times) / n / 1000, "wall_s": total / 1e9}


class BenchHandler(RequestHandler):
    def do_GET(self):
        if not self.path.startswith("/bench/"):
            return RequestHandler.do_GET(self)
        number = lambda name, default: int(paths.query_value(self.query, name, default))
        hub = self.server.log_hub
        if self.path == "/bench/publish":
            start = PUBLISHER.begin(number("n", 1000), number("size", 64), number("run", 0))
            return self.send_json(200 if start else 409, {"start": start})
        if self.path == "/bench/status":
            return self.send_json(200, PUBLISHER.status())
        if self.path == "/bench/cost":
            return self.send_json(200, timed_calls(number("n", 10000), number("size", 64),
                                                    number("run", 0)))
        if self.path == "/bench/viewers":
            result = {"viewers": len(hub)}
            if number("detail", 0):
                result["detail"] = [viewer_detail(v) for v in hub._viewers]
            return self.send_json(200, result)
        if self.path == "/bench/config":
            hub.queue_length = number("queue_length", hub.queue_length)
            return self.send_json(200, {"queue_length": hub.queue_length})
        self.send_json(404, {"error": "no such bench route"})


def viewer_detail(viewer):
    """Bench-only peek at a viewer's state (private attributes, read without locks)."""
    connection = viewer.connection
    return {"queued": len(viewer._queue), "queue_length": viewer._length,
            "dropped": viewer.dropped,
            "out_bytes": getattr(connection, "_ws_out_size", None)}


def main():
    parser = arg_parser(__doc__)
    parser.add_argument("-d", "--directory", default="static")
    parser.add_argument("--uploads", default="uploads")
    parser.add_argument("--log-history", type=int, default=200)
    parser.add_argument("--queue-length", type=int, default=1000)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.INFO)  # no handler: only the hub's, added below
    server = make_server(port=args.port, bind=args.bind, directory=args.directory,
                         uploads=args.uploads,
                         log_history=args.log_history, handler_class=BenchHandler)
    server.log_hub.queue_length = max(args.queue_length, args.log_history)
    announce(args, " (log_history %d, queue_length %d)"
             % (args.log_history, server.log_hub.queue_length))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)
    main()
