"""The search interface: index, delete, query with an ACL filter, suggest, more-like-this.

Callers use only these functions, so the Whoosh backend (cairn.search.engine) can be replaced
by a server-side engine without touching them. Every read takes the searcher's ACL tokens from
cairn.auth.permissions before the query runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from cairn import outbox
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.extensions import db
from cairn.pagination import decode_cursor, encode_cursor
from cairn.search import bulk, documents, spelling
from cairn.search.engine import SEARCH_LIMIT, Index
from cairn.search.facets import facet_counts
from cairn.search.gaps import latest_search, normalize_query
from cairn.search.models import SearchLog
from cairn.search.query import ParsedQuery, parse, plain_words, replace_words


def _index() -> Index:
    return current_app.extensions["cairn.search"]


def init_app(app) -> None:
    app.extensions["cairn.search"] = Index(app.config["INDEX_DIR"])


def sync_document(kind: str, obj_id: int) -> None:
    """Make the index agree with the database for one row (idempotent)."""
    doc = documents.load_document(kind, obj_id)
    key = documents.doc_key(kind, obj_id)
    _index().upsert([doc] if doc else [], deletes=[] if doc else [key])


def sync_documents(kind: str, ids: list[int]) -> None:
    """``sync_document`` for many rows in one index commit (bulk imports)."""
    loaded = documents.load_documents(kind, ids)
    _index().upsert([doc for doc in loaded.values() if doc],
                    deletes=[documents.doc_key(kind, i) for i, doc in loaded.items() if not doc])


def reindex(progress=None) -> int:
    """Rebuild the whole index from the database; returns the number of documents.

    The index events waiting when the rebuild starts were committed with their changes, so the
    rebuild reads those changes: they are marked processed after it instead of being applied again
    one by one (a bulk import done without a worker leaves thousands of them behind). The rows
    are read in sets and written in one writer (cairn.search.bulk).
    """
    superseded = [event_id for event_id, _ in outbox.unprocessed("index", 0, None)]
    count = bulk.rebuild(_index(), progress)
    outbox.mark_processed(superseded)
    return count


def total_rows() -> int:
    return documents.count_rows()


def doc_count() -> int:
    return _index().doc_count()


@dataclass
class SearchPage:
    total: int
    items: list[dict[str, Any]]
    next: str | None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    log_id: int | None = None  # the SearchLog row of this search: result clicks are marked on it
    corrected_query: str | None = None  # the items are for this spelling fix of the query


def query(user: User, q: str, kind: str | None = None, limit: int = 20, cursor: str | None = None,
          exact: bool = False) -> SearchPage:
    """One page of what ``user`` may read for ``q``. A misspelt query is answered for its correction
    (``corrected_query``) unless ``exact``; a correction that would find more is a ``suggestion``."""
    parsed = parse(q)
    offset = (decode_cursor(cursor) or [0])[0]
    kinds = [kind] if kind else None
    tokens = perm.search_tokens(user)
    # enough ranked hits for this page after threads fold, not a fixed 200 (see SEARCH_LIMIT)
    hits, _ = _index().search(parsed, tokens, kinds=kinds, limit=max(SEARCH_LIMIT, 2 * (offset + limit)))
    hits = _collapse_threads(hits)
    corrected, suggestion = None, None
    if not exact:
        hits, parsed, corrected, suggestion = _spelling(q, tokens, kinds, hits, parsed)
    facets = facet_counts(_index(), parsed, tokens, kinds, hits=hits)
    page = hits[offset: offset + limit]
    items = [_item(h) for h in page]
    badges = documents.verification_badges([i["id"] for i in items if i["kind"] == "article"])
    for item in items:
        if item["kind"] == "article":
            item["verification"] = badges.get(item["id"], "unverified")
    nxt = encode_cursor(offset + limit) if len(hits) > offset + limit else None
    log_id = None
    if offset == 0 and q.strip():
        with db.transaction() as s:
            log = SearchLog(user_id=user.id, query=q.strip()[:500], normalized=normalize_query(q), hits=len(hits))
            s.add(log)
            s.flush()
            log_id = log.id
    elif q.strip():  # a later page of the same search: a click there answers the first page's row
        log_id = latest_search(user, q)
    return SearchPage(total=len(hits), items=items, next=nxt, facets=facets, log_id=log_id,
                      suggestion=suggestion, corrected_query=corrected)


def _spelling(q: str, tokens: list[str], kinds: list[str] | None, hits: list[dict[str, Any]],
              parsed: ParsedQuery) -> tuple[list[dict[str, Any]], ParsedQuery, str | None, str | None]:
    """Google-style: a query with a word no readable document has is answered for its correction
    when that finds more ("showing results for"); otherwise a correction that finds more is only
    offered ("did you mean"). Corrections come from readable documents only (spelling.spell)."""
    spelled = spelling.spell(_index(), plain_words(q), tokens)
    fixes = {w: s.correction for w, s in spelled.items() if s.correction}
    if not fixes:
        return hits, parsed, None, None
    fixed_q = replace_words(q, fixes)
    fixed_parsed = parse(fixed_q)
    fixed_hits = _collapse_threads(_index().search(fixed_parsed, tokens, kinds=kinds)[0])
    if len(fixed_hits) <= len(hits):
        return hits, parsed, None, None
    if not hits or any(s.hits == 0 for s in spelled.values()):
        return fixed_hits, fixed_parsed, fixed_q, None
    return hits, parsed, None, fixed_q


def suggest(user: User, q: str, limit: int = 8) -> dict[str, Any]:
    """Search-box autocomplete: completed queries and matching documents ``user`` may read."""
    completions, docs = spelling.complete(_index(), q, perm.search_tokens(user), limit=limit)
    items = [{"kind": d["kind"], "id": d["obj_id"], "title": _label(d), "url": _url(d),
              "container": d.get("container")} for d in docs]
    return {"completions": completions, "items": items}


# Duplicate hints may miss articles indexed in the last this-many seconds: a promotion worker keeps
# its searcher that long instead of opening a new one after every index commit (while promotions
# drain, the index takes in a drafted article every few hundred milliseconds).
SIMILAR_MAX_STALE = 5.0


def similar_articles(user: User, text: str, limit: int = 5) -> list[dict[str, Any]]:
    """Articles the user can see that look like ``text`` (duplicate detection)."""
    hits = _index().similar(text, perm.search_tokens(user), kind="article", limit=limit,
                            max_stale=SIMILAR_MAX_STALE)
    return [{"id": h["obj_id"], "title": h["title"], "score": round(h["score"], 3)} for h in hits]


def _collapse_threads(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for h in hits:
        if h["thread"] in seen:
            continue
        seen.add(h["thread"])
        out.append(h)
    return out


def _item(h: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": h["kind"],
        "id": h["obj_id"],
        "title": _label(h),
        "snippet": h["snippet"],
        "url": _url(h),
        "score": round(h["score"], 4),
        "author": h["author"],
        "container": h.get("container"),
        "status": h["status"],
        "verified": bool(h.get("verified")),
        "created": h["created"].isoformat() + "Z" if h.get("created") else None,
    }


def _url(h: dict[str, Any]) -> str:
    return f"/posts/{h['obj_id']}" if h["kind"] == "post" else f"/articles/{h['obj_id']}"


def _label(h: dict[str, Any]) -> str:
    """A post's result title: its first 80 characters on one line (the indexed text keeps blocks apart)."""
    return h["title"] or " ".join(h["body"][:160].split())[:80]
