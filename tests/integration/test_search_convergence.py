"""The index follows the database through a broker outage: a real redis-server is stopped while
posts and articles are written, edited and deleted (the web keeps answering; the outbox keeps
the events), started again, and after the outbox redispatch a real worker brings the index to
exactly the database's searchable documents."""

from __future__ import annotations

import time

import pytest

from cairn import outbox
from cairn.search import documents
from tests.conftest import make_app
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def index_state(web) -> dict[str, tuple[str, str, str]]:
    """What the index holds now: id -> (title, body, acl-relevant status)."""
    searcher = web.extensions["cairn.search"].searcher()
    return {f["id"]: (f.get("title") or "", f.get("body") or "", f.get("status") or "")
            for f in searcher.reader().all_stored_fields()}


def database_state() -> dict[str, tuple[str, str, str]]:
    """What the index must hold: every document the database says is searchable."""
    return {d["id"]: (d["title"], d["body"], d["status"]) for d in documents.all_documents()}


def test_index_converges_to_the_database_after_a_broker_outage(
        settings, tmp_path, people, bearer, start_worker, own_redis):
    overrides = {k: v for k, v in settings.items() if k != "database_url"}
    overrides.update(broker_url=own_redis.url, redis_url=own_redis.url)
    web = make_app(settings["database_url"], tmp_path, **overrides)
    worker = start_worker(broker_url=own_redis.url, redis_url=own_redis.url)
    member, curator = bearer(people.member), bearer(people.curator)
    try:
        with web.app_context(), web.test_client() as client:
            def call(method: str, path: str, status: int, headers=member, **body) -> dict:
                resp = client.open(path, method=method, json=body or None, headers=headers)
                assert resp.status_code == status, (path, resp.get_json())
                return resp.get_json() if resp.data else {}

            chan = call("POST", "/api/v1/channels", 201, name="ops")["id"]
            kept = call("POST", f"/api/v1/channels/{chan}/posts", 201, body="the wombat pager rotation")
            doomed = call("POST", f"/api/v1/channels/{chan}/posts", 201, body="the numbat escalation list")
            space = call("POST", "/api/v1/spaces", 201, headers=curator, name="Runbooks")["id"]
            guide = call("POST", "/api/v1/articles", 201, headers=curator, space_id=space,
                         title="Pager guide", body="Who carries the wombat pager.")
            wait_for(lambda: outbox.pending_count() == 0 and index_state(web) == database_state(), 30,
                     "the first documents to be indexed")

            own_redis.stop()
            started = time.monotonic()
            call("PATCH", f"/api/v1/posts/{kept['id']}", 200, body="the wombat pager rotation moved to Fridays")
            call("DELETE", f"/api/v1/posts/{doomed['id']}", 204)
            new = call("POST", f"/api/v1/channels/{chan}/posts", 201, body="a quokka sighting near the rack")
            call("POST", f"/api/v1/channels/{chan}/posts", 201, body="a quokka reply", parent_id=new["id"])
            call("PATCH", f"/api/v1/articles/{guide['id']}", 200, headers=curator, revision=guide["revision"],
                 body="The wombat pager, v2.")
            call("POST", f"/api/v1/articles/{guide['id']}/transitions", 200, headers=curator, to="in_review")
            draft = call("POST", "/api/v1/articles", 201, headers=curator, space_id=space,
                         title="Quokka handling", body="Gloves first.")
            down_seconds = time.monotonic() - started
            pending = outbox.pending_count()
            assert pending >= 7, pending  # every change kept its index event
            time.sleep(0.5)
            stale = index_state(web)
            assert stale != database_state()  # nothing reached the worker
            assert f"post:{doomed['id']}" in stale and f"article:{draft['id']}" not in stale

            own_redis.start()
            sent = outbox.redispatch_stale(0)  # what the periodic task runs
            assert sent == pending
            wait_for(lambda: outbox.pending_count() == 0, 60, f"the outbox to drain\n{worker.log()[-3000:]}")
            wait_for(lambda: index_state(web) == database_state(), 15, "the index to match the database")
            final = index_state(web)
            assert f"post:{doomed['id']}" not in final  # nothing extra
            assert final[f"post:{kept['id']}"][1].endswith("moved to Fridays")  # nothing stale
            assert final[f"article:{guide['id']}"][2] == "in_review"
            assert {f"post:{new['id']}", f"article:{draft['id']}"} <= final.keys()  # nothing missing
            print(f"\nbroker down for {down_seconds:.1f}s of writes; {pending} events replayed")
    finally:
        web.extensions["cairn.engine"].dispose()
