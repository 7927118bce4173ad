"""The search query language through the API: what it finds, and clear 400s for what it cannot read."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.test_api_routes import error_of, ok


@pytest.fixture
def corpus(people):
    chan = f.channel(people.member, "ops")
    posts = {
        "hyphen": f.post(people.member, chan, "deploying to k8s-prod tonight"),
        "phrase": f.post(people.member, chan, "the launch plan is ready #roadmap"),
        "scattered": f.post(people.other, chan, "plan the party, then launch rockets"),
    }
    space = f.space(people.curator, "Handbook")
    art = f.article(people.curator, space, "Launch plan", "Our launch plan, step by step", status="published")
    return posts, art


def _ids(result) -> set[tuple[str, int]]:
    return {(i["kind"], i["id"]) for i in result["items"]}


def test_a_hyphenated_word_is_a_word_not_an_exclusion(client, people, bearer, corpus):
    posts, _ = corpus
    result = ok(client.get("/api/v1/search", query_string={"q": "k8s-prod"}, headers=bearer(people.other)))
    assert ("post", posts["hyphen"].id) in _ids(result)


def test_a_quoted_phrase_matches_the_words_together_only(client, people, bearer, corpus):
    posts, art = corpus
    result = ok(client.get("/api/v1/search", query_string={"q": '"launch plan"'}, headers=bearer(people.other)))
    assert _ids(result) == {("post", posts["phrase"].id), ("article", art.id)}


def test_exclusions_and_operators_narrow_the_hits(client, people, bearer, corpus):
    posts, art = corpus
    h = bearer(people.other)
    assert _ids(ok(client.get("/api/v1/search", query_string={"q": "launch -rockets"}, headers=h))) == {
        ("post", posts["phrase"].id), ("article", art.id)}
    assert _ids(ok(client.get("/api/v1/search", query_string={"q": "launch from:other"}, headers=h))) == {
        ("post", posts["scattered"].id)}
    assert _ids(ok(client.get("/api/v1/search", query_string={"q": "tag:roadmap"}, headers=h))) == {
        ("post", posts["phrase"].id)}
    assert _ids(ok(client.get("/api/v1/search", query_string={"q": "launch kind:article"}, headers=h))) == {
        ("article", art.id)}


def test_a_query_the_language_cannot_read_is_a_400_that_says_why(client, people, bearer, corpus):
    h = bearer(people.other)

    def check(q):
        err = error_of(client.get("/api/v1/search", query_string={"q": q}, headers=h), 400)
        assert "q" in err["fields"]

    f.each(['"unclosed', "kind:video", "is:famous", "after:2026-13-45", "before:yesterday", "a (-b c)", "((-a))",
            "x" * 501], check)


def test_whoosh_field_syntax_neither_fails_nor_widens_what_is_visible(client, people, bearer, corpus):
    space = f.space(people.curator, "Secret space", groups=(f.group("eng", people.curator),))
    hidden = f.article(people.curator, space, "launch admin draft", status="draft")
    h = bearer(people.other)

    def check(q):
        result = ok(client.get("/api/v1/search", query_string={"q": q}, headers=h))
        assert ("article", hidden.id) not in _ids(result)

    f.each(["acl:admin", "obj_id:3", "status:draft", "title:launch", 'tags:"a b"', "created:[2020 TO 2030]", "*",
            "?", "launch^2", "plan~", "launch admin draft"], check)


def test_searches_are_logged_with_their_hit_counts_for_content_gap_analysis(client, people, bearer, corpus):
    from sqlalchemy import select

    from cairn.extensions import db
    from cairn.search.models import SearchLog

    h = bearer(people.other)
    ok(client.get("/api/v1/search", query_string={"q": "launch"}, headers=h))
    ok(client.get("/api/v1/search", query_string={"q": "nothing matches this"}, headers=h))
    db.session.rollback()
    rows = db.session.execute(select(SearchLog.query, SearchLog.hits, SearchLog.user_id).order_by(SearchLog.id)).all()
    assert [(q, hits > 0, uid) for q, hits, uid in rows] == [("launch", True, people.other.id),
                                                             ("nothing matches this", False, people.other.id)]


def test_an_operator_takes_a_quoted_value_with_blanks(client, people, bearer):
    space = f.space(people.curator, "IT Help")
    other = f.space(people.curator, "IT")
    art = f.article(people.curator, space, "Printer jams", "Open tray two, then the printer wakes", status="published")
    f.article(people.curator, other, "Printer toner", "The printer toner lives in the cupboard", status="published")
    h = bearer(people.other)
    assert _ids(ok(client.get("/api/v1/search", query_string={"q": 'space:"it help" printer'}, headers=h))) == {
        ("article", art.id)}
    assert ("article", art.id) not in _ids(ok(client.get(
        "/api/v1/search", query_string={"q": 'printer -space:"it help"'}, headers=h)))
