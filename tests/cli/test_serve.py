"""The README's first command really serves: `cairn serve` answers HTTP with a worker behind it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cairn_serve_loads_demo_content_serves_pages_and_processes_tasks(tmp_path):
    port = _free_port()
    env = {**os.environ, "CAIRN_INSTANCE": str(tmp_path / "instance")}
    for key in ("CAIRN_DATABASE_URL", "CAIRN_REDIS_URL", "CAIRN_BROKER_URL", "CAIRN_INDEX_DIR"):
        env.pop(key, None)  # the embedded default: SQLite, file broker
    cairn = [sys.executable, "-c", "from cairn.cli import main; main()"]
    proc = subprocess.Popen([*cairn, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        health = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    health = json.load(resp)
                    break
            except OSError:
                time.sleep(0.3)
        assert health is not None, "cairn serve never answered"
        assert health["checks"]["database"]["ok"] and health["checks"]["broker"]["transport"] == "filesystem"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
            assert "csrf_token" in resp.read().decode()
        # the demo content's outbox events are processed by the worker serve started
        broker = tmp_path / "instance" / "broker" / "queue"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(broker.iterdir()):
            time.sleep(0.5)
        assert not any(broker.iterdir()), "the embedded worker left messages in the file broker"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "member@example.com" in out and f"http://127.0.0.1:{port}/" in out
