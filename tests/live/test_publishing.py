"""Stream actions publish live events, only after their transaction commits, with ids only."""

from __future__ import annotations

import pytest
import redis

from cairn import live
from cairn.errors import NotFound
from cairn.extensions import db
from cairn.live_brokers import RedisBroker
from cairn.stream import actions
from tests import factories as f
from tests.conftest import make_app
from tests.live.conftest import REDIS_URL
from tests.live.test_brokers import drain


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other,))


def test_a_new_post_is_published_after_it_commits(people, general):
    sub = live.broker().subscribe(general.id)
    post = f.post(people.member, general, "Where are the release notes?")
    [event] = drain(sub)
    assert (event.kind, event.channel_id, event.data) == ("post.created", general.id,
                                                         {"post_id": post.id, "parent_id": None})


def test_replies_edits_deletions_and_reactions_publish_their_kinds(people, general):
    root = f.post(people.member, general, "Question")
    sub = live.broker().subscribe(general.id)
    reply = f.post(people.other, general, "Answer", parent=root)
    actions.edit_post(people.other, reply.id, "A better answer")
    actions.add_reaction(people.member, reply.id, "👍")
    actions.remove_reaction(people.member, reply.id, "👍")
    actions.delete_post(people.other, reply.id)
    events = drain(sub)
    assert [e.kind for e in events] == ["post.created", "post.edited", "reaction.changed",
                                        "reaction.changed", "post.deleted"]
    assert all(e.data == {"post_id": reply.id, "parent_id": root.id} for e in events)
    assert [e.seq for e in events] == sorted(e.seq for e in events)


def test_an_event_waits_for_the_commit_and_is_dropped_on_rollback(people, general):
    sub = live.broker().subscribe(general.id)
    with pytest.raises(RuntimeError), db.transaction() as s:
        live.publish(s, general.id, "post.created", post_id=1, parent_id=None)
        assert sub.get(0.05) is None  # not before the commit
        raise RuntimeError("the change fails after the event was recorded")
    assert sub.get(0.05) is None
    with db.transaction() as s:  # the next transaction does not inherit the dropped event
        pass
    assert sub.get(0.05) is None


def test_a_refused_action_publishes_nothing(people):
    secret = f.channel(people.member, "secret", private=True)
    sub = live.broker().subscribe(secret.id)
    with pytest.raises(NotFound):
        actions.create_post(people.other, secret.id, "let me in")
    assert sub.get(0.05) is None


def test_events_carry_ids_and_never_content(people, general):
    sub = live.broker().subscribe(general.id)
    f.post(people.member, general, "The launch code is hunter2")
    wire = drain(sub)[0].to_sse().decode()
    assert "hunter2" not in wire and "launch" not in wire
    with db.transaction() as s, pytest.raises(ValueError):
        live.publish(s, general.id, "post.created", post_id=1, body="text")
    with db.transaction() as s, pytest.raises(ValueError):
        live.publish(s, general.id, "post.renamed", post_id=1)


def test_an_unreachable_broker_loses_the_live_update_but_never_the_post(people, general, monkeypatch):
    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(live.broker(), "publish", down)
    post = f.post(people.member, general, "Saved even when Redis is down")
    assert db.session.get(type(post), post.id) is not None


def test_with_redis_url_the_app_publishes_through_redis(migrated, tmp_path, redis_prefix, people, general):
    """A second app on the same database, configured like production (redis_url set)."""
    redis_app = make_app(migrated, tmp_path / "redis-app", redis_url=REDIS_URL, live_channel_prefix=redis_prefix)
    raw = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    raw.subscribe(f"{redis_prefix}channel:{general.id}")
    try:
        raw.get_message(timeout=1)
        with redis_app.app_context():
            assert isinstance(live.broker(), RedisBroker)
            post = actions.create_post(people.member, general.id, "Through Redis")
            db.session.remove()
        message = raw.get_message(timeout=3)
        assert message is not None
        assert f'"post_id":{post.id}'.encode() in message["data"]
    finally:
        raw.close()
        with redis_app.app_context():
            redis_app.extensions["cairn.live"].close()
            db.engine.dispose()


def test_moderation_and_accepted_answers_refresh_the_posts_on_open_pages(people, general):
    from cairn.stream import moderation, signals

    root = f.post(people.member, general, "How do I rotate the key?")
    reply = f.post(people.other, general, "Run the rotate script", parent=root)
    sub = live.broker().subscribe(general.id)
    moderation.hide_post(people.curator, reply.id, "off topic")
    moderation.restore_post(people.curator, reply.id)
    signals.mark_answer(people.member, reply.id)
    signals.unmark_answer(people.member, reply.id)
    events = [(e.kind, e.data["post_id"]) for e in drain(sub)]
    assert events == [("post.edited", reply.id), ("post.edited", reply.id),
                      ("post.edited", root.id), ("post.edited", reply.id),
                      ("post.edited", root.id), ("post.edited", reply.id)]
