"""Candidate scoring speed: seconds for `score_candidates` over a stream of N threads.

    python bench/candidates.py [--threads 5000] [--replies 3] [--searches 2000] [--database-url URL]

Fills a fresh instance (SQLite unless --database-url names an empty database) with threads of
varied questions, replies, reactions, bookmarks, accepted answers and searches that found
nothing (rows inserted directly: the bench measures the scorer, not posting), then scores it
twice: the first run creates the queue, the second updates it in place.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import func, insert, select

from cairn import create_app
from cairn.auth.models import User
from cairn.cli import upgrade_database
from cairn.curation.candidate_models import Candidate
from cairn.curation.candidates import score_candidates
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.search.models import SearchLog
from cairn.stream.models import Bookmark, Channel, Post, Reaction, ThreadAnswer

WORDS = ["vpn", "laptop", "printer", "deploy", "kubernetes", "ingress", "backup", "restore", "payroll", "export", "invoice", "wifi", "password", "rotation", "docker", "build", "cache", "release", "pipeline", "staging", "database", "migration", "timeout", "certificate", "renewal", "onboarding", "expense", "laptop", "monitor", "keyboard", "access", "token", "grafana", "alert", "oncall", "incident", "postmortem", "latency", "queue", "worker", "celery", "redis", "index", "search", "replica"]


def fill(threads: int, replies: int, searches: int, rng: random.Random) -> int:
    now = utcnow()
    s = db.session
    users = [s.execute(insert(User).values(email=f"u{i}@bench.example", display_name=f"User {i}",
                                           password_hash="x", role="member", active=True)
                       .returning(User.id)).scalar_one() for i in range(20)]
    channels = [s.execute(insert(Channel).values(name=f"chan{i}", topic="", private=False, created_at=now)
                          .returning(Channel.id)).scalar_one() for i in range(10)]
    posts = 0
    for t in range(threads):
        created = now - timedelta(days=rng.uniform(0, 400))
        question = " ".join(rng.sample(WORDS, 5)) + "?"
        root = s.execute(insert(Post).values(channel_id=rng.choice(channels), author_id=rng.choice(users),
                                             body=question, html=question, created_at=created,
                                             view_count=rng.randint(0, 50), reply_count=replies)
                         .returning(Post.id)).scalar_one()
        ids = [root]
        for r in range(replies):
            body = " ".join(rng.sample(WORDS, 8))
            ids.append(s.execute(insert(Post).values(channel_id=rng.choice(channels), author_id=rng.choice(users),
                                                     parent_id=root, body=body, html=body,
                                                     created_at=created + timedelta(hours=r + 1))
                                 .returning(Post.id)).scalar_one())
        for user in rng.sample(users, rng.randint(0, 4)):
            s.add(Reaction(post_id=rng.choice(ids), user_id=user, emoji="👍"))
        if rng.random() < 0.2:
            s.add(Bookmark(post_id=root, user_id=rng.choice(users)))
        if replies and rng.random() < 0.3:
            s.add(ThreadAnswer(root_id=root, answer_id=ids[1]))
        posts += len(ids)
        if t % 500 == 0:
            s.commit()
    for _ in range(searches):
        s.add(SearchLog(user_id=rng.choice(users), query=" ".join(rng.sample(WORDS, 2)), hits=0,
                        created_at=now - timedelta(days=rng.uniform(0, 80))))
    s.commit()
    return posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=5000)
    parser.add_argument("--replies", type=int, default=3)
    parser.add_argument("--searches", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"instance": f"{tmp}/instance", "index_dir": f"{tmp}/index", "secret_key": "bench",
                          "database_url": args.database_url or f"sqlite:///{tmp}/cairn.db", "celery_eager": True})
        with app.app_context():
            upgrade_database()
            started = time.perf_counter()
            posts = fill(args.threads, args.replies, args.searches, random.Random(7))
            print(f"filled {args.threads} threads, {posts} posts, {args.searches} failed searches "
                  f"in {time.perf_counter() - started:.1f}s")
            for label in ("first run (creates the queue)", "second run (updates in place)"):
                result = score_candidates()
                print(f"{label}: {result['seconds']:.2f}s for {result['scored']} threads scored "
                      f"({result['scored'] / max(result['seconds'], 1e-9):.0f} threads/s); "
                      f"created {result['created']}, updated {result['updated']}")
            queued = db.session.scalar(select(func.count()).select_from(Candidate))
            print(f"candidates in the queue: {queued}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
