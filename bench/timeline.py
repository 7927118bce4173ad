"""Channel timeline speed at 10,000 and at 1,000,000 posts (keyset pagination).

Prints the median and p95 time of fetching a timeline page (first page and a deep page, by
cursor) through cairn.stream.actions.timeline, on a SQLite database under a temp folder.
Usage: python bench/timeline.py [--small 10000] [--large 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from cairn import create_app
from cairn.auth import actions as auth
from cairn.auth.models import User
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.pagination import encode_cursor
from cairn.stream import actions as stream
from cairn.stream.models import Post


def fill(app, channel_id: int, author_id: int, total: int, noise_channel: int) -> None:
    """Insert ``total`` posts, one in ten in the measured channel (the rest elsewhere)."""
    now = datetime.now(UTC)
    batch = 20_000
    with app.app_context():
        for start in range(0, total, batch):
            rows = [{"channel_id": channel_id if i % 10 == 0 else noise_channel, "author_id": author_id,
                     "body": f"post {i}", "html": f"<p>post {i}</p>", "created_at": now, "reply_count": 0}
                    for i in range(start, min(start + batch, total))]
            db.session.execute(insert(Post), rows)
            db.session.commit()


def measure(app, user_id: int, channel_id: int, runs: int = 200) -> dict[str, float]:
    with app.app_context():
        user = db.session.get(User, user_id)
        ids = db.session.scalars(select(Post.id).where(Post.channel_id == channel_id).order_by(Post.id)).all()
        deep = encode_cursor(ids[len(ids) // 10])  # a page far back in history
        out = {}
        for label, cursor in (("first page", None), ("deep page", deep)):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                posts, _ = stream.timeline(user, channel_id, cursor, 50)
                times.append(time.perf_counter() - t0)
                assert len(posts) == 50
                db.session.expunge_all()
            times.sort()
            out[label] = (statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000)
        return out


def run(total: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"instance": tmp, "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
                          "index_dir": str(Path(tmp) / "index"), "celery_eager": True, "secret_key": "bench"})
        with app.app_context():
            upgrade_database()
            user = auth.create_user("bench@example.com", "bench-password", "Bench", "member")
            chan = stream.create_channel(user, "bench")
            noise = stream.create_channel(user, "noise")
            ids = (user.id, chan.id, noise.id)
        t0 = time.perf_counter()
        fill(app, ids[1], ids[0], total, ids[2])
        print(f"  inserted {total:,} posts in {time.perf_counter() - t0:.1f} s")
        return measure(app, ids[0], ids[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    results = {}
    for total in (args.small, args.large):
        print(f"{total:,} posts:")
        results[total] = run(total)
        for label, (p50, p95) in results[total].items():
            print(f"  {label:10}  p50 {p50:7.3f} ms   p95 {p95:7.3f} ms")
    for label in ("first page", "deep page"):
        ratio = results[args.large][label][1] / results[args.small][label][1]
        print(f"p95 ratio {args.large:,} / {args.small:,} posts, {label}: {ratio:.2f}")


if __name__ == "__main__":
    main()
