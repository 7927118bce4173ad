"""Search indexes and shows the text a reader sees, not the Markdown it was written in."""

from __future__ import annotations

import re

import pytest

from cairn import search
from tests import factories as f
from tests.api.test_api_routes import ok

MARKDOWN = ("## Answers from the discussion\n\n"
            "**Rotate** the *wombat* keys with [the pager runbook](https://example.com/pager-runbook) "
            "and run `vault_rotate --all` before <b>friday</b>.\n\n- first step\n- second step\n")
SYNTAX = re.compile(r"##|\*\*|\]\(|https?://|`|^- ", re.MULTILINE)


@pytest.fixture
def written(people):
    chan = f.channel(people.member, "ops")
    post = f.post(people.member, chan, MARKDOWN)
    space = f.space(people.curator, "Runbooks")
    article = f.article(people.curator, space, "Key rotation", MARKDOWN, status="published")
    return {("post", post.id), ("article", article.id)}


def _search(client, headers, q: str) -> list[dict]:
    return ok(client.get("/api/v1/search", query_string={"q": q}, headers=headers))["items"]


@pytest.mark.parametrize("rebuilt", [False, True], ids=["indexed-on-write", "reindexed"])
def test_markdown_is_found_by_its_words_and_its_snippet_shows_no_markdown_syntax(
        client, people, bearer, written, rebuilt):
    headers = bearer(people.other)
    if rebuilt:
        search.reindex()  # the bulk path builds the same documents
    # words of a heading, bold text, link text and inline code are all searchable
    for q in ("discussion answers", "rotate wombat", "pager runbook", "vault_rotate", "second step"):
        items = _search(client, headers, q)
        assert {(i["kind"], i["id"]) for i in items} == written, q
        for item in items:
            snippet = item["snippet"]
            assert "<mark" in snippet, (q, snippet)
            assert not SYNTAX.search(re.sub(r'<mark class="[^"]*">|</mark>', "", snippet)), (q, snippet)
    # a link's target is not text a reader sees; the literal tag the author typed stays text, escaped
    assert _search(client, headers, "example.com") == []
    post = next(i for i in _search(client, headers, "friday") if i["kind"] == "post")
    assert "&lt;b&gt;<mark" in post["snippet"] and "<b>" not in post["snippet"]
    assert post["title"].startswith("Answers from the discussion Rotate the wombat keys"), post["title"]  # one line
