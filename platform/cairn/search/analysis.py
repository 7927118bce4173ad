"""The text fields' analyzer: Whoosh's ``StemmingAnalyzer()`` (RegexTokenizer | LowercaseFilter |
StopFilter | StemFilter) in one generator. Whoosh runs four generators that pass one Token along
and set its attributes again at each step; with its LFU stem cache that was most of the analysis
time of a rebuild (bench/reindex.py). The tokens are the same in every mode (index, query,
highlighting, spelling, ``tokenize=False``, ``removestops=False``, ``no_morph``): tests run both
over the same texts and compare the streams attribute by attribute.

An index keeps the schema (and the analyzer) it was written with: one built before this class
searches with Whoosh's chain, which gives the same terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from whoosh.analysis import STOP_WORDS, Analyzer, Token
from whoosh.lang.porter import stem

# whoosh.analysis.tokenizers.default_pattern with a non-capturing group: the same matches, and
# findall() then returns the whole words (no match objects when no character offsets are asked)
WORD_RE = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
MIN_SIZE = 2  # StopFilter's minsize: shorter words are stop words
# Stems kept (StemFilter keeps 50,000 with LFU eviction); emptied when full: a chat corpus of
# 100,000 posts has ~60,000 distinct words, most of the hits on a few thousand
STEM_CACHE_SIZE = 100_000


class FusedStemmingAnalyzer(Analyzer):
    """``StemmingAnalyzer()``'s tokens from one generator. Like Whoosh's analyzers it yields one
    Token object over and over, changing its attributes (a consumer copies what it keeps)."""

    is_morph = True  # it stems: TEXT(spelling=True) would index the unstemmed words separately

    def __init__(self) -> None:
        self._stems: dict[str, str] = {}

    def __getstate__(self) -> dict:
        return {}  # the schema is pickled into the index's TOC: not the cache

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", no_morph: bool = False, **kwargs) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            return self._whole(token, value, positions, chars, keeporiginal, start_pos, start_char, no_morph)
        if chars or keeporiginal:
            return self._matched(token, value, positions, chars, keeporiginal, start_pos, start_char, no_morph)
        return self._words(token, value, positions, removestops, start_pos, no_morph)

    def _stem(self, word: str) -> str:
        stems = self._stems
        stemmed = stems.get(word)
        if stemmed is None:
            if len(stems) >= STEM_CACHE_SIZE:
                stems.clear()
            stemmed = stems[word] = stem(word)
        return stemmed

    def _words(self, token: Token, value: str, positions: bool, removestops: bool, start_pos: int,
               no_morph: bool) -> Iterator[Token]:
        """The common case (indexing, query terms): words and positions only."""
        _check(value)
        stems, stem_word, stops = self._stems, self._stem, STOP_WORDS
        pos = None  # StopFilter's renumbering: the first word kept keeps its position
        for number, word in enumerate(WORD_RE.findall(value), start_pos):
            word = word.lower()
            token.boost = 1.0
            if len(word) < MIN_SIZE or word in stops:
                if not removestops:
                    token.text, token.stopped = word, True
                    if positions:
                        token.pos = number
                    yield token
                continue
            if positions:
                pos = number if pos is None else pos + 1
                token.pos = pos
            token.stopped = False
            token.text = word if no_morph else (stems.get(word) or stem_word(word))
            yield token

    def _matched(self, token: Token, value: str, positions: bool, chars: bool, keeporiginal: bool,
                 start_pos: int, start_char: int, no_morph: bool) -> Iterator[Token]:
        """With character offsets (highlighting) or the original text."""
        _check(value)
        pos = None
        for number, match in enumerate(WORD_RE.finditer(value), start_pos):
            original = match.group(0)
            if keeporiginal:
                token.original = original
            if chars:
                token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
            kept, pos = self._one(token, original.lower(), number, pos, positions, no_morph)
            if kept:
                yield token

    def _whole(self, token: Token, value: str, positions: bool, chars: bool, keeporiginal: bool,
               start_pos: int, start_char: int, no_morph: bool) -> Iterator[Token]:
        """``tokenize=False``: the value is one token (still lowercased, stopped and stemmed)."""
        _check(value)
        token.original = value  # RegexTokenizer sets it whatever keeporiginal says
        if chars:
            token.startchar, token.endchar = start_char, start_char + len(value)
        if self._one(token, value.lower(), start_pos, None, positions, no_morph)[0]:
            yield token

    def _one(self, token: Token, word: str, number: int, pos: int | None, positions: bool,
             no_morph: bool) -> tuple[bool, int | None]:
        """Set ``token`` for the lowercased ``word`` found at position ``number``; returns whether
        to yield it (not a stop word to leave out) and the position of the last word kept."""
        token.boost = 1.0
        if len(word) < MIN_SIZE or word in STOP_WORDS:
            if token.removestops:
                return False, pos
            token.text, token.stopped = word, True
            if positions:
                token.pos = number
            return True, pos
        if positions:
            pos = number if pos is None else pos + 1
            token.pos = pos
        token.stopped = False
        token.text = word if no_morph else self._stem(word)
        return True, pos


def _check(value: str) -> None:
    """As RegexTokenizer: at the first token asked for, not when the analyzer is called."""
    assert isinstance(value, str), f"{value!r} is not unicode"
