"""No read path shows a trace of what the caller may not see: private channels, restricted spaces
and articles, drafts. Forbidden and missing look the same (404, same body)."""

from __future__ import annotations

import json

import pytest

from cairn.kb import actions as kb
from cairn.stream import actions as stream
from tests import factories as f
from tests.api.test_api_routes import error_of, ok

SECRET_WORD = "zanzibar"      # only in things the outsider may not see
SHARED_WORD = "quokka"        # in visible and invisible things alike


@pytest.fixture
def scene(app, people, bearer):
    """#secret (member + curator) and #general; space Eng (group eng = member, curator) and open
    Handbook; the outsider is `other` (not in #secret, not in eng)."""
    s = type("Scene", (), {})()
    s.p = people
    s.h = {name: bearer(getattr(people, name)) for name in ("admin", "curator", "member", "other")}
    s.eng = f.group("eng", people.member, people.curator)
    s.general = f.channel(people.member, "general")
    s.secret = f.channel(people.member, "secret", private=True, members=(people.curator,))
    s.secret_post = f.post(people.member, s.secret, f"{SECRET_WORD} launch plan {SHARED_WORD} #roadmap @curator")
    s.secret_reply = f.post(people.curator, s.secret, f"{SECRET_WORD} reply", parent=s.secret_post)
    stream.edit_post(people.member, s.secret_post.id, f"{SECRET_WORD} launch plan v2 {SHARED_WORD} #roadmap @curator")
    stream.add_reaction(people.curator, s.secret_post.id, "👍")
    s.public_post = f.post(people.member, s.general, f"public {SHARED_WORD} chatter")
    s.handbook = f.space(people.curator, "Handbook")
    s.eng_space = f.space(people.curator, "Engineering", groups=(s.eng,))
    s.eng_article = f.article(people.member, s.eng_space, f"{SECRET_WORD} architecture",
                              f"{SHARED_WORD} internals\n", status="published")
    kb.edit_article(people.member, s.eng_article.id, 1, body=f"{SHARED_WORD} internals v2\n")
    s.narrowed = f.article(people.curator, s.handbook, f"{SECRET_WORD} salaries", f"{SHARED_WORD} pay",
                           groups=(s.eng,), status="published")
    s.draft = f.article(people.member, s.handbook, f"{SECRET_WORD} draft", f"{SHARED_WORD} unfinished")
    s.public_article = f.article(people.curator, s.handbook, "Public guide", f"{SHARED_WORD} for all",
                                 status="published")
    return s


def _text(resp) -> str:
    return json.dumps(resp.get_json()).lower()


def _missing_like(client, headers, path_hidden: str, path_missing: str, method: str = "GET", body=None):
    hidden = client.open(path_hidden, method=method, json=body, headers=headers)
    missing = client.open(path_missing, method=method, json=body, headers=headers)
    error_of(hidden, 404, "not_found")
    assert hidden.get_json() == missing.get_json()


NOPE = 999_999


def hidden_paths(s):
    """(method, path to a hidden object, the same path to a missing one, body)."""
    sp, sr, ch, art, sp_id = s.secret_post.id, s.secret_reply.id, s.secret.id, s.eng_article.id, s.eng_space.id
    return [
        ("GET", f"/api/v1/channels/{ch}", f"/api/v1/channels/{NOPE}", None),
        ("PATCH", f"/api/v1/channels/{ch}", f"/api/v1/channels/{NOPE}", {"topic": "x"}),
        ("GET", f"/api/v1/channels/{ch}/posts", f"/api/v1/channels/{NOPE}/posts", None),
        ("POST", f"/api/v1/channels/{ch}/posts", f"/api/v1/channels/{NOPE}/posts", {"body": "hi"}),
        ("GET", f"/api/v1/posts/{sp}", f"/api/v1/posts/{NOPE}", None),
        ("GET", f"/api/v1/posts/{sr}", f"/api/v1/posts/{NOPE}", None),
        ("PATCH", f"/api/v1/posts/{sp}", f"/api/v1/posts/{NOPE}", {"body": "x"}),
        ("DELETE", f"/api/v1/posts/{sp}", f"/api/v1/posts/{NOPE}", None),
        ("GET", f"/api/v1/posts/{sr}/thread", f"/api/v1/posts/{NOPE}/thread", None),
        ("GET", f"/api/v1/posts/{sp}/revisions", f"/api/v1/posts/{NOPE}/revisions", None),
        ("PUT", f"/api/v1/posts/{sp}/reactions/👍", f"/api/v1/posts/{NOPE}/reactions/👍", None),
        ("DELETE", f"/api/v1/posts/{sp}/reactions/👍", f"/api/v1/posts/{NOPE}/reactions/👍", None),
        ("GET", f"/api/v1/spaces/{sp_id}", f"/api/v1/spaces/{NOPE}", None),
        ("PATCH", f"/api/v1/spaces/{sp_id}", f"/api/v1/spaces/{NOPE}", {"description": "x"}),
        ("GET", f"/api/v1/articles?space_id={sp_id}", f"/api/v1/articles?space_id={NOPE}", None),
        ("GET", f"/api/v1/articles/{art}", f"/api/v1/articles/{NOPE}", None),
        ("GET", f"/api/v1/articles/{s.narrowed.id}", f"/api/v1/articles/{NOPE}", None),
        ("GET", f"/api/v1/articles/{s.draft.id}", f"/api/v1/articles/{NOPE}", None),
        ("PATCH", f"/api/v1/articles/{art}", f"/api/v1/articles/{NOPE}", {"revision": 2, "body": "x"}),
        ("GET", f"/api/v1/articles/{art}/revisions", f"/api/v1/articles/{NOPE}/revisions", None),
        ("GET", f"/api/v1/articles/{art}/revisions/1", f"/api/v1/articles/{NOPE}/revisions/1", None),
        ("GET", f"/api/v1/articles/{art}/diff?from=1&to=2", f"/api/v1/articles/{NOPE}/diff?from=1&to=2", None),
        ("POST", f"/api/v1/articles/{art}/transitions", f"/api/v1/articles/{NOPE}/transitions", {"to": "archived"}),
        ("POST", f"/api/v1/articles/{art}/verification", f"/api/v1/articles/{NOPE}/verification", None),
    ]


def test_every_path_to_a_hidden_object_answers_exactly_like_a_missing_one_and_writes_nothing(client, scene):
    before = f.counts()
    for method, hidden, missing, body in hidden_paths(scene):
        _missing_like(client, scene.h["other"], hidden, missing, method, body)
    assert f.counts() == before


def test_writing_into_a_hidden_space_looks_like_writing_into_a_missing_one(client, scene):
    before = f.counts()
    hidden = client.post("/api/v1/articles", json={"space_id": scene.eng_space.id, "title": "x"},
                         headers=scene.h["other"])
    missing = client.post("/api/v1/articles", json={"space_id": NOPE, "title": "x"}, headers=scene.h["other"])
    error_of(hidden, 404)
    assert hidden.get_json() == missing.get_json()
    assert f.counts() == before


def test_replying_to_a_hidden_post_from_a_public_channel_looks_like_a_missing_parent(client, scene):
    path = f"/api/v1/channels/{scene.general.id}/posts"
    hidden = client.post(path, json={"body": "hi", "parent_id": scene.secret_post.id}, headers=scene.h["other"])
    missing = client.post(path, json={"body": "hi", "parent_id": NOPE}, headers=scene.h["other"])
    error_of(hidden, 404)
    assert hidden.get_json() == missing.get_json()


def test_a_curator_outside_the_channel_cannot_promote_its_posts(client, scene, bearer):
    lone = bearer(f.user("lone@example.com", "curator"))
    before = f.counts()
    hidden = client.post("/api/v1/promotions", json={"post_ids": [scene.secret_post.id]}, headers=lone)
    missing = client.post("/api/v1/promotions", json={"post_ids": [NOPE]}, headers=lone)
    error_of(hidden, 404)
    assert hidden.get_json() == missing.get_json()
    assert f.counts() == before


def test_the_members_see_everything_the_outsider_does_not(client, scene):
    """The same paths work for the people allowed: the 404s above are about permission, not bugs."""
    h = scene.h["member"]
    gets = [hidden for method, hidden, _, _ in hidden_paths(scene) if method == "GET"]
    assert len(gets) == 14
    for path in gets:
        assert client.get(path, headers=h).status_code == 200, path


def test_lists_carry_no_trace_of_hidden_things(client, scene):
    h = scene.h["other"]
    for path in ("/api/v1/channels", "/api/v1/spaces", "/api/v1/articles", "/api/v1/articles?status=draft",
                 "/api/v1/notifications", f"/api/v1/channels/{scene.general.id}/posts",
                 f"/api/v1/posts/{scene.public_post.id}", f"/api/v1/posts/{scene.public_post.id}/thread"):
        text = _text(ok(client.get(path, headers=h)) and client.get(path, headers=h))
        assert SECRET_WORD not in text and '"secret"' not in text and "#secret" not in text, (path, text)
        assert "engineering" not in text, path
    assert [c["name"] for c in ok(client.get("/api/v1/channels", headers=h))["items"]] == ["general"]
    assert [s["name"] for s in ok(client.get("/api/v1/spaces", headers=h))["items"]] == ["Handbook"]
    assert [a["id"] for a in ok(client.get("/api/v1/articles", headers=h))["items"]] == [scene.public_article.id]


def test_search_never_shows_hidden_documents_in_hits_snippets_totals_or_facets(client, scene):
    h = scene.h["other"]
    queries = [SECRET_WORD, SHARED_WORD, f'"{SECRET_WORD} launch"', "", "kind:article", "kind:post",
               "in:secret", "space:engineering", "tag:roadmap", f"from:member {SHARED_WORD}", "launch OR salaries",
               f"{SECRET_WORD}*", f"title:{SECRET_WORD}", "status:draft", "acl:admin", "acl:channel",
               f"-{SECRET_WORD}", f"{SHARED_WORD} -public"]
    for q in queries:
        for extra in ("", "&kind=post", "&kind=article"):
            resp = client.get("/api/v1/search", query_string=f"q={q}{extra}".replace("#", "%23"), headers=h)
            if resp.status_code == 400:  # a query the language refuses says so, and leaks nothing
                assert SECRET_WORD not in _text(resp) or SECRET_WORD in q
                continue
            result = ok(resp)
            ids = {(i["kind"], i["id"]) for i in result["items"]}
            assert not ids & {("post", scene.secret_post.id), ("post", scene.secret_reply.id),
                              ("article", scene.eng_article.id), ("article", scene.narrowed.id),
                              ("article", scene.draft.id)}, (q, ids)
            for item in result["items"]:
                assert SECRET_WORD not in json.dumps(item).lower(), (q, item)
            assert result["total"] == len(ids) or result["next"], (q, result)
            assert sum(result["facets"]["kind"].values()) == result["total"], (q, result)


def test_search_totals_and_facets_count_only_what_the_searcher_may_see(client, scene):
    outsider = ok(client.get(f"/api/v1/search?q={SHARED_WORD}", headers=scene.h["other"]))
    assert outsider["total"] == 2
    assert outsider["facets"]["kind"] == {"post": 1, "article": 1}
    member = ok(client.get(f"/api/v1/search?q={SHARED_WORD}", headers=scene.h["member"]))
    # the member sees the secret thread, the eng article, the narrowed one and their own draft
    assert member["facets"]["kind"] == {"post": 2, "article": 4}
    admin = ok(client.get(f"/api/v1/search?q={SECRET_WORD}", headers=scene.h["admin"]))
    kinds = admin["facets"]["kind"]
    assert kinds.get("post", 0) == 0 and kinds["article"] == 3  # admin: all the KB, no private channel


def test_a_hidden_article_a_post_was_promoted_into_is_not_shown_on_the_post(client, scene):
    h_cur = scene.h["curator"]
    promo = ok(client.post("/api/v1/promotions", json={"post_ids": [scene.public_post.id],
                                                       "space_id": scene.eng_space.id}, headers=h_cur), 202)
    article_id = ok(client.get(f"/api/v1/promotions/{promo['id']}", headers=h_cur))["article_id"]
    ok(client.post(f"/api/v1/articles/{article_id}/transitions", json={"to": "published"}, headers=h_cur))

    def promoted(headers) -> list[list[int]]:
        post = ok(client.get(f"/api/v1/posts/{scene.public_post.id}", headers=headers))
        timeline = ok(client.get(f"/api/v1/channels/{scene.general.id}/posts", headers=headers))["items"]
        thread = ok(client.get(f"/api/v1/posts/{scene.public_post.id}/thread", headers=headers))["root"]
        return [[a["id"] for a in p["promoted_to"]] for p in (post, timeline[0], thread)]

    assert promoted(scene.h["member"]) == [[article_id]] * 3
    assert promoted(scene.h["other"]) == [[]] * 3


def test_notifications_never_reveal_a_hidden_article(client, scene):
    """The author of a promoted post hears when the article is published, unless they cannot read it."""
    h_cur = scene.h["curator"]
    post = f.post(scene.p.other, scene.general, "how to rotate keys")
    promo = ok(client.post("/api/v1/promotions", json={"post_ids": [post.id], "space_id": scene.eng_space.id},
                           headers=h_cur), 202)
    article_id = ok(client.get(f"/api/v1/promotions/{promo['id']}", headers=h_cur))["article_id"]
    ok(client.patch(f"/api/v1/articles/{article_id}", json={"revision": 1, "title": f"{SECRET_WORD} key rotation"},
                    headers=h_cur))
    ok(client.post(f"/api/v1/articles/{article_id}/transitions", json={"to": "published"}, headers=h_cur))
    notes = ok(client.get("/api/v1/notifications", headers=scene.h["other"]))["items"]
    assert SECRET_WORD not in json.dumps(notes).lower()
    assert all(n["article_id"] != article_id for n in notes)
    # a reader who is a source author does hear of it
    post2 = f.post(scene.p.member, scene.general, "how to rotate certificates")
    promo2 = ok(client.post("/api/v1/promotions", json={"post_ids": [post2.id], "space_id": scene.eng_space.id},
                            headers=h_cur), 202)
    article2 = ok(client.get(f"/api/v1/promotions/{promo2['id']}", headers=h_cur))["article_id"]
    ok(client.post(f"/api/v1/articles/{article2}/transitions", json={"to": "published"}, headers=h_cur))
    member_notes = ok(client.get("/api/v1/notifications", headers=scene.h["member"]))["items"]
    assert article2 in [n["article_id"] for n in member_notes]


def test_notifications_about_a_channel_one_left_disappear(client, scene):
    h = scene.h["curator"]
    before = ok(client.get("/api/v1/notifications", headers=h))["items"]
    assert scene.secret_post.id in [n["post_id"] for n in before]
    stream.leave_channel(scene.p.curator, scene.secret.id)
    after = ok(client.get("/api/v1/notifications", headers=h))["items"]
    assert scene.secret_post.id not in [n["post_id"] for n in after]
    assert SECRET_WORD not in json.dumps(after).lower() and "#secret" not in json.dumps(after)


def test_search_follows_changes_of_access_at_once(client, scene):
    h = scene.h["other"]
    q = f"/api/v1/search?q={SHARED_WORD}"
    assert ok(client.get(q, headers=h))["total"] == 2
    from cairn.auth import actions as auth

    auth.set_group_member(None, scene.eng.id, scene.p.other.id, True)
    assert ok(client.get(q, headers=h))["total"] == 4          # eng article and the narrowed one
    ok(client.patch(f"/api/v1/spaces/{scene.handbook.id}", json={"groups": [scene.eng.id]},
                    headers=scene.h["curator"]))
    auth.set_group_member(None, scene.eng.id, scene.p.other.id, False)
    result = ok(client.get(q, headers=h))
    assert [i["kind"] for i in result["items"]] == ["post"]    # the handbook is now eng-only too
    stream.delete_post(scene.p.member, scene.public_post.id)
    assert ok(client.get(q, headers=h))["total"] == 0


def test_a_promotion_of_private_posts_is_hidden_from_curators_outside_the_channel(client, scene, bearer):
    lone = bearer(f.user("lone@example.com", "curator"))
    promo = ok(client.post("/api/v1/promotions", json={"post_ids": [scene.secret_post.id],
                                                       "space_id": scene.handbook.id},
                           headers=scene.h["curator"]), 202)
    before = f.counts()
    _missing_like(client, lone, f"/api/v1/promotions/{promo['id']}", f"/api/v1/promotions/{NOPE}")
    _missing_like(client, lone, f"/api/v1/promotions/{promo['id']}/rejection",
                  f"/api/v1/promotions/{NOPE}/rejection", "POST", {"reason": "no"})
    assert f.counts() == before
    assert promo["id"] not in [p["id"] for p in ok(client.get("/api/v1/promotions", headers=lone))["items"]]
    # curators who can read the channel (here: the requester) follow it as before
    assert ok(client.get(f"/api/v1/promotions/{promo['id']}", headers=scene.h["curator"]))["id"] == promo["id"]
    assert promo["id"] in [p["id"] for p in ok(client.get("/api/v1/promotions", headers=scene.h["curator"]))["items"]]


def test_a_promotion_shows_each_curator_only_the_duplicates_they_may_read(client, scene, bearer):
    lone = bearer(f.user("lone@example.com", "curator"))
    post = f.post(scene.p.member, scene.general, f"{SHARED_WORD} internals explained again")
    promo = ok(client.post("/api/v1/promotions", json={"post_ids": [post.id], "space_id": scene.handbook.id},
                           headers=scene.h["curator"]), 202)
    mine = ok(client.get(f"/api/v1/promotions/{promo['id']}", headers=scene.h["curator"]))
    assert scene.eng_article.id in [d["id"] for d in mine["duplicates"]]   # the requester may read it
    theirs = ok(client.get(f"/api/v1/promotions/{promo['id']}", headers=lone))
    listed = ok(client.get("/api/v1/promotions", headers=lone))["items"]
    for shown in (theirs, *listed):
        ids = [d["id"] for d in shown["duplicates"]]
        assert scene.eng_article.id not in ids and scene.narrowed.id not in ids
        for article_id in ids:  # what is left, the lone curator may open
            ok(client.get(f"/api/v1/articles/{article_id}", headers=lone))


def test_promotions_list_pages_past_the_ones_hidden_from_the_caller(client, scene, bearer):
    lone = bearer(f.user("lone@example.com", "curator"))
    curator = scene.h["curator"]
    visible = []
    for i in range(3):
        public = f.post(scene.p.member, scene.general, f"public question {i}")
        visible.append(ok(client.post("/api/v1/promotions", json={"post_ids": [public.id],
                                                                  "space_id": scene.handbook.id},
                                      headers=curator), 202)["id"])
        private = f.post(scene.p.member, scene.secret, f"private question {i}")
        ok(client.post("/api/v1/promotions", json={"post_ids": [private.id], "space_id": scene.handbook.id},
                       headers=curator), 202)
    seen, cursor = [], None
    while True:
        page = ok(client.get("/api/v1/promotions", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                             headers=lone))
        assert len(page["items"]) == 2 or page["next"] is None
        seen += [p["id"] for p in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(visible, reverse=True)
