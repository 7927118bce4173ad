"""A channel's members are asked of the database a row, a count or a page at a time, never loaded
whole (a company-wide channel has thousands): the paged member list (API and HTML), the channel
page's members box, member counts and unread counts in one query for any number of channels."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from cairn.auth import permissions as perm
from cairn.extensions import db
from cairn.stream import members, unread
from tests import factories as f
from tests.api.test_api_routes import error_of, ok


@pytest.fixture
def crowd(people):
    """#crowd (private, created by member) with 12 more members, named so their order is known."""
    channel = f.channel(people.member, "crowd", private=True)
    joined = [f.user(f"zz{i:02d}@example.com") for i in range(12)]
    for user in joined:
        members.add_member(people.member, channel.id, user.id)
    return channel


class Statements:
    """The SQL statements the engine runs while the block runs."""

    def __enter__(self) -> list[str]:
        self.seen: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._spy)
        return self.seen

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._spy)

    def _spy(self, conn, cursor, statement, params, context, executemany) -> None:
        self.seen.append(statement)


def _names(items: list[dict]) -> list[str]:
    return [u["display_name"] for u in items]


def test_the_members_come_by_name_a_page_at_a_time_following_next(client, bearer, people, crowd):
    h = bearer(people.member)
    pages, url = [], f"/api/v1/channels/{crowd.id}/members?limit=5"
    while url:
        body = ok(client.get(url, headers=h))
        pages.append(_names(body["items"]))
        url = body["next"] and f"/api/v1/channels/{crowd.id}/members?limit=5&cursor={body['next']}"
    assert [len(p) for p in pages] == [5, 5, 3]
    everyone = [n for p in pages for n in p]
    assert everyone == sorted(everyone) and len(set(everyone)) == 13
    assert "Milo Member" in everyone and "Zz11" in everyone
    assert _names(ok(client.get(f"/api/v1/channels/{crowd.id}/members", headers=h))["items"]) == everyone


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=garbage!", "cursor=WyJ4Il0",
                                   "cursor=Wy0xXQ", "cursor=" + "A" * 201])
def test_a_bad_limit_or_cursor_on_the_member_list_is_a_400_naming_it(client, bearer, people, crowd, query):
    err = error_of(client.get(f"/api/v1/channels/{crowd.id}/members?{query}", headers=bearer(people.member)), 400)
    assert query.split("=")[0] in err["fields"]


def test_an_outsider_gets_the_same_404_for_a_private_channels_members_as_for_no_channel(client, bearer, people,
                                                                                       crowd):
    h = bearer(people.other)
    hidden = client.get(f"/api/v1/channels/{crowd.id}/members", headers=h)
    missing = client.get("/api/v1/channels/999999/members", headers=h)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    login_page = client.get(f"/channels/{crowd.id}/members")
    assert login_page.status_code == 302  # the HTML page asks for a login first


def test_the_channel_list_counts_members_with_one_query_however_many_channels(client, bearer, people, crowd):
    h = bearer(people.member)
    f.post(people.other, f.channel(people.admin, "news", members=(people.member,)), "unread here")

    def listing() -> tuple[dict[str, tuple[int, bool, int]], int]:
        with Statements() as seen:
            items = ok(client.get("/api/v1/channels", headers=h))["items"]
        return {c["name"]: (c["members"], c["member"], c["unread"]) for c in items}, len(seen)

    few, cost = listing()
    assert few == {"crowd": (13, True, 0), "news": (3, True, 1)}  # posting joined other
    for i in range(4):  # more channels, members and news: the same number of statements
        chan = f.channel(people.admin, f"more-{i}", members=(people.member, people.other))
        f.post(people.admin, chan, "news")
    many, more_cost = listing()
    assert len(many) == 6 and many["more-3"] == (3, True, 1)
    assert more_cost == cost


def test_unread_counts_for_every_channel_are_one_query(people):
    channels = [f.channel(people.admin, f"c{i}", members=(people.member,)) for i in range(4)]
    for i, chan in enumerate(channels):
        for j in range(i):
            f.post(people.other, chan, f"post {j}")
    with Statements() as seen:
        counts = unread.unread_counts(people.member)
    assert counts == {channels[1].id: 1, channels[2].id: 2, channels[3].id: 3}
    assert len(seen) == 1


def _no_whole_member_list(statements: list[str]) -> None:
    """Every statement that reads users through channel_members stops at a LIMIT (a page)."""
    for sql in statements:
        if "channel_members" in sql and re.search(r"FROM users\b", sql):
            assert "LIMIT" in sql, sql


def test_the_channel_page_names_the_first_members_and_links_to_the_rest(app, client, login, people, crowd):
    for i in range(25):
        members.add_member(people.member, crowd.id, f.user(f"aa{i:02d}@example.com").id)
    login(people.member)
    with Statements() as seen:
        page = client.get(f"/channels/{crowd.id}").get_data(as_text=True)
    _no_whole_member_list(seen)
    box = re.search(r'<ul class="plain-list" aria-label="Members of crowd">(.*?)</ul>', page, re.DOTALL).group(1)
    names = re.findall(r"<span>([^<]+) <span class=\"meta\">", box)
    assert len(names) == members.FIRST_SHOWN and names == sorted(names) and names[0] == "Aa00"
    assert "38 members" in page and f'href="/channels/{crowd.id}/members">and 8 more</a>' in page


def test_the_members_page_pages_by_name_and_offers_removal_to_the_manager_only(client, login, people, crowd):
    login(people.member)
    first = client.get(f"/channels/{crowd.id}/members?limit=10").get_data(as_text=True)
    assert "13 members" in first and first.count('class="member-row"') == 10
    assert first.count('aria-label="Remove ') == 10
    more = re.search(r'href="(/channels/\d+/members\?[^"]+)">More members', first).group(1)
    rest = client.get(more.replace("&amp;", "&")).get_data(as_text=True)
    assert rest.count('class="member-row"') == 3 and "More members" not in rest and "Zz11" in rest
    assert client.get(f"/channels/{crowd.id}/members?limit=0").status_code == 400
    assert client.get(f"/channels/{crowd.id}/members?cursor=garbage!").status_code == 400


def test_the_members_page_and_api_check_access_to_the_channel_once(client, login, bearer, people, crowd,
                                                                  monkeypatch):
    """The check is members_page's (no caller can skip it); the page shows the channel it returns."""
    checked, real = [], perm.access_channel
    monkeypatch.setattr(perm, "access_channel", lambda user, channel_id: checked.append(channel_id)
                        or real(user, channel_id))
    ok(client.get(f"/api/v1/channels/{crowd.id}/members", headers=bearer(people.member)))
    assert checked == [crowd.id]
    login(people.member)
    checked.clear()
    page = client.get(f"/channels/{crowd.id}/members").get_data(as_text=True)
    assert checked == [crowd.id] and "13 members" in page and "crowd" in page


def test_a_member_who_does_not_manage_the_channel_sees_its_members_without_remove_buttons(client, login, people,
                                                                                         crowd):
    members.add_member(people.member, crowd.id, people.other.id)
    login(people.other)
    page = client.get(f"/channels/{crowd.id}/members").get_data(as_text=True)
    assert page.count('class="member-row"') == 14 and 'aria-label="Remove ' not in page
