"""Facet counts for search: matches per kind, channel, space, author and tag, over every match
the searcher may read (not one page), each thread counted once as results list it once. Uses the
same query and ACL filter as ``Index.search``; a Whoosh reader like cairn.search.engine."""

from __future__ import annotations

from whoosh import sorting
from whoosh.qparser import OrGroup
from whoosh.query import And, Or, Term
from whoosh.sorting import FieldFacet

from cairn.search.engine import Index
from cairn.search.query import ParsedQuery

FACET_FIELDS = {"kind": "kind", "channel": "channel", "space": "space", "author": "author", "tag": "tags"}
FACET_TOP = 20                # values per facet, most frequent first


def facet_counts(index: Index, parsed: ParsedQuery, tokens: list[str], kinds: list[str] | None = None,
                 top: int = FACET_TOP) -> dict[str, dict[str, int]]:
    """Matching threads and articles per kind, channel, space, author and tag, over every
    readable match (not one page): the same query and ACL filter as ``search``, AND first,
    then OR."""
    searcher = index.searcher()
    acl = index.acl_filter(tokens)
    query_filter = And([acl, Or([Term("kind", k) for k in kinds])]) if kinds else acl
    facets = {name: FieldFacet(fieldname, allow_overlap=fieldname == "tags", maptype=sorting.UnorderedList)
              for name, fieldname in {**FACET_FIELDS, "thread": "thread"}.items()}
    results = searcher.search(index.build_query(parsed), filter=query_filter, groupedby=facets,
                              scored=False, limit=None)
    if results.is_empty() and parsed.text and len(parsed.text.split()) > 1:
        results = searcher.search(index.build_query(parsed, text_group=OrGroup.factory(0.9)),
                                  filter=query_filter, groupedby=facets, scored=False, limit=None)
    # a thread counts once, as search results show it once (its best post)
    thread_of = {doc: thread for thread, docs in results.groups("thread").items() for doc in docs}
    counts = {}
    for name in FACET_FIELDS:
        groups = {str(value): len({thread_of.get(d, d) for d in docs})
                  for value, docs in results.groups(name).items() if value not in (None, "")}
        counts[name] = dict(sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
    return counts
