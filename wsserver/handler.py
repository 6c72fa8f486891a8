"""The request handler that wsserver serves with, and its routes (DESIGN.md, Contract)."""
from wsserver import paths
from wsserver.authmixin import TOKEN_PATH, AuthMixIn
from wsserver.files import FileServiceMixIn
from wsserver.http11 import HTTPError
from wsserver.httphandler import HTTPRequestHandler
from wsserver.uploads import UploadMixIn
from wsserver.wsmixin import WebSocketMixIn

UPLOADS = "/uploads"
ECHO = "/ws/echo"
LOG = "/ws/log"


class RequestHandler(AuthMixIn, WebSocketMixIn, FileServiceMixIn, UploadMixIn,
                     HTTPRequestHandler):
    """Static files from `server.directory`; uploads into `server.uploads` under /uploads/;
    the live log at /ws/log (when the server has a log hub); WebSocket echo at /ws/echo;
    the WebSocket token at /ws/token. With server credentials, every request needs them.

    Subclass it to add routes: override a `do_<METHOD>` and call this class's method
    for the paths you do not handle.
    """

    #: Paths that are WebSocket endpoints (GET with an upgrade only).
    websocket_paths = (ECHO, LOG)

    def dispatch(self):
        if self.server.refuses(self.connection):
            self.close_connection = True
            raise HTTPError(503, "too many connections (at most %d)"
                            % self.server.max_connections, [("Retry-After", "1")])
        self.check_access()
        HTTPRequestHandler.dispatch(self)

    def upload_target(self):
        """The upload name a /uploads/<name> path names: '' for the folder itself, None
        for a path outside /uploads/."""
        if not self.path.startswith(UPLOADS + "/"):
            return None
        relative = paths.url_to_relative(self.path[len(UPLOADS):])
        return paths.upload_name(relative) if relative else ""

    def allowed_methods(self):
        if self.path == "*":
            return HTTPRequestHandler.allowed_methods(self)
        if self.path in self.websocket_paths:
            return "GET"
        name = self.upload_target()
        if name is None:
            return "GET, HEAD, OPTIONS"
        if name == "":
            return "GET, HEAD, POST, OPTIONS"
        return "GET, HEAD, PUT, DELETE, OPTIONS"

    def not_allowed(self):
        return HTTPError(405, "%s is not allowed on %s" % (self.command, self.path),
                         [("Allow", self.allowed_methods())])

    def do_GET(self):
        self.download(head_only=False)

    def do_HEAD(self):
        self.download(head_only=True)

    def download(self, head_only):
        if self.path == LOG and self.server.log_hub is None:
            raise HTTPError(404, "this server keeps no live log")
        if self.path in self.websocket_paths:
            return self.accept_websocket()
        if self.path == TOKEN_PATH:
            return self.send_token()
        if self.path == UPLOADS:
            return self.redirect(UPLOADS + "/")
        name = self.upload_target()
        if name is None:
            self.send_file(self.server.directory, paths.url_to_relative(self.path), head_only)
        elif name:
            self.send_file(self.server.uploads, name, head_only, untrusted=True)
        else:
            self.list_uploads(self.server.uploads)

    def on_open(self):
        if self.path == LOG:
            self.viewer = self.server.log_hub.subscribe(self)

    def on_message(self, data):
        if self.path == ECHO:
            self.send(data)

    def on_close(self, code, reason):
        if self.path == LOG:
            self.server.log_hub.unsubscribe(self.viewer)

    def do_PUT(self):
        name = self.upload_target()
        if not name:
            raise self.not_allowed()
        body = self.read_body(self.server.max_upload)
        created, size = self.store_upload(self.server.uploads, name, body)
        if created:
            self.send_json(201, [{"name": name, "size": size}])
        else:
            self.send_response(204)
            self.end_headers()

    def do_POST(self):
        if self.upload_target() != "":
            raise self.not_allowed()
        content_type = self.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/"):
            from wsserver import multipart  # here: 8 KB of heap on a board, for POST only
            boundary = multipart.boundary_from(content_type)
            body = self.read_body(self.server.max_upload)
            stored = self.store_multipart(self.server.uploads, body, boundary)
        else:
            name = self.headers.get("x-filename") or paths.query_value(self.query, "name")
            if not name:
                raise HTTPError(400, "name the file: X-Filename header or ?name=")
            name = paths.upload_name(name)
            body = self.read_body(self.server.max_upload)
            stored = [{"name": name, "size": self.store_upload(self.server.uploads, name, body)[1]}]
        self.send_json(201, stored)

    def do_DELETE(self):
        name = self.upload_target()
        if not name:
            raise self.not_allowed()
        self.delete_upload(self.server.uploads, name)

    def do_OPTIONS(self):
        self.send_response(204)
        self.send_header("Allow", self.allowed_methods())
        self.end_headers()
