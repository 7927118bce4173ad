"""Who may do what, route by route: every rule of the URL map is in the table of
authorization_table.py (its cells are explained there), and each row is asked by five people
(anonymous, the member who owns the objects, another member, a curator, an admin) about public,
private and restricted objects.

A new route fails test_every_route_is_in_the_table until it gets its rows. Responses that `other`
or anonymous may read are also scanned for a word that only hidden objects contain.

Objects (tests/security/conftest.py, matrix_support.make): general / secret (public and private
channel of member; curator is in secret, admin is not), public_post / private_post (member's),
public_reply / private_reply, handbook / restricted_space (group eng = member, curator),
public_article (published), draft (member's), restricted_article (published in the restricted
space), article_flag / restricted_flag, public_promotion / private_promotion (by curator),
public_candidate / private_candidate, notification / token (member's), group, user (other),
search_log (member's search).
"""

from __future__ import annotations

import os
import re

import pytest

from cairn import search
from cairn.curation.models import Promotion
from cairn.extensions import db
from tests import factories as f
from tests.security.authorization_table import TABLE
from tests.security.matrix_support import ROLES, UNSAFE, Clients, make, observe, scene_extras


def _bodies(s) -> dict[str, dict]:
    """A valid body for each write, so an allowed caller gets 2xx and not a 400."""
    return {
        "api_kb.create_article": {"space_id": s["handbook"], "title": "New", "body": "Text"},
        "kb.new_article": {"space_id": s["handbook"], "title": "New", "body": "Text"},
        "api_kb.edit_article": {"revision": 2, "body": "Edited"},
        "kb.edit_article": {"revision": 2, "body": "Edited"},
        "api_kb.flag_article": {"kind": "outdated", "comment": "old"},
        "kb.flag": {"kind": "outdated", "comment": "old"},
        "api_kb.restore_revision": {"revision": 2},
        "kb.restore": {"revision": 2},
        "api_kb.transition": {"to": "archived", "note": "n"},
        "kb.transition": {"to": "archived", "note": "n"},
        "api_kb.verify": {}, "kb.verify": {},
        "api_kb.resolve_flag": {"note": "done"}, "kb.resolve_flag": {"note": "done"},
        "api_kb.create_space": {"name": "Space {n}"}, "kb.create_space": {"name": "Space {n}"},
        "api_kb.update_space": {"description": "d"}, "kb.space_settings": {"description": "d"},
        "api_stream.create_channel": {"name": "chan-{n}"}, "stream.create_channel": {"name": "chan-{n}"},
        "api_stream.update_channel": {"topic": "t"}, "stream.update_topic": {"topic": "t"},
        "api_stream.create_post": {"body": "hi"}, "stream.create_post": {"body": "hi"},
        "api_stream.edit_post": {"body": "edited"}, "stream.edit_post": {"body": "edited"},
        "api_stream.flag_post": {"reason": "spam"}, "stream.flag": {"reason": "spam"},
        "api_stream.hide_post": {"reason": "off topic"}, "stream.hide": {"reason": "off topic"},
        "stream.react": {"emoji": "🎉"}, "stream.add_member": {"user": "admin@example.com"},
        "api_stream.read_notifications": {}, "notifications.mark_read": {},
        "api_stream.preview": {"body": "**hi**"},
        "api_curation.create_promotion": {"post_ids": [s["public_reply"]]},
        "curation.promote": {"post_ids": [s["public_reply"]]},
        "api_curation.reject_promotion": {"reason": "no"}, "curation.reject": {"reason": "no"},
        "api_candidates.dismiss_candidate": {"reason": "no"}, "candidates.dismiss": {"reason": "no"},
        "api_auth.create_group": {"name": "grp-{n}"},
        "api_auth.create_user": {"email": "new{n}@example.com", "password": "long-enough-pw"},
        "api_auth.update_user": {"display_name": "Renamed"},
        "api_auth.create_token": {"email": "member@example.com", "password": "correct-horse-battery"},
        "auth.login": {"email": "member@example.com", "password": "correct-horse-battery"},
        # appending a private thread publishes it in the target: a target `other` cannot read
        "api_curation.append_instead": {"article_id": s["append_to"]},
        "curation.append_instead": {"article_id": s["append_to"]},
        "curation.add_to_tray": {"post_id": s["public_post"]},
        "curation.remove_from_tray": {"post_id": s["public_post"]},
        "api_gaps.record_click": {"log_id": s["search_log"], "kind": "post", "id": s["public_post"]},
    }


def _queries(s) -> dict[str, dict]:
    """Query arguments a GET route requires."""
    return {"api_search.suggest": {"q": "pub"}, "api_stream.lookup_users": {"channel_id": s["general"], "prefix": "o"},
            "search.search_page": {"q": "plan"}, "api_search.search_all": {"q": "plan"}}


_OBJECTS = {"channel_id": ("general", "secret"), "post_id": ("public_post", "private_post"),
            "article_id": ("public_article", "draft", "restricted_article"),
            "space_id": ("handbook", "restricted_space"), "flag_id": ("article_flag", "restricted_flag"),
            "promotion_id": ("public_promotion", "private_promotion"),
            "candidate_id": ("public_candidate", "private_candidate"), "notification_id": ("notification",),
            "token_id": ("token",), "group_id": ("group",), "user_id": ("user",)}


def _rules(app):
    """(method, endpoint, rule) for every route but static files."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.endpoint, rule.rule


def _default_objects(endpoint: str, rule: str) -> tuple[str, ...]:
    if endpoint.endswith("answer"):
        return ("public_reply", "private_reply")
    if endpoint == "gaps.open_result":
        return ("search_log",)
    names = re.findall(r"<(?:\w+:)?(\w+)>", rule)
    return _OBJECTS[names[0]] if names else ("-",)


def _parse(table: str) -> dict[tuple[str, str, str], dict[str, str]]:
    rows = {}
    for line in table.strip().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, endpoint, obj, *codes = line.split()
        assert len(codes) == len(ROLES), line
        assert (method, endpoint, obj) not in rows, f"twice: {line}"
        rows[(method, endpoint, obj)] = dict(zip(ROLES, codes, strict=True))
    return rows


@pytest.fixture
def matrix(app, people, scene, monkeypatch):
    # the index is not what this table is about (tests/api/test_api_visibility.py and the search
    # ACL tests hold it): skip its writes, the costly part of making objects
    monkeypatch.setattr(search, "sync_document", lambda kind, obj_id: None)
    scene_extras(scene)
    return Clients(app, people)


REFUSED = {"login", "hide", "deny", "404"}
# allowed writes that leave their object as it was for the next person (they add to it, or change
# nothing the table looks at): these run on the scene's objects; every other allowed write on a copy
HARMLESS = {"api_stream.create_post", "stream.create_post", "api_stream.join_channel", "stream.join",
            "api_stream.mark_channel_read", "stream.mark_read", "api_kb.flag_article", "kb.flag", "stream.react",
            "api_stream.update_channel", "stream.update_topic", "api_kb.update_space", "kb.space_settings",
            "api_kb.verify", "kb.verify"}


def test_every_route_is_in_the_table(app):
    rows = _parse(TABLE)
    routes = {(method, endpoint): rule for method, endpoint, rule in _rules(app)}
    listed = {(method, endpoint) for method, endpoint, _ in rows}
    missing = sorted(f"{m} {e} {routes[(m, e)]}" for m, e in routes.keys() - listed)
    assert not missing, "routes the authorization table does not cover (add their rows):\n" + "\n".join(missing)
    assert not listed - routes.keys(), f"rows for routes that no longer exist: {sorted(listed - routes.keys())}"
    for method, endpoint, obj in rows:
        assert obj in _default_objects(endpoint, routes[(method, endpoint)]), f"{endpoint}: no object {obj!r}"


def test_who_may_do_what_to_which_object(app, scene, matrix):
    rows = _parse(TABLE)
    routes = {(method, endpoint): rule for method, endpoint, rule in _rules(app)}
    bodies, queries = _bodies(scene), _queries(scene)
    cases = [(method, endpoint, obj, role, code) for (method, endpoint, obj), codes in rows.items()
             if (method, endpoint) in routes for role, code in codes.items()]
    # refused writes first, all of them: not one row may appear or vanish
    refused = [c for c in cases if c[0] in UNSAFE and c[4] in REFUSED]
    allowed = [c for c in cases if c not in refused]

    def check(method, endpoint, obj, role, expected):
        # an allowed write runs on a fresh copy, so the next person finds the object as it was
        target = make(obj, scene, fresh=method in UNSAFE and expected not in REFUSED and endpoint not in HARMLESS)
        target.query.update(queries.get(endpoint, {}))
        got = observe(matrix, role, method, routes[(method, endpoint)], target, bodies.get(endpoint))
        assert got == expected, f"{role} got {got}, the table says {expected}"

    before = f.counts()
    f.each(refused, check)
    assert f.counts() == before, "a refused write changed the database"
    f.each(allowed, check)


@pytest.mark.skipif(not os.environ.get("CAIRN_MATRIX_PRINT"), reason="a tool: CAIRN_MATRIX_PRINT=1 ... -s prints rows")
def test_print_the_observed_rows(app, scene, matrix):
    """Rows for new routes, as the app answers today: review every cell before pasting it in TABLE.
    CAIRN_MATRIX_PRINT=1 (or a path prefix: CAIRN_MATRIX_PRINT=/api/v1/candidates) and -s."""
    only = os.environ["CAIRN_MATRIX_PRINT"]
    bodies, queries, lines = _bodies(scene), _queries(scene), []
    for method, endpoint, rule in sorted(_rules(app), key=lambda r: (r[2], r[0])):
        if only != "1" and not rule.startswith(only):
            continue
        for obj in _default_objects(endpoint, rule):
            codes = []
            for role in ROLES:
                target = make(obj, scene, fresh=method in UNSAFE and role != "anon")
                target.query.update(queries.get(endpoint, {}))
                codes.append(observe(matrix, role, method, rule, target, bodies.get(endpoint)))
            lines.append(f"{method:<6} {endpoint:<37} {obj:<19} " + " ".join(f"{c:<6}" for c in codes).rstrip())
    print("\n" + "\n".join(lines))


def test_another_members_bookmarks_notifications_and_tokens_never_show_in_lists(app, scene, matrix):
    """The member saved a post, was mentioned and holds a token; to `other` the lists are empty of them
    (by id objects these are rows of the table: open_notification, revoke_token)."""
    def api_items(role, path):
        with app.app_context():
            return matrix.html["anon"].get(path, headers=matrix.bearer[role]).get_json()["items"]

    assert api_items("member", "/api/v1/bookmarks")
    assert api_items("other", "/api/v1/bookmarks") == []
    mine = {n["id"] for n in api_items("member", "/api/v1/notifications")}
    assert scene["notification"] in mine
    assert not mine & {n["id"] for n in api_items("other", "/api/v1/notifications")}
    link = f"/posts/{scene['public_post']}"
    with app.app_context():
        assert link in matrix.html["member"].get("/saved").get_data(as_text=True)
    with app.app_context():
        assert link not in matrix.html["other"].get("/saved").get_data(as_text=True)


def test_a_draft_promoted_from_a_private_channel_is_hidden_like_its_promotion(app, scene, matrix):
    """The curator (in #secret) promoted a private post; the admin is not in #secret: until it is
    published, the draft (the private thread's text) is as hidden from the admin as the promotion."""
    promotion = db.session.get(Promotion, scene["private_promotion"])
    assert promotion.article_id is not None
    with app.app_context():
        hidden_promotion = matrix.html["anon"].get(f"/api/v1/promotions/{promotion.id}",
                                                   headers=matrix.bearer["admin"])
    with app.app_context():
        draft = matrix.html["anon"].get(f"/api/v1/articles/{promotion.article_id}", headers=matrix.bearer["admin"])
    assert hidden_promotion.status_code == 404
    assert draft.status_code == 404, draft.get_json()["body"][:200]
