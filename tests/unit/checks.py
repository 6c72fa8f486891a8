"""Assertion helpers for the pure unit tests.

The tests in tests/unit/ run under pytest and, unchanged, under the MicroPython unix
port (tests/unit/upy_run.py), so they use plain asserts and these helpers, never pytest.
"""


def raises(exc_type, func, *args, **kwargs):
    """Call func and return the exc_type it raises; fail if it raises nothing."""
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        return exc
    raise AssertionError("%s did not raise %s" % (func, exc_type.__name__))


def status_of(func, *args, **kwargs):
    """The HTTP status carried by the HTTPError that func raises."""
    from wsserver.http11 import HTTPError

    return raises(HTTPError, func, *args, **kwargs).status
