"""Content gaps: how searches are grouped into questions, what counts as unanswered, the daily
series, clicks, and who may read any of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cairn.errors import Forbidden, NotFound
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.search import gaps
from cairn.search.gaps import normalize_query, question_text, question_title
from cairn.search.models import SearchLog
from tests import factories as f


def log(user, q: str, hits: int = 0, clicked: bool = False, days_ago: float = 0) -> SearchLog:
    with db.transaction() as s:
        row = SearchLog(user_id=user.id if user else None, query=q, normalized=normalize_query(q), hits=hits,
                        clicked=clicked, created_at=utcnow() - timedelta(days=days_ago))
        s.add(row)
    return row


def test_normalising_groups_case_punctuation_word_order_and_operators_together():
    same = ["VPN setup?", "vpn setup", "  setup   VPN!! ", '"vpn setup"', "vpn, setup.", "from:@milo vpn setup",
            "vpn setup in:#it -windows", "Vpn AND setup", "vpn setup vpn", "ＶＰＮ setup"]

    def check(q):
        assert normalize_query(q) == "setup vpn", normalize_query(q)

    f.each(same, check)
    f.each([("", ""), ("from:@milo kind:post", ""), ("?!", ""), ('space:"it help" printer', "printer"),
            ("wi-fi", "fi wi"), ("Straße", "strasse"), ("café 2fa", "2fa café"), ("snake_case", "case snake"),
            ('"unclosed vpn', "unclosed vpn"), ("x" * 600, "x" * 500)],
           lambda q, want: _eq(normalize_query(q), want))
    assert normalize_query("vpn setup") != normalize_query("vpn reset")


def _eq(got, want):
    assert got == want, got


def test_a_question_title_keeps_the_words_in_order_without_operators():
    f.each([("vpn setup?", "Vpn setup?"), ('from:@milo "reset my password" -windows', "Reset my password"),
            ("kind:post", ""), ("x" * 300, "X" + "x" * 199)], lambda q, want: _eq(question_title(q), want))
    assert question_text('VPN setup? in:#exec-layoffs from:@olga space:"hr private" in:#"board room"') == "VPN setup?"
    assert normalize_query('VPN setup? in:#"board room" -"old vpn" from:@"olga o"') == "setup vpn"


def test_unanswered_means_no_hits_or_hits_without_a_click(people):
    m, o, c = people.member, people.other, people.curator
    log(m, "VPN setup?", hits=0)
    log(o, "vpn setup", hits=3, clicked=False)
    log(m, "setup vpn", hits=3, clicked=True)          # answered: counted as a search, not as a gap
    log(c, "vpn  SETUP", hits=0, days_ago=2)
    log(m, "printer jam", hits=5, clicked=True)        # every search answered: no gap
    log(m, "holiday policy", hits=0)
    log(m, "from:@milo", hits=0)                      # operators only: not a question
    log(None, "holiday policy", hits=0, days_ago=40)  # outside the window
    result = gaps.top_gaps(c, utcnow() - timedelta(days=30))
    assert [(g.question, g.unanswered, g.no_hits, g.searches, g.people) for g in result] == [
        ("setup vpn", 3, 2, 4, 3),
        ("holiday policy", 1, 1, 1, 1),
    ]
    assert result[0].example == "setup vpn"  # the most recent search asked this way, as typed
    assert result[0].last_asked > utcnow() - timedelta(minutes=5)
    assert gaps.top_gaps(c, utcnow() - timedelta(days=30), limit=1)[0].question == "setup vpn"
    assert [q for q, _ in gaps.gap_terms(utcnow() - timedelta(days=30))] == [
        "vpn  SETUP", "VPN setup?", "vpn setup", "holiday policy", "from:@milo"]
    assert [q for q, _ in gaps.gap_terms(utcnow() - timedelta(days=1))] == [
        "VPN setup?", "vpn setup", "holiday policy", "from:@milo"]


def test_the_daily_series_counts_unanswered_searches_per_utc_day_with_zero_days(people):
    c = people.curator
    log(c, "vpn", hits=0)
    log(c, "vpn", hits=2)
    log(c, "vpn", hits=2, clicked=True)
    log(c, "printer", hits=0, days_ago=3)
    log(c, "printer", hits=0, days_ago=45)
    series = gaps.daily_unanswered(c, days=30)
    assert len(series) == 30
    assert series[-1] == (utcnow().date(), 2)
    assert dict(series)[(utcnow() - timedelta(days=3)).date()] == 1
    assert sum(n for _, n in series) == 3
    assert [d for d, _ in series] == sorted(d for d, _ in series)


def test_members_cannot_read_content_gaps(people):
    log(people.member, "vpn")
    for call in (lambda u: gaps.top_gaps(u, utcnow() - timedelta(days=1)), lambda u: gaps.daily_unanswered(u),
                 lambda u: gaps.gap_report(u)):
        with pytest.raises(Forbidden):
            call(people.member)
        assert call(people.curator) and call(people.admin)


def test_a_click_marks_only_the_searchers_own_search_and_only_for_a_readable_result(people):
    chan = f.channel(people.member, "it")
    readable = f.post(people.member, chan, "vpn setup guide")
    secret = f.post(people.curator, f.channel(people.curator, "private", private=True), "vpn secrets")
    mine, theirs = log(people.other, "vpn", hits=1), log(people.member, "vpn", hits=1)

    with pytest.raises(NotFound):
        gaps.record_click(people.other, theirs.id, "post", readable.id)
    with pytest.raises(NotFound):
        gaps.record_click(people.other, mine.id, "post", secret.id)
    with pytest.raises(NotFound):
        gaps.record_click(people.other, 10**9, "post", readable.id)
    db.session.expire_all()
    assert not db.session.get(SearchLog, mine.id).clicked and not db.session.get(SearchLog, theirs.id).clicked

    assert gaps.record_click(people.other, mine.id, "post", readable.id) == f"/posts/{readable.id}"
    db.session.expire_all()
    first = db.session.get(SearchLog, mine.id)
    assert first.clicked and first.clicked_at is not None
    gaps.record_click(people.other, mine.id, "post", readable.id)  # a second click keeps the first time
    db.session.expire_all()
    assert db.session.get(SearchLog, mine.id).clicked_at == first.clicked_at
    assert not db.session.get(SearchLog, theirs.id).clicked
