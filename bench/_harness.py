"""Shared helpers of the ops benches (and the production-mode test): a private production stack.

``Stack`` starts what production runs, each as its own process, on this machine: a private
``redis-server`` on a free port, a fresh PostgreSQL database (created, migrated with `cairn init`,
dropped at the end), gunicorn with ``config/gunicorn.conf.py``, `cairn worker -Q default`,
`cairn worker -Q index` and `cairn beat`. Nothing shared is touched: not the Redis on 6379,
not another database. ``percentiles`` and ``Api`` are the measuring helpers.

PostgreSQL is reached through CAIRN_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from bench._services import RedisServer, free_port, wait_for

__all__ = ["PASSWORD", "Api", "Proc", "Stack", "free_port", "percentiles", "pg_reachable", "seed_people", "wait_for"]

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("CAIRN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-1"
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(: |$)")


def percentiles(values: Iterable[float], points: Iterable[int] = (50, 95, 99)) -> dict[int, float]:
    """Nearest-rank percentiles (NaN for no values)."""
    ordered = sorted(values)
    out = {}
    for p in points:
        if not ordered:
            out[p] = float("nan")
            continue
        rank = max(1, -(-p * len(ordered) // 100))  # ceil(p/100 * n)
        out[p] = ordered[rank - 1]
    return out


def pg_reachable() -> str | None:
    """None when PostgreSQL answers at PG_ADMIN_URL, else the reason it does not."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {str(exc).strip()[:200]}"


class Proc:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.argv, self.log_path = name, argv, log_path
        self.node = ""  # a Celery worker's node name
        self._log = open(log_path, "ab")  # noqa: SIM115  (open while the process runs; closed in stop)
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group (a Celery worker and its pool children): no ack, no cleanup."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def terminate(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        if self.alive():
            self.kill()
        else:
            try:  # pool children the main process left behind
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


class Stack:
    """A private production-mode Cairn: Redis, PostgreSQL database, gunicorn, workers, beat."""

    def __init__(self, name: str, **settings: Any) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"cairn-{name}-"))
        self.db_name = f"cairn_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.redis = RedisServer(self.folder / "redis")  # restarted on the same port after stop_redis
        self.redis_port, self.redis_url = self.redis.port, self.redis.url
        self.settings: dict[str, Any] = {
            "instance": str(self.folder / "instance"),
            "index_dir": str(self.folder / "index"),
            "database_url": self._db_url(self.db_name),
            "redis_url": self.redis_url,
            "secret_key": uuid.uuid4().hex,
            **settings,
        }
        self.procs: list[Proc] = []
        self.web_url = ""
        self._app = None

    @staticmethod
    def _db_url(name: str) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for proc in self.procs:  # all told at once, then waited for: shutdowns overlap
            proc.terminate()
        for proc in reversed(self.procs):
            proc.stop(timeout=10)
        self.procs.clear()
        if self._app is not None:
            from cairn.extensions import db

            with self._app.app_context():
                db.engine.dispose()
        self.stop_redis()
        self.drop_database()
        if not os.environ.get("CAIRN_BENCH_KEEP"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def logged_exceptions(self) -> Counter[str]:
        """The exception lines ("SomeError: message") in every process log of this stack, counted."""
        found: Counter[str] = Counter()
        for log in self.folder.glob("*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if EXCEPTION_LINE.match(line):
                    found[f"{log.stem}: {line[:300]}"] += 1
        return found

    def env(self, **extra: Any) -> dict[str, str]:
        """The process environment: CAIRN_* from the settings (nothing inherited from ours)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        for key, value in {**self.settings, **extra}.items():
            env[f"CAIRN_{key.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
        return env

    # --- Redis ----------------------------------------------------------------------------------

    def start_redis(self) -> str:
        """A private redis-server on this stack's port (again on the same port after stop_redis)."""
        return self.redis.start()

    def stop_redis(self) -> None:
        self.redis.stop()

    def redis_client(self):
        import redis

        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)

    # --- PostgreSQL -----------------------------------------------------------------------------

    def create_database(self) -> str:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        return self.settings["database_url"]

    def drop_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        except psycopg.Error as exc:
            print(f"(could not drop database {self.db_name}: {exc})", file=sys.stderr)

    # --- cairn processes ------------------------------------------------------------------------

    @staticmethod
    def cairn_argv(*args: str) -> list[str]:
        script = Path(sys.executable).with_name("cairn")
        if script.exists():
            return [str(script), *args]
        return [sys.executable, "-c", "from cairn.cli import main; main()", *args]

    def cairn(self, *args: str, **extra: Any) -> str:
        """Run a `cairn` command to completion; its output (raises with it on failure)."""
        done = subprocess.run(self.cairn_argv(*args), cwd=ROOT, env=self.env(**extra), capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode:
            raise RuntimeError(f"cairn {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, name: str, argv: list[str], **extra: Any) -> Proc:
        proc = Proc(name, argv, self.env(**extra), self.folder / f"{name}.log")
        self.procs.append(proc)
        return proc

    def start_web(self, app_spec: str = "cairn:create_app()", workers: int | None = None,
                  threads: int | None = None, name: str = "gunicorn", ready_path: str = "/healthz",
                  wait: bool = True) -> str:
        """gunicorn -c config/gunicorn.conf.py APP on a free port; its base URL (once it answers)."""
        port = free_port()
        extra: dict[str, Any] = {"bind": f"127.0.0.1:{port}"}
        if workers is not None:
            extra["web_workers"] = workers
        if threads is not None:
            extra["web_threads"] = threads
        argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"),
                "--access-logfile", "/dev/null", app_spec]
        proc = self.start(name, argv, **extra)
        url = f"http://127.0.0.1:{port}"
        if app_spec == "cairn:create_app()":
            self.web_url = url
        if wait:
            self.wait_web(proc, url, ready_path)
        return url

    def wait_web(self, proc: Proc, url: str, ready_path: str = "/healthz") -> None:
        def answers() -> bool:
            if not proc.alive():
                raise RuntimeError(f"gunicorn exited with {proc.proc.returncode}:\n{proc.log()[-4000:]}")
            try:
                with urllib.request.urlopen(url + ready_path, timeout=5):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers (503 while the index or broker is not ready yet)
            except OSError:
                return False

        wait_for(answers, 90, f"gunicorn on {url}", interval=0.2)

    def start_worker(self, queues: str, concurrency: int = 1, name: str | None = None,
                     wait: bool = True) -> Proc:
        """`cairn worker -Q queues -c concurrency` (returns once it answers a ping, unless not ``wait``)."""
        node = name or f"{queues.replace(',', '-')}-{uuid.uuid4().hex[:6]}"
        argv = self.cairn_argv("worker", "-Q", queues, "-c", str(concurrency), "-n", f"{node}@%h",
                               "--without-mingle", "--without-gossip")
        proc = self.start(f"worker-{node}", argv)
        proc.node = f"{node}@{socket.gethostname()}"
        if wait:
            self.wait_worker_ready(proc)
        return proc

    def wait_worker_ready(self, proc: Proc, timeout: float = 90) -> None:
        node = proc.node
        from celery import Celery

        control = Celery(broker=self.redis_url)
        control.conf.broker_connection_timeout = 2
        try:
            def ping() -> Any:
                if not proc.alive():
                    raise RuntimeError(f"worker exited with {proc.proc.returncode}:\n{proc.log()[-4000:]}")
                try:
                    return control.control.ping(destination=[node], timeout=0.5)
                except Exception:  # noqa: BLE001  (Redis restarting: ask again)
                    return None

            wait_for(ping, timeout, f"worker {node} to answer a ping", interval=0)
        finally:
            control.close()

    def start_beat(self) -> Proc:
        return self.start("beat", self.cairn_argv("beat"))

    def up(self, web: bool = True, default_worker: bool = True, index_worker: bool = True,
           beat: bool = True, web_workers: int | None = None, web_threads: int | None = None,
           default_concurrency: int = 1) -> Stack:
        """Redis, a database migrated by `cairn init`, and the processes asked for."""
        self.start_redis()
        self.create_database()
        self.cairn("init")
        # started together, then waited for: each spends seconds importing on a busy machine
        workers = []
        if index_worker:
            self.index_worker = self.start_worker("index", name="index", wait=False)
            workers.append(self.index_worker)
        if default_worker:
            self.default_worker = self.start_worker("default", concurrency=default_concurrency,
                                                    name="default", wait=False)
            workers.append(self.default_worker)
        if beat:
            self.start_beat()
        if web:
            self.start_web(workers=web_workers, threads=web_threads, wait=False)
        for worker in workers:
            self.wait_worker_ready(worker)
        if web:
            self.wait_web(self.procs[-1], self.web_url)
        return self

    def app(self):
        """A Flask app in this process on the stack's database and Redis (seeding and counting)."""
        if self._app is None:
            from cairn import create_app

            self._app = create_app(dict(self.settings))
        return self._app


class Api:
    """A JSON API client with a bearer token, counting nothing itself (callers time requests)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        import requests

        self.base = base_url
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def login(cls, base_url: str, email: str, password: str = PASSWORD) -> Api:
        api = cls(base_url)
        resp = api.http.post(f"{base_url}/api/v1/tokens", json={"email": email, "password": password,
                                                                 "name": "bench"}, timeout=30)
        resp.raise_for_status()
        api.http.headers["Authorization"] = f"Bearer {resp.json()['token']}"
        return api

    def request(self, method: str, path: str, **kwargs: Any):
        kwargs.setdefault("timeout", 60)
        return self.http.request(method, self.base + path, **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {resp.status_code}: {resp.text[:300]}")
        return resp.json()


def seed_people(stack: Stack, members: int = 1) -> dict[str, Any]:
    """An admin, a curator and ``members`` members (password PASSWORD), a public channel, a space."""
    from cairn.auth import actions as auth
    from cairn.kb import actions as kb
    from cairn.stream import actions as stream

    with stack.app().app_context():
        admin = auth.create_user("admin@bench.example", PASSWORD, "Bench Admin", "admin")
        curator = auth.create_user("curator@bench.example", PASSWORD, "Bench Curator", "curator")
        emails = []
        for i in range(members):
            emails.append(auth.create_user(f"member{i}@bench.example", PASSWORD, f"Member {i}", "member").email)
        channel = stream.create_channel(admin, "bench", "Bench traffic", False, [])
        space = kb.create_space(admin, "Bench space", "Promoted drafts", [])
        return {"admin": admin.email, "curator": curator.email, "members": emails, "channel_id": channel.id,
                "space_id": space.id}


def print_json(label: str, data: Any) -> None:
    print(f"{label}: {json.dumps(data, sort_keys=True)}")
