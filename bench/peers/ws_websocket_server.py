"""websocket-server (PyPI `websocket-server`) peer for bench/ws_bench.py: echo.

    python bench/peers/ws_websocket_server.py PORT [-b 127.0.0.1]

A socketserver ThreadingMixIn server (a thread per connection); the echo is
`set_fn_message_received` calling `send_message`. The library ignores the URL
path, has no size limit, and takes text only: it logs "Binary frames are not
supported" and does not read the frame's payload, so the next bytes are parsed
as a frame header (the bench measures this and says so).
Prints a line with http://HOST:PORT/ once it is listening.
"""

import logging

from peerlib import announce, arg_parser
from websocket_server import WebsocketServer


def main():
    args = arg_parser(__doc__).parse_args()
    server = WebsocketServer(host=args.bind, port=args.port, loglevel=logging.WARNING)
    server.set_fn_message_received(lambda client, srv, message: srv.send_message(client, message))
    announce(args)
    server.run_forever()


if __name__ == "__main__":
    main()
