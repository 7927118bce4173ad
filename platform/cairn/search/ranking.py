"""How search ranks: the scoring model, field weights, question words, AND-first or OR, and the
boosts of a hit for what it is (a published, verified article above chatter; an accepted,
well-reacted, recent post above other posts). Measured with bench/search.py; used by
cairn.search.engine, which knows Whoosh's index and reader."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from whoosh.qparser import OrGroup
from whoosh.query import AndNot, Or, Query
from whoosh.scoring import BM25F

from cairn.search.matching import Coordination, WordUnion

# Titles: the schema's field_boost (2.5) is stored in each index, so it is scaled here at query
# time; at 2.5 a long reference page with one query word in its title outranked short answers
# holding every word (MRR@10 0.24 -> 0.35 at 1.0 overall); 0.4 -> 0.2 with word coordination
# (below): MRR@10 at 100,000 posts 0.354 -> 0.361 (coordination 1.0), at 20,000 0.346 -> 0.375.
FIELD_WEIGHTS = {"title": 0.2, "body": 1.0, "tags": 1.0}
# Up to this many words (after question words) must all match, with OR as the fallback; a longer
# text is a sentence or a question, rarely all in one document: OR at once, ranked by how many of
# its words a document holds (COORD_POWER), one search instead of two.
AND_FIRST_MAX_WORDS = 3
ANY_WORDS = OrGroup
WEIGHTING = BM25F()

# Words that make a sentence a question but say nothing about its subject; a query written as a
# question ("how do I read a file?") is searched without them ("read file"): they would rank
# chatter ("how do you do") and, AND-ed, hide every answer. Whoosh's stop words go already.
_QUESTION_WORDS = """
    what whats which who whom whose why how where when whether
    do does did doing done is are was were am be been being has had having
    can could should would shall might must
    i im ive id me my mine myself you your yours there here
"""
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())


def plain_question(text: str) -> str:
    """``text`` without question words and without the question mark that ends a word (Whoosh
    reads "file?" as a one-letter wildcard, which matches no stemmed term); a word starting with
    "*" (Markdown's *emphasis*) is the word, not a wildcard over every term. Only bare words
    outside "phrases" go; a query of nothing but such words is kept as it is."""
    segments = text.split('"')
    kept_any = False
    for i in range(0, len(segments), 2):
        words = []
        for token in segments[i].split():
            if token.startswith("*") and token.strip("*"):  # *emphasis*, or a leading wildcard:
                token = token.strip("*")  # the word (a leading * walks the whole vocabulary)
            bare = token.rstrip("?").rstrip(",.;:!?")
            if bare.lower().replace("'", "").replace("’", "") in QUESTION_WORDS:
                continue
            if token.endswith("?"):
                token = token.rstrip("?")
                if not token:
                    continue
            words.append(token)
        kept_any = kept_any or any(any(c.isalnum() for c in w) for w in words)
        segment = segments[i]
        lead = " " if segment[:1].isspace() else ""
        trail = " " if segment[-1:].isspace() else ""
        segments[i] = (lead + " ".join(words) + trail) if words else lead or trail
    if not kept_any and len(segments) == 1:
        return text.replace("?", " ").strip() or text
    return '"'.join(segments)


def word_count(text: str) -> int:
    """The words a query is searched for (question words left out)."""
    return len(plain_question(text).split()) if text else 0


def hit_boost(fields: dict[str, Any], now: datetime) -> float:
    """Published, verified knowledge above chatter; well-reacted and recent posts above old ones."""
    if fields["kind"] == "article":
        boost = {"published": 1.6, "archived": 0.6}.get(fields["status"], 1.0)
        return boost * (1.3 if fields.get("verified") else 1.0)
    age_days = max((now - fields["created"]).days, 0) if fields.get("created") else 0
    recency = 0.6 + 0.4 * math.exp(-age_days / 90)
    reactions = 1 + 0.08 * min(fields.get("reactions") or 0, 10)
    answer = 1.4 if fields.get("answer") else 1.0
    return recency * reactions * answer


# A document holding more of a sentence's words ranks higher: its score is multiplied by the
# share of the query's words it holds, to this power (Lucene's classic "coord" is 1.0). Whoosh's
# own coordination bonus (OrGroup.factory(0.9)) was lost when the parser flattened the query, and
# added a few thousandths to a score anyway. Measured (bench/search.py's FAQ questions, MRR@10,
# titles at 0.2): at 100,000 posts 0.352 (off), 0.376 (0.3), 0.371 (0.7), 0.361 (1.0); at 20,000
# posts 0.375 (off), 0.362 (0.3), 0.341 (0.7): a high power favours long reference pages that
# hold every word in passing, none lets one-word chatter crowd out answers as posts grow.
COORD_POWER = 0.3


def coordinated(query: Query, analyzer) -> Query:
    """``query`` with a top-level OR of words (what ANY_WORDS parses to, perhaps with exclusions)
    ranked by how many of its words a document holds. ``analyzer`` is the text fields' analyzer:
    a word's keyword (tags) term is its raw form, its title and body terms its stem."""
    if isinstance(query, AndNot) and type(query.a) is Or:
        return AndNot(coordinated(query.a, analyzer), query.b)
    if type(query) is not Or or not COORD_POWER:
        return query
    keys = {}
    for fieldname, text in query.iter_all_terms():
        text = text.decode("utf-8") if isinstance(text, bytes) else text
        if fieldname == "tags":  # unstemmed, stop words kept: the word the title and body stem
            stems = [t.text for t in analyzer(text)]
            keys[(fieldname, text)] = stems[0] if stems else None
        else:
            keys[(fieldname, text)] = text
    words = len({k for k in keys.values() if k is not None})
    if words < 2:
        return query
    return _WordCoordOr(query.subqueries, boost=query.boost, keys=keys, words=words)


# A word in more than this many documents does not make a document match a sentence by itself:
# it counts (in the score and the words held) only in documents that hold one of the sentence's
# rarer words (Lucene's CommonTermsQuery, with an absolute cutoff). A chat post that shares only
# "like" or "get" with a question is hardly its answer, yet scoring every such post to find the
# best 60 was most of a question's time, and grew with the posts: an absolute number keeps the
# documents a question visits about the same as the posts grow. Measured (bench/search.py's FAQ
# questions, Index.search CPU p95 / MRR@10 at 100,000 and at 1,000,000 posts): off 46 ms 0.376 /
# 156 ms 0.329; 1,000: 32 ms 0.381 / 77 ms 0.354 (more questions of common words only, which
# search every word); 2,000: 38 ms 0.376 / 69 ms 0.332; 5,000: 42 ms 0.376 / 86 ms 0.332; a
# share of the documents (1% of each term's field) instead grows with them: 33 ms / 129 ms.
COMMON_DOCS = 2000
# When every word of a sentence is that common ("Why does Python sometimes take so long to
# start?" at 1,000,000 posts), its rarest words (in at most this many times the documents of the
# rarest) lead and the others follow, instead of every word searched as before. Measured as
# above, at 1,000,000 posts: every word 73 ms / 0.332, the rarest word alone 54 ms / 0.333, this
# 54 ms / 0.333, x5 58 ms / 0.332; at 100,000 posts no change (37-38 ms / 0.376).
COMMON_RATIO = 3


def common_terms(searcher, keys: dict[tuple[str, str], str | None]) -> frozenset[tuple[str, str]]:
    """Of the (field, text) ``keys`` (-> their word), the terms of the words in more than
    COMMON_DOCS documents (in any of the word's fields), or, when every word is, of those in more
    than COMMON_RATIO times the documents of the rarest; none when that leaves no other word in
    any document (then every word counts as usual)."""
    top = searcher.get_parent()
    frequency: dict[Any, int] = {}
    for key, word in keys.items():
        group = word if word is not None else key
        frequency[group] = max(frequency.get(group, 0), top.doc_frequency(*key))
    present = [n for n in frequency.values() if n > 0]
    limit = COMMON_DOCS if any(n <= COMMON_DOCS for n in present) else min(present, default=0) * COMMON_RATIO
    if all(n <= limit for n in present):
        return frozenset()
    return frozenset(key for key, word in keys.items()
                     if frequency[word if word is not None else key] > limit)


class _WordCoordOr(Or):
    def __init__(self, subqueries, boost=1.0, keys=None, words=1, **kwargs) -> None:
        super().__init__(subqueries, boost=boost)
        self.keys, self.words = keys or {}, words
        self._common: tuple[Any, frozenset] | None = None

    def _matcher(self, subs, searcher, context):
        """One flat matcher over the words' terms that scales a document's score by the share of
        the query's words it holds (a factor of at most 1: the terms' bounds stay true bounds)."""
        top = searcher.get_parent()
        if self._common is None or self._common[0] is not top:  # once per search, not per segment
            self._common = (top, common_terms(top, self.keys))
        coordination = Coordination(self.keys, self.words, COORD_POWER, common=self._common[1])
        return WordUnion([q.matcher(searcher, context) for q in subs], coordination, boost=self.boost)
