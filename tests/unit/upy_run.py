"""Run the pure unit tests under MicroPython, where pytest does not exist.

    micropython -X heapsize=256K tests/unit/upy_run.py

Imports every tests/unit/test_*.py module, calls each test_* function and prints one
line per failure and a closing "N passed, N failed" line; the exit status is 1 when
any test failed. The same files run under pytest on CPython, which alone also runs
the property-based test_fuzz_*.py modules: hypothesis does not exist on MicroPython.
"""
import gc
import os
import sys

HERE = __file__.rpartition("/")[0] or "."
sys.path.insert(0, HERE)
sys.path.insert(0, HERE + "/../..")


def run_module(name):
    module = __import__(name)
    passed = failed = 0
    for attr in sorted(dir(module)):
        if not attr.startswith("test_"):
            continue
        gc.collect()  # free what earlier tests left, so big blocks still fit
        try:
            getattr(module, attr)()
            passed += 1
        except Exception as exc:
            failed += 1
            print("FAILED %s.%s: %r" % (name, attr, exc))
            sys.print_exception(exc)
    return passed, failed


def main():
    passed = failed = 0
    for filename in sorted(os.listdir(HERE)):
        if (filename.startswith("test_") and filename.endswith(".py")
                and not filename.startswith("test_fuzz_")):
            p, f = run_module(filename[:-3])
            print("%s: %d passed, %d failed" % (filename, p, f))
            passed += p
            failed += f
    print("micropython: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


main()
