"""The OpenAPI document covers every route, and what the fuzz run (test_openapi_fuzz.py) found stays fixed.

Each finding has a fast test here that needs no live server.
"""

from __future__ import annotations

import inspect
import re

from cairn.api.openapi import OPERATIONS
from cairn.models_base import MAX_ID
from tests import factories as f

CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")]


def test_the_document_has_every_api_route_and_method_and_nothing_else(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    routed = {(method.lower(), CONVERTER.sub(r"{\1}", rule.rule))
              for rule in _api_rules(app) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert len(routed) > 60
    assert routed == documented


def test_every_route_that_reads_a_body_or_a_query_string_documents_its_schema(app):
    """A new route that calls load(Schema()) or load_args(Schema()) must say so in OPERATIONS, or
    the document (and the fuzz run) would not know what it accepts."""
    missing = []
    for rule in _api_rules(app):
        source = inspect.getsource(app.view_functions[rule.endpoint])
        body, args, _status = OPERATIONS.get(rule.endpoint, (None, None, None))
        if re.search(r"\bload\(\w+\(", source) and body is None:
            missing.append(f"{rule.endpoint}: its JSON body schema")
        if "load_args(" in source and args is None:
            missing.append(f"{rule.endpoint}: its query-string schema")
    assert not missing, "add to cairn.api.openapi.OPERATIONS:\n" + "\n".join(missing)


def test_every_operation_documents_its_success_and_each_error_status(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            statuses = set(op["responses"])
            assert {"400", "401", "403", "404", "409", "413", "422", "429"} <= statuses, (method, path)
            assert any(s.startswith("2") for s in statuses), (method, path)
            assert "default" not in statuses, (method, path)  # "any status" would make the check vacuous
            for param in op["parameters"]:
                if param["in"] == "path" and param["schema"]["type"] == "integer":
                    assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, MAX_ID)


def test_documented_success_bodies_match_the_answers(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    # found by the fuzz run: leaving a channel answers 204 and removing a reaction 200 (the post)
    assert set(paths["/api/v1/channels/{channel_id}/leave"]["post"]["responses"]["204"]) == {"description"}
    assert "200" in paths["/api/v1/posts/{post_id}/reactions/{emoji}"]["delete"]["responses"]
    # a thread is not a page; a list is; a live stream is not JSON
    thread = paths["/api/v1/posts/{post_id}/thread"]["get"]["responses"]["200"]["content"]["application/json"]
    assert thread["schema"]["required"] == ["root", "replies", "next"]
    posts = paths["/api/v1/channels/{channel_id}/posts"]["get"]["responses"]["200"]["content"]["application/json"]
    assert posts["schema"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/PostOut"}
    assert spec["components"]["schemas"]["PostOut"].get("additionalProperties") is not False
    events = paths["/api/v1/channels/{channel_id}/events"]["get"]["responses"]
    assert list(events["200"]["content"]) == ["text/event-stream"] and "503" in events


def test_leaving_a_channel_answers_204_as_documented(client, people, bearer):
    channel = f.channel(people.admin, "fuzz-leave", members=(people.admin, people.member))
    resp = client.post(f"/api/v1/channels/{channel.id}/leave", headers=bearer(people.member))
    assert resp.status_code == 204 and resp.get_data() == b""


def test_an_id_no_route_accepts_is_404_for_every_method_not_405(client, people, bearer):
    """Found by the fuzz run: DELETE /posts/<an id past the largest key> answered 405, because
    Werkzeug matched the GET route's path before its converter refused the id."""
    headers = bearer(people.admin)
    too_big = MAX_ID + 1
    for method, path in [("DELETE", f"/api/v1/posts/{too_big}"), ("PATCH", f"/api/v1/users/{too_big}"),
                         ("DELETE", f"/api/v1/posts/{too_big}/reactions/tada"),
                         ("GET", f"/api/v1/posts/{too_big}"), ("DELETE", "/api/v1/posts/99999999999999999999")]:
        resp = client.open(path, method=method, headers=headers, json={} if method == "PATCH" else None)
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert resp.get_json()["error"]["code"] == "not_found"
    # a method the route really lacks is still 405
    assert client.put("/api/v1/me", headers=headers).status_code == 405
