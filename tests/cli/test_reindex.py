"""`cairn reindex` rebuilds the index from the database and shows its progress."""

from __future__ import annotations

import re

import click._termui_impl

from cairn import search
from cairn.auth.models import User
from cairn.cli import reindex_command
from cairn.extensions import db
from cairn.stream import actions as stream
from tests import factories as f


def test_reindex_rebuilds_the_index_from_the_database_with_a_progress_bar(app, people, monkeypatch):
    other_id = people.other.id
    chan = f.channel(people.member, "ops")
    posts = [f.post(people.member, chan, f"note {i} about the gopher cache") for i in range(5)]
    stream.delete_post(people.member, posts[0].id)  # a row the index must not get back
    guide = f.article(people.curator, f.space(people.curator, "Handbook"), "Gopher cache", status="published")
    guide_id = guide.id
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
        [("post", p.id) for p in posts[1:]] + [("article", guide_id)])
