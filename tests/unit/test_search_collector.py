"""A search prunes: the paced collector rebuilds the matcher tree less often than Whoosh's, and
word coordination skips listing the words of a document that cannot reach the top N. The hits
and their scores must be those of scoring every document."""

from __future__ import annotations

import random

from whoosh.query import Or, Term

from cairn.search.engine import Index, _top
from cairn.search.query import parse

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
