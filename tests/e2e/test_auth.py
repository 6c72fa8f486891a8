"""--auth: HTTP Basic (RFC 7617) on every route, the WebSocket token of /ws/token, and the
Origin check against cross-site WebSocket hijacking (RFC 6455 §10.2).

A refusal is decided from the head alone: 401 with the challenge, nothing written,
nothing deleted; a body that stays unread closes the connection.
"""
import base64
import json
import logging

import pytest
import requests
import websocket

from rawhttp import Connection, build, exchange
from rawws import check_accepted, new_key, upgrade_request

TIMEOUT = 10
USER, PASSWORD = "admin", "pa:ss wörd"  # RFC 7617: the password may hold a colon
AUTH = USER + ":" + PASSWORD
CHALLENGE = 'Basic realm="wsserver", charset="UTF-8"'
MIB = 1024 * 1024


def basic(user_password):
    """An Authorization value: Basic and base64 of the UTF-8 bytes (RFC 7617 §2.1)."""
    return "Basic " + base64.b64encode(user_password.encode()).decode()


RIGHT = basic(AUTH)
WRONG = {
    "missing": None,
    "wrong password": basic(USER + ":pa:ss"),
    "wrong user": basic("Admin:" + PASSWORD),
    "password prefix": basic(AUTH[:-1]),
    "password plus a byte": basic(AUTH + "x"),
    "latin-1 instead of UTF-8": "Basic " + base64.b64encode(AUTH.encode("latin-1")).decode(),
    "bad base64": "Basic %%%%" + RIGHT[6:],
    "bad padding": RIGHT[:-1],
    "no colon": basic(USER + PASSWORD),
    "other scheme": "Bearer " + RIGHT[6:],
    "scheme only": "Basic",
    "empty": "",
}

# Every route, as (method, target, body): the page, a static file, the listing, an
# uploaded file, uploads, a delete, OPTIONS, the token and both WebSocket routes.
ROUTES = [
    ("GET", "/", b""), ("HEAD", "/index.html", b""), ("GET", "/uploads/", b""),
    ("GET", "/uploads/keep.txt", b""), ("PUT", "/uploads/new.txt", b"new"),
    ("POST", "/uploads/?name=new.txt", b"new"), ("DELETE", "/uploads/keep.txt", b""),
    ("OPTIONS", "*", b""), ("OPTIONS", "/uploads/keep.txt", b""), ("GET", "/ws/token", b""),
    ("GET", "/ws/echo", b""), ("GET", "/ws/log", b""),
]
WEBSOCKETS = ("/ws/echo", "/ws/log")
UPGRADE = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
           ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]


@pytest.fixture
def guarded(start_server):
    """A server with --auth, a page and an uploaded file."""
    running = start_server(auth=AUTH)
    (running.static / "index.html").write_bytes(b"<h1>page</h1>")
    (running.uploads / "keep.txt").write_bytes(b"kept")
    return running


def request(target, method, path, body=b"", authorization=None, extra=()):
    """One request on a fresh connection; the answer."""
    headers = list(extra)
    if authorization is not None:
        headers.append(("Authorization", authorization))
    if path.partition("?")[0] in WEBSOCKETS:
        headers.extend(UPGRADE)
    if body or method in ("PUT", "POST"):
        headers.append(("Content-Length", str(len(body))))
    return exchange(target, build(method, path, headers, body), method)


def assert_refused(response):
    assert response.status == 401, response
    assert response.get_all("WWW-Authenticate") == [CHALLENGE], response


def assert_untouched(running):
    assert running.stored() == ["keep.txt"]
    assert (running.uploads / "keep.txt").read_bytes() == b"kept"


def test_every_route_without_credentials_is_401(guarded):
    for method, path, body in ROUTES:
        assert_refused(request(guarded, method, path, body))
    assert_untouched(guarded)


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_or_malformed_credentials_are_401_everywhere(guarded, case):
    for method, path, body in ROUTES:
        assert_refused(request(guarded, method, path, body, WRONG[case]))
    assert_untouched(guarded)


def test_right_credentials_serve_every_route(guarded):
    auth = (USER.encode(), PASSWORD.encode())  # requests would encode a str as latin-1
    url = guarded.url
    assert requests.get(url + "/", auth=auth, timeout=TIMEOUT).text == "<h1>page</h1>"
    assert requests.head(url + "/index.html", auth=auth, timeout=TIMEOUT).status_code == 200
    listing = requests.get(url + "/uploads/", auth=auth, timeout=TIMEOUT,
                           headers={"Accept": "application/json"}).json()
    assert [item["name"] for item in listing] == ["keep.txt"]
    assert requests.get(url + "/uploads/keep.txt", auth=auth, timeout=TIMEOUT).text == "kept"
    assert requests.put(url + "/uploads/a.txt", data=b"a", auth=auth,
                        timeout=TIMEOUT).status_code == 201
    assert requests.post(url + "/uploads/?name=b.txt", data=b"b", auth=auth,
                         timeout=TIMEOUT).status_code == 201
    assert requests.delete(url + "/uploads/keep.txt", auth=auth,
                           timeout=TIMEOUT).status_code == 204
    assert requests.options(url + "/uploads/a.txt", auth=auth, timeout=TIMEOUT).status_code == 204
    assert guarded.stored() == ["a.txt", "b.txt"]


def test_scheme_name_is_case_insensitive(guarded):
    response = request(guarded, "GET", "/", authorization="bAsIc " + RIGHT[6:])
    assert response.status == 200, response


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect 100-continue"])
def test_big_put_with_wrong_credentials_is_refused_before_its_body(guarded, expect):
    extra = [("Content-Length", str(MIB)), ("Authorization", WRONG["wrong password"])]
    if expect:
        extra.append(("Expect", "100-continue"))
    with Connection(guarded) as conn:
        assert conn.send(build("PUT", "/uploads/big.bin", extra))
        response = conn.read_response()  # from the head alone: no 100 Continue either
        assert_refused(response)
        assert guarded.stored() == ["keep.txt"]  # no temporary file was ever made
        conn.send(b"x" * MIB)  # the server may have closed already: either is fine
        assert conn.closed_by_server()
    assert_untouched(guarded)


def test_delete_with_wrong_credentials_leaves_the_file(guarded):
    for authorization in (None, WRONG["wrong password"], WRONG["bad base64"]):
        assert_refused(request(guarded, "DELETE", "/uploads/keep.txt", b"", authorization))
    assert_untouched(guarded)


def test_refused_head_keeps_the_connection_when_no_body_is_unread(guarded):
    with Connection(guarded) as conn:
        assert conn.send(build("GET", "/") + build("GET", "/", [("Authorization", RIGHT)]))
        assert_refused(conn.read_response())
        assert conn.read_response().body == b"<h1>page</h1>"


def ws_url(running, path, token=None):
    url = "ws://%s:%d%s" % (running.host, running.port, path)
    return url if token is None else url + "?token=" + token


def token_of(running):
    response = requests.get(running.url + "/ws/token", timeout=TIMEOUT,
                            auth=(USER.encode(), PASSWORD.encode()))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    token = response.json()["token"]
    assert len(token) == 32 and int(token, 16) >= 0
    return token


def echo_once(ws):
    try:
        ws.send("hello")
        assert ws.recv() == "hello"
    finally:
        ws.close()


def test_websocket_with_credentials_in_its_header(guarded):
    echo_once(websocket.create_connection(ws_url(guarded, "/ws/echo"), timeout=TIMEOUT,
                                          header=["Authorization: " + RIGHT]))


def test_websocket_with_the_token_of_ws_token(guarded):
    token = token_of(guarded)
    echo_once(websocket.create_connection(ws_url(guarded, "/ws/echo", token), timeout=TIMEOUT))
    viewer = websocket.create_connection(ws_url(guarded, "/ws/log", token), timeout=TIMEOUT)
    try:  # the history holds the access line of the token's request
        records = []
        while not any("/ws/token" in record.get("msg", "") for record in records):
            records.append(json.loads(viewer.recv()))
    finally:
        viewer.close()


def test_wrong_token_is_401(guarded):
    token = token_of(guarded)
    wrong = "%032x" % (int(token, 16) ^ 1)
    for query in ("token=" + wrong, "token=" + token[:-1], "token=", "token=%zz", "tok=" + token):
        for path in ("/ws/echo", "/ws/log"):
            assert_refused(request(guarded, "GET", path + "?" + query))


def test_the_token_opens_websockets_only(guarded):
    token = token_of(guarded)
    for method, path, body in ROUTES:
        if path in WEBSOCKETS or path == "*":
            continue
        target = path + ("&" if "?" in path else "?") + "token=" + token
        assert_refused(request(guarded, method, target, body))
    assert_untouched(guarded)


def test_token_is_per_server(start_server):
    first, second = start_server(auth=AUTH), start_server(auth=AUTH)
    assert_refused(request(second, "GET", "/ws/echo?token=" + token_of(first)))


def test_token_is_null_without_auth(server):
    response = requests.get(server.url + "/ws/token", timeout=TIMEOUT)
    assert response.status_code == 200 and response.json() == {"token": None}


def handshake(running, origin, authorization=RIGHT):
    """A handshake as a browser sends it: Host with the port, Origin when given."""
    extra = [("Authorization", authorization)]
    if origin is not None:
        extra.append(("Origin", origin))
    key = new_key()
    with Connection(running) as conn:
        assert conn.send(upgrade_request("/ws/echo", key, extra=extra,
                                         host="%s:%d" % (running.host, running.port)))
        return conn.read_response(), key


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1", "null",
                                    "http://localhost:%d"])
def test_cross_site_origin_is_403_even_with_credentials(guarded, origin):
    if "%d" in origin:
        origin %= guarded.port  # another name for this host is another site
    response, _ = handshake(guarded, origin)
    assert response.status == 403, response


@pytest.mark.parametrize("origin", ["http://127.0.0.1:%d", "https://127.0.0.1:%d", None],
                         ids=["same site", "same site over TLS", "no origin"])
def test_own_origin_and_no_origin_are_accepted(guarded, origin):
    response, key = handshake(guarded, origin and origin % guarded.port)
    check_accepted(response, key)


def test_origin_is_checked_after_credentials(guarded):
    response, _ = handshake(guarded, "http://evil.example", WRONG["wrong password"])
    assert_refused(response)


def test_allow_origin_list_replaces_the_default(start_server):
    running = start_server(auth=AUTH, allow_origins=["http://good.example"])
    response, key = handshake(running, "http://good.example")
    check_accepted(response, key)
    response, _ = handshake(running, "http://127.0.0.1:%d" % running.port)
    assert response.status == 403, response
    response, key = handshake(running, None)
    check_accepted(response, key)


def test_without_auth_any_origin_is_accepted_still(server):
    response, key = handshake(server, "http://evil.example", None)
    check_accepted(response, key)


@pytest.mark.cpython_only("reads the server's records with this process's `logging`")
def test_a_refusal_is_logged_without_the_secrets(guarded, caplog):
    token = token_of(guarded)
    caplog.set_level(logging.INFO, logger="wsserver")
    request(guarded, "PUT", "/uploads/x.txt", b"x", WRONG["wrong password"])
    request(guarded, "GET", "/ws/echo?token=" + token[::-1])
    handshake(guarded, "http://evil.example")
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 3, refusals
    assert refusals[0].startswith("127.0.0.1:") and "PUT /uploads/x.txt" in refusals[0]
    assert "GET /ws/echo?token=(hidden)" in refusals[1]
    assert "origin http://evil.example" in refusals[2]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "pa:ss" not in text and token not in text and token[::-1] not in text
