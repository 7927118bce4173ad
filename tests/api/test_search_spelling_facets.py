"""Search features through the API: spelling correction, did-you-mean, autocomplete and facets."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.test_api_routes import error_of, ok


@pytest.fixture
def corpus(people):
    ops = f.channel(people.member, "ops")
    infra = f.channel(people.other, "infra")
    root = f.post(people.member, ops, "Upgrading kubernetes tonight #k8s")
    f.post(people.other, ops, "kubernetes upgrade went fine", parent=root)
    f.post(people.other, infra, "kubernetes nodes are ready #k8s")
    f.post(people.other, infra, "one kubernetus node is slow")  # the typo exists, once
    space = f.space(people.curator, "Handbook")
    art = f.article(people.curator, space, "Kubernetes upgrade runbook", "Drain each node, then upgrade.",
                    status="published")
    return {"root": root, "article": art}


def search(client, headers, **params) -> dict:
    return ok(client.get("/api/v1/search", query_string=params, headers=headers))


def test_a_misspelt_word_is_answered_for_its_correction_from_the_index(client, people, bearer, corpus):
    result = search(client, bearer(people.member), q="kuberntes")
    assert result["corrected_query"] == "kubernetes"
    assert ("article", corpus["article"].id) in {(i["kind"], i["id"]) for i in result["items"]}
    assert result["total"] == 3  # two threads and the article


def test_exact_searches_the_words_as_typed(client, people, bearer, corpus):
    result = search(client, bearer(people.member), q="kuberntes", exact="true")
    assert result["corrected_query"] is None and result["total"] == 0 and result["suggestion"] is None


def test_a_correction_keeps_operators_and_phrases(client, people, bearer, corpus):
    result = search(client, bearer(people.member), q='kuberntes in:#infra -slow')
    assert result["corrected_query"] == "kubernetes in:#infra -slow"
    assert result["total"] == 1


def test_a_rare_word_gets_a_did_you_mean_not_a_replacement(client, people, bearer, corpus):
    result = search(client, bearer(people.member), q="kubernetus")
    assert result["corrected_query"] is None and result["total"] == 1
    assert result["suggestion"] == "kubernetes"


def test_a_well_spelt_query_has_no_correction(client, people, bearer, corpus):
    result = search(client, bearer(people.member), q="kubernetes upgrade")
    assert result["corrected_query"] is None and result["suggestion"] is None


def test_facets_count_every_readable_match_per_kind_channel_space_author_and_tag(client, people, bearer, corpus):
    result = search(client, bearer(people.member), q="kubernetes", limit=1)
    assert len(result["items"]) == 1 and result["total"] == 3
    facets = result["facets"]
    assert facets["kind"] == {"post": 2, "article": 1}
    assert facets["channel"] == {"infra": 1, "ops": 1}  # a thread counts once, as it is listed once
    assert facets["space"] == {"handbook": 1}
    assert facets["author"] == {"other": 2, "curator": 1, "member": 1}
    assert facets["tag"] == {"k8s": 2}


def test_a_facet_value_is_an_operator_that_narrows_to_its_count(client, people, bearer, corpus):
    h = bearer(people.member)
    facets = search(client, h, q="kubernetes")["facets"]
    for op, name in (("in:#", "channel"), ("from:@", "author"), ("tag:", "tag"), ("space:", "space")):
        for value, count in facets[name].items():
            assert search(client, h, q=f"kubernetes {op}{value}")["total"] == count, (op, value)


def test_autocomplete_completes_the_last_word_and_lists_matching_titles(client, people, bearer, corpus):
    got = ok(client.get("/api/v1/search/suggest", query_string={"q": "drain kub"}, headers=bearer(people.member)))
    assert got["completions"][0] == "drain kubernetes"
    assert [(i["kind"], i["id"], i["title"]) for i in got["items"]] == [
        ("article", corpus["article"].id, "Kubernetes upgrade runbook")]


def test_autocomplete_needs_a_query_and_a_caller(client, people, bearer, corpus):
    err = error_of(client.get("/api/v1/search/suggest", headers=bearer(people.member)), 400)
    assert "q" in err["fields"]
    error_of(client.get("/api/v1/search/suggest", query_string={"q": "kub"}), 401)


def test_a_long_question_counts_facets_over_the_results_it_lists(client, people, bearer, corpus):
    secret = f.channel(people.curator, "board", private=True)
    f.post(people.curator, secret, "kubernetes nodes upgrade budget for the board #k8s")
    question = "how do we upgrade the kubernetes nodes safely tonight?"  # OR-ranked: many words
    for who, sees_board in ((people.member, False), (people.curator, True)):
        result = search(client, bearer(who), q=question, limit=50)
        listed = {}
        for item in result["items"]:
            listed[item["kind"]] = listed.get(item["kind"], 0) + 1
        assert result["facets"]["kind"] == listed and sum(listed.values()) == result["total"]
        assert ("board" in result["facets"]["channel"]) is sees_board
