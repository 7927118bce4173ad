"""/api/v1/candidates and the curator's candidate page: ranked with the reasons, paged, dismissed
with a reason (audited), 403 for members, 404 for what the caller cannot see, 400 for bad input
with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cairn import search
from cairn.audit import AuditEvent
from cairn.config import CONFIG_DIR, load_policy
from cairn.curation import candidates as cand
from cairn.curation.candidate_models import Candidate
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.stream import actions as stream
from cairn.stream.models import Post
from tests import factories as f
from tests.api.test_api_routes import error_of, ok
from tests.conftest import csrf_token


@pytest.fixture(autouse=True)
def no_index_writes(monkeypatch):
    """Scoring reads the database, never the search index: skip the index writes, the costly part."""
    monkeypatch.setattr(search, "sync_document", lambda kind, obj_id: None)


@pytest.fixture
def h(people, bearer):
    return type("Headers", (), {name: bearer(getattr(people, name)) for name in ("curator", "member")})()


@pytest.fixture
def scene(people):
    """Three scored threads in #help (the busiest first) and one in a private channel the curator
    is not in."""
    s = type("Scene", (), {})()
    s.help = f.channel(people.member, "help")
    s.secret = f.channel(people.member, "secret", private=True, members=(people.other,))
    s.roots = []
    for n, question in zip((4, 3, 2), ("vpn setup on laptops", "printer queue stuck", "payroll export format")):
        root = f.post(people.member, s.help, question)
        for i in range(n):
            f.post(people.other, s.help, f"try step {i}", parent=root)
        s.roots.append(root)
    s.hidden = f.post(people.member, s.secret, "salary bands review")
    for i in range(3):
        f.post(people.other, s.secret, f"note {i}", parent=s.hidden)
    cand.score_candidates()
    s.by_post = {c.post_id: c.id for c in db.session.scalars(select(Candidate))}
    return s


def test_curators_get_candidates_best_first_with_reasons_in_words(client, h, scene):
    body = ok(client.get("/api/v1/candidates", headers=h.curator))
    assert [c["post_id"] for c in body["items"]] == [r.id for r in scene.roots] and body["next"] is None
    first = body["items"][0]
    assert first["channel"] == "help" and first["url"] == f"/posts/{scene.roots[0].id}"
    assert first["excerpt"] == "vpn setup on laptops" and first["status"] == "open"
    replies = {r["signal"]: r for r in first["reasons"]}["replies"]
    assert replies["value"] == 4 and replies["text"] == "4 replies" and replies["points"] > 0
    scores = [c["score"] for c in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_the_list_pages_with_an_opaque_cursor(client, h, scene):
    seen, cursor = [], None
    for _ in range(4):
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        body = ok(client.get("/api/v1/candidates", query_string=query, headers=h.curator))
        seen += [c["post_id"] for c in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [r.id for r in scene.roots]


def test_members_are_refused_and_anonymous_callers_must_log_in(client, h, scene):
    error_of(client.get("/api/v1/candidates", headers=h.member), 403, "forbidden")
    candidate_id = scene.by_post[scene.roots[0].id]
    error_of(client.post(f"/api/v1/candidates/{candidate_id}/dismissal", json={"reason": "x"}, headers=h.member),
             403, "forbidden")
    error_of(client.get("/api/v1/candidates"), 401, "unauthorized")


def test_dismissing_takes_the_candidate_off_the_queue_and_is_audited(client, h, people, scene):
    candidate_id = scene.by_post[scene.roots[0].id]
    body = ok(client.post(f"/api/v1/candidates/{candidate_id}/dismissal", json={"reason": "too specific"},
                          headers=h.curator))
    assert body["status"] == "dismissed" and body["dismissed_reason"] == "too specific"
    assert body["dismissed_by_id"] == people.curator.id
    listed = ok(client.get("/api/v1/candidates", headers=h.curator))["items"]
    assert candidate_id not in [c["id"] for c in listed]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.target == f"candidate:{candidate_id}"))
    assert event.action == "candidate.dismiss" and event.actor_id == people.curator.id


def test_a_candidate_the_curator_cannot_read_is_not_found(client, h, scene):
    hidden_id = scene.by_post[scene.hidden.id]
    error_of(client.post(f"/api/v1/candidates/{hidden_id}/dismissal", json={"reason": "x"}, headers=h.curator),
             404, "not_found")
    error_of(client.post("/api/v1/candidates/999999/dismissal", json={"reason": "x"}, headers=h.curator),
             404, "not_found")
    assert db.session.get(Candidate, hidden_id).status == "open"


def test_bad_input_is_a_400_and_writes_nothing(client, h, scene):
    candidate_id = scene.by_post[scene.roots[0].id]
    before = f.counts()
    cases = [
        ("post", f"/api/v1/candidates/{candidate_id}/dismissal", {"reason": ""}, "reason"),
        ("post", f"/api/v1/candidates/{candidate_id}/dismissal", {"reason": "x" * 501}, "reason"),
        ("post", f"/api/v1/candidates/{candidate_id}/dismissal", {}, "reason"),
        ("post", f"/api/v1/candidates/{candidate_id}/dismissal", ["not", "an", "object"], "_body"),
        ("get", "/api/v1/candidates?cursor=garbage", None, "cursor"),
        ("get", "/api/v1/candidates?limit=0", None, "limit"),
        ("get", "/api/v1/candidates?limit=abc", None, "limit"),
    ]

    def check(method, url, payload, field):
        resp = getattr(client, method)(url, json=payload, headers=h.curator) if method == "post" \
            else client.get(url, headers=h.curator)
        assert field in error_of(resp, 400)["fields"]

    f.each(cases, check)
    assert f.counts() == before
    assert db.session.get(Candidate, candidate_id).status == "open"


def test_the_candidates_are_in_the_openapi_document(client):
    paths = ok(client.get("/api/v1/openapi.json"))["paths"]
    assert "get" in paths["/api/v1/candidates"]
    assert "requestBody" in paths["/api/v1/candidates/{candidate_id}/dismissal"]["post"]


def test_the_queue_page_shows_reasons_and_promote_and_dismiss_forms(client, login, people, scene):
    f.space(people.curator, "Handbook")
    login(people.curator)
    page = client.get("/candidates").get_data(as_text=True)
    assert "vpn setup on laptops" in page and "4 replies" in page and "salary bands" not in page
    assert 'action="/promotions"' in page and f'name="post_ids" value="{scene.roots[0].id}"' in page
    candidate_id = scene.by_post[scene.roots[1].id]
    refused = client.post(f"/candidates/{candidate_id}/dismiss", data={"reason": "dup"})
    assert refused.status_code == 400 and db.session.get(Candidate, candidate_id).status == "open"
    token = csrf_token(client, "/candidates")
    resp = client.post(f"/candidates/{candidate_id}/dismiss", data={"reason": "dup", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/candidates")
    db.session.rollback()
    assert db.session.get(Candidate, candidate_id, populate_existing=True).status == "dismissed"
    assert "printer queue stuck" not in client.get("/candidates").get_data(as_text=True)
    third = scene.by_post[scene.roots[2].id]
    empty = client.post(f"/candidates/{third}/dismiss", data={"reason": "", "csrf_token": token})
    assert empty.status_code == 400 and "reason" in empty.get_data(as_text=True)
    # Promote posts the candidate's post to the promotion form: it leaves the queue at once
    promoted = client.post("/promotions", data={"post_ids": str(scene.roots[2].id), "mode": "new",
                                                 "csrf_token": token})
    assert promoted.status_code == 302, promoted.get_data(as_text=True)[:300]
    db.session.rollback()
    assert db.session.get(Candidate, third, populate_existing=True).status == "promoted"
    assert "payroll export format" not in client.get("/candidates").get_data(as_text=True)


def test_the_sidebar_links_the_queue_for_curators_only(client, login, people):
    login(people.curator)
    assert 'href="/candidates"' in client.get("/promotions").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/promotions")})
    login(people.member)
    assert 'href="/candidates"' not in client.get("/saved").get_data(as_text=True)
    assert client.get("/candidates").status_code == 403


def _promote_to_review(client, h, post_id: int, space_id: int) -> dict:
    """Promote a post (eager Celery: the chain runs to the draft) and return the promotion."""
    resp = client.post("/api/v1/promotions", json={"post_ids": [post_id], "space_id": space_id}, headers=h.curator)
    assert resp.status_code == 202, resp.get_json()
    promotion = ok(client.get(f"/api/v1/promotions/{resp.get_json()['id']}", headers=h.curator))
    assert promotion["status"] == "needs_review", promotion
    return promotion


def _status(candidate_id: int) -> str:
    db.session.rollback()
    return db.session.get(Candidate, candidate_id, populate_existing=True).status


def test_a_rejected_promotion_returns_its_candidate_to_the_queue_audited(client, h, people, scene):
    space = f.space(people.curator, "Handbook")
    root = scene.roots[0]
    candidate_id = scene.by_post[root.id]
    promotion = _promote_to_review(client, h, root.id, space.id)
    assert _status(candidate_id) == "promoted"
    assert candidate_id not in [c["id"] for c in ok(client.get("/api/v1/candidates", headers=h.curator))["items"]]

    ok(client.post(f"/api/v1/promotions/{promotion['id']}/rejection", json={"reason": "too thin"},
                   headers=h.curator))
    assert _status(candidate_id) == "open"
    listed = ok(client.get("/api/v1/candidates", headers=h.curator))["items"]
    assert candidate_id in [c["id"] for c in listed]
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target == f"candidate:{candidate_id}").order_by(AuditEvent.id)))
    assert actions == ["candidate.requeue"]
    # the rejected draft is archived and keeps its sources, but covers nothing: the next scoring
    # run leaves the candidate in the queue
    draft = ok(client.get(f"/api/v1/articles/{promotion['article_id']}", headers=h.curator))
    assert draft["status"] == "archived" and root.id in [s["post_id"] for s in draft["sources"]]
    cand.score_candidates()
    assert _status(candidate_id) == "open"


def test_a_rejected_promotion_of_a_dismissed_candidate_leaves_it_dismissed(client, h, people, scene):
    space = f.space(people.curator, "Handbook")
    root = scene.roots[1]
    candidate_id = scene.by_post[root.id]
    ok(client.post(f"/api/v1/candidates/{candidate_id}/dismissal", json={"reason": "too specific"},
                   headers=h.curator))
    promotion = _promote_to_review(client, h, root.id, space.id)
    assert _status(candidate_id) == "promoted"
    ok(client.post(f"/api/v1/promotions/{promotion['id']}/rejection", json={"reason": "no"}, headers=h.curator))
    assert _status(candidate_id) == "dismissed"
    cand.score_candidates()
    assert _status(candidate_id) == "dismissed"


def test_a_thread_another_promotion_still_covers_stays_promoted_after_a_rejection(client, h, people, scene):
    space = f.space(people.curator, "Handbook")
    root = scene.roots[0]
    candidate_id = scene.by_post[root.id]
    reply = db.session.scalar(select(Post.id).where(Post.parent_id == root.id).order_by(Post.id))
    first = _promote_to_review(client, h, root.id, space.id)
    _promote_to_review(client, h, reply, space.id)  # the same thread, other posts: still in review
    ok(client.post(f"/api/v1/promotions/{first['id']}/rejection", json={"reason": "no"}, headers=h.curator))
    assert _status(candidate_id) == "promoted"


def test_a_failed_promotion_returns_its_candidate_to_the_queue_audited(client, h, people, scene):
    space = f.space(people.curator, "Handbook")
    root = scene.roots[2]
    candidate_id = scene.by_post[root.id]
    stream.edit_post(people.member, root.id, "Do not distribute: payroll export format")  # forbidden by policy
    resp = client.post("/api/v1/promotions", json={"post_ids": [root.id], "space_id": space.id}, headers=h.curator)
    assert resp.status_code == 202, resp.get_json()
    promotion = ok(client.get(f"/api/v1/promotions/{resp.get_json()['id']}", headers=h.curator))
    assert promotion["status"] == "failed" and promotion["error"].startswith("Blocked by policy"), promotion
    assert _status(candidate_id) == "open"
    assert candidate_id in [c["id"] for c in ok(client.get("/api/v1/candidates", headers=h.curator))["items"]]
    requeued = db.session.scalars(select(AuditEvent).where(AuditEvent.target == f"candidate:{candidate_id}")).all()
    assert [(a.action, a.data["reason"]) for a in requeued] == [("candidate.requeue", "its promotion failed")]


def test_the_shipped_policy_keeps_the_default_weights_and_half_life():
    shipped = cand.tuning(load_policy(str(CONFIG_DIR / "policy.toml")))
    assert shipped == cand.Tuning() and shipped.weights == cand.WEIGHTS and shipped.half_life_days == 30.0


def test_an_organisation_tunes_the_weights_and_half_life_in_its_policy(app, h, client, scene):
    replies = {r["signal"]: r for r in db.session.get(Candidate, scene.by_post[scene.roots[0].id]).reasons}["replies"]
    app.config["POLICY"] = {**app.config["POLICY"], "candidates": {"half_life_days": 7, "weights": {"replies": 4.5}}}
    later = utcnow() + timedelta(days=7)
    cand.score_candidates(now=later)
    db.session.rollback()
    tuned = db.session.get(Candidate, scene.by_post[scene.roots[0].id], populate_existing=True)
    reasons = {r["signal"]: r for r in tuned.reasons}
    # three times the weight, one half-life later: 1.5 times the points
    assert reasons["replies"]["points"] == pytest.approx(replies["points"] * 1.5, rel=0.01)
    assert reasons["decay"]["factor"] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("section", [{"half_life_days": 0}, {"half_life_days": "a month"},
                                     {"weights": {"replies": -1}}, {"weights": {"likes": 1.0}},
                                     {"halflife": 30}])
def test_a_wrong_candidate_setting_is_named_not_ignored(section):
    with pytest.raises(ValueError, match="policy \\[candidates"):
        cand.tuning({"candidates": section})
