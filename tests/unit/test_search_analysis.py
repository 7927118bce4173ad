"""The fused analyzer (cairn.search.analysis) yields exactly the tokens of Whoosh's
``StemmingAnalyzer()`` in every way Whoosh and Cairn call it, and an index written with Whoosh's
chain still opens and searches until a rebuild writes the new schema."""

from __future__ import annotations

import pickle
import random
from datetime import datetime

import pytest
from whoosh import index as windex
from whoosh.analysis import LowercaseFilter, StemmingAnalyzer
from whoosh.fields import TEXT
from whoosh.qparser import MultifieldParser

from cairn.search import analysis
from cairn.search.analysis import FusedStemmingAnalyzer
from cairn.search.engine import SCHEMA, Index
from cairn.search.query import parse

TEXTS = [
    "",
    "   ",
    "a",
    "The quick brown foxes are jumping over the lazy dogs",
    "Testing is testing and testing",
    "It's what they're doing: don't stop, won't stop; O'Reilly's books",
    "hi there 3.141 big-time under_score v1.2.3 www.example.com e.g. i.e. ...dots...",
    "wild*card *star* ** a*b",
    "CAPITALS MiXeD CaSe İstanbul İİ ß STRASSE Ǆemal ﬁnance ﬂows ΣΊΣΥΦΟΣ ΌΣΟΣ",
    "naïve café résumé coöperate façade — “quotes” and ‘single’ «guillemets»",
    "日本語のテキスト 中文文本 한국어 텍스트 عربى עברית हिन्दी",
    "emoji 👍🎉 ❤️ between👀words and combining e\u0301 n\u0303 a\u0308",
    "digits 0 1 12 123 2026-11-26 10:45 1,000,000 ½ ² ٣ ४",
    "x" * 300 + " " + "supercalifragilisticexpialidociousnesses" * 8,
    "of the and to in is it a an be by on or at as no not so than that this with",
    "tab\tnewline\nreturn\rform\x0cfeed\x00nul",
    "generously generalization relational conditional rational operator operational hopefulness",
    "sky skies dying lying agreed feed bled sing singing happy happiness ponies caresses",
    "Kubernetes deployments, deploying, deployed; redeploys! postgres postgresql's pg_dump",
    "<p>html &amp; entities &lt;tag&gt;</p> `code_block` **bold** [link](https://x.y/z?q=1)",
    "ab cd ef gh i j k l m",
]

# the ways Whoosh calls an analyzer: indexing (Positions format), query parsing, highlighting,
# more-like-this, spelling (no_morph), ``tokenize=False`` terms, and Cairn's own calls
CALLS = [
    {},
    {"mode": "index", "positions": True, "boosts": True},
    {"mode": "query"},
    {"mode": "query", "tokenize": False},
    {"mode": "query", "tokenize": False, "removestops": False},
    {"mode": "query", "positions": True, "chars": True, "removestops": False},
    {"chars": True, "keeporiginal": True},
    {"positions": True, "chars": True, "start_pos": 5, "start_char": 17},
    {"positions": True, "removestops": False, "start_pos": 3},
    {"removestops": False},
    {"no_morph": True},
    {"no_morph": True, "removestops": False, "positions": True},
    {"tokenize": False},
    {"tokenize": False, "positions": True, "chars": True, "keeporiginal": True, "start_pos": 2, "start_char": 4},
    {"keeporiginal": True, "positions": True},
]


def _random_texts(count: int) -> list[str]:
    """Seeded noise over the characters the tokenizer and the lowercasing treat specially."""
    rng = random.Random(6)
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_*.'-,;:!?()[]    \t\n") + list(
        "éÉßẞİıΣσςǅﬁ½²٣日本語👍\u0301\u200b\u00a0")
    words = [w for t in TEXTS for w in t.split()] + ["the", "and", "of", "running", "ran", "runs"]
    texts = []
    for _ in range(count):
        parts = [rng.choice(words) if rng.random() < 0.6 else "".join(rng.choices(alphabet, k=rng.randint(1, 14)))
                 for _ in range(rng.randint(0, 25))]
        texts.append(rng.choice([" ", "", ".", "  "]).join(parts))
    return texts


def _stream(analyzer, text: str, kwargs: dict) -> list[dict]:
    return [dict(t.__dict__) for t in analyzer(text, **kwargs)]


@pytest.mark.parametrize("kwargs", CALLS, ids=[repr(c) for c in CALLS])
def test_the_fused_analyzer_yields_the_tokens_of_whooshs_stemming_analyzer(kwargs):
    whoosh, fused = StemmingAnalyzer(), FusedStemmingAnalyzer()
    for text in TEXTS + _random_texts(400):
        assert _stream(fused, text, dict(kwargs)) == _stream(whoosh, text, dict(kwargs)), text


def test_a_full_stem_cache_is_emptied_and_gives_the_same_stems(monkeypatch):
    monkeypatch.setattr(analysis, "STEM_CACHE_SIZE", 5)
    whoosh, fused = StemmingAnalyzer(), FusedStemmingAnalyzer()
    text = " ".join(TEXTS[15:18])
    for _ in range(3):
        assert _stream(fused, text, {"positions": True}) == _stream(whoosh, text, {"positions": True})
    assert len(fused._stems) <= 5


def test_the_fused_analyzer_gives_the_fields_postings_and_parsed_queries_of_whooshs():
    old, new = TEXT(analyzer=StemmingAnalyzer()), SCHEMA["body"]
    for text in TEXTS + _random_texts(100):
        assert sorted(new.index(text)) == sorted(old.index(text)), text
    older = SCHEMA.copy()
    for name in ("title", "body"):
        older.remove(name)
        older.add(name, TEXT(stored=True, analyzer=StemmingAnalyzer()))
    for q in ['deploying "the kubernetes clusters"', "O'Reilly's books -foxes", "wild* car?", "ÉTÉ AND naïve",
              "the and of", "v1.2.3 www.example.com"]:
        assert (MultifieldParser(["title", "body"], SCHEMA).parse(q)
                == MultifieldParser(["title", "body"], older).parse(q)), q


def test_the_analyzer_pickles_without_its_cache_and_composes_with_filters():
    fused = FusedStemmingAnalyzer()
    list(fused("caching some words"))
    copy = pickle.loads(pickle.dumps(fused))
    assert copy == fused and copy._stems == {} and copy.has_morph()
    chained = fused | LowercaseFilter()
    assert [t.text for t in chained("Deploying Clusters")] == ["deploi", "cluster"]


def _doc(key: int, body: str, title: str = "") -> dict:
    return {"id": f"post:{key}", "kind": "post", "obj_id": key, "title": title, "body": body, "acl": "public",
            "thread": f"post:{key}", "status": "posted", "created": datetime(2026, 11, 1)}


def test_an_index_written_with_whooshs_analyzer_searches_alike_until_a_rebuild_writes_the_fused_one(tmp_path):
    older = SCHEMA.copy()
    for name, boost in (("title", 2.5), ("body", 1.0)):
        older.remove(name)
        older.add(name, TEXT(stored=True, analyzer=StemmingAnalyzer(), field_boost=boost))
    (tmp_path / "older").mkdir()
    windex.create_in(str(tmp_path / "older"), older)
    docs = [_doc(1, "Deploying the Kubernetes clusters again", "Deployments"), _doc(2, "the cluster deployed"),
            _doc(3, "nothing to see here")]
    before, fresh = Index(str(tmp_path / "older")), Index(str(tmp_path / "fresh"))
    before.upsert(docs)
    fresh.upsert(docs)
    assert isinstance(before.open().schema["body"].analyzer, type(StemmingAnalyzer()))

    def results(index: Index) -> list[tuple]:
        out = []
        for q in ["deploy cluster", "kubernetes", '"deployed cluster"', "cluster nothing here please"]:
            hits, _ = index.search(parse(q), ["public"])
            out.append([(h["id"], round(h["score"], 6), h["snippet"]) for h in hits])
        return out

    assert results(before) == results(fresh)
    assert results(fresh)[0][0][2].count('<mark class="hit') >= 2  # the snippets were highlighted
    before.rebuild(docs)
    assert isinstance(Index(str(tmp_path / "older")).open().schema["body"].analyzer, FusedStemmingAnalyzer)
    assert results(before) == results(fresh)
