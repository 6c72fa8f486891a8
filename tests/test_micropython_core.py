"""The pure core under the real MicroPython unix port: the same unit tests, run there."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def micropython():
    """The `micropython` command that requirements.txt installs next to this Python."""
    beside = os.path.join(os.path.dirname(sys.executable), "micropython")
    found = beside if os.path.exists(beside) else shutil.which("micropython")
    assert found, "micropython not found: pip install -r requirements.txt"
    return found


def test_pure_unit_tests_pass_under_micropython():
    result = subprocess.run(
        [micropython(), "-X", "heapsize=512K", os.path.join(HERE, "unit", "upy_run.py")],
        capture_output=True, text=True, timeout=300)
    print(result.stdout, result.stderr)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, summary
    assert summary.startswith("micropython: ") and summary.endswith(" passed, 0 failed")


# loghandler.py subclasses logging.Handler: it is imported only where `logging` exists,
# which MicroPython does not have unless micropython-lib's is installed. The command
# line (__main__, cli, ifaddrs: argparse, ipaddress, netlink) runs on a PC only, and
# deploy.py leaves it off a board.
NOT_ON_MICROPYTHON = ("loghandler", "__main__", "cli", "ifaddrs")


def test_every_module_imports_under_micropython():
    package = os.path.join(HERE, os.pardir, "wsserver")
    names = sorted(name[:-3] for name in os.listdir(package)
                   if name.endswith(".py") and name != "__init__.py"
                   and name[:-3] not in NOT_ON_MICROPYTHON)
    script = ("import sys\nsys.path.insert(0, %r)\nimport wsserver\n"
              "for name in %r:\n"
              "    try:\n"
              "        __import__('wsserver.' + name)\n"
              "    except Exception as exc:\n"
              "        print('FAILED', name, repr(exc))\n"
              "        sys.print_exception(exc)\n"
              "print('done')\n" % (os.path.dirname(package), names))
    result = subprocess.run([micropython(), "-X", "heapsize=1M", "-c", script],
                            capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "FAILED" not in output, output
    assert output.strip().endswith("done"), output
