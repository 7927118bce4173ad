"""Revisions beyond saving: comparing any two (inline and side by side) and restoring an old one.

A restore never rewrites history: it saves the old revision's title, body and tags as a NEW
revision, checked against the current revision number like any edit (409 when stale).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from cairn import audit
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Forbidden
from cairn.extensions import db
from cairn.kb import actions
from cairn.kb.models import Article


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: ``kind`` is equal | replace | delete | insert; a side with
    no line (an insertion's left, a deletion's right) has number None and text ""."""

    kind: str
    old_number: int | None
    old_text: str
    new_number: int | None
    new_text: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "old_number": self.old_number, "old_text": self.old_text,
                "new_number": self.new_number, "new_text": self.new_text}


@dataclass(frozen=True)
class Comparison:
    a: int
    b: int
    old_title: str
    new_title: str
    unified: str
    rows: list[DiffRow]

    @property
    def title_changed(self) -> bool:
        return self.old_title != self.new_title

    @property
    def body_changed(self) -> bool:
        return any(row.kind != "equal" for row in self.rows)


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Pair the lines of two texts with difflib.SequenceMatcher's opcodes. Plain text only: the
    template escapes it."""
    left, right = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", i + 1, left[i], j + 1, right[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            i, j = i1 + k, j1 + k
            has_old, has_new = i < i2, j < j2
            kind = "replace" if has_old and has_new else ("delete" if has_old else "insert")
            rows.append(DiffRow(kind, i + 1 if has_old else None, left[i] if has_old else "",
                                j + 1 if has_new else None, right[j] if has_new else ""))
    return rows


def compare(actor: User, article_id: int, a: int, b: int) -> Comparison:
    """Any two revisions of an article the actor may read (NotFound otherwise)."""
    old, new = actions.revision(actor, article_id, a), actions.revision(actor, article_id, b)
    unified = actions.diff(actor, article_id, a, b)
    return Comparison(a, b, old.title, new.title, unified, side_by_side(old.body, new.body))


def restore_revision(actor: User, article_id: int, number: int, base_revision: int, note: str = "") -> Article:
    """Save revision ``number``'s content as a new revision; ``base_revision`` must be the latest."""
    with db.transaction() as s:
        article = perm.access_article(actor, article_id)
        old = actions.revision(actor, article_id, number)
        if not perm.can_restore_revision(actor, article):
            raise Forbidden("You cannot edit this article.")
        actions.check_base_revision(article, base_revision)
        actions.save_revision(s, actor, article, title=old.title, body=old.body, tags=old.tags.split(),
                              note=note or f"Restored revision {number}")
        audit.record(s, actor.id, "article.restore", f"article:{article.id}", restored=number,
                     revision=article.revision)
    return article
