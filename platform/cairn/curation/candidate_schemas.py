"""Candidate queue input schemas and output shape (apart from schemas.py, the promotions')."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from cairn.api.schemas import ListArgs
from cairn.auth.models import User
from cairn.curation import candidates
from cairn.curation.candidate_models import Candidate


class CandidateArgs(ListArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(candidates.LISTED_STATUSES),
                           metadata={"description": "open: the queue, best first; dismissed: what curators"
                                                    " dismissed, most recently dismissed first"})


class CandidateDismiss(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CandidateRestore(Schema):
    """Restoring takes no fields (the form carries only its CSRF token)."""


def candidate_out(actor: User, c: Candidate, readable: set[int] | None = None) -> dict[str, Any]:
    """``readable``: the channel ids ``actor`` may read (computed once per page)."""
    post = c.post
    return {
        "id": c.id, "post_id": c.post_id, "channel_id": post.channel_id, "channel": post.channel.name,
        "author": post.author.display_name, "excerpt": candidates.excerpt(c), "url": f"/posts/{c.post_id}",
        "score": c.score, "reasons": candidates.reasons_for(actor, c, readable), "activity": c.activity,
        "status": c.status, "scored_at": c.scored_at.isoformat(), "created_at": c.created_at.isoformat(),
        "dismissed_at": c.dismissed_at.isoformat() if c.dismissed_at else None,
        "dismissed_by_id": c.dismissed_by_id, "dismissed_reason": c.dismissed_reason,
        "dismissed_by": c.dismissed_by.display_name if c.dismissed_by else None,
    }
