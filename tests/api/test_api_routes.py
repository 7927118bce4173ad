"""Every /api/v1 route works for the right user, and answers the wrong one in the API.md error format."""

from __future__ import annotations

import re

import pytest

from cairn.extensions import db
from cairn.kb.models import Article
from tests import factories as f
from tests.conftest import People

# --- helpers ----------------------------------------------------------------------------------


def error_of(resp, status: int, code: str | None = None) -> dict:
    """Assert an API.md error body with ``status``; return its ``error`` object."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    body = resp.get_json()
    assert body is not None and set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "fields"}, err
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["fields"], dict)
    if code is not None:
        assert err["code"] == code, err
    return err


def ok(resp, status: int = 200) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.get_json()


@pytest.fixture
def h(people, bearer):
    """Auth headers per person."""
    return type("Headers", (), {name: bearer(getattr(people, name))
                                for name in ("admin", "curator", "member", "other")})()


# --- every route needs authentication ---------------------------------------------------------

PUBLIC = {("POST", "/api/v1/tokens"), ("GET", "/api/v1/openapi.json")}


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<int:\w+>", "1", rule.rule).replace("<string:emoji>", "tada")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_api_route_but_login_and_the_openapi_document_refuses_anonymous_callers(client, app):
    routes = list(_api_routes(app))
    assert len(routes) > 40
    for method, path in routes:
        resp = client.open(path, method=method, json={} if method in ("POST", "PATCH", "PUT") else None)
        if (method, path) in PUBLIC:
            assert resp.status_code != 401, path
            continue
        error_of(resp, 401, "unauthorized")


def test_openapi_document_lists_the_routes(client):
    spec = ok(client.get("/api/v1/openapi.json"))
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/channels/{channel_id}/posts", "/api/v1/articles/{article_id}/transitions", "/api/v1/search"):
        assert any(p.endswith(path.removeprefix("/api/v1")) or p == path for p in spec["paths"]), path


# --- tokens and me ----------------------------------------------------------------------------

def test_a_token_is_issued_for_good_credentials_used_and_revoked(client, people):
    resp = client.post("/api/v1/tokens", json={"email": "MEMBER@example.com", "password": People.PASSWORD,
                                               "name": "laptop"})
    token = ok(resp, 201)
    assert token["token"].startswith("cairn_") and token["name"] == "laptop"
    auth = {"Authorization": f"Bearer {token['token']}"}
    me = ok(client.get("/api/v1/me", headers=auth))
    assert (me["id"], me["role"], me["email"]) == (people.member.id, "member", "member@example.com")
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=auth).status_code == 204
    error_of(client.get("/api/v1/me", headers=auth), 401, "unauthorized")


def test_wrong_password_or_unknown_email_gets_the_same_401(client, people):
    wrong = error_of(client.post("/api/v1/tokens", json={"email": "member@example.com", "password": "nope"}), 401)
    unknown = error_of(client.post("/api/v1/tokens", json={"email": "nobody@example.com", "password": "nope"}), 401)
    assert wrong == unknown


def test_nobody_revokes_another_users_token_but_an_admin_can(client, people, h, bearer):
    victim = bearer(people.member)
    token_id = ok(client.post("/api/v1/tokens", json={"email": "member@example.com",
                                                      "password": People.PASSWORD}), 201)["id"]
    error_of(client.delete(f"/api/v1/tokens/{token_id}", headers=h.other), 404, "not_found")
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=h.admin).status_code == 204
    ok(client.get("/api/v1/me", headers=victim))  # the member's other token still works


def test_me_shows_role_and_groups(client, people, h):
    eng = f.group("eng", people.curator)
    me = ok(client.get("/api/v1/me", headers=h.curator))
    assert me["role"] == "curator" and me["groups"] == [{"id": eng.id, "name": "eng"}]


# --- users and groups (admin) -----------------------------------------------------------------

def test_admin_manages_users_and_a_deactivated_users_token_stops_working(client, people, h, bearer):
    users = ok(client.get("/api/v1/users?limit=2", headers=h.admin))
    assert len(users["items"]) == 2 and users["next"]
    rest = ok(client.get(f"/api/v1/users?limit=2&cursor={users['next']}", headers=h.admin))
    assert [u["id"] for u in users["items"] + rest["items"]] == sorted(
        [people.admin.id, people.curator.id, people.member.id, people.other.id])
    new = ok(client.post("/api/v1/users", json={"email": "new@example.com", "password": "long-enough",
                                                 "role": "curator"}, headers=h.admin), 201)
    assert new["role"] == "curator" and new["display_name"] == "new"
    assert ok(client.get(f"/api/v1/users/{new['id']}", headers=h.admin))["email"] == "new@example.com"
    changed = ok(client.patch(f"/api/v1/users/{people.other.id}", json={"role": "curator", "active": False},
                              headers=h.admin))
    assert (changed["role"], changed["active"]) == ("curator", False)
    error_of(client.get("/api/v1/me", headers=h.other), 401)
    error_of(client.post("/api/v1/tokens", json={"email": "other@example.com", "password": People.PASSWORD}), 401)


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"email": "x@example.com", "password": "long-enough"}),
    ("GET", "/api/v1/users/1", None),
    ("PATCH", "/api/v1/users/1", {"role": "admin"}),
    ("GET", "/api/v1/groups", None),
    ("POST", "/api/v1/groups", {"name": "mine"}),
    ("PUT", "/api/v1/groups/1/members/1", None),
    ("DELETE", "/api/v1/groups/1/members/1", None),
    ("GET", "/api/v1/audit", None),
])
def test_admin_routes_look_missing_to_non_admins(client, people, h, method, path, body):
    before = f.counts()
    for headers in (h.curator, h.member):
        error_of(client.open(path, method=method, json=body, headers=headers), 404, "not_found")
    assert f.counts() == before
    assert people.member.role == "member"


def test_admin_manages_groups_and_their_members(client, people, h):
    group = ok(client.post("/api/v1/groups", json={"name": "eng"}, headers=h.admin), 201)
    error_of(client.post("/api/v1/groups", json={"name": "eng"}, headers=h.admin), 409, "conflict")
    added = ok(client.put(f"/api/v1/groups/{group['id']}/members/{people.member.id}", headers=h.admin))
    assert added["members"] == [people.member.id]
    assert ok(client.get("/api/v1/me", headers=h.member))["groups"] == [{"id": group["id"], "name": "eng"}]
    listed = ok(client.get("/api/v1/groups", headers=h.admin))["items"]
    assert listed == [{"id": group["id"], "name": "eng", "members": [people.member.id]}]
    assert client.delete(f"/api/v1/groups/{group['id']}/members/{people.member.id}",
                         headers=h.admin).status_code == 204
    assert ok(client.get("/api/v1/me", headers=h.member))["groups"] == []
    error_of(client.put(f"/api/v1/groups/{group['id']}/members/424242", headers=h.admin), 404)


def test_audit_log_records_governance_actions_for_admins(client, people, h):
    ok(client.patch(f"/api/v1/users/{people.other.id}", json={"role": "curator"}, headers=h.admin))
    events = ok(client.get("/api/v1/audit?action=user.role", headers=h.admin))["items"]
    assert len(events) == 1 and events[0]["target"] == f"user:{people.other.id}"


# --- channels and posts -----------------------------------------------------------------------

def test_channels_are_created_listed_read_and_changed_by_their_creator(client, people, h):
    chan = ok(client.post("/api/v1/channels", json={"name": "eng", "topic": "Engineering"}, headers=h.member), 201)
    assert (chan["name"], chan["topic"], chan["private"], chan["members"]) == ("eng", "Engineering", False, 1)
    assert [c["name"] for c in ok(client.get("/api/v1/channels", headers=h.other))["items"]] == ["eng"]
    assert ok(client.get(f"/api/v1/channels/{chan['id']}", headers=h.other))["id"] == chan["id"]
    assert ok(client.patch(f"/api/v1/channels/{chan['id']}", json={"topic": "New"}, headers=h.member))["topic"] == "New"
    error_of(client.patch(f"/api/v1/channels/{chan['id']}", json={"topic": "Mine"}, headers=h.other), 403,
             "forbidden")
    error_of(client.post("/api/v1/channels", json={"name": "eng"}, headers=h.other), 409, "conflict")


def test_posts_are_written_read_threaded_edited_and_deleted(client, people, h):
    chan = ok(client.post("/api/v1/channels", json={"name": "eng"}, headers=h.member), 201)
    root = ok(client.post(f"/api/v1/channels/{chan['id']}/posts", json={"body": "How do *I* deploy?"},
                          headers=h.member), 201)
    for key in ("id", "channel_id", "author", "body", "html", "parent_id", "created_at", "edited_at"):
        assert key in root
    assert root["html"] == "<p>How do <em>I</em> deploy?</p>\n" and root["author"]["id"] == people.member.id
    reply = ok(client.post(f"/api/v1/channels/{chan['id']}/posts", json={"body": "make deploy",
                                                                          "parent_id": root["id"]},
                           headers=h.other), 201)
    assert reply["parent_id"] == root["id"]
    timeline = ok(client.get(f"/api/v1/channels/{chan['id']}/posts", headers=h.other))
    assert [p["id"] for p in timeline["items"]] == [root["id"]] and timeline["next"] is None
    assert timeline["items"][0]["reply_count"] == 1
    thread = ok(client.get(f"/api/v1/posts/{reply['id']}/thread", headers=h.other))
    assert thread["root"]["id"] == root["id"] and [r["id"] for r in thread["replies"]] == [reply["id"]]
    edited = ok(client.patch(f"/api/v1/posts/{root['id']}", json={"body": "How do we deploy?"}, headers=h.member))
    assert edited["edited_at"] is not None and edited["body"] == "How do we deploy?"
    revs = ok(client.get(f"/api/v1/posts/{root['id']}/revisions", headers=h.other))["items"]
    assert [r["body"] for r in revs] == ["How do *I* deploy?"]
    error_of(client.patch(f"/api/v1/posts/{root['id']}", json={"body": "mine"}, headers=h.other), 403, "forbidden")
    error_of(client.delete(f"/api/v1/posts/{root['id']}", headers=h.other), 403, "forbidden")
    assert client.delete(f"/api/v1/posts/{reply['id']}", headers=h.curator).status_code == 204
    error_of(client.get(f"/api/v1/posts/{reply['id']}", headers=h.other), 404, "not_found")
    assert ok(client.get(f"/api/v1/posts/{root['id']}", headers=h.other))["reply_count"] == 0


def test_timeline_pages_with_the_next_cursor(client, people, h):
    chan = f.channel(people.member, "eng")
    ids = [f.post(people.member, chan, f"post {i}").id for i in range(5)]
    first = ok(client.get(f"/api/v1/channels/{chan.id}/posts?limit=3", headers=h.other))
    second = ok(client.get(f"/api/v1/channels/{chan.id}/posts?limit=3&cursor={first['next']}", headers=h.other))
    assert [p["id"] for p in first["items"] + second["items"]] == ids[::-1]
    assert second["next"] is None


def test_reactions_are_added_counted_and_removed(client, people, h):
    chan = f.channel(people.member, "eng")
    post = f.post(people.member, chan, "shipped")
    r = ok(client.put(f"/api/v1/posts/{post.id}/reactions/🎉", headers=h.other))
    assert r["reactions"] == [{"emoji": "🎉", "count": 1, "users": [people.other.id], "names": ["Olga Other"]}]
    r = ok(client.put(f"/api/v1/posts/{post.id}/reactions/:tada:", headers=h.curator))
    assert [x["emoji"] for x in r["reactions"]] == ["🎉", "tada"]
    r = ok(client.delete(f"/api/v1/posts/{post.id}/reactions/🎉", headers=h.other))
    assert [x["emoji"] for x in r["reactions"]] == ["tada"]
    error_of(client.delete(f"/api/v1/posts/{post.id}/reactions/🎉", headers=h.other), 404)


def test_notifications_are_listed_filtered_and_marked_read(client, people, h):
    chan = f.channel(people.member, "eng")
    f.post(people.member, chan, "ping @other")
    f.post(people.member, chan, "and again @other")
    items = ok(client.get("/api/v1/notifications", headers=h.other))["items"]
    assert [n["kind"] for n in items] == ["mention", "mention"] and not any(n["read"] for n in items)
    assert ok(client.post("/api/v1/notifications/read", json={"ids": [items[0]["id"]]}, headers=h.other)) == \
        {"marked": 1}
    unread = ok(client.get("/api/v1/notifications?unread=true", headers=h.other))["items"]
    assert [n["id"] for n in unread] == [items[1]["id"]]
    assert ok(client.post("/api/v1/notifications/read", json={}, headers=h.other)) == {"marked": 1}
    assert ok(client.get("/api/v1/notifications", headers=h.member))["items"] == []


# --- spaces, articles, lifecycle --------------------------------------------------------------

def test_spaces_are_created_by_curators_and_changed_by_them(client, people, h):
    error_of(client.post("/api/v1/spaces", json={"name": "Mine"}, headers=h.member), 403, "forbidden")
    space = ok(client.post("/api/v1/spaces", json={"name": "Handbook", "description": "d"}, headers=h.curator), 201)
    assert ok(client.get(f"/api/v1/spaces/{space['id']}", headers=h.member))["name"] == "Handbook"
    assert [s["id"] for s in ok(client.get("/api/v1/spaces", headers=h.member))["items"]] == [space["id"]]
    changed = ok(client.patch(f"/api/v1/spaces/{space['id']}", json={"description": "new"}, headers=h.curator))
    assert changed["description"] == "new"
    error_of(client.patch(f"/api/v1/spaces/{space['id']}", json={"description": "x"}, headers=h.member), 403)


def test_an_article_goes_from_draft_to_published_through_the_api(client, people, h):
    space = f.space(people.curator, "Handbook")
    art = ok(client.post("/api/v1/articles", json={"space_id": space.id, "title": "Deploying",
                                                   "body": "step one\n", "tags": ["ops"]}, headers=h.member), 201)
    for key in ("id", "space_id", "title", "body", "status", "revision", "owner", "verified_at", "sources"):
        assert key in art
    assert (art["status"], art["revision"], art["tags"]) == ("draft", 1, ["ops"])
    error_of(client.get(f"/api/v1/articles/{art['id']}", headers=h.other), 404)   # a draft
    edited = ok(client.patch(f"/api/v1/articles/{art['id']}", json={"revision": 1, "body": "step two\n",
                                                                    "note": "better"}, headers=h.member))
    assert edited["revision"] == 2
    revs = ok(client.get(f"/api/v1/articles/{art['id']}/revisions", headers=h.member))["items"]
    assert [(r["number"], r["note"]) for r in revs] == [(1, "Created"), (2, "better")]
    rev1 = ok(client.get(f"/api/v1/articles/{art['id']}/revisions/1", headers=h.member))
    assert rev1["body"] == "step one\n"
    diff = ok(client.get(f"/api/v1/articles/{art['id']}/diff?from=1&to=2", headers=h.member))
    assert "-step one" in diff["diff"] and "+step two" in diff["diff"]
    ok(client.post(f"/api/v1/articles/{art['id']}/transitions", json={"to": "in_review"}, headers=h.member))
    error_of(client.post(f"/api/v1/articles/{art['id']}/transitions", json={"to": "published"}, headers=h.member),
             403, "forbidden")
    pub = ok(client.post(f"/api/v1/articles/{art['id']}/transitions", json={"to": "published", "note": "lgtm"},
                         headers=h.curator))
    assert pub["status"] == "published" and pub["verification"] == "verified"
    assert ok(client.get(f"/api/v1/articles/{art['id']}", headers=h.other))["title"] == "Deploying"
    listed = ok(client.get(f"/api/v1/articles?space_id={space.id}&status=published", headers=h.other))["items"]
    assert [a["id"] for a in listed] == [art["id"]] and "body" not in listed[0]
    verified = ok(client.post(f"/api/v1/articles/{art['id']}/verification", headers=h.member))
    assert verified["verified_at"] >= pub["verified_at"]
    error_of(client.post(f"/api/v1/articles/{art['id']}/verification", headers=h.other), 403)


def test_verifying_an_unpublished_article_is_a_rule_violation(client, people, h):
    space = f.space(people.curator, "Handbook")
    art = f.article(people.member, space, "Draft")
    err = error_of(client.post(f"/api/v1/articles/{art.id}/verification", headers=h.member), 422, "rule_violated")
    assert "status" in err["fields"]


# --- promotions and search --------------------------------------------------------------------

def test_a_curator_promotes_a_post_follows_it_and_rejects_the_draft(client, people, h):
    chan = f.channel(people.member, "eng")
    post = f.post(people.member, chan, "To reset the cache run `make flush`")
    space = f.space(people.curator, "Handbook")
    error_of(client.post("/api/v1/promotions", json={"post_ids": [post.id]}, headers=h.member), 403)
    promo = ok(client.post("/api/v1/promotions", json={"post_ids": [post.id], "space_id": space.id},
                           headers=h.curator), 202)
    for key in ("id", "status", "step", "post_ids", "mode", "article_id", "findings", "error", "created_at"):
        assert key in promo
    again = ok(client.post("/api/v1/promotions", json={"post_ids": [post.id], "space_id": space.id},
                           headers=h.curator), 202)
    assert again["id"] == promo["id"]  # one active promotion per post
    state = ok(client.get(f"/api/v1/promotions/{promo['id']}", headers=h.curator))
    assert state["status"] == "needs_review" and state["article_id"]
    listed = ok(client.get("/api/v1/promotions?status=needs_review", headers=h.curator))["items"]
    assert [p["id"] for p in listed] == [promo["id"]]
    error_of(client.get("/api/v1/promotions", headers=h.member), 403)
    error_of(client.get(f"/api/v1/promotions/{promo['id']}", headers=h.member), 404)
    rejected = ok(client.post(f"/api/v1/promotions/{promo['id']}/rejection", json={"reason": "duplicate"},
                              headers=h.curator))
    assert rejected["status"] == "rejected" and rejected["error"] == "duplicate"
    assert db.session.get(Article, state["article_id"]).status == "archived"


def test_search_finds_posts_and_articles_with_facets(client, people, h):
    chan = f.channel(people.member, "eng")
    f.post(people.member, chan, "the flux capacitor needs 1.21 gigawatts")
    space = f.space(people.curator, "Handbook")
    f.article(people.curator, space, "Flux capacitor", "How the flux capacitor works", status="published")
    result = ok(client.get("/api/v1/search?q=flux capacitor", headers=h.other))
    assert result["total"] == 2 and result["facets"]["kind"] == {"post": 1, "article": 1}
    assert result["items"][0]["kind"] == "article"  # published knowledge ranks above chatter
    for item in result["items"]:
        assert {"kind", "id", "title", "snippet", "url", "score"} <= set(item)
    only_posts = ok(client.get("/api/v1/search?q=flux&kind=post", headers=h.other))
    assert [i["kind"] for i in only_posts["items"]] == ["post"]
    paged = ok(client.get("/api/v1/search?q=flux&limit=1", headers=h.other))
    more = ok(client.get(f"/api/v1/search?q=flux&limit=1&cursor={paged['next']}", headers=h.other))
    assert {paged["items"][0]["id"], more["items"][0]["id"]} and more["next"] is None
    assert (paged["items"][0]["kind"], more["items"][0]["kind"]) == ("article", "post")


def test_health_reports_each_dependency(client):
    health = ok(client.get("/healthz"))
    assert health["status"] == "ok" and set(health["checks"]) == {"database", "index", "broker"}
