"""`cairn import slack EXPORT.zip`: a Slack workspace export into users, channels, threads, reactions.

Reads the standard export: ``users.json``, ``channels.json`` (public), ``groups.json`` (private),
and one folder of daily files per channel (``general/2024-01-31.json``). Direct messages
(``dms.json``, ``mpims.json``) are not imported: Cairn has no direct messages.

- users: matched by e-mail (case-insensitive), else created with an unusable password (an admin
  sets one) and marked inactive when Slack says deleted or bot;
- channels: always new Cairn channels (a name already taken gets ``-slack``), members kept;
- messages: oldest first, original timestamps, ``thread_ts`` replies under their root, reactions
  per user, ``<@U1>`` as ``@handle`` (a Mention row, no notification for old news);
- idempotent: users, channels and posts keep their Slack id in ``external_id``; a re-run creates
  only what is missing (a batch either commits whole or not at all);
- bulk: one transaction and one outbox event per batch of messages (``index`` with ``ids``): the
  index worker indexes the whole batch in one commit.
"""

from __future__ import annotations

import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from cairn import audit, outbox
from cairn.auth.actions import handle_for
from cairn.auth.models import User
from cairn.extensions import db
from cairn.stream.actions import CHANNEL_NAME_RE
from cairn.stream.models import Channel, Mention, Post, Reaction, channel_members
from cairn.stream.slack_markup import emoji_for, mentioned_ids, to_markdown
from cairn.text import render_markdown

UNUSABLE_PASSWORD = "!slack-import"  # not a werkzeug hash: no password ever matches it
SKIPPED_SUBTYPES = frozenset({
    "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
    "channel_archive", "channel_unarchive", "group_join", "group_leave", "group_topic",
    "group_purpose", "group_name", "group_archive", "group_unarchive", "pinned_item",
    "unpinned_item", "bot_add", "bot_remove", "reminder_add", "sh_room_created",
})
DAY_FILE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")


@dataclass
class SlackExport:
    """An export zip: its users, its channels (``private`` set for groups.json), its day files."""

    archive: zipfile.ZipFile
    users: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    day_files: dict[str, list[str]]  # channel folder -> zip member names, in date order

    @classmethod
    def open(cls, path: str | Path) -> SlackExport:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
        users_json = min((n for n in names if PurePosixPath(n).name == "users.json"), key=len, default=None)
        if users_json is None:
            raise ValueError(f"{path} is not a Slack export: no users.json")
        root = str(PurePosixPath(users_json).parent).strip(".")
        prefix = f"{root}/" if root else ""

        def load(name: str) -> list:
            return json.loads(archive.read(prefix + name)) if prefix + name in names else []

        channels = [{**c, "private": False} for c in load("channels.json")]
        channels += [{**c, "private": True} for c in load("groups.json")]
        day_files: dict[str, list[str]] = {}
        for name in names:
            path_in = PurePosixPath(name[len(prefix):])
            if len(path_in.parts) == 2 and DAY_FILE_RE.match(path_in.name) and name.startswith(prefix):
                day_files.setdefault(path_in.parts[0], []).append(name)
        for files in day_files.values():
            files.sort()
        return cls(archive, load("users.json"), channels, day_files)

    def messages(self, channel: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for name in self.day_files.get(channel["name"], []):
            yield from sorted(json.loads(self.archive.read(name)), key=lambda m: _ts_key(m.get("ts", "0")))

    def message_count(self) -> int:
        return sum(1 for c in self.channels for _ in self.messages(c))


@dataclass
class ImportResult:
    users_created: int = 0
    users_matched: int = 0
    channels_created: int = 0
    posts_created: int = 0
    posts_existing: int = 0
    reactions_created: int = 0
    orphan_replies: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # why -> how many messages
    seconds: float = 0.0

    @property
    def messages_per_second(self) -> float:
        return (self.posts_created + self.posts_existing) / self.seconds if self.seconds else 0.0

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def import_export(export: SlackExport, progress: Callable[[int], None] | None = None,
                  batch_size: int = 500) -> ImportResult:
    """Import everything once; safe to run again on the same (or a newer) export."""
    started = time.monotonic()
    result = ImportResult()
    importer = _Importer(export, result, progress or (lambda n: None), batch_size)
    importer.users()
    importer.channels()
    for channel in export.channels:
        importer.messages(channel)
    result.seconds = time.monotonic() - started
    with db.transaction() as s:
        audit.record(s, None, "import.slack", "import:slack", users=result.users_created,
                     channels=result.channels_created, posts=result.posts_created,
                     reactions=result.reactions_created)
    return result


class _Importer:
    def __init__(self, export: SlackExport, result: ImportResult, progress: Callable[[int], None],
                 batch_size: int) -> None:
        self.export, self.result, self.progress, self.batch_size = export, result, progress, batch_size
        self.user_ids: dict[str, int] = {}     # Slack user id -> Cairn user id
        self.handles: dict[str, str] = {}      # Slack user id -> @handle
        self.channel_ids: dict[str, int] = {}  # Slack channel id -> Cairn channel id
        self.channel_names: dict[str, str] = {}
        self.private: dict[str, bool] = {}
        self.members: dict[str, set[int]] = {}
        self.unflushed_roots: dict[str, Post] = {}  # thread ts -> a root added in this batch
        self.max_chars = int(current_app.config["MAX_BODY_CHARS"])

    # --- users --------------------------------------------------------------------------------

    def users(self) -> None:
        with db.transaction() as s:
            for profile in self.export.users:
                self._user(s, profile)

    def _user(self, s, slack: dict[str, Any]) -> int:
        ext = f"slack:{slack['id']}"
        user = s.scalar(select(User).where(User.external_id == ext))
        profile = slack.get("profile") or {}
        email = (profile.get("email") or "").strip().lower()
        if user is None and email:
            user = s.scalar(select(User).where(func.lower(User.email) == email))
            if user is not None:
                self.result.users_matched += 1
                if user.external_id is None:
                    user.external_id = ext
        if user is None:
            name = profile.get("real_name") or profile.get("display_name") or slack.get("real_name") \
                or slack.get("name") or slack["id"]
            user = User(email=email or self._placeholder_email(s, slack), display_name=name[:80],
                        password_hash=UNUSABLE_PASSWORD, role="member", external_id=ext,
                        active=not (slack.get("deleted") or slack.get("is_bot")))
            s.add(user)
            s.flush()
            audit.record(s, None, "user.create", f"user:{user.id}", role="member", source="slack")
            self.result.users_created += 1
        self.user_ids[slack["id"]] = user.id
        self.handles[slack["id"]] = handle_for(user)
        return user.id

    def _placeholder_email(self, s, slack: dict[str, Any]) -> str:
        """No e-mail in the export (bots, restricted profiles): the Slack name, on a reserved domain."""
        local = re.sub(r"[^a-z0-9._-]+", "-", (slack.get("name") or slack["id"]).lower()).strip(".-") or "user"
        email = f"{local}@slack.invalid"
        if s.scalar(select(User.id).where(func.lower(User.email) == email)):
            email = f"{local}.{slack['id'].lower()}@slack.invalid"
        return email

    def _author(self, s, message: dict[str, Any]) -> int:
        """The author of a message; bots and users missing from users.json become inactive users."""
        slack_id = message.get("user") or (f"bot-{message['bot_id']}" if message.get("bot_id") else None)
        if slack_id is None:
            slack_id = "unknown"
        if slack_id not in self.user_ids:
            profile = message.get("user_profile") or {}
            name = profile.get("real_name") or message.get("username") or profile.get("name") or slack_id
            self._user(s, {"id": slack_id, "name": profile.get("name") or name, "deleted": True,
                           "profile": {"real_name": name}})
        return self.user_ids[slack_id]

    # --- channels -----------------------------------------------------------------------------

    def channels(self) -> None:
        with db.transaction() as s:
            for slack in self.export.channels:
                self._channel(s, slack)

    def _channel(self, s, slack: dict[str, Any]) -> None:
        ext = f"slack:{slack['id']}"
        members = {self.user_ids[m] for m in slack.get("members") or [] if m in self.user_ids}
        channel = s.scalar(select(Channel).where(Channel.external_id == ext))
        if channel is None:
            topic = (slack.get("topic") or {}).get("value") or (slack.get("purpose") or {}).get("value") or ""
            created_by = self.user_ids.get(slack.get("creator") or "")
            when = {"created_at": _when(str(slack["created"]))} if slack.get("created") else {}
            channel = Channel(name=self._free_name(s, slack["name"]), topic=topic[:250],
                              private=slack["private"], created_by_id=created_by, external_id=ext, **when)
            s.add(channel)
            s.flush()
            audit.record(s, None, "channel.create", f"channel:{channel.id}", private=channel.private,
                         source="slack")
            self.result.channels_created += 1
        have = set(s.scalars(select(channel_members.c.user_id).where(channel_members.c.channel_id == channel.id)))
        if members - have:
            s.execute(channel_members.insert(), [{"channel_id": channel.id, "user_id": u} for u in members - have])
        self.channel_ids[slack["id"]] = channel.id
        self.channel_names[slack["id"]] = channel.name
        self.private[slack["id"]] = channel.private
        self.members[slack["id"]] = members | have

    def _free_name(self, s, slack_name: str) -> str:
        base = re.sub(r"[^a-z0-9_-]+", "-", slack_name.lower()).strip("-_")[:70] or "slack"
        if not CHANNEL_NAME_RE.match(base):
            base = f"slack-{base}"[:70]
        name, n = base, 1
        while s.scalar(select(Channel.id).where(Channel.name == name)):
            n += 1
            name = f"{base}-slack" if n == 2 else f"{base}-slack-{n - 1}"
        return name

    # --- messages -----------------------------------------------------------------------------

    def messages(self, slack: dict[str, Any]) -> None:
        channel_id = self.channel_ids[slack["id"]]
        prefix = f"slack:{slack['id']}:"
        roots = dict(db.session.execute(  # thread ts -> post id, for replies in a later batch or run
            select(Post.external_id, Post.id).where(Post.channel_id == channel_id, Post.parent_id.is_(None),
                                                    Post.external_id.is_not(None))).all())
        roots = {ext[len(prefix):]: pid for ext, pid in roots.items()}
        batch: list[dict[str, Any]] = []
        for message in self.export.messages(slack):
            batch.append(message)
            if len(batch) >= self.batch_size:
                self._batch(slack, channel_id, prefix, roots, batch)
                batch = []
        if batch:
            self._batch(slack, channel_id, prefix, roots, batch)
        reply = Post.__table__.alias("reply")
        replies = (select(func.count()).select_from(reply)
                   .where(reply.c.parent_id == Post.id, reply.c.deleted_at.is_(None)).scalar_subquery())
        with db.transaction() as s:  # reply counts from what the channel really holds
            s.execute(update(Post).where(Post.channel_id == channel_id, Post.parent_id.is_(None),
                                         Post.external_id.is_not(None)).values(reply_count=replies))

    def _batch(self, slack: dict[str, Any], channel_id: int, prefix: str, roots: dict[str, int],
               messages: list[dict[str, Any]]) -> None:
        with db.transaction() as s:
            wanted = [prefix + m["ts"] for m in messages if m.get("ts")]
            existing = set(s.scalars(select(Post.external_id).where(Post.external_id.in_(wanted))))
            fresh: list[tuple[Post, dict[str, Any]]] = []
            for message in messages:
                post = self._post(s, slack, channel_id, prefix, roots, message, existing)
                if post is not None:
                    fresh.append((post, message))
            s.flush()
            roots.update({t: p.id for t, p in self.unflushed_roots.items()})
            self.unflushed_roots.clear()
            added: list[Any] = [post for post, _ in fresh]
            for post, message in fresh:
                added += self._reactions(s, post, message)
                added += self._mentions(s, slack, post, message)
            if fresh:
                outbox.emit(s, "index", doc="post", ids=[p.id for p, _ in fresh])
            self.result.posts_created += len(fresh)
        for row in added:  # keep the session small over a long import (not the caller's own rows)
            db.session.expunge(row)
        self.progress(len(messages))

    def _post(self, s, slack, channel_id: int, prefix: str, roots: dict[str, int],
              message: dict[str, Any], existing: set[str]) -> Post | None:
        ts, subtype = message.get("ts"), message.get("subtype")
        if not ts or message.get("type", "message") != "message":
            self.result.skip("not a message")
            return None
        if subtype in SKIPPED_SUBTYPES:
            self.result.skip(subtype)
            return None
        if prefix + ts in existing:
            self.result.posts_existing += 1
            return None
        body = to_markdown(message.get("text") or "", self.handles, self.channel_names)
        files = [f.get("name") or f.get("title") or "file" for f in message.get("files") or []]
        if files:
            body = "\n\n".join(filter(None, [body, "📎 " + ", ".join(files) + " (file not imported)"]))
        if not body:
            self.result.skip("empty")
            return None
        if len(body) > self.max_chars:
            body = body[: self.max_chars - 1] + "…"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts and thread_ts not in roots and thread_ts in self.unflushed_roots:
            s.flush()  # the root is in this batch: it needs its id now
            roots.update({t: p.id for t, p in self.unflushed_roots.items()})
            self.unflushed_roots.clear()
        parent_id = roots.get(thread_ts) if thread_ts and thread_ts != ts else None
        if thread_ts and thread_ts != ts and parent_id is None:
            self.result.orphan_replies += 1  # its root is not in the export: kept as a top-level post
        edited = (message.get("edited") or {}).get("ts")
        post = Post(channel_id=channel_id, author_id=self._author(s, message), body=body,
                    html=render_markdown(body), parent_id=parent_id, created_at=_when(ts),
                    edited_at=_when(edited) if edited else None, external_id=prefix + ts)
        s.add(post)
        existing.add(prefix + ts)  # the same ts twice in an export is imported once
        if parent_id is None:
            self.unflushed_roots[ts] = post
        return post

    def _reactions(self, s, post: Post, message: dict[str, Any]) -> list[Reaction]:
        rows, seen = [], set()
        for reaction in message.get("reactions") or []:
            emoji = emoji_for(reaction.get("name") or "")
            if emoji is None:
                self.result.skip("reaction Cairn cannot store")
                continue
            for slack_user in reaction.get("users") or []:
                user_id = self.user_ids.get(slack_user)
                if user_id is not None and (user_id, emoji) not in seen:
                    seen.add((user_id, emoji))
                    rows.append(Reaction(post_id=post.id, user_id=user_id, emoji=emoji, created_at=post.created_at))
        s.add_all(rows)
        self.result.reactions_created += len(rows)
        return rows

    def _mentions(self, s, slack: dict[str, Any], post: Post, message: dict[str, Any]) -> list[Mention]:
        readers = self.members[slack["id"]] if self.private[slack["id"]] else None
        users = {self.user_ids[u] for u in mentioned_ids(message.get("text") or "") if u in self.user_ids}
        rows = [Mention(post_id=post.id, user_id=u) for u in users if readers is None or u in readers]
        s.add_all(rows)
        return rows


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int((fraction or "0").ljust(6, "0")[:6])


def _when(ts: str) -> datetime:
    """Slack's "1714571895.000200" as an exact UTC datetime (no float rounding)."""
    seconds, micros = _ts_key(ts)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=micros)
