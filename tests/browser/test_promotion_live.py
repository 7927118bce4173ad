"""A curator promotes a thread from its page and watches the promotion reach "needs review" live,
driven by a real Celery worker on a real (private) Redis, without the page reloading.

This module overrides the eager ``world`` of tests/browser/conftest.py: the server here sends the
promotion to Redis and only a ``celery -A workers.celery_app worker`` subprocess can run it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bench._services import RedisServer, redis_server_path
from cairn.extensions import db
from cairn.stream import actions as stream
from tests.browser.conftest import World, serve_world
from tests.integration.conftest import Worker

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    if redis_server_path() is None:
        pytest.skip("needs redis-server on PATH")
    with RedisServer(tmp_path / "redis") as server:
        yield server.url


@pytest.fixture
def settings(tmp_path, redis_url) -> dict:
    return {"database_url": f"sqlite:///{tmp_path / 'cairn.db'}", "instance": str(tmp_path / "instance"),
            "index_dir": str(tmp_path / "index"), "secret_key": "browser-test-secret", "celery_eager": False,
            "broker_url": redis_url, "redis_url": redis_url, "rate_limits": False}


@pytest.fixture
def world(settings) -> Iterator[World]:
    yield from serve_world(settings)


@pytest.fixture
def start_worker(settings, tmp_path) -> Iterator:
    started: list[Worker] = []

    def start() -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        for key, value in settings.items():
            env[f"CAIRN_{key.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
        worker = Worker(env, "default,index", tmp_path / "worker.log", settings["broker_url"])
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


def test_curator_promotes_a_thread_and_sees_it_reach_review_without_a_reload(open_session, world, start_worker):
    with world.app.app_context():
        from cairn.auth.models import User

        member = db.session.get(User, world.ids["member"])
        question = stream.create_post(member, world.ids["engineering"],
                                      "How do I renew the quokka TLS certificate? Ask milo@example.com")
        helpful = stream.create_post(member, world.ids["engineering"], "Run certbot renew on the quokka box.",
                                     parent_id=question.id)
        stream.create_post(member, world.ids["engineering"], "+1, same question here.", parent_id=question.id)
        question_id, helpful_id = question.id, helpful.id
        db.session.remove()

    carla = open_session("curator")
    carla.goto(f"/posts/{question_id}")
    carla.page.locator(f"#post-{question_id} summary", has_text="Promote").click()
    carla.page.get_by_role("link", name="Choose replies to promote with it").click()
    carla.page.get_by_label("Milo Member in #engineering").first.check()  # the helpful reply, not the +1
    carla.shot("choose-replies")
    carla.page.get_by_role("button", name="Draft a new article").click()

    # no worker yet: the request was answered at once and the promotion waits in Redis
    expect(carla.page.locator(".promotion-status .status")).to_have_text("queued")
    carla.page.evaluate("window.cairnSamePage = true")  # gone if the page were reloaded
    carla.shot("queued")

    start_worker()
    expect(carla.page.locator(".promotion-status .status")).to_have_text("needs review", timeout=30_000)
    assert carla.page.evaluate("window.cairnSamePage === true"), "the page reloaded instead of updating itself"
    expect(carla.page.locator(".draft-preview mark.redaction")).to_have_text("[redacted email]")
    expect(carla.page.locator("#findings-heading")).to_contain_text("Redactions")
    expect(carla.page.locator("[data-progress-announce]")).to_have_text("The draft is ready for review.")
    expect(carla.page.locator(".draft-preview")).to_contain_text("Run certbot renew on the quokka box.")
    expect(carla.page.locator(".draft-preview")).not_to_contain_text("same question here")
    expect(carla.page.locator("[data-poll-status]")).to_have_count(0)
    carla.shot("needs-review")
    with world.app.app_context():
        from cairn.curation.models import Promotion

        assert db.session.scalar(select(Promotion.post_ids)) == [question_id, helpful_id]
        db.session.remove()
