"""What the real-worker tests do through the API and read from the database: a thread to promote,
a promotion requested and waited for, the rows and worker log lines it left behind.

The worker processes themselves (start, stop, kill, the broker) are conftest.py's fixtures.
"""

from __future__ import annotations

import re
import time

from sqlalchemy import func, select

from cairn.audit import AuditEvent
from cairn.curation import pipeline
from cairn.curation.models import Promotion
from cairn.extensions import db
from cairn.kb.models import Article, ArticleRevision, ArticleSource
from cairn.stream.models import Notification
from tests.api_steps import add_channel, add_post, add_space
from tests.integration.conftest import blocking_writes, outbox_events, wait_for, waiting_on_lock

PROMOTION_TIMEOUT = 30


def request_promotion(client, headers, post_id: int, space_id: int) -> dict:
    resp = client.post("/api/v1/promotions", json={"post_ids": [post_id], "space_id": space_id},
                       headers=headers)
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()


def wait_for_promotion(client, headers, promotion_id: int, status: str = "needs_review",
                       timeout: float = PROMOTION_TIMEOUT) -> dict:
    def reached():
        state = client.get(f"/api/v1/promotions/{promotion_id}", headers=headers).get_json()
        assert state["status"] not in ("failed", "rejected") or state["status"] == status, state
        return state if state["status"] == status else None

    return wait_for(reached, timeout, f"promotion {promotion_id} to be {status}", interval=0.2)


def search_ids(client, headers, q: str, kind: str = "post") -> set[int]:
    resp = client.get("/api/v1/search", query_string={"q": q}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return {item["id"] for item in resp.get_json()["items"] if item["kind"] == kind}


def promotion_counts(promotion_id: int) -> tuple[int, int, int]:
    """(articles, article sources, article revisions) the database holds for one promotion."""
    db.session.rollback()
    sources = db.session.scalar(select(func.count()).select_from(ArticleSource)
                                .where(ArticleSource.promotion_id == promotion_id))
    return (db.session.scalar(select(func.count()).select_from(Article)), sources,
            db.session.scalar(select(func.count()).select_from(ArticleRevision)))


def fresh_promotion(promotion_id: int) -> Promotion:
    db.session.rollback()
    return db.session.get(Promotion, promotion_id, populate_existing=True)


def promotion_event_id(promotion_id: int) -> int:
    ids = [e.id for e in outbox_events("promotion") if e.payload["promotion_id"] == promotion_id]
    assert len(ids) == 1, ids
    return ids[0]


def thread_to_promote(client, people, bearer) -> tuple[dict, dict, int, dict]:
    """A question with an answer, a space: (question, answer, space id, the curator's headers)."""
    member, other, curator = bearer(people.member), bearer(people.other), bearer(people.curator)
    chan = add_channel(client, member)
    question = add_post(client, member, chan, "Where is the walrus backup runbook? Ping milo@example.com.")
    answer = add_post(client, other, chan, "In the vault, under walrus/restore.", parent_id=question["id"])
    return question, answer, add_space(client, curator), curator


def promotion_runs(worker, task: str = "run") -> list[str]:
    """The return values the worker logged for cairn.promotion.<task>, in order."""
    return re.findall(rf"cairn\.promotion\.{task}\[[^\]]+\] succeeded in \S+s: (.*)", worker.log())


def once_per_promotion(promotion_id: int) -> tuple[int, int]:
    """(promotion.draft audit events, notifications) for one promotion."""
    db.session.rollback()
    target = f"promotion:{promotion_id}"
    drafts = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "promotion.draft", AuditEvent.target == target))
    notes = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "promotion"))
    return drafts, notes


def kill_mid_promotion(client, people, bearer, start_worker, **worker_settings):
    """Request a promotion, let a worker take it and stop mid-flight, SIGKILL that worker.

    The worker blocks on a lock the test holds: on PostgreSQL in the draft step (its INSERT
    INTO articles waits; snapshot, screening and duplicate search are committed), on SQLite at
    its first write. Returns (promotion, curator headers, the killed task's id).
    """
    question, _answer, space, curator = thread_to_promote(client, people, bearer)
    promotion = request_promotion(client, curator, question["id"], space)
    postgres = db.engine.dialect.name == "postgresql"
    task = "draft" if postgres else "run"
    with blocking_writes("articles"):
        doomed = start_worker("default", wait=False, **worker_settings)
        doomed.wait_log(f"cairn.promotion.{task}[")
        task_id = re.search(rf"cairn\.promotion\.{task}\[([^\]]+)\] received", doomed.log()).group(1)
        if postgres:
            wait_for(lambda: waiting_on_lock("INSERT INTO articles"), 15, "the draft to wait on the lock")
            assert fresh_promotion(promotion["id"]).step == "draft"
        else:
            time.sleep(0.5)  # inside its first write, waiting for the database's write lock
        doomed.kill()
    assert f"cairn.promotion.{task}[{task_id}] succeeded" not in doomed.log()
    assert fresh_promotion(promotion["id"]).status == ("running" if postgres else "queued")
    assert promotion_counts(promotion["id"])[:2] == (0, 0)
    return promotion, curator, f"cairn.promotion.{task}[{task_id}]"


def chain_reached(client, people, bearer, step: str) -> tuple[dict, dict, int]:
    """A promotion whose chain did the steps before ``step`` (here, with the pipeline's own code,
    as a worker does): (promotion, curator headers, its outbox event id)."""
    question, _answer, space, curator = thread_to_promote(client, people, bearer)
    promotion = request_promotion(client, curator, question["id"], space)
    event_id = promotion_event_id(promotion["id"])
    assert pipeline.start_promotion(promotion["id"]) == ("start", list(pipeline.STEPS))
    for done in pipeline.STEPS[:pipeline.STEPS.index(step)]:
        assert pipeline.run_step(done, promotion["id"], event_id) == "running"
    return promotion, curator, event_id


def audited(promotion_id: int) -> dict[str, int]:
    db.session.rollback()
    rows = db.session.execute(select(AuditEvent.action, func.count()).where(
        AuditEvent.target == f"promotion:{promotion_id}").group_by(AuditEvent.action)).all()
    return dict(rows)
