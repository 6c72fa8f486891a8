"""Fixtures that run the real server on a loopback port for the end-to-end tests.

`server` is a running server with empty static and uploads folders under tmp_path;
`start_server(**options)` starts one with serve() keyword options (max_upload=...).
Each yields a `Running` record; the server is shut down and closed afterwards.
"""
import time

import pytest

from wsserver.server import make_server


class Running:
    """What a test needs to reach a running server and look at its folders."""

    def __init__(self, server, static, uploads):
        self.server = server
        self.host, self.port = server.server_address[:2]
        self.url = "http://%s:%d" % (self.host, self.port)
        self.static = static
        self.uploads = uploads

    def stored(self):
        """Names in the uploads folder, temporary files included, sorted."""
        return sorted(p.name for p in self.uploads.iterdir())

    def wait_stored(self, expected, rounds=100):
        """stored() once it equals expected, or after `rounds` short polls (cleanup
        may happen just after the answer or once the server notices a disconnect)."""
        names = self.stored()
        for _ in range(rounds):
            if names == expected:
                break
            time.sleep(0.05)
            names = self.stored()
        return names


@pytest.fixture
def start_server(tmp_path):
    running = []

    def start(**options):
        static = tmp_path / ("static%d" % len(running))
        uploads = tmp_path / ("uploads%d" % len(running))
        static.mkdir()
        uploads.mkdir()
        options.setdefault("bind", "127.0.0.1")
        server = make_server(port=0, directory=str(static), uploads=str(uploads), **options)
        server.start()
        running.append(server)
        return Running(server, static, uploads)

    yield start
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(start_server):
    return start_server()
