"""Markdown to safe HTML (markdown-it-py, then nh3), mentions, tags and slugs."""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"linkify": False, "html": False}).enable(["table", "strikethrough"])

_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
    "span", "mark",
}
_ALLOWED_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
    "span": {"class"},
    "mark": {"class"},
}

# a handle may contain dots and dashes but not end with one: "thanks @milo." mentions milo
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9](?:[\w.\-]{0,78}\w)?)")
TAG_RE = re.compile(r"(?<![\w#&])#([A-Za-z][\w\-]{0,49})")


def render_markdown(source: str) -> str:
    """Markdown source → sanitised HTML; raw HTML in the source is escaped, never rendered."""
    return sanitize(_md.render(source))


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def mentioned_handles(source: str) -> set[str]:
    return {m.lower() for m in MENTION_RE.findall(source)}


def hashtags(source: str) -> list[str]:
    return sorted({t.lower() for t in TAG_RE.findall(source)})


def slugify(text: str, max_len: int = 100) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].strip("-") or "article"


def plain_text(source: str, limit: int = 200) -> str:
    """A one-line excerpt of Markdown source for titles and previews."""
    line = re.sub(r"[`*_>#\[\]()!]", "", source)
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
