"""The rebuild's DocumentAdder writes the segment Whoosh's add_document writes: the same terms,
postings (documents, weights, positions), term statistics, stored fields, lengths and columns."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from whoosh import index as windex

from cairn.search import adding
from cairn.search.adding import DocumentAdder
from cairn.search.documents import post_fields
from cairn.search.engine import SCHEMA

BODIES = ["Deploying the Kubernetes clusters again, again and again", "the of and", "",
          "**bold** move: postgres 16.1 upgrade, see https://example.com/x?y=1 #ops #db",
          "naïve café résumé İstanbul ß 日本語 👍", "word " * 300]


def _documents() -> list[dict]:
    created = datetime(2026, 11, 1, 9, 30)
    docs = [post_fields(n, n - 1 if n % 3 else None, BODIES[n % len(BODIES)], "", created + timedelta(minutes=n),
                        f"user{n % 4}", f"User {n % 4}", ("general", "ops", "hr")[n % 3],
                        "public" if n % 3 < 2 else "channel:3 user:1", n % 5, n % 7 == 0)
            for n in range(1, 60)]
    for n in range(1, 8):  # articles: titles, tags, spaces, verified, another status
        docs.append({"id": f"article:{n}", "kind": "article", "obj_id": n, "title": f"Runbook {n}: restarting",
                     "body": BODIES[n % len(BODIES)], "author": "curator", "author_name": "Cu Rator",
                     "space": ("handbook", "staff")[n % 2], "container": "Handbook", "thread": f"article:{n}",
                     "tags": "ops runbook" if n % 2 else "", "created": created - timedelta(days=n),
                     "status": "published", "verified": n % 3 == 0, "reactions": 0, "acl": "public group:2"})
    docs.append({**docs[0], "id": "post:999", "_boost": 2.0})  # an option: Whoosh's add_document takes it
    return docs


def _segment(tmp_path, name: str, add, pool_limit: int) -> dict:
    (tmp_path / name).mkdir()
    ix = windex.create_in(str(tmp_path / name), SCHEMA)
    writer = ix.writer()
    writer.pool.limit = pool_limit
    add(writer)
    writer.commit()
    reader = ix.reader()
    terms = {}
    for field, text in reader.all_terms():
        info = reader.term_info(field, text)
        matcher, postings = reader.postings(field, text), []
        while matcher.is_active():
            postings.append((matcher.id(), matcher.weight(), matcher.value()))
            matcher.next()
        terms[field, text] = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                              info.max_weight(), postings)
    docs = range(reader.doc_count_all())
    return {
        "terms": terms,
        "stored": [reader.stored_fields(n) for n in docs],
        "lengths": {f: ([reader.doc_field_length(n, f) for n in docs], reader.field_length(f),
                        reader.min_field_length(f), reader.max_field_length(f)) for f in SCHEMA.scorable_names()},
        "created": list(reader.column_reader("created")),
    }


@pytest.mark.parametrize("pool_limit", [1024 ** 3, 5000], ids=["in memory", "sorted into run files"])
def test_the_adder_writes_the_segment_whooshs_add_document_writes(tmp_path, pool_limit):
    docs = _documents()

    def whoosh(writer) -> None:
        for doc in docs:
            writer.add_document(**doc)

    expected = _segment(tmp_path, "whoosh", whoosh, pool_limit)
    got = _segment(tmp_path, "adder", lambda writer: DocumentAdder(writer).add_all(docs), pool_limit)
    assert len(expected["terms"]) > 100 and len(expected["stored"]) == len(docs)
    assert got == expected


def test_a_full_memo_is_emptied_and_gives_the_same_segment(tmp_path, monkeypatch):
    docs = _documents()
    expected = _segment(tmp_path, "whoosh", lambda w: [w.add_document(**d) for d in docs], 1024 ** 3)
    monkeypatch.setattr(adding, "MEMO_LIMIT", 3)
    adder = None

    def add(writer) -> None:
        nonlocal adder
        adder = DocumentAdder(writer)
        adder.add_all(docs)

    assert _segment(tmp_path, "adder", add, 1024 ** 3) == expected
    assert len(adder.memo) <= 3


def test_an_unknown_field_fails_as_whooshs_add_document_does(tmp_path):
    from whoosh.fields import UnknownFieldError

    writer = windex.create_in(str(tmp_path), SCHEMA).writer()
    with pytest.raises(UnknownFieldError):
        DocumentAdder(writer).add({"id": "post:1", "colour": "red"})
    writer.cancel()
