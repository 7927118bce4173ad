"""A search prunes: the paced collector rebuilds the matcher tree less often than Whoosh's, and
word coordination skips listing the words of a document that cannot reach the top N. The hits
and their scores must be those of scoring every document."""

from __future__ import annotations

import random

from whoosh.query import Or, Term

from cairn.search.engine import Index, _top
from cairn.search.query import parse
from cairn.search.ranking import COORD_POWER, _WordCoordOr

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
    allow = Or([Term("acl", "public")])
    for text in ("deploy worker queue retry timeout cache", "index shard replica backup", "proxy token api restore"):
        query = index.build_query(parse(text))
        ours = _top(searcher, query, allow, 20)
        every = searcher.search(query, filter=allow, limit=None)  # no pruning: every match scored
        expected = sorted(((hit.docnum, round(hit.score, 9)) for hit in every), key=lambda d: (-d[1], d[0]))[:20]
        assert [(hit.docnum, round(hit.score, 9)) for hit in ours] == expected
        assert len(every) > 200


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
    allow = Or([Term("acl", "public")])
    for text in ("deploy worker queue retry timeout cache", "index shard replica backup restore proxy"):
        query = index.build_query(parse(text))
        assert isinstance(query, _WordCoordOr)
        held: dict[int, set[str]] = {}
        summed: dict[int, float] = {}
        for sub in query.subqueries:
            word = query.keys[(sub.fieldname, sub.text)]
            for hit in searcher.search(sub, limit=None):
                summed[hit.docnum] = summed.get(hit.docnum, 0.0) + hit.score
                held.setdefault(hit.docnum, set()).add(word)
        expected = sorted(((doc, round(score * (len(held[doc]) / query.words) ** COORD_POWER, 9))
                           for doc, score in summed.items()), key=lambda d: (-d[1], d[0]))[:20]
        ours = _top(searcher, query, allow, 20)
        assert [(hit.docnum, round(hit.score, 9)) for hit in ours] == expected


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
    allow = Or([Term("acl", "public")])
    for text in ('(deploy worker queue retry timeout)^3', '"deploy worker" queue retry timeout cache shard',
                 '(index shard replica backup)^0.5'):
        query = index.build_query(parse(text))
        ours = _top(searcher, query, allow, 10)
        every = searcher.search(query, filter=allow, limit=None)
        expected = sorted(((hit.docnum, round(hit.score, 9)) for hit in every), key=lambda d: (-d[1], d[0]))[:10]
        assert [(hit.docnum, round(hit.score, 9)) for hit in ours] == expected, text


def _scores(matcher):
    while matcher.is_active():
        yield matcher.score()
        matcher.next()
