"""Schemathesis against a live server: every operation of /api/v1/openapi.json, fuzzed over real HTTP.

gunicorn (config/gunicorn.conf.py, in a subprocess) serves the suite's database (SQLite, or
PostgreSQL by CAIRN_DATABASE_URL) seeded with the demo content (cairn.demo), Celery eager. Schemathesis loads the document from that server and, for every operation,
sends requests generated from the schema (valid ones, and invalid ones in negative mode) with a
bearer token, first as an admin and then as a member. Every response must be no server error and
conform to the document: status code, content type and body schema. Requests are counted, so the
run cannot silently send few. A failing case is printed as a curl command to replay it.

CAIRN_FUZZ_EXAMPLES (examples per operation and mode), CAIRN_FUZZ_SEED (a seed instead of the
default derandomised run) and CAIRN_FUZZ_ONLY (a regular expression over "METHOD /path") make a
longer, a different or a narrower exploration; CAIRN_FUZZ_SECONDS bounds each run (150 s);
CAIRN_FUZZ_TIMES=1 prints the seconds and requests of each operation (with pytest -s).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="the fuzz tests need schemathesis (pip install -e '.[test]')")
import requests
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from cairn.auth import actions as auth
from cairn.auth.models import User
from cairn.demo import DEMO_USERS, load_demo
from cairn.extensions import db
from tests.live.conftest import WebServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# examples per operation and generation mode: about 1,500 requests as the admin, 600 as the member
EXAMPLES = {"admin": 10, "member": 4}
if os.environ.get("CAIRN_FUZZ_EXAMPLES"):
    EXAMPLES = dict.fromkeys(EXAMPLES, int(os.environ["CAIRN_FUZZ_EXAMPLES"]))
SEED = os.environ.get("CAIRN_FUZZ_SEED")
# 2,000 requests at least per run of this file, and a time bound for each of its two tests
MIN_REQUESTS = {"admin": 1400, "member": 600}
MIN_WORKED = {"admin": 0.5, "member": 0.3}
TIME_BUDGET = float(os.environ.get("CAIRN_FUZZ_SECONDS", "150"))


@dataclass
class LiveServer:
    url: str
    app: object
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def live(app, migrated, tmp_path) -> Iterator[LiveServer]:
    """gunicorn serving the suite's database (SQLite, or PostgreSQL by CAIRN_DATABASE_URL) seeded
    with the demo content. A process of its own: Hypothesis seeds the global ``random`` for every
    example, which would make the server's random names (Whoosh segments) repeat."""
    assert load_demo()
    roles = {role: email for email, _pw, role, _name in DEMO_USERS}
    live = LiveServer(url="", app=app)
    for who in ("admin", "member"):
        user = db.session.scalar(select(User).where(User.email == roles[who]))
        live.ids[who] = user.id
        live.tokens[who] = auth.issue_token(user, "fuzz")[1]
    db.session.remove()
    settings = {"database_url": migrated, "index_dir": app.config["CAIRN"]["index_dir"],
                "instance": str(tmp_path / "instance"), "secret_key": "fuzz-secret", "celery_eager": "true",
                "rate_limits": "false", "redis_url": "", "config": str(tmp_path / "fuzz.toml")}
    # a fuzzed GET of a live stream returns after a fraction of a second (a file: the environment
    # cannot give a fraction where the default is a whole number)
    (tmp_path / "fuzz.toml").write_text("live_heartbeat_seconds = 0.1\nlive_stream_max_seconds = 0.3\n")
    server = WebServer("cairn-fuzz", settings, tmp_path / "gunicorn.log")
    try:
        server.wait_ready()
        live.url = server.url
        yield live
    finally:
        server.stop()
    errors = [line for line in server.log().splitlines() if "Traceback" in line or "[ERROR]" in line or "ERROR in " in line]
    assert not errors, f"the server logged errors:\n{server.log()[-5000:]}"


def _restore(live: LiveServer, who: str, role: str) -> None:
    """Undo what the fuzzer may have done to its own account (deactivated it, changed its role,
    revoked its token) so that the operations after it still run as that user."""
    with live.app.app_context():
        user = db.session.get(User, live.ids[who])
        token_ok = auth.user_for_token(live.tokens[who]) is not None
        if user.active and user.role == role and token_ok:
            return
        with db.transaction():
            user = db.session.get(User, live.ids[who])
            user.active, user.role = True, role
        if not token_ok:
            live.tokens[who] = auth.issue_token(user, "fuzz")[1]
        db.session.remove()


def _operations(schema) -> list:
    ops = [result.ok() for result in schema.get_all_operations()]
    if os.environ.get("CAIRN_FUZZ_ONLY"):  # a regular expression over "METHOD /path", to replay a few
        ops = [op for op in ops if re.search(os.environ["CAIRN_FUZZ_ONLY"], op.label)]
    # operations that may lock the caller out run last, after the ones they would spoil
    return sorted(ops, key=lambda op: (op.method.upper() in ("DELETE", "PATCH"), op.label))


def _case_runner(live: LiveServer, who: str, operation, mode, session, sent: dict[str, int], succeeded: set[str]):
    """A Hypothesis test that sends ``operation``'s generated cases and checks every answer."""

    @settings(max_examples=EXAMPLES[who], deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.generate], print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        headers = {"Authorization": f"Bearer {live.tokens[who]}"}
        response = case.call(base_url=live.url, session=session, headers=headers, timeout=30)
        sent[operation.label] = sent.get(operation.label, 0) + 1
        if response.status_code < 300:
            succeeded.add(operation.label)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return seed(int(SEED))(run) if SEED is not None else run


def _fuzz(live: LiveServer, who: str, role: str) -> dict:
    schema = schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json", timeout=30)
    operations = _operations(schema)
    session = requests.Session()
    sent: dict[str, int] = {}
    failures: list[str] = []
    seconds: dict[str, float] = {}
    succeeded: set[str] = set()
    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if time.monotonic() - started > TIME_BUDGET:
                pytest.fail(f"the fuzz run passed its {TIME_BUDGET:.0f}s budget at {operation.label} "
                            f"after {sum(sent.values())} requests")

            run = _case_runner(live, who, operation, mode, session, sent, succeeded)
            began = time.monotonic()
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (every failing operation is reported)
                failures.append(f"{operation.label} ({mode.value}): {_describe(exc)}")
            _restore(live, who, role)
            seconds[operation.label] = seconds.get(operation.label, 0.0) + time.monotonic() - began
    return {"operations": operations, "sent": sent, "failures": failures, "per_operation": seconds, "succeeded": succeeded,
            "seconds": time.monotonic() - started}


def _describe(exc: BaseException) -> str:
    """The failure and, for a group (Hypothesis, Schemathesis), each failure in it."""
    text = str(exc)
    for sub in getattr(exc, "exceptions", ()):
        text += "\n  - " + _describe(sub).replace("\n", "\n    ")
    return text


def _report(who: str, result: dict) -> None:
    total = sum(result["sent"].values())
    print(f"\nfuzz as {who}: {total} requests to {len(result['operations'])} operations "
          f"in {result['seconds']:.1f}s, {len(result['succeeded'])} operations answered 2xx at least once; slowest: " + ", ".join(
              f"{label} {s:.1f}s" for label, s in sorted(result["per_operation"].items(), key=lambda x: -x[1])[:6]))
    if os.environ.get("CAIRN_FUZZ_TIMES"):
        for label, secs in result["per_operation"].items():
            print(f"  {secs:6.2f}s {result['sent'].get(label, 0):4d} {label}")
    assert not result["failures"], "\n\n".join(result["failures"])
    never = [op.label for op in result["operations"] if not result["sent"].get(op.label)]
    assert not never, f"operations never called: {never}"
    assert total >= MIN_REQUESTS[who], f"only {total} requests were sent as {who}"
    # not a run of refusals: as the admin most operations really worked at least once (their
    # answers checked against the documented bodies); the member is refused more
    worked = len(result["succeeded"]) / len(result["operations"])
    assert worked >= MIN_WORKED[who], f"only {worked:.0%} of the operations ever succeeded as {who}"


def test_admin_fuzzing_every_operation_gets_no_server_error_and_only_documented_answers(live):
    _report("admin", _fuzz(live, "admin", "admin"))


def test_member_fuzzing_every_operation_gets_no_server_error_and_only_documented_answers(live):
    _report("member", _fuzz(live, "member", "member"))
