"""Facet counts for search: matches per kind, channel, space, author and tag, over every match
the searcher may read (not one page), each thread counted once as results list it once. Uses the
same query and ACL filter as ``Index.search``; a Whoosh reader like cairn.search.engine."""

from __future__ import annotations

from array import array

from whoosh import sorting
from whoosh.codec.whoosh3 import W3TermsReader
from whoosh.query import And, Or, Term
from whoosh.reading import SegmentReader
from whoosh.sorting import Categorizer, FieldFacet

from cairn.search.engine import Index
from cairn.search.query import ParsedQuery
from cairn.search.ranking import AND_FIRST_MAX_WORDS, ANY_WORDS, word_count
from cairn.search.searcher import posting_blocks

FACET_FIELDS = {"kind": "kind", "channel": "channel", "space": "space", "author": "author", "tag": "tags"}
FACET_TOP = 20                # values per facet, most frequent first


def facet_counts(index: Index, parsed: ParsedQuery, tokens: list[str], kinds: list[str] | None = None,
                 top: int = FACET_TOP, hits: list[dict] | None = None) -> dict[str, dict[str, int]]:
    """Matching threads and articles per kind, channel, space, author and tag, over every
    readable match (not one page): the same query and ACL filter as ``search``.

    A question of many words, or one whose words are never all together, is answered by OR
    (``Index.search``): nearly every document shares a word with it, so counting all those
    matches would cost a pass over the index and count noise. Its facets count the ranked
    ``hits`` (the results listed) instead."""
    words = word_count(parsed.text)
    if hits is not None and words > AND_FIRST_MAX_WORDS:
        return _from_hits(hits, top)
    searcher = index.searcher()
    acl = index.acl_filter(tokens)
    query_filter = And([acl, Or([Term("kind", k) for k in kinds])]) if kinds else acl
    facets = {name: _KeptFacet(fieldname, maptype=sorting.UnorderedList)
              for name, fieldname in {**FACET_FIELDS, "thread": "thread"}.items()}
    results = searcher.search(index.build_query(parsed), filter=query_filter, groupedby=facets,
                              scored=False, limit=None)
    if results.is_empty() and words > 1:
        if hits is not None:
            return _from_hits(hits, top)
        results = searcher.search(index.build_query(parsed, text_group=ANY_WORDS),
                                  filter=query_filter, groupedby=facets, scored=False, limit=None)
    # a thread counts once, as search results show it once (its best post)
    thread_of = {doc: thread for thread, docs in results.groups("thread").items() for doc in docs}
    counts = {}
    for name in FACET_FIELDS:
        groups = {str(value): len({thread_of.get(d, d) for d in docs})
                  for value, docs in results.groups(name).items() if value not in (None, "")}
        counts[name] = dict(sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
    return counts


def _from_hits(hits: list[dict], top: int) -> dict[str, dict[str, int]]:
    """The facets of the listed results (one per thread already)."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
    for hit in hits:
        for name, fieldname in FACET_FIELDS.items():
            values = (hit.get(fieldname) or "").split() if fieldname == "tags" else [hit.get(fieldname)]
            for value in {str(v) for v in values if v not in (None, "")}:
                counts[name][value] = counts[name].get(value, 0) + 1
    return {name: dict(sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
            for name, groups in counts.items()}


class _KeptFacet(FieldFacet):
    """A field's value(s) of every document, read from its postings once per segment and kept for
    as long as the segment is part of the index (FilterCachingSearcher.kept): Whoosh's own
    categorizers list them again for every new searcher, i.e. after every index commit, and over
    the whole index for a field without a column (about 2 s for the first short query after a
    post at 100,000 posts); tags, a document's many values, even for every search."""

    def __init__(self, fieldname: str, maptype=None) -> None:
        super().__init__(fieldname, allow_overlap=fieldname == "tags", maptype=maptype)

    def categorizer(self, global_searcher):
        return _KeptCategorizer(global_searcher, self.fieldname, self.allow_overlap)


class _KeptCategorizer(Categorizer):
    def __init__(self, global_searcher, fieldname: str, allow_overlap: bool) -> None:
        self._global, self._fieldname, self.allow_overlap = global_searcher, fieldname, allow_overlap
        self._values: list = []
        self._ords: array | dict = {}

    def set_searcher(self, segment_searcher, docoffset):
        kept = self._global.kept(segment_searcher)
        key = ("facet", self._fieldname)
        if key not in kept:
            kept[key] = _segment_values(segment_searcher, self._fieldname, self.allow_overlap)
        self._values, self._ords = kept[key]

    def key_for(self, matcher, segment_docnum):
        i = self._ords[segment_docnum]
        return self._values[i] if i >= 0 else None

    def keys_for(self, matcher, segment_docnum):
        return [self._values[i] for i in self._ords.get(segment_docnum, ())] or [None]


def _segment_values(segment_searcher, fieldname: str, many: bool) -> tuple[list, array | dict]:
    """(values, per document of the segment: the index of its value, -1 for none; or, for a field
    of ``many`` values, the lists of its values' indexes by document, for the documents that have
    any: tags are on few posts). Deleted documents may keep a value: no query matches them.

    Read once per segment: from the field's column when it has one (the thread field, whose
    values are nearly one per post: about a second at 1,000,000 posts), else from the term file
    in order, a block of postings at a time (``_term_postings``), not Whoosh's way (a lookup per
    term, then a generator step per posting). With 1,000,000 posts the first short search of a
    process took 13 s; 8.8 s with the term file read in order; 2.0 s with the thread's column,
    the tags kept only for the documents that have any, and the ACL filter's documents read by
    blocks too (cairn.search.searcher._docs)."""
    reader = segment_searcher.reader()
    field = segment_searcher.schema[fieldname]
    count = reader.doc_count_all()
    values: list = []
    ords: array | dict = {} if many else array("i", [-1]) * count
    if not many and reader.has_column(fieldname):
        index_of: dict[bytes, int] = {}
        for docnum, raw in enumerate(reader.column_reader(fieldname, translate=False)):
            if raw:
                i = index_of.get(raw)
                if i is None:
                    i = index_of[raw] = len(values)
                    values.append(field.from_column_value(raw))
                ords[docnum] = i
        return values, ords
    for i, (btext, blocks) in enumerate(_term_postings(reader, fieldname, field)):
        values.append(field.from_bytes(btext))
        for ids in blocks:
            if many:
                for docnum in ids:
                    ords.setdefault(docnum, []).append(i)
            else:
                for docnum in ids:
                    ords[docnum] = i
    return values, ords


def _term_postings(reader, fieldname: str, field):
    """(term bytes, its postings' document numbers a block at a time) of every term of the field,
    walking the segment's term file in order; Whoosh's term-by-term reading for other readers."""
    terms = getattr(reader, "_terms", None)
    if not isinstance(reader, SegmentReader) or not isinstance(terms, W3TermsReader):
        for btext in field.sortable_terms(reader, fieldname):
            yield btext, [reader.postings(fieldname, btext).all_ids()]
        return
    for (name, btext), terminfo in terms.items_from(fieldname, b""):
        if name != fieldname:
            break
        matcher = terms._codec.postings_reader(terms._postfile, terminfo, field.format)
        yield btext, posting_blocks(matcher)
