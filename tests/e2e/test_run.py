"""run.py, python -m wsserver and wsserver.serve() as users start them: a real process,
stopped by a signal.

SIGTERM and Ctrl-C (SIGINT) must stop the server cleanly: exit status 0, and an upload
cut short by the stop leaves neither a file nor a temporary file behind.
"""
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests

from runprocess import (PYTHON_M_WSSERVER, ROOT, RUN_PY, TIMEOUT, start_partial_upload,
                        start_run_py, stop, wait_for)


@pytest.mark.parametrize("command", [RUN_PY, PYTHON_M_WSSERVER],
                         ids=["run.py", "python -m wsserver"])
def test_the_command_serves_with_its_options_and_stops_on_sigterm(tmp_path, command):
    process, port, uploads = start_run_py(tmp_path, "--max-upload", "10", command=command)
    url = "http://127.0.0.1:%d" % port
    assert requests.get(url + "/", timeout=TIMEOUT).text == "<h1>hello</h1>"
    assert requests.put(url + "/uploads/a.txt", data=b"0123456789", timeout=TIMEOUT).status_code == 201
    assert requests.put(url + "/uploads/b.txt", data=b"0123456789X", timeout=TIMEOUT).status_code == 413
    assert stop(process, signal.SIGTERM) == 0
    assert sorted(p.name for p in uploads.iterdir()) == ["a.txt"]


def test_stop_mid_upload_removes_the_partial_file(tmp_path):
    for signum in (signal.SIGTERM, signal.SIGINT):
        process, port, uploads = start_run_py(tmp_path / str(signum))
        sock = start_partial_upload(port, uploads)
        try:
            assert stop(process, signum) == 0
        finally:
            sock.close()
        assert list(uploads.iterdir()) == []


def test_serve_takes_the_same_options_as_keywords(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hi.txt").write_bytes(b"hi")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = ("from wsserver import serve; serve(port=%d, bind='127.0.0.1', directory=%r, "
            "uploads=%r, max_upload=5)" % (port, str(tmp_path / "www"), str(tmp_path / "up")))
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:%d" % port

    def answers():
        try:
            return requests.get(url + "/hi.txt", timeout=TIMEOUT).text == "hi"
        except requests.ConnectionError:
            return False

    assert wait_for(answers)
    assert requests.put(url + "/uploads/x", data=b"123456", timeout=TIMEOUT).status_code == 413
    process.send_signal(signal.SIGINT)
    assert process.wait(TIMEOUT) == 0  # Ctrl-C is the way to stop serve(): no traceback
    assert "Traceback" not in process.stderr.read()
    assert sorted(os.listdir(tmp_path / "up")) == []
    process.stdout.close()
    process.stderr.close()


def test_run_py_auth_protects_the_page(tmp_path):
    process, port, uploads = start_run_py(tmp_path, "--auth", "me:se:cret")
    url = "http://127.0.0.1:%d/" % port
    refused = requests.get(url, timeout=TIMEOUT)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="wsserver", charset="UTF-8"'
    assert requests.get(url, auth=("me", "se:cret"), timeout=TIMEOUT).text == "<h1>hello</h1>"
    assert stop(process, signal.SIGTERM) == 0


def test_run_py_refuses_auth_without_a_colon():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), "--auth", "secret"],
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 2
    assert "argument --auth: credentials must be USER:PASSWORD" in result.stderr
