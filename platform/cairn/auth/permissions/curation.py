"""Curation: who sees a promotion (its redactions and draft) and the candidate queue."""

from __future__ import annotations

from sqlalchemy import false, select
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User
from cairn.auth.permissions._common import reader_clause
from cairn.auth.permissions.kb import can_read_space
from cairn.auth.permissions.stream import can_read_channel, can_read_post, visible_posts_clause
from cairn.curation.candidate_models import Candidate
from cairn.curation.models import Promotion
from cairn.extensions import db
from cairn.kb.models import Space
from cairn.stream.models import Channel, Post


def can_see_promotion(user: User, promotion: Promotion) -> bool:
    """A promotion shows its posts' redactions and its draft: its requester sees it, and so do the
    curators who may read every channel its posts are in and the space it drafts into."""
    if promotion.requester_id == user.id:
        return True
    if not user.is_curator:
        return False
    channels = db.session.scalars(select(Channel).where(
        Channel.id.in_(select(Post.channel_id).where(Post.id.in_(promotion.post_ids))))).all()
    space = db.session.get(Space, promotion.space_id) if promotion.space_id else None
    return all(can_read_channel(user, c) for c in channels) and (space is None or can_read_space(user, space))


def can_see_candidate(user: User, candidate: Candidate) -> bool:
    """The candidate queue is the curators'; each sees the candidates of posts they may read."""
    post = candidate.post
    return user.is_curator and can_read_post(user, post) and post.hidden_at is None


@reader_clause
def visible_candidates_clause(user: User) -> ColumnElement[bool]:
    if not user.is_curator:
        return false()
    readable = select(Post.id).where(visible_posts_clause(user), Post.hidden_at.is_(None))
    return Candidate.post_id.in_(readable)
