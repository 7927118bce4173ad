"""Small builders for tests: each goes through the real domain action, so rows look real.

Call them inside the ``app`` fixture's application context.
"""

from __future__ import annotations

from sqlalchemy import func, select

from cairn.auth import actions as auth
from cairn.auth.models import Group, User
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.kb.models import Article, Space
from cairn.stream import actions as stream
from cairn.stream.models import Channel, Post

PASSWORD = "correct-horse-battery"


def user(email: str, role: str = "member") -> User:
    return auth.create_user(email, PASSWORD, email.split("@")[0].title(), role)


def group(name: str, *members: User) -> Group:
    g = auth.create_group(None, name)
    for m in members:
        auth.set_group_member(None, g.id, m.id, True)
    refresh(*members)
    return g


def add_to_group(user: User, g: Group) -> None:
    auth.set_group_member(None, g.id, user.id, True)
    refresh(user)


def refresh(*objs) -> None:
    """Reload rows (and their selectin relations) after another action changed them."""
    for obj in objs:
        db.session.refresh(obj)


def channel(actor: User, name: str, private: bool = False, members: tuple[User, ...] = ()) -> Channel:
    return stream.create_channel(actor, name, private=private, member_ids=[m.id for m in members])


def post(actor: User, chan: Channel, body: str, parent: Post | None = None) -> Post:
    return stream.create_post(actor, chan.id, body, parent.id if parent else None)


def space(actor: User, name: str, groups: tuple[Group, ...] = ()) -> Space:
    return kb.create_space(actor, name, group_ids=[g.id for g in groups])


def article(actor: User, sp: Space, title: str, body: str = "Body text.", groups: tuple[Group, ...] = (),
            status: str = "draft") -> Article:
    """An article written by ``actor``, created straight in ``status`` (the lifecycle is tested
    elsewhere) by the same function the promotion pipeline uses: one transaction, one index event."""
    if status == "draft":
        return kb.create_article(actor, sp.id, title, body, group_ids=[g.id for g in groups])
    with db.transaction() as s:
        return kb.draft_article(s, actor, s.get(Space, sp.id), title, body, group_ids=[g.id for g in groups],
                                status=status)


def set_status(a: Article, status: str) -> Article:
    from cairn import outbox

    with db.transaction() as s:
        row = s.get(Article, a.id)
        row.status = status
        outbox.emit(s, "index", doc="article", id=row.id)
    db.session.refresh(a)
    return a


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def counts() -> dict[str, int]:
    """Row counts of every table a write could touch: compare before/after a refused request."""
    from cairn import models

    db.session.rollback()  # see other connections' commits (PostgreSQL snapshots)
    return {name: count(getattr(models, name)) for name in models.__all__}


def each(cases, check) -> None:
    """Run ``check`` on every case inside one test (the app and its rows are the costly part of a
    test, a case is cheap) and report every failing case, not just the first."""
    failures = []
    for case in cases:
        try:
            check(*case) if isinstance(case, tuple) else check(case)
        except AssertionError as err:
            failures.append(f"{case!r}: {err}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)
