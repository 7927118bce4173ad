"""The curator's candidate queue: list it (open or dismissed), dismiss a candidate with a reason,
restore a dismissed one, and the reasons for a score in words for one viewer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from cairn import audit
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.curation.candidate_models import Candidate
from cairn.errors import Conflict, Invalid, NotFound
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream.models import Channel
from cairn.text import plain_text

LISTED_STATUSES = ("open", "dismissed")  # promoted candidates are the promotions' list


def list_candidates(actor: User, cursor: str | None = None, limit: int = 50,
                    status: str = "open") -> tuple[list[Candidate], str | None]:
    """Candidates of posts ``actor`` may read (curators only): the queue (``open``), best first,
    or what curators dismissed (``dismissed``), most recently dismissed first: a curator looks
    there for what was just taken off the queue, by whom and why, not for the best score."""
    perm.require_curator(actor)
    if status not in LISTED_STATUSES:
        raise Invalid("Unknown candidate status.", {"status": [" or ".join(LISTED_STATUSES)]})
    key = _sort_key(status)
    q = (select(Candidate).where(Candidate.status == status, perm.visible_candidates_clause(actor))
         .order_by(key.desc(), Candidate.id.desc()).limit(limit + 1))
    after = _after(cursor, status)
    if after:
        value, last_id = after
        q = q.where(or_(key < value, and_(key == value, Candidate.id < last_id)))
    items = list(db.session.scalars(q))
    nxt = _cursor_at(items[limit - 1], status) if len(items) > limit else None
    return items[:limit], nxt


def _sort_key(status: str) -> InstrumentedAttribute:
    """What a list is ordered by, newest row first among equals (so pages neither skip nor repeat).
    A dismissed candidate always has its ``dismissed_at`` (restoring clears both)."""
    return Candidate.dismissed_at if status == "dismissed" else Candidate.score


def _cursor_at(candidate: Candidate, status: str) -> str:
    if status == "dismissed":
        return encode_cursor(candidate.dismissed_at.isoformat(), candidate.id)
    return encode_cursor(candidate.score, candidate.id)


def _after(cursor: str | None, status: str) -> tuple[Any, int] | None:
    """The (sort value, id) a page ends at, from its cursor; a cursor of the other list is a 400."""
    if status != "dismissed":
        after = decode_cursor(cursor, (float, int))
        return (after[0], after[1]) if after else None
    after = decode_cursor(cursor, (str, int))
    if not after:
        return None
    try:
        return datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise Invalid("Malformed cursor.", {"cursor": ["not a cursor this server issued"]}) from None


def access_candidate(actor: User, candidate_id: int) -> Candidate:
    perm.require_curator(actor)
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or not perm.can_see_candidate(actor, candidate):
        raise NotFound("Candidate not found.")
    return candidate


def dismiss_candidate(actor: User, candidate_id: int, reason: str) -> Candidate:
    """A curator takes a candidate off the queue; it stays off unless its thread grows noticeably."""
    reason = (reason or "").strip()
    with db.transaction() as s:
        candidate = access_candidate(actor, candidate_id)
        if not reason:
            raise Invalid("Say why the candidate is dismissed.", {"reason": ["must not be empty"]})
        if candidate.status == "dismissed":
            return candidate  # a second click changes nothing
        if candidate.status != "open":
            raise Conflict(f"A {candidate.status} candidate cannot be dismissed.")
        candidate.status, candidate.dismissed_by_id, candidate.dismissed_at = "dismissed", actor.id, utcnow()
        candidate.dismissed_reason, candidate.dismissed_activity = reason[:500], candidate.activity
        audit.record(s, actor.id, "candidate.dismiss", f"candidate:{candidate.id}", post_id=candidate.post_id,
                     reason=reason[:500])
    return candidate


def restore_candidate(actor: User, candidate_id: int) -> Candidate:
    """A curator puts a dismissed candidate back in the queue (the dismissal stays in the audit log)."""
    with db.transaction() as s:
        candidate = access_candidate(actor, candidate_id)
        if candidate.status == "open":
            return candidate  # a second click changes nothing
        if candidate.status != "dismissed":
            raise Conflict(f"A {candidate.status} candidate cannot be restored.")
        audit.record(s, actor.id, "candidate.restore", f"candidate:{candidate.id}", post_id=candidate.post_id,
                     dismissed_by_id=candidate.dismissed_by_id, dismissed_reason=candidate.dismissed_reason)
        candidate.status = "open"
        clear_dismissal(candidate)
    return candidate


def clear_dismissal(candidate: Candidate) -> None:
    """Back in the queue: it no longer counts as dismissed (the audit log keeps the dismissal)."""
    candidate.dismissed_by_id = candidate.dismissed_at = candidate.dismissed_reason = None
    candidate.dismissed_activity = None


# --- reasons in words, for one viewer --------------------------------------------------------------

def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def describe(reason: dict[str, Any], readable_channels: set[int]) -> str:
    """One reason as a curator reads it; channels the viewer may not read are not named."""
    signal, value = reason["signal"], reason["value"]
    if signal == "reactions":
        return _plural(value, "reaction")
    if signal == "replies":
        return _plural(value, "reply", "replies")
    if signal == "bookmarks":
        return _plural(value, "bookmark")
    if signal == "views":
        return _plural(value, "view")
    if signal == "answer":
        return "marked as answer"
    if signal == "similar":
        named = [f"{_times(c['count'])} in #{c['name']}" for c in reason.get("channels", [])
                 if c["id"] in readable_channels]
        hidden = sum(c["count"] for c in reason.get("channels", []) if c["id"] not in readable_channels)
        if hidden:
            named.append(f"{_times(hidden)} elsewhere")
        return "similar question asked " + ", ".join(named)
    if signal == "failed_searches":
        queries = ", ".join(f"'{q}'" for q in reason.get("queries", []))
        return f"{_plural(value, 'search', 'searches')} found nothing useful" + (f": {queries}" if queries else "")
    if signal == "decay":
        when = "today" if value == 0 else f"{_plural(value, 'day')} ago"
        return f"last active {when} (score ×{reason.get('factor', 1)})"
    return f"{signal}: {value}"


def readable_channel_ids(actor: User) -> set[int]:
    return set(db.session.scalars(select(Channel.id).where(perm.visible_channels_clause(actor))))


def reasons_for(actor: User, candidate: Candidate, readable: set[int] | None = None) -> list[dict[str, Any]]:
    """The candidate's reasons with their words, minus what ``actor`` may not know (the channels
    of similar questions they cannot read are counted, not named)."""
    readable = readable_channel_ids(actor) if readable is None else readable
    out = []
    for reason in candidate.reasons or []:
        item = {"signal": reason["signal"], "value": reason["value"], "points": reason["points"],
                "text": describe(reason, readable)}
        if reason["signal"] == "similar":
            item["channels"] = [c if c["id"] in readable else {"id": None, "name": None, "count": c["count"]}
                                for c in reason.get("channels", [])]
        if reason["signal"] == "failed_searches":
            item["queries"] = reason.get("queries", [])
        if reason["signal"] == "decay":
            item["factor"] = reason.get("factor")
        out.append(item)
    return out


def excerpt(candidate: Candidate, limit: int = 240) -> str:
    return plain_text(candidate.post.body, limit)
