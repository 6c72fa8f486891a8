"""Access control for the request handler of a server started with credentials (auth=).

Every request must carry them, HTTP Basic (RFC 7617). A WebSocket handshake may carry
the server's token in its query instead (`?token=T`): a browser's WebSocket API cannot
set Authorization, so the page fetches T from TOKEN_PATH with the credentials the
browser already has. The decision is taken from the request head alone, before a byte
of a body is read or a file is opened: a refused upload writes nothing.
"""
from wsserver import basicauth, compat, paths
from wsserver.http11 import HTTPError

#: GET: {"token": T} for the WebSocket URLs; {"token": null} when the server has no auth.
TOKEN_PATH = "/ws/token"


class AuthMixIn:
    """`check_access()` before dispatching a request; `send_token()` for TOKEN_PATH.

    Reads `server.credentials` (the bytes of "user:password", None when anyone may in)
    and `server.ws_token` (bytes), and the handler's `websocket_paths`.
    """

    def check_access(self):
        """Return when the request may be served; else 401 with the Basic challenge."""
        expected = self.server.credentials
        if expected is None:
            return
        token = self._take_token()
        if (token is not None and self.path in self.websocket_paths
                and compat.same_secret(token.encode(), self.server.ws_token)):
            return
        received = basicauth.received_credentials(self.headers.get("authorization"))
        if received is None or not compat.same_secret(received, expected):
            raise HTTPError(401, "wrong or missing credentials", [basicauth.CHALLENGE])

    def _take_token(self):
        """The query's token, or None. The token is a secret: it is cut from the target
        that log lines show (the live log's viewers, the console)."""
        try:
            token = paths.query_value(self.query, "token")
        except HTTPError:  # a bad percent-escape: no token, and still a 401, not a 400
            return None
        if token is not None:
            self.target = self.path + "?token=(hidden)"
        return token

    def send_token(self):
        """Answer GET TOKEN_PATH: reached only by a client that authenticated."""
        token = self.server.ws_token
        self.send_json(200, {"token": token.decode() if token is not None else None})
