"""Live updates across web processes: two gunicorn servers, one database, one Redis.

A post created through server A must reach an event stream opened on server B, and B must
serve the post itself through the permission layer. Every socket read has a timeout.
"""

from __future__ import annotations

import http.client
import json
import time

import pytest

from tests import factories as f
from tests.live.conftest import REDIS_URL


def sse_connect(server, path: str, token: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()[:300]
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    return conn, resp


def read_event(resp: http.client.HTTPResponse, kind: str, timeout: float = 10.0) -> dict:
    """Read lines until an event of ``kind`` arrives (heartbeats keep the reads short)."""
    deadline, event, data = time.monotonic() + timeout, None, None
    while time.monotonic() < deadline:
        line = resp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: "):])
        elif line == "" and event == kind and data is not None:
            return data
        elif line == "":
            event, data = None, None
    pytest.fail(f"no {kind} event within {timeout}s")


def api(server, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def test_a_post_created_on_one_web_process_reaches_a_stream_on_another(
        migrated, tmp_path, redis_prefix, start_server, people, bearer):
    general = f.channel(people.member, "general", members=(people.other,))
    reader = bearer(people.other)["Authorization"].split()[1]
    writer = bearer(people.member)["Authorization"].split()[1]
    settings = {
        "database_url": migrated, "instance": str(tmp_path / "instance"), "index_dir": str(tmp_path / "index"),
        "secret_key": "cross-process", "redis_url": REDIS_URL,
        "live_channel_prefix": redis_prefix, "celery_eager": "true", "broker_url": "memory://",
        "live_heartbeat_seconds": "1",
    }
    server_a = start_server("cairn-web-a", wait=False, **settings)
    server_b = start_server("cairn-web-b", **settings)
    server_a.wait_ready()
    assert server_a.proc.pid != server_b.proc.pid

    conn, stream = sse_connect(server_b, f"/api/v1/channels/{general.id}/events", reader)
    try:
        assert stream.readline() == b"retry: 3000\n"  # B has subscribed before it answers

        status, post = api(server_a, "POST", f"/api/v1/channels/{general.id}/posts", writer,
                           {"body": "Written on A, seen on B"})
        assert status == 201, post
        assert read_event(stream, "post.created") == {"channel_id": general.id, "post_id": post["id"],
                                                      "parent_id": None}

        status, _ = api(server_a, "PUT", f"/api/v1/posts/{post['id']}/reactions/%F0%9F%8E%89", writer)
        assert status == 200
        assert read_event(stream, "reaction.changed")["post_id"] == post["id"]

        status, seen = api(server_b, "GET", f"/api/v1/posts/{post['id']}", reader)  # the content, on B
        assert status == 200 and seen["body"] == "Written on A, seen on B"
        assert [r["emoji"] for r in seen["reactions"]] == ["🎉"]
    finally:
        conn.close()
