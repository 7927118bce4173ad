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
import threading
import time
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.collectors import TopCollector
from whoosh.matching import FilterMatcher, Matcher
from whoosh.query import And, Or, Query, Term
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
            docs = frozenset(_docs(leaf, query))
            self.store.put(filters, query, docs, self.FILTERS_KEPT)
        return docs

    def _filter_to_comb(self, obj):
        if not isinstance(obj, Query):
            return super()._filter_to_comb(obj)
        return self.filter_docs(obj)


def _docs(leaf: Searcher, query: Query) -> set[int] | Any:
    """The segment's documents matching a filter ``query``: an OR of terms (the ACL tokens, the
    kinds) and an AND of those from their posting blocks, a block's ids at a time; anything else
    as Whoosh lists them (a matcher tree stepped a document at a time: at 1,000,000 posts, a
    searcher's ACL set took 2.5 s to list for the first search of a process). Deleted documents
    may be in it: a filter only allows."""
    if type(query) is Term:
        reader = leaf.reader()
        if (query.fieldname, query.text) not in reader:
            return set()
        matcher = reader.postings(query.fieldname, query.text)
        if type(matcher) is FilterMatcher and type(matcher.child) is W3LeafMatcher:
            matcher = matcher.child
        return set().union(*posting_blocks(matcher))
    if type(query) is Or:
        return set().union(*(_docs(leaf, q) for q in query.subqueries))
    if type(query) is And:
        parts = sorted((_docs(leaf, q) for q in query.subqueries), key=len)
        return parts[0].intersection(*parts[1:]) if parts else set()
    return query.docs(leaf)


def posting_blocks(matcher: Matcher):
    """A term's document numbers, a posting block's at a time (Whoosh's posting reader steps
    through them one call at a time); all at once from another matcher. Reads the reader's
    private block state."""
    if type(matcher) is not W3LeafMatcher:
        yield matcher.all_ids()
        return
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        yield matcher._ids
        matcher._next_block()


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
    and the blocks that cannot reach the score are still skipped as soon as it rises. A matcher
    that skips by that score itself (cairn.search.matching.WordUnion.raise_threshold) is told of
    each rise at once."""

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
                raise_threshold = getattr(matcher, "raise_threshold", None)
                if raise_threshold is not None:
                    raise_threshold(minscore)
            if usequality and checkquality and minscore is not None:
                self.skipped_times += matcher.skip_to_quality(minscore)
                if not matcher.is_active():
                    break
            yield matcher.id()
            checkquality = matcher.next()  # True when the matcher entered a new block
