"""wsserver.files.parse_range: one byte range of RFC 9110 §14.1.2, or None to send the
whole file; 416 for a well-formed range that starts past the end."""
from checks import status_of
from wsserver.files import parse_range


def test_ranges_served():
    assert parse_range("bytes=0-4", 10) == (0, 5)
    assert parse_range("bytes=5-", 10) == (5, 10)
    assert parse_range("bytes=-3", 10) == (7, 10)
    assert parse_range("bytes=-30", 10) == (0, 10)
    assert parse_range("bytes=2-100", 10) == (2, 10)
    assert parse_range("BYTES = 1-1", 10) == (1, 2)


def test_ranges_ignored():
    for header in ("bytes=5-2", "items=0-5", "bytes=abc", "bytes=-", "bytes=0-1,3-4",
                   "bytes=1", "bytes=+1-2", "bytes=1--2",
                   # digits to str.isdigit() on CPython, not to int() nor to RFC 9110
                   "bytes=\u00b2-", "bytes=-\u00b2", "bytes=0-\u00b2", "bytes=\u0661-"):
        assert parse_range(header, 100) is None, header


def test_ranges_past_the_end_are_416():
    assert status_of(parse_range, "bytes=10-", 10) == 416
    assert status_of(parse_range, "bytes=-0", 10) == 416
