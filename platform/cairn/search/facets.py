"""Facet counts for search: matches per kind, channel, space, author and tag, over every match
the searcher may read (not one page), each thread counted once as results list it once. Uses the
same query and ACL filter as ``Index.search``; a Whoosh reader like cairn.search.engine."""

from __future__ import annotations

from whoosh import sorting
from whoosh.query import And, Or, Term
from whoosh.sorting import FieldFacet, OverlappingCategorizer

from cairn.search.engine import Index
from cairn.search.query import ParsedQuery
from cairn.search.ranking import AND_FIRST_MAX_WORDS, ANY_WORDS, word_count

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
    facets = {name: (_TagsFacet if fieldname == "tags" else FieldFacet)(fieldname, maptype=sorting.UnorderedList)
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


class _TagsFacet(FieldFacet):
    """A document may have many tags. Whoosh's categorizer for such a field lists every document's
    values again for each search, a pass over the whole index (about 150 ms of a short query at
    100,000 posts); this one keeps the lists with the segment's searcher, i.e. for one index
    generation, as Whoosh already does for single-valued fields."""

    def __init__(self, fieldname: str, maptype=None) -> None:
        super().__init__(fieldname, allow_overlap=True, maptype=maptype)

    def categorizer(self, global_searcher):
        return _KeptListsCategorizer(global_searcher, self.fieldname)


class _KeptListsCategorizer(OverlappingCategorizer):
    def set_searcher(self, segment_searcher, docoffset):
        key = ("cairn.lists", self._fieldname)
        kept = segment_searcher._field_caches.get(key)
        if kept is None or self._use_vectors or self._use_column:
            super().set_searcher(segment_searcher, docoffset)
            if self._lists is not None:
                segment_searcher._field_caches[key] = self._lists
            return
        self._segment_searcher, self._lists = segment_searcher, kept

