"""Facet counts of the Whoosh engine: the values kept per segment follow index commits."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from whoosh import index as windex
from whoosh.fields import ID

from cairn.search.engine import SCHEMA, Index
from cairn.search.facets import _segment_values, facet_counts
from cairn.search.query import parse


def _doc(key: int, body: str, tags: str, channel: str = "ops", thread: int | None = None) -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "title": "", "body": body, "acl": "public",
            "thread": f"post:{thread or key}", "status": "posted", "tags": tags, "channel": channel,
            "created": datetime(2026, 11, 1)}


def test_tag_facets_count_each_tag_once_per_document_and_follow_new_commits(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([_doc(1, "deploy the api", "deploy api"), _doc(2, "deploy the worker", "deploy")])
    assert facet_counts(index, parse("deploy"), ["public"])["tag"] == {"deploy": 2, "api": 1}
    assert facet_counts(index, parse("deploy"), ["public"])["tag"] == {"deploy": 2, "api": 1}  # kept lists
    Index(str(tmp_path)).upsert([_doc(3, "deploy the api gateway", "api gateway")])  # another process
    assert facet_counts(index, parse("deploy"), ["public"])["tag"] == {"api": 2, "deploy": 2, "gateway": 1}
    Index(str(tmp_path)).upsert([], deletes=["post:1"])
    assert facet_counts(index, parse("deploy"), ["public"])["tag"] == {"api": 1, "deploy": 1, "gateway": 1}


def test_channel_facets_follow_new_posts_edits_and_deletes(tmp_path):
    index, worker = Index(str(tmp_path)), Index(str(tmp_path))  # the web and the index worker
    worker.upsert([_doc(1, "deploy the api", ""), _doc(2, "deploy the worker", ""), _doc(3, "deploy again", "", thread=1)])
    assert facet_counts(index, parse("deploy"), ["public"])["channel"] == {"ops": 2}  # a thread counts once
    worker.upsert([_doc(4, "deploy the docs", "", channel="docs")])
    assert facet_counts(index, parse("deploy"), ["public"])["channel"] == {"docs": 1, "ops": 2}
    worker.upsert([_doc(2, "deploy the worker", "", channel="docs")])  # moved: an edit of an old segment's post
    assert facet_counts(index, parse("deploy"), ["public"])["channel"] == {"docs": 2, "ops": 1}
    worker.upsert([], deletes=["post:4"])
    counts = facet_counts(index, parse("deploy"), ["public"])
    assert counts["channel"] == {"docs": 1, "ops": 1} and counts["kind"] == {"post": 2}


@pytest.mark.parametrize("thread_column", [True, False], ids=["thread column", "index without it"])
def test_a_segments_facet_values_are_read_as_whooshs_postings_list_them(tmp_path, thread_column):
    """The values kept per segment, read from a column or from the term file in order a block at
    a time, are each document's values as Whoosh's own posting readers give them (long postings
    span many blocks; a segment with deletions; a field of many values). An index written before
    the thread field had a column reads it from its postings."""
    if not thread_column:
        schema = copy.deepcopy(SCHEMA)
        schema._fields["thread"] = ID(stored=True)
        windex.create_in(str(tmp_path), schema)
    index = Index(str(tmp_path))
    docs = [_doc(n, "deploy", " ".join(f"t{(n * k) % 7}" for k in range(1, n % 4 + 1)), channel=f"c{n % 3}",
                 thread=n - n % 5 or None) for n in range(1, 700)]
    index.upsert(docs[:400])
    index.upsert(docs[400:], deletes=[f"post:{n}" for n in range(1, 400, 9)])
    searcher = index.searcher()
    assert len(searcher.leaf_searchers()) == 2
    assert all(bool(leaf.reader().has_column("thread")) == thread_column for leaf, _ in searcher.leaf_searchers())
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for fieldname, many in (("channel", False), ("thread", False), ("kind", False), ("tags", True)):
            values, ords = _segment_values(leaf, fieldname, many)
            expected: dict[int, list] = {}
            for btext in reader.lexicon(fieldname):
                for docnum in reader.postings(fieldname, btext).all_ids():  # deleted ones left out
                    expected.setdefault(docnum, []).append(leaf.schema[fieldname].from_bytes(btext))
            for docnum in reader.all_doc_ids():
                got = [values[i] for i in (ords.get(docnum, ()) if many else [ords[docnum]]) if i >= 0]
                assert sorted(got) == sorted(expected.get(docnum, [])), (fieldname, docnum)
            assert expected  # not a field without values
    assert reader.doc_frequency("kind", "post") > 128  # postings of more than one block
