"""aiohttp peer for bench/ws_bench.py: `web.WebSocketResponse` echo at /ws/echo.

    python bench/peers/ws_aiohttp.py PORT [-b 127.0.0.1]

Written the way the aiohttp docs show a WebSocket handler: text comes back
with send_str, binary with send_bytes. max_msg_size is raised to 16 MiB so the
1 MiB messages fit; default asyncio loop, no access log.
Prints a line with http://HOST:PORT/ once it is listening.
"""

import asyncio

from aiohttp import WSMsgType, web
from peerlib import announce, arg_parser

MAX_SIZE = 16 * 1024 * 1024


async def echo(request):
    ws = web.WebSocketResponse(max_msg_size=MAX_SIZE)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def serve(args):
    app = web.Application()
    app.add_routes([web.get("/ws/echo", echo)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, args.bind, args.port).start()
    announce(args)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(arg_parser(__doc__).parse_args()))
