"""Permissions before scoring, over every search path: each role × visibility case × path.

Every document holds a made-up word of its own (its secret) and the shared word "ledger"; the
secret is also its tag. A path passes for one (role, case) when the secret appears somewhere in
what that role gets back exactly when the role may read the document, so each assertion can fail
both ways: a leak, or a readable document that search lost.

Roles: anonymous (no token, no session), member, channel_member (in the private channel),
outsider (in another group and another private channel), group_member (in the restricted space's
group), curator, admin, author (wrote the drafts and the hidden post).
"""

from __future__ import annotations

import json

import pytest

from cairn import search
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.kb.models import ArticleSource, Space
from cairn.search.spelling import spell
from cairn.stream import actions as stream, moderation
from tests import factories as f
from tests.conftest import People, csrf_token

SIGNED_IN = ("member", "channel_member", "outsider", "group_member", "curator", "admin", "author")
ROLES = ("anonymous", *SIGNED_IN)
EVERYONE = frozenset(SIGNED_IN)
SHARED = "ledger"

# visibility case -> (its secret word, the roles that may find it in search)
CASES = {
    "public_post": ("zanthorix", EVERYONE),
    "private_post": ("blorvendash", frozenset({"channel_member"})),  # admins are not channel members
    "deleted_post": ("crumplewitz", frozenset()),
    "hidden_post": ("dwimmerlaik", frozenset()),  # its author and curators open it, search shows no one
    "draft_article": ("eskerfrond", frozenset({"curator", "admin", "author"})),
    "in_review_article": ("fjordmaven", frozenset({"curator", "admin", "author"})),
    "published_article": ("glimmerhawk", EVERYONE),
    "archived_article": ("hollowspire", EVERYONE),
    "restricted_article": ("ironquillet", frozenset({"group_member", "admin", "author"})),
    # promoted from the private channel, in review: curators and admins are not in #vault
    "private_source_draft": ("jubbernaut", frozenset({"author"})),
}
MATRIX = [(role, case) for role in ROLES for case in CASES]


def typo(word: str) -> str:
    """The secret with its fourth letter dropped: no document has it, the secret is one edit away."""
    return word[:3] + word[4:]


@pytest.fixture
def scene(app, people, bearer):
    users = {
        "member": people.member,
        "channel_member": people.other,
        "outsider": f.user("outsider@example.com"),
        "group_member": f.user("finance@example.com"),
        "curator": people.curator,
        "admin": people.admin,
        "author": f.user("author@example.com"),
    }
    finance = f.group("finance", users["group_member"], users["author"])
    f.group("contractors", users["outsider"])
    general = f.channel(users["member"], "general")
    vault = f.channel(users["channel_member"], "vault", private=True)
    f.channel(users["outsider"], "lounge", private=True)

    def words(case: str) -> str:
        return f"{SHARED} {CASES[case][0]}"

    docs: dict[str, tuple[str, int]] = {}
    docs["public_post"] = ("post", f.post(users["member"], general, f"{words('public_post')} #zanthorix").id)
    docs["private_post"] = ("post", f.post(users["channel_member"], vault, f"{words('private_post')} #blorvendash").id)
    deleted = f.post(users["member"], general, f"{words('deleted_post')} #crumplewitz")
    stream.delete_post(users["member"], deleted.id)
    docs["deleted_post"] = ("post", deleted.id)
    hidden = f.post(users["author"], general, f"{words('hidden_post')} #dwimmerlaik")
    moderation.hide_post(users["curator"], hidden.id, "off topic")
    docs["hidden_post"] = ("post", hidden.id)

    handbook = f.space(users["curator"], "Handbook")
    restricted = f.space(users["curator"], "Finance", groups=(finance,))
    for case, space, status in (("draft_article", handbook, "draft"), ("in_review_article", handbook, "in_review"),
                                ("published_article", handbook, "published"), ("archived_article", handbook, "archived"),
                                ("restricted_article", restricted, "published")):
        secret = CASES[case][0]
        with db.transaction() as session:
            art = kb.draft_article(session, session.get(User, users["author"].id), session.get(Space, space.id),
                                   f"{secret.title()} {SHARED}", f"{words(case)} notes", tags=[secret],
                                   group_ids=[], status=status)
        docs[case] = ("article", art.id)
    with db.transaction() as session:
        art = kb.draft_article(session, session.get(User, users["author"].id), session.get(Space, handbook.id),
                               f"Jubbernaut {SHARED}", f"{words('private_source_draft')} notes", tags=["jubbernaut"],
                               group_ids=[], status="in_review")
        session.add(ArticleSource(article_id=art.id, post_id=docs["private_post"][1]))
    docs["private_source_draft"] = ("article", art.id)
    headers = {role: bearer(user) for role, user in users.items()}
    headers["anonymous"] = {}
    return type("Scene", (), {"users": users, "headers": headers, "docs": docs})()


def api(client, scene, role: str, path: str, **params) -> str:
    """What ``role`` gets from an API route: a 401 for anonymous, else a 200 (its JSON as text)."""
    resp = client.get(path, query_string=params, headers=scene.headers[role])
    assert resp.status_code == (401 if role == "anonymous" else 200), (role, path, resp.get_json())
    return json.dumps(resp.get_json())


# --- the paths: each returns everything one role gets back for one case -----------------------

def hits(env, role, case):
    text = api(env.client, env.scene, role, "/api/v1/search", q=CASES[case][0], exact="true")
    if role != "anonymous":
        found = {(i["kind"], i["id"]) for i in json.loads(text)["items"]}
        assert (env.scene.docs[case] in found) == (role in CASES[case][1]), ("hit", found)
    return text


def snippets_and_totals(env, role, case):
    """One query for the word every document shares: titles, snippets and the total."""
    text = env.once(("shared", role), lambda: api(env.client, env.scene, role, "/api/v1/search", q=SHARED, limit=100))
    if role != "anonymous":
        got = json.loads(text)
        readable = sum(role in readers for _, readers in CASES.values())
        assert got["total"] == len(got["items"]) == readable, ("total", got["total"], readable)
    return text


def facets(env, role, case):
    text = env.once(("facets", role), lambda: api(env.client, env.scene, role, "/api/v1/search", q=SHARED, limit=1))
    got = json.loads(text)
    if role != "anonymous":
        assert sum(got["facets"]["kind"].values()) == got["total"], ("facet total", got["facets"])
    return json.dumps(got.get("facets"))


def spelling(env, role, case):
    """A typo of the secret: a reader gets it corrected, no one else gets it as a correction."""
    text = api(env.client, env.scene, role, "/api/v1/search", q=typo(CASES[case][0]))
    if role != "anonymous":
        got = json.loads(text)
        fix = got["corrected_query"] or got["suggestion"]
        assert (fix == CASES[case][0]) == (role in CASES[case][1]), ("correction", fix)
        # the engine's own guard, not only the "finds more readable hits" check after it
        user = env.scene.users[role]
        spelled = spell(env.app.extensions["cairn.search"], [typo(CASES[case][0])], perm.search_tokens(user))
        text += json.dumps([s.correction for s in spelled.values()])
    return text


def autocomplete(env, role, case):
    return api(env.client, env.scene, role, "/api/v1/search/suggest", q=f"{SHARED} {CASES[case][0][:5]}")


def similar_articles(env, role, case):
    if role == "anonymous":
        return ""  # runs for a signed-in requester only (the promotion pipeline's duplicate check)
    found = json.dumps(search.similar_articles(env.scene.users[role], f"{CASES[case][0]} {SHARED} notes", limit=10))
    if env.scene.docs[case][0] == "post":  # articles only: a post's word never shows, readable or not
        assert CASES[case][0] not in found.lower(), "a post among similar articles"
        return CASES[case][0] if role in CASES[case][1] else ""
    return found


def html_page(env, role, case):
    """The search page (the shared word and every typo) and the search box's suggest call."""
    return env.once(("page", role), lambda: page_texts(env.app, env.scene, role))


def page_texts(app, scene, role: str) -> str:
    with app.app_context():  # a fresh flask.g: Flask-Login keeps the signed-in user there
        browser = app.test_client()
        if role != "anonymous":
            resp = browser.post("/login", data={"email": scene.users[role].email, "password": People.PASSWORD,
                                                "csrf_token": csrf_token(browser)})
            assert resp.status_code == 302, "login failed"
        texts = []
        for q in [SHARED] + [typo(secret) for secret, _ in CASES.values()]:
            resp = browser.get("/search", query_string={"q": q})
            if role == "anonymous":
                assert resp.status_code == 302 and "/login" in resp.headers["Location"]
            else:
                assert resp.status_code == 200
                if q == SHARED and role in ("admin", "member"):
                    assert 'class="refinement"' in resp.get_data(as_text=True)  # facets as refinements
            texts.append(resp.get_data(as_text=True))
        box = browser.get("/api/v1/search/suggest", query_string={"q": f"{SHARED} "})  # the box's own call
        assert box.status_code == (401 if role == "anonymous" else 200)
        texts.append(box.get_data(as_text=True))
        return "\n".join(texts)


PATHS = {"hits": hits, "snippets_and_totals": snippets_and_totals, "facets": facets, "spelling": spelling,
         "autocomplete": autocomplete, "similar_articles": similar_articles, "html_page": html_page}


class Env:
    def __init__(self, app, client, scene) -> None:
        self.app, self.client, self.scene = app, client, scene
        self._cache: dict = {}

    def once(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


def test_no_search_path_shows_a_document_to_a_role_that_may_not_read_it(app, client, scene):
    """Every path × role × visibility cell (one scene: building it is the costly part); every
    failing cell is reported."""
    env = Env(app, client, scene)

    def check(path: str, role: str, case: str) -> None:
        secret, readers = CASES[case]
        shown = secret in PATHS[path](env, role, case).lower()
        if role in readers:
            assert shown, f"{role} may read {case} but its word {secret!r} is missing"
        else:
            assert not shown, f"{role} must not see {case} but its word {secret!r} leaked"

    f.each([(path, role, case) for path in PATHS for role, case in MATRIX], check)
