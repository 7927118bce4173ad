"""Real Celery workers on a real Redis: no eager mode, no mocks.

Each test gets a non-eager app whose broker is a private ``redis-server`` started for the session
on a free port (bench/_services.py; so concurrent test runs on the same machine cannot steal each other's tasks), or,
when ``redis-server`` is not installed, CAIRN_TEST_REDIS_URL / redis://127.0.0.1:6379/11. The
Redis database is flushed before every test. Workers are ``celery -A workers.celery_app worker``
subprocesses with the same CAIRN_* settings as the test app (same database, same index folder);
every worker a test starts is stopped (or killed) in teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from celery import Celery
from sqlalchemy import select, text

from bench._services import RedisServer, free_port, redis_server_path, wait_for
from cairn.extensions import db
from cairn.outbox import OutboxEvent
from tests.conftest import _empty_tables, make_app

__all__ = ["Worker", "blocking_writes", "free_port", "outbox_events", "process_env", "wait_for", "waiting_on_lock"]

ROOT = Path(__file__).resolve().parents[2]
WORKER_READY_TIMEOUT = 30.0
FALLBACK_REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    if redis_server_path() is None:
        url = os.environ.get("CAIRN_TEST_REDIS_URL", FALLBACK_REDIS_URL)
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            pytest.fail(f"integration tests need Redis: no redis-server on PATH and {url} answers {exc}")
        yield url
        return
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url) -> redis.Redis:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # no stale task from an earlier test or run can reach this test's workers
    return client


@pytest.fixture
def settings(migrated, tmp_path, redis_url) -> dict:
    """The settings shared by the test app and its workers (same database, same index)."""
    return {
        "database_url": migrated,
        "instance": str(tmp_path / "instance"),
        "index_dir": str(tmp_path / "index"),
        "secret_key": "test-secret",
        "redis_url": redis_url,
        "broker_url": redis_url,
        "celery_eager": False,
    }


@pytest.fixture
def app(settings, tmp_path, redis_client) -> Iterator:
    """Overrides the suite's eager app: tasks go to Redis and only a real worker runs them."""
    overrides = {key: value for key, value in settings.items() if key != "database_url"}
    app = make_app(settings["database_url"], tmp_path, **overrides)
    with app.app_context():
        yield app
        app.extensions["cairn.live"].close()  # a Redis listener would outlive the session's Redis
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


class Worker:
    """One `celery -A workers.celery_app worker` subprocess; its output goes to a log file."""

    def __init__(self, env: dict[str, str], queues: str, log_path: Path, broker_url: str) -> None:
        self.name = f"it-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.log_path = log_path
        self.broker_url = broker_url
        self._log = open(log_path, "wb")  # noqa: SIM115  (open while the worker runs; closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", queues,
             "-c", "1", "--pool", "solo", "--loglevel", "INFO", "-n", self.name, "--without-mingle",
             "--without-gossip"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = WORKER_READY_TIMEOUT) -> Worker:
        control = Celery(broker=self.broker_url)
        control.conf.broker_connection_timeout = 2
        try:
            def ping():
                if not self.alive():
                    pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.log()}")
                return control.control.ping(destination=[self.name], timeout=0.5)

            wait_for(ping, timeout, f"worker {self.name} to answer a ping\n{self.log()}", interval=0)
        finally:
            control.close()
        return self

    def count(self, fragment: str) -> int:
        return self.log().count(fragment)

    def wait_log(self, fragment: str, times: int = 1, timeout: float = 30.0) -> None:
        def seen() -> bool:
            if self.count(fragment) >= times:
                return True
            if not self.alive() and self.proc.returncode != -signal.SIGKILL:
                pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            return False

        wait_for(seen, timeout, f"{fragment!r} {times}x in the worker log:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no reject; the task in hand stays un-acked in Redis."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def process_env(settings: dict) -> dict[str, str]:
    """The environment of another Cairn process (a worker, another web process) with ``settings``
    as its CAIRN_* variables, and none of this one's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    for key, value in settings.items():
        env[f"CAIRN_{key.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
    return env


@pytest.fixture
def start_worker(settings, tmp_path, app, request) -> Iterator[Callable[..., Worker]]:
    """start_worker(queues="default,index", **settings) -> a ready Worker (stopped at teardown)."""
    started: list[Worker] = []

    def start(queues: str = "default,index", wait: bool = True, **overrides) -> Worker:
        worker = Worker(process_env({**settings, **overrides}), queues, tmp_path / f"worker-{len(started) + 1}.log",
                        overrides.get("broker_url", settings["broker_url"]))
        started.append(worker)
        return worker.wait_ready() if wait else worker

    yield start
    for worker in started:
        worker.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for worker in started:
            sys.stderr.write(f"\n--- {worker.log_path.name} ---\n{worker.log()[-6000:]}\n")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def outbox_events(kind: str | None = None) -> list[OutboxEvent]:
    """The outbox rows as the database has them now (not as this session last saw them)."""
    db.session.rollback()
    q = select(OutboxEvent).order_by(OutboxEvent.id)
    if kind:
        q = q.where(OutboxEvent.kind == kind)
    return list(db.session.scalars(q))


@contextmanager
def blocking_writes(table: str) -> Iterator[None]:
    """Hold a lock that makes writers wait: on SQLite every write (the database's one write lock),
    on PostgreSQL writes to ``table`` (reads go on). Released, without a change, on exit."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql(f"LOCK TABLE {table} IN SHARE MODE")
        try:
            yield
        finally:
            conn.rollback()


def waiting_on_lock(sql_prefix: str) -> bool:
    """PostgreSQL: is some backend blocked on a lock while running a statement like this?"""
    with db.engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE :q"), {"q": f"{sql_prefix}%"}))


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    """A private redis-server the test may stop and start again on the same port; without
    persistence, a restart loses every queued and un-acked message, as a crashed broker would."""
    if redis_server_path() is None:
        pytest.skip("needs redis-server on PATH: this test stops and restarts its broker")
    server = RedisServer(tmp_path / "own-redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
