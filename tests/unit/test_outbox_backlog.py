"""The outbox under a backlog: waiting index events are applied together, and an event still
queued in the broker is not sent again every few seconds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cairn import outbox, search
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.outbox import OutboxEvent
from cairn.stream.models import Post
from tests import factories as f
from workers.tasks.index import apply_index_event


def _waiting_posts(people, n: int) -> list[int]:
    """Posts whose index events never reached a worker (as when the broker was down)."""
    chan = f.channel(people.member, "ops")
    ids = []
    with db.transaction() as s:
        for i in range(n):
            post = Post(channel_id=chan.id, author_id=people.member.id, body=f"zephyrine cache note {i}",
                        html=f"<p>zephyrine cache note {i}</p>")
            s.add(post)
            s.flush()
            ids.append(post.id)
        s.add_all([OutboxEvent(kind="index", payload={"doc": "post", "id": i}) for i in ids])
    return ids


def test_one_index_task_applies_every_waiting_index_event_in_one_go(people):
    ids = _waiting_posts(people, 12)
    events = db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.processed_at.is_(None))
                                .order_by(OutboxEvent.id)).all()
    assert len(events) == 12 and {h["id"] for h in search.query(people.member, "zephyrine").items} == set()

    apply_index_event(events[5])  # any one of them

    assert db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.processed_at.is_(None))) is None
    found = search.query(people.member, "zephyrine", limit=50)
    assert {h["id"] for h in found.items} == set(ids)
    apply_index_event(events[0])  # its own task arrives later: nothing left to do, nothing breaks
    assert search.query(people.member, "zephyrine", limit=50).total == 12


def test_a_deleted_post_in_the_batch_leaves_the_index(people):
    ids = _waiting_posts(people, 3)
    first = db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.processed_at.is_(None))).first()
    apply_index_event(first)
    with db.transaction() as s:
        s.get(Post, ids[1]).deleted_at = utcnow()
        s.add(OutboxEvent(kind="index", payload={"doc": "post", "id": ids[1]}))
        s.add(OutboxEvent(kind="index", payload={"doc": "post", "id": ids[2]}))
    last = db.session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id.desc())).first()
    apply_index_event(last)
    assert {h["id"] for h in search.query(people.member, "zephyrine").items} == {ids[0], ids[2]}


def test_redispatch_waits_longer_after_each_dispatch_of_the_same_event(app):
    now = utcnow()
    with db.transaction() as s:
        # (seconds since the last dispatch, dispatches so far): due after 30 s, 60 s, 120 s ... 300 s
        cases = [(None, 0), (40, 1), (40, 2), (70, 2), (100, 3), (130, 3), (290, 9), (310, 9)]
        rows = [OutboxEvent(kind="nobody-handles-this", payload={}, attempts=attempts,
                            dispatched_at=None if ago is None else now - timedelta(seconds=ago))
                for ago, attempts in cases]
        s.add_all(rows)
    ids = [r.id for r in rows]
    due = {ids[i] for i in (0, 1, 3, 5, 7)}
    assert [outbox.retry_after(30, a) for a in (1, 2, 3, 4, 9)] == [30, 60, 120, 240, 300]

    sent: list[int] = []
    outbox.register("nobody-handles-this", sent.append)
    try:
        assert outbox.redispatch_stale(30) == len(due)
    finally:
        outbox._handlers.pop("nobody-handles-this", None)
    assert set(sent) == due


def test_a_reindex_settles_the_index_events_waiting_when_it_started(people):
    ids = _waiting_posts(people, 4)
    assert search.reindex() >= 4
    assert db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.processed_at.is_(None))) is None
    assert {h["id"] for h in search.query(people.member, "zephyrine").items} == set(ids)
