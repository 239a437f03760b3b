"""Micro-benchmark of the in-memory search, run by hand:

    uv run python services/guide/bench/search_bench.py

Builds the index from the content files (and from 10x copies, to see how it
scales) and times typical queries, including misspellings that need the fuzzy
match. Prints numbers; asserts nothing (speed is measured, never tested).
"""

from __future__ import annotations

import statistics
import time

from indgang_guide.adapters.content_files import load_content
from indgang_guide.domain.search import SearchIndex
from indgang_guide.settings import GuideSettings

QUERIES = [
    "løntilskud",
    "løntilskuddene",
    "lønstilskud",
    "lontilskud",
    "sociale klausuler udbud",
    "hvordan bliver vi registreret som socialøkonomisk virksomhed",
    "mentorordning fleksjob",
]


def timed(index: SearchIndex, rounds: int = 50) -> list[float]:
    samples = []
    for _ in range(rounds):
        for query in QUERIES:
            index._expansions.clear()  # measure cold query expansion too
            start = time.perf_counter()
            index.search(query)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    entries = load_content(GuideSettings().content_dir).entries
    for copies in (1, 10):
        many = [e.model_copy(update={"id": f"{e.id}-{i}"}) for i in range(copies) for e in entries]
        start = time.perf_counter()
        index = SearchIndex.build(many)
        build_ms = (time.perf_counter() - start) * 1000
        samples = sorted(timed(index))
        print(
            f"{len(many):5d} entries, {len(index._postings):5d} terms: build {build_ms:7.1f} ms, "
            f"query median {statistics.median(samples):.2f} ms, "
            f"p95 {samples[int(len(samples) * 0.95)]:.2f} ms"
        )


if __name__ == "__main__":
    main()
