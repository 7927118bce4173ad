"""Steps a test takes through the JSON API with Flask's test client, as a user would: a channel,
a post or reply, a space. Each asserts the API accepted it."""

from __future__ import annotations


def add_channel(client, headers, name="ops") -> int:
    resp = client.post("/api/v1/channels", json={"name": name}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def add_post(client, headers, channel_id: int, body: str, parent_id: int | None = None) -> dict:
    payload = {"body": body, **({"parent_id": parent_id} if parent_id else {})}
    resp = client.post(f"/api/v1/channels/{channel_id}/posts", json=payload, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def add_space(client, headers, name="Runbooks") -> int:
    resp = client.post("/api/v1/spaces", json={"name": name}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]
