"""The `cairn` command: serve, init, seed, user, import, worker, beat, reindex (a Flask CLI group)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from cairn import create_app, search
from cairn.auth import actions as auth_actions
from cairn.auth.models import ROLES, User
from cairn.extensions import db
from cairn.kb.import_command import import_docs_command


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig(str(Path(__file__).parent / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def upgrade_database() -> None:
    Path(current_app.config["CAIRN"]["instance"]).mkdir(parents=True, exist_ok=True)
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        alembic_command.upgrade(cfg, "head")


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False,
             help="Cairn: an open stream, a governed knowledge base and one search.")
def main() -> None:
    pass


@main.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database (Alembic, to head) and the search index."""
    upgrade_database()
    search.doc_count()  # opens (and creates when missing) the index
    click.echo(f"Database ready: {_safe_url(current_app.config['DATABASE_URL'])}")
    click.echo(f"Search index ready: {current_app.config['INDEX_DIR']}")


@main.command("seed")
@click.option("--demo", is_flag=True, help="Load the demo channels, posts, spaces, articles and users.")
@with_appcontext
def seed_command(demo: bool) -> None:
    """Load demo content (once: a second run leaves existing data alone)."""
    from cairn.demo import load_demo

    if not demo:
        raise click.UsageError("Say what to seed: --demo.")
    upgrade_database()
    created = load_demo()
    if created:
        search.reindex()
    _print_logins(created)


def _print_logins(created: bool) -> None:
    from cairn.demo import DEMO_USERS

    click.echo("Demo content loaded." if created else "Demo content already present; reusing it.")
    click.echo("Logins:")
    for email, password, role, _ in DEMO_USERS:
        click.echo(f"  {role:8} {email:28} password: {password}")


@main.group("user")
def user_group() -> None:
    """Manage users."""


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--name", "display_name", default=None)
@with_appcontext
def user_create(email: str, password: str, role: str, display_name: str | None) -> None:
    """Create a user."""
    from cairn.errors import DomainError

    try:
        user = auth_actions.create_user(email, password, display_name, role)
    except DomainError as err:
        raise click.ClickException(f"{err.message} {err.fields or ''}".strip()) from None
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@main.group("import")
def import_group() -> None:
    """Import content from elsewhere (idempotent: a re-run creates nothing new)."""


import_group.add_command(import_docs_command, "docs")


@import_group.command("slack")
@click.argument("export", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch-size", default=500, show_default=True, help="Messages per transaction.")
@with_appcontext
def import_slack_command(export: str, batch_size: int) -> None:
    """Import a Slack workspace export (the .zip): users, channels, threads, reactions."""
    from cairn.stream.slack_import import SlackExport, import_export

    upgrade_database()
    try:
        data = SlackExport.open(export)
    except (ValueError, zipfile.BadZipFile) as err:
        raise click.ClickException(str(err)) from None
    with click.progressbar(length=data.message_count(), label="Importing Slack messages", show_pos=True) as bar:
        result = import_export(data, progress=bar.update, batch_size=batch_size)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(result.skipped.items())) or "none"
    click.echo(f"Users: {result.users_created} created, {result.users_matched} matched by e-mail. "
               f"Channels: {result.channels_created} created.")
    click.echo(f"Skipped: {skipped}. Already imported: {result.posts_existing}. "
               f"The index worker indexes the new posts.")
    click.echo(f"{result.posts_created} messages imported ({result.reactions_created} reactions) in "
               f"{result.seconds:.1f}s: {result.messages_per_second:.0f} messages/s")


@main.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database."""
    total = search.total_rows()
    with click.progressbar(length=total, label="Reindexing", show_pos=True) as bar:
        done = [0]

        def progress(n: int) -> None:
            bar.update(n - done[0])
            done[0] = n

        count = search.reindex(progress)
        bar.update(total - done[0])  # every row was read; deleted and hidden ones make no document
    click.echo(f"Indexed {count} documents from {total} rows.")


@main.command("score-candidates")
@with_appcontext
def score_candidates_command() -> None:
    """Score threads now and refresh the curators' candidate queue (beat does it every 30 min)."""
    from cairn.curation.candidates import score_candidates

    result = score_candidates()
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


def _celery_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.celery_app", *args]


@main.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--queues", "-Q", default="default,index", show_default=True)
@click.option("--concurrency", "-c", default=1, show_default=True)
@click.option("--beat", "-B", is_flag=True, help="Also run the periodic tasks in this worker.")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def worker_command(queues: str, concurrency: int, beat: bool, extra: tuple[str, ...]) -> None:
    """Run a Celery worker. Give the `index` queue exactly one consumer (Whoosh has one writer)."""
    argv = _celery_argv("worker", "-Q", queues, "-c", str(concurrency), "--loglevel", "INFO", *extra)
    if beat:
        argv.append("-B")
    os.execv(argv[0], argv)


@main.command("beat")
def beat_command() -> None:
    """Run the periodic-task scheduler (outbox redispatch, ...)."""
    argv = _celery_argv("beat", "--loglevel", "INFO")
    os.execv(argv[0], argv)


@main.command("serve")
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--demo/--no-demo", default=True, show_default=True, help="Load demo content on first run.")
@with_appcontext
def serve_command(port: int, host: str, demo: bool) -> None:
    """Run Cairn on the embedded default: web app plus one Celery worker, no Redis needed."""
    from cairn.demo import load_demo

    app = current_app._get_current_object()
    upgrade_database()
    if demo:
        if load_demo():
            search.reindex()
            _print_logins(True)
        else:
            _print_logins(False)
    elif not db.session.scalar(select(func.count()).select_from(User)):
        click.echo("No users yet: create one with `cairn user create --email … --password … --role admin`.")
    env = {**os.environ, "CAIRN_INSTANCE": app.config["CAIRN"]["instance"]}
    worker = subprocess.Popen(
        _celery_argv("worker", "-Q", "default,index", "-c", "1", "--pool", "solo", "-B",
                     "--loglevel", "WARNING"), env=env)
    click.echo(f"Celery worker started (pid {worker.pid}, broker {app.config['CAIRN']['broker_url']}).")
    click.echo(f"Cairn is running at http://{host}:{port}/  (Ctrl+C stops it)")
    try:
        # app.run() is a no-op inside a Flask CLI command; serve with werkzeug directly
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
