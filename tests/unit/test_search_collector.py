"""A search prunes: the paced collector rebuilds the matcher tree less often than Whoosh's, and a
sentence's matcher (WordUnion) skips the documents and posting blocks that cannot reach the top
N, follows common words only beside rarer ones, and leaves a segment's deleted documents out
itself. The hits and their scores must be those of scoring every document (every term on its
own, through Whoosh's own posting readers)."""

from __future__ import annotations

import random

from whoosh.query import And, Or, Term

from cairn.search import ranking
from cairn.search.engine import Index, _top
from cairn.search.query import parse
from cairn.search.ranking import COORD_POWER, _WordCoordOr
from cairn.search.searcher import _docs

PUBLIC = Or([Term("acl", "public")])  # the filter of every search here: a reader of public posts
WORDS = ["deploy", "api", "worker", "queue", "retry", "timeout", "cache", "index", "shard", "replica", "backup",
         "restore", "proxy", "token"]


def test_a_pruned_search_finds_the_hits_and_scores_of_scoring_every_match(tmp_path):
    rng = random.Random(7)
    index = Index(str(tmp_path))
    docs = [{"id": f"post:{n}", "kind": "post", "obj_id": n, "body": " ".join(rng.choices(WORDS, k=rng.randint(3, 30))),
             "acl": "public" if n % 4 else "channel:9"} for n in range(1500)]
    for start in range(0, len(docs), 500):  # a few segments, as commits leave them
        index.upsert(docs[start:start + 500])
    searcher = index.searcher()
    for text in ("deploy worker queue retry timeout cache", "index shard replica backup", "proxy token api restore"):
        query = index.build_query(parse(text))
        every = searcher.search(query, filter=PUBLIC, limit=None)  # no pruning: every match scored
        expected = sorted(((hit.docnum, round(hit.score, 9)) for hit in every), key=lambda d: (-d[1], d[0]))[:20]
        assert _ranked(searcher, query, 20) == expected
        assert len(every) > 200


def _post(i: int, body: str) -> dict:
    return {"id": f"post:{i}", "kind": "post", "obj_id": i, "acl": "public", "body": body}


def _ranked(searcher, query, limit: int) -> list[tuple[int, float]]:
    """The pruned search's top ``limit`` of public posts as (document, score to 9 places), as
    _oracle gives them."""
    return [(hit.docnum, round(hit.score, 9)) for hit in _top(searcher, query, PUBLIC, limit)]


def _indexed(tmp_path, docs: list[dict]):
    """A new index of ``docs`` (one segment), its searcher, and all its documents."""
    index = Index(str(tmp_path))
    index.upsert(docs)
    searcher = index.searcher()
    return index, searcher, set(searcher.reader().all_doc_ids())


def _index_of_random_posts(tmp_path, n: int = 1500) -> Index:
    rng = random.Random(11)
    index = Index(str(tmp_path))
    weights = [1 + 6 * (i % 3) for i in range(len(WORDS))]  # some words much commoner than others
    docs = [{"id": f"post:{i}", "kind": "post", "obj_id": i, "acl": "public",
             "title": " ".join(rng.choices(WORDS, k=rng.randint(0, 2))),
             "body": " ".join(rng.choices(WORDS, weights=weights, k=rng.randint(1, 25)))} for i in range(n)]
    for start in range(0, n, 500):
        index.upsert(docs[start:start + 500])
    return index


def test_a_sentence_scores_the_sum_of_its_terms_times_the_share_of_its_words_held(tmp_path):
    """The flat WordUnion against an oracle built from each term's own scores: a document's score
    is the sum of its terms' scores, times (words held / words of the query) ** COORD_POWER."""
    index = _index_of_random_posts(tmp_path)
    searcher = index.searcher()
    every = set(searcher.reader().all_doc_ids())
    for text in ("deploy worker queue retry timeout cache", "index shard replica backup restore proxy"):
        query = index.build_query(parse(text))
        assert isinstance(query, _WordCoordOr)
        assert _ranked(searcher, query, 20) == _oracle(searcher, query, every, 20)


def test_the_words_that_cannot_reach_the_top_are_not_visited_but_the_hits_stay(tmp_path):
    index = _index_of_random_posts(tmp_path)
    searcher = index.searcher()
    query = index.build_query(parse("deploy worker queue retry timeout cache"))
    leaf = searcher.leaf_searchers()[0][0]
    everything = query.matcher(leaf)
    threshold = sorted((s for s in _scores(everything)), reverse=True)[20]
    visited = list(_scores(query.matcher(leaf).replace(threshold)))
    assert len(visited) < len(list(_scores(query.matcher(leaf))))  # documents skipped
    top = sorted(_scores(query.matcher(leaf)), reverse=True)[:20]
    # the same scores above the threshold (summed in another order: equal to 9 places)
    assert (sorted((round(s, 9) for s in visited if s > threshold), reverse=True)
            == [round(s, 9) for s in top if s > threshold])


def test_a_boosted_sentence_and_one_with_a_phrase_prune_to_the_same_hits(tmp_path):
    index = _index_of_random_posts(tmp_path)
    searcher = index.searcher()
    for text in ('(deploy worker queue retry timeout)^3', '"deploy worker" queue retry timeout cache shard',
                 '(index shard replica backup)^0.5'):
        query = index.build_query(parse(text))
        every = searcher.search(query, filter=PUBLIC, limit=None)
        expected = sorted(((hit.docnum, round(hit.score, 9)) for hit in every), key=lambda d: (-d[1], d[0]))[:10]
        assert _ranked(searcher, query, 10) == expected, text


def _scores(matcher):
    while matcher.is_active():
        yield matcher.score()
        matcher.next()


def _oracle(searcher, query, allow_docs: set[int], limit: int, holds_rare=None) -> list[tuple[int, float]]:
    """The top ``limit`` by scoring every term on its own (Whoosh's own posting readers, which
    leave deleted documents out): the sum of a document's term scores times the share of the
    query's words it holds; with ``holds_rare``, only the documents it accepts."""
    held: dict[int, set[str]] = {}
    summed: dict[int, float] = {}
    for sub in query.subqueries:
        word = query.keys[(sub.fieldname, sub.text)]
        for hit in searcher.search(sub, limit=None):
            summed[hit.docnum] = summed.get(hit.docnum, 0.0) + hit.score
            held.setdefault(hit.docnum, set()).add(word)
    scored = [(doc, round(score * (len(held[doc]) / query.words) ** COORD_POWER, 9))
              for doc, score in summed.items()
              if doc in allow_docs and (holds_rare is None or holds_rare(held[doc]))]
    return sorted(scored, key=lambda d: (-d[1], d[0]))[:limit]


def test_a_segment_with_deleted_documents_prunes_to_the_hits_of_scoring_every_term(tmp_path):
    """The deleted documents' filter is applied once by the sentence's matcher (its terms are the
    bare posting readers, whose blocks it skips): no deleted document comes back, none is missed."""
    index = _index_of_random_posts(tmp_path)
    index.upsert([], deletes=[f"post:{i}" for i in range(0, 1500, 3)])
    searcher = index.searcher()
    assert any(reader.has_deletions() for reader, _ in searcher.reader().leaf_readers())
    live = {doc for doc in searcher.reader().all_doc_ids()}
    for text in ("deploy worker queue retry timeout cache", "index shard replica backup restore proxy"):
        query = index.build_query(parse(text))
        ours = _ranked(searcher, query, 20)
        assert ours == _oracle(searcher, query, live, 20)
        assert all(searcher.stored_fields(doc)["obj_id"] % 3 for doc, _ in ours)
        for leaf, _ in searcher.leaf_searchers():  # without a filter (the ACL's leaves deleted ones out too)
            holding = {d for sub in query.subqueries for d in sub.docs(leaf)}  # Whoosh's own readers
            assert set(_ids(query.matcher(leaf))) == holding
            assert not holding & leaf.reader().deleted_docs_set


def test_a_word_in_many_documents_counts_only_beside_a_rarer_word(tmp_path, monkeypatch):
    """A word in more than COMMON_DOCS documents makes no match by itself while the sentence has
    a rarer word (its score and share still count where it is); with no rarer word, it matches."""
    monkeypatch.setattr(ranking, "COMMON_DOCS", 100)
    rng = random.Random(5)
    docs = [_post(i, " ".join(rng.choices(["deploy", "worker", "api"], k=rng.randint(1, 6)))) for i in range(600)]
    docs += [_post(i, " ".join(rng.choices(["deploy", "shard", "replica", "worker"], k=rng.randint(2, 8))))
             for i in range(600, 640)]
    index, searcher, every = _indexed(tmp_path, docs)
    query = index.build_query(parse("deploy worker shard replica api"))
    ours = _ranked(searcher, query, 60)
    expected = _oracle(searcher, query, every, 60, holds_rare=lambda words: bool(words & {"shard", "replica"}))
    assert ours == expected
    # the documents with a rarer word (fewer than 60): the others share only common words
    rare = {d["obj_id"] for d in docs if {"shard", "replica"} & set(d["body"].split())}
    assert 20 < len(rare) < 60
    assert {searcher.stored_fields(doc)["obj_id"] for doc, _ in ours} == rare
    assert any(len(searcher.stored_fields(doc)["body"].split()) > 2 for doc, _ in ours)  # common words scored too
    # nothing rarer in the sentence: every word matches as usual
    query = index.build_query(parse("deploy worker api deploying"))
    ours = _ranked(searcher, query, 30)
    assert ours == _oracle(searcher, query, every, 30)
    assert any(searcher.stored_fields(doc)["obj_id"] < 600 for doc, _ in ours)


def test_blocks_that_cannot_reach_the_score_to_beat_are_passed_whole(tmp_path):
    """A word in many long documents (low scores: their posting blocks' bounds stay below the
    score to beat) and in a few one-word ones (its best score beats it): only the short ones'
    blocks are read, and the hits are those of scoring everything."""
    filler = " ".join(f"filler{n}" for n in range(60))
    docs = [_post(i, f"deploy {filler}") for i in range(1500)]
    # one-word documents, the word once to three times: its best score, and the top
    docs += [_post(i, " ".join(["deploy"] * (1 + i % 3))) for i in range(1500, 1520)]
    index, searcher, every = _indexed(tmp_path, docs)
    query = index.build_query(parse("deploy queue retry timeout"))
    leaf = searcher.leaf_searchers()[0][0]
    scores = sorted(_scores(query.matcher(leaf)), reverse=True)
    threshold = scores[10]  # among the short documents' scores, above every long one's
    assert threshold > scores[-1]
    visited = list(_ids(query.matcher(leaf).replace(threshold)))
    # not the 1,500 long documents: at most the block (128 postings) the short ones share with some
    assert len(visited) <= 128 + 20
    ours = _ranked(searcher, query, 10)
    assert ours == _oracle(searcher, query, every, 10)


def _ids(matcher):
    while matcher.is_active():
        yield matcher.id()
        matcher.next()


def test_a_weak_block_of_a_rare_word_is_still_read_where_a_common_word_can_lift_it(tmp_path, monkeypatch):
    """A block's bound counts what the common words (asked only beside rarer ones) can add: long
    documents whose rare word scores low but whose common word scores high still rank."""
    monkeypatch.setattr(ranking, "COMMON_DOCS", 1000)
    filler = " ".join(f"filler{n}" for n in range(30))
    rng = random.Random(3)
    # "worker" in 1,600 documents (common), "deploy" in 405: first in 400 long ones (its blocks of
    # 128 postings score low), then in 5 of one word (its best score)
    docs = [_post(i, "worker") for i in range(1200)]
    docs += [_post(i, " ".join(["deploy"] + ["worker"] * rng.randint(1, 30)) + " " + filler) for i in range(1200, 1600)]
    docs += [_post(i, "deploy") for i in range(1600, 1605)]
    index, searcher, every = _indexed(tmp_path, docs)
    query = index.build_query(parse("deploy worker queue retry"))
    ours = _ranked(searcher, query, 20)
    expected = _oracle(searcher, query, every, 20, holds_rare=lambda words: "deploi" in words)  # the stem
    assert ours == expected
    assert sum(searcher.stored_fields(doc)["obj_id"] < 1600 for doc, _ in ours) > 10  # the long ones rank


def test_a_filters_documents_are_those_whoosh_lists_less_deleted_ones(tmp_path):
    """The ACL and kind filters' document sets, read a posting block at a time, are Whoosh's own
    (an OR of tokens, an AND with kinds, a token no document has), plus perhaps deleted ones."""
    index = Index(str(tmp_path))
    docs = [{"id": f"{kind}:{n}", "kind": kind, "obj_id": n, "body": "deploy",
             "acl": "public" if n % 3 else f"channel:{n % 7}"} for n in range(900) for kind in ("post", "article")]
    index.upsert(docs[:1000])
    index.upsert(docs[1000:], deletes=[f"post:{n}" for n in range(0, 300, 4)])
    searcher = index.searcher()
    public_or_channel = Or([Term("acl", "public"), Term("acl", "channel:3"), Term("acl", "channel:99")])
    queries = [public_or_channel, And([public_or_channel, Or([Term("kind", "article")])]), Term("acl", "nobody")]
    for leaf, _ in searcher.leaf_searchers():
        deleted = leaf.reader().deleted_docs_set
        for query in queries:
            assert _docs(leaf, query) - deleted == set(query.docs(leaf))
    assert len(_docs(searcher.leaf_searchers()[0][0], queries[0])) > 128  # several posting blocks


def test_when_every_word_is_common_the_rarest_ones_lead(tmp_path, monkeypatch):
    """A sentence of common words only: the words in at most COMMON_RATIO times the documents of
    the rarest make the matches, the much commoner ones count beside them; words about as common
    as one another all match."""
    monkeypatch.setattr(ranking, "COMMON_DOCS", 10)
    rng = random.Random(9)
    docs = [_post(i, " ".join(rng.choices(["deploy", "worker"], k=rng.randint(1, 5)))) for i in range(400)]
    docs += [_post(i, " ".join(rng.choices(["deploy", "shard"], k=rng.randint(2, 6)))) for i in range(400, 440)]
    index, searcher, every = _indexed(tmp_path, docs)
    query = index.build_query(parse("deploy worker shard quickly"))
    ours = _ranked(searcher, query, 60)
    assert ours == _oracle(searcher, query, every, 60, holds_rare=lambda words: "shard" in words)
    with_shard = {d["obj_id"] for d in docs if "shard" in d["body"].split()}
    assert {searcher.stored_fields(doc)["obj_id"] for doc, _ in ours} == with_shard
    # "deploy" and "worker" are each in about as many documents: both make matches
    query = index.build_query(parse("deploy worker quickly today"))
    ours = _ranked(searcher, query, 60)
    assert ours == _oracle(searcher, query, every, 60)
