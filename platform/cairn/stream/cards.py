"""Rendered post cards, kept per process and keyed by everything a card shows.

A channel page shows 50 cards and rendering them (the ``post_card`` macro) is most of the page's
template time. A card's HTML is a function of the post (text, times, counts, author name,
reactions and who made them), of the page's signals (accepted answer, saved, promoted-to
articles the reader may read) and of what the reader may do with it (edit, delete, flag,
moderate, promote). The key holds all of these values themselves, not a version number: an
edit, a reaction, a hide, a new answer, a rename or a lost permission gives a new key, so a
stale card cannot be served, and nothing has to be invalidated. Which posts are on the page is
decided before, by the permission-checked query of the view; the cache only saves rendering.

The one per-request piece of a card, its CSRF field, is rendered as a slot and filled in when
the card is served. Cards hold no CSP nonce (the policy has none) and no request data.
Change the ``post_card`` macro? Put every new input of it in ``card_key`` (tests/unit/test_stream_cards.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import current_app, g, request
from markupsafe import Markup

from cairn.auth import permissions as perm
from cairn.auth.current import signed_in
from cairn.auth.models import User
from cairn.stream.models import Post
from cairn.ui import CSRF_SLOT, csrf_field

MAX_CARDS = 2048  # a card is ~5 kB and its key ~1 kB: about 12 MB per process at most


class CardCache:
    """A thread-safe LRU of rendered cards (gunicorn threads share it). A card is kept cut at its
    CSRF slots, so serving it is one join with the request's field, not a search of ~10 kB."""

    def __init__(self, size: int = MAX_CARDS) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> tuple[str, ...] | None:
        with self._lock:
            parts = self._items.get(key)
            if parts is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(key)
            return parts

    def put(self, key: tuple, parts: tuple[str, ...]) -> None:
        with self._lock:
            self._items[key] = parts
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def cache() -> CardCache:
    cards = current_app.extensions.get("cairn.cards")
    return cards if cards is not None else current_app.extensions.setdefault("cairn.cards", CardCache())


def card_key(me: User, post: Post, promoted: dict, spaces: list, signals: Any, in_thread: bool, is_root: bool,
             root: Post | None, back: str | None) -> tuple:
    """Every value the ``post_card`` macro reads, for this reader."""
    author = post.author
    can_read = perm.can_read_post(me, post)
    mine = me.id
    return (
        request.script_root, post.id, post.parent_id, post.channel_id, post.html, post.created_at, post.edited_at,
        post.hidden_at, post.deleted_at, post.reply_count, post.view_count, post.author_id,
        author.display_name if author else None,
        tuple((r.id, r.emoji, r.user_id, r.user.display_name, r.user_id == mine)
              for r in sorted(post.reactions, key=lambda r: r.id)),
        tuple((a.id, a.title, a.status) for a in promoted.get(post.id, ())),
        (signals.is_answer(post), signals.answer_of(post), signals.is_saved(post)) if signals else None,
        post.author_id == mine, can_read, perm.can_edit_post(me, post), perm.can_delete_post(me, post),
        perm.can_flag_post(me, post), perm.can_moderate(me, post),
        tuple((s.id, s.name) for s in spaces) if spaces and perm.can_promote(me, post) else (),
        in_thread, is_root, back,
        bool(root is not None and post.parent_id and not post.hidden_at and perm.can_mark_answer(me, root)),
    )


def post_card(macro, post: Post, promoted: dict | None = None, spaces: list | None = None, *, signals=None,
              in_thread: bool = False, is_root: bool = False, root: Post | None = None,
              back: str | None = None) -> Markup:
    """``macro(post, ...)`` (the ``post_card`` macro of the calling page), from the cache when a
    card with the same key was rendered before, with this request's CSRF field."""
    promoted, spaces = promoted or {}, spaces or []
    key = card_key(signed_in(), post, promoted, spaces, signals, in_thread, is_root,
                   root, back)
    cards = cache()
    parts = cards.get(key)
    if parts is None:
        g._csrf_slot = True
        try:
            html = str(macro(post, promoted, spaces, in_thread=in_thread, is_root=is_root, signals=signals,
                             root=root, back=back))
        finally:
            g._csrf_slot = False
        parts = tuple(html.split(CSRF_SLOT))
        cards.put(key, parts)
    return Markup(str(csrf_field()).join(parts))
