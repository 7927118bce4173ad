"""The demo content a first `make run` loads."""

from __future__ import annotations

from sqlalchemy import select

from cairn.auth.models import User
from cairn.curation.candidates import list_candidates
from cairn.demo import load_demo
from cairn.extensions import db


def test_the_demo_fills_the_curators_candidate_queue_at_once(app):
    assert load_demo() is True
    curator = db.session.scalar(select(User).where(User.email == "curator@example.com"))
    items, _ = list_candidates(curator)
    assert items, "a first run shows curators candidates, not an empty queue for 30 minutes"
    assert all(c.reasons for c in items)
    assert load_demo() is False  # a second run loads nothing
