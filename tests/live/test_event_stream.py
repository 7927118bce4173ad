"""The Server-Sent Events endpoints and the post fragment the page fetches.

Every stream here has heartbeats every 0.2 s (tests/live/conftest.py), so reading one never
blocks for long, and every read has a deadline.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import pytest
from werkzeug.serving import make_server

from cairn import live
from cairn.extensions import db
from cairn.stream import actions
from cairn.stream.models import Channel
from tests import factories as f
from tests.browser.conftest import QuietRequestHandler
from tests.live.conftest import wait_for


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other,))


@pytest.fixture
def secret(people):
    return f.channel(people.member, "secret", private=True, members=(people.other,))


class Stream:
    """Reads an event-stream response chunk by chunk, always against a deadline."""

    def __init__(self, response) -> None:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == "text/event-stream"
        self.response = response
        self.chunks = iter(response.response)
        self.text = ""

    def read_until(self, needle: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline:
                pytest.fail(f"no {needle!r} within {timeout}s; got {self.text!r}")
            self.text += next(self.chunks).decode()
        return self.text

    def events(self) -> list[tuple[str, str, dict]]:
        out = []
        for block in self.text.split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
            if "event" in fields:
                out.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
        return out

    def ended(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        for chunk in self.chunks:
            self.text += chunk.decode()
            if time.monotonic() > deadline:
                return False
        return True

    def close(self) -> None:
        self.response.close()


def open_stream(client, url: str, **headers) -> Stream:
    stream = Stream(client.get(url, buffered=False, headers=headers))
    stream.read_until(": connected")
    return stream


def test_a_member_sees_new_posts_arrive_on_the_channel_stream(client, login, people, general):
    login(people.other)
    stream = open_stream(client, f"/channels/{general.id}/events")
    post = f.post(people.member, general, "Deploy at five")
    stream.read_until("event: post.created")
    [(event_id, kind, data)] = stream.events()
    assert (kind, data) == ("post.created", {"channel_id": general.id, "post_id": post.id, "parent_id": None})
    assert event_id.endswith(":1")
    assert stream.response.headers["Cache-Control"] == "no-cache"
    stream.close()


def test_the_api_stream_accepts_a_bearer_token(client, bearer, people, general):
    stream = open_stream(client, f"/api/v1/channels/{general.id}/events", **bearer(people.other))
    actions.add_reaction(people.other, f.post(people.member, general, "Ship it").id, "🎉")
    stream.read_until("event: reaction.changed")
    stream.close()


@pytest.mark.parametrize("api", [False, True])
def test_a_non_member_gets_404_on_a_private_channel_event_stream(client, login, bearer, people, secret, api):
    if api:
        resp = client.get(f"/api/v1/channels/{secret.id}/events", headers=bearer(people.curator))
        assert resp.get_json()["error"]["code"] == "not_found"
    else:
        login(people.curator)
        resp = client.get(f"/channels/{secret.id}/events")
    assert resp.status_code == 404
    assert live.broker().fanout.count() == 0


def test_an_unknown_channel_is_404_like_a_forbidden_one(client, login, people):
    login(people.member)
    assert client.get("/channels/424242/events").status_code == 404


def test_anonymous_callers_are_sent_to_log_in(client, general):
    assert client.get(f"/channels/{general.id}/events").status_code == 302
    assert client.get(f"/api/v1/channels/{general.id}/events").status_code == 401


def test_an_idle_stream_sends_heartbeats(client, login, people, general):
    login(people.member)
    stream = open_stream(client, f"/channels/{general.id}/events")
    stream.read_until(": heartbeat", timeout=3)
    assert stream.text.startswith("retry: 3000\n")
    stream.close()


def test_a_reconnecting_page_gets_what_it_missed_from_last_event_id(client, login, people, general):
    login(people.member)
    sub = live.broker().subscribe(general.id)
    first = f.post(people.other, general, "one")
    missed = f.post(people.other, general, "two")
    seen_id = sub.get(1).id
    stream = open_stream(client, f"/channels/{general.id}/events", **{"Last-Event-ID": seen_id})
    later = f.post(people.other, general, "three")
    stream.read_until(f'"post_id":{later.id}')
    assert [d["post_id"] for _, _, d in stream.events()] == [missed.id, later.id]
    assert first.id not in [d["post_id"] for _, _, d in stream.events()]
    stream.close()
    by_query = open_stream(client, f"/channels/{general.id}/events?last_event_id={seen_id}")
    by_query.read_until(f'"post_id":{later.id}')
    by_query.close()


def test_a_page_streams_from_where_it_was_rendered_and_misses_nothing_in_between(client, login, people, general):
    login(people.member)
    page = client.get(f"/channels/{general.id}").get_data(as_text=True)
    since = re.search(r'data-live-since="([^"]+)"', page).group(1)
    assert since == live.broker().current_id(general.id)
    between = f.post(people.other, general, "posted while the page was loading its scripts")
    stream = open_stream(client, f"/channels/{general.id}/events?last_event_id={since}")
    stream.read_until(f'"post_id":{between.id}')
    stream.close()
    thread_page = client.get(f"/posts/{between.id}").get_data(as_text=True)
    assert f'data-live-since="{live.broker().current_id(general.id)}"' in thread_page


def test_a_last_event_id_that_cannot_be_replayed_asks_the_page_to_resync(client, login, people, general):
    login(people.member)
    stream = open_stream(client, f"/channels/{general.id}/events", **{"Last-Event-ID": "gone:12"})
    stream.read_until("event: resync")
    stream.close()


def test_streams_past_the_cap_get_503_and_a_closed_stream_frees_its_slot(client, login, people, general):
    login(people.member)
    streams = [open_stream(client, f"/channels/{general.id}/events") for _ in range(3)]  # the cap
    refused = client.get(f"/channels/{general.id}/events")
    assert refused.status_code == 503
    assert client.get(f"/api/v1/channels/{general.id}/events",
                      headers={"Cookie": ""}).status_code in (401, 503)
    streams.pop().close()
    streams.append(open_stream(client, f"/channels/{general.id}/events"))
    for stream in streams:
        stream.close()
    assert live.broker().fanout.count() == 0


def test_a_member_removed_from_a_private_channel_loses_the_stream(client, login, people, secret):
    login(people.other)
    stream = open_stream(client, f"/channels/{secret.id}/events")
    with db.transaction() as s:
        channel = s.get(Channel, secret.id)
        channel.members = [u for u in channel.members if u.id != people.other.id]
    assert stream.ended(timeout=3), stream.text
    assert live.broker().fanout.count() == 0


def test_access_is_checked_again_on_a_busy_channel_too(client, login, people, secret):
    login(people.other)
    stream = open_stream(client, f"/channels/{secret.id}/events")
    with db.transaction() as s:
        channel = s.get(Channel, secret.id)
        channel.members = [u for u in channel.members if u.id != people.other.id]
    deadline, ended = time.monotonic() + 3, False
    while time.monotonic() < deadline and not ended:  # an event before every read: never idle
        live.broker().publish(secret.id, "post.edited", {"post_id": 1, "parent_id": None})
        try:
            stream.text += next(stream.chunks).decode()
        except StopIteration:
            ended = True
    assert ended, "the stream kept going for someone who left the private channel"


def test_a_client_that_goes_away_releases_its_thread_and_subscription(app, bearer, people, general):
    """A real threaded server: the client closes its socket; the next heartbeat's write fails."""
    headers = bearer(people.member)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=5)
        request = (f"GET /api/v1/channels/{general.id}/events HTTP/1.1\r\nHost: test\r\n"
                   f"Authorization: {headers['Authorization']}\r\n\r\n")
        sock.sendall(request.encode())
        received = b""
        while b"connected" not in received:
            received += sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 200") and b"text/event-stream" in received
        assert live.broker().fanout.count() == 1
        sock.close()
        wait_for(lambda: live.broker().fanout.count() == 0, 5, "the stream to notice the client left")
        slots = app.extensions["cairn.live.slots"]
        wait_for(lambda: slots._value == 3, 5, "the stream's slot to be released")
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_the_fragment_is_the_post_card_and_only_for_readers(client, login, people, general, secret):
    root = f.post(people.member, general, "**Bold** question")
    reply = f.post(people.other, general, "An answer", parent=root)
    hidden = f.post(people.member, secret, "Private plans")
    login(people.other)
    html = client.get(f"/posts/{root.id}/fragment").get_data(as_text=True)
    assert html.lstrip().startswith('<article class="post') and f'id="post-{root.id}"' in html
    assert "<strong>Bold</strong>" in html and "1 reply" in html
    in_thread = client.get(f"/posts/{reply.id}/fragment?in_thread=1").get_data(as_text=True)
    assert f'id="post-{reply.id}"' in in_thread and "<html" not in in_thread
    login(people.curator)
    assert client.get(f"/posts/{hidden.id}/fragment").status_code == 404
    actions.delete_post(people.member, root.id)
    assert client.get(f"/posts/{root.id}/fragment").status_code == 404
