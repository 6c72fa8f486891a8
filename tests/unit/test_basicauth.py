"""basicauth: RFC 7617 credentials, expected and received, and the constant-time compare
(the Python fallback itself, and compat's choice: hmac on CPython, the fallback on
MicroPython)."""
import binascii

from checks import raises
from wsserver import basicauth, compat


def basic(raw):
    return "Basic " + binascii.b2a_base64(raw)[:-1].decode()


def test_expected_credentials_split_at_the_first_colon():
    assert basicauth.expected_credentials("me:secret") == b"me:secret"
    assert basicauth.expected_credentials("me:se:cr:et") == b"me:se:cr:et"
    assert basicauth.expected_credentials("me:") == b"me:"  # an empty password is allowed
    assert basicauth.expected_credentials("jürgen:pässword") == "jürgen:pässword".encode()
    for bad in ("nocolon", "", ":password"):
        raises(ValueError, basicauth.expected_credentials, bad)


def test_received_credentials():
    # RFC 7617 §2's example: Aladdin / open sesame.
    assert (basicauth.received_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
            == b"Aladdin:open sesame")
    assert basicauth.received_credentials("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") is not None
    assert basicauth.received_credentials(basic("jürgen:pässword".encode())) == (
        "jürgen:pässword".encode())  # §2.1: UTF-8
    assert basicauth.received_credentials(basic(b"me:")) == b"me:"


def test_malformed_authorization_is_no_credentials():
    for value in (None, "", "Basic", "Basic ", "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                  "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=", "Basic ===", "Basic " + "A" * 5,
                  basic(b"no colon"), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                  "Basic %QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic QWxhZGRp bjpvcGVuIHNlc2FtZQ==",
                  "Basic QWxhZGRpbjpvcGVuIHNlc2FtZR=="):  # junk, a space, non-canonical
        assert basicauth.received_credentials(value) is None, value


def test_xor_equal():
    check_secret_equality(basicauth.xor_equal)


def test_compat_same_secret():
    check_secret_equality(compat.same_secret)


def check_secret_equality(equal):
    assert equal(b"me:secret", b"me:secret")
    assert equal(b"", b"")
    for other in (b"me:secreT", b"Me:secret", b"me:secre", b"me:secrett", b"", b"x" * 100,
                  b"me:secret\x00"):
        assert not equal(other, b"me:secret"), other
        assert not equal(b"me:secret", other), other
    assert not equal(b"\x00", b"")
