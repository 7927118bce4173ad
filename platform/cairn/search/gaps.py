"""Content gaps: the questions people search for and do not find answered.

Every first-page search is a ``SearchLog`` row (cairn.search.query). A search is *unanswered*
when it found nothing, or found results of which the searcher opened none (``record_click``
marks the row when they do). Rows are grouped by their normalised question, so "VPN setup?"
and "vpn SETUP" count together. Curators read the groups (``top_gaps``) and a daily series
(``daily_unanswered``); the candidate scorer reads ``gap_terms``. None of these say who asked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, case, cast, func, or_, select, update

from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Forbidden, NotFound
from cairn.extensions import db
from cairn.kb.models import Article
from cairn.models_base import utcnow
from cairn.search.models import SearchLog

# operators filter a search; they are not part of the question (cairn.search.query.OPERATOR_RE)
OPERATOR_RE = re.compile(r"^-?(from|in|space|tag|kind|is|before|after):", re.IGNORECASE)
BOOLEAN_WORDS = {"AND", "OR", "NOT"}
# a token: an optionally negated, optionally operator-prefixed "quoted phrase", or a run of non-blanks
TOKEN_RE = re.compile(r'-?(?:\w+:[#@]?)?"[^"]*"|\S+')
WORD_RE = re.compile(r"[^\W_]+")  # letters and digits of any script; punctuation separates words
MAX_NORMALIZED = 500


def normalize_query(raw: str) -> str:
    """The question behind a search: its words, case-folded, without operators, exclusions and
    punctuation, each once and sorted, so word order and "?" do not split one question in two.
    A query of operators only normalises to "" (it asks nothing)."""
    text = unicodedata.normalize("NFKC", raw or "")
    tokens = TOKEN_RE.findall(text)
    words: set[str] = set()
    for token in tokens:
        if token.startswith("-") or token in BOOLEAN_WORDS or OPERATOR_RE.match(token):
            continue
        words.update(WORD_RE.findall(token.casefold()))
    return " ".join(sorted(words))[:MAX_NORMALIZED].strip()


def question_text(raw: str) -> str:
    """A search as it was asked, minus its operators, exclusions and quotes, words in the order
    typed. What curators are shown: an operator can name a private channel (``in:#layoffs``), a
    person (``from:@x``) or a restricted space, and none of that is the question."""
    tokens = TOKEN_RE.findall(raw or "")
    kept = [t.strip('"').strip() for t in tokens
            if not (t.startswith("-") or t in BOOLEAN_WORDS or OPERATOR_RE.match(t))]
    return " ".join(t for t in kept if t)[:MAX_NORMALIZED]


def question_title(raw: str) -> str:
    """A search as an article title to start from: its question text, capitalised."""
    text = question_text(raw)[:200]
    return text[:1].upper() + text[1:]


def unanswered_clause() -> ColumnElement[bool]:
    """A search nobody was helped by: no hits, or hits of which none was opened."""
    return or_(SearchLog.hits == 0, SearchLog.clicked.is_(False))


def _since(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


# --- clicks -------------------------------------------------------------------------------------

def access_result(user: User, kind: str, obj_id: int) -> str:
    """The internal URL of a search result ``user`` may read; NotFound when it is missing or
    forbidden (the two look the same)."""
    if kind == "post":
        post = perm.access_post(user, obj_id)
        return f"/posts/{post.id}"
    if kind == "article":
        article: Article = perm.access_article(user, obj_id)
        return f"/articles/{article.id}"
    raise NotFound("Result not found.")


def record_click(user: User, log_id: int, kind: str, obj_id: int) -> str:
    """Mark ``user``'s search ``log_id`` as answered by opening a result; returns the result's URL.

    Another user's search, an unknown one and a result ``user`` may not read are all NotFound,
    and nothing is marked. The first click keeps its time; later ones change nothing. Not an
    audit event: like the search log itself this is analytics, and an audit trail of who
    opened what would record exactly what the gap pages are careful never to show.
    """
    url = access_result(user, kind, obj_id)
    with db.transaction() as s:
        row = s.get(SearchLog, log_id)
        if row is None or row.user_id != user.id:
            raise NotFound("Search not found.")
        s.execute(update(SearchLog).where(SearchLog.id == log_id, SearchLog.clicked.is_(False))
                  .values(clicked=True, clicked_at=utcnow()))
    return url


def latest_search(user: User, q: str, within: timedelta = timedelta(hours=12)) -> int | None:
    """The row of ``user``'s most recent search for exactly ``q`` (later pages are not logged
    again, but a result opened there answers the search all the same)."""
    return db.session.scalar(
        select(SearchLog.id).where(SearchLog.user_id == user.id, SearchLog.query == q.strip()[:500],
                                   SearchLog.created_at >= utcnow() - within)
        .order_by(SearchLog.id.desc()).limit(1))


# --- the curator's view ----------------------------------------------------------------------------

@dataclass
class Gap:
    question: str          # the normalised query
    example: str           # the most recent search asked this way, without its operators
    unanswered: int        # searches with no hits or no click
    no_hits: int           # of which found nothing at all
    searches: int          # every search of this question in the window
    people: int            # distinct searchers among the unanswered (a number, never who)
    last_asked: datetime

    @property
    def title(self) -> str:
        return question_title(self.example)


def check_can_see_gaps(user: User) -> None:
    if not perm.can_see_content_gaps(user):
        raise Forbidden("Only curators can see content gaps.")


def top_gaps(actor: User, since: datetime, limit: int = 20) -> list[Gap]:
    """The most often unanswered questions asked since ``since``, most unanswered first."""
    check_can_see_gaps(actor)
    unanswered = func.sum(case((unanswered_clause(), 1), else_=0))
    rows = db.session.execute(
        select(SearchLog.normalized, unanswered.label("unanswered"),
               func.sum(case((SearchLog.hits == 0, 1), else_=0)).label("no_hits"),
               func.count().label("searches"),
               func.count(func.distinct(case((unanswered_clause(), SearchLog.user_id)))).label("people"),
               func.max(SearchLog.created_at).label("last"))
        .where(SearchLog.created_at >= since, SearchLog.normalized != "")
        .group_by(SearchLog.normalized)
        .having(unanswered > 0)
        .order_by(unanswered.desc(), func.max(SearchLog.created_at).desc(), SearchLog.normalized)
        .limit(limit)
    ).all()
    examples = _examples([r.normalized for r in rows], since)
    return [Gap(question=r.normalized, example=question_text(examples.get(r.normalized, "")) or r.normalized,
                unanswered=int(r.unanswered),
                no_hits=int(r.no_hits), searches=int(r.searches), people=int(r.people),
                last_asked=_aware(r.last)) for r in rows]


def daily_unanswered(actor: User, days: int = 30) -> list[tuple[date, int]]:
    """Unanswered searches per UTC day for the last ``days`` days (today included, zeros too)."""
    check_can_see_gaps(actor)
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    day = _utc_day(SearchLog.created_at)
    counts = dict(db.session.execute(
        select(day, func.count()).where(SearchLog.created_at >= start, SearchLog.normalized != "",
                                        unanswered_clause()).group_by(day)).all())
    by_day = {_as_date(k): int(v) for k, v in counts.items()}
    return [(first + timedelta(days=i), by_day.get(first + timedelta(days=i), 0)) for i in range(days)]


def gap_terms(since: datetime) -> list[tuple[str, datetime]]:
    """Every unanswered search since ``since`` as (the query as typed, when), oldest first: the
    demand the knowledge-candidate scorer matches threads against (it weighs each by its age).
    No actor: a background task calls it, and it reveals no one."""
    return [(q, _aware(when)) for q, when in db.session.execute(
        select(SearchLog.query, SearchLog.created_at)
        .where(SearchLog.created_at >= since, unanswered_clause()).order_by(SearchLog.created_at, SearchLog.id))]


def _examples(questions: list[str], since: datetime) -> dict[str, str]:
    if not questions:
        return {}
    newest_first = func.row_number().over(partition_by=SearchLog.normalized,
                                          order_by=(SearchLog.created_at.desc(), SearchLog.id.desc()))
    ranked = (select(SearchLog.normalized, SearchLog.query, newest_first.label("n"))
              .where(SearchLog.normalized.in_(questions), SearchLog.created_at >= since).subquery())
    return dict(db.session.execute(select(ranked.c.normalized, ranked.c.query).where(ranked.c.n == 1)).all())


def _utc_day(column):
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite stores UTC text: its first ten characters are the day


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class GapReport:
    days: int
    gaps: list[Gap]
    daily: list[tuple[date, int]]


def gap_report(actor: User, days: int = 30, limit: int = 20) -> GapReport:
    """What the content-gap page and ``GET /api/v1/gaps`` show: the top unanswered questions of
    the last ``days`` days and the unanswered searches per day over the same window."""
    check_can_see_gaps(actor)
    return GapReport(days=days, gaps=top_gaps(actor, _since(days), limit), daily=daily_unanswered(actor, days))
