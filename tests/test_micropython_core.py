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
