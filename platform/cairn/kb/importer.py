"""Importing a folder of documents (Markdown, reStructuredText, HTML) as articles of a space.

Idempotent: each file is matched to its article by its path relative to the folder
(``Article.import_key``); a re-run creates nothing, and a changed file adds exactly one revision
(``Article.import_hash`` is the hash of the file's bytes and the converter's version, so an
unchanged file is not even converted again).

Converting reStructuredText with docutils is the slow part (a large page takes a good fraction of
a second), so many files are converted in a pool of processes while this process writes them to
the database, one transaction per file, in path order.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from cairn import audit
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import DomainError, Forbidden, Invalid, NotFound
from cairn.extensions import db
from cairn.kb.actions import check_article_fields, draft_article, save_revision
from cairn.kb.convert import html_to_markdown, markdown_title, rst_to_markdown
from cairn.kb.models import Article, Space
from cairn.models_base import utcnow

MARKDOWN = (".md", ".markdown")
RESTRUCTURED = (".rst", ".rst.txt", ".txt")
HTML = (".html", ".htm")
SUFFIXES = MARKDOWN + RESTRUCTURED + HTML
IMPORT_STATUSES = ("published", "draft")
# bump when conversion changes: every file is then converted (and revised) again
CONVERTER_VERSION = "1"
POOL_THRESHOLD = 16  # fewer files than this are converted in-process


@dataclass
class ImportReport:
    files: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def find_documents(root: Path) -> list[Path]:
    """Every importable file under ``root`` (hidden files and folders skipped), in path order."""
    if root.is_file():
        return [root] if root.name.lower().endswith(SUFFIXES) else []
    if not root.is_dir():
        raise NotFound(f"No folder {root}.")
    found = [p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def convert_document(path: Path, text: str) -> tuple[str, str]:
    """(title, Markdown body): the first heading, else the file name without its suffix."""
    name = path.name.lower()
    if name.endswith(HTML):
        title, body = html_to_markdown(text)
    elif name.endswith(RESTRUCTURED):
        title, body = rst_to_markdown(text)
    else:
        title, body = markdown_title(text)
    return (title or _stem(path))[:200].strip() or path.name[:200], body


def _stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def find_import_space(name: str) -> Space:
    space = db.session.scalar(select(Space).where(func.lower(Space.name) == name.strip().lower()))
    if space is None:
        raise NotFound(f"No space named {name!r}.")
    return space


def find_import_owner(email: str | None) -> User:
    """The user named by ``email``, else the first active admin."""
    if email:
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    else:
        user = db.session.scalar(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    if user is None or not user.active:
        raise NotFound(f"No active user {email}." if email else "No active admin to own the articles: pass --owner.")
    return user


def source_digest(raw: bytes) -> str:
    return hashlib.sha256(CONVERTER_VERSION.encode() + b"\0" + raw).hexdigest()


def convert_file(path: Path) -> tuple[str, str]:
    """Read and convert one file (runs in a worker process for large imports)."""
    title, body = convert_document(path, path.read_bytes().decode("utf-8", errors="replace"))
    return title, body.replace("\x00", "")


def import_documents(root: Path, space_name: str, owner_email: str | None = None, status: str = "published",
                     progress: Callable[[Path], None] | None = None, files: list[Path] | None = None,
                     processes: int | None = None) -> ImportReport:
    """Import ``files`` (default: every document under ``root``) into the named space."""
    if status not in IMPORT_STATUSES:
        raise Invalid("Imported articles are published or drafts.", {"status": list(IMPORT_STATUSES)})
    started = time.perf_counter()
    space, owner = find_import_space(space_name), find_import_owner(owner_email)
    if not perm.can_create_article(owner, space):
        raise Forbidden(f"{owner.email} cannot write in the space {space.name!r}.")
    files = find_documents(root) if files is None else files
    report = ImportReport(files=len(files))
    base = root if root.is_dir() else root.parent
    known = dict(db.session.execute(select(Article.import_key, Article.import_hash).where(
        Article.space_id == space.id, Article.import_key.is_not(None))).all())
    db.session.rollback()
    todo: list[tuple[Path, str, str]] = []
    for path in files:
        key = path.relative_to(base).as_posix()
        try:
            digest = source_digest(path.read_bytes())
        except OSError as err:
            report.failed.append((key, str(err)))
            continue
        if known.get(key) == digest:
            report.unchanged += 1
            if progress:
                progress(path)
        else:
            todo.append((path, key, digest))
    for (path, key, digest), converted in zip(todo, _convert_all([p for p, _, _ in todo], processes)):
        try:
            if isinstance(converted, Exception):
                raise converted
            outcome = import_document(space.id, owner.id, key, digest, *converted, status)
        except (DomainError, OSError, ValueError) as err:
            report.failed.append((key, getattr(err, "message", None) or str(err)))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if progress:
            progress(path)
    report.seconds = time.perf_counter() - started
    with db.transaction() as s:
        audit.record(s, owner.id, "space.import", f"space:{space.id}", folder=str(root), files=report.files,
                     created=report.created, updated=report.updated, unchanged=report.unchanged,
                     failed=len(report.failed))
    return report


def _convert_safely(path: Path) -> tuple[str, str] | Exception:
    try:
        return convert_file(path)
    except Exception as err:  # noqa: BLE001 - a malformed file fails alone, reported by name
        return ValueError(f"could not convert: {err}")


def _convert_all(paths: list[Path], processes: int | None) -> Iterator[tuple[str, str] | Exception]:
    """Converted files in order; in a process pool when there are many ("spawn": the workers
    share nothing with this process's database connections)."""
    processes = processes or os.cpu_count() or 1
    if processes <= 1 or len(paths) < POOL_THRESHOLD:
        yield from map(_convert_safely, paths)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        yield from pool.map(_convert_safely, paths, chunksize=4)


def import_document(space_id: int, owner_id: int, key: str, digest: str, title: str, body: str,
                    status: str) -> str:
    """Create or update one article from one converted file: returns created | updated | unchanged."""
    limit = current_app.config["MAX_BODY_CHARS"]
    if len(body) > limit:
        raise Invalid(f"too long: {len(body)} characters (max_body_chars is {limit})")
    check_article_fields(title, body)
    with db.transaction() as s:
        space, owner = s.get(Space, space_id), s.get(User, owner_id)
        article = s.scalar(select(Article).where(Article.space_id == space_id, Article.import_key == key))
        if article is None:
            article = draft_article(s, owner, space, title, body, status=status, note=f"Imported from {key}")
            article.import_key, article.import_hash = key, digest
            if status == "published":
                article.published_at = article.verified_at = utcnow()
            audit.record(s, owner.id, "article.import", f"article:{article.id}", key=key)
            return "created"
        if article.import_hash == digest:
            return "unchanged"
        article.import_hash = digest
        if (article.title, article.body) == (title, body):
            return "unchanged"  # the file changed in a way the article does not show (whitespace, markup)
        save_revision(s, owner, article, title=title, body=body, note=f"Re-imported from {key}")
        audit.record(s, owner.id, "article.import", f"article:{article.id}", key=key, revision=article.revision)
        return "updated"
