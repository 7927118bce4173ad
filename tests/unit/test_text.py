"""Markdown rendering is safe; mentions, hashtags, slugs and excerpts are parsed as people write them."""

from __future__ import annotations

import re

import pytest

from cairn.text import hashtags, mentioned_handles, plain_text, render_markdown, sanitize, slugify

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<a href='javascript:alert(1)'>click</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "![img](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '<p style="background:url(javascript:alert(1))">x</p>',
]


def _tags(html: str) -> list[str]:
    return re.findall(r"<\s*([a-zA-Z0-9]+)", html)


@pytest.mark.parametrize("source", HOSTILE)
def test_markdown_never_renders_scripts_handlers_or_script_links(source):
    html = render_markdown(source)
    assert not {"script", "iframe", "svg", "object", "embed", "style"} & {t.lower() for t in _tags(html)}
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.IGNORECASE), html   # no event handler attribute
    assert not re.search(r"""<[a-z][^>]*\b(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):""", html, re.IGNORECASE), html


@pytest.mark.parametrize("html", [
    '<a href="javascript:alert(1)">x</a>',
    '<img src="x" onerror="alert(1)">',
    '<div onclick="alert(1)">x</div>',
    "<script>alert(1)</script>",
    '<a href="https://ok.example" onmouseover="x()">ok</a>',
])
def test_the_sanitiser_alone_strips_what_markdown_might_let_through(html):
    clean = sanitize(html)
    assert "javascript:" not in clean and "onerror" not in clean and "onclick" not in clean
    assert "onmouseover" not in clean and "<script" not in clean


def test_ordinary_markdown_survives_sanitising():
    html = render_markdown("**bold** _it_ `code` ~~gone~~\n\n[site](https://example.com)\n\n| a |\n|---|\n| 1 |")
    for fragment in ("<strong>bold</strong>", "<em>it</em>", "<code>code</code>", "<s>gone</s>",
                     '<a href="https://example.com"', "<table>", "<td>1</td>"):
        assert fragment in html, html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_raw_html_is_shown_as_text_not_dropped():
    assert "&lt;b&gt;hi&lt;/b&gt;" in render_markdown("<b>hi</b>")


@pytest.mark.parametrize("source,handles", [
    ("hi @milo", {"milo"}),
    ("thanks @Milo.", {"milo"}),
    ("ping @ops-team, @first.last!", {"ops-team", "first.last"}),
    ("(@carla) and @bob:", {"carla", "bob"}),
    ("mail milo@example.com", set()),
    ("@@double", set()),
    ("a@b", set()),
    ("no mention here", set()),
])
def test_mentions_are_parsed_like_people_write_them(source, handles):
    assert mentioned_handles(source) == handles


@pytest.mark.parametrize("source,tags", [
    ("#Deploy and #deploy again", ["deploy"]),
    ("#k8s-prod #2fa", ["k8s-prod"]),
    ("c#sharp &#123; x#y", []),
    ("(#ops) #oncall.", ["oncall", "ops"]),
])
def test_hashtags_are_parsed_lowercased_and_deduplicated(source, tags):
    assert hashtags(source) == tags


def test_slugs_are_ascii_bounded_and_never_empty():
    assert slugify("Café déjà vu: how-to!") == "cafe-deja-vu-how-to"
    assert slugify("???") == "article"
    assert len(slugify("word " * 100)) <= 100 and not slugify("word " * 100).endswith("-")


def test_plain_text_strips_markdown_and_cuts_long_lines_with_an_ellipsis():
    assert plain_text("# **How** to `deploy`\n> now") == "How to deploy now"
    cut = plain_text("x" * 300, limit=50)
    assert len(cut) == 50 and cut.endswith("…")
