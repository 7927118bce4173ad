"""A member who is not in a private channel sees nothing of it, on every read path: channel list,
timeline, thread, post, revisions, search hits, totals and facets, notifications, unread counts,
bookmarks, mention lookup, the moderation queue; every write path answers like a missing object.

The outsider (`other`) was a member once: they were mentioned, saved a post, reacted; then the
creator removed them. Everything they touched must vanish with the membership.
"""

from __future__ import annotations

import json

import pytest

from cairn.stream import actions as stream, members, moderation, signals
from tests import factories as f
from tests.api.test_api_routes import error_of, ok

SECRET = "zanzibar"   # only in the private channel
NOPE = 999_999


@pytest.fixture
def scene(app, people, bearer):
    s = type("Scene", (), {})()
    s.p = people
    s.h = {name: bearer(getattr(people, name)) for name in ("admin", "curator", "member", "other")}
    s.general = f.channel(people.member, "general", members=(people.other, people.curator))
    s.secret = f.channel(people.member, "secret", private=True, members=(people.curator, people.other))
    s.root = f.post(people.member, s.secret, f"{SECRET} launch plan #roadmap cc @other @curator")
    s.reply = f.post(people.curator, s.secret, f"{SECRET} answer", parent=s.root)
    stream.edit_post(people.member, s.root.id, f"{SECRET} launch plan v2 #roadmap cc @other @curator")
    stream.add_reaction(people.other, s.root.id, "👍")
    signals.mark_answer(people.member, s.reply.id)
    signals.add_bookmark(people.other, s.root.id)
    moderation.flag_post(people.curator, s.reply.id, f"{SECRET} flagged")
    s.public = f.post(people.member, s.general, "public chatter")
    f.post(people.member, s.secret, f"{SECRET} news after the outsider last read")
    assert stream.unread_count(people.other) >= 1  # mentioned while a member
    members.remove_member(people.member, s.secret.id, people.other.id)
    s.lone_curator = f.user("lone@example.com", "curator")
    s.h["lone"] = bearer(s.lone_curator)
    return s


def _text(resp) -> str:
    return json.dumps(resp.get_json()).lower() if resp.is_json else resp.get_data(as_text=True).lower()


def _missing_like(client, headers, method, hidden, missing, body=None):
    a = client.open(hidden, method=method, json=body, headers=headers)
    b = client.open(missing, method=method, json=body, headers=headers)
    error_of(a, 404, "not_found")
    assert a.get_json() == b.get_json(), (hidden, a.get_json(), b.get_json())


def test_every_stream_path_to_a_private_channel_answers_an_outsider_like_a_missing_object(client, scene):
    ch, root, reply = scene.secret.id, scene.root.id, scene.reply.id
    paths = [
        ("GET", f"/api/v1/channels/{ch}", f"/api/v1/channels/{NOPE}", None),
        ("GET", f"/api/v1/channels/{ch}/posts", f"/api/v1/channels/{NOPE}/posts", None),
        ("GET", f"/api/v1/channels/{ch}/members", f"/api/v1/channels/{NOPE}/members", None),
        ("POST", f"/api/v1/channels/{ch}/read", f"/api/v1/channels/{NOPE}/read", {}),
        ("POST", f"/api/v1/channels/{ch}/join", f"/api/v1/channels/{NOPE}/join", None),
        ("PUT", f"/api/v1/channels/{ch}/members/{scene.p.other.id}",
         f"/api/v1/channels/{NOPE}/members/{scene.p.other.id}", None),
        ("GET", f"/api/v1/users/lookup?channel_id={ch}&prefix=c", f"/api/v1/users/lookup?channel_id={NOPE}&prefix=c",
         None),
        ("GET", f"/api/v1/posts/{root}", f"/api/v1/posts/{NOPE}", None),
        ("GET", f"/api/v1/posts/{reply}/thread", f"/api/v1/posts/{NOPE}/thread", None),
        ("GET", f"/api/v1/posts/{root}/revisions", f"/api/v1/posts/{NOPE}/revisions", None),
        ("POST", f"/api/v1/posts/{reply}/answer", f"/api/v1/posts/{NOPE}/answer", None),
        ("DELETE", f"/api/v1/posts/{reply}/answer", f"/api/v1/posts/{NOPE}/answer", None),
        ("PUT", f"/api/v1/posts/{root}/bookmark", f"/api/v1/posts/{NOPE}/bookmark", None),
        ("DELETE", f"/api/v1/posts/{root}/bookmark", f"/api/v1/posts/{NOPE}/bookmark", None),
        ("POST", f"/api/v1/posts/{root}/flags", f"/api/v1/posts/{NOPE}/flags", {"reason": "spam"}),
    ]
    before = f.counts()
    for method, hidden, missing, body in paths:
        _missing_like(client, scene.h["other"], method, hidden, missing, body)
    # moderation verbs: a moderator outside the channel cannot reach its posts either
    for verb in ("hide", "restore", "flags/dismiss"):
        _missing_like(client, scene.h["lone"], "POST", f"/api/v1/posts/{reply}/{verb}",
                      f"/api/v1/posts/{NOPE}/{verb}", {})
    assert f.counts() == before


def test_lists_counts_and_search_carry_no_trace_of_the_private_channel(client, scene):
    h = scene.h["other"]
    channels = ok(client.get("/api/v1/channels", headers=h))["items"]
    # the new secret post is counted nowhere; general's one unread post is the public one
    assert [(c["name"], c["unread"]) for c in channels] == [("general", 1)]
    for path in ("/api/v1/notifications", "/api/v1/bookmarks", f"/api/v1/channels/{scene.general.id}/posts",
                 f"/api/v1/users/lookup?channel_id={scene.general.id}&prefix="):
        text = _text(client.get(path, headers=h))
        assert SECRET not in text and "secret" not in text, path
    assert ok(client.get("/api/v1/notifications", headers=h))["items"] == []
    assert ok(client.get("/api/v1/bookmarks", headers=h))["items"] == []
    for q in (SECRET, "tag:roadmap", "is:answer", "in:#secret", f"{SECRET} OR chatter"):
        result = ok(client.get("/api/v1/search", query_string={"q": q}, headers=h))
        assert SECRET not in _text_of(result), q
        assert result["total"] == len(result["items"]) == sum(result["facets"]["kind"].values()) <= 1, q


def _text_of(payload) -> str:
    return json.dumps(payload).lower()


def test_the_moderation_queue_of_a_moderator_outside_the_channel_is_empty(client, scene):
    for status in ("flagged", "hidden"):
        assert ok(client.get(f"/api/v1/moderation?status={status}", headers=scene.h["lone"]))["items"] == []
    queue = ok(client.get("/api/v1/moderation", headers=scene.h["curator"]))["items"]
    assert [i["post"]["id"] for i in queue] == [scene.reply.id]  # a member moderator sees it


def test_the_members_still_see_all_of_it(client, scene):
    """The same paths work for a member: the outsider's 404s are about permission."""
    h = scene.h["curator"]
    assert "secret" in [c["name"] for c in ok(client.get("/api/v1/channels", headers=h))["items"]]
    thread = ok(client.get(f"/api/v1/posts/{scene.reply.id}/thread", headers=h))
    assert thread["root"]["answer_id"] == scene.reply.id and thread["replies"][0]["is_answer"]
    assert ok(client.get("/api/v1/search", query_string={"q": "is:answer"}, headers=h))["total"] == 1
    lookup = ok(client.get(f"/api/v1/users/lookup?channel_id={scene.secret.id}&prefix=", headers=h))["items"]
    assert [u["handle"] for u in lookup] == ["curator", "member"]  # not the removed outsider
    assert ok(client.get(f"/api/v1/posts/{scene.root.id}/revisions", headers=h))["items"]


def test_the_web_pages_show_an_outsider_nothing_of_the_private_channel(client, scene, login):
    from sqlalchemy import select

    from cairn.extensions import db
    from cairn.stream.models import Notification

    old_notes = db.session.scalars(select(Notification.id).where(Notification.user_id == scene.p.other.id)).all()
    assert old_notes  # the mention from when they were a member
    login(scene.p.other)
    for path in (f"/channels/{scene.secret.id}", f"/posts/{scene.root.id}", f"/posts/{scene.reply.id}/revisions",
                 f"/posts/{scene.root.id}/in-context", *(f"/notifications/{n}" for n in old_notes)):
        assert client.get(path).status_code == 404, path
    for path in ("/channels", "/saved", "/notifications", f"/channels/{scene.general.id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert SECRET not in page.get_data(as_text=True).lower(), path
        assert ">secret<" not in page.get_data(as_text=True), path
    for q in (SECRET, "tag:roadmap", "is:answer"):
        page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
        assert "<strong>0</strong> results" in page and 'class="result ' not in page, q


def test_the_web_moderation_queue_of_an_outside_moderator_shows_nothing(client, scene, login):
    login(scene.lone_curator)
    page = client.get("/moderation").get_data(as_text=True)
    assert SECRET not in page.lower() and "No open flags" in page
