"""`python -m wsserver` as users start it, and what every form of the command prints at
start: the URLs of the machine's addresses, and a warning when uploads are open to the
network without --auth.

The start-up tests bind every interface (or one of this machine's addresses) but send
nothing anywhere: they read what the server prints until its start-up log line, then
stop it. The addresses it lists are checked against those `ip -o addr` shows.
"""
import os
import shutil
import signal
import socket
import subprocess

import pytest
import requests

from runprocess import PYTHON_M_WSSERVER, ROOT, TIMEOUT, start_server, stop

WARNING = ("Warning: anyone on the network can upload and delete files; "
           "use --auth USER:PASSWORD")


def test_python_m_wsserver_serves_the_page_and_uploads_into_the_current_folder(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)  # the checkout's package, nothing installed
    process, port = start_server(PYTHON_M_WSSERVER, "0", "-b", "127.0.0.1", cwd=tmp_path,
                                 env=env)
    url = "http://127.0.0.1:%d" % port
    with open(os.path.join(ROOT, "static", "index.html"), "rb") as page:
        assert requests.get(url + "/", timeout=TIMEOUT).content == page.read()
    assert requests.put(url + "/uploads/a", data=b"abc", timeout=TIMEOUT).status_code == 201
    assert stop(process, signal.SIGTERM) == 0
    assert (tmp_path / "uploads" / "a").read_bytes() == b"abc"


def startup_output(tmp_path, bind, *options):
    """The lines `python -m wsserver 0 -b BIND` prints on stdout before it serves."""
    process = subprocess.Popen(
        PYTHON_M_WSSERVER + ["0", "-b", bind, "--uploads", str(tmp_path / "up")] + list(options),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:  # "... static files from ...": the banner is out
            if "static files from" in line:
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == "Stopping"
    return lines[:-1]


def served_urls(lines):
    """The addresses of the `Serving on http://ADDRESS:PORT/` lines, brackets removed."""
    return [line.split("//")[1].rsplit(":", 1)[0].strip("[]")
            for line in lines if line.startswith("Serving on ")]


def machine_addresses(family):
    """What `ip -o addr` shows of a family ("inet", "inet6"): the loopback addresses
    first; without IPv6 link-local ones, which a URL cannot name."""
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2's `ip` to find the machine's addresses another way")
    shown = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True,
                           check=True).stdout
    found = [fields[3].split("/")[0] for fields in map(str.split, shown.splitlines())
             if fields[2] == family and not fields[3].startswith("fe80:")]
    loopback = [a for a in found if a.startswith("127.") or a == "::1"]
    return loopback + [a for a in found if a not in loopback]


def ipv6_works():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not ipv6_works(), reason="no IPv6 on this machine")


@pytest.mark.parametrize("bind", ["127.0.0.1", pytest.param("::1", marks=needs_ipv6)])
def test_a_loopback_bind_lists_only_itself_and_warns_of_nothing(tmp_path, bind):
    assert served_urls(startup_output(tmp_path, bind)) == [bind]


def test_all_interfaces_list_every_ipv4_address_and_warn_without_auth(tmp_path):
    lines = startup_output(tmp_path, "0.0.0.0")
    assert served_urls(lines)[0] == "127.0.0.1"
    assert served_urls(lines) == machine_addresses("inet")
    assert lines[-1] == WARNING


@needs_ipv6
def test_ipv6_all_interfaces_list_the_ipv6_addresses_too(tmp_path):
    with open("/proc/sys/net/ipv6/bindv6only") as setting:
        dual_stack = setting.read().strip() == "0"
    expected = (machine_addresses("inet") if dual_stack else []) + machine_addresses("inet6")
    lines = startup_output(tmp_path, "::")
    assert served_urls(lines) == expected
    assert "::1" in expected
    assert lines[-1] == WARNING


def test_a_non_loopback_address_lists_itself_and_warns(tmp_path):
    others = [a for a in machine_addresses("inet") if not a.startswith("127.")]
    if not others:
        pytest.skip("this machine has no IPv4 address but loopback")
    lines = startup_output(tmp_path, others[0])
    assert served_urls(lines) == [others[0]]
    assert lines[-1] == WARNING


def test_auth_silences_the_warning(tmp_path):
    lines = startup_output(tmp_path, "0.0.0.0", "--auth", "me:pw")
    assert served_urls(lines)[0] == "127.0.0.1"
    assert WARNING not in lines
    assert len(served_urls(lines)) == len(lines)
