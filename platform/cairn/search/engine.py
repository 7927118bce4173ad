"""The Whoosh backend. Nothing outside cairn.search imports whoosh.

Whoosh has one writer per index: every write happens in the `index` queue's single consumer
(or in `cairn reindex`), takes the lock with a timeout and is retried on LockError.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from whoosh import index as windex
from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.collectors import FilterCollector
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.index import LockError
from whoosh.qparser import AndGroup, FieldsPlugin, MultifieldParser, PlusMinusPlugin
from whoosh.query import And, DateRange, Every, Not, Or, Phrase, Query, Require, Term

from cairn.errors import Invalid
from cairn.search.analysis import FusedStemmingAnalyzer
from cairn.search.query import ParsedQuery
from cairn.search.ranking import (
    AND_FIRST_MAX_WORDS,
    ANY_WORDS,
    FIELD_WEIGHTS,
    WEIGHTING,
    coordinated,
    hit_boost,
    plain_question,
    word_count,
)
from cairn.search.searcher import (
    FilterCachingSearcher,
    PacedTopCollector,
    SegmentStore,
    open_reader,
)

log = logging.getLogger(__name__)


def _coarse_datetime() -> DATETIME:
    """A stored, sortable date indexed at two precisions (shift_step 32) instead of Whoosh's eight:
    its terms were a quarter of a post's, and a before:/after: range over 100,000 posts took no
    longer (0.1-0.4 s at 32, 0.25-1.9 s at 8, on a loaded machine). An index keeps the fields it
    was built with (Whoosh stores the schema), so an older index reads and writes as before."""
    field = DATETIME(stored=True, sortable=True)
    field.shift_step = 32
    return field


# Only what a query asks is indexed (as terms): reactions and status are read from the stored
# fields (ranking.hit_boost), so they are STORED only. A rebuild writes this schema (Index.write).
# Title and body: Whoosh's StemmingAnalyzer() in one generator (the same terms, cheaper to index).
SCHEMA = Schema(
    id=ID(unique=True, stored=True),
    kind=ID(stored=True),
    obj_id=STORED,
    title=TEXT(stored=True, analyzer=FusedStemmingAnalyzer(), field_boost=2.5),
    body=TEXT(stored=True, analyzer=FusedStemmingAnalyzer()),
    author=ID(stored=True),
    author_name=STORED,
    channel=ID(stored=True),
    space=ID(stored=True),
    container=STORED,
    thread=ID(stored=True, sortable=True),  # a column: facets count a thread once (facets._segment_values)
    tags=KEYWORD(lowercase=True, scorable=True, stored=True),
    created=_coarse_datetime(),
    status=STORED,
    verified=BOOLEAN(stored=True),
    answer=BOOLEAN(stored=True),
    reactions=STORED,
    acl=KEYWORD(),
)


# Hits ranked per search (before threads fold and pages are cut). Whoosh skips blocks that cannot
# reach the top N: at 60 instead of 200 a question takes a third of the time.
SEARCH_LIMIT = 60
# A snippet is looked for in the first this-many characters of a body (Whoosh re-analyses the text
# to find it; its default, 32768, made ten snippets of long reference pages most of a query's time).
SNIPPET_CHARLIMIT = 8000
# Matches between rebuilds of a search's matcher tree (PacedTopCollector); the same hits at any
# value (FAQ questions at 100,000 posts, Index.search p50 on a loaded machine: Whoosh's collector
# at 50: 124.5 ms; paced at 50: 115.3 ms, at 200: 110.7 ms, at 20: 143.7 ms).
REPLACE_EVERY = 200


class Index:
    """One Whoosh index directory: cached searcher for reads, locked writer for writes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ix: windex.Index | None = None
        self._local = threading.local()  # each thread's searcher (see searcher())
        self._lock = threading.Lock()
        self._writes = 0  # commits made through this object: a stale searcher never hides our own
        self._segments = SegmentStore()  # what reads keep of each segment across generations

    def open(self) -> windex.Index:
        if self._ix is None:
            os.makedirs(self.path, exist_ok=True)
            self._create_once()
            for attempt in range(20):  # open can fail while a commit renames the TOC
                try:
                    self._ix = windex.open_dir(self.path)
                    break
                except (OSError, windex.EmptyIndexError):
                    if attempt == 19:
                        raise
                    time.sleep(0.05)
        return self._ix

    def _create_once(self) -> None:
        """Create the index if it is missing, under a file lock: the web and a worker may both
        find it missing on a first start, and Whoosh's create deletes the index files it finds
        (or fails with "File '_MAIN_0.toc' exists" when both create at once).

        Only the first TOC is written here (``TOC.create``), not ``create_in``: that one reads the
        TOC back, and a process that found the new index meanwhile may have committed and deleted
        it (FileNotFoundError '_MAIN_0.toc'). open() opens whatever generation is newest."""
        if self._exists():
            return
        lock = FileStorage(self.path).lock("CREATE_LOCK")  # not "_MAIN_*": create deletes those
        lock.acquire(blocking=True)
        try:
            if not self._exists():
                windex.TOC.create(FileStorage(self.path), SCHEMA, windex._DEF_INDEX_NAME)
        finally:
            lock.release()

    def _exists(self) -> bool:
        """exists_in() opens the newest TOC, which a concurrent commit may delete meanwhile."""
        for attempt in range(20):
            try:
                return windex.exists_in(self.path)
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.05)
        return False

    def searcher(self, max_stale: float = 0.0):
        """This thread's cached searcher, replaced by a new one when the index has a newer generation
        (and, with ``max_stale``, is older than that many seconds and this process has not written
        since: for reads where a few seconds' lag behind another process's writes is fine, such as
        duplicate hints while the index worker takes in the articles a promotion worker drafts).

        One per thread: a Whoosh searcher reads its files through shared file positions, so threads
        searching with one searcher (gunicorn's gthread workers) read each other's bytes
        (UnpicklingError, zlib.error, "Block tag error" 500s under bench/load.py).
        Not ``Searcher.refresh()``: in whoosh-reloaded 2.7.5 it raises TypeError when the index
        was empty, and after a merge it keeps the merged-away segments, so deleted and replaced
        documents come back. The old searcher is left to the garbage collector, not closed: this
        thread may still hold results read with it.
        """
        searcher = getattr(self._local, "searcher", None)
        if (searcher is not None and max_stale and self._local.writes == self._writes
                and time.monotonic() - self._local.opened < max_stale):
            return searcher
        if searcher is None or not searcher.up_to_date():
            with self._lock:
                ix = self.open()
                reader = open_reader(ix, searcher.reader() if searcher is not None else None)
                searcher = self._local.searcher = FilterCachingSearcher(
                    reader, fromindex=ix, weighting=WEIGHTING, store=self._segments)
                self._segments.keep_only({segment.segment_id() for segment in reader.segments() or ()})
                self._local.opened, self._local.writes = time.monotonic(), self._writes
        return searcher

    def write(self, apply, timeout: float = 30.0, clear: bool = False) -> None:
        """Run ``apply(writer)`` under the index lock and commit; retried on LockError.

        With ``clear`` the commit replaces every document (a rebuild): with the writer's own and
        with the segments ``apply`` returns, written meanwhile by other processes (bulk.rebuild).
        It writes the current SCHEMA: an index built by an older Cairn gets it here."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                writer = self.open().writer(timeout=min(5.0, timeout))
                break
            except LockError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        if clear:
            writer.schema = SCHEMA
        try:
            segments = apply(writer) or []
        except BaseException:
            writer.cancel()
            raise
        try:
            writer.commit(mergetype=(lambda _writer, _old: list(segments)) if clear else None)
        except BaseException:
            _unlock(writer)  # a failed commit must not keep the index locked while its error lives on
            raise
        finally:
            self._writes += 1

    def upsert(self, docs: Iterable[dict[str, Any]], deletes: Iterable[str] = ()) -> None:
        def apply(w):
            for key in deletes:
                w.delete_by_term("id", key)
            for doc in docs:
                w.update_document(**doc)

        self.write(apply)

    def rebuild(self, docs: Iterable[dict[str, Any]], progress=None) -> int:
        count = 0

        def apply(w):
            nonlocal count
            for doc in docs:
                w.add_document(**doc)
                count += 1
                if progress:
                    progress(count)

        self.write(apply, timeout=300, clear=True)
        return count

    def doc_count(self) -> int:
        return self.searcher().doc_count()

    # --- reads ---------------------------------------------------------------------------------

    def acl_filter(self, tokens: list[str]) -> Query:
        return Or([Term("acl", t) for t in tokens])

    def _text_query(self, text: str, group=None) -> Query:
        text = plain_question(text)
        if group is None:  # a few keywords must all match; a sentence ranks by how many it has
            group = AndGroup if len(text.split()) <= AND_FIRST_MAX_WORDS else ANY_WORDS
        parser = MultifieldParser(["title", "body", "tags"], SCHEMA, group=group, fieldboosts=FIELD_WEIGHTS)
        # a minus excludes only at the start of a word: "k8s-prod" is one term, not "k8s NOT prod"
        parser.add_plugin(PlusMinusPlugin(minusexpr=r"(?<![^\s(])-"))
        # our operators (from:, in:, tag: ...) are read before; Whoosh's own field:value syntax
        # would reach internal fields (acl, obj_id) and fail on the stored-only ones
        parser.remove_plugin_class(FieldsPlugin)
        try:
            query = parser.parse(text)
        except Exception as exc:  # noqa: BLE001 - Whoosh's parser fails in many ways ("a (-b c)")
            log.info("unparsable query %r: %r", text, exc)
            raise Invalid("The query could not be read: simplify it.", {"q": ["malformed query"]}) from None
        query = query.accept(_phrase_where_positions)
        return coordinated(query, SCHEMA["body"].analyzer) if group is ANY_WORDS else query

    def build_query(self, parsed: ParsedQuery, text_group=None) -> Query:
        parts: list[Query] = []
        if parsed.text:
            parts.append(self._text_query(parsed.text, text_group))
        for fieldname, value in parsed.terms:
            parts.append(Term(fieldname, True if fieldname in ("verified", "answer") else value))
        if parsed.after or parsed.before:
            parts.append(DateRange("created", parsed.after, parsed.before))
        for fieldname, value in parsed.excluded:
            parts.append(Not(Term(fieldname, True if fieldname in ("verified", "answer") else value)))
        if not parts:
            return Every()
        return And(parts) if len(parts) > 1 else parts[0]

    def search(self, parsed: ParsedQuery, tokens: list[str], limit: int = SEARCH_LIMIT,
               kinds: list[str] | None = None, max_stale: float = 0.0) -> tuple[list[dict[str, Any]], int]:
        """Ranked hits (dicts with snippet) visible through ``tokens``: a few keywords AND first,
        then OR; a longer text OR at once, more matched words ranking higher."""
        searcher = self.searcher(max_stale)
        acl = self.acl_filter(tokens)
        query_filter = And([acl, Or([Term("kind", k) for k in kinds])]) if kinds else acl
        query = self.build_query(parsed)
        # no terms=True: recording each hit's matched terms costs a fifth of a search, and the
        # highlighter finds the query's terms without it
        results = _top(searcher, query, query_filter, limit)
        words = word_count(parsed.text)
        if results.scored_length() == 0 and 1 < words <= AND_FIRST_MAX_WORDS:
            query = self.build_query(parsed, text_group=ANY_WORDS)
            results = _top(searcher, query, query_filter, limit)
        results.fragmenter = ContextFragmenter(maxchars=240, surround=60, charlimit=SNIPPET_CHARLIMIT)
        results.formatter = HtmlFormatter(tagname="mark", classname="hit", termclass="t")
        hits = []
        now = datetime.now(UTC).replace(tzinfo=None)  # the index stores naive UTC
        for hit in results:
            fields = hit.fields()
            hits.append(_Hit(hit, {**fields, "score": hit.score * hit_boost(fields, now)}))
        # equal scores (two replies "gopher reply 0" and "... 3") in a fixed order, not in the index's
        # document numbering, which a rebuild in several processes lays out differently: the same
        # post of a thread is shown whatever the segments (tests/cli/test_reindex.py)
        hits.sort(key=lambda h: (-h["score"], h["kind"], h["obj_id"]))
        # the count is of the ranked hits, not of every match: Whoosh's count (even its
        # estimated_length()) runs the whole query again after a block-skipping search, a quarter
        # of a question's time, and no caller shows it
        return hits, len(hits)

    def similar(self, text: str, tokens: list[str], kind: str = "article", limit: int = 5,
                numterms: int = 12, max_stale: float = 0.0) -> list[dict[str, Any]]:
        """Documents of ``kind`` visible through ``tokens`` that share the text's most telling words
        (Whoosh's more-like-this: its key terms, weighted, ORed over title and body), with their
        stored fields and score. Not search(): no query parsing, snippets or hit count, which were
        three quarters of a promotion's duplicate check."""
        searcher = self.searcher(max_stale)
        terms = searcher.key_terms_from_text("body", text, numterms=numterms)
        if not terms:
            return []
        words = Or([Term(field, word, boost=weight * FIELD_WEIGHTS[field])
                    for word, weight in terms for field in ("title", "body")])
        # the kind is required inside the query (scores from the words only), so the matcher skips
        # to the few articles instead of visiting every post that shares a word with the text
        # (at 100,000 posts: ~120 -> ~45 ms). Without Whoosh's block-quality skipping, whose
        # RequireMatcher.skip_to_quality fails an assertion (whoosh-reloaded 2.7.5).
        query = Require(words, Term("kind", kind))
        # the same filter query as search(kinds=[kind]) builds: its document set is cached once
        query_filter = And([self.acl_filter(tokens), Or([Term("kind", kind)])])
        return [{**hit.fields(), "score": hit.score}
                for hit in searcher.search(query, filter=query_filter, limit=limit, optimize=False)]

    def key_terms(self, text: str, numterms: int = 12, max_stale: float = 0.0) -> list[str]:
        return [t for t, _ in self.searcher(max_stale).key_terms_from_text("body", text, numterms=numterms)]


def _cached_lengths_reader(self, fieldname, column):
    """W3PerDocReader._cached_reader that also remembers "no such column": whoosh-reloaded
    2.7.5 stats a file for every posting of a field without lengths (ids, keywords, numbers,
    dates) while it writes a segment, a fifth of the time a reindex takes. A segment's files
    never change, so the answer holds for the reader's life."""
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
        return reader


W3PerDocReader._cached_reader = _cached_lengths_reader


class _Hit(dict):
    """A hit's stored fields and score; its snippets ("snippet", "title_html") are highlighted
    on first use, so only the page that is shown pays for them, not every ranked hit."""

    def __init__(self, hit, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self._hit = hit

    def __missing__(self, key: str):
        if key == "snippet":
            value = self._hit.highlights("body") or self._hit.highlights("title") or ""
        elif key == "title_html":
            value = self._hit.highlights("title") if self.get("title") else ""
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _top(searcher, query: Query, query_filter: Query, limit: int):
    """The ``limit`` best hits of ``query`` among ``query_filter``'s documents. As
    ``searcher.search(query, filter=..., limit=...)``, but the matcher tree is rebuilt for the
    score a hit must beat every REPLACE_EVERY matches instead of every 10 and at every rise of
    that score (PacedTopCollector): each rebuild walks the tree of a question's 15-20 terms, and
    was a third of its matching time (CPU p95 of the bench's questions at 100,000 posts: 146 ->
    109 ms at every 50 matches; see REPLACE_EVERY for the rebuilds at each rise)."""
    collector = FilterCollector(PacedTopCollector(limit, replace=REPLACE_EVERY), allow=query_filter)
    searcher.search_with_collector(query, collector)
    results = collector.results()
    # each hit's snippet asks for the query's terms in the index again (Whoosh's highlighter):
    # a question's 15-20 terms looked up ten times were half of its snippets' time
    terms: dict[tuple, Any] = {}
    ask = results.query_terms

    def query_terms(expand=False, fieldname=None):
        if (expand, fieldname) not in terms:
            terms[expand, fieldname] = ask(expand=expand, fieldname=fieldname)
        return terms[expand, fieldname]

    results.query_terms = query_terms
    return results


def _unlock(writer) -> None:
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001  (the half-committed segment may refuse; the lock must go anyway)
        if writer.writelock:
            writer.writelock.release()


def _phrase_where_positions(q: Query) -> Query:
    """A phrase needs positions: on a keyword field (tags) it becomes "all these words"."""
    if isinstance(q, Phrase) and not SCHEMA[q.fieldname].format.supports("positions"):
        return And([Term(q.fieldname, word) for word in q.words])
    return q
