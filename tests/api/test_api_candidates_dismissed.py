"""The curator's Dismissed tab (/api/v1/candidates?status=dismissed and /candidates?status=dismissed):
most recently dismissed first, paged without skips or repeats, with who dismissed each, when and
why; restoring one to the queue (audited, curators who can read the thread only)."""
# ruff: noqa: F811  (the tests take as arguments the candidates' fixtures imported below)

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from cairn.audit import AuditEvent
from cairn.curation import candidates as cand
from cairn.curation.candidate_models import Candidate
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.pagination import encode_cursor
from tests import factories as f
from tests.api.test_api_candidates import (  # noqa: F401  (the candidates' fixtures)
    _promote_to_review,
    _status,
    h,
    no_index_writes,
    scene,
)
from tests.api.test_api_routes import error_of, ok
from tests.conftest import csrf_token


def _dismiss_at(people, scene, hours_ago: dict[int, float]) -> dict[int, int]:
    """Dismiss the scene's roots (by index) as if that many hours ago; {root index: candidate id}.
    Equal hours give equal times, to the microsecond."""
    now = utcnow().replace(microsecond=123456)
    ids = {}
    for index, hours in hours_ago.items():
        ids[index] = scene.by_post[scene.roots[index].id]
        cand.dismiss_candidate(people.curator, ids[index], f"reason {index}")
        db.session.execute(update(Candidate).where(Candidate.id == ids[index])
                           .values(dismissed_at=now - timedelta(hours=hours)))
    db.session.commit()
    return ids


def test_the_dismissed_list_is_most_recently_dismissed_first_not_best_first(client, h, people, scene):
    # the best-scored thread (root 0) was dismissed first, root 2 (the lowest score) last
    ids = _dismiss_at(people, scene, {0: 30, 1: 2, 2: 0.5})
    body = ok(client.get("/api/v1/candidates?status=dismissed", headers=h.curator))
    assert [c["id"] for c in body["items"]] == [ids[2], ids[1], ids[0]] and body["next"] is None
    assert [c["dismissed_reason"] for c in body["items"]] == ["reason 2", "reason 1", "reason 0"]
    times = [c["dismissed_at"] for c in body["items"]]
    assert times == sorted(times, reverse=True) and all(c["dismissed_by"] for c in body["items"])


def test_the_dismissed_list_pages_without_skips_or_repeats_when_dismissals_tie(client, h, people, scene):
    ids = _dismiss_at(people, scene, {0: 1, 1: 5, 2: 1})  # roots 0 and 2 dismissed at the same instant
    tied = sorted([ids[0], ids[2]], reverse=True)  # the newer row first among equals
    seen, cursor = [], None
    for _ in range(5):
        query = {"status": "dismissed", "limit": 1, **({"cursor": cursor} if cursor else {})}
        body = ok(client.get("/api/v1/candidates", query_string=query, headers=h.curator))
        seen += [c["id"] for c in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [*tied, ids[1]]


def test_a_cursor_the_dismissed_list_did_not_issue_is_a_400(client, h, people, scene):
    _dismiss_at(people, scene, {0: 1})
    queue_cursor = ok(client.get("/api/v1/candidates?limit=1", headers=h.curator))["next"]
    assert queue_cursor  # two candidates left in the queue, one a page
    for cursor in (queue_cursor, encode_cursor("yesterday", 5), encode_cursor(1.5, 5)):
        resp = client.get("/api/v1/candidates", query_string={"status": "dismissed", "cursor": cursor},
                          headers=h.curator)
        assert "cursor" in error_of(resp, 400)["fields"], cursor


def test_the_dismissed_tab_shows_the_latest_dismissal_first_with_who_when_and_why(
        client, login, people, scene):
    _dismiss_at(people, scene, {0: 30, 1: 2, 2: 0.5})
    login(people.curator)
    page = client.get("/candidates?status=dismissed").get_data(as_text=True)
    titles = ["payroll export format", "printer queue stuck", "vpn setup on laptops"]
    assert sorted(titles, key=page.index) == titles  # root 2, root 1, root 0
    assert page.count(f"by {people.curator.display_name}: reason") == 3
    assert "most recently dismissed first" in page and "best first" not in page
    assert "best first" in client.get("/candidates").get_data(as_text=True)
    first = client.get("/candidates?status=dismissed&limit=2").get_data(as_text=True)
    assert "payroll export format" in first and "vpn setup" not in first
    more = re.search(r'href="(/candidates\?[^"]*cursor=[^"]+)"', first)
    assert more and "status=dismissed" in more.group(1)
    second = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "vpn setup on laptops" in second and "payroll export format" not in second


def test_curators_list_what_was_dismissed_and_restore_it_to_the_queue_audited(client, h, people, scene):
    candidate_id = scene.by_post[scene.roots[1].id]
    assert ok(client.get("/api/v1/candidates?status=dismissed", headers=h.curator))["items"] == []
    ok(client.post(f"/api/v1/candidates/{candidate_id}/dismissal", json={"reason": "too specific"},
                   headers=h.curator))
    dismissed = ok(client.get("/api/v1/candidates", query_string={"status": "dismissed"}, headers=h.curator))
    assert [(c["id"], c["dismissed_reason"], c["dismissed_by"]) for c in dismissed["items"]] == [
        (candidate_id, "too specific", people.curator.display_name)]
    assert candidate_id not in [c["id"] for c in ok(client.get("/api/v1/candidates", headers=h.curator))["items"]]

    body = ok(client.post(f"/api/v1/candidates/{candidate_id}/restore", headers=h.curator))
    assert body["status"] == "open" and body["dismissed_reason"] is None and body["dismissed_at"] is None
    assert ok(client.get("/api/v1/candidates?status=dismissed", headers=h.curator))["items"] == []
    assert candidate_id in [c["id"] for c in ok(client.get("/api/v1/candidates", headers=h.curator))["items"]]
    events = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.data).where(
        AuditEvent.target == f"candidate:{candidate_id}").order_by(AuditEvent.id)).all()
    assert [(a, who) for a, who, _ in events] == [("candidate.dismiss", people.curator.id),
                                                  ("candidate.restore", people.curator.id)]
    assert events[1].data["dismissed_reason"] == "too specific"
    # a second click changes nothing; the scoring run keeps it in the queue
    assert ok(client.post(f"/api/v1/candidates/{candidate_id}/restore", headers=h.curator))["status"] == "open"
    cand.score_candidates()
    assert _status(candidate_id) == "open"


def test_restoring_is_for_curators_who_can_read_the_thread_and_only_for_dismissed_candidates(client, h, people,
                                                                                             scene):
    candidate_id = scene.by_post[scene.roots[0].id]
    ok(client.post(f"/api/v1/candidates/{candidate_id}/dismissal", json={"reason": "x"}, headers=h.curator))
    error_of(client.post(f"/api/v1/candidates/{candidate_id}/restore", headers=h.member), 403, "forbidden")
    error_of(client.get("/api/v1/candidates?status=dismissed", headers=h.member), 403, "forbidden")
    error_of(client.post(f"/api/v1/candidates/{candidate_id}/restore"), 401, "unauthorized")
    assert _status(candidate_id) == "dismissed"
    hidden_id = scene.by_post[scene.hidden.id]
    error_of(client.post(f"/api/v1/candidates/{hidden_id}/restore", headers=h.curator), 404, "not_found")
    error_of(client.post("/api/v1/candidates/999999/restore", headers=h.curator), 404, "not_found")
    # a promoted candidate is not restored (its promotion covers the thread)
    space = f.space(people.curator, "Handbook")
    other = scene.by_post[scene.roots[2].id]
    _promote_to_review(client, h, scene.roots[2].id, space.id)
    error_of(client.post(f"/api/v1/candidates/{other}/restore", headers=h.curator), 409, "conflict")
    for bad in ("promoted", "all", ""):
        assert "status" in error_of(client.get("/api/v1/candidates", query_string={"status": bad},
                                               headers=h.curator), 400)["fields"]


def test_the_dismissed_tab_lists_dismissals_and_restores_one_with_a_csrf_token(client, login, people, scene):
    candidate_id = scene.by_post[scene.roots[1].id]
    cand.dismiss_candidate(people.curator, candidate_id, "printer noise")
    login(people.curator)
    queue = client.get("/candidates").get_data(as_text=True)
    assert 'href="/candidates?status=dismissed"' in queue and "printer queue stuck" not in queue
    page = client.get("/candidates?status=dismissed").get_data(as_text=True)
    assert "printer queue stuck" in page and "printer noise" in page and "vpn setup" not in page
    assert f'action="/candidates/{candidate_id}/restore"' in page and 'aria-current="page">Dismissed' in page
    refused = client.post(f"/candidates/{candidate_id}/restore")
    assert refused.status_code == 400 and _status(candidate_id) == "dismissed"
    token = csrf_token(client, "/candidates")
    resp = client.post(f"/candidates/{candidate_id}/restore", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/candidates?status=dismissed")
    assert _status(candidate_id) == "open"
    assert "printer queue stuck" in client.get("/candidates").get_data(as_text=True)
    assert "printer queue stuck" not in client.get("/candidates?status=dismissed").get_data(as_text=True)


def test_the_restore_route_is_in_the_openapi_document(client):
    paths = ok(client.get("/api/v1/openapi.json"))["paths"]
    status = [p for p in paths["/api/v1/candidates"]["get"]["parameters"] if p["name"] == "status"]
    assert status and status[0]["schema"]["enum"] == ["open", "dismissed"]
    answer = paths["/api/v1/candidates/{candidate_id}/restore"]["post"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CandidateOut"}
