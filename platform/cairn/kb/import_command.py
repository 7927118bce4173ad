"""`cairn import docs PATH --space NAME`: the command-line face of cairn.kb.importer."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from cairn.errors import DomainError
from cairn.kb import importer


@click.command("docs")
@click.argument("path", type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path))
@click.option("--space", "space_name", required=True, help="Name of the space to import into.")
@click.option("--owner", "owner_email", default=None, help="E-mail of the owner (default: the first admin).")
@click.option("--status", type=click.Choice(importer.IMPORT_STATUSES), default="published", show_default=True)
@with_appcontext
def import_docs_command(path: Path, space_name: str, owner_email: str | None, status: str) -> None:
    """Import a folder of Markdown, reStructuredText and HTML files as articles (idempotent)."""
    try:
        files = importer.find_documents(path)
        with click.progressbar(length=len(files), label="Importing", show_pos=True,
                               item_show_func=lambda p: p.name if p else None) as bar:
            def advance(p: Path) -> None:
                bar.update(1, p)

            report = importer.import_documents(path, space_name, owner_email, status, progress=advance,
                                               files=files)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"{report.files} files in {report.seconds:.1f} s ({report.per_second:.1f} files/s): "
               f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.failed)} failed.")
    for key, reason in report.failed[:20]:
        click.echo(f"  failed: {key}: {reason}", err=True)
    if len(report.failed) > 20:
        click.echo(f"  ... and {len(report.failed) - 20} more", err=True)
