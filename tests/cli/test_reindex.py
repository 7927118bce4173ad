"""`cairn reindex` rebuilds the index from the database and shows its progress."""

from __future__ import annotations

import re
import time

import click._termui_impl
import pytest

from cairn import search
from cairn.auth.models import User
from cairn.cli import reindex_command
from cairn.extensions import db
from cairn.search import bulk, documents
from cairn.stream import actions as stream, moderation, signals
from tests import factories as f


def test_reindex_rebuilds_the_index_from_the_database_with_a_progress_bar(app, people, monkeypatch):
    other_id = people.other.id
    chan = f.channel(people.member, "ops")
    posts = [f.post(people.member, chan, f"note {i} about the gopher cache") for i in range(5)]
    stream.delete_post(people.member, posts[0].id)  # a row the index must not get back
    guide = f.article(people.curator, f.space(people.curator, "Handbook"), "Gopher cache", status="published")
    guide_id, post_ids = guide.id, [p.id for p in posts[1:]]
    app.extensions["cairn.search"].rebuild([])  # an emptied index: only the reindex can refill it
    assert search.doc_count() == 0
    # click draws the bar only on a terminal; the runner's output stands in for one
    monkeypatch.setattr(click._termui_impl, "isatty", lambda stream: True)

    result = app.test_cli_runner().invoke(reindex_command)

    assert result.exit_code == 0, result.output
    rows = search.total_rows()  # 6: the bar runs over rows; a deleted post is read and skipped
    assert re.search(rf"Reindexing\s+\[#+-*\]\s+\d+/{rows}", result.output), result.output
    assert re.search(rf"\[#+\]\s+{rows}/{rows}", result.output), "the bar ends full: " + result.output
    assert f"Indexed 5 documents from {rows} rows." in result.output
    assert search.doc_count() == 5
    reader = db.session.get(User, other_id)  # the reindex expunged the session's rows
    hits = search.query(reader, "gopher").items
    assert sorted((h["kind"], h["id"]) for h in hits) == sorted(
        [("post", i) for i in post_ids] + [("article", guide_id)])


def test_the_bulk_reader_builds_the_same_documents_as_the_row_by_row_one(app, people):
    staff = f.group("staff", people.member)
    public, private = f.channel(people.member, "ops"), f.channel(people.member, "leads", private=True)
    root = f.post(people.member, public, "how do we **rotate** the #pager keys?")
    answer = f.post(people.other, public, "with [the runbook](https://example.com/r) and `vault`", parent=root)
    f.post(people.curator, public, "me too", parent=root)
    stream.add_reaction(people.curator, answer.id, "👍")
    stream.add_reaction(people.member, answer.id, "🎉")
    signals.mark_answer(people.member, answer.id)
    f.post(people.member, private, "## secret plans\n\n- one\n- two")
    stream.delete_post(people.member, f.post(people.member, public, "gone").id)
    moderation.hide_post(people.admin, f.post(people.other, public, "spam spam").id)
    handbook, restricted = f.space(people.curator, "Handbook"), f.space(people.curator, "Staff", groups=(staff,))
    f.article(people.curator, handbook, "Pager keys", "### Steps\n\n1. **rotate**", status="published")
    f.article(people.curator, restricted, "Salaries", "| a | b |\n|---|---|\n| 1 | 2 |", status="in_review")
    f.article(people.member, handbook, "Draft", "a draft")

    expected = list(documents.all_documents())
    got = list(bulk.all_documents(batch=2))  # batches smaller than the data: the batch edges too

    assert len(expected) == 7  # 4 posts (one deleted, one hidden: none) and 3 articles
    assert got == expected
    assert next(d for d in got if d["obj_id"] == answer.id and d["kind"] == "post")["reactions"] == 2


def _stored(app) -> list[dict]:
    searcher = app.extensions["cairn.search"].searcher()
    return sorted(searcher.all_stored_fields(), key=lambda d: d["id"])


def test_a_rebuild_in_two_processes_writes_the_same_documents_as_one(app, people, monkeypatch):
    chan, leads = f.channel(people.member, "ops"), f.channel(people.member, "leads", private=True)
    root = f.post(people.member, chan, "the gopher cache is cold #ops")
    for i in range(6):
        public = i % 3 == 0
        f.post(people.other if public else people.member, chan if public else leads, f"gopher reply {i}",
               parent=root if public else None)
    stream.add_reaction(people.other, root.id, "👍")
    handbook = f.space(people.curator, "Handbook")
    for i in range(3):
        f.article(people.curator, handbook, f"Gopher guide {i}", status="published")
    index = app.extensions["cairn.search"]
    reader = db.session.get(User, people.member.id)
    bulk.rebuild(index, processes=1)
    one, one_hits = _stored(app), sorted((h["kind"], h["id"]) for h in search.query(reader, "gopher", limit=50).items)
    seen, build = [], documents.post_fields

    def slowly(*args):  # a process busy with its first job leaves the next one to the other
        time.sleep(0.05)
        return build(*args)

    monkeypatch.setattr(documents, "post_fields", slowly)
    count = bulk.rebuild(index, seen.append, processes=2, batch=2)  # 4 post jobs and 2 article jobs

    assert count == len(one) == 10
    assert seen[-1] == count
    assert len(index.searcher().reader().segments()) == 2  # one per process
    assert _stored(app) == one
    # the same hits (equal scores may come in another order: documents are numbered per segment)
    assert sorted((h["kind"], h["id"]) for h in search.query(reader, "gopher", limit=50).items) == one_hits
    assert {h["id"] for h in search.query(reader, "gopher in:leads after:2000-01-01").items} == {
        d["obj_id"] for d in one if d.get("channel") == "leads"}


def test_an_index_of_the_older_schema_keeps_working_until_the_reindex_writes_the_new_one(app, people, tmp_path,
                                                                                         monkeypatch):
    from whoosh import index as windex
    from whoosh.fields import DATETIME, ID, NUMERIC, STORED

    from cairn.search.engine import SCHEMA, Index

    chan = f.channel(people.member, "ops")
    posts = [f.post(people.member, chan, f"gopher note {i}") for i in range(3)]
    stream.add_reaction(people.other, posts[0].id, "👍")
    older = SCHEMA.copy()  # before: the date at Whoosh's 8 precisions, status and reactions indexed
    for name, field in (("created", DATETIME(stored=True, sortable=True)), ("status", ID(stored=True)),
                        ("reactions", NUMERIC(stored=True))):
        older.remove(name)
        older.add(name, field)
    (tmp_path / "older").mkdir()
    windex.create_in(str(tmp_path / "older"), older)
    monkeypatch.setitem(app.extensions, "cairn.search", Index(str(tmp_path / "older")))
    search.sync_documents("post", [p.id for p in posts])  # the index worker writes as before
    reader = db.session.get(User, people.member.id)

    def found(q: str) -> set[int]:
        return {h["id"] for h in search.query(reader, q).items}

    assert found("gopher after:2000-01-01") == {p.id for p in posts}
    assert found("gopher before:2000-01-01") == set()
    assert _stored(app)[0]["reactions"] == 1
    assert isinstance(app.extensions["cairn.search"].open().schema["reactions"], NUMERIC)

    assert search.reindex() == 3

    assert isinstance(app.extensions["cairn.search"].open().schema["reactions"], STORED)
    assert app.extensions["cairn.search"].open().schema["created"].shift_step == 32
    assert found("gopher after:2000-01-01") == {p.id for p in posts}
    assert found("gopher before:2000-01-01") == set()
    assert _stored(app)[0]["reactions"] == 1


def test_a_failing_reindex_process_fails_the_rebuild_and_leaves_the_index_as_it_was(app, people, monkeypatch):
    chan = f.channel(people.member, "ops")
    for i in range(4):
        f.post(people.member, chan, f"gopher note {i}")
    before = _stored(app)

    def broken(*args, **kwargs):
        raise ValueError("unreadable row")

    monkeypatch.setattr(documents, "post_fields", broken)  # the forked processes inherit it
    with pytest.raises(RuntimeError, match="unreadable row"):
        bulk.rebuild(app.extensions["cairn.search"], processes=2, batch=1)

    assert _stored(app) == before
    monkeypatch.undo()
    search.sync_document("post", 1)  # the index lock was released (a held one fails after 30 s)
