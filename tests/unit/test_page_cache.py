"""The channel page is served again from the page cache only while nothing in the database changed,
only to the session it was rendered for, and never past a lost permission, a deactivation, a
flash or a session Flask-Login would not accept as is (cairn.pagecache)."""

from __future__ import annotations

import gzip
import re

import pytest

from bench._services import free_port
from cairn.auth import actions as auth
from cairn.extensions import db
from cairn.pagecache import RedisVersion
from cairn.stream import actions, members
from tests import factories as f
from tests.conftest import CSRF_RE, log_in

CACHED = "X-Cairn-Page"


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other,))


def _view(client, channel_id: int, **headers):
    return client.get(f"/channels/{channel_id}", headers=headers)


def _cached_view(client, channel_id: int):
    """The page rendered (and kept), then served from the cache: (rendered, served). The first view
    of a channel with unread posts moves the read marker, a write: the next one is kept."""
    rendered = _view(client, channel_id)
    for _ in range(2):
        assert rendered.status_code == 200 and CACHED not in rendered.headers
        again = _view(client, channel_id)
        if again.headers.get(CACHED) == "cached":
            assert again.status_code == 200
            return rendered, again
        rendered = again
    pytest.fail("the page was never served from the cache")


def test_an_unchanged_page_is_served_again_as_it_was_rendered(client, login, people, general):
    f.post(people.member, general, "kept")
    login(people.other)
    first, again = _cached_view(client, general.id)
    assert again.get_data() == first.get_data()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Content-Security-Policy"] and "Cookie" in again.headers["Vary"]


def test_a_post_by_anyone_shows_at_once(client, login, people, general):
    login(people.other)
    _cached_view(client, general.id)
    actions.create_post(people.member, general.id, "just arrived")
    resp = _view(client, general.id)
    assert CACHED not in resp.headers and "just arrived" in resp.get_data(as_text=True)


def test_a_post_in_another_channel_updates_the_sidebar(client, login, people, general):
    elsewhere = f.channel(people.member, "elsewhere", members=(people.other,))
    login(people.other)
    _view(client, elsewhere.id)  # read: no unread badge
    _cached_view(client, general.id)
    actions.create_post(people.member, elsewhere.id, "over there")
    page = _view(client, general.id).get_data(as_text=True)
    link = re.search(rf'<a[^>]*href="/channels/{elsewhere.id}"[^>]*>.*?</a>', page, re.DOTALL).group(0)
    assert re.search(r">\s*1\s*<", link), link


def test_a_member_removed_from_a_private_channel_no_longer_gets_its_page(client, login, people):
    secret = f.channel(people.member, "secret", private=True, members=(people.other,))
    f.post(people.member, secret, "members only")
    login(people.other)
    _cached_view(client, secret.id)
    members.remove_member(people.member, secret.id, people.other.id)
    resp = _view(client, secret.id)
    assert resp.status_code == 404 and "members only" not in resp.get_data(as_text=True)


def test_a_deactivated_user_is_sent_to_the_login_page(client, login, people, general):
    login(people.other)
    _cached_view(client, general.id)
    auth.update_user(people.admin, people.other.id, active=False)
    resp = _view(client, general.id)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_flash_waiting_for_the_page_is_shown_not_a_kept_page(client, login, people, general):
    login(people.other)
    _cached_view(client, general.id)
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "Flash for this page")]
    resp = _view(client, general.id)
    assert CACHED not in resp.headers and "Flash for this page" in resp.get_data(as_text=True)


def test_a_session_seen_from_another_browser_is_not_served_from_the_cache(client, login, people, general):
    login(people.other)
    _cached_view(client, general.id)
    resp = _view(client, general.id, **{"User-Agent": "another browser"})
    assert resp.status_code == 200 and CACHED not in resp.headers


def test_each_session_gets_its_own_page_and_csrf_token(app, people, general):
    def fresh(call, *args, **kwargs):  # each request in its own app context, as on a server (its own g)
        with app.app_context():
            return call(*args, **kwargs)

    sessions = []
    for _ in range(2):
        client = app.test_client()
        fresh(log_in, client, people.other)
        _, again = fresh(_cached_view, client, general.id)
        sessions.append((client, CSRF_RE.search(again.get_data(as_text=True)).group(1)))
    (first, first_token), (second, second_token) = sessions
    assert first_token != second_token
    # a kept page's token posts for its own session, and only for it
    assert fresh(first.post, f"/channels/{general.id}/posts",
                 data={"body": "from a kept page", "csrf_token": first_token}).status_code == 302
    assert fresh(second.post, f"/channels/{general.id}/posts",
                 data={"body": "borrowed token", "csrf_token": first_token}).status_code == 400
    assert "from a kept page" in fresh(_view, second, general.id).get_data(as_text=True)


def test_a_browser_that_accepts_gzip_gets_the_kept_page_compressed(client, login, people, general):
    f.post(people.member, general, "squeeze me")
    login(people.other)
    first, _ = _cached_view(client, general.id)
    resp = _view(client, general.id, **{"Accept-Encoding": "gzip, deflate, br"})
    assert resp.headers[CACHED] == "cached" and resp.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers["Vary"]
    assert gzip.decompress(resp.get_data()) == first.get_data()
    assert len(resp.get_data()) < len(first.get_data()) / 4
    refused = _view(client, general.id, **{"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.get_data() == first.get_data()


def test_a_refused_write_changes_nothing_so_the_page_stays_kept(client, login, people, general):
    login(people.other)
    first, _ = _cached_view(client, general.id)
    token = CSRF_RE.search(first.get_data(as_text=True)).group(1)
    refused = client.post(f"/channels/{general.id}/posts", data={"body": "", "csrf_token": token})
    assert refused.status_code == 400
    assert _view(client, general.id).headers.get(CACHED) == "cached"


def test_while_the_version_cannot_be_read_pages_are_rendered_and_the_kept_ones_dropped(app, client, login, people,
                                                                                      general):
    login(people.other)
    _cached_view(client, general.id)
    version = app.extensions["cairn.version"]
    app.extensions["cairn.version"] = RedisVersion(f"redis://127.0.0.1:{free_port()}/0", "unreachable")
    try:
        resp = _view(client, general.id)
        assert resp.status_code == 200 and CACHED not in resp.headers
    finally:
        app.extensions["cairn.version"] = version
    # the version did not move, but the page kept before is gone: a write may have been missed
    resp = _view(client, general.id)
    assert resp.status_code == 200 and CACHED not in resp.headers
    assert _view(client, general.id).headers.get(CACHED) == "cached"  # kept again


@pytest.mark.parametrize("setting", [{"page_cache_mb": 0}, {"page_cache_seconds": 0}], ids=["no room", "no time"])
def test_the_cache_can_be_turned_off(migrated, tmp_path, setting):
    from tests.conftest import _empty_tables, make_app

    app = make_app(migrated, tmp_path, **setting)
    with app.app_context():
        try:
            member = f.user("member@example.com")
            chan = f.channel(member, "general")
            client = app.test_client()
            log_in(client, member)
            for _ in range(3):
                resp = _view(client, chan.id)
                assert resp.status_code == 200 and CACHED not in resp.headers
        finally:
            db.session.remove()
            _empty_tables()
