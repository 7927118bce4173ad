"""Spelling corrections of the Whoosh engine: a rare word is corrected in a few keywords, kept in
a sentence; an unknown word is corrected in both."""

from __future__ import annotations

from datetime import datetime

from cairn.search import spelling
from cairn.search.engine import Index
from cairn.search.query import plain_words


def _doc(key: int, body: str) -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "title": "", "body": body, "acl": "public",
            "thread": f"post:{key}", "status": "posted", "created": datetime(2026, 11, 1)}


def _fixes(index: Index, q: str) -> dict[str, str | None]:
    return {w: s.correction for w, s in spelling.spell(index, plain_words(q), ["public"]).items()}


def test_a_rare_word_is_corrected_in_keywords_but_taken_as_meant_in_a_sentence(tmp_path):
    index = Index(str(tmp_path))
    index.upsert([*[_doc(i, f"restart the postgres cluster {i}") for i in range(8)],
                  _doc(20, "the postgrse typo once")])
    assert _fixes(index, "postgrse cluster")["postgrse"] == "postgres"
    sentence = "why does the postgrse cluster restart every night after deploys"
    assert _fixes(index, sentence)["postgrse"] is None
    # a word no readable document has is corrected however long the query
    assert _fixes(index, sentence.replace("postgrse", "postgrees"))["postgrees"] == "postgres"
