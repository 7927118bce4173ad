"""Importing a folder of Markdown, reStructuredText and HTML files as articles: conversion,
idempotency (a re-run creates nothing; a changed file adds exactly one revision), bad input, and
the `cairn import docs` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cairn.audit import AuditEvent
from cairn.cli import main as cairn_cli
from cairn.errors import NotFound
from cairn.extensions import db
from cairn.kb import actions, importer
from cairn.kb.convert import html_to_markdown, markdown_title, rst_to_markdown
from cairn.kb.models import Article, ArticleRevision
from tests import factories as f

VPN_MD = """# Connect to the VPN

1. Install the client.
2. Run `vpn up`.
"""

BACKUP_RST = """Restoring a backup
==================

Backups run nightly. Use :command:`restore` with the :ref:`snapshot id <snapshots>`.

.. code-block:: shell

   restore --id 42

.. note::

   Restores take a few minutes.

Verify it
---------

* check the row counts
* tell the team
"""

ONCALL_HTML = """<!doctype html><html><head><title>On-call | Wiki</title><style>p{}</style></head>
<body><nav>Home</nav><h1>On-call handbook</h1><p>Page the <strong>primary</strong> first, see
<a href="https://status.example.com">status</a>.</p><ul><li>Acknowledge</li><li>Escalate</li></ul>
<script>alert("x")</script><table><tr><th>Tier</th><th>Time</th></tr><tr><td>1</td><td>5 min</td></tr></table>
</body></html>"""


@pytest.fixture
def docs(tmp_path) -> Path:
    root = tmp_path / "docs"
    (root / "ops").mkdir(parents=True)
    (root / "vpn.md").write_text(VPN_MD)
    (root / "ops" / "backup.rst").write_text(BACKUP_RST)
    (root / "ops" / "oncall.html").write_text(ONCALL_HTML)
    (root / "notes.txt").write_text("Just a plain note without a heading.\n")
    (root / "ops" / "image.png").write_bytes(b"\x89PNG")       # not a document
    (root / ".git").mkdir()
    (root / ".git" / "HEAD.md").write_text("# hidden\n")       # hidden folders are skipped
    return root


@pytest.fixture
def handbook(people):
    return f.space(people.curator, "Handbook")


def _by_key() -> dict[str, Article]:
    db.session.rollback()
    return {a.import_key: a for a in db.session.scalars(select(Article))}


# --- conversion ---------------------------------------------------------------------------------

def test_markdown_keeps_its_text_and_its_first_heading_becomes_the_title():
    assert markdown_title(VPN_MD) == ("Connect to the VPN", "1. Install the client.\n2. Run `vpn up`.\n")
    assert markdown_title("Setext title\n============\n\nbody\n") == ("Setext title", "body\n")
    assert markdown_title("no heading\n") == (None, "no heading\n")


def test_restructuredtext_becomes_markdown_with_sphinx_roles_and_directives_kept():
    title, body = rst_to_markdown(BACKUP_RST)
    assert title == "Restoring a backup"
    assert "`restore`" in body and "*snapshot id*" in body
    assert "```\nrestore --id 42\n```" in body
    assert "Restores take a few minutes." in body
    assert "## Verify it" in body or "# Verify it" in body
    assert "- check the row counts" in body


def test_html_becomes_markdown_without_scripts_styles_or_the_title_heading():
    title, body = html_to_markdown(ONCALL_HTML)
    assert title == "On-call handbook"
    assert "**primary**" in body and "[status](https://status.example.com)" in body
    assert "- Acknowledge\n- Escalate" in body and "| Tier | Time |" in body
    assert "alert" not in body and "p{}" not in body and "On-call handbook" not in body


def test_html_without_a_heading_takes_the_page_title():
    assert html_to_markdown("<title>Only &amp; title</title><p>x</p>")[0] == "Only & title"


# --- importing ----------------------------------------------------------------------------------

def test_a_folder_is_imported_as_published_articles_owned_by_the_first_admin(people, handbook, docs):
    report = importer.import_documents(docs, "handbook")
    assert (report.files, report.created, report.updated, report.unchanged, report.failed) == (4, 4, 0, 0, [])
    arts = _by_key()
    assert set(arts) == {"vpn.md", "ops/backup.rst", "ops/oncall.html", "notes.txt"}
    assert arts["vpn.md"].title == "Connect to the VPN" and arts["notes.txt"].title == "notes"
    assert {a.status for a in arts.values()} == {"published"}
    assert {a.owner_id for a in arts.values()} == {people.admin.id}
    assert all(a.verified_at is not None for a in arts.values())
    assert actions.verification_state(arts["vpn.md"]) == "verified"
    summary = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "space.import"))
    assert summary.data["created"] == 4 and summary.target == f"space:{handbook.id}"


def test_reimporting_an_unchanged_folder_creates_nothing(people, handbook, docs):
    importer.import_documents(docs, "Handbook")
    before = f.counts()
    report = importer.import_documents(docs, "Handbook")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    after = f.counts()
    assert after.pop("AuditEvent") == before.pop("AuditEvent") + 1  # only the run's summary
    assert after == before


def test_a_changed_file_adds_exactly_one_new_revision(people, handbook, docs):
    importer.import_documents(docs, "Handbook")
    (docs / "vpn.md").write_text(VPN_MD + "3. Check `vpn status`.\n")
    report = importer.import_documents(docs, "Handbook")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    art = _by_key()["vpn.md"]
    revs = db.session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == art.id)
                              .order_by(ArticleRevision.number)).all()
    assert [(r.number, r.note) for r in revs] == [(1, "Imported from vpn.md"), (2, "Re-imported from vpn.md")]
    assert "vpn status" in art.body and art.revision == 2
    assert importer.import_documents(docs, "Handbook").updated == 0


def test_drafts_and_a_named_owner_are_possible(people, handbook, docs):
    importer.import_documents(docs, "Handbook", owner_email="MEMBER@example.com", status="draft")
    arts = _by_key().values()
    assert {a.status for a in arts} == {"draft"} and {a.owner_id for a in arts} == {people.member.id}


def test_an_unknown_space_or_owner_is_not_found_and_nothing_is_written(people, handbook, docs):
    before = f.counts()
    with pytest.raises(NotFound):
        importer.import_documents(docs, "Nowhere")
    with pytest.raises(NotFound):
        importer.import_documents(docs, "Handbook", owner_email="ghost@example.com")
    assert f.counts() == before


def test_a_file_too_long_for_an_article_is_reported_and_the_rest_imported(app, people, handbook, docs):
    (docs / "huge.md").write_text("# Huge\n" + "x" * (app.config["MAX_BODY_CHARS"] + 10))
    report = importer.import_documents(docs, "Handbook")
    assert report.created == 4 and [key for key, _ in report.failed] == ["huge.md"]


def test_the_import_command_shows_progress_and_is_idempotent(app, people, handbook, docs):
    runner = app.test_cli_runner()
    first = runner.invoke(cairn_cli, ["import", "docs", str(docs), "--space", "Handbook"])
    assert first.exit_code == 0, first.output
    assert "4 created, 0 updated, 0 unchanged, 0 failed" in first.output and "files/s" in first.output
    again = runner.invoke(cairn_cli, ["import", "docs", str(docs), "--space", "Handbook"])
    assert "0 created, 0 updated, 4 unchanged" in again.output
    missing = runner.invoke(cairn_cli, ["import", "docs", str(docs), "--space", "Nowhere"])
    assert missing.exit_code != 0 and "No space named 'Nowhere'" in missing.output


def test_large_imports_convert_in_a_process_pool_with_the_same_result(people, handbook, docs, monkeypatch):
    monkeypatch.setattr(importer, "POOL_THRESHOLD", 2)
    report = importer.import_documents(docs, "Handbook", processes=2)
    assert (report.created, report.failed) == (4, [])
    assert _by_key()["ops/backup.rst"].title == "Restoring a backup"


def test_a_file_whose_bytes_change_but_not_its_article_adds_no_revision(people, handbook, docs):
    importer.import_documents(docs, "Handbook")
    (docs / "vpn.md").write_text(VPN_MD + "\n\n\n")  # trailing blank lines: same article
    report = importer.import_documents(docs, "Handbook")
    assert (report.updated, report.unchanged) == (0, 4)
    assert _by_key()["vpn.md"].revision == 1
