"""Promotion pipeline speed in production mode: promote-to-draft latency and queue drain rate.

A private stack (bench/_harness.py): gunicorn + PostgreSQL + Redis + `cairn worker -Q index` +
`cairn worker -Q default -c N` + `cairn beat`.
1. Latency: a curator POSTs /api/v1/promotions for one post and polls GET /api/v1/promotions/<id>
   every 20 ms until it reads needs_review (a draft article exists); one promotion at a time.
2. Drain: with the default worker stopped, 1,000 promotions are queued through the API; then the
   worker starts and the time from its first promotion leaving `queued` to the last one reaching
   needs_review gives promotions per second.
Targets (issue 5): latency p95 under 2 s; at least 20 promotions/s drained on this 2-core machine.

Usage: python bench/promotion.py [--quick] [--runs 50] [--drain 1000] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from bench._harness import Api, Stack, percentiles, seed_people, wait_for

LATENCY_TARGET_S = 2.0
DRAIN_TARGET = 20.0
BODIES = [
    ("How to rotate the staging database password: open the vault, run `rotate --env staging`, "
     "then restart the api pods. #ops #runbook"),
    "The nightly export fails when the disk is over 90%; clean /var/tmp first, then re-run the job. #export",
    "To onboard a new engineer: add them to the eng group, give them VPN access and a laptop. #onboarding",
]


def make_posts(stack: Stack, seeded: dict, count: int) -> list[int]:
    from sqlalchemy import select

    from cairn.auth.models import User
    from cairn.extensions import db
    from cairn.stream import actions as stream

    with stack.app().app_context():
        author = db.session.scalar(select(User).where(User.email == seeded["members"][0]))
        return [stream.create_post(author, seeded["channel_id"], f"{BODIES[i % len(BODIES)]} (case {i})").id
                for i in range(count)]


def promote(api: Api, post_id: int, space_id: int) -> int:
    return api.json("POST", "/api/v1/promotions", json={"post_ids": [post_id], "space_id": space_id})["id"]


def measure_latency(api: Api, posts: list[int], space_id: int) -> tuple[list[float], dict[str, int]]:
    times, outcomes = [], {}
    for post_id in posts:
        t0 = time.perf_counter()
        pid = promote(api, post_id, space_id)
        while True:
            status = api.json("GET", f"/api/v1/promotions/{pid}")["status"]
            if status not in ("queued", "running"):
                break
            if time.perf_counter() - t0 > 120:
                status = "timeout"
                break
            time.sleep(0.02)
        outcomes[status] = outcomes.get(status, 0) + 1
        if status == "needs_review":
            times.append(time.perf_counter() - t0)
    return times, outcomes


def status_counts(stack: Stack) -> dict[str, int]:
    from sqlalchemy import func, select

    from cairn.curation.models import Promotion
    from cairn.extensions import db

    with stack.app().app_context():
        rows = db.session.execute(select(Promotion.status, func.count()).group_by(Promotion.status)).all()
        db.session.rollback()
        return {status: n for status, n in rows}


TASK_DONE_RE = re.compile(r"Task cairn\.(promotion\.\w+|index\.apply_event)\[[^\]]+\] succeeded in ([0-9.]+)s")


def task_seconds(*logs: str) -> dict[str, list[float]]:
    """Each promotion step's (and index commit's) run times, from the workers' INFO logs."""
    seconds: dict[str, list[float]] = {}
    for log in logs:
        for name, took in TASK_DONE_RE.findall(log):
            name = {"promotion.run": "start", "index.apply_event": "index"}.get(name, name.split(".")[-1])
            seconds.setdefault(name, []).append(float(took))
    return seconds


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by the default worker's and the index worker's process groups and by
    the PostgreSQL backends of the stack's database (from /proc: Linux only, else empty)."""
    groups = {stack.default_worker.proc.pid: "default worker", stack.index_worker.proc.pid: "index worker"}
    used: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            who = groups.get(int(fields[2]))  # the process group
            if who == "default worker" and int(stat.parent.name) == stack.default_worker.proc.pid:
                who = "default worker's main process"  # the broker, the pool, acks, logs; not tasks
            if who is None and stack.db_name.encode() in (stat.parent / "cmdline").read_bytes():
                who = "PostgreSQL"
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if who:
            used[who] = used.get(who, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def measure_drain(stack: Stack, api: Api, posts: list[int], space_id: int, concurrency: int) -> dict:
    stack.default_worker.stop()
    before = status_counts(stack)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda p: promote(api, p, space_id), posts))
    queued_in = time.perf_counter() - t0
    assert status_counts(stack).get("queued", 0) == len(ids), "a promotion ran with no default worker"
    index_log_before = stack.index_worker.log()
    stack.default_worker = stack.start_worker("default", concurrency=concurrency, name="drain", wait=False)

    def started() -> bool:
        return status_counts(stack).get("queued", 0) < len(ids)

    wait_for(started, 120, "the first promotion to start", interval=0.05)
    t_start = time.perf_counter()
    cpu_before, load_before = cpu_seconds(stack), os.getloadavg()[0]
    finished = {"needs_review", "failed"}

    def drained() -> bool:
        counts = status_counts(stack)
        return sum(counts.get(s, 0) - before.get(s, 0) for s in finished) >= len(ids)

    wait_for(drained, 1800, f"{len(ids)} promotions to finish", interval=0.1)
    seconds = time.perf_counter() - t_start
    cpu = {who: used - cpu_before.get(who, 0.0) for who, used in cpu_seconds(stack).items()}
    load = (load_before + os.getloadavg()[0]) / 2
    after = status_counts(stack)
    index_before = len(task_seconds(index_log_before).get("index", []))
    steps = task_seconds(stack.default_worker.log(), stack.index_worker.log())
    steps["index"] = steps.get("index", [])[index_before:]
    return {"count": len(ids), "seconds": seconds, "rate": len(ids) / seconds, "queued_in": queued_in,
            "failed": after.get("failed", 0) - before.get("failed", 0), "steps": steps, "cpu": cpu,
            "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 latency runs, 50 drained")
    parser.add_argument("--runs", type=int, default=50, help="promotions timed one at a time")
    parser.add_argument("--drain", type=int, default=1000, help="promotions queued, then drained")
    parser.add_argument("--concurrency", type=int, default=2, help="processes of the default-queue worker")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.drain = 10, 50
    print(f"promotion bench: {args.runs} timed promotions, {args.drain} drained; "
          f"`cairn worker -Q default -c {args.concurrency}` + `cairn worker -Q index` on Redis + PostgreSQL")
    # the bench measures the pipeline, not the posting limit
    with Stack("promo", rate_limit_posts="1000000/minute") as stack:
        stack.up(default_concurrency=args.concurrency)
        seeded = seed_people(stack)
        posts = make_posts(stack, seeded, args.runs + args.drain)
        api = Api.login(stack.web_url, seeded["curator"])
        api.json("GET", "/api/v1/me")
        times, outcomes = measure_latency(api, posts[: args.runs], seeded["space_id"])
        pct = percentiles(times, (50, 95))
        print(f"promote-to-draft latency over {len(times)} promotions (outcomes {outcomes}): "
              f"p50 {pct[50]:.3f} s, p95 {pct[95]:.3f} s   (target: p95 < {LATENCY_TARGET_S:.0f} s) "
              f"{'MET' if pct[95] < LATENCY_TARGET_S else 'MISSED'}")
        drain = measure_drain(stack, api, posts[args.runs:], seeded["space_id"], args.concurrency)
        print(f"drain: {drain['count']} queued promotions (queued through the API in {drain['queued_in']:.1f} s) "
              f"drained in {drain['seconds']:.1f} s = {drain['rate']:.1f} promotions/s, {drain['failed']} failed   "
              f"(target: >= {DRAIN_TARGET:.0f}/s) {'MET' if drain['rate'] >= DRAIN_TARGET else 'MISSED'}")
        steps = drain["steps"]
        order = ["start", "snapshot", "screen", "duplicates", "draft", "notify"]
        per_promotion = sum(sum(steps.get(name, [])) for name in order) / drain["count"]
        print("drain worker seconds per step (mean of the tasks' own times): "
              + ", ".join(f"{name} {sum(steps[name]) / len(steps[name]):.3f}" for name in order if steps.get(name))
              + f"; {per_promotion:.3f} s of default-worker time per promotion; index worker: "
              f"{len(steps['index'])} commits, {sum(steps['index']):.1f} s busy")
        # the machine is shared: CPU per promotion says what the drain costs whatever else runs
        print("drain CPU per promotion: " + ", ".join(f"{who} {used / drain['count'] * 1000:.0f} ms"
                                                     for who, used in sorted(drain["cpu"].items()))
              + f" (of {os.cpu_count()} cores; load average about {drain['load']:.1f} during the drain)")


if __name__ == "__main__":
    main()
