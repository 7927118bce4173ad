"""Facet counts of the Whoosh engine: the tag lists kept per searcher follow index commits."""

from __future__ import annotations

from datetime import datetime

from cairn.search.engine import Index
from cairn.search.facets import facet_counts
from cairn.search.query import parse


def _doc(key: int, body: str, tags: str) -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "title": "", "body": body, "acl": "public",
            "thread": f"post:{key}", "status": "posted", "tags": tags, "channel": "ops",
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
