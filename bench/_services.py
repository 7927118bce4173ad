"""Private services for the benches and the tests: a free port, waiting for something to be up,
and a private ``redis-server`` on a free port (or a given one, to restart it where it was).

One copy for bench/_harness.py, tests/integration, tests/live and the browser tests: a private
Redis keeps concurrent runs on one machine from stealing each other's tasks and never touches the
shared Redis on 6379. It lives under bench/ so that `python bench/x.py` (which puts the project
root on sys.path) and pytest (pythonpath "." in pyproject.toml) both import it as
``bench._services``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def redis_server_path() -> str | None:
    """The redis-server executable, or None when it is not installed."""
    return shutil.which("redis-server")


class RedisServer:
    """A private ``redis-server`` bound to 127.0.0.1, without persistence, its files in ``folder``.

    ``start()`` waits until it answers PING and returns its URL; ``stop()`` terminates it (a kill
    after 10 s); ``start()`` again brings it back on the same port. Also a context manager.
    """

    def __init__(self, folder: Path, port: int | None = None, db: int = 0) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/{db}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> str:
        import redis

        server = redis_server_path()
        if server is None:
            raise RuntimeError("redis-server is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {self.proc.returncode}")
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            wait_for(answers, timeout, f"redis-server on port {self.port}")
        except BaseException:
            self.stop()
            raise
        finally:
            client.close()
        return self.url

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
