"""wsserver.paths: request targets, percent-decoding, relative paths, upload names."""
from checks import status_of
from wsserver.paths import (guess_type, is_utf8, parse_query, query_value, quote,
                            shows_inline, split_target, unquote, upload_name,
                            url_to_relative)


def test_split_target_origin_form():
    assert split_target("/") == ("/", "")
    assert split_target("/a/b?x=1") == ("/a/b", "x=1")
    assert split_target("/a/b?") == ("/a/b", "")
    assert split_target("/a?x=1?y=2") == ("/a", "x=1?y=2")
    assert split_target("//etc/passwd") == ("//etc/passwd", "")


def test_split_target_absolute_form():
    assert split_target("http://host:8000/a?b") == ("/a", "b")
    assert split_target("HTTP://127.0.0.1/../x") == ("/../x", "")
    assert split_target("https://host") == ("/", "")
    assert split_target("http://host?q=1") == ("/", "q=1")


def test_split_target_refused():
    for target in ("*", "a/b", "", "host:80", "ftp://host/a", "http:/a", "http:///a",
                   "http://user@host/a", "/a#frag", "/a?b#c", "/a b", "/a\tb",
                   "/a\x00", "/a\x7f", "/caf\xe9"):
        assert status_of(split_target, target) == 400, target


def test_unquote():
    assert unquote("plain") == "plain"
    assert unquote("a%20b") == "a b"
    assert unquote("%2e%2E") == ".."
    assert unquote("%252e") == "%2e"  # decoded once only
    assert unquote("caf%C3%A9") == "caf\xe9"
    assert unquote("%F0%9F%98%80") == "\U0001f600"
    assert unquote("%EF%BF%BF%F4%8F%BF%BF") == "\uffff\U0010ffff"
    assert unquote("a+b") == "a+b"


def test_unquote_bad_escapes():
    for text in ("%", "%4", "a%zz", "%g0", "%0g", "% 1", "%+1", "%-1", "%_1", "%\xe91"):
        assert status_of(unquote, text) == 400, text


def test_unquote_invalid_utf8():
    for text in ("%C0%AE", "%C1%BF", "%E0%80%AE", "%F0%80%80%AE",  # overlong
                 "%ED%A0%80", "%ED%BF%BF",  # surrogates
                 "%F4%90%80%80", "%F5%80%80%80", "%FF", "%FE",  # above U+10FFFF
                 "%80", "%BF", "%C3", "%E2%82", "%F0%9F%98", "%C3a",  # truncated
                 "%E2%28%A1", "%C3%C3"):
        assert status_of(unquote, text) == 400, text


def test_is_utf8():
    assert is_utf8(b"")
    assert is_utf8(b"ascii")
    assert is_utf8(b"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80")
    assert not is_utf8(b"\xc0\xae")
    assert not is_utf8(b"\xed\xa0\x80")
    assert not is_utf8(b"abc\xe2\x82")


def test_parse_query():
    assert parse_query("") == []
    assert parse_query("a=1&b=x+y&c") == [("a", "1"), ("b", "x y"), ("c", "")]
    assert parse_query("a=1&&a=2") == [("a", "1"), ("a", "2")]
    assert parse_query("n%20m=%2B%26=") == [("n m", "+&=")]
    assert status_of(parse_query, "a=%zz") == 400


def test_query_value():
    assert query_value("name=a.txt&x=1", "name") == "a.txt"
    assert query_value("name=a&name=b", "name") == "a"
    assert query_value("x=1", "name") is None
    assert query_value("x=1", "name", "dflt") == "dflt"
    assert query_value("name=", "name") == ""


def test_url_to_relative():
    table = (
        ("/", ""), ("//", ""), ("/a", "a"), ("/a/b/c.txt", "a/b/c.txt"),
        ("/a/b%20c/", "a/b c"), ("//etc/passwd", "etc/passwd"), ("/a//b", "a/b"),
        ("/%252e%252e/x", "%2e%2e/x"), ("/a%2Fb", "a/b"), ("/caf%C3%A9", "caf\xe9"),
        ("/.well-known/x", ".well-known/x"), ("/a..b/..c", "a..b/..c"),
    )
    for url_path, relative in table:
        assert url_to_relative(url_path) == relative, url_path


def test_url_to_relative_refused():
    for url_path in ("", "a/b", "/..", "/../x", "/a/../../x", "/./x", "/a/.", "/%2e%2e/x",
                     "/%2E%2E%2Fx", "/..%2fx", "/a%2f..%2f..%2fx", "/..\\x", "/%5c..%5cx",
                     "/%00", "/a%00.html", "/a%0a", "/a%7f", "/a%c2%85",
                     "/%c0%ae%c0%ae/x", "/%e0%80%ae", "/C:/Windows/win.ini", "/c:%5cwindows",
                     "/a/C:", "/x.txt::$DATA", "/...", "/.. ", "/secret.txt.", "/a /b",
                     "/" + "." * 300, "/con", "/NUL.txt", "/a/com1.log", "/%zz", "/%"):
        assert status_of(url_to_relative, url_path) == 400, url_path


def test_url_to_relative_never_escapes():
    # Whatever gets through is a plain relative path without dot segments.
    for url_path in ("/a/b", "//x//y//", "/%2e%2e.txt", "/.x/..y/...z/x.y"):
        relative = url_to_relative(url_path)
        assert not relative.startswith("/")
        for segment in relative.split("/"):
            assert segment not in (".", ".."), url_path


def test_upload_name_accepted():
    for name in ("a.txt", "a b.txt", "caf\xe9.txt", "x" * 255, "\xe9" * 127,
                 "no-extension", "a..b", "%2e%2e", "console.txt", "a.b.c"):
        assert upload_name(name) is name, name


def test_upload_name_refused():
    for name in ("", ".", "..", ".hidden", ".x.part", "../x", "a/b", "/etc/x", "..\\x",
                 "C:\\x", "C:", "a:b", "x::$DATA", "a\x00b", "a\nb", "a\tb", "a\x7f",
                 "a\x85", "x" * 256, "\xe9" * 128, "a.", "a ", "...", "CON", "nul.txt",
                 "Com1", "lpt9.log", "aux .txt"):
        assert status_of(upload_name, name) == 400, name


def test_quote():
    assert quote("abcXYZ019-._~") == "abcXYZ019-._~"
    assert quote("a b/c?d#e%f&g+h") == "a%20b%2Fc%3Fd%23e%25f%26g%2Bh"
    assert quote("caf\xe9") == "caf%C3%A9"
    assert quote("") == ""
    for text in ("a b", "caf\xe9 \U0001f600", "100%", "x/y?z"):
        assert unquote(quote(text)) == text


def test_guess_type():
    table = (
        ("index.html", "text/html; charset=utf-8"), ("a/B.HTM", "text/html; charset=utf-8"),
        ("s.css", "text/css; charset=utf-8"), ("m.mjs", "text/javascript; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"), ("d.json", "application/json"),
        ("r.txt", "text/plain; charset=utf-8"), ("x.LOG", "text/plain; charset=utf-8"),
        ("t.csv", "text/csv; charset=utf-8"), ("a.svg", "image/svg+xml"),
        ("p.PNG", "image/png"), ("p.jpg", "image/jpeg"), ("p.jpeg", "image/jpeg"),
        ("m.wasm", "application/wasm"), ("f.tar.gz", "application/gzip"),
        ("f.woff2", "font/woff2"), ("main.py", "text/x-python; charset=utf-8"),
        ("main.mpy", "application/octet-stream"), ("unknown.xyz", "application/octet-stream"),
        ("README", "application/octet-stream"), ("js", "application/octet-stream"),
        ("dir.html/file", "application/octet-stream"), (".css", "text/css; charset=utf-8"),
        ("trailing.", "application/octet-stream"),
    )
    for path, kind in table:
        assert guess_type(path) == kind, path


def test_shows_inline_only_types_that_run_nothing():
    for path in ("a.txt", "a.csv", "a.md", "a.py", "a.css", "a.js", "a.png", "a.jpg",
                 "a.gif", "a.webp", "a.mp3", "a.mp4", "a.webm", "a.json"):
        assert shows_inline(guess_type(path)), path
    for path in ("a.html", "a.HTM", "a.svg", "a.xml", "a.pdf", "a.wasm", "a.bin", "a.zip",
                 "README", "a.woff2"):
        assert not shows_inline(guess_type(path)), path
