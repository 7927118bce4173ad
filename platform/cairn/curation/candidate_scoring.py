"""Scoring the candidate queue: thread roots and standalone posts worth promoting, with the reasons.

``score_candidates`` runs periodically (workers/tasks/candidates.py, `cairn score-candidates`).
It scores every thread root and standalone post active within ``WINDOW_DAYS`` on what the stream
says about its knowledge value — reactions, replies, an accepted answer, bookmarks, views — and
on demand for it: similar questions asked in other threads, and searches that helped nobody
(no hits, or none opened: cairn.search.gaps.gap_terms) while the thread holds every word they
asked for. Thread signals decay with the thread's last activity, demand signals with each
event's age. The weights and the half-life are the organisation's to tune (config/policy.toml
[candidates], read by ``tuning``; ``WEIGHTS`` and ``HALF_LIFE_DAYS`` are the defaults).

Rows are upserted (one per root), so a re-run changes nothing but the scores. A dismissed
candidate stays dismissed until its thread grows noticeably (``grew_noticeably``); a thread a
promotion or an article covers (cairn.curation.candidate_coverage) is marked promoted.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from cairn import audit
from cairn.curation.candidate_coverage import covered_roots
from cairn.curation.candidate_models import Candidate
from cairn.curation.candidate_queue import clear_dismissal
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.search.gaps import gap_terms
from cairn.stream.models import Bookmark, Channel, Post, Reaction, ThreadAnswer

HALF_LIFE_DAYS = 30.0      # the default; config/policy.toml [candidates] half_life_days
WINDOW_DAYS = 365          # threads quiet for longer are not scored (decay makes them ~0 anyway)
SEARCH_WINDOW_DAYS = 90    # failed searches older than this no longer count
MIN_SCORE = 2.0            # a new candidate needs at least this score to enter the queue
# points = weight * log2(1 + count): the first reactions say more than the fiftieth
# (the defaults; config/policy.toml [candidates.weights])
WEIGHTS = {"reactions": 1.0, "replies": 1.5, "answer": 4.0, "bookmarks": 2.0, "views": 0.5,
           "similar": 2.5, "failed_searches": 2.0}
# similar questions: at least this many shared key terms, covering this share of the shorter one
SIMILAR_MIN_SHARED, SIMILAR_MIN_OVERLAP = 2, 0.6


@dataclass(frozen=True)
class Tuning:
    """How the queue weighs its signals: an organisation sets them in config/policy.toml [candidates]."""

    half_life_days: float = HALF_LIFE_DAYS
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))


def tuning(policy: dict[str, Any] | None = None) -> Tuning:
    """The policy's [candidates] half_life_days and [candidates.weights] (the app's policy unless
    ``policy`` is given); what it leaves out keeps its default. A wrong value raises ValueError
    naming the setting, so a mistyped weight is not silently ignored."""
    if policy is None:
        policy = (current_app.config.get("POLICY") or {}) if has_app_context() else {}
    section = policy.get("candidates") or {}
    unknown = set(section) - {"half_life_days", "weights"}
    weights = section.get("weights") or {}
    unknown |= {f"weights.{k}" for k in set(weights) - set(WEIGHTS)}
    if unknown:
        raise ValueError(f"policy [candidates]: unknown setting(s) {', '.join(sorted(unknown))}")
    half_life = section.get("half_life_days", HALF_LIFE_DAYS)
    if not _number(half_life) or half_life <= 0:
        raise ValueError(f"policy [candidates] half_life_days must be a number of days above 0, not {half_life!r}")
    for name, value in weights.items():
        if not _number(value) or value < 0:
            raise ValueError(f"policy [candidates.weights] {name} must be a number of 0 or more, not {value!r}")
    return Tuning(float(half_life), {**WEIGHTS, **{k: float(v) for k, v in weights.items()}})


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- text: the key terms two questions or a query and a thread share ---------------------------

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


def _score(t: _Thread, now: datetime, channel_names: dict[int, str],
           tune: Tuning) -> tuple[float, list[dict[str, Any]]]:
    weights = tune.weights
    factor = decay(now - t.last_activity, tune.half_life_days)
    reasons: list[dict[str, Any]] = []
    for signal, value in (("reactions", t.reactions), ("replies", t.replies), ("bookmarks", t.bookmarks),
                          ("views", t.views)):
        if value:
            reasons.append({"signal": signal, "value": value,
                            "points": round(_points(weights[signal], value) * factor, 3)})
    if t.answer:
        reasons.append({"signal": "answer", "value": 1, "points": round(weights["answer"] * factor, 3)})
    if t.similar:
        weight = sum(w for _, _, w in t.similar)
        per_channel = Counter(channel for _, channel, _ in t.similar)
        reasons.append({"signal": "similar", "value": len(t.similar),
                        "points": round(_points(weights["similar"], weight), 3),
                        "channels": [{"id": c, "name": channel_names.get(c, ""), "count": n}
                                     for c, n in per_channel.most_common()]})
    if t.search_count:
        queries = sorted(t.search_queries, key=lambda q: (t.search_queries[q], q), reverse=True)[:3]
        reasons.append({"signal": "failed_searches", "value": t.search_count,
                        "points": round(_points(weights["failed_searches"], t.search_weight), 3),
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


def _find_similar(threads: dict[int, _Thread], now: datetime, half_life_days: float) -> None:
    """Pair questions that share most of their key terms (through an inverted index; terms in more
    than one question in fifty, and in more than twenty, say little about the subject and are left
    out: they also made the pairing quadratic)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for t in threads.values():
        for term in t.terms:
            postings[term].append(t.root_id)
    too_common = max(20, len(threads) // 50)
    weight = {rid: decay(now - t.created_at, half_life_days) for rid, t in threads.items()}
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


def _match_failed_searches(threads: dict[int, _Thread], now: datetime, half_life_days: float) -> None:
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
        weight = sum(decay(now - when, half_life_days) for _, when in searches)
        latest: dict[str, datetime] = {}
        for query, when in searches:
            latest[query] = max(when, latest.get(query, when))
        for root_id in matching:
            t = threads[root_id]
            t.search_count += len(searches)
            t.search_weight += weight
            for query, when in latest.items():
                t.search_queries[query] = max(when, t.search_queries.get(query, when))


def score_candidates(now: datetime | None = None) -> dict[str, Any]:
    """Score every active thread and upsert the candidate queue; safe to run again at any time.

    Returns counts: scored threads, candidates created, updated, reopened, promoted, removed."""
    started = time.perf_counter()
    now = now or utcnow()
    tune = tuning()
    for attempt in (1, 2):
        try:
            result = _score_and_upsert(now, tune)
            break
        except IntegrityError:
            # a concurrent run inserted the same roots first: its rows are there now, update them
            db.session.rollback()
            if attempt == 2:
                raise
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _score_and_upsert(now: datetime, tune: Tuning) -> dict[str, Any]:
    threads = _threads(now)
    _find_similar(threads, now, tune.half_life_days)
    _match_failed_searches(threads, now, tune.half_life_days)
    covered = covered_roots()
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
            score, reasons = _score(t, now, names, tune)
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
