"""`pip install .` into a fresh virtual environment gives a `wsserver` command that
serves the page shipped in the package and takes uploads into the current folder.

pip builds in the source folder (build/, wsserver.egg-info), so it builds a copy of the
checkout under tmp_path. The build backend (setuptools) comes from PyPI, or pip's cache,
as for any user.
"""
import os
import shutil
import signal
import subprocess
import sys

import requests

from runprocess import ROOT, TIMEOUT, start_server, stop

LEFT_BEHIND = shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__",
                                     ".pytest_cache", "test-artifacts", "uploads")


def install(tmp_path):
    """The bin/ folder of a new venv into which the checkout is pip-installed."""
    source, venv = tmp_path / "source", tmp_path / "venv"
    shutil.copytree(ROOT, source, ignore=LEFT_BEHIND)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", str(source)], check=True, timeout=120)
    return venv / "bin"


def test_pip_install_gives_a_wsserver_command_that_serves_the_page(tmp_path):
    bin_folder = install(tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed package
    process, port = start_server([bin_folder / "wsserver"], "0", "-b", "127.0.0.1",
                                 cwd=here, env=env)
    url = "http://127.0.0.1:%d" % port
    try:
        with open(os.path.join(ROOT, "static", "index.html"), "rb") as page:
            assert requests.get(url + "/", timeout=TIMEOUT).content == page.read()
        assert requests.get(url + "/app.js", timeout=TIMEOUT).status_code == 200
        put = requests.put(url + "/uploads/a.txt", data=b"abc", timeout=TIMEOUT)
        assert put.status_code == 201
    finally:
        assert stop(process, signal.SIGTERM) == 0
    assert (here / "uploads" / "a.txt").read_bytes() == b"abc"
