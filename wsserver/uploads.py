"""Uploads: bodies streamed to a temporary file and renamed when complete, so a failed
upload never leaves a partial file or damages the one it would replace; the listing
and DELETE.
"""
import json
import os

from wsserver import compat, paths
from wsserver.compat import stat_or_none
from wsserver.files import is_file, remove_quietly
from wsserver.http11 import HTTPError

log = compat.get_logger("wsserver")

# An upload is written to TEMP_PREFIX + random + TEMP_SUFFIX in its target folder and
# renamed when complete. Names starting with "." are never valid upload names, so a
# temporary file can neither collide with an upload nor be listed or downloaded.
TEMP_PREFIX = ".upload-"
TEMP_SUFFIX = ".part"


def remove_stale_temp_files(folder):
    """Remove the temporary files of uploads cut short by a crash or a power cut."""
    for name in os.listdir(folder):
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            remove_quietly(folder + "/" + name)


class UploadMixIn:
    """Stores request bodies as files in a folder, lists them and deletes them.

    For an HTTPRequestHandler. May be overridden: `copy_buffer_size` (bytes per read).
    """

    copy_buffer_size = compat.COPY_BUFFER_SIZE

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", len(body))
        self.end_headers()
        self.write(b"" if self.command == "HEAD" else body)

    def store_upload(self, folder, name, body):
        """Copy a body reader to folder/name through a temporary file; True when new."""
        target = folder + "/" + name
        created = stat_or_none(target) is None
        temp = self._new_temp(folder)
        try:
            with open(temp, "wb") as file:  # its close() writes too: inside the try
                size = self.copy_to_file(body, file)
            compat.replace_file(temp, target)
        except OSError as exc:
            raise _storage_error(exc)
        finally:
            remove_quietly(temp)  # already gone when the rename succeeded
        log.info('%s: stored "%s" (%d bytes)', self.address_string(), name, size)
        return created, size

    def _new_temp(self, folder):
        return "%s/%s%s%s" % (folder, TEMP_PREFIX, compat.random_token(), TEMP_SUFFIX)

    def copy_to_file(self, body, file):
        """Stream body into file through one reused buffer; the byte count."""
        buffer = bytearray(self.copy_buffer_size)
        view = memoryview(buffer)
        size = 0
        while True:
            count = body.readinto(buffer)
            if not count:
                return size
            file.write(view[:count])
            size += count

    def store_multipart(self, folder, body, boundary):
        """Store every file of a multipart/form-data body, all or none."""
        from wsserver import multipart  # imported by the first multipart body: a board
        upload = _MultipartUpload(self, folder)  # that never gets one saves its heap
        events = {multipart.PART_BEGIN: upload.begin, multipart.PART_DATA: upload.data,
                  multipart.PART_END: upload.end}
        try:
            parser = multipart.MultipartParser(boundary)
            buffer = bytearray(self.copy_buffer_size)
            view = memoryview(buffer)
            while True:
                count = body.readinto(buffer)
                if not count:
                    break
                for kind, value in parser.feed(view[:count]):
                    events[kind](value)
            parser.close()
            return upload.commit()
        except OSError as exc:
            raise _storage_error(exc)
        finally:
            upload.abort()

    def list_uploads(self, folder):
        """The uploads as JSON for API clients, as an HTML page for people."""
        entries = []
        for name in sorted(os.listdir(folder)):
            st = stat_or_none(folder + "/" + name)
            if not name.startswith(".") and st is not None and is_file(st):
                entries.append({"name": name, "size": st[6],
                                "mtime": st[8] + compat.EPOCH_OFFSET})
        if "application/json" in self.headers.get("accept", ""):
            return self.send_json(200, entries)
        body = _listing_page(entries).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", len(body))
        self.end_headers()
        self.write(b"" if self.command == "HEAD" else body)

    def delete_upload(self, folder, name):
        path = folder + "/" + name
        st = stat_or_none(path)
        if st is None or not is_file(st):
            raise HTTPError(404, "no upload named %s" % name)
        os.remove(path)
        log.info('%s: deleted "%s"', self.address_string(), name)
        self.send_response(204)
        self.end_headers()


def _storage_error(exc):
    """What to raise for an OSError while storing an upload: a full disk or a file over
    the process's size limit is answered 507 Insufficient Storage; others go on."""
    if exc.errno in compat.STORAGE_FULL_ERRNOS:
        return HTTPError(507, "no space left for the upload")
    return exc


class _MultipartUpload:
    """The files of one multipart body: each to its own temporary file until commit."""

    def __init__(self, handler, folder):
        self.handler = handler
        self.folder = folder
        self.done = []  # (temporary path, name, size) of complete parts
        self.file = None

    def begin(self, part):
        # A form field, or a file input left empty (filename=""), is not stored.
        if part.filename:
            self.name = paths.upload_name(part.filename)
            self.temp = self.handler._new_temp(self.folder)
            self.file = open(self.temp, "wb")
            self.size = 0

    def data(self, piece):
        if self.file is not None:
            self.file.write(piece)
            self.size += len(piece)

    def end(self, _):
        if self.file is not None:
            self.file.close()
            self.file = None
            self.done.append((self.temp, self.name, self.size))

    def commit(self):
        if not self.done:
            raise HTTPError(400, "the form holds no file")
        stored = []
        for temp, name, size in self.done:
            compat.replace_file(temp, self.folder + "/" + name)
            log.info('%s: stored "%s" (%d bytes)', self.handler.address_string(), name, size)
            stored.append({"name": name, "size": size})
        self.done = []
        return stored

    def abort(self):
        """Remove whatever was not committed (a no-op after commit)."""
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass  # its last write failed as the one before it (a full disk)
            remove_quietly(self.temp)
            self.file = None
        for temp, _name, _size in self.done:
            remove_quietly(temp)
        self.done = []


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _listing_page(entries):
    rows = "".join('<li><a href="%s">%s</a> (%d bytes)</li>' % (
        paths.quote(e["name"]), _escape(e["name"]), e["size"]) for e in entries)
    return ("<!DOCTYPE html><meta charset=utf-8><title>Uploads</title>"
            "<h1>Uploads</h1><ul>%s</ul>" % rows)
