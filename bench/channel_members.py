"""The cost of one channel page (and of the channel list) as a channel's member count grows.

A company-wide channel has thousands of members; the page must not load them all. Builds a
database (SQLite under a temp folder, or PostgreSQL with --database-url) with a public and a
private channel of ``--members`` members each and 50 posts with reactions in each, logs a member
in with Flask's test client, and prints for each page: the median and p95 time of a request (after
warm-ups, so the card cache is warm as it is on a busy server) and the SQL statements it ran.

Usage: python bench/channel_members.py [--members 5000] [--runs 30] [--warmups 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from sqlalchemy import event, insert, text
from werkzeug.security import generate_password_hash

from cairn import create_app
from cairn.auth import actions as auth
from cairn.auth.models import User
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.stream import actions as stream
from cairn.stream.models import Post, Reaction, channel_members

PASSWORD = "bench-password"


def fill(app, members: int) -> dict:
    """Two channels of ``members`` members (public and private), 50 posts each with reactions,
    written straight into the tables (the actions would load every member for every post)."""
    now = datetime.now(UTC)
    with app.app_context():
        reader = auth.create_user("reader@example.com", PASSWORD, "Rita Reader", "member")
        hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.execute(insert(User), [{"email": f"user{i}@example.com", "display_name": f"User {i:05d}",
                                           "password_hash": hashed, "role": "member", "active": True}
                                          for i in range(members - 1)])
        db.session.commit()
        ids = [u for (u,) in db.session.execute(text("SELECT id FROM users WHERE id != :r"), {"r": reader.id})]
        out = {"reader": reader.email}
        for name, private in (("everyone", False), ("everyone-private", True)):
            channel_id = stream.create_channel(reader, name, private=private).id
            db.session.execute(insert(channel_members), [{"channel_id": channel_id, "user_id": u} for u in ids])
            for i in range(50):
                post_id = db.session.execute(insert(Post).values(
                    channel_id=channel_id, author_id=ids[i % 5], body=f"Post {i}: **deploy** notes",
                    html=f"<p>Post {i}: <strong>deploy</strong> notes</p>", created_at=now,
                    reply_count=0)).inserted_primary_key[0]
                for user_id in ids[: i % 4]:
                    db.session.execute(insert(Reaction).values(post_id=post_id, user_id=user_id, emoji="👍",
                                                               created_at=now))
            db.session.commit()
            out[name] = channel_id
        return out


def measure(app, email: str, path: str, runs: int, warmups: int) -> tuple[float, float, int]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code
    for _ in range(warmups):  # the card cache, the templates
        assert client.get(path).status_code == 200
    statements: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        resp = client.get(path)
        times.append(time.perf_counter() - t0)
        assert resp.status_code == 200
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmups", type=int, default=3, help="requests per page before measuring")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"instance": tmp, "database_url": url, "index_dir": str(Path(tmp) / "index"),
                          "celery_eager": True, "secret_key": "bench", "rate_limit_posts": "100000/minute",
                          "page_cache_mb": 0})  # every request renders: its time and statements are measured
        with app.app_context():
            if args.database_url:
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade_database()
        t0 = time.perf_counter()
        seeded = fill(app, args.members)
        print(f"{args.members:,} members in each channel ({url.split(':')[0]}), seeded in "
              f"{time.perf_counter() - t0:.1f} s; {args.runs} requests per page after {args.warmups} warm-up(s)")
        for label, path in (("public channel page", f"/channels/{seeded['everyone']}"),
                            ("private channel page", f"/channels/{seeded['everyone-private']}"),
                            ("channel list page", "/channels")):
            p50, p95, n = measure(app, seeded["reader"], path, args.runs, args.warmups)
            print(f"  {label:21} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   {n} SQL statements")


if __name__ == "__main__":
    main()
