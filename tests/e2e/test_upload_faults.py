"""Upload faults lose nothing: a full disk, the server killed mid-upload, and several
clients uploading to one name at once.

A full disk is the server process under a small RLIMIT_FSIZE: a write past it fails
with EFBIG (CPython ignores SIGXFSZ), as a write to a full card fails with ENOSPC.
"""
import hashlib
import os
import resource
import signal
import threading

import pytest
import requests

from runprocess import TIMEOUT, start_partial_upload, start_run_py, stop

FILE_SIZE_LIMIT = 1024 * 1024


def limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def chunks(*pieces):
    """A body requests sends chunked, so the server cannot tell its size beforehand."""
    for piece in pieces:
        yield piece


@pytest.fixture
def full_disk(tmp_path):
    """run.py that can write no file over FILE_SIZE_LIMIT; its base URL and uploads."""
    process, port, uploads = start_run_py(tmp_path, preexec_fn=limit_file_size)
    yield "http://127.0.0.1:%d/uploads/" % port, uploads
    assert stop(process, signal.SIGTERM) == 0


# The last case ends in a write the file's buffer keeps until it closes.
@pytest.mark.parametrize("body", [
    os.urandom(3 * FILE_SIZE_LIMIT),
    os.urandom(FILE_SIZE_LIMIT + 1),
    chunks(os.urandom(FILE_SIZE_LIMIT), b"tail"),
], ids=["3x", "limit+1", "chunked, last bytes buffered"])
def test_full_disk_put_is_507_and_keeps_the_old_file(full_disk, body):
    url, uploads = full_disk
    (uploads / "keep.bin").write_bytes(b"old")
    r = requests.put(url + "keep.bin", data=body, timeout=TIMEOUT)
    assert r.status_code == 507
    assert "no space left" in r.text
    assert sorted(os.listdir(uploads)) == ["keep.bin"]
    assert (uploads / "keep.bin").read_bytes() == b"old"


def test_full_disk_multipart_is_507_and_stores_none_of_the_files(full_disk):
    url, uploads = full_disk
    files = [("a", ("small.bin", b"fits")), ("b", ("big.bin", os.urandom(2 * FILE_SIZE_LIMIT)))]
    r = requests.post(url, files=files, timeout=TIMEOUT)
    assert r.status_code == 507
    assert os.listdir(uploads) == []


def test_full_disk_server_goes_on_serving(full_disk):
    url, uploads = full_disk
    assert requests.put(url + "big.bin", data=os.urandom(2 * FILE_SIZE_LIMIT),
                        timeout=TIMEOUT).status_code == 507
    data = os.urandom(FILE_SIZE_LIMIT)  # exactly the limit fits
    assert requests.put(url + "fits.bin", data=data, timeout=TIMEOUT).status_code == 201
    assert requests.get(url + "fits.bin", timeout=TIMEOUT).content == data


def test_sigkill_mid_upload_keeps_the_target_and_next_start_removes_the_temp_file(tmp_path):
    process, port, uploads = start_run_py(tmp_path)
    (uploads / "keep.bin").write_bytes(b"old content")
    sock = start_partial_upload(port, uploads, "keep.bin")
    try:
        process.kill()  # SIGKILL: no handler, no cleanup
        process.wait(TIMEOUT)
    finally:
        sock.close()
        process.stdout.close()
        process.stderr.close()
    left = sorted(os.listdir(uploads))
    assert len(left) == 2 and left[1] == "keep.bin" and left[0].endswith(".part"), left
    assert (uploads / "keep.bin").read_bytes() == b"old content"

    process, port, uploads = start_run_py(tmp_path)
    assert os.listdir(uploads) == ["keep.bin"]
    assert (uploads / "keep.bin").read_bytes() == b"old content"
    assert stop(process, signal.SIGTERM) == 0


UPLOADERS = 6


def test_concurrent_uploads_to_one_name_store_exactly_one_of_them(server):
    # 512 KiB each: more than one server read, so the uploads overlap on the wire.
    bodies = [os.urandom(512 * 1024) for _ in range(UPLOADERS)]
    start = threading.Barrier(UPLOADERS)
    statuses = []

    def upload(body):
        start.wait(TIMEOUT)
        r = requests.put(server.url + "/uploads/same.bin", data=body, timeout=3 * TIMEOUT)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=upload, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(4 * TIMEOUT)
    assert len(statuses) == UPLOADERS and set(statuses) <= {201, 204}, statuses
    assert server.wait_stored(["same.bin"]) == ["same.bin"]
    stored = hashlib.sha256((server.uploads / "same.bin").read_bytes()).digest()
    assert stored in [hashlib.sha256(body).digest() for body in bodies]
