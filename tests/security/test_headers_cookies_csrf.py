"""What a browser is told and what it must send: security headers on every kind of answer,
session cookies a script or another site cannot use, a CSRF token on every unsafe route of the
browser session (enumerated from the URL map, so a new route is covered the day it is added),
login throttling, and API tokens that are stored only as hashes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from cairn.auth import actions as auth
from cairn.extensions import db
from tests import factories as f
from tests.conftest import People, _empty_tables, csrf_token, make_app

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = [w.lower() for w in words[1:]]
    return out


def _assert_security_headers(resp, what: str) -> None:
    csp = resp.headers.get("Content-Security-Policy")
    assert csp, f"{what}: no Content-Security-Policy"
    d = _directives(csp)
    scripts = d.get("script-src", d.get("default-src"))
    assert scripts, f"{what}: neither script-src nor default-src: {csp}"
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts), csp
    assert d.get("object-src") == ["'none'"], csp
    assert d.get("base-uri") in (["'self'"], ["'none'"]), csp
    assert d.get("frame-ancestors") in (["'none'"], ["'self'"]) or \
        resp.headers.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), f"{what}: can be framed"
    assert resp.headers.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), what   # for old browsers too
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", what
    assert resp.headers.get("Cross-Origin-Opener-Policy") == "same-origin", what
    assert resp.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin",
                                                   "strict-origin-when-cross-origin"), what


def test_html_json_error_and_static_answers_all_carry_the_security_headers(client, people, login, scene):
    anonymous = [("login page", "GET", "/login", 200), ("redirect to log in", "GET", "/channels", 302),
                 ("JSON 401", "GET", "/api/v1/me", 401), ("OpenAPI", "GET", "/api/v1/openapi.json", 200),
                 ("health", "GET", "/healthz", 200), ("static file", "GET", "/static/app.js", 200),
                 ("HTML 404", "GET", "/no/such/page", 404), ("JSON 404", "GET", "/api/v1/no-such", 404),
                 ("HTML 405", "PUT", "/login", 405), ("CSRF 400", "POST", "/login", 400),
                 ("JSON 400", "POST", "/api/v1/tokens", 400)]
    other = [("channel page", "GET", f"/channels/{scene['general']}", 200),
              ("hidden channel 404", "GET", f"/channels/{scene['secret']}", 404),
              ("JSON list", "GET", "/api/v1/channels", 200),
              ("JSON hidden 404", "GET", f"/api/v1/posts/{scene['private_post']}", 404),
              ("search page", "GET", "/search?q=vpn", 200)]

    def check(what, method, path, status):
        resp = client.open(path, method=method)
        assert resp.status_code == status, (what, resp.status_code)
        _assert_security_headers(resp, what)

    f.each(anonymous, check)
    login(people.other)
    f.each(other, check)


def _set_cookies(resp) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def _assert_cookie_flags(header: str, secure: bool) -> None:
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in header.split(";")[1:]}
    assert "httponly" in attrs, header
    assert attrs.get("samesite", "").lower() in ("samesite=lax", "samesite=strict"), header
    assert ("secure" in attrs) is secure, header


@pytest.fixture
def production_app(migrated, tmp_path):
    """The app as deployed behind HTTPS: session_cookie_secure = true."""
    app = make_app(migrated, tmp_path, session_cookie_secure=True)
    with app.app_context():
        auth.create_user("member@example.com", People.PASSWORD, "Milo Member")
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def test_session_and_remember_cookies_are_secure_httponly_and_samesite_in_production(production_app):
    client = production_app.test_client()
    https = "https://cairn.example"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login", base_url=https).get_data(as_text=True))[1]
    resp = client.post("/login", data={"email": "member@example.com", "password": People.PASSWORD,
                                       "remember": "1", "csrf_token": token}, base_url=https,
                       headers={"Referer": f"{https}/login"})  # Flask-WTF checks it over HTTPS
    assert resp.status_code == 302
    cookies = _set_cookies(resp)
    assert {"session", "remember_token"} <= set(cookies), cookies
    for header in cookies.values():
        _assert_cookie_flags(header, secure=True)
    hsts = resp.headers.get("Strict-Transport-Security", "")
    assert re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts)[1]) >= 15_552_000, hsts


def test_without_https_no_strict_transport_security_is_sent(client):
    # HSTS over plain HTTP would be ignored at best, and lock a test or dev host to HTTPS at worst
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_without_https_the_session_cookie_is_still_httponly_and_samesite(client, people):
    resp = client.post("/login", data={"email": people.member.email, "password": People.PASSWORD,
                                       "csrf_token": csrf_token(client)})
    assert resp.status_code == 302
    _assert_cookie_flags(_set_cookies(resp)["session"], secure=False)


# --- CSRF on every unsafe route of the browser session ------------------------------------------

def _fill(rule: str, scene) -> str:
    """A path for ``rule`` with ids of real objects the admin may act on (so only CSRF stands in the way)."""
    ids = {"channel_id": scene["general"], "post_id": scene["public_reply"], "user_id": scene["other_id"],
           "article_id": scene["public_article"], "number": 1, "flag_id": scene["article_flag"],
           "promotion_id": scene["public_promotion"], "notification_id": scene["notification"],
           "space_id": scene["handbook"], "group_id": scene["eng"], "token_id": scene["token"],
           "emoji": "👍", "filename": "app.js"}

    def value(m: re.Match[str]) -> str:  # CSRF is checked before the view: any id of a new kind will do
        return str(ids.get(m.group(1), 1))

    return re.sub(r"<(?:\w+:)?(\w+)>", value, rule)


def _unsafe_routes(app, scene):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(set(rule.methods) & set(UNSAFE)):
            yield method, rule.rule, _fill(rule.rule, scene)


def test_every_unsafe_route_of_the_browser_session_refuses_a_request_without_its_csrf_token(
        app, client, people, login, scene):
    """Logged in as the admin, every POST/PUT/PATCH/DELETE in the URL map, as a form and as JSON,
    with no token and with a forged one: 400, code csrf, and not one row changes."""
    routes = list(_unsafe_routes(app, scene))
    assert len(routes) > 60, routes
    login(people.admin)
    plausible = {"body": "csrf attack", "name": "csrf", "title": "csrf", "to": "published", "reason": "x",
                 "topic": "x", "description": "x", "post_ids": [scene["public_post"]], "kind": "wrong",
                 "email": people.admin.email, "password": People.PASSWORD, "role": "admin", "ids": []}

    def check(method, rule, path):
        before = f.counts()
        for kwargs in ({"data": {k: v for k, v in plausible.items() if not isinstance(v, list)}},
                       {"json": plausible},
                       {"data": {"csrf_token": "forged"}, "headers": {"X-CSRFToken": "forged"}}):
            resp = client.open(path, method=method, **kwargs)
            assert resp.status_code == 400, (method, path, kwargs, resp.status_code)
            if resp.is_json:
                assert resp.get_json()["error"]["code"] == "csrf"
            else:
                assert "CSRF token" in resp.get_data(as_text=True)
        assert f.counts() == before, "a refused request wrote"
        assert client.get("/api/v1/me").status_code == 200, "the refused request logged us out"

    f.each(routes, check)


# --- login throttling and hashed tokens -----------------------------------------------------------

@pytest.fixture
def throttled(migrated, tmp_path):
    app = make_app(migrated, tmp_path, rate_limits=True, rate_limit_login="3/minute")
    with app.app_context():
        auth.create_user("member@example.com", People.PASSWORD, "Milo Member")
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def test_guessing_passwords_is_throttled_with_a_429_on_the_form_and_the_token_api(throttled):
    client = throttled.test_client()
    token = csrf_token(client)
    for _ in range(3):
        assert client.post("/login", data={"email": "member@example.com", "password": "guess",
                                           "csrf_token": token}).status_code == 401
    resp = client.post("/login", data={"email": "member@example.com", "password": People.PASSWORD,
                                       "csrf_token": token})
    assert resp.status_code == 429 and resp.mimetype == "text/html"   # even the right password waits
    assert "Too many requests" in resp.get_data(as_text=True)
    _assert_security_headers(resp, "429 page")
    assert "session" not in _set_cookies(resp) or "remember_token" not in _set_cookies(resp)
    for _ in range(3):
        assert client.post("/api/v1/tokens", json={"email": "member@example.com", "password": "guess"}
                           ).status_code == 401
    resp = client.post("/api/v1/tokens", json={"email": "member@example.com", "password": People.PASSWORD})
    assert resp.status_code == 429 and resp.get_json()["error"]["code"] == "rate_limited"
    assert f.count(auth.ApiToken) == 0


def test_api_tokens_are_stored_hashed_never_raw(client, people):
    raw = client.post("/api/v1/tokens", json={"email": people.member.email, "password": People.PASSWORD,
                                              "name": "laptop"}).get_json()["token"]
    assert len(raw) >= 32
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    db.session.rollback()
    rows = db.session.execute(text("SELECT * FROM api_tokens")).mappings().all()
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert raw not in stored and raw[:16] not in stored
    assert re.fullmatch(r"[0-9a-f]{64}", rows[0]["token_hash"])
