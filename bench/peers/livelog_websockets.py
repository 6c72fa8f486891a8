"""python-websockets live-log peer for bench/livelog_bench.py: `broadcast()`.

    python bench/peers/livelog_websockets.py PORT [-b 127.0.0.1]

The asyncio server (`websockets.asyncio.server.serve`); viewers connect to
ws://HOST:PORT/ws/log and are only sent to. Bench routes, answered from
`process_request` (websockets serves GET only):

- /bench/publish?n=N&size=S&run=R: a task encodes N records as JSON text, the same shape as
  wsserver's live log ({"t", "level", "name", "msg"}, msg "bench-RRRR-seq=NNNNNNNN xxx..." of S
  bytes) and calls `websockets.broadcast(connections, text)` for each, as fast as it
  can. It yields to the loop (`await asyncio.sleep(0)`) every YIELD_EVERY records, and
  waits while any connection holds more than HIGH_WATER bytes in its transport's
  buffer: broadcast() itself has no backpressure and would buffer without bound.
  Answers {"start": time.monotonic() of the first broadcast}.
- /bench/status: {"start", "end", "published", "running"}.
- /bench/viewers: {"viewers": number of open connections}.

Everything else is the default (ping_interval 20 s, no compression: the bench client
offers none). Prints a line with http://HOST:PORT/ once it is listening.
"""

import asyncio
import json
import time
from urllib.parse import urlsplit

from peerlib import announce, arg_parser, padding, publish_args, record
from websockets.asyncio.server import broadcast, serve

YIELD_EVERY = 64
HIGH_WATER = 1 << 20


class State:
    server = None
    task = None
    start = end = None
    published = 0


async def publish(n, size, run, started):
    pad = padding(size)
    connections = list(State.server.connections)
    State.start = time.monotonic()
    started.set_result(State.start)
    for i in range(n):
        broadcast(connections, record(run, i, pad))
        if i % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
            while any(c.transport.get_write_buffer_size() > HIGH_WATER for c in connections
                      if not c.transport.is_closing()):
                await asyncio.sleep(0.0005)
    State.published = n
    State.end = time.monotonic()


async def process_request(connection, request):
    url = urlsplit(request.path)
    if not url.path.startswith("/bench/"):
        return None  # the WebSocket handshake goes on
    if url.path == "/bench/publish":
        if State.task is not None and not State.task.done():
            return connection.respond(409, json.dumps({"start": None}))
        State.start = State.end = None
        State.published = 0
        started = asyncio.get_running_loop().create_future()
        State.task = asyncio.create_task(
            publish(*publish_args(url.query), started))
        return connection.respond(200, json.dumps({"start": await started}))
    if url.path == "/bench/status":
        return connection.respond(200, json.dumps({
            "start": State.start, "end": State.end, "published": State.published,
            "running": State.task is not None and not State.task.done()}))
    if url.path == "/bench/viewers":
        return connection.respond(200, json.dumps({"viewers": len(State.server.connections)}))
    return connection.respond(404, "no such bench route")


async def viewer(connection):
    await connection.wait_closed()


async def main_async(args):
    async with serve(viewer, args.bind, args.port, process_request=process_request) as server:
        State.server = server
        announce(args)
        await server.serve_forever()


def main():
    asyncio.run(main_async(arg_parser(__doc__).parse_args()))


if __name__ == "__main__":
    main()
