"""The matcher of a sentence's words (``WordUnion``) and what it needs to know of the query's
words (``Coordination``). Built by cairn.search.ranking for a sentence (an OR of words ranked by
how many of them a document holds); driven by cairn.search.searcher's PacedTopCollector, which
tells it the score a hit must beat."""

from __future__ import annotations

import math
from bisect import bisect_left

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher, Matcher, NullMatcher, ReadTooFar, WrappingMatcher

_NONE = 1 << 62  # the position of a child that has no documents left


class WordUnion(Matcher):
    """The OR of a sentence's words (their title, body and tags terms), scored as the sum of the
    terms' scores times the share of the query's words a document holds (``coordination``), in
    one flat matcher. Whoosh builds a binary tree of UnionMatchers instead, and for a question's
    15-20 words x 3 fields walking that tree (``is_active``/``id``/``next``/``score`` at every
    level) was most of a search's time. Here each term's position is kept in a list, and a step
    calls only the terms that match the document.

    It also skips what cannot reach the top N, with the score to beat (``raise_threshold``, which
    the collector calls as the top N fills, or ``replace(minquality)``):
    - WAND (Broder et al. 2003): the terms are kept in the order of their current documents;
      walking that order and adding up the terms' best possible scores (times the share of the
      words those terms hold: the coordination folded in), the first document where the sum can
      beat the score to beat is the *pivot*. No document before it can enter the top, so every
      term before it skips to it. Common words whose best scores alone stay below the score to
      beat no longer drive the walk: the rarer words skip them along.
    - block bounds (after Ding and Suel 2011): at a candidate, the best its terms can score in
      their current posting blocks (Whoosh keeps each block's highest weight and shortest
      document). When that cannot beat the score to beat, every document up to the end of the
      first of those blocks (or to the next other term's document) is passed, whole blocks at a
      time without decoding them: the chatter that shares one common word with a question.
    - common words (``Coordination.common``: in more than ranking.COMMON_DOCS documents, when
      the sentence has a rarer word) follow: they make no match alone, and are asked only at the
      other terms' documents while the score can still beat the score to beat; their best
      scores are in every bound above.
    A segment's deleted documents are left out here, once for all terms, so that the terms are
    Whoosh's posting readers themselves, whose blocks can be skipped.

    Apart from the documents that hold common words only, the hits and scores are those of
    Whoosh's tree with the coordination applied over it (tested against every term's own scores)."""

    def __init__(self, children: list[Matcher], coordination: Coordination, threshold: float = 0.0,
                 boost: float = 1.0) -> None:
        self._children = [c for c in children if c.is_active()]
        # scores are summed unboosted and multiplied by the query's ``boost`` when returned
        self._coord, self._boost_all = coordination, boost
        self._threshold = threshold / boost
        self._deleted: frozenset[int] | set[int] = frozenset()
        # a boosted term's wrapper is unwrapped (its boost applied here), and so is the filter of a
        # segment's deleted documents: one call less per use, and the posting reader's blocks
        self._ms, self._boost, self._word = [], [], []
        for child in self._children:
            inner, term_boost = child, 1.0
            if type(inner) is WrappingMatcher:  # (wrappers answer no term(): their child is looked at)
                inner, term_boost = inner.child, inner.boost
            if type(inner) is FilterMatcher and inner._exclude and inner.boost == 1.0 \
                    and type(inner.child) is W3LeafMatcher:
                self._deleted = self._deleted | inner._ids if self._deleted else inner._ids
                inner = inner.child
            if inner is not child and inner.term() is None:  # not a term's: kept whole
                inner, term_boost = child, 1.0
            self._ms.append(inner)
            self._boost.append(term_boost)
            self._word.append(coordination.word_of(child))
        # children that are not one term (a phrase) count the words of their terms at a document
        self._compound = {i: coordination.leaves([c]) for i, c in enumerate(self._children) if self._word[i] is None}
        bound = [c.max_quality() if c.supports_block_quality() else math.inf for c in self._children]
        self._bound = bound
        self._max = sum(bound) * boost
        # the words a term can add to a document's share, for its bounds: its word; a phrase's
        # words (it matches only where all are); a term of no word, a word of its own (a bound
        # may only be too high)
        phrase_words = {i: frozenset(w for _, w in leaves) for i, leaves in self._compound.items()}
        self._keys = [frozenset((w,)) if w is not None else phrase_words.get(i) or frozenset((("child", i),))
                      for i, w in enumerate(self._word)]
        self._share = [coordination.share(n) for n in range(len(coordination.keys) + len(self._children) + 1)]
        self._fast = [type(m) is W3LeafMatcher for m in self._ms]
        self._ids = [m.id() for m in self._ms]
        # common words' terms (Coordination.common) follow: asked only at the other terms'
        # documents, strongest first, while the score can still beat the score to beat; their
        # best scores are in every bound
        common = [coordination.is_common(c) for c in self._children]
        self._live = [i for i in range(len(self._ms)) if not common[i]]
        followers = sorted((i for i in range(len(self._ms)) if common[i]), key=lambda i: -bound[i])
        self._follow_bound = sum(bound[i] for i in followers)
        self._follow_words = frozenset().union(*(self._keys[i] for i in followers))
        self._followers = [(i, sum(bound[j] for j in followers[k:]), frozenset().union(*(self._keys[j] for j in followers[k:])))
                           for k, i in enumerate(followers)]
        self._at: list[int] = []
        self._id = self._pivot()

    def _skip(self, i: int, target: int) -> None:
        """Term ``i`` to its first document at or after ``target`` (its position updated)."""
        m = self._ms[i]
        if self._fast[i]:
            _leaf_skip_to(m, target)
        else:
            m.skip_to(target)
        self._ids[i] = m.id() if m.is_active() else _NONE

    def _advance(self, i: int) -> None:
        m = self._ms[i]
        m.next()
        self._ids[i] = m.id() if m.is_active() else _NONE

    def _pivot(self) -> int | None:
        """The next document that can beat the score to beat (``_at``: the terms there)."""
        ids, bound, keys, share = self._ids, self._bound, self._keys, self._share
        live = self._live
        while True:
            threshold = self._threshold
            live.sort(key=ids.__getitem__)
            while live and ids[live[-1]] == _NONE:
                live.pop()
            if not live:
                return None
            total, words = self._follow_bound, set(self._follow_words)
            for i in live:
                total += bound[i]
                words |= keys[i]
                if total * share[len(words)] >= threshold:
                    break
            else:
                return None  # not even every term left together can beat it
            pivot = ids[i]
            if ids[live[0]] != pivot:
                for j in live:  # no document before the pivot can reach the top
                    if ids[j] >= pivot:
                        break
                    self._skip(j, pivot)
                continue
            at = []
            for j in live:
                if ids[j] != pivot:
                    break
                at.append(j)
            if pivot in self._deleted:
                for j in at:
                    self._advance(j)
                continue
            if threshold and self._pass_weak_blocks(at, live[len(at)] if len(at) < len(live) else None):
                continue
            at.sort()  # scores summed in the terms' order: the same float whatever path led here
            self._at = at
            return pivot

    def _pass_weak_blocks(self, at: list[int], after: int | None) -> bool:
        """At a candidate whose terms are ``at`` (``after``: the term at the next document): when
        their current blocks cannot beat the score to beat, move past what those blocks hold up to
        the next other term's document (whole blocks while they stay weak) and say so."""
        fast, ms, boost, keys = self._fast, self._ms, self._boost, self._keys
        words = set(self._follow_words)
        total = self._follow_bound
        for i in at:
            if not fast[i]:
                return False
            total += ms[i].block_quality() * boost[i]
            words |= keys[i]
        threshold = self._threshold
        if total * self._share[len(words)] >= threshold:
            return False
        limit = self._ids[after] if after is not None else _NONE
        if len(at) == 1:  # one term: pass its weak blocks by their headers alone
            i = at[0]
            m, term_boost, others, share = ms[i], boost[i], self._follow_bound, self._share[len(words)]
            while m._maxid < limit:
                m._next_block()
                if m._atend:
                    self._ids[i] = _NONE
                    return True
                if (m.block_quality() * term_boost + others) * share >= threshold:
                    self._ids[i] = m.id()  # a block that can: walk it from its start
                    return True
            self._skip(i, limit)  # the documents of this weak block before the next other term's
            return True
        target = min(min(ms[i]._maxid for i in at) + 1, limit)
        for i in at:
            self._skip(i, target)
        return True

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({len(self._live)} terms, threshold {self._threshold:.3f})"

    def children(self) -> list[Matcher]:
        return list(self._children)

    def copy(self) -> WordUnion:
        return WordUnion([c.copy() for c in self._children], self._coord, self._threshold * self._boost_all,
                         self._boost_all)

    def is_active(self) -> bool:
        return self._id is not None

    def id(self) -> int:
        if self._id is None:
            raise ReadTooFar
        return self._id

    def raise_threshold(self, minquality: float) -> None:
        """From now on, skip what cannot score above ``minquality`` (the current document stays)."""
        self._threshold = max(self._threshold, minquality / self._boost_all)

    def next(self) -> bool:
        if self._id is None:
            raise ReadTooFar
        for i in self._at:
            self._advance(i)
        self._id = self._pivot()
        return False  # no blocks of its own (see supports_block_quality)

    def skip_to(self, target: int) -> None:
        if self._id is None:
            raise ReadTooFar
        if target <= self._id:
            return
        ids = self._ids
        for i in self._live:
            if ids[i] < target:
                self._skip(i, target)
        self._id = self._pivot()

    def score(self) -> float:
        docid, ms, boost, word = self._id, self._ms, self._boost, self._word
        score, matched = 0.0, set()
        for i in self._at:
            score += ms[i].score() * boost[i]
            matched.add(word[i])
        if self._followers:
            ids, threshold, share = self._ids, self._threshold, self._share
            for i, can_add, words_left in self._followers:
                best = (score + can_add) * share[len(matched | words_left)]
                if best < threshold:
                    return best * self._boost_all  # below the score to beat whatever the rest adds: out of the top N
                if ids[i] < docid:
                    self._skip(i, docid)
                if ids[i] == docid:
                    score += ms[i].score() * boost[i]
                    matched.add(word[i])
        if score < self._threshold or not self._coord.words:
            return score * self._boost_all  # out of the top N whatever share of the words it holds (it only lowers)
        matched.discard(None)
        if self._compound:
            compound = self._compound
            for i in self._at:  # a phrase's (or group's) words its terms hold here
                if i in compound:
                    matched.update(w for leaf, w in compound[i] if leaf.is_active() and leaf.id() == docid)
        return score * self._coord.share(len(matched)) * self._boost_all

    def replace(self, minquality: float = 0) -> Matcher:
        children = [c for c in self._children if c.is_active()]
        if not children:
            return NullMatcher()
        matcher = WordUnion(children, self._coord, max(minquality or 0.0, self._threshold * self._boost_all),
                            self._boost_all)
        return matcher if matcher.is_active() else NullMatcher()

    def max_quality(self) -> float:
        return self._max

    def supports_block_quality(self) -> bool:
        # no blocks of its own to skip by quality: the pivot and the terms' blocks do that work
        return False

    def supports(self, astype: str) -> bool:
        return all(c.supports(astype) for c in self._children)


def _leaf_skip_to(m: W3LeafMatcher, target: int) -> None:
    """``m.skip_to(target)`` with a binary search inside the block (Whoosh steps through it one
    posting at a time, calling ``id()`` at each). Reads its private block state."""
    if m._atend or target <= m.id():
        return
    while target > m._maxid:
        m._next_block()
        if m._atend:
            return
    ids = m._ids
    if ids is None:
        m._read_ids()
        ids = m._ids
    m._i = bisect_left(ids, target, m._i)


class Coordination:
    """Which query word each term stands for (``keys``: (field, text) -> word, None for a term
    that counts no word) and the power of the share of the ``words`` a document holds that
    scales its score (cairn.search.ranking.coordinated). ``words`` 0: no coordination."""

    def __init__(self, keys: dict[tuple[str, str], str | None], words: int, power: float,
                 common: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.keys, self.words, self.power, self.common = keys, words, power, common

    def is_common(self, matcher: Matcher) -> bool:
        """Whether ``matcher`` is one term of the ``common`` ones (cairn.search.ranking.common_terms)."""
        if not self.common:
            return False
        leaves = list(matcher.term_matchers())
        return len(leaves) == 1 and _key(leaves[0]) in self.common

    def word_of(self, matcher: Matcher) -> str | None:
        """The word of a matcher of one term (perhaps boosted); None for anything else."""
        leaves = list(matcher.term_matchers())
        return self._word(leaves[0]) if len(leaves) == 1 else None

    def _word(self, leaf: Matcher) -> str | None:
        return self.keys.get(_key(leaf))

    def leaves(self, children: list[Matcher]) -> list[tuple[Matcher, str]]:
        """Every term matcher under ``children`` that stands for a word, with the word."""
        out = []
        for child in children:
            for leaf in child.term_matchers():
                word = self._word(leaf)
                if word is not None:
                    out.append((leaf, word))
        return out

    def share(self, held: int, unknown: bool = False) -> float:
        """The factor of a document's score when it holds ``held`` of the words (at most 1); 1
        when the count is ``unknown`` (children that are not one term, such as phrases)."""
        if not self.words or unknown:
            return 1.0
        return min(held / self.words, 1.0) ** self.power


def _key(leaf: Matcher) -> tuple[str, str]:
    fieldname, text = leaf.term()
    return fieldname, text.decode("utf-8") if isinstance(text, bytes) else text
