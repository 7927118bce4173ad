"""/api/v1 for knowledge-base governance: space settings, restore, diffs of any two revisions, flags,
article templates, the audit log, and "not found" for everyone outside a restricted space."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cairn.kb import actions as kb
from cairn.kb.verification import mark_overdue_articles
from cairn.models_base import utcnow
from tests import factories as f
from tests.api.test_api_routes import error_of, ok

NOPE = 999_999


@pytest.fixture
def h(people, bearer):
    return type("Headers", (), {name: bearer(getattr(people, name))
                                for name in ("admin", "curator", "member", "other")})()


@pytest.fixture
def scene(people):
    """Handbook (open) with a published guide by the member (2 revisions); Eng restricted to the
    eng group (member, curator) with a published article and an open flag; `other` is outside."""
    s = type("Scene", (), {})()
    s.eng = f.group("eng", people.member, people.curator)
    s.handbook = f.space(people.curator, "Handbook")
    s.guide = f.article(people.member, s.handbook, "Guide", "line one\nline two\n", status="published")
    kb.edit_article(people.member, s.guide.id, 1, body="line one\nline 2\n<script>x</script>\n")
    s.eng_space = f.space(people.curator, "Engineering", groups=(s.eng,))
    s.secret = f.article(people.member, s.eng_space, "Secret design", "v1\n", status="published")
    kb.edit_article(people.member, s.secret.id, 1, body="v2\n")
    from cairn.kb import flags

    s.secret_flag = flags.flag_article(people.curator, s.secret.id, "wrong", "v2 is wrong")
    return s


# --- spaces ---------------------------------------------------------------------------------------

def test_a_curator_changes_space_settings_through_the_api(client, people, h, scene):
    body = ok(client.patch(f"/api/v1/spaces/{scene.handbook.id}", headers=h.curator,
                           json={"owner_id": people.member.id, "verify_interval_days": 14, "description": "d"}))
    assert (body["owner"]["id"], body["verify_interval_days"], body["description"]) == (people.member.id, 14, "d")
    cleared = ok(client.patch(f"/api/v1/spaces/{scene.handbook.id}", headers=h.curator,
                              json={"verify_interval_days": None}))
    assert cleared["verify_interval_days"] is None and cleared["owner"]["id"] == people.member.id
    error_of(client.patch(f"/api/v1/spaces/{scene.handbook.id}", headers=h.member, json={"description": "x"}), 403)
    err = error_of(client.patch(f"/api/v1/spaces/{scene.handbook.id}", headers=h.curator,
                                json={"verify_interval_days": 0}), 400)
    assert "verify_interval_days" in err["fields"]


def test_an_unknown_space_is_not_found(client, h):
    error_of(client.get(f"/api/v1/spaces/{NOPE}", headers=h.curator), 404, "not_found")
    error_of(client.patch(f"/api/v1/spaces/{NOPE}", headers=h.curator, json={"description": "x"}), 404)
    error_of(client.post("/api/v1/articles", headers=h.curator, json={"space_id": NOPE, "title": "x"}), 404)


# --- lifecycle and revisions -----------------------------------------------------------------------

def test_an_illegal_transition_is_422_and_a_stale_edit_409(client, h, scene):
    err = error_of(client.post(f"/api/v1/articles/{scene.guide.id}/transitions", headers=h.curator,
                               json={"to": "in_review"}), 422, "rule_violated")
    assert "to" in err["fields"]
    error_of(client.patch(f"/api/v1/articles/{scene.guide.id}", headers=h.member,
                          json={"revision": 1, "body": "lost"}), 409, "conflict")


def test_four_eyes_refuses_the_author_with_a_422_that_says_why(app, client, people, h, scene):
    app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    art = f.article(people.curator, scene.handbook, "Mine", status="in_review")
    err = error_of(client.post(f"/api/v1/articles/{art.id}/transitions", headers=h.curator,
                               json={"to": "published"}), 422)
    assert "second curator" in err["message"]
    assert ok(client.post(f"/api/v1/articles/{art.id}/transitions", headers=h.admin,
                          json={"to": "published"}))["status"] == "published"


def test_any_two_revisions_are_compared_inline_and_side_by_side(client, h, scene):
    body = ok(client.get(f"/api/v1/articles/{scene.guide.id}/diff?from=1&to=2", headers=h.other))
    assert "-line two" in body["diff"] and "+line 2" in body["diff"]
    assert body["title"] == {"from": "Guide", "to": "Guide", "changed": False}
    kinds = [(r["kind"], r["old_text"], r["new_text"]) for r in body["side_by_side"]]
    assert kinds == [("equal", "line one", "line one"), ("replace", "line two", "line 2"),
                     ("insert", "", "<script>x</script>")]
    reverse = ok(client.get(f"/api/v1/articles/{scene.guide.id}/diff?from=2&to=1", headers=h.other))
    assert "+line two" in reverse["diff"]
    error_of(client.get(f"/api/v1/articles/{scene.guide.id}/diff?from=1&to=7", headers=h.other), 404)


def test_restoring_a_revision_makes_a_new_one_and_a_stale_number_is_409(client, h, scene):
    url = f"/api/v1/articles/{scene.guide.id}/revisions/1/restore"
    art = ok(client.post(url, headers=h.member, json={"revision": 2, "note": "back to the original"}), 201)
    assert (art["revision"], art["body"]) == (3, "line one\nline two\n")
    revs = ok(client.get(f"/api/v1/articles/{scene.guide.id}/revisions", headers=h.member))["items"]
    assert [r["note"] for r in revs] == ["Created", "", "back to the original"]
    error_of(client.post(url, headers=h.member, json={"revision": 2}), 409, "conflict")
    error_of(client.post(url, headers=h.other, json={"revision": 3}), 403)
    error_of(client.post(url, headers=h.member, json={}), 400)
    error_of(client.post(f"/api/v1/articles/{scene.guide.id}/revisions/9/restore", headers=h.member,
                         json={"revision": 3}), 404)


# --- flags ------------------------------------------------------------------------------------------

def test_a_reader_flags_an_article_and_the_owner_resolves_it(client, people, h, scene):
    flag = ok(client.post(f"/api/v1/articles/{scene.guide.id}/flags", headers=h.other,
                          json={"kind": "outdated", "comment": "line 2 changed"}), 201)
    assert (flag["kind"], flag["state"], flag["reporter"]["id"]) == ("outdated", "open", people.other.id)
    queue = ok(client.get("/api/v1/flags", headers=h.member))["items"]
    assert [x["id"] for x in queue] == [flag["id"], scene.secret_flag.id]  # the member owns both articles
    done = ok(client.post(f"/api/v1/flags/{flag['id']}/resolution", headers=h.member, json={"note": "updated"}))
    assert (done["state"], done["resolution"], done["resolver"]["id"]) == ("resolved", "updated", people.member.id)
    error_of(client.post(f"/api/v1/flags/{flag['id']}/resolution", headers=h.member, json={}), 409)
    resolved = ok(client.get("/api/v1/flags?state=resolved", headers=h.other))["items"]
    assert [x["id"] for x in resolved] == [flag["id"]]
    notes = ok(client.get("/api/v1/notifications", headers=h.other))["items"]
    assert any("was resolved" in n["text"] for n in notes)


def test_a_bad_flag_kind_is_400_and_a_reporter_cannot_resolve(client, h, scene):
    err = error_of(client.post(f"/api/v1/articles/{scene.guide.id}/flags", headers=h.other,
                               json={"kind": "boring"}), 400, "invalid")
    assert "kind" in err["fields"]
    error_of(client.get("/api/v1/flags?state=closed", headers=h.other), 400)
    flag = ok(client.post(f"/api/v1/articles/{scene.guide.id}/flags", headers=h.other, json={"kind": "wrong"}), 201)
    error_of(client.post(f"/api/v1/flags/{flag['id']}/resolution", headers=h.other, json={"note": "x"}), 403)


def test_curators_see_every_flag_they_may_read_and_members_only_theirs(client, h, scene):
    assert [x["id"] for x in ok(client.get("/api/v1/flags", headers=h.curator))["items"]] == [scene.secret_flag.id]
    assert ok(client.get("/api/v1/flags", headers=h.other))["items"] == []
    assert [x["id"] for x in ok(client.get(f"/api/v1/flags?article_id={scene.secret.id}",
                                           headers=h.member))["items"]] == [scene.secret_flag.id]


# --- templates, verification, audit ------------------------------------------------------------------

def test_article_templates_are_listed(client, h):
    items = ok(client.get("/api/v1/article-templates", headers=h.member))["items"]
    assert {t["key"] for t in items} >= {"how-to", "troubleshooting", "faq", "reference"}
    assert all(t["label"] and t["body"] for t in items)


def test_the_article_carries_its_verification_state_due_date_and_needs_verification_mark(app, client, h, scene):
    art = ok(client.get(f"/api/v1/articles/{scene.guide.id}", headers=h.other))
    assert art["verification"] == "unverified" and art["verify_interval_days"] == 90  # set_status skips verified_at
    ok(client.post(f"/api/v1/articles/{scene.guide.id}/verification", headers=h.member))
    art = ok(client.get(f"/api/v1/articles/{scene.guide.id}", headers=h.other))
    assert art["verification"] == "verified" and art["verification_due"] and art["needs_verification_since"] is None
    mark_overdue_articles(now=utcnow() + timedelta(days=91))
    art = ok(client.get(f"/api/v1/articles/{scene.guide.id}", headers=h.other))
    assert art["verification"] == "needs_verification" and art["needs_verification_since"]
    hits = ok(client.get("/api/v1/search?q=guide&kind=article", headers=h.other))["items"]
    assert [(x["id"], x["verification"]) for x in hits] == [(scene.guide.id, "needs_verification")]


def test_governance_actions_are_in_the_audit_log_filtered_by_action_prefix_and_actor(client, people, h, scene):
    ok(client.post(f"/api/v1/articles/{scene.guide.id}/verification", headers=h.member))
    ok(client.post(f"/api/v1/articles/{scene.guide.id}/flags", headers=h.other, json={"kind": "wrong"}), 201)
    events = ok(client.get("/api/v1/audit?action=article.", headers=h.admin))["items"]
    assert {"article.verify", "article.flag", "article.create"} <= {e["action"] for e in events}
    mine = ok(client.get(f"/api/v1/audit?actor_id={people.other.id}", headers=h.admin))["items"]
    assert [e["action"] for e in mine] == ["article.flag"]
    error_of(client.get("/api/v1/audit", headers=h.curator), 404)


# --- "not found" for everyone outside a restricted space, on every path ------------------------------

def test_every_kb_path_into_a_restricted_space_answers_an_outsider_like_a_missing_one(client, h, scene):
    art, sp, flag = scene.secret.id, scene.eng_space.id, scene.secret_flag.id
    pairs = [
        ("GET", f"/api/v1/spaces/{sp}", f"/api/v1/spaces/{NOPE}", None),
        ("PATCH", f"/api/v1/spaces/{sp}", f"/api/v1/spaces/{NOPE}", {"description": "x"}),
        ("GET", f"/api/v1/articles?space_id={sp}", f"/api/v1/articles?space_id={NOPE}", None),
        ("GET", f"/api/v1/articles/{art}", f"/api/v1/articles/{NOPE}", None),
        ("GET", f"/api/v1/articles/{art}/revisions", f"/api/v1/articles/{NOPE}/revisions", None),
        ("GET", f"/api/v1/articles/{art}/revisions/1", f"/api/v1/articles/{NOPE}/revisions/1", None),
        ("GET", f"/api/v1/articles/{art}/diff?from=1&to=2", f"/api/v1/articles/{NOPE}/diff?from=1&to=2", None),
        ("POST", f"/api/v1/articles/{art}/revisions/1/restore", f"/api/v1/articles/{NOPE}/revisions/1/restore",
         {"revision": 2}),
        ("POST", f"/api/v1/articles/{art}/transitions", f"/api/v1/articles/{NOPE}/transitions", {"to": "archived"}),
        ("POST", f"/api/v1/articles/{art}/verification", f"/api/v1/articles/{NOPE}/verification", None),
        ("POST", f"/api/v1/articles/{art}/flags", f"/api/v1/articles/{NOPE}/flags", {"kind": "wrong"}),
        ("GET", f"/api/v1/flags?article_id={art}", f"/api/v1/flags?article_id={NOPE}", None),
        ("GET", f"/api/v1/flags/{flag}", f"/api/v1/flags/{NOPE}", None),
        ("POST", f"/api/v1/flags/{flag}/resolution", f"/api/v1/flags/{NOPE}/resolution", {"note": "x"}),
    ]
    before = f.counts()
    for method, hidden_path, missing_path, body in pairs:
        hidden = client.open(hidden_path, method=method, json=body, headers=h.other)
        missing = client.open(missing_path, method=method, json=body, headers=h.other)
        error_of(hidden, 404, "not_found")
        assert hidden.get_json() == missing.get_json(), hidden_path
    assert f.counts() == before
    assert ok(client.get("/api/v1/flags?state=all", headers=h.other))["items"] == []
    hits = ok(client.get("/api/v1/search?q=secret", headers=h.other))
    assert hits["total"] == 0
