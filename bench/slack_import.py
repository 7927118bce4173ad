"""`cairn import slack` speed: messages per second for the import, a re-run, and the indexing.

    python bench/slack_import.py [--messages 3000] [--database-url URL]

Builds an export from real conversations (tests/fixtures/make_slack_export.py, needs the test
extras), imports it into a fresh instance (SQLite unless --database-url names an empty
database), imports it again (nothing new), then indexes the batches as the index worker would.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import select

from cairn import create_app, search
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.outbox import OutboxEvent
from cairn.stream.slack_import import SlackExport, import_export
from tests.fixtures.make_slack_export import build_export


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.zip"
        facts = build_export(export, args.messages)
        app = create_app({"instance": f"{tmp}/instance", "index_dir": f"{tmp}/index", "secret_key": "bench",
                          "database_url": args.database_url or f"sqlite:///{tmp}/cairn.db",
                          "broker_url": "memory://"})  # no worker: the outbox keeps the index events
        with app.app_context():
            upgrade_database()
            first = import_export(SlackExport.open(export))
            again = import_export(SlackExport.open(export))
            events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "index")).all()
            started = time.monotonic()
            for event in events:
                search.sync_documents(event.payload["doc"], event.payload["ids"])
            indexing = time.monotonic() - started
            db.session.remove()
            db.engine.dispose()
    print(f"export: {facts.messages} messages, {facts.replies} replies, {facts.reactions} reactions")
    print(f"import:  {first.posts_created} posts in {first.seconds:.2f}s = {first.messages_per_second:.0f} messages/s")
    print(f"re-run:  {again.posts_existing} already there in {again.seconds:.2f}s = "
          f"{again.messages_per_second:.0f} messages/s")
    print(f"indexing ({len(events)} batches, as the index worker): {first.posts_created / indexing:.0f} posts/s")


if __name__ == "__main__":
    main()
