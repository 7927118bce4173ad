"""Verification expiry with a controllable clock: the sweep marks overdue articles, notifies the
owner exactly once per expiry (the space owner when the owner was deactivated), and verifying
starts a new interval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cairn.audit import AuditEvent
from cairn.auth import actions as auth
from cairn.extensions import db
from cairn.kb import actions
from cairn.kb.models import Article
from cairn.kb.verification import mark_overdue_articles, verification_state, verify_article
from cairn.models_base import utcnow
from cairn.outbox import OutboxEvent
from cairn.stream.models import Notification
from tests import factories as f


@pytest.fixture
def days(app) -> int:
    return app.config["POLICY"]["verification"]["interval_days"]


@pytest.fixture
def handbook(people):
    return f.space(people.curator, "Handbook")


@pytest.fixture
def guide(people, handbook):
    """Published by a curator now: verified now, owned by the member who wrote it."""
    art = f.article(people.member, handbook, "Guide", status="in_review")
    return actions.transition_article(people.curator, art.id, "published")


def _notifications(user) -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == "verification")))


def _article(art) -> Article:
    db.session.rollback()
    return db.session.get(Article, art.id)


def test_an_article_inside_its_interval_is_left_alone(people, guide, days):
    counts = mark_overdue_articles(now=utcnow() + timedelta(days=days - 1))
    assert counts == {"marked": 0, "notified": 0, "cleared": 0}
    assert _article(guide).needs_verification_since is None and _notifications(people.member) == []


def test_an_overdue_article_needs_verification_and_its_owner_is_notified_exactly_once(people, guide, days):
    later = utcnow() + timedelta(days=days + 1)
    assert mark_overdue_articles(now=later) == {"marked": 1, "notified": 1, "cleared": 0}
    art = _article(guide)
    assert art.needs_verification_since == later
    assert verification_state(art) == "needs_verification"
    [note] = _notifications(people.member)
    assert note.article_id == guide.id and "Guide" in note.text
    # the next runs of the periodic task find it already marked: no second notification
    assert mark_overdue_articles(now=later + timedelta(hours=1))["notified"] == 0
    assert mark_overdue_articles(now=later + timedelta(days=30))["notified"] == 0
    assert len(_notifications(people.member)) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "article.needs_verification"))
    assert event.target == f"article:{guide.id}" and event.actor_id is None


def test_marking_reindexes_the_article_so_search_shows_the_badge(people, guide, days):
    before = f.count(OutboxEvent)
    mark_overdue_articles(now=utcnow() + timedelta(days=days + 1))
    events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()[before:]
    assert [e.payload for e in events] == [{"doc": "article", "id": guide.id}]


def test_verifying_clears_the_mark_and_the_next_expiry_notifies_again(people, guide, days):
    later = utcnow() + timedelta(days=days + 1)
    mark_overdue_articles(now=later)
    verified = verify_article(people.member, guide.id, now=later)
    assert verified.needs_verification_since is None and verification_state(verified, now=later) == "verified"
    assert mark_overdue_articles(now=later + timedelta(days=1))["marked"] == 0
    assert mark_overdue_articles(now=later + timedelta(days=days + 1))["notified"] == 1
    assert len(_notifications(people.member)) == 2


def test_a_deactivated_owner_is_replaced_by_the_space_owner(people, guide, days):
    auth.update_user(people.admin, people.member.id, active=False)
    mark_overdue_articles(now=utcnow() + timedelta(days=days + 1))
    assert _notifications(people.member) == []
    [note] = _notifications(people.curator)  # the curator created, so owns, the space
    assert note.article_id == guide.id


def test_with_no_active_owner_anywhere_the_article_is_still_marked(people, handbook, guide, days):
    auth.update_user(people.admin, people.member.id, active=False)
    auth.update_user(people.admin, people.curator.id, active=False)
    assert mark_overdue_articles(now=utcnow() + timedelta(days=days + 1)) == {
        "marked": 1, "notified": 0, "cleared": 0}


def test_the_space_interval_overrides_the_policy_and_the_article_interval_overrides_both(people, handbook, guide):
    actions.update_space(people.curator, handbook.id, verify_interval_days=7)
    assert mark_overdue_articles(now=utcnow() + timedelta(days=6))["marked"] == 0
    assert mark_overdue_articles(now=utcnow() + timedelta(days=8))["marked"] == 1

    other = f.article(people.member, handbook, "Other", status="in_review")
    other = actions.transition_article(people.curator, other.id, "published")
    with db.transaction() as s:
        s.get(Article, other.id).verify_interval_days = 30
    assert mark_overdue_articles(now=utcnow() + timedelta(days=8))["marked"] == 0
    assert mark_overdue_articles(now=utcnow() + timedelta(days=31))["marked"] == 1


def test_lengthening_the_interval_clears_a_mark_that_no_longer_holds(people, handbook, guide):
    actions.update_space(people.curator, handbook.id, verify_interval_days=7)
    mark_overdue_articles(now=utcnow() + timedelta(days=8))
    actions.update_space(people.curator, handbook.id, verify_interval_days=60)
    assert mark_overdue_articles(now=utcnow() + timedelta(days=9))["cleared"] == 1
    assert verification_state(_article(guide)) == "verified"


def test_drafts_and_archived_articles_are_never_marked(people, handbook, days):
    f.article(people.member, handbook, "Draft")
    f.article(people.member, handbook, "Old", status="archived")
    assert mark_overdue_articles(now=utcnow() + timedelta(days=days * 3))["marked"] == 0


def test_the_beat_schedule_runs_the_sweep_task(app):
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["kb-verification-sweep"]
    assert entry["task"] == "cairn.kb.mark_overdue" and entry["task"] in celery.tasks


def test_the_sweep_task_calls_the_domain_function(app, people, guide):
    celery = app.extensions["celery"]
    assert celery.tasks["cairn.kb.mark_overdue"].apply().get() == {"marked": 0, "notified": 0, "cleared": 0}
