"""Fixtures for live updates: a fast-heartbeat app, a private key prefix on the real Redis, servers.

Redis is the one at CAIRN_TEST_LIVE_REDIS_URL (default redis://127.0.0.1:6379/14). Pub/sub
channels are not scoped by database number, so every test gets its own prefix
(``cairn-test-<random>:``) and deletes its keys afterwards: nothing else on that Redis is touched.
"""

from __future__ import annotations

import http.client
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from bench._services import free_port, wait_for
from cairn.extensions import db
from tests.conftest import _empty_tables, make_app

__all__ = ["WebServer", "free_port", "wait_for"]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CAIRN_TEST_LIVE_REDIS_URL", "redis://127.0.0.1:6379/14")
FAST = {"live_heartbeat_seconds": 0.2, "live_max_streams": 3}


@pytest.fixture
def app(migrated, tmp_path) -> Iterator:
    """The suite's app, with heartbeats every 0.2 s (so a stream never waits long) and 3 slots."""
    app = make_app(migrated, tmp_path, **FAST)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"live-update tests need Redis at {REDIS_URL} (set CAIRN_TEST_LIVE_REDIS_URL): {exc}")
    prefix = f"cairn-test-{secrets.token_hex(4)}:"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


class WebServer:
    """`gunicorn -c config/gunicorn.conf.py 'cairn:create_app()'` (one gthread worker) on a free port."""

    def __init__(self, name: str, settings: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        env.update({f"CAIRN_{k.upper()}": v for k, v in settings.items()})
        env.update(CAIRN_BIND=f"127.0.0.1:{self.port}", CAIRN_WEB_WORKERS="1", CAIRN_WEB_THREADS="8",
                   CAIRN_LIVE_MAX_STREAMS="4",
                   PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]))
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "--graceful-timeout", "3",
             "--no-control-socket", "--name", name, "cairn:create_app()"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> WebServer:
        def answers() -> bool:  # an HTTP answer: the worker has booted and built the app
            if self.proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.proc.returncode}:\n{self.log()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/login")
                return conn.getresponse().status == 200
            except OSError:
                return False
            finally:
                conn.close()

        wait_for(answers, timeout, f"gunicorn on port {self.port}\n{self.log()}")
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., WebServer]]:
    """start_server(name, wait=True, **settings) -> a (ready) WebServer; all are stopped at teardown."""
    servers: list[WebServer] = []

    def start(name: str, wait: bool = True, **settings: str) -> WebServer:
        server = WebServer(name, settings, tmp_path / f"{name}.log")
        servers.append(server)
        return server.wait_ready() if wait else server

    yield start
    for server in servers:
        server.stop()
