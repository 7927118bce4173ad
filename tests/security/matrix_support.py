"""The machinery behind test_authorization_matrix.py: people at their own clients, objects to aim
at (shared for reads and refusals, made fresh for a write that is allowed), and one observed
answer per request, named as in the table."""

from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass

from sqlalchemy import select

from cairn.auth import actions as auth
from cairn.curation import actions as curation
from cairn.curation.candidate_models import Candidate
from cairn.extensions import db
from cairn.kb import actions as kb, flags as kb_flags
from cairn.kb.models import Space
from cairn.search.models import SearchLog
from cairn.stream import actions as stream
from cairn.stream.models import Notification
from tests import factories as f
from tests.conftest import People, csrf_token
from tests.security.conftest import MISSING_ID

ROLES = ("anon", "member", "other", "curator", "admin")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SECRET = "zanzibar"   # only in what `other` may not read (private channel, restricted space, drafts, ...)
_serial = itertools.count(1)
DEBUG = bool(os.environ.get("CAIRN_MATRIX_DEBUG"))  # print why a cell is what it is


@dataclass
class Target:
    """Where a request goes: path parameters, query arguments, and the parameter that names the
    object (replaced by an id nobody has, for the "looks missing" comparison)."""

    params: dict
    query: dict
    key: str | None


class Clients:
    """One test client per role: browsers log in through the form, API calls carry a bearer token."""

    def __init__(self, app, people: People) -> None:
        self.app, self.people = app, people
        self.html: dict[str, object] = {}
        self.bearer: dict[str, dict] = {"anon": {}}
        self.csrf: dict[str, str] = {}
        for role in ROLES:
            self.html[role], self.csrf[role] = self.fresh(role)
            if role != "anon":
                _, raw = auth.issue_token(getattr(people, role), f"matrix {role}")
                self.bearer[role] = {"Authorization": f"Bearer {raw}"}

    def fresh(self, role: str):
        """A new client logged in as ``role``, and its CSRF token."""
        client, token = self.app.test_client(), ""
        if role == "anon":  # a visitor's session has a CSRF token too: the route itself must refuse
            with self.app.app_context():
                token = csrf_token(client)
        else:
            with self.app.app_context():
                token = csrf_token(client)
            with self.app.app_context():
                resp = client.post("/login", data={"email": getattr(self.people, role).email,
                                                   "password": People.PASSWORD, "csrf_token": token})
            assert resp.status_code == 302, (role, resp.status_code)
            with self.app.app_context():
                token = csrf_token(client, "/channels")
        return client, token


# --- objects ---------------------------------------------------------------------------------------

def make(kind: str, scene, fresh: bool) -> Target:
    """The object ``kind`` of the table: the scene's own, or (``fresh``) a new one just like it."""
    p, s = scene.people, scene
    n = next(_serial)
    if kind == "-":
        return Target({}, {}, None)
    if kind in ("general", "secret"):
        cid = s[kind] if not fresh else (
            f.channel(p.member, f"open-{n}").id if kind == "general"
            else f.channel(p.member, f"{SECRET}-{n}", private=True, members=(p.curator,)).id)
        return Target({"channel_id": cid, "user_id": s["other_id"] if kind == "general" else s["curator_id"]},
                      {}, "channel_id")
    if kind in ("public_post", "private_post"):
        if not fresh:
            return Target({"post_id": s[kind], "emoji": "👍"}, {}, "post_id")
        chan = s["general"] if kind == "public_post" else s["secret"]
        post = stream.create_post(p.member, chan, f"{SECRET if kind == 'private_post' else 'open'} fresh {n}")
        stream.add_reaction(p.member, post.id, "👍")   # the member's, to take back
        return Target({"post_id": post.id, "emoji": "👍"}, {}, "post_id")
    if kind in ("public_reply", "private_reply"):
        if not fresh:
            return Target({"post_id": s[kind]}, {}, "post_id")
        chan = s["general"] if kind == "public_reply" else s["secret"]
        root = stream.create_post(p.member, chan, f"question {n}")
        reply = stream.create_post(p.curator, chan, f"answer {n}", parent_id=root.id)
        return Target({"post_id": reply.id}, {}, "post_id")
    if kind in ("handbook", "restricted_space"):
        sid = s[kind] if not fresh else (
            f.space(p.curator, f"Open {n}").id if kind == "handbook"
            else kb.create_space(p.curator, f"Closed {n}", group_ids=[s["eng"]]).id)
        return Target({"space_id": sid}, {}, "space_id")
    if kind in ("public_article", "draft", "restricted_article"):
        if fresh:
            space = s["restricted_space"] if kind == "restricted_article" else s["handbook"]
            author = p.curator if kind == "public_article" else p.member
            with db.transaction() as session:
                art = kb.draft_article(session, author, session.get(Space, space), f"Fresh {n}", "Body.\n",
                                       status="draft" if kind == "draft" else "published")
            kb.edit_article(author, art.id, 1, body="Body, second revision.\n")
            aid = art.id
        else:
            aid = s[kind]
        return Target({"article_id": aid, "number": 1}, {"from": 1, "to": 2}, "article_id")
    if kind in ("article_flag", "restricted_flag"):
        if not fresh:
            return Target({"flag_id": s[kind]}, {}, "flag_id")
        art = make("public_article" if kind == "article_flag" else "restricted_article", scene, True)
        reporter = p.other if kind == "article_flag" else p.member   # as in the scene
        flag = kb_flags.flag_article(reporter, art.params["article_id"], "outdated", f"flag {n}")
        return Target({"flag_id": flag.id}, {}, "flag_id")
    if kind in ("public_promotion", "private_promotion"):
        if not fresh:
            return Target({"promotion_id": s[kind]}, {}, "promotion_id")
        post = make("public_post" if kind == "public_promotion" else "private_post", scene, True)
        promo = curation.request_promotion(p.curator, [post.params["post_id"]])
        return Target({"promotion_id": promo.id}, {}, "promotion_id")
    if kind in ("public_candidate", "private_candidate"):
        if not fresh:
            return Target({"candidate_id": s[kind]}, {}, "candidate_id")
        post = make("public_post" if kind == "public_candidate" else "private_post", scene, True)
        with db.transaction() as session:
            cand = Candidate(post_id=post.params["post_id"], score=1.0, reasons=[], activity=2)
            session.add(cand)
        return Target({"candidate_id": cand.id}, {}, "candidate_id")
    if kind == "notification":
        if fresh:
            stream.create_post(p.other, s["general"], f"ping @member {n}")
            nid = db.session.scalars(select(Notification.id).where(Notification.user_id == p.member.id)
                                     .order_by(Notification.id.desc())).first()
        else:
            nid = s["notification"]
        return Target({"notification_id": nid}, {}, "notification_id")
    if kind == "token":
        tid = s["token"] if not fresh else auth.issue_token(p.member, f"{SECRET} laptop {n}")[0].id
        return Target({"token_id": tid}, {}, "token_id")
    if kind == "group":
        gid = s["eng"] if not fresh else auth.create_group(None, f"group-{n}").id
        return Target({"group_id": gid, "user_id": s["other_id"]}, {}, "group_id")
    if kind == "user":
        return Target({"user_id": s["other_id"]}, {}, "user_id")
    if kind == "search_log":  # the member's own search, opened on the public post
        return Target({}, {"log": s["search_log"], "kind": "post", "id": s["public_post"]}, "log")
    raise AssertionError(f"unknown object kind {kind!r}")


def scene_extras(scene) -> None:
    """Candidates, a search log and secret words (for the leak scan) on top of the shared scene."""
    p = scene.people
    stream.edit_post(p.member, scene["private_post"], f"{SECRET} private plan @curator")
    kb.edit_article(p.member, scene["draft"], 1, title=f"{SECRET} draft")
    kb.edit_article(p.curator, scene["public_article"], 1, body="For everyone, revised.")
    kb.edit_article(p.member, scene["restricted_article"], 1, title=f"{SECRET} design")
    with db.transaction() as session:
        public = Candidate(post_id=scene["public_post"], score=2.0, reasons=[], activity=3)
        private = Candidate(post_id=scene["private_post"], score=3.0, reasons=[], activity=3)
        append_to = kb.draft_article(session, p.curator, session.get(Space, scene["restricted_space"]),
                                     "Append target", "Body.\n", status="published")
        log = SearchLog(user_id=p.member.id, query=f"{SECRET} vpn", hits=1)
        session.add_all([public, private, log])
    scene.ids.update(append_to=append_to.id, public_candidate=public.id, private_candidate=private.id, search_log=log.id)


# --- one request, named --------------------------------------------------------------------------

_CSRF_VALUE = re.compile(r'(name="csrf_token" value=|data-csrf=|content=)"[^"]*"')
# a message flashed by the client's previous (allowed) request shows on whichever page comes next
_FLASHES = re.compile(r'<div class="flashes".*?</div>', re.DOTALL)


def _normal(resp) -> str:
    if resp.is_json:
        return json.dumps(resp.get_json(), sort_keys=True)
    return re.sub(r"\s+", " ", _FLASHES.sub("", _CSRF_VALUE.sub(r"\1", resp.get_data(as_text=True))))


def _url(rule: str, target: Target, missing: bool) -> str:
    params = dict(target.params)
    query = dict(target.query)
    if missing and target.key in params:
        params[target.key] = MISSING_ID
    if missing and target.key in query:
        query[target.key] = MISSING_ID

    def value(m: re.Match[str]) -> str:
        assert m.group(1) in params, f"{rule}: the object gives no <{m.group(1)}>"
        return str(params[m.group(1)])

    path = re.sub(r"<(?:\w+:)?(\w+)>", value, rule)
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def request(clients: Clients, role: str, method: str, rule: str, target: Target, body: dict | None,
            missing: bool = False):
    # each request in an app context of its own, as in a server: the test's context would share
    # `g` (Flask-Login's user, Flask-WTF's token) between the five people's clients
    with clients.app.app_context():
        return _request(clients, role, method, rule, target, body, missing)


def _request(clients: Clients, role: str, method: str, rule: str, target: Target, body: dict | None,
             missing: bool):
    url = _url(rule, target, missing)
    n = next(_serial)  # names that must be new each time (channels, spaces, groups)
    body = {k: v.format(n=n) if isinstance(v, str) else v for k, v in (body or {}).items()}
    if rule.startswith("/api/"):
        client = clients.html["anon"]
        return client.open(url, method=method, json=body if method in UNSAFE else None,
                           headers=clients.bearer[role])
    # logging in or out changes who the client is: those rows use a client of their own
    client, token = clients.fresh(role) if rule in ("/login", "/logout") else (clients.html[role], clients.csrf[role])
    if method in UNSAFE:
        data = {k: v for k, v in (body or {}).items() if not isinstance(v, dict)}
        data["csrf_token"] = token
        return client.open(url, method=method, data=data)
    return client.open(url, method=method)


def observe(clients: Clients, role: str, method: str, rule: str, target: Target, body: dict | None) -> str:
    """ok | login | hide | deny | 404 | <status>, and a note when a refusal differs from "missing"."""
    resp = request(clients, role, method, rule, target, body)
    status = resp.status_code
    if status in (301, 302, 303) and "/login" in resp.headers.get("Location", ""):
        return "login"
    if status == 401:
        return "login"
    if status < 400:
        if resp.mimetype == "text/event-stream":  # an endless stream: its first bytes tell enough
            first = next(resp.response, b"")
            resp.close()
            return "LEAK" if SECRET.encode() in first and role in ("other", "anon") else "ok"
        if SECRET in resp.get_data(as_text=True) and role in ("other", "anon"):
            if DEBUG:
                page = resp.get_data(as_text=True)
                at = page.index(SECRET)
                print("LEAK", method, rule, role, page[at - 300:at + 100])
            return "LEAK"
        return "ok"
    if status == 404:
        if target.key is None:
            return "404"
        other = request(clients, role, method, rule, target, body, missing=True)
        if other.status_code == 404 and _normal(other) == _normal(resp):
            return "hide"
        if DEBUG:
            print("UNLIKE MISSING", method, rule, role, _normal(resp)[-300:], "|", _normal(other)[-300:])
        return "none" if other.status_code == 404 else f"404-unlike-missing({other.status_code})"
    if status == 403:
        return "deny"
    if DEBUG and status == 400:
        print("400", method, rule, role, _normal(resp)[-400:])
    return str(status)
