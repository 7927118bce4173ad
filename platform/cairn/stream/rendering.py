"""How a post's sanitised HTML is shown: #tags link to a `tag:` search and @mentions stand out.

Applied when a post is displayed and by the composer's preview, so the preview equals the
result. It only wraps words in text outside code and links, and the words it wraps match
patterns that hold no markup, so the HTML stays as safe as nh3 left it.
"""

from __future__ import annotations

import re

from flask import current_app, url_for
from markupsafe import Markup

from cairn.errors import Invalid
from cairn.text import MENTION_RE, TAG_RE, render_markdown

PIECES_RE = re.compile(r"(<[^>]*>)")
ELEMENT_RE = re.compile(r"^<(/?)([a-zA-Z0-9]+)")
VERBATIM = {"code", "pre", "a"}


def decorate(html: str) -> Markup:
    search = url_for("search.search_page")
    out, verbatim = [], 0
    for piece in PIECES_RE.split(str(html)):
        if piece.startswith("<"):
            m = ELEMENT_RE.match(piece)
            if m and m.group(2).lower() in VERBATIM and not piece.endswith("/>"):
                verbatim += -1 if m.group(1) else 1
            out.append(piece)
        elif verbatim > 0 or not piece:
            out.append(piece)
        else:
            piece = TAG_RE.sub(lambda t: f'<a class="hashtag" href="{search}?q=tag%3A{t.group(1).lower()}">'
                                         f"#{t.group(1)}</a>", piece)
            out.append(MENTION_RE.sub(lambda m: f'<span class="mention">@{m.group(1)}</span>', piece))
    return Markup("".join(out))


def preview(body: str) -> str:
    """What a post with this Markdown body will look like; empty is fine (nothing to show yet)."""
    limit = current_app.config["MAX_BODY_CHARS"]
    if len(body) > limit:
        raise Invalid("The post is too long.", {"body": [f"at most {limit} characters"]})
    return str(decorate(render_markdown(body))) if body.strip() else ""
