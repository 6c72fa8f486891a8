"""The README's recipes work as written: each line of its curl block and its WebSocket
one-liner is run by a shell against run.py, and its embedding snippet by Python, with
only the address changed (port 8000 becomes this test's loopback port), and what each
promises is checked."""
import json
import os
import re
import signal
import subprocess
import sys

from runprocess import ROOT, TIMEOUT, start_run_py, stop

README = os.path.join(ROOT, "README.md")


def code_block_after(heading):
    """The lines of the first ``` block after a README heading."""
    text = open(README, encoding="utf-8").read()
    section = text[text.index(heading):]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def run(line, port, folder):
    """One recipe line through the shell, in folder; its standard output."""
    command = line.replace("localhost:8000", "127.0.0.1:%d" % port)
    done = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


def test_the_curl_recipes(tmp_path):
    lines = code_block_after("## Uploading and downloading with curl")
    assert [line.split()[0] for line in lines] == ["curl"] * 6, lines
    work = tmp_path / "work"
    work.mkdir()
    files = {"photo.jpg": os.urandom(300000), "a.txt": b"alpha\n", "b.bin": os.urandom(5000),
             "log.txt": b"line 1\nline 2\n"}
    for name, data in files.items():
        (work / name).write_bytes(data)
    process, port, uploads = start_run_py(tmp_path / "server")
    try:
        run(lines[0], port, work)  # curl -T
        assert (uploads / "photo.jpg").read_bytes() == files["photo.jpg"]
        run(lines[1], port, work)  # curl -F, two files
        assert (uploads / "a.txt").read_bytes() == files["a.txt"]
        assert (uploads / "b.bin").read_bytes() == files["b.bin"]
        run(lines[2], port, work)  # curl --data-binary with X-Filename
        assert (uploads / "log.txt").read_bytes() == files["log.txt"]
        listing = json.loads(run(lines[3], port, work))  # the listing as JSON
        assert sorted(entry["name"] for entry in listing) == sorted(files)
        (work / "photo.jpg").unlink()
        run(lines[4], port, work)  # curl -O
        assert (work / "photo.jpg").read_bytes() == files["photo.jpg"]
        run(lines[5], port, work)  # curl -X DELETE
        assert not (uploads / "photo.jpg").exists()
    finally:
        assert stop(process, signal.SIGTERM) == 0


def test_the_websocket_one_liner(tmp_path):
    (line,) = code_block_after("## WebSocket")
    process, port, _ = start_run_py(tmp_path)
    try:
        assert run(line, port, tmp_path) == "hi\n"
    finally:
        assert stop(process, signal.SIGTERM) == 0


def test_the_embedding_snippet(tmp_path):
    block = "\n".join(code_block_after("## In your own program"))
    done = subprocess.run([sys.executable, "-c", block.replace("port=8000", "port=0")],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert "INFO:sensor:temperature 21.5 C" in done.stderr
    assert (tmp_path / "uploads").is_dir()
