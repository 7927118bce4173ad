"""Ranking and speed-ups of the Whoosh engine (bench/search.py measures them; these check they
keep the behaviour): question words, the ACL filter kept per searcher generation, snippets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cairn.search.engine import Index
from cairn.search.query import parse


def _doc(key: int, body: str, acl: str = "public", title: str = "", kind: str = "post") -> dict:
    return {"id": f"{kind}:{key}", "kind": kind, "obj_id": key, "title": title, "body": body, "acl": acl,
            "thread": f"{kind}:{key}", "status": "published" if kind == "article" else "posted",
            "created": datetime(2026, 11, 1)}


def _ids(index: Index, q: str, tokens: list[str]) -> list[str]:
    hits, _ = index.search(parse(q), tokens)
    return [h["id"] for h in hits]


def test_a_question_is_searched_for_its_subject_not_its_question_words(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([
        _doc(1, "shutil.copyfile copies a file's contents to another path", kind="article"),
        _doc(2, "how do you do? how are you doing, what did you do there"),
        _doc(3, "the file server is down again"),
    ])
    # "file?" was a one-letter wildcard (no stemmed term matches it) and "how do I" ranked chatter
    assert _ids(index, "How do I copy a file?", ["public"])[0] == "article:1"
    assert _ids(index, "what did you do?", ["public"]) == ["post:2"]  # nothing but question words: kept


def test_a_long_question_ranks_the_document_with_most_of_its_words_first(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([
        _doc(1, "", title="Sorting lists", kind="article"),
        _doc(2, "to sort one list by the values of another, zip them and sort the pairs", kind="article"),
    ])
    # no document has every word: the sentence is OR-ranked, the answer with most words first
    assert _ids(index, "How can I sort one list by values from another list?", ["public"])[0] == "article:2"


def test_the_kept_acl_filter_follows_commits_and_tokens(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([_doc(1, "deploy the database"), _doc(2, "deploy the secret database", acl="channel:9")])
    assert _ids(index, "deploy", ["public"]) == ["post:1"]
    assert sorted(_ids(index, "deploy", ["public", "channel:9"])) == ["post:1", "post:2"]
    assert _ids(index, "deploy", ["public"]) == ["post:1"]  # the same tokens again: the kept set
    Index(str(tmp_path)).upsert([_doc(3, "deploy on friday")])  # another process commits
    assert sorted(_ids(index, "deploy", ["public"])) == ["post:1", "post:3"]
    Index(str(tmp_path)).upsert([_doc(2, "deploy the secret database", acl="public")])
    assert sorted(_ids(index, "deploy", ["public"])) == ["post:1", "post:2", "post:3"]


def test_snippets_are_highlighted_when_read(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([_doc(1, "rotate the deploy keys every month")])
    hits, _ = index.search(parse("deploy keys"), ["public"])
    assert '<mark class="hit' in hits[0]["snippet"] and "deploy" in hits[0]["snippet"]
    assert hits[0]["title_html"] == ""


def test_a_verified_article_ranks_above_a_post_with_the_same_words(tmp_path):
    index = Index(str(tmp_path))
    text = "rotate the staging database credentials with the vault cli"
    index.upsert([_doc(1, text), {**_doc(2, text, kind="article"), "verified": True}])
    assert _ids(index, "rotate database credentials", ["public"]) == ["article:2", "post:1"]
    assert _ids(index, "how do I rotate the staging database credentials with vault?", ["public"])[0] == "article:2"


def test_accepted_well_reacted_and_recent_posts_rank_above_other_posts_with_the_same_words(tmp_path):
    index = Index(str(tmp_path))
    text = "restart the queue worker after the deploy"
    now = datetime.now(UTC).replace(tzinfo=None)
    index.upsert([
        {**_doc(1, text), "created": now - timedelta(days=400)},
        {**_doc(2, text), "created": now},
        {**_doc(3, text), "created": now, "reactions": 6},
        {**_doc(4, text), "created": now, "answer": True},
    ])
    ids = _ids(index, "restart queue worker", ["public"])
    assert sorted(ids[:2]) == ["post:3", "post:4"] and ids[2:] == ["post:2", "post:1"]


def test_a_long_document_holding_most_of_a_sentences_words_ranks_above_a_short_one_holding_one(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([
        _doc(1, "the timeout again"),
        _doc(2, "configure the nginx reverse proxy, then " + "more notes " * 18),
        *[_doc(10 + i, f"unrelated chatter about lunch number {i}") for i in range(20)],
    ])
    # OR-ranked, the short post scores more for its one word than the long one for its four:
    # the share of the query's words a document holds (4 of 5 against 1 of 5) decides
    assert _ids(index, "configure nginx reverse proxy timeout", ["public"])[:2] == ["post:2", "post:1"]


def test_a_word_in_asterisks_is_the_word_not_a_wildcard(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([_doc(1, "rely on the identity operator for None"), _doc(2, "this is an operator manual")])
    # "*identity*" was a wildcard over the stems holding "identity" (none: the stem is "ident"),
    # and "*is*" one over every term holding "is", a walk of the whole vocabulary
    assert _ids(index, "When can I rely on the *identity* operator, which *is* fast?", ["public"])[0] == "post:1"
    assert _ids(index, "*identity*", ["public"]) == ["post:1"]
