"""Bulk reindex speed: documents per second of ``cairn.search.reindex`` (what `cairn reindex` runs).

    python bench/reindex.py --posts 100000 [--articles 2000] [--pg] [--profile] [--workdir /tmp/cairn-bench-reindex]

Data: real chat messages from the ``chitchat-dataset`` package (cycled past its ~258k messages),
bulk-inserted as posts of five channels (three public, two private), every third conversation a
thread, some reactions and accepted answers, every seventh message with Markdown (bold, a link,
inline code) and its HTML rendered as the app renders it; articles are Markdown pages (headings,
lists, links, code) built from the same conversations, in a public space and a group's space,
some restricted to a group, a few deleted or hidden posts. The SQLite database for a given size is
built once and kept in --workdir; with --pg the same rows go into a fresh PostgreSQL database
(CAIRN_BENCH_PG_URL, dropped at the end). Each run rebuilds the index in a fresh folder.

Prints documents/s by wall time and by CPU time (this process and the index writer's
subprocesses) and the load average before and after; the machine is shared, so run it twice when a
figure matters. The reindex uses one process per core (CAIRN_REINDEX_PROCESSES=1: one process).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import Table, func, select

from bench._search_data import CHANNELS, Conversation, insert_posts
from cairn import create_app, search
from cairn.auth.actions import create_group, create_user, set_group_member
from cairn.auth.models import User
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.kb.actions import create_space
from cairn.kb.models import Article, article_groups
from cairn.stream.actions import create_channel
from cairn.text import render_markdown

PG_ADMIN_URL = os.environ.get("CAIRN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = ("users", "groups", "group_members", "channels", "channel_members", "spaces", "space_groups",
          "posts", "reactions", "thread_answers", "articles", "article_groups")


def markdown_post(text: str, n: int) -> str:
    """Every seventh message carries some Markdown, as chat does."""
    if n % 7:
        return text
    words = text.split()
    if len(words) < 4:
        return f"**{text}**"
    return (f"**{words[0]} {words[1]}** {' '.join(words[2:-1])} "
            f"[{words[-1]}](https://example.com/{n}) and `code_{n % 50}`")


def article_body(texts: list[str], n: int) -> str:
    return "\n".join([
        f"## Answers from the discussion {n}", "",
        *[f"- **{t.split()[0]}** {' '.join(t.split()[1:])}" for t in texts[:4]], "",
        "### Details", "",
        " ".join(texts[4:12]), "",
        f"See [the runbook](https://example.com/runbook/{n}) and run `make check-{n % 20}`.", "",
    ])


def build(n_posts: int, n_articles: int) -> None:
    """Users, groups, channels and spaces through the app; posts and articles bulk-inserted."""
    upgrade_database()
    admin = create_user("admin@bench.example", "bench-password", "Admin", role="admin")
    users = [create_user(f"chat{i}@bench.example", "bench-password", f"Chatter {i}").id for i in range(8)]
    staff = create_group(admin, "staff")
    for uid in users[:4]:
        set_group_member(admin, staff.id, uid, True)
    channels = [create_channel(admin, name, private=private, member_ids=users if private else []).id
                for name, private in CHANNELS]
    spaces = [create_space(admin, "Handbook", group_ids=[]).id, create_space(admin, "Staff", group_ids=[staff.id]).id]
    now = datetime.now(UTC).replace(microsecond=0)

    def dress(conv: Conversation) -> dict[Table, list[dict]]:
        """Markdown in some posts (rendered as the app renders it), a few deleted or hidden; and
        the conversation's article, while there are articles to write."""
        for row in conv.posts:
            n, created = row["id"], row["created_at"]
            row["body"] = markdown_post(row["body"], n)
            row["html"] = render_markdown(row["body"])
            row["deleted_at"] = created if n % 97 == 0 else None
            row["hidden_at"] = created if n % 101 == 0 else None
        if conv.number >= n_articles:
            return {}
        n, texts = conv.number + 1, conv.texts
        body = article_body(texts, n)
        status = ("published", "published", "draft", "in_review", "archived")[n % 5]
        article = {"id": n, "space_id": spaces[n % 2], "slug": f"article-{n}",
                   "title": f"{texts[0][:60]} ({n})" if n % 4 else "", "body": body,
                   "html": render_markdown(body), "tags": f"topic{n % 7} bench", "status": status,
                   "revision": 1, "author_id": users[n % len(users)], "owner_id": users[(n + 1) % len(users)],
                   "created_at": now, "updated_at": now - timedelta(days=n % 400),
                   "verified_at": now - timedelta(days=n % 40) if n % 3 == 0 else None}
        restricted = [{"article_id": n, "group_id": staff.id}] if n % 2 == 0 and n % 6 == 0 else []
        return {Article.__table__: [article], article_groups: restricted}

    insert_posts(n_posts, users, channels, dress)


def copy_to(src_file: Path, dest_app) -> None:
    """The SQLite rows into the (empty, migrated) database of ``dest_app``, table by table."""
    from sqlalchemy import MetaData, text

    with dest_app.app_context():
        upgrade_database()
        meta = MetaData()
        meta.reflect(db.engine, only=TABLES)
        with sqlite3.connect(src_file) as src, db.engine.begin() as conn:
            src.row_factory = sqlite3.Row
            for name in TABLES:
                table = meta.tables[name]
                cols = [c.name for c in table.columns]
                rows = [dict(r) for r in src.execute(f"SELECT {', '.join(cols)} FROM {name}")]
                for col in table.columns:  # SQLite keeps booleans as 0/1
                    if col.type.python_type is bool:
                        for r in rows:
                            r[col.name] = None if r[col.name] is None else bool(r[col.name])
                for i in range(0, len(rows), 5000):
                    conn.execute(table.insert(), rows[i:i + 5000])
                if "id" in cols and rows:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"(SELECT max(id) FROM {name}))"))
        db.session.remove()


def make_app(work: Path, url: str, index_dir: Path):
    return create_app({"instance": str(work / "instance"), "index_dir": str(index_dir), "secret_key": "bench",
                       "database_url": url, "broker_url": "memory://", "rate_limits": False})


def measure(app, label: str, profile: bool) -> dict:
    with app.app_context():
        rows = search.total_rows()
        load = os.getloadavg()[0]
        seen = [0]
        profiler = cProfile.Profile(time.process_time) if profile else None  # CPU: the machine is shared
        before, wall = os.times(), time.perf_counter()
        if profiler:
            profiler.enable()
        count = search.reindex(lambda n: seen.__setitem__(0, n))
        if profiler:
            profiler.disable()
        wall, after = time.perf_counter() - wall, os.times()
        cpu = sum(after[:4]) - sum(before[:4])  # user+system of this process and its finished children
        docs = search.doc_count()
        db.session.remove()
        db.engine.dispose()
    assert docs == count, f"the index holds {docs} documents, the reindex wrote {count}"
    print(f"{label}: {count} documents from {rows} rows in {wall:.1f}s wall, {cpu:.1f}s CPU: "
          f"{count / wall:,.0f} documents/s wall, {count / cpu:,.0f} documents/CPU-s "
          f"(load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)", flush=True)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return {"docs": count, "wall": wall, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--articles", type=int, default=None, help="default: one per 50 posts")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/cairn-bench-reindex"))
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL (a fresh database, dropped after)")
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    ap.add_argument("--profile", action="store_true", help="print the reindex's cProfile (top 25 by own time)")
    args = ap.parse_args()
    n_articles = args.posts // 50 if args.articles is None else args.articles
    work = args.workdir.expanduser()
    work.mkdir(parents=True, exist_ok=True)
    db_file, ready = work / f"cairn-{args.posts}-{n_articles}.db", work / f"cairn-{args.posts}-{n_articles}.ready"
    index_dir = work / "index"
    if not ready.exists():
        db_file.unlink(missing_ok=True)
        started = time.monotonic()
        app = make_app(work, f"sqlite:///{db_file}", index_dir)
        with app.app_context():
            build(args.posts, n_articles)
            print(f"built {db_file} ({db.session.scalar(select(func.count()).select_from(User))} users, "
                  f"{args.posts} posts, {n_articles} articles) in {time.monotonic() - started:.0f}s", flush=True)
            db.session.remove()
            db.engine.dispose()
        ready.write_text("ok\n")
    if not args.no_sqlite:
        shutil.rmtree(index_dir, ignore_errors=True)
        measure(make_app(work, f"sqlite:///{db_file}", index_dir), "SQLite", args.profile)
    if args.pg:
        import psycopg

        name = f"cairn_bench_reindex_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            app = make_app(work, f"{base}/{name}", index_dir)
            started = time.monotonic()
            copy_to(db_file, app)
            print(f"copied the rows to PostgreSQL in {time.monotonic() - started:.0f}s", flush=True)
            shutil.rmtree(index_dir, ignore_errors=True)
            measure(app, "PostgreSQL", args.profile)
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(index_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
