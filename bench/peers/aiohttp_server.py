"""aiohttp peer for bench/http_bench.py: static files plus a streaming PUT upload.

Written the way the aiohttp docs suggest, so the comparison is fair:
`web.static` serves files (aiohttp uses sendfile for them), and
`PUT /uploads/{name}` streams the body with `request.content.iter_chunked`
to a temporary file that is renamed when complete.

    python bench/peers/aiohttp_server.py PORT -b 127.0.0.1 -d STATIC --uploads UPLOADS

Prints a line with http://HOST:PORT/ once it is listening.
"""

import asyncio
import os

from aiohttp import web
from peerlib import announce, arg_parser

CHUNK = 1 << 16


def parse_args():
    parser = arg_parser(__doc__)
    parser.add_argument("-d", "--directory", required=True)
    parser.add_argument("--uploads", required=True)
    return parser.parse_args()


def make_app(static, uploads):
    """Build the app: the upload route first, then static files under /."""

    async def put_upload(request):
        name = request.match_info["name"]
        if "/" in name or name.startswith("."):
            raise web.HTTPBadRequest(text="bad name")
        final = os.path.join(uploads, name)
        part = os.path.join(uploads, "." + name + ".part")
        existed = os.path.exists(final)
        try:
            with open(part, "wb") as out:
                async for chunk in request.content.iter_chunked(CHUNK):
                    out.write(chunk)
            os.replace(part, final)
        finally:
            if os.path.exists(part):
                os.remove(part)
        return web.Response(status=204 if existed else 201)

    app = web.Application()
    app.add_routes([
        web.put("/uploads/{name}", put_upload),
        web.static("/", static),
    ])
    return app


async def serve(args):
    """Start the site, announce the URL, then sleep until killed."""
    runner = web.AppRunner(make_app(args.directory, args.uploads), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, args.bind, args.port).start()
    announce(args)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(parse_args()))
