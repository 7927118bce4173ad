"""Knowledge-base actions: spaces, articles, revisions, lifecycle and verification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cairn.audit import AuditEvent
from cairn.auth import permissions as perm
from cairn.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation
from cairn.extensions import db
from cairn.kb import actions
from cairn.kb.models import Article, ArticleRevision
from cairn.models_base import utcnow
from cairn.outbox import OutboxEvent
from tests import factories as f


@pytest.fixture
def eng(people):
    return f.group("eng", people.curator, people.member)


@pytest.fixture
def ops(people):
    return f.group("ops", people.other)


@pytest.fixture
def handbook(people):
    return f.space(people.curator, "Handbook")


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- spaces -----------------------------------------------------------------------------------

def test_only_curators_create_spaces(people):
    with pytest.raises(Forbidden):
        actions.create_space(people.member, "Mine")
    space = actions.create_space(people.curator, "Runbooks", "how we run things")
    assert _audit("space.create")[0].target == f"space:{space.id}"


def test_space_names_are_unique_ignoring_case_and_must_not_be_blank(people, handbook):
    with pytest.raises(Conflict):
        actions.create_space(people.curator, "HANDBOOK")
    with pytest.raises(Invalid) as err:
        actions.create_space(people.curator, "   ")
    assert "name" in err.value.fields


def test_a_space_with_an_unknown_group_is_refused_and_nothing_is_written(people):
    before = f.counts()
    with pytest.raises(Invalid) as err:
        actions.create_space(people.curator, "Secret", group_ids=[12345])
    assert "groups" in err.value.fields
    assert f.counts() == before


def test_changing_a_spaces_groups_is_audited_and_reindexes_its_articles(people, handbook, eng):
    a1 = f.article(people.member, handbook, "One", status="published")
    a2 = f.article(people.member, handbook, "Two", status="published")
    before = f.count(OutboxEvent)
    actions.update_space(people.curator, handbook.id, group_ids=[eng.id])
    events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()[before:]
    assert sorted(e.payload["id"] for e in events) == sorted([a1.id, a2.id])
    assert _audit("space.groups")[0].data == {"groups": [eng.id]}
    assert not perm.can_read_article(people.other, db.session.get(Article, a1.id))


def test_members_cannot_change_spaces_and_outsiders_cannot_even_see_them(people, eng):
    space = f.space(people.curator, "Eng", groups=(eng,))
    with pytest.raises(Forbidden):
        actions.update_space(people.member, space.id, description="mine")
    lone = f.user("lone@example.com", "curator")
    with pytest.raises(NotFound):
        actions.update_space(lone, space.id, description="mine")


def test_a_group_cannot_leave_a_space_while_an_article_there_is_narrowed_to_it(people, eng, ops):
    """Article groups only narrow their space's: removing ops from the space must not leave an
    ops-only article readable by ops members who can no longer open the space."""
    space = f.space(people.curator, "Mixed", groups=(eng, ops))
    art = f.article(people.curator, space, "Ops only", groups=(ops,), status="published")
    with pytest.raises(RuleViolation) as err:
        actions.update_space(people.curator, space.id, group_ids=[eng.id])
    assert "groups" in err.value.fields
    f.refresh(space, art)
    assert space.group_ids == {eng.id, ops.id}
    assert perm.can_read_article(people.other, art) == perm.can_read_space(people.other, space)


# --- articles ---------------------------------------------------------------------------------

def test_creating_an_article_writes_revision_one_an_audit_event_and_an_index_event(people, handbook):
    art = actions.create_article(people.member, handbook.id, "  How to deploy ", "Run it.", ["ops", "howto"])
    assert (art.title, art.slug, art.status, art.revision) == ("How to deploy", "how-to-deploy", "draft", 1)
    revs = actions.revisions(people.member, art.id)
    assert [(r.number, r.body, r.author_id) for r in revs] == [(1, "Run it.", people.member.id)]
    assert _audit("article.create")[0].target == f"article:{art.id}"
    assert db.session.scalar(select(OutboxEvent.payload).order_by(OutboxEvent.id.desc())) == \
        {"doc": "article", "id": art.id}


def test_slugs_stay_unique_within_a_space(people, handbook):
    slugs = [actions.create_article(people.member, handbook.id, "Same title", "x").slug for _ in range(3)]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]


def test_article_groups_must_narrow_the_space_groups(people, eng, ops):
    space = f.space(people.curator, "Eng", groups=(eng,))
    before = f.counts()
    with pytest.raises(Invalid) as err:
        actions.create_article(people.member, space.id, "Leaky", "x", group_ids=[ops.id])
    assert "groups" in err.value.fields
    assert f.counts() == before
    assert actions.create_article(people.member, space.id, "Fine", "x", group_ids=[eng.id]).group_ids == {eng.id}


def test_nobody_writes_in_a_space_they_cannot_read(people, eng):
    space = f.space(people.curator, "Eng", groups=(eng,))
    with pytest.raises(NotFound):
        actions.create_article(people.other, space.id, "Intruder", "x")


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_article_title_must_be_present_and_short(people, handbook, title):
    with pytest.raises(Invalid) as err:
        actions.create_article(people.member, handbook.id, title, "x")
    assert "title" in err.value.fields


def test_article_body_is_limited(app, people, handbook):
    with pytest.raises(Invalid) as err:
        actions.create_article(people.member, handbook.id, "Long", "x" * (app.config["MAX_BODY_CHARS"] + 1))
    assert "body" in err.value.fields


def test_editing_adds_a_numbered_revision_and_a_stale_base_is_a_conflict(people, handbook):
    art = f.article(people.member, handbook, "Guide", "v1")
    actions.edit_article(people.member, art.id, 1, body="v2", note="second")
    before = f.counts()
    with pytest.raises(Conflict) as err:
        actions.edit_article(people.curator, art.id, 1, body="lost update")
    assert "revision" in err.value.fields
    assert f.counts() == before
    art = db.session.get(Article, art.id)
    db.session.refresh(art)
    assert (art.revision, art.body) == (2, "v2")
    assert [(r.number, r.body, r.note) for r in actions.revisions(people.member, art.id)] == [
        (1, "v1", "Created"), (2, "v2", "second")]


def test_a_reader_who_is_not_a_contributor_cannot_edit(people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    with pytest.raises(Forbidden):
        actions.edit_article(people.other, art.id, 1, body="defaced")
    assert actions.edit_article(people.curator, art.id, 1, body="improved").revision == 2


def test_changing_an_articles_groups_is_audited_and_must_stay_within_the_space(people, eng, ops):
    space = f.space(people.curator, "Mixed", groups=(eng, ops))
    art = f.article(people.curator, space, "Guide", status="published")
    actions.edit_article(people.curator, art.id, 1, group_ids=[ops.id])
    assert _audit("article.groups")[0].data == {"groups": [ops.id]}
    outsider = f.group("outsiders")
    with pytest.raises(Invalid):
        actions.edit_article(people.curator, art.id, 2, group_ids=[outsider.id])


def test_diff_shows_the_changed_lines_between_two_revisions(people, handbook):
    art = f.article(people.member, handbook, "Guide", "line one\nline two\n")
    actions.edit_article(people.member, art.id, 1, body="line one\nline 2\n")
    text = actions.diff(people.member, art.id, 1, 2)
    assert "-line two" in text and "+line 2" in text and " line one" in text
    with pytest.raises(NotFound):
        actions.diff(people.member, art.id, 1, 3)


# --- lifecycle --------------------------------------------------------------------------------

def test_the_author_submits_a_draft_and_a_curator_publishes_it_with_audit_events(people, handbook):
    art = f.article(people.member, handbook, "Guide")
    actions.transition_article(people.member, art.id, "in_review", note="ready")
    with pytest.raises(Forbidden):
        actions.transition_article(people.member, art.id, "published")
    published = actions.transition_article(people.curator, art.id, "published")
    assert published.status == "published"
    assert published.published_at is not None and published.verified_at is not None
    assert actions.verification_state(published) == "verified"
    trail = [(e.action, e.data["old"]) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target == f"article:{art.id}", AuditEvent.action != "article.create")
        .order_by(AuditEvent.id))]
    assert trail == [("article.in_review", "draft"), ("article.published", "in_review")]


def test_a_move_the_lifecycle_forbids_is_a_rule_violation_and_changes_nothing(people, handbook):
    art = f.article(people.member, handbook, "Guide")
    before = f.counts()
    with pytest.raises(RuleViolation) as err:
        actions.transition_article(people.admin, art.id, "published")
    assert err.value.fields == {"to": ["allowed from draft: in_review"]}
    assert f.counts() == before
    assert db.session.get(Article, art.id).status == "draft"


def test_four_eyes_policy_makes_a_second_curator_publish(app, people, handbook):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    art = f.article(people.curator, handbook, "Guide", status="in_review")
    with pytest.raises(RuleViolation):
        actions.transition_article(people.curator, art.id, "published")
    assert db.session.get(Article, art.id).status == "in_review"
    assert actions.transition_article(people.admin, art.id, "published").status == "published"


def test_four_eyes_looks_at_the_latest_revision_not_the_first(app, people, handbook):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    art = f.article(people.member, handbook, "Guide", status="in_review")
    actions.edit_article(people.curator, art.id, 1, body="rewritten by the curator")
    with pytest.raises(RuleViolation):
        actions.transition_article(people.curator, art.id, "published")


def test_without_the_policy_a_curator_publishes_their_own_article(app, people, handbook):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = False
    art = f.article(people.curator, handbook, "Guide", status="in_review")
    assert actions.transition_article(people.curator, art.id, "published").status == "published"


def test_a_curator_outside_the_articles_groups_cannot_even_find_it_to_publish(people, eng):
    space = f.space(people.curator, "Eng", groups=(eng,))
    art = f.article(people.member, space, "Guide", status="in_review")
    lone = f.user("lone@example.com", "curator")
    with pytest.raises(NotFound):
        actions.transition_article(lone, art.id, "published")


# --- verification -----------------------------------------------------------------------------

def test_only_published_articles_can_be_verified_and_only_by_owner_or_curator(people, handbook):
    draft = f.article(people.member, handbook, "Draft")
    with pytest.raises(RuleViolation):
        actions.verify_article(people.member, draft.id)
    pub = f.article(people.member, handbook, "Published", status="published")
    with pytest.raises(Forbidden):
        actions.verify_article(people.other, pub.id)
    assert actions.verify_article(people.member, pub.id).verified_at is not None
    assert actions.verify_article(people.curator, pub.id).verified_at is not None
    assert len(_audit("article.verify")) == 2


def test_verification_expires_after_the_policy_interval(app, people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    days = app.config["POLICY"]["verification"]["interval_days"]
    art.verified_at = utcnow() - timedelta(days=days - 1)
    assert actions.verification_state(art) == "verified"
    art.verified_at = utcnow() - timedelta(days=days + 1)
    assert actions.verification_state(art) == "needs_verification"
    art.verify_interval_days = days + 10
    assert actions.verification_state(art) == "verified"
    art.status = "archived"
    assert actions.verification_state(art) == "unverified"


# --- lists ------------------------------------------------------------------------------------

def test_list_articles_pages_through_what_the_user_may_read(people, handbook, eng):
    eng_space = f.space(people.curator, "Eng", groups=(eng,))
    visible = [f.article(people.member, handbook, f"open {i}", status="published") for i in range(5)]
    f.article(people.member, eng_space, "eng only", status="published")
    f.article(people.member, handbook, "a draft")
    seen, cursor = [], None
    while True:
        items, cursor = actions.list_articles(people.other, cursor=cursor, limit=2)
        seen += [a.id for a in items]
        if cursor is None:
            break
    assert seen == [a.id for a in reversed(visible)]
    assert [a.id for a in actions.list_articles(people.other, status="draft")[0]] == []
    with pytest.raises(NotFound):
        actions.list_articles(people.other, space_id=eng_space.id)


def test_revisions_of_a_hidden_article_are_not_found(people, eng):
    space = f.space(people.curator, "Eng", groups=(eng,))
    art = f.article(people.member, space, "Guide", status="published")
    for call in (lambda: actions.revisions(people.other, art.id),
                 lambda: actions.revision(people.other, art.id, 1),
                 lambda: actions.diff(people.other, art.id, 1, 1)):
        with pytest.raises(NotFound):
            call()
    assert f.count(ArticleRevision) == 1
