"""The Whoosh index folder shared by processes: a cached searcher and a first-start creation."""

from __future__ import annotations

import multiprocessing
import time

from cairn.search.engine import Index


def _doc(key: int, body: str) -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "body": body, "acl": "public"}


def test_a_cached_searcher_follows_writes_from_an_empty_index_through_merges(tmp_path):
    reader, writer = Index(str(tmp_path)), Index(str(tmp_path))  # the web and the index worker
    assert reader.doc_count() == 0  # the cached searcher starts on the empty index
    for n in range(40):  # enough commits for Whoosh to merge segments
        writer.upsert([_doc(n % 3, f"version {n}")])
        assert reader.doc_count() == min(n + 1, 3)
    stored = sorted(d["body"] for d in reader.searcher().all_stored_fields())
    assert stored == ["version 37", "version 38", "version 39"]  # no replaced version comes back


def _index_one(path: str, key: int, start: float) -> None:
    while time.time() < start:
        pass
    Index(path).upsert([_doc(key, "hello")])


def test_processes_finding_no_index_create_it_once(tmp_path):
    for attempt in range(3):
        path = str(tmp_path / f"index-{attempt}")
        start = time.time() + 0.5
        procs = [multiprocessing.Process(target=_index_one, args=(path, k, start))
                 for k in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        assert [p.exitcode for p in procs] == [0] * 4
        assert Index(path).doc_count() == 4  # nobody's create wiped another's documents
