"""Faults in production mode: Redis stopped during posting, and the promotion worker SIGKILLed.

A private stack (bench/_harness.py): gunicorn + PostgreSQL + a private Redis + `cairn worker -Q
default` + `cairn worker -Q index` + `cairn beat`, all with the configuration's defaults.
(a) 1,000 posts through the API from 8 clients, paced over about a minute; 10 s in, Redis is
    stopped for 30 s (then started again, empty: no persistence, as after a crash). Printed: posts
    acknowledged, errors by status, posts lost (acknowledged but not in PostgreSQL: must be 0),
    and the seconds from Redis coming back until search holds every stored post.
(b) Promotions are requested while the `default` worker is SIGKILLed (its whole process group, so
    the task in hand is never acked) 20 times, each time while a promotion is running, and started
    again. Printed: articles per promotion (must be exactly 1 each), failed promotions with their
    errors, and the time until every promotion had finished.

Usage: python bench/faults.py [--quick] [--only redis|kill] [--posts 1000] [--kills 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from bench._harness import Api, Stack, seed_people, wait_for

FINISHED = ("needs_review", "failed", "done", "rejected")


def redis_outage(posts: int, outage: float, down_at: float, duration: float) -> None:
    print(f"(a) {posts} posts over ~{duration:.0f} s from 8 clients; Redis stopped at {down_at:.0f} s "
          f"for {outage:.0f} s")
    with Stack("faults-redis", rate_limit_posts="1000000/minute") as stack:
        stack.up()
        seeded = seed_people(stack, members=8)
        apis = [Api.login(stack.web_url, email) for email in seeded["members"]]
        acked: set[int] = set()
        errors: Counter[str] = Counter()
        lock = threading.Lock()
        slowest = [0.0]
        start = time.perf_counter()
        interval = duration / posts

        def client(i: int) -> None:
            for n in range(i, posts, len(apis)):
                wait = start + n * interval - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                t0 = time.perf_counter()
                try:
                    resp = apis[i].request("POST", f"/api/v1/channels/{seeded['channel_id']}/posts",
                                           json={"body": f"outage post {n} #faults"})
                    status = resp.status_code
                except Exception as exc:  # noqa: BLE001  (counted as an error)
                    resp, status = None, type(exc).__name__
                with lock:
                    slowest[0] = max(slowest[0], time.perf_counter() - t0)
                    if resp is not None and status == 201:
                        acked.add(resp.json()["id"])
                    else:
                        errors[str(status)] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(apis))]
        for t in threads:
            t.start()
        time.sleep(max(0.0, start + down_at - time.perf_counter()))
        stack.stop_redis()
        print(f"    Redis stopped at {time.perf_counter() - start:.1f} s")
        time.sleep(outage)
        stack.start_redis()
        back = time.perf_counter()
        print(f"    Redis running again at {back - start:.1f} s")
        for t in threads:
            t.join()
        print(f"    posting finished at {time.perf_counter() - start:.1f} s; slowest request {slowest[0]:.2f} s")

        from sqlalchemy import func, select

        from cairn import search
        from cairn.extensions import db
        from cairn.stream.models import Post

        with stack.app().app_context():
            stored = set(db.session.scalars(select(Post.id).where(Post.body.startswith("outage post"))))
            total = db.session.scalar(select(func.count()).select_from(Post))
            db.session.rollback()
            lost = acked - stored
            print(f"    posts: {len(acked)} acknowledged (201), {sum(errors.values())} refused {dict(errors)}, "
                  f"{len(stored)} in PostgreSQL; lost {len(lost)} (target 0)")
            try:
                wait_for(lambda: search.doc_count() >= total, 600, "search to hold every post", interval=0.5)
                print(f"    search held all {total} posts {time.perf_counter() - back:.1f} s after Redis came back")
            except TimeoutError:
                print(f"    search did NOT hold every post 600 s after Redis came back: "
                      f"{search.doc_count()} of {total} documents")


def worker_kills(promotions: int, kills: int) -> None:
    print(f"(b) {promotions} promotions; the default worker SIGKILLed {kills} times while one runs")
    with Stack("faults-kill") as stack:
        stack.up()
        seeded = seed_people(stack)
        from sqlalchemy import func, select

        from cairn.auth.models import User
        from cairn.curation.models import Promotion
        from cairn.extensions import db
        from cairn.kb.models import ArticleSource
        from cairn.stream import actions as stream

        with stack.app().app_context():
            author = db.session.scalar(select(User).where(User.email == seeded["members"][0]))
            post_ids = [stream.create_post(author, seeded["channel_id"],
                                           f"Runbook step {i}: restart the queue consumer, then check the lag. "
                                           f"#ops").id for i in range(promotions)]
        api = Api.login(stack.web_url, seeded["curator"])

        def statuses() -> Counter[str]:
            with stack.app().app_context():
                rows = db.session.execute(select(Promotion.status, func.count()).group_by(Promotion.status)).all()
                db.session.rollback()
                return Counter(dict(rows))

        start = time.perf_counter()
        feeder_done = threading.Event()

        def feed() -> None:  # promotions keep arriving while the worker is killed
            for pid in post_ids:
                api.json("POST", "/api/v1/promotions", json={"post_ids": [pid], "space_id": seeded["space_id"]})
                time.sleep(random.uniform(0.05, 0.3))
            feeder_done.set()

        threading.Thread(target=feed, daemon=True).start()
        done_kills, skipped = 0, 0
        while done_kills < kills:
            try:
                wait_for(lambda: statuses()["running"] > 0, 30, "a running promotion", interval=0.05)
            except TimeoutError:
                skipped += 1
                if skipped > 5:
                    print(f"    no promotion was running for 30 s {skipped} times: stopping after {done_kills} kills")
                    break
                continue
            time.sleep(random.uniform(0, 0.3))  # somewhere inside the pipeline
            stack.default_worker.kill()
            done_kills += 1
            stack.procs.remove(stack.default_worker)
            stack.default_worker = stack.start_worker("default", name=f"default-{done_kills}")
        print(f"    {done_kills} kills in {time.perf_counter() - start:.0f} s; waiting for every promotion to finish")
        feeder_done.wait(600)
        try:
            wait_for(lambda: sum(statuses()[s] for s in FINISHED) >= promotions, 900,
                     "every promotion to finish", interval=0.5)
        except TimeoutError:
            pass
        finished_at = time.perf_counter() - start
        with stack.app().app_context():
            per_post = dict(db.session.execute(
                select(ArticleSource.post_id, func.count(func.distinct(ArticleSource.article_id)))
                .group_by(ArticleSource.post_id)).all())
            rows = db.session.execute(select(Promotion.id, Promotion.post_ids, Promotion.status, Promotion.error)
                                      .order_by(Promotion.id)).all()
            db.session.rollback()
        articles = Counter(per_post.get(post_ids_[0], 0) for _, post_ids_, _, _ in rows)
        wrong = [(pid, per_post.get(p[0], 0), status) for pid, p, status, _ in rows if per_post.get(p[0], 0) != 1]
        print(f"    promotions by status: {dict(statuses())} (all finished {finished_at:.0f} s after the start)")
        print(f"    articles per promotion: {dict(sorted(articles.items()))} (target: exactly 1 for each of "
              f"{promotions}) {'MET' if articles == Counter({1: promotions}) else 'MISSED'}")
        if wrong:
            print(f"    promotions without exactly one article (id, articles, status): {wrong[:20]}")
        for pid, _, status, error in rows:
            if status == "failed":
                print(f"    failed promotion {pid}: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 posts, a 10 s outage, 3 kills")
    parser.add_argument("--only", choices=["redis", "kill"])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--outage", type=float, default=30)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--promotions", type=int, default=40)
    args = parser.parse_args()
    if args.quick:
        args.posts, args.outage, args.kills, args.promotions = 100, 10, 3, 8
    if args.only in (None, "redis"):
        redis_outage(args.posts, args.outage, down_at=min(10, args.outage / 2),
                     duration=max(2 * args.outage, args.posts / 16))
    if args.only in (None, "kill"):
        worker_kills(args.promotions, args.kills)


if __name__ == "__main__":
    main()
