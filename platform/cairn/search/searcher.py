"""The Whoosh searcher of one index generation, and what it keeps of each segment across
generations. Used by cairn.search.engine (which opens one per thread and generation) and by the
facets and spelling readers.

An index commit adds a small segment (and perhaps marks deletions in an old one); the large
segments' files are unchanged. A new generation needs a new searcher, but what a search derives
from a segment's files (the documents an ACL filter allows, a facet field's value of every
document) holds for as long as that segment is part of the index: it is kept per segment id,
so after a commit only the new segment pays for it, not the whole index again. The segment
readers themselves are reused by the thread that opened them (``open_reader``).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from typing import Any

from whoosh.collectors import TopCollector
from whoosh.matching import Matcher, NullMatcher, ReadTooFar, WrappingMatcher
from whoosh.query import Query
from whoosh.reading import EmptyReader, IndexReader, MultiReader, SegmentReader
from whoosh.searching import Searcher


class SegmentStore:
    """Per segment id, a dict of what searches derived from that segment's files. Shared by the
    threads of a process (plain Python values, built once; a race builds one twice, harmlessly)."""

    def __init__(self) -> None:
        self._segments: dict[str, dict[Any, Any]] = {}
        self._lock = threading.Lock()

    def of(self, segment_id: str | None) -> dict[Any, Any]:
        if segment_id is None:  # an empty index: nothing to keep
            return {}
        with self._lock:
            return self._segments.setdefault(segment_id, {})

    def put(self, kept: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
        """``kept[key] = value``, the oldest entry forgotten past ``limit`` (under the lock: another
        thread may be adding to the same segment's entries)."""
        with self._lock:
            if len(kept) >= limit:
                kept.pop(next(iter(kept)), None)
            kept[key] = value

    def keep_only(self, segment_ids: set[str]) -> None:
        """Forget the segments a merge or a rebuild removed from the index."""
        with self._lock:
            for gone in set(self._segments) - segment_ids:
                del self._segments[gone]


class FilterCachingSearcher(Searcher):
    """A searcher that keeps the document set of each filter query (the searcher's ACL tokens,
    with or without a kind): the ACL filter of a frequent searcher is computed once per index
    generation instead of once per query (with 100,000 public posts that set is most of a query's
    cost), and from the set kept per segment, so a commit costs only its new segment's part.
    Queries hash and compare by value.

    A segment's set may still hold documents deleted since: a filter only allows, and Whoosh's
    postings never yield a deleted document."""

    FILTERS_KEPT = 64

    def __init__(self, *args, store: SegmentStore | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._combs: dict[Query, Any] = {}
        parent = self.parent() if self.parent else None
        self.store = store if store is not None else getattr(parent, "store", None) or SegmentStore()

    def kept(self, segment_searcher: Searcher) -> dict[Any, Any]:
        """What searches keep of the segment that ``segment_searcher`` (one of this searcher's
        leaves) reads, for as long as that segment is part of the index."""
        segment = segment_searcher.reader().segment()
        return self.store.of(segment.segment_id() if segment is not None else None)

    def filter_docs(self, query: Query) -> set[int] | frozenset[int]:
        """The (global) document numbers matching a filter ``query``."""
        comb = self._combs.get(query)
        if comb is None:
            parts = [(self._segment_docs(leaf, query), offset) for leaf, offset in self.leaf_searchers()]
            if len(parts) == 1 and not parts[0][1]:
                comb = parts[0][0]
            else:
                comb = set()
                for docs, offset in parts:
                    comb.update((d + offset for d in docs) if offset else docs)
            if len(self._combs) >= self.FILTERS_KEPT:
                self._combs.pop(next(iter(self._combs)), None)
            self._combs[query] = comb
        return comb

    def _segment_docs(self, leaf: Searcher, query: Query) -> frozenset[int]:
        filters = self.kept(leaf).setdefault("filters", {})
        docs = filters.get(query)
        if docs is None:
            docs = frozenset(query.docs(leaf))
            self.store.put(filters, query, docs, self.FILTERS_KEPT)
        return docs

    def _filter_to_comb(self, obj):
        if not isinstance(obj, Query):
            return super()._filter_to_comb(obj)
        return self.filter_docs(obj)


def open_reader(ix, previous: IndexReader | None) -> IndexReader:
    """A reader of the index's newest generation that reuses ``previous``'s readers of the
    segments still in it (the same thread's reader: a Whoosh reader's files keep one position).

    Opening a segment reader copies its term and posting files out of the segment's memory map
    (whoosh's BufferFile): at 100,000 posts a few hundred milliseconds, paid by the first query
    after every commit. Not ``ix.reader(reuse=...)``/``Searcher.refresh()``: whoosh-reloaded
    2.7.5 keeps the merged-away segments there, and a segment's reused reader would keep its old
    deletions, so deleted and replaced documents would come back. Here the segment list is the
    new generation's, and a segment whose deletions changed gets a reader with them (its files,
    which deletions never change, still shared)."""
    old = {} if previous is None else {
        reader.segment().segment_id(): reader for reader, _ in previous.leaf_readers() if reader.segment() is not None}
    if not old:
        return ix.reader()
    for attempt in range(10):  # as ix.reader(): a commit may delete a file while we open it
        try:
            toc = ix._read_toc()
            readers = [_segment_reader(ix.storage, toc.schema, segment, toc.generation, old.get(segment.segment_id()))
                       for segment in toc.segments]
            break
        except OSError:
            if attempt == 9:
                raise
            time.sleep(0.05)
    if not readers:
        return EmptyReader(toc.schema)
    return readers[0] if len(readers) == 1 else MultiReader(readers, generation=toc.generation)


def _segment_reader(storage, schema, segment, generation: int, old: SegmentReader | None) -> SegmentReader:
    if old is None:
        return SegmentReader(storage, schema, segment, generation=generation)
    reader = copy.copy(old)  # the same open files and caches; this generation's segment record
    reader._gen, reader._segment = generation, segment
    if set(segment.deleted_docs()) != set(old.segment().deleted_docs()):
        reader.__dict__.pop("deleted_docs_set", None)  # a cached_property of the old deletions
        reader._perdoc = copy.copy(old._perdoc)
        reader._perdoc._segment = segment
    return reader


class PacedTopCollector(TopCollector):
    """Whoosh's TopCollector, but the matcher tree is rebuilt for the score a hit must beat
    (``replace()``: branches that can no longer reach the top N become cheaper matchers) only
    every ``replace`` matches. Whoosh's also rebuilds it whenever that score rises, i.e. for
    nearly every hit while the top N fills, and each rebuild walks the tree of a question's 15-20
    terms. Which hits are found does not change: a rebuild only drops work that cannot matter,
    and the blocks that cannot reach the score are still skipped as soon as it rises."""

    def matches(self):
        matcher = self.matcher
        usequality = self._use_block_quality()
        countdown, minscore, checkquality = 0, self.minscore, True
        while matcher.is_active():
            if countdown == 0:
                self.matcher = matcher = matcher.replace(self.minscore or 0)
                self.replaced_times += 1
                if not matcher.is_active():
                    break
                usequality = self._use_block_quality()
                countdown = self.replace
            countdown -= 1
            if self.minscore != minscore:
                checkquality, minscore = True, self.minscore
            if usequality and checkquality and minscore is not None:
                self.skipped_times += matcher.skip_to_quality(minscore)
                if not matcher.is_active():
                    break
            yield matcher.id()
            checkquality = matcher.next()  # True when the matcher entered a new block


_NONE = 1 << 62  # the position of a child that has no documents left


class WordUnion(Matcher):
    """The OR of a sentence's words (their title, body and tags terms), scored as the sum of the
    terms' scores times the share of the query's words a document holds (``coordination``), in
    one flat matcher. Whoosh builds a binary tree of UnionMatchers instead, and for a question's
    15-20 words x 3 fields walking that tree (``is_active``/``id``/``next``/``score`` at every
    level) was most of a search's time. Here each term's position is kept in a list, so a step
    is one ``min`` over it and a call to the terms that match the document.

    It also skips what cannot reach the top N (the MaxScore algorithm, Turtle and Flood 1995):
    words ordered by their best possible score (their terms' bounds summed), the weakest whose
    best scores together, times the share of the words they are, stay below the score to beat
    are *optional*: a document holding only those cannot enter the top, so only the other
    (*essential*) words' documents are visited, and an optional term is asked only while the
    score can still reach the top. ``replace(minquality)`` (PacedTopCollector calls it every
    REPLACE_EVERY matches) re-splits for the new score to beat; the terms keep their positions.

    The hits and scores are those of Whoosh's tree with the coordination applied over it (tested
    against it), up to the order floating-point additions are made in."""

    def __init__(self, children: list[Matcher], coordination: Coordination, threshold: float = 0.0,
                 boost: float = 1.0) -> None:
        self._children = [c for c in children if c.is_active()]
        # scores are summed unboosted and multiplied by the query's ``boost`` when returned
        self._coord, self._boost_all = coordination, boost
        self._threshold = threshold / boost
        # a boosted term's wrapper is unwrapped (its boost applied here): one call less per use
        self._ms, self._boost, self._word = [], [], []
        for child in self._children:
            inner = child
            if type(child) is WrappingMatcher and child.child.term() is not None:
                inner = child.child
            self._ms.append(inner)
            self._boost.append(child.boost if inner is not child else 1.0)
            self._word.append(coordination.word_of(child))
        # children that are not one term (a phrase) count the words of their terms at a document
        self._compound = [(i, coordination.leaves([c])) for i, c in enumerate(self._children)
                          if self._word[i] is None]
        self._ids = [m.id() for m in self._ms]
        bound = [c.max_quality() if c.supports_block_quality() else math.inf for c in self._children]
        self._bound = sum(bound) * boost
        self._split(bound)
        self._at: list[int] = []
        self._id = self._first()

    def _split(self, bound: list[float]) -> None:
        groups: dict[Any, list[int]] = {}
        for i, word in enumerate(self._word):  # a child of no single word is a word of its own
            groups.setdefault(word if word is not None else ("child", i), []).append(i)
        weakest_first = sorted(groups.values(), key=lambda g: sum(bound[i] for i in g))
        total, split, phrases = 0.0, 0, False
        for n, group in enumerate(weakest_first, 1):
            total += sum(bound[i] for i in group)
            phrases = phrases or any(self._word[i] is None for i in group)
            if total * self._coord.share(n, unknown=phrases) >= self._threshold:
                break
            split = n
        self._essential = [i for group in weakest_first[split:] for i in group]
        # optional terms strongest first: (index, the best it and the ones after it can add, how
        # many words those are: the share a document's score can still gain)
        optional = [i for group in weakest_first[:split] for i in group][::-1]
        self._optional = [(i, sum(bound[j] for j in optional[k:]),
                           len({self._word[j] if self._word[j] is not None else ("child", j) for j in optional[k:]}))
                          for k, i in enumerate(optional)]
        self._unknown_share = any(w is None for w in self._word)

    def _first(self) -> int | None:
        ids = self._ids
        first = min([ids[i] for i in self._essential], default=_NONE)
        if first == _NONE:
            return None
        self._at = [i for i in self._essential if ids[i] == first]
        return first

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({len(self._essential)} essential, {len(self._optional)} optional)"

    def children(self) -> list[Matcher]:
        return list(self._children)

    def copy(self) -> WordUnion:
        return WordUnion([c.copy() for c in self._children], self._coord, self._threshold * self._boost_all,
                         self._boost_all)

    def is_active(self) -> bool:
        return self._id is not None

    def id(self) -> int:
        if self._id is None:
            raise ReadTooFar
        return self._id

    def next(self) -> bool:
        if self._id is None:
            raise ReadTooFar
        ms, ids = self._ms, self._ids
        for i in self._at:
            m = ms[i]
            m.next()
            ids[i] = m.id() if m.is_active() else _NONE
        self._id = self._first()
        return False  # no blocks of its own (see supports_block_quality)

    def skip_to(self, target: int) -> None:
        if self._id is None:
            raise ReadTooFar
        if target <= self._id:
            return
        ms, ids = self._ms, self._ids
        for i in self._essential:
            if ids[i] < target:
                m = ms[i]
                m.skip_to(target)
                ids[i] = m.id() if m.is_active() else _NONE
        self._id = self._first()

    def score(self) -> float:
        docid, threshold, coord = self._id, self._threshold, self._coord
        ms, ids, boost, word = self._ms, self._ids, self._boost, self._word
        score, matched = 0.0, set()
        for i in self._at:
            score += ms[i].score() * boost[i]
            matched.add(word[i])
        for i, can_add, words_left in self._optional:
            best = (score + can_add) * coord.share(len(matched) + words_left, unknown=self._unknown_share)
            if best < threshold:
                return best * self._boost_all  # below the score to beat whatever the rest adds: out of the top N
            if ids[i] < docid:
                m = ms[i]
                m.skip_to(docid)
                ids[i] = m.id() if m.is_active() else _NONE
            if ids[i] == docid:
                score += ms[i].score() * boost[i]
                matched.add(word[i])
        if score < threshold or not coord.words:
            return score * self._boost_all  # out of the top N whatever share of the words it holds (it only lowers)
        matched.discard(None)
        for _, leaves in self._compound:  # a phrase's words, as Whoosh's tree counted them
            matched.update(w for leaf, w in leaves if leaf.is_active() and leaf.id() == docid)
        return score * coord.share(len(matched)) * self._boost_all

    def replace(self, minquality: float = 0) -> Matcher:
        children = [c for c in self._children if c.is_active()]
        if not children:
            return NullMatcher()
        matcher = WordUnion(children, self._coord, minquality or 0.0, self._boost_all)
        return matcher if matcher.is_active() else NullMatcher()

    def max_quality(self) -> float:
        return self._bound

    def supports_block_quality(self) -> bool:
        # no blocks of its own to skip by quality: the essential/optional split does that work
        return False

    def supports(self, astype: str) -> bool:
        return all(c.supports(astype) for c in self._children)


class Coordination:
    """Which query word each term stands for (``keys``: (field, text) -> word, None for a term
    that counts no word) and the power of the share of the ``words`` a document holds that
    scales its score (cairn.search.ranking.coordinated). ``words`` 0: no coordination."""

    def __init__(self, keys: dict[tuple[str, str], str | None], words: int, power: float) -> None:
        self.keys, self.words, self.power = keys, words, power

    def word_of(self, matcher: Matcher) -> str | None:
        """The word of a matcher of one term (perhaps boosted); None for anything else."""
        leaves = list(matcher.term_matchers())
        return self._word(leaves[0]) if len(leaves) == 1 else None

    def _word(self, leaf: Matcher) -> str | None:
        fieldname, text = leaf.term()
        return self.keys.get((fieldname, text.decode("utf-8") if isinstance(text, bytes) else text))

    def leaves(self, children: list[Matcher]) -> list[tuple[Matcher, str]]:
        """Every term matcher under ``children`` that stands for a word, with the word."""
        out = []
        for child in children:
            for leaf in child.term_matchers():
                word = self._word(leaf)
                if word is not None:
                    out.append((leaf, word))
        return out

    def share(self, held: int, unknown: bool = False) -> float:
        """The factor of a document's score when it holds ``held`` of the words (at most 1); 1
        when the count is ``unknown`` (children that are not one term, such as phrases)."""
        if not self.words or unknown:
            return 1.0
        return min(held / self.words, 1.0) ** self.power
