"""The data of bench/search.py, built once per size and kept in its --workdir: real chat messages
from ``chitchat-dataset`` as posts of five channels, the Debian ``python3.11-doc`` sections as
articles of three spaces (public, the searcher's group, another group), and the Python FAQ as the
relevance set (untitled answers; their questions are the queries). bench/reindex.py builds its
posts with the same ``insert_posts``."""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Table, insert, select, update

from cairn import create_app
from cairn.auth.actions import create_group, create_user, set_group_member
from cairn.auth.models import User
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.kb.actions import create_space
from cairn.kb.importer import import_documents
from cairn.kb.models import Article, Space
from cairn.stream.actions import create_channel
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
    """The dataset's conversations (the texts of their messages) in turn, without end: past its
    ~258k messages it starts again."""
    import chitchat_dataset

    data = chitchat_dataset.Dataset()
    while True:
        for key in sorted(data):
            texts = [u["text"].strip() for turn in data[key]["messages"] for u in turn if u["text"].strip()]
            if texts:
                yield texts


class Conversation(NamedTuple):
    number: int
    texts: list[str]
    posts: list[dict]  # its rows for the posts table, which a ``dress`` may change


Dress = Callable[[Conversation], dict[Table, list[dict]]]


def insert_posts(n_posts: int, user_ids: list[int], channel_ids: list[int], dress: Dress | None = None) -> None:
    """Bulk insert ``n_posts`` real chat messages (a conversation per channel in turn, every third
    one a thread), some reactions and accepted answers. ``dress``, given each conversation, may
    change its post rows and returns rows of other tables to insert after them (bench/reindex.py
    writes Markdown into posts, and articles from the same conversations)."""
    now = datetime.now(UTC).replace(microsecond=0)
    pending: dict[Table, list[dict]] = {Post.__table__: [], Reaction.__table__: [], ThreadAnswer.__table__: []}

    def flush():
        for table, rows in pending.items():
            if rows:
                db.session.execute(insert(table), rows)
                rows.clear()
        db.session.commit()

    next_id = 1
    for conv_no, texts in enumerate(conversations()):
        if next_id > n_posts:
            break
        channel = channel_ids[conv_no % len(channel_ids)]
        speakers = (user_ids[conv_no % len(user_ids)], user_ids[(conv_no * 7 + 3) % len(user_ids)])
        threaded = conv_no % 3 == 0
        root, posts = next_id, []
        for i, text in enumerate(texts):
            if next_id > n_posts:
                break
            created = now - timedelta(minutes=(n_posts - next_id) * 5)  # the newest is now
            posts.append({"id": next_id, "channel_id": channel, "author_id": speakers[i % 2],
                          "parent_id": root if threaded and i else None, "body": text[:4000],
                          "html": f"<p>{escape(text[:4000])}</p>", "created_at": created,
                          "reply_count": len(texts) - 1 if threaded and not i else 0, "view_count": 0})
            if next_id % 9 == 0:
                pending[Reaction.__table__].extend({"post_id": next_id, "user_id": user_ids[k], "emoji": EMOJI[k],
                                                    "created_at": created} for k in range(next_id % 4))
            if threaded and i == 1 and conv_no % 2 == 0:
                pending[ThreadAnswer.__table__].append({"root_id": root, "answer_id": next_id})
            next_id += 1
        extra = dress(Conversation(conv_no, texts, posts)) if dress else {}
        pending[Post.__table__].extend(posts)
        for table, rows in extra.items():
            pending.setdefault(table, []).extend(rows)
        if len(pending[Post.__table__]) >= 20000:
            flush()
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
