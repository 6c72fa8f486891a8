"""HTTP dates (RFC 9110 §5.6.7) to and from Unix seconds, by plain calendar arithmetic.

No `time.gmtime`: the boards' clocks count from 2000 on some ports, and this module
must give the same answer on every interpreter.
"""

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days):
    """(year, month, day) of a count of days since 1970-01-01."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def format_date(seconds):
    """IMF-fixdate such as 'Sun, 06 Nov 1994 08:49:37 GMT' for Unix seconds."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[(days + 3) % 7], day, _MONTHS[month - 1], year,
        rest // 3600, rest // 60 % 60, rest % 60)


def parse_date(text):
    """Unix seconds of an IMF-fixdate, or None for anything else.

    RFC 9110 §13.1.3: a recipient MUST ignore an If-Modified-Since that is not a valid
    date, so a bad date is not an error. The obsolete RFC 850 and asctime forms are
    accepted too, since §5.6.7 says recipients MUST accept them.
    """
    parts = text.replace(",", " ").replace("-", " ").split()
    if len(parts) == 5 and ":" in parts[3]:  # asctime: Sun Nov  6 08:49:37 1994
        parts = [parts[0], parts[2], parts[1], parts[4], parts[3]]
    elif len(parts) != 6 or parts[5] != "GMT":
        return None
    try:
        day, year = int(parts[1]), int(parts[3])
        month = _MONTHS.index(parts[2]) + 1
        hour, minute, second = [int(x) for x in parts[4].split(":")]
    except ValueError:
        return None
    if year < 100:  # RFC 850 two-digit years: §5.6.7 says within 50 years of now
        year += 1900 if year >= 70 else 2000
    if not (1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
