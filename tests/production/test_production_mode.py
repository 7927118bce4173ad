"""Production mode, as the README's Production section runs it: gunicorn with config/gunicorn.conf.py,
PostgreSQL migrated by `cairn init`, a private Redis as Celery broker, live-update pub/sub and
rate-limit storage, `cairn worker -Q default`, `cairn worker -Q index` and `cairn beat`, each its
own process. The settings come from a copy of config/production.example.toml (CAIRN_CONFIG).
"""

from __future__ import annotations

import re
import tomllib

import pytest
import requests

from bench._harness import PASSWORD, Stack, pg_reachable, seed_people, wait_for
from cairn import search
from cairn.config import CONFIG_DIR

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_LIMIT = 4


def _csrf(session: requests.Session, url: str) -> str:
    match = CSRF_RE.search(session.get(url, timeout=30).text)
    assert match, f"no csrf_token on {url}"
    return match.group(1)


def test_production_example_config_names_only_known_settings():
    with open(CONFIG_DIR / "defaults.toml", "rb") as fh:
        known = set(tomllib.load(fh)) | {"secret_key", "policy"}
    with open(CONFIG_DIR / "production.example.toml", "rb") as fh:
        example = tomllib.load(fh)
    assert set(example) <= known, f"unknown settings in the example: {set(example) - known}"
    assert example["database_url"].startswith("postgresql+psycopg://")
    assert example["redis_url"].startswith("redis://")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    reason = pg_reachable()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("production")
    example = (CONFIG_DIR / "production.example.toml").read_text()
    with Stack("prodtest", rate_limit_login=f"{LOGIN_LIMIT}/minute", session_cookie_secure=False) as stack:
        values = {"database_url": stack.settings["database_url"], "redis_url": stack.redis_url,
                  "instance": stack.settings["instance"], "index_dir": stack.settings["index_dir"]}
        for key, value in values.items():  # the example with this machine's addresses
            example = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', example)
            del stack.settings[key]  # ...taken from the file, not from CAIRN_* variables
        config = folder / "cairn.toml"
        config.write_text(example)
        stack.settings["config"] = str(config)
        stack.settings.update(values)  # only for seeding from this process (below)
        stack.up(web_workers=2)
        yield stack


def test_gunicorn_with_workers_and_beat_serves_posts_that_become_searchable(stack):
    health = requests.get(stack.web_url + "/healthz", timeout=30).json()
    assert health["status"] == "ok", health
    assert health["checks"]["broker"]["transport"] == "redis"
    assert any(p.name == "beat" and p.alive() for p in stack.procs)

    seeded = seed_people(stack)
    web = requests.Session()
    resp = web.post(stack.web_url + "/login", allow_redirects=False, timeout=30, data={
        "email": seeded["curator"], "password": PASSWORD, "csrf_token": _csrf(web, stack.web_url + "/login")})
    assert resp.status_code == 302, resp.text[:300]
    channel = f"{stack.web_url}/channels/{seeded['channel_id']}"
    resp = web.post(channel + "/posts", allow_redirects=False, timeout=30,
                    data={"body": "Rotate the quokkaservice credentials monthly", "csrf_token": _csrf(web, channel)})
    assert resp.status_code == 302, resp.text[:300]

    def found() -> int:
        return web.get(stack.web_url + "/api/v1/search", params={"q": "quokkaservice"}, timeout=30).json()["total"]

    # the post reaches the index only through Redis and the `index` worker
    wait_for(found, 60, "the new post in search results", interval=0.3)
    assert stack.index_worker.log().count("cairn.index.apply_event") >= 1


def test_a_task_result_comes_back_through_the_redis_result_backend(stack):
    celery = stack.app().extensions["celery"]
    assert celery.conf.result_backend == stack.redis_url
    with stack.app().app_context():
        documents = search.doc_count()
    result = celery.send_task("cairn.index.rebuild", queue="index", ignore_result=False)
    assert result.get(timeout=60) == documents


def test_rate_limits_are_counted_in_redis_shared_by_every_gunicorn_worker(stack):
    redis = stack.redis_client()
    statuses = []
    for _ in range(LOGIN_LIMIT + 1):
        fresh = requests.Session()  # a new connection each time: gunicorn spreads them over its workers
        statuses.append(fresh.post(stack.web_url + "/login", timeout=30, data={
            "email": "nobody@bench.example", "password": "wrong",
            "csrf_token": _csrf(fresh, stack.web_url + "/login")}).status_code)
        if statuses[-1] == 429:
            break
    # an earlier login in this module may have counted too: refused once the limit is reached
    assert statuses[-1] == 429 and set(statuses[:-1]) <= {401}, statuses
    keys = [k.decode() for k in redis.keys("LIMITS:*auth.login*")]
    assert keys, redis.keys("*")
    assert sum(int(redis.get(k) or 0) for k in keys) >= LOGIN_LIMIT


def test_posting_goes_on_while_redis_is_down_and_the_post_is_stored(stack):
    """Redis carries rate limits, tasks and live updates, none of which may fail a write: with Redis
    stopped a post is still accepted (201, never a 500) and stored; its indexing waits in the outbox."""
    seeded_channel = 1
    api = requests.Session()
    token = api.post(stack.web_url + "/api/v1/tokens", timeout=30, json={
        "email": "member0@bench.example", "password": PASSWORD}).json()["token"]
    api.headers["Authorization"] = f"Bearer {token}"
    stack.stop_redis()
    try:
        resp = api.post(f"{stack.web_url}/api/v1/channels/{seeded_channel}/posts", timeout=60,
                        json={"body": "Written while the broker was down"})
        assert resp.status_code == 201, resp.text[:500]
        assert api.get(f"{stack.web_url}/api/v1/posts/{resp.json()['id']}", timeout=30).status_code == 200
    finally:
        stack.start_redis()
