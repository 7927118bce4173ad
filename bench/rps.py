"""Requests per second of the stream page against a bare Flask JSON endpoint, same gunicorn settings.

Two gunicorn servers started from config/gunicorn.conf.py with the same CAIRN_WEB_WORKERS and
CAIRN_WEB_THREADS: Cairn (PostgreSQL + Redis, a logged-in member reading a channel page of 50
posts with reactions) and bench/_bare_app.py (one route returning a small JSON object). Client
processes with keep-alive connections hit each server in turn for the same time, alternating
rounds so that the shared machine's noise falls on both. The clients behave as one browser does:
the User-Agent that logged in, and `Accept-Encoding: gzip`; the page is also measured without
gzip. Nothing is written meanwhile, so after its first render the page comes from the page cache
(cairn.pagecache), as a channel's page does between two writes. Printed: rps of each, and the
ratio (target >= 0.5). The client runs on the same 2 cores as the servers, which caps the bare figure.
Also printed: the CPU time each server's gunicorn processes spent per request (from /proc; the
stream page's PostgreSQL and Redis time is not in it), a figure that other load on a shared
machine disturbs much less than requests per second.

Usage: python bench/rps.py [--quick] [--seconds 15] [--rounds 2] [--procs 4] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from bench._harness import PASSWORD, Stack, percentiles, seed_people

TARGET = 0.5
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# one browser: the same User-Agent logs in and reads (Flask-Login's session protection compares it)
USER_AGENT = "cairn-bench-rps/1"


def _hammer_thread(url: str, headers: dict[str, str], stop_at: float, out: list) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    ok = errors = 0
    times = []
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        try:
            conn.request("GET", parts.path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                ok += 1
                times.append(time.perf_counter() - t0)
            else:
                errors += 1
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
    conn.close()
    out.append((ok, errors, times))


def hammer(job: tuple[str, dict[str, str], float, int]) -> tuple[int, int, list[float]]:
    url, headers, seconds, threads = job
    stop_at = time.perf_counter() + seconds
    out: list = []
    workers = [threading.Thread(target=_hammer_thread, args=(url, headers, stop_at, out)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(o[0] for o in out), sum(o[1] for o in out), [t for o in out for t in o[2]]


def measure(pool, url: str, headers: dict[str, str], seconds: float, procs: int,
            threads: int) -> tuple[int, int, list[float]]:
    results = pool.map(hammer, [(url, headers, seconds, threads)] * procs)
    return sum(r[0] for r in results), sum(r[1] for r in results), [t for r in results for t in r[2]]


def gunicorn_cpu(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by a gunicorn master and its live workers."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [master_pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
    except OSError:
        pass
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that was replaced meanwhile
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def seed_channel(stack: Stack, seeded: dict) -> None:
    from sqlalchemy import select

    from cairn.auth.models import User
    from cairn.extensions import db
    from cairn.stream import actions as stream

    with stack.app().app_context():
        users = list(db.session.scalars(select(User).order_by(User.id)))
        for i in range(60):
            author = users[i % len(users)]
            post = stream.create_post(author, seeded["channel_id"],
                                      f"Post {i}: **deploy** notes with a [link](https://example.com/{i}) and `code`")
            for user in users[: i % 4]:
                stream.add_reaction(user, post.id, "thumbsup")


def login_cookie(base: str, email: str) -> str:
    import requests

    web = requests.Session()
    web.headers["User-Agent"] = USER_AGENT
    token = CSRF_RE.search(web.get(base + "/login", timeout=30).text).group(1)
    resp = web.post(base + "/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                    allow_redirects=False, timeout=30)
    assert resp.status_code == 302, resp.status_code
    return "; ".join(f"{c.name}={c.value}" for c in web.cookies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 s per server, one round")
    parser.add_argument("--seconds", type=float, default=15, help="per server per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="keep-alive connections per client process")
    parser.add_argument("--web-workers", type=int, default=None, help="CAIRN_WEB_WORKERS for both (default: the config's)")
    parser.add_argument("--web-threads", type=int, default=None, help="CAIRN_WEB_THREADS for both (default: the config's)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3, 1
    with Stack("rps") as stack:
        stack.up(web_workers=args.web_workers, web_threads=args.web_threads)
        bare = stack.start_web("bench._bare_app:app", workers=args.web_workers, threads=args.web_threads,
                               name="gunicorn-bare", ready_path="/")
        cairn_pid = next(p.pid for p in stack.procs if p.name == "gunicorn")
        bare_pid = next(p.pid for p in stack.procs if p.name == "gunicorn-bare")
        seeded = seed_people(stack)
        seed_channel(stack, seeded)
        browser = {"User-Agent": USER_AGENT, "Cookie": login_cookie(stack.web_url, seeded["members"][0])}
        page = f"{stack.web_url}/channels/{seeded['channel_id']}"
        # label: (url, request headers, gunicorn master)
        runs = {"bare JSON": (bare + "/", {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}, bare_pid),
                "stream page": (page, {**browser, "Accept-Encoding": "gzip"}, cairn_pid),
                "no gzip": (page, browser, cairn_pid)}
        print(f"rps bench: {args.procs} client processes x {args.threads} keep-alive connections, "
              f"{args.rounds} round(s) of {args.seconds:.0f} s per server; gunicorn workers="
              f"{args.web_workers or 'config default'} threads={args.web_threads or 'config default'}")
        totals = {label: [0, 0, 0.0, []] for label in runs}
        cpu = dict.fromkeys(runs, 0.0)
        with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
            for url, headers, _ in runs.values():  # warm up (the page's first render is kept)
                measure(pool, url, headers, 1, args.procs, 1)
            for r in range(args.rounds):
                for label, (url, headers, master) in runs.items():
                    cpu_before = gunicorn_cpu(master)
                    ok, errors, times = measure(pool, url, headers, args.seconds, args.procs, args.threads)
                    cpu[label] += gunicorn_cpu(master) - cpu_before
                    t = totals[label]
                    t[0] += ok
                    t[1] += errors
                    t[2] += args.seconds
                    t[3] += times
                    print(f"  round {r + 1} {label:11}: {ok / args.seconds:8.1f} rps ({errors} errors)")
        rps = {label: t[0] / t[2] for label, t in totals.items()}
        for label, t in totals.items():
            pct = percentiles(t[3])
            print(f"{label:11}: {rps[label]:8.1f} requests/s, {t[1]} errors, latency p50 {pct[50] * 1000:.1f} ms "
                  f"p95 {pct[95] * 1000:.1f} ms p99 {pct[99] * 1000:.1f} ms")
        per_request = {label: cpu[label] / t[0] * 1000 if t[0] else float("nan") for label, t in totals.items()}
        print("server CPU per request: " + ", ".join(f"{label} {ms:.2f} ms" for label, ms in per_request.items()))
        ratio = rps["stream page"] / rps["bare JSON"] if rps["bare JSON"] else float("nan")
        plain = rps["no gzip"] / rps["bare JSON"] if rps["bare JSON"] else float("nan")
        print(f"stream page without gzip / bare JSON = {plain:.3f}")
        print(f"stream page / bare JSON = {ratio:.3f}   (target >= {TARGET}) {'MET' if ratio >= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
