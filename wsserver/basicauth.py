"""HTTP Basic authentication (RFC 7617): the server's one user, and what a client sent.

Pure: text in, bytes or None out. Credentials are compared as the bytes of
"user:password" in UTF-8 (§2.1, with charset="UTF-8" in the challenge), in constant
time by the caller (compat.same_secret), so that nothing here branches on a secret.
"""
import binascii

REALM = "wsserver"
#: The challenge of every 401 (§2; §2.1: the server expects UTF-8).
CHALLENGE = ("WWW-Authenticate", 'Basic realm="%s", charset="UTF-8"' % REALM)


def expected_credentials(user_password):
    """The bytes of the --auth option, USER:PASSWORD. It is split at the first colon, as
    RFC 7617 §2 splits what a client sends (a user name cannot hold a colon; a password
    can). ValueError when there is no colon or no user name."""
    user, colon, _ = user_password.partition(":")
    if not colon or not user:
        raise ValueError("credentials must be USER:PASSWORD, with a user name and a colon")
    return user_password.encode()


def received_credentials(authorization):
    """The "user:password" bytes of an Authorization header, or None when it is missing
    or is not Basic with base64 holding a colon (a malformed header is just wrong
    credentials, never an error of the request)."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":  # §2: the scheme name is case-insensitive
        return None
    encoded = encoded.strip()
    try:
        decoded = binascii.a2b_base64(encoded)
    except ValueError:  # binascii.Error is one; MicroPython raises ValueError itself
        return None
    # Decoders skip what is not base64 (both interpreters'): only the one canonical
    # spelling, the one clients send, is taken.
    if binascii.b2a_base64(decoded)[:-1] != encoded.encode() or b":" not in decoded:
        return None
    return decoded


def xor_equal(received, expected):
    """received == expected, in a time that depends on len(expected) only: every byte
    is compared, whatever the first difference (the fallback where `hmac` is missing)."""
    difference = len(received) ^ len(expected)
    for i in range(len(expected)):
        difference |= expected[i] ^ (received[i] if i < len(received) else 0)
    return difference == 0
