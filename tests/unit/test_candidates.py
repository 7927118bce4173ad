"""Candidate scoring: every signal moves the score the right way, time decays it, dismissals stick
until the thread grows, promotions take candidates off the queue, and curators see only the
candidates of posts they may read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cairn import search
from cairn.audit import AuditEvent
from cairn.curation import candidates as cand
from cairn.curation.candidate_models import Candidate
from cairn.errors import Forbidden, NotFound
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.search.models import SearchLog
from cairn.stream import actions as stream, moderation, signals
from tests import factories as f


@pytest.fixture(autouse=True)
def no_index_writes(monkeypatch):
    """Scoring reads the database, never the search index: skip the index writes, the costly part."""
    monkeypatch.setattr(search, "sync_document", lambda kind, obj_id: None)


def _candidate(post) -> Candidate | None:
    db.session.rollback()
    return db.session.scalar(select(Candidate).where(Candidate.post_id == post.id)
                             .execution_options(populate_existing=True))


def _score(post) -> float:
    c = _candidate(post)
    return c.score if c is not None else 0.0


def _signals(post) -> dict[str, dict]:
    c = _candidate(post)
    return {r["signal"]: r for r in (c.reasons if c else [])}


def _thread(author, channel, question: str, replies: int = 2, replier=None):
    """A question with ``replies`` answers: enough activity to enter the queue on its own."""
    root = f.post(author, channel, question)
    for i in range(replies):
        f.post(replier or author, channel, f"answer number {i} to it", parent=root)
    return root


def _failed_search(user, query: str, hits: int = 0, when=None, clicked: bool = False) -> None:
    with db.transaction() as s:
        s.add(SearchLog(user_id=user.id, query=query, hits=hits, clicked=clicked, created_at=when or utcnow()))


def test_key_terms_drop_stop_words_operators_and_plural_endings():
    assert cand.key_terms("How do I set up the VPN clients?") == {"set", "vpn", "client"}
    assert cand.query_terms('in:#help -windows "vpn setup" from:@milo') == {"vpn", "setup"}
    assert cand.grew_noticeably(3, 6) is False and cand.grew_noticeably(3, 8) is True
    assert cand.grew_noticeably(None, 4) is False and cand.grew_noticeably(0, 5) is True


def test_each_signal_raises_the_score_of_its_thread(people):
    """Twin threads with the same baseline; the second of each pair gets one more signal."""
    general = f.channel(people.member, "general")
    elsewhere = f.channel(people.other, "elsewhere")
    pairs = {}
    for i, signal in enumerate(("reactions", "replies", "answer", "bookmarks", "views", "similar",
                                "failed_searches")):
        base = _thread(people.member, general, f"plain{i}a question{i}a about thing{i}a", replier=people.other)
        more = _thread(people.member, general, f"plain{i}b question{i}b about thing{i}b", replier=people.other)
        pairs[signal] = (base, more)
    base, more = pairs["reactions"]
    stream.add_reaction(people.other, more.id, "👍")
    stream.add_reaction(people.curator, more.id, "🎉")
    base, more = pairs["replies"]
    f.post(people.curator, general, "one more answer", parent=more)
    base, more = pairs["answer"]
    reply = f.post(people.other, general, "the accepted one", parent=more)
    f.post(people.other, general, "an answer too", parent=base)  # the same reply count
    signals.mark_answer(people.member, reply.id)
    base, more = pairs["bookmarks"]
    signals.add_bookmark(people.other, more.id)
    base, more = pairs["views"]
    signals.record_thread_view(people.other, more)
    base, more = pairs["similar"]
    f.post(people.other, elsewhere, "plain5b question5b about thing5b again?")
    base, more = pairs["failed_searches"]
    _failed_search(people.other, "plain6b thing6b")
    _failed_search(people.other, "plain6a thing6a", hits=3, clicked=True)  # answered: no demand

    result = cand.score_candidates()
    assert result["created"] >= 14, result

    def check(signal):
        base, more = pairs[signal]
        assert _score(more) > _score(base) > 0, (signal, _score(base), _score(more))
        assert signal in _signals(more), _signals(more)
        if signal in ("answer", "similar", "failed_searches"):
            assert signal not in _signals(base), _signals(base)

    f.each(list(pairs), check)
    reasons = cand.reasons_for(people.curator, _candidate(pairs["similar"][1]))
    assert "similar question asked once in #elsewhere" in [r["text"] for r in reasons]
    reasons = cand.reasons_for(people.curator, _candidate(pairs["failed_searches"][1]))
    assert "1 search found nothing useful: 'plain6b thing6b'" in [r["text"] for r in reasons]


def test_scores_decay_with_the_threads_age_and_demand_with_the_searches_age(people):
    general = f.channel(people.member, "general")
    root = _thread(people.member, general, "kubernetes ingress timeout", replies=3)
    _failed_search(people.other, "ingress timeout")
    now = utcnow()
    cand.score_candidates(now=now)
    fresh = _candidate(root)
    fresh_score, fresh_points = fresh.score, {r["signal"]: r["points"] for r in fresh.reasons}
    cand.score_candidates(now=now + timedelta(days=cand.HALF_LIFE_DAYS))
    later = _candidate(root)
    later_points = {r["signal"]: r["points"] for r in later.reasons}
    assert later.score < fresh_score
    # one half-life: thread signals halve; a search a half-life old counts half a search
    assert later_points["replies"] == pytest.approx(fresh_points["replies"] / 2, rel=0.01)
    assert later_points["failed_searches"] < fresh_points["failed_searches"]
    decay = {r["signal"]: r for r in later.reasons}["decay"]
    assert decay["value"] == int(cand.HALF_LIFE_DAYS) and decay["factor"] == pytest.approx(0.5, abs=0.01)


def test_scoring_twice_changes_nothing(people):
    general = f.channel(people.member, "general")
    roots = [_thread(people.member, general, f"topic{i} question{i}") for i in range(3)]
    now = utcnow()
    first = cand.score_candidates(now=now)
    before = {c.post_id: (c.id, c.score, c.reasons) for c in db.session.scalars(select(Candidate))}
    second = cand.score_candidates(now=now)
    db.session.rollback()
    after = {c.post_id: (c.id, c.score, c.reasons) for c in db.session.scalars(
        select(Candidate).execution_options(populate_existing=True))}
    assert first["created"] == 3 and second["created"] == 0 and second["updated"] == 3
    assert before == after and set(after) == {r.id for r in roots}


def test_a_quiet_post_does_not_enter_the_queue(people):
    general = f.channel(people.member, "general")
    lonely = f.post(people.member, general, "anyone here?")
    cand.score_candidates()
    assert _candidate(lonely) is None


def test_a_dismissal_sticks_until_the_thread_grows_noticeably(people):
    general = f.channel(people.member, "general")
    root = _thread(people.member, general, "backup restore procedure")
    cand.score_candidates()
    c = _candidate(root)
    cand.dismiss_candidate(people.curator, c.id, "chit-chat")
    assert cand.list_candidates(people.curator)[0] == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "candidate.dismiss"))
    assert event.actor_id == people.curator.id and event.data["reason"] == "chit-chat"

    f.post(people.other, general, "me too", parent=root)   # a little growth: still dismissed
    cand.score_candidates()
    assert _candidate(root).status == "dismissed"
    assert cand.list_candidates(people.curator)[0] == []

    for i in range(5):                                        # activity 2 -> 8: back on the queue
        f.post(people.other, general, f"more detail {i}", parent=root)
    result = cand.score_candidates()
    assert result["reopened"] == 1 and _candidate(root).status == "open"
    assert [x.post_id for x in cand.list_candidates(people.curator)[0]] == [root.id]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "candidate.reopen")) is not None


def test_a_promotion_covering_the_thread_takes_its_candidate_off_the_queue(people):
    from cairn.curation import actions as curation

    general = f.channel(people.member, "general")
    root = _thread(people.member, general, "printer driver install")
    reply_only = _thread(people.member, general, "expense report deadline")
    f.space(people.curator, "Handbook")
    cand.score_candidates()
    replies = list(db.session.scalars(select(type(root)).where(type(root).parent_id == reply_only.id)))
    curation.request_promotion(people.curator, [root.id])
    curation.request_promotion(people.curator, [replies[0].id])  # a reply covers its thread too
    assert _candidate(root).status == "promoted" and _candidate(reply_only).status == "promoted"
    assert cand.list_candidates(people.curator)[0] == []
    cand.score_candidates()
    assert _candidate(root).status == "promoted"
    assert cand.list_candidates(people.curator)[0] == []


def test_deleted_and_hidden_posts_leave_the_queue(people):
    general = f.channel(people.member, "general")
    gone = _thread(people.member, general, "old laptop return")
    hidden = _thread(people.member, general, "spam offer discount")
    kept = _thread(people.member, general, "wifi password rotation")
    cand.score_candidates()
    stream.delete_post(people.member, gone.id)
    moderation.hide_post(people.curator, hidden.id, "spam")
    assert [c.post_id for c in cand.list_candidates(people.curator)[0]] == [kept.id]  # at once
    result = cand.score_candidates()
    assert result["removed"] == 2 and _candidate(gone) is None and _candidate(hidden) is None


def test_a_curator_never_sees_candidates_from_a_private_channel_they_are_not_in(people):
    secret = f.channel(people.member, "secret", private=True, members=(people.other,))
    general = f.channel(people.member, "general")
    hidden_root = _thread(people.member, secret, "merger plan timeline", replier=people.other)
    open_root = _thread(people.member, general, "merger plan timeline questions")  # similar to the secret one
    cand.score_candidates()
    assert _candidate(hidden_root) is not None
    seen = cand.list_candidates(people.curator)[0]
    assert [c.post_id for c in seen] == [open_root.id]
    secret_candidate = _candidate(hidden_root)
    with pytest.raises(NotFound):
        cand.dismiss_candidate(people.curator, secret_candidate.id, "nope")
    assert _candidate(hidden_root).status == "open"
    # the similar question in #secret is counted but not named for this curator
    texts = [r["text"] for r in cand.reasons_for(people.curator, seen[0])]
    assert "similar question asked once elsewhere" in texts
    assert not any("secret" in t for t in texts)
    # membership of another private channel does not help
    outsider = f.user("outsider@example.com", "curator")
    f.channel(people.member, "other-secret", private=True, members=(outsider,))
    assert hidden_root.id not in [c.post_id for c in cand.list_candidates(outsider)[0]]


def test_a_curator_in_the_private_channel_sees_its_candidates_and_its_name(people):
    insider = f.user("insider@example.com", "curator")
    secret = f.channel(people.member, "secret", private=True, members=(insider,))
    general = f.channel(people.member, "general")
    hidden_root = _thread(people.member, secret, "merger plan timeline")
    open_root = _thread(people.member, general, "merger plan timeline questions")
    cand.score_candidates()
    seen = {c.post_id: c for c in cand.list_candidates(insider)[0]}
    assert set(seen) == {hidden_root.id, open_root.id}
    texts = [r["text"] for r in cand.reasons_for(insider, seen[open_root.id])]
    assert "similar question asked once in #secret" in texts


def test_a_member_cannot_list_or_dismiss_candidates(people):
    general = f.channel(people.member, "general")
    root = _thread(people.member, general, "onboarding checklist")
    cand.score_candidates()
    with pytest.raises(Forbidden):
        cand.list_candidates(people.member)
    with pytest.raises(Forbidden):
        cand.dismiss_candidate(people.member, _candidate(root).id, "mine")
    assert _candidate(root).status == "open"


def test_the_beat_schedule_runs_the_scoring_task(app, people):
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["candidates-score"]
    assert entry["task"] == "cairn.candidates.score" and entry["task"] in celery.tasks
    general = f.channel(people.member, "general")
    root = _thread(people.member, general, "release checklist")
    result = celery.tasks["cairn.candidates.score"].apply().get()
    assert result["created"] == 1 and _candidate(root) is not None
