"""The outbox and the promotion pipeline on a real Celery worker and a real Redis broker."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select, text, update

from cairn import outbox
from cairn.curation import pipeline
from cairn.extensions import db
from cairn.kb.models import Article
from cairn.outbox import OutboxEvent
from tests.api_steps import add_channel, add_post, add_space
from tests.conftest import make_app
from tests.integration.conftest import (
    blocking_writes,
    free_port,
    outbox_events,
    wait_for,
    waiting_on_lock,
)
from tests.integration.worker_support import (
    audited,
    chain_reached,
    fresh_promotion,
    kill_mid_promotion,
    once_per_promotion,
    promotion_counts,
    promotion_event_id,
    promotion_runs,
    request_promotion,
    search_ids,
    thread_to_promote,
    wait_for_promotion,
)
from workers.tasks.curation import send_chain

pytestmark = pytest.mark.integration


def test_promotion_runs_end_to_end_on_a_real_worker(client, people, bearer, start_worker):
    start_worker()
    member, other, curator = bearer(people.member), bearer(people.other), bearer(people.curator)
    chan = add_channel(client, member)
    question = add_post(client, member, chan, "How do I rotate the zanzibar staging key? "
                     "Mail milo@example.com or call +1 415 555 0199.")
    answer = add_post(client, other, chan, "Run `vault rotate` on the quokka cluster, then restart the api.",
                   parent_id=question["id"])
    space = add_space(client, curator)

    promotion = request_promotion(client, curator, question["id"], space)
    assert promotion["status"] == "queued"  # the web answered at once; the worker does the rest
    state = wait_for_promotion(client, curator, promotion["id"])

    assert {f["kind"] for f in state["findings"]} >= {"email", "phone"}, state
    article = client.get(f"/api/v1/articles/{state['article_id']}", headers=curator).get_json()
    assert article["status"] == "in_review"
    assert "[REDACTED:email]" in article["body"] and "[REDACTED:phone]" in article["body"]
    assert "milo@example.com" not in article["body"] and "555 0199" not in article["body"]
    assert "zanzibar" in article["body"] and "quokka cluster" in article["body"]
    assert sorted(s["post_id"] for s in article["sources"]) == [question["id"], answer["id"]]
    assert {s["promotion_id"] for s in article["sources"]} == {promotion["id"]}
    for post in (question, answer):
        shown = client.get(f"/api/v1/posts/{post['id']}", headers=curator).get_json()
        assert [a["id"] for a in shown["promoted_to"]] == [article["id"]], shown
        hidden = client.get(f"/api/v1/posts/{post['id']}", headers=member).get_json()
        assert hidden["promoted_to"] == [], "a member must not learn of a draft under review"

    # the same worker consumed the index queue: both posts and the draft are searchable
    wait_for(lambda: question["id"] in search_ids(client, member, "zanzibar"), 15,
             "the question to be indexed by the worker")
    wait_for(lambda: answer["id"] in search_ids(client, member, "quokka"), 15,
             "the answer to be indexed by the worker")
    wait_for(lambda: search_ids(client, curator, "zanzibar", kind="article") == {article["id"]},
             15, "the draft article to be indexed")
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")
    assert promotion_counts(promotion["id"]) == (1, 2, 1)


def test_post_written_while_broker_is_down_is_indexed_after_it_returns(
        app, client, people, bearer, start_worker, settings, tmp_path):
    start_worker()  # the worker is up; only the web's broker is unreachable
    member = bearer(people.member)
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    overrides = {key: value for key, value in settings.items() if key != "database_url"}
    web_down = make_app(settings["database_url"], tmp_path, **{**overrides, "broker_url": dead,
                                                                 "redis_url": dead})
    words = ["aardvark", "bilby", "cassowary", "dugong", "echidna", "fossa"]
    try:
        with web_down.test_client() as down:
            chan = add_channel(down, member, "zoo")
            posts = [add_post(down, member, chan, f"Sighting: one {word} near the gate.")
                     for word in words[:4]]
            posts += [add_post(down, member, chan, f"Confirmed, a {word} too.", parent_id=posts[0]["id"])
                      for word in words[4:]]  # saved and answered 201 although no task could be sent
    finally:
        web_down.extensions["cairn.engine"].dispose()

    events = outbox_events("index")
    assert sorted(e.payload["id"] for e in events) == sorted(p["id"] for p in posts)
    assert all(e.processed_at is None and e.dispatched_at is None and e.attempts == 0 for e in events)
    time.sleep(1)  # the live worker got nothing: the web never reached a broker
    assert all(search_ids(client, member, word) == set() for word in words)

    assert outbox.redispatch_stale(0) == len(posts)  # what the periodic task runs, on the live broker
    for post, word in zip(posts, words):
        wait_for(lambda post=post, word=word: post["id"] in search_ids(client, member, word), 15,
                 f"post {post['id']} ({word}) to be indexed after the broker came back")
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")
    assert all(e.attempts == 1 and e.processed_at is not None for e in outbox_events("index"))


STARTED = "'started: snapshot,screen,duplicates,draft,notify'"


def test_redelivered_promotion_makes_exactly_one_article(client, people, bearer, start_worker):
    question, _answer, space, curator = thread_to_promote(client, people, bearer)
    promotion = request_promotion(client, curator, question["id"], space)
    event_id = promotion_event_id(promotion["id"])
    # the same event twice more, queued behind the first (what a redispatch or a redelivery does)
    assert outbox.dispatch([event_id]) == 1 and outbox.dispatch([event_id]) == 1
    assert outbox_events("promotion")[0].attempts == 3

    worker = start_worker()
    wait_for_promotion(client, curator, promotion["id"])
    wait_for(lambda: len(promotion_runs(worker)) == 3, 10, "three promotion starts")
    # the first delivery chained the steps; the others found the chain at work and left it alone
    assert promotion_runs(worker) == [STARTED, "'running'", "'running'"]
    for step in ("snapshot", "screen", "duplicates", "draft"):
        assert promotion_runs(worker, step) == ["'running'"], step  # each step ran once
    assert promotion_runs(worker, "notify") == ["'needs_review'"]
    assert promotion_counts(promotion["id"]) == (1, 2, 1)

    # the crash window between the draft's commit and the event's processed mark: the event
    # comes back unprocessed, twice; the first run must find the draft and do nothing again
    db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(processed_at=None))
    db.session.commit()
    outbox.dispatch([event_id])
    outbox.dispatch([event_id])
    wait_for(lambda: len(promotion_runs(worker)) == 5, 15, "two more promotion starts")
    assert promotion_runs(worker)[3:] == ["'needs_review'", "None"]  # the status, nothing redone
    assert len(promotion_runs(worker, "draft")) == 1
    assert promotion_counts(promotion["id"]) == (1, 2, 1)
    assert once_per_promotion(promotion["id"]) == (1, 1)
    final = fresh_promotion(promotion["id"])
    assert (final.status, final.attempts) == ("needs_review", 1)
    assert outbox_events("promotion")[0].processed_at is not None


def test_concurrent_deliveries_of_one_promotion_make_one_article(client, people, bearer, start_worker):
    question, _answer, space, curator = thread_to_promote(client, people, bearer)
    promotion = request_promotion(client, curator, question["id"], space)
    event_id = promotion_event_id(promotion["id"])
    outbox.dispatch([event_id])  # two deliveries of one event, for two workers at the same time
    first, second = start_worker("default", wait=False), start_worker("default", wait=False)
    with blocking_writes("promotions"):  # both take their delivery and stop at the first write
        first.wait_log("cairn.promotion.run[")  # (a solo worker busy in a task answers no ping)
        second.wait_log("cairn.promotion.run[")
        time.sleep(0.5)
    wait_for(lambda: len(promotion_runs(first)) + len(promotion_runs(second)) == 2, 30,
             "both deliveries to finish")
    indexer = start_worker("index")
    runs = promotion_runs(first) + promotion_runs(second)
    assert sorted(runs) == sorted([STARTED, "'running'"]), runs  # one claimed it, one stood back
    wait_for_promotion(client, curator, promotion["id"])
    assert promotion_counts(promotion["id"]) == (1, 2, 1)
    assert once_per_promotion(promotion["id"]) == (1, 1)
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")
    assert indexer.alive()


VISIBILITY_TIMEOUT = 3  # seconds; production keeps config/defaults.toml's 300
LEASE = 2  # seconds a running promotion's chain may stay silent; production's default is 120


def test_worker_killed_mid_promotion_ends_with_one_article(client, people, bearer, start_worker,
                                                           redis_client):
    promotion, curator, task_id = kill_mid_promotion(
        client, people, bearer, start_worker, broker_visibility_timeout=VISIBILITY_TIMEOUT)
    # acks late: the killed worker never acked, so Redis still holds the message as un-acked
    [(tag, delivered_at)] = redis_client.zrange("unacked_index", 0, -1, withscores=True)
    assert task_id.split("[")[1][:-1].encode() in redis_client.hget("unacked", tag)
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 0.5 - time.time()))

    worker = start_worker(broker_visibility_timeout=VISIBILITY_TIMEOUT)  # restores it on start
    state = wait_for_promotion(client, curator, promotion["id"])
    assert f"{task_id} succeeded" in worker.log()  # the same message, again
    assert promotion_counts(promotion["id"]) == (1, 2, 1)
    assert once_per_promotion(promotion["id"]) == (1, 1)
    assert state["article_id"] == db.session.scalar(select(Article.id))
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")
    assert redis_client.hlen("unacked") == 0


def test_worker_killed_mid_promotion_is_recovered_by_the_outbox_redispatch(
        client, people, bearer, start_worker, redis_client):
    # production's visibility timeout (300 s): Redis gives the message back only after five
    # minutes; the periodic outbox redispatch (every 15 s, for events older than 30 s) comes first
    promotion, curator, task_id = kill_mid_promotion(client, people, bearer, start_worker)
    # a chain that went quiet for longer than the lease is taken over by the next start
    worker = start_worker(promotion_lease_seconds=LEASE)
    wait_for(lambda: all(e.processed_at for e in outbox_events("index")), 15, "the posts' indexing")
    time.sleep(LEASE + 0.5)
    assert fresh_promotion(promotion["id"]).status in ("queued", "running")  # nothing redelivered it
    assert outbox.redispatch_stale(0) == 1  # the periodic task's function; only the promotion is due
    wait_for_promotion(client, curator, promotion["id"])
    assert task_id not in worker.log()  # a new message did it
    assert promotion_counts(promotion["id"]) == (1, 2, 1)
    assert once_per_promotion(promotion["id"]) == (1, 1)
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")
    assert redis_client.hlen("unacked") == 1  # the killed delivery; when it returns it is a no-op


def test_worker_killed_in_a_middle_step_of_the_chain_ends_with_one_article(
        app, client, people, bearer, start_worker, redis_client):
    step = "duplicates"  # (the draft step is killed on PostgreSQL above; every step is one task alike)
    promotion, curator, event_id = chain_reached(client, people, bearer, step)
    # the rest of the chain, as the start task sends it; the worker takes the request's own start
    # message first, finds the chain at work (within its lease) and leaves it alone
    send_chain(app.extensions["celery"], promotion["id"], event_id, list(pipeline.STEPS[pipeline.STEPS.index(step):]))
    with blocking_writes("promotions"):
        doomed = start_worker("default", wait=False, broker_visibility_timeout=VISIBILITY_TIMEOUT)
        doomed.wait_log(f"cairn.promotion.{step}[")
        task_id = re.search(rf"cairn\.promotion\.{step}\[([^\]]+)\] received", doomed.log()).group(1)
        if db.engine.dialect.name == "postgresql":
            wait_for(lambda: waiting_on_lock("UPDATE promotions"), 15, f"the {step} step to wait on the lock")
        else:
            time.sleep(0.5)  # inside the step's first write, waiting for the database's write lock
        doomed.kill()
    assert promotion_runs(doomed) == ["'running'"]  # the start message: the chain was at work
    assert f"cairn.promotion.{step}[{task_id}] succeeded" not in doomed.log()
    assert fresh_promotion(promotion["id"]).status == "running"
    assert promotion_counts(promotion["id"])[:2] == (0, 0)

    [(_tag, delivered_at)] = redis_client.zrange("unacked_index", 0, -1, withscores=True)
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 0.5 - time.time()))
    worker = start_worker(broker_visibility_timeout=VISIBILITY_TIMEOUT)  # gets the killed step back
    state = wait_for_promotion(client, curator, promotion["id"])
    assert f"cairn.promotion.{step}[{task_id}] succeeded" in worker.log()  # and the chain went on
    assert promotion_counts(promotion["id"]) == (1, 2, 1)
    assert once_per_promotion(promotion["id"]) == (1, 1)
    assert audited(promotion["id"]) == {"promotion.request": 1, "promotion.start": 1, "promotion.snapshot": 1,
                                         "promotion.screen": 1, "promotion.duplicates": 1,
                                         "promotion.draft": 1, "promotion.notify": 1}
    assert {f["kind"] for f in state["findings"]} == {"email"}
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")
    assert redis_client.hlen("unacked") == 0


def test_promotion_blocked_by_policy_fails_with_a_readable_error_and_no_article(
        client, people, bearer, start_worker):
    member, curator = bearer(people.member), bearer(people.curator)
    chan = add_channel(client, member)
    post = add_post(client, member, chan,
                    "Strictly confidential: the merger closes Friday. Ask milo@example.com.")
    promotion = request_promotion(client, curator, post["id"], add_space(client, curator))
    worker = start_worker()
    state = wait_for_promotion(client, curator, promotion["id"], status="failed")
    assert state["error"] == f"Blocked by policy: classified_marker (post {post['id']}).", state
    assert {f["kind"] for f in state["findings"]} == {"email"}  # kept for the curator to see
    assert promotion_counts(promotion["id"]) == (0, 0, 0)
    assert promotion_runs(worker, "screen") == ["'failed'"]
    wait_for(lambda: len(promotion_runs(worker, "notify")) == 1, 10, "the rest of the chain")
    assert [promotion_runs(worker, s) for s in ("duplicates", "draft", "notify")] == [["'failed'"]] * 3
    assert audited(promotion["id"])["promotion.fail"] == 1
    wait_for(lambda: outbox.pending_count() == 0, 15, "the promotion's event to be closed")
    again = client.post("/api/v1/promotions", json={"post_ids": [post["id"]]}, headers=curator)
    assert again.status_code == 202 and again.get_json()["id"] != promotion["id"]  # a failed one frees the posts


def test_broker_lost_in_the_middle_of_the_chain_ends_with_one_article(
        people, bearer, start_worker, settings, tmp_path, own_redis):
    overrides = {key: value for key, value in settings.items() if key != "database_url"}
    web = make_app(settings["database_url"], tmp_path, **{**overrides, "broker_url": own_redis.url,
                                                            "redis_url": own_redis.url})
    client = web.test_client()  # each request its own app context: no session kept across requests

    def redispatch() -> int:  # the periodic redispatch's function, through the web's broker
        with web.app_context():
            return outbox.redispatch_stale(0)

    try:
        question, _answer, space, curator = thread_to_promote(client, people, bearer)
        promotion = request_promotion(client, curator, question["id"], space)
        postgres = db.engine.dialect.name == "postgresql"
        with blocking_writes("articles"):  # PostgreSQL: in the draft step; SQLite: at the start's claim
            worker = start_worker(wait=False, broker_url=own_redis.url, redis_url=own_redis.url,
                                  promotion_lease_seconds=LEASE)
            if postgres:
                wait_for(lambda: waiting_on_lock("INSERT INTO articles"), 15, "the draft to wait on the lock")
            else:
                worker.wait_log("cairn.promotion.run[")
                time.sleep(0.5)
            own_redis.stop()  # the step finishes, but the next step of the chain cannot be sent
        # the step commits, then fails to send the next step (the publish gives up within ~2 s)
        wait_for(lambda: fresh_promotion(promotion["id"]).step == ("notify" if postgres else "snapshot"), 30,
                 "the step to commit without a broker")
        time.sleep(3)
        stuck = fresh_promotion(promotion["id"])
        assert stuck.status == "running"
        assert promotion_counts(promotion["id"])[:2] == ((1, 2) if postgres else (0, 0))
        own_redis.start()  # empty: the chain's messages are gone for good
        time.sleep(LEASE + 0.5)
        # the periodic redispatch (its function here) finds the promotion's event unprocessed
        wait_for(lambda: redispatch() >= 1, 30, "the broker to take the redispatch")
        wait_for_promotion(client, curator, promotion["id"])
        assert promotion_counts(promotion["id"]) == (1, 2, 1)
        assert once_per_promotion(promotion["id"]) == (1, 1)
        final = fresh_promotion(promotion["id"])
        assert final.attempts == 2  # started once, taken over once
        assert audited(promotion["id"])["promotion.start"] == 2
        wait_for(lambda: redispatch() == 0 and outbox.pending_count() == 0, 30,
                 "every outbox event to be processed")
    finally:
        web.extensions["cairn.engine"].dispose()


def test_a_worker_whose_database_connections_were_dropped_retries_and_finishes_the_promotion(
        client, people, bearer, start_worker):
    """Workers do not test a pooled connection before use (database_pool_pre_ping is for the web):
    the first task that meets a connection the server dropped fails, is retried, and the pool
    replaces every connection it held."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("dropping a worker's connections needs PostgreSQL")
    worker = start_worker()
    question, _answer, space, curator = thread_to_promote(client, people, bearer)
    first = request_promotion(client, curator, question["id"], space)
    wait_for_promotion(client, curator, first["id"])
    wait_for(lambda: outbox.pending_count() == 0, 15, "every outbox event to be processed")

    db.session.rollback()
    dropped = db.session.scalar(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    db.session.rollback()
    assert dropped >= 1  # the worker's pooled connection (and the web's, which pings before use)

    member = bearer(people.member)
    second_post = add_post(client, member, add_channel(client, member, "ops2"),
                           "How do we renew the walrus TLS cert?")
    second = request_promotion(client, curator, second_post["id"], space)
    wait_for_promotion(client, curator, second["id"])
    # the first task to use the dropped connection (the post's index event or a promotion step)
    assert re.search(r"Task cairn\.\w+\.\w+\[[^\]]+\] retry: Retry in \d+s: OperationalError",
                     worker.log()), worker.log()[-3000:]
    assert promotion_counts(second["id"]) == (2, 1, 2)  # one article (and revision) for each promotion
    assert once_per_promotion(second["id"]) == (1, 2)  # one draft; one notification each
