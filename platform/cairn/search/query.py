"""The search box's query language: free text, "phrases", -exclusions, OR, and operators.

Operators: from:@user  in:#channel  space:name  tag:x  kind:post|article  is:verified
is:answer  before:YYYY-MM-DD  after:YYYY-MM-DD. Operators become exact filters; the rest is
handed to Whoosh's parser over title and body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from cairn.errors import Invalid

# a token is a run of non-blanks in which a "quoted part" may hold blanks: space:"it help", -"a b"
TOKEN_RE = re.compile(r'(?:[^\s"]+|"[^"]*")+')
OPERATOR_RE = re.compile(r"^(-?)(from|in|space|tag|kind|is|before|after):(.+)$", re.IGNORECASE)
MAX_QUERY_CHARS = 500


@dataclass
class ParsedQuery:
    text: str = ""
    terms: list[tuple[str, str]] = field(default_factory=list)      # (field, value) must match
    excluded: list[tuple[str, str]] = field(default_factory=list)   # (field, value) must not
    after: datetime | None = None
    before: datetime | None = None


def _date(value: str, op: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise Invalid(f"{op}: needs a date like 2026-01-31.", {"q": [f"bad date in {op}:{value}"]}) from None


def parse(raw: str) -> ParsedQuery:
    raw = (raw or "").strip()
    if len(raw) > MAX_QUERY_CHARS:
        raise Invalid("The query is too long.", {"q": [f"at most {MAX_QUERY_CHARS} characters"]})
    if raw.count('"') % 2:
        raise Invalid('A quote is not closed: use "…" around a phrase.', {"q": ["unbalanced quote"]})
    tokens = TOKEN_RE.findall(raw)
    parsed, free = ParsedQuery(), []
    for token in tokens:
        m = OPERATOR_RE.match(token)
        if not m:
            free.append(token)
            continue
        neg, op, value = m.group(1), m.group(2).lower(), m.group(3).replace('"', '').strip().lower()
        target = parsed.excluded if neg else parsed.terms
        if op == "from":
            target.append(("author", value.lstrip("@")))
        elif op == "in":
            target.append(("channel", value.lstrip("#")))
        elif op == "space":
            target.append(("space", value))
        elif op == "tag":
            target.append(("tags", value.lstrip("#")))
        elif op == "kind":
            if value not in ("post", "article"):
                raise Invalid("kind: is post or article.", {"q": [f"unknown kind {value}"]})
            target.append(("kind", value))
        elif op == "is":
            if value == "verified":
                target.append(("verified", "true"))
            elif value == "answer":
                target.append(("answer", "true"))
            else:
                raise Invalid("is: takes verified or answer.", {"q": [f"unknown is:{value}"]})
        elif op == "after":
            parsed.after = _date(value, "after")
        elif op == "before":
            parsed.before = _date(value, "before")
    parsed.text = " ".join(free)
    return parsed


SPELLABLE_RE = re.compile(r"^([(]*)([^\W\d_]{3,})([)?!.,;:]*)$")
BOOLEAN_WORDS = {"OR", "AND", "NOT"}


def _spellable(token: str) -> re.Match[str] | None:
    """A plain word a spelling fix may replace: not an operator, an exclusion or OR/AND/NOT."""
    if token in BOOLEAN_WORDS or token.startswith(("-", "+")) or OPERATOR_RE.match(token):
        return None
    return SPELLABLE_RE.match(token)


def plain_words(raw: str) -> list[str]:
    """The words of a query a spelling fix may replace; "phrases" are spelled as meant."""
    words = []
    for i, segment in enumerate((raw or "").split('"')):
        if i % 2 == 0:
            words += [m.group(2).lower() for m in map(_spellable, segment.split()) if m]
    return words


def replace_words(raw: str, fixes: dict[str, str]) -> str:
    """``raw`` with its plain words replaced by ``fixes`` (keyed in lower case), all else kept."""

    def fix(token: re.Match[str]) -> str:
        m = _spellable(token.group(0))
        if not m or m.group(2).lower() not in fixes:
            return token.group(0)
        return m.group(1) + fixes[m.group(2).lower()] + m.group(3)

    segments = raw.split('"')
    return '"'.join(re.sub(r"\S+", fix, s) if i % 2 == 0 else s for i, s in enumerate(segments))
