"""/api/v1 for the stream's signals: unread markers, members, mention lookup, preview, answers,
bookmarks, thread views, moderation and cursors; bad input gets a clear 4xx and writes nothing."""

from __future__ import annotations

import pytest

from cairn.auth import actions as auth
from cairn.extensions import db
from tests import factories as f
from tests.api.test_api_routes import error_of, ok
from tests.conftest import _empty_tables, make_app


@pytest.fixture
def scene(app, people, bearer):
    s = type("Scene", (), {})()
    s.p = people
    s.h = {name: bearer(getattr(people, name)) for name in ("admin", "curator", "member", "other")}
    s.general = f.channel(people.member, "general", members=(people.other, people.curator))
    s.root = f.post(people.member, s.general, "How do I rotate the signing key?")
    s.reply = f.post(people.other, s.general, "Run `vault rotate`.", parent=s.root)
    return s


# --- channels: unread, join/leave, topic, members ---------------------------------------------

def test_channels_carry_unread_counts_that_reading_clears(client, scene):
    h = scene.h["other"]
    f.post(scene.p.member, scene.general, "news")
    [chan] = ok(client.get("/api/v1/channels", headers=h))["items"]
    assert (chan["member"], chan["unread"]) == (True, 2)
    marker = ok(client.post(f"/api/v1/channels/{scene.general.id}/read", headers=h))
    assert marker["last_read_post_id"] > scene.root.id
    assert ok(client.get(f"/api/v1/channels/{scene.general.id}", headers=h))["unread"] == 0


def test_marking_read_up_to_a_given_post(client, scene):
    h = scene.h["other"]
    later = f.post(scene.p.member, scene.general, "later")
    ok(client.post(f"/api/v1/channels/{scene.general.id}/read", json={"post_id": scene.root.id}, headers=h))
    assert ok(client.get(f"/api/v1/channels/{scene.general.id}", headers=h))["unread"] == 1
    assert later.id


@pytest.mark.parametrize("body,field", [({"post_id": "x"}, "post_id"), ({"post_id": 1.5}, "post_id"),
                                        ({"post_id": 999_999}, "post_id"), ({"nope": 1}, "nope")])
def test_marking_read_with_a_bad_post_id_is_a_400_naming_the_field(client, scene, body, field):
    before = f.counts()
    err = error_of(client.post(f"/api/v1/channels/{scene.general.id}/read", json=body, headers=scene.h["other"]), 400)
    assert field in err["fields"]
    assert f.counts() == before


def test_join_leave_and_topic_through_the_api(client, scene):
    chan = ok(client.post("/api/v1/channels", json={"name": "random"}, headers=scene.h["member"]), 201)
    joined = ok(client.post(f"/api/v1/channels/{chan['id']}/join", headers=scene.h["other"]))
    assert joined["member"] is True and joined["unread"] == 0
    assert client.post(f"/api/v1/channels/{chan['id']}/leave", headers=scene.h["other"]).status_code == 204
    assert ok(client.patch(f"/api/v1/channels/{chan['id']}", json={"topic": "Off-topic"},
                           headers=scene.h["member"]))["topic"] == "Off-topic"
    error_of(client.patch(f"/api/v1/channels/{chan['id']}", json={"topic": "mine"}, headers=scene.h["other"]), 403)
    error_of(client.patch(f"/api/v1/channels/{chan['id']}", json={"topic": "x" * 251}, headers=scene.h["member"]),
             400)


def test_the_creator_manages_a_private_channels_members(client, scene):
    h = scene.h["member"]
    chan = ok(client.post("/api/v1/channels", json={"name": "leads", "private": True}, headers=h), 201)
    path = f"/api/v1/channels/{chan['id']}/members/{scene.p.other.id}"
    assert ok(client.put(path, headers=h))["members"] == 2
    error_of(client.put(path, headers=h), 409, "conflict")
    handles = [u["handle"] for u in ok(client.get(f"/api/v1/channels/{chan['id']}/members",
                                                  headers=scene.h["other"]))["items"]]
    assert handles == ["member", "other"]
    error_of(client.delete(f"/api/v1/channels/{chan['id']}/members/{scene.p.member.id}",
                           headers=scene.h["other"]), 403, "forbidden")
    assert client.delete(path, headers=h).status_code == 204
    error_of(client.get(f"/api/v1/channels/{chan['id']}", headers=scene.h["other"]), 404)
    error_of(client.put(f"/api/v1/channels/{chan['id']}/members/999999", headers=h), 404)
    error_of(client.put(f"/api/v1/channels/{scene.general.id}/members/{scene.p.admin.id}", headers=h), 422,
             "rule_violated")


# --- composer: preview and mention lookup -----------------------------------------------------

def test_the_preview_renders_markdown_the_way_the_post_will_show(client, scene):
    h = scene.h["member"]
    html = ok(client.post("/api/v1/preview", json={"body": "**hi** #vpn\n\n```\ncode\n```"}, headers=h))["html"]
    assert "<strong>hi</strong>" in html and 'class="hashtag"' in html and "<pre><code>code" in html
    assert ok(client.post("/api/v1/preview", json={"body": ""}, headers=h))["html"] == ""


@pytest.mark.parametrize("body", [{}, {"body": None}, {"body": 5}, {"body": "x" * 40_001}, [], "text"])
def test_a_bad_preview_request_is_a_400_naming_the_body(client, scene, body):
    resp = client.post("/api/v1/preview", json=body, headers=scene.h["member"])
    err = error_of(resp, 400)
    assert set(err["fields"]) & {"body", "_body", "_schema"}


def test_mention_lookup_returns_readers_by_handle_or_name_prefix(client, scene):
    h = scene.h["member"]
    found = ok(client.get(f"/api/v1/users/lookup?channel_id={scene.general.id}&prefix=ol", headers=h))["items"]
    assert found == [{"id": scene.p.other.id, "display_name": "Olga Other", "handle": "other"}]
    assert len(ok(client.get(f"/api/v1/users/lookup?channel_id={scene.general.id}&limit=2",
                             headers=h))["items"]) == 2


@pytest.mark.parametrize("query,field", [("", "channel_id"), ("channel_id=abc", "channel_id"),
                                         ("channel_id=1&prefix=%25", "prefix"), ("channel_id=1&limit=99", "limit")])
def test_bad_mention_lookups_are_400s_naming_the_field(client, scene, query, field):
    query = query.replace("channel_id=1", f"channel_id={scene.general.id}")
    err = error_of(client.get(f"/api/v1/users/lookup?{query}", headers=scene.h["member"]), 400)
    assert field in err["fields"]


# --- answers, bookmarks, views ----------------------------------------------------------------

def test_the_asker_marks_an_answer_and_the_thread_shows_it(client, scene):
    h = scene.h["member"]
    assert ok(client.post(f"/api/v1/posts/{scene.reply.id}/answer", headers=h)) == {
        "root_id": scene.root.id, "answer_id": scene.reply.id}
    thread = ok(client.get(f"/api/v1/posts/{scene.root.id}/thread", headers=scene.h["other"]))
    assert thread["root"]["answer_id"] == scene.reply.id and thread["replies"][0]["is_answer"] is True
    hits = ok(client.get("/api/v1/search", query_string={"q": "is:answer"}, headers=h))
    assert [i["id"] for i in hits["items"]] == [scene.reply.id]
    assert client.delete(f"/api/v1/posts/{scene.reply.id}/answer", headers=h).status_code == 204
    error_of(client.delete(f"/api/v1/posts/{scene.reply.id}/answer", headers=h), 404)


def test_marking_an_answer_in_someone_elses_thread_or_on_a_root_is_refused(client, scene):
    before = f.counts()
    error_of(client.post(f"/api/v1/posts/{scene.reply.id}/answer", headers=scene.h["other"]), 403, "forbidden")
    error_of(client.post(f"/api/v1/posts/{scene.root.id}/answer", headers=scene.h["member"]), 422, "rule_violated")
    assert f.counts() == before
    ok(client.post(f"/api/v1/posts/{scene.reply.id}/answer", headers=scene.h["curator"]))  # curators may


def test_bookmarks_are_saved_listed_by_cursor_and_removed(client, scene):
    h = scene.h["other"]
    saved = ok(client.put(f"/api/v1/posts/{scene.root.id}/bookmark", headers=h), 201)
    assert saved["post"]["id"] == scene.root.id and saved["post"]["bookmarked"] is True
    error_of(client.put(f"/api/v1/posts/{scene.root.id}/bookmark", headers=h), 409, "conflict")
    ok(client.put(f"/api/v1/posts/{scene.reply.id}/bookmark", headers=h), 201)
    first = ok(client.get("/api/v1/bookmarks?limit=1", headers=h))
    rest = ok(client.get(f"/api/v1/bookmarks?limit=1&cursor={first['next']}", headers=h))
    assert [b["post"]["id"] for b in first["items"] + rest["items"]] == [scene.reply.id, scene.root.id]
    assert rest["next"] is None
    assert ok(client.get("/api/v1/bookmarks", headers=scene.h["member"]))["items"] == []
    assert client.delete(f"/api/v1/posts/{scene.root.id}/bookmark", headers=h).status_code == 204
    error_of(client.delete(f"/api/v1/posts/{scene.root.id}/bookmark", headers=h), 404)


def test_reading_a_thread_counts_one_view_and_pages_its_replies(client, scene):
    for i in range(2):
        f.post(scene.p.curator, scene.general, f"more {i}", parent=scene.root)
    h = scene.h["other"]
    page = ok(client.get(f"/api/v1/posts/{scene.root.id}/thread?limit=2", headers=h))
    later = ok(client.get(f"/api/v1/posts/{scene.root.id}/thread?limit=2&cursor={page['next']}", headers=h))
    assert len(page["replies"]) == 2 and len(later["replies"]) == 1 and later["next"] is None
    assert later["root"]["view_count"] == 1  # the second page is the same visit
    ok(client.get(f"/api/v1/posts/{scene.root.id}/thread", headers=scene.h["member"]))  # the author's own
    assert ok(client.get(f"/api/v1/posts/{scene.root.id}", headers=h))["view_count"] == 1


def test_reactions_say_who_reacted(client, scene):
    post = ok(client.put(f"/api/v1/posts/{scene.root.id}/reactions/🎉", headers=scene.h["other"]))
    assert post["reactions"] == [{"emoji": "🎉", "count": 1, "users": [scene.p.other.id], "names": ["Olga Other"]}]


# --- moderation -------------------------------------------------------------------------------

def test_flag_hide_and_restore_through_the_api(client, scene):
    flag = ok(client.post(f"/api/v1/posts/{scene.reply.id}/flags", json={"reason": "rude"},
                          headers=scene.h["member"]), 201)
    assert (flag["reason"], flag["user"]["handle"], flag["resolution"]) == ("rude", "member", None)
    error_of(client.post(f"/api/v1/posts/{scene.reply.id}/flags", json={"reason": "again"},
                         headers=scene.h["member"]), 409, "conflict")
    queue = ok(client.get("/api/v1/moderation", headers=scene.h["curator"]))["items"]
    assert [(i["post"]["id"], [fl["reason"] for fl in i["flags"]]) for i in queue] == [(scene.reply.id, ["rude"])]
    error_of(client.post(f"/api/v1/posts/{scene.reply.id}/hide", headers=scene.h["member"]), 403, "forbidden")
    hidden = ok(client.post(f"/api/v1/posts/{scene.reply.id}/hide", json={"reason": "rule 2"},
                            headers=scene.h["curator"]))
    assert hidden["hidden"] is True
    error_of(client.get(f"/api/v1/posts/{scene.reply.id}", headers=scene.h["member"]), 404)
    assert ok(client.get(f"/api/v1/posts/{scene.reply.id}", headers=scene.h["other"]))["hidden"] is True  # author
    assert ok(client.get(f"/api/v1/posts/{scene.root.id}/thread", headers=scene.h["member"]))["replies"] == []
    assert ok(client.get("/api/v1/moderation?status=hidden", headers=scene.h["curator"]))["items"][0]["post"][
        "id"] == scene.reply.id
    error_of(client.get("/api/v1/moderation", headers=scene.h["member"]), 403, "forbidden")
    assert ok(client.post(f"/api/v1/posts/{scene.reply.id}/restore", headers=scene.h["curator"]))["hidden"] is False
    error_of(client.post(f"/api/v1/posts/{scene.reply.id}/restore", headers=scene.h["curator"]), 409)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": 3}])
def test_a_flag_without_a_usable_reason_is_a_400_and_writes_nothing(client, scene, body):
    before = f.counts()
    err = error_of(client.post(f"/api/v1/posts/{scene.reply.id}/flags", json=body, headers=scene.h["member"]), 400)
    assert "reason" in err["fields"]
    assert f.counts() == before


def test_dismissing_flags_is_for_moderators_and_needs_open_flags(client, scene):
    client.post(f"/api/v1/posts/{scene.reply.id}/flags", json={"reason": "meh"}, headers=scene.h["member"])
    error_of(client.post(f"/api/v1/posts/{scene.reply.id}/flags/dismiss", headers=scene.h["other"]), 403)
    assert ok(client.post(f"/api/v1/posts/{scene.reply.id}/flags/dismiss", headers=scene.h["curator"])) == {
        "dismissed": 1}
    error_of(client.post(f"/api/v1/posts/{scene.reply.id}/flags/dismiss", headers=scene.h["curator"]), 409)


# --- cursors and bodies -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/channels/{ch}/posts", "/api/v1/channels/{ch}/members",
                                  "/api/v1/posts/{root}/thread",
                                  "/api/v1/posts/{root}/revisions", "/api/v1/bookmarks", "/api/v1/notifications",
                                  "/api/v1/moderation"])
@pytest.mark.parametrize("cursor", ["garbage!", "eyJhIjoxfQ", "WyJ4Il0", "Wy0xXQ", "Wzk5OTk5OTk5OTk5XQ"])
def test_a_malformed_cursor_is_a_400_on_every_list(client, scene, path, cursor):
    path = path.format(ch=scene.general.id, root=scene.root.id)
    err = error_of(client.get(f"{path}?cursor={cursor}", headers=scene.h["curator"]), 400)
    assert "cursor" in err["fields"]


@pytest.mark.parametrize("body", ["", "   ", "x" * 40_001])
def test_empty_or_oversized_replies_and_edits_are_400s_and_write_nothing(client, scene, body):
    before = f.counts()
    error_of(client.post(f"/api/v1/channels/{scene.general.id}/posts",
                         json={"body": body, "parent_id": scene.root.id}, headers=scene.h["other"]), 400)
    error_of(client.patch(f"/api/v1/posts/{scene.reply.id}", json={"body": body}, headers=scene.h["other"]), 400)
    assert f.counts() == before


def test_editing_someone_elses_post_or_reacting_twice_is_refused(client, scene):
    error_of(client.patch(f"/api/v1/posts/{scene.reply.id}", json={"body": "mine now"}, headers=scene.h["member"]),
             403)
    ok(client.put(f"/api/v1/posts/{scene.reply.id}/reactions/👍", headers=scene.h["member"]))
    error_of(client.put(f"/api/v1/posts/{scene.reply.id}/reactions/👍", headers=scene.h["member"]), 409)
    error_of(client.put(f"/api/v1/posts/{scene.reply.id}/reactions/notanemoji!", headers=scene.h["member"]), 400)


def test_revisions_are_paged_oldest_first(client, scene):
    for body in ("v2", "v3", "v4"):
        client.patch(f"/api/v1/posts/{scene.reply.id}", json={"body": body}, headers=scene.h["other"])
    first = ok(client.get(f"/api/v1/posts/{scene.reply.id}/revisions?limit=2", headers=scene.h["member"]))
    rest = ok(client.get(f"/api/v1/posts/{scene.reply.id}/revisions?limit=2&cursor={first['next']}",
                         headers=scene.h["member"]))
    assert [r["body"] for r in first["items"] + rest["items"]] == ["Run `vault rotate`.", "v2", "v3"]


def test_every_new_write_route_is_in_the_openapi_document(client):
    spec = ok(client.get("/api/v1/openapi.json"))
    for path, method in [("/api/v1/preview", "post"), ("/api/v1/posts/{post_id}/flags", "post"),
                         ("/api/v1/channels/{channel_id}/read", "post"), ("/api/v1/users/lookup", "get")]:
        assert method in spec["paths"][path], path
    assert "requestBody" in spec["paths"]["/api/v1/preview"]["post"]


# --- rate limits ------------------------------------------------------------------------------

@pytest.fixture
def limited(migrated, tmp_path):
    """An app with rate limits on: two posts (or flags, reactions) a minute."""
    app = make_app(migrated, tmp_path, rate_limits=True, rate_limit_posts="2/minute")
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def test_flagging_too_fast_is_a_429_with_a_readable_message(limited):
    member = auth.create_user("m@example.com", "long-enough", "M", "member")
    _, raw = auth.issue_token(member, "t")
    h = {"Authorization": f"Bearer {raw}"}
    chan = f.channel(member, "general")
    posts = [f.post(member, chan, f"p{i}") for i in range(3)]
    client = limited.test_client()
    for post in posts[:2]:
        ok(client.post(f"/api/v1/posts/{post.id}/flags", json={"reason": "spam"}, headers=h), 201)
    err = error_of(client.post(f"/api/v1/posts/{posts[2].id}/flags", json={"reason": "spam"}, headers=h), 429,
                   "rate_limited")
    assert "slow down" in err["message"].lower()
