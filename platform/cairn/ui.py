"""Fast template helpers for pages that repeat markup per post (the channel timeline shows 50+).

A Jinja macro call costs tens of microseconds and ``url_for`` about as much; a page of 60 post
cards called them hundreds of times. These helpers give the same markup from Python.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Response, g, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

_PATHS = {
    "lock": '<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
    "hash": '<path d="M5 9h14M5 15h14M10 3 8 21M16 3l-2 18"/>',
    "book": ('<path d="M4 19.5A2.5 2.5 0 0 1 6.5 17H20V3H6.5A2.5 2.5 0 0 0 4 5.5z"/>'
             '<path d="M4 19.5A2.5 2.5 0 0 0 6.5 22H20v-5"/>'),
    "search": '<circle cx="11" cy="11" r="7"/><path d="m21 21-4.3-4.3"/>',
    "bell": '<path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/>',
    "inbox": ('<path d="M22 12h-6l-2 3h-4l-2-3H2"/><path d="M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 '
              '2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z"/>'),
    "check": '<path d="M20 6 9 17l-5-5"/>',
    "alert": ('<path d="M12 9v4M12 17h.01"/><path d="M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 '
              '1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z"/>'),
    "reply": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "menu": '<path d="M3 6h18M3 12h18M3 18h18"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "smile": '<circle cx="12" cy="12" r="10"/><path d="M8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9"/>',
    "arrow-up": '<path d="M12 19V5M5 12l7-7 7 7"/>',
    "bookmark": '<path d="M19 21l-7-5-7 5V5a2 2 0 0 1 2-2h10a2 2 0 0 1 2 2z"/>',
    "flag": ('<path d="M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1z"/>'
             '<path d="M4 22v-7"/>'),
    "shield": '<path d="M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z"/>',
}
# each icon is drawn once, in the sprite (/icons.svg, cached by browsers for a year); a page refers
# to it: ~110 bytes an icon instead of ~290, and a channel page shows four per post
_SYMBOL_ATTRS = ('viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
                 'stroke-linejoin="round"')
SPRITE = ('<svg xmlns="http://www.w3.org/2000/svg">'
          + "".join(f'<symbol id="{name}" {_SYMBOL_ATTRS}>{paths}</symbol>' for name, paths in _PATHS.items())
          + "</svg>")
SPRITE_VERSION = hashlib.sha256(SPRITE.encode()).hexdigest()[:12]
_ICONS: dict[tuple[str, str], Markup] = {}
_MARK = 987654321  # a post id no real URL part contains
# what csrf_field() gives while a cached post card renders (cairn.stream.cards fills it in per request);
# random per process, so no post can contain it
CSRF_SLOT = Markup('<input type="hidden" name="csrf_token" value="card-slot-%s">') % secrets.token_hex(16)


def icon(name: str, label: str | None = None) -> Markup:
    """An icon of the sprite: decorative (hidden from assistive technology) or, with a label, an image."""
    if label is None:
        svg = _ICONS.get((name, request.script_root))
        if svg is None:
            svg = _ICONS[name, request.script_root] = Markup(
                '<svg class="icon icon-%s" width="16" height="16" aria-hidden="true" focusable="false">'
                '<use href="%s#%s"/></svg>') % (name, _sprite_url(), name)
        return svg
    text = escape(label)
    return Markup('<svg class="icon icon-%s" width="16" height="16" role="img" aria-label="%s"><title>%s</title>'
                  '<use href="%s#%s"/></svg>') % (name, text, text, _sprite_url(), name)


def _sprite_url() -> str:
    return url_for("icons", v=SPRITE_VERSION)


def sprite_response() -> Response:
    """The sprite, at a URL that changes with it: browsers keep it for a year."""
    return Response(SPRITE, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=31536000, immutable"})


def post_url(endpoint: str, post_id: int, **values) -> str:
    """``url_for(endpoint, post_id=post_id, **values)``, built once per request for each endpoint
    and set of other values, then filled in with the post id."""
    cache = g.setdefault("_post_urls", {})
    key = (endpoint, *sorted(values.items()))
    pattern = cache.get(key)
    if pattern is None:
        pattern = cache[key] = url_for(endpoint, post_id=_MARK, **values).split(str(_MARK))
    return str(post_id).join(pattern)


def csrf_field() -> Markup:
    """The hidden CSRF field of a form: one signed token per request (Flask-WTF's), built once."""
    if g.get("_csrf_slot"):
        return CSRF_SLOT
    field = g.get("_csrf_field")
    if field is None:
        field = g._csrf_field = Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf()
    return field


def avatar(user, size: str = "md") -> Markup:
    """A person's initials in a coloured circle (decorative: their name is next to it)."""
    parts = (user.display_name if user else "?").split()
    initials = (parts[0][:1] + (parts[1][:1] if len(parts) > 1 else "")).upper() if parts else ""
    return Markup('<span class="avatar avatar-%s hue-%d" aria-hidden="true">%s</span>') % (
        size, (user.id if user else 0) % 8, initials)


def when(dt, relative: bool = True) -> Markup:
    """A UTC time: shown as a date and time, ``data-relative`` ones turned into "5 min ago" by app.js."""
    if not dt:
        return Markup("")
    return Markup('<time datetime="%s" %s title="%s">%s</time>') % (
        dt.isoformat(), Markup("data-relative") if relative else "", dt.strftime("%Y-%m-%d %H:%M UTC"),
        dt.strftime("%Y-%m-%d %H:%M"))
