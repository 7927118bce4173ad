"""A new index generation reuses the segment readers of the one before (opening the large segment's
reader again was most of the first query after every commit); what they read must still be the new
generation's: no deleted or replaced document comes back, an edited one is found by its new words."""

from __future__ import annotations

from cairn.search.engine import Index
from cairn.search.query import parse


def _doc(key: int, body: str) -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "body": body, "acl": "public",
            "thread": f"post:{key}", "status": "posted"}


def _found(index: Index, text: str) -> list[str]:
    return sorted(hit["id"] for hit in index.search(parse(text), ["public"])[0])


def _leaves(index: Index) -> dict:
    return {reader.segment().segment_id(): reader for reader, _ in index.searcher().reader().leaf_readers()}


def test_a_commit_reuses_the_readers_of_unchanged_segments(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([_doc(1, "deploy the api"), _doc(2, "deploy the worker")])
    before = _leaves(index)
    Index(str(tmp_path)).upsert([_doc(3, "deploy the gateway")])  # the index worker's commit
    after = _leaves(index)
    assert len(after) == 2
    # the unchanged segment's opened term and posting files are the ones read before
    assert all(after[segment]._terms is reader._terms for segment, reader in before.items())
    assert _found(index, "deploy") == ["post:1", "post:2", "post:3"]


def test_edits_and_deletes_in_a_reused_segment_are_seen(tmp_path):
    index, worker = Index(str(tmp_path)), Index(str(tmp_path))
    worker.upsert([_doc(1, "deploy the api"), _doc(2, "deploy the worker"), _doc(3, "restart the worker")])
    assert _found(index, "worker") == ["post:2", "post:3"]
    worker.upsert([_doc(2, "rollback the release")])  # an edit: deleted in the old segment, added anew
    assert _found(index, "worker") == ["post:3"]
    assert _found(index, "rollback") == ["post:2"]
    worker.upsert([], deletes=["post:3"])
    assert _found(index, "worker") == []
    assert index.doc_count() == 2
    assert sorted(d["body"] for d in index.searcher().all_stored_fields()) == ["deploy the api", "rollback the release"]


def test_merged_away_segments_are_not_read_again(tmp_path):
    index, worker = Index(str(tmp_path)), Index(str(tmp_path))
    for n in range(30):  # enough commits for Whoosh to merge segments
        worker.upsert([_doc(n % 4, f"version v{n}")])
        assert index.doc_count() == min(n + 1, 4)
    assert _found(index, "version") == ["post:0", "post:1", "post:2", "post:3"]
    assert _found(index, "v25") == [] and _found(index, "v29") == ["post:1"]
    live = {segment.segment_id() for segment in index.open()._segments()}
    assert set(_leaves(index)) == live
