"""One scene with an object of every kind the security tests need, owned by known people.

The people are those of ``people``: ``member`` owns most things, ``other`` is a member who owns
nothing and belongs to no group or private channel, ``curator`` is in the private channel and in
the ``eng`` group, ``admin`` is in neither (an admin reads no private channel it was not asked in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from cairn.auth import actions as auth
from cairn.curation import actions as curation
from cairn.extensions import db
from cairn.kb import flags as kb_flags
from cairn.stream import actions as stream, moderation, signals
from cairn.stream.models import Notification
from tests import factories as f

MISSING_ID = 987_654


@dataclass
class Scene:
    people: object
    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


@pytest.fixture
def scene(app, people) -> Scene:
    p = people
    s = Scene(people=p)
    eng = f.group("eng", p.member, p.curator)
    general = f.channel(p.member, "general")
    secret = f.channel(p.member, "secret", private=True, members=(p.curator,))
    public_post = f.post(p.member, general, "Public question: where is the VPN config? @other")
    public_reply = f.post(p.other, general, "Reply: in the wiki", parent=public_post)
    private_post = f.post(p.member, secret, "Private plan for the launch @curator")
    private_reply = f.post(p.curator, secret, "Private reply", parent=private_post)
    handbook = f.space(p.curator, "Handbook")
    restricted_space = f.space(p.curator, "Engineering", groups=(eng,))
    public_article = f.article(p.curator, handbook, "Public guide", "For everyone.", status="published")
    draft = f.article(p.member, handbook, "Member's draft", "Unfinished.")
    restricted_article = f.article(p.member, restricted_space, "Restricted design", "Internals.",
                                   status="published")
    signals.add_bookmark(p.member, public_post.id)
    token, _ = auth.issue_token(p.member, "member's laptop")
    moderation.flag_post(p.other, public_reply.id, "spam")
    article_flag = kb_flags.flag_article(p.other, public_article.id, "outdated", "old")
    restricted_flag = kb_flags.flag_article(p.member, restricted_article.id, "unclear", "hm")
    public_promotion = curation.request_promotion(p.curator, [public_post.id])
    private_promotion = curation.request_promotion(p.curator, [private_post.id])
    stream.create_post(p.other, general.id, "thanks @member")
    notification = db.session.scalars(
        select(Notification).where(Notification.user_id == p.member.id).order_by(Notification.id)).first()
    s.ids = {
        "eng": eng.id, "general": general.id, "secret": secret.id,
        "public_post": public_post.id, "public_reply": public_reply.id,
        "private_post": private_post.id, "private_reply": private_reply.id,
        "handbook": handbook.id, "restricted_space": restricted_space.id,
        "public_article": public_article.id, "draft": draft.id, "restricted_article": restricted_article.id,
        "token": token.id, "article_flag": article_flag.id, "restricted_flag": restricted_flag.id,
        "public_promotion": public_promotion.id, "private_promotion": private_promotion.id,
        "notification": notification.id,
        "member_id": p.member.id, "other_id": p.other.id, "curator_id": p.curator.id, "admin_id": p.admin.id,
    }
    return s
