"""Mixed load against production mode: 50 concurrent API clients for 60 s.

A private stack (bench/_harness.py): gunicorn (config/gunicorn.conf.py, its default workers and
threads) + PostgreSQL + Redis + `cairn worker -Q default` + `cairn worker -Q index` + `cairn beat`.
Each client loops without pause over a weighted mix: timeline reads and thread reads (50%), posts
(20%), reactions (15%) and searches (15%), each with its own bearer token. Printed: requests per
second, errors by kind and status, p50/p95/p99 per kind and overall, then the proof that no
acknowledged write was lost (every 201 post and 200 reaction is in PostgreSQL) and the seconds
until the search index holds every post.
The post rate limit is lifted for the bench (CAIRN_RATE_LIMIT_POSTS): it measures the server, not
the limiter.

Usage: python bench/load.py [--quick] [--clients 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from bench._harness import Api, Stack, percentiles, seed_people, wait_for

MIX = [("read", 50), ("post", 20), ("reaction", 15), ("search", 15)]
EMOJI = ["thumbsup", "tada", "heart", "eyes", "rocket"]
WORDS = ["deploy", "database", "password", "onboarding", "incident", "export", "runbook", "vpn",
         "release", "backup", "latency", "invoice", "kubernetes", "postgres", "redis"]


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[tuple[str, str]] = Counter()
        self.posts: set[int] = set()
        self.reactions: set[tuple[int, int, str]] = set()
        self.samples: dict[tuple[str, str], str] = {}  # the first error answer of each kind and status
        self.already = 0  # reactions answered 409 "already reacted" (by another client of that user)


def client(api: Api, user_id: int, channel_id: int, post_ids: list[int], marker: str, stop_at: float,
           results: Results, seed: int) -> None:
    rnd = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    n = 0
    while time.perf_counter() < stop_at:
        kind = rnd.choices(kinds, weights)[0]
        n += 1
        if kind == "read":
            if rnd.random() < 0.7:
                args = ("GET", f"/api/v1/channels/{channel_id}/posts", {"params": {"limit": 50}})
            else:
                args = ("GET", f"/api/v1/posts/{rnd.choice(post_ids)}/thread", {})
        elif kind == "post":
            body = f"{marker} {' '.join(rnd.sample(WORDS, 4))} from client {seed} #{n}"
            args = ("POST", f"/api/v1/channels/{channel_id}/posts", {"json": {"body": body}})
        elif kind == "reaction":
            target, emoji = rnd.choice(post_ids), rnd.choice(EMOJI)
            args = ("PUT", f"/api/v1/posts/{target}/reactions/{emoji}", {})
        else:
            args = ("GET", "/api/v1/search", {"params": {"q": " ".join(rnd.sample(WORDS, rnd.randint(1, 2)))}})
        t0 = time.perf_counter()
        try:
            resp = api.request(args[0], args[1], **args[2])
            status = resp.status_code
        except Exception as exc:  # noqa: BLE001  (counted: a refused or dropped connection is an error)
            status, resp = type(exc).__name__, None
        elapsed = time.perf_counter() - t0
        with results.lock:
            results.times[kind].append(elapsed)
            if kind == "reaction" and status == 409:  # the API's answer to a reaction made already
                results.already += 1
                results.reactions.add((target, user_id, emoji))
            elif resp is None or resp.status_code >= 400:
                results.errors[(kind, str(status))] += 1
                results.samples.setdefault((kind, str(status)), f"{args[0]} {args[1]} -> "
                                           f"{resp.text[:200] if resp is not None else status}")
            elif kind == "post":
                results.posts.add(resp.json()["id"])
                post_ids.append(resp.json()["id"])
            elif kind == "reaction":
                results.reactions.add((target, user_id, emoji))


def seed_posts(stack: Stack, seeded: dict, count: int) -> list[int]:
    from sqlalchemy import select

    from cairn.auth.models import User
    from cairn.extensions import db
    from cairn.stream import actions as stream

    rnd = random.Random(7)
    with stack.app().app_context():
        author = db.session.scalar(select(User).where(User.email == seeded["admin"]))
        return [stream.create_post(author, seeded["channel_id"], " ".join(rnd.sample(WORDS, 6))).id
                for _ in range(count)]


def verify(stack: Stack, results: Results, marker: str) -> dict:
    from sqlalchemy import func, select, tuple_

    from cairn import search
    from cairn.extensions import db
    from cairn.stream.models import Post, Reaction

    with stack.app().app_context():
        stored = set(db.session.scalars(select(Post.id).where(Post.body.startswith(marker))))
        found_reactions = 0
        triples = list(results.reactions)
        for i in range(0, len(triples), 500):
            found_reactions += db.session.scalar(select(func.count()).select_from(Reaction).where(
                tuple_(Reaction.post_id, Reaction.user_id, Reaction.emoji).in_(triples[i:i + 500])))
        total_posts = db.session.scalar(select(func.count()).select_from(Post))
        db.session.rollback()
        t0 = time.perf_counter()

        def indexed() -> bool:
            return search.doc_count() >= total_posts

        try:
            wait_for(indexed, 600, "the index to hold every post", interval=0.2)
            index_wait = f"{time.perf_counter() - t0:.1f} s"
        except TimeoutError:
            index_wait = f"not within 600 s ({search.doc_count()} of {total_posts} documents)"
        return {"stored_posts": len(stored), "lost_posts": len(results.posts - stored),
                "unacknowledged_stored": len(stored - results.posts), "found_reactions": found_reactions,
                "index_wait": index_wait}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 clients for 10 s")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=10, help="members the clients log in as (round robin)")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds = 10, 10
    marker = f"loadrun{random.randrange(10**6)}"
    with Stack("load", rate_limit_posts="1000000/minute") as stack:
        stack.up()
        seeded = seed_people(stack, members=args.users)
        post_ids = seed_posts(stack, seeded, 200)
        apis = []
        for email in seeded["members"]:
            api = Api.login(stack.web_url, email)
            apis.append((api, api.json("GET", "/api/v1/me")["id"]))
        results = Results()
        print(f"load bench: {args.clients} clients x {args.seconds:.0f} s against gunicorn "
              f"(config/gunicorn.conf.py defaults) + PostgreSQL + Redis + 2 workers + beat; mix {dict(MIX)} %")
        start = time.perf_counter()
        threads = []
        for i in range(args.clients):
            base, user_id = apis[i % len(apis)]
            api = Api(stack.web_url)
            api.http.headers["Authorization"] = base.http.headers["Authorization"]
            threads.append(threading.Thread(target=client, args=(
                api, user_id, seeded["channel_id"], post_ids, marker, start + args.seconds, results, i)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        every = [x for v in results.times.values() for x in v]
        print(f"{len(every)} requests in {wall:.1f} s = {len(every) / wall:.1f} requests/s; "
              f"errors: {sum(results.errors.values())} {dict(sorted(results.errors.items())) or ''} "
              f"(and {results.already} reactions answered 409 'already reacted', as the API says)")
        print(f"{'kind':10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for kind, _ in [*MIX, ("overall", 0)]:
            times = every if kind == "overall" else results.times[kind]
            errs = sum(n for (k, _), n in results.errors.items() if kind in ("overall", k))
            pct = percentiles(times)
            print(f"{kind:10} {len(times):8} {errs:6} {pct[50] * 1000:8.1f} {pct[95] * 1000:8.1f} {pct[99] * 1000:8.1f}")
        for (kind, status), sample in sorted(results.samples.items()):
            print(f"  first {kind} {status}: {sample}")
        for line, n in stack.logged_exceptions().most_common(10):
            print(f"  logged {n}x: {line}")
        check = verify(stack, results, marker)
        print(f"writes: {len(results.posts)} posts acknowledged (201), {check['stored_posts']} in PostgreSQL, "
              f"lost {check['lost_posts']} (target 0); {len(results.reactions)} distinct reactions acknowledged, "
              f"{check['found_reactions']} in PostgreSQL, lost {len(results.reactions) - check['found_reactions']} "
              f"(target 0)")
        print(f"search index held every post {check['index_wait']} after the load ended")


if __name__ == "__main__":
    main()
