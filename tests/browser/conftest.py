"""A real Cairn server and a real Chromium for browser tests.

The server runs in a thread on a free port against its own SQLite file and search index, with
Celery in eager mode, so a promotion completes inside the request that asks for it. Screenshots
go to artifacts/screenshots/<test>/<NN>-<who>-<step>.png (gitignored); CAIRN_ARTIFACTS names
another folder for artifacts/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from cairn import create_app
from cairn.auth import actions as auth
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.stream import actions as stream

CHROMIUM = Path(os.environ.get("CAIRN_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("CAIRN_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts")
SCREENSHOTS = ARTIFACTS / "screenshots"
_shot_numbers: dict[str, int] = {}  # per test, across its sessions: the files sort in the order taken
PASSWORD = "browser-pass-2026"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

SKIP_REASON = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set CAIRN_CHROMIUM)"


@dataclass
class World:
    """What the server was seeded with: ids and e-mail addresses the tests need."""

    url: str
    app: object
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def _seed(world: World) -> None:
    admin = auth.create_user("ada@example.com", PASSWORD, "Ada Admin", "admin")
    curator = auth.create_user("carla@example.com", PASSWORD, "Carla Curator", "curator")
    member = auth.create_user("milo@example.com", PASSWORD, "Milo Member", "member")
    other = auth.create_user("olga@example.com", PASSWORD, "Olga Other", "member")
    everyone = [admin.id, curator.id, member.id, other.id]
    engineering = stream.create_channel(admin, "engineering", "Builds, deploys, code review", False, everyone)
    leads = stream.create_channel(admin, "leads-only", "Private: leads only", True, [admin.id, curator.id])
    stream.create_post(admin, leads.id, "The reorganisation plan is confidential until Monday.")
    handbook = kb.create_space(curator, "Handbook", "How we work.")
    world.emails = {"admin": admin.email, "curator": curator.email, "member": member.email, "other": other.email}
    world.ids = {"engineering": engineering.id, "leads": leads.id, "handbook": handbook.id,
                 "curator": curator.id, "member": member.id}


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # keep pytest's output to the failures
        pass


def serve_world(settings: dict) -> Iterator[World]:
    """A migrated, seeded app on ``settings``, served over HTTP on a free port until closed."""
    app = create_app(dict(settings))
    with app.app_context():
        from cairn.cli import upgrade_database

        upgrade_database()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    world = World(url=f"http://127.0.0.1:{server.server_port}", app=app)
    with app.app_context():
        _seed(world)
        db.session.remove()
    thread = threading.Thread(target=server.serve_forever, name="cairn-browser-test-server", daemon=True)
    thread.start()
    try:
        yield world
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["cairn.live"].close()  # a Redis listener would outlive the test's Redis
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    yield from serve_world({
        "database_url": f"sqlite:///{tmp_path / 'cairn.db'}",
        "instance": str(tmp_path / "instance"),
        "index_dir": str(tmp_path / "index"),
        "secret_key": "browser-test-secret",
        "celery_eager": True,
        "rate_limits": False,
    })


class Session:
    """One person at one browser: a page that fails loudly on script errors, CSP violations and dialogs."""

    def __init__(self, browser, world: World, who: str, test_name: str, **context_options) -> None:
        self.world, self.who, self.test_name = world, who, test_name
        self.context = browser.new_context(**{"viewport": {"width": 1280, "height": 860}, **context_options})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("dialog", self._dialog)

    def _console(self, message) -> None:
        # a page answered with an error status is reported by _response, and only for sub-resources
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    def _dialog(self, dialog) -> None:
        self.problems.append(f"a {dialog.type} dialog opened: {dialog.message!r}")
        dialog.dismiss()

    def goto(self, path: str) -> None:
        self.page.goto(self.world.url + path)

    def log_in(self) -> None:
        self.goto("/login")
        self.page.get_by_label("E-mail").fill(self.world.emails[self.who])
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(lambda url: "/login" not in url)

    def send(self, label: str, text: str) -> None:
        """Write in the composer labelled ``label`` and send with Ctrl+Enter, once composer.js has set
        it up: right after a navigation the textarea can be there before the script has run."""
        from playwright.sync_api import expect

        composer = self.page.get_by_label(label, exact=True)
        expect(composer).to_have_attribute("data-composer-ready", "true")
        composer.fill(text)
        composer.press("Control+Enter")

    def shot(self, name: str) -> Path:
        folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", self.test_name)
        folder.mkdir(parents=True, exist_ok=True)
        number = _shot_numbers[self.test_name] = _shot_numbers.get(self.test_name, 0) + 1
        if number == 1:  # a fresh set: no pictures left over from an earlier run of the test
            for old in folder.glob("*.png"):
                old.unlink()
        path = folder / f"{number:02d}-{self.who}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_session(browser, world, request):
    """open_session(who) -> a logged-in Session; at teardown, any script error or dialog fails the test."""
    sessions: list[Session] = []

    def make(who: str, log_in: bool = True, **context_options) -> Session:
        session = Session(browser, world, who, request.node.name, **context_options)
        sessions.append(session)
        if log_in:
            session.log_in()
        return session

    yield make
    problems = [f"{s.who}: {p}" for s in sessions for p in s.problems]
    for s in sessions:
        s.close()
    assert not problems, "\n".join(problems)
