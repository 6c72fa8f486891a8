"""Files over HTTP: GET/HEAD with validators (ETag, Last-Modified) and byte ranges.

Shared by both interpreters: plain `os` calls (`os.stat` read as a tuple), no os.path.
"""
import os

from wsserver import compat, httpdate, paths
from wsserver.http11 import HTTPError, is_digits

_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_S_IFREG = 0o100000


def is_dir(st):
    return st[0] & _S_IFMT == _S_IFDIR


def is_file(st):
    return st[0] & _S_IFMT == _S_IFREG


def remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _etag(st):
    return '"%x-%x"' % (int(st[8]), st[6])


def _etag_matches(header, etag):
    """RFC 9110 §13.1.2: If-None-Match uses the weak comparison."""
    if header.strip() == "*":
        return True
    candidates = [tag.strip() for tag in header.split(",")]
    return etag in candidates or "W/" + etag in candidates


def parse_range(header, size):
    """(start, stop) of a single `bytes=` range, None to send the whole file.

    RFC 9110 §14.2: a server MAY ignore Range; we ignore what we do not serve (several
    ranges, other units, bad syntax) and answer 416 only for a well-formed range that
    starts past the end.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (is_digits(first) or (not first and is_digits(last))):
        return None
    if last and not is_digits(last):
        return None
    if not first:  # suffix range: the last N bytes
        if int(last) == 0:
            raise _unsatisfiable(size)
        return max(0, size - int(last)), size
    start = int(first)
    stop = min(size, int(last) + 1) if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    return start, stop


def _opened(opener, path, *args):
    """opener(path, *args), with a file that cannot be read answered as 403."""
    try:
        return opener(path, *args)
    except OSError:
        raise HTTPError(403, "file cannot be read")


def _replaced(st, opened, tries):
    """True when the file opened is not the one st describes (inode, size or time): then
    it is sent as opened, `tries` more times at most; 503 for one that keeps changing."""
    if opened is None or (opened[1], opened[6], opened[8]) == (st[1], st[6], st[8]):
        return False
    if not tries:
        raise HTTPError(503, "the file keeps changing", [("Retry-After", "1")])
    return True


def _unsatisfiable(size):
    return HTTPError(416, "range not satisfiable",
                     [("Content-Range", "bytes */%d" % size)])


class FileServiceMixIn:
    """Sends the files of a folder, with validators and ranges.

    For an HTTPRequestHandler. May be overridden: `index_name` (the file a folder URL
    serves), `guess_type(path)`.

    Files that anyone may have put there (uploads) are sent `untrusted`: so that a
    browser never runs them as part of the site, they come with a sandboxing CSP and
    nosniff, and as an attachment unless their type only shows (paths.shows_inline).
    """

    index_name = "index.html"

    def guess_type(self, path):
        return paths.guess_type(path)

    def send_file(self, root, relative, head_only, untrusted=False):
        """Answer GET/HEAD for a file under root; a folder gives its index file."""
        st = compat.stat_inside(root, relative)
        if st is not None and is_dir(st):
            if not self.path.endswith("/"):
                return self.redirect(self.path + "/")
            relative = (relative + "/" if relative else "") + self.index_name
            st = compat.stat_inside(root, relative)
        if st is None or not is_file(st):
            raise HTTPError(404, "not found")
        if self._not_modified(st):
            self.send_response(304)
            self._send_validators(st)
            self.end_headers()
            return
        self._send_content(root + "/" + relative, st, head_only, untrusted)

    def _not_modified(self, st):
        """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
        if self.command not in ("GET", "HEAD"):
            return False
        if_none_match = self.headers.get("if-none-match")
        if if_none_match is not None:
            return _etag_matches(if_none_match, _etag(st))
        since = self.headers.get("if-modified-since")
        since = httpdate.parse_date(since) if since else None
        return since is not None and int(st[8]) + compat.EPOCH_OFFSET <= since

    def _send_validators(self, st):
        self.send_header("Last-Modified", httpdate.format_date(st[8] + compat.EPOCH_OFFSET))
        self.send_header("ETag", _etag(st))

    def _requested_range(self, st):
        header = self.headers.get("range")
        if header is None or self.command != "GET":
            return None
        if_range = self.headers.get("if-range")
        if if_range is not None and if_range.strip() != _etag(st):
            return None  # RFC 9110 §13.1.5: the file changed: send all of it
        return parse_range(header, st[6])

    def _send_content(self, path, st, head_only, untrusted, tries=3):
        """Send the file as st describes it. A file replaced between its stat and its
        open (an upload landing) is sent as opened, with its own length and validators,
        never the new bytes under the old ones' head."""
        byte_range = self._requested_range(st)
        start, stop = byte_range or (0, st[6])
        if head_only:
            self._send_content_head(path, st, byte_range, start, stop, untrusted)
        elif stop - start <= self.single_write_size:
            data, opened = _opened(compat.read_range, path, start, stop - start)
            if _replaced(st, opened, tries):
                return self._send_content(path, opened, head_only, untrusted, tries - 1)
            self._send_content_head(path, st, byte_range, start, stop, untrusted)
            self.write(data)
        else:
            with _opened(open, path, "rb", 0) as file:
                opened = compat.stat_opened(file)
                if _replaced(st, opened, tries):
                    return self._send_content(path, opened, head_only, untrusted, tries - 1)
                self._send_content_head(path, st, byte_range, start, stop, untrusted)
                self.flush_head()
                compat.send_file_range(self, file, start, stop - start)

    def _send_content_head(self, path, st, byte_range, start, stop, untrusted):
        self.send_response(206 if byte_range else 200)
        content_type = self.guess_type(path)
        self.send_header("Content-Type", content_type)
        if untrusted:
            self._send_untrusted_headers(content_type)
        self.send_header("Content-Length", stop - start)
        if byte_range:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, stop - 1, st[6]))
        self.send_header("Accept-Ranges", "bytes")
        self._send_validators(st)
        self.end_headers()

    def _send_untrusted_headers(self, content_type):
        self.send_header("X-Content-Type-Options", "nosniff")
        # A sandboxed document has an origin of its own and runs no script.
        self.send_header("Content-Security-Policy", "sandbox")
        if not paths.shows_inline(content_type):
            self.send_header("Content-Disposition", "attachment")

    def redirect(self, location):
        self.send_response(301)
        self.send_header("Location", location + ("?" + self.query if self.query else ""))
        self.send_header("Content-Length", 0)
        self.end_headers()
