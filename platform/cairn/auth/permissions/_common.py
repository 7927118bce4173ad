"""What every area of the permission layer shares: the per-request memo of its list clauses,
the clause that matches nothing, and fetch-and-authorise for the ``access_*`` answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_app_context
from sqlalchemy import false
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User
from cairn.errors import NotFound
from cairn.extensions import db

T = TypeVar("T")


def reader_clause(build: Callable[[User], ColumnElement[bool]]) -> Callable[[User], ColumnElement[bool]]:
    """Memoise a ``*_clause(user)`` that reads nothing of the user but their id and role, for
    the current request (or task: the app context's ``g``).

    Such a clause is an SQL expression holding those two values (no rows, nothing that goes
    stale), yet building one costs up to ~1.5 ms of Python, and a page asks for the same ones
    several times (a channel page built the articles clause 3 times: promoted articles, unread
    notifications, open flags). Keyed by (clause, id, role): a new role gives a new clause at
    once. Kept per context, not per process: nothing is shared between gunicorn's threads (the
    worker segfaults once seen under bench/rps.py came from a lazyload option on the user's
    load, reverted; a per-process memo was not measured again since).
    """
    @functools.wraps(build)
    def clause(user: User) -> ColumnElement[bool]:
        if user.id is None or not has_app_context():  # nothing to key on, or nowhere to keep it
            return build(user)
        memo = g.setdefault("_reader_clauses", {})
        key = (build, user.id, user.role)
        found = memo.get(key)
        if found is None:
            found = memo[key] = build(user)
        return found

    return clause


def no_rows() -> ColumnElement[bool]:
    return false()


def fetch_readable(user: User, model: type[T], obj_id: int, can_read: Callable[[User, T], bool], what: str) -> T:
    """The ``model`` row ``obj_id`` when ``user`` may read it; ``NotFound`` when it is missing and
    when it is forbidden alike ("{what} not found.")."""
    obj = db.session.get(model, obj_id)
    if obj is None or not can_read(user, obj):
        raise NotFound(f"{what} not found.")
    return obj
