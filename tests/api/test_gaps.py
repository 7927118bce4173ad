"""Content gaps over HTTP: click tracking from the search page and the API, the curators' page and
``GET /api/v1/gaps``, and that members and other searchers can neither read nor mark anything."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.search.models import SearchLog
from tests import factories as f
from tests.api.test_api_routes import error_of, ok


@pytest.fixture
def corpus(people):
    chan = f.channel(people.member, "it-help")
    post = f.post(people.member, chan, "How I fixed the vpn setup on my laptop")
    secret = f.post(people.curator, f.channel(people.curator, "curators", private=True), "vpn setup secrets")
    space = f.space(people.curator, "Handbook")
    art = f.article(people.curator, space, "VPN setup", "Install the client, then sign in.", status="published")
    return post, secret, art


def _log(log_id: int) -> SearchLog:
    db.session.rollback()  # read what the request committed
    return db.session.get(SearchLog, log_id)


def _search_page_links(client, q: str) -> list[str]:
    html = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    return [href.replace("&amp;", "&") for href in re.findall(r'class="result-title"><a href="([^"]+)"', html)]


def test_opening_a_result_from_the_search_page_marks_that_search_clicked(client, login, people, corpus):
    post, _, _ = corpus
    login(people.other)
    links = _search_page_links(client, "vpn setup")
    assert len(links) == 2 and all(link.startswith("/search/open?") for link in links), links
    row = db.session.scalars(select(SearchLog).order_by(SearchLog.id.desc())).first()
    assert (row.user_id, row.normalized, row.hits, row.clicked) == (people.other.id, "setup vpn", 2, False)
    link = next(link for link in links if f"kind=post&id={post.id}" in link or f"id={post.id}&kind=post" in link)
    resp = client.get(link)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/posts/{post.id}"
    assert _log(row.id).clicked and _log(row.id).clicked_at is not None


def test_a_foreign_search_or_an_unreadable_result_is_a_404_and_marks_nothing(client, login, people, corpus):
    post, secret, art = corpus
    login(people.member)
    _search_page_links(client, "vpn setup")
    members_log = db.session.scalars(select(SearchLog).order_by(SearchLog.id.desc())).first()
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login(people.other)
    _search_page_links(client, "vpn setup")
    own = db.session.scalars(select(SearchLog).where(SearchLog.user_id == people.other.id)).one()

    def check(query, status):
        resp = client.get("/search/open", query_string=query)
        assert resp.status_code == status, (resp.status_code, resp.headers.get("Location"))
        assert "Location" not in resp.headers

    f.each([({"log": members_log.id, "kind": "post", "id": post.id}, 404),  # another user's search
            ({"log": own.id, "kind": "post", "id": secret.id}, 404),        # a private channel's post
            ({"log": own.id, "kind": "article", "id": 10**6}, 404),         # no such article
            ({"log": 10**6, "kind": "article", "id": art.id}, 404),          # no such search
            ({"log": own.id, "kind": "user", "id": 1}, 400),                  # not a result kind
            ({"log": own.id, "kind": "post", "id": "//evil.example"}, 400),  # no URL is taken from input
            ({"log": own.id, "kind": "post"}, 400)], check)
    assert not _log(own.id).clicked and not _log(members_log.id).clicked


def _csrf(client) -> str:
    html = client.get("/search").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_the_search_api_returns_a_log_id_that_a_click_marks(client, people, bearer, corpus):
    post, secret, art = corpus
    h = bearer(people.other)
    result = ok(client.get("/api/v1/search", query_string={"q": "VPN setup?", "limit": 1}, headers=h))
    log_id = result["log_id"]
    assert isinstance(log_id, int) and result["next"]
    later = ok(client.get("/api/v1/search", query_string={"q": "VPN setup?", "limit": 1, "cursor": result["next"]},
                          headers=h))
    assert later["log_id"] == log_id  # a later page is the same search, logged once; a click there answers it
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SearchLog)) == 1
    other = ok(client.get("/api/v1/search", query_string={"q": "VPN setup?", "limit": 1, "cursor": result["next"]},
                          headers=bearer(people.member)))
    assert other["log_id"] is None  # somebody else's page 2 never borrows this searcher's row
    error_of(client.post("/api/v1/search/clicks", json={"log_id": log_id, "kind": "post", "id": secret.id}, headers=h),
             404)
    error_of(client.post("/api/v1/search/clicks", json={"log_id": log_id, "kind": "post", "id": post.id},
                         headers=bearer(people.member)), 404)
    err = error_of(client.post("/api/v1/search/clicks", json={"log_id": "x", "kind": "page"}, headers=h), 400)
    assert set(err["fields"]) == {"log_id", "kind", "id"}
    assert not _log(log_id).clicked
    body = ok(client.post("/api/v1/search/clicks", json={"log_id": log_id, "kind": "article", "id": art.id}, headers=h))
    assert body == {"log_id": log_id, "clicked": True, "url": f"/articles/{art.id}"}
    assert _log(log_id).clicked


def _seed_gaps(people):
    with db.transaction() as s:
        for user, q, hits, clicked, days in [
            (people.member, "VPN setup? in:#exec-layoffs from:@olga", 0, False, 0),
            (people.other, "vpn setup", 4, False, 1),
            (people.member, "setup VPN", 4, True, 1), (people.other, "<script>alert(1)</script> printer", 0, False, 2),
            (people.member, "expense policy", 0, False, 50),
        ]:
            from cairn.search.gaps import normalize_query

            s.add(SearchLog(user_id=user.id, query=q, normalized=normalize_query(q), hits=hits, clicked=clicked,
                            created_at=utcnow() - timedelta(days=days)))


def test_curators_read_the_gaps_api_and_members_get_403(client, people, bearer):
    _seed_gaps(people)
    body = ok(client.get("/api/v1/gaps", headers=bearer(people.curator)))
    assert body["days"] == 30 and body["next"] is None
    assert [(g["question"], g["unanswered"], g["no_hits"], g["searches"], g["people"]) for g in body["items"]] == [
        ("setup vpn", 2, 1, 3, 2), ("1 alert printer script", 1, 1, 1, 1)]
    assert body["items"][0]["example"] == "VPN setup?"  # operators can name private channels and people
    assert "layoffs" not in str(body) and "olga" not in str(body)
    assert set(body["items"][0]) == {"question", "example", "unanswered", "no_hits", "searches", "people", "last_asked"}
    assert len(body["daily"]) == 30 and sum(d["unanswered"] for d in body["daily"]) == 3
    assert body["daily"][-1] == {"day": utcnow().date().isoformat(), "unanswered": 1}
    assert [g["question"] for g in ok(client.get("/api/v1/gaps", query_string={"days": 90, "limit": 1},
                                                 headers=bearer(people.admin)))["items"]] == ["setup vpn"]
    assert ok(client.get("/api/v1/gaps", query_string={"days": 90}, headers=bearer(people.curator)))["items"][-1][
        "question"] == "expense policy"
    error_of(client.get("/api/v1/gaps", headers=bearer(people.member)), 403)
    error_of(client.get("/api/v1/gaps"), 401)
    err = error_of(client.get("/api/v1/gaps", query_string={"days": 0, "limit": "many"},
                              headers=bearer(people.curator)), 400)
    assert set(err["fields"]) == {"days", "limit"}


def test_the_gaps_page_shows_questions_counts_and_a_chart_but_never_who_asked(client, login, people):
    _seed_gaps(people)
    login(people.curator)
    html = client.get("/content-gaps").get_data(as_text=True)
    assert 'href="/content-gaps"' in html and 'aria-current="page"' in html  # the sidebar link, current
    assert "Content gaps" in html and "VPN setup?" in html  # the most recent search asked this way
    assert "layoffs" not in html and "olga" not in html  # without the operators it was filtered with
    assert "&lt;script&gt;alert(1)&lt;/script&gt; printer" in html and "<script>alert" not in html
    assert "expense policy" not in html  # older than the 30 days shown
    for person in (people.member, people.other):
        assert person.display_name not in html and person.email not in html and "@" + person.email not in html
    assert '<svg viewBox="0 0 640 200"' in html and 'role="img"' in html and "<title" in html
    assert html.count('<rect class="bar"') == 30
    assert " style=" not in html.split('<figure class="card gap-chart">')[1].split("</figure>")[0]  # CSP: no inline style
    assert 'href="/search?q=VPN+setup?"' in html
    assert 'href="/articles/new?title=VPN+setup?"' in html


def test_members_do_not_see_or_reach_the_gaps_page(client, login, people):
    _seed_gaps(people)
    login(people.member)
    home = client.get("/search").get_data(as_text=True)
    assert "/content-gaps" not in home
    resp = client.get("/content-gaps")
    assert resp.status_code == 403 and "setup vpn" not in resp.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert client.get("/content-gaps").status_code == 302  # to the login page


def test_write_an_article_opens_the_new_article_form_with_the_question_as_title(client, login, people):
    f.space(people.curator, "Handbook")
    login(people.curator)
    html = client.get("/articles/new", query_string={"title": 'Vpn "setup" <b>'}).get_data(as_text=True)
    assert 'id="title" name="title" required maxlength="200" value="Vpn &#34;setup&#34; &lt;b&gt;"' in html


def test_the_gaps_and_click_routes_are_in_the_openapi_document_with_their_schemas(client):
    spec = ok(client.get("/api/v1/openapi.json"))
    gaps_op = spec["paths"]["/api/v1/gaps"]["get"]
    assert {p["name"] for p in gaps_op["parameters"] if p["in"] == "query"} == {"days", "limit"}
    click = spec["paths"]["/api/v1/search/clicks"]["post"]
    body = click["requestBody"]["content"]["application/json"]["schema"]
    props = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"] if "$ref" in body else body[
        "properties"]
    assert set(props) == {"log_id", "kind", "id"}
