"""The paced collector rebuilds the matcher tree less often than Whoosh's; the hits must not change."""

from __future__ import annotations

import random

from whoosh.collectors import FilterCollector, TopCollector
from whoosh.query import Or, Term

from cairn.search.engine import Index, _top
from cairn.search.query import parse

WORDS = "deploy api worker queue retry timeout cache index shard replica backup restore proxy token".split()


def test_a_paced_search_finds_the_same_hits_with_the_same_scores_as_whoosh(tmp_path):
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
        theirs = FilterCollector(TopCollector(20), allow=allow)
        searcher.search_with_collector(query, theirs)
        expected = [(hit.docnum, round(hit.score, 9)) for hit in theirs.results()]
        assert [(hit.docnum, round(hit.score, 9)) for hit in ours] == expected
        assert len(expected) == 20
