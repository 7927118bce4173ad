"""The permission tests' world (tests/unit/test_permissions*.py)."""

from __future__ import annotations

import pytest

from cairn import search
from tests import factories as f


@pytest.fixture
def world(app, people, monkeypatch):
    """Groups eng = {curator, member}, ops = {other}; an outsider and a curator with no group;
    a public and a private channel; an open space, an eng space and an eng+ops space."""
    # these tests hold the permission functions against each other, not against the index
    # (tests/api/test_api_visibility.py does that): skip the index writes, the costly part
    monkeypatch.setattr(search, "sync_document", lambda kind, obj_id: None)
    w = type("World", (), {})()
    w.p = people
    w.outsider = f.user("outsider@example.com")
    w.lone_curator = f.user("lone@example.com", "curator")
    w.eng = f.group("eng", people.curator, people.member)
    w.ops = f.group("ops", people.other)
    w.general = f.channel(people.member, "general")
    w.secret = f.channel(people.member, "secret", private=True, members=(people.curator,))
    w.handbook = f.space(people.curator, "Handbook")
    w.eng_space = f.space(people.curator, "Engineering", groups=(w.eng,))
    w.mixed = f.space(people.curator, "Mixed", groups=(w.eng, w.ops))
    w.users = [people.admin, people.curator, people.member, people.other, w.outsider, w.lone_curator]
    return w
