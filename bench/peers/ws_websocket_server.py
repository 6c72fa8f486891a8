"""websocket-server (PyPI `websocket-server`) peer for bench/ws_bench.py: echo.

    python bench/peers/ws_websocket_server.py PORT [-b 127.0.0.1]

A socketserver ThreadingMixIn server (a thread per connection); the echo is
`set_fn_message_received` calling `send_message`. The library ignores the URL
path, has no size limit, and takes text only: it logs "Binary frames are not
supported" and does not read the frame's payload, so the next bytes are parsed
as a frame header (the bench measures this and says so).
Prints a line with http://HOST:PORT/ once it is listening.
"""

import argparse
import logging

from websocket_server import WebsocketServer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    args = parser.parse_args()
    server = WebsocketServer(host=args.bind, port=args.port, loglevel=logging.WARNING)
    server.set_fn_message_received(lambda client, srv, message: srv.send_message(client, message))
    print("Serving on http://%s:%d/" % (args.bind, args.port), flush=True)
    server.run_forever()


if __name__ == "__main__":
    main()
