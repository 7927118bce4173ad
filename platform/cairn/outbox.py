"""Transactional outbox: side effects are recorded in the same transaction as the change.

An action calls ``emit(session, kind, ...)``; the event row commits (or rolls back) with the
change itself. After the commit, ``Database.transaction`` hands the new events to ``dispatch``,
which enqueues the Celery task registered for their kind. If the broker is down the event simply
stays unprocessed and ``redispatch_stale`` (a periodic task) sends it again later. Handlers are
idempotent, so a duplicate delivery is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from cairn.extensions import Base, commit_without_flush_wait, db
from cairn.models_base import UTCDateTime, utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "cairn.outbox.pending"


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class Handler:
    send: Callable[[int], Any]  # enqueues the task for one event id


_handlers: dict[str, Handler] = {}


def register(kind: str, send: Callable[[int], Any]) -> None:
    """Called by workers.tasks: events of ``kind`` are delivered by calling ``send(event_id)``."""
    _handlers[kind] = Handler(send)


def emit(session: Session, kind: str, **payload: Any) -> OutboxEvent:
    event = OutboxEvent(kind=kind, payload=payload)
    session.add(event)
    session.info.setdefault(PENDING_KEY, []).append(event)
    return event


def flush_after_commit(session: Session) -> None:
    """Registered with the Database in create_app: dispatch what the transaction emitted."""
    events = session.info.pop(PENDING_KEY, [])
    _send([(e.id, e.kind) for e in events if e.id is not None])  # no need to read them back


def discard_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def dispatch(event_ids: list[int]) -> int:
    """Enqueue each event's task; an unreachable broker leaves the event for redispatch."""
    if not event_ids:
        return 0
    return _send(db.session.execute(select(OutboxEvent.id, OutboxEvent.kind)
                                    .where(OutboxEvent.id.in_(event_ids))).all())


def _send(events: list[tuple[int, str]]) -> int:
    if not events:
        return 0
    sent: list[int] = []
    session = db.session()
    for event_id, kind in events:
        handler = _handlers.get(kind)
        if handler is None:
            log.error("no outbox handler for %r (event %s)", kind, event_id)
            continue
        try:
            handler.send(event_id)
        except Exception as exc:  # noqa: BLE001 - broker down: the periodic redispatch will retry
            log.warning("outbox event %s not dispatched: %s", event_id, exc)
            continue
        sent.append(event_id)
    # marked after every send, in one write: a write between two sends would hold SQLite's lock
    # while an eager task (tests) writes its event's processed_at on its own connection
    if sent:
        # a mark lost to a database crash only sends the event once more (handlers are idempotent)
        commit_without_flush_wait(session)
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(sent))
            .values(dispatched_at=utcnow(), attempts=OutboxEvent.attempts + 1)
        )
    session.commit()
    return len(sent)


MAX_RETRY_AFTER = 300  # seconds: the broker's visibility timeout redelivers unacked tasks anyway


def redispatch_stale(older_than_seconds: int) -> int:
    """Send again every unprocessed event not dispatched in its retry interval.

    The interval is ``older_than_seconds`` after the first dispatch and doubles with each one
    (at most MAX_RETRY_AFTER): an event still waiting behind a backlog in the broker is not sent
    again every few seconds, which would fill the queue with duplicates and slow the backlog down.
    """
    now = utcnow()
    rows = db.session.execute(
        select(OutboxEvent.id, OutboxEvent.dispatched_at, OutboxEvent.attempts)
        .where(OutboxEvent.processed_at.is_(None))
        .where((OutboxEvent.dispatched_at.is_(None))
               | (OutboxEvent.dispatched_at < now - timedelta(seconds=older_than_seconds)))
        .order_by(OutboxEvent.id)
        .limit(5000)
    ).all()
    db.session.commit()
    due = [event_id for event_id, dispatched_at, attempts in rows
           if dispatched_at is None or dispatched_at < now - timedelta(seconds=retry_after(older_than_seconds, attempts))]
    return dispatch(due)


def retry_after(base_seconds: int, attempts: int) -> int:
    """Seconds after the ``attempts``-th dispatch before an unprocessed event is sent again."""
    return min(base_seconds * 2 ** max(attempts - 1, 0), max(base_seconds, MAX_RETRY_AFTER))


def unprocessed(kind: str, first_id: int, limit: int | None) -> list[tuple[int, dict[str, Any]]]:
    """Event ``first_id`` (if still unprocessed) and the oldest other unprocessed events of
    ``kind``, for a queue's single consumer that applies them together (``mark_processed``)."""
    rows = db.session.execute(
        select(OutboxEvent.id, OutboxEvent.payload)
        .where(OutboxEvent.kind == kind, OutboxEvent.processed_at.is_(None))
        .order_by((OutboxEvent.id == first_id).desc(), OutboxEvent.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return [(event_id, dict(payload)) for event_id, payload in rows]


def mark_processed(event_ids: list[int]) -> None:
    for start in range(0, len(event_ids), 1000):  # SQLite caps the parameters of one statement
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(event_ids[start:start + 1000]))
                           .values(processed_at=utcnow()))
    db.session.commit()


@contextmanager
def handling(event_id: int) -> Iterator[dict[str, Any] | None]:
    """Yield an unprocessed event's payload (None when done already); mark it done on success."""
    event = db.session.get(OutboxEvent, event_id)
    if event is None or event.processed_at is not None:
        db.session.rollback()
        yield None
        return
    payload = dict(event.payload)
    db.session.rollback()
    yield payload
    db.session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event_id).values(processed_at=utcnow())
    )
    db.session.commit()


def pending_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
    ) or 0
