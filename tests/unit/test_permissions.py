"""Every rule of cairn.auth.permissions, one object at a time (the agreement of its three forms:
test_permissions_forms.py; the world: conftest.py)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from cairn.auth import permissions as perm
from cairn.errors import Forbidden, NotFound, RuleViolation
from cairn.extensions import db
from cairn.kb.models import STATUSES, Article, ArticleSource
from cairn.stream import actions as stream, members, moderation
from cairn.stream.models import Post, channel_members
from tests import factories as f

# --- stream -----------------------------------------------------------------------------------

def test_private_channel_is_readable_by_its_members_only(world):
    p = world.p
    assert perm.can_read_channel(p.member, world.secret)
    assert perm.can_read_channel(p.curator, world.secret)
    assert not perm.can_read_channel(p.other, world.secret)
    assert not perm.can_read_channel(world.outsider, world.secret)


def test_membership_is_asked_of_the_database_and_a_change_is_seen_at_once(world):
    """can_read_channel asks channel_members (kept for the session until it writes), never loading
    the member list; an add, a remove or a bare statement on the table is seen by the next check."""
    p, secret = world.p, world.secret
    assert not perm.can_read_channel(p.other, secret)
    members.add_member(p.member, secret.id, p.other.id)
    assert perm.can_read_channel(p.other, secret)
    members.remove_member(p.member, secret.id, p.other.id)
    assert not perm.can_read_channel(p.other, secret)
    assert perm.can_read_channel(p.curator, secret)
    db.session.execute(channel_members.delete().where(channel_members.c.channel_id == secret.id,
                                                      channel_members.c.user_id == p.curator.id))
    assert not perm.can_read_channel(p.curator, secret)  # the same transaction, before any commit
    db.session.rollback()
    assert perm.can_read_channel(p.curator, secret)
    assert not perm.can_read_channel(p.other, secret)
    with db.engine.begin() as other_request:  # another session adds them: a refresh sees it
        other_request.execute(channel_members.insert().values(channel_id=secret.id, user_id=p.other.id))
    f.refresh(secret)
    assert perm.can_read_channel(p.other, secret)
    assert "members" not in perm.access_channel(p.member, secret.id).__dict__


def test_admin_role_does_not_open_private_channels(world):
    assert not perm.can_read_channel(world.p.admin, world.secret)


def test_public_channel_is_readable_by_everyone(world):
    assert all(perm.can_read_channel(u, world.general) for u in world.users)


def test_non_member_gets_the_same_not_found_for_a_private_and_a_missing_channel(world):
    with pytest.raises(NotFound) as forbidden:
        perm.access_channel(world.p.other, world.secret.id)
    with pytest.raises(NotFound) as missing:
        perm.access_channel(world.p.other, 999_999)
    assert forbidden.value.message == missing.value.message
    assert perm.access_channel(world.p.member, world.secret.id).id == world.secret.id


def test_only_members_may_post_in_a_private_channel_and_inactive_users_nowhere(world):
    p = world.p
    assert perm.can_post_in(p.curator, world.secret)
    assert not perm.can_post_in(p.other, world.secret)
    assert perm.can_post_in(p.other, world.general)
    p.other.active = False
    assert not perm.can_post_in(p.other, world.general)


def test_post_author_may_edit_but_another_member_and_a_curator_may_not(world):
    p = world.p
    post = f.post(p.member, world.general, "mine")
    assert perm.can_edit_post(p.member, post)
    assert not perm.can_edit_post(p.other, post)
    assert not perm.can_edit_post(p.curator, post)
    assert not perm.can_edit_post(p.admin, post)


def test_post_author_and_curators_may_delete_but_another_member_may_not(world):
    p = world.p
    post = f.post(p.member, world.general, "mine")
    assert perm.can_delete_post(p.member, post)
    assert perm.can_delete_post(p.curator, post)
    assert perm.can_delete_post(p.admin, post)
    assert not perm.can_delete_post(p.other, post)


def test_curator_cannot_delete_or_promote_a_post_in_a_private_channel_they_cannot_read(world):
    p = world.p
    post = f.post(p.member, world.secret, "hush")
    assert not perm.can_delete_post(world.lone_curator, post)
    assert not perm.can_promote(world.lone_curator, post)
    assert perm.can_promote(p.curator, post)
    assert not perm.can_promote(p.member, post)  # members never promote


def test_deleted_post_is_unreadable_even_by_its_author(world):
    p = world.p
    post = f.post(p.member, world.general, "oops")
    stream.delete_post(p.member, post.id)
    db.session.refresh(post)
    assert not perm.can_read_post(p.member, post)
    assert not perm.can_edit_post(p.member, post)
    with pytest.raises(NotFound):
        perm.access_post(p.member, post.id)


def test_list_clauses_follow_a_change_of_role_at_once(world):
    """The clauses are kept per reader id and role (cairn.auth.permissions.reader_clause): a member
    made curator lists the hidden post at the next query, and no longer does once made member again."""
    p = world.p
    post = f.post(p.member, world.general, "off topic")
    moderation.hide_post(p.curator, post.id, "spam")

    def listed() -> bool:
        return post.id in set(db.session.scalars(select(Post.id).where(perm.visible_posts_clause(p.other))))

    assert not listed()
    p.other.role = "curator"
    assert listed()
    p.other.role = "member"
    assert not listed()


def test_channel_creator_and_admin_manage_a_channel_others_do_not(world):
    p = world.p
    assert perm.can_manage_channel(p.member, world.general)
    assert perm.can_manage_channel(p.admin, world.general)
    assert not perm.can_manage_channel(p.other, world.general)
    assert not perm.can_manage_channel(p.curator, world.general)
    assert not perm.can_manage_channel(p.admin, world.secret)  # cannot even read it


# --- spaces and articles ----------------------------------------------------------------------

def test_space_with_groups_is_readable_by_their_members_and_admins_only(world):
    p = world.p
    assert perm.can_read_space(p.member, world.eng_space)
    assert perm.can_read_space(p.curator, world.eng_space)
    assert perm.can_read_space(p.admin, world.eng_space)
    assert not perm.can_read_space(p.other, world.eng_space)
    assert not perm.can_read_space(world.outsider, world.eng_space)
    assert not perm.can_read_space(world.lone_curator, world.eng_space)
    assert perm.can_read_space(p.other, world.mixed)
    assert all(perm.can_read_space(u, world.handbook) for u in world.users)


def test_published_article_inherits_its_space_groups(world):
    p = world.p
    art = f.article(p.curator, world.eng_space, "Deploys", status="published")
    assert perm.can_read_article(p.member, art)
    assert not perm.can_read_article(p.other, art)
    assert not perm.can_read_article(world.outsider, art)


def test_article_groups_narrow_its_space(world):
    p = world.p
    art = f.article(p.curator, world.mixed, "Ops only", groups=(world.ops,), status="published")
    assert perm.can_read_article(p.other, art)          # in ops
    assert not perm.can_read_article(p.member, art)     # in eng: the space, not the article
    assert not perm.can_read_article(world.outsider, art)
    assert perm.can_read_article(p.admin, art)
    assert perm.can_read_article(p.curator, art)        # the author


@pytest.mark.parametrize("status", ["draft", "in_review"])
def test_unpublished_article_is_visible_to_author_owner_and_curators_within_groups_only(world, status):
    p = world.p
    art = f.article(p.member, world.eng_space, "Work in progress", status=status)
    assert perm.can_read_article(p.member, art)                 # author
    assert perm.can_read_article(p.curator, art)                # curator in eng
    assert perm.can_read_article(p.admin, art)
    assert not perm.can_read_article(world.lone_curator, art)   # curator outside eng
    assert not perm.can_read_article(p.other, art)
    # another member of the same group is not enough
    colleague = f.user("colleague@example.com")
    f.add_to_group(colleague, world.eng)
    assert not perm.can_read_article(colleague, art)
    # the owner (when not the author) sees it too
    with db.transaction() as s:
        s.get(Article, art.id).owner_id = colleague.id
    db.session.refresh(art)
    assert perm.can_read_article(colleague, art)


@pytest.mark.parametrize("status", ["published", "archived"])
def test_published_and_archived_articles_are_readable_by_group_members(world, status):
    p = world.p
    art = f.article(p.curator, world.eng_space, "Released", status=status)
    assert perm.can_read_article(p.member, art)
    assert not perm.can_read_article(world.outsider, art)


def test_unpublished_article_in_an_open_space_is_visible_to_every_curator_but_no_member(world):
    p = world.p
    art = f.article(p.member, world.handbook, "Draft in the open")
    assert perm.can_read_article(world.lone_curator, art)
    assert not perm.can_read_article(p.other, art)


def test_admin_reads_every_article_whatever_its_groups_and_status(world):
    p = world.p
    arts = [f.article(p.other, world.mixed, f"ops {s}", groups=(world.ops,), status=s) for s in STATUSES]
    assert all(perm.can_read_article(p.admin, a) for a in arts)
    listed = set(db.session.scalars(select(Article.id).where(perm.visible_articles_clause(p.admin))))
    assert {a.id for a in arts} <= listed


def test_an_article_promoted_from_a_private_channel_is_read_before_publication_only_by_its_members(world):
    """A draft holds the private thread's text: curators and admins outside the channel do not
    read it (nor find it) until a curator who reads the channel publishes it."""
    p = world.p
    source = f.post(p.member, world.secret, "private words")
    art = f.article(world.lone_curator, world.handbook, "From secret", status="in_review")
    with db.transaction() as s:
        s.add(ArticleSource(article_id=art.id, post_id=source.id))
    outside = f.user("outside@example.com", "curator")

    def readers() -> set[str]:
        """Who reads it, after checking that the three forms of the rule agree for each."""
        found = set()
        for u in (p.admin, p.curator, p.member, p.other, world.lone_curator, outside):
            db.session.expire_all()
            one = perm.can_read_article(u, art)
            listed = art.id in set(db.session.scalars(select(Article.id).where(perm.visible_articles_clause(u))))
            indexed = bool(set(perm.search_tokens(u)) & set(perm.article_acl(art)))
            assert one == listed == indexed, (u.email, one, listed, indexed)
            if one:
                found.add(u.email.split("@")[0])
        return found

    # its author and the curator in #secret; not the admin nor a curator outside it, nor a member in it
    assert readers() == {"lone", "curator"}
    members.add_member(p.member, world.secret.id, outside.id)
    assert readers() == {"lone", "curator", "outside"}
    f.set_status(art, "published")
    assert readers() == {"lone", "curator", "outside", "admin", "member", "other"}


def test_editing_an_article_needs_the_author_the_owner_or_a_curator_who_can_read_it(world):
    p = world.p
    art = f.article(p.member, world.eng_space, "Editable", status="published")
    assert perm.can_edit_article(p.member, art)
    assert perm.can_edit_article(p.curator, art)
    assert not perm.can_edit_article(world.lone_curator, art)
    assert not perm.can_edit_article(f.user("reader@example.com"), f.article(p.member, world.handbook, "x",
                                                                          status="published"))


def test_missing_and_forbidden_articles_and_spaces_look_the_same(world):
    p = world.p
    art = f.article(p.member, world.eng_space, "Hidden", status="published")
    for fetch, obj_id in ((perm.access_article, art.id), (perm.access_space, world.eng_space.id)):
        with pytest.raises(NotFound) as forbidden:
            fetch(p.other, obj_id)
        with pytest.raises(NotFound) as missing:
            fetch(p.other, 999_999)
        assert forbidden.value.message == missing.value.message


def test_only_admins_pass_require_admin_and_only_curators_pass_require_curator(world):
    p = world.p
    perm.require_admin(p.admin)
    for u in (p.curator, p.member):
        with pytest.raises(NotFound):
            perm.require_admin(u)
    perm.require_curator(p.curator)
    perm.require_curator(p.admin)
    with pytest.raises(Forbidden):
        perm.require_curator(p.member)


# --- lifecycle --------------------------------------------------------------------------------

# who may make each allowed move; every other (from, to) pair is forbidden for everyone
ALLOWED = {
    ("draft", "in_review"): "contributor",
    ("in_review", "draft"): "contributor",
    ("in_review", "published"): "curator",
    ("published", "draft"): "curator",
    ("published", "archived"): "curator",
    ("archived", "draft"): "curator",
}


def _check(user, article, to, *, second=False, last_author=None):
    perm.check_transition(user, article, to, second_approver=second,
                          last_revision_author_id=last_author if last_author is not None else article.author_id)


def test_lifecycle_allows_exactly_the_listed_moves_to_exactly_the_listed_people(world):
    p = world.p
    articles = {frm: f.article(p.member, world.handbook, f"from {frm}", status=frm) for frm in STATUSES}

    def check(frm, to):
        art = articles[frm]
        who = ALLOWED.get((frm, to))
        if who is None:
            for user in (p.admin, p.curator, p.member):
                with pytest.raises(RuleViolation) as err:
                    _check(user, art, to)
                assert "to" in err.value.fields
            return
        # curators (and admins) may make every allowed move
        _check(p.curator, art, to)
        _check(p.admin, art, to)
        if who == "contributor":
            _check(p.member, art, to)  # the author
            with pytest.raises(Forbidden):
                _check(p.other, art, to)
        else:
            with pytest.raises(Forbidden):
                _check(p.member, art, to)  # even the author needs a curator

    f.each(list(itertools.product(STATUSES, STATUSES)), check)


def test_allowed_targets_lists_the_moves_out_of_each_status():
    assert sorted(perm.allowed_targets("draft")) == ["in_review"]
    assert sorted(perm.allowed_targets("in_review")) == ["draft", "published"]
    assert sorted(perm.allowed_targets("published")) == ["archived", "draft"]
    assert perm.allowed_targets("archived") == ["draft"]


def test_four_eyes_policy_stops_the_latest_revisions_author_from_publishing(world):
    p = world.p
    art = f.article(p.curator, world.handbook, "Needs two", status="in_review")
    with pytest.raises(RuleViolation):
        _check(p.curator, art, "published", second=True, last_author=p.curator.id)
    _check(world.lone_curator, art, "published", second=True, last_author=p.curator.id)
    _check(p.curator, art, "published", second=False, last_author=p.curator.id)
    # the rule is about publishing only: the same curator may still archive or send back
    pub = f.article(p.curator, world.handbook, "Already out", status="published")
    _check(p.curator, pub, "archived", second=True, last_author=p.curator.id)
