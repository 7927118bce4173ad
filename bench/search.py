"""Cairn's search against a SQLite FTS5 reference on the same data: latency, relevance, scale,
latency right after an index commit, post → searchable delay and reindex speed.

    python bench/search.py [--posts 20000] [--scale-posts 0] [--live-posts 100] [--rate 20]
                           [--workdir ~/.cache/cairn-bench-search] [--skip-live]
    python bench/search.py --posts 100000 --scale-posts 1000000     # the issue's sizes

Data no one here wrote:
- posts: real chat messages from the ``chitchat-dataset`` package (cycled when --posts exceeds
  its ~258k messages), bulk-inserted as posts of five channels (three public, two private; the
  searcher belongs to one private channel), every third conversation a thread, some reactions and
  accepted answers;
- articles: the Debian ``python3.11-doc`` sources (``/usr/share/doc/python3.11/html/_sources``,
  minus ``faq/``), one article per section, imported with ``cairn.kb.importer.import_documents``
  into three spaces: public, restricted to a group the searcher is in, restricted to one they
  are not in;
- a relevance set: the Python FAQ (``faq/*.rst.txt``): every answer is an untitled article of a
  public space and its question is the query; MRR@10 counts the rank of that article.

Cairn is measured through ``cairn.search.query`` (what the search page and API call: ACL tokens,
ranking, thread collapsing, snippets, the search log), its index built by ``cairn.search.reindex``
from ``cairn.search.documents``. The reference is SQLite FTS5 with the porter tokenizer over the
same documents, Whoosh's stop words removed from the query (OR of the remaining words), ranked by
``bm25()``, with the searcher's ACL tokens as a WHERE EXISTS on an (doc, token) table.

The database for a given --posts is built once and kept in --workdir (delete it to rebuild);
the indexes are rebuilt by every run. After the questions, 20 posts are indexed again one commit
at a time, each followed by a short query (what a new searcher must rebuild after a commit is
paid by that query). Post → searchable starts a private redis-server and a
real ``celery -A workers.celery_app worker`` (as tests/integration/conftest.py does) on a copy of
that database and index, posts through ``cairn.stream.actions.create_post`` at --rate posts/s and
polls a searcher until each post is found.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import insert, select, update
from whoosh.analysis import STOP_WORDS  # the same stop words as Cairn's analyzer

from bench._services import RedisServer
from cairn import create_app, search
from cairn.auth import permissions as perm
from cairn.auth.actions import create_group, create_user, set_group_member
from cairn.auth.models import User
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.kb.actions import create_space
from cairn.kb.importer import import_documents
from cairn.kb.models import Article, Space
from cairn.search import documents
from cairn.search.query import parse
from cairn.stream.actions import create_channel, create_post
from cairn.stream.models import Channel, Post, Reaction, ThreadAnswer

DOCS = Path("/usr/share/doc/python3.11/html/_sources")
HEADING_CHARS = set("=-~^*+#\"'`:.")
WORD_RE = re.compile(r"\w+", re.UNICODE)
# (space, groups) per docs folder: public docs, a space of a group the searcher is in, one they are not in
RESTRICTED_MEMBER = ("c-api", "extending")
RESTRICTED_OTHER = ("whatsnew", "distutils")
CHANNELS = [("general", False), ("random", False), ("support", False), ("leads", True), ("hr", True)]
EMOJI = ["👍", "🎉", "❤️", "👀"]


# --- data -----------------------------------------------------------------------------------------

def rst_sections(text: str) -> list[tuple[str, str]]:
    """(title, raw body) per section of a reStructuredText file (headings with an underline)."""
    lines = text.splitlines()
    heads = []
    for i in range(len(lines) - 1):
        title, under = lines[i].rstrip(), lines[i + 1].rstrip()
        if (title and not title[0].isspace() and len(under) >= len(title.strip()) >= 2 and len(set(under)) == 1
                and under[0] in HEADING_CHARS and set(title) - HEADING_CHARS):
            heads.append(i)
    out = []
    for n, i in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        body = lines[i + 2:end]
        if body and n + 1 < len(heads) and set(lines[end - 1].strip()) <= HEADING_CHARS and lines[end - 1].strip():
            body = body[:-1]  # the next heading's overline
        out.append((lines[i].strip(), "\n".join(body).strip()))
    return out


def write_sections(target: Path) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    """Section files per space folder, and [(question, faq file key)] for the relevance set."""
    folders = {name: target / name for name in ("docs", "member", "other", "faq")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for path in sorted(DOCS.rglob("*.rst.txt")):
        rel = path.relative_to(DOCS)
        top = rel.parts[0]
        sections = rst_sections(path.read_text(errors="replace"))
        if top == "faq":
            for n, (title, body) in enumerate(sections):
                if title.endswith("?") and len(body) > 20:
                    name = f"{rel.stem.replace('.rst', '')}-{n:03d}.rst"
                    (folders["faq"] / name).write_text(body + "\n")  # untitled: the body only
                    questions.append((title, name))
            continue
        space = "member" if top in RESTRICTED_MEMBER else "other" if top in RESTRICTED_OTHER else "docs"
        stem = rel.as_posix().replace("/", "_").replace(".rst.txt", "")
        for n, (title, body) in enumerate(sections):
            if len(body) < 80:
                continue
            (folders[space] / f"{stem}-{n:03d}.rst").write_text(f"{title}\n{'=' * len(title)}\n\n{body}\n")
    return folders, questions


def conversations():
    import chitchat_dataset

    data = chitchat_dataset.Dataset()
    for key in sorted(data):
        texts = [u["text"].strip() for turn in data[key]["messages"] for u in turn if u["text"].strip()]
        if texts:
            yield texts


def insert_posts(n_posts: int, user_ids: list[int], channel_ids: list[int]) -> None:
    """Bulk insert ``n_posts`` real chat messages (a conversation per channel in turn)."""
    now = datetime.now(UTC).replace(microsecond=0)
    post_rows, reaction_rows, answer_rows = [], [], []
    next_id, conv_no = 1, 0

    def flush():
        for table, rows in ((Post.__table__, post_rows), (Reaction.__table__, reaction_rows),
                            (ThreadAnswer.__table__, answer_rows)):
            if rows:
                db.session.execute(insert(table), rows)
                rows.clear()
        db.session.commit()

    while next_id <= n_posts:
        for texts in conversations():
            channel = channel_ids[conv_no % len(channel_ids)]
            speakers = (user_ids[conv_no % len(user_ids)], user_ids[(conv_no * 7 + 3) % len(user_ids)])
            threaded = conv_no % 3 == 0
            root = next_id
            for i, text in enumerate(texts):
                if next_id > n_posts:
                    break
                created = now - timedelta(minutes=(n_posts - next_id) * 5)  # the newest is now
                post_rows.append({"id": next_id, "channel_id": channel, "author_id": speakers[i % 2],
                                  "parent_id": root if threaded and i else None, "body": text[:4000],
                                  "html": f"<p>{escape(text[:4000])}</p>", "created_at": created,
                                  "reply_count": len(texts) - 1 if threaded and not i else 0, "view_count": 0})
                if next_id % 9 == 0:
                    for k in range(next_id % 4):
                        reaction_rows.append({"post_id": next_id, "user_id": user_ids[k],
                                              "emoji": EMOJI[k], "created_at": created})
                if threaded and i == 1 and conv_no % 2 == 0:
                    answer_rows.append({"root_id": root, "answer_id": next_id})
                next_id += 1
            conv_no += 1
            if len(post_rows) >= 20000:
                flush()
            if next_id > n_posts:
                break
    flush()


def build_base(sections: Path) -> None:
    """Users, groups, channels, spaces and the imported articles: everything but the posts."""
    upgrade_database()
    admin = create_user("admin@bench.example", "bench-password", "Admin", role="admin")
    searcher = create_user("searcher@bench.example", "bench-password", "Searcher")
    chatters = [create_user(f"chat{i}@bench.example", "bench-password", f"Chatter {i}").id for i in range(8)]
    staff, secret = create_group(admin, "staff"), create_group(admin, "secret")
    set_group_member(admin, staff.id, searcher.id, True)
    set_group_member(admin, secret.id, admin.id, True)
    for name, private in CHANNELS:
        members = chatters + ([searcher.id] if name != "hr" else []) if private else []
        create_channel(admin, name, private=private, member_ids=members)
    folders, _questions = write_sections(sections)
    spaces = {"docs": create_space(admin, "Python", group_ids=[]),
              "member": create_space(admin, "Staff", group_ids=[staff.id]),
              "other": create_space(admin, "Internal", group_ids=[secret.id]),
              "faq": create_space(admin, "FAQ", group_ids=[])}
    for key, space in spaces.items():
        started = time.monotonic()
        report = import_documents(folders[key], space.name, admin.email)
        print(f"  imported {report.created} articles into {space.name} in {time.monotonic() - started:.0f}s"
              f" ({len(report.failed)} failed)", flush=True)
    # untitled answers: the question must be found from the answer's words alone
    db.session.execute(update(Article).where(Article.space_id == spaces["faq"].id).values(title=""))
    db.session.commit()


def faq_questions(sections: Path) -> list[tuple[str, int]]:
    """[(question, article id)] from the FAQ files and the articles imported from them."""
    ids = dict(db.session.execute(select(Article.import_key, Article.id).join(Space).where(Space.name == "FAQ")).all())
    out = []
    for path in sorted(DOCS.glob("faq/*.rst.txt")):
        for n, (title, body) in enumerate(rst_sections(path.read_text(errors="replace"))):
            name = f"{path.name.replace('.rst.txt', '')}-{n:03d}.rst"
            if title.endswith("?") and len(body) > 20 and name in ids:
                out.append((title, ids[name]))
    return out


def make_app(work: Path, db_file: Path, index_dir: Path, **extra):
    return create_app({"instance": str(work / "instance"), "index_dir": str(index_dir), "secret_key": "bench",
                       "database_url": f"sqlite:///{db_file}", "broker_url": "memory://", "rate_limits": False,
                       **extra})


def prepare(work: Path, n_posts: int, reuse_index: bool = False):
    """The app over the (cached) database of ``n_posts`` posts, with a fresh index (or the last
    run's, when ``reuse_index`` and it is complete)."""
    db_file, index_dir = work / f"cairn-{n_posts}.db", work / f"index-{n_posts}"
    if not (reuse_index and (index_dir / "complete").exists()):
        shutil.rmtree(index_dir, ignore_errors=True)
    base = work / "cairn-base.db"
    if not (work / "cairn-base.ready").exists():
        base.unlink(missing_ok=True)
        print(f"importing the articles (once, kept in {work})", flush=True)
        app = make_app(work, base, index_dir)
        with app.app_context():
            build_base(work / "sections")
            db.session.remove()
            db.engine.dispose()
        (work / "cairn-base.ready").write_text("ok\n")
    if not (work / f"cairn-{n_posts}.ready").exists():
        db_file.unlink(missing_ok=True)
        with sqlite3.connect(base) as src, sqlite3.connect(db_file) as dst:
            src.backup(dst)
        app = make_app(work, db_file, index_dir)
        with app.app_context():
            started = time.monotonic()
            chatters = db.session.scalars(select(User.id).where(User.email.like("chat%")).order_by(User.id)).all()
            channels = db.session.scalars(select(Channel.id).order_by(Channel.id)).all()
            insert_posts(n_posts, chatters, channels)
            print(f"  inserted {n_posts} posts in {time.monotonic() - started:.0f}s", flush=True)
            db.session.remove()
            db.engine.dispose()
        (work / f"cairn-{n_posts}.ready").write_text("ok\n")
    return make_app(work, db_file, index_dir), db_file, index_dir


# --- the FTS5 reference ---------------------------------------------------------------------------

class Fts5:
    def __init__(self) -> None:
        self.con = sqlite3.connect(":memory:", check_same_thread=False)
        self.con.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter')")
        self.con.execute("CREATE TABLE keys (rowid INTEGER PRIMARY KEY, key TEXT)")
        self.con.execute("CREATE TABLE acl (doc INTEGER, token TEXT, PRIMARY KEY (doc, token)) WITHOUT ROWID")

    def load(self, docs) -> int:
        n = 0
        for n, doc in enumerate(docs, 1):
            self.con.execute("INSERT INTO docs (rowid, title, body) VALUES (?, ?, ?)", (n, doc["title"], doc["body"]))
            self.con.execute("INSERT INTO keys VALUES (?, ?)", (n, doc["id"]))
            self.con.executemany("INSERT INTO acl VALUES (?, ?)", [(n, t) for t in set(doc["acl"].split())])
        self.con.commit()
        return n

    def query(self, text: str, tokens: list[str], limit: int = 10) -> list[str]:
        words = [w for w in WORD_RE.findall(text.lower()) if w not in STOP_WORDS]
        if not words:
            return []
        match = " OR ".join('"' + w.replace('"', '') + '"' for w in words)
        marks = ",".join("?" * len(tokens))
        rows = self.con.execute(
            f"SELECT k.key FROM docs JOIN keys k ON k.rowid = docs.rowid WHERE docs MATCH ? AND EXISTS "
            f"(SELECT 1 FROM acl WHERE acl.doc = docs.rowid AND acl.token IN ({marks})) "
            f"ORDER BY bm25(docs) LIMIT ?", (match, *tokens, limit)).fetchall()
        return [r[0] for r in rows]


# --- measuring -----------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def rank_of(keys: list[str], wanted: str) -> int:
    return keys.index(wanted) + 1 if wanted in keys else 0


def run_queries(questions, engines: dict) -> dict:
    """Every engine on every question, interleaved question by question (the same machine load
    for each): seconds per question and reciprocal ranks (0 when not in the top 10)."""
    out = {name: {"times": [], "rr": [], "errors": 0} for name in engines}
    for engine in engines.values():  # warm caches once
        engine(questions[0][0])
    for question, key in questions:
        for name, engine in engines.items():
            started = time.perf_counter()
            try:
                keys = engine(question)
            except Exception as exc:  # noqa: BLE001 - a refused question counts as a miss, reported
                out[name]["errors"] += 1
                print(f"    {name} refused {question!r}: {exc}", flush=True)
                keys = []
            out[name]["times"].append(time.perf_counter() - started)
            r = rank_of(keys[:10], key)
            out[name]["rr"].append(1 / r if r else 0.0)
    return out


def measure(app, work: Path, n_posts: int, show: bool = True) -> dict:
    with app.app_context():
        index_dir = Path(app.config["INDEX_DIR"])
        if (index_dir / "complete").exists():
            count, reindex_s, reindex_cpu = search.doc_count(), 0.0, 0.0
        else:
            started, before = time.perf_counter(), os.times()
            count = search.reindex()
            # user + system of this process and of its finished children (the reindex processes)
            reindex_s, reindex_cpu = time.perf_counter() - started, sum(os.times()[:4]) - sum(before[:4])
            (index_dir / "complete").write_text(f"{count}\n")
        fts = Fts5()
        started = time.perf_counter()
        fts.load(documents.all_documents())
        fts_s = time.perf_counter() - started
        print(f"data: {n_posts} posts + articles = {count} documents", flush=True)
        if reindex_s:
            print(f"reindex (cairn.search.reindex): {count} docs in {reindex_s:.1f}s = {count / reindex_s:.0f} "
                  f"docs/s (CPU {reindex_cpu:.1f}s = {count / reindex_cpu:.0f} docs per CPU-second)   "
                  f"[FTS5 load: {count / fts_s:.0f} docs/s]   (target >= 5000 docs/s)", flush=True)
        else:
            print("reindex: skipped (index of an earlier run reused)", flush=True)
        searcher = db.session.scalar(select(User).where(User.email == "searcher@bench.example"))
        tokens = perm.search_tokens(searcher)
        questions = [(q, f"article:{i}") for q, i in faq_questions(work / "sections")]

        def cairn_search(q):
            page = search.query(searcher, q, limit=10)
            return [f"{item['kind']}:{item['id']}" for item in page.items]

        index = app.extensions["cairn.search"]

        def engine_search(q):  # ranking, ACL filter, threads shown once, snippets of one page
            hits, _ = index.search(parse(q), perm.search_tokens(searcher))
            seen, keys = set(), []
            for hit in hits:
                if hit["thread"] not in seen and len(keys) < 10:
                    seen.add(hit["thread"])
                    keys.append(hit["id"])
                    hit["snippet"]
            return keys

        res = run_queries(questions, {"query": cairn_search, "engine": engine_search,
                                      "fts": lambda q: fts.query(q, tokens)})
        res["after_commit"] = after_commit(index, searcher)
        db.session.remove()
    res.update(docs=count, reindex_s=reindex_s, fts_s=fts_s, questions=len(questions), tokens=tokens)
    if show:
        print(f"searcher ACL tokens {tokens}")
        f50, f95 = pct(res["fts"]["times"], 50), pct(res["fts"]["times"], 95)
        mf = statistics.mean(res["fts"]["rr"])
        print(f"FAQ questions: {len(questions)}")
        labels = {"query": "Cairn search.query     ", "engine": "Cairn Index.search only",
                  "fts": "FTS5 bm25() + ACL      "}
        for name, label in labels.items():
            times, rr = res[name]["times"], res[name]["rr"]
            p50, p95, mrr = pct(times, 50), pct(times, 95), statistics.mean(rr)
            ratios = "" if name == "fts" else (f"  | vs FTS5: p50 x{p50 / f50:.2f} p95 x{p95 / f95:.2f}"
                                               f" MRR x{mrr / mf if mf else 0:.2f}")
            print(f"{label} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  MRR@10 {mrr:.3f}"
                  f"  refused {res[name]['errors']}{ratios}")
        print("targets: search.query p95 ratio <= 1.0, MRR ratio >= 1.3")
        first, second = res["after_commit"]
        print(f"short query right after an index commit of one post ({len(first)} commits): p50 "
              f"{pct(first, 50) * 1000:.1f} ms  p95 {pct(first, 95) * 1000:.1f} ms  max {max(first) * 1000:.1f} ms"
              f"   | the same query again: p50 {pct(second, 50) * 1000:.1f} ms  p95 {pct(second, 95) * 1000:.1f} ms")
    return res


# Short queries (AND first, facets over every match): what the search box sends most
SHORT_QUERIES = ["read file", "unicode string", "thread lock", "list sort", "exception", "socket timeout",
                 "dict keys", "import module", "regular expression", "memory leak"]


def after_commit(index, searcher, commits: int = 20) -> tuple[list[float], list[float]]:
    """Seconds of a short ``search.query`` right after an index commit of one post (the post indexed
    again, as an edit does: a new segment and a deletion in an old one), and of the same query once
    more: every commit opens a new searcher, and what it must build again is paid by the next query."""
    post_ids = db.session.scalars(select(Post.id).order_by(Post.id).limit(commits)).all()
    first, second = [], []
    for n, post_id in enumerate(post_ids):
        index.upsert([documents.load_document("post", post_id)])
        q = SHORT_QUERIES[n % len(SHORT_QUERIES)]
        for times in (first, second):
            started = time.perf_counter()
            search.query(searcher, q, limit=10)
            times.append(time.perf_counter() - started)
    return first, second


# --- post -> searchable ---------------------------------------------------------------------------

def live(work: Path, db_file: Path, index_dir: Path, n_posts: int, rate: float) -> None:
    from celery import Celery

    live_db, live_index = work / "live.db", work / "live-index"
    shutil.rmtree(live_index, ignore_errors=True)
    live_db.unlink(missing_ok=True)
    with sqlite3.connect(db_file) as src, sqlite3.connect(live_db) as dst:
        src.backup(dst)
    shutil.copytree(index_dir, live_index)
    broker = RedisServer(work / "live-redis")
    procs = []
    log_path = work / "live-worker.log"
    try:
        url = broker.start()
        settings = {"database_url": f"sqlite:///{live_db}", "instance": str(work / "instance"),
                    "index_dir": str(live_index), "secret_key": "bench", "redis_url": url, "broker_url": url,
                    "celery_eager": False}
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        env.update({f"CAIRN_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()})
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
        name = f"bench-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        with open(log_path, "wb") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "default,index",
                 "-c", "1", "--pool", "solo", "--loglevel", "INFO", "-n", name, "--without-mingle",
                 "--without-gossip"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        control = Celery(broker=url)
        deadline = time.monotonic() + 60
        while not control.control.ping(destination=[name], timeout=0.5):
            if time.monotonic() > deadline or procs[-1].poll() is not None:
                raise SystemExit(f"the worker did not start:\n{log_path.read_text()}")
        control.close()
        app = create_app({**settings, "rate_limits": False})
        with app.app_context():
            author = db.session.scalar(select(User).where(User.email == "chat0@bench.example"))
            channel_id = db.session.scalar(select(Post.channel_id).order_by(Post.id).limit(1))
            index = app.extensions["cairn.search"]
            pending: dict[str, float] = {}
            delays: list[float] = []
            lock, done = threading.Lock(), threading.Event()

            def poll():  # a post is searchable once the reader's newest generation holds it (a term lookup,
                # so the poller does not take the CPU the index worker needs)
                while not done.is_set() or pending:
                    with lock:
                        waiting = dict(pending)
                    searcher = index.searcher()
                    seen = time.perf_counter()
                    for key, posted in waiting.items():
                        if searcher.document_number(id=key) is not None:
                            delays.append(seen - posted)
                            with lock:
                                pending.pop(key, None)
                    if time.perf_counter() > end_by:
                        break
                    time.sleep(0.02)

            end_by = time.perf_counter() + n_posts / rate + 60
            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            started = time.perf_counter()
            for i in range(n_posts):
                at = started + i / rate
                time.sleep(max(0.0, at - time.perf_counter()))
                posted = time.perf_counter()
                post = create_post(author, channel_id, f"live bench message {i} zq{uuid.uuid4().hex[:10]}")
                with lock:
                    pending[f"post:{post.id}"] = posted
            done.set()
            poller.join()
            db.session.remove()
        lost = n_posts - len(delays)
        print(f"post -> searchable ({n_posts} posts at {rate:g}/s, redis-server + celery worker): "
              f"p50 {pct(delays, 50) * 1000:.0f} ms  p95 {pct(delays, 95) * 1000:.0f} ms  max "
              f"{max(delays) * 1000:.0f} ms  not found in 60s: {lost}   (target p95 < 1000 ms)")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20000, help="posts in the main data set (issue: 100000)")
    parser.add_argument("--scale-posts", type=int, default=0,
                        help="also measure p95 with this many posts (issue: 1000000); 0 skips")
    parser.add_argument("--live-posts", type=int, default=100, help="posts for post -> searchable")
    parser.add_argument("--rate", type=float, default=20.0, help="posts per second for post -> searchable")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--workdir", default=str(Path.home() / ".cache" / "cairn-bench-search"))
    parser.add_argument("--reuse-index", action="store_true",
                        help="keep the last run's complete --posts index (query tuning): no reindex figure")
    parser.add_argument("--reuse-scale-index", action="store_true",
                        help="keep the last run's complete --scale-posts index")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    app, db_file, index_dir = prepare(work, args.posts, args.reuse_index)
    base = measure(app, work, args.posts)
    if args.scale_posts:
        big_app, _, _ = prepare(work, args.scale_posts, args.reuse_scale_index)
        print(f"--- scale: {args.scale_posts} posts")
        big = measure(big_app, work, args.scale_posts)
        p_small, p_big = pct(base["query"]["times"], 95), pct(big["query"]["times"], 95)
        print(f"scale    Cairn p95 {args.posts} posts {p_small * 1000:.1f} ms -> {args.scale_posts} posts "
              f"{p_big * 1000:.1f} ms: ratio {p_big / p_small:.2f}   (target <= 2.0)")
    if not args.skip_live:
        live(work, db_file, index_dir, args.live_posts, args.rate)


if __name__ == "__main__":
    main()
