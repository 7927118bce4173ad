"""Adding a rebuild's documents to a Whoosh segment writer with less Python per document.

``SegmentWriter.add_document`` is generic: per document it sorts and checks the field names,
looks up boosts, spelling and vector options, and runs every field's value through its format and
analyzer; per posting it asserts the types and estimates the size again. A rebuild's documents
(cairn.search.documents) have none of those options, and most of their indexed values repeat: a
post's kind, author, channel, ACL, tags, answer flag. ``DocumentAdder`` writes the same postings,
stored fields, lengths and columns (tests compare every term, posting, stored field and length of
segments written both ways) with the field plan worked out once and the postings of a repeating
value computed once; a document it cannot take as it is goes to Whoosh's own add_document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from whoosh.writing import SegmentWriter

# Fields whose values repeat across documents: their postings are kept by value. Only a speed
# hint: any field gives the same postings either way.
REPEATING = frozenset({"kind", "author", "channel", "space", "acl", "tags", "answer", "verified"})
# Values kept per rebuild process before the memo is emptied (a rebuild meets a few hundred).
MEMO_LIMIT = 20_000
# PostingPool.add's estimate of a posting's size in memory, without the lengths of its texts
POSTING_SIZE = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21


class DocumentAdder:
    """``writer.add_document(**doc)`` for many documents, with the same result."""

    def __init__(self, writer: SegmentWriter) -> None:
        self.writer = writer
        schema = writer.schema
        # add_document leaves out names starting with "_" (boosts, _stored_ values): not ours
        self.known = frozenset(name for name in schema.names() if not name.startswith("_"))
        self.plan = [(name, schema[name]) for name in sorted(self.known)]
        self.generic = any(field.separate_spelling() or field.vector for _, field in self.plan)
        self.memo: dict[tuple[str, Any], list[tuple[bytes, int, float, bytes]]] = {}

    def add_all(self, docs: Iterable[dict[str, Any]]) -> int:
        count = 0
        for doc in docs:
            self.add(doc)
            count += 1
        return count

    def add(self, doc: dict[str, Any]) -> None:
        if self.generic or not doc.keys() <= self.known:
            self.writer.add_document(**doc)  # options (or an unknown field's error) as Whoosh has them
            return
        writer = self.writer
        writer._check_state()
        perdoc, docnum = writer.perdocwriter, writer.docnum
        postings: list[tuple] = []
        size = 0
        perdoc.start_doc(docnum)
        try:
            for name, field in self.plan:
                value = doc.get(name)
                if value is None:
                    continue
                length = 0
                if field.indexed:
                    scorable = field.scorable
                    for tbytes, freq, weight, vbytes in self._items(name, field, value):
                        if scorable:
                            length += freq
                        postings.append((name, tbytes, docnum, weight, vbytes))
                        size += POSTING_SIZE + len(name) + 2 * len(tbytes) + len(vbytes or "")
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._pool(postings, size)
        writer._added = True
        writer.docnum += 1

    def _items(self, name: str, field, value) -> list[tuple[bytes, int, float, bytes]]:
        """The field's (term bytes, frequency, weight, value bytes) as add_document has them
        (its weights are multiplied by the field's boost in the document: 1.0 without one)."""
        if name not in REPEATING:
            return [(tbytes, freq, weight * 1.0, vbytes) for tbytes, freq, weight, vbytes in field.index(value)]
        key = (name, value)
        items = self.memo.get(key)
        if items is None:
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            items = self.memo[key] = [(t, f, w * 1.0, v) for t, f, w, v in field.index(value)]
        return items

    def _pool(self, postings: list[tuple], size: int) -> None:
        """Into the writer's posting pool, which sorts them into a run file past its limit (as
        PostingPool.add, at the end of the document instead of in its middle: the sorted postings
        are the same)."""
        pool = self.writer.pool
        pool.fieldnames.update(item[0] for item in postings)
        pool.current.extend(postings)
        pool.currentsize += size
        if pool.currentsize > pool.limit:
            pool.save()
