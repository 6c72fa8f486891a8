"""Run wsserver on this computer: python run.py [PORT] [options] (see --help).

The options follow `python -m http.server`. Needs nothing but the standard library.
"""
import argparse
import logging
import os
import signal
import socket
import sys

from wsserver.basicauth import expected_credentials
from wsserver.server import make_server

HERE = os.path.dirname(os.path.abspath(__file__))


def user_password(text):
    """argparse type of --auth: USER:PASSWORD as given, once it has a user and a colon."""
    try:
        expected_credentials(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="HTTP/1.1 + WebSocket server: static files, uploads, live log.")
    parser.add_argument("port", nargs="?", type=int, default=8000,
                        help="port to listen on (default 8000)")
    parser.add_argument("-b", "--bind", default="", metavar="ADDRESS",
                        help="address to listen on (default: all interfaces)")
    parser.add_argument("-d", "--directory", default=os.path.join(HERE, "static"),
                        help="folder of the static files (default: static/ next to run.py)")
    parser.add_argument("--uploads", default=os.path.join(HERE, "uploads"), metavar="DIR",
                        help="folder uploads go into (default: uploads/ next to run.py)")
    parser.add_argument("--max-upload", type=int, default=None, metavar="BYTES",
                        help="largest upload accepted, in bytes (default: no limit)")
    parser.add_argument("--auth", type=user_password, metavar="USER:PASSWORD",
                        help="HTTP Basic credentials every request needs, WebSockets "
                             "included (default: none; without TLS, only as private as "
                             "the network)")
    parser.add_argument("--allow-origin", nargs="+", action="extend", metavar="ORIGIN",
                        help="origins whose pages may open WebSockets, such as "
                             "http://device.local:8000 (default: any; with --auth, "
                             "only the server's own pages)")
    parser.add_argument("--log-history", type=int, default=200, metavar="N",
                        help="log records kept for viewers who join later (default 200; "
                             "0: no live log)")
    parser.add_argument("--max-connections", type=int, default=None, metavar="N",
                        help="connections served at once, WebSockets included; more are "
                             "answered 503 (default 1000)")
    parser.add_argument("--certfile", metavar="FILE",
                        help="PEM certificate (chain): serve HTTPS and WSS instead of HTTP "
                             "and WS (default: none)")
    parser.add_argument("--keyfile", metavar="FILE",
                        help="PEM private key of --certfile (default: in the certfile)")
    return parser.parse_args(argv)


def reachable_urls(host, port, scheme="http"):
    """The URLs a browser can use: the bound address, or this machine's addresses."""
    if host not in ("", "0.0.0.0", "::"):
        shown = "[%s]" % host if ":" in host else host
        return ["%s://%s:%d/" % (scheme, shown, port)]
    addresses = ["127.0.0.1"]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            if info[4][0] not in addresses:
                addresses.append(info[4][0])
    except OSError:
        pass  # no resolvable host name: loopback only
    return ["%s://%s:%d/" % (scheme, address, port) for address in addresses]


def stop_on_sigterm():
    """SIGTERM stops the server the way Ctrl-C does."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = make_server(port=args.port, bind=args.bind, directory=args.directory,
                         uploads=args.uploads, max_upload=args.max_upload,
                         allow_origins=args.allow_origin, log_history=args.log_history,
                         max_connections=args.max_connections, auth=args.auth,
                         certfile=args.certfile, keyfile=args.keyfile)
    stop_on_sigterm()  # before the URLs: whoever reads them may stop it at once
    port = server.server_address[1]
    for url in reachable_urls(args.bind, port, "https" if args.certfile else "http"):
        print("Serving on %s" % url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopping", flush=True)
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
