"""The three forms of cairn.auth.permissions agree (can_* for one object, SQL clauses for lists,
ACL tokens for the search index), and the rules of promotions and notifications."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from cairn.auth import permissions as perm
from cairn.extensions import db
from cairn.kb.models import STATUSES, Article, ArticleSource, Space
from cairn.search import documents
from cairn.stream import actions as stream
from cairn.stream.models import Channel, Post
from tests import factories as f

# --- the three forms agree --------------------------------------------------------------------

@pytest.fixture
def populated(world):
    """Posts in both channels (one deleted, one reply) and articles in every space and status,
    some narrowed, written by different people."""
    p = world.p
    root = f.post(p.member, world.general, "hello all")
    f.post(p.other, world.general, "a reply", parent=root)
    f.post(p.member, world.secret, "private words")
    gone = f.post(p.member, world.general, "deleted words")
    stream.delete_post(p.member, gone.id)
    authors = {world.handbook: p.member, world.eng_space: p.member, world.mixed: p.other}
    for sp, status in itertools.product((world.handbook, world.eng_space, world.mixed), STATUSES):
        f.article(authors[sp], sp, f"{sp.name} {status}", status=status)
        f.article(p.curator, sp, f"{sp.name} {status} narrowed",
                  groups=(world.eng,) if sp.groups else (world.ops,), status=status)
    secret_post = db.session.scalar(select(Post).where(Post.body == "private words"))
    for status in STATUSES:  # promoted from #secret (the curator is in it; the admin is not)
        art = f.article(p.curator, world.handbook, f"From secret {status}", status=status)
        with db.transaction() as s:
            s.add(ArticleSource(article_id=art.id, post_id=secret_post.id))
    return world


def _posts():
    return list(db.session.scalars(select(Post)))


def _articles():
    return list(db.session.scalars(select(Article)))


def test_search_tokens_and_post_acl_agree_with_can_read_post(populated):
    posts = _posts()
    assert len(posts) == 4
    for user in populated.users:
        tokens = set(perm.search_tokens(user))
        for post in posts:
            doc = documents.post_document(post)
            if post.deleted_at is not None:
                assert doc is None and not perm.can_read_post(user, post)
                continue
            assert perm.can_read_post(user, post) == bool(tokens & set(perm.post_acl(post))), (user.email, post.body)
            assert set(doc["acl"].split()) == set(perm.post_acl(post))


def test_search_tokens_and_article_acl_agree_with_can_read_article(populated):
    articles = _articles()
    assert len(articles) == 24 + len(STATUSES)
    seen_by = {u.email: 0 for u in populated.users}
    for user in populated.users:
        tokens = set(perm.search_tokens(user))
        for art in articles:
            readable = perm.can_read_article(user, art)
            assert readable == bool(tokens & set(perm.article_acl(art))), (user.email, art.title)
            seen_by[user.email] += readable
    # the world is varied enough that the check means something: people see different amounts
    assert len(set(seen_by.values())) >= 4, seen_by
    # the admin reads every article but the unpublished ones promoted from #secret
    assert seen_by["admin@example.com"] == 24 + len(perm.READABLE_STATUSES)


def test_sql_clauses_agree_with_can_read_for_every_user(populated):
    for user in populated.users:
        db.session.expire_all()
        channels = set(db.session.scalars(select(Channel.id).where(perm.visible_channels_clause(user))))
        assert channels == {c.id for c in db.session.scalars(select(Channel)) if perm.can_read_channel(user, c)}
        mine = set(db.session.scalars(select(Channel.id).where(perm.member_channels_clause(user))))
        assert mine == {c.id for c in db.session.scalars(select(Channel)) if perm.is_member(user, c)}
        assert mine <= channels
        posts = set(db.session.scalars(select(Post.id).where(perm.visible_posts_clause(user))))
        assert posts == {p.id for p in _posts() if perm.can_read_post(user, p)}, user.email
        spaces = set(db.session.scalars(select(Space.id).where(perm.visible_spaces_clause(user))))
        assert spaces == {s.id for s in db.session.scalars(select(Space)) if perm.can_read_space(user, s)}
        articles = set(db.session.scalars(select(Article.id).where(perm.visible_articles_clause(user))))
        assert articles == {a.id for a in _articles() if perm.can_read_article(user, a)}, user.email


def test_group_membership_changes_take_effect_in_every_form_at_once(populated):
    p = populated.p
    art = db.session.scalar(select(Article).where(Article.title == "Engineering published"))
    assert not perm.can_read_article(p.other, art)
    f.add_to_group(p.other, populated.eng)
    assert perm.can_read_article(p.other, art)
    assert set(perm.search_tokens(p.other)) & set(perm.article_acl(art))
    assert art.id in set(db.session.scalars(select(Article.id).where(perm.visible_articles_clause(p.other))))


# --- promotions and notifications -------------------------------------------------------------

def test_a_promotion_is_seen_by_its_requester_and_by_curators_who_can_read_its_posts_and_space(world):
    from cairn.curation.models import Promotion

    p = world.p
    secret_post = f.post(p.member, world.secret, "private")
    public_post = f.post(p.member, world.general, "public")

    def promotion(post, space) -> Promotion:
        return Promotion(requester_id=p.curator.id, post_ids=[post.id], space_id=space.id)

    private_one = promotion(secret_post, world.handbook)
    assert perm.can_see_promotion(p.curator, private_one)           # requester
    assert not perm.can_see_promotion(world.lone_curator, private_one)
    assert not perm.can_see_promotion(p.admin, private_one)         # not in #secret
    assert not perm.can_see_promotion(p.member, private_one)        # members never, even in #secret
    into_eng = promotion(public_post, world.eng_space)
    assert not perm.can_see_promotion(world.lone_curator, into_eng)
    assert perm.can_see_promotion(p.admin, into_eng)
    assert perm.can_see_promotion(world.lone_curator, promotion(public_post, world.handbook))


def test_notifications_clause_hides_those_naming_an_unreadable_post_or_article(world):
    from cairn.stream.models import Notification

    p = world.p
    hidden_post = f.post(p.member, world.secret, "private")
    hidden_article = f.article(p.member, world.eng_space, "Eng only", status="published")
    public_post = f.post(p.member, world.general, "public")
    with db.transaction() as s:
        for refs in ({"post_id": hidden_post.id}, {"article_id": hidden_article.id}, {"post_id": public_post.id},
                     {}):
            s.add(Notification(user_id=p.other.id, kind="test", text="x", **refs))
        s.add(Notification(user_id=p.member.id, kind="test", text="someone else's"))
    shown = db.session.scalars(select(Notification).where(perm.visible_notifications_clause(p.other))).all()
    assert {(n.post_id, n.article_id) for n in shown} == {(public_post.id, None), (None, None)}
