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


def test_close_words_are_the_words_whooshs_automaton_finds_in_every_segment(tmp_path):
    """close_words (RapidFuzz over each segment's kept vocabulary) answers as Whoosh's
    ``terms_within(field, stem, maxdist, prefix=1)`` over title and body, also after a commit adds
    a segment and after a word's only document is replaced."""
    index, worker = Index(str(tmp_path)), Index(str(tmp_path))
    worker.upsert([_doc(1, "deploy the kubernetes cluster"), _doc(2, "deplyo staging, redeploy prod"),
                   {**_doc(3, "serialise the dictionary"), "title": "Serializer dictionaries"}])
    probes = [("deploi", 2), ("kubernet", 1), ("kubrnet", 2), ("serial", 2), ("dictionari", 1), ("zzz", 2)]

    def agree() -> None:
        searcher = index.searcher()
        reader = searcher.reader()
        for stem, maxdist in probes:
            whoosh = {t for f in spelling.SPELLING_FIELDS for t in reader.terms_within(f, stem, maxdist, prefix=1)}
            assert spelling.close_words(searcher, stem, maxdist) == whoosh, stem

    agree()
    assert spelling.close_words(index.searcher(), "kubrnet", 2) == {"kubernet"}
    worker.upsert([_doc(4, "kubectl deployed the serializers")])  # a second segment
    assert len(index.searcher().reader().leaf_readers()) == 2
    agree()
    assert "kubectl" in spelling.close_words(index.searcher(), "kubect", 1)
