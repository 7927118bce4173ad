"""Spelling correction and autocomplete from the index's own vocabulary, limited to what the
searcher may read: the vocabulary also holds the words of restricted documents, so a word is
offered only when a document under the searcher's ACL filter has it, and it is spelled as such a
document spells it (the index holds stems: "kubernet"). A Whoosh reader like cairn.search.engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.query import And, Or, Query, Term

from cairn.search.engine import SCHEMA, Index
from cairn.search.ranking import AND_FIRST_MAX_WORDS

SPELLING_FIELDS = ("title", "body")
SPELLING_ANALYZER = SCHEMA["body"].analyzer  # words meet the index's stems ("kubernet")
RARE_WORD_HITS = 2            # a word in more readable documents than this is not corrected
MAX_CANDIDATES = 12           # close words checked against the ACL per query word
COMPLETION_STEMS = 40         # commonest words with the typed prefix checked against the ACL
COUNT_CAP = 50                # readable documents counted per word, at most (ranks spellings)


@dataclass(frozen=True)
class Spelling:
    word: str
    hits: int                 # readable documents with this word (counted up to what decides)
    correction: str | None    # a close word in more readable documents, or None


def spell(index: Index, words: list[str], tokens: list[str]) -> dict[str, Spelling]:
    """How each word stands in the documents ``tokens`` can read, with a close word that finds
    more of them. Candidates come from the index's own vocabulary (which also holds restricted
    documents), so a candidate is kept only when it has a hit under the ACL filter. In a sentence
    of more than AND_FIRST_MAX_WORDS words only words no readable document holds are corrected."""
    searcher = index.searcher()
    reader = searcher.reader()
    acl = index.acl_filter(tokens)
    out: dict[str, Spelling] = {}
    # in a sentence (ranked by its words, not all required) a rare word that readable documents
    # hold is taken as meant: "reimport" or "inaccurate" got "report" and "insecure", and each
    # such offer cost the sentence a second search
    sentence = len(words) > AND_FIRST_MAX_WORDS
    for word in words:
        stems = [t.text for t in SPELLING_ANALYZER(word)]
        if len(stems) != 1 or len(stems[0]) < 3:  # a stop word, or a token the analyzer splits
            continue
        stem = stems[0]
        # in a sentence only "none" matters (a word some readable document holds is taken as meant)
        count = _readable_count(searcher, stem, acl, cap=1 if sentence else RARE_WORD_HITS + 1)
        if count > RARE_WORD_HITS or (count and sentence):
            out[word] = Spelling(word, count, None)
            continue
        maxdist = 1 if len(stem) <= 4 else 2
        candidates = close_words(searcher, stem, maxdist)
        candidates.discard(stem)
        # the most frequent first (global frequencies only order the work; the ACL decides)
        ranked = sorted(candidates, key=lambda c: -sum(reader.doc_frequency(f, c) for f in SPELLING_FIELDS))
        best: tuple[int, int, str] | None = None
        for candidate in ranked[:MAX_CANDIDATES]:
            n = _readable_count(searcher, candidate, acl)
            # an unknown word takes any readable neighbour; a rare one only a much commoner one
            if n == 0 or (count and n < max(3 * count, count + 2)):
                continue
            key = (_edit_distance(stem, candidate), -n, candidate)
            if best is None or key < best:
                best = key
        fix = _surface_form(searcher, best[2], acl) if best else None
        out[word] = Spelling(word, count, fix if fix != word.lower() else None)
    return out


def complete(index: Index, text: str, tokens: list[str], limit: int = 8) -> tuple[list[str], list[dict[str, Any]]]:
    """Autocomplete for a search box: the last word of ``text`` completed with words of readable
    documents (as whole queries, commonest first) and the readable documents that match.

    Completions come from the index's vocabulary (stems with the typed prefix, commonest
    first); a stem is kept only when a readable document has it (with the words before it),
    and is shown as such a document spells it."""
    words = text.lower().split()
    if not words:
        return [], []
    prefix = words[-1]
    searcher = index.searcher()
    reader = searcher.reader()
    acl = index.acl_filter(tokens)
    allowed = searcher._filter_to_comb(acl)
    head: list[Query] = []
    for word in words[:-1]:
        stems = [t.text for t in SPELLING_ANALYZER(word)]
        if stems:
            head.append(_in_text(stems[0]))
    frequency: dict[str, int] = {}
    for f in SPELLING_FIELDS:
        for term in reader.expand_prefix(f, prefix):
            term = term.decode() if isinstance(term, bytes) else term
            frequency[term] = frequency.get(term, 0) + reader.doc_frequency(f, term)
    candidates = sorted(frequency, key=lambda t: (-frequency[t], t))[:COMPLETION_STEMS]
    typed = [t.text for t in SPELLING_ANALYZER(prefix)]  # "deploying" is stored as "deploi"
    if typed and typed[0] not in frequency:
        candidates.append(typed[0])
    readable: list[str] = []
    for stem in candidates:
        if _readable_count(searcher, And([*head, _in_text(stem)]), acl, cap=1, allowed=allowed):
            readable.append(stem)
            if len(readable) >= limit:
                break
    if not readable:
        return [], []
    lead = " ".join(text.split()[:-1])
    completions: list[str] = []
    for stem in readable:
        form = _surface_form(searcher, stem, acl)
        if form.startswith(prefix) and form != prefix and form not in completions:
            completions.append(form)
    found = searcher.search(And([*head, Or([_in_text(stem) for stem in readable])]), filter=acl,
                            limit=limit * 3)
    documents, threads = [], set()
    for hit in found:
        fields = hit.fields()
        if fields["thread"] not in threads and len(documents) < limit:
            threads.add(fields["thread"])
            documents.append(fields)
    return [f"{lead} {w}".strip() for w in completions], documents


def close_words(searcher, stem: str, maxdist: int) -> set[str]:
    """The title and body terms within ``maxdist`` edits (optimal string alignment) of ``stem``
    that start with its letter, as Whoosh's ``reader.terms_within(field, stem, maxdist, prefix=1)``
    finds them, from each segment's vocabulary kept for the segment's life: Whoosh walks its term
    dictionary with a Levenshtein automaton in Python, 30-370 ms per word over the 52,000 terms
    of 100,000 posts (most of a misspelt question's time); RapidFuzz compares the same words in
    C in under a millisecond."""
    found: set[str] = set()
    for leaf, _ in searcher.leaf_searchers():
        words = _vocabulary(searcher, leaf).get(stem[:1], ())
        found.update(m for m, _, _ in process.extract(stem, words, scorer=OSA.distance,
                                                       score_cutoff=maxdist, limit=None))
    return found


def _vocabulary(searcher, leaf) -> dict[str, list[str]]:
    """The title and body terms of ``leaf``'s segment by first letter, listed once per segment
    (as the facet values are: see cairn.search.searcher)."""
    kept = searcher.kept(leaf)
    vocabulary = kept.get("spelling")
    if vocabulary is None:
        reader, vocabulary = leaf.reader(), {}
        words = {w.decode("utf-8") if isinstance(w, bytes) else w
                 for f in SPELLING_FIELDS if f in reader.indexed_field_names() for w in reader.lexicon(f)}
        for word in sorted(words):
            vocabulary.setdefault(word[:1], []).append(word)
        kept["spelling"] = vocabulary
    return vocabulary


def _readable_count(searcher, query: Query | str, acl: Query, cap: int = COUNT_CAP,
                    allowed=None) -> int:
    """Readable documents matching ``query`` (a stem: in the title or body), counted up to
    ``cap``: enough to rank words without walking every posting of a common one."""
    if isinstance(query, str):
        query = _in_text(query)
    allowed = searcher._filter_to_comb(acl) if allowed is None else allowed
    n = 0
    for docnum in searcher.docs_for_query(query):
        if docnum in allowed:
            n += 1
            if n >= cap:
                break
    return n


def _surface_form(searcher, stem: str, acl: Query) -> str:
    """The word as readable documents spell it ("kubernetes"), not its stem ("kubernet")."""
    for hit in searcher.search(_in_text(stem), filter=acl, limit=3):
        for source in (hit.get("title") or "", hit.get("body") or ""):
            for token in SPELLING_ANALYZER(source, keeporiginal=True):
                if token.text == stem and token.original.isalpha():
                    return token.original.lower()
    return stem


def _in_text(stem: str) -> Query:
    return Or([Term(f, stem) for f in SPELLING_FIELDS])


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment), as ``terms_within`` measures."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            cur.append(cost)
        prev2, prev = prev, cur
    return prev[-1]
