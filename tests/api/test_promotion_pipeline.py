"""The promotion chain's steps (eager Celery here; tests/integration runs them on real workers),
appending to a duplicate instead, the selection pages (a thread, the tray), the live progress
panels and the notifications of the people in a promoted thread."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from cairn import outbox
from cairn.audit import AuditEvent
from cairn.curation import pipeline
from cairn.curation.models import Promotion
from cairn.extensions import db
from cairn.kb.models import Article, ArticleRevision
from cairn.models_base import utcnow
from cairn.stream.models import Notification
from tests.api_steps import add_channel, add_post, add_space
from tests.conftest import csrf_token

STEP_AUDITS = ["promotion.request", "promotion.start", "promotion.snapshot", "promotion.screen",
               "promotion.duplicates", "promotion.draft", "promotion.notify"]


def _promote(client, headers, post_ids: list[int], **extra) -> dict:
    resp = client.post("/api/v1/promotions", json={"post_ids": post_ids, **extra}, headers=headers)
    assert resp.status_code == 202, resp.get_json()
    return client.get(f"/api/v1/promotions/{resp.get_json()['id']}", headers=headers).get_json()


def _audits(promotion_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target == f"promotion:{promotion_id}").order_by(AuditEvent.id)))


def _notes(user) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification.text).where(
        Notification.user_id == user.id, Notification.kind == "promotion").order_by(Notification.id)))


def _thread(client, people, bearer):
    """member asks, other answers, admin chats in the thread: (headers, question, answer, chat)."""
    h = {name: bearer(getattr(people, name)) for name in ("member", "other", "admin", "curator")}
    chan = add_channel(client, h["member"])
    question = add_post(client, h["member"], chan, "How do we rotate the walrus signing key? Mail milo@example.com")
    answer = add_post(client, h["other"], chan, "Run `vault rotate walrus` then restart the signer.", question["id"])
    chat = add_post(client, h["admin"], chan, "Thanks, that worked for me too.", question["id"])
    return h, question, answer, chat


def test_each_step_stores_its_result_is_audited_once_and_closes_the_event(client, people, bearer):
    h, question, answer, chat = _thread(client, people, bearer)
    state = _promote(client, h["curator"], [question["id"]], space_id=add_space(client, h["curator"]))
    assert (state["status"], state["step"]) == ("needs_review", "needs_review")
    assert _audits(state["id"]) == STEP_AUDITS
    p = db.session.get(Promotion, state["id"])
    assert [s["id"] for s in p.snapshot] == [question["id"], answer["id"], chat["id"]]
    assert [s["author"] for s in p.snapshot] == ["Milo Member", "Olga Other", "Ada Admin"]
    assert "[REDACTED:email]" in p.screened[0] and "milo@example.com" not in p.screened[0]
    assert p.duplicates_checked_at is not None and p.attempts == 1
    assert outbox.pending_count() == 0  # the notify step closed the promotion's event

    # every step again, and a late start: nothing is redone
    for step in pipeline.STEPS:
        assert pipeline.run_step(step, state["id"]) == "needs_review"
    assert pipeline.start_promotion(state["id"]) == ("needs_review", [])
    assert _audits(state["id"]) == STEP_AUDITS
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1


def test_the_suggested_title_is_the_question_without_redaction_markers():
    assert pipeline.suggest_title("How do we rotate the key? Mail [REDACTED:email] now\nmore") == \
        "How do we rotate the key?"
    assert pipeline.suggest_title("ping [REDACTED:phone] about **the deploy**") == "Ping about the deploy"
    assert pipeline.suggest_title("Why? Because.") == "Why? Because."  # too short a question to cut at
    assert pipeline.suggest_title("   ") == "Untitled"


def test_a_step_run_twice_after_a_crash_stores_and_audits_its_result_once(app, people):
    from cairn.stream import actions as stream
    chan = stream.create_channel(people.admin, "ops", "", False, [people.member.id])
    post = stream.create_post(people.member, chan.id, "Where is the quokka runbook?")
    from cairn.kb import actions as kb
    space = kb.create_space(people.curator, "Runbooks", "")
    db.session.add(Promotion(requester_id=people.curator.id, post_ids=[post.id], active_key=str(post.id),
                             space_id=space.id))
    db.session.commit()
    pid = db.session.scalar(select(Promotion.id))
    assert pipeline.start_promotion(pid) == ("start", list(pipeline.STEPS))
    assert pipeline.start_promotion(pid) == ("running", [])  # a second delivery leaves the chain alone
    for step in ("snapshot", "snapshot", "screen", "screen", "duplicates", "duplicates"):
        assert pipeline.run_step(step, pid) == "running"
    assert pipeline.remaining_steps(db.session.get(Promotion, pid)) == ["draft", "notify"]
    for step in ("draft", "draft", "notify", "notify"):
        pipeline.run_step(step, pid)
    assert _audits(pid) == STEP_AUDITS[1:]
    assert db.session.scalar(select(func.count()).select_from(ArticleRevision)) == 1


def test_promotion_blocked_by_policy_fails_with_its_reason_and_drafts_nothing(client, people, bearer):
    member, curator = bearer(people.member), bearer(people.curator)
    post = add_post(client, member, add_channel(client, member), "Do not distribute: the Q3 numbers.")
    state = _promote(client, curator, [post["id"]], space_id=add_space(client, curator))
    assert state["status"] == "failed"
    assert state["error"] == f"Blocked by policy: classified_marker (post {post['id']})."
    assert state["article_id"] is None and db.session.scalar(select(func.count()).select_from(Article)) == 0
    assert _audits(state["id"])[-2:] == ["promotion.screen", "promotion.fail"]
    assert outbox.pending_count() == 0


def test_append_instead_rejects_the_draft_and_appends_the_posts_to_the_duplicate(client, people, bearer):
    h, question, answer, chat = _thread(client, people, bearer)
    space = add_space(client, h["curator"])
    existing = client.post("/api/v1/articles", json={
        "space_id": space, "title": "Rotating the walrus signing key",
        "body": "To rotate the walrus signing key use vault rotate walrus and restart the signer."},
        headers=h["curator"]).get_json()
    for to in ("in_review", "published"):
        moved = client.post(f"/api/v1/articles/{existing['id']}/transitions", json={"to": to}, headers=h["admin"])
        assert moved.status_code == 200, moved.get_json()
    state = _promote(client, h["curator"], [question["id"]], space_id=space)
    assert existing["id"] in [d["id"] for d in state["duplicates"]], state
    draft_id = state["article_id"]

    resp = client.post(f"/api/v1/promotions/{state['id']}/append", json={"article_id": existing["id"]},
                       headers=h["curator"])
    assert resp.status_code == 202, resp.get_json()
    again = client.get(f"/api/v1/promotions/{resp.get_json()['id']}", headers=h["curator"]).get_json()
    assert (again["mode"], again["status"], again["article_id"]) == ("append", "done", existing["id"])
    old = client.get(f"/api/v1/promotions/{state['id']}", headers=h["curator"]).get_json()
    assert old["status"] == "rejected" and old["error"] == f"Appended to article {existing['id']} instead."
    assert client.get(f"/api/v1/articles/{draft_id}", headers=h["curator"]).get_json()["status"] == "archived"
    article = client.get(f"/api/v1/articles/{existing['id']}", headers=h["curator"]).get_json()
    assert article["revision"] == 2 and article["body"].startswith("To rotate the walrus signing key")
    assert "*— Olga Other, [post " in article["body"] and "[REDACTED:email]" in article["body"]
    assert sorted(s["post_id"] for s in article["sources"]) == [question["id"], answer["id"], chat["id"]]
    # the article is published: everyone in the thread hears of the update, the curator does not
    for person in (people.member, people.other, people.admin):
        assert _notes(person) == [f"An article from your thread was updated: {article['title']}"], person.email
    assert "promotion.reject" in _audits(state["id"])

    stale = client.post(f"/api/v1/promotions/{state['id']}/append", json={"article_id": existing["id"]},
                        headers=h["curator"])
    assert stale.status_code == 409, stale.get_json()


def test_append_instead_refuses_bad_input_and_people_who_may_not(client, people, bearer):
    h, question, _, _ = _thread(client, people, bearer)
    state = _promote(client, h["curator"], [question["id"]], space_id=add_space(client, h["curator"]))
    url = f"/api/v1/promotions/{state['id']}/append"
    for body, status in (({}, 400), ({"article_id": "x"}, 400), ({"article_id": 10 ** 6}, 404),
                         ({"article_id": state["article_id"]}, 400)):
        resp = client.post(url, json=body, headers=h["curator"])
        assert resp.status_code == status and "error" in resp.get_json(), (body, resp.get_json())
    assert client.post(url, json={"article_id": 1}, headers=h["member"]).status_code in (403, 404)
    assert client.get(f"/api/v1/promotions/{state['id']}", headers=h["curator"]).get_json()["status"] == "needs_review"


def test_everyone_in_the_source_thread_but_the_actor_hears_of_publish_update_and_archive(client, people, bearer):
    h, question, answer, _chat = _thread(client, people, bearer)
    # only the question and the answer are promoted; the admin only chatted in the thread
    state = _promote(client, h["curator"], [question["id"], answer["id"]], space_id=add_space(client, h["curator"]))
    article_id = state["article_id"]
    assert _notes(people.member) == [] and _notes(people.admin) == []  # a draft under review is news to nobody
    moved = client.post(f"/api/v1/articles/{article_id}/transitions", json={"to": "published"}, headers=h["admin"])
    assert moved.status_code == 200, moved.get_json()
    article = client.get(f"/api/v1/articles/{article_id}", headers=h["curator"]).get_json()
    edit = client.patch(f"/api/v1/articles/{article_id}", json={"body": article["body"] + "\n\nAlso: check the HSM.",
                                                                "revision": article["revision"]}, headers=h["curator"])
    assert edit.status_code == 200, edit.get_json()
    moved = client.post(f"/api/v1/articles/{article_id}/transitions", json={"to": "archived"}, headers=h["curator"])
    assert moved.status_code == 200, moved.get_json()
    title = article["title"]
    expected = [f"An article from your thread was {what}: {title}" for what in ("published", "updated", "archived")]
    assert _notes(people.member) == expected
    assert _notes(people.other) == expected
    assert _notes(people.admin) == expected[1:]  # the admin published it: not told of their own act
    assert _notes(people.curator) == [f"Your promotion is ready for review: {title}"]


def _html_login(client, user) -> str:
    token = csrf_token(client)
    resp = client.post("/login", data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token})
    assert resp.status_code == 302
    return csrf_token(client, "/promotions/new")


def test_curator_promotes_a_thread_with_the_replies_they_tick(client, people, bearer):
    h, question, answer, chat = _thread(client, people, bearer)
    space = add_space(client, h["curator"])
    token = _html_login(client, people.curator)
    page = client.get(f"/promotions/new?thread={question['id']}").get_data(as_text=True)
    assert f'name="post_ids" value="{question["id"]}"' in page
    assert f'id="pick-{answer["id"]}"' in page and f'id="pick-{chat["id"]}"' in page
    resp = client.post("/promotions", data={"csrf_token": token, "post_ids": [question["id"], answer["id"]],
                                            "mode": "new", "space_id": space})
    assert resp.status_code == 302
    promotion = db.session.scalar(select(Promotion))
    assert promotion.post_ids == [question["id"], answer["id"]] and promotion.status == "needs_review"
    assert [s["id"] for s in promotion.snapshot] == [question["id"], answer["id"]]  # not the chat
    panels = client.get(f"/promotions/{promotion.id}/progress").get_data(as_text=True)
    assert 'data-status="needs_review"' in panels and "<mark class=\"redaction\"" in panels
    assert "<html" not in panels  # the panels alone, for promotion.js to swap in
    assert client.get("/promotions/new?thread=abc").status_code == 400


def test_the_promotion_page_offers_the_draft_for_review_only_while_it_is_one(client, people, bearer):
    """A rejected promotion's draft is archived and an approved one published: neither is a draft
    to review and publish any more, and the page says what the link opens."""
    h, question, answer, _chat = _thread(client, people, bearer)
    space = add_space(client, h["curator"])
    _html_login(client, people.curator)

    def link(promotion_id: int) -> str:
        panels = client.get(f"/promotions/{promotion_id}/progress").get_data(as_text=True)
        [label] = re.findall(r'<a class="button [^"]+" href="/articles/\d+">([^<]+)</a>', panels)
        return label

    rejected = _promote(client, h["curator"], [question["id"]], space_id=space)
    assert link(rejected["id"]) == "Open the draft to review and publish"
    resp = client.post(f"/api/v1/promotions/{rejected['id']}/rejection", json={"reason": "too thin"},
                       headers=h["curator"])
    assert resp.status_code == 200, resp.get_json()
    assert link(rejected["id"]) == "Open the archived draft"

    published = _promote(client, h["curator"], [question["id"], answer["id"]], space_id=space)
    moved = client.post(f"/api/v1/articles/{published['article_id']}/transitions", json={"to": "published"},
                        headers=h["admin"])  # the draft is in review: the admin approves it
    assert moved.status_code == 200, moved.get_json()
    assert link(published["id"]) == "Open the article"


def test_curator_collects_posts_from_two_threads_in_the_tray_and_promotes_them_together(client, people, bearer):
    h = {name: bearer(getattr(people, name)) for name in ("member", "curator")}
    first = add_post(client, h["member"], add_channel(client, h["member"], "ops"), "The otter cache warms at 6.")
    second = add_post(client, h["member"], add_channel(client, h["member"], "dev"), "The otter cache lives in Redis.")
    space = add_space(client, h["curator"])
    token = _html_login(client, people.curator)
    for post in (first, second, first):
        assert client.post("/promotions/tray", data={"csrf_token": token, "post_id": post["id"]}).status_code == 302
    page = client.get("/promotions/new").get_data(as_text=True)
    assert page.count('name="post_ids"') == 2 and "Remove from tray" in page
    assert "Promotion tray (2)" in client.get("/promotions").get_data(as_text=True)
    assert 'aria-label="2 posts collected to promote"' in client.get("/search").get_data(as_text=True)  # sidebar
    resp = client.post("/promotions", data={"csrf_token": token, "post_ids": [first["id"], second["id"]],
                                            "mode": "new", "space_id": space, "_from_tray": "1"})
    assert resp.status_code == 302
    promotion = db.session.scalar(select(Promotion))
    assert promotion.post_ids == [first["id"], second["id"]] and promotion.status == "needs_review"
    assert "The tray is empty" in client.get("/promotions/new").get_data(as_text=True)
    assert client.post("/promotions/tray", data={"csrf_token": token, "post_id": "nope"}).status_code == 400


def test_member_cannot_use_the_tray_or_see_promotion_panels(client, people, bearer):
    h, question, _, _ = _thread(client, people, bearer)
    state = _promote(client, h["curator"], [question["id"]], space_id=add_space(client, h["curator"]))
    token = csrf_token(client)
    client.post("/login", data={"email": people.member.email, "password": "correct-horse-battery", "csrf_token": token})
    token = csrf_token(client, f"/posts/{question['id']}")
    assert client.post("/promotions/tray", data={"csrf_token": token, "post_id": question["id"]}).status_code == 403
    assert client.get(f"/promotions/{state['id']}/progress").status_code in (403, 404)
    assert client.get("/promotions/new").status_code == 403


def _queued_promotion(people, body: str = "Where is the quokka runbook?", replies: tuple[str, ...] = ()) -> tuple[int, list]:
    """A queued promotion of a new post (and its replies), made without the API: (id, posts)."""
    from cairn.kb import actions as kb
    from cairn.stream import actions as stream
    chan = stream.create_channel(people.admin, "ops", "", False, [people.member.id])
    root = stream.create_post(people.member, chan.id, body)
    posts = [root] + [stream.create_post(people.admin, chan.id, text, parent_id=root.id) for text in replies]
    space = kb.create_space(people.curator, "Runbooks", "")
    db.session.add(Promotion(requester_id=people.curator.id, post_ids=[root.id], active_key=str(root.id),
                             space_id=space.id))
    db.session.commit()
    return db.session.scalar(select(Promotion.id)), posts


def test_a_step_whose_earlier_result_was_lost_waits_for_the_takeover_which_redoes_it(app, people):
    # the claim and the first steps commit without waiting for the WAL flush: a database crash may
    # lose the newest of them, never a later one without the earlier
    pid, _posts = _queued_promotion(people)
    assert pipeline.start_promotion(pid) == ("start", list(pipeline.STEPS))
    assert pipeline.run_step("snapshot", pid) == "running"
    db.session.execute(update(Promotion).where(Promotion.id == pid).values(snapshot=None))  # lost
    db.session.commit()

    for step in pipeline.STEPS[1:]:  # the rest of the chain finds the snapshot missing: no-ops
        assert pipeline.run_step(step, pid) == "running"
    p = db.session.get(Promotion, pid, populate_existing=True)
    assert (p.screened, p.duplicates_checked_at, p.article_id) == (None, None, None)
    assert pipeline.start_promotion(pid) == ("running", [])  # the chain's lease has not run out

    db.session.execute(update(Promotion).where(Promotion.id == pid)
                       .values(updated_at=utcnow() - timedelta(seconds=pipeline.lease_seconds() + 1)))
    db.session.commit()
    assert pipeline.start_promotion(pid) == ("start", list(pipeline.STEPS))  # from the lost step
    for step in pipeline.STEPS:
        pipeline.run_step(step, pid)
    p = db.session.get(Promotion, pid, populate_existing=True)
    assert (p.status, p.attempts) == ("needs_review", 2)
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1


def test_a_lone_root_brings_its_live_replies_and_a_lone_reply_comes_alone(app, people):
    from cairn.stream import actions as stream
    from cairn.stream.moderation import hide_post
    _pid, (root, first, hidden, last) = _queued_promotion(
        people, replies=("Use the vault.", "Spam, hidden by a moderator.", "Then restart the api."))
    hide_post(people.admin, hidden.id, "spam")
    db.session.rollback()
    assert [p.id for p in pipeline.snapshot_posts(people.curator, [root.id])] == [root.id, first.id, last.id]
    assert [p.id for p in pipeline.snapshot_posts(people.curator, [first.id])] == [first.id]
    # two chosen posts of which one is gone: the remaining root brings its replies as if chosen alone
    stream.delete_post(people.admin, first.id)
    db.session.rollback()
    assert [p.id for p in pipeline.snapshot_posts(people.curator, [root.id, first.id])] == [root.id, last.id]
