"""With Redis, the page cache's content version is one Redis key that every process moves on after
it commits a write, and that each process reads through Redis's client-side caching (CLIENT
TRACKING): a write committed by another process is seen by the very next page view."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis

from bench._services import RedisServer
from cairn.pagecache import RedisVersion, VersionUnavailable
from tests import factories as f
from tests.conftest import log_in
from tests.integration.conftest import ROOT, process_env

CACHED = "X-Cairn-Page"


def test_a_version_moved_on_by_one_client_is_read_at_once_by_another(redis_url, redis_client):
    writer, reader = RedisVersion(redis_url, "test:content-version"), RedisVersion(redis_url, "test:content-version")
    stale = 0
    for _ in range(300):
        before = reader.read()
        writer.bump()
        stale += reader.read() == before
    assert stale == 0
    last = reader.read()
    redis_client.delete("test:content-version")  # as after a Redis restart that kept nothing
    restarted = reader.read()
    assert restarted != last and writer.read() == restarted


def test_a_write_made_while_redis_was_unreachable_moves_the_version_on_when_it_answers_again(tmp_path):
    server = RedisServer(tmp_path / "redis")
    url = server.start()
    try:
        reader, writer, web_writer = (RedisVersion(url, "test:content-version", retry_after=0.2) for _ in range(3))
        before = reader.read()
        server.stop()
        with pytest.raises(redis.RedisError):
            writer.bump()  # a write committed meanwhile: its version change is owed
        with pytest.raises(redis.RedisError):
            web_writer.bump()
        with pytest.raises(redis.RedisError):
            reader.read()
        with pytest.raises(VersionUnavailable):
            reader.read()  # left alone for a moment: no request waits on a dead connection
        server.start()
        redis.Redis.from_url(url).set("test:content-version", before)  # as a Redis that kept its data
        time.sleep(0.25)
        assert reader.read() == before  # (nobody has paid yet)
        writer.bump()  # the next write pays the debt, and moves the version on for itself
        moved = reader.read()
        assert moved != before
        web_writer.read()  # a web process pays it on its next page view
        assert reader.read() not in (before, moved)
    finally:
        server.stop()


def _run_elsewhere(settings: dict, code: str) -> None:
    """``code`` in a new Python process with the same CAIRN_* settings (another web process, say)."""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=process_env(settings), check=True, timeout=120)


def test_a_post_written_by_another_process_shows_on_the_next_view(app, settings, people):
    general = f.channel(people.member, "general", members=(people.other,))
    client = app.test_client()
    log_in(client, people.other)
    views = [client.get(f"/channels/{general.id}") for _ in range(3)]
    assert views[-1].headers.get(CACHED) == "cached"
    _run_elsewhere(settings, "from cairn import create_app\n"
                             "from cairn.auth.models import User\n"
                             "from cairn.extensions import db\n"
                             "from cairn.stream import actions\n"
                             "with create_app().app_context():\n"
                             f"    author = db.session.get(User, {people.member.id})\n"
                             f"    actions.create_post(author, {general.id}, 'written in another process')\n")
    resp = client.get(f"/channels/{general.id}")
    assert CACHED not in resp.headers and "written in another process" in resp.get_data(as_text=True)
