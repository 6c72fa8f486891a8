"""wsserver: a small HTTP/1.1 + WebSocket server for CPython and MicroPython boards."""

__version__ = "0.1.0"


def serve(**options):
    """Serve until interrupted; options as `wsserver.server.make_server` takes them:
    port=8000, bind="", directory="static", uploads="uploads", max_upload=None,
    workers=None (a board's request threads), auth=None ("user:password" every request
    needs), and the rest."""
    from wsserver.server import serve as _serve
    _serve(**options)
