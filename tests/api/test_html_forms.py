"""The browser side of bad input: readable error pages, CSRF on forms and on session API calls,
and rate limits that answer 429 with a message a person can read."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cairn.auth import actions as auth
from cairn.extensions import db
from cairn.stream.models import Post
from tests import factories as f
from tests.conftest import People, _empty_tables, csrf_token, make_app


def _page_text(resp) -> str:
    html = resp.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def chan(people):
    return f.channel(people.member, "general")


def test_the_login_form_logs_in_and_a_wrong_password_says_so(client, people, login):
    resp = client.post("/login", data={"email": "member@example.com", "password": "wrong",
                                       "csrf_token": csrf_token(client)})
    assert resp.status_code == 401 and "Wrong e-mail or password" in _page_text(resp)
    login(people.member)
    assert client.get("/channels").status_code == 200


def test_pages_send_anonymous_visitors_to_the_login_page(client, people, chan):
    resp = client.get(f"/channels/{chan.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_an_empty_message_from_the_browser_form_gets_a_readable_400_page(client, people, login, chan):
    login(people.member)
    before = f.counts()
    resp = client.post(f"/channels/{chan.id}/posts", data={"body": "   ", "csrf_token": csrf_token(client)})
    assert resp.status_code == 400
    assert resp.mimetype == "text/html"
    text = _page_text(resp)
    assert "A post cannot be empty" in text and "must not be empty" in text
    assert re.search(r"<title>[^<]*Bad request", resp.get_data(as_text=True))
    assert f.counts() == before


def test_a_form_post_without_its_csrf_token_is_a_readable_400(client, people, login, chan):
    login(people.member)
    before = f.counts()
    resp = client.post(f"/channels/{chan.id}/posts", data={"body": "hello"})
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert "CSRF token is missing" in _page_text(resp)
    assert f.counts() == before


def test_a_form_post_with_a_forged_csrf_token_is_refused(client, people, login, chan):
    login(people.member)
    before = f.counts()
    resp = client.post(f"/channels/{chan.id}/posts", data={"body": "hello", "csrf_token": "forged"})
    assert resp.status_code == 400
    assert f.counts() == before


def test_a_ten_megabyte_form_is_a_413_page(client, people, login, chan):
    login(people.member)
    before = f.counts()
    resp = client.post(f"/channels/{chan.id}/posts", data={"body": "x" * (10 * 1024 * 1024),
                                                           "csrf_token": csrf_token(client)})
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    assert "too large" in _page_text(resp).lower()
    assert f.counts() == before


def test_the_browser_form_posts_when_the_token_is_there(client, people, login, chan):
    login(people.member)
    resp = client.post(f"/channels/{chan.id}/posts", data={"body": "hello from the form",
                                                           "csrf_token": csrf_token(client)})
    assert resp.status_code == 302
    assert db.session.scalars(select(Post.body)).all() == ["hello from the form"]


def test_session_api_calls_need_the_csrf_header_for_unsafe_methods_only(client, people, login, chan):
    login(people.member)
    assert client.get("/api/v1/me").get_json()["id"] == people.member.id   # reads need no header
    for method, path, body in (("POST", f"/api/v1/channels/{chan.id}/posts", {"body": "hi"}),
                               ("PATCH", f"/api/v1/channels/{chan.id}", {"topic": "x"}),
                               ("POST", "/api/v1/channels", {"name": "sneaky"}),
                               ("DELETE", f"/api/v1/posts/{f.post(people.member, chan, 'x').id}", None)):
        before = f.counts()
        resp = client.open(path, method=method, json=body)
        assert resp.status_code == 400, (method, path, resp.status_code)
        assert resp.get_json()["error"]["code"] == "csrf"
        forged = client.open(path, method=method, json=body, headers={"X-CSRFToken": "forged"})
        assert forged.status_code == 400
        assert f.counts() == before
    token = csrf_token(client, "/channels")
    resp = client.post(f"/api/v1/channels/{chan.id}/posts", json={"body": "with the header"},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 201


def test_a_bearer_token_needs_no_csrf_header(client, people, bearer, chan):
    resp = client.post(f"/api/v1/channels/{chan.id}/posts", json={"body": "hi"}, headers=bearer(people.member))
    assert resp.status_code == 201


def test_a_missing_page_and_a_hidden_one_look_the_same_in_the_browser(client, people, login):
    secret = f.channel(people.member, "secret", private=True)
    login(people.other)
    hidden, missing = client.get(f"/channels/{secret.id}"), client.get("/channels/424242")
    assert hidden.status_code == missing.status_code == 404
    assert _page_text(hidden) == _page_text(missing)


# --- rate limits ------------------------------------------------------------------------------

@pytest.fixture
def limited(migrated, tmp_path):
    """An app with rate limits on: three posts a minute."""
    app = make_app(migrated, tmp_path, rate_limits=True, rate_limit_posts="3/minute")
    with app.app_context():
        member = auth.create_user("member@example.com", People.PASSWORD, "Milo Member")
        chan = f.channel(member, "general")
        yield app, member, chan
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def test_posting_too_fast_through_the_api_is_a_429_with_a_readable_message(limited):
    app, member, chan = limited
    client = app.test_client()
    _, raw = auth.issue_token(member)
    headers = {"Authorization": f"Bearer {raw}"}
    for i in range(3):
        assert client.post(f"/api/v1/channels/{chan.id}/posts", json={"body": f"post {i}"},
                           headers=headers).status_code == 201
    before = f.counts()
    resp = client.post(f"/api/v1/channels/{chan.id}/posts", json={"body": "one too many"}, headers=headers)
    assert resp.status_code == 429
    err = resp.get_json()["error"]
    assert err["code"] == "rate_limited" and "3 per 1 minute" in err["message"]
    assert "Retry-After" in resp.headers or "X-RateLimit-Reset" in resp.headers
    assert f.counts() == before


def test_posting_too_fast_through_the_browser_is_a_429_page_a_person_can_read(limited):
    app, member, chan = limited
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/login", data={"email": member.email, "password": People.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    token = csrf_token(client, "/channels")
    for i in range(3):
        assert client.post(f"/channels/{chan.id}/posts", data={"body": f"post {i}", "csrf_token": token}
                           ).status_code == 302
    before = f.counts()
    resp = client.post(f"/channels/{chan.id}/posts", data={"body": "one too many", "csrf_token": token})
    assert resp.status_code == 429 and resp.mimetype == "text/html"
    text = _page_text(resp)
    assert "Too many requests" in text and "slow down" in text
    assert f.counts() == before


def test_logging_in_never_redirects_to_another_site(client, people):
    def check(target):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        resp = client.post("/login", data={"email": people.member.email, "password": People.PASSWORD,
                                           "next": target, "csrf_token": csrf_token(client)})
        assert resp.status_code == 302
        location = resp.headers["Location"]
        # what a browser would make of it: backslashes are slashes, tabs and newlines vanish
        seen = re.sub(r"[\t\r\n]", "", location.replace("\\", "/"))
        assert seen.startswith("/") and not seen.startswith("//"), location

    f.each(["//evil.example/x", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
            "/\\/evil.example", "javascript:alert(1)", " //evil.example"], check)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    resp = client.post("/login", data={"email": people.member.email, "password": People.PASSWORD,
                                       "next": "/channels?x=1", "csrf_token": csrf_token(client)})
    assert resp.headers["Location"] == "/channels?x=1"
