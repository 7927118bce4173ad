"""Knowledge candidates: threads and posts worth promoting, scored with the reasons why.

``score_candidates`` runs periodically (workers/tasks/candidates.py, `cairn score-candidates`).
It scores every thread root and standalone post active within ``WINDOW_DAYS`` on what the stream
says about its knowledge value — reactions, replies, an accepted answer, bookmarks, views — and
on demand for it: similar questions asked in other threads, and searches that helped nobody
(no hits, or none opened: cairn.search.gaps.gap_terms) while the thread holds every word they
asked for. Thread signals decay with the thread's last
activity, demand signals with each event's age (half-life ``HALF_LIFE_DAYS``).

Rows are upserted (one per root), so a re-run changes nothing but the scores. A dismissed
candidate stays dismissed until its thread grows noticeably (``grew_noticeably``); a promotion
or an article source that covers the thread marks it promoted, at once (the listeners below, in
the promotion's own transaction) and again at every run.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from cairn import audit
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.curation.candidate_models import Candidate
from cairn.curation.models import Promotion
from cairn.errors import Conflict, Invalid, NotFound
from cairn.extensions import db
from cairn.kb.models import ArticleSource
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.search.gaps import gap_terms
from cairn.stream.models import Bookmark, Channel, Post, Reaction, ThreadAnswer
from cairn.text import plain_text

HALF_LIFE_DAYS = 30.0
WINDOW_DAYS = 365          # threads quiet for longer are not scored (decay makes them ~0 anyway)
SEARCH_WINDOW_DAYS = 90    # failed searches older than this no longer count
MIN_SCORE = 2.0            # a new candidate needs at least this score to enter the queue
# points = weight * log2(1 + count): the first reactions say more than the fiftieth
WEIGHTS = {"reactions": 1.0, "replies": 1.5, "answer": 4.0, "bookmarks": 2.0, "views": 0.5,
           "similar": 2.5, "failed_searches": 2.0}
# similar questions: at least this many shared key terms, covering this share of the shorter one
SIMILAR_MIN_SHARED, SIMILAR_MIN_OVERLAP = 2, 0.6

WORD_RE = re.compile(r"[^\W_]+")
_STOP_TEXT = """
a about after again all also am an and any are as at be been before being but by can cannot could
did do does doing done for from get gets got had has have having he her here hi hello him his how i
if in into is it its just know like me more most my need no not now of on one or our out please
should so some still such than thanks thank that the their them then there these they this those
to too try trying up us use using very want was way we were what when where which while who why
will with would yes you your anyone someone something anything does doesn don isn
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
OPERATOR_RE = re.compile(r"^-|^\w+:")


# --- text: the key terms two questions or a query and a thread share ---------------------------

def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def key_terms(text: str) -> set[str]:
    """Lower-cased, crudely stemmed words of three letters or more, without stop words."""
    words = (w.lower() for w in WORD_RE.findall(text or ""))
    return {_stem(w) for w in words if len(w) >= 3 and w not in STOP_WORDS and not w.isdigit()}


def query_terms(query: str) -> set[str]:
    """The key terms of a search query, minus operators (in:#x, from:@y) and -exclusions."""
    kept = [part for part in (query or "").replace('"', " ").split() if not OPERATOR_RE.match(part)]
    return key_terms(" ".join(kept))


# --- scoring -------------------------------------------------------------------------------------

def decay(age: timedelta, half_life_days: float = HALF_LIFE_DAYS) -> float:
    return 0.5 ** (max(age.total_seconds(), 0.0) / 86400.0 / half_life_days)


def grew_noticeably(before: int | None, now: int) -> bool:
    """A dismissed thread comes back when its activity doubled and grew by at least five."""
    before = before or 0
    return now >= max(2 * before, before + 5)


@dataclass
class _Thread:
    root_id: int
    channel_id: int
    created_at: datetime
    body: str
    views: int
    last_activity: datetime = None  # type: ignore[assignment]
    replies: int = 0
    reactions: int = 0
    bookmarks: int = 0
    answer: bool = False
    terms: set[str] = field(default_factory=set)         # the question: the root alone
    all_terms: set[str] = field(default_factory=set)     # the root and its replies
    similar: list[tuple[int, int, float]] = field(default_factory=list)  # (root, channel, decayed)
    search_count: int = 0
    search_weight: float = 0.0                            # the searches' decayed count
    search_queries: dict[str, datetime] = field(default_factory=dict)  # query -> last asked


def _points(weight: float, amount: float) -> float:
    return weight * math.log2(1 + amount)


def _score(t: _Thread, now: datetime, channel_names: dict[int, str]) -> tuple[float, list[dict[str, Any]]]:
    factor = decay(now - t.last_activity)
    reasons: list[dict[str, Any]] = []
    for signal, value in (("reactions", t.reactions), ("replies", t.replies), ("bookmarks", t.bookmarks),
                          ("views", t.views)):
        if value:
            reasons.append({"signal": signal, "value": value,
                            "points": round(_points(WEIGHTS[signal], value) * factor, 3)})
    if t.answer:
        reasons.append({"signal": "answer", "value": 1, "points": round(WEIGHTS["answer"] * factor, 3)})
    if t.similar:
        weight = sum(w for _, _, w in t.similar)
        per_channel = Counter(channel for _, channel, _ in t.similar)
        reasons.append({"signal": "similar", "value": len(t.similar),
                        "points": round(_points(WEIGHTS["similar"], weight), 3),
                        "channels": [{"id": c, "name": channel_names.get(c, ""), "count": n}
                                     for c, n in per_channel.most_common()]})
    if t.search_count:
        queries = sorted(t.search_queries, key=lambda q: (t.search_queries[q], q), reverse=True)[:3]
        reasons.append({"signal": "failed_searches", "value": t.search_count,
                        "points": round(_points(WEIGHTS["failed_searches"], t.search_weight), 3),
                        "queries": queries})
    score = round(sum(r["points"] for r in reasons), 3)
    age_days = max((now - t.last_activity).days, 0)
    reasons.append({"signal": "decay", "value": age_days, "points": 0.0, "factor": round(factor, 3)})
    return score, reasons


def _threads(now: datetime) -> dict[int, _Thread]:
    """Every shown thread root active within the window, with its stream signals."""
    s = db.session
    shown = and_(Post.deleted_at.is_(None), Post.hidden_at.is_(None))
    threads = {row.id: _Thread(row.id, row.channel_id, row.created_at, row.body, row.view_count or 0,
                               last_activity=row.created_at)
               for row in s.execute(select(Post.id, Post.channel_id, Post.created_at, Post.body, Post.view_count)
                                    .where(Post.parent_id.is_(None), shown))}
    reply_bodies: dict[int, list[str]] = defaultdict(list)
    for parent_id, created_at, body in s.execute(
            select(Post.parent_id, Post.created_at, Post.body).where(Post.parent_id.is_not(None), shown)):
        t = threads.get(parent_id)
        if t is None:
            continue
        t.replies += 1
        t.last_activity = max(t.last_activity, created_at)
        reply_bodies[parent_id].append(body)
    cutoff = now - timedelta(days=WINDOW_DAYS)
    threads = {rid: t for rid, t in threads.items() if t.last_activity >= cutoff}
    thread_of = func.coalesce(Post.parent_id, Post.id)
    for model, attr in ((Reaction, "reactions"), (Bookmark, "bookmarks")):
        for root_id, n in s.execute(select(thread_of, func.count(model.id)).join(Post, Post.id == model.post_id)
                                    .where(shown).group_by(thread_of)):
            if root_id in threads:
                setattr(threads[root_id], attr, n)
    for (root_id,) in s.execute(select(ThreadAnswer.root_id).join(Post, Post.id == ThreadAnswer.answer_id)
                                .where(shown)):
        if root_id in threads:
            threads[root_id].answer = True
    for t in threads.values():
        t.terms = key_terms(t.body)
        t.all_terms = t.terms.union(*(key_terms(b) for b in reply_bodies.get(t.root_id, ())))
    return threads


def _find_similar(threads: dict[int, _Thread], now: datetime) -> None:
    """Pair questions that share most of their key terms (through an inverted index; terms in more
    than one question in fifty, and in more than twenty, say little about the subject and are left
    out: they also made the pairing quadratic)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for t in threads.values():
        for term in t.terms:
            postings[term].append(t.root_id)
    too_common = max(20, len(threads) // 50)
    weight = {rid: decay(now - t.created_at) for rid, t in threads.items()}
    for t in threads.values():
        shared: Counter[int] = Counter()
        for term in t.terms:
            ids = postings[term]
            if len(ids) <= too_common:
                shared.update(ids)
        for other_id, n in shared.items():
            if other_id == t.root_id or n < SIMILAR_MIN_SHARED:
                continue
            other = threads[other_id]
            if n / min(len(t.terms), len(other.terms)) >= SIMILAR_MIN_OVERLAP:
                t.similar.append((other_id, other.channel_id, weight[other_id]))


def _match_failed_searches(threads: dict[int, _Thread], now: datetime) -> None:
    """A search that found nothing, or nothing anyone opened, is demand for every thread holding
    all of its terms. Searches with the same terms are matched once; a query whose terms are in
    more than a twentieth of all threads names no subject and is left out."""
    postings: dict[str, set[int]] = defaultdict(set)
    for t in threads.values():
        for term in t.all_terms:
            postings[term].add(t.root_id)
    since = now - timedelta(days=SEARCH_WINDOW_DAYS)
    asked: dict[frozenset[str], list[tuple[str, datetime]]] = defaultdict(list)
    for query, created_at in gap_terms(since):  # no hits, or hits nobody opened
        terms = query_terms(query)
        if terms:
            asked[frozenset(terms)].append((" ".join(query.split())[:80], created_at))
    too_generic = max(25, len(threads) // 20)
    for terms, searches in asked.items():
        matching = set.intersection(*(postings.get(term, set()) for term in terms))
        if not matching or len(matching) > too_generic:
            continue
        weight = sum(decay(now - when) for _, when in searches)
        latest: dict[str, datetime] = {}
        for query, when in searches:
            latest[query] = max(when, latest.get(query, when))
        for root_id in matching:
            t = threads[root_id]
            t.search_count += len(searches)
            t.search_weight += weight
            for query, when in latest.items():
                t.search_queries[query] = max(when, t.search_queries.get(query, when))


UNCOVERING = ("failed", "rejected")  # promotions that leave their posts' threads to the queue


def _covering_post_ids(among: set[int] | None = None) -> set[int]:
    """Posts (of ``among``, or all) that a promotion (any but a failed or rejected one) or an
    article source covers. A rejected promotion's draft is archived but keeps its sources: they
    cover nothing."""
    q = (select(ArticleSource.post_id).outerjoin(Promotion, Promotion.id == ArticleSource.promotion_id)
         .where(or_(Promotion.id.is_(None), Promotion.status != "rejected")))
    post_ids: set[int] = set()
    for chunk in ([None] if among is None else _chunks(sorted(among), 500)):
        post_ids.update(db.session.scalars(q if chunk is None else q.where(ArticleSource.post_id.in_(chunk))))
    for ids in db.session.scalars(select(Promotion.post_ids).where(Promotion.status.not_in(UNCOVERING))):
        post_ids.update(ids or [])
    return post_ids if among is None else post_ids & among


def _roots_of(post_ids: set[int]) -> set[int]:
    roots = set()
    for chunk in _chunks(sorted(post_ids), 500):
        for pid, parent_id in db.session.execute(select(Post.id, Post.parent_id).where(Post.id.in_(chunk))):
            roots.add(parent_id or pid)
    return roots


def _covered_roots() -> set[int]:
    """Thread roots a promotion (any but a failed or rejected one) or an article source covers."""
    return _roots_of(_covering_post_ids())


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i: i + size]


def score_candidates(now: datetime | None = None) -> dict[str, Any]:
    """Score every active thread and upsert the candidate queue; safe to run again at any time.

    Returns counts: scored threads, candidates created, updated, reopened, promoted, removed."""
    started = time.perf_counter()
    now = now or utcnow()
    for attempt in (1, 2):
        try:
            result = _score_and_upsert(now)
            break
        except IntegrityError:
            # a concurrent run inserted the same roots first: its rows are there now, update them
            db.session.rollback()
            if attempt == 2:
                raise
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _score_and_upsert(now: datetime) -> dict[str, Any]:
    threads = _threads(now)
    _find_similar(threads, now)
    _match_failed_searches(threads, now)
    covered = _covered_roots()
    names = dict(db.session.execute(select(Channel.id, Channel.name)).all())
    counts = {"scored": len(threads), "created": 0, "updated": 0, "reopened": 0, "promoted": 0, "removed": 0}
    reopened: list[int] = []
    with db.transaction() as s:
        existing = {c.post_id: c for c in s.scalars(select(Candidate))}
        for root_id, t in threads.items():
            c = existing.get(root_id)
            if root_id in covered:
                if c is not None and c.status != "promoted":
                    c.status, c.promoted_at = "promoted", now
                    counts["promoted"] += 1
                continue
            score, reasons = _score(t, now, names)
            activity = t.replies + t.reactions + t.bookmarks
            if c is None:
                if score < MIN_SCORE:
                    continue
                c = Candidate(post_id=root_id, status="open", created_at=now)
                s.add(c)
                counts["created"] += 1
            else:
                counts["updated"] += 1
                if c.status == "promoted":  # its promotion failed or was rejected, or the source is gone
                    c.status, c.promoted_at = ("dismissed" if c.dismissed_at else "open"), None
                elif c.status == "dismissed" and grew_noticeably(c.dismissed_activity, activity):
                    c.status = "open"
                    clear_dismissal(c)
                    reopened.append(c.id)
            c.score, c.reasons, c.activity, c.scored_at = score, reasons, activity, now
        for root_id, c in existing.items():
            if root_id not in threads and c.status == "open":  # deleted, hidden or long quiet
                s.delete(c)
                counts["removed"] += 1
        counts["reopened"] = len(reopened)
        for candidate_id in reopened:
            audit.record(s, None, "candidate.reopen", f"candidate:{candidate_id}", reason="the thread grew")
        if counts["created"] or counts["reopened"] or counts["promoted"] or counts["removed"]:
            audit.record(s, None, "candidate.score", "candidates",
                         **{k: v for k, v in counts.items() if k != "updated"})
    return counts


# --- the curator queue ---------------------------------------------------------------------------

def list_candidates(actor: User, cursor: str | None = None, limit: int = 50,
                    status: str = "open") -> tuple[list[Candidate], str | None]:
    """Candidates of posts ``actor`` may read, best first (curators only)."""
    perm.require_curator(actor)
    q = (select(Candidate).where(Candidate.status == status, perm.visible_candidates_clause(actor))
         .order_by(Candidate.score.desc(), Candidate.id.desc()).limit(limit + 1))
    after = decode_cursor(cursor, (float, int))
    if after:
        score, last_id = after
        q = q.where(or_(Candidate.score < score, and_(Candidate.score == score, Candidate.id < last_id)))
    items = list(db.session.scalars(q))
    nxt = encode_cursor(items[limit - 1].score, items[limit - 1].id) if len(items) > limit else None
    return items[:limit], nxt


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


# --- promotions cover candidates (in the promotion's own transaction) ------------------------------

def _mark_promoted(connection, post_ids: list[int]) -> None:
    if not post_ids:
        return
    parents = select(Post.parent_id).where(Post.id.in_(post_ids), Post.parent_id.is_not(None))
    connection.execute(update(Candidate)
                       .where(or_(Candidate.post_id.in_(post_ids), Candidate.post_id.in_(parents)),
                              Candidate.status != "promoted")
                       .values(status="promoted", promoted_at=utcnow()))


def requeue_after_rejection(s, actor: User, promotion: Promotion) -> list[int]:
    """A rejected promotion no longer covers its threads: their promoted candidates go back to
    the queue (or to the dismissed list, if a curator had dismissed them before), unless another
    promotion or an article still covers the thread. In the rejection's transaction; audited."""
    roots = _roots_of(set(promotion.post_ids or []))
    if not roots:
        return []
    thread_posts = set(s.scalars(select(Post.id).where(or_(Post.id.in_(roots), Post.parent_id.in_(roots)))))
    still_covered = _roots_of(_covering_post_ids(thread_posts)) if thread_posts else set()
    requeued = []
    for c in s.scalars(select(Candidate).where(Candidate.post_id.in_(roots - still_covered),
                                               Candidate.status == "promoted")
                       .execution_options(populate_existing=True)):
        c.status, c.promoted_at = ("dismissed" if c.dismissed_at else "open"), None
        audit.record(s, actor.id, "candidate.requeue", f"candidate:{c.id}", post_id=c.post_id,
                     promotion_id=promotion.id, status=c.status, reason="its promotion was rejected")
        requeued.append(c.id)
    return requeued


@event.listens_for(Promotion, "after_insert")
def _promotion_requested(_mapper, connection, promotion: Promotion) -> None:
    _mark_promoted(connection, list(promotion.post_ids or []))


@event.listens_for(ArticleSource, "after_insert")
def _article_source_added(_mapper, connection, source: ArticleSource) -> None:
    _mark_promoted(connection, [source.post_id])
