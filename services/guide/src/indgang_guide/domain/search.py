"""Danish full-text search over the guide, in memory (hundreds of entries).

Words are stemmed with the Danish Snowball stemmer, so "løntilskuddet" and
"løntilskuddene" meet "løntilskud". Stems are folded (æ→ae, ø→oe, å→aa) so a
keyboard without Danish letters still finds them. Query words that are not in
the index are matched to close words (edit distance, rapidfuzz), and long words
match inside compounds ("løntilskud" finds "løntilskudsjob"). Ranking is BM25
over weighted fields: title > tags > summary > the rest.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from indgang_guide.domain.entries import Entry

# Common Danish function words: they say nothing about what an entry is about.
_STOPWORDS = (
    "og i at en et den det de der til er som på med for af ikke har om man kan skal "
    "vil sig sin sit sine jeg du vi han hun hvad hvor hvordan hvem når hvis eller men "
    "også fra ved så over efter under mod have være bliver blev blive kommer meget "
    "mere mest nogle noget alle andre anden andet dem deres dens dets jeres vores min "
    "mit mine din dit dine os jer ham hende hans hendes the and of to in for a an is "
    "on "
)
STOPWORDS = frozenset(_STOPWORDS.split())

_WORD = re.compile(r"[0-9a-zæøåéèáäöü]+")
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "é": "e",
                       "è": "e", "á": "a", "ü": "u"})  # fmt: skip
_STEMMER = snowballstemmer.stemmer("danish")

# Weight of each field in the ranking (BM25F-style weighted term frequency).
FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "tags": 2.5,
    "summary": 1.5,
    "facts": 1.2,
    "body": 1.0,
}
_K1 = 1.2
_B = 0.75
# How much a match counts when it is not the word itself.
_FUZZY_ONE_EDIT = 0.8
_FUZZY_TWO_EDITS = 0.6
_PREFIX = 0.6
_INSIDE = 0.45
_MIN_PART = 5  # shortest word matched inside a compound


def fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@lru_cache(maxsize=50_000)
def term(word: str) -> str:
    """The index term of one word: Danish stem, folded to ASCII-ish letters."""
    return fold(_STEMMER.stemWord(word.lower()))


def terms(text: str) -> list[str]:
    return [term(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def max_edits(length: int) -> int:
    """Typos allowed in a query word: none in short words, where they change the word."""
    if length >= 8:
        return 2
    if length >= 4:
        return 1
    return 0


@dataclass(frozen=True)
class Filters:
    section: str | None = None
    need: str | None = None
    stage: str | None = None
    kind: str | None = None
    audience: str | None = None
    status: str | None = "published"

    def admit(self, entry: Entry) -> bool:
        return (
            (self.section is None or entry.section.value == self.section)
            and (self.need is None or self.need in entry.needs)
            and (self.stage is None or self.stage in entry.stages)
            and (self.kind is None or entry.kind.value == self.kind)
            and (self.audience is None or entry.audience == self.audience)
            and (self.status is None or entry.status == self.status)
        )


@dataclass(frozen=True)
class SearchHit:
    entry: Entry
    score: float
    snippet: str
    matched: tuple[str, ...] = ()


def _fields(entry: Entry) -> dict[str, str]:
    facts = [
        entry.law,
        entry.law_reference,
        entry.section_ref,
        entry.administered_by,
        entry.eligibility,
        entry.how_to_apply,
        entry.provider,
        entry.price,
    ]
    return {
        "title": entry.title,
        "tags": " ".join(entry.tags),
        "summary": entry.summary,
        "facts": " ".join(f for f in facts if f),
        "body": entry.body,
    }


@dataclass
class SearchIndex:
    """An inverted index of entries; build a new one whenever the entries change."""

    entries: list[Entry]
    _postings: dict[str, dict[int, float]] = field(default_factory=dict)
    _lengths: list[float] = field(default_factory=list)
    _vocabulary: list[str] = field(default_factory=list)
    _expansions: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[Entry]) -> SearchIndex:
        index = cls(entries=list(entries))
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for number, entry in enumerate(index.entries):
            weighted: dict[str, float] = defaultdict(float)
            length = 0.0
            for name, text in _fields(entry).items():
                found = terms(text)
                weight = FIELD_WEIGHTS[name]
                length += weight * len(found)
                for t in found:
                    weighted[t] += weight
            for t, tf in weighted.items():
                postings[t][number] = tf
            index._lengths.append(length)
        index._postings = dict(postings)
        index._vocabulary = sorted(postings)
        return index

    def expand(self, query_term: str) -> dict[str, float]:
        """Index terms a query term stands for, each with how much a match counts."""
        cached = self._expansions.get(query_term)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if query_term in self._postings:
            found[query_term] = 1.0
        edits = max_edits(len(query_term))
        if edits:
            for candidate, distance, _ in process.extract(
                query_term,
                self._vocabulary,
                scorer=Levenshtein.distance,
                score_cutoff=edits,
                limit=None,
            ):
                if distance:
                    weight = _FUZZY_ONE_EDIT if distance == 1 else _FUZZY_TWO_EDITS
                    found[candidate] = max(found.get(candidate, 0.0), weight)
        if len(query_term) >= _MIN_PART:
            for candidate in self._vocabulary:
                if candidate == query_term:
                    continue
                if candidate.startswith(query_term):
                    weight = _PREFIX
                elif query_term in candidate or (
                    len(candidate) >= _MIN_PART and query_term.startswith(candidate)
                ):
                    weight = _INSIDE
                else:
                    continue
                found[candidate] = max(found.get(candidate, 0.0), weight)
        if not found:
            # A misspelt compound: try its close words' compounds too.
            for near, _, _ in process.extract(
                query_term, self._vocabulary, scorer=Levenshtein.distance, limit=1
            ):
                if Levenshtein.distance(query_term, near) <= max(1, len(query_term) // 5):
                    found[near] = _FUZZY_TWO_EDITS
        self._expansions[query_term] = found
        return found

    def _idf(self, index_term: str) -> float:
        n = len(self._lengths)
        df = len(self._postings.get(index_term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _bm25(self, index_term: str, number: int, idf_cap: float | None) -> float:
        posting = self._postings.get(index_term)
        if not posting or number not in posting:
            return 0.0
        n = len(self._lengths)
        idf = self._idf(index_term)
        if idf_cap is not None:
            # A rare compound must not outrank the word the user actually typed.
            idf = min(idf, idf_cap)
        tf = posting[number]
        average = (sum(self._lengths) / n) or 1.0
        norm = _K1 * (1 - _B + _B * self._lengths[number] / average)
        return idf * tf * (_K1 + 1) / (tf + norm)

    def search(
        self, query: str, filters: Filters | None = None, limit: int = 20
    ) -> list[SearchHit]:
        """Entries that match `query` and `filters`, best first; all filtered entries
        (by title) when the query has no words worth searching for."""
        filters = filters or Filters()
        allowed = {n for n, e in enumerate(self.entries) if filters.admit(e)}
        query_terms = list(dict.fromkeys(terms(query)))
        if not query_terms:
            chosen = sorted(allowed, key=lambda n: self.entries[n].title)
            return [SearchHit(self.entries[n], 0.0, self.entries[n].summary) for n in chosen][
                :limit
            ]
        scores: dict[int, float] = defaultdict(float)
        matched_terms: dict[int, set[str]] = defaultdict(set)
        hit_count: Counter[int] = Counter()
        for query_term in query_terms:
            best: dict[int, float] = {}
            idf_cap = self._idf(query_term) if query_term in self._postings else None
            for index_term, weight in self.expand(query_term).items():
                for number in self._postings.get(index_term, {}):
                    if number not in allowed:
                        continue
                    score = weight * self._bm25(index_term, number, idf_cap)
                    if score > best.get(number, 0.0):
                        best[number] = score
                    matched_terms[number].add(index_term)
            for number, score in best.items():
                scores[number] += score
                hit_count[number] += 1
        ranked = sorted(
            scores,
            # Entries matching more of the query's words first, then by score.
            key=lambda n: (-scores[n] * hit_count[n] / len(query_terms), self.entries[n].id),
        )
        return [
            SearchHit(
                entry=self.entries[n],
                score=round(scores[n] * hit_count[n] / len(query_terms), 4),
                snippet=snippet(self.entries[n], matched_terms[n]),
                matched=tuple(sorted(matched_terms[n])),
            )
            for n in ranked[:limit]
        ]


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def snippet(entry: Entry, matched: set[str], width: int = 220) -> str:
    """The sentence of the summary or body that best shows why the entry matched."""
    sentences = [s for text in (entry.summary, entry.body) for s in _SENTENCE.split(text)]
    best, best_count = entry.summary, 0
    for sentence in sentences:
        count = sum(1 for w in words(sentence) if term(w) in matched)
        if count > best_count:
            best, best_count = sentence, count
    best = " ".join(best.split())
    if len(best) <= width:
        return best
    cut = best[:width].rsplit(" ", 1)[0]
    return cut + " …"
