"""Live updates: stream changes reach open pages over Server-Sent Events, after they commit.

An action calls ``publish(session, channel_id, kind, post_id=..., parent_id=...)`` inside its
transaction; the event waits in ``session.info`` and ``Database.transaction`` hands it to the
broker only after the commit (a rolled-back change publishes nothing). Events carry ids and a
kind, never content: the browser fetches the post through the normal, permission-checked routes.

The broker (cairn.live_brokers) is in-process without ``redis_url`` and Redis pub/sub with it,
so events reach the streams of every web process. A reconnecting browser (``Last-Event-ID``)
gets what it missed from the broker's short history, or is told to ``resync``.

Each open stream holds one web-server thread (dev server: threaded; gunicorn: gthread), and no
database connection: at most ``live_max_streams`` streams per process, then 503.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask, Request, Response, current_app
from sqlalchemy.orm import Session

from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import NotFound, Unavailable
from cairn.extensions import db
from cairn.live_brokers import Broker, LiveEvent, LocalBroker, RedisBroker, Subscription

log = logging.getLogger(__name__)

PENDING_KEY = "cairn.live.pending"
KINDS = frozenset({"post.created", "post.edited", "post.deleted", "reaction.changed"})
RESYNC = b"event: resync\ndata: {}\n\n"


# --- recording in the transaction ------------------------------------------------------------

def publish(session: Session, channel_id: int, kind: str, **ids: int | None) -> None:
    """Record an event in the caller's transaction; it is sent only if the transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown live event kind {kind!r}")
    if any(v is not None and not isinstance(v, int) for v in ids.values()):
        raise ValueError("live events carry ids only")
    session.info.setdefault(PENDING_KEY, []).append((channel_id, kind, ids))


def flush_after_commit(session: Session) -> None:
    """Registered with the Database in create_app. A broker failure loses the live update, never
    the change itself (it is committed; the page shows it on the next load)."""
    pending = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    broker = current_app.extensions["cairn.live"]
    for channel_id, kind, ids in pending:
        try:
            broker.publish(channel_id, kind, ids)
        except Exception as exc:  # noqa: BLE001  (any broker failure: the commit stands)
            log.warning("live event %s for channel %s not published: %s", kind, channel_id, exc)


def discard_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def make_broker(settings: dict[str, Any]) -> Broker:
    if settings.get("redis_url"):
        return RedisBroker(settings["redis_url"], settings.get("live_channel_prefix") or "cairn:")
    return LocalBroker()


def init_app(app: Flask) -> None:
    """Bind a broker (no connection is made until the first publish or stream)."""
    settings = app.config["CAIRN"]
    app.extensions["cairn.live"] = make_broker(settings)
    app.extensions["cairn.live.slots"] = threading.BoundedSemaphore(int(settings["live_max_streams"]))
    app.jinja_env.globals["live_event_id"] = current_event_id


def current_event_id(channel_id: int) -> str:
    """Where a page rendered now stands in the channel's events: its stream starts from there,
    so nothing published between the render and the stream's start is missed. Empty (no replay)
    when the broker cannot say."""
    try:
        return broker().current_id(channel_id)
    except Exception as exc:  # noqa: BLE001  (Redis down: the page still renders)
        log.warning("live: no event id for channel %s: %s", channel_id, exc)
        return ""


def broker() -> Broker:
    return current_app.extensions["cairn.live"]


# --- the Server-Sent Events stream -----------------------------------------------------------

@dataclass(frozen=True)
class StreamSettings:
    heartbeat: float
    max_seconds: float
    still_allowed: Callable[[], bool]


def event_stream(user: User, channel_id: int, last_event_id: str | None) -> Response:
    """A ``text/event-stream`` response for one channel. The caller has checked access with
    ``permissions.access_channel``; it is checked again at every heartbeat (a member removed
    from a private channel, or a deactivated user, loses the stream)."""
    app = current_app._get_current_object()
    cfg = app.config["CAIRN"]
    slots: threading.BoundedSemaphore = app.extensions["cairn.live.slots"]
    if not slots.acquire(blocking=False):
        raise Unavailable("Too many live connections on this server; the page retries shortly.")
    try:
        live = broker()
        sub = live.subscribe(channel_id)
        backlog = live.replay(channel_id, last_event_id) if last_event_id else []
    except Exception:
        slots.release()
        raise
    settings = StreamSettings(float(cfg["live_heartbeat_seconds"]), float(cfg["live_stream_max_seconds"]),
                              partial(_may_still_read, app, user.id, channel_id))
    released = threading.Lock()

    def release() -> None:  # the WSGI server calls it when the stream ends or the client has gone
        if released.acquire(blocking=False):
            sub.close()
            slots.release()

    response = Response(_events(sub, backlog, settings, release), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
    response.call_on_close(release)
    return response


def last_event_id(request: Request) -> str | None:
    """The browser's ``Last-Event-ID`` header (automatic reconnects), or ``?last_event_id=``
    (a page that opens a new EventSource after an error passes it by hand)."""
    value = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    return value[:64] if value else None


def _may_still_read(app: Flask, user_id: int, channel_id: int) -> bool:
    # the stream runs after the request: a short app context of its own, closed at once
    with app.app_context():
        user = db.session.get(User, user_id)
        try:
            return user is not None and user.is_active and bool(perm.access_channel(user, channel_id))
        except NotFound:
            return False


def _events(sub: Subscription, backlog: list[LiveEvent] | None, settings: StreamSettings,
            release: Callable[[], None]) -> Iterator[bytes]:
    try:
        yield from _event_lines(sub, backlog, settings)
    finally:  # ended, or closed by the server (client gone); a stream never started is released on close
        release()


def _event_lines(sub: Subscription, backlog: list[LiveEvent] | None, settings: StreamSettings) -> Iterator[bytes]:
    yield b"retry: 3000\n: connected\n\n"
    replayed_up_to = 0
    if backlog is None:
        yield RESYNC
    else:
        for event in backlog:
            replayed_up_to = event.seq
            yield event.to_sse()
    deadline = time.monotonic() + settings.max_seconds
    next_beat = time.monotonic() + settings.heartbeat
    while True:
        now = time.monotonic()
        if now >= deadline:
            return  # the browser reconnects with Last-Event-ID (and long connections get spread)
        if now >= next_beat:  # on a busy channel too: access is re-checked at every beat
            if not settings.still_allowed():
                return
            yield b": heartbeat\n\n"  # also how a vanished client is noticed: the write fails
            next_beat = time.monotonic() + settings.heartbeat
            continue
        event = sub.get(timeout=min(next_beat, deadline) - now)
        if sub.overflowed:
            yield RESYNC
            return
        if event is not None and event.seq > replayed_up_to:  # subscribed before the replay: no doubles
            replayed_up_to = 0
            yield event.to_sse()
