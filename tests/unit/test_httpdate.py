"""httpdate: the three date forms of RFC 9110 §5.6.7, from its own examples."""
from wsserver.httpdate import format_date, parse_date

RFC_EXAMPLE = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT


def test_format_rfc_example():
    assert format_date(RFC_EXAMPLE) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert format_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT"
    assert format_date(4107628799) == "Mon, 01 Mar 2100 23:59:59 GMT"  # 2100 is no leap year


def test_parse_the_three_forms():
    assert parse_date("Sun, 06 Nov 1994 08:49:37 GMT") == RFC_EXAMPLE
    assert parse_date("Sunday, 06-Nov-94 08:49:37 GMT") == RFC_EXAMPLE
    assert parse_date("Sun Nov  6 08:49:37 1994") == RFC_EXAMPLE


def test_round_trip_over_a_century():
    for seconds in range(0, 4102444800, 86400 * 397 + 3671):
        assert parse_date(format_date(seconds)) == seconds


def test_invalid_dates_are_none():
    for text in ("", "yesterday", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, 32 Nov 1994 08:49:37 GMT",
                 "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                 "Sun, 06 Nov 1994 08:49 GMT", "Sun, xx Nov 1994 08:49:37 GMT"):
        assert parse_date(text) is None, text
