"""The WebSocket opening handshake on the server side (RFC 6455 §4.2).

Pure: takes a parsed request (http11.Request) and returns what the 101 answer needs,
or raises an HTTPError whose status and headers say precisely what was wrong, one
check at a time.
"""
import binascii
import hashlib

from wsserver.http11 import HTTPError

# RFC 6455 §1.3: the GUID concatenated with the key before hashing.
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
VERSION = "13"


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2 item 5.4)."""
    digest = hashlib.sha1(key.encode() + GUID).digest()
    return binascii.b2a_base64(digest)[:-1].decode()


def check_request(request):
    """The client's key, once the request is a valid opening handshake (§4.2.1)."""
    headers = request.headers
    if request.method != "GET":
        # §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
        raise HTTPError(405, "a WebSocket handshake is a GET", [("Allow", "GET")])
    if request.version != "HTTP/1.1":
        raise HTTPError(400, "a WebSocket handshake needs HTTP/1.1")
    # Items 3 and 4; RFC 9110 §15.5.22: a 426 MUST carry Upgrade with the protocol.
    if "websocket" not in headers.tokens("upgrade") or "upgrade" not in headers.tokens("connection"):
        raise HTTPError(426, "this resource speaks WebSocket only",
                        [("Upgrade", "websocket"), ("Connection", "Upgrade")])
    # §4.4: on a version we do not speak, say which one we do.
    if headers.get_all("sec-websocket-version") != [VERSION]:
        raise HTTPError(426, "WebSocket version 13 only", [("Sec-WebSocket-Version", VERSION)])
    return _check_key(headers.get_all("sec-websocket-key"))


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _check_key(keys):
    """Item 5: the key is base64 of 16 bytes (usually random), sent once.

    16 bytes are 22 base64 characters and "==": checked by hand, because decoders
    (MicroPython's among them) skip characters that are not base64.
    """
    if len(keys) != 1:
        raise HTTPError(400, "one Sec-WebSocket-Key is needed")
    key = keys[0]
    if len(key) != 24 or key[22:] != "==" or not all(c in _BASE64 for c in key[:22]):
        raise HTTPError(400, "Sec-WebSocket-Key is not base64 of 16 bytes")
    return key


def check_origin(origin, allowed, own_host=None):
    """403 for a browser page from an origin not allowed (§4.2.2 item 4; §10.2).

    allowed: list of origins such as "http://device.local:8000"; or None: then only the
    server's own pages when own_host (the request's Host) is given, any page when not.
    A page is the server's own when its origin, without the scheme, is the Host: a page
    of another site cannot open a WebSocket with the browser's credentials for this one
    (cross-site WebSocket hijacking). Clients that are not browsers send no Origin and
    are not refused.
    """
    if origin is None:
        return
    if allowed is not None:
        if origin.lower() not in [item.lower() for item in allowed]:
            raise HTTPError(403, "origin %s is not allowed" % origin)
    elif own_host is not None and origin.partition("://")[2].lower() != own_host.lower():
        raise HTTPError(403, "origin %s is not this server's own (%s)" % (origin, own_host))


def choose_subprotocol(headers, supported):
    """The first of `supported` (the server's preference order) that the client
    offered in Sec-WebSocket-Protocol, or None (§4.2.2 item 5.4, /subprotocol/)."""
    offered = []
    for value in headers.get_all("sec-websocket-protocol"):
        offered.extend(item.strip(" \t") for item in value.split(","))
    for name in supported:
        if name in offered:  # subprotocol names are case-sensitive tokens
            return name
    return None


def response_headers(key, subprotocol=None):
    """The header fields of the 101 answer, as (name, value) pairs."""
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Accept", accept_key(key))]
    if subprotocol is not None:
        headers.append(("Sec-WebSocket-Protocol", subprotocol))
    return headers
