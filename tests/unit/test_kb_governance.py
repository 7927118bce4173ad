"""Knowledge-base governance: the lifecycle table, four-eyes refusals, restoring revisions, side-by-
side diffs, space settings, article templates and reader flags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cairn.audit import AuditEvent
from cairn.auth import permissions as perm
from cairn.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation
from cairn.extensions import db
from cairn.kb import actions, article_templates, flags, revisions
from cairn.kb.models import Article, ArticleFlag, ArticleRevision, Space
from cairn.stream.models import Notification
from tests import factories as f


@pytest.fixture
def eng(people):
    return f.group("eng", people.curator, people.member)


@pytest.fixture
def handbook(people):
    return f.space(people.curator, "Handbook")


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _notes(user) -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


# --- the lifecycle table: every move, allowed and forbidden, and who may make it ---------------

ALLOWED = [
    ("draft", "in_review", "member"), ("draft", "in_review", "curator"),
    ("in_review", "draft", "member"), ("in_review", "draft", "curator"),
    ("in_review", "published", "curator"),
    ("published", "draft", "curator"), ("published", "archived", "curator"),
    ("archived", "draft", "curator"),
]
WRONG_ROLE = [  # a legal move, but not for this person (the member wrote the article)
    ("in_review", "published", "member"), ("published", "draft", "member"),
    ("published", "archived", "member"), ("archived", "draft", "member"),
    ("draft", "in_review", "other"),
]
ILLEGAL = [
    ("draft", "published"), ("draft", "archived"), ("in_review", "archived"), ("published", "in_review"),
    ("archived", "published"), ("archived", "in_review"), ("draft", "draft"), ("published", "published"),
]


@pytest.mark.parametrize("frm,to,who", ALLOWED)
def test_the_lifecycle_allows_this_move_for_this_person(people, handbook, frm, to, who):
    art = f.article(people.member, handbook, "Guide", status=frm)
    moved = actions.transition_article(getattr(people, who), art.id, to)
    assert moved.status == to
    assert _audit(f"article.{to}")[-1].data["old"] == frm


@pytest.mark.parametrize("frm,to,who", WRONG_ROLE)
def test_the_lifecycle_refuses_this_move_to_this_person(people, handbook, frm, to, who):
    art = f.article(people.member, handbook, "Guide", status=frm)
    before = f.counts()
    with pytest.raises((Forbidden, NotFound)):
        actions.transition_article(getattr(people, who), art.id, to)
    assert f.counts() == before and db.session.get(Article, art.id).status == frm


@pytest.mark.parametrize("frm,to", ILLEGAL)
def test_a_move_outside_the_lifecycle_is_a_rule_violation_even_for_an_admin(people, handbook, frm, to):
    art = f.article(people.member, handbook, "Guide", status=frm)
    with pytest.raises(RuleViolation) as err:
        actions.transition_article(people.admin, art.id, to)
    assert "to" in err.value.fields


def test_four_eyes_shows_the_author_why_publish_is_refused_and_a_second_curator_may_publish(app, people, handbook):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    art = f.article(people.curator, handbook, "Guide", status="in_review")
    choices = dict(actions.transition_choices(people.curator, art))
    assert "second curator" in choices["published"] and choices["draft"] is None
    assert dict(actions.transition_choices(people.admin, art))["published"] is None
    assert "published" not in dict(actions.transition_choices(people.member, art))  # members never publish
    assert actions.transition_article(people.admin, art.id, "published").status == "published"


def test_without_four_eyes_the_author_curator_is_offered_publish(app, people, handbook):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = False
    art = f.article(people.curator, handbook, "Guide", status="in_review")
    assert dict(actions.transition_choices(people.curator, art))["published"] is None


# --- revisions: restore and side-by-side diff ---------------------------------------------------

def test_restoring_an_old_revision_adds_a_new_one_with_its_content_and_keeps_history(people, handbook):
    art = f.article(people.member, handbook, "Guide", "v1 body")
    actions.edit_article(people.member, art.id, 1, title="Guide v2", body="v2 body", tags=["x"])
    restored = revisions.restore_revision(people.member, art.id, 1, base_revision=2)
    assert (restored.revision, restored.title, restored.body, restored.tags) == (3, "Guide", "v1 body", "")
    revs = actions.revisions(people.member, art.id)
    assert [(r.number, r.body, r.note) for r in revs] == [
        (1, "v1 body", "Created"), (2, "v2 body", ""), (3, "v1 body", "Restored revision 1")]
    assert _audit("article.restore")[0].data == {"restored": 1, "revision": 3}


def test_restoring_from_a_stale_revision_number_is_a_conflict_and_writes_nothing(people, handbook):
    art = f.article(people.member, handbook, "Guide", "v1")
    actions.edit_article(people.member, art.id, 1, body="v2")
    before = f.counts()
    with pytest.raises(Conflict) as err:
        revisions.restore_revision(people.member, art.id, 1, base_revision=1)
    assert "revision" in err.value.fields and f.counts() == before


def test_outsiders_cannot_find_a_revision_to_restore_nor_anyone_a_missing_one(people, eng):
    space = f.space(people.curator, "Eng", groups=(eng,))
    art = f.article(people.member, space, "Guide", "v1", status="published")
    actions.edit_article(people.member, art.id, 1, body="v2")
    with pytest.raises(NotFound):
        revisions.restore_revision(people.other, art.id, 1, base_revision=2)
    with pytest.raises(NotFound):
        revisions.restore_revision(people.member, art.id, 9, base_revision=2)
    assert f.count(ArticleRevision) == 2


def test_a_reader_who_is_not_an_editor_cannot_restore(people, handbook):
    art = f.article(people.member, handbook, "Guide", "v1", status="published")
    actions.edit_article(people.member, art.id, 1, body="v2")
    with pytest.raises(Forbidden):
        revisions.restore_revision(people.other, art.id, 1, base_revision=2)


def test_side_by_side_pairs_changed_lines_and_marks_insertions_and_deletions():
    rows = revisions.side_by_side("a\nb\nc\nd\n", "a\nB\nc\nnew\nd\nend\n")
    assert [(r.kind, r.old_number, r.old_text, r.new_number, r.new_text) for r in rows] == [
        ("equal", 1, "a", 1, "a"), ("replace", 2, "b", 2, "B"), ("equal", 3, "c", 3, "c"),
        ("insert", None, "", 4, "new"), ("equal", 4, "d", 5, "d"), ("insert", None, "", 6, "end")]
    deleted = revisions.side_by_side("keep\ngone\n", "keep\n")
    assert [(r.kind, r.old_text, r.new_number) for r in deleted] == [("equal", "keep", 1), ("delete", "gone", None)]


def test_any_two_revisions_compare_in_either_order_with_title_changes(people, handbook):
    art = f.article(people.member, handbook, "First", "one\n")
    actions.edit_article(people.member, art.id, 1, body="one\ntwo\n")
    actions.edit_article(people.member, art.id, 2, title="Third", body="three\n")
    cmp = revisions.compare(people.member, art.id, 3, 1)
    assert cmp.title_changed and (cmp.old_title, cmp.new_title) == ("Third", "First")
    assert "-three" in cmp.unified and "+one" in cmp.unified
    assert revisions.compare(people.member, art.id, 2, 2).body_changed is False


# --- spaces -------------------------------------------------------------------------------------

def test_curators_change_a_spaces_owner_and_verification_interval_and_it_is_audited(people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    space = actions.update_space(people.curator, handbook.id, owner_id=people.member.id, verify_interval_days=7,
                                 description="Team handbook")
    assert (space.owner_id, space.verify_interval_days, space.description) == (people.member.id, 7, "Team handbook")
    assert _audit("space.update")[0].data == {"description": "Team handbook", "owner_id": people.member.id,
                                               "verify_interval_days": 7}
    f.refresh(art)
    from cairn.kb.verification import interval_days

    assert interval_days(art) == 7
    actions.update_space(people.curator, handbook.id, verify_interval_days=None)
    assert db.session.get(Space, handbook.id).verify_interval_days is None


def test_a_space_owner_must_be_an_active_user(people, handbook):
    with pytest.raises(Invalid) as err:
        actions.update_space(people.curator, handbook.id, owner_id=987654)
    assert "owner_id" in err.value.fields


def test_members_cannot_change_space_settings(people, handbook):
    with pytest.raises(Forbidden):
        actions.update_space(people.member, handbook.id, verify_interval_days=3)


# --- templates ----------------------------------------------------------------------------------

def test_the_four_article_templates_come_from_config_with_labels_and_bodies(app):
    templates = {t.key: t for t in article_templates.list_templates()}
    assert {"how-to", "troubleshooting", "faq", "reference"} <= set(templates)
    assert templates["faq"].label == "FAQ" and "## Question one?" in templates["faq"].body
    assert not templates["how-to"].body.startswith("---")
    with pytest.raises(NotFound):
        article_templates.get_template("nope")


def test_a_template_folder_can_be_configured(app, tmp_path):
    (tmp_path / "postmortem.md").write_text("## What happened\n")
    app.config["CAIRN"]["article_templates_dir"] = str(tmp_path)
    [only] = article_templates.list_templates()
    assert (only.key, only.label, only.body) == ("postmortem", "Postmortem", "## What happened\n")


# --- reader flags -------------------------------------------------------------------------------

def test_any_reader_flags_an_article_and_its_owner_is_notified(people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    flag = flags.flag_article(people.other, art.id, "outdated", "  The URL moved.  ")
    assert (flag.kind, flag.comment, flag.reporter_id, flag.resolved_at) == ("outdated", "The URL moved.", people.other.id, None)
    [note] = _notes(people.member)
    assert (note.kind, note.article_id) == ("flag", art.id) and "outdated" in note.text
    assert _audit("article.flag")[0].data == {"flag": flag.id, "kind": "outdated"}


def test_a_bad_flag_kind_is_invalid_and_nothing_is_written(people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    before = f.counts()
    with pytest.raises(Invalid) as err:
        flags.flag_article(people.other, art.id, "boring")
    assert "kind" in err.value.fields and f.counts() == before


def test_flags_land_in_the_owners_and_curators_queue_and_the_reporter_sees_their_own(people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    flag = flags.flag_article(people.other, art.id, "wrong", "step 3 fails")
    for who in (people.member, people.curator, people.admin, people.other):
        assert [x.id for x in flags.list_flags(who)[0]] == [flag.id], who.email
    stranger = f.user("stranger@example.com")
    assert flags.list_flags(stranger)[0] == []
    assert flags.open_flag_count(people.member) == 1 and flags.open_flag_count(people.curator) == 1
    assert flags.open_flag_count(people.other) == 0  # the reporter raised it; not theirs to resolve


def test_the_owner_resolves_a_flag_with_a_note_and_the_reporter_is_told(people, handbook):
    art = f.article(people.member, handbook, "Guide", status="published")
    flag = flags.flag_article(people.other, art.id, "wrong")
    with pytest.raises(Forbidden):
        flags.resolve_flag(people.other, flag.id, "I fixed it myself")
    resolved = flags.resolve_flag(people.member, flag.id, "Fixed step 3")
    assert resolved.resolver_id == people.member.id and resolved.resolution == "Fixed step 3"
    assert [n.text for n in _notes(people.other)] == [
        "Your flag on “Guide” was resolved by Milo Member: Fixed step 3"]
    with pytest.raises(Conflict):
        flags.resolve_flag(people.curator, flag.id, "again")
    assert flags.list_flags(people.member)[0] == []
    assert [x.id for x in flags.list_flags(people.member, "resolved")[0]] == [flag.id]
    assert _audit("flag.resolve")[0].data == {"flag": flag.id, "note": "Fixed step 3"}


def test_flags_on_a_restricted_article_are_invisible_to_outsiders_even_curators(people, eng):
    space = f.space(people.curator, "Eng", groups=(eng,))
    art = f.article(people.member, space, "Guide", status="published")
    flag = flags.flag_article(people.member, art.id, "unclear")
    lone = f.user("lone@example.com", "curator")
    assert flags.list_flags(lone)[0] == [] and flags.open_flag_count(lone) == 0
    for call in (lambda: flags.resolve_flag(lone, flag.id), lambda: perm.access_flag(lone, flag.id),
                 lambda: flags.flag_article(people.other, art.id, "wrong"),
                 lambda: flags.list_flags(people.other, article_id=art.id)):
        with pytest.raises(NotFound):
            call()
    assert f.count(ArticleFlag) == 1
