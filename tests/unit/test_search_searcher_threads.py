"""A gunicorn process serves searches from many threads, while the index worker commits: a Whoosh
searcher keeps file positions, so one shared by threads reads another thread's bytes (bench/load.py
saw UnpicklingError, zlib.error and "Block tag error" 500s). Each thread gets its own searcher."""

from __future__ import annotations

import threading

from cairn.search.engine import Index


def _doc(key: int, body: str) -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "body": body, "acl": "public"}


def test_threads_never_share_a_searcher_and_each_keeps_its_own_until_a_commit(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([_doc(1, "deploy the database")])
    seen: dict[str, list] = {}

    def search_twice(name: str) -> None:
        seen[name] = [index.searcher(), index.searcher()]

    threads = [threading.Thread(target=search_twice, args=(f"t{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    firsts = [pair[0] for pair in seen.values()]
    assert all(a is b for a, b in seen.values())  # a thread keeps its searcher while nothing changed
    assert len({id(s) for s in firsts}) == 3  # ... and no two threads hold the same one
    mine = index.searcher()
    Index(str(tmp_path)).upsert([_doc(2, "a commit by the index worker")])
    assert index.searcher() is not mine and index.doc_count() == 2
