"""The candidate scoring task, as beat sends it, on a real Celery worker and a real Redis broker."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cairn.curation.candidate_models import Candidate
from cairn.extensions import db
from cairn.search.models import SearchLog
from tests import factories as f
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _candidates() -> dict[int, tuple[int, float, str]]:
    db.session.rollback()  # see the worker's commits
    return {c.post_id: (c.id, c.score, c.status) for c in db.session.scalars(
        select(Candidate).execution_options(populate_existing=True))}


def test_the_periodic_scoring_task_fills_the_queue_on_a_real_worker(app, people, start_worker):
    worker = start_worker("default")
    help_ = f.channel(people.member, "help")
    busy = f.post(people.member, help_, "How do I reset the build cache?")
    for i in range(3):
        f.post(people.other, help_, f"step {i}: clear it", parent=busy)
    quiet = f.post(people.member, help_, "lunch?")
    with db.transaction() as s:
        s.add(SearchLog(user_id=people.other.id, query="reset build cache", hits=0))

    entry = app.extensions["celery"].conf.beat_schedule["candidates-score"]
    task = app.extensions["celery"].tasks[entry["task"]]
    task.apply_async()  # what beat does at each interval
    found = wait_for(lambda: _candidates() or None, 30, f"the worker to score the threads\n{worker.log()}")
    assert set(found) == {busy.id} and quiet.id not in found
    row = db.session.scalar(select(Candidate).where(Candidate.post_id == busy.id))
    assert {r["signal"] for r in row.reasons} >= {"replies", "failed_searches", "decay"}

    task.apply_async()  # a second run (or a redelivery) updates in place
    task.apply_async()
    worker.wait_log(" succeeded in ", times=3)
    again = _candidates()
    assert set(again) == {busy.id} and again[busy.id][0] == found[busy.id][0]
