"""The knowledge-base governance pages (server-rendered HTML): space settings, refusal reasons on
lifecycle buttons, any-two-revision diffs (inline and side by side, escaped), restore, templates,
the flag queue and the admin audit log; and "not found" outside a restricted space."""

from __future__ import annotations

import pytest

from cairn.extensions import db
from cairn.kb import actions as kb, flags
from cairn.kb.models import Article, Space
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def scene(people):
    s = type("Scene", (), {})()
    s.eng = f.group("eng", people.member, people.curator)
    s.handbook = f.space(people.curator, "Handbook")
    s.guide = f.article(people.member, s.handbook, "Guide", "line one\nline two\n", status="published")
    kb.edit_article(people.member, s.guide.id, 1, body="line one\n<img src=x onerror=alert(1)>\n")
    s.eng_space = f.space(people.curator, "Engineering", groups=(s.eng,))
    s.secret = f.article(people.member, s.eng_space, "Secret design", "v1\n", status="published")
    return s


def _page(client, path: str, status: int = 200) -> str:
    resp = client.get(path)
    assert resp.status_code == status, (path, resp.status_code)
    return resp.get_data(as_text=True)


def test_a_curator_edits_space_settings_and_a_member_cannot_open_them(client, login, people, scene):
    login(people.curator)
    page = _page(client, f"/spaces/{scene.handbook.id}/settings")
    assert "Verification interval in days" in page and 'name="csrf_token"' in page
    resp = client.post(f"/spaces/{scene.handbook.id}/settings", data={
        "csrf_token": csrf_token(client, f"/spaces/{scene.handbook.id}/settings"), "description": "Our ways",
        "owner_id": str(people.member.id), "verify_interval_days": "30", "groups": [str(scene.eng.id)]})
    assert resp.status_code == 302
    space = db.session.get(Space, scene.handbook.id)
    db.session.refresh(space)
    assert (space.description, space.owner_id, space.verify_interval_days, space.group_ids) == (
        "Our ways", people.member.id, 30, {scene.eng.id})
    client.post(f"/spaces/{scene.handbook.id}/settings", data={
        "csrf_token": csrf_token(client, f"/spaces/{scene.handbook.id}/settings"), "description": "Our ways",
        "owner_id": str(people.member.id), "verify_interval_days": ""})
    db.session.refresh(space)
    assert space.verify_interval_days is None and space.group_ids == set()  # no box checked: open again
    client.post("/logout", data={"csrf_token": csrf_token(client, "/spaces")})
    login(people.member)
    _page(client, f"/spaces/{scene.handbook.id}/settings", 404)
    assert "Settings</a>" not in _page(client, f"/spaces/{scene.handbook.id}")


def test_the_article_page_shows_why_the_author_may_not_publish_under_four_eyes(app, client, login, people, scene):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    art = f.article(people.curator, scene.handbook, "Mine", status="in_review")
    login(people.curator)
    page = _page(client, f"/articles/{art.id}")
    assert 'aria-describedby="refusal-published"' in page and "disabled" in page
    assert "The policy requires a second curator: you wrote the latest revision." in page


def test_diffs_compare_any_two_revisions_inline_and_side_by_side_with_content_escaped(client, login, people, scene):
    login(people.other)
    inline = _page(client, f"/articles/{scene.guide.id}/diff?from=1&to=2")
    side = _page(client, f"/articles/{scene.guide.id}/diff?from=2&to=1&view=side")
    for page in (inline, side):
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'class="diff-table"' in side and "diff-replace" in side
    _page(client, f"/articles/{scene.guide.id}/diff?from=1&to=2&view=fancy", 400)


def test_an_editor_restores_an_old_revision_from_its_page(client, login, people, scene):
    login(people.member)
    page = _page(client, f"/articles/{scene.guide.id}/revisions/1")
    assert "Restore as revision 3" in page and "line two" in page
    resp = client.post(f"/articles/{scene.guide.id}/revisions/1/restore",
                       data={"csrf_token": csrf_token(client, f"/articles/{scene.guide.id}"), "revision": "2"})
    assert resp.status_code == 302
    art = db.session.get(Article, scene.guide.id)
    db.session.refresh(art)
    assert (art.revision, art.body) == (3, "line one\nline two\n")
    stale = client.post(f"/articles/{scene.guide.id}/revisions/1/restore",
                        data={"csrf_token": csrf_token(client, f"/articles/{scene.guide.id}"), "revision": "2"})
    assert stale.status_code == 409


def test_the_new_article_page_prefills_the_body_from_a_template(client, login, people, scene):
    login(people.member)
    page = _page(client, f"/articles/new?space_id={scene.handbook.id}")
    assert "Start from a template" in page and "Troubleshooting" in page
    page = _page(client, f"/articles/new?space_id={scene.handbook.id}&template=troubleshooting")
    assert "## Symptom" in page
    _page(client, "/articles/new?template=nope", 404)


def test_a_member_flags_an_article_and_the_owner_resolves_it_in_the_queue(client, login, people, scene):
    login(people.other)
    resp = client.post(f"/articles/{scene.guide.id}/flags", data={
        "csrf_token": csrf_token(client, f"/articles/{scene.guide.id}"), "kind": "wrong", "comment": "<b>typo</b>"})
    assert resp.status_code == 302
    bad = client.post(f"/articles/{scene.guide.id}/flags", data={
        "csrf_token": csrf_token(client, f"/articles/{scene.guide.id}"), "kind": "boring"})
    assert bad.status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/spaces")})
    login(people.member)
    queue = _page(client, "/flags")
    assert "&lt;b&gt;typo&lt;/b&gt;" in queue and "Resolve" in queue
    [flag] = flags.list_flags(people.member)[0]
    resp = client.post(f"/flags/{flag.id}/resolve", data={"csrf_token": csrf_token(client, "/flags"), "note": "fixed"})
    assert resp.status_code == 302
    assert "No open flags" in _page(client, "/flags")
    assert "fixed" in _page(client, "/flags?state=resolved")


def test_only_admins_read_the_audit_log_page_with_filters(client, login, people, scene):
    kb.verify_article(people.member, scene.guide.id)
    login(people.admin)
    page = _page(client, "/admin/audit?action=article.")
    assert "<code>article.verify</code>" in page and "<code>space.create</code>" not in page
    page = _page(client, f"/admin/audit?actor_id={people.curator.id}")
    assert "<code>space.create</code>" in page and "<code>article.verify</code>" not in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/spaces")})
    login(people.curator)
    _page(client, "/admin/audit", 404)


def test_every_page_of_a_restricted_space_is_not_found_for_an_outsider(client, login, people, scene):
    flag = flags.flag_article(people.member, scene.secret.id, "unclear")
    login(people.other)
    art, sp = scene.secret.id, scene.eng_space.id
    for path in (f"/spaces/{sp}", f"/spaces/{sp}/settings", f"/articles/{art}", f"/articles/{art}/edit",
                 f"/articles/{art}/revisions/1", f"/articles/{art}/diff?from=1&to=1",
                 f"/flags?article_id={art}"):
        _page(client, path, 404)
    token = csrf_token(client, "/spaces")
    for path, data in ((f"/articles/{art}/flags", {"kind": "wrong"}), (f"/flags/{flag.id}/resolve", {}),
                       (f"/articles/{art}/revisions/1/restore", {"revision": "1"}),
                       (f"/articles/{art}/verify", {}), (f"/articles/{art}/transition", {"to": "archived"})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    assert "Secret design" not in _page(client, "/flags?state=all")
