"""The command line on a PC: `wsserver`, `python -m wsserver` and `python run.py` (CPython
only: deploy.py leaves it off a board). The options follow `python -m http.server`.
"""
import argparse
import ipaddress
import logging
import os
import signal
import socket

from wsserver.basicauth import expected_credentials
from wsserver.ifaddrs import machine_addresses
from wsserver.server import make_server

PACKAGE = os.path.dirname(os.path.abspath(__file__))
NETWORK_WARNING = ("Warning: anyone on the network can upload and delete files; "
                   "use --auth USER:PASSWORD")


def shipped_page():
    """The folder of the page that comes with wsserver: package data once installed
    (pyproject.toml puts static/ in the package), else the checkout's static/."""
    installed = os.path.join(PACKAGE, "static")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(PACKAGE), "static")


def user_password(text):
    """argparse type of --auth: USER:PASSWORD as given, once it has a user and a colon."""
    try:
        expected_credentials(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))
    return text


def parse_args(argv, static, uploads, prog):
    parser = argparse.ArgumentParser(
        prog=prog, description="HTTP/1.1 + WebSocket server: static files, uploads, live log.")
    parser.add_argument("port", nargs="?", type=int, default=8000,
                        help="port to listen on (default 8000)")
    parser.add_argument("-b", "--bind", default="", metavar="ADDRESS",
                        help="address to listen on (default: all interfaces)")
    parser.add_argument("-d", "--directory", default=static,
                        help="folder of the static files (default: %(default)s)")
    parser.add_argument("--uploads", default=uploads, metavar="DIR",
                        help="folder uploads go into (default: %(default)s)")
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


def reachable_urls(sock, scheme="http"):
    """The URLs a browser can use for a listening socket: its address, or when it listens
    on all interfaces, every address of the machine (loopback first) in the families it
    accepts. IPv6 link-local addresses are left out: a URL cannot name their interface."""
    host, port = sock.getsockname()[:2]
    if not ipaddress.ip_address(host).is_unspecified:
        addresses = [host]
    else:
        addresses = []
        for family in accepted_families(sock):
            found = [ipaddress.ip_address(a) for a in machine_addresses(family)]
            usable = [a for a in found if not (a.version == 6 and a.is_link_local)]
            addresses += [str(a) for a in usable if a.is_loopback]
            addresses += [str(a) for a in usable if not a.is_loopback]
    return ["%s://%s:%d/" % (scheme, "[%s]" % a if ":" in a else a, port) for a in addresses]


def accepted_families(sock):
    """IPv4 for an IPv4 socket; for IPv6, IPv4 too unless it is IPv6-only (Linux's
    default for `::` is dual stack)."""
    if sock.family == socket.AF_INET:
        return [socket.AF_INET]
    if sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY):
        return [socket.AF_INET6]
    return [socket.AF_INET, socket.AF_INET6]


def open_to_the_network(sock):
    """True unless the socket listens on a loopback address only."""
    return not ipaddress.ip_address(sock.getsockname()[0]).is_loopback


def announce(sock, args):
    """Print where the server can be reached, and warn when anyone on the network may
    upload; log the folders (the last line of the start-up)."""
    for url in reachable_urls(sock, "https" if args.certfile else "http"):
        print("Serving on %s" % url, flush=True)
    if args.auth is None and open_to_the_network(sock):
        print(NETWORK_WARNING, flush=True)
    logging.getLogger("wsserver").info("static files from %s, uploads into %s",
                                       args.directory, args.uploads)


def stop_on_sigterm():
    """SIGTERM stops the server the way Ctrl-C does."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def main(argv=None, home=None, prog=None):
    """Serve until Ctrl-C or SIGTERM; 0 then. home: the folder whose static/ and uploads/
    are the defaults (run.py gives its own); None: the page that comes with wsserver, and
    uploads/ in the current folder."""
    if home is None:
        static, uploads = shipped_page(), os.path.abspath("uploads")
    else:
        static, uploads = os.path.join(home, "static"), os.path.join(home, "uploads")
    args = parse_args(argv, static, uploads, prog)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = make_server(port=args.port, bind=args.bind, directory=args.directory,
                         uploads=args.uploads, max_upload=args.max_upload,
                         allow_origins=args.allow_origin, log_history=args.log_history,
                         max_connections=args.max_connections, auth=args.auth,
                         certfile=args.certfile, keyfile=args.keyfile)
    stop_on_sigterm()  # before the URLs: whoever reads them may stop it at once
    try:
        announce(server.socket, args)
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopping", flush=True)
    finally:
        server.server_close()
    return 0
