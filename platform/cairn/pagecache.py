"""Whole rendered pages, kept per process for their session until anything in the database changes.

A kept page is keyed by its session (user id and CSRF token), its URL and the *content version*:
a number that every committed write to the database moves on, whichever process made it (web,
worker, command line). The page's view ran the permission layer and every query for that reader
at that version; while the version stands, the same request would render the same page. Any post,
reaction, read marker, membership, role, deactivation or article anywhere moves it, so a stale
page, or a page a reader lost the right to see, is never served. Only reads between writes are
saved: that is most of a chat's page views, and none of a write-heavy minute's.

The version is read first, before the view's first query (and before the user is loaded), and
moved on after the commit, when the connection goes back to the pool: a page is never kept under
a version that a write it does not show had already moved past.

A hit is served before the user is loaded, from the session alone, so it costs no database query:
- only a session that Flask-Login would accept as is (a user id, and the identifier its session
  protection checks), with no flashed message waiting, is served from the cache;
- a deactivated user, or a changed role or membership, is a write: it moves the version on, and
  the next request runs the view, which loads the user again.

The page holds the session's CSRF token as it was signed when the page was rendered (tokens do not
expire: WTF_CSRF_TIME_LIMIT is None), which is why pages are kept per session, not per user.
A browser that accepts gzip gets the page compressed once, when it was kept (157 kB -> ~8 kB).

Where the version lives: a Redis key with ``redis_url`` (any number of processes and hosts), read
through Redis's client-side caching, so a hit asks Redis nothing (``RedisVersion``); else a file in
the instance folder that grows by one byte per committed write (one machine, the embedded
default). A version that cannot be read means no caching, and the process drops the pages it
kept. A write whose version could not be moved on (Redis unreachable) is owed: the process moves
it on first when it reaches Redis again. ``page_cache_seconds`` bounds the rest: a process that
never reaches Redis again with its debt, and writes made outside Cairn (psql).
"""

from __future__ import annotations

import functools
import gzip
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import redis
from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import event

from cairn.extensions import login_manager

log = logging.getLogger(__name__)

# statements that change nothing: any other one marks its transaction as a write (DDL included)
_READ_ONLY = re.compile(r"[\s(]*(SELECT|PRAGMA|SET|SHOW|EXPLAIN|BEGIN|SAVEPOINT|RELEASE|ROLLBACK)\b", re.IGNORECASE)
_WROTE, _COMMITTED = "cairn.pagecache.wrote", "cairn.pagecache.committed"
_KEPT_HEADERS = ("Content-Type", "Cache-Control")
_CSRF_KEY = "csrf_token"  # where Flask-WTF keeps the session's raw token (WTF_CSRF_FIELD_NAME)


class Version(Protocol):
    def read(self) -> str: ...

    def bump(self) -> None: ...


class FileVersion:
    """A file that grows by one byte per committed write: its size (with its inode) is the version.
    Appends are atomic on a local file system, so processes on one machine never lose one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)

    def read(self) -> str:
        st = os.stat(self.path)
        return f"{st.st_ino}:{st.st_size}"

    def bump(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)


class VersionUnavailable(Exception):
    """The version store failed a moment ago: not asked again yet."""


class RedisVersion:
    """A Redis counter, read through Redis's client-side caching (CLIENT TRACKING, broadcast mode):
    Redis pushes an invalidation on this process's tracking connection whenever the key changes,
    in the same turn of its event loop as the reply to the INCR that changed it, so before the
    writer can even answer its request. A read is a non-blocking look at that connection for
    pushes, and a GET only after one: a page hit asks Redis nothing. A missing key (Redis
    restarted: it may keep nothing) starts again from a random number, so an earlier version
    does not come back.

    When Redis fails, it is left alone for ``retry_after`` seconds (no page waits on a dead
    connection), and a write that could not move the version on is owed: the first call that
    reaches Redis again moves it on before anything else."""

    def __init__(self, url: str, key: str, retry_after: float = 2.0) -> None:
        self._pool = redis.ConnectionPool.from_url(url, protocol=3, socket_timeout=1, socket_connect_timeout=1)
        self._redis = redis.Redis(connection_pool=self._pool)
        self.key, self.retry_after = key, retry_after
        self._lock = threading.Lock()
        self._tracking: redis.connection.AbstractConnection | None = None
        self._value: str | None = None
        self._owed = False
        self._down_until = 0.0

    def read(self) -> str:
        with self._lock:
            self._check_up()
            try:
                if self._owed:
                    self._move_on()
                return self._read()
            except Exception:
                self._reset()
                self._down_until = time.monotonic() + self.retry_after
                raise

    def bump(self) -> None:
        try:
            self._check_up()
        except VersionUnavailable:
            self._owed = True
            return  # (the failure that began the pause was reported)
        try:
            self._move_on()
        except Exception:
            self._owed = True
            self._down_until = time.monotonic() + self.retry_after
            raise

    def _check_up(self) -> None:
        if time.monotonic() < self._down_until:
            raise VersionUnavailable(f"Redis failed less than {self.retry_after} s ago")

    def _move_on(self) -> None:
        self._owed = False  # cleared first: a bump that fails meanwhile owes again after it
        pipe = self._redis.pipeline()
        pipe.set(self.key, secrets.randbits(48), nx=True)
        pipe.incr(self.key)
        pipe.execute()

    def _read(self) -> str:
        conn = self._tracking
        if conn is None:
            conn = self._pool.make_connection()
            conn.connect()
            conn.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.key)
            conn.read_response()
            self._tracking, self._value = conn, None
        while conn.can_read(timeout=0):  # only invalidations come unasked on this connection
            conn.read_response(push_request=True)
            self._value = None
        for _ in range(2):
            if self._value is not None:
                return self._value
            conn.send_command("GET", self.key)
            value = conn.read_response()  # an invalidation pushed before it is read and passed over
            if value is None:  # a new or restarted Redis
                self._redis.set(self.key, secrets.randbits(48), nx=True)
            else:
                self._value = value.decode() if isinstance(value, bytes) else str(value)
        if self._value is None:
            raise redis.RedisError(f"{self.key} vanished as it was set")
        return self._value

    def _reset(self) -> None:
        if self._tracking is not None:
            self._tracking.disconnect()
        self._tracking = self._value = None


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes  # the same, for browsers that accept gzip (all do): compressed once, when kept
    headers: tuple[tuple[str, str], ...]
    expires: float

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped)


class PageCache:
    """A thread-safe LRU of pages, bounded in bytes, each kept at most ``seconds``."""

    def __init__(self, max_bytes: int, seconds: float) -> None:
        self.max_bytes, self.seconds = max_bytes, seconds
        self._items: OrderedDict[tuple, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Page | None:
        with self._lock:
            page = self._items.get(key)
            if page is not None and page.expires < time.monotonic():
                self._drop(key)
                page = None
            if page is not None:
                self._items.move_to_end(key)
            return page

    def put(self, key: tuple, body: bytes, headers: tuple[tuple[str, str], ...]) -> Page | None:
        page = Page(body, gzip.compress(body, compresslevel=6, mtime=0), headers, time.monotonic() + self.seconds)
        if page.size > self.max_bytes:
            return None
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))
        return page

    def _drop(self, key: tuple) -> None:
        self._bytes -= self._items.pop(key).size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def init_app(app: Flask) -> None:
    settings = app.config["CAIRN"]
    if settings.get("redis_url"):
        version: Version = RedisVersion(settings["redis_url"], settings.get("live_channel_prefix", "cairn:")
                                        + "content-version")
    else:
        version = FileVersion(Path(settings["instance"]) / "content-version")
    app.extensions["cairn.version"] = version
    app.extensions["cairn.pages"] = PageCache(int(float(settings.get("page_cache_mb", 64)) * 1_000_000),
                                              float(settings.get("page_cache_seconds", 300)))
    _watch_writes(app.extensions["cairn.engine"], version)
    app.before_request(serve_kept_page)  # create_app calls this before the other extensions add theirs


def _watch_writes(engine, version: Version) -> None:
    """Move the version on after each committed transaction that wrote."""

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        if not _READ_ONLY.match(statement):
            conn.info[_WROTE] = True

    def committing(conn) -> None:
        info = _info(conn)
        if info is not None and info.pop(_WROTE, False):
            info[_COMMITTED] = True

    def rolled_back(conn) -> None:
        info = _info(conn)
        if info is not None:
            info.pop(_WROTE, None)

    def returned(dbapi_connection, record) -> None:  # after the commit: the data is visible now
        if record is not None and record.info.pop(_COMMITTED, False):
            try:
                version.bump()
            except Exception as exc:  # noqa: BLE001  (the write stands; pages age out)
                log.warning("content version not moved on: %s", exc)

    event.listen(engine, "after_cursor_execute", executed)
    event.listen(engine, "commit", committing)
    event.listen(engine, "rollback", rolled_back)
    event.listen(engine.pool, "checkin", returned)


def _info(conn) -> dict | None:
    """The connection's info, or None once its database connection was lost (it is invalidated:
    reading ``info`` would raise, and nothing on it was committed)."""
    return None if conn.invalidated else conn.info


def content_version() -> str | None:
    """The current version, or None: then nothing is served from the cache or kept, and the
    pages kept so far are dropped (a write made while the version could not be read may not have
    moved it on)."""
    try:
        return current_app.extensions["cairn.version"].read()
    except VersionUnavailable:
        pass
    except Exception as exc:  # noqa: BLE001  (no version: render, keep nothing)
        log.warning("content version unreadable: %s", exc)
    current_app.extensions["cairn.pages"].clear()
    return None


def _key() -> tuple | None:
    """The cache key of this request, or None when it must run the view. A page is kept per
    session (its CSRF token, which the page holds, is the session's), not only per user."""
    pages: PageCache = current_app.extensions["cairn.pages"]
    if request.method != "GET" or pages.max_bytes <= 0 or pages.seconds <= 0:
        return None  # (turned off: nothing is compressed and kept only to expire unread)
    user_id, token = session.get("_user_id"), session.get(_CSRF_KEY)
    if (user_id is None or token is None or "_flashes" in session
            or session.get("_id") != login_manager._session_identifier_generator()):
        return None  # anonymous, new, a flash to show, or a session Flask-Login would mark or refuse
    version = content_version()
    if version is None:
        return None
    return str(user_id), token, version, request.host, request.script_root, request.full_path


def _send(page: Page) -> Response:
    response = Response(headers=list(page.headers))
    if request.accept_encodings["gzip"] > 0:  # (its quality: "gzip;q=0" refuses it)
        response.set_data(page.gzipped)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response.set_data(page.body)
    response.vary.add("Accept-Encoding")
    return response


def serve_kept_page() -> Response | None:
    """Registered as the app's first ``before_request``: a kept page of a ``cached_page`` view is
    served before the other hooks (rate limits: only per-route ones, checked by their decorators;
    CSRF: not checked on GET) and before the user is loaded. Otherwise the request goes on to
    the view with the key that was read here, before its first query."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "cairn_cached_page", False):
        return None
    key = g.cairn_page_key = _key()
    page = current_app.extensions["cairn.pages"].get(key) if key is not None else None
    if page is None:
        return None
    response = _send(page)
    response.headers["X-Cairn-Page"] = "cached"
    return response


def cached_page(view: Callable) -> Callable:
    """Keep the view's page until something changes (``serve_kept_page`` serves it again); put it
    above the view's ``login_required``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = g.get("cairn_page_key")
        response = current_app.make_response(view(*args, **kwargs))
        if (key is not None and response.status_code == 200 and response.mimetype == "text/html"
                and not session.modified and "Set-Cookie" not in response.headers):
            headers = tuple((k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS)
            page = current_app.extensions["cairn.pages"].put(key, response.get_data(), headers)
            if page is not None:
                return _send(page)
        return response

    wrapper.cairn_cached_page = True  # type: ignore[attr-defined]
    return wrapper
