"""Bad input gets a clear 4xx in the API.md error format, never a 500, and leaves nothing
half-written: every table's row count (posts, revisions, outbox events, audit events, ...) is
the same after the refused request as before it."""

from __future__ import annotations

import pytest

from cairn.models_base import MAX_ID
from cairn.pagination import encode_cursor
from cairn.stream import actions as stream
from tests import factories as f
from tests.api.test_api_routes import error_of, ok


@pytest.fixture
def ctx(app, people, bearer):
    c = type("Ctx", (), {})()
    c.p = people
    c.member, c.curator, c.other = bearer(people.member), bearer(people.curator), bearer(people.other)
    c.chan = f.channel(people.member, "general")
    c.post = f.post(people.member, c.chan, "hello")
    c.space = f.space(people.curator, "Handbook")
    c.article = f.article(people.member, c.space, "Guide", "v1")
    return c


def refused(client, method: str, path: str, status: int, code: str | None = None, **kwargs) -> dict:
    """Send the request, check the error answer and that no table changed."""
    before = f.counts()
    err = error_of(client.open(path, method=method, **kwargs), status, code)
    assert f.counts() == before, f"{method} {path} wrote something"
    return err


# --- posts ------------------------------------------------------------------------------------

def test_an_empty_post_is_a_400_naming_the_body(client, ctx):
    def check(body):
        err = refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 400, "invalid",
                      json={"body": body}, headers=ctx.member)
        assert "body" in err["fields"]

    f.each(["", "   ", "\n\n\t"], check)


def test_posting_to_an_unknown_channel_is_a_404(client, ctx):
    refused(client, "POST", "/api/v1/channels/424242/posts", 404, "not_found", json={"body": "hi"},
            headers=ctx.member)


def test_a_ten_megabyte_body_is_a_413(client, ctx):
    body = '{"body": "' + "x" * (10 * 1024 * 1024) + '"}'
    refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 413, "too_large", data=body,
            content_type="application/json", headers=ctx.member)


def test_a_body_just_over_a_mebibyte_is_a_413_and_just_under_is_judged_on_its_merits(client, ctx, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024
    over = '{"body": "' + "x" * limit + '"}'
    refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 413, "too_large", data=over,
            content_type="application/json", headers=ctx.member)
    under = '{"body": "' + "x" * (limit - 100) + '"}'   # fits the request, not a post
    err = refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 400, "invalid", data=under,
                  content_type="application/json", headers=ctx.member)
    assert "body" in err["fields"]


def test_a_post_over_the_character_limit_is_a_400(client, ctx, app):
    body = "x" * (app.config["MAX_BODY_CHARS"] + 1)
    err = refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 400, json={"body": body},
                  headers=ctx.member)
    assert "body" in err["fields"]


NOT_JSON_OBJECTS = [
    ("body=hello", "application/x-www-form-urlencoded"),
    ("hello", "text/plain"),
    ("{not json", "application/json"),
    ('["a", "list"]', "application/json"),
    ('"a string"', "application/json"),
    ("null", "application/json"),
    ("", "application/json"),
]


def test_a_body_that_is_not_a_json_object_is_a_400(client, ctx):
    def check(data, content_type):
        err = refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 400, "invalid", data=data,
                      content_type=content_type, headers=ctx.member)
        assert "_body" in err["fields"]

    f.each(NOT_JSON_OBJECTS, check)


UNKNOWN_FIELDS = [
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "author_id": 1}, "author_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "channel_id": 2, "html": "<b>x</b>"}, "html"),
    ("/api/v1/channels", {"name": "new", "created_by_id": 1}, "created_by_id"),
    ("/api/v1/spaces", {"name": "New", "owner_id": 1}, "owner_id"),
    ("/api/v1/articles", {"space_id": "{space}", "title": "T", "status": "published"}, "status"),
]


def test_unknown_fields_are_a_400_listing_each_of_them(client, ctx):
    def check(path, body, field):
        body = {k: (ctx.space.id if v == "{space}" else v) for k, v in body.items()}
        err = refused(client, "POST", path.format(chan=ctx.chan.id), 400, "invalid", json=body,
                      headers=ctx.curator)
        assert err["fields"][field] == ["Unknown field."]

    f.each(UNKNOWN_FIELDS, check)


WRONG_TYPES = [
    ("/api/v1/channels/{chan}/posts", {"body": 123}, "body"),
    ("/api/v1/channels/{chan}/posts", {"body": ["x"]}, "body"),
    ("/api/v1/channels/{chan}/posts", {"body": None}, "body"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "parent_id": "abc"}, "parent_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "parent_id": 1.5}, "parent_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "parent_id": True}, "parent_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "parent_id": -3}, "parent_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "parent_id": MAX_ID + 1}, "parent_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "hi", "parent_id": 10**30}, "parent_id"),
    ("/api/v1/channels/{chan}/posts", {"body": "a\x00b"}, "body"),
    ("/api/v1/channels", {"name": "new", "members": "3"}, "members"),
    ("/api/v1/channels", {"name": "new", "members": [10**20]}, "members"),
    ("/api/v1/channels", {"name": "new", "private": "perhaps"}, "private"),
    ("/api/v1/channels", {"name": "new", "topic": {"a": 1}}, "topic"),
    ("/api/v1/channels", {"name": "new", "topic": "nul\x00"}, "topic"),
    ("/api/v1/articles", {"space_id": "one", "title": "T"}, "space_id"),
    ("/api/v1/articles", {"space_id": "{space}", "title": "T", "tags": "a,b"}, "tags"),
    ("/api/v1/articles", {"space_id": "{space}", "title": "T", "tags": ["has space"]}, "tags"),
    ("/api/v1/articles", {"space_id": "{space}", "title": ""}, "title"),
    ("/api/v1/articles", {"space_id": "{space}"}, "title"),
    ("/api/v1/promotions", {"post_ids": []}, "post_ids"),
    ("/api/v1/promotions", {"post_ids": [1], "mode": "merge"}, "mode"),
    ("/api/v1/notifications/read", {"ids": ["x"]}, "ids"),
]


def test_wrong_types_and_values_are_a_400_naming_the_field(client, ctx):
    def check(path, body, field):
        body = {k: (ctx.space.id if v == "{space}" else v) for k, v in body.items()}
        err = refused(client, "POST", path.format(chan=ctx.chan.id), 400, "invalid", json=body,
                      headers=ctx.curator)
        assert field in err["fields"], err

    f.each(WRONG_TYPES, check)


def test_a_reply_to_a_parent_in_another_channel_is_a_400(client, ctx):
    other = f.channel(ctx.p.member, "random")
    err = refused(client, "POST", f"/api/v1/channels/{other.id}/posts", 400, json={"body": "hi",
                                                                                     "parent_id": ctx.post.id},
                  headers=ctx.member)
    assert "parent_id" in err["fields"]


# --- authentication ---------------------------------------------------------------------------

BAD_AUTHORIZATION = [
    "Bearer garbage",
    "Bearer cairn_not-a-real-token",
    "Bearer " + "cairn_" + "x" * 300,
    "Bearer",
    "Bearer    ",
    "Basic bWVtYmVyQGV4YW1wbGUuY29tOnB3",
    "Token cairn_abc",
    "cairn_abc",
]


def test_a_malformed_token_or_wrong_scheme_is_a_401(client, ctx):
    f.each(BAD_AUTHORIZATION, lambda header: refused(
        client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 401, "unauthorized", json={"body": "hi"},
        headers={"Authorization": header}))


def test_a_revoked_token_is_a_401(client, ctx):
    token = ok(client.post("/api/v1/tokens", json={"email": "member@example.com",
                                                   "password": "correct-horse-battery"}), 201)
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=headers).status_code == 204
    refused(client, "POST", f"/api/v1/channels/{ctx.chan.id}/posts", 401, "unauthorized", json={"body": "hi"},
            headers=headers)


def test_a_good_token_with_a_bad_one_appended_is_a_401(client, ctx):
    good = ctx.member["Authorization"]
    refused(client, "GET", "/api/v1/me", 401, headers={"Authorization": good + "x"})


# --- knowledge base ---------------------------------------------------------------------------

def test_a_move_the_lifecycle_forbids_is_a_422(client, ctx):
    def check(to):
        err = refused(client, "POST", f"/api/v1/articles/{ctx.article.id}/transitions", 422, "rule_violated",
                      json={"to": to}, headers=ctx.curator)
        assert "to" in err["fields"]

    f.each(["published", "archived", "draft"], check)


def test_an_unknown_status_is_a_400(client, ctx):
    err = refused(client, "POST", f"/api/v1/articles/{ctx.article.id}/transitions", 400, "invalid",
                  json={"to": "deleted"}, headers=ctx.curator)
    assert "to" in err["fields"]


def test_a_stale_revision_on_article_edit_is_a_409(client, ctx):
    ok(client.patch(f"/api/v1/articles/{ctx.article.id}", json={"revision": 1, "body": "v2"}, headers=ctx.member))
    err = refused(client, "PATCH", f"/api/v1/articles/{ctx.article.id}", 409, "conflict",
                  json={"revision": 1, "body": "lost update"}, headers=ctx.curator)
    assert "revision" in err["fields"]
    assert ok(client.get(f"/api/v1/articles/{ctx.article.id}", headers=ctx.member))["body"] == "v2"


def test_an_article_edit_without_a_base_revision_is_a_400(client, ctx):
    err = refused(client, "PATCH", f"/api/v1/articles/{ctx.article.id}", 400, "invalid", json={"body": "x"},
                  headers=ctx.member)
    assert "revision" in err["fields"]


def test_a_bad_diff_range_is_a_400(client, ctx):
    f.each(["from=1", "from=0&to=1", "from=a&to=1", "from=1&to=99999999999999999999"], lambda query: refused(
        client, "GET", f"/api/v1/articles/{ctx.article.id}/diff?{query}", 400, "invalid", headers=ctx.member))


def test_narrowing_an_article_to_a_group_outside_its_space_is_a_400(client, ctx):
    eng = f.group("eng", ctx.p.curator)
    space = f.space(ctx.p.curator, "Eng", groups=(eng,))
    ops = f.group("ops")
    err = refused(client, "POST", "/api/v1/articles", 400, "invalid",
                  json={"space_id": space.id, "title": "T", "groups": [ops.id]}, headers=ctx.curator)
    assert "groups" in err["fields"]


# --- reactions --------------------------------------------------------------------------------

def test_reacting_twice_is_a_409(client, ctx):
    ok(client.put(f"/api/v1/posts/{ctx.post.id}/reactions/👍", headers=ctx.other))
    refused(client, "PUT", f"/api/v1/posts/{ctx.post.id}/reactions/👍", 409, "conflict", headers=ctx.other)


def test_an_invalid_emoji_is_a_400(client, ctx):
    def check(emoji):
        err = refused(client, "PUT", f"/api/v1/posts/{ctx.post.id}/reactions/{emoji}", 400, "invalid",
                      headers=ctx.other)
        assert "emoji" in err["fields"]

    f.each(["not an emoji", "<script>", "%00", "x" * 41, "👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍"], check)


# --- lists and cursors ------------------------------------------------------------------------

BAD_CURSORS = [
    "/api/v1/channels/{chan}/posts?cursor=garbage!",
    "/api/v1/channels/{chan}/posts?cursor=" + encode_cursor("x"),
    "/api/v1/channels/{chan}/posts?cursor=" + encode_cursor(10**30),
    "/api/v1/channels/{chan}/posts?cursor=" + encode_cursor(MAX_ID + 1),
    "/api/v1/articles?cursor=e30",
    "/api/v1/notifications?cursor=" + encode_cursor(-1),
    "/api/v1/search?q=hello&cursor=" + encode_cursor(-5),
    "/api/v1/search?q=hello&cursor=" + encode_cursor(1, 2),
    "/api/v1/promotions?cursor=" + encode_cursor(1.5),
]


def test_a_malformed_cursor_is_a_400_naming_the_cursor(client, ctx):
    def check(path):
        err = refused(client, "GET", path.format(chan=ctx.chan.id), 400, "invalid", headers=ctx.curator)
        assert "cursor" in err["fields"]

    f.each(BAD_CURSORS, check)


def test_bad_list_arguments_are_a_400(client, ctx):
    def check(query, field):
        err = refused(client, "GET", f"/api/v1/channels/{ctx.chan.id}/posts?{query}", 400, "invalid",
                      headers=ctx.member)
        assert field in err["fields"]

    f.each([("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=1.5", "limit"),
            ("colour=red", "colour")], check)


def test_a_nul_in_a_query_string_is_a_400_not_a_database_error(client, ctx):
    err = refused(client, "GET", "/api/v1/search?q=a%00b", 400, "invalid", headers=ctx.member)
    assert "q" in err["fields"]


# --- ids out of range, methods, routes --------------------------------------------------------

def test_an_id_no_key_can_hold_is_a_404(client, ctx):
    f.each(["/api/v1/posts/99999999999999999999", f"/api/v1/posts/{MAX_ID + 1}",
            "/api/v1/channels/99999999999999999999/posts", "/api/v1/articles/1/revisions/99999999999999999999"],
           lambda path: refused(client, "GET", path, 404, "not_found", headers=ctx.member))


def test_an_unknown_api_route_and_a_wrong_method_answer_in_json(client, ctx):
    refused(client, "GET", "/api/v1/nothing-here", 404, "not_found", headers=ctx.member)
    refused(client, "DELETE", "/api/v1/channels", 405, "method_not_allowed", headers=ctx.member)


def test_a_refused_edit_leaves_the_post_and_its_revisions_as_they_were(client, ctx):
    stream.edit_post(ctx.p.member, ctx.post.id, "hello again")
    err = refused(client, "PATCH", f"/api/v1/posts/{ctx.post.id}", 400, "invalid", json={"body": "  "},
                  headers=ctx.member)
    assert "body" in err["fields"]
    assert ok(client.get(f"/api/v1/posts/{ctx.post.id}", headers=ctx.member))["body"] == "hello again"
