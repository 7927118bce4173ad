"""`cairn import slack` on an export built from real conversations (tests/fixtures/make_slack_export.py)."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from cairn import search
from cairn.auth.actions import authenticate, handle_for
from cairn.auth.models import User
from cairn.cli import main
from cairn.extensions import db
from cairn.stream import slack_import
from cairn.stream.models import Channel, Mention, Post, Reaction
from cairn.stream.slack_import import SlackExport, import_export
from cairn.stream.slack_markup import emoji_for, to_markdown
from tests import factories as f
from tests.fixtures.make_slack_export import USERS, ExportFacts, build_export


@pytest.fixture(scope="session")
def export(tmp_path_factory) -> tuple[str, ExportFacts]:
    pytest.importorskip("chitchat_dataset", reason="pip install -e '.[test]' brings chitchat-dataset")
    path = tmp_path_factory.mktemp("slack") / "export.zip"
    return str(path), build_export(path, messages=300)


def run_import(path: str, **kwargs):
    result = import_export(SlackExport.open(path), **kwargs)
    db.session.rollback()
    return result


def by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def channel(name: str) -> Channel:
    return db.session.scalar(select(Channel).where(Channel.name == name))


def test_users_are_matched_by_email_or_created_without_a_usable_password(people, export):
    result = run_import(export[0])
    assert (result.users_matched, result.users_created) == (1, len(USERS) - 1 + 1)  # + the deploy bot
    milo = by_email("member@example.com")
    assert milo.id == people.member.id and milo.external_id == "slack:U05MILO"
    alice = by_email("alice@example.org")
    assert (alice.display_name, alice.external_id, alice.active) == ("Alice Andersen", "slack:U01ALICE", True)
    assert authenticate("alice@example.org", "anything at all") is None
    assert by_email("david@slack.invalid").display_name == "David Dube"  # no e-mail in the export
    bot = db.session.scalar(select(User).where(User.external_id == "slack:bot-B01DEPLOY"))
    assert bot.display_name == "deploybot" and not bot.active


def test_channels_keep_their_topic_privacy_and_members(people, export):
    f.channel(people.admin, "general")  # the name is taken here already
    run_import(export[0])
    imported = channel("general-slack")
    assert imported.external_id == "slack:C01GENERAL" and imported.topic == "Company-wide chatter"
    assert channel("general").external_id is None  # the existing channel is left alone
    leads = channel("leads")
    assert leads.private and {u.email for u in leads.members} == {
        "alice@example.org", "boris@example.org", "esra@example.org"}
    assert channel("support").topic == "Ask for help here"


def test_messages_threads_reactions_and_timestamps_come_across(people, export):
    path, facts = export
    result = run_import(path)
    posts = db.session.scalars(select(Post).where(Post.external_id.is_not(None))).all()
    assert len(posts) == result.posts_created == facts.messages
    assert result.skipped == {"channel_join": facts.joins}
    replies = [p for p in posts if p.parent_id is not None]
    assert len(replies) == facts.replies and result.orphan_replies == 0
    by_id = {p.id: p for p in posts}
    assert all(by_id[r.parent_id].parent_id is None and by_id[r.parent_id].channel_id == r.channel_id
               and by_id[r.parent_id].created_at < r.created_at for r in replies)
    root = next(p for p in posts if p.body == facts.thread_root_text)
    assert root.reply_count == facts.thread_replies
    assert {c: n for c, n in db.session.execute(
        select(Channel.name, func.count(Post.id)).join(Post).group_by(Channel.name))} == facts.per_channel
    first = db.session.scalar(select(Post).where(Post.external_id == f"slack:C02RANDOM:{facts.first_ts['random']}"))
    assert first.created_at.timestamp() == pytest.approx(float(facts.first_ts["random"]), abs=1e-6)
    assert result.reactions_created == facts.reactions == f.count(Reaction)
    assert set(db.session.scalars(select(Reaction.emoji).distinct())) <= {
        "👍", "😂", "🎉", "❤️", "👀", "partyparrot", "👋", "✅"}


def test_slack_markup_becomes_markdown_with_mentions(people, export):
    path, facts = export
    run_import(path)
    mention = re.match(r"<@(U\w+)>", facts.linked_text).group(1)
    mentioned = db.session.scalar(select(User).where(User.external_id == f"slack:{mention}"))
    post = db.session.scalar(select(Post).where(Post.body.like(f"@{handle_for(mentioned)} **%")))
    assert post is not None, facts.linked_text
    assert "[the FAQ](https://example.org/faq?a=1&b=2)" in post.body and post.body.endswith("#general")
    assert '<a href="https://example.org/faq?a=1&amp;b=2"' in post.html and "<strong>" in post.html
    assert db.session.scalar(select(Mention.user_id).where(Mention.post_id == post.id)) == mentioned.id
    bot_post = db.session.scalar(select(Post).join(User, User.id == Post.author_id)
                                 .where(User.external_id == "slack:bot-B01DEPLOY"))
    assert bot_post.body == "Deploy of **cairn** finished & healthy"


def test_running_the_import_again_creates_nothing(people, export):
    path, facts = export
    run_import(path)
    before = f.counts()
    again = run_import(path)
    after = f.counts()
    assert after.pop("AuditEvent") == before.pop("AuditEvent") + 1  # the run itself is audited
    assert after == before
    assert (again.posts_created, again.users_created, again.channels_created, again.reactions_created) == (0, 0, 0, 0)
    assert again.posts_existing == facts.messages


def test_an_interrupted_import_resumes_where_it_stopped(people, export):
    path, facts = export
    batches = []

    def stop_after_two(n: int) -> None:
        batches.append(n)
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(path, progress=stop_after_two, batch_size=100)
    db.session.rollback()
    assert 0 < f.count(Post) < facts.messages
    result = run_import(path, batch_size=100)
    assert f.count(Post) == facts.messages
    assert result.posts_created + result.posts_existing == facts.messages
    assert len(set(db.session.scalars(select(Post.external_id)))) == facts.messages


def test_imported_posts_are_searchable_and_private_channels_stay_private(people, export):
    path, facts = export
    run_import(path)
    words = sorted(set(re.findall(r"[A-Za-z]{5,}", facts.private_text)), key=len, reverse=True)[:3]
    query = " ".join(words)
    alice = by_email("alice@example.org")  # a member of #leads in Slack
    assert "#leads" in [hit["container"] for hit in search.query(alice, query).items]
    for outsider in (people.member, people.admin):
        assert "#leads" not in [hit["container"] for hit in search.query(outsider, query).items]
    root_words = " ".join(sorted(set(re.findall(r"[A-Za-z]{4,}", facts.thread_root_text)), key=len)[-2:])
    assert search.query(people.member, root_words).total >= 1


def test_cli_shows_progress_and_the_import_speed(app, people, export):
    path, facts = export
    runner = CliRunner()
    started = time.monotonic()
    out = runner.invoke(main, ["import", "slack", path], obj=ScriptInfo(create_app=lambda: app))
    assert out.exit_code == 0, out.output
    assert "Importing Slack messages" in out.output
    assert f"{facts.messages} messages imported" in out.output
    speed = re.search(r"([\d.]+) messages/s", out.output)
    assert speed and float(speed.group(1)) > 0
    print(f"\nslack import: {out.output.strip().splitlines()[-1]} (wall {time.monotonic() - started:.1f}s)")


@pytest.mark.parametrize("slack, markdown", [
    ("<@U1> hi", "@ada hi"),
    ("<@U9|gone> hi", "@gone hi"),
    ("see <#C1|general> and <#C2>", "see #general and #C2"),
    ("<https://x.org/a|the docs> &amp; <https://x.org/b>", "[the docs](https://x.org/a) & <https://x.org/b>"),
    ("<https://x.org/a(b)|a [b]>", "[a \\[b\\]](<https://x.org/a(b)>)"),
    ("*bold* and _it_ and ~gone~", "**bold** and _it_ and ~~gone~~"),
    ("2*3*4 stays", "2*3*4 stays"),
    ("`<@U1> *x*` kept", "`@U1 *x*` kept"),
    ("<!here> &lt;script&gt;", "@here <script>"),
    ("# of people", "\\# of people"),
    ("<!subteam^S1|@oncall> ping", "@oncall ping"),
])
def test_slack_markup_conversion(slack, markdown):
    assert to_markdown(slack, {"U1": "ada"}, {"C1": "general"}) == markdown


@pytest.mark.parametrize("name, stored", [
    ("+1", "👍"), ("thumbsup", "👍"), ("+1::skin-tone-4", "👍"), ("tada", "🎉"), ("partyparrot", "partyparrot"),
    ("white_check_mark", "✅"), ("Bad Name!", None),
])
def test_slack_reaction_names(name, stored):
    assert emoji_for(name) == stored


def test_a_zip_without_users_json_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "not-slack.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a Slack export"):
        slack_import.SlackExport.open(path)
