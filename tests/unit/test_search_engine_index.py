"""The Whoosh index folder shared by processes: a cached searcher, and creation on a first start."""

from __future__ import annotations

import threading

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


def test_web_and_worker_finding_no_index_create_it_once(tmp_path):
    """Threads with an Index each stand for the web and worker processes (the lock is a file lock)."""
    for attempt in range(25):  # a race: before the fix, about one run in three failed
        path = str(tmp_path / f"index-{attempt}")
        barrier, errors = threading.Barrier(6), []
        threads = [threading.Thread(target=_index_one, args=(path, k, barrier, errors)) for k in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert Index(path).doc_count() == 6  # nobody's create wiped another's documents


def _index_one(path: str, key: int, barrier: threading.Barrier, errors: list) -> None:
    barrier.wait(timeout=30)  # all find the index missing at the same moment
    try:
        Index(path).upsert([_doc(key, "hello")])
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
