"""python-websockets peer for bench/ws_bench.py: the threaded (sync) server, echo.

    python bench/peers/ws_websockets.py PORT [-b 127.0.0.1]

`websockets.sync.server.serve` runs a thread per connection. The echo handler
sends every message back as it came (str as text, bytes as binary). max_size is
raised to 16 MiB so the 1 MiB messages fit; everything else is the default
(the bench client offers no compression, so none is negotiated).
Prints a line with http://HOST:PORT/ once it is listening.
"""

from peerlib import announce, arg_parser
from websockets.sync.server import serve

MAX_SIZE = 16 * 1024 * 1024


def echo(connection):
    for message in connection:
        connection.send(message)


def main():
    args = arg_parser(__doc__).parse_args()
    with serve(echo, args.bind, args.port, max_size=MAX_SIZE) as server:
        announce(args)
        server.serve_forever()


if __name__ == "__main__":
    main()
